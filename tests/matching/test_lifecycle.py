"""The need lifecycle (点单 → 派单 → 接单 → 服务 → 评单 → 奖单): entries, the fold, every invalid
transition, offer timeouts, headcount, the dispatcher's bookings, and random operation sequences."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from support.matching import ORG, SIBLING, VILLAGE, at, cand, dispatcher, hour_ledger, need
from zhiyuan.credit.accounts import volunteer_account
from zhiyuan.credit.ledger import PointsLedger, PostingKind
from zhiyuan.errors import Conflict, InvalidValue, NotFound, ZhiyuanError
from zhiyuan.hours import Evidence
from zhiyuan.matching import CandidateKind, Dispatcher, DispatchResult, Need
from zhiyuan.matching.lifecycle import (
    Accepted,
    Completed,
    Declined,
    Expired,
    NeedCancelled,
    NeedState,
    NeedStatus,
    Offered,
    Posted,
    Rated,
    Rewarded,
    Started,
    Unfilled,
    advance,
    fold,
)
from zhiyuan.matching.needbook import NeedBook
from zhiyuan.scoring.feedback import FeedbackBook

ISSUER = "issuer:城阳"
S = NeedState


def bookings(d: Dispatcher) -> dict[str, set[str]]:
    """candidate → the needs it is booked for."""
    return {cid: {b.need_id for b in held} for cid, held in d.bookings().items()}


def points_for(book: NeedBook) -> PointsLedger:
    """The points ledger on the book's journal (made the first time)."""
    found = book.journal.books.get("points")
    return found if isinstance(found, PointsLedger) else PointsLedger(journal=book.journal)


def snapshot(book: NeedBook) -> tuple[Any, ...]:
    d = book.dispatcher
    return (
        book.entries,
        {n: book.status(n) for n in book.needs()},
        None if d is None else d.bookings(),
    )


def refused(
    book: NeedBook, call: Callable[[], object], error: type[Exception] = ZhiyuanError
) -> str:
    """Run a call that must raise ``error`` and leave the book exactly as it was; its message."""
    before = snapshot(book)
    with pytest.raises(error) as info:
        call()
    assert snapshot(book) == before
    return str(info.value)


# --- the happy path ----------------------------------------------------------------------------


def test_full_loop_posts_hours_rating_and_points() -> None:
    d = dispatcher(cand("v1", skills=["助老"]), cand("v2", SIBLING, skills=["助老"]))
    book = NeedBook(dispatcher=d)
    n = need(skills={"助老"})
    posted = book.post(n)
    assert posted == Posted(id="n1#post", at=at(1, 7), need=n) and book.state("n1") is S.POSTED

    result = d.rank(n)
    offered = book.offer_next("n1", result, at(1, 7, 5))
    assert offered == Offered(id="n1#offer#v1", at=at(1, 7, 5), need_id="n1", candidate_id="v1")
    assert book.state("n1") is S.OFFERED

    book.accept("n1", "v1", at=at(1, 7, 20))
    assert book.state("n1") is S.ACCEPTED and bookings(d) == {"v1": {"n1"}}
    clash = d.rank(need("n2", start=at(1, 10), end=at(1, 12), skills={"助老"}))
    assert [r.candidate_id for r in clash.ranked] == ["v2"]  # v1 is booked

    book.start("n1", at=at(1, 9))
    assert book.state("n1") is S.IN_SERVICE
    done = book.complete(
        "n1", at=at(1, 11, 5), evidence=Evidence.SUPERVISOR, organization_id=ORG, end=at(1, 11)
    )
    assert book.state("n1") is S.COMPLETED and bookings(d) == {}
    [record] = done.records
    assert (record.id, record.volunteer_id, record.activity_id, record.organization_id) == (
        "need:n1:v1",
        "v1",
        "n1",
        ORG,
    )
    assert (record.region_code, record.category, record.evidence) == (
        VILLAGE,
        "帮老",
        Evidence.SUPERVISOR,
    )
    assert (record.start, record.end, record.served_minutes) == (at(1, 9), at(1, 11), 120)
    assert (record.scheduled_start, record.scheduled_end) == (n.start, n.end)

    hours = hour_ledger("v1")
    assert hours.post(record, at=at(1, 12)).counted_minutes == 120
    assert hours.post(record, at=at(1, 12)).counted_minutes == 120  # posting again is a no-op

    feedback = FeedbackBook(journal=book.journal)
    rated = book.rate("n1", 5, at=at(1, 18), comment="很耐心", feedback=feedback)
    assert rated.by == "张大爷" and book.state("n1") is S.RATED
    [rating] = feedback.ratings("v1")
    assert (rating.record_id, rating.stars, rating.comment) == ("need:n1:v1", 5, "很耐心")
    assert book.ratings("n1") == (rating,)

    points = PointsLedger(journal=book.journal)
    reward = book.reward("n1", "v1", 20, at=at(2, 9), ledger=points, issuer=ISSUER)
    assert reward.posting_id == "n1#reward#v1" and book.state("n1") is S.REWARDED
    posting = points.posting(reward.posting_id)
    assert (posting.kind, posting.amount, posting.ref, posting.source) == (
        PostingKind.EARN,
        20,
        "n1",
        ISSUER,
    )
    assert points.balance(volunteer_account("v1")) == 20

    kinds = [type(e) for e in book.entries_of("n1")]
    assert kinds == [Posted, Offered, Accepted, Started, Completed, Rated, Rewarded]
    assert str(book.status("n1")) == "n1: 已奖励 / rewarded (1/1)"

    # the state as of each moment is the fold of the entries up to it
    timeline = [
        (at(1, 7), S.POSTED),
        (at(1, 7, 5), S.OFFERED),
        (at(1, 8), S.ACCEPTED),
        (at(1, 10), S.IN_SERVICE),
        (at(1, 12), S.COMPLETED),
        (at(1, 20), S.RATED),
        (at(2, 9), S.REWARDED),
    ]
    for moment, state in timeline:
        assert book.state("n1", as_of=moment) is state, moment
    with pytest.raises(NotFound):
        book.state("n1", as_of=at(1, 6))


def test_reward_may_come_before_the_rating() -> None:
    book = NeedBook()
    drive(book, S.COMPLETED)
    book.reward("n1", "a", 10, at=at(2, 9), ledger=points_for(book), issuer=ISSUER)
    assert book.state("n1") is S.REWARDED
    book.rate("n1", 4, at=at(2, 10))
    assert book.state("n1") is S.REWARDED and book.status("n1").rated is not None


# --- every transition, allowed or not ----------------------------------------------------------


def drive(book: NeedBook, to: NeedState, n: Need | None = None) -> None:
    """Bring need n1 (headcount 1, candidate "a") to ``to``; each step one hour after the last."""
    n = n or need(posted=at(1, 0), start=at(1, 9), end=at(1, 11))
    book.post(n)
    if to is S.POSTED:
        return
    book.offer("n1", "a", at=at(1, 1))
    if to is S.OFFERED:
        return
    if to is S.CANCELLED:
        book.cancel("n1", at=at(1, 2), by="admin", reason="居民取消 / withdrawn")
        return
    if to is S.UNFILLED:
        book.decline("n1", "a", at=at(1, 2))
        book.mark_unfilled("n1", at=at(1, 3))
        return
    book.accept("n1", "a", at=at(1, 2))
    if to is S.ACCEPTED:
        return
    book.start("n1", at=at(1, 9))
    if to is S.IN_SERVICE:
        return
    book.complete("n1", at=at(1, 11), evidence=Evidence.QR_SCAN, organization_id=ORG)
    if to is S.COMPLETED:
        return
    book.rate("n1", 5, at=at(1, 12))
    if to is S.RATED:
        return
    book.reward("n1", "a", 10, at=at(1, 13), ledger=points_for(book), issuer=ISSUER)
    assert to is S.REWARDED


T = at(3, 12)  # after every step of drive()

ACTIONS: dict[str, tuple[Callable[[NeedBook], object], frozenset[NeedState]]] = {
    "offer": (lambda b: b.offer("n1", "x", at=T), frozenset({S.POSTED, S.OFFERED})),
    "accept": (lambda b: b.accept("n1", "a", at=T), frozenset({S.OFFERED})),
    "decline": (lambda b: b.decline("n1", "a", at=T), frozenset({S.OFFERED, S.ACCEPTED})),
    "start": (lambda b: b.start("n1", at=T), frozenset({S.ACCEPTED})),
    "complete": (
        lambda b: b.complete("n1", at=T, evidence=Evidence.SUPERVISOR, organization_id=ORG),
        frozenset({S.IN_SERVICE}),
    ),
    "rate": (lambda b: b.rate("n1", 3, at=T), frozenset({S.COMPLETED})),
    "reward": (
        lambda b: b.reward("n1", "a", 5, at=T, ledger=points_for(b), issuer=ISSUER),
        frozenset({S.COMPLETED, S.RATED}),
    ),
    "cancel": (
        lambda b: b.cancel("n1", at=T, by="admin"),
        frozenset({S.POSTED, S.OFFERED, S.ACCEPTED}),
    ),
    "mark_unfilled": (lambda b: b.mark_unfilled("n1", at=T), frozenset({S.POSTED, S.OFFERED})),
    "post_again": (lambda b: b.post(need(category="帮困"), id="post:again"), frozenset()),
}


@pytest.mark.parametrize("action", sorted(ACTIONS))
@pytest.mark.parametrize("state", list(NeedState), ids=lambda s: s.value)
def test_every_transition(state: NeedState, action: str) -> None:
    book = NeedBook()
    drive(book, state)
    assert book.state("n1") is state
    call, allowed = ACTIONS[action]
    if state in allowed:
        call(book)
        assert book.status("n1") == fold(book.entries)["n1"]
        return
    message = refused(book, lambda: call(book), Conflict)
    assert " / " in message  # bilingual
    assert f"「{state.zh}」" in message or "open offer" in message or "already rated" in message


def test_a_refused_change_names_the_state_in_both_languages() -> None:
    book = NeedBook()
    drive(book, S.CANCELLED)
    message = refused(book, lambda: book.accept("n1", "a", at=T), Conflict)
    assert message == "需求 n1 当前为「已取消」，不能接单 / need n1 is cancelled: cannot accept"


@pytest.mark.parametrize(
    ("setup", "call", "error", "words"),
    [
        (
            S.POSTED,
            lambda b: b.complete("n1", at=T, evidence=Evidence.QR_SCAN, organization_id=ORG),
            Conflict,
            "posted",
        ),
        (S.ACCEPTED, lambda b: b.rate("n1", 5, at=T), Conflict, "accepted"),
        (S.IN_SERVICE, lambda b: b.rate("n1", 5, at=T), Conflict, "in_service"),
        (
            S.OFFERED,
            lambda b: b.accept("n1", "b", at=T),
            Conflict,
            "no open offer",
        ),  # someone else's
        (S.POSTED, lambda b: b.accept("n1", "a", at=T), Conflict, "no open offer"),
        (S.OFFERED, lambda b: b.offer("n1", "a", at=T), Conflict, "offered a need once"),
        (S.OFFERED, lambda b: b.decline("n1", "b", at=T), Conflict, "no open offer"),
        (S.IN_SERVICE, lambda b: b.decline("n1", "a", at=T), Conflict, "in_service"),
        (
            S.COMPLETED,
            lambda b: b.reward("n1", "b", 5, at=T, ledger=points_for(b), issuer=ISSUER),
            Conflict,
            "did not serve",
        ),
        (S.RATED, lambda b: b.rate("n1", 4, at=T), Conflict, "already rated"),
        (S.COMPLETED, lambda b: b.rate("n1", 0, at=T), InvalidValue, "stars"),
        (S.COMPLETED, lambda b: b.rate("n1", 6, at=T), InvalidValue, "stars"),
        (
            S.COMPLETED,
            lambda b: b.reward("n1", "a", 0, at=T, ledger=points_for(b), issuer=ISSUER),
            InvalidValue,
            "points",
        ),
        (
            S.OFFERED,
            lambda b: b.accept("n1", "a", at=at(1, 0, 30)),
            InvalidValue,
            "before the last entry",
        ),
        (
            S.OFFERED,
            lambda b: b.accept("n1", "a", at=datetime(2025, 5, 3, 12)),
            InvalidValue,
            "naive datetime",
        ),
        (S.OFFERED, lambda b: b.accept("nope", "a", at=T), NotFound, "nope"),
        (
            S.IN_SERVICE,
            lambda b: b.complete(
                "n1", at=at(1, 10), end=at(1, 11), evidence=Evidence.QR_SCAN, organization_id=ORG
            ),
            InvalidValue,
            "end",
        ),
        (
            S.IN_SERVICE,
            lambda b: b.complete(
                "n1",
                at=T,
                start=at(1, 11),
                end=at(1, 11),
                evidence=Evidence.QR_SCAN,
                organization_id=ORG,
            ),
            InvalidValue,
            "end",
        ),
        (
            S.IN_SERVICE,
            lambda b: b.complete("n1", at=T, evidence="qr", organization_id=ORG),
            InvalidValue,
            "evidence",
        ),
        (
            S.IN_SERVICE,
            lambda b: b.complete("n1", at=T, evidence=Evidence.QR_SCAN, organization_id=""),
            InvalidValue,
            "organization_id",
        ),
        (S.POSTED, lambda b: b.offer_next("n1", None, T), InvalidValue, "dispatch_result"),
        (S.POSTED, lambda b: b.cancel("n1", at=T, by=""), InvalidValue, "by"),
        (S.POSTED, lambda b: b.post(need(category="帮困")), Conflict, "cannot post"),
        (
            S.POSTED,
            lambda b: b.add(Accepted(id="n1#accept#a", at=T, need_id="n1", candidate_id="a")),
            Conflict,
            "open offer",
        ),
        (S.POSTED, lambda b: b.add("not an entry"), InvalidValue, "entry"),
    ],
)
def test_invalid_changes_raise_and_change_nothing(
    setup: NeedState, call: Callable[[NeedBook], object], error: type[Exception], words: str
) -> None:
    book = NeedBook()
    drive(book, setup)
    assert words in refused(book, lambda: call(book), error)


def test_a_used_entry_id_conflicts_only_with_another_entry() -> None:
    book = NeedBook()
    drive(book, S.ACCEPTED)
    again = book.accept("n1", "a", at=at(1, 2))  # the very same entry: a no-op
    assert again == Accepted(id="n1#accept#a", at=at(1, 2), need_id="n1", candidate_id="a")
    assert len(book) == 3
    # the same id with other values: the state's objection comes first, naming the state
    assert "accepted" in refused(book, lambda: book.accept("n1", "a", at=at(1, 5)), Conflict)
    book.post(need("n2"))
    book.offer("n2", "b", at=at(1, 7), id="mine")
    message = refused(book, lambda: book.offer("n2", "c", at=at(1, 8), id="mine"), Conflict)
    assert "already used" in message


def test_each_step_is_idempotent() -> None:
    book = NeedBook()
    drive(book, S.REWARDED)
    entries = book.entries
    drive(book, S.REWARDED)  # every call again, same ids and values
    assert book.entries == entries and len(book) == 7
    assert NeedBook(entries).status("n1") == book.status("n1")


# --- offer timeouts ----------------------------------------------------------------------------


def timed_book(*cids: str, minutes: int = 30) -> tuple[NeedBook, Dispatcher]:
    d = dispatcher(
        *(cand(c) for c in cids), offer_timeout_minutes=minutes, min_candidates=len(cids)
    )
    return NeedBook(dispatcher=d), d


def test_offer_deadline_comes_from_the_policy() -> None:
    book, _ = timed_book("a", "b")
    book.post(need())
    first = book.offer_next("n1", None, at(1, 7))
    assert first is not None and first.expires_at == at(1, 7, 30)
    plain = NeedBook()  # the default policy names no timeout: offers never lapse
    plain.post(need())
    assert plain.offer("n1", "a", at=at(1, 7)).expires_at is None


def test_an_offer_past_its_deadline_cannot_be_answered() -> None:
    book, _ = timed_book("a", "b")
    book.post(need())
    book.offer_next("n1", None, at(1, 7))
    assert "lapsed" in refused(book, lambda: book.accept("n1", "a", at=at(1, 7, 30)), Conflict)
    assert "lapsed" in refused(book, lambda: book.decline("n1", "a", at=at(1, 8)), Conflict)
    book.accept("n1", "a", at=at(1, 7, 29))
    assert book.state("n1") is S.ACCEPTED


def test_timeouts_move_to_the_next_candidate_until_nobody_is_left() -> None:
    book, d = timed_book("a", "b", "c")
    book.post(need())
    assert [r.candidate_id for r in d.rank(need()).ranked] == ["a", "b", "c"]
    book.offer_next("n1", None, at(1, 7))
    assert book.expire_offers(at(1, 7, 29)) == []  # not yet
    new = book.expire_offers(at(1, 7, 30))
    assert [(type(e).__name__, getattr(e, "candidate_id", None)) for e in new] == [
        ("Expired", "a"),
        ("Offered", "b"),
    ]
    assert book.expire_offers(at(1, 7, 30)) == []  # idempotent
    assert book.state("n1") is S.OFFERED
    book.decline("n1", "b", at=at(1, 7, 40))
    assert book.state("n1") is S.POSTED
    book.offer_next("n1", None, at(1, 7, 41))
    new = book.expire_offers(at(1, 9), mark_unfilled=True)
    assert [type(e) for e in new] == [Expired, Unfilled]
    status = book.status("n1")
    assert status.state is S.UNFILLED
    assert (status.expired, status.declined, status.offered) == (
        ("a", "c"),
        ("b",),
        ("a", "b", "c"),
    )


def test_timeouts_use_given_results_without_a_dispatcher() -> None:
    d = dispatcher(cand("a"), cand("b"), min_candidates=2)
    book = NeedBook(policy=d.policy.__class__(offer_timeout_minutes=10))
    n = need()
    book.post(n)
    result = d.rank(n)
    book.offer_next("n1", result, at(1, 7))
    assert [type(e) for e in book.expire_offers(at(1, 8))] == [Expired]  # no ranking to go on
    assert book.state("n1") is S.POSTED
    book.offer_next("n1", result, at(1, 8))
    new = book.expire_offers(at(1, 9), {"n1": result}, mark_unfilled=True)
    assert [type(e) for e in new] == [Expired, Unfilled]


def test_expiry_refuses_to_go_back_in_time() -> None:
    book, _ = timed_book("a", "b")
    book.post(need())
    book.offer_next("n1", None, at(1, 7))
    book.offer("n1", "b", at=at(1, 7, 50))
    assert "as_of" in refused(book, lambda: book.expire_offers(at(1, 7, 40)), InvalidValue)


def test_expire_checks_the_results_before_changing_anything() -> None:
    d = dispatcher(cand("a"), offer_timeout_minutes=10)
    book = NeedBook(dispatcher=d)
    book.post(need())
    book.post(need("n2"))
    book.offer_next("n1", None, at(1, 7))
    other: DispatchResult = d.rank(need("n2"))
    refused(book, lambda: book.expire_offers(at(1, 8), {"n1": other}), InvalidValue)


def test_expired_entries_must_be_due() -> None:
    book = NeedBook(policy=dispatcher(offer_timeout_minutes=30).policy)
    book.post(need())
    book.offer("n1", "a", at=at(1, 7))
    early = Expired(id="e", at=at(1, 7, 10), need_id="n1", candidate_id="a")
    assert "not lapsed" in refused(book, lambda: book.add(early), Conflict)
    book.add(Expired(id="e", at=at(1, 7, 30), need_id="n1", candidate_id="a"))
    never = NeedBook()
    never.post(need())
    never.offer("n1", "a", at=at(1, 7))
    refused(
        never,
        lambda: never.add(Expired(id="e", at=at(9, 0), need_id="n1", candidate_id="a")),
        Conflict,
    )


# --- headcount ---------------------------------------------------------------------------------


def test_headcount_two() -> None:
    d = dispatcher(
        cand("a"), cand("b"), cand("c"), cand("t", kind=CandidateKind.TEAM), min_candidates=4
    )
    book = NeedBook(dispatcher=d)
    n = need(headcount=2)
    book.post(n)
    assert [
        o.candidate_id
        for o in (book.offer_next("n1", None, at(1, 7)), book.offer_next("n1", None, at(1, 7)))
    ] == ["a", "b"]  # type: ignore[union-attr]
    assert "open offer" in refused(book, lambda: book.offer_next("n1", None, at(1, 7)), Conflict)

    book.accept("n1", "a", at=at(1, 7, 10))
    status = book.status("n1")
    assert status.state is S.OFFERED and not status.filled and status.filled_at is None
    book.decline("n1", "b", at=at(1, 7, 20))
    assert book.state("n1") is S.POSTED and book.status("n1").vacancies == 1
    assert book.offer_next("n1", None, at(1, 7, 21)).candidate_id == "c"  # type: ignore[union-attr]
    book.accept("n1", "c", at=at(1, 7, 30))
    status = book.status("n1")
    assert status.state is S.ACCEPTED and status.filled_at == at(1, 7, 30)
    assert status.accepted == ("a", "c") and bookings(d) == {"a": {"n1"}, "c": {"n1"}}

    book.start("n1", at=at(1, 9))
    done = book.complete("n1", at=at(1, 11), evidence=Evidence.QR_SCAN, organization_id=ORG)
    assert [r.volunteer_id for r in done.records] == ["a", "c"] and done.served == ("a", "c")
    hours = hour_ledger("a", "c")
    assert [hours.post(r, at=at(1, 12)).counted_minutes for r in done.records] == [120, 120]

    points = PointsLedger(journal=book.journal)
    book.reward("n1", "a", 10, at=at(1, 12), ledger=points, issuer=ISSUER)
    assert book.state("n1") is S.COMPLETED  # c not yet rewarded
    assert "already rewarded" in refused(
        book,
        lambda: book.reward("n1", "a", 11, at=at(1, 13), ledger=points, issuer=ISSUER),
        Conflict,
    )
    assert len(points) == 1  # nothing posted for the refused reward
    book.reward("n1", "c", 10, at=at(1, 12), ledger=points, issuer=ISSUER)
    assert book.state("n1") is S.REWARDED
    assert len(points) == 2


def test_a_team_serves_without_a_service_record() -> None:
    d = dispatcher(cand("v"), cand("t", kind=CandidateKind.TEAM), min_candidates=2)
    book = NeedBook(dispatcher=d)
    book.post(need(headcount=2))
    for cid in ("t", "v"):
        book.offer("n1", cid, at=at(1, 7))
    for cid in ("t", "v"):
        book.accept("n1", cid, at=at(1, 8))
    assert book.status("n1").offer_to("t").kind is CandidateKind.TEAM  # type: ignore[union-attr]
    book.start("n1", at=at(1, 9))
    done = book.complete("n1", at=at(1, 11), evidence=Evidence.SUPERVISOR, organization_id=ORG)
    assert done.served == ("t", "v") and [r.volunteer_id for r in done.records] == ["v"]
    feedback = FeedbackBook(journal=book.journal)
    book.rate("n1", 4, at=at(1, 12), feedback=feedback)
    assert [r.volunteer_id for r in feedback.ratings()] == ["v"]


def test_a_withdrawal_reopens_the_place() -> None:
    d = dispatcher(cand("a"), cand("b"), min_candidates=2)
    book = NeedBook(dispatcher=d)
    book.post(need())
    book.offer_next("n1", None, at(1, 7))
    book.accept("n1", "a", at=at(1, 7, 5))
    assert book.status("n1").filled_at == at(1, 7, 5)
    book.decline("n1", "a", at=at(1, 8), reason="临时有事 / something came up")
    status = book.status("n1")
    assert status.state is S.POSTED and status.withdrawn == ("a",) and status.filled_at is None
    assert bookings(d) == {}
    assert book.offer_next("n1", None, at(1, 8)).candidate_id == "b"  # type: ignore[union-attr]
    assert "open offer" in refused(book, lambda: book.accept("n1", "a", at=at(1, 8, 1)), Conflict)
    assert status.first_accepted_at == at(1, 7, 5)


# --- the dispatcher's bookings and gates -------------------------------------------------------


@pytest.mark.parametrize("ending", ["cancel", "complete", "unfilled"])
def test_bookings_are_released_when_a_need_ends(ending: str) -> None:
    d = dispatcher(cand("a"), cand("b"), min_candidates=2)
    book = NeedBook(dispatcher=d)
    book.post(need(headcount=2))
    book.offer("n1", "a", at=at(1, 7))
    book.offer("n1", "b", at=at(1, 7))
    book.accept("n1", "a", at=at(1, 8))
    if ending == "unfilled":
        book.decline("n1", "b", at=at(1, 8))
        book.mark_unfilled("n1", at=at(1, 8))
    else:
        book.accept("n1", "b", at=at(1, 8))
        assert bookings(d) == {"a": {"n1"}, "b": {"n1"}}
        if ending == "cancel":
            book.cancel("n1", at=at(1, 8), by="张大爷")
        else:
            book.start("n1", at=at(1, 9))
            book.complete("n1", at=at(1, 11), evidence=Evidence.QR_SCAN, organization_id=ORG)
    assert bookings(d) == {}


def test_capacity_holds_across_needs() -> None:
    d = dispatcher(cand("a", capacity=1), cand("b"), min_candidates=2)
    book = NeedBook(dispatcher=d)
    book.post(need("n1"))
    book.post(need("n2", start=at(2, 9), end=at(2, 11)))
    book.offer("n1", "a", at=at(1, 7))
    book.offer("n2", "a", at=at(1, 7))  # offered both while free
    book.accept("n1", "a", at=at(1, 8))
    message = refused(book, lambda: book.accept("n2", "a", at=at(1, 8)), Conflict)
    assert "at capacity" in message and "任务已满" in message
    book.post(need("n3", start=at(3, 9), end=at(3, 11)))
    assert "at capacity" in refused(book, lambda: book.offer("n3", "a", at=at(1, 9)), Conflict)
    assert book.offer_next("n3", None, at(1, 9)).candidate_id == "b"  # type: ignore[union-attr]


def test_an_overlapping_need_cannot_be_offered_to_a_booked_candidate() -> None:
    d = dispatcher(cand("a", capacity=3))
    book = NeedBook(dispatcher=d)
    book.post(need("n1"))
    book.post(need("n2", start=at(1, 10), end=at(1, 12)))
    book.offer("n1", "a", at=at(1, 7))
    book.accept("n1", "a", at=at(1, 7))
    assert "overlapping" in refused(book, lambda: book.offer("n2", "a", at=at(1, 8)), Conflict)
    assert (
        book.offer_next("n2", d.rank(need("n2", start=at(1, 10), end=at(1, 12))), at(1, 8)) is None
    )


def test_offer_next_passes_over_stale_candidates() -> None:
    d = dispatcher(cand("a", capacity=1), cand("b"), min_candidates=2)
    book = NeedBook(dispatcher=d)
    n1, n2 = need("n1"), need("n2", start=at(2, 9), end=at(2, 11))
    book.post(n1)
    book.post(n2)
    stale = d.rank(n2)  # a first
    book.offer("n1", "a", at=at(1, 7))
    book.accept("n1", "a", at=at(1, 7))
    assert book.offer_next("n2", stale, at(1, 8)).candidate_id == "b"  # type: ignore[union-attr]


def test_with_a_dispatcher_candidates_and_regions_must_be_known() -> None:
    d = dispatcher(cand("a"))
    book = NeedBook(dispatcher=d)
    refused(book, lambda: book.post(need(region="370214001999")), NotFound)
    book.post(need())
    refused(book, lambda: book.offer("n1", "ghost", at=at(1, 8)), NotFound)
    team = Offered(id="o", at=at(1, 8), need_id="n1", candidate_id="a", kind=CandidateKind.TEAM)
    assert "kind" in refused(book, lambda: book.add(team), InvalidValue)
    book.post(need("n2", skills={"法律"}))
    assert "missing skills" in refused(book, lambda: book.offer("n2", "a", at=at(1, 8)), Conflict)


# --- entries, fold, replay ---------------------------------------------------------------------


def test_entries_are_frozen_and_validated() -> None:
    with pytest.raises(InvalidValue, match="at"):
        Started(id="s", at=datetime(2025, 5, 1, 9), need_id="n1")  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="expires_at"):
        Offered(id="o", at=at(1, 9), need_id="n1", candidate_id="a", expires_at=at(1, 9))
    with pytest.raises(InvalidValue, match="need"):
        Posted(id="p", at=at(1, 9), need="n1")  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="id"):
        NeedCancelled(id="", at=at(1, 9), need_id="n1", by="x")
    # an enum's value converts to its member (one converter, to_enum); anything else is refused
    team = Offered(id="o", at=at(1, 9), need_id="n1", candidate_id="a", kind="team")  # type: ignore[arg-type]
    assert team.kind is CandidateKind.TEAM
    with pytest.raises(InvalidValue, match="kind"):
        Offered(id="o", at=at(1, 9), need_id="n1", candidate_id="a", kind="crew")  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="records"):
        Completed(
            id="c",
            at=at(1, 11),
            need_id="n1",
            served=("a",),
            start=at(1, 9),
            end=at(1, 11),
            evidence=Evidence.GPS,
            organization_id=ORG,
            records=["r"],
        )  # type: ignore[list-item]
    e = Rated(id="r", at=at(1, 9), need_id="n1", stars=5, by="x")
    with pytest.raises(AttributeError):
        e.stars = 1  # type: ignore[misc]
    assert Unfilled(id="u", at=at(1, 1), need_id="n1").reason == ""
    assert Declined(id="d", at=at(1, 1), need_id="n1", candidate_id="a").reason == ""


def test_fold_checks_the_entries_it_replays() -> None:
    with pytest.raises(NotFound):
        fold([Started(id="s", at=at(1, 9), need_id="n1")])
    status = advance(None, Posted(id="p", at=at(1, 9), need=need()))
    with pytest.raises(Conflict, match="posted"):
        advance(status, Posted(id="q", at=at(1, 9), need=need()))
    with pytest.raises(InvalidValue, match="need_id"):
        advance(status, Started(id="s", at=at(1, 9), need_id="n2"))
    with pytest.raises(InvalidValue, match="served"):
        book = NeedBook()
        drive(book, S.IN_SERVICE)
        book.add(
            Completed(
                id="c",
                at=at(1, 11),
                need_id="n1",
                served=("zz",),
                start=at(1, 9),
                end=at(1, 11),
                evidence=Evidence.GPS,
                organization_id=ORG,
            )
        )
    with pytest.raises(InvalidValue):
        fold([], as_of=datetime(2025, 5, 1))
    assert fold([]) == {}


def test_replay_gives_the_same_states_and_bookings() -> None:
    d = dispatcher(cand("a"), cand("b"), min_candidates=2)
    book = NeedBook(dispatcher=d)
    drive(book, S.ACCEPTED)
    book.post(need("n2", start=at(2, 9), end=at(2, 11)))
    book.offer("n2", "b", at=at(1, 8))
    book.accept("n2", "b", at=at(1, 8))
    d2 = dispatcher(cand("a"), cand("b"), min_candidates=2)
    again = NeedBook(book.entries, dispatcher=d2)
    assert {n: again.status(n) for n in again.needs()} == {n: book.status(n) for n in book.needs()}
    assert bookings(d2) == bookings(d) == {"a": {"n1"}, "b": {"n2"}}
    assert list(again) == list(book.entries)


def test_as_of_must_be_aware() -> None:
    book = NeedBook()
    drive(book, S.POSTED)
    with pytest.raises(InvalidValue):
        book.state("n1", as_of=datetime(2025, 5, 2))
    with pytest.raises(NotFound):
        book.status("nope")


def test_status_helpers() -> None:
    book = NeedBook()
    drive(book, S.OFFERED)
    status = book.status("n1")
    assert isinstance(status, NeedStatus) and status.need_id == "n1"
    assert status.offered == ("a",) and status.open == ("a",) and status.vacancies == 0
    assert status.offer_to("zz") is None and status.served == ()
    assert [s.zh for s in NeedState] == [
        "待派单",
        "已派单",
        "已接单",
        "服务中",
        "已完成",
        "已评价",
        "已奖励",
        "已取消",
        "无人接单",
    ]
    assert book.ratings("n1") == ()


# --- thread safety -----------------------------------------------------------------------------


def test_concurrent_acceptances_never_exceed_the_headcount() -> None:
    d = dispatcher(*(cand(f"c{i}") for i in range(12)), min_candidates=12)
    book = NeedBook(dispatcher=d)
    book.post(need(headcount=3))
    for i in range(12):
        book.offer("n1", f"c{i}", at=at(1, 7))
    won: list[str] = []
    lost: list[str] = []
    barrier = threading.Barrier(12)

    def take(cid: str) -> None:
        barrier.wait()
        try:
            book.accept("n1", cid, at=at(1, 8))
            won.append(cid)
        except Conflict:
            lost.append(cid)

    threads = [threading.Thread(target=take, args=(f"c{i}",)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 3 and len(lost) == 9
    assert set(book.status("n1").accepted) == set(won)
    assert set(bookings(d)) == set(won)


# --- random operation sequences ----------------------------------------------------------------

NEEDS = [
    need("n0", headcount=1, start=at(1, 9), end=at(1, 11), posted=at(1, 0)),
    need("n1", headcount=2, start=at(1, 10), end=at(1, 12), posted=at(1, 0)),  # overlaps n0
    need("n2", headcount=2, start=at(2, 9), end=at(2, 11), posted=at(1, 0)),
    need("n3", headcount=1, start=at(2, 10), end=at(2, 12), posted=at(1, 0)),  # overlaps n2
]
CAPACITY = {"c0": 1, "c1": 2, "c2": 1, "c3": 2}
OPS = [  # weighted: the steps that move a need forward come more often than those that end it
    *["step"] * 8,  # the natural next step of a need, whatever its state
    *["offer", "offer_next", "accept"] * 3,
    *["decline", "start", "complete", "rate", "reward"] * 2,
    *["expire", "cancel", "unfilled", "repeat"],
]
ACTIVE = frozenset({S.POSTED, S.OFFERED, S.ACCEPTED, S.IN_SERVICE})
OPEN = frozenset({S.POSTED, S.OFFERED})
BEFORE_START = frozenset({S.POSTED, S.OFFERED, S.ACCEPTED})

operations = st.lists(
    st.tuples(
        st.sampled_from(OPS),
        st.integers(0, len(NEEDS) - 1),
        st.integers(0, 15),  # which candidate: mostly one the operation suits, sometimes any
        st.sampled_from([0, 0, 1, 5, 15, 30, 90]),  # minutes to wait before the operation
        st.sampled_from([0, 1, 3, 4, 5, 5, 6]),  # stars (0 and 6 are invalid)
    ),
    min_size=10,
    max_size=60,
)


def choose(book: NeedBook, op: str, k: int, who: int) -> tuple[str, str]:
    """The need and candidate an operation acts on. Mostly (``who`` < 12) a need where the
    operation can apply and a candidate it suits (one holding an open offer to accept, a place to
    withdraw, a served task to reward), searching from need ``k``; otherwise need ``k`` and any
    candidate, which is often an invalid choice."""
    nids = book.needs()
    everyone = sorted(CAPACITY)
    fallback = (nids[k], everyone[who % len(everyone)])
    if op == "step":
        return nids[k], everyone[who % len(everyone)]
    if who >= 12 or op == "expire":
        return fallback
    if op in ("cancel", "unfilled"):  # mostly aimed where they are refused, so needs live on
        allowed = BEFORE_START if op == "cancel" else OPEN
        for nid in (*nids[k:], *nids[:k]):
            if book.state(nid) not in allowed:
                return nid, everyone[0]
        return fallback if who < 3 else (nids[k], "-")
    for nid in (*nids[k:], *nids[:k]):
        status = book.status(nid)
        state = status.state
        rewarded = {r.candidate_id for r in status.rewarded}
        suited: tuple[str, ...] = {
            "offer": tuple(c for c in everyone if c not in status.offered) if state in OPEN else (),
            "offer_next": ("-",) if state in OPEN and status.vacancies else (),
            "accept": status.open,  # also leftover offers of filled or ended needs (refused)
            "decline": (*status.open, *status.accepted),
            "start": ("-",) if state is S.ACCEPTED else (),
            "complete": ("-",) if state is S.IN_SERVICE else (),
            "rate": ("-",) if state in (S.COMPLETED, S.REWARDED) and status.rated is None else (),
            "reward": tuple(c for c in status.served if c not in rewarded),
        }[op]
        if suited:
            return nid, suited[who % len(suited)] if suited[0] != "-" else everyone[0]
    return fallback


@settings(max_examples=200)
@given(ops=operations, timeout=st.none() | st.sampled_from([20, 60]))
def test_random_operations_keep_every_invariant(
    ops: list[tuple[str, int, str, int, int]], timeout: int | None
) -> None:
    d = dispatcher(
        *(cand(c, capacity=k) for c, k in CAPACITY.items()),
        offer_timeout_minutes=timeout,
        min_candidates=4,
    )
    book = NeedBook(dispatcher=d)
    points = PointsLedger(journal=book.journal)
    for n in NEEDS:
        book.post(n)
    now = at(1, 0)
    last: tuple[str, str, str, datetime, int] | None = None
    for op, k, who, wait, stars in ops:
        now += timedelta(minutes=wait)
        args = last if op == "repeat" else (op, *choose(book, op, k, who), now, stars)
        if args is None or args[2] == "-":
            continue
        before, postings = snapshot(book), len(points)
        try:
            perform(book, points, *args)
        except ZhiyuanError:
            assert snapshot(book) == before  # a refused operation changes nothing
            assert len(points) == postings
        else:
            last = args
        check_invariants(book, d)

    # a replay of the entries on a fresh dispatcher gives the same states and bookings
    d2 = dispatcher(
        *(cand(c, capacity=k) for c, k in CAPACITY.items()),
        offer_timeout_minutes=timeout,
        min_candidates=4,
    )
    again = NeedBook(book.entries, dispatcher=d2)
    assert {n: again.status(n) for n in again.needs()} == {n: book.status(n) for n in book.needs()}
    assert bookings(d2) == bookings(d)


NEXT = {
    S.POSTED: "offer_next",
    S.OFFERED: "accept",
    S.ACCEPTED: "start",
    S.IN_SERVICE: "complete",
    S.COMPLETED: "rate",
    S.RATED: "reward",
}


def perform(
    book: NeedBook, points: PointsLedger, op: str, nid: str, cid: str, t: datetime, stars: int
) -> object:
    if op == "step":
        status = book.status(nid)
        op = NEXT.get(status.state, "reward")
        if op == "accept" and status.open:
            cid = status.open[0]
        if op == "reward" and status.served:
            cid = next(
                (c for c in status.served if c not in {r.candidate_id for r in status.rewarded}),
                cid,
            )
    if op == "offer":
        return book.offer(nid, cid, at=t)
    if op == "offer_next":
        return book.offer_next(nid, None, t)
    if op == "accept":
        return book.accept(nid, cid, at=t)
    if op == "decline":
        return book.decline(nid, cid, at=t)
    if op == "expire":
        return book.expire_offers(t, mark_unfilled=True)
    if op == "start":
        return book.start(nid, at=t)
    if op == "complete":
        return book.complete(nid, at=t, evidence=Evidence.QR_SCAN, organization_id=ORG)
    if op == "rate":
        return book.rate(nid, stars, at=t)
    if op == "reward":
        return book.reward(nid, cid, 5, at=t, ledger=points, issuer=ISSUER)
    if op == "cancel":
        return book.cancel(nid, at=t, by="admin")
    assert op == "unfilled"
    return book.mark_unfilled(nid, at=t)


def check_invariants(book: NeedBook, d: Dispatcher) -> None:
    folded = fold(book.entries)
    assert set(folded) == set(book.needs())
    held: dict[str, list[Need]] = {c: [] for c in CAPACITY}
    for nid in book.needs():
        status = book.status(nid)
        assert status == folded[nid]  # the state is the fold of the entries
        assert book.state(nid, as_of=status.last_at) is status.state
        assert len(status.accepted) <= status.need.headcount
        assert len(set(status.accepted)) == len(status.accepted)  # nobody accepted twice
        assert len(set(status.offered)) == len(status.offered)
        assert not set(status.accepted) & set(status.withdrawn)
        assert set(status.open) <= set(status.offered)
        if status.state in ACTIVE:
            for cid in status.accepted:
                held[cid].append(status.need)
        if status.started_at is not None:  # only a filled need goes into service
            assert status.filled and status.cancelled is None and status.unfilled is None
        if status.completed is not None:
            assert {r.volunteer_id for r in status.completed.records} == set(
                status.completed.served
            )
    booked = bookings(d)
    for cid, needs in held.items():
        assert {n.id for n in needs} == booked.get(cid, set())  # bookings in step with the book
        assert len(needs) <= CAPACITY[cid]  # never over capacity
        for i, a in enumerate(needs):  # never double-booked
            for b in needs[i + 1 :]:
                assert not (a.start < b.end and b.start < a.end)


# --- random operation sequences with junk arguments (issue 14) ---------------------------------

OTHER = "@other journal"
"""Stands for a points ledger or feedback book on another journal (made per example)."""

JUNK: list[object] = [
    None,
    True,
    0,
    -1,
    2.5,
    10**30,
    "",
    " ",
    "\ud800",  # a lone surrogate: cannot be written to the journal as UTF-8
    "a#b",  # '#' is kept for the ids the library makes
    "ghost",
    [],
    ["n0"],
    {"n0": 1},
    b"n0",
    object(),
    datetime(2025, 5, 1, 9),  # naive
    datetime(2300, 1, 1, tzinfo=at(1).tzinfo),  # beyond the calendar's range
    "2025-05-01T09:00:00+08:00",  # a moment as text
    Evidence.GPS,
    CandidateKind.TEAM,
    OTHER,
]

junk_operations = st.lists(
    st.tuples(
        st.sampled_from([*OPS, "post"]),
        st.integers(0, len(NEEDS) - 1),
        st.integers(0, 15),
        st.sampled_from([0, 0, 1, 5, 15, 30, 90]),
        st.sampled_from([1, 3, 5]),
        # one argument spoiled by junk in about a third of the operations: which, and with what
        st.none() | st.none() | st.tuples(st.integers(0, 9), st.sampled_from(JUNK)),
    ),
    min_size=10,
    max_size=60,
)


def junk_call(
    book: NeedBook,
    points: PointsLedger,
    feedback: FeedbackBook,
    op: str,
    nid: str,
    cid: str,
    t: datetime,
    stars: int,
) -> tuple[Callable[..., object], list[Any], dict[str, Any]]:
    """The book method an operation calls, with every argument it takes spelled out (the
    optional ones at their defaults or a valid value), so that any of them can be spoiled."""
    if op == "step":
        status = book.status(nid)
        op = NEXT.get(status.state, "reward")
        if op == "accept" and status.open:
            cid = status.open[0]
        if op == "reward" and status.served:
            done = {r.candidate_id for r in status.rewarded}
            cid = next((c for c in status.served if c not in done), cid)
    calls: dict[str, tuple[Callable[..., object], list[Any], dict[str, Any]]] = {
        "post": (book.post, [NEEDS[int(nid[1:])]], {"at": None, "id": None}),
        "offer": (book.offer, [nid, cid], {"at": t, "kind": None, "id": None}),
        "offer_next": (book.offer_next, [nid, None, t], {}),
        "accept": (book.accept, [nid, cid], {"at": t, "id": None}),
        "decline": (book.decline, [nid, cid], {"at": t, "reason": "busy", "id": None}),
        "expire": (book.expire_offers, [t, None], {"mark_unfilled": True}),
        "start": (book.start, [nid], {"at": t, "id": None}),
        "complete": (
            book.complete,
            [nid],
            {"at": t, "evidence": Evidence.QR_SCAN, "organization_id": ORG, "id": None},
        ),
        "rate": (
            book.rate,
            [nid, stars],
            {"at": t, "by": None, "comment": "好", "feedback": feedback, "id": None},
        ),
        "reward": (
            book.reward,
            [nid, cid, 5],
            {"at": t, "ledger": points, "issuer": ISSUER, "posting_id": None, "id": None},
        ),
        "cancel": (book.cancel, [nid], {"at": t, "by": "admin", "reason": "", "id": None}),
        "unfilled": (book.mark_unfilled, [nid], {"at": t, "reason": "", "id": None}),
    }
    return calls[op]


def spoil(
    call: tuple[Callable[..., object], list[Any], dict[str, Any]],
    which: int,
    junk: object,
    other: tuple[PointsLedger, FeedbackBook],
) -> tuple[Callable[..., object], list[Any], dict[str, Any]]:
    """The call with its ``which``-th argument (counting positional, then keyword) replaced."""
    method, args, kwargs = call
    names = [*range(len(args)), *kwargs]
    slot = names[which % len(names)]
    if junk == OTHER and isinstance(junk, str):
        junk = other[0] if slot == "ledger" else other[1]
    if isinstance(slot, int):
        return method, [*args[:slot], junk, *args[slot + 1 :]], kwargs
    return method, args, {**kwargs, slot: junk}


def observed(book: NeedBook, points: PointsLedger, feedback: FeedbackBook) -> tuple[Any, ...]:
    """Everything a refusal must leave as it was: the journal's head (sequence and digest), the
    need book (entries, states, the dispatcher's bookings), the points and the ratings."""
    return (book.journal.head, snapshot(book), points.entries, feedback.entries)


@settings(max_examples=200)
@given(ops=junk_operations, timeout=st.none() | st.sampled_from([20, 60]))
def test_junk_arguments_raise_zhiyuan_errors_and_change_nothing(
    ops: list[tuple[str, int, str, int, int, tuple[int, object] | None]], timeout: int | None
) -> None:
    clock = [at(1, 0)]  # the journal's "now" (for at=None), moved on by the test
    d = dispatcher(
        *(cand(c, capacity=k) for c, k in CAPACITY.items()),
        offer_timeout_minutes=timeout,
        min_candidates=4,
    )
    book = NeedBook(dispatcher=d, clock=lambda: clock[0])
    points = PointsLedger(journal=book.journal)
    feedback = FeedbackBook(journal=book.journal)
    elsewhere = NeedBook()
    other = (PointsLedger(journal=elsewhere.journal), FeedbackBook(journal=elsewhere.journal))
    for n in NEEDS:
        book.post(n)
    last: tuple[Callable[..., object], list[Any], dict[str, Any]] | None = None
    for op, k, who, wait, stars, junk in ops:
        clock[0] += timedelta(minutes=wait)
        if op == "repeat":  # the last call again, spoiled or not
            if last is None:
                continue
            call = last
        else:
            nid, cid = (f"n{k}", "c0") if op == "post" else choose(book, op, k, who)
            if cid == "-":
                continue
            call = junk_call(book, points, feedback, op, nid, cid, clock[0], stars)
        if junk is not None:
            call = spoil(call, junk[0], junk[1], other)
        method, args, kwargs = last = call
        before = observed(book, points, feedback)
        try:
            method(*args, **kwargs)
        except ZhiyuanError:  # anything else escapes and fails the test
            assert observed(book, points, feedback) == before
        check_invariants(book, d)
    assert book.journal.verify(decode=True).ok  # every record reads back as it was written
    again = NeedBook(book.entries)
    assert {n: again.status(n) for n in again.needs()} == {n: book.status(n) for n in book.needs()}


def _served_book() -> tuple[NeedBook, PointsLedger, FeedbackBook]:
    """n1 served by a and completed; n2 posted."""
    book = NeedBook(dispatcher=dispatcher(cand("a"), cand("b")))
    points, feedback = PointsLedger(journal=book.journal), FeedbackBook(journal=book.journal)
    book.post(need())
    book.post(need("n2", start=at(2, 9), end=at(2, 11)))
    book.offer("n1", "a", at=at(1, 7))
    book.accept("n1", "a", at=at(1, 8))
    book.start("n1", at=at(1, 9))
    book.complete("n1", at=at(1, 11), evidence=Evidence.QR_SCAN, organization_id=ORG)
    return book, points, feedback


JUNK_CALLS: list[tuple[str, Callable[[NeedBook, PointsLedger, FeedbackBook], object], str]] = [
    ("offer None", lambda b, p, f: b.offer(None, "a", at=at(1, 8)), "need_id"),  # AttributeError
    ("offer list", lambda b, p, f: b.offer(["n2"], "a", at=at(1, 8)), "need_id"),
    (
        "offer kind",
        lambda b, p, f: b.offer("n2", "a", at=at(1, 8), kind=""),
        "kind",
    ),  # was a volunteer
    ("offer_next", lambda b, p, f: b.offer_next(["n2"], None, at(1, 8)), "need_id"),  # unhashable
    ("status", lambda b, p, f: b.status({}), "need_id"),
    ("entries_of", lambda b, p, f: b.entries_of(["n1"]), "need_id"),
    ("decline reason", lambda b, p, f: b.decline("n2", "a", at=at(1, 8), reason=None), "reason"),
    ("expire results", lambda b, p, f: b.expire_offers(at(1, 12), 5), "results"),
    (
        "expire flag",
        lambda b, p, f: b.expire_offers(at(1, 12), mark_unfilled="yes"),
        "mark_unfilled",
    ),
    ("complete", lambda b, p, f: b.complete("n2", evidence="fax", organization_id=ORG), "evidence"),
    ("rate by", lambda b, p, f: b.rate("n1", 5, at=at(1, 12), by=0), "by"),  # was the requester
    ("rate comment", lambda b, p, f: b.rate("n1", 5, at=at(1, 12), comment="\ud800"), "comment"),
    ("rate feedback", lambda b, p, f: b.rate("n1", 5, at=at(1, 12), feedback=p), "feedback"),
    ("rate stars", lambda b, p, f: b.rate("n1", 4.5, at=at(1, 12), feedback=f), "stars"),
    (
        "reward ledger",
        lambda b, p, f: b.reward("n1", "a", 5, at=at(1, 12), ledger=f, issuer=ISSUER),  # type: ignore[arg-type]
        "ledger",
    ),
    (
        "reward points",
        lambda b, p, f: b.reward("n1", "a", "5", at=at(1, 12), ledger=p, issuer=ISSUER),
        "points",
    ),
    ("cancel by", lambda b, p, f: b.cancel("n2", at=at(1, 12), by=None), "by"),
    ("unfilled", lambda b, p, f: b.mark_unfilled("n2", at=at(1, 12), reason=[]), "reason"),
]


@pytest.mark.parametrize(("call", "field"), [pytest.param(c, f, id=i) for i, c, f in JUNK_CALLS])
def test_junk_arguments_are_refused_naming_them(
    call: Callable[[NeedBook, PointsLedger, FeedbackBook], object], field: str
) -> None:
    book, points, feedback = _served_book()
    before = observed(book, points, feedback)
    with pytest.raises(InvalidValue) as err:
        call(book, points, feedback)
    assert err.value.field == field
    assert observed(book, points, feedback) == before


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"dispatcher": "d"}, "dispatcher"),
        ({"policy": {}}, "policy"),
        ({"entries": None}, "entries"),
        ({"entries": "n1"}, "entries"),
    ],
)
def test_a_book_refuses_junk_when_made(kw: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidValue) as err:
        NeedBook(**kw)
    assert err.value.field == field


def test_fold_and_advance_refuse_what_is_not_an_entry_or_a_status() -> None:
    book, _, _ = _served_book()
    with pytest.raises(InvalidValue, match="entries"):
        fold([*book.entries, None])  # type: ignore[list-item]
    with pytest.raises(InvalidValue, match="entries"):
        fold(None)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="status"):
        advance("posted", book.entries[1])  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="as_of"):
        fold(book.entries, as_of="2025-05-01")  # type: ignore[arg-type]
