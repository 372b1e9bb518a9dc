"""Time-bank corrections (issue 14): refunding a withdrawal takes its clearing back, and a
deposit whose hours were revoked is reversed (what is left back to its bank, the used part clawed
back from the member's other credits of that bank and the rest owed), keeping positions, caps and
settlement consistent, idempotent by id, and the same when rebuilt from the journal.

Every datetime is explicit and aware (Asia/Shanghai); nothing here reads the wall clock.
"""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from pathlib import Path

import attrs
import pytest

from zhiyuan import SHANGHAI
from zhiyuan.credit import PointsLedger, PostingKind, owed_account, volunteer_account
from zhiyuan.credit.accounts import bank_account, clearing_account, served_account
from zhiyuan.credit.timebank import RegionPosition, Settlement, TimeBank, fold_positions
from zhiyuan.credit.timebank_policy import TIMEBANK_PROFILES, Relation, TimeBankPolicy
from zhiyuan.errors import Conflict, InsufficientBalance, InvalidValue, NotFound
from zhiyuan.hierarchy import Level, RegionTree, load_default
from zhiyuan.hours import Volunteer
from zhiyuan.hours.volunteers import check_character
from zhiyuan.journal import Journal
from zhiyuan.store import open_journal

TREE = load_default()
HD1 = "370211001001"  # 黄岛街道, 黄岛区, 青岛
HD1B = "370211001002"
CY1 = "370214001001"  # 城阳街道, 城阳区, 青岛
CY1B = "370214001002"
HD_BANK = "370211001000"
CY_BANK = "370214001000"

T0 = datetime(2024, 3, 1, 9, tzinfo=SHANGHAI)

OPEN = TimeBankPolicy(
    name="open",
    transfer_relations=frozenset(Relation),
    withdraw_relations=frozenset(set(Relation) - {Relation.DONATION}),
)
STREET_CITY = attrs.evolve(OPEN, issuing_level=Level.TOWNSHIP, exchange_level=Level.CITY)

NANJING_TREE = RegionTree.from_records(
    [
        ("32", "江苏省", None),
        ("3201", "南京市", "32"),
        ("320106", "鼓楼区", "3201"),
        ("320106001", "宁海路街道", "320106"),
    ]
)


def at(day: int = 0, minute: int = 0) -> datetime:
    return T0 + timedelta(days=day, minutes=minute)


def new_bank(
    policy: TimeBankPolicy = STREET_CITY, *, tree: RegionTree = TREE, journal: Journal | None = None
) -> TimeBank:
    return TimeBank(PointsLedger(instrument="time_credits", journal=journal), tree, policy)


def person(vid: str, born: date) -> Volunteer:
    first17 = f"370214{born:%Y%m%d}123"
    return Volunteer(
        id=vid,
        name="张三",
        id_number=first17 + check_character(first17),
        home_region=CY1,
        registered_on=date(2020, 1, 1),
    )


def observe(bank: TimeBank, members: tuple[str, ...] = ("a", "b", "c")) -> tuple[object, ...]:
    """Everything a caller can read of a bank, with the journal head."""
    return (
        bank.journal.head,
        bank.ledger.accounts(),
        bank.positions(),
        bank.settlement(),
        {m: (bank.balance(m), bank.holdings(m), bank.owed(m)) for m in members},
    )


def assert_consistent(bank: TimeBank) -> None:
    """The identities every position keeps, in fold terms and in account terms."""
    accounts = bank.ledger.accounts()
    positions = bank.positions()
    assert positions == fold_positions(bank.ledger.postings)
    assert bank.ledger.total() == 0
    for r, p in positions.items():
        assert p.outstanding - p.owed == p.issued - p.redeemed
        assert p.outstanding - p.owed == -(
            accounts.get(bank_account(r), 0) + accounts.get(served_account(r), 0)
        ) + accounts.get(clearing_account(r), 0)
        assert p.owed >= 0
    assert sum(p.clearing for p in positions.values()) == 0


# --- item 2: a refunded cross-region withdrawal leaves no debt between the regions ----------------


def test_refunded_cross_region_withdrawal_leaves_no_debt() -> None:
    """The issue's case: 60 min of 城阳 credits redeemed in 黄岛, then refunded."""
    bank = new_bank(TIMEBANK_PROFILES["qingdao_2021"])
    wang = person("v1", date(1950, 1, 1))
    bank.deposit("d1", wang, 90, at=at(0), region=CY1)
    bank.deposit("d2", wang, 60, at=at(1), region="370211001001")
    w = bank.withdraw("w1", wang, 120, at=at(2), region="370211001")
    assert "370214001000 owes 370211001000 60 min" in w.explain()
    before = bank.positions()
    r = bank.refund("w1", at=at(3))
    assert [(p.id, p.kind, p.source, p.target, p.amount) for p in r.postings] == [
        ("w1#1#refund", PostingKind.REFUND, served_account(HD_BANK), volunteer_account("v1"), 60),
        ("w1#2#refund", PostingKind.REFUND, served_account(HD_BANK), volunteer_account("v1"), 60),
        (
            "w1#2#clear#refund",
            PostingKind.CLEAR,
            clearing_account(HD_BANK),
            clearing_account(CY_BANK),
            60,
        ),
    ]
    assert r.operation == "refund" and r.minutes == 120 and not r.repeated
    assert "370214001000 no longer owes 370211001000 these 60 min" in r.explain()
    assert bank.settlement() == []
    assert all(
        p.clearing == 0 and p.served == 0 and p.redeemed == 0 for p in bank.positions().values()
    )
    assert bank.balance("v1") == 150
    assert bank.holdings("v1") == {HD_BANK: 60, CY_BANK: 90}
    assert bank.outstanding() == {HD_BANK: 60, CY_BANK: 90}
    # the history stands: as of before the refund, the debt was there
    assert bank.settlement(as_of=at(2, 1)) == [
        Settlement(debtor=CY_BANK, creditor=HD_BANK, minutes=60)
    ]
    assert bank.positions(as_of=at(2, 1)) == before
    assert_consistent(bank)
    # the credits can be redeemed again, and clear again
    again = bank.withdraw("w2", wang, 150, at=at(4), region=HD1)
    assert any(p.kind is PostingKind.CLEAR for p in again.postings)
    assert bank.settlement() == [Settlement(debtor=CY_BANK, creditor=HD_BANK, minutes=90)]
    assert_consistent(bank)


def test_refund_nets_against_a_debt_the_other_way() -> None:
    bank = new_bank()
    bank.deposit("d1", "a", 100, at=at(0), region=CY1)
    bank.deposit("d2", "b", 40, at=at(0), region=HD1)
    bank.withdraw("w1", "a", 100, at=at(1), region=HD1)  # 城阳 owes 黄岛 100
    bank.withdraw("w2", "b", 40, at=at(1), region=CY1)  # 黄岛 owes 城阳 40
    assert bank.settlement() == [Settlement(debtor=CY_BANK, creditor=HD_BANK, minutes=60)]
    bank.refund("w2", at=at(2))
    assert bank.settlement() == [Settlement(debtor=CY_BANK, creditor=HD_BANK, minutes=100)]
    bank.refund("w1", at=at(2))
    assert bank.settlement() == []
    assert_consistent(bank)


def test_refund_is_idempotent_and_refuses_what_it_cannot_refund() -> None:
    bank = new_bank()
    bank.deposit("d1", "a", 60, at=at(0), region=CY1)
    bank.deposit("d2", "a", 60, at=at(0), region=HD1)
    bank.transfer("t1", "a", "b", 10, relation="spouse", at=at(1))
    w = bank.withdraw("w1", "a", 70, at=at(1), region=HD1)
    r = bank.refund("w1", at=at(2))
    head = bank.journal.head
    again = bank.refund("w1", at=at(2))
    assert again.repeated and again.postings == r.postings and "already recorded" in again.explain()
    assert bank.refund("w1").repeated  # without a moment: the recorded one stands
    assert bank.journal.head == head
    with pytest.raises(Conflict, match="another moment"):
        bank.refund("w1", at=at(3))
    with pytest.raises(NotFound, match="nope"):
        bank.refund("nope", at=at(3))
    with pytest.raises(NotFound):  # a deposit is not a withdrawal
        bank.refund("d1", at=at(3))
    with pytest.raises(InvalidValue, match="not a time-bank withdrawal") as err:
        bank.refund("t1", at=at(3))  # a gift is not a withdrawal
    assert err.value.field == "withdrawal_id"
    assert bank.journal.head == head
    bank.withdraw("w2", "a", 10, at=at(5), region=HD1)
    after = bank.journal.head
    with pytest.raises(InvalidValue, match="before the withdrawal") as err:
        bank.refund("w2", at=at(4))
    assert err.value.field == "at"
    assert bank.journal.head == after
    assert [p.id for p in w.postings if p.kind is PostingKind.SPEND] == ["w1#1", "w1#2"]


def test_refund_completes_a_refund_made_through_the_ledger() -> None:
    """Before the bank could refund, a caller refunded the legs on the ledger; the clearing was
    left behind. Refunding through the bank takes it back, at the ledger refund's moment."""
    bank = new_bank()
    bank.deposit("d1", "a", 60, at=at(0), region=CY1)
    w = bank.withdraw("w1", "a", 60, at=at(1), region=HD1)
    spends = [p for p in w.postings if p.kind is PostingKind.SPEND]
    bank.ledger.refund(spends, at=at(2))
    assert bank.settlement() == [Settlement(debtor=CY_BANK, creditor=HD_BANK, minutes=60)]
    r = bank.refund("w1")
    assert [p.id for p in r.postings] == ["w1#1#refund", "w1#1#clear#refund"]
    assert not r.repeated and r.postings[1].at == at(2)
    assert bank.settlement() == []
    assert bank.refund("w1").repeated
    assert_consistent(bank)


def test_refund_of_a_withdrawal_for_a_relative_returns_to_the_holder() -> None:
    bank = new_bank(
        attrs.evolve(TIMEBANK_PROFILES["nanjing"], effective_from=date(2000, 1, 1)),
        tree=NANJING_TREE,
    )
    holder = person("h", date(1990, 1, 1))
    wife = person("w", date(1960, 1, 1))
    bank.deposit("d1", holder, 120, at=at(0), region="320106001")
    bank.withdraw("w1", holder, 60, at=at(1), region="320106001", recipient=wife, relation="spouse")
    bank.refund("w1", at=at(2))
    assert bank.balance("h") == 120 and bank.balance("w") == 0


# --- item 1: reversing a deposit whose hours were revoked -----------------------------------------


def test_reversing_an_untouched_deposit_takes_it_all_back() -> None:
    bank = new_bank()
    bank.deposit("d1", "a", 90, at=at(0), region=CY1)
    r = bank.reverse_deposit("d1", at=at(1), reason="工时被撤销")
    [p] = r.postings
    assert (p.id, p.kind, p.source, p.target, p.amount, p.lot, p.reverses, p.note) == (
        "d1#reverse",
        PostingKind.REVERSE,
        volunteer_account("a"),
        bank_account(CY_BANK),
        90,
        "d1",
        "d1",
        "工时被撤销",
    )
    assert r.operation == "reverse_deposit" and r.id == "d1" and r.minutes == 90
    assert "工时被撤销" in r.explain() and "the 90 left in a's account returned" in r.explain()
    assert bank.balance("a") == 0 and bank.holdings("a") == {} and bank.owed("a") == {}
    assert bank.positions() == {CY_BANK: RegionPosition(region=CY_BANK)}
    assert bank.liability() == {}
    assert_consistent(bank)


def test_reversal_claws_back_from_the_same_bank_and_records_the_rest_as_owed() -> None:
    bank = new_bank()
    bank.deposit("d1", "a", 120, at=at(0), region=CY1)
    bank.deposit("d2", "a", 30, at=at(0), region=CY1B)  # same street bank
    bank.deposit("d3", "a", 50, at=at(0), region=HD1)  # another bank: never taken
    bank.withdraw("w1", "a", 100, at=at(1), region=CY1)  # 100 of d1 (own bank first)
    before_clearing = bank.settlement()
    r = bank.reverse_deposit("d1", at=at(2), reason="重复记录 / duplicate")
    assert [(p.id, p.kind, p.source, p.lot, p.amount) for p in r.postings] == [
        ("d1#reverse", PostingKind.REVERSE, volunteer_account("a"), "d1", 20),
        ("d1#clawback#1", PostingKind.CLAWBACK, volunteer_account("a"), "d2", 30),
        ("d1#owed", PostingKind.CLAWBACK, owed_account("a"), None, 70),
    ]
    assert {p.target for p in r.postings} == {bank_account(CY_BANK)}
    assert all(p.reverses == "d1" and p.note == "重复记录 / duplicate" for p in r.postings)
    assert "100 min already used: 30 taken back" in r.explain()
    assert "70 recorded as owed to it" in r.explain()
    assert r.minutes == 120
    assert bank.holdings("a") == {HD_BANK: 50}
    assert bank.owed("a") == {CY_BANK: 70}
    assert bank.ledger.balance(owed_account("a")) == -70
    assert bank.settlement() == before_clearing  # a correction makes no clearing
    assert not [p for p in r.postings if p.kind is PostingKind.CLEAR]
    cy = bank.positions()[CY_BANK]
    assert cy == RegionPosition(
        region=CY_BANK, issued=30, redeemed=100, served=100, outstanding=0, owed=70
    )
    assert bank.outstanding()[HD_BANK] == 50
    assert_consistent(bank)


def test_the_debt_is_paid_first_from_later_credits_of_that_bank_only() -> None:
    bank = new_bank()
    bank.deposit("d1", "a", 100, at=at(0), region=CY1)
    bank.withdraw("w1", "a", 100, at=at(1), region=CY1)
    bank.reverse_deposit("d1", at=at(2), reason="撤销")
    assert bank.owed("a") == {CY_BANK: 100}
    other = bank.deposit("d2", "a", 40, at=at(3), region=HD1)  # another bank: not taken
    assert [p.id for p in other.postings] == ["d2"]
    gift = bank.deposit("d3", "b", 30, at=at(3), region=CY1)  # another member
    assert [p.id for p in gift.postings] == ["d3"]
    part = bank.deposit("d4", "a", 60, at=at(3), region=CY1B)
    assert [(p.id, p.kind, p.source, p.target, p.lot, p.amount) for p in part.postings] == [
        ("d4", PostingKind.EARN, bank_account(CY_BANK), volunteer_account("a"), None, 60),
        ("d4#settle", PostingKind.SETTLE, volunteer_account("a"), owed_account("a"), "d4", 60),
    ]
    assert part.minutes == 60 and "60 min paid first toward what is owed to 370214001000" in (
        part.explain()
    )
    assert bank.owed("a") == {CY_BANK: 40} and bank.holdings("a") == {HD_BANK: 40}
    rest = bank.deposit("d5", "a", 90, at=at(4), region=CY1)
    assert [p.amount for p in rest.postings] == [90, 40]
    assert bank.owed("a") == {} and bank.holdings("a") == {CY_BANK: 50, HD_BANK: 40}
    assert bank.ledger.balance(owed_account("a")) == 0
    assert bank.positions()[CY_BANK].owed == 0
    assert_consistent(bank)
    # a repeat returns the settle it made, though nothing is owed now
    again = bank.deposit("d4", "a", 60, at=at(3), region=CY1B)
    assert again.repeated and again.postings == part.postings


def test_a_refund_of_the_banks_credits_pays_the_debt_first() -> None:
    bank = new_bank()
    bank.deposit("d1", "a", 100, at=at(0), region=CY1)
    bank.withdraw("w1", "a", 100, at=at(1), region=HD1)  # cleared: 城阳 owes 黄岛 100
    bank.reverse_deposit("d1", at=at(2), reason="撤销")
    assert bank.owed("a") == {CY_BANK: 100}
    r = bank.refund("w1", at=at(3))
    assert [p.id for p in r.postings] == ["w1#1#refund", "w1#1#clear#refund", "w1#1#refund#settle"]
    assert bank.owed("a") == {} and bank.balance("a") == 0
    assert bank.settlement() == []
    assert bank.positions() == {
        CY_BANK: RegionPosition(region=CY_BANK),
        HD_BANK: RegionPosition(region=HD_BANK),
    }
    assert_consistent(bank)
    assert bank.refund("w1").postings == r.postings


def test_reversing_a_donated_deposit_takes_back_from_the_receiver() -> None:
    nj = attrs.evolve(
        TIMEBANK_PROFILES["nanjing"], effective_from=date(2000, 1, 1), min_withdrawal_age=None
    )
    bank = new_bank(nj, tree=NANJING_TREE)
    city = "320100000000"
    bank.deposit("g1", "v", 120, at=at(0), region="320106001", group="team-1", donate_to="elder")
    bank.withdraw("w1", "elder", 50, at=at(1), region="320106001")
    bank.deposit("d2", "v", 20, at=at(1), region="320106001")
    r = bank.reverse_deposit("g1", at=at(2), reason="团体活动不实")
    assert [(p.id, p.source, p.lot, p.amount) for p in r.postings] == [
        ("g1#reverse", volunteer_account("elder"), "g1#donate", 70),
        ("g1#clawback#1", volunteer_account("v"), "d2", 20),
        ("g1#owed", owed_account("v"), None, 30),
    ]
    assert "the 70 left in elder's account returned" in r.explain()
    assert bank.balance("elder") == 0 and bank.balance("v") == 0
    assert bank.owed("v") == {city: 30} and bank.owed("elder") == {}
    assert_consistent(bank)


def test_gifts_made_from_a_reversed_deposit_stay_with_the_receiver() -> None:
    bank = new_bank()
    bank.deposit("d1", "a", 60, at=at(0), region=CY1)
    bank.transfer("t1", "a", "b", 45, relation="spouse", at=at(1))
    r = bank.reverse_deposit("d1", at=at(2), reason="撤销")
    assert [(p.id, p.amount) for p in r.postings] == [("d1#reverse", 15), ("d1#owed", 45)]
    assert bank.holdings("b") == {CY_BANK: 45} and bank.owed("a") == {CY_BANK: 45}
    assert bank.positions()[CY_BANK] == RegionPosition(
        region=CY_BANK, issued=0, outstanding=45, owed=45
    )
    assert_consistent(bank)


def test_credits_banked_after_the_reversal_moment_are_not_clawed_back() -> None:
    bank = new_bank()
    bank.deposit("d1", "a", 60, at=at(0), region=CY1)
    bank.withdraw("w1", "a", 60, at=at(1), region=CY1)
    bank.deposit("d2", "a", 60, at=at(5), region=CY1)
    r = bank.reverse_deposit("d1", at=at(2), reason="撤销")  # before d2 was banked
    assert [(p.id, p.amount) for p in r.postings] == [("d1#owed", 60)]
    assert bank.holdings("a") == {CY_BANK: 60} and bank.owed("a") == {CY_BANK: 60}
    assert_consistent(bank)


def test_reversal_is_idempotent_and_another_reversal_conflicts() -> None:
    bank = new_bank()
    bank.deposit("d1", "a", 60, at=at(0), region=CY1)
    bank.withdraw("w1", "a", 20, at=at(1), region=CY1)
    r = bank.reverse_deposit("d1", at=at(2), reason="撤销")
    seen = observe(bank)
    again = bank.reverse_deposit("d1", at=at(2), reason="撤销")
    assert again.repeated and again.postings == r.postings and "already recorded" in again.explain()
    assert bank.reverse_deposit("d1", reason="撤销").repeated  # the recorded moment stands
    assert observe(bank) == seen
    with pytest.raises(Conflict, match="already reversed"):
        bank.reverse_deposit("d1", at=at(2), reason="另一个原因")
    with pytest.raises(Conflict, match="already reversed"):
        bank.reverse_deposit("d1", at=at(3), reason="撤销")
    assert observe(bank) == seen


def test_reversal_refuses_what_is_not_a_deposit() -> None:
    bank = new_bank()
    bank.deposit("d1", "a", 60, at=at(1), region=CY1)
    bank.withdraw("w1", "a", 20, at=at(1), region=CY1)
    bank.ledger.earn("x1", "a", 10, at=at(1), issuer="issuer:other")
    seen = observe(bank)
    with pytest.raises(NotFound, match="nope"):
        bank.reverse_deposit("nope", at=at(2), reason="撤销")
    with pytest.raises(NotFound):  # a withdrawal's id names no posting of its own
        bank.reverse_deposit("w1", at=at(2), reason="撤销")
    with pytest.raises(InvalidValue, match="not a time-bank deposit") as err:
        bank.reverse_deposit("x1", at=at(2), reason="撤销")
    assert err.value.field == "deposit_id"
    with pytest.raises(InvalidValue, match="before the deposit") as err:
        bank.reverse_deposit("d1", at=at(0), reason="撤销")
    assert err.value.field == "at"
    for reason in (None, "", "  ", 5):
        with pytest.raises(InvalidValue) as err:
            bank.reverse_deposit("d1", at=at(2), reason=reason)  # type: ignore[arg-type]
        assert err.value.field == "reason"
    assert observe(bank) == seen


# --- caps after a reversal --------------------------------------------------------------------------


def test_a_later_deposit_may_bank_what_the_reversed_one_used_of_the_caps() -> None:
    policy = attrs.evolve(STREET_CITY, daily_deposit_cap=2, lifetime_cap=3)
    bank = new_bank(policy)
    bank.deposit("d1", "a", 120, at=at(0), region=CY1)  # the whole day's cap
    bank.deposit("d2", "a", 60, at=at(1), region=CY1)  # the lifetime cap reached
    with pytest.raises(InvalidValue, match="in all"):
        bank.deposit("d3", "a", 1, at=at(2), region=CY1)
    bank.withdraw("w1", "a", 150, at=at(1, 1), region=CY1)  # used 120 of d1, 30 of d2
    bank.reverse_deposit("d1", at=at(2), reason="撤销")
    assert bank.owed("a") == {CY_BANK: 90}  # 30 clawed back from d2
    # day 0 and the lifetime have room again: the reversed deposit counts for neither
    r = bank.deposit("d3", "a", 120, at=at(0, 30), region=CY1)
    assert [p.amount for p in r.postings] == [120, 90]  # the debt is paid first
    with pytest.raises(InvalidValue, match="at most 120 min may be banked a day: 120 banked"):
        bank.deposit("d4", "a", 1, at=at(0, 40), region=CY1)
    with pytest.raises(InvalidValue, match="at most 180 min may be banked in all: 180 banked"):
        bank.deposit("d4", "a", 1, at=at(3), region=CY1)
    assert_consistent(bank)


def test_storage_cap_counts_what_a_deposit_adds_after_paying_the_debt() -> None:
    bank = new_bank(attrs.evolve(OPEN, storage_cap=1))  # 60 min; each code its own bank
    bank.deposit("d1", "a", 60, at=at(0), region=CY1)
    bank.withdraw("w1", "a", 60, at=at(1), region=CY1)
    bank.reverse_deposit("d1", at=at(2), reason="撤销")
    assert bank.owed("a") == {CY1: 60}
    r = bank.deposit("d2", "a", 120, at=at(3), region=CY1)  # adds 60 net: within the cap
    assert [p.amount for p in r.postings] == [120, 60] and bank.balance("a") == 60
    with pytest.raises(InvalidValue, match="an account holds at most 60 min: a holds 60"):
        bank.deposit("d3", "a", 1, at=at(3), region=CY1)


# --- ids ----------------------------------------------------------------------------------------------


def test_one_id_names_one_operation_of_any_kind() -> None:
    bank = new_bank()
    bank.deposit("x", "a", 60, at=at(0), region=CY1)
    bank.withdraw("y", "a", 10, at=at(1), region=CY1)
    bank.transfer("z", "a", "b", 10, relation="spouse", at=at(1))
    seen = observe(bank)
    with pytest.raises(Conflict):
        bank.withdraw("x", "a", 10, at=at(1), region=CY1)
    with pytest.raises(Conflict):
        bank.transfer("x", "a", "b", 10, relation="spouse", at=at(1))
    with pytest.raises(Conflict):
        bank.deposit("y", "a", 10, at=at(1), region=CY1)
    with pytest.raises(Conflict):
        bank.transfer("y", "a", "b", 10, relation="spouse", at=at(1))
    with pytest.raises(Conflict):
        bank.withdraw("z", "a", 10, at=at(1), region=CY1)
    with pytest.raises(Conflict):
        bank.deposit("z", "a", 10, at=at(1), region=CY1)
    assert observe(bank) == seen


def test_repeats_compare_every_argument() -> None:
    bank = new_bank(attrs.evolve(STREET_CITY, group_time_donate_only=False))
    bank.deposit("d1", "a", 60, at=at(0), region=CY1, donate_to="b")
    bank.deposit("d2", "a", 60, at=at(0), region=CY1)
    bank.withdraw("w1", "a", 30, at=at(1), region=CY1, recipient="c", relation="spouse")
    bank.transfer("t1", "a", "c", 10, relation="spouse", at=at(1))
    seen = observe(bank)
    assert bank.deposit("d1", "a", 60, at=at(0), region=CY1, donate_to="b").repeated
    with pytest.raises(Conflict):  # the same deposit, not donated
        bank.deposit("d1", "a", 60, at=at(0), region=CY1)
    with pytest.raises(Conflict):  # donated now
        bank.deposit("d2", "a", 60, at=at(0), region=CY1, donate_to="b")
    with pytest.raises(Conflict):
        bank.deposit("d2", "a", 60, at=at(0), region=CY1, group="team")
    assert bank.withdraw(
        "w1", "a", 30, at=at(1), region=CY1, recipient="c", relation="spouse"
    ).repeated
    with pytest.raises(Conflict):  # for the holder now
        bank.withdraw("w1", "a", 30, at=at(1), region=CY1)
    with pytest.raises(Conflict):  # another relation
        bank.withdraw("w1", "a", 30, at=at(1), region=CY1, recipient="c", relation="parent")
    with pytest.raises(Conflict):
        bank.transfer("t1", "a", "c", 10, relation="parent", at=at(1))
    assert observe(bank) == seen


# --- rebuilt from the journal ---------------------------------------------------------------------


def history(bank: TimeBank) -> None:
    """Deposits, cross-region withdrawals, a gift, a refund, reversals and a debt paid."""
    bank.deposit("d1", "a", 100, at=at(0), region=CY1)
    bank.deposit("d2", "a", 50, at=at(0), region=HD1)
    bank.deposit("d3", "b", 80, at=at(0), region=HD1B)
    bank.withdraw("w1", "a", 120, at=at(1), region=HD1)
    bank.withdraw("w2", "b", 30, at=at(1), region=CY1)
    bank.transfer("t1", "a", "c", 20, relation="spouse", at=at(2))
    bank.refund("w2", at=at(3))
    bank.reverse_deposit("d1", at=at(4), reason="工时撤销")
    bank.reverse_deposit("d3", at=at(4), reason="工时撤销")
    bank.deposit("d4", "a", 30, at=at(5), region=CY1)


def reads(bank: TimeBank) -> tuple[object, ...]:
    state = bank._state
    return (
        *observe(bank),
        bank.liability(),
        bank.positions(as_of=at(3)),
        state.deposited,
        state.daily,
        state.debts,
        state.settle,
    )


def fixed_clock() -> datetime:
    return datetime(2025, 1, 1, tzinfo=SHANGHAI)


def test_rebuilt_from_the_journal_equals_the_live_bank() -> None:
    policy = attrs.evolve(STREET_CITY, lifetime_cap=10, daily_deposit_cap=5)
    bank = new_bank(policy, journal=Journal(clock=fixed_clock))
    history(bank)
    assert bank.owed("a") == {CY_BANK: 60} and bank.owed("b") == {}
    assert_consistent(bank)
    out = io.StringIO()
    bank.journal.export_jsonl(out)
    fresh = Journal(clock=fixed_clock)
    fresh.import_jsonl(io.StringIO(out.getvalue()))
    rebuilt = new_bank(policy, journal=fresh)
    assert reads(rebuilt) == reads(bank)
    # and it goes on the same way: the caps and the debt as the live bank has them
    for b in (bank, rebuilt):
        r = b.deposit("d9", "a", 200, at=at(0, 30), region=CY1)
        assert [p.amount for p in r.postings] == [200, 60]
    assert reads(rebuilt) == reads(bank)


def test_reopened_from_a_checkpoint_equals_the_live_bank(tmp_path: Path) -> None:
    path = tmp_path / "bank.db"
    policy = attrs.evolve(STREET_CITY, lifetime_cap=10)
    with open_journal(path) as journal:
        bank = new_bank(policy, journal=journal)
        history(bank)
        journal.checkpoint()
        live = reads(bank)
    with open_journal(path) as journal:
        assert reads(new_bank(policy, journal=journal)) == live


def test_a_history_without_corrections_reads_as_before() -> None:
    """The fold of ordinary deposits and withdrawals is unchanged: no position owes anything."""
    bank = new_bank()
    bank.deposit("d1", "a", 100, at=at(0), region=CY1)
    bank.withdraw("w1", "a", 30, at=at(1), region=HD1)
    assert bank.positions()[CY_BANK] == RegionPosition(
        region=CY_BANK, issued=100, redeemed=30, outstanding=70, clearing=-30
    )
    with pytest.raises(InsufficientBalance):
        bank.withdraw("w2", "a", 71, at=at(1), region=HD1)
    assert_consistent(bank)
