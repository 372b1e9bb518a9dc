"""志愿+信用: 威海 海贝分 bands at their boundaries, 福州 茉莉分 star points and the 50-point cap,
yearly and total caps, the cumulative basis, deterministic JSON export and bad input.

The bands are checked against a brute force that walks the hours minute by minute.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zhiyuan import SHANGHAI
from zhiyuan.convert import from_json, from_toml, to_json, to_toml, unstructure
from zhiyuan.credit.creditscore import (
    CREDIT_PROFILES,
    CreditBonus,
    CreditScorePolicy,
    HourTier,
    ScoreBasis,
    credit_bonuses,
    credit_history,
)
from zhiyuan.errors import InvalidInput, InvalidValue
from zhiyuan.hierarchy import Organization, Registry, load_default
from zhiyuan.hours import Evidence, HourLedger, HourPolicy, HourRow, ServiceRecord, Volunteer

WEIHAI = CREDIT_PROFILES["weihai"]
FUZHOU = CREDIT_PROFILES["fuzhou"]
WEIHAI_YEAR = CreditScorePolicy(name="weihai_year", hour_tiers=WEIHAI.hour_tiers)

_n = 0


def row(vid: str, day: date, minutes: int, record_id: str | None = None) -> HourRow:
    global _n
    _n += 1
    return HourRow(
        vid,
        day,
        minutes,
        minutes,
        Evidence.QR_SCAN,
        "助老",
        frozenset(),
        "370602001001",
        None,
        record_id or f"r{_n}",
    )


def brute_points(policy: CreditScorePolicy, minutes: int) -> int:
    """Walk minute by minute: each minute falls in a band; a full step earns its points."""
    points = 0
    in_band: dict[int, int] = {}
    edges = []
    low = 0
    for t in policy.hour_tiers:
        edges.append((low, None if t.hours is None else low + t.hours * 60, t))
        low += (t.hours or 0) * 60
    for m in range(minutes):
        for i, (lo, hi, t) in enumerate(edges):
            if lo <= m and (hi is None or m < hi):
                in_band[i] = in_band.get(i, 0) + 1
                if in_band[i] % (t.hours_per_step * 60) == 0:
                    points += t.points_per_step
                break
    return points


# --- 威海 bands ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hours", "points"),
    [
        (0, 0),
        (1, 1),
        (20, 20),  # band 1 full: 1 per hour
        (21, 20),  # 1 per 2 h from here
        (22, 21),
        (80, 50),  # band 2 full: 20 + 30
        (81, 50),
        (83, 51),  # 1 per 3 h
        (200, 90),  # band 3 full: 50 + 40
        (203, 90),
        (204, 91),  # 1 per 4 h
        (1000, 290),
    ],
)
def test_weihai_bands_at_their_boundaries(hours: int, points: int) -> None:
    assert WEIHAI.hour_points(hours * 60) == points


def test_partial_hours_do_not_count_until_a_step_is_full() -> None:
    assert WEIHAI.hour_points(20 * 60 + 119) == 20
    assert WEIHAI.hour_points(20 * 60 + 120) == 21
    assert WEIHAI.hour_points(59) == 0


@given(st.integers(0, 260 * 60))
def test_bands_equal_the_minute_by_minute_walk(minutes: int) -> None:
    assert WEIHAI.hour_points(minutes) == brute_points(WEIHAI, minutes)


tiers = st.lists(
    st.builds(
        HourTier,
        hours=st.integers(1, 30),
        hours_per_step=st.integers(1, 5),
        points_per_step=st.integers(0, 4),
    ),
    max_size=4,
).flatmap(
    lambda ts: st.one_of(
        st.just(ts),
        st.builds(
            lambda last: [*ts, last],
            st.builds(HourTier, hours=st.none(), hours_per_step=st.integers(1, 5)),
        ),
    )
)


@given(tiers, st.integers(0, 150 * 60), st.integers(0, 150 * 60))
def test_any_bands_match_the_walk_and_never_fall(ts: list[HourTier], a: int, b: int) -> None:
    p = CreditScorePolicy(hour_tiers=tuple(ts))
    assert p.hour_points(a) == brute_points(p, a)
    lo, hi = sorted((a, b))
    assert p.hour_points(lo) <= p.hour_points(hi)


def test_hours_beyond_a_closed_last_band_earn_nothing() -> None:
    p = CreditScorePolicy(hour_tiers=[(10, 1), (10, 2, 3)])  # tuples accepted
    assert p.hour_points(100 * 60) == 10 + 15
    [b] = credit_bonuses([row("v", date(2024, 1, 1), 100 * 60)], {}, p, 2024)
    assert "80 h beyond 20 h earn nothing" in b.explain()


# --- yearly vs cumulative -------------------------------------------------------------------------


def test_cumulative_basis_gives_each_year_its_increase() -> None:
    rows = [row("v", date(2022, 3, 1), 15 * 60), row("v", date(2023, 3, 1), 30 * 60)]
    out = credit_history(rows, {}, WEIHAI, [2022, 2023])
    assert [(b.year, b.minutes, b.hours_points) for b in out] == [
        (2022, 900, 15),
        (2023, 1800, 17),  # 45 h → 32 pts in all, 15 earned before
    ]
    # the same hours counted per year start in the first band every year
    out = credit_history(rows, {}, WEIHAI_YEAR, [2022, 2023])
    assert [b.hours_points for b in out] == [15, 20 + 5]


@given(st.lists(st.tuples(st.integers(2018, 2024), st.integers(1, 60 * 60)), max_size=12))
def test_cumulative_points_telescope_to_the_total(items: list[tuple[int, int]]) -> None:
    rows = [row("v", date(y, 6, 1), m) for y, m in items]
    out = credit_history(rows, {}, WEIHAI, range(2018, 2025))
    assert sum(b.total for b in out) == WEIHAI.hour_points(sum(m for _, m in items))
    assert all(b.total >= 0 for b in out)


def test_only_the_years_rows_count_and_later_rows_are_ignored() -> None:
    rows = [
        row("v", date(2023, 12, 31), 60),
        row("v", date(2024, 1, 1), 120),
        row("v", date(2025, 1, 1), 600),
    ]
    [b] = credit_bonuses(rows, {}, WEIHAI_YEAR, 2024)
    assert (b.minutes, b.hours_points) == (120, 2)
    [c] = credit_bonuses(rows, {}, WEIHAI, 2024)
    assert (c.minutes, c.hours_points) == (120, 2)  # 1 h before, 3 h after: 3 − 1


# --- 福州 stars and caps ----------------------------------------------------------------------------


def test_fuzhou_star_points() -> None:
    levels = {"v0": 0, "v1": 1, "v3": 3, "v5": 5, "v7": 7}
    out = credit_bonuses([], levels, FUZHOU, 2024)
    assert [(b.volunteer_id, b.star_points, b.total) for b in out] == [
        ("v1", 1, 1),
        ("v3", 3, 3),
        ("v5", 5, 5),
        ("v7", 5, 5),  # above the list: the last
    ]
    assert "5 星级志愿者 → 5 分" in out[2].explain()
    assert FUZHOU.hour_points(10_000 * 60) == 0  # 福州 counts stars, not hours
    assert FUZHOU.scale == 1000 and FUZHOU.due(2024) == date(2025, 4, 1)


@pytest.mark.parametrize(
    ("prior", "total", "capped"), [(44, 5, 0), (45, 5, 0), (46, 4, 1), (50, 0, 5), (60, 0, 5)]
)
def test_fuzhou_total_cap_of_50(prior: int, total: int, capped: int) -> None:
    [b] = credit_bonuses([], {"v": 5}, FUZHOU, 2024, prior={"v": prior})
    assert (b.total, b.capped) == (total, capped)
    assert ("at most 50 pts for volunteering in all" in b.explain()) == bool(capped)


def test_fuzhou_history_stops_at_50() -> None:
    years = range(2015, 2030)
    out = credit_history([], {y: {"v": 5, "w": 2} for y in years}, FUZHOU, years)
    assert sum(b.total for b in out if b.volunteer_id == "v") == 50
    assert sum(b.total for b in out if b.volunteer_id == "w") == 30
    assert [b.total for b in out if b.volunteer_id == "v"][9:11] == [5, 0]
    assert [(b.year, b.volunteer_id) for b in out] == sorted((b.year, b.volunteer_id) for b in out)


@pytest.mark.parametrize(("hours", "total", "capped"), [(9, 9, 0), (10, 10, 0), (11, 10, 1)])
def test_yearly_cap_boundary(hours: int, total: int, capped: int) -> None:
    p = CreditScorePolicy(hour_tiers=[HourTier(hours_per_step=1)], yearly_cap=10, total_cap=100)
    [b] = credit_bonuses([row("v", date(2024, 5, 1), hours * 60)], {}, p, 2024)
    assert (b.hours_points, b.total, b.capped) == (hours, total, capped)


def test_yearly_cap_applies_before_the_total_cap() -> None:
    p = CreditScorePolicy(
        hour_tiers=[HourTier(hours_per_step=1)], star_points=(3,), yearly_cap=10, total_cap=12
    )
    [b] = credit_bonuses([row("v", date(2024, 5, 1), 20 * 60)], {"v": 1}, p, 2024, prior={"v": 5})
    assert (b.hours_points, b.star_points, b.total, b.capped) == (20, 3, 7, 16)
    lines = b.explain().splitlines()
    assert "at most 10 pts a year: 23 cut by 13" in lines[-3]
    assert "(5 earned before): cut by 3" in lines[-2]


@given(
    st.lists(st.tuples(st.sampled_from("abc"), st.integers(2023, 2025), st.integers(1, 3000))),
    st.dictionaries(st.sampled_from("abcd"), st.integers(0, 7)),
    st.none() | st.integers(1, 20),
    st.none() | st.integers(1, 40),
    st.dictionaries(st.sampled_from("abcd"), st.integers(0, 50)),
)
def test_caps_always_hold(
    items: list[tuple[str, int, int]],
    levels: dict[str, int],
    yearly: int | None,
    total: int | None,
    prior: dict[str, int],
) -> None:
    p = CreditScorePolicy(
        hour_tiers=WEIHAI.hour_tiers,
        star_points=(1, 2, 3, 4, 5),
        yearly_cap=yearly,
        total_cap=total,
    )
    rows = [row(v, date(y, 1, 1), m) for v, y, m in items]
    out = credit_bonuses(rows, levels, p, 2024, prior=prior)
    assert [b.volunteer_id for b in out] == sorted(
        {v for v, y, _ in items if y == 2024} | {v for v, n in levels.items() if n}
    )
    for b in out:
        assert b.total == b.hours_points + b.star_points - b.capped
        assert b.total >= 0
        assert yearly is None or b.total <= yearly
        assert total is None or b.total + prior.get(b.volunteer_id, 0) <= max(
            total, prior.get(b.volunteer_id, 0)
        )
        assert b.minutes == sum(m for v, y, m in items if v == b.volunteer_id and y == 2024)
        assert b.hours_points == p.hour_points(b.minutes)


# --- policies by date, export, bad input ----------------------------------------------------------


def test_the_policy_in_force_at_the_years_end_applies() -> None:
    old = CreditScorePolicy(name="old", effective_from=date(2018, 1, 1), star_points=(1,))
    new = CreditScorePolicy(name="new", effective_from=date(2024, 12, 31), star_points=(9,))
    assert credit_bonuses([], {"v": 1}, [new, old], 2024)[0].policy == "new"
    assert credit_bonuses([], {"v": 1}, [new, old], 2023)[0].total == 1
    assert credit_bonuses([], {"v": 1}, [new, old], 2000)[0].policy == "old"  # the earliest
    with pytest.raises(InvalidValue, match="policy"):
        credit_bonuses([], {}, [], 2024)


@pytest.mark.parametrize("name", sorted(CREDIT_PROFILES))
def test_profiles_round_trip(name: str) -> None:
    p = CREDIT_PROFILES[name]
    assert from_json(to_json(p), CreditScorePolicy) == p
    assert from_toml(to_toml(p), CreditScorePolicy) == p


def test_bonuses_export_as_json_in_a_stable_order() -> None:
    rows = [row(v, date(2024, 2, 1), 30 * 60) for v in ("b", "a", "c")]
    out = credit_bonuses(rows, {"d": 2}, WEIHAI, 2024)
    again = credit_bonuses(list(reversed(rows)), {"d": 2}, WEIHAI, 2024)
    assert out == again and [b.volunteer_id for b in out] == ["a", "b", "c", "d"]
    text = to_json(out)
    assert from_json(text, list[CreditBonus]) == out
    data = unstructure(out[0])
    assert data["findings"][0]["rule"] == "creditscore.cumulative"
    assert set(data) == {
        "volunteer_id", "year", "policy", "minutes", "hours_points", "star_level",
        "star_points", "capped", "total", "findings",
    }  # fmt: skip
    assert str(out[0]) == "a 2024: 25"


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('{"hour_tiers": [{"hours": null}, {"hours": 5}]}', "only the last band"),
        ('{"hour_tiers": [{"hours": 1.5}]}', r"\$\.hour_tiers\[0\]\.hours"),
        ('{"hour_tiers": [{"hours_per_step": 0}]}', "hours_per_step"),
        ('{"star_points": [1, -2]}', "star_points"),
        ('{"basis": "monthly"}', r"\$\.basis"),
        ('{"total_cap": 0}', "total_cap"),
        ('{"collection_month": 13}', "collection_month"),
        ('{"name": "x", "bonus": 1}', "bonus"),
    ],
)
def test_bad_policy_input_is_refused(text: str, where: str) -> None:
    with pytest.raises(InvalidInput, match=where):
        from_json(text, CreditScorePolicy)


def test_bad_call_input_is_refused() -> None:
    r = row("v", date(2024, 1, 1), 60, record_id="dup")
    with pytest.raises(InvalidValue, match="twice"):
        credit_bonuses([r, r], {}, WEIHAI, 2024)
    with pytest.raises(InvalidValue, match="star_levels"):
        credit_bonuses([], {"v": -1}, FUZHOU, 2024)
    with pytest.raises(InvalidValue, match="prior"):
        credit_bonuses([], {"v": 1}, FUZHOU, 2024, prior={"v": -3})
    with pytest.raises(InvalidValue, match="year"):
        credit_bonuses([], {}, FUZHOU, 2024.0)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="hour_tiers"):
        CreditScorePolicy(hour_tiers="20,1")
    with pytest.raises(InvalidValue, match="star_points"):
        CreditScorePolicy(star_points=(1.5,))  # type: ignore[arg-type]
    # rows without record ids are not checked for repeats
    plain = row("v", date(2024, 1, 1), 60)._replace(record_id=None)
    assert credit_bonuses([plain, plain], {}, WEIHAI_YEAR, 2024)[0].minutes == 120


def test_rows_from_an_hour_ledger() -> None:
    tree = load_default()
    reg = Registry(tree, [Organization(id="o1", name="协会", region_code="370602001")])
    ledger = HourLedger(reg, policies=[HourPolicy(auto_certify={"qr_scan"})])
    ledger.add_volunteer(
        Volunteer(id="v1", name="王芳", home_region="370602001001", registered_on=date(2020, 1, 1))
    )
    start = datetime(2024, 1, 2, 8, tzinfo=SHANGHAI)
    for d in range(25):  # 25 days × 4 h = 100 h
        t = start + timedelta(days=d)
        ledger.post(
            ServiceRecord(
                id=f"r{d}",
                volunteer_id="v1",
                activity_id="a",
                organization_id="o1",
                region_code="370602001001",
                category="助老",
                evidence=Evidence.QR_SCAN,
                start=t,
                end=t + timedelta(hours=4),
            ),
            at=t + timedelta(hours=5),
        )
    rows = ledger.rows(status="certified", as_of=datetime(2025, 1, 1, tzinfo=SHANGHAI))
    [b] = credit_bonuses(rows, {}, WEIHAI, 2024)
    assert (b.minutes, b.hours_points) == (6000, 20 + 30 + 6)  # 100 h: 20 + 60/2 + 20/3
    assert ScoreBasis.CUMULATIVE is WEIHAI.basis
