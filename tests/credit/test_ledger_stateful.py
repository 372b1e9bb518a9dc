"""The points ledger as a state machine: random sequences of earnings (some pending, some
expiring), spending, transfers, refunds of earlier spending, sweeps of expired lots at advancing
times, reversals under either clawback rule, and reposts of earlier postings (the same, and
changed), checked against the postings themselves after every step.

The clock only moves forward; every operation happens at the machine's clock. Dates start on
2023-01-01 and stay well before ``AFTER_ALL`` (2025-01-01), so ``balances()`` "now" (which reads
the wall clock) sees every lot in its final state and must equal the fold at ``AFTER_ALL``.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import attrs
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from zhiyuan import SHANGHAI
from zhiyuan.credit import (
    Balances,
    ClawbackRule,
    Lot,
    PointsLedger,
    Posting,
    PostingKind,
    fold_balances,
    owed_account,
    volunteer_account,
)
from zhiyuan.errors import Conflict, InsufficientBalance
from zhiyuan.journal import Journal

VOLUNTEERS = ("v1", "v2", "v3")
ISSUERS = ("issuer:烟台", "issuer:莱西")
START = datetime(2023, 1, 1, tzinfo=SHANGHAI)
AFTER_ALL = datetime(2025, 1, 1, tzinfo=SHANGHAI)
# At most 50 steps of at most 10 days each; a lot is pending at most 10 days and lives at most
# 90 days after that: every date stays before AFTER_ALL.
STEPS = 50

volunteers = st.sampled_from(VOLUNTEERS)
hours = st.integers(min_value=0, max_value=72)
amounts = st.integers(min_value=1, max_value=100)
issuer_names = st.sampled_from(ISSUERS)
pendings = st.none() | st.integers(min_value=1, max_value=240)  # hours until spendable
lifetimes = st.none() | st.integers(min_value=1, max_value=90 * 24)  # hours spendable


def fold_accounts(postings: tuple[Posting, ...]) -> dict[str, int]:
    """Every account's balance from the postings alone: what came in less what went out."""
    out: Counter[str] = Counter()
    for p in postings:
        out[p.target] += p.amount
        out[p.source] -= p.amount
    return dict(out)


def classify(lots: list[Lot], owed: int, at: datetime) -> Balances:
    """A volunteer's balances at ``at`` from the lots as they stand (an independent oracle)."""
    soon = at + timedelta(days=30)
    available = [x for x in lots if x.available_on(at)]
    return Balances(
        available=sum(x.remaining for x in available),
        pending=sum(
            x.remaining
            for x in lots
            if x.available_from > at and (x.expires_at is None or at < x.expires_at)
        ),
        expiring_soon=sum(
            x.remaining for x in available if x.expires_at is not None and x.expires_at <= soon
        ),
        expired_unswept=sum(
            x.remaining for x in lots if x.expires_at is not None and x.expires_at <= at
        ),
        owed=owed,
    )


class PointsLedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.book = PointsLedger()
        self.clock = START
        self.n = 0
        self.issued = 0  # points out of the issuers, net: earned less reversed and clawed back
        self.earned: list[tuple[str, str, int, str, datetime | None, datetime | None]] = []
        self.spent: list[tuple[str, str, int, list[Posting]]] = []
        self.refunded: set[str] = set()
        self.reversed: set[str] = set()
        self.history: dict[datetime, dict[str, Balances]] = {}

    # --- helpers ------------------------------------------------------------------------------

    def tick(self, h: int) -> datetime:
        self.clock += timedelta(hours=h)
        return self.clock

    def new_id(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}{self.n}"

    def issuers(self) -> int:
        return sum(v for k, v in self.book.accounts().items() if k.startswith("issuer:"))

    def state(self) -> tuple[object, ...]:
        return (
            self.book.journal.head,
            self.book.postings,
            self.book.accounts(),
            {v: self.book.lots(v, open_only=False) for v in VOLUNTEERS},
        )

    def owed(self, vid: str) -> int:
        return self.book.balance(owed_account(vid))

    def plan(
        self, vid: str, amount: int, exclude: str | None = None
    ) -> list[tuple[str, int]] | None:
        """Which lots a spending of ``amount`` must take: the soonest expiry first (never-expiring
        lots last), then the earliest earned, then the first posted; None when short."""
        usable = [x for x in self.book.lots(vid) if x.id != exclude and x.available_on(self.clock)]
        if sum(x.remaining for x in usable) + min(self.owed(vid), 0) < amount:
            return None
        posted = {x.id: k for k, x in enumerate(self.book.lots(vid))}
        never = AFTER_ALL + timedelta(days=365)  # after every expiry the machine makes
        usable.sort(key=lambda x: (x.expires_at or never, x.opened_at, posted[x.id]))
        out, left = [], amount
        for x in usable:
            if left == 0:
                break
            take = min(x.remaining, left)
            out.append((x.id, take))
            left -= take
        return out

    def lot(self, vid: str, lot_id: str) -> Lot:
        (found,) = [x for x in self.book.lots(vid, open_only=False) if x.id == lot_id]
        return found

    # --- rules --------------------------------------------------------------------------------

    @initialize(
        seed=st.lists(
            st.tuples(volunteers, amounts, issuer_names, pendings, lifetimes),
            min_size=1,
            max_size=6,
        )
    )
    def opening_lots(self, seed: list[tuple[str, int, str, int | None, int | None]]) -> None:
        # balances() without as_of reads the clock; the machine's dates must all be in the past
        assert datetime.now(SHANGHAI) > AFTER_ALL + timedelta(days=31)
        for vid, amount, issuer, pending, lifetime in seed:
            self.earn(vid, amount, issuer, pending, lifetime, 0)

    @rule(
        vid=volunteers,
        amount=amounts,
        issuer=issuer_names,
        pending=pendings,
        lifetime=lifetimes,
        h=hours,
    )
    def earn(
        self, vid: str, amount: int, issuer: str, pending: int | None, lifetime: int | None, h: int
    ) -> None:
        at = self.tick(h)
        eid = self.new_id("e")
        available_from = at + timedelta(hours=pending) if pending else None
        expires_at = (available_from or at) + timedelta(hours=lifetime) if lifetime else None
        owed, issuers = self.owed(vid), self.issuers()
        out = self.book.earn(
            eid,
            vid,
            amount,
            at=at,
            issuer=issuer,
            available_from=available_from,
            expires_at=expires_at,
        )
        assert out[0] == self.book.posting(eid)
        assert (out[0].source, out[0].target, out[0].amount) == (
            issuer,
            volunteer_account(vid),
            amount,
        )
        pay = min(-owed, amount)
        if pay > 0:  # what is owed is paid from the new lot first
            assert [(p.id, p.kind, p.amount, p.lot) for p in out[1:]] == [
                (f"{eid}#settle", PostingKind.SETTLE, pay, eid)
            ]
        else:
            assert len(out) == 1
        assert self.owed(vid) == owed + max(pay, 0)
        assert self.lot(vid, eid).remaining == amount - max(pay, 0)
        assert self.issuers() == issuers - amount
        self.issued += amount
        self.earned.append((eid, vid, amount, issuer, available_from, expires_at))

    @precondition(lambda self: self.earned)
    @rule(data=st.data())
    def repeat_earn(self, data: st.DataObject) -> None:
        eid, vid, amount, issuer, available_from, expires_at = data.draw(
            st.sampled_from(self.earned)
        )
        first = self.book.posting(eid)
        before = self.state()
        out = self.book.earn(
            eid,
            vid,
            amount,
            at=first.at,
            issuer=issuer,
            available_from=available_from,
            expires_at=expires_at,
        )
        assert out[0] == first
        assert [p.id for p in out[1:]] == [
            p.id for p in self.book.postings if p.kind is PostingKind.SETTLE and p.lot == eid
        ]
        assert self.state() == before
        with pytest.raises(Conflict):
            self.book.earn(eid, vid, amount + 1, at=first.at, issuer=issuer)
        assert self.state() == before

    def amount(self, data: st.DataObject, vid: str) -> int:
        """Mostly what the volunteer can afford, sometimes a little more."""
        free = max(self.book.spendable(vid, at=self.clock), 0)
        return data.draw(st.integers(min_value=1, max_value=free + 5), label="amount")

    @rule(vid=volunteers, data=st.data(), h=hours)
    def spend(self, vid: str, data: st.DataObject, h: int) -> None:
        at = self.tick(h)
        amount = self.amount(data, vid)
        sid = self.new_id("o")
        plan = self.plan(vid, amount)
        issuers = self.issuers()
        if plan is None:
            before = self.state()
            with pytest.raises(InsufficientBalance) as info:
                self.book.spend(sid, vid, amount, at=at)
            assert self.state() == before
            free = self.book.spendable(vid, at=at)
            assert (info.value.needed, info.value.available) == (amount, max(free, 0))
            assert free < amount
            return
        out = self.book.spend(sid, vid, amount, at=at)
        assert [(p.lot, p.amount) for p in out] == plan  # the spending order, one posting per lot
        assert [p.id for p in out] == [f"{sid}#{k}" for k in range(1, len(out) + 1)]
        assert {(p.kind, p.source, p.target, p.at) for p in out} == {
            (PostingKind.SPEND, volunteer_account(vid), "redemption", at)
        }
        assert self.issuers() == issuers  # spending makes no points and destroys none
        before = self.state()
        assert self.book.spend(sid, vid, amount, at=at) == out
        assert self.state() == before
        self.spent.append((sid, vid, amount, out))

    @rule(
        pair=st.permutations(VOLUNTEERS).map(lambda vs: vs[:2]),
        data=st.data(),
        h=hours,
    )
    def transfer(self, pair: list[str], data: st.DataObject, h: int) -> None:
        giver, taker = pair
        at = self.tick(h)
        amount = self.amount(data, giver)
        tid = self.new_id("t")
        plan = self.plan(giver, amount)
        issuers = self.issuers()
        expiry = {x.id: x.expires_at for x in self.book.lots(giver)}
        if plan is None:
            before = self.state()
            with pytest.raises(InsufficientBalance):
                self.book.transfer(tid, giver, taker, amount, at=at)
            assert self.state() == before
            return
        got = self.book.balance(volunteer_account(taker))
        out = self.book.transfer(tid, giver, taker, amount, at=at)
        assert [(p.lot, p.amount) for p in out] == plan
        for p in out:  # each part becomes the recipient's lot, keeping the giver's expiry
            new = self.lot(taker, p.id)
            assert (new.amount, new.remaining, new.opened_at, new.available_from) == (
                p.amount,
                p.amount,
                at,
                at,
            )
            assert new.expires_at == expiry[p.lot]
        assert self.book.balance(volunteer_account(taker)) == got + amount
        assert self.issuers() == issuers

    @precondition(lambda self: any(s[0] not in self.refunded for s in self.spent))
    @rule(data=st.data(), h=hours)
    def refund(self, data: st.DataObject, h: int) -> None:
        sid, vid, amount, spent = data.draw(
            st.sampled_from([s for s in self.spent if s[0] not in self.refunded])
        )
        at = self.tick(h)
        issuers, redeemed = self.issuers(), self.book.balance("redemption")
        origins = {p.lot: self.lot(vid, p.lot or "") for p in spent}
        out = self.book.refund(spent, at=at)
        assert len(out) == len(spent)
        for sp, p in zip(spent, out, strict=True):
            orig = origins[sp.lot]
            assert (p.kind, p.source, p.target, p.amount, p.reverses) == (
                PostingKind.REFUND,
                "redemption",
                volunteer_account(vid),
                sp.amount,
                sp.id,
            )
            new = self.lot(vid, p.id)
            assert (new.available_from, new.expires_at) == (orig.available_from, orig.expires_at)
        assert self.book.balance("redemption") == redeemed - amount
        assert self.issuers() == issuers
        before = self.state()
        assert self.book.refund(spent, at=at) == out
        assert self.book.refund(spent, at=at + timedelta(days=1)) == out  # the recorded ones
        assert self.state() == before
        self.refunded.add(sid)

    @rule(h=st.integers(min_value=0, max_value=10 * 24))
    def expire(self, h: int) -> None:
        at = self.tick(h)
        due = {
            x.id: x
            for v in VOLUNTEERS
            for x in self.book.lots(v)
            if x.expires_at is not None and x.expires_at <= at
        }
        issuers = self.issuers()
        out = self.book.expire(at)
        assert {p.lot: (p.amount, p.at, p.source) for p in out} == {
            x.id: (x.remaining, x.expires_at, x.account) for x in due.values()
        }
        assert all(p.kind is PostingKind.EXPIRE and p.target == "expiry" for p in out)
        assert self.issuers() == issuers
        before = self.state()
        assert self.book.expire(at) == []  # idempotent
        assert self.state() == before
        for v in VOLUNTEERS:
            assert all(x.expires_at is None or x.expires_at > at for x in self.book.lots(v))

    @precondition(lambda self: any(e[0] not in self.reversed for e in self.earned))
    @rule(data=st.data(), clawback=st.sampled_from(ClawbackRule), h=hours)
    def reverse(self, data: st.DataObject, clawback: ClawbackRule, h: int) -> None:
        eid, vid, amount, issuer, _, _ = data.draw(
            st.sampled_from([e for e in self.earned if e[0] not in self.reversed])
        )
        at = self.tick(h)
        left = self.lot(vid, eid).remaining
        expired = sum(p.amount for p in self.book.postings if p.id == f"{eid}#expire")
        spent = amount - left - expired
        if clawback is ClawbackRule.DEBT:
            other = sum(
                x.remaining for x in self.book.lots(vid) if x.id != eid and x.available_on(at)
            )
            taken = min(spent, max(other + min(self.owed(vid), 0), 0))
        else:
            taken = 0
        debt = spent - taken
        owed, issuers, expiry = self.owed(vid), self.issuers(), self.book.balance("expiry")

        r = self.book.reverse_earning(eid, at=at, reason="时长撤销", rule=clawback)
        by_kind: Counter[str] = Counter()
        for p in r.postings:
            assert (p.reverses, p.target, p.at) == (eid, issuer, at)
            if p.kind is PostingKind.REVERSE and p.source == "expiry":
                assert p.lot is None and p.id == f"{eid}#expired"
                by_kind["expired"] += p.amount
            elif p.kind is PostingKind.REVERSE:
                assert p.lot == eid
                by_kind["reverse"] += p.amount
            elif p.lot is not None:
                assert p.kind is PostingKind.CLAWBACK and p.lot != eid
                by_kind["clawback"] += p.amount
            else:
                assert (p.kind, p.source) == (PostingKind.CLAWBACK, owed_account(vid))
                by_kind["owed"] += p.amount
        assert by_kind == Counter(reverse=left, expired=expired, clawback=taken, owed=debt)
        assert self.owed(vid) == owed - debt
        # the whole earning goes back to the issuer: what was left, what expired, what was spent
        assert self.issuers() == issuers + left + expired + taken + debt == issuers + amount
        assert expiry - self.book.balance("expiry") == expired
        assert r.findings[0].numbers == {"earned": amount, "left": left}
        text = r.explain()
        findings = list(r.findings[1:])
        if expired:
            assert findings.pop(0).numbers == {"expired": expired}
            assert f"{expired} had expired" in text
        if spent:
            if clawback is ClawbackRule.DEBT:
                assert findings[0].numbers == {"spent": spent, "taken": taken, "debt": debt}
                assert f"{taken} clawed back from other points, {debt} recorded as owed" in text
            else:
                assert findings[0].numbers == {"spent": spent}
                assert "the balance goes negative" in text
        else:
            assert findings == []
            assert "clawed back" not in text and "negative" not in text
        before = self.state()
        assert self.book.reverse_earning(eid, at=at, reason="again", rule=clawback).postings == (
            r.postings
        )
        assert self.state() == before
        self.issued -= left + expired + taken + debt
        self.reversed.add(eid)

    @precondition(lambda self: len(self.book) > 0)
    @rule(data=st.data())
    def repost(self, data: st.DataObject) -> None:
        p = data.draw(st.sampled_from(self.book.postings))
        before = self.state()
        assert self.book.post(p) is p
        assert self.book.post_many([p, attrs.evolve(p)]) == 0
        assert self.state() == before
        changed = data.draw(
            st.sampled_from(
                [
                    attrs.evolve(p, amount=p.amount + 1),
                    attrs.evolve(p, note=p.note + "改"),
                    attrs.evolve(p, at=p.at + timedelta(seconds=1)),
                ]
            )
        )
        with pytest.raises(Conflict):
            self.book.post(changed)
        with pytest.raises(Conflict):
            self.book.post_many([changed])
        assert self.state() == before

    @precondition(lambda self: any(self.book.lots(v) for v in VOLUNTEERS))
    @rule(data=st.data())
    def overdraw_a_lot(self, data: st.DataObject) -> None:
        x = data.draw(st.sampled_from([x for v in VOLUNTEERS for x in self.book.lots(v)]))
        bad = Posting(
            id=self.new_id("bad"),
            at=self.clock,
            kind=PostingKind.SPEND,
            source=x.account,
            target="redemption",
            amount=x.remaining + 1,
            lot=x.id,
        )
        before = self.state()
        with pytest.raises(InsufficientBalance):
            self.book.post(bad)
        with pytest.raises(InsufficientBalance):
            self.book.post_many(
                [
                    attrs.evolve(bad, amount=1),
                    attrs.evolve(bad, id=bad.id + "b", amount=x.remaining),
                ]
            )
        assert self.state() == before

    # --- invariants ---------------------------------------------------------------------------

    @invariant()
    def sums_to_zero(self) -> None:
        assert self.book.total() == 0
        assert self.clock + timedelta(days=100) < AFTER_ALL  # the bound the dates rely on

    @invariant()
    def balances_are_the_fold_of_the_postings(self) -> None:
        postings = self.book.postings
        folded = fold_accounts(postings)
        assert self.book.accounts() == folded
        assert all(self.book.balance(a) == n for a, n in folded.items())
        assert len({p.id for p in postings}) == len(postings)

    @invariant()
    def issuers_change_only_by_earning_and_reversal(self) -> None:
        # spending, expiry, transfers and refunds never create or destroy points
        assert -self.issuers() == self.issued
        assert sum(v for a, v in self.book.accounts().items() if not a.startswith("issuer:")) == (
            self.issued
        )

    @invariant()
    def lots_add_up(self) -> None:
        for v in VOLUNTEERS:
            every = self.book.lots(v, open_only=False)
            assert all(0 <= x.remaining <= x.amount for x in every)
            assert self.book.lots(v) == [x for x in every if x.remaining > 0]
            assert sum(x.remaining for x in every) == self.book.balance(volunteer_account(v))
            assert self.owed(v) <= 0

    @invariant()
    def balances_now_and_as_of_agree_with_the_fold(self) -> None:
        postings = self.book.postings
        now: dict[str, Balances] = {}
        for v in VOLUNTEERS:
            final = fold_balances(postings, v, as_of=AFTER_ALL)
            assert self.book.balances(v) == final
            assert self.book.balances(v, as_of=AFTER_ALL) == final
            # at the machine's clock the fold matches the lots as they stand
            here = fold_balances(postings, v, as_of=self.clock)
            assert here == classify(self.book.lots(v, open_only=False), self.owed(v), self.clock)
            assert self.book.balances(v, as_of=self.clock) == here
            assert here.available + min(here.owed, 0) == self.book.available(v, as_of=self.clock)
            now[v] = here
        # the past does not change, except that sweeping moves expired points out
        times = sorted(self.history)
        for s in times[:1] + times[-3:]:
            if s == self.clock:
                continue
            for v in VOLUNTEERS:
                was, is_ = self.history[s][v], self.book.balances(v, as_of=s)
                assert attrs.evolve(is_, expired_unswept=0) == attrs.evolve(was, expired_unswept=0)
                assert is_.expired_unswept <= was.expired_unswept
        self.history[self.clock] = now
        before = fold_balances(postings, "v1", as_of=START - timedelta(seconds=1))
        assert before == Balances(
            available=0, pending=0, expiring_soon=0, expired_unswept=0, owed=0
        )

    @invariant()
    def the_recorded_postings_rebuild_the_ledger(self) -> None:
        # a second journal over the same records folds them without re-running any operation
        fresh = PointsLedger(journal=Journal(self.book.journal.store))
        postings = self.book.postings
        assert fresh.postings == postings
        assert fresh.accounts() == self.book.accounts()
        for v in VOLUNTEERS:
            assert fresh.lots(v, open_only=False) == self.book.lots(v, open_only=False)
            assert fresh.lots(v) == self.book.lots(v)


PointsLedgerMachine.TestCase.settings = settings(
    max_examples=250,
    stateful_step_count=STEPS,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestPointsLedger = PointsLedgerMachine.TestCase
