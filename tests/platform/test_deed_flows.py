"""The platform's good-deed flows (:mod:`zhiyuan.platform._deeds`): claims by the person or a
recorder, approval with authority over the deed's region at the indicator's level (never one's
own), deductions, the points of sites and teams, reversal, hooks, and all of it surviving a
restart on SQLite. A refused write changes nothing.

The platform writes at its clock's now; tests move the clock (``support.platform.Clock``).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from support.platform import (
    CY_STREET,
    CY_VILLAGE,
    CY_VILLAGE2,
    GRANTS,
    ORGS,
    XZ_VILLAGE,
    Clock,
    Heard,
    owed,
    points,
    rules,
)
from zhiyuan.credit import (
    DeedScheme,
    DeedState,
    Indicator,
    rank_accounts,
    site_account,
    team_account,
)
from zhiyuan.errors import Conflict, InvalidValue, NotFound, PermissionDenied, UnknownRegion
from zhiyuan.hierarchy import (
    Action,
    Grant,
    Organization,
    PracticeInstitute,
    PracticeStation,
    Registry,
    Team,
    load_default,
)
from zhiyuan.platform import EventKind, Platform

TODAY = date(2025, 3, 10)  # the test clock's day

SCHEME = DeedScheme(
    name="cy-deeds",
    effective_from=date(2024, 1, 1),
    indicators=[
        Indicator(id="help", name="邻里互助", name_en="helping neighbours", points=3, yearly_cap=7),
        Indicator(
            id="brave",
            name="见义勇为",
            name_en="acting bravely",
            points=10,
            level="township",
            evidence=["certificate", "witness"],
        ),
        Indicator(
            id="compact", name="违反村规民约", name_en="breaking the village rules", points=-5
        ),
        Indicator(
            id="activity",
            name="开展活动",
            name_en="holding an activity",
            points=4,
            holder="site",
            level="township",
            evidence=["platform"],
        ),
        Indicator(id="complaint", name="群众差评", name_en="a complaint", points=-3, holder="site"),
        Indicator(
            id="served",
            name="完成服务",
            name_en="a service done",
            points=6,
            holder="team",
            level="county",
            evidence=["platform"],
        ),
    ],
)

CADRES = (
    # the 东果园 community's points officer: village-level deeds there only
    Grant(principal="village-cadre", region_code=CY_VILLAGE, actions={Action.ADJUST_POINTS}),
    # 城阳街道's: township-level deeds in the street
    Grant(principal="street-cadre", region_code=CY_STREET, actions={Action.ADJUST_POINTS}),
)


def registry() -> Registry:
    """The test organizations, a 站 in 东果园社区, a 所 for 城阳街道, and two teams."""
    items: list[Any] = [
        Organization(id=oid, name=name, region_code=code) for oid, (name, code) in ORGS.items()
    ]
    items += [
        PracticeStation(id="站-东果园", name="东果园社区新时代文明实践站", region_code=CY_VILLAGE),
        PracticeStation(id="站-和阳路", name="和阳路社区新时代文明实践站", region_code=CY_VILLAGE2),
        PracticeInstitute(id="所-城阳", name="城阳街道新时代文明实践所", region_code=CY_STREET),
        Team(id="t-助老", name="助老服务队", region_code=CY_STREET, kind="助老助残"),
        Team(id="t-夏庄", name="夏庄服务队", region_code=XZ_VILLAGE, kind="文化文艺"),
    ]
    return Registry(load_default(), items)


def open_city(clock: Clock, scheme: DeedScheme | None = SCHEME, **kw: Any) -> Platform:
    city = Platform(registry(), policies=rules(), grants=(*GRANTS, *CADRES), clock=clock, **kw)
    if scheme is not None:
        city.deeds.schemes = scheme
    return city


@pytest.fixture
def city(clock: Clock) -> Platform:
    return open_city(clock)


def snapshot(city: Platform) -> tuple[Any, ...]:
    return (
        len(city.journal),
        city.points.accounts(),
        city.deeds.deeds(),
        [a.id for a in city.acts.acts()],
    )


def claim(city: Platform, did: str, holder: str = "v1", ind: str = "help", **kw: Any) -> Any:
    kw.setdefault("day", TODAY)
    kw.setdefault("region_code", CY_VILLAGE)
    kw.setdefault("evidence", "witness")
    kw.setdefault("by", holder)
    return city.claim_deed(did, holder, ind, **kw)


# --- claims and approvals ------------------------------------------------------------------------


def test_a_person_claims_a_good_deed_and_the_village_approves_it(city: Platform) -> None:
    heard = Heard()
    city.subscribe(heard)
    deed = claim(city, "d1", note="帮邻居收麦")
    assert (deed.state, deed.claim.by, deed.claim.region_code) == (
        DeedState.CLAIMED,
        "v1",
        CY_VILLAGE,
    )
    out = city.approve_deed("d1", by="village-cadre", note="邻居作证")
    assert (out.state, out.points) == (DeedState.APPROVED, 3)
    assert points(city, "v1") == 3
    earn = city.points.posting("d1#deed")
    assert earn.source == "issuer:default"  # the platform's (the conversion policy's) issuer
    assert "邻里互助" in earn.note and "helping neighbours" in earn.note
    acts = {a.action: a for a in city.acts.acts()}
    assert (acts["claim_deed"].own, acts["claim_deed"].by) == (True, "v1")
    approve = acts["approve_deed"]
    assert (approve.by, approve.region_code, approve.target, approve.own) == (
        "village-cadre",
        CY_VILLAGE,
        "d1",
        False,
    )
    assert [(e.kind, e.subject, e.amount) for e in heard.events] == [
        (EventKind.POINTS_EARNED, "v1", 3)
    ]
    # approving again is a no-op: no entry, no act, no event
    before = snapshot(city)
    assert city.approve_deed("d1", by="village-cadre", note="邻居作证") == out
    assert snapshot(city) == before and len(heard.events) == 1


def test_a_claim_for_someone_else_needs_a_recorder(city: Platform) -> None:
    before = snapshot(city)
    with pytest.raises(PermissionDenied):
        claim(city, "d1", "v1", by="v2")
    with pytest.raises(PermissionDenied):  # a deduction is never one's own claim
        claim(city, "x1", "v1", "compact", evidence="photo")
    with pytest.raises(PermissionDenied):  # nor a site's deed
        claim(city, "a1", "站-东果园", "activity", evidence="platform", by="站-东果园")
    assert snapshot(city) == before
    deed = claim(city, "d1", "v1", by="recorder")
    assert deed.claim.by == "recorder"
    assert {a.action: a.own for a in city.acts.acts()} == {"claim_deed": False}


@pytest.mark.parametrize(
    ("by", "deed", "error"),
    [
        ("nobody", "d1", PermissionDenied),  # no grant
        ("recorder", "d1", PermissionDenied),  # a grant, but not to adjust points
        ("lapsed", "d1", PermissionDenied),  # a grant that ended in February
        ("admin-lk", "d1", PermissionDenied),  # 龙口's admin, not 城阳's
        ("village-cadre", "d2", PermissionDenied),  # a township-level deed
        ("village-cadre", "d3", PermissionDenied),  # another community's deed
        ("v-admin", "d4", PermissionDenied),  # an admin's own deed
        ("village-cadre", "nope", NotFound),
    ],
)
def test_a_refused_approval_changes_nothing(
    city: Platform, by: str, deed: str, error: type[Exception]
) -> None:
    claim(city, "d1")
    claim(city, "d2", ind="brave")
    claim(city, "d3", region_code=CY_VILLAGE2)
    claim(city, "d4", "v-admin")
    before = snapshot(city)
    with pytest.raises(error):
        city.approve_deed(deed, by=by)
    with pytest.raises(error):
        city.reject_deed(deed, by=by, reason="不实")
    assert snapshot(city) == before
    assert all(d.state is DeedState.CLAIMED for d in city.deeds.deeds())


def test_the_approving_level_is_the_indicators(city: Platform) -> None:
    claim(city, "d2", ind="brave", evidence="certificate")
    assert city.approve_deed("d2", by="street-cadre").points == 10
    act = next(a for a in city.acts.acts() if a.action == "approve_deed")
    assert act.region_code == CY_STREET  # authority over the township was needed
    claim(city, "d3", region_code=CY_VILLAGE2)
    assert city.approve_deed("d3", by="street-cadre").points == 3  # a village in the street
    claim(city, "d5", region_code=XZ_VILLAGE)  # 夏庄街道: another street
    with pytest.raises(PermissionDenied):
        city.approve_deed("d5", by="street-cadre")
    assert city.approve_deed("d5", by="treasurer").points == 3  # 城阳区's points officer


def test_the_cap_rejection_and_reversal_on_the_platform(city: Platform, clock: Clock) -> None:
    for k in range(1, 4):
        claim(city, f"d{k}", day=date(2025, 3, k))
        city.approve_deed(f"d{k}", by="village-cadre")
    assert [city.deeds.deed(f"d{k}").points for k in (1, 2, 3)] == [3, 3, 1]
    assert "核减 2 分" in city.deeds.deed("d3").explain()
    claim(city, "d4", day=date(2025, 3, 4))
    out = city.reject_deed("d4", by="village-cadre", reason="无人证实")
    assert out.state is DeedState.REJECTED
    heard = Heard()
    city.subscribe(heard)
    clock.advance(days=1)
    with pytest.raises(PermissionDenied):
        city.reverse_deed("d1", by="v1", reason="想撤回")
    back = city.reverse_deed("d1", by="village-cadre", reason="重复申报")
    assert back.state is DeedState.REVERSED
    assert points(city, "v1") == 4
    assert [(e.kind, e.amount) for e in heard.events] == [(EventKind.POINTS_REVERSED, 3)]
    with pytest.raises(Conflict):
        city.reverse_deed("d4", by="village-cadre", reason="x")
    assert {a.action for a in city.acts.acts()} >= {"reject_deed", "reverse_deed"}


# --- deductions ----------------------------------------------------------------------------------


def test_a_deduction_takes_points_off_at_once_and_owes_the_rest(city: Platform) -> None:
    claim(city, "d1")
    city.approve_deed("d1", by="village-cadre")
    before = snapshot(city)
    with pytest.raises(InvalidValue) as err:  # not a deduction
        city.deduct(
            "x0",
            "v1",
            "help",
            day=TODAY,
            region_code=CY_VILLAGE,
            evidence="photo",
            by="village-cadre",
        )
    assert err.value.field == "indicator_id"
    with pytest.raises(PermissionDenied):  # one's own
        city.deduct(
            "x0",
            "v-admin",
            "compact",
            day=TODAY,
            region_code=CY_VILLAGE,
            evidence="photo",
            by="v-admin",
        )
    with pytest.raises(PermissionDenied):  # a recorder may claim, not deduct
        city.deduct(
            "x0",
            "v1",
            "compact",
            day=TODAY,
            region_code=CY_VILLAGE,
            evidence="photo",
            by="recorder",
        )
    with pytest.raises(UnknownRegion):
        city.deduct(
            "x0",
            "v1",
            "compact",
            day=TODAY,
            region_code="370214001999",
            evidence="photo",
            by="village-cadre",
        )
    assert snapshot(city) == before
    deed = city.deduct(
        "x1",
        "v1",
        "compact",
        day=TODAY,
        region_code=CY_VILLAGE,
        evidence="photo",
        by="village-cadre",
    )
    assert deed.points == -5
    assert (points(city, "v1"), owed(city, "v1")) == (0, -2)
    note = city.points.posting("x1#deduct#owed").note
    assert "违反村规民约" in note and "breaking the village rules" in note
    act = next(a for a in city.acts.acts() if a.action == "deduct")
    assert (act.by, act.target, act.region_code) == ("village-cadre", "x1", CY_VILLAGE)
    # a later good deed pays the debt first
    claim(city, "d2", day=date(2025, 3, 9))
    city.approve_deed("d2", by="village-cadre")
    assert (points(city, "v1"), owed(city, "v1")) == (1, 0)
    assert city.points.total() == 0


# --- sites and teams ---------------------------------------------------------------------------


def test_sites_and_teams_earn_points_and_are_ranked(city: Platform) -> None:
    with pytest.raises(NotFound):
        city.award_site(
            "a0", "站-无", "activity", day=TODAY, evidence="platform", by="street-cadre"
        )
    with pytest.raises(InvalidValue):  # a person's indicator
        city.award_site("a0", "站-东果园", "help", day=TODAY, evidence="witness", by="street-cadre")
    with pytest.raises(PermissionDenied):  # a township-level indicator
        city.award_site(
            "a0", "站-东果园", "activity", day=TODAY, evidence="platform", by="village-cadre"
        )
    assert len(city.deeds) == 0
    city.award_site(
        "a1", "站-东果园", "activity", day=TODAY, evidence="platform", by="street-cadre"
    )
    city.award_site(
        "a2", "站-和阳路", "activity", day=TODAY, evidence="platform", by="street-cadre"
    )
    city.award_site(
        "a3", "站-和阳路", "activity", day=TODAY, evidence="platform", by="street-cadre"
    )
    city.award_site("a4", "所-城阳", "activity", day=TODAY, evidence="platform", by="street-cadre")
    city.award_site(
        "a5", "站-和阳路", "complaint", day=TODAY, evidence="witness", by="street-cadre"
    )
    assert city.points.balance(site_account("站-和阳路")) == 5
    ranks = rank_accounts(city.points, "site:")
    assert [(r.rank, r.holder, r.points) for r in ranks] == [
        (1, "站-和阳路", 5),
        (2, "所-城阳", 4),
        (2, "站-东果园", 4),
    ]
    act = next(a for a in city.acts.acts() if a.target == "a4")
    assert (act.action, act.region_code) == ("award_site", CY_STREET)
    # teams: a county-level indicator, so the street cadre may not, the district's officer may
    with pytest.raises(InvalidValue):
        city.award_team("b0", "t-助老", "activity", day=TODAY, evidence="platform", by="treasurer")
    with pytest.raises(PermissionDenied):
        city.award_team("b0", "t-助老", "served", day=TODAY, evidence="platform", by="street-cadre")
    with pytest.raises(NotFound):
        city.award_team("b0", "t-无", "served", day=TODAY, evidence="platform", by="treasurer")
    city.award_team("b1", "t-助老", "served", day=TODAY, evidence="platform", by="treasurer")
    city.award_team("b2", "t-夏庄", "served", day=TODAY, evidence="platform", by="treasurer")
    city.award_team("b3", "t-夏庄", "served", day=TODAY, evidence="platform", by="treasurer")
    assert [(r.holder, r.points) for r in rank_accounts(city.points, "team:")] == [
        ("t-夏庄", 12),
        ("t-助老", 6),
    ]
    city.reverse_deed("b3", by="treasurer", reason="重复")
    assert city.points.balance(team_account("t-夏庄")) == 6
    assert city.points.total() == 0


# --- without a scheme, and across a restart -------------------------------------------------------


def test_a_platform_without_a_scheme_refuses_claims(clock: Clock) -> None:
    city = open_city(clock, scheme=None)
    with pytest.raises(InvalidValue) as err:
        claim(city, "d1")
    assert err.value.field == "day"
    assert len(city.journal) == 0


@pytest.mark.parametrize("every", [None, 3], ids=["replayed", "from-checkpoints"])
def test_deeds_survive_a_restart_on_sqlite(db_path: Path, clock: Clock, every: int | None) -> None:
    def reopen(scheme: DeedScheme | None = SCHEME) -> Platform:
        city = Platform.open(
            db_path,
            registry(),
            policies=rules(),
            grants=(*GRANTS, *CADRES),
            clock=clock,
            checkpoint_every=every,
        )
        if scheme is not None:
            city.deeds.schemes = scheme
        return city

    with reopen() as city:
        claim(city, "d1")
        city.approve_deed("d1", by="village-cadre")
        claim(city, "d2", ind="brave", evidence="certificate")
        city.deduct(
            "x1",
            "v2",
            "compact",
            day=TODAY,
            region_code=CY_VILLAGE,
            evidence="photo",
            by="village-cadre",
        )
        city.award_site(
            "a1", "站-东果园", "activity", day=TODAY, evidence="platform", by="street-cadre"
        )
        claim(city, "d3", day=date(2025, 3, 2))
        city.approve_deed("d3", by="village-cadre")
        before = (city.points.accounts(), city.deeds.deeds(), city.acts.acts())
    with reopen(scheme=None) as city:  # a rebuilt book needs no scheme to fold
        if every is not None:  # the deed book's state was loaded from a checkpoint
            assert city.journal.store.load_checkpoint(city.deeds.name) is not None
        assert (city.points.accounts(), city.deeds.deeds(), city.acts.acts()) == before
        assert city.deeds.counted("volunteer:v1", "help", 2025) == 6
        assert city.journal.verify(decode=True).ok
    with reopen() as city:  # and goes on where it stopped
        clock.advance(hours=1)
        assert city.approve_deed("d2", by="street-cadre").points == 10
        claim(city, "d4", day=date(2025, 3, 3))
        assert city.approve_deed("d4", by="village-cadre").points == 1  # the cap: 6 counted
        city.reverse_deed("x1", by="village-cadre", reason="误报")
        assert (points(city, "v1"), points(city, "v2"), owed(city, "v2")) == (17, 0, 0)
        assert city.points.total() == 0


def test_an_operation_inside_a_platform_transaction_is_undone_with_it(city: Platform) -> None:
    claim(city, "d1")
    before = snapshot(city)
    with pytest.raises(PermissionDenied), city.transaction():
        city.approve_deed("d1", by="village-cadre")
        city.deduct(
            "x1", "v1", "compact", day=TODAY, region_code=CY_VILLAGE, evidence="photo", by="nobody"
        )
    assert snapshot(city) == before


def test_the_same_write_again_later_is_a_no_op(city: Platform, clock: Clock) -> None:
    claim(city, "d1", note="帮邻居收麦")
    city.approve_deed("d1", by="village-cadre")
    city.award_site(
        "a1", "站-东果园", "activity", day=TODAY, evidence="platform", by="street-cadre"
    )
    city.deduct(
        "x1",
        "v2",
        "compact",
        day=TODAY,
        region_code=CY_VILLAGE,
        evidence="photo",
        by="village-cadre",
    )
    city.reverse_deed("x1", by="village-cadre", reason="误报")
    before = snapshot(city)
    clock.advance(hours=2)  # a retry, later
    claim(city, "d1", note="帮邻居收麦")
    city.approve_deed("d1", by="village-cadre")
    city.award_site(
        "a1", "站-东果园", "activity", day=TODAY, evidence="platform", by="street-cadre"
    )
    city.deduct(
        "x1",
        "v2",
        "compact",
        day=TODAY,
        region_code=CY_VILLAGE,
        evidence="photo",
        by="village-cadre",
    )
    city.reverse_deed("x1", by="village-cadre", reason="误报")
    assert snapshot(city) == before
    with pytest.raises(Conflict):  # another claim under a used id
        claim(city, "d1", note="另一件事")
    with pytest.raises(Conflict):  # another approver of an approved deed
        city.approve_deed("d1", by="treasurer")
    assert snapshot(city) == before


def test_a_sites_deed_is_claimed_by_a_recorder_and_approved_at_its_level(city: Platform) -> None:
    with pytest.raises(NotFound):
        claim(city, "a0", "站-无", "activity", evidence="platform", by="recorder")
    with pytest.raises(NotFound):
        claim(city, "b0", "t-无", "served", evidence="platform", by="recorder")
    assert len(city.journal) == 0
    claim(city, "a1", "站-东果园", "activity", evidence="platform", by="recorder")
    with pytest.raises(PermissionDenied):  # 开展活动 is approved by the township
        city.approve_deed("a1", by="village-cadre")
    assert city.approve_deed("a1", by="street-cadre").points == 4
    assert city.points.balance(site_account("站-东果园")) == 4
    assert city.points.balance("volunteer:站-东果园") == 0
