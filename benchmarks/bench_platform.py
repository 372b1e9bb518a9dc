"""The platform's whole flow: post → certify → points → stars, on SQLite and in memory.

Target (the platform issue): 100,000 volunteers and 1,000,000 records through
:class:`~zhiyuan.platform.Platform` on SQLite with durable commits (WAL, ``synchronous=FULL``)
at **at least 20,000 operations/s**; the same flow in memory is reported beside it.

The input is ``bench_hours_post``'s records (the same seed, as ``bench_journal`` uses): N records
over N/10 volunteers in 烟台 (3706), organized by one organization in 芝罘区 (370602), and a grant
of every action to ``admin`` over 370602. The policies are the defaults: the national hour
policy (nothing certified on posting, so certifying is an operation of its own), 1 h = 1 point
with carry, the national star scheme. One hook counts the events, so that every certification
also rates the volunteer's stars (a platform only rates them when someone listens).

An *operation* is one platform write: ``post`` of a record by ``admin``, or ``certify`` of it
(a record the policy rejects is posted and not certified). They go through the batched form,
``with city.transaction():`` around 10,000 records (each posted, then each certified), one
durable commit per batch. The volunteers register themselves, in batches, before the clock.

The journal's clock is fixed after the last record ends (a replay's clock: every operation at
one moment), or with ``--ticking`` a microsecond later at every call (a live platform's: no two
certifications at one moment). Under the fixed clock every certification ties on its moment, so
conversions order a volunteer's records by id rather than by when they were certified, and the
platform's carry corrections (top-ups, partial take-backs) do their work.

Each side is timed on a fresh platform, warm, best of ``RUNS`` (3 unless ``--runs=K``; at full
size a run takes minutes, so ``--runs=1`` there), and checked after every run:
``reconcile`` over a sample of 1,000 volunteers finds no drift, no hook failed, and each
volunteer's points are counted against their certified whole hours (the counted minutes that
count toward points, over 60, rounded down: what 1 h = 1 point with carry gives in any order);
a difference is printed, and the script ends with status 1 after its figures. Peak memory is the process's
resident high-water mark during each side's runs (reset between sides where Linux allows), the
input records included.

``python benchmarks/bench_platform.py [N] [--runs=K] [--no-sqlite] [--no-memory] [--ticking]``
(default N = 1,000,000). ``--profile`` instead profiles one in-memory run of ``N`` records
(default 100,000) with cProfile and prints the top 25 entries by cumulative time to stderr.
"""

from __future__ import annotations

import cProfile
import gc
import itertools
import pstats
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from _util import peak_rss_mb, verdict

from zhiyuan import SHANGHAI
from zhiyuan.hierarchy import Grant, Level, Organization, Registry, load_default
from zhiyuan.hours import Purpose, ServiceRecord, Status, Volunteer
from zhiyuan.platform import Event, Platform

ARGS = [a for a in sys.argv[1:] if not a.startswith("--")]
FLAGS = [a for a in sys.argv[1:] if a.startswith("--")]
PROFILE = "--profile" in FLAGS
N = int(ARGS[0]) if ARGS else (100_000 if PROFILE else 1_000_000)
VOLUNTEERS = max(N // 10, 1)
RUNS = next((int(a.split("=", 1)[1]) for a in FLAGS if a.startswith("--runs=")), 3)
BATCH = 10_000
ADMIN = "admin"
ORG_REGION = "370602"  # 芝罘区, 烟台
SAMPLE = 1_000
TARGET = 20_000
CLOCK = datetime(2026, 1, 15, 12, tzinfo=SHANGHAI)
TICKING = "--ticking" in FLAGS


def make_input() -> tuple[Registry, list[Volunteer], list[ServiceRecord]]:
    """The records of ``bench_hours_post`` (the same seed): N records, N/10 volunteers."""
    tree = load_default()
    villages = [r.code for r in tree if r.level is Level.VILLAGE and r.code.startswith("3706")]
    registry = Registry(tree, [Organization(id="o1", name="协会", region_code=ORG_REGION)])
    argv, sys.argv = sys.argv, sys.argv[:1]  # it reads N from the command line when imported
    try:
        import bench_hours_post
    finally:
        sys.argv = argv
    bench_hours_post.N, bench_hours_post.VOLUNTEERS = N, VOLUNTEERS
    vols, recs = bench_hours_post.make_records(villages)
    return registry, vols, recs


class Flow:
    """The input, the platforms made from it, the timed flow and its checks."""

    def __init__(
        self, registry: Registry, vols: list[Volunteer], recs: list[ServiceRecord]
    ) -> None:
        self.registry, self.vols, self.recs = registry, vols, recs
        assert max(r.end for r in recs) < CLOCK  # every record is over by "now"
        self.ticks = itertools.count()
        self.grants = [Grant(principal=ADMIN, region_code=ORG_REGION)]
        self.events: Counter[str] = Counter()
        self.work = Path(tempfile.mkdtemp(prefix="zhiyuan-bench-platform-"))
        self.count = 0
        self.failed = False
        self.sample = random.Random(7).sample([v.id for v in vols], min(SAMPLE, len(vols)))

    def clock(self) -> datetime:
        """The journal's now: fixed, or a microsecond later at every call with ``--ticking``."""
        return CLOCK + timedelta(microseconds=next(self.ticks)) if TICKING else CLOCK

    def hook(self, event: Event) -> None:
        self.events[event.kind.value] += 1

    def fresh(self, *, sqlite: bool) -> Platform:
        """A new platform with every volunteer registered (by themself, in batches)."""
        if sqlite:
            self.count += 1
            city = Platform.open(
                self.work / f"city{self.count}.db",
                self.registry,
                grants=self.grants,
                clock=self.clock,
            )
        else:
            city = Platform(self.registry, grants=self.grants, clock=self.clock)
        for k in range(0, len(self.vols), BATCH):
            with city.transaction():
                for v in self.vols[k : k + BATCH]:
                    city.register(v, by=v.id)
        city.subscribe(self.hook)
        self.events.clear()
        return city

    def run(self, city: Platform) -> int:
        """The timed flow: every record posted and (unless the policy rejects it) certified by
        ``admin``, 10,000 records to a transaction. Returns the number of operations."""
        recs, ops = self.recs, 0
        post, certify = city.post, city.certify
        for k in range(0, len(recs), BATCH):
            chunk = recs[k : k + BATCH]
            with city.transaction():
                outs = [post(r, by=ADMIN) for r in chunk]
                ok = [
                    r.id
                    for r, o in zip(chunk, outs, strict=True)
                    if o.status is not Status.REJECTED
                ]
                for rid in ok:
                    certify(rid, by=ADMIN)
            ops += len(chunk) + len(ok)
        return ops

    def check(self, city: Platform) -> tuple[int, int]:
        """Check the run: no drift in a sample (``reconcile``), no hook failure, and each
        volunteer's points against their certified whole hours. Returns how many volunteers'
        points differ from that, and by how many points in all (the benchmark then ends with
        status 1, after its figures)."""
        found = city.reconcile(volunteer_ids=self.sample)
        assert found, found.explain()
        assert not city.hook_failures, city.hook_failures[:3]
        minutes: Counter[str] = Counter()
        for r in self.recs:
            o = city.hours.outcome(r.id)
            if o.status is not Status.REJECTED and Purpose.POINTS in o.counts_toward:
                minutes[r.volunteer_id] += o.counted_minutes
        diffs = [city.points.balance(f"volunteer:{v.id}") - minutes[v.id] // 60 for v in self.vols]
        wrong, net = sum(1 for d in diffs if d), sum(diffs)
        if wrong:
            self.failed = True
        return wrong, net

    def close(self) -> None:
        shutil.rmtree(self.work, ignore_errors=True)


def reset_peak() -> bool:
    """Reset the process's resident high-water mark (Linux ``clear_refs``); False if refused."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        return False
    return True


def side(flow: Flow, *, sqlite: bool, runs: int) -> tuple[float, int, float]:
    """Best of ``runs`` of the flow on fresh platforms: seconds, operations, peak MB."""
    gc.collect()
    reset_peak()
    best, ops = float("inf"), 0
    for _ in range(runs):
        city = flow.fresh(sqlite=sqlite)
        gc.collect()
        t0 = time.perf_counter()
        ops = flow.run(city)
        secs = time.perf_counter() - t0
        best = min(best, secs)
        wrong, net = flow.check(city)
        print(
            f"   run: {secs:.1f} s, {ops:,} operations ({ops - N:,} certifications); "
            f"reconcile of {len(flow.sample):,} volunteers: no drift; volunteers whose points "
            f"differ from floor(certified minutes / 60): {wrong:,} (net {net:+,} points)",
            flush=True,
        )
        print(f"   events: {dict(flow.events)}", flush=True)
        city.close()
        del city
        gc.collect()
    return best, ops, peak_rss_mb()


def report(name: str, secs: float, ops: int, peak: float, runs: int) -> float:
    rate = ops / secs
    print(
        f"   {name}: {rate:10,.0f} operations/s  {N / secs:10,.0f} records/s  "
        f"({secs:.1f} s, best of {runs}; peak RSS {peak:,.0f} MB)",
        flush=True,
    )
    return rate


def profile(flow: Flow) -> None:
    city = flow.fresh(sqlite=False)
    gc.collect()
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.runcall(flow.run, city)
    secs = time.perf_counter() - t0
    print(f"profiled one in-memory run of {N:,} records: {secs:.1f} s under cProfile", flush=True)
    pstats.Stats(prof, stream=sys.stderr).sort_stats("cumulative").print_stats(25)


def main() -> None:
    t_start = time.perf_counter()
    t0 = time.perf_counter()
    registry, vols, recs = make_input()
    print(
        f"input: {len(recs):,} records, {len(vols):,} volunteers, "
        f"built in {time.perf_counter() - t0:.1f} s",
        flush=True,
    )
    flow = Flow(registry, vols, recs)
    try:
        if PROFILE:
            profile(flow)
            return
        clock = "ticking by 1 µs a call" if TICKING else "fixed"
        print(f"clock {clock}, {CLOCK.isoformat()}; {BATCH:,} records a transaction")
        rates: dict[str, float] = {}
        if "--no-sqlite" not in FLAGS:
            print("SQLite (durable: WAL, synchronous=FULL)", flush=True)
            secs, ops, peak = side(flow, sqlite=True, runs=RUNS)
            rates["sqlite"] = report("SQLite", secs, ops, peak, RUNS)
            ok = verdict(rates["sqlite"], TARGET, lower_is_better=False)
            print(f"   target >= {TARGET:,} operations/s: {ok}")
        if "--no-memory" not in FLAGS:
            print("in memory", flush=True)
            secs, ops, peak = side(flow, sqlite=False, runs=RUNS)
            rates["memory"] = report("memory", secs, ops, peak, RUNS)
        if len(rates) == 2:
            print(f"ratio memory / SQLite: {rates['memory'] / rates['sqlite']:.2f}")
    finally:
        flow.close()
    print(f"total {time.perf_counter() - t_start:.1f} s; peak RSS {peak_rss_mb():,.0f} MB")
    if flow.failed:
        sys.exit("CHECK FAILED: some volunteers' points differ from their certified hours")


if __name__ == "__main__":
    main()
