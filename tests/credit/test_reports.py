"""Reports over a points ledger: outstanding points by home region and points expiring soon,
checked against brute force on random ledgers (earn with pending and expiry, spend, transfer,
refund, reversal with clawback or debt, sweeps).

The brute force replays the postings up to ``as_of`` into a fresh ledger and reads its lots, and
compares with :func:`~zhiyuan.credit.fold_balances`; the reports fold the postings themselves.
Every datetime is explicit and aware (Asia/Shanghai); nothing here reads the wall clock.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from zhiyuan import SHANGHAI
from zhiyuan.credit import (
    ClawbackRule,
    Lot,
    PointsLedger,
    Posting,
    fold_balances,
    owed_account,
    volunteer_account,
)
from zhiyuan.credit.reports import ExpiringPoints, expiring_soon, points_liability_by_region
from zhiyuan.errors import InvalidValue, NotFound, UnknownRegion, ZhiyuanError
from zhiyuan.hierarchy import load_default

TREE = load_default()
T0 = datetime(2025, 1, 1, 9, tzinfo=SHANGHAI)
VOLS = ("v1", "v2", "v3", "v4")
HOME = {
    "v1": "370602001001",  # 芝罘区 向阳街道
    "v2": "370602001002",  # 芝罘区 向阳街道
    "v3": "370602002001",  # 芝罘区 东山街道
    "v4": "370214001001",  # 青岛 城阳
}


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


# --- examples -------------------------------------------------------------------------------------


def small_ledger() -> PointsLedger:
    book = PointsLedger()
    book.earn("e1", "v1", 30, at=day(0), issuer="issuer:芝罘", expires_at=day(60))
    book.earn("e2", "v2", 20, at=day(1), issuer="issuer:芝罘", available_from=day(10))
    book.earn("e3", "v3", 50, at=day(2), issuer="issuer:芝罘", expires_at=day(20))
    book.earn("e4", "v4", 5, at=day(3), issuer="issuer:城阳", expires_at=day(40))
    book.spend("s1", "v1", 10, at=day(5))
    return book


def test_liability_by_home_region_rolled_up() -> None:
    book = small_ledger()
    out = points_liability_by_region(book, HOME, TREE, as_of=day(6))
    assert out["370602001001"] == 20 and out["370602001002"] == 20  # pending counts
    assert out["370602001000"] == 40 and out["370602002000"] == 50
    assert out["370602000000"] == 90 and out["370600000000"] == 90
    assert out["370200000000"] == 5 and out["370000000000"] == 95
    assert list(out) == sorted(out, key=TREE.codes.index)  # preorder


def test_expired_points_are_not_outstanding_swept_or_not() -> None:
    book = small_ledger()
    before = points_liability_by_region(book, HOME, TREE, as_of=day(30))
    assert "370602002001" not in before  # v3's 50 expired on day 20
    assert (
        points_liability_by_region(book, HOME, TREE, as_of=day(30), include_expired=True)[
            "370602002001"
        ]
        == 50
    )
    book.expire(day(30))
    assert points_liability_by_region(book, HOME, TREE, as_of=day(30)) == before
    assert "370602002001" not in points_liability_by_region(
        book, HOME, TREE, as_of=day(30), include_expired=True
    )


def test_what_is_owed_is_netted() -> None:
    book = PointsLedger()
    book.earn("e1", "v1", 30, at=day(0), issuer="issuer:a")
    book.spend("s1", "v1", 30, at=day(1))
    book.earn("e2", "v2", 10, at=day(1), issuer="issuer:a")
    book.reverse_earning("e1", at=day(2), reason="虚假时长", rule=ClawbackRule.NEGATIVE)
    assert book.balance(owed_account("v1")) == -30
    out = points_liability_by_region(book, HOME, TREE, as_of=day(3))
    assert out["370602001001"] == -30 and out["370602001000"] == -20


def test_home_regions_are_checked() -> None:
    book = small_ledger()
    with pytest.raises(NotFound, match="v4"):
        points_liability_by_region(
            book, {k: v for k, v in HOME.items() if k != "v4"}, TREE, as_of=day(6)
        )
    with pytest.raises(UnknownRegion):
        points_liability_by_region(book, {**HOME, "v4": "370214999001"}, TREE, as_of=day(6))
    # a volunteer with nothing outstanding needs no home; short code forms are accepted
    out = points_liability_by_region(
        book, {**HOME, "v4": "370214001", "x": "bad"}, TREE, as_of=day(6)
    )
    assert out["370214001000"] == 5
    with pytest.raises(InvalidValue, match="naive"):
        points_liability_by_region(book, HOME, TREE, as_of=datetime(2025, 1, 1))


def test_without_as_of_the_report_is_taken_now() -> None:
    book = PointsLedger()
    book.earn("e1", "v1", 7, at=day(0), issuer="issuer:a")  # no expiry: the clock does not matter
    assert points_liability_by_region(book, HOME, TREE)["370000000000"] == 7
    assert points_liability_by_region(PointsLedger(), HOME, TREE) == {}


def test_expiring_soon_window_edges() -> None:
    book = small_ledger()
    assert expiring_soon(book, within_days=14, as_of=day(6)) == [
        ExpiringPoints("v3", 50, day(20))  # day 6 + 14 = day 20: included
    ]
    assert expiring_soon(book, within_days=13, as_of=day(6)) == []
    assert expiring_soon(book, within_days=60, as_of=day(6)) == [
        ExpiringPoints("v3", 50, day(20)),
        ExpiringPoints("v4", 5, day(40)),
        ExpiringPoints("v1", 20, day(60)),
    ]
    assert expiring_soon(book, ["v1", "v2"], within_days=60, as_of=day(6)) == [
        ExpiringPoints("v1", 20, day(60))
    ]
    assert expiring_soon(book, within_days=60, as_of=day(20)) == [  # expired at day 20: gone
        ExpiringPoints("v4", 5, day(40)),
        ExpiringPoints("v1", 20, day(60)),
    ]
    assert expiring_soon(book, within_days=0, as_of=day(6)) == []


def test_pending_lots_are_not_expiring_and_earliest_is_the_first() -> None:
    book = PointsLedger()
    book.earn("e1", "v1", 5, at=day(0), issuer="i:a", available_from=day(3), expires_at=day(4))
    book.earn("e2", "v1", 6, at=day(0), issuer="i:a", expires_at=day(9))
    book.earn("e3", "v1", 7, at=day(0), issuer="i:a", expires_at=day(5))
    assert expiring_soon(book, within_days=10, as_of=day(1)) == [ExpiringPoints("v1", 13, day(5))]
    assert expiring_soon(book, within_days=10, as_of=day(3)) == [ExpiringPoints("v1", 18, day(4))]


@pytest.mark.parametrize("bad", [-1, 1.5, True])
def test_expiring_soon_checks_its_window(bad: Any) -> None:
    with pytest.raises(InvalidValue, match="within_days"):
        expiring_soon(PointsLedger(), within_days=bad, as_of=day(0))
    with pytest.raises(InvalidValue):
        expiring_soon(PointsLedger(), within_days=1, as_of="2025-01-01")  # type: ignore[arg-type]


# --- the property: random ledgers against brute force ---------------------------------------------

amounts = st.integers(1, 40)
vols = st.sampled_from(VOLS)
earn_steps = st.tuples(
    st.just("earn"), vols, amounts, st.integers(0, 3), st.none() | st.integers(1, 20)
)
steps = st.lists(
    st.one_of(
        earn_steps,
        earn_steps,
        st.tuples(st.just("earn"), vols, amounts, st.just(0), st.none()),
        st.tuples(st.just("earn"), vols, amounts, st.just(0), st.none()),
        st.tuples(st.just("spend"), vols, st.integers(1, 15)),
        st.tuples(st.just("spend"), vols, st.integers(1, 15)),
        st.tuples(st.just("transfer"), vols, vols, st.integers(1, 15)),
        st.tuples(st.just("refund"), st.integers(0, 20)),
        st.tuples(st.just("reverse"), st.integers(0, 20), st.sampled_from(ClawbackRule)),
        st.tuples(st.just("expire")),
        st.tuples(st.just("wait"), st.integers(1, 5)),
    ),
    min_size=20,
    max_size=60,
)


def build(ops: list[tuple[Any, ...]]) -> tuple[PointsLedger, datetime]:
    book = PointsLedger()
    clock = T0
    earns: list[str] = []
    spends: list[list[Posting]] = []
    for k, op in enumerate(ops):
        clock += timedelta(hours=1)
        kind = op[0]
        try:
            if kind == "earn":
                _, v, n, pending, expiry = op
                book.earn(
                    f"e{k}",
                    v,
                    n,
                    at=clock,
                    issuer="issuer:x",
                    available_from=clock + timedelta(days=pending),
                    expires_at=None if expiry is None else clock + timedelta(days=expiry),
                )
                earns.append(f"e{k}")
            elif kind == "spend":
                spends.append(book.spend(f"s{k}", op[1], op[2], at=clock))
            elif kind == "transfer":
                book.transfer(f"t{k}", op[1], op[2], op[3], at=clock)
            elif kind == "refund" and spends:
                book.refund(spends[op[1] % len(spends)], at=clock)
            elif kind == "reverse" and earns:
                book.reverse_earning(earns[op[1] % len(earns)], at=clock, reason="x", rule=op[2])
            elif kind == "expire":
                book.expire(clock)
            elif kind == "wait":
                clock += timedelta(days=op[1])
        except ZhiyuanError:
            pass
    return book, clock


class Then:
    """The ledger at ``as_of``, brute force: lots and balances summed from the postings alone."""

    def __init__(self, book: PointsLedger, as_of: datetime) -> None:
        # A posting that consumes a lot opened after ``as_of`` is left out: ``expire`` dates its
        # posting at the lot's expiry, which precedes the lot itself when an expired lot was
        # refunded (the refund reopens it with its old dates).
        opened = {p.id: p.at for p in book.postings}
        kept = [
            p for p in book.postings if p.at <= as_of and (p.lot is None or opened[p.lot] <= as_of)
        ]
        self.balances: dict[str, int] = {}
        self.left: dict[str, dict[str, tuple[int, Posting]]] = {}
        for p in kept:
            self.balances[p.source] = self.balances.get(p.source, 0) - p.amount
            self.balances[p.target] = self.balances.get(p.target, 0) + p.amount
            if p.lot is not None:
                n, lot = self.left[p.source][p.lot]
                self.left[p.source][p.lot] = (n - p.amount, lot)
            if p.target.startswith("volunteer:"):
                self.left.setdefault(p.target, {})[p.id] = (p.amount, p)

    def balance(self, account: str) -> int:
        return self.balances.get(account, 0)

    def lots(self, v: str) -> list[Lot]:
        return [
            Lot(
                id=lot.id,
                account=lot.target,
                amount=lot.amount,
                remaining=n,
                opened_at=lot.at,
                available_from=lot.available_from or lot.at,
                expires_at=lot.expires_at,
            )
            for n, lot in self.left.get(f"volunteer:{v}", {}).values()
            if n > 0
        ]


def replay(book: PointsLedger, as_of: datetime) -> Then:
    return Then(book, as_of)


def brute_net(book: PointsLedger, v: str, as_of: datetime, include_expired: bool) -> int:
    then = replay(book, as_of)
    lots = sum(
        lot.remaining
        for lot in then.lots(v)
        if include_expired or lot.expires_at is None or as_of < lot.expires_at
    )
    net = lots + then.balance(owed_account(v))
    b = fold_balances(book.postings, v, as_of=as_of)
    assert net == b.net - (0 if include_expired else b.expired_unswept)
    return net


@settings(max_examples=150)
@given(steps, st.integers(0, 100), st.booleans())
def test_liability_equals_the_brute_force_fold(
    ops: list[tuple[Any, ...]], where: int, include_expired: bool
) -> None:
    book, end = build(ops)
    as_of = T0 + (end - T0 + timedelta(days=3)) * where / 100
    out = points_liability_by_region(book, HOME, TREE, as_of=as_of, include_expired=include_expired)
    nets = {v: brute_net(book, v, as_of, include_expired) for v in VOLS}
    want: dict[str, int] = {}
    for v, n in nets.items():
        if n:
            for code in [HOME[v], *(a.code for a in TREE.ancestors(HOME[v]))]:
                want[code] = want.get(code, 0) + n
    assert out == want
    event(f"postings: {min(len(book) // 10 * 10, 40)}+")
    event("some outstanding" if out else "nothing outstanding")
    if any(n < 0 for n in nets.values()):
        event("a volunteer owes")
    for root in TREE.roots():
        if root.code in out:
            assert out[root.code] == sum(
                n for v, n in nets.items() if TREE.is_within(HOME[v], root.code)
            )


@settings(max_examples=150)
@given(steps, st.integers(0, 100), st.integers(0, 25))
def test_expiring_soon_equals_the_brute_force_fold(
    ops: list[tuple[Any, ...]], where: int, within: int
) -> None:
    book, end = build(ops)
    as_of = T0 + (end - T0 + timedelta(days=3)) * where / 100
    soon = as_of + timedelta(days=within)
    out = expiring_soon(book, within_days=within, as_of=as_of)
    then = replay(book, as_of)
    want = []
    for v in VOLS:
        hits = [
            lot
            for lot in then.lots(v)
            if lot.expires_at is not None and lot.available_from <= as_of < lot.expires_at <= soon
        ]
        amount = sum(lot.remaining for lot in hits)
        assert (
            amount == fold_balances(book.postings, v, as_of=as_of, within_days=within).expiring_soon
        )
        if amount:
            earliest = min(lot.expires_at for lot in hits if lot.expires_at is not None)
            want.append(ExpiringPoints(v, amount, earliest))
    assert out == sorted(want, key=lambda e: (e.earliest_expiry, e.volunteer_id))
    event("some expiring" if out else "none expiring")
    only = expiring_soon(book, ["v2", "v3"], within_days=within, as_of=as_of)
    assert only == [e for e in out if e.volunteer_id in ("v2", "v3")]


# --- issue 14: reversing an expired lot; bad arguments ---------------------------------------------


@pytest.mark.parametrize("swept", [True, False])
def test_reversing_an_expired_lot_leaves_neither_liability_nor_expiry_counting_it(
    swept: bool,
) -> None:
    book = small_ledger()  # v3's e3 (50) expires on day 20, unspent
    if swept:
        book.expire(day(30))
    issued_before = -book.balance("issuer:芝罘")
    report = {
        flag: points_liability_by_region(book, HOME, TREE, as_of=day(30), include_expired=flag)
        for flag in (False, True)
    }
    assert issued_before == 100 and book.balance("expiry") == (50 if swept else 0)
    assert report[True].get("370602002001") == (None if swept else 50)

    r = book.reverse_earning("e3", at=day(31), reason="虚假时长")
    assert [(p.id, p.source, p.amount) for p in r.postings] == [
        ("e3#expired", "expiry", 50) if swept else ("e3#reverse", volunteer_account("v3"), 50)
    ]
    # the issuer no longer owes the 50 and the expiry total no longer counts them
    assert -book.balance("issuer:芝罘") == issued_before - 50
    assert book.balance("expiry") == 0
    assert book.balances("v3", as_of=day(31)).net == 0
    assert book.expire(day(31)) == []  # nothing left to sweep
    after = points_liability_by_region(book, HOME, TREE, as_of=day(31), include_expired=True)
    assert "370602002001" not in after
    assert after == points_liability_by_region(book, HOME, TREE, as_of=day(31))
    assert expiring_soon(book, ["v3"], within_days=30, as_of=day(31)) == []
    # what is outstanding is what the issuers issued less what expired and what was redeemed
    outstanding = sum(n for code, n in after.items() if TREE.parent(code) is None)
    issued = -sum(n for a, n in book.accounts().items() if a.startswith("issuer:"))
    assert outstanding == issued - book.balance("expiry") - book.balance("redemption")
    # the past is unchanged
    for flag in (False, True):
        assert (
            points_liability_by_region(book, HOME, TREE, as_of=day(30), include_expired=flag)
            == report[flag]
        )


@pytest.mark.parametrize(
    ("field", "call"),
    [
        ("within_days", lambda b: expiring_soon(b, within_days=10**10, as_of=day(0))),
        ("within_days", lambda b: expiring_soon(b, within_days=36_501, as_of=day(0))),
        ("within_days", lambda b: expiring_soon(b, within_days=None, as_of=day(0))),
        ("as_of", lambda b: expiring_soon(b, within_days=1, as_of=datetime(9999, 1, 1))),
        ("volunteer_ids", lambda b: expiring_soon(b, "v1", within_days=1, as_of=day(0))),
        ("volunteer_ids", lambda b: expiring_soon(b, {"v1": 1}, within_days=1, as_of=day(0))),
        ("volunteer_ids", lambda b: expiring_soon(b, [None], within_days=1, as_of=day(0))),
        ("volunteer_ids", lambda b: expiring_soon(b, ["\ud800"], within_days=1, as_of=day(0))),
        ("ledger", lambda b: expiring_soon(None, within_days=1, as_of=day(0))),
        ("ledger", lambda b: points_liability_by_region(b.postings, HOME, TREE)),
        ("home_of", lambda b: points_liability_by_region(b, list(HOME.items()), TREE)),
        ("tree", lambda b: points_liability_by_region(b, HOME, None)),
        ("include_expired", lambda b: points_liability_by_region(b, HOME, TREE, include_expired=1)),
        ("as_of", lambda b: points_liability_by_region(b, HOME, TREE, as_of="2025-01-01")),
    ],
    ids=lambda x: x if isinstance(x, str) else "",
)
def test_bad_report_arguments_name_their_field(field: str, call: Any) -> None:
    book = small_ledger()
    head = book.journal.head
    with pytest.raises(InvalidValue) as info:
        call(book)
    assert info.value.field == field
    assert book.journal.head == head
