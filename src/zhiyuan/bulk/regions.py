"""The region tree over numpy arrays of codes (区划数组): rows, membership, ancestors, rollups.

The object API of :class:`~zhiyuan.hierarchy.RegionTree` answers one code at a time;
these functions answer a whole column of codes at once (a ledger's region column, a
simulation's villages), with the same answers, and refuse what the tree refuses.

- :func:`parse_codes`: codes in any form the tree accepts (strings of 2, 4, 6, 9 or 12 digits,
  integers) as 12-digit ``int64`` codes.
- :func:`region_rows`: the tree's row of every code (:meth:`RegionTree.row
  <zhiyuan.hierarchy.RegionTree.row>`).
- :func:`within`: :meth:`RegionTree.is_within <zhiyuan.hierarchy.RegionTree.is_within>` as a
  boolean array, for one ancestor, a functional zone, or one ancestor per code.
- :func:`ancestor_codes`: every code's ancestor at a level (its 县, its 乡镇 …).
- :func:`rollup`: :meth:`RegionTree.rollup <zhiyuan.hierarchy.RegionTree.rollup>` over integer
  columns, as a :class:`RegionTotals`.
- :func:`zone_rollup`: the sum of a column in each functional zone (功能区).
- :func:`region_frame`: the tree as a table (pandas, polars or Arrow), with ancestor columns.

How: the tree keeps its regions in preorder, which is also ascending code order (a parent's
code is its children's with their digits zeroed), so a subtree is a run of rows and a rollup is
a difference of two prefix sums. A code's row is found in a hash table of the tree's integer
codes (linear probing, vectorized: a few gathers per code instead of :func:`numpy.searchsorted`'s
twenty). The table and the other arrays are built on first use and kept with the tree.

Errors name the position and the value: a malformed code raises
:class:`~zhiyuan.errors.InvalidValue` for ``codes[i]``, an unknown one
:class:`~zhiyuan.errors.UnknownRegion` (a :class:`~zhiyuan.errors.NotFound`) for the region at
``codes[i]``.

Example:
    >>> import numpy as np
    >>> from zhiyuan.hierarchy import load_default, Level
    >>> tree = load_default()
    >>> codes = ["370602001001", "370602001002", "3702"]
    >>> within(tree, codes, "3706").tolist()
    [True, True, False]
    >>> ancestor_codes(tree, codes, Level.COUNTY).tolist()
    [370602000000, 370602000000, -1]
    >>> totals = rollup(tree, codes, [5, 7, 1])
    >>> totals.to_dict()["370000000000"]
    13
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from zhiyuan.bulk import _frames
from zhiyuan.errors import InvalidValue, UnknownRegion, show
from zhiyuan.hierarchy.codes import Level, normalize_code
from zhiyuan.hierarchy.tree import RegionTree
from zhiyuan.hierarchy.zones import Zone

__all__ = [
    "NONE",
    "RegionTotals",
    "ancestor_codes",
    "parse_codes",
    "region_frame",
    "region_rows",
    "rollup",
    "within",
    "zone_rollup",
]

I64 = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

NONE = -1
"""The code (and row) for "none": no ancestor at that level, no parent."""

_LEVELS = (Level.PROVINCE, Level.CITY, Level.COUNTY, Level.TOWNSHIP, Level.VILLAGE)
_LEVEL_NAMES = np.array([lv.value for lv in _LEVELS], dtype=object)
_GOOD_LENGTH = np.zeros(13, dtype=bool)
_GOOD_LENGTH[[2, 4, 6, 9, 12]] = True
_SCALE = np.array([10 ** (12 - k) for k in range(13)], dtype=np.int64)  # pad a k-digit int
_LIMITS = np.array([10**k for k in range(13)], dtype=np.int64)  # 1, 10, …, 10**12
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing
_MEMO_KEY = "zhiyuan.bulk.regions"
_I64_MAX = (1 << 63) - 1


# --- the tree's arrays, built once per tree -----------------------------------------------------


class _TreeArrays:
    """The tree's columns as numpy arrays, and the hash table from code to row."""

    __slots__ = ("_ancestors", "bits", "codes", "depth", "end", "n", "parent", "table")

    def __init__(self, tree: RegionTree) -> None:
        self.n = n = len(tree)
        self.codes: I64 = np.frombuffer(tree.code_ints, dtype=np.int64)
        self.parent: I64 = np.asarray(tree.parent_rows, dtype=np.int64)
        self.end: I64 = np.arange(n, dtype=np.int64) + np.asarray(
            tree.subtree_sizes, dtype=np.int64
        )
        self.depth = np.frombuffer(tree.depths, dtype=np.uint8)
        self.bits = max(4, (2 * n).bit_length())  # at most half full
        self.table = self._build_table()
        self._ancestors: dict[int, I64] = {}

    def _home(self, codes: I64) -> I64:
        h = (codes.astype(np.uint64) * _GOLDEN) >> np.uint64(64 - self.bits)
        return h.astype(np.int64)

    def _build_table(self) -> npt.NDArray[np.int32]:
        """Linear probing, inserted in rounds: in round ``k`` every key still waiting tries slot
        ``home + k``; of the keys that find it free, the first takes it. A key passes a slot only
        when it is taken, so a lookup probing from the home slot meets the key before a free one.
        """
        mask = (1 << self.bits) - 1
        table = np.full(1 << self.bits, -1, dtype=np.int32)
        waiting = np.arange(self.n, dtype=np.int64)
        home = self._home(self.codes)
        step = 0
        while waiting.size:
            slot = (home[waiting] + step) & mask
            free = np.flatnonzero(table[slot] < 0)
            taken, first = np.unique(slot[free], return_index=True)
            table[taken] = waiting[free[first]]
            placed = np.zeros(waiting.size, dtype=bool)
            placed[free[first]] = True
            waiting = waiting[~placed]
            step += 1
        return table

    def lookup(self, codes: I64) -> I64:
        """The row of every code; ``NONE`` where a code is not in the tree."""
        mask = (1 << self.bits) - 1
        out = np.full(codes.shape, NONE, dtype=np.int64)
        todo = np.arange(codes.size if self.n else 0, dtype=np.int64)  # an empty tree has none
        slot = self._home(codes)
        want = codes
        while todo.size:
            row = self.table[slot].astype(np.int64)
            empty = row < 0
            hit = ~empty & (self.codes[np.where(empty, 0, row)] == want)
            out[todo[hit]] = row[hit]
            more = ~(empty | hit)
            todo, want, slot = todo[more], want[more], (slot[more] + 1) & mask
        return out

    def ancestors(self, depth: int) -> I64:
        """Every row's ancestor row at ``depth`` (itself at its own depth), ``NONE`` if none."""
        found = self._ancestors.get(depth)
        if found is None:
            found = np.where(self.depth == depth, np.arange(self.n, dtype=np.int64), NONE)
            for d in range(depth + 1, 6):  # a parent is shallower: its answer is already in
                rows = np.flatnonzero(self.depth == d)
                parents = self.parent[rows]
                found[rows] = np.where(parents >= 0, found[np.maximum(parents, 0)], NONE)
            self._ancestors[depth] = found
        return found


def _arrays(tree: RegionTree) -> _TreeArrays:
    if not isinstance(tree, RegionTree):
        raise InvalidValue("tree", tree, "需要区划树 / need a RegionTree", shown=show(tree))
    memo = tree._memo  # the tree's store for derived forms; trees are immutable
    found = memo.get(_MEMO_KEY)
    if found is None:
        found = memo[_MEMO_KEY] = _TreeArrays(tree)
    return found


# --- codes ------------------------------------------------------------------------------------


def _array(name: str, values: object) -> npt.NDArray[Any]:
    """``values`` as a one-dimensional array (a list, tuple, array, Series …)."""
    if isinstance(values, (str, bytes, int, float)) or values is None:
        raise InvalidValue(
            name,
            values,
            f"需要数组或列表，而非单个值 / need an array or a list, not one {type(values).__name__}",
            shown=show(values),
        )
    if isinstance(values, np.ndarray):
        arr = values
    elif isinstance(values, (list, tuple)):
        arr = _list_array(values)
    elif _frames.is_series(values) or type(values).__module__.partition(".")[0] == "polars":
        arr = np.asarray(values.to_numpy())  # type: ignore[attr-defined]
    elif isinstance(values, Iterable):
        arr = _list_array(list(values))
    else:
        raise InvalidValue(
            name, values, "需要数组或列表 / need an array or a list", shown=show(values)
        )
    if arr.ndim != 1:
        raise InvalidValue(
            name, arr.shape, "需要一维数组 / need a one-dimensional array", shown=str(arr.shape)
        )
    return arr


_PLAIN = {"U": frozenset({str}), "i": frozenset({int}), "u": frozenset({int})}


def _list_array(values: list[Any] | tuple[Any, ...]) -> npt.NDArray[Any]:
    """A list as an array, without numpy's coercions: when the items are not all of one plain
    kind (all ``str``, or all ``int``), an object array of the items themselves (numpy would
    write bytes, bools and floats among strings out as text, and make ``True`` a ``1``)."""
    try:
        arr = np.asarray(values)
    except (ValueError, TypeError):  # ragged: lists among the items
        arr = np.empty(0)
    plain = _PLAIN.get(arr.dtype.kind)
    if arr.ndim == 1 and arr.size == len(values) and plain is not None:
        if not set(map(type, values)) - plain:
            return arr
    elif arr.dtype.kind == "O" and arr.ndim == 1:
        return arr
    return np.fromiter(values, dtype=object, count=len(values))


def _slow(name: str, source: Any, at: npt.NDArray[Any]) -> I64:
    """The codes at positions ``at`` of ``source`` (the caller's list, or the array) one by one:
    :func:`~zhiyuan.hierarchy.normalize_code` names the first bad one."""
    out = np.empty(at.size, dtype=np.int64)
    for k, i in enumerate(at.tolist()):
        value = source[i]
        if isinstance(value, np.generic):
            value = value.item()
        out[k] = int(normalize_code(value, field=f"{name}[{i}]"))
    return out


_P12 = np.array([10**k for k in range(11, -1, -1)], dtype=np.float64)


def _parse_strs(name: str, items: list[Any] | tuple[Any, ...]) -> I64 | None:
    """A list of strings; ``None`` if not all are strings. 12-digit codes (a ledger's column)
    are joined into one string, read as a byte matrix: one pass over the strings, however
    scattered in memory they are; other strings go through :func:`_parse_text`."""
    n = len(items)
    try:
        joined = "\n".join(items)
    except TypeError:
        return None
    if n and len(joined) == 13 * n - 1 and joined.isascii() and joined.count("\n") == n - 1:
        # n - 1 separators, every 13th character: each string is exactly 12 characters.
        m = np.frombuffer((joined + "\n").encode("ascii"), dtype=np.uint8).reshape(n, 13)
        if bool((m[:, 12] == 10).all()):
            d = m[:, :12] - np.uint8(48)  # a character below "0" wraps round to ≥ 208
            # in floats (BLAS): exact, as every partial sum is below 10**12 < 2**53
            value = (d @ _P12).astype(np.int64)
            ok = value >= 10**10  # the province digits are not 00
            if int(d.max()) >= 10:  # one pass over all the digits; rows only if one fails
                ok &= (d < 10).all(axis=1)
            bad = np.flatnonzero(~ok)
            if bad.size:
                value[bad] = _slow(name, items, bad)
            return value
    return _parse_text(name, np.array(items, dtype=str), items)


def _parse_text(name: str, arr: npt.NDArray[Any], source: Any) -> I64:
    """Strings (a ``U`` array) of ASCII digits, parsed column by column; the rest one by one."""
    n = arr.size
    width = arr.dtype.itemsize // 4
    lengths: npt.NDArray[Any] | None = None
    short = arr
    if width > 12:  # some are longer: those go the slow way
        lengths = np.strings.str_len(arr)
        short = arr.astype("<U12")
        width = 12
    chars = short.view(np.uint32).reshape(n, width) if width else np.zeros((n, 0), np.uint32)
    value = np.zeros(n, dtype=np.int64)
    length = np.zeros(n, dtype=np.int64)
    ok = np.ones(n, dtype=bool)
    for j in range(width):  # digits, then nothing but the padding (NUL)
        c = chars[:, j].astype(np.int64) - 48
        digit = (c >= 0) & (c <= 9)
        ok &= (digit & (length == j)) | (c == -48)
        length += digit
        value += np.where(digit, c, 0) * _LIMITS[11 - j]
    ok &= _GOOD_LENGTH[np.minimum(length, 12)] & (value >= 10**10)  # province ≠ 00
    if lengths is not None:
        ok &= lengths <= 12
    bad = np.flatnonzero(~ok)
    if bad.size:
        value[bad] = _slow(name, source, bad)
    return value


def _parse_ints(name: str, arr: npt.NDArray[Any], source: Any) -> I64:
    """Integers, read as :func:`~zhiyuan.hierarchy.normalize_code` reads them: by their digits."""
    if arr.dtype.kind == "u" and arr.size and int(arr.max()) > _I64_MAX:
        bad = np.flatnonzero(arr > np.uint64(_I64_MAX))
        return _slow(name, source, bad[:1])  # raises
    v = arr.astype(np.int64)
    # 10**(k-1) ≤ v < 10**k: k digits (13 for anything longer)
    digits = np.minimum(np.searchsorted(_LIMITS, v, side="right"), 12)
    ok = (v > 0) & (v < 10**12) & _GOOD_LENGTH[digits]
    bad = np.flatnonzero(~ok)
    if bad.size:
        _slow(name, source, bad[:1])  # raises, naming the first
    return v * _SCALE[digits]


def parse_codes(codes: object, *, field: str = "codes") -> I64:
    """Region codes in any accepted form as 12-digit integers (``370602001000``).

    ``codes`` is a list, tuple, numpy array, pandas or polars Series of strings of 2, 4, 6, 9 or
    12 digits or of integers (read by their digits, as :func:`~zhiyuan.hierarchy.normalize_code`
    reads them: ``3706`` is ``370600000000``). Anything the tree would refuse raises
    :class:`~zhiyuan.errors.InvalidValue` naming ``codes[i]`` and the value.

    Example:
        >>> parse_codes(["3706", "370602001", 370602001001]).tolist()
        [370600000000, 370602001000, 370602001001]
        >>> parse_codes(["3706", "37060"])
        Traceback (most recent call last):
        ...
        zhiyuan.errors.InvalidValue: codes[1]: '37060': 区划代码应为 2、4、6、9 或 12 位数字 / a region code has 2, 4, 6, 9 or 12 digits
    """
    if isinstance(codes, (list, tuple)):
        found = _parse_strs(field, codes)
        if found is not None:
            return found
    arr = _array(field, codes)
    source = codes if isinstance(codes, (list, tuple)) and len(codes) == arr.size else arr
    kind = arr.dtype.kind
    if arr.size == 0:
        return np.zeros(0, dtype=np.int64)
    if kind in "iu":
        return _parse_ints(field, arr, source)
    if kind == "U":
        return _parse_text(field, arr, source)
    if kind == "O":
        items = arr.tolist()
        found = _parse_strs(field, items)
        if found is not None:
            return found
        try:  # ints write out as their digits; bools, floats, bytes, None as no code at all
            text = np.array(list(map(str, items)), dtype=str)
        except Exception:  # an item whose str() fails: one by one, naming it
            return _slow(field, items, np.arange(len(items)))
        return _parse_text(field, text, items)
    return _slow(field, source, np.arange(arr.size))  # floats, bytes …: the first raises


def region_rows(tree: RegionTree, codes: object) -> I64:
    """The tree's row (preorder position, :meth:`RegionTree.row
    <zhiyuan.hierarchy.RegionTree.row>`) of every code, as ``int64``.

    A malformed code raises :class:`~zhiyuan.errors.InvalidValue` and a code not in the tree
    :class:`~zhiyuan.errors.UnknownRegion`, both naming ``codes[i]``.

    Example:
        >>> from zhiyuan.hierarchy import load_default
        >>> tree = load_default()
        >>> rows = region_rows(tree, ["370602", 370602001])
        >>> [tree.codes[i] for i in rows]
        ['370602000000', '370602001000']
        >>> region_rows(tree, ["370602", "370699"])
        Traceback (most recent call last):
        ...
        zhiyuan.errors.UnknownRegion: region at codes[1] not found / 未找到: '370699000000'
    """
    return _rows(_arrays(tree), "codes", codes)


def _rows(arrays: _TreeArrays, name: str, codes: object) -> I64:
    ints = parse_codes(codes, field=name)
    rows = arrays.lookup(ints)
    missing = np.flatnonzero(rows < 0)
    if missing.size:
        i = int(missing[0])
        raise UnknownRegion(f"region at {name}[{i}]", f"{int(ints[i]):012d}")
    return rows


def _one_row(tree: RegionTree, name: str, code: object) -> int:
    try:
        return tree.row(code)
    except InvalidValue as exc:
        raise InvalidValue(name, code, exc.reason, shown=exc.shown) from None


def within(tree: RegionTree, codes: object, ancestor: object) -> Bools:
    """:meth:`RegionTree.is_within <zhiyuan.hierarchy.RegionTree.is_within>` of every code, as
    a boolean array: the code is ``ancestor`` or lies in its subtree.

    ``ancestor`` is one code (any accepted form) for all, a :class:`~zhiyuan.hierarchy.Zone`
    (in any of its members), or an array of codes as long as ``codes``, one for each. Unknown
    or malformed codes raise, as in :func:`region_rows`.

    Example:
        >>> from zhiyuan.hierarchy import load_default
        >>> tree = load_default()
        >>> within(tree, ["370602001001", "370202001001", "3706"], "3706").tolist()
        [True, False, True]
        >>> within(tree, ["370602001001", "370202001001"], ["370602", "3706"]).tolist()
        [True, False]
        >>> from zhiyuan.hierarchy.zones import ZONES
        >>> within(tree, ["370614110201", "370614001001"], ZONES["长岛综合试验区"]).tolist()
        [True, False]
    """
    arrays = _arrays(tree)
    rows = _rows(arrays, "codes", codes)
    if isinstance(ancestor, Zone):
        return _in_zone(tree, arrays, rows, ancestor)
    if isinstance(ancestor, np.generic):
        ancestor = ancestor.item()
    if isinstance(ancestor, (str, int)) or not isinstance(ancestor, Iterable):
        a = _one_row(tree, "ancestor", ancestor)
        return (rows >= a) & (rows < int(arrays.end[a]))
    anc = _rows(arrays, "ancestor", ancestor)
    if anc.size != rows.size:
        raise InvalidValue(
            "ancestor",
            anc.size,
            f"上级代码的个数应与代码相同（{rows.size}）/ one ancestor per code: {rows.size}",
        )
    return (rows >= anc) & (rows < arrays.end[anc])


def _in_zone(tree: RegionTree, arrays: _TreeArrays, rows: I64, zone: Zone) -> Bools:
    out = np.zeros(rows.size, dtype=bool)
    for code in zone.codes:
        a = _one_row(tree, "zone", code)
        out |= (rows >= a) & (rows < int(arrays.end[a]))
    return out


def zone_rollup(
    tree: RegionTree, codes: object, values: object, zones: Iterable[Zone]
) -> dict[str, int]:
    """The sum of ``values`` in each zone, by zone id (a report by 功能区): a row counts in every
    zone that holds its code (zones may overlap), zones with nothing in them show 0.

    Example:
        >>> from zhiyuan.hierarchy import load_default
        >>> from zhiyuan.hierarchy.zones import ZONES
        >>> zone_rollup(load_default(), ["370614110201", "520302013001", "370602001001"],
        ...             [90, 60, 30], ZONES.values())
        {'长岛综合试验区': 90, '昆嵛山保护区': 0, '新蒲新区': 60}
    """
    arrays = _arrays(tree)
    rows = _rows(arrays, "codes", codes)
    v = _int_values(values, rows.size)
    out: dict[str, int] = {}
    for zone in _items("zones", zones):
        if not isinstance(zone, Zone):
            raise InvalidValue("zones", zone, "需要功能区 / need Zone values", shown=show(zone))
        out[zone.id] = sum(v[_in_zone(tree, arrays, rows, zone)].tolist())
    return out


def _level(level: object) -> Level:
    if isinstance(level, Level):
        return level
    if isinstance(level, str):
        return Level(level)
    if isinstance(level, int) and not isinstance(level, bool):
        return Level.from_depth(level)
    raise InvalidValue(
        "level",
        level,
        "需要层级 / need a Level: province, city, county, township or village",
        shown=show(level),
    )


def ancestor_codes(tree: RegionTree, codes: object, level: Level | str) -> I64:
    """Every code's ancestor at ``level`` in the tree, as 12-digit ``int64`` codes.

    A region at ``level`` is its own ancestor there. :data:`NONE` (``-1``) where there is none:
    the region lies above ``level``, or the tree has no region of that level above it (东莞市's
    townships hang under the city: it has no counties). Unknown or malformed codes raise, as in
    :func:`region_rows`.

    Example:
        >>> from zhiyuan.hierarchy import load_default, Level
        >>> tree = load_default()
        >>> ancestor_codes(tree, ["370602001001", "370602", "3706"], Level.COUNTY).tolist()
        [370602000000, 370602000000, -1]
        >>> ancestor_codes(tree, ["370602001001"], "province").tolist()
        [370000000000]
    """
    arrays = _arrays(tree)
    rows = _rows(arrays, "codes", codes)
    up = arrays.ancestors(_level(level).depth)[rows]
    return np.where(up >= 0, arrays.codes[np.maximum(up, 0)], NONE)


# --- rollup -----------------------------------------------------------------------------------


class RegionTotals(NamedTuple):
    """What :func:`rollup` gives: the regions with a value in their subtree, in preorder.

    ``rows`` are the tree's rows, ``codes`` the 12-digit codes and ``totals`` the sums, all
    ``int64`` and of one length.
    """

    rows: I64
    codes: I64
    totals: I64

    def to_dict(self) -> dict[str, int]:
        """``{12-digit code: total}`` in preorder, as :meth:`RegionTree.rollup
        <zhiyuan.hierarchy.RegionTree.rollup>` returns it.

        Example:
            >>> from zhiyuan.hierarchy import load_default
            >>> rollup(load_default(), ["3706"], [4]).to_dict()
            {'370000000000': 4, '370600000000': 4}
        """
        return dict(
            zip((f"{c:012d}" for c in self.codes.tolist()), self.totals.tolist(), strict=True)
        )


def _int_values(values: object, n: int) -> I64:
    arr = _array("values", values)
    if arr.size != n:
        raise InvalidValue(
            "values",
            arr.size,
            f"数值的个数应与代码相同（{n}）/ one value per code: {n}",
        )
    kind = arr.dtype.kind
    if kind == "O":
        try:
            arr = np.array([int(v) if type(v) is bool else v for v in arr.tolist()])
        except (TypeError, ValueError, OverflowError):
            arr = np.array([None])
        kind = arr.dtype.kind
        if kind not in "iu" and n:
            for i, v in enumerate(np.asarray(values, dtype=object).tolist()):
                if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
                    raise InvalidValue(
                        f"values[{i}]", v, "需要整数 / need a whole number", shown=show(v)
                    )
            raise InvalidValue(
                "values", None, "超出 64 位整数 / a value does not fit 64-bit integers"
            )
    if kind == "f":
        whole = np.isfinite(arr) & (arr == np.round(arr))
        if not bool(whole.all()):
            i = int(np.flatnonzero(~whole)[0])
            raise InvalidValue(f"values[{i}]", float(arr[i]), "需要整数 / need a whole number")
        if arr.size and float(np.abs(arr).max()) >= 2.0**63:
            i = int(np.argmax(np.abs(arr)))
            raise InvalidValue(
                f"values[{i}]", float(arr[i]), "超出 64 位整数 / does not fit 64-bit integers"
            )
        return arr.astype(np.int64)
    if kind == "b":
        return arr.astype(np.int64)
    if kind == "u":
        if arr.size and int(arr.max()) > _I64_MAX:
            i = int(np.argmax(arr))
            raise InvalidValue(
                f"values[{i}]", int(arr[i]), "超出 64 位整数 / does not fit 64-bit integers"
            )
        return arr.astype(np.int64)
    if kind == "i":
        return arr.astype(np.int64, copy=False)
    raise InvalidValue("values", str(arr.dtype), "需要整数 / need whole numbers")


def rollup(
    tree: RegionTree,
    codes: object,
    values: object,
    *,
    level: Level | str | None = None,
) -> RegionTotals:
    """:meth:`RegionTree.rollup <zhiyuan.hierarchy.RegionTree.rollup>` over columns: the sum of
    ``values`` in every region's subtree, for the regions that have a value in it.

    ``codes`` and ``values`` are equally long (a code may repeat: the rows of a ledger);
    ``values`` are integers (whole floats are taken as integers, others refused) and the sums
    are exact ``int64``. With ``level``, only the regions of that level are given (county
    totals, say); otherwise every region, in preorder, as ``RegionTree.rollup`` gives them
    (``rollup(...).to_dict() == tree.rollup(zip(codes, values))``). Unknown or malformed codes
    raise, as in :func:`region_rows`; so does a total that does not fit 64 bits.

    Example:
        >>> from zhiyuan.hierarchy import load_default, Level
        >>> tree = load_default()
        >>> t = rollup(tree, ["370602001001", "370602001002", "3702"], [5, 7, 1])
        >>> t.to_dict()["370602000000"], t.to_dict()["370000000000"]
        (12, 13)
        >>> rollup(tree, ["370602001001", "3702"], [5, 1], level=Level.CITY).to_dict()
        {'370200000000': 1, '370600000000': 5}
    """
    arrays = _arrays(tree)
    rows = _rows(arrays, "codes", codes)
    v = _int_values(values, rows.size)
    # Sums in int64 when no partial sum can overflow; else in Python integers, exactly.
    exact = bool(v.size) and max(-int(v.min()), int(v.max())) * v.size > _I64_MAX
    n = arrays.n
    dense = np.zeros(n, dtype=object if exact else np.int64)
    np.add.at(dense, rows, v.astype(object) if exact else v)
    counts = np.bincount(rows, minlength=n)
    sums = np.concatenate((np.zeros(1, dtype=dense.dtype), np.cumsum(dense)))
    seen = np.concatenate(([0], np.cumsum(counts)))
    start = np.arange(n, dtype=np.int64)
    keep = seen[arrays.end] - seen[start] > 0
    if level is not None:
        keep &= arrays.depth == _level(level).depth
    out = np.flatnonzero(keep).astype(np.int64)
    totals = sums[arrays.end[out]] - sums[out]
    if exact:
        big = [i for i, t in enumerate(totals.tolist()) if not -_I64_MAX - 1 <= t <= _I64_MAX]
        if big:
            code = f"{int(arrays.codes[out[big[0]]]):012d}"
            raise InvalidValue(
                f"totals[{code}]",
                totals[big[0]],
                "合计超出 64 位整数 / the total does not fit 64-bit integers",
            )
        totals = totals.astype(np.int64)
    return RegionTotals(rows=out, codes=arrays.codes[out], totals=totals)


# --- the region table -------------------------------------------------------------------------


def region_frame(
    tree: RegionTree,
    *,
    ancestors: Iterable[Level | str] = (),
    int_codes: bool = False,
    kind: str = "pandas",
) -> Any:
    """The tree as a table, one row per region in preorder: ``code``, ``name``, ``level`` (a
    categorical), ``parent`` and, for each level in ``ancestors``, a column of that name with
    the region's ancestor there (:func:`ancestor_codes`).

    Codes are 12-digit strings, ``None`` where there is none; with ``int_codes=True`` they are
    ``int64``, :data:`NONE` (``-1``) where there is none. ``kind`` is ``"pandas"`` (the
    ``pandas`` extra; the index is the tree's row), ``"polars"`` or ``"pyarrow"``.

    Example:
        >>> from zhiyuan.hierarchy import load_default, Level
        >>> df = region_frame(load_default(), ancestors=[Level.CITY, "county"])
        >>> list(df.columns)
        ['code', 'name', 'level', 'parent', 'city', 'county']
        >>> df.iloc[load_default().row("370602001")].tolist()
        ['370602001000', '向阳街道', 'township', '370602000000', '370600000000', '370602000000']
        >>> df.iloc[0, :3].tolist(), bool(df[["parent", "city", "county"]].iloc[0].isna().all())
        (['140000000000', '山西省', 'province'], True)
    """
    arrays = _arrays(tree)
    wanted = [_level(lv) for lv in _items("ancestors", ancestors)]
    if not isinstance(int_codes, bool):
        raise InvalidValue(
            "int_codes", int_codes, "应为 True 或 False / True or False", shown=show(int_codes)
        )
    if kind not in ("pandas", "polars", "pyarrow"):
        raise InvalidValue(
            "kind", kind, "应为 pandas、polars 或 pyarrow / pandas, polars or pyarrow"
        )
    text = np.empty(arrays.n + 1, dtype=object)  # the codes as text, and None at NONE
    text[:-1] = tree.codes
    text[-1] = None

    def column(rows: I64) -> npt.NDArray[Any]:
        if int_codes:
            return np.where(rows >= 0, arrays.codes[np.maximum(rows, 0)], NONE)
        return text[rows]  # a row of -1 picks the None at the end

    names = np.empty(arrays.n, dtype=object)
    names[:] = tree.names
    columns: dict[str, npt.NDArray[Any] | _frames.Coded] = {
        "code": arrays.codes.copy() if int_codes else text[:-1],
        "name": names,
        "level": _frames.Coded(arrays.depth.astype(np.int64) - 1, _LEVEL_NAMES),
        "parent": column(arrays.parent),
    }
    for lv in wanted:
        columns[lv.value] = column(arrays.ancestors(lv.depth))
    return _frames.make_frame(columns, kind=kind)


def _items(name: str, values: Iterable[Any]) -> list[Any]:
    if isinstance(values, (str, Level)):
        return [values]
    try:
        return list(values)
    except TypeError:
        raise InvalidValue(
            name, values, "需要层级的列表 / need a list of levels", shown=show(values)
        ) from None
