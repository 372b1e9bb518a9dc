"""Redemption (积分兑换): the order book that spends points on the items of a catalog.

:class:`Redemptions` is the order book over one :class:`~zhiyuan.credit.ledger.PointsLedger` and
one :class:`~zhiyuan.credit.Catalog` of :class:`~zhiyuan.credit.Item` values
(:mod:`zhiyuan.credit.catalog`). Its facts are immutable entries, :class:`Reserved`,
:class:`Fulfilled` and :class:`Cancelled`; an :class:`Order`'s state (reserved → fulfilled |
cancelled) is a fold of them (:func:`fold_orders`). Reserving spends the points at once (the
ledger's ``spend`` with the order id as id, one posting per lot) and holds the stock; fulfilling
hands the goods over; cancelling returns the points by reversal postings (the ledger's
``refund``, each lot restored with its own dates) and the stock. A fulfilled order is final (黄山: redemption is irreversible).
Points are not hours: nothing here touches hours (海林, 黄山: hours are kept after redemption).

``reserve`` checks, in this order, and raises with nothing posted and no stock held:

1. the item and the volunteer exist (:class:`~zhiyuan.errors.NotFound`);
2. the volunteer is eligible: the star level held at ``at`` (郑州: star certification is the
   basis of redemption; 黄山: some items need a star certificate) and the home region within the
   item's region (:class:`~zhiyuan.errors.PermissionDenied`: the request is well formed, the
   volunteer is not entitled to it; the message names every condition that is missing);
3. the per-person limit of the item in the period of ``at``, counted in units, and the book's
   limit, counted in orders (海林: once per quarter) (:class:`~zhiyuan.errors.Conflict`, naming
   the period, the limit and what is already taken);
4. the stock (:class:`~zhiyuan.errors.InsufficientBalance` on ``stock:<item id>``,
   :func:`~zhiyuan.credit.stock_account`);
5. the points (:class:`~zhiyuan.errors.InsufficientBalance` from the ledger).

Periods are calendar periods in Asia/Shanghai (a quarter ends at 24:00 on 31 March, 30 June, 30
September and 31 December there). Cancelled orders do not count toward limits; reserved and
fulfilled ones do. Limits and stock are judged against the orders as they stand when the call is
made (an order cancelled since no longer counts, whatever ``at`` says); fulfilling or cancelling
before the order was placed is refused. Every operation is idempotent by order id: the same call
(same arguments, same ``at``) again returns the order as it stands; another call under a used id
is a :class:`~zhiyuan.errors.Conflict`. The book is thread-safe: concurrent reservations never
oversell stock or overspend points.

Example (青岛西海岸: 44 points buy 2 umbrellas):
    >>> from datetime import date, datetime
    >>> from zhiyuan import SHANGHAI
    >>> from zhiyuan.credit import PointsLedger
    >>> from zhiyuan.hours import Volunteer
    >>> t = lambda m, d: datetime(2025, m, d, 10, tzinfo=SHANGHAI)
    >>> ledger = PointsLedger()
    >>> _ = ledger.earn("e1", "v1", 50, at=t(1, 2), issuer="issuer:黄岛区")
    >>> catalog = Catalog([Item(id="umbrella", name="雨伞", price=22, stock=10,
    ...                         limit=2, period="quarter")])
    >>> people = {"v1": Volunteer(id="v1", name="王芳", home_region="370211",
    ...                           registered_on=date(2020, 1, 1))}
    >>> book = Redemptions(ledger, catalog, volunteers=people)
    >>> order = book.reserve("o1", "v1", "umbrella", 2, at=t(3, 1))
    >>> order.points, order.state.value, book.stock_left("umbrella")
    (44, 'reserved', 8)
    >>> ledger.available("v1", as_of=t(3, 2))
    6
    >>> book.reserve("o2", "v1", "umbrella", 1, at=t(3, 31))
    Traceback (most recent call last):
    ...
    zhiyuan.errors.Conflict: v1 × umbrella: [redeem.limit] 每人每季度限兑 2 件：该季度已兑 2 件，本次 1 件 / at most 2 per person per quarter: 2 already that quarter, 1 more asked
    >>> book.cancel("o1", at=t(3, 2), reason="不要了").state.value
    'cancelled'
    >>> ledger.available("v1", as_of=t(3, 3)), book.stock_left("umbrella"), ledger.total()
    (50, 10, 0)
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

import attrs

from zhiyuan._validators import (
    SHANGHAI,
    arg_of,
    aware,
    key,
    non_empty,
    positive,
    to_shanghai,
)
from zhiyuan.convert import register_tagged_union
from zhiyuan.credit.accounts import stock_account
from zhiyuan.credit.catalog import Catalog, Item, Period, _period
from zhiyuan.credit.ledger import PointsLedger
from zhiyuan.errors import (
    Conflict,
    InsufficientBalance,
    InvalidValue,
    NotFound,
    PermissionDenied,
    UnknownRegion,
)
from zhiyuan.explain import Finding, finding, register_messages
from zhiyuan.hierarchy.codes import RegionCode
from zhiyuan.hierarchy.tree import RegionTree
from zhiyuan.hierarchy.zones import Zone
from zhiyuan.hours.volunteers import Volunteer
from zhiyuan.journal import Book
from zhiyuan.journal._ids import derive, own_id
from zhiyuan.journal._pickle import register_state_type

__all__ = [
    "Cancelled",
    "Fulfilled",
    "Order",
    "OrderEntry",
    "OrderState",
    "Redemptions",
    "Reserved",
    "StarLevels",
    "Tally",
    "fold_orders",
]


_PERIOD_WORDS: dict[Period, tuple[str, str, str, str]] = {
    # per (zh), that period (zh), per (en), that period (en)
    Period.DAY: ("每日", "当日", " per day", " that day"),
    Period.MONTH: ("每月", "该月", " per month", " that month"),
    Period.QUARTER: ("每季度", "该季度", " per quarter", " that quarter"),
    Period.YEAR: ("每年", "该年", " per year", " that year"),
    Period.LIFETIME: ("", "累计", " (lifetime)", ""),
}

register_messages(
    {
        ("redeem.star", ""): (
            ("need", "held"),
            "须持有{need}星级志愿者认证，现为{held}星",
            "needs a {need}-star volunteer certificate; holds {held} stars",
        ),
        ("redeem.region", ""): (
            ("within", "home"),
            "仅限{within}辖区的志愿者，常住地{home}不在其内",
            "only for volunteers of region {within}; home region {home} is outside it",
        ),
        ("redeem.stock", ""): (
            ("left", "asked"),
            "库存{left}件，不足{asked}件",
            "{left} in stock, {asked} asked",
        ),
        ("redeem.points", ""): (
            ("available", "needed"),
            "可用积分{available}分，需要{needed}分",
            "{available} points available, {needed} needed",
        ),
        **{
            ("redeem.limit", p.value): (
                ("limit", "used", "asked"),
                f"每人{zh_per}限兑 {{limit}} 件：{zh_that}已兑 {{used}} 件，本次 {{asked}} 件",
                f"at most {{limit}} per person{en_per}: {{used}} already{en_that}, "
                "{asked} more asked",
            )
            for p, (zh_per, zh_that, en_per, en_that) in _PERIOD_WORDS.items()
        },
        **{
            ("redeem.orders", p.value): (
                ("limit", "used"),
                f"每人{zh_per}限兑换 {{limit}} 次：{zh_that}已兑换 {{used}} 次",
                f"at most {{limit}} redemptions per person{en_per}: {{used}} already{en_that}",
            )
            for p, (zh_per, zh_that, en_per, en_that) in _PERIOD_WORDS.items()
        },
    }
)


# --- entries and orders ----------------------------------------------------------------------


class OrderState(enum.Enum):
    """Where an order stands."""

    RESERVED = "reserved"
    """已下单: points spent, stock held, goods not yet handed over."""
    FULFILLED = "fulfilled"
    """已兑付: goods handed over; final."""
    CANCELLED = "cancelled"
    """已取消: points refunded, stock returned."""


def _names(_: object, attribute: attrs.Attribute[Any], value: tuple[str, ...]) -> None:
    if not isinstance(value, tuple) or not all(isinstance(v, str) and v for v in value):
        raise InvalidValue(attribute.name, value, "需要编号元组 / need a tuple of ids")


@attrs.frozen(kw_only=True)
class Reserved:
    """An order placed (下单): the points were spent by ``postings`` and the units held.

    ``unit_price`` and ``home_region`` are as they were at ``at`` (reports use them, so a later
    move of the volunteer does not move past redemptions).
    """

    order_id: str = attrs.field(validator=non_empty)
    volunteer_id: str = attrs.field(validator=non_empty)
    item_id: str = attrs.field(validator=non_empty)
    quantity: int = attrs.field(validator=positive)
    unit_price: int = attrs.field(validator=positive)
    home_region: str = attrs.field(validator=non_empty)
    at: datetime = attrs.field(converter=to_shanghai, validator=aware)
    postings: tuple[str, ...] = attrs.field(default=(), validator=_names)

    @property
    def points(self) -> int:
        """``quantity × unit_price``."""
        return self.quantity * self.unit_price

    @property
    def id(self) -> str:
        """The order id."""
        return self.order_id


@attrs.frozen(kw_only=True)
class Fulfilled:
    """The goods were handed over (兑付)."""

    order_id: str = attrs.field(validator=non_empty)
    at: datetime = attrs.field(converter=to_shanghai, validator=aware)

    @property
    def id(self) -> str:
        """``<order id>#fulfill``."""
        return derive(self.order_id, "fulfill")


@attrs.frozen(kw_only=True)
class Cancelled:
    """The order was cancelled (取消): ``postings`` refunded the points, the units came back."""

    order_id: str = attrs.field(validator=non_empty)
    at: datetime = attrs.field(converter=to_shanghai, validator=aware)
    reason: str = attrs.field(validator=non_empty)
    postings: tuple[str, ...] = attrs.field(default=(), validator=_names)

    @property
    def id(self) -> str:
        """``<order id>#cancel``."""
        return derive(self.order_id, "cancel")


OrderEntry = Reserved | Fulfilled | Cancelled
"""One fact of the order book."""

register_tagged_union(
    OrderEntry,
    {Reserved: "orders.reserved", Fulfilled: "orders.fulfilled", Cancelled: "orders.cancelled"},
)


@attrs.frozen(kw_only=True)
class Order:
    """An order as it stands at a moment: a fold of its entries."""

    id: str
    volunteer_id: str
    item_id: str
    quantity: int
    unit_price: int
    home_region: str
    reserved_at: datetime
    state: OrderState
    fulfilled_at: datetime | None = None
    cancelled_at: datetime | None = None
    reason: str | None = None
    spent: tuple[str, ...] = ()
    """The ids of the spend postings."""
    refunded: tuple[str, ...] = ()
    """The ids of the refund postings (after a cancellation)."""

    @property
    def points(self) -> int:
        """The points the order costs: ``quantity × unit_price``."""
        return self.quantity * self.unit_price

    @property
    def active(self) -> bool:
        """Reserved or fulfilled: it holds points and stock and counts toward limits."""
        return self.state is not OrderState.CANCELLED


def _step(orders: dict[str, Order], entry: OrderEntry) -> None:
    """Apply one entry to the orders (the fold's step); raises on an impossible sequence."""
    if isinstance(entry, Reserved):
        if entry.order_id in orders:
            raise Conflict(f"order {entry.order_id!r} is reserved twice / 订单重复")
        orders[entry.order_id] = Order(
            id=entry.order_id,
            volunteer_id=entry.volunteer_id,
            item_id=entry.item_id,
            quantity=entry.quantity,
            unit_price=entry.unit_price,
            home_region=entry.home_region,
            reserved_at=entry.at,
            state=OrderState.RESERVED,
            spent=entry.postings,
        )
        return
    order = orders.get(entry.order_id)
    if order is None:
        raise NotFound("order", entry.order_id)
    if order.state is not OrderState.RESERVED:
        raise Conflict(
            f"order {order.id!r} is already {order.state.value} / 订单已{_STATE_ZH[order.state]}"
        )
    if isinstance(entry, Fulfilled):
        orders[order.id] = attrs.evolve(order, state=OrderState.FULFILLED, fulfilled_at=entry.at)
    else:
        orders[order.id] = attrs.evolve(
            order,
            state=OrderState.CANCELLED,
            cancelled_at=entry.at,
            reason=entry.reason,
            refunded=entry.postings,
        )


_STATE_ZH = {
    OrderState.RESERVED: "下单",
    OrderState.FULFILLED: "兑付",
    OrderState.CANCELLED: "取消",
}


def fold_orders(
    entries: Iterable[OrderEntry], *, as_of: datetime | None = None
) -> dict[str, Order]:
    """Every order by id, folded from the entries (up to ``as_of``, if given).

    Example:
        >>> from datetime import datetime
        >>> from zhiyuan import SHANGHAI
        >>> t = lambda d: datetime(2025, 4, d, tzinfo=SHANGHAI)
        >>> entries = [Reserved(order_id="o1", volunteer_id="v1", item_id="u", quantity=2,
        ...                     unit_price=22, home_region="370211000000", at=t(1)),
        ...            Fulfilled(order_id="o1", at=t(3))]
        >>> fold_orders(entries, as_of=t(2))["o1"].state, fold_orders(entries)["o1"].state
        (<OrderState.RESERVED: 'reserved'>, <OrderState.FULFILLED: 'fulfilled'>)
    """
    when = None if as_of is None else _aware("as_of", as_of)
    state = _OrdersState()
    for entry in entries:
        if when is None or entry.at <= when:
            state.apply(entry)
    return state.orders


class _OrdersState:
    """The folded order book: orders by id, each volunteer's orders, units held per item."""

    __slots__ = ("by_volunteer", "held", "orders", "reserved")

    def __init__(self) -> None:
        self.orders: dict[str, Order] = {}
        self.reserved: dict[str, Reserved] = {}
        self.by_volunteer: dict[str, list[str]] = {}
        self.held: dict[str, int] = {}  # item id → units held by active orders

    def apply(self, entry: OrderEntry) -> None:
        _step(self.orders, entry)
        if isinstance(entry, Reserved):
            self.reserved[entry.order_id] = entry
            self.by_volunteer.setdefault(entry.volunteer_id, []).append(entry.order_id)
            self.held[entry.item_id] = self.held.get(entry.item_id, 0) + entry.quantity
        elif isinstance(entry, Cancelled):
            res = self.reserved[entry.order_id]
            self.held[res.item_id] -= res.quantity


@attrs.frozen(kw_only=True)
class Tally:
    """What was redeemed: ``orders``, ``units`` and ``points`` of the active orders."""

    orders: int = 0
    units: int = 0
    points: int = 0


# --- the order book --------------------------------------------------------------------------


@runtime_checkable
class StarLevels(Protocol):
    """Anything with a star ``level`` by volunteer and moment, such as a
    :class:`~zhiyuan.scoring.StarBook`."""

    def level(self, volunteer_id: str, *, as_of: datetime) -> int:
        """The star level held at ``as_of``."""
        ...


def _aware(name: str, at: object) -> datetime:
    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise InvalidValue(name, str(at), "需要带时区的时间 / need an aware datetime")
    return at.astimezone(SHANGHAI)


def _text(name: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidValue(name, value, "不能为空 / must not be empty")
    return value


register_state_type(_OrdersState)


class Redemptions(Book[OrderEntry, _OrdersState]):
    """The order book of one catalog over one points ledger (兑换订单).

    The book and its ledger share one journal: an order and the points it spends (or refunds)
    are recorded in one transaction, all or nothing.

    Args:
        ledger: where points are spent and refunded.
        catalog: the items.
        volunteers: the volunteers by id: a mapping, or a lookup such as
            :meth:`zhiyuan.hours.HourLedger.volunteer` (``KeyError`` or ``NotFound`` for unknown).
        level_of: the star level a volunteer holds at a moment, ``(volunteer_id, at) -> int``,
            or an object with ``level(volunteer_id, *, as_of)`` such as a
            :class:`~zhiyuan.scoring.StarBook`; ``None``: nobody holds stars.
        tree: the region tree for items with ``within``; without one, a region is within
            another when its code lies under it (the code structure). With one, a home region
            missing from the tree is judged by its code as well.
        limit: at most this many orders per person per ``period`` across the whole catalog
            (海林: ``limit=1, period="quarter"``); given together or not at all.
        period: see ``limit``.
        account: where spent points go.
        name: the book's name in the journal (default ``orders``).
    """

    kind = "orders"
    entry_type = OrderEntry

    def __init__(
        self,
        ledger: PointsLedger,
        catalog: Catalog,
        *,
        volunteers: Mapping[str, Volunteer] | Callable[[str], Volunteer],
        level_of: Callable[[str, datetime], int] | StarLevels | None = None,
        tree: RegionTree | None = None,
        limit: int | None = None,
        period: Period | str | None = None,
        account: str = "redemption",
        name: str | None = None,
    ) -> None:
        if limit is not None and (
            isinstance(limit, bool) or not isinstance(limit, int) or limit < 1
        ):
            raise InvalidValue("limit", limit, "限额须为正整数 / a limit is a whole number > 0")
        self.period = _period(period)
        if (limit is None) != (self.period is None):
            raise InvalidValue(
                "period", period, "限额与周期须同时给出 / limit and period go together"
            )
        if not isinstance(ledger, PointsLedger):
            raise InvalidValue("ledger", ledger, "需要 PointsLedger / need a PointsLedger")
        self.limit = limit
        self.ledger = ledger
        self.catalog = catalog
        self.tree = tree
        self.account = _text("account", account)
        self._volunteers = volunteers
        self._level_of = level_of
        super().__init__(journal=ledger.journal, name=name)

    def _new_state(self) -> _OrdersState:
        return _OrdersState()

    # --- lookups ------------------------------------------------------------------------------

    def _volunteer(self, volunteer_id: str) -> Volunteer:
        vs = self._volunteers
        try:
            return vs[volunteer_id] if isinstance(vs, Mapping) else vs(volunteer_id)
        except NotFound:
            raise
        except KeyError:
            raise NotFound("volunteer", volunteer_id) from None

    def _level(self, volunteer_id: str, at: datetime) -> int:
        f = self._level_of
        if f is None:
            return 0
        if isinstance(f, StarLevels):
            return f.level(volunteer_id, as_of=at)
        return f(volunteer_id, at)

    def _within(self, home: str, region: str | Zone) -> bool:
        tree = self.tree
        if tree is not None and home in tree:
            return tree.is_within(home, region)
        if isinstance(region, Zone):
            return region.covers(home)
        return RegionCode(home).is_within(RegionCode(region))

    # --- reading ------------------------------------------------------------------------------

    def order(self, order_id: str, *, as_of: datetime | None = None) -> Order:
        """An order as it stands now, or at ``as_of`` (:class:`~zhiyuan.errors.NotFound` if it
        did not exist then)."""
        if as_of is None:
            with self._lock:
                found = self._state.orders.get(key("order_id", order_id))
        else:
            found = fold_orders(self.entries, as_of=as_of).get(key("order_id", order_id))
        if found is None:
            raise NotFound("order", order_id)
        return found

    def orders(
        self, *, volunteer_id: str | None = None, as_of: datetime | None = None
    ) -> list[Order]:
        """Every order (of one volunteer, if given), now or at ``as_of``, in the order placed."""
        if as_of is None:
            with self._lock:
                found = list(self._state.orders.values())
        else:
            found = list(fold_orders(self.entries, as_of=as_of).values())
        return [o for o in found if volunteer_id is None or o.volunteer_id == volunteer_id]

    def stock_left(self, item_id: str) -> int | None:
        """Units of the item not held by active orders (``None``: unlimited)."""
        item = self.catalog.get(key("item_id", item_id))
        if item.stock is None:
            return None
        with self._lock:
            return item.stock - self._state.held.get(item_id, 0)

    def held(self, item_id: str) -> int:
        """Units of the item held by active (reserved or fulfilled) orders."""
        with self._lock:
            return self._state.held.get(key("item_id", item_id), 0)

    # --- checking -----------------------------------------------------------------------------

    def _used(self, volunteer_id: str, at: datetime, period: Period, item_id: str | None) -> int:
        """Units of ``item_id`` (or orders of any item, when ``None``) in the period of ``at``."""
        key = period.key(at)
        used = 0
        for oid in self._state.by_volunteer.get(volunteer_id, ()):
            o = self._state.orders[oid]
            if not o.active or period.key(o.reserved_at) != key:
                continue
            if item_id is None:
                used += 1
            elif o.item_id == item_id:
                used += o.quantity
        return used

    def _problems(
        self, volunteer: Volunteer, item: Item, quantity: int, at: datetime, *, points: bool
    ) -> tuple[list[Finding], list[Finding], Finding | None, Finding | None]:
        """Eligibility, limit, stock and points findings (points only when asked)."""
        vid = volunteer.id
        eligibility: list[Finding] = []
        if item.min_star_level:
            held = self._level(vid, at)
            if held < item.min_star_level:
                eligibility.append(finding("redeem.star", (item.min_star_level, held)))
        if item.within is not None:
            if self.tree is not None and item.within not in self.tree:
                raise UnknownRegion(item.within)
            if not self._within(volunteer.home_region, item.within):
                eligibility.append(finding("redeem.region", (item.within, volunteer.home_region)))
        if item.zone is not None:
            if self.tree is not None:
                for c in item.zone.codes:
                    self.tree[c]  # an unknown member raises UnknownRegion
            if not self._within(volunteer.home_region, item.zone):
                eligibility.append(
                    finding("redeem.region", (item.zone.name, volunteer.home_region))
                )
        limits: list[Finding] = []
        if item.limit is not None and item.period is not None:
            used = self._used(vid, at, item.period, item.id)
            if used + quantity > item.limit:
                limits.append(
                    finding("redeem.limit", (item.limit, used, quantity), item.period.value)
                )
        if self.limit is not None and self.period is not None:
            used = self._used(vid, at, self.period, None)
            if used + 1 > self.limit:
                limits.append(finding("redeem.orders", (self.limit, used), self.period.value))
        stock = None
        if item.stock is not None:
            left = item.stock - self._state.held.get(item.id, 0)
            if left < quantity:
                stock = finding("redeem.stock", (left, quantity))
        short = None
        if points:
            have = self.ledger.spendable(vid, at=at)
            if have < item.price * quantity:
                short = finding("redeem.points", (max(have, 0), item.price * quantity))
        return eligibility, limits, stock, short

    def check(
        self, volunteer_id: str, item_id: str, quantity: int = 1, *, at: datetime
    ) -> tuple[Finding, ...]:
        """Why ``reserve`` would refuse now: every problem found, in the order checked (empty:
        it would succeed unless something changes first). Unknown ids raise ``NotFound``.

        Example:
            >>> from datetime import date, datetime
            >>> from zhiyuan import SHANGHAI
            >>> from zhiyuan.hours import Volunteer
            >>> vs = {"v1": Volunteer(id="v1", name="王芳", home_region="370602001001",
            ...                       registered_on=date(2020, 1, 1))}
            >>> book = Redemptions(PointsLedger(), Catalog([Item(id="tea", name="茶叶",
            ...     price=80, min_star_level=3, within="3702")]), volunteers=vs,
            ...     level_of=lambda vid, at: 1)
            >>> for f in book.check("v1", "tea", at=datetime(2025, 5, 1, tzinfo=SHANGHAI)):
            ...     print(f)
            [redeem.star] 须持有3星级志愿者认证，现为1星 / needs a 3-star volunteer certificate; holds 1 stars
            [redeem.region] 仅限370200000000辖区的志愿者，常住地370602001001不在其内 / only for volunteers of region 370200000000; home region 370602001001 is outside it
            [redeem.points] 可用积分0分，需要80分 / 0 points available, 80 needed
        """
        when = _aware("at", at)
        quantity = _quantity(quantity)
        with self._lock:
            item = self.catalog.get(item_id)
            volunteer = self._volunteer(volunteer_id)
            eligibility, limits, stock, short = self._problems(
                volunteer, item, quantity, when, points=True
            )
        return (*eligibility, *limits, *((stock,) if stock else ()), *((short,) if short else ()))

    # --- acting -------------------------------------------------------------------------------

    def reserve(
        self,
        order_id: str,
        volunteer_id: str,
        item_id: str,
        quantity: int = 1,
        *,
        at: datetime | None = None,
    ) -> Order:
        """Place an order: check (see the module doc), spend the points, hold the stock.

        The order and its spend postings (``<order id>#1`` … in the ledger) are recorded
        together. The same call again returns the order as it stands; another order under a
        used id (here or among the ledger's operations) is a :class:`~zhiyuan.errors.Conflict`.
        """
        own_id(order_id, "order_id")
        _text("volunteer_id", volunteer_id)
        _text("item_id", item_id)
        quantity = _quantity(quantity)
        when = self._when(at)
        with self.journal.transaction() as tx:
            old = self._state.reserved.get(order_id)
            if old is not None:
                if (old.volunteer_id, old.item_id, old.quantity) == (
                    volunteer_id,
                    item_id,
                    quantity,
                ) and (at is None or old.at == when):
                    return self._state.orders[order_id]
                raise Conflict(f"order id {order_id!r} is already used / 订单编号已被占用")
            if self.journal.find(self.ledger.name, derive(order_id, 1)) is not None:
                raise Conflict(
                    f"order id {order_id!r} is already used in the ledger / 账本中编号已被占用"
                )
            item = self.catalog.get(item_id)
            volunteer = self._volunteer(volunteer_id)
            eligibility, limits, stock, _ = self._problems(
                volunteer, item, quantity, when, points=False
            )
            who = f"{volunteer_id} × {item_id}: "
            if eligibility:
                raise PermissionDenied(who + "; ".join(str(f) for f in eligibility))
            if limits:
                raise Conflict(who + "; ".join(str(f) for f in limits))
            if stock is not None:
                left, asked = stock.values
                raise InsufficientBalance(stock_account(item_id), int(asked), int(left))
            spent = self.ledger.spend(
                order_id,
                volunteer_id,
                item.price * quantity,
                at=when,
                to=self.account,
                ref=order_id,
            )
            entry = Reserved(
                order_id=order_id,
                volunteer_id=volunteer_id,
                item_id=item_id,
                quantity=quantity,
                unit_price=item.price,
                home_region=volunteer.home_region,
                at=when,
                postings=tuple(p.id for p in spent),
            )
            tx.add(self, [entry])
            return self._folded(entry)

    def _folded(self, entry: OrderEntry) -> Order:
        """The order as ``entry``, staged and not yet written, leaves it (the state is folded
        only when the outermost transaction is written)."""
        old = self._state.orders.get(entry.order_id)
        orders = {} if old is None else {entry.order_id: old}
        _step(orders, entry)
        return orders[entry.order_id]

    def _open(self, order_id: str, when: datetime, entry: OrderEntry, given: bool) -> Order | None:
        """The reserved order to act on, or the order if ``entry`` is already recorded."""
        order = self._state.orders.get(order_id)
        if order is None:
            raise NotFound("order", order_id)
        if order.state is not OrderState.RESERVED:
            done = (
                order.state is OrderState.FULFILLED
                and isinstance(entry, Fulfilled)
                and (not given or entry.at == order.fulfilled_at)
            ) or (
                order.state is OrderState.CANCELLED
                and isinstance(entry, Cancelled)
                and entry.reason == order.reason
                and (not given or entry.at == order.cancelled_at)
            )
            if done:
                return order
            raise Conflict(
                f"order {order_id!r} is already {order.state.value} / 订单已{_STATE_ZH[order.state]}"
            )
        if when < order.reserved_at:
            raise InvalidValue(
                "at", when.isoformat(), "不能早于下单时间 / cannot be before the order was placed"
            )
        return None

    def fulfill(self, order_id: str, *, at: datetime | None = None) -> Order:
        """Hand the goods over (兑付); final. The same call again returns the order."""
        when = self._when(at)
        entry = Fulfilled(order_id=_text("order_id", order_id), at=when)
        with self.journal.transaction() as tx:
            done = self._open(order_id, when, entry, at is not None)
            if done is not None:
                return done
            tx.add(self, [entry])
            return self._folded(entry)

    def cancel(self, order_id: str, *, at: datetime | None = None, reason: str) -> Order:
        """Cancel a reserved order: refund the points (reversal postings, recorded with the
        cancellation) and return the stock.

        A fulfilled order cannot be cancelled (:class:`~zhiyuan.errors.Conflict`). The same call
        again returns the order.
        """
        when = self._when(at)
        probe = Cancelled(order_id=_text("order_id", order_id), at=when, reason=reason)
        with self.journal.transaction() as tx:
            done = self._open(order_id, when, probe, at is not None)
            if done is not None:
                return done
            res = self._state.reserved[order_id]
            spends = [self.ledger.posting(pid) for pid in res.postings]
            for p in spends:
                if self.journal.find(self.ledger.name, derive(p.id, "refund")) is not None:
                    raise Conflict(
                        f"refund of {p.id!r} is already in the ledger / 账本中已有该退还记录"
                    )
            refunds = self.ledger.refund(spends, at=when)
            entry = attrs.evolve(probe, postings=tuple(p.id for p in refunds))
            tx.add(self, [entry])
            return self._folded(entry)

    # --- reports ------------------------------------------------------------------------------

    def _active(self, as_of: datetime | None) -> list[Order]:
        return [o for o in self.orders(as_of=as_of) if o.active]

    def by_item(self, *, as_of: datetime | None = None) -> dict[str, Tally]:
        """Orders, units and points of the active orders per item (now, or at ``as_of``).

        Example:
            >>> book = Redemptions(PointsLedger(), Catalog(), volunteers={})
            >>> book.by_item()
            {}
        """
        out: dict[str, Tally] = {}
        for o in self._active(as_of):
            t = out.get(o.item_id, Tally())
            out[o.item_id] = Tally(
                orders=t.orders + 1, units=t.units + o.quantity, points=t.points + o.points
            )
        return out

    def by_region(self, tree: RegionTree, *, as_of: datetime | None = None) -> dict[str, Tally]:
        """:meth:`by_item`'s totals by the volunteer's home region (as it was when the order was
        placed), rolled up to every ancestor in ``tree``, in preorder. A home region missing
        from the tree raises :class:`~zhiyuan.errors.UnknownRegion`."""
        arg_of("tree", RegionTree, tree)
        active = self._active(as_of)
        orders = tree.rollup([(o.home_region, 1) for o in active])
        units = tree.rollup([(o.home_region, o.quantity) for o in active])
        points = tree.rollup([(o.home_region, o.points) for o in active])
        return {
            code: Tally(orders=n, units=units[code], points=points[code])
            for code, n in orders.items()
        }


def _quantity(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidValue("quantity", value, "数量须为正整数 / a quantity is a whole number > 0")
    return value
