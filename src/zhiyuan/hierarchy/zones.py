"""Functional zones (功能区): named groups of regions that are not one node of the tree.

A city runs some of its work by zones that cut across the administrative tree: 长岛综合试验区
(the islands of 蓬莱区, 烟台), 昆嵛山保护区 (the mountain's towns), 遵义's 新蒲新区, a city's central
districts (中心城区). A :class:`Zone` is such a group: a name and the codes of its member
regions (any level, each meaning its whole subtree). It is usable wherever a region scopes
something:

* the tree: :meth:`RegionTree.is_within <zhiyuan.hierarchy.RegionTree.is_within>` and
  :meth:`~zhiyuan.hierarchy.RegionTree.within_mask` take a zone as the scope, so do every
  ``within=`` that goes through them (units, teams, rankings, star rounds);
* authority: a :class:`~zhiyuan.hierarchy.Grant` over a zone;
* a shop item for the residents of a zone (:class:`~zhiyuan.credit.Item` ``within``);
* a policy for a zone: a profile whose :class:`~zhiyuan.profiles.Source` names the zone, found by
  :meth:`Profiles.for_region <zhiyuan.profiles.Profiles.for_region>` given the zones;
* reports and simulations: :func:`zhiyuan.bulk.regions.within` and
  :func:`zhiyuan.bulk.regions.zone_rollup` on columns of codes, and
  :func:`zhiyuan.simulate.from_records` limited to a zone.

:data:`ZONES` holds the seed cities' zones, each with where its membership comes from.

Example:
    >>> from zhiyuan.hierarchy import load_default
    >>> tree = load_default()
    >>> changdao = ZONES["长岛综合试验区"]
    >>> tree.is_within("370614110000", changdao), tree.is_within("370614001000", changdao)
    (True, False)
    >>> len(changdao.regions(tree))
    8
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING

import attrs

from zhiyuan._validators import non_empty, text
from zhiyuan.errors import InvalidValue, show
from zhiyuan.hierarchy.codes import RegionCode, normalize_code
from zhiyuan.profiles import Source, cite, to_source

if TYPE_CHECKING:
    from zhiyuan.hierarchy.tree import Region, RegionTree

__all__ = ["ZONES", "Zone", "to_zone"]


def _codes(value: object) -> tuple[str, ...]:
    if isinstance(value, (str, bytes, int)) or not isinstance(value, Iterable):
        raise InvalidValue(
            "codes", value, "需要区划代码的列表 / need a list of region codes", shown=show(value)
        )
    out = sorted({normalize_code(c, field="codes") for c in value})
    if not out:
        raise InvalidValue("codes", [], "功能区至少含一个区划 / a zone needs at least one region")
    # a member inside another member adds nothing: keep the top ones only
    top: list[str] = []
    for c in out:
        if not any(RegionCode(c).is_within(RegionCode(t)) for t in top):
            top.append(c)
    return tuple(top)


def _kind(_: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str):
        raise InvalidValue(attribute.name, value, "应为文本 / must be text", shown=show(value))
    text(attribute.name, value)


@attrs.frozen(kw_only=True)
class Zone:
    """A functional zone (功能区): a named group of regions, each with its subtree.

    Attributes:
        id: the zone's id (its name is a good one).
        name: its name, such as ``长岛综合试验区``.
        codes: the member regions (any code form, kept as 12 digits, sorted; a member inside
            another member is dropped, as it adds nothing).
        kind: what sort of zone (综合试验区, 保护区, 新区, 中心城区 …), free text.
        source: where the membership comes from (a :class:`~zhiyuan.profiles.Source`).

    Example:
        >>> z = Zone(id="core", name="中心城区", codes=["370602", "370613", "370602001"])
        >>> z.codes
        ('370602000000', '370613000000')
        >>> z.covers("370602001001"), z.covers("370611000000")
        (True, False)
        >>> str(z)
        '中心城区 (2 个区划 / regions)'
    """

    id: str = attrs.field(validator=non_empty)
    name: str = attrs.field(validator=non_empty)
    codes: tuple[str, ...] = attrs.field(converter=_codes)
    kind: str = attrs.field(default="", validator=_kind)
    source: Source | None = attrs.field(default=None, converter=to_source)

    def covers(self, code: object) -> bool:
        """True if ``code`` is a member or lies under one, by the codes' structure (no tree:
        use :meth:`RegionTree.is_within <zhiyuan.hierarchy.RegionTree.is_within>` for codes
        whose parent is not given by their digits, such as 9xx development zones)."""
        c = RegionCode(normalize_code(code, field="code"))
        return any(c.is_within(RegionCode(m)) for m in self.codes)

    def regions(self, tree: RegionTree) -> list[Region]:
        """The member regions as the tree has them (an unknown member raises
        :class:`~zhiyuan.errors.UnknownRegion`)."""
        return [tree[c] for c in self.codes]

    def explain(self) -> str:
        """The zone, its members and its source, in Chinese and English."""
        kind = f"{self.kind} " if self.kind else ""
        lines = [
            f"{self.name}: {kind}功能区 / functional zone of {len(self.codes)} regions",
            "  " + ", ".join(self.codes),
            cite(self),
        ]
        return "\n".join(lines)

    def __str__(self) -> str:
        return f"{self.name} ({len(self.codes)} 个区划 / regions)"


def to_zone(value: object, field: str = "zone") -> Zone:
    """A :class:`Zone`, or a mapping of its fields (as JSON and TOML give it).

    Example:
        >>> to_zone({"id": "z", "name": "新区", "codes": ["520302013"]}).codes
        ('520302013000',)
    """
    if isinstance(value, Zone):
        return value
    if isinstance(value, Mapping):
        try:
            return Zone(**value)
        except TypeError:
            raise InvalidValue(
                field, dict(value), "未知或缺少字段 / unknown or missing fields"
            ) from None
    raise InvalidValue(field, value, "需要功能区 / need a Zone", shown=show(value))


def _shipped() -> Mapping[str, Zone]:
    zones = [
        Zone(
            id="长岛综合试验区",
            name="长岛综合试验区",
            kind="综合试验区",
            # the islands' towns, in 蓬莱区 since 长岛县 merged into it (2020)
            codes=[
                "370614006",  # 南长山街道
                "370614110",  # 砣矶镇
                "370614201",  # 北长山乡
                "370614202",  # 黑山乡
                "370614203",  # 大钦岛乡
                "370614204",  # 小钦岛乡
                "370614205",  # 南隍城乡
                "370614206",  # 北隍城乡
            ],
            source=Source(
                document="长岛海洋生态文明综合试验区 (烟台, seed 000)",
                issuer="烟台市",
                region_code="370600",
                note=(
                    "成员按 2023 年统计用区划代码中原长岛县的乡镇街道 / members: the townships of "
                    "the former 长岛县 in the 2023 codes"
                ),
            ),
        ),
        Zone(
            id="昆嵛山保护区",
            name="昆嵛山保护区",
            kind="保护区",
            codes=["370612111"],  # 昆嵛镇
            source=Source(
                document="昆嵛山国家级自然保护区 (烟台, seed 000)",
                issuer="烟台市",
                region_code="370600",
                note=(
                    "仅列出以其命名的昆嵛镇；保护区另含周边镇的部分村 / only 昆嵛镇, named after "
                    "it; the reserve also takes in villages of the towns around it"
                ),
            ),
        ),
        Zone(
            id="新蒲新区",
            name="新蒲新区",
            kind="新区",
            codes=[
                "520302013",  # 新蒲街道
                "520302014",  # 新中街道
                "520302109",  # 虾子镇
                "520302110",  # 三渡镇
                "520302111",  # 永乐镇
            ],
            source=Source(
                document="遵义市新蒲新区 (seed 002)",
                issuer="遵义市",
                region_code="520300",
                note="成员为其代管的街道和镇 / members: the streets and towns it runs",
            ),
        ),
    ]
    return MappingProxyType({z.id: z for z in zones})


ZONES: Mapping[str, Zone] = _shipped()
"""The seed cities' functional zones by id: 长岛综合试验区, 昆嵛山保护区 (烟台) and 新蒲新区 (遵义)."""
