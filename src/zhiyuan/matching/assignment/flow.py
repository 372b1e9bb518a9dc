"""The python backend of the exact method: min-cost max-flow by successive shortest paths
(Dijkstra with node potentials), in integers, with no dependencies.

Exact and always available, but pure Python: fine for hundreds of needs, slow for thousands with
thousands of candidates each (:mod:`zhiyuan.matching.assignment`, "Methods and backends"). With
the exclusive groups of the search over time windows, the flow gets one node per group.

Example:
    >>> from zhiyuan.matching.assignment.problem import AssignmentProblem
    >>> p = AssignmentProblem.from_lists(headcounts=[2, 1], capacities=[1, 1, 2],
    ...                                  options=[[(0, 5), (1, 3), (2, 9)], [(1, 1), (2, 4)]])
    >>> sorted(exact_python(p))  # pair indices: (0, 0), (0, 1) and (1, 2), total cost 12
    [0, 1, 4]
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence

from zhiyuan.matching.assignment.problem import AssignmentProblem, cost_order, slot_penalties

__all__ = ["exact_python"]


def _surcharges(p: AssignmentProblem, offsets: list[int], low: int) -> list[int]:
    """Per need, what each of its pairs costs on top of ``cost − low`` so that higher priorities
    are served first: ``P_max − P_i`` of the prices of :func:`slot_penalties` (all 0 without
    priorities). A flow of maximal size then pays ``Σ w + F·P_max − Σ P`` of its filled
    slots: least when the most slots are filled priority by priority, then the least weight."""
    n = p.n_needs
    if not p.has_priorities:
        return [0] * n
    heads = p.headcounts.tolist()
    fill = [min(heads[i], offsets[i + 1] - offsets[i]) for i in range(n)]
    high = max(p.costs.tolist(), default=low)
    price = slot_penalties(p, fill, high - low)
    top = max(price)
    return [top - x for x in price]


def exact_python(p: AssignmentProblem, group: Sequence[int] | None = None) -> list[int]:
    """Min-cost max-flow by successive shortest paths (Dijkstra with potentials), in integers.

    With exclusive groups (``group[k]`` ≥ 0 for the pairs of a group, package docs "Time
    windows"), :func:`_exact_python_grouped` solves the same flow with a node per group.

    Graph: source → need ``i`` (capacity ``h_i``) → candidate ``j`` (capacity 1, cost ``w_ij``)
    → sink (capacity ``c_j``), on the pruned lists, with ``w = cost − min cost ≥ 0`` (a
    constant shift per filled slot, which changes no comparison between assignments that fill
    the same number). Each augmentation adds one unit along a shortest path in reduced costs;
    the flow after each step is a least-cost flow of its size, and the last one is maximal.
    With priorities, each pair also pays its need's surcharge (:func:`_surcharges`): the
    assignments that serve priorities first fill the most slots too (package docs,
    "Priorities"), so the least-cost maximal flow is one of them.
    """
    if group is not None and any(g >= 0 for g in group):
        return _exact_python_grouped(p, group)
    offsets, order = cost_order(p)
    heads, caps = p.headcounts.tolist(), p.capacities.tolist()
    n, m = len(heads), len(caps)
    cands, costs = p.candidates, p.costs
    limit = sum(heads)
    low = min(costs.tolist(), default=0)
    extra = _surcharges(p, offsets, low)
    # adjacency: need i -> [(candidate, shifted cost, pair index)], cheapest first, pruned to H
    adj: list[list[tuple[int, int, int]]] = []
    for i in range(n):
        row = []
        for pos in range(offsets[i], min(offsets[i + 1], offsets[i] + limit)):
            k = int(order[pos])
            row.append((cands[k], costs[k] - low + extra[i], k))
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
            users[j][i] = (costs[k] - low + extra[i], k)
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
    settled, and only settled nodes' potentials move (as in :func:`exact_python`)."""
    offsets, order = cost_order(p)
    heads, caps = p.headcounts.tolist(), p.capacities.tolist()
    n, m = len(heads), len(caps)
    cands, costs = p.candidates, p.costs
    limit = sum(heads)
    low = min(costs.tolist(), default=0)
    extra = _surcharges(p, offsets, low)
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
            pair_arc[k] = arc(2 + i, target, 1, costs[k] - low + extra[i])
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
