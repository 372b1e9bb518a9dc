"""The redemption catalog (积分超市): items as data, and the catalog that holds them by id.

An :class:`Item` is data (JSON/TOML through :mod:`zhiyuan.convert`): a price in points, a stock
(or none for unlimited), who may redeem it (a star certificate, a region subtree) and how much
one person may take per day, month, quarter, year or lifetime (a :class:`Period`). A
:class:`Catalog` holds items by id; an id once used keeps its content. The order book that
spends points on them is :class:`~zhiyuan.credit.Redemptions`
(:mod:`zhiyuan.credit.redemptions`).

Example:
    >>> catalog = Catalog([Item(id="umbrella", name="雨伞", price=22, stock=10,
    ...                         limit=2, period="quarter")])
    >>> item = catalog.get("umbrella")
    >>> item.price, item.stock, item.period
    (22, 10, <Period.QUARTER: 'quarter'>)
    >>> "rice" in catalog, len(catalog)
    (False, 1)
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

import attrs

from zhiyuan._validators import COUNT, SHANGHAI, bounded, key, non_empty
from zhiyuan.convert import from_json, from_toml, to_json, to_toml
from zhiyuan.errors import Conflict, InvalidValue, NotFound
from zhiyuan.hierarchy.codes import normalize_code
from zhiyuan.hierarchy.zones import Zone, to_zone

__all__ = ["Catalog", "Item", "Period"]


class Period(enum.Enum):
    """A calendar period for per-person limits, in Asia/Shanghai."""

    DAY = "day"
    """自然日."""
    MONTH = "month"
    """自然月."""
    QUARTER = "quarter"
    """季度: January–March, April–June, July–September, October–December."""
    YEAR = "year"
    """自然年."""
    LIFETIME = "lifetime"
    """终身: every order ever."""

    def key(self, at: datetime) -> tuple[int, ...]:
        """Which period ``at`` falls in (equal keys: the same period).

        Example:
            >>> from datetime import datetime, timezone
            >>> end_of_march = datetime(2025, 3, 31, 16, 30, tzinfo=timezone.utc)  # 00:30 Apr 1
            >>> Period.QUARTER.key(end_of_march), Period.DAY.key(end_of_march)
            ((2025, 2), (2025, 4, 1))
        """
        local = at.astimezone(SHANGHAI)
        if self is Period.DAY:
            return (local.year, local.month, local.day)
        if self is Period.MONTH:
            return (local.year, local.month)
        if self is Period.QUARTER:
            return (local.year, (local.month - 1) // 3 + 1)
        if self is Period.YEAR:
            return (local.year,)
        return ()


def _period(value: Any) -> Period | None:
    if value is None or isinstance(value, Period):
        return value
    try:
        return Period(value)
    except ValueError:
        raise InvalidValue(
            "period",
            value,
            "周期应为 day、month、quarter、year 或 lifetime / "
            "a period is day, month, quarter, year or lifetime",
        ) from None


def _optional_zone(value: Any) -> Zone | None:
    return None if value is None else to_zone(value)


def _optional_code(value: Any) -> str | None:
    return None if value is None else normalize_code(value, field="within")


@attrs.frozen(kw_only=True)
class Item:
    """An item of a redemption catalog (积分超市商品), as data.

    Args:
        id: the item's id in its catalog.
        name: what people see (雨伞, 米面油 …).
        price: points per unit, a whole number > 0.
        stock: the units there are at the start, or ``None`` for unlimited (a service, a
            discount).
        min_star_level: the star level the volunteer must hold (0: none) (黄山, 郑州).
        within: a region code: only volunteers whose home region lies in its subtree may
            redeem (``None``: anyone).
        zone: a :class:`~zhiyuan.hierarchy.Zone`: only volunteers whose home region lies in it
            may redeem (with ``within``, both must hold).
        limit: at most this many units per person per ``period``; ``limit`` and ``period`` are
            given together or not at all.
        period: ``"day"``, ``"month"``, ``"quarter"``, ``"year"`` or ``"lifetime"``.

    Example:
        >>> from zhiyuan.convert import from_toml, to_json
        >>> item = from_toml('id = "rice"\\nname = "大米"\\nprice = 30\\nstock = 100\\n'
        ...                  'min_star_level = 1\\nwithin = "3706"\\nlimit = 1\\nperiod = "month"', Item)
        >>> item.within, item.period
        ('370600000000', <Period.MONTH: 'month'>)
        >>> to_json(Item(id="u", name="雨伞", price=22))
        '{"id": "u", "name": "雨伞", "price": 22, "stock": null, "min_star_level": 0, "within": null, "zone": null, "limit": null, "period": null}'
        >>> Item(id="u", name="雨伞", price=22, limit=1)
        Traceback (most recent call last):
        ...
        zhiyuan.errors.InvalidValue: period: None: 限额与周期须同时给出 / limit and period go together
    """

    id: str = attrs.field(validator=non_empty)
    name: str = attrs.field(validator=non_empty)
    price: int = attrs.field(validator=bounded(1, COUNT, "points"))
    stock: int | None = attrs.field(default=None, validator=bounded(0, COUNT, "units"))
    min_star_level: int = attrs.field(default=0, validator=bounded(0, 100, "stars"))
    within: str | None = attrs.field(default=None, converter=_optional_code)
    zone: Zone | None = attrs.field(default=None, converter=_optional_zone)
    limit: int | None = attrs.field(default=None, validator=bounded(1, COUNT, "units"))
    period: Period | None = attrs.field(default=None, converter=_period)

    def __attrs_post_init__(self) -> None:
        if (self.limit is None) != (self.period is None):
            field, value = ("period", None) if self.period is None else ("limit", None)
            raise InvalidValue(field, value, "限额与周期须同时给出 / limit and period go together")


@attrs.frozen(kw_only=True)
class _Listing:
    items: tuple[Item, ...] = ()


class Catalog:
    """The items of one redemption scheme, by id (thread-safe).

    Adding the same item again is a no-op; another item under a used id is a
    :class:`~zhiyuan.errors.Conflict` (a price or a rule never changes under existing orders:
    give the changed item a new id).

    Example:
        >>> cat = Catalog([Item(id="u", name="雨伞", price=22)])
        >>> _ = cat.add(Item(id="u", name="雨伞", price=22))       # the same: no-op
        >>> cat.add(Item(id="u", name="雨伞", price=20))
        Traceback (most recent call last):
        ...
        zhiyuan.errors.Conflict: item id 'u' is already used with other content / 商品编号已被占用
        >>> print(Catalog.from_toml(cat.to_toml()).to_toml(), end="")
        [[items]]
        id = "u"
        name = "雨伞"
        price = 22
        min_star_level = 0
    """

    def __init__(self, items: Iterable[Item] = ()) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, Item] = {}
        for item in items:
            self.add(item)

    def add(self, item: Item) -> Item:
        """Add an item (see the class doc); returns it."""
        if not isinstance(item, Item):
            raise InvalidValue("item", type(item).__name__, "需要 Item / need an Item")
        with self._lock:
            old = self._items.get(item.id)
            if old is not None and old != item:
                raise Conflict(
                    f"item id {item.id!r} is already used with other content / 商品编号已被占用"
                )
            self._items[item.id] = item
        return item

    def get(self, item_id: str) -> Item:
        """An item by id, or :class:`~zhiyuan.errors.NotFound`."""
        item = self._items.get(key("item_id", item_id))
        if item is None:
            raise NotFound("item", item_id)
        return item

    @property
    def items(self) -> tuple[Item, ...]:
        """Every item, in the order added."""
        with self._lock:
            return tuple(self._items.values())

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._items

    def __iter__(self) -> Iterator[Item]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self._items)

    # --- JSON and TOML: {"items": [...]} / [[items]] tables ----------------------------------

    @classmethod
    def from_json(cls, text: str | bytes) -> Catalog:
        """Load ``{"items": [...]}``; bad input is :class:`~zhiyuan.errors.InvalidInput`."""
        return cls(from_json(text, _Listing).items)

    @classmethod
    def from_toml(cls, text: str) -> Catalog:
        """Load ``[[items]]`` tables; bad input is :class:`~zhiyuan.errors.InvalidInput`."""
        return cls(from_toml(text, _Listing).items)

    def to_json(self, *, indent: int | None = None) -> str:
        """Dump as ``{"items": [...]}``."""
        return to_json(_Listing(items=self.items), indent=indent)

    def to_toml(self) -> str:
        """Dump as ``[[items]]`` tables (``None`` values left out)."""
        return to_toml(_Listing(items=self.items))
