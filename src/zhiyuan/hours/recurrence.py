"""Recurring duty (常态化志愿服务): a weekly shift, 交通文明引导 all year, as data.

A :class:`Recurrence` is an RFC 5545 RRULE line plus an aware start, compiled with
:func:`dateutil.rrule.rrulestr` on demand. ``dateutil``'s own ``rrule`` is not a value: it has no
equality, its text drops the time zone, and ``rrulestr`` gives naive datetimes (STYLE.md §2.4).
Here the rule text and the start are the value, so a recurrence compares, hashes and round-trips
through :mod:`zhiyuan.convert` (JSON and TOML) like any other.

Rules are read in Asia/Shanghai wall time: "every Saturday 08:00" stays 08:00 local. The start is
kept in Asia/Shanghai and every datetime returned is aware, in Asia/Shanghai.

A :class:`Duty` is a standing assignment (固定岗): an activity at a place, on a recurrence, for a
roster of volunteers. :func:`expected_shifts` lists who should serve when, and :func:`attendance`
checks the shifts against service records (签到记录) and reports no-shows (缺勤).

Example:
    >>> from datetime import datetime
    >>> from zhiyuan import SHANGHAI
    >>> sat = Recurrence(rule="FREQ=WEEKLY;BYDAY=SA",
    ...                  dtstart=datetime(2026, 1, 3, 8, 0, tzinfo=SHANGHAI))
    >>> [d.isoformat() for d in sat.between(datetime(2026, 1, 1, tzinfo=SHANGHAI),
    ...                                     datetime(2026, 1, 17, tzinfo=SHANGHAI))]
    ['2026-01-03T08:00:00+08:00', '2026-01-10T08:00:00+08:00']
    >>> duty = Duty(id="d1", name="交通文明引导", organization_id="o1",
    ...             region_code="370602001", activity_id="a-traffic", recurrence=sat,
    ...             duration_minutes=120, volunteer_ids={"v1", "v2"})
    >>> [(s.volunteer_id, f"{s.start:%m-%d %H:%M}–{s.end:%H:%M}") for s in expected_shifts(
    ...     duty, datetime(2026, 1, 1, tzinfo=SHANGHAI), datetime(2026, 1, 10, tzinfo=SHANGHAI))]
    [('v1', '01-03 08:00–10:00'), ('v2', '01-03 08:00–10:00')]
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
from dateutil.rrule import rrule, rrulestr

from zhiyuan._validators import (
    SHANGHAI,
    aware,
    items_of,
    non_empty,
    non_negative,
    positive,
    to_shanghai,
)
from zhiyuan.errors import InvalidValue
from zhiyuan.hierarchy.codes import normalize_code
from zhiyuan.hours.records import ServiceRecord

__all__ = ["AttendanceReport", "Duty", "Recurrence", "Shift", "attendance", "expected_shifts"]

_UNTIL_LOCAL = re.compile(r"([0-9]{8})(?:T([0-9]{6}))?")
_UNTIL_UTC = re.compile(r"([0-9]{8})T([0-9]{6})Z")
_DIGITS = re.compile(r"[0-9]+")


def _bad(rule: object, why: str) -> InvalidValue:
    return InvalidValue("rule", rule, f"不是有效的重复规则 / not a valid RRULE: {why}")


def _until(rule: str, value: str) -> datetime:
    """An UNTIL value as naive Asia/Shanghai wall time; a date alone means through that day."""
    try:
        m = _UNTIL_UTC.fullmatch(value)
        if m is not None:
            utc = datetime.strptime(m[1] + m[2], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
            return utc.astimezone(SHANGHAI).replace(tzinfo=None)
        m = _UNTIL_LOCAL.fullmatch(value)
        if m is not None:
            # naive on purpose: the compiled rule works in Asia/Shanghai wall time
            return datetime.strptime(m[1] + (m[2] or "235959"), "%Y%m%d%H%M%S")  # noqa: DTZ007
    except (ValueError, OverflowError):
        raise _bad(rule, f"UNTIL={value} is not a real date and time") from None
    raise _bad(
        rule,
        f"UNTIL={value}: write YYYYMMDD, YYYYMMDDTHHMMSS (Asia/Shanghai) or YYYYMMDDTHHMMSSZ (UTC)",
    )


_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # February in a leap year
_SIGNED = re.compile(r"[+-]?[0-9]+")


def _check_month_days(rule: str, parts: dict[str, str]) -> None:
    """Refuse BYMONTH/BYMONTHDAY pairs that name no real day (February 30th).

    dateutil would search such a rule up to the year 9999, which takes seconds.
    """
    if "BYMONTHDAY" not in parts:
        return
    days = parts["BYMONTHDAY"].split(",")
    months = parts["BYMONTH"].split(",") if "BYMONTH" in parts else [str(m) for m in range(1, 13)]
    if not all(_SIGNED.fullmatch(x) for x in days + months):
        return  # dateutil names the bad value
    lengths = [_MONTH_DAYS[int(m) - 1] for m in months if 1 <= int(m) <= 12]
    if lengths and not any(0 < abs(int(d)) <= n for d in days for n in lengths):
        raise _bad(rule, "BYMONTHDAY names no day of the BYMONTH months: it never occurs")


@functools.lru_cache(maxsize=1024)
def _parse(rule: str) -> str:
    """Check a rule's text; return the text for ``rrulestr`` (raises :class:`InvalidValue`)."""
    if "\n" in rule or "\r" in rule:
        raise _bad(
            rule,
            "one RRULE line only: DTSTART comes from `dtstart`, and EXDATE/RDATE are not supported",
        )
    body = rule.strip()
    if body[:6].upper() == "RRULE:":
        body = body[6:]
    if not body.strip():
        raise _bad(rule, "empty rule")
    parts: dict[str, str] = {}
    for part in body.split(";"):
        name, sep, value = part.partition("=")
        name, value = name.strip().upper(), value.strip().upper()
        if not sep or not name or not value:
            raise _bad(rule, f"{part!r} is not NAME=VALUE")
        if name in parts:
            raise _bad(rule, f"{name} is given twice")
        if name == "DTSTART":
            raise _bad(rule, "DTSTART comes from `dtstart`, not from the rule")
        parts[name] = value
    if "FREQ" not in parts:
        raise _bad(rule, "FREQ is required")
    for name in ("COUNT", "INTERVAL"):
        if name in parts and not (_DIGITS.fullmatch(parts[name]) and int(parts[name]) > 0):
            raise _bad(rule, f"{name} must be a whole number of at least 1")
    if "COUNT" in parts and "UNTIL" in parts:
        raise _bad(rule, "COUNT and UNTIL exclude each other (RFC 5545)")
    _check_month_days(rule, parts)
    until = _until(rule, parts["UNTIL"]) if "UNTIL" in parts else None
    if until is not None:
        u = until
        parts["UNTIL"] = f"{u.year:04}{u.month:02}{u.day:02}T{u.hour:02}{u.minute:02}{u.second:02}"
    return ";".join(f"{k}={v}" for k, v in parts.items())


@functools.lru_cache(maxsize=1024)
def _compile(rule: str, dtstart: datetime) -> rrule:
    """The dateutil rule for a checked rule and a naive wall-time start (cached; never mutated)."""
    try:
        compiled = rrulestr(_parse(rule), dtstart=dtstart)
    except (ValueError, TypeError, KeyError, OverflowError) as exc:
        raise _bad(rule, str(exc)) from None
    if not isinstance(compiled, rrule):  # pragma: no cover - one line never makes a set
        raise _bad(rule, "a rule set is not supported")
    if compiled.after(dtstart, inc=True) is None:
        raise _bad(rule, "it never occurs on or after dtstart")
    return compiled


def _check_rule(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str):
        raise InvalidValue(attribute.name, value, "规则须为文本 / a rule is RRULE text")
    _parse(value)


def _whole_seconds(_: object, attribute: attrs.Attribute[Any], value: datetime) -> None:
    if value.microsecond:
        raise InvalidValue(
            attribute.name,
            value.isoformat(),
            "重复规则精确到秒 / a recurrence starts on a whole second",
        )


def _wall(value: datetime) -> datetime:
    """Asia/Shanghai wall time, naive (what the compiled rule works in)."""
    return value.astimezone(SHANGHAI).replace(tzinfo=None)


def _aware(name: str, value: object) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise InvalidValue(
            name, value, "需要带时区的时间 / need a timezone-aware datetime", shown=repr(str(value))
        )
    return value


@attrs.frozen(kw_only=True)
class Recurrence:
    """A recurring slot: one RFC 5545 RRULE line plus an aware first occurrence.

    ``rule`` is the RRULE body (``FREQ=WEEKLY;BYDAY=SA``; an ``RRULE:`` prefix and lower case
    are accepted and kept as written). It is checked at construction: ``FREQ`` is required,
    ``COUNT`` and ``INTERVAL`` are at least 1, ``COUNT`` and ``UNTIL`` exclude each other, and
    DTSTART, EXDATE and RDATE are not allowed (the start is ``dtstart``). ``UNTIL`` is inclusive
    and is read as Asia/Shanghai wall time (``20261231T180000``), as UTC when it ends in ``Z``,
    and as the whole of that day when it is a date alone (``20261231``). Any other form is
    refused: dateutil would fill missing parts from today's date. A rule that never occurs on or
    after ``dtstart`` is refused too (``UNTIL`` before the start; ``BYMONTH=2;BYMONTHDAY=30`` is
    caught at once, rarer impossible combinations only after dateutil has searched up to the
    year 9999, which can take seconds).

    ``dtstart`` must be aware and on a whole second (RRULE has no fractions); it is kept in
    Asia/Shanghai, and fixes the time of day and, for rules without BYDAY and the like, the
    weekday or day of month.

    Example:
        >>> from datetime import datetime
        >>> from zhiyuan import SHANGHAI
        >>> r = Recurrence(rule="FREQ=DAILY;INTERVAL=2;UNTIL=20260107",
        ...                dtstart=datetime(2026, 1, 1, 7, 30, tzinfo=SHANGHAI))
        >>> [f"{d:%m-%d %H:%M}" for d in r.between(datetime(2026, 1, 1, tzinfo=SHANGHAI),
        ...                                        datetime(2026, 2, 1, tzinfo=SHANGHAI))]
        ['01-01 07:30', '01-03 07:30', '01-05 07:30', '01-07 07:30']
        >>> Recurrence(rule="FREQ=WEEKLY;BYDAY=XX", dtstart=r.dtstart)
        Traceback (most recent call last):
        ...
        zhiyuan.errors.InvalidValue: rule: 'FREQ=WEEKLY;BYDAY=XX': 不是有效的重复规则 / not a valid RRULE: invalid 'BYDAY': XX
    """

    rule: str = attrs.field(validator=_check_rule)
    dtstart: datetime = attrs.field(converter=to_shanghai, validator=[aware, _whole_seconds])

    def __attrs_post_init__(self) -> None:
        self._compiled()

    def _compiled(self) -> rrule:
        return _compile(self.rule, _wall(self.dtstart))

    def between(self, start: datetime, end: datetime) -> list[datetime]:
        """Occurrences ``t`` with ``start <= t < end``, aware, in Asia/Shanghai, in order.

        Raises:
            InvalidValue: ``start`` or ``end`` is naive, or ``end`` is before ``start``.
        """
        a = _wall(_aware("start", start))
        b = _wall(_aware("end", end))
        if b < a:
            raise InvalidValue(
                "end", end.isoformat(), "结束不能早于开始 / end must not be before start"
            )
        found = self._compiled().between(a, b, inc=True)
        return [t.replace(tzinfo=SHANGHAI) for t in found if t < b]


def _ids(value: Any) -> frozenset[str]:
    if isinstance(value, str):
        value = (value,)
    try:
        items = frozenset(value)
    except TypeError:
        raise InvalidValue(
            "volunteer_ids", value, "需要编号集合 / need a set of volunteer ids"
        ) from None
    for v in items:
        if not isinstance(v, str) or not v.strip():
            raise InvalidValue(
                "volunteer_ids", v, "志愿者编号须为非空文本 / an id is a non-empty string"
            )
    return items


def _region(value: Any) -> str:
    return normalize_code(value, field="region_code")


def _recurrence(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, Recurrence):
        raise InvalidValue(
            attribute.name, type(value).__name__, "需要 Recurrence / need a Recurrence"
        )


@attrs.frozen(kw_only=True)
class Duty:
    """A standing duty (固定岗): who serves which activity, where, and when it recurs.

    Attributes:
        id: the duty's id.
        name: what people call it (交通文明引导).
        organization_id: the organization that runs it.
        region_code: where it takes place (any form of region code).
        activity_id: the activity that service records of this duty carry.
        recurrence: when shifts start.
        duration_minutes: the length of one shift.
        volunteer_ids: the roster; each volunteer is expected at every shift.
        tolerance_minutes: how far before the start or after the end a record may lie and still
            count as attendance (late sign-in, early sign-out).
    """

    id: str = attrs.field(validator=non_empty)
    name: str = attrs.field(validator=non_empty)
    organization_id: str = attrs.field(validator=non_empty)
    region_code: str = attrs.field(converter=_region)
    activity_id: str = attrs.field(validator=non_empty)
    recurrence: Recurrence = attrs.field(validator=_recurrence)
    duration_minutes: int = attrs.field(validator=positive)
    volunteer_ids: frozenset[str] = attrs.field(factory=frozenset, converter=_ids)
    tolerance_minutes: int = attrs.field(default=15, validator=non_negative)


@attrs.frozen(kw_only=True)
class Shift:
    """One volunteer's turn at a duty: from ``start`` to ``end`` (aware, in Asia/Shanghai)."""

    volunteer_id: str = attrs.field(validator=non_empty)
    start: datetime = attrs.field(converter=to_shanghai, validator=aware)
    end: datetime = attrs.field(converter=to_shanghai, validator=aware)

    def __attrs_post_init__(self) -> None:
        if self.end <= self.start:
            raise InvalidValue(
                "end", self.end.isoformat(), "结束须晚于开始 / end must be after start"
            )

    def __str__(self) -> str:
        return f"{self.volunteer_id} {self.start:%Y-%m-%d %H:%M}–{self.end:%H:%M}"


def _plus(t: datetime, minutes: int) -> datetime:
    """``t`` moved by ``minutes`` of elapsed time (on instants), in Asia/Shanghai."""
    return (t.astimezone(UTC) + timedelta(minutes=minutes)).astimezone(SHANGHAI)


def expected_shifts(duty: Duty, start: datetime, end: datetime) -> list[Shift]:
    """Every shift of the duty that starts in ``[start, end)``: one per occurrence and volunteer.

    Ordered by start, then volunteer id. A shift that starts before ``end`` may end after it.

    Raises:
        InvalidValue: ``start`` or ``end`` is naive, or ``end`` is before ``start``.
    """
    roster = sorted(duty.volunteer_ids)
    return [
        Shift(volunteer_id=v, start=t, end=_plus(t, duty.duration_minutes))
        for t in duty.recurrence.between(start, end)
        for v in roster
    ]


def _expected(value: object) -> tuple[Shift, ...]:
    return items_of("expected", Shift, value)


def _attended(value: object) -> tuple[Shift, ...]:
    return items_of("attended", Shift, value)


def _no_shows(value: object) -> tuple[Shift, ...]:
    return items_of("no_shows", Shift, value)


@attrs.frozen(kw_only=True)
class AttendanceReport:
    """Shifts expected in a period, which were attended, and the no-shows (缺勤).

    Attributes:
        duty_id: the duty.
        duty_name: its name.
        start: the period's start (inclusive).
        end: the period's end (exclusive).
        expected: every shift that started in the period, by start then volunteer.
        attended: the shifts with a matching service record.
        no_shows: the shifts without one.
    """

    duty_id: str
    duty_name: str
    start: datetime = attrs.field(converter=to_shanghai, validator=aware)
    end: datetime = attrs.field(converter=to_shanghai, validator=aware)
    expected: tuple[Shift, ...] = attrs.field(converter=_expected)
    attended: tuple[Shift, ...] = attrs.field(converter=_attended)
    no_shows: tuple[Shift, ...] = attrs.field(converter=_no_shows)

    @property
    def rate_percent(self) -> int | None:
        """Attended shifts as a whole percent of expected ones, rounded down (so 100 means
        every shift was attended); ``None`` when no shift was expected."""
        if not self.expected:
            return None
        return len(self.attended) * 100 // len(self.expected)

    def __str__(self) -> str:
        period = f"{self.start:%Y-%m-%d %H:%M} – {self.end:%Y-%m-%d %H:%M}"
        rate = self.rate_percent
        zh_rate = "—" if rate is None else f"{rate}%"
        en_rate = "n/a" if rate is None else f"{rate}%"
        n, k, m = len(self.expected), len(self.attended), len(self.no_shows)
        lines = [
            f"{self.duty_name}（{self.duty_id}）{period}：应到 {n} 人次，实到 {k}，"
            f"缺勤 {m}，出勤率 {zh_rate}",
            f"duty {self.duty_id}, {period}: {n} shifts expected, {k} attended, "
            f"{m} no-shows, attendance {en_rate}",
        ]
        lines += [f"  缺勤 / no-show: {s}" for s in self.no_shows]
        return "\n".join(lines)


def attendance(
    duty: Duty, records: Iterable[ServiceRecord], start: datetime, end: datetime
) -> AttendanceReport:
    """Check the duty's shifts in ``[start, end)`` against service records.

    A shift is attended if its volunteer has a record for the duty's ``activity_id`` that
    overlaps the shift widened by ``tolerance_minutes`` on both sides (records that only touch
    the widened window do not count). One record may attend several shifts. Every record given
    counts: pass the ones you trust (for instance, leave out records the ledger shows as
    rejected or reversed).

    Example:
        >>> from datetime import datetime
        >>> from zhiyuan import SHANGHAI
        >>> from zhiyuan.hours import Evidence, ServiceRecord
        >>> t = lambda d, h, m=0: datetime(2026, 1, d, h, m, tzinfo=SHANGHAI)
        >>> duty = Duty(id="d1", name="交通文明引导", organization_id="o1",
        ...     region_code="370602001", activity_id="a-traffic", duration_minutes=120,
        ...     recurrence=Recurrence(rule="FREQ=WEEKLY;BYDAY=SA", dtstart=t(3, 8)),
        ...     volunteer_ids={"v1", "v2"})
        >>> rec = ServiceRecord(id="r1", volunteer_id="v1", activity_id="a-traffic",
        ...     organization_id="o1", region_code="370602001001", category="文明引导",
        ...     evidence=Evidence.QR_SCAN, start=t(3, 8, 10), end=t(3, 10, 5))
        >>> report = attendance(duty, [rec], t(1, 0), t(8, 0))
        >>> print(report)
        交通文明引导（d1）2026-01-01 00:00 – 2026-01-08 00:00：应到 2 人次，实到 1，缺勤 1，出勤率 50%
        duty d1, 2026-01-01 00:00 – 2026-01-08 00:00: 2 shifts expected, 1 attended, 1 no-shows, attendance 50%
          缺勤 / no-show: v2 2026-01-03 08:00–10:00
    """
    shifts = expected_shifts(duty, start, end)
    spans: dict[str, list[tuple[datetime, datetime]]] = {}
    for r in records:
        if r.activity_id == duty.activity_id and r.volunteer_id in duty.volunteer_ids:
            spans.setdefault(r.volunteer_id, []).append((r.start, r.end))
    index: dict[str, tuple[list[datetime], list[datetime]]] = {}
    for vid, pairs in spans.items():
        pairs.sort()
        reach: list[datetime] = []
        for _, e in pairs:
            reach.append(e if not reach or e > reach[-1] else reach[-1])
        index[vid] = ([s for s, _ in pairs], reach)
    attended: list[Shift] = []
    missed: list[Shift] = []
    tol = duty.tolerance_minutes
    for shift in shifts:
        lo, hi = _plus(shift.start, -tol), _plus(shift.end, tol)
        starts, reach = index.get(shift.volunteer_id, ([], []))
        i = bisect.bisect_left(starts, hi)  # records starting before the window closes
        (attended if i and reach[i - 1] > lo else missed).append(shift)
    return AttendanceReport(
        duty_id=duty.id,
        duty_name=duty.name,
        start=_aware("start", start),
        end=_aware("end", end),
        expected=shifts,
        attended=attended,
        no_shows=missed,
    )
