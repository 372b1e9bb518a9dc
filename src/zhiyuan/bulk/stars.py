"""Star levels over columns: :func:`rate_stars`, the twin of :meth:`StarScheme.rate_many`.

Counting is one masked ``np.bincount`` over factorized volunteer codes (the memory-bandwidth
floor: each row is read once); levels are a ``searchsorted`` over the thresholds, then the extra
conditions per level (months since registration, the level held, a clean record) as array
expressions over volunteers. Every volunteer's level, counted minutes, next level, minutes
missing and unmet conditions equal :meth:`~zhiyuan.scoring.StarScheme.rate_many` on the same rows.

Example:
    >>> from datetime import date, datetime
    >>> from zhiyuan import SHANGHAI
    >>> from zhiyuan.scoring import STAR_PROFILES
    >>> rows = {"volunteer": ["v1", "v2", "v1"], "day": [date(2024, 5, 1)] * 3,
    ...         "minutes": [500 * 60, 90 * 60, 63 * 60], "purposes": [1, 1, 1]}
    >>> r = rate_stars(rows, STAR_PROFILES["national"], datetime(2025, 1, 1, tzinfo=SHANGHAI))
    >>> r.volunteer_ids.tolist(), r.level.tolist(), r.minutes_missing.tolist()
    (['v1', 'v2'], [2, 0], [2220, 600])
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt
from dateutil.relativedelta import relativedelta

from zhiyuan._validators import SHANGHAI
from zhiyuan.bulk import _frames, _parallel
from zhiyuan.bulk._columns import EVIDENCE, PURPOSES, Columns, day_number, ids_as_read
from zhiyuan.errors import InvalidValue
from zhiyuan.hours.policy import Purpose
from zhiyuan.scoring.stars import StarScheme, months_since

__all__ = ["UNMET_LABELS", "UNMET_RULES", "StarColumns", "rate_stars", "rate_stars_frame"]

I64 = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
AnyArray = npt.NDArray[Any]

UNMET_RULES: tuple[str, ...] = ("stars.months", "stars.sequential", "stars.clean")
"""Bits of ``StarColumns.unmet``: bit ``1 << i`` is ``UNMET_RULES[i]`` (as in ``StarRating.unmet``)."""

UNMET_LABELS: npt.NDArray[Any] = np.array(
    [
        "+".join(r for i, r in enumerate(UNMET_RULES) if bits >> i & 1)
        for bits in range(1 << len(UNMET_RULES))
    ],
    dtype=object,
)
"""The label of each value of ``StarColumns.unmet``: its rules' ids joined by ``+``."""

_STARS_BIT = 1 << PURPOSES.index(Purpose.STARS)

PerVolunteer = Mapping[Any, Any] | Sequence[Any] | AnyArray | None
"""A value per rated volunteer: an array in the order of the rated volunteers, a mapping from
volunteer id, or a pandas Series indexed by volunteer id."""


@attrs.frozen(kw_only=True, eq=False)
class StarColumns:
    """Per-volunteer results of :func:`rate_stars`, as :class:`~zhiyuan.scoring.StarRating` fields.

    Attributes:
        level: the level each may apply for (0: none).
        counted_minutes: the minutes that count under the scheme on ``as_of``.
        next_level: the next level, ``0`` at the top (``StarRating.next_level is None``).
        minutes_missing: minutes short of the next level.
        unmet: bits of :data:`UNMET_RULES`: conditions other than hours that block the next level.
        scheme: the scheme's name.
        as_of: the rating date (Asia/Shanghai).
        volunteer_column: the name of the ids' column in frames (the input's own name).
    """

    _volunteer_ids: AnyArray | _frames.LazyIds
    level: npt.NDArray[np.int8]
    counted_minutes: I64
    next_level: npt.NDArray[np.int8]
    minutes_missing: I64
    unmet: npt.NDArray[np.int8]
    scheme: str
    as_of: date
    volunteer_column: str = "volunteer"

    def __len__(self) -> int:
        return len(self.level)

    @property
    def volunteer_ids(self) -> AnyArray:
        """The rated volunteers. Ids read from Arrow strings (a polars frame, a pandas frame of
        ``str``, an Arrow table) are made into Python strings the first time this is read;
        :meth:`to_frame` gives them to the frame as its own strings, without making them."""
        return _frames.materialized(self._volunteer_ids)

    def as_dict(self) -> dict[str, AnyArray]:
        """The columns by name (:attr:`volunteer_column` for the ids), ``unmet`` as bits."""
        return {self.volunteer_column: self.volunteer_ids, **self._values()}

    def _values(self) -> dict[str, AnyArray]:
        """The columns other than the ids, by name."""
        return {
            "level": self.level,
            "counted_minutes": self.counted_minutes,
            "next_level": self.next_level,
            "minutes_missing": self.minutes_missing,
            "unmet": self.unmet,
        }

    def labelled(self) -> dict[str, AnyArray | _frames.Coded]:
        """The columns by name, ``unmet`` as a labelled categorical: the unmet rules' ids
        joined by ``+`` (``"stars.months+stars.clean"``), empty when nothing else blocks.

        Example:
            >>> from zhiyuan import SHANGHAI
            >>> from zhiyuan.scoring import STAR_PROFILES
            >>> rows = {"volunteer": ["v1"], "day": [20148], "minutes": [7000], "purposes": [7]}
            >>> out = rate_stars(rows, STAR_PROFILES["longgang"],
            ...                  datetime(2025, 3, 2, tzinfo=SHANGHAI),
            ...                  registered_on=[date(2025, 1, 1)])
            >>> out.labelled()["unmet"].decoded().tolist()
            ['stars.months']
        """
        return {**self.as_dict(), "unmet": self._unmet_labelled()}

    def _unmet_labelled(self) -> _frames.Coded:
        return _frames.Coded(self.unmet.astype(np.int64), UNMET_LABELS)

    def to_pandas(self) -> Any:
        """The columns as a DataFrame (needs pandas), ``unmet`` labelled (:meth:`labelled`).

        Example:
            >>> from zhiyuan import SHANGHAI
            >>> rows = {"volunteer_id": ["v1"], "day": [date(2025, 1, 2)], "minutes": [6000],
            ...         "purposes": [7]}
            >>> out = rate_stars(rows, None, datetime(2025, 3, 1, tzinfo=SHANGHAI))
            >>> frame = out.to_pandas()
            >>> frame.columns.tolist()[:3], frame["level"].tolist(), frame["unmet"].tolist()
            (['volunteer_id', 'level', 'counted_minutes'], [1], [''])
        """
        return self.to_frame("pandas")

    def to_frame(self, kind: str = "pandas") -> Any:
        """The columns as a frame of ``kind`` (``"pandas"``, ``"polars"`` or ``"pyarrow"``).

        Example:
            >>> from zhiyuan import SHANGHAI
            >>> rows = {"volunteer": ["v1"], "day": [20148], "minutes": [6000], "purposes": [7]}
            >>> table = rate_stars(rows, None, datetime(2025, 3, 2, tzinfo=SHANGHAI))
            >>> table.to_frame("pyarrow").column("level").to_pylist()
            [1]
        """
        # the ids as read (still Arrow strings from a frame: no Python string is made)
        columns = {self.volunteer_column: self._volunteer_ids, **self._values()}
        return _frames.make_frame({**columns, "unmet": self._unmet_labelled()}, kind=kind)


def _as_of_day(as_of: datetime) -> date:
    if not isinstance(as_of, datetime) or as_of.tzinfo is None or as_of.utcoffset() is None:
        raise InvalidValue("as_of", str(as_of), "需要带时区的时间 / need an aware datetime")
    return as_of.astimezone(SHANGHAI).date()


def _positions(ids: AnyArray, among: AnyArray) -> I64:
    """The index of each of ``ids`` in ``among`` (``-1`` where absent)."""
    if len(among) == 0:
        return np.full(len(ids), -1, dtype=np.int64)
    order = np.argsort(among, kind="stable")
    ranked = among[order]
    if len(ranked) > 1:
        same = ranked[1:] == ranked[:-1]
        if bool(np.asarray(same).any()):
            dup = ranked[1:][same][0]
            raise InvalidValue("volunteers", dup, "志愿者重复 / a volunteer is listed twice")
    at = np.searchsorted(ranked, ids)
    at = np.minimum(at, len(ranked) - 1)
    found = np.asarray(ranked[at] == ids, dtype=bool)
    return np.where(found, order[at], -1).astype(np.int64)


def _per_volunteer(
    name: str, values: PerVolunteer, rated: AnyArray | _frames.LazyIds, *, dates: bool
) -> I64 | None:
    """``values`` as one int per rated volunteer (day numbers when ``dates``)."""
    if values is None:
        return None
    ids = _frames.materialized(rated)
    n = len(ids)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if _frames.is_series(values):
        series: Any = values
        values = series.reindex(ids).to_numpy(dtype=object)
    if isinstance(values, Mapping):
        missing = [i for i in ids.tolist() if i not in values]
        if missing:
            raise InvalidValue(name, missing[0], "缺少该志愿者的值 / no value for this volunteer")
        values = [values[i] for i in ids.tolist()]
    arr = np.asarray(values)
    if arr.dtype == object:
        items = arr.tolist()
        if any(v is None or v != v for v in items):
            raise InvalidValue(name, None, "缺少值 / a value is missing")
        if dates:
            if any(isinstance(v, datetime) for v in items):
                raise InvalidValue(name, "datetime", "需要日期 / need dates (not datetimes)")
            arr = np.array(items, dtype="datetime64[D]")
        else:
            arr = np.array(items, dtype=np.int64)
    if arr.shape != (n,):
        raise InvalidValue(name, arr.shape, f"每名志愿者一个值（{n}）/ one value per volunteer")
    if arr.dtype.kind == "M":
        return arr.astype("datetime64[D]").astype(np.int64)
    if arr.dtype.kind not in "iu":
        raise InvalidValue(name, str(arr.dtype), "需要整数或日期 / need whole numbers or dates")
    return arr.astype(np.int64)


def _months_since(registered: I64, today: date) -> I64:
    """:func:`~zhiyuan.scoring.stars.months_since` from each registration day to ``today``, 0 for
    registrations after ``today``."""
    reg = registered.astype("datetime64[D]")
    month = reg.astype("datetime64[M]")
    ry = month.astype(np.int64) // 12 + 1970
    rm = month.astype(np.int64) % 12 + 1
    rd = (reg - month.astype("datetime64[D]")).astype(np.int64) + 1
    months = months_since(ry, rm, rd, today)
    return np.where(registered <= day_number(today), np.maximum(months, 0), 0)


def _marks(
    marks: Mapping[Any, Sequence[date]] | tuple[Any, Any] | None,
    rated: AnyArray | _frames.LazyIds,
    since: int,
    today: int,
) -> Bools:
    """True for volunteers with a mark in ``(since, today]``."""
    out = np.zeros(len(rated), dtype=bool)
    if marks is None:
        return out
    ids = _frames.materialized(rated)
    if isinstance(marks, Mapping):
        who = [k for k, days in marks.items() for _ in days]
        when: Any = [d for days in marks.values() for d in days]
    else:
        who, when = marks
    who_arr = np.asarray(who)
    if len(who_arr) == 0:
        return out
    when_arr = np.asarray(when)
    if when_arr.dtype == object:
        when_arr = np.array(when_arr.tolist(), dtype="datetime64[D]")
    days = (
        when_arr.astype("datetime64[D]").astype(np.int64)
        if when_arr.dtype.kind == "M"
        else when_arr.astype(np.int64)
    )
    pos = _positions(who_arr, ids)
    hit = (pos >= 0) & (days > since) & (days <= today)
    out[pos[hit]] = True
    return out


def rate_stars(
    rows: object,
    scheme: StarScheme | None,
    as_of: datetime,
    *,
    volunteers: Sequence[Any] | AnyArray | None = None,
    registered_on: PerVolunteer = None,
    held: PerVolunteer = None,
    marks: Mapping[Any, Sequence[date]] | tuple[Any, Any] | None = None,
) -> StarColumns:
    """Star levels of many volunteers from certified rows, as ``scheme.rate_many`` gives them.

    Args:
        rows: certified rows as columns (:meth:`~zhiyuan.bulk.Columns.of`): ``volunteer``,
            ``day`` (or ``start``), ``minutes``, and as the scheme needs them
            ``weighted_minutes``, ``evidence``, ``category``, ``purposes``. With a ``status``
            column (as :func:`~zhiyuan.bulk.evaluate_hours_frame` adds it), only accepted rows
            count, as in the ledger.
        scheme: the star scheme (``None``: the national one).
        as_of: the rating moment (aware).
        volunteers: the volunteers to rate (rows of others are ignored); default: every id in
            ``rows.volunteer_ids`` (the ids of the rows, or the ids given to :meth:`Columns.of`).
        registered_on: registration dates, needed when the scheme has ``min_months``.
        held: the level each volunteer holds (default 0), for ``sequential_from``.
        marks: dates of upheld complaints or falsified hours, for ``clean_years``: a mapping
            from volunteer id, or a pair (volunteer ids, dates) of arrays.
    """
    sch = StarScheme() if scheme is None else scheme
    today = _as_of_day(as_of)
    today_n = day_number(today)
    cols = Columns.of(rows)
    ids: AnyArray | _frames.LazyIds
    if volunteers is None:
        ids = ids_as_read(cols)  # Arrow strings stay so: the result carries them as read
        target = cols.volunteer
    else:
        ids = np.asarray(volunteers)
        if ids.dtype.kind not in "iuOU":
            ids = ids.astype(object)
        target = _positions(cols.volunteer_ids, ids)[cols.volunteer]
    n = len(ids)
    minutes = cols.get("weighted_minutes" if sch.weighted else "minutes")
    day = cols.service_days()

    # which rows count: each test gives a mask of the rows of one range
    tests: list[Callable[[slice], Bools]] = [lambda rows: day[rows] <= today_n]
    if volunteers is not None:
        tests.append(lambda rows: target[rows] >= 0)  # a volunteer rated
    if cols.status is not None:
        status = cols.status  # accepted (STATUSES[0]): waiting or rejected rows never count
        tests.append(lambda rows: status[rows] == 0)
    start = sch.window_start(today)
    if start is not None:
        first = day_number(start)
        tests.append(lambda rows: day[rows] >= first)
    if sch.evidence is None:
        purposes = cols.get("purposes")
        tests.append(lambda rows: (purposes[rows] & _STARS_BIT) != 0)
    else:
        kinds = np.array([e in sch.evidence for e in EVIDENCE], dtype=bool)
        evidence = cols.get("evidence")
        tests.append(lambda rows: kinds[evidence[rows]])
    if sch.categories is not None:
        cats = np.array([c in sch.categories for c in cols.categories], dtype=bool)
        category = cols.get("category")
        tests.append(
            lambda rows: cats[category[rows]] if len(cats) else np.zeros(len(day[rows]), bool)
        )
    weights = np.empty(len(cols), dtype=np.float64)  # as bincount sums them (exact < 2**53)
    counted = target if volunteers is None else np.empty(len(cols), dtype=np.int64)

    def count(rows: slice) -> None:
        """The minutes of ``rows`` that count (0 for the others), on every core."""
        keep = tests[0](rows)
        for test in tests[1:]:
            keep &= test(rows)
        np.multiply(minutes[rows], keep, out=weights[rows])
        if volunteers is not None:
            np.multiply(target[rows], keep, out=counted[rows])  # others to 0, weight 0

    _parallel.run(count, len(cols))
    total = np.bincount(counted, weights=weights, minlength=n).astype(np.int64)

    top = sch.top
    thresholds = np.array(sch.thresholds_hours, dtype=np.int64) * 60
    hours_level = np.searchsorted(thresholds, total, side="right")
    blocked_from = np.full(n, top + 1, dtype=np.int64)  # the first level a condition blocks
    need = np.zeros(top + 2, dtype=np.int64)
    need[1 : len(sch.min_months) + 1] = sch.min_months
    have = np.zeros(n, dtype=np.int64)
    if any(sch.min_months):
        registered = _per_volunteer("registered_on", registered_on, ids, dates=True)
        if registered is None:
            raise InvalidValue(
                "registered_on",
                None,
                "该办法按注册月数评定，须给出注册日期 / the scheme has min_months: give registered_on",
            )
        have = _months_since(registered, today)
        for lv in range(top, 0, -1):
            if need[lv]:
                blocked_from = np.where(have < need[lv], lv, blocked_from)
    held_arr = _per_volunteer("held", held, ids, dates=False)
    holds = np.zeros(n, dtype=np.int64) if held_arr is None else held_arr
    if len(holds) and (holds.min() < 0 or holds.max() > top):
        bad = int(holds[(holds < 0) | (holds > top)][0])
        raise InvalidValue(
            "held", bad, f"已持星级应为 0 到 {top} 的整数 / a level held, 0 to {top}"
        )
    if sch.sequential_from is not None:
        blocked_from = np.minimum(blocked_from, np.maximum(sch.sequential_from, holds + 2))
    unclean = np.zeros(n, dtype=bool)
    if sch.clean_years is not None:
        since = day_number(today - relativedelta(years=sch.clean_years))
        unclean = _marks(marks, ids, since, today_n)
        blocked_from = np.where(unclean, 1, blocked_from)
    level = np.minimum(hours_level, blocked_from - 1)
    below_top = level < top
    nxt = np.where(below_top, level + 1, 0)
    missing = np.where(below_top, np.maximum(thresholds[np.maximum(nxt, 1) - 1] - total, 0), 0)
    # The conditions that block the next level (the level the rating stopped below).
    unmet = np.zeros(n, dtype=np.int64)
    unmet |= np.where(have < need[np.minimum(nxt, top + 1)], 1, 0)
    if sch.sequential_from is not None:
        seq = (nxt >= sch.sequential_from) & (holds < nxt - 1)
        unmet |= np.where(seq, 2, 0)
    unmet |= np.where(unclean, 4, 0)
    unmet = np.where(below_top, unmet, 0)
    return StarColumns(
        volunteer_ids=ids,
        level=level.astype(np.int8),
        counted_minutes=total,
        next_level=nxt.astype(np.int8),
        minutes_missing=missing.astype(np.int64),
        unmet=unmet.astype(np.int8),
        scheme=sch.name,
        as_of=today,
        volunteer_column=cols.names.get("volunteer", "volunteer"),
    )


def rate_stars_frame(
    frame: Any,
    scheme: StarScheme | None,
    as_of: datetime,
    *,
    registered_on: PerVolunteer = None,
    held: PerVolunteer = None,
    marks: Mapping[Any, Sequence[date]] | tuple[Any, Any] | None = None,
) -> Any:
    """:func:`rate_stars` on a frame of rows: one result row per volunteer in it, as a frame of
    the same kind (pandas, polars, Arrow), the ids' column named as in the input and ``unmet``
    labelled (:meth:`StarColumns.labelled`).

    It chains with :func:`~zhiyuan.bulk.evaluate_hours_frame`: only the rows it accepted count
    (its ``status`` column), as the ledger counts them. The partition function of
    :mod:`zhiyuan.bulk.dask`: ``registered_on`` and ``held`` are mappings or pandas Series keyed
    by volunteer id (the partition's volunteers are looked up).
    """
    result = rate_stars(frame, scheme, as_of, registered_on=registered_on, held=held, marks=marks)
    return result.to_frame(_frames.frame_kind(frame) or "pandas")
