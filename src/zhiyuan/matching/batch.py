"""Batch dispatch (批量派单): many needs to many candidates at once, optimal or greedy.

:func:`~zhiyuan.matching.dispatch_batch` gates and scores every need's candidates with a
:class:`~zhiyuan.matching.Dispatcher` (the same three layers and 就近 escalation as one need at a
time, but going up the ladder until each need has twice as many eligible candidates as slots,
since the needs of a batch compete for the nearest ones), then assigns them all together with :func:`~zhiyuan.matching.solve_assignment`: the
most slots filled (needs with ``headcount`` > 1, candidates with ``capacity`` > 1, never the same
candidate twice on one need), then the least total cost. Each chosen pair keeps its score parts.
Capacity counts what the candidate can still take (capacity less current load and bookings).

Limitation: the assignment model knows capacities, not clocks. Two needs *of the same batch*
whose windows overlap can go to one candidate with capacity ≥ 2; batch needs of one time slot
together (or book the chosen pairs and re-run for the next slot). Existing bookings are
respected through the gates.

Example:
    >>> from datetime import datetime
    >>> from zhiyuan._validators import SHANGHAI
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
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from zhiyuan.matching.assignment import AssignmentProblem, Method, solve
from zhiyuan.matching.dispatch import Dispatcher, ScoreParts
from zhiyuan.matching.needs import Need

__all__ = ["BatchPair", "BatchResult", "dispatch_batch"]


@attrs.frozen(kw_only=True)
class BatchPair:
    """One chosen (need, candidate) pair with its cost and score parts."""

    need_id: str
    candidate_id: str
    cost: int
    parts: ScoreParts


@attrs.frozen(kw_only=True)
class BatchResult:
    """The pairs chosen for a batch, the total cost, and the needs left short (need id → slots)."""

    pairs: tuple[BatchPair, ...]
    total_cost: int
    unfilled: dict[str, int]
    method: str
    backend: str

    def explain(self) -> str:
        """One line per pair with its score parts, then the needs left short."""
        lines = [f"{p.need_id} ← {p.candidate_id}: {p.parts}" for p in self.pairs]
        lines += [f"{nid}: 还差 {k} 人 / {k} short" for nid, k in sorted(self.unfilled.items())]
        return "\n".join(lines)


def dispatch_batch(
    dispatcher: Dispatcher, needs: Sequence[Need], *, method: Method = "exact"
) -> BatchResult:
    """Assign ``needs`` to the dispatcher's candidates in one go (``"exact"`` or ``"greedy"``)."""
    cand_index: dict[str, int] = {}
    capacities: list[int] = []
    options: list[list[tuple[int, int]]] = []
    parts: dict[tuple[int, int], ScoreParts] = {}
    for i, need in enumerate(needs):
        row: list[tuple[int, int]] = []
        # a batch competes for the nearest candidates: look up the ladder until there are
        # twice as many eligible candidates as slots (or the ladder ends)
        for cand, sp in dispatcher.candidates_for(need, at_least=2 * need.headcount):
            j = cand_index.get(cand.id)
            if j is None:
                j = cand_index[cand.id] = len(capacities)
                held = len(dispatcher._bookings.get(cand.id, ()))
                capacities.append(max(cand.capacity - max(cand.load, held), 1))
            row.append((j, sp.total))
            parts[(i, j)] = sp
        options.append(row)
    if not capacities:
        capacities = [1]
    problem = AssignmentProblem.from_lists(
        headcounts=[n.headcount for n in needs], capacities=capacities, options=options
    )
    result = solve(problem, method=method)
    ids = {j: cid for cid, j in cand_index.items()}
    pairs = tuple(
        BatchPair(
            need_id=needs[p.need].id,
            candidate_id=ids[p.candidate],
            cost=p.cost,
            parts=parts[(p.need, p.candidate)],
        )
        for p in result.pairs
    )
    unfilled = {needs[i].id: int(k) for i, k in enumerate(result.unfilled) if k}
    return BatchResult(
        pairs=pairs,
        total_cost=result.total_cost,
        unfilled=unfilled,
        method=result.method,
        backend=result.backend,
    )
