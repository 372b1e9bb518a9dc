"""The points ledger (积分账本): double entry, lots with their own expiry, immutable postings.

Every :class:`Posting` moves a positive integer amount from one account to another, so the sum
over all accounts is always zero. Accounts are strings: ``volunteer:<id>`` (a volunteer's
spendable points, kept in lots), ``owed:<id>`` (what a volunteer owes after a clawback, never
positive), ``issuer:<name>`` (where points come from: its negative balance is the outstanding
liability), ``redemption``, ``expiry``, ``clearing:<region>`` (time-bank 通存通兑) and any other
name a caller needs.

Every amount entering a ``volunteer:`` account opens a *lot* (its id is the posting's id) with
its own ``available_from`` (the pending period) and ``expires_at``; every amount leaving one
names the lot it comes from. Spending takes the oldest available lots first; :meth:`expire`
posts what is left of expired lots to ``expiry``; no lot is ever spent twice or below zero.
Corrections are new postings (``reverses`` links the original), never edits.

Posting validates first and changes nothing on error; the same posting id twice is a no-op,
another posting under a used id is a :class:`~zhiyuan.errors.Conflict`. Thread-safe.

Example:
    >>> from datetime import datetime
    >>> from zhiyuan._validators import SHANGHAI
    >>> t = lambda m, d: datetime(2025, m, d, tzinfo=SHANGHAI)
    >>> book = PointsLedger()
    >>> _ = book.earn("e1", "v1", 30, at=t(1, 5), issuer="issuer:烟台", expires_at=t(12, 31))
    >>> _ = book.earn("e2", "v1", 20, at=t(3, 1), issuer="issuer:烟台")
    >>> [p.amount for p in book.spend("o1", "v1", 40, at=t(4, 1))]   # oldest lot first
    [30, 10]
    >>> book.balances("v1", as_of=t(4, 2)).available, book.total()
    (10, 0)
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

import attrs

from zhiyuan._gc import paused_gc
from zhiyuan._validators import aware, moment, non_empty, to_shanghai
from zhiyuan.errors import Conflict, InsufficientBalance, InvalidValue, NotFound
from zhiyuan.explain import Finding, finding, register_messages

__all__ = [
    "Balances",
    "ClawbackRule",
    "Lot",
    "PointsLedger",
    "Posting",
    "PostingKind",
    "Reversal",
    "fold_balances",
    "owed_account",
    "volunteer_account",
]

register_messages(
    {
        ("points.reverse", ""): (
            ("earned", "left"),
            "冲销积分：原得 {earned} 分，余 {left} 分退回",
            "points reversed: {earned} earned, {left} left in the lot returned",
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


_LOT_PREFIX = "volunteer:"
# The ledger's own corrections: they move points back to where they came from, not to a sale.
_NOT_REFUNDABLE = frozenset(
    {PostingKind.EXPIRE, PostingKind.REVERSE, PostingKind.CLAWBACK, PostingKind.SETTLE}
)
_OWED_PREFIX = "owed:"


def volunteer_account(volunteer_id: str) -> str:
    """The spendable account of a volunteer (``volunteer:<id>``)."""
    return _LOT_PREFIX + volunteer_id


def owed_account(volunteer_id: str) -> str:
    """What a volunteer owes after a clawback (``owed:<id>``; its balance is zero or negative)."""
    return _OWED_PREFIX + volunteer_id


def _positive_int(_: object, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidValue(
            attribute.name, value, "金额须为正整数 / an amount is a whole number > 0"
        )


@attrs.frozen(kw_only=True)
class Posting:
    """One movement of ``amount`` from ``source`` to ``target`` (an immutable fact).

    ``lot`` names the lot consumed when ``source`` is a volunteer account. When ``target`` is a
    volunteer account, the posting opens a lot (id = the posting id) spendable from
    ``available_from`` (default: ``at``) until ``expires_at`` (default: never). ``ref`` says what
    caused it (a record id, an order id); ``reverses`` links the posting it corrects.
    """

    id: str = attrs.field(validator=non_empty)
    at: datetime = attrs.field(converter=to_shanghai, validator=aware)
    kind: PostingKind
    source: str = attrs.field(validator=non_empty)
    target: str = attrs.field(validator=non_empty)
    amount: int = attrs.field(validator=_positive_int)
    lot: str | None = None
    ref: str | None = None
    reverses: str | None = None
    available_from: datetime | None = attrs.field(
        default=None, converter=attrs.converters.optional(to_shanghai), validator=aware
    )
    expires_at: datetime | None = attrs.field(
        default=None, converter=attrs.converters.optional(to_shanghai), validator=aware
    )
    note: str = ""

    def __attrs_post_init__(self) -> None:
        if self.source == self.target and self.lot is None:
            raise InvalidValue(
                "target", self.target, "不能转给同一账户 / source and target are the same"
            )
        if self.source.startswith(_LOT_PREFIX) and self.lot is None:
            raise InvalidValue("lot", None, "从志愿者账户转出须指明批次 / an outflow names its lot")


@attrs.frozen(kw_only=True)
class Lot:
    """A volunteer's lot as it stands: earned ``amount``, ``remaining``, and its dates."""

    id: str
    account: str
    amount: int
    remaining: int
    opened_at: datetime
    available_from: datetime
    expires_at: datetime | None

    def available_on(self, at: datetime) -> bool:
        """Spendable at ``at``: past the pending period and not expired."""
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


@attrs.frozen(kw_only=True)
class Reversal:
    """The postings of a reversal and the explanation of what happened."""

    postings: tuple[Posting, ...]
    findings: tuple[Finding, ...]

    def explain(self) -> str:
        """One line per finding."""
        return "\n".join(f"{f.zh} / {f.en}" for f in self.findings)


class _LotState:
    __slots__ = (
        "account",
        "amount",
        "available_from",
        "expires_at",
        "id",
        "opened_at",
        "remaining",
    )

    def __init__(self, p: Posting) -> None:
        self.id = p.id
        self.account = p.target
        self.amount = p.amount
        self.remaining = p.amount
        self.opened_at = p.at
        self.available_from = p.available_from or p.at
        self.expires_at = p.expires_at

    def frozen(self) -> Lot:
        return Lot(
            id=self.id,
            account=self.account,
            amount=self.amount,
            remaining=self.remaining,
            opened_at=self.opened_at,
            available_from=self.available_from,
            expires_at=self.expires_at,
        )


class PointsLedger:
    """A double-entry ledger of one instrument (points, time credits …), with lots.

    Args:
        instrument: what the amounts are (``points``, ``time_credits`` …), for reports.
    """

    def __init__(self, instrument: str = "points") -> None:
        self.instrument = instrument
        self._lock = threading.RLock()
        self._postings: list[Posting] = []
        self._by_id: dict[str, Posting] = {}
        self._balance: dict[str, int] = {}
        self._lots: dict[str, _LotState] = {}
        # account → its lots with points left, oldest first (dicts keep insertion order)
        self._open: dict[str, dict[str, _LotState]] = {}
        self._reversed_by: dict[str, list[Posting]] = {}  # posting id → postings reversing it

    # --- the one way in -----------------------------------------------------------------------

    def post(self, posting: Posting) -> Posting:
        """Apply one posting after checking it (see the module doc); returns it."""
        with self._lock:
            self._check(posting)
            self._apply(posting)
        return posting

    def post_many(self, postings: Iterable[Posting]) -> int:
        """Post many postings in order, all or nothing: every one is checked before any applies.

        Returns how many were new. For a large batch the cyclic garbage collector is paused.
        """
        batch = list(postings)
        with self._lock, paused_gc():
            seen: dict[str, Posting] = {}
            use: dict[str, int] = {}
            opened: dict[str, tuple[str, int]] = {}  # lots opened earlier in this batch
            fresh: list[Posting] = []
            for p in batch:
                old = self._by_id.get(p.id) or seen.get(p.id)
                if old is not None:
                    if old != p:
                        raise Conflict(f"posting id {p.id!r} is already used / 记账编号已被占用")
                    continue
                self._check_lot(p, use, opened)
                if p.target.startswith(_LOT_PREFIX):
                    opened[p.id] = (p.target, p.amount)
                seen[p.id] = p
                fresh.append(p)
            for p in fresh:
                self._apply(p)
            return len(fresh)

    def _check(self, p: Posting) -> None:
        old = self._by_id.get(p.id)
        if old is not None and old != p:
            raise Conflict(f"posting id {p.id!r} is already used / 记账编号已被占用")
        if old is None:
            self._check_lot(p, {}, {})

    def _check_lot(
        self, p: Posting, use: dict[str, int], opened: dict[str, tuple[str, int]]
    ) -> None:
        """A consumed lot must exist, belong to the source, and hold enough (no lot below zero)."""
        if p.lot is None:
            return
        lot = self._lots.get(p.lot)
        if lot is not None:
            account, remaining = lot.account, lot.remaining
        elif p.lot in opened:
            account, remaining = opened[p.lot]
        else:
            raise NotFound("lot", p.lot)
        if account != p.source:
            raise InvalidValue("lot", p.lot, f"批次不属于 {p.source} / the lot is not {p.source}'s")
        used = use.get(p.lot, 0) + p.amount
        if used > remaining:
            raise InsufficientBalance(f"lot {p.lot}", used, remaining)
        use[p.lot] = used

    def _apply(self, p: Posting) -> None:
        """Apply a checked posting (the caller holds the lock)."""
        pid = p.id
        by_id = self._by_id
        if pid in by_id:
            return
        amount = p.amount
        bal = self._balance
        source, target = p.source, p.target
        bal[source] = bal.get(source, 0) - amount
        bal[target] = bal.get(target, 0) + amount
        lot_id = p.lot
        if lot_id is not None:
            lot = self._lots[lot_id]
            lot.remaining -= amount
            if not lot.remaining:
                del self._open[lot.account][lot_id]
        if target.startswith(_LOT_PREFIX):
            new = _LotState(p)
            self._lots[pid] = new
            opened = self._open.get(target)
            if opened is None:
                opened = self._open[target] = {}
            opened[pid] = new
        self._postings.append(p)
        by_id[pid] = p
        if p.reverses is not None:
            self._reversed_by.setdefault(p.reverses, []).append(p)

    def _repeat(self, id: str) -> list[Posting]:
        """The postings ``<id>:1``, ``<id>:2`` … of an earlier spend or transfer under ``id``."""
        done = []
        k = 1
        while (p := self._by_id.get(f"{id}:{k}")) is not None:
            done.append(p)
            k += 1
        return done

    # --- reading ------------------------------------------------------------------------------

    @property
    def postings(self) -> tuple[Posting, ...]:
        """Every posting, in the order applied."""
        with self._lock:
            return tuple(self._postings)

    def __len__(self) -> int:
        return len(self._postings)

    def posting(self, posting_id: str) -> Posting:
        """A posting by id."""
        p = self._by_id.get(posting_id)
        if p is None:
            raise NotFound("posting", posting_id)
        return p

    def balance(self, account: str) -> int:
        """An account's balance now. O(1)."""
        return self._balance.get(account, 0)

    def accounts(self) -> dict[str, int]:
        """Every account's balance now."""
        with self._lock:
            return dict(self._balance)

    def total(self) -> int:
        """The sum over all accounts: always zero."""
        with self._lock:
            return sum(self._balance.values())

    def lots(self, volunteer_id: str, *, open_only: bool = True) -> list[Lot]:
        """A volunteer's lots, oldest first (with ``open_only``, those with points left)."""
        acct = volunteer_account(volunteer_id)
        with self._lock:
            if open_only:
                return [lot.frozen() for lot in self._open.get(acct, {}).values()]
            return [lot.frozen() for lot in self._lots.values() if lot.account == acct]

    def balances(
        self, volunteer_id: str, *, as_of: datetime | None = None, within_days: int = 30
    ) -> Balances:
        """Available, pending, expiring within ``within_days``, expired-unswept and owed points.

        Without ``as_of``: now, from the open lots (fast). With ``as_of``: a fold of the
        postings up to that moment (what :func:`fold_balances` computes).
        """
        if as_of is None:
            when = moment(None)
            with self._lock:
                lots = [
                    (lot.remaining, lot.available_from, lot.expires_at)
                    for lot in self._open.get(volunteer_account(volunteer_id), {}).values()
                ]
                owed = self._balance.get(owed_account(volunteer_id), 0)
            return _classify(lots, owed, when, within_days)
        when = moment(as_of)
        with self._lock:
            postings = list(self._postings)
        return fold_balances(postings, volunteer_id, as_of=when, within_days=within_days)

    def available(self, volunteer_id: str, at: datetime) -> int:
        """Points spendable at ``at`` from the open lots, less what is owed."""
        at = moment(at)
        with self._lock:
            lots = self._open.get(volunteer_account(volunteer_id), {}).values()
            free = sum(
                lot.remaining
                for lot in lots
                if lot.available_from <= at and (lot.expires_at is None or at < lot.expires_at)
            )
            return free + self._balance.get(owed_account(volunteer_id), 0)

    # --- operations ---------------------------------------------------------------------------

    def earn(
        self,
        id: str,
        volunteer_id: str,
        amount: int,
        *,
        at: datetime,
        issuer: str,
        available_from: datetime | None = None,
        expires_at: datetime | None = None,
        ref: str | None = None,
        kind: PostingKind = PostingKind.EARN,
    ) -> list[Posting]:
        """Credit points to a volunteer as a new lot; what is owed is paid from it first."""
        when = moment(at)
        p = Posting(
            id=id,
            at=when,
            kind=kind,
            source=issuer,
            target=volunteer_account(volunteer_id),
            amount=amount,
            ref=ref,
            available_from=available_from,
            expires_at=expires_at,
        )
        with self._lock:
            if self._by_id.get(id) == p:
                s = self._by_id.get(f"{id}:settle")
                return [p] if s is None or s.lot != id else [p, s]
            self._check(p)
            self._apply(p)
            out = [p]
            owed = -self._balance.get(owed_account(volunteer_id), 0)
            if owed > 0:
                pay = min(owed, amount)
                s = Posting(
                    id=f"{id}:settle",
                    at=when,
                    kind=PostingKind.SETTLE,
                    source=p.target,
                    target=owed_account(volunteer_id),
                    amount=pay,
                    lot=id,
                    ref=id,
                )
                self._apply(s)
                out.append(s)
            return out

    def _take(
        self, volunteer_id: str, amount: int, at: datetime, *, exclude: str | None = None
    ) -> list[tuple[_LotState, int]]:
        """Plan to take ``amount`` from the oldest available lots (raises if short)."""
        lots = self._open.get(volunteer_account(volunteer_id), {}).values()
        plan: list[tuple[_LotState, int]] = []
        left = amount
        owed = min(self._balance.get(owed_account(volunteer_id), 0), 0)
        free = owed  # what is owed is not spendable
        for lot in lots:
            if lot.id == exclude or not (
                lot.available_from <= at and (lot.expires_at is None or at < lot.expires_at)
            ):
                continue
            free += lot.remaining
        if free < amount:
            raise InsufficientBalance(volunteer_account(volunteer_id), amount, max(free, 0))
        for lot in lots:
            if left == 0:
                break
            if lot.id == exclude or not (
                lot.available_from <= at and (lot.expires_at is None or at < lot.expires_at)
            ):
                continue
            take = min(lot.remaining, left)
            plan.append((lot, take))
            left -= take
        return plan

    def spend(
        self,
        id: str,
        volunteer_id: str,
        amount: int,
        *,
        at: datetime,
        to: str = "redemption",
        ref: str | None = None,
        kind: PostingKind = PostingKind.SPEND,
    ) -> list[Posting]:
        """Spend from the oldest available lots (one posting per lot, ids ``<id>:1``, ``<id>:2`` …).

        Raises :class:`~zhiyuan.errors.InsufficientBalance` and posts nothing when short.
        Spending with the same id again returns the earlier postings.
        """
        when = moment(at)
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            raise InvalidValue("amount", amount, "金额须为正整数 / an amount is a whole number > 0")
        with self._lock:
            done = self._repeat(id)
            if done:
                if sum(p.amount for p in done) != amount or done[0].source != volunteer_account(
                    volunteer_id
                ):
                    raise Conflict(f"spend id {id!r} is already used / 编号已被占用")
                return done
            out = []
            for k, (lot, take) in enumerate(self._take(volunteer_id, amount, when), start=1):
                p = Posting(
                    id=f"{id}:{k}",
                    at=when,
                    kind=kind,
                    source=lot.account,
                    target=to,
                    amount=take,
                    lot=lot.id,
                    ref=ref or id,
                )
                out.append(p)
            for p in out:
                self._apply(p)
            return out

    def refund(
        self, spend_postings: Sequence[Posting], *, at: datetime, id_prefix: str = "refund"
    ) -> list[Posting]:
        """Return spent points: each becomes a lot again with the original lot's dates."""
        when = moment(at)
        out = []
        with self._lock:
            for sp in spend_postings:
                orig = self._lots.get(sp.lot or "")
                if orig is None or sp.id not in self._by_id:
                    raise NotFound("posting", sp.id)
                if self._by_id[sp.id] != sp:
                    raise Conflict(f"posting {sp.id!r} is not the one recorded / 与账本记录不符")
                if sp.kind in _NOT_REFUNDABLE:
                    raise InvalidValue("spend_postings", sp.id, "不是兑换 / not a spending")
                if any(r.id != f"{id_prefix}:{sp.id}" for r in self._reversed_by.get(sp.id, ())):
                    raise Conflict(f"posting {sp.id!r} is already refunded / 已退还")
                out.append(
                    Posting(
                        id=f"{id_prefix}:{sp.id}",
                        at=when,
                        kind=PostingKind.REFUND,
                        source=sp.target,
                        target=sp.source,
                        amount=sp.amount,
                        ref=sp.ref,
                        reverses=sp.id,
                        available_from=orig.available_from,
                        expires_at=orig.expires_at,
                    )
                )
            for p in out:
                if self._by_id.get(p.id) is None:
                    self._apply(p)
            return out

    def transfer(
        self,
        id: str,
        from_volunteer: str,
        to_volunteer: str,
        amount: int,
        *,
        at: datetime,
        ref: str | None = None,
    ) -> list[Posting]:
        """Give points to another volunteer (转赠): oldest lots first, each keeping its expiry."""
        when = moment(at)
        if from_volunteer == to_volunteer:
            raise InvalidValue(
                "to_volunteer", to_volunteer, "不能转给自己 / cannot give to oneself"
            )
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            raise InvalidValue("amount", amount, "金额须为正整数 / an amount is a whole number > 0")
        with self._lock:
            done = self._repeat(id)
            if done:
                if (
                    sum(p.amount for p in done) != amount
                    or done[0].source != volunteer_account(from_volunteer)
                    or done[0].target != volunteer_account(to_volunteer)
                ):
                    raise Conflict(f"transfer id {id!r} is already used / 编号已被占用")
                return done
            out = []
            for k, (lot, take) in enumerate(self._take(from_volunteer, amount, when), start=1):
                out.append(
                    Posting(
                        id=f"{id}:{k}",
                        at=when,
                        kind=PostingKind.TRANSFER,
                        source=lot.account,
                        target=volunteer_account(to_volunteer),
                        amount=take,
                        lot=lot.id,
                        ref=ref or id,
                        available_from=when,
                        expires_at=lot.expires_at,
                    )
                )
            for p in out:
                self._apply(p)
            return out

    def expire(self, as_of: datetime) -> list[Posting]:
        """Post what is left of every lot expired by ``as_of`` to ``expiry`` (idempotent)."""
        when = moment(as_of)
        out = []
        with self._lock:
            for lots in self._open.values():
                for lot in list(lots.values()):
                    if lot.expires_at is not None and lot.expires_at <= when and lot.remaining > 0:
                        out.append(
                            Posting(
                                id=f"expire:{lot.id}",
                                at=lot.expires_at,
                                kind=PostingKind.EXPIRE,
                                source=lot.account,
                                target="expiry",
                                amount=lot.remaining,
                                lot=lot.id,
                            )
                        )
            for p in out:
                self._apply(p)
        return out

    def reverse_earning(
        self, earn_id: str, *, at: datetime, reason: str, rule: ClawbackRule = ClawbackRule.DEBT
    ) -> Reversal:
        """Take back an earning (its hours were revoked); already-spent points per ``rule``.

        What is left in the lot goes back to the issuer; the spent part is clawed back from
        other available lots and the rest recorded as owed (``DEBT``), or recorded as owed
        whole (``NEGATIVE``). Reversing twice is a no-op (returns the same postings).
        """
        when = moment(at)
        with self._lock:
            earn = self._by_id.get(earn_id)
            if earn is None:
                raise NotFound("posting", earn_id)
            if not earn.target.startswith(_LOT_PREFIX):
                raise InvalidValue("earn_id", earn_id, "不是积分发放 / not an earning")
            prior = self._reversed_by.get(earn_id)
            if prior:
                return Reversal(postings=tuple(prior), findings=())
            vid = earn.target[len(_LOT_PREFIX) :]
            lot = self._lots[earn_id]
            left = lot.remaining
            swept = self._by_id.get(f"expire:{earn_id}")  # what expired was not spent
            expired = swept.amount if swept is not None and swept.lot == earn_id else 0
            spent = lot.amount - left - expired
            out: list[Posting] = []
            findings = [finding("points.reverse", (lot.amount, left))]
            if left:
                out.append(
                    Posting(
                        id=f"reverse:{earn_id}",
                        at=when,
                        kind=PostingKind.REVERSE,
                        source=earn.target,
                        target=earn.source,
                        amount=left,
                        lot=earn_id,
                        reverses=earn_id,
                        note=reason,
                    )
                )
            if spent:
                taken = 0
                if rule is ClawbackRule.DEBT:
                    lots = self._open.get(earn.target, {}).values()
                    free = sum(
                        x.remaining
                        for x in lots
                        if x.id != earn_id
                        and x.available_from <= when
                        and (x.expires_at is None or when < x.expires_at)
                    )
                    owed = min(self._balance.get(owed_account(vid), 0), 0)
                    taken = min(spent, max(free + owed, 0))
                    if taken:
                        for k, (x, take) in enumerate(
                            self._take(vid, taken, when, exclude=earn_id), start=1
                        ):
                            out.append(
                                Posting(
                                    id=f"clawback:{earn_id}:{k}",
                                    at=when,
                                    kind=PostingKind.CLAWBACK,
                                    source=earn.target,
                                    target=earn.source,
                                    amount=take,
                                    lot=x.id,
                                    reverses=earn_id,
                                    note=reason,
                                )
                            )
                debt = spent - taken
                if debt:
                    out.append(
                        Posting(
                            id=f"owed:{earn_id}",
                            at=when,
                            kind=PostingKind.CLAWBACK,
                            source=owed_account(vid),
                            target=earn.source,
                            amount=debt,
                            reverses=earn_id,
                            note=reason,
                        )
                    )
                variant = "debt" if rule is ClawbackRule.DEBT else "negative"
                values = (spent, taken, debt) if rule is ClawbackRule.DEBT else (spent,)
                findings.append(finding("points.clawback", values, variant))
            for p in out:
                self._apply(p)
            return Reversal(postings=tuple(out), findings=tuple(findings))


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
    """A volunteer's :class:`Balances` at ``as_of``, folded from the postings alone.

    Example:
        >>> from datetime import datetime
        >>> from zhiyuan._validators import SHANGHAI
        >>> fold_balances([], "v1", as_of=datetime(2025, 1, 1, tzinfo=SHANGHAI)).net
        0
    """
    acct, owed_acct = volunteer_account(volunteer_id), owed_account(volunteer_id)
    left: dict[str, int] = {}
    dates: dict[str, tuple[datetime, datetime | None]] = {}
    owed = 0
    for p in postings:
        if p.at > as_of:
            continue
        if p.target == acct:
            left[p.id] = p.amount
            dates[p.id] = (p.available_from or p.at, p.expires_at)
        if p.source == acct and p.lot in left:
            left[p.lot] -= p.amount
        if p.target == owed_acct:
            owed += p.amount
        if p.source == owed_acct:
            owed -= p.amount
    rows = [(n, *dates[lot_id]) for lot_id, n in left.items()]
    return _classify(rows, owed, as_of, within_days)
