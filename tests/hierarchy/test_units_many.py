"""Many practice units to a node: 点, 基地, 岗 and 驿站 beside the three tiers (units.py, kinds.py).

The seed figures must be expressible: 青岛市南's 108 中心/所/站 on its 62 nodes (seed 001), 遵义's
452 stations and 1,008 service posts in the central city (seed 002), 烟台's 1.5 万 stations (seed
000); special township-level units (政企合一, codes 400–599) are not asked for a 所.
"""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zhiyuan.convert import from_json, from_toml, to_json, to_toml
from zhiyuan.errors import Conflict, InvalidValue, NotFound, UnknownRegion
from zhiyuan.hierarchy import (
    UNIT_CLASSES,
    Level,
    Organization,
    PracticeBase,
    PracticeCenter,
    PracticeInstitute,
    PracticePoint,
    PracticeStation,
    PracticeUnit,
    RegionTree,
    Registry,
    ServicePost,
    Team,
    UnitKind,
    Waystation,
    is_special_township,
    load_default,
)
from zhiyuan.hierarchy.codes import level_of
from zhiyuan.hierarchy.zones import Zone

COUNTY = "370602000000"  # 芝罘区
TOWNSHIP = "370602001000"  # 向阳街道
VILLAGE = "370602001001"
SHINAN = "370202"  # 市南区: 1 district, 11 streets, 50 communities
HIGH_TECH = "370214400000"  # 青岛高新技术产业开发区, a 政企合一 unit of 城阳区
CHENGYANG = "370214"
MANY_KINDS = (PracticePoint, PracticeBase, ServicePost, Waystation)
TIERS = (PracticeCenter, PracticeInstitute, PracticeStation)


@pytest.fixture(scope="module")
def tree() -> RegionTree:
    return load_default()


@pytest.fixture
def reg(tree: RegionTree) -> Registry:
    return Registry(tree)


# --- the kinds -------------------------------------------------------------------------------------


def test_each_kind_has_its_class_and_names() -> None:
    assert list(UNIT_CLASSES) == list(UnitKind)
    for kind, cls in UNIT_CLASSES.items():
        assert cls.KIND is kind
        assert kind.zh == cls.TIER
        assert issubclass(cls, PracticeUnit)
    assert [k for k in UnitKind if k.is_tier] == [
        UnitKind.CENTER,
        UnitKind.INSTITUTE,
        UnitKind.STATION,
    ]
    assert UnitKind.POST.zh == "志愿服务岗" and UnitKind.WAYSTATION.en == "waystation"
    assert sorted(UnitKind, reverse=True)[0] is UnitKind.WAYSTATION
    with pytest.raises(TypeError):
        UNIT_CLASSES[UnitKind.POINT] = PracticeCenter  # type: ignore[index]


@pytest.mark.parametrize("cls", MANY_KINDS)
@pytest.mark.parametrize("code", [COUNTY, TOWNSHIP, VILLAGE])
def test_the_new_kinds_sit_at_a_county_a_township_or_a_village(
    cls: type[PracticeUnit], code: str
) -> None:
    unit = cls(id="u", name="单位", region_code=code)
    assert unit.level is Level({COUNTY: "county", TOWNSHIP: "township", VILLAGE: "village"}[code])
    assert unit.kind is cls.KIND


@pytest.mark.parametrize("cls", MANY_KINDS)
@pytest.mark.parametrize(("code", "got"), [("370600", "city"), ("37", "province")])
def test_the_new_kinds_refuse_a_city_or_a_province(
    cls: type[PracticeUnit], code: str, got: str
) -> None:
    with pytest.raises(InvalidValue) as info:
        cls(id="u", name="单位", region_code=code)
    err = info.value
    assert err.field == "region_code"
    assert cls.TIER in err.reason and "县级、乡级、村级" in err.reason
    assert "county or township or village" in err.reason and f"this code is a {got}" in err.reason


@pytest.mark.parametrize("bad", [None, "sign", [""], [3], {"sign": 1}])
def test_has_is_a_collection_of_ids(bad: object) -> None:
    with pytest.raises(InvalidValue) as info:
        PracticeStation(id="s", name="站", region_code=VILLAGE, has=bad)  # type: ignore[arg-type]
    assert info.value.field == "has"
    s = PracticeStation(id="s", name="站", region_code=VILLAGE, has=["sign", "sign", "office"])
    assert s.has == frozenset({"sign", "office"})


@pytest.mark.parametrize("kind", list(UnitKind))
def test_every_kind_round_trips_with_its_fields(kind: UnitKind) -> None:
    cls = UNIT_CLASSES[kind]
    code = {Level.COUNTY: COUNTY, Level.TOWNSHIP: TOWNSHIP, Level.VILLAGE: VILLAGE}[cls.LEVELS[-1]]
    unit = cls(id="u1", name="单位", region_code=code, has={"sign", "team"}, grid_id="g1")
    assert from_json(to_json(unit), cls) == unit
    assert from_toml(to_toml(unit), cls) == unit
    plain = cls(id="u2", name="单位", region_code=code)
    assert from_toml(to_toml(plain), cls) == plain and plain.has == frozenset()


# --- many to a node, one tier unit per node ---------------------------------------------------------


def test_many_new_units_at_one_node_but_one_tier_unit(reg: Registry) -> None:
    reg.add(PracticeStation(id="s", name="友谊街站", region_code=VILLAGE))
    for i, cls in enumerate(MANY_KINDS * 3):
        reg.add(cls(id=f"n{i}", name=f"单位{i}", region_code=VILLAGE))
    at = reg.units_at(VILLAGE)
    assert len(at) == 13
    assert at[0].id == "s"  # tiers first, then the enum's order, then id
    assert [u.kind for u in at] == sorted(u.kind for u in at)
    with pytest.raises(Conflict) as info:
        reg.add(PracticeStation(id="s2", name="第二个站", region_code=VILLAGE))
    assert "'s'" in str(info.value) and "one 中心, 所 or 站 per node" in str(info.value)
    assert len(reg.units_at(VILLAGE)) == 13
    # the refused station's id is still free
    reg.add(PracticeStation(id="s2", name="邻站", region_code="370602001004"))


def test_new_kinds_do_not_cover_a_node(tree: RegionTree) -> None:
    reg = Registry(tree.prune("370602001"))
    villages = [r.code for r in reg.tree.children(TOWNSHIP)]
    for i, v in enumerate(villages):
        reg.add(PracticePoint(id=f"p{i}", name="点", region_code=v))
        reg.add(Waystation(id=f"w{i}", name="驿站", region_code=v))
    reg.add(PracticeBase(id="b", name="基地", region_code=TOWNSHIP))
    assert reg.uncovered(Level.VILLAGE) == villages
    assert reg.uncovered(Level.TOWNSHIP) == [TOWNSHIP]


def test_queries_by_kind_level_and_subtree(reg: Registry) -> None:
    reg.add(PracticeCenter(id="c", name="中心", region_code=COUNTY))
    reg.add(PracticePoint(id="p-c", name="广场点", region_code=COUNTY))
    reg.add(PracticeInstitute(id="i", name="所", region_code=TOWNSHIP))
    reg.add(ServicePost(id="post", name="岗", region_code=TOWNSHIP))
    reg.add(PracticePoint(id="p-v", name="小区点", region_code=VILLAGE))
    reg.add(PracticePoint(id="p-q", name="市南点", region_code="370202001001"))
    assert [u.id for u in reg.units(kind=UnitKind.POINT)] == ["p-q", "p-c", "p-v"]
    assert [u.id for u in reg.units(kind="point", within="3706")] == ["p-c", "p-v"]
    assert [u.id for u in reg.units(kind="point", level="village")] == ["p-q", "p-v"]
    assert [u.id for u in reg.units(within=TOWNSHIP)] == ["i", "post", "p-v"]
    assert [u.id for u in reg.units(level=Level.COUNTY)] == ["c", "p-c"]
    assert [u.id for u in reg.units_at(COUNTY)] == ["c", "p-c"]
    assert reg.units_at("370602002") == []
    with pytest.raises(InvalidValue) as info:
        reg.units(kind="site")
    assert info.value.field == "kind"
    with pytest.raises(UnknownRegion):
        reg.units_at("370602999")
    counts = reg.unit_counts(within="3706")
    assert list(counts) == list(UnitKind)
    assert counts[UnitKind.POINT] == 2 and counts[UnitKind.POST] == 1
    assert counts[UnitKind.BASE] == 0 and sum(counts.values()) == 5
    assert sum(reg.unit_counts(level="village").values()) == 2


def test_shortfalls_judge_only_the_tiers(reg: Registry) -> None:
    from zhiyuan.hierarchy import TeamStandard

    std = TeamStandard(required={"county": 2, "township": 2, "village": 2})
    reg.add(PracticePoint(id="p", name="点", region_code=VILLAGE))
    reg.add(PracticeBase(id="b", name="基地", region_code=COUNTY))
    assert reg.shortfalls(std) == []
    reg.add(PracticeStation(id="s", name="站", region_code=VILLAGE))
    reg.add(Team(id="t", name="队", region_code=VILLAGE, kind="理论宣讲", unit_id="p"))
    (s,) = reg.shortfalls(std)
    # the point's team is at the station's node: it counts for the station
    assert s.unit.id == "s" and (s.have, s.need) == (1, 2)


# --- teams fielded by a unit ------------------------------------------------------------------------


def test_a_team_names_the_unit_that_fields_it(reg: Registry) -> None:
    reg.add(PracticeInstitute(id="i", name="向阳所", region_code=TOWNSHIP))
    reg.add(PracticePoint(id="p", name="小区点", region_code=VILLAGE))
    reg.add(Team(id="t1", name="所队", region_code=TOWNSHIP, kind="理论宣讲", unit_id="i"))
    reg.add(Team(id="t2", name="所下村队", region_code=VILLAGE, kind="医疗卫生", unit_id="i"))
    reg.add(Team(id="t3", name="点队", region_code=VILLAGE, kind="文化文艺", unit_id="p"))
    assert [t.id for t in reg.teams(unit_id="i")] == ["t1", "t2"]
    assert [t.id for t in reg.teams(unit_id="p")] == ["t3"]
    assert reg.teams(unit_id="nobody") == []
    before = reg.items()
    with pytest.raises(NotFound) as missing:
        reg.add(Team(id="t4", name="队", region_code=VILLAGE, kind="x", unit_id="nope"))
    assert (missing.value.what, missing.value.key) == ("unit", "nope")
    # a team above its unit's node, or in another subtree, is refused
    for code in (COUNTY, "370602002000"):
        with pytest.raises(InvalidValue) as info:
            reg.add(Team(id="t5", name="队", region_code=code, kind="x", unit_id="i"))
        assert info.value.field == "unit_id" and info.value.value == "i"
        assert "370602001" in info.value.reason
    assert reg.items() == before


# --- the seed figures --------------------------------------------------------------------------------


def test_shinan_108_units_on_62_nodes(tree: RegionTree) -> None:
    """青岛市南 (seed 001): 108 中心/所/站 on a district of 1 + 11 + 50 nodes."""
    reg = Registry(tree)
    nodes = [tree[SHINAN], *tree.descendants(SHINAN)]
    assert len(nodes) == 62
    by_level = {Level.COUNTY: PracticeCenter, Level.TOWNSHIP: PracticeInstitute}
    for r in nodes:
        cls = by_level.get(r.level, PracticeStation)
        reg.add(cls(id=f"u{r.code}", name=f"{r.name}{cls.TIER}", region_code=r.code))
    rng = random.Random(1)
    extra = [(PracticePoint, 30), (PracticeBase, 4), (Waystation, 12)]
    for cls, n in extra:
        for i in range(n):
            r = rng.choice(nodes)
            reg.add(cls(id=f"{cls.KIND.value}{i}", name=f"{r.name}{cls.TIER}", region_code=r.code))
    counts = reg.unit_counts(within=SHINAN)
    assert sum(counts.values()) == 108
    assert counts[UnitKind.CENTER] + counts[UnitKind.INSTITUTE] + counts[UnitKind.STATION] == 62
    assert counts[UnitKind.POINT] == 30 and counts[UnitKind.WAYSTATION] == 12
    assert len({u.region_code for u in reg.units(within=SHINAN)}) == 62
    assert all(reg.uncovered(lv, within=SHINAN) == [] for lv in by_level)
    with pytest.raises(Conflict):  # every node has its tier unit: no room for another
        reg.add(PracticeStation(id="again", name="站", region_code=nodes[-1].code))


def test_zunyi_452_stations_and_1008_posts_in_the_central_city(tree: RegionTree) -> None:
    """遵义 (seed 002): 452 stations and 1,008 service posts in the central city."""
    central = Zone(id="遵义中心城区", name="遵义中心城区", codes=["520302", "520303", "520304"])
    villages = [r for c in central.codes for r in tree.descendants(c, level=Level.VILLAGE)]
    assert len(villages) >= 452
    reg = Registry(tree)
    for r in villages[:452]:
        reg.add(PracticeStation(id=f"s{r.code}", name=f"{r.name}站", region_code=r.code))
    for i in range(1008):
        r = villages[i % len(villages)]
        reg.add(ServicePost(id=f"post{i}", name=f"{r.name}岗{i}", region_code=r.code))
    reg.add(ServicePost(id="elsewhere", name="仁怀岗", region_code="520382001001"))
    counts = reg.unit_counts(within=central)
    assert counts[UnitKind.STATION] == 452 and counts[UnitKind.POST] == 1008
    assert sum(counts.values()) == 1460
    per_district = [reg.unit_counts(within=c)[UnitKind.POST] for c in central.codes]
    assert sum(per_district) == 1008
    assert reg.unit_counts(within="5203")[UnitKind.POST] == 1009


def test_yantai_15_thousand_stations(tree: RegionTree) -> None:
    """烟台 (seed 000): 1.5 万 service stations, more than its 6,509 villages: the rest are other
    kinds, many to a node."""
    villages = list(tree.descendants("3706", level=Level.VILLAGE))
    reg = Registry(tree)
    for r in villages:
        reg.add(PracticeStation(id=f"s{r.code}", name="站", region_code=r.code))
    for i in range(15_000 - len(villages)):
        r = villages[i % len(villages)]
        reg.add(Waystation(id=f"w{i}", name="驿站", region_code=r.code))
    counts = reg.unit_counts(within="3706")
    assert sum(counts.values()) == 15_000
    assert counts[UnitKind.STATION] == len(villages) == tree.counts("3706")[Level.VILLAGE]
    assert reg.uncovered(Level.VILLAGE, within="3706") == []
    busiest = max(villages[:10], key=lambda r: len(reg.units_at(r.code)))
    assert len(reg.units_at(busiest.code)) == 3  # its station and two waystations


# --- special township-level units ----------------------------------------------------------------------


def test_special_townships_by_code(tree: RegionTree) -> None:
    assert tree.path(HIGH_TECH) == "山东省/青岛市/城阳区/青岛高新技术产业开发区"
    assert is_special_township(HIGH_TECH) and is_special_township("370214400")
    assert is_special_township(370214400001)  # one of its communities
    for code in ("370214001", "370214001001", "370214", "3702", "37", "370602100", "370602299"):
        assert not is_special_township(code), code
    assert is_special_township("370602599") and not is_special_township("370602600")
    with pytest.raises(InvalidValue):
        is_special_township("37021x")
    specials = [r for r in tree if r.level is Level.TOWNSHIP and is_special_township(r.code)]
    assert len(specials) == 27
    assert all(r.code[6] == "4" for r in specials)


def test_uncovered_leaves_special_townships_out_unless_asked(tree: RegionTree) -> None:
    reg = Registry(tree)
    towns = reg.uncovered(Level.TOWNSHIP, within=CHENGYANG)
    every = reg.uncovered(Level.TOWNSHIP, within=CHENGYANG, include_special=True)
    assert HIGH_TECH not in towns and HIGH_TECH in every
    assert sorted(set(every) - set(towns)) == [HIGH_TECH]
    assert len(every) == tree.counts(CHENGYANG)[Level.TOWNSHIP] == 9
    villages = reg.uncovered(Level.VILLAGE, within=CHENGYANG)
    all_villages = reg.uncovered(Level.VILLAGE, within=CHENGYANG, include_special=True)
    left_out = set(all_villages) - set(villages)
    assert left_out == {r.code for r in tree.children(HIGH_TECH)} and len(left_out) == 10
    # over the whole tree, exactly the special ones are left out
    whole = set(reg.uncovered(Level.TOWNSHIP, include_special=True))
    assert whole - set(reg.uncovered(Level.TOWNSHIP)) == {
        c for c in whole if is_special_township(c)
    }
    # a special unit that has its 所 anyway is covered either way
    reg.add(PracticeInstitute(id="i", name="高新区实践所", region_code=HIGH_TECH))
    assert HIGH_TECH not in reg.uncovered(Level.TOWNSHIP, within=CHENGYANG, include_special=True)
    with pytest.raises(InvalidValue):
        reg.uncovered(Level.TOWNSHIP, include_special="yes")  # type: ignore[arg-type]


def test_uncovered_within_a_zone(tree: RegionTree) -> None:
    zone = Zone(id="z", name="两街道", codes=["370602001", "370602002"])
    reg = Registry(tree)
    reg.add(PracticeInstitute(id="i", name="所", region_code=TOWNSHIP))
    assert reg.uncovered(Level.TOWNSHIP, within=zone) == ["370602002000"]
    villages = reg.uncovered(Level.VILLAGE, within=zone)
    assert len(villages) == len(tree.children("370602001")) + len(tree.children("370602002"))


# --- refused adds change nothing, the same add twice is a no-op -----------------------------------------

_NODES = [COUNTY, TOWNSHIP, VILLAGE, "370602001004", "370602002000", "370602002001"]


@st.composite
def offers(draw: st.DrawFn) -> object:
    """A unit, organization or team that may clash, refer to nothing, or sit nowhere."""
    what = draw(st.sampled_from(["unit", "team", "org", "unknown region"]))
    i = draw(st.integers(0, 5))
    if what == "unknown region":
        return PracticePoint(id=f"u{i}", name="点", region_code="370602001999")
    code = draw(st.sampled_from(_NODES))
    if what == "org":
        return Organization(id=f"o{i}", name=draw(st.sampled_from(["甲", "乙"])), region_code=code)
    if what == "team":
        return Team(
            id=f"t{i}",
            name="队",
            region_code=code,
            kind=draw(st.sampled_from(["理论宣讲", "医疗卫生"])),
            organization_id=draw(st.sampled_from([None, "o0", "o1"])),
            unit_id=draw(st.sampled_from([None, "u0", "u1", "u2"])),
        )
    tier = dict(zip((Level.COUNTY, Level.TOWNSHIP, Level.VILLAGE), TIERS, strict=True))[
        level_of(code)
    ]
    cls = draw(st.sampled_from([tier, *MANY_KINDS]))
    return cls(id=f"u{i}", name="单位", region_code=code)


@given(st.lists(offers(), max_size=25))
@settings(max_examples=150)
def test_a_refused_add_leaves_the_registry_unchanged_and_repeats_are_no_ops(
    offered: list[object],
) -> None:
    tree = load_default()
    reg = Registry(tree)
    for item in offered:
        before = reg.items()
        try:
            reg.add(item)  # type: ignore[arg-type]
        except (Conflict, NotFound, InvalidValue):
            assert reg.items() == before
            continue
        after = reg.items()
        assert item in after
        reg.add(item)  # type: ignore[arg-type]  # the same again
        assert reg.items() == after
    # the three tiers keep one unit per node
    tiers = [u.region_code for u in reg.units() if u.kind.is_tier]
    assert len(tiers) == len(set(tiers))
    # a copy from items() is the same registry
    assert Registry(tree, reg.items()).items() == reg.items()
    assert sum(reg.unit_counts().values()) == len(reg.units())
    for code in _NODES:
        assert reg.units_at(code) == [u for u in reg.units() if u.region_code == code]


def test_many_units_round_trip_through_items(tree: RegionTree) -> None:
    reg = Registry(tree)
    kinds = itertools.cycle(MANY_KINDS)
    for i, r in enumerate(itertools.islice(tree.descendants("3706"), 200)):
        cls = next(kinds)
        reg.add(cls(id=f"u{i}", name=f"{r.name}{cls.TIER}", region_code=r.code))
    copy = Registry(tree, reg.items())
    assert copy.units() == reg.units() and len(copy.units()) == 200
