"""Practice units, organizations and teams on the tree, and the team standard (队伍建设标准).

新时代文明实践 runs in three tiers that follow the tree: a 中心 (:class:`PracticeCenter`) at each
county, a 所 (:class:`PracticeInstitute`) at each township or street, a 站 (:class:`PracticeStation`)
at each village or community. 志愿服务组织 (:class:`Organization`) and 志愿服务队伍 (:class:`Team`)
sit at any node. A :class:`TeamStandard` says how many teams each tier must field; 烟台's
县乡村三级 "17+N, 5+N, 3+N" is the default, and :meth:`Registry.shortfalls` names the units that
fall short and what they lack.

References:
    烟台: county, township and village levels build 17+N, 5+N and 3+N practice teams (seed 000,
    POLICIES.md "Organization"); 高台县 2019: 中心 at county, 所 at township, 站 at village
    (POLICIES.md §5.3).

Example:
    >>> from zhiyuan.hierarchy import load_default, Registry, PracticeCenter, Team, TeamStandard
    >>> reg = Registry(load_default())
    >>> reg.add(PracticeCenter(id="c-zf", name="芝罘区新时代文明实践中心", region_code="370602"))
    >>> for i in range(15):
    ...     reg.add(Team(id=f"t{i}", name=f"队伍{i}", region_code="370602", kind="理论宣讲"))
    >>> [str(s) for s in reg.shortfalls(TeamStandard())]
    ['芝罘区新时代文明实践中心 (370602): 15/17 支队伍，还差 2 支 / 15 of 17 teams, 2 short']
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, ClassVar

import attrs

from zhiyuan._validators import mapping, non_empty, non_negative
from zhiyuan.errors import Conflict, InvalidValue, NotFound, UnknownRegion, show
from zhiyuan.hierarchy.codes import Level, level_of, normalize_code
from zhiyuan.hierarchy.tree import Region, RegionTree

__all__ = [
    "TEAM_KINDS",
    "Organization",
    "PracticeCenter",
    "PracticeInstitute",
    "PracticeStation",
    "PracticeUnit",
    "Registry",
    "Shortfall",
    "Team",
    "TeamStandard",
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


def _is_text(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str):
        raise InvalidValue(attribute.name, value, "应为文本 / must be text", shown=show(value))


def _level_arg(level: object) -> Level:
    """A :class:`Level`, or its value (``"township"``); anything else is an InvalidValue."""
    return level if isinstance(level, Level) else Level(level)


@attrs.frozen(kw_only=True)
class PracticeUnit:
    """A 新时代文明实践 unit at a node of the tree; use one of the three tiers below.

    ``region_code`` accepts any code form and is stored in 12 digits; its level must be the
    tier's level (a 中心 sits at a county, a 所 at a township, a 站 at a village).
    """

    LEVEL: ClassVar[Level | None] = None
    TIER: ClassVar[str] = "实践单位"

    id: str = attrs.field(validator=non_empty)
    name: str = attrs.field(validator=non_empty)
    region_code: str = attrs.field(converter=_code)

    def __attrs_post_init__(self) -> None:
        want = type(self).LEVEL
        if want is None:
            raise InvalidValue(
                "kind",
                type(self).__name__,
                "请使用中心、所或站 / use PracticeCenter, PracticeInstitute or PracticeStation",
            )
        got = level_of(self.region_code)
        if got is not want:
            raise InvalidValue(
                "region_code",
                self.region_code,
                f"{type(self).TIER}应设在{want.zh}（{want.value}），此代码为{got.zh} / a "
                f"{type(self).__name__} sits at a {want.value}, this code is a {got.value}",
            )

    @property
    def level(self) -> Level:
        """The tier's level."""
        lv = type(self).LEVEL
        assert lv is not None  # guaranteed by __attrs_post_init__
        return lv

    def __str__(self) -> str:
        return f"{self.name} ({self.region_code[: self.level.digits]})"


@attrs.frozen(kw_only=True)
class PracticeCenter(PracticeUnit):
    """新时代文明实践中心: the county-level center (县级)."""

    LEVEL: ClassVar[Level | None] = Level.COUNTY
    TIER: ClassVar[str] = "实践中心"


@attrs.frozen(kw_only=True)
class PracticeInstitute(PracticeUnit):
    """新时代文明实践所: the township or street institute (乡镇/街道级)."""

    LEVEL: ClassVar[Level | None] = Level.TOWNSHIP
    TIER: ClassVar[str] = "实践所"


@attrs.frozen(kw_only=True)
class PracticeStation(PracticeUnit):
    """新时代文明实践站: the village or community station (村/社区级)."""

    LEVEL: ClassVar[Level | None] = Level.VILLAGE
    TIER: ClassVar[str] = "实践站"


@attrs.frozen(kw_only=True)
class Organization:
    """志愿服务组织: a volunteer-service organization registered at a node (any level)."""

    id: str = attrs.field(validator=non_empty)
    name: str = attrs.field(validator=non_empty)
    region_code: str = attrs.field(converter=_code)


@attrs.frozen(kw_only=True)
class Team:
    """志愿服务队伍: a team at a node, with a kind such as 理论宣讲, 文化文艺 or 医疗卫生.

    ``organization_id`` optionally names the organization that runs it.
    """

    id: str = attrs.field(validator=non_empty)
    name: str = attrs.field(validator=non_empty)
    region_code: str = attrs.field(converter=_code)
    kind: str = attrs.field(validator=non_empty)
    organization_id: str | None = attrs.field(default=None, validator=_optional_id)


def _level_key(key: object, field: str) -> Level:
    if isinstance(key, Level):
        return key
    try:
        return Level(key)
    except ValueError:
        raise InvalidValue(
            field,
            key,
            "未知层级 / not a level (province, city, county, township or village)",
        ) from None


def _levels_map(value: Mapping[Any, int]) -> dict[Level, int]:
    value = mapping("required", value)
    out: dict[Level, int] = {}
    for k, v in value.items():
        lv = _level_key(k, "required")
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise InvalidValue(f"required.{lv.value}", v, "需要非负整数 / need a whole number ≥ 0")
        out[lv] = v
    return out


def _kinds_map(value: Mapping[Any, Iterable[str]]) -> dict[Level, tuple[str, ...]]:
    value = mapping("required_kinds", value)
    out: dict[Level, tuple[str, ...]] = {}
    for k, v in value.items():
        lv = _level_key(k, "required_kinds")
        # A bare string is a mistake for a list of one kind: tuple("理论宣讲") would split it.
        kinds = tuple(v) if isinstance(v, Iterable) and not isinstance(v, str) else None
        if kinds is None or any(not isinstance(x, str) or not x.strip() for x in kinds):
            raise InvalidValue(
                f"required_kinds.{lv.value}",
                v,
                "需要队伍类型列表 / need a list of non-empty team kinds",
            )
        out[lv] = kinds
    return out


@attrs.frozen(kw_only=True)
class TeamStandard:
    """How many teams a practice unit of each level must field (队伍建设标准).

    The default is 烟台's 县乡村三级 "17+N, 5+N, 3+N": a county center needs 17 standard teams, a
    township institute 5, a village station 3 (the "+N" are extra teams, never required).
    ``required_kinds`` optionally names kinds each level must have; when set for a level, only teams
    of the listed kinds count toward that level's number. Loadable from JSON/TOML (levels by value).

    Example:
        >>> TeamStandard().required[Level.TOWNSHIP]
        5
        >>> from zhiyuan.convert import from_toml
        >>> s = from_toml('name = "夏县 8+N"\\n[required]\\ncounty = 8', TeamStandard)
        >>> s.required
        {<Level.COUNTY: 'county'>: 8}
    """

    name: str = attrs.field(default="烟台 17+N/5+N/3+N", validator=_is_text)
    required: dict[Level, int] = attrs.field(
        factory=lambda: {Level.COUNTY: 17, Level.TOWNSHIP: 5, Level.VILLAGE: 3},
        converter=_levels_map,
    )
    required_kinds: dict[Level, tuple[str, ...]] = attrs.field(factory=dict, converter=_kinds_map)


@attrs.frozen(kw_only=True)
class Shortfall:
    """A practice unit short of the standard: how many teams it has, needs, and which kinds it lacks."""

    unit: PracticeUnit = attrs.field()
    have: int = attrs.field(validator=non_negative)
    need: int = attrs.field(validator=non_negative)
    missing_kinds: tuple[str, ...] = ()

    @unit.validator
    def _check_unit(self, _: attrs.Attribute[PracticeUnit], value: object) -> None:
        if not isinstance(value, PracticeUnit):
            raise InvalidValue(
                "unit", value, "需要实践单位 / need a practice unit", shown=show(value)
            )

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


Item = PracticeUnit | Organization | Team


class Registry:
    """Practice units, organizations and teams attached to a tree, checked against it.

    Adding is idempotent by id: the same item again changes nothing; another item under a used id
    raises :class:`~zhiyuan.errors.Conflict`. An unknown region code raises
    :class:`~zhiyuan.errors.UnknownRegion`; nothing is added in either case. Safe to add from
    several threads.
    """

    def __init__(
        self, tree: RegionTree, items: Iterable[PracticeUnit | Organization | Team] = ()
    ) -> None:
        if not isinstance(tree, RegionTree):
            raise InvalidValue("tree", tree, "需要区划树 / need a RegionTree", shown=show(tree))
        if not isinstance(items, Iterable) or isinstance(items, (str, bytes)):
            raise InvalidValue(
                "items",
                items,
                "需要单位、组织或队伍的序列 / need an iterable of units, organizations and teams",
                shown=show(items),
            )
        self.tree = tree
        self._items: dict[tuple[str, str], Item] = {}
        self._unit_at: dict[str, str] = {}  # region code → unit id: one unit per node
        self._lock = threading.Lock()
        for item in items:
            self.add(item)

    @staticmethod
    def _space(item: Item) -> str:
        if isinstance(item, PracticeUnit):
            return "unit"
        if isinstance(item, Organization):
            return "organization"
        if isinstance(item, Team):
            return "team"
        raise InvalidValue(
            "item", type(item).__name__, "不支持的类型 / not a unit, organization or team"
        )

    def add(self, item: PracticeUnit | Organization | Team) -> None:
        """Register a unit, organization or team (idempotent by id)."""
        space = self._space(item)
        if item.region_code not in self.tree:
            raise UnknownRegion(item.region_code)
        if (
            isinstance(item, Team)
            and item.organization_id is not None
            and ("organization", item.organization_id) not in self._items
        ):
            raise NotFound("organization", item.organization_id)
        key = (space, item.id)
        with self._lock:
            old = self._items.get(key)
            if old is not None:
                if old == item:
                    return
                raise Conflict(
                    f"{space} id {item.id!r} is already used by another {space} / 编号已被占用"
                )
            if isinstance(item, PracticeUnit):
                other = self._unit_at.get(item.region_code)
                if other is not None:
                    raise Conflict(
                        f"{item.region_code} already has practice unit {other!r} / 该区划已有实践单位"
                    )
                self._unit_at[item.region_code] = item.id
            self._items[key] = item

    def _of(self, cls: type[Any], within: object | None) -> Iterator[Any]:
        found = [item for item in list(self._items.values()) if isinstance(item, cls)]
        if within is None:
            yield from found
            return
        inside = self.tree.within_mask([item.region_code for item in found], within)
        yield from (item for item, keep in zip(found, inside, strict=True) if keep)

    def units(
        self, *, within: object | None = None, level: Level | None = None
    ) -> list[PracticeUnit]:
        """Practice units, optionally within a subtree and of one level, by code."""
        want = None if level is None else _level_arg(level)
        out = [u for u in self._of(PracticeUnit, within) if want is None or u.level is want]
        return sorted(out, key=lambda u: u.region_code)

    def teams(self, *, within: object | None = None) -> list[Team]:
        """Teams, optionally within a subtree, by code then id."""
        return sorted(self._of(Team, within), key=lambda t: (t.region_code, t.id))

    def organizations(self, *, within: object | None = None) -> list[Organization]:
        """Organizations, optionally within a subtree, by code then id."""
        return sorted(self._of(Organization, within), key=lambda o: (o.region_code, o.id))

    def teams_at(self, code: object) -> list[Team]:
        """The teams attached exactly at ``code`` (not below it)."""
        c = normalize_code(code)
        return [t for t in self.teams() if t.region_code == c]

    def uncovered(self, level: Level, *, within: object | None = None) -> list[str]:
        """Codes of the given level (in the subtree) that have no practice unit: where to build next."""
        level = _level_arg(level)
        have = {u.region_code for u in self._of(PracticeUnit, within)}
        if within is None:
            regions: Iterable[Region] = (r for r in self.tree if r.level is level)
        else:
            root = self.tree[within]  # the subtree's root counts too
            top = [root] if root.level is level else []
            regions = itertools.chain(top, self.tree.descendants(root.code, level=level))
        return [r.code for r in regions if r.code not in have]

    def shortfalls(
        self, standard: TeamStandard, *, within: object | None = None
    ) -> list[Shortfall]:
        """Practice units that field fewer teams than the standard asks, with what they lack."""
        if not isinstance(standard, TeamStandard):
            raise InvalidValue(
                "standard", standard, "需要队伍建设标准 / need a TeamStandard", shown=show(standard)
            )
        by_node: dict[str, list[Team]] = {}
        for t in self._of(Team, within):
            by_node.setdefault(t.region_code, []).append(t)
        out = []
        for unit in self.units(within=within):
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
