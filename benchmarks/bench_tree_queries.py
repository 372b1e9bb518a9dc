"""1,000,000 ``is_within`` checks and a ``rollup`` of 1,000,000 values over the whole-country tree.

Target (issue 2): ≤ 1 s each. ``python benchmarks/bench_tree_queries.py``.
"""

from __future__ import annotations

import random

from _util import NBS, timed, verdict

from zhiyuan.hierarchy import RegionTree

N = 1_000_000


def main() -> None:
    tree = RegionTree.from_nbs_dir(NBS)
    rng = random.Random(7)
    codes = tree.codes
    villages = [c for c in codes if not c.endswith("000")]
    counties = [c for c in codes if c.endswith("000000") and not c.endswith("00000000")]
    # Half the pairs ask about the village's own county (true), half about a random one.
    pairs = []
    for k in range(N):
        v = rng.choice(villages)
        pairs.append((v, v[:6] + "000000" if k % 2 else rng.choice(counties)))
    within = tree.is_within

    def run_checks() -> int:
        return sum(1 for a, b in pairs if within(a, b))

    hits, s_within = timed(run_checks)
    print(
        f"is_within x{N:,}:      {s_within:.2f} s ({hits:,} true; target ≤ 1 s: "
        f"{verdict(s_within, 1)})"
    )

    county = pairs[1][1]
    same = [a for a, _ in pairs]
    mask, s_mask = timed(lambda: tree.within_mask(same, county))
    print(f"within_mask x{N:,} (one ancestor): {s_mask:.2f} s ({sum(mask):,} true)")

    short_pairs = [(a, b[:6]) for a, b in pairs[:100_000]]
    _, s_short = timed(lambda: sum(1 for a, b in short_pairs if within(a, b)))
    print(f"is_within x100,000 with short codes: {s_short:.2f} s")

    # 1,000,000 (code, minutes) rows, as from a ledger: codes repeat.
    rows = [(rng.choice(villages), rng.randint(1, 600)) for _ in range(N)]
    totals, s_roll = timed(lambda: tree.rollup(rows))
    assert sum(v for _, v in rows) == sum(totals[r.code] for r in tree.roots() if r.code in totals)
    print(
        f"rollup of {N:,} rows:  {s_roll:.2f} ({len(totals):,} totals; target ≤ 1 s: "
        f"{verdict(s_roll, 1)})"
    )


if __name__ == "__main__":
    main()
