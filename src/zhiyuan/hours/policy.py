"""The hour policy (工时规则): what counts as service time, and how much of a record counts.

An :class:`HourPolicy` is frozen data with the national rules as defaults; every rule is a field,
loadable from JSON/TOML through :mod:`zhiyuan.convert`, with an ``effective_from`` date. Evaluating a
record runs an ordered chain of rules (:data:`~zhiyuan.hours.policy.RULES`); each rule that changes or rejects the record
adds a :class:`Finding` with its rule id, the numbers, and a Chinese and English message, so the
:class:`Outcome` explains itself. Minutes are integers throughout.

The national texts set no rounding, daily cap, recording deadline or per-record cap (POLICIES.md
"National texts"): the default policy leaves them off, and the local profiles in :data:`HOUR_PROFILES`
switch them on, each citing its source. One limit is on by default: a record covers at most one
day (``max_span_minutes``, 1440), since local platforms record a multi-day activity day by day.

References:
    《志愿服务记录办法》(民函〔2012〕340号): service time is time actually served, travel excluded;
    《志愿服务记录与证明出具办法(试行)》(民政部令第67号, in force 2021-02-01); local rules as cited
    on each profile.

Example:
    >>> from datetime import datetime
    >>> from zhiyuan import SHANGHAI
    >>> from zhiyuan.hours import ServiceRecord, Evidence, HourPolicy, HOUR_PROFILES
    >>> rec = ServiceRecord(id="r1", volunteer_id="v1", activity_id="a", organization_id="o",
    ...     region_code="370602", category="助老", evidence=Evidence.QR_SCAN,
    ...     start=datetime(2025, 3, 1, 9, 0, tzinfo=SHANGHAI),
    ...     end=datetime(2025, 3, 1, 12, 40, tzinfo=SHANGHAI))
    >>> now = datetime(2025, 3, 2, tzinfo=SHANGHAI)
    >>> HourPolicy().evaluate(rec, now=now).counted_minutes
    220
    >>> out = HOUR_PROFILES["hailin"].evaluate(rec, now=now)
    >>> out.counted_minutes
    120
    >>> print(out.explain())
    r1: accepted, 220 min served, 120 counted
      [hours.record_cap] 单次活动最多计 120 分钟，220 分钟核减为 120 分钟 / at most 120 min count per activity; 220 min cut to 120
"""

from __future__ import annotations

import bisect
import enum
import functools
import types
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from zhiyuan._validators import (
    DAYS,
    MINUTES,
    SHANGHAI,
    bounded,
    enum_set,
    is_bool,
    is_date,
    items,
    mapping,
    moment,
    non_empty,
    text,
    to_enum,
)
from zhiyuan.errors import InvalidValue
from zhiyuan.explain import MESSAGES, Finding, finding, register_messages
from zhiyuan.hours.records import Evidence, ServiceRecord
from zhiyuan.hours.volunteers import ADULT_AGE, Volunteer
from zhiyuan.profiles import Profiles, Source, explain_policy, to_source

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

N = TypeVar("N", int, "npt.NDArray[np.int64]")

__all__ = [
    "HOUR_PROFILES",
    "MESSAGES",
    "RULES",
    "Draft",
    "Finding",
    "HourPolicy",
    "HourRule",
    "Outcome",
    "Overflow",
    "OverlapRule",
    "Purpose",
    "Rounding",
    "Rule",
    "Status",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=SHANGHAI).astimezone(UTC)
"""Segments count elapsed seconds since 1970-01-01 00:00 +08:00. The epoch is held in UTC so that
subtracting a Shanghai time from it measures instants (two datetimes sharing one tzinfo subtract
as wall clocks, which would stretch service across the 1986–1991 summer-time shifts); day ``n``
is ``[n·86400, (n+1)·86400)`` in China Standard Time, the local day outside those summers."""

_LOCAL_EPOCH = datetime(1970, 1, 1, tzinfo=SHANGHAI)
_ONE_OFFSET_FROM = 1992
"""From this year on Asia/Shanghai keeps one offset, +08:00, the offset of :data:`_EPOCH` (its
last summer time ended in September 1991): a Shanghai time from then on less
:data:`_LOCAL_EPOCH`, subtracted as wall clocks (the cheap way: no offsets looked up), is exactly
the same instant less :data:`_EPOCH`."""


class Purpose(enum.Enum):
    """What certified hours are used for; the policy says which evidence counts toward each."""

    STARS = "stars"
    """星级评定: star levels."""
    POINTS = "points"
    """积分: conversion into points or credit."""
    REPORTS = "reports"
    """统计: totals in reports and certificates."""


class Rounding(enum.Enum):
    """How a quotient becomes a whole number: counted minutes snapping to the policy's unit
    (计时单位), hours becoming points, averages kept in hundredths.

    :meth:`divide` and :meth:`snap` are the library's one integer rounding kernel: the object
    path calls them with Python integers and the columnar twins with numpy integer arrays, so
    both round alike by construction.

    Example:
        >>> [r.divide(45, 30) for r in Rounding], [r.snap(45, 30) for r in Rounding]
        ([1, 2, 2], [30, 60, 60])
    """

    DOWN = "down"
    """Drop the remainder (29 min with a 30-min unit counts 0)."""
    HALF_UP = "half_up"
    """Round to the nearest unit, halves up."""
    UP = "up"
    """Any remainder counts a whole unit."""

    def divide(self, num: N, den: int) -> N:
        """``num / den`` rounded this way, exactly, in integers (``den > 0``; ``num`` a Python
        integer or a numpy integer array, elementwise).

        Example:
            >>> Rounding.HALF_UP.divide(433, 100), Rounding.UP.divide(401, 100)
            (4, 5)
        """
        if self is Rounding.DOWN:
            return num // den
        if self is Rounding.UP:
            return -(-num // den)
        return (2 * num + den) // (2 * den)

    def snap(self, value: N, unit: int) -> N:
        """``value`` rounded this way to a whole multiple of ``unit`` (``unit > 0``).

        Example:
            >>> Rounding.DOWN.snap(89, 30), Rounding.HALF_UP.snap(75, 30)
            (60, 90)
        """
        return value if unit == 1 else self.divide(value, unit) * unit


class OverlapRule(enum.Enum):
    """What happens when a record overlaps time already counted for the same volunteer."""

    REJECT = "reject"
    """The overlapping record is rejected whole."""
    TRIM = "trim"
    """Only the time not yet counted counts (earlier-posted records win)."""


class Overflow(enum.Enum):
    """What happens past a limit (a daily cap, a recording deadline)."""

    TRIM = "trim"
    """Count up to the limit; cut the rest."""
    APPROVAL = "approval"
    """Count it all, but only after approval by an authority above the organizer (需审批)."""
    REJECT = "reject"
    """Reject the record."""


class Status(enum.Enum):
    """The policy's verdict on a record."""

    ACCEPTED = "accepted"
    NEEDS_APPROVAL = "needs_approval"
    REJECTED = "rejected"


_ACCEPTED, _REJECTED = Status.ACCEPTED, Status.REJECTED


register_messages(
    {
        ("hours.category", ""): (
            ("category",),
            "「{category}」不计入志愿服务时长",
            "category {category!r} does not count as volunteer service",
        ),
        ("hours.span", ""): (
            ("served", "limit"),
            "单条记录 {served} 分钟，超过上限 {limit} 分钟",
            "a single record of {served} min exceeds the {limit}-min limit",
        ),
        ("hours.age", ""): (
            ("age", "min_age"),
            "志愿者服务当日 {age} 岁，低于 {min_age} 岁，不予记录",
            "volunteer was {age} on the service date, under the minimum age {min_age}",
        ),
        ("hours.minor", ""): (("age",), "未成年志愿者（{age} 岁）", "minor volunteer (aged {age})"),
        ("hours.deadline", "reject"): (
            ("days", "limit"),
            "服务后第 {days} 天录入，超过 {limit} 天时限",
            "entered {days} days after the service, past the {limit}-day deadline",
        ),
        ("hours.deadline", "approval"): (
            ("days", "limit"),
            "服务后第 {days} 天录入，超过 {limit} 天时限，需审批",
            "entered {days} days after the service, past the {limit}-day deadline; needs approval",
        ),
        # The two variants below are no longer written (the schedule rule now keeps the time
        # inside the schedule's window, the "…_window" variants); they stay registered so that
        # outcomes recorded before still read.
        ("hours.schedule_cap", "topup"): (
            ("before", "scheduled"),
            "补录时长不超过活动计划时长 {scheduled} 分钟（原 {before} 分钟）",
            "a top-up never exceeds the scheduled {scheduled} min (was {before})",
        ),
        ("hours.schedule_cap", "checkout"): (
            ("before", "scheduled"),
            "未签退时长不超过活动计划时长 {scheduled} 分钟（原 {before} 分钟）",
            "a missed check-out never exceeds the scheduled {scheduled} min (was {before})",
        ),
        ("hours.schedule_cap", "topup_window"): (
            ("before", "after", "scheduled"),
            "补录只计活动计划时段（{scheduled} 分钟）内的时间，{before} 分钟核减为 {after} 分钟",
            "a top-up counts only the time inside the activity's {scheduled}-min schedule; "
            "{before} min cut to {after}",
        ),
        ("hours.schedule_cap", "checkout_window"): (
            ("before", "after", "scheduled"),
            "未签退只计活动计划时段（{scheduled} 分钟）内的时间，{before} 分钟核减为 {after} 分钟",
            "a missed check-out counts only the time inside the activity's {scheduled}-min "
            "schedule; {before} min cut to {after}",
        ),
        ("hours.overlap", "reject"): (
            ("overlapping",),
            "与已计入的服务时间重叠，不予计入",
            "overlaps service time already counted for this volunteer ({overlapping} record(s))",
        ),
        ("hours.overlap", "trim"): (
            ("before", "after"),
            "与已计入时间重叠，{before} 分钟核减为 {after} 分钟",
            "overlaps time already counted; {before} min cut to {after}",
        ),
        ("hours.record_cap", ""): (
            ("before", "cap"),
            "单次活动最多计 {cap} 分钟，{before} 分钟核减为 {cap} 分钟",
            "at most {cap} min count per activity; {before} min cut to {cap}",
        ),
        ("hours.rounding", ""): (
            ("before", "after", "unit"),
            "按 {unit} 分钟计时单位取整：{before} → {after} 分钟",
            "rounded to the {unit}-min unit: {before} → {after} min",
        ),
        ("hours.daily_cap", "trim"): (
            ("cap", "before", "after"),
            "每日最多计 {cap} 分钟，{before} 分钟核减为 {after} 分钟",
            "at most {cap} min count per day; {before} min cut to {after}",
        ),
        ("hours.daily_cap", "approval"): (
            ("cap", "over"),
            "每日最多计 {cap} 分钟，超出 {over} 分钟，需上级审批",
            "at most {cap} min count per day; {over} min over, needs approval",
        ),
        ("hours.daily_cap", "reject"): (
            ("cap", "over"),
            "每日最多计 {cap} 分钟，超出 {over} 分钟，不予计入",
            "at most {cap} min count per day; {over} min over, rejected",
        ),
    }
)


Segment = tuple[int, int]
"""A half-open interval of epoch seconds."""


@attrs.frozen(kw_only=True)
class Outcome:
    """The result of evaluating one record under a policy, with the reason for every change.

    ``segments`` are the intervals (epoch seconds) the volunteer is taken to have served, after
    overlap and schedule rules: no two counted records of one volunteer share any of them.
    ``day_minutes`` are the counted minutes per service date (for daily caps).
    ``weighted_minutes`` apply the policy's category weight to ``counted_minutes``.

    Example:
        >>> out = Outcome(record_id="r1", status=Status.ACCEPTED, served_minutes=200,
        ...               counted_minutes=180, weighted_minutes=270)
        >>> out.counted, out.explain()
        (True, 'r1: accepted, 200 min served, 180 counted (270 weighted)')
    """

    record_id: str
    status: Status
    served_minutes: int
    counted_minutes: int
    weighted_minutes: int
    segments: tuple[Segment, ...] = ()
    day_minutes: tuple[tuple[date, int], ...] = ()
    counts_toward: frozenset[Purpose] = frozenset()
    findings: tuple[Finding, ...] = ()
    minor: bool = False

    @property
    def counted(self) -> bool:
        """True if the record counts (accepted or awaiting approval) with minutes > 0."""
        return self.status is not _REJECTED and self.counted_minutes > 0

    def explain(self) -> str:
        """A readable account: verdict, minutes, and one line per finding."""
        head = (
            f"{self.record_id}: {self.status.value}, {self.served_minutes} min served, "
            f"{self.counted_minutes} counted"
        )
        if self.weighted_minutes != self.counted_minutes:
            head += f" ({self.weighted_minutes} weighted)"
        return "\n".join([head, *(f"  {f}" for f in self.findings)])


def _schedule_capped(value: object) -> frozenset[Evidence]:
    return enum_set("schedule_capped", Evidence, value)


def _auto_certify(value: object) -> frozenset[Evidence]:
    return enum_set("auto_certify", Evidence, value)


def _category(field: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidValue(field, value, "类别须为非空文字 / a category is non-empty text")
    return text(field, value)


def _rounding(value: object) -> Rounding:
    return to_enum("rounding", Rounding, value)


def _overflow(value: object) -> Overflow:
    return to_enum("overflow", Overflow, value)


def _overlap(value: object) -> OverlapRule:
    return to_enum("overlap", OverlapRule, value)


def _categories(value: object) -> frozenset[str]:
    field = "excluded_categories"
    return frozenset(_category(field, v) for v in items(field, value))


def _purposes(value: object) -> dict[Purpose, frozenset[Evidence]]:
    out: dict[Purpose, frozenset[Evidence]] = {}
    for k, v in mapping("counts_toward", value).items():
        purpose = to_enum("counts_toward", Purpose, k)
        out[purpose] = enum_set(f"counts_toward.{purpose.value}", Evidence, v)
    return out


def _weights(value: object) -> dict[str, int]:
    out = {}
    for k, v in mapping("category_weights", value).items():
        name = _category("category_weights", k)
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 100_000:
            raise InvalidValue(
                f"category_weights.{name}",
                v,
                "权重为 0 到 100000 的整数百分比 / a weight is a whole percent, 0 to 100000",
            )
        out[name] = v
    return out


def _opt(validator: Callable[[Any, attrs.Attribute[Any], Any], None]) -> Any:
    return attrs.validators.optional(validator)


_ALL_KINDS = frozenset(Evidence)
_ATTESTED = frozenset({Evidence.SIGN_IN_CODE, Evidence.QR_SCAN, Evidence.GPS, Evidence.SUPERVISOR})


def _default_counts() -> dict[Purpose, frozenset[Evidence]]:
    return {
        Purpose.STARS: _ATTESTED | {Evidence.ADMIN_TOPUP},
        Purpose.POINTS: _ATTESTED,
        Purpose.REPORTS: _ALL_KINDS,
    }


@attrs.frozen(kw_only=True)
class HourPolicy:
    """The rules that turn a service record into counted minutes. Defaults are national.

    Attributes:
        name: a label for reports.
        effective_from: the date from which a history is judged by this policy (default: the
            in-force date of 民政部令第67号, 2021-02-01).
        source: where the policy comes from (:class:`~zhiyuan.profiles.Source`): set on every
            shipped profile, ``None`` for a policy of your own.
        unit_minutes: the counting unit; 1 counts every whole minute (national: hours, stored
            in minutes, no rounding rule).
        rounding: how counted minutes snap to the unit.
        record_cap_minutes: at most this much per record (海林: 120), or ``None``.
        schedule_capped: evidence kinds that count only the time inside the activity's schedule
            window (志愿汇: a top-up never exceeds the activity's set length); a record with
            ``checkout_missing`` is always cut so. The window runs from ``scheduled_start`` for
            the scheduled duration in whole minutes; a record without a schedule is not cut.
        daily_cap_minutes: at most this much per volunteer per day, or ``None``; ``over_daily_cap``
            says what happens past it (广东 i志愿: 8 h, more needs approval).
        minor_daily_cap_minutes: a lower daily cap for volunteers under 18, or ``None``.
        min_age: records of volunteers younger than this on the service date are rejected.
        overlap: what happens to time already counted for the same volunteer.
        deadline_days: days after the service date within which a record must be entered, or
            ``None``; ``late`` says what happens past it.
        max_span_minutes: the longest record, start to end, in minutes (1 to
            525,600, a year). Default 1440, one day: the national
            texts set no number (POLICIES.md "National texts" and §2.3: no numeric limits), and
            广东 i志愿 records a multi-day activity day by day (POLICIES.md §2.6, "Multi-day
            activities record each day"), so one record covers at most a day; a 62-day record
            would otherwise count 1,488 h. A longer record is *rejected* by the rule
            ``hours.span`` (posted with status ``rejected`` and a finding that names the limit),
            as an excluded category or a late entry is, rather than refused as bad input: the
            record is well-formed, and whether it counts is the policy's verdict, which another
            policy may give differently. There is no "no limit" (``None`` could not round-trip
            through TOML, which has no null): the loosest limit is a year, the longest an i志愿
            activity may last (POLICIES.md §2.6).
        excluded_categories: categories that never count (meetings, dinners …).
        category_weights: percent weights by category (150 = 1.5×) for weighted minutes.
        counts_toward: which evidence kinds count toward stars, points and reports.
        notice_days: days of public notice (公示) between certification and certified.
        auto_certify: evidence kinds certified on posting, without a certifier.

    Collections are given as lists or sets (``excluded_categories``, ``schedule_capped``,
    ``auto_certify``, each value of ``counts_toward``) or as mappings (``category_weights``,
    ``counts_toward``); evidence kinds and purposes as members or their values. Anything else
    (``None``, a bool, a bare string where a list belongs) is an
    :class:`~zhiyuan.errors.InvalidValue` naming the field.

    Example:
        >>> from datetime import datetime
        >>> from zhiyuan import SHANGHAI
        >>> from zhiyuan.hours import ServiceRecord
        >>> HourPolicy().max_span_minutes
        1440
        >>> long = ServiceRecord(id="r62", volunteer_id="v1", activity_id="a", organization_id="o",
        ...     region_code="370602", category="助老", evidence="qr_scan",
        ...     start=datetime(2025, 3, 1, tzinfo=SHANGHAI), end=datetime(2025, 5, 2, tzinfo=SHANGHAI))
        >>> print(HourPolicy().evaluate(long, now=datetime(2025, 6, 1, tzinfo=SHANGHAI)).explain())
        r62: rejected, 89280 min served, 0 counted
          [hours.span] 单条记录 89280 分钟，超过上限 1440 分钟 / a single record of 89280 min exceeds the 1440-min limit
        >>> HourPolicy(excluded_categories="会议")
        Traceback (most recent call last):
        ...
        zhiyuan.errors.InvalidValue: excluded_categories: '会议': 需要一组值（列表或集合） / need a collection (a list or a set)
        >>> HourPolicy(auto_certify=["qr_scan", "fax"])
        Traceback (most recent call last):
        ...
        zhiyuan.errors.InvalidValue: auto_certify: 'fax': 应为 / one of sign_in_code, qr_scan, gps, supervisor, self_report, admin_topup
    """

    name: str = attrs.field(default="national", validator=non_empty)
    effective_from: date = attrs.field(default=date(2021, 2, 1), validator=is_date)
    source: Source | None = attrs.field(default=None, converter=to_source)
    unit_minutes: int = attrs.field(default=1, validator=bounded(1, 1440, "minutes"))
    rounding: Rounding = attrs.field(default=Rounding.DOWN, converter=_rounding)
    record_cap_minutes: int | None = attrs.field(
        default=None, validator=bounded(1, MINUTES, "minutes")
    )
    schedule_capped: frozenset[Evidence] = attrs.field(
        default=frozenset({Evidence.ADMIN_TOPUP, Evidence.SELF_REPORT}), converter=_schedule_capped
    )
    daily_cap_minutes: int | None = attrs.field(default=None, validator=bounded(1, 1440, "minutes"))
    over_daily_cap: Overflow = attrs.field(default=Overflow.TRIM, converter=_overflow)
    minor_daily_cap_minutes: int | None = attrs.field(
        default=None, validator=bounded(1, 1440, "minutes")
    )
    min_age: int | None = attrs.field(default=None, validator=bounded(0, 150, "years"))
    overlap: OverlapRule = attrs.field(default=OverlapRule.TRIM, converter=_overlap)
    deadline_days: int | None = attrs.field(default=None, validator=bounded(0, DAYS, "days"))
    late: Overflow = attrs.field(default=Overflow.REJECT, converter=_overflow)
    max_span_minutes: int = attrs.field(default=1440, validator=bounded(1, MINUTES, "minutes"))
    excluded_categories: frozenset[str] = attrs.field(factory=frozenset, converter=_categories)
    category_weights: dict[str, int] = attrs.field(factory=dict, converter=_weights)
    counts_toward: dict[Purpose, frozenset[Evidence]] = attrs.field(
        factory=_default_counts, converter=_purposes
    )
    notice_days: int = attrs.field(default=0, validator=bounded(0, DAYS, "days"))
    auto_certify: frozenset[Evidence] = attrs.field(factory=frozenset, converter=_auto_certify)

    _purpose_of: dict[Evidence, frozenset[Purpose]] = attrs.field(init=False, eq=False, repr=False)
    _rules: tuple[HourRule, ...] = attrs.field(init=False, eq=False, repr=False)
    _steps: tuple[Rule, ...] = attrs.field(init=False, eq=False, repr=False)

    def explain(self) -> str:
        """This policy in two lines, Chinese / English: name, first day in force, source."""
        return explain_policy(self, "工时规则", "hour policy")

    def __attrs_post_init__(self) -> None:
        if self.late is Overflow.TRIM:
            raise InvalidValue(
                "late", "trim", "逾期记录只能拒绝或审批 / late records: reject or approval"
            )
        unit = self.unit_minutes
        for name in ("record_cap_minutes", "daily_cap_minutes", "minor_daily_cap_minutes"):
            cap = getattr(self, name)
            if cap is not None and cap % unit:
                raise InvalidValue(
                    name,
                    cap,
                    f"上限须为计时单位 {unit} 分钟的整数倍 / a cap is a whole number of {unit}-min units",
                )
        self._derive()

    def _derive(self) -> None:
        """The tables derived from the fields: the purposes of each evidence kind, the chain."""
        table = {
            e: frozenset(p for p, kinds in self.counts_toward.items() if e in kinds)
            for e in Evidence
        }
        object.__setattr__(self, "_purpose_of", table)
        object.__setattr__(self, "_rules", tuple(r for r in RULES if r.in_force(self)))
        object.__setattr__(self, "_steps", _steps_of(self._rules))

    def __getstate__(self) -> dict[str, Any]:
        # Only the fields travel (to another process, a Dask worker): the derived chain holds
        # the rules' functions, which are rebuilt from the fields on arrival.
        return {f.name: getattr(self, f.name) for f in attrs.fields(type(self)) if f.init}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            object.__setattr__(self, name, value)
        self._derive()

    @property
    def rules(self) -> tuple[HourRule, ...]:
        """The chain this policy runs: :data:`~zhiyuan.hours.policy.RULES` less the rules it switches off.

        Example:
            >>> [r.id for r in HOUR_PROFILES["hailin"].rules][-3:]
            ['hours.record_cap', 'hours.rounding', 'hours.daily_cap']
        """
        return self._rules

    def purposes(self, evidence: Evidence | str) -> frozenset[Purpose]:
        """The purposes a record with this evidence (a member or its value) counts toward.

        Example:
            >>> sorted(p.value for p in HourPolicy().purposes("admin_topup"))
            ['reports', 'stars']
        """
        if type(evidence) is not Evidence:
            evidence = to_enum("evidence", Evidence, evidence)
        return self._purpose_of[evidence]

    def weight(self, category: str) -> int:
        """The category's weight in percent (100 when none is set)."""
        return self.category_weights.get(category, 100)

    def snap(self, minutes: int) -> int:
        """Minutes snapped to the unit by the rounding rule.

        Example:
            >>> HourPolicy(unit_minutes=30, rounding="half_up").snap(44), HourPolicy().snap(44)
            (30, 44)
        """
        if type(minutes) is not int:
            raise InvalidValue("minutes", minutes, "需要整数 / must be an integer")
        return self.rounding.snap(minutes, self.unit_minutes)

    def evaluate(
        self,
        record: ServiceRecord,
        *,
        now: datetime,
        volunteer: Volunteer | None = None,
        occupied: Sequence[Segment] = (),
        day_used: Mapping[date, int] | None = None,
        rules: Sequence[Rule] | None = None,
    ) -> Outcome:
        """Evaluate one record. Pure: the context comes in as arguments.

        Args:
            record: the record.
            now: the current time; a record ending after it is an error, and it is the entry
                time when the record has no ``recorded_at``.
            volunteer: the volunteer, for age rules.
            occupied: the volunteer's already-counted segments (sorted, disjoint).
            day_used: minutes already counted per date for the volunteer (for daily caps).
            rules: the rule chain (default: :data:`~zhiyuan.hours.policy.RULES`, less the rules this policy switches
                off); pass ``(*RULES, my_rule)`` to add a local rule.

        Raises:
            InvalidValue: the record ends in the future (``end``), ``now`` is naive or missing,
                or an argument is not of its kind (``record``, ``volunteer``, ``occupied`` not
                sorted disjoint pairs of whole seconds, ``day_used`` not a mapping of dates to
                minutes, ``rules`` not callables).
        """
        if now is None:
            raise InvalidValue("now", None, "需要带时区的时间 / need a timezone-aware datetime")
        now = moment(now, "now")
        if not isinstance(record, ServiceRecord):
            raise InvalidValue(
                "record", type(record).__name__, "需要 ServiceRecord / need a ServiceRecord"
            )
        if volunteer is not None and not isinstance(volunteer, Volunteer):
            raise InvalidValue(
                "volunteer", type(volunteer).__name__, "需要 Volunteer / need a Volunteer"
            )
        occupied = _segments(occupied)
        used = _day_used(day_used)
        if rules is not None:
            rules = items("rules", rules)
            for r in rules:
                if not callable(r):
                    raise InvalidValue("rules", r, "规则须为可调用对象 / a rule is a callable")
        if record.end > now:
            raise InvalidValue(
                "end",
                record.end.isoformat(),
                f"记录不能晚于当前时间 {now.isoformat()} / a record cannot end in the future",
            )
        chain = self._rules if rules is None else rules
        return self._evaluate(record, now, volunteer, occupied, used, chain)

    def _evaluate(
        self,
        record: ServiceRecord,
        now: datetime,
        volunteer: Volunteer | None,
        occupied: Sequence[Segment],
        day_used: Mapping[date, int],
        rules: Sequence[Rule],
    ) -> Outcome:
        """:meth:`evaluate` without the argument checks (the ledger has made them)."""
        chain = self._steps if rules is self._rules else _steps_of(rules)
        return _judge(Draft(record, self, now, volunteer, occupied, day_used), chain).outcome()


def _steps_of(rules: Sequence[Rule]) -> tuple[Rule, ...]:
    """A rule chain as the functions to call: each :class:`HourRule`'s ``run`` (calling it
    calls that), any other rule as it is."""
    return tuple(r.run if type(r) is HourRule else r for r in rules)


def _judge(d: Draft, chain: Sequence[Rule]) -> Draft:
    """Run a chain (:func:`_steps_of`) on a draft, stopping at the first rejection: the one
    evaluation kernel of the object path, the ledger and the columnar path's exact loop."""
    for step in chain:
        step(d)
        if d.status is _REJECTED:
            break
    return d


def _segments(value: object) -> Sequence[Segment]:
    """``occupied`` checked: sorted, disjoint ``(start, end)`` pairs of whole epoch seconds."""
    out = items("occupied", value)
    last = None
    for seg in out:
        if (
            not isinstance(seg, tuple)
            or len(seg) != 2
            or any(type(x) is not int for x in seg)
            or seg[0] >= seg[1]
        ):
            raise InvalidValue(
                "occupied", seg, "需要 (开始, 结束) 秒数对 / need (start, end) pairs of seconds"
            )
        if last is not None and seg[0] < last:
            raise InvalidValue(
                "occupied", seg, "时段须有序且不重叠 / segments must be sorted and disjoint"
            )
        last = seg[1]
    return out


def _day_used(value: object) -> Mapping[date, int]:
    """``day_used`` checked: ``None`` or a mapping of dates to whole minutes."""
    if value is None:
        return {}
    for day, m in mapping("day_used", value).items():
        if isinstance(day, datetime) or not isinstance(day, date):
            raise InvalidValue("day_used", day, "键须为日期 / keys are dates")
        if type(m) is not int or m < 0:
            raise InvalidValue(f"day_used.{day}", m, "需要非负整数 / a whole number ≥ 0")
    return value  # type: ignore[return-value]


def _seconds(moment: datetime) -> int:
    """``moment`` in epoch seconds (:data:`_EPOCH`), as segments count them."""
    return int((moment - _EPOCH).total_seconds())


class Draft:
    """The working state of one evaluation, which each rule reads and adjusts.

    A rule is a callable taking a draft: it may change ``minutes`` (counted minutes so far),
    ``segments`` (the served intervals, seconds), ``status`` (a :class:`Status`) and ``days``,
    and add findings with :meth:`find` (or :meth:`reject`). ``record``, ``policy``, ``now``,
    ``volunteer``, ``occupied`` and ``day_used`` are the inputs. The record's values that the
    default rules read are on the draft as plain values, converted once: ``category``,
    ``evidence``, ``checkout_missing``, ``served_minutes`` (:attr:`ServiceRecord.served_minutes
    <zhiyuan.hours.ServiceRecord.served_minutes>`), :attr:`schedule`, :attr:`end_day` and
    :attr:`entered_day`. The columnar path's exact loop gives them without a record; ``record``
    is then built on first use (the default rules never need it there).
    """

    __slots__ = (
        "_end",
        "_entered",
        "_make",
        "_record",
        "_schedule",
        "category",
        "checkout_missing",
        "day_used",
        "days",
        "evidence",
        "findings",
        "minor",
        "minutes",
        "now",
        "occupied",
        "policy",
        "segments",
        "served_minutes",
        "status",
        "volunteer",
    )
    _end: int
    _entered: int | None
    _make: Callable[[], ServiceRecord] | None
    _record: ServiceRecord | None
    _schedule: Segment | None
    category: str
    checkout_missing: bool
    day_used: Mapping[date, int]
    days: Sequence[tuple[date, int]]
    evidence: Evidence
    findings: tuple[Finding, ...]
    minor: bool
    minutes: int
    now: datetime
    occupied: Sequence[Segment]
    policy: HourPolicy
    segments: Sequence[Segment]
    served_minutes: int
    status: Status
    volunteer: Volunteer | None

    def __init__(
        self,
        record: ServiceRecord,
        policy: HourPolicy,
        now: datetime,
        volunteer: Volunteer | None,
        occupied: Sequence[Segment],
        day_used: Mapping[date, int],
    ) -> None:
        self._record = record
        self._make = None  # (``_schedule``, ``_end`` and ``_entered`` are read only with it)
        self._begin(policy, now, volunteer, occupied, day_used)
        start, end = record.start, record.end
        if start.tzinfo is SHANGHAI and end.tzinfo is SHANGHAI and start.year >= _ONE_OFFSET_FROM:
            ts, te = start - _LOCAL_EPOCH, end - _LOCAL_EPOCH  # end > start: both in one offset
        else:
            ts, te = start - _EPOCH, end - _EPOCH
        if ts.microseconds or te.microseconds:
            s = int(ts.total_seconds())
            e = int(te.total_seconds())
            # the instants' difference, as ServiceRecord.served_minutes measures it
            self.served_minutes = int((te - ts).total_seconds()) // 60
        else:  # whole seconds: the same numbers, in integers
            s = ts.days * 86400 + ts.seconds
            e = te.days * 86400 + te.seconds
            self.served_minutes = (e - s) // 60
        self.segments = ((s, e),)
        minutes = (e - s) // 60
        self.minutes = self.served_minutes if minutes == self.served_minutes else minutes
        self.category = record.category
        self.evidence = record.evidence
        self.checkout_missing = record.checkout_missing

    def _begin(
        self,
        policy: HourPolicy,
        now: datetime,
        volunteer: Volunteer | None,
        occupied: Sequence[Segment],
        day_used: Mapping[date, int],
    ) -> None:
        """The inputs every draft has, and the verdict before any rule: accepted, no findings."""
        self.policy = policy
        self.now = now
        self.volunteer = volunteer
        self.occupied = occupied
        self.day_used = day_used
        self.status = _ACCEPTED
        self.findings = ()
        self.days = ()
        self.minor = False

    @classmethod
    def _of(
        cls,
        policy: HourPolicy,
        now: datetime,
        occupied: Sequence[Segment],
        day_used: Mapping[date, int],
        start: int,
        end: int,
        category: str,
        evidence: Evidence,
        checkout_missing: bool,
        schedule: Segment | None,
        recorded: int | None,
        make: Callable[[], ServiceRecord],
    ) -> Draft:
        """A draft from checked plain values, with no record and no volunteer (the columnar
        path's exact loop): ``start``, ``end`` and ``recorded`` (``None``: entered ``now``) in
        epoch seconds, all from 2000 on, when China Standard Time is the local time, so a
        service date is ``seconds // 86400``; ``schedule`` as :attr:`schedule` gives it;
        ``make`` builds the record if a rule asks for it."""
        d = cls.__new__(cls)
        d._record = None
        d._make = make
        d._begin(policy, now, None, occupied, day_used)
        d.segments = ((start, end),)
        d.minutes = d.served_minutes = (end - start) // 60
        d.category = category
        d.evidence = evidence
        d.checkout_missing = checkout_missing
        d._schedule = schedule
        d._end = end
        d._entered = recorded
        return d

    @property
    def record(self) -> ServiceRecord:
        """The record evaluated."""
        rec = self._record
        if rec is None:
            assert self._make is not None
            rec = self._record = self._make()
        return rec

    @property
    def schedule(self) -> tuple[int, int] | None:
        """The activity's schedule as ``(start, minutes)``: its start in epoch seconds (as
        ``segments`` count them) and its length in whole minutes
        (:attr:`ServiceRecord.scheduled_minutes <zhiyuan.hours.ServiceRecord.scheduled_minutes>`);
        ``None`` when the record has none."""
        if self._make is not None:
            return self._schedule
        rec = self.record
        if rec.scheduled_start is None:
            return None
        minutes = rec.scheduled_minutes
        if minutes is None:
            return None
        return (_seconds(rec.scheduled_start), minutes)

    @property
    def end_day(self) -> date:
        """The date the service ended, in Asia/Shanghai."""
        if self._make is not None:
            return _day(self._end // 86400)
        return self.record.end.astimezone(SHANGHAI).date()

    @property
    def entered_day(self) -> date:
        """The date the record was entered (its ``recorded_at``, else ``now``), in Asia/Shanghai."""
        if self._make is None:
            entered = self.record.recorded_at or self.now
        elif self._entered is None:
            entered = self.now
        else:
            return _day(self._entered // 86400)
        return entered.astimezone(SHANGHAI).date()

    def find(self, rule: str, *values: int | str, variant: str = "") -> None:
        self.findings += (finding(rule, values, variant),)

    def reject(self, rule: str, *values: int | str, variant: str = "") -> None:
        self.find(rule, *values, variant=variant)
        self.status = _REJECTED
        self.minutes = 0
        self.segments = ()

    def counted(self) -> tuple[int, int]:
        """The minutes that count (none when rejected) and those minutes weighted by the
        record's category, as :meth:`outcome` gives them."""
        if self.status is _REJECTED:
            return 0, 0
        counted = self.minutes
        policy = self.policy
        if not policy.category_weights:  # every category weighs 100 %
            return counted, counted
        weight = policy.weight(self.category)
        return counted, counted if weight == 100 else counted * weight // 100

    def outcome(self) -> Outcome:
        """The evaluation's :class:`Outcome`."""
        status = self.status
        segments: tuple[Segment, ...] = ()
        days: tuple[tuple[date, int], ...] = ()
        if status is not _REJECTED:
            segments, days = tuple(self.segments), tuple(self.days)
        counted, weighted = self.counted()
        rec = self._record
        # Outcome(record_id=…, …, minor=…), set field by field through its slots: the generated
        # __init__ checks nothing, and this is four times as fast (_OUTCOME_FIELDS pins them)
        out: Outcome = _new(Outcome)
        _o_record_id(out, (self.record if rec is None else rec).id)
        _o_status(out, status)
        _o_served(out, self.served_minutes)
        _o_counted(out, counted)
        _o_weighted(out, weighted)
        _o_segments(out, segments)
        _o_days(out, days)
        _o_counts_toward(out, self.policy._purpose_of[self.evidence])
        _o_findings(out, self.findings)
        _o_minor(out, self.minor)
        return out


_new = object.__new__


def _slot_setters(cls: type, fields: tuple[str, ...]) -> tuple[Callable[[Any, Any], None], ...]:
    """The setters of a frozen slotted attrs class's slots, for ``fields``, which must be all
    of its fields in order: ``setter(obj, value)`` sets the slot as the generated ``__init__``
    does (without the frozen ``__setattr__``), for an object made by ``object.__new__``."""
    if tuple(f.name for f in attrs.fields(cls)) != fields:  # pragma: no cover
        raise AssertionError(f"set every field of {cls.__name__}, in order")
    slots = [cls.__dict__.get(name) for name in fields]
    if any(type(s) is not types.MemberDescriptorType for s in slots):  # pragma: no cover
        raise AssertionError(f"{cls.__name__} keeps its fields in slots")
    return tuple(s.__set__ for s in slots)  # type: ignore[union-attr]


_OUTCOME_FIELDS = (
    "record_id",
    "status",
    "served_minutes",
    "counted_minutes",
    "weighted_minutes",
    "segments",
    "day_minutes",
    "counts_toward",
    "findings",
    "minor",
)
"""The fields :meth:`Draft.outcome` sets, in order: all of :class:`Outcome`'s."""
(
    _o_record_id,
    _o_status,
    _o_served,
    _o_counted,
    _o_weighted,
    _o_segments,
    _o_days,
    _o_counts_toward,
    _o_findings,
    _o_minor,
) = _slot_setters(Outcome, _OUTCOME_FIELDS)


Rule = Callable[[Draft], None]
"""A rule: reads and adjusts the draft of one evaluation (minutes, segments, status, findings).
The default rules are :class:`HourRule` values; a local rule is any such callable."""


def _always(_: HourPolicy) -> bool:
    return True


def _callable(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not callable(value):
        raise InvalidValue(attribute.name, value, "需要可调用对象 / need a callable")


@attrs.frozen
class HourRule:
    """One rule of the default chain (:data:`~zhiyuan.hours.policy.RULES`) as a value: what it does, the id of the
    findings it writes, whether it can reject a record, and when a policy switches it on.

    The object path runs the chain of :attr:`HourPolicy.rules`; the columnar twin
    (:func:`~zhiyuan.bulk.evaluate_hours`) derives its rejection codes and its coverage check from the same
    values, so the two cannot drift apart.

    Attributes:
        id: the rule id of its findings (``hours.category`` …).
        run: reads and adjusts the draft of one evaluation.
        rejects: whether it can reject a record.
        in_force: whether a policy runs it at all (a rule a policy switches off is left out of
            that policy's chain).

    Example:
        >>> def rule_no_night(d: Draft) -> None:  # a local rule, as a value of its own
        ...     if d.record.start.hour < 6:
        ...         d.reject("hours.night")
        >>> HourRule("hours.night", rule_no_night, rejects=True).rejects
        True
        >>> [r.id for r in RULES if r.rejects]
        ['hours.category', 'hours.span', 'hours.age', 'hours.deadline', 'hours.overlap', 'hours.daily_cap']
        >>> RULES[0].in_force(HourPolicy()), RULES[0].in_force(HourPolicy(excluded_categories={"x"}))
        (False, True)
    """

    id: str = attrs.field(validator=non_empty)
    run: Rule = attrs.field(repr=False, validator=_callable)
    rejects: bool = attrs.field(kw_only=True, validator=is_bool)
    in_force: Callable[[HourPolicy], bool] = attrs.field(
        default=_always, kw_only=True, repr=False, validator=_callable
    )

    def __call__(self, d: Draft) -> None:
        self.run(d)

    def __reduce__(self) -> str | tuple[Any, ...]:
        # A rule of the default chain is pickled by its id (its function's module name is bound
        # to the rule itself, and its ``in_force`` may be a lambda), so that a policy travels to
        # another process — a Dask worker — and is the same rule there.
        if any(r is self for r in RULES):
            return (_default_rule, (self.id,))
        return super().__reduce__()


def _default_rule(rule_id: str) -> HourRule:
    """The rule of the default chain with ``rule_id`` (how a pickled one comes back)."""
    return next(r for r in RULES if r.id == rule_id)


def _rule(
    rule_id: str, *, rejects: bool, in_force: Callable[[HourPolicy], bool] = _always
) -> Callable[[Rule], HourRule]:
    """Make the decorated function one :class:`HourRule`."""

    def make(run: Rule) -> HourRule:
        return HourRule(rule_id, run, rejects=rejects, in_force=in_force)

    return make


@_rule("hours.category", rejects=True, in_force=lambda p: bool(p.excluded_categories))
def rule_category(d: Draft) -> None:
    """``hours.category``: excluded categories never count."""
    if d.category in d.policy.excluded_categories:
        d.reject("hours.category", d.category)


@_rule("hours.span", rejects=True)
def rule_span(d: Draft) -> None:
    """``hours.span``: a record longer than ``max_span_minutes`` is rejected as implausible."""
    cap = d.policy.max_span_minutes
    if d.minutes > cap:
        d.reject("hours.span", d.minutes, cap)


@_rule("hours.age", rejects=True)
def rule_age(d: Draft) -> None:
    """``hours.age``: flag minors; reject below ``min_age``."""
    v = d.volunteer
    if v is None or v.id_number is None:
        return
    age = v.age_on(d.record.service_date)
    if age is None:
        return
    min_age = d.policy.min_age
    if min_age is not None and age < min_age:
        d.reject("hours.age", age, min_age)
        return
    if age < ADULT_AGE:
        d.minor = True
        d.find("hours.minor", age)


@_rule("hours.deadline", rejects=True, in_force=lambda p: p.deadline_days is not None)
def rule_deadline(d: Draft) -> None:
    """``hours.deadline``: a record entered more than ``deadline_days`` after the service date."""
    limit = d.policy.deadline_days
    if limit is None:
        return
    late = (d.entered_day - d.end_day).days
    if late <= limit:
        return
    if d.policy.late is Overflow.APPROVAL:
        d.status = Status.NEEDS_APPROVAL
        d.find("hours.deadline", late, limit, variant="approval")
    else:
        d.reject("hours.deadline", late, limit, variant="reject")


@_rule("hours.schedule_cap", rejects=False)
def rule_schedule(d: Draft) -> None:
    """``hours.schedule_cap``: a top-up or a missed check-out counts only the time inside the
    activity's schedule.

    For the evidence kinds in ``schedule_capped``, and for any record with ``checkout_missing``,
    the served time is cut to the schedule's window: from ``scheduled_start`` for the scheduled
    duration in whole minutes (:attr:`~zhiyuan.hours.ServiceRecord.scheduled_minutes`). So a
    top-up never counts more than the schedule, nor time outside it: 13:00–18:00 entered for a
    09:00–12:00 activity counts nothing. A record without a schedule is not cut.
    """
    if not (d.checkout_missing or d.evidence in d.policy.schedule_capped):
        return
    schedule = d.schedule
    if schedule is None:
        return
    ws, sched = schedule
    we = ws + sched * 60
    inside = [(max(s, ws), min(e, we)) for s, e in d.segments if min(e, we) > max(s, ws)]
    if inside == list(d.segments):
        return
    before = d.minutes
    d.segments = inside
    d.minutes = sum(e - s for s, e in inside) // 60
    if d.minutes != before:
        variant = "checkout_window" if d.checkout_missing else "topup_window"
        d.find("hours.schedule_cap", before, d.minutes, sched, variant=variant)


@_rule("hours.overlap", rejects=True)
def rule_overlap(d: Draft) -> None:
    """``hours.overlap``: one person cannot serve in two places at once."""
    occ = d.occupied
    if not occ:
        return
    hits = []
    for s, e in d.segments:
        i = bisect.bisect_right(occ, (s, s))
        if i > 0 and occ[i - 1][1] > s:
            i -= 1
        while i < len(occ) and occ[i][0] < e:
            hits.append(occ[i])
            i += 1
    if not hits:
        return
    if d.policy.overlap is OverlapRule.REJECT:
        d.reject("hours.overlap", len(hits), variant="reject")
        return
    pieces: list[Segment] = []
    for s, e in d.segments:
        cur = s
        for hs, he in hits:
            if he <= cur or hs >= e:
                continue
            if hs > cur:
                pieces.append((cur, hs))
            cur = max(cur, he)
        if cur < e:
            pieces.append((cur, e))
    before = d.minutes
    d.segments = pieces
    d.minutes = sum(b - a for a, b in pieces) // 60
    d.find("hours.overlap", before, d.minutes, variant="trim")


@_rule("hours.record_cap", rejects=False, in_force=lambda p: p.record_cap_minutes is not None)
def rule_record_cap(d: Draft) -> None:
    """``hours.record_cap``: at most ``record_cap_minutes`` per record (per activity)."""
    cap = d.policy.record_cap_minutes
    if cap is None or d.minutes <= cap:
        return
    d.find("hours.record_cap", d.minutes, cap)
    d.minutes = cap


@_rule("hours.rounding", rejects=False, in_force=lambda p: p.unit_minutes != 1)
def rule_rounding(d: Draft) -> None:
    """``hours.rounding``: snap counted minutes to the unit."""
    snapped = d.policy.snap(d.minutes)
    if snapped != d.minutes:
        d.find("hours.rounding", d.minutes, snapped, d.policy.unit_minutes)
        d.minutes = snapped


_ORD_1970 = date(1970, 1, 1).toordinal()


@functools.lru_cache(maxsize=65536)
def _day(n: int) -> date:
    """The date ``n`` days after 1970-01-01 (cached: one date object per day, shared)."""
    return date.fromordinal(_ORD_1970 + n)


@functools.lru_cache(maxsize=1 << 15)
def _one_day(n: int, minutes: int) -> tuple[tuple[date, int]]:
    """``minutes`` on day ``n`` as ``day_minutes`` holds them (cached: most records fall on one
    day, and many share their day and their minutes, so they share one tuple)."""
    return ((_day(n), minutes),)


def _split_days(days: Sequence[tuple[int, int]], minutes: int) -> Sequence[tuple[date, int]]:
    """Attribute ``minutes`` to service dates, earliest time first (``days`` as
    :func:`_day_seconds` gives them)."""
    if len(days) == 1:
        return _one_day(days[0][0], minutes) if minutes else ()
    out: list[tuple[date, int]] = []
    done = cum = 0
    for k, (day, seconds) in enumerate(days):
        cum += seconds
        upto = minutes if k == len(days) - 1 else min(minutes, cum // 60)
        if upto > done:
            out.append((_day(day), upto - done))
            done = upto
    return out


def _day_seconds(segments: Sequence[Segment]) -> list[tuple[int, int]]:
    """The seconds of service on each day the segments touch, ``(day number, seconds)`` in day
    order (segments are in local seconds: day ``n`` is ``[n·86400, (n+1)·86400)``)."""
    if len(segments) == 1:
        s, e = segments[0]
        day = s // 86400
        if e <= (day + 1) * 86400:
            return [(day, e - s)]
    per_day: dict[int, int] = {}
    for s, e in segments:
        t = s
        while t < e:
            day = t // 86400
            stop = min(e, (day + 1) * 86400)
            per_day[day] = per_day.get(day, 0) + stop - t
            t = stop
    return sorted(per_day.items())


def _served_days(segments: Sequence[Segment], minutes: int) -> Sequence[tuple[date, int]]:
    """``_split_days(_day_seconds(segments), minutes)``, the one-day case without the table."""
    if len(segments) == 1:
        s, e = segments[0]
        day = s // 86400
        if e <= (day + 1) * 86400:
            return _one_day(day, minutes) if minutes else ()
    return _split_days(_day_seconds(segments), minutes)


def _attribute(
    per_day: Sequence[tuple[int, int]], room: Sequence[int], total: int, minutes: int
) -> Sequence[tuple[date, int]]:
    """Spread ``minutes`` over the days: first each day's share of ``total`` minutes (split as
    :func:`_split_days` splits them, the last day taking the rest) as far as its ``room`` allows,
    earliest first; then what is left (minutes rounding added, or a share a full day could not
    take) on the days with room left, latest first. ``minutes`` must fit in ``sum(room)``."""
    takes: list[int] = []
    left = minutes
    cum = done = 0
    last = len(per_day) - 1
    for k, ((_, sec), r) in enumerate(zip(per_day, room, strict=True)):
        cum += sec
        upto = total if k == last else min(total, cum // 60)
        take = min(upto - done, r, left)
        done = upto
        takes.append(take)
        left -= take
    for k in range(last, -1, -1):
        if not left:
            break
        take = min(room[k] - takes[k], left)
        takes[k] += take
        left -= take
    assert not left, "the minutes fit the room"
    if last == 0:
        return _one_day(per_day[0][0], takes[0]) if takes[0] else ()
    return [(_day(n), m) for (n, _), m in zip(per_day, takes, strict=True) if m]


@_rule("hours.daily_cap", rejects=True)
def rule_daily_cap(d: Draft) -> None:
    """``hours.daily_cap``: at most ``daily_cap_minutes`` per volunteer per day (lower for minors).

    The cap applies to the time served on each day: a day gives at most what the cap leaves of
    it (the cap less the minutes already counted that day). What the days give together, at most
    the record's minutes before rounding (after the record cap), is snapped to the unit as a
    whole, and never to more than the days' room in whole units; if that is less than the
    minutes so far, the record is over the cap (trimmed to it, sent for approval or rejected,
    as ``over_daily_cap`` says). A record across midnight whose first day is full still counts
    its second day's part.

    So more time already counted, on any day or in any segment, never makes a record count more,
    whatever the rounding (with ``over_daily_cap`` ``trim`` or ``approval``; ``reject`` is all or
    nothing, so a shorter remainder that fits is counted where the whole record was not).

    The counted minutes go to the days the service fell on, earliest first, never more on a day
    than was served on it nor more than the cap leaves; minutes that rounding added go to the
    latest day with room.
    """
    pol = d.policy
    cap = pol.daily_cap_minutes
    if d.minor and pol.minor_daily_cap_minutes is not None:
        cap = pol.minor_daily_cap_minutes if cap is None else min(cap, pol.minor_daily_cap_minutes)
    minutes = d.minutes
    if cap is None or not minutes:
        d.days = _served_days(d.segments, minutes)
        return
    per_day = _day_seconds(d.segments)
    used = d.day_used
    room: list[int] = []
    seconds = fit_seconds = room_total = 0
    for n, sec in per_day:  # each day's room (what the cap leaves of it), and what it admits
        r = max(cap - used.get(_day(n), 0), 0) if used else cap
        room.append(r)
        room_total += r
        seconds += sec
        fit_seconds += min(sec, 60 * r)
    served = seconds // 60
    record_cap = pol.record_cap_minutes
    before_rounding = served if record_cap is None else min(served, record_cap)
    fits = fit_seconds // 60
    unit = pol.unit_minutes
    snapped = pol.rounding.snap(min(before_rounding, fits), unit)  # pol.snap, on whole minutes
    can = min(minutes, snapped, room_total // unit * unit)
    if can == minutes:
        d.days = _attribute(per_day, room, max(minutes, served), minutes)
        return
    over = minutes - can
    if pol.over_daily_cap is Overflow.REJECT:
        d.days = _split_days(per_day, minutes)
        d.reject("hours.daily_cap", cap, over, variant="reject")
        return
    if pol.over_daily_cap is Overflow.APPROVAL:
        d.days = _split_days(per_day, minutes)  # every minute counts once approved, split as served
        d.status = Status.NEEDS_APPROVAL
        d.find("hours.daily_cap", cap, over, variant="approval")
        return
    d.days = _attribute(per_day, room, max(minutes, served), can)
    d.minutes = can
    d.find("hours.daily_cap", cap, minutes, can, variant="trim")


RULES: tuple[HourRule, ...] = (
    rule_category,
    rule_span,
    rule_age,
    rule_deadline,
    rule_schedule,
    rule_overlap,
    rule_record_cap,
    rule_rounding,
    rule_daily_cap,
)
"""The default rule chain, in order (:class:`HourRule` values). A local rule is one more callable
appended to a copy."""


HOUR_PROFILES: Profiles[HourPolicy] = Profiles(
    {
        "national": HourPolicy(
            source=Source(
                document="《志愿服务记录与证明出具办法(试行)》",
                issuer="民政部",
                date=date(2020, 12, 2),
                url="http://m.fjcv.org/page179?article_id=1124&pagenum=all",
                verified=True,
                note="民政部令第67号, published 2020-12-02, in force 2021-02-01 (the policy's "
                "effective_from). Arts. 1–4 read in a reprint of 国务院公报; no rounding rule, "
                "daily cap, recording deadline or retention period was found in the national "
                "texts, so none is set (POLICIES.md §2.3, §7). Time actually served, counted in "
                "hours, travel excluded: the 2012 draft of 《志愿服务记录办法》 (新华社 on gov.cn "
                "2012-09-27, https://www.gov.cn/jrzg/2012-09/27/content_2234139.htm).",
            ),
        ),
        "guangdong": HourPolicy(
            name="guangdong",
            effective_from=date(2021, 2, 1),
            daily_cap_minutes=8 * 60,
            over_daily_cap=Overflow.APPROVAL,
            source=Source(
                document="《关于调整志愿服务时长记录规则的通知》",
                issuer="广东省志愿者联合会",
                url="https://www.quxuehao.com/12644399.html",
                region_code="44",
                verified=True,
                note="i志愿, QR sign-in/out: ≤ 8 h a volunteer a day counts at once; 8–12 h "
                "needs the approval of the publishing team's parent organization, > 12 h that of "
                "the provincial authority (one approval step here). Read in a reprint that shows "
                "no signature or date: 广东省志愿者联合会 runs i志愿 and issues its rules (深圳市义工"
                "联合会 2019-09-23, http://www.szguanai.com/content/2019-10/11/content_22529466.htm"
                "). effective_from is the national date, not the notice's.",
            ),
        ),
        "hailin": HourPolicy(
            name="hailin",
            unit_minutes=60,
            rounding=Rounding.DOWN,
            record_cap_minutes=120,
            source=Source(
                document="《社区志愿者积分奖励制度(试行)》",
                issuer="海林市（转载，未注明发文单位 / a reprint naming no issuer）",
                clause="第七条",
                url="http://m.51dongshi.net/eedfrcvreebvs.html",
                region_code="231083",
                verified=True,
                note="Hours in whole hours, at most 2 h per activity (第七条); its 0 h for an "
                "activity that drew a complaint (第八条) is not an hour rule here. Also "
                "https://360docs.net/doc/9918628663.html . Undated: effective_from is the "
                "national date.",
            ),
        ),
        "university": HourPolicy(
            name="university",
            unit_minutes=30,
            rounding=Rounding.DOWN,
            daily_cap_minutes=8 * 60,
            over_daily_cap=Overflow.TRIM,
            deadline_days=30,
            source=Source(
                document="《中国石油大学志愿者服务小时认证流程》",
                issuer="中国石油大学（北京）校青年志愿者协会",
                clause="第3、5条",
                url="https://360docs.net/doc/3a15727857.html",
                verified=True,
                note="Half-hour units, more than 8 h counts as 8 (第5条); certified within a month "
                "of the activity (第3条; papers within a week, 第2条). The text is unsigned; it "
                "names the 校青年志愿者协会 as certifier and uses 中国石油大学(北京)'s form. A "
                "university's rule, not a region's; undated: effective_from is the national date.",
            ),
        ),
        "jindu": HourPolicy(
            name="jindu",
            notice_days=3,
            source=Source(
                document="《招远市志愿服务认证管理流程图》",
                issuer="金都志愿365服务认证管理平台（招远市）",
                url="https://max.book118.com/html/2018/0615/172702049.shtm",
                region_code="370685",
                note="The volunteer applies for certification, the organization's manager may "
                "correct the hours, then the activity is publicly noticed (公示) for three days. "
                "POLICIES.md reports the rule without a source; this copy (uploaded 2018-06-15) "
                "names 招远市. Undated: effective_from is the national date.",
            ),
        ),
    },
    kind=HourPolicy,
    field="HOUR_PROFILES",
)
"""Shipped policy profiles (POLICIES.md §2.6 and "Hours: what local practice adds"); each cites
its source in ``source`` (:class:`~zhiyuan.profiles.Source`):

- ``national``: the national texts (民政部令第67号); no rounding, caps or deadline (a record
  spans at most a day, as every profile's: ``max_span_minutes``).
- ``guangdong``: 广东 i志愿, ≤ 8 h a day counts at once, more needs approval.
- ``hailin``: 海林, whole hours, at most 2 h per activity.
- ``university``: 中国石油大学, half-hour units, > 8 h a day counts as 8, certified within a month.
- ``jindu``: 金都志愿365 (招远), a 3-day public notice (公示) before hours are certified.
"""
