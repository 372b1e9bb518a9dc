"""The result of batch assignment (派单结果): :class:`Assignment`, its :class:`AssignedPair`
values, the :data:`Method` that made it, and ``assignment_of``, which builds one from the pairs a
method chose, with a finding for each need whose slots stay empty.

Example:
    >>> from zhiyuan.matching.assignment.problem import AssignmentProblem
    >>> p = AssignmentProblem.from_lists(headcounts=[2, 1], capacities=[1, 1],
    ...                                  options=[[(0, 7)], [(1, 2)]])
    >>> a = assignment_of(p, [0, 1], "exact", "python", "")
    >>> a.candidates_for(0), a.unfilled
    ((0,), (1, 0))
    >>> print(a.explain())
    已派 2/3 个名额，总成本 9 / filled 2 of 3 slots, total cost 9 (exact)
      [assignment.unfilled] 需求 0：仅 1 名可派候选，2 个名额中 1 个未派 / need 0: only 1 allowed candidate(s) for 2 slot(s); 1 unfilled
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from typing import Any, Literal, TypeAlias

import attrs

from zhiyuan._validators import items, items_of, non_negative
from zhiyuan.errors import InvalidValue
from zhiyuan.explain import Finding, finding, register_messages
from zhiyuan.matching._checks import any_text, integer
from zhiyuan.matching.assignment.problem import AssignmentProblem

__all__ = ["AssignedPair", "Assignment", "Method", "assignment_of"]


Method: TypeAlias = Literal["exact", "greedy"]
"""``"exact"`` (lexicographically optimal) or ``"greedy"`` (cheapest pairs first)."""


register_messages(
    {
        ("assignment.unfilled", "few_allowed"): (
            ("need", "unfilled", "headcount", "allowed"),
            "需求 {need}：仅 {allowed} 名可派候选，{headcount} 个名额中 {unfilled} 个未派",
            "need {need}: only {allowed} allowed candidate(s) for {headcount} slot(s); "
            "{unfilled} unfilled",
        ),
        ("assignment.tier", ""): (
            ("priority", "filled", "slots"),
            "优先级 {priority}：已派 {filled}/{slots} 个名额",
            "priority {priority}: {filled} of {slots} slots filled",
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


def _tiers(value: Any) -> tuple[tuple[int, int, int], ...]:
    """(priority, slots, filled) per priority: whole numbers ≥ 0, filled ≤ slots."""
    out = []
    for k, item in enumerate(items("tiers", value)):
        row = items(f"tiers[{k}]", item)
        if (
            len(row) != 3
            or any(isinstance(v, bool) or not isinstance(v, int) or v < 0 for v in row)
            or row[2] > row[1]
        ):
            raise InvalidValue(
                f"tiers[{k}]",
                item,
                "每项须为 (优先级, 名额, 已派) / each item is (priority, slots, filled ≤ slots)",
            )
        out.append((row[0], row[1], row[2]))
    return tuple(out)


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
        tiers: when the needs have priorities that differ, ``(priority, slots, filled)`` for
            each priority, highest first (package docs, "Priorities"); else empty.
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
    tiers: tuple[tuple[int, int, int], ...] = attrs.field(default=(), converter=_tiers)

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
        """The summary, the backend note if any, the slots filled at each priority (when the
        needs have priorities), and one line per need with empty slots."""
        lines = [str(self)]
        if self.note:
            lines.append(f"  {self.note}")
        for priority, slots, filled in self.tiers:
            f = finding("assignment.tier", (priority, filled, slots))
            lines.append(f"  {f.zh} / {f.en}")
        lines += [f"  {f}" for f in self.shortfalls]
        return "\n".join(lines)


def assignment_of(
    p: AssignmentProblem,
    chosen: Iterable[int],
    method: Method,
    backend: Literal["scipy", "python"],
    note: str,
) -> Assignment:
    """The :class:`Assignment` of the ``chosen`` pairs (indices of ``p``'s pairs), made by
    ``method`` on ``backend``, with one finding per need whose slots stay empty."""
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
    tiers: list[tuple[int, int, int]] = []
    if p.has_priorities:
        prio = p.priorities.tolist()
        for tier in sorted(set(prio), reverse=True):
            mine = [i for i, v in enumerate(prio) if v == tier]
            want = sum(heads[i] for i in mine)
            tiers.append((tier, want, want - sum(unfilled[i] for i in mine)))
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
        tiers=tuple(tiers),
    )
