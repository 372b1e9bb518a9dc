"""The time bank (时间银行): service given is banked as time credits, service received draws them.

A :class:`TimeBank` keeps its credits in a :class:`~zhiyuan.credit.PointsLedger` of instrument
``time_credits`` and judges every operation by the :class:`TimeBankPolicy` in force on its date
(its rules as data, with the shipped profiles: :mod:`zhiyuan.credit.timebank_policy`).

Units:
    Ledger amounts are integer **minutes of time credit** (90 minutes of service bank 90), so
    nothing is ever rounded. ``minutes_per_credit`` (60: 1 h = 1 时间币) converts to credits for
    people and for the caps, which policies state in credits as the local texts do (南京 1,500 h,
    上海 2 a day and 600 in all).

Accounts (all strings, see :mod:`zhiyuan.credit.accounts`):
    ``bank:<code>``
        The issuing bank of a region: a deposit moves credits from it into the member's lot.
        Its balance is minus what it has issued.
    ``volunteer:<id>``
        A member's credits, in lots; each lot remembers the bank that issued it (through
        transfers too).
    ``served:<code>``
        Service received (兑换服务) in a region: a withdrawal moves credits there. Only services,
        never cash.
    ``clearing:<code>``
        通存通兑: when credits issued by bank A are redeemed in region B, a ``clear`` posting moves
        the amount from ``clearing:A`` to ``clearing:B``. A negative balance is what a region owes
        the others, a positive one what it is owed; :meth:`TimeBank.settlement` lists who owes whom.
    ``owed:<id>``
        What a member owes the banks after a deposit was reversed whose credits were already used
        (zero or negative); :meth:`TimeBank.owed` says how much to which bank.

Every region's outstanding liability is the credits it issued (net of reversed deposits) minus
the credits redeemed against it, wherever they were redeemed, plus what members owe it for
reversed deposits; in account terms ``outstanding(R) - owed(R) = -(bank:R + served:R) +
clearing:R``. :meth:`TimeBank.liability` rolls it up the tree; :func:`fold_positions` computes it
from the postings alone.

Region codes are mapped to the bank that serves them: with ``issuing_level`` set (青岛: street
banks), a village code belongs to the bank of its street; without it, the code itself is the bank.
Credits can be redeemed at their issuing bank, and, where ``exchange_level`` is set (通存通兑), at
any bank within the same region of that level.

Corrections are new postings, never edits. :meth:`TimeBank.refund` cancels a withdrawal: the
credits come back (``<leg>#refund``) and so does its clearing (``<leg>#clear#refund``), so the
regions no longer owe each other for it. :meth:`TimeBank.reverse_deposit` takes back a deposit
whose hours were revoked, as :meth:`PointsLedger.reverse_earning
<zhiyuan.credit.PointsLedger.reverse_earning>` takes back an earning: what is left of it goes
back to its bank (``<deposit>#reverse``); what was already used (withdrawn, given away) is taken
from the member's other credits of the same bank (``<deposit>#clawback#1`` …), and the rest is
recorded as owed to that bank (``<deposit>#owed``), paid first from the member's next deposits
with it and refunds of its credits (``<id>#settle``). The reversed deposit no longer counts
toward the daily and lifetime caps, nor as issued.

The bank folds its ledger's postings as they are recorded (a listener on the ledger's book), and
each operation records its postings in one journal transaction: all or none, before it returns.
Operation ids are the caller's (no ``#``); the postings are named from them (``d1``, ``d1#donate``,
``d1#settle``, ``w1#1``, ``w1#1#clear``, ``g1#1``); one id names one operation of any kind. Every
argument is checked before anything is staged (a bad one is an
:class:`~zhiyuan.errors.InvalidValue` naming it) and nothing is recorded on error; the same
operation again returns the recorded postings (``repeated``); another operation under a used id
is a :class:`~zhiyuan.errors.Conflict`. Thread-safe.

References:
    POLICIES.md §3.1 (南京, 上海, 北京, 青岛): the sources are cited with the policies, in
    :mod:`zhiyuan.credit.timebank_policy`.

Example:
    >>> from datetime import datetime
    >>> from zhiyuan import SHANGHAI
    >>> from zhiyuan.credit import TIMEBANK_PROFILES, PointsLedger
    >>> from zhiyuan.hierarchy import load_default
    >>> from zhiyuan.hours import Volunteer
    >>> t = lambda d: datetime(2021, 3, d, 10, tzinfo=SHANGHAI)
    >>> wang = Volunteer(id="v1", name="王芳", id_number="370214195001011234",
    ...                  home_region="370214001001", registered_on=t(1).date())
    >>> bank = TimeBank(PointsLedger(instrument="time_credits"), load_default(),
    ...                 TIMEBANK_PROFILES["qingdao_2021"])
    >>> _ = bank.deposit("d1", wang, 90, at=t(1), region="370214001001")   # 城阳街道 village
    >>> _ = bank.deposit("d2", wang, 60, at=t(2), region="370211001001")   # 黄岛区 street
    >>> r = bank.withdraw("w1", wang, 120, at=t(3), region="370211001")    # she is 71
    >>> print(r.explain())
    在 370211001000 兑换 120 分钟时间 / 120 min of service received at 370211001000
    370214001000 发放的 60 分钟在 370211001000 兑换：经清算，370214001000 欠 370211001000 60 分钟 / 60 min issued by 370214001000 redeemed at 370211001000: cleared, 370214001000 owes 370211001000 60 min
    >>> bank.balance("v1"), bank.liability()["370200000000"]
    (30, 30)
    >>> [(s.debtor, s.creditor, s.minutes) for s in bank.settlement()]
    [('370214001000', '370211001000', 60)]

    The service is cancelled: the credits come back, and so does the clearing.

    >>> print(bank.refund("w1", at=t(4)).explain())
    撤销兑换 w1：退还 120 分钟 / withdrawal w1 refunded: 120 min returned
    清算冲回：370214001000 不再欠 370211001000 这 60 分钟 / clearing reversed: 370214001000 no longer owes 370211001000 these 60 min
    >>> bank.settlement(), bank.balance("v1"), bank.liability()["370200000000"]
    ([], 150, 150)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Protocol, TypeVar

import attrs

from zhiyuan._validators import is_bool, items_of, moment, non_empty, text
from zhiyuan.credit.accounts import (
    BANK_PREFIX,
    CLEARING_PREFIX,
    OWED_PREFIX,
    SERVED_PREFIX,
    VOLUNTEER_PREFIX,
    bank_account,
    clearing_account,
    owed_account,
    served_account,
    volunteer_account,
)
from zhiyuan.credit.ledger import MAX_AMOUNT, PointsLedger, Posting, PostingKind
from zhiyuan.credit.timebank_policy import Relation, TimeBankPolicy, _relation, _whole
from zhiyuan.errors import Conflict, InsufficientBalance, InvalidValue, NotFound
from zhiyuan.explain import Finding, finding, register_messages
from zhiyuan.hierarchy.codes import Level, normalize_code
from zhiyuan.hierarchy.tree import RegionTree
from zhiyuan.journal._ids import derive, own_id
from zhiyuan.journal._pickle import register_state_type
from zhiyuan.schedule import Schedule

__all__ = [
    "Member",
    "RegionPosition",
    "Settlement",
    "TimeBank",
    "TimeBankReceipt",
    "fold_positions",
]

INSTRUMENT = "time_credits"


register_messages(
    {
        ("timebank.deposit", ""): (
            ("minutes", "bank"),
            "在 {bank} 存入 {minutes} 分钟时间",
            "{minutes} min of service banked with {bank}",
        ),
        ("timebank.donate", ""): (
            ("minutes", "to"),
            "团体时间只能捐赠：{minutes} 分钟捐给 {to}",
            "group time may only be donated: {minutes} min given to {to}",
        ),
        ("timebank.donate", "chosen"): (
            ("minutes", "to"),
            "{minutes} 分钟捐给 {to}",
            "{minutes} min donated to {to}",
        ),
        ("timebank.withdraw", ""): (
            ("minutes", "bank"),
            "在 {bank} 兑换 {minutes} 分钟时间",
            "{minutes} min of service received at {bank}",
        ),
        ("timebank.withdraw", "for"): (
            ("minutes", "bank", "recipient", "relation"),
            "在 {bank} 兑换 {minutes} 分钟时间，服务对象 {recipient}（{relation}）",
            "{minutes} min of service received at {bank} by {recipient} ({relation})",
        ),
        ("timebank.clear", ""): (
            ("minutes", "issuer", "server"),
            "{issuer} 发放的 {minutes} 分钟在 {server} 兑换：经清算，{issuer} 欠 {server} {minutes} 分钟",
            "{minutes} min issued by {issuer} redeemed at {server}: cleared, {issuer} owes {server} {minutes} min",
        ),
        ("timebank.transfer", ""): (
            ("minutes", "to", "relation"),
            "{minutes} 分钟转赠给 {to}（{relation}）",
            "{minutes} min given to {to} ({relation})",
        ),
        ("timebank.reverse", ""): (
            ("id", "reason", "minutes", "bank", "left", "holder"),
            "冲销存入 {id}（{reason}）：{bank} 发放的 {minutes} 分钟中，{holder} 账户余下的 {left} 分钟退回",
            "deposit {id} reversed ({reason}): of the {minutes} min issued by {bank}, the {left} left in {holder}'s account returned",
        ),
        ("timebank.reverse", "spent"): (
            ("id", "reason", "minutes", "bank"),
            "冲销存入 {id}（{reason}）：{bank} 发放的 {minutes} 分钟已全部用出，无余额退回",
            "deposit {id} reversed ({reason}): the {minutes} min issued by {bank} had all been used, none was left to return",
        ),
        ("timebank.reverse", "used"): (
            ("used", "taken", "debt", "member", "bank"),
            "已用 {used} 分钟：从 {member} 在 {bank} 的其他时间扣回 {taken} 分钟，记欠 {debt} 分钟",
            "{used} min already used: {taken} taken back from {member}'s other credits of {bank}, {debt} recorded as owed to it",
        ),
        ("timebank.settle", ""): (
            ("minutes", "bank"),
            "先偿还欠 {bank} 的 {minutes} 分钟",
            "{minutes} min paid first toward what is owed to {bank}",
        ),
        ("timebank.refund", ""): (
            ("id", "minutes"),
            "撤销兑换 {id}：退还 {minutes} 分钟",
            "withdrawal {id} refunded: {minutes} min returned",
        ),
        ("timebank.refund", "clear"): (
            ("minutes", "issuer", "server"),
            "清算冲回：{issuer} 不再欠 {server} 这 {minutes} 分钟",
            "clearing reversed: {issuer} no longer owes {server} these {minutes} min",
        ),
        ("timebank.repeat", ""): (
            ("id",),
            "操作 {id} 已记录，未重复记账",
            "operation {id} was already recorded; nothing posted again",
        ),
        ("timebank.cap", "daily"): (
            ("cap", "used", "asked"),
            "每日最多存入 {cap} 分钟：当日已存 {used} 分钟，本次 {asked} 分钟超出",
            "at most {cap} min may be banked a day: {used} banked that day, {asked} more exceeds it",
        ),
        ("timebank.cap", "lifetime"): (
            ("cap", "used", "asked"),
            "每人累计最多存入 {cap} 分钟：已存 {used} 分钟，本次 {asked} 分钟超出",
            "at most {cap} min may be banked in all: {used} banked, {asked} more exceeds it",
        ),
        ("timebank.cap", "storage"): (
            ("cap", "used", "asked", "member"),
            "每个账户最多存储 {cap} 分钟：{member} 现有 {used} 分钟，再存 {asked} 分钟超出（超出部分可捐赠）",
            "an account holds at most {cap} min: {member} holds {used}, {asked} more exceeds it (the excess may be donated)",
        ),
        ("timebank.age", ""): (
            ("recipient", "age", "min"),
            "服务对象 {recipient} {age} 岁，未满 {min} 岁不能兑换",
            "{recipient} is {age}; service can be received from age {min}",
        ),
        ("timebank.age", "unknown"): (
            ("recipient", "min"),
            "服务对象 {recipient} 年龄未知，无法核实是否年满 {min} 岁",
            "{recipient}'s age is unknown, so age {min} cannot be checked",
        ),
        ("timebank.relation", "transfer"): (
            ("relation",),
            "本办法不允许转赠给{relation}",
            "this policy does not allow gifts to a {relation}",
        ),
        ("timebank.relation", "withdraw"): (
            ("relation",),
            "本办法不允许{relation}使用账户时间",
            "this policy does not let a {relation} receive service from the account",
        ),
        ("timebank.group", ""): (
            ("group",),
            "团体 {group} 的时间只能捐赠，须指明受赠人",
            "time of group {group} may only be donated: name the recipient",
        ),
    }
)


class Member(Protocol):
    """A person the time bank needs to know more of than an id (the recipient of a service).

    :class:`~zhiyuan.hours.Volunteer` is one.
    """

    @property
    def id(self) -> str:
        """The account id."""
        ...

    def age_on(self, day: date) -> int | None:
        """Full years of age on ``day``, or ``None`` when unknown."""
        ...


MemberRef = Member | str


def _id_of(member: object, field: str) -> str:
    """A member's account id: the text itself, or the ``id`` of a :class:`Member`."""
    if isinstance(member, str):
        mid: object = member
    elif callable(getattr(member, "age_on", None)):
        mid = getattr(member, "id", None)
    else:
        raise InvalidValue(
            field, member, "需要成员编号或成员 / need a member id (text) or a Member"
        )
    if not isinstance(mid, str) or not mid.strip():
        raise InvalidValue(field, mid, "成员编号不能为空 / a member id must be non-empty text")
    return text(field, mid)


def _age_of(member: object, day: date, field: str) -> int | None:
    """A recipient's age on ``day`` (``None``: unknown, as for a bare id)."""
    if isinstance(member, str):
        return None
    age = member.age_on(day)  # type: ignore[attr-defined]  # a Member, see _id_of
    if age is not None and (isinstance(age, bool) or not isinstance(age, int)):
        raise InvalidValue(field, age, "年龄须为整数 / an age is a whole number")
    return age


def _minutes(value: object) -> int:
    return _whole("minutes", value, 1, MAX_AMOUNT)


def _optional_text(field: str, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidValue(field, value, "不能为空 / must be non-empty text")
    return text(field, value)


def _reason(f: Finding) -> str:
    return f"{f.zh} / {f.en}"


def _postings_of(value: object) -> tuple[Posting, ...]:
    return items_of("postings", Posting, value)


def _findings_of(value: object) -> tuple[Finding, ...]:
    return items_of("findings", Finding, value)


_OPERATIONS = ("deposit", "withdraw", "transfer", "refund", "reverse_deposit")


def _operation(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    if value not in _OPERATIONS:
        raise InvalidValue(attribute.name, value, f"应为 / one of {', '.join(_OPERATIONS)}")


def _int(_: object, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidValue(attribute.name, value, "需要整数 / must be an integer")


def _positive(_: object, attribute: attrs.Attribute[int], value: int) -> None:
    _whole(attribute.name, value, 1, None)


@attrs.frozen(kw_only=True)
class TimeBankReceipt:
    """What one time-bank operation posted, and why (an explanation as data).

    ``operation`` is ``deposit``, ``withdraw``, ``transfer``, ``refund`` or
    ``reverse_deposit``; ``repeated`` is true when the operation was already recorded and nothing
    new was posted.

    Example:
        >>> r = TimeBankReceipt(id="d1", operation="deposit", postings=(), findings=())
        >>> r.minutes, r.repeated
        (0, False)
    """

    id: str = attrs.field(validator=non_empty)
    operation: str = attrs.field(validator=_operation)
    postings: tuple[Posting, ...] = attrs.field(converter=_postings_of)
    findings: tuple[Finding, ...] = attrs.field(converter=_findings_of)
    repeated: bool = attrs.field(default=False, validator=is_bool)

    @property
    def minutes(self) -> int:
        """The minutes the operation moved on the member's side: banked, redeemed, given,
        refunded or taken back (not the clearing, a donation or a debt paid on the way)."""
        return sum(
            p.amount
            for p in self.postings
            if p.kind not in (PostingKind.CLEAR, PostingKind.SETTLE)
            and not p.id.endswith("#donate")
        )

    def explain(self) -> str:
        """One line per finding, Chinese / English."""
        return "\n".join(_reason(f) for f in self.findings)


@attrs.frozen(kw_only=True)
class RegionPosition:
    """One bank's position, in minutes, folded from the postings.

    ``outstanding - owed == issued - redeemed`` always holds, and in account terms
    ``outstanding - owed == -(bank + served) + clearing``.

    Attributes:
        region: the bank's region code.
        issued: credits the bank issued (deposits), net of reversed deposits.
        redeemed: credits it issued that were redeemed, wherever (net of refunds).
        served: credits of any bank redeemed in this region (service received here).
        outstanding: credits it issued that are still held (its liability).
        clearing: the clearing balance: positive is owed to this region, negative owed by it.
        owed: what members owe it for reversed deposits whose credits they had already used.

    Example:
        >>> RegionPosition(region="370214001000", issued=90, redeemed=30, outstanding=60)
        RegionPosition(region='370214001000', issued=90, redeemed=30, served=0, outstanding=60, clearing=0, owed=0)
    """

    region: str = attrs.field(validator=non_empty)
    issued: int = attrs.field(default=0, validator=_int)
    redeemed: int = attrs.field(default=0, validator=_int)
    served: int = attrs.field(default=0, validator=_int)
    outstanding: int = attrs.field(default=0, validator=_int)
    clearing: int = attrs.field(default=0, validator=_int)
    owed: int = attrs.field(default=0, validator=_int)


@attrs.frozen(kw_only=True)
class Settlement:
    """Net credits one bank owes another for credits redeemed across regions (清算).

    Example:
        >>> print(Settlement(debtor="370214001000", creditor="370211001000", minutes=60))
        370214001000 应付 370211001000 60 分钟 / 370214001000 owes 370211001000 60 min
    """

    debtor: str = attrs.field(validator=non_empty)
    creditor: str = attrs.field(validator=non_empty)
    minutes: int = attrs.field(validator=_positive)

    def __str__(self) -> str:
        return (
            f"{self.debtor} 应付 {self.creditor} {self.minutes} 分钟 / "
            f"{self.debtor} owes {self.creditor} {self.minutes} min"
        )


class _Fold:
    """The time-bank view of a ledger's postings: lot origins, lots left, region totals, caps
    used and what members owe the banks."""

    __slots__ = (
        "by_id",
        "clearing",
        "daily",
        "debts",
        "deposited",
        "issued",
        "left",
        "origin",
        "redeemed",
        "served",
        "settle",
    )

    def __init__(self) -> None:
        self.by_id: dict[str, Posting] = {}
        self.origin: dict[str, str] = {}  # lot id → issuing bank
        self.left: dict[str, int] = {}  # lot id → minutes left (bank-issued lots only)
        self.issued: dict[str, int] = {}
        self.redeemed: dict[str, int] = {}
        self.served: dict[str, int] = {}
        self.clearing: dict[str, int] = {}
        self.settle: dict[tuple[str, str], int] = {}
        self.deposited: dict[str, int] = {}  # member → minutes banked from own service
        self.daily: dict[tuple[str, date], int] = {}
        self.debts: dict[tuple[str, str], int] = {}  # (member, bank) → minutes owed

    def apply(self, p: Posting) -> None:
        self.add(p)

    def add(self, p: Posting) -> None:
        self.by_id[p.id] = p
        source, target = p.source, p.target
        lot_origin = None
        if p.lot is not None and p.lot in self.left:
            self.left[p.lot] -= p.amount
            lot_origin = self.origin[p.lot]
        if target.startswith(VOLUNTEER_PREFIX):
            o: str | None = None
            if source.startswith(BANK_PREFIX):
                o = source[len(BANK_PREFIX) :]
                member = target[len(VOLUNTEER_PREFIX) :]
                _inc(self.issued, o, p.amount)
                _inc(self.deposited, member, p.amount)
                _inc(self.daily, (member, p.at.date()), p.amount)
            elif lot_origin is not None:
                o = lot_origin  # a gift keeps the issuing bank
            elif p.reverses is not None:  # a refund reopens the spent lot
                spent = self.by_id.get(p.reverses)
                if spent is not None and spent.lot is not None:
                    o = self.origin.get(spent.lot)
            if o is not None:
                self.origin[p.id] = o
                self.left[p.id] = p.amount
        elif target.startswith(SERVED_PREFIX):
            _inc(self.served, target[len(SERVED_PREFIX) :], p.amount)
            if lot_origin is not None:
                _inc(self.redeemed, lot_origin, p.amount)
        elif target.startswith(BANK_PREFIX) and p.reverses is not None:  # a deposit reversed
            bank = target[len(BANK_PREFIX) :]
            _inc(self.issued, bank, -p.amount)
            deposit = self.by_id.get(p.reverses)
            if deposit is not None and deposit.target.startswith(VOLUNTEER_PREFIX):
                member = deposit.target[len(VOLUNTEER_PREFIX) :]
                _inc(self.deposited, member, -p.amount)
                _inc(self.daily, (member, deposit.at.date()), -p.amount)
            if source.startswith(OWED_PREFIX):  # the part already used, now owed to the bank
                _inc(self.debts, (source[len(OWED_PREFIX) :], bank), p.amount)
        elif target.startswith(OWED_PREFIX) and lot_origin is not None:  # a debt paid
            _inc(self.debts, (target[len(OWED_PREFIX) :], lot_origin), -p.amount)
        if source.startswith(SERVED_PREFIX) and lot_origin is None:  # a refund of a redemption
            _inc(self.served, source[len(SERVED_PREFIX) :], -p.amount)
            spent = self.by_id.get(p.reverses or "")
            if spent is not None and spent.lot in self.origin:
                _inc(self.redeemed, self.origin[spent.lot], -p.amount)
        if source.startswith(CLEARING_PREFIX) and target.startswith(CLEARING_PREFIX):
            a, b = source[len(CLEARING_PREFIX) :], target[len(CLEARING_PREFIX) :]
            _inc(self.clearing, a, -p.amount)
            _inc(self.clearing, b, p.amount)
            if p.reverses is None:
                _inc(self.settle, (a, b), p.amount)
            else:  # a clearing taken back (a refund): the debt it made shrinks
                _inc(self.settle, (b, a), -p.amount)

    def outstanding(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for lot, n in self.left.items():
            _inc(out, self.origin[lot], n)
        return out

    def owed(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for (_, bank), n in self.debts.items():
            _inc(out, bank, n)
        return out

    def positions(self) -> dict[str, RegionPosition]:
        left = self.outstanding()
        owed = self.owed()
        regions = sorted({*self.issued, *self.served, *self.clearing, *left, *owed})
        return {
            r: RegionPosition(
                region=r,
                issued=self.issued.get(r, 0),
                redeemed=self.redeemed.get(r, 0),
                served=self.served.get(r, 0),
                outstanding=left.get(r, 0),
                clearing=self.clearing.get(r, 0),
                owed=owed.get(r, 0),
            )
            for r in regions
        }


register_state_type(_Fold)


K = TypeVar("K")


def _inc(d: dict[K, int], key: K, n: int) -> None:
    d[key] = d.get(key, 0) + n


def _fold(postings: Iterable[Posting], as_of: datetime | None) -> _Fold:
    f = _Fold()
    for p in postings:
        if as_of is None or p.at <= as_of:
            f.add(p)
    return f


def fold_positions(
    postings: Iterable[Posting], *, as_of: datetime | None = None
) -> dict[str, RegionPosition]:
    """Every bank's :class:`RegionPosition`, folded from the postings alone (up to ``as_of``).

    Example:
        >>> fold_positions([])
        {}
    """
    rows = items_of("postings", Posting, postings)
    return _fold(rows, None if as_of is None else moment(as_of, "as_of")).positions()


class TimeBank:
    """A time bank over a ledger of time credits and the region tree.

    Args:
        ledger: a :class:`~zhiyuan.credit.PointsLedger` with ``instrument="time_credits"``. Use
            it through the bank: postings made to it directly are folded in, but the caps and
            rules are only checked for the bank's own operations.
        tree: the region tree (bank regions, 通存通兑 scopes, roll-ups).
        policies: one policy or several (a :class:`~zhiyuan.schedule.Schedule`); each operation is
            judged by the one in force on its date (the latest ``effective_from`` on or before
            it; the earliest before that). Two taking effect on one day are refused.
    """

    def __init__(
        self,
        ledger: PointsLedger,
        tree: RegionTree,
        policies: TimeBankPolicy | Iterable[TimeBankPolicy] = (),
    ) -> None:
        if not isinstance(ledger, PointsLedger):
            raise InvalidValue("ledger", ledger, "需要 PointsLedger / need a PointsLedger")
        if ledger.instrument != INSTRUMENT:
            raise InvalidValue(
                "ledger",
                ledger.instrument,
                f"时间银行须用 {INSTRUMENT} 账本 / a time bank needs a {INSTRUMENT} ledger",
            )
        if not isinstance(tree, RegionTree):
            raise InvalidValue("tree", tree, "需要 RegionTree / need a RegionTree")
        schedule = Schedule(
            policies, kind=TimeBankPolicy, field="policies", default=TimeBankPolicy()
        )
        self.ledger = ledger
        self.journal = ledger.journal
        self.tree = tree
        self.policies: Schedule[TimeBankPolicy] = schedule
        self._lock = ledger._lock
        self._state = _Fold()
        self._bank_of: dict[tuple[str, Level | None], str] = {}
        self.name = f"{ledger.name}/timebank"
        # fold what is recorded (after a checkpoint, if one was saved), then every posting as
        # it is recorded
        self.journal._attach_view(self, ledger)

    def _state_key(self) -> str:
        return f"{__name__}.TimeBank:{__name__}._Fold:2"

    # --- policy and regions -------------------------------------------------------------------

    def policy_for(self, day: date) -> TimeBankPolicy:
        """The policy in force on ``day`` (a ``date``)."""
        return self.policies.on(day)

    def bank_of(self, region: object, *, day: date | None = None) -> str:
        """The 12-digit code of the bank that serves ``region`` (under the policy of ``day``).

        Example:
            >>> from zhiyuan.hierarchy import load_default
            >>> from zhiyuan.credit import TIMEBANK_PROFILES, PointsLedger
            >>> bank = TimeBank(PointsLedger(instrument="time_credits"), load_default(),
            ...                 TIMEBANK_PROFILES["qingdao"])
            >>> bank.bank_of("370214001001")
            '370214001000'
        """
        policy = self.policies[-1] if day is None else self.policy_for(day)
        return self._bank(region, policy.issuing_level)

    def _bank(self, region: object, level: Level | None) -> str:
        key = (region, level) if isinstance(region, str) else None
        if key is not None:
            hit = self._bank_of.get(key)
            if hit is not None:
                return hit
        # malformed → InvalidValue naming the region, absent → UnknownRegion
        code = self.tree[normalize_code(region, field="region")].code
        out = code if level is None else self._at_level(code, level, "region")
        if key is not None:
            self._bank_of[key] = out
        return out

    def _at_level(self, code: str, level: Level, field: str) -> str:
        have = self.tree.level(code)
        if have is level:
            return code
        if have < level:
            raise InvalidValue(
                field,
                code,
                f"须为{level.zh}或以下的区划 / need a region at or below the {level.value} level",
            )
        for a in self.tree.ancestors(code):
            if a.level is level:
                return a.code
        raise InvalidValue(
            field,
            code,
            f"树中没有其上级{level.zh}区划 / the tree has no {level.value} region above it",
        )

    def _same_scope(self, a: str, b: str, level: Level | None) -> bool:
        if a == b:
            return True
        if level is None:
            return False
        try:
            return self._at_level(a, level, "region") == self._at_level(b, level, "region")
        except InvalidValue:
            return False

    # --- the ledger ---------------------------------------------------------------------------

    def _existing(self, posting_id: str) -> Posting | None:
        found: Posting | None = self.journal.find(self.ledger.name, posting_id)
        return found

    # --- reading ------------------------------------------------------------------------------

    def balance(self, member_id: MemberRef) -> int:
        """A member's credits now, in minutes (``member_id``: an id or a :class:`Member`)."""
        return self.ledger.balance(volunteer_account(_id_of(member_id, "member_id")))

    def holdings(self, member_id: MemberRef) -> dict[str, int]:
        """A member's credits now by issuing bank, in minutes (sorted by code).

        Example:
            >>> from zhiyuan.hierarchy import load_default
            >>> from zhiyuan.credit import PointsLedger
            >>> TimeBank(PointsLedger(instrument="time_credits"), load_default()).holdings("v1")
            {}
        """
        mid = _id_of(member_id, "member_id")
        with self._lock:
            out: dict[str, int] = {}
            for lot in self.ledger.lots(mid):
                o = self._state.origin.get(lot.id)
                if o is not None:
                    _inc(out, o, lot.remaining)
            return dict(sorted(out.items()))

    def owed(self, member_id: MemberRef) -> dict[str, int]:
        """What a member owes each bank now, in minutes, for reversed deposits whose credits
        were already used (sorted by code; banks owed nothing are left out).

        Example:
            >>> from zhiyuan.hierarchy import load_default
            >>> from zhiyuan.credit import PointsLedger
            >>> TimeBank(PointsLedger(instrument="time_credits"), load_default()).owed("v1")
            {}
        """
        mid = _id_of(member_id, "member_id")
        with self._lock:
            return {
                bank: n for (who, bank), n in sorted(self._state.debts.items()) if who == mid and n
            }

    def positions(self, *, as_of: datetime | None = None) -> dict[str, RegionPosition]:
        """Every bank's :class:`RegionPosition` (at ``as_of``: a fold of the postings up to it)."""
        if as_of is None:
            with self._lock:
                return self._state.positions()
        return fold_positions(self.ledger.postings, as_of=as_of)

    def outstanding(self, *, as_of: datetime | None = None) -> dict[str, int]:
        """Outstanding credits (minutes) by issuing bank, not rolled up."""
        return {r: p.outstanding for r, p in self.positions(as_of=as_of).items() if p.issued}

    def liability(self, *, as_of: datetime | None = None) -> dict[str, int]:
        """Outstanding credits (minutes) by issuing bank, rolled up the tree (every ancestor)."""
        return self.tree.rollup(list(self.outstanding(as_of=as_of).items()))

    def settlement(self, *, as_of: datetime | None = None) -> list[Settlement]:
        """Who owes whom, net, for credits redeemed across regions (sorted by debtor, creditor)."""
        if as_of is None:
            with self._lock:
                gross = dict(self._state.settle)
        else:
            gross = _fold(self.ledger.postings, moment(as_of, "as_of")).settle
        out = []
        for a, b in sorted({tuple(sorted(k)) for k in gross}):
            net = gross.get((a, b), 0) - gross.get((b, a), 0)
            if net > 0:
                out.append(Settlement(debtor=a, creditor=b, minutes=net))
            elif net < 0:
                out.append(Settlement(debtor=b, creditor=a, minutes=-net))
        return sorted(out, key=lambda s: (s.debtor, s.creditor))

    # --- operations ---------------------------------------------------------------------------

    def deposit(
        self,
        id: str,
        volunteer: MemberRef,
        minutes: int,
        *,
        at: datetime | None = None,
        region: object,
        group: str | None = None,
        donate_to: MemberRef | None = None,
    ) -> TimeBankReceipt:
        """Bank ``minutes`` of service given by ``volunteer`` in ``region`` (存入).

        The bank of ``region`` issues the credits into the volunteer's account (a new lot). Time
        banked for a ``group`` (团体) under a donate-only policy must name ``donate_to``: it is
        banked to the volunteer and given on at once. ``donate_to`` without a group donates
        the time if the policy allows donations. Raises, posting nothing, when a daily, lifetime
        or storage cap would be exceeded. When the volunteer owes this bank for a reversed
        deposit (:meth:`reverse_deposit`) and keeps the time, the new credits pay that first
        (``<id>#settle``); the caps count the whole deposit.
        """
        return self._deposit(
            own_id(id, "id"),
            volunteer,
            minutes,
            at=at,
            region=region,
            group=group,
            donate_to=donate_to,
        )

    def _deposit(
        self,
        id: str,
        volunteer: MemberRef,
        minutes: int,
        *,
        at: datetime | None,
        region: object,
        group: str | None = None,
        donate_to: MemberRef | None = None,
    ) -> TimeBankReceipt:
        """:meth:`deposit` under an id already checked (the platform banks hours under ids it
        derives from record ids)."""
        when = self.ledger._when(at)
        m = _minutes(minutes)
        vid = _id_of(volunteer, "volunteer")
        to = None if donate_to is None else _id_of(donate_to, "donate_to")
        group = _optional_text("group", group)
        policy = self.policy_for(when.date())
        bank = self._bank(region, policy.issuing_level)
        if to == vid:
            raise InvalidValue("donate_to", to, "不能捐给自己 / cannot donate to oneself")
        forced = group is not None and policy.group_time_donate_only
        if forced and to is None:
            raise InvalidValue("donate_to", None, _reason(finding("timebank.group", (group,))))
        if to is not None and not forced and Relation.DONATION not in policy.transfer_relations:
            raise InvalidValue(
                "donate_to", to, _reason(finding("timebank.relation", ("捐赠",), "transfer"))
            )
        postings = [
            Posting(
                id=id,
                at=when,
                kind=PostingKind.EARN,
                source=bank_account(bank),
                target=volunteer_account(vid),
                amount=m,
                ref=group,
            )
        ]
        findings = [finding("timebank.deposit", (m, bank))]
        if to is not None:
            postings.append(
                Posting(
                    id=derive(id, "donate"),
                    at=when,
                    kind=PostingKind.TRANSFER,
                    source=volunteer_account(vid),
                    target=volunteer_account(to),
                    amount=m,
                    lot=id,
                    ref=id,
                    note="donation",
                )
            )
            findings.append(finding("timebank.donate", (m, to), "" if forced else "chosen"))
        with self.journal.transaction() as tx:
            done = [self._existing(p.id) for p in postings]
            if done[0] is not None:
                if at is None:  # a repeat without a moment: the recorded moment stands
                    postings = [attrs.evolve(p, at=done[0].at) for p in postings]
                if done != postings or (to is None and self._existing(derive(id, "donate"))):
                    raise Conflict(f"deposit id {id!r} is already used / 编号已被占用")
                settled = self._existing(derive(id, "settle"))
                return self._repeat(id, "deposit", [*postings, *([settled] if settled else [])])
            self._unused(id)
            settle = [] if to is not None else self._settling(vid, [(id, bank, m)], when)
            paid = sum(p.amount for p in settle)
            self._check_deposit(policy, vid, to or vid, m, when, paid)
            postings.extend(settle)
            findings.extend(finding("timebank.settle", (p.amount, bank)) for p in settle)
            tx.add(self.ledger, postings)
        return TimeBankReceipt(
            id=id, operation="deposit", postings=tuple(postings), findings=tuple(findings)
        )

    def _unused(self, id: str) -> None:
        """Conflict if ``id`` already names an operation (a deposit, or legs ``<id>#1`` …)."""
        if self._existing(id) is not None or self._existing(derive(id, 1)) is not None:
            raise Conflict(f"id {id!r} is already used / 编号已被占用")

    def _settling(
        self, vid: str, lots: Sequence[tuple[str, str, int]], when: datetime
    ) -> list[Posting]:
        """Postings paying what ``vid`` owes the banks from new ``lots`` (id, bank, minutes),
        each lot toward its own bank only (``<lot>#settle``)."""
        owes = {bank: n for (who, bank), n in self._state.debts.items() if who == vid and n > 0}
        out: list[Posting] = []
        for lot, bank, n in lots:
            take = min(owes.get(bank, 0), n)
            if take <= 0:
                continue
            owes[bank] -= take
            out.append(
                Posting(
                    id=derive(lot, "settle"),
                    at=when,
                    kind=PostingKind.SETTLE,
                    source=volunteer_account(vid),
                    target=owed_account(vid),
                    amount=take,
                    lot=lot,
                    ref=lot,
                )
            )
        return out

    def _check_deposit(
        self, policy: TimeBankPolicy, vid: str, holder: str, m: int, when: datetime, paid: int
    ) -> None:
        s = self._state
        cap = policy.cap_minutes(policy.daily_deposit_cap)
        used = s.daily.get((vid, when.date()), 0)
        if cap is not None and used + m > cap:
            raise InvalidValue(
                "minutes", m, _reason(finding("timebank.cap", (cap, used, m), "daily"))
            )
        cap = policy.cap_minutes(policy.lifetime_cap)
        used = s.deposited.get(vid, 0)
        if cap is not None and used + m > cap:
            raise InvalidValue(
                "minutes", m, _reason(finding("timebank.cap", (cap, used, m), "lifetime"))
            )
        self._check_storage(policy, holder, m - paid, m)

    def _check_storage(self, policy: TimeBankPolicy, holder: str, m: int, asked: int) -> None:
        """Refuse ``asked`` minutes when ``m`` more of them would overfill ``holder``'s account."""
        cap = policy.cap_minutes(policy.storage_cap)
        held = self.balance(holder)
        if cap is not None and m > 0 and held + m > cap:
            f = finding("timebank.cap", (cap, held, m, holder), "storage")
            raise InvalidValue("minutes", asked, _reason(f))

    def _repeat(self, id: str, operation: str, postings: Sequence[Posting]) -> TimeBankReceipt:
        return TimeBankReceipt(
            id=id,
            operation=operation,
            postings=tuple(postings),
            findings=(finding("timebank.repeat", (id,)),),
            repeated=True,
        )

    def _prior(self, id: str, *, clear: bool) -> list[Posting]:
        """The postings ``<id>#1``, ``<id>#2`` … (and their ``#clear`` postings) already made."""
        out: list[Posting] = []
        k = 1
        while (p := self._existing(derive(id, k))) is not None:
            out.append(p)
            if clear and (c := self._existing(derive(id, k, "clear"))) is not None:
                out.append(c)
            k += 1
        return out

    def withdraw(
        self,
        id: str,
        volunteer: MemberRef,
        minutes: int,
        *,
        at: datetime | None = None,
        region: object,
        recipient: MemberRef | None = None,
        relation: Relation | str | None = None,
    ) -> TimeBankReceipt:
        """Pay ``minutes`` of service received in ``region`` from ``volunteer``'s account (兑换).

        The service goes to the holder, or to ``recipient`` whose ``relation`` to the holder the
        policy allows (南京: spouse, direct relatives). Under an age rule the recipient must be
        a :class:`Member` of known age (a :class:`~zhiyuan.hours.Volunteer` with an ID number).
        Credits of the serving bank are used first, then, under 通存通兑, the oldest credits of
        other banks in scope, each cleared (legs ``<id>#<k>``, clearing ``<id>#<k>#clear``).
        Raises :class:`~zhiyuan.errors.InsufficientBalance` when the credits redeemable here are
        short. :meth:`refund` cancels a withdrawal.
        """
        own_id(id, "id")
        when = self.ledger._when(at)
        m = _minutes(minutes)
        vid = _id_of(volunteer, "volunteer")
        who: object = volunteer if recipient is None else recipient
        rid = _id_of(who, "recipient")
        rel = None if relation is None else _relation(relation)
        policy = self.policy_for(when.date())
        server = self._bank(region, policy.issuing_level)
        if rid == vid and rel is not None:
            raise InvalidValue(
                "relation",
                rel.value,
                "服务对象是本人，无需关系 / the recipient is the holder: name no relation",
            )
        if rid != vid:
            if rel is None:
                raise InvalidValue(
                    "relation", None, "服务对象非本人时须说明关系 / name the recipient's relation"
                )
            if rel not in policy.withdraw_relations:
                raise InvalidValue(
                    "relation",
                    rel.value,
                    _reason(finding("timebank.relation", (rel.zh,), "withdraw")),
                )
        if policy.min_withdrawal_age is not None:
            need = policy.min_withdrawal_age
            age = _age_of(who, when.date(), "recipient")
            if age is None:
                f = finding("timebank.age", (rid, need), "unknown")
                raise InvalidValue("recipient", rid, _reason(f))
            if age < need:
                raise InvalidValue(
                    "recipient", rid, _reason(finding("timebank.age", (rid, age, need)))
                )
        acct = volunteer_account(vid)
        with self.journal.transaction() as tx:
            done = self._prior(id, clear=True)
            if done:
                spent = [p for p in done if p.kind is not PostingKind.CLEAR]
                note = "" if rel is None else f"{rel.value}:{rid}"
                if (
                    sum(p.amount for p in spent) != m
                    or any(
                        (p.kind, p.source, p.target, p.note, p.at)
                        != (PostingKind.SPEND, acct, served_account(server), note, spent[0].at)
                        for p in spent
                    )
                    or (at is not None and spent[0].at != when)
                ):
                    raise Conflict(f"withdrawal id {id!r} is already used / 编号已被占用")
                return self._repeat(id, "withdraw", done)
            self._unused(id)
            plan = self._plan(vid, m, when, server, policy.exchange_level)
            postings: list[Posting] = []
            findings = [
                finding("timebank.withdraw", (m, server))
                if rel is None
                else finding("timebank.withdraw", (m, server, rid, rel.zh), "for")
            ]
            cleared: dict[str, int] = {}
            for k, (lot, origin, take) in enumerate(plan, start=1):
                postings.append(
                    Posting(
                        id=derive(id, k),
                        at=when,
                        kind=PostingKind.SPEND,
                        source=acct,
                        target=served_account(server),
                        amount=take,
                        lot=lot,
                        ref=id,
                        note="" if rel is None else f"{rel.value}:{rid}",
                    )
                )
                if origin != server:
                    postings.append(
                        Posting(
                            id=derive(id, k, "clear"),
                            at=when,
                            kind=PostingKind.CLEAR,
                            source=clearing_account(origin),
                            target=clearing_account(server),
                            amount=take,
                            ref=id,
                        )
                    )
                    _inc(cleared, origin, take)
            findings.extend(
                finding("timebank.clear", (n, origin, server)) for origin, n in cleared.items()
            )
            tx.add(self.ledger, postings)
        return TimeBankReceipt(
            id=id, operation="withdraw", postings=tuple(postings), findings=tuple(findings)
        )

    def _plan(
        self, vid: str, m: int, when: datetime, server: str, scope: Level | None
    ) -> list[tuple[str, str, int]]:
        """Lots to redeem at ``server``: its own credits first, then others in scope, oldest first."""
        own: list[tuple[str, str, int]] = []
        other: list[tuple[str, str, int]] = []
        origin = self._state.origin
        for lot in self.ledger.lots(vid):
            o = origin.get(lot.id)
            if o is None or not lot.available_on(when):
                continue
            if o == server:
                own.append((lot.id, o, lot.remaining))
            elif self._same_scope(o, server, scope):
                other.append((lot.id, o, lot.remaining))
        plan: list[tuple[str, str, int]] = []
        left = m
        for lot_id, o, n in own + other:
            if left == 0:
                break
            take = min(n, left)
            plan.append((lot_id, o, take))
            left -= take
        if left:
            raise InsufficientBalance(f"{volunteer_account(vid)} @ {server}", m, m - left)
        return plan

    def transfer(
        self,
        id: str,
        from_member: MemberRef,
        to_member: MemberRef,
        minutes: int,
        *,
        relation: Relation | str,
        at: datetime | None = None,
    ) -> TimeBankReceipt:
        """Give credits to another member (转赠), if the policy allows gifts to ``relation``.

        ``relation`` is what the receiver is to the giver (``parent``: the giver's parent;
        ``donation``: a needy elder or the platform). The oldest credits go first and keep their
        issuing bank. The receiver's storage cap applies.
        """
        own_id(id, "id")
        when = self.ledger._when(at)
        m = _minutes(minutes)
        src = _id_of(from_member, "from_member")
        dst = _id_of(to_member, "to_member")
        rel = _relation(relation)
        if src == dst:
            raise InvalidValue("to_member", dst, "不能转给自己 / cannot give to oneself")
        policy = self.policy_for(when.date())
        if rel not in policy.transfer_relations:
            raise InvalidValue(
                "relation", rel.value, _reason(finding("timebank.relation", (rel.zh,), "transfer"))
            )
        acct = volunteer_account(src)
        with self.journal.transaction() as tx:
            done = self._prior(id, clear=False)
            if done:
                if (
                    sum(p.amount for p in done) != m
                    or any(
                        (p.kind, p.source, p.target, p.note, p.at)
                        != (
                            PostingKind.TRANSFER,
                            acct,
                            volunteer_account(dst),
                            rel.value,
                            done[0].at,
                        )
                        for p in done
                    )
                    or (at is not None and done[0].at != when)
                ):
                    raise Conflict(f"transfer id {id!r} is already used / 编号已被占用")
                return self._repeat(id, "transfer", done)
            self._unused(id)
            self._check_storage(policy, dst, m, m)
            lots = [
                lot
                for lot in self.ledger.lots(src)
                if lot.id in self._state.origin and lot.available_on(when)
            ]
            have = sum(lot.remaining for lot in lots)
            if have < m:
                raise InsufficientBalance(acct, m, have)
            postings: list[Posting] = []
            left = m
            for lot in lots:
                if left == 0:
                    break
                take = min(lot.remaining, left)
                left -= take
                postings.append(
                    Posting(
                        id=derive(id, len(postings) + 1),
                        at=when,
                        kind=PostingKind.TRANSFER,
                        source=acct,
                        target=volunteer_account(dst),
                        amount=take,
                        lot=lot.id,
                        ref=id,
                        note=rel.value,
                        available_from=when,
                        expires_at=lot.expires_at,
                    )
                )
            tx.add(self.ledger, postings)
        f = finding("timebank.transfer", (m, dst, rel.zh))
        return TimeBankReceipt(id=id, operation="transfer", postings=tuple(postings), findings=(f,))

    # --- corrections --------------------------------------------------------------------------

    def refund(self, withdrawal_id: str, *, at: datetime | None = None) -> TimeBankReceipt:
        """Cancel a withdrawal (退还): its credits come back and its clearing is taken back.

        Each leg ``<w>#<k>`` is returned by ``<w>#<k>#refund``, which opens a lot again with the
        spent lot's issuing bank and dates (the posting :meth:`PointsLedger.refund
        <zhiyuan.credit.PointsLedger.refund>` makes), and each clearing ``<w>#<k>#clear`` is
        taken back by ``<w>#<k>#clear#refund``: the regions no longer owe each other for it. The
        credits returned pay first what the holder owes their bank for a reversed deposit
        (``<w>#<k>#refund#settle``). No cap applies: the credits were the holder's. Refunding
        again returns the recorded postings (``repeated``); at another ``at`` it is a
        :class:`~zhiyuan.errors.Conflict`. Legs refunded through the ledger alone keep their
        moment, and the clearing they left is taken back at it.
        """
        wid = own_id(withdrawal_id, "withdrawal_id")
        when = self.ledger._when(at)
        with self.journal.transaction() as tx:
            legs = self._prior(wid, clear=True)
            spends = [p for p in legs if p.kind is not PostingKind.CLEAR]
            if not spends:
                raise NotFound("withdrawal", wid)
            if any(
                p.kind is not PostingKind.SPEND
                or p.lot is None
                or not p.source.startswith(VOLUNTEER_PREFIX)
                or not p.target.startswith(SERVED_PREFIX)
                for p in spends
            ):
                raise InvalidValue(
                    "withdrawal_id", wid, "不是时间银行兑换 / not a time-bank withdrawal"
                )
            vid = spends[0].source[len(VOLUNTEER_PREFIX) :]
            before = {p.id: self._existing(derive(p.id, "refund")) for p in legs}
            recorded = [r for r in before.values() if r is not None]
            if recorded:
                when = recorded[0].at
                if at is not None and self.ledger._when(at) != when:
                    raise Conflict(
                        f"withdrawal {wid!r} was refunded at another moment / 已在其他时间退还"
                    )
            if when < spends[0].at:
                raise InvalidValue(
                    "at",
                    when.isoformat(),
                    "退还不能早于兑换 / a refund cannot come before the withdrawal",
                )
            fresh: list[Posting] = []
            lots: list[tuple[str, str, int]] = []
            for p in legs:
                if before[p.id] is not None:
                    continue
                rid = derive(p.id, "refund")
                if p.kind is PostingKind.CLEAR:
                    fresh.append(
                        Posting(
                            id=rid,
                            at=when,
                            kind=PostingKind.CLEAR,
                            source=p.target,
                            target=p.source,
                            amount=p.amount,
                            ref=p.ref,
                            reverses=p.id,
                        )
                    )
                    continue
                lot = self._existing(p.lot or "")
                if lot is None:  # pragma: no cover - a recorded spend names a recorded lot
                    raise NotFound("lot", p.lot)
                fresh.append(
                    Posting(
                        id=rid,
                        at=when,
                        kind=PostingKind.REFUND,
                        source=p.target,
                        target=p.source,
                        amount=p.amount,
                        ref=p.ref,
                        reverses=p.id,
                        available_from=lot.available_from or lot.at,
                        expires_at=lot.expires_at,
                    )
                )
                origin = self._state.origin.get(p.lot or "")
                if origin is not None:
                    lots.append((rid, origin, p.amount))
            if not fresh:
                settled = [self._existing(derive(r.id, "settle")) for r in recorded]
                return self._repeat(
                    wid, "refund", [*recorded, *(s for s in settled if s is not None)]
                )
            settle = self._settling(vid, lots, when)
            tx.add(self.ledger, [*fresh, *settle])
        out = [r for p in legs if (r := before[p.id]) is not None] + fresh
        minutes = sum(p.amount for p in out if p.kind is PostingKind.REFUND)
        findings = [finding("timebank.refund", (wid, minutes))]
        unclear: dict[tuple[str, str], int] = {}
        for p in out:
            if p.kind is PostingKind.CLEAR:  # clearing:server → clearing:issuer
                _inc(
                    unclear,
                    (p.target[len(CLEARING_PREFIX) :], p.source[len(CLEARING_PREFIX) :]),
                    p.amount,
                )
        findings.extend(
            finding("timebank.refund", (n, issuer, server), "clear")
            for (issuer, server), n in unclear.items()
        )
        bank_of_lot = {lot: bank for lot, bank, _ in lots}
        findings.extend(
            finding("timebank.settle", (p.amount, bank_of_lot[p.lot or ""])) for p in settle
        )
        return TimeBankReceipt(
            id=wid, operation="refund", postings=(*out, *settle), findings=tuple(findings)
        )

    def reverse_deposit(
        self, deposit_id: str, *, at: datetime | None = None, reason: str
    ) -> TimeBankReceipt:
        """Take back a deposit whose hours were revoked (冲销存入), as
        :meth:`PointsLedger.reverse_earning <zhiyuan.credit.PointsLedger.reverse_earning>` does
        with the ``debt`` rule.

        What is left of the deposit's credits goes back to its bank (``<deposit>#reverse``; from
        the receiver's account when the deposit was donated). What was already used (redeemed,
        given away, or paying an earlier debt) is taken from the volunteer's other available
        credits of the same bank, oldest first (``<deposit>#clawback#1`` …), and the rest is
        recorded as owed to that bank (``<deposit>#owed``, see :meth:`owed`), which the
        volunteer's next deposits with it, and refunds of its credits, pay first. Credits of
        other banks are never taken, so a correction makes no clearing; services already
        received, and their clearing, stand. The reversed deposit no longer counts as issued
        nor toward the volunteer's daily and lifetime caps, so a later deposit may bank what it
        used. ``reason`` (required text) is kept on every posting. Reversing again returns the
        recorded postings (``repeated``); with another reason or ``at`` it is a
        :class:`~zhiyuan.errors.Conflict`.

        Example:
            >>> from datetime import datetime
            >>> from zhiyuan import SHANGHAI
            >>> from zhiyuan.credit import PointsLedger
            >>> from zhiyuan.hierarchy import load_default
            >>> t = lambda d: datetime(2024, 5, d, 10, tzinfo=SHANGHAI)
            >>> bank = TimeBank(PointsLedger(instrument="time_credits"), load_default())
            >>> _ = bank.deposit("d1", "v1", 120, at=t(1), region="370214001001")
            >>> _ = bank.deposit("d2", "v1", 30, at=t(2), region="370214001001")
            >>> _ = bank.withdraw("w1", "v1", 100, at=t(3), region="370214001001")
            >>> r = bank.reverse_deposit("d1", at=t(4), reason="工时被撤销")
            >>> [(p.id, p.amount) for p in r.postings]
            [('d1#reverse', 20), ('d1#clawback#1', 30), ('d1#owed', 70)]
            >>> print(r.explain())
            冲销存入 d1（工时被撤销）：370214001001 发放的 120 分钟中，v1 账户余下的 20 分钟退回 / deposit d1 reversed (工时被撤销): of the 120 min issued by 370214001001, the 20 left in v1's account returned
            已用 100 分钟：从 v1 在 370214001001 的其他时间扣回 30 分钟，记欠 70 分钟 / 100 min already used: 30 taken back from v1's other credits of 370214001001, 70 recorded as owed to it
            >>> bank.balance("v1"), bank.owed("v1")
            (0, {'370214001001': 70})
            >>> [p.id for p in bank.deposit("d3", "v1", 90, at=t(5), region="370214001001").postings]
            ['d3', 'd3#settle']
            >>> bank.balance("v1"), bank.owed("v1")
            (20, {})
        """
        return self._reverse_deposit(own_id(deposit_id, "deposit_id"), at=at, reason=reason)

    def _reverse_deposit(self, did: str, *, at: datetime | None, reason: str) -> TimeBankReceipt:
        """:meth:`reverse_deposit` of a deposit id already checked (it may be derived)."""
        when = self.ledger._when(at)
        note = _optional_text("reason", reason)
        if note is None:
            raise InvalidValue("reason", None, "须说明冲销原因 / a reversal needs a reason")
        with self.journal.transaction() as tx:
            d = self._existing(did)
            if d is None:
                raise NotFound("deposit", did)
            if (
                d.kind is not PostingKind.EARN
                or d.lot is not None
                or not d.source.startswith(BANK_PREFIX)
                or not d.target.startswith(VOLUNTEER_PREFIX)
            ):
                raise InvalidValue("deposit_id", did, "不是时间银行存入 / not a time-bank deposit")
            prior = self._reversal_of(did)
            if prior:
                if any(p.note != note for p in prior) or (at is not None and prior[0].at != when):
                    raise Conflict(
                        f"deposit {did!r} is already reversed otherwise / 已按其他内容冲销"
                    )
                return self._repeat(did, "reverse_deposit", prior)
            if when < d.at:
                raise InvalidValue(
                    "at",
                    when.isoformat(),
                    "冲销不能早于存入 / a reversal cannot come before the deposit",
                )
            bank = d.source[len(BANK_PREFIX) :]
            vid = d.target[len(VOLUNTEER_PREFIX) :]
            gift = self._existing(derive(did, "donate"))
            held = gift if gift is not None and gift.lot == did else d
            left = max(self._state.left.get(held.id, 0), 0)
            used = held.amount - left
            postings: list[Posting] = []
            if left:
                postings.append(
                    Posting(
                        id=derive(did, "reverse"),
                        at=when,
                        kind=PostingKind.REVERSE,
                        source=held.target,
                        target=d.source,
                        amount=left,
                        lot=held.id,
                        reverses=did,
                        note=note,
                    )
                )
            taken = k = 0
            if used:
                for lot in self.ledger.lots(vid):
                    if taken == used:
                        break
                    if (
                        lot.id == held.id
                        or self._state.origin.get(lot.id) != bank
                        or not lot.available_on(when)
                    ):
                        continue
                    take = min(lot.remaining, used - taken)
                    taken += take
                    k += 1
                    postings.append(
                        Posting(
                            id=derive(did, "clawback", k),
                            at=when,
                            kind=PostingKind.CLAWBACK,
                            source=d.target,
                            target=d.source,
                            amount=take,
                            lot=lot.id,
                            reverses=did,
                            note=note,
                        )
                    )
                if used > taken:
                    postings.append(
                        Posting(
                            id=derive(did, "owed"),
                            at=when,
                            kind=PostingKind.CLAWBACK,
                            source=owed_account(vid),
                            target=d.source,
                            amount=used - taken,
                            reverses=did,
                            note=note,
                        )
                    )
            tx.add(self.ledger, postings)
        findings = [
            finding(
                "timebank.reverse",
                (did, note, d.amount, bank, left, held.target[len(VOLUNTEER_PREFIX) :]),
            )
            if left
            else finding("timebank.reverse", (did, note, d.amount, bank), "spent")
        ]
        if used:
            findings.append(
                finding("timebank.reverse", (used, taken, used - taken, vid, bank), "used")
            )
        return TimeBankReceipt(
            id=did, operation="reverse_deposit", postings=tuple(postings), findings=tuple(findings)
        )

    def _reversal_of(self, deposit_id: str) -> list[Posting]:
        """The postings of a deposit's reversal already recorded (none if not reversed)."""
        out: list[Posting] = []
        if (p := self._existing(derive(deposit_id, "reverse"))) is not None:
            out.append(p)
        k = 1
        while (p := self._existing(derive(deposit_id, "clawback", k))) is not None:
            out.append(p)
            k += 1
        if (p := self._existing(derive(deposit_id, "owed"))) is not None:
            out.append(p)
        return out
