"""The rules of a time bank (时间银行实施方案) as data: :class:`TimeBankPolicy` and the shipped
:data:`TIMEBANK_PROFILES`, with :class:`Relation` (who may receive gifts or service) and
:data:`DIRECT_RELATIVES`.

A :class:`~zhiyuan.credit.TimeBank` judges each operation by the policy in force on its date
(:mod:`zhiyuan.credit.timebank`); a :class:`~zhiyuan.platform.Platform` holds its time-bank
policies among its :class:`~zhiyuan.platform.Policies`.

References:
    POLICIES.md §3.1: 《南京市养老服务时间银行实施方案(试行)》 (2019) and the 鼓楼 branch rules (2018);
    上海 沪助养老时光汇《管理办法》; 《北京市养老服务时间银行实施方案(试行)》 (2022-06-01);
    《青岛市养老服务时间银行实施方案(试行)》 (2020-04-14). See :data:`TIMEBANK_PROFILES`.

Example:
    >>> nanjing = TIMEBANK_PROFILES["nanjing"]
    >>> nanjing.cap_minutes(nanjing.storage_cap), nanjing.min_withdrawal_age
    (90000, 60)
    >>> Relation.SPOUSE in nanjing.withdraw_relations, Relation.FRIEND in nanjing.transfer_relations
    (True, False)
"""

from __future__ import annotations

import enum
from datetime import date

import attrs

from zhiyuan._validators import (
    COUNT,
    bounded,
    is_bool,
    is_date,
    items,
    names,
    non_empty,
    to_enum,
)
from zhiyuan.credit.ledger import Timing
from zhiyuan.errors import InvalidValue
from zhiyuan.hierarchy.codes import Level
from zhiyuan.profiles import Profiles, Source, explain_policy, to_source

__all__ = [
    "DIRECT_RELATIVES",
    "TIMEBANK_PROFILES",
    "Relation",
    "TimeBankPolicy",
]


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
    except (ValueError, TypeError):
        known = ", ".join(r.value for r in Relation)
        raise InvalidValue(field, value, f"未知关系 / unknown relation (one of {known})") from None


def _relations(field: str, value: object) -> frozenset[Relation]:
    """A set of relations (one relation alone is taken as a set of one)."""
    if isinstance(value, (str, Relation)):
        value = (value,)
    return frozenset(_relation(v, field) for v in items(field, value))


def _transfer_relations(value: object) -> frozenset[Relation]:
    return _relations("transfer_relations", value)


def _withdraw_relations(value: object) -> frozenset[Relation]:
    return _relations("withdraw_relations", value)


def _level(field: str, value: object) -> Level | None:
    return None if value is None else to_enum(field, Level, value)


def _issuing_level(value: object) -> Level | None:
    return _level("issuing_level", value)


def _exchange_level(value: object) -> Level | None:
    return _level("exchange_level", value)


def _bank_hours(value: object) -> Timing | None:
    return None if value is None else to_enum("bank_hours", Timing, value)


def _bank_categories(value: object) -> frozenset[str] | None:
    return names("bank_categories", value)


def _opt_age(_: object, attribute: attrs.Attribute[int | None], value: int | None) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 150:
        raise InvalidValue(attribute.name, value, "年龄须为 0–150 的整数 / an age is 0 to 150")


def _whole(field: str, value: object, low: int, high: int | None) -> int:
    """An ``int`` (not a bool) from ``low`` to ``high`` (``None``: no upper bound)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < low
        or (high is not None and value > high)
    ):
        if high is None:
            reason = f"应为不小于 {low} 的整数 / a whole number, {low} or more"
        else:
            reason = f"应为 {low} 到 {high} 的整数 / a whole number, {low} to {high}"
        raise InvalidValue(field, value, reason)
    return value


@attrs.frozen(kw_only=True)
class TimeBankPolicy:
    """The rules of a time bank (时间银行实施方案), as data.

    Attributes:
        name: a label for reports.
        effective_from: the first day the policy applies.
        source: where the policy comes from (:class:`~zhiyuan.profiles.Source`): set on every
            shipped profile, ``None`` for a policy of your own.
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
        bank_hours: whether certified service hours are banked by themselves on a
            :class:`~zhiyuan.platform.Platform` (:class:`~zhiyuan.credit.Timing`: at once, or in
            the batch :meth:`~zhiyuan.platform.Platform.settle` runs); ``None`` (default): only
            deposits made by hand.
        bank_categories: the service categories whose hours are banked (养老 pilots bank only
            elderly care); ``None``: every category.
    """

    name: str = attrs.field(default="default", validator=non_empty)
    effective_from: date = attrs.field(default=date(2000, 1, 1), validator=is_date)
    source: Source | None = attrs.field(default=None, converter=to_source)
    minutes_per_credit: int = attrs.field(default=60, validator=bounded(1, 1440, "minutes"))
    daily_deposit_cap: int | None = attrs.field(
        default=None, validator=bounded(1, COUNT, "credits")
    )
    storage_cap: int | None = attrs.field(default=None, validator=bounded(1, COUNT, "credits"))
    lifetime_cap: int | None = attrs.field(default=None, validator=bounded(1, COUNT, "credits"))
    min_withdrawal_age: int | None = attrs.field(default=None, validator=_opt_age)
    transfer_relations: frozenset[Relation] = attrs.field(
        default=frozenset({Relation.SPOUSE, *DIRECT_RELATIVES}),
        converter=_transfer_relations,
    )
    withdraw_relations: frozenset[Relation] = attrs.field(
        factory=frozenset, converter=_withdraw_relations
    )
    group_time_donate_only: bool = attrs.field(default=False, validator=is_bool)
    issuing_level: Level | None = attrs.field(default=None, converter=_issuing_level)
    exchange_level: Level | None = attrs.field(default=None, converter=_exchange_level)
    bank_hours: Timing | None = attrs.field(default=None, converter=_bank_hours)
    bank_categories: frozenset[str] | None = attrs.field(default=None, converter=_bank_categories)

    def explain(self) -> str:
        """This policy in two lines, Chinese / English: name, first day in force, source."""
        return explain_policy(self, "时间银行规则", "time-bank policy")

    def banks(self, category: str) -> bool:
        """True if hours of ``category`` are banked by themselves under this policy.

        Example:
            >>> TimeBankPolicy(bank_hours="at_once", bank_categories=["养老"]).banks("养老")
            True
            >>> TimeBankPolicy().banks("养老")
            False
        """
        if self.bank_hours is None:
            return False
        return self.bank_categories is None or category in self.bank_categories

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
        if credits is None:
            return None
        return _whole("credits", credits, 0, COUNT) * self.minutes_per_credit

    def credits(self, minutes: int) -> tuple[int, int]:
        """Minutes as whole credits and the minutes left over.

        Example:
            >>> TimeBankPolicy().credits(150)
            (2, 30)
        """
        return divmod(_whole("minutes", minutes, 0, None), self.minutes_per_credit)


_SHANGHAI = TimeBankPolicy(
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
    source=Source(
        document="沪助养老时光汇《管理办法》",
        issuer="上观新闻（江苏文明网转载 / reprinted by 江苏文明网）",
        url="https://www.jswmb.cn/article/14627/78339.html",
        region_code="31",
        note="The platform dates from 2023 (the day is assumed). The caps of 2 coins a "
        "day and 600 per person (长宁 pilot) are in POLICIES.md's summary only, without a "
        "source (unverified).",
    ),
)
"""上海 (time coins, 长宁 pilot caps); its 2028 target below differs only in exchange."""


TIMEBANK_PROFILES: Profiles[TimeBankPolicy] = Profiles(
    {
        "default": TimeBankPolicy(
            source=Source(
                document="《志愿服务记录办法》",
                issuer="民政部",
                date=date(2012, 10, 23),
                clause="第二十二条",
                url="http://m.law-lib.com/law/law_view.asp?id=400061&page=2",
                verified=True,
                note="民函〔2012〕340号. Art. 22 encourages time savings (时间储蓄): free service up "
                "to the hours a volunteer has banked. The national texts set no time-bank "
                "numbers; the rest are the library's defaults (1 h = 1 credit, no caps, no age "
                "rule, gifts to spouse and direct relatives). Each code its own bank, no 通存通兑: "
                "the PKU report finds no cross-region transfers (POLICIES.md §3.1, reported). "
                "effective_from is the library's floor.",
            ),
        ),
        "nanjing": TimeBankPolicy(
            name="nanjing",
            effective_from=date(2019, 8, 30),
            storage_cap=1500,
            min_withdrawal_age=60,
            transfer_relations=frozenset({*DIRECT_RELATIVES, Relation.DONATION}),
            withdraw_relations=frozenset({Relation.SPOUSE, *DIRECT_RELATIVES}),
            group_time_donate_only=True,
            issuing_level=Level.CITY,
            source=Source(
                document="《南京市养老服务时间银行实施方案(试行)》",
                issuer="新华社",
                date=date(2019, 8, 30),
                url="http://www.isenbj.cn/e/action/ShowInfo.php?classid=14&id=108504",
                region_code="3201",
                note="The report's date is used as effective_from. Withdrawals by spouse and "
                "direct relatives, gifts and donations: the 鼓楼 branch rules (现代快报 2018-10-18, "
                "http://dz.xdkb.net/html/2018-10/18/content_495567.htm). The city fund: "
                "http://149690.pyocd.group/doc/7_0_106726829_2_0725111421.html ; the 1+9 "
                "standards and the renaming: http://zeichang.com/wenda/62175.html .",
            ),
        ),
        "shanghai": _SHANGHAI,
        "shanghai_2028": attrs.evolve(
            _SHANGHAI,
            name="shanghai_2028",
            effective_from=date(2028, 1, 1),
            exchange_level=Level.CITY,
            source=Source(
                document="沪助养老时光汇《管理办法》",
                issuer="上观新闻（江苏文明网转载 / reprinted by 江苏文明网）",
                url="https://www.jswmb.cn/article/14627/78339.html",
                note="The stated target of city-wide 通存通兑 by 2028: a target, not a rule in "
                "force (for simulations), so it names no region and for_region never returns it.",
            ),
        ),
        "beijing": TimeBankPolicy(
            name="beijing",
            effective_from=date(2022, 6, 1),
            min_withdrawal_age=60,
            transfer_relations=frozenset({Relation.PARENT, Relation.GRANDPARENT}),
            issuing_level=Level.CITY,
            source=Source(
                document="《北京市养老服务时间银行实施方案(试行)》",
                issuer="央视网",
                date=date(2022, 1, 20),
                url="http://www.tyjgjz.com/cn/Instant/municipal/202201/t20220120_7133389.html",
                region_code="11",
                note="In force from 2022-06-01 (as reported).",
            ),
        ),
        "qingdao": TimeBankPolicy(
            name="qingdao",
            effective_from=date(2020, 4, 14),
            min_withdrawal_age=60,
            transfer_relations=frozenset(),
            issuing_level=Level.TOWNSHIP,
            source=Source(
                document="《青岛市养老服务时间银行实施方案(试行)》",
                issuer="大众日报",
                date=date(2020, 4, 14),
                url="http://m.yanglaotiandi.com/nous/detail/1095",
                region_code="3702",
                note="City, district and street tiers; piloted in 西海岸 and 城阳. Gifts are not "
                "stated (none).",
            ),
        ),
        "qingdao_2021": TimeBankPolicy(
            name="qingdao_2021",
            effective_from=date(2021, 1, 1),
            min_withdrawal_age=60,
            transfer_relations=frozenset(),
            issuing_level=Level.TOWNSHIP,
            exchange_level=Level.CITY,
            source=Source(
                document="《青岛市养老服务时间银行实施方案(试行)》",
                issuer="大众日报",
                date=date(2020, 4, 14),
                url="http://m.yanglaotiandi.com/nous/detail/1095",
                note="City-wide 通存通兑, planned for 2021 (the day is assumed): a plan, not a rule "
                "known to be in force, so it names no region and for_region never returns it.",
            ),
        ),
    },
    kind=TimeBankPolicy,
    field="TIMEBANK_PROFILES",
)
"""Shipped time-bank policies (POLICIES.md §3.1; all but ``default`` from secondary reports),
each citing its source in ``source``:

- ``default``: 1 h = 1 credit, no caps, no age rule, gifts to spouse and direct relatives, each
  code its own bank, no 通存通兑; it follows 《志愿服务记录办法》 第二十二条 (时间储蓄).
- ``nanjing``: one city bank; an account holds at most 1,500 h; group time may only be donated;
  recipients 60+; withdrawals by the volunteer, spouse or direct relatives; gifts to direct
  relatives or donations to 失独/孤寡 elders (鼓楼 branch rules). Only services, never cash.
- ``shanghai``: 沪助养老时光汇. 1 h = 1 时间币; recipients 65+; gifts to friends and family or
  donations. District banks, no 通存通兑 yet. The caps of 2 coins a day and 600 per person are
  **not from POLICIES.md's full notes** (unverified).
- ``shanghai_2028``: the same with city-wide 通存通兑, the stated target "by 2028" (a target,
  not a rule; for simulations).
- ``beijing``: from 2022-06-01. One city-wide bank; redeem from age 60; gifts to parents and
  grandparents.
- ``qingdao``: street banks under district and city tiers (liability rolls up the tree);
  recipients 60+; gifts not stated (none).
- ``qingdao_2021``: the same with city-wide 通存通兑, planned for 2021 (the day is assumed).
"""
