"""Damaged NBS files: every way reading can fail is an InvalidInput naming the file and the line.

Each test copies real files from ``data/nbs`` into ``tmp_path`` and damages the copy: a gzip cut in
half, a ``.gz`` that is not gzip, a byte that is not UTF-8, an unbalanced quote, a damaged gzip
trailer, an empty file, a header alone, a wrong header (issue 14).
"""

from __future__ import annotations

import csv
import gzip
import shutil
import zlib
from pathlib import Path

import pytest

from zhiyuan.errors import InvalidInput, InvalidValue, NotFound
from zhiyuan.hierarchy import AnomalyKind, RegionTree

# --- helpers ---------------------------------------------------------------------------------


def _dir_with(nbs_dir: Path, tmp_path: Path, *stems: str) -> Path:
    """A directory holding copies of the named files ``stems`` (``provinces`` …)."""
    out = tmp_path / "nbs"
    out.mkdir()
    for stem in stems:
        shutil.copy(nbs_dir / f"{stem}.csv.gz", out / f"{stem}.csv.gz")
    return out


def _lines(path: Path) -> list[bytes]:
    """The decompressed lines of a ``.csv.gz``, line ends kept."""
    return gzip.decompress(path.read_bytes()).splitlines(keepends=True)


def _write_gz(path: Path, lines: list[bytes]) -> None:
    path.write_bytes(gzip.compress(b"".join(lines)))


def _error(load: object, path: object) -> InvalidInput:
    with pytest.raises(InvalidInput) as info:
        load(path)  # type: ignore[operator]
    assert len(info.value.messages) == 1
    return info.value


def _structure_extract(nbs_dir: Path, tmp_path: Path, n: int = 6000) -> Path:
    """The first ``n`` lines of the real 2019 structure file, as a small real file."""
    with gzip.open(nbs_dir / "structure_2019.csv.gz", "rb") as fh:
        lines = [fh.readline() for _ in range(n)]
    out = tmp_path / "structure.csv.gz"
    _write_gz(out, lines)
    return out


# --- the named files (from_nbs_dir) ----------------------------------------------------------


def test_the_copies_load_before_they_are_damaged(nbs_dir: Path, tmp_path: Path) -> None:
    d = _dir_with(nbs_dir, tmp_path, "provinces", "cities", "counties")
    tree = RegionTree.from_nbs_dir(d)
    assert len(tree) == 31 + 342 + 2978 - 3  # 东莞, 中山, 儋州 collide with their county rows
    assert len(_lines(d / "cities.csv.gz")) == 343


def test_a_gzip_cut_in_half(nbs_dir: Path, tmp_path: Path) -> None:
    d = _dir_with(nbs_dir, tmp_path, "provinces", "cities", "counties")
    f = d / "counties.csv.gz"
    whole = f.read_bytes()
    f.write_bytes(whole[: len(whole) // 2])
    err = _error(RegionTree.from_nbs_dir, d)
    text = str(err)
    assert text.startswith(f"{f}: ")
    assert "gzip 文件不完整 / the gzip file is cut short" in text
    # The line is the first one not read whole: somewhere in the middle of the 2,979 lines.
    line = int(text.rsplit("@ line ", 1)[1])
    assert 1000 < line < 2000
    assert isinstance(err.__cause__, EOFError)


def test_a_gz_file_that_is_not_gzip(nbs_dir: Path, tmp_path: Path) -> None:
    d = _dir_with(nbs_dir, tmp_path, "provinces", "cities")
    f = d / "cities.csv.gz"
    f.write_bytes(gzip.decompress(f.read_bytes()))  # plain CSV under a .gz name
    err = _error(RegionTree.from_nbs_dir, d)
    assert str(err) == (
        f"{f}: 不是有效的 gzip 文件 / not a valid gzip file: Not a gzipped file (b'co') @ line 1"
    )
    assert isinstance(err.__cause__, gzip.BadGzipFile)


def test_a_byte_that_is_not_utf8(nbs_dir: Path, tmp_path: Path) -> None:
    d = _dir_with(nbs_dir, tmp_path, "provinces", "cities", "counties")
    f = d / "counties.csv.gz"
    lines = _lines(f)
    assert lines[1400] == "371702,牡丹区,3717,37\r\n".encode()
    lines[1400] = lines[1400][:3] + b"\xff" + lines[1400][3:]  # line 1401 of the file
    _write_gz(f, lines)
    err = _error(RegionTree.from_nbs_dir, d)
    assert str(err) == (
        f"{f}: 不是有效的 UTF-8 文本（第 4 字节 0xff）/ not valid UTF-8: byte 0xff at byte 4 of "
        "the line @ line 1401"
    )
    assert isinstance(err.__cause__, UnicodeDecodeError)


def test_a_byte_that_is_not_utf8_in_a_plain_csv(nbs_dir: Path, tmp_path: Path) -> None:
    d = tmp_path / "nbs"
    d.mkdir()
    lines = _lines(nbs_dir / "provinces.csv.gz")
    lines[5] = lines[5][:3] + b"\xe7\x9c" + lines[5][3:]  # a character cut short
    (d / "provinces.csv").write_bytes(b"".join(lines))
    err = _error(RegionTree.from_nbs_dir, d)
    assert str(err).startswith(f"{d / 'provinces.csv'}: 不是有效的 UTF-8 文本（第 4 字节 0xe7）")
    assert str(err).endswith("@ line 6")


def test_an_unbalanced_quote_that_runs_past_the_field_limit(nbs_dir: Path, tmp_path: Path) -> None:
    # townships has 1.6 MB of text after line 10: the quoted field outgrows csv's limit.
    d = _dir_with(nbs_dir, tmp_path, "provinces", "cities", "counties", "townships")
    f = d / "townships.csv.gz"
    lines = _lines(f)
    lines[9] = lines[9].replace(b",", b',"', 1)  # line 10: 110101001,"东华门街道,1101,11
    _write_gz(f, lines)
    assert sum(map(len, lines[9:])) > csv.field_size_limit()
    err = _error(RegionTree.from_nbs_dir, d)
    assert str(err) == (
        f"{f}: CSV 格式错误（第 10 行起的记录）/ malformed CSV in the record from line 10: "
        f"field larger than field limit ({csv.field_size_limit()}) @ line 10"
    )
    assert isinstance(err.__cause__, csv.Error)


def test_an_unbalanced_quote_in_a_small_file(nbs_dir: Path, tmp_path: Path) -> None:
    # Without strict parsing, the quote would swallow the rest of the file into one name.
    d = _dir_with(nbs_dir, tmp_path, "provinces", "cities")
    f = d / "cities.csv.gz"
    lines = _lines(f)
    lines[300] = lines[300].replace(b",", b',"', 1)
    _write_gz(f, lines)
    err = _error(RegionTree.from_nbs_dir, d)
    assert str(err) == (
        f"{f}: CSV 格式错误（第 301 行起的记录）/ malformed CSV in the record from line 301: "
        "unexpected end of data @ line 301"
    )


def test_a_damaged_gzip_trailer(nbs_dir: Path, tmp_path: Path) -> None:
    d = _dir_with(nbs_dir, tmp_path, "provinces", "cities")
    f = d / "cities.csv.gz"
    data = bytearray(f.read_bytes())
    data[-8] ^= 0xFF  # the CRC-32 of the content: found wrong only after the last line
    f.write_bytes(bytes(data))
    with pytest.raises(gzip.BadGzipFile) as raw:
        gzip.decompress(bytes(data))
    assert str(raw.value).startswith("CRC check failed")
    err = _error(RegionTree.from_nbs_dir, d)
    assert str(err).startswith(f"{f}: 不是有效的 gzip 文件 / not a valid gzip file: {raw.value} ")
    assert str(err).endswith(" @ line 344")  # one past the last of the 343 lines
    assert isinstance(err.__cause__, gzip.BadGzipFile)


def test_damaged_deflate_data(nbs_dir: Path, tmp_path: Path) -> None:
    d = _dir_with(nbs_dir, tmp_path, "provinces")
    f = d / "provinces.csv.gz"
    data = bytearray(f.read_bytes())
    header = 10 + data[10:].index(b"\0") + 1 if data[3] & 0x08 else 10  # skip FNAME if present
    data[header] = 0xFF  # a deflate block of the reserved type 3
    f.write_bytes(bytes(data))
    err = _error(RegionTree.from_nbs_dir, d)
    assert str(err).startswith(f"{f}: 不是有效的 gzip 文件 / not a valid gzip file: Error -3 ")
    assert str(err).endswith("@ line 1")
    assert isinstance(err.__cause__, zlib.error)


def test_an_empty_file(nbs_dir: Path, tmp_path: Path) -> None:
    d = _dir_with(nbs_dir, tmp_path, "provinces")
    (d / "cities.csv").write_bytes(b"")
    err = _error(RegionTree.from_nbs_dir, d)
    assert (
        str(err)
        == f"{d / 'cities.csv'}: 文件为空，没有表头 / the file is empty: no header @ line 1"
    )
    gz = d / "counties.csv.gz"
    _write_gz(gz, [])
    (d / "cities.csv").unlink()
    err = _error(RegionTree.from_nbs_dir, d)
    assert str(err) == f"{gz}: 文件为空，没有表头 / the file is empty: no header @ line 1"


def test_a_file_with_a_header_and_no_rows(nbs_dir: Path, tmp_path: Path) -> None:
    d = _dir_with(nbs_dir, tmp_path, "provinces", "cities")
    f = d / "cities.csv.gz"
    _write_gz(f, [*_lines(f)[:1], b"\r\n", b"\r\n"])  # the header, then blank lines
    err = _error(RegionTree.from_nbs_dir, d)
    assert str(err) == f"{f}: 只有表头，没有数据行 / no rows after the header @ line 2"


def test_a_wrong_header(nbs_dir: Path, tmp_path: Path) -> None:
    d = _dir_with(nbs_dir, tmp_path, "provinces", "cities")
    f = d / "cities.csv.gz"
    lines = _lines(f)
    assert lines[0] == b"code,name,province_code\r\n"
    lines[0] = b"\xef\xbb\xbf" + lines[0]  # a byte-order mark glued to "code"
    _write_gz(f, lines)
    err = _error(RegionTree.from_nbs_dir, d)
    assert str(err).startswith(
        f"{f}: 表头须有 code 与 name 列 / header needs code and name columns, got "
        "['\\ufeffcode', 'name', 'province_code']"
    )
    assert str(err).endswith("@ line 1")


def test_a_missing_directory_or_files(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="directory") as info:
        RegionTree.from_nbs_dir(tmp_path / "nowhere")
    assert info.value.key == str(tmp_path / "nowhere")
    with pytest.raises(NotFound, match="NBS named files") as info:
        RegionTree.from_nbs_dir(tmp_path)
    assert info.value.key == str(tmp_path)


@pytest.mark.parametrize("path", [None, 37, b"data/nbs", "", ["data/nbs"]])
def test_a_path_that_is_not_a_path(path: object) -> None:
    for load in (RegionTree.from_nbs_dir, RegionTree.from_nbs_structure):
        with pytest.raises(InvalidValue, match=r"^path: ") as info:
            load(path)
        assert info.value.field == "path"


def test_a_damaged_file_after_good_ones_returns_no_tree(nbs_dir: Path, tmp_path: Path) -> None:
    # The provinces and cities read fine; the damage in counties still stops the whole load.
    d = _dir_with(nbs_dir, tmp_path, "provinces", "cities", "counties")
    f = d / "counties.csv.gz"
    f.write_bytes(f.read_bytes()[:-100])
    with pytest.raises(InvalidInput, match=r"counties\.csv\.gz"):
        RegionTree.from_nbs_dir(d)


# --- the codes-only structure file (from_nbs_structure) --------------------------------------


def test_the_structure_extract_loads(nbs_dir: Path, tmp_path: Path) -> None:
    tree = RegionTree.from_nbs_structure(_structure_extract(nbs_dir, tmp_path))
    assert len(tree) == 5999  # the first lines are villages and townships of 北京: orphans here
    assert set(tree.report.counts()) == {AnomalyKind.ORPHAN}


def test_structure_cut_in_half(nbs_dir: Path, tmp_path: Path) -> None:
    f = _structure_extract(nbs_dir, tmp_path)
    whole = f.read_bytes()
    f.write_bytes(whole[: len(whole) // 2])
    err = _error(RegionTree.from_nbs_structure, f)
    assert str(err).startswith(f"{f}: gzip 文件不完整 / the gzip file is cut short: ")
    assert 1000 < int(str(err).rsplit("@ line ", 1)[1]) < 5000
    assert isinstance(err.__cause__, EOFError)


def test_structure_not_gzip(nbs_dir: Path, tmp_path: Path) -> None:
    f = _structure_extract(nbs_dir, tmp_path)
    f.write_bytes(gzip.decompress(f.read_bytes()))
    err = _error(RegionTree.from_nbs_structure, f)
    assert str(err) == (
        f"{f}: 不是有效的 gzip 文件 / not a valid gzip file: Not a gzipped file (b'co') @ line 1"
    )


def test_structure_not_utf8(nbs_dir: Path, tmp_path: Path) -> None:
    f = _structure_extract(nbs_dir, tmp_path)
    lines = _lines(f)
    lines[4321] = b"\x80" + lines[4321]
    _write_gz(f, lines)
    err = _error(RegionTree.from_nbs_structure, f)
    assert str(err).startswith(f"{f}: 不是有效的 UTF-8 文本（第 1 字节 0x80）")
    assert str(err).endswith("@ line 4322")


def test_structure_unbalanced_quote(nbs_dir: Path, tmp_path: Path) -> None:
    f = _structure_extract(nbs_dir, tmp_path)
    lines = _lines(f)
    lines[99] = b'"' + lines[99]
    _write_gz(f, lines)
    assert sum(map(len, lines[99:])) > csv.field_size_limit()
    err = _error(RegionTree.from_nbs_structure, f)
    assert "malformed CSV in the record from line 100: field larger than field limit" in str(err)
    assert str(err).endswith("@ line 100")


def test_structure_empty_header_only_wrong_header_missing(nbs_dir: Path, tmp_path: Path) -> None:
    f = _structure_extract(nbs_dir, tmp_path)
    lines = _lines(f)
    _write_gz(f, [])
    assert str(_error(RegionTree.from_nbs_structure, f)) == (
        f"{f}: 文件为空，没有表头 / the file is empty: no header @ line 1"
    )
    _write_gz(f, lines[:1])
    assert str(_error(RegionTree.from_nbs_structure, f)) == (
        f"{f}: 只有表头，没有数据行 / no rows after the header @ line 2"
    )
    _write_gz(f, [b"parent_code,code,level\r\n", *lines[1:]])
    assert str(_error(RegionTree.from_nbs_structure, f)) == (
        f"{f}: 表头须以 code,parent_code 开头 / header must start code,parent_code; got "
        "['parent_code', 'code', 'level'] @ line 1"
    )
    with pytest.raises(NotFound, match="file") as info:
        RegionTree.from_nbs_structure(tmp_path / "missing.csv.gz")
    assert info.value.key == str(tmp_path / "missing.csv.gz")
    with pytest.raises(NotFound):
        RegionTree.from_nbs_structure(tmp_path)  # a directory is not the file
