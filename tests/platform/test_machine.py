"""Stateful: random registrations, posts, certifications, rejections, reversals, spends, star
awards, needs served and settlements by random principals, on a platform over SQLite. After
every step:

* each record's points equal the conversion of its certified minutes (0 once it is undone);
* the time bank holds exactly the certified minutes of the categories it banks;
* no volunteer holds a star the certified hours do not earn, unless it awaits review;
* every write was allowed exactly when a model of the grants says so, a refused write recorded
  nothing, and every recorded act names its authority;
* the books agree (``reconcile()`` finds nothing), and a reopened store gives the same state.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from zhiyuan import SHANGHAI
from zhiyuan.credit import Catalog, ConversionPolicy, Item, TimeBankPolicy, convert
from zhiyuan.errors import PermissionDenied, ZhiyuanError
from zhiyuan.hierarchy import Action, Grant, Organization, Registry, load_default
from zhiyuan.hours import Evidence, HourPolicy, ServiceRecord, Volunteer
from zhiyuan.hours.ledger import HourRow
from zhiyuan.matching import Need
from zhiyuan.platform import Platform, Policies
from zhiyuan.scoring import Lapse, StarScheme

TREE = load_default()
REGISTRY = Registry(TREE, [Organization(id="o1", name="城阳区志愿者协会", region_code="370214")])
VILLAGE = "370214001001"
START = datetime(2025, 3, 1, 8, tzinfo=SHANGHAI)
CLERK_UNTIL = date(2025, 3, 6)
GRANTS = [
    Grant(principal="admin", region_code="3702"),  # city level: every action, every star
    Grant(
        principal="clerk",
        region_code="370214",
        actions={Action.RECORD, Action.CERTIFY},
        valid_until=CLERK_UNTIL,
    ),
    Grant(principal="auditor", region_code="370214", actions={Action.REVERSE}),
]
GRANTED: dict[str, tuple[frozenset[str], date | None]] = {
    "admin": (frozenset({"*"}), None),
    "clerk": (frozenset({Action.RECORD, Action.CERTIFY}), CLERK_UNTIL),
    "auditor": (frozenset({Action.REVERSE}), None),
}
VIDS = ("v0", "v1", "v2", "v3")
CATALOG = Catalog([Item(id="rice", name="米", price=1, stock=20)])
PRINCIPALS = st.sampled_from(["admin"] * 5 + ["clerk"] * 2 + ["auditor", "stranger", "self", "v0"])
"""Who acts; ``self`` stands for the volunteer the operation concerns."""
BANKED = "养老"
ACTION_OF = {  # the grant an act needs, by the platform operation that recorded it
    "register": Action.MANAGE,
    "post": Action.RECORD,
    "certify": Action.CERTIFY,
    "reject": Action.CERTIFY,
    "reverse": Action.REVERSE,
    "spend": Action.ADJUST_POINTS,
    "apply_star": Action.MANAGE,
    "decide_star": Action.APPROVE_STAR,
    "post_need": Action.DISPATCH,
    "dispatch": Action.DISPATCH,
    "accept": Action.DISPATCH,
    "start": Action.RECORD,
    "complete": Action.RECORD,
    "reward": Action.ADJUST_POINTS,
    "redeem": Action.ADJUST_POINTS,
}


def may(principal: str, action: str, day: date) -> bool:
    """The model of the grants (every region in the machine is under each grant's region)."""
    held = GRANTED.get(principal)
    if held is None:
        return False
    actions, until = held
    return ("*" in actions or action in actions) and (until is None or day <= until)


class PlatformMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="zhiyuan-platform-"))
        self.url = f"sqlite:///{self.dir / 'city.db'}"
        self.now = START
        self.records: list[str] = []
        self.needs = 0
        self.ops = 0

    @initialize(
        on_lapse=st.sampled_from(list(Lapse)),
        clawback=st.sampled_from(["debt", "negative"]),
        carry=st.booleans(),
    )
    def open(self, on_lapse: Lapse, clawback: str, carry: bool) -> None:
        self.conversion = ConversionPolicy(carry=carry, clawback=clawback, hours_per_point=2)
        self.policies = Policies(
            hours=[HourPolicy()],
            stars=StarScheme(thresholds_hours=(2, 4, 6, 8, 10), on_lapse=on_lapse),
            conversion=[self.conversion],
            time_bank=[TimeBankPolicy(bank_hours="at_once", bank_categories=[BANKED])],
        )
        self.city = self._open()
        for vid in VIDS[:2]:
            self.city.register(
                Volunteer(
                    id=vid, name="志愿者", home_region=VILLAGE, registered_on=date(2024, 1, 1)
                ),
                by=vid,
            )

    def _open(self) -> Platform:
        return Platform.open(
            self.url,
            REGISTRY,
            policies=self.policies,
            grants=GRANTS,
            clock=self.clock,
            catalog=CATALOG,
        )

    def clock(self) -> datetime:
        return self.now

    def teardown(self) -> None:
        if hasattr(self, "city"):
            self.city.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    # --- running an operation against the model ---------------------------------------------

    def run(self, call: Any, *, allowed: bool, name: str = "") -> bool:
        """Run a write; a refusal must record nothing, and authority must match the model."""
        before = len(self.city.journal)
        try:
            call()
        except PermissionDenied:
            assert len(self.city.journal) == before
            assert not allowed, "the platform refused a write the grants allow"
            event(f"{name}: refused")
            return False
        except ZhiyuanError as exc:
            assert len(self.city.journal) == before
            event(f"{name}: {type(exc).__name__}")
            return False
        assert allowed, "the platform allowed a write the grants refuse"
        event(f"{name}: done")
        return True

    @staticmethod
    def who(by: str, vid: str) -> str:
        return vid if by == "self" else by

    def registered(self) -> list[str]:
        return [v.id for v in self.city.hours.volunteers()]

    # --- rules --------------------------------------------------------------------------------

    @rule(n=st.integers(0, 3), by=PRINCIPALS)
    def register(self, n: int, by: str) -> None:
        vid = VIDS[n]
        by = self.who(by, vid)
        v = Volunteer(id=vid, name="志愿者", home_region=VILLAGE, registered_on=date(2024, 1, 1))
        ok = by == vid or may(by, Action.MANAGE, self.now.date())
        self.run(lambda: self.city.register(v, by=by), allowed=ok, name="register")

    @rule(
        n=st.integers(0, 3) | st.integers(0, 1),
        days=st.integers(1, 6),
        hour=st.integers(6, 18),
        minutes=st.integers(20, 300),
        banked=st.booleans(),
        by=PRINCIPALS,
    )
    def post(self, n: int, days: int, hour: int, minutes: int, banked: bool, by: str) -> None:
        vid = VIDS[n]
        by = self.who(by, vid)
        start = (self.now - timedelta(days=days)).replace(hour=hour, minute=0)
        rid = f"r{len(self.records)}"
        rec = ServiceRecord(
            id=rid,
            volunteer_id=vid,
            activity_id="a1",
            organization_id="o1",
            region_code=VILLAGE,
            category=BANKED if banked else "环保",
            evidence=Evidence.QR_SCAN,
            start=start,
            end=start + timedelta(minutes=minutes),
        )
        ok = by == vid or may(by, Action.RECORD, self.now.date())
        if self.run(lambda: self.city.post(rec, by=by), allowed=ok, name="post"):
            self.records.append(rid)

    def review(self, data: st.DataObject, what: str, by: str) -> None:
        rid = data.draw(st.sampled_from(self.records))
        vid = self.city.hours.record(rid).volunteer_id
        by = self.who(by, vid)
        need = Action.REVERSE if what == "reverse" else Action.CERTIFY
        ok = by != vid and may(by, need, self.now.date())
        if what == "certify":
            call = lambda: self.city.certify(rid, by=by)  # noqa: E731
        elif what == "reject":
            call = lambda: self.city.reject(rid, by=by, reason="不实")  # noqa: E731
        else:
            call = lambda: self.city.reverse(rid, by=by, reason="重复")  # noqa: E731
        self.run(call, allowed=ok, name=what)

    @precondition(lambda self: self.records)
    @rule(data=st.data(), by=PRINCIPALS)
    def certify(self, data: st.DataObject, by: str) -> None:
        self.review(data, "certify", by)

    @precondition(lambda self: self.records)
    @rule(data=st.data(), by=PRINCIPALS)
    def certify_again(self, data: st.DataObject, by: str) -> None:
        self.review(data, "certify", by)

    @precondition(lambda self: self.records)
    @rule(data=st.data(), by=PRINCIPALS)
    def reject(self, data: st.DataObject, by: str) -> None:
        self.review(data, "reject", by)

    @precondition(lambda self: self.records)
    @rule(data=st.data(), by=PRINCIPALS)
    def reverse(self, data: st.DataObject, by: str) -> None:
        self.review(data, "reverse", by)

    @rule(data=st.data(), amount=st.integers(1, 5), by=PRINCIPALS)
    def spend(self, data: st.DataObject, amount: int, by: str) -> None:
        vid = data.draw(st.sampled_from(self.registered()))
        by = self.who(by, vid)
        self.ops += 1
        ok = by == vid or may(by, Action.ADJUST_POINTS, self.now.date())
        self.run(
            lambda: self.city.spend(f"s{self.ops}", vid, amount, by=by), allowed=ok, name="spend"
        )

    @rule(n=st.integers(0, 3), by=PRINCIPALS)
    def award(self, n: int, by: str) -> None:
        """Apply for the level the hours earn, and have ``by`` decide it."""
        vid = VIDS[n]
        by = self.who(by, vid)
        if vid not in self.registered():
            return
        held = self.city.stars.level(vid)
        level = self.rated(vid)
        if level <= held or self.city.stars.reviews(vid):
            return
        self.ops += 1
        app = f"app{self.ops}"
        if not self.run(lambda: self.city.apply_star(app, vid, level, by=vid), allowed=True):
            return
        ok = by != vid and may(by, Action.APPROVE_STAR, self.now.date())
        self.run(
            lambda: self.city.decide_star(app, by=by, approve=True, reason="符合"),
            allowed=ok,
            name="decide_star",
        )

    @rule(n=st.integers(0, 3), by=PRINCIPALS)
    def serve_need(self, n: int, by: str) -> None:
        """点单 → 派单 → 接单 → 服务 → 完成, the completion recorded by ``by``."""
        vid = VIDS[n]
        by = self.who(by, vid)
        if vid not in self.registered():
            return
        self.needs += 1
        nid = f"n{self.needs}"
        begin = self.now
        need = Need(
            id=nid,
            requester="elder",
            region_code=VILLAGE,
            category=BANKED,
            start=begin,
            end=begin + timedelta(hours=2),
            posted_at=begin,
        )
        city = self.city
        assert self.run(lambda: city.post_need(need, by="elder"), allowed=True)
        if not self.run(lambda: city.dispatch(nid, by="admin", candidate_id=vid), allowed=True):
            return
        assert self.run(lambda: city.accept(nid, vid, by=vid), allowed=True)
        assert self.run(lambda: city.start(nid, by="admin"), allowed=True)
        self.now += timedelta(hours=2)
        ok = may(by, Action.RECORD, self.now.date())
        done = lambda: city.complete(  # noqa: E731
            nid, by=by, evidence="supervisor", organization_id="o1"
        )
        if self.run(done, allowed=ok, name="complete"):
            self.records.append(f"need:{nid}:{vid}")
            giver = "admin" if by == vid else by  # 奖单, by whoever completed it
            ok = giver != vid and may(giver, Action.ADJUST_POINTS, self.now.date())
            reward = lambda: city.reward(nid, vid, 2, by=giver)  # noqa: E731
            self.run(reward, allowed=ok, name="reward")

    @rule(data=st.data(), quantity=st.integers(1, 2), by=PRINCIPALS)
    def redeem(self, data: st.DataObject, quantity: int, by: str) -> None:
        vid = data.draw(st.sampled_from(self.registered()))
        by = self.who(by, vid)
        self.ops += 1
        ok = by == vid or may(by, Action.ADJUST_POINTS, self.now.date())
        order = lambda: self.city.redeem(f"o{self.ops}", vid, "rice", quantity, by=by)  # noqa: E731
        self.run(order, allowed=ok, name="redeem")

    @rule(hours=st.integers(1, 72))
    def tick(self, hours: int) -> None:
        self.now += timedelta(hours=hours)

    @rule(by=PRINCIPALS)
    def settle(self, by: str) -> None:
        self.run(lambda: self.city.settle(by=by), allowed=True)

    @rule(checkpoint=st.booleans())
    def reopen(self, checkpoint: bool) -> None:
        before = self.snapshot()
        if checkpoint:
            self.city.journal.checkpoint()
        self.city.close()
        self.city = self._open()
        assert self.snapshot() == before

    # --- the model's view ---------------------------------------------------------------------

    def certified_rows(self, vid: str) -> list[HourRow]:
        return self.city.hours.rows(volunteer_id=vid)

    def rated(self, vid: str) -> int:
        v = self.city.hours.volunteer(vid)
        return (
            self.city.stars.policy_for(self.now.date())
            .rate_rows(
                vid,
                self.certified_rows(vid),
                self.now,
                volunteer=v,
                held=self.city.stars.level(vid),
            )
            .level
        )

    def snapshot(self) -> dict[str, Any]:
        city = self.city
        vids = self.registered()
        assert city.time_bank is not None
        return {
            "accounts": city.points.accounts(),
            "statuses": {r: city.hours.status(r) for r in self.records},
            "levels": {v: city.stars.level(v) for v in vids},
            "reviews": city.stars.reviews(),
            "bank": {v: city.time_bank.balance(v) for v in vids},
            "acts": city.acts.acts(),
            "head": city.journal.head,
            "candidates": sorted(c for c in vids if city.dispatcher.candidate(c)),
        }

    # --- invariants ---------------------------------------------------------------------------

    def held(self, rid: str) -> int:
        """The points a record's conversion holds, net of what was taken back from it, from
        the raw postings (not the platform's own reading)."""
        city = self.city
        pid = self.conversion.posting_id(rid)
        mine = [p for p in city.points.postings if p.id == pid or p.id.startswith(pid + "#top#")]
        ids = {p.id for p in mine}
        taken = sum(p.amount for p in city.points.postings if p.reverses in ids)
        assert city.points_of(rid) == sum(p.amount for p in mine) - taken
        return sum(p.amount for p in mine) - taken

    @invariant()
    def points_follow_certified_minutes(self) -> None:
        """Each record holds what the conversion of its volunteer's certified history gives it
        (0 once undone): with remainders carried, the history converted as a whole."""
        city = self.city
        for vid in self.registered():
            worth = {
                rc.record_id: 0 if rc.posting is None else rc.posting.amount
                for rc in convert(self.certified_rows(vid), self.conversion).rows
            }
            for rec in city.hours.records_of(vid):
                assert self.held(rec.id) == worth.get(rec.id, 0), (rec.id, worth)

    @invariant()
    def the_time_bank_holds_certified_minutes(self) -> None:
        bank = self.city.time_bank
        assert bank is not None
        for vid in self.registered():
            wanted = sum(r.minutes for r in self.certified_rows(vid) if r.category == BANKED)
            assert bank.balance(vid) == wanted, vid

    @invariant()
    def stars_are_earned_or_await_review(self) -> None:
        stars = self.city.stars
        for vid in self.registered():
            held = stars.level(vid)
            if held and not stars.reviews(vid):
                assert self.rated(vid) >= held, vid

    @invariant()
    def every_act_was_authorized(self) -> None:
        for act in self.city.acts.acts():
            if act.action == "settle":
                continue
            if act.own:
                continue
            assert may(act.by, ACTION_OF[act.action], act.at.date()), act

    @invariant()
    def the_books_agree(self) -> None:
        found = self.city.reconcile()
        assert bool(found), found.explain()


SETTINGS = settings(
    deadline=None,
    max_examples=60,
    stateful_step_count=40,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def test_the_platform_keeps_its_books_consistent() -> None:
    run_state_machine_as_test(PlatformMachine, settings=SETTINGS)
