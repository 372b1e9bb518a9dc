"""Call-up (紧急召集): fill every place that can be filled, the most urgent needs first, looking up
the tree for each need only as far as it must.

平战结合 (peacetime and emergency combined): when an emergency comes, a district calls its
registered volunteers up to the streets that need them, all in one go. On 12 October, 青岛市南
sent 435 volunteers to its 11 streets in a day. A batch (:func:`~zhiyuan.matching.dispatch_batch`)
is the wrong tool for that: it keeps each need to the candidates within twice its headcount,
nearest first, so a street whose nearby volunteers are all taken keeps empty places while
volunteers one street away stay idle. :func:`~zhiyuan.matching.call_up` fills every place that
any assignment can fill:

1. **Urgency first** (lexicographic): the places of emergency needs are filled as far as they
   can be, then those of high, normal and low urgency, each as far as it can be without
   leaving a more urgent place empty (:class:`~zhiyuan.matching.Urgency`; priorities in
   :mod:`zhiyuan.matching.assignment`, "Priorities"). Without time windows that clash, serving
   urgency first costs no place: the places that can be filled together form a polymatroid
   (they are the flows of a network), so the most urgent-first assignment is also a maximum
   one. With windows that clash in chains (9–11, 10–12, 11–13 for one candidate), an urgent
   place may take the candidate that could have served two others; the call-up still serves
   urgency first.
2. **Every place that can be filled** (a maximum matching of places to candidates, each
   candidate within its capacity left, never twice on one need, never two needs of
   overlapping windows): solved exactly (:func:`~zhiyuan.matching.solve_assignment`,
   ``method="exact"``).
3. **Nearest first** (就近, escalation only as far as needed): among those assignments, a place
   is filled from a higher level of the dispatcher's ladder (village → township → county →
   city, :attr:`DispatchPolicy.escalation <zhiyuan.matching.DispatchPolicy.escalation>`) only
   when no assignment that serves every urgency as well does with fewer steps up the ladder in
   all; then the least cost (the dispatcher's score). In the solve, a pair weighs
   ``steps × B + cost`` with ``B`` more than any two assignments' costs can differ by.

Every candidate passes the dispatcher's gates (:meth:`Dispatcher.gate
<zhiyuan.matching.Dispatcher.gate>`) for the need it is given. How far each need's search must
go follows from the pruning lemma of :mod:`zhiyuan.matching.assignment` (an optimal assignment
uses only each need's ``H`` cheapest pairs, ``H`` the places in all): the search climbs the
ladder until ``H`` candidates are eligible, or to its top. Since every candidate of a level
weighs less than any of the next, those ``H`` cheapest lie within it.

The result explains itself per need: how many places were filled at each level of the ladder,
how far the search went and how many candidates were eligible there, how many failed which
gate, and, for a place that stays empty, that no eligible candidate was left within the widest
level (none at all, or every one serving this need or others, or at capacity).

Nothing is recorded or booked here: :meth:`NeedBook.call_up <zhiyuan.matching.NeedBook.call_up>`
records the offers (and, for a binding call-up, the acceptances) in one transaction, and
:meth:`Platform.call_up <zhiyuan.platform.Platform.call_up>` does it with authority.

References:
    平战结合 call-up in 青岛市南 (issue 12: 435 volunteers to 11 streets on 12 October; 市南's
    district–street–community levels and 11 streets, seed 001, POLICIES.md "Organization");
    长江云 层层派单, a binding task sent down the hierarchy (POLICIES.md §4.1); 城阳 就近派单
    (§4.1, seed 003).

Example:
    >>> from datetime import datetime
    >>> from zhiyuan import SHANGHAI
    >>> from zhiyuan.hierarchy import load_default
    >>> from zhiyuan.matching import Candidate, Dispatcher, Need, Urgency
    >>> t = lambda h: datetime(2025, 10, 12, h, tzinfo=SHANGHAI)
    >>> street_a, street_b = "370202001001", "370202002008"   # two streets of 市南区
    >>> d = Dispatcher(load_default(), [Candidate(id=f"a{k}", home_region=street_a) for k in range(4)]
    ...                + [Candidate(id="b0", home_region=street_b)])
    >>> needs = [Need(id="A", requester="香港中路街道", region_code=street_a, category="应急",
    ...               headcount=2, start=t(9), end=t(17), posted_at=t(7)),
    ...          Need(id="B", requester="八大峡街道", region_code=street_b, category="应急",
    ...               headcount=3, urgency=Urgency.EMERGENCY, start=t(9), end=t(17), posted_at=t(7))]
    >>> result = call_up(d, needs)
    >>> result.filled, result.places
    (5, 5)
    >>> print(result.explain())
    紧急召集：2 项需求共 5 个名额，已派 5 个 / call-up: 5 of 5 places filled over 2 needs
    紧急：已派 3/3 个名额 / emergency: 3 of 3 places filled
    普通：已派 2/2 个名额 / normal: 2 of 2 places filled
    需求 A（普通）：已派 2/2 个名额，村级 2 / need A (normal): 2 of 2 places filled, village 2
    需求 B（紧急）：已派 3/3 个名额，村级 1、县级 2 / need B (emergency): 3 of 3 places filled, village 1, county 2
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from zhiyuan._validators import COUNT, items, items_of, key, non_empty, non_negative, to_enum
from zhiyuan.errors import InvalidValue, NotFound
from zhiyuan.explain import Finding, finding, register_messages
from zhiyuan.hierarchy.codes import Level, RegionCode
from zhiyuan.matching._checks import any_text
from zhiyuan.matching.assignment import Backend
from zhiyuan.matching.batch import BatchPair, UrgencyTier, _batch_needs, assign, urgency_tiers
from zhiyuan.matching.dispatch import Dispatcher, DispatchResult, ScoreParts, _ladder
from zhiyuan.matching.needs import Candidate, Need, Urgency

__all__ = ["CallUpResult", "NeedCallUp", "call_up"]

register_messages(
    {
        ("callup.summary", ""): (
            ("needs", "places", "filled"),
            "紧急召集：{needs} 项需求共 {places} 个名额，已派 {filled} 个",
            "call-up: {filled} of {places} places filled over {needs} needs",
        ),
        ("callup.need", ""): (
            ("need", "urgency_zh", "filled", "places", "levels_zh", "urgency", "levels"),
            "需求 {need}（{urgency_zh}）：已派 {filled}/{places} 个名额{levels_zh}",
            "need {need} ({urgency}): {filled} of {places} places filled{levels}",
        ),
        ("callup.short", "none"): (
            ("need", "short", "level_zh", "code", "level"),
            "需求 {need}：{level_zh}（{code}）以内没有合格候选，{short} 个名额空缺",
            "need {need}: no eligible candidate within the {level} level ({code}); "
            "{short} place(s) empty",
        ),
        ("callup.short", "taken"): (
            ("need", "short", "level_zh", "code", "eligible", "here", "elsewhere", "level"),
            "需求 {need}：{level_zh}（{code}）以内的 {eligible} 名合格候选中，{here} 名派给本需求，"
            "其余 {elsewhere} 名已满额或派给了其他需求，{short} 个名额空缺",
            "need {need}: {short} place(s) empty; of the {eligible} eligible candidate(s) within "
            "the {level} level ({code}), {here} serve this need and {elsewhere} are at capacity "
            "or serve other needs",
        ),
        ("callup.gates", ""): (
            ("counts_zh", "counts"),
            "未通过门槛：{counts_zh}",
            "failed the gates: {counts}",
        ),
    }
)

_GATES: dict[str, tuple[str, str]] = {
    "dispatch.skills": ("缺少技能", "missing skills"),
    "dispatch.availability": ("时段不可用", "not available"),
    "dispatch.distance": ("距离过远", "too far"),
    "dispatch.capacity": ("任务已满", "at capacity"),
    "dispatch.booked": ("时段已接单", "booked at that time"),
    "callup.asked": ("已派过或接过本需求", "offered or took the need before"),
}
"""Short names of the gates (and of the call-up's own exclusion), for the count per gate."""


def _say(rule: str, values: tuple[int | str, ...], variant: str = "") -> str:
    f = finding(rule, values, variant)
    return f"{f.zh} / {f.en}"


def _searched(value: object) -> Level | None:
    return None if value is None else to_enum("searched", Level, value)


def _urgency(value: object) -> Urgency:
    return to_enum("urgency", Urgency, value)


def _counts(field: str, kind: type, value: object) -> tuple[tuple[Any, int], ...]:
    """(key, count) pairs: keys of ``kind`` (a :class:`Level` may be given by its value), each
    count a whole number ≥ 1."""
    out = []
    for k, item in enumerate(items(field, value)):
        pair = items(f"{field}[{k}]", item)
        if len(pair) == 2 and kind is Level and isinstance(pair[0], str):
            pair = (to_enum(f"{field}[{k}]", Level, pair[0]), pair[1])
        if (
            len(pair) != 2
            or not isinstance(pair[0], kind)
            or (isinstance(pair[0], str) and not pair[0].strip())
            or isinstance(pair[1], bool)
            or not isinstance(pair[1], int)
            or pair[1] < 1
        ):
            raise InvalidValue(
                f"{field}[{k}]", item, "每项须为 (名称, 正整数) / each item is (name, count ≥ 1)"
            )
        out.append((pair[0], pair[1]))
    return tuple(out)


def _by_level(value: object) -> tuple[tuple[Level, int], ...]:
    return _counts("by_level", Level, value)


def _excluded(value: object) -> tuple[tuple[str, int], ...]:
    return _counts("excluded", str, value)


def _trail(value: object) -> tuple[Finding, ...]:
    return items_of("trail", Finding, value)


@attrs.frozen(kw_only=True)
class NeedCallUp:
    """What a call-up did for one need, and why.

    Attributes:
        need_id: the need.
        urgency: its urgency.
        places: the places the call-up was to fill (its headcount, or fewer when some are
            held already).
        filled: how many it filled.
        by_level: places filled at each level of the ladder, lowest first (levels with none
            left out).
        searched: the widest level the search looked at (``None`` when it had no place to fill).
        region_code: the need's region at that level.
        eligible: the candidates within it that passed every gate (and had not been offered
            the need before).
        excluded: how many candidates within it failed each gate, by the gate's rule id
            (``callup.asked``: offered or took the need before).
        trail: the dispatcher's escalation trail for the need (:meth:`Dispatcher.rank
            <zhiyuan.matching.Dispatcher.rank>`).
    """

    need_id: str = attrs.field(validator=non_empty)
    urgency: Urgency = attrs.field(converter=_urgency)
    places: int = attrs.field(validator=non_negative)
    filled: int = attrs.field(validator=non_negative)
    by_level: tuple[tuple[Level, int], ...] = attrs.field(default=(), converter=_by_level)
    searched: Level | None = attrs.field(default=None, converter=_searched)
    region_code: str | None = attrs.field(
        default=None, validator=attrs.validators.optional(non_empty)
    )
    eligible: int = attrs.field(default=0, validator=non_negative)
    excluded: tuple[tuple[str, int], ...] = attrs.field(default=(), converter=_excluded)
    trail: tuple[Finding, ...] = attrs.field(default=(), converter=_trail)

    def __attrs_post_init__(self) -> None:
        if self.filled > self.places:
            raise InvalidValue(
                "filled", self.filled, f"不能多于名额 {self.places} / more than the places"
            )
        if sum(k for _, k in self.by_level) != self.filled:
            raise InvalidValue(
                "by_level",
                [(lv.value, k) for lv, k in self.by_level],
                f"各级之和须为已派 {self.filled} / must add up to the places filled",
            )

    @property
    def short(self) -> int:
        """Places left empty."""
        return self.places - self.filled

    @property
    def level(self) -> Level | None:
        """The highest level any of its places was filled at (``None``: none filled)."""
        return max((lv for lv, _ in self.by_level), key=lambda lv: -lv.depth, default=None)

    def explain(self) -> str:
        """What was filled at which level; for empty places, why; the gates failed."""
        u = self.urgency
        zh = "、".join(f"{lv.zh} {k}" for lv, k in self.by_level)
        en = ", ".join(f"{lv.value} {k}" for lv, k in self.by_level)
        lines = [
            _say(
                "callup.need",
                (
                    self.need_id,
                    u.zh,
                    self.filled,
                    self.places,
                    f"，{zh}" if zh else "",
                    u.value,
                    f", {en}" if en else "",
                ),
            )
        ]
        if self.short and self.searched is not None:
            lv, code = self.searched, self.region_code or "—"
            if self.eligible == 0:
                values: tuple[int | str, ...] = (self.need_id, self.short, lv.zh, code, lv.value)
                lines.append("  " + _say("callup.short", values, "none"))
            else:
                here, other = self.filled, self.eligible - self.filled
                values = (self.need_id, self.short, lv.zh, code, self.eligible, here, other)
                lines.append("  " + _say("callup.short", (*values, lv.value), "taken"))
        if self.short and self.excluded:
            zh = "、".join(f"{_GATES.get(r, (r, r))[0]} {k}" for r, k in self.excluded)
            en = ", ".join(f"{_GATES.get(r, (r, r))[1]} {k}" for r, k in self.excluded)
            lines.append("  " + _say("callup.gates", (zh, en)))
        return "\n".join(lines)


def _pairs(value: Any) -> tuple[BatchPair, ...]:
    return items_of("pairs", BatchPair, value)


def _needs(value: Any) -> tuple[NeedCallUp, ...]:
    return items_of("needs", NeedCallUp, value)


def _tiers(value: Any) -> tuple[UrgencyTier, ...]:
    return items_of("tiers", UrgencyTier, value)


@attrs.frozen(kw_only=True)
class CallUpResult:
    """The pairs a call-up chose, what it did for each need, and the places of each urgency
    filled (most urgent first).

    Attributes:
        pairs: the chosen (need, candidate) pairs, each with its cost, score parts and the
            level of the ladder it was found at.
        needs: one :class:`NeedCallUp` per need, in the order given.
        tiers: places and places filled per urgency, most urgent first.
        total_cost: the dispatcher's cost of the pairs, summed.
        backend: the solver that ran (``scipy`` or ``python``).
        note: why that backend ran, when it is not the first choice (else empty).
    """

    pairs: tuple[BatchPair, ...] = attrs.field(converter=_pairs)
    needs: tuple[NeedCallUp, ...] = attrs.field(converter=_needs)
    tiers: tuple[UrgencyTier, ...] = attrs.field(default=(), converter=_tiers)
    total_cost: int = attrs.field(default=0, validator=non_negative)
    backend: str = attrs.field(default="python", validator=non_empty)
    note: str = attrs.field(default="", validator=any_text)

    @property
    def places(self) -> int:
        """The places the call-up was to fill."""
        return sum(n.places for n in self.needs)

    @property
    def filled(self) -> int:
        """The places it filled."""
        return len(self.pairs)

    @property
    def unfilled(self) -> dict[str, int]:
        """The needs left short: need id → places empty."""
        return {n.need_id: n.short for n in self.needs if n.short}

    def need(self, need_id: str) -> NeedCallUp:
        """What the call-up did for one need (:class:`~zhiyuan.errors.NotFound` if not in it)."""
        for n in self.needs:
            if n.need_id == need_id:
                return n
        raise NotFound("need", need_id)

    def explain(self) -> str:
        """The summary, the places filled by urgency, the backend note, and each need's
        account (see :meth:`NeedCallUp.explain`)."""
        lines = [_say("callup.summary", (len(self.needs), self.places, self.filled))]
        lines += [str(t) for t in self.tiers]
        if self.note:
            lines.append(self.note)
        lines += [n.explain() for n in self.needs]
        return "\n".join(lines)


def _places(value: object, needs: Sequence[Need]) -> list[int]:
    if value is None:
        return [n.headcount for n in needs]
    if not isinstance(value, Mapping):
        raise InvalidValue("places", value, "需要映射：需求编号 → 名额 / need need id → places")
    ids = {n.id: n for n in needs}
    for nid, k in value.items():
        if nid not in ids:
            raise InvalidValue("places", nid, "不是本次召集的需求 / not a need of the call-up")
        limit = ids[nid].headcount
        if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k <= limit:
            raise InvalidValue(
                f"places.{nid}", k, f"应为 0 到 {limit} 的整数 / a whole number, 0 to {limit}"
            )
    return [value.get(n.id, n.headcount) for n in needs]


def _exclude(value: object, needs: Sequence[Need]) -> dict[str, frozenset[str]]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidValue(
            "exclude", value, "需要映射：需求编号 → 候选编号 / need need id → candidate ids"
        )
    ids = {n.id for n in needs}
    out: dict[str, frozenset[str]] = {}
    for nid, cids in value.items():
        if nid not in ids:
            raise InvalidValue("exclude", nid, "不是本次召集的需求 / not a need of the call-up")
        out[nid] = frozenset(key("exclude", c) for c in items(f"exclude.{nid}", cids))
    return out


def call_up(
    dispatcher: Dispatcher,
    needs: Sequence[Need],
    *,
    places: Mapping[str, int] | None = None,
    exclude: Mapping[str, Iterable[str]] | None = None,
    backend: Backend = "auto",
) -> CallUpResult:
    """Fill every place of ``needs`` that can be filled: urgent needs first, nearest candidates
    first, each need's search up the dispatcher's ladder only as far as needed (module docs).

    Args:
        dispatcher: the candidates, their bookings (for the gates and the capacity left) and
            the policy (ladder and weights).
        needs: the needs, with distinct ids.
        places: places to fill per need id (0 to its headcount; default: the headcount), for
            needs some of whose places are held already.
        exclude: candidates not to be given a need, per need id (say, those offered it before).
        backend: the exact solver's backend (``"auto"``, ``"scipy"`` or ``"python"``).

    Nothing is booked or recorded (:meth:`NeedBook.call_up
    <zhiyuan.matching.NeedBook.call_up>` records a call-up). Raises
    :class:`~zhiyuan.errors.InvalidValue` for a need id twice, places out of range, or an
    unknown backend, and :class:`~zhiyuan.errors.NotFound` for a need's region not in the tree.

    Example:
        Three volunteers of one community, an emergency needing two and a tea party needing two
        at overlapping times: the emergency is filled first.

        >>> from datetime import datetime
        >>> from zhiyuan import SHANGHAI
        >>> from zhiyuan.hierarchy import load_default
        >>> from zhiyuan.matching import Candidate, Dispatcher, Need
        >>> t = lambda h: datetime(2025, 10, 12, h, tzinfo=SHANGHAI)
        >>> d = Dispatcher(load_default(),
        ...                [Candidate(id=f"v{i}", home_region="370202001001") for i in range(3)])
        >>> needs = [Need(id="flood", requester="街道办", region_code="370202001001", category="应急",
        ...               headcount=2, urgency="emergency", start=t(9), end=t(12), posted_at=t(7)),
        ...          Need(id="tea", requester="社区", region_code="370202001001", category="为老",
        ...               headcount=2, start=t(10), end=t(11), posted_at=t(7))]
        >>> r = call_up(d, needs)
        >>> (r.filled, r.places), [(n.need_id, n.filled, n.places) for n in r.needs]
        ((3, 4), [('flood', 2, 2), ('tea', 1, 2)])
    """
    needs = _batch_needs(dispatcher, needs, "同一次召集中", "")
    if backend not in ("auto", "scipy", "python"):
        raise InvalidValue("backend", backend, "须为 auto、scipy 或 python / unknown backend")
    want = _places(places, needs)
    skip = _exclude(exclude, needs)
    total = sum(want)
    with dispatcher.lock:
        ranked: dict[int, DispatchResult] = {}
        pools: dict[int, list[tuple[Candidate, ScoreParts]]] = {}
        for i, need in enumerate(needs):
            if not want[i]:
                continue
            asked = skip.get(need.id, frozenset())
            # the H cheapest eligible candidates (H = places in all) lie within the level where
            # H are eligible (module docs): climb until then, counting the excluded ones too
            r = dispatcher.rank(need, min_candidates=min(total + len(asked), COUNT))
            ranked[i] = r
            pools[i] = [
                (dispatcher.candidate(x.candidate_id), x.parts)
                for x in r.ranked
                if x.candidate_id not in asked
            ]
        active = sorted(pools)
        costs = [sp.total for i in active for _, sp in pools[i]]
        step_weight = total * (max(costs, default=0) - min(costs, default=0)) + 1
        escalation = dispatcher.policy.escalation
        ladders = {
            i: [lv for lv, _ in _ladder(RegionCode(needs[i].region_code), escalation)]
            for i in active
        }

        def weight(k: int, cand: Candidate, parts: ScoreParts) -> int:
            i = active[k]
            level = dispatcher.level_of(needs[i], cand)
            assert level is not None  # the search found it within the ladder
            return ladders[i].index(level) * step_weight + parts.total

        result, pairs = assign(
            dispatcher,
            [needs[i] for i in active],
            [want[i] for i in active],
            [pools[i] for i in active],
            method="exact",
            backend=backend,
            weight=weight,
        )
        mine: dict[str, list[BatchPair]] = {}
        for p in pairs:
            mine.setdefault(p.need_id, []).append(p)
        accounts = [
            _account(
                escalation,
                need,
                want[i],
                ranked.get(i),
                skip.get(need.id, frozenset()),
                mine.get(need.id, []),
            )
            for i, need in enumerate(needs)
        ]
    return CallUpResult(
        pairs=pairs,
        needs=accounts,
        tiers=urgency_tiers(needs, want, pairs),
        total_cost=sum(p.cost for p in pairs),
        backend=result.backend,
        note=result.note,
    )


def _account(
    escalation: Sequence[Level],
    need: Need,
    places: int,
    ranked: DispatchResult | None,
    asked: frozenset[str],
    mine: Sequence[BatchPair],
) -> NeedCallUp:
    """What the call-up did for ``need`` (``mine``: its pairs): its places by level, and how far
    its search went (``ranked``; ``None`` when it had no place to fill)."""
    if ranked is None:  # no place to fill: nothing was searched
        return NeedCallUp(need_id=need.id, urgency=need.urgency, places=places, filled=0)
    levels = Counter(p.level for p in mine)
    ladder = _ladder(RegionCode(need.region_code), escalation)
    searched, code = (ranked.level, ranked.region_code)
    if searched is None and ladder:  # the search went to the top of the ladder
        searched, code = ladder[-1]
    gates = Counter(f.rule for _, f in ranked.excluded)
    hits = sum(1 for r in ranked.ranked if r.candidate_id in asked)
    if hits:
        gates["callup.asked"] = hits
    return NeedCallUp(
        need_id=need.id,
        urgency=need.urgency,
        places=places,
        filled=len(mine),
        by_level=tuple((lv, levels[lv]) for lv, _ in ladder if levels.get(lv)),
        searched=searched,
        region_code=code,
        eligible=len(ranked.ranked) - hits,
        excluded=tuple(sorted(gates.items())),
        trail=ranked.trail,
    )
