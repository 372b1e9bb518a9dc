"""The platform's flows keep every book in line with the certified hours: points follow
certification under the conversion policy (at once or in ``settle``), the time bank banks what
its policy names, undoing hours takes points and deposits back (clawing back what was spent),
stars lapse to a review or a revocation, completed needs post hours for whoever served, and
``reconcile`` finds and repairs what was changed behind the platform's back. All of it survives
a restart on SQLite."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import zhiyuan.credit
from support.platform import (
    CY_VILLAGE,
    GRANTS,
    STARS,
    Clock,
    Heard,
    at,
    conversion,
    make,
    owed,
    points,
    record,
    registry,
    rules,
    serve,
    time_bank,
    volunteer,
)
from zhiyuan.credit import ClawbackRule, ConversionPolicy, PostingKind, convert
from zhiyuan.credit.ledger import Timing
from zhiyuan.errors import Conflict, InvalidValue, NotFound
from zhiyuan.hours import Evidence, HourPolicy
from zhiyuan.matching import Candidate, CandidateKind, Need, NeedState
from zhiyuan.platform import (
    TIME_BANK_BOOK,
    Act,
    DriftKind,
    EventKind,
    Platform,
    candidate_of,
)
from zhiyuan.scoring import Lapse, StarScheme

Make = Callable[..., Platform]

# Four records of v1: 3 h and 1 h on 1 March, 1 h on 2 March, 3 h on 3 March (8 h in all).
HISTORY = (("r1", 1, 3, 9), ("r2", 1, 1, 14), ("r3", 2, 1, 9), ("r4", 3, 3, 9))


def _serve_history(city: Platform) -> None:
    for rid, day, hours, start in HISTORY:
        serve(city, rid, "v1", day, hours, start_hour=start)


def _city(make_city: Make, *vids: str, **policy: Any) -> Platform:
    city = make_city(policies=rules(**policy))
    for vid in vids or ("v1",):
        city.register(volunteer(vid), by=vid)
    return city


def _conversion_postings(city: Platform) -> dict[str, int]:
    return {
        p.ref: p.amount
        for p in city.points.postings
        if p.kind is PostingKind.EARN and p.ref is not None and p.id.endswith("#convert")
    }


# --- certification → points -------------------------------------------------------------------


def test_timing_is_public_where_the_docs_say() -> None:
    """``ConversionPolicy.timing`` and ``TimeBankPolicy.bank_hours`` document
    ``zhiyuan.credit.Timing`` (next to ``zhiyuan.credit.ClawbackRule``)."""
    assert getattr(zhiyuan.credit, "Timing", None) is Timing
    assert "Timing" in zhiyuan.credit.__all__


@pytest.mark.parametrize(
    ("policy", "per_record"),
    [
        pytest.param(conversion(), {"r1": 3, "r2": 1, "r3": 1, "r4": 3}, id="1h=1pt"),
        # 2 h a point, remainders carried: 1.5 → 1, 2 → 2, 2.5 → 2, 4 → 4 in all
        pytest.param(conversion(hours_per_point=2), {"r1": 1, "r2": 1, "r4": 2}, id="2h=1pt-carry"),
        # 2 h a point, each record alone: 1.5 → 1, 0.5 → 0, 0.5 → 0, 1.5 → 1
        pytest.param(
            conversion(hours_per_point=2, carry=False), {"r1": 1, "r4": 1}, id="2h=1pt-no-carry"
        ),
        # 2 a day: 1 March gives 2 (3 + 1 cut), 2 March 1, 3 March 2
        pytest.param(conversion(daily_cap=2), {"r1": 2, "r3": 1, "r4": 2}, id="daily-cap"),
        # carried, and at most 3 in a lifetime: r4's 2 is cut to 1
        pytest.param(
            conversion(hours_per_point=2, lifetime_cap=3),
            {"r1": 1, "r2": 1, "r4": 1},
            id="2h=1pt-lifetime-cap",
        ),
        # 3 points an hour, at most 10 a month
        pytest.param(
            conversion(points_per_hour=3, monthly_cap=10),
            {"r1": 9, "r2": 1},
            id="3pt/h-monthly-cap",
        ),
    ],
)
def test_certified_hours_become_their_conversion(
    make_city: Make, policy: ConversionPolicy, per_record: dict[str, int]
) -> None:
    city = _city(make_city, conversion=[policy])
    _serve_history(city)
    assert _conversion_postings(city) == per_record
    assert points(city) == sum(per_record.values())
    # the platform agrees with the pure conversion of the whole certified history
    assert convert(city.hours.rows(volunteer_id="v1"), policy).points == points(city)
    assert city.points.total() == 0
    assert bool(city.reconcile())


@settings(max_examples=40)
@given(
    minutes=st.lists(st.integers(15, 300), min_size=1, max_size=6),
    hours_per_point=st.sampled_from([1, 2, 4]),
    carry=st.booleans(),
    daily_cap=st.sampled_from([None, 1, 3]),
)
def test_points_are_the_conversion_of_the_certified_history(
    minutes: list[int], hours_per_point: int, carry: bool, daily_cap: int | None
) -> None:
    """Whatever the records and the policy, the points held are what the pure conversion of the
    whole certified history gives; with remainders carried and no cap, the value of the total."""
    policy = conversion(hours_per_point=hours_per_point, carry=carry, daily_cap=daily_cap)
    city = make(Clock(), policies=rules(conversion=[policy]))
    city.register(volunteer("v1"), by="v1")
    for k, m in enumerate(minutes):
        rec = record(f"r{k}", "v1", 1 + k // 2, 1, start_hour=8 + 6 * (k % 2))
        city.post(attrs.evolve(rec, end=rec.start + timedelta(minutes=m)), by="recorder")
        city.certify(f"r{k}", by="certifier")
    assert points(city) == convert(city.hours.rows(volunteer_id="v1"), policy).points
    if carry and daily_cap is None:
        assert points(city) == policy.points_for(sum(minutes))
    assert bool(city.reconcile())


def test_points_are_earned_under_the_policy_in_force_on_the_service_date(
    make_city: Make,
) -> None:
    old = conversion(name="old")
    new = conversion(name="new", effective_from=at(3).date(), hours_per_point=2)
    city = _city(make_city, conversion=[old, new])
    serve(city, "feb", "v1", 20, 4, month=2)  # under "old": 4 points
    serve(city, "mar", "v1", 4, 4)  # under "new": 2 points
    assert city.points.posting("feb#convert").amount == 4
    assert city.points.posting("feb#convert").source == "issuer:old"
    assert city.points.posting("mar#convert").amount == 2
    assert city.points.posting("mar#convert").source == "issuer:new"


def test_batch_timing_records_nothing_until_settle(make_city: Make, clock: Clock) -> None:
    at_once = _city(make_city, conversion=[conversion(hours_per_point=2)])
    _serve_history(at_once)
    batch = _city(make_city, conversion=[conversion(hours_per_point=2, timing=Timing.BATCH)])
    _serve_history(batch)
    assert points(batch) == 0
    assert not _conversion_postings(batch)
    # the batch is owed, and reconcile says so
    drifts = batch.reconcile().drifts
    assert {d.kind for d in drifts} == {DriftKind.POINTS_MISSING}
    clock.advance(hours=6)
    n = batch.settle(by="nightly")
    assert n > 0
    assert points(batch) == points(at_once) == 4
    assert _conversion_postings(batch) == _conversion_postings(at_once)
    (settle,) = [a for a in batch.acts.acts() if a.action == "settle"]
    assert settle.by == "nightly" and settle.region_code is None and settle.at == clock.now
    # settling again records nothing
    size = len(batch.journal)
    assert batch.settle(by="nightly") == 0
    clock.advance(days=1)
    assert batch.settle(by="nightly") == 0
    assert len(batch.journal) == size
    assert bool(batch.reconcile())


def test_settles_at_one_moment_each_record_their_work(make_city: Make) -> None:
    """A batch run group by group (``volunteer_ids``) within one clock tick: each settle records
    its own work, however coarse the clock."""
    city = _city(make_city, "v1", "v2", conversion=[conversion(timing=Timing.BATCH)])
    serve(city, "r1", "v1", 1, 3)
    serve(city, "r2", "v2", 1, 2)
    assert city.settle(by="nightly", volunteer_ids=["v1"]) == 1
    assert city.settle(by="nightly", volunteer_ids=["v2"]) == 1
    assert (points(city, "v1"), points(city, "v2")) == (3, 2)
    assert bool(city.reconcile())


def test_the_time_bank_banks_only_its_categories_at_once(make_city: Make) -> None:
    city = _city(make_city, time_bank=[time_bank(bank_categories=["养老"])])
    assert city.time_bank is not None
    serve(city, "r1", "v1", 1, 2, category="养老")
    serve(city, "r2", "v1", 2, 3, category="助老")
    assert city.time_bank.balance("v1") == 120
    deposit = city.time_bank.ledger.posting("r1#bank")
    assert deposit.amount == 120 and deposit.kind is PostingKind.EARN
    assert city.journal.find(TIME_BANK_BOOK, "r2#bank") is None
    assert points(city) == 5  # both categories still convert to points
    assert bool(city.reconcile())


def test_the_time_bank_banks_in_the_batch_when_told(make_city: Make, clock: Clock) -> None:
    city = _city(
        make_city, time_bank=[time_bank(bank_hours=Timing.BATCH, bank_categories=["养老"])]
    )
    assert city.time_bank is not None
    serve(city, "r1", "v1", 1, 2, category="养老")
    serve(city, "r2", "v1", 2, 3, category="助老")
    assert city.time_bank.balance("v1") == 0
    assert points(city) == 5  # points follow at once, as their policy says
    assert [d.kind for d in city.reconcile().drifts] == [DriftKind.TIME_MISSING]
    clock.advance(hours=1)
    assert city.settle(by="nightly") == 1
    assert city.time_bank.balance("v1") == 120
    assert city.settle(by="nightly") == 0
    assert bool(city.reconcile())


def test_a_time_bank_without_bank_hours_banks_nothing(make_city: Make) -> None:
    city = _city(make_city, time_bank=[time_bank(bank_hours=None)])
    assert city.time_bank is not None
    serve(city, "r1", "v1", 1, 2)
    city.settle(by="nightly")
    assert city.time_bank.balance("v1") == 0
    assert bool(city.reconcile())


def test_a_deposit_the_time_bank_refuses_is_told_and_the_rest_stands(make_city: Make) -> None:
    """A deposit over the time bank's daily cap (1 credit = 60 min) is refused alone: the
    certification and its points stand, the hooks hear why."""
    city = _city(make_city, time_bank=[time_bank(daily_deposit_cap=1)])
    assert city.time_bank is not None
    heard = Heard()
    city.subscribe(heard)
    serve(city, "r1", "v1", 1, 2)
    assert city.hours.status("r1") == "certified"
    assert points(city) == 2
    assert city.time_bank.balance("v1") == 0
    [refused] = heard.of(EventKind.TIME_NOT_BANKED)
    assert (refused.ref, refused.amount) == ("r1", 120)
    assert "60" in refused.detail
    assert not heard.of(EventKind.TIME_BANKED)
    serve(city, "r2", "v1", 2, 1)  # 60 min fit
    assert city.time_bank.balance("v1") == 60


# --- undoing hours ----------------------------------------------------------------------------


def test_reversal_takes_back_points_and_the_deposit(make_city: Make, clock: Clock) -> None:
    city = _city(make_city, time_bank=[time_bank()])
    assert city.time_bank is not None
    serve(city, "r1", "v1", 1, 3)
    assert (points(city), city.time_bank.balance("v1")) == (3, 180)
    clock.advance(days=1)
    city.reverse("r1", by="admin-cy", reason="重复录入")
    assert city.hours.status("r1") == "reversed"
    assert (points(city), owed(city)) == (0, 0)
    assert city.time_bank.balance("v1") == 0
    back = city.points.posting("r1#convert#reverse")
    assert (back.amount, back.reverses, back.at) == (3, "r1#convert", clock.now)
    assert city.time_bank.ledger.posting("r1#bank#reverse").amount == 180
    assert city.points.total() == 0
    assert bool(city.reconcile())
    # reversing again changes nothing
    size = len(city.journal)
    city.reverse("r1", by="admin-cy", reason="重复录入")
    assert len(city.journal) == size


def test_a_reversed_deposit_whose_time_was_used_is_owed_to_the_bank(
    make_city: Make, clock: Clock
) -> None:
    city = _city(make_city, time_bank=[time_bank()])
    bank = city.time_bank
    assert bank is not None
    serve(city, "r1", "v1", 1, 3)  # 180 min, 东果园社区's bank
    serve(city, "r2", "v1", 2, 1)  # 60 min
    clock.advance(hours=1)
    bank.withdraw("w1", "v1", 200, region=CY_VILLAGE)  # 180 of r1, 20 of r2
    clock.advance(hours=1)
    city.reverse("r1", by="admin-cy", reason="重复录入")
    # 180 were used: 40 taken back from r2's deposit, 140 owed to the bank
    assert bank.ledger.posting("r1#bank#clawback#1").amount == 40
    assert bank.ledger.posting("r1#bank#owed").amount == 140
    assert bank.balance("v1") == 0
    assert sum(bank.owed("v1").values()) == 140
    assert bool(city.reconcile())
    # the next banked hours pay the bank first
    clock.advance(hours=1)
    serve(city, "r3", "v1", 3, 3)
    assert bank.ledger.posting("r3#bank#settle").amount == 140
    assert (bank.balance("v1"), bank.owed("v1")) == (40, {})


def test_the_reversal_note_reads_well(city: Platform) -> None:
    serve(city, "r1", "v1", 1, 3)
    city.reverse("r1", by="admin-cy", reason="重复录入")
    note = city.points.posting("r1#convert#reverse").note
    assert "hours r1 reversed" in note, note


def test_a_rejection_in_public_notice_earns_nothing(make_city: Make, clock: Clock) -> None:
    city = _city(make_city, "v1", hours=[HourPolicy(notice_days=7)], time_bank=[time_bank()])
    assert city.time_bank is not None
    serve(city, "r1", "v1", 1, 3)
    serve(city, "r2", "v1", 2, 2)
    assert city.hours.status("r1") == "pending"
    city.reject("r1", by="certifier", reason="签到存疑")
    assert city.hours.status("r1") == "rejected"
    clock.advance(days=8)
    city.settle(by="nightly")
    assert points(city) == 2  # r2 only
    assert city.time_bank.balance("v1") == 120
    assert city.journal.find(city.points.name, "r1#convert") is None
    assert bool(city.reconcile())


def test_a_certified_record_cannot_be_rejected_only_reversed(city: Platform) -> None:
    serve(city, "r1", "v1", 1, 3)
    size = len(city.journal)
    with pytest.raises(Conflict):
        city.reject("r1", by="admin-cy", reason="迟了")
    assert len(city.journal) == size
    assert points(city) == 3


@pytest.mark.parametrize("rule", [ClawbackRule.DEBT, ClawbackRule.NEGATIVE])
def test_spent_points_of_reversed_hours_are_clawed_back(
    make_city: Make, clock: Clock, rule: ClawbackRule
) -> None:
    city = _city(make_city, conversion=[conversion(clawback=rule)])
    serve(city, "r1", "v1", 1, 3)  # lot r1#convert: 3
    serve(city, "r2", "v1", 2, 2)  # lot r2#convert: 2
    clock.advance(hours=1)
    legs = city.spend("s1", "v1", 4, by="v1")  # the older lot first: 3 of r1, 1 of r2
    assert [(p.lot, p.amount) for p in legs] == [("r1#convert", 3), ("r2#convert", 1)]
    clock.advance(hours=1)
    city.reverse("r1", by="admin-cy", reason="冒领")
    if rule is ClawbackRule.DEBT:
        # 3 were spent: 1 clawed back from r2's lot, 2 owed
        claw = city.points.posting("r1#convert#clawback#1")
        assert (claw.lot, claw.amount) == ("r2#convert", 1)
        assert city.points.posting("r1#convert#owed").amount == 2
        assert (points(city), owed(city)) == (0, -2)
    else:
        # all 3 owed; r2's last point stays, the net is negative
        assert city.journal.find(city.points.name, "r1#convert#clawback#1") is None
        assert city.points.posting("r1#convert#owed").amount == 3
        assert (points(city), owed(city)) == (1, -3)
    assert city.points.spendable("v1") == points(city) + owed(city)
    # the next certified hours (4 points) pay the debt first
    debt, held = -owed(city), points(city)
    clock.advance(hours=1)
    serve(city, "r3", "v1", 3, 4)
    assert city.points.posting("r3#convert#settle").amount == debt
    assert owed(city) == 0
    assert points(city) == held + 4 - debt == 2
    assert city.points.total() == 0
    assert bool(city.reconcile())


def test_a_reversal_frees_the_cap_for_the_days_other_hours(make_city: Make, clock: Clock) -> None:
    city = _city(make_city, conversion=[conversion(daily_cap=2)])
    serve(city, "r1", "v1", 1, 3)  # 2 (capped)
    serve(city, "r2", "v1", 1, 1, start_hour=14)  # 0: the day is full
    assert points(city) == 2
    clock.advance(hours=1)
    city.reverse("r1", by="admin-cy", reason="重复")
    assert points(city) == 1  # r2's hour now fits under the cap
    assert city.points.posting("r2#convert").amount == 1
    assert bool(city.reconcile())


def test_hours_reversed_before_the_batch_never_become_points(make_city: Make, clock: Clock) -> None:
    city = _city(make_city, conversion=[conversion(timing=Timing.BATCH)])
    serve(city, "r1", "v1", 1, 3)
    serve(city, "r2", "v1", 2, 2)
    clock.advance(hours=1)
    city.reverse("r1", by="admin-cy", reason="重复")
    clock.advance(hours=1)
    city.settle(by="nightly")
    assert points(city) == 2
    assert city.journal.find(city.points.name, "r1#convert") is None
    assert bool(city.reconcile())


def test_points_match_the_conversion_after_a_reversal(make_city: Make, clock: Clock) -> None:
    """With remainders carried, what the remaining certified hours are worth is what is held:
    a reversal must not leave the carry of the undone hours in another record's points."""
    policy = conversion(hours_per_point=2)
    city = _city(make_city, conversion=[policy])
    serve(city, "r1", "v1", 1, 3)  # 1.5 → 1
    serve(city, "r2", "v1", 2, 1)  # 2 in all → 1 more
    clock.advance(hours=1)
    city.reverse("r1", by="admin-cy", reason="重复")
    clock.advance(hours=1)
    serve(city, "r3", "v1", 3, 1)  # 1 h + 1 h certified: worth 1 point
    certified = city.hours.minutes("v1")
    assert certified == 120
    assert points(city) == policy.points_for(certified) == 1


# --- stars -------------------------------------------------------------------------------------


def _starred(city: Platform, clock: Clock) -> None:
    """v1 serves 5 h (r1 3 h, r2 2 h) and is granted 1★ (4 h)."""
    serve(city, "r1", "v1", 1, 3)
    serve(city, "r2", "v1", 2, 2)
    clock.advance(hours=1)
    city.apply_star("app1", "v1", 1, by="v1")
    city.decide_star("app1", by="approver", approve=True, reason="符合条件")
    assert city.stars.level("v1") == 1
    clock.advance(days=1)


def test_a_reversal_that_unearns_a_star_flags_it_for_review(make_city: Make, clock: Clock) -> None:
    city = _city(make_city)
    heard = Heard()
    city.subscribe(heard)
    _starred(city, clock)
    heard.clear()
    city.reverse("r1", by="reverser", reason="重复")
    assert city.stars.level("v1") == 1  # a person decides
    [review] = city.stars.reviews("v1")
    assert (review.held, review.rated, review.by, review.at) == (1, 0, "reverser", clock.now)
    assert [e.amount for e in heard.of(EventKind.STAR_REVIEW)] == [0]
    assert bool(city.reconcile())
    # a second reversal does not flag it twice while the review is open
    clock.advance(hours=1)
    city.reverse("r2", by="reverser", reason="重复")
    assert len(city.stars.reviews("v1")) == 1
    # the reviewer keeps the award
    clock.advance(hours=1)
    city.stars.close_review(review.id, by="approver", reason="复核维持")
    assert city.stars.reviews("v1") == []
    assert city.stars.level("v1") == 1


def test_a_closed_review_is_not_flagged_again(make_city: Make, clock: Clock) -> None:
    """复核维持: once a reviewer closed the review keeping the award, reconcile must not find the
    same lapse again (nor repair it with a new review each time it runs)."""
    city = _city(make_city)
    _starred(city, clock)
    city.reverse("r1", by="reverser", reason="重复")
    [review] = city.stars.reviews("v1")
    clock.advance(hours=1)
    city.stars.close_review(review.id, by="approver", reason="复核维持")
    clock.advance(hours=1)
    assert city.reconcile().drifts == ()


def test_a_reversal_that_unearns_a_star_revokes_it_when_the_scheme_says(
    make_city: Make, clock: Clock
) -> None:
    scheme = StarScheme(
        name="revoking",
        thresholds_hours=STARS.thresholds_hours,
        approving=STARS.approving,
        on_lapse=Lapse.REVOKE,
    )
    city = _city(make_city, stars=scheme)
    heard = Heard()
    city.subscribe(heard)
    _starred(city, clock)
    city.reverse("r1", by="reverser", reason="重复")
    assert city.stars.level("v1") == 0
    assert city.stars.status("app1") == "revoked"
    assert city.stars.reviews("v1") == []
    assert len(heard.of(EventKind.STAR_REVOKED)) == 1
    assert bool(city.reconcile())
    # the hours left (2 h) earn nothing; more hours earn the star again
    clock.advance(hours=1)
    serve(city, "r3", "v1", 3, 3)
    city.apply_star("app2", "v1", 1, by="v1")
    city.decide_star("app2", by="approver", approve=True, reason="符合条件")
    assert city.stars.level("v1") == 1


def test_a_reversal_that_leaves_the_star_earned_changes_no_star(
    make_city: Make, clock: Clock
) -> None:
    city = _city(make_city)
    _starred(city, clock)
    serve(city, "r3", "v1", 3, 3)  # 8 h
    city.reverse("r3", by="reverser", reason="重复")  # 5 h left: still 1★
    assert city.stars.reviews("v1") == []
    assert city.stars.level("v1") == 1


# --- public notice ----------------------------------------------------------------------------


def test_hours_in_public_notice_earn_at_the_settle_after_it_ends(
    make_city: Make, clock: Clock
) -> None:
    city = _city(make_city, hours=[HourPolicy(notice_days=7)], time_bank=[time_bank()])
    assert city.time_bank is not None
    serve(city, "r1", "v1", 1, 2)
    assert city.hours.status("r1") == "pending"
    assert points(city) == 0
    assert city.settle(by="nightly") == 0
    clock.advance(days=6, hours=23)
    assert city.settle(by="nightly") == 0  # a minute of notice is left
    assert points(city) == 0
    clock.advance(hours=1)
    assert city.hours.status("r1") == "certified"
    assert points(city) == 0  # nothing happens by itself …
    assert city.settle(by="nightly") > 0  # … the batch brings it
    assert points(city) == 2
    assert city.time_bank.balance("v1") == 120
    assert city.points.posting("r1#convert").at == at(17, 18)  # when the notice ended
    assert city.settle(by="nightly") == 0
    assert bool(city.reconcile())


# --- needs ---------------------------------------------------------------------------------------


def _need(nid: str = "n1", **kw: Any) -> Need:
    fields: dict[str, Any] = {
        "id": nid,
        "requester": "张大爷",
        "region_code": CY_VILLAGE,
        "category": "助老",
        "start": at(11, 9),
        "end": at(11, 11),
        "posted_at": at(10, 18),
    }
    fields.update(kw)
    return Need(**fields)


def _team_need_in_service(city: Platform, clock: Clock, *, headcount: int = 2) -> None:
    """Need n1 accepted by v1 and the team t1, in service from 11 March 09:00."""
    city.dispatcher.add(Candidate(id="t1", kind=CandidateKind.TEAM, home_region=CY_VILLAGE))
    city.post_need(_need(headcount=headcount), by="张大爷")
    city.dispatch("n1", by="dispatcher", candidate_id="v1")
    city.dispatch("n1", by="dispatcher", candidate_id="t1")
    city.accept("n1", "v1", by="v1")
    city.accept("n1", "t1", by="dispatcher")
    clock.set(at(11, 9))
    city.start("n1", by="recorder")
    clock.set(at(11, 11))


def test_a_completed_need_posts_hours_for_volunteers_and_team_members(
    make_city: Make, clock: Clock
) -> None:
    city = _city(make_city, "v1", "v2", "v3", hours=[HourPolicy(auto_certify={"supervisor"})])
    _team_need_in_service(city, clock)
    done = city.complete(
        "n1",
        by="recorder",
        evidence=Evidence.SUPERVISOR,
        organization_id="o-cy",
        members={"t1": ["v2", "v3"]},
    )
    ids = sorted(r.id for r in done.records)
    assert ids == ["need:n1:t1:v2", "need:n1:t1:v3", "need:n1:v1"]
    for rid in ids:
        assert city.hours.status(rid) == "certified"  # supervisor evidence certifies itself
        assert city.hours.outcome(rid).counted_minutes == 120
    assert city.hours.record("need:n1:t1:v2").team_id == "t1"
    assert [points(city, v) for v in ("v1", "v2", "v3")] == [2, 2, 2]
    assert city.needs.state("n1") is NeedState.COMPLETED
    act = city.acts.get(Act.id_for("complete", "n1"))
    assert act is not None and act.by == "recorder"
    assert bool(city.reconcile())


def test_records_of_a_need_wait_for_certification_like_any_other(
    make_city: Make, clock: Clock
) -> None:
    city = _city(make_city, "v1", "v2")
    _team_need_in_service(city, clock)
    done = city.complete(
        "n1",
        by="recorder",
        evidence="supervisor",
        organization_id="o-cy",
        members={"t1": ["v2"]},
    )
    assert {city.hours.status(r.id) for r in done.records} == {"submitted"}
    assert points(city, "v1") == points(city, "v2") == 0
    for r in done.records:
        city.certify(r.id, by="certifier")
    assert points(city, "v1") == points(city, "v2") == 2


def test_an_unregistered_member_fails_the_completion_and_records_nothing(
    make_city: Make, clock: Clock
) -> None:
    city = _city(make_city, "v1", "v2", hours=[HourPolicy(auto_certify={"supervisor"})])
    _team_need_in_service(city, clock)
    size = len(city.journal)
    with pytest.raises(NotFound):
        city.complete(
            "n1",
            by="recorder",
            evidence=Evidence.SUPERVISOR,
            organization_id="o-cy",
            members={"t1": ["v2", "ghost"]},
        )
    assert len(city.journal) == size
    assert city.needs.state("n1") is NeedState.IN_SERVICE
    assert city.hours.records_of("v1") == city.hours.records_of("v2") == []
    assert points(city, "v1") == 0
    # the same completion with registered members goes through
    done = city.complete(
        "n1",
        by="recorder",
        evidence=Evidence.SUPERVISOR,
        organization_id="o-cy",
        members={"t1": ["v2"]},
    )
    assert len(done.records) == 2


def test_a_team_that_did_not_accept_cannot_name_members(make_city: Make, clock: Clock) -> None:
    city = _city(make_city, "v1", "v2")
    _team_need_in_service(city, clock)
    size = len(city.journal)
    with pytest.raises(InvalidValue):
        city.complete(
            "n1",
            by="recorder",
            evidence="supervisor",
            organization_id="o-cy",
            members={"t2": ["v2"]},
        )
    assert len(city.journal) == size


def test_reward_credits_points_and_completes_the_cycle(make_city: Make, clock: Clock) -> None:
    city = _city(make_city, "v1")
    city.post_need(_need(), by="张大爷")
    offer = city.dispatch("n1", by="dispatcher")
    assert offer is not None and offer.candidate_id == "v1"
    city.accept("n1", "v1", by="v1")
    clock.set(at(11, 9))
    city.start("n1", by="recorder")
    clock.set(at(11, 11))
    city.complete("n1", by="recorder", evidence="supervisor", organization_id="o-cy")
    city.certify("need:n1:v1", by="certifier")
    clock.advance(hours=1)
    rated = city.rate("n1", 5, by="张大爷", comment="很好")
    assert rated.stars == 5
    rewarded = city.reward("n1", "v1", 6, by="treasurer")
    assert points(city) == 2 + 6
    reward = city.points.posting(rewarded.posting_id)
    assert (reward.amount, reward.ref, reward.source) == (6, "n1", "issuer:default")
    assert city.needs.state("n1") is NeedState.REWARDED
    # rewarding again is a no-op
    size = len(city.journal)
    city.reward("n1", "v1", 6, by="treasurer")
    assert len(city.journal) == size
    assert points(city) == 8


# --- reconcile ------------------------------------------------------------------------------------


def test_reconcile_finds_and_repairs_hours_certified_behind_the_platforms_back(
    make_city: Make, clock: Clock
) -> None:
    city = _city(make_city, "v1", "v2", time_bank=[time_bank()])
    assert city.time_bank is not None
    # written straight to the hour ledger: no points, no deposit
    city.hours.post(record("r1", "v1", 1, 3))
    city.hours.certify("r1", by="admin-cy")
    city.hours.post(record("r2", "v2", 1, 2))
    city.hours.certify("r2", by="admin-cy")
    assert points(city) == 0 and city.time_bank.balance("v1") == 0
    found = city.reconcile()
    assert not found and not found.repaired
    got = sorted((d.kind, d.volunteer_id, d.ref, d.amount) for d in found.drifts)
    assert got == [
        (DriftKind.POINTS_MISSING, "v1", "r1", 3),
        (DriftKind.POINTS_MISSING, "v2", "r2", 2),
        (DriftKind.TIME_MISSING, "v1", "r1", 180),
        (DriftKind.TIME_MISSING, "v2", "r2", 120),
    ]
    assert all(d.explain() for d in found.drifts)
    size = len(city.journal)
    assert city.reconcile().drifts == found.drifts  # looking changes nothing
    assert len(city.journal) == size
    # only v1
    assert {d.volunteer_id for d in city.reconcile(volunteer_ids=["v1"]).drifts} == {"v1"}
    with pytest.raises(InvalidValue):
        city.reconcile(repair=True)  # a repair is signed
    clock.advance(hours=1)
    repaired = city.reconcile(repair=True, by="admin-cy")
    assert repaired.repaired and repaired.drifts == found.drifts
    assert (points(city, "v1"), points(city, "v2")) == (3, 2)
    assert (city.time_bank.balance("v1"), city.time_bank.balance("v2")) == (180, 120)
    acts = [a for a in city.acts.acts() if a.action == "reconcile"]
    # one act per volunteer repaired, each under a grant to manage them
    assert sorted(a.target.split("@")[0] for a in acts) == ["v1", "v2"]
    assert all(a.by == "admin-cy" and a.region_code and not a.own for a in acts)
    again = city.reconcile()
    assert again.drifts == () and bool(again)
    assert again.explain() == "账目一致 / the books agree"


def test_reconcile_repairs_a_reversal_made_behind_the_platforms_back(
    make_city: Make, clock: Clock
) -> None:
    city = _city(make_city, time_bank=[time_bank()])
    assert city.time_bank is not None
    _starred(city, clock)
    city.hours.reverse("r1", by="admin-cy", reason="直接冲销")
    assert points(city) == 5 and city.time_bank.balance("v1") == 300
    found = city.reconcile()
    got = sorted((d.kind, d.ref, d.amount) for d in found.drifts)
    assert got == [
        (DriftKind.POINTS_NOT_REVERSED, "r1", 3),
        (DriftKind.STAR_UNEARNED, "v1", 0),
        (DriftKind.TIME_NOT_REVERSED, "r1", 180),
    ]
    clock.advance(hours=1)
    city.reconcile(repair=True, by="admin-cy")
    assert points(city) == 2
    assert city.time_bank.balance("v1") == 120
    [review] = city.stars.reviews("v1")
    assert (review.held, review.rated) == (1, 0)
    assert city.reconcile().drifts == ()


def test_reconcile_of_an_unknown_volunteer_is_not_found(city: Platform) -> None:
    with pytest.raises(NotFound):
        city.reconcile(volunteer_ids=["ghost"])


# --- restart -------------------------------------------------------------------------------------


def _history(city: Platform, clock: Clock) -> None:
    """A little of everything: hours, points spent, a deposit, a star, a reversal, a need."""
    for v in (volunteer("v1"), volunteer("v2")):
        city.register(v, by=v.id)
    serve(city, "r1", "v1", 1, 3)
    serve(city, "r2", "v1", 2, 2)
    serve(city, "r3", "v2", 2, 2, category="养老")
    clock.advance(hours=1)
    city.spend("s1", "v1", 4, by="v1")
    city.apply_star("app1", "v1", 1, by="v1")
    city.decide_star("app1", by="approver", approve=True, reason="符合条件")
    clock.advance(hours=1)
    city.reverse("r1", by="reverser", reason="重复")
    city.post_need(_need(), by="张大爷")
    city.dispatch("n1", by="dispatcher", candidate_id="v2")
    city.accept("n1", "v2", by="v2")
    clock.set(at(11, 9))
    city.start("n1", by="recorder")
    clock.set(at(11, 11))
    city.complete("n1", by="recorder", evidence="supervisor", organization_id="o-cy")
    city.certify("need:n1:v2", by="certifier")
    city.reward("n1", "v2", 3, by="treasurer")


def _state(city: Platform) -> dict[str, Any]:
    assert city.time_bank is not None
    return {
        "points": city.points.accounts(),
        "credits": city.time_bank.ledger.accounts(),
        "lots": {v: city.points.lots(v) for v in ("v1", "v2")},
        "levels": {v: city.stars.level(v) for v in ("v1", "v2")},
        "reviews": city.stars.reviews(),
        "hours": {v: city.hours.summary(v) for v in ("v1", "v2")},
        "acts": city.acts.acts(),
        "need": city.needs.status("n1"),
        "head": city.journal.head,
        "size": len(city.journal),
        "candidates": {v.id: city.dispatcher.candidate(v.id) for v in city.hours.volunteers()},
    }


def test_everything_survives_a_reopen_on_sqlite(db_path: Path, clock: Clock) -> None:
    pol = rules(time_bank=[time_bank(bank_categories=["养老"])])

    def open_city() -> Platform:
        return Platform.open(db_path, registry(), policies=pol, grants=GRANTS, clock=clock)

    with open_city() as city:
        _history(city, clock)
        before = _state(city)
        # r1's 3 points were spent: 1 clawed back from r2's lot, 2 owed
        assert (before["points"]["volunteer:v1"], before["points"]["owed:v1"]) == (0, -2)
        assert before["levels"] == {"v1": 1, "v2": 0}
        assert len(before["reviews"]) == 1
    with open_city() as city:
        assert _state(city) == before
        assert city.journal.verify(decode=True).ok
        assert bool(city.reconcile())
        # the reopened platform goes on where it stopped
        clock.advance(hours=1)
        serve(city, "r4", "v1", 4, 2)  # 2 points pay the debt
        assert (points(city, "v1"), owed(city, "v1")) == (0, 0)


def test_registered_volunteers_are_dispatch_candidates(make_city: Make) -> None:
    city = make_city()
    v = volunteer("v1", skills={"医疗/护理"})
    city.register(v, by="v1")
    assert city.dispatcher.candidate("v1") == candidate_of(v)
    assert [s.name for s in candidate_of(v).skills] == ["医疗/护理"]
    # registering again is a no-op; another volunteer under the id conflicts
    size = len(city.journal)
    city.register(v, by="v1")
    assert len(city.journal) == size
    with pytest.raises(Conflict):
        city.register(volunteer("v1", skills={"法律"}), by="v1")
    assert city.dispatcher.candidate("v1") == candidate_of(v)
    # a need for the skill is offered to them
    city.post_need(_need(skills={"医疗"}), by="张大爷")
    offer = city.dispatch("n1", by="dispatcher")
    assert offer is not None and offer.candidate_id == "v1"


def test_candidates_follow_registrations_after_reopen_and_from_another_process(
    db_path: Path, clock: Clock
) -> None:
    def open_city() -> Platform:
        return Platform.open(db_path, registry(), policies=rules(), grants=GRANTS, clock=clock)

    with open_city() as a:
        a.register(volunteer("v1"), by="v1")
    with open_city() as a, open_city() as b:
        assert a.dispatcher.candidate("v1") == candidate_of(a.hours.volunteer("v1"))
        b.register(volunteer("v2", skills={"法律"}), by="v2")
        a.journal.refresh()  # a folds in what b recorded
        assert a.dispatcher.candidate("v2") == candidate_of(volunteer("v2", skills={"法律"}))
        # and a's next write sees it too
        a.post_need(_need(skills={"法律"}), by="张大爷")
        offer = a.dispatch("n1", by="dispatcher")
        assert offer is not None and offer.candidate_id == "v2"
