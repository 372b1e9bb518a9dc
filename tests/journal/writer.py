"""A writer process for the crash and concurrency tests (run with the test's Python).

    python writer.py URL MODE PREFIX COUNT

MODE ``points``: COUNT operations on a points ledger, each an earning and a spend of two legs in
one transaction (three postings, all or none), ids ``<PREFIX>-<k>``. MODE ``hours``: COUNT
batches of 50 service records through ``post_many`` (one operation each). After each operation
returns, the process prints ``ack <k>`` and flushes: what it printed was acknowledged.
"""

from __future__ import annotations

import sys
from datetime import date, datetime, timedelta

from zhiyuan import SHANGHAI
from zhiyuan.credit import PointsLedger
from zhiyuan.hierarchy import Organization, Registry, load_default
from zhiyuan.hours import Evidence, HourLedger, ServiceRecord, Volunteer
from zhiyuan.store import open_journal

BATCH = 50
T0 = datetime(2025, 1, 1, tzinfo=SHANGHAI)


def points(url: str, prefix: str, count: int) -> None:
    journal = open_journal(url)
    book = PointsLedger(journal=journal)
    for k in range(count):
        vid = f"{prefix}-v{k % 7}"
        with journal.transaction():
            book.earn(f"{prefix}-e{k}", vid, 10, at=T0, issuer="issuer:test")
            book.earn(f"{prefix}-f{k}", vid, 10, at=T0, issuer="issuer:test")
            book.spend(f"{prefix}-s{k}", vid, 15, at=T0 + timedelta(hours=1))
        print(f"ack {k}", flush=True)


def hours(url: str, prefix: str, count: int) -> None:
    journal = open_journal(url)
    registry = Registry(
        load_default(), [Organization(id="o1", name="协会", region_code="370602001")]
    )
    ledger = HourLedger(registry, journal=journal)
    vid = f"{prefix}-v"
    ledger.add_volunteer(
        Volunteer(id=vid, name="王芳", home_region="370602001001", registered_on=date(2024, 1, 1))
    )
    for k in range(count):
        batch = [
            ServiceRecord(
                id=f"{prefix}-r{k}-{i}",
                volunteer_id=vid,
                activity_id="a",
                organization_id="o1",
                region_code="370602001001",
                category="助老",
                evidence=Evidence.QR_SCAN,
                start=T0 + timedelta(hours=2 * (k * BATCH + i)),
                end=T0 + timedelta(hours=2 * (k * BATCH + i) + 1),
            )
            for i in range(BATCH)
        ]
        ledger.post_many(batch, at=datetime(2026, 1, 1, tzinfo=SHANGHAI))
        print(f"ack {k}", flush=True)


if __name__ == "__main__":
    url, mode, prefix, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    {"points": points, "hours": hours}[mode](url, prefix, count)
