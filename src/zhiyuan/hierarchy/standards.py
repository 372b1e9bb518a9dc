"""Standards for practice units (建设标准): how many teams a tier fields, what a station must have.

A :class:`TeamStandard` says how many teams (队伍建设标准) a unit of each tier must field; there
is no national one, so a standard is always chosen: a city's own, or a shipped profile of
:data:`TEAM_STANDARD_PROFILES` (烟台's 县乡村三级 "17+N, 5+N, 3+N", 夏县's "8+N"). A
:class:`StationStandard` is a checklist a unit must meet (遵义's "八有": a sign, an office, a
stable team, rules, records, projects, regular activities, a culture wall), shipped in
:data:`STATION_STANDARD_PROFILES`. :meth:`Registry.shortfalls
<zhiyuan.hierarchy.Registry.shortfalls>` and :meth:`Registry.gaps
<zhiyuan.hierarchy.Registry.gaps>` judge a registry by them.

Both are policies: frozen, dated (``effective_from``), cited (``source``), explained
(``explain()``), loadable from JSON and TOML.

Example:
    >>> TEAM_STANDARD_PROFILES["yantai"].required[Level.TOWNSHIP]
    5
    >>> TEAM_STANDARD_PROFILES.for_region("370602").name   # 芝罘区 is in 烟台
    '烟台 17+N/5+N/3+N'
    >>> [i.id for i in STATION_STANDARD_PROFILES["zunyi"].items][:3]
    ['sign', 'office', 'team']
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

import attrs

from zhiyuan._validators import enum_set, is_date, items_of, mapping, names, non_empty
from zhiyuan.errors import InvalidValue, show
from zhiyuan.hierarchy.codes import Level
from zhiyuan.hierarchy.kinds import UnitKind
from zhiyuan.profiles import Profiles, Source, explain_policy, to_source

__all__ = [
    "STATION_STANDARD_PROFILES",
    "TEAM_STANDARD_PROFILES",
    "StandardItem",
    "StationStandard",
    "TeamStandard",
]

_FLOOR = date(2018, 8, 1)
"""The first day a standard for 新时代文明实践 units can have: the month the 中心 were decided
(2018-08, 全国宣传思想工作会议; 文明贵州 2021-12-11, POLICIES.md §5.3). The default
``effective_from`` of a standard whose source gives no date: a floor, not a claim."""


def _is_text(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str):
        raise InvalidValue(attribute.name, value, "应为文本 / must be text", shown=show(value))


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
    """How many teams a practice unit of each tier must field (队伍建设标准).

    There is no national team standard (POLICIES.md "Organization (seeds)": the numbers are
    local), so ``required`` has no default: name the numbers, or take a shipped profile from
    :data:`~zhiyuan.hierarchy.standards.TEAM_STANDARD_PROFILES` (its ``"yantai"`` is 烟台's
    "17+N, 5+N, 3+N", which ``TeamStandard()`` used to give; the "+N" are extra teams, never
    required).
    Only the tiers are judged (中心 at a county, 所 at a township, 站 at a village), by the teams
    attached at the unit's own node.

    Attributes:
        name: a label for reports (``"烟台 17+N/5+N/3+N"``).
        effective_from: the day the standard takes effect (default 2018-08-01, the month the
            中心 were decided: a floor, not a claim).
        source: where the standard comes from (:class:`~zhiyuan.profiles.Source`): set on every
            shipped profile, ``None`` for a standard of your own.
        required: the number of teams by level (levels as members or their values); a level
            left out requires nothing.
        required_kinds: optionally, the team kinds each level must have; when set for a level,
            only teams of the listed kinds count toward that level's number.

    Example:
        >>> TeamStandard(name="夏县 8+N", required={"county": 8}).required
        {<Level.COUNTY: 'county'>: 8}
        >>> from zhiyuan.convert import from_toml
        >>> s = from_toml('name = "夏县 8+N"\\n[required]\\ncounty = 8', TeamStandard)
        >>> s.required, s.effective_from
        ({<Level.COUNTY: 'county'>: 8}, datetime.date(2018, 8, 1))
        >>> print(TEAM_STANDARD_PROFILES["yantai"].explain())  # doctest: +ELLIPSIS
        烟台 17+N/5+N/3+N: 队伍建设标准 / team standard, 自 2018-08-01 起施行 / in force from 2018-08-01
        出处 / source: ...
    """

    name: str = attrs.field(default="", validator=_is_text)
    effective_from: date = attrs.field(default=_FLOOR, validator=is_date)
    source: Source | None = attrs.field(default=None, converter=to_source)
    required: dict[Level, int] = attrs.field(converter=_levels_map)
    required_kinds: dict[Level, tuple[str, ...]] = attrs.field(factory=dict, converter=_kinds_map)

    def explain(self) -> str:
        """This standard in two lines, Chinese / English: name, first day in force, source."""
        return explain_policy(self, "队伍建设标准", "team standard")


@attrs.frozen(kw_only=True)
class StandardItem:
    """One item of a station checklist (建设标准的一项), such as 有文化墙 (a culture wall).

    ``id`` is what a unit lists in its ``has`` (:attr:`PracticeUnit.has
    <zhiyuan.hierarchy.PracticeUnit.has>`); ``name`` and ``name_en`` are shown.

    Example:
        >>> StandardItem(id="culture_wall", name="有文化墙", name_en="a culture wall").name
        '有文化墙'
    """

    id: str = attrs.field(validator=non_empty)
    name: str = attrs.field(validator=non_empty)
    name_en: str = attrs.field(validator=non_empty)


def _standard_items(value: object) -> tuple[StandardItem, ...]:
    out = items_of("items", StandardItem, value)
    if not out:
        raise InvalidValue("items", [], "至少一项 / need at least one item")
    seen: set[str] = set()
    for item in out:
        if item.id in seen:
            raise InvalidValue("items", item.id, "项目编号重复 / two items share an id")
        seen.add(item.id)
    return out


def _unit_kinds(value: object) -> frozenset[UnitKind]:
    out = enum_set("kinds", UnitKind, value)
    if not out:
        raise InvalidValue("kinds", [], "至少一种单位 / need at least one kind of unit")
    return out


@attrs.frozen(kw_only=True)
class StationStandard:
    """A checklist every unit of some kinds must meet (阵地建设标准), such as 遵义's "八有".

    A unit meets an item when the item's id is in the unit's ``has``;
    :meth:`Registry.gaps <zhiyuan.hierarchy.Registry.gaps>` names, for each unit of the
    standard's ``kinds``, the items it lacks.

    Attributes:
        name: a label for reports (``"遵义 八有"``).
        effective_from: the day the standard takes effect (default 2018-08-01, as
            :class:`TeamStandard`).
        source: where the standard comes from, or ``None`` for one of your own.
        items: the checklist, in order; at least one item, no two with one id.
        kinds: the kinds of unit the standard applies to (default: 实践站 only), as members or
            their values.

    Example:
        >>> std = StationStandard(name="两有", items=[
        ...     StandardItem(id="sign", name="有标识牌", name_en="a sign"),
        ...     StandardItem(id="team", name="有固定队伍", name_en="a stable team")])
        >>> [i.id for i in std.missing({"team"})]
        ['sign']
        >>> sorted(k.value for k in std.kinds)
        ['station']
        >>> StationStandard(items=[])
        Traceback (most recent call last):
        ...
        zhiyuan.errors.InvalidValue: items: []: 至少一项 / need at least one item
    """

    name: str = attrs.field(default="", validator=_is_text)
    effective_from: date = attrs.field(default=_FLOOR, validator=is_date)
    source: Source | None = attrs.field(default=None, converter=to_source)
    items: tuple[StandardItem, ...] = attrs.field(converter=_standard_items)
    kinds: frozenset[UnitKind] = attrs.field(
        default=frozenset({UnitKind.STATION}), converter=_unit_kinds
    )

    def explain(self) -> str:
        """This standard in two lines, Chinese / English: name, first day in force, source."""
        return explain_policy(self, "阵地建设标准", "station standard")

    def missing(self, has: Iterable[str]) -> tuple[StandardItem, ...]:
        """The items not in ``has`` (a collection of item ids), in the checklist's order.

        Raises:
            InvalidValue: ``has`` is not a collection of non-empty ids (a bare string is
                refused).
        """
        if has is None:
            raise InvalidValue(
                "has", None, "需要一组值（列表或集合） / need a collection (a list or a set)"
            )
        got = names("has", has) or frozenset()
        return tuple(i for i in self.items if i.id not in got)


TEAM_STANDARD_PROFILES: Profiles[TeamStandard] = Profiles(
    {
        "yantai": TeamStandard(
            name="烟台 17+N/5+N/3+N",
            required={Level.COUNTY: 17, Level.TOWNSHIP: 5, Level.VILLAGE: 3},
            source=Source(
                document="烟台市县乡村三级“17+N、5+N、3+N”新时代文明实践志愿服务队伍 (seed 000)",
                issuer="烟台市",
                region_code="3706",
                note='POLICIES.md "Organization (seeds)": county, township and village levels '
                "build 17+N, 5+N and 3+N practice teams, 1.9 万 teams in all; the +N are extra "
                "teams, never required. The text of the standard itself was not found. Undated: "
                "effective_from is the month the 中心 were decided (2018-08), a floor.",
            ),
        ),
        "xiaxian": TeamStandard(
            name="夏县 8+N",
            required={Level.COUNTY: 8},
            source=Source(
                document="夏县“8+N”新时代文明实践志愿服务队伍 (运城, seed 004)",
                issuer="夏县",
                region_code="140828",
                note='POLICIES.md "Organization (seeds)": 夏县 "8+N" teams, read as 8 teams '
                'at the county center (the seed names no level). 乌当区 (贵阳) builds "8+N" '
                "teams at each of four levels (贵州日报 2022-11-30, "
                "http://szb.eyesnews.cn/pc/cont/202211/30/content_79911.html): a county that "
                "reads it so adds township and village rows. Undated: effective_from is the "
                "month the 中心 were decided (2018-08), a floor.",
            ),
        ),
    },
    kind=TeamStandard,
    field="TEAM_STANDARD_PROFILES",
)
"""Shipped team standards (POLICIES.md "Organization (seeds)"); each cites its source in
``source`` (:class:`~zhiyuan.profiles.Source`). There is no national team standard.

- ``yantai``: 烟台, 17 teams at a county center, 5 at a township institute, 3 at a village
  station (县乡村三级 17+N/5+N/3+N).
- ``xiaxian``: 夏县 (运城), 8 teams at the county center (8+N).

城阳's "8+8+10" practice teams (seed 003) are not shipped: no text says which level each number
belongs to, or whether they are counts per unit or totals for the district.
"""


STATION_STANDARD_PROFILES: Profiles[StationStandard] = Profiles(
    {
        "zunyi": StationStandard(
            name="遵义 八有",
            items=[
                StandardItem(id="sign", name="有标识牌", name_en="a sign"),
                StandardItem(id="office", name="有办公场所", name_en="an office"),
                StandardItem(id="team", name="有固定队伍", name_en="a stable team"),
                StandardItem(id="rules", name="有管理制度", name_en="rules"),
                StandardItem(id="records", name="有工作台账", name_en="records"),
                StandardItem(id="projects", name="有服务项目", name_en="projects"),
                StandardItem(id="activities", name="有常态活动", name_en="regular activities"),
                StandardItem(id="culture_wall", name="有文化墙", name_en="a culture wall"),
            ],
            kinds=[UnitKind.STATION],
            source=Source(
                document="遵义市新时代文明实践站“八有”标准 (seed 002)",
                issuer="遵义市",
                region_code="5203",
                note='POLICIES.md "Organization (seeds)": the "八有" station standard: sign, '
                "office, stable team, rules, records, projects, regular activities, culture "
                "wall; 452 stations and 1,008 service posts in the central city. The Chinese "
                "item names render that list; the original wording was not read. Undated: "
                "effective_from is the month the 中心 were decided (2018-08), a floor.",
            ),
        ),
    },
    kind=StationStandard,
    field="STATION_STANDARD_PROFILES",
)
"""Shipped station checklists (POLICIES.md "Organization (seeds)"); each cites its source.

- ``zunyi``: 遵义's "八有" for 实践站: a sign, an office, a stable team, rules, records,
  projects, regular activities, a culture wall.
"""
