"""The exact method of batch assignment (``method="exact"``): the choice of backend, and the
search that keeps time windows.

``exact_pairs`` runs each exact solve on the scipy backend
(:mod:`~zhiyuan.matching.assignment.lap`) or the python backend
(:mod:`~zhiyuan.matching.assignment.flow`), and falls back to python, with a note that says so,
when scipy is not installed or the costs are too wide for float64. With time windows it solves in
rounds with exclusive groups, branches on chains of windows, and after a budget of solves settles
for the best assignment found, repaired (:mod:`zhiyuan.matching.assignment`, "Time windows").

Example:
    >>> from zhiyuan.matching.assignment.problem import AssignmentProblem
    >>> p = AssignmentProblem.from_lists(headcounts=[1, 1], capacities=[2],
    ...                                  options=[[(0, 1)], [(0, 2)]], starts=[9, 10], ends=[11, 12])
    >>> exact_pairs(p, "python")  # the windows overlap: the candidate takes the cheaper need
    ([0], 'python', '')
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from typing import Literal, TypeAlias

from zhiyuan.errors import InvalidValue
from zhiyuan.matching.assignment.flow import exact_python
from zhiyuan.matching.assignment.greedy import greedy_pairs
from zhiyuan.matching.assignment.lap import TooWide, exact_scipy, scipy_available
from zhiyuan.matching.assignment.problem import AssignmentProblem, cost_order, objective

__all__ = ["Backend", "exact_pairs"]


Backend: TypeAlias = Literal["auto", "scipy", "python"]
"""Which exact solver to use; ``"auto"`` takes scipy when it is installed and the costs fit."""


def _exact_round(
    p: AssignmentProblem, backend: Backend, group: list[int] | None
) -> tuple[list[int], Literal["scipy", "python"], str]:
    """One exact solve (with exclusive groups, if any): (chosen pairs, backend that ran, note)."""
    if backend == "python":
        return exact_python(p, group), "python", ""
    if not scipy_available():
        if backend == "scipy":
            raise InvalidValue(
                "backend",
                backend,
                "未安装 scipy / scipy is not installed: pip install 'zhiyuan[solver]'",
            )
        note = "未安装 scipy，用纯 Python 精确算法 / scipy not installed: exact pure-Python solver"
        return exact_python(p, group), "python", note
    try:
        return exact_scipy(p, group), "scipy", ""
    except TooWide as err:
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
        return exact_python(p, group), "python", note


_BRANCH_SOLVES = 64
"""How many exact solves the search over time windows may spend before it settles for the best
answer found (package docs, "Time windows")."""


def _guessed(solves: int) -> str:
    return (
        f"时段冲突的搜索用满 {solves} 次求解，结果守时段规则但未必最优 / overlapping windows: the "
        f"search stopped after {solves} solves; no candidate has overlapping needs, but the "
        "result is not proven optimal"
    )


def exact_pairs(
    p: AssignmentProblem, backend: Backend
) -> tuple[list[int], Literal["scipy", "python"], str]:
    """The exact solve; with windows, a branch and bound over exclusive groups until no
    candidate has two overlapping needs (package docs, "Time windows")."""
    chosen, ran, note = _exact_round(p, backend, None)
    if not p.has_windows:
        return chosen, ran, note
    if ran == "python":  # the backend that ran (or fell back) runs every solve
        backend = "python"
    groups = _Groups(p)
    if not groups.clashes(chosen):
        return chosen, ran, note
    # the incumbent: greedy within the windows, repaired; the search keeps what beats it
    best = _repair(p, greedy_pairs(p))
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
    """Whether ``a`` fills more slots than ``b`` (priority by priority, when the needs have
    priorities), or as many at a lower cost."""
    return objective(p, a) > objective(p, b)


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
        priorities=p.priorities if p.has_priorities else None,
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


def _repair(p: AssignmentProblem, chosen: list[int]) -> list[int]:
    """Fill empty slots that a change of one step can fill, keeping every window rule.

    For each need with an empty slot, needs of a higher priority first, its candidates are
    tried cheapest first (ties by index):
    one with capacity left whose windows all miss the need's takes it; failing that, one with
    capacity left whose overlapping needs can each move to another candidate (allowed, with
    capacity left, free at that time, not on that need yet) takes it, and they move. Each step
    fills one more slot, so this ends; it only adds slots, and never breaks a rule.
    """
    needs, cands, costs = p.needs, p.candidates, p.costs
    heads, caps = p.headcounts.tolist(), p.capacities.tolist()
    starts, ends = p.starts.tolist(), p.ends.tolist()
    offsets, order = cost_order(p)
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

    by_priority = sorted(range(len(heads)), key=lambda i: -p.priority_of(i))
    progress = True
    while progress:
        progress = False
        for i in by_priority:
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
