"""Columnar twins of the policies (批量计算): the hour policy and star schemes over numpy arrays.

The object API (:class:`~zhiyuan.hours.HourLedger`, :class:`~zhiyuan.scoring.StarScheme`) serves a
backend posting one record at a time; :mod:`zhiyuan.bulk` evaluates the same policies over
millions of rows for notebooks and simulations, with the same answers to the minute (DESIGN.md
principle 5; the property tests in ``tests/bulk`` compare them on random data).

- :class:`Columns`: the input, from a dict of columns, a pandas or polars DataFrame, or an Arrow
  table.
- :func:`evaluate_hours`: the hour policy, as posting the rows in order into an HourLedger.
- :func:`rate_stars`: star levels, as :meth:`StarScheme.rate_many <zhiyuan.scoring.StarScheme.rate_many>`.
- :func:`points_of`, :func:`convert_points`: points, as :func:`~zhiyuan.credit.convert`.
- ``*_frame`` forms of the three take a frame and give one of the same kind back (pandas with
  its index, polars, Arrow), chained: records → hours → stars or points.
- :mod:`zhiyuan.bulk.dask`: hours, stars and points over a dask DataFrame, partitioned by volunteer.
- :func:`keep_freed_memory`: for a process that runs large evaluations, glibc's allocator set to
  keep the memory of freed arrays instead of page-faulting every new one in afresh.

Needs numpy (``pip install 'zhiyuan[sim]'``); pandas, polars or pyarrow only for their frames,
dask only for
:mod:`zhiyuan.bulk.dask`. The rest of zhiyuan imports without any of them.
"""

from __future__ import annotations

try:
    import numpy  # noqa: F401  (the extra this package needs)
except ImportError as exc:  # pragma: no cover - exercised in a subprocess without numpy
    raise ImportError(
        "zhiyuan.bulk needs numpy: pip install 'zhiyuan[sim]' / 批量计算需要 numpy"
    ) from exc

from zhiyuan._malloc import keep_freed_memory
from zhiyuan.bulk._columns import DAY, EVIDENCE, MIN_TIME, NONE, PURPOSES, Columns
from zhiyuan.bulk._frames import Coded, LazyIds, frame_columns, optional_module
from zhiyuan.bulk.hours import (
    ACCEPTED,
    NEEDS_APPROVAL,
    REJECTED,
    REJECTING_RULES,
    STATUSES,
    HourColumns,
    NotVectorized,
    SlowPathWarning,
    check_policy,
    counted_rows,
    evaluate_hours,
    evaluate_hours_frame,
)
from zhiyuan.bulk.points import (
    conversion_mask,
    convert_points,
    convert_points_frame,
    end_of_day,
    points_of,
    record_order,
)
from zhiyuan.bulk.stars import UNMET_RULES, StarColumns, rate_stars, rate_stars_frame

__all__ = [
    "ACCEPTED",
    "DAY",
    "EVIDENCE",
    "MIN_TIME",
    "NEEDS_APPROVAL",
    "NONE",
    "PURPOSES",
    "REJECTED",
    "REJECTING_RULES",
    "STATUSES",
    "UNMET_RULES",
    "Coded",
    "Columns",
    "HourColumns",
    "LazyIds",
    "NotVectorized",
    "SlowPathWarning",
    "StarColumns",
    "check_policy",
    "conversion_mask",
    "convert_points",
    "convert_points_frame",
    "counted_rows",
    "end_of_day",
    "evaluate_hours",
    "evaluate_hours_frame",
    "frame_columns",
    "keep_freed_memory",
    "optional_module",
    "points_of",
    "rate_stars",
    "rate_stars_frame",
    "record_order",
]
