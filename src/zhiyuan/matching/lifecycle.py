"""The need lifecycle (网约 闭环): 点单 → 派单 → 接单 → 服务 → 评单 → 奖单, as entries and a fold.

Everything that happens to a need is an immutable entry with an id and an aware ``at``:
:class:`Posted` (点单), :class:`Offered` (派单 to one candidate, with a deadline from the
policy's ``offer_timeout_minutes``), :class:`Accepted` (接单), :class:`Taken` (抢单: a volunteer or
team takes an open need without an offer, where the city's policy allows it), :class:`Declined` (拒单, or a
withdrawal after accepting), :class:`Expired` (the offer timed out), :class:`Started` (服务中),
:class:`Completed` (已完成: it carries the :class:`~zhiyuan.hours.ServiceRecord` of each volunteer
who served, for the hour ledger), :class:`Rated` (评单, 1–5 stars), :class:`Rewarded` (奖单:
points earned in a :class:`~zhiyuan.credit.ledger.PointsLedger`), :class:`NeedCancelled` and
:class:`Unfilled` (nobody left after escalation).

A need's :class:`NeedState` is a fold of its entries (:func:`advance`, :func:`fold`)::

    posted ──offer──▶ offered ──accept (headcount reached)──▶ accepted ──start──▶ in_service
       ▲                 │  decline / expire: back to posted (or offered, if other offers stay open)
       └─────────────────┘
    posted / offered ──take (a place with no open offer; headcount reached)──▶ accepted
    in_service ──complete──▶ completed ──rate──▶ rated;  every server rewarded ──▶ rewarded
    posted / offered / accepted ──cancel──▶ cancelled;  posted / offered ──mark_unfilled──▶ unfilled

A need with ``headcount`` > 1 is filled when that many candidates have accepted; until then it
stays ``posted``/``offered`` and takes more acceptances. An accepted candidate may still withdraw
(a :class:`Declined` after accepting) until the service starts; the need then takes the next one
(重新派单). A candidate is offered a need once.

Taking (抢单) fills a place like an acceptance, without an offer: the place must be free (not
accepted, and not covered by an open offer, so an offer already made is never overtaken), and
the candidate must not have been offered the need or have taken it before (a candidate who
declined or withdrew does not come back through the hall), and a candidate who took a need is
not offered it. A taker then holds its place as an
accepted candidate: it may withdraw before the start, serves, and is completed, rated and
rewarded like any other; a team that took a need names its members at completion. Whether a
city lets anyone take a need is policy (:attr:`DispatchPolicy.allow_taking
<zhiyuan.matching.DispatchPolicy.allow_taking>`), checked by the book; the fold only keeps the
rules of the places. Reward may follow completion with or without a
rating (a resident who never rates must not cost the volunteer the points); the state is
``rewarded`` once every candidate who served has been rewarded.

An offer's deadline is data: an offer past ``expires_at`` can no longer be accepted or declined,
and stays open in the fold until :meth:`NeedBook.expire_offers
<zhiyuan.matching.NeedBook.expire_offers>` records the :class:`Expired` entry (and offers the next
candidate). No national timeout exists (POLICIES.md §4.2), so the policy's
``offer_timeout_minutes`` defaults to ``None``: offers never lapse.

Invalid changes (accepting before an offer, completing before the service started, rating twice,
anything after a cancellation) raise :class:`~zhiyuan.errors.Conflict` naming the state, and bad
values raise :class:`~zhiyuan.errors.InvalidValue`. This module is the pure part: values and the
fold, no journal. The book that records the entries, keeps a
:class:`~zhiyuan.matching.Dispatcher`'s bookings in step and emits service records, ratings and
points is :class:`~zhiyuan.matching.NeedBook` (:mod:`zhiyuan.matching.needbook`).

References:
    城阳 网约 "滴滴" model (百姓点单 → 志愿者接单 → 中心派单 → 群众评单 → 积分奖单: volunteers
    take orders from a public hall, the centre dispatches the rest); 长江云 organizations 抢单; 志多星 states
    审核中 → 服务中 → 已完成, re-dispatch and cancel; 杭州上城 5-star rating (POLICIES.md §4.1–4.2).

Example:
    >>> from datetime import datetime
    >>> from zhiyuan import SHANGHAI
    >>> from zhiyuan.matching import Need
    >>> t = lambda h: datetime(2025, 5, 1, h, tzinfo=SHANGHAI)
    >>> need = Need(id="n1", requester="张大爷", region_code="370214001001", category="帮老",
    ...             start=t(9), end=t(11), posted_at=t(7))
    >>> status = fold([
    ...     Posted(id="p1", at=t(7), need=need),
    ...     Offered(id="o1", at=t(7), need_id="n1", candidate_id="v1"),
    ...     Accepted(id="a1", at=t(8), need_id="n1", candidate_id="v1"),
    ... ])["n1"]
    >>> print(status)
    n1: 已接单 / accepted (1/1)
    >>> print(advance(status, Started(id="s1", at=t(9), need_id="n1")))
    n1: 服务中 / in_service (1/1)
    >>> advance(status, Rated(id="r1", at=t(12), need_id="n1", stars=5, by="张大爷"))
    Traceback (most recent call last):
    ...
    zhiyuan.errors.Conflict: 需求 n1 当前为「已接单」，不能评单 / need n1 is accepted: cannot rate
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import attrs

from zhiyuan._validators import (
    aware,
    bounded,
    is_a,
    items,
    items_of,
    moment,
    non_empty,
    positive,
    text,
    to_enum,
    to_shanghai,
)
from zhiyuan.convert import register_tagged_union
from zhiyuan.errors import Conflict, InvalidValue, NotFound
from zhiyuan.explain import finding, register_messages
from zhiyuan.hours.records import Evidence, ServiceRecord
from zhiyuan.matching._checks import any_text
from zhiyuan.matching.needs import CandidateKind, Need
from zhiyuan.scoring.feedback import MAX_STARS, MIN_STARS

__all__ = [
    "BEFORE_START_STATES",
    "ENTRY_TYPES",
    "OPEN_STATES",
    "Accepted",
    "Completed",
    "Declined",
    "Expired",
    "NeedCancelled",
    "NeedEntry",
    "NeedState",
    "NeedStatus",
    "Offered",
    "Posted",
    "Rated",
    "Rewarded",
    "Started",
    "Taken",
    "Unfilled",
    "advance",
    "fold",
    "state_conflict",
]

register_messages(
    {
        ("need.state", ""): (
            ("need", "state_zh", "state", "action_zh", "action"),
            "需求 {need} 当前为「{state_zh}」，不能{action_zh}",
            "need {need} is {state}: cannot {action}",
        ),
        ("need.offered_before", ""): (
            ("need", "candidate"),
            "需求 {need} 已派给过 {candidate}，同一候选只派一次",
            "need {need} was already offered to {candidate}; a candidate is offered a need once",
        ),
        ("need.no_offer", ""): (
            ("need", "candidate"),
            "{candidate} 没有需求 {need} 的待答派单",
            "{candidate} holds no open offer of need {need}",
        ),
        ("need.lapsed", ""): (
            ("need", "candidate", "expires"),
            "{candidate} 的需求 {need} 派单已于 {expires} 超时",
            "the offer of need {need} to {candidate} lapsed at {expires}",
        ),
        ("need.not_lapsed", ""): (
            ("need", "candidate", "expires"),
            "{candidate} 的需求 {need} 派单未超时（期限 {expires}）",
            "the offer of need {need} to {candidate} has not lapsed (deadline {expires})",
        ),
        ("need.not_served", ""): (
            ("need", "candidate"),
            "{candidate} 未参与需求 {need} 的服务",
            "{candidate} did not serve need {need}",
        ),
        ("need.rewarded", ""): (
            ("need", "candidate"),
            "需求 {need} 已奖励 {candidate}",
            "{candidate} was already rewarded for need {need}",
        ),
        ("need.rated", ""): (("need",), "需求 {need} 已评价", "need {need} is already rated"),
        ("need.backwards", ""): (
            ("need", "last"),
            "早于需求 {need} 的上一条记录（{last}）",
            "before the last entry of need {need} ({last})",
        ),
        ("need.asked_before", ""): (
            ("need", "candidate"),
            "{candidate} 已被派过或接过需求 {need}，不能抢单",
            "{candidate} was offered or took need {need} before: it cannot take it",
        ),
        ("need.took_before", ""): (
            ("need", "candidate"),
            "{candidate} 抢过需求 {need}，不再向其派单",
            "{candidate} took need {need}: it is not offered it",
        ),
        ("need.no_vacancy", ""): (
            ("need", "headcount"),
            "需求 {need} 的 {headcount} 个名额都已有人接单或待答派单",
            "every one of the {headcount} places of need {need} is accepted or has an open offer",
        ),
        ("need.served", ""): (
            ("need",),
            "服务人员须与需求 {need} 当前接单人一致",
            "the servers must be the candidates who accepted need {need}",
        ),
    }
)


def _text(rule: str, values: tuple[int | str, ...]) -> str:
    f = finding(rule, values)
    return f"{f.zh} / {f.en}"


class NeedState(enum.Enum):
    """Where a need stands (需求状态)."""

    POSTED = "posted"
    """待派单: posted, no open offer, not yet filled (also after a decline or timeout)."""
    OFFERED = "offered"
    """已派单: at least one offer is waiting for an answer."""
    ACCEPTED = "accepted"
    """已接单: as many candidates as the headcount have accepted."""
    IN_SERVICE = "in_service"
    """服务中."""
    COMPLETED = "completed"
    """已完成."""
    RATED = "rated"
    """已评价 (评单)."""
    REWARDED = "rewarded"
    """已奖励 (奖单): every candidate who served has been rewarded."""
    CANCELLED = "cancelled"
    """已取消."""
    UNFILLED = "unfilled"
    """无人接单: no candidate left after escalation."""

    @property
    def zh(self) -> str:
        """The Chinese name of the state."""
        return _STATE_ZH[self]


_STATE_ZH = {
    NeedState.POSTED: "待派单",
    NeedState.OFFERED: "已派单",
    NeedState.ACCEPTED: "已接单",
    NeedState.IN_SERVICE: "服务中",
    NeedState.COMPLETED: "已完成",
    NeedState.RATED: "已评价",
    NeedState.REWARDED: "已奖励",
    NeedState.CANCELLED: "已取消",
    NeedState.UNFILLED: "无人接单",
}

OPEN_STATES = frozenset({NeedState.POSTED, NeedState.OFFERED})
"""The states that take offers and acceptances: 待派单 and 已派单."""
BEFORE_START_STATES = frozenset({NeedState.POSTED, NeedState.OFFERED, NeedState.ACCEPTED})
"""The states before the service starts: a need can still be declined or cancelled."""
_DONE = frozenset({NeedState.COMPLETED, NeedState.RATED, NeedState.REWARDED})

# --- entries -----------------------------------------------------------------------------------


def _evidence(value: object) -> Evidence:
    return to_enum("evidence", Evidence, value)


_STARS = bounded(MIN_STARS, MAX_STARS, "stars")


def _kind(value: object) -> CandidateKind:
    return to_enum("kind", CandidateKind, value)


def _ids(value: Iterable[str]) -> tuple[str, ...]:
    """Candidate ids: one alone, or a sequence of non-empty texts."""
    out = (value,) if isinstance(value, str) else items_of("served", str, value)
    for v in out:
        if not v.strip():
            raise InvalidValue("served", v, "不能为空 / must not be empty")
        text("served", v)
    return out


def _records(value: Iterable[ServiceRecord]) -> tuple[ServiceRecord, ...]:
    return items_of("records", ServiceRecord, value)


@attrs.frozen(kw_only=True)
class Posted:
    """点单: a need is posted (``at`` defaults to the need's ``posted_at`` in :meth:`NeedBook.post <zhiyuan.matching.NeedBook.post>`)."""

    id: str = attrs.field(validator=non_empty)
    at: datetime = attrs.field(converter=to_shanghai, validator=aware)
    need: Need = attrs.field(validator=is_a(Need))

    @property
    def need_id(self) -> str:
        """The posted need's id."""
        return self.need.id


@attrs.frozen(kw_only=True)
class Offered:
    """派单: the need is offered to one candidate, to answer before ``expires_at`` (if any)."""

    id: str = attrs.field(validator=non_empty)
    at: datetime = attrs.field(converter=to_shanghai, validator=aware)
    need_id: str = attrs.field(validator=non_empty)
    candidate_id: str = attrs.field(validator=non_empty)
    kind: CandidateKind = attrs.field(default=CandidateKind.VOLUNTEER, converter=_kind)
    expires_at: datetime | None = attrs.field(
        default=None, converter=attrs.converters.optional(to_shanghai), validator=aware
    )

    def __attrs_post_init__(self) -> None:
        if self.expires_at is not None and self.expires_at <= self.at:
            raise InvalidValue(
                "expires_at",
                self.expires_at.isoformat(),
                "派单期限须晚于派单时间 / an offer's deadline must be after the offer",
            )


@attrs.frozen(kw_only=True)
class Accepted:
    """接单: a candidate accepts its open offer."""

    id: str = attrs.field(validator=non_empty)
    at: datetime = attrs.field(converter=to_shanghai, validator=aware)
    need_id: str = attrs.field(validator=non_empty)
    candidate_id: str = attrs.field(validator=non_empty)


@attrs.frozen(kw_only=True)
class Taken:
    """抢单: a volunteer or a team (``kind``) takes a free place of an open need without an offer
    (where the city's :class:`~zhiyuan.matching.DispatchPolicy` allows it).

    Example:
        >>> from datetime import datetime
        >>> from zhiyuan import SHANGHAI
        >>> Taken(id="t1", at=datetime(2025, 5, 1, 8, tzinfo=SHANGHAI), need_id="n1",
        ...       candidate_id="城阳街道助老服务队", kind="team").kind
        <CandidateKind.TEAM: 'team'>
    """

    id: str = attrs.field(validator=non_empty)
    at: datetime = attrs.field(converter=to_shanghai, validator=aware)
    need_id: str = attrs.field(validator=non_empty)
    candidate_id: str = attrs.field(validator=non_empty)
    kind: CandidateKind = attrs.field(default=CandidateKind.VOLUNTEER, converter=_kind)


@attrs.frozen(kw_only=True)
class Declined:
    """拒单: a candidate declines its open offer, or withdraws after accepting (before the start)."""

    id: str = attrs.field(validator=non_empty)
    at: datetime = attrs.field(converter=to_shanghai, validator=aware)
    need_id: str = attrs.field(validator=non_empty)
    candidate_id: str = attrs.field(validator=non_empty)
    reason: str = attrs.field(default="", validator=any_text)


@attrs.frozen(kw_only=True)
class Expired:
    """超时: an offer was not answered by its deadline (the next candidate can be offered)."""

    id: str = attrs.field(validator=non_empty)
    at: datetime = attrs.field(converter=to_shanghai, validator=aware)
    need_id: str = attrs.field(validator=non_empty)
    candidate_id: str = attrs.field(validator=non_empty)


@attrs.frozen(kw_only=True)
class Started:
    """服务开始: the accepted candidates are serving."""

    id: str = attrs.field(validator=non_empty)
    at: datetime = attrs.field(converter=to_shanghai, validator=aware)
    need_id: str = attrs.field(validator=non_empty)


@attrs.frozen(kw_only=True)
class Completed:
    """服务完成: who served (``served``), from ``start`` to ``end``, on what evidence.

    ``records`` are the service records emitted for the hour ledger, one per volunteer who served
    (teams get none: their members' hours are recorded by the team); post them with
    :meth:`HourLedger.post <zhiyuan.hours.HourLedger.post>`.
    """

    id: str = attrs.field(validator=non_empty)
    at: datetime = attrs.field(converter=to_shanghai, validator=aware)
    need_id: str = attrs.field(validator=non_empty)
    served: tuple[str, ...] = attrs.field(converter=_ids)
    start: datetime = attrs.field(converter=to_shanghai, validator=aware)
    end: datetime = attrs.field(converter=to_shanghai, validator=aware)
    evidence: Evidence = attrs.field(converter=_evidence)
    organization_id: str = attrs.field(validator=non_empty)
    records: tuple[ServiceRecord, ...] = attrs.field(default=(), converter=_records)

    def __attrs_post_init__(self) -> None:
        if self.end <= self.start:
            raise InvalidValue(
                "end", self.end.isoformat(), "结束须晚于开始 / end must be after start"
            )
        if self.end > self.at:
            raise InvalidValue(
                "end",
                self.end.isoformat(),
                f"服务结束不能晚于完成登记 {self.at.isoformat()} / the service cannot end after "
                "it is marked complete",
            )


@attrs.frozen(kw_only=True)
class Rated:
    """评单: the person served rates the service, 1 to 5 stars."""

    id: str = attrs.field(validator=non_empty)
    at: datetime = attrs.field(converter=to_shanghai, validator=aware)
    need_id: str = attrs.field(validator=non_empty)
    stars: int = attrs.field(validator=_STARS)
    by: str = attrs.field(validator=non_empty)
    comment: str = attrs.field(default="", validator=any_text)


@attrs.frozen(kw_only=True)
class Rewarded:
    """奖单: points earned by one candidate who served, posted as ``posting_id`` by ``issuer``."""

    id: str = attrs.field(validator=non_empty)
    at: datetime = attrs.field(converter=to_shanghai, validator=aware)
    need_id: str = attrs.field(validator=non_empty)
    candidate_id: str = attrs.field(validator=non_empty)
    points: int = attrs.field(validator=positive)
    posting_id: str = attrs.field(validator=non_empty)
    issuer: str = attrs.field(validator=non_empty)


@attrs.frozen(kw_only=True)
class NeedCancelled:
    """取消: the need is withdrawn (by the requester or an administrator) before the service."""

    id: str = attrs.field(validator=non_empty)
    at: datetime = attrs.field(converter=to_shanghai, validator=aware)
    need_id: str = attrs.field(validator=non_empty)
    by: str = attrs.field(validator=non_empty)
    reason: str = attrs.field(default="", validator=any_text)


@attrs.frozen(kw_only=True)
class Unfilled:
    """无人接单: no candidate is left after escalation; the need goes to manual handling."""

    id: str = attrs.field(validator=non_empty)
    at: datetime = attrs.field(converter=to_shanghai, validator=aware)
    need_id: str = attrs.field(validator=non_empty)
    reason: str = attrs.field(default="", validator=any_text)


NeedEntry = (
    Posted
    | Offered
    | Accepted
    | Taken
    | Declined
    | Expired
    | Started
    | Completed
    | Rated
    | Rewarded
    | NeedCancelled
    | Unfilled
)
"""Any entry of the need lifecycle."""

ENTRY_TYPES = (
    Posted,
    Offered,
    Accepted,
    Taken,
    Declined,
    Expired,
    Started,
    Completed,
    Rated,
    Rewarded,
    NeedCancelled,
    Unfilled,
)
"""The classes of :data:`NeedEntry`, for ``isinstance``."""

register_tagged_union(
    NeedEntry,
    {
        Posted: "needs.posted",
        Offered: "needs.offered",
        Accepted: "needs.accepted",
        Taken: "needs.taken",
        Declined: "needs.declined",
        Expired: "needs.expired",
        Started: "needs.started",
        Completed: "needs.completed",
        Rated: "needs.rated",
        Rewarded: "needs.rewarded",
        NeedCancelled: "needs.cancelled",
        Unfilled: "needs.unfilled",
    },
)

# --- the fold ----------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class NeedStatus:
    """One need folded from its entries: offers, acceptances, service, rating and rewards.

    ``open`` lists the candidates whose offer awaits an answer, ``accepted`` those holding a
    place now (in order, takers among them), ``taken`` every :class:`Taken` entry (抢单),
    ``withdrawn`` those who declined after accepting or taking.
    """

    need: Need
    posted_at: datetime
    last_at: datetime
    offers: tuple[Offered, ...] = ()
    taken: tuple[Taken, ...] = ()
    open: tuple[str, ...] = ()
    accepted: tuple[str, ...] = ()
    declined: tuple[str, ...] = ()
    withdrawn: tuple[str, ...] = ()
    expired: tuple[str, ...] = ()
    first_accepted_at: datetime | None = None
    filled_at: datetime | None = None
    started_at: datetime | None = None
    completed: Completed | None = None
    rated: Rated | None = None
    rewarded: tuple[Rewarded, ...] = ()
    cancelled: NeedCancelled | None = None
    unfilled: Unfilled | None = None

    def __attrs_post_init__(self) -> None:
        # one fast test for the usual case (a step of advance(), many in a fold); the check
        # field by field names the bad field, and turns other collections into tuples
        ids = (self.open, self.accepted, self.declined, self.withdrawn, self.expired)
        if not (
            type(self.need) is Need
            and {type(t) for t in ids} == {tuple}
            and {type(x) for t in ids for x in t} <= {str}
            and type(self.offers) is tuple
            and {type(o) for o in self.offers} <= {Offered}
            and type(self.taken) is tuple
            and {type(t) for t in self.taken} <= {Taken}
            and type(self.rewarded) is tuple
            and {type(r) for r in self.rewarded} <= {Rewarded}
            and (self.completed is None or type(self.completed) is Completed)
            and (self.rated is None or type(self.rated) is Rated)
            and (self.cancelled is None or type(self.cancelled) is NeedCancelled)
            and (self.unfilled is None or type(self.unfilled) is Unfilled)
        ):
            _check_status(self)
        for a in _STATUS_MOMENTS:
            aware(self, a, getattr(self, a.name))

    @property
    def need_id(self) -> str:
        """The need's id."""
        return self.need.id

    @property
    def filled(self) -> bool:
        """True if as many candidates as the headcount hold a place."""
        return len(self.accepted) >= self.need.headcount

    @property
    def offered(self) -> tuple[str, ...]:
        """Every candidate offered the need so far, in order."""
        return tuple(o.candidate_id for o in self.offers)

    @property
    def takers(self) -> tuple[str, ...]:
        """Every candidate that took the need (抢单) so far, in order."""
        return tuple(t.candidate_id for t in self.taken)

    def kind_of(self, candidate_id: str) -> CandidateKind | None:
        """Whether a candidate offered the need or taking it is a volunteer or a team (``None``:
        neither offered it nor took it)."""
        for t in self.taken:
            if t.candidate_id == candidate_id:
                return t.kind
        offer = self.offer_to(candidate_id)
        return None if offer is None else offer.kind

    @property
    def vacancies(self) -> int:
        """Places neither accepted nor covered by an open offer."""
        return max(self.need.headcount - len(self.accepted) - len(self.open), 0)

    @property
    def served(self) -> tuple[str, ...]:
        """Who served (empty until completed)."""
        return () if self.completed is None else self.completed.served

    def offer_to(self, candidate_id: str) -> Offered | None:
        """The offer made to a candidate, if any."""
        for o in self.offers:
            if o.candidate_id == candidate_id:
                return o
        return None

    @property
    def state(self) -> NeedState:
        """The need's state (see :class:`NeedState`)."""
        if self.cancelled is not None:
            return NeedState.CANCELLED
        if self.unfilled is not None:
            return NeedState.UNFILLED
        if self.completed is not None:
            served = set(self.completed.served)
            if served and served <= {r.candidate_id for r in self.rewarded}:
                return NeedState.REWARDED
            return NeedState.RATED if self.rated is not None else NeedState.COMPLETED
        if self.started_at is not None:
            return NeedState.IN_SERVICE
        if self.filled:
            return NeedState.ACCEPTED
        return NeedState.OFFERED if self.open else NeedState.POSTED

    def __str__(self) -> str:
        s = self.state
        return f"{self.need_id}: {s.zh} / {s.value} ({len(self.accepted)}/{self.need.headcount})"


_STATUS_MOMENTS = tuple(
    a
    for a in attrs.fields(NeedStatus)
    if a.name in ("posted_at", "last_at", "first_accepted_at", "filled_at", "started_at")
)
_STATUS_TUPLES: tuple[tuple[str, type], ...] = (
    ("offers", Offered),
    ("taken", Taken),
    ("open", str),
    ("accepted", str),
    ("declined", str),
    ("withdrawn", str),
    ("expired", str),
    ("rewarded", Rewarded),
)
_STATUS_ENTRIES: tuple[tuple[str, type], ...] = (
    ("completed", Completed),
    ("rated", Rated),
    ("cancelled", NeedCancelled),
    ("unfilled", Unfilled),
)


def _check_status(status: NeedStatus) -> None:
    """A :class:`NeedStatus` checked field by field (the slow path of its fast test)."""
    fields = attrs.fields_dict(NeedStatus)
    is_a(Need)(status, fields["need"], status.need)
    for name, kind in _STATUS_TUPLES:
        object.__setattr__(status, name, items_of(name, kind, getattr(status, name)))
    for name, kind in _STATUS_ENTRIES:
        is_a(kind)(status, fields[name], getattr(status, name))


_ACTIONS: dict[type[Any], tuple[str, str]] = {
    Posted: ("点单", "post"),
    Offered: ("派单", "offer"),
    Accepted: ("接单", "accept"),
    Taken: ("抢单", "take"),
    Declined: ("拒单", "decline"),
    Expired: ("记超时", "expire an offer"),
    Started: ("开始服务", "start"),
    Completed: ("完成", "complete"),
    Rated: ("评单", "rate"),
    Rewarded: ("奖单", "reward"),
    NeedCancelled: ("取消", "cancel"),
    Unfilled: ("标记无人接单", "mark unfilled"),
}


def state_conflict(need_id: str, state: NeedState, entry_type: type[Any]) -> Conflict:
    """The :class:`~zhiyuan.errors.Conflict` of an entry of ``entry_type`` that a need in
    ``state`` does not allow (it names the state and the action)."""
    zh, en = _ACTIONS[entry_type]
    return Conflict(_text("need.state", (need_id, state.zh, state.value, zh, en)))


def _require(status: NeedStatus, allowed: frozenset[NeedState], entry: NeedEntry) -> None:
    state = status.state
    if state not in allowed:
        raise state_conflict(status.need_id, state, type(entry))


def _open_offer(status: NeedStatus, entry: Accepted | Declined | Expired) -> Offered:
    cid = entry.candidate_id
    offer = status.offer_to(cid)
    if offer is None or cid not in status.open:
        raise Conflict(_text("need.no_offer", (status.need_id, cid)))
    return offer


def _check_answer_in_time(status: NeedStatus, offer: Offered, at: datetime) -> None:
    if offer.expires_at is not None and at >= offer.expires_at:
        raise Conflict(
            _text("need.lapsed", (status.need_id, offer.candidate_id, offer.expires_at.isoformat()))
        )


def _without(ids: tuple[str, ...], cid: str) -> tuple[str, ...]:
    return tuple(i for i in ids if i != cid)


def advance(status: NeedStatus | None, entry: NeedEntry) -> NeedStatus:
    """The need's status after one more entry (a pure step; raises if the entry is not allowed).

    ``status`` is ``None`` before the need is posted. Raises :class:`~zhiyuan.errors.Conflict`
    for a change the state does not allow, :class:`~zhiyuan.errors.InvalidValue` for an entry
    dated before the need's last one, :class:`~zhiyuan.errors.NotFound` for an unposted need.
    """
    if not isinstance(entry, ENTRY_TYPES):
        raise InvalidValue("entry", type(entry).__name__, "不是需求条目 / not a need entry")
    if status is not None and not isinstance(status, NeedStatus):
        raise InvalidValue("status", status, "需要 NeedStatus 或 None / need a NeedStatus or None")
    if isinstance(entry, Posted):
        if status is not None:
            raise state_conflict(entry.need_id, status.state, Posted)
        return NeedStatus(need=entry.need, posted_at=entry.at, last_at=entry.at)
    if status is None:
        raise NotFound("need", entry.need_id)
    nid = status.need_id
    if entry.need_id != nid:
        raise InvalidValue(
            "need_id", entry.need_id, f"不是需求 {nid} 的条目 / not an entry of {nid}"
        )
    if entry.at < status.last_at:
        raise InvalidValue(
            "at", entry.at.isoformat(), _text("need.backwards", (nid, status.last_at.isoformat()))
        )
    at = entry.at
    if isinstance(entry, Offered):
        _require(status, OPEN_STATES, entry)
        if status.offer_to(entry.candidate_id) is not None:
            raise Conflict(_text("need.offered_before", (nid, entry.candidate_id)))
        if entry.candidate_id in status.takers:
            raise Conflict(_text("need.took_before", (nid, entry.candidate_id)))
        return attrs.evolve(
            status,
            last_at=at,
            offers=(*status.offers, entry),
            open=(*status.open, entry.candidate_id),
        )
    if isinstance(entry, Accepted):
        _require(status, OPEN_STATES, entry)
        offer = _open_offer(status, entry)
        _check_answer_in_time(status, offer, at)
        accepted = (*status.accepted, entry.candidate_id)
        return attrs.evolve(
            status,
            last_at=at,
            open=_without(status.open, entry.candidate_id),
            accepted=accepted,
            first_accepted_at=status.first_accepted_at or at,
            filled_at=at if len(accepted) >= status.need.headcount else None,
        )
    if isinstance(entry, Taken):
        _require(status, OPEN_STATES, entry)
        cid = entry.candidate_id
        if status.offer_to(cid) is not None or cid in status.takers:
            raise Conflict(_text("need.asked_before", (nid, cid)))
        if status.vacancies == 0:
            raise Conflict(_text("need.no_vacancy", (nid, status.need.headcount)))
        accepted = (*status.accepted, cid)
        return attrs.evolve(
            status,
            last_at=at,
            taken=(*status.taken, entry),
            accepted=accepted,
            first_accepted_at=status.first_accepted_at or at,
            filled_at=at if len(accepted) >= status.need.headcount else None,
        )
    if isinstance(entry, Declined):
        _require(status, BEFORE_START_STATES, entry)
        cid = entry.candidate_id
        if cid in status.accepted:  # a withdrawal after accepting
            accepted = _without(status.accepted, cid)
            return attrs.evolve(
                status,
                last_at=at,
                accepted=accepted,
                withdrawn=(*status.withdrawn, cid),
                filled_at=status.filled_at if len(accepted) >= status.need.headcount else None,
            )
        offer = _open_offer(status, entry)
        _check_answer_in_time(status, offer, at)
        return attrs.evolve(
            status,
            last_at=at,
            open=_without(status.open, cid),
            declined=(*status.declined, cid),
        )
    if isinstance(entry, Expired):
        _require(status, BEFORE_START_STATES, entry)
        offer = _open_offer(status, entry)
        if offer.expires_at is None or at < offer.expires_at:
            deadline = "—" if offer.expires_at is None else offer.expires_at.isoformat()
            raise Conflict(_text("need.not_lapsed", (nid, entry.candidate_id, deadline)))
        return attrs.evolve(
            status,
            last_at=at,
            open=_without(status.open, entry.candidate_id),
            expired=(*status.expired, entry.candidate_id),
        )
    if isinstance(entry, Started):
        _require(status, frozenset({NeedState.ACCEPTED}), entry)
        return attrs.evolve(status, last_at=at, started_at=at)
    if isinstance(entry, Completed):
        _require(status, frozenset({NeedState.IN_SERVICE}), entry)
        served = entry.served
        if sorted(served) != sorted(status.accepted) or any(
            r.volunteer_id not in served and r.team_id not in served for r in entry.records
        ):
            raise InvalidValue("served", list(served), _text("need.served", (nid,)))
        return attrs.evolve(status, last_at=at, completed=entry)
    if isinstance(entry, Rated):
        if status.rated is not None:
            raise Conflict(_text("need.rated", (nid,)))
        _require(status, _DONE, entry)
        return attrs.evolve(status, last_at=at, rated=entry)
    if isinstance(entry, Rewarded):
        _require(status, frozenset({NeedState.COMPLETED, NeedState.RATED}), entry)
        if entry.candidate_id not in status.served:
            raise Conflict(_text("need.not_served", (nid, entry.candidate_id)))
        if any(r.candidate_id == entry.candidate_id for r in status.rewarded):
            raise Conflict(_text("need.rewarded", (nid, entry.candidate_id)))
        return attrs.evolve(status, last_at=at, rewarded=(*status.rewarded, entry))
    if isinstance(entry, NeedCancelled):
        _require(status, BEFORE_START_STATES, entry)
        return attrs.evolve(status, last_at=at, cancelled=entry)
    _require(status, OPEN_STATES, entry)  # Unfilled
    return attrs.evolve(status, last_at=at, unfilled=entry)


def fold(entries: Iterable[NeedEntry], *, as_of: datetime | None = None) -> dict[str, NeedStatus]:
    """Every need's status from its entries in order (those dated after ``as_of`` left out).

    Entries of different needs may interleave; each need's own entries must be in order. Raises
    as :func:`advance` does on an entry that its need's state does not allow.
    """
    when = None if as_of is None else moment(as_of, "as_of")
    out: dict[str, NeedStatus] = {}
    if isinstance(entries, (str, bytes, bytearray, Mapping)) or not isinstance(entries, Iterable):
        items("entries", entries)  # raises: not a collection of entries
    for e in entries:
        if not isinstance(e, ENTRY_TYPES):
            raise InvalidValue("entries", e, "不是需求条目 / not a need entry")
        if when is not None and e.at > when:
            continue
        out[e.need_id] = advance(out.get(e.need_id), e)
    return out
