"""Practice units, organizations, teams, the Registry and the team standard (units.py)."""

from __future__ import annotations

import random
import sys
import threading
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zhiyuan.convert import from_json, from_toml, to_json, to_toml
from zhiyuan.errors import (
    Conflict,
    InvalidInput,
    InvalidValue,
    NotFound,
    UnknownRegion,
    ZhiyuanError,
)
from zhiyuan.hierarchy import (
    TEAM_KINDS,
    TEAM_STANDARD_PROFILES,
    Level,
    Organization,
    PracticeCenter,
    PracticeInstitute,
    PracticeStation,
    PracticeUnit,
    RegionTree,
    Registry,
    Shortfall,
    Team,
    TeamStandard,
    load_default,
)

COUNTY = "370602000000"  # 芝罘区
TOWNSHIP = "370602001000"  # 向阳街道
NEIGHBOUR = "370602002000"  # 海岸路 … 街道 next door
VILLAGE = "370602001001"  # 友谊街社区居民委员会
OTHER_CITY_COUNTY = "370202000000"  # 市南区, 青岛
YANTAI = TEAM_STANDARD_PROFILES["yantai"]  # 17+N/5+N/3+N


@pytest.fixture(scope="module")
def tree() -> RegionTree:
    return load_default()


@pytest.fixture
def reg(tree: RegionTree) -> Registry:
    return Registry(tree)


def center(
    code: object = COUNTY, uid: str = "c1", name: str = "芝罘区新时代文明实践中心"
) -> PracticeCenter:
    return PracticeCenter(id=uid, name=name, region_code=code)


def teams(n: int, code: str, *, kind: str = "理论宣讲", prefix: str = "t") -> list[Team]:
    return [
        Team(id=f"{prefix}{code}-{i}", name=f"队伍{i}", region_code=code, kind=kind)
        for i in range(n)
    ]


# --- the three tiers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "good", "bad", "want", "got"),
    [
        (PracticeCenter, COUNTY, TOWNSHIP, "county", "township"),
        (PracticeCenter, COUNTY, VILLAGE, "county", "village"),
        (PracticeInstitute, TOWNSHIP, COUNTY, "township", "county"),
        (PracticeInstitute, TOWNSHIP, VILLAGE, "township", "village"),
        (PracticeStation, VILLAGE, TOWNSHIP, "village", "township"),
        (PracticeStation, VILLAGE, "370600000000", "village", "city"),
    ],
)
def test_unit_must_sit_at_its_tier_level(
    cls: type[PracticeUnit], good: str, bad: str, want: str, got: str
) -> None:
    unit = cls(id="u", name="单位", region_code=good)
    assert unit.level.value == want
    with pytest.raises(InvalidValue) as info:
        cls(id="u", name="单位", region_code=bad)
    err = info.value
    assert err.field == "region_code"
    assert err.value == bad
    # bilingual: the Chinese tier name and the English levels
    assert cls.TIER in err.reason
    assert f"sits at a {want}" in err.reason and f"this code is a {got}" in err.reason


def test_base_practice_unit_cannot_be_built() -> None:
    with pytest.raises(InvalidValue) as info:
        PracticeUnit(id="u", name="单位", region_code=COUNTY)
    assert info.value.field == "kind"
    assert "PracticeCenter" in str(info.value)


@pytest.mark.parametrize("form", ["370602", 370602, " 370602 ", "370602000000", 370602000000])
def test_any_code_form_is_stored_in_12_digits(form: object) -> None:
    assert center(form).region_code == COUNTY
    assert Organization(id="o", name="组织", region_code=form).region_code == COUNTY
    assert Team(id="t", name="队", region_code=form, kind="医疗卫生").region_code == COUNTY


@given(
    township=st.integers(min_value=1, max_value=999),
    village=st.integers(min_value=1, max_value=999),
    as_int=st.booleans(),
)
@settings(deadline=None)
def test_short_and_long_forms_agree(township: int, village: int, as_int: bool) -> None:
    short = f"370602{township:03d}"
    long = f"{short}{village:03d}"
    i = PracticeInstitute(id="i", name="所", region_code=int(short) if as_int else short)
    s = PracticeStation(id="s", name="站", region_code=int(long) if as_int else long)
    assert i.region_code == short + "000" and len(i.region_code) == 12
    assert s.region_code == long
    assert str(i).endswith(f"({short})")
    assert str(s).endswith(f"({long})")


@pytest.mark.parametrize("bad", ["37060", "abc", "", None, True, 3.7])
def test_malformed_codes_name_the_field(bad: object) -> None:
    with pytest.raises(InvalidValue) as info:
        Team(id="t", name="队", region_code=bad, kind="医疗卫生")
    assert info.value.field == "region_code"


@pytest.mark.parametrize("field", ["id", "name", "kind"])
@pytest.mark.parametrize("blank", ["", "   "])
def test_blank_strings_are_refused(field: str, blank: str) -> None:
    kwargs = {"id": "t", "name": "队", "region_code": COUNTY, "kind": "医疗卫生", field: blank}
    with pytest.raises(InvalidValue) as info:
        Team(**kwargs)  # type: ignore[arg-type]
    assert info.value.field == field


def test_unit_str_uses_the_short_code() -> None:
    assert str(center()) == "芝罘区新时代文明实践中心 (370602)"
    assert str(PracticeStation(id="s", name="友谊街站", region_code=VILLAGE)) == (
        "友谊街站 (370602001001)"
    )


def test_values_are_frozen() -> None:
    c = center()
    with pytest.raises(AttributeError):
        c.region_code = TOWNSHIP  # type: ignore[misc]


# --- Registry: adding ------------------------------------------------------------------------------


def test_unknown_region_is_refused_and_nothing_added(reg: Registry) -> None:
    with pytest.raises(UnknownRegion) as info:
        reg.add(center("370699"))  # a well-formed county code absent from the tree
    assert info.value.key == "370699000000"
    with pytest.raises(UnknownRegion):
        reg.add(Organization(id="o", name="组织", region_code="370602999"))
    with pytest.raises(UnknownRegion):
        reg.add(Team(id="t", name="队", region_code="370602001999", kind="医疗卫生"))
    assert reg.units() == [] and reg.organizations() == [] and reg.teams() == []
    # the id is still free, and the node can still take a unit
    reg.add(center())
    assert [u.id for u in reg.units()] == ["c1"]


def test_same_item_twice_is_a_no_op(reg: Registry) -> None:
    c = center()
    t = Team(id="t1", name="宣讲队", region_code=COUNTY, kind="理论宣讲")
    o = Organization(id="o1", name="蓝天救援队", region_code=COUNTY)
    for _ in range(3):
        reg.add(c)
        reg.add(o)
        reg.add(t)
        # an equal copy built from another code form is the same item too
        reg.add(Team(id="t1", name="宣讲队", region_code="370602", kind="理论宣讲"))
    assert reg.units() == [c]
    assert reg.organizations() == [o]
    assert reg.teams() == [t]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (
            Team(id="t1", name="宣讲队", region_code=COUNTY, kind="理论宣讲"),
            Team(id="t1", name="宣讲队", region_code=COUNTY, kind="医疗卫生"),
        ),
        (
            Organization(id="o1", name="甲", region_code=COUNTY),
            Organization(id="o1", name="乙", region_code=COUNTY),
        ),
        (
            PracticeCenter(id="u1", name="中心", region_code=COUNTY),
            PracticeInstitute(id="u1", name="所", region_code=TOWNSHIP),
        ),
    ],
)
def test_another_item_under_a_used_id_conflicts(
    reg: Registry, first: object, second: object
) -> None:
    reg.add(first)  # type: ignore[arg-type]
    with pytest.raises(Conflict) as info:
        reg.add(second)  # type: ignore[arg-type]
    assert isinstance(info.value, ValueError) and isinstance(info.value, ZhiyuanError)
    assert "already used" in str(info.value) and "编号已被占用" in str(info.value)
    # the first stays, the second was not added anywhere
    everything = reg.units() + reg.organizations() + reg.teams()  # type: ignore[operator]
    assert everything == [first]
    if isinstance(second, PracticeInstitute):
        assert reg.uncovered(Level.TOWNSHIP, within=TOWNSHIP) == [TOWNSHIP]


def test_two_units_at_one_node_conflict(reg: Registry) -> None:
    reg.add(center(uid="c1"))
    with pytest.raises(Conflict) as info:
        reg.add(center(uid="c2", name="另一个中心"))
    assert COUNTY in str(info.value) and "c1" in str(info.value)
    assert [u.id for u in reg.units()] == ["c1"]
    # c2 was not registered: it may now go to another county
    reg.add(center(OTHER_CITY_COUNTY, uid="c2", name="市南区中心"))
    assert [u.id for u in reg.units()] == ["c2", "c1"]  # by code: 市南区 first


def test_team_with_unknown_organization_is_not_found(reg: Registry) -> None:
    t = Team(id="t1", name="队", region_code=COUNTY, kind="医疗卫生", organization_id="o1")
    with pytest.raises(NotFound) as info:
        reg.add(t)
    assert not isinstance(info.value, UnknownRegion)
    assert info.value.what == "organization" and info.value.key == "o1"
    assert isinstance(info.value, KeyError)
    assert reg.teams() == []
    reg.add(Organization(id="o1", name="医疗志愿者协会", region_code=COUNTY))
    reg.add(t)
    assert reg.teams() == [t]


def test_items_given_to_the_constructor_are_checked(tree: RegionTree) -> None:
    reg = Registry(tree, [center(), *teams(2, COUNTY)])
    assert len(reg.units()) == 1 and len(reg.teams()) == 2
    with pytest.raises(Conflict):
        Registry(tree, [center(uid="a"), center(uid="b")])


def test_only_units_organizations_and_teams_are_accepted(reg: Registry) -> None:
    with pytest.raises(InvalidValue) as info:
        reg.add("not an item")  # type: ignore[arg-type]
    assert info.value.field == "item"


# --- Registry: queries -----------------------------------------------------------------------------


@pytest.fixture
def spread(reg: Registry) -> Registry:
    """Units and teams in 芝罘区 and 市南区."""
    reg.add(center())
    reg.add(center(OTHER_CITY_COUNTY, uid="c2", name="市南区中心"))
    reg.add(PracticeInstitute(id="i1", name="向阳所", region_code=TOWNSHIP))
    reg.add(PracticeInstitute(id="i2", name="邻所", region_code=NEIGHBOUR))
    reg.add(PracticeStation(id="s1", name="友谊街站", region_code=VILLAGE))
    reg.add(Organization(id="o1", name="芝罘组织", region_code=COUNTY))
    reg.add(Organization(id="o2", name="向阳组织", region_code=TOWNSHIP))
    reg.add(Organization(id="o3", name="市南组织", region_code=OTHER_CITY_COUNTY))
    for t in teams(2, COUNTY) + teams(3, TOWNSHIP) + teams(1, VILLAGE) + teams(4, NEIGHBOUR):
        reg.add(t)
    for t in teams(5, OTHER_CITY_COUNTY):
        reg.add(t)
    return reg


def test_within_filters_by_subtree(spread: Registry) -> None:
    assert {u.id for u in spread.units()} == {"c1", "c2", "i1", "i2", "s1"}
    assert [u.id for u in spread.units(within="3706")] == ["c1", "i1", "s1", "i2"]
    assert [u.id for u in spread.units(within="3702")] == ["c2"]
    assert [u.id for u in spread.units(within=TOWNSHIP)] == ["i1", "s1"]
    assert [u.id for u in spread.units(within="3706", level=Level.TOWNSHIP)] == ["i1", "i2"]
    assert [u.id for u in spread.units(level=Level.COUNTY)] == ["c2", "c1"]  # by code
    assert [o.id for o in spread.organizations(within="370602")] == ["o1", "o2"]
    assert [o.id for o in spread.organizations(within="37")] == ["o3", "o1", "o2"]
    assert len(spread.teams()) == 15
    assert len(spread.teams(within="3706")) == 10
    assert len(spread.teams(within=TOWNSHIP)) == 4  # 3 at the township, 1 at its village
    assert len(spread.teams(within=NEIGHBOUR)) == 4
    assert len(spread.teams(within=VILLAGE)) == 1
    assert len(spread.teams(within="5203")) == 0  # 遵义: nothing there
    for t in spread.teams(within="3706"):
        assert spread.tree.is_within(t.region_code, "3706")
    codes = [(t.region_code, t.id) for t in spread.teams()]
    assert codes == sorted(codes)


def test_within_an_unknown_code_raises(spread: Registry) -> None:
    with pytest.raises(UnknownRegion):
        spread.teams(within="370699")
    with pytest.raises(InvalidValue):
        spread.units(within="3706x")


def test_teams_at_is_the_exact_node_only(spread: Registry) -> None:
    at_town = spread.teams_at("370602001")
    assert [t.region_code for t in at_town] == [TOWNSHIP] * 3
    assert len(spread.teams_at(COUNTY)) == 2  # not the 8 below it
    assert len(spread.teams_at(370602001001)) == 1
    assert spread.teams_at("370602003") == []  # a known township without teams


def test_uncovered_lists_where_to_build_next(tree: RegionTree) -> None:
    small = tree.prune("370602001")  # 山东省/烟台市/芝罘区/向阳街道 and its 8 communities
    villages = [r.code for r in small.children("370602001")]
    assert len(villages) == 8
    reg = Registry(small)
    assert reg.uncovered(Level.VILLAGE) == villages
    assert reg.uncovered(Level.COUNTY) == [COUNTY]
    reg.add(PracticeStation(id="s1", name="站", region_code=villages[0]))
    reg.add(PracticeStation(id="s5", name="站", region_code=villages[5]))
    assert reg.uncovered(Level.VILLAGE) == villages[1:5] + villages[6:]
    assert reg.uncovered(Level.VILLAGE, within=TOWNSHIP) == villages[1:5] + villages[6:]
    assert reg.uncovered(Level.TOWNSHIP) == [TOWNSHIP]
    # the subtree's root itself counts when it has the level asked for
    assert reg.uncovered(Level.TOWNSHIP, within=TOWNSHIP) == [TOWNSHIP]
    assert reg.uncovered(Level.COUNTY, within="370602") == [COUNTY]
    reg.add(PracticeInstitute(id="i", name="所", region_code=TOWNSHIP))
    reg.add(center())
    assert reg.uncovered(Level.TOWNSHIP, within=TOWNSHIP) == []
    assert reg.uncovered(Level.COUNTY, within="3706") == []
    assert reg.uncovered(Level.VILLAGE, within=villages[5]) == []
    assert reg.uncovered(Level.VILLAGE, within=villages[4]) == [villages[4]]


def test_uncovered_whole_tree_matches_counts(tree: RegionTree) -> None:
    reg = Registry(tree)
    assert len(reg.uncovered(Level.COUNTY)) == tree.counts()[Level.COUNTY]
    reg.add(center())
    out = reg.uncovered(Level.COUNTY, within="3706")
    assert COUNTY not in out and len(out) == tree.counts("3706")[Level.COUNTY] - 1


# --- shortfalls ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("unit", "need"),
    [
        (PracticeCenter(id="u", name="中心", region_code=COUNTY), 17),
        (PracticeInstitute(id="u", name="所", region_code=TOWNSHIP), 5),
        (PracticeStation(id="u", name="站", region_code=VILLAGE), 3),
    ],
)
def test_shortfall_at_the_exact_threshold(tree: RegionTree, unit: PracticeUnit, need: int) -> None:
    reg = Registry(tree, [unit])
    code = unit.region_code
    for t in teams(need - 1, code):
        reg.add(t)
    # teams below the unit do not count for it
    child = next(iter(tree.children(code)), None)
    if child is not None:
        for t in teams(need, child.code, prefix="below"):
            reg.add(t)
    (s,) = reg.shortfalls(YANTAI)
    assert s.unit == unit and s.have == need - 1 and s.need == need and s.short_by == 1
    assert s.missing_kinds == ()
    reg.add(Team(id="last", name="最后一支", region_code=code, kind="文化文艺"))
    assert reg.shortfalls(YANTAI) == []
    reg.add(Team(id="extra", name="+N", region_code=code, kind="文化文艺"))
    assert reg.shortfalls(YANTAI) == []


def test_sixteen_teams_at_a_county_is_short_by_one(tree: RegionTree) -> None:
    reg = Registry(tree, [center(), *teams(16, COUNTY)])
    (s,) = reg.shortfalls(YANTAI)
    assert (s.have, s.need, s.short_by) == (16, 17, 1)
    assert str(s) == (
        "芝罘区新时代文明实践中心 (370602): 16/17 支队伍，还差 1 支 / 16 of 17 teams, 1 short"
    )
    reg.add(teams(17, COUNTY)[16])
    assert reg.shortfalls(YANTAI) == []


def test_unit_without_teams_is_short_by_the_whole_number(spread: Registry) -> None:
    out = {s.unit.id: s for s in spread.shortfalls(YANTAI)}
    # c1: 2 teams, c2: 5, i1: 3, i2: 4, s1: 1
    assert {k: (s.have, s.need) for k, s in out.items()} == {
        "c1": (2, 17),
        "c2": (5, 17),
        "i1": (3, 5),
        "i2": (4, 5),
        "s1": (1, 3),
    }
    assert [s.unit.id for s in spread.shortfalls(YANTAI, within="3702")] == ["c2"]
    assert [s.unit.id for s in spread.shortfalls(YANTAI, within=TOWNSHIP)] == ["i1", "s1"]


def test_required_kinds_are_listed_and_others_not_counted(tree: RegionTree) -> None:
    std = TeamStandard(
        name="夏县",
        required={Level.COUNTY: 2},
        required_kinds={Level.COUNTY: ("理论宣讲", "医疗卫生", "法律服务")},
    )
    reg = Registry(tree, [center()])
    for t in teams(5, COUNTY, kind="文化文艺"):
        reg.add(t)
    (s,) = reg.shortfalls(std)
    assert s.have == 0 and s.need == 2
    assert s.missing_kinds == ("理论宣讲", "医疗卫生", "法律服务")
    reg.add(Team(id="a", name="宣讲", region_code=COUNTY, kind="理论宣讲"))
    reg.add(Team(id="b", name="宣讲2", region_code=COUNTY, kind="理论宣讲"))
    (s,) = reg.shortfalls(std)
    # the number is met by two 理论宣讲 teams, but two kinds are still missing
    assert s.have == 2 and s.short_by == 0
    assert s.missing_kinds == ("医疗卫生", "法律服务")
    assert str(s).endswith("; 缺少 / missing: 医疗卫生、法律服务")
    assert "2/2 支队伍" in str(s) and "2 of 2 teams, 0 short" in str(s)
    reg.add(Team(id="c", name="医疗", region_code=COUNTY, kind="医疗卫生"))
    reg.add(Team(id="d", name="法律", region_code=COUNTY, kind="法律服务"))
    assert reg.shortfalls(std) == []


def test_levels_without_a_requirement_are_never_short(spread: Registry) -> None:
    only_villages = TeamStandard(required={Level.VILLAGE: 2})
    assert [s.unit.id for s in spread.shortfalls(only_villages)] == ["s1"]
    assert spread.shortfalls(TeamStandard(required={})) == []


def test_shortfall_str_is_bilingual() -> None:
    s = Shortfall(
        unit=PracticeInstitute(id="i", name="向阳街道新时代文明实践所", region_code=TOWNSHIP),
        have=3,
        need=5,
        missing_kinds=("助老助残",),
    )
    assert str(s) == (
        "向阳街道新时代文明实践所 (370602001): 3/5 支队伍，还差 2 支 / 3 of 5 teams, 2 short"
        "; 缺少 / missing: 助老助残"
    )
    with pytest.raises(InvalidValue):
        Shortfall(unit=s.unit, have=-1, need=5)


@given(
    have=st.integers(min_value=0, max_value=30),
    need=st.integers(min_value=0, max_value=30),
)
@settings(deadline=None, max_examples=60)
def test_shortfall_iff_fewer_than_needed(have: int, need: int) -> None:
    tree = load_default()
    reg = Registry(tree, [center()])
    for t in teams(have, COUNTY):
        reg.add(t)
    out = reg.shortfalls(TeamStandard(required={Level.COUNTY: need}))
    if have < need:
        assert len(out) == 1 and out[0].short_by == need - have
    else:
        assert out == []


# --- TeamStandard -----------------------------------------------------------------------------------


def test_yantai_standard_is_17_5_3_and_there_is_no_default() -> None:
    std = YANTAI
    assert std.name == "烟台 17+N/5+N/3+N"
    assert std.required == {Level.COUNTY: 17, Level.TOWNSHIP: 5, Level.VILLAGE: 3}
    assert std.required_kinds == {}
    with pytest.raises(TypeError):  # no national standard: the numbers must be named
        TeamStandard()  # type: ignore[call-arg]


def test_standard_accepts_level_values_as_keys() -> None:
    std = TeamStandard(required={"county": 8}, required_kinds={"township": ["理论宣讲"]})
    assert std.required == {Level.COUNTY: 8}
    assert std.required_kinds == {Level.TOWNSHIP: ("理论宣讲",)}


@pytest.mark.parametrize(
    "required", [{Level.COUNTY: -1}, {Level.COUNTY: True}, {Level.COUNTY: 1.5}, {"town": 3}]
)
def test_bad_requirements_are_invalid_values(required: dict[object, object]) -> None:
    with pytest.raises(InvalidValue) as info:
        TeamStandard(required=required)  # type: ignore[arg-type]
    assert info.value.field.startswith("required")


@pytest.mark.parametrize(
    "kinds", [{Level.COUNTY: "理论宣讲"}, {Level.COUNTY: ["", "医疗卫生"]}, {"bogus": ["x"]}]
)
def test_bad_required_kinds_are_invalid_values(kinds: dict[object, object]) -> None:
    # a bare string would otherwise be split into characters
    with pytest.raises(InvalidValue) as info:
        TeamStandard(required={}, required_kinds=kinds)  # type: ignore[arg-type]
    assert info.value.field.startswith("required_kinds")


@pytest.mark.parametrize(
    "std",
    [
        YANTAI,
        TeamStandard(name="夏县 8+N", required={Level.COUNTY: 8}),
        TeamStandard(
            name="高台 with kinds",
            required={Level.COUNTY: 12, Level.VILLAGE: 0},
            required_kinds={Level.COUNTY: ("理论宣讲", "医疗卫生"), Level.VILLAGE: ()},
        ),
        TeamStandard(name="空", required={}),
    ],
)
def test_standard_round_trips_through_json_and_toml(std: TeamStandard) -> None:
    text = to_json(std)
    assert from_json(text, TeamStandard) == std
    assert from_toml(to_toml(std), TeamStandard) == std


def test_standard_json_uses_level_values() -> None:
    text = to_json(TeamStandard(required={Level.TOWNSHIP: 5}))
    assert '"township": 5' in text and "Level" not in text
    std = from_toml('name = "夏县 8+N"\n[required]\ncounty = 8\n', TeamStandard)
    assert std == TeamStandard(name="夏县 8+N", required={Level.COUNTY: 8})


@pytest.mark.parametrize(
    "text",
    [
        '{"required": {"county": -3}}',
        '{"required": {"bogus": 3}}',
        '{"required": {"county": 2.5}}',
        '{"required": {"county": 17}, "extra": 1}',
        '{"required": ',
    ],
)
def test_bad_standard_json_is_invalid_input(text: str) -> None:
    with pytest.raises(InvalidInput):
        from_json(text, TeamStandard)


_kinds = st.lists(st.sampled_from(TEAM_KINDS), max_size=4, unique=True).map(tuple)
_levels = st.sampled_from(list(Level))


@given(
    name=st.text(min_size=1, max_size=10),
    required=st.dictionaries(_levels, st.integers(min_value=0, max_value=40)),
    kinds=st.dictionaries(_levels, _kinds),
)
@settings(deadline=None)
def test_any_standard_round_trips(
    name: str, required: dict[Level, int], kinds: dict[Level, tuple[str, ...]]
) -> None:
    std = TeamStandard(name=name, required=required, required_kinds=kinds)
    assert from_json(to_json(std), TeamStandard) == std
    assert from_toml(to_toml(std), TeamStandard) == std


# --- concurrency ------------------------------------------------------------------------------------


@pytest.fixture
def eager_switching() -> Iterator[None]:
    """Switch threads as often as possible, so that check-then-set races show up."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(old)


@pytest.mark.usefixtures("eager_switching")
@pytest.mark.parametrize("attempt", range(6))  # each attempt is a fresh race
def test_concurrent_adds_keep_exactly_the_distinct_items(tree: RegionTree, attempt: int) -> None:
    reg = Registry(tree)
    reg.add(Organization(id="org", name="组织", region_code=COUNTY))
    codes = [COUNTY, TOWNSHIP, NEIGHBOUR, VILLAGE, OTHER_CITY_COUNTY]
    distinct = [
        Team(
            id=f"t{i}",
            name=f"队伍{i}",
            region_code=codes[i % len(codes)],
            kind=TEAM_KINDS[i % len(TEAM_KINDS)],
            organization_id="org" if i % 3 == 0 else None,
        )
        for i in range(300)
    ]
    villages = [r.code for r in tree.descendants("3706", level=Level.VILLAGE)][:500]
    n_threads = 8
    barrier = threading.Barrier(n_threads)
    others: list[BaseException] = []
    won: dict[str, list[int]] = {}  # clashing id or village → the threads whose add succeeded
    lost: dict[str, list[int]] = {}
    lock = threading.Lock()

    def offer(key: str, k: int, item: Team | PracticeStation) -> None:
        try:
            reg.add(item)
        except Conflict:
            with lock:
                lost.setdefault(key, []).append(k)
        else:
            with lock:
                won.setdefault(key, []).append(k)

    def work(k: int) -> None:
        mine = list(distinct)
        random.Random(attempt * 100 + k).shuffle(mine)
        barrier.wait()
        try:
            for j in range(max(len(mine), len(villages))):
                if j < len(mine):
                    # an equal copy, not the same object: never a conflict
                    t = mine[j]
                    reg.add(
                        Team(
                            **{f: getattr(t, f) for f in ("id", "name", "region_code", "kind")},
                            organization_id=t.organization_id,
                        )
                    )
                if j < len(villages):
                    # true clashes: every thread offers its own team under one id, and its own
                    # practice station at one village
                    offer(
                        f"c{j}",
                        k,
                        Team(id=f"clash{j}", name=f"线程{k}", region_code=COUNTY, kind="医疗卫生"),
                    )
                    offer(
                        villages[j],
                        k,
                        PracticeStation(id=f"s{k}-{j}", name=f"站{k}", region_code=villages[j]),
                    )
        except BaseException as exc:  # collected and asserted below
            with lock:
                others.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(n_threads)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()

    assert others == []
    assert len(won) == 2 * len(villages)
    for key, winners in won.items():
        assert len(winners) == 1, (key, winners)  # exactly one add succeeded
        assert sorted(winners + lost[key]) == list(range(n_threads))
    got = reg.teams()
    clashes = {t.id: t for t in got if t.id.startswith("clash")}
    assert len(clashes) == len(villages)
    for j in range(len(villages)):
        assert clashes[f"clash{j}"].name == f"线程{won[f'c{j}'][0]}"
    assert sorted((t for t in got if t.id.startswith("t")), key=lambda t: t.id) == sorted(
        distinct, key=lambda t: t.id
    )
    units = reg.units()
    assert [u.region_code for u in units] == sorted(villages)
    for u in units:
        assert u.id.startswith(f"s{won[u.region_code][0]}-")


# --- wrong types and None raise InvalidValue naming the field (issue 14) -----------------------


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"required": None}, "required"),
        ({"required": [17, 5, 3]}, "required"),
        ({"required": "county=17"}, "required"),
        ({"required_kinds": None}, "required_kinds"),
        ({"required_kinds": ["理论宣讲"]}, "required_kinds"),
        ({"name": None}, "name"),
        ({"name": 17}, "name"),
    ],
)
def test_team_standard_refuses_wrong_types(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidValue, match=rf"^{field}: ") as exc:
        TeamStandard(**{"required": {}, **kwargs})  # type: ignore[arg-type]
    assert exc.value.field == field


@pytest.mark.parametrize("org", [5, "", "  ", ["o1"]])
def test_team_organization_id_is_an_id_or_none(org: object) -> None:
    with pytest.raises(InvalidValue, match=r"^organization_id: "):
        Team(id="t", name="队", region_code=COUNTY, kind="理论宣讲", organization_id=org)  # type: ignore[arg-type]
    team = Team(id="t", name="队", region_code=COUNTY, kind="理论宣讲", organization_id="o1")
    assert team.organization_id == "o1"


@pytest.mark.parametrize(
    "unit", [None, "c1", Organization(id="o", name="组织", region_code=COUNTY)]
)
def test_shortfall_needs_a_practice_unit(unit: object) -> None:
    with pytest.raises(InvalidValue, match=r"^unit: "):
        Shortfall(unit=unit, have=1, need=2)  # type: ignore[arg-type]


@pytest.mark.parametrize("tree_", [None, "3706", [("37", "山东省", None)]])
def test_registry_needs_a_tree(tree_: object) -> None:
    with pytest.raises(InvalidValue, match=r"^tree: "):
        Registry(tree_)  # type: ignore[arg-type]


@pytest.mark.parametrize("items", [None, 5, "c1"])
def test_registry_items_must_be_iterable(tree: RegionTree, items: object) -> None:
    with pytest.raises(InvalidValue, match=r"^items: "):
        Registry(tree, items)  # type: ignore[arg-type]


def test_registry_levels_are_checked_not_silently_unmatched(reg: Registry) -> None:
    reg.add(center())
    reg.add(PracticeInstitute(id="i1", name="向阳街道新时代文明实践所", region_code=TOWNSHIP))
    for bad in ("County", 3, None):
        with pytest.raises(InvalidValue, match=r"^level: "):
            reg.uncovered(bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match=r"^level: "):
        reg.units(level="乡级")  # type: ignore[arg-type]
    # A level's value is accepted, as everywhere else.
    assert [u.id for u in reg.units(level="township")] == ["i1"]  # type: ignore[arg-type]
    assert reg.uncovered("township", within=COUNTY) == reg.uncovered(  # type: ignore[arg-type]
        Level.TOWNSHIP, within=COUNTY
    )


@pytest.mark.parametrize("standard", [None, {"county": 17}, "17+N"])
def test_shortfalls_need_a_team_standard(reg: Registry, standard: object) -> None:
    reg.add(center())
    with pytest.raises(InvalidValue, match=r"^standard: "):
        reg.shortfalls(standard)  # type: ignore[arg-type]
