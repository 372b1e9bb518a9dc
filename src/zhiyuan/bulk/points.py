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
from typing import Any

import numpy as np
import numpy.typing as npt

from zhiyuan._validators import SHANGHAI
from zhiyuan.bulk._columns import EVIDENCE
from zhiyuan.credit.conversion import ConversionPolicy
from zhiyuan.errors import InvalidValue
from zhiyuan.hours.policy import Rounding
from zhiyuan.hours.records import Evidence

__all__ = [
    "EVIDENCE_KINDS",
    "conversion_mask",
    "convert_points",
    "end_of_day",
    "record_order",
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


def _non_negative(name: str, a: IntArray) -> None:
    if len(a) and int(a.min()) < 0:
        raise InvalidValue(name, int(a.min()), "需要非负整数 / need a whole number ≥ 0")


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
    days = _ints("service_day", service_day)
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
    ids = list(np.asarray(record_ids, dtype=object).tolist())
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
    days = _ints("service_day", service_day)
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
        InvalidValue: a column of the wrong length or kind, a code out of range, negative
            minutes, ``weighted_minutes`` missing under a weighted policy, or two converting rows
            of one volunteer with the same posting time and record order (one record twice).
        OverflowError: the points, or their running sums per volunteer, pass int64 (over 2**61).
        NotImplementedError: a converting row posted in an hour the Asia/Shanghai clock repeats
            (the ends of daylight saving, last in 1991): :func:`~zhiyuan.credit.convert` orders
            datetimes in one zone by wall clock, so there its order is not the instants'.
    """
    vol = _ints("volunteer", volunteer)
    n = len(vol)
    days = _ints("service_day", service_day, n)
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
    v_after, v_before = _value(policy, after), _value(policy, before)
    if policy.carry:
        raw = _round(policy, v_after) - _round(policy, v_before)
    else:
        raw = _round(policy, v_after - v_before)
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
    out[idx] = pts
    return out


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
    per_unit = policy._lcm * policy.points_per_hour
    den = policy._denominator()
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


def _value(policy: ConversionPolicy, credit: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """``policy._value`` elementwise: tier bands as a piecewise-linear sum."""
    num: npt.NDArray[Any] | None = None
    lcm = policy._lcm
    for lower, upper, hpp in policy._bands:
        part = np.maximum(credit - lower, 0)
        if upper is not None:
            part = np.minimum(part, upper - lower)
        term = part * (lcm // hpp)
        num = term if num is None else num + term
    assert num is not None
    return num * policy.points_per_hour


def _round(policy: ConversionPolicy, num: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """``policy._round`` elementwise, in integers."""
    den = policy._denominator()
    if policy.rounding is Rounding.DOWN:
        return num // den
    if policy.rounding is Rounding.UP:
        return -(-num // den)
    return (2 * num + den) // (2 * den)


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
