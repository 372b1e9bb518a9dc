"""The kinds of 新时代文明实践 units (实践阵地的类型): the three tiers and the kinds beside them.

Three tiers follow the tree, one unit per node: a 中心 at a county, a 所 at a township or street,
a 站 at a village or community (高台县 2019, POLICIES.md §5.3). Beside and below them, many to a
node: the 点 (residential estates, squares, companies, scenic spots) and sometimes the 基地 of
仁怀's "3+N" (实践中心+实践所+实践站+实践点; 芜湖 981 点 and 13 基地, POLICIES.md §5.3), the
志愿服务岗 (遵义's 1,008 service posts, seed 002) and the 志愿驿站.

Example:
    >>> UnitKind("point").zh, UnitKind.POINT.en, UnitKind.POINT.is_tier
    ('实践点', 'practice point', False)
    >>> [k.value for k in UnitKind if k.is_tier]
    ['center', 'institute', 'station']
"""

from __future__ import annotations

import enum

__all__ = ["UnitKind"]


class UnitKind(enum.Enum):
    """The kind of a practice unit (实践阵地类型), written by value in JSON and TOML.

    The first three are the tiers (:attr:`is_tier`): at most one of them at a node. The others
    may be many at one node.

    Example:
        >>> UnitKind.WAYSTATION.zh
        '志愿驿站'
        >>> UnitKind.CENTER < UnitKind.POINT   # the order of the enum: tiers first
        True
    """

    CENTER = "center"
    INSTITUTE = "institute"
    STATION = "station"
    POINT = "point"
    BASE = "base"
    POST = "post"
    WAYSTATION = "waystation"

    @property
    def zh(self) -> str:
        """The Chinese name (实践中心, 实践所 …)."""
        return _ZH[self]

    @property
    def en(self) -> str:
        """The English name (practice center, practice institute …)."""
        return _EN[self]

    @property
    def is_tier(self) -> bool:
        """True for 中心, 所 and 站, the three tiers that allow one unit per node."""
        return self in _TIERS

    @property
    def order(self) -> int:
        """The kind's place in the enum (tiers first), for sorting."""
        return _ORDER[self]

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, UnitKind):
            return NotImplemented
        return _ORDER[self] < _ORDER[other]


_ZH = {
    UnitKind.CENTER: "实践中心",
    UnitKind.INSTITUTE: "实践所",
    UnitKind.STATION: "实践站",
    UnitKind.POINT: "实践点",
    UnitKind.BASE: "实践基地",
    UnitKind.POST: "志愿服务岗",
    UnitKind.WAYSTATION: "志愿驿站",
}
_EN = {
    UnitKind.CENTER: "practice center",
    UnitKind.INSTITUTE: "practice institute",
    UnitKind.STATION: "practice station",
    UnitKind.POINT: "practice point",
    UnitKind.BASE: "practice base",
    UnitKind.POST: "service post",
    UnitKind.WAYSTATION: "waystation",
}
_TIERS = frozenset({UnitKind.CENTER, UnitKind.INSTITUTE, UnitKind.STATION})
_ORDER = {k: i for i, k in enumerate(UnitKind)}
