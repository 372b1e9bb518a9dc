"""Stateful: the same random operations on books in memory and on books over a real store give
the same state, the same answers and the same chain; so does closing and reopening the store,
with or without a checkpoint."""

from __future__ import annotations

import itertools
import shutil
import tempfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)
from pgcluster import Cluster

from books import REGISTRY, VOLUNTEERS, fixed_clock, record, t, volunteer
from zhiyuan.credit import PointsLedger
from zhiyuan.errors import ZhiyuanError
from zhiyuan.hours import HourLedger, HourPolicy
from zhiyuan.journal import Journal
from zhiyuan.store import open_journal

POLICY = HourPolicy(notice_days=2, daily_cap_minutes=600, unit_minutes=30)


class Side:
    """One journal and its books (the hour ledger and a points ledger)."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self.hours = HourLedger(REGISTRY, policies=[POLICY], journal=journal)
        self.points = PointsLedger(journal=journal)

    def view(self) -> dict[str, Any]:
        h, p = self.hours, self.points
        return {
            "hours": {v: h.summary(v) for v in VOLUNTEERS},
            "held": {v: (h.occupied(v), h.day_minutes(v)) for v in VOLUNTEERS},
            "accounts": p.accounts(),
            "lots": {v: p.lots(v) for v in VOLUNTEERS},
            "entries": (h.entries, p.entries),
        }


def outcome(call: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return "ok", call()
    except ZhiyuanError as exc:
        return type(exc).__name__, str(exc)


class StoreMachine(RuleBasedStateMachine):
    def __init__(self, url_factory: Callable[[Path], str]) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="zhiyuan-stateful-"))
        self.url = url_factory(self.dir)
        self.memory = Side(Journal(clock=fixed_clock))
        self.stored = Side(open_journal(self.url, clock=fixed_clock))
        self.n = 0
        both = self.both(
            lambda s: s.hours.add_volunteers([volunteer(v) for v in VOLUNTEERS], at=t(1))
        )
        assert both[0] == "ok"

    def teardown(self) -> None:
        self.stored.journal.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def both(self, op: Callable[[Side], Any]) -> tuple[str, Any]:
        a = outcome(lambda: op(self.memory))
        b = outcome(lambda: op(self.stored))
        assert a == b
        return a

    def fresh(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}{self.n}"

    # --- points --------------------------------------------------------------------------------

    @rule(
        v=st.sampled_from(VOLUNTEERS),
        n=st.integers(1, 20),
        day=st.integers(1, 30),
        expires=st.none() | st.integers(1, 40),
    )
    def earn(self, v: str, n: int, day: int, expires: int | None) -> None:
        eid = self.fresh("e")
        exp = None if expires is None else t(day) + timedelta(days=expires)
        self.both(lambda s: s.points.earn(eid, v, n, at=t(day), issuer="i", expires_at=exp))

    @rule(v=st.sampled_from(VOLUNTEERS), n=st.integers(1, 30), day=st.integers(1, 60))
    def spend(self, v: str, n: int, day: int) -> None:
        sid = self.fresh("s")
        self.both(lambda s: s.points.spend(sid, v, n, at=t(day)))

    @rule(a=st.sampled_from(VOLUNTEERS), b=st.sampled_from(VOLUNTEERS), n=st.integers(1, 10))
    def transfer(self, a: str, b: str, n: int) -> None:
        gid = self.fresh("g")
        self.both(lambda s: s.points.transfer(gid, a, b, n, at=t(30)))

    @rule(data=st.data())
    def refund(self, data: st.DataObject) -> None:
        spends = [p for p in self.memory.points.postings if p.kind.value == "spend"]
        if spends:
            p = data.draw(st.sampled_from(spends))
            self.both(lambda s: s.points.refund([p], at=t(61)))

    @rule(data=st.data(), rule_=st.sampled_from(["debt", "negative"]))
    def reverse_earning(self, data: st.DataObject, rule_: str) -> None:
        earns = [p.id for p in self.memory.points.postings if p.kind.value == "earn"]
        if earns:
            eid = data.draw(st.sampled_from(earns))
            self.both(lambda s: s.points.reverse_earning(eid, at=t(62), reason="x", rule=rule_))

    @rule(day=st.integers(1, 90))
    def expire(self, day: int) -> None:
        self.both(lambda s: s.points.expire(t(day)))

    # --- hours ---------------------------------------------------------------------------------

    @rule(v=st.sampled_from(VOLUNTEERS), day=st.integers(1, 20), hours=st.integers(1, 12))
    def post(self, v: str, day: int, hours: int) -> None:
        rid = self.fresh("r")
        self.both(lambda s: s.hours.post(record(rid, v, day, hours), at=t(25)))

    @rule(data=st.data(), action=st.sampled_from(["certify", "reject", "reverse"]))
    def review(self, data: st.DataObject, action: str) -> None:
        ids = [r.id for v in VOLUNTEERS for r in self.memory.hours.records_of(v)]
        if not ids:
            return
        rid = data.draw(st.sampled_from(ids))
        if action == "certify":
            self.both(lambda s: s.hours.certify(rid, by="admin", at=t(26)))
        elif action == "reject":
            self.both(lambda s: s.hours.reject(rid, by="admin", reason="x", at=t(27)))
        else:
            self.both(lambda s: s.hours.reverse(rid, by="admin", reason="x", at=t(28)))

    # --- the store -----------------------------------------------------------------------------

    @rule(checkpoint=st.booleans())
    def reopen(self, checkpoint: bool) -> None:
        if checkpoint:
            self.stored.journal.checkpoint()
        self.stored.journal.close()
        self.stored = Side(open_journal(self.url, clock=fixed_clock))

    @invariant()
    def the_same_state(self) -> None:
        assert self.stored.view() == self.memory.view()
        assert self.stored.journal.head == self.memory.journal.head


SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_sqlite_books_follow_memory_books() -> None:
    run_state_machine_as_test(
        lambda: StoreMachine(lambda d: f"sqlite:///{d / 'j.db'}"),
        settings=settings(SETTINGS, max_examples=25, stateful_step_count=25),
    )


def test_postgres_books_follow_memory_books(pg_cluster: Cluster) -> None:
    names = itertools.count()
    run_state_machine_as_test(
        lambda: StoreMachine(lambda _: pg_cluster.create_database(f"s{next(names)}")),
        settings=settings(SETTINGS, max_examples=8, stateful_step_count=20),
    )
