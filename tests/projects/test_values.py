"""The values of ``zhiyuan.projects`` check every field (end after start, places at least one,
radius not negative, a 6-digit code, unique shift and point ids, an age range that is a range),
requirements are met as the matching skills are, and every value and entry round-trips through
JSON."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zhiyuan import SHANGHAI
from zhiyuan.convert import from_json, to_json
from zhiyuan.errors import InvalidValue, NotFound, ZhiyuanError
from zhiyuan.hours import Evidence, GeoFix, ServiceRecord, Volunteer
from zhiyuan.matching import Skill
from zhiyuan.projects import (
    DEFAULT_RADIUS_M,
    Activity,
    ActivityCancelled,
    ActivityPublished,
    ClaimantKind,
    NeedsCollected,
    Project,
    ProjectClaimed,
    ProjectClosed,
    ProjectEntry,
    ProjectPublished,
    Promoted,
    Requirements,
    Shift,
    SignedIn,
    SignedOut,
    SignedUp,
    SignInPoint,
    SignUpAccepted,
    SignUpCancelled,
    SignUpDeclined,
    ToppedUp,
    Waitlisted,
)


def t(hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 5, 10, hour, minute, tzinfo=SHANGHAI)


GATE = GeoFix(lat=36.06, lon=120.32)


# --- projects and shifts -----------------------------------------------------------------------


def test_a_project_keeps_its_region_as_twelve_digits() -> None:
    p = Project(id="p1", name="项目", organization_id="o1", region_code=370202, category="环保")
    assert p.region_code == "370202000000"
    assert p.sponsor is None and p.description == ""


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id", ""),
        ("name", "  "),
        ("organization_id", None),
        ("region_code", "37020"),
        ("category", 3),
        ("description", None),
        ("sponsor", ""),
    ],
)
def test_a_project_refuses_a_bad_field(field: str, value: Any) -> None:
    kw: dict[str, Any] = {
        "id": "p1",
        "name": "项目",
        "organization_id": "o1",
        "region_code": "370202",
        "category": "环保",
    }
    kw[field] = value
    with pytest.raises(InvalidValue) as err:
        Project(**kw)
    assert err.value.field == field


def test_a_shift_ends_after_it_starts_and_has_a_place() -> None:
    s = Shift(id="s", start=t(9), end=t(11, 30), places=1)
    assert s.minutes == 150 and s.day == date(2025, 5, 10)
    with pytest.raises(InvalidValue, match="end must be after start"):
        Shift(id="s", start=t(9), end=t(9), places=1)
    for places in (0, -1, True, 1.5, None):
        with pytest.raises(InvalidValue) as err:
            Shift(id="s", start=t(9), end=t(10), places=places)
        assert err.value.field == "places"
    with pytest.raises(InvalidValue, match="naive"):
        Shift(id="s", start=datetime(2025, 5, 10, 9), end=t(10), places=1)


def test_a_shift_is_kept_in_shanghai_time() -> None:
    from datetime import UTC

    s = Shift(id="s", start=datetime(2025, 5, 10, 1, tzinfo=UTC), end=t(11), places=1)
    assert s.start == t(9) and s.start.tzinfo is SHANGHAI


# --- sign-in points ----------------------------------------------------------------------------


def test_a_sign_in_point_needs_a_check_and_has_a_default_radius() -> None:
    p = SignInPoint(id="g", place=GATE)
    assert p.radius_m == DEFAULT_RADIUS_M == 300 and p.checks == ("fence",)
    both = SignInPoint(id="g", place=GATE, code="000123", qr="tok")
    assert both.checks == ("fence", "code", "qr")
    with pytest.raises(InvalidValue, match="needs a place, a code or a QR token"):
        SignInPoint(id="g")


@pytest.mark.parametrize("code", ["12345", "1234567", "12345a", "１２３４５６", 123456, ""])
def test_a_sign_in_code_is_six_ascii_digits(code: Any) -> None:
    with pytest.raises(InvalidValue) as err:
        SignInPoint(id="g", code=code)
    assert err.value.field == "code"


@pytest.mark.parametrize("radius", [-1, 100_001, True, 30.5])
def test_a_geofence_radius_is_whole_metres_from_zero(radius: Any) -> None:
    with pytest.raises(InvalidValue) as err:
        SignInPoint(id="g", place=GATE, radius_m=radius)
    assert err.value.field == "radius_m"
    assert SignInPoint(id="g", place=GATE, radius_m=0).radius_m == 0


# --- requirements ------------------------------------------------------------------------------


def test_requirements_check_age_on_the_day_of_the_shift(vol: Callable[..., Volunteer]) -> None:
    need = Requirements(min_age=18, max_age=60)
    day = date(2025, 5, 10)
    assert need.unmet(vol("a", born=date(2007, 5, 10)), day) == ()  # 18 that day
    young = need.unmet(vol("b", born=date(2007, 5, 11)), day)  # 17 that day
    assert [f.rule for f in young] == ["projects.age_below"]
    assert young[0].numbers == {"age": 17, "min_age": 18}
    old = need.unmet(vol("c", born=date(1964, 5, 9)), day)  # 61
    assert [(f.rule, f.numbers["age"]) for f in old] == [("projects.age_above", 61)]
    unknown = need.unmet(vol("d"), day)
    assert [f.rule for f in unknown] == ["projects.age_unknown"]
    assert Requirements().unmet(vol("d"), day) == ()


def test_requirements_match_skills_as_matching_does(vol: Callable[..., Volunteer]) -> None:
    day = date(2025, 5, 10)
    need = Requirements(skills={"医疗", "语言/英语"})
    nurse = vol("n", skills={"医疗/护理", "语言/英语/口译"})
    assert need.unmet(nurse, day) == ()
    cook = vol("c", skills={"医疗/", "厨艺"})  # not a skill path: meets nothing
    assert [f.values[1] for f in need.unmet(cook, day)] == ["医疗", "语言/英语"]
    # the same answer as Skill.satisfies, for every pair
    for held in ("医疗", "医疗/护理", "医疗x", "医"):
        for required in ("医疗", "医疗/护理", "医疗/护理/老年"):
            met = not Requirements(skills={required}).unmet(vol("x", skills={held}), day)
            assert met is Skill(name=held).satisfies(required)


def test_requirements_check_trainings_vouched_for(vol: Callable[..., Volunteer]) -> None:
    need = Requirements(training={"急救培训", "安全培训"})
    v = vol("v")
    got = need.unmet(v, date(2025, 5, 10), training=["急救培训"])
    assert [(f.rule, f.values[1]) for f in got] == [("projects.training", "安全培训")]
    assert need.unmet(v, date(2025, 5, 10), training={"急救培训", "安全培训", "其他"}) == ()
    with pytest.raises(InvalidValue):
        need.unmet(v, date(2025, 5, 10), training=[""])


@pytest.mark.parametrize(
    "kw",
    [
        {"min_age": -1},
        {"max_age": 151},
        {"min_age": 20, "max_age": 19},
        {"skills": ["医疗/"]},
        {"skills": [3]},
        {"skills": None},
        {"training": [""]},
        {"training": 5},
    ],
)
def test_requirements_refuse_bad_values(kw: dict[str, Any]) -> None:
    with pytest.raises(InvalidValue):
        Requirements(**kw)


def test_a_single_skill_or_training_is_one_name_not_its_characters() -> None:
    r = Requirements(skills="医疗/护理", training="急救培训")
    assert r.skills == {"医疗/护理"} and r.training == {"急救培训"}


# --- activities --------------------------------------------------------------------------------


def _activity(**kw: Any) -> Activity:
    base: dict[str, Any] = {
        "id": "a1",
        "project_id": "p1",
        "name": "活动",
        "region_code": "370202001001",
        "category": "环保",
        "shifts": [Shift(id="am", start=t(9), end=t(11), places=2)],
        "points": [SignInPoint(id="g", place=GATE)],
    }
    base.update(kw)
    return Activity(**base)


def test_an_activity_finds_its_shifts_and_points() -> None:
    pm = Shift(id="pm", start=t(14), end=t(17), places=1)
    a = _activity(shifts=[Shift(id="am", start=t(9), end=t(11), places=2), pm])
    assert a.shift("pm") is pm and a.point("g").place == GATE
    assert (a.start, a.end) == (t(9), t(17))
    with pytest.raises(NotFound):
        a.shift("x")
    with pytest.raises(NotFound):
        a.point("x")


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"shifts": []}, "shifts"),
        ({"shifts": "am"}, "shifts"),
        (
            {
                "shifts": [
                    Shift(id="am", start=t(9), end=t(10), places=1),
                    Shift(id="am", start=t(11), end=t(12), places=1),
                ]
            },
            "shifts",
        ),
        ({"points": [SignInPoint(id="g", code="123456")] * 2}, "points"),
        ({"points": ["g"]}, "points"),
        ({"requirements": {"min_age": 18}}, "requirements"),
        ({"auto_accept": 1}, "auto_accept"),
        ({"early_minutes": -5}, "early_minutes"),
        ({"late_minutes": 1441}, "late_minutes"),
        ({"region_code": "3702x"}, "region_code"),
    ],
)
def test_an_activity_refuses_bad_fields(kw: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidValue) as err:
        _activity(**kw)
    assert err.value.field == field


def test_an_activity_without_points_is_allowed_and_one_shift_alone_is_a_list() -> None:
    a = _activity(points=(), shifts=Shift(id="am", start=t(9), end=t(11), places=1))
    assert a.points == () and len(a.shifts) == 1


# --- entries and JSON --------------------------------------------------------------------------


def _record(**kw: Any) -> ServiceRecord:
    base: dict[str, Any] = {
        "id": "a1#am#v1",
        "volunteer_id": "v1",
        "activity_id": "a1",
        "organization_id": "o1",
        "region_code": "370202001001",
        "category": "环保",
        "start": t(9),
        "end": t(11),
        "evidence": Evidence.SIGN_IN_CODE,
        "scheduled_start": t(9),
        "scheduled_end": t(11),
        "recorded_at": t(11),
    }
    base.update(kw)
    return ServiceRecord(**base)


def _entries() -> list[ProjectEntry]:
    p = Project(id="p1", name="项目", organization_id="o1", region_code="370202", category="环保")
    common = {"activity_id": "a1", "shift_id": "am", "volunteer_id": "v1"}
    return [
        ProjectPublished(id="e1", at=t(7), project=p, by="center"),
        ProjectClosed(id="e2", at=t(7), project_id="p1", by="center", reason="结项"),
        NeedsCollected(id="e3", at=t(7), project_id="p1", need_ids=["n1", "n2"], by="c"),
        ProjectClaimed(id="e4", at=t(7), project_id="p1", claimant="o2", kind="sponsor", by="c"),
        ActivityPublished(
            id="e5",
            at=t(7),
            activity=_activity(requirements=Requirements(min_age=16, skills={"医疗"})),
            by="c",
        ),
        ActivityCancelled(id="e6", at=t(7), activity_id="a1", by="c"),
        SignedUp(id="e7", at=t(8), attempt=2, **common),
        Waitlisted(id="e8", at=t(8), **common),
        Promoted(id="e9", at=t(8), **common),
        SignUpAccepted(id="e10", at=t(8), by="c", **common),
        SignUpDeclined(id="e11", at=t(8), by="c", reason="满员", **common),
        SignUpCancelled(id="e12", at=t(8), by="v1", **common),
        SignedIn(
            id="e13",
            at=t(9),
            point_id="g",
            evidence="gps",
            geo=GATE,
            distance_m=12,
            **common,
        ),
        SignedOut(
            id="e14",
            at=t(11),
            point_id="g",
            evidence=Evidence.QR_SCAN,
            record=_record(),
            **common,
        ),
        ToppedUp(id="e15", at=t(12), by="c", record=_record(checkout_missing=True), **common),
    ]


@pytest.mark.parametrize("entry", _entries(), ids=lambda e: type(e).__name__)
def test_every_entry_round_trips_through_json_with_its_tag(entry: ProjectEntry) -> None:
    text = to_json(entry)
    assert '"type": "projects.' in text
    assert from_json(text, ProjectEntry) == entry
    assert from_json(text, type(entry)) == entry


def test_entries_refuse_bad_values() -> None:
    common = {"activity_id": "a1", "shift_id": "am", "volunteer_id": "v1"}
    with pytest.raises(InvalidValue):
        NeedsCollected(id="e", at=t(7), project_id="p1", need_ids=[], by="c")
    with pytest.raises(InvalidValue):
        NeedsCollected(id="e", at=t(7), project_id="p1", need_ids=["n1", "n1"], by="c")
    with pytest.raises(InvalidValue):
        NeedsCollected(id="e", at=t(7), project_id="p1", need_ids="n1", by="c")
    with pytest.raises(InvalidValue):
        ProjectClaimed(id="e", at=t(7), project_id="p1", claimant="x", kind="friend", by="c")
    with pytest.raises(InvalidValue):
        SignedUp(id="e", at=t(7), attempt=0, **common)
    with pytest.raises(InvalidValue):
        SignedIn(id="e", at=t(9), point_id="g", evidence="gps", distance_m=-1, **common)
    assert ClaimantKind("organization") is ClaimantKind.ORGANIZATION


@given(
    start=st.datetimes(
        min_value=datetime(2000, 1, 1),
        max_value=datetime(2100, 1, 1),
        timezones=st.just(SHANGHAI),
    ),
    minutes=st.integers(1, 24 * 60),
    places=st.integers(1, 10_000),
)
def test_a_shift_round_trips_through_json(start: datetime, minutes: int, places: int) -> None:
    s = Shift(id="s", start=start, end=start + timedelta(minutes=minutes), places=places)
    assert from_json(to_json(s), Shift) == s


@given(
    st.dictionaries(st.sampled_from(["min_age", "max_age", "skills", "training"]), st.integers())
)
def test_junk_requirements_raise_only_zhiyuan_errors(kw: dict[str, Any]) -> None:
    with contextlib.suppress(ZhiyuanError):
        Requirements(**kw)
