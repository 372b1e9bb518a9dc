"""The region tree and who works where: codes, regions, practice units, teams, jurisdiction.

Example:
    >>> from zhiyuan.hierarchy import load_default
    >>> tree = load_default()
    >>> tree.path("370214")
    '山东省/青岛市/城阳区'
"""

from __future__ import annotations

from zhiyuan.hierarchy._default import load_default
from zhiyuan.hierarchy.changes import (
    ChangeKind,
    ChangeResult,
    CodeMapping,
    RegionChange,
    SplitPart,
    apply_changes,
)
from zhiyuan.hierarchy.codes import Level, RegionCode, normalize_code
from zhiyuan.hierarchy.jurisdiction import ALL_ACTIONS, Action, Grant, Jurisdiction
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
from zhiyuan.hierarchy.units import (
    TEAM_KINDS,
    Organization,
    PracticeCenter,
    PracticeInstitute,
    PracticeStation,
    PracticeUnit,
    Registry,
    Shortfall,
    Team,
    TeamStandard,
)

__all__ = [
    "ALL_ACTIONS",
    "TEAM_KINDS",
    "Action",
    "Anomaly",
    "AnomalyKind",
    "ChangeKind",
    "ChangeResult",
    "CodeMapping",
    "Grant",
    "Jurisdiction",
    "Level",
    "Match",
    "Organization",
    "PracticeCenter",
    "PracticeInstitute",
    "PracticeStation",
    "PracticeUnit",
    "Region",
    "RegionChange",
    "RegionCode",
    "RegionDiff",
    "RegionTree",
    "Registry",
    "Shortfall",
    "SplitPart",
    "Team",
    "TeamStandard",
    "ValidationReport",
    "apply_changes",
    "load_default",
    "normalize_code",
    "strip_suffix",
]
