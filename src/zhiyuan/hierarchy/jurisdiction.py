"""Jurisdiction (管辖): who may act where. Authority follows the tree.

A :class:`Grant` gives a principal (a user id, a role id: any string) a set of actions on a node
and its whole subtree, optionally for a period. :meth:`Jurisdiction.can_act` answers whether a
principal may take an action at a region; :meth:`Jurisdiction.check` raises
:class:`~zhiyuan.errors.PermissionDenied` with a bilingual message when it may not. An admin of a
street acts on its communities, not on the neighbouring street's.

Example:
    >>> from zhiyuan.hierarchy import load_default, Grant, Jurisdiction, Action
    >>> j = Jurisdiction(load_default(), [
    ...     Grant(principal="li", region_code="370214001", actions={Action.CERTIFY})])
    >>> j.can_act("li", Action.CERTIFY, "370214001001")   # a community of her street
    True
    >>> j.can_act("li", Action.CERTIFY, "370214002001")   # the neighbour's
    False
    >>> j.check("li", Action.APPROVE_STAR, "370214001001")
    Traceback (most recent call last):
    ...
    zhiyuan.errors.PermissionDenied: li 无权在 山东省/青岛市/城阳区/城阳街道/东果园社区居民委员会 执行 approve_star / li may not approve_star at 370214001001
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Iterable
from datetime import date, datetime

import attrs

from zhiyuan._validators import Clock, is_date, non_empty, system_clock, to_shanghai
from zhiyuan.errors import InvalidValue, PermissionDenied, show
from zhiyuan.hierarchy.codes import normalize_code
from zhiyuan.hierarchy.tree import RegionTree
from zhiyuan.hierarchy.zones import Zone, to_zone

__all__ = ["ALL_ACTIONS", "Action", "Grant", "Jurisdiction"]

ALL_ACTIONS = "*"
"""The wildcard action — a grant holding it permits every action."""


class Action(enum.StrEnum):
    """Well-known actions (操作). Any other string is accepted too; these are the library's own."""

    MANAGE = "manage"
    """Manage units, teams and grants (管理)."""
    RECORD = "record"
    """Record service hours and complete needs for others (录入工时)."""
    CERTIFY = "certify"
    """Certify service hours (工时认证)."""
    REVERSE = "reverse"
    """Reverse certified hours (冲销工时)."""
    APPROVE_STAR = "approve_star"
    """Approve a star level (星级审批)."""
    DISPATCH = "dispatch"
    """Dispatch needs to volunteers (派单)."""
    ADJUST_POINTS = "adjust_points"
    """Adjust points or credit (积分调整)."""


def _optional_code(value: object) -> str | None:
    return None if value is None else normalize_code(value, field="region_code")


def _optional_zone(value: object) -> Zone | None:
    return None if value is None else to_zone(value)


def _actions(value: Iterable[str] | str) -> frozenset[str]:
    if isinstance(value, str):
        value = (value,)
    if not isinstance(value, Iterable) or isinstance(value, (bytes, bytearray)):
        raise InvalidValue(
            "actions", value, "需要操作的集合 / need a set of actions", shown=show(value)
        )
    items = tuple(value)
    for a in items:
        if not isinstance(a, str):
            raise InvalidValue(
                "actions",
                a,
                "操作应为文本 / an action is text (an Action or a string)",
                shown=show(a),
            )
    out = frozenset(str(a) for a in items)
    if not out or any(not a.strip() for a in out):
        raise InvalidValue("actions", sorted(out), "至少一个非空操作 / need at least one action")
    return out


def _on(on: object) -> date | None:
    """The ``on`` of a check: a date (not a datetime) or ``None``."""
    if on is not None and (isinstance(on, datetime) or not isinstance(on, date)):
        raise InvalidValue("on", on, "需要日期 / need a date (not a datetime)", shown=show(on))
    return on


def _action(action: object) -> str:
    if not isinstance(action, str):
        raise InvalidValue(
            "action",
            action,
            "操作应为文本 / an action is text (an Action or a string)",
            shown=show(action),
        )
    return str(action)


def _principal(principal: object) -> str:
    if not isinstance(principal, str):
        raise InvalidValue(
            "principal", principal, "应为文本 / a principal is a string id", shown=show(principal)
        )
    return principal


def _grant(grant: object) -> Grant:
    if not isinstance(grant, Grant):
        raise InvalidValue("grant", grant, "需要授权 / need a Grant", shown=show(grant))
    return grant


@attrs.frozen(kw_only=True)
class Grant:
    """A principal's authority over a node and its subtree, or over a functional zone (授权).

    Give ``region_code`` (a node: its subtree) or ``zone`` (a
    :class:`~zhiyuan.hierarchy.Zone`: every member's subtree), not both. ``actions`` defaults to
    every action (``"*"``). ``valid_from`` and ``valid_until`` (inclusive dates) bound the grant
    in time when set.

    Example:
        >>> from zhiyuan.hierarchy import load_default
        >>> from zhiyuan.hierarchy.zones import ZONES
        >>> g = Grant(principal="长岛管委", zone=ZONES["长岛综合试验区"], actions={"record"})
        >>> j = Jurisdiction(load_default(), [g])
        >>> j.can_act("长岛管委", "record", "370614110000"), j.can_act("长岛管委", "record", "370614001000")
        (True, False)
        >>> j.scope("长岛管委", "record")[:2]
        ['370614006000', '370614110000']
    """

    principal: str = attrs.field(validator=non_empty)
    region_code: str | None = attrs.field(default=None, converter=_optional_code)
    zone: Zone | None = attrs.field(default=None, converter=_optional_zone)
    actions: frozenset[str] = attrs.field(default=frozenset({ALL_ACTIONS}), converter=_actions)
    role: str = attrs.field(default="admin", validator=non_empty)
    valid_from: date | None = attrs.field(default=None, validator=is_date)
    valid_until: date | None = attrs.field(default=None, validator=is_date)

    def __attrs_post_init__(self) -> None:
        if (self.region_code is None) == (self.zone is None):
            raise InvalidValue(
                "region_code",
                self.region_code,
                "授权须给出区划或功能区之一 / a grant needs a region_code or a zone, not both",
            )
        if (
            self.valid_from is not None
            and self.valid_until is not None
            and self.valid_until < self.valid_from
        ):
            raise InvalidValue(
                "valid_until",
                self.valid_until.isoformat(),
                f"早于生效日 {self.valid_from.isoformat()} / before valid_from",
            )

    @property
    def scope(self) -> str | Zone:
        """Where the grant holds: its region code, or its zone."""
        return self.zone if self.zone is not None else str(self.region_code)

    @property
    def codes(self) -> tuple[str, ...]:
        """The top codes the grant covers: its region, or its zone's members."""
        return self.zone.codes if self.zone is not None else (str(self.region_code),)

    def permits(self, action: str) -> bool:
        """True if the grant covers ``action``."""
        action = _action(action)
        return ALL_ACTIONS in self.actions or action in self.actions

    def in_force(self, on: date | None) -> bool:
        """True if the grant is valid on ``on`` (``None``: ignore the period)."""
        on = _on(on)
        if on is None:
            return True
        if self.valid_from is not None and on < self.valid_from:
            return False
        return not (self.valid_until is not None and on > self.valid_until)


class Jurisdiction:
    """The grants over one tree, and the checks that follow the subtree (管辖关系).

    Grants at unknown codes are refused when added. Thread-safe for adding and checking.

    Args:
        tree: the region tree.
        grants: grants to add at once.
        clock: what "today" is when a check names no date (default: the wall clock).
    """

    def __init__(
        self, tree: RegionTree, grants: Iterable[Grant] = (), *, clock: Clock = system_clock
    ) -> None:
        if not isinstance(tree, RegionTree):
            raise InvalidValue("tree", tree, "需要区划树 / need a RegionTree", shown=show(tree))
        if not isinstance(grants, Iterable) or isinstance(grants, (str, bytes)):
            raise InvalidValue(
                "grants", grants, "需要授权的序列 / need an iterable of grants", shown=show(grants)
            )
        if not callable(clock):
            raise InvalidValue(
                "clock",
                clock,
                "需要无参函数 / need a function returning the time",
                shown=show(clock),
            )
        self.tree = tree
        self.clock = clock
        self._by_principal: dict[str, list[Grant]] = {}
        self._lock = threading.Lock()
        for g in grants:
            self.add(g)

    def _today(self) -> date:
        return to_shanghai(self.clock()).date()

    def add(self, grant: Grant) -> None:
        """Add a grant (the same grant twice is kept once)."""
        grant = _grant(grant)
        for c in grant.codes:
            self.tree[c]  # raises UnknownRegion for a code not in the tree
        with self._lock:
            held = self._by_principal.setdefault(grant.principal, [])
            if grant not in held:
                held.append(grant)

    def remove(self, grant: Grant) -> None:
        """Withdraw a grant; withdrawing one that was never added changes nothing."""
        grant = _grant(grant)
        with self._lock:
            held = self._by_principal.get(grant.principal, [])
            if grant in held:
                held.remove(grant)

    def grants(self, principal: str) -> list[Grant]:
        """The grants a principal holds."""
        principal = _principal(principal)
        with self._lock:
            return list(self._by_principal.get(principal, []))

    def granting(
        self, principal: str, action: str, code: object, *, on: date | None = None
    ) -> Grant | None:
        """The grant that lets ``principal`` take ``action`` at ``code`` on ``on``, or ``None``.

        ``on`` defaults to today in Asia/Shanghai: an expired grant never authorizes by accident.

        An unknown or malformed ``code`` raises, whether or not the principal holds grants.
        """
        c = self.tree[code].code
        on = _on(on)
        action = _action(action)
        day = self._today() if on is None else on
        for g in self.grants(principal):
            if g.permits(action) and g.in_force(day) and self.tree.is_within(c, g.scope):
                return g
        return None

    def can_act(self, principal: str, action: str, code: object, *, on: date | None = None) -> bool:
        """True if some grant of ``principal`` covers ``action`` at ``code`` (on the date, if given)."""
        return self.granting(principal, action, code, on=on) is not None

    def check(self, principal: str, action: str, code: object, *, on: date | None = None) -> Grant:
        """Return the covering grant, or raise :class:`~zhiyuan.errors.PermissionDenied`."""
        g = self.granting(principal, action, code, on=on)
        if g is None:
            region = self.tree[code]
            where = self.tree.path(region.code)
            raise PermissionDenied(
                f"{principal} 无权在 {where} 执行 {action} / {principal} may not {action} at {region.code}"
            )
        return g

    def scope(self, principal: str, action: str, *, on: date | None = None) -> list[str]:
        """The top codes where ``principal`` may take ``action`` (nested grants folded in)."""
        on = _on(on)
        day = self._today() if on is None else on
        codes = sorted(
            {
                c
                for g in self.grants(principal)
                if g.permits(action) and g.in_force(day)
                for c in g.codes
            }
        )
        top: list[str] = []
        for c in codes:
            if not any(self.tree.is_within(c, t) for t in top):
                top.append(c)
        return top
