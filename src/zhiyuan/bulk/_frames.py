"""The pandas boundary of :mod:`zhiyuan.bulk`: every use of pandas goes through here.

pandas is optional (the ``pandas`` extra) and ships no type information, so it is imported lazily,
by name, and typed as ``Any`` on this side of the boundary only; what crosses it is numpy arrays
and plain Python values. Nothing here is imported unless a DataFrame is given or asked for.
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np
import numpy.typing as npt

from zhiyuan.errors import InvalidValue

__all__ = [
    "Coded",
    "factorize",
    "frame_columns",
    "is_frame",
    "is_series",
    "make_frame",
    "pandas",
    "series_values",
]

DATE_COLUMNS = frozenset({"day", "service_date"})
"""Columns of dates (not instants): naive datetimes are fine there."""

_MISSING = object()
_pd: Any = _MISSING


def pandas(*, required: bool = True) -> Any:
    """The pandas module, or ``None`` when it is not installed and not ``required``."""
    global _pd
    if _pd is _MISSING:
        try:
            _pd = importlib.import_module("pandas")
        except ImportError:
            _pd = None
    if _pd is None and required:
        raise InvalidValue(
            "pandas",
            None,
            "需要 pandas（pip install 'zhiyuan[pandas]'）/ this needs pandas",
        )
    return _pd


def _module_of(obj: object) -> str:
    return type(obj).__module__.partition(".")[0]


def is_frame(obj: object) -> bool:
    """True for a pandas DataFrame (checked without importing pandas)."""
    return _module_of(obj) == "pandas" and type(obj).__name__ == "DataFrame"


def is_series(obj: object) -> bool:
    """True for a pandas Series (checked without importing pandas)."""
    return _module_of(obj) == "pandas" and type(obj).__name__ == "Series"


class Coded:
    """A column already given as codes into names (a pandas categorical)."""

    __slots__ = ("codes", "names")

    def __init__(self, codes: npt.NDArray[np.int64], names: npt.NDArray[Any]) -> None:
        self.codes = codes
        self.names = names


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
    if pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype):
        return np.asarray(s.to_numpy(dtype=object))
    return np.asarray(s.to_numpy())


def frame_columns(df: Any) -> dict[str, npt.NDArray[Any] | Coded]:
    """A DataFrame's columns as numpy values (see :func:`series_values`)."""
    return {str(c): series_values(str(c), df[c]) for c in df.columns}


def make_frame(columns: dict[str, npt.NDArray[Any]]) -> Any:
    """A DataFrame from equal-length numpy columns (no copy where pandas can avoid one)."""
    return pandas().DataFrame(columns, copy=False)


def factorize(values: npt.NDArray[Any]) -> tuple[npt.NDArray[np.int64], npt.NDArray[Any]]:
    """Codes and sorted unique values: ``uniques[codes] == values``.

    Integers in a range at most a few times the row count go through a lookup table (one pass);
    other values through pandas' hash-based factorize when pandas is installed, numpy's
    sort-based ``unique`` otherwise. All three give the same sorted uniques and so the same codes. Missing values (``None``,
    ``NaN``) are refused.
    """
    if values.dtype.kind in "iu" and len(values):
        low, high = int(values.min()), int(values.max())
        if high < 1 << 63 and high - low < max(4 * len(values), 1 << 20):  # dense: a table
            offset = values.astype(np.int64) - low
            present = np.zeros(high - low + 1, dtype=bool)
            present[offset] = True
            rank = np.cumsum(present, dtype=np.int64) - 1
            return rank[offset], (np.flatnonzero(present) + low).astype(values.dtype)
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
