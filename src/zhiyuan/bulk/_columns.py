"""Columnar input: :class:`Columns`, the one shape every bulk function reads.

A :class:`Columns` value holds one numpy array per field, all of one length, with the text
fields already turned into small integer codes. Build it with :meth:`Columns.of` from a mapping
of columns (lists, numpy arrays, pandas Series), a pandas DataFrame, or anything with a
``to_pandas()`` method (a pyarrow Table, a polars DataFrame). A DataFrame's other columns are
ignored; a mapping with an unknown key is refused (a misspelt column never falls back silently
to its default).

Fields and their encodings (times are int64 epoch seconds, days int64 days since 1970-01-01):

``volunteer``
    any ids (ints or strings), factorized to codes into the sorted ``volunteer_ids``.
``start``, ``end``
    the service interval, epoch seconds (or timezone-aware pandas datetimes). The Shanghai service
    date of an instant ``t`` is ``(t + 8 h) // 86400`` days after 1970-01-01: China has kept UTC+8
    all year since 1991, and bulk functions take times from 2000 on (as the object path does).
``evidence``
    :class:`~zhiyuan.hours.Evidence` members, their values (``"qr_scan"``) or codes into
    :data:`EVIDENCE`.
``category``
    strings, factorized to codes into ``categories`` (or codes with ``categories=`` given, or a
    pandas categorical).
``scheduled_minutes``
    the activity's scheduled duration in minutes; ``-1`` (or a missing value) for none.
``scheduled_start``
    when the activity's schedule starts, epoch seconds; ``-1`` (or missing) for "at the row's
    start". Top-ups and missed check-outs count only the schedule window.
``checkout_missing``
    bools: the volunteer did not check out.
``recorded_at``
    when the record was entered, epoch seconds; ``-1`` (or missing) for "when posted".
``region``
    the service region code, carried along unchanged (not used by the rules); a categorical
    (text read from a frame) stays one, a :class:`~zhiyuan.bulk.Coded`.
``day``
    the service date as a day number (or ``datetime64[D]``, or ``date`` objects); when absent,
    it is computed from ``start``.
``minutes``, ``weighted_minutes``
    counted (and category-weighted) minutes of certified rows, for star ratings.
``purposes``
    bits of :data:`PURPOSES` (``1 << i`` for ``PURPOSES[i]``) a row counts toward.
``certified_at``
    when a row counted as certified, epoch seconds; ``-1`` (or missing) for none (points are then
    posted at the end of the service day, as :func:`~zhiyuan.credit.convert` posts them).
``record_id``
    the rows' record ids (any ids), carried along: points order a volunteer's rows posted at one
    moment by them (without them, by row order).
``status``
    the rows' :class:`~zhiyuan.hours.Status` (members, their values ``"accepted"`` …, or codes
    into :data:`STATUSES`), as :func:`~zhiyuan.bulk.evaluate_hours_frame` adds it: star ratings
    count only accepted rows, as the ledger counts only accepted records.

Aliases accepted on input: ``volunteer_id``, ``region_code``, ``service_date``,
``counted_minutes`` (for ``volunteer``, ``region``, ``day``, ``minutes``); results name their
columns as the input named them (:attr:`Columns.names`).

The source may be a pandas or polars DataFrame or an Arrow table; a pandas frame's index is kept
(:attr:`Columns.index`) so that results line up with the rows they came from.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from zhiyuan._validators import items_of
from zhiyuan.bulk import _frames
from zhiyuan.errors import InvalidValue, show
from zhiyuan.hours.policy import Purpose, Status
from zhiyuan.hours.records import Evidence

__all__ = [
    "DAY",
    "EVIDENCE",
    "MIN_TIME",
    "NONE",
    "PURPOSES",
    "SHANGHAI_OFFSET",
    "STATUSES",
    "Columns",
    "day_number",
    "epoch_seconds",
    "ids_as_read",
    "purpose_bits",
]

I64 = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
AnyArray = npt.NDArray[Any]

EVIDENCE: tuple[Evidence, ...] = tuple(Evidence)
"""Evidence codes: code ``i`` is ``EVIDENCE[i]`` (the order of :class:`~zhiyuan.hours.Evidence`)."""

STATUSES: tuple[Status, ...] = (Status.ACCEPTED, Status.NEEDS_APPROVAL, Status.REJECTED)
"""Status codes: code ``i`` is ``STATUSES[i]``."""

PURPOSES: tuple[Purpose, ...] = tuple(Purpose)
"""Purpose bits: bit ``1 << i`` is ``PURPOSES[i]`` (stars 1, points 2, reports 4)."""

NONE = -1
"""The code for "none" in ``scheduled_minutes`` and ``recorded_at``."""

DAY = 86400
SHANGHAI_OFFSET = 8 * 3600
"""Asia/Shanghai is UTC+8 all year since 1991: day ``n`` starts at ``n·86400 − 8 h`` epoch."""

MIN_TIME = 946656000 - SHANGHAI_OFFSET
"""2000-01-01 00:00 in Asia/Shanghai, as epoch seconds: bulk times start here."""

_ALIASES = {
    "volunteer_id": "volunteer",
    "region_code": "region",
    "service_date": "day",
    "counted_minutes": "minutes",
}
_INT_FIELDS = (
    "start",
    "end",
    "scheduled_minutes",
    "scheduled_start",
    "recorded_at",
    "certified_at",
    "day",
    "minutes",
    "weighted_minutes",
    "purposes",
)
_OPTIONAL_INTS = ("scheduled_minutes", "scheduled_start", "recorded_at", "certified_at")
_KNOWN = frozenset(
    {
        "volunteer",
        "evidence",
        "category",
        "checkout_missing",
        "region",
        "record_id",
        "status",
        *_INT_FIELDS,
    }
)


def epoch_seconds(moment: datetime, field: str = "now") -> int:
    """An aware datetime as whole epoch seconds (naive datetimes are refused)."""
    if not isinstance(moment, datetime) or moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidValue(field, str(moment), "需要带时区的时间 / need an aware datetime")
    return (moment - _EPOCH) // timedelta(seconds=1)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def day_number(day: date) -> int:
    """Days since 1970-01-01."""
    return day.toordinal() - _ORD_1970


_ORD_1970 = date(1970, 1, 1).toordinal()


def purpose_bits(purposes: Iterable[Purpose]) -> int:
    """The bits of a set of purposes."""
    return sum(1 << PURPOSES.index(p) for p in set(purposes))


def _array(name: str, values: object) -> AnyArray:
    if _frames.is_series(values):
        out = _frames.series_values(name, values)
        return out.decoded() if isinstance(out, _frames.Coded) else out
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise InvalidValue(name, arr.shape, "需要一维列 / a column is one-dimensional")
    return arr


def _ints(name: str, values: AnyArray, *, optional: bool = False) -> I64:
    arr = values
    if arr.dtype == object:
        try:
            arr = np.array(
                [NONE if optional and v is None else v for v in arr.tolist()], dtype=np.int64
            )
        except (TypeError, ValueError, OverflowError):
            raise InvalidValue(name, str(values[:3]), "需要整数 / need whole numbers") from None
    kind = arr.dtype.kind
    if kind in "iu":
        return arr.astype(np.int64, copy=False)
    if kind == "f":
        nan = np.isnan(arr)
        if optional:
            arr = np.where(nan, float(NONE), arr)
        elif bool(nan.any()):
            i = int(np.flatnonzero(nan)[0])
            raise InvalidValue(f"{name}[{i}]", None, "缺少值 / a value is missing")
        whole = arr.astype(np.int64)
        if not bool((whole == arr).all()):
            i = int(np.flatnonzero(whole != arr)[0])
            raise InvalidValue(f"{name}[{i}]", float(arr[i]), "需要整数 / need a whole number")
        return whole
    if kind == "M":
        if name == "day":
            return arr.astype("datetime64[D]").astype(np.int64)
        raise InvalidValue(
            name, str(arr.dtype), "缺少时区 / naive datetimes: give epoch seconds or aware times"
        )
    raise InvalidValue(name, str(arr.dtype), "需要整数 / need whole numbers")


def _bools(name: str, values: AnyArray) -> Bools:
    arr = values
    if arr.dtype == object:
        arr = np.array(arr.tolist())
    if arr.dtype.kind == "b":
        return arr.astype(bool, copy=False)
    if arr.dtype.kind in "iu" and bool(np.isin(arr, (0, 1)).all()):
        return arr.astype(bool)
    raise InvalidValue(name, str(arr.dtype), "需要布尔值 / need bools")


def _members(name: str, values: AnyArray, members: tuple[Any, ...], what: str) -> I64:
    """Codes into ``members`` (enum members) from codes, members or their values."""
    if values.dtype.kind in "iu":
        codes = values.astype(np.int64, copy=False)
        if len(codes) and (int(codes.min()) < 0 or int(codes.max()) >= len(members)):
            i = int(np.flatnonzero((codes < 0) | (codes >= len(members)))[0])
            raise InvalidValue(
                f"{name}[{i}]", int(codes[i]), f"{what}代码为 0–{len(members) - 1} / a code"
            )
        return codes
    lookup: dict[object, int] = {}
    for i, member in enumerate(members):
        lookup[member] = lookup[member.value] = i
    objects = np.asarray(values, dtype=object)
    try:
        inverse, uniques = _frames.factorize(objects)
    except TypeError:  # members and strings mixed: no order, map one by one
        inverse, uniques = np.arange(len(objects), dtype=np.int64), objects
    table = np.empty(len(uniques), dtype=np.int64)
    for i, u in enumerate(uniques.tolist()):
        if u not in lookup:
            raise InvalidValue(
                name, u, f"未知的{what} / unknown; one of {', '.join(m.value for m in members)}"
            )
        table[i] = lookup[u]
    return table[inverse]


def _labelled(name: str, value: object, members: tuple[Any, ...], what: str) -> I64:
    """A column of enum members however it comes (a categorical through its few names)."""
    if isinstance(value, _frames.Coded):
        if len(value.codes) and int(value.codes.min()) < 0:
            i = int(np.flatnonzero(value.codes < 0)[0])
            raise InvalidValue(f"{name}[{i}]", None, "缺少值 / a value is missing")
        table = _members(name, np.asarray(value.names, dtype=object), members, what)
        return table[value.codes]
    return _members(name, _array(name, value), members, what)


def _day_values(values: object) -> AnyArray:
    arr = _array("day", values)
    if arr.dtype == object and len(arr) and isinstance(arr[0], date):
        if any(isinstance(v, datetime) for v in arr):
            raise InvalidValue("day", "datetime", "需要日期 / need dates (not datetimes)")
        return np.array(arr.tolist(), dtype="datetime64[D]")
    return arr


def _check_codes(name: str, codes: I64, size: int) -> None:
    if len(codes) and (int(codes.min()) < 0 or int(codes.max()) >= size):
        i = int(np.flatnonzero((codes < 0) | (codes >= size))[0])
        raise InvalidValue(
            f"{name}[{i}]", int(codes[i]), f"代码超出范围 / a code outside 0–{size - 1}"
        )


def _names(value: object) -> tuple[str, ...]:
    return items_of("categories", str, value)


# The dtype each encoded column must have (``volunteer_ids`` and ``region``: any 1-D array).
_DTYPES: dict[str, type[np.generic]] = {
    "checkout_missing": np.bool_,
    "status": np.int8,
    **dict.fromkeys(("volunteer", "evidence", "category", *_INT_FIELDS), np.int64),
}


_NOT_ARRAYS = frozenset({"categories", "index", "names"})
_MAY_BE_CODED = frozenset({"region"})


def _check_array(field: attrs.Attribute[Any], value: object) -> None:
    """A constructor argument is a one-dimensional array of its column's dtype (or ``None``
    where the column is optional)."""
    if field.name in _NOT_ARRAYS or (value is None and field.default is None):
        return
    if field.name == "_volunteer_ids" and isinstance(value, _frames.LazyIds):
        return  # Arrow strings, made into a numpy array when first read
    if field.name in _MAY_BE_CODED and isinstance(value, _frames.Coded):
        value = value.codes
    if not isinstance(value, np.ndarray) or value.ndim != 1:
        raise InvalidValue(
            field.alias or field.name,
            value,
            "需要一维 numpy 数组（用 Columns.of 构建）/ need a one-dimensional numpy array "
            "(build with Columns.of)",
            shown=show(value),
        )
    want = _DTYPES.get(field.name)
    if want is not None and value.dtype != want:
        raise InvalidValue(
            field.alias or field.name,
            str(value.dtype),
            f"需要 {np.dtype(want)} 数组（用 Columns.of 构建）/ need an array of "
            f"{np.dtype(want)} (build with Columns.of)",
        )


@attrs.frozen(kw_only=True, eq=False)
class Columns:
    """Service records or certified rows as equal-length numpy columns (see the module doc).

    Only ``volunteer`` and ``volunteer_ids`` are always present; the other fields are ``None``
    when the source had no such column. Build with :meth:`of` (which factorizes ids and text);
    the constructor takes arrays already encoded and checks their lengths and code ranges.

    Example:
        >>> cols = Columns.of({"volunteer": ["v2", "v1", "v2"], "start": [0, 0, 0],
        ...                    "evidence": ["qr_scan", "gps", "qr_scan"],
        ...                    "category": ["助老", "环保", "助老"]})
        >>> cols.volunteer.tolist(), cols.volunteer_ids.tolist()
        ([1, 0, 1], ['v1', 'v2'])
        >>> cols.evidence.tolist(), cols.categories, len(cols)
        ([1, 2, 1], ('助老', '环保'), 3)

    Attributes:
        index: the source's pandas index (``None`` for other sources), for lining results up.
        names: the source's own names of columns it gave under an alias (``{"volunteer":
            "volunteer_id"}``), so that results keep them.
    """

    volunteer: I64
    _volunteer_ids: AnyArray | _frames.LazyIds
    start: I64 | None = None
    end: I64 | None = None
    evidence: I64 | None = None
    category: I64 | None = None
    categories: tuple[str, ...] = attrs.field(default=(), converter=_names)
    scheduled_minutes: I64 | None = None
    scheduled_start: I64 | None = None
    checkout_missing: Bools | None = None
    recorded_at: I64 | None = None
    region: AnyArray | _frames.Coded | None = None
    certified_at: I64 | None = None
    record_id: AnyArray | None = None
    day: I64 | None = None
    minutes: I64 | None = None
    weighted_minutes: I64 | None = None
    purposes: I64 | None = None
    status: npt.NDArray[np.int8] | None = None
    index: Any = None
    names: Mapping[str, str] = attrs.field(factory=dict)

    def __attrs_post_init__(self) -> None:
        for f in attrs.fields(Columns):
            _check_array(f, getattr(self, f.name))
        n = len(self.volunteer)
        for f in attrs.fields(Columns):
            v = getattr(self, f.name)
            v = v.codes if isinstance(v, _frames.Coded) else v
            if isinstance(v, np.ndarray) and f.name != "_volunteer_ids" and len(v) != n:
                raise InvalidValue(
                    f.name, len(v), f"列长度应为 {n} / every column has the same length ({n})"
                )
        _check_codes("volunteer", self.volunteer, len(self._volunteer_ids))
        if self.evidence is not None:
            _check_codes("evidence", self.evidence, len(EVIDENCE))
        if self.category is not None:
            _check_codes("category", self.category, len(self.categories))
        if self.status is not None:
            _check_codes("status", self.status.astype(np.int64), len(STATUSES))

    def __len__(self) -> int:
        return len(self.volunteer)

    @property
    def volunteer_ids(self) -> AnyArray:
        """The distinct volunteer ids, sorted: ``volunteer`` holds codes into them. Ids read from
        Arrow strings (a polars frame, a pandas frame of ``str``, an Arrow table) are made into
        Python strings the first time this is read."""
        return _frames.materialized(self._volunteer_ids)

    @classmethod
    def of(
        cls,
        source: object,
        *,
        categories: Sequence[str] | None = None,
        volunteer_ids: Sequence[Any] | AnyArray | None = None,
    ) -> Columns:
        """Columns from a mapping of columns, a pandas or polars DataFrame, an Arrow table, or an
        object with ``to_pandas()``.

        Args:
            source: the columns (a :class:`Columns` is returned as it is). A mapping may hold
                only known columns (a misspelt one is an error, not a silent default); a
                frame may hold others, which are ignored.
            categories: names for a ``category`` column given as integer codes.
            volunteer_ids: when given, ``volunteer`` holds codes into it (no factorizing: the
                fast way in for ids that are already dense numbers).
        """
        if isinstance(source, Columns):
            return source
        raw: Mapping[str, object]
        strict = False
        index = _frames.frame_index(source)
        if _frames.frame_kind(source) is not None:
            raw = _frames.frame_columns(source)
        elif isinstance(source, Mapping):
            raw, strict = source, True
        elif hasattr(source, "to_pandas"):
            raw = _frames.frame_columns(source.to_pandas())
        else:
            raise InvalidValue(
                "columns",
                type(source).__name__,
                "需要列的映射或 DataFrame / need a mapping of columns or a DataFrame",
            )
        cols: dict[str, object] = {}
        given: dict[str, str] = {}
        for key, value in raw.items():
            name = _ALIASES.get(str(key), str(key))
            if name != str(key):
                given[name] = str(key)
            if name in cols:
                raise InvalidValue(str(key), name, "列重复 / the same column twice")
            if name not in _KNOWN:
                if strict:
                    raise InvalidValue(
                        str(key),
                        None,
                        f"未知的列 / unknown column; known: {', '.join(sorted(_KNOWN))}",
                    )
                continue
            cols[name] = value
        if "volunteer" not in cols:
            raise InvalidValue("volunteer", None, "缺少志愿者列 / the volunteer column is missing")
        fields: dict[str, Any] = {"index": index, "names": given}
        vol = cols["volunteer"]
        if volunteer_ids is not None:
            fields["volunteer"] = _ints("volunteer", _array("volunteer", vol))
            fields["volunteer_ids"] = np.asarray(volunteer_ids)
        elif isinstance(vol, _frames.Coded):
            fields["volunteer"], fields["volunteer_ids"] = vol.codes, vol.distinct
        else:
            fields["volunteer"], fields["volunteer_ids"] = _frames.factorize(
                _array("volunteer", vol)
            )
        if "category" in cols:
            cat = cols["category"]
            if isinstance(cat, _frames.Coded):
                fields["category"], names = cat.codes, cat.names
            else:
                arr = _array("category", cat)
                if arr.dtype.kind in "iu":
                    if categories is None and len(arr) == 0:
                        categories = ()
                    if categories is None:
                        raise InvalidValue(
                            "categories",
                            None,
                            "类别为代码时须给出名称 / category codes need categories=",
                        )
                    fields["category"], names = arr.astype(np.int64), np.asarray(categories)
                else:
                    fields["category"], names = _frames.factorize(arr)
            fields["categories"] = tuple(str(c) for c in names)
        for name in _INT_FIELDS:
            if name in cols:
                values = _day_values(cols[name]) if name == "day" else cols[name]
                if isinstance(values, _frames.Coded):
                    raise InvalidValue(name, "categorical", "需要整数 / need whole numbers")
                fields[name] = _ints(name, _array(name, values), optional=name in _OPTIONAL_INTS)
        if "evidence" in cols:
            fields["evidence"] = _labelled("evidence", cols["evidence"], EVIDENCE, "记录依据")
        if "status" in cols:
            codes = _labelled("status", cols["status"], STATUSES, "状态")
            fields["status"] = codes.astype(np.int8)
        if "checkout_missing" in cols:
            fields["checkout_missing"] = _bools(
                "checkout_missing", _array("checkout_missing", cols["checkout_missing"])
            )
        if "region" in cols:  # carried along as it is
            region = cols["region"]
            fields["region"] = (
                region if isinstance(region, _frames.Coded) else _array("region", region)
            )
        if "record_id" in cols:
            rid = cols["record_id"]
            fields["record_id"] = (
                rid.decoded() if isinstance(rid, _frames.Coded) else _array("record_id", rid)
            )
        return cls(**fields)

    def get(self, name: str) -> AnyArray:
        """A column that must be present (a clear error names it otherwise); ``day`` is
        computed from ``start`` when not given (:meth:`service_days`).

        Example:
            >>> Columns.of({"volunteer": ["v1"], "start": [1740790800]}).get("day").tolist()
            [20148]
        """
        if name == "day":
            return self.service_days()
        value = getattr(self, name, None)
        if not isinstance(value, np.ndarray):
            raise InvalidValue(name, None, f"缺少 {name} 列 / the {name} column is missing")
        return value

    def service_days(self) -> I64:
        """The service date of each row as a day number: ``day``, or computed from ``start``."""
        if self.day is not None:
            return self.day
        start = self.get("start")
        return (start + SHANGHAI_OFFSET) // DAY

    def to_pandas(self) -> Any:
        """A DataFrame with decoded ids, evidence values and category names (needs pandas)."""
        return self.to_frame("pandas")

    def to_frame(self, kind: str = "pandas") -> Any:
        """A frame of ``kind`` (``"pandas"``, ``"polars"`` or ``"pyarrow"``) with decoded ids,
        evidence, categories and status as categoricals, the source's column names and (pandas)
        index.

        Example:
            >>> cols = Columns.of({"volunteer_id": ["v2", "v1"], "start": [0, 0]})
            >>> cols.to_frame("polars").columns
            ['volunteer_id', 'start']
        """
        out: dict[str, AnyArray | _frames.Coded] = {
            self.names.get("volunteer", "volunteer"): self.volunteer_ids[self.volunteer]
        }
        labels = {
            "evidence": tuple(e.value for e in EVIDENCE),
            "category": self.categories,
            "status": tuple(s.value for s in STATUSES),
        }
        for f in attrs.fields(Columns):
            v = getattr(self, f.name)
            if f.name in ("volunteer", "_volunteer_ids"):
                continue
            if isinstance(v, _frames.Coded):
                out[self.names.get(f.name, f.name)] = v
                continue
            if not isinstance(v, np.ndarray):
                continue
            name = self.names.get(f.name, f.name)
            if f.name in labels:
                out[name] = _frames.Coded(v.astype(np.int64), np.asarray(labels[f.name]))
            else:
                out[name] = v
        return _frames.make_frame(out, kind=kind, index=self.index)


def ids_as_read(cols: Columns) -> AnyArray | _frames.LazyIds:
    """``cols.volunteer_ids`` as :meth:`Columns.of` read them: still Arrow strings
    (:class:`~zhiyuan.bulk._frames.LazyIds`) when the source's ids were, so that a result can
    carry them out to a frame without making a Python string of each."""
    return cols._volunteer_ids
