"""Region arrays (zhiyuan.bulk.regions) equal the object path of RegionTree, code for code.

The property tests draw codes from the real whole-country tree (``nbs_tree``) in every accepted
form; the error tests check that what the tree refuses is refused, naming ``codes[i]``. The
tree's own fast paths (``is_within``, ``within_mask``) and column accessors are checked against
its rows here too.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from strategies import any_input, code_forms
from zhiyuan.bulk import regions as R
from zhiyuan.errors import InvalidValue, UnknownRegion
from zhiyuan.hierarchy import Level, RegionTree, normalize_code

LEVELS = list(Level)


def _rows_of(tree: RegionTree) -> st.SearchStrategy[int]:
    return st.integers(0, len(tree) - 1)


def _object_ancestor(tree: RegionTree, code: str, level: Level) -> int:
    """The object path's ancestor at ``level`` (itself included), -1 if none."""
    region = tree[code]
    for r in [region, *tree.ancestors(code)]:
        if r.level is level:
            return int(r.code)
    return -1


# --- the tree's columns and fast paths -----------------------------------------------------------


def test_columns_are_read_only_views(seed_tree: RegionTree) -> None:
    for column in (seed_tree.parent_rows, seed_tree.subtree_sizes, seed_tree.code_ints):
        assert column.readonly
        with pytest.raises(TypeError):
            column[0] = 1
    assert len(seed_tree.depths) == len(seed_tree.names) == len(seed_tree)


def test_columns_match_the_regions(seed_tree: RegionTree) -> None:
    parents, sizes, ints = seed_tree.parent_rows, seed_tree.subtree_sizes, seed_tree.code_ints
    assert list(ints) == sorted(ints) == [int(c) for c in seed_tree.codes]
    for i, region in enumerate(seed_tree):
        assert seed_tree.row(region.code) == i
        assert seed_tree.names[i] == region.name
        assert Level.from_depth(seed_tree.depths[i]) is region.level
        p = parents[i]
        assert (seed_tree.codes[p] if p >= 0 else None) == region.parent_code
        assert sizes[i] == seed_tree.subtree_size(region.code)


@given(data=st.data())
def test_is_within_is_the_row_range(nbs_tree: RegionTree, data: st.DataObject) -> None:
    i = data.draw(_rows_of(nbs_tree))
    # The ancestor: one of i's ancestors (or i) half the time, any region otherwise.
    chain = [nbs_tree.row(i_code.code) for i_code in nbs_tree.ancestors(nbs_tree.codes[i])]
    a = data.draw(st.sampled_from([i, *chain]) | _rows_of(nbs_tree))
    expected = a <= i < a + nbs_tree.subtree_sizes[a]
    code, anc = nbs_tree.codes[i], nbs_tree.codes[a]
    assert nbs_tree.is_within(code, anc) is expected
    assert nbs_tree.is_within(data.draw(code_forms(code)), data.draw(code_forms(anc))) is expected
    assert nbs_tree.within_mask([code, data.draw(code_forms(code))], anc) == [expected] * 2


def test_is_within_refuses_as_before(seed_tree: RegionTree) -> None:
    with pytest.raises(UnknownRegion):
        seed_tree.is_within("370699000000", "3706")
    with pytest.raises(UnknownRegion):
        seed_tree.is_within("370602001001", "370699000000")
    with pytest.raises(InvalidValue):
        seed_tree.is_within(["370602"], "3706")
    with pytest.raises(InvalidValue):
        seed_tree.within_mask(["370602", ["x"]], "3706")
    with pytest.raises(UnknownRegion):
        seed_tree.within_mask(["370602", "370699"], "3706")


def test_tree_imports_without_numpy() -> None:
    """hierarchy (the tree, its columns, its cache) needs no numpy."""
    code = (
        "import sys; sys.modules['numpy'] = None\n"
        "from zhiyuan.hierarchy import load_default\n"
        "t = load_default()\n"
        "assert t.is_within('370602001001', '3706') and t.code_ints[0] == 140000000000\n"
        "assert 'numpy' not in {m.split('.')[0] for m in sys.modules if sys.modules[m]}\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parent)


# --- the array forms equal the object forms --------------------------------------------------------


@st.composite
def code_columns(draw: st.DrawFn, tree: RegionTree) -> tuple[list[str], list[object]]:
    """Canonical codes of random rows, and the same codes in random accepted forms."""
    rows = draw(st.lists(_rows_of(tree), min_size=1, max_size=30))
    codes = [tree.codes[i] for i in rows]
    forms = [draw(code_forms(c)) for c in codes]
    return codes, forms


@given(data=st.data())
def test_rows_within_ancestors_equal_the_objects(nbs_tree: RegionTree, data: st.DataObject) -> None:
    codes, forms = data.draw(code_columns(nbs_tree))
    as_ints = [int(c) for c in codes]
    rows = [nbs_tree.row(c) for c in codes]
    for given_form in (codes, forms, as_ints, np.array(as_ints), np.array(codes)):
        assert R.region_rows(nbs_tree, given_form).tolist() == rows
        assert R.parse_codes(given_form).tolist() == as_ints
    ancestor = data.draw(st.sampled_from(codes)) if data.draw(st.booleans()) else "3706"
    ancestor = ancestor[: data.draw(st.sampled_from([2, 4, 6, 9, 12]))].ljust(2, "0")
    if ancestor.startswith("00") or normalize_code(ancestor) not in nbs_tree:
        ancestor = codes[0]
    expected = [nbs_tree.is_within(c, ancestor) for c in codes]
    assert R.within(nbs_tree, forms, ancestor).tolist() == expected
    assert R.within(nbs_tree, codes, int(normalize_code(ancestor))).tolist() == expected
    pairs = list(reversed(codes))
    assert R.within(nbs_tree, codes, pairs).tolist() == [
        nbs_tree.is_within(c, a) for c, a in zip(codes, pairs, strict=True)
    ]
    level = data.draw(st.sampled_from(LEVELS))
    got = R.ancestor_codes(nbs_tree, forms, level).tolist()
    assert got == [_object_ancestor(nbs_tree, c, level) for c in codes]
    assert R.ancestor_codes(nbs_tree, codes, level.value).tolist() == got


@given(data=st.data())
def test_rollup_equals_the_object_rollup(nbs_tree: RegionTree, data: st.DataObject) -> None:
    codes, forms = data.draw(code_columns(nbs_tree))
    values = data.draw(
        st.lists(st.integers(-(10**9), 10**9), min_size=len(codes), max_size=len(codes))
    )
    expected = nbs_tree.rollup(list(zip(codes, values, strict=True)))
    totals = R.rollup(nbs_tree, forms, values)
    assert totals.to_dict() == expected
    assert list(expected) == [nbs_tree.codes[i] for i in totals.rows]  # the same preorder
    assert totals.codes.tolist() == [int(c) for c in expected]
    level = data.draw(st.sampled_from(LEVELS))
    at_level = R.rollup(nbs_tree, np.array(codes), np.array(values), level=level).to_dict()
    assert at_level == {c: v for c, v in expected.items() if nbs_tree.level(c) is level}


def test_rollup_forms_of_values(seed_tree: RegionTree) -> None:
    codes = ["370602001001", "370602001002", "3702"]
    want = seed_tree.rollup(dict(zip(codes, [5, 7, 1], strict=True)))
    for values in ([5, 7, 1], np.array([5, 7, 1], dtype=np.uint8), np.array([5.0, 7.0, 1.0])):
        assert R.rollup(seed_tree, codes, values).to_dict() == want
    empty = R.rollup(seed_tree, [], [])
    assert empty.rows.size == 0 and empty.to_dict() == {}
    zero = R.rollup(seed_tree, ["3706"], [0]).to_dict()  # a zero is still a value
    assert zero == seed_tree.rollup({"3706": 0}) == {"370000000000": 0, "370600000000": 0}


def test_rollup_of_a_large_column(nbs_tree: RegionTree) -> None:
    rng = np.random.default_rng(3)
    rows = rng.integers(0, len(nbs_tree), 20_000)
    codes = [nbs_tree.codes[i] for i in rows.tolist()]
    values = rng.integers(0, 600, rows.size)
    want = nbs_tree.rollup(list(zip(codes, values.tolist(), strict=True)))
    assert R.rollup(nbs_tree, codes, values).to_dict() == want


# --- refusals --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("codes", "field", "shown"),
    [
        (["3706", "37060"], "codes[1]", "'37060'"),
        (["3706", "00"], "codes[1]", "'00'"),
        (["3706", "３７"], "codes[1]", "'３７'"),
        (["3706", 3706.0], "codes[1]", "3706.0"),
        (["3706", True], "codes[1]", "True"),
        (["3706", None], "codes[1]", "None"),
        (["3706", b"3706"], "codes[1]", "b'3706'"),
        (["3706", "370602001001x"], "codes[1]", "'370602001001x'"),
        ([3706, 37060], "codes[1]", "37060"),
        ([3706, 10**12], "codes[1]", "1000000000000"),
        ([3706, -37], "codes[1]", "-37"),
        (np.array([3706, 0]), "codes[1]", "0"),
        (np.array([3706.0]), "codes[0]", "3706.0"),
        (np.array(["3706", "3" * 40]), "codes[1]", "'" + "3" * 40 + "'"),
    ],
)
def test_malformed_codes_name_index_and_value(
    seed_tree: RegionTree, codes: object, field: str, shown: str
) -> None:
    with pytest.raises(InvalidValue) as err:
        R.region_rows(seed_tree, codes)
    assert err.value.field == field
    assert err.value.shown == shown
    assert " / " in err.value.reason  # bilingual


def test_unknown_code_names_index_and_code(seed_tree: RegionTree) -> None:
    with pytest.raises(UnknownRegion) as err:
        R.region_rows(seed_tree, ["370602", 370699])
    assert err.value.what == "region at codes[1]" and err.value.key == "370699000000"
    with pytest.raises(UnknownRegion, match="370699000000"):
        R.within(seed_tree, ["370602"], "370699")
    with pytest.raises(UnknownRegion, match=r"ancestor\[1\]"):
        R.within(seed_tree, ["370602", "3706"], ["3706", "370699"])
    with pytest.raises(UnknownRegion, match=r"codes\[0\]"):
        R.rollup(seed_tree, ["110101"], [1])


def test_other_refusals(seed_tree: RegionTree) -> None:
    with pytest.raises(InvalidValue, match="ancestor"):
        R.within(seed_tree, ["370602"], "37x")
    with pytest.raises(InvalidValue, match="ancestor"):
        R.within(seed_tree, ["370602", "3706"], ["3706"])
    with pytest.raises(InvalidValue, match="codes"):
        R.region_rows(seed_tree, "370602")  # one code, not a column
    with pytest.raises(InvalidValue, match="codes"):
        R.region_rows(seed_tree, np.array([["370602"]]))
    with pytest.raises(InvalidValue, match="tree"):
        R.region_rows("not a tree", ["3706"])  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="level"):
        R.ancestor_codes(seed_tree, ["3706"], "district")
    with pytest.raises(InvalidValue, match=r"values\[1\]"):
        R.rollup(seed_tree, ["3706", "3702"], [1, 1.5])
    with pytest.raises(InvalidValue, match=r"values\[0\]"):
        R.rollup(seed_tree, ["3706"], [float("nan")])
    with pytest.raises(InvalidValue, match=r"values\[1\]"):
        R.rollup(seed_tree, ["3706", "3702"], [1, "2"])
    with pytest.raises(InvalidValue, match="values"):
        R.rollup(seed_tree, ["3706", "3702"], [1])
    with pytest.raises(InvalidValue, match=r"totals\[370000000000\]"):
        R.rollup(seed_tree, ["3706", "3702"], [2**62, 2**62])  # Shandong's total overflows
    big = R.rollup(seed_tree, ["3706", "3702", "3706"], [2**62, 2**62, -(2**62)]).to_dict()
    assert big == seed_tree.rollup([("3706", 2**62), ("3702", 2**62), ("3706", -(2**62))])


TWELVE = st.one_of(
    st.from_regex(r"[1-9][0-9]{11}", fullmatch=True),  # a code
    st.from_regex(r"00[0-9]{10}", fullmatch=True),  # province 00
    st.from_regex(r"[0-9]{5}[ a/:９][0-9]{6}", fullmatch=True),  # one character not a digit
)


@given(items=st.lists(any_input(), min_size=1, max_size=5))
def test_parse_refuses_what_normalize_refuses(items: list[object]) -> None:
    _parses_as_normalize_does(items)


@given(items=st.lists(TWELVE, min_size=1, max_size=40))
def test_twelve_character_columns_parse_as_normalize_reads_them(items: list[str]) -> None:
    """Strings of exactly 12 characters take the byte-matrix path: its digits, its province
    check and the row it names when one is bad agree with :func:`normalize_code`."""
    _parses_as_normalize_does(items)


def _parses_as_normalize_does(items: list[object]) -> None:
    expected: list[int] = []
    first_bad = None
    for i, item in enumerate(items):
        try:
            expected.append(int(normalize_code(item)))
        except InvalidValue:
            first_bad = i
            break
    if first_bad is None:
        assert R.parse_codes(items).tolist() == expected
    else:
        with pytest.raises(InvalidValue) as err:
            R.parse_codes(items)
        assert err.value.field == f"codes[{first_bad}]"


def test_empty_tree_and_empty_columns(seed_tree: RegionTree) -> None:
    empty = RegionTree.from_records([])
    with pytest.raises(UnknownRegion, match=r"codes\[0\]"):
        R.region_rows(empty, ["3706"])
    assert R.region_rows(empty, []).tolist() == []
    assert R.rollup(empty, [], []).to_dict() == {}
    assert len(R.region_frame(empty)) == 0
    assert R.within(seed_tree, [], "3706").tolist() == []
    assert R.ancestor_codes(seed_tree, np.zeros(0, dtype=np.int64), "city").tolist() == []


def test_series_input(seed_tree: RegionTree) -> None:
    import pandas as pd
    import polars as pl

    codes = ["370602001001", "3706", "370202"]
    rows = [seed_tree.row(c) for c in codes]
    assert R.region_rows(seed_tree, pd.Series(codes)).tolist() == rows
    assert R.region_rows(seed_tree, pd.Series(codes, dtype=object)).tolist() == rows
    assert R.region_rows(seed_tree, pl.Series(codes)).tolist() == rows
    assert R.region_rows(seed_tree, iter(codes)).tolist() == rows
    assert R.region_rows(seed_tree, pd.Series([int(c) for c in codes])).tolist() == rows


# --- the table -------------------------------------------------------------------------------------


def test_region_frame_pandas(seed_tree: RegionTree) -> None:
    df = R.region_frame(seed_tree, ancestors=[Level.COUNTY, "city"])
    assert list(df.columns) == ["code", "name", "level", "parent", "county", "city"]
    assert len(df) == len(seed_tree)
    assert df["code"].tolist() == list(seed_tree.codes)
    assert df["name"].tolist() == list(seed_tree.names)
    assert df["level"].tolist() == [r.level.value for r in seed_tree]
    parents = [r.parent_code for r in seed_tree]
    assert [None if p != p else p for p in df["parent"].tolist()] == parents
    i = seed_tree.row("370602001001")
    assert df.iloc[i]["county"] == "370602000000" and df.iloc[i]["city"] == "370600000000"
    ints = R.region_frame(seed_tree, ancestors=["county"], int_codes=True)
    assert ints["code"].tolist() == [int(c) for c in seed_tree.codes]
    assert ints["parent"].tolist() == [int(p) if p else -1 for p in parents]
    expected = R.ancestor_codes(seed_tree, list(seed_tree.codes), "county").tolist()
    assert ints["county"].tolist() == expected


def test_region_frame_polars_and_arrow(seed_tree: RegionTree) -> None:
    pl_frame = R.region_frame(seed_tree, ancestors=["province"], kind="polars")
    assert pl_frame.columns == ["code", "name", "level", "parent", "province"]
    assert pl_frame["code"].to_list() == list(seed_tree.codes)
    assert pl_frame["parent"].to_list() == [r.parent_code for r in seed_tree]
    table = R.region_frame(seed_tree, kind="pyarrow")
    assert table.num_rows == len(seed_tree)
    with pytest.raises(InvalidValue, match="kind"):
        R.region_frame(seed_tree, kind="excel")
    with pytest.raises(InvalidValue, match="level"):
        R.region_frame(seed_tree, ancestors=["district"])
