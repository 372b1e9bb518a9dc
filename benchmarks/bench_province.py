"""山东 what-if at full scale in one process: both scenarios, drawn and replayed in blocks.

Target (issue 16): the whole province — 1,720万 volunteers, about 2亿 records, 4.8亿 hours —
through both scenarios (hours, stars, points, county rollup) in ≤ 10 min and ≤ 8 GB peak on
this machine. ``generate_blocks`` draws 500,000 volunteers at a time and ``compare_blocks``
replays each block under A and B before drawing the next, so memory follows the block. The tree
is the whole country's (``data/nbs``), so the volunteers live in every village of 山东. Also
prints the CPU time, since a shared machine stretches the wall clock.

``python benchmarks/bench_province.py [scale]`` (default 1.0; 0.05 for a quick look). One run:
at this size a run is minutes, and "best of 3" would be most of an hour.
"""

from __future__ import annotations

import resource
import sys
import time

from _util import NBS, peak_rss_mb, verdict

from zhiyuan.__main__ import demo_scenarios
from zhiyuan.hierarchy import RegionTree
from zhiyuan.simulate import compare_blocks, generate_blocks, profile_for

SCALE = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0


def main() -> None:
    tree = RegionTree.from_nbs_dir(NBS)  # the whole country: every village of 山东
    profile = profile_for("37", tree)
    a, b = demo_scenarios()
    records = 0

    def counted():  # type: ignore[no-untyped-def]
        nonlocal records
        for block in generate_blocks(profile, tree, scale=SCALE, seed=2023):
            records += block.n_records
            yield block

    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    cmp = compare_blocks(counted(), a, b, tree)
    secs = time.perf_counter() - t0
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    peak_gb = peak_rss_mb() / 1024
    print(
        f"山东 at {SCALE:g}×: {cmp.a.volunteers:,} volunteers, {records:,} records; "
        f"A {cmp.a.counted_minutes // 60:,} h, B {cmp.b.counted_minutes // 60:,} h"
    )
    print(f"  counties rolled up: {len(cmp.a.hours_by_region)}")
    limit = 600 * SCALE
    print(
        f"  both scenarios, drawn and replayed in blocks: {secs:.1f} s wall, {cpu:.1f} s CPU "
        f"(target ≤ {limit:.0f} s at this scale: {verdict(secs, limit)})"
    )
    print(f"  peak memory: {peak_gb:.2f} GB (target ≤ 8 GB: {verdict(peak_gb, 8)})")


if __name__ == "__main__":
    main()
