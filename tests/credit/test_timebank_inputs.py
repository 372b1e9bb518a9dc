"""Bad input to the time bank (issue 14): every public method and value class refuses a wrong
argument with an :class:`~zhiyuan.errors.InvalidValue` naming the field (never a TypeError or
AttributeError), and a refused operation leaves the books exactly as they were (journal head,
accounts, positions).

Every datetime is explicit and aware (Asia/Shanghai); nothing here reads the wall clock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import attrs
import pytest

from zhiyuan import SHANGHAI
from zhiyuan.credit import PointsLedger, Posting
from zhiyuan.credit.timebank import (
    RegionPosition,
    Settlement,
    TimeBank,
    TimeBankReceipt,
    _id_of,
    fold_positions,
)
from zhiyuan.credit.timebank_policy import Relation, TimeBankPolicy
from zhiyuan.errors import InvalidValue, UnknownRegion, ZhiyuanError
from zhiyuan.explain import finding
from zhiyuan.hierarchy import Level, load_default

TREE = load_default()
CY1 = "370214001001"
HD1 = "370211001001"
T0 = datetime(2024, 3, 1, 9, tzinfo=SHANGHAI)
NAIVE = datetime(2024, 3, 2, 9)
POLICY = TimeBankPolicy(
    name="open",
    transfer_relations=frozenset(Relation),
    withdraw_relations=frozenset(set(Relation) - {Relation.DONATION}),
    issuing_level=Level.TOWNSHIP,
    exchange_level=Level.CITY,
)


class NotAMember:
    """Has an id but no age: not a :class:`~zhiyuan.credit.timebank.Member`."""

    id = "a"


class BadAge:
    """A member whose age is not a number."""

    id = "old"

    def age_on(self, day: date) -> object:
        return "seventy"


def at(day: int = 0) -> datetime:
    return T0 + timedelta(days=day)


def fresh() -> TimeBank:
    """A bank with a deposit, a withdrawal (cleared across streets) and a gift recorded."""
    bank = TimeBank(PointsLedger(instrument="time_credits"), TREE, POLICY)
    bank.deposit("d1", "a", 120, at=at(0), region=CY1)
    bank.withdraw("w1", "a", 30, at=at(1), region=HD1)
    bank.transfer("t1", "a", "b", 10, relation="spouse", at=at(1))
    return bank


def observe(bank: TimeBank) -> tuple[object, ...]:
    return (
        bank.journal.head,
        bank.ledger.postings,
        bank.ledger.accounts(),
        bank.positions(),
        bank.settlement(),
        bank.owed("a"),
    )


JUNK_IDS = [None, 5, "", "  ", "a#b", "\ud800", b"d9", ["d9"]]
JUNK_MEMBERS = [None, 5, "", " ", object(), NotAMember(), b"a", ["a"], "\ud800"]
JUNK_MINUTES = [0, -1, 1.5, 60.0, True, False, "60", None, 10**9 + 1, 10**30]
JUNK_REGIONS = [None, "37x", 5, "3702140", [CY1], b"370214001001", 1.5, True]
JUNK_MOMENTS = [NAIVE, "2024-03-02", date(2024, 3, 2), 5, datetime(1800, 1, 1, tzinfo=SHANGHAI)]
JUNK_RELATIONS = [None, "cousin", 5, ["spouse"], {"spouse": 1}]
JUNK_TEXTS = [5, "", "   ", ["team"], "\ud800"]


def cases() -> list[tuple[str, str, Callable[[TimeBank, Any], object], Any]]:
    """(operation, field, call with the junk in that field, junk value)."""
    out: list[tuple[str, str, Callable[[TimeBank, Any], object], Any]] = []

    def add(
        op: str, field: str, values: list[Any], call: Callable[[TimeBank, Any], object]
    ) -> None:
        out.extend((op, field, call, v) for v in values)

    def deposit(**kw: Any) -> Callable[[TimeBank, Any], object]:
        def call(b: TimeBank, v: Any) -> object:
            args: dict[str, Any] = {
                "id": "d9",
                "volunteer": "a",
                "minutes": 60,
                "at": at(2),
                "region": CY1,
            }
            args.update({k: (v if x is None else x) for k, x in kw.items()})
            return b.deposit(**args)

        return call

    add("deposit", "id", JUNK_IDS, deposit(id=None))
    add("deposit", "volunteer", JUNK_MEMBERS, deposit(volunteer=None))
    add("deposit", "minutes", JUNK_MINUTES, deposit(minutes=None))
    add("deposit", "region", JUNK_REGIONS, deposit(region=None))
    add("deposit", "at", JUNK_MOMENTS, deposit(at=None))
    add("deposit", "group", JUNK_TEXTS, deposit(group=None))
    add("deposit", "donate_to", [5, "", object(), NotAMember()], deposit(donate_to=None))

    def withdraw(**kw: Any) -> Callable[[TimeBank, Any], object]:
        def call(b: TimeBank, v: Any) -> object:
            args: dict[str, Any] = {
                "id": "w9",
                "volunteer": "a",
                "minutes": 10,
                "at": at(2),
                "region": HD1,
            }
            args.update({k: (v if x is None else x) for k, x in kw.items()})
            return b.withdraw(**args)

        return call

    add("withdraw", "id", JUNK_IDS, withdraw(id=None))
    add("withdraw", "volunteer", JUNK_MEMBERS, withdraw(volunteer=None))
    add("withdraw", "minutes", JUNK_MINUTES, withdraw(minutes=None))
    add("withdraw", "region", JUNK_REGIONS, withdraw(region=None))
    add("withdraw", "at", JUNK_MOMENTS, withdraw(at=None))
    add("withdraw", "recipient", [5, "", object(), NotAMember()], withdraw(recipient=None))
    out.extend(
        (
            "withdraw",
            "relation",
            lambda b, v: b.withdraw("w9", "a", 10, at=at(2), region=HD1, recipient="b", relation=v),
            v,
        )
        for v in JUNK_RELATIONS
    )
    # a relation for the holder's own service is contradictory, even a known one
    out.append(("withdraw", "relation", withdraw(relation=None), "spouse"))

    def transfer(**kw: Any) -> Callable[[TimeBank, Any], object]:
        def call(b: TimeBank, v: Any) -> object:
            args: dict[str, Any] = {
                "id": "t9",
                "from_member": "a",
                "to_member": "c",
                "minutes": 10,
                "relation": "spouse",
                "at": at(2),
            }
            args.update({k: (v if x is None else x) for k, x in kw.items()})
            return b.transfer(**args)

        return call

    add("transfer", "id", JUNK_IDS, transfer(id=None))
    add("transfer", "from_member", JUNK_MEMBERS, transfer(from_member=None))
    add("transfer", "to_member", JUNK_MEMBERS, transfer(to_member=None))
    add("transfer", "minutes", JUNK_MINUTES, transfer(minutes=None))
    add("transfer", "relation", JUNK_RELATIONS, transfer(relation=None))
    add("transfer", "at", JUNK_MOMENTS, transfer(at=None))

    add("refund", "withdrawal_id", JUNK_IDS, lambda b, v: b.refund(v, at=at(2)))
    add("refund", "at", JUNK_MOMENTS, lambda b, v: b.refund("w1", at=v))
    add(
        "reverse_deposit",
        "deposit_id",
        JUNK_IDS,
        lambda b, v: b.reverse_deposit(v, at=at(2), reason="撤销"),
    )
    add(
        "reverse_deposit",
        "at",
        JUNK_MOMENTS,
        lambda b, v: b.reverse_deposit("d1", at=v, reason="撤销"),
    )
    add(
        "reverse_deposit",
        "reason",
        [None, *JUNK_TEXTS],
        lambda b, v: b.reverse_deposit("d1", at=at(2), reason=v),
    )
    return out


CASES = cases()


@pytest.mark.parametrize(
    ("op", "field", "call", "value"),
    CASES,
    ids=[f"{op}-{field}-{i}" for i, (op, field, _, _) in enumerate(CASES)],
)
def test_a_bad_argument_names_its_field_and_changes_nothing(
    op: str, field: str, call: Callable[[TimeBank, Any], object], value: Any
) -> None:
    bank = fresh()
    before = observe(bank)
    with pytest.raises(InvalidValue) as err:
        call(bank, value)
    assert err.value.field == field, str(err.value)
    assert observe(bank) == before


def test_the_issue_examples() -> None:
    bank = fresh()
    with pytest.raises(InvalidValue, match="volunteer: None") as err:
        bank.deposit("d9", None, 60, at=at(2), region=CY1)  # type: ignore[arg-type]
    assert err.value.field == "volunteer"
    for junk in (None, 5, object(), NotAMember(), "", "  "):
        with pytest.raises(InvalidValue) as err:
            _id_of(junk, "member")
        assert err.value.field == "member"
    assert _id_of("v1", "member") == "v1"


def test_a_well_formed_region_not_in_the_tree_is_unknown() -> None:
    bank = fresh()
    before = observe(bank)
    with pytest.raises(UnknownRegion):
        bank.deposit("d9", "a", 60, at=at(2), region="370214999001")
    with pytest.raises(UnknownRegion):
        bank.withdraw("w9", "a", 10, at=at(2), region="370299001001")
    assert observe(bank) == before


def test_a_member_with_a_bad_age_is_refused() -> None:
    bank = TimeBank(
        PointsLedger(instrument="time_credits"), TREE, attrs.evolve(POLICY, min_withdrawal_age=60)
    )
    bank.deposit("d1", "old", 60, at=at(0), region=CY1)
    with pytest.raises(InvalidValue) as err:
        bank.withdraw("w1", BadAge(), 10, at=at(1), region=CY1)  # type: ignore[arg-type]
    assert err.value.field == "recipient" and len(bank.ledger) == 1


@pytest.mark.parametrize(
    ("field", "call"),
    [
        ("member_id", lambda b: b.balance(None)),
        ("member_id", lambda b: b.balance(5)),
        ("member_id", lambda b: b.holdings(None)),
        ("member_id", lambda b: b.holdings(object())),
        ("member_id", lambda b: b.owed("")),
        ("region", lambda b: b.bank_of(None)),
        ("region", lambda b: b.bank_of("37x")),
        ("day", lambda b: b.bank_of(CY1, day="2024-03-01")),
        ("day", lambda b: b.bank_of(CY1, day=T0)),
        ("day", lambda b: b.policy_for("2024-03-01")),
        ("day", lambda b: b.policy_for(None)),
        ("day", lambda b: b.policy_for(date(1800, 1, 1))),
        ("as_of", lambda b: b.positions(as_of=NAIVE)),
        ("as_of", lambda b: b.positions(as_of="2024")),
        ("as_of", lambda b: b.outstanding(as_of=5)),
        ("as_of", lambda b: b.liability(as_of=date(2024, 1, 1))),
        ("as_of", lambda b: b.settlement(as_of=NAIVE)),
        ("postings", lambda b: fold_positions(None)),
        ("postings", lambda b: fold_positions("abc")),
        ("postings", lambda b: fold_positions([1])),
        ("postings", lambda b: fold_positions({"d1": 1})),
        ("as_of", lambda b: fold_positions(b.ledger.postings, as_of=NAIVE)),
    ],
)
def test_reads_refuse_bad_arguments(field: str, call: Callable[[TimeBank], object]) -> None:
    bank = fresh()
    with pytest.raises(InvalidValue) as err:
        call(bank)
    assert err.value.field == field, str(err.value)


@pytest.mark.parametrize(
    ("field", "make"),
    [
        ("ledger", lambda: TimeBank(None, TREE)),  # type: ignore[arg-type]
        ("ledger", lambda: TimeBank(PointsLedger(), TREE)),
        ("tree", lambda: TimeBank(PointsLedger(instrument="time_credits"), None)),  # type: ignore[arg-type]
        ("policies", lambda: TimeBank(PointsLedger(instrument="time_credits"), TREE, [1])),  # type: ignore[list-item]
        ("policies", lambda: TimeBank(PointsLedger(instrument="time_credits"), TREE, "open")),  # type: ignore[arg-type]
        (
            "policies",
            lambda: TimeBank(
                PointsLedger(instrument="time_credits"),
                TREE,
                [TimeBankPolicy(), TimeBankPolicy(name="again")],
            ),
        ),
        ("group_time_donate_only", lambda: TimeBankPolicy(group_time_donate_only=1)),  # type: ignore[arg-type]
        ("transfer_relations", lambda: TimeBankPolicy(transfer_relations={"spouse": 1})),  # type: ignore[arg-type]
        ("transfer_relations", lambda: TimeBankPolicy(transfer_relations=None)),  # type: ignore[arg-type]
        ("withdraw_relations", lambda: TimeBankPolicy(withdraw_relations=["cousin"])),  # type: ignore[list-item]
        ("issuing_level", lambda: TimeBankPolicy(issuing_level="town")),  # type: ignore[arg-type]
        ("exchange_level", lambda: TimeBankPolicy(exchange_level=4)),  # type: ignore[arg-type]
        ("credits", lambda: TimeBankPolicy().cap_minutes("5")),  # type: ignore[arg-type]
        ("credits", lambda: TimeBankPolicy().cap_minutes(-1)),
        ("credits", lambda: TimeBankPolicy().cap_minutes(True)),  # type: ignore[arg-type]
        ("minutes", lambda: TimeBankPolicy().credits(1.5)),  # type: ignore[arg-type]
        ("minutes", lambda: TimeBankPolicy().credits(-60)),
        ("minutes", lambda: TimeBankPolicy().credits(None)),  # type: ignore[arg-type]
        ("debtor", lambda: Settlement(debtor="", creditor="x", minutes=1)),
        ("creditor", lambda: Settlement(debtor="x", creditor=None, minutes=1)),  # type: ignore[arg-type]
        ("minutes", lambda: Settlement(debtor="x", creditor="y", minutes=0)),
        ("minutes", lambda: Settlement(debtor="x", creditor="y", minutes=1.5)),  # type: ignore[arg-type]
        ("region", lambda: RegionPosition(region=None)),  # type: ignore[arg-type]
        ("issued", lambda: RegionPosition(region="x", issued=1.5)),  # type: ignore[arg-type]
        ("owed", lambda: RegionPosition(region="x", owed=True)),
        ("id", lambda: TimeBankReceipt(id="", operation="deposit", postings=(), findings=())),
        ("operation", lambda: TimeBankReceipt(id="d", operation="rob", postings=(), findings=())),
        (
            "postings",
            lambda: TimeBankReceipt(id="d", operation="deposit", postings=None, findings=()),
        ),  # type: ignore[arg-type]
        (
            "postings",
            lambda: TimeBankReceipt(id="d", operation="deposit", postings=[1], findings=()),
        ),  # type: ignore[list-item]
        (
            "findings",
            lambda: TimeBankReceipt(id="d", operation="deposit", postings=(), findings="x"),
        ),  # type: ignore[arg-type]
        (
            "repeated",
            lambda: TimeBankReceipt(
                id="d",
                operation="deposit",
                postings=(),
                findings=(),
                repeated=1,  # type: ignore[arg-type]
            ),
        ),
    ],
)
def test_constructors_refuse_bad_fields(field: str, make: Callable[[], object]) -> None:
    with pytest.raises(InvalidValue) as err:
        make()
    assert err.value.field == field, str(err.value)


def test_good_values_still_build() -> None:
    p = Posting(id="d1", at=T0, kind="earn", source="bank:x", target="volunteer:a", amount=5)
    r = TimeBankReceipt(
        id="d1", operation="deposit", postings=[p], findings=[finding("timebank.repeat", ("d1",))]
    )
    assert r.postings == (p,) and r.minutes == 5
    assert TimeBankPolicy(transfer_relations="spouse").transfer_relations == {Relation.SPOUSE}
    assert TimeBankPolicy(issuing_level="city").issuing_level is Level.CITY  # type: ignore[arg-type]
    assert TimeBankPolicy().credits(10**30) == (10**30 // 60, 10**30 % 60)
    assert TimeBankPolicy().cap_minutes(0) == 0
    assert RegionPosition(region="x", clearing=-5).clearing == -5


def test_nothing_but_zhiyuan_errors_escape_for_any_junk() -> None:
    """Every junk value in every argument of every operation: a ZhiyuanError or success."""
    junk: list[Any] = [
        None,
        0,
        -1,
        1.5,
        True,
        "",
        " ",
        "x#y",
        "\ud800",
        b"x",
        [],
        {},
        object(),
        NAIVE,
        T0,
        date(2024, 1, 1),
        10**30,
        "370214001001",
        NotAMember(),
        Relation.SPOUSE,
    ]
    ops: list[tuple[Callable[..., object], dict[str, Any]]] = []
    bank = fresh()
    ops = [
        (bank.deposit, {"id": "dz", "volunteer": "a", "minutes": 5, "at": at(3), "region": CY1}),
        (bank.withdraw, {"id": "wz", "volunteer": "a", "minutes": 5, "at": at(3), "region": CY1}),
        (
            bank.transfer,
            {
                "id": "tz",
                "from_member": "a",
                "to_member": "b",
                "minutes": 5,
                "relation": "spouse",
                "at": at(3),
            },
        ),
        (bank.refund, {"withdrawal_id": "w1", "at": at(3)}),
        (bank.reverse_deposit, {"deposit_id": "d1", "at": at(3), "reason": "撤销"}),
    ]
    for fn, good in ops:
        for key in good:
            for value in junk:
                before = observe(bank)
                try:
                    fn(**{**good, key: value})
                except ZhiyuanError:
                    assert observe(bank) == before


def test_each_argument_is_checked_before_how_they_combine() -> None:
    """A bad relation is named even when the gift also goes to the giver (found by the state
    machine): every argument alone first, then the rules between them."""
    bank = fresh()
    with pytest.raises(InvalidValue) as err:
        bank.transfer("t9", "a", "a", 10, relation="cousin", at=at(2))
    assert err.value.field == "relation"
    with pytest.raises(InvalidValue) as err:
        bank.deposit("d9", "a", 60, at=at(2), region="37x", donate_to="a")
    assert err.value.field == "region"
