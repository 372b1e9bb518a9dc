"""Star levels for 1,460,000 volunteers from 10,000,000 certified records, from raw string ids.

烟台's scale (1.46 million registered volunteers). An export names volunteers by string ids, so
every side starts from them and pays for turning them into groups, and gives a frame of the
same kind: zhiyuan (:func:`zhiyuan.bulk.rate_stars` on the pandas DataFrame, and on the polars
one, then ``to_frame``), plain pandas (mask, ``groupby().sum()``, thresholds with
``searchsorted``) and plain polars (the same with ``group_by``), each warm, best of 3, on frames
built before any clock starts, results checked equal, twice: with the C allocator as a process has it, then after
:func:`~zhiyuan.bulk.keep_freed_memory` (as the ``zhiyuan`` command runs; polars' own allocator
keeps freed memory anyway). Targets: zhiyuan ≥ 3× faster than the faster of pandas and polars
(given either frame: ids of digits, or of a prefix and digits, parse as integers; a long column
is worked on one range of rows a core, as ``ZHIYUAN_THREADS`` allows; ids stay Arrow strings
into the result's frame, and the time to read them as Python strings as well is printed beside);
≤ 1 s and ≤ 2 GB for the call on ids already coded (a warehouse export's dense codes,
:class:`~zhiyuan.bulk.Columns` built once).

The data is skewed as in ``bench_stars.py``: four records in five go to volunteer ``⌊N·u³⌋`` (the
top 1 % serve a fifth of all records), one in five round-robin (so nearly everyone has some).
``python benchmarks/bench_bulk_stars.py [volunteers] [records] [--ids=digits|prefixed|hex]``.
"""

from __future__ import annotations

import gc
import hashlib
import sys
from collections import Counter
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
from _util import best_of, peak_rss_mb, timed, verdict

from zhiyuan._validators import SHANGHAI
from zhiyuan.bulk import Columns, keep_freed_memory, rate_stars
from zhiyuan.scoring import STAR_PROFILES

ARGS = [a for a in sys.argv[1:] if not a.startswith("--")]
VOLUNTEERS = int(ARGS[0]) if ARGS else 1_460_000
RECORDS = int(ARGS[1]) if len(ARGS) > 1 else 10_000_000
ID_FORM = next((a[len("--ids=") :] for a in sys.argv if a.startswith("--ids=")), "digits")
SCHEME = STAR_PROFILES["national"]
AS_OF = datetime(2026, 1, 1, tzinfo=SHANGHAI)
FIRST_DAY = date(2016, 1, 1).toordinal() - date(1970, 1, 1).toordinal()
TODAY = AS_OF.date().toordinal() - date(1970, 1, 1).toordinal()
THRESHOLDS = np.array(SCHEME.thresholds_hours, dtype=np.int64) * 60


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


def string_ids(codes: np.ndarray) -> np.ndarray:
    """Raw ids as an export gives them (objects): ``"370602" + 8 digits`` (``--ids=digits``, the
    default), ``"v" + the number`` (``--ids=prefixed``: a prefix and digits of several widths),
    or a hexadecimal digest's first 12 characters (``--ids=hex``: no digits to parse)."""
    n = range(VOLUNTEERS)
    if ID_FORM == "prefixed":
        table = np.array([f"v{i}" for i in n], dtype=object)
    elif ID_FORM == "hex":
        table = np.array([hashlib.blake2b(b"%d" % i).hexdigest()[:12] for i in n], dtype=object)
    else:
        table = np.array([f"370602{i:08d}" for i in n], dtype=object)
    return table[codes]


def levels(minutes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Level, next level and minutes missing from counted minutes (the scheme's thresholds)."""
    top = len(THRESHOLDS)
    level = np.searchsorted(THRESHOLDS, minutes, side="right")
    nxt = np.where(level < top, level + 1, 0)
    need = THRESHOLDS[np.clip(nxt, 1, top) - 1]
    missing = np.where(level < top, np.maximum(need - minutes, 0), 0)
    return level, nxt, missing


def plain_pandas(df: pd.DataFrame) -> pd.DataFrame:
    """The rating written plainly in pandas: mask, group by id, sum, cut into levels."""
    keep = (df["day"].to_numpy() <= TODAY) & ((df["purposes"].to_numpy() & 1) != 0)
    counted = pd.Series(np.where(keep, df["minutes"].to_numpy(), 0), index=df["volunteer"])
    minutes = counted.groupby(level=0, sort=True).sum()
    level, nxt, missing = levels(minutes.to_numpy())
    return pd.DataFrame(
        {"volunteer": minutes.index, "minutes": minutes.to_numpy(), "level": level,
         "next_level": nxt, "minutes_missing": missing}
    )  # fmt: skip


def plain_polars(df: pl.DataFrame) -> pl.DataFrame:
    """The same in polars: mask, ``group_by``, sum, cut into levels."""
    keep = (pl.col("day") <= TODAY) & ((pl.col("purposes") & 1) != 0)
    minutes = (
        df.select(pl.col("volunteer"), pl.when(keep).then(pl.col("minutes")).otherwise(0))
        .group_by("volunteer")
        .agg(pl.col("minutes").sum())
        .sort("volunteer")
    )
    level, nxt, missing = levels(minutes["minutes"].to_numpy())
    return minutes.with_columns(
        level=pl.Series(level), next_level=pl.Series(nxt), minutes_missing=pl.Series(missing)
    )


def check(name: str, got: Any, ids: Any, want_ids: np.ndarray, result: Any) -> None:
    """Every side gives the same volunteers, minutes and levels."""
    assert np.array_equal(np.asarray(ids, dtype=object), want_ids), f"{name}: volunteers differ"
    for col, ours in (
        ("minutes", result.counted_minutes),
        ("level", result.level),
        ("next_level", result.next_level),
        ("minutes_missing", result.minutes_missing),
    ):
        assert np.array_equal(np.asarray(got[col]), ours), f"{name}: {col} differs"


def stars_frame(frame: Any, kind: str) -> tuple[Any, Any]:
    """zhiyuan from a frame to a frame of the same kind, as the plain sides give one: the
    result (for the checks) and its frame."""
    result = rate_stars(frame, SCHEME, AS_OF)
    return result, result.to_frame(kind)


def compare(frame: pd.DataFrame, polars_frame: pl.DataFrame) -> None:
    """zhiyuan on both frames, plain pandas and plain polars: each warm, best of 3, from a
    frame to a frame, results checked equal; the times and the ratios against the target."""
    (ours, out), s_ours = best_of(lambda: stars_frame(frame, "pandas"))
    (ours_pl, out_pl), s_ours_pl = best_of(lambda: stars_frame(polars_frame, "polars"))
    ids_once, s_ids = best_of(lambda: rate_stars(polars_frame, SCHEME, AS_OF).volunteer_ids)
    want_ids = np.asarray(ours.volunteer_ids, dtype=object)
    assert np.array_equal(np.asarray(ours_pl.volunteer_ids, dtype=object), want_ids)
    assert np.array_equal(np.asarray(ids_once, dtype=object), want_ids)
    assert np.array_equal(ours_pl.level, ours.level)
    for name, got in (("zhiyuan's pandas frame", out), ("zhiyuan's polars frame", out_pl)):
        named = {col: got[col] for col in ("level", "next_level", "minutes_missing")}
        check(name, {**named, "minutes": got["counted_minutes"]}, got["volunteer"], want_ids, ours)
    pdf, s_pd = best_of(lambda: plain_pandas(frame))
    check("pandas", pdf, pdf["volunteer"].to_numpy(), want_ids, ours)
    plf, s_pl = best_of(lambda: plain_polars(polars_frame))
    check("polars", plf, plf["volunteer"].to_numpy(), want_ids, ours)
    faster = min(s_pd, s_pl)
    print(f"zhiyuan rate_stars, pandas frame in and out:           {s_ours:6.3f} s")
    print(f"zhiyuan rate_stars, polars frame in and out:           {s_ours_pl:6.3f} s")
    print(f"  (from the polars frame, the ids read as Python strings: {s_ids:6.3f} s)")
    print(f"plain pandas (mask, groupby().sum(), searchsorted):     {s_pd:6.3f} s")
    print(f"plain polars (mask, group_by().sum(), searchsorted):    {s_pl:6.3f} s; same results")
    for form, secs in (("polars", s_ours_pl), ("pandas", s_ours)):
        ratio = faster / secs
        print(
            f"zhiyuan on the {form} frame is {s_pd / secs:.2f}× pandas and {s_pl / secs:.2f}× "
            f"polars; against the faster, {ratio:.2f}× "
            f"(target ≥ 3×: {verdict(ratio, 3, lower_is_better=False)})"
        )


def main() -> None:
    data, s_gen = timed(generate)
    raw = {**data, "volunteer": string_ids(data["volunteer"])}
    frame = pd.DataFrame(raw)
    polars_frame = pl.DataFrame(raw)
    print(
        f"generated {RECORDS:,} records for {VOLUNTEERS:,} volunteers in {s_gen:.1f} s (untimed); "
        f"ids: {ID_FORM}"
    )
    gc.collect()

    # every side from the string ids, warm, best of 3: first with the C allocator as a process
    # has it, then with glibc keeping freed memory (keep_freed_memory, as the zhiyuan command
    # sets it; polars' own allocator keeps freed memory already)
    for allocator in ("default allocator", "keep_freed_memory()"):
        if allocator != "default allocator" and not keep_freed_memory():
            print("keep_freed_memory() does nothing here (not glibc): one pass only")
            break
        print(f"-- {allocator}")
        compare(frame, polars_frame)

    # the call itself, on ids already coded
    gc.collect()
    cols = Columns.of(data, volunteer_ids=np.arange(VOLUNTEERS, dtype=np.int64))
    result, secs = best_of(lambda: rate_stars(cols, SCHEME, AS_OF))
    print(
        f"rate_stars on coded ids: {secs:.3f} s for {len(result):,} volunteers "
        f"(target ≤ 1 s: {verdict(secs, 1.0)})"
    )
    peak = peak_rss_mb()
    print(
        f"peak RSS {peak:,.0f} MB for the whole run, the string-id frames of all three included "
        f"(target ≤ 2,048 MB for the call: see bench notes)"
    )
    print("volunteers per level:", dict(sorted(Counter(result.level.tolist()).items())))


if __name__ == "__main__":
    main()
