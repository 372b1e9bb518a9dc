"""Matching metrics (网约 成效): fill rate, time to acceptance, distance travelled, workload spread.

Every figure is computed from the need entries (:mod:`zhiyuan.matching.lifecycle`) by folding
them, in integers and exact fractions, and reads itself in Chinese and English:

- **fill rate** (接单率): needs that reached their headcount of acceptances and kept it, over
  needs posted, as a whole percent rounded down (100 % only when every need is filled; ``None``
  when no need was posted, as in the simulation report: 0 % would say that needs went unfilled);
- **time to acceptance** (响应时长): minutes from posting to the first acceptance, per need
  accepted, as the median and the 90th percentile by the nearest-rank method (values that
  occurred; the median of an even count is the lower middle);
- **distance travelled** (服务半径): metres between each need and each candidate holding a place
  in it (needs accepted, in service or done), where both have a GPS point; total and median;
- **workload spread** (任务分布): the Gini coefficient of completed tasks per candidate, in
  thousandths, rounded half up: 0 when everyone did the same, (n − 1)/n × 1000 when one of n did
  everything. Candidates who completed nothing count only when named in ``pool``.

References:
    英德: "100 % taken/dispatched, 98 % satisfaction"; 佳木斯: 96.5 % completion; 宁波 and 杭州上城:
    the 15-minute service circle (POLICIES.md §4.1–4.2). No official definition of these rates
    exists; the ones here are stated in each docstring.

Example:
    >>> gini_thousandths([3, 3, 3]), gini_thousandths([0, 0, 0, 12]), gini_thousandths([])
    (0, 750, 0)
    >>> print(FillRate.of(filled=7, posted=8))
    接单率 87%（8 单中 7 单满员） / fill rate 87% (7 of 8 needs filled)
    >>> FillRate.of(filled=0, posted=0).percent is None
    True
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from fractions import Fraction

import attrs

from zhiyuan._validators import COUNT, bounded, is_a, items, items_of, non_negative
from zhiyuan.errors import InvalidValue
from zhiyuan.explain import finding, register_messages
from zhiyuan.matching.dispatch import distance_m
from zhiyuan.matching.lifecycle import NeedEntry, NeedState, NeedStatus, fold
from zhiyuan.matching.needs import Candidate

__all__ = [
    "AcceptanceTimes",
    "FillRate",
    "MatchingMetrics",
    "Travel",
    "Workload",
    "acceptance_times",
    "fill_rate",
    "gini_thousandths",
    "matching_metrics",
    "nearest_rank",
    "travel",
    "workload",
]

register_messages(
    {
        ("metrics.fill", ""): (
            ("percent", "filled", "posted"),
            "接单率 {percent}%（{posted} 单中 {filled} 单满员）",
            "fill rate {percent}% ({filled} of {posted} needs filled)",
        ),
        ("metrics.fill", "none"): ((), "尚无需求，接单率无从计算", "no needs posted: no fill rate"),
        ("metrics.accept", ""): (
            ("median", "p90", "count"),
            "接单用时中位数 {median} 分钟，90% 在 {p90} 分钟内（{count} 单）",
            "time to acceptance: median {median} min, 90th percentile {p90} min ({count} needs)",
        ),
        ("metrics.accept", "none"): (
            (),
            "尚无接单，无从计算用时",
            "no need accepted yet: no time to acceptance",
        ),
        ("metrics.travel", ""): (
            ("total", "median", "count", "unknown"),
            "接单人距离合计 {total} 米，中位数 {median} 米（{count} 人次有定位，{unknown} 人次无）",
            "distance to the need: {total} m in all, median {median} m ({count} with GPS, "
            "{unknown} without)",
        ),
        ("metrics.travel", "none"): (
            ("unknown",),
            "无定位数据（{unknown} 人次无定位）",
            "no distances known ({unknown} without GPS)",
        ),
        ("metrics.workload", ""): (
            ("gini", "candidates", "tasks"),
            "任务分布基尼系数 {gini}‰（{candidates} 名候选完成 {tasks} 单）",
            "workload Gini {gini}‰ ({tasks} tasks completed over {candidates} candidates)",
        ),
    }
)

_HOLDING = frozenset(
    {
        NeedState.ACCEPTED,
        NeedState.IN_SERVICE,
        NeedState.COMPLETED,
        NeedState.RATED,
        NeedState.REWARDED,
    }
)


def _say(rule: str, values: tuple[int | str, ...] = (), variant: str = "") -> str:
    f = finding(rule, values, variant)
    return f"{f.zh} / {f.en}"


def nearest_rank(values: Iterable[int], percent: int) -> int | None:
    """The ``percent``-th percentile by the nearest-rank method (``None`` for no values).

    Example:
        >>> nearest_rank([15, 20, 35, 40, 50], 30), nearest_rank([1, 2, 3, 4], 50)
        (20, 2)
    """
    if isinstance(percent, bool) or not isinstance(percent, int) or not 0 < percent <= 100:
        raise InvalidValue("percent", percent, "百分位应在 1 到 100 / a percentile is 1 to 100")
    ordered = sorted(_whole_numbers("values", values, low=None))
    if not ordered:
        return None
    rank = -(-percent * len(ordered) // 100)  # ceil(percent/100 × n), at least 1
    return ordered[max(rank, 1) - 1]


def gini_thousandths(values: Iterable[int]) -> int:
    """The Gini coefficient of non-negative integers, in thousandths (rounded half up).

    Computed exactly: ``G = Σᵢ (2i − n − 1)·xᵢ / (n·Σx)`` over the values sorted ascending
    (i from 1), which equals ``Σᵢ Σⱼ |xᵢ − xⱼ| / (2n·Σx)``. No values, or all zero: 0.
    """
    xs = sorted(_whole_numbers("values", values))
    n = len(xs)
    total = sum(xs)
    if n == 0 or total == 0:
        return 0
    g = Fraction(sum((2 * i - n - 1) * x for i, x in enumerate(xs, start=1)), n * total)
    return int((g * 2000 + 1) // 2)


def _whole_numbers(field: str, values: object, *, low: int | None = 0) -> tuple[int, ...]:
    """The items of a collection of ``int`` (not bool), each at least ``low`` (if given)."""
    out = items_of(field, int, values)
    for v in out:
        if isinstance(v, bool):
            raise InvalidValue(field, v, "需要整数 / need int values")
        if low is not None and v < low:
            raise InvalidValue(field, v, "不能为负数 / must not be negative")
    return out


def _minutes(start: datetime, end: datetime) -> int:
    return int((end.astimezone(UTC) - start.astimezone(UTC)).total_seconds()) // 60


# --- results -----------------------------------------------------------------------------------


def _fill_percent(filled: object, posted: object) -> int | None:
    # also the default of ``percent``, computed before the counts are validated: for counts
    # that are not integers it gives None and leaves the refusal to their validators
    if not isinstance(filled, int) or not isinstance(posted, int) or not posted:
        return None
    return filled * 100 // posted


@attrs.frozen(kw_only=True)
class FillRate:
    """Needs filled over needs posted, as a whole percent (rounded down) and the counts.

    ``percent`` is ``None`` when no need was posted (there is no rate, rather than a rate of
    0 %), as ``ScenarioResult.fill_rate_percent`` in the simulation report. Given, it must be
    the one the counts make; left out, it is computed.
    """

    filled: int = attrs.field(validator=bounded(0, COUNT, "needs"))
    posted: int = attrs.field(validator=bounded(0, COUNT, "needs"))
    percent: int | None = attrs.field(
        default=attrs.Factory(lambda self: _fill_percent(self.filled, self.posted), takes_self=True)
    )

    def __attrs_post_init__(self) -> None:
        if self.filled > self.posted:
            raise InvalidValue(
                "filled",
                self.filled,
                f"不能多于发布的 {self.posted} 单 / more than the {self.posted} posted",
            )
        expected = _fill_percent(self.filled, self.posted)
        if self.percent != expected or isinstance(self.percent, bool):
            raise InvalidValue(
                "percent",
                self.percent,
                f"应为 {expected}（{self.posted} 单中 {self.filled} 单） / must be {expected} "
                f"({self.filled} of {self.posted})",
            )

    @classmethod
    def of(cls, *, filled: int, posted: int) -> FillRate:
        """From the counts (``percent`` ``None`` for no needs)."""
        return cls(filled=filled, posted=posted)

    def __str__(self) -> str:
        if self.percent is None:
            return _say("metrics.fill", variant="none")
        return _say("metrics.fill", (self.percent, self.filled, self.posted))


_OPTIONAL_COUNT = attrs.validators.optional(non_negative)


def _minute_list(value: object) -> tuple[int, ...]:
    return _whole_numbers("minutes", value)


def _tasks(value: object) -> tuple[tuple[str, int], ...]:
    """(candidate id, tasks) pairs: a non-empty id and a whole number ≥ 0 each."""
    out = []
    for k, item in enumerate(items("tasks", value)):
        pair = items(f"tasks[{k}]", item)
        if len(pair) != 2 or not isinstance(pair[0], str) or not pair[0].strip():
            raise InvalidValue(
                f"tasks[{k}]",
                item,
                "每项须为 (候选编号, 任务数) / each item is (candidate id, tasks)",
            )
        _whole_numbers(f"tasks[{k}]", pair[1:])
        out.append((pair[0], pair[1]))
    return tuple(out)


@attrs.frozen(kw_only=True)
class AcceptanceTimes:
    """Minutes from posting to the first acceptance: how many needs, median and 90th percentile
    (``None`` for no need accepted), and every need's minutes."""

    count: int = attrs.field(validator=non_negative)
    median_minutes: int | None = attrs.field(validator=_OPTIONAL_COUNT)
    p90_minutes: int | None = attrs.field(validator=_OPTIONAL_COUNT)
    minutes: tuple[int, ...] = attrs.field(default=(), converter=_minute_list)

    def __str__(self) -> str:
        if self.median_minutes is None or self.p90_minutes is None:
            return _say("metrics.accept", variant="none")
        return _say("metrics.accept", (self.median_minutes, self.p90_minutes, self.count))


@attrs.frozen(kw_only=True)
class Travel:
    """Metres from each need to each candidate holding a place in it (both with GPS): how many
    pairs, the total and median metres (``None`` for none known), how many pairs lack GPS."""

    count: int = attrs.field(validator=non_negative)
    total_m: int = attrs.field(validator=non_negative)
    median_m: int | None = attrs.field(validator=_OPTIONAL_COUNT)
    unknown: int = attrs.field(validator=non_negative)

    def __str__(self) -> str:
        if self.median_m is None:
            return _say("metrics.travel", (self.unknown,), "none")
        return _say("metrics.travel", (self.total_m, self.median_m, self.count, self.unknown))


@attrs.frozen(kw_only=True)
class Workload:
    """Completed tasks per candidate and their Gini coefficient in thousandths."""

    tasks: tuple[tuple[str, int], ...] = attrs.field(converter=_tasks)
    gini_thousandths: int = attrs.field(validator=bounded(0, 1000, "thousandths"))

    @property
    def by_candidate(self) -> dict[str, int]:
        """Tasks per candidate id."""
        return dict(self.tasks)

    @property
    def total(self) -> int:
        """Tasks completed in all (a need served by two candidates is two tasks)."""
        return sum(n for _, n in self.tasks)

    def __str__(self) -> str:
        return _say("metrics.workload", (self.gini_thousandths, len(self.tasks), self.total))


@attrs.frozen(kw_only=True)
class MatchingMetrics:
    """The four figures together."""

    fill: FillRate = attrs.field(validator=is_a(FillRate))
    acceptance: AcceptanceTimes = attrs.field(validator=is_a(AcceptanceTimes))
    travel: Travel = attrs.field(validator=is_a(Travel))
    workload: Workload = attrs.field(validator=is_a(Workload))

    def __str__(self) -> str:
        return "\n".join(str(x) for x in (self.fill, self.acceptance, self.travel, self.workload))


# --- computing them ----------------------------------------------------------------------------


def _statuses(
    source: Iterable[NeedEntry] | Mapping[str, NeedStatus], as_of: datetime | None
) -> list[NeedStatus]:
    if isinstance(source, Mapping):
        return list(items_of("entries", NeedStatus, source.values()))
    return list(fold(source, as_of=as_of).values())


def fill_rate(
    entries: Iterable[NeedEntry] | Mapping[str, NeedStatus], *, as_of: datetime | None = None
) -> FillRate:
    """Needs that reached their headcount of acceptances (and kept it) over needs posted.

    A need cancelled after it was filled still counts as filled; one whose candidate withdrew
    and was not replaced does not.
    """
    statuses = _statuses(entries, as_of)
    filled = sum(1 for s in statuses if s.filled_at is not None)
    return FillRate.of(filled=filled, posted=len(statuses))


def acceptance_times(
    entries: Iterable[NeedEntry] | Mapping[str, NeedStatus], *, as_of: datetime | None = None
) -> AcceptanceTimes:
    """Minutes from posting to the first acceptance, over the needs accepted at least once."""
    minutes = sorted(
        _minutes(s.posted_at, s.first_accepted_at)
        for s in _statuses(entries, as_of)
        if s.first_accepted_at is not None
    )
    return AcceptanceTimes(
        count=len(minutes),
        median_minutes=nearest_rank(minutes, 50),
        p90_minutes=nearest_rank(minutes, 90),
        minutes=tuple(minutes),
    )


def _candidates(candidates: Iterable[Candidate] | Mapping[str, Candidate]) -> dict[str, Candidate]:
    if isinstance(candidates, Mapping):
        given = items_of("candidates", Candidate, candidates.values())
        return dict(zip(candidates, given, strict=True))
    return {c.id: c for c in items_of("candidates", Candidate, candidates)}


def travel(
    entries: Iterable[NeedEntry] | Mapping[str, NeedStatus],
    candidates: Iterable[Candidate] | Mapping[str, Candidate],
    *,
    as_of: datetime | None = None,
) -> Travel:
    """Metres from each need to each candidate holding a place in it, where both have GPS.

    Counted for needs accepted, in service or done (not cancelled or unfilled); pairs where the
    need, the candidate, or either location is missing count as ``unknown``.
    """
    by_id = _candidates(candidates)
    known: list[int] = []
    unknown = 0
    for s in _statuses(entries, as_of):
        if s.state not in _HOLDING:
            continue
        for cid in s.accepted:
            cand = by_id.get(cid)
            if s.need.location is None or cand is None or cand.location is None:
                unknown += 1
            else:
                known.append(distance_m(s.need.location, cand.location))
    return Travel(
        count=len(known), total_m=sum(known), median_m=nearest_rank(known, 50), unknown=unknown
    )


def workload(
    entries: Iterable[NeedEntry] | Mapping[str, NeedStatus],
    *,
    pool: Iterable[str] = (),
    as_of: datetime | None = None,
) -> Workload:
    """Completed tasks per candidate (each candidate who served a completed need: one task), and
    their Gini coefficient; ``pool`` names candidates to include with zero tasks."""
    tasks: dict[str, int] = dict.fromkeys(items_of("pool", str, pool), 0)
    for s in _statuses(entries, as_of):
        for cid in s.served:
            tasks[cid] = tasks.get(cid, 0) + 1
    ordered = tuple(sorted(tasks.items()))
    return Workload(tasks=ordered, gini_thousandths=gini_thousandths(tasks.values()))


def matching_metrics(
    entries: Iterable[NeedEntry],
    candidates: Iterable[Candidate] | Mapping[str, Candidate] = (),
    *,
    pool: Iterable[str] = (),
    as_of: datetime | None = None,
) -> MatchingMetrics:
    """All four figures from one fold of the entries."""
    statuses = fold(entries, as_of=as_of)
    return MatchingMetrics(
        fill=fill_rate(statuses),
        acceptance=acceptance_times(statuses),
        travel=travel(statuses, candidates),
        workload=workload(statuses, pool=pool),
    )
