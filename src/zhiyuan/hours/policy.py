"""The hour policy (工时规则): what counts as service time, and how much of a record counts.

An :class:`HourPolicy` is frozen data with the national rules as defaults; every rule is a field,
loadable from JSON/TOML through :mod:`zhiyuan.convert`, with an ``effective_from`` date. Evaluating a
record runs an ordered chain of rules (:data:`~zhiyuan.hours.policy.RULES`); each rule that changes or rejects the record
adds a :class:`Finding` with its rule id, the numbers, and a Chinese and English message, so the
:class:`Outcome` explains itself. Minutes are integers throughout.

The national texts set no rounding, daily cap, recording deadline or per-record cap (POLICIES.md
"National texts"): the default policy leaves them off, and the local profiles in :data:`PROFILES`
switch them on, each citing its source.

References:
    《志愿服务记录办法》(民函〔2012〕340号): service time is time actually served, travel excluded;
    《志愿服务记录与证明出具办法(试行)》(民政部令第67号, in force 2021-02-01); local rules as cited
    on each profile.

Example:
    >>> from datetime import datetime
    >>> from zhiyuan._validators import SHANGHAI
    >>> from zhiyuan.hours import ServiceRecord, Evidence, HourPolicy, PROFILES
    >>> rec = ServiceRecord(id="r1", volunteer_id="v1", activity_id="a", organization_id="o",
    ...     region_code="370602", category="助老", evidence=Evidence.QR_SCAN,
    ...     start=datetime(2025, 3, 1, 9, 0, tzinfo=SHANGHAI),
    ...     end=datetime(2025, 3, 1, 12, 40, tzinfo=SHANGHAI))
    >>> now = datetime(2025, 3, 2, tzinfo=SHANGHAI)
    >>> HourPolicy().evaluate(rec, now=now).counted_minutes
    220
    >>> out = PROFILES["hailin"].evaluate(rec, now=now)
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
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

import attrs

from zhiyuan._validators import (
    DAYS,
    MINUTES,
    SHANGHAI,
    bounded,
    is_date,
    non_empty,
    to_enum,
)
from zhiyuan.errors import InvalidValue
from zhiyuan.explain import MESSAGES, Finding, finding, register_messages
from zhiyuan.hours.records import Evidence, ServiceRecord
from zhiyuan.hours.volunteers import ADULT_AGE, Volunteer

__all__ = [
    "MESSAGES",
    "PROFILES",
    "RULES",
    "Draft",
    "Finding",
    "HourPolicy",
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


class Purpose(enum.Enum):
    """What certified hours are used for; the policy says which evidence counts toward each."""

    STARS = "stars"
    """星级评定: star levels."""
    POINTS = "points"
    """积分: conversion into points or credit."""
    REPORTS = "reports"
    """统计: totals in reports and certificates."""


class Rounding(enum.Enum):
    """How counted minutes snap to the policy's unit (计时单位)."""

    DOWN = "down"
    """Drop the remainder (29 min with a 30-min unit counts 0)."""
    HALF_UP = "half_up"
    """Round to the nearest unit, halves up."""
    UP = "up"
    """Any remainder counts a whole unit."""


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
        return self.status is not Status.REJECTED and self.counted_minutes > 0

    def explain(self) -> str:
        """A readable account: verdict, minutes, and one line per finding."""
        head = (
            f"{self.record_id}: {self.status.value}, {self.served_minutes} min served, "
            f"{self.counted_minutes} counted"
        )
        if self.weighted_minutes != self.counted_minutes:
            head += f" ({self.weighted_minutes} weighted)"
        return "\n".join([head, *(f"  {f}" for f in self.findings)])


def _kinds(value: Any) -> frozenset[Evidence]:
    return frozenset(to_enum("evidence", Evidence, v) for v in value)


def _rounding(value: Any) -> Rounding:
    return to_enum("rounding", Rounding, value)


def _overflow(value: Any) -> Overflow:
    return to_enum("overflow", Overflow, value)


def _overlap(value: Any) -> OverlapRule:
    return to_enum("overlap", OverlapRule, value)


def _strs(value: Any) -> frozenset[str]:
    if isinstance(value, str):
        value = (value,)
    return frozenset(str(v) for v in value)


def _purposes(value: Mapping[Any, Any]) -> dict[Purpose, frozenset[Evidence]]:
    return {to_enum("counts_toward", Purpose, k): _kinds(v) for k, v in value.items()}


def _weights(value: Mapping[Any, Any]) -> dict[str, int]:
    out = {}
    for k, v in value.items():
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 100_000:
            raise InvalidValue(
                f"category_weights.{k}",
                v,
                "权重为 0 到 100000 的整数百分比 / a weight is a whole percent, 0 to 100000",
            )
        out[str(k)] = v
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
        unit_minutes: the counting unit; 1 counts every whole minute (national: hours, stored
            in minutes, no rounding rule).
        rounding: how counted minutes snap to the unit.
        record_cap_minutes: at most this much per record (海林: 120), or ``None``.
        schedule_capped: evidence kinds that never count beyond the scheduled duration (志愿汇:
            a top-up never exceeds the activity's set length); a record with
            ``checkout_missing`` is always capped so.
        daily_cap_minutes: at most this much per volunteer per day, or ``None``; ``over_daily_cap``
            says what happens past it (广东 i志愿: 8 h, more needs approval).
        minor_daily_cap_minutes: a lower daily cap for volunteers under 18, or ``None``.
        min_age: records of volunteers younger than this on the service date are rejected.
        overlap: what happens to time already counted for the same volunteer.
        deadline_days: days after the service date within which a record must be entered, or
            ``None``; ``late`` says what happens past it.
        max_span_minutes: a record longer than this is rejected as implausible, or ``None``.
        excluded_categories: categories that never count (meetings, dinners …).
        category_weights: percent weights by category (150 = 1.5×) for weighted minutes.
        counts_toward: which evidence kinds count toward stars, points and reports.
        notice_days: days of public notice (公示) between certification and certified.
        auto_certify: evidence kinds certified on posting, without a certifier.
    """

    name: str = attrs.field(default="national", validator=non_empty)
    effective_from: date = attrs.field(default=date(2021, 2, 1), validator=is_date)
    unit_minutes: int = attrs.field(default=1, validator=bounded(1, 1440, "minutes"))
    rounding: Rounding = attrs.field(default=Rounding.DOWN, converter=_rounding)
    record_cap_minutes: int | None = attrs.field(
        default=None, validator=bounded(1, MINUTES, "minutes")
    )
    schedule_capped: frozenset[Evidence] = attrs.field(
        default=frozenset({Evidence.ADMIN_TOPUP, Evidence.SELF_REPORT}), converter=_kinds
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
    max_span_minutes: int | None = attrs.field(
        default=None, validator=bounded(1, MINUTES, "minutes")
    )
    excluded_categories: frozenset[str] = attrs.field(factory=frozenset, converter=_strs)
    category_weights: dict[str, int] = attrs.field(factory=dict, converter=_weights)
    counts_toward: dict[Purpose, frozenset[Evidence]] = attrs.field(
        factory=_default_counts, converter=_purposes
    )
    notice_days: int = attrs.field(default=0, validator=bounded(0, DAYS, "days"))
    auto_certify: frozenset[Evidence] = attrs.field(factory=frozenset, converter=_kinds)

    _purpose_of: dict[Evidence, frozenset[Purpose]] = attrs.field(init=False, eq=False, repr=False)
    _rules: tuple[Rule, ...] = attrs.field(init=False, eq=False, repr=False)

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
        table = {
            e: frozenset(p for p, kinds in self.counts_toward.items() if e in kinds)
            for e in Evidence
        }
        object.__setattr__(self, "_purpose_of", table)
        object.__setattr__(self, "_rules", tuple(r for r in RULES if _can_fire(r, self)))

    def purposes(self, evidence: Evidence) -> frozenset[Purpose]:
        """The purposes a record with this evidence counts toward."""
        return self._purpose_of[evidence]

    def weight(self, category: str) -> int:
        """The category's weight in percent (100 when none is set)."""
        return self.category_weights.get(category, 100)

    def snap(self, minutes: int) -> int:
        """Minutes snapped to the unit by the rounding rule."""
        u = self.unit_minutes
        if u == 1:
            return minutes
        if self.rounding is Rounding.DOWN:
            return minutes // u * u
        if self.rounding is Rounding.UP:
            return -(-minutes // u) * u
        q, r = divmod(minutes, u)
        return (q + (2 * r >= u)) * u

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
            InvalidValue: the record ends in the future (``end``), or ``now`` is naive.
        """
        if now.tzinfo is None or now.utcoffset() is None:
            raise InvalidValue("now", now.isoformat(), "缺少时区 / naive datetime")
        if record.end > now:
            raise InvalidValue(
                "end",
                record.end.isoformat(),
                f"记录不能晚于当前时间 {now.isoformat()} / a record cannot end in the future",
            )
        chain = self._rules if rules is None else rules
        return self._evaluate(record, now, volunteer, occupied, day_used or {}, chain)

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
        d = Draft(record, self, now, volunteer, occupied, day_used)
        for rule in rules:
            rule(d)
            if d.status is Status.REJECTED:
                break
        return d.outcome()


class Draft:
    """The working state of one evaluation, which each rule reads and adjusts.

    A rule is a callable taking a draft: it may change ``minutes`` (counted minutes so far),
    ``segments`` (the served intervals, seconds), ``status`` (a :class:`Status`) and ``days``,
    and add findings with :meth:`find` (or :meth:`reject`). ``record``, ``policy``, ``now``,
    ``volunteer``, ``occupied`` and ``day_used`` are the inputs.
    """

    __slots__ = (
        "day_used",
        "days",
        "findings",
        "minor",
        "minutes",
        "now",
        "occupied",
        "policy",
        "record",
        "segments",
        "status",
        "volunteer",
    )

    def __init__(
        self,
        record: ServiceRecord,
        policy: HourPolicy,
        now: datetime,
        volunteer: Volunteer | None,
        occupied: Sequence[Segment],
        day_used: Mapping[date, int],
    ) -> None:
        self.record = record
        self.policy = policy
        self.now = now
        self.volunteer = volunteer
        self.occupied = occupied
        self.day_used = day_used
        s = int((record.start - _EPOCH).total_seconds())
        e = int((record.end - _EPOCH).total_seconds())
        self.segments: Sequence[Segment] = ((s, e),)
        self.minutes = (e - s) // 60
        self.status = Status.ACCEPTED
        self.findings: tuple[Finding, ...] = ()
        self.days: Sequence[tuple[date, int]] = ()
        self.minor = False

    def find(self, rule: str, *values: int | str, variant: str = "") -> None:
        self.findings += (finding(rule, values, variant),)

    def reject(self, rule: str, *values: int | str, variant: str = "") -> None:
        self.find(rule, *values, variant=variant)
        self.status = Status.REJECTED
        self.minutes = 0
        self.segments = ()

    def outcome(self) -> Outcome:
        pol, rec = self.policy, self.record
        counted = self.minutes if self.status is not Status.REJECTED else 0
        weighted = counted * pol.weight(rec.category) // 100
        return Outcome(
            record_id=rec.id,
            status=self.status,
            served_minutes=rec.served_minutes,
            counted_minutes=counted,
            weighted_minutes=weighted,
            segments=tuple(self.segments) if self.status is not Status.REJECTED else (),
            day_minutes=tuple(self.days) if self.status is not Status.REJECTED else (),
            counts_toward=pol.purposes(rec.evidence),
            findings=self.findings,
            minor=self.minor,
        )


Rule = Callable[[Draft], None]
"""A rule: reads and adjusts the draft of one evaluation (minutes, segments, status, findings)."""


def rule_category(d: Draft) -> None:
    """``hours.category``: excluded categories never count."""
    if d.record.category in d.policy.excluded_categories:
        d.reject("hours.category", d.record.category)


def rule_span(d: Draft) -> None:
    """``hours.span``: a record longer than ``max_span_minutes`` is rejected as implausible."""
    cap = d.policy.max_span_minutes
    if cap is not None and d.minutes > cap:
        d.reject("hours.span", d.minutes, cap)


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


def rule_deadline(d: Draft) -> None:
    """``hours.deadline``: a record entered more than ``deadline_days`` after the service date."""
    limit = d.policy.deadline_days
    if limit is None:
        return
    entered = (d.record.recorded_at or d.now).astimezone(SHANGHAI).date()
    end_day = d.record.end.astimezone(SHANGHAI).date()
    late = (entered - end_day).days
    if late <= limit:
        return
    if d.policy.late is Overflow.APPROVAL:
        d.status = Status.NEEDS_APPROVAL
        d.find("hours.deadline", late, limit, variant="approval")
    else:
        d.reject("hours.deadline", late, limit, variant="reject")


def rule_schedule(d: Draft) -> None:
    """``hours.schedule_cap``: top-ups and missed check-outs never exceed the scheduled duration."""
    rec = d.record
    if not (rec.checkout_missing or rec.evidence in d.policy.schedule_capped):
        return
    sched = rec.scheduled_minutes
    if sched is None or d.minutes <= sched:
        return
    s, _ = d.segments[0]
    d.segments = ((s, s + sched * 60),)
    d.find(
        "hours.schedule_cap",
        d.minutes,
        sched,
        variant="checkout" if rec.checkout_missing else "topup",
    )
    d.minutes = sched


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


def rule_record_cap(d: Draft) -> None:
    """``hours.record_cap``: at most ``record_cap_minutes`` per record (per activity)."""
    cap = d.policy.record_cap_minutes
    if cap is None or d.minutes <= cap:
        return
    d.find("hours.record_cap", d.minutes, cap)
    d.minutes = cap


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


def _split_days(segments: Sequence[Segment], minutes: int) -> Sequence[tuple[date, int]]:
    """Attribute ``minutes`` to service dates, earliest time first (segments are in local seconds)."""
    if len(segments) == 1:
        s, e = segments[0]
        day = s // 86400
        if e <= (day + 1) * 86400:
            return ((_day(day), minutes),) if minutes else ()
    per_day: dict[int, int] = {}
    for s, e in segments:
        t = s
        while t < e:
            day = t // 86400
            stop = min(e, (day + 1) * 86400)
            per_day[day] = per_day.get(day, 0) + stop - t
            t = stop
    out: list[tuple[date, int]] = []
    done = cum = 0
    days = sorted(per_day)
    for k, day in enumerate(days):
        cum += per_day[day]
        upto = minutes if k == len(days) - 1 else min(minutes, cum // 60)
        if upto > done:
            out.append((_day(day), upto - done))
            done = upto
    return out


def rule_daily_cap(d: Draft) -> None:
    """``hours.daily_cap``: at most ``daily_cap_minutes`` per volunteer per day (lower for minors).

    The counted minutes go to the days the service fell on, earliest first, but never more on a
    day than was served on it (the last day also takes what rounding up added) nor more than the
    cap leaves room for: a record across midnight whose first day is full still counts its
    second day's part. Only what fits nowhere is over the cap.
    """
    pol = d.policy
    cap = pol.daily_cap_minutes
    if d.minor and pol.minor_daily_cap_minutes is not None:
        cap = pol.minor_daily_cap_minutes if cap is None else min(cap, pol.minor_daily_cap_minutes)
    days = _split_days(d.segments, d.minutes)
    d.days = days
    if cap is None:
        return
    served = sum(e - s for s, e in d.segments) // 60
    room_for = _split_days(d.segments, max(d.minutes, served)) if served > d.minutes else days
    kept: list[tuple[date, int]] = []
    left = d.minutes
    for day, m in room_for:
        take = min(m, max(cap - d.day_used.get(day, 0), 0), left)
        if take:
            kept.append((day, take))
            left -= take
    if not left:
        d.days = kept
        return
    if pol.over_daily_cap is Overflow.REJECT:
        d.reject("hours.daily_cap", cap, left, variant="reject")
        return
    if pol.over_daily_cap is Overflow.APPROVAL:
        d.status = Status.NEEDS_APPROVAL
        d.find("hours.daily_cap", cap, left, variant="approval")
        return
    total = d.minutes - left
    drop = total - total // pol.unit_minutes * pol.unit_minutes
    for k in range(len(kept) - 1, -1, -1):  # give back a sub-unit remainder from the last day
        if not drop:
            break
        day, m = kept[k]
        take = min(m, drop)
        kept[k] = (day, m - take)
        drop -= take
    before = d.minutes
    d.days = [(day, m) for day, m in kept if m]
    d.minutes = sum(m for _, m in d.days)
    d.find("hours.daily_cap", cap, before, d.minutes, variant="trim")


def _can_fire(rule: Rule, p: HourPolicy) -> bool:
    """False for a default rule that the policy switches off (so it is not run at all)."""
    off: dict[Rule, bool] = {
        rule_category: not p.excluded_categories,
        rule_span: p.max_span_minutes is None,
        rule_deadline: p.deadline_days is None,
        rule_record_cap: p.record_cap_minutes is None,
        rule_rounding: p.unit_minutes == 1,
    }
    return not off.get(rule, False)


RULES: tuple[Rule, ...] = (
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
"""The default rule chain, in order. A local rule is one more callable appended to a copy."""


PROFILES: dict[str, HourPolicy] = {
    "national": HourPolicy(),
    "guangdong": HourPolicy(
        name="guangdong",
        effective_from=date(2021, 2, 1),
        daily_cap_minutes=8 * 60,
        over_daily_cap=Overflow.APPROVAL,
    ),
    "hailin": HourPolicy(
        name="hailin",
        unit_minutes=60,
        rounding=Rounding.DOWN,
        record_cap_minutes=120,
    ),
    "university": HourPolicy(
        name="university",
        unit_minutes=30,
        rounding=Rounding.DOWN,
        daily_cap_minutes=8 * 60,
        over_daily_cap=Overflow.TRIM,
        deadline_days=30,
    ),
    "jindu": HourPolicy(name="jindu", notice_days=3),
}
"""Shipped policy profiles (POLICIES.md §2.6 and "Hours: what local practice adds"):

- ``national``: the national texts; no rounding, caps or deadline.
- ``guangdong``: 广东 i志愿, ≤ 8 h a day counts at once, more needs approval
  (《关于调整志愿服务时长记录规则的通知》).
- ``hailin``: 海林, whole hours, at most 2 h per activity.
- ``university``: 中国石油大学, half-hour units, > 8 h a day counts as 8, certified within a month.
- ``jindu``: 金都志愿365, a 3-day public notice (公示) before hours are certified.
"""
