"""The hour ledger: lifecycle, idempotency, validation before commit, policies over time,
jurisdiction, queries, and concurrent posting."""

from __future__ import annotations

import itertools
import random
import threading
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from support.hours import (
    CHENGYANG_VILLAGE,
    CITY,
    COUNTY,
    DONGSHAN,
    HAIAN,
    JIANCHANG,
    PROVINCE,
    XIANGYANG,
    YOUYI,
    at,
    facts,
    ledger,
    overlaps,
    record,
    volunteer,
)
from zhiyuan.errors import (
    Conflict,
    InvalidValue,
    NotFound,
    PermissionDenied,
    UnknownRegion,
    ZhiyuanError,
)
from zhiyuan.hierarchy import Grant, Organization, Registry
from zhiyuan.hours import (
    AUTO,
    HOUR_PROFILES,
    Certified,
    Evidence,
    HourLedger,
    HourPolicy,
    Overflow,
    Posted,
    Purpose,
    Rejected,
    Reversed,
    ServiceRecord,
    Status,
    fold,
)

POSTED_AT = at(2025, 3, 3, 12)  # the default record is 2025-03-03 09:00–10:00


def snapshot(lg: HourLedger) -> tuple[Any, ...]:
    """Everything observable that a failed call must leave as it was."""
    return (
        facts(lg),
        len(lg),
        {s: lg.minutes_by_volunteer(status=s) for s in ("submitted", "pending", "certified")},
        lg.summary("v1"),
        lg.summary("v2"),
        [r.id for r in lg.records_of("v1")],
    )


# --- lifecycle ---------------------------------------------------------------------------------


def test_lifecycle_with_a_public_notice() -> None:
    lg = ledger(policies=[HOUR_PROFILES["jindu"]])  # 3-day 公示
    out = lg.post(record(minutes=180), at=POSTED_AT)
    assert out.counted_minutes == 180
    assert lg.status("r1") == "submitted"
    assert lg.minutes("v1", status="submitted") == 180
    lg.certify("r1", by="admin", at=at(2025, 3, 4, 9))
    assert lg.status("r1", as_of=at(2025, 3, 3, 11)) is None  # not posted yet then
    assert lg.status("r1", as_of=at(2025, 3, 3, 12)) == "submitted"
    assert lg.status("r1", as_of=at(2025, 3, 4, 9)) == "pending"
    assert lg.status("r1", as_of=at(2025, 3, 7, 8, 59)) == "pending"
    assert lg.status("r1", as_of=at(2025, 3, 7, 9)) == "certified"  # three days to the minute
    assert lg.minutes("v1", as_of=at(2025, 3, 5)) == 0
    assert lg.minutes("v1", status="pending", as_of=at(2025, 3, 5)) == 180
    assert lg.minutes("v1", as_of=at(2025, 3, 8)) == 180
    (cert,) = [e for e in facts(lg) if isinstance(e, Certified)]
    assert cert.by == "admin" and cert.notice_until == at(2025, 3, 7, 9)

    lg.reverse("r1", by="admin", reason="重复记录 / duplicate", at=at(2025, 3, 10))
    assert lg.status("r1", as_of=at(2025, 3, 9)) == "certified"
    assert lg.status("r1", as_of=at(2025, 3, 10)) == "reversed"
    assert lg.status("r1") == "reversed"
    assert lg.minutes("v1", as_of=at(2025, 3, 11)) == 0
    assert lg.minutes("v1", as_of=at(2025, 3, 9)) == 180  # history is kept
    assert lg.minutes("v1", status="reversed") == 180
    assert [type(e) for e in facts(lg)] == [Posted, Certified, Reversed]


def test_reject_during_the_notice_but_not_after() -> None:
    lg = ledger(policies=[HOUR_PROFILES["jindu"]])
    lg.post(record("r1"), at=POSTED_AT)
    lg.post(record("r2", start=at(2025, 3, 3, 10)), at=POSTED_AT)
    for rid in ("r1", "r2"):
        lg.certify(rid, by="admin", at=at(2025, 3, 4))
    lg.reject("r1", by="admin", reason="照片造假 / staged photo", at=at(2025, 3, 5))
    assert lg.status("r1", as_of=at(2025, 3, 4, 12)) == "pending"
    assert lg.status("r1", as_of=at(2025, 3, 5)) == "rejected"
    assert lg.minutes("v1", as_of=at(2025, 3, 9)) == 60  # only r2
    with pytest.raises(Conflict, match="reverse it instead"):
        lg.reject("r2", by="admin", reason="too late", at=at(2025, 3, 8))
    with pytest.raises(Conflict):
        lg.certify("r1", by="admin", at=at(2025, 3, 6))
    before = facts(lg)
    lg.reject("r1", by="admin", reason="again", at=at(2025, 3, 6))  # twice: a no-op
    assert facts(lg) == before
    (rej,) = [e for e in facts(lg) if isinstance(e, Rejected)]
    assert rej.reason == "照片造假 / staged photo" and rej.by == "admin"


def test_reject_while_submitted() -> None:
    lg = ledger()
    lg.post(record(), at=POSTED_AT)
    lg.reject("r1", by="admin", reason="不是本组织活动", at=at(2025, 3, 4))
    assert lg.status("r1") == "rejected"
    assert lg.minutes("v1", status="rejected") == 60
    assert lg.summary("v1") == {
        "submitted": 0,
        "pending": 0,
        "certified": 0,
        "rejected": 60,
        "reversed": 0,
    }


def test_repeated_review_actions_are_no_ops() -> None:
    lg = ledger()
    lg.post(record(), at=POSTED_AT)
    lg.certify("r1", by="admin", at=at(2025, 3, 4))
    entries = facts(lg)
    lg.certify("r1", by="admin", at=at(2025, 3, 5))
    assert facts(lg) == entries
    lg.reverse("r1", by="admin", reason="x", at=at(2025, 3, 6))
    entries = facts(lg)
    lg.reverse("r1", by="admin", reason="y", at=at(2025, 3, 7))
    assert facts(lg) == entries


def test_review_actions_check_their_times_and_ids() -> None:
    lg = ledger()
    lg.post(record(), at=POSTED_AT)
    before = snapshot(lg)
    with pytest.raises(InvalidValue, match="before posting"):
        lg.certify("r1", by="admin", at=at(2025, 3, 3, 11))
    with pytest.raises(InvalidValue, match="before posting"):
        lg.reverse("r1", by="admin", reason="x", at=at(2025, 3, 3, 11))
    with pytest.raises(InvalidValue, match="before posting"):
        lg.reject("r1", by="admin", reason="x", at=at(2025, 3, 3, 11))
    with pytest.raises(InvalidValue, match="naive"):
        lg.certify("r1", by="admin", at=datetime(2025, 3, 4))
    for call in (
        lambda: lg.certify("nope", by="admin", at=at(2025, 3, 4)),
        lambda: lg.reject("nope", by="admin", reason="x", at=at(2025, 3, 4)),
        lambda: lg.reverse("nope", by="admin", reason="x", at=at(2025, 3, 4)),
        lambda: lg.status("nope"),
        lambda: lg.record("nope"),
        lambda: lg.outcome("nope"),
    ):
        with pytest.raises(NotFound):
            call()
    with pytest.raises(InvalidValue):
        lg.reverse("r1", by="admin", reason="", at=at(2025, 3, 4))
    with pytest.raises(InvalidValue):
        lg.minutes("v1", status="approved")  # type: ignore[arg-type]
    assert snapshot(lg) == before


def test_a_record_the_policy_rejected_cannot_be_certified() -> None:
    lg = ledger(policies=[HourPolicy(excluded_categories={"会议"})])
    out = lg.post(record(category="会议"), at=POSTED_AT)
    assert out.status is Status.REJECTED and out.counted_minutes == 0
    with pytest.raises(Conflict, match="rejected by the policy"):
        lg.certify("r1", by="admin", at=at(2025, 3, 4))
    assert lg.minutes("v1", status="submitted") == 0


# --- idempotency and validation before commit --------------------------------------------------


def test_reposting_the_same_record_is_a_no_op() -> None:
    lg = ledger()
    first = lg.post(record(minutes=90), at=POSTED_AT)
    before = snapshot(lg)
    again = lg.post(record(minutes=90), at=at(2025, 3, 20))  # equal record, later clock
    assert again == first
    assert snapshot(lg) == before
    assert len(lg) == 1 and len(facts(lg)) == 1


def test_a_different_record_under_a_used_id_conflicts_and_changes_nothing() -> None:
    lg = ledger()
    lg.post(record(minutes=90), at=POSTED_AT)
    lg.certify("r1", by="admin", at=at(2025, 3, 4))
    before = snapshot(lg)
    for other in (
        record(minutes=91),
        record(minutes=90, vid="v2"),
        record(minutes=90, note="补充说明"),
        record(minutes=90, evidence=Evidence.GPS),
    ):
        with pytest.raises(Conflict, match="already used") as info:
            lg.post(other, at=at(2025, 3, 5))
        assert isinstance(info.value, ZhiyuanError) and isinstance(info.value, ValueError)
        assert snapshot(lg) == before
    assert lg.record("r1") == record(minutes=90)


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        (lambda: record(vid="ghost"), NotFound),
        (lambda: record(org="o-ghost"), NotFound),
        (lambda: record(region="110101001001"), UnknownRegion),  # well formed, not in the tree
        (lambda: record(end=at(2025, 3, 3, 12, 1)), InvalidValue),  # ends after now
        (lambda: record(recorded_at=at(2025, 3, 3, 12, 1)), InvalidValue),  # entered after now
    ],
)
def test_bad_posts_raise_and_change_nothing(
    bad: Callable[[], ServiceRecord], error: type[Exception]
) -> None:
    lg = ledger()
    lg.post(record("r0", start=at(2025, 3, 2, 9)), at=POSTED_AT)
    before = snapshot(lg)
    rec = bad()
    with pytest.raises(error):
        lg.post(rec, at=POSTED_AT)
    assert snapshot(lg) == before
    with pytest.raises(NotFound):
        lg.status(rec.id)  # nothing reserved under the id
    # the same id is free for a good record
    assert lg.post(record(rec.id), at=POSTED_AT).counted_minutes == 60


def test_unknown_volunteer_is_a_key_error() -> None:
    lg = ledger()
    with pytest.raises(KeyError):
        lg.post(record(vid="ghost"), at=POSTED_AT)
    with pytest.raises(NotFound):
        lg.volunteer("ghost")


def test_volunteers_register_idempotently() -> None:
    lg = ledger()
    lg.add_volunteer(volunteer("v1"))
    with pytest.raises(Conflict):
        lg.add_volunteer(volunteer("v1", name="另一个人"))
    with pytest.raises(UnknownRegion):
        lg.add_volunteer(volunteer("v9", home_region="110101001001"))
    assert lg.volunteer("v1") == volunteer("v1")


def test_organizations_registered_after_the_ledger_are_found(h_registry: Registry) -> None:
    lg = HourLedger(h_registry, volunteers=[volunteer("v1")])
    with pytest.raises(NotFound):
        lg.post(record(org="o-new", region=HAIAN), at=POSTED_AT)
    h_registry.add(Organization(id="o-new", name="新组织", region_code=HAIAN))
    assert lg.post(record(org="o-new", region=HAIAN), at=POSTED_AT).counted_minutes == 60


def test_overlapping_records_of_one_volunteer_are_trimmed_in_posting_order() -> None:
    lg = ledger()
    lg.post(record("a", start=at(2025, 3, 3, 9), end=at(2025, 3, 3, 11)), at=POSTED_AT)
    out = lg.post(record("b", start=at(2025, 3, 3, 10), end=at(2025, 3, 3, 12)), at=POSTED_AT)
    assert out.counted_minutes == 60
    # another volunteer's time is theirs
    assert lg.post(record("c", vid="v2", minutes=120), at=POSTED_AT).counted_minutes == 120
    # rejecting "a" frees its time for records posted later
    lg.reject("a", by="admin", reason="x", at=at(2025, 3, 3, 13))
    late = lg.post(record("d", start=at(2025, 3, 3, 9), end=at(2025, 3, 3, 10)), at=POSTED_AT)
    assert late.counted_minutes == 60


def test_daily_use_is_released_by_reversal() -> None:
    lg = ledger(policies=[HourPolicy(daily_cap_minutes=480)])
    lg.post(record("a", start=at(2025, 3, 3, 8), minutes=480), at=at(2025, 3, 3, 20))
    full = lg.post(record("b", start=at(2025, 3, 3, 17), minutes=60), at=at(2025, 3, 3, 20))
    assert full.counted_minutes == 0
    lg.reverse("a", by="admin", reason="x", at=at(2025, 3, 3, 21))
    room = lg.post(record("c", start=at(2025, 3, 3, 18), minutes=60), at=at(2025, 3, 3, 21))
    assert room.counted_minutes == 60


def test_a_record_in_the_future_is_refused() -> None:
    lg = ledger()
    rec = record()
    with pytest.raises(InvalidValue, match="future") as info:
        lg.post(rec, at=rec.end - timedelta(seconds=1))
    assert info.value.field == "end"
    assert facts(lg) == ()
    assert lg.post(rec, at=rec.end).counted_minutes == 60
    with pytest.raises(InvalidValue, match="naive"):
        lg.post(record("r2"), at=datetime(2025, 6, 1))


# --- automatic certification and policies over time -------------------------------------------


def test_auto_certify() -> None:
    policy = HourPolicy(
        auto_certify={Evidence.QR_SCAN}, daily_cap_minutes=480, over_daily_cap=Overflow.APPROVAL
    )
    lg = ledger(policies=[policy])
    lg.post(record("scan"), at=POSTED_AT)
    lg.post(record("self", start=at(2025, 3, 2, 9), evidence=Evidence.SELF_REPORT), at=POSTED_AT)
    long = record("long", start=at(2025, 3, 1, 8), minutes=540)  # needs approval
    assert lg.post(long, at=POSTED_AT).status is Status.NEEDS_APPROVAL
    assert lg.status("scan", as_of=POSTED_AT) == "certified"
    assert lg.status("self") == "submitted"
    assert lg.status("long") == "submitted"
    (cert,) = [e for e in facts(lg) if isinstance(e, Certified)]
    assert cert.record_id == "scan" and cert.by == AUTO and cert.at == POSTED_AT


def test_auto_certify_still_waits_for_the_notice() -> None:
    lg = ledger(policies=[HourPolicy(auto_certify={Evidence.QR_SCAN}, notice_days=3)])
    lg.post(record(), at=POSTED_AT)
    assert lg.status("r1", as_of=POSTED_AT) == "pending"
    assert lg.status("r1", as_of=POSTED_AT + timedelta(days=3)) == "certified"


def test_the_policy_in_force_on_the_service_date_applies() -> None:
    old = HourPolicy(name="old", effective_from=date(2021, 2, 1))
    new = HourPolicy(name="new", effective_from=date(2025, 3, 1), record_cap_minutes=120)
    lg = ledger(policies=[new, old])  # order given does not matter
    assert lg.policy_for(date(2025, 2, 28)) is old
    assert lg.policy_for(date(2025, 3, 1)) is new
    assert lg.policy_for(date(2019, 1, 1)) is old  # before every policy: the earliest
    now = at(2025, 3, 5)
    before = lg.post(record("feb", start=at(2025, 2, 28, 9), minutes=220), at=now)
    after = lg.post(record("mar", start=at(2025, 3, 1, 9), minutes=220), at=now)
    early = lg.post(record("2019", start=at(2019, 6, 1, 9), minutes=220), at=now)
    assert (before.counted_minutes, after.counted_minutes, early.counted_minutes) == (220, 120, 220)
    # midnight on the switch day: a record from 23:00 on the 28th is judged by the old policy
    eve = lg.post(record("eve", start=at(2025, 2, 28, 23), minutes=220), at=now)
    assert eve.counted_minutes == 220
    policies = {e.record.id: e.policy for e in facts(lg) if isinstance(e, Posted)}
    assert policies == {"feb": "old", "mar": "new", "2019": "old", "eve": "old"}


def test_notice_days_come_from_the_policy_of_the_service_date() -> None:
    old = HourPolicy(name="old", effective_from=date(2021, 2, 1))
    new = HourPolicy(name="new", effective_from=date(2025, 3, 1), notice_days=3)
    lg = ledger(policies=[old, new])
    lg.post(record("feb", start=at(2025, 2, 28, 9)), at=POSTED_AT)
    lg.post(record("mar", start=at(2025, 3, 3, 9)), at=POSTED_AT)
    for rid in ("feb", "mar"):
        lg.certify(rid, by="admin", at=at(2025, 3, 4))
    assert lg.status("feb", as_of=at(2025, 3, 4)) == "certified"
    assert lg.status("mar", as_of=at(2025, 3, 4)) == "pending"


# --- jurisdiction ---------------------------------------------------------------------------

ADMINS = {
    "xy-admin": XIANGYANG,  # the organizer's own node (向阳街道)
    "county-admin": COUNTY,  # its ancestor (芝罘区)
    "city-admin": CITY,
    "ds-admin": DONGSHAN,  # the neighbouring street
    "yy-admin": YOUYI,  # a community below the organizer's node
}


@pytest.mark.parametrize("who", ["xy-admin", "county-admin", "city-admin"])
def test_admins_of_the_node_or_an_ancestor_may_certify(who: str) -> None:
    lg = ledger(grants=ADMINS)
    lg.post(record(), at=POSTED_AT)
    lg.certify("r1", by=who, at=at(2025, 3, 4))
    assert lg.status("r1") == "certified"


@pytest.mark.parametrize("who", ["ds-admin", "yy-admin", "nobody", AUTO])
def test_others_may_not_certify_reject_or_reverse(who: str) -> None:
    lg = ledger(grants=ADMINS)
    lg.post(record(), at=POSTED_AT)
    before = snapshot(lg)
    with pytest.raises(PermissionDenied) as info:
        lg.certify("r1", by=who, at=at(2025, 3, 4))
    assert isinstance(info.value, PermissionError) and who in str(info.value)
    with pytest.raises(PermissionDenied):
        lg.reject("r1", by=who, reason="x", at=at(2025, 3, 4))
    with pytest.raises(PermissionDenied):
        lg.reverse("r1", by=who, reason="x", at=at(2025, 3, 4))
    assert snapshot(lg) == before


def test_records_that_need_approval_need_authority_over_the_parent_node() -> None:
    lg = ledger(policies=[HOUR_PROFILES["guangdong"]], grants=ADMINS)
    out = lg.post(record(minutes=540), at=at(2025, 3, 3, 20))
    assert out.status is Status.NEEDS_APPROVAL
    before = snapshot(lg)
    with pytest.raises(PermissionDenied, match="芝罘区"):
        lg.certify("r1", by="xy-admin", at=at(2025, 3, 4))
    assert snapshot(lg) == before
    lg.certify("r1", by="county-admin", at=at(2025, 3, 4))
    assert lg.minutes("v1") == 540
    # an organizer at the county needs the city
    lg2 = ledger(policies=[HOUR_PROFILES["guangdong"]], grants=ADMINS)
    lg2.post(record(org="o-zf", minutes=540), at=at(2025, 3, 3, 20))
    with pytest.raises(PermissionDenied):
        lg2.certify("r1", by="county-admin", at=at(2025, 3, 4))
    lg2.certify("r1", by="city-admin", at=at(2025, 3, 4))
    # an ordinary record of the county organizer needs only the county
    lg2.post(record("r2", org="o-zf", start=at(2025, 3, 5, 9)), at=at(2025, 3, 6))
    lg2.certify("r2", by="county-admin", at=at(2025, 3, 6))


def test_grants_are_judged_on_the_action_date_and_per_action() -> None:
    lg = ledger(grants={})
    assert lg.jurisdiction is not None
    lg.jurisdiction.add(
        Grant(
            principal="temp",
            region_code=XIANGYANG,
            actions={"certify"},
            valid_until=date(2025, 3, 31),
        )
    )
    lg.post(record("r1"), at=POSTED_AT)
    lg.post(record("r2", start=at(2025, 3, 3, 10)), at=POSTED_AT)
    lg.certify("r1", by="temp", at=at(2025, 3, 31, 23, 59))
    with pytest.raises(PermissionDenied):
        lg.certify("r2", by="temp", at=at(2025, 4, 1))
    with pytest.raises(PermissionDenied):  # certify only: no reversing
        lg.reverse("r1", by="temp", reason="x", at=at(2025, 3, 31))


# --- queries ---------------------------------------------------------------------------------


def busy_ledger() -> HourLedger:
    """v1 and v2 with records on several days, places, categories and kinds of evidence."""
    lg = ledger(policies=[HourPolicy(category_weights={"应急救援": 150})])
    now = at(2025, 4, 2)
    rows = [
        ("a", "v1", at(2025, 3, 1, 9), 60, YOUYI, "助老", Evidence.QR_SCAN),
        ("b", "v1", at(2025, 3, 2, 9), 90, JIANCHANG, "应急救援", Evidence.GPS),
        ("c", "v1", at(2025, 3, 3, 9), 45, HAIAN, "助老", Evidence.SELF_REPORT),
        ("d", "v1", at(2025, 3, 31, 23), 120, YOUYI, "环保", Evidence.ADMIN_TOPUP),
        ("e", "v2", at(2025, 3, 1, 9), 30, CHENGYANG_VILLAGE, "助老", Evidence.QR_SCAN),
        ("f", "v2", at(2025, 3, 2, 9), 50, JIANCHANG, "应急救援", Evidence.SUPERVISOR),
    ]
    for rid, vid, start, minutes, region, category, evidence in rows:
        lg.post(
            record(
                rid,
                vid=vid,
                start=start,
                minutes=minutes,
                region=region,
                category=category,
                evidence=evidence,
                org="o-cy" if region == CHENGYANG_VILLAGE else "o-xy",
            ),
            at=now,
        )
        lg.certify(rid, by="admin", at=now)
    return lg


def test_minutes_filters() -> None:
    lg = busy_ledger()
    assert lg.minutes("v1") == 60 + 90 + 45 + 120
    march_1_to_3 = (date(2025, 3, 1), date(2025, 3, 3))  # half-open: the 3rd is out
    assert lg.minutes("v1", period=march_1_to_3) == 150
    assert lg.minutes("v1", period=(date(2025, 3, 31), date(2025, 4, 1))) == 120  # by start date
    assert lg.minutes("v1", category="助老") == 105
    assert lg.minutes("v1", evidence=Evidence.GPS) == 90
    assert lg.minutes("v1", purpose=Purpose.STARS) == 60 + 90 + 120  # self-reports do not
    assert lg.minutes("v1", purpose=Purpose.POINTS) == 60 + 90  # nor top-ups, for points
    assert lg.minutes("v1", purpose=Purpose.REPORTS) == 315
    assert lg.minutes("v1", weighted=True) == 60 + 135 + 45 + 120
    assert lg.minutes("v1", category="应急救援", weighted=True) == 135
    assert lg.minutes("v1", status="submitted") == 0
    # enums by value, as JSON, TOML and the bulk columns write them: the same totals
    assert lg.minutes("v1", evidence="gps") == 90
    assert lg.minutes("v1", purpose="points") == lg.minutes("v1", purpose=Purpose.POINTS)
    assert lg.minutes_by_volunteer(purpose="points") == lg.minutes_by_volunteer(
        purpose=Purpose.POINTS
    )
    assert lg.totals_by_region(purpose="stars") == lg.totals_by_region(purpose=Purpose.STARS)


def test_minutes_by_volunteer() -> None:
    lg = busy_ledger()
    assert lg.minutes_by_volunteer() == {"v1": 315, "v2": 80}
    assert lg.minutes_by_volunteer(weighted=True) == {"v1": 360, "v2": 105}
    assert lg.minutes_by_volunteer(purpose=Purpose.POINTS) == {"v1": 150, "v2": 80}
    assert lg.minutes_by_volunteer(period=(date(2025, 3, 2), date(2025, 3, 3))) == {
        "v1": 90,
        "v2": 50,
    }
    assert lg.minutes_by_volunteer(as_of=at(2025, 3, 31)) == {}  # nothing posted yet
    for vid, total in lg.minutes_by_volunteer().items():
        assert lg.minutes(vid) == total


def test_totals_by_region_roll_up_the_tree() -> None:
    lg = busy_ledger()
    totals = lg.totals_by_region()
    assert totals[YOUYI] == 180 and totals[JIANCHANG] == 140 and totals[HAIAN] == 45
    assert totals[XIANGYANG] == 320
    assert totals[DONGSHAN] == 45
    assert totals[COUNTY] == 365
    assert totals[CHENGYANG_VILLAGE] == 30
    assert totals[PROVINCE] == 395 == sum(lg.minutes_by_volunteer().values())
    # every total is the sum of the records in its subtree
    tree = lg.tree
    records = [lg.record(r) for v in ("v1", "v2") for r in (x.id for x in lg.records_of(v))]
    for code, total in totals.items():
        inside = [
            lg.outcome(r.id).counted_minutes for r in records if tree.is_within(r.region_code, code)
        ]
        assert total == sum(inside), code
    assert lg.totals_by_region(purpose=Purpose.POINTS)[PROVINCE] == 60 + 90 + 30 + 50


def test_fold_agrees_with_the_queries_at_every_moment() -> None:
    lg = ledger(policies=[HOUR_PROFILES["jindu"]])
    lg.post(record("a", minutes=60), at=POSTED_AT)
    lg.post(record("b", start=at(2025, 3, 3, 10), minutes=30), at=POSTED_AT)
    lg.post(record("c", vid="v2", minutes=45), at=POSTED_AT)
    lg.certify("a", by="admin", at=at(2025, 3, 4))
    lg.certify("c", by="admin", at=at(2025, 3, 5))
    lg.reject("b", by="admin", reason="x", at=at(2025, 3, 6))
    lg.reverse("a", by="admin", reason="x", at=at(2025, 3, 9))
    moments = [None, *(at(2025, 3, d, h) for d in range(3, 11) for h in (0, 12))]
    for moment in moments:
        folded = fold(lg.entries, as_of=moment)  # registrations fold to nothing
        for vid in ("v1", "v2"):
            for state, minutes in lg.summary(vid, as_of=moment).items():
                assert folded.get((vid, state), 0) == minutes, (moment, vid, state)
    assert fold(facts(lg), as_of=at(2025, 3, 8)) == {
        ("v1", "certified"): 60,
        ("v1", "rejected"): 30,
        ("v2", "certified"): 45,
    }


def test_post_many_is_post_in_order() -> None:
    recs = [record(f"r{i}", start=at(2025, 3, 3, 8) + timedelta(minutes=40 * i)) for i in range(5)]
    one, many = ledger(), ledger()
    singles = [one.post(r, at=POSTED_AT) for r in recs]
    assert many.post_many(recs, at=POSTED_AT) == singles
    assert [type(e) for e in facts(many)] == [type(e) for e in facts(one)]
    bad = ledger()
    with pytest.raises(NotFound):
        bad.post_many([recs[0], record("x", vid="ghost"), recs[1]], at=POSTED_AT)
    assert len(bad) == 0 and facts(bad) == ()  # one operation: all or nothing


# --- threads -----------------------------------------------------------------------------------


def test_threads_posting_overlapping_batches() -> None:
    vids = [f"v{i}" for i in range(4)]
    lg = ledger(volunteers=[volunteer(v) for v in vids])
    base = at(2025, 3, 1, 8)
    shared = [
        record(f"s{i}", vid=vids[i % 4], start=base + timedelta(minutes=37 * i), minutes=50)
        for i in range(40)
    ]
    own = {
        t: [
            record(
                f"t{t}-{i}",
                vid=vids[(t + i) % 4],
                start=base + timedelta(minutes=53 * i + t),
                minutes=45,
            )
            for i in range(15)
        ]
        for t in range(8)
    }
    conflicts: list[int] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def work(t: int) -> None:
        rng = random.Random(t)
        batch = shared + own[t] + shared[: 10 * (t % 3)]  # some records twice in one batch
        rng.shuffle(batch)
        barrier.wait()
        try:
            for rec in batch:
                lg.post(rec, at=at(2025, 3, 10))
            try:  # every thread claims one id with its own record: one wins
                lg.post(
                    record("dup", vid="v0", start=at(2025, 3, 9), note=f"t{t}"), at=at(2025, 3, 10)
                )
            except Conflict:
                conflicts.append(t)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    assert len(conflicts) == 7
    distinct = {r.id for r in shared} | {r.id for rs in own.values() for r in rs} | {"dup"}
    posted = [e.record.id for e in facts(lg) if isinstance(e, Posted)]
    assert sorted(posted) == sorted(distinct)  # each distinct record posted exactly once
    assert len(lg) == len(distinct)
    # Overlaps are trimmed in whatever order the threads won, but a volunteer's counted minutes
    # always equal the union of their service time (whole minutes here).
    all_records = [lg.record(rid) for rid in distinct]
    totals = lg.minutes_by_volunteer(status="submitted")
    for vid in vids:
        mine = sorted(
            ((r.start, r.end) for r in all_records if r.volunteer_id == vid), key=lambda p: p[0]
        )
        union = 0
        cur_s, cur_e = mine[0]
        for s, e in mine[1:]:
            if s > cur_e:
                union += int((cur_e - cur_s).total_seconds()) // 60
                cur_s, cur_e = s, e
            else:
                cur_e = max(cur_e, e)
        union += int((cur_e - cur_s).total_seconds()) // 60
        assert totals[vid] == union, vid
        segs = sorted(
            s
            for rid in distinct
            for s in lg.outcome(rid).segments
            if lg.record(rid).volunteer_id == vid
        )
        assert all(not overlaps(a, b) for a, b in itertools.pairwise(segs))
    assert sum(totals.values()) == sum(o for o in (lg.outcome(r).counted_minutes for r in distinct))
    folded = fold(facts(lg))
    assert {v: folded.get((v, "submitted"), 0) for v in vids} == {v: totals.get(v, 0) for v in vids}
