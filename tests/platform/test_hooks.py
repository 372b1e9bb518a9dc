"""Hooks hear of what happened after it is recorded, in order, once: never from an operation
that failed or a transaction that was undone, and a hook that raises never undoes anything."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from support.platform import (
    CY_VILLAGE,
    Clock,
    Heard,
    at,
    conversion,
    points,
    record,
    rules,
    serve,
    time_bank,
    volunteer,
)
from zhiyuan.credit.conversion import Expiry
from zhiyuan.errors import InvalidValue, NotFound, PermissionDenied
from zhiyuan.hours import Evidence, HourPolicy
from zhiyuan.matching import Candidate, CandidateKind, Need, NeedState
from zhiyuan.platform import Event, EventKind, HookFailure, Platform

Make = Callable[..., Platform]
K = EventKind


def _city(make_city: Make, **policy: object) -> tuple[Platform, Heard]:
    city = make_city(policies=rules(**policy))
    heard = Heard()
    city.subscribe(heard)
    return city, heard


def _team_in_service(make_city: Make, clock: Clock) -> tuple[Platform, Heard]:
    """v1 and v2 registered, and need n1 served by team t1 until now (nothing heard yet)."""
    city, heard = _city(make_city)
    for vid in ("v1", "v2"):
        city.register(volunteer(vid), by=vid)
    city.dispatcher.add(Candidate(id="t1", kind=CandidateKind.TEAM, home_region=CY_VILLAGE))
    need = Need(
        id="n1",
        requester="张大爷",
        region_code=CY_VILLAGE,
        category="助老",
        start=at(11, 9),
        end=at(11, 11),
        posted_at=at(10, 18),
    )
    city.post_need(need, by="张大爷")
    city.dispatch("n1", by="dispatcher", candidate_id="t1")
    city.accept("n1", "t1", by="t1")
    city.start("n1", by="recorder")
    clock.advance(hours=2)
    heard.clear()
    return city, heard


def test_events_arrive_in_order_with_their_amounts(make_city: Make, clock: Clock) -> None:
    city, heard = _city(
        make_city, conversion=[conversion(hours_per_point=2)], time_bank=[time_bank()]
    )
    city.register(volunteer("v1"), by="v1")
    assert [(e.kind, e.subject, e.ref) for e in heard.events] == [(K.REGISTERED, "v1", "v1")]
    heard.clear()
    city.post(record("r1", "v1", 1, 5), by="v1")
    assert [(e.kind, e.ref, e.amount) for e in heard.events] == [(K.HOURS_POSTED, "r1", 300)]
    heard.clear()
    city.certify("r1", by="certifier")
    assert [(e.kind, e.subject, e.ref, e.amount) for e in heard.events] == [
        (K.HOURS_CERTIFIED, "v1", "r1", 300),
        (K.POINTS_EARNED, "v1", "r1", 2),  # 5 h at 2 h a point
        (K.TIME_BANKED, "v1", "r1", 300),
        (K.STAR_ELIGIBLE, "v1", "v1", 1),  # 5 h ≥ 4 h for 1★
    ]
    assert {e.at for e in heard.events} == {clock.now}
    heard.clear()
    clock.advance(hours=1)
    city.reverse("r1", by="reverser", reason="重复")
    assert [(e.kind, e.amount) for e in heard.events] == [
        (K.HOURS_REVERSED, 300),
        (K.POINTS_REVERSED, 2),
        (K.TIME_REVERSED, 300),
    ]
    assert {e.at for e in heard.events} == {clock.now}


def test_hooks_run_after_the_operation_is_recorded(make_city: Make) -> None:
    city = make_city()
    city.register(volunteer("v1"), by="v1")
    seen: list[tuple[EventKind, int, int | None]] = []

    def look(event: Event) -> None:
        # the books already show what the event tells, and the journal holds it
        rid = event.ref
        posted = city.journal.find("hours", f"post:{rid}") is not None
        seen.append((event.kind, points(city), len(city.journal) if posted else None))

    city.subscribe(look)
    serve(city, "r1", "v1", 1, 3)
    size = len(city.journal)
    assert seen[-2:] == [(K.HOURS_CERTIFIED, 3, size), (K.POINTS_EARNED, 3, size)]


def test_a_hook_that_raises_is_kept_and_the_operation_stands(make_city: Make) -> None:
    city, heard = _city(make_city)

    def broken(event: Event) -> None:
        raise RuntimeError(f"下游故障 {event.kind.value}")

    city.subscribe(broken)
    after = Heard()
    city.subscribe(after)  # subscribed after the broken one: still told
    city.register(volunteer("v1"), by="v1")
    serve(city, "r1", "v1", 1, 3)
    assert points(city) == 3
    assert city.journal.find(city.points.name, "r1#convert") is not None
    assert city.journal.verify().ok
    assert after.events == heard.events
    failures = city.hook_failures
    assert [f.event for f in failures] == heard.events
    assert all(isinstance(f, HookFailure) for f in failures)
    first = failures[0]
    assert first.hook.endswith("broken")
    assert first.error == "RuntimeError: 下游故障 volunteer.registered"


def test_a_failed_operation_tells_nothing(make_city: Make, clock: Clock) -> None:
    """Completing a need with an unregistered member fails after the completion and the first
    records were staged (and their events planned): nothing is recorded, nothing is told."""
    city, heard = _team_in_service(make_city, clock)
    size = len(city.journal)
    with pytest.raises(NotFound):
        city.complete(
            "n1",
            by="recorder",
            evidence=Evidence.SUPERVISOR,
            organization_id="o-cy",
            members={"t1": ["v1", "v2", "ghost"]},
        )
    with pytest.raises(PermissionDenied):
        city.adjust("a1", "v1", 1, by="nobody")
    assert heard.events == []
    assert len(city.journal) == size
    # the next operation tells only its own events
    city.complete(
        "n1",
        by="recorder",
        evidence=Evidence.SUPERVISOR,
        organization_id="o-cy",
        members={"t1": ["v1", "v2"]},
    )
    assert heard.kinds() == [K.NEED_COMPLETED, K.HOURS_POSTED, K.HOURS_POSTED]
    assert heard.events[0].amount == 2  # two records


def test_a_transaction_tells_once_at_the_end(make_city: Make) -> None:
    city, heard = _city(make_city)
    city.register(volunteer("v1"), by="v1")
    heard.clear()
    with city.transaction():
        serve(city, "r1", "v1", 1, 3)
        serve(city, "r2", "v1", 2, 2)
        assert heard.events == []  # not yet: nothing is recorded before the block ends
    assert points(city) == 5
    earned = [(e.ref, e.amount) for e in heard.of(K.POINTS_EARNED)]
    assert earned == [("r1", 3), ("r2", 2)]
    assert heard.kinds().count(K.HOURS_CERTIFIED) == 2
    assert len(heard.events) == len(set(map(id, heard.events)))
    n = len(heard.events)
    city.reconcile()
    assert len(heard.events) == n  # looking tells nothing


def test_a_transaction_that_raises_records_and_tells_nothing(make_city: Make) -> None:
    city, heard = _city(make_city)
    city.register(volunteer("v1"), by="v1")
    heard.clear()
    size = len(city.journal)
    with pytest.raises(RuntimeError), city.transaction():
        serve(city, "r1", "v1", 1, 3)
        assert points(city) == 0  # staged, not recorded
        raise RuntimeError("中止")
    assert heard.events == []
    assert len(city.journal) == size
    assert points(city) == 0
    assert city.hours.records_of("v1") == []
    # the same operations again, for real
    with city.transaction():
        serve(city, "r1", "v1", 1, 3)
    assert points(city) == 3
    assert [e.ref for e in heard.of(K.POINTS_EARNED)] == ["r1"]


def test_a_failure_caught_inside_a_transaction_undoes_only_its_operation(
    make_city: Make, clock: Clock
) -> None:
    city, heard = _team_in_service(make_city, clock)
    with city.transaction():
        serve(city, "r1", "v1", 1, 3)
        with pytest.raises(NotFound):  # staged a completion and v2's record, then failed
            city.complete(
                "n1",
                by="recorder",
                evidence="supervisor",
                organization_id="o-cy",
                members={"t1": ["v2", "ghost"]},
            )
        serve(city, "r2", "v2", 1, 2)
    assert city.needs.state("n1") is NeedState.IN_SERVICE
    assert [r.id for r in city.hours.records_of("v2")] == ["r2"]
    assert (points(city, "v1"), points(city, "v2")) == (3, 2)
    assert K.NEED_COMPLETED not in heard.kinds()
    assert [e.ref for e in heard.of(K.HOURS_POSTED)] == ["r1", "r2"]


def test_transactions_with_carried_remainders_convert_as_operations_alone(
    make_city: Make,
) -> None:
    """Several certifications in one transaction see each other: the carry runs across them."""
    pol = conversion(hours_per_point=2)
    alone = make_city(policies=rules(conversion=[pol]))
    together = make_city(policies=rules(conversion=[pol]))
    for city in (alone, together):
        city.register(volunteer("v1"), by="v1")
    for rid, day in (("r1", 1), ("r2", 2), ("r3", 3)):
        serve(alone, rid, "v1", day, 1)
    with together.transaction():
        for rid, day in (("r1", 1), ("r2", 2), ("r3", 3)):
            serve(together, rid, "v1", day, 1)
    assert points(together) == points(alone) == 1
    assert together.points.accounts() == alone.points.accounts()


def test_star_eligibility_is_told_when_a_public_notice_ends(make_city: Make, clock: Clock) -> None:
    """STAR_ELIGIBLE: "certified hours rate the volunteer above the level held". Hours in 公示
    become certified when the notice ends (at the next settle); the hooks must hear then."""
    city, heard = _city(make_city, hours=[HourPolicy(notice_days=7)])
    city.register(volunteer("v1"), by="v1")
    serve(city, "r1", "v1", 1, 5)  # 5 h ≥ 4 h for 1★, once certified
    assert not heard.of(K.STAR_ELIGIBLE)
    clock.advance(days=7)
    city.settle(by="nightly")
    assert points(city) == 5
    assert [(e.subject, e.amount) for e in heard.of(K.STAR_ELIGIBLE)] == [("v1", 1)]


def test_subscribe_to_some_kinds_and_unsubscribe(make_city: Make, clock: Clock) -> None:
    city = make_city()
    points_only, by_value, everything = Heard(), Heard(), Heard()
    city.subscribe(points_only, kinds=[K.POINTS_EARNED, K.POINTS_REVERSED])
    city.subscribe(by_value, kinds=["hours.certified"])
    city.subscribe(everything)
    city.register(volunteer("v1"), by="v1")
    serve(city, "r1", "v1", 1, 3)
    assert points_only.kinds() == [K.POINTS_EARNED]
    assert by_value.kinds() == [K.HOURS_CERTIFIED]
    assert K.REGISTERED in everything.kinds()
    city.unsubscribe(points_only)
    city.unsubscribe(everything)
    clock.advance(hours=1)
    city.reverse("r1", by="reverser", reason="重复")
    assert points_only.kinds() == [K.POINTS_EARNED]
    assert K.HOURS_REVERSED not in everything.kinds()
    city.unsubscribe(everything)  # again: nothing to do
    with pytest.raises(InvalidValue):
        city.subscribe(points_only, kinds=["points.lost"])
    with pytest.raises(InvalidValue):
        city.subscribe("not a hook")  # type: ignore[arg-type]


def test_without_hooks_nothing_is_kept_for_later(make_city: Make) -> None:
    """Events are only planned for subscribers: one who subscribes later hears only what comes
    after."""
    city = make_city()
    city.register(volunteer("v1"), by="v1")
    serve(city, "r1", "v1", 1, 3)
    heard = Heard()
    city.subscribe(heard)
    serve(city, "r2", "v1", 2, 1)
    assert {e.ref for e in heard.events} == {"r2", "v1"}  # r2's hours and points; v1's star


def test_notify_expiring_tells_whose_points_expire(make_city: Make, clock: Clock) -> None:
    pol = conversion(expiry=Expiry.PERIOD, expiry_days=30)
    city, heard = _city(make_city, conversion=[pol])
    for vid in ("v1", "v2"):
        city.register(volunteer(vid), by=vid)
    serve(city, "r1", "v1", 1, 3)  # expires 30 days from now
    clock.advance(days=20)
    serve(city, "r2", "v2", 2, 2)  # expires 30 days from then
    heard.clear()
    soon = city.notify_expiring(within_days=15)
    assert [(e.volunteer_id, e.amount) for e in soon] == [("v1", 3)]
    [event] = heard.events
    assert (event.kind, event.subject, event.amount) == (K.POINTS_EXPIRING, "v1", 3)
    assert event.ref == (at(10, 18) + timedelta(days=30)).isoformat()
    heard.clear()
    both = city.notify_expiring(within_days=40)
    assert [(e.volunteer_id, e.amount) for e in both] == [("v1", 3), ("v2", 2)]
    assert [e.subject for e in heard.events] == ["v1", "v2"]
    for bad in (0, True, "7"):
        with pytest.raises(InvalidValue):
            city.notify_expiring(within_days=bad)  # type: ignore[arg-type]


def test_an_undone_journal_transaction_tells_nothing_later(make_city: Make) -> None:
    """Platform operations may run inside the journal's own transaction (with other books on
    the journal). When that block is undone, what its operations planned to tell must be
    dropped, not told with the next operation."""
    city, heard = _city(make_city)
    city.register(volunteer("v1"), by="v1")
    heard.clear()
    with pytest.raises(RuntimeError), city.journal.transaction():
        serve(city, "r1", "v1", 1, 3)
        raise RuntimeError("中止")
    assert city.hours.records_of("v1") == [] and points(city) == 0
    city.register(volunteer("v2"), by="v2")
    assert [(e.kind, e.ref) for e in heard.events] == [(K.REGISTERED, "v2")]


def test_a_committed_journal_transaction_tells_when_it_ends(make_city: Make) -> None:
    city, heard = _city(make_city)
    city.register(volunteer("v1"), by="v1")
    heard.clear()
    with city.journal.transaction():
        serve(city, "r1", "v1", 1, 3)
    assert points(city) == 3
    assert [e.ref for e in heard.of(K.POINTS_EARNED)] == ["r1"]
