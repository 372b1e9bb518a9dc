"""The region tree and who works where: codes, regions, practice units, teams, jurisdiction.

Example:
    >>> from zhiyuan.hierarchy import load_default
    >>> tree = load_default()
    >>> tree.path("370214")
    '山东省/青岛市/城阳区'
"""

from __future__ import annotations

from zhiyuan.hierarchy._default import load_default
from zhiyuan.hierarchy.codes import Level, RegionCode, normalize_code
from zhiyuan.hierarchy.tree import (
    Anomaly,
    AnomalyKind,
    Match,
    Region,
    RegionDiff,
    RegionTree,
    ValidationReport,
    strip_suffix,
)

__all__ = [
    "Anomaly",
    "AnomalyKind",
    "Level",
    "Match",
    "Region",
    "RegionCode",
    "RegionDiff",
    "RegionTree",
    "ValidationReport",
    "load_default",
    "normalize_code",
    "strip_suffix",
]
