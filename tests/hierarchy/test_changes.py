"""Administrative changes: rename, merge, split, move, recode, their mapping and their dates."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from zhiyuan.errors import Conflict, InvalidValue, UnknownRegion, ZhiyuanError
from zhiyuan.hierarchy import (
    ChangeKind,
    CodeMapping,
    Level,
    RegionChange,
    RegionTree,
    SplitPart,
    apply_changes,
    load_default,
)

D1 = date(2024, 1, 1)
D2 = date(2024, 6, 30)
D3 = date(2025, 1, 1)

CHENGYANG = "370214000000"  # 城阳区: 9 townships, 300 villages
CHENGYANG_ST = "370214001000"  # 城阳街道, 67 communities
XIFU = "370214008000"  # 惜福镇街道
HONGDAO = "370214009000"  # 红岛街道, villages 001–019
HETAO = "370214010000"  # 河套街道, villages 001–019


@pytest.fixture(scope="module")
def seed() -> RegionTree:
    return load_default()


@pytest.fixture(scope="module")
def cy(seed: RegionTree) -> RegionTree:
    """山东省/青岛市/城阳区 and everything below it: 312 regions."""
    t = seed.prune("370214")
    assert len(t) == 312
    return t


def records(tree: RegionTree) -> list[tuple[str, str | None, str | None]]:
    return list(tree.to_records())


def kids(tree: RegionTree, code: object) -> list[str]:
    return [r.code for r in tree.children(code)]


# --- rename --------------------------------------------------------------------------------------


def test_rename_keeps_codes(cy: RegionTree) -> None:
    res = apply_changes(cy, [RegionChange.rename("370214008", "惜福镇", effective=D1)])
    assert res.tree["370214008"].name == "惜福镇"
    assert cy["370214008"].name == "惜福镇街道"  # the input is untouched
    assert len(res.mapping) == 0 and res.mapping.map(XIFU) == (XIFU,)
    assert [c for c, _, _ in res.tree.to_records()] == [c for c, _, _ in cy.to_records()]
    assert cy.diff(res.tree).renamed == ((XIFU, "惜福镇街道", "惜福镇"),)
    assert res.applied == (RegionChange.rename("370214008", "惜福镇", effective=D1),)


# --- merge ---------------------------------------------------------------------------------------


def test_merge_moves_children_under_the_sibling(cy: RegionTree) -> None:
    res = apply_changes(cy, [RegionChange.merge("370214010", into="370214009", effective=D2)])
    new = res.tree
    assert HETAO not in new and len(new) == len(cy) - 1
    assert res.mapping.one(HETAO) == HONGDAO
    assert res.mapping.map("370214010") == (HONGDAO,)
    assert len(kids(new, HONGDAO)) == 38
    # 河套's communities follow 红岛's own (001–019) in the same 0xx block, in order, names kept
    old_kids = kids(cy, HETAO)
    assert [res.mapping.one(k) for k in old_kids] == [f"370214009{n:03d}" for n in range(20, 39)]
    for k in old_kids:
        assert new[res.mapping.one(k)].name == cy[k].name
        assert new.parent(res.mapping.one(k)).code == HONGDAO  # type: ignore[union-attr]
    # 红岛's own communities did not move
    for k in kids(cy, HONGDAO):
        assert k not in res.mapping.changes and res.mapping.one(k) == k
    assert len(res.mapping) == 1 + 19


def _village_block(code: str) -> str:
    n = int(code[9:])
    return "居委会 001–199" if n < 200 else "村委会 200–399" if n < 400 else "other"


def test_merge_keeps_the_village_numbering_block(seed: RegionTree) -> None:
    # 蓬莱区: 刘家沟镇 (102) has 60 村委会 in 201–261, its neighbour 103 has 50 more: together
    # they overflow 2xx, but the 村委会 block is 200–399 (POLICIES.md), so the merge fits
    tree = seed.prune("370614")
    assert len(tree.children("370614102")) == 60 and len(tree.children("370614103")) == 50
    res = apply_changes(tree, [RegionChange.merge("370614103", into="370614102", effective=D1)])
    used = set(kids(tree, "370614102"))
    moved = [res.mapping.one(k) for k in kids(tree, "370614103")]
    free = [c for n in range(201, 400) if (c := f"370614102{n:03d}") not in used]
    assert moved == free[:50]  # the gaps first, in order, then on into 3xx
    assert moved[-1] > "370614102299"
    for k, new in zip(kids(tree, "370614103"), moved, strict=True):
        assert new not in used
        assert _village_block(new) == _village_block(k)
        assert res.tree[new].name == tree[k].name
    assert len(kids(res.tree, "370614102")) == 110


def test_merge_of_a_county_takes_its_whole_subtree(seed: RegionTree) -> None:
    tree = seed.prune("370213", "370214")
    res = apply_changes(tree, [RegionChange.merge("370213", into="370214", effective=D1)])
    assert len(res.tree) == len(tree) - 1
    assert res.tree.counts(CHENGYANG) == {
        Level.COUNTY: 1,
        Level.TOWNSHIP: 9 + 11,
        Level.VILLAGE: 300 + 127,
    }
    for r in tree.descendants("370213"):
        for new in res.mapping.map(r.code):
            assert new in res.tree and res.tree.is_within(new, CHENGYANG)
            assert res.tree[new].name == r.name


def test_merge_carries_orphans_along() -> None:
    # 370101002001 has no township: it hangs under the county 370101 and must go with it
    tree = RegionTree.from_records(
        [
            ("37", "省", None),
            ("3701", "市", "37"),
            ("370101", "甲区", "3701"),
            ("370102", "乙区", "3701"),
            ("370101001", "甲街道", "370101"),
            ("370101001001", "甲社区", "370101001"),
            ("370101002001", "孤村", "370101002"),
        ]
    )
    assert tree.parent("370101002001").code == "370101000000"  # type: ignore[union-attr]
    res = apply_changes(tree, [RegionChange.merge("370101", into="370102", effective=D1)])
    assert len(res.tree) == len(tree) - 1
    for code in [r.code for r in tree]:
        (new,) = res.mapping.map(code)
        assert new in res.tree
    orphan = res.mapping.one("370101002001")
    assert res.tree.is_within(orphan, "370102") and res.tree[orphan].name == "孤村"
    assert res.tree.children("3701") == [res.tree["370102"]]


# --- split ---------------------------------------------------------------------------------------


def test_split_with_a_part_keeping_the_code(cy: RegionTree) -> None:
    children = kids(cy, CHENGYANG_ST)
    assert len(children) == 67
    keep, give = children[:30], children[30:]
    ch = RegionChange.split(
        "370214001",
        [
            SplitPart(code="370214001", name="城阳街道", children=keep),
            SplitPart(code="370214011", name="城阳北街道", children=give),
        ],
        effective=D1,
    )
    res = apply_changes(cy, [ch])
    new = res.tree
    assert len(new) == len(cy) + 1
    assert kids(new, CHENGYANG_ST) == keep
    assert len(kids(new, "370214011")) == 37
    assert new["370214011"].name == "城阳北街道"
    assert res.mapping.map(CHENGYANG_ST) == (CHENGYANG_ST, "370214011000")
    with pytest.raises(Conflict) as info:
        res.mapping.one(CHENGYANG_ST)
    assert "370214011000" in str(info.value) and "split" in str(info.value)
    for k in keep:
        assert res.mapping.one(k) == k
    for k in give:
        moved = res.mapping.one(k)
        assert moved.startswith("370214011") and new[moved].name == cy[k].name
    assert sorted(res.mapping.one(k) for k in give) == kids(new, "370214011")


def test_split_into_two_new_parts_retires_the_code(cy: RegionTree) -> None:
    children = kids(cy, HETAO)
    ch = RegionChange.split(
        HETAO,
        [
            SplitPart(code="370214011", name="河套东", children=children[::2]),
            SplitPart(code="370214012", name="河套西", children=children[1::2]),
        ],
        effective=D1,
    )
    res = apply_changes(cy, [ch])
    assert HETAO not in res.tree and len(res.tree) == len(cy) + 1
    assert res.mapping.map(HETAO) == ("370214011000", "370214012000")
    assert len(kids(res.tree, "370214011")) == 10 and len(kids(res.tree, "370214012")) == 9
    with pytest.raises(Conflict):
        res.mapping.rekey({HETAO: 1})


def _split(parts: list[SplitPart]) -> RegionChange:
    return RegionChange.split(HETAO, parts, effective=D1)


@pytest.mark.parametrize(
    ("make", "error", "field"),
    [
        # a child given to no part
        (
            lambda c: [
                SplitPart(code=HETAO, name="a", children=c[:5]),
                SplitPart(code="370214011", name="b", children=c[6:]),
            ],
            InvalidValue,
            "parts.children",
        ),
        # a child given to two parts
        (
            lambda c: [
                SplitPart(code=HETAO, name="a", children=c[:6]),
                SplitPart(code="370214011", name="b", children=c[5:]),
            ],
            InvalidValue,
            "parts.children",
        ),
        # a region that is not a child
        (
            lambda c: [
                SplitPart(code=HETAO, name="a", children=c),
                SplitPart(code="370214011", name="b", children=["370214009001"]),
            ],
            InvalidValue,
            "parts.children",
        ),
        # a part at another level
        (
            lambda c: [
                SplitPart(code=HETAO, name="a", children=c[:5]),
                SplitPart(code="370214010999", name="b", children=c[5:]),
            ],
            InvalidValue,
            "parts.code",
        ),
        # a part under another parent
        (
            lambda c: [
                SplitPart(code=HETAO, name="a", children=c[:5]),
                SplitPart(code="370211099", name="b", children=c[5:]),
            ],
            InvalidValue,
            "parts.code",
        ),
        # two parts under one code
        (
            lambda c: [
                SplitPart(code="370214011", name="a", children=c[:5]),
                SplitPart(code="370214011", name="b", children=c[5:]),
            ],
            InvalidValue,
            "parts.code",
        ),
        # a part taking a sibling's code
        (
            lambda c: [
                SplitPart(code=HETAO, name="a", children=c[:5]),
                SplitPart(code="370214009", name="b", children=c[5:]),
            ],
            Conflict,
            None,
        ),
    ],
)
def test_invalid_splits_raise_and_change_nothing(
    cy: RegionTree, make: Any, error: type[Exception], field: str | None
) -> None:
    before = records(cy)
    with pytest.raises(error) as info:
        apply_changes(cy, [_split(make(kids(cy, HETAO)))])
    if field is not None:
        assert info.value.field == field  # type: ignore[attr-defined]
    assert records(cy) == before


def test_split_needs_two_named_parts() -> None:
    with pytest.raises(InvalidValue) as info:
        RegionChange.split(HETAO, [SplitPart(code=HETAO, name="a")], effective=D1)
    assert info.value.field == "parts"
    with pytest.raises(InvalidValue) as info:
        SplitPart(code="370214011", name=" ")
    assert info.value.field == "name"


# --- move ----------------------------------------------------------------------------------------


def _first_free(tree: RegionTree, parent_prefix: str, block: int) -> str:
    for n in range(block * 100 + 1, block * 100 + 100):
        code = f"{parent_prefix}{n:03d}000"
        if code not in tree:
            return code
    raise AssertionError("no free code")


def test_move_takes_the_next_free_code_in_its_block(seed: RegionTree) -> None:
    tree = seed.prune("370214", "370211")
    # 黄岛区 uses 街道 001–007, 009–015: the first free 0xx is 008
    want = _first_free(tree, "370211", 0)
    assert want == "370211008000"
    res = apply_changes(tree, [RegionChange.move("370214010", to="370211", effective=D1)])
    assert res.mapping.one(HETAO) == want
    assert res.tree[want].name == "河套街道"
    assert res.tree.parent(want).code == "370211000000"  # type: ignore[union-attr]
    assert HETAO not in res.tree and len(res.tree) == len(tree)
    # the subtree follows: 370214010xxx → 370211008xxx, names kept
    for k in kids(tree, HETAO):
        assert res.mapping.one(k) == want[:9] + k[9:]
        assert res.tree[res.mapping.one(k)].name == tree[k].name
    assert kids(res.tree, want) == [want[:9] + k[9:] for k in kids(tree, HETAO)]


@pytest.mark.parametrize(("code", "block"), [("370614102", 1), ("370614201", 2), ("370614001", 0)])
def test_a_moved_township_keeps_its_kind(seed: RegionTree, code: str, block: int) -> None:
    # 芝罘区 has 街道 only (001–012): a 镇 stays 1xx, a 乡 2xx, a 街道 0xx
    tree = seed.prune("370614", "370602")
    res = apply_changes(tree, [RegionChange.move(code, to="370602", effective=D1)])
    new = res.mapping.one(code)
    assert new == _first_free(tree, "370602", block)
    assert int(new[6]) == block
    assert res.tree[new].name == tree[code].name


def test_move_with_a_new_code_and_name(seed: RegionTree) -> None:
    tree = seed.prune("370214", "370211")
    res = apply_changes(
        tree,
        [
            RegionChange.move(
                "370214010", to="370211", new_code="370211099", name="新河套街道", effective=D1
            )
        ],
    )
    assert res.mapping.one("370214010") == "370211099000"
    assert res.mapping.one("370214010001") == "370211099001"
    assert res.tree["370211099"].name == "新河套街道"
    assert res.tree["370211099001"].name == tree["370214010001"].name


def test_move_a_township_straight_under_a_city(seed: RegionTree) -> None:
    tree = seed.prune("370214")
    res = apply_changes(tree, [RegionChange.move("370214010", to="3702", effective=D1)])
    new = res.mapping.one(HETAO)
    assert res.tree.level(new) is Level.TOWNSHIP
    assert res.tree.parent(new).code == "370200000000"  # type: ignore[union-attr]
    assert res.tree.subtree_size(new) == 20


@pytest.mark.parametrize(
    ("change", "error"),
    [
        # under a lower level (a township under a village) or the same level
        (RegionChange.move("370214010", to="370214009001", effective=D1), InvalidValue),
        (RegionChange.move("370214010", to="370214009", effective=D1), InvalidValue),
        # a new code that is not under the new parent, or at another level
        (
            RegionChange.move("370214010", to="370211", new_code="370214099", effective=D1),
            InvalidValue,
        ),
        (
            RegionChange.move("370214010", to="370211", new_code="370211099001", effective=D1),
            InvalidValue,
        ),
        # a new code in use
        (
            RegionChange.move("370214010", to="370211", new_code="370211001", effective=D1),
            Conflict,
        ),
        # an unknown parent or region
        (RegionChange.move("370214010", to="370299", effective=D1), UnknownRegion),
        (RegionChange.move("370214077", to="370211", effective=D1), UnknownRegion),
    ],
)
def test_invalid_moves_raise_and_change_nothing(
    seed: RegionTree, change: RegionChange, error: type[Exception]
) -> None:
    tree = seed.prune("370214", "370211")
    before = records(tree)
    with pytest.raises(error):
        apply_changes(tree, [change])
    assert records(tree) == before


# --- recode --------------------------------------------------------------------------------------


def test_recode_moves_the_subtree(cy: RegionTree) -> None:
    res = apply_changes(cy, [RegionChange.recode("370214010", "370214011", effective=D1)])
    assert res.mapping.one(HETAO) == "370214011000"
    assert HETAO not in res.tree and res.tree["370214011"].name == "河套街道"
    for k in kids(cy, HETAO):
        assert res.mapping.one(k) == "370214011" + k[9:]
    assert len(res.mapping) == 20 and len(res.tree) == len(cy)


def test_recode_a_county(cy: RegionTree) -> None:
    res = apply_changes(cy, [RegionChange.recode("370214", "370216", effective=D1)])
    assert "370214" not in res.tree and res.tree["370216"].name == "城阳区"
    assert len(res.mapping) == 310
    for r in cy.descendants(CHENGYANG):
        new = res.mapping.one(r.code)
        assert new == "370216" + r.code[6:]
        assert res.tree[new].name == r.name
    assert res.tree.counts("370216") == cy.counts(CHENGYANG)


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (RegionChange.recode("370214010", "370214009", effective=D1), Conflict),  # in use
        (RegionChange.recode("370214010", "370299001", effective=D1), UnknownRegion),  # no parent
        (RegionChange.recode("370214099", "370214011", effective=D1), UnknownRegion),
    ],
)
def test_invalid_recodes_raise_and_change_nothing(
    cy: RegionTree, change: RegionChange, error: type[Exception]
) -> None:
    before = records(cy)
    with pytest.raises(error):
        apply_changes(cy, [change])
    assert records(cy) == before


def test_recode_keeps_the_level() -> None:
    with pytest.raises(InvalidValue) as info:
        RegionChange.recode("370214010", "370214010001", effective=D1)
    assert info.value.field == "target"


# --- invalid merges, unknown codes, immutability --------------------------------------------------


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (RegionChange.merge("370214010", into="370211001", effective=D1), InvalidValue),  # cousin
        (RegionChange.merge("370214010", into="370214", effective=D1), InvalidValue),  # parent
        (RegionChange.merge("370214010", into="370214010", effective=D1), InvalidValue),  # itself
        (RegionChange.merge("370214010", into="370214077", effective=D1), UnknownRegion),
        (RegionChange.merge("370214077", into="370214009", effective=D1), UnknownRegion),
        (RegionChange.rename("370214077", "无", effective=D1), UnknownRegion),
    ],
)
def test_invalid_merges_raise_and_leave_the_tree(
    seed: RegionTree, change: RegionChange, error: type[Exception]
) -> None:
    before = records(seed)
    with pytest.raises(error) as info:
        apply_changes(seed, [change])
    assert isinstance(info.value, ZhiyuanError)
    assert records(seed) == before
    assert seed is load_default()


def test_merge_needs_the_same_level() -> None:
    # 370100001 hangs straight under the city, like 东莞's towns: a structural sibling of the
    # county 370101, but not at its level
    tree = RegionTree.from_records(
        [
            ("37", "省", None),
            ("3701", "市", "37"),
            ("370101", "区", "3701"),
            ("370100001", "直管镇", "3701"),
            ("370100001001", "村", "370100001"),
        ]
    )
    with pytest.raises(InvalidValue):
        apply_changes(tree, [RegionChange.merge("370100001", into="370101", effective=D1)])


def test_a_later_invalid_change_applies_nothing(cy: RegionTree) -> None:
    before = records(cy)
    with pytest.raises(Conflict):
        apply_changes(
            cy,
            [
                RegionChange.rename("370214008", "惜福镇", effective=D1),
                RegionChange.merge("370214010", into="370214009", effective=D2),
                RegionChange.recode("370214005", "370214009", effective=D3),
            ],
        )
    assert records(cy) == before


# --- chains, dates and order ---------------------------------------------------------------------


def test_chained_changes_compose(cy: RegionTree) -> None:
    merge = RegionChange.merge("370214010", into="370214009", effective=D1)
    recode = RegionChange.recode("370214009", "370214020", effective=D2)
    res = apply_changes(cy, [merge, recode])
    assert res.applied == (merge, recode)
    final = "370214020000"
    assert res.mapping.one(HETAO) == final
    assert res.mapping.one(HONGDAO) == final
    assert res.mapping.one("370214010001") == "370214020020"
    assert res.mapping.one("370214009001") == "370214020001"
    assert HONGDAO not in res.tree and HETAO not in res.tree
    assert len(kids(res.tree, final)) == 38
    for code, new in res.mapping.changes.items():
        assert code in cy
        assert all(n in res.tree for n in new)


def test_chain_of_moves_and_renames(seed: RegionTree) -> None:
    tree = seed.prune("370214", "370211", "370215")
    res = apply_changes(
        tree,
        [
            RegionChange.move("370214010", to="370211", effective=D1),
            RegionChange.rename("370211008", "河套新区", effective=D2),
            RegionChange.move("370211008", to="370215", effective=D3),
        ],
    )
    new = res.mapping.one(HETAO)
    assert new.startswith("370215") and res.tree[new].name == "河套新区"
    assert res.mapping.one("370214010001") == new[:9] + "001"
    assert "370211008000" not in res.tree


def test_as_of_filters_by_effective_date(cy: RegionTree) -> None:
    changes = [
        RegionChange.rename("370214008", "惜福镇", effective=D1),
        RegionChange.merge("370214010", into="370214009", effective=D2),
    ]
    early = apply_changes(cy, changes, as_of=date(2024, 3, 1))
    assert early.applied == (changes[0],)
    assert early.tree["370214008"].name == "惜福镇" and HETAO in early.tree
    assert len(early.mapping) == 0
    on_the_day = apply_changes(cy, changes, as_of=D2)  # inclusive
    assert on_the_day.applied == tuple(changes) and HETAO not in on_the_day.tree
    before = apply_changes(cy, changes, as_of=date(2023, 12, 31))
    assert before.applied == () and records(before.tree) == records(cy)


def test_changes_apply_in_order_of_effective_date(cy: RegionTree) -> None:
    recode = RegionChange.recode("370214009", "370214020", effective=D3)
    merge = RegionChange.merge("370214010", into="370214009", effective=D1)
    res = apply_changes(cy, [recode, merge])  # given out of order
    assert res.applied == (merge, recode)
    assert res.mapping.one(HETAO) == "370214020000"
    # with the dates the other way round the merge meets a code that is gone
    late_merge = RegionChange.merge("370214010", into="370214009", effective=D3)
    early_recode = RegionChange.recode("370214009", "370214020", effective=D1)
    with pytest.raises(UnknownRegion):
        apply_changes(cy, [late_merge, early_recode])


def test_ties_keep_the_given_order(cy: RegionTree) -> None:
    a = RegionChange.rename("370214008", "甲", effective=D1)
    b = RegionChange.rename("370214008", "乙", effective=D1)
    assert apply_changes(cy, [a, b]).tree["370214008"].name == "乙"
    assert apply_changes(cy, [b, a]).tree["370214008"].name == "甲"
    assert apply_changes(cy, (c for c in [a, b])).applied == (a, b)  # any iterable


# --- RegionChange and CodeMapping ---------------------------------------------------------------


def test_region_change_checks_its_fields() -> None:
    with pytest.raises(InvalidValue) as info:
        RegionChange.rename("370214008", "  ", effective=D1)
    assert info.value.field == "name"
    with pytest.raises(InvalidValue) as info:
        RegionChange.rename("370214008", "惜福镇", effective=datetime(2024, 1, 1))  # type: ignore[arg-type]
    assert info.value.field == "effective"
    for kind in (ChangeKind.MERGE, ChangeKind.MOVE, ChangeKind.RECODE):
        with pytest.raises(InvalidValue) as info:
            RegionChange(kind=kind, code="370214010", effective=D1)
        assert info.value.field == "target"
    with pytest.raises(InvalidValue):
        RegionChange.merge("37021401", into="370214009", effective=D1)
    ch = RegionChange.merge(370214010, into=370214009, effective=D1)
    assert (ch.code, ch.target) == (HETAO, HONGDAO)


def test_code_mapping_map_one_rekey() -> None:
    m = CodeMapping(
        changes={
            HETAO: (HONGDAO,),
            "370214010001": ("370214009020",),
            CHENGYANG_ST: (CHENGYANG_ST, "370214011000"),
        }
    )
    assert len(m) == 3
    assert m.map("370214010") == (HONGDAO,)
    assert m.map(370214008) == (XIFU,)  # unchanged: itself, in 12 digits
    assert m.one("370214010001") == "370214009020"
    assert m.rekey({"370214010": 3, "370214009": 4, XIFU: 5}) == {HONGDAO: 7, XIFU: 5}
    with pytest.raises(Conflict):
        m.one("370214001")
    with pytest.raises(Conflict):
        m.rekey({XIFU: 1, "370214001": 2})
    with pytest.raises(InvalidValue):
        m.map("3702140")


# --- properties ---------------------------------------------------------------------------------

_TOWNSHIPS = [1, 2, 3, 101, 102, 201, 401]
_VILLAGES = [1, 2, 3, 201, 202]
_SEGMENTS = {
    Level.CITY: (2, 4),
    Level.COUNTY: (4, 6),
    Level.TOWNSHIP: (6, 9),
    Level.VILLAGE: (9, 12),
}


@st.composite
def small_trees(draw: st.DrawFn) -> RegionTree:
    """A complete tree under 山东 (37): 1–2 cities, 1–3 counties each, 0–3 townships, 0–3 villages."""
    recs: list[tuple[str, str, str | None]] = [("37", "省", None)]
    for ci in range(1, draw(st.integers(1, 2)) + 1):
        city = f"37{ci:02d}"
        recs.append((city, f"市{ci}", "37"))
        for co in draw(st.lists(st.integers(1, 4), min_size=1, max_size=3, unique=True)):
            county = f"{city}{co:02d}"
            recs.append((county, f"县{county}", city))
            for tw in draw(st.lists(st.sampled_from(_TOWNSHIPS), max_size=3, unique=True)):
                town = f"{county}{tw:03d}"
                recs.append((town, f"乡{town}", county))
                for vi in draw(st.lists(st.sampled_from(_VILLAGES), max_size=3, unique=True)):
                    recs.append((f"{town}{vi:03d}", f"村{town}{vi:03d}", town))
    tree = RegionTree.from_records(recs)
    assert tree.report.ok
    return tree


def _free_recodes(tree: RegionTree, code: str) -> list[str]:
    lo, hi = _SEGMENTS[tree.level(code)]
    width = hi - lo
    out = []
    for n in (1, 2, 5, 9, 11, 150, 299):
        if n >= 10**width:
            continue
        new = code[:lo] + f"{n:0{width}d}" + code[hi:]
        if new not in tree:
            out.append(new)
    return out


def _draw_change(data: st.DataObject, tree: RegionTree, when: date) -> RegionChange | None:
    regions = list(tree)
    kind = data.draw(st.sampled_from(["rename", "merge", "move", "recode"]))
    if kind == "rename":
        r = data.draw(st.sampled_from(regions))
        return RegionChange.rename(r.code, f"新{r.code}", effective=when)
    if kind == "merge":
        pairs = [
            (a.code, b.code)
            for p in regions
            for a in tree.children(p.code)
            for b in tree.children(p.code)
            if a.code != b.code and a.level is b.level
        ]
        if not pairs:
            return None
        a, b = data.draw(st.sampled_from(pairs))
        return RegionChange.merge(a, into=b, effective=when)
    if kind == "move":
        pairs = [(r.code, t.code) for r in regions for t in regions if t.level < r.level]
        a, b = data.draw(st.sampled_from(pairs))
        return RegionChange.move(a, to=b, effective=when)
    options = [(r.code, n) for r in regions[1:] for n in _free_recodes(tree, r.code)]
    a, n = data.draw(st.sampled_from(options))
    return RegionChange.recode(a, n, effective=when)


@given(tree=small_trees(), data=st.data())
@settings(deadline=None, max_examples=150)
def test_any_valid_sequence_keeps_counts_codes_and_totals(
    tree: RegionTree, data: st.DataObject
) -> None:
    before = records(tree)
    cur = tree
    changes: list[RegionChange] = []
    steps = []
    merged = 0
    for i in range(data.draw(st.integers(1, 6), label="steps")):
        ch = _draw_change(data, cur, date(2020, 1, 1) + timedelta(days=i))
        if ch is None:
            continue
        step = apply_changes(cur, [ch])  # each step is valid on the tree before it
        changes.append(ch)
        steps.append(step.mapping)
        merged += ch.kind is ChangeKind.MERGE
        event(ch.kind.value)
        cur = step.tree

    event(f"{len(changes)} changes, {merged} merges")
    res = apply_changes(tree, changes)
    assert records(tree) == before  # the input tree is immutable
    assert len(res.tree) == len(tree) - merged
    assert records(res.tree) == records(cur)  # all at once = one by one
    assert res.applied == tuple(changes)
    for r in tree:
        new = res.mapping.map(r.code)
        assert len(new) == 1 and new[0] in res.tree
        composed = r.code
        for m in steps:
            composed = m.one(composed)
        assert new[0] == composed

    codes = [r.code for r in tree]
    values = data.draw(
        st.dictionaries(st.sampled_from(codes), st.integers(0, 10_000), max_size=len(codes)),
        label="values",
    )
    total = sum(values.values())
    rekeyed = res.mapping.rekey(values)
    assert sum(rekeyed.values()) == total
    rolled = res.tree.rollup(rekeyed)
    assert sum(rolled.get(root.code, 0) for root in res.tree.roots()) == total
    old_rolled = tree.rollup(values)
    assert sum(old_rolled.get(root.code, 0) for root in tree.roots()) == total


# --- wrong types and None raise InvalidValue naming the field (issue 14) -----------------------


def test_kind_is_converted_and_checked() -> None:
    ch = RegionChange(kind="rename", code=XIFU, effective=D1, name="惜福镇")  # type: ignore[arg-type]
    assert ch.kind is ChangeKind.RENAME
    for bad in (None, "renamed", 1):
        with pytest.raises(InvalidValue, match=r"^kind: ") as exc:
            RegionChange(kind=bad, code=XIFU, effective=D1, name="x")  # type: ignore[arg-type]
        assert "rename, merge, split, move, recode" in str(exc.value)


@pytest.mark.parametrize("name", [5, ["惜福镇"], b"x"])
def test_a_name_is_text(name: object) -> None:
    with pytest.raises(InvalidValue, match=r"^name: "):
        RegionChange.rename(XIFU, name, effective=D1)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match=r"^name: "):
        RegionChange.move(XIFU, to="370215", effective=D1, name=name)  # type: ignore[arg-type]


def test_codes_are_checked_as_given_and_errors_name_their_field() -> None:
    with pytest.raises(InvalidValue, match=r"^code: <int of 16610 bits>: "):
        RegionChange.rename(10**5000, "x", effective=D1)
    with pytest.raises(InvalidValue, match=r"^code: None: "):
        RegionChange.rename(None, "x", effective=D1)  # None, not the text 'None'
    with pytest.raises(InvalidValue, match=r"^target: '37x': "):
        RegionChange.merge(HETAO, into="37x", effective=D1)
    with pytest.raises(InvalidValue, match=r"^target: "):
        RegionChange.recode(HETAO, [370214011], effective=D1)
    with pytest.raises(InvalidValue, match=r"^new_code: '3702140': "):
        RegionChange.move(HETAO, to="370215", new_code="3702140", effective=D1)


@pytest.mark.parametrize("parts", [None, 5, [1, 2], "ab", [SplitPart(code=XIFU, name="a"), None]])
def test_split_parts_are_split_parts(parts: object) -> None:
    with pytest.raises(InvalidValue, match=r"^parts: "):
        RegionChange.split(XIFU, parts, effective=D1)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match=r"^parts: "):
        RegionChange(kind=ChangeKind.RENAME, code=XIFU, effective=D1, name="x", parts=parts)  # type: ignore[arg-type]


@pytest.mark.parametrize("children", [None, 5, "370214008001", {"370214008001": 1}])
def test_split_part_children_are_a_list_of_codes(children: object) -> None:
    with pytest.raises(InvalidValue, match=r"^children: "):
        SplitPart(code=XIFU, name="a", children=children)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match=r"^children: '37x'"):
        SplitPart(code=XIFU, name="a", children=["370214008001", "37x"])


def test_code_mapping_checks_its_changes() -> None:
    for bad, field in [
        (None, "changes"),
        ([(HETAO, HONGDAO)], "changes"),
        ({"37x": (HONGDAO,)}, "changes"),
        ({HETAO: HONGDAO}, f"changes['{HETAO}']"),
        ({HETAO: ()}, f"changes['{HETAO}']"),
        ({HETAO: ("37x",)}, f"changes['{HETAO}']"),
    ]:
        with pytest.raises(InvalidValue) as exc:
            CodeMapping(changes=bad)  # type: ignore[arg-type]
        assert exc.value.field == field
    m = CodeMapping(changes={"370214010": ["370214009"]})  # type: ignore[dict-item]
    assert m.changes == {HETAO: (HONGDAO,)}


def test_rekey_wants_a_mapping_of_numbers() -> None:
    m = CodeMapping(changes={HETAO: (HONGDAO,)})
    with pytest.raises(InvalidValue, match=r"^values: "):
        m.rekey(None)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match=r"^values: "):
        m.rekey([(HETAO, 1)])  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match=r"^values\['370214009'\]: '3': "):
        m.rekey({HETAO: 1, "370214009": "3"})  # type: ignore[dict-item]


def test_apply_changes_checks_its_arguments(cy: RegionTree) -> None:
    ok = RegionChange.rename(XIFU, "惜福镇", effective=D1)
    with pytest.raises(InvalidValue, match=r"^tree: "):
        apply_changes(None, [ok])  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match=r"^changes: "):
        apply_changes(cy, None)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match=r"^changes: "):
        apply_changes(cy, ok)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match=r"^changes\[1\]: "):
        apply_changes(cy, [ok, None])  # type: ignore[list-item]
    for as_of in ("2024-06-30", datetime(2024, 6, 30), 2024):
        with pytest.raises(InvalidValue, match=r"^as_of: "):
            apply_changes(cy, [ok], as_of=as_of)  # type: ignore[arg-type]
    assert apply_changes(cy, (c for c in [ok])).tree[XIFU].name == "惜福镇"
