"""The real NBS division data: the seed table of data/nbs/README.md, and every quirk a loader meets.

The whole-country 2023 tree (``nbs_tree``) is loaded once per session (conftest.py); the 2019
structure once for this module.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from zhiyuan.errors import InvalidValue
from zhiyuan.hierarchy import (
    AnomalyKind,
    Level,
    RegionCode,
    RegionDiff,
    RegionTree,
    load_default,
)
from zhiyuan.hierarchy._default import SEED_CITIES

P, C, K, T, V = Level.PROVINCE, Level.CITY, Level.COUNTY, Level.TOWNSHIP, Level.VILLAGE


@pytest.fixture(scope="module")
def nbs_tree_2019(nbs_dir: Path) -> RegionTree:
    return RegionTree.from_nbs_structure(nbs_dir / "structure_2019.csv.gz")


# --- the embedded seed trees: the README's seed table ----------------------------------------

# code: (counties, townships, villages) in 2023; None where the table has a dash.
SEED_2023 = {
    "3702": (10, 141, 2120),
    "370202": (None, 11, 50),
    "370214": (None, 9, 300),
    "370285": (None, 11, 182),
    "3706": (13, 159, 6509),
    "1408": (13, 161, 2395),
    "5203": (14, 254, 2093),
}
# The bracketed 2019 figures: (townships, villages).
SEED_2019 = {
    "3702": (145, 6720),
    "370202": (11, 50),
    "370214": (6, 228),
    "370285": (12, 896),
    "3706": (160, 6735),
    "1408": (162, 3153),
    "5203": (253, 2066),
}
URBAN_2023 = {"3702": 1195, "370202": 50, "370214": 272, "370285": 68, "3706": 595, "1408": 222}


@pytest.mark.parametrize("code", sorted(SEED_2023))
def test_seed_counts_2023(seed_tree: RegionTree, code: str) -> None:
    counties, townships, villages = SEED_2023[code]
    counts = seed_tree.counts(code)
    if counties is not None:
        assert counts[K] == counties
    assert counts[T] == townships
    assert counts[V] == villages


@pytest.mark.parametrize("code", sorted(SEED_2019))
def test_seed_counts_2019(seed_tree_2019: RegionTree, code: str) -> None:
    townships, villages = SEED_2019[code]
    counts = seed_tree_2019.counts(code)
    assert counts[T] == townships
    assert counts[V] == villages


@pytest.mark.parametrize("code", sorted(URBAN_2023))
def test_seed_urban_villages(seed_tree: RegionTree, code: str) -> None:
    # 0xx and 1xx village codes are 居委会 / 社区.
    urban = [r for r in seed_tree.descendants(code, level=V) if r.code[9] in "01"]
    assert len(urban) == URBAN_2023[code]


def test_seed_tree_shape(seed_tree: RegionTree) -> None:
    assert seed_tree.report.ok
    assert len(seed_tree) == 13889
    assert [r.name for r in seed_tree.roots()] == ["山西省", "山东省", "贵州省"]
    assert {c: seed_tree[c].name for c in SEED_CITIES} == SEED_CITIES
    assert [r.code for r in seed_tree.children("37")] == ["370200000000", "370600000000"]
    assert seed_tree.path("370202") == "山东省/青岛市/市南区"
    assert seed_tree.path("370214008") == "山东省/青岛市/城阳区/惜福镇街道"
    assert RegionCode.parse("370214008").township_kind == "街道"  # 惜福镇街道 is a 街道
    # 烟台's counties include two development zones.
    assert {"370671000000", "370676000000"} <= {r.code for r in seed_tree.children("3706")}
    assert seed_tree["370671"].name == "烟台高新技术产业开发区"
    # 市南区's 11 townships are all 街道.
    kinds = {RegionCode(r.code).township_kind for r in seed_tree.children("370202")}
    assert kinds == {"街道"}


def test_seed_tree_2019_has_codes_only(seed_tree_2019: RegionTree) -> None:
    assert seed_tree_2019.report.ok
    assert all(r.name is None for r in seed_tree_2019)
    assert [r.code for r in seed_tree_2019.roots()] == [
        "140000000000",
        "370000000000",
        "520000000000",
    ]
    assert seed_tree_2019.path("370202") == "370000000000/370200000000/370202000000"


def test_load_default_is_cached_and_checks_the_vintage() -> None:
    assert load_default() is load_default()
    assert load_default(2019) is load_default(2019)
    assert list(load_default(2023)) == list(load_default())
    with pytest.raises(InvalidValue, match="vintage"):
        load_default(2020)


def test_seed_tree_equals_the_same_cities_cut_from_the_whole_country(
    seed_tree: RegionTree, nbs_tree: RegionTree
) -> None:
    cut = nbs_tree.prune(*SEED_CITIES)
    assert list(cut) == list(seed_tree)


def test_seed_tree_2019_equals_the_same_cities_cut_from_the_2019_structure(
    seed_tree_2019: RegionTree, nbs_tree_2019: RegionTree
) -> None:
    cut = nbs_tree_2019.prune(*SEED_CITIES)
    assert list(cut) == list(seed_tree_2019)


def test_diff_2019_to_2023_chengyang(seed_tree: RegionTree, seed_tree_2019: RegionTree) -> None:
    old, new = seed_tree_2019.subtree("370214"), seed_tree.subtree("370214")
    d = old.diff(new)
    assert d.added and d.removed
    assert d.renamed == ()  # the 2019 side has no names
    assert [c for c in d.added if RegionCode(c).level is T] == [
        "370214009000",
        "370214010000",
        "370214400000",
    ]
    assert [c for c in d.removed if RegionCode(c).level is T] == []
    assert len(set(old.codes) | set(d.added)) - len(d.removed) == len(new)
    assert set(new.codes) == (set(old.codes) - set(d.removed)) | set(d.added)
    assert all(new[c].name for c in d.added)  # the 2023 side names everything it adds
    assert new["370214009"].name == "红岛街道"
    assert new["370214400"].name == "青岛高新技术产业开发区"


def test_diff_2019_to_2023_whole_seed(seed_tree: RegionTree, seed_tree_2019: RegionTree) -> None:
    d = seed_tree_2019.diff(seed_tree)
    assert set(seed_tree.codes) == (set(seed_tree_2019.codes) - set(d.removed)) | set(d.added)
    assert set(d.added).isdisjoint(seed_tree_2019.codes)
    assert set(d.removed).isdisjoint(seed_tree.codes)
    assert list(d.added) == sorted(d.added)
    assert seed_tree.diff(seed_tree_2019) == RegionDiff(
        added=d.removed, removed=d.added, renamed=()
    )


# --- the whole country -----------------------------------------------------------------------


def test_whole_country_size_and_report(nbs_tree: RegionTree) -> None:
    assert len(nbs_tree) == 665_271  # 665,276 rows minus 5 collisions
    report = nbs_tree.report
    assert report.counts() == {AnomalyKind.COLLISION: 5}
    assert sorted(a.code for a in report.anomalies) == [
        "350527000",
        "350527000000",
        "441900",
        "442000",
        "460400",
    ]
    assert nbs_tree.counts() == {P: 31, C: 342, K: 2975, T: 41351, V: 620572}
    assert len(nbs_tree.roots()) == 31
    assert all(r.level is P for r in nbs_tree.roots())


@pytest.mark.parametrize(
    ("code", "counties", "townships", "villages", "urban"),
    [("37", 151, 1853, 62074, 6977), ("14", 121, 1352, 21895, 2957), ("52", 88, 1510, 17964, 4275)],
)
def test_whole_country_province_rows_of_the_seed_table(
    nbs_tree: RegionTree, code: str, counties: int, townships: int, villages: int, urban: int
) -> None:
    counts = nbs_tree.counts(code)
    assert (counts[K], counts[T], counts[V]) == (counties, townships, villages)
    assert sum(1 for r in nbs_tree.descendants(code, level=V) if r.code[9] in "01") == urban


@pytest.mark.parametrize(
    ("code", "name", "path"),
    [
        ("420602006207", "莫𡐓村委会", "湖北省/襄阳市/襄城区/余家湖街道/莫𡐓村委会"),
        ("441424103203", "輋𣒍村委会", None),
        ("451302107210", "那𡌶村委会", None),
        ("420684103229", "高\ue170村委会", None),
        ("450681101201", "\ue08b尾村村委会", None),
        ("445321101209", "(土郎)头村民委员会", None),
        ("331121104234", "上(田本)村村委会", None),
        ("230321500501", "八五一０农场杨木林子管理区", None),
        ("230381500", "八五〇农场", "黑龙江省/鸡西市/虎林市/八五〇农场"),
        ("110108001002", "翠微路21号社区居委会", None),
        ("340303402019", "虎山院社区居委会（筹备组））", None),
        ("632723104209", "乐荣村（十村)委会", None),
        ("220802006", "（工业园区）城南街道", None),
        (
            "150627100017",
            "内蒙古自治区鄂尔多斯市伊金霍洛旗阿勒腾席热镇水岸花园社区居民委员会",
            None,
        ),
        ("5002", "县", "重庆市/县"),
        ("1101", "市辖区", "北京市/市辖区"),
        ("620201", "嘉峪关市", "甘肃省/嘉峪关市/嘉峪关市"),
        ("469001198", "县直辖村级区划", None),
        ("110112009498", "文景街道虚拟社区", None),
        ("370214008", "惜福镇街道", "山东省/青岛市/城阳区/惜福镇街道"),
        ("341321102001", "振兴社区村委会", None),
    ],
)
def test_quirk_names_load_intact(
    nbs_tree: RegionTree, code: str, name: str, path: str | None
) -> None:
    region = nbs_tree[code]
    assert region.name == name
    if path is not None:
        assert nbs_tree.path(code) == path
    assert nbs_tree.path(code).endswith("/" + name) or nbs_tree.path(code) == name


def test_non_bmp_and_private_use_characters_are_kept(nbs_tree: RegionTree) -> None:
    name = nbs_tree["420602006207"].name
    assert name is not None
    assert len(name) == 5
    assert ord(name[1]) == 0x21413  # 𡐓, outside the BMP
    assert nbs_tree["420684103229"].name == "高\ue170村委会"
    assert [m.region.code for m in nbs_tree.find("莫𡐓村委会")] == ["420602006207"]


def test_collisions_resolve_to_one_region_each(nbs_tree: RegionTree) -> None:
    for city in ("4419", "4420", "4604"):
        region = nbs_tree[city]
        assert nbs_tree[city + "00"] == region
        assert region.level is C
        # No county level: the townships hang straight under the city.
        assert {r.level for r in nbs_tree.children(city)} == {T}
    assert nbs_tree["4419"].name == "东莞市"
    assert nbs_tree.path("441900003") == "广东省/东莞市/东城街道"
    jinmen = nbs_tree["350527"]
    assert jinmen == nbs_tree["350527000"] == nbs_tree["350527000000"]
    assert (jinmen.name, jinmen.level) == ("金门县", K)
    assert nbs_tree.path("350527") == "福建省/泉州市/金门县"
    assert nbs_tree.children("350527") == []


def test_levels_have_children_except_the_collisions(nbs_tree: RegionTree) -> None:
    # Every city has counties, every county townships, every township villages (README), except
    # where a collision merged the level away: 东莞/中山/儋州 skip counties, 金门 is bare.
    codes, levels = nbs_tree.codes, [r.level for r in nbs_tree]
    kids: Counter[str] = Counter()
    child_levels: dict[str, set[Level]] = {}
    for code, _, parent in nbs_tree.to_records():
        if parent is not None:
            kids[parent] += 1
            child_levels.setdefault(parent, set()).add(RegionCode(code).level)
    childless = [c for c, lv in zip(codes, levels, strict=True) if lv is not V and not kids[c]]
    assert childless == ["350527000000"]
    skipping = sorted(
        c
        for c, lv in zip(codes, levels, strict=True)
        if lv is not V and child_levels.get(c, set()) - {Level.from_depth(lv.depth + 1)}
    )
    assert skipping == ["441900000000", "442000000000", "460400000000"]


def test_no_siblings_share_a_name(nbs_tree: RegionTree) -> None:
    seen: set[tuple[str | None, str | None]] = set()
    for _, name, parent in nbs_tree.to_records():
        key = (parent, name)
        assert key not in seen
        seen.add(key)


@pytest.mark.parametrize(
    ("name", "n"),
    [
        ("城关镇", 88),
        ("太平镇", 50),
        ("东城街道", 39),
        ("鼓楼区", 4),
        ("市中区", 4),
        ("和平村委会", 274),
    ],
)
def test_repeated_names(nbs_tree: RegionTree, name: str, n: int) -> None:
    found = nbs_tree.find(name)
    assert len(found) == n
    assert all(m.region.name == name for m in found)
    assert len({m.path for m in found}) == n  # every namesake is told apart by its path
    assert all(m.path == nbs_tree.path(m.region.code) for m in found)
    assert [m.region.code for m in found] == sorted(m.region.code for m in found)


def test_find_chengguan_within_a_province(nbs_tree: RegionTree) -> None:
    everywhere = nbs_tree.find("城关镇")
    in_henan = nbs_tree.find("城关镇", within="41")
    assert in_henan == [m for m in everywhere if m.region.code.startswith("41")]
    assert 0 < len(in_henan) < 88
    assert all(m.path.startswith("河南省/") for m in in_henan)


def test_find_without_suffix_widens(nbs_tree: RegionTree) -> None:
    found = nbs_tree.find("城关")
    names = Counter(m.region.name for m in found)
    assert names["城关镇"] == 88
    assert len(found) > 88
    assert all(n is not None and n.startswith("城关") for n in names)


def test_virtual_villages(nbs_tree: RegionTree) -> None:
    # The README counts 1,447 virtual villages: 757 …虚拟社区 at 498 and 690 …虚拟生活区 at 598.
    virtual = [(c, n) for c, n, _ in nbs_tree.to_records() if n and "虚拟" in n]
    assert len(virtual) == 1447
    assert Counter(c[9:] for c, _ in virtual) == {"498": 757, "598": 690}
    assert all(n.endswith("虚拟社区") for c, n in virtual if c.endswith("498"))
    assert all(n.endswith("虚拟生活区") for c, n in virtual if c.endswith("598"))
    assert {RegionCode(c).level for c, _ in virtual} == {V}


def test_longest_and_shortest_names(nbs_tree: RegionTree) -> None:
    names = {c: n for c, n, _ in nbs_tree.to_records() if n is not None}
    longest = max(len(n) for n in names.values())
    assert longest == 33
    assert sorted(c for c, n in names.items() if len(n) == longest) == [
        "150423400498",
        "150627100017",
    ]
    assert [c for c, n in names.items() if len(n) == 1] == ["500200000000"]


def test_largest_subtrees(nbs_tree: RegionTree) -> None:
    assert nbs_tree.counts("310115")[V] == 1526
    assert nbs_tree["310115"].name == "浦东新区"
    counties = [r.code for r in nbs_tree if r.level is K]
    assert max(counties, key=lambda c: nbs_tree.counts(c).get(V, 0)) == "310115000000"
    townships = [r.code for r in nbs_tree if r.level is T]
    sizes = {c: nbs_tree.subtree_size(c) - 1 for c in townships}
    assert max(sizes, key=sizes.__getitem__) == "370704008000"
    assert sizes["370704008000"] == 170
    # README: 1,630 townships have a single village. One of them is 金门's placeholder township,
    # which merges into the county (collision), so the tree has 1,629.
    assert sum(1 for n in sizes.values() if n == 1) == 1629
    assert "350527000000" not in sizes


def test_placeholder_townships(nbs_tree: RegionTree) -> None:
    placeholders = [
        r for r in nbs_tree if r.level is T and r.name and r.name.endswith("直辖村级区划")
    ]
    assert len(placeholders) == 11
    assert {r.code[6:9] for r in placeholders} == {"198"}
    assert all(nbs_tree.children(r.code) for r in placeholders)


def test_whole_country_lookups(nbs_tree: RegionTree) -> None:
    assert nbs_tree.is_within("370602001001", "37")
    assert not nbs_tree.is_within("370602001001", "44")
    assert nbs_tree.lca("370202", "370602").name == "山东省"  # type: ignore[union-attr]
    assert nbs_tree.lca("370602", "110101") is None
    totals = nbs_tree.rollup({"370602001001": 5, "110101001001": 7})
    assert len(totals) == 10
    assert totals["370000000000"] == 5
    assert totals["110000000000"] == 7
    dense = nbs_tree.rollup(dict.fromkeys(nbs_tree.codes[:100_000], 1))
    assert sum(dense[r.code] for r in nbs_tree.roots() if r.code in dense) == 100_000


# --- 2019, codes only ------------------------------------------------------------------------


def test_whole_country_2019_structure(nbs_tree_2019: RegionTree) -> None:
    tree = nbs_tree_2019
    assert len(tree) == 704_750
    assert tree.report.ok
    assert tree.counts() == {P: 31, C: 342, K: 3272, T: 43104, V: 658001}
    assert all(r.name is None for r in tree.roots())
    assert tree["370602001001"].name is None
    assert len(tree.roots()) == 31
    for code, (townships, villages) in {
        "37": (1862, 77299),
        "14": (1488, 27966),
        "52": (1514, 17696),
    }.items():
        counts = tree.counts(code)
        assert (counts[T], counts[V]) == (townships, villages)


def test_whole_country_diff_2019_to_2023(nbs_tree: RegionTree, nbs_tree_2019: RegionTree) -> None:
    d = nbs_tree_2019.diff(nbs_tree)
    added = Counter(RegionCode(c).level for c in d.added)
    removed = Counter(RegionCode(c).level for c in d.removed)
    # README: 71,913 villages and 2,682 townships only in 2023; the one fewer of each here is 金门's
    # placeholder village and township, which collide with the county and merge into it.
    assert (added[V], added[T]) == (71_912, 2_681)
    assert (removed[V], removed[T]) == (109_341, 4_434)
    assert d.renamed == ()
    both_villages = nbs_tree.counts()[V] - added[V]
    assert both_villages == 548_660
