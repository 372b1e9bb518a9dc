"""Province-scale what-ifs on Dask: the region partitioned by county, each partition drawn and
replayed under both scenarios by its own task, the partitions' totals added up in a tree.

:func:`~zhiyuan.simulate.compare_blocks` replays a province in one process, a block of volunteers
at a time. Every figure of a replay is a sum over volunteers, so the volunteers can just as well
be split by place and replayed anywhere; this module does that with ``dask.delayed`` (the
``dask`` extra, which brings ``dask.distributed``: on a cluster, ``compute`` goes to its client,
and :func:`worker_usage` reads what its workers used), and :func:`compare_sequential` does
exactly the same without dask, so that the two can be checked against each other (tests do,
on dask's local schedulers and on a ``LocalCluster``: the results are equal, all but
``seconds``).

**Partitions.** :func:`partitions` splits a region (a province, a city …) into one
:class:`Partition` per region at level ``by`` (default :attr:`Level.COUNTY
<zhiyuan.hierarchy.Level.COUNTY>`) below it, holding its villages and communities; a village
with no ancestor at that level (a city without counties, like 东莞) belongs to its nearest
ancestor above it. The region's volunteers (its published totals, as
:func:`~zhiyuan.simulate.profile_for` gives them, times ``scale``, at least 1) are shared out by
each partition's share of the region's villages, by largest remainders, so that the shares add up
to the whole exactly. Every volunteer's hours are scaled by the same factor, the region's
hours over the expected draws of its volunteers (as :func:`~zhiyuan.simulate.generate_blocks`
does), so the partitions' hours add up to the region's in expectation.

**Random streams.** A partition draws the weights of its villages from
``default_rng([seed, code])`` and its ``k``-th block of volunteers from
``default_rng([seed, code, k])`` (``code`` the partition's 12-digit code as a number): a
partition's population depends on its own code, size and the seed only, not on which task or
worker draws it nor on the other partitions. Volunteers live and mostly serve in their own
partition's villages; the 15 % of records served elsewhere are served elsewhere *in the
partition*. The population is the same kind as :func:`~zhiyuan.simulate.generate_blocks` draws
for the region, not the same one.

**Memory.** A task draws its partition ``block_volunteers`` at a time and replays each block
under A and B before drawing the next (500,000 by default,
``zhiyuan.simulate.population.BLOCK_VOLUNTEERS``), so a worker holds one block, whatever the
size of the partition or of the region.

**Totals.** A task returns what its volunteers add up to under each scenario (counted minutes,
star level counts, points issued and outstanding, points by month, minutes per village keyed by
village code) and the :class:`PartitionCost` of its run. Those add up exactly (integers), in a
tree of ``fan_in`` at a time; the driver then rolls the minutes per village up to the counties
and builds the two :class:`~zhiyuan.simulate.ScenarioResult` as a one-process replay does. A
scenario with a sample of needs (``dispatch`` and ``needs``) has them dispatched among the first
block of the first partition.

The plan for a nation-wide run on a real cluster (2.36亿 volunteers, 2,977 partitions by county,
about 1,400 CPU seconds: 1.5 minutes on 16 workers of 1–1.5 GB each) is in :doc:`/howto/simulate`
("The plan for the whole country"), from the costs measured by
``benchmarks/bench_province_dask.py`` (山东 at full scale, 1.98亿 records: 0.97 CPU s per million
records; 102 s on two worker processes against 181 s in one, results equal; on a
``dask.distributed`` ``LocalCluster`` the same CPU, 0.93 times the ``processes`` scheduler's,
and 1.24 GB a worker, once its workers' ``MALLOC_TRIM_THRESHOLD_`` is unset: distributed's
default of 65536 doubles the CPU in page faults).

Example:
    >>> from zhiyuan.hierarchy import load_default
    >>> from zhiyuan.simulate import Scenario
    >>> from zhiyuan.scoring import STAR_PROFILES
    >>> tree = load_default()
    >>> a, b = Scenario(), Scenario(name="zjg", stars=STAR_PROFILES["zhangjiagang"])
    >>> parts = partitions("3706", tree, scale=0.001)          # 烟台, by county
    >>> len(parts), sum(p.volunteers for p in parts)
    (13, 1460)
    >>> on_dask = compare_partitioned("3706", a, b, tree, scale=0.001, scheduler="synchronous")
    >>> in_turn = compare_sequential("3706", a, b, tree, scale=0.001)
    >>> import attrs
    >>> attrs.evolve(on_dask.b, seconds=0) == attrs.evolve(in_turn.b, seconds=0)
    True
    >>> on_dask.b.star_counts.get(1, 0) > on_dask.a.star_counts.get(1, 0)
    True
"""

from __future__ import annotations

import functools
import importlib
import operator
import os
import resource
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any

import attrs

from zhiyuan.convert import structure, unstructure
from zhiyuan.errors import InvalidValue
from zhiyuan.hierarchy.codes import Level
from zhiyuan.hierarchy.tree import RegionTree
from zhiyuan.simulate.population import (
    _SIGMA,
    BLOCK_VOLUNTEERS,
    CityProfile,
    Population,
    _checked,
    _draw,
    _quiet,
    np,
    profile_for,
)
from zhiyuan.simulate.replay import (
    BLOCK_RECORDS,
    Scenario,
    _blocks,
    _end_of,
    _result,
    _Shape,
    _Totals,
)
from zhiyuan.simulate.report import Comparison

__all__ = [
    "FAN_IN",
    "Partition",
    "PartitionCost",
    "WorkerUsage",
    "compare_partitioned",
    "compare_sequential",
    "partitions",
    "worker_usage",
]

FAN_IN = 8
"""How many partial totals one reduction task adds up (the fan-in of the reduction tree)."""


@attrs.frozen(kw_only=True)
class Partition:
    """One partition of a region: a county (or the region at level ``by``), its villages and
    how many volunteers it draws, with everything needed to draw them anywhere (no tree).

    ``profile`` is the partitioned region's (its history window and inactive share apply to
    every partition); ``hours_per_draw`` is the hours a volunteer's lognormal draw of 1 stands
    for, the same in every partition of a run.

    Example:
        >>> from zhiyuan.hierarchy import load_default
        >>> part = partitions("3706", load_default(), scale=0.001)[0]
        >>> part.name, part.code, part.volunteers, len(part.villages)
        ('芝罘区', '370602000000', 35, 158)
        >>> [b.n_volunteers for b in part.blocks(block_volunteers=20)]
        [20, 15]
    """

    code: str
    name: str
    villages: tuple[str, ...]
    volunteers: int
    profile: CityProfile
    scale: float
    seed: int
    hours_per_draw: float

    def blocks(self, *, block_volunteers: int = BLOCK_VOLUNTEERS) -> Iterator[Population]:
        """The partition's volunteers and their records, ``block_volunteers`` at a time (each
        block numbered from 0, over the partition's villages), from the partition's own random
        streams (see the module doc): the same blocks every time, on any machine.

        Example:
            >>> from zhiyuan.hierarchy import load_default
            >>> part = partitions("370202", load_default(), scale=0.01)[0]   # 市南区: one county
            >>> first = next(part.blocks(block_volunteers=500))
            >>> first.n_volunteers, first.villages == part.villages
            (500, True)
        """
        _check_block(block_volunteers)
        if not self.volunteers:
            return
        key = int(self.code)
        weights = np.random.default_rng([self.seed, key]).gamma(2.0, 1.0, len(self.villages))
        p_village = weights / weights.sum()
        per_draw = self.hours_per_draw
        for k, lo in enumerate(range(0, self.volunteers, block_volunteers)):
            size = min(block_volunteers, self.volunteers - lo)
            rng = np.random.default_rng([self.seed, key, k])
            columns = _draw(
                self.profile,
                self.villages,
                p_village,
                size,
                rng,
                lambda raw: raw * per_draw,
                _quiet,
            )
            yield Population(
                profile=self.profile,
                scale=self.scale,
                seed=self.seed,
                villages=self.villages,
                **columns,
            )


@attrs.frozen(kw_only=True)
class PartitionCost:
    """What replaying one partition under both scenarios cost, measured by its task.

    ``seconds`` is the task's wall time and ``cpu_seconds`` the CPU time of the thread that ran
    it (drawing and both replays); ``block_bytes`` the size of the largest block's columns (the
    data a worker holds for it, besides the replay's working arrays); ``peak_mb`` the peak
    resident memory of the process that ran it, read at its end: a worker's high-water mark so
    far (with one task at a time per worker process, as dask's ``processes`` scheduler and
    ``dask.distributed`` with one thread per worker run them, it bounds the partition's; under
    threads it is the whole process's).

    Example:
        >>> cost = PartitionCost(code="370602000000", volunteers=10, records=2_000_000, blocks=1,
        ...                      seconds=3.0, cpu_seconds=2.5, block_bytes=50_000_000, peak_mb=400.0)
        >>> cost.cpu_per_million_records
        1.25
    """

    code: str
    volunteers: int
    records: int
    blocks: int
    seconds: float
    cpu_seconds: float
    block_bytes: int
    peak_mb: float

    @property
    def cpu_per_million_records(self) -> float:
        """CPU seconds per million records (0 for a partition without records)."""
        return self.cpu_seconds * 1e6 / self.records if self.records else 0.0


def partitions(
    region: CityProfile | object,
    tree: RegionTree,
    *,
    by: Level = Level.COUNTY,
    scale: float = 0.01,
    seed: int = 2023,
) -> tuple[Partition, ...]:
    """``region`` split into one :class:`Partition` per region at level ``by`` below it, in the
    tree's order, its volunteers shared out by villages (see the module doc).

    ``region`` is a :class:`~zhiyuan.simulate.CityProfile` or a region code (its profile is
    :func:`~zhiyuan.simulate.profile_for`'s). A region at or below ``by`` is one partition. A
    partition may draw no volunteers at a small scale (``volunteers == 0``): it is not replayed.

    Raises:
        NotFound: the code is not in the tree.
        InvalidValue: ``by`` is not a level from province to township, the region has no
            villages, or ``scale`` or ``seed`` is out of range.

    Example:
        >>> from zhiyuan.hierarchy import load_default, Level
        >>> tree = load_default()
        >>> [(p.name, p.volunteers) for p in partitions("37", tree, by=Level.CITY, scale=0.0001)]
        [('青岛市', 423), ('烟台市', 1297)]
    """
    profile = region if isinstance(region, CityProfile) else profile_for(region, tree)
    if not isinstance(by, Level) or by is Level.VILLAGE:
        raise InvalidValue("by", by, "需要省级到乡级的层级 / a Level, province to township")
    villages = _checked(profile, tree, scale, seed)
    groups = _groups(tree, profile.region_code, villages, by)
    n_vol = max(round(profile.volunteers * scale), 1)
    shares = _apportion(n_vol, [len(v) for v in groups.values()])
    # E[raw] of one volunteer: the active share times the lognormal mean exp(σ²/2)
    mean_raw = (1 - profile.inactive_share / 100) * float(np.exp(_SIGMA**2 / 2))
    per_draw = profile.cumulative_hours * scale / (n_vol * mean_raw)
    return tuple(
        Partition(
            code=code,
            name=tree[code].name or code,
            villages=tuple(members),
            volunteers=share,
            profile=profile,
            scale=scale,
            seed=seed,
            hours_per_draw=per_draw,
        )
        for (code, members), share in zip(groups.items(), shares, strict=True)
    )


def _groups(
    tree: RegionTree, root: str, villages: tuple[str, ...], by: Level
) -> dict[str, list[str]]:
    """The villages under ``root`` by their nearest ancestor at level ``by`` or above (and
    below ``root``; else ``root``), in the order of their first village."""
    if tree.level(root).depth >= by.depth:
        return {root: list(villages)}
    key_of: dict[str | None, str] = {}
    groups: dict[str, list[str]] = {}
    for village in villages:
        parent = tree[village].parent_code
        key = key_of.get(parent)
        if key is None:
            key = root
            for up in tree.ancestors(village):  # nearest first
                if up.code == root:
                    break
                if up.level.depth <= by.depth:
                    key = up.code
                    break
            key_of[parent] = key
        groups.setdefault(key, []).append(village)
    return groups


def _apportion(total: int, weights: Sequence[int]) -> list[int]:
    """``total`` shared out in proportion to ``weights`` by largest remainders (ties to the
    first): whole numbers that add up to ``total``."""
    whole = sum(weights)
    quotas = [total * w for w in weights]
    shares = [q // whole for q in quotas]
    left = total - sum(shares)
    for i in sorted(range(len(weights)), key=lambda i: (-(quotas[i] % whole), i))[:left]:
        shares[i] += 1
    return shares


def _check_block(block_volunteers: object) -> None:
    if (
        isinstance(block_volunteers, bool)
        or not isinstance(block_volunteers, int)
        or block_volunteers < 1
    ):
        raise InvalidValue("block_volunteers", block_volunteers, "需要正整数 / a whole number ≥ 1")


@attrs.define
class _Partial:
    """What some partitions add up to: totals under A and B, their shape, their costs."""

    a: _Totals
    b: _Totals
    shape: _Shape
    costs: tuple[PartitionCost, ...]

    def __add__(self, other: _Partial) -> _Partial:
        return _Partial(
            a=self.a + other.a,
            b=self.b + other.b,
            shape=self.shape + other.shape,
            costs=(*self.costs, *other.costs),
        )


def _merge(*parts: _Partial) -> _Partial:
    """Partial totals added up (a reduction task)."""
    return functools.reduce(operator.add, parts)


def _peak_mb() -> float:
    """The peak resident memory of this process so far, in MB (``VmHWM``, else ``ru_maxrss``)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:  # pragma: no cover - without /proc
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # pragma: no cover


@attrs.frozen(kw_only=True)
class WorkerUsage:
    """What one worker process of a ``dask.distributed`` cluster has used since it started, as
    :func:`worker_usage` reads it: its CPU seconds (user + system, all its threads: the tasks,
    and the worker's own communication and bookkeeping) and its peak resident memory in MB
    (``VmHWM``). ``pid`` is the worker's process; workers in the calling process
    (``LocalCluster(processes=False)``) share it, and then both figures are the whole process's.

    Example:
        >>> WorkerUsage(address="tcp://10.0.0.7:40123", pid=4242, cpu_seconds=61.5, peak_mb=1019.8)
        WorkerUsage(address='tcp://10.0.0.7:40123', pid=4242, cpu_seconds=61.5, peak_mb=1019.8)
    """

    address: str
    pid: int
    cpu_seconds: float
    peak_mb: float


def _usage() -> tuple[int, float, float]:
    """This process's pid, CPU seconds and peak memory in MB (run on each worker)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return os.getpid(), r.ru_utime + r.ru_stime, _peak_mb()


def worker_usage(client: Any) -> tuple[WorkerUsage, ...]:
    """The CPU and peak memory of each worker of a ``dask.distributed`` client's cluster, by
    address: read on the workers (``client.run``), so before and after a
    :func:`compare_partitioned` run the difference of ``cpu_seconds`` is what the run cost the
    workers, and ``peak_mb`` after it bounds what a worker held (see :class:`WorkerUsage`; a
    high-water mark since the worker started, so a fresh cluster's peak is the run's).

    Raises:
        InvalidValue: ``client`` is not a ``dask.distributed`` client.

    Example:
        >>> from distributed import Client, LocalCluster
        >>> from zhiyuan.hierarchy import load_default
        >>> from zhiyuan.simulate import Scenario
        >>> a, b, tree = Scenario(), Scenario(name="same"), load_default()
        >>> with LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
        ...                   dashboard_address=":0") as cluster, Client(cluster) as client:
        ...     cmp = compare_partitioned("3706", a, b, tree, scale=0.001, scheduler=client)
        ...     used = worker_usage(client)
        >>> cmp.a.volunteers, len(used), all(u.peak_mb > 0 and u.cpu_seconds > 0 for u in used)
        (1460, 2, True)
        >>> worker_usage("tcp://10.0.0.7:8786")
        Traceback (most recent call last):
            ...
        zhiyuan.errors.InvalidValue: client: 'tcp://10.0.0.7:8786': 需要 dask.distributed 的 Client / a dask.distributed Client
    """
    if not _is_client(client):
        raise InvalidValue(
            "client", client, "需要 dask.distributed 的 Client / a dask.distributed Client"
        )
    got: dict[str, tuple[int, float, float]] = client.run(_usage)
    return tuple(
        WorkerUsage(address=addr, pid=pid, cpu_seconds=round(cpu, 3), peak_mb=round(peak, 1))
        for addr, (pid, cpu, peak) in sorted(got.items())
    )


def _is_client(obj: object) -> bool:
    """Whether ``obj`` is a ``dask.distributed`` client (without importing distributed)."""
    return any(
        c.__name__ == "Client" and c.__module__.startswith("distributed") for c in type(obj).__mro__
    )


def _run(
    part: Partition, spec_a: Any, spec_b: Any, now: datetime, block_volunteers: int
) -> _Partial:
    """Draw ``part`` a block at a time and replay each block under the scenarios ``spec_a``
    and ``spec_b`` (as plain data, see :func:`_plan`) (a task)."""
    t0, c0 = time.perf_counter(), time.thread_time()
    a, b = structure(spec_a, Scenario), structure(spec_b, Scenario)
    today = (int(now.timestamp()) + 8 * 3600) // 86400
    n = len(part.villages)
    ta = _Totals(levels=np.zeros(a.stars.top + 1, dtype=np.int64), per_place=np.zeros(n, np.int64))
    tb = _Totals(levels=np.zeros(b.stars.top + 1, dtype=np.int64), per_place=np.zeros(n, np.int64))
    shape = _Shape()
    blocks = 0
    held = 0
    for pop in part.blocks(block_volunteers=block_volunteers):
        _blocks(pop, a, now, today, ta, None, BLOCK_RECORDS)
        _blocks(pop, b, now, today, tb, None, BLOCK_RECORDS)
        shape.add(pop)
        blocks += 1
        held = max(held, sum(int(getattr(pop, f).nbytes) for f in _COLUMNS))
        del pop  # let the block go before the next is drawn
    cost = PartitionCost(
        code=part.code,
        volunteers=shape.volunteers,
        records=shape.records,
        blocks=blocks,
        seconds=round(time.perf_counter() - t0, 3),
        cpu_seconds=round(time.thread_time() - c0, 3),
        block_bytes=held,
        peak_mb=round(_peak_mb(), 1),
    )
    return _Partial(
        a=ta.keyed(part.villages), b=tb.keyed(part.villages), shape=shape, costs=(cost,)
    )


_COLUMNS = ("home", "registered", "volunteer", "start", "end", "place", "evidence", "category")


def _reduce(items: list[Any], fan_in: int, combine: Callable[..., Any]) -> Any:
    """``items`` combined ``fan_in`` at a time, level by level, down to one."""
    while len(items) > 1:
        items = [combine(*items[i : i + fan_in]) for i in range(0, len(items), fan_in)]
    return items[0]


@attrs.frozen
class _Plan:
    profile: CityProfile
    parts: tuple[Partition, ...]
    now: datetime
    spec_a: Any
    spec_b: Any


def _plan(
    region: CityProfile | object,
    a: Scenario,
    b: Scenario,
    tree: RegionTree,
    by: Level,
    scale: float,
    seed: int,
    block_volunteers: int,
    as_of: datetime | None,
    fan_in: int,
) -> _Plan:
    specs = []
    for name, s in (("a", a), ("b", b)):
        if not isinstance(s, Scenario):
            raise InvalidValue(name, s, "需要 Scenario / need a Scenario")
        # Tasks get the scenario as plain data and rebuild it where they run: an hour policy's
        # rule chain is made of functions that do not survive pickling into another process.
        spec = unstructure(s)
        if structure(spec, Scenario) != s:
            raise InvalidValue(
                name, s.name, "场景须可序列化 / the scenario must round-trip as plain data"
            )
        specs.append(spec)
    _check_block(block_volunteers)
    if isinstance(fan_in, bool) or not isinstance(fan_in, int) or fan_in < 2:
        raise InvalidValue("fan_in", fan_in, "需要 ≥ 2 的整数 / a whole number ≥ 2")
    parts = partitions(region, tree, by=by, scale=scale, seed=seed)
    profile = parts[0].profile
    return _Plan(
        profile=profile,
        parts=tuple(p for p in parts if p.volunteers),
        now=as_of or _end_of(profile.last_day),
        spec_a=specs[0],
        spec_b=specs[1],
    )


def _finish(
    plan: _Plan,
    total: _Partial,
    a: Scenario,
    b: Scenario,
    tree: RegionTree,
    block_volunteers: int,
    t0: float,
    costs: list[PartitionCost] | None,
) -> Comparison:
    """The comparison of a run whose partitions add up to ``total``."""
    if costs is not None:
        costs.extend(total.costs)
    today = (int(plan.now.timestamp()) + 8 * 3600) // 86400
    if any(s.dispatch is not None and s.needs > 0 for s in (a, b)):
        stand = next(plan.parts[0].blocks(block_volunteers=block_volunteers))
    else:  # the place, scale and seed of the run; its minutes are keyed by village
        empty = np.zeros(0, dtype=np.int64)
        stand = Population(
            profile=plan.profile,
            scale=plan.parts[0].scale,
            seed=plan.parts[0].seed,
            villages=(),
            home=empty,
            registered=empty,
            volunteer=empty,
            start=empty,
            end=empty,
            place=empty,
            evidence=empty,
            category=empty,
        )
    return Comparison(
        a=_result(stand, total.shape, a, tree, total.a, today, t0, None),
        b=_result(stand, total.shape, b, tree, total.b, today, t0, None),
    )


def compare_partitioned(
    region: CityProfile | object,
    a: Scenario,
    b: Scenario,
    tree: RegionTree,
    *,
    by: Level = Level.COUNTY,
    scale: float = 0.01,
    seed: int = 2023,
    block_volunteers: int = BLOCK_VOLUNTEERS,
    as_of: datetime | None = None,
    scheduler: Any = None,
    num_workers: int | None = None,
    fan_in: int = FAN_IN,
    costs: list[PartitionCost] | None = None,
) -> Comparison:
    """Replay ``region`` under ``a`` and ``b`` on Dask, one task per :class:`Partition` (see the
    module doc); the comparison :func:`compare_sequential` gives, all but ``seconds`` (the whole
    run's, for both).

    Args:
        region: a :class:`~zhiyuan.simulate.CityProfile` or a region code (a province: ``"37"``).
        a: scenario A.
        b: scenario B.
        tree: the region tree; the whole country's (:doc:`/howto/load-whole-country`) for a
            province's every village. Only the driver uses it: tasks carry their villages.
        by: the level of the partitions (default: counties).
        scale: the share of the region's volunteers to draw (1.0: all of them).
        seed: the run's seed; each partition draws from its own streams of it.
        block_volunteers: how many volunteers a task draws and replays at a time (its memory).
        as_of: the end of the history (default: the end of the profile's last day).
        scheduler: passed to ``dask.compute``: ``"threads"``, ``"processes"``,
            ``"synchronous"``, a ``dask.distributed`` ``Client`` (of a ``LocalCluster`` or
            connected to a real cluster's scheduler), ``"distributed"`` (the active client), or
            ``None`` for dask's default (the active client, if any, else threads). On a client,
            the tasks and their arguments (partitions, scenarios as plain data) are pickled to
            the workers, which need ``zhiyuan`` (with the ``sim`` extra) installed; give each
            worker one thread (``--nthreads 1``) so that its memory is one task's.
        num_workers: the local scheduler's workers (default: dask's, one per core); not with a
            ``dask.distributed`` client, whose cluster has its own workers.
        fan_in: how many partial totals one reduction task adds up.
        costs: a list to which each partition's :class:`PartitionCost` is appended, in the
            order of :func:`partitions`.

    Raises:
        ImportError: dask is not installed (``pip install 'zhiyuan[dask]'``).
        InvalidValue: as :func:`partitions`, or a bad scenario, ``block_volunteers`` or
            ``fan_in``, or ``num_workers`` with a ``dask.distributed`` client.

    Example:
        >>> from zhiyuan.hierarchy import load_default
        >>> from zhiyuan.simulate import Scenario
        >>> cmp = compare_partitioned("3706", Scenario(), Scenario(name="same"), load_default(),
        ...                           scale=0.001, scheduler="threads", num_workers=2)
        >>> cmp.a.volunteers, cmp.a.counted_minutes == cmp.b.counted_minutes, len(cmp.a.hours_by_region)
        (1460, True, 13)

        On a ``dask.distributed`` cluster (here one in this process; :func:`worker_usage` reads
        the workers' CPU and memory):

        >>> from distributed import Client, LocalCluster
        >>> with LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
        ...                   dashboard_address=":0") as cluster, Client(cluster) as client:
        ...     on_cluster = compare_partitioned("3706", Scenario(), Scenario(name="same"),
        ...                                      load_default(), scale=0.001, scheduler=client)
        >>> on_cluster.a == attrs.evolve(cmp.a, seconds=on_cluster.a.seconds)
        True
    """
    t0 = time.perf_counter()
    dask = _dask()
    plan = _plan(region, a, b, tree, by, scale, seed, block_volunteers, as_of, fan_in)
    kwargs: dict[str, Any] = {"scheduler": scheduler}
    if num_workers is not None:
        if _is_client(scheduler) or scheduler in ("distributed", "dask.distributed"):
            raise InvalidValue(
                "num_workers",
                num_workers,
                "分布式集群自有其 worker / a dask.distributed client has its own workers",
            )
        kwargs["num_workers"] = num_workers
    run, merge = dask.delayed(_run), dask.delayed(_merge)
    leaves = [run(p, plan.spec_a, plan.spec_b, plan.now, block_volunteers) for p in plan.parts]
    (total,) = dask.compute(_reduce(leaves, fan_in, merge), **kwargs)
    return _finish(plan, total, a, b, tree, block_volunteers, t0, costs)


def compare_sequential(
    region: CityProfile | object,
    a: Scenario,
    b: Scenario,
    tree: RegionTree,
    *,
    by: Level = Level.COUNTY,
    scale: float = 0.01,
    seed: int = 2023,
    block_volunteers: int = BLOCK_VOLUNTEERS,
    as_of: datetime | None = None,
    fan_in: int = FAN_IN,
    costs: list[PartitionCost] | None = None,
) -> Comparison:
    """:func:`compare_partitioned` without dask: the same partitions, drawn and replayed one
    after the other in this thread and added up in the same tree. Its twin's results must equal
    its own (all but ``seconds``); it also runs where dask is not installed. The arguments are
    :func:`compare_partitioned`'s.

    Example:
        >>> from zhiyuan.hierarchy import load_default
        >>> from zhiyuan.simulate import Scenario
        >>> spent: list[PartitionCost] = []
        >>> cmp = compare_sequential("3706", Scenario(), Scenario(name="same"), load_default(),
        ...                          scale=0.001, costs=spent)
        >>> len(spent), sum(c.records for c in spent) == cmp.a.records
        (13, True)
    """
    t0 = time.perf_counter()
    plan = _plan(region, a, b, tree, by, scale, seed, block_volunteers, as_of, fan_in)
    leaves = [_run(p, plan.spec_a, plan.spec_b, plan.now, block_volunteers) for p in plan.parts]
    total = _reduce(leaves, fan_in, _merge)
    return _finish(plan, total, a, b, tree, block_volunteers, t0, costs)


def _dask() -> Any:
    try:
        return importlib.import_module("dask")
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError(
            "zhiyuan.simulate.dask needs dask: pip install 'zhiyuan[dask]' / 需要 dask"
        ) from exc
