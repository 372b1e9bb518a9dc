"""The points ledger (积分账本): double entry, lots with their own expiry, immutable postings.

Every :class:`Posting` moves a positive integer amount from one account to another, so the sum
over all accounts is always zero. Accounts are strings: ``volunteer:<id>`` (a volunteer's
spendable points, kept in lots), ``owed:<id>`` (what a volunteer owes after a clawback, never
positive), ``issuer:<name>`` (where points come from: its negative balance is the outstanding
liability), ``redemption``, ``expiry``, ``clearing:<region>`` (time-bank 通存通兑) and any other
name a caller needs (:mod:`zhiyuan.credit.accounts` builds and reads them).

Every amount entering a ``volunteer:`` account opens a *lot* (its id is the posting's id) with
its own ``available_from`` (the pending period) and ``expires_at``; every amount leaving one
names the lot it comes from. Spending takes the available lots that expire soonest first (those
that never expire last), then the earliest earned, then the first posted
(:func:`~zhiyuan.credit.spending_order`); :meth:`expire` posts what is left of expired lots to ``expiry``; no lot
is ever spent twice or below zero. Corrections are new postings (``reverses`` links the
original), never edits.

The ledger is a book on a :class:`~zhiyuan.journal.Journal` (its name is the instrument): every
operation records all of its postings or none, before it returns, and returns exactly what was
recorded. Operation ids are the caller's (any text without ``#``); the postings an operation
makes are named from it (``o1#1``, ``o1#2`` for the legs of spend ``o1``; ``e1#settle``,
``e1#reverse``, ``e1#expired``, ``e1#clawback#1``, ``e1#owed``, ``<lot>#expire``,
``<leg>#refund``), so they can never take an id a caller uses. Every argument is checked before
anything is staged (a bad one is an :class:`~zhiyuan.errors.InvalidValue` naming it), and an
operation records all of its postings or none; the same operation again (every argument the
same) returns exactly what it recorded the first time; another operation under a used id is a
:class:`~zhiyuan.errors.Conflict`. Thread-safe.

Example:
    >>> from datetime import datetime
    >>> from zhiyuan import SHANGHAI
    >>> t = lambda m, d: datetime(2025, m, d, tzinfo=SHANGHAI)
    >>> book = PointsLedger()
    >>> _ = book.earn("e1", "v1", 30, at=t(1, 5), issuer="issuer:烟台", expires_at=t(12, 31))
    >>> _ = book.earn("e2", "v1", 20, at=t(3, 1), issuer="issuer:烟台")
    >>> _ = book.earn("e3", "v1", 10, at=t(3, 2), issuer="issuer:烟台", expires_at=t(6, 30))
    >>> [(p.id, p.lot, p.amount) for p in book.spend("o1", "v1", 45, at=t(4, 1))]
    [('o1#1', 'e3', 10), ('o1#2', 'e1', 30), ('o1#3', 'e2', 5)]
    >>> book.balances("v1", as_of=t(4, 2)).available, book.total()
    (15, 0)
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import attrs

from zhiyuan._gc import paused_gc
from zhiyuan._validators import (
    COUNT,
    DAYS,
    Clock,
    aware,
    flag,
    items_of,
    key,
    moment,
    non_empty,
    text,
    to_enum,
    to_shanghai,
)
from zhiyuan.convert import register_tagged_union
from zhiyuan.credit.accounts import (
    OWED_PREFIX,
    VOLUNTEER_PREFIX,
    check_issuer,
    check_outlet,
    is_personal,
    owed_account,
    volunteer_account,
    volunteer_of,
)
from zhiyuan.errors import Conflict, InsufficientBalance, InvalidValue, NotFound, show
from zhiyuan.explain import Finding, finding, register_messages
from zhiyuan.journal import Book, Journal, Transaction
from zhiyuan.journal._ids import SEP, derive, own_id
from zhiyuan.journal._pickle import register_state_type

__all__ = [
    "MAX_AMOUNT",
    "Balances",
    "ClawbackRule",
    "Lot",
    "PointsLedger",
    "Posting",
    "PostingKind",
    "Reversal",
    "Timing",
    "fold_balances",
    "spending_order",
]

MAX_AMOUNT = COUNT
"""The largest amount one posting may move (a billion points, credits or minutes): every sum a
ledger or its columnar twin (:mod:`zhiyuan.bulk.points`) forms then stays well inside int64."""

register_messages(
    {
        ("points.reverse", ""): (
            ("earned", "left"),
            "冲销积分：原得 {earned} 分，余 {left} 分退回",
            "points reversed: {earned} earned, {left} left in the lot returned",
        ),
        ("points.reverse", "expired"): (
            ("expired",),
            "已过期 {expired} 分：从过期账户退回发放方",
            "{expired} had expired: taken back from expiry to the issuer",
        ),
        ("points.clawback", "debt"): (
            ("spent", "taken", "debt"),
            "已用 {spent} 分：从其他积分扣回 {taken} 分，记欠 {debt} 分",
            "{spent} already spent: {taken} clawed back from other points, {debt} recorded as owed",
        ),
        ("points.clawback", "negative"): (
            ("spent",),
            "已用 {spent} 分：余额记为负数",
            "{spent} already spent: the balance goes negative",
        ),
    }
)


class PostingKind(enum.Enum):
    """Why points moved."""

    EARN = "earn"
    """积分发放: converted from certified hours (or another reason) by an issuer."""
    SPEND = "spend"
    """兑换: spent on a redemption."""
    REFUND = "refund"
    """退还: a cancelled redemption returned."""
    EXPIRE = "expire"
    """过期: what was left of an expired lot."""
    REVERSE = "reverse"
    """冲销: an earning taken back (hours revoked)."""
    CLAWBACK = "clawback"
    """追回: points taken back from other lots, or recorded as owed, when reversed points were spent."""
    SETTLE = "settle"
    """抵扣: a new earning pays what is owed."""
    TRANSFER = "transfer"
    """转赠: a gift to another volunteer (a relative), within policy limits."""
    CLEAR = "clear"
    """清算: cross-region clearing (时间银行 通存通兑)."""
    ADJUST = "adjust"
    """调整: a manual adjustment."""


# The ledger's own corrections: they move points back to where they came from, not to a sale.
_NOT_REFUNDABLE = frozenset(
    {PostingKind.EXPIRE, PostingKind.REVERSE, PostingKind.CLAWBACK, PostingKind.SETTLE}
)
# What an earning may be (earn, post_conversion), and so what reverse_earning takes back.
_EARN_KINDS = (PostingKind.EARN, PostingKind.ADJUST)
# What a spending may be: points leaving a volunteer for something other than a volunteer.
_SPEND_KINDS = (PostingKind.SPEND, PostingKind.CLEAR, PostingKind.ADJUST)


def _optional_text(field: str, value: object) -> str | None:
    return None if value is None else key(field, value)


def _amount(value: object, field: str = "amount") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_AMOUNT:
        raise InvalidValue(
            field,
            value,
            f"金额须为 1 到 {MAX_AMOUNT} 的整数 / an amount is a whole number, 1 to {MAX_AMOUNT}",
        )
    return value


def _kind_of(field: str, value: object, allowed: Sequence[PostingKind]) -> PostingKind:
    """A posting kind from a member or its value, one of ``allowed``."""
    try:
        kind = to_enum(field, PostingKind, value)
    except InvalidValue:  # not a kind at all: the message lists what this operation allows
        kind = None
    if kind is None or kind not in allowed:
        names = ", ".join(k.value for k in allowed)
        raise InvalidValue(field, value if kind is None else kind.value, f"应为 / one of {names}")
    return kind


def _aware(field: str, value: object) -> datetime:
    """A required aware moment (``None`` is refused, not read as now), in Asia/Shanghai."""
    if value is None:
        raise InvalidValue(field, None, "需要带时区的时间 / need a timezone-aware datetime")
    return moment(value, field)


def _posting_amount(_: object, attribute: attrs.Attribute[int], value: int) -> None:
    _amount(value, attribute.name)


def _is_text(_: object, attribute: attrs.Attribute[Any], value: str) -> None:
    """Any text, blank too, that can be written as UTF-8 (a note)."""
    if not isinstance(value, str):
        raise InvalidValue(attribute.name, value, "需要文字 / need text")
    text(attribute.name, value)


def _to_kind(value: object) -> PostingKind:
    return to_enum("kind", PostingKind, value)


@attrs.frozen(kw_only=True)
class Posting:
    """One movement of ``amount`` from ``source`` to ``target`` (an immutable fact).

    ``lot`` names the lot consumed when ``source`` is a volunteer account. When ``target`` is a
    volunteer account, the posting opens a lot (id = the posting id) spendable from
    ``available_from`` (default: ``at``) until ``expires_at`` (default: never). ``ref`` says what
    caused it (a record id, an order id); ``reverses`` links the posting it corrects. ``kind``
    takes a :class:`PostingKind` or its value (``"earn"``); ``amount`` is a whole number from 1
    to :data:`~zhiyuan.credit.ledger.MAX_AMOUNT`; ``lot``, ``ref`` and ``reverses`` are ``None`` or non-empty text.
    """

    id: str = attrs.field(validator=non_empty)
    at: datetime = attrs.field(converter=to_shanghai, validator=aware)
    kind: PostingKind = attrs.field(converter=_to_kind)
    source: str = attrs.field(validator=non_empty)
    target: str = attrs.field(validator=non_empty)
    amount: int = attrs.field(validator=_posting_amount)
    lot: str | None = attrs.field(default=None, validator=attrs.validators.optional(non_empty))
    ref: str | None = attrs.field(default=None, validator=attrs.validators.optional(non_empty))
    reverses: str | None = attrs.field(default=None, validator=attrs.validators.optional(non_empty))
    available_from: datetime | None = attrs.field(
        default=None, converter=attrs.converters.optional(to_shanghai), validator=aware
    )
    expires_at: datetime | None = attrs.field(
        default=None, converter=attrs.converters.optional(to_shanghai), validator=aware
    )
    note: str = attrs.field(default="", validator=_is_text)

    def __attrs_post_init__(self) -> None:
        for field, account in (("source", self.source), ("target", self.target)):
            vid = volunteer_of(account)
            if vid is not None and not vid.strip():
                raise InvalidValue(
                    field, account, "账户缺少志愿者编号 / the account names no volunteer"
                )
        if self.source == self.target and self.lot is None:
            raise InvalidValue(
                "target", self.target, "不能转给同一账户 / source and target are the same"
            )
        if self.source.startswith(VOLUNTEER_PREFIX) and self.lot is None:
            raise InvalidValue("lot", None, "从志愿者账户转出须指明批次 / an outflow names its lot")


@attrs.frozen(kw_only=True)
class Lot:
    """A volunteer's lot as it stands: earned ``amount``, ``remaining``, and its dates.

    The ledger makes them (:meth:`PointsLedger.lots`); one built by a caller (for
    :func:`spending_order`) is checked like a posting: ``amount`` from 1 to
    :data:`~zhiyuan.credit.ledger.MAX_AMOUNT`, ``remaining`` from 0 to ``amount``, aware moments.
    """

    id: str = attrs.field(validator=non_empty)
    account: str = attrs.field(validator=non_empty)
    amount: int = attrs.field(validator=_posting_amount)
    remaining: int = attrs.field()
    opened_at: datetime = attrs.field(converter=to_shanghai, validator=aware)
    available_from: datetime = attrs.field(converter=to_shanghai, validator=aware)
    expires_at: datetime | None = attrs.field(
        converter=attrs.converters.optional(to_shanghai),
        validator=attrs.validators.optional(aware),  # None: never expires
    )

    @remaining.validator
    def _remaining(self, attribute: attrs.Attribute[int], value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= self.amount:
            raise InvalidValue(
                attribute.name,
                value,
                f"应为 0 到 {self.amount} 的整数 / a whole number, 0 to the lot's {self.amount}",
            )

    def available_on(self, at: datetime) -> bool:
        """Spendable at ``at``: past the pending period and not expired."""
        if type(at) is not datetime or at.tzinfo is None:
            at = _aware("at", at)
        return self.available_from <= at and (self.expires_at is None or at < self.expires_at)


@attrs.frozen(kw_only=True)
class Balances:
    """A volunteer's points at a moment; ``net`` = available + pending + expired-unswept + owed."""

    available: int
    pending: int
    expiring_soon: int
    expired_unswept: int
    owed: int

    @property
    def net(self) -> int:
        """Everything in the volunteer's accounts (``owed`` is zero or negative)."""
        return self.available + self.pending + self.expired_unswept + self.owed


class ClawbackRule(enum.Enum):
    """What happens when reversed points were already spent (the policy decides)."""

    DEBT = "debt"
    """Claw back from the volunteer's other available points, record the rest as owed."""
    NEGATIVE = "negative"
    """Record all of it as owed: the balance goes negative; later earnings pay it first."""


class Timing(enum.Enum):
    """When a consequence of certified hours is recorded (the policy decides).

    Used by :attr:`ConversionPolicy.timing <zhiyuan.credit.ConversionPolicy.timing>` (hours to
    points) and :attr:`TimeBankPolicy.bank_hours <zhiyuan.credit.TimeBankPolicy.bank_hours>`
    (hours to time credits), and carried out by :class:`zhiyuan.platform.Platform`.
    """

    AT_ONCE = "at_once"
    """In the same operation that makes the hours count (certification, or the end of their
    public notice when :meth:`Platform.settle <zhiyuan.platform.Platform.settle>` runs)."""
    BATCH = "batch"
    """Only when :meth:`Platform.settle <zhiyuan.platform.Platform.settle>` runs (a nightly
    batch, say): certification alone records nothing."""


@attrs.frozen(kw_only=True)
class Reversal:
    """The postings of a reversal and the explanation of what happened."""

    postings: tuple[Posting, ...]
    findings: tuple[Finding, ...]

    def explain(self) -> str:
        """One line per finding."""
        return "\n".join(f"{f.zh} / {f.en}" for f in self.findings)


register_tagged_union(Posting, {Posting: "points.posting"})


class _LotState:
    """An open lot: what is left of the posting that brought an amount into a volunteer's
    account. It holds the posting itself (already kept by the journal) and what is left, so an
    open lot costs two slots; the lot's other facts are the posting's."""

    __slots__ = ("posting", "remaining")

    def __init__(self, p: Posting) -> None:
        self.posting = p
        self.remaining = p.amount

    @property
    def id(self) -> str:
        return self.posting.id

    @property
    def account(self) -> str:
        return self.posting.target

    @property
    def opened_at(self) -> datetime:
        return self.posting.at

    @property
    def available_from(self) -> datetime:
        """When the lot may be spent: the posting's ``available_from``, or the moment earned."""
        p = self.posting
        return p.available_from or p.at

    @property
    def expires_at(self) -> datetime | None:
        return self.posting.expires_at

    def usable(self, at: datetime) -> bool:
        expires = self.posting.expires_at
        return self.available_from <= at and (expires is None or at < expires)

    def frozen(self, remaining: int | None = None) -> Lot:
        p = self.posting
        return Lot(
            id=p.id,
            account=p.target,
            amount=p.amount,
            remaining=self.remaining if remaining is None else remaining,
            opened_at=p.at,
            available_from=self.available_from,
            expires_at=p.expires_at,
        )


def _spend_key(lot: _LotState | Lot) -> tuple[bool, datetime, datetime]:
    """Where a lot stands in the spending order: the soonest expiry first, lots that never
    expire last, then the earliest earned (``opened_at``). The one statement of the order:
    :func:`~zhiyuan.credit.spending_order`, the ledger's spending and :func:`zhiyuan.bulk.points.spend_lots`
    follow it; a stable sort keeps lots equal on both in posting order."""
    expires = lot.expires_at
    return (expires is None, lot.opened_at if expires is None else expires, lot.opened_at)


def spending_order(lots: Iterable[Lot]) -> list[Lot]:
    """``lots`` (given in posting order, as :meth:`PointsLedger.lots` gives them) in the order a
    spending takes them: the soonest expiry first, never-expiring lots last, then the earliest
    earned, then the first posted.

    Example:
        >>> from datetime import datetime
        >>> from zhiyuan import SHANGHAI
        >>> t = lambda m: datetime(2025, m, 1, tzinfo=SHANGHAI)
        >>> lot = lambda i, opened, expires: Lot(id=i, account="volunteer:v1", amount=1,
        ...     remaining=1, opened_at=opened, available_from=opened, expires_at=expires)
        >>> [x.id for x in spending_order([lot("a", t(3), None), lot("b", t(1), None),
        ...                                lot("c", t(5), t(12)), lot("d", t(2), t(12))])]
        ['d', 'c', 'b', 'a']
    """
    return sorted(items_of("lots", Lot, lots), key=_spend_key)


class _PointsState:
    """The folded ledger: every balance, the open lots (oldest first per account), reversals.

    An open lot is found through its account (a posting consuming it names both: the account
    is its ``source``), so there is no second index of lots by id."""

    __slots__ = ("balance", "count", "open", "reversed_by")

    def __init__(self) -> None:
        self.balance: dict[str, int] = {}
        # account → its open lots by id, oldest first (dicts keep insertion order)
        self.open: dict[str, dict[str, _LotState]] = {}
        self.reversed_by: dict[str, list[Posting]] = {}  # posting id → postings reversing it
        self.count = 0

    def apply(self, p: Posting) -> None:
        self.apply_many((p,))

    def apply_many(self, postings: Iterable[Posting]) -> None:
        """Fold recorded postings in, in order (one loop for a whole transaction)."""
        bal, opened, reversed_by = self.balance, self.open, self.reversed_by
        get, n = bal.get, 0
        for p in postings:
            amount, source, target = p.amount, p.source, p.target
            bal[source] = get(source, 0) - amount
            bal[target] = get(target, 0) + amount
            lot_id = p.lot
            if lot_id is not None:
                held = opened.get(source)  # a consumed lot is its source's (checked)
                if held is not None:
                    lot = held.get(lot_id)
                    if lot is not None:
                        lot.remaining -= amount
                        if lot.remaining <= 0:
                            del held[lot_id]
                            if not held:
                                del opened[source]
            if target.startswith(VOLUNTEER_PREFIX):
                mine = opened.get(target)
                if mine is None:
                    opened[target] = {p.id: _LotState(p)}
                else:
                    mine[p.id] = _LotState(p)
            if p.reverses is not None:
                reversed_by.setdefault(p.reverses, []).append(p)
            n += 1
        self.count += n


register_state_type(_LotState, _PointsState)


class _View:
    """The ledger as it stands with the postings staged earlier in the open transaction on top,
    so that later operations of one transaction plan on what earlier ones did."""

    __slots__ = ("delta", "new", "new_lots", "reversed_by", "state", "used")

    def __init__(self, state: _PointsState, staged: Sequence[Posting]) -> None:
        self.state = state
        self.delta: dict[str, int] = {}
        self.used: dict[str, int] = {}
        self.new: dict[str, list[_LotState]] = {}
        self.new_lots: dict[str, _LotState] = {}  # staged lots by id
        self.reversed_by: dict[str, list[Posting]] = {}  # staged reversals only
        for p in staged:
            self.apply(p)

    def apply(self, p: Posting) -> None:
        self.delta[p.source] = self.delta.get(p.source, 0) - p.amount
        self.delta[p.target] = self.delta.get(p.target, 0) + p.amount
        if p.lot is not None:
            self.used[p.lot] = self.used.get(p.lot, 0) + p.amount
        if p.target.startswith(VOLUNTEER_PREFIX):
            lot = self.new_lots[p.id] = _LotState(p)
            self.new.setdefault(p.target, []).append(lot)
        if p.reverses is not None:
            self.reversed_by.setdefault(p.reverses, []).append(p)

    def reversals(self, posting_id: str) -> list[Posting]:
        """The postings reversing ``posting_id``, recorded and staged, in order."""
        return [
            *self.state.reversed_by.get(posting_id, ()),
            *self.reversed_by.get(posting_id, ()),
        ]

    def balance(self, account: str) -> int:
        return self.state.balance.get(account, 0) + self.delta.get(account, 0)

    def lots(self, account: str) -> Iterator[tuple[_LotState, int]]:
        """Open lots of ``account`` with what is left of each, oldest first."""
        used = self.used
        for lot in (*self.state.open.get(account, {}).values(), *self.new.get(account, ())):
            left = lot.remaining - used.get(lot.id, 0)
            if left > 0:
                yield lot, left

    def left(self, lot_id: str, account: str) -> int:
        """What is left of lot ``lot_id`` of ``account``."""
        lot = self.new_lots.get(lot_id) or self.state.open.get(account, {}).get(lot_id)
        n = 0 if lot is None else lot.remaining
        return max(n - self.used.get(lot_id, 0), 0)


def _settling(p: Posting, owed: int) -> list[Posting]:
    """An earning ``p`` and, when its volunteer owes ``owed`` (> 0), the posting that pays the
    debt from the new lot first (``<id>#settle``). The one place debt is settled: :meth:`earn`,
    rewards and :func:`~zhiyuan.credit.post_conversion` all come here."""
    if owed <= 0:
        return [p]
    settle = Posting(
        id=derive(p.id, "settle"),
        at=p.at,
        kind=PostingKind.SETTLE,
        source=p.target,
        target=OWED_PREFIX + p.target[len(VOLUNTEER_PREFIX) :],
        amount=min(owed, p.amount),
        lot=p.id,
        ref=p.id,
    )
    return [p, settle]


class PointsLedger(Book[Posting, _PointsState]):
    """A double-entry ledger of one instrument (points, time credits …), with lots.

    Args:
        instrument: what the amounts are (``points``, ``time_credits`` …), for reports; also the
            ledger's default name in its journal.
        journal: the journal to record in (default: a new in-memory one); see
            :mod:`zhiyuan.store` to keep it across restarts.
        name: the ledger's name in the journal (default: ``instrument``).
        clock: the clock of the new journal made when ``journal`` is not given.
    """

    kind = "points"
    entry_type = Posting
    state_version = 2  # 2: an open lot holds its posting and what is left

    def __init__(
        self,
        instrument: str = "points",
        *,
        journal: Journal | None = None,
        name: str | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.instrument = key("instrument", instrument)
        if clock is not None and not callable(clock):
            raise InvalidValue("clock", clock, "时钟须可调用 / a clock is a function")
        super().__init__(journal=journal, name=instrument if name is None else name, clock=clock)

    def _new_state(self) -> _PointsState:
        return _PointsState()

    def _entry_id(self, entry: Posting) -> str:
        if not isinstance(entry, Posting):
            raise InvalidValue("posting", type(entry).__name__, "需要 Posting / need a Posting")
        return entry.id  # validated non-empty by Posting itself

    # --- checks -------------------------------------------------------------------------------

    def _check(self, entry: Posting) -> None:
        if not isinstance(entry, Posting):
            raise InvalidValue("posting", type(entry).__name__, "需要 Posting / need a Posting")
        own_id(entry.id, "id")

    def _check_staged(self, entries: list[Posting]) -> None:
        """A consumed lot must be open, belong to the source and hold enough; an owed account
        never goes above zero."""
        held, balance = self._state.open, self._state.balance
        use: dict[str, int] = {}
        opened: dict[str, Posting] = {}  # lots opened in this transaction
        owed: dict[str, int] = {}
        for k, p in enumerate(entries):
            lot_id = p.lot
            if lot_id is not None:
                mine = held.get(p.source)
                lot = None if mine is None else mine.get(lot_id)
                if lot is not None:  # open, and the source's
                    account, remaining = p.source, lot.remaining
                elif lot_id in opened:
                    q = opened[lot_id]
                    account, remaining = q.target, q.amount
                elif (
                    any(q.id == lot_id for q in entries[k + 1 :])  # staged after its spending
                    or (q := self.journal.find(self.name, lot_id)) is None
                ):
                    raise NotFound("lot", lot_id)
                elif lot_id in held.get(q.target, {}):  # open, but another account's
                    account, remaining = q.target, 0
                else:
                    account, remaining = p.source, 0  # a closed lot: nothing left in it
                if account != p.source:
                    raise InvalidValue(
                        "lot", lot_id, f"批次不属于 {p.source} / the lot is not {p.source}'s"
                    )
                used = use.get(lot_id, 0) + p.amount
                if used > remaining:
                    raise InsufficientBalance(f"lot {lot_id}", used, remaining)
                use[lot_id] = used
            target = p.target
            if target.startswith(VOLUNTEER_PREFIX):
                opened[p.id] = p
            elif target.startswith(OWED_PREFIX):
                now = owed.get(target, balance.get(target, 0)) + p.amount
                if now > 0:
                    raise Conflict(f"{target} 不能为正 / what is owed cannot go above zero ({now})")
                owed[target] = now

    def _view_now(self) -> _View:
        """The recorded state read as a transaction's view is read (nothing staged)."""
        return _View(self._state, ())

    def _view(self, tx: Transaction) -> _View:
        state = self._state
        return tx.view(self, lambda staged: _View(state, staged))

    def _legs(self, id: str) -> list[Posting]:
        """The postings ``<id>#1``, ``<id>#2`` … of an operation already recorded under ``id``."""
        done = []
        k = 1
        while (p := self.journal.find(self.name, derive(id, k))) is not None:
            done.append(p)
            k += 1
        return done

    def _unused(self, id: str) -> None:
        """Conflict if ``id`` names a recorded posting or the legs of an operation."""
        if (
            self.journal.find(self.name, id) is not None
            or self.journal.find(self.name, derive(id, 1)) is not None
        ):
            raise Conflict(f"id {id!r} is already used / 编号已被占用")

    # --- the raw way in -----------------------------------------------------------------------

    def post(self, posting: Posting) -> Posting:
        """Record one posting built by the caller after checking it; returns the recorded one.

        Its id is the caller's (no ``#``). The same posting again is a no-op; another posting
        under its id is a :class:`~zhiyuan.errors.Conflict`; a lot it consumes must exist, be
        the source's and hold enough.
        """
        out: Posting = self.add(posting)
        return out

    def post_many(self, postings: Iterable[Posting]) -> int:
        """Post many postings in order, all or nothing: every one is checked before any is
        recorded (a lot may be opened and spent within the batch). Postings already recorded
        are skipped. Returns how many were new."""
        batch = _postings("postings", postings)
        return self._post_many(batch, caller=True)

    def _post_many(self, batch: Sequence[Posting], *, caller: bool = False) -> int:
        """Record postings, skipping those recorded; new ones of a ``caller`` take no derived
        ids (the library's own postings do)."""
        with paused_gc(), self.journal.transaction() as tx:
            before = len(tx)
            ids = [p.id for p in batch]
            recorded = self.journal.find_many(self.name, ids)
            if not recorded and not (caller and SEP in "".join(ids)):
                tx.add(self, batch)  # all new (the common case)
                return len(tx) - before
            fresh: list[Posting] = []
            for p in batch:
                old = recorded.get(p.id)
                if old is not None:
                    if old != p:
                        raise Conflict(f"posting id {p.id!r} is already used / 记账编号已被占用")
                    continue
                if caller and SEP in p.id:
                    own_id(p.id, "id")  # raises, naming the id
                fresh.append(p)
            tx.add(self, fresh)  # the same posting twice in the batch is kept once
            return len(tx) - before

    def _post_earnings(self, postings: Iterable[Posting], field: str = "postings") -> int:
        """Record earnings built by the library (a conversion's), all or nothing, each paying
        what its volunteer owes first exactly as :meth:`earn` does (:func:`_settling`).
        Earnings already recorded are skipped (another posting under one of their ids is a
        :class:`~zhiyuan.errors.Conflict`). Returns how many earnings were new."""
        batch = _postings(field, postings)
        for p in batch:
            if p.kind not in _EARN_KINDS or not p.target.startswith(VOLUNTEER_PREFIX) or p.lot:
                raise InvalidValue(field, p.id, "不是积分发放 / not an earning")
            check_issuer(p.source, f"{field}.source")
            if p.expires_at is not None and p.expires_at <= p.at:
                raise InvalidValue(
                    f"{field}.expires_at",
                    p.expires_at.isoformat(),
                    "失效时间须晚于发放时间 / must come after the moment earned",
                )
        with paused_gc(), self.journal.transaction() as tx:
            recorded = self.journal.find_many(self.name, [p.id for p in batch])
            view = self._view(tx)
            debt: dict[str, int] = {}  # what each volunteer owes, as the batch pays it
            out: list[Posting] = []
            n = 0
            for p in batch:
                old = recorded.get(p.id)
                if old is not None:
                    if old != p:
                        raise Conflict(f"posting id {p.id!r} is already used / 记账编号已被占用")
                    continue
                recorded[p.id] = p
                owed = debt.get(p.target)
                if owed is None:
                    owed = -view.balance(OWED_PREFIX + p.target[len(VOLUNTEER_PREFIX) :])
                legs = _settling(p, owed)
                debt[p.target] = owed - sum(x.amount for x in legs[1:])
                out.extend(legs)
                n += 1
            tx.add(self, out)
        return n

    # --- reading ------------------------------------------------------------------------------

    @property
    def postings(self) -> tuple[Posting, ...]:
        """Every posting, in the order recorded."""
        return self.entries

    def __len__(self) -> int:
        return self._state.count

    def posting(self, posting_id: str) -> Posting:
        """A posting by id (:class:`~zhiyuan.errors.NotFound` if none)."""
        p: Posting | None = self.journal.find(self.name, key("posting_id", posting_id))
        if p is None:
            raise NotFound("posting", posting_id)
        return p

    def balance(self, account: str) -> int:
        """An account's balance now. O(1)."""
        return self._state.balance.get(key("account", account), 0)

    def accounts(self) -> dict[str, int]:
        """Every account's balance now."""
        with self._lock:
            return dict(self._state.balance)

    def total(self) -> int:
        """The sum over all accounts: always zero."""
        with self._lock:
            return sum(self._state.balance.values())

    def lots(self, volunteer_id: str, *, open_only: bool = True) -> list[Lot]:
        """A volunteer's lots in posting order (with ``open_only``, those with points left).

        :func:`~zhiyuan.credit.spending_order` puts them in the order a spending takes them.
        """
        acct = volunteer_account(volunteer_id)
        if not flag("open_only", open_only):
            every: dict[str, _LotState] = {}
            for p in self.postings:
                if p.target == acct:
                    every[p.id] = _LotState(p)
                if p.source == acct and p.lot in every:
                    every[p.lot].remaining -= p.amount
            return [lot.frozen() for lot in every.values()]
        with self._lock:
            return [lot.frozen() for lot in self._state.open.get(acct, {}).values()]

    def balances(
        self, volunteer_id: str, *, as_of: datetime | None = None, within_days: int = 30
    ) -> Balances:
        """Available, pending, expiring within ``within_days``, expired-unswept and owed points.

        Without ``as_of``: every posting recorded, lots judged at the clock's now (fast, from the
        open lots). With ``as_of``: a fold of the postings made by then (:func:`fold_balances`).
        """
        acct, owes = volunteer_account(volunteer_id), owed_account(volunteer_id)
        days = _within(within_days)
        if as_of is None:
            when = self.journal.now()
            with self._lock:
                lots = [
                    (lot.remaining, lot.available_from, lot.expires_at)
                    for lot in self._state.open.get(acct, {}).values()
                ]
                owed = self._state.balance.get(owes, 0)
            return _classify(lots, owed, when, days)
        return fold_balances(
            self.postings, volunteer_id, as_of=self._when(as_of, "as_of"), within_days=days
        )

    def available(self, volunteer_id: str, *, as_of: datetime | None = None) -> int:
        """Points a volunteer could spend, less what is owed: without ``as_of``, from every
        recorded posting at the clock's now; with it, from the postings made by then (what
        :meth:`balances` says: ``available + owed``)."""
        if as_of is None:
            return self.spendable(volunteer_id)
        b = self.balances(volunteer_id, as_of=as_of)
        return b.available + b.owed

    def spendable(self, volunteer_id: str, *, at: datetime | None = None) -> int:
        """What a spend at ``at`` (default: the clock's now) could take: the lots open now that
        are usable at ``at``, less what is owed. This is what :meth:`spend` plans on."""
        acct, owes = volunteer_account(volunteer_id), owed_account(volunteer_id)
        when = self._when(at)
        with self._lock:
            lots = self._state.open.get(acct, {}).values()
            free = sum(lot.remaining for lot in lots if lot.usable(when))
            return free + self._state.balance.get(owes, 0)

    # --- operations ---------------------------------------------------------------------------

    def earn(
        self,
        id: str,
        volunteer_id: str,
        amount: int,
        *,
        at: datetime | None = None,
        issuer: str,
        available_from: datetime | None = None,
        expires_at: datetime | None = None,
        ref: str | None = None,
        kind: PostingKind | str = PostingKind.EARN,
    ) -> list[Posting]:
        """Credit points to a volunteer as a new lot (id ``id``); what is owed is paid from it
        first (``<id>#settle``). Returns the postings recorded.

        ``kind`` is ``earn`` (default) or ``adjust``; ``expires_at`` must come after ``at``.
        The same call again returns what it recorded (without ``at``, the first moment stands);
        another earning under ``id`` is a :class:`~zhiyuan.errors.Conflict`.
        """
        own_id(id, "id")
        return self._earn(
            id,
            volunteer_id,
            amount,
            at=at,
            issuer=issuer,
            kind=kind,
            available_from=available_from,
            expires_at=expires_at,
            ref=ref,
        )

    def _earn(
        self,
        id: str,
        volunteer_id: str,
        amount: int,
        *,
        at: datetime | None,
        issuer: str,
        kind: PostingKind | str = PostingKind.EARN,
        available_from: datetime | None = None,
        expires_at: datetime | None = None,
        ref: str | None = None,
    ) -> list[Posting]:
        """:meth:`earn` under an id the library made (a reward, a conversion)."""
        key("id", id)
        target = volunteer_account(volunteer_id)
        _amount(amount)
        source = check_issuer(issuer)
        kind = _kind_of("kind", kind, _EARN_KINDS)
        ref = _optional_text("ref", ref)
        with self.journal.transaction() as tx:
            when = self._when(at)
            p = Posting(
                id=id,
                at=when,
                kind=kind,
                source=source,
                target=target,
                amount=amount,
                available_from=available_from,
                expires_at=expires_at,
                ref=ref,
            )
            old: Posting | None = self.journal.find(self.name, id)
            if old is not None:
                if old == p or (at is None and old == attrs.evolve(p, at=old.at)):
                    settle = self.journal.find(self.name, derive(id, "settle"))
                    return [old] if settle is None else [old, settle]
                raise Conflict(f"posting id {id!r} is already used / 记账编号已被占用")
            self._unused(id)
            if p.expires_at is not None and p.expires_at <= when:
                raise InvalidValue(
                    "expires_at",
                    p.expires_at.isoformat(),
                    "失效时间须晚于发放时间 / must come after the moment earned",
                )
            out = _settling(p, -self._view(tx).balance(owed_account(volunteer_id)))
            tx.add(self, out)
        return out

    def _take(
        self, view: _View, volunteer_id: str, amount: int, at: datetime, *, exclude: str = ""
    ) -> list[tuple[_LotState, int]]:
        """Plan to take ``amount`` from the usable lots in the spending order (raises if short)."""
        acct = volunteer_account(volunteer_id)
        usable = [
            (lot, left) for lot, left in view.lots(acct) if lot.id != exclude and lot.usable(at)
        ]
        free = sum(left for _, left in usable) + min(view.balance(owed_account(volunteer_id)), 0)
        if free < amount:
            raise InsufficientBalance(acct, amount, max(free, 0))
        usable.sort(key=lambda x: _spend_key(x[0]))  # stable: equal keys stay in posting order
        plan: list[tuple[_LotState, int]] = []
        left = amount
        for lot, n in usable:
            if left == 0:
                break
            take = min(n, left)
            plan.append((lot, take))
            left -= take
        return plan

    def spend(
        self,
        id: str,
        volunteer_id: str,
        amount: int,
        *,
        at: datetime | None = None,
        to: str = "redemption",
        ref: str | None = None,
        kind: PostingKind | str = PostingKind.SPEND,
    ) -> list[Posting]:
        """Spend from the usable lots in the spending order (:func:`~zhiyuan.credit.spending_order`): one posting
        per lot, ids ``<id>#1``, ``<id>#2`` ….

        ``to`` is any account but a volunteer's (use :meth:`transfer`) or an ``owed:`` one;
        ``kind`` is ``spend`` (default), ``clear`` or ``adjust``; ``ref`` defaults to ``id``.
        Raises :class:`~zhiyuan.errors.InsufficientBalance` and records nothing when short. The
        same spend again (every argument the same; without ``at``, the first moment stands)
        returns the recorded postings; another operation under ``id`` is a
        :class:`~zhiyuan.errors.Conflict`.
        """
        own_id(id, "id")
        source = volunteer_account(volunteer_id)
        _amount(amount)
        target = check_outlet(to)
        ref = _optional_text("ref", ref)
        kind = _kind_of("kind", kind, _SPEND_KINDS)
        with self.journal.transaction() as tx:
            when = self._when(at)
            done = self._legs(id)
            if done:
                if (
                    sum(p.amount for p in done) != amount
                    or any(
                        (p.source, p.target, p.kind, p.ref, p.at)
                        != (source, target, kind, ref or id, done[0].at)
                        for p in done
                    )
                    or (at is not None and done[0].at != when)
                ):
                    raise Conflict(f"spend id {id!r} is already used / 编号已被占用")
                return done
            self._unused(id)
            out = [
                Posting(
                    id=derive(id, k),
                    at=when,
                    kind=kind,
                    source=lot.account,
                    target=target,
                    amount=take,
                    lot=lot.id,
                    ref=ref or id,
                )
                for k, (lot, take) in enumerate(
                    self._take(self._view(tx), volunteer_id, amount, when), start=1
                )
            ]
            tx.add(self, out)
        return out

    def refund(
        self, spend_postings: Sequence[Posting], *, at: datetime | None = None
    ) -> list[Posting]:
        """Return spent points: each spend posting ``p`` is reversed by ``<p.id>#refund``, which
        opens a lot again with the original lot's dates. Returns the refund postings, one per
        spend posting (a posting listed twice counts once), those recorded before as they were
        recorded (refunding again changes nothing and returns exactly what was recorded)."""
        postings = _postings("spend_postings", spend_postings)
        with self.journal.transaction() as tx:
            when = self._when(at)
            view = self._view(tx)
            out: list[Posting] = []
            fresh: list[Posting] = []
            seen: set[str] = set()
            for sp in postings:
                if sp.id in seen:
                    continue
                seen.add(sp.id)
                recorded = self.journal.find(self.name, sp.id)
                if recorded is None:
                    raise NotFound("posting", sp.id)
                if recorded != sp:
                    raise Conflict(f"posting {sp.id!r} is not the one recorded / 与账本记录不符")
                if sp.kind in _NOT_REFUNDABLE or sp.lot is None or is_personal(sp.target):
                    raise InvalidValue("spend_postings", sp.id, "不是兑换 / not a spending")
                rid = derive(sp.id, "refund")
                prior: Posting | None = self.journal.find(self.name, rid)
                if prior is not None:
                    out.append(prior)
                    continue
                if view.reversals(sp.id):
                    raise Conflict(f"posting {sp.id!r} is already reversed / 已冲销")
                lot: Posting | None = self.journal.find(self.name, sp.lot)
                if lot is None:  # pragma: no cover - a recorded spend names a recorded lot
                    raise NotFound("lot", sp.lot)
                p = Posting(
                    id=rid,
                    at=when,
                    kind=PostingKind.REFUND,
                    source=sp.target,
                    target=sp.source,
                    amount=sp.amount,
                    ref=sp.ref,
                    reverses=sp.id,
                    available_from=lot.available_from or lot.at,
                    expires_at=lot.expires_at,
                )
                out.append(p)
                fresh.append(p)
            tx.add(self, fresh)
        return out

    def transfer(
        self,
        id: str,
        from_volunteer: str,
        to_volunteer: str,
        amount: int,
        *,
        at: datetime | None = None,
        ref: str | None = None,
    ) -> list[Posting]:
        """Give points to another volunteer (转赠): lots in the spending order, each keeping its
        expiry (legs ``<id>#1``, ``<id>#2`` …). The same transfer again (every argument the same)
        returns the recorded postings; another operation under ``id`` is a
        :class:`~zhiyuan.errors.Conflict`."""
        own_id(id, "id")
        source = volunteer_account(from_volunteer)
        target = volunteer_account(to_volunteer)
        if source == target:
            raise InvalidValue(
                "to_volunteer", to_volunteer, "不能转给自己 / cannot give to oneself"
            )
        _amount(amount)
        ref = _optional_text("ref", ref)
        with self.journal.transaction() as tx:
            when = self._when(at)
            done = self._legs(id)
            if done:
                if (
                    sum(p.amount for p in done) != amount
                    or any(
                        (p.source, p.target, p.kind, p.ref, p.at)
                        != (source, target, PostingKind.TRANSFER, ref or id, done[0].at)
                        for p in done
                    )
                    or (at is not None and done[0].at != when)
                ):
                    raise Conflict(f"transfer id {id!r} is already used / 编号已被占用")
                return done
            self._unused(id)
            plan = self._take(self._view(tx), from_volunteer, amount, when)
            out = [
                Posting(
                    id=derive(id, k),
                    at=when,
                    kind=PostingKind.TRANSFER,
                    source=lot.account,
                    target=target,
                    amount=take,
                    lot=lot.id,
                    ref=ref or id,
                    available_from=when,
                    expires_at=lot.expires_at,
                )
                for k, (lot, take) in enumerate(plan, 1)
            ]
            tx.add(self, out)
        return out

    def expire(self, at: datetime | None = None) -> list[Posting]:
        """Post what is left of every lot expired by ``at`` (default: the clock's now) to
        ``expiry`` (``<lot>#expire``, dated when the lot expired). Idempotent."""
        with self.journal.transaction() as tx:
            when = self._when(at)
            view = self._view(tx)
            out = [
                Posting(
                    id=derive(lot.id, "expire"),
                    at=lot.expires_at,
                    kind=PostingKind.EXPIRE,
                    source=lot.account,
                    target="expiry",
                    amount=left,
                    lot=lot.id,
                )
                for account in [*self._state.open, *view.new]
                for lot, left in view.lots(account)
                if lot.expires_at is not None and lot.expires_at <= when
            ]
            tx.add(self, out)
        return out

    def reverse_earning(
        self,
        earn_id: str,
        *,
        at: datetime | None = None,
        reason: str,
        rule: ClawbackRule | str = ClawbackRule.DEBT,
    ) -> Reversal:
        """Take back an earning (its hours were revoked); already-spent points per ``rule``.

        What is left in the lot goes back to the issuer (``<earn>#reverse``), and so does what
        of it expired and was swept (``<earn>#expired``, from ``expiry``): the issuer's
        liability, the expiry total and the caps of a conversion then no longer count it. The
        spent part is clawed back from other available lots (``<earn>#clawback#1`` …) and the
        rest recorded as owed (``<earn>#owed``) under ``DEBT``, or recorded as owed whole under
        ``NEGATIVE``. ``rule`` takes a :class:`ClawbackRule` or its value. Reversing twice is a
        no-op (returns the recorded postings).
        """
        earn_id = key("earn_id", earn_id)
        rule = to_enum("rule", ClawbackRule, rule)
        note = key("reason", reason)
        with self.journal.transaction() as tx:
            when = self._when(at)
            earn = self._earning(earn_id)
            view = self._view(tx)
            mine = earn_id + SEP
            prior = [p for p in view.reversals(earn_id) if p.id.startswith(mine)]
            if prior:
                return Reversal(postings=tuple(prior), findings=())
            return self._take_back(tx, view, earn, earn_id, None, when, note, rule)

    def _correct(
        self, id: str, earn_id: str, amount: int, *, at: datetime, reason: str, rule: ClawbackRule
    ) -> Reversal:
        """Take back ``amount`` of an earning (at most what is not taken back yet), under the
        derived ``id``: a platform's correction when undone hours leave a carried remainder in
        later conversions (see :class:`zhiyuan.platform.Platform`). The postings are ``<id>#…``,
        each ``reverses`` the earning, so conversions net them out as they do a reversal. The
        same correction again returns what it recorded."""
        with self.journal.transaction() as tx:
            earn = self._earning(earn_id)
            view = self._view(tx)
            mine = id + SEP
            prior = [p for p in view.reversals(earn_id) if p.id.startswith(mine)]
            if prior:
                return Reversal(postings=tuple(prior), findings=())
            return self._take_back(tx, view, earn, id, amount, at, reason, rule)

    def _earning(self, earn_id: str) -> Posting:
        earn: Posting | None = self.journal.find(self.name, earn_id)
        if earn is None:
            raise NotFound("posting", earn_id)
        if (
            earn.kind not in _EARN_KINDS
            or earn.lot is not None
            or not earn.target.startswith(VOLUNTEER_PREFIX)
        ):
            raise InvalidValue("earn_id", earn_id, "不是积分发放 / not an earning")
        return earn

    def _take_back(
        self,
        tx: Transaction,
        view: _View,
        earn: Posting,
        base: str,
        amount: int | None,
        when: datetime,
        note: str,
        rule: ClawbackRule,
    ) -> Reversal:
        """Stage the postings that take back ``amount`` of ``earn`` (``None``: all that is not
        taken back yet), ids ``<base>#…``: first what is left in its lot, then (a whole
        reversal only) what of it expired, then the spent rest per ``rule``."""
        earn_id = earn.id
        vid = earn.target[len(VOLUNTEER_PREFIX) :]
        open_amount = earn.amount - sum(p.amount for p in view.reversals(earn_id))
        want = open_amount if amount is None else min(amount, open_amount)
        left = min(view.left(earn_id, earn.target), want)
        swept: Posting | None = None
        if amount is None:
            swept = self.journal.find(self.name, derive(earn_id, "expire"))
            if swept is not None and (swept.lot != earn_id or swept.kind is not PostingKind.EXPIRE):
                swept = None  # pragma: no cover - ids with '#' are the ledger's own
        expired = 0 if swept is None else min(swept.amount, want - left)
        spent = want - left - expired
        out: list[Posting] = []
        findings = [finding("points.reverse", (want, left))]
        if left:
            out.append(
                Posting(
                    id=derive(base, "reverse"),
                    at=when,
                    kind=PostingKind.REVERSE,
                    source=earn.target,
                    target=earn.source,
                    amount=left,
                    lot=earn_id,
                    reverses=earn_id,
                    note=note,
                )
            )
        if swept is not None and expired:
            out.append(
                Posting(
                    id=derive(base, "expired"),
                    at=when,
                    kind=PostingKind.REVERSE,
                    source=swept.target,
                    target=earn.source,
                    amount=expired,
                    reverses=earn_id,
                    note=note,
                )
            )
            findings.append(finding("points.reverse", (expired,), "expired"))
        if spent:
            taken = 0
            if rule is ClawbackRule.DEBT:
                free = sum(
                    n for lot, n in view.lots(earn.target) if lot.id != earn_id and lot.usable(when)
                )
                owed = min(view.balance(owed_account(vid)), 0)
                taken = min(spent, max(free + owed, 0))
                if taken:
                    plan = self._take(view, vid, taken, when, exclude=earn_id)
                    out.extend(
                        Posting(
                            id=derive(base, "clawback", k),
                            at=when,
                            kind=PostingKind.CLAWBACK,
                            source=earn.target,
                            target=earn.source,
                            amount=take,
                            lot=x.id,
                            reverses=earn_id,
                            note=note,
                        )
                        for k, (x, take) in enumerate(plan, start=1)
                    )
            debt = spent - taken
            if debt:
                out.append(
                    Posting(
                        id=derive(base, "owed"),
                        at=when,
                        kind=PostingKind.CLAWBACK,
                        source=owed_account(vid),
                        target=earn.source,
                        amount=debt,
                        reverses=earn_id,
                        note=note,
                    )
                )
            variant = "debt" if rule is ClawbackRule.DEBT else "negative"
            values = (spent, taken, debt) if rule is ClawbackRule.DEBT else (spent,)
            findings.append(finding("points.clawback", values, variant))
        tx.add(self, out)
        return Reversal(postings=tuple(out), findings=tuple(findings))


def _postings(field: str, value: object) -> list[Posting]:
    """A list of postings from an iterable of them (a single posting, text or a mapping is
    refused)."""
    if isinstance(value, (str, bytes, bytearray, Mapping, Posting)) or not isinstance(
        value, Iterable
    ):
        raise InvalidValue(
            field, value, "需要 Posting 列表 / need a list of Postings", shown=show(value)
        )
    out = list(value)
    for p in out:
        if not isinstance(p, Posting):
            raise InvalidValue(field, p, "需要 Posting / need Postings", shown=show(p))
    return out


def _within(days: object) -> int:
    if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= DAYS:
        raise InvalidValue(
            "within_days", days, f"应为 0 到 {DAYS} 的整数 / a whole number of days, 0 to {DAYS}"
        )
    return days


def _classify(
    lots: Iterable[tuple[int, datetime, datetime | None]], owed: int, at: datetime, within_days: int
) -> Balances:
    soon = at + timedelta(days=within_days)
    available = pending = expiring = expired = 0
    for remaining, available_from, expires_at in lots:
        if expires_at is not None and expires_at <= at:
            expired += remaining
        elif available_from > at:
            pending += remaining
        else:
            available += remaining
            if expires_at is not None and expires_at <= soon:
                expiring += remaining
    return Balances(
        available=available,
        pending=pending,
        expiring_soon=expiring,
        expired_unswept=expired,
        owed=owed,
    )


def fold_balances(
    postings: Iterable[Posting], volunteer_id: str, *, as_of: datetime, within_days: int = 30
) -> Balances:
    """A volunteer's :class:`Balances` at ``as_of``, folded from the postings made by then.

    The fold is the ledger's own (the postings applied one by one), so it always agrees with
    :meth:`PointsLedger.balances`.

    Example:
        >>> from datetime import datetime
        >>> from zhiyuan import SHANGHAI
        >>> fold_balances([], "v1", as_of=datetime(2025, 1, 1, tzinfo=SHANGHAI)).net
        0
    """
    acct, owes = volunteer_account(volunteer_id), owed_account(volunteer_id)
    when = _aware("as_of", as_of)
    days = _within(within_days)
    state = _PointsState()
    for p in _postings("postings", postings):
        if p.at <= when:
            state.apply(p)
    lots = [
        (lot.remaining, lot.available_from, lot.expires_at)
        for lot in state.open.get(acct, {}).values()
    ]
    return _classify(lots, state.balance.get(owes, 0), when, days)
