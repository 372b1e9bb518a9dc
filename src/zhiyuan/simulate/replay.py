"""What-if replays: the same history under scenario A and scenario B, compared.

A :class:`Scenario` bundles the policies a city could change: the hour policy, the star
scheme, the conversion policy and (optionally) the dispatch policy. :func:`replay` runs a
generated :class:`~zhiyuan.simulate.Population` through them on the columnar path
(:mod:`zhiyuan.bulk`, exact twins of the object path): counted minutes per record, then star
levels, points issued and still outstanding, hours by county, and, when the scenario has a
dispatch policy, the fill rate of a sample of needs. :func:`compare` does it for two scenarios.

Assumptions of the replay (say them in any report): every record the hour policy accepts or
sends for approval is certified (approval granted) at the end of its service day; nobody
redeems points (outstanding = issued − expired by the end of the history); needs are posted in
random communities of the city and dispatched one by one, each to its best candidate, who
accepts.

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
from datetime import date, datetime, timedelta
from typing import Any

import attrs

from zhiyuan._validators import SHANGHAI, non_empty, non_negative
from zhiyuan.convert import from_json, from_toml
from zhiyuan.credit.conversion import ConversionPolicy, Expiry
from zhiyuan.hierarchy.codes import Level
from zhiyuan.hierarchy.tree import RegionTree
from zhiyuan.hours.policy import HourPolicy, Purpose
from zhiyuan.matching.dispatch import DispatchPolicy
from zhiyuan.profiles import cite
from zhiyuan.scoring.stars import StarScheme
from zhiyuan.simulate.population import Population, np
from zhiyuan.simulate.report import Comparison, ScenarioResult

__all__ = ["Scenario", "compare", "replay"]


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


def replay(
    pop: Population, scenario: Scenario, tree: RegionTree, *, as_of: datetime | None = None
) -> ScenarioResult:
    """Run ``pop`` through ``scenario`` on the columnar path; see the module doc."""
    from zhiyuan.bulk import Columns, evaluate_hours, rate_stars
    from zhiyuan.bulk.points import convert_points

    t0 = time.perf_counter()
    now = as_of or _end_of(pop.profile.last_day)
    n_vol = pop.n_volunteers
    ids = np.arange(n_vol)
    records = Columns.of(
        {
            "volunteer": pop.volunteer,
            "start": pop.start,
            "end": pop.end,
            "evidence": pop.evidence,
            "category": pop.category,
        },
        categories=pop.categories,
        volunteer_ids=ids,
    )
    hours = evaluate_hours(records, scenario.hours, now=now)
    ok = (hours.status != 2) & (hours.counted_minutes > 0)
    counted = hours.counted_minutes[ok]
    day = (pop.start[ok] + 8 * 3600) // 86400
    vol = pop.volunteer[ok]
    rows = Columns.of(
        {
            "volunteer": vol,
            "day": day,
            "minutes": counted,
            "weighted_minutes": hours.weighted_minutes[ok],
            "evidence": pop.evidence[ok],
            "category": pop.category[ok],
            "purposes": hours.purposes[ok],
        },
        categories=pop.categories,
        volunteer_ids=ids,
    )
    registered = [
        date(1970, 1, 1) + timedelta(days=int(d)) for d in (pop.registered + 8 * 3600) // 86400
    ]
    stars = rate_stars(rows, scenario.stars, now, registered_on=registered)
    star_counts = {lv: int(n) for lv, n in enumerate(np.bincount(stars.level)) if n}

    # Points: certified at the end of the service day, in record order.
    certified_at = (day + 1) * 86400 - 8 * 3600 - 1
    points_bit = 1 << list(Purpose).index(Purpose.POINTS)
    points = convert_points(
        volunteer=vol,
        service_day=day,
        certified_at=certified_at,
        record_order=np.flatnonzero(ok),
        minutes=counted,
        evidence=pop.evidence[ok],
        points_purpose=(hours.purposes[ok] & points_bit) != 0,
        category=pop.category[ok],
        categories=pop.categories,
        policy=scenario.points,
        weighted_minutes=hours.weighted_minutes[ok],
    )
    issued = int(points.sum())
    outstanding = issued - int(points[_expired(scenario.points, day, now)].sum())

    # Hours by county: minutes per village, rolled up the tree.
    per_village = np.bincount(pop.place[ok], weights=counted, minlength=len(pop.villages))
    pairs = [
        (pop.villages[i], int(m)) for i in np.flatnonzero(per_village) for m in [per_village[i]]
    ]
    rolled = tree.rollup(pairs)
    counties = {c: m for c, m in rolled.items() if tree.level(c) is Level.COUNTY}
    names = {c: tree[c].name or c for c in counties}

    needs = filled = 0
    if scenario.dispatch is not None and scenario.needs:
        needs, filled = _simulate_needs(pop, scenario, tree)
    return ScenarioResult(
        scenario=scenario.name,
        volunteers=n_vol,
        records=pop.n_records,
        counted_minutes=int(hours.counted_minutes.sum()),
        star_counts=star_counts,
        points_issued=issued,
        points_outstanding=outstanding,
        hours_by_region=counties,
        region_names=names,
        needs=needs,
        needs_filled=filled,
        seconds=round(time.perf_counter() - t0, 3),
        sources=_sources(scenario),
    )


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


def _expired(policy: ConversionPolicy, day: Any, now: datetime) -> Any:
    """Rows whose points expired by ``now`` (earned at the end of their service day)."""
    today = (int(now.timestamp()) + 8 * 3600) // 86400
    if policy.expiry is Expiry.NONE:
        return np.zeros(len(day), dtype=bool)
    if policy.expiry is Expiry.YEAR_END:
        years = (np.datetime64("1970-01-01") + day.astype("timedelta64[D]")).astype("datetime64[Y]")
        next_year = (years + 1).astype("datetime64[D]").astype(np.int64)
        return next_year <= today
    # A fixed period: computed per distinct day (few thousand), exactly as the object path does.
    uniq, inverse = np.unique(day, return_inverse=True)
    ends = np.array(
        [
            (
                policy.expires_at(_end_of(date(1970, 1, 1) + timedelta(days=int(d))))
                or datetime.max.replace(tzinfo=SHANGHAI)
            ).timestamp()
            // 86400
            for d in uniq
        ]
    )
    return ends[inverse] <= today


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


def compare(
    pop: Population, a: Scenario, b: Scenario, tree: RegionTree, *, as_of: datetime | None = None
) -> Comparison:
    """Replay ``pop`` under ``a`` and ``b`` and line the results up."""
    return Comparison(a=replay(pop, a, tree, as_of=as_of), b=replay(pop, b, tree, as_of=as_of))
