"""Post 1,000,000 records for 100,000 volunteers through the hour policy: records/s and memory.

Target (issue 3): ≥ 100,000 records/s and ≤ 1.5 KB per record. Two policies are run, each in a
fresh ledger: the national default, and the default with every check switched on (daily cap
8 h with trimming, 30-min units, a 2-h per-record cap, a 30-day deadline): overlap and
daily-cap checks run on every record in both (the national default simply has no cap to hit).
Records are built before the clock starts (their construction rate is printed separately).
``python benchmarks/bench_hours_post.py [N]``.
"""

from __future__ import annotations

import gc
import random
import sys
from datetime import date, datetime, timedelta

from _util import peak_rss_mb, timed, verdict

from zhiyuan._validators import SHANGHAI
from zhiyuan.hierarchy import Organization, Registry, load_default
from zhiyuan.hours import (
    Evidence,
    HourLedger,
    HourPolicy,
    Overflow,
    Rounding,
    ServiceRecord,
    Volunteer,
)

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
VOLUNTEERS = max(N // 10, 1)


def make_records(villages: list[str]) -> tuple[list[Volunteer], list[ServiceRecord]]:
    rng = random.Random(11)
    vols = [
        Volunteer(
            id=f"v{i}",
            name=f"志愿者{i}",
            home_region=villages[i % len(villages)],
            registered_on=date(2020, 1, 1),
        )
        for i in range(VOLUNTEERS)
    ]
    base = datetime(2025, 1, 1, tzinfo=SHANGHAI)
    kinds = list(Evidence)
    recs = []
    for k in range(N):
        v = k % VOLUNTEERS
        day = rng.randrange(365)
        start = base + timedelta(days=day, minutes=rng.randrange(6 * 60, 20 * 60))
        end = start + timedelta(minutes=rng.choice((30, 60, 90, 120, 180, 240, 600)))
        recs.append(
            ServiceRecord(
                id=f"r{k}",
                volunteer_id=f"v{v}",
                activity_id=f"a{k % 5000}",
                organization_id="o1",
                region_code=villages[v % len(villages)],
                category="社区服务",
                evidence=kinds[k % len(kinds)],
                start=start,
                end=end,
            )
        )
    return vols, recs


def rss_mb() -> float:
    """Current resident memory in MB (Linux /proc)."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * 4096 / 1e6


def run(
    policy: HourPolicy, vols: list[Volunteer], recs: list[ServiceRecord], reg: Registry
) -> None:
    now = datetime(2026, 1, 15, tzinfo=SHANGHAI)
    gc.collect()
    before = rss_mb()
    ledger = HourLedger(reg, policies=[policy], volunteers=vols)
    outs, secs = timed(lambda: ledger.post_many(recs, at=now))
    gc.collect()
    mem = (rss_mb() - before) * 1e6
    counted = sum(1 for o in outs if o.counted)
    del outs
    rate = len(recs) / secs
    per_rec = mem / len(recs)
    print(
        f"[{policy.name}] posted {len(recs):,} in {secs:.2f} s = {rate:,.0f} records/s "
        f"(target ≥ 100,000: {verdict(rate, 100_000, lower_is_better=False)}); {counted:,} counted"
    )
    print(
        f"[{policy.name}] ledger RSS growth {mem / 1e6:,.0f} MB = {per_rec:,.0f} B/record, records "
        f"themselves excluded (target ≤ 1,536: {verdict(per_rec, 1536)})"
    )
    one = HourLedger(reg, policies=[policy], volunteers=vols)
    sample = recs[: min(len(recs), 200_000)]
    _, s1 = timed(lambda: [one.post(r, at=now) for r in sample])
    print(f"[{policy.name}] one at a time with post(): {len(sample) / s1:,.0f} records/s")


def main() -> None:
    tree = load_default()
    villages = [r.code for r in tree.descendants("3706") if r.code[9:] != "000"]
    reg = Registry(tree, [Organization(id="o1", name="烟台市志愿服务联合会", region_code="3706")])
    gc.collect()
    before = rss_mb()
    (vols, recs), secs = timed(lambda: make_records(villages))
    rec_mem = (rss_mb() - before) * 1e6
    print(
        f"built {len(recs):,} records for {len(vols):,} volunteers in {secs:.1f} s "
        f"({len(recs) / secs:,.0f}/s); records take {rec_mem / len(recs):,.0f} B each"
    )
    run(HourPolicy(), vols, recs, reg)
    full = HourPolicy(
        name="all-checks",
        daily_cap_minutes=480,
        over_daily_cap=Overflow.TRIM,
        unit_minutes=30,
        rounding=Rounding.DOWN,
        record_cap_minutes=120,
        deadline_days=30,
        late=Overflow.APPROVAL,
    )
    run(full, vols, recs, reg)
    print(f"peak RSS {peak_rss_mb():,.0f} MB")


if __name__ == "__main__":
    main()
