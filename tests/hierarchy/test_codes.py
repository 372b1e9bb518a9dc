"""Region codes: every accepted spelling, every rejection, and the structure read from the digits."""

from __future__ import annotations

import attrs
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from strategies import DIGITS, any_input, code_forms, levels, region_codes
from zhiyuan.errors import InvalidValue
from zhiyuan.hierarchy import Level, RegionCode, normalize_code
from zhiyuan.hierarchy.codes import level_of, parent_of

# --- Level -----------------------------------------------------------------------------------

ORDER = [Level.PROVINCE, Level.CITY, Level.COUNTY, Level.TOWNSHIP, Level.VILLAGE]


def test_level_depths_digits_and_names() -> None:
    assert [lv.depth for lv in ORDER] == [1, 2, 3, 4, 5]
    assert [lv.digits for lv in ORDER] == [2, 4, 6, 9, 12]
    assert [lv.zh for lv in ORDER] == ["省级", "市级", "县级", "乡级", "村级"]
    assert [lv.value for lv in ORDER] == ["province", "city", "county", "township", "village"]
    assert list(Level) == ORDER


@pytest.mark.parametrize("depth", [1, 2, 3, 4, 5])
def test_level_from_depth(depth: int) -> None:
    assert Level.from_depth(depth) is ORDER[depth - 1]


@pytest.mark.parametrize("depth", [0, 6, -1, 100])
def test_level_from_bad_depth(depth: int) -> None:
    with pytest.raises(InvalidValue, match=rf"^depth: {depth}: "):
        Level.from_depth(depth)


@given(levels, levels)
def test_level_order_follows_depth(a: Level, b: Level) -> None:
    assert (a < b) == (a.depth < b.depth)
    assert (a <= b) == (a.depth <= b.depth)
    assert (a > b) == (a.depth > b.depth)
    assert (a >= b) == (a.depth >= b.depth)


def test_level_does_not_compare_with_other_types() -> None:
    with pytest.raises(TypeError):
        _ = Level.CITY < 3  # type: ignore[operator]
    assert sorted([Level.VILLAGE, Level.PROVINCE, Level.TOWNSHIP]) == [
        Level.PROVINCE,
        Level.TOWNSHIP,
        Level.VILLAGE,
    ]


# --- normalize_code: what it accepts ---------------------------------------------------------


@pytest.mark.parametrize(
    ("given_", "expected"),
    [
        ("37", "370000000000"),
        ("3706", "370600000000"),
        ("370602", "370602000000"),
        ("370602001", "370602001000"),
        ("370602001001", "370602001001"),
        ("370000000000", "370000000000"),
        ("441900003", "441900003000"),  # 东莞: a township straight under the city
        ("350527000", "350527000000"),  # 金门's placeholder township pads onto the county
        (37, "370000000000"),
        (3706, "370600000000"),
        (370602, "370602000000"),
        (370602001, "370602001000"),
        (370602001001, "370602001001"),
        ("  3706 ", "370600000000"),
        ("\t370602\n", "370602000000"),
        ("\u30003706\u3000", "370600000000"),  # ideographic space
        ("3706\r\n", "370600000000"),
    ],
)
def test_normalize_accepted_forms(given_: object, expected: str) -> None:
    assert normalize_code(given_) == expected


def test_normalize_accepts_a_region_code() -> None:
    assert normalize_code(RegionCode("370602000000")) == "370602000000"


@given(region_codes())
def test_normalize_every_form_of_a_code_gives_the_code(code: str) -> None:
    short = code[: DIGITS[level_of(code)]]
    for form in (code, short, int(code), int(short), f" {short}\t", RegionCode(code)):
        assert normalize_code(form) == code


@given(st.data())
def test_normalize_code_forms_strategy(data: st.DataObject) -> None:
    code = data.draw(region_codes())
    assert normalize_code(data.draw(code_forms(code))) == code


# --- normalize_code: what it rejects ---------------------------------------------------------

LENGTH = "区划代码应为 2、4、6、9 或 12 位数字 / a region code has 2, 4, 6, 9 or 12 digits"


@pytest.mark.parametrize(
    "bad",
    [
        "",
        " ",
        "3",
        "370",
        "37060",
        "3706020",
        "37060200",
        "3706020010",
        "37060200100",
        "3706020010010",
        "37x6",
        "37 06",
        "37-06",
        "+3706",
        "-370",
        "３７",  # full-width digits
        "３７０６",
        "37０6",
        "٣٧",  # Arabic-Indic digits
        "²³",  # superscripts are str.isdigit()
        "3706.0",
        "0x3706",
        3,
        370,
        -37,
        -3706,
        37060,
        1234567890123,
    ],
)
def test_normalize_rejects_wrong_length_and_non_ascii_digits(bad: object) -> None:
    with pytest.raises(InvalidValue) as exc:
        normalize_code(bad)
    assert exc.value.field == "code"
    assert exc.value.value == bad
    assert exc.value.reason == LENGTH
    assert str(exc.value) == f"code: {bad!r}: {LENGTH}"


@pytest.mark.parametrize("bad", [True, False])
def test_normalize_rejects_bools(bad: bool) -> None:
    with pytest.raises(InvalidValue, match="not a bool"):
        normalize_code(bad)


@pytest.mark.parametrize("bad", [None, 3706.0, 37.0, b"3706", ["37"], ("37",), {"code": "37"}])
def test_normalize_rejects_non_strings(bad: object) -> None:
    with pytest.raises(InvalidValue, match="a region code is a string of digits") as exc:
        normalize_code(bad)
    assert exc.value.value == bad


@pytest.mark.parametrize("bad", ["00", "0037", "000000000000", "001234567890", "000100"])
def test_normalize_rejects_province_00(bad: str) -> None:
    with pytest.raises(InvalidValue, match="cannot be 00"):
        normalize_code(bad)


def test_normalize_names_the_field_it_checks() -> None:
    with pytest.raises(InvalidValue, match=r"^parent_code: '37x': ") as exc:
        normalize_code("37x", field="parent_code")
    assert exc.value.field == "parent_code"


@given(any_input())
def test_no_input_crashes_normalize(value: object) -> None:
    try:
        out = normalize_code(value)
    except InvalidValue:
        return
    assert isinstance(out, str)
    assert len(out) == 12
    assert out.isascii()
    assert out.isdigit()
    assert out[:2] != "00"


@given(st.text())
def test_no_text_crashes_the_parser(text: str) -> None:
    try:
        code = RegionCode.parse(text)
    except InvalidValue:
        return
    assert code.value == normalize_code(text)
    assert text.strip().isascii()


@given(st.integers())
def test_no_int_crashes_the_parser(n: int) -> None:
    try:
        code = RegionCode.parse(n)
    except InvalidValue:
        assert n < 10 or len(str(n)) not in (2, 4, 6, 9, 12)
        return
    assert code.value.startswith(str(n))
    assert len(str(n)) in (2, 4, 6, 9, 12)


@given(st.text(alphabet="0123456789", min_size=0, max_size=14))
def test_digit_strings_accepted_exactly_at_level_lengths(text: str) -> None:
    ok = len(text) in (2, 4, 6, 9, 12) and not text.startswith("00")
    try:
        out = normalize_code(text)
    except InvalidValue:
        assert not ok
    else:
        assert ok
        assert out == text.ljust(12, "0")


# --- RegionCode ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad", ["3706", "37060200100x", "３７０６０２００１００１", 370602001001, None, "000000000000"]
)
def test_region_code_constructor_wants_12_ascii_digits(bad: object) -> None:
    with pytest.raises(InvalidValue):
        RegionCode(bad)  # type: ignore[arg-type]


def test_region_code_is_frozen_ordered_and_hashable() -> None:
    a, b = RegionCode.parse("3706"), RegionCode.parse("370602")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        a.value = "370700000000"  # type: ignore[misc]
    assert a < b
    assert {a, RegionCode("370600000000")} == {a}
    assert str(a) == "370600000000"
    assert repr(a) == "RegionCode(value='370600000000')"


@pytest.mark.parametrize(
    ("code", "level", "short", "parent"),
    [
        ("37", Level.PROVINCE, "37", None),
        ("3706", Level.CITY, "3706", "370000000000"),
        ("370602", Level.COUNTY, "370602", "370600000000"),
        ("370602001", Level.TOWNSHIP, "370602001", "370602000000"),
        ("370602001001", Level.VILLAGE, "370602001001", "370602001000"),
        ("441900003", Level.TOWNSHIP, "441900003", "441900000000"),  # 东莞 has no counties
        ("441900003001", Level.VILLAGE, "441900003001", "441900003000"),
        ("350527000000", Level.COUNTY, "350527", "350500000000"),  # 金门's village pads to county
        ("110000001", Level.TOWNSHIP, "110000001", "110000000000"),  # zero city and county
        ("370000000001", Level.VILLAGE, "370000000001", "370000000000"),
    ],
)
def test_level_short_and_parent(code: str, level: Level, short: str, parent: str | None) -> None:
    c = RegionCode.parse(code)
    assert c.level is level
    assert c.short == short
    assert (c.parent.value if c.parent else None) == parent
    assert level_of(c.value) is level
    assert parent_of(c.value) == parent


def test_ancestors_nearest_first_skipping_zero_segments() -> None:
    assert [a.value for a in RegionCode.parse("370602001001").ancestors()] == [
        "370602001000",
        "370602000000",
        "370600000000",
        "370000000000",
    ]
    assert [a.value for a in RegionCode.parse("441900003001").ancestors()] == [
        "441900003000",
        "441900000000",
        "440000000000",
    ]
    assert RegionCode.parse("37").ancestors() == []


@pytest.mark.parametrize(
    ("code", "ancestor", "expected"),
    [
        ("370602001001", "37", True),
        ("370602001001", "3706", True),
        ("370602001001", "370602", True),
        ("370602001001", "370602001", True),
        ("370602001001", "370602001001", True),
        ("370602001001", "3702", False),
        ("370602001001", "370602002", False),
        ("370602001001", "370602001002", False),
        ("3706", "370602", False),  # an ancestor is not within its descendant
        ("37", "370602001001", False),
        ("441900003001", "4419", True),
        ("370000000001", "37", True),
        ("370000000001", "370000001", False),
    ],
)
def test_is_within(code: str, ancestor: str, expected: bool) -> None:
    assert RegionCode.parse(code).is_within(RegionCode.parse(ancestor)) is expected


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("370602001", "街道"),
        ("370214008", "街道"),  # 惜福镇街道: a 街道 despite its name
        ("370602099", "街道"),
        ("370602100", "镇"),
        ("469001198", "镇"),  # 县直辖村级区划 placeholders sit at 198
        ("370602200", "乡"),
        ("370602399", "乡"),
        ("370602400", "其他"),
        ("230381500", "其他"),  # 八五〇农场
        ("370602999", "其他"),
        ("37", None),
        ("3706", None),
        ("370602", None),
        ("370602001001", None),
    ],
)
def test_township_kind(code: str, kind: str | None) -> None:
    assert RegionCode.parse(code).township_kind == kind


# --- properties ------------------------------------------------------------------------------


@given(region_codes())
def test_parse_short_round_trips(code: str) -> None:
    c = RegionCode(code)
    assert RegionCode.parse(c.short) == c
    assert RegionCode.parse(str(c)) == c
    assert RegionCode.parse(int(c.short)) == c
    assert len(c.short) == c.level.digits


@given(levels.flatmap(lambda lv: st.tuples(st.just(lv), region_codes(lv))))
def test_generated_code_has_the_requested_level(pair: tuple[Level, str]) -> None:
    level, code = pair
    assert RegionCode(code).level is level


@given(region_codes())
def test_ancestors_are_shallower_prefixes_ending_at_a_province(code: str) -> None:
    c = RegionCode(code)
    chain = c.ancestors()
    depths = [a.level.depth for a in [c, *chain]]
    assert depths == sorted(depths, reverse=True)
    assert len(set(depths)) == len(depths)
    for a in chain:
        assert c.is_within(a)
        assert not a.is_within(c)
        assert code.startswith(a.short)
    if chain:
        assert chain[-1].level is Level.PROVINCE
        assert chain[0] == c.parent
    else:
        assert c.level is Level.PROVINCE
        assert c.parent is None


@given(region_codes(), region_codes())
def test_is_within_agrees_with_the_ancestor_chain(a: str, b: str) -> None:
    ca, cb = RegionCode(a), RegionCode(b)
    assert ca.is_within(cb) == (ca == cb or cb in ca.ancestors())


@given(region_codes())
def test_is_within_every_prefix_of_the_code(code: str) -> None:
    c = RegionCode(code)
    for digits in (2, 4, 6, 9, 12):
        prefix = code[:digits]
        if digits > c.level.digits:
            continue
        assume(not prefix.startswith("00"))
        anc = RegionCode.parse(prefix)
        assert c.is_within(anc)


@given(region_codes())
def test_township_kind_only_for_townships(code: str) -> None:
    c = RegionCode(code)
    kind = c.township_kind
    if c.level is Level.TOWNSHIP:
        assert kind == {"0": "街道", "1": "镇", "2": "乡", "3": "乡"}.get(code[6], "其他")
    else:
        assert kind is None


# --- bad input of every type raises InvalidValue, never a bare built-in error (issue 14) -------


@pytest.mark.parametrize(
    "huge",
    [10**12, 10**5000, -(10**5000), -37, 0],
    ids=["1e12", "1e5000", "-1e5000", "-37", "0"],  # pytest cannot write 10**5000 out either
)
def test_normalize_rejects_ints_out_of_range_without_writing_them_out(huge: int) -> None:
    # str() of an int of more than 4,300 digits raises ValueError; the check comes first.
    with pytest.raises(InvalidValue, match=r"^region_code: ") as exc:
        normalize_code(huge, field="region_code")
    assert exc.value.field == "region_code"
    assert "2, 4, 6, 9 or 12 digits" in str(exc.value)
    if huge.bit_length() > 10_000:
        assert f"<int of {huge.bit_length()} bits>" in str(exc.value)


def test_region_code_of_a_huge_int_is_invalid_value() -> None:
    with pytest.raises(InvalidValue, match=r"^code: <int of 16610 bits>: "):
        RegionCode(10**5000)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match=r"^code: <int of 16610 bits>: "):
        RegionCode.parse(10**5000)


def test_long_values_are_cut_short_in_messages() -> None:
    with pytest.raises(InvalidValue) as exc:
        normalize_code("3" * 10_000)
    assert len(str(exc.value)) < 300
    assert "…" in str(exc.value)


@pytest.mark.parametrize(
    "depth",
    ["3", 3.0, True, None, [3], 10**5000],
    ids=["str", "float", "bool", "none", "list", "huge"],
)
def test_level_from_depth_wants_a_whole_number(depth: object) -> None:
    with pytest.raises(InvalidValue, match=r"^depth: ") as exc:
        Level.from_depth(depth)  # type: ignore[arg-type]
    assert exc.value.field == "depth"


@pytest.mark.parametrize("value", ["County", "县级", 3, None, ["county"], ""])
def test_level_by_value_names_the_allowed_values(value: object) -> None:
    with pytest.raises(InvalidValue, match=r"^level: ") as exc:
        Level(value)
    assert isinstance(exc.value, ValueError)  # as the enum raised before
    assert "province, city, county, township or village" in str(exc.value)
    assert Level("county") is Level.COUNTY


def test_is_within_takes_any_code_form_and_checks_it() -> None:
    code = RegionCode.parse("370602001")
    assert code.is_within("3706")
    assert code.is_within(37)
    assert not code.is_within("3702")
    for bad in (None, "37x", 1.5):
        with pytest.raises(InvalidValue, match=r"^ancestor: "):
            code.is_within(bad)  # type: ignore[arg-type]


@given(st.one_of(st.text(), st.from_regex(r"\s*[0-9０-９]{1,13}\s*", fullmatch=True)))
def test_no_text_makes_codes_raise_anything_but_invalid_value(text: str) -> None:
    for make in (
        normalize_code,
        RegionCode,
        RegionCode.parse,
        lambda t: RegionCode.parse("370602001001").is_within(t),
    ):
        try:
            make(text)
        except InvalidValue as exc:
            assert str(exc)
