"""Dispatch (派单): each gate at its boundary, the score part by part, ranking, 就近 escalation,
no double booking, capacity, and the policy as data."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from support.matching import (
    CITY,
    COUNTY,
    HOME,
    OTHER_CITY_VILLAGE,
    OTHER_TOWNSHIP,
    OTHER_TOWNSHIP_VILLAGE,
    PROVINCE,
    SH,
    SIBLING,
    TOWNSHIP,
    VILLAGE,
    at,
    cand,
    dispatcher,
    need,
    other_county_village,
    tree,
)
from zhiyuan.convert import from_json, from_toml, to_json, to_toml
from zhiyuan.errors import InvalidValue, NotFound
from zhiyuan.hierarchy import Level
from zhiyuan.hierarchy.codes import level_of
from zhiyuan.hours import GeoFix
from zhiyuan.matching import (
    Availability,
    Booking,
    Candidate,
    Dispatcher,
    DispatchPolicy,
    DispatchResult,
    Need,
    Ranked,
    Skill,
    distance_m,
)

OTHER_COUNTY_VILLAGE = other_county_village()
GUIZHOU_VILLAGE = next(r.code for r in tree().descendants("52") if r.code[9:] != "000")


def rule(d: Dispatcher, n: Need, c: Candidate) -> str | None:
    f = d.gate(n, c)
    return None if f is None else f.rule


def ranked_ids(result: DispatchResult) -> list[str]:
    return [r.candidate_id for r in result.ranked]


# --- gates, each at its boundary ---------------------------------------------------------------


def test_skill_gate_at_the_expiry_boundary() -> None:
    n = need(skills={"医疗/急救"})  # served on 1 May 2025
    d = dispatcher()
    on_day = cand("a", skills=[Skill(name="医疗/急救", expires=date(2025, 5, 1))])
    day_after = cand("b", skills=[Skill(name="医疗/急救/心肺复苏", expires=date(2025, 5, 2))])
    general = cand("c", skills=["医疗"])  # too general for 医疗/急救
    assert rule(d, n, on_day) == "dispatch.skills"
    assert rule(d, n, day_after) is None
    assert rule(d, n, general) == "dispatch.skills"
    f = d.gate(n, general)
    assert f is not None and "医疗/急救" in f.zh and "missing skills" in f.en


def test_capacity_gate_at_the_boundary() -> None:
    d = dispatcher()
    n = need()
    assert rule(d, n, cand("a", capacity=3, load=2)) is None
    assert rule(d, n, cand("a", capacity=3, load=3)) == "dispatch.capacity"
    c = cand("b", capacity=2)
    d.add(c)
    d.book(Booking(candidate_id="b", need_id="x1", start=at(2, 9), end=at(2, 10)))
    assert rule(d, n, c) is None  # one booking of two
    d.book(Booking(candidate_id="b", need_id="x2", start=at(3, 9), end=at(3, 10)))
    f = d.gate(n, c)
    assert (
        f is not None and f.rule == "dispatch.capacity" and f.numbers == {"load": 2, "capacity": 2}
    )


def test_capacity_counts_the_larger_of_load_and_bookings() -> None:
    d = dispatcher()
    c = cand("a", capacity=2, load=1)
    d.book(Booking(candidate_id="a", need_id="x1", start=at(2, 9), end=at(2, 10)))
    assert rule(d, need(), c) is None  # max(1, 1) = 1 < 2


def test_booking_gate_at_the_overlap_boundary() -> None:
    c = cand("a", capacity=5)
    n = need()  # 09:00–11:00
    for start, end, clash in [
        (at(1, 11), at(1, 13), False),  # starts when the need ends
        (at(1, 7), at(1, 9), False),  # ends when the need starts
        (at(1, 10, 59), at(1, 13), True),
        (at(1, 7), at(1, 9, 1), True),
        (at(1, 9, 30), at(1, 10), True),  # inside
    ]:
        d = dispatcher(c)
        d.book(Booking(candidate_id="a", need_id="other", start=start, end=end))
        assert (rule(d, n, c) == "dispatch.booked") is clash, (start, end)


def test_a_booking_for_the_same_need_is_no_clash() -> None:
    c = cand("a", capacity=2)
    d = dispatcher(c)
    d.book(Booking(candidate_id="a", need_id="n1", start=at(1, 9), end=at(1, 11)))
    assert rule(d, need(), c) is None


def test_availability_gate_at_the_blocked_boundary() -> None:
    d = dispatcher()
    n = need()
    touching = cand("a", availability=Availability(blocked=((at(1, 11), at(1, 12)),)))
    overlapping = cand("b", availability=Availability(blocked=((at(1, 10, 59), at(1, 12)),)))
    assert rule(d, n, touching) is None
    assert rule(d, n, overlapping) == "dispatch.availability"


def test_distance_gate_at_the_limit() -> None:
    there = GeoFix(lat=36.31, lon=120.40)
    metres = distance_m(HOME, there)
    assert metres == 1111
    n = need(location=HOME)
    c = cand("a", location=there)
    assert rule(dispatcher(max_distance_m=metres), n, c) is None
    assert rule(dispatcher(max_distance_m=metres - 1), n, c) == "dispatch.distance"
    # without a point on either side the gate cannot apply
    assert rule(dispatcher(max_distance_m=0), need(), c) is None
    assert rule(dispatcher(max_distance_m=0), n, cand("b")) is None


def test_gates_run_in_a_fixed_order() -> None:
    d = dispatcher(max_distance_m=0)
    c = cand(
        "a",
        capacity=1,
        load=1,
        location=GeoFix(lat=36.5, lon=120.4),
        availability=Availability(blocked=((at(1, 0), at(2, 0)),)),
    )
    assert rule(d, need(skills={"法律"}, location=HOME), c) == "dispatch.skills"
    assert rule(d, need(location=HOME), c) == "dispatch.capacity"
    assert rule(d, need(location=HOME), attrs.evolve(c, load=0)) == "dispatch.availability"
    free = attrs.evolve(c, load=0, availability=Availability())
    assert rule(d, need(location=HOME), free) == "dispatch.distance"


def test_excluded_candidates_are_explained() -> None:
    d = dispatcher(cand("a", skills=["助老"]), cand("b"))
    result = d.rank(need(skills={"助老"}))
    assert ranked_ids(result) == ["a"]
    assert [(cid, f.rule) for cid, f in result.excluded] == [("b", "dispatch.skills")]
    text = result.explain()
    assert "b: 缺少技能 助老 / missing skills 助老" in text
    assert "#1 a: cost" in text and "村级" in text


# --- the score ---------------------------------------------------------------------------------


def test_score_parts_by_example() -> None:
    d = dispatcher()
    n = need(location=HOME)
    c = cand(
        "a",
        OTHER_TOWNSHIP_VILLAGE,
        location=GeoFix(lat=36.32, lon=120.40),
        rating_hundredths=430,
        completed=9,
        no_shows=1,
        load=0,
    )
    p = d.score(n, c)
    assert p.tree_levels == 2 and p.tree == 200  # village → township → county
    assert p.meters == 2223 and p.distance == 22  # 10 per km, rounded down
    assert p.rating == 14  # 20 × (500 − 430) ÷ 100
    assert p.reliability == 5  # 50 × (100 − 90) ÷ 100
    assert p.load == 0
    assert p.total == 200 + 22 + 14 + 5 + 0
    assert "cost 241" in str(p) and "2,223 m" in str(p)


@pytest.mark.parametrize(
    ("home", "levels"),
    [
        (VILLAGE, 0),
        (SIBLING, 1),
        (TOWNSHIP, 1),
        (OTHER_TOWNSHIP_VILLAGE, 2),
        (COUNTY, 2),
        (OTHER_COUNTY_VILLAGE, 3),
        (OTHER_CITY_VILLAGE, 4),
        (GUIZHOU_VILLAGE, 5),
    ],
)
def test_tree_distance_counts_levels_to_the_common_ancestor(home: str, levels: int) -> None:
    assert dispatcher().score(need(), cand("a", home)).tree_levels == levels


def test_load_part_counts_bookings() -> None:
    d = dispatcher()
    d.book(Booking(candidate_id="a", need_id="x", start=at(2, 9), end=at(2, 10)))
    assert d.score(need(), cand("a", capacity=3)).load == 15


WEIGHTS = {
    "tree_weight": "tree",
    "km_weight": "distance",
    "rating_weight": "rating",
    "reliability_weight": "reliability",
    "load_weight": "load",
}
HOMES = [
    VILLAGE,
    SIBLING,
    TOWNSHIP,
    OTHER_TOWNSHIP_VILLAGE,
    COUNTY,
    OTHER_COUNTY_VILLAGE,
    CITY,
    OTHER_CITY_VILLAGE,
    PROVINCE,
    GUIZHOU_VILLAGE,
]
points = st.none() | st.builds(
    GeoFix,
    lat=st.floats(min_value=36.0, max_value=36.6),
    lon=st.floats(min_value=120.0, max_value=120.8),
)
weights = st.integers(min_value=0, max_value=1000)


@st.composite
def scored_candidates(draw: st.DrawFn) -> Candidate:
    return Candidate(
        id="c",
        home_region=draw(st.sampled_from(HOMES)),
        location=draw(points),
        rating_hundredths=draw(st.integers(min_value=0, max_value=500)),
        completed=draw(st.integers(min_value=0, max_value=50)),
        no_shows=draw(st.integers(min_value=0, max_value=50)),
        load=draw(st.integers(min_value=0, max_value=5)),
        capacity=10,
    )


@given(
    c=scored_candidates(),
    where=points,
    base=st.fixed_dictionaries(dict.fromkeys(WEIGHTS, weights)),
    weight=st.sampled_from(sorted(WEIGHTS)),
    value=weights,
)
def test_each_weight_moves_only_its_part(
    c: Candidate, where: GeoFix | None, base: dict[str, int], weight: str, value: int
) -> None:
    n = need(location=where)
    before = dispatcher(**base).score(n, c)
    after = dispatcher(**{**base, weight: value}).score(n, c)
    for part in WEIGHTS.values():
        if part != WEIGHTS[weight]:
            assert getattr(before, part) == getattr(after, part), part
    moved = getattr(after, WEIGHTS[weight]) - getattr(before, WEIGHTS[weight])
    assert after.total - before.total == moved
    for parts, w in ((before, base), (after, {**base, weight: value})):
        assert (
            parts.total
            == parts.tree + parts.distance + parts.rating + parts.reliability + parts.load
        )
        assert parts.tree == w["tree_weight"] * parts.tree_levels
        assert parts.distance == (
            0 if parts.meters is None else w["km_weight"] * parts.meters // 1000
        )
        assert parts.rating == w["rating_weight"] * max(500 - c.rating_hundredths, 0) // 100
        assert parts.reliability == w["reliability_weight"] * (100 - c.reliability_percent) // 100
        assert parts.load == w["load_weight"] * c.load
        assert (parts.meters is None) == (where is None or c.location is None)


# --- ranking -----------------------------------------------------------------------------------


def test_ranking_is_by_cost_then_id() -> None:
    d = dispatcher(
        cand("z"),
        cand("m"),
        cand("a", rating_hundredths=300),  # rating part 40 instead of 20
        cand("b", completed=1, no_shows=1),  # reliability part 25 on top
        min_candidates=4,
    )
    result = d.rank(need())
    assert ranked_ids(result) == ["m", "z", "a", "b"]
    assert [r.cost for r in result.ranked] == [20, 20, 40, 45]
    assert all(r.cost == r.parts.total for r in result.ranked)
    assert ranked_ids(d.rank(need(), limit=2)) == ["m", "z"]


def test_limit_applies_when_escalation_runs_out() -> None:
    d = dispatcher(*(cand(f"c{i}") for i in range(5)), min_candidates=10)
    result = d.rank(need(), limit=2)
    assert result.level is None and ranked_ids(result) == ["c0", "c1"]
    assert result.trail[-1].rule == "dispatch.none"


def test_candidates_for_gives_candidates_and_parts() -> None:
    d = dispatcher(cand("a"), cand("b", SIBLING))
    [(c, parts)] = d.candidates_for(need())
    assert c.id == "a" and parts.tree_levels == 0


def test_unknown_regions_and_candidates_are_not_found() -> None:
    d = dispatcher()
    with pytest.raises(NotFound):
        d.rank(need(region="370214001999"))
    with pytest.raises(NotFound):
        d.add(cand("a", "370214001999"))
    with pytest.raises(NotFound):
        d.candidate("nobody")


def test_adding_a_candidate_again_replaces_it() -> None:
    d = dispatcher(cand("a"))
    d.add(cand("a", OTHER_TOWNSHIP_VILLAGE))
    result = d.rank(need())
    assert ranked_ids(result) == ["a"] and result.level is Level.COUNTY
    assert d.candidate("a").home_region == OTHER_TOWNSHIP_VILLAGE


# --- 就近 escalation ----------------------------------------------------------------------------


def levels_in(result: DispatchResult) -> list[str]:
    return [str(f.values[0]) for f in result.trail if f.rule == "dispatch.level"]


def test_village_first() -> None:
    result = dispatcher(cand("near"), cand("street", SIBLING)).rank(need())
    assert ranked_ids(result) == ["near"] and result.level is Level.VILLAGE
    assert result.region_code == VILLAGE and levels_in(result) == ["村级"]


def test_nobody_in_the_village_goes_to_the_township_then_the_county() -> None:
    d = dispatcher(
        cand("v", skills=[]),  # in the village, but without the skill
        cand("t", SIBLING, skills=["助老"]),
        cand("k", OTHER_TOWNSHIP_VILLAGE, skills=["助老"]),
    )
    result = d.rank(need(skills={"助老"}))
    assert ranked_ids(result) == ["t"] and result.level is Level.TOWNSHIP
    assert result.region_code == TOWNSHIP and levels_in(result) == ["村级", "乡级"]
    assert [f.numbers["found"] for f in result.trail] == [0, 1]

    d.add(cand("t", SIBLING, skills=[]))
    result = d.rank(need(skills={"助老"}))
    assert ranked_ids(result) == ["k"] and result.level is Level.COUNTY
    assert levels_in(result) == ["村级", "乡级", "县级"]
    assert {cid for cid, _ in result.excluded} == {"v", "t"}


def test_min_candidates_gathers_from_several_levels() -> None:
    d = dispatcher(
        cand("v"), cand("t", SIBLING), cand("k", OTHER_TOWNSHIP_VILLAGE), min_candidates=2
    )
    result = d.rank(need())
    assert ranked_ids(result) == ["v", "t"] and result.level is Level.TOWNSHIP


def test_a_level_the_policy_leaves_out_is_not_searched() -> None:
    d = dispatcher(
        cand("t", SIBLING), cand("k", OTHER_TOWNSHIP_VILLAGE), escalation=["village", "county"]
    )
    result = d.rank(need())
    assert result.level is Level.COUNTY and ranked_ids(result) == ["t", "k"]
    assert levels_in(result) == ["村级", "县级"]


def test_levels_below_the_need_are_skipped() -> None:
    d = dispatcher(cand("t", SIBLING), cand("k", OTHER_TOWNSHIP_VILLAGE))
    result = d.rank(need(region=TOWNSHIP))
    assert result.level is Level.TOWNSHIP and ranked_ids(result) == ["t"]
    assert levels_in(result) == ["乡级"]


def test_nobody_anywhere() -> None:
    result = dispatcher(cand("x", GUIZHOU_VILLAGE)).rank(need())
    assert result.ranked == () and result.level is None and result.region_code is None
    assert levels_in(result) == ["村级", "乡级", "县级", "市级"]
    assert "各级均无合格候选" in result.explain()


PLACES = [*HOMES, OTHER_TOWNSHIP]
NEED_REGIONS = [VILLAGE, TOWNSHIP, COUNTY]


def within(home: str, need_region: str, level: Level) -> bool:
    """Independent oracle: ``home`` lies in the subtree of ``need_region``'s ancestor at ``level``."""
    keep = {
        Level.PROVINCE: 2,
        Level.CITY: 4,
        Level.COUNTY: 6,
        Level.TOWNSHIP: 9,
        Level.VILLAGE: 12,
    }[level]
    return home[:keep] == need_region[:keep] and level_of(home).depth >= level.depth


@settings(max_examples=150)
@given(
    placements=st.lists(
        st.tuples(st.sampled_from(PLACES), st.booleans()), max_size=12
    ),  # (home, eligible)
    need_region=st.sampled_from(NEED_REGIONS),
    levels=st.sets(st.sampled_from(list(Level)), min_size=1),
    min_candidates=st.integers(min_value=1, max_value=4),
)
def test_escalation_never_skips_a_named_level(
    placements: list[tuple[str, bool]],
    need_region: str,
    levels: set[Level],
    min_candidates: int,
) -> None:
    ladder = sorted(levels, key=lambda lv: -lv.depth)
    d = dispatcher(
        *(
            cand(f"c{i:02d}", home, skills=["助老"] if ok else [])
            for i, (home, ok) in enumerate(placements)
        ),
        escalation=ladder,
        min_candidates=min_candidates,
    )
    n = need(region=need_region, skills={"助老"})
    result = d.rank(n)

    # the oracle: walk the named levels at or above the need, nearest first
    searchable = [lv for lv in ladder if lv.depth <= level_of(need_region).depth]
    eligible = {f"c{i:02d}": home for i, (home, ok) in enumerate(placements) if ok}
    stop, walked = None, []
    for lv in searchable:
        walked.append(lv)
        if sum(within(h, need_region, lv) for h in eligible.values()) >= min_candidates:
            stop = lv
            break
    top = stop or (walked[-1] if walked else None)

    assert levels_in(result) == [
        lv.zh for lv in walked
    ]  # every named level, in order, none skipped
    assert result.level == stop
    expected = (
        set() if top is None else {c for c, h in eligible.items() if within(h, need_region, top)}
    )
    assert set(ranked_ids(result)) == expected  # nobody from outside, nobody nearer ignored
    considered = {
        f"c{i:02d}" for i, (h, _) in enumerate(placements) if top and within(h, need_region, top)
    }
    assert {cid for cid, _ in result.excluded} == considered - expected
    costs = [(r.cost, r.candidate_id) for r in result.ranked]
    assert costs == sorted(costs)
    if stop is not None:
        assert result.region_code is not None
        assert result.region_code[: stop.digits] == need_region[: stop.digits]


# --- no candidate ranked for a need it fails a gate for ----------------------------------------

SKILLS = ["助老", "医疗/护理", "医疗/急救", "法律"]


@st.composite
def gated_candidates(draw: st.DrawFn, i: int) -> tuple[Candidate, list[Booking]]:
    skills = [
        Skill(name=s, expires=draw(st.none() | st.dates(date(2025, 4, 28), date(2025, 5, 4))))
        for s in draw(st.lists(st.sampled_from(SKILLS), unique=True, max_size=3))
    ]
    blocked = draw(
        st.lists(
            st.tuples(st.integers(0, 47), st.integers(1, 6)).map(
                lambda p: (at(1) + timedelta(hours=p[0]), at(1) + timedelta(hours=p[0] + p[1]))
            ),
            max_size=2,
        )
    )
    c = Candidate(
        id=f"c{i}",
        home_region=draw(st.sampled_from([VILLAGE, SIBLING, OTHER_TOWNSHIP_VILLAGE])),
        location=draw(points),
        skills=skills,
        availability=Availability(blocked=tuple(blocked)),
        capacity=draw(st.integers(1, 3)),
        load=draw(st.integers(0, 3)),
    )
    bookings = [
        Booking(
            candidate_id=c.id,
            need_id=f"other{k}",
            start=at(1) + timedelta(hours=h),
            end=at(1) + timedelta(hours=h + 2),
        )
        for k, h in enumerate(draw(st.lists(st.integers(0, 22), max_size=3)))
    ]
    return c, bookings


@settings(max_examples=150)
@given(
    data=st.data(),
    count=st.integers(0, 8),
    required=st.sets(st.sampled_from(["助老", "医疗"]), max_size=2),
    limit=st.none() | st.integers(0, 5000),
    where=points,
)
def test_no_candidate_is_ranked_for_a_need_it_fails_a_gate_for(
    data: st.DataObject, count: int, required: set[str], limit: int | None, where: GeoFix | None
) -> None:
    drawn = [data.draw(gated_candidates(i)) for i in range(count)]
    d = dispatcher(*(c for c, _ in drawn), max_distance_m=limit, escalation=["village", "county"])
    for _, bookings in drawn:
        for b in bookings:
            d.book(b)
    n = need(skills=required, location=where)  # 1 May 09:00–11:00
    result = d.rank(n)

    def passes(c: Candidate, bookings: list[Booking]) -> bool:  # an independent oracle
        day = n.start.date()
        skills_ok = all(
            any(
                (s.name == r or s.name.startswith(r + "/"))
                and (s.expires is None or day < s.expires)
                for s in c.skills
            )
            for r in required
        )
        load_ok = max(c.load, len(bookings)) < c.capacity
        free = all(not (b.start < n.end and n.start < b.end) for b in bookings)
        unblocked = all(not (s < n.end and n.start < e) for s, e in c.availability.blocked)
        near = (
            limit is None
            or where is None
            or c.location is None
            or distance_m(where, c.location) <= limit
        )
        return skills_ok and load_ok and free and unblocked and near

    for r in result.ranked:
        c, bookings = drawn[int(r.candidate_id[1:])]
        assert passes(c, bookings) and d.gate(n, c) is None
    for cid, f in result.excluded:
        c, bookings = drawn[int(cid[1:])]
        assert not passes(c, bookings) and d.gate(n, c) == f
    # everyone considered is either ranked or excluded, never both
    assert not set(ranked_ids(result)) & {cid for cid, _ in result.excluded}


# --- bookings: no double booking, capacity -----------------------------------------------------


def test_no_double_booking() -> None:
    d = dispatcher(cand("a", capacity=3), cand("b", capacity=3))
    first = need("n1")
    assert ranked_ids(d.rank(first)) == ["a", "b"]
    d.book(Booking(candidate_id="a", need_id="n1", start=first.start, end=first.end))
    overlapping = need("n2", start=at(1, 10), end=at(1, 12))
    later = need("n3", start=at(1, 11), end=at(1, 12))
    result = d.rank(overlapping)
    assert ranked_ids(result) == ["b"]
    assert [(cid, f.rule, f.values) for cid, f in result.excluded] == [
        ("a", "dispatch.booked", ("n1",))
    ]
    assert ranked_ids(d.rank(later, limit=None))[0] == "b"  # a carries load now, so b is cheaper
    assert "a" in ranked_ids(d.rank(later))
    d.release("a", "n1")
    assert ranked_ids(d.rank(overlapping)) == ["a", "b"]


def test_capacity_is_respected_across_bookings() -> None:
    d = dispatcher(cand("a", capacity=2))
    for k, day in enumerate((2, 3)):
        n = need(f"n{k}", start=at(day, 9), end=at(day, 11))
        assert ranked_ids(d.rank(n)) == ["a"]
        d.book(Booking(candidate_id="a", need_id=n.id, start=n.start, end=n.end))
    result = d.rank(need("n9", start=at(4, 9), end=at(4, 11)))
    assert result.ranked == () and result.excluded[0][1].rule == "dispatch.capacity"
    d.release("a", "n0")
    assert ranked_ids(d.rank(need("n9", start=at(4, 9), end=at(4, 11)))) == ["a"]


def test_booking_the_same_need_again_replaces_it() -> None:
    d = dispatcher(cand("a", capacity=2))
    d.book(Booking(candidate_id="a", need_id="n1", start=at(2, 9), end=at(2, 10)))
    d.book(Booking(candidate_id="a", need_id="n1", start=at(2, 9), end=at(2, 11)))  # rescheduled
    d.book(Booking(candidate_id="a", need_id="n1", start=at(2, 9), end=at(2, 11)))  # again
    assert d.score(need(), d.candidate("a")).load == 15  # one booking, not three
    assert rule(d, need(), d.candidate("a")) is None


def test_release_of_an_unknown_booking_is_harmless() -> None:
    d = dispatcher(cand("a"))
    d.release("a", "nothing")
    d.release("nobody", "nothing")
    assert ranked_ids(d.rank(need())) == ["a"]


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"start": datetime(2025, 5, 1, 9)}, "start"),
        ({"end": datetime(2025, 5, 1, 9)}, "end"),
        ({"need_id": ""}, "need_id"),
        ({"candidate_id": " "}, "candidate_id"),
    ],
)
def test_bad_bookings_are_invalid(kw: dict[str, object], field: str) -> None:
    fields: dict[str, object] = {
        "candidate_id": "a",
        "need_id": "n1",
        "start": at(1, 9),
        "end": at(1, 11),
    }
    with pytest.raises(InvalidValue, match=field):
        Booking(**{**fields, **kw})  # type: ignore[arg-type]


def test_concurrent_booking_and_ranking_stay_consistent() -> None:
    d = dispatcher(*(cand(f"c{i}", capacity=50) for i in range(20)), min_candidates=20)
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            for j in range(20):
                d.book(
                    Booking(
                        candidate_id=f"c{k}", need_id=f"n{j}", start=at(2 + j, 9), end=at(2 + j, 10)
                    )
                )
                d.rank(need())
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert all(
        r.parts.load == (15 * 20 if int(r.candidate_id[1:]) < 8 else 0)
        for r in d.rank(need()).ranked
    )


# --- the policy as data ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"escalation": []}, "escalation"),
        ({"escalation": ["county", "village"]}, "escalation"),  # must go up
        ({"escalation": ["village", "village"]}, "escalation"),
        ({"escalation": ["town"]}, "escalation"),
        ({"escalation": "hamlet"}, "escalation"),
        ({"tree_weight": -1}, "tree_weight"),
        ({"km_weight": 1.5}, "km_weight"),
        ({"min_candidates": 0}, "min_candidates"),
        ({"max_distance_m": -1}, "max_distance_m"),
        ({"offer_timeout_minutes": 0}, "offer_timeout_minutes"),
        ({"offer_timeout_minutes": -30}, "offer_timeout_minutes"),
        ({"effective_from": datetime(2025, 1, 1, tzinfo=None)}, "effective_from"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_policies_are_invalid(kw: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidValue, match=field):
        DispatchPolicy(**kw)  # type: ignore[arg-type]


def test_policy_defaults_and_single_level() -> None:
    p = DispatchPolicy()
    assert p.escalation == (Level.VILLAGE, Level.TOWNSHIP, Level.COUNTY, Level.CITY)
    assert p.offer_timeout_minutes is None and p.max_distance_m is None  # no national numbers
    assert DispatchPolicy(escalation=["county"]).escalation == (Level.COUNTY,)
    with pytest.raises(InvalidValue) as err:  # a lone level is not a ladder: one rule for lists
        DispatchPolicy(escalation="county")
    assert err.value.field == "escalation"


def test_policy_round_trips_through_json_and_toml() -> None:
    p = DispatchPolicy(
        name="城阳 2025",
        effective_from=date(2025, 1, 1),
        km_weight=25,
        escalation=[Level.VILLAGE, Level.COUNTY],
        min_candidates=3,
        max_distance_m=2000,
        offer_timeout_minutes=30,
    )
    assert from_json(to_json(p), DispatchPolicy) == p
    assert from_toml(to_toml(p), DispatchPolicy) == p


# --- issue 14: bad input is refused, naming the field, and changes nothing ----------------------


def held(d: Dispatcher) -> dict[str, list[Booking]]:
    """The dispatcher's bookings, by candidate (a copy, to compare before and after)."""
    return {cid: list(bs) for cid, bs in d.bookings().items()}


BOOKING = {"candidate_id": "a", "need_id": "n1", "start": at(1, 9), "end": at(1, 11)}


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"end": at(1, 8)}, "end"),  # ends before it starts: was accepted
        ({"end": at(1, 9)}, "end"),  # ends as it starts
        ({"start": None}, "start"),  # was accepted (aware() lets None pass)
        ({"end": None}, "end"),
        ({"start": "2025-05-01T09:00+08:00"}, "start"),
        ({"start": datetime(1066, 10, 14, 9, tzinfo=SH)}, "start"),
        ({"candidate_id": None}, "candidate_id"),
        ({"need_id": 3}, "need_id"),
    ],
)
def test_bad_bookings_are_refused_and_book_nothing(kw: dict[str, object], field: str) -> None:
    d = dispatcher(cand("a", capacity=3))
    d.book(Booking(candidate_id="a", need_id="n0", start=at(2, 9), end=at(2, 10)))
    before = held(d)
    with pytest.raises(InvalidValue) as err:
        d.book(Booking(**{**BOOKING, **kw}))  # type: ignore[arg-type]
    assert err.value.field == field
    assert held(d) == before


def test_backwards_booking_would_have_blocked_nothing() -> None:
    # the reason it must be refused: a booking 11:00 → 09:00 overlaps no window at all, so the
    # double-booking gate silently let the candidate be booked again for 09:00–11:00
    with pytest.raises(InvalidValue, match="end"):
        Booking(candidate_id="a", need_id="n0", start=at(1, 11), end=at(1, 9))


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda d: d.book(None), "booking"),
        (lambda d: d.book({"candidate_id": "a"}), "booking"),
        (lambda d: d.add(None), "candidate"),
        (lambda d: d.add("b"), "candidate"),
        (lambda d: d.release(["a"], "n0"), "candidate_id"),
        (lambda d: d.release("a", None), "need_id"),
        (lambda d: d.candidate(None), "candidate_id"),
        (lambda d: d.rank(None), "need"),
        (lambda d: d.rank(need(), limit=-1), "limit"),
        (lambda d: d.rank(need(), limit="1"), "limit"),
        (lambda d: d.rank(need(), min_candidates=0), "min_candidates"),
        (lambda d: d.rank(need(), min_candidates=2.0), "min_candidates"),
        (lambda d: d.candidates_for(need(), at_least=True), "at_least"),
        (lambda d: d.gate(need(), None), "candidate"),
        (lambda d: d.gate("n1", cand("a")), "need"),
        (lambda d: d.score(need(), "a"), "candidate"),
    ],
)
def test_bad_arguments_to_a_dispatcher_change_nothing(call: Any, field: str) -> None:
    d = dispatcher(cand("a", capacity=3), cand("b"))
    d.book(Booking(candidate_id="a", need_id="n0", start=at(2, 9), end=at(2, 10)))
    before, ranked = held(d), d.rank(need())
    with pytest.raises(InvalidValue) as err:
        call(d)
    assert err.value.field == field
    assert held(d) == before and d.rank(need()) == ranked


@pytest.mark.parametrize(
    ("args", "kw", "field"),
    [
        (("370214",), {}, "tree"),
        ((None,), {}, "tree"),
        ((tree(), None), {}, "candidates"),
        ((tree(), [cand("a"), "b"]), {}, "candidates"),
        ((tree(), cand("a")), {}, "candidates"),
        ((tree(),), {"policy": {"km_weight": 5}}, "policy"),
    ],
)
def test_bad_dispatcher_arguments_are_invalid(
    args: tuple[Any, ...], kw: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidValue) as err:
        Dispatcher(*args, **kw)
    assert err.value.field == field


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"effective_from": None}, "effective_from"),  # was accepted
        ({"tree_weight": 10**30}, "tree_weight"),
        ({"load_weight": None}, "load_weight"),
        ({"rating_weight": "20"}, "rating_weight"),
        ({"escalation": None}, "escalation"),  # was a TypeError
        ({"escalation": 5}, "escalation"),
        ({"escalation": [None]}, "escalation"),
        ({"min_candidates": 10**30}, "min_candidates"),
        ({"min_candidates": None}, "min_candidates"),
        ({"max_distance_m": 10**30}, "max_distance_m"),
        ({"offer_timeout_minutes": 10**9}, "offer_timeout_minutes"),  # the deadline overflows
        ({"name": None}, "name"),
    ],
)
def test_out_of_range_and_missing_policy_fields_are_invalid(
    kw: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidValue) as err:
        DispatchPolicy(**kw)  # type: ignore[arg-type]
    assert err.value.field == field


def test_policy_escalation_by_value_is_converted() -> None:
    assert DispatchPolicy(escalation=("village", "county")).escalation == (  # type: ignore[arg-type]
        Level.VILLAGE,
        Level.COUNTY,
    )


def test_distance_between_non_points_is_invalid() -> None:
    with pytest.raises(InvalidValue, match=r"^a: "):
        distance_m("here", HOME)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match=r"^b: "):
        distance_m(HOME, None)  # type: ignore[arg-type]


def test_dispatch_results_check_their_fields() -> None:
    d = dispatcher(cand("a"))
    good = d.rank(need())
    assert DispatchResult(
        need_id="n1", ranked=list(good.ranked), level="village", region_code=VILLAGE
    ) == attrs.evolve(good, excluded=(), trail=())
    bad: list[tuple[dict[str, object], str]] = [
        ({"ranked": ["a"]}, "ranked"),
        ({"ranked": None}, "ranked"),
        ({"need_id": None}, "need_id"),
        ({"level": "hamlet"}, "level"),
        ({"region_code": 370214001001}, "region_code"),
        ({"excluded": [("a", "busy")]}, "excluded[0]"),
        ({"trail": ["escalated"]}, "trail"),
    ]
    base = {"need_id": "n1", "ranked": good.ranked, "level": None, "region_code": None}
    for kw, field in bad:
        with pytest.raises(InvalidValue) as err:
            DispatchResult(**{**base, **kw})  # type: ignore[arg-type]
        assert err.value.field == field
    parts = good.ranked[0].parts
    with pytest.raises(InvalidValue, match="cost"):
        Ranked(candidate_id="a", cost=None, parts=parts)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="parts"):
        Ranked(candidate_id="a", cost=1, parts=None)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="meters"):
        attrs.evolve(parts, meters=-1)
    with pytest.raises(InvalidValue, match="tree"):
        attrs.evolve(parts, tree="100")


@pytest.mark.parametrize(
    "field", ["tree_levels", "tree", "distance", "rating", "reliability", "load"]
)
def test_score_parts_are_whole_numbers_from_zero(field: str) -> None:
    # a dispatcher's parts are never negative (weights ≥ 0, levels up, metres): a negative
    # part given by hand would make a cost no dispatcher computes
    parts = dispatcher(cand("a")).rank(need()).ranked[0].parts
    for bad in (-1, True, None, 1.5):
        with pytest.raises(InvalidValue) as err:
            attrs.evolve(parts, **{field: bad})
        assert (err.value.field, err.value.value) == (field, bad)
    assert getattr(attrs.evolve(parts, **{field: 7}), field) == 7


def test_ranked_and_results_refuse_negative_costs_and_bad_text() -> None:
    parts = dispatcher(cand("a")).rank(need()).ranked[0].parts
    with pytest.raises(InvalidValue, match="cost"):
        Ranked(candidate_id="a", cost=-1, parts=parts)
    with pytest.raises(InvalidValue, match="candidate_id"):
        Ranked(candidate_id="a\ud800", cost=1, parts=parts)  # could not be written as UTF-8
    with pytest.raises(InvalidValue, match="region_code"):
        DispatchResult(need_id="n1", ranked=(), level=None, region_code=" ")
