"""The scipy backend of the exact method: sparse linear assignment (LAPJVsp) with
:func:`scipy.sparse.csgraph.min_weight_full_bipartite_matching`, for batches at city scale.

It needs numpy and scipy (``pip install 'zhiyuan[solver]'``;
:func:`~zhiyuan.matching.scipy_available` says whether they are installed). The pairs are pruned,
needs are expanded into slot rows and candidates into capacity columns, and a pair that a
relaxation uses twice gets a gadget in the next round (:mod:`zhiyuan.matching.assignment`,
"Methods and backends"). Costs too wide for exact float64 arithmetic raise ``TooWide``; the exact
method then falls back to the python backend (:mod:`~zhiyuan.matching.assignment.flow`).

Example:
    >>> from zhiyuan.matching.assignment.problem import AssignmentProblem
    >>> p = AssignmentProblem.from_lists(headcounts=[2, 1], capacities=[1, 1, 2],
    ...                                  options=[[(0, 5), (1, 3), (2, 9)], [(1, 1), (2, 4)]])
    >>> exact_scipy(p) if scipy_available() else [0, 1, 4]  # pair indices, as the python backend
    [0, 1, 4]
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

from zhiyuan.matching.assignment.problem import (
    AssignmentProblem,
    cost_order_numpy,
    numpy_views,
    slot_penalties,
)

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    _I64: TypeAlias = NDArray[np.int64]

__all__ = ["TooWide", "exact_scipy", "scipy_available"]


_FLOAT_SAFE = 2**52
"""The scipy backend requires 4 × (rows + 1) × the largest weight below this, so that the
matching's sums and LAPJVsp's dual prices (integers, in float64) stay far inside 2⁵³."""


@functools.cache
def _module_available(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def scipy_available() -> bool:
    """Whether the scipy backend can run (numpy and scipy installed: the ``solver`` extra)."""
    return _module_available("numpy") and _module_available("scipy")


class TooWide(Exception):
    """The costs are too wide for exact float64 arithmetic: ``bound`` (4 × (rows + 1) × the
    largest weight) is not below ``_FLOAT_SAFE``."""

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
    order = cost_order_numpy(need[sel], cand[sel], cost[sel], m)
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


def exact_scipy(p: AssignmentProblem, group: Sequence[int] | None = None) -> list[int]:
    """Exact solve by sparse assignment (LAPJVsp); see the package docs for the construction.

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

    h, c, need0, cand0, cost0 = numpy_views(p)
    n, m = len(h), len(c)
    h = np.minimum(h, np.bincount(need0, minlength=n))
    slots = int(h.sum())
    kept = _prune_numpy(need0, cand0, cost0, n, m, slots)
    if kept.size == 0 or slots == 0:
        return []
    price: NDArray[Any] | None = None
    if p.has_priorities:  # each need's price of an empty slot (package docs, "Priorities")
        kc = cost0[kept]
        wmax = int(kc.max()) - int(kc.min()) + 1
        price = np.asarray(slot_penalties(p, h.tolist(), wmax), dtype=object)
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
            pi[sub], pj[sub], pc[sub], h, c, np.zeros(sub.size, dtype=bool), grp[sub], price
        )
        gadget[sub[found]] = True
        gadget[sub[used]] = True  # pairs used once there may be wanted twice with more choice
    chosen, _ = _rounds(pi, pj, pc, h, c, gadget, grp, price)
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
    price: NDArray[Any] | None = None,
) -> tuple[NDArray[Any], NDArray[Any]]:
    """Solve relaxations until one uses no pair twice: (chosen pair indices, gadget mask).

    ``price`` gives each need's price of an empty slot when the needs have priorities
    (:func:`~zhiyuan.matching.assignment.problem.slot_penalties`, for the whole problem's
    weights: an upper bound for any subset of its pairs); without it every empty slot costs
    ``slots × wmax + 1``.

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
            raise TooWide((nrows + 1) * wmax * 4)
        indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(idx_t)
        graph = csr_array((data, indices, indptr), shape=(nrows, ncols + nb))
        if bool((maximum_bipartite_matching(graph, perm_type="column") < 0).any()):
            # not every row can be matched: give each slot row a private "unfilled" column
            if price is None:
                row_price: Any = float(penalty)
                top = penalty
            else:
                need_price = price[by_rank][row_rank]  # slot row → its need's price
                top = int(need_price.max())
                row_price = need_price.astype(np.float64)
            if (nrows + 1) * top * 4 >= _FLOAT_SAFE:
                raise TooWide((nrows + 1) * top * 4)
            row_ends = indptr[1 : slots + 1]
            indices = np.insert(indices, row_ends, (ncols + nb + np.arange(slots)).astype(idx_t))
            data = np.insert(data, row_ends, row_price)
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
