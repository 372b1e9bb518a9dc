"""The platform's project flows (项目发布、招募、报名、签到签退): every write authorized on the
activity's region, sign-ups only by registered volunteers for themselves (or by a manager), a
refused sign-in recording nothing, a sign-out posting its hours through the hour chain in the
same transaction (points follow), top-ups never the volunteer's own, 遵义's collection and
claims, and a restart from SQLite giving the same state."""

from __future__ import annotations

import copy
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from support.platform import (
    CY,
    CY_STREET,
    CY_VILLAGE,
    GRANTS,
    LK_VILLAGE,
    Clock,
    Heard,
    at,
    points,
    registry,
    rules,
    volunteer,
)
from zhiyuan.errors import Conflict, InvalidValue, NotFound, PermissionDenied
from zhiyuan.hierarchy import Action, Grant, Organization, Registry, load_default
from zhiyuan.hours import Evidence, GeoFix, HourPolicy, Purpose, ServiceRecord
from zhiyuan.matching import Need
from zhiyuan.platform import EventKind, Platform
from zhiyuan.projects import (
    Activity,
    ClaimantKind,
    Project,
    Requirements,
    Shift,
    SignInPoint,
    SignUpState,
)

Make = Callable[..., Platform]
S = SignUpState
SITE = GeoFix(lat=36.3000, lon=120.4000)  # the 敬老院 of 东果园社区 (illustrative)
CODE = "530712"


def near(metres: float) -> GeoFix:
    """A fix about ``metres`` north of :data:`SITE`."""
    return GeoFix(lat=SITE.lat + metres / 111_195, lon=SITE.lon)


def _project(pid: str = "p1", **kw: Any) -> Project:
    kw.setdefault("organization_id", "o-cy")
    kw.setdefault("region_code", CY_STREET)
    return Project(id=pid, name="银龄关爱", category="助老", **kw)


def _activity(aid: str = "a1", *, places: int = 2, **kw: Any) -> Activity:
    """Shift ``am`` on 12 March 2025, 09:00–12:00, at the 敬老院 (300 m fence and a code)."""
    kw.setdefault("points", [SignInPoint(id="gate", place=SITE, code=CODE)])
    return Activity(
        id=aid,
        project_id="p1",
        name="敬老院陪伴",
        region_code=CY_VILLAGE,
        category="助老",
        shifts=[Shift(id="am", start=at(12, 9), end=at(12, 12), places=places)],
        **kw,
    )


def _city(make_city: Make, *, auto_certify: bool = False, **activity: Any) -> Platform:
    """城阳 with v1–v4 registered, project p1 and activity a1 published by the manager."""
    pol = rules(hours=[HourPolicy(auto_certify={"sign_in_code", "qr_scan", "gps"})])
    city = make_city(policies=pol) if auto_certify else make_city()
    for vid in ("v1", "v2", "v3", "v4"):
        city.register(volunteer(vid), by=vid)
    city.publish_project(_project(), by="manager")
    city.publish_activity(_activity(**activity), by="manager")
    return city


def _fingerprint(city: Platform) -> tuple[Any, ...]:
    books = city.journal.books.values()
    return (city.journal.head, len(city.journal), *(pickle.dumps(b._state) for b in books))


def _sign_in(city: Platform, *vids: str) -> None:
    for vid in vids:
        city.sign_in("a1", "am", vid, by=vid, geo=near(20), code=CODE)


# --- authority ---------------------------------------------------------------------------------


def test_publishing_needs_manage_over_the_region(make_city: Make) -> None:
    city = make_city()
    city.register(volunteer("v1"), by="v1")
    for who in ("v1", "lapsed", "admin-lk", "recorder"):
        with pytest.raises(PermissionDenied):
            city.publish_project(_project(), by=who)
    with pytest.raises(NotFound, match="o-nowhere"):
        city.publish_project(_project(organization_id="o-nowhere"), by="manager")
    assert len(city.projects.entries) == 0
    city.publish_project(_project(), by="manager")
    with pytest.raises(PermissionDenied):
        city.publish_activity(_activity(), by="recorder")
    city.publish_activity(_activity(), by="admin-cy")
    size = len(city.journal)
    city.publish_activity(_activity(), by="admin-cy")  # the same again: nothing recorded
    assert len(city.journal) == size
    acts = [(a.action, a.by, a.region_code) for a in city.acts.acts()][-2:]
    assert acts == [
        ("publish_project", "manager", CY_STREET),
        ("publish_activity", "admin-cy", CY_VILLAGE),
    ]


def test_an_activity_lies_within_its_projects_region(make_city: Make) -> None:
    city = _city(make_city)
    far = _activity("a2")
    far = Activity(**{**_fields(far), "region_code": LK_VILLAGE})
    with pytest.raises(PermissionDenied):  # the manager has no authority in 龙口
        city.publish_activity(far, by="manager")
    with pytest.raises(InvalidValue, match="outside 370214001000 of project p1"):
        city.publish_activity(far, by="admin-lk")


def _fields(a: Activity) -> dict[str, Any]:
    import attrs

    return attrs.asdict(a, recurse=False)


def test_sign_up_is_by_a_registered_volunteer_for_themself_or_by_a_manager(
    make_city: Make,
) -> None:
    city = _city(make_city)
    with pytest.raises(NotFound, match="v9"):
        city.sign_up("a1", "am", "v9", by="v9")
    with pytest.raises(PermissionDenied):
        city.sign_up("a1", "am", "v1", by="v2")
    assert city.sign_up("a1", "am", "v1", by="v1").state is S.PENDING
    assert city.sign_up("a1", "am", "v2", by="manager").state is S.PENDING
    with pytest.raises(Conflict, match="is pending: cannot sign up"):
        city.sign_up("a1", "am", "v1", by="v1")
    acts = [(a.action, a.by, a.target, a.own) for a in city.acts.acts() if a.action == "sign_up"]
    assert acts == [("sign_up", "v1", "a1#am#v1", True), ("sign_up", "manager", "a1#am#v2", False)]


def test_requirements_are_checked_on_the_registered_volunteer(make_city: Make) -> None:
    city = _city(make_city, requirements=Requirements(skills={"医疗"}, training={"急救培训"}))
    city.register(volunteer("nurse", skills={"医疗/护理"}), by="nurse")
    with pytest.raises(InvalidValue, match="v1 lacks the skill 医疗"):
        city.sign_up("a1", "am", "v1", by="v1", training=["急救培训"])
    with pytest.raises(InvalidValue, match="has not completed the training 急救培训"):
        city.sign_up("a1", "am", "nurse", by="nurse")
    assert city.sign_up("a1", "am", "nurse", by="nurse", training=["急救培训"]).state is S.PENDING


def test_organizers_accept_and_decline_and_a_freed_place_goes_to_the_first_waiter(
    make_city: Make,
) -> None:
    city = _city(make_city)
    for vid in ("v1", "v2", "v3", "v4"):
        city.sign_up("a1", "am", vid, by=vid)
    with pytest.raises(PermissionDenied):
        city.accept_signup("a1", "am", "v1", by="v1")
    city.accept_signup("a1", "am", "v1", by="manager")
    promoted = city.decline_signup("a1", "am", "v2", by="manager", reason="名额调整")
    assert promoted is not None and promoted.volunteer_id == "v3"
    with pytest.raises(PermissionDenied):
        city.cancel_signup("a1", "am", "v1", by="v4")
    promoted = city.cancel_signup("a1", "am", "v1", by="v1", reason="生病")
    assert promoted is not None and promoted.volunteer_id == "v4"
    roster = city.projects.roster("a1", "am")
    assert (roster.pending, roster.waitlist, roster.accepted) == (("v3", "v4"), (), ())
    assert city.cancel_signup("a1", "am", "v4", by="manager") is None


def test_hooks_hear_of_sign_ups_acceptances_and_promotions(make_city: Make) -> None:
    city = _city(make_city)
    heard = Heard()
    city.subscribe(heard)
    for vid in ("v1", "v2", "v3"):
        city.sign_up("a1", "am", vid, by=vid)
    created = heard.of(EventKind.SIGNUP_CREATED)
    assert [(e.subject, e.detail) for e in created] == [
        ("v1", "pending"),
        ("v2", "pending"),
        ("v3", "waitlisted"),
    ]
    city.accept_signup("a1", "am", "v1", by="manager")
    city.accept_signup("a1", "am", "v1", by="manager")  # a repeat: recorded once, told once
    assert [e.subject for e in heard.of(EventKind.SIGNUP_ACCEPTED)] == ["v1"]
    city.cancel_signup("a1", "am", "v2", by="v2")
    assert [e.subject for e in heard.of(EventKind.SIGNUP_PROMOTED)] == ["v3"]
    with pytest.raises(PermissionDenied):  # refused: nothing told
        city.decline_signup("a1", "am", "v3", by="v4")
    assert len(heard.of(EventKind.SIGNUP_PROMOTED)) == 1


# --- sign-in, sign-out, top-up -----------------------------------------------------------------


def test_a_refused_sign_in_leaves_the_journal_unchanged(make_city: Make, clock: Clock) -> None:
    city = _city(make_city)
    city.sign_up("a1", "am", "v1", by="v1")
    city.sign_up("a1", "am", "v2", by="v2")
    city.accept_signup("a1", "am", "v1", by="manager")
    clock.set(at(12, 9, 5))
    before = _fingerprint(city)
    refusals: list[tuple[type[Exception], Callable[[], object]]] = [
        (InvalidValue, lambda: city.sign_in("a1", "am", "v1", by="v1", geo=near(800), code=CODE)),
        (InvalidValue, lambda: city.sign_in("a1", "am", "v1", by="v1", geo=near(5), code="1")),
        (Conflict, lambda: city.sign_in("a1", "am", "v2", by="v2", geo=near(5), code=CODE)),
        (PermissionDenied, lambda: city.sign_in("a1", "am", "v1", by="v2", geo=near(5), code=CODE)),
        (NotFound, lambda: city.sign_in("a1", "am", "v3", by="v3", geo=near(5), code=CODE)),
    ]
    for kind, refused in refusals:
        with pytest.raises(kind):
            refused()
        assert _fingerprint(city) == before
    with pytest.raises(InvalidValue) as err:
        city.sign_in("a1", "am", "v1", by="v1", geo=near(800), code=CODE)
    assert "800 m from sign-in point gate, outside its 300 m radius" in str(err.value)
    city.sign_in("a1", "am", "v1", by="v1", geo=near(250), code=CODE)
    assert city.projects.signup("a1", "am", "v1").signed_in.distance_m == 250  # type: ignore[union-attr]


def test_sign_out_posts_the_hours_and_points_follow(make_city: Make, clock: Clock) -> None:
    city = _city(make_city, auto_certify=True)
    heard = Heard()
    city.subscribe(heard)
    for vid in ("v1", "v2"):
        city.sign_up("a1", "am", vid, by=vid)
        city.accept_signup("a1", "am", vid, by="manager")
    clock.set(at(12, 8, 50))
    city.sign_in("a1", "am", "v1", by="v1", geo=near(10), code=CODE)
    city.sign_in("a1", "am", "v2", by="recorder", geo=near(10), code=CODE)  # for them
    clock.set(at(12, 11, 50))
    heard.clear()
    out = city.sign_out("a1", "am", "v1", by="v1", geo=near(15), code=CODE)
    assert (out.record_id, out.counted_minutes) == ("a1#am#v1", 180)
    rec = city.hours.record("a1#am#v1")
    assert (rec.organization_id, rec.activity_id, rec.evidence) == (
        "o-cy",
        "a1",
        Evidence.SIGN_IN_CODE,
    )
    assert (rec.scheduled_start, rec.scheduled_end) == (at(12, 9), at(12, 12))
    assert city.hours.status("a1#am#v1") == "certified"
    assert points(city, "v1") == 3
    assert heard.kinds()[:3] == [
        EventKind.HOURS_POSTED,
        EventKind.HOURS_CERTIFIED,
        EventKind.POINTS_EARNED,
    ]
    with pytest.raises(PermissionDenied):
        city.sign_out("a1", "am", "v2", by="v1", geo=near(15), code=CODE)
    city.sign_out("a1", "am", "v2", by="recorder", geo=near(15), code=CODE)
    assert points(city, "v2") == 3
    acts = [(a.action, a.by, a.own) for a in city.acts.acts() if a.action.startswith("sign_")]
    assert acts[-4:] == [
        ("sign_in", "v1", True),
        ("sign_in", "recorder", False),
        ("sign_out", "v1", True),
        ("sign_out", "recorder", False),
    ]


def test_a_sign_out_is_recorded_with_its_hours_or_not_at_all(make_city: Make, clock: Clock) -> None:
    city = _city(make_city)
    city.sign_up("a1", "am", "v1", by="v1")
    city.accept_signup("a1", "am", "v1", by="manager")
    clock.set(at(12, 9))
    _sign_in(city, "v1")
    clock.set(at(12, 10))
    # a record already posted under the id the sign-out's record takes
    clash = ServiceRecord(
        id="a1#am#v1",
        volunteer_id="v1",
        activity_id="x",
        organization_id="o-cy",
        region_code=CY_VILLAGE,
        category="助老",
        start=at(12, 9),
        end=at(12, 10),
        evidence=Evidence.SUPERVISOR,
    )
    city.post(clash, by="recorder")
    before = _fingerprint(city)
    clock.set(at(12, 11))
    with pytest.raises(Conflict, match="already used by another record"):
        city.sign_out("a1", "am", "v1", by="v1", geo=near(5), code=CODE)
    assert _fingerprint(city) == before
    assert city.projects.signup("a1", "am", "v1").state is S.SIGNED_IN


def test_a_forgotten_sign_out_is_topped_up_by_another_never_past_the_shift(
    make_city: Make, clock: Clock
) -> None:
    city = _city(make_city)
    city.register(volunteer("v-admin"), by="v-admin")
    for vid in ("v1", "v-admin"):
        city.sign_up("a1", "am", vid, by=vid)
        city.accept_signup("a1", "am", vid, by="manager")
    clock.set(at(12, 9, 15))
    _sign_in(city, "v1", "v-admin")
    clock.set(at(12, 13, 30))  # the sign-out window closed at 13:00
    with pytest.raises(Conflict, match="an administrator tops it up"):
        city.sign_out("a1", "am", "v1", by="v1", geo=near(5), code=CODE)
    with pytest.raises(PermissionDenied, match="nobody may top up their own hours"):
        city.top_up("a1", "am", "v-admin", by="v-admin")
    with pytest.raises(PermissionDenied):
        city.top_up("a1", "am", "v1", by="v2")
    before = _fingerprint(city)
    with pytest.raises(InvalidValue, match="a top-up ends inside the shift's schedule"):
        city.top_up("a1", "am", "v1", by="recorder", end=at(12, 13))
    assert _fingerprint(city) == before
    out = city.top_up("a1", "am", "v1", by="recorder", reason="忘记签退")
    assert (out.served_minutes, out.counted_minutes) == (165, 165)
    rec = city.hours.record("a1#am#v1")
    assert rec.evidence is Evidence.ADMIN_TOPUP and rec.checkout_missing
    assert city.hours.status("a1#am#v1") == "submitted"  # honour hours wait for a certifier
    city.certify("a1#am#v1", by="certifier")
    # honour hours count toward stars, not points (志愿汇: only credit hours convert)
    assert Purpose.STARS in out.counts_toward and Purpose.POINTS not in out.counts_toward
    assert points(city, "v1") == 0
    city.top_up("a1", "am", "v-admin", by="admin-cy", end=at(12, 10, 15))
    assert city.hours.outcome("a1#am#v-admin").counted_minutes == 60


def test_a_cancelled_activity_takes_no_sign_ups_and_is_refused_while_anyone_is_in(
    make_city: Make, clock: Clock
) -> None:
    city = _city(make_city)
    city.sign_up("a1", "am", "v1", by="v1")
    city.accept_signup("a1", "am", "v1", by="manager")
    clock.set(at(12, 9))
    _sign_in(city, "v1")
    with pytest.raises(Conflict, match="signed in to activity a1"):
        city.cancel_activity("a1", by="manager", reason="暴雨")
    with pytest.raises(PermissionDenied):
        city.cancel_activity("a1", by="v1")
    clock.set(at(12, 10))
    city.sign_out("a1", "am", "v1", by="v1", geo=near(1), code=CODE)
    city.cancel_activity("a1", by="manager", reason="下午暴雨")
    with pytest.raises(Conflict, match="activity a1 is cancelled"):
        city.sign_up("a1", "am", "v2", by="v2")


# --- 双向征集 (遵义) and claims ----------------------------------------------------------------


def test_needs_are_collected_into_projects_and_projects_claimed(
    make_city: Make, clock: Clock
) -> None:
    city = _city(make_city)
    for nid in ("n1", "n2"):
        city.post_need(
            Need(
                id=nid,
                requester="张大爷",
                region_code=CY_VILLAGE,
                category="助老",
                start=at(20, 9),
                end=at(20, 11),
                posted_at=at(10, 12),
            ),
            by="张大爷",
        )
    with pytest.raises(PermissionDenied):
        city.collect_needs("p1", ["n1"], by="v1")
    with pytest.raises(NotFound):
        city.collect_needs("p1", ["n9"], by="manager")
    city.collect_needs("p1", ["n1", "n2"], by="manager")
    assert city.projects.project("p1").needs == ("n1", "n2")
    with pytest.raises(Conflict, match="already collected into project p1"):
        city.collect_needs("p1", ["n2"], by="manager")
    with pytest.raises(NotFound, match="o-nowhere"):
        city.claim_project("p1", "o-nowhere", by="manager")
    city.claim_project("p1", "o-xz", by="manager")
    city.claim_project("p1", "城阳区慈善总会", kind=ClaimantKind.SPONSOR, by="manager")
    ps = city.projects.project("p1")
    assert (ps.organizer, ps.sponsors) == ("o-xz", ("城阳区慈善总会",))
    # the organization that claimed the project organizes, and records, its service
    city.sign_up("a1", "am", "v1", by="v1")
    city.accept_signup("a1", "am", "v1", by="manager")
    clock.set(at(12, 9))
    _sign_in(city, "v1")
    clock.set(at(12, 12))
    city.sign_out("a1", "am", "v1", by="v1", geo=near(1), code=CODE)
    assert city.hours.record("a1#am#v1").organization_id == "o-xz"
    city.close_project("p1", by="manager", reason="年度结项")
    with pytest.raises(Conflict, match="project p1 is closed"):
        city.claim_project("p1", "o-lk", by="manager")


# --- one transaction; a restart ----------------------------------------------------------------


def test_flows_in_one_transaction_are_recorded_together_or_not_at_all(make_city: Make) -> None:
    city = make_city()
    for vid in ("v1", "v2"):
        city.register(volunteer(vid), by=vid)
    before = _fingerprint(city)
    with pytest.raises(NotFound), city.transaction():
        city.publish_project(_project(), by="manager")
        city.publish_activity(_activity(places=1), by="manager")
        assert city.sign_up("a1", "am", "v1", by="v1").state is S.PENDING
        assert city.sign_up("a1", "am", "v2", by="v2").state is S.WAITLISTED  # sees v1's place
        city.sign_up("a1", "am", "v9", by="v9")
    assert _fingerprint(city) == before
    with city.transaction():
        city.publish_project(_project(), by="manager")
        city.publish_activity(_activity(places=1), by="manager")
        city.sign_up("a1", "am", "v1", by="v1")
        city.sign_up("a1", "am", "v2", by="v2")
        promoted = city.cancel_signup("a1", "am", "v1", by="v1")
        assert promoted is not None and promoted.volunteer_id == "v2"
    assert city.projects.roster("a1", "am").pending == ("v2",)


def _story(city: Platform, clock: Clock) -> None:
    for vid in ("v1", "v2", "v3"):
        city.register(volunteer(vid), by=vid)
    city.publish_project(_project(), by="manager")
    city.publish_activity(_activity(), by="manager")
    for vid in ("v1", "v2", "v3"):
        city.sign_up("a1", "am", vid, by=vid)
    city.accept_signup("a1", "am", "v1", by="manager")
    city.cancel_signup("a1", "am", "v2", by="v2")  # v3 promoted
    city.accept_signup("a1", "am", "v3", by="manager")
    clock.set(at(12, 9))
    _sign_in(city, "v1", "v3")
    clock.set(at(12, 12))
    city.sign_out("a1", "am", "v1", by="v1", geo=near(3), code=CODE)


def _tables(city: Platform) -> dict[str, Any]:
    """The project book's folded state, table by table."""
    state = city.projects._state
    return {name: copy.copy(getattr(state, name)) for name in type(state).__slots__}


def _state(city: Platform) -> dict[str, Any]:
    return {
        "projects": _tables(city),
        "roster": city.projects.roster("a1", "am"),
        "signups": [city.projects.signups_of(v) for v in ("v1", "v2", "v3")],
        "hours": city.hours.records_of("v1"),
        "status": city.hours.status("a1#am#v1"),
        "points": city.points.accounts(),
        "acts": city.acts.acts(),
        "head": city.journal.head,
        "size": len(city.journal),
        "find": city.projects.find(region=CY, open_only=False),
    }


def test_a_restart_from_sqlite_gives_the_same_state(db_path: Path, clock: Clock) -> None:
    pol = rules(hours=[HourPolicy(auto_certify={"sign_in_code"})])

    def open_city() -> Platform:
        return Platform.open(db_path, registry(), policies=pol, grants=GRANTS, clock=clock)

    with open_city() as city:
        _story(city, clock)
        before = _state(city)
        assert points(city, "v1") == 3
    with open_city() as city:
        assert _state(city) == before
        assert city.journal.verify(decode=True).ok
        # the reopened platform goes on where it stopped: v3 is still signed in
        clock.set(at(12, 12, 5))
        out = city.sign_out("a1", "am", "v3", by="v3", geo=near(3), code=CODE)
        assert out.counted_minutes == 185 and points(city, "v3") == 3  # 09:00–12:05
    with open_city() as city:  # and once more, from a checkpoint
        city.journal.checkpoint()
        after = _state(city)
    with open_city() as city:
        assert _state(city) == after


# --- a seed city: 时尚市南 (青岛市南区) --------------------------------------------------------


def test_shinan_recruits_publishes_and_certifies(clock: Clock) -> None:
    """时尚市南: 招募注册、项目发布、工时认证. The district's association publishes a project and a
    QR sign-in activity on 栈桥; volunteers register and sign up themselves; the association
    certifies the hours its activity earned."""
    sn, street, village = "370202", "370202001", "370202001001"
    reg = Registry(
        load_default(), [Organization(id="o-sn", name="市南区志愿者协会", region_code=sn)]
    )
    grants = [
        Grant(principal="区协会", region_code=sn, actions={Action.MANAGE, Action.CERTIFY}),
        Grant(principal="街道", region_code=street, actions={Action.RECORD}),
    ]
    city = Platform(reg, policies=rules(), grants=grants, clock=clock)
    for vid in ("王芳", "李强"):
        city.register(volunteer(vid, village), by=vid)
    city.publish_project(
        Project(
            id="sn-blue",
            name="蓝色海湾守护行动",
            organization_id="o-sn",
            region_code=sn,
            category="环保",
        ),
        by="区协会",
    )
    city.publish_activity(
        Activity(
            id="zq-0315",
            project_id="sn-blue",
            name="栈桥海滩清洁",
            region_code=village,
            category="环保",
            shifts=[Shift(id="am", start=at(15, 9), end=at(15, 11), places=30)],
            points=[SignInPoint(id="qr", qr="zhiyuan:zq-0315:qr")],
            auto_accept=True,
        ),
        by="区协会",
    )
    found = city.projects.find(region=sn, category="环保")
    assert [(o.activity.id, o.open_places) for o in found] == [("zq-0315", 30)]
    for vid in ("王芳", "李强"):
        assert city.sign_up("zq-0315", "am", vid, by=vid).state is S.ACCEPTED
    clock.set(at(15, 8, 45))
    for vid in ("王芳", "李强"):
        city.sign_in("zq-0315", "am", vid, by=vid, qr="zhiyuan:zq-0315:qr")
    clock.set(at(15, 11, 5))
    for vid in ("王芳", "李强"):
        city.sign_out("zq-0315", "am", vid, by=vid, qr="zhiyuan:zq-0315:qr")
    for vid in ("王芳", "李强"):
        rid = f"zq-0315#am#{vid}"
        assert city.hours.record(rid).evidence is Evidence.QR_SCAN
        city.certify(rid, by="区协会")
        assert points(city, vid) == 2  # 140 min served: 2 points at 1 h = 1 point
