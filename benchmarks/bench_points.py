"""10,000,000 postings across 1,000,000 accounts: postings/s, linearity, bytes held, queries.

Targets (the scale issue): ≥ 250,000 postings/s at 10M, linear (the last tenth of the postings
goes as fast as the first), ≤ 150 B held per posting. The mix is 60 % earnings (issuer →
volunteer, each opening a lot), 30 % spending from a lot (volunteer → redemption) and 10 % gifts
between volunteers. Postings are built first (timed separately), then posted with
``PointsLedger.post_many`` in batches of 100,000, which checks every posting (ids, lots,
amounts) before applying it.

Bytes held per posting = what the ledger's structures grew resident memory by (its journal's
records and index, balances and open lots) + what a posting itself takes (``sys.getsizeof`` of
the object and its id; the ledger keeps each one; its moment and account names are shared here,
so real postings with moments of their own take 48 B more).
``python benchmarks/bench_points.py [postings] [accounts]``.
"""

from __future__ import annotations

import gc
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


def rss() -> int:
    """Resident memory now, in bytes."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * 4096


def main() -> None:
    postings, s_build = timed(build)
    gc.collect()
    n = len(postings)
    sample = postings[:: max(n // 10_000, 1)]  # the object and its id (moments, accounts shared)
    own = sum(sys.getsizeof(p) + sys.getsizeof(p.id) for p in sample) / len(sample)
    print(f"built {n:,} postings in {s_build:.1f} s ({n / s_build:,.0f}/s), {own:.0f} B each")
    ledger = PointsLedger()
    before_post = rss()
    batches = [postings[i : i + BATCH] for i in range(0, n, BATCH)]
    seconds: list[float] = []
    for batch in batches:
        t0 = time.perf_counter()
        ledger.post_many(batch)
        seconds.append(time.perf_counter() - t0)
    secs = sum(seconds)
    gc.collect()
    grown = (rss() - before_post) / n
    rate = n / secs
    print(
        f"posted {n:,} in {secs:.1f} s = {rate:,.0f} postings/s "
        f"(target ≥ 250,000: {verdict(rate, 250_000, lower_is_better=False)})"
    )
    tenth = max(len(seconds) // 10, 1)
    first, last = sum(seconds[:tenth]), sum(seconds[-tenth:])
    print(
        f"linearity: the last tenth took {last / first:.2f}× the first "
        f"(target ≤ 1.2×: {verdict(last / first, 1.2)})"
    )
    held = grown + own
    print(
        f"held: {grown:.0f} B a posting in the ledger's structures + {own:.0f} B the posting "
        f"itself = {held:.0f} B (target ≤ 150 B: {verdict(held, 150)})"
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
        ledger.spendable(a[len("volunteer:") :], at=now)
    per_av = (time.perf_counter() - t0) / min(len(probe), 10_000) * 1e6
    print(f"lot-aware spendable(): {per_av:,.1f} µs each (O(open lots of the volunteer))")
    print(f"peak RSS {peak_rss_mb():,.0f} MB")


if __name__ == "__main__":
    main()
