"""The frame boundary of :mod:`zhiyuan.bulk`: every use of pandas, polars and pyarrow goes here.

The three are optional (the ``pandas``, ``polars`` and ``arrow`` extras) and are imported lazily,
by name, and typed as ``Any`` on this side of the boundary only; what crosses it is numpy arrays
and plain Python values, and one wrapper: :class:`LazyIds`, distinct ids kept as the Arrow
strings they were read as until something reads them (a result that goes back out as a frame
never makes a Python string of each). Nothing here is imported unless a frame is given or asked
for.

Why numpy is the interchange (and not narwhals or Arrow): the bulk kernels are numpy, and each
of the three libraries converts its numeric columns to and from numpy without a copy, so reading
a frame is one conversion per column and writing one is one constructor call. A dataframe
abstraction layer would add a dependency to save the few dozen lines below, and going through
Arrow would make pyarrow a requirement of every pandas and polars user. A frame comes back as
the kind it came in: a pandas DataFrame with its index, a polars DataFrame, or an Arrow table.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from zhiyuan.bulk import _parallel
from zhiyuan.errors import InvalidValue

__all__ = [
    "Coded",
    "LazyIds",
    "factorize",
    "frame_columns",
    "frame_index",
    "frame_kind",
    "is_frame",
    "is_series",
    "make_frame",
    "materialized",
    "optional_module",
    "pandas",
    "series_values",
    "with_columns",
]

DATE_COLUMNS = frozenset({"day", "service_date"})
"""Columns of dates (not instants): naive datetimes are fine there."""

I64 = npt.NDArray[np.int64]
AnyArray = npt.NDArray[Any]

_MISSING = object()
_modules: dict[str, Any] = {}
_EXTRAS = {"pandas": "pandas", "polars": "polars", "pyarrow": "arrow"}


def optional_module(name: str, *, required: bool = True) -> Any:
    """The module ``name`` of an optional extra (``pandas``, ``polars``, ``pyarrow``), imported
    once, or ``None`` when it is not installed and not ``required``.

    Raises:
        InvalidValue: it is not installed and ``required``, naming the extra to install.

    Example:
        >>> optional_module("pandas").__name__
        'pandas'
        >>> optional_module("no_such_frames", required=False) is None
        True
    """
    found = _modules.get(name, _MISSING)
    if found is _MISSING:
        try:
            found = importlib.import_module(name)
        except ImportError:
            found = None
        _modules[name] = found
    if found is None and required:
        raise InvalidValue(
            name,
            None,
            f"需要 {name}（pip install 'zhiyuan[{_EXTRAS.get(name, name)}]'）/ this needs {name}",
        )
    return found


def pandas(*, required: bool = True) -> Any:
    """The pandas module, or ``None`` when it is not installed and not ``required``."""
    return optional_module("pandas", required=required)


def _module_of(obj: object) -> str:
    return type(obj).__module__.partition(".")[0]


def frame_kind(obj: object) -> str | None:
    """``"pandas"``, ``"polars"`` or ``"pyarrow"`` for a DataFrame or Arrow table of that
    library (checked without importing any of them), ``None`` for anything else."""
    mod, name = _module_of(obj), type(obj).__name__
    if (mod, name) in (("pandas", "DataFrame"), ("polars", "DataFrame"), ("pyarrow", "Table")):
        return mod
    return None


def is_frame(obj: object) -> bool:
    """True for a pandas DataFrame (checked without importing pandas)."""
    return frame_kind(obj) == "pandas"


def is_series(obj: object) -> bool:
    """True for a pandas Series (checked without importing pandas)."""
    return _module_of(obj) == "pandas" and type(obj).__name__ == "Series"


class LazyIds:
    """Distinct ids kept as the Arrow strings they were read as (``strings``, sorted, one each)
    until they are read as Python objects: a frame's million ids are made into Python strings
    (about 0.06 s a million) only when :meth:`to_numpy` is first called, so a result that goes
    back out as a frame, or is never asked for its ids, does not make them.

    Example:
        >>> import pyarrow as pa
        >>> ids = LazyIds(pa.array(["v1", "v2"]))
        >>> len(ids), ids.to_numpy().tolist()
        (2, ['v1', 'v2'])
    """

    __slots__ = ("_objects", "strings")

    def __init__(self, strings: Any) -> None:
        self.strings = strings
        self._objects: AnyArray | None = None

    def __len__(self) -> int:
        return len(self.strings)

    def __repr__(self) -> str:
        return f"<LazyIds of {len(self):,}>"

    def to_numpy(self) -> AnyArray:
        """The ids as a numpy array of Python strings (made once)."""
        if self._objects is None:
            self._objects = np.asarray(self.strings.to_numpy(zero_copy_only=False), dtype=object)
        return self._objects


def materialized(ids: AnyArray | LazyIds) -> AnyArray:
    """``ids`` as a numpy array: a :class:`LazyIds` made into Python strings, an array as is."""
    return ids.to_numpy() if isinstance(ids, LazyIds) else ids


@attrs.frozen(eq=False)
class Coded:
    """A categorical column: integer ``codes`` into ``names``, code ``-1`` a missing value.

    What a frame's categorical column is read as, and what the ``labelled()`` results of
    :mod:`zhiyuan.bulk` give for the columns that frames show as categoricals. Names read from
    Arrow strings stay Arrow strings (:class:`LazyIds`, :attr:`distinct`) until :attr:`names`
    is first read.

    Example:
        >>> import numpy as np
        >>> Coded(np.array([1, -1, 0]), np.array(["accepted", "rejected"])).decoded().tolist()
        ['rejected', None, 'accepted']
    """

    codes: I64
    _names: AnyArray | LazyIds

    @property
    def names(self) -> AnyArray:
        """The name of each code, as a numpy array."""
        return materialized(self._names)

    @property
    def distinct(self) -> AnyArray | LazyIds:
        """The names as read: :class:`LazyIds` when they are Arrow strings not yet made into
        Python objects.

        Example:
            >>> import numpy as np
            >>> import pyarrow as pa
            >>> coded = Coded(np.array([1, 0]), LazyIds(pa.array(["a", "b"])))
            >>> coded.distinct, coded.names.tolist()
            (<LazyIds of 2>, ['a', 'b'])
        """
        return self._names

    def take(self, index: Any) -> Coded:
        """The rows ``index`` picks (a mask or positions), as a categorical with the same names."""
        return Coded(self.codes[index], self._names)

    def decoded(self) -> AnyArray:
        """The values as objects (``None`` where missing)."""
        return np.asarray([*self.names.tolist(), None], dtype=object)[self.codes]


def series_values(name: str, s: Any) -> npt.NDArray[Any] | Coded:
    """One pandas Series as numpy values.

    Timezone-aware datetimes become int64 epoch seconds (missing: -1); naive datetimes are
    refused (a time without a zone is ambiguous); categoricals become :class:`Coded`; nullable
    integers and booleans become float (``NaN`` for missing) or plain arrays when none is missing.
    """
    pd = pandas()
    dtype = s.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        codes = np.asarray(s.cat.codes.to_numpy(), dtype=np.int64)
        return Coded(codes, np.asarray(s.cat.categories.to_numpy()))
    if name in DATE_COLUMNS and (
        isinstance(dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(dtype)
    ):  # a date column: the Shanghai date of aware times, the date of naive ones
        if isinstance(dtype, pd.DatetimeTZDtype):
            s = s.dt.tz_convert("Asia/Shanghai").dt.tz_localize(None)
        if bool(s.isna().any()):
            raise InvalidValue(name, None, "缺少日期 / a date is missing")
        return np.asarray(s.to_numpy(dtype="datetime64[s]")).astype("datetime64[D]")
    if isinstance(dtype, pd.DatetimeTZDtype):
        missing = np.asarray(s.isna().to_numpy(), dtype=bool)
        utc = s.dt.tz_convert("UTC").dt.tz_localize(None)
        secs = np.asarray(utc.to_numpy(dtype="datetime64[s]")).astype(np.int64)
        return np.where(missing, np.int64(-1), secs)
    if pd.api.types.is_datetime64_dtype(dtype):
        raise InvalidValue(
            name, str(dtype), "缺少时区 / naive datetimes: localize them (tz_localize) first"
        )
    if bool(s.isna().any()):
        if pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
            return np.asarray(s.to_numpy(dtype="float64", na_value=np.nan))
        return np.asarray(s.to_numpy(dtype=object, na_value=None))
    if pd.api.types.is_bool_dtype(dtype):
        return np.asarray(s.to_numpy(dtype=bool))
    if pd.api.types.is_integer_dtype(dtype):
        return np.asarray(s.to_numpy(dtype="int64"))
    if _arrow_strings_of(pd, dtype):  # pyarrow-backed strings: coded on their Arrow buffers
        return Coded(*_arrow_factorize(optional_module("pyarrow").array(s.array)))
    if pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype):
        return np.asarray(s.to_numpy(dtype=object))
    return np.asarray(s.to_numpy())


def _arrow_strings_of(pd: Any, dtype: Any) -> bool:
    """True for a pandas string column kept as Arrow strings (``string[pyarrow]``, or an
    ``ArrowDtype`` of strings, as ``read_csv(dtype_backend="pyarrow")`` gives), when pyarrow is
    installed."""
    pa = optional_module("pyarrow", required=False)
    if pa is None:
        return False
    if isinstance(dtype, pd.StringDtype):
        return str(dtype.storage).startswith("pyarrow")
    if isinstance(dtype, pd.ArrowDtype):
        return _with_offsets(dtype.pyarrow_dtype)
    return False


def _polars_values(name: str, s: Any) -> npt.NDArray[Any] | Coded:
    """One polars Series as numpy values, as :func:`series_values` reads a pandas one."""
    pl = optional_module("polars")
    dtype = s.dtype
    if isinstance(dtype, pl.Enum):
        return Coded(
            np.asarray(s.to_physical().fill_null(-1).to_numpy(), dtype=np.int64),
            np.asarray(dtype.categories.to_numpy(), dtype=object),
        )
    if isinstance(dtype, pl.Categorical):
        s = s.cast(pl.String)
    if s.dtype == pl.String and not s.null_count() and optional_module("pyarrow", required=False):
        # polars' strings are views: exported as they are (no copy), sorted names as factorize
        return Coded(*_arrow_factorize(s.to_arrow(compat_level=pl.CompatLevel.newest())))
    if isinstance(dtype, pl.Datetime):
        if name in DATE_COLUMNS:
            if dtype.time_zone is not None:
                s = s.dt.convert_time_zone("Asia/Shanghai")
            s = s.dt.date()
        elif dtype.time_zone is None:
            raise InvalidValue(
                name, str(dtype), "缺少时区 / naive datetimes: give them a zone first"
            )
        else:
            return np.asarray(s.dt.epoch("s").fill_null(-1).to_numpy(), dtype=np.int64)
    if s.dtype == pl.Date:
        if s.null_count():
            raise InvalidValue(name, None, "缺少日期 / a date is missing")
        return np.asarray(s.cast(pl.Int32).to_numpy(), dtype=np.int64).astype("datetime64[D]")
    if s.null_count() and s.dtype.is_numeric():
        return np.asarray(s.cast(pl.Float64).to_numpy())
    values = np.asarray(s.to_numpy())
    return values.astype(object) if values.dtype.kind == "U" else values


def _arrow_values(name: str, col: Any) -> npt.NDArray[Any] | Coded:
    """One Arrow column as numpy values, as :func:`series_values` reads a pandas one."""
    pa = optional_module("pyarrow")
    pc = importlib.import_module("pyarrow.compute")
    col = col.combine_chunks() if hasattr(col, "combine_chunks") else col
    kind = col.type
    if pa.types.is_dictionary(kind):
        return Coded(
            np.asarray(pc.fill_null(col.indices, -1).to_numpy(), dtype=np.int64),
            np.asarray(col.dictionary.to_numpy(zero_copy_only=False), dtype=object),
        )
    if _with_offsets(kind) and not col.null_count:
        return Coded(*_arrow_factorize(col))  # sorted names, as factorize gives
    if pa.types.is_timestamp(kind):
        if name in DATE_COLUMNS:
            if kind.tz is not None:  # the Shanghai date of each instant
                col = pc.local_timestamp(pc.cast(col, pa.timestamp(kind.unit, "Asia/Shanghai")))
            col = pc.cast(col, pa.date32(), safe=False)
        elif kind.tz is None:
            raise InvalidValue(
                name, str(kind), "缺少时区 / naive datetimes: give them a zone first"
            )
        else:
            secs = pc.cast(pc.cast(col, pa.timestamp("s", kind.tz), safe=False), pa.int64())
            return np.asarray(pc.fill_null(secs, -1).to_numpy(), dtype=np.int64)
    if pa.types.is_date(col.type):
        if col.null_count:
            raise InvalidValue(name, None, "缺少日期 / a date is missing")
        days = pc.cast(pc.cast(col, pa.date32()), pa.int32())
        return np.asarray(days.to_numpy(), dtype=np.int64).astype("datetime64[D]")
    values = np.asarray(col.to_numpy(zero_copy_only=False))
    return values.astype(object) if values.dtype.kind == "U" else values


def frame_columns(df: Any) -> dict[str, npt.NDArray[Any] | Coded]:
    """A frame's columns as numpy values: a pandas or polars DataFrame, or an Arrow table.

    Aware times become int64 epoch seconds (missing: ``-1``), dates ``datetime64[D]``, text and
    categoricals :class:`Coded` (codes into sorted names) where the library can encode them
    without Python objects, numbers stay numbers. Naive times are refused.

    Raises:
        InvalidValue: not a frame, or a column of naive times.

    Example:
        >>> import pandas as pd
        >>> cols = frame_columns(pd.DataFrame({"n": [1, 2], "c": pd.Categorical(["x", "y"])}))
        >>> cols["n"].tolist(), cols["c"].decoded().tolist()
        ([1, 2], ['x', 'y'])
    """
    if frame_kind(df) is None:
        raise InvalidValue(
            "frame", type(df).__name__, "需要 DataFrame 或 Arrow 表 / need a DataFrame or a table"
        )
    kind = frame_kind(df)
    if kind == "polars":
        return {str(c): _polars_values(str(c), df[c]) for c in df.columns}
    if kind == "pyarrow":
        return {str(c): _arrow_values(str(c), df.column(c)) for c in df.column_names}
    return {str(c): series_values(str(c), df[c]) for c in df.columns}


def frame_index(df: Any) -> Any:
    """A pandas DataFrame's index (``None`` for other frames: they have none)."""
    return df.index if frame_kind(df) == "pandas" else None


def _column(kind: str, name: str, values: npt.NDArray[Any] | Coded | LazyIds) -> Any:
    """One output column in a frame library's own form (categoricals for :class:`Coded`, the
    library's strings for :class:`LazyIds`, made from their Arrow strings)."""
    if isinstance(values, LazyIds):
        strings = values.strings
        if kind == "polars":
            return optional_module("polars").Series(name, strings)
        if kind == "pyarrow":
            pa = optional_module("pyarrow")
            return importlib.import_module("pyarrow.compute").cast(strings, pa.string())
        return strings.to_pandas().array  # the strings as pandas reads them (str or object)
    if not isinstance(values, Coded):
        return values
    names = [str(n) for n in values.names]
    if kind == "pandas":
        return pandas().Categorical.from_codes(values.codes, categories=names)
    missing = values.codes < 0  # a code of -1: no value
    if kind == "polars":  # the labels gathered by code (no Python object a row)
        pl = optional_module("polars")
        at = pl.Series(np.where(missing, 0, values.codes).astype(np.uint32))
        out = pl.Series(name, names, dtype=pl.Enum(names)).gather(at)
        return out.scatter(np.flatnonzero(missing), None) if bool(missing.any()) else out
    pa = optional_module("pyarrow")
    return pa.DictionaryArray.from_arrays(
        pa.array(np.where(missing, 0, values.codes), type=pa.int32(), mask=missing),
        pa.array(names, type=pa.string()),
    )


def make_frame(
    columns: Mapping[str, npt.NDArray[Any] | Coded | LazyIds],
    *,
    kind: str = "pandas",
    index: Any = None,
) -> Any:
    """A frame of ``kind`` (``"pandas"``, ``"polars"`` or ``"pyarrow"``) from equal-length numpy
    columns (no copy where the library can avoid one); :class:`Coded` columns become
    categoricals with their names as labels, :class:`LazyIds` the library's strings (without
    Python objects), and a pandas frame takes ``index``."""
    out = {name: _column(kind, name, v) for name, v in columns.items()}
    if kind == "polars":
        return optional_module("polars").DataFrame(out)
    if kind == "pyarrow":
        return optional_module("pyarrow").table(out)
    return pandas().DataFrame(out, index=index, copy=False)


def with_columns(frame: Any, columns: dict[str, npt.NDArray[Any] | Coded]) -> Any:
    """``frame`` (pandas, polars or Arrow) with ``columns`` added or replaced, as the same kind;
    the input is not changed, and a pandas frame keeps its index."""
    kind = frame_kind(frame)
    if kind == "polars":
        pl = optional_module("polars")
        return frame.with_columns(
            [pl.Series(name, _column(kind, name, v)) for name, v in columns.items()]
        )
    if kind == "pyarrow":
        for name, v in columns.items():
            col = _column(kind, name, v)
            at = frame.column_names.index(name) if name in frame.column_names else -1
            frame = (
                frame.append_column(name, [col]) if at < 0 else frame.set_column(at, name, [col])
            )
        return frame
    out = frame.copy()
    for name, v in columns.items():
        out[name] = _column("pandas", name, v)
    return out


def _arrow_strings(values: npt.NDArray[Any]) -> Any:
    """``values`` as an Arrow string array when pyarrow is installed and every value is a
    string (or missing); ``None`` otherwise (numbers, enum members, mixed kinds)."""
    pa = optional_module("pyarrow", required=False)
    if pa is None or not len(values):
        return None
    first = values[0]
    if type(first) is not str and not isinstance(first, np.str_):
        return None
    try:
        return pa.array(values, type=pa.large_string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        return None


def _with_offsets(kind: Any) -> bool:
    """Whether an Arrow type is strings with offsets (``string`` or ``large_string``): the form
    the string paths here read on their buffers (string views are cast to it first)."""
    pa = optional_module("pyarrow")
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def _plain_strings(strings: Any) -> Any:
    """An Arrow column of strings as one array with offsets (``string`` or ``large_string``):
    chunks combined, and string views (as polars keeps its strings) cast, which is twice the
    speed of polars' own export to offsets."""
    pa = optional_module("pyarrow")
    if hasattr(strings, "combine_chunks"):
        strings = strings.combine_chunks()
    if not _with_offsets(strings.type):
        strings = importlib.import_module("pyarrow.compute").cast(strings, pa.large_string())
    return strings


def _arrow_factorize(strings: Any) -> tuple[I64, LazyIds]:
    """Codes into the sorted distinct strings of an Arrow string array (missing: refused), the
    distinct strings kept as Arrow strings (:class:`LazyIds`)."""
    pc = importlib.import_module("pyarrow.compute")
    if strings.null_count:
        i = int(np.flatnonzero(np.asarray(strings.is_null().to_numpy(zero_copy_only=False)))[0])
        raise InvalidValue(f"[{i}]", None, "缺少值 / a value is missing")
    if hasattr(strings, "combine_chunks"):
        strings = strings.combine_chunks()
    digits = _digit_codes(strings)  # string views are cast in its ranges, on every core
    if digits is not None:
        return digits
    strings = _plain_strings(strings)
    encoded = pc.dictionary_encode(strings)
    dictionary = encoded.dictionary
    order = _bytes_order(dictionary)
    if order is None:
        order = pc.array_sort_indices(dictionary).to_numpy()
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order), dtype=np.int64)
    codes = rank[encoded.indices.to_numpy()]  # int32 indices, read in place
    return codes, LazyIds(dictionary.take(order))


def _take_strings(strings: Any, rows: I64) -> Any:
    """The strings at ``rows`` of an Arrow string array (no missing values), as an array with
    offsets: string views (which Arrow's ``take`` does not take) are gathered as their 16-byte
    views over the same data, then cast."""
    pa = optional_module("pyarrow")
    if _with_offsets(strings.type):
        return strings.take(rows)
    buffers = strings.buffers()
    views = np.frombuffer(buffers[1], dtype="V16", count=strings.offset + len(strings))
    taken = np.ascontiguousarray(views[strings.offset :][rows])
    gathered = pa.Array.from_buffers(
        strings.type, len(rows), [None, pa.py_buffer(taken), *buffers[2:]]
    )
    return _plain_strings(gathered)


def _string_buffers(strings: Any) -> tuple[npt.NDArray[Any], npt.NDArray[np.uint8]]:
    """An Arrow string array's offsets, counted from 0, and its bytes (read in place, not
    copied): string ``k`` is ``text[offsets[k]:offsets[k + 1]]``."""
    pa = optional_module("pyarrow")
    n = len(strings)
    kind = np.dtype(np.int64 if pa.types.is_large_string(strings.type) else np.int32)
    _, offsets_buffer, data_buffer = strings.buffers()
    offsets = np.frombuffer(
        offsets_buffer, dtype=kind, count=n + 1, offset=strings.offset * kind.itemsize
    )
    first, size = int(offsets[0]), int(offsets[-1] - offsets[0])
    if not size:
        return offsets - offsets[0], np.zeros(0, dtype=np.uint8)
    text = np.frombuffer(data_buffer, dtype=np.uint8, count=size, offset=first)
    return (offsets - offsets[0] if first else offsets), text


def _bytes_order(strings: Any) -> I64 | None:
    """The sorting order of an Arrow string array whose strings all take the same number of
    bytes (hex digests, fixed-width codes), found by numpy on its bytes as fixed-width
    bytestrings: twice Arrow's speed. UTF-8 bytes sort as the code points they encode, so this
    is Python's order. ``None`` for strings of several widths, or with a NUL byte (numpy's
    bytestrings drop trailing NULs)."""
    n = len(strings)
    if not n or not _with_offsets(strings.type):
        return None
    offsets, text = _string_buffers(strings)
    width = int(offsets[1])
    if not width or not bool((np.diff(offsets) == width).all()) or not text.min():  # a NUL
        return None
    return np.argsort(text.view(f"S{width}"), kind="stable").astype(np.int64)


_MAX_DIGITS = 18
"""The longest run of digits parsed as an integer (10**18 < 2**63)."""


def _digit_codes(strings: Any) -> tuple[I64, LazyIds] | None:
    """Codes and sorted names of ids written as one prefix and digits (``370602…`` as an export
    numbers its volunteers, or ``v1024``, ``ZY2023000123``), without hashing a string: the
    digits parsed as integers and coded through a table over their range (which notes a row
    holding each number), the names taken from those rows. Digits of one width sort as
    their numbers do; digits of several widths (then without leading zeros, so each number is
    one string) are put in the strings' order. ``None`` for anything else (another prefix,
    other characters, leading zeros at several widths, more than 18 digits).

    The checks and the parse run on the array's own buffers, a sample of the first strings
    first, then one range of rows a core at once (string views are cast to offsets there): a
    copy of a range's bytes has the prefix written over with ``0`` (so the prefix reads as
    leading zeros) and must then be ASCII digits only, before Arrow parses it."""
    pa = optional_module("pyarrow")
    pc = importlib.import_module("pyarrow.compute")
    n = len(strings)
    if not n:
        return None
    if hasattr(strings, "combine_chunks"):
        strings = strings.combine_chunks()
    prefix = strings[0].as_py().rstrip("0123456789").encode()
    p = len(prefix)

    # Each step below makes as few arrays of a row each as it can (one index array, stepped
    # through the prefix; the widths found in place): every such array is tens of MB to fill.
    def read(piece: Any) -> tuple[Any, npt.NDArray[Any], npt.NDArray[np.uint8], AnyArray] | None:
        """Rows of the column (string views cast, on the piece's own core): their type,
        offsets, bytes and widths after the prefix; ``None`` unless each is 1 to 18 digits."""
        piece = _plain_strings(piece)
        offsets, text = _string_buffers(piece)
        widths = np.diff(offsets)
        widths -= p
        if not 1 <= int(widths.min()) <= int(widths.max()) <= _MAX_DIGITS:
            return None
        return piece.type, offsets, text, widths

    def zeroed(offsets: npt.NDArray[Any], text: npt.NDArray[np.uint8]) -> Any:
        """``text`` with the prefix written over by ``0`` (in a copy: the strings stay), and
        where each string's digits start, if every string is the prefix and ASCII digits;
        ``None`` otherwise."""
        at = offsets[:-1].copy() if p else offsets[:-1]  # stepped through the prefix
        if p:
            text = text.copy()
        for byte in prefix:
            if not bool((text[at] == byte).all()):
                return None
            text[at] = 48
            at += 1
        if len(text) and not 48 <= int(text.min()) <= int(text.max()) <= 57:
            return None  # a byte that is not an ASCII digit
        return text, at

    sample = read(strings.slice(0, 1024))  # first: most columns of other ids fail in it, cheaply
    if sample is None or zeroed(sample[1], sample[2]) is None:
        return None
    numbers = np.empty(n, dtype=np.int64)

    def parse(rows: slice) -> tuple[int, int, bool] | None:
        """The strings of ``rows`` checked and parsed into ``numbers``: their fewest and most
        digits, and whether one of several digits starts with 0; ``None`` if one is not the
        prefix and digits."""
        found = read(strings.slice(rows.start, rows.stop - rows.start))
        if found is None:
            return None
        kind, offsets, text, widths = found
        checked = zeroed(offsets, text)
        if checked is None:
            return None
        digits, first_digit = checked
        led = bool(((digits[first_digit] == 48) & (widths > 1)).any())
        part = pa.Array.from_buffers(
            kind, len(widths), [None, pa.py_buffer(offsets), pa.py_buffer(digits)]
        )
        numbers[rows] = pc.cast(part, pa.int64()).to_numpy()
        return int(widths.min()), int(widths.max()), led

    parsed = _parallel.run(parse, n)  # on every core: the ranges are independent
    if any(part is None for part in parsed):
        return None
    ranges = [part for part in parsed if part is not None]
    low, high = min(r[0] for r in ranges), max(r[1] for r in ranges)
    if low != high and any(r[2] for r in ranges):
        return None  # "007" and "7" would be one number

    def string_order(uniques: I64) -> I64:
        """The positions of ``uniques`` (sorted numbers) in the order of their strings: by the
        digits aligned left (each number times ``10 ** (high - its digits)``, below 10**18),
        then the shorter first: ``1``, ``10`` and ``100`` align alike and come sorted, so the
        stable sort keeps the shorter first."""
        size = np.searchsorted(_TENS, uniques, side="right") + 1  # digits of each number
        return np.argsort(uniques * 10 ** (high - size), kind="stable")

    order = None if low == high else string_order
    codes, _, rows = _int_codes(numbers, order, rows=True)
    assert rows is not None  # asked for
    # each id's own string, from a row that holds it (taken now: the column is not kept)
    return codes, LazyIds(_take_strings(strings, rows))


_TENS = 10 ** np.arange(1, _MAX_DIGITS + 1, dtype=np.int64)
"""10, 100, … 10**18: where a number's count of digits grows."""


def _dense(low: int, high: int, n: int) -> bool:
    """Whether ``n`` integers from ``low`` to ``high`` are coded through a table over their
    range: one at most a few times their count."""
    return high - low < max(4 * n, 1 << 20)


def _int_codes(
    values: I64, order: Callable[[I64], I64] | None = None, *, rows: bool = False
) -> tuple[I64, I64, I64 | None]:
    """Codes and uniques of integers: the uniques sorted, or (``order``) put in the order it
    gives for the sorted ones; with ``rows``, a row holding each unique (``None`` without).
    Integers in a range at most a few times the row count go through a lookup table over the
    range (:func:`_table_codes`), others through :func:`factorize`."""
    low, high = int(values.min()), int(values.max())
    if _dense(low, high, len(values)):
        return _table_codes(values, low, high, order, rows=rows)
    codes, uniques = factorize(values)  # hashed (pandas) or sorted (numpy)
    if order is not None:
        at = order(uniques)
        rank = np.empty(len(at), dtype=np.int64)
        rank[at] = np.arange(len(at), dtype=np.int64)
        codes, uniques = rank[codes], uniques[at]
    if not rows:
        return codes, uniques, None
    holder = np.empty(len(uniques), dtype=np.int64)
    holder[codes] = np.arange(len(codes), dtype=np.int64)
    return codes, uniques, holder


def _table_codes(
    values: I64,
    low: int,
    high: int,
    order: Callable[[I64], I64] | None = None,
    *,
    rows: bool = False,
) -> tuple[I64, I64, I64 | None]:
    """:func:`_int_codes` for integers from ``low`` to ``high`` (dense, :func:`_dense`), through
    a table over their range: one pass (which also notes a row of each value, with ``rows``),
    and the reordering costs no second one."""
    # a table from 0 when it is no larger than allowed: the values index it as they are
    base = 0 if low >= 0 and _dense(0, high, len(values)) else low
    # one table over the range: a row holding each value (``rows``), or whether it is present
    size = high - base + 1
    seen: AnyArray = np.full(size, -1, dtype=np.int64) if rows else np.zeros(size, dtype=bool)

    def mark(part: slice) -> None:  # any row of a value will do: whichever thread writes last
        at = values[part] - base if base else values[part]
        seen[at] = np.arange(part.start, part.stop, dtype=np.int64) if rows else True

    _parallel.run(mark, len(values))
    present = seen >= 0 if rows else seen
    uniques = np.flatnonzero(present) + base
    if order is None:
        table = np.cumsum(present, dtype=np.int64) - 1
    else:
        uniques = uniques[order(uniques)]
        table = np.zeros(len(present), dtype=np.int64)
        table[uniques - base] = np.arange(len(uniques), dtype=np.int64)
    codes = np.empty(len(values), dtype=np.int64)

    def look_up(part: slice) -> None:
        np.take(table, values[part] - base if base else values[part], out=codes[part])

    _parallel.run(look_up, len(values))
    return codes, uniques, (seen[uniques - base] if rows else None)


def factorize(values: npt.NDArray[Any]) -> tuple[npt.NDArray[np.int64], npt.NDArray[Any]]:
    """Codes and sorted unique values: ``uniques[codes] == values``.

    Integers in a range at most a few times the row count go through a lookup table (one pass);
    strings through Arrow when pyarrow is installed: ids written as one prefix and digits
    (``370602…``, ``v1024``) are parsed from Arrow's own buffers as integers and coded as those
    (no string is hashed), any other strings dictionary-encoded (three times pandas' speed: the
    hashing runs on Arrow's string buffers, not Python objects);
    other values through pandas' hash-based factorize when pandas is installed, numpy's
    sort-based ``unique`` otherwise. All give the same sorted uniques (strings in code point
    order, as Python sorts them) and so the same codes. Missing values (``None``, ``NaN``) are
    refused.
    """
    if values.dtype.kind in "iu" and len(values):
        low, high = int(values.min()), int(values.max())
        if high < 1 << 63 and _dense(low, high, len(values)):  # a table over the range
            codes, uniques, _ = _table_codes(values.astype(np.int64), low, high)
            return codes, uniques.astype(values.dtype)
    if values.dtype == object or values.dtype.kind == "U":
        strings = _arrow_strings(values)
        if strings is not None:
            codes, ids = _arrow_factorize(strings)
            return codes, ids.to_numpy()
    pd = pandas(required=False)
    if pd is not None:
        codes, uniques = pd.factorize(values, sort=True, use_na_sentinel=True)
        codes = np.asarray(codes, dtype=np.int64)
        if len(codes) and int(codes.min()) < 0:
            i = int(np.flatnonzero(codes < 0)[0])
            raise InvalidValue(f"[{i}]", values[i], "缺少值 / a value is missing")
        return codes, np.asarray(uniques)
    if values.dtype == object:
        for i, v in enumerate(values):
            if v is None or (isinstance(v, float) and v != v):
                raise InvalidValue(f"[{i}]", v, "缺少值 / a value is missing")
    elif values.dtype.kind == "f" and bool(np.isnan(values).any()):
        i = int(np.flatnonzero(np.isnan(values))[0])
        raise InvalidValue(f"[{i}]", values[i], "缺少值 / a value is missing")
    uniques, inverse = np.unique(values, return_inverse=True)
    return np.asarray(inverse, dtype=np.int64).reshape(-1), uniques
