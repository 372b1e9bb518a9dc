"""Reopen a city-size journal: 10,000,000 entries in SQLite, with and without a checkpoint.

The store holds a year of a city's points (积分): 10,000,000 postings for 1,000,000 volunteers
(earnings, and spends of one or two legs against them), written once through the journal with
their chained digests. A fresh process then opens the store and rebuilds the points ledger:

* without a checkpoint, by decoding and folding every record;
* with a checkpoint (the folded state saved at the head), by loading it and folding the tail
  (here 1% of the records, written after the checkpoint).

Target (issue 10): with a checkpoint ≤ 10 s and ≤ 2 GB peak; without one, reported. An hour
ledger is measured the same way on 2,000,000 entries (its state holds every record, so its
memory grows with the history, not only with the people): seconds and peak memory per million.

``python benchmarks/bench_journal_reopen.py [N]`` (default 10,000,000 postings).
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from _util import ROOT, peak_rss_mb

from zhiyuan import SHANGHAI
from zhiyuan.credit import PointsLedger, Posting, PostingKind
from zhiyuan.journal import Journal
from zhiyuan.store import SQLiteStore

ARGS = [a for a in sys.argv[1:] if not a.startswith("--")]
CLOCK = datetime(2026, 1, 1, tzinfo=SHANGHAI)
T0 = datetime(2025, 1, 1, tzinfo=SHANGHAI)


def build_points(path: Path, n: int, tail: float) -> int:
    """Write ``n`` postings; checkpoint after ``1 - tail`` of them. Returns the checkpoint seq."""
    journal = Journal(SQLiteStore(path, durable=False), clock=lambda: CLOCK)
    book = PointsLedger(journal=journal)
    rng = random.Random(7)
    people = max(n // 10, 1)
    open_lots: dict[int, list[tuple[str, int]]] = {}
    batch: list[Posting] = []
    written = 0
    cp = 0
    k = 0

    def flush() -> None:
        nonlocal written
        with journal.transaction() as tx:
            tx.add(book, batch)
        written += len(batch)
        batch.clear()

    while written + len(batch) < n:
        k += 1
        v = rng.randrange(people)
        at = T0 + timedelta(minutes=k % 500_000)
        lots = open_lots.setdefault(v, [])
        if len(lots) < 2 or rng.random() < 0.55:
            pid = f"e{k}"
            amount = rng.randrange(1, 40)
            batch.append(
                Posting(
                    id=pid,
                    at=at,
                    kind=PostingKind.EARN,
                    source="issuer:city",
                    target=f"volunteer:v{v}",
                    amount=amount,
                    expires_at=at + timedelta(days=730),
                )
            )
            lots.append((pid, amount))
        else:
            lot, left = lots.pop(0)
            take = rng.randrange(1, left + 1)
            batch.append(
                Posting(
                    id=f"s{k}#1",
                    at=at,
                    kind=PostingKind.SPEND,
                    source=f"volunteer:v{v}",
                    target="redemption",
                    amount=take,
                    lot=lot,
                )
            )
            if take < left:
                lots.insert(0, (lot, left - take))
        if len(batch) >= min(20_000, max(n // 200, 1)):
            flush()
            if not cp and written >= n * (1 - tail):
                cp = journal.checkpoint()
    if batch:
        flush()
    journal.close()
    return cp


def reopen(path: Path, kind: str) -> None:
    """In this process: open the store and rebuild the book; print seconds and peak RSS."""
    t0 = time.perf_counter()
    journal = Journal(SQLiteStore(path))
    if kind == "points":
        book = PointsLedger(journal=journal)
        size = len(book)
    else:
        from zhiyuan.hierarchy import Organization, Registry, load_default
        from zhiyuan.hours import HourLedger

        reg = Registry(load_default(), [Organization(id="o1", name="协会", region_code="370602")])
        size = len(HourLedger(reg, journal=journal))
    print(json.dumps({"seconds": time.perf_counter() - t0, "rss_mb": peak_rss_mb(), "size": size}))


def measure(path: Path, kind: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--reopen", str(path), kind],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def drop_checkpoints(path: Path) -> Path:
    import shutil
    import sqlite3

    bare = path.with_name(path.stem + "-bare.db")
    shutil.copy(path, bare)
    with sqlite3.connect(bare) as conn:
        conn.execute("DELETE FROM checkpoints")
    return bare


def build_hours(path: Path, n_records: int) -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import bench_journal as bj

    bj.N, bj.VOLUNTEERS = n_records, max(n_records // 10, 1)
    registry, vols, recs = bj.make_input()
    from zhiyuan.hours import HourLedger

    journal = Journal(SQLiteStore(path, durable=False), clock=lambda: CLOCK)
    ledger = HourLedger(registry, volunteers=vols, journal=journal)
    for k in range(0, len(recs), 20_000):
        ledger.post_many(recs[k : k + 20_000], at=bj.POSTED_AT)
        if k == (len(recs) * 99 // 100) // 20_000 * 20_000:
            journal.checkpoint()
    journal.close()


def main() -> None:
    n = int(ARGS[0]) if ARGS else 10_000_000
    work = Path(tempfile.mkdtemp(prefix="zhiyuan-reopen-"))
    path = work / "points.db"
    t0 = time.perf_counter()
    cp = build_points(path, n, tail=0.01)
    built = time.perf_counter() - t0
    size_mb = path.stat().st_size / 1e6
    print(
        f"points: {n:,} postings written in {built:.0f} s ({n / built:,.0f}/s), {size_mb:,.0f} MB"
    )
    with_cp = measure(path, "points")
    print(
        f"  reopen with a checkpoint at {cp:,} (tail {n - cp:,}): {with_cp['seconds']:.1f} s, "
        f"{with_cp['rss_mb']:,.0f} MB peak   (target <= 10 s, <= 2,000 MB)"
    )
    bare = drop_checkpoints(path)
    without = measure(bare, "points")
    print(
        f"  reopen without a checkpoint: {without['seconds']:.1f} s, "
        f"{without['rss_mb']:,.0f} MB peak"
    )
    hours_n = max(n // 10, 1_000)  # records; about two entries each with auto-certify off: one
    hpath = work / "hours.db"
    t0 = time.perf_counter()
    build_hours(hpath, hours_n)
    print(f"hours: {hours_n:,} records written in {time.perf_counter() - t0:.0f} s")
    h_cp = measure(hpath, "hours")
    h_bare = measure(drop_checkpoints(hpath), "hours")
    empty = work / "empty.db"
    Journal(SQLiteStore(empty)).close()
    base = measure(empty, "hours")["rss_mb"]  # the interpreter, the library and the tree
    per = 1e6 / hours_n
    print(
        f"  reopen with a checkpoint: {h_cp['seconds']:.1f} s, {h_cp['rss_mb']:,.0f} MB peak "
        f"(an empty ledger: {base:,.0f} MB; a million records add "
        f"{h_cp['seconds'] * per:.1f} s and {(h_cp['rss_mb'] - base) * per:,.0f} MB)"
    )
    print(
        f"  reopen without a checkpoint: {h_bare['seconds']:.1f} s, {h_bare['rss_mb']:,.0f} MB peak"
    )


if __name__ == "__main__":
    if "--reopen" in sys.argv:
        i = sys.argv.index("--reopen")
        reopen(Path(sys.argv[i + 1]), sys.argv[i + 2])
    else:
        main()
