"""The platform's need flows (网约: 点单 → 派单 → 接单 → 服务 → 评单 → 奖单): each a write
authorized on the need's region and recorded with what it causes (the hours of whoever served,
ratings, rewards)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import attrs

from zhiyuan._validators import arg_of, flag, items, key
from zhiyuan.errors import InvalidValue, NotFound
from zhiyuan.hierarchy.jurisdiction import Action
from zhiyuan.hours.records import Evidence
from zhiyuan.journal import Transaction
from zhiyuan.journal._ids import derive, foreign
from zhiyuan.matching.callup import CallUpResult
from zhiyuan.matching.dispatch import Dispatcher
from zhiyuan.matching.lifecycle import Completed, Offered, Rated, Rewarded, Taken
from zhiyuan.matching.needbook import NeedBook
from zhiyuan.matching.needs import Need
from zhiyuan.platform._acts import Act
from zhiyuan.platform._core import PlatformCore
from zhiyuan.platform._events import EventKind
from zhiyuan.scoring.feedback import FeedbackBook

__all__ = ["NeedFlows"]


class NeedFlows(PlatformCore):
    """The need lifecycle on the platform (see :class:`~zhiyuan.platform.Platform`)."""

    dispatcher: Dispatcher
    needs: NeedBook
    feedback: FeedbackBook

    def _dispatch_policy(self) -> None:
        policy = self.policies.dispatch_for(self.journal.now().date())
        if self.dispatcher.policy is not policy:
            self.dispatcher.policy = self.needs.policy = policy

    def post_need(self, need: Need, *, by: str) -> None:
        """Post a need (点单); ``by`` is the requester or a principal with
        :attr:`~zhiyuan.hierarchy.Action.DISPATCH` over its region."""
        n = arg_of("need", Need, need)
        with self._op() as (tx, now):
            own = by == n.requester
            act = self._allow(
                "post_need", by, n.region_code, now, n.id, None if own else Action.DISPATCH
            )
            _, new = self._did(tx, act, lambda: self.needs.post(n, at=now))
            if new:
                self._emit(EventKind.NEED_POSTED, now, n.requester, n.id)

    def _need(self, tx: Transaction, need_id: object) -> Need:
        """The need, with the dispatch policy in force today set on the dispatcher."""
        self._dispatch_policy()
        nid = key("need_id", need_id)
        status = self.needs._view(tx).get(nid)
        if status is None:
            raise NotFound("need", nid)
        return status.need

    def dispatch(self, need_id: str, *, by: str, candidate_id: str | None = None) -> Offered | None:
        """Offer a need (派单): to ``candidate_id``, or to the best-ranked candidate not offered
        it yet (``None`` when none is left). ``by`` needs
        :attr:`~zhiyuan.hierarchy.Action.DISPATCH` over the need's region."""
        with self._op() as (tx, now):
            need = self._need(tx, need_id)
            before = len(tx)
            if candidate_id is None:
                act = self._allow("dispatch", by, need.region_code, now, need.id, Action.DISPATCH)
                offer = self.needs.offer_next(need.id, at=now)
            else:
                cid = key("candidate_id", candidate_id)
                act = self._allow(
                    "dispatch",
                    by,
                    need.region_code,
                    now,
                    derive(foreign(need.id), cid),
                    Action.DISPATCH,
                )
                offer = self.needs.offer(need.id, cid, at=now)
            if offer is not None and len(tx) > before:
                self._act(
                    tx, attrs.evolve(act, id=Act.id_for("dispatch", offer.id), target=offer.id)
                )
                self._emit(EventKind.NEED_DISPATCHED, now, offer.candidate_id, need.id)
            return offer

    def accept(self, need_id: str, candidate_id: str, *, by: str) -> None:
        """Accept an offer (接单); ``by`` is the candidate, or a principal with
        :attr:`~zhiyuan.hierarchy.Action.DISPATCH` over the need's region."""
        self._answer(need_id, candidate_id, by, accept=True)

    def decline(self, need_id: str, candidate_id: str, *, by: str, reason: str = "") -> None:
        """Decline an offer; ``by`` as for :meth:`accept`."""
        self._answer(need_id, candidate_id, by, accept=False, reason=reason)

    def _answer(
        self, need_id: str, candidate_id: str, by: str, *, accept: bool, reason: str = ""
    ) -> None:
        cid = key("candidate_id", candidate_id)
        with self._op() as (tx, now):
            need = self._need(tx, need_id)
            name = "accept" if accept else "decline"
            act = self._allow(
                name,
                by,
                need.region_code,
                now,
                derive(foreign(need.id), cid),
                None if by == cid else Action.DISPATCH,
            )
            if accept:
                self._did(tx, act, lambda: self.needs.accept(need.id, cid, at=now))
            else:
                self._did(tx, act, lambda: self.needs.decline(need.id, cid, at=now, reason=reason))

    def take(self, need_id: str, candidate_id: str, *, by: str) -> Taken:
        """Take an open need without an offer (抢单), where the dispatch policy in force allows it
        (:attr:`DispatchPolicy.allow_taking <zhiyuan.matching.DispatchPolicy.allow_taking>`,
        else :class:`~zhiyuan.errors.PermissionDenied` naming the policy); ``by`` is the
        candidate (a volunteer, or a team acting as itself), or a principal with
        :attr:`~zhiyuan.hierarchy.Action.DISPATCH` over the need's region. See
        :meth:`NeedBook.take <zhiyuan.matching.NeedBook.take>` for the rules of the places.
        """
        cid = key("candidate_id", candidate_id)
        with self._op() as (tx, now):
            need = self._need(tx, need_id)
            act = self._allow(
                "take",
                by,
                need.region_code,
                now,
                derive(foreign(need.id), cid),
                None if by == cid else Action.DISPATCH,
            )
            out, new = self._did(tx, act, lambda: self.needs.take(need.id, cid, at=now))
            if new:
                self._emit(EventKind.NEED_TAKEN, now, cid, need.id)
            return out

    def call_up(self, need_ids: Iterable[str], *, by: str, accept: bool = True) -> CallUpResult:
        """A call-up (紧急召集): fill every free place of the open needs ``need_ids`` that can be
        filled, urgent needs first, each need's search up the ladder only as far as needed
        (:func:`~zhiyuan.matching.call_up`), recording the offers it decides and, unless
        ``accept`` is ``False``, their acceptances (a binding call-up, 层层派单), all in one
        transaction. ``by`` needs :attr:`~zhiyuan.hierarchy.Action.DISPATCH` over every need's
        region; one act is recorded per offer.
        """
        ids = [key("need_ids", nid) for nid in items("need_ids", need_ids)]
        binding = flag("accept", accept)
        with self._op() as (tx, now):
            acts = {}
            for nid in ids:
                need = self._need(tx, nid)
                if nid in acts:
                    raise InvalidValue("need_ids", nid, "需求编号重复 / a need id twice")
                acts[nid] = self._allow("call_up", by, need.region_code, now, nid, Action.DISPATCH)
            result = self.needs.call_up(ids, at=now, accept=binding)
            for p in result.pairs:
                offer_id = self.needs._default_id(p.need_id, "offer", p.candidate_id)
                act = attrs.evolve(
                    acts[p.need_id], id=Act.id_for("call_up", offer_id), target=offer_id
                )
                self._act(tx, act)
                self._emit(EventKind.NEED_DISPATCHED, now, p.candidate_id, p.need_id)
            return result

    def start(self, need_id: str, *, by: str) -> None:
        """Start the service of a need; ``by`` needs :attr:`~zhiyuan.hierarchy.Action.RECORD`
        over its region."""
        with self._op() as (tx, now):
            need = self._need(tx, need_id)
            act = self._allow("start", by, need.region_code, now, need.id, Action.RECORD)
            self._did(tx, act, lambda: self.needs.start(need.id, at=now))

    def complete(
        self,
        need_id: str,
        *,
        by: str,
        evidence: Evidence | str,
        organization_id: str,
        members: Mapping[str, Iterable[str]] | None = None,
    ) -> Completed:
        """Complete a need (服务完成): post one hour record per volunteer who served, and per
        named member of a team that served (``members``: team id → volunteer ids), through the
        hour policy and, where it certifies on posting, on to points and the time bank.

        ``by`` needs :attr:`~zhiyuan.hierarchy.Action.RECORD` over the need's region. Every
        volunteer must be registered; nothing is recorded otherwise.
        """
        with self._op() as (tx, now):
            need = self._need(tx, need_id)
            act = self._allow("complete", by, need.region_code, now, need.id, Action.RECORD)
            before = len(tx)
            done = self.needs.complete(
                need.id,
                at=now,
                evidence=evidence,  # type: ignore[arg-type]
                organization_id=organization_id,
                members=members,
            )
            if len(tx) == before:
                return done
            self._act(tx, act)
            self._emit(EventKind.NEED_COMPLETED, now, need.requester, need.id, len(done.records))
            who = key("by", by)
            for rec in done.records:
                self._post_record(tx, now, rec, who)
            return done

    def rate(self, need_id: str, stars: int, *, by: str, comment: str = "") -> Rated:
        """Rate a completed need (评单); ``by`` is the requester (or a principal with
        :attr:`~zhiyuan.hierarchy.Action.DISPATCH` over its region, rating on their behalf)."""
        with self._op() as (tx, now):
            need = self._need(tx, need_id)
            own = by == need.requester
            act = self._allow(
                "rate", by, need.region_code, now, need.id, None if own else Action.DISPATCH
            )
            out, _ = self._did(
                tx,
                act,
                lambda: self.needs.rate(
                    need.id,
                    stars,
                    at=now,
                    by=need.requester,
                    comment=comment,
                    feedback=self.feedback,
                ),
            )
            return out

    def reward(self, need_id: str, candidate_id: str, points: int, *, by: str) -> Rewarded:
        """Reward a candidate who served a need (奖单); ``by`` needs
        :attr:`~zhiyuan.hierarchy.Action.ADJUST_POINTS` over its region and may not be the
        candidate."""
        cid = key("candidate_id", candidate_id)
        with self._op() as (tx, now):
            need = self._need(tx, need_id)
            self._not_own(by, cid, "reward")
            act = self._allow(
                "reward",
                by,
                need.region_code,
                now,
                derive(foreign(need.id), cid),
                Action.ADJUST_POINTS,
            )
            out, new = self._did(
                tx,
                act,
                lambda: self.needs.reward(
                    need.id, cid, points, at=now, ledger=self.points, issuer=self._issuer(now)
                ),
            )
            if new:
                self._emit(EventKind.NEED_REWARDED, now, cid, need.id, points)
                self._emit(EventKind.POINTS_EARNED, now, cid, out.posting_id, points)
            return out
