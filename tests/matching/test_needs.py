"""Needs and candidates: hierarchical skills with expiry, availability, validation."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from support.matching import SH, VILLAGE, at, cand, dispatcher, need
from zhiyuan.convert import from_json, to_json
from zhiyuan.errors import InvalidValue, NotFound, ZhiyuanError
from zhiyuan.hours import GeoFix, Recurrence
from zhiyuan.matching import (
    FIVE_FOR,
    SEVEN_HELPS,
    Availability,
    Candidate,
    CandidateKind,
    Need,
    NeedBook,
    Skill,
    Slot,
    Urgency,
)

# --- categories and urgency --------------------------------------------------------------------


def test_category_lists() -> None:
    assert SEVEN_HELPS == ("帮老", "帮困", "帮病", "帮残", "帮教", "帮事", "帮心")
    assert len(FIVE_FOR) == 5 and FIVE_FOR[0] == "为老"


def test_urgency_ranks_in_order() -> None:
    ranks = [u.rank for u in (Urgency.LOW, Urgency.NORMAL, Urgency.HIGH, Urgency.EMERGENCY)]
    assert ranks == [0, 1, 2, 3]


def test_urgency_given_by_value_is_converted() -> None:
    assert need(urgency="high").urgency is Urgency.HIGH


def test_unknown_urgency_is_invalid() -> None:
    with pytest.raises(InvalidValue, match="urgency"):
        need(urgency="asap")


# --- skills ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("held", "required", "ok"),
    [
        ("医疗/护理", "医疗/护理", True),  # itself
        ("医疗/护理", "医疗", True),  # a more general requirement
        ("医疗/护理/老年护理", "医疗", True),  # two levels down
        ("医疗/护理", "医疗/护理/老年护理", False),  # more specific than held
        ("医疗器械", "医疗", False),  # a prefix of the name is not a parent
        ("医疗", "医疗器械", False),
        ("法律", "医疗", False),
    ],
)
def test_skill_hierarchy(held: str, required: str, ok: bool) -> None:
    assert Skill(name=held).satisfies(required) is ok


def test_skill_expiry_is_exclusive() -> None:
    s = Skill(name="急救", expires=date(2025, 5, 1))
    assert s.valid_on(date(2025, 4, 30))
    assert not s.valid_on(date(2025, 5, 1))
    assert Skill(name="急救").valid_on(date(2999, 1, 1))


@pytest.mark.parametrize("name", ["", "  ", "医疗//护理", "/医疗", "医疗/", "医疗/ /护理"])
def test_bad_skill_paths_are_invalid(name: str) -> None:
    with pytest.raises(InvalidValue):
        Skill(name=name)


def test_skill_expiry_must_be_a_date() -> None:
    with pytest.raises(InvalidValue, match="expires"):
        Skill(name="急救", expires=datetime(2025, 5, 1, tzinfo=SH))  # type: ignore[arg-type]


def test_candidate_skills_from_strings_are_sorted_skills() -> None:
    c = cand("a", skills=["法律", Skill(name="医疗/护理"), "助老"])
    assert [s.name for s in c.skills] == sorted(["法律", "医疗/护理", "助老"])
    assert all(isinstance(s, Skill) for s in c.skills)
    one = Candidate(id="b", home_region=VILLAGE, skills="助老")  # type: ignore[arg-type]
    assert one.skills == (Skill(name="助老"),)


def test_missing_skills_counts_expired_ones_as_missing() -> None:
    c = cand(
        "a", skills=[Skill(name="医疗/急救", expires=date(2025, 5, 2)), Skill(name="法律/咨询")]
    )
    assert c.missing_skills({"医疗", "法律"}, date(2025, 5, 1)) == []
    assert c.missing_skills({"医疗", "法律"}, date(2025, 5, 2)) == ["医疗"]
    assert c.missing_skills({"心理", "医疗/急救/心肺复苏"}, date(2025, 5, 1)) == [
        "医疗/急救/心肺复苏",
        "心理",
    ]


@given(
    parts=st.lists(
        st.sampled_from(["医疗", "护理", "老年", "急救", "法律"]), min_size=1, max_size=4
    ),
    cut=st.integers(min_value=1, max_value=4),
)
def test_a_skill_satisfies_each_of_its_ancestors(parts: list[str], cut: int) -> None:
    s = Skill(name="/".join(parts))
    assert s.satisfies("/".join(parts[: min(cut, len(parts))]))
    assert not s.satisfies("/".join([*parts, "更细"]))


# --- availability ------------------------------------------------------------------------------

SATURDAYS = Slot(
    recurrence=Recurrence(rule="FREQ=WEEKLY;BYDAY=SA", dtstart=datetime(2025, 1, 4, 9, tzinfo=SH)),
    minutes=180,
)  # every Saturday 09:00–12:00
EVENINGS = Slot(
    recurrence=Recurrence(rule="FREQ=DAILY", dtstart=datetime(2025, 1, 1, 18, tzinfo=SH)),
    minutes=120,
)  # every day 18:00–20:00


def test_no_slots_means_any_time() -> None:
    assert Availability().covers(at(1, 3), at(1, 23))


@pytest.mark.parametrize(
    ("start", "end", "ok"),
    [
        (at(3, 9), at(3, 12), True),  # exactly one occurrence (3 May 2025 is a Saturday)
        (at(3, 9, 30), at(3, 11), True),
        (at(3, 8, 59), at(3, 11), False),  # a minute early
        (at(3, 9), at(3, 12, 1), False),  # a minute late
        (at(4, 9), at(4, 10), False),  # Sunday
        (at(2, 9), at(2, 10), False),  # Friday
    ],
)
def test_weekly_slot_must_hold_the_whole_window(start: datetime, end: datetime, ok: bool) -> None:
    assert Availability(slots=(SATURDAYS,)).covers(start, end) is ok


def test_any_one_of_several_slots_may_cover() -> None:
    a = Availability(slots=(SATURDAYS, EVENINGS))
    assert a.covers(at(7, 18), at(7, 20))  # a Wednesday evening
    assert a.covers(at(3, 10), at(3, 11))  # Saturday morning
    assert not a.covers(at(7, 10), at(7, 11))


def test_a_window_spanning_two_occurrences_is_not_covered() -> None:
    assert not Availability(slots=(EVENINGS,)).covers(at(7, 19), at(8, 19))


def test_blocked_periods_cut_into_availability() -> None:
    a = Availability(slots=(SATURDAYS,), blocked=((at(3, 10), at(3, 11)),))
    assert not a.covers(at(3, 9), at(3, 12))
    assert not a.covers(at(3, 10, 59), at(3, 11, 30))
    assert a.covers(at(3, 9), at(3, 10))  # touching the block is fine
    assert a.covers(at(3, 11), at(3, 12))
    assert a.covers(at(10, 9), at(10, 12))  # the next Saturday


def test_blocked_periods_apply_without_slots() -> None:
    a = Availability(blocked=((at(1, 0), at(8, 0)),))  # away for a week
    assert not a.covers(at(5, 9), at(5, 10))
    assert a.covers(at(8, 9), at(8, 10))


def test_blocked_periods_are_converted_to_shanghai() -> None:
    a = Availability(
        blocked=((datetime(2025, 5, 1, 1, tzinfo=UTC), datetime(2025, 5, 1, 2, tzinfo=UTC)),)
    )
    assert a.blocked == ((at(1, 9), at(1, 10)),)
    assert a.blocked[0][0].tzinfo is SH


@pytest.mark.parametrize(
    "period",
    [
        (datetime(2025, 5, 1, 9), at(1, 10)),  # naive start
        (at(1, 9), datetime(2025, 5, 1, 10)),  # naive end
        (at(1, 10), at(1, 10)),  # empty
        (at(1, 10), at(1, 9)),  # backwards
        ("2025-05-01", at(1, 9)),  # not a datetime
    ],
)
def test_bad_blocked_periods_are_invalid(period: tuple[object, object]) -> None:
    with pytest.raises(InvalidValue, match="blocked"):
        Availability(blocked=(period,))  # type: ignore[arg-type]


def test_slot_minutes_must_be_positive() -> None:
    with pytest.raises(InvalidValue, match="minutes"):
        Slot(recurrence=SATURDAYS.recurrence, minutes=0)


# --- candidates --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("completed", "no_shows", "percent"), [(0, 0, 100), (9, 1, 90), (2, 1, 66), (0, 3, 0)]
)
def test_reliability_percent(completed: int, no_shows: int, percent: int) -> None:
    assert cand("a", completed=completed, no_shows=no_shows).reliability_percent == percent


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("capacity", 0),
        ("capacity", True),
        ("load", -1),
        ("rating_hundredths", -1),
        ("completed", 1.5),
        ("id", ""),
    ],
)
def test_bad_candidate_fields_are_invalid(field: str, value: object) -> None:
    kw: dict[str, object] = {"id": "a", "home_region": VILLAGE, field: value}
    with pytest.raises(InvalidValue, match=field):
        Candidate(**kw)  # type: ignore[arg-type]


def test_candidate_home_is_normalized_and_checked() -> None:
    assert cand("a", "370214001").home_region == "370214001000"
    assert cand("t", kind=CandidateKind.TEAM).kind is CandidateKind.TEAM
    with pytest.raises(InvalidValue, match="home_region"):
        cand("a", "37021")


# --- needs -------------------------------------------------------------------------------------


def test_need_is_normalized() -> None:
    n = need(
        region="370214001001",
        skills=["助老"],
        start=datetime(2025, 5, 1, 1, tzinfo=UTC),
        end=datetime(2025, 5, 1, 3, tzinfo=UTC),
        posted=datetime(2025, 4, 30, 23, tzinfo=timezone(timedelta(hours=8))),
        location=GeoFix(lat=36.3, lon=120.4),
    )
    assert (n.start, n.end) == (at(1, 9), at(1, 11))
    assert n.start.tzinfo is SH and n.posted_at.tzinfo is SH
    assert n.skills == frozenset({"助老"}) and n.headcount == 1 and n.urgency is Urgency.NORMAL
    assert Need(
        id="n", requester="r", region_code=VILLAGE, category="帮老", skills="助老",  # type: ignore[arg-type]
        start=at(1, 9), end=at(1, 10), posted_at=at(1, 8),
    ).skills == frozenset({"助老"})  # fmt: skip


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"end": at(1, 9)}, "end"),  # end == start
        ({"end": at(1, 8)}, "end"),  # end before start
        ({"start": datetime(2025, 5, 1, 9)}, "start"),  # naive
        ({"posted": datetime(2025, 5, 1, 7)}, "posted_at"),
        ({"headcount": 0}, "headcount"),
        ({"headcount": 2.0}, "headcount"),
        ({"id": ""}, "id"),
        ({"requester": " "}, "requester"),
        ({"category": ""}, "category"),
        ({"skills": [""]}, "skills"),
        ({"skills": ["医疗//护理"]}, "skills"),
        ({"skills": ["医疗/"]}, "skills"),
    ],
)
def test_bad_needs_are_invalid(kw: dict[str, object], field: str) -> None:
    nid = kw.pop("id", "n1")
    with pytest.raises(InvalidValue, match=field):
        need(nid, **kw)  # type: ignore[arg-type]


def test_bad_need_region_is_invalid() -> None:
    with pytest.raises(InvalidValue, match="region_code"):
        need(region="3702140010")


def test_errors_are_zhiyuan_errors() -> None:
    assert issubclass(InvalidValue, ZhiyuanError) and issubclass(NotFound, ZhiyuanError)


def test_need_is_frozen_and_hashable() -> None:
    n = need()
    assert hash(n) == hash(need())
    with pytest.raises(AttributeError):
        n.headcount = 2  # type: ignore[misc]


# --- issue 14: bad input is refused at construction, naming the field --------------------------

SAT = Slot(recurrence=Recurrence(rule="FREQ=DAILY", dtstart=at(1, 9)), minutes=60)
NEED_FIELDS: dict[str, object] = {
    "id": "n1",
    "requester": "张大爷",
    "region_code": VILLAGE,
    "category": "帮老",
    "start": at(1, 9),
    "end": at(1, 11),
    "posted_at": at(1, 7),
}


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"skills": None}, "skills"),  # was a TypeError
        ({"skills": 1}, "skills"),
        ({"skills": [1]}, "skills"),
        ({"skills": b"x"}, "skills"),
        ({"skills": {"助老": 1}}, "skills"),
        ({"location": "here"}, "location"),
        ({"location": (36.3, 120.4)}, "location"),
        ({"start": None}, "start"),  # was a TypeError
        ({"end": None}, "end"),
        ({"posted_at": "2025-05-01T07:00+08:00"}, "posted_at"),
        ({"posted_at": None}, "posted_at"),
        ({"start": datetime(1800, 5, 1, 9, tzinfo=SH)}, "start"),
        ({"headcount": 10**30}, "headcount"),
        ({"headcount": None}, "headcount"),
        ({"urgency": None}, "urgency"),
        ({"urgency": ["high"]}, "urgency"),
        ({"category": None}, "category"),
        ({"requester": 7}, "requester"),
    ],
)
def test_bad_need_fields_are_invalid_values(kw: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidValue) as err:
        Need(**{**NEED_FIELDS, **kw})  # type: ignore[arg-type]
    assert err.value.field == field
    assert str(err.value).startswith(f"{field}: ")


def test_posting_without_any_skill_given_as_none_changes_no_book() -> None:
    book = NeedBook()
    book.post(need("n0"))
    before = book.entries
    with pytest.raises(InvalidValue, match="skills"):
        book.post(Need(**{**NEED_FIELDS, "skills": None}))  # type: ignore[arg-type]
    assert book.entries == before


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"kind": "squad"}, "kind"),
        ({"kind": None}, "kind"),
        ({"location": "here"}, "location"),
        ({"location": 1}, "location"),
        ({"availability": None}, "availability"),  # was accepted, then rank failed
        ({"availability": "weekends"}, "availability"),
        ({"skills": None}, "skills"),
        ({"skills": [""]}, "skills"),  # was named "name", the Skill's field
        ({"skills": [3]}, "skills"),
        ({"capacity": 10**30}, "capacity"),
        ({"capacity": None}, "capacity"),
        ({"load": None}, "load"),
        ({"load": 2**70}, "load"),
        ({"rating_hundredths": 501}, "rating_hundredths"),  # more than 5 stars
        ({"no_shows": "1"}, "no_shows"),
        ({"home_region": None}, "home_region"),  # was named region_code
        ({"id": None}, "id"),
    ],
)
def test_bad_candidate_fields_are_invalid_values(kw: dict[str, object], field: str) -> None:
    fields: dict[str, object] = {"id": "a", "home_region": VILLAGE, **kw}
    with pytest.raises(InvalidValue) as err:
        Candidate(**fields)  # type: ignore[arg-type]
    assert err.value.field == field


def test_unknown_kind_lists_the_allowed_values() -> None:
    with pytest.raises(InvalidValue, match="volunteer, team"):
        cand("t", kind="squad")


def test_kind_given_as_text_is_the_enum_in_every_path() -> None:
    t = cand("t", kind="team")
    assert t.kind is CandidateKind.TEAM and t == cand("t", kind=CandidateKind.TEAM)
    assert from_json(to_json(t), Candidate) == t
    d = dispatcher(t)
    book = NeedBook(dispatcher=d)
    book.post(need())
    assert book.offer_next("n1", at=at(1, 7, 5)).kind is CandidateKind.TEAM  # type: ignore[union-attr]


def test_a_refused_candidate_never_reaches_the_dispatcher() -> None:
    d = dispatcher(cand("a"))
    before = d.rank(need())
    for bad in ({"location": "here"}, {"availability": None}, {"kind": "squad"}):
        with pytest.raises(InvalidValue):
            d.add(cand("b", **bad))
    assert d.rank(need()) == before  # b is not there, and a ranks as before


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"slots": None}, "slots"),
        ({"slots": [1]}, "slots"),
        ({"slots": "weekends"}, "slots"),
        ({"blocked": None}, "blocked"),  # was a TypeError
        ({"blocked": " "}, "blocked"),  # was a ValueError
        ({"blocked": b"x"}, "blocked"),
        ({"blocked": [(at(1, 9),)]}, "blocked"),
        ({"blocked": [(at(1, 9), at(1, 10), at(1, 11))]}, "blocked"),
        ({"blocked": (at(1, 9), at(1, 10))}, "blocked"),  # one period, not a list of them
        ({"blocked": [(None, at(1, 10))]}, "blocked.start"),
        ({"blocked": [(at(1, 9), datetime(2300, 1, 1, tzinfo=SH))]}, "blocked.end"),
    ],
)
def test_bad_availability_is_invalid(kw: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidValue) as err:
        Availability(**kw)  # type: ignore[arg-type]
    assert err.value.field == field


def test_availability_slots_are_a_tuple() -> None:
    assert Availability(slots=[SAT]).slots == (SAT,)  # type: ignore[arg-type]
    assert Availability(slots=SAT).slots == (SAT,)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"recurrence": None}, "recurrence"),
        ({"recurrence": "FREQ=DAILY"}, "recurrence"),
        ({"minutes": 10**9}, "minutes"),  # a timedelta that overflows when covering
        ({"minutes": None}, "minutes"),
    ],
)
def test_bad_slots_are_invalid(kw: dict[str, object], field: str) -> None:
    fields: dict[str, object] = {"recurrence": SAT.recurrence, "minutes": 60, **kw}
    with pytest.raises(InvalidValue) as err:
        Slot(**fields)  # type: ignore[arg-type]
    assert err.value.field == field


def test_skill_given_as_something_else_is_invalid() -> None:
    with pytest.raises(InvalidValue, match="name"):
        Skill(name=None)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="expires"):
        Skill(name="急救", expires="2025-01-01")  # type: ignore[arg-type]
