"""The greedy method of batch assignment (``method="greedy"``): the cheapest pairs first.

Pairs are taken by (cost, need, candidate), the needs of a higher priority first (package docs,
"Priorities"), while the need has a slot and the candidate capacity left and, when the needs
have time windows, holds no need whose window overlaps: deterministic,
fast, never better than the exact method (:mod:`zhiyuan.matching.assignment`, "Methods and
backends"). The exact method also starts its search over time windows from this assignment,
repaired.

Example:
    >>> from zhiyuan.matching.assignment.problem import AssignmentProblem
    >>> p = AssignmentProblem.from_lists(headcounts=[2, 1], capacities=[1, 1, 2],
    ...                                  options=[[(0, 5), (1, 3), (2, 9)], [(1, 1), (2, 4)]])
    >>> greedy_pairs(p)  # pair indices, in the order taken: (1, 1) at cost 1 first
    [3, 0, 2]
"""

from __future__ import annotations

import bisect
import heapq

from zhiyuan.matching.assignment.problem import AssignmentProblem, cost_order

__all__ = ["greedy_pairs"]


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


def greedy_pairs(p: AssignmentProblem) -> list[int]:
    """Cheapest pairs first, merged lazily from per-need sorted lists (same order as one sort
    of all pairs by (−priority, cost, need, candidate), but only as far as the needs are open)."""
    offsets, order = cost_order(p)
    heads, caps = p.headcounts.tolist(), p.capacities.tolist()
    cands, costs = p.candidates, p.costs
    rank = [-v for v in p.priorities.tolist()] if p.has_priorities else [0] * len(heads)
    load = [0] * len(caps)
    taken = [0] * len(heads)
    busy = _Busy(p) if p.has_windows else None
    heap: list[tuple[int, int, int, int, int]] = []
    for i in range(len(heads)):
        if offsets[i] < offsets[i + 1]:
            k = int(order[offsets[i]])
            heap.append((rank[i], costs[k], i, cands[k], offsets[i]))
    heapq.heapify(heap)
    chosen: list[int] = []
    while heap:
        _, _, i, j, pos = heapq.heappop(heap)
        if load[j] < caps[j] and (busy is None or busy.free(j, i)):
            load[j] += 1
            taken[i] += 1
            chosen.append(int(order[pos]))
            if busy is not None:
                busy.take(j, i)
        if taken[i] < heads[i] and pos + 1 < offsets[i + 1]:
            k = int(order[pos + 1])
            heapq.heappush(heap, (rank[i], costs[k], i, cands[k], pos + 1))
    return chosen
