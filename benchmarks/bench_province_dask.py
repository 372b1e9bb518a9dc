"""山东 what-if on Dask, partitioned by county, against its sequential twin; and the nation's plan.

Issue 16: the same 山东 run as ``bench_province.py`` on Dask — each county a partition, drawn
and replayed under both scenarios by its own task, the partitions' totals added up in a tree
(:mod:`zhiyuan.simulate.dask`) — on a local cluster of ``workers`` processes: dask's
``processes`` scheduler, and with ``--distributed`` also ``dask.distributed`` on a
``LocalCluster(n_workers=workers, threads_per_worker=1)`` (the scheduler in this process, each
worker a process of its own, as on a real cluster), twice: with ``MALLOC_TRIM_THRESHOLD_``
unset in the workers, as the ``processes`` scheduler's workers run, and with distributed's
default ``MALLOC_TRIM_THRESHOLD_=65536``, which makes glibc hand every freed array back to the
kernel, so that each new one is page-faulted in afresh (the replay's arrays are many and large:
this doubled the tasks' CPU here). It checks that the results equal each other and the
sequential twin's (same partitions, one after the other in this process), and prints:

- wall and CPU seconds of each run. Both Dask runs are timed the same way, from start to the
  workers' end (the ``processes`` scheduler starts and stops its pool inside ``compute``; the
  cluster is started before and closed after its ``compute``): CPU is this process's plus its
  workers', which are reaped when the run ends. The distributed run also gives ``compute`` alone
  (the cluster up), the workers' CPU during it (read on the workers, ``worker_usage``) and the
  ratio of its wall to the ``processes`` scheduler's, both ways;
- peak memory: of this process (``VmHWM``), and per partition (the high-water mark of its
  worker process at the partition's end, and the largest block's columns); with
  ``--distributed`` each worker's own ``VmHWM`` after the run; for the whole process tree, run
  it under ``/usr/bin/time -v``;
- the partitions and their cost: CPU seconds per million records, overall and per partition;
- with ``--distributed``, the scheduler's cost per task: 3,000 empty tasks (as many as the
  nation's county partitions) on a fresh cluster of the same shape;
- the plan for the nation from these costs: 2.36亿 volunteers (POLICIES.md §6.1, 2024-04) at the
  national 15 h each, partitioned by county over the whole country's villages.

``python benchmarks/bench_province_dask.py [scale] [workers] [--no-twin] [--distributed]``
(default 0.1 and 2). The tree is the whole country's (``data/nbs``). One run each: at full scale
a run is minutes.
"""

from __future__ import annotations

import operator
import os
import resource
import statistics
import sys
import time

import attrs
from _util import NBS, peak_rss_mb

from zhiyuan.__main__ import demo_scenarios
from zhiyuan.hierarchy import Level, RegionTree
from zhiyuan.simulate import CityProfile, Comparison, Scenario, profile_for
from zhiyuan.simulate.dask import (
    PartitionCost,
    compare_partitioned,
    compare_sequential,
    partitions,
    worker_usage,
)

ARGS = [a for a in sys.argv[1:] if not a.startswith("--")]
SCALE = float(ARGS[0]) if ARGS else 0.1
WORKERS = int(ARGS[1]) if len(ARGS) > 1 else 2
TWIN = "--no-twin" not in sys.argv
DISTRIBUTED = "--distributed" in sys.argv
SEED = 2023
EMPTY_TASKS = 3_000  # about the nation's county partitions (2,977)

NATION_VOLUNTEERS = 236_000_000  # 2024-04 (POLICIES.md §6.1)
NATION_HOURS_EACH = (
    15  # the national 10–20 h per registered volunteer (NATIONAL_HOURS_PER_VOLUNTEER)
)


def _cpu(who: int) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def _same(x: object, y: object) -> bool:
    return attrs.evolve(x, seconds=0) == attrs.evolve(y, seconds=0)  # type: ignore[misc]


def _equal(x: Comparison, y: Comparison) -> bool:
    return _same(x.a, y.a) and _same(x.b, y.b)


@attrs.frozen
class _Run:
    """One Dask run: its result, wall and CPU from start to the workers' end, its tasks' costs."""

    result: Comparison
    secs: float
    driver_cpu: float
    worker_cpu: float
    costs: list[PartitionCost]


def _on_processes(a: Scenario, b: Scenario, tree: RegionTree) -> _Run:
    costs: list[PartitionCost] = []
    cpu0, kids0 = _cpu(resource.RUSAGE_SELF), _cpu(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    result = compare_partitioned(
        "37", a, b, tree, scale=SCALE, seed=SEED, scheduler="processes", num_workers=WORKERS,
        costs=costs,
    )  # fmt: skip
    secs = time.perf_counter() - t0
    driver_cpu = _cpu(resource.RUSAGE_SELF) - cpu0
    worker_cpu = _cpu(resource.RUSAGE_CHILDREN) - kids0
    return _Run(result, secs, driver_cpu, worker_cpu, costs)


def _report_costs(run: _Run) -> float:
    """Print the partitions' costs; return the CPU seconds per million records."""
    costs, records = run.costs, run.result.a.records
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
    return per_m


def _on_distributed(a: Scenario, b: Scenario, tree: RegionTree, local: _Run, *, trim: bool) -> None:
    """The same run on a fresh ``dask.distributed`` LocalCluster; print its figures against
    ``local`` (the ``processes`` scheduler's run). ``trim``: distributed's default worker
    environment, ``MALLOC_TRIM_THRESHOLD_=65536``; else that variable unset (glibc's own,
    adaptive threshold, as the ``processes`` scheduler's workers have it)."""
    import dask
    from distributed import Client, LocalCluster

    key = "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"
    # The nanny copies its pre-spawn environment into this process's os.environ, where it would
    # then outrank the configuration for the next cluster: start each from the same environment.
    os.environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    label = "MALLOC_TRIM_THRESHOLD_=65536 (distributed's default)" if trim else (
        "MALLOC_TRIM_THRESHOLD_ unset"
    )  # fmt: skip
    costs: list[PartitionCost] = []
    cpu0, kids0 = _cpu(resource.RUSAGE_SELF), _cpu(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    with dask.config.set({key: dask.config.get(key) if trim else None}):
        cluster = LocalCluster(
            n_workers=WORKERS, threads_per_worker=1, processes=True, dashboard_address=":0"
        )
    client = Client(cluster)
    up = time.perf_counter() - t0
    before = {u.address: u for u in worker_usage(client)}
    faults0 = client.run(_faults)
    c0 = _cpu(resource.RUSAGE_SELF)
    t1 = time.perf_counter()
    result = compare_partitioned(
        "37", a, b, tree, scale=SCALE, seed=SEED, scheduler=client, costs=costs
    )
    compute = time.perf_counter() - t1
    compute_driver = _cpu(resource.RUSAGE_SELF) - c0
    after = worker_usage(client)
    faults = sum(n - faults0[k] for k, n in client.run(_faults).items())
    during = {u.address: u.cpu_seconds - before[u.address].cpu_seconds for u in after}
    t2 = time.perf_counter()
    client.close()
    cluster.close()
    down = time.perf_counter() - t2
    secs = up + compute + down
    driver_cpu = _cpu(resource.RUSAGE_SELF) - cpu0
    worker_cpu = _cpu(resource.RUSAGE_CHILDREN) - kids0
    run = _Run(result, secs, driver_cpu, worker_cpu, costs)

    print(
        f"  dask.distributed, LocalCluster of {WORKERS} worker processes × 1 thread, {label}: "
        f"{secs:.1f} s wall from start to close ({up:.1f} s to start, {compute:.1f} s compute, "
        f"{down:.1f} s to close), {driver_cpu + worker_cpu:.1f} s CPU ({worker_cpu:.1f} s in "
        f"the workers, {driver_cpu:.1f} s in this process with the scheduler)"
    )
    print(
        f"    during compute: {sum(during.values()):.1f} s CPU in the workers "
        f"({', '.join(f'{v:.1f}' for v in during.values())}; read on them; {faults:,} minor "
        f"page faults), {compute_driver:.1f} s in this process (client and scheduler)"
    )
    for u in after:
        print(f"    worker {u.address} (pid {u.pid}): peak {u.peak_mb:,.0f} MB (VmHWM)")
    task_cpu = sum(c.cpu_seconds for c in costs)
    local_task_cpu = sum(c.cpu_seconds for c in local.costs)
    local_all = local.driver_cpu + local.worker_cpu
    print(
        f"    ratio to the processes scheduler (same scale, same workers): wall start to end "
        f"{secs / local.secs:.2f}× ({secs:.1f} s / {local.secs:.1f} s), compute alone "
        f"{compute / local.secs:.2f}×; CPU {(driver_cpu + worker_cpu) / local_all:.2f}×; the "
        f"tasks' own CPU {task_cpu:.1f} s against {local_task_cpu:.1f} s "
        f"({task_cpu / local_task_cpu:.2f}×); workers busy with tasks "
        f"{task_cpu / (WORKERS * compute):.0%} of compute"
    )
    equal = _equal(result, local.result)
    print(f"    results equal to the processes scheduler's: {equal}")
    if not equal:
        raise SystemExit("the distributed result differs from the processes scheduler's")
    _report_costs(run)


def _faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def _empty_tasks() -> float:
    """The distributed scheduler's own cost: seconds per empty task on a fresh cluster."""
    import dask
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=WORKERS, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        tasks = [dask.delayed(operator.pos)(i) for i in range(EMPTY_TASKS)]
        dask.compute(tasks[:10], scheduler=client)  # warm: the workers' first tasks
        t0 = time.perf_counter()
        (got,) = dask.compute(tasks, scheduler=client)
        empty = time.perf_counter() - t0
    assert list(got) == list(range(EMPTY_TASKS))
    per_task = empty / EMPTY_TASKS
    print(
        f"  dask.distributed's scheduler: {EMPTY_TASKS:,} empty tasks in {empty:.2f} s on "
        f"{WORKERS} workers: {per_task * 1e3:.2f} ms a task (wall), "
        f"{per_task * WORKERS * 1e3:.2f} ms of a worker's time"
    )
    return per_task


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

    local = _on_processes(a, b, tree)
    on_dask, costs = local.result, local.costs
    records = on_dask.a.records
    print(
        f"  Dask, {WORKERS} worker processes: {on_dask.a.volunteers:,} volunteers, "
        f"{records:,} records; A {on_dask.a.counted_minutes // 60:,} h, "
        f"B {on_dask.b.counted_minutes // 60:,} h; {len(on_dask.a.hours_by_region)} counties"
    )
    print(
        f"    {local.secs:.1f} s wall, {local.driver_cpu + local.worker_cpu:.1f} s CPU "
        f"({local.worker_cpu:.1f} s in the workers, {local.driver_cpu:.1f} s in this process)"
    )
    # (ru_maxrss of the reaped workers is no use: it keeps the parent's peak across exec)
    print(
        f"    peak memory: this process {peak_rss_mb():,.0f} MB (the tree of the whole country "
        f"included), each worker ≤ {max(c.peak_mb for c in costs):,.0f} MB (VmHWM)"
    )
    per_m = _report_costs(local)
    per_task = None
    if DISTRIBUTED:
        _on_distributed(a, b, tree, local, trim=False)
        _on_distributed(a, b, tree, local, trim=True)
        per_task = _empty_tasks()

    if TWIN:
        cpu0 = _cpu(resource.RUSAGE_SELF)
        t0 = time.perf_counter()
        twin = compare_sequential("37", a, b, tree, scale=SCALE, seed=SEED)
        twin_secs = time.perf_counter() - t0
        twin_cpu = _cpu(resource.RUSAGE_SELF) - cpu0
        equal = _equal(on_dask, twin)
        print(
            f"  sequential twin (same partitions, this process): {twin_secs:.1f} s wall, "
            f"{twin_cpu:.1f} s CPU; results equal: {equal}"
        )
        print(f"    peak memory of this process after both: {peak_rss_mb():,.0f} MB")
        if not equal:
            raise SystemExit("the Dask result differs from the sequential twin's")

    plan(
        tree, per_m, records / (on_dask.a.volunteers or 1), max(c.peak_mb for c in costs), per_task
    )


def plan(
    tree: RegionTree,
    per_m: float,
    records_each_sd: float,
    peak_mb: float,
    per_task: float | None = None,
) -> None:
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
    if per_task is not None:
        print(
            f"  dask.distributed's scheduler: {len(sizes):,} tasks × {per_task * 1e3:.2f} ms "
            f"≈ {len(sizes) * per_task:.1f} s of scheduling (measured here with empty tasks)"
        )
    print(f"  memory per worker (one task at a time): ≤ {peak_mb:,.0f} MB measured here")


if __name__ == "__main__":
    main()
