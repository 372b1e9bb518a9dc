"""Load the whole country with names (NBS 2023, 665,276 rows) and report seconds and peak memory.

Target (issue 2): ≤ 5 s and ≤ 600 MB peak on a 2-core machine. Run in a fresh process so the peak
is the load's own: ``python benchmarks/bench_tree_load.py``.
"""

from __future__ import annotations

from _util import NBS, peak_rss_mb, timed, verdict

from zhiyuan.hierarchy import RegionTree


def main() -> None:
    base = peak_rss_mb()
    tree, seconds = timed(lambda: RegionTree.from_nbs_dir(NBS))
    peak = peak_rss_mb()
    print(f"regions loaded:        {len(tree):,} ({tree.report.counts()})")
    print(f"load seconds:          {seconds:.2f}  (target ≤ 5 s: {verdict(seconds, 5)})")
    print(
        f"peak RSS MB:           {peak:.0f}  (interpreter alone {base:.0f}; target ≤ 600: "
        f"{verdict(peak, 600)})"
    )
    _, s2019 = timed(lambda: RegionTree.from_nbs_structure(NBS / "structure_2019.csv.gz"))
    print(f"2019 structure load s: {s2019:.2f}")


if __name__ == "__main__":
    main()
