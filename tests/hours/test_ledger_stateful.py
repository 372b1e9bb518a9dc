"""The hour ledger as a state machine: random sequences of posts, reposts, conflicting posts,
certifications, rejections, reversals and the passing of time, checked against a small model of
each record's life and against :func:`~zhiyuan.hours.fold` of the entries.

Two policies take turns by service date (the second one from 2025-03-03): the first trims
overlaps, caps days at 5 h and has a 2-day public notice; the second rejects overlaps, counts
half hours (rounding half up), sends days over 4 h for approval and certifies QR scans at once.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import attrs
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from support.hours import PROVINCE, at, facts, ledger, overlaps, record, volunteer
from zhiyuan.errors import Conflict
from zhiyuan.hours import (
    Evidence,
    HourLedger,
    HourPolicy,
    Outcome,
    Overflow,
    OverlapRule,
    Posted,
    Rounding,
    ServiceRecord,
    Status,
    fold,
)

VOLUNTEERS = ("v1", "v2", "v3")
STATES = ("submitted", "pending", "certified", "rejected", "reversed")
START = at(2025, 3, 6)  # after every record's end (records fall on 1–4 March, ≤ 10 h long)
FAR = at(2200, 1, 1)

POLICIES = (
    HourPolicy(
        name="trim",
        effective_from=date(2021, 2, 1),
        daily_cap_minutes=300,
        notice_days=2,
    ),
    HourPolicy(
        name="strict",
        effective_from=date(2025, 3, 3),
        unit_minutes=30,
        rounding=Rounding.HALF_UP,
        overlap=OverlapRule.REJECT,
        daily_cap_minutes=240,
        over_daily_cap=Overflow.APPROVAL,
        auto_certify={Evidence.QR_SCAN},
    ),
)


@dataclass
class Model:
    """What the test believes about one record."""

    record: ServiceRecord
    outcome: Outcome
    posted: datetime
    certified: datetime | None = None
    notice_until: datetime | None = None
    rejected: datetime | None = None
    reversed: datetime | None = None

    def state(self, t: datetime | None) -> str | None:
        t = FAR if t is None else t
        if t < self.posted:
            return None
        if self.reversed is not None and self.reversed <= t:
            return "reversed"
        if self.rejected is not None and self.rejected <= t:
            return "rejected"
        if self.certified is not None and self.certified <= t:
            assert self.notice_until is not None
            return "certified" if self.notice_until <= t else "pending"
        return "submitted"

    @property
    def live(self) -> bool:
        return self.rejected is None and self.reversed is None and self.outcome.counted


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.lg: HourLedger = ledger(
            policies=POLICIES, volunteers=[volunteer(v) for v in VOLUNTEERS]
        )
        self.now = START
        self.models: dict[str, Model] = {}
        self.counter = itertools.count()
        self.moments: list[datetime] = [START]

    # --- helpers -------------------------------------------------------------------------------

    def snapshot(self) -> tuple[object, ...]:
        lg = self.lg
        return (
            facts(lg),
            len(lg),
            {v: lg.summary(v) for v in VOLUNTEERS},
            {v: lg.occupied(v) for v in VOLUNTEERS},
        )

    def expected_minutes(self, t: datetime | None) -> dict[tuple[str, str], int]:
        out: dict[tuple[str, str], int] = {}
        for m in self.models.values():
            state = m.state(t)
            if state is not None and m.outcome.counted_minutes:
                key = (m.record.volunteer_id, state)
                out[key] = out.get(key, 0) + m.outcome.counted_minutes
        return out

    def pick(self, data: st.DataObject) -> Model:
        return self.models[data.draw(st.sampled_from(sorted(self.models)), label="record")]

    # --- rules ---------------------------------------------------------------------------------

    @rule(
        vid=st.sampled_from(VOLUNTEERS),
        day=st.integers(1, 4),
        minute=st.integers(0, 24 * 60 - 1),
        minutes=st.integers(1, 600),
        evidence=st.sampled_from([Evidence.QR_SCAN, Evidence.GPS, Evidence.SELF_REPORT]),
    )
    def post(self, vid: str, day: int, minute: int, minutes: int, evidence: Evidence) -> None:
        rid = f"r{next(self.counter)}"
        start = at(2025, 3, day) + timedelta(minutes=minute)
        rec = record(rid, vid=vid, start=start, minutes=minutes, evidence=evidence)
        out = self.lg.post(rec, at=self.now)
        assert out.record_id == rid and out.served_minutes == minutes
        m = Model(record=rec, outcome=out, posted=self.now)
        policy = self.lg.policy_for(rec.service_date)
        if out.status is Status.ACCEPTED and evidence in policy.auto_certify:
            m.certified = self.now
            m.notice_until = self.now + timedelta(days=policy.notice_days)
        self.models[rid] = m

    @precondition(lambda self: self.models)
    @rule(data=st.data(), later=st.integers(0, 3 * 24 * 60))
    def repost_same(self, data: st.DataObject, later: int) -> None:
        m = self.pick(data)
        before = self.snapshot()
        again = self.lg.post(m.record, at=self.now + timedelta(minutes=later))
        assert again == m.outcome
        assert self.snapshot() == before

    @precondition(lambda self: self.models)
    @rule(data=st.data(), how=st.sampled_from(["note", "longer", "volunteer"]))
    def post_conflicting_id(self, data: st.DataObject, how: str) -> None:
        m = self.pick(data)
        rec = m.record
        if how == "note":
            other = attrs.evolve(rec, note=rec.note + "改")
        elif how == "longer":
            other = attrs.evolve(rec, end=rec.end + timedelta(minutes=1))
        else:
            vid = VOLUNTEERS[(VOLUNTEERS.index(rec.volunteer_id) + 1) % len(VOLUNTEERS)]
            other = attrs.evolve(rec, volunteer_id=vid)
        before = self.snapshot()
        with pytest.raises(Conflict):
            self.lg.post(other, at=self.now)
        assert self.snapshot() == before

    @precondition(lambda self: self.models)
    @rule(data=st.data())
    def certify(self, data: st.DataObject) -> None:
        m = self.pick(data)
        refused = (
            m.rejected is not None
            or m.reversed is not None
            or (m.certified is None and m.outcome.status is Status.REJECTED)
        )
        before = self.snapshot()
        if refused:
            with pytest.raises(Conflict):
                self.lg.certify(m.record.id, by="admin", at=self.now)
            assert self.snapshot() == before
            return
        self.lg.certify(m.record.id, by="admin", at=self.now)
        if m.certified is None:
            notice = self.lg.policy_for(m.record.service_date).notice_days
            m.certified, m.notice_until = self.now, self.now + timedelta(days=notice)
        else:
            assert self.snapshot() == before  # certifying twice is a no-op

    @precondition(lambda self: self.models)
    @rule(data=st.data())
    def reject(self, data: st.DataObject) -> None:
        m = self.pick(data)
        before = self.snapshot()
        if m.rejected is not None:
            self.lg.reject(m.record.id, by="admin", reason="again", at=self.now)
            assert self.snapshot() == before
        elif m.state(self.now) in ("submitted", "pending"):
            self.lg.reject(m.record.id, by="admin", reason="核查不实", at=self.now)
            m.rejected = self.now
        else:
            with pytest.raises(Conflict):
                self.lg.reject(m.record.id, by="admin", reason="too late", at=self.now)
            assert self.snapshot() == before

    @precondition(lambda self: self.models)
    @rule(data=st.data())
    def reverse(self, data: st.DataObject) -> None:
        m = self.pick(data)
        before = self.snapshot()
        self.lg.reverse(m.record.id, by="admin", reason="冲销", at=self.now)
        if m.reversed is None:
            m.reversed = self.now
        else:
            assert self.snapshot() == before

    @rule(minutes=st.sampled_from([1, 59, 60, 6 * 60, 24 * 60, 2 * 24 * 60, 3 * 24 * 60]))
    def advance_time(self, minutes: int) -> None:
        self.now += timedelta(minutes=minutes)
        self.moments.append(self.now)

    # --- invariants -----------------------------------------------------------------------------

    def check_moments(self) -> list[datetime | None]:
        probe: list[datetime | None] = [None, self.now, self.now + timedelta(days=3)]
        probe += self.moments[-3:]
        probe.append(START - timedelta(days=1))
        return probe

    @invariant()
    def queries_agree_with_the_model_and_the_fold(self) -> None:
        for t in self.check_moments():
            expected = self.expected_minutes(t)
            folded = fold(facts(self.lg), as_of=t)
            assert folded == expected, t
            for v in VOLUNTEERS:
                summary = self.lg.summary(v, as_of=t)
                for state in STATES:
                    assert summary[state] == expected.get((v, state), 0), (t, v, state)
                    assert summary[state] >= 0
            by_vol = self.lg.minutes_by_volunteer(as_of=t)
            certified = {v: n for (v, s), n in expected.items() if s == "certified"}
            assert {v: n for v, n in by_vol.items() if n} == certified
            totals = self.lg.totals_by_region(as_of=t)
            assert totals.get(PROVINCE, 0) == sum(certified.values())  # all served in 山东

    @invariant()
    def statuses_follow_the_model(self) -> None:
        for rid, m in self.models.items():
            for t in (None, self.now, m.posted - timedelta(seconds=1)):
                assert self.lg.status(rid, as_of=t) == m.state(t), (rid, t)

    @invariant()
    def live_counted_records_never_overlap(self) -> None:
        for v in VOLUNTEERS:
            segs = sorted(
                s
                for m in self.models.values()
                if m.live and m.record.volunteer_id == v
                for s in m.outcome.segments
            )
            for a, b in itertools.pairwise(segs):
                assert not overlaps(a, b), (v, a, b)
            # the ledger holds exactly the live records' time and daily minutes
            assert self.lg.occupied(v) == segs
            days: dict[date, int] = {}
            for m in self.models.values():
                if m.live and m.record.volunteer_id == v:
                    for d, n in m.outcome.day_minutes:
                        days[d] = days.get(d, 0) + n
            held = self.lg.day_minutes(v)
            assert held == days

    @invariant()
    def entries_are_one_post_per_record(self) -> None:
        posted = [e.record.id for e in facts(self.lg) if isinstance(e, Posted)]
        assert sorted(posted) == sorted(self.models)
        assert len(self.lg) == len(self.models)
        for e in facts(self.lg):
            assert e.at <= self.now

    def teardown(self) -> None:
        # Reversing everything returns certified and pending totals to zero, from then on, while
        # the history before stays as it was.
        for rid in sorted(self.models):
            self.lg.reverse(rid, by="admin", reason="清零", at=self.now)
        for t in (self.now, self.now + timedelta(days=5), None):
            for v in VOLUNTEERS:
                assert self.lg.minutes(v, status="certified", as_of=t) == 0
                assert self.lg.minutes(v, status="pending", as_of=t) == 0
                assert self.lg.minutes(v, status="submitted", as_of=t) == 0
        assert all(not self.lg.occupied(v) and not self.lg.day_minutes(v) for v in VOLUNTEERS)
        before = self.now - timedelta(microseconds=1)
        assert fold(facts(self.lg), as_of=before) == self.expected_minutes(before)
        total = sum(m.outcome.counted_minutes for m in self.models.values())
        now_states = fold(facts(self.lg), as_of=self.now)
        assert sum(n for (_, s), n in now_states.items() if s == "reversed") == total


LedgerMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
TestLedgerMachine = LedgerMachine.TestCase
