"""The batch assignment problem (批量派单问题) as data: :class:`AssignmentProblem`, its checks, its
dense input pruned as it is read, and the pair orders every backend reads it in.

Every integer vector is stored as native int64 bytes, and the pairs are kept in canonical order
(by need, then candidate). ``cost_order`` gives each need's pairs cheapest first, the order in
which the greedy method, both exact backends and the repair of the time-window search take them;
``numpy_views`` gives the stored vectors as numpy arrays without a copy. The model, and why the
pruning of :meth:`AssignmentProblem.from_dense <zhiyuan.matching.AssignmentProblem.from_dense>`
is exact, are stated in the package docs (:mod:`zhiyuan.matching.assignment`).

Example:
    >>> p = AssignmentProblem.from_lists(headcounts=[1, 1], capacities=[1, 1],
    ...                                  options=[[(0, 5), (1, 2)], [(0, 3)]])
    >>> offsets, order = cost_order(p)
    >>> offsets, [int(order[k]) for k in range(p.n_pairs)]
    ([0, 2, 3], [1, 0, 2])
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
from typing import TYPE_CHECKING, Any, Protocol, SupportsIndex, TypeAlias, cast

import attrs

from zhiyuan import convert
from zhiyuan._validators import items
from zhiyuan.errors import InvalidValue

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    _I64: TypeAlias = NDArray[np.int64]

__all__ = [
    "AssignmentProblem",
    "IntArrayLike",
    "cost_order",
    "cost_order_numpy",
    "numpy_views",
    "objective",
    "slot_penalties",
]


IntArrayLike: TypeAlias = "Iterable[SupportsIndex] | NDArray[Any]"
"""Integers as a list, tuple, range, :class:`array.array` or a numpy integer array."""

_NUMPY_MIN_PAIRS = 4096
"""Below this many pairs, checking and sorting in pure Python is as fast as numpy."""


@functools.cache
def _module_available(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def _has_numpy() -> bool:
    return _module_available("numpy")


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


def _conv_priorities(value: IntArrayLike | None) -> bytes:
    return b"" if value is None else _int64_bytes(value, "priorities")


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
            (package docs, "Time windows"); without them the model knows no clock.
        priorities: optional, one per need, each ≥ 0: higher is served first (package docs,
            "Priorities"; :func:`~zhiyuan.matching.dispatch_batch` gives the need's
            :attr:`Urgency.rank <zhiyuan.matching.Urgency.rank>`). Without them, or when all are
            equal, every slot counts the same.

    Raises:
        InvalidValue: a non-integer, a headcount or capacity below 1, an index out of range,
            sequences of different lengths, the same (need, candidate) pair twice, windows for
            some needs only, a window that does not end after it starts, or priorities that are
            not one per need or are below 0.

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
    _priorities: bytes = attrs.field(default=None, converter=_conv_priorities, repr=False)

    def __attrs_post_init__(self) -> None:
        _check_windows(self)
        _check_priorities(self)
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
    def priorities(self) -> memoryview:
        """Each need's priority, higher first (read-only int64 view; empty without them)."""
        return _view(self._priorities)

    @property
    def has_priorities(self) -> bool:
        """Whether the needs have priorities that differ (then higher ones are served first).

        Example:
            >>> AssignmentProblem.from_lists(headcounts=[1, 1], capacities=[1],
            ...                              options=[[(0, 1)], [(0, 2)]],
            ...                              priorities=[3, 1]).has_priorities
            True
        """
        return len(set(self.priorities.tolist())) > 1

    def priority_of(self, need: int) -> int:
        """Need ``need``'s priority (0 when the problem has none)."""
        return self.priorities[need] if self._priorities else 0

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
        priorities: IntArrayLike | None = None,
    ) -> AssignmentProblem:
        """From per-need lists of ``(candidate, cost)``: ``options[i]`` are need ``i``'s pairs
        (``starts``, ``ends`` and ``priorities`` as in the class).

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
            priorities=priorities,
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
        priorities: IntArrayLike | None = None,
    ) -> AssignmentProblem:
        """From a dense cost matrix (row ``i`` = need ``i``), keeping only what can matter.

        Each need keeps its ``min(allowed, H)`` cheapest candidates (ties by lower index), ``H``
        the total headcount: by the pruning lemma (package docs) exact and greedy results are the
        same as on the whole matrix. ``costs`` is a 2-D integer array or sequence of rows, or a
        callable ``costs(start, stop)`` that returns the rows of needs ``start … stop−1``, so the
        whole matrix never has to exist; it is read ``block_rows`` rows at a time (default:
        about 8 million entries per block). Entries equal to ``forbidden`` are not allowed pairs.
        With numpy installed the selection is vectorised (``numpy.partition`` per block);
        without it, ``heapq.nsmallest`` per row. ``starts``, ``ends`` and ``priorities`` are as in
        the class (the pruning stays exact with them: package docs).

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
            priorities=priorities,
        )


# JSON and TOML: the problem as its public vectors. (cattrs would write the private bytes fields
# under their private names, and read them back as one integer per byte.) Loading builds the
# problem with its constructor, so a document and a call are held to the one same rule.

_PLAIN = (
    "headcounts",
    "capacities",
    "needs",
    "candidates",
    "costs",
    "starts",
    "ends",
    "priorities",
)


def _problem_to_plain(p: AssignmentProblem) -> dict[str, list[int]]:
    out = {name: getattr(p, name).tolist() for name in _PLAIN[:5]}
    if p.has_windows:
        out["starts"], out["ends"] = p.starts.tolist(), p.ends.tolist()
    if p._priorities:
        out["priorities"] = p.priorities.tolist()
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


def _check_priorities(p: AssignmentProblem) -> None:
    """Priorities for every need or for none, each ≥ 0."""
    given = len(p._priorities) // 8
    if given == 0:
        return
    n = p.n_needs
    if given != n:
        raise InvalidValue(
            "priorities",
            given,
            f"须每个需求一个，共 {n} 个（或都不给） / must give one per need ({n}), or none",
        )
    for i, v in enumerate(p.priorities.tolist()):
        if v < 0:
            raise InvalidValue(f"priorities[{i}]", v, "优先级不能为负 / a priority is ≥ 0")


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

    h, c, need, cand, _ = numpy_views(p)
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
# What the backends read: the stored vectors as numpy arrays, and each need's pairs cheapest first


def numpy_views(p: AssignmentProblem) -> tuple[_I64, _I64, _I64, _I64, _I64]:
    """Zero-copy read-only numpy views: headcounts, capacities, needs, candidates, costs."""
    import numpy as np

    return (
        np.frombuffer(p._headcounts, dtype=np.int64),
        np.frombuffer(p._capacities, dtype=np.int64),
        np.frombuffer(p._needs, dtype=np.int64),
        np.frombuffer(p._candidates, dtype=np.int64),
        np.frombuffer(p._costs, dtype=np.int64),
    )


class _IntVec(Protocol):
    def __getitem__(self, k: int, /) -> SupportsIndex: ...


def cost_order(p: AssignmentProblem) -> tuple[list[int], _IntVec]:
    """Per-need offsets (n + 1) and the pair indices sorted by (need, cost, candidate)."""
    n = p.n_needs
    if _has_numpy() and p.n_pairs >= _NUMPY_MIN_PAIRS:
        import numpy as np

        _, _, need, cand, cost = numpy_views(p)
        offsets: list[int] = np.searchsorted(need, np.arange(n + 1)).tolist()
        return offsets, cost_order_numpy(need, cand, cost, p.n_candidates)
    needs, costs, cands = p.needs.tolist(), p.costs.tolist(), p.candidates.tolist()
    offsets = [bisect.bisect_left(needs, i) for i in range(n + 1)]
    return offsets, sorted(range(len(needs)), key=lambda k: (needs[k], costs[k], cands[k]))


def cost_order_numpy(need: _I64, cand: _I64, cost: _I64, m: int) -> NDArray[Any]:
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


# ---------------------------------------------------------------------------------------------
# Priorities: what every method reads to serve higher priorities first


def slot_penalties(p: AssignmentProblem, heads: Sequence[int], wmax: int) -> list[int]:
    """Per need, the price of leaving one of its slots empty (package docs, "Priorities").

    ``heads`` are the slots each need can fill at all (its headcount, capped at its allowed
    pairs) and ``wmax`` bounds every pair's weight (``0 ≤ w ≤ wmax``). A solver that minimises
    the weights of the chosen pairs plus these prices for the empty slots then fills the most
    slots of the highest priority, then of the next, …, and then pays the least weight. The
    lowest priority's price is ``S·wmax + 1`` (``S`` = the slots in all), more than any two
    assignments' weights can differ by; each higher one's is that plus every lower slot at its
    price, so one more slot filled there outweighs emptying all the slots below. Without
    priorities every need gets ``S·wmax + 1``.

    Example:
        >>> p = AssignmentProblem.from_lists(headcounts=[1, 2], capacities=[1],
        ...                                  options=[[(0, 1)], [(0, 2)]], priorities=[3, 1])
        >>> slot_penalties(p, [1, 1], 5)  # S = 2 fillable slots, weights up to 5
        [22, 11]
    """
    slots = sum(heads)
    base = slots * wmax + 1
    if not p.has_priorities:
        return [base] * len(heads)
    prio = p.priorities.tolist()
    per_tier: dict[int, int] = {}
    for i, h in enumerate(heads):
        per_tier[prio[i]] = per_tier.get(prio[i], 0) + h
    price: dict[int, int] = {}
    below = slots * wmax
    for tier in sorted(per_tier):
        price[tier] = below + 1
        below += per_tier[tier] * price[tier]
    return [price[prio[i]] for i in range(len(heads))]


def objective(p: AssignmentProblem, chosen: Iterable[int]) -> tuple[int, ...]:
    """What the exact method maximises, as a key to compare assignments (``chosen``: indices of
    ``p``'s pairs): the slots filled at each priority, highest first, then minus the cost.

    Example:
        >>> p = AssignmentProblem.from_lists(headcounts=[1, 1], capacities=[1],
        ...                                  options=[[(0, 1)], [(0, 2)]], priorities=[0, 2])
        >>> objective(p, [0]) < objective(p, [1])  # the urgent need filled, although dearer
        True
    """
    needs, costs = p.needs, p.costs
    picked = list(chosen)
    cost = sum(costs[k] for k in picked)
    if not p.has_priorities:
        return (len(picked), -cost)
    prio = p.priorities.tolist()
    tiers = sorted(set(prio), reverse=True)
    filled = dict.fromkeys(tiers, 0)
    for k in picked:
        filled[prio[needs[k]]] += 1
    return (*(filled[t] for t in tiers), -cost)
