"""10,000,000 postings across 1,000,000 accounts: postings/s, balance-query time, peak memory.

Target (issue 5): ≥ 200,000 postings/s on the object path; a balance query in O(1). The mix is
60 % earnings (issuer → volunteer, each opening a lot), 30 % spending from a lot (volunteer →
redemption) and 10 % gifts between volunteers. Postings are built first (timed separately),
then posted with ``PointsLedger.post_many`` in batches of 100,000, which checks every posting
(ids, lots, amounts) before applying it. ``python benchmarks/bench_points.py [postings] [accounts]``.
"""

from __future__ import annotations

import random
import sys
import time
from datetime import datetime, timedelta

from _util import peak_rss_mb, timed, verdict

from zhiyuan._validators import SHANGHAI
from zhiyuan.credit import PointsLedger, Posting, PostingKind, volunteer_account

N = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000
ACCOUNTS = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
BATCH = 100_000


def build() -> list[Posting]:
    rng = random.Random(5)
    base = datetime(2025, 1, 1, tzinfo=SHANGHAI)
    times = [base + timedelta(minutes=m) for m in range(0, 525_600, 7)]
    accts = [volunteer_account(f"v{i}") for i in range(ACCOUNTS)]
    lots: list[list[object]] = []  # [lot id, account, remaining]
    out: list[Posting] = []
    for k in range(N):
        at = times[k * len(times) // N]
        r = rng.random()
        if r < 0.6 or not lots:
            acct = accts[k % ACCOUNTS]
            amount = rng.randint(1, 8)
            pid = f"e{k}"
            out.append(
                Posting(
                    id=pid,
                    at=at,
                    kind=PostingKind.EARN,
                    source="issuer:烟台",
                    target=acct,
                    amount=amount,
                )
            )
            lots.append([pid, acct, amount])
            continue
        i = rng.randrange(len(lots))
        lot = lots[i]
        remaining = int(str(lot[2]))
        take = rng.randint(1, remaining)
        if r < 0.9:
            out.append(
                Posting(
                    id=f"s{k}",
                    at=at,
                    kind=PostingKind.SPEND,
                    source=str(lot[1]),
                    target="redemption",
                    amount=take,
                    lot=str(lot[0]),
                )
            )
        else:
            to = accts[rng.randrange(ACCOUNTS)]
            if to == lot[1]:
                to = accts[(accts.index(to) + 1) % ACCOUNTS] if ACCOUNTS < 1000 else accts[0]
            out.append(
                Posting(
                    id=f"t{k}",
                    at=at,
                    kind=PostingKind.TRANSFER,
                    source=str(lot[1]),
                    target=to,
                    amount=take,
                    lot=str(lot[0]),
                )
            )
            lots.append([f"t{k}", to, take])
        lot[2] = remaining - take
        if lot[2] == 0:
            lots[i] = lots[-1]
            lots.pop()
    return out


def main() -> None:
    postings, s_build = timed(build)
    print(f"built {len(postings):,} postings in {s_build:.1f} s ({len(postings) / s_build:,.0f}/s)")
    ledger = PointsLedger()

    def post_all() -> None:
        for i in range(0, len(postings), BATCH):
            ledger.post_many(postings[i : i + BATCH])

    _, secs = timed(post_all)
    rate = len(postings) / secs
    print(
        f"posted {len(postings):,} in {secs:.1f} s = {rate:,.0f} postings/s "
        f"(target ≥ 200,000: {verdict(rate, 200_000, lower_is_better=False)})"
    )
    accounts = ledger.accounts()
    print(f"accounts: {len(accounts):,}; sum over all accounts: {sum(accounts.values())}")
    probe = [volunteer_account(f"v{i}") for i in range(0, ACCOUNTS, max(ACCOUNTS // 100_000, 1))]
    t0 = time.perf_counter()
    for a in probe:
        ledger.balance(a)
    per = (time.perf_counter() - t0) / len(probe) * 1e9
    print(f"balance query: {per:,.0f} ns each over {len(probe):,} accounts (a dict lookup: O(1))")
    t0 = time.perf_counter()
    now = datetime(2026, 1, 1, tzinfo=SHANGHAI)
    for a in probe[:10_000]:
        ledger.available(a[len("volunteer:") :], as_of=now)
    per_av = (time.perf_counter() - t0) / min(len(probe), 10_000) * 1e6
    print(f"lot-aware available(): {per_av:,.1f} µs each (O(open lots of the volunteer))")
    print(f"peak RSS {peak_rss_mb():,.0f} MB")


if __name__ == "__main__":
    main()
