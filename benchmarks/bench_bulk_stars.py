"""Star levels for 1,460,000 volunteers from 10,000,000 certified records on the columnar path.

烟台's scale (1.46 million registered volunteers). Targets: ≤ 1 s and ≤ 2 GB peak for
:func:`zhiyuan.bulk.rate_stars`, and ≥ 3× faster than the same computation written plainly in
pandas (filter, ``groupby().sum()``, thresholds with ``pd.cut``), run in the same process on the
same data. The data is generated with numpy before any clock starts, skewed as in
``bench_stars.py``: four records in five go to volunteer ``⌊N·u³⌋`` (the top 1 % serve a fifth of
all records, hundreds of hours each), one in five round-robin (so nearly everyone has some).

Figures printed: the columnar call on columns whose volunteer ids are already dense codes (as a
warehouse export or :class:`~zhiyuan.bulk.Columns` built once gives them), the same including
the factorizing of raw ids, the plain pandas version, their ratio, and memory: the process's
peak RSS after the columnar run (input columns included) and the extra memory the call itself
allocated at its peak (tracemalloc, which numpy reports to).
``python benchmarks/bench_bulk_stars.py [volunteers] [records]``.
"""

from __future__ import annotations

import gc
import sys
import tracemalloc
from collections import Counter
from datetime import date, datetime

import numpy as np
import pandas as pd
from _util import peak_rss_mb, timed, verdict

from zhiyuan._validators import SHANGHAI
from zhiyuan.bulk import Columns, rate_stars
from zhiyuan.scoring import STAR_PROFILES

VOLUNTEERS = int(sys.argv[1]) if len(sys.argv) > 1 else 1_460_000
RECORDS = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000_000
SCHEME = STAR_PROFILES["national"]
AS_OF = datetime(2026, 1, 1, tzinfo=SHANGHAI)
FIRST_DAY = date(2016, 1, 1).toordinal() - date(1970, 1, 1).toordinal()


def generate() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(3)
    k = np.arange(RECORDS)
    skewed = (VOLUNTEERS * rng.random(RECORDS) ** 3).astype(np.int64)
    volunteer = np.where(k % 5 == 0, k % VOLUNTEERS, skewed)
    minutes = 60 * np.array([1, 2, 2, 3, 4, 8])[rng.integers(0, 6, RECORDS)]
    # purposes: stars|points|reports for attested kinds; one row in 16 counts for reports only
    purposes = np.where(rng.random(RECORDS) < 1 / 16, 4, 7)
    return {
        "volunteer": volunteer.astype(np.int64),
        "day": (FIRST_DAY + k % 3650).astype(np.int64),
        "minutes": minutes.astype(np.int64),
        "purposes": purposes.astype(np.int64),
    }


def plain_pandas(df: pd.DataFrame, today: int) -> pd.DataFrame:
    """The same rating written plainly in pandas: filter, group, sum, cut into levels."""
    counted = df[(df["day"] <= today) & ((df["purposes"] & 1) != 0)]
    minutes = counted.groupby("volunteer")["minutes"].sum()
    minutes = minutes.reindex(pd.RangeIndex(VOLUNTEERS), fill_value=0)
    thresholds = [t * 60 for t in SCHEME.thresholds_hours]
    level = pd.cut(minutes, [-np.inf, *thresholds, np.inf], right=False, labels=False)
    out = pd.DataFrame({"minutes": minutes, "level": level.astype("int64")})
    top = len(thresholds)
    nxt = out["level"].where(out["level"] >= top, out["level"] + 1)
    need = pd.Series([*thresholds, 0]).reindex(nxt.clip(upper=top) - 1).to_numpy()
    out["next_level"] = nxt.where(out["level"] < top, 0)
    out["minutes_missing"] = np.where(out["level"] < top, np.maximum(need - minutes, 0), 0)
    return out


def time_from_raw_ids(data: dict[str, np.ndarray]) -> float:
    """Seconds for the columnar path when the ids are raw numbers, not dense codes."""
    raw = {**data, "volunteer": data["volunteer"] * 7 + 1_000_000}
    gc.collect()
    _, secs = timed(lambda: rate_stars(Columns.of(raw), SCHEME, AS_OF))
    return secs


def main() -> None:
    data, s_gen = timed(generate)
    print(f"generated {RECORDS:,} records for {VOLUNTEERS:,} volunteers in {s_gen:.1f} s (untimed)")
    cols = Columns.of(data, volunteer_ids=np.arange(VOLUNTEERS, dtype=np.int64))
    rate_stars(Columns.of({k: v[:1000] for k, v in data.items()}), SCHEME, AS_OF)  # warm up
    gc.collect()

    result, secs = timed(lambda: rate_stars(cols, SCHEME, AS_OF))
    peak = peak_rss_mb()
    repeats = sorted(timed(lambda: rate_stars(cols, SCHEME, AS_OF))[1] for _ in range(3))
    tracemalloc.start()
    rate_stars(cols, SCHEME, AS_OF)
    _, extra = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    levels = Counter(result.level.tolist())
    print(
        f"columnar rate_stars: {secs:.3f} s for {len(result):,} volunteers, first run "
        f"(target ≤ 1 s: {verdict(secs, 1.0)}); 3 more runs {', '.join(f'{x:.3f}' for x in repeats)} s (sorted)"
    )
    print(
        f"peak RSS {peak:,.0f} MB after the columnar run, input columns included "
        f"(target ≤ 2,048: {verdict(peak, 2048)}); the call allocates {extra / 2**20:,.0f} MB at its peak"
    )

    secs_raw = time_from_raw_ids(data)
    print(f"columnar rate_stars with factorizing of raw ids: {secs_raw:.3f} s")
    gc.collect()

    df = pd.DataFrame(data)
    today = AS_OF.date().toordinal() - date(1970, 1, 1).toordinal()
    plain_pandas(df.head(1000), today)  # warm up
    out, secs_pd = timed(lambda: plain_pandas(df, today))
    assert (out["level"].to_numpy() == result.level).all(), "pandas and bulk disagree on levels"
    assert (out["minutes"].to_numpy() == result.counted_minutes).all()
    assert (out["next_level"].to_numpy() == result.next_level).all()
    assert (out["minutes_missing"].to_numpy() == result.minutes_missing).all()
    ratio = secs_pd / secs
    print(f"plain pandas (filter, groupby().sum(), pd.cut): {secs_pd:.3f} s; same levels")
    print(
        f"columnar is {ratio:.1f}× faster than plain pandas (target ≥ 3×: "
        f"{verdict(ratio, 3, lower_is_better=False)}); "
        f"{secs_pd / secs_raw:.1f}× with factorizing"
    )
    print(f"peak RSS {peak_rss_mb():,.0f} MB at the end (pandas frame included)")
    print("volunteers per level:", dict(sorted(levels.items())))


if __name__ == "__main__":
    main()
