"""Synthetic populations on the real region tree: seeded, reproducible, calibrated to a city.

A :class:`CityProfile` holds a seed city's published figures (registered volunteers,
cumulative hours, teams, stations, needs); :func:`generate` draws a population of that shape at
any scale: volunteers living in the city's real villages and communities, and their service
records over the years, with the skew real platforms report (most registered volunteers log
little or nothing, a few log hundreds of hours). The same seed always gives the same population.

Needs numpy (the ``sim`` extra).

References:
    Seed figures (POLICIES.md "Organization"): 烟台 146 万 volunteers and 2,920 万 hours, 1.9 万
    teams, 1.5 万 stations; 运城 85.9 万 and 1,243 万 hours, 3,189 teams; 城阳 17 万 volunteers,
    about 5 万 needs; 青岛市南 83,948 registered, 391 teams; 遵义 about 50 万. Hours per volunteer
    nationally 10–20, Shandong about 28 (POLICIES.md §6): used where a city's hours are unknown.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import attrs

from zhiyuan._validators import SHANGHAI, is_date, non_empty, non_negative, positive
from zhiyuan.errors import InvalidValue, NotFound
from zhiyuan.hierarchy.codes import normalize_code
from zhiyuan.hierarchy.tree import RegionTree
from zhiyuan.hours.records import Evidence
from zhiyuan.progress import Progress, stepper

__all__ = [
    "BLOCK_VOLUNTEERS",
    "CATEGORIES",
    "CITY_PROFILES",
    "NATIONAL_HOURS_PER_VOLUNTEER",
    "PUBLISHED_TOTALS",
    "CityProfile",
    "Population",
    "generate",
    "generate_blocks",
    "np",
    "profile_for",
]

if TYPE_CHECKING:
    import numpy.typing as npt

    Array = npt.NDArray[Any]
else:
    Array = object

try:  # numpy is an optional extra
    import numpy as np
except ImportError:  # pragma: no cover - exercised only without the extra
    np = None  # type: ignore[assignment]

CATEGORIES: tuple[str, ...] = (
    "社区服务",
    "助老",
    "文明交通",
    "环境保护",
    "理论宣讲",
    "文化文艺",
    "医疗卫生",
    "应急救援",
)
"""The service categories a generated record draws from (weights in :func:`~zhiyuan.simulate.generate`)."""

_CATEGORY_WEIGHTS = (30, 20, 15, 12, 8, 7, 5, 3)
_EVIDENCE = tuple(Evidence)
# Most platform hours come from QR and sign-in codes; a few are admin top-ups and self-reports.
_EVIDENCE_WEIGHTS = {
    Evidence.SIGN_IN_CODE: 25,
    Evidence.QR_SCAN: 45,
    Evidence.GPS: 10,
    Evidence.SUPERVISOR: 10,
    Evidence.SELF_REPORT: 4,
    Evidence.ADMIN_TOPUP: 6,
}


def _code(value: object) -> str:
    return normalize_code(value, field="region_code")


@attrs.frozen(kw_only=True)
class CityProfile:
    """A seed city's published figures, for calibrating a synthetic population.

    ``hours_estimated`` is True when the city's hours were not published and were estimated
    from the province's hours per volunteer.
    """

    name: str = attrs.field(validator=non_empty)
    region_code: str = attrs.field(converter=_code)
    volunteers: int = attrs.field(validator=positive)
    cumulative_hours: int = attrs.field(validator=positive)
    teams: int = attrs.field(default=0, validator=non_negative)
    stations: int = attrs.field(default=0, validator=non_negative)
    needs_per_year: int = attrs.field(default=0, validator=non_negative)
    first_year: int = 2016
    last_day: date = attrs.field(default=date(2025, 12, 31), validator=is_date)
    inactive_share: int = attrs.field(default=45, validator=non_negative)
    """Percent of registered volunteers with no recorded hours at all."""
    hours_estimated: bool = False
    source: str = ""

    @property
    def hours_per_volunteer(self) -> float:
        """Published cumulative hours per registered volunteer."""
        return self.cumulative_hours / self.volunteers


CITY_PROFILES: dict[str, CityProfile] = {
    "yantai": CityProfile(
        name="烟台市",
        region_code="3706",
        volunteers=1_460_000,
        cumulative_hours=29_200_000,
        teams=19_000,
        stations=15_000,
        source="seed 000: 146 万 registered, 2,920 万 hours, 1.9 万 teams, 1.5 万 stations",
    ),
    "yuncheng": CityProfile(
        name="运城市",
        region_code="1408",
        volunteers=859_000,
        cumulative_hours=12_430_000,
        teams=3_189,
        source="seed 004: 85.9 万 registered, 1,243 万 hours, 3,189 teams",
    ),
    "chengyang": CityProfile(
        name="城阳区",
        region_code="370214",
        volunteers=170_000,
        cumulative_hours=170_000 * 28,
        needs_per_year=10_000,
        hours_estimated=True,
        source="seed 003: over 17 万 registered, about 5 万 needs; hours at Shandong's 28 h each",
    ),
    "shinan": CityProfile(
        name="市南区",
        region_code="370202",
        volunteers=83_948,
        cumulative_hours=83_948 * 28,
        teams=391,
        stations=108,
        hours_estimated=True,
        source="seed 001: 83,948 registered, 391 teams, 108 centers/institutes/stations",
    ),
    "zunyi": CityProfile(
        name="遵义市",
        region_code="5203",
        volunteers=500_000,
        cumulative_hours=500_000 * 15,
        stations=452,
        hours_estimated=True,
        source="seed 002: about 50 万 registered, 452 stations; hours at the national 15 h each",
    ),
}
"""The seed cities' profiles (figures from POLICIES.md; estimates marked)."""

PUBLISHED_TOTALS: dict[str, tuple[int, int | None, str]] = {
    "370000000000": (
        17_200_000,
        480_000_000,
        "山东 2022-06: about 1,720 万 registered, 4.8 亿 h cumulative (POLICIES.md §6.2)",
    ),
    "610000000000": (
        4_490_000,
        72_510_000,
        "陕西 2021-03: 449 万 registered, 7,251 万 h (POLICIES.md §6.2)",
    ),
    "450000000000": (10_870_000, None, "广西 2023: 1,087 万 registered (POLICIES.md §6.2)"),
    "310000000000": (5_900_000, None, "上海 end 2021: 590 万+ registered (POLICIES.md §6.2)"),
    "330200000000": (
        2_145_965,
        7_200_000,
        "宁波 2023: 2,145,965 registered, 720 万 credit hours (POLICIES.md §6.2)",
    ),
    "330600000000": (
        690_000,
        1_700_000,
        "绍兴 2018: 69 万 registered, 170 万 h on 志愿汇 (POLICIES.md §6.2)",
    ),
    "340200000000": (506_300, None, "芜湖: 50.63 万 registered (POLICIES.md §6.2)"),
    "150100000000": (
        232_214,
        134_054,
        "呼和浩特 2018: 232,214 registered, 134,054 h (POLICIES.md §6.2)",
    ),
}
"""Published totals of provinces and cities (registered volunteers, cumulative hours or
``None`` when unpublished, and the source), by 12-digit code: what
:func:`~zhiyuan.simulate.profile_for`
apportions to the regions below them."""

NATIONAL_HOURS_PER_VOLUNTEER = 15
"""Cumulative hours per registered volunteer where nothing closer is published: the middle of
the national 10–20 (2016–2017: 11.93–13.85 h; POLICIES.md §6.2)."""


def _villages(tree: RegionTree, code: str) -> int:
    """How many village-level regions the tree holds under ``code`` (at least 1)."""
    return max(sum(1 for r in tree.descendants(code) if r.code[9:] != "000"), 1)


def profile_for(
    code: object, tree: RegionTree, *, volunteers: int | None = None, hours: int | None = None
) -> CityProfile:
    """A profile for any region: a seed city's own (:data:`CITY_PROFILES
    <zhiyuan.simulate.population.CITY_PROFILES>`); else the published totals of the region or
    of the nearest region above it that has them (:data:`PUBLISHED_TOTALS
    <zhiyuan.simulate.population.PUBLISHED_TOTALS>`), shared out by the region's share of that
    region's villages in ``tree``; ``volunteers`` and ``hours`` override the figures (and are
    needed where nothing is published). Hours left unknown are the province's hours per
    volunteer where published, else the national :data:`NATIONAL_HOURS_PER_VOLUNTEER
    <zhiyuan.simulate.population.NATIONAL_HOURS_PER_VOLUNTEER>`. The share is taken in the tree
    given: load the whole country (:doc:`/howto/load-whole-country`) for a region's true share
    of its province; the embedded tree holds only the seed cities, so there a region's share of
    山东 is its share of the seed cities' villages.

    Raises:
        NotFound: ``code`` is not in the tree.
        InvalidValue: nothing is published for the region and ``volunteers`` is not given.

    Example:
        >>> from zhiyuan.hierarchy import load_default
        >>> tree = load_default()
        >>> profile_for("3706", tree).volunteers   # 烟台's own figures
        1460000
        >>> p = profile_for("370602", tree)          # 芝罘区: a share of 山东's totals
        >>> p.name, p.hours_estimated, p.volunteers > 0, p.cumulative_hours // p.volunteers
        ('芝罘区', True, True, 27)
        >>> profile_for("5101", tree)
        Traceback (most recent call last):
        ...
        zhiyuan.errors.NotFound: region not found / 未找到: '510100000000'
    """
    norm = _code(code)
    if norm not in tree:
        raise NotFound("region", norm)
    for profile in CITY_PROFILES.values():
        if profile.region_code == norm and volunteers is None and hours is None:
            return profile
    name = tree[norm].name or norm
    found = next(
        (c for c in (norm, *(r.code for r in tree.ancestors(norm))) if c in PUBLISHED_TOTALS),
        None,
    )
    rate = NATIONAL_HOURS_PER_VOLUNTEER
    source = f"{name}: figures given"
    if found is not None:
        total_v, total_h, where = PUBLISHED_TOTALS[found]
        share = _villages(tree, norm) / _villages(tree, found)
        if total_h is not None:
            rate = total_h // total_v
        if volunteers is None:
            volunteers = max(round(total_v * share), 1)
            if hours is None and total_h is not None:
                hours = max(round(total_h * share), 1)
            source = where if found == norm else f"{name}: {share:.2%} of the villages of {where}"
    if volunteers is None:
        raise InvalidValue(
            "volunteers",
            None,
            f"{name} 没有公开数据，请给出志愿者人数 / nothing is published for {name}: give the "
            "number of volunteers (--volunteers)",
        )
    estimated = hours is None or found is not None
    return CityProfile(
        name=name,
        region_code=norm,
        volunteers=volunteers,
        cumulative_hours=hours if hours is not None else volunteers * rate,
        hours_estimated=estimated,
        source=source,
    )


@attrs.frozen(kw_only=True, eq=False)
class Population:
    """A generated population: volunteers and their records as columns (numpy arrays).

    Volunteer ``i`` lives in ``villages[home[i]]``. Record ``k`` belongs to volunteer
    ``volunteer[k]``, runs from ``start[k]`` to ``end[k]`` (epoch seconds), took place in
    ``villages[place[k]]``, with evidence ``evidence_kinds[evidence[k]]`` and category
    ``categories[category[k]]``. Records are sorted by volunteer, then start.
    """

    profile: CityProfile
    scale: float
    seed: int
    villages: tuple[str, ...]
    home: Array
    registered: Array
    volunteer: Array
    start: Array
    end: Array
    place: Array
    evidence: Array
    category: Array
    evidence_kinds: tuple[Evidence, ...] = _EVIDENCE
    categories: tuple[str, ...] = CATEGORIES
    synthetic: bool = True
    """Drawn by :func:`generate` (``False``: a city's real records, :func:`~zhiyuan.simulate.from_records`)."""

    @property
    def n_volunteers(self) -> int:
        """How many volunteers."""
        return len(self.home)

    @property
    def n_records(self) -> int:
        """How many records."""
        return len(self.volunteer)

    def total_hours(self) -> float:
        """Hours served in all records."""
        return float((self.end - self.start).sum()) / 3600

    def __repr__(self) -> str:
        size = f" ×{self.scale:g}" if self.synthetic else " (records)"
        return (
            f"<Population {self.profile.name}{size}: {self.n_volunteers:,} volunteers, "
            f"{self.n_records:,} records, {self.total_hours():,.0f} h>"
        )


def _need_numpy() -> None:
    if np is None:
        raise InvalidValue(
            "numpy", None, "模拟需要 numpy（pip install zhiyuan[sim]）/ simulation needs numpy"
        )


def _checked(
    profile: CityProfile, tree: RegionTree, scale: object, seed: object
) -> tuple[str, ...]:
    """The profile's villages, after checking ``scale`` and ``seed``."""
    _need_numpy()
    if isinstance(scale, bool) or not isinstance(scale, int | float) or not 0 < scale <= 1:
        raise InvalidValue("scale", scale, "规模应在 (0, 1] / scale is in (0, 1]")
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise InvalidValue(
            "seed", seed, "种子应为 0 到 2**63-1 的整数 / a whole number, 0 to 2**63-1"
        )
    villages = tuple(r.code for r in tree.descendants(profile.region_code) if r.code[9:] != "000")
    if not villages:
        raise InvalidValue(
            "region_code", profile.region_code, "该区划下没有村级 / no villages under this code"
        )
    return villages


def _window(profile: CityProfile) -> tuple[int, int]:
    """The history's first and last moments, as epoch seconds."""
    first = datetime(profile.first_year, 1, 1, tzinfo=SHANGHAI)
    last = datetime(
        profile.last_day.year, profile.last_day.month, profile.last_day.day, tzinfo=SHANGHAI
    )
    return int(first.timestamp()), int(last.timestamp())


_DURATIONS = (60, 90, 120, 150, 180, 240, 480)
_P_DURATION = (0.2, 0.15, 0.25, 0.1, 0.15, 0.1, 0.05)
_SIGMA = 1.5


def _draw(
    profile: CityProfile,
    villages: tuple[str, ...],
    p_village: Any,
    n_vol: int,
    rng: Any,
    hours_of: Any,
    step: Any,
) -> dict[str, Any]:
    """Draw ``n_vol`` volunteers and their records (the columns of a :class:`Population`);
    ``hours_of(raw)`` turns the volunteers' lognormal draws into their total hours."""
    home = rng.choice(len(villages), size=n_vol, p=p_village).astype(np.int32)
    t0, t1 = _window(profile)
    registered = rng.integers(t0, t1 - 86400 * 30, n_vol, dtype=np.int64)
    step("生成志愿者 / volunteers")

    active = rng.random(n_vol) >= profile.inactive_share / 100
    raw = rng.lognormal(mean=0.0, sigma=_SIGMA, size=n_vol) * active
    hours = hours_of(raw)
    # Records of 1–4 h (sometimes 8): hours ÷ the mean duration of them per volunteer, the
    # fraction drawn at random so that the expected total matches the profile.
    durations = np.array(_DURATIONS, dtype=np.int64)
    p_dur = np.array(_P_DURATION)
    mean_h = float((durations * p_dur).sum()) / 60
    counts = np.floor(hours / mean_h + rng.random(n_vol)).astype(np.int64)
    n_rec = int(counts.sum())
    volunteer = np.repeat(np.arange(n_vol, dtype=np.int32), counts)
    minutes = rng.choice(durations, size=n_rec, p=p_dur)
    # Each record on a random day after registration, starting 7:00–19:00 on a whole quarter hour.
    reg = registered[volunteer]
    span_days = np.maximum((t1 - reg) // 86400, 1)
    day0 = (reg + 8 * 3600) // 86400  # Asia/Shanghai day of registration
    day = day0 + 1 + (rng.random(n_rec) * (span_days - 1)).astype(np.int64)
    start = day * 86400 - 8 * 3600 + (7 * 60 + 15 * rng.integers(0, 48, n_rec)) * 60
    end = start + minutes * 60
    order = np.lexsort((start, volunteer))
    volunteer, start, end = volunteer[order], start[order], end[order]
    step("生成记录 / records")
    elsewhere = rng.random(n_rec) < 0.15
    place = home[volunteer].copy()
    place[elsewhere] = rng.integers(0, len(villages), int(elsewhere.sum()))
    ev_p = np.array([_EVIDENCE_WEIGHTS[e] for e in _EVIDENCE], dtype=float)
    evidence = rng.choice(len(_EVIDENCE), size=n_rec, p=ev_p / ev_p.sum()).astype(np.int8)
    cat_p = np.array(_CATEGORY_WEIGHTS, dtype=float)
    category = rng.choice(len(CATEGORIES), size=n_rec, p=cat_p / cat_p.sum()).astype(np.int8)
    step("地点与类别 / places and categories")
    return {
        "home": home,
        "registered": registered,
        "volunteer": volunteer,
        "start": start,
        "end": end,
        "place": place.astype(np.int32),
        "evidence": evidence,
        "category": category,
    }


def generate(
    profile: CityProfile,
    tree: RegionTree,
    *,
    scale: float = 0.01,
    seed: int = 2023,
    progress: Progress | None = None,
) -> Population:
    """Draw a population shaped like ``profile`` at ``scale`` (1.0 = the city's full size).

    Volunteers spread over the city's villages and communities in proportion to a random
    weight per village. Each active volunteer's total hours are lognormal (σ = 1.5), scaled so
    the population's hours match the profile's; they are served in records of 1–4 hours
    (sometimes a full day) spread over the years since ``first_year``, mostly in the home
    village, sometimes elsewhere in the city. ``progress`` is told of each of its three steps
    (:mod:`zhiyuan.progress`). For a province, :func:`generate_blocks` draws the same kind of
    population a block of volunteers at a time.

    Example:
        >>> from zhiyuan.hierarchy import load_default
        >>> pop = generate(CITY_PROFILES["shinan"], load_default(), scale=0.01, seed=1)
        >>> pop.n_volunteers, pop.n_records > 1000
        (839, True)
        >>> generate(CITY_PROFILES["shinan"], load_default(), scale=0.01, seed=1).n_records == pop.n_records
        True
    """
    villages = _checked(profile, tree, scale, seed)
    step = stepper(progress, 3)
    rng = np.random.default_rng(seed)
    n_vol = max(round(profile.volunteers * scale), 1)
    weights = rng.gamma(2.0, 1.0, len(villages))
    target_hours = profile.cumulative_hours * scale
    columns = _draw(
        profile,
        villages,
        weights / weights.sum(),
        n_vol,
        rng,
        lambda raw: raw * (target_hours / max(raw.sum(), 1e-9)),
        step,
    )
    return Population(profile=profile, scale=scale, seed=seed, villages=villages, **columns)


BLOCK_VOLUNTEERS = 500_000
"""How many volunteers :func:`generate_blocks` draws at a time by default (about 3.5 million
records for a city of 烟台's habits)."""


def generate_blocks(
    profile: CityProfile,
    tree: RegionTree,
    *,
    scale: float = 0.01,
    seed: int = 2023,
    block_volunteers: int = BLOCK_VOLUNTEERS,
    progress: Progress | None = None,
) -> Iterator[Population]:
    """Draw the population of :func:`generate` a block of volunteers at a time, so that a
    province (山东: 1,691万 volunteers, some 2亿 records) never has to be held at once.

    Each block is a :class:`Population` of ``block_volunteers`` volunteers (the last one
    fewer), numbered from 0 within the block, over the same villages (their weights drawn once,
    from ``seed``). The blocks are drawn from their own random streams (``seed`` and the block's
    number), and each volunteer's hours are scaled by the expected mean of the draws rather than
    by their sum, so the total hours match the profile's in expectation, not exactly, and the
    volunteers are not those :func:`generate` draws with the same seed: the same kind of
    population, not the same one. ``progress`` is told after each block (volunteers drawn of
    all). Feed the blocks to :func:`~zhiyuan.simulate.compare_blocks`.

    Example:
        >>> from zhiyuan.hierarchy import load_default
        >>> blocks = list(generate_blocks(CITY_PROFILES["shinan"], load_default(), scale=0.05,
        ...                               seed=1, block_volunteers=2_000))
        >>> [b.n_volunteers for b in blocks]
        [2000, 2000, 197]
        >>> sum(b.total_hours() for b in blocks) / (CITY_PROFILES["shinan"].cumulative_hours * 0.05)  # doctest: +ELLIPSIS
        0.9...
    """
    villages = _checked(profile, tree, scale, seed)
    if isinstance(block_volunteers, bool) or not isinstance(block_volunteers, int):
        raise InvalidValue("block_volunteers", block_volunteers, "需要正整数 / a whole number ≥ 1")
    if block_volunteers < 1:
        raise InvalidValue("block_volunteers", block_volunteers, "需要正整数 / a whole number ≥ 1")
    n_vol = max(round(profile.volunteers * scale), 1)
    weights = np.random.default_rng(seed).gamma(2.0, 1.0, len(villages))
    p_village = weights / weights.sum()
    # E[raw] of one volunteer: the active share times the lognormal mean exp(σ²/2)
    mean_raw = (1 - profile.inactive_share / 100) * float(np.exp(_SIGMA**2 / 2))
    per_raw = profile.cumulative_hours * scale / (n_vol * mean_raw)
    done = 0
    for k, lo in enumerate(range(0, n_vol, block_volunteers)):
        size = min(block_volunteers, n_vol - lo)
        rng = np.random.default_rng([seed, k])
        columns = _draw(profile, villages, p_village, size, rng, lambda raw: raw * per_raw, _quiet)
        done += size
        if progress is not None:
            progress("生成 / generate", done, n_vol)
        yield Population(profile=profile, scale=scale, seed=seed, villages=villages, **columns)


def _quiet(_: str) -> None:
    """A step that tells nobody."""
