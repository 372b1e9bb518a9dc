"""Batch assignment: exact results against independent references, greedy, pruning, inputs.

The references here share no code with :mod:`zhiyuan.matching.assignment`: a brute force over
every subset of pairs (tiny instances), a cycle-cancelling min-cost max-flow (Edmonds–Karp, then
Bellman–Ford negative-cycle cancelling; small instances), a plain greedy that sorts all pairs
once, and scipy's dense ``linear_sum_assignment`` for the one-slot, one-task case.
"""

from __future__ import annotations

import itertools
import pickle
import random
from collections import Counter
from typing import Any

import attrs
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment

from zhiyuan.errors import InvalidValue, ZhiyuanError
from zhiyuan.matching import assignment as asg
from zhiyuan.matching.assignment import Assignment, AssignmentProblem, solve
from zhiyuan.matching.assignment import exact as asg_exact
from zhiyuan.matching.assignment import lap as asg_lap
from zhiyuan.matching.assignment import problem as asg_problem

Pair = tuple[int, int, int]  # need, candidate, cost


# ---------------------------------------------------------------------------------------------
# Independent references


def brute_force(h: list[int], c: list[int], pairs: list[Pair]) -> tuple[int, int]:
    """(filled, cost) of the lexicographic optimum over every subset of pairs."""
    best = (0, 0)
    for r in range(1, len(pairs) + 1):
        for sub in itertools.combinations(pairs, r):
            need = Counter(i for i, _, _ in sub)
            cand = Counter(j for _, j, _ in sub)
            if any(need[i] > h[i] for i in need) or any(cand[j] > c[j] for j in cand):
                continue
            cost = sum(x for _, _, x in sub)
            if (r, -cost) > (best[0], -best[1]):
                best = (r, cost)
    return best


def cycle_cancelling(h: list[int], c: list[int], pairs: list[Pair]) -> tuple[int, int]:
    """(filled, cost): a maximum flow by BFS augmentation, then negative cycles cancelled.

    A maximum flow whose residual graph has no negative cycle is a least-cost maximum flow.
    """
    n, m = len(h), len(c)
    s, t = n + m, n + m + 1
    size = n + m + 2
    to: list[int] = []
    cap: list[int] = []
    cost: list[int] = []
    out: list[list[int]] = [[] for _ in range(size)]

    def edge(u: int, v: int, k: int, w: int) -> None:
        for a, b, kk, ww in ((u, v, k, w), (v, u, 0, -w)):
            out[a].append(len(to))
            to.append(b)
            cap.append(kk)
            cost.append(ww)

    for i in range(n):
        edge(s, i, h[i], 0)
    for j in range(m):
        edge(n + j, t, c[j], 0)
    pair_edges = []
    for i, j, w in pairs:
        pair_edges.append(len(to))
        edge(i, n + j, 1, w)
    flow = 0
    while True:  # Edmonds–Karp
        prev = [-1] * size
        prev[s] = -2
        queue = [s]
        for u in queue:
            for e in out[u]:
                if cap[e] > 0 and prev[to[e]] == -1:
                    prev[to[e]] = e
                    queue.append(to[e])
        if prev[t] == -1:
            break
        v = t
        while v != s:
            e = prev[v]
            cap[e] -= 1
            cap[e ^ 1] += 1
            v = to[e ^ 1]
        flow += 1
    while True:  # cancel negative cycles (Bellman–Ford from a virtual root)
        dist = [0] * size
        pred = [-1] * size
        last = -1
        for _ in range(size):  # a relaxation in round `size` proves a negative cycle
            last = -1
            for e in range(len(to)):
                u = to[e ^ 1]
                if cap[e] > 0 and dist[u] + cost[e] < dist[to[e]]:
                    dist[to[e]] = dist[u] + cost[e]
                    pred[to[e]] = e
                    last = to[e]
            if last == -1:
                break
        if last == -1:
            break
        v = last
        for _ in range(size):
            v = to[pred[v] ^ 1]
        cycle, u = [], v
        while True:
            e = pred[u]
            cycle.append(e)
            u = to[e ^ 1]
            if u == v:
                break
        push = min(cap[e] for e in cycle)
        for e in cycle:
            cap[e] -= push
            cap[e ^ 1] += push
    total = sum(cost[e] for e in pair_edges if cap[e] == 0)
    return flow, total


def plain_greedy(h: list[int], c: list[int], pairs: list[Pair]) -> list[tuple[int, int]]:
    taken, load, out = [0] * len(h), [0] * len(c), []
    for _w, i, j in sorted((w, i, j) for i, j, w in pairs):
        if taken[i] < h[i] and load[j] < c[j]:
            taken[i] += 1
            load[j] += 1
            out.append((i, j))
    return sorted(out)


# ---------------------------------------------------------------------------------------------
# Strategies and helpers


@st.composite
def instances(
    draw: st.DrawFn, max_n: int = 8, max_m: int = 10, max_h: int = 3, max_c: int = 3
) -> tuple[list[int], list[int], list[Pair]]:
    n = draw(st.integers(0, max_n))
    m = draw(st.integers(0, max_m))
    h = draw(st.lists(st.integers(1, max_h), min_size=n, max_size=n))
    c = draw(st.lists(st.integers(1, max_c), min_size=m, max_size=m))
    density = draw(st.sampled_from([0.15, 0.4, 0.8, 1.0]))
    costs = st.integers(-20, 60) if draw(st.booleans()) else st.integers(0, 3)  # 0–3: many ties
    pairs: list[Pair] = []
    for i in range(n):
        for j in range(m):
            if draw(st.floats(0, 1)) < density:
                pairs.append((i, j, draw(costs)))
    return h, c, draw(st.permutations(pairs))


def problem(h: list[int], c: list[int], pairs: list[Pair]) -> AssignmentProblem:
    return AssignmentProblem(
        headcounts=h,
        capacities=c,
        needs=[i for i, _, _ in pairs],
        candidates=[j for _, j, _ in pairs],
        costs=[w for _, _, w in pairs],
    )


def check_feasible(a: Assignment, h: list[int], c: list[int], pairs: list[Pair]) -> None:
    allowed = {(i, j): w for i, j, w in pairs}
    chosen = [(x.need, x.candidate) for x in a.pairs]
    assert len(set(chosen)) == len(chosen), "a need got the same candidate twice"
    for x in a.pairs:
        assert allowed[x.need, x.candidate] == x.cost
    load = Counter(x.candidate for x in a.pairs)
    assert all(load[j] <= c[j] for j in load), "a candidate over capacity"
    taken = Counter(x.need for x in a.pairs)
    assert all(taken[i] <= h[i] for i in taken)
    assert a.unfilled == tuple(h[i] - taken[i] for i in range(len(h)))
    assert a.filled == len(a.pairs) == sum(h) - sum(a.unfilled)
    assert a.slots == sum(h)
    assert a.total_cost == sum(x.cost for x in a.pairs)
    assert chosen == sorted(chosen)
    assert len(a.shortfalls) == sum(1 for u in a.unfilled if u)


def pure_python(mp: pytest.MonkeyPatch) -> None:
    """Behave as if numpy and scipy were not installed."""
    mp.setattr(asg_problem, "_has_numpy", lambda: False)
    mp.setattr(asg_exact, "scipy_available", lambda: False)


# ---------------------------------------------------------------------------------------------
# The references agree with each other


@given(instances(max_n=4, max_m=4, max_h=2, max_c=2))
@settings(max_examples=150)
def test_references_agree(inst: tuple[list[int], list[int], list[Pair]]) -> None:
    h, c, pairs = inst
    if len(pairs) <= 10:
        assert cycle_cancelling(h, c, pairs) == brute_force(h, c, pairs)


# ---------------------------------------------------------------------------------------------
# Exact: both backends against the references


@given(instances())
@settings(max_examples=300)
def test_exact_scipy_matches_reference(inst: tuple[list[int], list[int], list[Pair]]) -> None:
    h, c, pairs = inst
    a = solve(problem(h, c, pairs), backend="scipy")
    assert a.backend == "scipy" and a.method == "exact" and a.note == ""
    check_feasible(a, h, c, pairs)
    assert (a.filled, a.total_cost) == cycle_cancelling(h, c, pairs)


@given(instances())
@settings(max_examples=300)
def test_exact_python_matches_reference(inst: tuple[list[int], list[int], list[Pair]]) -> None:
    h, c, pairs = inst
    a = solve(problem(h, c, pairs), backend="python")
    assert a.backend == "python"
    check_feasible(a, h, c, pairs)
    assert (a.filled, a.total_cost) == cycle_cancelling(h, c, pairs)


@given(instances(max_n=4, max_m=4))
@settings(max_examples=150)
def test_exact_matches_brute_force(inst: tuple[list[int], list[int], list[Pair]]) -> None:
    h, c, pairs = inst
    if len(pairs) > 11:
        pairs = pairs[:11]
    p = problem(h, c, pairs)
    ref = brute_force(h, c, pairs)
    for backend in ("scipy", "python"):
        a = solve(p, backend=backend)  # type: ignore[arg-type]
        assert (a.filled, a.total_cost) == ref


@given(instances())
@settings(max_examples=100)
def test_exact_without_numpy_or_scipy(inst: tuple[list[int], list[int], list[Pair]]) -> None:
    h, c, pairs = inst
    with pytest.MonkeyPatch.context() as mp:
        pure_python(mp)
        a = solve(problem(h, c, pairs))
    assert a.backend == "python" and "scipy" in a.note
    check_feasible(a, h, c, pairs)
    assert (a.filled, a.total_cost) == cycle_cancelling(h, c, pairs)


@given(st.integers(1, 8), st.integers(1, 10), st.randoms(use_true_random=False))
@settings(max_examples=150)
def test_one_slot_one_task_dense_equals_linear_sum_assignment(
    n: int, m: int, rnd: random.Random
) -> None:
    matrix = np.array([[rnd.randint(-50, 500) for _ in range(m)] for _ in range(n)])
    rows, cols = linear_sum_assignment(matrix)
    expected = int(matrix[rows, cols].sum())
    pairs = [(i, j, int(matrix[i, j])) for i in range(n) for j in range(m)]
    for backend in ("scipy", "python"):
        a = solve(problem([1] * n, [1] * m, pairs), backend=backend)  # type: ignore[arg-type]
        assert a.filled == min(n, m)
        assert a.total_cost == expected
    dense = AssignmentProblem.from_dense(headcounts=[1] * n, capacities=[1] * m, costs=matrix)
    assert solve(dense).total_cost == expected


def test_pair_used_twice_by_the_relaxation_is_repaired() -> None:
    # Need 0 has two slots and candidate 0 two capacity units: the slot expansion alone would
    # give both slots to candidate 0 (cost 2); the true optimum is 1 + 10.
    p = AssignmentProblem.from_lists(
        headcounts=[2, 1], capacities=[2, 1, 1], options=[[(0, 1), (1, 10), (2, 50)], [(2, 3)]]
    )
    for backend in ("scipy", "python"):
        a = solve(p, backend=backend)  # type: ignore[arg-type]
        assert [(x.need, x.candidate) for x in a.pairs] == [(0, 0), (0, 1), (1, 2)]
        assert a.total_cost == 14


def test_many_doubles_need_several_rounds() -> None:
    # every need has 3 slots, every candidate 3 units, costs rise with the candidate index: the
    # relaxation stacks each need's slots on its cheapest candidates round after round
    rnd = random.Random(7)
    n, m = 6, 9
    pairs = [(i, j, 10 * j + rnd.randint(0, 3)) for i in range(n) for j in range(m)]
    h, c = [3] * n, [3] * m
    ref = cycle_cancelling(h, c, pairs)
    for backend in ("scipy", "python"):
        a = solve(problem(h, c, pairs), backend=backend)  # type: ignore[arg-type]
        check_feasible(a, h, c, pairs)
        assert (a.filled, a.total_cost) == ref


def test_lexicographic_more_slots_beat_lower_cost() -> None:
    # Filling both needs costs 100 + 100; filling one costs 1. More slots win.
    p = AssignmentProblem.from_lists(
        headcounts=[1, 1], capacities=[1, 1], options=[[(0, 1), (1, 100)], [(0, 100)]]
    )
    for backend in ("scipy", "python"):
        a = solve(p, backend=backend)  # type: ignore[arg-type]
        assert (a.filled, a.total_cost) == (2, 200)


# ---------------------------------------------------------------------------------------------
# Greedy


@given(instances())
@settings(max_examples=300)
def test_greedy_is_the_plain_greedy_and_never_beats_exact(
    inst: tuple[list[int], list[int], list[Pair]],
) -> None:
    h, c, pairs = inst
    p = problem(h, c, pairs)
    g = solve(p, method="greedy")
    assert g.method == "greedy" and g.backend == "python"
    check_feasible(g, h, c, pairs)
    assert [(x.need, x.candidate) for x in g.pairs] == plain_greedy(h, c, pairs)
    e = solve(p)
    assert g.filled <= e.filled <= g.slots
    if g.filled == e.filled:
        assert g.total_cost >= e.total_cost


@given(instances())
@settings(max_examples=100)
def test_vectorised_and_pure_paths_agree(inst: tuple[list[int], list[int], list[Pair]]) -> None:
    h, c, pairs = inst
    with pytest.MonkeyPatch.context() as mp:
        pure_python(mp)
        pure = problem(h, c, pairs)
        pure_greedy = solve(pure, method="greedy")
        pure_exact = solve(pure)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(asg_problem, "_NUMPY_MIN_PAIRS", 0)
        vec = problem(h, c, pairs)
        assert vec == pure and hash(vec) == hash(pure)
        assert solve(vec, method="greedy") == pure_greedy
        exact = solve(vec, backend="python")
    assert (exact.filled, exact.total_cost) == (pure_exact.filled, pure_exact.total_cost)


# ---------------------------------------------------------------------------------------------
# Pruning (from_dense) changes nothing


@st.composite
def dense_instances(draw: st.DrawFn) -> tuple[list[int], list[int], list[list[int]]]:
    n = draw(st.integers(0, 7))
    m = draw(st.integers(1, 12))
    h = draw(st.lists(st.integers(1, 2), min_size=n, max_size=n))
    c = draw(st.lists(st.integers(1, 3), min_size=m, max_size=m))
    cell = st.integers(-1, 4) if draw(st.booleans()) else st.integers(-1, 40)
    matrix = draw(st.lists(st.lists(cell, min_size=m, max_size=m), min_size=n, max_size=n))
    return h, c, matrix


def dense_pairs(matrix: list[list[int]], forbidden: int | None) -> list[Pair]:
    return [
        (i, j, v)
        for i, row in enumerate(matrix)
        for j, v in enumerate(row)
        if forbidden is None or v != forbidden
    ]


def kept_reference(matrix: list[list[int]], k: int, forbidden: int | None) -> list[Pair]:
    out: list[Pair] = []
    for i, row in enumerate(matrix):
        allowed = sorted((v, j) for j, v in enumerate(row) if forbidden is None or v != forbidden)
        out += sorted((i, j, v) for v, j in allowed[:k])
    return out


@given(dense_instances(), st.sampled_from([None, -1]), st.integers(1, 4))
@settings(max_examples=200)
def test_from_dense_keeps_each_needs_cheapest_and_changes_no_result(
    inst: tuple[list[int], list[int], list[list[int]]], forbidden: int | None, block: int
) -> None:
    h, c, matrix = inst
    full = problem(h, c, dense_pairs(matrix, forbidden))
    expected = kept_reference(matrix, sum(h), forbidden)
    arr = np.array(matrix, dtype=np.int32).reshape(len(h), len(c))
    for costs in (matrix, arr, lambda a, b: arr[a:b]):
        pruned = AssignmentProblem.from_dense(
            headcounts=h, capacities=c, costs=costs, forbidden=forbidden, block_rows=block
        )
        got = list(zip(pruned.needs, pruned.candidates, pruned.costs, strict=True))
        assert got == expected
        e_full, e_pruned = solve(full), solve(pruned)
        assert (e_pruned.filled, e_pruned.total_cost) == (e_full.filled, e_full.total_cost)
        assert solve(pruned, method="greedy").pairs == solve(full, method="greedy").pairs


@given(dense_instances(), st.sampled_from([None, -1]))
@settings(max_examples=100)
def test_from_dense_without_numpy(
    inst: tuple[list[int], list[int], list[list[int]]], forbidden: int | None
) -> None:
    h, c, matrix = inst
    with_numpy = AssignmentProblem.from_dense(
        headcounts=h, capacities=c, costs=matrix, forbidden=forbidden
    )
    with pytest.MonkeyPatch.context() as mp:
        pure_python(mp)
        pure = AssignmentProblem.from_dense(
            headcounts=h, capacities=c, costs=matrix, forbidden=forbidden, block_rows=2
        )
    assert pure == with_numpy


def _patterns(m: int, rnd: np.random.Generator) -> dict[str, np.ndarray]:
    j = np.arange(m)
    return {
        "random": rnd.integers(0, 10_000, m),
        "few values": rnd.integers(0, 3, m),
        "ascending": j.copy(),
        "descending": m - j,
        "all equal": np.full(m, 7),
        "sample sees the cheap ones": np.where(j % 16 == 0, 1, 50),  # estimate far too low
        "sample sees the dear ones": np.where(j % 16 == 0, 50, 1),
        "cheap at the end": np.where(j > m - 40, 0, 100 + j % 5),
    }


@pytest.mark.parametrize("forbidden", [None, -1])
@pytest.mark.parametrize("heads", [[1], [2, 1], [3, 3, 2], [700]])
def test_from_dense_wide_rows_are_exact_for_any_shape(
    heads: list[int], forbidden: int | None
) -> None:
    # m ≥ 4·H and m ≥ 1,024: the threshold is estimated from every 16th column first
    rnd = np.random.default_rng(len(heads) * 100 + heads[0])
    kinds = 8
    m = 4 * kinds * sum(heads) + 1500
    rows = []
    for name, row in _patterns(m, rnd).items():
        row = row.copy()
        if forbidden is not None and name != "all equal":
            row[rnd.random(m) < 0.3] = forbidden
        rows.append(row)
    assert len(rows) == kinds
    matrix = np.array([rows[i % kinds] for i in range(kinds * len(heads))])
    h = [heads[i % len(heads)] for i in range(matrix.shape[0])]
    for dtype in (np.int32, np.int64):
        p = AssignmentProblem.from_dense(
            headcounts=h,
            capacities=[1] * m,
            costs=matrix.astype(dtype),
            forbidden=forbidden,
            block_rows=3,
        )
        got = list(zip(p.needs, p.candidates, p.costs, strict=True))
        assert got == kept_reference(matrix.tolist(), sum(h), forbidden)


def test_from_dense_ties_at_the_threshold_go_to_lower_candidates() -> None:
    p = AssignmentProblem.from_dense(
        headcounts=[2], capacities=[1] * 6, costs=np.array([[3, 1, 1, 1, 0, 1]])
    )
    assert p.options(0) == [(1, 1), (4, 0)]


def test_from_dense_never_needs_the_whole_matrix() -> None:
    calls: list[tuple[int, int]] = []
    rnd = np.random.default_rng(3)
    full = rnd.integers(0, 1000, size=(50, 300))

    def rows(a: int, b: int) -> Any:
        calls.append((a, b))
        return full[a:b]

    p = AssignmentProblem.from_dense(
        headcounts=[1] * 50, capacities=[1] * 300, costs=rows, block_rows=16
    )
    assert calls == [(0, 16), (16, 32), (32, 48), (48, 50)]
    assert p.n_pairs == 50 * 50
    r, c = linear_sum_assignment(full)
    assert solve(p).total_cost == int(full[r, c].sum())


@pytest.mark.parametrize(
    ("costs", "field"),
    [
        ([[1, 2], [3, 4]], "costs"),  # two rows for one need
        (np.array([[1.5, 2.0]]), "costs"),  # floats
        (lambda a, b: np.zeros((b - a, 3), dtype=np.int64), "costs"),  # wrong width
        (np.array([[2**64 - 1, 0]], dtype=np.uint64), "costs"),
    ],
)
def test_from_dense_rejects_bad_matrices(costs: Any, field: str) -> None:
    with pytest.raises(InvalidValue) as err:
        AssignmentProblem.from_dense(headcounts=[1], capacities=[1, 1], costs=costs)
    assert err.value.field == field


def test_from_dense_rejects_bad_block_rows_and_sizes() -> None:
    with pytest.raises(InvalidValue, match="block_rows"):
        AssignmentProblem.from_dense(headcounts=[1], capacities=[1], costs=[[1]], block_rows=0)
    with pytest.raises(InvalidValue, match=r"headcounts\[0\]"):
        AssignmentProblem.from_dense(headcounts=[-2], capacities=[1], costs=[[1]])
    with pytest.raises(InvalidValue, match=r"capacities\[1\]"):
        AssignmentProblem.from_dense(headcounts=[1], capacities=[1, 0], costs=[[1, 1]])


def test_from_dense_pure_rejects_non_integers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(asg_problem, "_has_numpy", lambda: False)
    with pytest.raises(InvalidValue, match=r"costs\[0\]\[1\]"):
        AssignmentProblem.from_dense(headcounts=[1], capacities=[1, 1], costs=[[1, 2.5]])
    with pytest.raises(InvalidValue, match=r"costs\[0\]"):
        AssignmentProblem.from_dense(headcounts=[1], capacities=[1, 1], costs=[[1]])


# ---------------------------------------------------------------------------------------------
# Unfilled slots, all-or-error, backends


def test_unfillable_slots_are_reported_not_raised() -> None:
    p = AssignmentProblem.from_lists(
        headcounts=[3, 1, 2], capacities=[1, 1], options=[[(0, 1)], [(1, 2)], []]
    )
    for method, backend in (("exact", "scipy"), ("exact", "python"), ("greedy", "auto")):
        a = solve(p, method=method, backend=backend)
        assert [(x.need, x.candidate) for x in a.pairs] == [(0, 0), (1, 1)]
        assert (a.filled, a.slots, a.unfilled, a.total_cost) == (2, 6, (2, 0, 2), 3)
        assert a.candidates_for(0) == (0,) and a.needs_for(1) == (1,) and a.candidates_for(2) == ()
    text = a.explain()
    assert text.splitlines()[0] == (
        "已派 2/6 个名额，总成本 3 / filled 2 of 6 slots, total cost 3 (greedy)"
    )
    assert "need 0: only 1 allowed candidate(s) for 3 slot(s); 2 unfilled" in text
    assert "need 2: only 0 allowed candidate(s) for 2 slot(s); 2 unfilled" in text
    assert [f.variant for f in a.shortfalls] == ["few_allowed", "few_allowed"]


def test_shortfall_when_candidates_are_taken() -> None:
    p = AssignmentProblem.from_lists(
        headcounts=[1, 1], capacities=[1], options=[[(0, 1)], [(0, 2)]]
    )
    a = solve(p)
    assert a.unfilled == (0, 1)
    (f,) = a.shortfalls
    assert f.variant == "taken" and f.numbers == {
        "need": 1,
        "unfilled": 1,
        "headcount": 1,
        "allowed": 1,
    }
    assert "serve other needs" in str(f)


def test_all_or_error_raises_with_the_best_assignment() -> None:
    p = AssignmentProblem.from_lists(
        headcounts=[1, 1], capacities=[1], options=[[(0, 1)], [(0, 2)]]
    )
    for method in ("exact", "greedy"):
        with pytest.raises(InvalidValue) as err:
            solve(p, method=method, fill="all_or_error")  # type: ignore[arg-type]
        assert isinstance(err.value, ZhiyuanError)
        assert isinstance(err.value.value, Assignment) and err.value.value.filled == 1
        assert "1/2" in str(err.value)
        pickle.loads(pickle.dumps(err.value))
    ok = AssignmentProblem.from_lists(headcounts=[1], capacities=[1], options=[[(0, 1)]])
    assert solve(ok, fill="all_or_error").filled == 1


@pytest.mark.parametrize(
    ("n", "m", "pairs"),
    [(0, 0, []), (0, 3, []), (2, 0, []), (2, 2, []), (1, 1, [(0, 0, 0)])],
)
def test_empty_and_trivial(n: int, m: int, pairs: list[Pair]) -> None:
    h, c = [2] * n, [1] * m
    for backend in ("scipy", "python"):
        a = solve(problem(h, c, pairs), backend=backend)  # type: ignore[arg-type]
        check_feasible(a, h, c, pairs)
        assert a.filled == len(pairs)
    assert solve(problem(h, c, pairs), method="greedy").filled == len(pairs)


def test_scipy_backend_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(asg_exact, "scipy_available", lambda: False)
    p = AssignmentProblem.from_lists(headcounts=[1], capacities=[1], options=[[(0, 5)]])
    with pytest.raises(InvalidValue, match="solver"):
        solve(p, backend="scipy")
    a = solve(p)
    assert a.backend == "python" and "scipy" in a.note and a.note in a.explain()


def test_costs_too_wide_for_float64_fall_back_to_integers() -> None:
    big = 2**62
    p = AssignmentProblem.from_lists(
        headcounts=[1, 1], capacities=[1, 1], options=[[(0, -big), (1, big)], [(0, big)]]
    )
    a = solve(p)
    assert a.backend == "python" and "float64" in a.note
    assert (a.filled, a.total_cost) == (2, 2 * big)
    with pytest.raises(InvalidValue, match="float64"):
        solve(p, backend="scipy")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"method": "best"}, "method"), ({"backend": "gpu"}, "backend"), ({"fill": "all"}, "fill")],
)
def test_unknown_options(kwargs: dict[str, str], field: str) -> None:
    p = AssignmentProblem.from_lists(headcounts=[1], capacities=[1], options=[[(0, 5)]])
    with pytest.raises(InvalidValue) as err:
        solve(p, **kwargs)  # type: ignore[arg-type]
    assert err.value.field == field


# ---------------------------------------------------------------------------------------------
# The problem value


def test_pairs_are_kept_in_canonical_order_and_problems_compare_by_value() -> None:
    a = problem([1, 1], [1, 1], [(1, 0, 3), (0, 1, 2), (0, 0, 5)])
    b = problem([1, 1], [1, 1], [(0, 0, 5), (1, 0, 3), (0, 1, 2)])
    assert a == b and hash(a) == hash(b) and {a, b} == {a}
    assert list(a.needs) == [0, 0, 1] and list(a.candidates) == [0, 1, 0]
    assert list(a.costs) == [5, 2, 3]
    assert a.options(0) == [(0, 5), (1, 2)] and a.options(5) == []
    assert repr(a) == "AssignmentProblem(needs=2, candidates=2, pairs=3, slots=2)"
    assert a != problem([1, 1], [1, 1], [(0, 0, 5), (1, 0, 3), (0, 1, 1)])
    assert pickle.loads(pickle.dumps(a)) == a
    view = np.asarray(a.costs)
    assert not view.flags.writeable
    with pytest.raises(TypeError):
        a.costs[0] = 1  # type: ignore[index]


def test_numpy_arrays_are_copied_and_accepted() -> None:
    needs = np.array([0, 1], dtype=np.int32)
    p = AssignmentProblem(
        headcounts=np.array([1, 1]),
        capacities=np.array([2], dtype=np.uint8),
        needs=needs,
        candidates=np.zeros(2, dtype=np.int64),
        costs=np.array([7, 8]),
    )
    needs[0] = 1  # the caller's array is not shared
    assert list(p.needs) == [0, 1]
    assert solve(p).total_cost == 15


BAD_INPUTS: list[tuple[dict[str, Any], str]] = [
    ({"headcounts": [1, 0]}, "headcounts[1]"),
    ({"capacities": [-1, 1]}, "capacities[0]"),
    ({"needs": [0, 2]}, "needs[1]"),
    ({"needs": [-1, 0]}, "needs[0]"),
    ({"candidates": [0, 2]}, "candidates[1]"),
    ({"candidates": [0, 0], "needs": [1, 1]}, "candidates"),  # duplicate pair
    ({"costs": [1]}, "candidates"),  # lengths differ
    ({"costs": [1, 2.0]}, "costs[1]"),
    ({"costs": [True, 2]}, "costs[0]"),
    ({"costs": [1, 2**63]}, "costs[1]"),
    ({"headcounts": 5}, "headcounts"),
]


@pytest.mark.parametrize(("change", "field"), BAD_INPUTS)
@pytest.mark.parametrize("vectorised", [False, True])
def test_bad_inputs_name_the_field(
    change: dict[str, Any], field: str, vectorised: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if vectorised:
        monkeypatch.setattr(asg_problem, "_NUMPY_MIN_PAIRS", 0)
    kwargs: dict[str, Any] = {
        "headcounts": [1, 1],
        "capacities": [1, 1],
        "needs": [0, 1],
        "candidates": [0, 1],
        "costs": [1, 2],
    }
    kwargs.update(change)
    with pytest.raises(InvalidValue) as err:
        AssignmentProblem(**kwargs)
    assert err.value.field == field


@pytest.mark.parametrize(
    ("arrays", "field"),
    [
        ({"costs": np.array([1.0, 2.0])}, "costs"),
        ({"costs": np.array([[1, 2]])}, "costs"),
        ({"costs": np.array([1, 2**64 - 1], dtype=np.uint64)}, "costs[1]"),
        ({"needs": np.array([True, False])}, "needs"),
    ],
)
def test_bad_numpy_inputs(arrays: dict[str, Any], field: str) -> None:
    kwargs: dict[str, Any] = {
        "headcounts": [1, 1],
        "capacities": [1, 1],
        "needs": [0, 1],
        "candidates": [0, 1],
        "costs": [1, 2],
    }
    kwargs.update(arrays)
    with pytest.raises(InvalidValue) as err:
        AssignmentProblem(**kwargs)
    assert err.value.field == field


def test_from_lists_rejects_malformed_items() -> None:
    with pytest.raises(InvalidValue, match=r"options\[0\]"):
        AssignmentProblem.from_lists(headcounts=[1], capacities=[1], options=[[(0, 1, 2)]])


def test_larger_instance_vectorised_checks_and_pruning() -> None:
    # 40 needs × 300 candidates, every pair allowed, shuffled: the vectorised checks sort the
    # pairs, pruning keeps 40 per need, and the result equals the dense reference.
    rnd = np.random.default_rng(11)
    matrix = rnd.integers(0, 10_000, size=(40, 300))
    i, j = np.meshgrid(np.arange(40), np.arange(300), indexing="ij")
    perm = rnd.permutation(matrix.size)
    p = AssignmentProblem(
        headcounts=np.ones(40, dtype=np.int64),
        capacities=np.ones(300, dtype=np.int64),
        needs=i.ravel()[perm],
        candidates=j.ravel()[perm],
        costs=matrix.ravel()[perm],
    )
    r, c = linear_sum_assignment(matrix)
    expected = int(matrix[r, c].sum())
    assert solve(p).total_cost == expected
    assert solve(p, backend="python").total_cost == expected
    g = solve(p, method="greedy")
    pairs = [(a, b, int(matrix[a, b])) for a in range(40) for b in range(300)]
    assert [(x.need, x.candidate) for x in g.pairs] == plain_greedy([1] * 40, [1] * 300, pairs)


# ---------------------------------------------------------------------------------------------
# Bigger instances: the gadget search on the cheapest pairs, and both of its paths


@pytest.mark.parametrize(("seed", "wide"), [(s, w) for s in range(3) for w in (False, True)])
def test_gadget_search_on_cheap_pairs_changes_no_result(seed: int, wide: bool) -> None:
    # enough slots that each need keeps more than 4·3 + 32 pairs, so the scipy backend first
    # looks for gadgets on each need's cheapest pairs; the integer backend is the reference.
    # `wide`: one need with many pairs among many narrow ones, too sparse for the padded table.
    rnd = np.random.default_rng(seed)
    n, m = (150, 400) if wide else (60, 400)
    h = rnd.integers(1, 4, n)
    c = rnd.integers(1, 4, m)
    keep = rnd.random((n, m)) < (0.02 if wide else 0.9)
    keep[0] = True
    i, j = np.nonzero(keep)
    cost = rnd.integers(0, 30, i.size)  # few distinct costs: ties everywhere
    p = AssignmentProblem(headcounts=h, capacities=c, needs=i, candidates=j, costs=cost)
    kept = np.minimum(np.bincount(i, minlength=n), int(h.sum()))
    assert int(kept.max()) > 4 * 3 + 32
    assert (n * int(kept.max()) > 2 * int(kept.sum()) + 4096) == wide
    fast, ref = solve(p), solve(p, backend="python")
    assert fast.backend == "scipy"
    pairs = list(zip(i.tolist(), j.tolist(), cost.tolist(), strict=True))
    check_feasible(fast, h.tolist(), c.tolist(), pairs)
    assert (fast.filled, fast.total_cost) == (ref.filled, ref.total_cost)


@given(
    st.lists(st.lists(st.integers(0, 9), max_size=30), min_size=1, max_size=6),
    st.integers(1, 5),
)
def test_about_cheapest_keeps_at_least_each_needs_k_cheapest(rows: list[list[int]], k: int) -> None:
    needs = np.array([i for i, r in enumerate(rows) for _ in r], dtype=np.int64)
    cands = np.array([j for r in rows for j in range(len(r))], dtype=np.int64)
    costs = np.array([v for r in rows for v in r], dtype=np.int64)
    if needs.size == 0:
        return
    got = asg_lap._about_cheapest(needs, cands, costs, len(rows), 30, k)
    assert list(got) == sorted(set(got.tolist()))
    for i, r in enumerate(rows):
        mine = sorted(costs[got][needs[got] == i].tolist())
        want = sorted(r)[:k]
        assert mine[: len(want)] == want
        assert all(v <= want[-1] for v in mine) if want else mine == []


# ---------------------------------------------------------------------------------------------
# Time windows (issue 14): no candidate gets two needs whose windows overlap


def overlap(w: list[tuple[int, int]], a: int, b: int) -> bool:
    return w[a][0] < w[b][1] and w[b][0] < w[a][1]


def brute_force_windows(
    h: list[int], c: list[int], pairs: list[Pair], w: list[tuple[int, int]]
) -> tuple[int, int]:
    """(filled, cost) of the lexicographic optimum over every subset of pairs that gives no
    candidate two overlapping needs."""
    best = (0, 0)
    for r in range(1, len(pairs) + 1):
        for sub in itertools.combinations(pairs, r):
            need = Counter(i for i, _, _ in sub)
            cand = Counter(j for _, j, _ in sub)
            if any(need[i] > h[i] for i in need) or any(cand[j] > c[j] for j in cand):
                continue
            if any(
                x[1] == y[1] and overlap(w, x[0], y[0]) for x, y in itertools.combinations(sub, 2)
            ):
                continue
            cost = sum(x for _, _, x in sub)
            if (r, -cost) > (best[0], -best[1]):
                best = (r, cost)
    return best


@st.composite
def windowed(
    draw: st.DrawFn, max_n: int = 8, max_m: int = 10, max_h: int = 3, max_c: int = 3
) -> tuple[list[int], list[int], list[Pair], list[tuple[int, int]], bool]:
    """An instance with a window per need: by time slot (windows equal or apart, so overlapping
    needs all share a moment) or free (chains: 9–10, 9:30–11, 10:30–12)."""
    h, c, pairs = draw(instances(max_n, max_m, max_h, max_c))
    slots = draw(st.booleans())
    w: list[tuple[int, int]] = []
    for _ in h:
        if slots:
            s = 10 * draw(st.integers(0, 2))
            w.append((s, s + 5))
        else:
            s = draw(st.integers(0, 12))
            w.append((s, s + draw(st.integers(1, 6))))
    return h, c, pairs, w, slots


def windowed_problem(
    h: list[int], c: list[int], pairs: list[Pair], w: list[tuple[int, int]]
) -> AssignmentProblem:
    return AssignmentProblem(
        headcounts=h,
        capacities=c,
        needs=[i for i, _, _ in pairs],
        candidates=[j for _, j, _ in pairs],
        costs=[x for _, _, x in pairs],
        starts=[s for s, _ in w],
        ends=[e for _, e in w],
    )


def check_no_overlap(a: Assignment, w: list[tuple[int, int]]) -> None:
    held: dict[int, list[int]] = {}
    for x in a.pairs:
        for other in held.get(x.candidate, []):
            assert not overlap(w, x.need, other), (x.candidate, x.need, other)
        held.setdefault(x.candidate, []).append(x.need)


RUNS: list[tuple[asg.Method, asg.Backend]] = [
    ("exact", "scipy"),
    ("exact", "python"),
    ("greedy", "auto"),
]


@given(windowed(max_n=4, max_m=4))
@settings(max_examples=200)
def test_windows_exact_matches_brute_force(inst: Any) -> None:
    h, c, pairs, w, _ = inst
    pairs = pairs[:11]
    p = windowed_problem(h, c, pairs, w)
    ref = brute_force_windows(h, c, pairs, w)
    for method, backend in RUNS:
        a = solve(p, method=method, backend=backend)
        check_feasible(a, h, c, pairs)
        check_no_overlap(a, w)
        if method == "exact":  # small: the search always ends, so the answer is the optimum
            assert a.note == "" and (a.filled, a.total_cost) == ref
        else:
            assert (a.filled, -a.total_cost) <= (ref[0], -ref[1])


@given(windowed())
@settings(max_examples=200)
def test_windows_are_never_broken_and_exact_beats_greedy(inst: Any) -> None:
    h, c, pairs, w, slots = inst
    p = windowed_problem(h, c, pairs, w)
    results = {run: solve(p, method=run[0], backend=run[1]) for run in RUNS}
    for a in results.values():
        check_feasible(a, h, c, pairs)
        check_no_overlap(a, w)
    fast, ref, greedy = results.values()
    if "not proven" not in fast.note and "not proven" not in ref.note:
        assert (fast.filled, fast.total_cost) == (ref.filled, ref.total_cost)
    if slots:  # overlapping needs share a moment: exact in a few rounds, no search
        assert fast.note == "" and ref.note == ""
    for a in (fast, ref):
        assert (a.filled, -a.total_cost) >= (greedy.filled, -greedy.total_cost)
    # windows only take away: never more slots than the same problem without them
    free = solve(problem(h, c, pairs))
    assert (fast.filled, -fast.total_cost) <= (free.filled, -free.total_cost)


@given(windowed())
@settings(max_examples=60)
def test_windows_without_numpy_or_scipy(inst: Any) -> None:
    h, c, pairs, w, _ = inst
    p = windowed_problem(h, c, pairs, w)
    expected = solve(p, backend="python")
    with pytest.MonkeyPatch.context() as mp:
        pure_python(mp)
        a = solve(p)
    check_feasible(a, h, c, pairs)
    check_no_overlap(a, w)
    if "not proven" not in expected.note:
        assert (a.filled, a.total_cost) == (expected.filled, expected.total_cost)


def test_one_candidate_of_capacity_two_and_two_overlapping_needs() -> None:
    # the double booking of issue 14: capacities alone let candidate 0 take both needs
    opts = [[(0, 1), (1, 5)], [(0, 1), (1, 5)]]
    free = AssignmentProblem.from_lists(headcounts=[1, 1], capacities=[2, 1], options=opts)
    assert [(x.need, x.candidate) for x in solve(free).pairs] == [(0, 0), (1, 0)]
    p = AssignmentProblem.from_lists(
        headcounts=[1, 1], capacities=[2, 1], options=opts, starts=[9, 10], ends=[11, 12]
    )
    for method, backend in RUNS:
        a = solve(p, method=method, backend=backend)
        assert sorted(x.candidate for x in a.pairs) == [0, 1]  # both filled, 0 only once
        assert a.total_cost == 6 and a.note == ""
    touching = AssignmentProblem.from_lists(
        headcounts=[1, 1], capacities=[2, 1], options=opts, starts=[9, 11], ends=[11, 12]
    )  # 9–11 and 11–12 touch: no overlap, as in the dispatcher's gate
    assert solve(touching).total_cost == 2


def test_a_chain_is_searched_to_the_optimum() -> None:
    # 0: 9–10, 1: 9:30–11, 2: 10:30–12 (in minutes). Candidate 0 (capacity 3) is cheapest for
    # all three but may take 0 and 2 only; candidate 1 takes 1. "At most one of the chain"
    # would leave a slot empty; the search fills all three.
    opts = [[(0, 1), (1, 9)], [(0, 1), (1, 9)], [(0, 1), (1, 9)]]
    p = AssignmentProblem.from_lists(
        headcounts=[1, 1, 1],
        capacities=[3, 1],
        options=opts,
        starts=[540, 570, 630],
        ends=[600, 660, 720],
    )
    for method, backend in RUNS:
        a = solve(p, method=method, backend=backend)
        assert [(x.need, x.candidate) for x in a.pairs] == [(0, 0), (1, 1), (2, 0)]
        assert a.note == ""


def test_a_search_that_runs_out_says_so_and_keeps_the_windows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(asg_exact, "_BRANCH_SOLVES", 1)
    rnd = random.Random(5)
    h = [rnd.randint(1, 2) for _ in range(12)]
    c = [rnd.randint(2, 4) for _ in range(6)]
    w = [(s, s + rnd.randint(2, 6)) for s in (rnd.randint(0, 20) for _ in h)]
    pairs = [(i, j, rnd.randint(0, 9)) for i in range(12) for j in range(6) if rnd.random() < 0.7]
    p = windowed_problem(h, c, pairs, w)
    greedy = solve(p, method="greedy")
    for backend in ("scipy", "python"):
        a = solve(p, backend=backend)  # type: ignore[arg-type]
        assert "not proven optimal" in a.note and a.note in a.explain()
        check_feasible(a, h, c, pairs)
        check_no_overlap(a, w)
        assert (a.filled, -a.total_cost) >= (greedy.filled, -greedy.total_cost)


def test_windows_round_trip_through_the_named_constructors() -> None:
    p = AssignmentProblem.from_lists(
        headcounts=[1, 1], capacities=[1], options=[[(0, 3)], [(0, 4)]], starts=[0, 5], ends=[5, 9]
    )
    assert p.has_windows and list(p.starts) == [0, 5] and list(p.ends) == [5, 9]
    d = AssignmentProblem.from_dense(
        headcounts=[1, 1], capacities=[1], costs=[[3], [4]], starts=[0, 5], ends=[5, 9]
    )
    assert d == p
    assert p != AssignmentProblem.from_lists(
        headcounts=[1, 1], capacities=[1], options=[[(0, 3)], [(0, 4)]]
    )
    assert not AssignmentProblem.from_lists(
        headcounts=[1], capacities=[1], options=[[]]
    ).has_windows


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"starts": [0, 1]}, "ends"),  # one without the other
        ({"ends": [5, 6]}, "starts"),
        ({"starts": [0], "ends": [5]}, "starts"),  # one per need
        ({"starts": [0, 1], "ends": [5]}, "ends"),
        ({"starts": [0, 6], "ends": [5, 6]}, "ends[1]"),  # ends as it starts
        ({"starts": [0, 7], "ends": [5, 6]}, "ends[1]"),
        ({"starts": [0, 1.5], "ends": [5, 6]}, "starts[1]"),
        ({"starts": None, "ends": 5}, "ends"),
    ],
)
def test_bad_windows_name_the_field(kw: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidValue) as err:
        AssignmentProblem.from_lists(
            headcounts=[1, 1], capacities=[1], options=[[(0, 3)], [(0, 4)]], **kw
        )
    assert err.value.field == field


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: solve(None), "problem"),  # was an AttributeError
        (lambda: solve([[1]]), "problem"),
        (
            lambda: AssignmentProblem.from_lists(headcounts=[1], capacities=[1], options=None),
            "options",
        ),  # was a TypeError
        (
            lambda: AssignmentProblem.from_lists(headcounts=[1], capacities=[1], options=[None]),
            "options[0]",
        ),
        (
            lambda: AssignmentProblem.from_lists(headcounts=[1], capacities=[1], options=[1.5]),
            "options[0]",
        ),
        (lambda: AssignmentProblem.from_dense(headcounts=[1], capacities=[1], costs=None), "costs"),
        (lambda: AssignmentProblem.from_dense(headcounts=[1], capacities=[1], costs=7), "costs"),
        (
            lambda: AssignmentProblem.from_dense(
                headcounts=[1], capacities=[1], costs=[[1]], forbidden="x"
            ),
            "forbidden",
        ),
        (lambda: asg.AssignedPair(need=-1, candidate=0, cost=1), "need"),
        (lambda: asg.AssignedPair(need=0, candidate=None, cost=1), "candidate"),
        (lambda: asg.AssignedPair(need=0, candidate=0, cost="1"), "cost"),
    ],
)
def test_bad_arguments_are_invalid_values(call: Any, field: str) -> None:
    with pytest.raises(InvalidValue) as err:
        call()
    assert err.value.field == field


def test_from_dense_pure_rejects_rows_that_are_not_sequences(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(asg_problem, "_has_numpy", lambda: False)
    with pytest.raises(InvalidValue, match=r"costs\[0\]"):
        AssignmentProblem.from_dense(headcounts=[1], capacities=[1], costs=[None])  # type: ignore[list-item]
    with pytest.raises(InvalidValue, match="costs"):
        AssignmentProblem.from_dense(headcounts=[1], capacities=[1], costs=lambda a, b: None)


def test_assignments_check_their_fields() -> None:
    good = solve(AssignmentProblem.from_lists(headcounts=[1], capacities=[1], options=[[(0, 3)]]))
    for change, field in [
        ({"method": "optimal"}, "method"),
        ({"backend": "gurobi"}, "backend"),
        ({"pairs": [(0, 0, 3)]}, "pairs"),
        ({"unfilled": (-1,)}, "unfilled[0]"),
        ({"filled": None}, "filled"),
        ({"shortfalls": ["none"]}, "shortfalls"),
    ]:
        with pytest.raises(InvalidValue) as err:
            attrs.evolve(good, **change)
        assert err.value.field == field


def test_a_huge_headcount_costs_only_the_slots_that_can_be_filled() -> None:
    # the scipy backend laid out one row per slot: 10⁹ slots never finished
    p = AssignmentProblem.from_lists(
        headcounts=[10**9, 2], capacities=[1, 3], options=[[(0, 1), (1, 2)], [(1, 1)]]
    )
    for backend in ("scipy", "python"):
        a = solve(p, backend=backend)  # type: ignore[arg-type]
        assert (a.filled, a.unfilled, a.slots) == (3, (10**9 - 2, 1), 10**9 + 2)


# ---------------------------------------------------------------------------------------------
# Issue 14: one rule for dense rows with and without numpy; notes; the problem as JSON and TOML

RAGGED: list[tuple[Any, str, object]] = [  # costs for 2 needs × 3 candidates, field, value
    ([[1, 2, 3], [4, 5]], "costs[1]", 2),  # short row: numpy raised its own ValueError
    ([[1, 2, 3], [4, 5, 6, 7]], "costs[1]", 4),  # long row
    ([[1, 2], [4, 5, 6]], "costs[0]", 2),
    ([[1, 2, 3], None], "costs[1]", None),
    ([[1, 2, 3], "456"], "costs[1]", "456"),  # text: numpy made a string array
    ([[1, 2, 3], {0: 4, 1: 5, 2: 6}], "costs[1]", {0: 4, 1: 5, 2: 6}),
    ([[1, 2, 3], [4, True, 6]], "costs[1][1]", True),  # numpy took True for 1
    ([[1, 2, 3], [4, 5.0, 6]], "costs[1][1]", 5.0),
    ([[1, 2, 3], [4, None, 6]], "costs[1][1]", None),
    ([[1, 2, 2**63], [4, 5, 6]], "costs[0][2]", 2**63),  # beyond int64
    ([[1, 2, 3]], "costs", 1),  # one row for two needs
]


@pytest.mark.parametrize(("costs", "field", "value"), RAGGED)
@pytest.mark.parametrize("with_numpy", [True, False])
def test_from_dense_rows_are_checked_alike_with_and_without_numpy(
    costs: Any, field: str, value: object, with_numpy: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(asg_problem, "_has_numpy", lambda: with_numpy)
    for given_as in (costs, lambda a, b: costs[a:b]):  # a matrix, or rows fetched by a function
        with pytest.raises(InvalidValue) as err:
            AssignmentProblem.from_dense(headcounts=[1, 1], capacities=[1, 1, 1], costs=given_as)
        assert (err.value.field, err.value.value) == (field, value)


dense_cell = st.one_of(
    st.integers(-5, 20),
    st.sampled_from([True, None, 2.5, "7", 2**63, -(2**63) - 1, np.int64(3), np.uint8(4)]),
)


@given(
    st.integers(1, 3),
    st.integers(1, 4),
    st.lists(
        st.one_of(
            st.lists(dense_cell, min_size=0, max_size=5), st.sampled_from([None, "12", (1, 2)])
        ),
        min_size=0,
        max_size=4,
    ),
)
@settings(max_examples=300)
def test_from_dense_numpy_and_pure_paths_agree_on_any_rows(n: int, m: int, rows: Any) -> None:
    outcomes: list[tuple[str, object]] = []
    for has_numpy in (lambda: True, lambda: False):
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(asg_problem, "_has_numpy", has_numpy)
            try:
                p = AssignmentProblem.from_dense(headcounts=[1] * n, capacities=[1] * m, costs=rows)
                outcomes.append(("ok", p))
            except InvalidValue as err:  # nothing but InvalidValue: no ValueError from numpy
                outcomes.append(("refused", (err.field, repr(err.value), err.reason)))
    assert outcomes[0] == outcomes[1]


@pytest.mark.parametrize("note", [None, 1, b"scipy", ["x"], "\ud800"])
def test_assignment_note_must_be_text(note: object) -> None:
    good = solve(AssignmentProblem.from_lists(headcounts=[1], capacities=[1], options=[[(0, 3)]]))
    with pytest.raises(InvalidValue) as err:  # was attrs' TypeError
        attrs.evolve(good, note=note)
    assert (err.value.field, err.value.value) == ("note", note)
    assert attrs.evolve(good, note="").note == ""


@pytest.mark.parametrize("junk", ["11", b"\x01\x00", {0: 1}, {1}, None, 3, 1.5])
@pytest.mark.parametrize("field", ["headcounts", "capacities", "needs", "candidates", "costs"])
def test_vectors_refuse_text_bytes_mappings_and_sets(field: str, junk: object) -> None:
    kwargs: dict[str, Any] = {
        "headcounts": [1],
        "capacities": [1],
        "needs": [0],
        "candidates": [0],
        "costs": [1],
        field: junk,
    }
    with pytest.raises(InvalidValue) as err:  # a mapping and bytes were read as integers
        AssignmentProblem(**kwargs)
    assert err.value.field == field


problems = instances().map(
    lambda inst: AssignmentProblem(
        headcounts=inst[0],
        capacities=inst[1],
        needs=[i for i, _, _ in inst[2]],
        candidates=[j for _, j, _ in inst[2]],
        costs=[c for _, _, c in inst[2]],
    )
)


@given(problems, st.booleans())
@settings(max_examples=100)
def test_problem_round_trips_json_and_toml(p: AssignmentProblem, windows: bool) -> None:
    from zhiyuan.convert import from_json, from_toml, to_json, to_toml, unstructure

    if windows:
        p = AssignmentProblem(
            headcounts=p.headcounts,
            capacities=p.capacities,
            needs=p.needs,
            candidates=p.candidates,
            costs=p.costs,
            starts=list(range(p.n_needs)),
            ends=list(range(1, p.n_needs + 1)),
        )
    assert unstructure(p)["headcounts"] == p.headcounts.tolist()  # the public names and values
    assert from_json(to_json(p), AssignmentProblem) == p  # a valid problem was refused
    assert from_toml(to_toml(p), AssignmentProblem) == p
    assert solve(from_json(to_json(p), AssignmentProblem)) == solve(p)


DOC = {"headcounts": [1, 2], "capacities": [1], "needs": [0], "candidates": [0], "costs": [5]}


@pytest.mark.parametrize(
    "change",
    [
        {"headcounts": [0, 2]},
        {"capacities": [0]},
        {"needs": [2]},
        {"costs": [5.5]},
        {"costs": "5"},
        {"starts": [0, 1]},  # windows for some needs only
        {"starts": [0, 5], "ends": [1, 5]},  # a window that does not end after it starts
    ],
)
def test_problem_from_json_holds_the_constructors_rule(change: dict[str, Any]) -> None:
    import json

    from zhiyuan.convert import from_json
    from zhiyuan.errors import InvalidInput

    doc = {**DOC, **change}
    with pytest.raises(InvalidValue) as built:
        AssignmentProblem(**doc)
    with pytest.raises(InvalidInput) as loaded:
        from_json(json.dumps(doc), AssignmentProblem)
    assert loaded.value.messages == [f"{built.value} @ $"]  # the one rule, one message


def test_problem_from_json_refuses_unknown_and_missing_fields() -> None:
    import json

    from zhiyuan.convert import from_json
    from zhiyuan.errors import InvalidInput

    with pytest.raises(InvalidInput, match="_headcounts"):
        from_json(json.dumps({**DOC, "_headcounts": "0RR9100000"}), AssignmentProblem)
    with pytest.raises(InvalidInput, match="costs"):
        from_json(json.dumps({k: v for k, v in DOC.items() if k != "costs"}), AssignmentProblem)
    with pytest.raises(InvalidInput, match="mapping"):
        from_json("[1, 2]", AssignmentProblem)
    assert from_json(json.dumps(DOC), AssignmentProblem).headcounts.tolist() == [1, 2]
