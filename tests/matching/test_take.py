"""Taking an order (抢单, issue 12 items 3 and 4): the :class:`Taken` entry, its rules in the fold,
:meth:`NeedBook.take` under the policy flag, the dispatcher's gates and bookings, completion of
volunteers and teams who took a need, 城阳's order end to end, persistence, and random sequences
of takes, offers and answers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from support.matching import ORG, SIBLING, at, cand, dispatcher, need
from zhiyuan.convert import from_json, to_json
from zhiyuan.credit.accounts import volunteer_account
from zhiyuan.credit.ledger import PointsLedger
from zhiyuan.errors import Conflict, InvalidValue, NotFound, PermissionDenied, ZhiyuanError
from zhiyuan.hours import Evidence
from zhiyuan.matching import (
    CandidateKind,
    Dispatcher,
    DispatchPolicy,
    NeedEntry,
    NeedState,
    Taken,
    advance,
    fold_needs,
    matching_metrics,
)
from zhiyuan.matching.lifecycle import Accepted, Declined, Offered, Posted
from zhiyuan.matching.needbook import NeedBook
from zhiyuan.profiles import Source
from zhiyuan.scoring.feedback import FeedbackBook
from zhiyuan.store import open_journal

S = NeedState
CHENGYANG = DispatchPolicy(
    name="chengyang",
    allow_taking=True,
    source=Source(
        document="城阳 文明实践积分平台「滴滴大厅」：百姓点单 → 志愿者接单 → 中心派单",
        issuer="山东新闻联播",
        region_code="370214",
        url="http://v.iqilu.com/sdws/sdxwlb/2021/0618/4921594.html",
    ),
)
"""城阳's policy: volunteers and teams take orders from the hall (POLICIES.md §4.1)."""
TEAM = "城阳街道助老服务队"


def city(*extra: Any, policy: DispatchPolicy = CHENGYANG) -> Dispatcher:
    """v1, v2 in 东果园社区, v3 in 和阳路社区 (all 助老), the team in 东果园社区, and ``extra``."""
    return Dispatcher(
        dispatcher().tree,
        [
            cand("v1", skills=["助老"]),
            cand("v2", skills=["助老"]),
            cand("v3", SIBLING, skills=["助老"]),
            cand(TEAM, kind=CandidateKind.TEAM, skills=["助老"], capacity=3),
            *extra,
        ],
        policy=policy,
    )


def snapshot(book: NeedBook) -> tuple[Any, ...]:
    d = book.dispatcher
    return (
        book.entries,
        {n: book.status(n) for n in book.needs()},
        None if d is None else d.bookings(),
    )


def refused(book: NeedBook, call: Callable[[], object], error: type[Exception]) -> str:
    """Run a call that must raise ``error`` and leave the book exactly as it was."""
    before = snapshot(book)
    with pytest.raises(error) as info:
        call()
    assert snapshot(book) == before
    return str(info.value)


def held(d: Dispatcher) -> dict[str, set[str]]:
    return {cid: {b.need_id for b in bs} for cid, bs in d.bookings().items()}


# --- the policy flag -------------------------------------------------------------------------


def test_taking_is_off_by_default_and_refused_naming_the_policy() -> None:
    assert DispatchPolicy().allow_taking is False
    d = city(policy=DispatchPolicy(name="市南派单"))
    book = NeedBook(dispatcher=d)
    book.post(need(skills={"助老"}))
    message = refused(book, lambda: book.take("n1", "v1", at=at(1, 8)), PermissionDenied)
    assert "市南派单" in message and "抢单" in message
    # a raw entry is refused the same way: the policy is the book's, not the caller's
    raw = Taken(id="t", at=at(1, 8), need_id="n1", candidate_id="v1")
    refused(book, lambda: book.add(raw), PermissionDenied)
    assert book.state("n1") is S.POSTED and d.bookings() == {}


def test_the_flag_round_trips_with_the_policy_and_keeps_its_explanation() -> None:
    assert from_json(to_json(CHENGYANG), DispatchPolicy) == CHENGYANG
    text = CHENGYANG.explain()
    assert text.startswith("chengyang: 派单规则 / dispatch policy") and "滴滴大厅" in text
    with pytest.raises(InvalidValue, match="allow_taking"):
        DispatchPolicy(allow_taking="yes")  # type: ignore[arg-type]


# --- the rules of the places -------------------------------------------------------------------


def test_a_take_fills_a_place_books_the_taker_and_reads_its_kind_from_the_dispatcher() -> None:
    d = city()
    book = NeedBook(dispatcher=d)
    book.post(need(skills={"助老"}, headcount=2))
    taken = book.take("n1", TEAM, at=at(1, 8))
    assert taken == Taken(
        id="n1#take#" + TEAM, at=at(1, 8), need_id="n1", candidate_id=TEAM, kind="team"
    )
    status = book.status("n1")
    assert status.accepted == (TEAM,) and status.takers == (TEAM,) and status.state is S.POSTED
    assert status.kind_of(TEAM) is CandidateKind.TEAM and status.first_accepted_at == at(1, 8)
    assert held(d) == {TEAM: {"n1"}}
    book.take("n1", "v1", at=at(1, 8, 5))
    assert book.state("n1") is S.ACCEPTED and book.status("n1").filled_at == at(1, 8, 5)
    assert held(d) == {TEAM: {"n1"}, "v1": {"n1"}}
    # the same take again is a no-op
    assert book.take("n1", "v1", at=at(1, 8, 5)).candidate_id == "v1"
    assert len(book.entries_of("n1")) == 3


def test_a_take_respects_the_headcount_counting_open_offers() -> None:
    d = city()
    book = NeedBook(dispatcher=d)
    book.post(need(skills={"助老"}, headcount=2))
    book.offer("n1", "v1", at=at(1, 7, 10))
    book.take("n1", "v2", at=at(1, 7, 20))
    message = refused(book, lambda: book.take("n1", "v3", at=at(1, 7, 30)), Conflict)
    assert "2 个名额" in message and "open offer" in message
    book.accept("n1", "v1", at=at(1, 7, 40))  # the offer made first is never overtaken
    assert book.status("n1").accepted == ("v2", "v1") and book.state("n1") is S.ACCEPTED
    refused(book, lambda: book.take("n1", "v3", at=at(1, 7, 50)), Conflict)


def test_a_candidate_offered_the_need_or_who_took_it_cannot_take_it_again() -> None:
    book = NeedBook(dispatcher=city())
    book.post(need(skills={"助老"}, headcount=3))
    book.offer("n1", "v1", at=at(1, 7, 10))
    message = refused(book, lambda: book.take("n1", "v1", at=at(1, 7, 20)), Conflict)
    assert "v1" in message and "offered or took" in message
    book.decline("n1", "v1", at=at(1, 7, 25))
    refused(book, lambda: book.take("n1", "v1", at=at(1, 7, 30)), Conflict)
    book.take("n1", "v2", at=at(1, 7, 30))
    book.decline("n1", "v2", at=at(1, 7, 35), reason="临时有事")  # a taker withdraws …
    assert book.status("n1").withdrawn == ("v2",) and book.status("n1").accepted == ()
    assert book.dispatcher is not None and book.dispatcher.bookings() == {}  # … and is released
    # … and does not come back through the hall, under another entry id either
    refused(book, lambda: book.take("n1", "v2", at=at(1, 7, 40), id="again"), Conflict)
    # a candidate who took cannot be offered the need either (it holds or held a place)
    book.take("n1", "v3", at=at(1, 7, 45))
    with pytest.raises(Conflict, match="took need n1"):
        advance(book.status("n1"), Offered(id="o", at=at(1, 8), need_id="n1", candidate_id="v3"))
    assert "took need n1" in refused(book, lambda: book.offer("n1", "v2", at=at(1, 8)), Conflict)


def test_a_take_passes_the_dispatchers_gates_and_kind() -> None:
    d = city(cand("nurse", skills=["医疗"]))
    book = NeedBook(dispatcher=d)
    book.post(need(skills={"助老"}))
    assert "缺少技能" in refused(book, lambda: book.take("n1", "nurse", at=at(1, 8)), Conflict)
    refused(book, lambda: book.take("n1", "ghost", at=at(1, 8)), NotFound)
    wrong = lambda: book.take("n1", "v1", at=at(1, 8), kind=CandidateKind.TEAM)  # noqa: E731
    refused(book, wrong, InvalidValue)
    # booked elsewhere at an overlapping time: the capacity gate (capacity 1) refuses it
    book.post(need("n2", skills={"助老"}, start=at(1, 10), end=at(1, 12)))
    book.take("n2", "v1", at=at(1, 8))
    assert "任务已满" in refused(book, lambda: book.take("n1", "v1", at=at(1, 8, 5)), Conflict)


@pytest.mark.parametrize("state", ["accepted", "in_service", "cancelled", "unfilled"])
def test_a_need_that_takes_no_acceptance_takes_no_taker(state: str) -> None:
    book = NeedBook(dispatcher=city())
    book.post(need(skills={"助老"}))
    if state in ("accepted", "in_service"):
        book.take("n1", "v1", at=at(1, 8))
    if state == "in_service":
        book.start("n1", at=at(1, 9))
    if state == "cancelled":
        book.cancel("n1", at=at(1, 8), by="张大爷")
    if state == "unfilled":
        book.mark_unfilled("n1", at=at(1, 8))
    message = refused(book, lambda: book.take("n1", "v2", at=at(1, 9, 30)), Conflict)
    assert f"is {state}: cannot take" in message


# --- completion of those who took ---------------------------------------------------------------


def test_a_volunteer_who_took_gets_a_record_and_a_team_names_its_members() -> None:
    book = NeedBook(dispatcher=city())
    book.post(need(skills={"助老"}, headcount=2))
    book.take("n1", "v1", at=at(1, 8))
    book.take("n1", TEAM, at=at(1, 8, 5))
    book.start("n1", at=at(1, 9))
    done = book.complete(
        "n1",
        at=at(1, 11),
        evidence=Evidence.SUPERVISOR,
        organization_id=ORG,
        members={TEAM: ["m1", "m2"]},
    )
    assert done.served == ("v1", TEAM)
    got = {(r.id, r.volunteer_id, r.team_id) for r in done.records}
    assert got == {
        (f"need:n1:{TEAM}:m1", "m1", TEAM),
        (f"need:n1:{TEAM}:m2", "m2", TEAM),
        ("need:n1:v1", "v1", None),
    }
    # naming members for the volunteer (not a team) is refused
    book2 = NeedBook(dispatcher=city())
    book2.post(need(skills={"助老"}))
    book2.take("n1", "v1", at=at(1, 8))
    book2.start("n1", at=at(1, 9))
    with pytest.raises(InvalidValue, match="members"):
        book2.complete(
            "n1", at=at(1, 11), evidence="supervisor", organization_id=ORG, members={"v1": ["x"]}
        )


def test_chengyang_order_end_to_end_with_a_team_taking_the_order() -> None:
    """百姓点单 → 志愿者接单（抢单） → 中心派单 → 群众评单 → 积分奖单 (POLICIES.md §4.1)."""
    d = city()
    book = NeedBook(dispatcher=d)
    feedback = FeedbackBook(journal=book.journal)
    points = PointsLedger(journal=book.journal)
    n = need(skills={"助老"}, headcount=3)
    book.post(n)  # 百姓点单
    book.take("n1", TEAM, at=at(1, 7, 2))  # 志愿者接单: the team grabs the order from the hall
    book.take("n1", "v2", at=at(1, 7, 3))  # … and a volunteer too
    assert book.state("n1") is S.POSTED and book.status("n1").vacancies == 1
    offer = book.offer_next("n1", None, at(1, 7, 30))  # 中心派单: the centre sends the rest
    assert offer is not None and offer.candidate_id == "v1"  # nearest, not offered before
    book.accept("n1", "v1", at=at(1, 7, 40))
    assert book.state("n1") is S.ACCEPTED
    assert held(d) == {TEAM: {"n1"}, "v2": {"n1"}, "v1": {"n1"}}
    book.start("n1", at=at(1, 9))
    done = book.complete(
        "n1",
        at=at(1, 11),
        evidence=Evidence.SUPERVISOR,
        organization_id=ORG,
        members={TEAM: ["m1", "m2", "m3"]},
    )
    assert len(done.records) == 5 and d.bookings() == {}
    assert {r.team_id for r in done.records if r.volunteer_id.startswith("m")} == {TEAM}
    book.rate("n1", 5, at=at(1, 12), comment="队员很耐心", feedback=feedback)  # 群众评单
    assert len(feedback.ratings("m1")) == 1 and feedback.ratings("m1")[0].team_id == TEAM
    for cid in ("v1", "v2", TEAM):  # 积分奖单: the team as a whole, and each volunteer
        book.reward("n1", cid, 5, at=at(1, 13), ledger=points, issuer="issuer:城阳网约")
    assert book.state("n1") is S.REWARDED
    assert points.balance(volunteer_account("v2")) == 5
    kinds = [type(e).__name__ for e in book.entries_of("n1")]
    assert kinds[:6] == ["Posted", "Taken", "Taken", "Offered", "Accepted", "Started"]
    metrics = matching_metrics(book.entries, list(d._candidates.values()))
    assert metrics.fill.percent == 100 and metrics.acceptance.median_minutes == 2


# --- persistence ---------------------------------------------------------------------------------


@pytest.mark.parametrize("checkpoint_every", [None, 1])
def test_taken_entries_survive_a_sqlite_journal_closed_and_reopened(
    tmp_path: Path, checkpoint_every: int | None
) -> None:
    """Reopened by replaying the entries, or from a checkpoint of the folded state (which keeps
    the takings since state version 2)."""
    url = f"sqlite:///{tmp_path}/x.db"
    journal = open_journal(url, checkpoint_every=checkpoint_every)
    book = NeedBook(dispatcher=city(), journal=journal)
    book.post(need(skills={"助老"}, headcount=2))
    book.take("n1", TEAM, at=at(1, 8))
    book.post(need("n2", skills={"助老"}, start=at(2, 9), end=at(2, 11)))
    book.take("n2", "v1", at=at(1, 8, 30))
    before = (book.entries, book.status("n1"), book.status("n2"))
    journal.close()

    again = open_journal(url, checkpoint_every=checkpoint_every)
    d = city()
    reopened = NeedBook(dispatcher=d, journal=again)
    assert (reopened.entries, reopened.status("n1"), reopened.status("n2")) == before
    assert reopened.status("n1").kind_of(TEAM) is CandidateKind.TEAM
    assert held(d) == {TEAM: {"n1"}, "v1": {"n2"}}  # the bookings are rebuilt from the book
    reopened.take("n1", "v2", at=at(1, 9))
    assert reopened.state("n1") is S.ACCEPTED
    again.close()


# --- random sequences ------------------------------------------------------------------------------

CANDS = ("v1", "v2", "v3", TEAM)
OPS = st.lists(
    st.tuples(st.sampled_from(["take", "offer", "accept", "decline"]), st.sampled_from(CANDS)),
    max_size=14,
)


@settings(max_examples=150)
@given(ops=OPS, headcount=st.integers(1, 3))
def test_random_takes_and_offers_never_overfill_and_fold_to_the_book(
    ops: list[tuple[str, str]], headcount: int
) -> None:
    d = city()
    book = NeedBook(dispatcher=d)
    book.post(need(skills={"助老"}, headcount=headcount))
    for k, (op, cid) in enumerate(ops):
        when = at(1, 7, k + 1)
        before = snapshot(book)
        free = book.status("n1").vacancies
        try:
            getattr(book, op)("n1", cid, at=when)
        except ZhiyuanError:
            assert snapshot(book) == before  # a refused step changes nothing
        else:
            if op == "take":  # a take only ever fills a free place
                assert free >= 1
        status = book.status("n1")
        assert len(status.accepted) <= headcount
        assert len(set(status.accepted)) == len(status.accepted)
        assert set(status.takers).isdisjoint(status.offered)  # nobody both took and was offered
        assert held(d) == {c: {"n1"} for c in status.accepted}
    entries: list[NeedEntry] = list(book.entries)
    assert fold_needs(entries)["n1"] == book.status("n1")
    assert all(isinstance(e, (Posted, Offered, Accepted, Declined, Taken)) for e in entries)


def test_a_taken_entry_round_trips_through_json() -> None:
    e = Taken(id="t", at=at(1, 8), need_id="n1", candidate_id=TEAM, kind="team")
    assert from_json(to_json(e), NeedEntry) == e
    assert '"needs.taken"' in to_json(e)
