"""The platform's good-deed flows: good deeds and deductions (公益行为积分、扣分) claimed, approved
and posted to the points ledger, and the points of sites and teams (阵地积分).

Each flow is one operation: authority is checked on the journal's day, then the deed book
(:class:`~zhiyuan.credit.DeedBook`, ``city.deeds``) and the points ledger (``city.points``) are
written in one transaction with the :class:`~zhiyuan.platform.Act` that authorized it. Who may do
what:

* claiming (申报, :meth:`DeedFlows.claim_deed`): the person themself for a good deed of their
  own; anyone else (a deduction, a site's or a team's deed, a claim on someone's behalf) needs
  :attr:`~zhiyuan.hierarchy.Action.RECORD` over the deed's region;
* approving, rejecting and reversing (:meth:`DeedFlows.approve_deed`,
  :meth:`DeedFlows.reject_deed`, :meth:`DeedFlows.reverse_deed`), deducting
  (:meth:`DeedFlows.deduct`) and awarding a site or a team (:meth:`DeedFlows.award_site`,
  :meth:`DeedFlows.award_team`): :attr:`~zhiyuan.hierarchy.Action.ADJUST_POINTS` (积分调整: the
  act posts points) over the deed's region at the indicator's approving level
  (:func:`~zhiyuan.credit.approval_region`: a township-approved deed in a village needs
  authority over the township), and never on one's own points.

The schemes are the ``deeds`` schedule of the platform's :class:`~zhiyuan.platform.Policies`
(like ``conversion``): a claim is judged by the scheme in force on the deed's day. Points come
from the scheme's issuer, or the platform's (its conversion policy's) when the scheme names
none.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from zhiyuan._validators import day_arg, key
from zhiyuan.credit.deeds import (
    Deed,
    DeedBook,
    DeedEvidence,
    DeedHolder,
    DeedScheme,
    Indicator,
    approval_region,
)
from zhiyuan.errors import InvalidValue, NotFound, PermissionDenied
from zhiyuan.hierarchy.jurisdiction import Action
from zhiyuan.hierarchy.units import PracticeUnit, Team
from zhiyuan.journal import Transaction
from zhiyuan.platform._core import PlatformCore
from zhiyuan.platform._events import EventKind

__all__ = ["DeedFlows"]

APPROVE_DEED = Action.ADJUST_POINTS
"""The action approving, rejecting, reversing, deducting and awarding deeds is authorized
under: approving a deed posts points (积分调整)."""


class DeedFlows(PlatformCore):
    """Good deeds and site and team points on the platform (see
    :class:`~zhiyuan.platform.Platform`).

    Example:
        >>> from zhiyuan.credit import DEED_PROFILES
        >>> from zhiyuan.hierarchy import Action, Grant, Registry, load_default
        >>> from zhiyuan.platform import Platform, Policies
        >>> city = Platform(Registry(load_default()), grants=[
        ...     Grant(principal="村评议小组", region_code="370285102259",
        ...           actions={Action.ADJUST_POINTS})],
        ...     policies=Policies(deeds=[DEED_PROFILES["laixi"]]))
        >>> today = city.journal.now().date()
        >>> _ = city.claim_deed("d1", "v1", "blood", day=today, region_code="370285102259",
        ...                     evidence="certificate", by="v1")
        >>> city.approve_deed("d1", by="v1")
        Traceback (most recent call last):
        ...
        zhiyuan.errors.PermissionDenied: 不能审核本人的公益行为积分 / nobody may decide on their own deed (v1)
        >>> city.approve_deed("d1", by="村评议小组").points, city.points.balance("volunteer:v1")
        (5, 5)
    """

    deeds: DeedBook

    def _init_deeds(self, schemes: DeedScheme | Iterable[DeedScheme] | None = None) -> None:
        """Make the good-deed book on the platform's journal and points ledger, judging claims
        by ``schemes`` (none: set :attr:`DeedBook.schemes <zhiyuan.credit.DeedBook.schemes>`
        later). ``Platform.__init__`` passes the ``deeds`` schedule of its
        :class:`~zhiyuan.platform.Policies`."""
        self.deeds = DeedBook(
            self.points, schemes=() if schemes is None else schemes, tree=self.tree
        )

    # --- helpers ------------------------------------------------------------------------------

    def _deed(self, tx: Transaction, deed_id: object) -> Deed:
        did = key("deed_id", deed_id)
        deed = self.deeds._view(tx).get(did)
        if deed is None:
            raise NotFound("deed", did)
        return deed

    @staticmethod
    def _not_own_deed(by: object, holder: str, kind: DeedHolder) -> None:
        if kind is DeedHolder.PERSON and by == holder:
            raise PermissionDenied(
                f"不能审核本人的公益行为积分 / nobody may decide on their own deed ({holder})"
            )

    def _moment(self, tx: Transaction, deed_id: str, now: datetime) -> datetime | None:
        """When a write on ``deed_id`` happens: now, or ``None`` for a deed already recorded,
        so that the same call again (a retry, later) is the book's no-op and not a
        :class:`~zhiyuan.errors.Conflict` over its moment."""
        return None if self.deeds._view(tx).get(deed_id) is not None else now

    def _indicator(self, day: object, indicator_id: object) -> Indicator:
        return self.deeds.scheme_for(day_arg("day", day)).indicator(
            key("indicator_id", indicator_id)
        )

    def _unit(self, unit_id: object) -> PracticeUnit:
        uid = key("unit_id", unit_id)
        for u in self.registry.units():
            if u.id == uid:
                return u
        raise NotFound("practice unit", uid)

    def _team(self, team_id: object) -> Team:
        tid = key("team_id", team_id)
        for t in self.registry.teams():
            if t.id == tid:
                return t
        raise NotFound("team", tid)

    def _earned(self, deed: Deed, new: bool) -> None:
        """Tell the hooks a person earned points by an approved good deed."""
        if new and deed.claim.indicator.holder is DeedHolder.PERSON and deed.points > 0:
            a = deed.approval
            assert a is not None
            self._emit(EventKind.POINTS_EARNED, a.at, deed.claim.holder, deed.id, deed.points)

    # --- flows --------------------------------------------------------------------------------

    def claim_deed(
        self,
        id: str,
        holder: str,
        indicator_id: str,
        *,
        day: date,
        region_code: object,
        evidence: DeedEvidence | str,
        by: str,
        note: str = "",
    ) -> Deed:
        """Claim a deed (申报) under the scheme in force on ``day``: ``holder`` (a person, or a
        unit or team of the registry for a site's or team's indicator) did it at
        ``region_code``. ``by`` is the person themself, for a good deed of their own, or a
        principal with :attr:`~zhiyuan.hierarchy.Action.RECORD` over the region. The same claim
        again is a no-op."""
        did = key("id", id)
        with self._op() as (tx, now):
            ind = self._indicator(day, indicator_id)
            if ind.holder is DeedHolder.SITE:
                self._unit(holder)
            elif ind.holder is DeedHolder.TEAM:
                self._team(holder)
            own = by == holder and ind.holder is DeedHolder.PERSON and not ind.deduction
            act = self._allow(
                "claim_deed", by, region_code, now, did, None if own else Action.RECORD
            )
            at = self._moment(tx, did, now)
            out, _ = self._did(
                tx,
                act,
                lambda: self.deeds.claim(
                    id,
                    holder,
                    ind.id,
                    day=day,
                    region_code=act.region_code,
                    evidence=evidence,
                    by=act.by,
                    note=note,
                    at=at,
                ),
            )
            return out

    def approve_deed(self, deed_id: str, *, by: str, note: str = "") -> Deed:
        """Approve a claimed deed (审核通过) and post its points, capped by the indicator's
        yearly cap. ``by`` needs :attr:`~zhiyuan.hierarchy.Action.ADJUST_POINTS` over the deed's
        region at the indicator's approving level, and may not be the person whose deed it is;
        a refusal records nothing."""
        with self._op() as (tx, now):
            deed = self._deed(tx, deed_id)
            c = deed.claim
            self._not_own_deed(by, c.holder, c.indicator.holder)
            node = approval_region(c.region_code, c.indicator.level)
            act = self._allow("approve_deed", by, node, now, deed.id, APPROVE_DEED)
            out, new = self._did(
                tx,
                act,
                lambda: self.deeds.approve(
                    deed.id,
                    by=act.by,
                    at=None if deed.approval is not None else now,
                    note=note,
                    issuer=self._issuer(now),
                ),
            )
            self._earned(out, new)
            return out

    def reject_deed(self, deed_id: str, *, by: str, reason: str) -> Deed:
        """Reject a claimed deed (驳回); ``by`` as for :meth:`approve_deed`."""
        with self._op() as (tx, now):
            deed = self._deed(tx, deed_id)
            c = deed.claim
            self._not_own_deed(by, c.holder, c.indicator.holder)
            node = approval_region(c.region_code, c.indicator.level)
            act = self._allow("reject_deed", by, node, now, deed.id, APPROVE_DEED)
            out, _ = self._did(
                tx,
                act,
                lambda: self.deeds.reject(
                    deed.id,
                    by=act.by,
                    reason=reason,
                    at=None if deed.rejection is not None else now,
                ),
            )
            return out

    def reverse_deed(self, deed_id: str, *, by: str, reason: str) -> Deed:
        """Reverse an approved deed (撤销) and take its points back (a deduction's are given
        back); ``by`` as for :meth:`approve_deed`."""
        with self._op() as (tx, now):
            deed = self._deed(tx, deed_id)
            c = deed.claim
            self._not_own_deed(by, c.holder, c.indicator.holder)
            node = approval_region(c.region_code, c.indicator.level)
            act = self._allow("reverse_deed", by, node, now, deed.id, APPROVE_DEED)
            out, new = self._did(
                tx,
                act,
                lambda: self.deeds.reverse(
                    deed.id,
                    by=act.by,
                    reason=reason,
                    at=None if deed.reversal is not None else now,
                ),
            )
            if new and c.indicator.holder is DeedHolder.PERSON and deed.points > 0:
                self._emit(EventKind.POINTS_REVERSED, now, c.holder, deed.id, deed.points)
            return out

    def _award(
        self,
        name: str,
        id: str,
        holder: str,
        ind: Indicator,
        *,
        day: date,
        region_code: str,
        evidence: DeedEvidence | str,
        by: str,
        note: str,
    ) -> Deed:
        """Claim and approve at once (the authority of :meth:`approve_deed`), in the open
        operation."""
        with self._op() as (tx, now):
            self._not_own_deed(by, holder, ind.holder)
            node = approval_region(region_code, ind.level)
            did = key("id", id)
            act = self._allow(name, by, node, now, did, APPROVE_DEED)
            at = self._moment(tx, did, now)
            out, new = self._did(
                tx,
                act,
                lambda: self.deeds.award(
                    id,
                    holder,
                    ind.id,
                    day=day,
                    region_code=region_code,
                    evidence=evidence,
                    by=act.by,
                    note=note,
                    at=at,
                    issuer=self._issuer(now),
                ),
            )
            self._earned(out, new)
            return out

    def deduct(
        self,
        id: str,
        holder: str,
        indicator_id: str,
        *,
        day: date,
        region_code: object,
        evidence: DeedEvidence | str,
        by: str,
        note: str = "",
    ) -> Deed:
        """Record a deduction (扣分) found at ``region_code`` on ``day`` and take its points off
        ``holder`` at once (from the available points, the rest owed, as the scheme's clawback
        rule says). The indicator must be a person's deduction; ``by`` as for
        :meth:`approve_deed`."""
        ind = self._indicator(day, indicator_id)
        if not ind.deduction or ind.holder is not DeedHolder.PERSON:
            raise InvalidValue(
                "indicator_id", ind.id, "不是个人扣分指标 / not a deduction from a person"
            )
        region = self.tree[region_code].code
        return self._award(
            "deduct",
            id,
            key("holder", holder),
            ind,
            day=day,
            region_code=region,
            evidence=evidence,
            by=by,
            note=note,
        )

    def award_site(
        self,
        id: str,
        unit_id: str,
        indicator_id: str,
        *,
        day: date,
        evidence: DeedEvidence | str,
        by: str,
        note: str = "",
    ) -> Deed:
        """Score a 新时代文明实践 site (阵地积分: a 中心, 所 or 站 of the registry) under one of the
        scheme's site indicators (开展活动, 群众评价 …; a negative one takes points off), on
        ``site:<unit id>``. ``by`` needs :attr:`~zhiyuan.hierarchy.Action.ADJUST_POINTS` over
        the site's region at the indicator's approving level."""
        unit = self._unit(unit_id)
        ind = self._indicator(day, indicator_id)
        if ind.holder is not DeedHolder.SITE:
            raise InvalidValue("indicator_id", ind.id, "不是阵地指标 / not a site indicator")
        return self._award(
            "award_site",
            id,
            unit.id,
            ind,
            day=day,
            region_code=unit.region_code,
            evidence=evidence,
            by=by,
            note=note,
        )

    def award_team(
        self,
        id: str,
        team_id: str,
        indicator_id: str,
        *,
        day: date,
        evidence: DeedEvidence | str,
        by: str,
        note: str = "",
    ) -> Deed:
        """Score a volunteer team of the registry under one of the scheme's team indicators, on
        ``team:<team id>``; ``by`` as for :meth:`award_site`, over the team's region."""
        team = self._team(team_id)
        ind = self._indicator(day, indicator_id)
        if ind.holder is not DeedHolder.TEAM:
            raise InvalidValue("indicator_id", ind.id, "不是队伍指标 / not a team indicator")
        return self._award(
            "award_team",
            id,
            team.id,
            ind,
            day=day,
            region_code=team.region_code,
            evidence=evidence,
            by=by,
            note=note,
        )
