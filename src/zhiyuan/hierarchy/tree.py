"""The region tree: every region by its 12-digit code, stored column-wise in preorder.

A :class:`RegionTree` keeps one row per region in *preorder* (a region, then its whole subtree), so
a subtree is a contiguous slice of rows. That gives ``is_within`` in O(1) (a range check), lazy
``descendants`` (a slice), per-level counts by counting bytes, and ``rollup`` in one backward pass.
:class:`Region` values are made on demand; the tree itself holds plain lists and arrays, which
keeps the whole country (665,276 regions) within a few hundred megabytes.

The code is the truth: a region's parent is its nearest ancestor *by code* that is present in the
tree (``370602001000`` belongs under ``370602000000`` if present, else ``370600000000`` …). A parent
declared in the input that disagrees is reported, not obeyed, so the result is always a tree.

References:
    国家统计局《统计用区划代码和城乡划分代码编制规则》(国统字〔2009〕91号).
"""

from __future__ import annotations

import enum
import os
import sys
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import compress
from typing import Any, TypeVar, cast

import attrs

from zhiyuan._validators import to_enum
from zhiyuan.errors import InvalidValue, UnknownRegion, ZhiyuanError, show
from zhiyuan.hierarchy.codes import Level, RegionCode, level_of, normalize_code, parent_of
from zhiyuan.hierarchy.zones import Zone
from zhiyuan.progress import Progress

__all__ = [
    "Anomaly",
    "AnomalyKind",
    "Match",
    "Region",
    "RegionDiff",
    "RegionTree",
    "ValidationReport",
    "strip_suffix",
]

N = TypeVar("N", int, float)

_DIGITS = (2, 4, 6, 9, 12)
_PAD = {2: "0000000000", 4: "00000000", 6: "000000", 9: "000", 12: ""}
_LEVELS = (Level.PROVINCE, Level.CITY, Level.COUNTY, Level.TOWNSHIP, Level.VILLAGE)

# Longest first: the first suffix that matches is removed.
_SUFFIXES = (
    "社区居民委员会",
    "村民委员会",
    "居民委员会",
    "社区居委会",
    "村委会",
    "居委会",
    "自治区",
    "自治州",
    "自治县",
    "街道",
    "社区",
    "省",
    "市",
    "区",
    "县",
    "镇",
    "乡",
    "村",
)


def strip_suffix(name: str) -> str:
    """The name without its administrative suffix (省/市/区/县/镇/乡/街道/村/社区/村委会/居委会 …).

    A name that is nothing but a suffix (``县``) is kept whole. A name that is not text raises
    :class:`~zhiyuan.errors.InvalidValue`.

    Example:
        >>> strip_suffix("城关镇"), strip_suffix("和平村委会"), strip_suffix("芝罘区"), strip_suffix("县")
        ('城关', '和平', '芝罘', '县')
    """
    if not isinstance(name, str):
        raise InvalidValue("name", name, "名称应为文本 / a name is text", shown=show(name))
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


@attrs.frozen(kw_only=True)
class Region:
    """One region (行政区划): its 12-digit code, name, level and the code of its parent in the tree.

    ``name`` is ``None`` for a codes-only vintage (the 2019 structure file has no names).
    ``parent_code`` is ``None`` for a root (a province, or a region whose ancestors are absent).

    Example:
        >>> from zhiyuan.hierarchy import load_default
        >>> load_default()["370602"]
        Region(code='370602000000', name='芝罘区', level=<Level.COUNTY: 'county'>, parent_code='370600000000')
    """

    code: str
    name: str | None = None
    level: Level
    parent_code: str | None = None

    @property
    def short(self) -> str:
        """The code without the zeros of lower levels (``3706`` for 烟台市)."""
        return self.code[: self.level.digits]

    def __str__(self) -> str:
        return f"{self.name or '?'} ({self.short})"


@attrs.frozen(kw_only=True)
class Match:
    """A region found by name, with its full path (``山东省/烟台市/…``) to tell namesakes apart."""

    region: Region
    path: str

    def __str__(self) -> str:
        return f"{self.path} ({self.region.short})"


class AnomalyKind(enum.Enum):
    """What can be odd in real division data; each is reported, none stops the load (数据异常类型)."""

    BAD_CODE = "bad_code"
    """The code is malformed; the row is skipped."""
    DUPLICATE = "duplicate"
    """The same code appears again; the first row is kept."""
    COLLISION = "collision"
    """Two different short codes pad to the same 12 digits (东莞市 ``4419`` / ``441900``); the one
    whose length matches the level of the 12-digit code is kept, the other merges into it."""
    ORPHAN = "orphan"
    """The parent is missing; the region hangs under its nearest present ancestor, or is a root."""
    PREFIX_MISMATCH = "prefix_mismatch"
    """The declared parent's code is not a prefix of the region's code; the code's parent is used."""
    PARENT_MISMATCH = "parent_mismatch"
    """The declared parent is an ancestor by code, but a nearer one is present and is used."""
    LEVEL_MISMATCH = "level_mismatch"
    """A declared level disagrees with the level the code denotes; the code's level is used."""
    BAD_RECORD = "bad_record"
    """The record itself is malformed: not a tuple or list, not 3 or 4 items, or a name that is not
    text; the row is skipped."""


def _anomaly_kind(value: object) -> AnomalyKind:
    return to_enum("kind", AnomalyKind, value)


def _text_field(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str):
        raise InvalidValue(attribute.name, value, "应为文本 / must be text", shown=show(value))


def _position(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise InvalidValue(
            attribute.name, value, "应为非负整数或 None / a position ≥ 0 or None", shown=show(value)
        )


def _anomalies(values: Iterable[Anomaly]) -> tuple[Anomaly, ...]:
    if isinstance(values, Iterable) and not isinstance(values, (str, bytes, Mapping)):
        items = tuple(values)
        for a in items:
            if not isinstance(a, Anomaly):
                raise InvalidValue("anomalies", a, "需要异常项 / need an Anomaly", shown=show(a))
        return items
    raise InvalidValue(
        "anomalies", values, "需要异常项的序列 / need a list of Anomaly", shown=show(values)
    )


@attrs.frozen(kw_only=True)
class Anomaly:
    """One oddity found while loading, with the code as given and a bilingual detail.

    ``record`` is the position (from 0) of the row among the records given, for the rows that
    were skipped (``bad_record``, ``bad_code``) and so cannot be found in the tree by their code;
    ``None`` otherwise. ``code`` is empty for a record that has no code to show.
    """

    kind: AnomalyKind = attrs.field(converter=_anomaly_kind)
    code: str = attrs.field(validator=_text_field)
    detail: str = attrs.field(validator=_text_field)
    record: int | None = attrs.field(default=None, validator=_position)

    def __str__(self) -> str:
        where = self.code if self.record is None else f"records[{self.record}] {self.code}".rstrip()
        return f"{self.kind.value} {where}: {self.detail}"


@attrs.frozen(kw_only=True)
class ValidationReport:
    """What loading found odd (校验报告). The tree loads regardless; this says what was done about it.

    Example:
        >>> tree = RegionTree.from_records([("37", "山东省", None), ("370602", "芝罘区", "3706")])
        >>> print(tree.report)
        1 anomaly / 1 处异常: orphan 1
          orphan 370602: 上级 370600000000 不存在，挂在 370000000000 下 / parent 370600000000 is missing; attached under 370000000000
    """

    anomalies: tuple[Anomaly, ...] = attrs.field(default=(), converter=_anomalies)

    @property
    def ok(self) -> bool:
        """True when nothing odd was found."""
        return not self.anomalies

    def counts(self) -> dict[AnomalyKind, int]:
        """How many anomalies of each kind."""
        return dict(Counter(a.kind for a in self.anomalies))

    def of_kind(self, kind: AnomalyKind) -> list[Anomaly]:
        """The anomalies of one kind, in the order found."""
        return [a for a in self.anomalies if a.kind is kind]

    def __str__(self) -> str:
        if self.ok:
            return "no anomalies / 无异常"
        n = len(self.anomalies)
        kinds = ", ".join(f"{k.value} {v}" for k, v in self.counts().items())
        head = f"{n} anomal{'y' if n == 1 else 'ies'} / {n} 处异常: {kinds}"
        shown = "\n".join(f"  {a}" for a in self.anomalies[:20])
        more = f"\n  … {n - 20} more" if n > 20 else ""
        return f"{head}\n{shown}{more}"


@attrs.frozen(kw_only=True)
class RegionDiff:
    """What changed between two vintages of the tree (``old.diff(new)``), codes in 12 digits, sorted.

    ``renamed`` holds ``(code, old name, new name)`` for codes present in both with different names;
    a side without names (a codes-only vintage) renames nothing.
    """

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    renamed: tuple[tuple[str, str, str], ...] = ()

    def __str__(self) -> str:
        return (
            f"added {len(self.added)} / 新增, removed {len(self.removed)} / 撤销, "
            f"renamed {len(self.renamed)} / 更名"
        )


Record = tuple[object, str | None, object] | tuple[object, str | None, object, object]


class RegionTree:
    """The region tree (行政区划树), keyed by 12-digit 统计用区划代码; any accepted code form works.

    Build it with :meth:`from_records`, :meth:`from_nbs_dir` (the NBS named files) or
    :meth:`from_nbs_structure` (the codes-only 2019 file), or take the embedded seed cities with
    :func:`zhiyuan.hierarchy.load_default`. The tree is immutable: :meth:`subtree`, :meth:`prune`
    and :func:`~zhiyuan.hierarchy.apply_changes` return new trees.

    Example:
        >>> from zhiyuan.hierarchy import load_default, Level
        >>> tree = load_default()
        >>> tree.path("370602001")
        '山东省/烟台市/芝罘区/向阳街道'
        >>> tree.is_within("370602001001", "3706"), tree.is_within("370602001001", "3702")
        (True, False)
        >>> [r.name for r in tree.children("3702")][:3]
        ['市南区', '市北区', '黄岛区']
        >>> tree.counts("370202")[Level.VILLAGE]
        50
        >>> tree.lca("370202", "370214").name
        '青岛市'
    """

    __slots__ = (
        "_codes",
        "_index",
        "_levels",
        "_members",
        "_memo",
        "_name_index",
        "_names",
        "_parent",
        "_parent_list",
        "_prefixes",
        "_report",
        "_size",
        "_size_array",
    )

    def __init__(
        self,
        codes: list[str],
        names: list[str | None],
        parent: array[int],
        size: array[int],
        levels: bytes,
        report: ValidationReport | None = None,
    ) -> None:
        # Internal: rows in preorder. Use the named constructors.
        self._codes: tuple[str, ...] = tuple(codes)
        self._names: tuple[str | None, ...] = tuple(names)
        self._parent = parent
        self._size_array = size
        # Lists, not arrays: indexing a list returns a stored int instead of boxing a new one,
        # which makes the O(1) checks (is_within, children) measurably faster.
        self._size: list[int] = size.tolist()
        self._parent_list: list[int] = parent.tolist()
        self._levels = levels
        self._index = dict(zip(self._codes, range(len(self._codes)), strict=True))
        self._report = report if report is not None else ValidationReport()
        self._name_index: dict[str, list[int]] | None = None
        # Derived forms built on first use (code_ints, and zhiyuan.bulk.regions' arrays).
        self._memo: dict[str, Any] = {}

    # --- construction -------------------------------------------------------------------------

    @classmethod
    def from_records(cls, records: Iterable[Record]) -> RegionTree:
        """Build a tree from ``(code, name or None, parent code or None)`` rows, in any order.

        A fourth element, if present, is the declared level (a :class:`Level` or its depth 1–5),
        checked against the code. Codes and parents may be in any accepted form. Nothing odd stops
        the load: see :class:`AnomalyKind` for what is reported in :attr:`report` and what is done.
        A row that is not such a record at all (``None``, a bare string, two items or five, a name
        that is not text) is skipped and reported as ``bad_record`` with its position. Only
        ``records`` itself not being an iterable of rows raises
        :class:`~zhiyuan.errors.InvalidValue`.

        Example:
            >>> t = RegionTree.from_records([
            ...     ("4419", "东莞市", "44"), ("441900", "东莞市", "4419"), ("44", "广东省", None),
            ...     ("441900003", "东城街道", "441900")])
            >>> len(t), t.path("441900003")
            (3, '广东省/东莞市/东城街道')
            >>> t.report.counts()
            {<AnomalyKind.COLLISION: 'collision'>: 1}
            >>> print(RegionTree.from_records([("37", "山东省")]).report.anomalies[0])
            bad_record records[0] 37: 记录应有 3 或 4 项，此记录有 2 项 / a record has 3 or 4 items (code, name, parent code[, level]), this one has 2: ('37', '山东省')
        """
        rows = _rows_of(records)
        anomalies: list[Anomaly] = []
        name_of: dict[str, str | None] = {}
        raw_len: dict[str, int] = {}
        declared: dict[str, str | None] = {}
        for pos, rec in enumerate(rows):
            if not isinstance(rec, (tuple, list)):
                if not isinstance(rec, Sequence) or isinstance(rec, (str, bytes, bytearray)):
                    anomalies.append(
                        _bad_record(
                            pos,
                            rec,
                            None,
                            "记录应为 (代码, 名称, 上级代码[, 层级]) 元组",
                            "a record is a tuple (code, name, parent code[, level]), not "
                            + type(rec).__name__,
                        )
                    )
                    continue
                rec = tuple(rec)  # another sequence, such as a sqlite3.Row
            n_items = len(rec)
            if n_items == 3:
                raw, name, parent_raw = rec
                level_raw: object = None
            elif n_items == 4:
                raw, name, parent_raw, level_raw = rec
            else:
                anomalies.append(
                    _bad_record(
                        pos,
                        rec,
                        rec[0] if rec else None,
                        f"记录应有 3 或 4 项，此记录有 {n_items} 项",
                        f"a record has 3 or 4 items (code, name, parent code[, level]), this one "
                        f"has {n_items}",
                    )
                )
                continue
            # The common case inline (a plain string of 2/4/6/9/12 ASCII digits, not 00…): the
            # same answer as normalize_code, without a call per row.
            if (
                type(raw) is str
                and (pad := _PAD.get(len(raw))) is not None
                and raw.isdigit()
                and raw.isascii()
                and raw[:2] != "00"
            ):
                code = raw + pad
                n_raw = len(raw)
            else:
                try:
                    code = normalize_code(raw)
                except InvalidValue as exc:
                    anomalies.append(
                        Anomaly(
                            kind=AnomalyKind.BAD_CODE,
                            code=_text(raw),
                            detail=exc.reason,
                            record=pos,
                        )
                    )
                    continue
                n_raw = len(raw.strip()) if isinstance(raw, str) else len(str(raw))
            if name is not None and type(name) is not str:
                text = _name_text(name)
                if text is None:
                    anomalies.append(
                        _bad_record(
                            pos,
                            rec,
                            raw,
                            "名称应为文本或 None",
                            f"the name must be text or None, not {type(name).__name__}",
                        )
                    )
                    continue
                name = text
            parent: str | None = None
            if (
                type(parent_raw) is str
                and (pad := _PAD.get(len(parent_raw))) is not None
                and parent_raw.isdigit()
                and parent_raw.isascii()
                and parent_raw[:2] != "00"
            ):
                parent = parent_raw + pad
            elif parent_raw is not None and parent_raw != "" and parent_raw != "0":
                try:
                    parent = normalize_code(parent_raw, field="parent_code")
                except InvalidValue as exc:
                    anomalies.append(
                        Anomaly(
                            kind=AnomalyKind.PREFIX_MISMATCH,
                            code=_text(raw),
                            detail=f"上级代码无效 / bad parent code {show(parent_raw)}: {exc.reason}",
                        )
                    )
            if level_raw is not None:
                _check_level(level_raw, level_of(code), _text(raw), anomalies)
            if code in name_of:
                lv = level_of(code)
                first = name_of[code]
                if raw_len[code] == n_raw:
                    anomalies.append(
                        Anomaly(
                            kind=AnomalyKind.DUPLICATE,
                            code=_text(raw),
                            detail=f"代码重复，保留 {first!r} / duplicate code; kept {first!r}, "
                            f"dropped {name!r}",
                        )
                    )
                    continue
                # Two short forms pad to the same 12 digits: keep the one matching the level.
                keep_new = n_raw == lv.digits and raw_len[code] != lv.digits
                kept, dropped = (name, first) if keep_new else (first, name)
                anomalies.append(
                    Anomaly(
                        kind=AnomalyKind.COLLISION,
                        code=_text(raw),
                        detail=f"补足 12 位后与已有代码相同，保留 {kept!r}，并入 {dropped!r} / pads to "
                        f"{code} like another row; kept {kept!r}, merged {dropped!r} into it",
                    )
                )
                if not keep_new:
                    continue
            name_of[code] = sys.intern(name) if name is not None else None
            raw_len[code] = n_raw
            declared[code] = parent
        return cls._assemble(name_of, declared, anomalies)

    @classmethod
    def _assemble(
        cls,
        name_of: dict[str, str | None],
        declared: Mapping[str, str | None],
        anomalies: list[Anomaly],
    ) -> RegionTree:
        codes = sorted(name_of)
        n = len(codes)
        parent = array("i", bytes(4 * n))
        size = array("i", [1]) * n
        levels = bytearray(n)
        stack: list[int] = []  # open ancestors, each with its significant prefix
        prefixes: list[str] = []
        for i, code in enumerate(codes):
            while stack and not code.startswith(prefixes[-1]):
                j = stack.pop()
                prefixes.pop()
                size[j] = i - j
            if code[9:] != "000":  # level_of(code).depth, inline: most rows are villages
                depth = 5
            elif code[6:9] != "000":
                depth = 4
            elif code[4:6] != "00":
                depth = 3
            else:
                depth = 2 if code[2:4] != "00" else 1
            levels[i] = depth
            p = stack[-1] if stack else -1
            parent[i] = p
            want = declared.get(code)
            pcode = codes[p] if p >= 0 else None
            if want != pcode and (want is not None or pcode != parent_of(code)):
                _parent_anomaly(code, want, pcode, name_of, anomalies)
            stack.append(i)
            prefixes.append(code[: _DIGITS[depth - 1]])
        while stack:
            j = stack.pop()
            size[j] = n - j
        report = ValidationReport(anomalies=tuple(anomalies))
        return cls(codes, [name_of[c] for c in codes], parent, size, bytes(levels), report)

    @classmethod
    def from_nbs_dir(
        cls,
        path: object,
        *,
        cache: bool = True,
        cache_dir: str | os.PathLike[str] | None = None,
        progress: Progress | None = None,
    ) -> RegionTree:
        """Load the NBS named files (``provinces`` … ``villages``, ``.csv`` or ``.csv.gz``).

        The layout is that of the 2023 edition files: a header row, ``code`` and ``name`` columns and
        parent columns ending in ``_code`` (the nearest parent first). Missing level files are
        allowed (a tree down to counties loads from the first three).

        Odd data is reported in :attr:`report`, as with :meth:`from_records`; a file that cannot be
        read raises :class:`~zhiyuan.errors.InvalidInput` naming the file and, where it can be
        told, the line (a gzip file cut short or not gzip at all, bytes that are not UTF-8, CSV
        that does not parse, an empty file, a wrong header, a header without rows), and no tree is
        returned. A missing directory, or one without any named file, raises
        :class:`~zhiyuan.errors.NotFound`.

        **Cache (缓存).** The first load of files of 1 MB or more (the whole country: about 3 s)
        writes the tree to a cache file, and later loads of the same bytes read it back (well
        under a second). The file lives in ``cache_dir`` if given, else in
        ``$ZHIYUAN_CACHE_DIR``, else in ``$XDG_CACHE_HOME/zhiyuan`` or the platform's user cache
        directory (``~/.cache/zhiyuan`` on Linux). It is used only when the SHA-256 digest of the
        files, zhiyuan's version and the loader's code all match what it was written from, and
        it is checked whole (BLAKE2b) before use. A cache that is stale, corrupt, unreadable or
        cannot be written is passed over silently: the tree then loads from the files, as with
        ``cache=False``. The format is a small binary one of zhiyuan's own (codes and names as
        UTF-8 text, the tree's columns as their bytes), not pickle: loading a pickle runs code
        named in the file, reading this runs none, and it loads as fast.

        ``progress`` (:mod:`zhiyuan.progress`) is told every 100,000 regions read from the files
        (the total is not known ahead) and once the tree is built, or once when it comes from
        the cache.

        Example:
            >>> import tempfile
            >>> from pathlib import Path
            >>> with tempfile.TemporaryDirectory() as d:
            ...     _ = Path(d, "provinces.csv").write_text("code,name\\n37,山东省\\n", "utf-8")
            ...     _ = Path(d, "cities.csv").write_text(
            ...         "code,name,province_code\\n3706,烟台市,37\\n", "utf-8")
            ...     tree = RegionTree.from_nbs_dir(d, cache_dir=Path(d, "cache"))
            >>> tree.path("3706")
            '山东省/烟台市'
        """
        from zhiyuan.hierarchy import _cache
        from zhiyuan.hierarchy._nbs import _path, named_files, read_named_dir

        return _cache.cached_load(
            "nbs",
            lambda: _path(path),
            lambda: named_files(path),
            lambda: _told(progress, lambda rows: cls.from_records(rows), read_named_dir(path)),
            cache=cache,
            cache_dir=cache_dir,
            progress=progress,
        )

    @classmethod
    def from_nbs_structure(
        cls,
        path: object,
        *,
        cache: bool = True,
        cache_dir: str | os.PathLike[str] | None = None,
        progress: Progress | None = None,
    ) -> RegionTree:
        """Load a codes-only five-level structure file (``code,parent_code,level``), such as 2019's.

        A file that cannot be read raises :class:`~zhiyuan.errors.InvalidInput` naming the file and
        line, as for :meth:`from_nbs_dir`; a missing file raises :class:`~zhiyuan.errors.NotFound`.
        The tree is cached, and ``progress`` told, as by :meth:`from_nbs_dir` (same keywords,
        same rules).

        Example:
            >>> import tempfile
            >>> from pathlib import Path
            >>> with tempfile.TemporaryDirectory() as d:
            ...     f = Path(d, "structure.csv")
            ...     _ = f.write_text("code,parent_code,level\\n37,0,1\\n3706,37,2\\n", "utf-8")
            ...     tree = RegionTree.from_nbs_structure(f, cache=False)
            >>> tree["3706"].parent_code, tree["3706"].name
            ('370000000000', None)
        """
        from zhiyuan.hierarchy import _cache
        from zhiyuan.hierarchy._nbs import read_structure_file, structure_file

        return _cache.cached_load(
            "structure",
            lambda: structure_file(path),
            lambda: [structure_file(path)],
            lambda: _told(progress, lambda rows: cls.from_records(rows), read_structure_file(path)),
            cache=cache,
            cache_dir=cache_dir,
            progress=progress,
        )

    def to_records(self) -> Iterator[tuple[str, str | None, str | None]]:
        """The tree as ``(code, name, parent code)`` rows in preorder; :meth:`from_records` reads them back."""
        codes, names, parent = self._codes, self._names, self._parent
        for i, code in enumerate(codes):
            p = parent[i]
            yield code, names[i], codes[p] if p >= 0 else None

    # --- lookup -------------------------------------------------------------------------------

    def _idx(self, code: object) -> int:
        if isinstance(code, str):
            i = self._index.get(code)
            if i is not None:
                return i
        norm = normalize_code(code)
        i = self._index.get(norm)
        if i is None:
            raise UnknownRegion(norm)
        return i

    def _lookup(self) -> Callable[[object], int | None]:
        """The raw code → row lookup (12-digit strings only; ``None`` for anything else)."""
        return cast("Callable[[object], int | None]", self._index.get)

    def _region(self, i: int) -> Region:
        p = self._parent[i]
        return Region(
            code=self._codes[i],
            name=self._names[i],
            level=_LEVELS[self._levels[i] - 1],
            parent_code=self._codes[p] if p >= 0 else None,
        )

    def __len__(self) -> int:
        return len(self._codes)

    def __contains__(self, code: object) -> bool:
        try:
            self._idx(code)
        except (InvalidValue, UnknownRegion):
            return False
        return True

    def __getitem__(self, code: object) -> Region:
        return self._region(self._idx(code))

    def __iter__(self) -> Iterator[Region]:
        """Every region, in preorder (a region before its subtree, siblings by code)."""
        return (self._region(i) for i in range(len(self._codes)))

    def __eq__(self, other: object) -> bool:
        """Two trees are equal when they hold the same regions with the same names."""
        if not isinstance(other, RegionTree):
            return NotImplemented
        return self._codes == other._codes and self._names == other._names

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        counts = ", ".join(f"{lv.value}={n}" for lv, n in self.counts().items())
        return f"<RegionTree {len(self)} regions: {counts}>"

    def get(self, code: object) -> Region | None:
        """The region, or ``None`` if the code is well formed but absent (malformed codes raise)."""
        try:
            return self[code]
        except UnknownRegion:
            return None

    @property
    def report(self) -> ValidationReport:
        """What loading found odd (:class:`ValidationReport`)."""
        return self._report

    @property
    def codes(self) -> tuple[str, ...]:
        """All 12-digit codes in preorder (which is ascending order: a parent's code is its
        children's with their digits zeroed)."""
        return self._codes

    # --- columns: the tree row by row, for array code (zhiyuan.bulk.regions) ------------------
    #
    # Row ``i`` is the ``i``-th region in preorder: ``codes[i]``, ``names[i]``, and the ``i``-th
    # item of each column below. A subtree is a run of rows: ``i`` up to
    # ``i + subtree_sizes[i]``. The columns are read-only views of the tree's own storage.

    @property
    def names(self) -> tuple[str | None, ...]:
        """All names in preorder, row for row with :attr:`codes` (``None`` in a codes-only tree).

        Example:
            >>> from zhiyuan.hierarchy import load_default
            >>> tree = load_default()
            >>> tree.names[tree.row("370602")]
            '芝罘区'
        """
        return self._names

    def row(self, code: object) -> int:
        """The row of ``code`` (any accepted form): its position in preorder and in the columns.

        An unknown code raises :class:`~zhiyuan.errors.UnknownRegion`, a malformed one
        :class:`~zhiyuan.errors.InvalidValue`.

        Example:
            >>> from zhiyuan.hierarchy import load_default
            >>> tree = load_default()
            >>> i = tree.row("370602")
            >>> tree.codes[i], tree.row(370602000000) == i
            ('370602000000', True)
        """
        return self._idx(code)

    @property
    def parent_rows(self) -> memoryview:
        """The row of every row's parent, ``-1`` for a root: a read-only buffer of C ints
        (``list(...)`` gives a list; ``numpy.asarray(...)`` an array, without a copy).

        Example:
            >>> from zhiyuan.hierarchy import load_default
            >>> tree = load_default()
            >>> tree.codes[tree.parent_rows[tree.row("370602")]]
            '370600000000'
            >>> tree.parent_rows[0]
            -1
        """
        return memoryview(self._parent).toreadonly()

    @property
    def subtree_sizes(self) -> memoryview:
        """How many rows every region's subtree holds, itself included (a read-only buffer of C
        ints): the subtree of row ``i`` is rows ``i`` to ``i + subtree_sizes[i] - 1``.

        Example:
            >>> from zhiyuan.hierarchy import load_default
            >>> tree = load_default()
            >>> tree.subtree_sizes[tree.row("370202")] == tree.subtree_size("370202")
            True
        """
        return memoryview(self._size_array).toreadonly()

    @property
    def depths(self) -> bytes:
        """Every row's level as its depth, one byte each: 1 province, 2 city, 3 county,
        4 township, 5 village (:meth:`Level.from_depth <zhiyuan.hierarchy.Level.from_depth>`).

        Example:
            >>> from zhiyuan.hierarchy import load_default
            >>> load_default().depths[:3]
            b'\\x01\\x02\\x03'
        """
        return self._levels

    @property
    def code_ints(self) -> memoryview:
        """Every code as an integer (``370602001001``), in preorder and so ascending: a read-only
        buffer of signed 64-bit ints (a 12-digit code fits), made on first use. Binary search
        in it finds a code's row.

        Example:
            >>> from bisect import bisect_left
            >>> from zhiyuan.hierarchy import load_default
            >>> tree = load_default()
            >>> ints = tree.code_ints
            >>> ints.format, ints[tree.row("370602")]
            ('q', 370602000000)
            >>> bisect_left(ints, 370602000000) == tree.row("370602")
            True
        """
        ints = self._memo.get("code_ints")
        if ints is None:
            ints = self._memo["code_ints"] = array("q", map(int, self._codes))
        return memoryview(ints).toreadonly()

    def roots(self) -> list[Region]:
        """Regions without a parent in the tree (the provinces, for a whole-country tree)."""
        out = []
        i, n = 0, len(self._codes)
        while i < n:
            out.append(self._region(i))
            i += self._size[i]
        return out

    def level(self, code: object) -> Level:
        """The level of a region in the tree."""
        return _LEVELS[self._levels[self._idx(code)] - 1]

    def parent(self, code: object) -> Region | None:
        """The parent in the tree, or ``None`` for a root."""
        p = self._parent[self._idx(code)]
        return self._region(p) if p >= 0 else None

    def children(self, code: object) -> list[Region]:
        """The direct children, ordered by code."""
        i = self._idx(code)
        end = i + self._size[i]
        out = []
        j = i + 1
        while j < end:
            out.append(self._region(j))
            j += self._size[j]
        return out

    def descendants(self, code: object, *, level: Level | None = None) -> Iterator[Region]:
        """Every region below ``code`` (lazily, in preorder), optionally of one level only.

        Example:
            >>> from zhiyuan.hierarchy import load_default, Level
            >>> it = load_default().descendants("370202", level=Level.TOWNSHIP)
            >>> next(it).name
            '香港中路街道'
        """
        i = self._idx(code)
        end = i + self._size[i]
        if level is None:
            return (self._region(j) for j in range(i + 1, end))
        want = (level if isinstance(level, Level) else Level(level)).depth
        lv = self._levels
        return (self._region(j) for j in range(i + 1, end) if lv[j] == want)

    def ancestors(self, code: object) -> list[Region]:
        """The ancestors in the tree, nearest first."""
        out = []
        p = self._parent[self._idx(code)]
        while p >= 0:
            out.append(self._region(p))
            p = self._parent[p]
        return out

    def path(self, code: object, sep: str = "/") -> str:
        """The names from the root down, e.g. ``山东省/烟台市/芝罘区`` (a missing name shows as its code)."""
        if not isinstance(sep, str):
            raise InvalidValue("sep", sep, "分隔符应为文本 / a separator is text", shown=show(sep))
        i = self._idx(code)
        parts = []
        while i >= 0:
            parts.append(self._names[i] or self._codes[i])
            i = self._parent[i]
        return sep.join(reversed(parts))

    def is_within(self, code: object, ancestor: object) -> bool:
        """True if ``code`` is ``ancestor`` itself or lies in its subtree. O(1).

        ``ancestor`` may be a :class:`~zhiyuan.hierarchy.Zone`: then ``code`` lies in one of its
        members' subtrees.

        A subtree is every code in the tree that starts with the ancestor's significant digits
        (``3706`` for 烟台市), so a 12-digit code is checked with a set lookup and a prefix
        comparison; other forms by their rows. An unknown code raises
        :class:`~zhiyuan.errors.UnknownRegion`.

        Example:
            >>> from zhiyuan.hierarchy import load_default
            >>> tree = load_default()
            >>> tree.is_within("370602001001", "3706"), tree.is_within(370602001001, 370602)
            (True, True)
        """
        try:
            if code in self._members:
                prefix = self._prefixes.get(ancestor)  # type: ignore[call-overload]
                if prefix is not None:
                    return code.startswith(prefix)
        except AttributeError:  # the first check: build the set and the prefixes
            self._build_members()
            return self.is_within(code, ancestor)
        except TypeError:  # not hashable: the slow path names it
            pass
        i = self._idx(code)
        if isinstance(ancestor, Zone):
            size = self._size
            return any(a <= i < a + size[a] for a in map(self._idx, ancestor.codes))
        a = self._idx(ancestor)
        return a <= i < a + self._size[a]

    def _build_members(self) -> None:
        """The set of codes and the significant prefix of every region above a village, for
        :meth:`is_within` (built on first use: some 35 MB for the whole country)."""
        levels, digits = self._levels, _DIGITS
        self._prefixes: dict[str, str] = {
            c: c[: digits[levels[i] - 1]]
            for i, c in enumerate(self._codes)
            if levels[i] != 5  # a village's subtree is itself
        }
        self._members: frozenset[str] = frozenset(self._codes)

    def within_mask(self, codes: Iterable[object], ancestor: object) -> list[bool]:
        """``[is_within(c, ancestor) for c in codes]``, resolving ``ancestor`` once (for bulk use);
        ``ancestor`` may be a :class:`~zhiyuan.hierarchy.Zone`.

        :func:`zhiyuan.bulk.regions.within` is the numpy form, for millions of codes.

        Example:
            >>> from zhiyuan.hierarchy import load_default
            >>> load_default().within_mask(["370602001001", "370202001001"], "3706")
            [True, False]
        """
        items = _items("codes", codes)
        if isinstance(ancestor, Zone):
            masks = [self.within_mask(items, m) for m in ancestor.codes]
            return [any(row) for row in zip(*masks, strict=True)]
        a = self._idx(ancestor)
        end = a + self._size[a]
        prefix = self._codes[a][: _DIGITS[self._levels[a] - 1]]
        idx = self._idx
        try:
            members = self._members
        except AttributeError:
            self._build_members()
            members = self._members
        try:
            return [c.startswith(prefix) if c in members else a <= idx(c) < end for c in items]
        except TypeError:  # an unhashable code (a list …): the slow path names it
            return [a <= idx(c) < end for c in items]

    def lca(self, a: object, b: object) -> Region | None:
        """The lowest common ancestor (a region is its own ancestor); ``None`` under different roots."""
        i, j = self._idx(a), self._idx(b)
        if i > j:
            i, j = j, i
        parent, size = self._parent, self._size
        while i >= 0 and not j < i + size[i]:
            i = parent[i]
        return self._region(i) if i >= 0 else None

    def counts(self, code: object | None = None) -> dict[Level, int]:
        """How many regions of each level, in the whole tree or in ``code``'s subtree (itself included)."""
        if code is None:
            chunk = self._levels
        else:
            i = self._idx(code)
            chunk = self._levels[i : i + self._size[i]]
        return {lv: n for lv in _LEVELS if (n := chunk.count(lv.depth))}

    def subtree_size(self, code: object) -> int:
        """How many regions are in ``code``'s subtree, itself included."""
        return self._size[self._idx(code)]

    # --- derived trees ------------------------------------------------------------------------

    def subtree(self, code: object) -> RegionTree:
        """A new tree of ``code`` and everything below it (``code`` becomes the root)."""
        i = self._idx(code)
        return self._take([(i, i + self._size[i])])

    def prune(self, *codes: object) -> RegionTree:
        """A new tree holding the subtrees of ``codes`` and the ancestors above them.

        Example:
            >>> from zhiyuan.hierarchy import load_default
            >>> small = load_default().prune("370202", "370214")
            >>> [r.name for r in small.roots()], len(small.children("3702"))
            (['山东省'], 2)
        """
        keep: set[int] = set()
        spans = []
        for code in codes:
            i = self._idx(code)
            spans.append((i, i + self._size[i]))
            p = self._parent[i]
            while p >= 0:
                keep.add(p)
                p = self._parent[p]
        rows: set[int] = set()
        for s, e in spans:
            rows.update(range(s, e))
        rows |= keep
        ordered = sorted(rows)
        return self._rows(ordered)

    def _take(self, spans: list[tuple[int, int]]) -> RegionTree:
        rows: list[int] = []
        for s, e in spans:
            rows.extend(range(s, e))
        return self._rows(rows)

    def _rows(self, rows: list[int]) -> RegionTree:
        return RegionTree._from_names({self._codes[i]: self._names[i] for i in rows})

    @classmethod
    def _from_names(cls, name_of: dict[str, str | None]) -> RegionTree:
        """A tree of trusted 12-digit codes (a subset or an edit of a tree): nothing to report."""
        tree = cls._assemble(name_of, dict.fromkeys(name_of), [])
        tree._report = ValidationReport()
        return tree

    # --- names --------------------------------------------------------------------------------

    def find(self, name: str, *, within: object | None = None) -> list[Match]:
        """Regions named ``name``: exact matches if any, else matches without the suffix.

        ``城关镇`` finds every 城关镇; ``城关`` finds every 城关镇, 城关街道, 城关乡 …; ``芝罘`` finds
        芝罘区. Each match carries its full path. ``within`` limits the search to a subtree.

        Example:
            >>> from zhiyuan.hierarchy import load_default
            >>> [str(m) for m in load_default().find("芝罘")]
            ['山东省/烟台市/芝罘区 (370602)']
        """
        if not isinstance(name, str) or not name.strip():
            raise InvalidValue("name", name, "名称不能为空 / a name must not be empty")
        name = name.strip()
        idx = self._names_index()
        hits = idx.get(name, [])
        exact = [i for i in hits if self._names[i] == name]
        if not exact:
            exact = list(idx.get(strip_suffix(name), []))
        if within is not None:
            a = self._idx(within)
            end = a + self._size[a]
            exact = [i for i in exact if a <= i < end]
        return [
            Match(region=self._region(i), path=self.path(self._codes[i])) for i in sorted(exact)
        ]

    def _names_index(self) -> dict[str, list[int]]:
        if self._name_index is None:
            idx: dict[str, list[int]] = {}
            for i, nm in enumerate(self._names):
                if nm is None:
                    continue
                idx.setdefault(nm, []).append(i)
                key = strip_suffix(nm)
                if key != nm:
                    idx.setdefault(key, []).append(i)
            self._name_index = idx
        return self._name_index

    # --- aggregation --------------------------------------------------------------------------

    def rollup(self, values: Mapping[Any, N] | Iterable[tuple[object, N]]) -> dict[str, N]:
        """Sum values given per region up to every ancestor.

        ``values`` is a mapping code → number, or an iterable of ``(code, number)`` pairs in which
        a code may repeat (rows of a ledger, say). Returns a mapping from 12-digit code to the
        total of its subtree, for every region that has a value in its subtree, in preorder.
        An unknown code raises :class:`~zhiyuan.errors.UnknownRegion` (nothing is returned).

        Example:
            >>> from zhiyuan.hierarchy import load_default
            >>> totals = load_default().rollup({"370602001001": 5, "370602001002": 7, "3702": 1})
            >>> totals["370602000000"], totals["370000000000"]
            (12, 13)
        """
        items = (
            list(values.items())
            if isinstance(values, Mapping)
            else _items(
                "values", values, "(代码, 数值) 对的序列 / need an iterable of (code, number) pairs"
            )
        )
        try:
            return self._rollup(items)
        except ZhiyuanError:
            raise
        except (TypeError, ValueError) as exc:  # a row that is not a pair, a value not a number
            bad = self._bad_rollup(items)
            if bad is None:  # not the input's fault after all
                raise
            raise bad from exc

    def _bad_rollup(self, items: list[Any]) -> ZhiyuanError | None:
        """The error naming the first bad row of a :meth:`rollup` (``None`` if none is found)."""
        for pos, item in enumerate(items):
            if not isinstance(item, Sequence) or isinstance(item, str) or len(item) != 2:
                return InvalidValue(
                    f"values[{pos}]",
                    item,
                    "需要 (代码, 数值) 对 / need a (code, number) pair",
                    shown=show(item),
                )
            self._idx(item[0])  # a malformed or unknown code raises here
            try:
                0 + item[1]
            except TypeError:
                return InvalidValue(
                    f"values[{show(item[0])}]",
                    item[1],
                    "需要数值 / need a number",
                    shown=show(item[1]),
                )
        try:
            sum((item[1] for item in items), 0)
        except TypeError:
            pass
        else:
            return None
        kinds = sorted({type(item[1]).__name__ for item in items})
        return InvalidValue(
            "values",
            kinds,
            f"这些数值类型不能相加 / values of these types cannot be added together: "
            f"{', '.join(kinds)}",
        )

    def _rollup(self, items: list[Any]) -> dict[str, Any]:
        get, idx = self._lookup(), self._idx
        parent = self._parent_list
        codes = self._codes
        n = len(codes)
        if len(items) * 16 >= n:  # dense: one backward pass over every row
            keys = [k for k, _ in items]
            vals = [v for _, v in items]
            rows: list[int | None] = list(map(get, keys))
            if None in rows:  # another accepted code form, or an unknown code (raises)
                rows = [i if i is not None else idx(k) for i, k in zip(rows, keys, strict=True)]
            dense: list[Any] = [0] * n
            for i, v in zip(rows, vals, strict=True):  # two plain loops: faster than one
                dense[i] += v  # type: ignore[index]
            has = bytearray(n)
            for i in rows:
                has[i] = 1  # type: ignore[index]
            for i in range(n - 1, 0, -1):
                if has[i]:
                    p = parent[i]
                    if p >= 0:
                        dense[p] += dense[i]
                        has[p] = 1
            return dict(zip(compress(codes, has), compress(dense, has), strict=True))
        pairs = [(i if (i := get(k)) is not None else idx(k), v) for k, v in items]
        acc: dict[int, Any] = {}
        for i, v in pairs:
            acc[i] = acc[i] + v if i in acc else 0 + v  # 0 + v: a value that is no number raises
        for i in list(acc):  # close over ancestors, so parents come before children below
            p = parent[i]
            while p >= 0 and p not in acc:
                acc[p] = 0
                p = parent[p]
        order = sorted(acc)
        for i in reversed(order):
            p = parent[i]
            if p >= 0:
                acc[p] += acc[i]
        return {codes[i]: acc[i] for i in order}

    # --- vintages -----------------------------------------------------------------------------

    def diff(self, other: RegionTree) -> RegionDiff:
        """What changed from this tree to ``other`` (a later vintage): codes added, removed, renamed.

        Example:
            >>> a = RegionTree.from_records([("37", "山东省", None), ("3706", "烟台市", "37")])
            >>> b = RegionTree.from_records([("37", "山东省", None), ("3707", "潍坊市", "37")])
            >>> d = a.diff(b)
            >>> d.added, d.removed
            (('370700000000',), ('370600000000',))
        """
        if not isinstance(other, RegionTree):
            raise InvalidValue(
                "other", other, "需要另一棵区划树 / need another RegionTree", shown=show(other)
            )
        mine, theirs = self._index, other._index
        added = tuple(c for c in other._codes if c not in mine)
        removed = tuple(c for c in self._codes if c not in theirs)
        renamed = []
        for c, i in mine.items():
            j = theirs.get(c)
            if j is None:
                continue
            old, new = self._names[i], other._names[j]
            if old is not None and new is not None and old != new:
                renamed.append((c, old, new))
        renamed.sort()
        return RegionDiff(added=added, removed=removed, renamed=tuple(renamed))


def _items(
    field: str, values: object, what: str = "代码的序列 / need an iterable of codes"
) -> list[Any]:
    """``values`` as a list, or :class:`InvalidValue` naming ``field`` if it is not iterable."""
    if isinstance(values, list):
        return values
    if not isinstance(values, (str, bytes, bytearray)):
        try:
            return list(values)  # type: ignore[call-overload, no-any-return]
        except TypeError:
            pass
    raise InvalidValue(field, values, f"需要{what}", shown=show(values))


def _rows_of(records: object) -> Iterator[object]:
    """An iterator over ``records``, or :class:`InvalidValue` if it is not an iterable of rows."""
    if isinstance(records, (str, bytes, bytearray, Mapping)):
        raise InvalidValue(
            "records",
            records,
            f"需要记录的序列，而非 {type(records).__name__} / need an iterable of records "
            f"(code, name, parent code), not a {type(records).__name__}",
            shown=show(records),
        )
    try:
        return iter(records)  # type: ignore[call-overload, no-any-return]
    except TypeError:
        raise InvalidValue(
            "records",
            records,
            "需要记录的序列 / need an iterable of records (code, name, parent code)",
            shown=show(records),
        ) from None


def _text(value: object) -> str:
    """``str(value)`` for an anomaly's code; a value that cannot be written out is shown instead."""
    if isinstance(value, str):
        return value
    try:
        return str(value)
    except Exception:  # an outside value's str may raise (a huge int); the report must not
        return show(value)


def _name_text(name: object) -> str | None:
    """A name given as a number, as text (``None`` for anything else: the record is bad)."""
    if isinstance(name, str):
        return str(name)  # a subclass of str, as a plain one (sys.intern takes only str)
    if isinstance(name, (int, float)) and not isinstance(name, bool):
        try:
            return str(name)
        except ValueError:  # an int too long to write out
            return None
    return None


def _bad_record(pos: int, rec: object, raw: object, zh: str, en: str) -> Anomaly:
    code = _text(raw) if isinstance(raw, (str, int)) and not isinstance(raw, bool) else ""
    return Anomaly(
        kind=AnomalyKind.BAD_RECORD,
        code=code,
        detail=f"{zh} / {en}: {show(rec)}",
        record=pos,
    )


def _check_level(declared: object, lv: Level, raw: str, anomalies: list[Anomaly]) -> None:
    if declared is None or (isinstance(declared, str) and declared == ""):
        return
    want: Level | None = None
    if isinstance(declared, Level):
        want = declared
    elif isinstance(declared, int) and not isinstance(declared, bool):
        if 1 <= declared <= 5:
            want = Level.from_depth(declared)
    else:  # text, or another type that writes out as a depth or a value (a numpy int)
        text = _text(declared).strip()
        try:  # a depth 1–5 ("4", as in the 2019 file) or a Level value ("township", as dumped)
            want = Level.from_depth(int(text)) if text.isdigit() and text.isascii() else Level(text)
        except ValueError:  # InvalidValue is a ValueError too
            want = None
    if want is not lv:
        shown = show(declared)
        anomalies.append(
            Anomaly(
                kind=AnomalyKind.LEVEL_MISMATCH,
                code=raw,
                detail=f"声明层级 {shown} 与代码层级 {lv.value} 不符 / declared level "
                f"{shown} but the code denotes {lv.value}; the code wins",
            )
        )


def _parent_anomaly(
    code: str,
    want: str | None,
    actual: str | None,
    name_of: Mapping[str, str | None],
    anomalies: list[Anomaly],
) -> None:
    short = RegionCode(code).short
    where = actual if actual is not None else "根 / the root"
    if want is None or want not in name_of:
        missing = want if want is not None else RegionCode(code).parent
        anomalies.append(
            Anomaly(
                kind=AnomalyKind.ORPHAN,
                code=short,
                detail=f"上级 {missing} 不存在，挂在 {where} 下 / parent {missing} is missing; "
                f"attached under {actual if actual is not None else 'the root'}",
            )
        )
        return
    if not RegionCode(code).is_within(RegionCode(want)) or want == code:
        kind = AnomalyKind.PREFIX_MISMATCH
        zh, en = "声明的上级不是代码前缀", "declared parent is not a prefix of the code"
    else:
        kind = AnomalyKind.PARENT_MISMATCH
        zh, en = "存在更近的上级", "a nearer ancestor by code is present"
    anomalies.append(
        Anomaly(
            kind=kind,
            code=short,
            detail=f"{zh}（声明 {want}，采用 {where}）/ {en} (declared {want}, using "
            f"{actual if actual is not None else 'the root'})",
        )
    )


LOAD_STAGE = "区划 / regions"
"""The stage a tree load tells its progress callback."""


def _told(
    progress: Progress | None, build: Callable[[Iterable[Any]], RegionTree], rows: Iterable[Any]
) -> RegionTree:
    """``build(rows)``, telling ``progress`` every 100,000 rows read and once built."""
    if progress is None:
        return build(rows)
    count = 0

    def counted() -> Iterator[Any]:
        nonlocal count
        for row in rows:
            count += 1
            if count % 100_000 == 0:
                progress(LOAD_STAGE, count, None)
            yield row

    tree = build(counted())
    progress(LOAD_STAGE, count, count)
    return tree
