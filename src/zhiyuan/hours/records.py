"""Service records (志愿服务记录): one volunteer's service at one activity, as an immutable fact.

References:
    《志愿服务记录办法》(民函〔2012〕340号): service time is the time actually served, counted in
    hours, travel excluded; 《志愿服务记录与证明出具办法(试行)》(民政部令第67号, 2021-02-01):
    records are true, accurate, complete, free and timely; 谁组织谁记录 (the organizer records).
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from typing import Any

import attrs

from zhiyuan._validators import (
    SHANGHAI,
    aware,
    is_a,
    is_bool,
    non_empty,
    non_negative,
    text,
    to_enum,
    to_shanghai,
)
from zhiyuan.errors import InvalidValue
from zhiyuan.hierarchy.codes import normalize_code

__all__ = ["Evidence", "GeoFix", "ServiceRecord"]


class Evidence(enum.Enum):
    """How the service was attested (记录依据). Trust differs; the policy decides what counts where."""

    SIGN_IN_CODE = "sign_in_code"
    """签到码: the activity's sign-in code (志愿汇's 6-digit code)."""
    QR_SCAN = "qr_scan"
    """扫码签到: QR sign-in and sign-out."""
    GPS = "gps"
    """定位签到: a GPS fix at sign-in (see :class:`GeoFix`)."""
    SUPERVISOR = "supervisor"
    """负责人确认: confirmed by the activity's supervisor."""
    SELF_REPORT = "self_report"
    """本人申报: reported by the volunteer, to be verified."""
    ADMIN_TOPUP = "admin_topup"
    """管理员补录: added by an organization admin (荣誉时长: forgotten check-out, old history)."""


@attrs.frozen(kw_only=True)
class GeoFix:
    """A GPS fix (WGS-84 degrees) and its accuracy in metres."""

    lat: float = attrs.field()
    lon: float = attrs.field()
    accuracy_m: int = attrs.field(default=0, validator=non_negative)

    @lat.validator
    def _lat(self, _: attrs.Attribute[float], v: float) -> None:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not -90 <= v <= 90:
            raise InvalidValue("lat", v, "纬度应在 -90 到 90 / latitude is -90 to 90")

    @lon.validator
    def _lon(self, _: attrs.Attribute[float], v: float) -> None:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not -180 <= v <= 180:
            raise InvalidValue("lon", v, "经度应在 -180 到 180 / longitude is -180 to 180")


def _minutes_between(start: datetime, end: datetime) -> int:
    # Subtracting two datetimes that share a tzinfo is wall-clock arithmetic (it ignores the
    # 1986–1991 summer-time shifts of Asia/Shanghai); UTC gives the elapsed time between instants.
    return int((end.astimezone(UTC) - start.astimezone(UTC)).total_seconds()) // 60


def _region(value: Any) -> str:
    return normalize_code(value, field="region_code")


def _evidence(value: object) -> Evidence:
    return to_enum("evidence", Evidence, value)


def _note(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str):
        raise InvalidValue(attribute.name, value, "需要文字 / need text")
    text(attribute.name, value)


def _team(_: object, attribute: attrs.Attribute[str | None], value: str | None) -> None:
    if value is not None:
        non_empty(_, attribute, value)


@attrs.frozen(kw_only=True)
class ServiceRecord:
    """One service by one volunteer: who, what, where, when, and on what evidence.

    ``start`` and ``end`` must be timezone-aware (naive datetimes are rejected) and are kept in
    Asia/Shanghai; ``end`` must be after ``start``. ``scheduled_start``/``scheduled_end`` are the
    activity's published times, if known; a top-up or a missed check-out
    (``checkout_missing=True``) never counts beyond the scheduled duration. ``recorded_at`` is when
    the record was entered (for the recording deadline; default: when it is posted).
    ``team_id`` optionally names the team (志愿服务队伍) the volunteer served with.
    ``evidence`` is an :class:`Evidence` member or its value (``"qr_scan"``), as JSON, TOML and
    the bulk columns write it; anything else is an :class:`~zhiyuan.errors.InvalidValue` listing
    the allowed values.

    Example:
        >>> from datetime import datetime
        >>> from zhiyuan import SHANGHAI
        >>> r = ServiceRecord(id="r1", volunteer_id="v1", activity_id="a1", organization_id="o1",
        ...     region_code="370602001001", category="助老",
        ...     start=datetime(2025, 3, 1, 9, 0, tzinfo=SHANGHAI),
        ...     end=datetime(2025, 3, 1, 11, 30, tzinfo=SHANGHAI), evidence=Evidence.QR_SCAN)
        >>> r.served_minutes, r.service_date
        (150, datetime.date(2025, 3, 1))
        >>> attrs.evolve(r, evidence="gps").evidence
        <Evidence.GPS: 'gps'>
        >>> attrs.evolve(r, evidence="carrier_pigeon")
        Traceback (most recent call last):
        ...
        zhiyuan.errors.InvalidValue: evidence: 'carrier_pigeon': 应为 / one of sign_in_code, qr_scan, gps, supervisor, self_report, admin_topup
        >>> ServiceRecord(id="r2", volunteer_id="v1", activity_id="a1", organization_id="o1",
        ...     region_code="3706", category="助老", start=datetime(2025, 3, 1, 9, 0),
        ...     end=datetime(2025, 3, 1, 11, 0, tzinfo=SHANGHAI), evidence=Evidence.QR_SCAN)
        Traceback (most recent call last):
        ...
        zhiyuan.errors.InvalidValue: start: '2025-03-01T09:00:00': 缺少时区 / naive datetime: an offset or zone is required
    """

    id: str = attrs.field(validator=non_empty)
    volunteer_id: str = attrs.field(validator=non_empty)
    activity_id: str = attrs.field(validator=non_empty)
    organization_id: str = attrs.field(validator=non_empty)
    region_code: str = attrs.field(converter=_region)
    category: str = attrs.field(validator=non_empty)
    start: datetime = attrs.field(converter=to_shanghai, validator=aware)
    end: datetime = attrs.field(converter=to_shanghai, validator=aware)
    evidence: Evidence = attrs.field(converter=_evidence)
    geo: GeoFix | None = attrs.field(default=None, validator=is_a(GeoFix))
    scheduled_start: datetime | None = attrs.field(
        default=None, converter=attrs.converters.optional(to_shanghai), validator=aware
    )
    scheduled_end: datetime | None = attrs.field(
        default=None, converter=attrs.converters.optional(to_shanghai), validator=aware
    )
    checkout_missing: bool = attrs.field(default=False, validator=is_bool)
    recorded_at: datetime | None = attrs.field(
        default=None, converter=attrs.converters.optional(to_shanghai), validator=aware
    )
    note: str = attrs.field(default="", validator=_note)
    team_id: str | None = attrs.field(default=None, validator=_team)

    def __attrs_post_init__(self) -> None:
        if self.end <= self.start:
            raise InvalidValue(
                "end",
                self.end.isoformat(),
                f"结束时间须晚于开始时间 {self.start.isoformat()} / end must be after start",
            )
        s, e = self.scheduled_start, self.scheduled_end
        if (s is None) != (e is None):
            raise InvalidValue(
                "scheduled_end" if e is None else "scheduled_start",
                None,
                "计划起止须同时给出 / give both scheduled start and end, or neither",
            )
        if s is not None and e is not None and e <= s:
            raise InvalidValue(
                "scheduled_end",
                e.isoformat(),
                "计划结束须晚于计划开始 / must be after scheduled start",
            )
        if self.recorded_at is not None and self.recorded_at < self.start:
            raise InvalidValue(
                "recorded_at",
                self.recorded_at.isoformat(),
                "录入时间不能早于服务开始 / a record cannot be entered before the service began",
            )

    @property
    def served_minutes(self) -> int:
        """Whole minutes between start and end (instants, so no clock change can distort them)."""
        return _minutes_between(self.start, self.end)

    @property
    def scheduled_minutes(self) -> int | None:
        """The scheduled duration in whole minutes, if a schedule is known."""
        if self.scheduled_start is None or self.scheduled_end is None:
            return None
        return _minutes_between(self.scheduled_start, self.scheduled_end)

    @property
    def service_date(self) -> date:
        """The date the service started, in Asia/Shanghai."""
        return self.start.astimezone(SHANGHAI).date()
