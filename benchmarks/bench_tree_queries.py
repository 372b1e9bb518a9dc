"""Queries over the whole-country tree: 1,000,000 ``is_within`` checks and a rollup of 1,000,000
values, by the object path (``RegionTree``) and the array path (``zhiyuan.bulk.regions``), beside
pandas and polars doing the same from the same input.

Targets (issues): object ``is_within`` ×1M ≤ 0.5 s; array ``within`` ×1M ≤ 0.1 s; array
``rollup`` of 1M string codes ≥ 1.5× as fast as pandas (``str[:k]`` and ``groupby`` per level).

Every figure is the best of 3 warm runs, with the input (a list of 12-digit string codes and a
list of ints, as a ledger export gives them) built before the clock; each side converts it to its
own form inside the clock. Results are checked equal outside the clock.
``python benchmarks/bench_tree_queries.py``.
"""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
from _util import NBS, verdict

from zhiyuan.bulk import regions
from zhiyuan.hierarchy import Level, RegionTree

T = TypeVar("T")
N = 1_000_000
DIGITS = (2, 4, 6, 9, 12)


def best_of(fn: Callable[[], T], runs: int = 3) -> tuple[T, float]:
    """``fn()`` once to warm up, then the best wall-clock seconds of ``runs`` more."""
    out = fn()
    best = float("inf")
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return out, best


def line(what: str, seconds: float, note: str = "") -> None:
    print(f"{what:<52} {seconds:6.3f} s  {note}")


def main() -> None:
    with tempfile.TemporaryDirectory() as cache:
        tree = RegionTree.from_nbs_dir(NBS, cache_dir=cache)
    rng = random.Random(7)
    codes = tree.codes
    villages = [c for c in codes if not c.endswith("000")]
    counties = [c for c in codes if c.endswith("000000") and not c.endswith("00000000")]
    # Half the pairs ask about the village's own county (true), half about a random one.
    pairs = []
    for k in range(N):
        v = rng.choice(villages)
        pairs.append((v, v[:6] + "000000" if k % 2 else rng.choice(counties)))
    left = [a for a, _ in pairs]
    right = [b for _, b in pairs]
    regions.region_rows(tree, left[:10])  # the tree's arrays, built once per tree (not timed)

    print(f"whole country: {len(tree):,} regions; {N:,} codes per query\n")
    print("-- is_within, one pair at a time (object path) --")
    within = tree.is_within
    hits, s_obj = best_of(lambda: sum(1 for a, b in pairs if within(a, b)))
    line(f"RegionTree.is_within x{N:,} pairs", s_obj, f"target ≤ 0.5 s: {verdict(s_obj, 0.5)}")
    short_pairs = [(a, b[:6]) for a, b in pairs[:100_000]]
    _, s_short = best_of(lambda: sum(1 for a, b in short_pairs if within(a, b)))
    line("RegionTree.is_within x100,000, short ancestor codes", s_short)

    print("\n-- within, a whole column (array path) --")
    arr_pairs, s_arr_pairs = best_of(lambda: regions.within(tree, left, right))
    assert int(arr_pairs.sum()) == hits
    line(
        f"regions.within x{N:,} pairs, from lists of str",
        s_arr_pairs,
        f"{s_obj / s_arr_pairs:.1f}x the object path",
    )
    county = pairs[1][1]
    mask, s_mask = best_of(lambda: tree.within_mask(left, county))
    line(f"RegionTree.within_mask x{N:,}, one ancestor", s_mask)
    arr, s_arr = best_of(lambda: regions.within(tree, left, county))
    assert arr.tolist() == mask
    line(
        f"regions.within x{N:,}, one ancestor, from a list of str",
        s_arr,
        f"target ≤ 0.1 s: {verdict(s_arr, 0.1)}",
    )
    ints = regions.parse_codes(left)
    arr_i, s_arr_i = best_of(lambda: regions.within(tree, ints, county))
    assert arr_i.tolist() == mask
    line(
        f"regions.within x{N:,}, one ancestor, from int64 codes",
        s_arr_i,
        f"target ≤ 0.1 s: {verdict(s_arr_i, 0.1)}",
    )
    text = np.array(left)
    _, s_arr_u = best_of(lambda: regions.within(tree, text, county))
    line(f"regions.within x{N:,}, one ancestor, from a numpy str array", s_arr_u)
    prefix = county[:6]
    peers_within(left, prefix, mask, s_arr)

    print("\n-- rollup of (code, value) rows --")
    values = [rng.randint(1, 600) for _ in range(N)]
    rows = list(zip(left, values, strict=True))
    totals, s_roll = best_of(lambda: tree.rollup(rows))
    line(f"RegionTree.rollup of {N:,} rows", s_roll, f"{len(totals):,} totals")
    arr_totals, s_roll_arr = best_of(lambda: regions.rollup(tree, left, values))
    assert arr_totals.to_dict() == totals
    line(
        f"regions.rollup of {N:,} rows, from lists",
        s_roll_arr,
        f"{s_roll / s_roll_arr:.1f}x the object path",
    )
    peers_rollup(left, values, totals, s_roll_arr)

    print("\n-- ancestors and the table --")
    _, s_anc = best_of(lambda: regions.ancestor_codes(tree, left, Level.COUNTY))
    line(f"regions.ancestor_codes x{N:,} (county), from a list", s_anc)
    _, s_frame = best_of(lambda: regions.region_frame(tree, ancestors=["city", "county"]))
    line(f"regions.region_frame of {len(tree):,} regions (+2 levels)", s_frame)


def peers_within(left: list[str], prefix: str, mask: list[bool], ours: float) -> None:
    """The nearest peer: a prefix test (``str.startswith``), which checks no membership."""
    import pandas as pd

    got, s_pd = best_of(lambda: pd.Series(left).str.startswith(prefix).to_numpy())
    assert got.tolist() == mask
    line(
        "  pandas str.startswith (no membership check)",
        s_pd,
        f"regions.within is {s_pd / ours:.1f}x as fast",
    )
    pl = polars()
    if pl is not None:
        got, s_pl = best_of(lambda: pl.Series(left).str.starts_with(prefix).to_numpy())
        assert got.tolist() == mask
        line(
            "  polars str.starts_with (no membership check)",
            s_pl,
            f"regions.within is {s_pl / ours:.1f}x as fast",
        )


def peers_rollup(left: list[str], values: list[int], totals: dict[str, int], ours: float) -> None:
    """pandas and polars: a prefix per level (``str[:k]``), a groupby-sum per level."""
    import pandas as pd

    def with_pandas() -> list[Any]:
        s = pd.Series(left)
        v = pd.Series(values, dtype="int64")
        return [v.groupby(s.str[:k]).sum() for k in DIGITS]

    got, s_pd = best_of(with_pandas)
    assert _padded({k: int(t) for g in got for k, t in g.items()}) == totals
    ratio = s_pd / ours
    line(
        "  pandas str[:k] + groupby, 5 levels",
        s_pd,
        f"regions.rollup is {ratio:.2f}x as fast (target ≥ 1.5x: "
        f"{verdict(ratio, 1.5, lower_is_better=False)})",
    )
    pl = polars()
    if pl is None:
        print("  polars: not installed")
        return

    def with_polars() -> list[Any]:
        df = pl.DataFrame({"code": left, "v": values})
        return [df.group_by(pl.col("code").str.slice(0, k)).agg(pl.col("v").sum()) for k in DIGITS]

    got_pl, s_pl = best_of(with_polars)
    assert _padded({c: int(t) for g in got_pl for c, t in g.iter_rows()}) == totals
    line("  polars str.slice + group_by, 5 levels", s_pl, f"regions.rollup is {s_pl / ours:.2f}x")


def _padded(by_prefix: dict[str, int]) -> dict[str, int]:
    """Prefix totals as the tree's codes (东莞's ``441900`` and ``4419`` pad alike, with equal
    totals)."""
    return {k.ljust(12, "0"): v for k, v in by_prefix.items()}


def polars() -> Any:
    try:
        import polars as pl
    except ImportError:
        return None
    return pl


if __name__ == "__main__":
    main()
