"""Dispatch (派单): hard gates, a score, and 就近派单 escalation up the tree, each explained.

Three layers:

1. **Gates** (hard): the candidate has every required skill, unexpired on the service day; is
   available for the whole window; has capacity left; and is not booked for an overlapping
   window. A candidate that fails a gate is out, with the gate named.
2. **Score** (a cost, lower is better): distance along the tree (how many levels up the lowest
   common ancestor of the need's region and the candidate's home is), distance on the ground
   (metres, when both have a GPS point), rating, reliability and load, weighted by a
   :class:`DispatchPolicy` (policy data, JSON/TOML). :class:`ScoreParts` keeps every part.
3. **Assignment**: online, :meth:`Dispatcher.rank` ranks the candidates for one need, to be
   offered in order; batch assignment of many needs at once is :func:`~zhiyuan.matching.dispatch_batch`.

就近派单: candidates are looked for in the need's village first, then its township, county and
city, as the policy's ``escalation`` names; the search stops at the first level that yields
``min_candidates``. A level is never skipped.

References:
    城阳 网约 平台 (seed 003): the center dispatches to the nearest teams (就近派单); 杭州上城:
    dispatch by proximity to a nearby team (POLICIES.md §4.1). No official weights or timeouts
    exist (§4.2): the defaults are illustrative and meant to be set by each city.

Example:
    >>> from datetime import datetime
    >>> from zhiyuan import SHANGHAI
    >>> from zhiyuan.hierarchy import load_default
    >>> from zhiyuan.matching import Candidate, Need, Dispatcher
    >>> t = lambda h: datetime(2025, 5, 1, h, tzinfo=SHANGHAI)
    >>> cands = [Candidate(id="near", home_region="370214001001", skills=["助老"]),
    ...          Candidate(id="street", home_region="370214001002", skills=["助老"]),
    ...          Candidate(id="noskill", home_region="370214001001")]
    >>> d = Dispatcher(load_default(), cands)
    >>> need = Need(id="n1", requester="张大爷", region_code="370214001001", category="帮老",
    ...             skills={"助老"}, start=t(9), end=t(11), posted_at=t(7))
    >>> result = d.rank(need)
    >>> [r.candidate_id for r in result.ranked], result.level.value
    (['near'], 'village')
    >>> print(result.explain().splitlines()[1])
      noskill: 缺少技能 助老 / missing skills 助老
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import attrs

from zhiyuan._validators import (
    COUNT,
    MINUTES,
    aware,
    bounded,
    enum_items,
    is_a,
    is_bool,
    is_date,
    items,
    items_of,
    non_empty,
    non_negative,
    to_enum,
    to_shanghai,
)
from zhiyuan.errors import InvalidValue, NotFound
from zhiyuan.explain import Finding, finding, register_messages
from zhiyuan.hierarchy.codes import Level, RegionCode
from zhiyuan.hierarchy.tree import RegionTree
from zhiyuan.hours.records import GeoFix
from zhiyuan.matching.needs import Candidate, Need
from zhiyuan.profiles import Source, explain_policy, to_source

__all__ = [
    "Booking",
    "DispatchPolicy",
    "DispatchResult",
    "Dispatcher",
    "Ranked",
    "ScoreParts",
    "distance_m",
]

register_messages(
    {
        ("dispatch.skills", ""): (
            ("missing",),
            "缺少技能 {missing}",
            "missing skills {missing}",
        ),
        ("dispatch.availability", ""): ((), "服务时段不可用", "not available for the window"),
        ("dispatch.distance", ""): (
            ("limit",),
            "距离超过 {limit} 米",
            "farther than {limit} m",
        ),
        ("dispatch.capacity", ""): (
            ("load", "capacity"),
            "任务已满（{load}/{capacity}）",
            "at capacity ({load} of {capacity} tasks)",
        ),
        ("dispatch.booked", ""): (
            ("other",),
            "同一时段已接单 {other}",
            "already booked for an overlapping window ({other})",
        ),
        ("dispatch.level", ""): (
            ("level", "code", "found", "level_en"),
            "在{level}（{code}）找到 {found} 名合格候选",
            "{found} eligible candidate(s) at the {level_en} level ({code})",
        ),
        ("dispatch.none", ""): (
            (),
            "各级均无合格候选，需人工处理",
            "no eligible candidate at any level",
        ),
    }
)


def distance_m(a: GeoFix, b: GeoFix) -> int:
    """Great-circle distance in whole metres (haversine, Earth radius 6,371,008.8 m).

    Example:
        >>> distance_m(GeoFix(lat=36.30, lon=120.40), GeoFix(lat=36.31, lon=120.40))
        1111
    """
    if not isinstance(a, GeoFix) or not isinstance(b, GeoFix):
        bad, field = (a, "a") if not isinstance(a, GeoFix) else (b, "b")
        raise InvalidValue(field, bad, "需要 GPS 定位 GeoFix / need a GeoFix")
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dp, dl = p2 - p1, math.radians(b.lon - a.lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return int(2 * 6_371_008.8 * math.asin(min(1.0, math.sqrt(h))))


def _levels(value: Iterable[object]) -> tuple[Level, ...]:
    return enum_items("escalation", Level, value)


_WEIGHT = bounded(0, COUNT, "cost points")


@attrs.frozen(kw_only=True)
class DispatchPolicy:
    """The weights of the score and the escalation ladder, as data (派单规则).

    The cost of a candidate (lower is better) is::

        tree_weight × levels up to the common ancestor
        + km_weight × distance in metres ÷ 1000
        + rating_weight × (500 − rating in hundredths) ÷ 100
        + reliability_weight × (100 − reliability %) ÷ 100
        + load_weight × current load

    all in integers (each term rounded down). ``escalation`` lists the levels searched in
    order; ``min_candidates`` is how many eligible candidates stop the search;
    ``max_distance_m`` optionally gates out candidates farther than that.

    ``allow_taking`` lets volunteers and teams take an open need without an offer (抢单,
    :meth:`NeedBook.take <zhiyuan.matching.NeedBook.take>`), as 城阳's order has it: 百姓点单 →
    志愿者接单 → 中心派单, volunteers grabbing orders from a public hall (滴滴大厅) and the centre
    dispatching the rest (山东新闻联播 2021-06-18, POLICIES.md §4.1 and "Matching (seeds and
    reports)"); the 长江云 platform lets organizations 抢单 beside the binding 层层派单 (§4.1).
    Off by default: dispatch by the centre is the national pattern, and taking is a city's
    choice.

    Example:
        >>> from zhiyuan.profiles import Source
        >>> chengyang = DispatchPolicy(name="chengyang", allow_taking=True, source=Source(
        ...     document="城阳 文明实践积分平台 滴滴大厅 (山东新闻联播 2021-06-18)",
        ...     issuer="城阳区新时代文明实践中心", region_code="370214"))
        >>> DispatchPolicy().allow_taking, chengyang.allow_taking
        (False, True)
    """

    name: str = attrs.field(default="default", validator=non_empty)
    effective_from: date = attrs.field(default=date(2021, 1, 1), validator=is_date)
    source: Source | None = attrs.field(default=None, converter=to_source)
    tree_weight: int = attrs.field(default=100, validator=_WEIGHT)
    km_weight: int = attrs.field(default=10, validator=_WEIGHT)
    rating_weight: int = attrs.field(default=20, validator=_WEIGHT)
    reliability_weight: int = attrs.field(default=50, validator=_WEIGHT)
    load_weight: int = attrs.field(default=15, validator=_WEIGHT)
    escalation: tuple[Level, ...] = attrs.field(
        default=(Level.VILLAGE, Level.TOWNSHIP, Level.COUNTY, Level.CITY), converter=_levels
    )
    min_candidates: int = attrs.field(default=1, validator=bounded(1, COUNT, "candidates"))
    max_distance_m: int | None = attrs.field(default=None, validator=bounded(0, COUNT, "metres"))
    offer_timeout_minutes: int | None = attrs.field(
        default=None, validator=bounded(1, MINUTES, "minutes")
    )
    allow_taking: bool = attrs.field(default=False, validator=is_bool)

    def explain(self) -> str:
        """This policy in two lines, Chinese / English: name, first day in force, source."""
        return explain_policy(self, "派单规则", "dispatch policy")

    def __attrs_post_init__(self) -> None:
        depths = [lv.depth for lv in self.escalation]
        if not depths or depths != sorted(depths, reverse=True) or len(set(depths)) != len(depths):
            raise InvalidValue(
                "escalation",
                [lv.value for lv in self.escalation],
                "须由低到高逐级列出 / list levels from the lowest up, each once",
            )


_METERS = attrs.validators.optional(bounded(0, COUNT, "metres"))


@attrs.frozen(kw_only=True)
class ScoreParts:
    """A candidate's cost for a need, part by part (lower is better): whole numbers ≥ 0, and
    ``meters`` ``None`` when the need or the candidate has no GPS point."""

    tree_levels: int
    tree: int
    meters: int | None
    distance: int
    rating: int
    reliability: int
    load: int

    def __attrs_post_init__(self) -> None:
        # one fast test for the usual case (built by a dispatcher, once per candidate ranked);
        # the field-by-field check names the bad field
        m = self.meters
        if not (
            type(self.tree_levels) is int
            and type(self.tree) is int
            and type(self.distance) is int
            and type(self.rating) is int
            and type(self.reliability) is int
            and type(self.load) is int
            and min(self.tree_levels, self.tree, self.distance, self.rating) >= 0
            and min(self.reliability, self.load) >= 0
            and (m is None or (type(m) is int and 0 <= m <= COUNT))
        ):
            for a in attrs.fields(ScoreParts):
                check = _METERS if a.name == "meters" else non_negative
                check(self, a, getattr(self, a.name))

    @property
    def total(self) -> int:
        """The sum of the weighted parts."""
        return self.tree + self.distance + self.rating + self.reliability + self.load

    def __str__(self) -> str:
        m = "—" if self.meters is None else f"{self.meters:,} m"
        return (
            f"cost {self.total} = tree {self.tree} ({self.tree_levels} levels) + distance "
            f"{self.distance} ({m}) + rating {self.rating} + reliability {self.reliability} + "
            f"load {self.load}"
        )


_PARTS = is_a(ScoreParts)


@attrs.frozen(kw_only=True)
class Ranked:
    """One eligible candidate with its cost (a whole number ≥ 0) and the parts of it."""

    candidate_id: str
    cost: int
    parts: ScoreParts

    def __attrs_post_init__(self) -> None:
        cid = self.candidate_id
        if not (
            type(cid) is str
            and cid.strip()
            and cid.isascii()
            and type(self.cost) is int
            and self.cost >= 0
            and type(self.parts) is ScoreParts
        ):
            fields = attrs.fields(Ranked)
            non_empty(self, fields.candidate_id, cid)
            non_negative(self, fields.cost, self.cost)
            _PARTS(self, fields.parts, self.parts)


@attrs.frozen(kw_only=True)
class Booking:
    """A candidate's accepted task in a window (for the double-booking gate); the window must
    end after it starts."""

    candidate_id: str = attrs.field(validator=non_empty)
    need_id: str = attrs.field(validator=non_empty)
    start: datetime = attrs.field(converter=to_shanghai, validator=aware)
    end: datetime = attrs.field(converter=to_shanghai, validator=aware)

    def __attrs_post_init__(self) -> None:
        if self.end <= self.start:
            raise InvalidValue(
                "end",
                self.end.isoformat(),
                f"结束须晚于开始 {self.start.isoformat()} / end must be after start",
            )


def _level(value: Any) -> Level | None:
    return None if value is None else to_enum("level", Level, value)


def _ranked(value: Any) -> tuple[Ranked, ...]:
    return items_of("ranked", Ranked, value)


def _trail(value: Any) -> tuple[Finding, ...]:
    return items_of("trail", Finding, value)


def _excluded(value: Any) -> tuple[tuple[str, Finding], ...]:
    out = []
    for k, item in enumerate(items("excluded", value)):
        pair = items(f"excluded[{k}]", item)
        if (
            len(pair) != 2
            or not isinstance(pair[0], str)
            or not pair[0].strip()
            or not isinstance(pair[1], Finding)
        ):
            raise InvalidValue(
                f"excluded[{k}]",
                item,
                "每项须为 (候选编号, Finding) / each item is (candidate id, Finding)",
            )
        out.append((pair[0], pair[1]))
    return tuple(out)


@attrs.frozen(kw_only=True)
class DispatchResult:
    """Ranked eligible candidates for one need, the level where the search stopped, and why
    every other considered candidate was left out."""

    need_id: str = attrs.field(validator=non_empty)
    ranked: tuple[Ranked, ...] = attrs.field(converter=_ranked)
    level: Level | None = attrs.field(converter=_level)
    region_code: str | None = attrs.field(validator=attrs.validators.optional(non_empty))
    excluded: tuple[tuple[str, Finding], ...] = attrs.field(default=(), converter=_excluded)
    trail: tuple[Finding, ...] = attrs.field(default=(), converter=_trail)

    def explain(self) -> str:
        """The escalation trail, the exclusions, and each ranked candidate's parts."""
        lines = [f"{f.zh} / {f.en}" for f in self.trail]
        lines += [f"  {cid}: {f.zh} / {f.en}" for cid, f in self.excluded]
        lines += [f"  #{i} {r.candidate_id}: {r.parts}" for i, r in enumerate(self.ranked, 1)]
        return "\n".join(lines)


class Dispatcher:
    """Candidates indexed by region for fast 就近 search, with bookings for the gates.

    Args:
        tree: the region tree (candidates' homes and needs' regions must be in it).
        candidates: the candidates; more with :meth:`add`.
        policy: the weights and escalation ladder.
    """

    def __init__(
        self,
        tree: RegionTree,
        candidates: Iterable[Candidate] = (),
        *,
        policy: DispatchPolicy | None = None,
    ) -> None:
        if not isinstance(tree, RegionTree):
            raise InvalidValue("tree", tree, "需要区划树 RegionTree / need a RegionTree")
        if policy is not None and not isinstance(policy, DispatchPolicy):
            raise InvalidValue(
                "policy", policy, "需要派单规则 DispatchPolicy / need a DispatchPolicy"
            )
        given = items_of("candidates", Candidate, candidates)
        self.tree = tree
        self.policy = policy or DispatchPolicy()
        self._lock = threading.RLock()
        self._candidates: dict[str, Candidate] = {}
        self._by_region: dict[str, list[str]] = {}
        self._bookings: dict[str, list[Booking]] = {}
        for c in given:
            self.add(c)

    def add(self, candidate: Candidate) -> None:
        """Index a candidate under its home region and every ancestor (replaces one with its id)."""
        _need_type(candidate, Candidate, "candidate")
        tree = self.tree
        if candidate.home_region not in tree:
            raise NotFound("region", candidate.home_region)
        with self._lock:
            old = self._candidates.get(candidate.id)
            if old is not None:
                for code in self._homes(old.home_region):
                    self._by_region[code].remove(old.id)
            self._candidates[candidate.id] = candidate
            for code in self._homes(candidate.home_region):
                self._by_region.setdefault(code, []).append(candidate.id)

    def _homes(self, code: str) -> list[str]:
        return [code, *(r.code for r in self.tree.ancestors(code))]

    def candidate(self, candidate_id: str) -> Candidate:
        """A candidate by id."""
        _need_type(candidate_id, str, "candidate_id")
        try:
            return self._candidates[candidate_id]
        except KeyError:
            raise NotFound("candidate", candidate_id) from None

    def book(self, booking: Booking) -> None:
        """Record an accepted task (so the candidate is not double-booked)."""
        _need_type(booking, Booking, "booking")
        with self._lock:
            held = self._bookings.get(booking.candidate_id, [])
            # one booking per need: booking again (even with other times) replaces it
            self._bookings[booking.candidate_id] = [
                *(b for b in held if b.need_id != booking.need_id),
                booking,
            ]

    def release(self, candidate_id: str, need_id: str) -> None:
        """Forget a booking (task finished, declined or cancelled)."""
        _need_type(candidate_id, str, "candidate_id")
        _need_type(need_id, str, "need_id")
        with self._lock:
            held = self._bookings.get(candidate_id, [])
            self._bookings[candidate_id] = [b for b in held if b.need_id != need_id]

    def bookings(self, candidate_id: str | None = None) -> dict[str, tuple[Booking, ...]]:
        """The bookings held, by candidate (only candidates with any; one candidate's with
        ``candidate_id``, an empty mapping when it holds none).

        Example:
            >>> from zhiyuan.hierarchy import load_default
            >>> Dispatcher(load_default()).bookings()
            {}
        """
        if candidate_id is not None:
            _need_type(candidate_id, str, "candidate_id")
        with self._lock:
            return {
                cid: tuple(held)
                for cid, held in self._bookings.items()
                if held and (candidate_id is None or cid == candidate_id)
            }

    def held(self, candidate_id: str) -> int:
        """How many bookings a candidate holds (what the capacity gate counts).

        Example:
            >>> from zhiyuan.hierarchy import load_default
            >>> Dispatcher(load_default()).held("v1")
            0
        """
        _need_type(candidate_id, str, "candidate_id")
        return len(self._bookings.get(candidate_id, ()))

    @property
    def lock(self) -> threading.RLock:
        """The dispatcher's lock (re-entrant). Its own methods take it; a book that keeps the
        bookings in step with its entries (:class:`~zhiyuan.matching.NeedBook`) holds it across
        a check and the write that follows.

        Example:
            >>> from zhiyuan.hierarchy import load_default
            >>> d = Dispatcher(load_default())
            >>> with d.lock:
            ...     d.bookings()
            {}
        """
        return self._lock

    # --- the three layers ---------------------------------------------------------------------

    def gate(self, need: Need, candidate: Candidate) -> Finding | None:
        """The first hard gate the candidate fails for the need, or ``None``."""
        _need_type(need, Need, "need")
        _need_type(candidate, Candidate, "candidate")
        return self._gate(need, candidate)

    def _gate(self, need: Need, candidate: Candidate) -> Finding | None:
        missing = candidate.missing_skills(need.skills, need.start.date())
        if missing:
            return finding("dispatch.skills", ("、".join(missing),))
        held = self._bookings.get(candidate.id, ())
        load = max(candidate.load, len(held))
        if load >= candidate.capacity:
            return finding("dispatch.capacity", (load, candidate.capacity))
        for b in held:
            if b.need_id != need.id and b.start < need.end and need.start < b.end:
                return finding("dispatch.booked", (b.need_id,))
        if not candidate.availability.covers(need.start, need.end):
            return finding("dispatch.availability")
        limit = self.policy.max_distance_m
        if (
            limit is not None
            and need.location is not None
            and candidate.location is not None
            and distance_m(need.location, candidate.location) > limit
        ):
            return finding("dispatch.distance", (limit,))
        return None

    def level_of(self, need: Need, candidate: Candidate) -> Level | None:
        """The level of the policy's ladder at which a search for ``need`` first reaches
        ``candidate``'s home (``None``: outside the widest level), whether or not it passes the
        gates.

        Example:
            >>> from zhiyuan.hierarchy import load_default
            >>> from datetime import datetime
            >>> from zhiyuan import SHANGHAI
            >>> t = lambda h: datetime(2025, 5, 1, h, tzinfo=SHANGHAI)
            >>> d = Dispatcher(load_default())
            >>> n = Need(id="n1", requester="r", region_code="370214001001", category="帮老",
            ...          start=t(9), end=t(10), posted_at=t(7))
            >>> [d.level_of(n, Candidate(id="c", home_region=h)).value
            ...  for h in ("370214001001", "370214001002", "370214002001", "370202001001")]
            ['village', 'township', 'county', 'city']
        """
        _need_type(need, Need, "need")
        _need_type(candidate, Candidate, "candidate")
        if need.region_code not in self.tree:
            raise NotFound("region", need.region_code)
        if candidate.home_region not in self.tree:
            raise NotFound("region", candidate.home_region)
        homes = set(self._homes(candidate.home_region))  # where rank() finds the candidate
        for level, anc in _ladder(RegionCode(need.region_code), self.policy.escalation):
            if anc in homes:
                return level
        return None

    def score(self, need: Need, candidate: Candidate) -> ScoreParts:
        """The candidate's cost for the need, part by part."""
        _need_type(need, Need, "need")
        _need_type(candidate, Candidate, "candidate")
        return self._score(need, candidate)

    def _score(self, need: Need, candidate: Candidate) -> ScoreParts:
        p = self.policy
        a, b = RegionCode(need.region_code), RegionCode(candidate.home_region)
        common = _common_depth(a, b)
        levels = a.level.depth - common
        meters = (
            distance_m(need.location, candidate.location)
            if need.location is not None and candidate.location is not None
            else None
        )
        return ScoreParts(
            tree_levels=levels,
            tree=p.tree_weight * levels,
            meters=meters,
            distance=0 if meters is None else p.km_weight * meters // 1000,
            rating=p.rating_weight * max(500 - candidate.rating_hundredths, 0) // 100,
            reliability=p.reliability_weight * (100 - candidate.reliability_percent) // 100,
            load=p.load_weight * max(candidate.load, self.held(candidate.id)),
        )

    def rank(
        self, need: Need, *, limit: int | None = None, min_candidates: int | None = None
    ) -> DispatchResult:
        """Eligible candidates for one need, cheapest first (ties by id), with 就近 escalation.

        The search stops at the first level of the policy's ladder with at least
        ``min_candidates`` eligible candidates (default: the policy's own number); ``limit``
        keeps the first so many of them.
        """
        _need_type(need, Need, "need")
        _optional_count(limit, 0, "limit")
        _optional_count(min_candidates, 1, "min_candidates")
        enough = self.policy.min_candidates if min_candidates is None else min_candidates
        if need.region_code not in self.tree:
            raise NotFound("region", need.region_code)
        code = RegionCode(need.region_code)
        seen: set[str] = set()
        excluded: list[tuple[str, Finding]] = []
        trail: list[Finding] = []
        ranked: list[Ranked] = []
        with self._lock:
            for level, anc in _ladder(code, self.policy.escalation):
                for cid in self._by_region.get(anc, ()):
                    if cid in seen:
                        continue
                    seen.add(cid)
                    cand = self._candidates[cid]
                    failed = self._gate(need, cand)  # need checked above, cand indexed
                    if failed is not None:
                        excluded.append((cid, failed))
                        continue
                    parts = self._score(need, cand)
                    ranked.append(Ranked(candidate_id=cid, cost=parts.total, parts=parts))
                trail.append(
                    finding(
                        "dispatch.level", (level.zh, anc[: level.digits], len(ranked), level.value)
                    )
                )
                if len(ranked) >= enough:
                    ranked.sort(key=lambda r: (r.cost, r.candidate_id))
                    return DispatchResult(
                        need_id=need.id,
                        ranked=tuple(ranked[:limit] if limit is not None else ranked),
                        level=level,
                        region_code=anc,
                        excluded=tuple(excluded),
                        trail=tuple(trail),
                    )
        trail.append(finding("dispatch.none"))
        ranked.sort(key=lambda r: (r.cost, r.candidate_id))
        return DispatchResult(
            need_id=need.id,
            ranked=tuple(ranked[:limit] if limit is not None else ranked),
            level=None,
            region_code=None,
            excluded=tuple(excluded),
            trail=tuple(trail),
        )

    def candidates_for(
        self, need: Need, *, at_least: int | None = None
    ) -> list[tuple[Candidate, ScoreParts]]:
        """Every eligible candidate within the level where the search stops (for batches).

        ``at_least`` asks the search to go up the ladder until that many are eligible.
        """
        _optional_count(at_least, 1, "at_least")
        result = self.rank(need, min_candidates=at_least)
        return [(self._candidates[r.candidate_id], r.parts) for r in result.ranked]


_TYPE_NAMES = {
    Need: ("需求 Need", "a Need"),
    Candidate: ("候选 Candidate", "a Candidate"),
    Booking: ("接单记录 Booking", "a Booking"),
    str: ("文本编号", "a text id"),
}


def _need_type(value: object, kind: type, field: str) -> None:
    if not isinstance(value, kind):
        zh, en = _TYPE_NAMES[kind]
        raise InvalidValue(field, value, f"需要{zh} / need {en}")


def _optional_count(value: object, low: int, field: str) -> None:
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, int) or not low <= value <= COUNT
    ):
        raise InvalidValue(
            field, value, f"应为 {low} 到 {COUNT} 的整数 / a whole number, {low} to {COUNT}"
        )


def _ladder(code: RegionCode, escalation: Iterable[Level]) -> list[tuple[Level, str]]:
    """The levels of the ladder a search for a need in ``code`` goes through, lowest first,
    each with the need's region at that level (levels below the need's own are skipped)."""
    out = []
    for level in escalation:
        if level > code.level:
            continue
        anc = code.value if level is code.level else _ancestor(code, level)
        if anc is not None:
            out.append((level, anc))
    return out


def _ancestor(code: RegionCode, level: Level) -> str | None:
    for a in code.ancestors():
        if a.level is level:
            return a.value
    return None


def _common_depth(a: RegionCode, b: RegionCode) -> int:
    """The depth of the deepest structural ancestor the two codes share (0: none)."""
    digits = (2, 4, 6, 9, 12)
    depth = 0
    for d, n in enumerate(digits, start=1):
        if d > min(a.level.depth, b.level.depth) or a.value[:n] != b.value[:n]:
            break
        depth = d
    return depth


def bookings_by_candidate(bookings: Sequence[Booking]) -> Mapping[str, list[Booking]]:
    """Group bookings by candidate (a helper for callers that keep their own)."""
    out: dict[str, list[Booking]] = {}
    for b in bookings:
        out.setdefault(b.candidate_id, []).append(b)
    return out
