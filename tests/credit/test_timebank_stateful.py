"""The time bank as a state machine (issue 14): random sequences of deposits (some donated),
withdrawals across regions, gifts, refunds, reversals of deposits, repeats of earlier operations
(the same: a no-op; changed: a Conflict) and junk in any one argument.

After every step: only :class:`~zhiyuan.errors.ZhiyuanError` escapes; a refused operation leaves
the journal head, the accounts, the positions, the settlement and every member's credits and debts
exactly as they were; junk is refused by an :class:`~zhiyuan.errors.InvalidValue` naming its
field; the positions net to zero across regions (clearing) and agree with the accounts and with a
fold of the postings alone; the caps hold, counting reversed deposits out. At the end, a bank
rebuilt from the exported journal reads exactly as the live one.

Every datetime is explicit and aware (Asia/Shanghai); the journals' clock is fixed.
"""

from __future__ import annotations

import io
from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

import attrs
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from zhiyuan import SHANGHAI
from zhiyuan.credit import PointsLedger, owed_account
from zhiyuan.credit.accounts import bank_account, clearing_account, served_account
from zhiyuan.credit.timebank import TimeBank, TimeBankReceipt, fold_positions
from zhiyuan.credit.timebank_policy import Relation, TimeBankPolicy
from zhiyuan.errors import Conflict, InvalidValue, ZhiyuanError
from zhiyuan.hierarchy import Level, load_default
from zhiyuan.journal import Journal

TREE = load_default()
# 青岛: 黄岛街道 (two villages), 辛安街道, 城阳街道, 夏庄街道; 烟台: 向阳街道 (another city)
REGIONS = ("370211001001", "370211001002", "370211002014", "370214001001", "370214002001")
ELSEWHERE = "370602001001"
MEMBERS = ("a", "b", "c")
START = datetime(2024, 3, 1, 9, tzinfo=SHANGHAI)

OPEN = TimeBankPolicy(
    name="open",
    transfer_relations=frozenset(Relation),
    withdraw_relations=frozenset(set(Relation) - {Relation.DONATION}),
)
POLICIES = [
    attrs.evolve(OPEN, issuing_level=Level.TOWNSHIP, exchange_level=Level.CITY),
    attrs.evolve(
        OPEN,
        issuing_level=Level.TOWNSHIP,
        exchange_level=Level.CITY,
        daily_deposit_cap=3,
        lifetime_cap=6,
        storage_cap=4,
    ),
    attrs.evolve(OPEN, issuing_level=Level.COUNTY),  # no 通存通兑
    attrs.evolve(OPEN, minutes_per_credit=30, lifetime_cap=9, exchange_level=Level.PROVINCE),
]

# Values that are wrong wherever they go, by the field they go in.
_MEMBERS = [None, 5, "", " ", object(), b"a", ["a"], "\ud800"]
_IDS = [None, 5, "", "  ", "a#b", "\ud800", b"x"]
_MOMENTS = [
    datetime(2024, 3, 9, 9),  # naive
    "2024-03-09",
    date(2024, 3, 9),
    datetime(1850, 1, 1, tzinfo=SHANGHAI),
]
JUNK: dict[str, list[Any]] = {
    "id": _IDS,
    "deposit_id": _IDS,
    "withdrawal_id": _IDS,
    "volunteer": _MEMBERS,
    "from_member": _MEMBERS,
    "to_member": _MEMBERS,
    "minutes": [0, -5, 1.5, 60.0, True, "60", None, 10**12],
    "region": [None, "37x", 7, "3702110", [REGIONS[0]], b"370211001001", 2.0],
    "at": _MOMENTS,
    "group": [5, "", "  ", ["team"]],
    "relation": ["cousin", 5, ["spouse"], {}],
    "reason": [None, "", "   ", 7, ["撤销"]],
}


def fixed_clock() -> datetime:
    return datetime(2030, 1, 1, tzinfo=SHANGHAI)


def observe(bank: TimeBank) -> tuple[object, ...]:
    """Everything a caller reads of the bank, with the journal head."""
    return (
        bank.journal.head,
        bank.ledger.accounts(),
        bank.positions(),
        bank.settlement(),
        {m: (bank.balance(m), bank.holdings(m), bank.owed(m)) for m in MEMBERS},
    )


def spoiled(fields: list[str]) -> st.SearchStrategy[str | None]:
    """No junk three times in four; else the field to spoil."""
    return st.one_of(st.none(), st.none(), st.none(), st.sampled_from(fields))


class TimeBankMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.clock = START
        self.n = 0
        self.deposits: list[str] = []
        self.withdrawals: list[str] = []
        self.done: list[tuple[str, dict[str, Any]]] = []  # operations recorded, for repeats

    @initialize(case=st.sampled_from(range(len(POLICIES))))
    def open_bank(self, case: int) -> None:
        self.policy = POLICIES[case]
        self.bank = TimeBank(
            PointsLedger("time_credits", journal=Journal(clock=fixed_clock)), TREE, self.policy
        )

    # --- the driver ---------------------------------------------------------------------------

    def tick(self) -> datetime:
        self.clock += timedelta(minutes=7)
        return self.clock

    def new_id(self) -> str:
        self.n += 1
        return f"op{self.n}"

    def attempt(
        self, name: str, args: dict[str, Any], spoil: str | None, junk: Any
    ) -> TimeBankReceipt | None:
        if spoil is not None:
            args = {**args, spoil: junk}
        before = observe(self.bank)
        try:
            receipt: TimeBankReceipt = getattr(self.bank, name)(**args)
        except ZhiyuanError as exc:
            assert observe(self.bank) == before, f"{name} refused but changed the books"
            if spoil is not None:
                assert isinstance(exc, InvalidValue), f"{name}: {spoil}={junk!r}: {exc!r}"
                assert exc.field == spoil, f"{name}: {spoil}={junk!r} named {exc.field}"
                event(f"{name}: junk {spoil} refused")
            else:
                event(f"{name} refused: {type(exc).__name__}")
            return None
        assert spoil is None, f"{name} accepted {spoil}={junk!r}"
        assert isinstance(receipt, TimeBankReceipt) and receipt.operation == name
        if not receipt.repeated:
            self.done.append((name, args))
        event(f"{name} recorded")
        return receipt

    def junk(self, data: st.DataObject, spoil: str | None) -> Any:
        return None if spoil is None else data.draw(st.sampled_from(JUNK[spoil]), label="junk")

    # --- operations ---------------------------------------------------------------------------

    @rule(
        data=st.data(),
        member=st.sampled_from(MEMBERS),
        minutes=st.integers(1, 150),
        region=st.sampled_from((*REGIONS, ELSEWHERE)),
        donate=st.none() | st.sampled_from(MEMBERS),
        spoil=spoiled(["id", "volunteer", "minutes", "region", "at", "group"]),
    )
    def deposit(
        self,
        data: st.DataObject,
        member: str,
        minutes: int,
        region: str,
        donate: str | None,
        spoil: str | None,
    ) -> None:
        oid = self.new_id()
        args: dict[str, Any] = {
            "id": oid,
            "volunteer": member,
            "minutes": minutes,
            "at": self.tick(),
            "region": region,
        }
        if donate is not None and donate != member:
            args["donate_to"] = donate
        r = self.attempt("deposit", args, spoil, self.junk(data, spoil))
        if r is not None:
            self.deposits.append(oid)
            if any(p.id.endswith("#settle") for p in r.postings):
                event("a deposit paid a debt")

    @rule(
        data=st.data(),
        member=st.sampled_from(MEMBERS),
        minutes=st.integers(1, 90),
        region=st.sampled_from((*REGIONS, ELSEWHERE)),
        spoil=spoiled(["id", "volunteer", "minutes", "region", "at", "relation"]),
    )
    def withdraw(
        self, data: st.DataObject, member: str, minutes: int, region: str, spoil: str | None
    ) -> None:
        oid = self.new_id()
        args = {"id": oid, "volunteer": member, "minutes": minutes, "at": self.tick()}
        args["region"] = region
        # a relation with no recipient is junk too, even a known one
        junk = "spouse" if spoil == "relation" and data.draw(st.booleans()) else None
        r = self.attempt("withdraw", args, spoil, junk or self.junk(data, spoil))
        if r is not None:
            self.withdrawals.append(oid)
            if any(p.id.endswith("#clear") for p in r.postings):
                event("withdrawal cleared across banks")

    @rule(
        data=st.data(),
        src=st.sampled_from(MEMBERS),
        dst=st.sampled_from(MEMBERS),
        minutes=st.integers(1, 100),
        spoil=spoiled(["id", "from_member", "to_member", "minutes", "relation", "at"]),
    )
    def transfer(
        self, data: st.DataObject, src: str, dst: str, minutes: int, spoil: str | None
    ) -> None:
        args = {
            "id": self.new_id(),
            "from_member": src,
            "to_member": dst,
            "minutes": minutes,
            "relation": "friend",
            "at": self.tick(),
        }
        self.attempt("transfer", args, spoil, self.junk(data, spoil))

    @precondition(lambda self: self.withdrawals)
    @rule(data=st.data(), spoil=spoiled(["withdrawal_id", "at"]))
    def refund(self, data: st.DataObject, spoil: str | None) -> None:
        wid = data.draw(st.sampled_from(self.withdrawals), label="withdrawal")
        r = self.attempt(
            "refund", {"withdrawal_id": wid, "at": self.tick()}, spoil, self.junk(data, spoil)
        )
        if r is not None and any(p.id.endswith("#settle") for p in r.postings):
            event("a refund paid a debt")

    def untouched(self, deposit_id: str) -> bool:
        """Whether all of a deposit is still in its lot (read from the ledger's open lots)."""
        p = self.bank.ledger.posting(deposit_id)
        member = p.target.removeprefix("volunteer:")
        return any(
            x.id == deposit_id and x.remaining == p.amount for x in self.bank.ledger.lots(member)
        )

    @precondition(lambda self: self.deposits)
    @rule(data=st.data(), spoil=spoiled(["deposit_id", "at", "reason"]))
    def reverse_deposit(self, data: st.DataObject, spoil: str | None) -> None:
        used = [d for d in self.deposits if not self.untouched(d)]  # mostly these: debts
        pool = used if used and data.draw(st.integers(0, 3), label="prefer used") else self.deposits
        did = data.draw(st.sampled_from(pool), label="deposit")
        args = {"deposit_id": did, "at": self.tick(), "reason": "工时撤销"}
        r = self.attempt("reverse_deposit", args, spoil, self.junk(data, spoil))
        if r is not None and any(p.id.endswith("#owed") for p in r.postings):
            event("a reversal left a debt")

    @precondition(lambda self: self.done)
    @rule(data=st.data(), change=st.booleans())
    def repeat(self, data: st.DataObject, change: bool) -> None:
        """The same operation again is a no-op returning what was recorded; changed, a
        Conflict; either way the books stay as they were."""
        name, args = data.draw(st.sampled_from(self.done), label="earlier")
        if change:
            if name == "refund":
                changed = {**args, "at": args["at"] + timedelta(minutes=1)}
            elif name == "reverse_deposit":
                changed = {**args, "reason": args["reason"] + "（改）"}
            else:
                changed = {**args, "minutes": args["minutes"] + 1}
            before = observe(self.bank)
            try:
                getattr(self.bank, name)(**changed)
            except Conflict:
                event(f"{name} changed: Conflict")
            else:
                raise AssertionError(f"{name} under a used id with other content was accepted")
            assert observe(self.bank) == before
            return
        before = observe(self.bank)
        first = getattr(self.bank, name)(**args)
        assert first.repeated and observe(self.bank) == before
        assert getattr(self.bank, name)(**args) == first

    @rule(hours=st.integers(1, 48))
    def wait(self, hours: int) -> None:
        self.clock += timedelta(hours=hours)

    # --- what always holds --------------------------------------------------------------------

    @invariant()
    def positions_net_to_zero_and_agree_with_the_accounts(self) -> None:
        if not hasattr(self, "bank"):
            return
        bank = self.bank
        accounts = bank.ledger.accounts()
        positions = bank.positions()
        assert bank.ledger.total() == 0
        assert sum(p.clearing for p in positions.values()) == 0
        assert positions == fold_positions(bank.ledger.postings)
        for r, p in positions.items():
            assert p.outstanding >= 0 and p.owed >= 0
            assert p.outstanding - p.owed == p.issued - p.redeemed
            assert p.outstanding - p.owed == -(
                accounts.get(bank_account(r), 0) + accounts.get(served_account(r), 0)
            ) + accounts.get(clearing_account(r), 0)
            assert p.clearing == accounts.get(clearing_account(r), 0)
        net: Counter[str] = Counter()
        for s in bank.settlement():
            assert s.minutes > 0
            net[s.debtor] -= s.minutes
            net[s.creditor] += s.minutes
        assert {r: n for r, n in net.items() if n} == {
            r: p.clearing for r, p in positions.items() if p.clearing
        }
        for m in MEMBERS:
            owed = bank.owed(m)
            assert all(n > 0 for n in owed.values())
            assert accounts.get(owed_account(m), 0) == -sum(owed.values())
            assert bank.balance(m) == sum(bank.holdings(m).values()) >= 0

    @invariant()
    def caps_hold_counting_reversed_deposits_out(self) -> None:
        if not hasattr(self, "bank"):
            return
        postings = self.bank.ledger.postings
        deposits = {
            p.id: p
            for p in postings
            if p.source.startswith("bank:") and p.target.startswith("volunteer:")
        }
        banked: Counter[str] = Counter()
        daily: Counter[tuple[str, date]] = Counter()
        for p in postings:
            d = p if p.id in deposits else deposits.get(p.reverses or "")
            if d is None or (p is not d and not p.target.startswith("bank:")):
                continue
            sign = 1 if p is d else -1
            banked[d.target] += sign * p.amount
            daily[(d.target, d.at.date())] += sign * p.amount
        per = self.policy.minutes_per_credit
        for n in banked.values():
            assert 0 <= n <= (self.policy.lifetime_cap or 10**9) * per
        for n in daily.values():
            assert 0 <= n <= (self.policy.daily_deposit_cap or 10**9) * per

    def teardown(self) -> None:
        if not hasattr(self, "bank"):
            return
        out = io.StringIO()
        self.bank.journal.export_jsonl(out)
        fresh = Journal(clock=fixed_clock)
        fresh.import_jsonl(io.StringIO(out.getvalue()))
        rebuilt = TimeBank(PointsLedger("time_credits", journal=fresh), TREE, self.policy)
        assert observe(rebuilt) == observe(self.bank)
        for attr in ("deposited", "daily", "debts", "settle", "left", "origin"):
            assert getattr(rebuilt._state, attr) == getattr(self.bank._state, attr)


TimeBankMachine.TestCase.settings = settings(
    stateful_step_count=40,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
test_time_bank_state_machine = TimeBankMachine.TestCase
