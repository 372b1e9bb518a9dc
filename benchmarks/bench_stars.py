"""Rate 1,000,000 volunteers from 10,000,000 certified records on the object path.

Target (issue 4): ≤ 60 s and ≤ 4 GB peak. The records arrive as :class:`~zhiyuan.hours.HourRow`
objects streamed one by one (as from ``HourLedger.rows()`` or a database cursor), with a skewed
distribution: most volunteers serve little, a few serve a lot. ``python benchmarks/bench_stars.py
[volunteers] [records]``.
"""

from __future__ import annotations

import random
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta

from _util import peak_rss_mb, timed, verdict

from zhiyuan._validators import SHANGHAI
from zhiyuan.hours import Evidence, HourRow, Purpose, Volunteer
from zhiyuan.scoring import STAR_PROFILES

VOLUNTEERS = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
RECORDS = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000_000


def volunteers() -> list[Volunteer]:
    return [
        Volunteer(
            id=f"v{i}", name="志愿者", home_region="370602001001", registered_on=date(2015, 1, 1)
        )
        for i in range(VOLUNTEERS)
    ]


def rows() -> Iterator[HourRow]:
    rng = random.Random(3)
    ids = [f"v{i}" for i in range(VOLUNTEERS)]
    days = [date(2016, 1, 1) + timedelta(days=d) for d in range(3650)]
    stars = frozenset({Purpose.STARS, Purpose.POINTS, Purpose.REPORTS})
    kinds = (Evidence.QR_SCAN, Evidence.SIGN_IN_CODE, Evidence.GPS, Evidence.SUPERVISOR)
    # Skewed: volunteer index u³·N, so the top 1 % of volunteers serve about a fifth of all
    # records (hundreds of hours each) while most serve a few hours (烟台: 20 h on average).
    pick = [ids[int(VOLUNTEERS * rng.random() ** 3)] for _ in range(1 << 16)]
    for k in range(RECORDS):
        v = pick[(k * 40503) & 0xFFFF] if k % 5 else ids[k % VOLUNTEERS]
        m = 60 * rng.choice((1, 2, 2, 3, 4, 8))
        yield HourRow(v, days[k % 3650], m, m, kinds[k & 3], "社区服务", stars, "370602001001")


def main() -> None:
    vols, s_vols = timed(volunteers)
    print(f"built {len(vols):,} volunteers in {s_vols:.1f} s")
    scheme = STAR_PROFILES["national"]
    as_of = datetime(2026, 1, 1, tzinfo=SHANGHAI)
    ratings, secs = timed(lambda: scheme.rate_many(vols, rows(), as_of))
    peak = peak_rss_mb()
    levels = Counter(r.level for r in ratings.values())
    print(
        f"rated {len(ratings):,} volunteers from {RECORDS:,} records in {secs:.1f} s "
        f"(target ≤ 60 s: {verdict(secs, 60)}), rows generated inside the timing"
    )
    print(f"peak RSS {peak:,.0f} MB (target ≤ 4,096: {verdict(peak, 4096)})")
    print("volunteers per level:", dict(sorted(levels.items())))


if __name__ == "__main__":
    main()
