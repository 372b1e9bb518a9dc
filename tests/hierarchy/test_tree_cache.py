"""The tree cache: a hit is the cold load, changed files miss, a bad cache falls back silently.

Every test writes its cache under ``tmp_path`` (the keyword, or ``ZHIYUAN_CACHE_DIR`` / ``HOME``
pointed there); nothing is written to the real home directory. Small synthetic NBS directories
stand in for the country where the size floor (``_MIN_SOURCE_BYTES``) is lowered; one test uses
the real files.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import given

from strategies import tree_records
from zhiyuan.errors import InvalidInput, InvalidValue, NotFound
from zhiyuan.hierarchy import RegionTree, _cache

PROVINCES = "code,name\n37,山东省\n52,贵州省\n"
CITIES = "code,name,province_code\n3706,烟台市,37\n3702,青岛市,37\n5203,遵义市,52\n"
COUNTIES = (
    "code,name,city_code,province_code\n"
    "370602,芝罘区,3706,37\n370214,城阳区,3702,37\n520302,红花岗区,5203,52\n"
)
TOWNSHIPS = (
    "code,name,county_code,city_code,province_code\n"
    "370602001,向阳街道,370602,3706,37\n370214001,城阳街道,370214,3702,37\n"
)


def _same(a: RegionTree, b: RegionTree) -> None:
    """Everything a tree holds, compared column by column."""
    assert a.codes == b.codes
    assert a.names == b.names
    assert list(a.parent_rows) == list(b.parent_rows)
    assert list(a.subtree_sizes) == list(b.subtree_sizes)
    assert a.depths == b.depths
    assert a.report == b.report
    assert list(a.to_records()) == list(b.to_records())
    assert a == b


@pytest.fixture
def small_dir(tmp_path: Path) -> Path:
    d = tmp_path / "nbs"
    d.mkdir()
    (d / "provinces.csv").write_text(PROVINCES, "utf-8")
    (d / "cities.csv").write_text(CITIES, "utf-8")
    (d / "counties.csv").write_text(COUNTIES, "utf-8")
    (d / "townships.csv").write_text(TOWNSHIPS, "utf-8")
    return d


@pytest.fixture
def no_floor(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cache sources of any size."""
    monkeypatch.setattr(_cache, "_MIN_SOURCE_BYTES", 0)


@pytest.fixture(autouse=True)
def cache_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point every default location into tmp_path: nothing reaches the real home."""
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("ZHIYUAN_CACHE_DIR", str(tmp_path / "env-cache"))
    return tmp_path / "env-cache"


def _cached_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.zytree")) if directory.is_dir() else []


def _no_cold_load(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make a cold load fail, to prove a tree came from the cache."""

    def boom(*_: object) -> RegionTree:
        raise AssertionError("loaded from the files, not the cache")

    monkeypatch.setattr(RegionTree, "from_records", boom)


# --- hits ----------------------------------------------------------------------------------------


def test_real_country_hit_equals_cold_load(
    nbs_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cold = RegionTree.from_nbs_dir(nbs_dir, cache=False)
    first = RegionTree.from_nbs_dir(nbs_dir, cache_dir=tmp_path / "c")  # builds and writes
    assert len(_cached_files(tmp_path / "c")) == 1
    _no_cold_load(monkeypatch)
    hit = RegionTree.from_nbs_dir(nbs_dir, cache_dir=tmp_path / "c")
    _same(cold, first)
    _same(cold, hit)
    assert (
        hit.is_within("370602001001", "3706") and hit.path("441900003") == "广东省/东莞市/东城街道"
    )
    assert list(hit.code_ints[:3]) == [int(c) for c in cold.codes[:3]]


@pytest.mark.usefixtures("no_floor")
def test_small_dir_hit(small_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cold = RegionTree.from_nbs_dir(small_dir, cache=False)
    RegionTree.from_nbs_dir(small_dir, cache_dir=tmp_path / "c")
    _no_cold_load(monkeypatch)
    _same(cold, RegionTree.from_nbs_dir(small_dir, cache_dir=str(tmp_path / "c")))


@pytest.mark.usefixtures("no_floor")
def test_report_survives_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    d = tmp_path / "odd"
    d.mkdir()
    (d / "provinces.csv").write_text("code,name\n37,山东省\n37,山东\n", "utf-8")
    (d / "counties.csv").write_text("code,name,city_code\n370602,芝罘区,3706\n", "utf-8")
    cold = RegionTree.from_nbs_dir(d, cache=False)
    assert not cold.report.ok
    RegionTree.from_nbs_dir(d, cache_dir=tmp_path / "c")
    _no_cold_load(monkeypatch)
    _same(cold, RegionTree.from_nbs_dir(d, cache_dir=tmp_path / "c"))


@pytest.mark.usefixtures("no_floor")
def test_structure_file_hit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "structure.csv"
    f.write_text("code,parent_code,level\n37,0,1\n3706,37,2\n370602,3706,4\n", "utf-8")
    cold = RegionTree.from_nbs_structure(f, cache=False)
    RegionTree.from_nbs_structure(f, cache_dir=tmp_path / "c")
    _no_cold_load(monkeypatch)
    hit = RegionTree.from_nbs_structure(f, cache_dir=tmp_path / "c")
    _same(cold, hit)
    assert hit.names == (None, None, None)
    assert hit.report.counts() == cold.report.counts() != {}


# --- where the cache lives -----------------------------------------------------------------------


@pytest.mark.usefixtures("no_floor")
def test_env_var_then_xdg_then_home(
    small_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cache_env: Path
) -> None:
    RegionTree.from_nbs_dir(small_dir)
    assert len(_cached_files(cache_env)) == 1
    monkeypatch.delenv("ZHIYUAN_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    RegionTree.from_nbs_dir(small_dir)
    assert len(_cached_files(tmp_path / "xdg" / "zhiyuan")) == 1
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert _cache.default_cache_dir() == tmp_path / "home" / ".cache" / "zhiyuan"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/dir")  # ignored, as the XDG spec says
    assert _cache.default_cache_dir() == tmp_path / "home" / ".cache" / "zhiyuan"


@pytest.mark.usefixtures("no_floor")
def test_keyword_beats_env(small_dir: Path, tmp_path: Path, cache_env: Path) -> None:
    RegionTree.from_nbs_dir(small_dir, cache_dir=tmp_path / "kw")
    assert len(_cached_files(tmp_path / "kw")) == 1
    assert _cached_files(cache_env) == []


@pytest.mark.usefixtures("no_floor")
def test_cache_false_writes_nothing(small_dir: Path, tmp_path: Path) -> None:
    RegionTree.from_nbs_dir(small_dir, cache=False, cache_dir=tmp_path / "c")
    assert not (tmp_path / "c").exists()


def test_small_sources_are_not_cached(small_dir: Path, tmp_path: Path) -> None:
    tree = RegionTree.from_nbs_dir(small_dir, cache_dir=tmp_path / "c")
    assert len(tree) == 10
    assert not (tmp_path / "c").exists()


def test_bad_keywords(small_dir: Path) -> None:
    with pytest.raises(InvalidValue, match="cache"):
        RegionTree.from_nbs_dir(small_dir, cache="yes")  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="cache_dir"):
        RegionTree.from_nbs_dir(small_dir, cache_dir=5)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="cache_dir"):
        RegionTree.from_nbs_structure(small_dir / "provinces.csv", cache_dir="")


# --- invalidation ------------------------------------------------------------------------------


@pytest.mark.usefixtures("no_floor")
def test_changed_file_invalidates(small_dir: Path, tmp_path: Path) -> None:
    first = RegionTree.from_nbs_dir(small_dir, cache_dir=tmp_path / "c")
    target = small_dir / "cities.csv"
    stat = target.stat()
    # Same length, same modification time: only the bytes tell.
    target.write_text(CITIES.replace("烟台市", "芝罘市"), "utf-8")
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert target.stat().st_size == stat.st_size
    second = RegionTree.from_nbs_dir(small_dir, cache_dir=tmp_path / "c")
    assert first["3706"].name == "烟台市"
    assert second["3706"].name == "芝罘市"
    _same(second, RegionTree.from_nbs_dir(small_dir, cache=False))
    assert len(_cached_files(tmp_path / "c")) == 1  # replaced, not piled up
    third = RegionTree.from_nbs_dir(small_dir, cache_dir=tmp_path / "c")
    assert third["3706"].name == "芝罘市"


@pytest.mark.usefixtures("no_floor")
def test_added_file_invalidates(small_dir: Path, tmp_path: Path) -> None:
    RegionTree.from_nbs_dir(small_dir, cache_dir=tmp_path / "c")
    (small_dir / "villages.csv").write_text(
        "code,name,township_code\n370602001001,世回尧社区居委会,370602001\n", "utf-8"
    )
    tree = RegionTree.from_nbs_dir(small_dir, cache_dir=tmp_path / "c")
    assert tree["370602001001"].name == "世回尧社区居委会"


@pytest.mark.usefixtures("no_floor")
def test_another_loader_version_misses(
    small_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    RegionTree.from_nbs_dir(small_dir, cache_dir=tmp_path / "c")
    monkeypatch.setattr(_cache, "_loader_digest", lambda: "another loader")
    calls = []
    real = RegionTree.from_records

    def counting(records: object) -> RegionTree:
        calls.append(1)
        return real(records)  # type: ignore[arg-type]

    monkeypatch.setattr(RegionTree, "from_records", counting)
    RegionTree.from_nbs_dir(small_dir, cache_dir=tmp_path / "c")
    assert calls == [1]


# --- a bad cache falls back ----------------------------------------------------------------------


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


def _header_end(data: bytes) -> int:
    start = len(_cache._MAGIC) + 4
    return start + int.from_bytes(data[len(_cache._MAGIC) : start], "little")


DAMAGE = {
    "empty": lambda d: b"",
    "magic only": lambda d: d[: len(_cache._MAGIC)],
    "wrong magic": lambda d: b"X" + d[1:],
    "truncated": lambda d: d[: len(d) // 2],
    "cut last byte": lambda d: d[:-1],
    "extra byte": lambda d: d + b"\0",
    "flipped code": lambda d: _flip(d, _header_end(d) + 3),
    "flipped last byte": lambda d: _flip(d, len(d) - 1),
    "header not json": lambda d: d[: len(_cache._MAGIC) + 4] + b"{" + d[len(_cache._MAGIC) + 5 :],
    "huge header length": lambda d: (
        _cache._MAGIC + b"\xff\xff\xff\x7f" + d[len(_cache._MAGIC) + 4 :]
    ),
    "garbage": lambda d: os.urandom(len(d)),
}


@pytest.mark.usefixtures("no_floor")
@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_corrupt_cache_falls_back(small_dir: Path, tmp_path: Path, damage: str) -> None:
    cold = RegionTree.from_nbs_dir(small_dir, cache=False)
    RegionTree.from_nbs_dir(small_dir, cache_dir=tmp_path / "c")
    (path,) = _cached_files(tmp_path / "c")
    path.write_bytes(DAMAGE[damage](path.read_bytes()))
    _same(cold, RegionTree.from_nbs_dir(small_dir, cache_dir=tmp_path / "c"))
    # … and the cache was written afresh: the next load is a good hit.
    _same(cold, RegionTree.from_nbs_dir(small_dir, cache_dir=tmp_path / "c"))
    assert _cache.read_tree(path, _digest(small_dir)) is not None


def _digest(d: Path) -> str:
    from zhiyuan.hierarchy._nbs import named_files

    return _cache._source_digest("nbs", named_files(d))


@pytest.mark.usefixtures("no_floor")
def test_edited_header_is_refused(small_dir: Path, tmp_path: Path) -> None:
    """A header edited to tell another report: the checksum covers the header too."""
    RegionTree.from_nbs_dir(small_dir, cache_dir=tmp_path / "c")
    (path,) = _cached_files(tmp_path / "c")
    data = path.read_bytes()
    end = _header_end(data)
    head = json.loads(data[len(_cache._MAGIC) + 4 : end])
    head["anomalies"] = [["orphan", "37", "forged", None]]
    raw = json.dumps(head, ensure_ascii=False).encode()
    path.write_bytes(_cache._MAGIC + len(raw).to_bytes(4, "little") + raw + data[end:])
    assert _cache.read_tree(path, _digest(small_dir)) is None
    assert RegionTree.from_nbs_dir(small_dir, cache_dir=tmp_path / "c").report.ok


@pytest.mark.usefixtures("no_floor")
def test_cache_path_is_a_directory(small_dir: Path, tmp_path: Path) -> None:
    cold = RegionTree.from_nbs_dir(small_dir, cache=False)
    target = _cache.cache_path("nbs", small_dir, tmp_path / "c")
    target.mkdir(parents=True)
    _same(cold, RegionTree.from_nbs_dir(small_dir, cache_dir=tmp_path / "c"))


# --- a cache that cannot be written --------------------------------------------------------------


@pytest.mark.usefixtures("no_floor")
def test_unwritable_cache_dir(small_dir: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    cold = RegionTree.from_nbs_dir(small_dir, cache=False)
    for where in (blocker, blocker / "below"):  # a file, and a path through a file
        _same(cold, RegionTree.from_nbs_dir(small_dir, cache_dir=where))
    assert blocker.read_text() == "not a directory"


@pytest.mark.usefixtures("no_floor")
def test_write_failure_leaves_no_temporary_file(
    small_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*_: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(_cache.os, "replace", fail)
    tree = RegionTree.from_nbs_dir(small_dir, cache_dir=tmp_path / "c")
    assert len(tree) == 10
    assert list((tmp_path / "c").iterdir()) == []


@pytest.mark.usefixtures("no_floor")
def test_name_with_a_line_break_is_not_cached(tmp_path: Path) -> None:
    d = tmp_path / "nl"
    d.mkdir()
    (d / "provinces.csv").write_text('code,name\n37,"山东\n省"\n', "utf-8")
    tree = RegionTree.from_nbs_dir(d, cache_dir=tmp_path / "c")
    assert tree["37"].name == "山东\n省"
    assert _cached_files(tmp_path / "c") == []
    assert RegionTree.from_nbs_dir(d, cache_dir=tmp_path / "c")["37"].name == "山东\n省"


# --- errors still come from the files ----------------------------------------------------------


@pytest.mark.usefixtures("no_floor")
def test_errors_are_the_cold_loads(tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        RegionTree.from_nbs_dir(tmp_path / "missing", cache_dir=tmp_path / "c")
    with pytest.raises(NotFound):
        RegionTree.from_nbs_structure(tmp_path / "missing.csv", cache_dir=tmp_path / "c")
    d = tmp_path / "bad"
    d.mkdir()
    (d / "provinces.csv").write_text("wrong,header\n37,山东省\n", "utf-8")
    with pytest.raises(InvalidInput):
        RegionTree.from_nbs_dir(d, cache_dir=tmp_path / "c")
    assert _cached_files(tmp_path / "c") == []


# --- the format, on random trees ---------------------------------------------------------------


@given(records=tree_records(max_size=30))
def test_roundtrip_random_trees(records: list[tuple[object, str | None, object]]) -> None:
    tree = RegionTree.from_records(records)
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "t.zytree"
        if not _cache.write_tree(path, "digest", tree):
            assert any(nm is not None and "\n" in nm for nm in tree.names)
            return
        back = _cache.read_tree(path, "digest")
        assert back is not None
        _same(tree, back)
        assert _cache.read_tree(path, "another digest") is None


@given(records=tree_records(max_size=20, names=False))
def test_roundtrip_codes_only_trees(records: list[tuple[object, str | None, object]]) -> None:
    tree = RegionTree.from_records(records)
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "t.zytree"
        assert _cache.write_tree(path, "digest", tree)
        back = _cache.read_tree(path, "digest")
        assert back is not None
        _same(tree, back)


def test_a_load_tells_its_progress_from_the_files_and_from_the_cache(
    small_dir: Path, tmp_path: Path, no_floor: None
) -> None:
    seen: list[tuple[str, int, int | None]] = []
    cold = RegionTree.from_nbs_dir(
        small_dir, cache_dir=tmp_path / "c", progress=lambda *a: seen.append(a)
    )
    assert seen == [("区划 / regions", 10, 10)]  # 2 + 3 + 3 + 2 regions read, then built
    seen.clear()
    warm = RegionTree.from_nbs_dir(
        small_dir, cache_dir=tmp_path / "c", progress=lambda *a: seen.append(a)
    )
    _same(cold, warm)
    assert seen == [("区划（缓存）/ regions (cache)", len(warm), len(warm))]
    quiet = RegionTree.from_nbs_dir(small_dir, cache=False)  # no callback: nothing to tell
    _same(cold, quiet)


def test_a_long_load_tells_every_100_000_regions(tmp_path: Path) -> None:
    provinces = ["code,name"] + [f"{p},省{p}" for p in range(11, 66)]
    cities = ["code,name,province_code"] + [
        f"{p}{c:02d},市{p}{c},{p}" for p in range(11, 66) for c in range(1, 21)
    ]
    counties = ["code,name,city_code,province_code"] + [
        f"{p}{c:02d}{k:02d},县,{p}{c:02d},{p}"
        for p in range(11, 66)
        for c in range(1, 21)
        for k in range(1, 99)
    ]
    d = tmp_path / "big"
    d.mkdir()
    for name, lines in (("provinces", provinces), ("cities", cities), ("counties", counties)):
        (d / f"{name}.csv").write_text("\n".join(lines) + "\n", "utf-8")
    seen: list[tuple[str, int, int | None]] = []
    tree = RegionTree.from_nbs_dir(d, cache=False, progress=lambda *a: seen.append(a))
    n = 55 + 55 * 20 + 55 * 20 * 98
    assert len(tree) == n
    assert seen == [("区划 / regions", 100_000, None), ("区划 / regions", n, n)]
