"""The points ledger under junk: random sequences of earn, spend, transfer, refund, expire,
reverse_earning and post_conversion in which about a quarter of the arguments are junk (``None``,
blank or ``#`` ids, lone surrogates, bools, floats, huge and negative integers, unknown enum
values, accounts of the wrong kind, naive datetimes, the years 1 and 9999, collections where a
value belongs and values where a collection belongs).

After every call: only a :class:`~zhiyuan.errors.ZhiyuanError` may escape; a refused call leaves
the ledger exactly as it was (the journal's head, every posting, every balance, every lot); and
the ledger always balances (``total() == 0``), no lot goes below zero or above what it was
opened with, and nothing is owed above zero. One machine records in memory, the other on SQLite
(which cannot even be asked about an id holding a lone surrogate). The clock is the machine's
own; nothing reads the wall clock.
"""

from __future__ import annotations

import math
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from zhiyuan import SHANGHAI
from zhiyuan.credit import (
    ClawbackRule,
    PointsLedger,
    Posting,
    PostingKind,
    Reversal,
    owed_account,
)
from zhiyuan.credit.conversion import (
    Conversion,
    ConversionPolicy,
    Expiry,
    convert,
    post_conversion,
)
from zhiyuan.errors import ZhiyuanError
from zhiyuan.hours import Evidence, HourRow, Purpose
from zhiyuan.journal import Journal
from zhiyuan.store import open_store

VOLUNTEERS = ("v1", "v2", "v3")
START = datetime(2025, 1, 1, 8, tzinfo=SHANGHAI)
POLICIES = (
    ConversionPolicy(),
    ConversionPolicy(yearly_cap=30, expiry=Expiry.PERIOD, expiry_days=20),
    ConversionPolicy(hours_per_point=2, pending_days=3, expiry=Expiry.YEAR_END),
)

JUNK: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.sampled_from(["", "  ", "a#b", "#"]),
    *[st.sampled_from(["v\ud800", "\ud800", "a\udfffb"])] * 3,  # lone surrogates: not UTF-8
    st.sampled_from(["bogus", "debt", "negative", "earn"]),
    st.sampled_from(["spend", "volunteer:v1", "owed:v1", "volunteer:", "issuer:x", "expiry"]),
    st.booleans(),
    st.sampled_from([0, -1, 10**9 + 1, 2**63, 10**30, -(2**70)]),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.just(math.nan),
    st.just(b"v1"),
    st.just(["v1"]),
    st.just({"v1": 1}),
    st.just(PostingKind.EXPIRE),
    st.just(ClawbackRule.DEBT),
    st.just(datetime(2025, 3, 1, 12)),  # naive
    st.just(date(2025, 3, 1)),
    st.just("2025-03-01T12:00:00+08:00"),
    st.just(datetime(1, 1, 1, tzinfo=UTC)),
    st.just(datetime(9999, 12, 31, 23, tzinfo=SHANGHAI)),
    st.just(datetime.max.replace(tzinfo=UTC)),
    st.just(datetime(1899, 12, 31, tzinfo=SHANGHAI)),
)


def maybe(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """The valid value two times in three, junk otherwise."""
    return st.one_of(valid, valid, JUNK)


hours = st.integers(min_value=0, max_value=72)
amounts = st.integers(min_value=1, max_value=25)
small = st.integers(min_value=1, max_value=8)  # what is spent or given: mostly there to take
volunteers = st.sampled_from(VOLUNTEERS)


class JunkMachine(RuleBasedStateMachine):
    """Random operations, a share of them with junk arguments."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = START
        self.journal = self.open_journal()
        self.book = PointsLedger(journal=self.journal)
        self.n = 0
        self.spends: list[list[Posting]] = []

    def open_journal(self) -> Journal:
        return Journal(clock=lambda: self.clock)

    # --- helpers ------------------------------------------------------------------------------

    def begin(self, data: st.DataObject) -> Any:
        """A draw function for the arguments of one call. A quarter of the calls are clean;
        half spoil one argument (the refusal must come from it, whatever the others are); a
        quarter spoil each argument one time in three."""
        mode = data.draw(st.sampled_from(["clean", "one", "one", "many"]))
        spoil = data.draw(st.integers(0, 5)) if mode == "one" else -1
        position = iter(range(1_000))

        def draw(valid: st.SearchStrategy[Any]) -> Any:
            k = next(position)
            if mode == "many":
                return data.draw(maybe(valid))
            return data.draw(JUNK if k == spoil else valid)

        return draw

    def new_id(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}{self.n}"

    def moment(self, h: int) -> datetime:
        return self.clock + timedelta(hours=h)

    def snapshot(self) -> tuple[object, ...]:
        book = self.book
        accounts = book.accounts()
        vids = sorted(a.removeprefix("volunteer:") for a in accounts if a.startswith("volunteer:"))
        return (
            self.journal.head,
            len(self.journal),
            book.postings,
            accounts,
            {v: book.lots(v, open_only=False) for v in vids},
        )

    def attempt(self, name: str, call: Any) -> Any:
        """``call()``; when it raises, the error is a ZhiyuanError and nothing changed."""
        before = self.snapshot()
        try:
            out = call()
        except ZhiyuanError as exc:
            event(f"{name}: refused ({type(exc).__name__})")
            assert self.snapshot() == before
            return None
        event(f"{name}: done")
        return out

    def ids(self, prefix: str) -> st.SearchStrategy[str]:
        """A fresh id, or one already used (by any operation)."""
        used = [p.id.partition("#")[0] for p in self.book.postings]
        fresh = st.just(self.new_id(prefix))
        return fresh if not used else st.one_of(fresh, fresh, fresh, st.sampled_from(used))

    def dates(self) -> st.SearchStrategy[Any]:
        """``None`` (the machine's clock) or a moment up to three days ahead."""
        return st.none() | hours.map(self.moment)

    # --- operations ---------------------------------------------------------------------------

    @initialize(
        seed=st.lists(
            st.tuples(volunteers, amounts, st.none() | st.integers(1, 24 * 30)), max_size=6
        )
    )
    def opening_lots(self, seed: list[tuple[str, int, int | None]]) -> None:
        """Some points to spend from the start (sequences are short)."""
        for vid, amount, life in seed:
            self.book.earn(
                self.new_id("e"),
                vid,
                amount,
                at=self.clock,
                issuer="issuer:烟台",
                expires_at=None if life is None else self.moment(life),
            )

    @rule(h=st.integers(min_value=0, max_value=24 * 10))
    def wait(self, h: int) -> None:
        self.clock += timedelta(hours=h)

    @rule(data=st.data())
    def earn(self, data: st.DataObject) -> None:
        d = self.begin(data)
        at = d(self.dates())
        later = st.none() | st.integers(1, 24 * 40).map(lambda h: self.moment(h))
        out = self.attempt(
            "earn",
            lambda: self.book.earn(
                d(self.ids("e")),
                d(volunteers),
                d(amounts),
                at=at,
                issuer=d(st.sampled_from(["issuer:烟台", "issuer:莱西"])),
                available_from=d(later),
                expires_at=d(later),
                ref=d(st.none() | st.just("r")),
                kind=d(st.sampled_from([PostingKind.EARN, "adjust"])),
            ),
        )
        assert out is None or all(isinstance(p, Posting) for p in out)

    @rule(data=st.data())
    def spend(self, data: st.DataObject) -> None:
        d = self.begin(data)
        out = self.attempt(
            "spend",
            lambda: self.book.spend(
                d(self.ids("s")),
                d(volunteers),
                d(small),
                at=d(self.dates()),
                to=d(st.sampled_from(["redemption", "shop:超市"])),
                ref=d(st.none() | st.just("o")),
                kind=d(st.sampled_from([PostingKind.SPEND, "clear"])),
            ),
        )
        if out:
            self.spends.append(out)

    @rule(data=st.data())
    def transfer(self, data: st.DataObject) -> None:
        d = self.begin(data)
        self.attempt(
            "transfer",
            lambda: self.book.transfer(
                d(self.ids("t")),
                d(volunteers),
                d(volunteers),
                d(small),
                at=d(self.dates()),
            ),
        )

    @rule(data=st.data())
    def refund(self, data: st.DataObject) -> None:
        d = self.begin(data)
        some = (
            st.sampled_from(self.spends).flatmap(lambda s: st.lists(st.sampled_from(s)))
            if self.spends
            else st.just([])
        )
        self.attempt("refund", lambda: self.book.refund(d(some), at=d(self.dates())))

    @rule(data=st.data())
    def expire(self, data: st.DataObject) -> None:
        d = self.begin(data)
        self.attempt("expire", lambda: self.book.expire(d(self.dates())))

    @rule(data=st.data())
    def reverse_earning(self, data: st.DataObject) -> None:
        d = self.begin(data)
        earned = [p.id for p in self.book.postings if p.kind is PostingKind.EARN]
        ids = st.sampled_from(earned) if earned else st.just("nothing")
        out = self.attempt(
            "reverse_earning",
            lambda: self.book.reverse_earning(
                d(ids),
                at=d(self.dates()),
                reason=d(st.just("时长撤销")),
                rule=d(st.sampled_from([*ClawbackRule, "debt", "negative"])),
            ),
        )
        assert out is None or isinstance(out, Reversal)

    @rule(data=st.data())
    def post_conversion(self, data: st.DataObject) -> None:
        d = self.begin(data)
        n = data.draw(st.integers(0, 4))
        rows = [
            HourRow(
                d(volunteers),
                d(st.dates(date(2025, 1, 1), date(2025, 12, 31))),
                d(st.integers(0, 600)),
                d(st.integers(0, 600)),
                d(st.sampled_from(Evidence)),
                d(st.just("助老")),
                d(st.just(frozenset({Purpose.POINTS}))),
                "370602001001",
                record_id=d(st.sampled_from([f"r{k}" for k in range(8)])),
                certified_at=d(st.none() | hours.map(self.moment)),
            )
            for _ in range(n)
        ]
        policy = data.draw(st.sampled_from(POLICIES))

        def go() -> int:
            conv: Any = convert(d(st.just(rows)), policy, already=self.book)
            assert isinstance(conv, Conversion)
            return post_conversion(self.book, d(st.just(conv)))

        self.attempt("post_conversion", go)

    # --- invariants ---------------------------------------------------------------------------

    @invariant()
    def balances(self) -> None:
        book = self.book
        assert book.total() == 0
        accounts = book.accounts()
        for account, n in accounts.items():
            if account.startswith("owed:"):
                assert n <= 0
        for account in accounts:
            if not account.startswith("volunteer:"):
                continue
            vid = account.removeprefix("volunteer:")
            every = book.lots(vid, open_only=False)
            assert all(0 <= x.remaining <= x.amount for x in every)
            assert sum(x.remaining for x in every) == accounts[account]
            assert book.balance(owed_account(vid)) <= 0

    def teardown(self) -> None:
        try:
            assert self.journal.verify().ok
            # the records rebuild the same ledger
            again = PointsLedger(journal=Journal(self.journal.store))
            assert again.postings == self.book.postings
            assert again.accounts() == self.book.accounts()
        finally:
            self.close()

    def close(self) -> None:
        pass


class SQLiteJunkMachine(JunkMachine):
    """The same, on a SQLite store."""

    def open_journal(self) -> Journal:
        self.tmp = tempfile.TemporaryDirectory()
        store = open_store(str(Path(self.tmp.name) / "points.db"), durable=False)
        return Journal(store, clock=lambda: self.clock)

    def close(self) -> None:
        self.journal.close()
        self.tmp.cleanup()


JunkMachine.TestCase.settings = settings(
    max_examples=200,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
SQLiteJunkMachine.TestCase.settings = settings(
    max_examples=120,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestPointsLedgerUnderJunk = JunkMachine.TestCase
TestPointsLedgerUnderJunkOnSQLite = SQLiteJunkMachine.TestCase
