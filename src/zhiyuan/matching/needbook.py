"""The need book (需求台账): the need lifecycle recorded in a journal, with the dispatcher, the
hour ledger and feedback kept in step.

A :class:`NeedBook` records the entries of the need lifecycle (``zhiyuan.matching.lifecycle``:
点单 → 派单 → 接单 → 服务 → 评单 → 奖单), each checked against its need's state with
:func:`~zhiyuan.matching.advance` before it is recorded, and takes a need through them step by
step. Completing a need emits the :class:`~zhiyuan.hours.ServiceRecord` of each volunteer who
served, for the hour ledger; a rating is recorded with its :class:`~zhiyuan.scoring.Rating`
values in a :class:`~zhiyuan.scoring.FeedbackBook`, and a reward with its points in a
:class:`~zhiyuan.credit.PointsLedger`, each in one transaction on the book's journal.

Invalid changes raise as :func:`~zhiyuan.matching.advance` does, and the book is left exactly as
it was. The same entry again is a no-op (idempotent by id); another entry under a used id is a
Conflict. With a :class:`~zhiyuan.matching.Dispatcher`, offers, acceptances and takings must
pass its gates, and its bookings follow the book: booked on accept or take, released on
decline, completion, cancellation and unfilled. All methods are thread-safe.

Example:
    >>> from datetime import datetime
    >>> from zhiyuan import SHANGHAI
    >>> from zhiyuan.hours import Evidence
    >>> from zhiyuan.matching import Need
    >>> t = lambda h: datetime(2025, 5, 1, h, tzinfo=SHANGHAI)
    >>> book = NeedBook()
    >>> need = Need(id="n1", requester="张大爷", region_code="370214001001", category="帮老",
    ...             start=t(9), end=t(11), posted_at=t(7))
    >>> _ = book.post(need)
    >>> _ = book.offer("n1", "v1", at=t(7))
    >>> _ = book.accept("n1", "v1", at=t(8))
    >>> _ = book.start("n1", at=t(9))
    >>> done = book.complete("n1", at=t(11), evidence=Evidence.SUPERVISOR, organization_id="o1")
    >>> [(r.volunteer_id, r.served_minutes) for r in done.records]
    [('v1', 120)]
    >>> _ = book.rate("n1", 5, at=t(12))
    >>> print(book.status("n1"))
    n1: 已评价 / rated (1/1)
    >>> book.accept("n1", "v1", at=t(13))
    Traceback (most recent call last):
    ...
    zhiyuan.errors.Conflict: 需求 n1 当前为「已评价」，不能接单 / need n1 is rated: cannot accept
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast

from zhiyuan._validators import Clock, items, key, to_enum
from zhiyuan.credit.ledger import PointsLedger
from zhiyuan.errors import Conflict, InvalidValue, NotFound, PermissionDenied, UnknownRegion
from zhiyuan.explain import finding, register_messages
from zhiyuan.hours.records import Evidence, ServiceRecord
from zhiyuan.journal import Book, Journal, Transaction
from zhiyuan.journal._ids import derive, foreign, own_id
from zhiyuan.journal._pickle import register_state_type
from zhiyuan.matching.assignment import Backend
from zhiyuan.matching.callup import CallUpResult
from zhiyuan.matching.callup import call_up as plan_call_up
from zhiyuan.matching.dispatch import Booking, Dispatcher, DispatchPolicy, DispatchResult
from zhiyuan.matching.lifecycle import (
    BEFORE_START_STATES,
    ENTRY_TYPES,
    OPEN_STATES,
    Accepted,
    Completed,
    Declined,
    Expired,
    NeedCancelled,
    NeedEntry,
    NeedState,
    NeedStatus,
    Offered,
    Posted,
    Rated,
    Rewarded,
    Started,
    Taken,
    Unfilled,
    advance,
    fold,
    state_conflict,
)
from zhiyuan.matching.needs import CandidateKind, Need
from zhiyuan.scoring.feedback import FeedbackBook, Rating

__all__ = ["NeedBook"]

register_messages(
    {
        ("need.take_policy", ""): (
            ("policy",),
            "派单规则「{policy}」不允许抢单",
            "the dispatch policy {policy!r} does not allow taking a need (抢单)",
        ),
        ("need.gate", ""): (
            ("need", "candidate", "why_zh", "why"),
            "{candidate} 不能承接需求 {need}：{why_zh}",
            "{candidate} cannot take need {need}: {why}",
        ),
    }
)


def _text(rule: str, values: tuple[int | str, ...]) -> str:
    f = finding(rule, values)
    return f"{f.zh} / {f.en}"


_E = TypeVar("_E")


class _NeedsState:
    """The folded need book: every need's status, and its entries in order."""

    __slots__ = ("by_need", "status")

    def __init__(self) -> None:
        self.status: dict[str, NeedStatus] = {}
        self.by_need: dict[str, list[NeedEntry]] = {}

    def apply(self, entry: NeedEntry) -> None:
        nid = entry.need_id
        self.status[nid] = advance(self.status.get(nid), entry)
        self.by_need.setdefault(nid, []).append(entry)


register_state_type(_NeedsState)


class _NeedsView:
    """The statuses as an operation sees them: recorded, with the staged entries on top."""

    __slots__ = ("state", "status")

    def __init__(self, state: _NeedsState, staged: Iterable[NeedEntry]) -> None:
        self.state = state
        self.status: dict[str, NeedStatus] = {}
        for e in staged:
            self.apply(e)

    def get(self, need_id: str) -> NeedStatus | None:
        found = self.status.get(need_id)
        return self.state.status.get(need_id) if found is None else found

    def apply(self, entry: NeedEntry) -> None:
        self.status[entry.need_id] = advance(self.get(entry.need_id), entry)

    def needs(self) -> list[NeedStatus]:
        return [self.get(nid) or s for nid, s in {**self.state.status, **self.status}.items()]


def _members(value: object) -> dict[str, tuple[str, ...]]:
    """``members`` of a completion: team id → the ids of the volunteers who served."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidValue("members", value, "需要 团队→成员 映射 / need team id → volunteer ids")
    out: dict[str, tuple[str, ...]] = {}
    for team, crew in value.items():
        key("members", team)
        ids = items("members", crew)
        for vid in ids:
            key("members", vid)
        if len(set(ids)) != len(ids):
            raise InvalidValue("members", team, "成员重复 / a member is named twice")
        out[team] = ids
    return out


_CALLED = OPEN_STATES | {NeedState.ACCEPTED}
"""The states a call-up takes: open needs, and filled ones (with no place left to fill)."""


def _need_id(value: object) -> str:
    """A need id given to a book's method: non-empty text."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidValue("need_id", value, "需求编号须为非空文本 / a need id is non-empty text")
    return value


class NeedBook(Book[NeedEntry, _NeedsState]):
    """The entries of many needs, their states, and the dispatcher's bookings kept in step.

    Args:
        entries: entries to add at once (checked as if added one by one, in one transaction).
        dispatcher: optional; offers and acceptances must then pass its gates, and accepted
            candidates are booked there (released on decline, completion, cancellation,
            unfilled). Its bookings are rebuilt from the book when it is reopened.
        policy: the policy whose ``offer_timeout_minutes`` sets offer deadlines (default: the
            dispatcher's policy, else :class:`~zhiyuan.matching.DispatchPolicy`'s defaults).
        journal: the journal to record in (default: a new in-memory one); a points ledger that
            rewards and a feedback book that takes ratings must be on the same journal.
        name: the book's name in the journal (default ``needs``).
        clock: the clock of the new journal made when ``journal`` is not given.
    """

    kind = "needs"
    entry_type = NeedEntry
    state_version = 2  # 2: a need's status keeps the takings (抢单)

    def __init__(
        self,
        entries: Iterable[NeedEntry] = (),
        *,
        dispatcher: Dispatcher | None = None,
        policy: DispatchPolicy | None = None,
        journal: Journal | None = None,
        name: str | None = None,
        clock: Clock | None = None,
    ) -> None:
        if dispatcher is not None and not isinstance(dispatcher, Dispatcher):
            raise InvalidValue(
                "dispatcher", dispatcher, "需要派单器 Dispatcher / need a Dispatcher"
            )
        if policy is not None and not isinstance(policy, DispatchPolicy):
            raise InvalidValue(
                "policy", policy, "需要派单规则 DispatchPolicy / need a DispatchPolicy"
            )
        given = items("entries", entries)
        self.dispatcher = dispatcher
        self.policy = policy or (dispatcher.policy if dispatcher is not None else DispatchPolicy())
        super().__init__(journal=journal, name=name, clock=clock)
        self._listeners.append(self._sync_dispatcher)
        with self.journal.transaction():
            for e in given:
                self.add(e)

    def _new_state(self) -> _NeedsState:
        return _NeedsState()

    def _restored(self) -> None:
        """Book the dispatcher with every candidate holding a place in an open need."""
        d = self.dispatcher
        if d is None:
            return
        for status in self._state.status.values():
            if status.completed or status.cancelled or status.unfilled:
                continue
            need = status.need
            for cid in status.accepted:
                d.book(Booking(candidate_id=cid, need_id=need.id, start=need.start, end=need.end))

    def _view(self, tx: Transaction) -> _NeedsView:
        state = self._state
        return tx.view(self, lambda staged: _NeedsView(state, staged))

    # --- the one way in -----------------------------------------------------------------------

    def add(self, entry: NeedEntry) -> NeedEntry:
        """Check an entry against its need's state (and the dispatcher's gates), then record it.

        The same entry again is a no-op (it is returned); another entry under a used id is a
        :class:`~zhiyuan.errors.Conflict`. Nothing changes when anything raises.
        """
        if not isinstance(entry, ENTRY_TYPES):
            raise InvalidValue("entry", type(entry).__name__, "不是需求条目 / not a need entry")
        with self.journal.transaction() as tx, self._dispatcher_lock():
            old = self.journal.find(self.name, entry.id)
            if old is not None and old == entry:
                return old  # type: ignore[no-any-return]
            if isinstance(entry, Taken):
                self._check_taking()
            # the state's objection first (it names the state), then a used id, then the gates
            after = advance(self._view(tx).get(entry.need_id), entry)
            if old is not None:
                raise Conflict(
                    f"entry id {entry.id!r} is already used by another entry / 条目编号已被占用"
                )
            self._check_dispatcher(entry, after)
            tx.add(self, [entry])
        return entry

    def _entry_id(self, entry: NeedEntry) -> str:
        return entry.id

    def _dispatcher_lock(self) -> contextlib.AbstractContextManager[Any]:
        d = self.dispatcher
        return contextlib.nullcontext() if d is None else d.lock

    def _check_taking(self) -> None:
        """Raise :class:`~zhiyuan.errors.PermissionDenied` unless the policy allows taking."""
        if not self.policy.allow_taking:
            raise PermissionDenied(_text("need.take_policy", (self.policy.name,)))

    def _check_dispatcher(self, entry: NeedEntry, after: NeedStatus) -> None:
        d = self.dispatcher
        if d is None:
            return
        if isinstance(entry, Posted):
            if entry.need.region_code not in d.tree:
                raise UnknownRegion(entry.need.region_code)
        elif isinstance(entry, (Offered, Accepted, Taken)):
            cand = d.candidate(entry.candidate_id)  # NotFound for an unknown candidate
            if isinstance(entry, (Offered, Taken)) and entry.kind is not cand.kind:
                raise InvalidValue(
                    "kind",
                    entry.kind.value,
                    f"候选类型为 {cand.kind.value} / the candidate is a {cand.kind.value}",
                )
            failed = d.gate(after.need, cand)
            if failed is not None:
                raise Conflict(_text("need.gate", (after.need_id, cand.id, failed.zh, failed.en)))

    def _sync_dispatcher(self, entry: NeedEntry) -> None:
        """Keep the dispatcher's bookings in step with a recorded entry."""
        d = self.dispatcher
        if d is None:
            return
        status = self._state.status[entry.need_id]
        need = status.need
        if isinstance(entry, (Accepted, Taken)):
            d.book(
                Booking(
                    candidate_id=entry.candidate_id,
                    need_id=need.id,
                    start=need.start,
                    end=need.end,
                )
            )
        elif isinstance(entry, Declined):
            d.release(entry.candidate_id, need.id)
        elif isinstance(entry, (Completed, NeedCancelled, Unfilled)):
            for cid in status.accepted:
                d.release(cid, need.id)

    def _default_id(self, need_id: str, step: str, *rest: str) -> str:
        return derive(foreign(_need_id(need_id)), step, *rest)

    def _own(self, id: str | None, need_id: str, step: str, *rest: str) -> str:
        return self._default_id(need_id, step, *rest) if id is None else own_id(id, "id")

    # --- the steps ----------------------------------------------------------------------------

    def post(self, need: Need, *, at: datetime | None = None, id: str | None = None) -> Posted:
        """点单: post a need (``at`` defaults to ``need.posted_at``)."""
        if not isinstance(need, Need):
            raise InvalidValue("need", type(need).__name__, "需要 Need / need a Need")
        entry = Posted(
            id=self._own(id, need.id, "post"),
            at=need.posted_at if at is None else at,
            need=need,
        )
        return self._add(entry)

    def _kind_of(self, candidate_id: str, kind: CandidateKind | None) -> CandidateKind:
        """``kind`` as given, else the dispatcher's record of the candidate, else a volunteer."""
        if kind is None and self.dispatcher is not None:
            with contextlib.suppress(NotFound):  # an unknown candidate is refused by add()
                kind = self.dispatcher.candidate(candidate_id).kind
        return CandidateKind.VOLUNTEER if kind is None else kind

    def offer(
        self,
        need_id: str,
        candidate_id: str,
        *,
        at: datetime | None = None,
        kind: CandidateKind | None = None,
        id: str | None = None,
    ) -> Offered:
        """派单: offer the need to one candidate, with the policy's deadline.

        ``kind`` defaults to the dispatcher's record of the candidate, else a volunteer.
        """
        when = self._when(at)
        timeout = self.policy.offer_timeout_minutes
        entry = Offered(
            id=self._own(id, need_id, "offer", candidate_id),
            at=when,
            need_id=need_id,
            candidate_id=candidate_id,
            kind=self._kind_of(candidate_id, kind),
            expires_at=None if timeout is None else when + timedelta(minutes=timeout),
        )
        return self._add(entry)

    def offer_next(
        self,
        need_id: str,
        dispatch_result: DispatchResult | None = None,
        at: datetime | None = None,
    ) -> Offered | None:
        """Offer the need to the best-ranked candidate not offered it yet; ``None`` if none is left.

        ``dispatch_result`` is the need's :meth:`Dispatcher.rank
        <zhiyuan.matching.Dispatcher.rank>`; with ``None`` the book's dispatcher ranks it now.
        With a dispatcher, ranked candidates who no longer pass its gates are passed over. Raises
        :class:`~zhiyuan.errors.Conflict` if the state allows no offer or every place is already
        accepted or has an open offer.
        """
        with self.journal.transaction() as tx, self._dispatcher_lock():
            when = self._when(at)
            status = self._view(tx).get(_need_id(need_id))
            if status is None:
                raise NotFound("need", need_id)
            state = status.state
            if state not in OPEN_STATES:
                raise state_conflict(need_id, state, Offered)
            if status.vacancies == 0:
                raise Conflict(_text("need.no_vacancy", (need_id, status.need.headcount)))
            result = self._result(status.need, dispatch_result)
            d = self.dispatcher
            offered = set(status.offered)
            for r in result.ranked:
                cid = r.candidate_id
                if cid in offered:
                    continue
                if d is not None:
                    try:
                        cand = d.candidate(cid)
                    except NotFound:
                        continue
                    if d.gate(status.need, cand) is not None:
                        continue
                return self.offer(need_id, cid, at=when)
            return None

    def _result(self, need: Need, result: DispatchResult | None) -> DispatchResult:
        if result is None:
            if self.dispatcher is None:
                raise InvalidValue(
                    "dispatch_result",
                    None,
                    "没有派单器时须给出派单结果 / without a dispatcher, pass the dispatch result",
                )
            return self.dispatcher.rank(need)
        if not isinstance(result, DispatchResult) or result.need_id != need.id:
            shown = result.need_id if isinstance(result, DispatchResult) else type(result).__name__
            raise InvalidValue(
                "dispatch_result",
                shown,
                f"不是需求 {need.id} 的派单结果 / not the dispatch result of need {need.id}",
            )
        return result

    def accept(
        self,
        need_id: str,
        candidate_id: str,
        *,
        at: datetime | None = None,
        id: str | None = None,
    ) -> Accepted:
        """接单: the candidate accepts its open offer (before the deadline)."""
        entry = Accepted(
            id=self._own(id, need_id, "accept", candidate_id),
            at=self._when(at),
            need_id=need_id,
            candidate_id=candidate_id,
        )
        return self._add(entry)

    def decline(
        self,
        need_id: str,
        candidate_id: str,
        *,
        at: datetime | None = None,
        reason: str = "",
        id: str | None = None,
    ) -> Declined:
        """拒单: decline an open offer, or withdraw an acceptance before the service starts."""
        entry = Declined(
            id=self._own(id, need_id, "decline", candidate_id),
            at=self._when(at),
            need_id=need_id,
            candidate_id=candidate_id,
            reason=reason,
        )
        return self._add(entry)

    def take(
        self,
        need_id: str,
        candidate_id: str,
        *,
        at: datetime | None = None,
        kind: CandidateKind | None = None,
        id: str | None = None,
    ) -> Taken:
        """抢单: a volunteer or team takes a free place of an open need without an offer.

        Only where the policy allows it (:attr:`DispatchPolicy.allow_taking
        <zhiyuan.matching.DispatchPolicy.allow_taking>`; else
        :class:`~zhiyuan.errors.PermissionDenied` naming the policy). The place must be free:
        not accepted and not covered by an open offer (else :class:`~zhiyuan.errors.Conflict`),
        and the candidate must not have been offered the need or have taken it before. With a
        dispatcher, the candidate must pass its gates and is booked there, as on acceptance;
        ``kind`` defaults to the dispatcher's record of the candidate, else a volunteer.

        Example:
            >>> from datetime import datetime
            >>> from zhiyuan import SHANGHAI
            >>> from zhiyuan.matching import DispatchPolicy, Need
            >>> t = lambda h: datetime(2025, 5, 1, h, tzinfo=SHANGHAI)
            >>> need = Need(id="n1", requester="张大爷", region_code="370214001001",
            ...             category="帮老", start=t(9), end=t(11), posted_at=t(7))
            >>> book = NeedBook(policy=DispatchPolicy(name="chengyang", allow_taking=True))
            >>> _ = book.post(need)
            >>> book.take("n1", "城阳街道助老服务队", at=t(8), kind="team").kind.value
            'team'
            >>> print(book.status("n1"))
            n1: 已接单 / accepted (1/1)
            >>> NeedBook().take("n1", "v1", at=t(8))
            Traceback (most recent call last):
            ...
            zhiyuan.errors.PermissionDenied: 派单规则「default」不允许抢单 / the dispatch policy 'default' does not allow taking a need (抢单)
        """
        entry = Taken(
            id=self._own(id, need_id, "take", candidate_id),
            at=self._when(at),
            need_id=need_id,
            candidate_id=candidate_id,
            kind=self._kind_of(candidate_id, kind),
        )
        return self._add(entry)

    def call_up(
        self,
        need_ids: Iterable[str],
        *,
        at: datetime | None = None,
        accept: bool = False,
        backend: Backend = "auto",
    ) -> CallUpResult:
        """紧急召集: offer every free place of the open needs ``need_ids`` that can be filled,
        urgent needs first, each need's search up the ladder only as far as needed
        (:func:`~zhiyuan.matching.call_up`), and record the offers in one transaction; with
        ``accept`` (a binding call-up, 层层派单), the acceptances too.

        A need's free places are those neither accepted nor covered by an open offer (a need
        already filled has none, and is left as it is); the candidates who were offered a need
        or took it before are left out for it. Needs the book's dispatcher. Raises
        :class:`~zhiyuan.errors.NotFound` for a need not posted,
        :class:`~zhiyuan.errors.Conflict` for a need past acceptance (in service, done,
        cancelled or unfilled), :class:`~zhiyuan.errors.InvalidValue` for a need id twice;
        nothing is recorded then. Returns the call-up's result; its pairs are the offers recorded (ids as
        :meth:`offer` gives them).
        """
        if self.dispatcher is None:
            raise InvalidValue(
                "dispatcher", None, "紧急召集需要派单器 / a call-up needs the book's dispatcher"
            )
        ids = [_need_id(nid) for nid in items("need_ids", need_ids)]
        if len(set(ids)) != len(ids):
            twice = next(nid for nid in ids if ids.count(nid) > 1)
            raise InvalidValue("need_ids", twice, "需求编号重复 / a need id twice")
        if not isinstance(accept, bool):
            raise InvalidValue("accept", accept, "需要布尔值 / need true or false")
        with self.journal.transaction() as tx, self._dispatcher_lock():
            when = self._when(at)
            view = self._view(tx)
            statuses: list[NeedStatus] = []
            for nid in ids:
                status = view.get(nid)
                if status is None:
                    raise NotFound("need", nid)
                if status.state not in _CALLED:
                    raise state_conflict(nid, status.state, Offered)
                statuses.append(status)
            result = plan_call_up(
                self.dispatcher,
                [s.need for s in statuses],
                places={s.need_id: s.vacancies for s in statuses},
                exclude={s.need_id: {*s.offered, *s.takers} for s in statuses},
                backend=backend,
            )
            for p in result.pairs:
                self.offer(p.need_id, p.candidate_id, at=when)
                if accept:
                    self.accept(p.need_id, p.candidate_id, at=when)
            return result

    def expire_offers(
        self,
        as_of: datetime | None = None,
        results: Mapping[str, DispatchResult] | None = None,
        *,
        mark_unfilled: bool = False,
    ) -> list[NeedEntry]:
        """Record every offer past its deadline as :class:`Expired` (dated ``as_of``, default:
        the clock's now), then offer each such need to its next candidates, from ``results`` (by
        need id) or, failing that, the book's dispatcher. With ``mark_unfilled``, a need left
        with no open offer, unfilled places and nobody to offer is marked :class:`Unfilled`.

        Returns the new entries, recorded in one transaction. Raises before recording anything
        if ``as_of`` is before the last entry of a need with a lapsed offer.
        """
        if results is not None and not isinstance(results, Mapping):
            raise InvalidValue(
                "results",
                results,
                "需要映射：需求编号 → 派单结果 / need a mapping of need id to result",
            )
        if not isinstance(mark_unfilled, bool):
            raise InvalidValue("mark_unfilled", mark_unfilled, "需要布尔值 / need true or false")
        out: list[NeedEntry] = []
        with self.journal.transaction() as tx, self._dispatcher_lock():
            when = self._when(as_of, "as_of")
            view = self._view(tx)
            lapsed: list[tuple[NeedStatus, list[Offered]]] = []
            for status in view.needs():
                if status.state not in BEFORE_START_STATES:
                    continue
                due = [
                    o
                    for o in status.offers
                    if o.candidate_id in status.open
                    and o.expires_at is not None
                    and o.expires_at <= when
                ]
                if due:
                    if when < status.last_at:
                        raise InvalidValue(
                            "as_of",
                            when.isoformat(),
                            _text("need.backwards", (status.need_id, status.last_at.isoformat())),
                        )
                    lapsed.append((status, due))
            for status, _ in lapsed:
                if results is not None and status.need_id in results:
                    self._result(status.need, results[status.need_id])
            for status, due in lapsed:
                nid = status.need_id
                for o in due:
                    out.append(
                        self._add(
                            Expired(
                                id=self._default_id(nid, "expire", o.candidate_id),
                                at=when,
                                need_id=nid,
                                candidate_id=o.candidate_id,
                            )
                        )
                    )
                result = (results or {}).get(nid)
                if result is None and self.dispatcher is None:
                    continue
                while True:
                    now = self._view(tx).get(nid)
                    assert now is not None
                    if now.state not in OPEN_STATES or now.vacancies == 0:
                        break
                    nxt = self.offer_next(nid, result, when)
                    if nxt is None:
                        if mark_unfilled and not now.open:
                            out.append(self.mark_unfilled(nid, at=when))
                        break
                    out.append(nxt)
        return out

    def start(self, need_id: str, *, at: datetime | None = None, id: str | None = None) -> Started:
        """服务开始: the filled need goes into service."""
        return self._add(
            Started(id=self._own(id, need_id, "start"), at=self._when(at), need_id=need_id)
        )

    def complete(
        self,
        need_id: str,
        *,
        at: datetime | None = None,
        evidence: Evidence,
        organization_id: str,
        start: datetime | None = None,
        end: datetime | None = None,
        id: str | None = None,
        members: Mapping[str, Iterable[str]] | None = None,
    ) -> Completed:
        """服务完成: record the service and emit one :class:`~zhiyuan.hours.ServiceRecord` per
        volunteer who served.

        ``start``/``end`` are the times served (default: when the service was started, and
        ``at``). Each record: id ``need:<need id>:<volunteer id>``, the need as the activity, the
        need's region and category, its window as the schedule, ``organization_id`` as the
        organizer, ``evidence`` as given (e.g. ``SUPERVISOR`` or ``QR_SCAN``), recorded at ``at``.

        A candidate that took the need (:meth:`take`) is completed like one that accepted an
        offer. A team that served names the members who came in ``members`` (team id → volunteer
        ids): each gets a record ``need:<need id>:<team id>:<volunteer id>`` with the team as
        ``team_id``. A team left out of ``members`` gets no records; naming a candidate that is
        not an accepted team is :class:`~zhiyuan.errors.InvalidValue`.
        """
        evidence = to_enum("evidence", Evidence, evidence)
        crews = _members(members)
        with self.journal.transaction() as tx:
            when = self._when(at)
            status = self._view(tx).get(_need_id(need_id))
            if status is None:
                raise NotFound("need", need_id)
            if status.started_at is None:
                raise state_conflict(need_id, status.state, Completed)
            s = self._when(start, "start") if start is not None else status.started_at
            e = self._when(end, "end") if end is not None else when
            need = status.need
            for team in crews:
                if team not in status.accepted or status.kind_of(team) is not CandidateKind.TEAM:
                    raise InvalidValue(
                        "members", team, "不是已接单的团队 / not a team that accepted the need"
                    )

            def served(rid: str, vid: str, team: str | None = None) -> ServiceRecord:
                return ServiceRecord(
                    id=rid,
                    volunteer_id=vid,
                    activity_id=need_id,
                    organization_id=organization_id,
                    region_code=need.region_code,
                    category=need.category,
                    team_id=team,
                    start=s,
                    end=e,
                    evidence=evidence,
                    scheduled_start=need.start,
                    scheduled_end=need.end,
                    recorded_at=when,
                )

            records = tuple(
                served(f"need:{need_id}:{cid}", cid)
                for cid in status.accepted
                if status.kind_of(cid) is CandidateKind.VOLUNTEER
            ) + tuple(
                served(f"need:{need_id}:{team}:{vid}", vid, team)
                for team, crew in crews.items()
                for vid in crew
            )
            entry = Completed(
                id=self._own(id, need_id, "complete"),
                at=when,
                need_id=need_id,
                served=status.accepted,
                start=s,
                end=e,
                evidence=evidence,
                organization_id=organization_id,
                records=records,
            )
            return self._add(entry)

    def _same_journal(self, field: str, book: Book[Any, Any], kind: type) -> None:
        if not isinstance(book, kind):
            raise InvalidValue(field, book, f"需要 {kind.__name__} / need a {kind.__name__}")
        if book.journal is not self.journal:
            raise InvalidValue(
                field,
                book.name,
                "须与需求台账在同一日志上 / must be on the need book's journal",
            )

    def rate(
        self,
        need_id: str,
        stars: int,
        *,
        at: datetime | None = None,
        by: str | None = None,
        comment: str = "",
        feedback: FeedbackBook | None = None,
        id: str | None = None,
    ) -> Rated:
        """评单: rate the completed service, 1–5 stars (``by`` defaults to the requester).

        With ``feedback`` (on the same journal), one :class:`~zhiyuan.scoring.Rating` per
        service record is recorded there (see :meth:`ratings`) in the same transaction; adding
        them again is a no-op.
        """
        if feedback is not None:
            self._same_journal("feedback", feedback, FeedbackBook)
        with self.journal.transaction() as tx:
            when = self._when(at)
            status = self._view(tx).get(_need_id(need_id))
            if status is None:
                raise NotFound("need", need_id)
            entry = Rated(
                id=self._own(id, need_id, "rate"),
                at=when,
                need_id=need_id,
                stars=stars,
                by=status.need.requester if by is None else by,
                comment=comment,
            )
            if self.journal.find(self.name, entry.id) == entry:
                return entry
            added = self._add(entry)
            if feedback is not None:
                assert status.completed is not None
                feedback._stage_ratings(tx, _ratings(status.completed, entry))
            return added

    def reward(
        self,
        need_id: str,
        candidate_id: str,
        points: int,
        *,
        at: datetime | None = None,
        ledger: PointsLedger,
        issuer: str,
        posting_id: str | None = None,
        expires_at: datetime | None = None,
        id: str | None = None,
    ) -> Rewarded:
        """奖单: earn ``points`` for a candidate who served, in ``ledger`` (on the same journal;
        via :meth:`PointsLedger.earn <zhiyuan.credit.PointsLedger.earn>`, ``ref`` = the need),
        recorded with the :class:`Rewarded` entry in one transaction."""
        self._same_journal("ledger", ledger, PointsLedger)
        with self.journal.transaction():
            when = self._when(at)
            entry = Rewarded(
                id=self._own(id, need_id, "reward", candidate_id),
                at=when,
                need_id=need_id,
                candidate_id=candidate_id,
                points=points,
                posting_id=(
                    self._default_id(need_id, "reward", candidate_id)
                    if posting_id is None
                    else own_id(posting_id, "posting_id")
                ),
                issuer=issuer,
            )
            if self.journal.find(self.name, entry.id) == entry:
                return entry
            added = self._add(entry)
            ledger._earn(
                entry.posting_id,
                candidate_id,
                points,
                at=when,
                issuer=issuer,
                expires_at=expires_at,
                ref=need_id,
            )
            return added

    def cancel(
        self,
        need_id: str,
        *,
        at: datetime | None = None,
        by: str,
        reason: str = "",
        id: str | None = None,
    ) -> NeedCancelled:
        """取消: withdraw the need before the service starts (bookings are released)."""
        entry = NeedCancelled(
            id=self._own(id, need_id, "cancel"),
            at=self._when(at),
            need_id=need_id,
            by=by,
            reason=reason,
        )
        return self._add(entry)

    def mark_unfilled(
        self, need_id: str, *, at: datetime | None = None, reason: str = "", id: str | None = None
    ) -> Unfilled:
        """无人接单: nobody is left to offer the need to (partial acceptances are released)."""
        entry = Unfilled(
            id=self._own(id, need_id, "unfilled"),
            at=self._when(at),
            need_id=need_id,
            reason=reason,
        )
        return self._add(entry)

    def _add(self, entry: _E) -> _E:
        return cast(_E, self.add(cast(NeedEntry, entry)))

    def _get(self, need_id: str) -> NeedStatus:
        status = self._state.status.get(_need_id(need_id))
        if status is None:
            raise NotFound("need", need_id)
        return status

    # --- reading ------------------------------------------------------------------------------

    def entries_of(self, need_id: str) -> tuple[NeedEntry, ...]:
        """One need's entries, in the order recorded."""
        with self._lock:
            return tuple(self._state.by_need.get(_need_id(need_id), ()))

    def __len__(self) -> int:
        with self._lock:
            return sum(len(v) for v in self._state.by_need.values())

    def __iter__(self) -> Iterator[NeedEntry]:
        return iter(self.entries)

    def needs(self) -> tuple[str, ...]:
        """The ids of every posted need, in the order posted."""
        with self._lock:
            return tuple(self._state.status)

    def status(self, need_id: str, *, as_of: datetime | None = None) -> NeedStatus:
        """A need's status now, or folded from its entries up to ``as_of``.

        Raises :class:`~zhiyuan.errors.NotFound` for a need not posted (by ``as_of``).
        """
        if as_of is None:
            with self._lock:
                return self._get(need_id)
        folded = fold(self.entries_of(need_id), as_of=as_of)
        if need_id not in folded:
            raise NotFound("need", need_id)
        return folded[need_id]

    def state(self, need_id: str, *, as_of: datetime | None = None) -> NeedState:
        """A need's :class:`NeedState` now, or as of a moment (a fold of its entries)."""
        return self.status(need_id, as_of=as_of).state

    def ratings(self, need_id: str) -> tuple[Rating, ...]:
        """The feedback ratings of a rated need: one per service record (id
        ``<rated id>#<volunteer>``)."""
        status = self.status(need_id)
        if status.completed is None or status.rated is None:
            return ()
        return _ratings(status.completed, status.rated)


def _ratings(completed: Completed, rated: Rated) -> tuple[Rating, ...]:
    return tuple(
        Rating(
            id=derive(rated.id, r.volunteer_id),
            record_id=r.id,
            volunteer_id=r.volunteer_id,
            team_id=r.team_id,
            stars=rated.stars,
            at=rated.at,
            comment=rated.comment,
        )
        for r in completed.records
    )
