"""Readers for the NBS division files (统计用区划代码 as CSV, plain or gzipped).

Rows are streamed, never held whole, so the whole country loads within the memory target.

A file that cannot be read raises :class:`~zhiyuan.errors.InvalidInput` naming the file and, where
it can be told, the line: a gzip file cut short or not gzip at all, bytes that are not UTF-8, CSV
that does not parse (an unbalanced quote that runs on past the field size limit), a file that is
empty, has a header without the needed columns, or has no rows. The fast path does not track
lines; when reading fails, the file is read again slowly to find the line. A missing directory or
file raises :class:`~zhiyuan.errors.NotFound`.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import zlib
from collections.abc import Iterator
from itertools import chain
from pathlib import Path
from typing import IO

from zhiyuan.errors import InvalidInput, InvalidValue, NotFound, show

__all__ = [
    "LEVEL_FILES",
    "named_files",
    "read_named_dir",
    "read_named_file",
    "read_structure_file",
    "structure_file",
]

LEVEL_FILES = ("provinces", "cities", "counties", "townships", "villages")
"""The named files of the NBS layout, from the top level down."""

# What reading a damaged file raises: gzip.BadGzipFile is an OSError; a gzip file cut short raises
# EOFError; damaged deflate data raises zlib.error.
_READ_ERRORS = (OSError, EOFError, zlib.error, UnicodeDecodeError, csv.Error)


def _path(path: object) -> Path:
    """``path`` (a ``str`` or path-like) as a :class:`Path`; anything else is an InvalidValue."""
    if isinstance(path, (str, os.PathLike)):
        text = os.fspath(path)
        if isinstance(text, str) and text:
            return Path(text)
    raise InvalidValue("path", path, "需要文件路径 / need a file system path", shown=show(path))


def _open(path: Path) -> IO[str]:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return path.open("r", encoding="utf-8", newline="")


def _find(directory: Path, stem: str) -> Path | None:
    for suffix in (".csv.gz", ".csv"):
        candidate = directory / f"{stem}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def _problem(path: Path, what: str, line: int | None) -> InvalidInput:
    where = f"@ line {line}" if line is not None else "@ $"
    return InvalidInput([f"{path}: {what} {where}"])


def _unreadable(path: Path, exc: BaseException, line: int | None) -> InvalidInput:
    """The error for a file whose reading raised ``exc``; the line is found by reading it again."""
    found = _locate(path)
    if found is not None:
        return _problem(path, found[1], found[0])
    return _problem(path, _why(exc), line)  # it read cleanly the second time: say what we know


def _why(exc: BaseException) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return f"不是有效的 UTF-8 文本 / not valid UTF-8 ({exc.reason})"
    if isinstance(exc, csv.Error):
        return f"CSV 格式错误 / malformed CSV: {exc}"
    if isinstance(exc, EOFError):
        return f"gzip 文件不完整 / the gzip file is cut short: {exc}"
    if isinstance(exc, (gzip.BadGzipFile, zlib.error)):
        return f"不是有效的 gzip 文件 / not a valid gzip file: {exc}"
    return f"无法读取 / cannot be read: {exc}"


def _locate(path: Path) -> tuple[int | None, str] | None:
    """Read ``path`` again, line by line, and say at which line and why reading fails.

    Slow (a decode and a check per line), so only called once reading has failed. Returns
    ``None`` when the file reads cleanly this time.
    """
    at = 0  # physical lines read, the failing one included

    def lines() -> Iterator[str]:
        nonlocal at
        with gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb") as fh:
            for raw in fh:
                at += 1
                yield raw.decode("utf-8")

    reader = csv.reader(lines(), strict=True)
    start = 1  # the first line of the record being read
    try:
        for _ in reader:
            start = at + 1
    except UnicodeDecodeError as exc:
        byte = exc.object[exc.start : exc.start + 1].hex()
        return at, (
            f"不是有效的 UTF-8 文本（第 {exc.start + 1} 字节 0x{byte}）/ not valid UTF-8: byte "
            f"0x{byte} at byte {exc.start + 1} of the line"
        )
    except csv.Error as exc:
        return start, (
            f"CSV 格式错误（第 {start} 行起的记录）/ malformed CSV in the record from line "
            f"{start}: {exc}"
        )
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        return at + 1, _why(exc)
    except OSError as exc:  # the file itself cannot be opened or read: no line to name
        return (at + 1 if at else None), _why(exc)
    return None


def read_named_file(path: Path) -> Iterator[tuple[str, str, str | None]]:
    """``(code, name, parent code)`` rows of one named file; the parent is the first ``*_code`` column."""
    reader = None
    try:
        with _open(path) as fh:
            reader = csv.reader(fh, strict=True)
            header = next(reader, None)
            if header is None:
                raise _problem(path, "文件为空，没有表头 / the file is empty: no header", 1)
            if "code" not in header or "name" not in header:
                raise _problem(
                    path,
                    f"表头须有 code 与 name 列 / header needs code and name columns, got {show(header)}",
                    1,
                )
            ic, inm = header.index("code"), header.index("name")
            parents = [i for i, h in enumerate(header) if h.endswith("_code")]
            ip = parents[0] if parents else None
            width = len(header)
            first = next((row for row in reader if row), None)
            if first is None:
                raise _problem(path, "只有表头，没有数据行 / no rows after the header", 2)
            for row in chain((first,), reader):
                if len(row) < width:
                    if not row:
                        continue
                    row = row + [""] * (width - len(row))
                yield row[ic], row[inm], (row[ip] or None) if ip is not None else None
    except _READ_ERRORS as exc:
        raise _unreadable(path, exc, reader.line_num + 1 if reader is not None else None) from exc


def named_files(path: object) -> list[Path]:
    """The named files present in a directory, top level first (``.csv.gz`` before ``.csv``).

    A missing directory, or one without any named file, raises :class:`~zhiyuan.errors.NotFound`.
    """
    directory = _path(path)
    if not directory.is_dir():
        raise NotFound("directory", str(directory))
    found = [p for stem in LEVEL_FILES if (p := _find(directory, stem)) is not None]
    if not found:
        raise NotFound("NBS named files (provinces.csv[.gz] …)", str(directory))
    return found


def read_named_dir(path: object) -> Iterator[tuple[str, str, str | None]]:
    """All rows of the named files in a directory, top level first."""
    for p in named_files(path):
        yield from read_named_file(p)


def structure_file(path: object) -> Path:
    """``path`` as the :class:`Path` of an existing file, or :class:`~zhiyuan.errors.NotFound`."""
    p = _path(path)
    if not p.is_file():
        raise NotFound("file", str(p))
    return p


def read_structure_file(path: object) -> Iterator[tuple[str, None, str | None, str]]:
    """``(code, None, parent code, level)`` rows of a codes-only structure file (2019 layout)."""
    p = structure_file(path)
    reader = None
    try:
        with _open(p) as fh:
            reader = csv.reader(fh, strict=True)
            header = next(reader, None)
            if header is None:
                raise _problem(p, "文件为空，没有表头 / the file is empty: no header", 1)
            if header[:2] != ["code", "parent_code"]:
                raise _problem(
                    p,
                    f"表头须以 code,parent_code 开头 / header must start code,parent_code; got {show(header)}",
                    1,
                )
            has_level = len(header) > 2
            first = next((row for row in reader if row), None)
            if first is None:
                raise _problem(p, "只有表头，没有数据行 / no rows after the header", 2)
            for row in chain((first,), reader):
                if not row:
                    continue
                parent = row[1] if len(row) > 1 and row[1] not in ("", "0") else None
                level = row[2] if has_level and len(row) > 2 else ""
                yield row[0], None, parent, level
    except _READ_ERRORS as exc:
        raise _unreadable(p, exc, reader.line_num + 1 if reader is not None else None) from exc
