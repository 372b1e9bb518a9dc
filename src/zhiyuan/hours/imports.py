"""Bulk import (批量导入) of service records into an :class:`~zhiyuan.hours.HourLedger`.

Platforms hand over records as spreadsheets (CSV) or as JSON lines; :func:`~zhiyuan.hours.import_csv` and
:func:`import_jsonl` post every row through :meth:`HourLedger.post` and return an
:class:`ImportReport` with one :class:`RowResult` per data row. Nothing is dropped silently and a
bad row never stops the import: each row is ``posted``, ``duplicate`` (the same record is already
in the ledger, so posting it was a no-op) or ``invalid`` (not posted, with the reason). Invalid
rows leave the ledger exactly as it was.

A *source* is the text itself (a ``str``), a path (:class:`pathlib.Path`, read as UTF-8 with or
without a byte-order mark), or a file object in binary or text mode (read line by line, so large
files are not loaded whole). A ``str`` is always the content, never a file name. Paths and binary
files are decoded line by line: a line that is not UTF-8 is one ``invalid`` row naming the bad
byte, and the import goes on. A text-mode file object decodes by itself, so a bad byte there stops
the import with :class:`~zhiyuan.errors.InvalidInput` before anything is recorded (open it with
``'rb'`` to have bad lines reported instead).

**CSV.** The first non-blank line is the header: the :class:`~zhiyuan.hours.ServiceRecord` field
names, in any order. ``evidence`` is written by its value (``qr_scan``), datetimes in ISO 8601
with an offset (``2025-03-01T09:00:00+08:00``), ``checkout_missing`` as ``true``/``false`` (or
``1``/``0``), and the GPS fix as three optional columns ``geo_lat``, ``geo_lon``,
``geo_accuracy_m`` instead of ``geo``. An empty cell means "not given": ``None`` or the field's
default. Text cells (ids, category, note) are taken verbatim, spaces included (a cell of spaces
is not empty: an id of spaces is refused, a note of spaces is kept); typed cells (datetimes,
evidence, region code, numbers, flags) may carry surrounding spaces.

Problems with the header concern every row, so they raise :class:`~zhiyuan.errors.InvalidInput`
before anything is posted: an unknown column (``volunter_id``; a typo would otherwise drop data
or fail every row), a duplicate or unnamed column, a missing required column, and ``geo_lat``
without ``geo_lon`` (or ``geo_accuracy_m`` without both). Problems with a row make that row
``invalid``: a row with more or fewer cells than the header, a value the converter refuses, and
everything :meth:`HourLedger.post` refuses (an unknown volunteer, organization or region, a
record ending after ``at``, another record under a used id). A CSV row is one CSV record, so a
quoted cell may span lines; its :attr:`RowResult.line` is the line it starts on. An unbalanced
quote swallows the lines up to the next quote into one row, which is then reported invalid with
the lines it spans.

**JSON lines.** Each non-blank line is one record exactly as :func:`zhiyuan.convert.to_json`
dumps a :class:`~zhiyuan.hours.ServiceRecord`; unknown keys are refused.

In both formats, lines that are empty or hold only spaces are skipped and get no
:class:`RowResult`; line numbers still count them, so they match the file. Every row is judged
against the same moment ``at`` (default: the ledger clock's now when the import starts).

An import is one journal transaction: the rows reported ``posted`` are recorded together, before
the function returns (a failure reading the source records none of them). ``duplicate`` means
the same record is already in the ledger, or came earlier in the same source.

Example:
    >>> from datetime import date, datetime
    >>> from zhiyuan import SHANGHAI
    >>> from zhiyuan.hierarchy import load_default, Registry, Organization
    >>> from zhiyuan.hours import HourLedger, Volunteer
    >>> reg = Registry(load_default(), [Organization(id="o1", name="向阳街道志愿者协会",
    ...                                              region_code="370602001")])
    >>> ledger = HourLedger(reg, volunteers=[Volunteer(id="v1", name="王芳",
    ...     home_region="370602001001", registered_on=date(2024, 1, 1))])
    >>> text = '''id,volunteer_id,activity_id,organization_id,region_code,category,start,end,evidence
    ... r1,v1,a1,o1,370602001001,助老,2025-03-01T09:00+08:00,2025-03-01T12:00+08:00,qr_scan
    ... r1,v1,a1,o1,370602001001,助老,2025-03-01T09:00+08:00,2025-03-01T12:00+08:00,qr_scan
    ... r2,v9,a1,o1,370602001001,助老,2025-03-02T09:00+08:00,2025-03-02T12:00+08:00,qr_scan
    ... r3,v1,a1,o1,370602001001,助老,2025-03-03T09:00,2025-03-03T12:00+08:00,qr_scan
    ... '''
    >>> report = import_csv(ledger, text, at=datetime(2025, 3, 10, tzinfo=SHANGHAI))
    >>> report.posted, report.duplicates, report.invalid, len(ledger)
    (1, 1, 2, 1)
    >>> print(report)
    批量导入 4 行：录入 1（通过 1，需审批 0，未通过 0），重复 1，无效 2
    imported 4 rows: 1 posted (1 accepted, 0 needing approval, 0 rejected), 1 duplicate, 2 invalid
      第 4 行 / line 4 [r2]: 无效 / invalid: volunteer not found / 未找到: 'v9'
      第 5 行 / line 5 [r3]: 无效 / invalid: datetime: '2025-03-03T09:00': 缺少时区 / naive datetime: an offset is required @ $.start
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import IO, Any, Literal

import attrs

from zhiyuan._validators import aware, items_of, to_shanghai
from zhiyuan.convert import structure
from zhiyuan.errors import InvalidInput, InvalidValue, NotFound, ZhiyuanError
from zhiyuan.hours.ledger import HourLedger
from zhiyuan.hours.policy import Outcome, Status
from zhiyuan.hours.records import ServiceRecord
from zhiyuan.progress import Progress

__all__ = ["CSV_COLUMNS", "ImportReport", "ImportResult", "RowResult", "import_csv", "import_jsonl"]

ImportResult = Literal["posted", "duplicate", "invalid"]
"""What became of one row: ``posted`` (entered into the ledger, whatever the policy's verdict),
``duplicate`` (the same record was already there: a no-op) or ``invalid`` (not posted)."""

_RESULTS: tuple[ImportResult, ...] = ("posted", "duplicate", "invalid")
_RESULT_LABEL = {
    "posted": "已录入 / posted",
    "duplicate": "重复 / duplicate",
    "invalid": "无效 / invalid",
}
_STATUS_LABEL = {
    Status.ACCEPTED: "通过 / accepted",
    Status.NEEDS_APPROVAL: "需审批 / needs approval",
    Status.REJECTED: "未通过 / rejected",
}

Source = str | os.PathLike[str] | IO[str] | IO[bytes]
"""Where rows come from: the text itself, a path, or a file object (binary or text)."""

_GEO = ("geo_lat", "geo_lon", "geo_accuracy_m")
_FIELDS = tuple(a.name for a in attrs.fields(ServiceRecord))
_REQUIRED = frozenset(a.name for a in attrs.fields(ServiceRecord) if a.default is attrs.NOTHING)
CSV_COLUMNS: tuple[str, ...] = tuple(f for f in _FIELDS if f != "geo") + _GEO
"""Every column :func:`~zhiyuan.hours.import_csv` accepts, in the order a writer should use."""

_TYPED = frozenset(
    {
        "region_code",
        "start",
        "end",
        "evidence",
        "scheduled_start",
        "scheduled_end",
        "checkout_missing",
        "recorded_at",
        *_GEO,
    }
)
_TRUE = frozenset({"true", "1"})
_FALSE = frozenset({"false", "0"})
_INT = re.compile(r"[+-]?[0-9]+")
_FLOAT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


@attrs.frozen(kw_only=True)
class RowResult:
    """What became of one input row, and why.

    Attributes:
        line: the 1-based line of the source the row starts on.
        result: ``posted``, ``duplicate`` or ``invalid``.
        record_id: the record's id, when the row gave one.
        status: the policy's verdict, for posted rows only.
        counted_minutes: the minutes the policy counted, for posted rows only.
        reason: why the row is invalid (the error messages), or the policy's findings for a
            posted row (empty when the policy changed nothing), or what the duplicate repeats.
    """

    line: int
    result: ImportResult
    record_id: str | None = None
    status: Status | None = None
    counted_minutes: int | None = None
    reason: str = ""

    def __attrs_post_init__(self) -> None:
        if isinstance(self.line, bool) or not isinstance(self.line, int) or self.line < 1:
            raise InvalidValue("line", self.line, "行号从 1 开始 / line numbers start at 1")
        if self.result not in _RESULTS:
            raise InvalidValue("result", self.result, f"应为 / one of {', '.join(_RESULTS)}")
        if (self.status is None) != (self.result != "posted"):
            raise InvalidValue(
                "status", self.status, "仅已录入的行有规则结论 / only posted rows have a status"
            )
        if (self.counted_minutes is None) != (self.result != "posted"):
            raise InvalidValue(
                "counted_minutes",
                self.counted_minutes,
                "仅已录入的行有计入时长 / only posted rows have counted minutes",
            )

    def __str__(self) -> str:
        head = f"第 {self.line} 行 / line {self.line}"
        if self.record_id is not None:
            head += f" [{self.record_id}]"
        text = f"{head}: {_RESULT_LABEL[self.result]}"
        if self.status is not None:
            text += f", {_STATUS_LABEL[self.status]}, {self.counted_minutes} min"
        return f"{text}: {self.reason}" if self.reason else text


def _results(value: object) -> tuple[RowResult, ...]:
    return items_of("results", RowResult, value)


@attrs.frozen(kw_only=True)
class ImportReport:
    """The outcome of one import: one :class:`RowResult` per data row, in input order.

    Attributes:
        results: the rows' results (blank lines have none).
        at: the moment every row was judged against (``now``).
    """

    results: tuple[RowResult, ...] = attrs.field(converter=_results)
    at: datetime = attrs.field(converter=to_shanghai, validator=aware)

    def _count(self, result: ImportResult) -> int:
        return sum(1 for r in self.results if r.result == result)

    def _status(self, status: Status) -> int:
        return sum(1 for r in self.results if r.status is status)

    @property
    def rows(self) -> int:
        """Data rows read (blank lines are not rows)."""
        return len(self.results)

    @property
    def posted(self) -> int:
        """Rows entered into the ledger (whatever the policy's verdict)."""
        return self._count("posted")

    @property
    def duplicates(self) -> int:
        """Rows whose record was already in the ledger (no-ops)."""
        return self._count("duplicate")

    @property
    def invalid(self) -> int:
        """Rows not posted because of an error."""
        return self._count("invalid")

    @property
    def accepted(self) -> int:
        """Posted rows the policy accepted."""
        return self._status(Status.ACCEPTED)

    @property
    def needs_approval(self) -> int:
        """Posted rows the policy sent for approval (需审批)."""
        return self._status(Status.NEEDS_APPROVAL)

    @property
    def rejected(self) -> int:
        """Posted rows the policy rejected (entered, with the reason, but counting nothing)."""
        return self._status(Status.REJECTED)

    @property
    def ok(self) -> bool:
        """True if no row was invalid."""
        return self.invalid == 0

    def invalid_rows(self) -> tuple[RowResult, ...]:
        """The rows that were not posted, with their reasons."""
        return tuple(r for r in self.results if r.result == "invalid")

    def __str__(self) -> str:
        zh = (
            f"批量导入 {self.rows} 行：录入 {self.posted}（通过 {self.accepted}，需审批 "
            f"{self.needs_approval}，未通过 {self.rejected}），重复 {self.duplicates}，"
            f"无效 {self.invalid}"
        )
        en = (
            f"imported {self.rows} rows: {self.posted} posted ({self.accepted} accepted, "
            f"{self.needs_approval} needing approval, {self.rejected} rejected), "
            f"{self.duplicates} duplicate, {self.invalid} invalid"
        )
        notes = [
            f"  {r}"
            for r in self.results
            if r.result == "invalid" or r.status not in (None, Status.ACCEPTED)
        ]
        return "\n".join([zh, en, *notes])


# --- reading sources -----------------------------------------------------------------------------


@contextlib.contextmanager
def _open(source: Source) -> Iterator[Iterator[str]]:
    """Lines of the source (with their line ends; a leading byte-order mark removed).

    Bytes (a path, or a file object opened in binary mode) are decoded line by line, so a line
    that is not UTF-8 becomes one invalid row (its bad bytes kept as lone surrogates, which
    :func:`_not_text` finds) instead of stopping the import.
    """
    if isinstance(source, str):
        yield _text_lines(io.StringIO(source, newline=""))
    elif isinstance(source, os.PathLike):
        with open(source, "rb") as f:
            yield _text_lines(f)
    elif hasattr(source, "read") or hasattr(source, "__iter__"):
        yield _text_lines(source)
    else:
        raise InvalidValue(
            "source",
            type(source).__name__,
            "需要文本、路径或文件 / need text (str), a path or a file object",
        )


def _physical(lines: Iterable[Any]) -> Iterator[str]:
    """Each line as text: ``str`` as is, ``bytes`` decoded as UTF-8 (split at ``\\r`` too, as
    text mode with ``newline=""`` would), undecodable bytes kept as lone surrogates."""
    n = 0
    it = iter(lines)
    while True:
        try:
            line = next(it)
        except StopIteration:
            return
        except UnicodeDecodeError as exc:  # a text-mode file object that could not decode
            raise InvalidInput(
                [
                    f"第 {n + 1} 行不是 UTF-8 文本 / line {n + 1} is not UTF-8 text ({exc.reason}); "
                    "以二进制方式打开文件（'rb'），坏行将逐行报告 / open the file in binary mode "
                    "('rb') to have bad lines reported one by one @ line "
                    f"{n + 1}"
                ]
            ) from exc
        if isinstance(line, bytes | bytearray):
            for part in bytes(line).splitlines(keepends=True):
                n += 1
                yield part.decode("utf-8", "surrogateescape")
        elif isinstance(line, str):
            n += 1
            yield line
        else:
            raise InvalidValue(
                "source",
                type(line).__name__,
                "文件的每一行应为文本或字节 / a line of the file was neither str nor bytes",
            )


def _text_lines(lines: Iterable[Any]) -> Iterator[str]:
    first = True
    for line in _physical(lines):
        if first:
            line = line.removeprefix("\ufeff")
            first = False
        yield line


def _not_text(text: str) -> str | None:
    """Why ``text`` is not valid text (a byte that was not UTF-8, or a lone surrogate), or
    ``None``."""
    if text.isascii():
        return None
    for column, char in enumerate(text, start=1):
        code = ord(char)
        if 0xDC80 <= code <= 0xDCFF:
            return f"不是 UTF-8 文本 / not UTF-8 text (byte 0x{code - 0xDC00:02x} at character {column})"
        if 0xD800 <= code <= 0xDFFF:
            return f"含孤立代理项 / a lone surrogate (U+{code:04X} at character {column})"
    return None


def _blank(line: str) -> bool:
    return not line.strip()


# --- posting -------------------------------------------------------------------------------------


@attrs.frozen
class _Row:
    """One parsed row: a record, or the reason it could not be made (internal)."""

    line: int
    record_id: str | None
    record: ServiceRecord | None
    reason: str = ""


def _post(ledger: HourLedger, row: _Row, at: datetime, seen: dict[str, Outcome]) -> RowResult:
    rec = row.record
    if rec is None:
        return RowResult(
            line=row.line, result="invalid", record_id=row.record_id, reason=row.reason
        )
    try:
        existing: ServiceRecord | None = ledger.record(rec.id)
    except NotFound:
        existing = None
    earlier = seen.get(rec.id)
    if (existing is not None and existing == rec) or (
        earlier is not None and ledger._view_record(rec.id) == rec
    ):
        prior = (earlier or ledger.outcome(rec.id)).status
        return RowResult(
            line=row.line,
            result="duplicate",
            record_id=rec.id,
            reason=f"已在台账中 / already in the ledger ({prior.value})",
        )
    try:
        outcome: Outcome = ledger.post(rec, at=at)
    except ZhiyuanError as exc:
        return RowResult(line=row.line, result="invalid", record_id=rec.id, reason=str(exc))
    seen[rec.id] = outcome
    return RowResult(
        line=row.line,
        result="posted",
        record_id=rec.id,
        status=outcome.status,
        counted_minutes=outcome.counted_minutes,
        reason="; ".join(str(f) for f in outcome.findings),
    )


PROGRESS_EVERY = 1000
"""How many rows an import reads between two calls of its progress callback."""


def _run(
    ledger: HourLedger, rows: Iterable[_Row], at: datetime | None, progress: Progress | None
) -> ImportReport:
    with ledger.journal.transaction():
        when = ledger._when(at)
        seen: dict[str, Outcome] = {}
        results = []
        for row in rows:
            results.append(_post(ledger, row, when, seen))
            if progress is not None and len(results) % PROGRESS_EVERY == 0:
                progress("导入 / import", len(results), None)
        if progress is not None:
            progress("导入 / import", len(results), len(results))
    return ImportReport(results=results, at=when)


def _make(line: int, data: object, rewrite: dict[str, str] | None = None) -> _Row:
    rid = data.get("id") if isinstance(data, dict) else None
    record_id = rid if isinstance(rid, str) and rid.strip() else None
    try:
        record = structure(data, ServiceRecord)
    except InvalidInput as exc:
        messages = exc.messages
        if rewrite:
            messages = [_rewrite(m, rewrite) for m in messages]
        return _Row(line, record_id, None, "; ".join(messages))
    return _Row(line, record.id, record)


def _rewrite(message: str, paths: dict[str, str]) -> str:
    for old, new in paths.items():
        if message.endswith(old):
            return message[: -len(old)] + new
    return message


# --- JSON lines ----------------------------------------------------------------------------------


def _jsonl_rows(lines: Iterable[str]) -> Iterator[_Row]:
    for n, line in enumerate(lines, start=1):
        if _blank(line):
            continue
        bad = _not_text(line)
        if bad is not None:
            yield _Row(n, None, None, f"{bad} @ $")
            continue
        try:
            data = json.loads(line.rstrip("\r\n"))
        except json.JSONDecodeError as exc:
            yield _Row(
                n,
                None,
                None,
                f"JSON 格式错误 / malformed JSON: {exc.msg} at column {exc.colno} @ $",
            )
            continue
        except RecursionError:
            yield _Row(n, None, None, "JSON 嵌套过深 / malformed JSON: nested too deeply @ $")
            continue
        except ValueError as exc:  # an integer of more digits than Python reads
            yield _Row(n, None, None, f"JSON 数值过大 / a number is too large: {exc} @ $")
            continue
        yield _make(n, data)


def import_jsonl(
    ledger: HourLedger,
    source: Source,
    *,
    at: datetime | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Post every record of a JSON-lines source (one record per line, as the converter dumps it).

    Args:
        ledger: the ledger to post into.
        source: the text, a path, or a text file object.
        at: the moment every record is posted and judged against (aware; default: the
            ledger clock's now).
        progress: told every 1,000 rows how many were read (the total is not known ahead;
            :mod:`zhiyuan.progress`).

    Returns:
        One :class:`RowResult` per non-blank line.

    Raises:
        InvalidValue: ``at`` is naive, or the source is not text.

    Example:
        >>> from datetime import date, datetime
        >>> from zhiyuan import SHANGHAI
        >>> from zhiyuan.convert import to_json
        >>> from zhiyuan.hierarchy import load_default, Registry, Organization
        >>> from zhiyuan.hours import Evidence, HourLedger, ServiceRecord, Volunteer
        >>> reg = Registry(load_default(), [Organization(id="o1", name="向阳街道志愿者协会",
        ...                                              region_code="370602001")])
        >>> ledger = HourLedger(reg, volunteers=[Volunteer(id="v1", name="王芳",
        ...     home_region="370602001001", registered_on=date(2024, 1, 1))])
        >>> rec = ServiceRecord(id="r1", volunteer_id="v1", activity_id="a1",
        ...     organization_id="o1", region_code="370602001001", category="助老",
        ...     evidence=Evidence.QR_SCAN, start=datetime(2025, 3, 1, 9, tzinfo=SHANGHAI),
        ...     end=datetime(2025, 3, 1, 11, tzinfo=SHANGHAI))
        >>> text = to_json(rec) + "\\n\\n" + '{"id": "r2"' + "\\n"
        >>> report = import_jsonl(ledger, text, at=datetime(2025, 3, 2, tzinfo=SHANGHAI))
        >>> [(r.line, r.result, r.counted_minutes) for r in report.results]
        [(1, 'posted', 120), (3, 'invalid', None)]
        >>> report.results[1].reason
        "JSON 格式错误 / malformed JSON: Expecting ',' delimiter at column 12 @ $"
    """
    with _open(source) as lines:
        return _run(ledger, _jsonl_rows(lines), at, progress)


# --- CSV -----------------------------------------------------------------------------------------

_GEO_PATHS = {
    "@ $.geo.lat": "@ $.geo_lat",
    "@ $.geo.lon": "@ $.geo_lon",
    "@ $.geo.accuracy_m": "@ $.geo_accuracy_m",
}


def _header(cells: list[str], line: int) -> list[str]:
    names = [c.strip() for c in cells]
    where = f"@ line {line} (header / 表头)"
    problems: list[str] = []
    seen: set[str] = set()
    for k, name in enumerate(names, start=1):
        if not name:
            problems.append(f"第 {k} 列没有列名 / column {k} has no name {where}")
        elif name in seen:
            problems.append(f"列 {name!r} 重复 / column {name!r} appears twice {where}")
        elif name == "geo":
            problems.append(
                f"列 'geo' 应拆为 geo_lat、geo_lon、geo_accuracy_m / write 'geo' as the columns "
                f"geo_lat, geo_lon and geo_accuracy_m {where}"
            )
        elif name not in CSV_COLUMNS:
            problems.append(
                f"未知列 {name!r} / unknown column {name!r}; known: {', '.join(CSV_COLUMNS)} {where}"
            )
        seen.add(name)
    missing = [f for f in _FIELDS if f in _REQUIRED and f not in seen]
    if missing:
        problems.append(f"缺少必填列 / missing required columns: {', '.join(missing)} {where}")
    has = [g in seen for g in _GEO]
    if has[0] != has[1] or (has[2] and not has[0]):
        problems.append(
            f"geo_lat 与 geo_lon 须同时给出（geo_accuracy_m 可选）/ give geo_lat and geo_lon "
            f"together (geo_accuracy_m is optional) {where}"
        )
    if problems:
        raise InvalidInput(problems)
    return names


def _csv_data(names: list[str], cells: list[str]) -> tuple[dict[str, Any], list[str]]:
    """The converter's input for one row, and the problems found in its cells."""
    data: dict[str, Any] = {}
    geo: dict[str, str] = {}
    problems: list[str] = []
    for name, raw in zip(names, cells, strict=True):
        cell = raw.strip() if name in _TYPED else raw
        if cell == "":
            continue
        if name in _GEO:
            geo[name] = cell
        elif name == "checkout_missing":
            flag = cell.lower()
            if flag in _TRUE or flag in _FALSE:
                data[name] = flag in _TRUE
            else:
                problems.append(
                    f"checkout_missing: {cell!r}: 应为 true/false / need true or false (or 1/0) "
                    f"@ $.checkout_missing"
                )
        else:
            data[name] = cell
    if geo:
        fix: dict[str, Any] = {}
        for name in _GEO:
            value = geo.get(name)
            if value is None:
                if name != "geo_accuracy_m":
                    problems.append(
                        f"{name}: 缺少 / missing: geo_lat and geo_lon go together @ $.{name}"
                    )
                continue
            pattern = _INT if name == "geo_accuracy_m" else _FLOAT
            if not pattern.fullmatch(value):
                what = "整数 / an integer" if name == "geo_accuracy_m" else "数字 / a number"
                problems.append(f"{name}: {value!r}: 需要{what} @ $.{name}")
                continue
            try:
                fix[name.removeprefix("geo_")] = int(value) if pattern is _INT else float(value)
            except ValueError:  # an integer of more digits than Python reads
                problems.append(f"{name}: 数值过大 / the number is too large @ $.{name}")
        data["geo"] = fix
    return data, problems


def _csv_rows(lines: Iterable[str]) -> Iterator[_Row]:
    reader = csv.reader(lines)
    names: list[str] | None = None
    last = 0  # the last physical line read so far
    while True:
        first = last + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if names is None:
                raise InvalidInput([f"CSV 格式错误 / malformed CSV: {exc} @ line {first}"]) from exc
            last = reader.line_num
            yield _Row(first, None, None, f"CSV 格式错误 / malformed CSV: {exc} @ $")
            continue
        last = reader.line_num
        if not cells or (len(cells) == 1 and _blank(cells[0])):
            continue
        if names is None:
            bad = next((why for cell in cells if (why := _not_text(cell)) is not None), None)
            if bad is not None:
                raise InvalidInput([f"表头 / header: {bad} @ line {first}"])
            names = _header(cells, first)
            continue
        span = f" (lines {first}–{last} / 第 {first}–{last} 行)" if last > first else ""
        bad = next(
            (
                f"{names[i] if i < len(names) else f'#{i + 1}'}: {why}"
                for i, cell in enumerate(cells)
                if (why := _not_text(cell)) is not None
            ),
            None,
        )
        if bad is not None:
            at_id = names.index("id")
            ident = cells[at_id] if at_id < len(cells) else ""
            yield _Row(
                first,
                ident if ident.strip() and not _not_text(ident) else None,
                None,
                f"{bad}{span} @ $",
            )
            continue
        if len(cells) != len(names):
            rid = cells[names.index("id")] if len(cells) > names.index("id") else None
            yield _Row(
                first,
                rid if rid and rid.strip() else None,
                None,
                f"本行有 {len(cells)} 个单元格，表头有 {len(names)} 列 / the row has "
                f"{len(cells)} cells, the header {len(names)}{span} @ $",
            )
            continue
        data, problems = _csv_data(names, cells)
        if problems:
            rid = data.get("id")
            yield _Row(first, rid if isinstance(rid, str) else None, None, "; ".join(problems))
            continue
        row = _make(first, data, _GEO_PATHS)
        if row.record is None and span:
            row = attrs.evolve(row, reason=row.reason + span)
        yield row


def import_csv(
    ledger: HourLedger,
    source: Source,
    *,
    at: datetime | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Post every row of a CSV source whose header names :class:`ServiceRecord` fields.

    See the module documentation for the columns and cell formats.

    Args:
        ledger: the ledger to post into.
        source: the text, a path, or a text file object (open it with ``newline=""`` so that
            line ends inside quoted cells survive).
        at: the moment every record is posted and judged against (aware; default: the
            ledger clock's now).
        progress: told every 1,000 rows how many were read (the total is not known ahead;
            :mod:`zhiyuan.progress`).

    Returns:
        One :class:`RowResult` per data row (blank lines and the header have none; an empty
        source gives an empty report).

    Raises:
        InvalidInput: the header is wrong (unknown, duplicate, unnamed or missing columns);
            nothing was posted.
        InvalidValue: ``at`` is naive, or the source is not text.

    Example:
        >>> from datetime import date, datetime
        >>> from zhiyuan import SHANGHAI
        >>> from zhiyuan.hierarchy import load_default, Registry
        >>> from zhiyuan.hours import HourLedger
        >>> ledger = HourLedger(Registry(load_default()))
        >>> import_csv(ledger, "id,volunter_id\\nr1,v1\\n")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        zhiyuan.errors.InvalidInput: 未知列 'volunter_id' / unknown column 'volunter_id'; ...
        >>> len(ledger)
        0
    """
    with _open(source) as lines:
        return _run(ledger, _csv_rows(lines), at, progress)
