"""The on-disk cache of region trees loaded from the NBS files (区划树缓存).

Loading the whole country from the NBS files parses 665,276 CSV rows and checks every code and
parent (a few seconds). :meth:`RegionTree.from_nbs_dir <zhiyuan.hierarchy.RegionTree.from_nbs_dir>`
and :meth:`~zhiyuan.hierarchy.RegionTree.from_nbs_structure` therefore keep the finished tree in
a cache file on first load and read it back on the next (well under a second).

Where: the ``cache_dir`` keyword if given, else the directory in the environment variable
``ZHIYUAN_CACHE_DIR``, else ``$XDG_CACHE_HOME/zhiyuan``, else the platform's user cache directory
(``~/.cache/zhiyuan`` on Linux, ``~/Library/Caches/zhiyuan`` on macOS,
``%LOCALAPPDATA%\\zhiyuan\\Cache`` on Windows). One file per source (``nbs-….zytree``, named by
a hash of the source's absolute path), so editing the files replaces the cache instead of
piling up new ones.

When it is used: a cache file is used only if it was written from the same bytes: its header holds
a SHA-256 digest of the source files (their names and contents), this format's version,
zhiyuan's version and the loader's own code, and all of them must match. Sources of less than
1 MB are not cached: they load faster than the cache would save. A cache file that is missing,
stale, truncated, corrupt (the file ends with a BLAKE2b checksum of the rest) or unreadable, or a
directory that cannot be created or written, is passed over silently: the tree is loaded from
the files as if there were no cache, and writing is attempted again next time. The cache can
change how fast a tree loads, never which tree.

Why a binary format of our own and not pickle: unpickling runs whatever code the file names, so
a cache file anyone else could write to (a shared or synced cache directory) would run their
code; this format holds only text and integers and is read without evaluating anything. It is
also as fast: the codes and names are each one newline-separated UTF-8 block (split in one call),
the parent, subtree-size and level columns are the tree's own arrays, byte for byte. Layout::

    b"ZHIYUAN-REGIONTREE\\n"  magic
    uint32 (little-endian)    header length
    header                    JSON: format, digest, rows, byte order, section lengths, the
                              validation report's anomalies
    payload                   codes | names | has-name flags | parent | size | levels
    32 bytes                  BLAKE2b of everything before it
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import sys
import tempfile
from array import array
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zhiyuan.errors import InvalidValue, show
from zhiyuan.progress import Progress

if TYPE_CHECKING:
    from zhiyuan.hierarchy.tree import RegionTree

__all__ = ["ENV", "cache_path", "cached_load", "default_cache_dir", "read_tree", "write_tree"]

ENV = "ZHIYUAN_CACHE_DIR"
"""The environment variable naming the cache directory."""

_MAGIC = b"ZHIYUAN-REGIONTREE\n"
_FORMAT = 1
_MIN_SOURCE_BYTES = 1 << 20  # smaller sources load faster than a cache would save
_SUFFIX = ".zytree"
_CHECK = 32  # bytes of the BLAKE2b checksum that ends the file
_LOADER_FILES = ("tree.py", "_nbs.py", "codes.py", "_cache.py")


def default_cache_dir() -> Path:
    """The cache directory when no ``cache_dir`` is given: ``$ZHIYUAN_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/zhiyuan``, else the platform's user cache directory."""
    env = os.environ.get(ENV)
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "zhiyuan"
    if sys.platform == "win32":
        local = os.environ.get("LOCALAPPDATA")
        base = Path(local) if local else Path.home() / "AppData" / "Local"
        return base / "zhiyuan" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "zhiyuan"
    return Path.home() / ".cache" / "zhiyuan"


def _cache_dir_arg(cache_dir: object) -> Path | None:
    """The ``cache_dir`` keyword as a :class:`Path` (``None`` if not given), checked."""
    if cache_dir is None:
        return None
    if isinstance(cache_dir, (str, os.PathLike)):
        text = os.fspath(cache_dir)
        if isinstance(text, str) and text:
            return Path(text).expanduser()
    raise InvalidValue(
        "cache_dir",
        cache_dir,
        "缓存目录应为路径 / the cache directory is a file system path",
        shown=show(cache_dir),
    )


def cache_path(kind: str, source: Path, cache_dir: Path | None = None) -> Path:
    """The cache file for ``source`` (a directory of named files or a structure file)."""
    directory = cache_dir if cache_dir is not None else default_cache_dir()
    key = hashlib.sha256(os.path.realpath(source).encode("utf-8", "surrogatepass")).hexdigest()
    return directory / f"{kind}-{key[:24]}{_SUFFIX}"


@functools.cache
def _loader_digest() -> str:
    """A digest of the code that builds trees, so that a changed loader never reads an old cache."""
    from zhiyuan import __version__

    h = hashlib.sha256(f"{_FORMAT}:{__version__}".encode())
    here = Path(__file__).resolve().parent
    for name in _LOADER_FILES:
        try:
            h.update((here / name).read_bytes())
        except OSError:  # a packaging without source files: the version must do
            h.update(name.encode())
    return h.hexdigest()


def _source_digest(kind: str, files: Sequence[Path]) -> str:
    h = hashlib.sha256(f"{kind}:{_loader_digest()}".encode())
    for f in files:
        data = f.read_bytes()
        h.update(f"\0{f.name}\0{len(data)}\0".encode("utf-8", "surrogatepass"))
        h.update(data)
    return h.hexdigest()


def cached_load(
    kind: str,
    source: Callable[[], Path],
    files: Callable[[], list[Path]],
    build: Callable[[], RegionTree],
    *,
    cache: object,
    cache_dir: object,
    progress: Progress | None = None,
) -> RegionTree:
    """``build()``, or the tree cached for the same source bytes; a fresh build is cached.

    ``source`` gives the path the cache file is named after, ``files`` the files whose bytes the
    tree is built from; ``progress`` is told once of a tree read from the cache. Anything going wrong with the cache falls back to ``build()``, whose
    errors (a missing or damaged file) are the ones raised.
    """
    if not isinstance(cache, bool):
        raise InvalidValue(
            "cache", cache, "应为 True 或 False / cache is True or False", shown=show(cache)
        )
    directory = _cache_dir_arg(cache_dir)
    if not cache:
        return build()
    try:
        found = files()
        if sum(f.stat().st_size for f in found) < _MIN_SOURCE_BYTES:
            return build()
        digest = _source_digest(kind, found)
        target = cache_path(kind, source(), directory)
    except Exception:  # the files cannot be read: the build names the problem
        return build()
    try:
        hit = read_tree(target, digest)
    except Exception:  # a cache must never stop a load
        hit = None
    if hit is not None:
        if progress is not None:
            progress("区划（缓存）/ regions (cache)", len(hit), len(hit))
        return hit
    tree = build()
    with contextlib.suppress(Exception):  # an unwritable cache directory: the tree is still good
        write_tree(target, digest, tree)
    return tree


def write_tree(path: Path, digest: str, tree: RegionTree) -> bool:
    """Write ``tree`` to ``path`` atomically (a temporary file, then a rename); ``False`` when
    the tree cannot be written in this format (a name with a line break) and nothing was written.
    """
    codes, names = tree._codes, tree._names
    n = len(codes)
    code_blob = "\n".join(codes).encode("ascii")
    name_text = "\n".join("" if nm is None else nm for nm in names)
    if name_text.count("\n") != max(n - 1, 0):  # a name holding a line break
        return False
    name_blob = name_text.encode("utf-8", "surrogatepass")
    named = bytes(nm is not None for nm in names)
    parent = tree._parent.tobytes()
    size = tree._size_array.tobytes()
    levels = tree._levels
    sections = (code_blob, name_blob, named, parent, size, levels)
    header = json.dumps(
        {
            "format": _FORMAT,
            "digest": digest,
            "rows": n,
            "byteorder": sys.byteorder,
            "itemsize": tree._parent.itemsize,
            "sections": [len(part) for part in sections],
            "anomalies": [
                [a.kind.value, a.code, a.detail, a.record] for a in tree.report.anomalies
            ],
        },
        ensure_ascii=False,
    ).encode("utf-8", "surrogatepass")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=_SUFFIX)
    check = hashlib.blake2b(digest_size=_CHECK)
    try:
        with os.fdopen(fd, "wb") as fh:
            for part in (_MAGIC, len(header).to_bytes(4, "little"), header, *sections):
                fh.write(part)
                check.update(part)
            fh.write(check.digest())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return True


def read_tree(path: Path, digest: str) -> RegionTree | None:
    """The tree cached in ``path`` for source ``digest``; ``None`` if there is none, it was
    written for other bytes or another loader, or it does not check out (never a wrong tree)."""
    from zhiyuan.hierarchy.tree import Anomaly, AnomalyKind, RegionTree, ValidationReport

    try:
        data = path.read_bytes()
    except OSError:
        return None
    if not data.startswith(_MAGIC) or len(data) < len(_MAGIC) + 4 + _CHECK:
        return None
    view = memoryview(data)[:-_CHECK]
    if hashlib.blake2b(view, digest_size=_CHECK).digest() != data[-_CHECK:]:
        return None  # damaged or cut short anywhere, the header included
    at = len(_MAGIC)
    hlen = int.from_bytes(data[at : at + 4], "little")
    at += 4
    head: Any = json.loads(str(view[at : at + hlen], "utf-8", "surrogatepass"))
    at += hlen
    if (
        not isinstance(head, dict)
        or head.get("format") != _FORMAT
        or head.get("digest") != digest
        or head.get("byteorder") != sys.byteorder
        or head.get("itemsize") != array("i").itemsize
    ):
        return None
    lengths = head["sections"]
    n = head["rows"]
    if len(lengths) != 6 or sum(lengths) != len(view) - at:
        return None
    parts = []
    for length in lengths:
        parts.append(view[at : at + length])
        at += length
    code_blob, name_blob, named_v, parent_b, size_b, levels = parts
    named = bytes(named_v)
    codes = str(code_blob, "ascii").split("\n") if n else []
    names: list[str | None] = (
        str(name_blob, "utf-8", "surrogatepass").split("\n") if n else []  # type: ignore[assignment]
    )
    if len(codes) != n or len(names) != n or len(named) != n or len(levels) != n:
        return None
    if named.count(1) != n:
        names = [nm if has else None for nm, has in zip(names, named, strict=True)]
    parent = array("i")
    parent.frombytes(parent_b)
    size = array("i")
    size.frombytes(size_b)
    if len(parent) != n or len(size) != n:
        return None
    anomalies = tuple(
        Anomaly(kind=AnomalyKind(kind), code=code, detail=detail, record=record)
        for kind, code, detail, record in head["anomalies"]
    )
    return RegionTree(
        codes, names, parent, size, bytes(levels), ValidationReport(anomalies=anomalies)
    )
