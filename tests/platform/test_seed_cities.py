"""The seed cities' flows end to end on one platform: 城阳 网约 (百姓点单 → 中心派单 → 志愿者
接单 → 群众评单 → 积分奖单) with a team that serves, and a correction in 龙口 that claws back
美德信用卡 points already spent."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from support.platform import (
    CY_VILLAGE,
    CY_VILLAGE2,
    LK_VILLAGE,
    Clock,
    Heard,
    at,
    owed,
    points,
    record,
    rules,
    volunteer,
)
from zhiyuan.credit import ClawbackRule, ConversionPolicy, PostingKind
from zhiyuan.errors import Conflict, PermissionDenied
from zhiyuan.hours import Evidence
from zhiyuan.matching import Candidate, CandidateKind, Need, NeedState
from zhiyuan.platform import Act, EventKind, Platform

Make = Callable[..., Platform]
K = EventKind
TEAM = "t-cy"  # 城阳街道 医护志愿服务队


def _chengyang_need() -> Need:
    """张大爷 of 东果园社区 asks for a nurse's visit on 11 March, 09:00–11:00."""
    return Need(
        id="n1",
        requester="张大爷",
        region_code=CY_VILLAGE,
        category="助老",
        skills={"医疗"},
        start=at(11, 9),
        end=at(11, 11),
        posted_at=at(10, 18),
    )


def _chengyang(make_city: Make, clock: Clock) -> tuple[Platform, Heard]:
    """城阳 网约 up to the completion: the team served with members v1 and v2."""
    city = make_city()
    heard = Heard()
    city.subscribe(heard)
    for vid in ("v1", "v2", "v3"):  # none of them nurses: the need goes to the team
        city.register(volunteer(vid), by=vid)
    city.dispatcher.add(
        Candidate(id=TEAM, kind=CandidateKind.TEAM, home_region=CY_VILLAGE2, skills=["医疗/护理"])
    )
    city.post_need(_chengyang_need(), by="张大爷")  # 百姓点单
    offer = city.dispatch("n1", by="dispatcher")  # 中心派单: the best-ranked who can serve
    assert offer is not None
    assert (offer.candidate_id, offer.kind) == (TEAM, CandidateKind.TEAM)
    city.accept("n1", TEAM, by=TEAM)  # 志愿者接单: the team answers for itself
    clock.set(at(11, 9))
    city.start("n1", by="recorder")
    clock.set(at(11, 11))
    city.complete(
        "n1",
        by="recorder",
        evidence=Evidence.SUPERVISOR,
        organization_id="o-cy",
        members={TEAM: ["v1", "v2"]},
    )
    return city, heard


def test_chengyang_wangyue_end_to_end_with_a_team(make_city: Make, clock: Clock) -> None:
    city, heard = _chengyang(make_city, clock)
    assert city.needs.state("n1") is NeedState.COMPLETED
    members = [f"need:n1:{TEAM}:v1", f"need:n1:{TEAM}:v2"]
    for rid in members:
        rec = city.hours.record(rid)
        assert (rec.team_id, rec.start, rec.end) == (TEAM, at(11, 9), at(11, 11))
        assert city.hours.status(rid) == "submitted"
    assert city.hours.records_of("v3") == []
    # the members' hours are certified like any other: 2 h = 2 points each
    clock.advance(hours=1)
    for rid in members:
        city.certify(rid, by="certifier")
    assert (points(city, "v1"), points(city, "v2"), points(city, "v3")) == (2, 2, 0)
    # 群众评单, 积分奖单
    city.rate("n1", 5, by="张大爷", comment="护士很专业")
    assert city.needs.state("n1") is NeedState.RATED
    assert [(r.volunteer_id, r.stars) for r in city.needs.ratings("n1")] == [("v1", 5), ("v2", 5)]
    assert len(city.feedback.ratings("v1")) == 1
    rewarded = city.reward("n1", TEAM, 10, by="treasurer")
    assert city.needs.state("n1") is NeedState.REWARDED
    assert points(city, TEAM) == 10
    assert city.points.posting(rewarded.posting_id).ref == "n1"
    # what the hooks heard, in order
    assert [k for k in heard.kinds() if k.value.startswith("need.")] == [
        K.NEED_POSTED,
        K.NEED_DISPATCHED,
        K.NEED_COMPLETED,
        K.NEED_REWARDED,
    ]
    # the members' certified hours, then the team's reward
    assert [(e.subject, e.amount) for e in heard.of(K.POINTS_EARNED)] == [
        ("v1", 2),
        ("v2", 2),
        (TEAM, 10),
    ]
    # who did what
    actions = [(a.action, a.by, a.own) for a in city.acts.acts() if a.action != "register"]
    assert actions == [
        ("post_need", "张大爷", True),
        ("dispatch", "dispatcher", False),
        ("accept", TEAM, True),
        ("start", "recorder", False),
        ("complete", "recorder", False),
        ("certify", "certifier", False),
        ("certify", "certifier", False),
        ("rate", "张大爷", True),
        ("reward", "treasurer", False),
    ]
    assert bool(city.reconcile())
    assert city.journal.verify().ok


def test_a_rated_team_need_rates_the_team(make_city: Make, clock: Clock) -> None:
    """A rating of a team-served need is the team's too (``Rating.team_id``: "the team the
    service was dispatched to"): the team's feedback score counts it."""
    city, _ = _chengyang(make_city, clock)
    clock.advance(hours=1)
    city.rate("n1", 4, by="张大爷")
    assert {r.team_id for r in city.needs.ratings("n1")} == {TEAM}
    assert len(city.feedback.ratings(team_id=TEAM)) == 2


def test_chengyang_a_declined_offer_goes_to_the_next_candidate(
    make_city: Make, clock: Clock
) -> None:
    city = make_city()
    for vid in ("v1", "v2"):
        city.register(volunteer(vid), by=vid)
    need = Need(
        id="n2",
        requester="李阿姨",
        region_code=CY_VILLAGE,
        category="助老",
        start=at(12, 9),
        end=at(12, 10),
        posted_at=at(10, 18),
    )
    city.post_need(need, by="dispatcher")
    first = city.dispatch("n2", by="dispatcher")
    assert first is not None
    city.decline("n2", first.candidate_id, by=first.candidate_id, reason="没空")
    second = city.dispatch("n2", by="dispatcher")
    assert second is not None and second.candidate_id != first.candidate_id
    with pytest.raises(Conflict):  # the one place has an open offer
        city.dispatch("n2", by="dispatcher")
    city.accept("n2", second.candidate_id, by=second.candidate_id)
    assert city.needs.state("n2") is NeedState.ACCEPTED


# --- 龙口: 美德信用卡 ----------------------------------------------------------------------------


MEIDE = ConversionPolicy(
    name="longkou", instrument="meide_credit", clawback=ClawbackRule.DEBT
)  # 1 h = 1 美德积分


def _longkou(make_city: Make) -> tuple[Platform, Heard]:
    city = make_city(policies=rules(conversion=[MEIDE]))
    heard = Heard()
    city.subscribe(heard)
    city.register(volunteer("v9", LK_VILLAGE), by="v9")
    return city, heard


def _lk_serve(city: Platform, rid: str, day: int, hours: int) -> None:
    rec = record(rid, "v9", day, hours, org="o-lk", region=LK_VILLAGE, category="文明实践")
    city.post(rec, by="admin-lk")
    city.certify(rid, by="admin-lk")


def test_longkou_reversal_claws_back_spent_meide_points(make_city: Make, clock: Clock) -> None:
    city, heard = _longkou(make_city)
    assert city.points.instrument == city.points.name == "meide_credit"
    _lk_serve(city, "r1", 1, 4)  # 4 美德积分
    _lk_serve(city, "r2", 2, 2)  # 2 more
    assert points(city, "v9") == 6
    clock.advance(hours=1)
    # 美德超市: 5 points for a bag of rice; the older lot first (4 of r1, 1 of r2)
    legs = city.spend("rice-1", "v9", 5, by="v9", to="redemption")
    assert [(p.lot, p.amount) for p in legs] == [("r1#convert", 4), ("r2#convert", 1)]
    clock.advance(days=1)
    heard.clear()
    city.reverse("r1", by="admin-lk", reason="重复登记")
    # r1's 4 points were all spent: 1 clawed back from r2's lot, 3 owed
    reversal = {p.id: p for p in city.points.postings if p.reverses == "r1#convert"}
    assert sorted(reversal) == ["r1#convert#clawback#1", "r1#convert#owed"]
    claw, debt = reversal["r1#convert#clawback#1"], reversal["r1#convert#owed"]
    assert (claw.kind, claw.lot, claw.amount, claw.target) == (
        PostingKind.CLAWBACK,
        "r2#convert",
        1,
        "issuer:longkou",
    )
    assert (debt.source, debt.amount) == ("owed:v9", 3)
    assert (points(city, "v9"), owed(city, "v9")) == (0, -3)
    assert city.points.spendable("v9") == -3
    assert city.points.balance("redemption") == 5  # the rice stays sold
    assert city.points.total() == 0
    assert [(e.kind, e.amount) for e in heard.events if e.kind is K.POINTS_REVERSED] == [
        (K.POINTS_REVERSED, 4)
    ]
    act = city.acts.get(Act.id_for("reverse", "r1"))
    assert act is not None and act.by == "admin-lk" and act.region_code == "370681001000"
    assert bool(city.reconcile())
    # the next certified hours pay the debt first
    clock.advance(days=1)
    _lk_serve(city, "r3", 3, 5)
    settle = city.points.posting("r3#convert#settle")
    assert (settle.kind, settle.amount, settle.lot) == (PostingKind.SETTLE, 3, "r3#convert")
    assert (points(city, "v9"), owed(city, "v9")) == (2, 0)
    assert bool(city.reconcile())


@pytest.mark.parametrize("who", ["admin-cy", "certifier", "reverser"])
def test_longkou_is_corrected_by_longkou_only(make_city: Make, who: str) -> None:
    city, _ = _longkou(make_city)
    _lk_serve(city, "r1", 1, 4)
    size = len(city.journal)
    with pytest.raises(PermissionDenied):
        city.reverse("r1", by=who, reason="重复登记")
    assert len(city.journal) == size
    assert points(city, "v9") == 4
    city.reverse("r1", by="admin-lk", reason="重复登记")
    assert points(city, "v9") == 0
