"""Every loader, fed spoiled or arbitrary input, raises only the ZhiyuanError family (issue 14).

- JSON: the JSON form of a real value of every public class, with one to three of its fields
  (at any depth) replaced by any JSON value, dropped, or joined by an unknown key;
- JSON and TOML text: a real value's text cut short or with characters inserted, and arbitrary
  text;
- parsers: region codes, ID numbers, phone numbers and every public enum, from any value;
- imports: JSON Lines and CSV files of hour records mixing good rows, spoiled rows and arbitrary
  bytes. An import never raises for a bad row; a row it reports as not posted leaves nothing in
  the ledger;
- journal and state exports with spoiled lines: refused whole, recording nothing;
- NBS division files with arbitrary bytes.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from books import fixed_clock, open_books, script, t
from fuzz_support import PUBLIC_CLASSES, PUBLIC_ENUMS, count, harvested, junk, junk_json
from zhiyuan.convert import from_json, from_toml, structure, to_json, to_toml
from zhiyuan.errors import InvalidInput, ZhiyuanError
from zhiyuan.hierarchy import RegionTree, normalize_code
from zhiyuan.hours import (
    HourLedger,
    HourPolicy,
    IdNumber,
    Phone,
    import_csv,
    import_jsonl,
)
from zhiyuan.hours.imports import CSV_COLUMNS
from zhiyuan.journal import Journal

PER_EXAMPLE = 20


def _json_forms() -> dict[type, list[Any]]:
    """The JSON data of each public class's harvested values (those that write as JSON)."""
    out: dict[type, list[Any]] = {}
    for cls in PUBLIC_CLASSES.values():
        forms = []
        for kwargs in harvested()[cls]:
            try:
                forms.append(json.loads(to_json(cls(**kwargs))))
            except (ZhiyuanError, TypeError, ValueError):  # not data (numpy columns, a tree)
                continue
        if forms:
            out[cls] = forms
    return out


FORMS = _json_forms()
CLASSES = sorted(FORMS, key=lambda c: c.__qualname__)


def _reads_back(cls: type) -> bool:
    try:
        return all(from_json(json.dumps(f), cls) is not None for f in FORMS[cls])
    except ZhiyuanError:  # masked personal data (a phone number written as 138****5678)
        return False


LOSSLESS = [cls for cls in CLASSES if _reads_back(cls)]


def _slots(data: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Paths to every value inside ``data`` (the top included)."""
    out = [path]
    if isinstance(data, dict):
        for k, v in data.items():
            out += _slots(v, (*path, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out += _slots(v, (*path, i))
    return out


def _spoiled(draw: st.DrawFn, data: Any) -> Any:
    data = copy.deepcopy(data)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_slots(data)))
        if not path:
            return draw(junk_json())
        parent = data
        for step in path[:-1]:
            parent = parent[step]
        how = draw(st.integers(0, 3))
        if how == 0 and isinstance(parent, dict):
            del parent[path[-1]]
        elif how == 1 and isinstance(parent, dict):
            parent[draw(st.text(max_size=6))] = draw(junk_json())
        else:
            parent[path[-1]] = draw(junk_json())
        if not isinstance(data, dict | list):
            return data
    return data


def _loads(text: str, cls: type, toml: bool = False) -> None:
    try:
        (from_toml if toml else from_json)(text, cls)
    except ZhiyuanError as exc:
        str(exc).encode("utf-8", "backslashreplace")


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(data=st.data())
def test_spoiled_json_of_every_public_class_raises_only_zhiyuan_errors(
    data: st.DataObject,
) -> None:
    for _ in range(PER_EXAMPLE):
        cls = data.draw(st.sampled_from(CLASSES))
        spoiled = _spoiled(data.draw, data.draw(st.sampled_from(FORMS[cls])))
        _loads(json.dumps(spoiled, ensure_ascii=False), cls)
        with contextlib.suppress(ZhiyuanError):
            structure(spoiled, cls)
    count("loaders: spoiled JSON", 2 * PER_EXAMPLE)


def _mangled(draw: st.DrawFn, text: str) -> str:
    at = draw(st.integers(0, len(text)))
    how = draw(st.integers(0, 2))
    if how == 0:
        return text[:at]
    if how == 1:
        return text[:at] + draw(st.text(max_size=8)) + text[at:]
    return text[:at] + text[at:][draw(st.integers(0, 8)) :]


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(data=st.data())
def test_mangled_and_arbitrary_text_raises_only_zhiyuan_errors(data: st.DataObject) -> None:
    for _ in range(PER_EXAMPLE):
        cls = data.draw(st.sampled_from(LOSSLESS))
        value = from_json(json.dumps(data.draw(st.sampled_from(FORMS[cls]))), cls)
        _loads(_mangled(data.draw, to_json(value)), cls)
        try:
            toml = to_toml(value)
        except ZhiyuanError:  # a value TOML cannot hold (a None, a list at the top)
            toml = None
        if toml is not None:
            _loads(_mangled(data.draw, toml), cls, toml=True)
        _loads(data.draw(st.text(max_size=40)), cls, toml=data.draw(st.booleans()))
    count("loaders: mangled text", 3 * PER_EXAMPLE)


def test_deep_nesting_is_refused_not_a_recursion_error() -> None:
    cls = HourPolicy
    for text in ("[" * 100_000, "a = " + "[" * 100_000, "a = " + "{b = " * 10_000):
        for toml in (False, True):
            try:
                (from_toml if toml else from_json)(text, cls)
            except InvalidInput:
                continue
            raise AssertionError("a deeply nested document was accepted")


@settings(max_examples=500, deadline=None)
@given(
    values=st.lists(
        st.one_of(junk, st.text(max_size=20), st.binary(max_size=20)), min_size=4, max_size=8
    )
)
def test_parsers_raise_only_zhiyuan_errors(values: list[Any]) -> None:
    for value in values:
        for parse in (normalize_code, IdNumber.parse, Phone.parse):
            with contextlib.suppress(ZhiyuanError):
                parse(value)
        for kind in PUBLIC_ENUMS.values():
            with contextlib.suppress(ZhiyuanError):
                structure(value, kind)
    count("loaders: parsers", len(values) * (3 + len(PUBLIC_ENUMS)))


# --- imports ---------------------------------------------------------------------------------------


def _ledger() -> HourLedger:
    b = open_books(Journal(clock=fixed_clock))
    script(b, upto=1)  # the volunteers only
    return b.hours


def _good_row(i: int) -> dict[str, Any]:
    return {
        "id": f"imp{i}",
        "volunteer_id": "v1",
        "activity_id": "a1",
        "organization_id": "o1",
        "region_code": "370602001001",
        "category": "助老",
        "evidence": "qr_scan",
        "start": t(30 + i % 20, 8).isoformat(),
        "end": t(30 + i % 20, 10).isoformat(),
    }


def _line(draw: st.DrawFn, i: int) -> bytes:
    how = draw(st.integers(0, 3))
    if how == 0:
        return json.dumps(_good_row(i), ensure_ascii=False).encode()
    if how == 1:
        return json.dumps(_spoiled(draw, _good_row(i)), ensure_ascii=False).encode()
    if how == 2:
        return _mangled(draw, json.dumps(_good_row(i), ensure_ascii=False)).encode()
    return draw(st.binary(max_size=30)).replace(b"\n", b" ")


def _csv_line(draw: st.DrawFn, i: int) -> bytes:
    row = _good_row(i)
    cells = [str(row.get(c, "")) for c in CSV_COLUMNS]
    for _ in range(draw(st.integers(0, 2))):
        cells[draw(st.integers(0, len(cells) - 1))] = draw(
            st.one_of(st.text(max_size=10), st.sampled_from(["", "9" * 5000, '"', "x,y"]))
        )
    line = ",".join(cells).encode("utf-8", "surrogatepass")
    if draw(st.integers(0, 5)) == 0:
        line += draw(st.binary(max_size=8)).replace(b"\n", b" ")
    return line


def _check_import(ledger: HourLedger, report: Any) -> None:
    """Every row is reported, and the ledger holds exactly the records reported as posted."""
    assert report.rows == len(report.results)
    posted = {r.record_id for r in report.results if r.result == "posted"}
    held = {r.id for r in ledger.records_of("v1")}
    assert held == posted


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(data=st.data())
def test_imports_report_bad_rows_and_go_on(data: st.DataObject) -> None:
    n = data.draw(st.integers(1, 12))
    jsonl = b"\n".join(_line(data.draw, i) for i in range(n))
    header = ",".join(CSV_COLUMNS).encode()
    csv = b"\n".join([header, *(_csv_line(data.draw, i) for i in range(n))])
    for run, source in ((import_jsonl, jsonl), (import_csv, csv)):
        ledger = _ledger()
        report = run(ledger, io.BytesIO(source), at=t(60))
        _check_import(ledger, report)
    count("loaders: imported rows", 2 * n)


# --- journal and state exports -----------------------------------------------------------------


def _export() -> list[str]:
    b = open_books(Journal(clock=fixed_clock))
    script(b)
    out = io.StringIO()
    b.journal.export_jsonl(out)
    return out.getvalue().splitlines(keepends=True)


EXPORT = _export()


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(data=st.data())
def test_a_spoiled_journal_export_is_refused_whole(data: st.DataObject) -> None:
    lines = list(EXPORT)
    i = data.draw(st.integers(0, len(lines) - 1))
    if data.draw(st.booleans()):
        lines[i] = _mangled(data.draw, lines[i])
    else:
        try:
            record = json.loads(lines[i])
        except ValueError:
            record = {}
        lines[i] = json.dumps(_spoiled(data.draw, record), ensure_ascii=False) + "\n"
    journal = Journal(clock=fixed_clock)
    try:
        journal.import_jsonl(lines)
    except ZhiyuanError:
        assert journal.head.seq == 0, "a refused import recorded something"
    count("loaders: journal exports", 1)


def test_an_unspoiled_export_reads_back() -> None:
    journal = Journal(clock=fixed_clock)
    journal.import_jsonl(EXPORT)
    assert journal.head.seq == len(EXPORT) - 1


# --- NBS files ---------------------------------------------------------------------------------


@settings(max_examples=50, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    header=st.sampled_from([b"code,name\n", b"code,name,province_code\n", b""]),
    body=st.binary(max_size=200),
    gz=st.booleans(),
)
def test_damaged_nbs_files_raise_only_zhiyuan_errors(header: bytes, body: bytes, gz: bool) -> None:
    with tempfile.TemporaryDirectory() as d:
        name = "provinces.csv.gz" if gz else "provinces.csv"
        Path(d, name).write_bytes(header + body)
        with contextlib.suppress(ZhiyuanError):
            RegionTree.from_nbs_dir(d)
    count("loaders: NBS files", 1)
