"""The embedded default tree: the seed cities with every village, shipped inside the package."""

from __future__ import annotations

import functools
from importlib import resources

from zhiyuan.errors import InvalidValue
from zhiyuan.hierarchy._nbs import read_named_file, read_structure_file
from zhiyuan.hierarchy.tree import RegionTree

__all__ = ["SEED_CITIES", "load_default"]

SEED_CITIES: dict[str, str] = {
    "3706": "烟台市",
    "3702": "青岛市",
    "5203": "遵义市",
    "1408": "运城市",
}
"""The seed cities embedded in the package (2023 edition names, with their provinces)."""


def load_default(vintage: int = 2023) -> RegionTree:
    """The embedded tree of the seed cities: 烟台, 青岛, 遵义, 运城 and their provinces.

    ``vintage=2023`` (the default) has names down to every village (NBS 2023 edition, data as of
    2023-06-30). ``vintage=2019`` is the codes-only 2019 edition of the same cities, for
    comparisons with :meth:`RegionTree.diff`. The result is cached; trees are immutable.

    Example:
        >>> from zhiyuan.hierarchy import Level
        >>> tree = load_default()
        >>> tree.counts("3706")[Level.VILLAGE], tree.counts("370214")[Level.TOWNSHIP]
        (6509, 9)
        >>> load_default(2019).counts("370214")[Level.TOWNSHIP]
        6
    """
    if vintage not in (2019, 2023):
        raise InvalidValue(
            "vintage", vintage, "只内置 2019 与 2023 版 / only 2019 and 2023 are embedded"
        )
    return _load(vintage)


@functools.cache
def _load(vintage: int) -> RegionTree:
    files = resources.files("zhiyuan.hierarchy") / "data"
    if vintage == 2023:
        with resources.as_file(files / "seed_2023.csv.gz") as path:
            return RegionTree.from_records(read_named_file(path))
    with resources.as_file(files / "seed_2019.csv.gz") as path:
        return RegionTree.from_records(read_structure_file(path))
