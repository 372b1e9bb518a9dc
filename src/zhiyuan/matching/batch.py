"""Batch dispatch (批量派单): many needs to many candidates at once, optimal or greedy.

:func:`~zhiyuan.matching.dispatch_batch` gates and scores every need's candidates with a
:class:`~zhiyuan.matching.Dispatcher` (the same three layers and 就近 escalation as one need at a
time, but going up the ladder until each need has twice as many eligible candidates as slots,
since the needs of a batch compete for the nearest ones), then assigns them all together with :func:`~zhiyuan.matching.solve_assignment`: the
most slots filled (needs with ``headcount`` > 1, candidates with ``capacity`` > 1, never the same
candidate twice on one need), then the least total cost. Each chosen pair keeps its score parts, and the level of the ladder at which the need's search
reaches the candidate. Capacity counts what the candidate can still take (capacity less current
load and bookings).

Urgency first (紧急优先): the places of more urgent needs are filled first, lexicographically
(:class:`~zhiyuan.matching.Urgency`, passed to the assignment as priorities: package docs of
:mod:`zhiyuan.matching.assignment`, "Priorities"). An emergency place is never left empty to fill
a normal one that one eligible candidate could serve; among the assignments that serve every
urgency as well, the most places are filled, then the least cost. The result says how many
places of each urgency were filled (:attr:`BatchResult.tiers <zhiyuan.matching.BatchResult.tiers>`).

A batch looks only as far up the ladder as twice each need's headcount, to keep the nearest
candidates for the nearest needs; a place can then stay empty while an eligible candidate farther
up stays idle. A call-up (紧急召集, :func:`~zhiyuan.matching.call_up`) fills every place that can
be filled.

No double booking (同一时段不重复派单): the gates keep a candidate away from a need that overlaps
one of its *existing* bookings, but the needs of one batch are booked only after it, so the batch
must keep them apart itself: a candidate of capacity 2 must not be given two needs of the batch
whose windows overlap, any more than :class:`~zhiyuan.matching.NeedBook` or
:meth:`~zhiyuan.matching.Dispatcher.gate` would accept the second one. The rule is kept where the
choice is made, in the assignment model: each need's window goes into the
:class:`~zhiyuan.matching.AssignmentProblem` (``starts`` and ``ends``, in microseconds since the
epoch, so that overlap means exactly what the gate means: ``[start, end)`` intervals that
intersect), and no solution of any method gives a candidate two overlapping needs. Each pair
chosen therefore passes :meth:`~zhiyuan.matching.Dispatcher.gate` once the other pairs are
booked. Rather than dropping one of two clashing pairs (which would leave a slot empty that
another candidate could fill), the exact method searches for the best assignment that respects
the windows: still the most slots first, then the least cost (see
:mod:`zhiyuan.matching.assignment`, "Time windows", for how, and for the rare case where it
settles for a very good answer it cannot prove best, which its ``note`` then says).

Example:
    >>> from datetime import datetime
    >>> from zhiyuan import SHANGHAI
    >>> from zhiyuan.hierarchy import load_default
    >>> from zhiyuan.matching import Candidate, Dispatcher, Need
    >>> t = lambda h: datetime(2025, 5, 1, h, tzinfo=SHANGHAI)
    >>> d = Dispatcher(load_default(), [
    ...     Candidate(id="a", home_region="370214001001", skills=["助老"], capacity=2),
    ...     Candidate(id="b", home_region="370214001002", skills=["助老"])])
    >>> needs = [Need(id=f"n{i}", requester="r", region_code="370214001001", category="帮老",
    ...               skills={"助老"}, start=t(9 + 2 * i), end=t(10 + 2 * i), posted_at=t(7))
    ...          for i in range(3)]
    >>> result = dispatch_batch(d, needs)   # ``a`` takes two needs, ``b`` (one street away) the third
    >>> result.total_cost   # 3 × rating 20 + one street up the tree 100
    160
    >>> sorted((p.need_id, p.candidate_id) for p in result.pairs), result.unfilled
    ([('n0', 'b'), ('n1', 'a'), ('n2', 'a')], {})

    Two needs at the same hour cannot both go to ``a``, although its capacity is 2:

    >>> same = [Need(id=f"m{i}", requester="r", region_code="370214001001", category="帮老",
    ...              skills={"助老"}, start=t(9), end=t(11), posted_at=t(7)) for i in range(2)]
    >>> sorted((p.need_id, p.candidate_id) for p in dispatch_batch(d, same).pairs)
    [('m0', 'a'), ('m1', 'b')]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs

from zhiyuan._validators import is_a, items_of, non_empty, non_negative, to_enum
from zhiyuan.errors import InvalidValue
from zhiyuan.explain import finding, register_messages
from zhiyuan.hierarchy.codes import Level
from zhiyuan.matching.assignment import Assignment, AssignmentProblem, Backend, Method, solve
from zhiyuan.matching.dispatch import Dispatcher, ScoreParts
from zhiyuan.matching.needs import Candidate, Need, Urgency

__all__ = ["BatchPair", "BatchResult", "UrgencyTier", "assign", "dispatch_batch", "urgency_tiers"]

register_messages(
    {
        ("batch.tier", ""): (
            ("urgency_zh", "filled", "places", "urgency"),
            "{urgency_zh}：已派 {filled}/{places} 个名额",
            "{urgency}: {filled} of {places} places filled",
        ),
    }
)


def _level(value: object) -> Level | None:
    return None if value is None else to_enum("level", Level, value)


@attrs.frozen(kw_only=True)
class BatchPair:
    """One chosen (need, candidate) pair with its cost (a whole number ≥ 0) and score parts, and
    the level of the ladder at which the need's search reaches the candidate (``None`` when not
    known)."""

    need_id: str = attrs.field(validator=non_empty)
    candidate_id: str = attrs.field(validator=non_empty)
    cost: int = attrs.field(validator=non_negative)
    parts: ScoreParts = attrs.field(validator=is_a(ScoreParts))
    level: Level | None = attrs.field(default=None, converter=_level)


def _urgency(value: object) -> Urgency:
    return to_enum("urgency", Urgency, value)


@attrs.frozen(kw_only=True)
class UrgencyTier:
    """The places of one urgency in a batch or call-up, and how many were filled.

    Example:
        >>> print(UrgencyTier(urgency=Urgency.EMERGENCY, places=12, filled=12))
        紧急：已派 12/12 个名额 / emergency: 12 of 12 places filled
    """

    urgency: Urgency = attrs.field(converter=_urgency)
    places: int = attrs.field(validator=non_negative)
    filled: int = attrs.field(validator=non_negative)

    def __attrs_post_init__(self) -> None:
        if self.filled > self.places:
            raise InvalidValue(
                "filled", self.filled, f"不能多于名额 {self.places} / more than the places"
            )

    def __str__(self) -> str:
        u = self.urgency
        f = finding("batch.tier", (u.zh, self.filled, self.places, u.value))
        return f"{f.zh} / {f.en}"


def _urgency_tiers(value: Any) -> tuple[UrgencyTier, ...]:
    return items_of("tiers", UrgencyTier, value)


def urgency_tiers(
    needs: Sequence[Need], places: Sequence[int], pairs: Sequence[BatchPair]
) -> tuple[UrgencyTier, ...]:
    """The places of each urgency among ``needs`` (``places[i]`` for ``needs[i]``) and how many
    ``pairs`` fill, most urgent first."""
    want: dict[Urgency, int] = {}
    got: dict[Urgency, int] = {}
    of = {n.id: n.urgency for n in needs}
    for n, k in zip(needs, places, strict=True):
        want[n.urgency] = want.get(n.urgency, 0) + k
    for p in pairs:
        got[of[p.need_id]] = got.get(of[p.need_id], 0) + 1
    return tuple(
        UrgencyTier(urgency=u, places=want[u], filled=got.get(u, 0))
        for u in sorted(want, key=lambda u: -u.rank)
    )


def _batch_pairs(value: Any) -> tuple[BatchPair, ...]:
    return items_of("pairs", BatchPair, value)


def _unfilled(value: object) -> dict[str, int]:
    if not isinstance(value, dict):
        raise InvalidValue(
            "unfilled", value, "需要映射：需求编号 → 人数 / need a mapping of need id to slots"
        )
    for k, v in value.items():
        if not isinstance(k, str) or not k.strip():
            raise InvalidValue("unfilled", k, "需求编号须为非空文本 / a need id is non-empty text")
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise InvalidValue(
                f"unfilled.{k}", v, "缺额为正整数 / the slots short are a whole number ≥ 1"
            )
    return value


@attrs.frozen(kw_only=True)
class BatchResult:
    """The pairs chosen for a batch, the total cost, the needs left short (need id → slots),
    and the places of each urgency filled (most urgent first)."""

    pairs: tuple[BatchPair, ...] = attrs.field(converter=_batch_pairs)
    total_cost: int = attrs.field(validator=non_negative)
    unfilled: dict[str, int] = attrs.field(converter=_unfilled)
    method: str = attrs.field(validator=non_empty)
    backend: str = attrs.field(validator=non_empty)
    tiers: tuple[UrgencyTier, ...] = attrs.field(default=(), converter=_urgency_tiers)

    def explain(self) -> str:
        """The places filled by urgency, one line per pair with its score parts, then the needs
        left short."""
        lines = [str(t) for t in self.tiers]
        lines += [f"{p.need_id} ← {p.candidate_id}: {p.parts}" for p in self.pairs]
        lines += [f"{nid}: 还差 {k} 人 / {k} short" for nid, k in sorted(self.unfilled.items())]
        return "\n".join(lines)


def _batch_needs(
    dispatcher: object, needs: object, where_zh: str, where_en: str
) -> tuple[Need, ...]:
    """The needs of one batch or call-up, checked: a :class:`Dispatcher` to rank them, and
    :class:`Need` values with distinct ids (``where_zh``/``where_en`` name the batch in the
    message)."""
    if not isinstance(dispatcher, Dispatcher):
        raise InvalidValue("dispatcher", dispatcher, "需要派单器 Dispatcher / need a Dispatcher")
    out = items_of("needs", Need, needs)
    seen: set[str] = set()
    for n in out:
        if n.id in seen:
            raise InvalidValue(
                "needs", n.id, f"{where_zh}需求编号重复 / a need id twice {where_en}".rstrip()
            )
        seen.add(n.id)
    return out


def dispatch_batch(
    dispatcher: Dispatcher, needs: Sequence[Need], *, method: Method = "exact"
) -> BatchResult:
    """Assign ``needs`` to the dispatcher's candidates in one go (``"exact"`` or ``"greedy"``).

    No candidate gets two needs whose windows overlap (module docs). ``needs`` must have
    distinct ids; nothing is booked (book the chosen pairs with :meth:`Dispatcher.book
    <zhiyuan.matching.Dispatcher.book>` or through a :class:`~zhiyuan.matching.NeedBook`).
    """
    needs = _batch_needs(dispatcher, needs, "同一批中", "in one batch")
    if method not in ("exact", "greedy"):
        raise InvalidValue("method", method, "须为 exact 或 greedy / must be exact or greedy")
    # a batch competes for the nearest candidates: look up the ladder until there are twice
    # as many eligible candidates as slots (or the ladder ends)
    pools = [dispatcher.candidates_for(n, at_least=2 * n.headcount) for n in needs]
    heads = [n.headcount for n in needs]
    result, pairs = assign(dispatcher, needs, heads, pools, method=method)
    unfilled = {needs[i].id: int(k) for i, k in enumerate(result.unfilled) if k}
    return BatchResult(
        pairs=pairs,
        total_cost=result.total_cost,
        unfilled=unfilled,
        method=result.method,
        backend=result.backend,
        tiers=urgency_tiers(needs, heads, pairs),
    )


def assign(
    dispatcher: Dispatcher,
    needs: Sequence[Need],
    heads: Sequence[int],
    pools: Sequence[Sequence[tuple[Candidate, ScoreParts]]],
    *,
    method: Method = "exact",
    backend: Backend = "auto",
    weight: Callable[[int, Candidate, ScoreParts], int] | None = None,
) -> tuple[Assignment, tuple[BatchPair, ...]]:
    """Assign ``needs`` (``heads[i]`` places each, ≥ 1) to the eligible candidates of their
    ``pools`` in one problem, with their windows and their urgency as priorities; each pair
    weighs ``weight(i, candidate, parts)`` in the solve (default: its cost, and then the
    assignment's ``total_cost`` is theirs), and keeps its cost and parts in the result.
    Returns the assignment and the chosen pairs (shared by
    :func:`dispatch_batch` and :func:`~zhiyuan.matching.call_up`)."""
    cand_index: dict[str, int] = {}
    capacities: list[int] = []
    options: list[list[tuple[int, int]]] = []
    chosen: dict[tuple[int, int], tuple[Candidate, ScoreParts]] = {}
    for i, pool in enumerate(pools):
        row: list[tuple[int, int]] = []
        for cand, sp in pool:
            j = cand_index.get(cand.id)
            if j is None:
                j = cand_index[cand.id] = len(capacities)
                held = dispatcher.held(cand.id)
                capacities.append(max(cand.capacity - max(cand.load, held), 1))
            row.append((j, sp.total if weight is None else weight(i, cand, sp)))
            chosen[(i, j)] = (cand, sp)
        options.append(row)
    if not capacities:
        capacities = [1]
    urgent = len({n.urgency for n in needs}) > 1
    problem = AssignmentProblem.from_lists(
        headcounts=heads,
        capacities=capacities,
        options=options,
        starts=[_micros(n.start) for n in needs],
        ends=[_micros(n.end) for n in needs],
        priorities=[n.urgency.rank for n in needs] if urgent else None,
    )
    result = solve(problem, method=method, backend=backend)
    pairs = []
    for p in result.pairs:
        cand, sp = chosen[(p.need, p.candidate)]
        need = needs[p.need]
        pairs.append(
            BatchPair(
                need_id=need.id,
                candidate_id=cand.id,
                cost=sp.total,
                parts=sp,
                level=dispatcher.level_of(need, cand),
            )
        )
    return result, tuple(pairs)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _micros(moment: datetime) -> int:
    """Microseconds since the epoch: exact integers that order and overlap as the moments do."""
    return (moment - _EPOCH) // _MICROSECOND
