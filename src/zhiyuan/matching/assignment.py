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

1. fill as many slots as possible (派满优先);
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

import bisect
import functools
import heapq
import importlib.util
import itertools
import operator
import sys
from array import array
from collections.abc import Callable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING, Any, Literal, Protocol, SupportsIndex, TypeAlias, cast

import attrs

from zhiyuan import convert
from zhiyuan._validators import items, items_of, non_negative
from zhiyuan.errors import InvalidValue
from zhiyuan.explain import Finding, finding, register_messages
from zhiyuan.matching._checks import any_text, integer

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    _I64: TypeAlias = NDArray[np.int64]

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

Method: TypeAlias = Literal["exact", "greedy"]
"""``"exact"`` (lexicographically optimal) or ``"greedy"`` (cheapest pairs first)."""
Backend: TypeAlias = Literal["auto", "scipy", "python"]
"""Which exact solver to use; ``"auto"`` takes scipy when it is installed and the costs fit."""
Fill: TypeAlias = Literal["max", "all_or_error"]
"""``"max"`` fills what can be filled; ``"all_or_error"`` raises unless every slot is filled."""

IntArrayLike: TypeAlias = "Iterable[SupportsIndex] | NDArray[Any]"
"""Integers as a list, tuple, range, :class:`array.array` or a numpy integer array."""

register_messages(
    {
        ("assignment.unfilled", "few_allowed"): (
            ("need", "unfilled", "headcount", "allowed"),
            "需求 {need}：仅 {allowed} 名可派候选，{headcount} 个名额中 {unfilled} 个未派",
            "need {need}: only {allowed} allowed candidate(s) for {headcount} slot(s); "
            "{unfilled} unfilled",
        ),
        ("assignment.unfilled", "taken"): (
            ("need", "unfilled", "headcount", "allowed"),
            "需求 {need}：{headcount} 个名额中 {unfilled} 个未派，"
            "{allowed} 名可派候选已满额或派给了其他需求",
            "need {need}: {unfilled} of {headcount} slot(s) unfilled; its {allowed} allowed "
            "candidate(s) are at capacity or serve other needs",
        ),
    }
)

_NUMPY_MIN_PAIRS = 4096
"""Below this many pairs, checking and sorting in pure Python is as fast as numpy."""

_FLOAT_SAFE = 2**52
"""The scipy backend requires 4 × (rows + 1) × the largest weight below this, so that the
matching's sums and LAPJVsp's dual prices (integers, in float64) stay far inside 2⁵³."""


@functools.cache
def _module_available(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def _has_numpy() -> bool:
    return _module_available("numpy")


def scipy_available() -> bool:
    """Whether the scipy backend can run (numpy and scipy installed: the ``solver`` extra)."""
    return _module_available("numpy") and _module_available("scipy")


# ---------------------------------------------------------------------------------------------
# Input conversion: every integer vector is stored as native int64 bytes (immutable, compact,
# hashable, and viewable without a copy both as a memoryview and as a numpy array).


def _int64_bytes(value: IntArrayLike, field: str) -> bytes:
    if "numpy" in sys.modules:
        import numpy as np

        if isinstance(value, np.ndarray):
            return _numpy_int64_bytes(value, field)
    if isinstance(value, memoryview) and value.format == "q" and value.ndim == 1:
        return value.tobytes()  # our own views, handed back by the named constructors
    if isinstance(value, array) and value.typecode == "q":
        return value.tobytes()
    out = array("q")
    for k, v in enumerate(_vector(field, value)):
        if type(v) is not int:
            v = _int64(f"{field}[{k}]", v)
        try:
            out.append(v)
        except OverflowError:
            raise InvalidValue(f"{field}[{k}]", v, _INT64) from None
    return out.tobytes()


_INT64 = "超出 64 位整数范围 / must fit in a signed 64-bit integer"


def _vector(field: str, value: object) -> list[Any]:
    """The items of an ordered sequence of integers: a list, tuple, range, array or iterator;
    text, bytes, a mapping or a set is refused (their items are characters, bytes, keys or in
    no order), and so is anything not iterable."""
    if isinstance(value, (str, bytes, bytearray, Mapping, AbstractSet)) or not isinstance(
        value, Iterable
    ):
        raise InvalidValue(field, value, "需要整数序列 / must be a sequence of integers")
    return list(value)


def _int64(field: str, v: object) -> int:
    """An integer (a Python or numpy integer, not a bool) that fits in a signed 64-bit integer."""
    if isinstance(v, bool) or not hasattr(type(v), "__index__"):
        raise InvalidValue(field, v, "需要整数 / must be an integer")
    out = operator.index(cast(SupportsIndex, v))  # it has __index__: checked above
    if not -(2**63) <= out < 2**63:
        raise InvalidValue(field, out, _INT64)
    return out


def _numpy_int64_bytes(value: NDArray[Any], field: str) -> bytes:
    import numpy as np

    if value.ndim != 1:
        raise InvalidValue(field, value.shape, "需要一维数组 / must be one-dimensional")
    if value.dtype.kind not in "iu":
        raise InvalidValue(field, str(value.dtype), "需要整数 / must be an integer array")
    if value.dtype.kind == "u" and value.dtype.itemsize == 8 and value.size:
        big = np.flatnonzero(value > np.uint64(2**63 - 1))
        if big.size:
            k = int(big[0])
            raise InvalidValue(
                f"{field}[{k}]",
                int(value[k]),
                "超出 64 位整数范围 / must fit in a signed 64-bit integer",
            )
    return np.ascontiguousarray(value, dtype=np.int64).tobytes()


def _conv_headcounts(value: IntArrayLike) -> bytes:
    return _int64_bytes(value, "headcounts")


def _conv_capacities(value: IntArrayLike) -> bytes:
    return _int64_bytes(value, "capacities")


def _conv_needs(value: IntArrayLike) -> bytes:
    return _int64_bytes(value, "needs")


def _conv_candidates(value: IntArrayLike) -> bytes:
    return _int64_bytes(value, "candidates")


def _conv_costs(value: IntArrayLike) -> bytes:
    return _int64_bytes(value, "costs")


def _conv_starts(value: IntArrayLike | None) -> bytes:
    return b"" if value is None else _int64_bytes(value, "starts")


def _conv_ends(value: IntArrayLike | None) -> bytes:
    return b"" if value is None else _int64_bytes(value, "ends")


def _view(raw: bytes) -> memoryview:
    return memoryview(raw).cast("q")


# ---------------------------------------------------------------------------------------------
# The problem


@attrs.frozen(kw_only=True)
class AssignmentProblem:
    """A batch of needs, candidates and allowed pairs with their costs (批量派单问题).

    Build it from parallel integer sequences (``needs[k]``, ``candidates[k]``, ``costs[k]`` is
    the ``k``-th allowed pair), from per-need lists with :meth:`from_lists`, or from a dense
    cost matrix, pruned as it is read, with :meth:`from_dense`. Numpy integer arrays are taken
    as they are (vectorised checks); lists and tuples work without numpy.

    The pairs are kept sorted by (need, candidate), so two problems with the same pairs in
    another order are equal. Every vector is stored as immutable int64 bytes; the properties
    give read-only :class:`memoryview` views (``numpy.asarray`` takes them without a copy).

    Args:
        headcounts: slots per need, each ≥ 1 (名额).
        capacities: tasks per candidate, each ≥ 1.
        needs: the need of each allowed pair, ``0 ≤ need < len(headcounts)``.
        candidates: the candidate of each allowed pair, ``0 ≤ candidate < len(capacities)``.
        costs: the cost of each allowed pair (any int64; lower is better).
        starts, ends: optional, one per need: its time window ``[start, end)`` in any integer
            unit (:func:`~zhiyuan.matching.dispatch_batch` gives microseconds since the epoch).
            With them, no solution gives one candidate two needs whose windows overlap
            (module docs, "Time windows"); without them the model knows no clock.

    Raises:
        InvalidValue: a non-integer, a headcount or capacity below 1, an index out of range,
            sequences of different lengths, the same (need, candidate) pair twice, windows for
            some needs only, or a window that does not end after it starts.

    Example:
        >>> p = AssignmentProblem(headcounts=[1, 2], capacities=[1, 1],
        ...                       needs=[1, 0, 1], candidates=[1, 0, 0], costs=[4, 2, 3])
        >>> p, p.options(1)
        (AssignmentProblem(needs=2, candidates=2, pairs=3, slots=3), [(0, 3), (1, 4)])
        >>> AssignmentProblem(headcounts=[1], capacities=[1], needs=[0, 0],
        ...                   candidates=[0, 0], costs=[1, 2])
        Traceback (most recent call last):
        ...
        zhiyuan.errors.InvalidValue: candidates: (0, 0): 同一需求与候选只能给出一次 / each (need, candidate) pair may be given once
    """

    _headcounts: bytes = attrs.field(converter=_conv_headcounts, repr=False)
    _capacities: bytes = attrs.field(converter=_conv_capacities, repr=False)
    _needs: bytes = attrs.field(converter=_conv_needs, repr=False)
    _candidates: bytes = attrs.field(converter=_conv_candidates, repr=False)
    _costs: bytes = attrs.field(converter=_conv_costs, repr=False)
    _starts: bytes = attrs.field(default=None, converter=_conv_starts, repr=False)
    _ends: bytes = attrs.field(default=None, converter=_conv_ends, repr=False)

    def __attrs_post_init__(self) -> None:
        _check_windows(self)
        n_pairs = len(self._needs) // 8
        if len(self._candidates) // 8 != n_pairs or len(self._costs) // 8 != n_pairs:
            raise InvalidValue(
                "candidates",
                (n_pairs, len(self._candidates) // 8, len(self._costs) // 8),
                "needs、candidates、costs 长度须相同 / needs, candidates and costs must have "
                "the same length",
            )
        order: list[int] | NDArray[Any] | None
        if _has_numpy() and n_pairs >= _NUMPY_MIN_PAIRS:
            order = _check_numpy(self)
        else:
            order = _check_python(self)
        if order is not None:  # canonical order: by need, then candidate
            for name in ("_needs", "_candidates", "_costs"):
                object.__setattr__(self, name, _permute(getattr(self, name), order))

    def __repr__(self) -> str:
        return (
            f"AssignmentProblem(needs={self.n_needs}, candidates={self.n_candidates}, "
            f"pairs={self.n_pairs}, slots={self.slots})"
        )

    # -- views --------------------------------------------------------------------------------

    @property
    def headcounts(self) -> memoryview:
        """Slots per need (read-only int64 view)."""
        return _view(self._headcounts)

    @property
    def capacities(self) -> memoryview:
        """Tasks per candidate (read-only int64 view)."""
        return _view(self._capacities)

    @property
    def needs(self) -> memoryview:
        """The need of each allowed pair, sorted (read-only int64 view)."""
        return _view(self._needs)

    @property
    def candidates(self) -> memoryview:
        """The candidate of each allowed pair, sorted within each need (read-only view)."""
        return _view(self._candidates)

    @property
    def costs(self) -> memoryview:
        """The cost of each allowed pair (read-only int64 view)."""
        return _view(self._costs)

    @property
    def starts(self) -> memoryview:
        """Each need's window start (read-only int64 view; empty without windows)."""
        return _view(self._starts)

    @property
    def ends(self) -> memoryview:
        """Each need's window end, exclusive (read-only int64 view; empty without windows)."""
        return _view(self._ends)

    @property
    def has_windows(self) -> bool:
        """Whether the needs have time windows (then no candidate gets two that overlap)."""
        return bool(self._starts)

    @property
    def n_needs(self) -> int:
        """How many needs."""
        return len(self._headcounts) // 8

    @property
    def n_candidates(self) -> int:
        """How many candidates."""
        return len(self._capacities) // 8

    @property
    def n_pairs(self) -> int:
        """How many allowed pairs."""
        return len(self._needs) // 8

    @property
    def slots(self) -> int:
        """The total headcount ``H`` (also the pruning bound K)."""
        return sum(self.headcounts.tolist())

    def options(self, need: int) -> list[tuple[int, int]]:
        """Need ``need``'s allowed ``(candidate, cost)`` pairs, by candidate."""
        needs = self.needs
        lo, hi = bisect.bisect_left(needs, need), bisect.bisect_right(needs, need)
        return list(zip(self.candidates[lo:hi].tolist(), self.costs[lo:hi].tolist(), strict=True))

    # -- named constructors ---------------------------------------------------------------------

    @classmethod
    def from_lists(
        cls,
        *,
        headcounts: IntArrayLike,
        capacities: IntArrayLike,
        options: Iterable[Iterable[tuple[int, int]]],
        starts: IntArrayLike | None = None,
        ends: IntArrayLike | None = None,
    ) -> AssignmentProblem:
        """From per-need lists of ``(candidate, cost)``: ``options[i]`` are need ``i``'s pairs
        (``starts`` and ``ends`` as in the class).

        Example:
            >>> AssignmentProblem.from_lists(headcounts=[1, 1], capacities=[2],
            ...                              options=[[(0, 3)], []]).n_pairs
            1
        """
        needs: list[int] = []
        cands: list[int] = []
        costs: list[int] = []
        for i, row in enumerate(items("options", options)):
            for pair in items(f"options[{i}]", row):
                try:
                    j, c = pair
                except (TypeError, ValueError):
                    raise InvalidValue(
                        f"options[{i}]",
                        pair,
                        "每项须为 (候选, 成本) / each item is (candidate, cost)",
                    ) from None
                needs.append(i)
                cands.append(j)
                costs.append(c)
        return cls(
            headcounts=headcounts,
            capacities=capacities,
            needs=needs,
            candidates=cands,
            costs=costs,
            starts=starts,
            ends=ends,
        )

    @classmethod
    def from_dense(
        cls,
        *,
        headcounts: IntArrayLike,
        capacities: IntArrayLike,
        costs: Sequence[Sequence[int]] | NDArray[Any] | Callable[[int, int], Any],
        forbidden: int | None = None,
        block_rows: int | None = None,
        starts: IntArrayLike | None = None,
        ends: IntArrayLike | None = None,
    ) -> AssignmentProblem:
        """From a dense cost matrix (row ``i`` = need ``i``), keeping only what can matter.

        Each need keeps its ``min(allowed, H)`` cheapest candidates (ties by lower index), ``H``
        the total headcount: by the pruning lemma (module docs) exact and greedy results are the
        same as on the whole matrix. ``costs`` is a 2-D integer array or sequence of rows, or a
        callable ``costs(start, stop)`` that returns the rows of needs ``start … stop−1``, so the
        whole matrix never has to exist; it is read ``block_rows`` rows at a time (default:
        about 8 million entries per block). Entries equal to ``forbidden`` are not allowed pairs.
        With numpy installed the selection is vectorised (``numpy.partition`` per block);
        without it, ``heapq.nsmallest`` per row. ``starts`` and ``ends`` are as in the class (the
        pruning stays exact with them: module docs).

        Example:
            >>> p = AssignmentProblem.from_dense(headcounts=[1, 1], capacities=[1, 1, 1],
            ...                                  costs=[[5, 1, 9], [2, 8, -1]], forbidden=-1)
            >>> p.options(0), p.options(1)
            ([(0, 5), (1, 1)], [(0, 2), (1, 8)])
        """
        head = _conv_headcounts(headcounts)
        cap = _conv_capacities(capacities)
        _check_at_least_one("headcounts", _view(head))
        _check_at_least_one("capacities", _view(cap))
        n, m = len(head) // 8, len(cap) // 8
        keep = sum(_view(head).tolist())
        block = block_rows if block_rows is not None else max(1, (1 << 23) // max(m, 1))
        if isinstance(block, bool) or not isinstance(block, int) or block < 1:
            raise InvalidValue("block_rows", block_rows, "须为正整数 / must be a positive integer")
        if forbidden is not None and (
            isinstance(forbidden, bool) or not isinstance(forbidden, int)
        ):
            raise InvalidValue(
                "forbidden", forbidden, "需要整数或 None / must be an integer or None"
            )
        if callable(costs):
            fetch = costs
        else:
            matrix = costs
            if isinstance(matrix, (str, bytes, bytearray, Mapping, AbstractSet)) or not hasattr(
                matrix, "__len__"
            ):
                raise InvalidValue(
                    "costs", matrix, "需要成本矩阵或函数 / need a cost matrix or a function of rows"
                )
            if len(matrix) != n:
                raise InvalidValue(
                    "costs", len(matrix), f"须有 {n} 行 / must have {n} rows, one per need"
                )

            def fetch(a: int, b: int) -> Any:
                return matrix[a:b]

        pairs: tuple[IntArrayLike, IntArrayLike, IntArrayLike]
        if _has_numpy():
            pairs = _dense_numpy(fetch, n, m, keep, forbidden, block)
        else:
            pairs = _dense_python(fetch, n, m, keep, forbidden, block)
        return cls(
            headcounts=_view(head),
            capacities=_view(cap),
            needs=pairs[0],
            candidates=pairs[1],
            costs=pairs[2],
            starts=starts,
            ends=ends,
        )


# JSON and TOML: the problem as its public vectors. (cattrs would write the private bytes fields
# under their private names, and read them back as one integer per byte.) Loading builds the
# problem with its constructor, so a document and a call are held to the one same rule.

_PLAIN = ("headcounts", "capacities", "needs", "candidates", "costs", "starts", "ends")


def _problem_to_plain(p: AssignmentProblem) -> dict[str, list[int]]:
    out = {name: getattr(p, name).tolist() for name in _PLAIN[:5]}
    if p.has_windows:
        out["starts"], out["ends"] = p.starts.tolist(), p.ends.tolist()
    return out


def _problem_from_plain(value: object, _: object) -> AssignmentProblem:
    if not isinstance(value, Mapping):
        raise InvalidValue(
            "problem", value, "需要对象 / need a mapping (a JSON object or TOML table)"
        )
    extra = sorted(str(k) for k in value if k not in _PLAIN)
    if extra:
        raise InvalidValue(extra[0], value[extra[0]], "未知字段 / unknown field")
    for name in _PLAIN[:5]:
        if name not in value:
            raise InvalidValue(name, None, "缺少必填字段 / required field missing")
    return AssignmentProblem(**{str(k): v for k, v in value.items()})


for _conv in (convert.converter, convert._revealing, convert._compact):
    _conv.register_unstructure_hook(AssignmentProblem, _problem_to_plain)
    _conv.register_structure_hook(AssignmentProblem, _problem_from_plain)
del _conv


def _dense_rows(block: object, a: int, b: int, m: int) -> list[list[int]]:
    """Rows ``a … b−1`` of a dense cost matrix as lists of ``m`` integers (int64), each checked:
    one rule for the paths with and without numpy, so that a short row, a long row or an entry
    that is not an integer is refused naming the row (``costs[i]``) or the entry
    (``costs[i][j]``) either way."""
    rows = _vector("costs", block)
    if len(rows) != b - a:
        raise InvalidValue("costs", len(rows), f"须有 {b - a} 行 / must give {b - a} rows")
    out: list[list[int]] = []
    for di, row in enumerate(rows):
        field = f"costs[{a + di}]"
        vals = _vector(field, row)
        if len(vals) != m:
            raise InvalidValue(field, len(vals), f"须有 {m} 列 / must have {m} entries")
        out.append(
            [
                v if type(v) is int and -(2**63) <= v < 2**63 else _int64(f"{field}[{j}]", v)
                for j, v in enumerate(vals)
            ]
        )
    return out


def _check_windows(p: AssignmentProblem) -> None:
    """Windows for every need or for none, each ending after it starts."""
    n, given = p.n_needs, (len(p._starts) // 8, len(p._ends) // 8)
    if given == (0, 0):
        return
    for field, k in zip(("starts", "ends"), given, strict=True):
        if k != n:
            raise InvalidValue(
                field,
                k,
                f"须每个需求一个，共 {n} 个（或都不给） / must give one per need ({n}), or none",
            )
    for i, (a, b) in enumerate(zip(p.starts.tolist(), p.ends.tolist(), strict=True)):
        if b <= a:
            raise InvalidValue(f"ends[{i}]", b, f"须晚于开始 {a} / must be after the start {a}")


def _permute(raw: bytes, order: Sequence[int] | NDArray[Any]) -> bytes:
    if isinstance(order, list):
        v = _view(raw)
        return array("q", [v[k] for k in order]).tobytes()
    import numpy as np

    return np.frombuffer(raw, dtype=np.int64)[order].tobytes()


def _bad_index(field: str, k: int, v: int, bound: int, what: str) -> InvalidValue:
    return InvalidValue(
        f"{field}[{k}]", v, f"{what}编号须在 0 到 {bound - 1} 之间 / must be in 0 … {bound - 1}"
    )


_AT_LEAST_ONE = {
    "headcounts": "名额至少为 1 / a need has at least one slot",
    "capacities": "容量至少为 1 / a candidate takes at least one task",
}


def _check_at_least_one(field: str, vec: memoryview) -> None:
    for k, v in enumerate(vec):
        if v < 1:
            raise InvalidValue(f"{field}[{k}]", v, _AT_LEAST_ONE[field])


def _check_python(p: AssignmentProblem) -> list[int] | None:
    """Validate in pure Python; return the canonical order if the pairs are not in it yet."""
    _check_at_least_one("headcounts", p.headcounts)
    _check_at_least_one("capacities", p.capacities)
    n, m = p.n_needs, p.n_candidates
    needs, cands = p.needs.tolist(), p.candidates.tolist()
    for k, (i, j) in enumerate(zip(needs, cands, strict=True)):
        if not 0 <= i < n:
            raise _bad_index("needs", k, i, n, "需求")
        if not 0 <= j < m:
            raise _bad_index("candidates", k, j, m, "候选")
    keys = [i * m + j for i, j in zip(needs, cands, strict=True)]
    if all(a < b for a, b in itertools.pairwise(keys)):
        return None
    order = sorted(range(len(keys)), key=keys.__getitem__)
    for a, b in itertools.pairwise(order):
        if keys[a] == keys[b]:
            raise _duplicate(needs[a], cands[a])
    return order


def _duplicate(i: int, j: int) -> InvalidValue:
    return InvalidValue(
        "candidates",
        (i, j),
        "同一需求与候选只能给出一次 / each (need, candidate) pair may be given once",
    )


def _check_numpy(p: AssignmentProblem) -> list[int] | NDArray[Any] | None:
    """The same checks as :func:`_check_python`, vectorised; the same first error."""
    import numpy as np

    h, c, need, cand, _ = _arrays(p)
    for field, vec in (("headcounts", h), ("capacities", c)):
        bad = np.flatnonzero(vec < 1)
        if bad.size:
            k = int(bad[0])
            raise InvalidValue(f"{field}[{k}]", int(vec[k]), _AT_LEAST_ONE[field])
    n, m = len(h), len(c)
    if n * m >= 2**62:  # the int64 keys below would overflow: check without them
        return _check_python(p)
    bad_need = (need < 0) | (need >= n)
    bad_cand = (cand < 0) | (cand >= m)
    bad = np.flatnonzero(bad_need | bad_cand)
    if bad.size:
        k = int(bad[0])
        if bad_need[k]:
            raise _bad_index("needs", k, int(need[k]), n, "需求")
        raise _bad_index("candidates", k, int(cand[k]), m, "候选")
    keys = need * m + cand  # < n·m ≤ 2⁶², no overflow for any realistic size
    step = np.diff(keys)
    if bool((step > 0).all()):
        return None
    order = np.argsort(keys, kind="stable")
    dup = np.flatnonzero(np.diff(keys[order]) == 0)
    if dup.size:
        k = int(order[dup[0]])
        raise _duplicate(int(need[k]), int(cand[k]))
    return order


def _arrays(p: AssignmentProblem) -> tuple[_I64, _I64, _I64, _I64, _I64]:
    """Zero-copy read-only numpy views: headcounts, capacities, needs, candidates, costs."""
    import numpy as np

    return (
        np.frombuffer(p._headcounts, dtype=np.int64),
        np.frombuffer(p._capacities, dtype=np.int64),
        np.frombuffer(p._needs, dtype=np.int64),
        np.frombuffer(p._candidates, dtype=np.int64),
        np.frombuffer(p._costs, dtype=np.int64),
    )


# ---------------------------------------------------------------------------------------------
# Dense input, pruned block by block


def _dense_numpy(
    fetch: Callable[[int, int], Any], n: int, m: int, keep: int, forbidden: int | None, block: int
) -> tuple[_I64, _I64, _I64]:
    import numpy as np

    out_i: list[NDArray[Any]] = []
    out_j: list[NDArray[Any]] = []
    out_c: list[NDArray[Any]] = []
    for a in range(0, n, block):
        b = min(n, a + block)
        given = fetch(a, b)
        if not isinstance(given, np.ndarray):  # rows as Python sequences: checked as without numpy
            given = _dense_rows(given, a, b, m)
        rows = np.asarray(given)
        if rows.shape != (b - a, m):
            want = (b - a, m)
            raise InvalidValue(
                "costs", rows.shape, f"第 {a}–{b - 1} 行须为 {want} / rows must have shape {want}"
            )
        if rows.dtype.kind not in "iu":
            raise InvalidValue("costs", str(rows.dtype), "需要整数 / must be an integer array")
        if rows.dtype.kind == "u":
            if rows.dtype.itemsize == 8 and rows.size and int(rows.max()) > 2**63 - 1:
                raise InvalidValue(
                    "costs",
                    int(rows.max()),
                    "超出 64 位整数范围 / must fit in a signed 64-bit integer",
                )
            rows = rows.astype(np.int64)
        r, c, v = _select_block(rows, keep, forbidden)
        out_i.append(r + a)
        out_j.append(c)
        out_c.append(v.astype(np.int64))
    if not out_i:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    return (
        np.concatenate(out_i).astype(np.int64),
        np.concatenate(out_j).astype(np.int64),
        np.concatenate(out_c),
    )


_SAMPLE_STEP = 16
"""Every 16th column estimates a row's threshold in :func:`_select_block`."""


def _select_block(
    rows: NDArray[Any], k: int, forbidden: int | None
) -> tuple[_I64, _I64, NDArray[Any]]:
    """Each row's ``k`` smallest allowed entries, ties by lower column: rows, columns, values,
    in row-major order.

    On wide rows (``m ≥ 4k``) a threshold is first estimated from every 16th column: the
    ``⌈1.25·k/16⌉ + 16``-th smallest sampled value, which about ``1.25·k`` entries of a row
    do not exceed. The entries at or below it are taken (one comparison over the block), and
    the exact ``k``-th smallest value is found among those alone. A row whose estimate keeps
    fewer than ``k`` allowed entries (possible for skewed rows) is redone with a full
    ``numpy.partition``, so the result is exact for every row; only the speed varies.
    """
    import numpy as np

    r, m = rows.shape
    allowed = None if forbidden is None else rows != forbidden
    if k >= m or r == 0 or m == 0 or k == 0:
        if k == 0:
            mask = np.zeros(rows.shape, dtype=bool)
        else:
            mask = np.ones(rows.shape, dtype=bool) if allowed is None else allowed
        i, j = np.nonzero(mask)
        return i.astype(np.int64), j.astype(np.int64), rows[i, j]
    top = np.iinfo(rows.dtype).max
    vals = rows if allowed is None else np.where(allowed, rows, top)
    sampled = m >= 4 * k and m >= 64 * _SAMPLE_STEP
    if sampled:
        sample = vals[:, ::_SAMPLE_STEP]
        q = min(sample.shape[1] - 1, (5 * k) // (4 * _SAMPLE_STEP) + 16)
        limit = np.partition(sample, q, axis=1)[:, q]
    else:
        limit = np.partition(vals, k - 1, axis=1)[:, k - 1]
    le = vals <= limit[:, None]
    if allowed is not None:
        le &= allowed
    flat = np.flatnonzero(le)  # one index per kept entry: faster than a 2-D nonzero
    i, j = np.divmod(flat, m)
    count = np.bincount(i, minlength=r)
    if sampled:
        usable = np.full(r, m) if allowed is None else allowed.sum(axis=1)
        redo = np.flatnonzero(count < np.minimum(k, usable))
        if redo.size:  # the estimate was too low for these rows: exact threshold instead
            limit[redo] = np.partition(vals[redo], k - 1, axis=1)[:, k - 1]
            le[redo] = vals[redo] <= limit[redo, None]
            if allowed is not None:
                le[redo] &= allowed[redo]
            flat = np.flatnonzero(le)
            i, j = np.divmod(flat, m)
            count = np.bincount(i, minlength=r)
    v = vals.reshape(-1)[flat]
    over = np.flatnonzero(count > k)
    if over.size:  # keep the k smallest of these rows' entries, lower columns first on ties
        theta = np.full(r, top, dtype=vals.dtype)
        if sampled:  # the exact k-th value, from a small table of the rows' kept entries
            width = count[over]
            table = np.full((over.size, int(width.max())), top, dtype=vals.dtype)
            in_over = np.zeros(r, dtype=bool)
            in_over[over] = True
            sel = in_over[i]
            pos = np.arange(int(width.sum())) - np.repeat(np.cumsum(width) - width, width)
            table[np.repeat(np.arange(over.size), width), pos] = v[sel]
            theta[over] = np.partition(table, k - 1, axis=1)[:, k - 1]
        else:
            theta[over] = limit[over]
        th = theta[i]
        keep = v < th
        below = np.bincount(i[keep], minlength=r)
        eq = np.flatnonzero(v == th)
        eq_row = i[eq]
        rank = np.arange(eq.size) - np.searchsorted(eq_row, eq_row)
        keep[eq[rank < k - below[eq_row]]] = True
        i, j, v = i[keep], j[keep], v[keep]
    return i.astype(np.int64), j.astype(np.int64), v


def _dense_python(
    fetch: Callable[[int, int], Any], n: int, m: int, keep: int, forbidden: int | None, block: int
) -> tuple[list[int], list[int], list[int]]:
    needs: list[int] = []
    cands: list[int] = []
    costs: list[int] = []
    for a in range(0, n, block):
        b = min(n, a + block)
        for di, vals in enumerate(_dense_rows(fetch(a, b), a, b, m)):
            best = heapq.nsmallest(
                keep, ((v, j) for j, v in enumerate(vals) if forbidden is None or v != forbidden)
            )
            for v, j in sorted(best, key=lambda t: t[1]):
                needs.append(a + di)
                cands.append(j)
                costs.append(v)
    return needs, cands, costs


# ---------------------------------------------------------------------------------------------
# The result


def _counts(value: Any) -> tuple[int, ...]:
    """Per need, the slots left empty: whole numbers ≥ 0."""
    out = items_of("unfilled", int, value)
    for k, v in enumerate(out):
        if isinstance(v, bool) or v < 0:
            raise InvalidValue(f"unfilled[{k}]", v, "需要非负整数 / must be a whole number ≥ 0")
    return out


def _one_of(allowed: tuple[str, ...]) -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    """A validator: one of the ``allowed`` strings (a :data:`Method` or a backend)."""

    def check(_: object, attribute: attrs.Attribute[Any], value: Any) -> None:
        if not isinstance(value, str) or value not in allowed:
            raise InvalidValue(attribute.name, value, f"应为 / one of {', '.join(allowed)}")

    return check


@attrs.frozen(kw_only=True)
class AssignedPair:
    """One chosen pair: the need, the candidate and the pair's cost."""

    need: int = attrs.field(validator=non_negative)
    candidate: int = attrs.field(validator=non_negative)
    cost: int = attrs.field(validator=integer)


def _assigned_pairs(value: Any) -> tuple[AssignedPair, ...]:
    return items_of("pairs", AssignedPair, value)


def _shortfalls(value: Any) -> tuple[Finding, ...]:
    return items_of("shortfalls", Finding, value)


@attrs.frozen(kw_only=True)
class Assignment:
    """The chosen pairs and what they achieve (派单结果).

    Attributes:
        pairs: the chosen pairs, by need then candidate.
        total_cost: the sum of their costs.
        filled: how many slots are filled (= ``len(pairs)``).
        slots: the total headcount.
        unfilled: per need, how many of its slots stay empty.
        method: ``"exact"`` or ``"greedy"``.
        backend: ``"scipy"`` or ``"python"``: which solver ran.
        note: why that backend ran, when it is not the first choice (else empty).
        shortfalls: one finding per need with empty slots, saying why.
    """

    pairs: tuple[AssignedPair, ...] = attrs.field(converter=_assigned_pairs)
    total_cost: int = attrs.field(validator=integer)
    filled: int = attrs.field(validator=non_negative)
    slots: int = attrs.field(validator=non_negative)
    unfilled: tuple[int, ...] = attrs.field(converter=_counts)
    method: Method = attrs.field(validator=_one_of(("exact", "greedy")))
    backend: Literal["scipy", "python"] = attrs.field(validator=_one_of(("scipy", "python")))
    note: str = attrs.field(default="", validator=any_text)
    shortfalls: tuple[Finding, ...] = attrs.field(default=(), converter=_shortfalls)

    def candidates_for(self, need: int) -> tuple[int, ...]:
        """The candidates assigned to ``need``."""
        return tuple(p.candidate for p in self.pairs if p.need == need)

    def needs_for(self, candidate: int) -> tuple[int, ...]:
        """The needs ``candidate`` is assigned to."""
        return tuple(p.need for p in self.pairs if p.candidate == candidate)

    def __str__(self) -> str:
        return (
            f"已派 {self.filled:,}/{self.slots:,} 个名额，总成本 {self.total_cost:,} / "
            f"filled {self.filled:,} of {self.slots:,} slots, total cost {self.total_cost:,} "
            f"({self.method})"
        )

    def explain(self) -> str:
        """The summary, the backend note if any, and one line per need with empty slots."""
        lines = [str(self)]
        if self.note:
            lines.append(f"  {self.note}")
        lines += [f"  {f}" for f in self.shortfalls]
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Solving


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
        chosen = _greedy(problem)
    else:
        chosen, ran, note = _exact(problem, backend)
    result = _result(problem, chosen, method, ran, note)
    if fill == "all_or_error" and result.filled < result.slots:
        raise InvalidValue(
            "fill",
            result,
            f"只能派满 {result.filled}/{result.slots} 个名额 / only {result.filled} of "
            f"{result.slots} slots can be filled",
            shown=f"{result.filled}/{result.slots}",
        )
    return result


def _exact_round(
    p: AssignmentProblem, backend: Backend, group: list[int] | None
) -> tuple[list[int], Literal["scipy", "python"], str]:
    """One exact solve (with exclusive groups, if any): (chosen pairs, backend that ran, note)."""
    if backend == "python":
        return _exact_python(p, group), "python", ""
    if not scipy_available():
        if backend == "scipy":
            raise InvalidValue(
                "backend",
                backend,
                "未安装 scipy / scipy is not installed: pip install 'zhiyuan[solver]'",
            )
        note = "未安装 scipy，用纯 Python 精确算法 / scipy not installed: exact pure-Python solver"
        return _exact_python(p, group), "python", note
    try:
        return _exact_scipy(p, group), "scipy", ""
    except _TooWide as err:
        if backend == "scipy":
            raise InvalidValue(
                "costs",
                err.bound,
                "成本跨度太大，float64 无法精确求解 / costs too wide for exact float64 "
                "arithmetic; use backend='python'",
            ) from None
        note = (
            "成本跨度超出 float64 精确范围，改用纯 Python 整数算法 / costs too wide for exact "
            "float64 arithmetic: exact integer pure-Python solver"
        )
        return _exact_python(p, group), "python", note


_BRANCH_SOLVES = 64
"""How many exact solves the search over time windows may spend before it settles for the best
answer found (module docs, "Time windows")."""


def _guessed(solves: int) -> str:
    return (
        f"时段冲突的搜索用满 {solves} 次求解，结果守时段规则但未必最优 / overlapping windows: the "
        f"search stopped after {solves} solves; no candidate has overlapping needs, but the "
        "result is not proven optimal"
    )


def _exact(
    p: AssignmentProblem, backend: Backend
) -> tuple[list[int], Literal["scipy", "python"], str]:
    """The exact solve; with windows, a branch and bound over exclusive groups until no
    candidate has two overlapping needs (module docs, "Time windows")."""
    chosen, ran, note = _exact_round(p, backend, None)
    if not p.has_windows:
        return chosen, ran, note
    if ran == "python":  # the backend that ran (or fell back) runs every solve
        backend = "python"
    groups = _Groups(p)
    if not groups.clashes(chosen):
        return chosen, ran, note
    # the incumbent: greedy within the windows, repaired; the search keeps what beats it
    best = _repair(p, _greedy(p))
    stack: list[tuple[frozenset[int], list[int] | None]] = [(frozenset(), chosen)]
    solves, proven = 1, True
    while stack and proven:
        forbidden, first = stack.pop()
        groups = _Groups(p)
        if first is None:
            first = _restricted_round(p, backend, forbidden, None)
            solves += 1
        chosen = first
        while True:
            if not _better(p, chosen, best):
                break  # a relaxation of this branch does no better than the best found
            clashes = groups.clashes(chosen)
            if not clashes:
                best = chosen  # feasible, and optimal for the branch (every group a clique)
                break
            group, chain = groups.join(clashes)
            if group is None:  # each clash would make a chain: branch on one need of it
                assert chain is not None
                j, a, near = chain
                stack.append((forbidden | {_pair(p, a, j)}, None))
                stack.append((forbidden | {_pair(p, b, j) for b in near}, None))
                break
            if solves >= _BRANCH_SOLVES:
                proven = False
                break
            chosen = _restricted_round(p, backend, forbidden, group)
            solves += 1
        if stack and solves >= _BRANCH_SOLVES:
            proven = False
    if not proven:
        best = _repair(p, best)
        note = f"{note}; {_guessed(solves)}" if note else _guessed(solves)
    return best, ran, note


def _better(p: AssignmentProblem, a: list[int], b: list[int]) -> bool:
    """Whether ``a`` fills more slots than ``b``, or as many at a lower cost."""
    costs = p.costs
    return (len(a), -sum(costs[k] for k in a)) > (len(b), -sum(costs[k] for k in b))


def _pair(p: AssignmentProblem, i: int, j: int) -> int:
    """The index of the allowed pair (need ``i``, candidate ``j``)."""
    needs, cands = p.needs, p.candidates
    lo, hi = bisect.bisect_left(needs, i), bisect.bisect_right(needs, i)
    return lo + bisect.bisect_left(cands[lo:hi], j)


def _restricted_round(
    p: AssignmentProblem, backend: Backend, forbidden: frozenset[int], group: list[int] | None
) -> list[int]:
    """One exact solve without the ``forbidden`` pairs (indices of ``p``'s pairs, as the result)."""
    if not forbidden:
        return _exact_round(p, backend, group)[0]
    kept = [k for k in range(p.n_pairs) if k not in forbidden]
    needs, cands, costs = p.needs, p.candidates, p.costs
    sub = AssignmentProblem(
        headcounts=p.headcounts,
        capacities=p.capacities,
        needs=[needs[k] for k in kept],
        candidates=[cands[k] for k in kept],
        costs=[costs[k] for k in kept],
    )
    sub_group = None if group is None else [group[k] for k in kept]
    return [kept[k] for k in _exact_round(sub, backend, sub_group)[0]]


class _Groups:
    """Exclusive groups of one candidate's needs (at most one of each group goes to it), merged
    from the clashes of successive rounds: a union-find over (candidate, need)."""

    def __init__(self, p: AssignmentProblem) -> None:
        self.p = p
        self.starts, self.ends = p.starts.tolist(), p.ends.tolist()
        self.parent: dict[tuple[int, int], tuple[int, int]] = {}
        self.members: dict[tuple[int, int], list[int]] = {}  # root → needs of its group

    def clashes(self, chosen: Iterable[int]) -> list[tuple[int, int, int]]:
        """(candidate, need, need) for chosen needs of one candidate whose windows overlap: each
        need against the one of latest end before it, by start (this links every overlap)."""
        needs, cands = self.p.needs, self.p.candidates
        starts, ends = self.starts, self.ends
        held: dict[int, list[int]] = {}
        for k in chosen:
            held.setdefault(cands[k], []).append(needs[k])
        out = []
        for j, mine in held.items():
            if len(mine) < 2:
                continue
            mine.sort(key=lambda i: (starts[i], ends[i], i))
            last = mine[0]
            for i in mine[1:]:
                if starts[i] < ends[last]:
                    out.append((j, last, i))
                if ends[i] > ends[last]:
                    last = i
        return out

    def _find(self, x: tuple[int, int]) -> tuple[int, int]:
        parent = self.parent
        root = x
        while parent.setdefault(root, root) != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    def join(
        self, clashes: Iterable[tuple[int, int, int]]
    ) -> tuple[list[int] | None, tuple[int, int, list[int]] | None]:
        """Merge the clashes whose groups stay cliques (windows sharing a moment, so that "at
        most one of them" is what the windows say): the group of every pair (−1: none). If no
        clash can be merged so, ``None`` and a chain to branch on: (candidate, the need of the
        merged group that overlaps most of the others, the candidate's needs overlapping it)."""
        starts, ends = self.starts, self.ends
        chain: tuple[int, list[int]] | None = None
        merged = 0
        for j, a, b in clashes:
            ra, rb = self._find((j, a)), self._find((j, b))
            if ra == rb:  # a solver honours its groups: two needs of one group never clash
                raise AssertionError("a round gave one candidate two needs of one group")
            both = self.members.get(ra, [a]) + self.members.get(rb, [b])
            if max(starts[i] for i in both) >= min(ends[i] for i in both):
                chain = chain or (j, both)
                continue
            root, other = min(ra, rb), max(ra, rb)
            self.parent[other] = root
            self.members[root] = both
            self.members.pop(other, None)
            merged += 1
        if not merged:
            assert chain is not None
            j, mine = chain

            def overlaps(a: int, pool: Iterable[int]) -> list[int]:
                return [b for b in pool if b != a and starts[b] < ends[a] and starts[a] < ends[b]]

            a = min(sorted(mine), key=lambda i: -len(overlaps(i, mine)))
            p = self.p
            held = [p.needs[k] for k in range(p.n_pairs) if p.candidates[k] == j]
            return None, (j, a, overlaps(a, held))
        group = [-1] * self.p.n_pairs
        ids: dict[tuple[int, int], int] = {}
        for root, mine in self.members.items():
            for i in mine:
                group[_pair(self.p, i, root[0])] = ids.setdefault(root, len(ids))
        return group, None


class _Busy:
    """The windows each candidate holds (disjoint, sorted by start), to test a new one fast."""

    def __init__(self, p: AssignmentProblem) -> None:
        self.starts, self.ends = p.starts.tolist(), p.ends.tolist()
        self.held: dict[int, list[tuple[int, int]]] = {}

    def free(self, j: int, i: int) -> bool:
        """Whether candidate ``j`` holds no window that overlaps need ``i``'s."""
        mine = self.held.get(j)
        if not mine:
            return True
        s, e = self.starts[i], self.ends[i]
        pos = bisect.bisect_left(mine, (s, e))
        if pos > 0 and mine[pos - 1][1] > s:
            return False
        return pos == len(mine) or mine[pos][0] >= e

    def take(self, j: int, i: int) -> None:
        bisect.insort(self.held.setdefault(j, []), (self.starts[i], self.ends[i]))


def _repair(p: AssignmentProblem, chosen: list[int]) -> list[int]:
    """Fill empty slots that a change of one step can fill, keeping every window rule.

    For each need with an empty slot, its candidates are tried cheapest first (ties by index):
    one with capacity left whose windows all miss the need's takes it; failing that, one with
    capacity left whose overlapping needs can each move to another candidate (allowed, with
    capacity left, free at that time, not on that need yet) takes it, and they move. Each step
    fills one more slot, so this ends; it only adds slots, and never breaks a rule.
    """
    needs, cands, costs = p.needs, p.candidates, p.costs
    heads, caps = p.headcounts.tolist(), p.capacities.tolist()
    starts, ends = p.starts.tolist(), p.ends.tolist()
    offsets, order = _cost_order(p)
    pair = {(needs[k], cands[k]): k for k in range(p.n_pairs)}
    on_need: list[set[int]] = [set() for _ in heads]  # candidates of each need
    held: list[set[int]] = [set() for _ in caps]  # needs of each candidate
    for k in chosen:
        on_need[needs[k]].add(cands[k])
        held[cands[k]].add(needs[k])

    def clash(j: int, i: int, skip: int = -1) -> list[int]:
        return [b for b in held[j] if b != skip and starts[b] < ends[i] and starts[i] < ends[b]]

    def mover(b: int, j: int, claimed: set[int]) -> int | None:
        for pos in range(offsets[b], offsets[b + 1]):
            j2 = cands[int(order[pos])]
            if (
                j2 != j
                and j2 not in claimed
                and j2 not in on_need[b]
                and len(held[j2]) < caps[j2]
                and not clash(j2, b)
            ):
                return j2
        return None

    progress = True
    while progress:
        progress = False
        for i in range(len(heads)):
            while len(on_need[i]) < heads[i]:
                done = False
                for pos in range(offsets[i], offsets[i + 1]):
                    j = cands[int(order[pos])]
                    if j in on_need[i] or len(held[j]) >= caps[j]:
                        continue
                    blockers = clash(j, i)
                    moves: list[tuple[int, int]] = []
                    claimed: set[int] = set()
                    for b in blockers:
                        j2 = mover(b, j, claimed)
                        if j2 is None:
                            break
                        moves.append((b, j2))
                        claimed.add(j2)  # one move per candidate: two moved needs may overlap
                    if len(moves) < len(blockers):
                        continue
                    for b, j2 in moves:
                        held[j].discard(b)
                        on_need[b].discard(j)
                        held[j2].add(b)
                        on_need[b].add(j2)
                    held[j].add(i)
                    on_need[i].add(j)
                    done = progress = True
                    break
                if not done:
                    break
    del costs
    return [pair[(i, j)] for i, js in enumerate(on_need) for j in js]


def _result(
    p: AssignmentProblem,
    chosen: Iterable[int],
    method: Method,
    backend: Literal["scipy", "python"],
    note: str,
) -> Assignment:
    needs, cands, costs = p.needs, p.candidates, p.costs
    idx = sorted(chosen)
    pairs = tuple(AssignedPair(need=needs[k], candidate=cands[k], cost=costs[k]) for k in idx)
    heads = p.headcounts.tolist()
    unfilled = list(heads)
    for x in pairs:
        unfilled[x.need] -= 1
    shortfalls: list[Finding] = []
    for i, u in enumerate(unfilled):
        if u:
            allowed = bisect.bisect_right(needs, i) - bisect.bisect_left(needs, i)
            variant = "few_allowed" if allowed < heads[i] else "taken"
            values = (i, u, heads[i], allowed)
            shortfalls.append(finding("assignment.unfilled", values, variant))
    return Assignment(
        pairs=pairs,
        total_cost=sum(x.cost for x in pairs),
        filled=len(pairs),
        slots=sum(heads),
        unfilled=tuple(unfilled),
        method=method,
        backend=backend,
        note=note,
        shortfalls=tuple(shortfalls),
    )


class _IntVec(Protocol):
    def __getitem__(self, k: int, /) -> SupportsIndex: ...


def _cost_order(p: AssignmentProblem) -> tuple[list[int], _IntVec]:
    """Per-need offsets (n + 1) and the pair indices sorted by (need, cost, candidate)."""
    n = p.n_needs
    if _has_numpy() and p.n_pairs >= _NUMPY_MIN_PAIRS:
        import numpy as np

        _, _, need, cand, cost = _arrays(p)
        offsets: list[int] = np.searchsorted(need, np.arange(n + 1)).tolist()
        return offsets, _cost_order_numpy(need, cand, cost, p.n_candidates)
    needs, costs, cands = p.needs.tolist(), p.costs.tolist(), p.candidates.tolist()
    offsets = [bisect.bisect_left(needs, i) for i in range(n + 1)]
    return offsets, sorted(range(len(needs)), key=lambda k: (needs[k], costs[k], cands[k]))


def _cost_order_numpy(need: _I64, cand: _I64, cost: _I64, m: int) -> NDArray[Any]:
    """``argsort`` by (need, cost, candidate): one int64 key when it fits, else ``lexsort``."""
    import numpy as np

    if need.size == 0:
        return np.zeros(0, dtype=np.intp)
    lo, hi = int(cost.min()), int(cost.max())
    span = (hi - lo + 1) * m
    if (int(need.max()) + 1) * span < 2**63:
        key = need * span + (cost - lo) * m + cand
        return np.argsort(key, kind="stable")
    return np.lexsort((cand, cost, need))


def _greedy(p: AssignmentProblem) -> list[int]:
    """Cheapest pairs first, merged lazily from per-need sorted lists (same order as one sort
    of all pairs by (cost, need, candidate), but only as far as the needs are open)."""
    offsets, order = _cost_order(p)
    heads, caps = p.headcounts.tolist(), p.capacities.tolist()
    cands, costs = p.candidates, p.costs
    load = [0] * len(caps)
    taken = [0] * len(heads)
    busy = _Busy(p) if p.has_windows else None
    heap: list[tuple[int, int, int, int]] = []
    for i in range(len(heads)):
        if offsets[i] < offsets[i + 1]:
            k = int(order[offsets[i]])
            heap.append((costs[k], i, cands[k], offsets[i]))
    heapq.heapify(heap)
    chosen: list[int] = []
    while heap:
        _, i, j, pos = heapq.heappop(heap)
        if load[j] < caps[j] and (busy is None or busy.free(j, i)):
            load[j] += 1
            taken[i] += 1
            chosen.append(int(order[pos]))
            if busy is not None:
                busy.take(j, i)
        if taken[i] < heads[i] and pos + 1 < offsets[i + 1]:
            k = int(order[pos + 1])
            heapq.heappush(heap, (costs[k], i, cands[k], pos + 1))
    return chosen


def _exact_python(p: AssignmentProblem, group: Sequence[int] | None = None) -> list[int]:
    """Min-cost max-flow by successive shortest paths (Dijkstra with potentials), in integers.

    With exclusive groups (``group[k]`` ≥ 0 for the pairs of a group, module docs "Time
    windows"), :func:`_exact_python_grouped` solves the same flow with a node per group.

    Graph: source → need ``i`` (capacity ``h_i``) → candidate ``j`` (capacity 1, cost ``w_ij``)
    → sink (capacity ``c_j``), on the pruned lists, with ``w = cost − min cost ≥ 0`` (a
    constant shift per filled slot, which changes no comparison between assignments that fill
    the same number). Each augmentation adds one unit along a shortest path in reduced costs;
    the flow after each step is a least-cost flow of its size, and the last one is maximal.
    """
    if group is not None and any(g >= 0 for g in group):
        return _exact_python_grouped(p, group)
    offsets, order = _cost_order(p)
    heads, caps = p.headcounts.tolist(), p.capacities.tolist()
    n, m = len(heads), len(caps)
    cands, costs = p.candidates, p.costs
    limit = sum(heads)
    low = min(costs.tolist(), default=0)
    # adjacency: need i -> [(candidate, shifted cost, pair index)], cheapest first, pruned to H
    adj: list[list[tuple[int, int, int]]] = []
    for i in range(n):
        row = []
        for pos in range(offsets[i], min(offsets[i + 1], offsets[i] + limit)):
            k = int(order[pos])
            row.append((cands[k], costs[k] - low, k))
        adj.append(row)
    pot_need = [0] * n
    pot_cand = [0] * m
    pot_src = pot_sink = 0
    taken = [0] * n
    load = [0] * m
    users: list[dict[int, tuple[int, int]]] = [{} for _ in range(m)]  # j -> {i: (w, k)}
    uses: list[set[int]] = [set() for _ in range(n)]  # candidates need i has
    sink = -1
    while True:
        # Dijkstra from the source over reduced costs; kinds: 0 need, 1 candidate, 2 sink
        dist_need: dict[int, int] = {}
        dist_cand: dict[int, int] = {}
        par_need: dict[int, int] = {}  # need <- candidate it was reached from (-1: source)
        par_cand: dict[int, tuple[int, int]] = {}  # candidate <- (need, pair index)
        par_sink = -1
        dist_sink = 0
        heap: list[tuple[int, int, int]] = []
        for i in range(n):
            if taken[i] < heads[i] and adj[i]:
                d = pot_src - pot_need[i]
                dist_need[i] = d
                par_need[i] = -1
                heap.append((d, 0, i))
        heapq.heapify(heap)
        done_need: set[int] = set()
        done_cand: set[int] = set()
        reached = -1
        while heap:
            d, kind, v = heapq.heappop(heap)
            if kind == 2:
                reached = d
                break
            if kind == 0:
                if v in done_need or d > dist_need[v]:
                    continue
                done_need.add(v)
                base = d + pot_need[v]
                for j, w, k in adj[v]:
                    if j in uses[v]:
                        continue
                    nd = base + w - pot_cand[j]
                    if nd < dist_cand.get(j, nd + 1):
                        dist_cand[j] = nd
                        par_cand[j] = (v, k)
                        heapq.heappush(heap, (nd, 1, j))
            else:
                if v in done_cand or d > dist_cand[v]:
                    continue
                done_cand.add(v)
                base = d + pot_cand[v]
                if load[v] < caps[v]:
                    nd = base - pot_sink
                    if par_sink == -1 or nd < dist_sink:
                        dist_sink, par_sink = nd, v
                        heapq.heappush(heap, (nd, 2, sink))
                for i, (w, _k) in users[v].items():
                    nd = base - w - pot_need[i]
                    if nd < dist_need.get(i, nd + 1):
                        dist_need[i] = nd
                        par_need[i] = v
                        heapq.heappush(heap, (nd, 0, i))
        if par_sink == -1:  # the sink is unreachable: the flow is maximal
            break
        total = reached
        # potentials: π(v) −= (D − d(v)) for nodes settled closer than the sink (the constant
        # +D that all nodes would get cancels in every reduced cost and is left out)
        for i in done_need:
            pot_need[i] -= total - dist_need[i]
        for j in done_cand:
            pot_cand[j] -= total - dist_cand[j]
        pot_src -= total
        # augment one unit along the path, walking back from the sink
        j = par_sink
        load[j] += 1
        while True:
            i, k = par_cand[j]
            users[j][i] = (costs[k] - low, k)
            uses[i].add(j)
            back = par_need[i]
            if back == -1:
                taken[i] += 1
                break
            del users[back][i]
            uses[i].discard(back)
            j = back
    return [k for j in range(m) for (_w, k) in users[j].values()]


def _exact_python_grouped(p: AssignmentProblem, group: Sequence[int]) -> list[int]:
    """Min-cost max-flow with exclusive groups, by successive shortest paths on an explicit
    residual graph: source → need ``i`` (capacity ``h_i``) → candidate ``j`` (capacity 1, cost
    ``w_ij``), or → group ``g`` (capacity 1, cost ``w_ij``) → its candidate (capacity 1) when
    the pair is in a group, → sink (capacity ``c_j``). Each search stops when the sink is
    settled, and only settled nodes' potentials move (as in :func:`_exact_python`)."""
    offsets, order = _cost_order(p)
    heads, caps = p.headcounts.tolist(), p.capacities.tolist()
    n, m = len(heads), len(caps)
    cands, costs = p.candidates, p.costs
    limit = sum(heads)
    low = min(costs.tolist(), default=0)
    n_groups = max(group, default=-1) + 1
    source, sink = 0, 1  # then needs 2 …, candidates 2 + n …, groups 2 + n + m …
    to: list[int] = []
    cap: list[int] = []
    cost: list[int] = []
    adj: list[list[int]] = [[] for _ in range(2 + n + m + n_groups)]

    def arc(u: int, v: int, c: int, w: int) -> int:
        e = len(to)
        to.extend((v, u))
        cap.extend((c, 0))
        cost.extend((w, -w))
        adj[u].append(e)
        adj[v].append(e + 1)
        return e

    for i in range(n):
        arc(source, 2 + i, heads[i], 0)
    pair_arc: dict[int, int] = {}
    group_cand: dict[int, int] = {}
    for i in range(n):  # each need's pruned list, cheapest first (pruning lemma)
        for pos in range(offsets[i], min(offsets[i + 1], offsets[i] + limit)):
            k = int(order[pos])
            j, g = cands[k], group[k]
            if g >= 0:
                group_cand[g] = j
            target = 2 + n + m + g if g >= 0 else 2 + n + j
            pair_arc[k] = arc(2 + i, target, 1, costs[k] - low)
    for g, j in group_cand.items():
        arc(2 + n + m + g, 2 + n + j, 1, 0)
    for j in range(m):
        arc(2 + n + j, sink, caps[j], 0)
    pot = [0] * len(adj)
    while True:
        dist = {source: 0}
        via: dict[int, int] = {}
        settled: list[int] = []
        done: set[int] = set()
        heap = [(0, source)]
        reached = -1
        while heap:
            d, u = heapq.heappop(heap)
            if u in done:
                continue
            done.add(u)
            settled.append(u)
            if u == sink:
                reached = d
                break
            base = d + pot[u]
            for e in adj[u]:
                if cap[e] > 0:
                    v = to[e]
                    nd = base + cost[e] - pot[v]
                    if v not in done and nd < dist.get(v, nd + 1):
                        dist[v] = nd
                        via[v] = e
                        heapq.heappush(heap, (nd, v))
        if reached < 0:  # the sink is unreachable: the flow is maximal
            break
        for v in settled:  # π(v) −= (D − d(v)) for the nodes settled no farther than the sink
            pot[v] -= reached - dist[v]
        v = sink
        while v != source:
            e = via[v]
            cap[e] -= 1
            cap[e ^ 1] += 1
            v = to[e ^ 1]
    return [k for k, e in pair_arc.items() if cap[e] == 0]


class _TooWide(Exception):
    def __init__(self, bound: int) -> None:
        super().__init__(bound)
        self.bound = bound


def _prune_numpy(need: _I64, cand: _I64, cost: _I64, n: int, m: int, k: int) -> NDArray[Any]:
    """Indices (ascending) of the pairs in each need's ``k`` cheapest (ties by candidate)."""
    import numpy as np

    over = np.bincount(need, minlength=n) > k
    if not bool(over.any()):
        return np.arange(need.size)
    sel = np.flatnonzero(over[need])
    order = _cost_order_numpy(need[sel], cand[sel], cost[sel], m)
    group = np.bincount(need[sel], minlength=n)[over]  # sizes of the sorted need groups
    rank = np.arange(sel.size) - np.repeat(np.cumsum(group) - group, group)
    mask = ~over[need]
    mask[sel[order[rank < k]]] = True
    return np.flatnonzero(mask)


def _ranges(starts: NDArray[Any], lengths: NDArray[Any]) -> NDArray[Any]:
    """``concatenate([arange(s, s + l) for s, l in zip(starts, lengths)])``, vectorised."""
    import numpy as np

    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    first = np.cumsum(lengths) - lengths
    return np.repeat(starts - first, lengths) + np.arange(total)


def _exact_scipy(p: AssignmentProblem, group: Sequence[int] | None = None) -> list[int]:
    """Exact solve by sparse assignment (LAPJVsp); see the module docs for the construction.

    When some pair could be used twice by the relaxation (a need of several slots, a candidate
    of several units), gadgets are first looked for on each need's few cheapest pairs, where
    rounds are cheap: the pairs doubled there, and the pairs used there at all, start with a
    gadget in the rounds on all pruned pairs. Any set of gadgets gives a valid relaxation, so
    this changes only the speed (one round on the whole graph instead of three or four).
    ``group`` gives exclusive groups (``group[k]`` ≥ 0), each solved through one gadget.

    A need gets one slot row per slot it can fill at all: at most one per allowed candidate,
    so a huge headcount costs nothing (the slots beyond are reported unfilled).
    """
    import numpy as np

    h, c, need0, cand0, cost0 = _arrays(p)
    n, m = len(h), len(c)
    h = np.minimum(h, np.bincount(need0, minlength=n))
    slots = int(h.sum())
    kept = _prune_numpy(need0, cand0, cost0, n, m, slots)
    if kept.size == 0 or slots == 0:
        return []
    if kept.size == need0.size:  # nothing pruned: use the stored arrays as they are
        pi, pj, pc = need0, cand0, cost0
    else:
        pi, pj, pc = need0[kept], cand0[kept], cost0[kept]
    grp = np.full(kept.size, -1, dtype=np.int64)
    if group is not None:
        grp = np.asarray(group, dtype=np.int64)[kept]
    gadget = np.zeros(kept.size, dtype=bool)
    few = 4 * int(h.max()) + 32
    if (
        int(h.max()) >= 2
        and int(c.max()) >= 2
        and int(np.bincount(pi, minlength=n).max()) > few
        and bool(((h[pi] >= 2) & (np.minimum(c, np.bincount(pj, minlength=m))[pj] >= 2)).any())
    ):
        sub = _about_cheapest(pi, pj, pc, n, m, few)
        used, found = _rounds(
            pi[sub], pj[sub], pc[sub], h, c, np.zeros(sub.size, dtype=bool), grp[sub]
        )
        gadget[sub[found]] = True
        gadget[sub[used]] = True  # pairs used once there may be wanted twice with more choice
    chosen, _ = _rounds(pi, pj, pc, h, c, gadget, grp)
    result: list[int] = (chosen if kept.size == need0.size else kept[chosen]).tolist()
    return result


def _about_cheapest(pi: _I64, pj: _I64, pc: _I64, n: int, m: int, k: int) -> NDArray[Any]:
    """Indices (ascending) of each need's ``k`` cheapest pairs, plus any tied with the k-th:
    one ``partition`` of the pairs laid out as a padded need × pair table when that table is
    small, else the exact pruning. (Only a heuristic's input: ties need no order here.)"""
    import numpy as np

    deg = np.bincount(pi, minlength=n)
    widest = int(deg.max())
    if widest <= k:
        return np.arange(pi.size)
    if n * widest > 2 * pi.size + 4096:
        return _prune_numpy(pi, pj, pc, n, m, k)
    table = np.full((n, widest), np.iinfo(np.int64).max, dtype=np.int64)
    table[pi, np.arange(pi.size) - np.repeat(np.cumsum(deg) - deg, deg)] = pc
    theta = np.partition(table, k - 1, axis=1)[:, k - 1]
    return np.flatnonzero(pc <= theta[pi])


def _rounds(
    pi: _I64,
    pj: _I64,
    pc: _I64,
    h: _I64,
    c: _I64,
    gadget: NDArray[np.bool_],
    group: _I64,
) -> tuple[NDArray[Any], NDArray[Any]]:
    """Solve relaxations until one uses no pair twice: (chosen pair indices, gadget mask).

    Rows: slot rows level by level — the first slot of every need, then the second slot of
    every need with two or more, … — then one row ``b_e`` per gadget pair and one per
    exclusive group. Needs are ranked by headcount (largest first), so each level's rows are a
    prefix of the first level's and their entries a prefix of one array: building a round is a
    few copies. An exclusive group (``group`` ≥ 0 on its pairs, one candidate) is the gadget of
    a pair widened to several needs: column ``a_g`` takes the slot rows of all its needs, row
    ``b_g`` takes ``a_g`` or one of the candidate's units, so at most one of the needs gets the
    candidate, at most once; its pairs have no direct entries and need no pair gadget.
    """
    import numpy as np
    from scipy.sparse import csr_array  # type: ignore[import-untyped]
    from scipy.sparse.csgraph import (  # type: ignore[import-untyped]
        maximum_bipartite_matching,
        min_weight_full_bipartite_matching,
    )

    n, m = len(h), len(c)
    slots = int(h.sum())
    low, high = int(pc.min()), int(pc.max())
    wmax = high - low + 1  # shifted weights w = cost − low + 1 ∈ [1, wmax] (LAPJVsp wants ≠ 0)
    penalty = slots * wmax + 1  # one more filled slot outweighs any cost difference
    copies = np.minimum(c, np.bincount(pj, minlength=m))  # usable capacity units per candidate
    ncols = int(copies.sum())
    in_group = group >= 0
    ngrp = 0
    if bool(in_group.any()):  # group ids 0 … ngrp − 1 (a subset of pairs may skip some)
        ids, compact = np.unique(group[in_group], return_inverse=True)
        group = np.full(group.size, -1, dtype=np.int64)
        group[in_group] = compact.reshape(-1)
        ngrp = int(ids.size)
    units = int(h.max()) * int(copies.max())
    most = (units if units <= 1 else int((h[pi] * copies[pj]).sum())) + 3 * pi.size + 2 * slots
    most += ncols + ngrp * (2 + int(copies.max()))  # bounds entries and columns: index type
    idx_t: type[np.signedinteger[Any]] = np.int32 if most < 2**31 - 1 else np.int64
    # needs ranked by headcount, largest first; pairs in (rank, candidate) order
    perm: NDArray[Any] | None = None
    if bool((np.diff(h) <= 0).all()):
        by_rank = np.arange(n)
        ri = pi.astype(idx_t)
    else:
        by_rank = np.argsort(-h, kind="stable")
        rank_of = np.empty(n, dtype=idx_t)
        rank_of[by_rank] = np.arange(n)
        perm = np.argsort(rank_of[pi], kind="stable")
        ri, pj, pc, gadget = rank_of[pi][perm], pj[perm].astype(idx_t), pc[perm], gadget[perm]
        group, in_group = group[perm], in_group[perm]
    hr = h[by_rank]
    w = (pc - low + 1).astype(np.float64)
    del pc
    colbase = (np.cumsum(copies) - copies).astype(idx_t)
    col_owner = np.repeat(np.arange(m), copies)
    pair_keys = ri.astype(np.int64) * m + pj  # ascending
    gadget = gadget & ~in_group  # a group's gadget already keeps its pairs single
    if units > 1:
        gadget = gadget & (hr[ri] >= 2) & (copies[pj] >= 2)  # only such pairs can be doubled
    gq = np.flatnonzero(in_group)  # the pairs of exclusive groups, and each group's candidate
    group_cand = np.zeros(ngrp, dtype=np.int64)
    group_cand[group[gq]] = pj[gq]
    live = [int((hr > k).sum()) for k in range(int(hr.max()))]  # rows per level
    while True:
        # one slot row's entries for each need: one per capacity unit of the candidate of
        # each of its direct pairs, plus the column a_e of each of its gadget pairs and the
        # column a_g of each group it is in
        gp = np.flatnonzero(gadget)
        ngad = gp.size
        nb = ngad + ngrp  # gadget rows b and columns a: pairs' first, then groups'
        d_need, d_cand, d_w = ri, pj, w
        if nb:
            direct = np.flatnonzero(~gadget & ~in_group)
            d_need, d_cand, d_w = ri[direct], pj[direct], w[direct]
            del direct
        e_col, e_w, e_need = colbase[d_cand], d_w, d_need
        if int(copies.max()) > 1:
            ell = copies[d_cand]
            first = (np.cumsum(ell) - ell).astype(idx_t)
            e_col = np.repeat(e_col - first, ell)
            e_col += np.arange(e_col.size, dtype=idx_t)
            e_w, e_need = np.repeat(d_w, ell), np.repeat(d_need, ell)
            del ell, first
        del d_need, d_cand, d_w
        if nb:
            x_need = np.concatenate([ri[gp], ri[gq]])
            x_col = np.concatenate([ncols + np.arange(ngad), ncols + ngad + group[gq]])
            x_w = np.concatenate([w[gp], w[gq]])
            o = np.lexsort((x_col, x_need))  # by need, columns ascending within it
            at = np.searchsorted(e_need, x_need[o], side="right")
            e_col = np.insert(e_col, at, x_col[o].astype(idx_t))
            e_w = np.insert(e_w, at, x_w[o])
            e_need = np.insert(e_need, at, x_need[o])
            del x_need, x_col, x_w, o, at
        need_len = np.bincount(e_need, minlength=n)
        ends = np.cumsum(need_len)
        b_cand = np.concatenate([pj[gp], group_cand]).astype(np.int64)
        b_len = 1 + copies[b_cand]  # rows b: [a] + the candidate's units, weight 1 each
        b_pos = _ranges(np.zeros(nb, dtype=np.int64), b_len)
        b_owner = np.repeat(np.arange(nb), b_len)
        b_cols = np.where(b_pos == 0, ncols + b_owner, colbase[b_cand][b_owner] + b_pos - 1)
        cuts = [int(ends[k - 1]) if k else 0 for k in live]
        indices = np.concatenate([e_col[:cut] for cut in cuts] + [b_cols.astype(idx_t)])
        data = np.concatenate([e_w[:cut] for cut in cuts] + [np.ones(b_cols.size)])
        lengths = np.concatenate([need_len[:k] for k in live] + [b_len])
        row_rank = np.concatenate([np.arange(k) for k in live])
        del e_col, e_w, e_need, b_pos, b_owner, b_cols
        nrows = slots + nb
        if (nrows + 1) * wmax * 4 >= _FLOAT_SAFE:
            raise _TooWide((nrows + 1) * wmax * 4)
        indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(idx_t)
        graph = csr_array((data, indices, indptr), shape=(nrows, ncols + nb))
        if bool((maximum_bipartite_matching(graph, perm_type="column") < 0).any()):
            # not every row can be matched: give each slot row a private "unfilled" column
            if (nrows + 1) * penalty * 4 >= _FLOAT_SAFE:
                raise _TooWide((nrows + 1) * penalty * 4)
            row_ends = indptr[1 : slots + 1]
            indices = np.insert(indices, row_ends, (ncols + nb + np.arange(slots)).astype(idx_t))
            data = np.insert(data, row_ends, float(penalty))
            indptr = indptr.copy()
            indptr[1:] += np.minimum(np.arange(1, nrows + 1), slots).astype(idx_t)
            graph = csr_array((data, indices, indptr), shape=(nrows, ncols + nb + slots))
        rows, cols = min_weight_full_bipartite_matching(graph)
        del graph, indices, data
        slot_rows = rows < slots
        r, col = rows[slot_rows], cols[slot_rows]
        is_direct = col < ncols
        via_gadget = (col >= ncols) & (col < ncols + ngad)
        via_group = (col >= ncols + ngad) & (col < ncols + nb)
        keys = row_rank[r[is_direct]] * m + col_owner[col[is_direct]]
        g_keys = row_rank[r[via_group]] * m + group_cand[col[via_group] - ncols - ngad]
        chosen = np.concatenate(
            [
                np.searchsorted(pair_keys, keys),
                gp[col[via_gadget] - ncols],
                np.searchsorted(pair_keys, g_keys),
            ]
        )
        twice = np.bincount(chosen, minlength=pi.size) > 1
        if not bool(twice.any()):
            break
        gadget = gadget | twice
    if perm is None:
        return np.sort(chosen), gadget
    back = np.empty(pi.size, dtype=bool)
    back[perm] = gadget
    return np.sort(perm[chosen]), back
