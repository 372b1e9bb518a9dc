"""Feedback (评单): ratings, complaints and their resolution, Bayesian scores, hour reversal.

Self-contained: the small hour ledgers are built here as in the ``zhiyuan.hours.ledger`` docstring.
Every datetime is explicit and aware; nothing reads the wall clock.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta, timezone
from fractions import Fraction
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from zhiyuan import SHANGHAI
from zhiyuan.convert import from_json, from_toml, to_json, to_toml
from zhiyuan.errors import Conflict, InvalidInput, InvalidValue, NotFound, PermissionDenied
from zhiyuan.hierarchy import Grant, Jurisdiction, Organization, Registry, load_default
from zhiyuan.hours import Evidence, HourLedger, HourPolicy, Reversed, ServiceRecord, Volunteer
from zhiyuan.scoring.feedback import (
    BayesianPrior,
    Complaint,
    Dismissed,
    FeedbackBook,
    FeedbackScore,
    Rating,
    Upheld,
    format_hundredths,
)

SH = SHANGHAI
YOUYI = "370602001001"  # 烟台市芝罘区向阳街道友谊街社区
XIANGYANG = "370602001"  # 向阳街道
DONGSHAN = "370602002"  # 东山街道 (the neighbouring street)


def at(m: int, d: int, h: int = 12, mi: int = 0) -> datetime:
    return datetime(2025, m, d, h, mi, tzinfo=SH)


def rating(rid: str = "g1", *, stars: int = 5, vid: str = "v1", **kw: Any) -> Rating:
    fields: dict[str, Any] = {
        "id": rid,
        "record_id": kw.pop("record_id", f"r-{rid}"),
        "volunteer_id": vid,
        "stars": stars,
        "at": kw.pop("at", at(3, 1)),
    }
    fields.update(kw)
    return Rating(**fields)


def complaint(cid: str = "c1", *, vid: str = "v1", record_id: str = "r1", **kw: Any) -> Complaint:
    fields: dict[str, Any] = {
        "id": cid,
        "record_id": record_id,
        "volunteer_id": vid,
        "at": kw.pop("at", at(3, 5)),
        "text": kw.pop("text", "服务态度差 / rude"),
    }
    fields.update(kw)
    return Complaint(**fields)


def oracle(stars: list[int], prior: BayesianPrior) -> int:
    """The Bayesian average in hundredths, computed apart from the library (Fraction, half up)."""
    if prior.weight + len(stars) == 0:
        return prior.mean_hundredths
    exact = Fraction(prior.weight * prior.mean_hundredths + 100 * sum(stars)) / (
        prior.weight + len(stars)
    )
    floor = exact.numerator // exact.denominator
    return floor + (1 if exact - floor >= Fraction(1, 2) else 0)


# --- a small hour ledger -----------------------------------------------------------------------


def make_ledger(jurisdiction: Jurisdiction | None = None) -> HourLedger:
    reg = Registry(
        load_default(),
        [Organization(id="o1", name="向阳街道志愿者协会", region_code=XIANGYANG)],
    )
    ledger = HourLedger(reg, policies=[HourPolicy(notice_days=3)], jurisdiction=jurisdiction)
    for vid, name in (("v1", "王芳"), ("v2", "李强")):
        ledger.add_volunteer(
            Volunteer(id=vid, name=name, home_region=YOUYI, registered_on=date(2024, 1, 1))
        )
    for rid, vid, day in (("r1", "v1", 1), ("r2", "v1", 2), ("r3", "v2", 1)):
        rec = ServiceRecord(
            id=rid,
            volunteer_id=vid,
            activity_id=f"a-{rid}",
            organization_id="o1",
            region_code=YOUYI,
            category="助老",
            evidence=Evidence.QR_SCAN,
            start=at(3, day, 9),
            end=at(3, day, 12),
        )
        ledger.post(rec, at=at(3, day, 13))
        ledger.certify(rid, by="admin", at=at(3, day, 14))
    return ledger


# --- entries -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id", ""),
        ("record_id", "  "),
        ("volunteer_id", ""),
        ("team_id", ""),
        ("stars", 0),
        ("stars", 6),
        ("stars", 4.5),
        ("stars", True),
        ("stars", "5"),
        ("at", datetime(2025, 3, 1, 12)),
        ("at", "2025-03-01T12:00:00+08:00"),
        ("comment", None),
    ],
)
def test_rating_validation_names_the_field(field: str, value: object) -> None:
    with pytest.raises(InvalidValue) as err:
        rating(**{field: value})
    assert err.value.field == field


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id", ""),
        ("record_id", ""),
        ("volunteer_id", " "),
        ("text", ""),
        ("at", datetime(2025, 3, 1)),
    ],
)
def test_complaint_validation_names_the_field(field: str, value: object) -> None:
    with pytest.raises(InvalidValue) as err:
        complaint(**{field: value})
    assert err.value.field == field


def test_rating_time_is_kept_in_shanghai() -> None:
    utc = datetime(2025, 3, 1, 4, tzinfo=UTC)
    r = rating(at=utc)
    assert r.at.tzinfo is SH and r.at.hour == 12 and r.at == utc


@pytest.mark.parametrize("stars", [1, 2, 3, 4, 5])
def test_every_whole_star_is_accepted(stars: int) -> None:
    assert rating(stars=stars).stars == stars


def test_resolution_ids() -> None:
    assert Upheld(complaint_id="c1", by="a", at=at(3, 6)).id == "c1#uphold"
    assert Dismissed(complaint_id="c1", by="a", at=at(3, 6)).id == "c1#dismiss"
    with pytest.raises(InvalidValue) as err:
        Upheld(complaint_id="c1", by="", at=at(3, 6))
    assert err.value.field == "by"


# --- the prior and the score -------------------------------------------------------------------


def test_default_prior() -> None:
    p = BayesianPrior()
    assert (p.mean_hundredths, p.weight) == (400, 5)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("mean_hundredths", 99),
        ("mean_hundredths", 501),
        ("mean_hundredths", 4.0),
        ("weight", -1),
        ("weight", 2.5),
        ("effective_from", datetime(2025, 1, 1, tzinfo=SH)),
    ],
)
def test_prior_validation(field: str, value: object) -> None:
    with pytest.raises(InvalidValue) as err:
        BayesianPrior(**{field: value})
    assert err.value.field == field


def test_prior_round_trips_and_rejects_floats() -> None:
    p = BayesianPrior(mean_hundredths=380, weight=10, effective_from=date(2024, 7, 1))
    assert from_json(to_json(p), BayesianPrior) == p
    assert from_toml(to_toml(p), BayesianPrior) == p
    with pytest.raises(InvalidInput):
        from_toml("mean_hundredths = 4.0\nweight = 5", BayesianPrior)
    with pytest.raises(InvalidInput):
        from_json('{"mean_hundredths": 400, "weight": 5, "extra": 1}', BayesianPrior)


def test_one_five_star_rating_is_not_five_stars() -> None:
    s = FeedbackScore.of([5])
    assert s.bayesian_hundredths == 417  # (5 × 400 + 500) / 6 = 416.67
    assert s.raw_mean_hundredths == 500
    assert str(s) == "4.17 (1 条评价 / 1 rating)"


def test_rounding_is_half_up() -> None:
    s = FeedbackScore.of([5, 4, 4])  # (2000 + 1300) / 8 = 412.5
    assert s.bayesian_hundredths == 413
    assert s.raw_mean_hundredths == 433  # 433.33
    s = FeedbackScore.of([3, 4], BayesianPrior(weight=0))  # 350 exactly
    assert s.bayesian_hundredths == 350
    s = FeedbackScore.of([5, 4], BayesianPrior(mean_hundredths=100, weight=1))  # 1000 / 3
    assert s.bayesian_hundredths == 333


def test_no_ratings_scores_the_prior() -> None:
    s = FeedbackScore.of([])
    assert (s.count, s.raw_mean_hundredths, s.bayesian_hundredths) == (0, None, 400)
    assert str(s) == "4.00 (0 条评价 / 0 ratings)"
    assert "尚无评价" in s.explain()
    zero = FeedbackScore.of([], BayesianPrior(mean_hundredths=250, weight=0))
    assert zero.bayesian_hundredths == 250


def test_score_explains_its_numbers() -> None:
    s = FeedbackScore.of([5, 4, 4, 5, 4, 5, 4, 4, 5, 4, 4, 5])
    assert s.count == 12 and s.star_sum == 53
    assert str(s) == "4.29 (12 条评价 / 12 ratings)"
    text = s.explain()
    assert "(5 × 4.00 + 53) ÷ (5 + 12) = 4.29" in text
    assert "(5 × 4.00 + 53) / (5 + 12) = 4.29" in text
    assert "raw mean of 12 ratings 4.42" in text
    assert [f.rule for f in s.findings] == ["feedback.bayes", "feedback.raw"]


def test_feedback_score_checks_itself() -> None:
    good = FeedbackScore.of([4, 5])
    with pytest.raises(InvalidValue) as err:
        attrs.evolve(good, bayesian_hundredths=500)
    assert err.value.field == "bayesian_hundredths"
    with pytest.raises(InvalidValue) as err:
        attrs.evolve(good, raw_mean_hundredths=449)
    assert err.value.field == "raw_mean_hundredths"
    with pytest.raises(InvalidValue) as err:
        attrs.evolve(good, star_sum=11)
    assert err.value.field == "star_sum"
    assert from_json(to_json(good), FeedbackScore) == good
    with pytest.raises(InvalidValue):
        FeedbackScore.of([4, 6])


def test_format_hundredths() -> None:
    assert [format_hundredths(v) for v in (0, 7, 100, 433, 500)] == [
        "0.00",
        "0.07",
        "1.00",
        "4.33",
        "5.00",
    ]


# --- the book: idempotency, conflicts, filters -------------------------------------------------


def test_same_rating_twice_is_a_noop() -> None:
    book = FeedbackBook()
    book.add_rating(rating("g1", stars=4))
    book.add_rating(rating("g1", stars=4))
    assert len(book) == 1
    assert book.score("v1").count == 1


def test_another_entry_under_a_used_id_conflicts_and_changes_nothing() -> None:
    book = FeedbackBook()
    book.add_rating(rating("g1", stars=4))
    before = (book.entries, book.score("v1"))
    with pytest.raises(Conflict):
        book.add_rating(rating("g1", stars=5))
    with pytest.raises(Conflict):
        book.file_complaint(complaint("g1"))
    assert (book.entries, book.score("v1")) == before


def test_wrong_kinds_are_refused() -> None:
    book = FeedbackBook()
    with pytest.raises(InvalidValue):
        book.add_rating(complaint())  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        book.file_complaint(rating())  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        book.add("g1")  # type: ignore[arg-type]
    assert len(book) == 0


def test_score_filters_by_volunteer_team_and_moment() -> None:
    book = FeedbackBook()
    book.add_rating(rating("g1", stars=5, vid="v1", team_id="t1", at=at(3, 1)))
    book.add_rating(rating("g2", stars=2, vid="v1", team_id="t2", at=at(3, 2)))
    book.add_rating(rating("g3", stars=4, vid="v2", team_id="t1", at=at(3, 3)))
    assert book.score("v1").star_sum == 7
    assert book.score(team_id="t1").star_sum == 9
    assert book.score("v1", team_id="t1").star_sum == 5
    assert book.score().count == 3
    assert book.score("v1", as_of=at(3, 1, 23)).star_sum == 5
    assert book.score(as_of=at(2, 28)).count == 0
    assert book.score("nobody").count == 0
    assert [r.id for r in book.ratings(team_id="t1")] == ["g1", "g3"]


def test_as_of_must_be_aware() -> None:
    book = FeedbackBook()
    with pytest.raises(InvalidValue) as err:
        book.score(as_of=datetime(2025, 3, 1))
    assert err.value.field == "as_of"


def test_prior_in_force_on_the_day() -> None:
    old = BayesianPrior(mean_hundredths=400, weight=5, effective_from=date(2021, 2, 1))
    new = BayesianPrior(mean_hundredths=300, weight=10, effective_from=date(2025, 3, 10))
    book = FeedbackBook(policies=[new, old])
    book.add_rating(rating("g1", stars=5, at=at(3, 1)))
    assert book.policy_for(date(2025, 3, 9)) == old
    assert book.policy_for(date(2025, 3, 10)) == new
    assert book.policy_for(date(2000, 1, 1)) == old  # before any: the earliest
    assert book.score("v1", as_of=at(3, 9)).prior == old
    assert book.score("v1", as_of=at(3, 10)).prior == new
    assert book.score("v1").prior == old  # as of the newest rating (3-01)
    book.add_rating(rating("g2", stars=5, at=at(3, 11)))
    assert book.score("v1").prior == new
    what_if = BayesianPrior(weight=0)
    assert book.score("v1", prior=what_if).bayesian_hundredths == 500


def test_two_priors_on_one_day_are_refused() -> None:
    with pytest.raises(InvalidValue) as err:
        FeedbackBook(policies=[BayesianPrior(weight=3), BayesianPrior(weight=4)])
    assert err.value.field == "policies"


def test_replay_from_entries_gives_the_same_book() -> None:
    book = FeedbackBook()
    book.add_rating(rating("g1", stars=3))
    book.file_complaint(complaint("c1"))
    book.uphold("c1", by="admin", at=at(3, 6))
    again = FeedbackBook(entries=book.entries)
    assert again.entries == book.entries
    assert again.score("v1") == book.score("v1")
    assert again.upheld_complaints("v1") == book.upheld_complaints("v1")


# --- complaints --------------------------------------------------------------------------------


def test_complaint_life() -> None:
    book = FeedbackBook()
    book.file_complaint(complaint("c1", at=at(3, 5)))
    book.file_complaint(complaint("c2", at=at(3, 5)))
    assert book.complaint_status("c1") == "open"
    up = book.uphold("c1", by="admin", at=at(3, 7), reason="核实属实 / confirmed")
    assert up == Upheld(complaint_id="c1", by="admin", at=at(3, 7), reason="核实属实 / confirmed")
    book.dismiss("c2", by="admin", at=at(3, 8))
    assert book.complaint_status("c1") == "upheld"
    assert book.complaint_status("c1", as_of=at(3, 6)) == "open"
    assert book.complaint_status("c1", as_of=at(3, 4)) is None
    assert book.complaint_status("c2") == "dismissed"
    assert [c.id for c in book.complaints("v1", status="open", as_of=at(3, 6))] == ["c1", "c2"]
    assert [c.id for c in book.complaints(status="upheld")] == ["c1"]
    assert book.complaint("c2").text == "服务态度差 / rude"


def test_deciding_twice() -> None:
    book = FeedbackBook()
    book.file_complaint(complaint("c1"))
    first = book.uphold("c1", by="admin", at=at(3, 7))
    assert book.uphold("c1", by="other", at=at(3, 9)) == first  # a no-op
    assert len(book) == 2
    with pytest.raises(Conflict):
        book.dismiss("c1", by="admin", at=at(3, 9))
    with pytest.raises(Conflict):  # the replay path is strict: another decision, same id
        book.add(Upheld(complaint_id="c1", by="other", at=at(3, 9)))
    book.add(first)  # the same entry again: a no-op
    assert len(book) == 2
    book.file_complaint(complaint("c2"))
    d = book.dismiss("c2", by="admin", at=at(3, 7))
    assert book.dismiss("c2", by="x", at=at(3, 8)) == d
    with pytest.raises(Conflict):
        book.uphold("c2", by="admin", at=at(3, 9))
    assert book.complaint_status("c2") == "dismissed"


def test_bad_decisions_change_nothing() -> None:
    book = FeedbackBook()
    book.file_complaint(complaint("c1", at=at(3, 5)))
    before = book.entries
    with pytest.raises(NotFound):
        book.uphold("nope", by="admin", at=at(3, 7))
    with pytest.raises(InvalidValue) as err:
        book.uphold("c1", by="admin", at=at(3, 4))  # before the complaint
    assert err.value.field == "at"
    with pytest.raises(InvalidValue) as err:
        book.dismiss("c1", by="admin", at=datetime(2025, 3, 7))
    assert err.value.field == "at"
    with pytest.raises(InvalidValue) as err:
        book.uphold("c1", by=" ", at=at(3, 7))
    assert err.value.field == "by"
    with pytest.raises(NotFound):
        book.add(Dismissed(complaint_id="nope", by="a", at=at(3, 7)))
    assert book.entries == before
    assert book.complaint_status("c1") == "open"


def test_upheld_complaints_dates() -> None:
    book = FeedbackBook()
    book.file_complaint(complaint("c1", at=at(1, 5)))
    book.file_complaint(complaint("c2", at=at(3, 5)))
    book.file_complaint(complaint("c3", at=at(3, 6)))
    book.file_complaint(complaint("c4", vid="v2", at=at(3, 6)))
    book.file_complaint(complaint("c5", at=at(3, 6)))
    book.uphold("c2", by="a", at=at(3, 20, 23, 30))
    book.uphold("c1", by="a", at=at(1, 9))
    book.dismiss("c3", by="a", at=at(3, 7))
    book.uphold("c4", by="a", at=at(3, 7))
    # c5 stays open
    assert book.upheld_complaints("v1") == [date(2025, 1, 9), date(2025, 3, 20)]
    assert book.upheld_complaints("v1", since=date(2025, 2, 1)) == [date(2025, 3, 20)]
    assert book.upheld_complaints("v1", since=date(2025, 3, 20)) == [date(2025, 3, 20)]
    assert book.upheld_complaints("v1", as_of=at(3, 20, 12)) == [date(2025, 1, 9)]
    assert book.upheld_complaints("v2") == [date(2025, 3, 7)]
    assert book.upheld_complaints("v3") == []
    with pytest.raises(InvalidValue):
        book.upheld_complaints("v1", since=at(3, 1))  # type: ignore[arg-type]


def test_upheld_date_is_the_shanghai_day() -> None:
    book = FeedbackBook()
    book.file_complaint(complaint("c1", at=at(3, 5)))
    # 2025-03-20 17:00 UTC is 2025-03-21 01:00 in Shanghai.
    book.uphold("c1", by="a", at=datetime(2025, 3, 20, 17, tzinfo=UTC))
    assert book.upheld_complaints("v1") == [date(2025, 3, 21)]


# --- upholding with an hour ledger -------------------------------------------------------------


def test_upholding_with_a_ledger_reverses_the_hours() -> None:
    ledger = make_ledger()
    book = FeedbackBook(journal=ledger.journal)
    book.file_complaint(complaint("c1", record_id="r1", at=at(3, 6)))
    assert ledger.minutes("v1", as_of=at(3, 9)) == 360
    book.uphold("c1", by="admin", at=at(3, 10), reason="未按约定到场", ledger=ledger)
    assert ledger.status("r1") == "reversed"
    assert ledger.status("r2") == "certified"
    assert ledger.minutes("v1", as_of=at(3, 11)) == 180  # r1's hours no longer count
    assert ledger.minutes("v1", as_of=at(3, 9)) == 360  # before the decision they did
    assert ledger.minutes("v2", as_of=at(3, 11)) == 180
    last = ledger.entries[-1]
    assert isinstance(last, Reversed)
    assert (last.record_id, last.by, last.at) == ("r1", "admin", at(3, 10))
    assert "c1" in last.reason and "未按约定到场" in last.reason
    assert book.complaint_status("c1") == "upheld"


def test_dismissing_or_upholding_without_a_ledger_leaves_hours_alone() -> None:
    ledger = make_ledger()
    book = FeedbackBook(journal=ledger.journal)
    book.file_complaint(complaint("c1", record_id="r1"))
    book.file_complaint(complaint("c2", record_id="r2"))
    book.uphold("c1", by="admin", at=at(3, 10))
    book.dismiss("c2", by="admin", at=at(3, 10))
    assert ledger.status("r1") == "certified" and ledger.status("r2") == "certified"
    # Upholding again with the ledger catches the reversal up, at the first decision's moment.
    book.uphold("c1", by="someone-else", at=at(3, 15), ledger=ledger)
    assert ledger.status("r1") == "reversed"
    last = ledger.entries[-1]
    assert isinstance(last, Reversed) and (last.by, last.at) == ("admin", at(3, 10))
    n = len(ledger.entries)
    book.uphold("c1", by="admin", at=at(3, 16), ledger=ledger)  # nothing more happens
    assert len(ledger.entries) == n


@pytest.mark.parametrize(
    ("record_id", "vid", "error"),
    [("r-unknown", "v1", NotFound), ("r3", "v1", InvalidValue)],  # r3 is v2's
)
def test_a_bad_ledger_target_changes_neither(record_id: str, vid: str, error: type) -> None:
    ledger = make_ledger()
    book = FeedbackBook(journal=ledger.journal)
    book.file_complaint(complaint("c1", record_id=record_id, vid=vid))
    before_book, before_ledger = book.entries, ledger.entries
    with pytest.raises(error):
        book.uphold("c1", by="admin", at=at(3, 10), ledger=ledger)
    assert book.entries == before_book and ledger.entries == before_ledger
    assert book.complaint_status("c1") == "open"


def test_uphold_before_the_record_was_posted_changes_neither() -> None:
    ledger = make_ledger()
    book = FeedbackBook(journal=ledger.journal)
    book.file_complaint(complaint("c1", record_id="r2", at=at(3, 1)))  # r2 posted 3-02 13:00
    before = ledger.entries
    with pytest.raises(InvalidValue):
        book.uphold("c1", by="admin", at=at(3, 2, 10), ledger=ledger)
    assert ledger.entries == before and book.complaint_status("c1") == "open"


def test_uphold_with_a_ledger_on_another_journal_is_refused() -> None:
    ledger = make_ledger()
    book = FeedbackBook()
    book.file_complaint(complaint("c1", record_id="r1", at=at(3, 6)))
    with pytest.raises(InvalidValue, match="journal"):
        book.uphold("c1", by="admin", at=at(3, 10), ledger=ledger)
    assert book.complaint_status("c1") == "open" and ledger.status("r1") == "certified"


def test_uphold_needs_authority_in_the_ledger() -> None:
    j = Jurisdiction(
        load_default(),
        [
            Grant(principal="admin", region_code=XIANGYANG),  # certifies in make_ledger
            Grant(principal="xy-admin", region_code=XIANGYANG, actions={"reverse"}),
            Grant(principal="ds-admin", region_code=DONGSHAN),
        ],
    )
    ledger = make_ledger(j)
    book = FeedbackBook(journal=ledger.journal)
    book.file_complaint(complaint("c1", record_id="r1"))
    with pytest.raises(PermissionDenied):
        book.uphold("c1", by="ds-admin", at=at(3, 10), ledger=ledger)
    assert book.complaint_status("c1") == "open" and ledger.status("r1") == "certified"
    book.uphold("c1", by="xy-admin", at=at(3, 10), ledger=ledger)
    assert ledger.status("r1") == "reversed"


# --- concurrency -------------------------------------------------------------------------------


def test_concurrent_adds_count_each_entry_once() -> None:
    book = FeedbackBook()
    ratings = [rating(f"g{i}", stars=1 + i % 5, at=at(3, 1 + i % 28)) for i in range(200)]
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def work(k: int) -> None:
        start.wait()
        try:
            for r in ratings[k::4] + ratings[::-1]:  # every thread also re-adds every rating
                book.add_rating(r)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k % 4,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(book) == 200
    assert book.score() == FeedbackScore.of([r.stars for r in ratings], book.policies[0])


# --- properties --------------------------------------------------------------------------------

star_lists = st.lists(st.integers(min_value=1, max_value=5), max_size=60)
priors = st.builds(
    BayesianPrior,
    mean_hundredths=st.integers(min_value=100, max_value=500),
    weight=st.integers(min_value=0, max_value=50),
)
moments = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(SH)
)


@given(star_lists, priors)
def test_score_matches_the_oracle(stars: list[int], prior: BayesianPrior) -> None:
    s = FeedbackScore.of(stars, prior)
    assert s.bayesian_hundredths == oracle(stars, prior)
    assert s.count == len(stars) and s.star_sum == sum(stars)
    if stars:
        assert s.raw_mean_hundredths == oracle(stars, BayesianPrior(weight=0))


@given(star_lists, priors)
def test_score_lies_between_the_prior_and_the_raw_mean(
    stars: list[int], prior: BayesianPrior
) -> None:
    s = FeedbackScore.of(stars, prior)
    if s.raw_mean_hundredths is None:
        assert s.bayesian_hundredths == prior.mean_hundredths
        return
    lo = min(s.raw_mean_hundredths, prior.mean_hundredths)
    hi = max(s.raw_mean_hundredths, prior.mean_hundredths)
    assert lo <= s.bayesian_hundredths <= hi


@given(st.lists(st.integers(min_value=1, max_value=5), min_size=1, max_size=10), priors)
def test_score_moves_toward_the_raw_mean_as_n_grows(stars: list[int], prior: BayesianPrior) -> None:
    raw = FeedbackScore.of(stars, prior).raw_mean_hundredths
    assert raw is not None
    gaps = [abs(FeedbackScore.of(stars * k, prior).bayesian_hundredths - raw) for k in range(1, 12)]
    assert gaps == sorted(gaps, reverse=True)
    if prior.weight:  # with a prior, many more ratings get within rounding of the raw mean
        big = FeedbackScore.of(stars * (800 * prior.weight), prior).bayesian_hundredths
        assert abs(big - raw) <= 1


@given(
    st.integers(min_value=100, max_value=498),
    st.integers(min_value=1, max_value=1000),
)
def test_one_five_star_rating_never_makes_five(mean: int, weight: int) -> None:
    prior = BayesianPrior(mean_hundredths=mean, weight=weight)
    assert FeedbackScore.of([5], prior).bayesian_hundredths < 500


@given(st.lists(st.tuples(st.integers(1, 5), moments, st.sampled_from(["v1", "v2"]))), st.data())
def test_order_of_adding_does_not_matter(
    rows: list[tuple[int, datetime, str]], data: st.DataObject
) -> None:
    entries = [rating(f"g{i}", stars=s, vid=vid, at=when) for i, (s, when, vid) in enumerate(rows)]
    shuffled = data.draw(st.permutations(entries))
    a, b = FeedbackBook(entries=entries), FeedbackBook(entries=shuffled)
    cut = data.draw(moments)
    for vid in ("v1", "v2", None):
        assert a.score(vid) == b.score(vid)
        assert a.score(vid, as_of=cut) == b.score(vid, as_of=cut)


@given(st.lists(st.tuples(st.integers(1, 5), moments), max_size=30), moments)
def test_score_as_of_is_a_fold_of_the_earlier_entries(
    rows: list[tuple[int, datetime]], cut: datetime
) -> None:
    entries = [rating(f"g{i}", stars=s, at=when) for i, (s, when) in enumerate(rows)]
    book = FeedbackBook(entries=entries)
    earlier = FeedbackBook(entries=[e for e in entries if e.at <= cut])
    assert book.score("v1", as_of=cut) == earlier.score("v1", as_of=cut)
    assert book.score("v1", as_of=cut).star_sum == sum(s for s, when in rows if when <= cut)


@given(
    st.builds(
        Rating,
        id=st.text(st.characters(codec="utf-8"), min_size=1).filter(str.strip),
        record_id=st.just("r1"),
        volunteer_id=st.just("v1"),
        team_id=st.none() | st.just("t1"),
        stars=st.integers(1, 5),
        at=moments
        | st.datetimes(
            min_value=datetime(2020, 1, 1),
            max_value=datetime(2030, 1, 1),
            timezones=st.just(timezone(timedelta(hours=-5))),
        ),
        comment=st.text(st.characters(codec="utf-8")),
    )
)
def test_ratings_round_trip(r: Rating) -> None:
    assert from_json(to_json(r), Rating) == r
    assert from_toml(to_toml(r), Rating) == r


@given(priors, st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)))
def test_priors_round_trip(prior: BayesianPrior, day: date) -> None:
    p = attrs.evolve(prior, effective_from=day)
    assert from_json(to_json(p), BayesianPrior) == p
    assert from_toml(to_toml(p), BayesianPrior) == p
