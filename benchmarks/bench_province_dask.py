"""山东 what-if on Dask, partitioned by county, against its sequential twin; and the nation's plan.

Issue 16: the same 山东 run as ``bench_province.py`` on Dask — each county a partition, drawn
and replayed under both scenarios by its own task, the partitions' totals added up in a tree
(:mod:`zhiyuan.simulate.dask`) — on a local cluster of ``workers`` processes (dask's
``processes`` scheduler: ``dask.distributed`` is not installed here). It checks that the result
equals the sequential twin's (same partitions, one after the other in this process), and prints:

- wall and CPU seconds of both runs (the Dask run's CPU is this process's plus its workers',
  which are reaped when the run ends);
- peak memory: of this process (``VmHWM``), and per partition (the high-water mark of its
  worker process at the partition's end, and the largest block's columns); for the whole
  process tree, run it under ``/usr/bin/time -v``;
- the partitions and their cost: CPU seconds per million records, overall and per partition;
- the plan for the nation from these costs: 2.36亿 volunteers (POLICIES.md §6.1, 2024-04) at the
  national 15 h each, partitioned by county over the whole country's villages.

``python benchmarks/bench_province_dask.py [scale] [workers] [--no-twin]`` (default 0.1 and 2).
The tree is the whole country's (``data/nbs``). One run each: at full scale a run is minutes.
"""

from __future__ import annotations

import resource
import statistics
import sys
import time

import attrs
from _util import NBS, peak_rss_mb

from zhiyuan.__main__ import demo_scenarios
from zhiyuan.hierarchy import Level, RegionTree
from zhiyuan.simulate import CityProfile, profile_for
from zhiyuan.simulate.dask import (
    PartitionCost,
    compare_partitioned,
    compare_sequential,
    partitions,
)

ARGS = [a for a in sys.argv[1:] if not a.startswith("--")]
SCALE = float(ARGS[0]) if ARGS else 0.1
WORKERS = int(ARGS[1]) if len(ARGS) > 1 else 2
TWIN = "--no-twin" not in sys.argv
SEED = 2023

NATION_VOLUNTEERS = 236_000_000  # 2024-04 (POLICIES.md §6.1)
NATION_HOURS_EACH = (
    15  # the national 10–20 h per registered volunteer (NATIONAL_HOURS_PER_VOLUNTEER)
)


def _cpu(who: int) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def _same(x: object, y: object) -> bool:
    return attrs.evolve(x, seconds=0) == attrs.evolve(y, seconds=0)  # type: ignore[misc]


def main() -> None:
    tree = RegionTree.from_nbs_dir(NBS)  # the whole country: every village of 山东
    a, b = demo_scenarios()
    parts = partitions("37", tree, scale=SCALE, seed=SEED)
    busy = [p for p in parts if p.volunteers]
    biggest = max(busy, key=lambda p: p.volunteers)
    print(
        f"山东 at {SCALE:g}×, by county: {len(parts)} partitions ({len(busy)} with volunteers), "
        f"{sum(p.volunteers for p in parts):,} volunteers; the largest {biggest.name} "
        f"({biggest.code[:6]}): {len(biggest.villages):,} villages, {biggest.volunteers:,} volunteers"
    )

    costs: list[PartitionCost] = []
    cpu0, kids0 = _cpu(resource.RUSAGE_SELF), _cpu(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    on_dask = compare_partitioned(
        "37", a, b, tree, scale=SCALE, seed=SEED, scheduler="processes", num_workers=WORKERS,
        costs=costs,
    )  # fmt: skip
    secs = time.perf_counter() - t0
    driver_cpu = _cpu(resource.RUSAGE_SELF) - cpu0
    worker_cpu = _cpu(resource.RUSAGE_CHILDREN) - kids0
    records = on_dask.a.records
    print(
        f"  Dask, {WORKERS} worker processes: {on_dask.a.volunteers:,} volunteers, "
        f"{records:,} records; A {on_dask.a.counted_minutes // 60:,} h, "
        f"B {on_dask.b.counted_minutes // 60:,} h; {len(on_dask.a.hours_by_region)} counties"
    )
    print(
        f"    {secs:.1f} s wall, {driver_cpu + worker_cpu:.1f} s CPU ({worker_cpu:.1f} s in the "
        f"workers, {driver_cpu:.1f} s in this process)"
    )
    # (ru_maxrss of the reaped workers is no use: it keeps the parent's peak across exec)
    print(
        f"    peak memory: this process {peak_rss_mb():,.0f} MB (the tree of the whole country "
        f"included), each worker ≤ {max(c.peak_mb for c in costs):,.0f} MB (VmHWM)"
    )

    task_cpu = sum(c.cpu_seconds for c in costs)
    per_m = task_cpu * 1e6 / records
    secs_each = sorted(c.cpu_seconds for c in costs)
    worst = max(costs, key=lambda c: c.cpu_seconds)
    print(
        f"  cost per partition: {per_m:.2f} CPU s per million records (both scenarios, drawn "
        f"and replayed; {task_cpu:.1f} s in {len(costs)} tasks); per partition median "
        f"{statistics.median(secs_each):.2f} s, max {worst.cpu_seconds:.2f} s ({worst.code[:6]}, "
        f"{worst.records:,} records, {worst.cpu_per_million_records:.2f} s/M)"
    )
    print(
        f"  memory per partition: worker high-water mark at a partition's end ≤ "
        f"{max(c.peak_mb for c in costs):,.0f} MB; largest block's columns "
        f"{max(c.block_bytes for c in costs) / 2**20:,.0f} MB "
        f"({max(c.records for c in costs):,} records)"
    )

    if TWIN:
        cpu0 = _cpu(resource.RUSAGE_SELF)
        t0 = time.perf_counter()
        twin = compare_sequential("37", a, b, tree, scale=SCALE, seed=SEED)
        twin_secs = time.perf_counter() - t0
        twin_cpu = _cpu(resource.RUSAGE_SELF) - cpu0
        equal = _same(on_dask.a, twin.a) and _same(on_dask.b, twin.b)
        print(
            f"  sequential twin (same partitions, this process): {twin_secs:.1f} s wall, "
            f"{twin_cpu:.1f} s CPU; results equal: {equal}"
        )
        print(f"    peak memory of this process after both: {peak_rss_mb():,.0f} MB")
        if not equal:
            raise SystemExit("the Dask result differs from the sequential twin's")

    plan(tree, per_m, records / (on_dask.a.volunteers or 1), max(c.peak_mb for c in costs))


def plan(tree: RegionTree, per_m: float, records_each_sd: float, peak_mb: float) -> None:
    """The nation from the measured cost: partitions by county, records, CPU, wall on W workers."""
    sd = profile_for("37", tree)
    # records per volunteer scale with hours per volunteer (山东 28 h, the nation 15 h)
    records_each = records_each_sd * NATION_HOURS_EACH / (sd.cumulative_hours / sd.volunteers)
    provinces = tree.roots()
    villages = {
        p.code: sum(1 for r in tree.descendants(p.code) if r.code[9:] != "000") for p in provinces
    }
    everywhere = sum(villages.values())
    sizes: list[int] = []
    for prov in provinces:
        if not villages[prov.code]:
            continue
        share = NATION_VOLUNTEERS * villages[prov.code] // everywhere
        profile = CityProfile(
            name=prov.name or prov.code, region_code=prov.code, volunteers=share,
            cumulative_hours=share * NATION_HOURS_EACH,
        )  # fmt: skip
        sizes += [p.volunteers for p in partitions(profile, tree, by=Level.COUNTY, scale=1.0)]
    total_records = NATION_VOLUNTEERS * records_each
    cpu = total_records / 1e6 * per_m
    largest = max(sizes) * records_each / 1e6 * per_m
    print(
        f"the nation: {NATION_VOLUNTEERS:,} volunteers over {everywhere:,} villages, "
        f"{len(sizes):,} county partitions (largest {max(sizes):,} volunteers); "
        f"{total_records / 1e8:.1f}亿 records at {records_each:.1f} each; "
        f"{cpu:,.0f} CPU s at {per_m:.2f} s/M ({cpu / 3600:.1f} CPU h)"
    )
    for workers in (16, 64, 256):
        wall = max(cpu / workers, largest)
        print(f"  {workers:>3} workers: ≥ {wall / 60:.1f} min (largest partition {largest:.0f} s)")
    print(f"  memory per worker (one task at a time): ≤ {peak_mb:,.0f} MB measured here")


if __name__ == "__main__":
    main()
