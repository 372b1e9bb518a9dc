"""What-if replays: the same history under scenario A and scenario B, compared.

A :class:`Scenario` bundles the policies a city could change: the hour policy, the star
scheme, the conversion policy and (optionally) the dispatch policy. :func:`replay` runs a
generated :class:`~zhiyuan.simulate.Population` through them on the columnar path
(:mod:`zhiyuan.bulk`, exact twins of the object path): counted minutes per record, then star
levels, points issued and still outstanding, hours by county, and, when the scenario has a
dispatch policy, the fill rate of a sample of needs. :func:`compare` does it for two scenarios.

Assumptions of the replay (:data:`~zhiyuan.simulate.replay.ASSUMPTIONS`, stated in every result and report): every
record the hour policy accepts or sends for approval is certified (approval granted) at the end
of its service day; nobody redeems points (outstanding = issued − expired by the end of the
history); people do not change what they do under the other rules (the same records are
replayed under both); needs are posted in random communities of the city and dispatched one by
one, each to its best candidate, who accepts. The population is either synthetic
(:func:`~zhiyuan.simulate.generate`) or a city's real records
(:func:`~zhiyuan.simulate.from_records`).

Example:
    >>> from zhiyuan.hierarchy import load_default
    >>> from zhiyuan.simulate import CITY_PROFILES, generate
    >>> tree = load_default()
    >>> pop = generate(CITY_PROFILES["shinan"], tree, scale=0.02, seed=7)
    >>> a = Scenario(name="national")
    >>> b = Scenario.from_toml('name = "zhangjiagang"\\n[stars]\\nname = "zjg"\\n'
    ...                        'thresholds_hours = [30, 60, 100, 200, 300]')
    >>> cmp = compare(pop, a, b, tree)
    >>> cmp.a.counted_minutes == cmp.b.counted_minutes, sum(cmp.b.star_counts.values()) == pop.n_volunteers
    (True, True)
    >>> cmp.b.star_counts.get(1, 0) > cmp.a.star_counts.get(1, 0)
    True
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

import attrs

from zhiyuan._validators import SHANGHAI, bounded, non_empty, non_negative
from zhiyuan.convert import from_json, from_toml, unstructure
from zhiyuan.credit.conversion import ConversionPolicy, Expiry
from zhiyuan.errors import InvalidValue
from zhiyuan.hierarchy.codes import Level
from zhiyuan.hierarchy.tree import RegionTree
from zhiyuan.hours.policy import HourPolicy, Purpose
from zhiyuan.matching.dispatch import DispatchPolicy
from zhiyuan.profiles import cite
from zhiyuan.progress import Progress, stepper
from zhiyuan.scoring.stars import StarScheme
from zhiyuan.simulate.population import Population, np
from zhiyuan.simulate.report import Comparison, ScenarioResult

__all__ = [
    "ASSUMPTIONS",
    "Response",
    "Scenario",
    "compare",
    "compare_blocks",
    "replay",
    "respond",
]

ASSUMPTIONS: dict[str, str] = {
    "certified": "接受或待审批的工时均在服务当日结束时认证 / every hour accepted or sent for "
    "approval is certified at the end of its service day",
    "unchanged": "行为不变：同一批记录在两种政策下重放 / people do not change behaviour: the "
    "same records are replayed under both policies",
    "no_redemption": "积分不兑换：未兑 = 发放 − 过期 / nobody redeems points: outstanding = "
    "issued − expired",
    "synthetic": "人口为合成数据，按种子城市公开数据校准 / the population is synthetic, "
    "calibrated to the seed city's published figures",
    "records": "每位志愿者的记录按开始时间录入 / each volunteer's records are posted in start "
    "order",
    "needs": "需求随机发布在本市社区，逐一派给最佳人选并被接受 / needs are posted in random "
    "communities and each goes to its best candidate, who accepts",
}
"""What a replay takes for granted, by key, each ``中文 / English``; a result lists those that
apply to it (:attr:`ScenarioResult.assumptions <zhiyuan.simulate.ScenarioResult.assumptions>`)."""


@attrs.frozen(kw_only=True)
class Scenario:
    """The policies of one what-if: hours, stars, points and (optionally) dispatch.

    Loadable from TOML or JSON with one table per policy (``[hours]``, ``[stars]``,
    ``[points]``, ``[dispatch]``); anything left out keeps its default.
    """

    name: str = attrs.field(default="baseline", validator=non_empty)
    hours: HourPolicy = attrs.field(factory=HourPolicy)
    stars: StarScheme = attrs.field(factory=StarScheme)
    points: ConversionPolicy = attrs.field(factory=ConversionPolicy)
    dispatch: DispatchPolicy | None = None
    needs: int = attrs.field(default=0, validator=non_negative)
    """How many needs to simulate for the fill rate (0: none)."""

    @classmethod
    def from_toml(cls, text: str) -> Scenario:
        """A scenario from TOML text."""
        return from_toml(text, cls)

    @classmethod
    def from_json(cls, text: str) -> Scenario:
        """A scenario from JSON text."""
        return from_json(text, cls)


def _end_of(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=SHANGHAI)


BLOCK_RECORDS = 2_000_000
"""How many records :func:`~zhiyuan.simulate.replay` evaluates at once by default (whole volunteers at a time):
memory then grows with the block, not with the history."""


@attrs.define
class _Totals:
    """What the blocks of one replay add up to.

    Minutes per village are kept in one of two forms: ``per_place``, an array over the villages
    all the blocks share (``pop.villages``), or ``places``, a mapping village code → minutes (the
    villages with any), for totals of populations over different villages (the partitions of
    :mod:`zhiyuan.simulate.dask`). Totals of disjoint sets of volunteers replayed under the same
    scenario add up (``+``): every figure of the sum is what one replay of both sets gives.
    """

    counted: int = 0
    levels: Any = None
    issued: int = 0
    outstanding: int = 0
    months: dict[int, list[int]] = attrs.field(factory=dict)
    per_place: Any = None
    missing: list[Any] | None = None  # per block, the stars' minutes short of the next level
    places: dict[str, int] | None = None

    def __add__(self, other: _Totals) -> _Totals:
        """Every field summed exactly: counts and points added, star levels and minutes per
        village (array or keyed form) added, months added month by month, the blocks' minutes
        missing (if kept) concatenated, ``self``'s first. ``_Totals()`` adds nothing."""
        if not isinstance(other, _Totals):
            return NotImplemented
        months = {m: list(v) for m, v in self.months.items()}
        for m, (issued, expired) in other.months.items():
            got = months.setdefault(m, [0, 0])
            got[0] += issued
            got[1] += expired
        places = None
        if self.places is not None or other.places is not None:
            places = dict(self.places or {})
            for code, minutes in (other.places or {}).items():
                places[code] = places.get(code, 0) + minutes
        missing = None
        if self.missing is not None or other.missing is not None:
            missing = [*(self.missing or ()), *(other.missing or ())]
        return _Totals(
            counted=self.counted + other.counted,
            levels=_added(self.levels, other.levels),
            issued=self.issued + other.issued,
            outstanding=self.outstanding + other.outstanding,
            months=months,
            per_place=_added(self.per_place, other.per_place),
            missing=missing,
            places=places,
        )

    def keyed(self, villages: tuple[str, ...]) -> _Totals:
        """These totals with the minutes per village keyed by the code of ``villages[i]`` (the
        villages with any minutes) instead of an array over ``villages``: the form in which
        totals of populations over different villages add up."""
        places = dict(self.places or {})
        if self.per_place is not None:
            for i in np.flatnonzero(self.per_place).tolist():
                places[villages[i]] = places.get(villages[i], 0) + int(self.per_place[i])
        return attrs.evolve(self, per_place=None, places=places)


def _added(x: Any, y: Any) -> Any:
    """Two count arrays added (``None`` counts as nothing); they must have the same shape."""
    if x is None or y is None:
        return None if x is None and y is None else (y if x is None else x).copy()
    if x.shape != y.shape:
        raise ValueError(f"totals of different shapes cannot be added: {x.shape} and {y.shape}")
    return x + y


def replay(
    pop: Population,
    scenario: Scenario,
    tree: RegionTree,
    *,
    as_of: datetime | None = None,
    progress: Progress | None = None,
    block_records: int | None = BLOCK_RECORDS,
) -> ScenarioResult:
    """Run ``pop`` through ``scenario`` on the columnar path; see the module doc. ``progress``
    is told of each step (hours, stars, points, counties, needs; :mod:`zhiyuan.progress`).

    Volunteers are independent and every figure is a sum over volunteers, so the history is
    evaluated in blocks of whole volunteers of about ``block_records`` records each (``None``:
    all at once), which bounds the memory of a replay; the result is the same either way.
    """
    if block_records is not None and (
        isinstance(block_records, bool) or not isinstance(block_records, int) or block_records < 1
    ):
        raise InvalidValue("block_records", block_records, "需要正整数 / a whole number ≥ 1")
    t0 = time.perf_counter()
    now = as_of or _end_of(pop.profile.last_day)
    today = (int(now.timestamp()) + 8 * 3600) // 86400
    totals = _totals(scenario, pop)
    _blocks(pop, scenario, now, today, totals, progress, block_records)
    shape = _Shape()
    shape.add(pop)
    return _result(pop, shape, scenario, tree, totals, today, t0, progress)


class _Shape:
    """What a result says about the population it replayed, added up block by block."""

    def __init__(self) -> None:
        self.volunteers = 0
        self.records = 0
        self.first: int | None = None

    def add(self, pop: Population) -> None:
        self.volunteers += pop.n_volunteers
        self.records += pop.n_records
        if pop.n_records:
            low = int(pop.start.min())
            self.first = low if self.first is None else min(self.first, low)

    def __add__(self, other: _Shape) -> _Shape:
        """The shape of two disjoint populations together."""
        if not isinstance(other, _Shape):
            return NotImplemented
        out = _Shape()
        out.volunteers = self.volunteers + other.volunteers
        out.records = self.records + other.records
        firsts = [f for f in (self.first, other.first) if f is not None]
        out.first = min(firsts) if firsts else None
        return out


def _totals(scenario: Scenario, pop: Population) -> _Totals:
    return _Totals(
        levels=np.zeros(scenario.stars.top + 1, dtype=np.int64),
        per_place=np.zeros(len(pop.villages), dtype=np.int64),
    )


def _result(
    pop: Population,
    shape: _Shape,
    scenario: Scenario,
    tree: RegionTree,
    totals: _Totals,
    today: int,
    t0: float,
    progress: Progress | None,
) -> ScenarioResult:
    """The result of a replay whose records are all in ``totals``; ``pop`` (the population, or
    its first block) gives the place, the villages of ``totals.per_place`` and the sample of
    needs (minutes keyed by village, ``totals.places``, need no villages)."""
    simulated = scenario.dispatch is not None and scenario.needs > 0
    tell = stepper(progress, 5 if simulated else 4)

    def step(what: str) -> None:
        tell(f"{scenario.name}: {what}")

    for what in ("工时 / hours", "星级 / stars", "积分 / points"):
        step(what)

    # Hours by county: minutes per village (in either form, keyed by code), rolled up the tree.
    rolled = tree.rollup(sorted((totals.keyed(pop.villages).places or {}).items()))
    counties = {c: m for c, m in rolled.items() if tree.level(c) is Level.COUNTY}
    names = {c: tree[c].name or c for c in counties}
    step("县区 / counties")

    needs = filled = 0
    if simulated:
        needs, filled = _simulate_needs(pop, scenario, tree)
        step("需求 / needs")
    kinds = ["certified", "unchanged", "no_redemption"]
    kinds.append("synthetic" if pop.synthetic else "records")
    if needs:
        kinds.append("needs")
    first_day = (
        None
        if shape.first is None
        else date(1970, 1, 1) + timedelta(days=(shape.first + 8 * 3600) // 86400)
    )
    return ScenarioResult(
        scenario=scenario.name,
        volunteers=shape.volunteers,
        records=shape.records,
        counted_minutes=totals.counted,
        star_counts={lv: int(k) for lv, k in enumerate(totals.levels) if k},
        points_issued=totals.issued,
        points_outstanding=totals.outstanding,
        hours_by_region=counties,
        region_names=names,
        needs=needs,
        needs_filled=filled,
        seconds=round(time.perf_counter() - t0, 3),
        sources=_sources(scenario),
        policies=unstructure(scenario),
        points_by_month=_by_month(totals.months, today),
        city=pop.profile.name,
        region_code=pop.profile.region_code,
        first_day=first_day,
        last_day=pop.profile.last_day,
        scale=pop.scale if pop.synthetic else None,
        random_seed=pop.seed if pop.synthetic else None,
        assumptions=tuple(ASSUMPTIONS[k] for k in kinds),
    )


def _blocks(
    pop: Population,
    scenario: Scenario,
    now: datetime,
    today: int,
    totals: _Totals,
    progress: Progress | None,
    block_records: int | None,
) -> None:
    """Replay every record, in blocks of whole volunteers of about ``block_records`` records."""
    n = pop.n_records
    size = n if block_records is None else block_records
    cut = 0  # first record of the block
    first_vol = 0
    while True:
        stop = min(cut + size, n)
        if stop < n:  # whole volunteers: end the block where a volunteer ends
            stop = int(np.searchsorted(pop.volunteer, pop.volunteer[stop - 1], side="right"))
        last_vol = pop.n_volunteers if stop >= n else int(pop.volunteer[stop])
        _block(pop, scenario, now, today, cut, stop, first_vol, last_vol, totals, progress)
        if stop >= n:
            break
        cut, first_vol = stop, last_vol


def _block(
    pop: Population,
    scenario: Scenario,
    now: datetime,
    today: int,
    lo: int,
    hi: int,
    v_lo: int,
    v_hi: int,
    totals: _Totals,
    progress: Progress | None,
) -> None:
    """Replay records ``lo:hi`` (volunteers ``v_lo:v_hi``, every record of each) and add the
    block's figures to ``totals``."""
    from zhiyuan.bulk import Columns, evaluate_hours, rate_stars
    from zhiyuan.bulk.points import convert_points

    ids = np.arange(v_hi - v_lo)
    vol_all = pop.volunteer[lo:hi] - v_lo
    start, evidence, category = pop.start[lo:hi], pop.evidence[lo:hi], pop.category[lo:hi]
    records = Columns.of(
        {
            "volunteer": vol_all,
            "start": start,
            "end": pop.end[lo:hi],
            "evidence": evidence,
            "category": category,
        },
        categories=pop.categories,
        volunteer_ids=ids,
    )
    hours = evaluate_hours(records, scenario.hours, now=now, progress=progress)
    totals.counted += int(hours.counted_minutes.sum())
    ok = (hours.status != 2) & (hours.counted_minutes > 0)
    counted = hours.counted_minutes[ok]
    day = (start[ok] + 8 * 3600) // 86400
    vol = vol_all[ok]
    rows = Columns.of(
        {
            "volunteer": vol,
            "day": day,
            "minutes": counted,
            "weighted_minutes": hours.weighted_minutes[ok],
            "evidence": evidence[ok],
            "category": category[ok],
            "purposes": hours.purposes[ok],
        },
        categories=pop.categories,
        volunteer_ids=ids,
    )
    registered = ((pop.registered[v_lo:v_hi] + 8 * 3600) // 86400).astype("datetime64[D]")
    stars = rate_stars(rows, scenario.stars, now, registered_on=registered)
    totals.levels += np.bincount(stars.level, minlength=len(totals.levels))
    if totals.missing is not None:  # only hours stand between them and the next level
        short = np.where(stars.unmet == 0, stars.minutes_missing, 0)
        totals.missing.append(np.where(stars.next_level > 0, short, 0))

    # Points: certified at the end of the service day, in record order.
    certified_at = (day + 1) * 86400 - 8 * 3600 - 1
    points_bit = 1 << list(Purpose).index(Purpose.POINTS)
    points = convert_points(
        volunteer=vol,
        service_day=day,
        certified_at=certified_at,
        record_order=np.flatnonzero(ok),
        minutes=counted,
        evidence=evidence[ok],
        points_purpose=(hours.purposes[ok] & points_bit) != 0,
        category=category[ok],
        categories=pop.categories,
        policy=scenario.points,
        weighted_minutes=hours.weighted_minutes[ok],
    )
    expiry = _expiry_days(scenario.points, day)
    issued = int(points.sum())
    totals.issued += issued
    totals.outstanding += issued - int(points[expiry <= today].sum())
    _add_months(totals.months, points, day, expiry, today)
    totals.per_place += np.bincount(
        pop.place[lo:hi][ok], weights=counted, minlength=len(pop.villages)
    ).astype(np.int64)


def _sources(scenario: Scenario) -> tuple[tuple[str, str], ...]:
    """Each policy of the scenario with the source it cites, in report order."""
    roles: list[tuple[str, object]] = [
        ("工时 / hours", scenario.hours),
        ("星级 / stars", scenario.stars),
        ("积分 / points", scenario.points),
    ]
    if scenario.dispatch is not None:
        roles.append(("派单 / dispatch", scenario.dispatch))
    return tuple((f"{role} {getattr(p, 'name', '')}".rstrip(), cite(p)) for role, p in roles)


_NEVER = np.iinfo(np.int64).max if np is not None else 0


def _expiry_days(policy: ConversionPolicy, day: Any) -> Any:
    """The day number each row's points expire at its start (earned at the end of the service
    day; :data:`_NEVER` for points that never expire)."""
    if policy.expiry is Expiry.NONE:
        return np.full(len(day), _NEVER, dtype=np.int64)
    if policy.expiry is Expiry.YEAR_END:
        years = (np.datetime64("1970-01-01") + day.astype("timedelta64[D]")).astype("datetime64[Y]")
        return (years + 1).astype("datetime64[D]").astype(np.int64)
    # A fixed period: computed per distinct day (few thousand), exactly as the object path does.
    uniq, inverse = np.unique(day, return_inverse=True)
    ends = np.array(
        [
            _NEVER if end is None else int(end.timestamp() + 8 * 3600) // 86400
            for d in uniq
            for end in [policy.expires_at(_end_of(date(1970, 1, 1) + timedelta(days=int(d))))]
        ],
        dtype=np.int64,
    )
    return ends[inverse]


def _month(days: Any) -> Any:
    """Month numbers (months since 1970-01) of day numbers."""
    return (
        (np.datetime64("1970-01-01") + days.astype("timedelta64[D]"))
        .astype("datetime64[M]")
        .astype(np.int64)
    )


def _add_months(
    months: dict[int, list[int]], points: Any, day: Any, expiry: Any, today: int
) -> None:
    """Add a block's points issued and expired (by ``today``) to their months."""
    earning = points > 0
    if not earning.any():
        return
    gone = earning & (expiry <= today)
    for month_of, mask, k in ((day, earning, 0), (expiry, gone, 1)):
        m = _month(month_of[mask])
        if not len(m):
            continue
        low = int(m.min())
        sums = np.bincount(m - low, weights=points[mask]).astype(np.int64)
        for i in np.flatnonzero(sums).tolist():
            months.setdefault(low + i, [0, 0])[k] += int(sums[i])


def _by_month(months: dict[int, list[int]], today: int) -> dict[str, tuple[int, int, int]]:
    """Issued, expired and outstanding (at the month's end) points of every month from the first
    points to ``today``'s month."""
    if not months:
        return {}
    first = min(months)
    last = int(_month(np.array([today]))[0])
    out: dict[str, tuple[int, int, int]] = {}
    outstanding = 0
    for m in range(first, last + 1):
        issued, expired = months.get(m, (0, 0))
        outstanding += issued - expired
        label = str(np.datetime64("1970-01", "M") + np.timedelta64(m, "M"))
        out[label] = (issued, expired, outstanding)
    return out


def _simulate_needs(pop: Population, scenario: Scenario, tree: RegionTree) -> tuple[int, int]:
    """Dispatch a sample of needs to volunteers drawn from the population; (posted, filled)."""
    from zhiyuan.matching import Candidate, Dispatcher, Need

    assert scenario.dispatch is not None
    rng = np.random.default_rng(pop.seed + 1)
    skills = ("助老", "医疗", "法律", "心理", "维修", "辅导")
    n_cand = min(pop.n_volunteers, 20 * scenario.needs)
    chosen = rng.choice(pop.n_volunteers, size=n_cand, replace=False)
    cands = [
        Candidate(
            id=f"v{int(i)}",
            home_region=pop.villages[int(pop.home[i])],
            skills=[skills[int(k)] for k in rng.choice(len(skills), size=2, replace=False)],
            capacity=int(rng.integers(1, 3)),
        )
        for i in chosen
    ]
    dispatcher = Dispatcher(tree, cands, policy=scenario.dispatch)
    from zhiyuan.matching.dispatch import Booking

    base = _end_of(pop.profile.last_day) - timedelta(days=30)
    filled = 0
    for k in range(scenario.needs):
        start = base + timedelta(hours=int(rng.integers(0, 24 * 30)))
        need = Need(
            id=f"n{k}",
            requester=f"r{k}",
            region_code=pop.villages[int(rng.integers(0, len(pop.villages)))],
            category="帮老",
            skills={skills[int(rng.integers(0, len(skills)))]},
            start=start,
            end=start + timedelta(hours=2),
            posted_at=start - timedelta(days=1),
        )
        result = dispatcher.rank(need, limit=1)
        if result.ranked:
            filled += 1
            best = result.ranked[0].candidate_id
            dispatcher.book(
                Booking(candidate_id=best, need_id=need.id, start=need.start, end=need.end)
            )
    return scenario.needs, filled


@attrs.frozen(kw_only=True)
class Response:
    """A simple response model (行为响应) for what-ifs, off by default: some volunteers who are
    close to a star level under the new rules serve the hours they lack.

    A replay assumes people do not change what they do; this model relaxes that in one way a
    policy maker asks about ("if we lower the thresholds, will people near them serve more?").
    Under scenario B, a volunteer is *near* a level when only hours stand between them and it
    (no other condition unmet), they lack at most ``within_hours``, and they have served at all.
    Of those, a share of
    ``share_percent`` (drawn with ``seed``) serve once more, on the day after their last record,
    from 09:00, for the hours they lack rounded up to a whole hour, at the place and in the
    category and evidence of their last record. One who would serve after the history's end does
    not respond. Nothing else changes; the result's assumptions say who responded.

    Example:
        >>> Response().share_percent, Response().within_hours
        (30, 8)
    """

    share_percent: int = attrs.field(default=30, validator=bounded(0, 100, "percent"))
    within_hours: int = attrs.field(default=8, validator=bounded(1, 10_000, "hours"))
    seed: int = attrs.field(default=0, validator=non_negative)


def respond(
    pop: Population,
    scenario: Scenario,
    tree: RegionTree,
    response: Response,
    *,
    as_of: datetime | None = None,
    block_records: int | None = BLOCK_RECORDS,
) -> tuple[Population, int, int]:
    """``pop`` with the extra service of the volunteers who respond to ``scenario`` (see
    :class:`Response`), and how many were near a level and how many responded.

    Example:
        >>> from zhiyuan.hierarchy import load_default
        >>> from zhiyuan.simulate import CITY_PROFILES, generate
        >>> tree = load_default()
        >>> pop = generate(CITY_PROFILES["shinan"], tree, scale=0.01, seed=3)
        >>> more, near, took = respond(pop, Scenario(), tree, Response(share_percent=100))
        >>> took > 0 and more.n_records == pop.n_records + took and near >= took
        True
    """
    if not isinstance(response, Response):
        raise InvalidValue("response", response, "需要 Response / need a Response")
    now = as_of or _end_of(pop.profile.last_day)
    now_s = int(now.timestamp())
    today = (now_s + 8 * 3600) // 86400
    totals = _Totals(
        levels=np.zeros(scenario.stars.top + 1, dtype=np.int64),
        per_place=np.zeros(len(pop.villages), dtype=np.int64),
        missing=[],
    )
    _blocks(pop, scenario, now, today, totals, None, block_records)
    missing = np.concatenate(totals.missing) if totals.missing else np.zeros(0, dtype=np.int64)
    served = np.zeros(pop.n_volunteers, dtype=bool)
    served[pop.volunteer] = True  # one who never served has no last record to follow
    near = np.flatnonzero((missing > 0) & (missing <= response.within_hours * 60) & served)
    rng = np.random.default_rng(response.seed)
    chosen = near[rng.random(near.size) < response.share_percent / 100]
    last = np.searchsorted(pop.volunteer, chosen, side="right") - 1  # each one's last record
    day = (pop.end[last] + 8 * 3600) // 86400 + 1
    start = day * 86400 - 8 * 3600 + 9 * 3600  # 09:00 the next day, Shanghai
    end = start + -(-missing[chosen] // 60) * 3600
    fits = end <= now_s
    chosen, last, start, end = chosen[fits], last[fits], start[fits], end[fits]
    if not chosen.size:
        return pop, int(near.size), 0
    order = np.lexsort(
        (np.concatenate([pop.start, start]), np.concatenate([pop.volunteer, chosen]))
    )

    def more(column: Any, extra: Any) -> Any:
        return np.concatenate([column, extra.astype(column.dtype)])[order]

    grown = attrs.evolve(
        pop,
        volunteer=more(pop.volunteer, chosen),
        start=more(pop.start, start),
        end=more(pop.end, end),
        place=more(pop.place, pop.place[last]),
        evidence=more(pop.evidence, pop.evidence[last]),
        category=more(pop.category, pop.category[last]),
    )
    return grown, int(near.size), int(chosen.size)


def compare(
    pop: Population,
    a: Scenario,
    b: Scenario,
    tree: RegionTree,
    *,
    as_of: datetime | None = None,
    progress: Progress | None = None,
    response: Response | None = None,
) -> Comparison:
    """Replay ``pop`` under ``a`` and ``b`` and line the results up (``progress`` is told of
    each replay's steps, as :func:`replay`).

    With a ``response`` (:class:`Response`, off by default), B is replayed on the records of
    :func:`respond`: some volunteers near a level under B serve the hours they lack, and B's
    assumptions say so instead of "people do not change behaviour".

    Example:
        >>> from zhiyuan.hierarchy import load_default
        >>> from zhiyuan.simulate import CITY_PROFILES, generate
        >>> tree = load_default()
        >>> pop = generate(CITY_PROFILES["shinan"], tree, scale=0.01, seed=3)
        >>> low = Scenario(name="low", stars=StarScheme(name="low", thresholds_hours=(50, 300, 600, 1000, 1500)))
        >>> cmp = compare(pop, Scenario(), low, tree, response=Response())
        >>> cmp.b.records > cmp.a.records, cmp.b.counted_minutes > cmp.a.counted_minutes
        (True, True)
        >>> any(line.startswith("行为响应") for line in cmp.b.assumptions)
        True
    """
    res_a = replay(pop, a, tree, as_of=as_of, progress=progress)
    b_pop = pop
    took = near = 0
    if response is not None:
        b_pop, near, took = respond(pop, b, tree, response, as_of=as_of)
    res_b = replay(b_pop, b, tree, as_of=as_of, progress=progress)
    if response is not None:
        said = (
            f"行为响应：B 下仅差不足 {response.within_hours} 小时即可升星的 {near:,} 名志愿者中，"
            f"{took:,} 名（抽取 {response.share_percent}%）次日补足所差时长 / response: of the "
            f"{near:,} volunteers within {response.within_hours} h of a level under B, {took:,} "
            f"(a {response.share_percent}% draw) served the hours they lacked the next day"
        )
        kept = tuple(x for x in res_b.assumptions if x != ASSUMPTIONS["unchanged"])
        res_b = attrs.evolve(res_b, assumptions=(*kept, said))
    return Comparison(a=res_a, b=res_b)


def compare_blocks(
    blocks: Iterable[Population],
    a: Scenario,
    b: Scenario,
    tree: RegionTree,
    *,
    as_of: datetime | None = None,
    progress: Progress | None = None,
) -> Comparison:
    """:func:`compare` of a population given in blocks of whole volunteers (as
    :func:`~zhiyuan.simulate.generate_blocks` draws a province), each block replayed under
    ``a`` and ``b`` as it comes and then let go, so that only one block is ever held.

    Every figure is a sum over volunteers, so the result is what :func:`compare` gives for the
    blocks put together (a test checks it), except ``seconds``, which is the whole run's for
    both. The blocks must share their villages (the first block's place, villages and
    sample of needs stand for all). ``progress`` is told of each block replayed and then of each
    scenario's steps.

    Example:
        >>> from zhiyuan.hierarchy import load_default
        >>> from zhiyuan.simulate import CITY_PROFILES, generate_blocks
        >>> tree = load_default()
        >>> blocks = generate_blocks(CITY_PROFILES["shinan"], tree, scale=0.02, seed=5,
        ...                          block_volunteers=500)
        >>> cmp = compare_blocks(blocks, Scenario(), Scenario(name="same"), tree)
        >>> cmp.a.volunteers, cmp.a.counted_minutes == cmp.b.counted_minutes
        (1679, True)
    """
    t0 = time.perf_counter()
    first: Population | None = None
    shape = _Shape()
    totals_a = totals_b = _Totals()
    now = as_of
    today = 0
    for k, part in enumerate(blocks):
        if not isinstance(part, Population):
            raise InvalidValue(f"blocks[{k}]", part, "需要 Population / need a Population")
        if first is None:
            first = part
            now = as_of or _end_of(part.profile.last_day)
            today = (int(now.timestamp()) + 8 * 3600) // 86400
            totals_a, totals_b = _totals(a, part), _totals(b, part)
        elif part.villages != first.villages:
            raise InvalidValue(
                f"blocks[{k}]", k, "各块的村居须相同 / every block needs the same villages"
            )
        assert now is not None
        _blocks(part, a, now, today, totals_a, None, BLOCK_RECORDS)
        _blocks(part, b, now, today, totals_b, None, BLOCK_RECORDS)
        shape.add(part)
        if progress is not None:
            progress("回放 / replay", shape.volunteers, None)
    if first is None:
        raise InvalidValue("blocks", 0, "没有数据块 / no blocks")
    return Comparison(
        a=_result(first, shape, a, tree, totals_a, today, t0, progress),
        b=_result(first, shape, b, tree, totals_b, today, t0, progress),
    )
