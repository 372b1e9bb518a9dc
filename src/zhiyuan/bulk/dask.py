"""The bulk functions over a dask DataFrame partitioned by volunteer (needs the ``dask`` extra).

The hour policy and star schemes only ever relate rows of the same volunteer, so a partition
holding *all* rows of some volunteers can be evaluated on its own, by the same functions as in
memory (:func:`~zhiyuan.bulk.evaluate_hours_frame`, :func:`~zhiyuan.bulk.rate_stars_frame`).
This module arranges that:

1. each row gets its global posting position in a ``row`` column (unless an ``order`` column is
   named: any sortable key that orders each volunteer's rows by posting);
2. the frame is shuffled on ``volunteer`` (``DataFrame.shuffle``), so every volunteer's rows land
   in one partition — or, with ``partitioned=True``, the caller promises that they already do, and
   :func:`check_partitioned` verifies it (one pass over the volunteer column);
3. each partition is sorted by the order column and evaluated.

The results equal the in-memory ones row for row (``tests/bulk/test_dask.py`` runs them under
dask's synchronous scheduler over several partitions). Column names are those of
:class:`~zhiyuan.bulk.Columns` (``volunteer``, ``start`` …). ``now`` is fixed once for the whole
frame, so every partition judges deadlines and future records by the same clock.

Example:
    >>> import pandas as pd, dask.dataframe as dd
    >>> from datetime import datetime
    >>> from zhiyuan import SHANGHAI, system_clock
    >>> t = lambda h: int(datetime(2025, 3, 1, h, tzinfo=SHANGHAI).timestamp())
    >>> df = pd.DataFrame({"volunteer": ["a", "b", "a", "b"], "start": [t(9), t(9), t(10), t(8)],
    ...                    "end": [t(11), t(10), t(12), t(9)], "evidence": ["qr_scan"] * 4,
    ...                    "category": ["助老"] * 4})
    >>> out = evaluate_hours(dd.from_pandas(df, npartitions=2), now=datetime(2025, 3, 2, tzinfo=SHANGHAI))
    >>> out.compute(scheduler="synchronous").sort_values("row")["counted_minutes"].tolist()
    [120, 60, 60, 60]
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from zhiyuan._validators import system_clock
from zhiyuan.bulk.hours import evaluate_hours_frame
from zhiyuan.bulk.points import convert_points_frame
from zhiyuan.bulk.stars import PerVolunteer, rate_stars_frame
from zhiyuan.credit.conversion import ConversionPolicy
from zhiyuan.errors import InvalidValue
from zhiyuan.hours.policy import HourPolicy
from zhiyuan.scoring.stars import StarScheme

__all__ = [
    "ROW",
    "by_volunteer",
    "check_partitioned",
    "convert_points",
    "evaluate_hours",
    "rate_stars",
]

ROW = "row"
"""The column that carries each row's global posting position (added unless ``order`` is named)."""


def _dask() -> Any:
    try:
        return importlib.import_module("dask.dataframe")
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError(
            "zhiyuan.bulk.dask needs dask: pip install 'zhiyuan[dask]' / 需要 dask"
        ) from exc


def by_volunteer(frame: Any, *, order: str | None = None) -> tuple[Any, str]:
    """``frame`` shuffled so each volunteer's rows share a partition, and its order column.

    Without ``order``, a :data:`ROW` column numbers the rows in their current order first.
    """
    _dask()
    if "volunteer" not in frame.columns:
        raise InvalidValue("volunteer", None, "缺少志愿者列 / the volunteer column is missing")
    key = _ordered(frame, order)
    if order is None:
        frame = frame.assign(**{ROW: 1})
        frame = frame.assign(**{ROW: frame[ROW].cumsum() - 1})
    return frame.shuffle(on="volunteer", npartitions=frame.npartitions), key


def _ordered(frame: Any, order: str | None) -> str:
    if order is None:
        if ROW in frame.columns:
            raise InvalidValue(ROW, ROW, "列名已被占用 / name the order column (order='row')")
        return ROW
    if order not in frame.columns:
        raise InvalidValue("order", order, "没有这一列 / no such column")
    return order


def check_partitioned(frame: Any) -> None:
    """Raise :class:`~zhiyuan.errors.InvalidValue` if some volunteer's rows span partitions.

    Computes one pass over the ``volunteer`` column (the frame's graph up to it runs).
    """
    ids = frame["volunteer"].map_partitions(lambda s: s.drop_duplicates()).compute()
    spread = ids[ids.duplicated()]
    if len(spread):
        raise InvalidValue(
            "volunteer",
            spread.iloc[0],
            "同一志愿者的记录分布在多个分区 / a volunteer's rows are in several partitions",
        )


def _prepare(frame: Any, order: str | None, partitioned: bool) -> tuple[Any, str]:
    if partitioned:
        if order is None:
            raise InvalidValue(
                "order", None, "已分区的数据须给出排序列 / partitioned data needs order="
            )
        check_partitioned(frame)
        return frame, _ordered(frame, order)
    return by_volunteer(frame, order=order)


def _hours_partition(
    part: Any, order: str, policy: HourPolicy | None, now: datetime, fallback: bool
) -> Any:
    return evaluate_hours_frame(
        part.sort_values(order, kind="stable"), policy, now=now, fallback=fallback
    )


def evaluate_hours(
    frame: Any,
    policy: HourPolicy | None = None,
    *,
    now: datetime | None = None,
    order: str | None = None,
    partitioned: bool = False,
    fallback: bool = True,
) -> Any:
    """:func:`zhiyuan.bulk.evaluate_hours` over a dask DataFrame; a lazy frame of the results.

    Args:
        frame: a dask DataFrame of service records (columns as :class:`~zhiyuan.bulk.Columns`).
        policy: the hour policy (default: national).
        now: the posting time, fixed once for all partitions (default: now).
        order: a column ordering each volunteer's rows by posting (default: the current row
            order, recorded in a :data:`ROW` column).
        partitioned: the frame already holds each volunteer's rows in one partition (checked);
            then ``order`` must be named.
        fallback: as :func:`zhiyuan.bulk.evaluate_hours`.

    Returns:
        The records with the result columns added, partitioned by volunteer, each partition
        sorted by the order column (sort by it to get the input order back).
    """
    moment = system_clock() if now is None else now
    ready, key = _prepare(frame, order, partitioned)
    meta = _hours_partition(ready._meta, key, policy, moment, fallback)
    return ready.map_partitions(_hours_partition, key, policy, moment, fallback, meta=meta)


def rate_stars(
    frame: Any,
    scheme: StarScheme | None,
    as_of: datetime,
    *,
    partitioned: bool = False,
    registered_on: PerVolunteer = None,
    held: PerVolunteer = None,
    marks: Mapping[Any, Sequence[date]] | tuple[Any, Any] | None = None,
) -> Any:
    """:func:`zhiyuan.bulk.rate_stars` over a dask DataFrame of certified rows.

    Returns a lazy frame with one row per volunteer that has rows (``volunteer``, ``level``,
    ``counted_minutes``, ``next_level``, ``minutes_missing``, ``unmet``). ``registered_on`` and
    ``held`` are mappings or pandas Series keyed by volunteer id; volunteers without rows are
    not in the result (rate them in memory: they have 0 minutes).
    """
    if partitioned:
        check_partitioned(frame)
        ready = frame
    else:
        _dask()
        ready = frame.shuffle(on="volunteer", npartitions=frame.npartitions)
    kw: dict[str, Any] = {"registered_on": registered_on, "held": held, "marks": marks}
    meta = rate_stars_frame(ready._meta, scheme, as_of, **kw)
    return ready.map_partitions(rate_stars_frame, scheme, as_of, meta=meta, **kw)


def _points_partition(part: Any, order: str, policy: ConversionPolicy) -> Any:
    return convert_points_frame(part.sort_values(order, kind="stable"), policy)


def convert_points(
    frame: Any,
    policy: ConversionPolicy,
    *,
    order: str | None = None,
    partitioned: bool = False,
) -> Any:
    """:func:`zhiyuan.bulk.convert_points_frame` over a dask DataFrame of counted rows (for
    example the result of :func:`evaluate_hours`): a lazy frame with a ``points`` column.

    ``order`` and ``partitioned`` are as in :func:`evaluate_hours`: without ``record_id`` and
    ``certified_at`` columns a volunteer's rows are converted in their order, which the
    :data:`ROW` column (or ``order``) keeps through the shuffle. The points equal the in-memory
    ones row for row.
    """
    ready, key = _prepare(frame, order, partitioned)
    meta = _points_partition(ready._meta, key, policy)
    return ready.map_partitions(_points_partition, key, policy, meta=meta)
