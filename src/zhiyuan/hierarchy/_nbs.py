"""Readers for the NBS division files (统计用区划代码 as CSV, plain or gzipped).

Rows are streamed, never held whole, so the whole country loads within the memory target.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from zhiyuan.errors import InvalidInput, NotFound

__all__ = ["LEVEL_FILES", "read_named_dir", "read_named_file", "read_structure_file"]

LEVEL_FILES = ("provinces", "cities", "counties", "townships", "villages")
"""The named files of the NBS layout, from the top level down."""


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


def read_named_file(path: Path) -> Iterator[tuple[str, str, str | None]]:
    """``(code, name, parent code)`` rows of one named file; the parent is the first ``*_code`` column."""
    with _open(path) as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None or "code" not in header or "name" not in header:
            raise InvalidInput(
                [f"{path.name}: header needs code and name columns, got {header!r} @ $"]
            )
        ic, inm = header.index("code"), header.index("name")
        parents = [i for i, h in enumerate(header) if h.endswith("_code")]
        ip = parents[0] if parents else None
        width = len(header)
        for row in reader:
            if len(row) < width:
                if not row:
                    continue
                row = row + [""] * (width - len(row))
            yield row[ic], row[inm], (row[ip] or None) if ip is not None else None


def read_named_dir(path: object) -> Iterator[tuple[str, str, str | None]]:
    """All rows of the named files in a directory, top level first."""
    directory = Path(str(path))
    if not directory.is_dir():
        raise NotFound("directory", str(directory))
    found = [(stem, _find(directory, stem)) for stem in LEVEL_FILES]
    if not any(p for _, p in found):
        raise NotFound("NBS named files (provinces.csv[.gz] …)", str(directory))
    for _, p in found:
        if p is not None:
            yield from read_named_file(p)


def read_structure_file(path: object) -> Iterator[tuple[str, None, str | None, str]]:
    """``(code, None, parent code, level)`` rows of a codes-only structure file (2019 layout)."""
    p = Path(str(path))
    if not p.is_file():
        raise NotFound("file", str(p))
    with _open(p) as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None or header[:2] != ["code", "parent_code"]:
            raise InvalidInput(
                [f"{p.name}: header must start code,parent_code; got {header!r} @ $"]
            )
        has_level = len(header) > 2
        for row in reader:
            if not row:
                continue
            parent = row[1] if len(row) > 1 and row[1] not in ("", "0") else None
            level = row[2] if has_level and len(row) > 2 else ""
            yield row[0], None, parent, level
