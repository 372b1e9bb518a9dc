"""Redemption (积分兑换): items as data, the catalog, and the order book over a points ledger.

What is tested: the order of ``reserve``'s checks and that every refusal leaves the ledger and the
stock as they were; star and region eligibility (a real StarBook too); per-person limits at
calendar boundaries in Asia/Shanghai (the quarter ends at 24:00 on 31 March there, not in UTC);
the catalog-wide limit (海林: once per quarter); idempotency by order id; cancellation restoring
balances exactly (hypothesis); a stateful machine checked against an independent oracle; threads
that never oversell stock or overspend points; reports by item and by region.

Every datetime is explicit and aware; nothing here reads the wall clock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from zhiyuan import SHANGHAI
from zhiyuan.convert import from_json, from_toml, to_json, to_toml
from zhiyuan.credit.catalog import Catalog, Item, Period
from zhiyuan.credit.ledger import PointsLedger
from zhiyuan.credit.redemptions import (
    Cancelled,
    Fulfilled,
    Order,
    OrderState,
    Redemptions,
    Reserved,
    Tally,
    fold_orders,
)
from zhiyuan.errors import (
    Conflict,
    InsufficientBalance,
    InvalidInput,
    InvalidValue,
    NotFound,
    PermissionDenied,
    UnknownRegion,
    ZhiyuanError,
)
from zhiyuan.hierarchy import RegionTree, load_default
from zhiyuan.hours import Volunteer

# --- places, people, time -------------------------------------------------------------------
# 山东省 37 / 烟台市 3706 / 芝罘区 370602 / 向阳街道 370602001 / 友谊街社区 370602001001 and
# 建昌街社区 370602001002; 福山区 370611 清洋街道 370611001; 青岛市 3702 城阳区 370214 东果园社区.
YOUYI = "370602001001"
JIANCHANG = "370602001002"
FUSHAN = "370611001000"
CHENGYANG = "370214001001"

TREE = load_default()


def at(y: int, m: int, d: int, h: int = 10, mi: int = 0, s: int = 0) -> datetime:
    """An aware Asia/Shanghai datetime."""
    return datetime(y, m, d, h, mi, s, tzinfo=SHANGHAI)


T0 = at(2024, 1, 2, 9)
"""When every default volunteer earns their points."""


def person(vid: str, home: str = YOUYI) -> Volunteer:
    return Volunteer(id=vid, name=f"志愿者{vid}", home_region=home, registered_on=date(2020, 1, 1))


PEOPLE = {
    "v1": person("v1", YOUYI),
    "v2": person("v2", FUSHAN),
    "v3": person("v3", CHENGYANG),
    "v4": person("v4", JIANCHANG),
}
LEVELS = {"v1": 3, "v2": 0, "v3": 1, "v4": 2}


def levels(table: dict[str, int]) -> Callable[[str, datetime], int]:
    return lambda vid, when: table.get(vid, 0)


def make_book(
    *items: Item,
    points: dict[str, int] | None = None,
    people: dict[str, Volunteer] | None = None,
    level_of: Any = None,
    tree: RegionTree | None = TREE,
    **kw: Any,
) -> tuple[Redemptions, PointsLedger]:
    """A book over a fresh ledger; each volunteer of ``points`` earns that much at :data:`T0`."""
    ledger = PointsLedger()
    for vid, n in (points if points is not None else dict.fromkeys(PEOPLE, 1000)).items():
        if n:
            ledger.earn(f"earn-{vid}", vid, n, at=T0, issuer="issuer:烟台")
    book = Redemptions(
        ledger,
        Catalog(items),
        volunteers=PEOPLE if people is None else people,
        level_of=levels(LEVELS) if level_of is None else level_of,
        tree=tree,
        **kw,
    )
    return book, ledger


def snapshot(book: Redemptions, ledger: PointsLedger) -> tuple[object, ...]:
    """Everything an error must leave unchanged."""
    return (
        ledger.postings,
        ledger.accounts(),
        {i.id: (book.held(i.id), book.stock_left(i.id)) for i in book.catalog},
        book.entries,
        book.orders(),
    )


UMBRELLA = Item(id="umbrella", name="雨伞", price=22, stock=10)

# --- Item and Catalog: data ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"price": 0}, "price"),
        ({"price": -5}, "price"),
        ({"price": True}, "price"),
        ({"price": 1.5}, "price"),
        ({"stock": -1}, "stock"),
        ({"stock": 2.0}, "stock"),
        ({"min_star_level": -1}, "min_star_level"),
        ({"limit": 0, "period": "day"}, "limit"),
        ({"limit": 1}, "period"),
        ({"period": "month"}, "limit"),
        ({"limit": 1, "period": "week"}, "period"),
        ({"within": "37x"}, "within"),
        ({"id": " "}, "id"),
        ({"name": ""}, "name"),
    ],
)
def test_item_rejects_bad_fields(fields: dict[str, Any], bad: str) -> None:
    base: dict[str, Any] = {"id": "u", "name": "雨伞", "price": 22}
    with pytest.raises(InvalidValue) as info:
        Item(**{**base, **fields})
    assert info.value.field == bad
    assert " / " in str(info.value)  # bilingual


def test_item_normalizes_region_and_period() -> None:
    item = Item(id="r", name="米", price=3, within=3706, limit=1, period=Period.YEAR)
    assert item.within == "370600000000"
    assert Item(id="r", name="米", price=3, limit=1, period="year").period is Period.YEAR


@st.composite
def items(draw: st.DrawFn) -> Item:
    limited = draw(st.booleans())
    return Item(
        id=draw(st.text(min_size=1, max_size=8).filter(str.strip)),
        name=draw(st.text(min_size=1, max_size=8).filter(str.strip)),
        price=draw(st.integers(1, 10**9)),
        stock=draw(st.none() | st.integers(0, 10**6)),
        min_star_level=draw(st.integers(0, 7)),
        within=draw(st.none() | st.sampled_from(["37", "3706", "370602001", YOUYI])),
        limit=draw(st.integers(1, 99)) if limited else None,
        period=draw(st.sampled_from(list(Period))) if limited else None,
    )


@given(items())
def test_item_round_trips_through_json_and_toml(item: Item) -> None:
    assert from_json(to_json(item), Item) == item
    assert from_toml(to_toml(item), Item) == item


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ('{"id": "u", "name": "伞", "price": 2.5}', "$.price"),
        ('{"id": "u", "name": "伞", "price": 2, "colour": "red"}', "colour"),
        ('{"id": "u", "name": "伞", "price": 2, "limit": 1, "period": "week"}', "period"),
        ('{"id": "u", "name": "伞"}', "price"),
    ],
)
def test_item_bad_json_is_invalid_input(text: str, path: str) -> None:
    with pytest.raises(InvalidInput) as info:
        from_json(text, Item)
    assert path in str(info.value)


def test_catalog_add_is_idempotent_and_ids_keep_their_content() -> None:
    cat = Catalog([UMBRELLA])
    assert cat.add(Item(id="umbrella", name="雨伞", price=22, stock=10)) == UMBRELLA
    assert len(cat) == 1 and "umbrella" in cat and list(cat) == [UMBRELLA]
    with pytest.raises(Conflict):
        cat.add(attrs.evolve(UMBRELLA, price=20))
    assert cat.get("umbrella") == UMBRELLA  # unchanged
    with pytest.raises(NotFound):
        cat.get("tea")
    with pytest.raises(InvalidValue):
        cat.add("umbrella")  # type: ignore[arg-type]


@given(st.lists(items(), max_size=5, unique_by=lambda i: i.id))
def test_catalog_round_trips(listed: list[Item]) -> None:
    cat = Catalog(listed)
    assert Catalog.from_json(cat.to_json()).items == cat.items
    assert Catalog.from_toml(cat.to_toml()).items == cat.items


def test_catalog_file_problems() -> None:
    with pytest.raises(InvalidInput, match=r"price: 0: .* @ \$\.items\[1\]"):
        Catalog.from_json(
            '{"items": [{"id": "a", "name": "A", "price": 1}, {"id": "b", "name": "B", "price": 0}]}'
        )
    with pytest.raises(Conflict):
        Catalog.from_toml(
            '[[items]]\nid = "a"\nname = "A"\nprice = 1\n[[items]]\nid = "a"\nname = "A"\nprice = 2\n'
        )


# --- reserving ---------------------------------------------------------------------------------


def test_reserve_spends_oldest_lots_and_holds_stock() -> None:
    book, ledger = make_book(UMBRELLA, points={})
    ledger.earn(
        "e1", "v1", 30, at=at(2025, 1, 5), issuer="issuer:烟台", expires_at=at(2025, 12, 31)
    )
    ledger.earn("e2", "v1", 20, at=at(2025, 2, 1), issuer="issuer:烟台")
    order = book.reserve("o1", "v1", "umbrella", 2, at=at(2025, 3, 1))
    assert order == Order(
        id="o1",
        volunteer_id="v1",
        item_id="umbrella",
        quantity=2,
        unit_price=22,
        home_region=YOUYI,
        reserved_at=at(2025, 3, 1),
        state=OrderState.RESERVED,
        spent=("o1#1", "o1#2"),
    )
    assert order.points == 44 and order.active
    assert [(p.lot, p.amount, p.ref, p.target) for p in ledger.postings[2:]] == [
        ("e1", 30, "o1", "redemption"),
        ("e2", 14, "o1", "redemption"),
    ]
    assert ledger.available("v1", as_of=at(2025, 3, 2)) == 6  # 青岛西海岸: 44 pts → 2 umbrellas
    assert ledger.balance("redemption") == 44 and ledger.total() == 0
    assert book.stock_left("umbrella") == 8 and book.held("umbrella") == 2


def test_unlimited_stock_and_custom_account() -> None:
    tea = Item(id="tea", name="茶", price=5)
    book, ledger = make_book(tea, account="shop:西海岸")
    book.reserve("o1", "v1", "tea", 100, at=at(2025, 3, 1))
    assert book.stock_left("tea") is None and book.held("tea") == 100
    assert ledger.balance("shop:西海岸") == 500


def test_reserve_checks_in_order_and_each_refusal_changes_nothing() -> None:
    rice = Item(
        id="rice", name="米", price=40, stock=3, min_star_level=2, within="3706", limit=2,
        period="quarter",
    )  # fmt: skip
    book, ledger = make_book(rice, points={"v1": 100, "v2": 500, "v3": 500, "v4": 500})
    book.reserve("p1", "v1", "rice", 2, at=at(2025, 2, 1))  # v1 now has 20 points, 1 unit left
    when = at(2025, 3, 1)

    def refused(exc: type[ZhiyuanError], **call: Any) -> ZhiyuanError:
        before = snapshot(book, ledger)
        args = {"order_id": "o", "volunteer_id": "v1", "item_id": "rice", "quantity": 2, **call}
        with pytest.raises(exc) as info:
            book.reserve(args["order_id"], args["volunteer_id"], args["item_id"], args["quantity"],
                         at=args.get("at", when))  # fmt: skip
        assert snapshot(book, ledger) == before
        return info.value

    # 1. unknown item beats everything; an unknown volunteer beats eligibility
    err = refused(NotFound, item_id="ghost", volunteer_id="nobody")
    assert isinstance(err, NotFound) and err.key == "ghost"
    err = refused(NotFound, volunteer_id="nobody")
    assert isinstance(err, NotFound) and err.what == "volunteer"
    # 2. v3 (1★, 青岛) fails both eligibility conditions, and stock; the message names both
    err = refused(PermissionDenied, volunteer_id="v3")
    assert "[redeem.star]" in str(err) and "[redeem.region]" in str(err)
    assert "2-star" in str(err) and "370600000000" in str(err) and CHENGYANG in str(err)
    # v2 (0★, 福山 is within 烟台) lacks only the star
    err = refused(PermissionDenied, volunteer_id="v2")
    assert "[redeem.star]" in str(err) and "[redeem.region]" not in str(err)
    # 3. v1 used 2 of 2 this quarter: the limit beats stock (1 left) and points (20 left)
    err = refused(Conflict, quantity=2)
    assert not isinstance(err, InsufficientBalance)
    assert "每季度限兑 2 件" in str(err) and "2 already that quarter" in str(err)
    # 4. next quarter: the limit passes; stock (1 left) beats points (20 < 80)
    err = refused(InsufficientBalance, at=at(2025, 4, 1))
    assert isinstance(err, InsufficientBalance)
    assert (err.account, err.needed, err.available) == ("stock:rice", 2, 1)
    # 5. one unit: stock passes; points (20 < 40) fail
    err = refused(InsufficientBalance, quantity=1, at=at(2025, 4, 1))
    assert isinstance(err, InsufficientBalance)
    assert (err.account, err.needed, err.available) == ("volunteer:v1", 40, 20)
    # and the checks agree with check()
    assert [f.rule for f in book.check("v3", "rice", 2, at=when)] == [
        "redeem.star",
        "redeem.region",
        "redeem.stock",
    ]
    assert [f.rule for f in book.check("v1", "rice", 2, at=when)] == [
        "redeem.limit",
        "redeem.stock",
        "redeem.points",
    ]
    assert book.check("v4", "rice", 1, at=when) == ()
    book.reserve("o", "v4", "rice", 1, at=when)  # the same id is free after the refusals
    assert book.stock_left("rice") == 0


@pytest.mark.parametrize(
    "call",
    [
        {"order_id": ""},
        {"volunteer_id": " "},
        {"item_id": ""},
        {"quantity": 0},
        {"quantity": -1},
        {"quantity": True},
        {"quantity": 1.0},
        {"at": datetime(2025, 3, 1, 10)},  # naive
        {"at": "2025-03-01T10:00+08:00"},
    ],
)
def test_bad_arguments_are_invalid_values_and_change_nothing(call: dict[str, Any]) -> None:
    book, ledger = make_book(UMBRELLA)
    before = snapshot(book, ledger)
    args: dict[str, Any] = {
        "order_id": "o1",
        "volunteer_id": "v1",
        "item_id": "umbrella",
        "quantity": 1,
        "at": at(2025, 3, 1),
        **call,
    }
    with pytest.raises(InvalidValue):
        book.reserve(
            args["order_id"], args["volunteer_id"], args["item_id"], args["quantity"], at=args["at"]
        )
    assert snapshot(book, ledger) == before


# --- eligibility -------------------------------------------------------------------------------


def test_star_level_is_judged_at_the_moment_of_reserving() -> None:
    """郑州/黄山: some items need a star certificate; the level held on that day counts."""
    tea = Item(id="tea", name="茶", price=10, min_star_level=2)
    book, _ = make_book(tea, level_of=lambda vid, when: 2 if when >= at(2025, 6, 1, 0, 0) else 1)
    with pytest.raises(PermissionDenied, match="holds 1 stars"):
        book.reserve("o1", "v1", "tea", at=at(2025, 5, 31, 23, 59))
    assert book.reserve("o1", "v1", "tea", at=at(2025, 6, 1, 0, 0)).active


def test_no_level_source_means_no_stars() -> None:
    tea = Item(id="tea", name="茶", price=10, min_star_level=1)
    ledger = PointsLedger()
    ledger.earn("e", "v1", 50, at=T0, issuer="issuer:x")
    book = Redemptions(ledger, Catalog([tea]), volunteers=PEOPLE)
    with pytest.raises(PermissionDenied, match="须持有1星级"):
        book.reserve("o1", "v1", "tea", at=at(2025, 3, 1))


def test_a_star_book_can_be_passed_directly_and_hours_are_untouched() -> None:
    """A real StarBook (112 certified hours → 1★) as ``level_of``; spending keeps the hours."""
    from zhiyuan.hierarchy import Grant, Jurisdiction, Organization, Registry
    from zhiyuan.hours import Evidence, HourLedger, HourPolicy, ServiceRecord
    from zhiyuan.scoring import StarBook, StarScheme

    reg = Registry(TREE, [Organization(id="o1", name="协会", region_code="370602")])
    hours = HourLedger(reg, policies=[HourPolicy(auto_certify={"qr_scan"})])
    hours.add_volunteer(PEOPLE["v1"])
    for d in range(1, 15):
        start = at(2024, 1, d, 8)
        hours.post(
            ServiceRecord(
                id=f"r{d}", volunteer_id="v1", activity_id="a", organization_id="o1",
                region_code=YOUYI, category="助老", evidence=Evidence.QR_SCAN,
                start=start, end=start + timedelta(hours=8),
            ),
            at=start + timedelta(hours=9),
        )  # fmt: skip
    stars = StarBook(
        hours,
        policies=StarScheme(notice_days=7),
        jurisdiction=Jurisdiction(TREE, [Grant(principal="zf", region_code="370602")]),
    )
    stars.apply("app1", "v1", 1, at=at(2024, 2, 1))
    stars.decide("app1", by="zf", approve=True, reason="符合条件", at=at(2024, 2, 3))
    ledger = PointsLedger()
    ledger.earn("e1", "v1", 112, at=at(2024, 2, 1), issuer="issuer:芝罘")
    book = Redemptions(
        ledger,
        Catalog([Item(id="mug", name="杯子", price=50, min_star_level=1)]),
        volunteers=hours.volunteer,
        level_of=stars,
        tree=TREE,
    )
    minutes = hours.minutes("v1")
    with pytest.raises(PermissionDenied):  # still in public notice (公示)
        book.reserve("o1", "v1", "mug", at=at(2024, 2, 5))
    book.reserve("o1", "v1", "mug", 2, at=at(2024, 2, 11))
    assert hours.minutes("v1") == minutes == 112 * 60
    with pytest.raises(NotFound):  # HourLedger.volunteer's NotFound passes through
        book.reserve("o2", "nobody", "mug", at=at(2024, 2, 11))


@pytest.mark.parametrize(
    ("within", "home", "ok"),
    [
        ("3706", YOUYI, True),  # 烟台 ⊃ 友谊街社区
        ("370602001", YOUYI, True),  # the street itself
        (YOUYI, YOUYI, True),  # the community itself
        ("370602001", JIANCHANG, True),  # a neighbouring community of the same street
        (YOUYI, JIANCHANG, False),
        ("3706", CHENGYANG, False),  # 青岛
        ("370611", YOUYI, False),  # 福山 is a sibling county
        ("37", CHENGYANG, True),
    ],
)
@pytest.mark.parametrize("with_tree", [True, False])
def test_region_eligibility(within: str, home: str, ok: bool, with_tree: bool) -> None:
    item = Item(id="x", name="X", price=1, within=within)
    book, ledger = make_book(
        item, people={"v": person("v", home)}, points={"v": 10}, tree=TREE if with_tree else None
    )
    if ok:
        assert book.reserve("o", "v", "x", at=at(2025, 3, 1)).active
    else:
        before = snapshot(book, ledger)
        with pytest.raises(PermissionDenied, match=r"\[redeem\.region\].*outside"):
            book.reserve("o", "v", "x", at=at(2025, 3, 1))
        assert snapshot(book, ledger) == before


def test_home_missing_from_the_tree_is_judged_by_its_code() -> None:
    nowhere = "370602001999"  # well formed, not in the seed tree
    assert nowhere not in TREE
    item = Item(id="x", name="X", price=1, within="370602")
    book, _ = make_book(item, people={"v": person("v", nowhere)}, points={"v": 10})
    assert book.reserve("o", "v", "x", at=at(2025, 3, 1)).active


def test_item_region_missing_from_the_tree_is_unknown_region() -> None:
    item = Item(id="x", name="X", price=1, within="370699")
    book, ledger = make_book(item)
    before = snapshot(book, ledger)
    with pytest.raises(UnknownRegion):
        book.reserve("o", "v1", "x", at=at(2025, 3, 1))
    assert snapshot(book, ledger) == before


# --- limits -----------------------------------------------------------------------------------


def quarterly(limit: int = 1, **kw: Any) -> Item:
    return Item(id="q", name="季度礼包", price=10, limit=limit, period="quarter", **kw)


@pytest.mark.parametrize(
    ("first", "second", "same_quarter"),
    [
        (at(2025, 3, 31, 0, 0), at(2025, 3, 31, 23, 59, 59), True),
        (at(2025, 3, 31, 23, 59, 59), at(2025, 4, 1, 0, 0), False),
        (at(2025, 1, 1, 0, 0), at(2025, 3, 31, 23, 59, 59), True),
        (at(2024, 12, 31, 23, 59), at(2025, 1, 1, 0, 0), False),
        (at(2025, 6, 30, 12), at(2025, 7, 1, 0, 0), False),
        # UTC input: 15:59Z on 31 March is 23:59 in Shanghai (same quarter) …
        (at(2025, 3, 1), datetime(2025, 3, 31, 15, 59, tzinfo=UTC), True),
        # … and 16:00Z is already 1 April there (a new quarter), though still March in UTC
        (at(2025, 3, 1), datetime(2025, 3, 31, 16, 0, tzinfo=UTC), False),
    ],
)
def test_quarter_limit_at_the_boundary_in_shanghai(
    first: datetime, second: datetime, same_quarter: bool
) -> None:
    """海林: redeem at most once per quarter."""
    book, ledger = make_book(quarterly())
    book.reserve("o1", "v1", "q", at=first)
    if same_quarter:
        before = snapshot(book, ledger)
        with pytest.raises(Conflict) as info:
            book.reserve("o2", "v1", "q", at=second)
        assert not isinstance(info.value, InsufficientBalance)
        text = str(info.value)
        assert "每季度" in text and "per quarter" in text  # names the period
        assert "限兑 1 件" in text and "1 already that quarter" in text  # and the counts
        assert snapshot(book, ledger) == before
    else:
        assert book.reserve("o2", "v1", "q", at=second).active


@pytest.mark.parametrize(
    ("period", "inside", "outside"),
    [
        ("day", at(2025, 3, 5, 23, 59), at(2025, 3, 6, 0, 0)),
        ("month", at(2025, 3, 31, 23, 59), at(2025, 4, 1, 0, 0)),
        ("year", at(2025, 12, 31, 23, 59), at(2026, 1, 1, 0, 0)),
        ("lifetime", at(2030, 1, 1), None),
    ],
)
def test_other_periods(period: str, inside: datetime, outside: datetime | None) -> None:
    item = Item(id="x", name="X", price=1, limit=2, period=period)
    book, _ = make_book(item)
    book.reserve("o1", "v1", "x", 2, at=at(2025, 3, 5, 0, 0))
    with pytest.raises(Conflict, match="2 already"):
        book.reserve("o2", "v1", "x", at=inside)
    if outside is not None:
        assert book.reserve("o3", "v1", "x", 2, at=outside).active
    assert book.reserve("o4", "v2", "x", at=inside).active  # per person


def test_limit_counts_units_and_fulfilled_orders_but_not_cancelled_ones() -> None:
    book, _ = make_book(quarterly(limit=3))
    book.reserve("o1", "v1", "q", 2, at=at(2025, 4, 2))
    with pytest.raises(Conflict, match="本次 2 件"):
        book.reserve("o2", "v1", "q", 2, at=at(2025, 4, 3))
    book.fulfill("o1", at=at(2025, 4, 4))
    with pytest.raises(Conflict):  # fulfilled still counts
        book.reserve("o2", "v1", "q", 2, at=at(2025, 4, 5))
    book.reserve("o3", "v1", "q", 1, at=at(2025, 4, 6))  # 2 + 1 = 3: allowed
    book.cancel("o3", at=at(2025, 4, 7), reason="改主意 / changed my mind")
    assert book.reserve("o4", "v1", "q", 1, at=at(2025, 4, 8)).active  # the cancelled one is free


def test_catalog_wide_limit_counts_orders_across_items() -> None:
    """海林: at most one redemption per quarter, whatever is redeemed."""
    a = Item(id="a", name="A", price=1)
    b = Item(id="b", name="B", price=1)
    book, ledger = make_book(a, b, limit=1, period="quarter")
    book.reserve("o1", "v1", "a", 5, at=at(2025, 5, 1))
    before = snapshot(book, ledger)
    with pytest.raises(Conflict, match=r"\[redeem\.orders\] 每人每季度限兑换 1 次"):
        book.reserve("o2", "v1", "b", at=at(2025, 6, 30, 23, 59))
    assert snapshot(book, ledger) == before
    assert book.reserve("o3", "v1", "b", at=at(2025, 7, 1, 0, 0)).active
    book.cancel("o3", at=at(2025, 7, 2), reason="x")
    assert book.reserve("o4", "v1", "a", at=at(2025, 7, 3)).active


@pytest.mark.parametrize(
    ("limit", "period"), [(0, "quarter"), (1, None), (None, "quarter"), (1, "week"), (True, "day")]
)
def test_catalog_wide_limit_is_checked(limit: Any, period: Any) -> None:
    with pytest.raises(InvalidValue):
        Redemptions(PointsLedger(), Catalog(), volunteers={}, limit=limit, period=period)


# --- fulfil, cancel, idempotency ---------------------------------------------------------------


def test_fulfill_is_final_and_cancel_refunds() -> None:
    book, ledger = make_book(UMBRELLA)
    book.reserve("o1", "v1", "umbrella", 2, at=at(2025, 3, 1))
    book.reserve("o2", "v1", "umbrella", 3, at=at(2025, 3, 1))
    done = book.fulfill("o1", at=at(2025, 3, 2))
    assert (done.state, done.fulfilled_at) == (OrderState.FULFILLED, at(2025, 3, 2))
    assert book.fulfill("o1", at=at(2025, 3, 2)) == done  # the same call: no-op
    before = snapshot(book, ledger)
    with pytest.raises(Conflict, match="already fulfilled"):
        book.cancel("o1", at=at(2025, 3, 3), reason="x")  # 黄山: redemption is irreversible
    with pytest.raises(Conflict):
        book.fulfill("o1", at=at(2025, 3, 4))  # another fulfilment
    assert snapshot(book, ledger) == before
    gone = book.cancel("o2", at=at(2025, 3, 3), reason="缺货")
    assert (gone.state, gone.reason, gone.refunded) == (
        OrderState.CANCELLED,
        "缺货",
        ("o2#1#refund",),
    )
    assert book.cancel("o2", at=at(2025, 3, 3), reason="缺货") == gone
    before = snapshot(book, ledger)
    for bad in (
        lambda: book.cancel("o2", at=at(2025, 3, 4), reason="缺货"),
        lambda: book.cancel("o2", at=at(2025, 3, 3), reason="别的"),
        lambda: book.fulfill("o2", at=at(2025, 3, 4)),
    ):
        with pytest.raises(Conflict):
            bad()
    assert snapshot(book, ledger) == before
    assert ledger.balance("redemption") == 44 and book.held("umbrella") == 2


def test_fulfill_and_cancel_refusals_change_nothing() -> None:
    book, ledger = make_book(UMBRELLA)
    book.reserve("o1", "v1", "umbrella", at=at(2025, 3, 1))
    before = snapshot(book, ledger)
    with pytest.raises(NotFound):
        book.fulfill("nope", at=at(2025, 3, 2))
    with pytest.raises(NotFound):
        book.cancel("nope", at=at(2025, 3, 2), reason="x")
    with pytest.raises(InvalidValue, match="before the order"):
        book.cancel("o1", at=at(2025, 2, 28), reason="x")
    with pytest.raises(InvalidValue, match="before the order"):
        book.fulfill("o1", at=at(2025, 2, 28))
    with pytest.raises(InvalidValue):
        book.cancel("o1", at=at(2025, 3, 2), reason="")
    with pytest.raises(InvalidValue):
        book.fulfill("o1", at=datetime(2025, 3, 2))
    assert snapshot(book, ledger) == before


def test_reserve_is_idempotent_by_order_id() -> None:
    book, ledger = make_book(UMBRELLA)
    first = book.reserve("o1", "v1", "umbrella", 2, at=at(2025, 3, 1))
    n = len(ledger)
    again = book.reserve("o1", "v1", "umbrella", 2, at=datetime(2025, 3, 1, 2, tzinfo=UTC))
    assert again == first and len(ledger) == n and book.held("umbrella") == 2
    before = snapshot(book, ledger)
    for other in (("v2", "umbrella", 2), ("v1", "umbrella", 1)):
        with pytest.raises(Conflict, match="already used"):
            book.reserve("o1", *other, at=at(2025, 3, 1))
    with pytest.raises(Conflict):
        book.reserve("o1", "v1", "umbrella", 2, at=at(2025, 3, 2))
    assert snapshot(book, ledger) == before
    book.cancel("o1", at=at(2025, 3, 2), reason="x")
    assert book.reserve("o1", "v1", "umbrella", 2, at=at(2025, 3, 1)).state is OrderState.CANCELLED


def test_an_order_id_taken_in_the_ledger_is_a_conflict() -> None:
    book, ledger = make_book(UMBRELLA)
    ledger.spend("o1", "v1", 22, at=at(2025, 3, 1))  # somebody else's spend, same id
    before = snapshot(book, ledger)
    with pytest.raises(Conflict, match="ledger"):
        book.reserve("o1", "v1", "umbrella", at=at(2025, 3, 1))
    assert snapshot(book, ledger) == before


# --- cancellation restores balances exactly -----------------------------------------------------

lots = st.lists(
    st.tuples(
        st.integers(1, 60),  # amount
        st.integers(-20, 20),  # available from: days after T0 (≤ 0: at once)
        st.none() | st.integers(1, 120),  # expires: days after T0
    ),
    min_size=1,
    max_size=6,
)


@given(
    lots=lots,
    price=st.integers(1, 40),
    quantity=st.integers(1, 4),
    reserve_day=st.integers(0, 60),
    cancel_after=st.integers(0, 90),
)
def test_cancel_restores_balances_exactly(
    lots: list[tuple[int, int, int | None]],
    price: int,
    quantity: int,
    reserve_day: int,
    cancel_after: int,
) -> None:
    ledger = PointsLedger()
    for k, (amount, avail, expires) in enumerate(lots):
        ledger.earn(
            f"e{k}", "v1", amount, at=T0, issuer="issuer:x",
            available_from=T0 + timedelta(days=max(avail, 0)),
            expires_at=None if expires is None else T0 + timedelta(days=expires),
        )  # fmt: skip
    book = Redemptions(ledger, Catalog([Item(id="x", name="X", price=price)]), volunteers=PEOPLE)
    reserved = T0 + timedelta(days=reserve_day)
    cancelled = reserved + timedelta(days=cancel_after)
    moments = [cancelled + timedelta(days=d) for d in (0, 1, 30, 400)]
    before = [ledger.balances("v1", as_of=m) for m in moments]
    postings = ledger.postings
    try:
        book.reserve("o1", "v1", "x", quantity, at=reserved)
    except InsufficientBalance as exc:
        assert exc.available == ledger.spendable("v1", at=reserved) < price * quantity
        assert ledger.postings == postings
        return
    book.cancel("o1", at=cancelled, reason="x")
    assert [ledger.balances("v1", as_of=m) for m in moments] == before
    assert ledger.balance("redemption") == 0 and ledger.total() == 0


# --- entries and the fold ---------------------------------------------------------------------


def test_orders_are_a_fold_of_immutable_entries() -> None:
    book, _ = make_book(UMBRELLA)
    book.reserve("o1", "v1", "umbrella", at=at(2025, 3, 1))
    book.reserve("o2", "v2", "umbrella", at=at(2025, 3, 2))
    book.fulfill("o1", at=at(2025, 3, 3))
    book.cancel("o2", at=at(2025, 3, 4), reason="x")
    entries = book.entries
    assert [type(e) for e in entries] == [Reserved, Reserved, Fulfilled, Cancelled]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        entries[0].quantity = 5  # type: ignore[misc]
    assert fold_orders(entries) == {o.id: o for o in book.orders()}
    at_2nd = fold_orders(entries, as_of=at(2025, 3, 2, 12))
    assert {k: o.state for k, o in at_2nd.items()} == {
        "o1": OrderState.RESERVED,
        "o2": OrderState.RESERVED,
    }
    assert book.order("o2", as_of=at(2025, 3, 2, 12)) == at_2nd["o2"]
    assert book.order("o2").state is OrderState.CANCELLED
    with pytest.raises(NotFound):
        book.order("o2", as_of=at(2025, 3, 1, 12))
    assert [o.id for o in book.orders(volunteer_id="v2")] == ["o2"]
    assert book.orders(as_of=at(2025, 2, 1)) == []
    with pytest.raises(NotFound):
        fold_orders([entries[2]])  # fulfilled, never reserved
    with pytest.raises(Conflict):
        fold_orders(
            [entries[0], entries[2], Cancelled(order_id="o1", at=at(2025, 3, 5), reason="x")]
        )
    with pytest.raises(Conflict):
        fold_orders([entries[0], entries[0]])
    with pytest.raises(InvalidValue):
        fold_orders(entries, as_of=datetime(2025, 3, 2))


# --- reports -----------------------------------------------------------------------------------


def test_reports_by_item_and_by_region() -> None:
    mug = Item(id="mug", name="杯子", price=7)
    people = dict(PEOPLE)
    book, _ = make_book(UMBRELLA, mug, people=people)
    book.reserve("o1", "v1", "umbrella", 2, at=at(2025, 3, 1))  # 芝罘 友谊街
    book.reserve("o2", "v4", "mug", 3, at=at(2025, 3, 1))  # 芝罘 建昌街
    book.reserve("o3", "v3", "umbrella", 1, at=at(2025, 3, 1))  # 青岛 城阳
    book.reserve("o4", "v2", "mug", 1, at=at(2025, 3, 1))  # 福山
    book.fulfill("o1", at=at(2025, 3, 2))
    book.cancel("o4", at=at(2025, 3, 5), reason="x")
    people["v1"] = person("v1", CHENGYANG)  # moved later: past orders stay where they were placed
    assert book.by_item() == {
        "umbrella": Tally(orders=2, units=3, points=66),
        "mug": Tally(orders=1, units=3, points=21),
    }
    assert book.by_item(as_of=at(2025, 3, 3))["mug"] == Tally(orders=2, units=4, points=28)
    assert book.by_item(as_of=at(2025, 2, 1)) == {}
    regions = book.by_region(TREE)
    assert regions["370602000000"] == Tally(orders=2, units=5, points=65)  # 芝罘
    assert regions["370602001000"] == Tally(orders=2, units=5, points=65)  # 向阳街道
    assert regions[YOUYI] == Tally(orders=1, units=2, points=44)
    assert regions["370600000000"] == Tally(orders=2, units=5, points=65)  # 烟台 (福山 cancelled)
    assert regions["370200000000"] == Tally(orders=1, units=1, points=22)
    assert regions["370000000000"] == Tally(orders=3, units=6, points=87)
    assert "370611000000" not in regions
    earlier = book.by_region(TREE, as_of=at(2025, 3, 3))
    assert earlier["370611000000"] == Tally(orders=1, units=1, points=7)
    assert earlier["370000000000"] == Tally(orders=4, units=7, points=94)
    assert list(regions) == [c for c in TREE.codes if c in regions]  # preorder
    with pytest.raises(UnknownRegion):
        book.by_region(TREE.subtree("3706"))  # 城阳 is not in 烟台's subtree


# --- a stateful machine against an independent oracle -----------------------------------------

M_ITEMS = {
    "umbrella": Item(id="umbrella", name="雨伞", price=22, stock=6, limit=2, period="quarter"),
    "rice": Item(id="rice", name="米", price=30, stock=3, min_star_level=1, within="3706"),
    "tea": Item(id="tea", name="茶", price=50, min_star_level=3),
    "towel": Item(id="towel", name="毛巾", price=5, stock=10, limit=3, period="day"),
    "badge": Item(id="badge", name="徽章", price=1, stock=2, limit=1, period="lifetime"),
}
M_POINTS = 150
M_START = at(2025, 3, 30, 8)
YANTAI = "370600000000"


def _oracle_period(period: str, when: datetime) -> tuple[int, ...]:
    """Written apart from the library: calendar fields of the Shanghai wall clock."""
    w = when.astimezone(SHANGHAI)
    return {
        "day": (w.year, w.month, w.day),
        "month": (w.year, w.month),
        "quarter": (w.year, [1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4][w.month - 1]),
        "year": (w.year,),
        "lifetime": (),
    }[period]


class RedemptionMachine(RuleBasedStateMachine):
    """Random reserve/fulfil/cancel sequences, each outcome predicted by a small model."""

    @initialize()
    def setup(self) -> None:
        self.book, self.ledger = make_book(
            *M_ITEMS.values(), points=dict.fromkeys(PEOPLE, M_POINTS)
        )
        self.clock = M_START
        self.model: dict[str, dict[str, Any]] = {}
        self.next_id = 0

    def active(self) -> list[dict[str, Any]]:
        return [o for o in self.model.values() if o["state"] != "cancelled"]

    def expected_error(self, vid: str, iid: str, qty: int) -> tuple[type[Exception], str] | None:
        item = M_ITEMS.get(iid)
        if item is None or vid not in PEOPLE:
            return NotFound, ""
        home = PEOPLE[vid].home_region
        if LEVELS[vid] < item.min_star_level or (
            item.within is not None and not home.startswith(item.within[:4])
        ):
            return PermissionDenied, ""
        if item.limit is not None and item.period is not None:
            key = _oracle_period(item.period.value, self.clock)
            used = sum(
                o["qty"]
                for o in self.active()
                if o["vid"] == vid
                and o["iid"] == iid
                and _oracle_period(item.period.value, o["at"]) == key
            )
            if used + qty > item.limit:
                return Conflict, ""
        if item.stock is not None:
            held = sum(o["qty"] for o in self.active() if o["iid"] == iid)
            if item.stock - held < qty:
                return InsufficientBalance, f"stock:{iid}"
        spent = sum(o["points"] for o in self.active() if o["vid"] == vid)
        if M_POINTS - spent < item.price * qty:
            return InsufficientBalance, f"volunteer:{vid}"
        return None

    @rule(hours=st.integers(0, 80))
    def tick(self, hours: int) -> None:
        self.clock += timedelta(hours=hours)

    @rule(
        vid=st.sampled_from([*PEOPLE, "ghost"]),
        iid=st.sampled_from([*M_ITEMS, "ghost"]),
        qty=st.integers(1, 3),
    )
    def reserve(self, vid: str, iid: str, qty: int) -> None:
        self.next_id += 1
        oid = f"o{self.next_id}"
        want = self.expected_error(vid, iid, qty)
        before = snapshot(self.book, self.ledger)
        if want is not None:
            exc, account = want
            with pytest.raises(exc) as info:
                self.book.reserve(oid, vid, iid, qty, at=self.clock)
            if exc is Conflict:
                assert not isinstance(info.value, InsufficientBalance)
            if account:
                assert isinstance(info.value, InsufficientBalance)
                assert info.value.account == account
            assert snapshot(self.book, self.ledger) == before
            return
        order = self.book.reserve(oid, vid, iid, qty, at=self.clock)
        points = M_ITEMS[iid].price * qty
        assert (order.state, order.points, order.home_region) == (
            OrderState.RESERVED,
            points,
            PEOPLE[vid].home_region,
        )
        self.model[oid] = {
            "vid": vid, "iid": iid, "qty": qty, "points": points, "at": self.clock,
            "state": "reserved", "done_at": None, "reason": None,
        }  # fmt: skip

    @rule(data=st.data())
    def repeat_reserve(self, data: st.DataObject) -> None:
        if not self.model:
            return
        oid = data.draw(st.sampled_from(sorted(self.model)))
        o = self.model[oid]
        before = snapshot(self.book, self.ledger)
        got = self.book.reserve(oid, o["vid"], o["iid"], o["qty"], at=o["at"])
        assert got.state.value == o["state"]
        with pytest.raises(Conflict):
            self.book.reserve(oid, o["vid"], o["iid"], o["qty"] + 1, at=o["at"])
        assert snapshot(self.book, self.ledger) == before

    @rule(data=st.data(), cancel=st.booleans())
    def finish(self, data: st.DataObject, cancel: bool) -> None:
        if not self.model:
            return
        oid = data.draw(st.sampled_from(sorted(self.model)))
        o = self.model[oid]
        target = "cancelled" if cancel else "fulfilled"
        reason = "取消" if cancel else None
        before = snapshot(self.book, self.ledger)
        vid = o["vid"]
        far = self.clock + timedelta(days=1000)
        balance = self.ledger.balances(vid, as_of=far)

        def call() -> Order:
            if cancel:
                return self.book.cancel(oid, at=self.clock, reason="取消")
            return self.book.fulfill(oid, at=self.clock)

        if o["state"] == "reserved":
            got = call()
            o.update(state=target, done_at=self.clock, reason=reason)
            assert got.state.value == target
            if cancel:
                after = self.ledger.balances(vid, as_of=far)
                assert after == attrs.evolve(balance, available=balance.available + o["points"])
        elif o["state"] == target and o["done_at"] == self.clock:
            assert call().state.value == target  # the same call again: no-op
            assert snapshot(self.book, self.ledger) == before
        else:
            with pytest.raises(Conflict):
                call()
            assert snapshot(self.book, self.ledger) == before

    @invariant()
    def ledger_balances(self) -> None:
        assert self.ledger.total() == 0
        assert self.ledger.balance("redemption") == sum(o["points"] for o in self.active())
        for vid in PEOPLE:
            spent = sum(o["points"] for o in self.active() if o["vid"] == vid)
            assert self.ledger.available(vid, as_of=self.clock) == M_POINTS - spent >= 0

    @invariant()
    def stock_never_oversold(self) -> None:
        for iid, item in M_ITEMS.items():
            held = sum(o["qty"] for o in self.active() if o["iid"] == iid)
            assert self.book.held(iid) == held
            if item.stock is not None:
                assert self.book.stock_left(iid) == item.stock - held >= 0

    @invariant()
    def limits_hold(self) -> None:
        for iid, item in M_ITEMS.items():
            if item.period is None or item.limit is None:
                continue
            per: dict[tuple[object, ...], int] = {}
            for o in self.active():
                if o["iid"] == iid:
                    k = (o["vid"], _oracle_period(item.period.value, o["at"]))
                    per[k] = per.get(k, 0) + o["qty"]
            assert all(n <= item.limit for n in per.values())

    @invariant()
    def state_is_the_fold(self) -> None:
        orders = {o.id: o for o in self.book.orders()}
        assert fold_orders(self.book.entries) == orders
        assert {k: o.state.value for k, o in orders.items()} == {
            k: o["state"] for k, o in self.model.items()
        }
        tallies = self.book.by_item()
        assert sum(t.points for t in tallies.values()) == sum(o["points"] for o in self.active())
        assert all(t.orders > 0 for t in tallies.values())


TestRedemptionMachine = RedemptionMachine.TestCase
TestRedemptionMachine.settings = settings(max_examples=60, stateful_step_count=40, deadline=None)


# --- threads -----------------------------------------------------------------------------------


def run_threads(n: int, work: Callable[[int], None]) -> None:
    barrier = threading.Barrier(n)
    errors: list[BaseException] = []

    def run(k: int) -> None:
        try:
            barrier.wait()
            work(k)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


def test_threads_never_oversell_stock() -> None:
    item = Item(id="scarce", name="紧俏", price=3, stock=25)
    people = {f"p{k}": person(f"p{k}") for k in range(40)}
    book, ledger = make_book(item, people=people, points=dict.fromkeys(people, 10))
    won: list[Order] = []
    refused: list[InsufficientBalance] = []
    lock = threading.Lock()

    def work(k: int) -> None:
        for j in range(15):
            vid = f"p{(k * 7 + j) % 40}"
            try:
                o = book.reserve(f"t{k}-{j}", vid, "scarce", 1 + (k + j) % 3, at=at(2025, 3, 1))
            except InsufficientBalance as exc:
                with lock:
                    refused.append(exc)
            else:
                with lock:
                    won.append(o)

    run_threads(8, work)
    assert len(won) + len(refused) == 120
    held = sum(o.quantity for o in won)
    assert book.held("scarce") == held <= 25
    assert book.stock_left("scarce") == 25 - held >= 0
    assert ledger.total() == 0 and ledger.balance("redemption") == 3 * held
    for vid in people:
        assert ledger.available(vid, as_of=at(2025, 3, 2)) >= 0


def test_threads_never_overspend_points_or_break_limits() -> None:
    tea = Item(id="tea", name="茶", price=7)
    book, ledger = make_book(tea, points={"v1": 100})

    def work(k: int) -> None:
        for j in range(20):
            try:
                book.reserve(f"t{k}-{j}", "v1", "tea", at=at(2025, 3, 1))
            except InsufficientBalance as exc:
                assert exc.account == "volunteer:v1"

    run_threads(8, work)
    assert len(book.orders()) == 100 // 7
    assert ledger.available("v1", as_of=at(2025, 3, 2)) == 100 % 7 and ledger.total() == 0

    once = Item(id="once", name="一次", price=1, limit=1, period="quarter")
    book2, _ = make_book(once)
    wins: list[str] = []

    def grab(k: int) -> None:
        try:
            book2.reserve(f"g{k}", "v1", "once", at=at(2025, 3, 1))
            wins.append(f"g{k}")
        except Conflict:
            pass

    run_threads(8, grab)
    assert len(wins) == 1 and len(book2.orders()) == 1


def test_threads_same_order_id_and_racing_fulfil_and_cancel() -> None:
    book, ledger = make_book(Item(id="x", name="X", price=2, stock=100))
    results: list[Order] = []
    run_threads(8, lambda k: results.append(book.reserve("same", "v1", "x", 3, at=at(2025, 3, 1))))
    assert len({attrs.astuple(o) for o in results}) == 1
    assert book.held("x") == 3 and ledger.balance("redemption") == 6

    for k in range(30):
        book.reserve(f"r{k}", "v2", "x", 1, at=at(2025, 3, 1))

    def race(k: int) -> None:
        for j in range(30):
            try:
                if k % 2:
                    book.cancel(f"r{j}", at=at(2025, 3, 2), reason="x")
                else:
                    book.fulfill(f"r{j}", at=at(2025, 3, 2))
            except Conflict:
                pass

    run_threads(6, race)
    states = [book.order(f"r{j}").state for j in range(30)]
    assert OrderState.RESERVED not in states
    kept = states.count(OrderState.FULFILLED)
    refunds = [p for p in ledger.postings if p.id.endswith("#refund")]
    assert len(refunds) == 30 - kept
    assert book.held("x") == 3 + kept and ledger.balance("redemption") == 6 + kept * 2
    assert ledger.total() == 0
