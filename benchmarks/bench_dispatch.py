"""One need dispatched among 170,000 candidates (城阳's scale): median and p99 time.

Target (issue 6): ≤ 5 ms median. Candidates live in 城阳区's 300 communities (about 570 each),
with skills drawn from a small catalogue; each need asks for one or two skills in a random
community. The dispatcher searches the need's community first and escalates (就近派单) only
when nobody there passes the gates. ``python benchmarks/bench_dispatch.py [candidates] [needs]``.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from datetime import datetime, timedelta

from _util import peak_rss_mb, timed, verdict

from zhiyuan._validators import SHANGHAI
from zhiyuan.hierarchy import load_default
from zhiyuan.hours import GeoFix
from zhiyuan.matching import Candidate, Dispatcher, Need, Skill

CANDIDATES = int(sys.argv[1]) if len(sys.argv) > 1 else 170_000
NEEDS = int(sys.argv[2]) if len(sys.argv) > 2 else 2_000
SKILLS = [
    "助老",
    "助老/陪护",
    "医疗/护理",
    "医疗/急救",
    "法律",
    "心理",
    "家电维修",
    "教育/辅导",
    "环保",
]


def main() -> None:
    tree = load_default()
    communities = [r.code for r in tree.descendants("370214") if r.code[9:] != "000"]
    rng = random.Random(9)

    def build() -> Dispatcher:
        cands = [
            Candidate(
                id=f"c{i}",
                home_region=communities[i % len(communities)],
                location=GeoFix(lat=36.30 + rng.random() * 0.1, lon=120.35 + rng.random() * 0.1),
                skills=[Skill(name=s) for s in rng.sample(SKILLS, rng.randint(1, 3))],
                capacity=rng.randint(1, 3),
                rating_hundredths=rng.randint(300, 500),
                completed=rng.randint(0, 40),
                no_shows=rng.randint(0, 3),
            )
            for i in range(CANDIDATES)
        ]
        return Dispatcher(tree, cands)

    dispatcher, s_build = timed(build)
    print(f"indexed {CANDIDATES:,} candidates in {s_build:.1f} s")
    base = datetime(2025, 6, 1, 9, tzinfo=SHANGHAI)
    needs = [
        Need(
            id=f"n{k}",
            requester=f"r{k}",
            region_code=rng.choice(communities),
            location=GeoFix(lat=36.30 + rng.random() * 0.1, lon=120.35 + rng.random() * 0.1),
            category="帮老",
            skills=set(rng.sample(SKILLS, rng.randint(1, 2))),
            start=base + timedelta(hours=k % 200),
            end=base + timedelta(hours=k % 200, minutes=90),
            posted_at=base - timedelta(days=1),
        )
        for k in range(NEEDS)
    ]
    times = []
    levels: dict[str, int] = {}
    for need in needs:
        t0 = time.perf_counter()
        result = dispatcher.rank(need, limit=10)
        times.append((time.perf_counter() - t0) * 1000)
        key = result.level.value if result.level else "none"
        levels[key] = levels.get(key, 0) + 1
    times.sort()
    median = statistics.median(times)
    p99 = times[int(len(times) * 0.99) - 1]
    print(
        f"{NEEDS:,} needs: median {median:.2f} ms (target ≤ 5: {verdict(median, 5)}), "
        f"p99 {p99:.2f} ms, max {times[-1]:.2f} ms"
    )
    print("search stopped at:", levels)
    print(f"peak RSS {peak_rss_mb():,.0f} MB")


if __name__ == "__main__":
    main()
