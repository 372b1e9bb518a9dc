"""Bulk import (批量导入) of service records from CSV and JSON lines into an HourLedger."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zhiyuan import SHANGHAI
from zhiyuan.convert import to_json, unstructure
from zhiyuan.errors import InvalidInput, InvalidValue, ZhiyuanError
from zhiyuan.hierarchy import Organization, Registry, load_default
from zhiyuan.hours import (
    Evidence,
    GeoFix,
    HourLedger,
    HourPolicy,
    Overflow,
    Posted,
    ServiceRecord,
    Status,
    Volunteer,
)
from zhiyuan.hours.imports import (
    CSV_COLUMNS,
    ImportReport,
    RowResult,
    import_csv,
    import_jsonl,
)

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=SHANGHAI)
VILLAGE = "370602001001"
UNKNOWN_REGION = "370602999999"  # well formed, not in the seed tree
POLICY = HourPolicy(
    name="test",
    daily_cap_minutes=8 * 60,
    over_daily_cap=Overflow.APPROVAL,
    excluded_categories={"会议"},
)


def make_ledger() -> HourLedger:
    reg = Registry(
        load_default(),
        [
            Organization(id="o1", name="向阳街道志愿者协会", region_code="370602001"),
            Organization(id="o2", name="芝罘区志愿者联合会", region_code="370602"),
        ],
    )
    vols = [
        Volunteer(id=v, name="志愿者", home_region=VILLAGE, registered_on=date(2024, 1, 1))
        for v in ("v1", "v2")
    ]
    return HourLedger(reg, policies=[POLICY], volunteers=vols, clock=lambda: NOW)


def t(d: int, h: int, mi: int = 0, *, month: int = 3) -> datetime:
    return datetime(2025, month, d, h, mi, tzinfo=SHANGHAI)


def rec(rid: str = "r1", **kw: Any) -> ServiceRecord:
    base: dict[str, Any] = {
        "id": rid,
        "volunteer_id": "v1",
        "activity_id": "a1",
        "organization_id": "o1",
        "region_code": VILLAGE,
        "category": "助老",
        "evidence": Evidence.QR_SCAN,
        "start": t(1, 9),
        "end": t(1, 12),
    }
    base.update(kw)
    return ServiceRecord(**base)


# --- writing test files ------------------------------------------------------------------------


def csv_cells(r: ServiceRecord) -> dict[str, str]:
    """A record as CSV cells, the way a platform export would write it."""
    data = unstructure(r)
    geo = data.pop("geo")
    cells: dict[str, str] = {}
    for k, v in data.items():
        if v is None:
            cells[k] = ""
        elif isinstance(v, bool):
            cells[k] = "true" if v else "false"
        else:
            cells[k] = str(v)
    cells["geo_lat"] = "" if geo is None else repr(geo["lat"])
    cells["geo_lon"] = "" if geo is None else repr(geo["lon"])
    cells["geo_accuracy_m"] = "" if geo is None else str(geo["accuracy_m"])
    return cells


def csv_line(cells: list[str]) -> str:
    buf = io.StringIO(newline="")
    csv.writer(buf).writerow(cells)
    return buf.getvalue()


def csv_text(rows: list[dict[str, str]], columns: tuple[str, ...] = CSV_COLUMNS) -> str:
    return csv_line(list(columns)) + "".join(csv_line([r[c] for c in columns]) for r in rows)


def physical_lines(chunk: str) -> int:
    """How many lines the CSV reader counts in a chunk (it splits on \\n, \\r and \\r\\n)."""
    return len(io.StringIO(chunk, newline="").readlines())


# --- the model for random mixes --------------------------------------------------------------

RIDS = [f"r{i}" for i in range(8)]
BAD_CSV_CELLS = [
    ("start", "yesterday"),
    ("start", "2025-03-01T09:00:00"),  # naive
    ("evidence", "magic"),
    ("end", "2000-01-01T00:00:00+08:00"),  # before start
    ("checkout_missing", "maybe"),
    ("id", ""),  # a required cell left empty
    ("region_code", "37x"),
    ("geo_lat", "north"),
    ("geo_accuracy_m", "5.5"),
]
BAD_JSON = [
    "{not json",
    "[1, 2, 3]",
    '"a string"',
    "null",
    "[" * 5000 + "]" * 5000,  # deep nesting: must not crash the import
]


@dataclass
class Spec:
    """One row to write: a record (possibly meant to fail in the ledger), or malformed text."""

    record: ServiceRecord
    malformed: tuple[str, str] | None = None  # (kind, detail)
    blank_before: bool = False


@st.composite
def records(draw: st.DrawFn) -> ServiceRecord:
    start = draw(
        st.datetimes(
            min_value=datetime(2025, 1, 1),
            max_value=datetime(2025, 5, 30),
            timezones=st.just(SHANGHAI),
        )
    )
    minutes = draw(st.integers(min_value=1, max_value=600))
    # at most one reason for the ledger to refuse the record, in 4 records out of 10
    fault = draw(st.sampled_from(["", "", "", "", "", "", "volunteer", "org", "region", "future"]))
    if fault == "future":  # still running at NOW
        start = NOW - timedelta(minutes=30)
    end = start + timedelta(minutes=minutes)
    kw: dict[str, Any] = {
        "id": draw(st.sampled_from(RIDS)),
        "volunteer_id": "v9" if fault == "volunteer" else draw(st.sampled_from(["v1", "v2"])),
        "activity_id": "a1",
        "organization_id": "o9" if fault == "org" else draw(st.sampled_from(["o1", "o2"])),
        "region_code": UNKNOWN_REGION
        if fault == "region"
        else draw(st.sampled_from([VILLAGE, "370602"])),
        "category": draw(st.sampled_from(["助老", "助老", "会议"])),
        "evidence": draw(st.sampled_from(Evidence)),
        "start": start,
        "end": end,
        "note": draw(
            st.text(
                st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                max_size=12,
            )
        ),
    }
    if draw(st.booleans()):
        kw["geo"] = GeoFix(
            lat=draw(st.floats(min_value=-90, max_value=90)),
            lon=draw(st.floats(min_value=-180, max_value=180)),
            accuracy_m=draw(st.integers(0, 500)),
        )
    if draw(st.booleans()):
        kw["scheduled_start"] = start
        kw["scheduled_end"] = start + timedelta(minutes=draw(st.integers(1, 600)))
        kw["checkout_missing"] = draw(st.booleans())
    if draw(st.booleans()):
        # entered after the service ended, never after the import's "now" (that is an error)
        kw["recorded_at"] = min(end + timedelta(minutes=draw(st.integers(0, 60))), NOW)
    return ServiceRecord(**kw)


@st.composite
def specs(draw: st.DrawFn, fmt: str) -> list[Spec]:
    out: list[Spec] = []
    for _ in range(draw(st.integers(min_value=0, max_value=12))):
        kind = draw(st.sampled_from(["new", "new", "repeat", "malformed"]))
        blank = draw(st.integers(0, 4)) == 0
        if kind == "repeat" and out:
            out.append(Spec(draw(st.sampled_from(out)).record, blank_before=blank))
            continue
        r = draw(records())
        bad: tuple[str, str] | None = None
        if kind == "malformed":
            if fmt == "csv":
                choice = draw(st.sampled_from([*BAD_CSV_CELLS, ("cells", "+1"), ("cells", "-1")]))
                bad = (choice[0], choice[1])
            else:
                bad = draw(
                    st.sampled_from(
                        [("text", b) for b in BAD_JSON]
                        + [("key", "minutes"), ("naive", "start"), ("drop", "id")]
                    )
                )
        out.append(Spec(r, bad, blank))
    return out


def write_csv(items: list[Spec]) -> tuple[str, list[int]]:
    """The CSV text and the line each data row starts on."""
    parts = [csv_line(list(CSV_COLUMNS))]
    line = 2
    starts: list[int] = []
    for s in items:
        if s.blank_before:
            parts.append("\r\n")
            line += 1
        cells = csv_cells(s.record)
        row = [cells[c] for c in CSV_COLUMNS]
        if s.malformed is not None:
            what, detail = s.malformed
            if what == "cells":
                row = [*row, "extra"] if detail == "+1" else row[:-1]
            elif what == "geo_lat":
                row[CSV_COLUMNS.index("geo_lat")] = detail
                row[CSV_COLUMNS.index("geo_lon")] = "1.0"
            else:
                row[CSV_COLUMNS.index(what)] = detail
        chunk = csv_line(row)
        parts.append(chunk)
        starts.append(line)
        line += physical_lines(chunk)
    return "".join(parts), starts


def write_jsonl(items: list[Spec]) -> tuple[str, list[int]]:
    parts: list[str] = []
    line = 1
    starts: list[int] = []
    for s in items:
        if s.blank_before:
            parts.append("   \n")
            line += 1
        data = unstructure(s.record)
        if s.malformed is None:
            text = json.dumps(data, ensure_ascii=False)
        else:
            what, detail = s.malformed
            if what == "text":
                text = detail
            else:
                if what == "key":
                    data[detail] = 5
                elif what == "naive":
                    data[detail] = data[detail][:19]
                else:
                    del data[detail]
                text = json.dumps(data, ensure_ascii=False)
        parts.append(text + "\n")
        starts.append(line)
        line += 1
    return "".join(parts), starts


def refused(r: ServiceRecord) -> bool:
    """True if the ledger must refuse the record whatever else it holds."""
    return (
        r.volunteer_id not in ("v1", "v2")
        or r.organization_id not in ("o1", "o2")
        or r.region_code == UNKNOWN_REGION
        or r.end > NOW
    )


def expected_results(
    items: list[Spec], known: dict[str, ServiceRecord] | None = None
) -> tuple[list[str], dict[str, ServiceRecord]]:
    """What each row should become, and the records the ledger should then hold."""
    posted: dict[str, ServiceRecord] = dict(known or {})
    out: list[str] = []
    for s in items:
        r = s.record
        if s.malformed is not None:
            out.append("invalid")
        elif r.id in posted:
            out.append("duplicate" if posted[r.id] == r else "invalid")
        elif refused(r):
            out.append("invalid")
        else:
            posted[r.id] = r
            out.append("posted")
    return out, posted


WRITERS = {"csv": (write_csv, import_csv), "jsonl": (write_jsonl, import_jsonl)}


# --- properties -----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
@settings(max_examples=60)
@given(data=st.data())
def test_random_mix_every_row_accounted_for_and_ledger_holds_exactly_the_posted(
    fmt: str, data: st.DataObject
) -> None:
    items = data.draw(specs(fmt))
    write, load = WRITERS[fmt]
    text, lines = write(items)
    ledger = make_ledger()
    report = load(ledger, text, at=NOW)

    want, posted = expected_results(items)
    assert [r.result for r in report.results] == want
    assert report.posted + report.duplicates + report.invalid == report.rows == len(items)
    assert [r.line for r in report.results] == lines
    assert len(ledger) == len(posted) == report.posted
    for rid, r in posted.items():
        assert ledger.record(rid) == r
    new = [e.record for e in ledger.entries if isinstance(e, Posted)]
    assert [r.id for r in new] == [r.record_id for r in report.results if r.result == "posted"]
    for row in report.results:
        if row.result == "posted":
            assert row.record_id is not None
            out = ledger.outcome(row.record_id)
            assert (row.status, row.counted_minutes) == (out.status, out.counted_minutes)
        else:
            assert row.status is None and row.counted_minutes is None
        if row.result == "invalid":
            assert row.reason
    assert report.accepted + report.needs_approval + report.rejected == report.posted


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
@settings(max_examples=40)
@given(data=st.data())
def test_bad_rows_leave_an_existing_ledger_unchanged(fmt: str, data: st.DataObject) -> None:
    ledger = make_ledger()
    base = [rec("r0"), rec("r1", start=t(2, 9), end=t(2, 10)), rec("r2", volunteer_id="v2")]
    for r in base:
        ledger.post(r, at=NOW)
    before = ledger.entries
    items = data.draw(specs(fmt))
    # keep only rows that cannot post: malformed, under a used id, or refused by the ledger
    bad = [s for s in items if s.malformed or s.record.id in RIDS[:3] or refused(s.record)]
    bad += [Spec(r) for r in base]  # exact duplicates of what is there
    want, _ = expected_results(bad, {r.id: r for r in base})
    assert "posted" not in want
    write, load = WRITERS[fmt]
    text, _ = write(bad)
    report = load(ledger, text, at=NOW)
    assert [r.result for r in report.results] == want
    assert ledger.entries == before
    for r in base:
        assert ledger.record(r.id) == r


@settings(max_examples=30)
@given(items=st.lists(records(), max_size=8))
def test_csv_and_jsonl_agree(items: list[ServiceRecord]) -> None:
    specs_ = [Spec(r) for r in items]
    text_csv, _ = write_csv(specs_)
    text_jsonl, _ = write_jsonl(specs_)
    a, b = make_ledger(), make_ledger()
    ra = import_csv(a, text_csv, at=NOW)
    rb = import_jsonl(b, text_jsonl, at=NOW)
    assert [(r.result, r.record_id, r.status, r.counted_minutes) for r in ra.results] == [
        (r.result, r.record_id, r.status, r.counted_minutes) for r in rb.results
    ]
    assert a.entries == b.entries


# --- CSV: header -------------------------------------------------------------------------------

HEADER = "id,volunteer_id,activity_id,organization_id,region_code,category,start,end,evidence"
ROW1 = "r1,v1,a1,o1,370602001001,助老,2025-03-01T09:00:00+08:00,2025-03-01T12:00:00+08:00,qr_scan"


@pytest.mark.parametrize(
    ("header", "needle"),
    [
        (HEADER + ",volunter_id", "unknown column 'volunter_id'"),
        (HEADER + ",id", "column 'id' appears twice"),
        (HEADER + ",", "column 10 has no name"),
        (HEADER + ",geo", "geo_lat, geo_lon and geo_accuracy_m"),
        (HEADER.replace(",evidence", ""), "missing required columns: evidence"),
        (HEADER.replace("id,volunteer_id,", ""), "missing required columns: id, volunteer_id"),
        (HEADER + ",geo_lat", "give geo_lat and geo_lon together"),
        (HEADER + ",geo_accuracy_m", "give geo_lat and geo_lon together"),
    ],
)
def test_header_problems_raise_before_anything_is_posted(header: str, needle: str) -> None:
    ledger = make_ledger()
    text = f"{header}\n{ROW1}\n"
    with pytest.raises(InvalidInput) as err:
        import_csv(ledger, text, at=NOW)
    assert needle in str(err.value)
    assert all(m.endswith("@ line 1 (header / 表头)") for m in err.value.messages)
    assert len(ledger) == 0 and not [e for e in ledger.entries if isinstance(e, Posted)]


def test_every_header_problem_is_reported_at_once() -> None:
    with pytest.raises(InvalidInput) as err:
        import_csv(make_ledger(), "id,id,bogus\n", at=NOW)
    text = str(err.value)
    assert "appears twice" in text and "'bogus'" in text and "missing required" in text
    assert len(err.value.messages) == 3


def test_header_line_number_counts_leading_blank_lines() -> None:
    with pytest.raises(InvalidInput, match="@ line 3 "):
        import_csv(make_ledger(), "\n  \nid,bogus\n", at=NOW)
    report = import_csv(make_ledger(), f"\n\n{HEADER}\n\n{ROW1}\n", at=NOW)
    assert [(r.line, r.result) for r in report.results] == [(5, "posted")]


def test_header_names_may_be_padded_and_in_any_order() -> None:
    cols = HEADER.split(",")
    cells = ROW1.split(",")
    order = list(reversed(range(len(cols))))
    text = ", ".join(cols[i] for i in order) + "\n" + ",".join(cells[i] for i in order) + "\n"
    ledger = make_ledger()
    report = import_csv(ledger, text, at=NOW)
    assert report.posted == 1
    assert ledger.record("r1") == rec("r1")


@pytest.mark.parametrize("text", ["", "\n\n  \n", HEADER + "\n", HEADER + "\n\n\n"])
def test_no_data_rows_gives_an_empty_report(text: str) -> None:
    report = import_csv(make_ledger(), text, at=NOW)
    assert report.rows == 0 and report.results == ()
    assert report.ok


# --- CSV: rows ---------------------------------------------------------------------------------


def test_csv_round_trip_with_every_column() -> None:
    r = rec(
        "r1",
        geo=GeoFix(lat=37.53, lon=121.39, accuracy_m=12),
        scheduled_start=t(1, 9),
        scheduled_end=t(1, 11),
        checkout_missing=True,
        recorded_at=t(1, 13),
        note='说明, with "quotes"\nand a second line',
        evidence=Evidence.SUPERVISOR,
    )
    ledger = make_ledger()
    report = import_csv(ledger, csv_text([csv_cells(r)]), at=NOW)
    assert report.posted == 1
    assert ledger.record("r1") == r


def test_geo_accuracy_is_optional_and_defaults_to_zero() -> None:
    text = HEADER + ",geo_lat,geo_lon\n" + ROW1 + ",37.5,121\n"
    ledger = make_ledger()
    import_csv(ledger, text, at=NOW)
    assert ledger.record("r1").geo == GeoFix(lat=37.5, lon=121.0, accuracy_m=0)


@pytest.mark.parametrize(
    ("lat", "lon", "acc", "needle"),
    [
        ("37.5", "", "", "geo_lon: 缺少 / missing"),
        ("", "", "10", "geo_lat: 缺少 / missing"),
        ("north", "121", "", "geo_lat: 'north': 需要数字 / a number @ $.geo_lat"),
        ("nan", "121", "", "geo_lat: 'nan'"),
        ("1_0", "121", "", "geo_lat: '1_0'"),
        ("37", "121", "5.5", "geo_accuracy_m: '5.5': 需要整数 / an integer @ $.geo_accuracy_m"),
        ("100", "121", "", "纬度应在 -90 到 90"),
    ],
)
def test_bad_geo_cells_make_the_row_invalid(lat: str, lon: str, acc: str, needle: str) -> None:
    text = HEADER + ",geo_lat,geo_lon,geo_accuracy_m\n" + ROW1 + f",{lat},{lon},{acc}\n"
    ledger = make_ledger()
    report = import_csv(ledger, text, at=NOW)
    (row,) = report.results
    assert row.result == "invalid"
    assert row.record_id == "r1"
    assert needle in row.reason
    assert len(ledger) == 0


@pytest.mark.parametrize(
    ("cell", "value"), [("true", True), ("TRUE", True), ("1", True), ("false", False), ("0", False)]
)
def test_checkout_missing_flags(cell: str, value: bool) -> None:
    text = (
        HEADER
        + ",scheduled_start,scheduled_end,checkout_missing\n"
        + ROW1
        + f",2025-03-01T09:00:00+08:00,2025-03-01T11:00:00+08:00,{cell}\n"
    )
    ledger = make_ledger()
    import_csv(ledger, text, at=NOW)
    assert ledger.record("r1").checkout_missing is value


def test_bad_flag_is_named() -> None:
    text = HEADER + ",checkout_missing\n" + ROW1 + ",yes\n"
    (row,) = import_csv(make_ledger(), text, at=NOW).results
    assert row.result == "invalid"
    assert "checkout_missing: 'yes'" in row.reason and row.reason.endswith("@ $.checkout_missing")


def test_typed_cells_may_be_padded_text_cells_are_verbatim() -> None:
    row = (
        "r1,v1,a1,o1, 370602001001 ,助老, 2025-03-01T09:00:00+08:00 ,"
        "2025-03-01T12:00:00+08:00 , qr_scan "
    )
    ledger = make_ledger()
    report = import_csv(ledger, f"{HEADER},note\n{row},  两个空格\n", at=NOW)
    assert report.posted == 1
    assert ledger.record("r1") == rec("r1", note="  两个空格")
    spaced = import_csv(make_ledger(), f"{HEADER}\n   ,{ROW1[3:]}\n", at=NOW)
    assert spaced.results[0].result == "invalid"
    assert "id: '   ': 不能为空" in spaced.results[0].reason


def test_empty_optional_cells_take_defaults() -> None:
    text = HEADER + ",note,recorded_at,checkout_missing,geo_lat,geo_lon\n" + ROW1 + ",,,,,\n"
    ledger = make_ledger()
    assert import_csv(ledger, text, at=NOW).posted == 1
    assert ledger.record("r1") == rec("r1")


@pytest.mark.parametrize(("extra", "count"), [(",x", 10), ("", 8)])
def test_wrong_cell_count_is_a_row_error(extra: str, count: int) -> None:
    row = ROW1 + extra if extra else ROW1.rsplit(",", 1)[0]
    text = f"{HEADER}\n{row}\n{ROW1.replace('r1', 'r2', 1)}\n"
    ledger = make_ledger()
    report = import_csv(ledger, text, at=NOW)
    assert [r.result for r in report.results] == ["invalid", "posted"]
    assert f"the row has {count} cells, the header 9" in report.results[0].reason
    assert report.results[0].record_id == "r1"
    assert len(ledger) == 1


def test_unbalanced_quote_is_one_invalid_row_with_its_span() -> None:
    text = f'{HEADER}\n{ROW1.replace("r1", "r0", 1)}\n"r1,v1\nr2,v2\n'
    report = import_csv(make_ledger(), text, at=NOW)
    assert [(r.line, r.result) for r in report.results] == [(2, "posted"), (3, "invalid")]
    assert "(lines 3–4 / 第 3–4 行)" in report.results[1].reason


def test_a_csv_reader_error_does_not_stop_the_import() -> None:
    huge = "x" * 200_000  # over the csv module's field size limit
    text = f"{HEADER}\n{ROW1.replace('助老', huge)}\n{ROW1.replace('r1', 'r2', 1)}\n"
    ledger = make_ledger()
    report = import_csv(ledger, text, at=NOW)
    assert [(r.line, r.result) for r in report.results] == [(2, "invalid"), (3, "posted")]
    assert "malformed CSV" in report.results[0].reason
    assert len(ledger) == 1


def test_quoted_cells_spanning_lines_keep_line_numbers_right() -> None:
    r1 = rec("r1", note="第一行\n第二行\r\n第三行")
    r2 = rec("r2", start=t(2, 9), end=t(2, 10), volunteer_id="v9")
    report = import_csv(make_ledger(), csv_text([csv_cells(r1), csv_cells(r2)]), at=NOW)
    assert [(r.line, r.result) for r in report.results] == [(2, "posted"), (5, "invalid")]


# --- outcomes and reasons ------------------------------------------------------------------------


def test_ledger_errors_become_reasons() -> None:
    rows = [
        rec("r1"),
        rec("r1", note="changed"),  # another record under a used id
        rec("r2", volunteer_id="v9"),
        rec("r3", organization_id="o9"),
        rec("r4", region_code=UNKNOWN_REGION),
        rec("r5", start=NOW - timedelta(hours=1), end=NOW + timedelta(minutes=1)),
    ]
    ledger = make_ledger()
    report = import_jsonl(ledger, "\n".join(to_json(r) for r in rows), at=NOW)
    results = report.results
    assert [r.result for r in results] == ["posted"] + ["invalid"] * 5
    assert "already used by another record" in results[1].reason
    assert "volunteer not found" in results[2].reason and "'v9'" in results[2].reason
    assert "organization not found" in results[3].reason
    assert "region not found" in results[4].reason
    assert "cannot end in the future" in results[5].reason
    assert [r.record_id for r in results] == ["r1", "r1", "r2", "r3", "r4", "r5"]
    assert ledger.record("r1") == rows[0]


def test_policy_statuses_and_findings_are_reported() -> None:
    rows = [
        rec("r1", start=t(1, 8), end=t(1, 14)),  # 360 min
        rec("r2", start=t(1, 15), end=t(1, 19)),  # +240 > 480: needs approval
        rec("r3", start=t(2, 9), end=t(2, 10), category="会议"),  # excluded
    ]
    ledger = make_ledger()
    report = import_jsonl(ledger, "\n".join(to_json(r) for r in rows), at=NOW)
    assert [r.status for r in report.results] == [
        Status.ACCEPTED,
        Status.NEEDS_APPROVAL,
        Status.REJECTED,
    ]
    assert (report.accepted, report.needs_approval, report.rejected) == (1, 1, 1)
    assert report.posted == 3 and len(ledger) == 3
    assert report.results[0].reason == ""
    assert "[hours.daily_cap]" in report.results[1].reason
    assert "[hours.category]" in report.results[2].reason
    assert [r.counted_minutes for r in report.results] == [360, 240, 0]


def test_duplicates_are_no_ops_and_name_the_earlier_status() -> None:
    ledger = make_ledger()
    r = rec("r1", category="会议")
    ledger.post(r, at=NOW)
    before = ledger.entries
    report = import_jsonl(ledger, to_json(r) + "\n" + to_json(r) + "\n", at=NOW)
    assert [x.result for x in report.results] == ["duplicate", "duplicate"]
    assert "already in the ledger (rejected)" in report.results[0].reason
    assert ledger.entries == before


def test_every_row_is_judged_against_the_same_moment() -> None:
    ledger = make_ledger()
    r = rec("r1", start=NOW - timedelta(hours=2), end=NOW)
    report = import_jsonl(ledger, to_json(r), at=NOW)
    assert report.at == NOW
    assert report.results[0].result == "posted"
    later = import_jsonl(make_ledger(), to_json(r), at=NOW - timedelta(seconds=1))
    assert later.results[0].result == "invalid"


def test_the_default_moment_is_the_ledger_clocks_now() -> None:
    soon = NOW + timedelta(minutes=1)
    rows = [rec("r1"), rec("r2", start=soon, end=soon + timedelta(hours=1))]
    report = import_jsonl(make_ledger(), "\n".join(to_json(r) for r in rows))
    assert [r.result for r in report.results] == ["posted", "invalid"]
    assert report.at == NOW  # the ledger's clock


def test_naive_now_is_refused_before_anything_is_read() -> None:
    ledger = make_ledger()
    with pytest.raises(InvalidValue) as err:
        import_csv(ledger, f"{HEADER}\n{ROW1}\n", at=datetime(2025, 6, 1))
    assert err.value.field == "at"
    assert len(ledger) == 0


# --- JSON lines ---------------------------------------------------------------------------------


def test_jsonl_blank_lines_are_skipped_not_counted_but_keep_line_numbers() -> None:
    lines = ["", to_json(rec("r1")), "  ", "\t", to_json(rec("r2", start=t(2, 9), end=t(2, 10)))]
    report = import_jsonl(make_ledger(), "\r\n".join(lines) + "\r\n\r\n", at=NOW)
    assert report.rows == 2
    assert [(r.line, r.result) for r in report.results] == [(2, "posted"), (5, "posted")]


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ("{not json", "malformed JSON"),
        ("[1, 2]", "expected a mapping"),
        ("[" * 100_000, "malformed JSON"),
        ('{"id": "r1"}', "required field missing @ $.volunteer_id"),
    ],
)
def test_jsonl_bad_lines_are_invalid_rows(line: str, needle: str) -> None:
    good = to_json(rec("r2"))
    ledger = make_ledger()
    report = import_jsonl(ledger, f"{line}\n{good}\n", at=NOW)
    assert [r.result for r in report.results] == ["invalid", "posted"]
    assert needle in report.results[0].reason
    assert len(ledger) == 1


def test_jsonl_unknown_key_and_naive_time_are_refused_with_paths() -> None:
    data = unstructure(rec("r1"))
    data["minutes"] = 180
    data["start"] = "2025-03-01T09:00:00"
    (row,) = import_jsonl(make_ledger(), json.dumps(data), at=NOW).results
    assert row.result == "invalid" and row.record_id == "r1"
    assert "extra fields found (minutes) @ $" in row.reason
    assert "naive datetime" in row.reason and "@ $.start" in row.reason


def test_jsonl_keeps_line_separator_characters_inside_strings() -> None:
    r = rec("r1", note="a\u2028b\u0085c")
    ledger = make_ledger()
    report = import_jsonl(ledger, to_json(r) + "\n", at=NOW)
    assert report.rows == 1 and report.posted == 1
    assert ledger.record("r1") == r


# --- sources -----------------------------------------------------------------------------------


def test_path_file_object_and_text_give_the_same_report(tmp_path: Path) -> None:
    text = f"{HEADER}\n{ROW1}\n{ROW1.replace(',v1,', ',v9,').replace('r1', 'r2', 1)}\n"
    path = tmp_path / "hours.csv"
    path.write_text("\ufeff" + text, encoding="utf-8")  # Excel writes a byte-order mark
    reports = [
        import_csv(make_ledger(), text, at=NOW),
        import_csv(make_ledger(), "\ufeff" + text, at=NOW),
        import_csv(make_ledger(), path, at=NOW),
        import_csv(make_ledger(), io.StringIO(text, newline=""), at=NOW),
    ]
    with path.open(encoding="utf-8-sig", newline="") as f:
        reports.append(import_csv(make_ledger(), f, at=NOW))
    assert all(r.results == reports[0].results for r in reports)
    assert [r.result for r in reports[0].results] == ["posted", "invalid"]


def test_jsonl_from_a_path(tmp_path: Path) -> None:
    path = tmp_path / "hours.jsonl"
    path.write_text(to_json(rec("r1")) + "\n", encoding="utf-8")
    ledger = make_ledger()
    assert import_jsonl(ledger, path, at=NOW).posted == 1
    assert ledger.record("r1") == rec("r1")


def test_a_binary_file_is_read_as_utf8() -> None:
    ledger = make_ledger()
    report = import_jsonl(ledger, io.BytesIO(to_json(rec("r1")).encode()), at=NOW)
    assert report.posted == 1 and ledger.record("r1") == rec("r1")


def test_a_file_of_lines_that_are_neither_text_nor_bytes_is_refused() -> None:
    ledger = make_ledger()
    with pytest.raises(InvalidValue, match="neither str nor bytes"):
        import_jsonl(ledger, [to_json(rec("r1")) + "\n", 42], at=NOW)  # type: ignore[arg-type]
    assert len(ledger) == 0


def test_a_non_source_is_refused() -> None:
    with pytest.raises(InvalidValue, match="source"):
        import_csv(make_ledger(), 42, at=NOW)  # type: ignore[arg-type]


# --- the report values ---------------------------------------------------------------------------


def test_report_str_is_bilingual_and_lists_the_rows_to_look_at() -> None:
    rows = [
        rec("r1", start=t(1, 8), end=t(1, 14)),
        rec("r2", start=t(1, 15), end=t(1, 19)),
        rec("r3", volunteer_id="v9"),
        rec("r1", start=t(1, 8), end=t(1, 14)),
    ]
    report = import_jsonl(make_ledger(), "\n".join(to_json(r) for r in rows), at=NOW)
    text = str(report)
    head_zh, head_en, *notes = text.splitlines()
    assert head_zh == "批量导入 4 行：录入 2（通过 1，需审批 1，未通过 0），重复 1，无效 1"
    assert head_en == (
        "imported 4 rows: 2 posted (1 accepted, 1 needing approval, 0 rejected), "
        "1 duplicate, 1 invalid"
    )
    assert len(notes) == 2
    assert notes[0].startswith("  第 2 行 / line 2 [r2]: 已录入 / posted, 需审批 / needs approval")
    assert notes[1].startswith("  第 3 行 / line 3 [r3]: 无效 / invalid: volunteer not found")
    assert not report.ok
    assert [r.line for r in report.invalid_rows()] == [3]


def test_row_result_invariants() -> None:
    RowResult(line=1, result="posted", status=Status.ACCEPTED, counted_minutes=0)
    RowResult(line=1, result="invalid", reason="x")
    bad: list[dict[str, Any]] = [
        {"line": 0, "result": "invalid"},
        {"line": True, "result": "invalid"},
        {"line": 1, "result": "skipped"},
        {"line": 1, "result": "posted"},
        {"line": 1, "result": "posted", "status": Status.ACCEPTED},
        {"line": 1, "result": "invalid", "status": Status.ACCEPTED},
        {"line": 1, "result": "duplicate", "counted_minutes": 10},
    ]
    for kw in bad:
        with pytest.raises(InvalidValue):
            RowResult(**kw)


def test_report_needs_an_aware_moment_and_counts_by_kind() -> None:
    rows = [
        RowResult(line=2, result="posted", status=Status.REJECTED, counted_minutes=0),
        RowResult(line=3, result="duplicate"),
        RowResult(line=4, result="duplicate"),
    ]
    report = ImportReport(results=rows, at=NOW)
    assert report.results == tuple(rows)
    assert (report.rows, report.posted, report.duplicates, report.invalid) == (3, 1, 2, 0)
    assert (report.accepted, report.needs_approval, report.rejected) == (0, 0, 1)
    assert report.ok
    with pytest.raises(ZhiyuanError):
        ImportReport(results=rows, at=datetime(2025, 1, 1))


def test_report_is_a_value() -> None:
    text = f"{HEADER}\n{ROW1}\n"
    a = import_csv(make_ledger(), text, at=NOW)
    b = import_csv(make_ledger(), text, at=NOW)
    assert a == b and hash(a) == hash(b)
    with pytest.raises(AttributeError):
        a.at = NOW  # type: ignore[misc]


def test_csv_columns_cover_every_record_field_but_geo() -> None:
    assert "geo" not in CSV_COLUMNS
    names = {"geo_lat", "geo_lon", "geo_accuracy_m"}
    assert set(CSV_COLUMNS) - names == set(unstructure(rec()).keys()) - {"geo"}
    assert names <= set(CSV_COLUMNS)


# --- issue 14: a bad byte or a huge number is one invalid row; the import goes on ----------------


def _hundred(fmt: str) -> list[bytes]:
    """100 records as lines of bytes (the CSV with its header first)."""
    records = [rec(f"r{i:03}", start=t(1 + i % 28, 9), end=t(1 + i % 28, 10)) for i in range(100)]
    if fmt == "csv":
        lines = [csv_line(list(CSV_COLUMNS))]
        lines += [csv_line([csv_cells(r)[c] for c in CSV_COLUMNS]) for r in records]
    else:
        lines = [to_json(r) + "\n" for r in records]
    return [line.encode() for line in lines]


def _corrupt(line: bytes) -> bytes:
    at = line.index("助老".encode())
    return line[:at] + b"\xff" + line[at + 1 :]  # never valid in UTF-8


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_a_line_that_is_not_utf8_is_one_invalid_row_and_the_import_goes_on(
    fmt: str, tmp_path: Path
) -> None:
    lines = _hundred(fmt)
    header = 1 if fmt == "csv" else 0
    bad = header + 88  # the 89th record
    lines[bad] = _corrupt(lines[bad])
    path = tmp_path / f"records.{fmt}"
    path.write_bytes(b"".join(lines))
    ledger = make_ledger()
    importer = import_csv if fmt == "csv" else import_jsonl
    report = importer(ledger, path, at=NOW)
    assert (report.posted, report.invalid) == (99, 1)
    (row,) = report.invalid_rows()
    assert row.line == bad + 1
    assert "not UTF-8" in row.reason and "0xff" in row.reason
    if fmt == "csv":
        assert row.reason.startswith("category: ") and row.record_id == "r088"
    assert len(ledger) == 99
    # the same bytes from a binary file object give the same report
    again = importer(make_ledger(), io.BytesIO(b"".join(lines)), at=NOW)
    assert [(r.line, r.result) for r in again.results] == [
        (r.line, r.result) for r in report.results
    ]


def test_a_text_mode_file_that_cannot_decode_stops_before_anything_is_recorded(
    tmp_path: Path,
) -> None:
    lines = _hundred("jsonl")
    lines[50] = _corrupt(lines[50])
    path = tmp_path / "records.jsonl"
    path.write_bytes(b"".join(lines))
    ledger = make_ledger()
    with path.open(encoding="utf-8") as f, pytest.raises(InvalidInput, match="'rb'"):
        import_jsonl(ledger, f, at=NOW)
    assert len(ledger) == 0


def test_a_header_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    lines = _hundred("csv")
    lines[0] = lines[0].replace(b"category", b"categ\xffory")
    path = tmp_path / "records.csv"
    path.write_bytes(b"".join(lines))
    ledger = make_ledger()
    with pytest.raises(InvalidInput, match=r"header.*not UTF-8") as info:
        import_csv(ledger, path, at=NOW)
    str(info.value).encode("utf-8")  # the message itself is printable
    assert len(ledger) == 0


def test_a_huge_number_in_a_json_line_is_one_invalid_row() -> None:
    lines = [line.decode() for line in _hundred("jsonl")]
    lines[10] = '{"id": "big", "n": ' + "9" * 5000 + "}\n"
    report = import_jsonl(make_ledger(), "".join(lines), at=NOW)
    assert (report.posted, report.invalid) == (99, 1)
    assert "too large" in report.invalid_rows()[0].reason


def test_a_huge_number_in_a_csv_cell_is_one_invalid_row() -> None:
    lines = [line.decode() for line in _hundred("csv")]
    cells = next(csv.reader([lines[5]]))
    for name, value in (("geo_lat", "36.0"), ("geo_lon", "121.0"), ("geo_accuracy_m", "9" * 5000)):
        cells[CSV_COLUMNS.index(name)] = value
    lines[5] = csv_line(cells)
    report = import_csv(make_ledger(), "".join(lines), at=NOW)
    assert (report.posted, report.invalid) == (99, 1)
    assert "geo_accuracy_m" in report.invalid_rows()[0].reason


@settings(max_examples=60, deadline=None)
@given(
    fmt=st.sampled_from(["csv", "jsonl"]),
    hits=st.lists(st.tuples(st.integers(0, 10**6), st.binary(min_size=1, max_size=3)), max_size=6),
)
def test_any_byte_damage_is_reported_row_by_row(fmt: str, hits: list[tuple[int, bytes]]) -> None:
    data = bytearray(b"".join(_hundred(fmt)[:21]))
    for where, junk in hits:
        at = where % len(data)
        data[at : at + len(junk)] = junk
    ledger = make_ledger()
    importer = import_csv if fmt == "csv" else import_jsonl
    try:
        report = importer(ledger, io.BytesIO(bytes(data)), at=NOW)
    except InvalidInput:  # the CSV header was hit: nothing is recorded
        assert fmt == "csv" and len(ledger) == 0
        return
    assert report.posted == len(ledger)
    for row in report.results:
        str(row).encode("utf-8")  # every reason can be printed
