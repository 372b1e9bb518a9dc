"""The converter: lossless JSON/TOML round-trips, and every bad input named with its path."""

from __future__ import annotations

import json
import tomllib
from datetime import UTC, date, datetime, timedelta

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from strategies import (
    SHANGHAI,
    anomaly_kinds,
    aware_datetimes,
    levels,
    naive_datetimes,
    offset_datetimes,
    region_codes,
    region_names,
    regions,
)
from zhiyuan.convert import (
    converter,
    from_json,
    from_toml,
    structure,
    to_json,
    to_toml,
    unstructure,
)
from zhiyuan.errors import InvalidInput, InvalidValue, ZhiyuanError
from zhiyuan.hierarchy import (
    Anomaly,
    AnomalyKind,
    Level,
    Match,
    Region,
    RegionDiff,
    ValidationReport,
)

# --- small value classes of our own, shaped like the library's entries -----------------------


@attrs.frozen(kw_only=True)
class Rec:
    id: str
    start: datetime
    minutes: int = 0


@attrs.frozen(kw_only=True)
class Batch:
    records: list[Rec]
    approved: bool = False


@attrs.frozen(kw_only=True)
class Day:
    day: date


@attrs.frozen(kw_only=True)
class Note:
    text: str
    tags: dict[str, str] = attrs.Factory(dict)
    items: list[str] = attrs.Factory(list)
    nested: dict[str, dict[str, str]] = attrs.Factory(dict)


@attrs.frozen(kw_only=True)
class Text:
    text: str


@attrs.frozen(kw_only=True)
class Levels:
    level: Level
    kinds: list[AnomalyKind] = attrs.Factory(list)
    by_name: dict[str, Level] = attrs.Factory(dict)


T0 = "2026-03-05T09:00:00+08:00"


def messages(excinfo: pytest.ExceptionInfo[InvalidInput]) -> list[str]:
    return excinfo.value.messages


# --- round-trips -----------------------------------------------------------------------------


@given(regions())
def test_region_json_round_trip(region: Region) -> None:
    assert from_json(to_json(region), Region) == region


@given(regions())
def test_region_toml_round_trip(region: Region) -> None:
    assert from_toml(to_toml(region), Region) == region


@given(regions())
def test_region_unstructures_to_plain_json_data(region: Region) -> None:
    data = unstructure(region)
    assert data == {
        "code": region.code,
        "name": region.name,
        "level": region.level.value,
        "parent_code": region.parent_code,
    }
    assert json.loads(to_json(region)) == data


def test_region_json_text_keeps_chinese_characters() -> None:
    r = Region(code="370602000000", name="芝罘区", level=Level.COUNTY, parent_code="370600000000")
    assert to_json(r) == (
        '{"code": "370602000000", "name": "芝罘区", "level": "county", '
        '"parent_code": "370600000000"}'
    )


@given(levels)
def test_level_round_trips_alone(level: Level) -> None:
    assert unstructure(level) == level.value
    assert to_json(level) == f'"{level.value}"'
    assert from_json(to_json(level), Level) is level
    assert structure(level.value, Level) is level


@given(anomaly_kinds)
def test_anomaly_kind_round_trips_alone(kind: AnomalyKind) -> None:
    assert from_json(to_json(kind), AnomalyKind) is kind


@given(
    st.builds(
        Levels,
        level=levels,
        kinds=st.lists(anomaly_kinds),
        by_name=st.dictionaries(st.text(), levels),
    )
)
def test_enums_inside_values_round_trip_json_and_toml(value: Levels) -> None:
    assert from_json(to_json(value), Levels) == value
    assert from_toml(to_toml(value), Levels) == value


@given(
    st.builds(
        ValidationReport,
        anomalies=st.lists(
            st.builds(Anomaly, kind=anomaly_kinds, code=st.text(), detail=st.text()), max_size=4
        ).map(tuple),
    )
)
def test_validation_report_round_trips(report: ValidationReport) -> None:
    assert from_json(to_json(report), ValidationReport) == report
    assert from_toml(to_toml(report), ValidationReport) == report


@given(
    st.builds(
        RegionDiff,
        added=st.lists(region_codes()).map(tuple),
        removed=st.lists(region_codes()).map(tuple),
        renamed=st.lists(st.tuples(region_codes(), region_names(), region_names())).map(tuple),
    )
)
def test_region_diff_round_trips(diff: RegionDiff) -> None:
    assert from_json(to_json(diff), RegionDiff) == diff
    assert from_toml(to_toml(diff), RegionDiff) == diff


@given(regions(), st.text())
def test_match_round_trips(region: Region, path: str) -> None:
    m = Match(region=region, path=path)
    assert from_json(to_json(m), Match) == m
    assert from_toml(to_toml(m), Match) == m


@given(st.lists(st.builds(Rec, id=st.text(), start=aware_datetimes(), minutes=st.integers())))
def test_records_with_shanghai_datetimes_round_trip(records: list[Rec]) -> None:
    batch = Batch(records=records)
    assert from_json(to_json(batch), Batch) == batch
    assert from_toml(to_toml(batch), Batch) == batch


@given(offset_datetimes())
def test_any_offset_is_converted_to_shanghai_same_instant(dt: datetime) -> None:
    for back in (
        from_json(to_json(Rec(id="r", start=dt)), Rec).start,
        from_toml(to_toml(Rec(id="r", start=dt)), Rec).start,
        structure({"id": "r", "start": dt.isoformat()}, Rec).start,
    ):
        assert back == dt  # the same instant
        assert back.tzinfo is SHANGHAI
        assert back.utcoffset() == timedelta(hours=8)


def test_utc_input_becomes_shanghai_wall_time() -> None:
    rec = structure({"id": "r", "start": "2026-03-05T01:00:00+00:00"}, Rec)
    assert rec.start.tzinfo is SHANGHAI
    assert (rec.start.hour, rec.start.minute) == (9, 0)
    assert rec.start.isoformat() == T0


def test_toml_native_datetimes_are_accepted_and_converted() -> None:
    rec = from_toml('id = "r"\nstart = 2026-03-05T01:00:00Z\n', Rec)
    assert rec.start.isoformat() == T0
    assert rec.start.tzinfo is SHANGHAI


def test_toml_native_date_is_accepted_for_a_date() -> None:
    assert from_toml("day = 2026-03-05\n", Day) == Day(day=date(2026, 3, 5))
    assert from_json('{"day": "2026-03-05"}', Day) == Day(day=date(2026, 3, 5))


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)))
def test_dates_round_trip(day: date) -> None:
    assert from_json(to_json(Day(day=day)), Day) == Day(day=day)
    assert from_toml(to_toml(Day(day=day)), Day) == Day(day=day)


# --- naive datetimes and the field path ------------------------------------------------------


def test_naive_datetime_rejected_with_its_path() -> None:
    ok = {"id": "a", "start": T0}
    data = {"records": [ok, ok, ok, {"id": "d", "start": "2026-03-05T09:00:00"}]}
    with pytest.raises(InvalidInput) as exc:
        structure(data, Batch)
    assert messages(exc) == [
        "datetime: '2026-03-05T09:00:00': 缺少时区 / naive datetime: an offset is required"
        " @ $.records[3].start"
    ]


@given(naive_datetimes())
def test_any_naive_datetime_is_rejected(dt: datetime) -> None:
    with pytest.raises(InvalidInput) as exc:
        from_json(json.dumps({"id": "r", "start": dt.isoformat()}), Rec)
    (msg,) = messages(exc)
    assert msg.endswith("@ $.start")
    assert "naive datetime" in msg
    assert dt.isoformat() in msg


def test_naive_datetime_object_is_rejected() -> None:
    with pytest.raises(InvalidInput, match=r"naive datetime.* @ \$\.start$"):
        structure({"id": "r", "start": datetime(2026, 3, 5, 9)}, Rec)


def test_toml_local_datetime_is_naive_and_rejected() -> None:
    with pytest.raises(InvalidInput) as exc:
        from_toml('id = "r"\nstart = 2026-03-05T09:00:00\n', Rec)
    assert messages(exc) == [
        "datetime: '2026-03-05T09:00:00': 缺少时区 / naive datetime: an offset is required"
        " @ $.start"
    ]


def test_toml_date_where_a_datetime_is_needed_is_rejected() -> None:
    with pytest.raises(InvalidInput, match=r"naive datetime.* @ \$\.start$"):
        from_toml('id = "r"\nstart = 2026-03-05\n', Rec)


@pytest.mark.parametrize("bad", ["yesterday", "2026-13-01T00:00:00+08:00", "", 20260305, None])
def test_bad_datetime_rejected_with_path(bad: object) -> None:
    with pytest.raises(InvalidInput) as exc:
        structure({"id": "r", "start": bad}, Rec)
    (msg,) = messages(exc)
    assert msg.startswith(f"datetime: {bad!r}: ")
    assert msg.endswith(" @ $.start")


@pytest.mark.parametrize(
    "bad", ["2026-03-05T09:00:00+08:00", "05/03/2026", "", 20260305, datetime(2026, 3, 5)]
)
def test_bad_date_rejected_with_path(bad: object) -> None:
    with pytest.raises(InvalidInput) as exc:
        structure({"day": bad}, Day)
    (msg,) = messages(exc)
    assert msg.startswith("date: ")
    assert msg.endswith(" @ $.day")


# --- strict scalars --------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [1.5, 1.0, float("nan"), True, False, "5", None, [5]])
def test_int_field_refuses_floats_bools_and_strings(bad: object) -> None:
    with pytest.raises(InvalidInput) as exc:
        structure({"id": "r", "start": T0, "minutes": bad}, Rec)
    assert messages(exc) == [
        f"int: {bad!r}: 需要整数 / need an integer (minutes and points are never floats) @ $.minutes"
    ]


def test_int_field_refuses_a_json_float() -> None:
    with pytest.raises(InvalidInput, match=r"int: 60\.0: .* @ \$\.minutes$"):
        from_json('{"id": "r", "start": "' + T0 + '", "minutes": 60.0}', Rec)


def test_int_field_refuses_a_toml_float_and_bool() -> None:
    with pytest.raises(InvalidInput, match=r"int: 60\.0: .* @ \$\.minutes$"):
        from_toml(f'id = "r"\nstart = "{T0}"\nminutes = 60.0\n', Rec)
    with pytest.raises(InvalidInput, match=r"int: True: .* @ \$\.minutes$"):
        from_toml(f'id = "r"\nstart = "{T0}"\nminutes = true\n', Rec)


@given(st.integers())
def test_int_field_takes_any_int(n: int) -> None:
    assert structure({"id": "r", "start": T0, "minutes": n}, Rec).minutes == n


@pytest.mark.parametrize("bad", [1, 0, "true", None])
def test_bool_field_refuses_non_bools(bad: object) -> None:
    with pytest.raises(InvalidInput) as exc:
        structure({"records": [], "approved": bad}, Batch)
    assert messages(exc) == [f"bool: {bad!r}: 需要布尔值 / need true or false @ $.approved"]


@pytest.mark.parametrize("bad", [1, 1.5, None, ["a"], True])
def test_str_field_refuses_non_strings(bad: object) -> None:
    with pytest.raises(InvalidInput) as exc:
        structure({"id": bad, "start": T0}, Rec)
    assert messages(exc) == [f"str: {bad!r}: 需要字符串 / need a string @ $.id"]


def test_unknown_enum_value_rejected_with_path() -> None:
    with pytest.raises(InvalidInput) as exc:
        structure({"code": "370000000000", "level": "nation"}, Region)
    assert messages(exc) == [
        "Level: 'nation': 应为 / one of province, city, county, township, village @ $.level"
    ]
    with pytest.raises(InvalidInput) as exc:
        structure("Village", Level)
    assert messages(exc) == [
        "Level: 'Village': 应为 / one of province, city, county, township, village @ $"
    ]


# --- unknown and missing keys, wrong shapes --------------------------------------------------


def test_unknown_key_rejected() -> None:
    with pytest.raises(InvalidInput) as exc:
        from_json('{"code": "370602000000", "name": "芝罘区", "level": "county", "x": 1}', Region)
    assert messages(exc) == ["extra fields found (x) @ $"]


def test_unknown_key_rejected_in_nested_values_with_path() -> None:
    data = {"records": [{"id": "a", "start": T0}, {"id": "b", "start": T0, "mins": 5}]}
    with pytest.raises(InvalidInput) as exc:
        structure(data, Batch)
    assert messages(exc) == ["extra fields found (mins) @ $.records[1]"]


def test_unknown_keys_rejected_from_toml() -> None:
    with pytest.raises(InvalidInput) as exc:
        from_toml('code = "37"\nlevel = "province"\nparent = "x"\ncolour = "red"\n', Region)
    assert messages(exc) == ["extra fields found (colour, parent) @ $"]


def test_missing_required_field_named() -> None:
    with pytest.raises(InvalidInput) as exc:
        structure({"start": T0}, Rec)
    assert messages(exc) == ["required field missing @ $.id"]


def test_every_problem_is_reported_at_once() -> None:
    data = {
        "records": [{"id": 1, "start": T0}, {"id": "b", "start": "2026-03-05T09:00:00"}],
        "approved": "yes",
        "extra": None,
    }
    with pytest.raises(InvalidInput) as exc:
        structure(data, Batch)
    msgs = messages(exc)
    assert len(msgs) == 4
    assert {m.rsplit(" @ ", 1)[1] for m in msgs} == {
        "$.records[0].id",
        "$.records[1].start",
        "$.approved",
        "$",
    }
    assert str(exc.value) == "; ".join(msgs)


@pytest.mark.parametrize("bad", [None, "a string", 5, [1, 2], ["id", "start"]])
def test_not_a_mapping_at_the_top(bad: object) -> None:
    with pytest.raises(InvalidInput) as exc:
        structure(bad, Rec)
    assert messages(exc) == ["需要对象 / expected a mapping (a JSON object or TOML table) @ $"]


@pytest.mark.parametrize("text", ["null", '"Rec"', "[]", "42"])
def test_json_that_is_not_an_object(text: str) -> None:
    with pytest.raises(InvalidInput, match=r"expected a mapping .* @ \$$"):
        from_json(text, Rec)


def test_not_a_mapping_nested() -> None:
    with pytest.raises(InvalidInput) as exc:
        structure({"records": [["a", T0]]}, Batch)
    assert messages(exc) == [
        "需要对象 / expected a mapping (a JSON object or TOML table) @ $.records[0]"
    ]


def test_not_a_list() -> None:
    with pytest.raises(InvalidInput) as exc:
        structure({"records": 5}, Batch)
    assert messages(exc) == ["invalid value for type, expected list @ $.records"]


NOT_A_LIST = "需要数组 / need a list (a JSON or TOML array), not a string or object"


@pytest.mark.parametrize("bad", ["370214009000", "", {"370214009000": 1}, b"37"])
def test_a_string_or_mapping_is_not_a_list(bad: object) -> None:
    # cattrs alone would split "370214009000" into twelve one-digit "codes".
    with pytest.raises(InvalidInput) as exc:
        structure({"added": bad}, RegionDiff)
    assert messages(exc) == [f"list: {bad!r}: {NOT_A_LIST} @ $.added"]


def test_a_string_is_not_a_list_anywhere() -> None:
    with pytest.raises(InvalidInput) as exc:
        from_json('{"text": "t", "items": "abc", "nested": {"k": {"a": "b"}}}', Note)
    assert messages(exc) == [f"list: 'abc': {NOT_A_LIST} @ $.items"]
    with pytest.raises(InvalidInput) as exc:
        from_toml('added = ["370214009000"]\nrenamed = ["abc"]\n', RegionDiff)
    assert messages(exc) == [f"list: 'abc': {NOT_A_LIST} @ $.renamed[0]"]


@attrs.frozen(kw_only=True)
class Collections:
    a_list: list[int] = attrs.Factory(list)
    a_tuple: tuple[str, ...] = ()
    a_set: set[str] = attrs.Factory(set)
    a_frozenset: frozenset[str] = frozenset()
    a_pair: tuple[str, int] = ("", 0)


@given(
    st.builds(
        Collections,
        a_list=st.lists(st.integers()),
        a_tuple=st.lists(st.text()).map(tuple),
        a_set=st.sets(st.text()),
        a_frozenset=st.frozensets(st.text()),
        a_pair=st.tuples(st.text(), st.integers()),
    )
)
def test_collections_round_trip_with_their_types(value: Collections) -> None:
    for back in (from_json(to_json(value), Collections), from_toml(to_toml(value), Collections)):
        assert back == value
        assert type(back.a_tuple) is tuple
        assert type(back.a_set) is set
        assert type(back.a_frozenset) is frozenset


@pytest.mark.parametrize("field", ["a_list", "a_tuple", "a_set", "a_frozenset"])
def test_every_collection_refuses_a_string(field: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        structure({field: "12"}, Collections)
    assert messages(exc) == [f"list: '12': {NOT_A_LIST} @ $.{field}"]


def test_collection_elements_are_checked_with_their_index() -> None:
    with pytest.raises(InvalidInput) as exc:
        structure({"a_list": [1, 2.5, True], "a_set": ["x", 3]}, Collections)
    assert [m.rsplit(" @ ", 1)[1] for m in messages(exc)] == [
        "$.a_list[1]",
        "$.a_list[2]",
        "$.a_set[1]",
    ]


def test_dict_values_checked_with_their_key_in_the_path() -> None:
    with pytest.raises(InvalidInput) as exc:
        structure({"level": "city", "by_name": {"烟台": "nope"}}, Levels)
    assert messages(exc) == [
        "Level: 'nope': 应为 / one of province, city, county, township, village @ $.by_name['烟台']"
    ]


# --- malformed text --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["", "{", '{"id": "r",}', "{'id': 'r'}", '{"id": "r"} x', "NaN?", b"\xff\xfe{"]
)
def test_malformed_json_is_invalid_input(text: str | bytes) -> None:
    with pytest.raises(InvalidInput) as exc:
        from_json(text, Rec)
    (msg,) = messages(exc)
    assert msg.startswith("malformed JSON / JSON 格式错误: ")
    assert msg.endswith(" @ $")
    assert isinstance(exc.value, ValueError)
    assert isinstance(exc.value, ZhiyuanError)


def test_json_error_gives_line_and_column() -> None:
    with pytest.raises(InvalidInput, match=r"at line 2 column 10 @ \$$"):
        from_json('{"id": "r",\n "start" "x"}', Rec)


def test_json_bytes_accepted_when_valid_utf8() -> None:
    text = to_json(Region(code="370600000000", name="烟台市", level=Level.CITY))
    assert from_json(text.encode("utf-8"), Region).name == "烟台市"


@pytest.mark.parametrize(
    "text",
    [
        "code = ",
        'code = "37',
        "code = '37'\ncode = '37'",
        "[a\nb = 1",
        'name = "a\\q"',
        "= 1",
        'name = """',
    ],
)
def test_malformed_toml_is_invalid_input(text: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        from_toml(text, Region)
    (msg,) = messages(exc)
    assert msg.startswith("malformed TOML / TOML 格式错误: ")
    assert msg.endswith(" @ $")


@given(st.text())
def test_any_text_round_trips_through_toml(text: str) -> None:
    assert from_toml(to_toml(Text(text=text)), Text) == Text(text=text)


@given(st.text())
def test_no_text_crashes_the_readers(text: str) -> None:
    for reader in (from_json, from_toml):
        try:
            value = reader(text, Region)
        except InvalidInput:
            continue
        assert isinstance(value, Region)


# --- the TOML writer -------------------------------------------------------------------------


def test_toml_writer_escapes_quotes_backslashes_and_control_characters() -> None:
    text = to_toml(Text(text='say "hi"\\ \n\t\x00\x1f\x7f 好'))
    assert text == 'text = "say \\"hi\\"\\\\ \\u000a\\u0009\\u0000\\u001f\\u007f 好"\n'
    assert from_toml(text, Text).text == 'say "hi"\\ \n\t\x00\x1f\x7f 好'


def test_toml_writer_quotes_keys_that_are_not_bare() -> None:
    note = Note(text="", tags={"a b": "1", "ok_key-1": "2", "0\n": "3", "": "4", "烟台": "5"})
    text = to_toml(note)
    assert 'ok_key-1 = "2"' in text
    assert '"a b" = "1"' in text
    assert '"0\\u000a" = "3"' in text
    assert '"" = "4"' in text
    assert from_toml(text, Note) == note


def test_toml_writer_leaves_out_none() -> None:
    r = Region(code="370000000000", name=None, level=Level.PROVINCE)
    assert to_toml(r) == 'code = "370000000000"\nlevel = "province"\n'
    assert from_toml(to_toml(r), Region) == r


def test_toml_writer_tables_and_arrays_of_tables() -> None:
    batch = Batch(records=[Rec(id="a", start=datetime(2026, 3, 5, 9, tzinfo=SHANGHAI))] * 2)
    text = to_toml(batch)
    assert text == (
        "approved = false\n\n"
        '[[records]]\nid = "a"\nstart = "2026-03-05T09:00:00+08:00"\nminutes = 0\n\n'
        '[[records]]\nid = "a"\nstart = "2026-03-05T09:00:00+08:00"\nminutes = 0\n'
    )
    assert from_toml(text, Batch) == batch


def test_toml_writer_refuses_non_mappings_and_null_in_arrays() -> None:
    with pytest.raises(InvalidValue, match="only mappings dump to TOML"):
        to_toml(Level.CITY)
    with pytest.raises(InvalidValue, match="cannot hold null"):
        to_toml({"xs": [1, None]})


@given(
    st.builds(
        Note,
        text=st.text(),
        tags=st.dictionaries(st.text(), st.text()),
        items=st.lists(st.text()),
        nested=st.dictionaries(st.text(), st.dictionaries(st.text(), st.text())),
    )
)
def test_toml_round_trips_arbitrary_text(note: Note) -> None:
    text = to_toml(note)
    assert from_toml(text, Note) == note
    assert from_json(to_json(note), Note) == note


_toml_scalars = st.one_of(
    st.text(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.booleans(),
    st.floats(allow_nan=False),
)
_toml_data = st.recursive(
    _toml_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(st.dictionaries(st.text(max_size=5), _toml_data, max_size=5))
def test_toml_writer_output_parses_back_to_the_same_data(data: dict[str, object]) -> None:
    assert tomllib.loads(to_toml(data)) == data


# --- the converter object --------------------------------------------------------------------


def test_converter_copy_keeps_the_strict_hooks() -> None:
    mine = converter.copy()
    with pytest.raises(InvalidValue, match="need an integer"):
        mine.structure(1.5, int)


def test_offset_naive_in_utc_offset_form_is_aware() -> None:
    rec = structure({"id": "r", "start": "2026-03-05T09:00:00-05:00"}, Rec)
    assert rec.start == datetime(2026, 3, 5, 14, tzinfo=UTC)
    assert rec.start.isoformat() == "2026-03-05T22:00:00+08:00"


@attrs.frozen
class _Counts:
    by_stars: dict[int, int]


@given(st.dictionaries(st.integers(-(10**20), 10**20), st.integers(0, 10**6), max_size=8))
def test_int_keyed_mappings_round_trip_through_json_and_toml(counts: dict[int, int]) -> None:
    # JSON and TOML keys are strings: a key written from an int is read back as that int
    value = _Counts(by_stars=counts)
    back = from_json(to_json(value), _Counts)
    assert back == value
    assert all(type(k) is int for k in back.by_stars)
    assert from_toml(to_toml(value), _Counts) == value


def test_an_int_keyed_mapping_refuses_a_key_that_is_not_a_number() -> None:
    with pytest.raises(InvalidInput, match="by_stars"):
        from_json('{"by_stars": {"three": 1}}', _Counts)
