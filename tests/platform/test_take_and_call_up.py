"""Taking an order (抢单) and the call-up (紧急召集) on the platform (issue 12): each a write under
the dispatch policy in force and the jurisdiction, recorded with its acts, all or nothing; a team
that takes a need and completes it posts its members' hours; a platform on SQLite reopens to the
same needs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from support.platform import (
    CY_VILLAGE,
    CY_VILLAGE2,
    GRANTS,
    LK_VILLAGE,
    Clock,
    Heard,
    at,
    registry,
    rules,
    volunteer,
)
from zhiyuan.errors import Conflict, NotFound, PermissionDenied
from zhiyuan.hours import Evidence, HourPolicy
from zhiyuan.matching import (
    Candidate,
    CandidateKind,
    DispatchPolicy,
    Need,
    NeedState,
    Taken,
    Urgency,
)
from zhiyuan.platform import Act, EventKind, Platform

Make = Callable[..., Platform]
TAKING = DispatchPolicy(name="chengyang", allow_taking=True)
"""城阳's order: volunteers take orders from the hall (POLICIES.md §4.1)."""


def _need(nid: str = "n1", region: str = CY_VILLAGE, **kw: object) -> Need:
    fields: dict[str, object] = {
        "id": nid,
        "requester": "张大爷",
        "region_code": region,
        "category": "助老",
        "start": at(11, 9),
        "end": at(11, 11),
        "posted_at": at(10, 18),
    }
    fields.update(kw)
    return Need(**fields)  # type: ignore[arg-type]


def _city(make_city: Make, *vids: str, **policy: object) -> Platform:
    city = make_city(policies=rules(**policy))
    for vid in vids:
        home = LK_VILLAGE if vid.startswith("lk") else CY_VILLAGE
        city.register(volunteer(vid, home), by=vid)
    return city


# --- 抢单 ----------------------------------------------------------------------------------------


def test_taking_is_refused_where_the_policy_in_force_does_not_allow_it(make_city: Make) -> None:
    city = _city(make_city, "v1")
    city.post_need(_need(), by="张大爷")
    size = len(city.journal)
    with pytest.raises(PermissionDenied, match="default"):
        city.take("n1", "v1", by="v1")
    assert len(city.journal) == size and city.needs.state("n1") is NeedState.POSTED


def test_the_policy_in_force_on_the_day_decides(make_city: Make, clock: Clock) -> None:
    later = DispatchPolicy(name="chengyang", allow_taking=True, effective_from=date(2025, 3, 11))
    city = _city(make_city, "v1", dispatch=[DispatchPolicy(name="before"), later])
    city.post_need(_need(), by="张大爷")
    with pytest.raises(PermissionDenied, match="before"):
        city.take("n1", "v1", by="v1")
    clock.set(at(11, 7))
    assert city.take("n1", "v1", by="v1").candidate_id == "v1"


def test_a_volunteer_takes_for_themself_and_a_dispatcher_for_a_team(make_city: Make) -> None:
    city = _city(make_city, "v1", "v2", dispatch=TAKING)
    city.dispatcher.add(Candidate(id="t1", kind=CandidateKind.TEAM, home_region=CY_VILLAGE))
    city.post_need(_need(headcount=2), by="张大爷")
    with pytest.raises(NotFound):  # only a known candidate takes a need
        city.take("n1", "ghost", by="ghost")
    mine = city.take("n1", "v1", by="v1")
    assert isinstance(mine, Taken) and mine.kind is CandidateKind.VOLUNTEER
    own = city.acts.get(Act.id_for("take", "n1#v1"))
    assert own is not None and own.own and own.by == "v1" and own.region_code == CY_VILLAGE
    # nobody takes for someone else without DISPATCH over the need's region
    for outsider in ("v2", "recorder", "admin-lk"):
        size = len(city.journal)
        with pytest.raises(PermissionDenied):
            city.take("n1", "t1", by=outsider)
        assert len(city.journal) == size
    team = city.take("n1", "t1", by="dispatcher")
    assert team.kind is CandidateKind.TEAM and city.needs.state("n1") is NeedState.ACCEPTED
    act = city.acts.get(Act.id_for("take", "n1#t1"))
    assert act is not None and not act.own and act.by == "dispatcher"
    assert city.dispatcher.held("t1") == 1
    # taking again is a no-op; a filled need takes nobody more
    size = len(city.journal)
    city.take("n1", "t1", by="dispatcher")
    assert len(city.journal) == size
    with pytest.raises(Conflict, match="is accepted: cannot take"):
        city.take("n1", "v2", by="v2")
    # a place covered by an open offer is not free either
    city.post_need(_need("n2", start=at(12, 9), end=at(12, 11)), by="张大爷")
    city.dispatch("n2", by="dispatcher", candidate_id="v2")  # v1 is at capacity (n1)
    with pytest.raises(Conflict, match="1 个名额"):
        city.take("n2", "t1", by="t1")
    assert len(city.journal) == size + 4  # the need and the offer, each with its act


def test_a_team_that_took_a_need_completes_it_posting_its_members_hours(
    make_city: Make, clock: Clock
) -> None:
    city = _city(
        make_city,
        "v1",
        "v2",
        "v3",
        dispatch=TAKING,
        hours=[HourPolicy(auto_certify={"supervisor"})],
    )
    city.dispatcher.add(Candidate(id="t1", kind=CandidateKind.TEAM, home_region=CY_VILLAGE))
    city.post_need(_need(headcount=2), by="张大爷")
    city.take("n1", "t1", by="t1")  # the team, as itself, takes the order from the hall
    city.take("n1", "v1", by="v1")
    clock.set(at(11, 9))
    city.start("n1", by="recorder")
    clock.set(at(11, 11))
    done = city.complete(
        "n1",
        by="recorder",
        evidence=Evidence.SUPERVISOR,
        organization_id="o-cy",
        members={"t1": ["v2", "v3"]},
    )
    assert sorted(r.id for r in done.records) == ["need:n1:t1:v2", "need:n1:t1:v3", "need:n1:v1"]
    for rid in ("need:n1:t1:v2", "need:n1:t1:v3", "need:n1:v1"):
        assert city.hours.status(rid) == "certified"
        assert city.hours.outcome(rid).counted_minutes == 120
    assert city.hours.record("need:n1:t1:v3").team_id == "t1"
    assert city.needs.state("n1") is NeedState.COMPLETED and city.dispatcher.bookings() == {}
    assert bool(city.reconcile())


# --- 紧急召集 ------------------------------------------------------------------------------------


def _call_up_city(make_city: Make) -> tuple[Platform, Heard]:
    """v1, v2, v3 in 东果园社区, v4 in 和阳路社区, lk1 in 龙口; needs e1 (emergency, 2 places)
    and n1 (normal, 2 places) in 和阳路社区, and n9 in 龙口."""
    city = _city(make_city, "v1", "v2", "v3", "lk1")
    city.register(volunteer("v4", CY_VILLAGE2), by="v4")
    city.post_need(_need("e1", CY_VILLAGE2, headcount=2, urgency=Urgency.EMERGENCY), by="张大爷")
    city.post_need(_need("n1", CY_VILLAGE2, headcount=2), by="张大爷")
    city.post_need(_need("n9", LK_VILLAGE, requester="李大妈"), by="李大妈")
    heard = Heard()
    city.subscribe(heard)
    return city, heard


def test_a_call_up_records_its_offers_and_acceptances_with_an_act_for_each(
    make_city: Make,
) -> None:
    city, heard = _call_up_city(make_city)
    size = len(city.journal)
    result = city.call_up(["e1", "n1"], by="dispatcher")
    assert (result.filled, result.places) == (4, 4)
    # the four volunteers of 城阳街道, v4 from the needs' own community; never 龙口's lk1
    assert {p.candidate_id for p in result.pairs} == {"v1", "v2", "v3", "v4"}
    assert sorted(p.level.value for p in result.pairs if p.level) == ["township"] * 3 + ["village"]
    assert city.needs.state("e1") is city.needs.state("n1") is NeedState.ACCEPTED
    for p in result.pairs:
        act = city.acts.get(Act.id_for("call_up", f"{p.need_id}#offer#{p.candidate_id}"))
        assert act is not None and act.by == "dispatcher" and act.region_code == CY_VILLAGE2
        assert city.dispatcher.held(p.candidate_id) == 1
    # four offers, four acceptances and four acts, in one go
    assert len(city.journal) == size + 12
    dispatched = heard.of(EventKind.NEED_DISPATCHED)
    assert sorted((e.subject, e.ref) for e in dispatched) == sorted(
        (p.candidate_id, p.need_id) for p in result.pairs
    )
    # a second call-up finds nothing left to fill and records nothing
    again = city.call_up(["e1", "n1"], by="dispatcher")
    assert again.pairs == () and len(city.journal) == size + 12


def test_a_call_up_that_is_not_binding_records_offers_only(make_city: Make) -> None:
    city, _ = _call_up_city(make_city)
    result = city.call_up(["e1"], by="admin-cy", accept=False)
    assert result.filled == 2 and city.needs.state("e1") is NeedState.OFFERED
    assert city.dispatcher.bookings() == {}
    for p in result.pairs:
        city.accept("e1", p.candidate_id, by=p.candidate_id)
    assert city.needs.state("e1") is NeedState.ACCEPTED


@pytest.mark.parametrize(
    ("by", "ids"),
    [
        ("recorder", ["e1"]),  # RECORD, not DISPATCH
        ("admin-lk", ["e1"]),  # DISPATCH in 龙口 only
        ("dispatcher", ["e1", "n9"]),  # DISPATCH in 城阳 only: n9 is in 龙口
        ("v1", ["e1"]),  # a volunteer calls nobody up
    ],
)
def test_a_call_up_without_authority_over_every_need_records_nothing(
    make_city: Make, by: str, ids: list[str]
) -> None:
    city, heard = _call_up_city(make_city)
    size = len(city.journal)
    with pytest.raises(PermissionDenied):
        city.call_up(ids, by=by)
    assert len(city.journal) == size and heard.events == []
    assert city.needs.state("e1") is NeedState.POSTED


def test_a_call_up_refuses_a_need_twice_or_unknown(make_city: Make) -> None:
    city, _ = _call_up_city(make_city)
    size = len(city.journal)
    with pytest.raises(NotFound):
        city.call_up(["e1", "ghost"], by="dispatcher")
    with pytest.raises(ValueError, match="need_ids"):
        city.call_up(["e1", "e1"], by="dispatcher")
    assert len(city.journal) == size


def test_takes_and_call_ups_survive_a_reopen_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/city.db"
    clock = Clock()

    def open_city() -> Platform:
        return Platform.open(
            url, registry(), policies=rules(dispatch=TAKING), grants=GRANTS, clock=clock
        )

    city = open_city()
    for vid in ("v1", "v2", "v3"):
        city.register(volunteer(vid), by=vid)
    city.post_need(_need(headcount=2), by="张大爷")
    city.post_need(_need("n2", start=at(12, 9), end=at(12, 11)), by="张大爷")
    city.take("n1", "v1", by="v1")
    city.call_up(["n1", "n2"], by="dispatcher")
    before = {n: city.needs.status(n) for n in ("n1", "n2")}
    acts = city.acts.acts()
    bookings = city.dispatcher.bookings()
    city.close()
    again = open_city()
    try:
        assert {n: again.needs.status(n) for n in ("n1", "n2")} == before
        assert again.acts.acts() == acts and again.dispatcher.bookings() == bookings
        assert before["n1"].takers == ("v1",) and before["n1"].state is NeedState.ACCEPTED
    finally:
        again.close()
