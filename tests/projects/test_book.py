"""The project book: recruitment with a waiting list (a place is never given twice, the first
waiter is promoted when one frees, acceptances never exceed the places), sign-in by fence, code
and QR (a refusal names the distance and the radius, and records nothing), sign-out into a
service record with the shift as its schedule, top-ups never past the shift, 遵义's collection
of needs and claims, reads as of a moment, and a book reopened from SQLite equal to the one
that wrote it."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import attrs
import pytest

from zhiyuan import SHANGHAI
from zhiyuan.errors import Conflict, InvalidValue, NotFound, UnknownRegion
from zhiyuan.hierarchy import RegionTree, load_default
from zhiyuan.hours import Evidence, GeoFix, Volunteer
from zhiyuan.journal import Journal
from zhiyuan.matching import Need, NeedBook
from zhiyuan.projects import (
    AUTO,
    Activity,
    ClaimantKind,
    Project,
    ProjectBook,
    Requirements,
    Shift,
    SignedIn,
    SignedOut,
    SignInPoint,
    SignUpAccepted,
    SignUpState,
    ToppedUp,
)
from zhiyuan.store import open_journal

Make = Callable[..., ProjectBook]
S = SignUpState
GATE = GeoFix(lat=36.0600, lon=120.3200)
CODE = "204816"


def t(hour: int, minute: int = 0, *, day: int = 10) -> datetime:
    return datetime(2025, 5, day, hour, minute, tzinfo=SHANGHAI)


def north(metres: float) -> GeoFix:
    """A fix about ``metres`` north of the gate."""
    return GeoFix(lat=GATE.lat + metres / 111_195, lon=GATE.lon)


def _sign_up(
    book: ProjectBook, vol: Callable[..., Volunteer], *vids: str, shift: str = "am"
) -> None:
    for vid in vids:
        book.sign_up("a1", shift, vol(vid), at=t(8))


def _fingerprint(book: ProjectBook) -> tuple[Any, ...]:
    return (book.journal.head, pickle.dumps(book._state))


# --- publishing --------------------------------------------------------------------------------


def test_publishing_again_records_nothing_and_another_under_the_id_is_refused(
    book: ProjectBook, make_project: Callable[..., Project], make_activity: Callable[..., Activity]
) -> None:
    n = len(book.journal)
    book.publish_project(make_project(), by="someone else", at=t(8))
    book.publish_activity(make_activity(), by="someone else", at=t(8))
    assert len(book.journal) == n
    with pytest.raises(Conflict, match="project p1 is already published"):
        book.publish_project(make_project(name="另一个"), by="c", at=t(8))
    with pytest.raises(Conflict, match="activity a1 is already published"):
        book.publish_activity(make_activity(places=9), by="c", at=t(8))
    assert book.projects() == ("p1",) and book.activities("p1") == ("a1",)
    assert book.activities() == ("a1",) and book.activities("p9") == ()


def test_an_activity_needs_its_project_open_and_within_its_region(
    book: ProjectBook, make_activity: Callable[..., Activity]
) -> None:
    with pytest.raises(NotFound):
        book.publish_activity(make_activity("a2", pid="p9"), by="c", at=t(8))
    with pytest.raises(InvalidValue, match="outside 370202000000 of project p1"):
        book.publish_activity(make_activity("a2", region="370285001001"), by="c", at=t(8))
    with pytest.raises(UnknownRegion):
        book.publish_activity(make_activity("a2", region="370202999999"), by="c", at=t(8))
    book.close_project("p1", by="c", reason="年度结项", at=t(8))
    with pytest.raises(Conflict, match="project p1 is closed: cannot publish an activity"):
        book.publish_activity(make_activity("a2"), by="c", at=t(8))
    assert not book.project("p1").open and book.project("p1", as_of=t(7)).open


def test_dates_never_go_backwards_within_an_activity(
    book: ProjectBook, vol: Callable[..., Volunteer]
) -> None:
    book.sign_up("a1", "am", vol("v1"), at=t(8))
    with pytest.raises(InvalidValue, match="before the last entry of activity a1"):
        book.sign_up("a1", "am", vol("v2"), at=t(7, 30))


# --- recruitment -------------------------------------------------------------------------------


def test_a_full_shift_takes_sign_ups_on_its_waiting_list_in_order(
    book: ProjectBook, vol: Callable[..., Volunteer]
) -> None:
    states = [book.sign_up("a1", "am", vol(v), at=t(8)).state for v in ("v1", "v2", "v3", "v4")]
    assert states == [S.PENDING, S.PENDING, S.WAITLISTED, S.WAITLISTED]
    roster = book.roster("a1", "am")
    assert roster.pending == ("v1", "v2") and roster.waitlist == ("v3", "v4")
    assert roster.held == 2 and roster.open_places == 0
    assert book.roster("a1", "pm").open_places == 2  # the other shift is apart


def test_a_volunteer_cannot_sign_up_twice_for_one_shift(
    book: ProjectBook, vol: Callable[..., Volunteer]
) -> None:
    _sign_up(book, vol, "v1", "v2", "v3")
    before = _fingerprint(book)
    for vid, state in (("v1", "待录用"), ("v3", "候补")):
        with pytest.raises(Conflict, match=f"「{state}」，不能报名"):
            book.sign_up("a1", "am", vol(vid), at=t(8))
    assert _fingerprint(book) == before
    book.sign_up("a1", "pm", vol("v1"), at=t(8))  # another shift is another sign-up


def test_acceptance_never_exceeds_the_places_and_needs_a_pending_sign_up(
    book: ProjectBook, vol: Callable[..., Volunteer]
) -> None:
    _sign_up(book, vol, "v1", "v2", "v3")
    book.accept("a1", "am", "v1", by="c", at=t(8))
    book.accept("a1", "am", "v2", by="c", at=t(8))
    with pytest.raises(Conflict, match="is waitlisted: cannot accept"):
        book.accept("a1", "am", "v3", by="c", at=t(8))
    assert book.accept("a1", "am", "v1", by="c", at=t(8)).by == "c"  # the same again: a no-op
    with pytest.raises(Conflict, match="is accepted: cannot accept"):
        book.accept("a1", "am", "v1", by="c", at=t(8, 5))
    with pytest.raises(NotFound):
        book.accept("a1", "am", "v9", by="c", at=t(8))
    assert book.roster("a1", "am").accepted == ("v1", "v2")


def test_a_cancellation_promotes_the_first_waiter(
    book: ProjectBook, vol: Callable[..., Volunteer]
) -> None:
    _sign_up(book, vol, "v1", "v2", "v3", "v4")
    book.accept("a1", "am", "v1", by="c", at=t(8))
    promoted = book.cancel("a1", "am", "v1", reason="临时有事", at=t(8, 10))
    assert promoted is not None and promoted.volunteer_id == "v3"
    assert book.signup("a1", "am", "v3").state is S.PENDING
    roster = book.roster("a1", "am")
    assert roster.pending == ("v2", "v3") and roster.waitlist == ("v4",)
    assert roster.cancelled == ("v1",)
    # a waiter who cancels frees no place: nobody is promoted
    assert book.cancel("a1", "am", "v4", at=t(8, 20)) is None
    assert book.roster("a1", "am").waitlist == ()


def test_a_decline_frees_the_place_for_the_first_waiter(
    book: ProjectBook, vol: Callable[..., Volunteer]
) -> None:
    _sign_up(book, vol, "v1", "v2", "v3")
    promoted = book.decline("a1", "am", "v2", by="c", reason="条件不符", at=t(8))
    assert promoted is not None and promoted.volunteer_id == "v3"
    assert book.signup("a1", "am", "v2").state is S.DECLINED
    with pytest.raises(Conflict, match="is declined: cannot sign up"):
        book.sign_up("a1", "am", vol("v2"), at=t(8))


def test_a_volunteer_who_cancelled_may_sign_up_again_at_the_end_of_the_line(
    book: ProjectBook, vol: Callable[..., Volunteer]
) -> None:
    _sign_up(book, vol, "v1", "v2", "v3")
    book.cancel("a1", "am", "v1", at=t(8))  # v3 promoted
    again = book.sign_up("a1", "am", vol("v1"), at=t(8, 30))
    assert again.state is S.WAITLISTED and again.attempt == 2 and again.ref == "a1#am#v1#2"
    assert [e.id for e in book.entries][-1] == "signup#a1#am#v1#signup#2"


def test_auto_accept_accepts_sign_ups_and_promotions(
    make_book: Make, vol: Callable[..., Volunteer]
) -> None:
    book = make_book(auto_accept=True, places=1)
    assert book.sign_up("a1", "am", vol("v1"), at=t(8)).state is S.ACCEPTED
    assert book.sign_up("a1", "am", vol("v2"), at=t(8)).state is S.WAITLISTED
    book.cancel("a1", "am", "v1", at=t(8))
    assert book.signup("a1", "am", "v2").state is S.ACCEPTED
    auto = [e for e in book.entries if isinstance(e, SignUpAccepted)]
    assert [(e.volunteer_id, e.by) for e in auto] == [("v1", AUTO), ("v2", AUTO)]


def test_sign_ups_close_when_the_shift_starts(
    book: ProjectBook, vol: Callable[..., Volunteer]
) -> None:
    _sign_up(book, vol, "v1")
    with pytest.raises(Conflict, match="started at 2025-05-10T09:00:00\\+08:00: cannot sign up"):
        book.sign_up("a1", "am", vol("v2"), at=t(9))
    with pytest.raises(Conflict, match="cannot cancel"):
        book.cancel("a1", "am", "v1", at=t(9, 5))
    book.sign_up("a1", "pm", vol("v2"), at=t(9))  # the afternoon shift is still open


def test_requirements_are_checked_at_sign_up(
    make_book: Make, vol: Callable[..., Volunteer]
) -> None:
    book = make_book(requirements=Requirements(min_age=18, skills={"医疗"}, training={"急救"}))
    from datetime import date

    teen = vol("v1", born=date(2010, 1, 1), skills={"医疗/护理"})
    with pytest.raises(InvalidValue) as err:
        book.sign_up("a1", "am", teen, training=["急救"], at=t(8))
    assert "v1 is 15 on the day, younger than the minimum age of 18" in str(err.value)
    assert len(book.journal) == 2
    adult = vol("v2", born=date(1990, 1, 1), skills={"医疗/护理"})
    with pytest.raises(InvalidValue, match="has not completed the training 急救"):
        book.sign_up("a1", "am", adult, at=t(8))
    assert book.sign_up("a1", "am", adult, training={"急救"}, at=t(8)).state is S.PENDING


def test_a_closed_project_or_a_cancelled_activity_takes_no_sign_ups(
    book: ProjectBook, make_book: Make, vol: Callable[..., Volunteer]
) -> None:
    book.close_project("p1", by="c", at=t(8))
    with pytest.raises(Conflict, match="project p1 is closed: cannot sign up"):
        book.sign_up("a1", "am", vol("v1"), at=t(8))
    other = make_book()
    other.cancel_activity("a1", by="c", reason="台风", at=t(8))
    with pytest.raises(Conflict, match="activity a1 is cancelled: cannot sign up"):
        other.sign_up("a1", "am", vol("v1"), at=t(8))
    with pytest.raises(Conflict, match="activity a1 is cancelled: cannot cancel"):
        other.cancel_activity("a1", by="c", at=t(8))
    assert other.activity("a1").cancelled is not None
    assert other.activity("a1", as_of=t(7)).cancelled is None


def test_unknown_activities_shifts_and_bad_arguments_are_refused(
    book: ProjectBook, vol: Callable[..., Volunteer]
) -> None:
    with pytest.raises(NotFound):
        book.sign_up("a9", "am", vol("v1"), at=t(8))
    with pytest.raises(NotFound, match="a1/night"):
        book.sign_up("a1", "night", vol("v1"), at=t(8))
    with pytest.raises(InvalidValue):
        book.sign_up("a1", "am", "v1", at=t(8))  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        book.sign_up(["a1"], "am", vol("v1"), at=t(8))  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        book.sign_up("a1", "am", vol("v1"), training=[3], at=t(8))
    with pytest.raises(NotFound):
        book.signup("a1", "am", "v1")


# --- sign-in -----------------------------------------------------------------------------------


def _accepted(book: ProjectBook, vol: Callable[..., Volunteer], *vids: str) -> None:
    for vid in vids:
        book.sign_up("a1", "am", vol(vid), at=t(8))
        book.accept("a1", "am", vid, by="c", at=t(8))


def test_sign_in_outside_the_fence_names_the_distance_and_the_radius(
    book: ProjectBook, vol: Callable[..., Volunteer]
) -> None:
    _accepted(book, vol, "v1")
    before = _fingerprint(book)
    with pytest.raises(InvalidValue) as err:
        book.sign_in("a1", "am", "v1", geo=north(450), code=CODE, at=t(9))
    assert err.value.field == "geo"
    assert "450 m from sign-in point gate, outside its 300 m radius" in str(err.value)
    assert "距签到点 gate 450 米，超出 300 米范围" in str(err.value)
    assert _fingerprint(book) == before
    got = book.sign_in("a1", "am", "v1", geo=north(250), code=CODE, at=t(9))
    assert (got.point_id, got.evidence, got.distance_m) == ("gate", Evidence.SIGN_IN_CODE, 250)


def test_sign_in_with_a_wrong_or_missing_code_or_fix_is_refused(
    book: ProjectBook, vol: Callable[..., Volunteer]
) -> None:
    _accepted(book, vol, "v1")
    with pytest.raises(InvalidValue, match="wrong sign-in code for point gate") as err:
        book.sign_in("a1", "am", "v1", geo=north(10), code="000000", at=t(9))
    assert err.value.field == "code" and CODE not in str(err.value)
    with pytest.raises(InvalidValue, match="needs a location fix"):
        book.sign_in("a1", "am", "v1", code=CODE, at=t(9))
    for junk in (204816, b"204816"):
        with pytest.raises(InvalidValue):
            book.sign_in("a1", "am", "v1", geo=north(10), code=junk, at=t(9))  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        book.sign_in("a1", "am", "v1", geo=(36.06, 120.32), code=CODE, at=t(9))  # type: ignore[arg-type]


def test_sign_in_needs_an_accepted_sign_up(
    book: ProjectBook, vol: Callable[..., Volunteer]
) -> None:
    _sign_up(book, vol, "v1", "v2", "v3")
    for vid, state in (("v1", "pending"), ("v3", "waitlisted")):
        with pytest.raises(Conflict, match=f"is {state}: cannot sign in"):
            book.sign_in("a1", "am", vid, geo=north(0), code=CODE, at=t(9))
    with pytest.raises(NotFound):
        book.sign_in("a1", "am", "v9", geo=north(0), code=CODE, at=t(9))


def test_sign_in_opens_before_the_shift_and_closes_at_its_end(
    book: ProjectBook, vol: Callable[..., Volunteer]
) -> None:
    _accepted(book, vol, "v1", "v2")
    for when in (t(8, 29), t(11)):
        with pytest.raises(Conflict, match="sign-in to shift am of a1 is open from"):
            book.sign_in("a1", "am", "v1", geo=north(0), code=CODE, at=when)
    book.sign_in("a1", "am", "v1", geo=north(0), code=CODE, at=t(8, 30))
    with pytest.raises(Conflict, match="is signed_in: cannot sign in"):
        book.sign_in("a1", "am", "v1", geo=north(0), code=CODE, at=t(8, 40))
    book.sign_in("a1", "am", "v2", geo=north(0), code=CODE, at=t(10, 59))


def test_a_point_takes_a_sign_in_that_passes_all_its_checks_and_any_point_will_do(
    make_book: Make, vol: Callable[..., Volunteer]
) -> None:
    points = [
        SignInPoint(id="gate", place=GATE, radius_m=100),
        SignInPoint(id="desk", code=CODE, qr="qr:a1:desk"),
    ]
    book = make_book(points=points, auto_accept=True)
    for vid in ("v1", "v2", "v3"):
        book.sign_up("a1", "am", vol(vid), at=t(8))
    with pytest.raises(InvalidValue) as err:
        book.sign_in("a1", "am", "v1", geo=north(150), code=CODE, at=t(9))
    # every point's failure is named: the fence of one, the QR token of the other
    assert "150 m from sign-in point gate, outside its 100 m radius" in str(err.value)
    assert "not the QR code of sign-in point desk" in str(err.value)
    by_gps = book.sign_in("a1", "am", "v1", geo=north(50), at=t(9))
    by_qr = book.sign_in("a1", "am", "v2", code=CODE, qr="qr:a1:desk", at=t(9))
    assert (by_gps.point_id, by_gps.evidence) == ("gate", Evidence.GPS)
    assert (by_qr.point_id, by_qr.evidence, by_qr.distance_m) == ("desk", Evidence.QR_SCAN, None)


def test_an_activity_without_points_takes_no_sign_in(
    make_book: Make, vol: Callable[..., Volunteer]
) -> None:
    book = make_book(points=(), auto_accept=True)
    book.sign_up("a1", "am", vol("v1"), at=t(8))
    with pytest.raises(Conflict, match="activity a1 has no sign-in point"):
        book.sign_in("a1", "am", "v1", at=t(9))


# --- sign-out and top-up -----------------------------------------------------------------------


def test_sign_out_makes_the_service_record_with_the_shift_as_its_schedule(
    book: ProjectBook, vol: Callable[..., Volunteer]
) -> None:
    _accepted(book, vol, "v1")
    book.sign_in("a1", "am", "v1", geo=north(20), code=CODE, at=t(8, 55))
    with pytest.raises(InvalidValue, match="outside its 300 m radius"):
        book.sign_out("a1", "am", "v1", geo=north(900), code=CODE, at=t(11, 5))
    out = book.sign_out("a1", "am", "v1", geo=north(30), code=CODE, at=t(11, 5))
    rec = out.record
    assert (rec.id, rec.volunteer_id, rec.activity_id) == ("a1#am#v1", "v1", "a1")
    assert (rec.organization_id, rec.region_code, rec.category) == ("o-sn", "370202001001", "环保")
    assert (rec.start, rec.end, rec.served_minutes) == (t(8, 55), t(11, 5), 130)
    assert (rec.scheduled_start, rec.scheduled_end) == (t(9), t(11))
    assert rec.evidence is Evidence.SIGN_IN_CODE and rec.geo == north(20)
    assert not rec.checkout_missing and rec.recorded_at == t(11, 5)
    su = book.signup("a1", "am", "v1")
    assert su.state is S.SIGNED_OUT and su.record == rec
    assert book.roster("a1", "am").done == ("v1",)
    with pytest.raises(Conflict, match="is signed_out: cannot sign out"):
        book.sign_out("a1", "am", "v1", geo=north(30), code=CODE, at=t(11, 6))


def test_sign_out_closes_late_minutes_after_the_shift_then_an_administrator_tops_it_up(
    book: ProjectBook, vol: Callable[..., Volunteer]
) -> None:
    _accepted(book, vol, "v1")
    book.sign_in("a1", "am", "v1", geo=north(0), code=CODE, at=t(9, 10))
    with pytest.raises(Conflict, match="closed at 2025-05-10T12:00:00\\+08:00"):
        book.sign_out("a1", "am", "v1", geo=north(0), code=CODE, at=t(12, 1))
    up = book.top_up("a1", "am", "v1", by="c", reason="忘记签退", at=t(18))
    rec = up.record
    assert (rec.start, rec.end, rec.evidence) == (t(9, 10), t(11), Evidence.ADMIN_TOPUP)
    assert rec.checkout_missing and rec.note == "忘记签退" and rec.recorded_at == t(18)
    assert book.signup("a1", "am", "v1").state is S.TOPPED_UP


def test_a_top_up_never_ends_outside_the_schedule(
    book: ProjectBook, vol: Callable[..., Volunteer]
) -> None:
    _accepted(book, vol, "v1", "v2")
    book.sign_in("a1", "am", "v1", geo=north(0), code=CODE, at=t(9, 30))
    before = _fingerprint(book)
    for end in (t(11, 1), t(9), t(8), t(14)):
        with pytest.raises(InvalidValue, match="a top-up ends inside the shift's schedule"):
            book.top_up("a1", "am", "v1", by="c", end=end, at=t(18))
    with pytest.raises(InvalidValue, match="must be after the sign-in"):
        book.top_up("a1", "am", "v1", by="c", end=t(9, 20), at=t(18))
    with pytest.raises(InvalidValue, match="a top-up cannot end in the future"):
        book.top_up("a1", "am", "v1", by="c", end=t(10, 30), at=t(10))
    with pytest.raises(Conflict, match="is accepted: cannot top up"):
        book.top_up("a1", "am", "v2", by="c", at=t(18))
    assert _fingerprint(book) == before
    up = book.top_up("a1", "am", "v1", by="c", end=t(10, 30), at=t(18))
    assert up.record.served_minutes == 60


def test_an_activity_with_someone_signed_in_cannot_be_cancelled(
    book: ProjectBook, vol: Callable[..., Volunteer]
) -> None:
    _accepted(book, vol, "v1")
    book.sign_in("a1", "am", "v1", geo=north(0), code=CODE, at=t(9))
    with pytest.raises(Conflict, match="1 volunteers are signed in to activity a1"):
        book.cancel_activity("a1", by="c", at=t(10))
    book.sign_out("a1", "am", "v1", geo=north(0), code=CODE, at=t(10))
    book.cancel_activity("a1", by="c", at=t(10, 30))


# --- entries offered from outside ----------------------------------------------------------


def test_a_forged_sign_in_or_record_is_refused(
    book: ProjectBook, vol: Callable[..., Volunteer]
) -> None:
    _accepted(book, vol, "v1")
    common = {"activity_id": "a1", "shift_id": "am", "volunteer_id": "v1"}
    far = SignedIn(
        id="x1",
        at=t(9),
        point_id="gate",
        evidence="sign_in_code",
        geo=north(900),
        distance_m=900,
        **common,
    )
    with pytest.raises(InvalidValue, match="do not match sign-in point gate"):
        book.add(far)
    wrong_kind = attrs.evolve(far, geo=north(0), distance_m=0, evidence="qr_scan")
    with pytest.raises(InvalidValue, match="do not match sign-in point gate"):
        book.add(wrong_kind)
    fine = book.add(attrs.evolve(far, geo=north(0), distance_m=0))
    assert book.add(fine) is not None  # the same entry again is a no-op
    real = book.sign_out("a1", "am", "v1", geo=north(0), code=CODE, at=t(11))
    forged = attrs.evolve(real, id="x2", record=attrs.evolve(real.record, end=t(11, 30)))
    with pytest.raises(Conflict):  # already signed out: the state objects first
        book.add(forged)


def test_a_forged_top_up_record_is_refused(
    book: ProjectBook, vol: Callable[..., Volunteer]
) -> None:
    _accepted(book, vol, "v1")
    book.sign_in("a1", "am", "v1", geo=north(0), code=CODE, at=t(9))
    real = book.top_up("a1", "am", "v1", by="c", at=t(18))
    other = make_fresh(book, vol)
    with pytest.raises(InvalidValue, match="does not follow from the sign-in"):
        other.add(attrs.evolve(real, record=attrs.evolve(real.record, checkout_missing=False)))
    assert isinstance(other.add(real), ToppedUp)


def make_fresh(book: ProjectBook, vol: Callable[..., Volunteer]) -> ProjectBook:
    """A new book with every entry of ``book`` but the last."""
    entries = list(book.entries)[:-1]
    return ProjectBook(entries, tree=book.tree)


def test_another_entry_under_a_used_id_is_a_conflict(book: ProjectBook) -> None:
    first = book.entries[0]
    with pytest.raises(Conflict):
        book.add(attrs.evolve(first, by="someone else"))
    with pytest.raises(InvalidValue, match="not a project entry"):
        book.add("entry")  # type: ignore[arg-type]


# --- 遵义: needs collected into projects, and claims --------------------------------------------


def _need(nid: str) -> Need:
    return Need(
        id=nid,
        requester="居民",
        region_code="520302001001",
        category="助老",
        start=t(9, day=20),
        end=t(11, day=20),
        posted_at=t(8),
    )


def test_needs_are_collected_into_one_project_each(
    tree: RegionTree, make_project: Callable[..., Project]
) -> None:
    journal = Journal()
    needs = NeedBook(journal=journal)
    for nid in ("n1", "n2", "n3"):
        needs.post(_need(nid))
    book = ProjectBook(tree=tree, needs=needs, journal=journal)
    for pid in ("zy1", "zy2"):
        book.publish_project(make_project(pid, "520302", organization_id="o-zy"), by="c", at=t(8))
    first = book.collect("zy1", ["n1", "n2"], by="center", at=t(9))
    assert first.id == "project#zy1#collect#1"
    with pytest.raises(Conflict, match="need n2 is already collected into project zy1"):
        book.collect("zy2", ["n3", "n2"], by="center", at=t(9))
    with pytest.raises(NotFound):
        book.collect("zy2", ["n9"], by="center", at=t(9))
    second = book.collect("zy1", ["n3"], by="center", at=t(10))
    assert second.id == "project#zy1#collect#2"
    assert book.project("zy1").needs == ("n1", "n2", "n3")
    assert book.project("zy1", as_of=t(9)).needs == ("n1", "n2")
    with pytest.raises(InvalidValue):
        book.collect("zy2", [], by="center", at=t(10))


def test_a_claiming_organization_organizes_the_records_and_sponsors_add_up(
    book: ProjectBook, vol: Callable[..., Volunteer], make_project: Callable[..., Project]
) -> None:
    book.publish_project(make_project("p2", sponsor="海洋基金会"), by="c", at=t(7))
    book.claim("p2", "青岛啤酒", kind="sponsor", by="c", at=t(8))
    assert book.project("p2").sponsors == ("海洋基金会", "青岛啤酒")
    with pytest.raises(Conflict, match="青岛啤酒 already claimed project p2"):
        book.claim("p2", "青岛啤酒", kind=ClaimantKind.SPONSOR, by="c", at=t(8, 30))
    book.claim("p1", "o-team", by="c", at=t(8))
    with pytest.raises(Conflict, match="already claimed by organization o-team"):
        book.claim("p1", "o-other", by="c", at=t(8))
    assert book.project("p1").organizer == "o-team"
    _accepted(book, vol, "v1")
    book.sign_in("a1", "am", "v1", geo=north(0), code=CODE, at=t(9))
    out = book.sign_out("a1", "am", "v1", geo=north(0), code=CODE, at=t(11))
    assert out.record.organization_id == "o-team"
    with pytest.raises(InvalidValue):
        book.claim("p1", "x", kind="friend", by="c", at=t(12))


# --- reading as of a moment; the store ---------------------------------------------------------


def test_reads_as_of_a_moment_fold_the_entries_up_to_it(
    book: ProjectBook, vol: Callable[..., Volunteer]
) -> None:
    _sign_up(book, vol, "v1", "v2", "v3")
    book.cancel("a1", "am", "v1", at=t(8, 30))
    assert book.roster("a1", "am", as_of=t(8)).waitlist == ("v3",)
    assert book.roster("a1", "am").waitlist == ()
    assert book.signup("a1", "am", "v1", as_of=t(8)).state is S.PENDING
    with pytest.raises(NotFound):
        book.signup("a1", "am", "v1", as_of=t(7, 30))
    with pytest.raises(NotFound):
        book.project("p1", as_of=t(6))
    with pytest.raises(NotFound):
        book.activity("a1", as_of=t(6))
    assert [s.volunteer_id for s in book.signups_of("v1")] == ["v1"]


def test_a_book_reopened_from_sqlite_is_the_book_that_wrote_it(
    tmp_path: Path,
    vol: Callable[..., Volunteer],
    make_project: Callable[..., Project],
    make_activity: Callable[..., Activity],
) -> None:
    path = tmp_path / "projects.db"
    tree = load_default()

    def story(book: ProjectBook) -> None:
        book.publish_project(make_project(), by="c", at=t(7))
        book.publish_activity(make_activity(), by="c", at=t(7))
        for vid in ("v1", "v2", "v3"):
            book.sign_up("a1", "am", vol(vid), at=t(8))
        book.accept("a1", "am", "v1", by="c", at=t(8))
        book.cancel("a1", "am", "v2", at=t(8))
        book.sign_in("a1", "am", "v1", geo=north(5), code=CODE, at=t(9))
        book.sign_out("a1", "am", "v1", geo=north(5), code=CODE, at=t(11))

    with open_journal(path) as journal:
        written = ProjectBook(tree=tree, journal=journal)
        story(written)
        state = pickle.dumps(written._state)
        roster = written.roster("a1", "am")
        journal.checkpoint()
    with open_journal(path) as journal:  # from the checkpoint
        again = ProjectBook(tree=tree, journal=journal)
        assert pickle.dumps(again._state) == state
        assert again.roster("a1", "am") == roster
        assert journal.verify(decode=True).ok
    memory = ProjectBook(tree=tree)
    story(memory)
    assert pickle.dumps(memory._state) == state  # the same story folds to the same state


def test_the_book_is_built_from_entries_given_at_once(
    book: ProjectBook, vol: Callable[..., Volunteer]
) -> None:
    _accepted(book, vol, "v1")
    copy = ProjectBook(book.entries, tree=book.tree)
    assert pickle.dumps(copy._state) == pickle.dumps(book._state)
    assert len(copy) == len(book) == 4
    assert [type(e).__name__ for e in copy][-1] == "SignUpAccepted"


def test_a_shift_with_many_places_takes_everyone_then_waits(
    make_book: Make, make_activity: Callable[..., Activity], vol: Callable[..., Volunteer]
) -> None:
    book = make_book()
    big = make_activity("a2", places=50)
    big = attrs.evolve(big, shifts=(Shift(id="am", start=t(9), end=t(11), places=50),))
    book.publish_activity(big, by="c", at=t(7))
    with book.journal.transaction():
        states = [book.sign_up("a2", "am", vol(f"v{i}"), at=t(8)).state for i in range(60)]
    assert states.count(S.PENDING) == 50 and states[50:] == [S.WAITLISTED] * 10
    assert book.roster("a2", "am").waitlist == tuple(f"v{i}" for i in range(50, 60))


def test_a_sign_out_entry_carries_its_record_through_json(
    book: ProjectBook, vol: Callable[..., Volunteer]
) -> None:
    from zhiyuan.convert import from_json, to_json
    from zhiyuan.projects import ProjectEntry

    _accepted(book, vol, "v1")
    book.sign_in("a1", "am", "v1", geo=north(0), code=CODE, at=t(9))
    out = book.sign_out("a1", "am", "v1", geo=north(0), code=CODE, at=t(11))
    assert isinstance(from_json(to_json(out), ProjectEntry), SignedOut)
    assert from_json(to_json(out), ProjectEntry) == out
