"""Practice units, grids, organizations and teams on the tree, and the registry that holds them.

新时代文明实践 runs in three tiers that follow the tree, one unit per node: a 中心
(:class:`PracticeCenter`) at each county, a 所 (:class:`PracticeInstitute`) at each township or
street, a 站 (:class:`PracticeStation`) at each village or community. Beside and below them, many
to a node and at any level from the county down: 实践点 (:class:`PracticePoint`), 实践基地
(:class:`PracticeBase`), 志愿服务岗 (:class:`ServicePost`) and 志愿驿站 (:class:`Waystation`).
A village or community may be cut into 网格 (:class:`Grid`), each with a 楼长. 志愿服务组织
(:class:`Organization`) and 志愿服务队伍 (:class:`Team`) sit at any node; a team may name the
unit that fields it, the grid it serves and its parent team (总队 → 分队 → 小队).

A :class:`~zhiyuan.hierarchy.TeamStandard` says how many teams each tier must field and
:meth:`Registry.shortfalls` names the units that fall short; a
:class:`~zhiyuan.hierarchy.StationStandard` is a checklist (遵义's "八有") and
:meth:`Registry.gaps` names what each unit lacks.

References:
    高台县 2019: 中心 at county, 所 at township, 站 at village; 仁怀 2022: "3+N" (中心+所+站+点,
    点 at residential estates, squares, companies, scenic spots), teams county 总队 → 所 分队 → 站
    小队; 芜湖: 981 点 and 13 基地 (POLICIES.md §5.3). 青岛市南: 108 中心/所/站 (seed 001); 遵义:
    452 stations and 1,008 service posts, the "八有" standard (seed 002); 城阳: 志愿楼长, teams
    by levels (seed 003); 烟台: 17+N/5+N/3+N teams and 1.5 万 stations (seed 000) (POLICIES.md
    "Organization (seeds)"). Township codes 400–599 are 政企合一 units (POLICIES.md §5.1).

Example:
    >>> from zhiyuan.hierarchy import load_default, TEAM_STANDARD_PROFILES
    >>> reg = Registry(load_default())
    >>> reg.add(PracticeCenter(id="c-zf", name="芝罘区新时代文明实践中心", region_code="370602"))
    >>> for i in range(15):
    ...     reg.add(Team(id=f"t{i}", name=f"队伍{i}", region_code="370602", kind="理论宣讲"))
    >>> [str(s) for s in reg.shortfalls(TEAM_STANDARD_PROFILES["yantai"])]
    ['芝罘区新时代文明实践中心 (370602): 15/17 支队伍，还差 2 支 / 15 of 17 teams, 2 short']
    >>> reg.add(PracticePoint(id="p1", name="万达广场实践点", region_code="370602"))
    >>> reg.add(PracticeBase(id="b1", name="烟台山实践基地", region_code="370602"))
    >>> [u.kind.value for u in reg.units_at("370602")]
    ['center', 'point', 'base']
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import Any, ClassVar, TypeVar

import attrs

from zhiyuan._validators import items_of, key, names, non_empty, non_negative, to_enum
from zhiyuan.errors import Conflict, InvalidValue, NotFound, UnknownRegion, show
from zhiyuan.hierarchy.codes import Level, level_of, normalize_code
from zhiyuan.hierarchy.kinds import UnitKind
from zhiyuan.hierarchy.standards import StandardItem, StationStandard, TeamStandard
from zhiyuan.hierarchy.tree import Region, RegionTree
from zhiyuan.hierarchy.zones import Zone

__all__ = [
    "TEAM_KINDS",
    "UNIT_CLASSES",
    "Gap",
    "Grid",
    "Organization",
    "PracticeBase",
    "PracticeCenter",
    "PracticeInstitute",
    "PracticePoint",
    "PracticeStation",
    "PracticeUnit",
    "Registry",
    "ServicePost",
    "Shortfall",
    "Team",
    "Waystation",
    "is_special_township",
]

TEAM_KINDS: tuple[str, ...] = (
    "理论宣讲",
    "文化文艺",
    "医疗卫生",
    "科学普及",
    "法律服务",
    "助老助残",
    "生态环保",
    "平安建设",
    "应急救援",
    "体育健身",
    "教育帮扶",
    "移风易俗",
)
"""Common team kinds (队伍类型) seen in practice-center plans; any non-empty kind is accepted."""


def _code(value: object) -> str:
    return normalize_code(value, field="region_code")


def _optional_id(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """``None``, or a non-blank string (an id that refers to something else)."""
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise InvalidValue(
            attribute.name,
            value,
            "应为非空文本或 None / need a non-empty id or None",
            shown=show(value),
        )


def _has(value: object) -> frozenset[str]:
    if value is None:
        raise InvalidValue(
            "has", None, "需要一组值（列表或集合） / need a collection (a list or a set)"
        )
    return names("has", value) or frozenset()


def _level_arg(level: object) -> Level:
    """A :class:`Level`, or its value (``"township"``); anything else is an InvalidValue."""
    return level if isinstance(level, Level) else Level(level)


def _short(code: str) -> str:
    return code[: level_of(code).digits]


_SPECIAL = range(400, 600)


def is_special_township(code: object) -> bool:
    """True if ``code`` is a special township-level unit (政企合一: a farm, a prison, a development
    zone, a scenic area; township segment 400–599), or a village-level node inside one.

    Such units have a township code but no township government, so they are not expected to
    build a 所: :meth:`Registry.uncovered` leaves them (and their villages) out unless asked.
    Counties and above are never special. Any code form is accepted (POLICIES.md §5.1: 001–099
    街道, 100–199 镇, 200–399 乡, 400–599 政企合一).

    Raises:
        InvalidValue: ``code`` is not a region code.

    Example:
        >>> is_special_township("370214400"), is_special_township("370214400001")  # 青岛高新区
        (True, True)
        >>> is_special_township("370214001"), is_special_township("370214")
        (False, False)
    """
    c = normalize_code(code)
    return level_of(c) >= Level.TOWNSHIP and int(c[6:9]) in _SPECIAL


@attrs.frozen(kw_only=True)
class PracticeUnit:
    """A 新时代文明实践 unit (实践阵地) at a node of the tree; build one of its kinds below.

    ``region_code`` accepts any code form and is stored in 12 digits; its level must be one the
    kind allows (a 中心 sits at a county, a 所 at a township, a 站 at a village; a 点, 基地,
    岗 or 驿站 at a county, a township or a village).

    Attributes:
        id: the unit's id, unique among units.
        name: its name.
        region_code: the node it sits at.
        grid_id: the grid (:class:`Grid`) it lies in, or ``None``; the grid must be at the
            unit's own node.
        has: the ids of the checklist items it meets (:class:`~zhiyuan.hierarchy.StandardItem`,
            such as ``"sign"`` or ``"culture_wall"`` of 遵义's "八有"), judged by
            :meth:`Registry.gaps`.
    """

    KIND: ClassVar[UnitKind | None] = None
    LEVELS: ClassVar[tuple[Level, ...]] = ()
    TIER: ClassVar[str] = "实践单位"

    id: str = attrs.field(validator=non_empty)
    name: str = attrs.field(validator=non_empty)
    region_code: str = attrs.field(converter=_code)
    grid_id: str | None = attrs.field(default=None, validator=_optional_id)
    has: frozenset[str] = attrs.field(factory=frozenset, converter=_has)

    def __attrs_post_init__(self) -> None:
        cls = type(self)
        if cls.KIND is None:
            raise InvalidValue(
                "kind",
                cls.__name__,
                "请使用中心、所、站、点、基地、岗或驿站 / use PracticeCenter, PracticeInstitute, "
                "PracticeStation, PracticePoint, PracticeBase, ServicePost or Waystation",
            )
        got = level_of(self.region_code)
        if got not in cls.LEVELS:
            zh = "、".join(lv.zh for lv in cls.LEVELS)
            en = " or ".join(lv.value for lv in cls.LEVELS)
            raise InvalidValue(
                "region_code",
                self.region_code,
                f"{cls.TIER}应设在{zh}（{en}），此代码为{got.zh} / a {cls.__name__} sits at a "
                f"{en}, this code is a {got.value}",
            )

    @property
    def kind(self) -> UnitKind:
        """The unit's kind (中心, 所, 站, 点 …)."""
        kind = type(self).KIND
        assert kind is not None  # guaranteed by __attrs_post_init__
        return kind

    @property
    def level(self) -> Level:
        """The level of the node the unit sits at."""
        return level_of(self.region_code)

    def __str__(self) -> str:
        return f"{self.name} ({_short(self.region_code)})"


_BELOW_CITY = (Level.COUNTY, Level.TOWNSHIP, Level.VILLAGE)


@attrs.frozen(kw_only=True)
class PracticeCenter(PracticeUnit):
    """新时代文明实践中心: the county-level center (县级), one per county."""

    KIND: ClassVar[UnitKind | None] = UnitKind.CENTER
    LEVELS: ClassVar[tuple[Level, ...]] = (Level.COUNTY,)
    TIER: ClassVar[str] = "实践中心"


@attrs.frozen(kw_only=True)
class PracticeInstitute(PracticeUnit):
    """新时代文明实践所: the township or street institute (乡镇/街道级), one per township."""

    KIND: ClassVar[UnitKind | None] = UnitKind.INSTITUTE
    LEVELS: ClassVar[tuple[Level, ...]] = (Level.TOWNSHIP,)
    TIER: ClassVar[str] = "实践所"


@attrs.frozen(kw_only=True)
class PracticeStation(PracticeUnit):
    """新时代文明实践站: the village or community station (村/社区级), one per village."""

    KIND: ClassVar[UnitKind | None] = UnitKind.STATION
    LEVELS: ClassVar[tuple[Level, ...]] = (Level.VILLAGE,)
    TIER: ClassVar[str] = "实践站"


@attrs.frozen(kw_only=True)
class PracticePoint(PracticeUnit):
    """新时代文明实践点: a point at a residential estate, a square, a company or a scenic spot.

    The fourth tier of 仁怀's "3+N" (POLICIES.md §5.3; 泉州 933 点, 芜湖 981 点); many to a node,
    at a county (a city's own points, such as its squares), a township or a village (most).

    Example:
        >>> str(PracticePoint(id="p", name="金沙小区实践点", region_code="520382001001"))
        '金沙小区实践点 (520382001001)'
    """

    KIND: ClassVar[UnitKind | None] = UnitKind.POINT
    LEVELS: ClassVar[tuple[Level, ...]] = _BELOW_CITY
    TIER: ClassVar[str] = "实践点"


@attrs.frozen(kw_only=True)
class PracticeBase(PracticeUnit):
    """新时代文明实践基地: a base (a museum, a farm, a school's site) that hosts practice work.

    Some cities add 基地 to 中心/所/站/点 (芜湖 13 基地, POLICIES.md §5.3); many to a node, at a
    county, a township or a village.

    Example:
        >>> PracticeBase(id="b", name="红色教育基地", region_code="520302").kind.value
        'base'
    """

    KIND: ClassVar[UnitKind | None] = UnitKind.BASE
    LEVELS: ClassVar[tuple[Level, ...]] = _BELOW_CITY
    TIER: ClassVar[str] = "实践基地"


@attrs.frozen(kw_only=True)
class ServicePost(PracticeUnit):
    """志愿服务岗: a staffed service post, at a service window, a hall or a street corner.

    遵义's central city has 1,008 of them beside its 452 stations (seed 002); many to a node, at a
    county, a township or a village.

    Example:
        >>> ServicePost(id="g", name="便民服务岗", region_code="520302001001").kind.value
        'post'
    """

    KIND: ClassVar[UnitKind | None] = UnitKind.POST
    LEVELS: ClassVar[tuple[Level, ...]] = _BELOW_CITY
    TIER: ClassVar[str] = "志愿服务岗"


@attrs.frozen(kw_only=True)
class Waystation(PracticeUnit):
    """志愿驿站: a volunteer rest-and-service house (爱心驿站, 户外劳动者驿站 …).

    Named Waystation, not station, so as not to be taken for the tier 站 (:class:`PracticeStation`);
    many to a node, at a county, a township or a village.

    Example:
        >>> w = Waystation(id="w1", name="户外劳动者爱心驿站", region_code="370214001")
        >>> w.kind.zh, w.level.value
        ('志愿驿站', 'township')
    """

    KIND: ClassVar[UnitKind | None] = UnitKind.WAYSTATION
    LEVELS: ClassVar[tuple[Level, ...]] = _BELOW_CITY
    TIER: ClassVar[str] = "志愿驿站"


UNIT_CLASSES: Mapping[UnitKind, type[PracticeUnit]] = MappingProxyType(
    {
        UnitKind.CENTER: PracticeCenter,
        UnitKind.INSTITUTE: PracticeInstitute,
        UnitKind.STATION: PracticeStation,
        UnitKind.POINT: PracticePoint,
        UnitKind.BASE: PracticeBase,
        UnitKind.POST: ServicePost,
        UnitKind.WAYSTATION: Waystation,
    }
)
"""The class of each kind of unit (read-only), for readers that name units by kind value."""


@attrs.frozen(kw_only=True)
class Organization:
    """志愿服务组织: a volunteer-service organization registered at a node (any level)."""

    id: str = attrs.field(validator=non_empty)
    name: str = attrs.field(validator=non_empty)
    region_code: str = attrs.field(converter=_code)


def _village(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    got = level_of(value)
    if got is not Level.VILLAGE:
        raise InvalidValue(
            attribute.name,
            value,
            f"网格应设在村级（village），此代码为{got.zh} / a grid lies in a village or community, "
            f"this code is a {got.value}",
        )


@attrs.frozen(kw_only=True)
class Grid:
    """网格: a part of a village or community, for dispatch and reporting (not a tree node).

    The 12-digit code stops at the village, so a grid is an item of the registry under its
    village's code. ``leader_id`` is the volunteer who leads it (楼长, 网格长; 城阳's 志愿楼长,
    seed 003), or ``None``. Units and teams name their grid by ``grid_id``.

    Example:
        >>> g = Grid(id="g1", name="3号楼", region_code="370214001001", leader_id="v7")
        >>> str(g)
        '3号楼 (370214001001)'
        >>> Grid(id="g2", name="整个街道", region_code="370214001")
        Traceback (most recent call last):
        ...
        zhiyuan.errors.InvalidValue: region_code: '370214001000': 网格应设在村级（village），此代码为乡级 / a grid lies in a village or community, this code is a township
    """

    id: str = attrs.field(validator=non_empty)
    name: str = attrs.field(validator=non_empty)
    region_code: str = attrs.field(converter=_code, validator=_village)
    leader_id: str | None = attrs.field(default=None, validator=_optional_id)

    def __str__(self) -> str:
        return f"{self.name} ({self.region_code})"


@attrs.frozen(kw_only=True)
class Team:
    """志愿服务队伍: a team at a node, with a kind such as 理论宣讲, 文化文艺 or 医疗卫生.

    Attributes:
        id: the team's id, unique among teams.
        name: its name.
        region_code: the node it is attached at (what :meth:`Registry.shortfalls` counts).
        kind: its kind (:data:`~zhiyuan.hierarchy.units.TEAM_KINDS` lists common ones; any
            non-empty text).
        organization_id: the organization that runs it, or ``None``.
        unit_id: the practice unit that fields it, or ``None``; the team sits at or below the
            unit's node.
        parent_id: its parent team (总队 → 分队 → 小队), or ``None``; the team sits at or below
            its parent's node, and is never its own parent.
        grid_id: the grid it serves, or ``None``; the team sits at the grid's village.

    Example:
        >>> Team(id="t", name="总队", region_code="520382", kind="理论宣讲", parent_id="t")
        Traceback (most recent call last):
        ...
        zhiyuan.errors.InvalidValue: parent_id: 't': 队伍不能是自己的上级 / a team cannot be its own parent
    """

    id: str = attrs.field(validator=non_empty)
    name: str = attrs.field(validator=non_empty)
    region_code: str = attrs.field(converter=_code)
    kind: str = attrs.field(validator=non_empty)
    organization_id: str | None = attrs.field(default=None, validator=_optional_id)
    unit_id: str | None = attrs.field(default=None, validator=_optional_id)
    parent_id: str | None = attrs.field(default=None, validator=_optional_id)
    grid_id: str | None = attrs.field(default=None, validator=_optional_id)

    def __attrs_post_init__(self) -> None:
        if self.parent_id == self.id:
            raise InvalidValue(
                "parent_id",
                self.parent_id,
                "队伍不能是自己的上级 / a team cannot be its own parent",
            )


def _is_unit(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, PracticeUnit):
        raise InvalidValue(
            attribute.name, value, "需要实践单位 / need a practice unit", shown=show(value)
        )


@attrs.frozen(kw_only=True)
class Shortfall:
    """A practice unit short of the standard: how many teams it has, needs, and which kinds it lacks."""

    unit: PracticeUnit = attrs.field(validator=_is_unit)
    have: int = attrs.field(validator=non_negative)
    need: int = attrs.field(validator=non_negative)
    missing_kinds: tuple[str, ...] = ()

    @property
    def short_by(self) -> int:
        """How many more teams are needed."""
        return max(self.need - self.have, 0)

    def __str__(self) -> str:
        text = (
            f"{self.unit}: {self.have}/{self.need} 支队伍，还差 {self.short_by} 支 / "
            f"{self.have} of {self.need} teams, {self.short_by} short"
        )
        if self.missing_kinds:
            kinds = "、".join(self.missing_kinds)
            text += f"; 缺少 / missing: {kinds}"
        return text


def _missing_items(value: object) -> tuple[StandardItem, ...]:
    out = items_of("missing", StandardItem, value)
    if not out:
        raise InvalidValue("missing", [], "至少缺一项 / a gap lacks at least one item")
    return out


@attrs.frozen(kw_only=True)
class Gap:
    """A unit that does not meet a checklist (:class:`~zhiyuan.hierarchy.StationStandard`): the
    items it lacks, in the checklist's order, of ``total`` items.

    Example:
        >>> from zhiyuan.hierarchy import STATION_STANDARD_PROFILES
        >>> bayou = STATION_STANDARD_PROFILES["zunyi"]
        >>> s = PracticeStation(id="s", name="大兴路社区站", region_code="520302001001",
        ...                     has=[i.id for i in bayou.items[:6]])
        >>> print(Gap(unit=s, missing=bayou.missing(s.has), total=len(bayou.items)))
        大兴路社区站 (520302001001): 缺 2/8 项：有常态活动、有文化墙 / lacks 2 of 8: regular activities, a culture wall
    """

    unit: PracticeUnit = attrs.field(validator=_is_unit)
    missing: tuple[StandardItem, ...] = attrs.field(converter=_missing_items)
    total: int = attrs.field(validator=non_negative)

    def __attrs_post_init__(self) -> None:
        if self.total < len(self.missing):
            raise InvalidValue(
                "total",
                self.total,
                f"少于所缺的 {len(self.missing)} 项 / fewer than the {len(self.missing)} missing",
            )

    def __str__(self) -> str:
        n = len(self.missing)
        zh = "、".join(i.name for i in self.missing)
        en = ", ".join(i.name_en for i in self.missing)
        return f"{self.unit}: 缺 {n}/{self.total} 项：{zh} / lacks {n} of {self.total}: {en}"


_Item = PracticeUnit | Grid | Organization | Team
_I = TypeVar("_I", PracticeUnit, Organization, Team, Grid)


def _space(item: object) -> str:
    if isinstance(item, PracticeUnit):
        return "unit"
    if isinstance(item, Organization):
        return "organization"
    if isinstance(item, Team):
        return "team"
    if isinstance(item, Grid):
        return "grid"
    raise InvalidValue(
        "item", type(item).__name__, "不支持的类型 / not a unit, grid, organization or team"
    )


def _unit_key(u: PracticeUnit) -> tuple[str, int, str]:
    return (u.region_code, u.kind.order, u.id)


def _team_key(t: Team) -> tuple[str, str]:
    return (t.region_code, t.id)


class Registry:
    """Practice units, grids, organizations and teams attached to a tree, checked against it.

    Adding is idempotent by id (ids are per space: units, grids, organizations, teams): the same
    item again changes nothing; another item under a used id raises
    :class:`~zhiyuan.errors.Conflict`, as does a second 中心, 所 or 站 at one node (the three
    tiers; 点, 基地, 岗 and 驿站 may be many to a node). An unknown region code raises
    :class:`~zhiyuan.errors.UnknownRegion`; an unknown organization, unit, parent team or grid
    :class:`~zhiyuan.errors.NotFound`; a team outside its unit's or parent's subtree, or an item
    away from its grid's village, :class:`~zhiyuan.errors.InvalidValue`. Nothing is added in any
    of these cases. Safe to add and read from several threads.

    Items refer only to items added before them, so a parent team is added before its children
    and the teams form a forest (no cycles); :meth:`items` gives everything in such an order.

    Example:
        >>> from zhiyuan.hierarchy import load_default
        >>> reg = Registry(load_default())
        >>> reg.add(Team(id="zd", name="仁怀市志愿服务总队", region_code="520382", kind="综合"))
        >>> reg.add(Team(id="fd", name="盐津街道分队", region_code="520382001", kind="综合",
        ...              parent_id="zd"))
        >>> reg.add(Team(id="xd", name="城南社区小队", region_code="520382001001", kind="综合",
        ...              parent_id="fd"))
        >>> [t.id for t in reg.team_path("xd")], [t.id for t in reg.subteams("zd", deep=True)]
        (['zd', 'fd', 'xd'], ['fd', 'xd'])
        >>> reg.add(Team(id="x", name="跨区小队", region_code="370602", kind="综合", parent_id="fd"))
        Traceback (most recent call last):
        ...
        zhiyuan.errors.InvalidValue: parent_id: 'fd': 上级队伍在 520382001，本队在 370602，不在其下 / the parent team sits at 520382001; this team at 370602 is not at or below it
    """

    def __init__(
        self, tree: RegionTree, items: Iterable[PracticeUnit | Grid | Organization | Team] = ()
    ) -> None:
        if not isinstance(tree, RegionTree):
            raise InvalidValue("tree", tree, "需要区划树 / need a RegionTree", shown=show(tree))
        if not isinstance(items, Iterable) or isinstance(items, (str, bytes)):
            raise InvalidValue(
                "items",
                items,
                "需要单位、网格、组织或队伍的序列 / need an iterable of units, grids, "
                "organizations and teams",
                shown=show(items),
            )
        self.tree = tree
        self._items: dict[tuple[str, str], _Item] = {}
        self._tier_at: dict[str, str] = {}  # region code → tier unit id: one 中心/所/站 per node
        self._at: dict[str, list[_Item]] = {}  # region code → the items attached there
        self._children: dict[str, list[str]] = {}  # team id → its child teams' ids
        self._lock = threading.Lock()
        for item in items:
            self.add(item)

    # --- adding --------------------------------------------------------------------------------

    def add(self, item: PracticeUnit | Grid | Organization | Team) -> None:
        """Register a unit, grid, organization or team (idempotent by id).

        Raises:
            InvalidValue: not an item; a team outside its unit's or parent's subtree; an item
                away from its grid's village.
            UnknownRegion: the item's region is not in the tree.
            NotFound: the organization, unit, parent team or grid it names is not registered.
            Conflict: another item under its id, or a second 中心/所/站 at its node.
        """
        space = _space(item)
        if item.region_code not in self.tree:
            raise UnknownRegion(item.region_code)
        with self._lock:
            old = self._items.get((space, item.id))
            if old is not None:
                if old == item:
                    return
                raise Conflict(
                    f"{space} id {item.id!r} is already used by another {space} / 编号已被占用"
                )
            self._check_refs(item)
            if isinstance(item, PracticeUnit) and item.kind.is_tier:
                other = self._tier_at.get(item.region_code)
                if other is not None:
                    raise Conflict(
                        f"{item.region_code} already has practice unit {other!r} / 该区划已有实践单位"
                        f"（中心、所、站每个区划一个 / one 中心, 所 or 站 per node）"
                    )
                self._tier_at[item.region_code] = item.id
            self._items[(space, item.id)] = item
            self._at.setdefault(item.region_code, []).append(item)
            if isinstance(item, Team) and item.parent_id is not None:
                self._children.setdefault(item.parent_id, []).append(item.id)

    def _get(self, space: str, ident: str) -> Any:
        found = self._items.get((space, ident))
        if found is None:
            raise NotFound(space, ident)
        return found

    def _check_refs(self, item: _Item) -> None:
        """Check what ``item`` names (called under the lock; raises, changes nothing)."""
        if isinstance(item, Team):
            if item.organization_id is not None:
                self._get("organization", item.organization_id)
            if item.unit_id is not None:
                unit: PracticeUnit = self._get("unit", item.unit_id)
                self._below("unit_id", item, unit.region_code, "实践单位", "unit")
            if item.parent_id is not None:
                parent: Team = self._get("team", item.parent_id)
                self._below("parent_id", item, parent.region_code, "上级队伍", "parent team")
        if isinstance(item, Team | PracticeUnit) and item.grid_id is not None:
            grid: Grid = self._get("grid", item.grid_id)
            if item.region_code != grid.region_code:
                raise InvalidValue(
                    "grid_id",
                    item.grid_id,
                    f"网格在 {grid.region_code}，本项在 {_short(item.region_code)} / the grid lies "
                    f"in {grid.region_code}; this item sits at {_short(item.region_code)}",
                )

    def _below(self, field: str, item: Team, top: str, zh: str, en: str) -> None:
        if not self.tree.is_within(item.region_code, top):
            here, there = _short(item.region_code), _short(top)
            raise InvalidValue(
                field,
                getattr(item, field),
                f"{zh}在 {there}，本队在 {here}，不在其下 / the {en} sits at {there}; this team at "
                f"{here} is not at or below it",
            )

    # --- reading -------------------------------------------------------------------------------

    def _snapshot(self) -> list[_Item]:
        with self._lock:
            return list(self._items.values())

    def _of(self, cls: type[_I], within: object | None) -> list[_I]:
        found = [item for item in self._snapshot() if isinstance(item, cls)]
        if within is None:
            return found
        inside = self.tree.within_mask([item.region_code for item in found], within)
        return [item for item, keep in zip(found, inside, strict=True) if keep]

    def _node(self, code: object) -> str:
        c = normalize_code(code)
        if c not in self.tree:
            raise UnknownRegion(c)
        return c

    def items(self) -> list[PracticeUnit | Grid | Organization | Team]:
        """Everything registered, in an order that adds cleanly: grids, units, organizations,
        then teams, each parent before its children (``Registry(tree, reg.items())`` is a copy).
        """
        teams = self.teams()
        roots = [t for t in teams if t.parent_id is None]
        out: list[_Item] = [*self.grids(), *self.units(), *self.organizations()]
        for root in roots:
            out.append(root)
            out.extend(self.subteams(root.id, deep=True))
        return out

    def units(
        self,
        *,
        within: object | None = None,
        level: Level | str | None = None,
        kind: UnitKind | str | None = None,
    ) -> list[PracticeUnit]:
        """Practice units of every kind, optionally within a subtree (a code or a
        :class:`~zhiyuan.hierarchy.Zone`), of one level and of one kind (a :class:`UnitKind`
        or its value); by code, then kind (tiers first), then id."""
        want_level = None if level is None else _level_arg(level)
        want_kind = None if kind is None else to_enum("kind", UnitKind, kind)
        out = [
            u
            for u in self._of(PracticeUnit, within)
            if (want_level is None or u.level is want_level)
            and (want_kind is None or u.kind is want_kind)
        ]
        return sorted(out, key=_unit_key)

    def units_at(self, code: object) -> list[PracticeUnit]:
        """The units at exactly ``code`` (not below it), by kind then id.

        Raises:
            UnknownRegion: ``code`` is not in the tree.
        """
        c = self._node(code)
        with self._lock:
            here = list(self._at.get(c, ()))
        return sorted((u for u in here if isinstance(u, PracticeUnit)), key=_unit_key)

    def unit_counts(
        self, *, within: object | None = None, level: Level | str | None = None
    ) -> dict[UnitKind, int]:
        """How many units of each kind (every kind, zeros too), optionally within a subtree and
        at one level.

        Example:
            >>> from zhiyuan.hierarchy import load_default
            >>> reg = Registry(load_default())
            >>> for i, v in enumerate(["370202001001", "370202001004"]):
            ...     reg.add(PracticeStation(id=f"s{i}", name="站", region_code=v))
            ...     reg.add(ServicePost(id=f"p{i}", name="岗", region_code=v))
            ...     reg.add(ServicePost(id=f"q{i}", name="岗", region_code=v))
            >>> {k.value: n for k, n in reg.unit_counts(within="370202").items() if n}
            {'station': 2, 'post': 4}
        """
        counts = dict.fromkeys(UnitKind, 0)
        for u in self.units(within=within, level=level):
            counts[u.kind] += 1
        return counts

    def grids(self, *, within: object | None = None) -> list[Grid]:
        """Grids, optionally within a subtree, by code then id."""
        return sorted(self._of(Grid, within), key=lambda g: (g.region_code, g.id))

    def teams(
        self,
        *,
        within: object | None = None,
        unit_id: str | None = None,
        grid_id: str | None = None,
    ) -> list[Team]:
        """Teams, optionally within a subtree, fielded by one unit, serving one grid; by code
        then id."""
        u = None if unit_id is None else key("unit_id", unit_id)
        g = None if grid_id is None else key("grid_id", grid_id)
        out = [
            t
            for t in self._of(Team, within)
            if (u is None or t.unit_id == u) and (g is None or t.grid_id == g)
        ]
        return sorted(out, key=_team_key)

    def organizations(self, *, within: object | None = None) -> list[Organization]:
        """Organizations, optionally within a subtree, by code then id."""
        return sorted(self._of(Organization, within), key=lambda o: (o.region_code, o.id))

    def teams_at(self, code: object) -> list[Team]:
        """The teams attached exactly at ``code`` (not below it), by id.

        Raises:
            UnknownRegion: ``code`` is not in the tree.
        """
        c = self._node(code)
        with self._lock:
            here = list(self._at.get(c, ()))
        return sorted((t for t in here if isinstance(t, Team)), key=_team_key)

    def subteams(self, team_id: str, *, deep: bool = False) -> list[Team]:
        """The child teams of ``team_id`` (分队 of a 总队), by code then id; with ``deep``, every
        team below it, depth first (each child followed by its own subteams).

        Raises:
            NotFound: no team ``team_id``.
        """
        key("team_id", team_id)
        with self._lock:
            self._get("team", team_id)
            children = {k: list(v) for k, v in self._children.items()}
            teams = {t.id: t for t in self._items.values() if isinstance(t, Team)}

        def below(tid: str) -> Iterator[Team]:
            for child in sorted((teams[c] for c in children.get(tid, ())), key=_team_key):
                yield child
                if deep:
                    yield from below(child.id)

        return list(below(team_id))

    def team_path(self, team_id: str) -> list[Team]:
        """The teams from the root of ``team_id``'s tree down to it (总队, 分队, 小队).

        Raises:
            NotFound: no team ``team_id``.
        """
        key("team_id", team_id)
        with self._lock:
            path: list[Team] = [self._get("team", team_id)]
            while (parent := path[-1].parent_id) is not None:
                path.append(self._get("team", parent))
        return path[::-1]

    # --- judging -------------------------------------------------------------------------------

    def uncovered(
        self, level: Level | str, *, within: object | None = None, include_special: bool = False
    ) -> list[str]:
        """Codes of the given level (in the subtree or zone) without a 中心, 所 or 站: where to
        build next. Other kinds of unit do not cover a node.

        Special township-level units (:func:`is_special_township`: farms, prisons, development
        zones) and their villages are left out unless ``include_special``.
        """
        level = _level_arg(level)
        if not isinstance(include_special, bool):
            raise InvalidValue(
                "include_special", include_special, "需要布尔值 / need true or false"
            )
        with self._lock:
            have = set(self._tier_at)
        if within is None:
            regions: Iterable[Region] = (r for r in self.tree if r.level is level)
        else:
            tops = within.codes if isinstance(within, Zone) else (within,)
            chains: list[Iterable[Region]] = []
            for top in tops:
                root = self.tree[top]  # the subtree's root counts too
                chains.append([root] if root.level is level else [])
                chains.append(self.tree.descendants(root.code, level=level))
            regions = itertools.chain.from_iterable(chains)
        return [
            r.code
            for r in regions
            if r.code not in have and (include_special or not is_special_township(r.code))
        ]

    def shortfalls(
        self, standard: TeamStandard, *, within: object | None = None
    ) -> list[Shortfall]:
        """The 中心, 所 and 站 that field fewer teams than the standard asks, with what they lack.

        A unit's teams are those attached at its own node (not below it, whatever unit fields
        them); other kinds of unit are not judged.
        """
        if not isinstance(standard, TeamStandard):
            raise InvalidValue(
                "standard", standard, "需要队伍建设标准 / need a TeamStandard", shown=show(standard)
            )
        by_node: dict[str, list[Team]] = {}
        for t in self._of(Team, within):
            by_node.setdefault(t.region_code, []).append(t)
        out = []
        for unit in self.units(within=within):
            if not unit.kind.is_tier:
                continue
            need = standard.required.get(unit.level, 0)
            kinds = standard.required_kinds.get(unit.level, ())
            teams = by_node.get(unit.region_code, [])
            counted = [t for t in teams if not kinds or t.kind in kinds]
            missing = tuple(k for k in kinds if all(t.kind != k for t in teams))
            if len(counted) < need or missing:
                out.append(
                    Shortfall(unit=unit, have=len(counted), need=need, missing_kinds=missing)
                )
        return out

    def gaps(self, standard: StationStandard, *, within: object | None = None) -> list[Gap]:
        """The units of the standard's kinds that lack some of its items, with what they lack.

        Example:
            >>> from zhiyuan.hierarchy import load_default, STATION_STANDARD_PROFILES
            >>> reg = Registry(load_default())
            >>> reg.add(PracticeStation(id="s", name="大兴路社区站", region_code="520302001001",
            ...     has=["sign", "office", "team", "rules", "records", "projects", "activities"]))
            >>> [str(g) for g in reg.gaps(STATION_STANDARD_PROFILES["zunyi"])]
            ['大兴路社区站 (520302001001): 缺 1/8 项：有文化墙 / lacks 1 of 8: a culture wall']
        """
        if not isinstance(standard, StationStandard):
            raise InvalidValue(
                "standard",
                standard,
                "需要阵地建设标准 / need a StationStandard",
                shown=show(standard),
            )
        out = []
        total = len(standard.items)
        for unit in self.units(within=within):
            if unit.kind in standard.kinds:
                missing = standard.missing(unit.has)
                if missing:
                    out.append(Gap(unit=unit, missing=missing, total=total))
        return out
