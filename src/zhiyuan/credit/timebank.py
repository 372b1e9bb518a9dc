"""The time bank (时间银行): service given is banked as time credits, service received draws them.

A :class:`TimeBank` keeps its credits in a :class:`~zhiyuan.credit.PointsLedger` of instrument
``time_credits`` and judges every operation by the :class:`TimeBankPolicy` in force on its date.

Units:
    Ledger amounts are integer **minutes of time credit** (90 minutes of service bank 90), so
    nothing is ever rounded. ``minutes_per_credit`` (60: 1 h = 1 时间币) converts to credits for
    people and for the caps, which policies state in credits as the local texts do (南京 1,500 h,
    上海 2 a day and 600 in all).

Accounts (all strings, see :mod:`zhiyuan.credit.ledger`):
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

Every region's outstanding liability is the credits it issued minus the credits redeemed against
it, wherever they were redeemed; in account terms ``outstanding(R) = -(bank:R + served:R) +
clearing:R``. :meth:`TimeBank.liability` rolls it up the tree; :func:`fold_positions` computes it
from the postings alone.

Region codes are mapped to the bank that serves them: with ``issuing_level`` set (青岛: street
banks), a village code belongs to the bank of its street; without it, the code itself is the bank.
Credits can be redeemed at their issuing bank, and, where ``exchange_level`` is set (通存通兑), at
any bank within the same region of that level.

The bank folds its ledger's postings as they are recorded (a listener on the ledger's book), and
each operation records its postings in one journal transaction: all or none, before it returns.
Operation ids are the caller's (no ``#``); the postings are named from them (``d1``, ``d1#donate``,
``w1#1``, ``w1#1#clear``, ``g1#1``). Every operation validates everything first and records
nothing on error; the same operation id again returns the recorded postings; another operation
under a used id is a :class:`~zhiyuan.errors.Conflict`. Thread-safe.

References:
    POLICIES.md §3.1: 《南京市养老服务时间银行实施方案(试行)》 (2019) and the 鼓楼 branch rules (2018);
    上海 沪助养老时光汇《管理办法》; 《北京市养老服务时间银行实施方案(试行)》 (2022-06-01);
    《青岛市养老服务时间银行实施方案(试行)》 (2020-04-14). See :data:`TIMEBANK_PROFILES`.

Example:
    >>> from datetime import datetime
    >>> from zhiyuan._validators import SHANGHAI
    >>> from zhiyuan.credit import PointsLedger
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
"""

from __future__ import annotations

import bisect
import enum
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Protocol, TypeVar

import attrs

from zhiyuan._validators import COUNT, bounded, is_date, moment, non_empty
from zhiyuan.credit.ledger import PointsLedger, Posting, PostingKind, volunteer_account
from zhiyuan.errors import Conflict, InsufficientBalance, InvalidValue
from zhiyuan.explain import Finding, finding, register_messages
from zhiyuan.hierarchy.codes import Level
from zhiyuan.hierarchy.tree import RegionTree
from zhiyuan.journal._ids import derive, own_id
from zhiyuan.journal._pickle import register_state_type

__all__ = [
    "DIRECT_RELATIVES",
    "TIMEBANK_PROFILES",
    "Member",
    "RegionPosition",
    "Relation",
    "Settlement",
    "TimeBank",
    "TimeBankPolicy",
    "TimeBankReceipt",
    "bank_account",
    "clearing_account",
    "fold_positions",
    "served_account",
]

INSTRUMENT = "time_credits"

_BANK = "bank:"
_SERVED = "served:"
_CLEARING = "clearing:"
_VOLUNTEER = "volunteer:"


def bank_account(region_code: str) -> str:
    """The issuing account of a region's bank (``bank:<code>``)."""
    return _BANK + region_code


def served_account(region_code: str) -> str:
    """Where credits go when service is received in a region (``served:<code>``)."""
    return _SERVED + region_code


def clearing_account(region_code: str) -> str:
    """A region's clearing account for 通存通兑 (``clearing:<code>``)."""
    return _CLEARING + region_code


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


class Relation(enum.Enum):
    """Who the other person is to the account holder (for gifts and for service to relatives)."""

    SPOUSE = "spouse"
    """配偶."""
    PARENT = "parent"
    """父母 (直系亲属)."""
    CHILD = "child"
    """子女 (直系亲属)."""
    GRANDPARENT = "grandparent"
    """(外)祖父母 (直系亲属)."""
    GRANDCHILD = "grandchild"
    """(外)孙子女 (直系亲属)."""
    SIBLING = "sibling"
    """兄弟姐妹."""
    FRIEND = "friend"
    """朋友 (上海: coins may be given to friends)."""
    DONATION = "donation"
    """捐赠: to a needy elder (失独/孤寡), an elder-care body or the platform (for gifts only)."""

    @property
    def zh(self) -> str:
        """The Chinese name."""
        return _RELATION_ZH[self]


_RELATION_ZH = {
    Relation.SPOUSE: "配偶",
    Relation.PARENT: "父母",
    Relation.CHILD: "子女",
    Relation.GRANDPARENT: "祖父母",
    Relation.GRANDCHILD: "孙子女",
    Relation.SIBLING: "兄弟姐妹",
    Relation.FRIEND: "朋友",
    Relation.DONATION: "捐赠对象",
}

DIRECT_RELATIVES = frozenset(
    {Relation.PARENT, Relation.CHILD, Relation.GRANDPARENT, Relation.GRANDCHILD}
)
"""直系亲属: parents, children, grandparents, grandchildren."""


def _relation(value: object, field: str = "relation") -> Relation:
    if isinstance(value, Relation):
        return value
    try:
        return Relation(value)
    except ValueError:
        known = ", ".join(r.value for r in Relation)
        raise InvalidValue(field, value, f"未知关系 / unknown relation (one of {known})") from None


def _relations(value: object) -> frozenset[Relation]:
    if isinstance(value, (str, Relation)):
        value = (value,)
    if not isinstance(value, Iterable):
        raise InvalidValue("relations", value, "需要关系集合 / need a set of relations")
    return frozenset(_relation(v, "relations") for v in value)


def _opt_age(_: object, attribute: attrs.Attribute[int | None], value: int | None) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 150:
        raise InvalidValue(attribute.name, value, "年龄须为 0–150 的整数 / an age is 0 to 150")


@attrs.frozen(kw_only=True)
class TimeBankPolicy:
    """The rules of a time bank (时间银行实施方案), as data.

    Attributes:
        name: a label for reports.
        effective_from: the first day the policy applies.
        minutes_per_credit: minutes of service per credit (60: 1 h = 1 时间币). Ledger amounts are
            minutes; this converts them to credits and the caps below to minutes.
        daily_deposit_cap: credits a member may bank per calendar day (by deposit date).
        storage_cap: credits an account may hold at any time (南京 1,500), counting deposits,
            gifts and donations received; the excess must be donated.
        lifetime_cap: credits a member may bank in all from their own service (上海 600).
        min_withdrawal_age: the recipient of a service must be at least this old (北京 60,
            上海 65); ``None``: no age rule.
        transfer_relations: to whom credits may be given (:class:`Relation`; ``donation`` allows
            gifts to needy elders or the platform). Empty: no gifts.
        withdraw_relations: who besides the holder may receive service paid from the account
            (南京: spouse and direct relatives). Empty: the holder only.
        group_time_donate_only: time banked by a group (团体) may only be donated (南京).
        issuing_level: the level of the banks (青岛: street 街道 banks under district and city
            tiers); ``None``: the region code given is the bank.
        exchange_level: 通存通兑: credits may be redeemed at any bank within the same region of
            this level (青岛 2021: the city); ``None``: only at the issuing bank.
    """

    name: str = attrs.field(default="default", validator=non_empty)
    effective_from: date = attrs.field(default=date(2000, 1, 1), validator=is_date)
    minutes_per_credit: int = attrs.field(default=60, validator=bounded(1, 1440, "minutes"))
    daily_deposit_cap: int | None = attrs.field(
        default=None, validator=bounded(1, COUNT, "credits")
    )
    storage_cap: int | None = attrs.field(default=None, validator=bounded(1, COUNT, "credits"))
    lifetime_cap: int | None = attrs.field(default=None, validator=bounded(1, COUNT, "credits"))
    min_withdrawal_age: int | None = attrs.field(default=None, validator=_opt_age)
    transfer_relations: frozenset[Relation] = attrs.field(
        default=frozenset({Relation.SPOUSE, *DIRECT_RELATIVES}), converter=_relations
    )
    withdraw_relations: frozenset[Relation] = attrs.field(factory=frozenset, converter=_relations)
    group_time_donate_only: bool = False
    issuing_level: Level | None = None
    exchange_level: Level | None = None

    def __attrs_post_init__(self) -> None:
        if Relation.DONATION in self.withdraw_relations:
            raise InvalidValue(
                "withdraw_relations",
                "donation",
                "捐赠只用于转赠 / donation is for gifts, not for receiving service",
            )
        for field in ("issuing_level", "exchange_level"):
            value = getattr(self, field)
            if value is not None and not isinstance(value, Level):
                raise InvalidValue(field, value, "需要层级 / need a Level")
        if (
            self.issuing_level is not None
            and self.exchange_level is not None
            and self.exchange_level > self.issuing_level
        ):
            raise InvalidValue(
                "exchange_level",
                self.exchange_level.value,
                "通存通兑范围不能低于银行层级 / the exchange region cannot be below the banks",
            )

    def cap_minutes(self, credits: int | None) -> int | None:
        """A cap in credits as minutes (``None`` stays ``None``).

        Example:
            >>> TIMEBANK_PROFILES["nanjing"].cap_minutes(1500)
            90000
        """
        return None if credits is None else credits * self.minutes_per_credit

    def credits(self, minutes: int) -> tuple[int, int]:
        """Minutes as whole credits and the minutes left over.

        Example:
            >>> TimeBankPolicy().credits(150)
            (2, 30)
        """
        return divmod(minutes, self.minutes_per_credit)


TIMEBANK_PROFILES: dict[str, TimeBankPolicy] = {
    "default": TimeBankPolicy(),
    "nanjing": TimeBankPolicy(
        name="nanjing",
        effective_from=date(2019, 8, 30),
        storage_cap=1500,
        min_withdrawal_age=60,
        transfer_relations=frozenset({*DIRECT_RELATIVES, Relation.DONATION}),
        withdraw_relations=frozenset({Relation.SPOUSE, *DIRECT_RELATIVES}),
        group_time_donate_only=True,
        issuing_level=Level.CITY,
    ),
    "shanghai": TimeBankPolicy(
        name="shanghai",
        effective_from=date(2023, 1, 1),
        daily_deposit_cap=2,
        lifetime_cap=600,
        min_withdrawal_age=65,
        transfer_relations=frozenset(
            {
                Relation.SPOUSE,
                *DIRECT_RELATIVES,
                Relation.SIBLING,
                Relation.FRIEND,
                Relation.DONATION,
            }
        ),
        issuing_level=Level.COUNTY,
    ),
    "shanghai_2028": TimeBankPolicy(
        name="shanghai_2028",
        effective_from=date(2028, 1, 1),
        daily_deposit_cap=2,
        lifetime_cap=600,
        min_withdrawal_age=65,
        transfer_relations=frozenset(
            {
                Relation.SPOUSE,
                *DIRECT_RELATIVES,
                Relation.SIBLING,
                Relation.FRIEND,
                Relation.DONATION,
            }
        ),
        issuing_level=Level.COUNTY,
        exchange_level=Level.CITY,
    ),
    "beijing": TimeBankPolicy(
        name="beijing",
        effective_from=date(2022, 6, 1),
        min_withdrawal_age=60,
        transfer_relations=frozenset({Relation.PARENT, Relation.GRANDPARENT}),
        issuing_level=Level.CITY,
    ),
    "qingdao": TimeBankPolicy(
        name="qingdao",
        effective_from=date(2020, 4, 14),
        min_withdrawal_age=60,
        transfer_relations=frozenset(),
        issuing_level=Level.TOWNSHIP,
    ),
    "qingdao_2021": TimeBankPolicy(
        name="qingdao_2021",
        effective_from=date(2021, 1, 1),
        min_withdrawal_age=60,
        transfer_relations=frozenset(),
        issuing_level=Level.TOWNSHIP,
        exchange_level=Level.CITY,
    ),
}
"""Shipped time-bank policies (POLICIES.md §3.1; all sources are secondary reports):

- ``default``: 1 h = 1 credit, no caps, no age rule, gifts to spouse and direct relatives, each
  code its own bank, no 通存通兑 (the PKU report: no cross-region transfers).
- ``nanjing``: 《南京市养老服务时间银行实施方案(试行)》 (Xinhua 2019-08-30; the date is the report's).
  One city bank; an account holds at most 1,500 h; group time may only be donated; recipients
  60+; withdrawals by the volunteer, spouse or direct relatives; gifts to direct relatives or
  donations to 失独/孤寡 elders (鼓楼 branch rules, 现代快报 2018-10-18). Only services, never
  cash.
- ``shanghai``: 沪助养老时光汇《管理办法》 (上观/江苏文明网; platform since 2023, the day is
  assumed). 1 h = 1 时间币; recipients 65+; gifts to friends and family or donations. District
  banks, no 通存通兑 yet. The caps of 2 coins a day and 600 per person come from the brief,
  **not from POLICIES.md** (unverified).
- ``shanghai_2028``: the same with city-wide 通存通兑, the stated target "by 2028" (a target,
  not a rule; for simulations).
- ``beijing``: 《北京市养老服务时间银行实施方案(试行)》 (央视网 2022-01-20), from 2022-06-01. One
  city-wide bank; redeem from age 60; gifts to parents and grandparents.
- ``qingdao``: 《青岛市养老服务时间银行实施方案(试行)》 (2020-04-14, 大众日报). Street banks under
  district and city tiers (liability rolls up the tree); recipients 60+; gifts not stated (none).
- ``qingdao_2021``: the same with city-wide 通存通兑, planned for 2021 (the day is assumed).
"""


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


def _id_of(member: MemberRef, field: str) -> str:
    mid = member if isinstance(member, str) else member.id
    if not isinstance(mid, str) or not mid.strip():
        raise InvalidValue(field, mid, "成员编号不能为空 / a member id must not be empty")
    return mid


def _minutes(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidValue("minutes", value, "分钟数须为正整数 / minutes are a whole number > 0")
    return value


def _reason(f: Finding) -> str:
    return f"{f.zh} / {f.en}"


@attrs.frozen(kw_only=True)
class TimeBankReceipt:
    """What one time-bank operation posted, and why (an explanation as data).

    ``repeated`` is true when the id was already recorded and nothing new was posted.
    """

    id: str
    operation: str
    postings: tuple[Posting, ...]
    findings: tuple[Finding, ...]
    repeated: bool = False

    @property
    def minutes(self) -> int:
        """The minutes the operation moved (deposits and withdrawals by the member's side)."""
        return sum(
            p.amount
            for p in self.postings
            if p.kind is not PostingKind.CLEAR and not p.id.endswith("#donate")
        )

    def explain(self) -> str:
        """One line per finding, Chinese / English."""
        return "\n".join(_reason(f) for f in self.findings)


@attrs.frozen(kw_only=True)
class RegionPosition:
    """One bank's position, in minutes, folded from the postings.

    Attributes:
        region: the bank's region code.
        issued: credits the bank issued (deposits).
        redeemed: credits it issued that were redeemed, wherever.
        served: credits of any bank redeemed in this region (service received here).
        outstanding: credits it issued that are still held (its liability).
        clearing: the clearing balance: positive is owed to this region, negative owed by it.
    """

    region: str
    issued: int = 0
    redeemed: int = 0
    served: int = 0
    outstanding: int = 0
    clearing: int = 0


@attrs.frozen(kw_only=True)
class Settlement:
    """Net credits one bank owes another for credits redeemed across regions (清算)."""

    debtor: str
    creditor: str
    minutes: int

    def __str__(self) -> str:
        return (
            f"{self.debtor} 应付 {self.creditor} {self.minutes} 分钟 / "
            f"{self.debtor} owes {self.creditor} {self.minutes} min"
        )


class _Fold:
    """The time-bank view of a ledger's postings: lot origins, lots left, region totals."""

    __slots__ = (
        "by_id",
        "clearing",
        "daily",
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

    def apply(self, p: Posting) -> None:
        self.add(p)

    def add(self, p: Posting) -> None:
        self.by_id[p.id] = p
        lot_origin = None
        if p.lot is not None and p.lot in self.left:
            self.left[p.lot] -= p.amount
            lot_origin = self.origin[p.lot]
        if p.target.startswith(_VOLUNTEER):
            o: str | None = None
            if p.source.startswith(_BANK):
                o = p.source[len(_BANK) :]
                member = p.target[len(_VOLUNTEER) :]
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
        if p.target.startswith(_SERVED):
            _inc(self.served, p.target[len(_SERVED) :], p.amount)
            if lot_origin is not None:
                _inc(self.redeemed, lot_origin, p.amount)
        if p.source.startswith(_SERVED) and lot_origin is None:  # a refund of a redemption
            _inc(self.served, p.source[len(_SERVED) :], -p.amount)
            spent = self.by_id.get(p.reverses or "")
            if spent is not None and spent.lot in self.origin:
                _inc(self.redeemed, self.origin[spent.lot], -p.amount)
        if p.source.startswith(_CLEARING) and p.target.startswith(_CLEARING):
            a, b = p.source[len(_CLEARING) :], p.target[len(_CLEARING) :]
            _inc(self.clearing, a, -p.amount)
            _inc(self.clearing, b, p.amount)
            _inc(self.settle, (a, b), p.amount)

    def outstanding(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for lot, n in self.left.items():
            _inc(out, self.origin[lot], n)
        return out

    def positions(self) -> dict[str, RegionPosition]:
        left = self.outstanding()
        regions = sorted({*self.issued, *self.served, *self.clearing, *left})
        return {
            r: RegionPosition(
                region=r,
                issued=self.issued.get(r, 0),
                redeemed=self.redeemed.get(r, 0),
                served=self.served.get(r, 0),
                outstanding=left.get(r, 0),
                clearing=self.clearing.get(r, 0),
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
    return _fold(postings, None if as_of is None else moment(as_of, "as_of")).positions()


class TimeBank:
    """A time bank over a ledger of time credits and the region tree.

    Args:
        ledger: a :class:`~zhiyuan.credit.PointsLedger` with ``instrument="time_credits"``. Use
            it through the bank: postings made to it directly are folded in, but the caps and
            rules are only checked for the bank's own operations.
        tree: the region tree (bank regions, 通存通兑 scopes, roll-ups).
        policies: one policy or several; each operation is judged by the one in force on its
            date (the latest ``effective_from`` on or before it; the earliest before that).
    """

    def __init__(
        self,
        ledger: PointsLedger,
        tree: RegionTree,
        policies: TimeBankPolicy | Sequence[TimeBankPolicy] = (),
    ) -> None:
        if ledger.instrument != INSTRUMENT:
            raise InvalidValue(
                "ledger",
                ledger.instrument,
                f"时间银行须用 {INSTRUMENT} 账本 / a time bank needs a {INSTRUMENT} ledger",
            )
        if isinstance(policies, TimeBankPolicy):
            policies = (policies,)
        ordered = sorted(policies or (TimeBankPolicy(),), key=lambda p: p.effective_from)
        self.ledger = ledger
        self.journal = ledger.journal
        self.tree = tree
        self.policies: tuple[TimeBankPolicy, ...] = tuple(ordered)
        self._starts = [p.effective_from for p in ordered]
        self._lock = ledger._lock
        self._state = _Fold()
        self._bank_of: dict[tuple[str, Level | None], str] = {}
        self.name = f"{ledger.name}/timebank"
        # fold what is recorded (after a checkpoint, if one was saved), then every posting as
        # it is recorded
        self.journal._attach_view(self, ledger)

    def _state_key(self) -> str:
        return f"{__name__}.TimeBank:{__name__}._Fold:1"

    # --- policy and regions -------------------------------------------------------------------

    def policy_for(self, day: date) -> TimeBankPolicy:
        """The policy in force on ``day``."""
        i = bisect.bisect_right(self._starts, day) - 1
        return self.policies[max(i, 0)]

    def bank_of(self, region: object, *, day: date | None = None) -> str:
        """The 12-digit code of the bank that serves ``region`` (under the policy of ``day``).

        Example:
            >>> from zhiyuan.hierarchy import load_default
            >>> from zhiyuan.credit import PointsLedger
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
        code = self.tree[region].code  # malformed → InvalidValue, absent → UnknownRegion
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

    def balance(self, member_id: str) -> int:
        """A member's credits now, in minutes."""
        return self.ledger.balance(volunteer_account(member_id))

    def holdings(self, member_id: str) -> dict[str, int]:
        """A member's credits now by issuing bank, in minutes (sorted by code).

        Example:
            >>> from zhiyuan.hierarchy import load_default
            >>> from zhiyuan.credit import PointsLedger
            >>> TimeBank(PointsLedger(instrument="time_credits"), load_default()).holdings("v1")
            {}
        """
        with self._lock:
            out: dict[str, int] = {}
            for lot in self.ledger.lots(member_id):
                o = self._state.origin.get(lot.id)
                if o is not None:
                    _inc(out, o, lot.remaining)
            return dict(sorted(out.items()))

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
        or storage cap would be exceeded.
        """
        when = self.ledger._when(at)
        m = _minutes(minutes)
        vid = _id_of(volunteer, "volunteer")
        to = None if donate_to is None else _id_of(donate_to, "donate_to")
        own_id(id, "id")
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
            if any(d is not None for d in done):
                if at is None:  # a repeat without a moment: the recorded moment stands
                    postings = [
                        p if d is None else attrs.evolve(p, at=d.at)
                        for p, d in zip(postings, done, strict=True)
                    ]
                if done != postings:
                    raise Conflict(f"deposit id {id!r} is already used / 编号已被占用")
                return self._repeat(id, "deposit", postings)
            self._check_deposit(policy, vid, to or vid, m, when)
            tx.add(self.ledger, postings)
        return TimeBankReceipt(
            id=id, operation="deposit", postings=tuple(postings), findings=tuple(findings)
        )

    def _check_deposit(
        self, policy: TimeBankPolicy, vid: str, holder: str, m: int, when: datetime
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
        self._check_storage(policy, holder, m)

    def _check_storage(self, policy: TimeBankPolicy, holder: str, m: int) -> None:
        cap = policy.cap_minutes(policy.storage_cap)
        held = self.balance(holder)
        if cap is not None and held + m > cap:
            raise InvalidValue(
                "minutes", m, _reason(finding("timebank.cap", (cap, held, m, holder), "storage"))
            )

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
        other banks in scope, each cleared (``clear`` postings ``<id>:<k>:clear``). Raises
        :class:`~zhiyuan.errors.InsufficientBalance` when the credits redeemable here are short.
        """
        when = self.ledger._when(at)
        own_id(id, "id")
        m = _minutes(minutes)
        vid = _id_of(volunteer, "volunteer")
        who: MemberRef = volunteer if recipient is None else recipient
        rid = _id_of(who, "recipient")
        policy = self.policy_for(when.date())
        server = self._bank(region, policy.issuing_level)
        rel: Relation | None = None
        if rid != vid:
            if relation is None:
                raise InvalidValue(
                    "relation", None, "服务对象非本人时须说明关系 / name the recipient's relation"
                )
            rel = _relation(relation)
            if rel not in policy.withdraw_relations:
                raise InvalidValue(
                    "relation",
                    rel.value,
                    _reason(finding("timebank.relation", (rel.zh,), "withdraw")),
                )
        if policy.min_withdrawal_age is not None:
            need = policy.min_withdrawal_age
            age = None if isinstance(who, str) else who.age_on(when.date())
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
                if (
                    sum(p.amount for p in spent) != m
                    or any(p.source != acct or p.target != served_account(server) for p in spent)
                    or (at is not None and spent[0].at != when)
                ):
                    raise Conflict(f"withdrawal id {id!r} is already used / 编号已被占用")
                return self._repeat(id, "withdraw", done)
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
        when = self.ledger._when(at)
        own_id(id, "id")
        m = _minutes(minutes)
        src = _id_of(from_member, "from_member")
        dst = _id_of(to_member, "to_member")
        if src == dst:
            raise InvalidValue("to_member", dst, "不能转给自己 / cannot give to oneself")
        rel = _relation(relation)
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
                    or any(p.source != acct or p.target != volunteer_account(dst) for p in done)
                    or (at is not None and done[0].at != when)
                ):
                    raise Conflict(f"transfer id {id!r} is already used / 编号已被占用")
                return self._repeat(id, "transfer", done)
            self._check_storage(policy, dst, m)
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
