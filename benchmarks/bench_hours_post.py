"""Post 1,000,000 records for 100,000 volunteers through the hour policy: records/s and memory.

Under the national rules, ``HourLedger.post_many`` is timed beside a plain-Python dict fold doing
the same rules (the span limit, overlap trimmed against the volunteer's held time, minutes split
over service days and held per day; its results are checked equal to the ledger's), both warm,
best of 3. Targets (the scale issue): ≥ 150,000 records/s, within 1.5× of the plain fold, and
≤ 1 KB held per record (resident memory grown by the ledger, the records themselves excluded).
The default with every check switched on (daily cap 8 h with trimming, 30-min units, a 2-h
per-record cap, a 30-day deadline) is run once, against issue 3's targets (≥ 100,000 records/s,
≤ 1.5 KB a record). Records are built before the clock starts (their construction rate is
printed separately). ``python benchmarks/bench_hours_post.py [N]`` (N records, default 1M).
"""

from __future__ import annotations

import bisect
import gc
import random
import sys
import tracemalloc
from datetime import UTC, date, datetime, timedelta
from typing import Any

from _util import best_of, peak_rss_mb, timed, verdict

from zhiyuan._validators import SHANGHAI
from zhiyuan.hierarchy import Organization, Registry, load_default
from zhiyuan.hours import (
    Evidence,
    HourLedger,
    HourPolicy,
    Outcome,
    Overflow,
    Rounding,
    ServiceRecord,
    Status,
    Volunteer,
)

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
VOLUNTEERS = max(N // 10, 1)
NOW = datetime(2026, 1, 15, tzinfo=SHANGHAI)
TARGET_RATE = 150_000
TARGET_RATIO = 1.5
TARGET_BYTES = 1024


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


# --- the plain fold: the national rules over dicts and tuples ----------------------------------

EPOCH = datetime(1970, 1, 1, tzinfo=SHANGHAI).astimezone(UTC)  # seconds count from 00:00 +08:00
DAY = 86400
MAX_SPAN = HourPolicy().max_span_minutes

Plain = tuple[bool, int, tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]]
"""Accepted?, counted minutes, the segments held, ``(day number, minutes)`` per service day."""


def plain_fold(recs: list[ServiceRecord], now: datetime) -> dict[str, Plain]:
    """The national rules as a plain fold: a record longer than the span limit is rejected; the
    rest count the time no earlier record of the volunteer holds (overlap trimmed), split over
    the days served (earliest first, the last day taking the rest), and hold it. The schedule
    cap does not apply (no record has a schedule), nor does any daily cap (national)."""
    occupied: dict[str, list[tuple[int, int]]] = {}
    day_used: dict[str, dict[int, int]] = {}
    out: dict[str, Plain] = {}
    for r in recs:
        if r.end > now:
            raise ValueError(f"{r.id} ends in the future")
        s = int((r.start - EPOCH).total_seconds())
        e = int((r.end - EPOCH).total_seconds())
        minutes = (e - s) // 60
        if minutes > MAX_SPAN:
            out[r.id] = (False, 0, (), ())
            continue
        vid = r.volunteer_id
        occ = occupied.get(vid)
        if occ is None:
            occ = occupied[vid] = []
            day_used[vid] = {}
        pieces: tuple[tuple[int, int], ...] = ((s, e),)
        i = bisect.bisect_right(occ, (s, s))
        if i > 0 and occ[i - 1][1] > s:
            i -= 1
        if i < len(occ) and occ[i][0] < e:  # overlap: keep what no held segment covers
            cut: list[tuple[int, int]] = []
            cur = s
            while i < len(occ) and occ[i][0] < e:
                hs, he = occ[i]
                if hs > cur:
                    cut.append((cur, hs))
                cur = max(cur, he)
                i += 1
            if cur < e:
                cut.append((cur, e))
            pieces = tuple(cut)
            minutes = sum(b - a for a, b in pieces) // 60
        if len(pieces) == 1 and s // DAY == (e - 1) // DAY:  # one piece on one day
            days: tuple[tuple[int, int], ...] = ((s // DAY, minutes),) if minutes else ()
        else:
            seconds: dict[int, int] = {}
            for a, b in pieces:
                while a < b:
                    n = a // DAY
                    stop = min(b, (n + 1) * DAY)
                    seconds[n] = seconds.get(n, 0) + stop - a
                    a = stop
            split: list[tuple[int, int]] = []
            done = cum = 0
            last = len(seconds) - 1
            for k, (n, sec) in enumerate(sorted(seconds.items())):
                cum += sec
                upto = minutes if k == last else min(minutes, cum // 60)
                if upto > done:
                    split.append((n, upto - done))
                    done = upto
            days = tuple(split)
        if minutes:
            for p in pieces:
                bisect.insort(occ, p)
            used = day_used[vid]
            for n, m in days:
                used[n] = used.get(n, 0) + m
        out[r.id] = (True, minutes, pieces, days)
    return out


def plain_paused(recs: list[ServiceRecord], now: datetime) -> dict[str, Plain]:
    """:func:`plain_fold` with the cyclic garbage collector paused, as ``post_many`` pauses it."""
    gc.disable()
    try:
        return plain_fold(recs, now)
    finally:
        gc.enable()


def same_results(recs: list[ServiceRecord], outs: list[Outcome], plain: dict[str, Plain]) -> int:
    """How many records the plain fold judged otherwise than the ledger."""
    ord0 = date(1970, 1, 1).toordinal()
    wrong = 0
    for r, o in zip(recs, outs, strict=True):
        ok, minutes, segments, days = plain[r.id]
        mine = [(d.toordinal() - ord0, m) for d, m in o.day_minutes]
        if (
            ok != (o.status is not Status.REJECTED)
            or minutes != o.counted_minutes
            or segments != o.segments
            or list(days) != mine
        ):
            wrong += 1
    return wrong


# --- measuring -----------------------------------------------------------------------------


def rss_mb() -> float:
    """Current resident memory in MB (Linux /proc)."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * 4096 / 1e6


def traced_bytes(fn: Any) -> tuple[Any, int]:
    """``fn()`` and the bytes of Python objects it leaves allocated (tracemalloc, exact)."""
    gc.collect()
    tracemalloc.start()
    out = fn()
    gc.collect()
    held = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return out, held


def national(vols: list[Volunteer], recs: list[ServiceRecord], reg: Registry) -> None:
    policy = HourPolicy()
    n = len(recs)

    def post() -> tuple[HourLedger, list[Outcome]]:
        ledger = HourLedger(reg, policies=[policy], volunteers=vols)
        return ledger, ledger.post_many(recs, at=NOW)

    # memory first, in a process that has held no ledger yet: resident growth (what a host
    # pays, with the allocator's overhead) and the bytes of objects held (exact)
    gc.collect()
    before = rss_mb()
    ledger, outs = post()
    del outs
    gc.collect()
    per_rec = (rss_mb() - before) * 1e6 / n
    del ledger
    (ledger, outs), traced = traced_bytes(post)
    del ledger, outs
    plain, plain_traced = traced_bytes(lambda: plain_paused(recs, NOW))
    del plain

    # timed with the cyclic collector off on both sides (post_many pauses it itself): each run
    # keeps the last run's ledger alive until it returns, and a full collection over those
    # millions of objects, set off by the next ledger's setup, would be timed with it
    gc.collect()
    gc.disable()
    try:
        (ledger, outs), secs = best_of(post)
        counted = sum(1 for o in outs if o.counted)
        del ledger
        plain, plain_secs = best_of(lambda: plain_fold(recs, NOW))
    finally:
        gc.enable()
    wrong = same_results(recs, outs, plain)
    del outs, plain
    rate, plain_rate = n / secs, n / plain_secs
    ratio = secs / plain_secs
    print(f"[national] {n:,} records, warm, best of 3; {counted:,} counted")
    print(
        f"[national] post_many {secs:.2f} s = {rate:,.0f} records/s "
        f"(target ≥ {TARGET_RATE:,}: {verdict(rate, TARGET_RATE, lower_is_better=False)})"
    )
    print(
        f"[national] plain-Python dict fold of the same rules {plain_secs:.2f} s = "
        f"{plain_rate:,.0f} records/s ({wrong} records judged otherwise than the ledger)"
    )
    print(
        f"[national] post_many / plain fold = {ratio:.2f}× "
        f"(target ≤ {TARGET_RATIO}×: {verdict(ratio, TARGET_RATIO)})"
    )
    print(
        f"[national] ledger RSS growth {per_rec * n / 1e6:,.0f} MB = {per_rec:,.0f} B/record, "
        f"records themselves excluded (target ≤ {TARGET_BYTES:,}: {verdict(per_rec, TARGET_BYTES)})"
    )
    print(
        f"[national] objects held (tracemalloc): ledger {traced / n:,.0f} B/record, "
        f"plain fold {plain_traced / n:,.0f} B/record"
    )
    if wrong:
        raise SystemExit("the plain fold and the ledger disagree")
    one_at_a_time(policy, vols, recs, reg)


def one_at_a_time(
    policy: HourPolicy, vols: list[Volunteer], recs: list[ServiceRecord], reg: Registry
) -> None:
    one = HourLedger(reg, policies=[policy], volunteers=vols)
    sample = recs[: min(len(recs), 200_000)]
    _, s1 = timed(lambda: [one.post(r, at=NOW) for r in sample])
    print(f"[{policy.name}] one at a time with post(): {len(sample) / s1:,.0f} records/s")


def all_checks(vols: list[Volunteer], recs: list[ServiceRecord], reg: Registry) -> None:
    policy = HourPolicy(
        name="all-checks",
        daily_cap_minutes=480,
        over_daily_cap=Overflow.TRIM,
        unit_minutes=30,
        rounding=Rounding.DOWN,
        record_cap_minutes=120,
        deadline_days=30,
        late=Overflow.APPROVAL,
    )
    gc.collect()
    before = rss_mb()
    ledger = HourLedger(reg, policies=[policy], volunteers=vols)
    outs, secs = timed(lambda: ledger.post_many(recs, at=NOW))
    gc.collect()
    mem = (rss_mb() - before) * 1e6
    counted = sum(1 for o in outs if o.counted)
    del outs
    rate = len(recs) / secs
    per_rec = mem / len(recs)
    print(
        f"[{policy.name}] posted {len(recs):,} in {secs:.2f} s = {rate:,.0f} records/s, cold "
        f"(target ≥ 100,000: {verdict(rate, 100_000, lower_is_better=False)}); "
        f"{counted:,} counted"
    )
    print(
        f"[{policy.name}] ledger RSS growth {mem / 1e6:,.0f} MB = {per_rec:,.0f} B/record, records "
        f"themselves excluded (target ≤ 1,536: {verdict(per_rec, 1536)})"
    )
    one_at_a_time(policy, vols, recs, reg)


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
    national(vols, recs, reg)
    all_checks(vols, recs, reg)
    print(f"peak RSS {peak_rss_mb():,.0f} MB")


if __name__ == "__main__":
    main()
