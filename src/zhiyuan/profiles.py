"""Shipped profiles as cited data (出处): every local rule the library ships says where it is from.

A profile is a policy value that some city or province really runs: 龙岗's star scheme, 广东's
daily hour cap, 威海's diminishing 海贝分 tiers. Each carries a :class:`Source` (the document,
who issued it, when, which clause, where to read it, and whether the text was read or only
reported), shown by the policy's ``explain()`` and in reports. The tables of profiles are
:class:`Profiles`: read-only mappings by name, all named ``*_PROFILES``, that also find a
region's profile from its code (the region itself or the nearest region above it that has one).

Example:
    >>> from zhiyuan.scoring import STAR_PROFILES
    >>> STAR_PROFILES.for_region("440307").name        # 龙岗区's scheme, found from its code
    'longgang'
    >>> STAR_PROFILES.for_region("440307003001").name  # a village of 龙岗 has its district's
    'longgang'
    >>> print(STAR_PROFILES["longgang"].source.explain())  # doctest: +ELLIPSIS
    出处 / source: ...
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from zhiyuan._validators import is_bool, is_date, items_of, key, non_empty, text
from zhiyuan.errors import InvalidValue, NotFound
from zhiyuan.hierarchy.codes import normalize_code, parent_of
from zhiyuan.schedule import Dated, Schedule

if TYPE_CHECKING:
    from zhiyuan.hierarchy.zones import Zone

__all__ = ["Profiles", "Source", "cite", "explain_policy", "shipped_tables", "to_source"]


def _optional_text(field: str) -> Any:
    def check(_: object, attribute: attrs.Attribute[Any], value: str | None) -> None:
        if value is not None:
            if not isinstance(value, str) or not value.strip():
                raise InvalidValue(field, value, "需要非空文字 / need non-empty text")
            text(field, value)

    return check


def _region(value: object) -> str | None:
    return None if value is None else normalize_code(value, field="region_code")


@attrs.frozen(kw_only=True)
class Source:
    """Where a policy comes from (出处): the document, its issuer, date and clause.

    Attributes:
        document: the document's title (文件名), or a report's headline when the rule is known
            only from a report.
        issuer: who issued or published it (发文/发布单位).
        date: the day it was issued, took effect or was reported; ``None`` when the source
            gives none (then the policy's ``effective_from`` is the library's floor, not a
            claim).
        clause: the article or section (条款), when the rule sits in one.
        url: where to read it.
        region_code: the region whose rules these are (any accepted code form; kept as 12
            digits); :meth:`Profiles.for_region` finds profiles by it.
        zone: the id of the functional zone (:class:`~zhiyuan.hierarchy.Zone`) whose rules
            these are, when they hold in a zone rather than a region;
            :meth:`Profiles.for_region` finds them when given the zones.
        verified: ``True`` when the text itself was read (POLICIES.md's "V"), ``False`` when
            the rule is reported by a secondary source.
        note: what else a reader should know: further sources, what is illustrative.

    Example:
        >>> from datetime import date
        >>> s = Source(document="《关于调整志愿服务时长记录规则的通知》", issuer="广东省志愿者联合会",
        ...            date=date(2021, 2, 1), region_code="44")
        >>> s.region_code
        '440000000000'
        >>> print(s.explain())
        出处 / source: 《关于调整志愿服务时长记录规则的通知》, 广东省志愿者联合会, 2021-02-01 (转述 / reported)
    """

    document: str = attrs.field(validator=non_empty)
    issuer: str = attrs.field(validator=non_empty)
    date: date | None = attrs.field(default=None, validator=is_date)
    clause: str | None = attrs.field(default=None, validator=_optional_text("clause"))
    url: str | None = attrs.field(default=None, validator=_optional_text("url"))
    region_code: str | None = attrs.field(default=None, converter=_region)
    zone: str | None = attrs.field(default=None, validator=_optional_text("zone"))
    verified: bool = attrs.field(default=False, validator=is_bool)
    note: str | None = attrs.field(default=None, validator=_optional_text("note"))

    def explain(self) -> str:
        """The source in one line, in Chinese and English."""
        parts = [self.document, self.issuer]
        if self.date is not None:
            parts.append(self.date.isoformat())
        if self.clause is not None:
            parts.append(self.clause)
        if self.url is not None:
            parts.append(self.url)
        basis = "核实 / verified" if self.verified else "转述 / reported"
        line = f"出处 / source: {', '.join(parts)} ({basis})"
        return line if self.note is None else f"{line}\n  {self.note}"


def to_source(value: object) -> Source | None:
    """A policy's ``source`` field: a :class:`Source`, a mapping of its fields, or ``None``.

    Example:
        >>> to_source({"document": "《某某办法》", "issuer": "某某区文明办"}).issuer
        '某某区文明办'
    """
    if value is None or isinstance(value, Source):
        return value
    if isinstance(value, Mapping):
        try:
            return Source(**value)
        except TypeError:
            raise InvalidValue(
                "source", dict(value), "未知或缺少字段 / unknown or missing fields"
            ) from None
    raise InvalidValue("source", value, "需要 Source / need a Source (or a mapping of its fields)")


P = TypeVar("P", bound=Dated)


def cite(policy: object) -> str:
    """The ``出处 / source`` line of a policy, or a line saying it cites none (a caller's own).

    Example:
        >>> from zhiyuan.hours import HourPolicy
        >>> cite(HourPolicy(name="mine"))
        '出处 / source: 未注明（自定义规则）/ none given (a policy of your own)'
    """
    source = getattr(policy, "source", None)
    if isinstance(source, Source):
        return source.explain()
    return "出处 / source: 未注明（自定义规则）/ none given (a policy of your own)"


def explain_policy(policy: Dated, zh: str, en: str) -> str:
    """A policy in two lines, Chinese / English: its name, kind and first day, then its source.

    Every policy class's ``explain()`` is this, given what the policy is called.

    Example:
        >>> from zhiyuan.hours import HOUR_PROFILES
        >>> print(explain_policy(HOUR_PROFILES["national"], "工时规则", "hour policy"))  # doctest: +ELLIPSIS
        national: 工时规则 / hour policy, 自 2021-02-01 起施行 / in force from 2021-02-01
        出处 / source: ...
    """
    name = getattr(policy, "name", None) or type(policy).__name__
    day = policy.effective_from.isoformat()
    return f"{name}: {zh} / {en}, 自 {day} 起施行 / in force from {day}\n{cite(policy)}"


class Profiles(Mapping[str, P]):
    """A read-only table of shipped profiles by name, also found by region code.

    Args:
        profiles: the profiles by name.
        kind: the class every profile must be.
        field: the table's name, for errors.

    Raises:
        InvalidValue: a profile of another kind, or a name that is not a key.

    Example:
        >>> from zhiyuan.hours import HOUR_PROFILES
        >>> HOUR_PROFILES["guangdong"].daily_cap_minutes
        480
        >>> HOUR_PROFILES["mine"] = None
        Traceback (most recent call last):
        ...
        TypeError: 'Profiles' object does not support item assignment
    """

    __slots__ = ("_by_name", "_by_region", "_by_zone", "field", "kind")

    def __init__(self, profiles: Mapping[str, P], *, kind: type[P], field: str) -> None:
        self.kind = kind
        self.field = field
        by_name: dict[str, P] = {}
        by_region: dict[str, list[P]] = {}
        by_zone: dict[str, list[P]] = {}
        for name, profile in profiles.items():
            name = key(field, name)
            if not isinstance(profile, kind):
                raise InvalidValue(
                    f"{field}.{name}",
                    type(profile).__name__,
                    f"需要 {kind.__name__} / need a {kind.__name__}",
                )
            by_name[name] = profile
            source = getattr(profile, "source", None)
            region = source.region_code if isinstance(source, Source) else None
            if region is not None:
                by_region.setdefault(region, []).append(profile)
            zone = source.zone if isinstance(source, Source) else None
            if zone is not None:
                by_zone.setdefault(zone, []).append(profile)
        self._by_name = by_name
        self._by_region = {r: Schedule(ps, kind=kind, field=field) for r, ps in by_region.items()}
        self._by_zone = {z: Schedule(ps, kind=kind, field=field) for z, ps in by_zone.items()}

    def __getitem__(self, name: str) -> P:
        try:
            return self._by_name[name]
        except (KeyError, TypeError):
            raise NotFound(self.field, name) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_name)

    def __len__(self) -> int:
        return len(self._by_name)

    def __repr__(self) -> str:
        return f"Profiles({self.kind.__name__}: {', '.join(self._by_name)})"

    def for_region(self, code: object, *, on: date | None = None, zones: Iterable[Zone] = ()) -> P:
        """The profile of a region: its own, or that of the nearest region above it that has
        one. Of several profiles citing one region, the one in force ``on`` a day (the latest
        taking effect on or before it, the earliest before that); without ``on``, the latest.

        With ``zones``, a profile whose source names one of them (``Source.zone``) holds at
        each of that zone's members, as if cited there: a region inside the zone has it unless
        a region between it and the member has a profile of its own.

        Raises:
            InvalidValue: ``code`` is not a region code, or ``on`` not a date.
            NotFound: no profile covers the region.

        Example:
            >>> from zhiyuan.credit import CONVERSION_PROFILES
            >>> CONVERSION_PROFILES.for_region("371082").name   # 荣成
            'rongcheng'

            A profile for a zone (here a table of one's own, for 长岛综合试验区):

            >>> import attrs
            >>> from zhiyuan.hierarchy.zones import ZONES
            >>> from zhiyuan.hours import HOUR_PROFILES, HourPolicy
            >>> island = attrs.evolve(HOUR_PROFILES["national"], name="changdao",
            ...     source=Source(document="海岛志愿服务时长办法", issuer="长岛管委", zone="长岛综合试验区"))
            >>> mine = Profiles({"national": HOUR_PROFILES["national"], "changdao": island},
            ...                 kind=HourPolicy, field="MY_PROFILES")
            >>> mine.for_region("370614110001", zones=ZONES.values()).name
            'changdao'
            >>> mine.for_region("370614001001", zones=ZONES.values())  # 登州街道: not in the zone
            Traceback (most recent call last):
            ...
            zhiyuan.errors.NotFound: MY_PROFILES not found / 未找到: '370614001001'
        """
        norm = normalize_code(code, field="code")
        at: dict[str, Schedule[P]] = {}  # zone profiles by the member they hold at
        from zhiyuan.hierarchy.zones import Zone  # zones cite their sources: import when used

        for z in items_of("zones", Zone, zones):
            found = self._by_zone.get(z.id)
            if found is not None:
                at.update(dict.fromkeys(z.codes, found))
        c: str | None = norm
        while c is not None:
            found = self._by_region.get(c) or at.get(c)
            if found is not None:
                return found.latest if on is None else found.on(on)
            c = parent_of(c)
        raise NotFound(self.field, norm)

    def regions(self) -> dict[str, Schedule[P]]:
        """Every region that has profiles of its own (12-digit codes), with them by date."""
        return dict(self._by_region)


def shipped_tables() -> dict[str, Profiles[Any]]:
    """Every table of shipped profiles by its name: each ``*_PROFILES`` that is a
    :class:`Profiles` in ``__all__`` of :mod:`zhiyuan` or of one of its public modules and
    packages (a table exported twice is found once; the modules of an optional extra that is not
    installed are passed over).

    Example:
        >>> tables = shipped_tables()
        >>> "HOUR_PROFILES" in tables and tables["HOUR_PROFILES"].field
        'HOUR_PROFILES'
    """
    import importlib
    import pkgutil

    import zhiyuan

    modules = [zhiyuan]
    for info in pkgutil.iter_modules(zhiyuan.__path__):
        if info.name.startswith("_"):  # private modules, and __main__ (the CLI)
            continue
        try:
            modules.append(importlib.import_module(f"zhiyuan.{info.name}"))
        except ModuleNotFoundError as exc:  # an optional extra (numpy …) not installed
            if (exc.name or "zhiyuan").split(".")[0] == "zhiyuan":
                raise
    found: dict[str, Profiles[Any]] = {}
    for module in modules:
        for name in getattr(module, "__all__", ()):
            value = getattr(module, name)
            if (
                name.endswith("_PROFILES")
                and isinstance(value, Profiles)
                and found.setdefault(name, value) is not value
            ):
                raise InvalidValue(
                    name, value.kind.__name__, "两个同名的表 / two tables of one name"
                )
    return found
