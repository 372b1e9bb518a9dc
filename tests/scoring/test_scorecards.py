"""Scorecards (考核评估): indicators, bands, explanations, shipped cards, station values.

Every number asserted here is worked out by hand in a comment or by an oracle written apart from
the library (:func:`expected_points`, with exact fractions).
"""

from __future__ import annotations

import math
from datetime import date
from fractions import Fraction
from typing import Any

import attrs
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from strategies import sources
from zhiyuan.convert import from_json, from_toml, to_json, to_toml
from zhiyuan.errors import InvalidInput, InvalidValue, NotFound
from zhiyuan.scoring.feedback import BayesianPrior, FeedbackScore
from zhiyuan.scoring.scorecards import (
    SCORECARD_PROFILES,
    Band,
    Indicator,
    Scorecard,
    scorecard_for,
    station_values,
)

ACT = Indicator(id="activities", name="活动次数", name_en="activities", weight=20, target=4)
VOL = Indicator(
    id="volunteers",
    name="志愿者比例",
    name_en="volunteer share",
    weight=30,
    target=80,
    unit="%",
)
COMPLAINTS = Indicator(
    id="complaints",
    name="有效投诉",
    name_en="upheld complaints",
    weight=10,
    target=1,
    higher_is_better=False,
)
BANDS = (
    Band(min_points=50, label="优秀", label_en="excellent"),
    Band(min_points=30, label="合格", label_en="pass"),
)


def card(**kw: Any) -> Scorecard:
    fields: dict[str, Any] = {
        "name": "测试卡",
        "name_en": "test card",
        "effective_from": date(2024, 1, 1),
        "indicators": (ACT, VOL, COMPLAINTS),
        "bands": BANDS,
    }
    fields.update(kw)
    return Scorecard(**fields)


def expected_points(i: Indicator, value: int) -> int:
    """The points an indicator's value earns, by the rules in the module docstring (oracle)."""
    if i.higher_is_better:
        share = min(Fraction(value, i.target), Fraction(1))
    elif value <= i.target:
        share = Fraction(1)
    else:
        share = Fraction(i.target, value)
    exact = i.weight * share
    return exact.numerator // exact.denominator


# --- indicators --------------------------------------------------------------------------------


def test_points_higher_is_better() -> None:
    assert [ACT.points(v) for v in (0, 1, 2, 3, 4, 5, 100)] == [0, 5, 10, 15, 20, 20, 20]
    assert [VOL.points(v) for v in (0, 1, 79, 80)] == [0, 0, 29, 30]  # 30×1//80 = 0; 30×79//80


def test_points_lower_is_better() -> None:
    assert [COMPLAINTS.points(v) for v in (0, 1, 2, 3, 10, 11)] == [10, 10, 5, 3, 1, 0]
    zero = attrs.evolve(COMPLAINTS, target=0)
    assert [zero.points(v) for v in (0, 1, 5)] == [10, 0, 0]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id", ""),
        ("name", " "),
        ("name_en", ""),
        ("weight", 0),
        ("weight", -5),
        ("weight", 2.5),
        ("target", -1),
        ("target", 4.0),
        ("higher_is_better", "yes"),
        ("higher_is_better", 1),
        ("unit", None),
        ("decimals", 5),
        ("decimals", -1),
    ],
)
def test_indicator_validation_names_the_field(field: str, value: object) -> None:
    with pytest.raises(InvalidValue) as err:
        attrs.evolve(ACT, **{field: value})
    assert err.value.field == field


def test_a_higher_is_better_target_must_be_positive() -> None:
    with pytest.raises(InvalidValue) as err:
        attrs.evolve(ACT, target=0)
    assert err.value.field == "target"
    assert attrs.evolve(COMPLAINTS, target=0).target == 0  # fine when lower is better


def test_decimals_only_change_the_display() -> None:
    fb = Indicator(id="fb", name="评价", name_en="feedback", weight=20, target=450, decimals=2)
    assert fb.show(433) == "4.33" and fb.show(5) == "0.05" and fb.points(433) == 19
    assert attrs.evolve(fb, decimals=1).show(433) == "43.3"
    assert attrs.evolve(fb, decimals=0).show(433) == "433"


# --- cards -------------------------------------------------------------------------------------


def test_bands_are_kept_highest_first() -> None:
    c = card(bands=[Band(min_points=10, label="C"), *BANDS])
    assert [b.min_points for b in c.bands] == [50, 30, 10]
    assert isinstance(c.bands, tuple) and isinstance(c.indicators, tuple)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"indicators": ()}, "indicators"),
        ({"indicators": (ACT, attrs.evolve(VOL, id="activities"))}, "indicators"),
        ({"indicators": ("activities",)}, "indicators"),
        ({"indicators": "activities"}, "indicators"),
        ({"bands": (Band(min_points=30, label="A"), Band(min_points=30, label="B"))}, "bands"),
        ({"bands": (Band(min_points=61, label="满分以上"),)}, "bands"),
        ({"bands": ("A",)}, "bands"),
        ({"name": ""}, "name"),
        ({"effective_from": "2024-01-01"}, "effective_from"),
        ({"missing_counts_zero": "no"}, "missing_counts_zero"),
    ],
)
def test_card_validation(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidValue) as err:
        card(**changes)
    assert err.value.field == field


def test_a_band_at_full_marks_is_allowed() -> None:
    c = card(bands=(Band(min_points=60, label="满分"),))
    assert c.max_points == 60
    assert c.score({"activities": 4, "volunteers": 80, "complaints": 0}).band == c.bands[0]


def test_indicator_lookup() -> None:
    assert card().indicator("volunteers") is VOL
    with pytest.raises(NotFound):
        card().indicator("nope")


# --- scoring -----------------------------------------------------------------------------------


def test_score_parts_total_band_and_explanation() -> None:
    r = card().score({"activities": 3, "volunteers": 60, "complaints": 2})
    # 20×3//4 = 15; 30×60//80 = 22; 10×1//2 = 5
    assert [p.points for p in r.parts] == [15, 22, 5]
    assert r.total == 42 and r.max_points == 60
    assert r.band == BANDS[1]
    assert r.next_band == BANDS[0] and r.points_to_next == 8
    assert str(r.parts[0]) == "活动次数 3/4 → 15/20 分 / activities 3 of 4 → 15 of 20 points"
    assert (
        str(r.parts[1])
        == "志愿者比例 60/80% → 22/30 分 / volunteer share 60 of 80% → 22 of 30 points"
    )
    assert str(r.parts[2]) == (
        "有效投诉 2（不超过 1 得满分）→ 5/10 分 / "
        "upheld complaints 2 (full marks at or below 1) → 5 of 10 points"
    )
    assert str(r) == (
        "测试卡：总分 42/60 → 合格；距优秀还差 8 分 / "
        "test card: total 42 of 60 → pass; 8 points short of excellent"
    )
    lines = r.explain().splitlines()
    assert lines[0] == str(r) and lines[1:] == [f"  {p}" for p in r.parts]
    assert [f.rule for f in r.findings] == ["scorecard.total", "scorecard.next"] + [
        "scorecard.part"
    ] * 3
    assert r.findings[-1].numbers == {"points": 5, "weight": 10}


def test_top_band_and_unrated() -> None:
    top = card().score({"activities": 9, "volunteers": 100, "complaints": 0})
    assert (top.total, top.band, top.next_band, top.points_to_next) == (60, BANDS[0], None, None)
    assert str(top) == "测试卡：总分 60/60 → 优秀 / test card: total 60 of 60 → excellent"
    low = card().score({"activities": 1, "volunteers": 0, "complaints": 10})
    assert (low.total, low.band, low.next_band, low.points_to_next) == (6, None, BANDS[1], 24)
    assert str(low) == (
        "测试卡：总分 6/60，未达等级；距合格还差 24 分 / "
        "test card: total 6 of 60, unrated; 24 points short of pass"
    )


def test_a_card_without_bands_or_english_names() -> None:
    c = card(bands=(), name_en="")
    r = c.score({"activities": 2, "volunteers": 80, "complaints": 0})
    assert r.band is None and r.next_band is None and r.total == 50
    assert str(r) == "测试卡：总分 50/60，未达等级 / 测试卡: total 50 of 60, unrated"
    b = Band(min_points=1, label="AAA")
    assert b.en == "AAA"


def test_missing_value_is_an_error_naming_the_indicator() -> None:
    with pytest.raises(InvalidValue) as err:
        card().score({"activities": 3, "complaints": 0})
    assert err.value.field == "values.volunteers"
    assert "志愿者比例" in str(err.value) and "volunteer share" in str(err.value)


def test_missing_counts_zero_scores_nothing_either_way() -> None:
    c = card(missing_counts_zero=True)
    r = c.score({"volunteers": 80})
    assert [p.value for p in r.parts] == [None, 80, None]
    assert [p.points for p in r.parts] == [0, 30, 0]  # a missing complaint count earns nothing
    assert r.total == 30 and r.band == BANDS[1]
    assert str(r.parts[0]) == (
        "活动次数 未填报，计 0 分 → 0/20 分 / activities not reported, scores nothing → 0 of 20 points"
    )
    assert c.score({"activities": None, "volunteers": 0}).parts[0].value is None  # type: ignore[dict-item]


@pytest.mark.parametrize("value", [-1, 2.5, True, "3", None])
def test_bad_values_name_the_indicator(value: object) -> None:
    values: dict[str, Any] = {"activities": value, "volunteers": 1, "complaints": 0}
    with pytest.raises(InvalidValue) as err:
        card().score(values)
    assert err.value.field == "values.activities"


def test_unknown_keys() -> None:
    values = {"activities": 3, "volunteers": 60, "complaints": 0, "activites": 4}
    with pytest.raises(InvalidValue) as err:
        card().score(values)
    assert err.value.field == "values.activites"
    assert card().score(values, ignore_unknown=True).total == 15 + 22 + 10
    with pytest.raises(InvalidValue):
        card().score([("activities", 3)])  # type: ignore[arg-type]


def test_scorecard_for_picks_the_card_in_force() -> None:
    a = card(effective_from=date(2022, 1, 1))
    b = card(effective_from=date(2024, 7, 1), bands=())
    other = card(name="别的卡", effective_from=date(2024, 8, 1))
    cards = [b, other, a]
    assert scorecard_for(cards, date(2024, 6, 30), name="测试卡") is a
    assert scorecard_for(cards, date(2024, 7, 1), name="测试卡") is b
    assert scorecard_for(cards, date(2024, 9, 1)) is other
    with pytest.raises(NotFound):
        scorecard_for(cards, date(2021, 12, 31))
    with pytest.raises(NotFound):
        scorecard_for(cards, date(2025, 1, 1), name="无此卡")


# --- round trips -------------------------------------------------------------------------------


@pytest.mark.parametrize("key", sorted(SCORECARD_PROFILES))
def test_shipped_cards_round_trip(key: str) -> None:
    c = SCORECARD_PROFILES[key]
    assert from_json(to_json(c), Scorecard) == c
    assert from_toml(to_toml(c), Scorecard) == c


def test_a_card_loads_from_toml_and_rejects_bad_input() -> None:
    text = """
name = "社区实践站考核"
effective_from = "2025-01-01"
missing_counts_zero = true

[[indicators]]
id = "activities"
name = "活动次数"
name_en = "activities"
weight = 60
target = 4

[[indicators]]
id = "complaints"
name = "查实投诉"
name_en = "upheld complaints"
weight = 40
target = 0
higher_is_better = false

[[bands]]
min_points = 60
label = "合格"

[[bands]]
min_points = 90
label = "优秀"
"""
    c = from_toml(text, Scorecard)
    assert [b.label for b in c.bands] == ["优秀", "合格"]
    assert c.score({"activities": 2}).total == 30  # 60×2//4; complaints missing: 0
    with pytest.raises(InvalidInput):
        from_toml(text.replace("weight = 60", "weight = 60.0"), Scorecard)
    with pytest.raises(InvalidInput):
        from_toml(text.replace("target = 4", "target = 4\ntarge = 5"), Scorecard)
    with pytest.raises(InvalidInput):
        from_toml(text.replace("min_points = 90", "min_points = 60"), Scorecard)


# --- shipped cards and station values ----------------------------------------------------------


def test_shipped_cards() -> None:
    station, district = SCORECARD_PROFILES["station_stars"], SCORECARD_PROFILES["district_test"]
    assert station.max_points == district.max_points == 100
    assert [b.label for b in station.bands] == ["五星", "四星", "三星", "二星", "一星"]
    assert [b.label for b in district.bands] == ["AAAAA", "AAAA", "AAA", "AA", "A"]
    assert station.source is not None and district.source is not None
    assert "wmf.fjsen.com/2023-05/08" in station.source.explain()  # 石狮日报, the 所/站 star rating
    assert "xiexiebang.com/a1/d80ed2335e71ecda.html" in district.source.explain()  # the test sheet
    assert district.indicator("staff_volunteer_pct").target == 70
    assert district.indicator("party_volunteer_pct").target == 80
    assert not district.indicator("upheld_complaints").higher_is_better
    assert {i.id for i in station.indicators} == {
        "monthly_activities",
        "volunteers_per_100",
        "hours_per_volunteer",
        "needs_filled_pct",
        "feedback",
    }


def test_station_values_arithmetic() -> None:
    fb = FeedbackScore.of([5, 5, 4, 5])  # (2000 + 1900) / 9 = 433.3 → 433
    v = station_values(
        activities=3,
        registered_volunteers=217,
        residents=1500,  # 217 / 1500 = 14.4667 per 100 → 1447
        certified_minutes=217 * 60 * 18 + 30,  # 18.0023 h each → 180 tenths
        needs_posted=40,
        needs_filled=37,  # 92.5 % → 93 (half up)
        feedback=fb,
    )
    assert v == {
        "monthly_activities": 3,
        "volunteers_per_100": 1447,
        "hours_per_volunteer": 180,
        "needs_filled_pct": 93,
        "feedback": 433,
    }
    r = SCORECARD_PROFILES["station_stars"].score(v)
    # 25×3//4 = 18; 20×1447//1500 = 19; 20×180//250 = 14; 15×93//95 = 14; 20×433//450 = 19
    assert [p.points for p in r.parts] == [18, 19, 14, 14, 19]
    assert r.total == 84 and r.band is not None and r.band.label == "四星"
    assert r.points_to_next == 6


def test_station_values_edges() -> None:
    fb = FeedbackScore.of([], BayesianPrior())
    v = station_values(
        activities=0,
        registered_volunteers=0,
        residents=1,
        certified_minutes=0,
        needs_posted=0,
        needs_filled=0,
        feedback=fb,
    )
    assert v == {
        "monthly_activities": 0,
        "volunteers_per_100": 0,
        "hours_per_volunteer": 0,
        "needs_filled_pct": 0,
        "feedback": 400,
    }
    half = station_values(
        activities=1,
        registered_volunteers=2,
        residents=40000,  # 0.005 per 100 → 0.5 hundredths → rounds up to 1
        certified_minutes=3,  # 3×10 / 120 = 0.25 tenths → 0
        needs_posted=3,
        needs_filled=1,  # 33.3 % → 33
        feedback=fb,
    )
    assert (half["volunteers_per_100"], half["hours_per_volunteer"], half["needs_filled_pct"]) == (
        1,
        0,
        33,
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"residents": 0}, "residents"),
        ({"residents": -3}, "residents"),
        ({"activities": 1.5}, "activities"),
        ({"certified_minutes": True}, "certified_minutes"),
        ({"registered_volunteers": 2001}, "registered_volunteers"),
        ({"needs_filled": 11}, "needs_filled"),
        ({"needs_posted": -1}, "needs_posted"),
        ({"feedback": 433}, "feedback"),
    ],
)
def test_station_values_refuse_bad_input(changes: dict[str, Any], field: str) -> None:
    args: dict[str, Any] = {
        "activities": 2,
        "registered_volunteers": 100,
        "residents": 2000,
        "certified_minutes": 6000,
        "needs_posted": 10,
        "needs_filled": 8,
        "feedback": FeedbackScore.of([4]),
    }
    args.update(changes)
    with pytest.raises(InvalidValue) as err:
        station_values(**args)
    assert err.value.field == field


# --- properties --------------------------------------------------------------------------------

texts = st.text(st.characters(codec="utf-8"), min_size=1, max_size=12).filter(str.strip)


@st.composite
def indicators(draw: st.DrawFn, *, id: str | None = None) -> Indicator:
    higher = draw(st.booleans())
    return Indicator(
        id=id if id is not None else draw(texts),
        name=draw(texts),
        name_en=draw(texts),
        weight=draw(st.integers(min_value=1, max_value=100)),
        target=draw(st.integers(min_value=1 if higher else 0, max_value=10_000)),
        higher_is_better=higher,
        unit=draw(st.sampled_from(["", "%", " h", "★", "次"])),
        decimals=draw(st.integers(min_value=0, max_value=4)),
    )


@st.composite
def scorecards(draw: st.DrawFn) -> Scorecard:
    n = draw(st.integers(min_value=1, max_value=6))
    inds = [draw(indicators(id=f"i{k}")) for k in range(n)]
    full = sum(i.weight for i in inds)
    mins = draw(st.lists(st.integers(min_value=0, max_value=full), unique=True, max_size=5))
    bands = [
        Band(min_points=m, label=draw(texts), label_en=draw(st.just("") | texts)) for m in mins
    ]
    return Scorecard(
        name=draw(texts),
        name_en=draw(st.just("") | texts),
        effective_from=draw(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1))),
        indicators=inds,
        bands=draw(st.permutations(bands)),
        missing_counts_zero=draw(st.booleans()),
        source=draw(sources()),
    )


values = st.integers(min_value=0, max_value=20_000)


def value_maps(c: Scorecard) -> st.SearchStrategy[dict[str, int]]:
    return st.fixed_dictionaries({i.id: values for i in c.indicators})


@given(scorecards(), st.data())
def test_parts_stay_within_weights_and_sum_to_the_total(c: Scorecard, data: st.DataObject) -> None:
    vals = data.draw(value_maps(c))
    r = c.score(vals)
    assert [p.indicator for p in r.parts] == list(c.indicators)
    for p in r.parts:
        assert 0 <= p.points <= p.weight
        assert p.points == expected_points(p.indicator, vals[p.indicator.id])
    assert r.total == sum(p.points for p in r.parts)
    assert 0 <= r.total <= c.max_points
    earned = [b for b in c.bands if b.min_points <= r.total]
    assert r.band == (max(earned, key=lambda b: b.min_points) if earned else None)
    above = [b for b in c.bands if b.min_points > r.total]
    assert r.next_band == (min(above, key=lambda b: b.min_points) if above else None)


@given(scorecards(), st.data())
def test_more_of_a_higher_is_better_value_never_lowers_the_score(
    c: Scorecard, data: st.DataObject
) -> None:
    vals = data.draw(value_maps(c))
    i = data.draw(st.sampled_from(c.indicators))
    more = dict(vals)
    more[i.id] = vals[i.id] + data.draw(st.integers(min_value=1, max_value=5000))
    before, after = c.score(vals), c.score(more)
    if i.higher_is_better:
        assert after.total >= before.total
    else:
        assert after.total <= before.total


@given(scorecards(), st.data())
def test_missing_values(c: Scorecard, data: st.DataObject) -> None:
    vals = data.draw(value_maps(c))
    gone = data.draw(st.sampled_from(c.indicators))
    del vals[gone.id]
    if not c.missing_counts_zero:
        with pytest.raises(InvalidValue) as err:
            c.score(vals)
        assert err.value.field == f"values.{gone.id}"
        return
    r = c.score(vals)
    part = next(p for p in r.parts if p.indicator is gone)
    assert part.value is None and part.points == 0
    assert r.total == sum(expected_points(i, vals[i.id]) for i in c.indicators if i is not gone)


@given(scorecards())
def test_cards_round_trip_losslessly(c: Scorecard) -> None:
    assert from_json(to_json(c), Scorecard) == c
    assert from_toml(to_toml(c), Scorecard) == c


@given(scorecards(), st.data())
def test_every_part_explains_its_numbers(c: Scorecard, data: st.DataObject) -> None:
    vals = data.draw(value_maps(c))
    r = c.score(vals)
    for p in r.parts:
        text = str(p)
        assert f"{p.points}/{p.weight} 分" in text
        assert f"{p.points} of {p.weight} points" in text
        assert p.indicator.show(vals[p.indicator.id]) in text


@given(
    st.integers(min_value=0, max_value=10_000),
    st.integers(min_value=1, max_value=100_000),
    st.integers(min_value=0, max_value=10**8),
    st.integers(min_value=0, max_value=1000),
    st.data(),
)
def test_station_values_match_exact_arithmetic(
    volunteers: int, residents: int, minutes: int, posted: int, data: st.DataObject
) -> None:
    assume(volunteers <= residents)
    filled = data.draw(st.integers(min_value=0, max_value=posted))

    def half_up(x: Fraction) -> int:
        return math.floor(x + Fraction(1, 2))

    v = station_values(
        activities=2,
        registered_volunteers=volunteers,
        residents=residents,
        certified_minutes=minutes,
        needs_posted=posted,
        needs_filled=filled,
        feedback=FeedbackScore.of([3]),
    )
    assert v["volunteers_per_100"] == half_up(Fraction(volunteers * 100 * 100, residents))
    assert v["hours_per_volunteer"] == (
        half_up(Fraction(minutes, 60 * volunteers) * 10) if volunteers else 0
    )
    assert v["needs_filled_pct"] == (half_up(Fraction(filled * 100, posted)) if posted else 0)
    assert 0 <= v["needs_filled_pct"] <= 100
