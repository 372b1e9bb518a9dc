"""Real processes on real stores: a writer killed with SIGKILL mid-batch loses nothing it
acknowledged and leaves nothing half written; two writers at once give the union."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from zhiyuan.credit import PointsLedger
from zhiyuan.hierarchy import Organization, Registry, load_default
from zhiyuan.hours import HourLedger
from zhiyuan.store import open_journal

BATCH = 50  # the batch size of writer.py's "hours" mode

WRITER = Path(__file__).with_name("writer.py")
REPO = Path(__file__).resolve().parents[2]


def start(url: str, mode: str, prefix: str, count: int) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    return subprocess.Popen(
        [sys.executable, str(WRITER), url, mode, prefix, str(count)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def kill_after(proc: subprocess.Popen[str], acks: int) -> int:
    """Read acknowledgements until ``acks`` arrived, then SIGKILL mid-work; returns the count."""
    assert proc.stdout is not None
    seen = 0
    for line in proc.stdout:
        if line.startswith("ack "):
            seen += 1
            if seen >= acks:
                break
    time.sleep(0.02)  # let it get into the next operation
    proc.send_signal(signal.SIGKILL)
    rest, _ = proc.communicate()
    return seen + sum(1 for line in rest.splitlines() if line.startswith("ack "))


def test_a_killed_writer_keeps_every_acknowledged_operation_and_no_half(store_url: str) -> None:
    proc = start(store_url, "points", "p", 10_000)
    acked = kill_after(proc, 40)
    assert proc.returncode == -signal.SIGKILL
    journal = open_journal(store_url)
    assert journal.verify().ok
    book = PointsLedger(journal=journal)
    ops = Counter(p.id.split("#")[0][len("p-") :][:1] for p in book.postings)
    earned = ops["e"]
    # every acknowledged operation is there, and every operation there is whole
    assert earned >= acked
    assert ops["e"] == ops["f"]
    spends = {p.id.split("#")[0] for p in book.postings if p.id.startswith("p-s")}
    assert len(spends) == earned
    assert book.total() == 0
    assert book.balance("redemption") == 15 * earned
    journal.close()


def test_a_killed_batch_of_hours_is_all_there_or_not_at_all(store_url: str) -> None:
    proc = start(store_url, "hours", "h", 10_000)
    acked = kill_after(proc, 5)
    journal = open_journal(store_url)
    assert journal.verify().ok
    registry = Registry(
        load_default(), [Organization(id="o1", name="协会", region_code="370602001")]
    )
    ledger = HourLedger(registry, journal=journal)
    assert len(ledger) % BATCH == 0
    assert len(ledger) >= acked * BATCH
    journal.close()


def finish(procs: list[subprocess.Popen[str]]) -> list[tuple[int, str, str]]:
    """Wait for every process (closing its pipes), then return code, stdout, stderr of each."""
    done = [p.communicate(timeout=300) for p in procs]
    return [(p.returncode, out, err) for p, (out, err) in zip(procs, done, strict=True)]


def test_two_writers_at_once_give_the_union(store_url: str) -> None:
    procs = [start(store_url, "points", prefix, 60) for prefix in ("a", "b")]
    for code, out, err in finish(procs):
        assert code == 0, err
        assert out.count("ack ") == 60
    journal = open_journal(store_url)
    check = journal.verify()
    assert check.ok and check.checked == len(journal) == 2 * 60 * 4  # 2 earns + 2 legs each
    book = PointsLedger(journal=journal)
    ids = [p.id for p in book.postings]
    assert len(ids) == len(set(ids))
    assert {i.split("-")[0] for i in ids} == {"a", "b"}
    assert book.balance("redemption") == 2 * 60 * 15 and book.total() == 0
    journal.close()


def test_two_writers_of_the_same_operations_record_each_once(store_url: str) -> None:
    procs = [start(store_url, "points", "same", 40) for _ in range(2)]
    for code, _, err in finish(procs):
        assert code == 0, err
    journal = open_journal(store_url)
    assert journal.verify().ok and len(journal) == 40 * 4
    book = PointsLedger(journal=journal)
    assert book.balance("redemption") == 40 * 15
    journal.close()
