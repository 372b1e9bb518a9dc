"""Team standards and station checklists as cited policies (standards.py), and Registry.gaps."""

from __future__ import annotations

from datetime import date, datetime

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zhiyuan.convert import from_json, from_toml, to_json, to_toml
from zhiyuan.errors import InvalidInput, InvalidValue, NotFound
from zhiyuan.hierarchy import (
    STATION_STANDARD_PROFILES,
    TEAM_STANDARD_PROFILES,
    Gap,
    Level,
    PracticeCenter,
    PracticePoint,
    PracticeStation,
    RegionTree,
    Registry,
    ServicePost,
    StandardItem,
    StationStandard,
    Team,
    TeamStandard,
    UnitKind,
    load_default,
)
from zhiyuan.profiles import Source, shipped_tables

BAYOU = STATION_STANDARD_PROFILES["zunyi"]
BAYOU_IDS = [i.id for i in BAYOU.items]
VILLAGE = "520302001001"  # 遵义/红花岗区/老城街道/大兴路社区
VILLAGE2 = "520302001002"


@pytest.fixture(scope="module")
def tree() -> RegionTree:
    return load_default()


# --- the shipped team standards -------------------------------------------------------------------


def test_yantai_and_xiaxian_are_shipped_with_their_sources() -> None:
    yantai = TEAM_STANDARD_PROFILES["yantai"]
    assert yantai.required == {Level.COUNTY: 17, Level.TOWNSHIP: 5, Level.VILLAGE: 3}
    assert yantai.source is not None and yantai.source.region_code == "370600000000"
    xia = TEAM_STANDARD_PROFILES["xiaxian"]
    assert xia.required == {Level.COUNTY: 8}
    assert xia.source is not None and xia.source.region_code == "140828000000"
    assert set(TEAM_STANDARD_PROFILES) == {"yantai", "xiaxian"}  # no 城阳 8+8+10 (see docstring)
    assert shipped_tables()["TEAM_STANDARD_PROFILES"] is TEAM_STANDARD_PROFILES
    assert shipped_tables()["STATION_STANDARD_PROFILES"] is STATION_STANDARD_PROFILES
    for p in (*TEAM_STANDARD_PROFILES.values(), *STATION_STANDARD_PROFILES.values()):
        assert p.source is not None and not p.source.verified  # seeds: reported, not read


def test_profiles_are_found_by_region() -> None:
    assert TEAM_STANDARD_PROFILES.for_region("370602001001").name == "烟台 17+N/5+N/3+N"
    assert TEAM_STANDARD_PROFILES.for_region("140828").name == "夏县 8+N"
    assert STATION_STANDARD_PROFILES.for_region(VILLAGE) is BAYOU
    for elsewhere in ("370202", "140802", "52"):  # 市南, 运城's 盐湖区, 贵州 itself
        with pytest.raises(NotFound):
            TEAM_STANDARD_PROFILES.for_region(elsewhere)


def test_a_standard_explains_itself_in_two_languages() -> None:
    text = TEAM_STANDARD_PROFILES["xiaxian"].explain()
    assert text.startswith("夏县 8+N: 队伍建设标准 / team standard, 自 2018-08-01 起施行")
    assert "夏县“8+N”" in text and "(转述 / reported)" in text
    mine = TeamStandard(required={"county": 3})
    assert mine.source is None and "none given" in mine.explain()
    assert "TeamStandard" in mine.explain()  # an unnamed standard is called by its class
    bayou = BAYOU.explain()
    assert bayou.startswith("遵义 八有: 阵地建设标准 / station standard") and "遵义市" in bayou


def test_there_is_no_default_team_standard() -> None:
    with pytest.raises(TypeError):
        TeamStandard()  # type: ignore[call-arg]
    with pytest.raises(InvalidInput):
        from_toml('name = "无数字"', TeamStandard)


@pytest.mark.parametrize("bad", [datetime(2024, 1, 1), "2024-01-01", None, date(1800, 1, 1)])
def test_effective_from_is_a_date(bad: object) -> None:
    for policy in (TEAM_STANDARD_PROFILES["yantai"], BAYOU):
        with pytest.raises(InvalidValue) as info:
            attrs.evolve(policy, effective_from=bad)
        assert info.value.field == "effective_from"


def test_a_source_is_a_source_or_its_fields() -> None:
    std = TeamStandard(required={}, source={"document": "《某某办法》", "issuer": "某某区文明办"})
    assert std.source == Source(document="《某某办法》", issuer="某某区文明办")
    with pytest.raises(InvalidValue) as info:
        TeamStandard(required={}, source={"document": "《某某办法》"})
    assert info.value.field == "source"


@pytest.mark.parametrize(
    "policy", [*TEAM_STANDARD_PROFILES.values(), *STATION_STANDARD_PROFILES.values()]
)
def test_every_profile_round_trips(policy: TeamStandard | StationStandard) -> None:
    cls = type(policy)
    assert from_json(to_json(policy), cls) == policy
    assert from_toml(to_toml(policy), cls) == policy


# --- the station checklist ----------------------------------------------------------------------


def test_bayou_has_eight_items() -> None:
    assert BAYOU_IDS == [
        "sign",
        "office",
        "team",
        "rules",
        "records",
        "projects",
        "activities",
        "culture_wall",
    ]
    assert [i.name for i in BAYOU.items][-1] == "有文化墙"
    assert BAYOU.kinds == frozenset({UnitKind.STATION})
    assert BAYOU.missing(BAYOU_IDS) == ()
    assert BAYOU.missing([]) == BAYOU.items
    assert [i.id for i in BAYOU.missing({"sign", "other"})] == BAYOU_IDS[1:]
    for bad in (None, "sign", [""]):
        with pytest.raises(InvalidValue) as info:
            BAYOU.missing(bad)  # type: ignore[arg-type]
        assert info.value.field == "has"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"items": []}, "items"),
        ({"items": "sign"}, "items"),
        ({"items": [{"id": "sign"}]}, "items"),
        ({"items": [BAYOU.items[0], BAYOU.items[0]]}, "items"),
        ({"items": BAYOU.items, "kinds": []}, "kinds"),
        ({"items": BAYOU.items, "kinds": ["site"]}, "kinds"),
        ({"items": BAYOU.items, "kinds": "station"}, "kinds"),
        ({"items": BAYOU.items, "name": 5}, "name"),
    ],
)
def test_a_bad_station_standard_names_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidValue) as info:
        StationStandard(**kwargs)  # type: ignore[arg-type]
    assert info.value.field == field


@pytest.mark.parametrize("field", ["id", "name", "name_en"])
def test_a_standard_item_needs_all_three_texts(field: str) -> None:
    kwargs = {"id": "sign", "name": "有标识牌", "name_en": "a sign", field: " "}
    with pytest.raises(InvalidValue) as info:
        StandardItem(**kwargs)
    assert info.value.field == field


def test_a_station_standard_loads_from_toml() -> None:
    std = from_toml(
        """
name = "两有"
kinds = ["station", "post"]
[[items]]
id = "sign"
name = "有标识牌"
name_en = "a sign"
[[items]]
id = "team"
name = "有固定队伍"
name_en = "a stable team"
""",
        StationStandard,
    )
    assert [i.id for i in std.items] == ["sign", "team"]
    assert std.kinds == frozenset({UnitKind.STATION, UnitKind.POST})
    assert std.effective_from == date(2018, 8, 1)
    with pytest.raises(InvalidInput):
        from_toml('name = "x"\nitems = []', StationStandard)


# --- gaps ---------------------------------------------------------------------------------------------


def test_gaps_name_what_each_unit_lacks(tree: RegionTree) -> None:
    reg = Registry(tree)
    reg.add(PracticeStation(id="full", name="全站", region_code=VILLAGE, has=BAYOU_IDS))
    reg.add(PracticeStation(id="bare", name="空站", region_code=VILLAGE2))
    reg.add(PracticePoint(id="p", name="点", region_code=VILLAGE))  # not a station: not judged
    reg.add(ServicePost(id="post", name="岗", region_code=VILLAGE, has=["sign"]))
    reg.add(PracticeCenter(id="c", name="中心", region_code="520302"))
    (gap,) = reg.gaps(BAYOU)
    assert gap.unit.id == "bare" and gap.missing == BAYOU.items and gap.total == 8
    assert str(gap).startswith("空站 (520302001002): 缺 8/8 项：有标识牌、有办公场所")
    assert "lacks 8 of 8: a sign, an office, a stable team" in str(gap)
    wider = attrs.evolve(BAYOU, kinds=["station", "post"])
    assert [(g.unit.id, len(g.missing)) for g in reg.gaps(wider)] == [("post", 7), ("bare", 8)]
    assert reg.gaps(BAYOU, within="520302001001") == []
    assert reg.gaps(BAYOU, within="3706") == []
    with pytest.raises(InvalidValue) as info:
        reg.gaps(TEAM_STANDARD_PROFILES["yantai"])  # type: ignore[arg-type]
    assert info.value.field == "standard"
    with pytest.raises(InvalidValue):
        reg.shortfalls(BAYOU)  # type: ignore[arg-type]


def test_a_gap_checks_its_fields() -> None:
    unit = PracticeStation(id="s", name="站", region_code=VILLAGE)
    with pytest.raises(InvalidValue) as info:
        Gap(unit=unit, missing=(), total=8)
    assert info.value.field == "missing"
    with pytest.raises(InvalidValue) as info:
        Gap(unit=unit, missing=BAYOU.items, total=3)
    assert info.value.field == "total"
    with pytest.raises(InvalidValue) as info:
        Gap(unit="s", missing=BAYOU.items, total=8)  # type: ignore[arg-type]
    assert info.value.field == "unit"


@given(st.lists(st.sets(st.sampled_from([*BAYOU_IDS, "extra"])), min_size=1, max_size=12))
@settings(max_examples=80)
def test_a_unit_has_a_gap_iff_it_lacks_an_item(holdings: list[set[str]]) -> None:
    tree = load_default()
    villages = [r.code for r in tree.descendants("520302", level=Level.VILLAGE)]
    reg = Registry(tree)
    for i, has in enumerate(holdings):
        reg.add(PracticeStation(id=f"s{i}", name="站", region_code=villages[i], has=has))
    gaps = {g.unit.id: g for g in reg.gaps(BAYOU)}
    for i, has in enumerate(holdings):
        lacking = [x for x in BAYOU_IDS if x not in has]
        if lacking:
            assert [m.id for m in gaps[f"s{i}"].missing] == lacking
        else:
            assert f"s{i}" not in gaps


# --- the team standard's numbers, and the +N ------------------------------------------------------


def test_xiaxian_asks_the_county_for_eight(tree: RegionTree) -> None:
    reg = Registry(
        tree, [PracticeCenter(id="c", name="夏县新时代文明实践中心", region_code="140828")]
    )
    for i in range(7):
        reg.add(Team(id=f"t{i}", name=f"队{i}", region_code="140828", kind="理论宣讲"))
    (s,) = reg.shortfalls(TEAM_STANDARD_PROFILES["xiaxian"])
    assert (s.have, s.need, s.short_by) == (7, 8, 1)
    for i in range(7, 12):  # the 8th meets it; 9–12 are the +N
        reg.add(Team(id=f"t{i}", name=f"队{i}", region_code="140828", kind="文化文艺"))
        assert reg.shortfalls(TEAM_STANDARD_PROFILES["xiaxian"]) == []
