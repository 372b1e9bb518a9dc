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
from zhiyuan.hierarchy.kinds import UnitKind
from zhiyuan.hierarchy.standards import (
    STATION_STANDARD_PROFILES,
    TEAM_STANDARD_PROFILES,
    StandardItem,
    StationStandard,
    TeamStandard,
)
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
    UNIT_CLASSES,
    Gap,
    Grid,
    Organization,
    PracticeBase,
    PracticeCenter,
    PracticeInstitute,
    PracticePoint,
    PracticeStation,
    PracticeUnit,
    Registry,
    ServicePost,
    Shortfall,
    Team,
    Waystation,
    is_special_township,
)
from zhiyuan.hierarchy.zones import ZONES, Zone, to_zone

__all__ = [
    "ALL_ACTIONS",
    "STATION_STANDARD_PROFILES",
    "TEAM_KINDS",
    "TEAM_STANDARD_PROFILES",
    "UNIT_CLASSES",
    "ZONES",
    "Action",
    "Anomaly",
    "AnomalyKind",
    "ChangeKind",
    "ChangeResult",
    "CodeMapping",
    "Gap",
    "Grant",
    "Grid",
    "Jurisdiction",
    "Level",
    "Match",
    "Organization",
    "PracticeBase",
    "PracticeCenter",
    "PracticeInstitute",
    "PracticePoint",
    "PracticeStation",
    "PracticeUnit",
    "Region",
    "RegionChange",
    "RegionCode",
    "RegionDiff",
    "RegionTree",
    "Registry",
    "ServicePost",
    "Shortfall",
    "SplitPart",
    "StandardItem",
    "StationStandard",
    "Team",
    "TeamStandard",
    "UnitKind",
    "ValidationReport",
    "Waystation",
    "Zone",
    "apply_changes",
    "is_special_township",
    "load_default",
    "normalize_code",
    "strip_suffix",
    "to_zone",
]
