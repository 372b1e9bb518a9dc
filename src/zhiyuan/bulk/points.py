"""Columnar conversion of certified hours into points (工时折算积分, 列式).

:func:`convert_points`, the twin of :func:`~zhiyuan.credit.convert`, evaluates a
:class:`~zhiyuan.credit.ConversionPolicy` over plain numpy arrays, one element per certified row,
and returns the points each row earns, in the input order, equal row for row to
``[r.points for r in convert(rows, policy).rows]`` (reordered to the input). It is the
whole-history form of :func:`~zhiyuan.credit.convert` (no ``already``): every row of a volunteer
must be in the call, and the result depends on nothing else, so a history partitioned by
volunteer (Dask, Spark) converts partition by partition.

The arithmetic is the object path's, vectorized, in integers only:

1. Which rows convert (:func:`conversion_mask`): served on or after ``effective_from``; the
   evidence among ``policy.evidence``, or, when that is ``None``, the row counted toward
   :attr:`Purpose.POINTS <zhiyuan.hours.Purpose.POINTS>`; the category among
   ``policy.categories`` when set. The other rows earn 0 and move nothing.
2. The converting rows are ordered per volunteer by posting time (``certified_at``), then record
   id (``record_order``). (Posting times in an hour the Asia/Shanghai clock repeated, at the end
   of daylight saving before 1992, raise :class:`NotImplementedError`: the object path orders
   those by wall clock.)
3. Credit in minute-percents (minutes × category percent, the weighted minutes when
   ``policy.weighted``) is summed per volunteer; its exact value ``V(C)`` is piecewise linear in
   the tier bands, an integer over the policy's common denominator (``6000 × lcm`` of the bands'
   hours per point).
4. With carry a row earns ``R(V(C after)) − R(V(C before))``; without, ``R(V(after) −
   V(before))``, ``R`` being floor, ceiling or half-up division by the denominator.
5. The caps by service day, month, year and lifetime are clipped cumulative sums per window, in
   that order. (The object path takes, for each row, the least room left in its four windows;
   the windows nest, so clipping the day sums, then the month sums of what is left, and so on
   gives the same points: once an outer window cuts a row it is full, and every later row of the
   inner windows inside it earns nothing under either reading.)

Intermediates are int64 when a bound on the largest one fits, Python integers (object arrays)
otherwise, so no policy is ever approximated.

Encoding the columns:
    - ``volunteer``: integer codes, one per volunteer (``np.unique(ids, return_inverse=True)``).
    - ``service_day``: the service date in days since 1970-01-01 (``date.toordinal() - 719163``,
      or ``datetime64[D]`` as integers).
    - ``certified_at``: the posting time as integer seconds since the epoch, or as
      ``datetime64`` (``datetime64[us]`` when certifications carry fractions of a second: the
      object path orders by them). It is the row's ``certified_at``; for a row without one,
      :func:`end_of_day` of its service day, as :func:`~zhiyuan.credit.convert` posts it at
      23:59:59 of the service date.
    - ``record_order``: integers ordered as the record ids are (:func:`record_order`).
    - ``minutes``, ``weighted_minutes``: whole minutes ≥ 0.
    - ``evidence``: codes into ``evidence_kinds`` (default :data:`~zhiyuan.bulk.EVIDENCE`, the
      declaration order of :class:`~zhiyuan.hours.Evidence`).
    - ``points_purpose``: booleans, the row counts toward ``Purpose.POINTS`` (its ``purposes``).
    - ``category``: codes into ``categories``, a tuple of category names.

Example:
    >>> import numpy as np
    >>> from zhiyuan.credit import CONVERSION_PROFILES
    >>> day = np.array([20148, 20149, 20150, 20151])   # 2025-03-01 … 03-04
    >>> convert_points(
    ...     volunteer=np.zeros(4, dtype=np.int64),
    ...     service_day=day,
    ...     certified_at=day * 86400 + 12 * 3600,           # 20:00 in Shanghai
    ...     record_order=np.arange(4),
    ...     minutes=np.full(4, 60),
    ...     evidence=np.full(4, EVIDENCE_KINDS.index(Evidence.QR_SCAN)),
    ...     points_purpose=np.ones(4, dtype=bool),
    ...     category=np.zeros(4, dtype=np.int64),
    ...     categories=("助老",),
    ...     policy=CONVERSION_PROFILES["rongcheng"],        # 4 h = 1 point, carried
    ... ).tolist()
    [0, 0, 0, 1]
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from zhiyuan._validators import MAX_YEAR, MIN_YEAR, MINUTES, SHANGHAI, moment
from zhiyuan.bulk import _frames
from zhiyuan.bulk._columns import EVIDENCE, NONE, PURPOSES, Columns
from zhiyuan.credit.conversion import ConversionPolicy
from zhiyuan.credit.ledger import MAX_AMOUNT, _within
from zhiyuan.errors import InvalidValue
from zhiyuan.hours.policy import Purpose
from zhiyuan.hours.records import Evidence

__all__ = [
    "EVIDENCE_KINDS",
    "NEVER",
    "LotBalances",
    "Spent",
    "conversion_mask",
    "convert_points",
    "convert_points_frame",
    "end_of_day",
    "lot_balances",
    "points_of",
    "record_order",
    "spend_lots",
]

EVIDENCE_KINDS: tuple[Evidence, ...] = EVIDENCE
"""The default evidence coding (the one of :data:`zhiyuan.bulk.EVIDENCE`)."""

_CENTI = 100
_HOUR = 60 * _CENTI
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_FIXED_FROM = date(1992, 1, 1).toordinal() - _EPOCH_ORDINAL
"""From 1992 on Asia/Shanghai is UTC+8 all year (no daylight saving since 1991)."""
_INT64_SAFE = 2**62
"""Intermediates stay below this to run in int64 (a factor 2 of headroom for the bound)."""

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


# --- column checks ----------------------------------------------------------------------------


def _ints(name: str, value: npt.ArrayLike, n: int | None = None) -> IntArray:
    a = np.asarray(value)
    if a.ndim != 1:
        raise InvalidValue(name, a.shape, "需要一维数组 / need a one-dimensional array")
    if n is not None and len(a) != n:
        raise InvalidValue(name, len(a), f"长度应为 {n} / need length {n}")
    if a.dtype.kind not in "iu":
        if len(a) == 0:
            return np.zeros(0, dtype=np.int64)
        raise InvalidValue(name, str(a.dtype), "需要整数数组 / need an integer array")
    if a.dtype.kind == "u" and a.dtype.itemsize >= 8 and len(a) and int(a.max()) >= 2**63:
        raise InvalidValue(name, int(a.max()), "超出 int64 / beyond int64")
    return a.astype(np.int64, copy=False)


def _bools(name: str, value: npt.ArrayLike, n: int) -> BoolArray:
    a = np.asarray(value)
    if a.ndim != 1 or len(a) != n:
        raise InvalidValue(name, a.shape, f"需要长度 {n} 的一维数组 / need a 1-D array of {n}")
    if a.dtype.kind != "b":
        if len(a) == 0:
            return np.zeros(0, dtype=np.bool_)
        raise InvalidValue(name, str(a.dtype), "需要布尔数组 / need a boolean array")
    return a


def _codes(name: str, value: npt.ArrayLike, n: int, size: int) -> IntArray:
    a = _ints(name, value, n)
    if len(a) and (int(a.min()) < 0 or int(a.max()) >= size):
        bad = int(a.min()) if int(a.min()) < 0 else int(a.max())
        raise InvalidValue(name, bad, f"编码应在 0–{size - 1} / codes run 0 to {size - 1}")
    return a


def _non_negative(name: str, a: IntArray, top: int = MINUTES) -> None:
    if len(a) and int(a.min()) < 0:
        raise InvalidValue(name, int(a.min()), "需要非负整数 / need a whole number ≥ 0")
    if len(a) and int(a.max()) > top:
        raise InvalidValue(name, int(a.max()), f"至多 {top} / at most {top}")


_FIRST_DAY = date(MIN_YEAR, 1, 1).toordinal() - date(1970, 1, 1).toordinal()
_LAST_DAY = date(MAX_YEAR, 12, 31).toordinal() - date(1970, 1, 1).toordinal()


def _days(name: str, value: npt.ArrayLike, n: int | None = None) -> IntArray:
    """Service dates as days since 1970-01-01, in the years the object path accepts."""
    a = _ints(name, value, n)
    if len(a) and (int(a.min()) < _FIRST_DAY or int(a.max()) > _LAST_DAY):
        bad = int(a.min()) if int(a.min()) < _FIRST_DAY else int(a.max())
        raise InvalidValue(
            name, bad, f"年份须在 {MIN_YEAR}–{MAX_YEAR} / years {MIN_YEAR} to {MAX_YEAR}"
        )
    return a


def _policy(value: object) -> ConversionPolicy:
    if not isinstance(value, ConversionPolicy):
        raise InvalidValue("policy", type(value).__name__, "需要 ConversionPolicy / need one")
    return value


def _names(name: str, value: object) -> tuple[str, ...]:
    """The category names: a sequence of text (a single string is refused)."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise InvalidValue(name, value, "需要名称序列 / need a sequence of names")
    out = tuple(value)
    for x in out:
        if not isinstance(x, str):
            raise InvalidValue(name, x, "需要文字 / need text")
    return out


def _kinds(value: object) -> tuple[Evidence, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise InvalidValue("evidence_kinds", value, "需要 Evidence 序列 / need a sequence")
    out = tuple(value)
    for x in out:
        if not isinstance(x, Evidence):
            raise InvalidValue("evidence_kinds", x, "需要 Evidence / need Evidence members")
    return out


_SUBSECOND = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}


def _instants(name: str, value: npt.ArrayLike, n: int) -> tuple[IntArray, int]:
    """Posting times as integers, and how many of them make a second.

    Integers are epoch seconds; ``datetime64`` values keep their unit from seconds down to
    nanoseconds (coarser units become seconds).
    """
    a = np.asarray(value)
    if a.dtype.kind != "M":
        return _ints(name, a, n), 1
    if a.ndim != 1 or len(a) != n:
        raise InvalidValue(name, a.shape, f"需要长度 {n} 的一维数组 / need a 1-D array of {n}")
    if np.isnat(a).any():
        raise InvalidValue(name, "NaT", "缺认证时间：用 end_of_day / no time: use end_of_day")
    unit = np.datetime_data(a.dtype)[0]
    if unit not in _SUBSECOND:
        if unit in ("ps", "fs", "as"):
            raise InvalidValue(name, str(a.dtype), "最细到纳秒 / nanoseconds at the finest")
        a, unit = a.astype("datetime64[s]"), "s"
    return a.view(np.int64), _SUBSECOND[unit]


@functools.cache
def _repeated_hours() -> tuple[tuple[int, int], ...]:
    """Epoch-second spans whose Asia/Shanghai wall clock repeats (a clock set back), before 1992.

    Within such a span the wall clock does not order as the instants do.
    """

    def offset(ts: int) -> timedelta:
        off = datetime.fromtimestamp(ts, SHANGHAI).utcoffset()
        assert off is not None
        return off

    out: list[tuple[int, int]] = []
    day = 86400
    ts = int(datetime(1899, 1, 1, tzinfo=UTC).timestamp())
    end = _FIXED_FROM * day
    while ts < end:
        o1, o2 = offset(ts), offset(ts + day)
        if o2 < o1:
            lo, hi = ts, ts + day  # offset(lo) == o1, offset(hi) == o2: find the switch
            while hi - lo > 1:
                mid = (lo + hi) // 2
                lo, hi = (mid, hi) if offset(mid) == o1 else (lo, mid)
            back = int((o1 - o2).total_seconds())
            out.append((hi - back, hi + back))
        ts += day
    return tuple(out)


def _refuse_repeated_hours(at: IntArray, per_second: int) -> None:
    early = at[at < _FIXED_FROM * 86400 * per_second]
    if not len(early):
        return
    for lo, hi in _repeated_hours():
        hit = early[(early >= lo * per_second) & (early < hi * per_second)]
        if len(hit):
            raise NotImplementedError(
                "posting times in an hour the Asia/Shanghai clock repeats (daylight saving, last "
                f"in 1991; epoch {int(hit[0]) // per_second} s): convert() orders these by wall "
                "clock, not by instant / 夏令时回拨的重复时段"
            )


# --- helpers for encoding -----------------------------------------------------------------------


def end_of_day(service_day: npt.ArrayLike) -> IntArray:
    """Epoch seconds of 23:59:59 in Asia/Shanghai on each service day (days since 1970-01-01).

    The posting time :func:`~zhiyuan.credit.convert` gives a row certified without a time.

    Example:
        >>> from datetime import datetime
        >>> end_of_day([20148]).tolist() == [int(datetime(2025, 3, 1, 23, 59, 59,
        ...                                   tzinfo=SHANGHAI).timestamp())]
        True
    """
    days = _days("service_day", service_day)
    out = days * 86400 + (86400 - 1 - 8 * 3600)
    early = days < _FIXED_FROM
    if early.any():
        for d in np.unique(days[early]).tolist():
            local = datetime.combine(date.fromordinal(d + _EPOCH_ORDINAL), time(23, 59, 59))
            out[days == d] = int(local.replace(tzinfo=SHANGHAI).timestamp())
    return out


def record_order(record_ids: Sequence[str] | npt.ArrayLike) -> IntArray:
    """Integer ranks that order as the record ids (Python ``str`` order); equal ids, equal ranks.

    Example:
        >>> record_order(["r10", "r9", "r10", "a"]).tolist()
        [1, 2, 1, 0]
    """
    if isinstance(record_ids, (str, bytes)):
        raise InvalidValue("record_ids", record_ids, "需要编号序列 / need a sequence of ids")
    a = np.asarray(record_ids, dtype=object)
    if a.ndim != 1:
        raise InvalidValue("record_ids", a.shape, "需要一维序列 / need a one-dimensional sequence")
    ids = list(a.tolist())
    for rid in ids:
        if not isinstance(rid, str):
            raise InvalidValue("record_ids", rid, "需要字符串 / need strings")
    if any(rid.endswith("\x00") for rid in ids):  # numpy strings drop trailing NULs
        ranks = {rid: k for k, rid in enumerate(sorted(set(ids)))}
        return np.array([ranks[rid] for rid in ids], dtype=np.int64)
    _, inverse = np.unique(np.array(ids, dtype=str), return_inverse=True)
    return inverse.astype(np.int64).reshape(-1)


def conversion_mask(
    policy: ConversionPolicy,
    *,
    service_day: npt.ArrayLike,
    evidence: npt.ArrayLike,
    points_purpose: npt.ArrayLike,
    category: npt.ArrayLike,
    categories: Sequence[str],
    evidence_kinds: Sequence[Evidence] = EVIDENCE_KINDS,
) -> BoolArray:
    """Which rows convert under ``policy``, columnar.

    Row for row :meth:`ConversionPolicy.converts <zhiyuan.credit.ConversionPolicy.converts>`.

    Example:
        >>> from zhiyuan.credit import CONVERSION_PROFILES
        >>> kinds = (Evidence.QR_SCAN, Evidence.ADMIN_TOPUP)
        >>> conversion_mask(CONVERSION_PROFILES["huangshi"], service_day=[20148, 20148],
        ...     evidence=[0, 1], points_purpose=[True, True], category=[0, 0],
        ...     categories=("助老",), evidence_kinds=kinds).tolist()
        [True, False]
    """
    policy = _policy(policy)
    categories = _names("categories", categories)
    evidence_kinds = _kinds(evidence_kinds)
    days = _days("service_day", service_day)
    n = len(days)
    ev = _codes("evidence", evidence, n, len(evidence_kinds))
    cat = _codes("category", category, n, len(categories))
    purpose = _bools("points_purpose", points_purpose, n)
    start = policy.effective_from.toordinal() - _EPOCH_ORDINAL
    ok: BoolArray = days >= start
    if policy.evidence is None:
        ok &= purpose
    else:
        allowed = np.array([k in policy.evidence for k in evidence_kinds], dtype=np.bool_)
        ok &= allowed[ev]
    if policy.categories is not None:
        counted = np.array([c in policy.categories for c in categories], dtype=np.bool_)
        ok &= counted[cat]
    return ok


# --- the conversion -----------------------------------------------------------------------------


def convert_points(
    *,
    volunteer: npt.ArrayLike,
    service_day: npt.ArrayLike,
    certified_at: npt.ArrayLike,
    record_order: npt.ArrayLike,
    minutes: npt.ArrayLike,
    evidence: npt.ArrayLike,
    points_purpose: npt.ArrayLike,
    category: npt.ArrayLike,
    categories: Sequence[str],
    policy: ConversionPolicy,
    weighted_minutes: npt.ArrayLike | None = None,
    evidence_kinds: Sequence[Evidence] = EVIDENCE_KINDS,
) -> IntArray:
    """Points per row under ``policy``, in the input order: :func:`~zhiyuan.credit.convert`'s
    ``RowConversion.points`` for a whole history, columnar (see the module doc for the columns).

    Args:
        volunteer: volunteer codes.
        service_day: service dates, days since 1970-01-01.
        certified_at: posting times, integer epoch seconds or ``datetime64`` (any unit from
            days down to nanoseconds).
        record_order: integers in record-id order (:func:`record_order`), one record per row.
        minutes: counted minutes.
        evidence: evidence codes into ``evidence_kinds``.
        points_purpose: the row counts toward ``Purpose.POINTS``.
        category: category codes into ``categories``.
        categories: the category names.
        policy: the conversion policy.
        weighted_minutes: the hour policy's weighted minutes; needed when ``policy.weighted``.
        evidence_kinds: the evidence coding (default :data:`~zhiyuan.bulk.EVIDENCE`).

    Returns:
        An int64 array of points, one per row.

    Raises:
        InvalidValue: a column of the wrong length or kind, a code out of range, minutes
            outside 0 to a year's, a service day outside 1900–2199, ``weighted_minutes``
            missing under a weighted policy, two converting rows of one volunteer with the same
            posting time and record order (one record twice), or a row earning more than
            :data:`~zhiyuan.credit.ledger.MAX_AMOUNT` (which :func:`~zhiyuan.credit.convert`
            refuses to post).
        OverflowError: the points, or their running sums per volunteer, pass int64 (over 2**61;
            the bounds of the policy and of the columns leave this out of reach).
        NotImplementedError: a converting row posted in an hour the Asia/Shanghai clock repeats
            (the ends of daylight saving, last in 1991): :func:`~zhiyuan.credit.convert` orders
            datetimes in one zone by wall clock, so there its order is not the instants'.
    """
    policy = _policy(policy)
    categories = _names("categories", categories)
    evidence_kinds = _kinds(evidence_kinds)
    vol = _ints("volunteer", volunteer)
    n = len(vol)
    days = _days("service_day", service_day, n)
    at, per_second = _instants("certified_at", certified_at, n)
    order = _ints("record_order", record_order, n)
    if policy.weighted:
        if weighted_minutes is None:
            raise InvalidValue(
                "weighted_minutes",
                None,
                "按加权时长折算须给出加权分钟 / a weighted policy needs the weighted minutes",
            )
        mins = _ints("weighted_minutes", weighted_minutes, n)
        _non_negative("minutes", _ints("minutes", minutes, n))
        _non_negative("weighted_minutes", mins)
    else:
        mins = _ints("minutes", minutes, n)
        _non_negative("minutes", mins)
        if weighted_minutes is not None:
            _non_negative("weighted_minutes", _ints("weighted_minutes", weighted_minutes, n))
    cat = _codes("category", category, n, len(categories))
    ok = conversion_mask(
        policy,
        service_day=days,
        evidence=evidence,
        points_purpose=points_purpose,
        category=cat,
        categories=categories,
        evidence_kinds=evidence_kinds,
    )
    out = np.zeros(n, dtype=np.int64)
    idx = np.flatnonzero(ok)
    if len(idx) == 0:
        return out

    # order: per volunteer, by posting time, then record id
    _refuse_repeated_hours(at[idx], per_second)
    idx = idx[_processing_order(vol[idx], at[idx], order[idx])]
    v, t, o = vol[idx], at[idx], order[idx]
    m = len(idx)
    first = np.empty(m, dtype=np.bool_)
    first[0] = True
    np.not_equal(v[1:], v[:-1], out=first[1:])
    tie = ~first[1:] & (t[1:] == t[:-1]) & (o[1:] == o[:-1])
    if tie.any():
        k = int(np.flatnonzero(tie)[0])
        raise InvalidValue(
            "record_order",
            int(o[k]),
            "同一志愿者两行的认证时间与记录序号相同（同一记录两次？）/ two rows of one volunteer "
            "share posting time and record order (one record twice?)",
        )

    percents = [policy.multiplier(c) for c in categories]
    mins = mins[idx]
    pct_of = cat[idx]
    starts = np.flatnonzero(first)
    exact = _needs_python_ints(policy, mins, pct_of, percents, starts)
    if exact:
        units: npt.NDArray[Any] = mins.astype(object) * np.array(percents, dtype=object)[pct_of]
    else:
        units = mins * np.array(percents, dtype=np.int64)[pct_of]

    after = _group_cumsum(units, starts)
    before = after - units
    v_after, v_before = policy.value(after), policy.value(before)
    if policy.carry:
        raw = policy.round_value(v_after) - policy.round_value(v_before)
    else:
        raw = policy.round_value(v_after - v_before)
    if exact:
        try:
            raw = raw.astype(np.int64)
        except OverflowError:
            raise OverflowError(
                "a row earns more points than int64 holds / 积分超出 int64"
            ) from None

    pts: IntArray = raw
    if exact and float(np.abs(raw.astype(np.float64)).sum()) >= _INT64_SAFE / 2:
        raise OverflowError("points issued exceed what int64 holds / 积分超出 int64")
    dd = days[idx]
    for cap, window in (
        (policy.daily_cap, "D"),
        (policy.monthly_cap, "M"),
        (policy.yearly_cap, "Y"),
        (policy.lifetime_cap, None),
    ):
        if cap is None:
            continue
        key = None if window is None else _window(dd, window)
        pts = _cap(pts, min(cap, _INT64_SAFE), first, starts, key)
    if int(pts.max()) > MAX_AMOUNT:  # what convert() refuses to post (Posting.amount)
        raise InvalidValue(
            "amount", int(pts.max()), f"一条记录至多 {MAX_AMOUNT} 分 / at most {MAX_AMOUNT} a row"
        )
    out[idx] = pts
    return out


_POINTS_BIT = 1 << PURPOSES.index(Purpose.POINTS)


def points_of(rows: object, policy: ConversionPolicy) -> IntArray:
    """Points per row of counted rows given as columns (:meth:`~zhiyuan.bulk.Columns.of`: a
    mapping, a pandas or polars DataFrame, an Arrow table), in the rows' order: the columns of
    :func:`convert_points` read from their usual names.

    The rows need ``volunteer``, ``day`` (or ``start``), ``minutes`` (or ``counted_minutes``),
    ``evidence``, ``category`` and ``purposes``, and ``weighted_minutes`` under a weighted
    policy; ``certified_at`` (default: the end of the service day) and ``record_id`` (default:
    row order) order a volunteer's rows. With a ``status`` column (as
    :func:`~zhiyuan.bulk.evaluate_hours_frame` adds it) only accepted rows earn points, so the
    frame of evaluated records converts as the ledger's certified rows do.

    Example:
        >>> from zhiyuan.credit import CONVERSION_PROFILES
        >>> rows = {"volunteer": ["v1"] * 4, "day": [20148, 20149, 20150, 20151],
        ...         "minutes": [60] * 4, "evidence": ["qr_scan"] * 4, "category": ["助老"] * 4,
        ...         "purposes": [7] * 4}
        >>> points_of(rows, CONVERSION_PROFILES["rongcheng"]).tolist()   # 4 h = 1 point
        [0, 0, 0, 1]
    """
    cols = Columns.of(rows)
    n = len(cols)
    day = cols.service_days()
    at = end_of_day(day) if n else np.zeros(0, dtype=np.int64)
    if cols.certified_at is not None:
        at = np.where(cols.certified_at != NONE, cols.certified_at, at)
    order = np.arange(n, dtype=np.int64) if cols.record_id is None else record_order(cols.record_id)
    idx = np.flatnonzero(cols.status == 0) if cols.status is not None else np.arange(n)
    weighted = cols.weighted_minutes
    out = np.zeros(n, dtype=np.int64)
    out[idx] = convert_points(
        volunteer=cols.volunteer[idx],
        service_day=day[idx],
        certified_at=at[idx],
        record_order=order[idx],
        minutes=cols.get("minutes")[idx],
        evidence=cols.get("evidence")[idx],
        points_purpose=(cols.get("purposes")[idx] & _POINTS_BIT) != 0,
        category=cols.get("category")[idx],
        categories=cols.categories,
        policy=policy,
        weighted_minutes=None if weighted is None else weighted[idx],
    )
    return out


def convert_points_frame(frame: Any, policy: ConversionPolicy) -> Any:
    """:func:`points_of` on a frame: the frame with a ``points`` column added, as the same kind
    (pandas with its index, polars, Arrow). It chains with
    :func:`~zhiyuan.bulk.evaluate_hours_frame`: records in, points per record out.

    Example:
        >>> import polars as pl
        >>> from zhiyuan.credit import CONVERSION_PROFILES
        >>> rows = pl.DataFrame({"volunteer": ["v1", "v1"], "day": [20148, 20149],
        ...                      "minutes": [120, 120], "evidence": ["qr_scan"] * 2,
        ...                      "category": ["助老"] * 2, "purposes": [7, 7]})
        >>> convert_points_frame(rows, CONVERSION_PROFILES["rongcheng"])["points"].to_list()
        [0, 1]
    """
    return _frames.with_columns(frame, {"points": points_of(frame, policy)})


def _span(a: IntArray) -> tuple[int, int]:
    lo = int(a.min())
    return lo, int(a.max()) - lo + 1


def _dense(a: IntArray) -> IntArray:
    """Ranks 0, 1, … in the order of ``a`` (equal values, equal ranks)."""
    inverse = np.unique(a, return_inverse=True)[1]
    return inverse.astype(np.int64, copy=False).reshape(-1)


def _processing_order(v: IntArray, t: IntArray, o: IntArray) -> IntArray:
    """The permutation sorting rows by (volunteer, posting time, record order).

    One argsort of a combined int64 key when the three ranges fit in it; else of (volunteer,
    time), with the runs of equal (volunteer, time) put in record order afterwards. Times (then
    volunteers) spread too widely for that key (microseconds, hashed codes) are ranked first.
    The order of rows equal in all three keys is left open.
    """
    (v0, rv), (t0, rt), (o0, ro) = _span(v), _span(t), _span(o)
    if rv * rt >= 2**63:
        t = _dense(t)
        t0, rt = _span(t)
    if rv * rt >= 2**63:
        v = _dense(v)
        v0, rv = _span(v)
    if rv * rt * ro < 2**63:
        return np.argsort(((v - v0) * rt + (t - t0)) * ro + (o - o0))
    key = (v - v0) * rt + (t - t0)
    perm = np.argsort(key)
    ks = key[perm]
    same = ks[1:] == ks[:-1]
    if same.any():
        in_run = np.zeros(len(ks), dtype=np.bool_)
        in_run[1:] |= same
        in_run[:-1] |= same
        pos = np.flatnonzero(in_run)  # runs are contiguous: sorting them by (key, order) in place
        perm[pos] = perm[pos][np.lexsort((o[perm[pos]], ks[pos]))]
    return perm


def _needs_python_ints(
    policy: ConversionPolicy,
    mins: IntArray,
    pct_of: IntArray,
    percents: list[int],
    starts: IntArray,
) -> bool:
    """True unless every intermediate provably fits int64.

    The largest intermediate is ``2 V + den`` (half-up rounding), with ``V ≤ C × lcm × pph`` for a
    volunteer's total credit ``C``; the bound is taken crudely in exact integers first, then per
    volunteer in floats with a margin.
    """
    per_unit = policy.steepest
    den = policy.denominator
    top = max(percents, default=0)
    if 2 * int(mins.max()) * top * len(mins) * per_unit + den < _INT64_SAFE:
        return False
    units = mins.astype(np.float64) * np.array(percents, dtype=np.float64)[pct_of]
    most = float(np.add.reduceat(units, starts).max()) * 1.001 + 1.0
    return 2.0 * most * per_unit + den >= _INT64_SAFE / 2


def _group_cumsum(x: npt.NDArray[Any], starts: IntArray) -> npt.NDArray[Any]:
    """Running sums of ``x`` restarting at each of the positions ``starts`` (the first is 0)."""
    total: npt.NDArray[Any] = np.cumsum(x)
    base = (total - x)[starts]
    counts = np.diff(np.append(starts, len(x)))
    out: npt.NDArray[Any] = total - np.repeat(base, counts)
    return out


def _window(days: IntArray, unit: str) -> IntArray:
    """Days since 1970-01-01 as months (``"M"``) or years (``"Y"``) since 1970, or as they are."""
    if unit == "D":
        return days
    return days.astype("datetime64[D]").astype(f"datetime64[{unit}]").astype(np.int64)


def _cap(
    pts: IntArray, cap: int, first: BoolArray, starts: IntArray, key: IntArray | None
) -> IntArray:
    """Clip ``pts`` (in processing order) so no window's running sum passes ``cap``.

    Windows are the volunteer (``key`` is ``None``) or (volunteer, ``key``); within a window each
    row gets ``min(points, max(cap − issued before it, 0))``.
    """
    if key is None:
        issued_before = _group_cumsum(pts, starts) - pts
        return np.minimum(pts, np.maximum(cap - issued_before, 0))
    group = np.cumsum(first) - 1
    span = int(key.max()) - int(key.min()) + 1
    composite = group * span + (key - int(key.min()))
    perm = np.argsort(composite, kind="stable")
    comp = composite[perm]
    p = pts[perm]
    new = np.empty(len(p), dtype=np.bool_)
    new[0] = True
    np.not_equal(comp[1:], comp[:-1], out=new[1:])
    issued_before = _group_cumsum(p, np.flatnonzero(new)) - p
    clipped = np.minimum(p, np.maximum(cap - issued_before, 0))
    out = np.empty_like(pts)
    out[perm] = clipped
    return out


# --- the points ledger, columnar ----------------------------------------------------------------

NEVER: int = int(np.iinfo(np.int64).max)
"""``expires_at`` of a lot that never expires, in integer columns (``NaT`` in ``datetime64``)."""

_MICRO = 1_000_000
_FIRST_SECOND = int(datetime(MIN_YEAR, 1, 1, tzinfo=SHANGHAI).timestamp())
_END_SECOND = int(datetime(MAX_YEAR + 1, 1, 1, tzinfo=SHANGHAI).timestamp())


def _moments(name: str, value: npt.ArrayLike, n: int, *, never: bool = False) -> IntArray:
    """Moments as int64 microseconds since the epoch (what a Python ``datetime`` resolves).

    Integers are epoch seconds, ``datetime64`` values any unit (finer than microseconds are cut
    to them); ``NEVER`` (integers) or ``NaT`` mark "never" where ``never`` allows it. Every
    other moment falls in the years the object path accepts (1900–2199).
    """
    a = np.asarray(value)
    if a.ndim != 1 or len(a) != n:
        raise InvalidValue(name, a.shape, f"需要长度 {n} 的一维数组 / need a 1-D array of {n}")
    if a.dtype.kind == "M":
        nat = np.isnat(a)
        out = a.astype("datetime64[us]").view(np.int64).copy()
        out[nat] = NEVER
    else:
        if len(a) == 0:
            return np.zeros(0, dtype=np.int64)
        secs = _ints(name, a, n)
        nat = secs == NEVER
        ok = nat | ((secs >= _FIRST_SECOND) & (secs < _END_SECOND))
        if not ok.all():
            bad = int(secs[~ok][0])
            raise InvalidValue(
                name, bad, f"年份须在 {MIN_YEAR}–{MAX_YEAR} / years {MIN_YEAR} to {MAX_YEAR}"
            )
        out = np.where(nat, NEVER, secs * _MICRO)
    if nat.any() and not never:
        raise InvalidValue(name, "never", "须有时间 / a moment is required")
    inside = out[~nat]
    low, high = _FIRST_SECOND * _MICRO, _END_SECOND * _MICRO
    if len(inside) and (int(inside.min()) < low or int(inside.max()) >= high):
        bad = int(inside.min()) if int(inside.min()) < low else int(inside.max())
        raise InvalidValue(
            name, bad, f"年份须在 {MIN_YEAR}–{MAX_YEAR} / years {MIN_YEAR} to {MAX_YEAR}"
        )
    return out.astype(np.int64, copy=False)


def _moment(name: str, value: object) -> int:
    """One moment as int64 microseconds: an aware ``datetime``, epoch seconds or a
    ``datetime64``."""
    if isinstance(value, datetime):
        at = moment(value, name)
        return (at - _EPOCH) // timedelta(microseconds=1)
    if isinstance(value, (bool, np.bool_)) or not isinstance(
        value, (int, np.integer, np.datetime64)
    ):
        raise InvalidValue(
            name, value, "需要带时区的时间或纪元秒 / need an aware datetime or epoch seconds"
        )
    return int(_moments(name, np.array([value]), 1)[0])


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _amounts(name: str, value: npt.ArrayLike, n: int, *, low: int) -> IntArray:
    a = _ints(name, value, n)
    if len(a) and (int(a.min()) < low or int(a.max()) > MAX_AMOUNT):
        bad = int(a.min()) if int(a.min()) < low else int(a.max())
        raise InvalidValue(
            name, bad, f"须为 {low} 到 {MAX_AMOUNT} 的整数 / a whole number, {low} to {MAX_AMOUNT}"
        )
    return a


class Spent(NamedTuple):
    """What :func:`spend_lots` took: points per lot (input order) and whether each spend was made."""

    taken: IntArray
    done: BoolArray


def spend_lots(
    *,
    volunteer: npt.ArrayLike,
    remaining: npt.ArrayLike,
    opened_at: npt.ArrayLike,
    available_from: npt.ArrayLike,
    expires_at: npt.ArrayLike,
    spender: npt.ArrayLike,
    amount: npt.ArrayLike,
    at: object,
    owed: npt.ArrayLike | None = None,
) -> Spent:
    """Spends at one moment, columnar: the twin of :meth:`PointsLedger.spend
    <zhiyuan.credit.PointsLedger.spend>` (and of what it takes: :func:`~zhiyuan.credit.spending_order`).

    The lots are the volunteers' open lots in posting order (:meth:`PointsLedger.lots
    <zhiyuan.credit.PointsLedger.lots>`), one row each; the spends one row per spending
    volunteer. A spend is made when the volunteer's lots usable at ``at`` (past
    ``available_from``, before ``expires_at``) hold ``amount`` less what the volunteer owes
    (``owed``, zero or negative, as the ``owed:`` account stands), else it takes nothing (the
    object path raises :class:`~zhiyuan.errors.InsufficientBalance`). A made spend takes from
    the usable lots in the spending order: the soonest expiry first, never-expiring lots last,
    then the earliest ``opened_at``, then the first in posting order. Spends at later moments
    are later calls, with ``remaining - taken``.

    Args:
        volunteer: each lot's volunteer code.
        remaining: points left in each lot (0 to :data:`~zhiyuan.credit.ledger.MAX_AMOUNT`).
        opened_at, available_from: moments (epoch seconds or ``datetime64``).
        expires_at: moments, :data:`NEVER` (or ``NaT``) for a lot that never expires.
        spender: the volunteer code of each spend, each at most once.
        amount: the points of each spend (1 to ``MAX_AMOUNT``).
        at: the moment of the spends: an aware datetime, epoch seconds or a ``datetime64``.
        owed: each spender's ``owed:`` balance (≤ 0; default 0).

    Returns:
        :class:`Spent`: ``taken`` per lot and ``done`` per spend.

    Example:
        >>> from datetime import datetime
        >>> t = lambda m: int(datetime(2025, m, 1, tzinfo=SHANGHAI).timestamp())
        >>> spend_lots(volunteer=[0, 0, 0], remaining=[30, 20, 10],
        ...            opened_at=[t(1), t(3), t(2)], available_from=[t(1), t(3), t(2)],
        ...            expires_at=[t(12), NEVER, t(6)], spender=[0], amount=[45],
        ...            at=t(4)).taken.tolist()      # June's lot first, then December's, then never
        [30, 5, 10]
    """
    vol = _ints("volunteer", volunteer)
    n = len(vol)
    rem = _amounts("remaining", remaining, n, low=0)
    opened = _moments("opened_at", opened_at, n)
    avail = _moments("available_from", available_from, n)
    expires = _moments("expires_at", expires_at, n, never=True)
    who = _ints("spender", spender)
    m = len(who)
    want = _amounts("amount", amount, m, low=1)
    debt = np.zeros(m, dtype=np.int64) if owed is None else _ints("owed", owed, m)
    if m and int(debt.max()) > 0:
        raise InvalidValue("owed", int(debt.max()), "欠分不能为正 / what is owed is ≤ 0")
    if m and int(debt.min()) < -(2**62):
        raise InvalidValue("owed", int(debt.min()), "超出范围 / out of range")
    when = _moment("at", at)
    taken = np.zeros(n, dtype=np.int64)
    if m == 0:
        return Spent(taken, np.zeros(0, dtype=np.bool_))
    by_code = np.argsort(who, kind="stable")
    codes = who[by_code]
    if m > 1 and (codes[1:] == codes[:-1]).any():
        k = int(np.flatnonzero(codes[1:] == codes[:-1])[0])
        raise InvalidValue(
            "spender", int(codes[k]), "每位志愿者每次至多一笔 / one spend per volunteer per call"
        )
    pos = np.minimum(np.searchsorted(codes, vol), m - 1)
    spends = codes[pos] == vol
    usable = spends & (rem > 0) & (avail <= when) & (when < expires)
    free = np.zeros(m, dtype=np.int64)
    np.add.at(free, pos[usable], rem[usable])
    made = free + debt[by_code] >= want[by_code]  # in code order
    done = np.empty(m, dtype=np.bool_)
    done[by_code] = made
    idx = np.flatnonzero(usable & made[pos])
    if len(idx):
        order = idx[np.lexsort((idx, opened[idx], expires[idx], vol[idx]))]
        v = vol[order]
        first = np.empty(len(order), dtype=np.bool_)
        first[0] = True
        np.not_equal(v[1:], v[:-1], out=first[1:])
        r = rem[order]
        before = _group_cumsum(r, np.flatnonzero(first)) - r
        wanted = want[by_code][pos[order]]
        taken[order] = np.clip(wanted - before, 0, r)
    return Spent(taken, done)


class LotBalances(NamedTuple):
    """Points per volunteer at a moment, from the lots: :func:`lot_balances`.

    ``volunteer`` holds the codes (sorted, each once); the other arrays are aligned with it.
    ``owed`` is not a lot's: a volunteer's :class:`~zhiyuan.credit.Balances` adds the
    ``owed:`` account's balance.
    """

    volunteer: IntArray
    available: IntArray
    pending: IntArray
    expiring_soon: IntArray
    expired_unswept: IntArray


def lot_balances(
    *,
    volunteer: npt.ArrayLike,
    remaining: npt.ArrayLike,
    available_from: npt.ArrayLike,
    expires_at: npt.ArrayLike,
    as_of: object,
    within_days: int = 30,
) -> LotBalances:
    """Available, pending, expiring and expired-unswept points per volunteer at ``as_of``,
    columnar: the twin of :func:`~zhiyuan.credit.fold_balances` (without ``owed``).

    A lot's points are expired when ``expires_at <= as_of``, else pending when
    ``available_from > as_of``, else available, and then expiring soon when ``expires_at`` is
    at most ``within_days`` days after ``as_of``. Columns as in :func:`spend_lots`; the lots are
    those open at ``as_of`` with what they hold then.

    Example:
        >>> from datetime import datetime
        >>> t = lambda m: int(datetime(2025, m, 1, tzinfo=SHANGHAI).timestamp())
        >>> b = lot_balances(volunteer=[7, 7, 7], remaining=[5, 6, 7],
        ...                  available_from=[t(1), t(5), t(1)], expires_at=[t(2), NEVER, t(4)],
        ...                  as_of=t(3), within_days=31)
        >>> [x.tolist() for x in b]
        [[7], [7], [6], [7], [5]]
    """
    vol = _ints("volunteer", volunteer)
    n = len(vol)
    rem = _amounts("remaining", remaining, n, low=0)
    avail = _moments("available_from", available_from, n)
    expires = _moments("expires_at", expires_at, n, never=True)
    when = _moment("as_of", as_of)
    days = _within(within_days)
    soon = when + days * 86_400 * _MICRO
    codes, inverse = np.unique(vol, return_inverse=True)
    inverse = inverse.reshape(-1)
    expired = expires <= when
    pending = ~expired & (avail > when)
    available = ~expired & ~pending
    expiring = available & (expires <= soon)

    def per(mask: BoolArray) -> IntArray:
        out = np.zeros(len(codes), dtype=np.int64)
        np.add.at(out, inverse[mask], rem[mask])
        return out

    return LotBalances(
        codes.astype(np.int64, copy=False),
        per(available),
        per(pending),
        per(expiring),
        per(expired),
    )
