"""A tour of the region tree: python examples/region_tree.py [path/to/nbs/dir]

With no argument it uses the embedded seed cities; with a directory of NBS named files
(``provinces.csv.gz`` … ``villages.csv.gz``, as in the repository's ``data/nbs``) it loads the
whole country and shows its validation report.
"""

from __future__ import annotations

import sys
from datetime import date

from zhiyuan.hierarchy import (
    Action,
    Grant,
    Jurisdiction,
    Level,
    RegionChange,
    RegionTree,
    apply_changes,
    load_default,
)


def main() -> None:
    tree = RegionTree.from_nbs_dir(sys.argv[1]) if len(sys.argv) > 1 else load_default()
    print(repr(tree))
    print("report:", tree.report)

    # Any code form works: 2, 4, 6, 9 or 12 digits.
    print(tree["370214"], "→", tree.path("370214001"))
    print("城阳区 per level:", {lv.zh: n for lv, n in tree.counts("370214").items()})

    # Names repeat across the country; every match comes with its path.
    for match in tree.find("城关")[:5]:
        print("  found", match)

    # Sum service minutes recorded per community up to every level.
    minutes = {"370214001001": 120, "370214001002": 90, "370214002001": 45}
    totals = tree.rollup(minutes)
    print("城阳街道", totals["370214001000"], "城阳区", totals["370214000000"])

    # Jurisdiction follows the subtree.
    j = Jurisdiction(tree, [Grant(principal="street-admin", region_code="370214001")])
    print(
        "may certify in own community:", j.can_act("street-admin", Action.CERTIFY, "370214001001")
    )
    print("may certify next door:", j.can_act("street-admin", Action.CERTIFY, "370214002001"))

    # An administrative change re-keys history.
    result = apply_changes(
        tree, [RegionChange.merge("370214010", into="370214009", effective=date(2024, 6, 30))]
    )
    old = "370214010001"
    print(f"{old} is now {result.mapping.one(old)}:", result.tree.path(result.mapping.one(old)))
    print(
        "2019 → 2023 in 城阳区:", load_default(2019).subtree("370214").diff(tree.subtree("370214"))
    )
    print("villages in the tree:", tree.counts().get(Level.VILLAGE, 0))


if __name__ == "__main__":
    main()
