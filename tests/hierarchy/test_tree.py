"""RegionTree: handmade trees, every anomaly kind, and properties checked against a brute-force model."""

from __future__ import annotations

import csv
import gzip
from collections.abc import Iterable, Sequence
from pathlib import Path

import attrs
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from strategies import TreeRecord, code_forms, region_codes, tree_codes, tree_records
from zhiyuan.errors import InvalidInput, InvalidValue, NotFound, UnknownRegion, ZhiyuanError
from zhiyuan.hierarchy import (
    Anomaly,
    AnomalyKind,
    Level,
    Match,
    Region,
    RegionCode,
    RegionDiff,
    RegionTree,
    ValidationReport,
    strip_suffix,
)
from zhiyuan.hierarchy.codes import level_of, normalize_code, parent_of

# --- a brute-force model: the parent of a code is its nearest structural ancestor present ------


class Model:
    """What a tree over ``names`` must look like, computed the slow, obvious way."""

    def __init__(self, names: dict[str, str | None]) -> None:
        self.names = names
        self.codes = sorted(names)
        self.parent: dict[str, str | None] = {}
        for c in self.codes:
            p = parent_of(c)
            while p is not None and p not in names:
                p = parent_of(p)
            self.parent[c] = p

    def ancestors(self, c: str) -> list[str]:
        out = []
        p = self.parent[c]
        while p is not None:
            out.append(p)
            p = self.parent[p]
        return out

    def within(self, c: str, a: str) -> bool:
        return c == a or a in self.ancestors(c)

    def subtree(self, a: str) -> list[str]:
        return [c for c in self.codes if self.within(c, a)]

    def children(self, a: str) -> list[str]:
        return [c for c in self.codes if self.parent[c] == a]

    def regions(self) -> list[Region]:
        return [
            Region(code=c, name=self.names[c], level=level_of(c), parent_code=self.parent[c])
            for c in self.codes
        ]


def model_of(records: Iterable[TreeRecord]) -> Model:
    return Model({normalize_code(code): name for code, name, _ in records})


def codes_of(regions: Iterable[Region]) -> list[str]:
    return [r.code for r in regions]


def kinds(tree: RegionTree) -> list[AnomalyKind]:
    return [a.kind for a in tree.report.anomalies]


# --- a small handmade tree -------------------------------------------------------------------

ROWS: list[TreeRecord] = [
    ("37", "山东省", None),
    ("3706", "烟台市", "37"),
    ("370602", "芝罘区", "3706"),
    ("370602001", "向阳街道", "370602"),
    ("370602001001", "和平村委会", "370602001"),
    ("370602001002", "城关社区居委会", "370602001"),
    ("370602100", "城关镇", "370602"),
    ("370602100201", "和平村委会", "370602100"),
    ("370613", "莱山区", "3706"),
    ("370613100", "城关镇", "370613"),
    ("3702", "青岛市", "37"),
    ("370202", "市南区", "3702"),
    ("370202001", "香港中路街道", "370202"),
    ("14", "山西省", None),
    ("1408", "运城市", "14"),
    ("140802", "盐湖区", "1408"),
    ("140802100", "城关镇", "140802"),
]

PREORDER = [
    "140000000000",
    "140800000000",
    "140802000000",
    "140802100000",
    "370000000000",
    "370200000000",
    "370202000000",
    "370202001000",
    "370600000000",
    "370602000000",
    "370602001000",
    "370602001001",
    "370602001002",
    "370602100000",
    "370602100201",
    "370613000000",
    "370613100000",
]


@pytest.fixture(scope="module")
def small() -> RegionTree:
    return RegionTree.from_records(ROWS)


def test_small_tree_loads_cleanly(small: RegionTree) -> None:
    assert len(small) == len(ROWS)
    assert small.report.ok
    assert small.report == ValidationReport()
    assert str(small.report) == "no anomalies / 无异常"
    assert list(small.codes) == PREORDER
    assert codes_of(small) == PREORDER
    assert list(small) == model_of(ROWS).regions()


@given(st.permutations(ROWS))
def test_any_row_order_gives_the_same_tree(rows: list[TreeRecord]) -> None:
    tree = RegionTree.from_records(rows)
    assert list(tree) == model_of(ROWS).regions()
    assert tree.report.ok


def test_rows_may_be_iterators_and_use_ints(small: RegionTree) -> None:
    rows = ((int(c), n, int(p) if p else None) for c, n, p in ROWS)  # type: ignore[call-overload]
    tree = RegionTree.from_records(rows)
    assert list(tree) == list(small)
    assert tree.report.ok


def test_region_values(small: RegionTree) -> None:
    r = small["370602"]
    assert r == Region(
        code="370602000000", name="芝罘区", level=Level.COUNTY, parent_code="370600000000"
    )
    assert r.short == "370602"
    assert str(r) == "芝罘区 (370602)"
    assert str(Region(code="370000000000", level=Level.PROVINCE)) == "? (37)"
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        r.name = "x"  # type: ignore[misc]


@given(st.sampled_from(PREORDER).flatmap(lambda c: st.tuples(st.just(c), code_forms(c))))
def test_getitem_with_any_code_form(pair: tuple[str, object]) -> None:
    tree = RegionTree.from_records(ROWS)
    code, form = pair
    assert tree[form].code == code
    assert form in tree
    assert tree.get(form) == tree[code]
    assert tree.level(form) is level_of(code)
    assert tree.is_within(form, code)


@pytest.mark.parametrize("absent", ["3707", "370603", "370602002", "370602001003", "11", 3707])
def test_absent_code_is_unknown_region(small: RegionTree, absent: object) -> None:
    with pytest.raises(UnknownRegion) as exc:
        small[absent]
    assert exc.value.key == normalize_code(absent)
    assert isinstance(exc.value, KeyError)
    assert absent not in small
    assert small.get(absent) is None
    for method in (small.children, small.ancestors, small.path, small.parent, small.level):
        with pytest.raises(UnknownRegion):
            method(absent)
    with pytest.raises(UnknownRegion):
        small.is_within(absent, "37")
    with pytest.raises(UnknownRegion):
        small.is_within("37", absent)


@pytest.mark.parametrize("bad", ["37x", "370", "", "３７", None, True, 3.7, ["37"], "00"])
def test_malformed_code_is_invalid_value(small: RegionTree, bad: object) -> None:
    with pytest.raises(InvalidValue):
        small[bad]
    with pytest.raises(InvalidValue):
        small.get(bad)
    with pytest.raises(InvalidValue):
        small.is_within(bad, "37")
    with pytest.raises(InvalidValue):
        small.is_within("37", bad)
    with pytest.raises(InvalidValue):
        small.subtree(bad)
    assert bad not in small


def test_roots_parent_level(small: RegionTree) -> None:
    assert codes_of(small.roots()) == ["140000000000", "370000000000"]
    assert small.parent("37") is None
    assert small.parent("370602001") == small["370602"]
    assert small.level("370602001001") is Level.VILLAGE


def test_children_in_code_order(small: RegionTree) -> None:
    assert [r.name for r in small.children("37")] == ["青岛市", "烟台市"]
    assert [r.name for r in small.children("370602")] == ["向阳街道", "城关镇"]
    assert small.children("370602001001") == []


def test_descendants_preorder_and_by_level(small: RegionTree) -> None:
    assert codes_of(small.descendants("370602")) == PREORDER[10:15]
    assert [r.name for r in small.descendants("37", level=Level.TOWNSHIP)] == [
        "香港中路街道",
        "向阳街道",
        "城关镇",
        "城关镇",
    ]
    assert list(small.descendants("37", level=Level.PROVINCE)) == []
    assert list(small.descendants("370602001001")) == []


def test_ancestors_and_path(small: RegionTree) -> None:
    assert [r.name for r in small.ancestors("370602001001")] == [
        "向阳街道",
        "芝罘区",
        "烟台市",
        "山东省",
    ]
    assert small.ancestors("37") == []
    assert small.path("370602001001") == "山东省/烟台市/芝罘区/向阳街道/和平村委会"
    assert small.path(370602001001, sep=" > ") == "山东省 > 烟台市 > 芝罘区 > 向阳街道 > 和平村委会"
    assert small.path("14") == "山西省"


def test_is_within_and_lca(small: RegionTree) -> None:
    assert small.is_within("370602001001", "3706")
    assert small.is_within("3706", "3706")
    assert not small.is_within("3706", "370602001001")
    assert not small.is_within("370602001001", "3702")
    assert small.lca("370602001001", "370613100").name == "烟台市"  # type: ignore[union-attr]
    assert small.lca("370602001001", "370202").name == "山东省"  # type: ignore[union-attr]
    assert small.lca("370602", "370602001001").name == "芝罘区"  # type: ignore[union-attr]
    assert small.lca("3706", "3706").name == "烟台市"  # type: ignore[union-attr]
    assert small.lca("370602", "1408") is None


def test_counts_and_subtree_size(small: RegionTree) -> None:
    assert small.counts() == {
        Level.PROVINCE: 2,
        Level.CITY: 3,
        Level.COUNTY: 4,
        Level.TOWNSHIP: 5,
        Level.VILLAGE: 3,
    }
    assert small.counts("3706") == {
        Level.CITY: 1,
        Level.COUNTY: 2,
        Level.TOWNSHIP: 3,
        Level.VILLAGE: 3,
    }
    assert small.counts("370602001001") == {Level.VILLAGE: 1}
    assert small.subtree_size("3706") == 9
    assert small.subtree_size("14") == 4
    assert small.subtree_size("370602001001") == 1
    assert repr(small) == (
        "<RegionTree 17 regions: province=2, city=3, county=4, township=5, village=3>"
    )


def test_subtree(small: RegionTree) -> None:
    sub = small.subtree("370602")
    assert codes_of(sub) == PREORDER[9:15]
    assert codes_of(sub.roots()) == ["370602000000"]
    assert sub.parent("370602") is None
    assert sub.path("370602001001") == "芝罘区/向阳街道/和平村委会"
    assert sub.report.ok
    assert "3706" not in sub
    assert len(small) == 17  # the original is untouched


def test_prune_keeps_the_subtrees_and_their_ancestors(small: RegionTree) -> None:
    pruned = small.prune("370602001", "370202")
    assert codes_of(pruned) == [
        "370000000000",
        "370200000000",
        "370202000000",
        "370202001000",
        "370600000000",
        "370602000000",
        "370602001000",
        "370602001001",
        "370602001002",
    ]
    assert pruned.path("370602001002") == "山东省/烟台市/芝罘区/向阳街道/城关社区居委会"
    assert pruned.report.ok
    assert len(small.prune()) == 0
    assert codes_of(small.prune("3706", "370602")) == codes_of(small.prune("3706"))
    assert len(small.prune("14", "37")) == len(small)


# --- find ------------------------------------------------------------------------------------


def test_find_exact_returns_every_namesake_with_its_path(small: RegionTree) -> None:
    found = small.find("城关镇")
    assert [m.path for m in found] == [
        "山西省/运城市/盐湖区/城关镇",
        "山东省/烟台市/芝罘区/城关镇",
        "山东省/烟台市/莱山区/城关镇",
    ]
    assert [m.region.code for m in found] == ["140802100000", "370602100000", "370613100000"]
    assert all(isinstance(m, Match) for m in found)
    assert str(found[1]) == "山东省/烟台市/芝罘区/城关镇 (370602100)"


def test_find_without_suffix(small: RegionTree) -> None:
    assert [m.region.name for m in small.find("城关")] == [
        "城关镇",
        "城关社区居委会",
        "城关镇",
        "城关镇",
    ]
    assert [m.path for m in small.find("芝罘")] == ["山东省/烟台市/芝罘区"]
    # 和平村 is not a name here; without its suffix it finds both 和平村委会.
    assert [m.region.code for m in small.find("和平村")] == ["370602001001", "370602100201"]
    # An exact match wins over suffix-stripped ones.
    assert [m.region.code for m in small.find("和平村委会")] == ["370602001001", "370602100201"]


def test_find_within_and_edge_cases(small: RegionTree) -> None:
    assert [m.region.code for m in small.find("城关镇", within="3706")] == [
        "370602100000",
        "370613100000",
    ]
    assert small.find("城关镇", within="370613100") == [small.find("城关镇")[2]]
    assert small.find("城关镇", within="3702") == []
    assert small.find("  城关镇\n") == small.find("城关镇")
    assert small.find("北京市") == []
    with pytest.raises(InvalidValue):
        small.find("")
    with pytest.raises(InvalidValue):
        small.find("   ")
    with pytest.raises(UnknownRegion):
        small.find("城关镇", within="3707")


@pytest.mark.parametrize(
    ("name", "stripped"),
    [
        ("城关镇", "城关"),
        ("和平村委会", "和平"),
        ("和平村民委员会", "和平"),
        ("水岸花园社区居民委员会", "水岸花园"),
        ("城关社区居委会", "城关"),
        ("翠微路21号社区居委会", "翠微路21号"),
        ("芝罘区", "芝罘"),
        ("山东省", "山东"),
        ("内蒙古自治区", "内蒙古"),
        ("延边朝鲜族自治州", "延边朝鲜族"),
        ("东城街道", "东城"),
        ("文景街道虚拟社区", "文景街道虚拟"),
        ("和平村", "和平"),
        ("县", "县"),
        ("市辖区", "市辖"),
        ("八五〇农场", "八五〇农场"),
        ("", ""),
    ],
)
def test_strip_suffix(name: str, stripped: str) -> None:
    assert strip_suffix(name) == stripped


# --- rollup ----------------------------------------------------------------------------------


def test_rollup_small(small: RegionTree) -> None:
    totals = small.rollup({"370602001001": 5, "370602100201": 7, "3702": 1})
    assert totals == {
        "370000000000": 13,
        "370200000000": 1,
        "370600000000": 12,
        "370602000000": 12,
        "370602001000": 5,
        "370602001001": 5,
        "370602100000": 7,
        "370602100201": 7,
    }
    assert list(totals) == sorted(totals)  # preorder


def test_rollup_sums_repeated_forms_of_one_code(small: RegionTree) -> None:
    totals = small.rollup({"3706": 1, "370600000000": 2, 3706: 4})
    assert totals == {"370000000000": 7, "370600000000": 7}


def test_rollup_accepts_pairs_with_repeats(small: RegionTree) -> None:
    assert small.rollup([("370602", 2), ("370602", 3), ("14", 1)]) == small.rollup(
        {"370602": 5, "14": 1}
    )


def test_rollup_floats_zero_and_empty(small: RegionTree) -> None:
    assert small.rollup({}) == {}
    assert small.rollup({"14": 0}) == {"140000000000": 0}
    assert small.rollup({"1408": 0.5, "140802100": 0.25}) == {
        "140000000000": 0.75,
        "140800000000": 0.75,
        "140802000000": 0.25,
        "140802100000": 0.25,
    }


def test_rollup_unknown_code_raises(small: RegionTree) -> None:
    with pytest.raises(UnknownRegion):
        small.rollup({"370602001001": 5, "3707": 1})
    with pytest.raises(InvalidValue):
        small.rollup({"37x": 1})


def brute_rollup(model: Model, values: dict[str, int]) -> dict[str, int]:
    out = {}
    for a in model.codes:
        inside = [c for c in values if model.within(c, a)]
        if inside:
            out[a] = sum(values[c] for c in inside)
    return out


@pytest.mark.parametrize("n_values", [1, 5, 40, 900, 13889])
def test_rollup_on_the_seed_tree_dense_and_sparse(seed_tree: RegionTree, n_values: int) -> None:
    # Few values take the sparse path, many the dense one; both must agree with a brute force.
    codes = list(seed_tree.codes)
    step = max(1, len(codes) // n_values)
    values = {codes[i]: (i % 7) - 2 for i in range(0, len(codes), step)}
    totals = seed_tree.rollup(values)
    expected: dict[str, int] = {}
    for code, v in values.items():
        for c in [code, *codes_of(seed_tree.ancestors(code))]:
            expected[c] = expected.get(c, 0) + v
    assert totals == expected
    assert list(totals) == [c for c in codes if c in expected]
    assert sum(v for c, v in totals.items() if seed_tree.parent(c) is None) == sum(values.values())


# --- diff and to_records ---------------------------------------------------------------------


def test_diff(small: RegionTree) -> None:
    later = RegionTree.from_records(
        [row for row in ROWS if row[0] != "370613100"]
        + [("370602002", "新街道", "370602"), ("3707", "潍坊市", "37")]
    )
    renamed = RegionTree.from_records(
        [(c, "芝罘新区" if c == "370602" else n, p) for c, n, p in ROWS]
    )
    d = small.diff(later)
    assert d == RegionDiff(
        added=("370602002000", "370700000000"), removed=("370613100000",), renamed=()
    )
    assert str(d) == "added 2 / 新增, removed 1 / 撤销, renamed 0 / 更名"
    assert small.diff(renamed).renamed == (("370602000000", "芝罘区", "芝罘新区"),)
    assert small.diff(small) == RegionDiff()
    codes_only = RegionTree.from_records([(c, None, p) for c, _, p in ROWS])
    assert small.diff(codes_only) == RegionDiff()  # no names on one side: nothing renamed
    assert later.diff(small) == RegionDiff(added=d.removed, removed=d.added, renamed=())


def test_to_records_round_trip(small: RegionTree) -> None:
    rows = list(small.to_records())
    assert rows[0] == ("140000000000", "山西省", None)
    assert rows[3] == ("140802100000", "城关镇", "140802000000")
    again = RegionTree.from_records(rows)
    assert list(again) == list(small)
    assert again.report.ok


# --- anomalies -------------------------------------------------------------------------------


def test_bad_codes_are_skipped_and_reported() -> None:
    tree = RegionTree.from_records(
        [("37", "山东省", None), ("37x", "坏", None), ("370", "坏", None), (True, "坏", None),
         ("３７０６", "全角", "37"), ("00", "零", None)]
    )  # fmt: skip
    assert codes_of(tree) == ["370000000000"]
    assert kinds(tree) == [AnomalyKind.BAD_CODE] * 5
    assert [a.code for a in tree.report.anomalies] == ["37x", "370", "True", "３７０６", "00"]
    assert "2, 4, 6, 9 or 12 digits" in tree.report.anomalies[0].detail


def test_duplicate_keeps_the_first_row() -> None:
    tree = RegionTree.from_records(
        [("37", "山东省", None), ("3706", "烟台市", "37"), ("3706", "烟台", "37")]
    )
    assert tree["3706"].name == "烟台市"
    assert len(tree) == 2
    (a,) = tree.report.anomalies
    assert a.kind is AnomalyKind.DUPLICATE
    assert a.code == "3706"
    assert "'烟台市'" in a.detail
    assert "'烟台'" in a.detail
    assert str(a).startswith("duplicate 3706: ")


@pytest.mark.parametrize(
    "rows",
    [
        [("44", "广东省", None), ("4419", "东莞市", "44"), ("441900", "东莞", "4419"),
         ("441900003", "东城街道", "441900")],
        [("441900003", "东城街道", "441900"), ("441900", "东莞", "4419"),
         ("4419", "东莞市", "44"), ("44", "广东省", None)],
    ],
)  # fmt: skip
def test_collision_dongguan_keeps_the_city_in_either_order(rows: list[TreeRecord]) -> None:
    tree = RegionTree.from_records(rows)
    assert len(tree) == 3
    assert kinds(tree) == [AnomalyKind.COLLISION]
    dg = tree["4419"]
    assert dg == tree["441900"]
    assert dg.name == "东莞市"  # the 4-digit row matches the city level of 441900000000
    assert dg.level is Level.CITY
    assert dg.parent_code == "440000000000"
    assert tree.path("441900003") == "广东省/东莞市/东城街道"
    assert tree.parent("441900003") == dg
    assert "441900000000" in tree.report.anomalies[0].detail


@pytest.mark.parametrize("order", [[0, 1, 2, 3, 4], [4, 3, 2, 1, 0], [0, 1, 4, 2, 3]])
def test_collision_jinmen_three_rows_make_one_county(order: list[int]) -> None:
    rows: list[TreeRecord] = [
        ("35", "福建省", None),
        ("3505", "泉州市", "35"),
        ("350527", "金门县", "3505"),
        ("350527000", "金门县镇", "350527"),
        ("350527000000", "金门县村", "350527000"),
    ]
    tree = RegionTree.from_records([rows[i] for i in order])
    assert kinds(tree) == [AnomalyKind.COLLISION, AnomalyKind.COLLISION]
    assert len(tree) == 3
    county = tree["350527"]
    assert county == tree["350527000"] == tree["350527000000"]
    assert county.name == "金门县"  # the 6-digit row matches the county level
    assert county.level is Level.COUNTY
    assert county.parent_code == "350500000000"
    assert tree.children("350527") == []


def test_orphan_hangs_under_the_nearest_present_ancestor() -> None:
    tree = RegionTree.from_records(
        [("37", "山东省", None), ("370602", "芝罘区", "3706"), ("370602001", "向阳街道", "370602")]
    )
    assert kinds(tree) == [AnomalyKind.ORPHAN]
    (a,) = tree.report.anomalies
    assert a.code == "370602"
    assert a.detail == (
        "上级 370600000000 不存在，挂在 370000000000 下 / "
        "parent 370600000000 is missing; attached under 370000000000"
    )
    assert tree.parent("370602") == tree["37"]
    assert tree.path("370602001") == "山东省/芝罘区/向阳街道"
    assert str(tree.report) == ("1 anomaly / 1 处异常: orphan 1\n  orphan 370602: " + a.detail)


def test_orphan_without_any_ancestor_becomes_a_root() -> None:
    tree = RegionTree.from_records([("370602", "芝罘区", "3706"), ("14", "山西省", None)])
    assert kinds(tree) == [AnomalyKind.ORPHAN]
    assert "the root" in tree.report.anomalies[0].detail
    assert codes_of(tree.roots()) == ["140000000000", "370602000000"]


def test_orphan_when_no_parent_is_declared_but_an_ancestor_is_present() -> None:
    tree = RegionTree.from_records([("37", "山东省", None), ("370602", "芝罘区", None)])
    assert kinds(tree) == [AnomalyKind.ORPHAN]
    assert tree.parent("370602") == tree["37"]


def test_a_region_without_any_ancestor_and_no_declared_parent_is_a_quiet_root() -> None:
    tree = RegionTree.from_records([("370602", "芝罘区", None)])
    assert tree.report.ok
    assert codes_of(tree.roots()) == ["370602000000"]


def test_prefix_mismatch_uses_the_code() -> None:
    tree = RegionTree.from_records(
        [("37", "山东省", None), ("14", "山西省", None), ("3706", "烟台市", "14")]
    )
    (a,) = tree.report.anomalies
    assert a.kind is AnomalyKind.PREFIX_MISMATCH
    assert a.code == "3706"
    assert "declared 140000000000, using 370000000000" in a.detail
    assert tree.parent("3706") == tree["37"]


def test_prefix_mismatch_for_a_malformed_or_self_parent() -> None:
    tree = RegionTree.from_records(
        [("37", "山东省", "37"), ("3706", "烟台市", "37x"), ("3702", "青岛市", "37")]
    )
    assert kinds(tree) == [AnomalyKind.PREFIX_MISMATCH, AnomalyKind.PREFIX_MISMATCH]
    bad_parent, self_parent = tree.report.anomalies
    assert bad_parent.code == "3706"
    assert "bad parent code '37x'" in bad_parent.detail
    assert self_parent.code == "37"
    assert self_parent.detail.endswith("(declared 370000000000, using the root)")
    assert tree.parent("3706") == tree["37"]
    assert tree.parent("37") is None


def test_parent_mismatch_when_a_nearer_ancestor_is_present() -> None:
    tree = RegionTree.from_records(
        [("37", "山东省", None), ("3706", "烟台市", "37"), ("370602", "芝罘区", "37")]
    )
    (a,) = tree.report.anomalies
    assert a.kind is AnomalyKind.PARENT_MISMATCH
    assert a.code == "370602"
    assert "declared 370000000000, using 370600000000" in a.detail
    assert tree.parent("370602") == tree["3706"]


@pytest.mark.parametrize(
    ("declared", "mismatch"),
    [
        (3, False),
        ("3", False),
        (" 3 ", False),
        (Level.COUNTY, False),
        ("county", False),
        (None, False),
        ("", False),
        (4, True),
        ("4", True),
        (Level.CITY, True),
        ("township", True),
        (9, True),
        ("县级", True),
        (3.0, True),
    ],
)
def test_level_mismatch(declared: object, mismatch: bool) -> None:
    tree = RegionTree.from_records(
        [
            ("37", "山东省", None, 1),
            ("3706", "烟台市", "37", 2),
            ("370602", "芝罘区", "3706", declared),
        ]
    )
    assert kinds(tree) == ([AnomalyKind.LEVEL_MISMATCH] if mismatch else [])
    assert tree.level("370602") is Level.COUNTY  # the code wins
    if mismatch:
        assert tree.report.anomalies[0].code == "370602"
        assert "the code denotes county" in tree.report.anomalies[0].detail


def test_every_kind_at_once_and_the_tree_still_loads() -> None:
    rows = [
        ("37", "山东省", None, 1),
        ("3706", "烟台市", "37", 2),
        ("3706", "烟台", "37", 2),  # duplicate
        ("370602", "芝罘区", "37", 3),  # parent_mismatch
        ("370602001", "向阳街道", "370602", 5),  # level_mismatch
        ("3702", "青岛市", "14", 2),  # prefix_mismatch (14 present, not a prefix)
        ("370202", "市南区", "370299", 3),  # orphan (declared parent absent)
        ("44", "广东省", None, 1),
        ("4419", "东莞市", "44", 2),
        ("441900", "东莞市", "4419", 3),  # collision (and its level 3 mismatches city)
        ("37 06 02", "坏", None, 3),  # bad_code
        ("14", "山西省", None, 1),
    ]
    tree = RegionTree.from_records(rows)
    assert tree.report.counts() == {
        AnomalyKind.DUPLICATE: 1,
        AnomalyKind.LEVEL_MISMATCH: 2,
        AnomalyKind.COLLISION: 1,
        AnomalyKind.BAD_CODE: 1,
        AnomalyKind.PARENT_MISMATCH: 1,
        AnomalyKind.PREFIX_MISMATCH: 1,
        AnomalyKind.ORPHAN: 1,
    }
    assert {a.code for a in tree.report.of_kind(AnomalyKind.LEVEL_MISMATCH)} == {
        "370602001",
        "441900",
    }
    assert [a.code for a in tree.report.of_kind(AnomalyKind.ORPHAN)] == ["370202"]
    assert len(tree) == 9
    assert not tree.report.ok
    assert tree.path("370202") == "山东省/青岛市/市南区"
    assert tree.path("370602001") == "山东省/烟台市/芝罘区/向阳街道"
    assert str(tree.report).startswith("8 anomalies / 8 处异常: ")


# --- records of the wrong shape: reported as bad_record, never raised (issue 14) ----------------


@pytest.mark.parametrize(
    ("bad", "code", "says"),
    [
        (("37", "山东省"), "37", "this one has 2"),
        (("3706",), "3706", "this one has 1"),
        ((), "", "this one has 0"),
        (("3706", "烟台市", "37", 2, "extra"), "3706", "this one has 5"),
        (None, "", "not NoneType"),
        ("3706", "", "not str"),
        (b"3706", "", "not bytes"),
        (3706, "", "not int"),
        ({"code": "3706"}, "", "not dict"),
        ({"3706", "烟台市", "37"}, "", "not set"),
        (("3706", ("烟台市",), "37"), "3706", "the name must be text or None, not tuple"),
        (("3706", b"\xe7\x83\x9f", "37"), "3706", "the name must be text or None, not bytes"),
        (("3706", 10**5000, "37"), "3706", "the name must be text or None, not int"),
    ],
)
def test_a_record_of_the_wrong_shape_is_skipped_and_reported(
    bad: object, code: str, says: str
) -> None:
    rows: list[object] = [("37", "山东省", None), bad, ("3702", "青岛市", "37")]
    tree = RegionTree.from_records(rows)  # type: ignore[arg-type]
    assert codes_of(tree) == ["370000000000", "370200000000"]  # the good rows load
    (a,) = tree.report.anomalies
    assert a.kind is AnomalyKind.BAD_RECORD
    assert a.record == 1  # its position among the records
    assert a.code == code
    assert says in a.detail
    assert "记录" in a.detail or "名称" in a.detail  # bilingual
    assert str(a).startswith(f"bad_record records[1]{' ' + code if code else ''}: ")


def test_the_issue_14_record_too_short() -> None:
    tree = RegionTree.from_records([("37", "山东省")])  # type: ignore[list-item]
    assert len(tree) == 0
    assert str(tree.report) == (
        "1 anomaly / 1 处异常: bad_record 1\n  bad_record records[0] 37: 记录应有 3 或 4 项，此记录有 "
        "2 项 / a record has 3 or 4 items (code, name, parent code[, level]), this one has 2: "
        "('37', '山东省')"
    )


def test_records_may_be_lists_and_other_sequences() -> None:
    import sqlite3

    db = sqlite3.connect(":memory:")
    db.row_factory = sqlite3.Row
    sql = "select '37' as code, '山东省' as name, null as parent union all select '3706', '烟台市', '37'"
    rows = db.execute(sql).fetchall()
    tree = RegionTree.from_records(rows)
    assert tree.path("3706") == "山东省/烟台市"
    assert tree.report.ok
    lists = RegionTree.from_records([["37", "山东省", None], ["3706", "烟台市", "37", 2]])
    assert lists == tree
    assert lists.report.ok


def test_names_given_as_numbers_are_kept_as_text() -> None:
    tree = RegionTree.from_records([("37", 37, None), ("3706", 1.5, "37")])
    assert [r.name for r in tree] == ["37", "1.5"]
    assert tree.report.ok


@pytest.mark.parametrize("column", [0, 2, 3], ids=["code", "parent", "level"])
def test_an_int_too_long_to_write_out_is_reported_not_raised(column: int) -> None:
    huge = 10**5000  # str(huge) raises ValueError
    row: list[object] = ["3706", "烟台市", "37", 2]
    row[column] = huge
    tree = RegionTree.from_records([("37", "山东省", None), tuple(row)])  # type: ignore[list-item]
    (a,) = tree.report.anomalies
    assert a.kind is [AnomalyKind.BAD_CODE, None, AnomalyKind.PREFIX_MISMATCH,
                      AnomalyKind.LEVEL_MISMATCH][column]  # fmt: skip
    assert "<int of 16610 bits>" in str(a)
    if column == 0:
        assert a.record == 1


def test_bad_codes_carry_their_position() -> None:
    tree = RegionTree.from_records([("37", "山东省", None), ("37x", "坏", None)])
    (a,) = tree.report.anomalies
    assert (a.kind, a.code, a.record) == (AnomalyKind.BAD_CODE, "37x", 1)
    assert str(a).startswith("bad_code records[1] 37x: ")


@pytest.mark.parametrize("records", [None, 3706, 1.5, "3706", b"3706", {"37": "山东省"}])
def test_records_that_are_not_an_iterable_of_rows_raise(records: object) -> None:
    with pytest.raises(InvalidValue, match=r"^records: ") as exc:
        RegionTree.from_records(records)  # type: ignore[arg-type]
    assert exc.value.field == "records"
    assert "need an iterable of records" in str(exc.value)


_scalars = st.one_of(
    st.text(max_size=14),
    st.integers(),
    st.floats(),
    st.none(),
    st.booleans(),
    st.binary(max_size=6),
    st.builds(pow, st.just(10), st.integers(4301, 5000)),  # str() of these raises ValueError
    st.sampled_from(["37", "3706", "370602", "370602001", "4419", "441900", " 14 ", "0", "", "4"]),
    st.sampled_from(list(Level)),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=6).map(tuple),
        st.lists(inner, max_size=6),
        st.dictionaries(st.text(max_size=3), inner, max_size=3),
    ),
    max_leaves=12,
)
_record_like = st.one_of(
    _values,
    st.tuples(_scalars, _values, _scalars),
    st.tuples(_scalars, _scalars, _scalars, _values),
    st.lists(_scalars, min_size=3, max_size=4).map(tuple),
)


@given(st.one_of(st.lists(_record_like, max_size=12), _values))
def test_no_input_makes_from_records_raise_anything_but_a_zhiyuan_error(records: object) -> None:
    # Arbitrary nested values: either a tree with a report, or InvalidValue for `records` itself.
    try:
        tree = RegionTree.from_records(records)  # type: ignore[arg-type]
    except ZhiyuanError as exc:
        assert isinstance(exc, InvalidValue)
        assert exc.field == "records"
        str(exc)
        return
    assert isinstance(records, (list, tuple))
    str(tree.report)
    repr(tree)
    for a in tree.report.anomalies:
        assert str(a)
        assert a.record is None or 0 <= a.record < len(records)
    again = RegionTree.from_records(tree.to_records())
    assert again == tree
    assert again.report.ok


# --- wrong arguments to the queries raise InvalidValue naming the field (issue 14) ------------


def test_descendants_level_by_value_or_refused(small: RegionTree) -> None:
    assert list(small.descendants("3706", level="township")) == list(  # type: ignore[arg-type]
        small.descendants("3706", level=Level.TOWNSHIP)
    )
    for bad in ("乡级", 4, ["township"]):
        with pytest.raises(InvalidValue, match=r"^level: "):
            small.descendants("3706", level=bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("sep", [None, 1, b"/"])
def test_path_separator_is_text(small: RegionTree, sep: object) -> None:
    with pytest.raises(InvalidValue, match=r"^sep: "):
        small.path("370602", sep)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", [None, 37, ["城关镇"]])
def test_strip_suffix_wants_text(name: object) -> None:
    with pytest.raises(InvalidValue, match=r"^name: "):
        strip_suffix(name)  # type: ignore[arg-type]


def test_within_mask_refuses_what_is_not_codes(small: RegionTree) -> None:
    with pytest.raises(InvalidValue, match=r"^codes: "):
        small.within_mask(None, "37")  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match=r"^codes: "):
        small.within_mask("370602", "37")
    with pytest.raises(InvalidValue, match=r"^code: \['370602'\]: "):  # unhashable: was TypeError
        small.within_mask(["370602", ["370602"]], "37")
    assert small.within_mask(iter(["370602", "1408"]), "37") == [True, False]


@pytest.mark.parametrize(
    ("values", "pattern"),
    [
        (None, r"^values: None: "),
        (5, r"^values: 5: "),
        (
            ["370602"],
            r"^values\[0\]: '370602': 需要 \(代码, 数值\) 对 / need a \(code, number\) pair",
        ),
        ([("370602", 1, 2)], r"^values\[0\]: "),
        ([("370602", 1), 7], r"^values\[1\]: 7: "),
        ({"370602": "5"}, r"^values\['370602'\]: '5': 需要数值 / need a number"),
        ([("370602", 1), ("3706", None)], r"^values\['3706'\]: None: "),
        ([(["370602"], 1)], r"^code: \['370602'\]: "),
    ],
)
def test_rollup_refuses_rows_that_are_not_code_number_pairs(
    small: RegionTree, values: object, pattern: str
) -> None:
    with pytest.raises(InvalidValue, match=pattern):
        small.rollup(values)  # type: ignore[arg-type]
    # The dense path (many rows against a small tree) says the same.
    if isinstance(values, (list, dict)) and values:
        rows = list(values.items()) if isinstance(values, dict) else values
        with pytest.raises(InvalidValue, match=pattern.replace(r"^values: ", r"^values")):
            small.rollup(rows * 10)  # type: ignore[arg-type]


def test_rollup_values_of_types_that_do_not_add_up(small: RegionTree) -> None:
    from decimal import Decimal

    with pytest.raises(InvalidValue, match=r"^values: .*Decimal, float"):
        small.rollup([("370602001001", Decimal("1.5")), ("370602001002", 2.5)])
    assert small.rollup([("370602001001", Decimal("1.5"))])["370000000000"] == Decimal("1.5")


@pytest.mark.parametrize("other", [None, "tree", [("37", "山东省", None)]])
def test_diff_wants_a_tree(small: RegionTree, other: object) -> None:
    with pytest.raises(InvalidValue, match=r"^other: "):
        small.diff(other)  # type: ignore[arg-type]


def test_anomaly_and_report_check_their_fields() -> None:
    assert Anomaly(kind="orphan", code="37", detail="d").kind is AnomalyKind.ORPHAN  # type: ignore[arg-type]
    for kwargs, field in [
        ({"kind": "missing"}, "kind"),
        ({"kind": None}, "kind"),
        ({"code": None}, "code"),
        ({"detail": 5}, "detail"),
        ({"record": -1}, "record"),
        ({"record": "3"}, "record"),
    ]:
        base: dict[str, object] = {"kind": AnomalyKind.ORPHAN, "code": "37", "detail": "d"}
        with pytest.raises(InvalidValue) as exc:
            Anomaly(**{**base, **kwargs})  # type: ignore[arg-type]
        assert exc.value.field == field
    for bad in (None, 5, [None], "orphan"):
        with pytest.raises(InvalidValue, match=r"^anomalies: "):
            ValidationReport(anomalies=bad)  # type: ignore[arg-type]
    a = Anomaly(kind=AnomalyKind.ORPHAN, code="37", detail="d")
    assert ValidationReport(anomalies=[a]).anomalies == (a,)  # type: ignore[arg-type]


def test_report_text_is_capped_at_20_lines() -> None:
    rows = [(f"{p}01", "市", "99") for p in range(11, 41)]  # 30 orphans
    tree = RegionTree.from_records(rows)
    text = str(tree.report)
    assert text.startswith("30 anomalies / 30 处异常: orphan 30\n")
    assert text.count("\n  orphan ") == 20
    assert text.endswith("\n  … 10 more")


def test_report_values() -> None:
    a = Anomaly(kind=AnomalyKind.ORPHAN, code="3706", detail="d")
    report = ValidationReport(anomalies=(a, a))
    assert report.counts() == {AnomalyKind.ORPHAN: 2}
    assert report.of_kind(AnomalyKind.ORPHAN) == [a, a]
    assert report.of_kind(AnomalyKind.DUPLICATE) == []
    assert str(a) == "orphan 3706: d"
    assert [k.value for k in AnomalyKind] == [
        "bad_code",
        "duplicate",
        "collision",
        "orphan",
        "prefix_mismatch",
        "parent_mismatch",
        "level_mismatch",
        "bad_record",
    ]


def test_empty_tree() -> None:
    tree = RegionTree.from_records([])
    assert len(tree) == 0
    assert tree.roots() == []
    assert tree.counts() == {}
    assert tree.rollup({}) == {}
    assert list(tree) == []
    assert repr(tree) == "<RegionTree 0 regions: >"
    with pytest.raises(UnknownRegion):
        tree["37"]


# --- the NBS readers on small files ----------------------------------------------------------


def _write(path: Path, rows: Sequence[Sequence[str]], *, gz: bool = False) -> None:
    if gz:
        with gzip.open(path, "wt", encoding="utf-8", newline="") as fh:
            csv.writer(fh).writerows(rows)
    else:
        with path.open("w", encoding="utf-8", newline="") as fh:
            csv.writer(fh).writerows(rows)


def test_from_nbs_dir_reads_plain_and_gzipped_files(tmp_path: Path) -> None:
    _write(tmp_path / "provinces.csv", [["code", "name"], ["37", "山东省"]])
    _write(
        tmp_path / "cities.csv.gz",
        [["code", "name", "province_code"], ["3706", "烟台市", "37"]],
        gz=True,
    )
    _write(
        tmp_path / "counties.csv",
        [["code", "name", "city_code", "province_code"], ["370602", "芝罘区", "3706", "37"], []],
    )
    # townships missing: a tree down to counties loads; villages present but short rows padded
    _write(
        tmp_path / "villages.csv",
        [
            ["code", "name", "township_code", "county_code"],
            ["370602001001", "和平村委会", "370602001", "370602"],
            ["370602001002", "短行"],
        ],
    )
    tree = RegionTree.from_nbs_dir(tmp_path)
    assert codes_of(tree) == [
        "370000000000",
        "370600000000",
        "370602000000",
        "370602001001",
        "370602001002",
    ]
    assert tree.path("370602001001") == "山东省/烟台市/芝罘区/和平村委会"
    # The village declares a township that is absent; the short row declares nothing.
    assert kinds(tree) == [AnomalyKind.ORPHAN, AnomalyKind.ORPHAN]
    assert RegionTree.from_nbs_dir(str(tmp_path)).codes == tree.codes


def test_from_nbs_dir_errors(tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        RegionTree.from_nbs_dir(tmp_path / "nowhere")
    with pytest.raises(NotFound, match="NBS named files"):
        RegionTree.from_nbs_dir(tmp_path)
    _write(tmp_path / "provinces.csv", [["id", "title"], ["37", "山东省"]])
    with pytest.raises(InvalidInput, match="header needs code and name"):
        RegionTree.from_nbs_dir(tmp_path)
    (tmp_path / "provinces.csv").write_text("", encoding="utf-8")
    with pytest.raises(InvalidInput):
        RegionTree.from_nbs_dir(tmp_path)


def test_from_nbs_structure(tmp_path: Path) -> None:
    path = tmp_path / "structure.csv.gz"
    _write(
        path,
        [
            ["code", "parent_code", "level"],
            ["370000000000", "0", "1"],
            ["370600000000", "370000000000", "2"],
            [],
            ["370602000000", "370600000000", "3"],
            ["370602001000", "370602000000", "5"],
        ],
        gz=True,
    )
    tree = RegionTree.from_nbs_structure(path)
    assert len(tree) == 4
    assert all(r.name is None for r in tree)
    assert tree.path("370602001") == "370000000000/370600000000/370602000000/370602001000"
    assert kinds(tree) == [AnomalyKind.LEVEL_MISMATCH]
    bad = tmp_path / "bad.csv"
    _write(bad, [["parent_code", "code"], ["37", "3706"]])
    with pytest.raises(InvalidInput, match="header must start code,parent_code"):
        RegionTree.from_nbs_structure(bad)
    with pytest.raises(NotFound):
        RegionTree.from_nbs_structure(tmp_path / "missing.csv")


# --- properties over random trees ------------------------------------------------------------


@given(tree_records())
def test_random_tree_matches_the_model(records: list[TreeRecord]) -> None:
    tree = RegionTree.from_records(records)
    model = model_of(records)
    assert tree.report.ok
    assert list(tree) == model.regions()
    assert codes_of(tree.roots()) == [c for c in model.codes if model.parent[c] is None]
    for c in model.codes:
        assert codes_of(tree.children(c)) == model.children(c)
        assert codes_of(tree.descendants(c)) == model.subtree(c)[1:]


@given(tree_records(min_size=1), st.sampled_from(list(Level)))
def test_descendants_by_level_is_a_filter(records: list[TreeRecord], level: Level) -> None:
    tree = RegionTree.from_records(records)
    for c in tree.codes:
        assert list(tree.descendants(c, level=level)) == [
            r for r in tree.descendants(c) if r.level is level
        ]


@given(tree_records(min_size=1))
def test_every_path_ends_at_a_root(records: list[TreeRecord]) -> None:
    tree = RegionTree.from_records(records)
    roots = tree.roots()
    for r in tree:
        chain = tree.ancestors(r.code)
        top = chain[-1] if chain else r
        assert top.parent_code is None
        assert top in roots
        assert [a.code for a in chain] == [
            x.code for x in _walk_parents(tree, r.code)
        ]  # nearest first
        depths = [x.level.depth for x in [r, *chain]]
        assert depths == sorted(depths, reverse=True)
        parts = tree.path(r.code).split("/")
        assert len(parts) == len(chain) + 1
        assert parts[-1] == (r.name or r.code)


def _walk_parents(tree: RegionTree, code: str) -> list[Region]:
    out = []
    p = tree.parent(code)
    while p is not None:
        out.append(p)
        p = tree.parent(p.code)
    return out


@given(tree_records(min_size=1))
def test_is_within_agrees_with_walking_ancestors(records: list[TreeRecord]) -> None:
    tree = RegionTree.from_records(records)
    chains = {c: {c, *codes_of(tree.ancestors(c))} for c in tree.codes}
    for c in tree.codes:
        for a in tree.codes:
            assert tree.is_within(c, a) == (a in chains[c])
    for a in tree.codes:
        forms = [RegionCode(c).short for c in tree.codes]
        assert tree.within_mask(forms, a) == [a in chains[c] for c in tree.codes]


@given(tree_records(min_size=1))
def test_lca_agrees_with_intersecting_ancestor_chains(records: list[TreeRecord]) -> None:
    tree = RegionTree.from_records(records)
    chains = {c: [c, *codes_of(tree.ancestors(c))] for c in tree.codes}
    for a in tree.codes:
        for b in tree.codes:
            common = [x for x in chains[a] if x in chains[b]]
            lca = tree.lca(a, b)
            assert (lca.code if lca else None) == (common[0] if common else None)
            assert tree.lca(b, a) == lca


@given(
    tree_records(min_size=1, max_size=150),
    st.data(),
)
def test_rollup_equals_brute_force_sums(records: list[TreeRecord], data: st.DataObject) -> None:
    tree = RegionTree.from_records(records)
    model = model_of(records)
    # Sometimes few values (sparse path), sometimes many (dense path).
    chosen = data.draw(
        st.one_of(
            st.lists(st.sampled_from(model.codes), max_size=2),
            st.lists(st.sampled_from(model.codes), min_size=len(model.codes) // 2),
        )
    )
    values = {c: data.draw(st.integers(-1000, 1000)) for c in chosen}
    assert tree.rollup(values) == brute_rollup(model, values)


@given(tree_records(min_size=20, max_size=150), st.data())
def test_rollup_paths_agree(records: list[TreeRecord], data: st.DataObject) -> None:
    # Padding few values with zeros for every region forces the dense path: totals must agree.
    tree = RegionTree.from_records(records)
    codes = list(tree.codes)
    few = data.draw(st.lists(st.sampled_from(codes), min_size=1, max_size=1))
    values = {c: data.draw(st.integers(-100, 100)) for c in few}
    sparse = tree.rollup(values)
    dense = tree.rollup({**dict.fromkeys(codes, 0), **values})
    assert dense == {c: sparse.get(c, 0) for c in codes}


@given(tree_records())
def test_counts_sum_to_len_and_subtree_sizes(records: list[TreeRecord]) -> None:
    tree = RegionTree.from_records(records)
    assert sum(tree.counts().values()) == len(tree)
    for c in tree.codes:
        size = tree.subtree_size(c)
        assert sum(tree.counts(c).values()) == size
        assert size == 1 + len(list(tree.descendants(c)))
        assert size == 1 + sum(tree.subtree_size(k.code) for k in tree.children(c))
    assert sum(tree.subtree_size(r.code) for r in tree.roots()) == len(tree)


@given(tree_records())
def test_to_records_then_from_records_rebuilds_the_tree(records: list[TreeRecord]) -> None:
    tree = RegionTree.from_records(records)
    again = RegionTree.from_records(tree.to_records())
    assert list(again) == list(tree)
    assert again.report.ok
    assert list(again.to_records()) == list(tree.to_records())


@given(tree_records(min_size=1), st.data())
def test_subtree_has_exactly_the_descendants(
    records: list[TreeRecord], data: st.DataObject
) -> None:
    tree = RegionTree.from_records(records)
    c = data.draw(st.sampled_from(list(tree.codes)))
    sub = tree.subtree(c)
    assert codes_of(sub) == [c, *codes_of(tree.descendants(c))]
    assert codes_of(sub.roots()) == [c]
    assert sub.report.ok
    for r in sub:
        if r.code != c:
            assert r == tree[r.code]
            assert sub.path(r.code).endswith(tree.path(r.code)[len(tree.path(c)) :])


@given(tree_records(min_size=1), st.data())
def test_prune_keeps_subtrees_and_ancestors(records: list[TreeRecord], data: st.DataObject) -> None:
    tree = RegionTree.from_records(records)
    picked = data.draw(st.lists(st.sampled_from(list(tree.codes)), min_size=1, max_size=3))
    pruned = tree.prune(*picked)
    expected = set()
    for c in picked:
        expected |= {c, *codes_of(tree.descendants(c)), *codes_of(tree.ancestors(c))}
    assert set(pruned.codes) == expected
    for r in pruned:
        assert r == tree[r.code]  # same parent, name and level as in the full tree


@given(tree_records(), st.data())
def test_find_equals_brute_force(records: list[TreeRecord], data: st.DataObject) -> None:
    tree = RegionTree.from_records(records)
    names = [r.name for r in tree if r.name]
    assume(names)
    query = data.draw(
        st.one_of(
            st.sampled_from(names),
            st.sampled_from(names).map(strip_suffix),
            st.sampled_from(["城关", "和平村", "和平", "县", "区"]),
        )
    )
    exact = [r for r in tree if r.name == query]
    if not exact:
        key = strip_suffix(query)
        exact = [r for r in tree if r.name is not None and key in (r.name, strip_suffix(r.name))]
    found = tree.find(query)
    assert [m.region for m in found] == exact
    assert [m.path for m in found] == [tree.path(r.code) for r in exact]


@given(tree_records(), tree_records())
def test_diff_between_random_trees(a_rows: list[TreeRecord], b_rows: list[TreeRecord]) -> None:
    a, b = RegionTree.from_records(a_rows), RegionTree.from_records(b_rows)
    d = a.diff(b)
    assert d.added == tuple(sorted(set(b.codes) - set(a.codes)))
    assert d.removed == tuple(sorted(set(a.codes) - set(b.codes)))
    assert d.renamed == tuple(
        sorted(
            (c, a[c].name, b[c].name) for c in set(a.codes) & set(b.codes) if a[c].name != b[c].name
        )
    )


@given(st.data())
def test_messy_rows_never_stop_the_load(data: st.DataObject) -> None:
    # Random declared parents, repeats, malformed codes: the load reports and always succeeds.
    codes = sorted(data.draw(tree_codes(max_size=25)))
    junk = st.sampled_from(["37x", "370", "", "３７", "00"])
    parent_pool = st.one_of(
        st.none(), st.sampled_from([*codes, "99", "3799"]) if codes else st.none(), junk
    )
    rows: list[TreeRecord] = [
        (data.draw(code_forms(c)), f"n{i}", data.draw(parent_pool)) for i, c in enumerate(codes)
    ]
    rows += data.draw(st.lists(st.sampled_from(rows), max_size=5)) if rows else []
    rows += [(j, "bad", None) for j in data.draw(st.lists(junk, max_size=3))]
    rows = data.draw(st.permutations(rows))
    tree = RegionTree.from_records(rows)
    model = Model(dict.fromkeys(codes))
    assert list(tree.codes) == model.codes
    for c in codes:
        assert tree[c].parent_code == model.parent[c]
    n_bad = sum(1 for r in rows if r[0] in ("37x", "370", "", "３７", "00"))
    assert len(tree.report.of_kind(AnomalyKind.BAD_CODE)) == n_bad
    repeats = len(rows) - n_bad - len(codes)
    counts = tree.report.counts()
    assert counts.get(AnomalyKind.DUPLICATE, 0) + counts.get(AnomalyKind.COLLISION, 0) == repeats


@given(region_codes())
def test_single_region_tree(code: str) -> None:
    tree = RegionTree.from_records([(code, "x", None)])
    assert tree.report.ok
    assert tree[code] == Region(code=code, name="x", level=level_of(code), parent_code=None)
    assert tree.roots() == [tree[code]]
