"""Batch assignment (批量派单): fill many needs' slots from many candidates, at the least cost.

The problem
-----------
Needs ``i = 0 … n−1`` each ask for ``headcounts[i] ≥ 1`` people (名额); candidates
``j = 0 … m−1`` each take at most ``capacities[j] ≥ 1`` tasks. The *allowed pairs* are those that
passed the hard gates (skills, availability, distance, …); each carries an integer cost, lower is
better (for instance the total of :class:`~zhiyuan.matching.ScoreParts`). A pair that is not given
is forbidden. A candidate serves a need at most once.

An assignment picks allowed pairs so that need ``i`` gets at most ``headcounts[i]`` of them and
candidate ``j`` at most ``capacities[j]``. The objective is **lexicographic**:

1. fill as many slots as possible (派满优先; with priorities, the slots of each priority in turn,
   highest first: see "Priorities");
2. among the assignments that fill that many, take one of least total cost.

So a cheaper assignment never leaves a slot empty that another assignment fills. Slots that no
assignment can fill (too few allowed candidates, or their capacity is taken by other needs) stay
unfilled and are reported per need, with a finding that says which of the two it is; nothing
raises unless ``fill="all_or_error"`` is asked for.

Time windows (时段冲突)
-----------------------
Capacity says how many tasks a candidate may hold, not that it can be in two places at once. A
problem given ``starts`` and ``ends`` (one window ``[start, end)`` per need) adds the rule the
dispatcher's gates and :class:`~zhiyuan.matching.NeedBook` keep one need at a time: **no
candidate gets two needs whose windows overlap** (``s₁ < e₂`` and ``s₂ < e₁``; windows that only
touch do not overlap). Every method keeps it, and the objective is the same, now over the
assignments that keep it. Without windows the model knows no clock, as before.

The rule is not a capacity: for one candidate it says "at most one need at each moment", which
is what makes the problem hard in general (fixed-interval scheduling with eligibility, NP-hard:
Arkin and Silverberg, 1987). It is kept exactly, in three steps:

1. *Rounds.* Solve without the rule; if some candidate got overlapping needs, put them into an
   **exclusive group** of that candidate (at most one need of a group goes to it) and solve
   again. Groups are kept only while each is a *clique*, windows that all share a moment: then
   "at most one of them" is implied by the windows, so each round is a relaxation of the true
   problem (its result is a bound), tighter than the last. The first round without overlaps is
   optimal. When the needs of one time slot are batched together, or the slots are apart, every
   clash is of this kind and rounds suffice. A group of one candidate is a gadget of the solver
   (scipy: a column for the group's needs and a row that takes it or one of the candidate's
   units; python: a node of capacity 1 between the needs and the candidate).
2. *Branch and bound.* When every clash would join windows that form a chain (9–10, 9:30–11,
   10:30–12: the candidate can serve the first and the last, not the middle with either), the
   search branches on the need ``a`` of the chain that overlaps most of it: either the candidate
   does not serve ``a``, or it serves none of its needs that overlap ``a``. Every assignment that
   keeps the rule is in one branch, and each branch is solved by rounds again. A branch whose
   bound does not beat the best assignment found is dropped; the first incumbent is the greedy
   assignment (below), repaired. So when the search ends, a slot is empty only if no
   assignment within the windows fills it.
3. *A budget.* The search stops after 64 solves (``_BRANCH_SOLVES``). Small batches, and
   batches of one time slot, end well within it with a proven optimum. If it runs out, the best
   assignment found is returned after a repair that fills any slot a one-step move can (a
   candidate with room and no clash takes it, or its clashing needs move to other free
   candidates), and :attr:`~zhiyuan.matching.Assignment.note` says that it keeps the windows
   but is not proven optimal. It never breaks the rule.

Dropping one of two clashing pairs after the fact would have been simpler, but it leaves a slot
empty that another candidate could fill, and it depends on which pair is dropped. ``greedy``
skips a pair whose candidate already holds an overlapping need (it never breaks the rule, and
never beats ``exact``). The pruning lemma below still holds with windows: a candidate blocked
for ``i`` because it holds an overlapping need is charged to that pair, as one at capacity is.

Priorities (紧急优先)
---------------------
A problem given ``priorities`` (one integer ≥ 0 per need, higher first;
:func:`~zhiyuan.matching.dispatch_batch` and :func:`~zhiyuan.matching.call_up` give each need's
:attr:`Urgency.rank <zhiyuan.matching.Urgency.rank>`) serves them **lexicographically**: first
as many slots of the highest priority as possible, then of the next, …, and then the least cost.
An urgent slot is never left empty to fill a less urgent one that the same candidate could
serve. :attr:`~zhiyuan.matching.Assignment.tiers` says how many slots of each priority were
filled. Equal priorities, or none, change nothing.

Without time windows this costs no slot. The slots that can be filled together, counted per
need, are the flows of a network (source → needs → candidates → sink), an integral polymatroid;
the greedy that raises the highest priorities first ends at one of its bases, and every base has
the maximal size. So the assignment that serves priorities first also fills the most slots. The
same holds with windows when overlapping is transitive (time slots that are either the same or
apart: "one need per slot and candidate" is then again a capacity in the network). Only with
chains of overlapping windows (9–11, 10–12, 11–13) is the problem no flow; the priorities then
still come first, and an urgent slot may take the candidate that could have served two others.

Each method keeps the rule:

* ``greedy`` takes the pairs by (−priority, cost, need, candidate).
* The **scipy** backend prices each slot row's private "unfilled" column at its need's price
  (``slot_penalties`` in :mod:`~zhiyuan.matching.assignment.problem`): the lowest priority's is
  ``S·wmax + 1`` (as without priorities), each higher one's that plus every lower slot at its
  price, so one more slot filled at a priority outweighs emptying every slot below it and any
  cost difference. The prices grow with the number of priorities present (only those present
  count): several in one large batch can leave float64's exact range, and the exact method then
  falls back to the python backend with a note that says so.
* The **python** backend adds to each pair's cost the difference between the highest price and
  its need's: a flow of maximal size then pays least when it serves the priorities first, and
  since the assignment that does is a maximal flow (above), the least-cost maximal flow is it.
  Costs stay exact integers of any size.
* The search over **time windows** compares assignments by the slots filled at each priority,
  then the cost (``objective`` in :mod:`~zhiyuan.matching.assignment.problem`), and its repair fills
  the needs of higher priority first.

The pruning below stays exact: the replacement in its proof keeps every need's filled slots.

Methods and backends
--------------------
``solve(problem, method="exact")`` finds an optimal assignment:

* **scipy** backend (``pip install 'zhiyuan[solver]'``): the pairs are pruned (below), needs are
  expanded into one row per slot and candidates into one column per usable capacity unit, and
  :func:`scipy.sparse.csgraph.min_weight_full_bipartite_matching` (LAPJVsp) solves the sparse
  assignment. If not every row can be matched (checked first with Hopcroft–Karp,
  :func:`~scipy.sparse.csgraph.maximum_bipartite_matching`), each slot row gets a private
  "unfilled" column whose penalty exceeds any possible cost difference, which yields the
  lexicographic objective. Expansion alone would let a need of several slots take two capacity
  units of the same candidate; the solver therefore solves this relaxation first and, for each
  pair it used twice, inserts an exact two-node gadget (slot rows → ``a`` ← ``b`` → the
  candidate's columns: ``b`` takes ``a`` when the pair is unused) and solves again. Each round is
  a relaxation of the true problem that is tighter than the last, so the first round whose answer
  uses no pair twice is optimal; at most one round per pair is needed. To keep the rounds on the
  whole graph few (usually one), the gadgets are first looked for on each need's few cheapest
  pairs, where rounds are cheap; any set of gadgets gives a valid relaxation, so this heuristic
  changes only the speed. With one slot per need or one unit per candidate there is nothing to
  repair and a single solve suffices. Weights travel as float64, exact for integers; costs so
  wide that the sums could leave the 2⁵² range fall back to the integer backend
  (``backend="auto"``) with a note saying so.
* **python** backend (no dependencies, always available): min-cost flow by successive shortest
  paths, Dijkstra with node potentials (reduced costs stay non-negative; each search stops at the
  first free candidate and only touched nodes are updated). Exact in integers, but pure Python:
  fine for hundreds of needs, slow for thousands with thousands of candidates each.

``solve(problem, method="greedy")`` takes the cheapest pairs first (ties by need, then candidate
index) while the need has a slot and the candidate capacity left: deterministic, fast, never
better than exact (it may fill fewer slots, or the same at a higher cost).

:attr:`~zhiyuan.matching.Assignment.backend` says which backend ran and :attr:`~zhiyuan.matching.Assignment.note` why.

Pruning (why K = total headcount is exact)
------------------------------------------
Let ``H = Σ headcounts`` and let ``T_i`` be need ``i``'s ``min(d_i, H)`` cheapest allowed
candidates, ties by lower candidate index (``d_i`` = its number of allowed pairs).

*Lemma.* Some lexicographically optimal assignment uses only pairs ``(i, j)`` with ``j ∈ T_i``.

*Proof.* Let ``A`` be any feasible assignment and ``(i, j) ∈ A`` with ``j ∉ T_i``; then
``d_i > H`` and ``|T_i| = H``. Call ``j' ∈ T_i`` *blocked* if ``i`` already has ``j'`` in ``A``
or ``j'`` is at capacity in ``A``. Charge each blocked ``j'`` to one pair of ``A``: to
``(i, j')`` itself, or else (``j'`` is full and ``i`` does not have it) to some ``(i', j') ∈ A``
with ``i' ≠ i``. Charged pairs have distinct candidates ``j' ≠ j``, so they are distinct and
none is ``(i, j)``; ``A`` has at most ``H`` pairs, so at most ``H − 1`` members of ``T_i`` are
blocked and some ``j' ∈ T_i`` is free. Replacing ``(i, j)`` by ``(i, j')`` keeps ``A`` feasible
(``j'`` has room, ``i`` did not have it, ``j`` only loses load), fills the same number of slots,
and does not raise the cost, because every member of ``T_i`` costs at most what any non-member
costs. Each replacement removes one pair outside the lists; repeating from an optimal ``A``
ends at an optimal assignment inside them. ∎

Greedy is unchanged by the same pruning: when it reaches ``(i, j)`` with ``j ∉ T_i``, every
``(i, j')`` with ``j' ∈ T_i`` came earlier (cheaper, or as cheap with a lower index) and was
accepted by ``i`` or met ``j'`` full; if ``i`` still had a slot, the same charging would find
``H`` distinct accepted pairs among at most ``H − 1`` — so ``i`` is full and ``(i, j)`` is
rejected anyway. :meth:`AssignmentProblem.from_dense <zhiyuan.matching.AssignmentProblem.from_dense>` keeps only these lists, so a dense cost
matrix (every pair allowed) is never held whole.

Example:
    >>> p = AssignmentProblem.from_lists(
    ...     headcounts=[2, 1],
    ...     capacities=[1, 1, 2],
    ...     options=[[(0, 5), (1, 3), (2, 9)], [(1, 1), (2, 4)]],
    ... )
    >>> a = solve(p)
    >>> [(x.need, x.candidate, x.cost) for x in a.pairs], a.total_cost, a.filled
    ([(0, 0, 5), (0, 1, 3), (1, 2, 4)], 12, 3)
    >>> g = solve(p, method="greedy")  # takes (1, 1) at cost 1 first, then pays for it
    >>> [(x.need, x.candidate) for x in g.pairs], g.total_cost
    ([(0, 0), (0, 2), (1, 1)], 15)
    >>> print(solve(AssignmentProblem.from_lists(headcounts=[2], capacities=[1],
    ...                                          options=[[(0, 7)]])).explain())
    已派 1/2 个名额，总成本 7 / filled 1 of 2 slots, total cost 7 (exact)
      [assignment.unfilled] 需求 0：仅 1 名可派候选，2 个名额中 1 个未派 / need 0: only 1 allowed candidate(s) for 2 slot(s); 1 unfilled
"""

from __future__ import annotations

from typing import Literal, TypeAlias

from zhiyuan.errors import InvalidValue
from zhiyuan.matching.assignment.exact import Backend, exact_pairs
from zhiyuan.matching.assignment.greedy import greedy_pairs
from zhiyuan.matching.assignment.lap import scipy_available
from zhiyuan.matching.assignment.problem import AssignmentProblem
from zhiyuan.matching.assignment.problem import IntArrayLike as IntArrayLike
from zhiyuan.matching.assignment.result import AssignedPair, Assignment, Method, assignment_of

__all__ = [
    "AssignedPair",
    "Assignment",
    "AssignmentProblem",
    "Backend",
    "Fill",
    "Method",
    "scipy_available",
    "solve",
]


Fill: TypeAlias = Literal["max", "all_or_error"]
"""``"max"`` fills what can be filled; ``"all_or_error"`` raises unless every slot is filled."""


def solve(
    problem: AssignmentProblem,
    *,
    method: Method = "exact",
    backend: Backend = "auto",
    fill: Fill = "max",
) -> Assignment:
    """Assign candidates to the needs' slots: most slots filled first, then least total cost.

    Args:
        problem: the needs, candidates and allowed pairs.
        method: ``"exact"`` (optimal for the lexicographic objective) or ``"greedy"``.
        backend: for ``"exact"``: ``"auto"`` (scipy if installed and the costs fit in exact
            float64 arithmetic, else pure Python), ``"scipy"`` or ``"python"``. Greedy always
            runs in Python.
        fill: ``"max"`` returns the best assignment even if slots stay empty;
            ``"all_or_error"`` raises unless the method fills every slot (exact: unless every
            slot *can* be filled).

    Raises:
        InvalidValue: an unknown option; ``backend="scipy"`` without scipy installed or with
            costs too wide for it; with ``fill="all_or_error"``, not every slot can be filled
            (the error's ``value`` is the best :class:`Assignment`).
    """
    if not isinstance(problem, AssignmentProblem):
        raise InvalidValue(
            "problem", problem, "需要派单问题 AssignmentProblem / need an AssignmentProblem"
        )
    if method not in ("exact", "greedy"):
        raise InvalidValue("method", method, "须为 exact 或 greedy / must be exact or greedy")
    if backend not in ("auto", "scipy", "python"):
        raise InvalidValue("backend", backend, "须为 auto、scipy 或 python / unknown backend")
    if fill not in ("max", "all_or_error"):
        raise InvalidValue("fill", fill, "须为 max 或 all_or_error / must be max or all_or_error")
    note = ""
    ran: Literal["scipy", "python"] = "python"
    if method == "greedy":
        chosen = greedy_pairs(problem)
    else:
        chosen, ran, note = exact_pairs(problem, backend)
    result = assignment_of(problem, chosen, method, ran, note)
    if fill == "all_or_error" and result.filled < result.slots:
        raise InvalidValue(
            "fill",
            result,
            f"只能派满 {result.filled}/{result.slots} 个名额 / only {result.filled} of "
            f"{result.slots} slots can be filled",
            shown=f"{result.filled}/{result.slots}",
        )
    return result
