"""Authority on every write: a principal needs a grant for the action at the region on the day
of the write (the clock's day, not the service date), nobody reviews or rewards themself, a
volunteer acts for themself without a grant, and every act recorded names the authority it was
made under. A refused write records nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from support.platform import (
    CY,
    CY_VILLAGE,
    GRANTS,
    LK_VILLAGE,
    Clock,
    at,
    holds_grant,
    points,
    record,
    rules,
    serve,
    volunteer,
)
from zhiyuan.credit import Catalog, Item
from zhiyuan.errors import PermissionDenied
from zhiyuan.hierarchy import Grant
from zhiyuan.hours import HourPolicy
from zhiyuan.matching import Need
from zhiyuan.platform import Act, Platform

Make = Callable[..., Platform]
CATALOG = Catalog([Item(id="rice", name="大米", price=2)])


def _need(nid: str, hour: int, **kw: Any) -> Need:
    fields: dict[str, Any] = {
        "id": nid,
        "requester": "张大爷",
        "region_code": CY_VILLAGE,
        "category": "助老",
        "start": at(12, hour),
        "end": at(12, hour + 1),
        "posted_at": at(10, 18),
    }
    fields.update(kw)
    return Need(**fields)


def _stage(make_city: Make, clock: Clock) -> Platform:
    """Something waiting for every write: v1 with 5 certified hours (r1, r4), a submitted record
    r2 and an open star application app1; v2 with 4 certified hours (r5); needs n1 (posted), n2
    (offered to v2), n3 (accepted by v1), n4 (in service by v3), n5 (completed by v3)."""
    city = make_city(policies=rules(), catalog=CATALOG)
    for vid in ("v1", "v2", "v3"):
        city.register(volunteer(vid), by=vid)
    serve(city, "r1", "v1", 1, 3)
    serve(city, "r4", "v1", 2, 2)
    serve(city, "r5", "v2", 2, 4)
    city.post(record("r2", "v1", 3, 1), by="recorder")
    city.apply_star("app1", "v1", 1, by="v1")
    for nid, hour in (("n1", 9), ("n2", 11), ("n3", 13), ("n4", 15), ("n5", 17)):
        city.post_need(_need(nid, hour), by="张大爷")
    city.dispatch("n2", by="dispatcher", candidate_id="v2")
    city.dispatch("n3", by="dispatcher", candidate_id="v1")
    city.accept("n3", "v1", by="v1")
    city.dispatch("n5", by="dispatcher", candidate_id="v3")
    city.accept("n5", "v3", by="v3")
    city.start("n5", by="recorder")
    clock.advance(hours=2)
    city.complete("n5", by="recorder", evidence="supervisor", organization_id="o-cy")
    city.dispatch("n4", by="dispatcher", candidate_id="v3")
    city.accept("n4", "v3", by="v3")
    city.start("n4", by="recorder")
    clock.advance(hours=1)
    return city


WRITES: dict[str, Callable[[Platform, str], object]] = {
    "register": lambda c, who: c.register(volunteer("v7"), by=who),
    "post": lambda c, who: c.post(record("r7", "v2", 4, 2), by=who),
    "certify": lambda c, who: c.certify("r2", by=who),
    "reject": lambda c, who: c.reject("r2", by=who, reason="签到存疑"),
    "reverse": lambda c, who: c.reverse("r1", by=who, reason="重复录入"),
    "spend": lambda c, who: c.spend("s1", "v1", 2, by=who),
    "adjust": lambda c, who: c.adjust("a1", "v1", 2, by=who),
    "apply_star": lambda c, who: c.apply_star("app2", "v2", 1, by=who),
    "decide_star": lambda c, who: c.decide_star("app1", by=who, approve=True, reason="符合条件"),
    "post_need": lambda c, who: c.post_need(_need("n9", 19), by=who),
    "dispatch_next": lambda c, who: c.dispatch("n1", by=who),
    "dispatch_to": lambda c, who: c.dispatch("n1", by=who, candidate_id="v2"),
    "accept": lambda c, who: c.accept("n2", "v2", by=who),
    "decline": lambda c, who: c.decline("n2", "v2", by=who, reason="没空"),
    "start": lambda c, who: c.start("n3", by=who),
    "complete": lambda c, who: c.complete(
        "n4", by=who, evidence="supervisor", organization_id="o-cy"
    ),
    "rate": lambda c, who: c.rate("n5", 5, by=who),
    "reward": lambda c, who: c.reward("n5", "v3", 3, by=who),
}


@pytest.mark.parametrize("who", ["nobody", "admin-lk", "lapsed"])
@pytest.mark.parametrize("write", sorted(WRITES))
def test_every_write_refuses_a_principal_without_a_grant(
    make_city: Make, clock: Clock, write: str, who: str
) -> None:
    """``nobody`` holds no grant, ``admin-lk`` holds every action in 龙口 only, ``lapsed`` held
    every action in 城阳 until February; none may act here. The same write by 城阳's admin goes
    through (the refusal is not the state's)."""
    city = _stage(make_city, clock)
    size, acts = len(city.journal), city.acts.acts()
    with pytest.raises(PermissionDenied):
        WRITES[write](city, who)
    assert len(city.journal) == size
    assert city.acts.acts() == acts
    WRITES[write](city, "admin-cy")
    assert len(city.journal) > size
    assert len(city.acts.acts()) == len(acts) + 1


def test_a_lapsed_grant_does_not_authorize_a_record_of_its_period(
    make_city: Make, clock: Clock
) -> None:
    """The grant ran to 28 February; the service was on 20 February; the certification is made
    in March: refused. The same principal could certify it while the grant held."""
    feb = record("feb", "v1", 20, 3, month=2)
    city = make_city()
    city.register(volunteer("v1"), by="v1")
    city.post(feb, by="admin-cy")
    size = len(city.journal)
    with pytest.raises(PermissionDenied):
        city.certify("feb", by="lapsed")
    with pytest.raises(PermissionDenied):
        city.post(record("feb2", "v1", 21, 3, month=2), by="lapsed")
    assert len(city.journal) == size
    assert points(city) == 0
    # in February, the same grant holds
    clock.set(at(25, 18, month=2))
    early = make_city()
    early.register(volunteer("v1"), by="v1")
    early.post(feb, by="lapsed")
    early.certify("feb", by="lapsed")
    assert points(early) == 3
    act = early.acts.get(Act.id_for("certify", "feb"))
    assert act is not None and act.by == "lapsed" and act.at.date() == date(2025, 2, 25)


def test_a_grant_not_yet_in_force_does_not_authorize(make_city: Make, clock: Clock) -> None:
    later = Grant(principal="new-admin", region_code=CY, valid_from=date(2025, 4, 1))
    city = make_city(grants=[*GRANTS, later])
    city.register(volunteer("v1"), by="v1")
    city.post(record("r1", "v1", 1, 2), by="v1")
    with pytest.raises(PermissionDenied):
        city.certify("r1", by="new-admin")
    clock.set(at(1, 9, month=4))
    city.certify("r1", by="new-admin")
    assert points(city) == 2


# --- nobody acts on their own books -------------------------------------------------------------


def _own_need(city: Platform, clock: Clock) -> None:
    """v-admin served need n1 (completed)."""
    city.post_need(_need("n1", 9), by="张大爷")
    city.dispatch("n1", by="dispatcher", candidate_id="v-admin")
    city.accept("n1", "v-admin", by="v-admin")
    city.start("n1", by="recorder")
    clock.advance(hours=2)
    city.complete("n1", by="recorder", evidence="supervisor", organization_id="o-cy")


OWN: dict[str, Callable[[Platform], object]] = {
    "certify": lambda c: c.certify("own2", by="v-admin"),
    "reject": lambda c: c.reject("own2", by="v-admin", reason="不要了"),
    "reverse": lambda c: c.reverse("own1", by="v-admin", reason="不要了"),
    "decide_star": lambda c: c.decide_star("app1", by="v-admin", approve=True, reason="我行"),
    "adjust": lambda c: c.adjust("a1", "v-admin", 100, by="v-admin"),
    "reward": lambda c: c.reward("n1", "v-admin", 100, by="v-admin"),
}


@pytest.mark.parametrize("write", sorted(OWN))
def test_nobody_reviews_or_rewards_themself(make_city: Make, clock: Clock, write: str) -> None:
    """v-admin is a volunteer and an administrator of all 城阳: their grant does not reach
    their own hours, stars or points."""
    city = make_city()
    city.register(volunteer("v-admin"), by="v-admin")
    serve(city, "own1", "v-admin", 1, 4)  # certified by admin-cy
    city.post(record("own2", "v-admin", 2, 1), by="v-admin")  # submitted
    city.apply_star("app1", "v-admin", 1, by="v-admin")
    _own_need(city, clock)
    size, held = len(city.journal), points(city, "v-admin")
    with pytest.raises(PermissionDenied):
        OWN[write](city)
    assert len(city.journal) == size
    assert points(city, "v-admin") == held
    # the same grant acts on another volunteer's books
    city.register(volunteer("v1"), by="v1")
    city.post(record("r1", "v1", 3, 2), by="v1")
    city.certify("r1", by="v-admin")
    city.adjust("a2", "v1", 1, by="v-admin")
    assert points(city, "v1") == 3


# --- self-service ------------------------------------------------------------------------------


def test_a_volunteer_acts_for_themself_without_a_grant(make_city: Make, clock: Clock) -> None:
    city = make_city(catalog=CATALOG)
    city.register(volunteer("v1"), by="v1")
    city.post(record("r1", "v1", 1, 5), by="v1")
    assert city.hours.status("r1") == "submitted"  # their report still needs certifying
    assert points(city) == 0
    city.certify("r1", by="certifier")
    city.spend("s1", "v1", 2, by="v1")
    city.apply_star("app1", "v1", 1, by="v1")
    city.post_need(_need("n1", 9, requester="v1-mother"), by="v1-mother")
    city.dispatch("n1", by="dispatcher", candidate_id="v1")
    city.accept("n1", "v1", by="v1")
    city.start("n1", by="recorder")
    clock.advance(hours=1)
    city.complete("n1", by="recorder", evidence="supervisor", organization_id="o-cy")
    city.rate("n1", 4, by="v1-mother")
    assert points(city) == 5 - 2
    acts = {a.id: a for a in city.acts.acts()}
    own = {
        Act.id_for("register", "v1"): "v1",
        Act.id_for("post", "r1"): "v1",
        Act.id_for("spend", "s1"): "v1",
        Act.id_for("apply_star", "app1"): "v1",
        Act.id_for("post_need", "n1"): "v1-mother",
        Act.id_for("rate", "n1"): "v1-mother",
    }
    for act_id, by in own.items():
        act = acts[act_id]
        assert (act.by, act.own) == (by, True), act
    [accepted] = [a for a in acts.values() if a.action == "accept"]
    assert (accepted.by, accepted.own) == ("v1", True)
    for a in acts.values():
        if a.action in ("certify", "dispatch", "start", "complete"):
            assert a.own is False, a


def test_an_own_report_still_needs_certifying_where_the_evidence_certifies_itself(
    make_city: Make,
) -> None:
    """``post``: by the volunteer, "reporting their own service, which still needs certifying".
    A policy that certifies QR scans on posting must not let a volunteer certify (and earn points
    for) a record they typed in themself, without anyone's authority."""
    city = make_city(policies=rules(hours=[HourPolicy(auto_certify={"qr_scan"})]))
    city.register(volunteer("v1"), by="v1")
    city.post(record("r1", "v1", 1, 3), by="v1")
    assert city.hours.status("r1") == "submitted"
    assert points(city) == 0


def test_self_service_is_for_oneself_only(make_city: Make, clock: Clock) -> None:
    city = _stage(make_city, clock)
    size = len(city.journal)
    refused: list[Callable[[], object]] = [
        lambda: city.register(volunteer("v8"), by="v1"),  # registering someone else
        lambda: city.post(record("r8", "v2", 5, 1), by="v1"),  # reporting for v2
        lambda: city.spend("s8", "v2", 1, by="v1"),  # spending v2's points
        lambda: city.accept("n2", "v2", by="v1"),  # accepting v2's offer
        lambda: city.apply_star("app8", "v2", 1, by="v1"),
        lambda: city.rate("n5", 1, by="v1"),  # not the requester
        lambda: city.post_need(_need("n8", 20), by="v1"),  # for 张大爷
    ]
    for write in refused:
        with pytest.raises(PermissionDenied):
            write()
    assert len(city.journal) == size


def test_redeem_orders_for_the_volunteer_or_a_treasurer(make_city: Make, clock: Clock) -> None:
    city = _stage(make_city, clock)  # v1 holds 5 points
    size = len(city.journal)
    for who in ("nobody", "admin-lk", "lapsed", "dispatcher", "v2"):
        with pytest.raises(PermissionDenied):
            city.redeem("o1", "v1", "rice", by=who)
    assert len(city.journal) == size
    order = city.redeem("o1", "v1", "rice", by="v1")
    assert (order.id, order.volunteer_id, order.points) == ("o1", "v1", 2)
    city.redeem("o2", "v1", "rice", by="treasurer")
    assert points(city, "v1") == 5 - 2 - 2
    o1 = city.acts.get(Act.id_for("redeem", "o1"))
    o2 = city.acts.get(Act.id_for("redeem", "o2"))
    assert o1 is not None and (o1.by, o1.own) == ("v1", True)
    assert o2 is not None and (o2.by, o2.own) == ("treasurer", False)


# --- the right action, at the right place ------------------------------------------------------


def test_dispatch_needs_the_dispatch_action(make_city: Make, clock: Clock) -> None:
    city = _stage(make_city, clock)
    for who in ("certifier", "treasurer", "recorder", "approver"):
        with pytest.raises(PermissionDenied):
            city.dispatch("n1", by=who)
        with pytest.raises(PermissionDenied):
            city.dispatch("n1", by=who, candidate_id="v2")
        with pytest.raises(PermissionDenied):
            city.post_need(_need("n8", 20), by=who)
    offer = city.dispatch("n1", by="dispatcher")
    assert offer is not None
    act = city.acts.get(Act.id_for("dispatch", offer.id))
    assert act is not None and act.by == "dispatcher" and act.target == offer.id


def test_points_need_the_adjust_points_action(make_city: Make, clock: Clock) -> None:
    city = _stage(make_city, clock)
    size = len(city.journal)
    for who in ("dispatcher", "certifier", "manager", "approver"):
        with pytest.raises(PermissionDenied):
            city.adjust("a1", "v1", 2, by=who)
        with pytest.raises(PermissionDenied):
            city.reward("n5", "v3", 3, by=who)
        with pytest.raises(PermissionDenied):
            city.spend("s1", "v1", 1, by=who)
    assert len(city.journal) == size
    held = points(city, "v1")
    city.adjust("a1", "v1", 2, by="treasurer")
    city.spend("s1", "v1", 1, by="treasurer")
    city.reward("n5", "v3", 3, by="treasurer")
    assert points(city, "v1") == held + 1
    assert points(city, "v3") == 3


def test_authority_follows_the_tree(make_city: Make) -> None:
    """The certifier of 城阳街道 certifies what its organizations record, not what 夏庄街道's
    association records, even for a volunteer living in 城阳街道."""
    city = make_city()
    city.register(volunteer("v1"), by="v1")
    city.post(record("xz", "v1", 1, 2, org="o-xz", region="370214002001"), by="v1")
    city.post(record("cy", "v1", 2, 2), by="v1")
    with pytest.raises(PermissionDenied):
        city.certify("xz", by="certifier")
    city.certify("cy", by="certifier")
    city.certify("xz", by="admin-cy")  # the district's admin covers both streets
    assert points(city) == 4
    # registering needs MANAGE over the home region: 城阳's manager, not for 龙口
    with pytest.raises(PermissionDenied):
        city.register(volunteer("v9", LK_VILLAGE), by="manager")
    city.register(volunteer("v9", LK_VILLAGE), by="admin-lk")


def test_a_record_sent_for_approval_needs_the_level_above(make_city: Make) -> None:
    """Past the daily cap the policy asks for approval above the organizer (城阳街道): the
    street's certifier may not certify it, the district's admin may."""
    policy = HourPolicy(daily_cap_minutes=120, over_daily_cap="approval")
    city = make_city(policies=rules(hours=[policy]))
    city.register(volunteer("v1"), by="v1")
    city.post(record("long", "v1", 1, 4), by="recorder")
    with pytest.raises(PermissionDenied):
        city.certify("long", by="certifier")
    city.certify("long", by="admin-cy")
    assert points(city) == 4
    act = city.acts.get(Act.id_for("certify", "long"))
    assert act is not None and act.region_code == "370214000000"


# --- the record of authority -------------------------------------------------------------------


def test_every_act_names_its_authority(make_city: Make, clock: Clock) -> None:
    city = _stage(make_city, clock)
    for write in sorted(WRITES):
        if write in ("reject", "decline", "dispatch_to"):  # certify, accept, dispatch_next instead
            continue
        WRITES[write](city, "admin-cy")
    clock.advance(days=1)
    city.settle(by="nightly")
    city.reconcile(repair=True, by="admin-cy")
    acts = city.acts.acts()
    assert len({a.id for a in acts}) == len(acts)
    actions = {a.action for a in acts}
    assert actions >= {"register", "post", "certify", "reverse", "dispatch", "reward"}
    for act in acts:
        if act.region_code is None:
            assert act.action == "settle", act
        elif act.own:
            assert act.action in (
                *("register", "post", "spend", "redeem", "apply_star"),
                *("post_need", "rate", "accept", "decline"),
            ), act
            assert act.action != "post" or city.hours.record(act.target).volunteer_id == act.by
        else:
            assert holds_grant(act, GRANTS), act
        # recorded at the moment of the write, in the same transaction as what it authorized
        assert act.at <= clock.now
    # every certification and reversal has its act
    for vid in ("v1", "v2", "v3"):
        for rec in city.hours.records_of(vid):
            if city.hours.status(rec.id) in ("certified", "reversed"):
                assert city.acts.get(Act.id_for("certify", rec.id)) is not None, rec.id


def test_a_refused_write_inside_a_transaction_undoes_the_whole_block(
    make_city: Make, clock: Clock
) -> None:
    city = _stage(make_city, clock)
    size = len(city.journal)
    with pytest.raises(PermissionDenied), city.transaction():
        city.certify("r2", by="certifier")
        city.adjust("a1", "v1", 5, by="nobody")
    assert len(city.journal) == size
    assert city.hours.status("r2") == "submitted"
