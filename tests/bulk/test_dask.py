"""``zhiyuan.bulk.dask`` gives the in-memory results exactly: random frames are split into several
partitions, shuffled by volunteer and evaluated under dask's synchronous scheduler, then compared
row by row (hours) and volunteer by volunteer (stars) with :func:`evaluate_hours` and
:func:`rate_stars` on the whole frame.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

np = pytest.importorskip("numpy")
pd = pytest.importorskip("pandas")
dd = pytest.importorskip("dask.dataframe")

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from zhiyuan import SHANGHAI  # noqa: E402
from zhiyuan.bulk import (  # noqa: E402
    EVIDENCE,
    convert_points_frame,
    evaluate_hours,
    evaluate_hours_frame,
    rate_stars,
)
from zhiyuan.bulk import dask as zdask  # noqa: E402
from zhiyuan.credit import CONVERSION_PROFILES  # noqa: E402
from zhiyuan.errors import InvalidValue  # noqa: E402
from zhiyuan.hours import HOUR_PROFILES  # noqa: E402
from zhiyuan.scoring import STAR_PROFILES  # noqa: E402

SH = SHANGHAI
NOW = datetime(2025, 5, 1, tzinfo=SH)
AS_OF = datetime(2025, 5, 2, tzinfo=SH)
T0 = int(datetime(2025, 3, 1, tzinfo=SH).timestamp())


def codes(column: Any) -> list[int]:
    """A result column as codes: a labelled categorical's codes, other columns as they are."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return [int(c) for c in column.cat.codes.tolist()]
    return [int(c) for c in column.tolist()]


RESULTS = ("counted_minutes", "weighted_minutes", "status", "rejected_by", "purposes")


def records(seed: int, n: int, volunteers: int) -> pd.DataFrame:
    """Random records in posting order: overlaps, midnight spans, out-of-order starts."""
    rng = np.random.default_rng(seed)
    start = T0 + rng.integers(0, 20 * 24 * 60, n) * 60
    start.sort()
    swap = rng.random(n) < 0.1  # some records posted out of start order
    start[swap] = start[swap][::-1]
    return pd.DataFrame(
        {
            "volunteer": rng.integers(0, volunteers, n).astype(str),
            "start": start,
            "end": start + rng.choice([30, 60, 90, 240, 600, 1500], n) * 60,
            "evidence": np.array([e.value for e in EVIDENCE], dtype=object)[
                rng.integers(0, len(EVIDENCE), n)
            ],
            "category": np.array(["助老", "环保", "会议"], dtype=object)[rng.integers(0, 3, n)],
            "scheduled_minutes": np.where(rng.random(n) < 0.3, rng.integers(0, 300, n), -1),
        }
    )


@settings(max_examples=40)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 120),
    volunteers=st.integers(1, 12),
    parts=st.integers(1, 5),
    profile=st.sampled_from(["national", "hailin", "university", "guangdong"]),
)
def test_dask_hours_equal_in_memory(
    seed: int, n: int, volunteers: int, parts: int, profile: str
) -> None:
    df = records(seed, n, volunteers)
    expected = evaluate_hours(df, HOUR_PROFILES[profile], now=NOW)
    lazy = zdask.evaluate_hours(
        dd.from_pandas(df, npartitions=parts), HOUR_PROFILES[profile], now=NOW
    )
    got = lazy.compute(scheduler="synchronous").sort_values(zdask.ROW)
    assert got[zdask.ROW].tolist() == list(range(n))
    for name in RESULTS:
        assert codes(got[name]) == getattr(expected, name).tolist(), name


def test_an_order_column_and_partitioned_input() -> None:
    df = records(7, 200, 9)
    expected = evaluate_hours(df, HOUR_PROFILES["university"], now=NOW)
    df["seq"] = np.arange(len(df)) * 10  # a posting key (record number, time of entry …)
    shuffled = df.sample(frac=1.0, random_state=1)  # the frame's own order no longer matters
    ddf = dd.from_pandas(shuffled, npartitions=4)
    out = zdask.evaluate_hours(ddf, HOUR_PROFILES["university"], now=NOW, order="seq")
    got = out.compute(scheduler="synchronous").sort_values("seq")
    assert got["counted_minutes"].tolist() == expected.counted_minutes.tolist()
    # already partitioned by volunteer: no shuffle, the promise is checked
    by_volunteer = dd.from_pandas(shuffled.sort_values("volunteer"), npartitions=1)
    out = zdask.evaluate_hours(
        by_volunteer, HOUR_PROFILES["university"], now=NOW, order="seq", partitioned=True
    )
    got = out.compute(scheduler="synchronous").sort_values("seq")
    assert got["counted_minutes"].tolist() == expected.counted_minutes.tolist()


def test_a_volunteer_across_partitions_is_refused() -> None:
    df = records(3, 50, 2).assign(seq=np.arange(50))
    ddf = dd.from_pandas(df, npartitions=3)  # both volunteers in every partition
    with pytest.raises(InvalidValue, match="partitions"):
        zdask.evaluate_hours(ddf, now=NOW, order="seq", partitioned=True)
    with pytest.raises(InvalidValue, match="order"):
        zdask.evaluate_hours(ddf, now=NOW, partitioned=True)


@settings(max_examples=30)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 300),
    volunteers=st.integers(1, 40),
    parts=st.integers(1, 6),
    scheme=st.sampled_from(["national", "longgang", "sichuan", "qidong", "guangxi"]),
)
def test_dask_stars_equal_in_memory(
    seed: int, n: int, volunteers: int, parts: int, scheme: str
) -> None:
    rng = np.random.default_rng(seed)
    ids = [f"v{i}" for i in range(volunteers)]
    df = pd.DataFrame(
        {
            "volunteer": np.array(ids, dtype=object)[rng.integers(0, volunteers, n)],
            "day": rng.integers(15000, 20200, n),
            "minutes": rng.integers(0, 400 * 60, n),
            "purposes": rng.integers(0, 8, n),
        }
    )
    registered = {v: date(2024, 1 + i % 12, 1 + i % 28) for i, v in enumerate(ids)}
    held = pd.Series({v: i % 5 for i, v in enumerate(ids)})
    marks = {ids[0]: [date(2024, 6, 1)]}
    kw = {"registered_on": registered, "held": held, "marks": marks}
    expected = rate_stars(df, STAR_PROFILES[scheme], AS_OF, **kw)
    lazy = zdask.rate_stars(
        dd.from_pandas(df, npartitions=parts), STAR_PROFILES[scheme], AS_OF, **kw
    )
    got = lazy.compute(scheduler="synchronous").sort_values("volunteer")
    assert got["volunteer"].tolist() == expected.volunteer_ids.tolist()
    for name in ("level", "counted_minutes", "next_level", "minutes_missing", "unmet"):
        assert codes(got[name]) == getattr(expected, name).tolist(), name


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    n=st.integers(1, 80),
    volunteers=st.integers(1, 6),
    parts=st.integers(1, 4),
    name=st.sampled_from(["rongcheng", "huangshi", "weihai"]),
)
def test_dask_points_equal_in_memory(
    seed: int, n: int, volunteers: int, parts: int, name: str
) -> None:
    """Records → hours → points over dask partitions equals the same chain in memory."""
    df = records(seed, n, volunteers)
    policy = CONVERSION_PROFILES[name]
    expected = convert_points_frame(evaluate_hours_frame(df, None, now=NOW), policy)
    hours = zdask.evaluate_hours(dd.from_pandas(df, npartitions=parts), None, now=NOW)
    lazy = zdask.convert_points(hours, policy, order=zdask.ROW)
    got = lazy.compute(scheduler="synchronous").sort_values(zdask.ROW)
    assert got["points"].tolist() == expected["points"].tolist()
    with pytest.raises(InvalidValue, match="row"):
        zdask.convert_points(hours, policy)  # the row column is taken: name it
