"""The what-if on a real-format file of 10,000,000 records, read from Parquet.

A city's export as the analyst receives it: string volunteer ids, 12-digit region codes as text,
local times, evidence and category as text, one row per record, in a Parquet file (generated
once from 烟台's synthetic history at full scale and kept in ``benchmarks/.cache``, so the
clock sees only the analyst's part). Timed: :func:`zhiyuan.simulate.from_records` reading the
file, then :func:`zhiyuan.simulate.compare` replaying it under the demo's two scenarios. Printed:
the seconds of each, and the process's peak memory against the file's size.
``python benchmarks/bench_whatif_records.py [records]`` (default 10,000,000).
"""

from __future__ import annotations

import gc
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from _util import ROOT, peak_rss_mb, timed

from zhiyuan.__main__ import demo_scenarios
from zhiyuan.hierarchy import load_default
from zhiyuan.simulate import CITY_PROFILES, compare, from_records, generate

RECORDS = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000
CACHE = ROOT / "benchmarks" / ".cache"


def export(path: Path) -> None:
    """Write an export of about ``RECORDS`` records of 烟台 (string ids, local times)."""
    tree = load_default()
    profile = CITY_PROFILES["yantai"]
    probe = generate(profile, tree, scale=0.02, seed=5)
    scale = min(1.0, 0.02 * RECORDS / probe.n_records)
    pop = generate(profile, tree, scale=scale, seed=5)
    del probe
    take = min(RECORDS, pop.n_records)
    ids = np.array([f"3706{i:08d}" for i in range(pop.n_volunteers)], dtype=object)
    villages = np.array(pop.villages, dtype=object)
    local = pa.timestamp("s")
    table = pa.table(
        {
            "volunteer_id": pa.array(ids[pop.volunteer[:take]], pa.string()),
            "region_code": pa.array(villages[pop.place[:take]], pa.string()),
            "start": pa.array(pop.start[:take] + 8 * 3600, local),  # local times, no zone
            "end": pa.array(pop.end[:take] + 8 * 3600, local),
            "evidence": pa.array(
                np.array([e.value for e in pop.evidence_kinds], dtype=object)[pop.evidence[:take]],
                pa.string(),
            ),
            "category": pa.array(
                np.array(pop.categories, dtype=object)[pop.category[:take]], pa.string()
            ),
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)


def main() -> None:
    path = CACHE / f"yantai-{RECORDS}.parquet"
    if not path.exists():
        _, secs = timed(lambda: export(path))
        print(f"wrote the export once: {path.name} in {secs:.0f} s (untimed below)")
    gc.collect()
    size_mb = path.stat().st_size / 2**20
    tree = load_default()
    a, b = demo_scenarios()
    before = peak_rss_mb()
    city, s_read = timed(lambda: from_records(path, tree))
    result, s_replay = timed(lambda: compare(city, a, b, tree))
    peak = peak_rss_mb()
    print(
        f"{city.n_records:,} records of {city.n_volunteers:,} volunteers in {city.profile.name}, "
        f"Parquet file {size_mb:,.0f} MB"
    )
    print(f"from_records (read the file, encode, order): {s_read:6.1f} s")
    print(f"compare (replay under A and B):              {s_replay:6.1f} s")
    print(f"the what-if in all:                          {s_read + s_replay:6.1f} s")
    print(
        f"peak RSS {peak:,.0f} MB ({peak / size_mb:.1f}× the file; {before:,.0f} MB before reading)"
    )
    print(
        f"counted hours A {result.a.counted_minutes // 60:,}, B {result.b.counted_minutes // 60:,}"
    )


if __name__ == "__main__":
    main()
