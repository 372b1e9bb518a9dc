"""Star schemes and ratings (星级评定): thresholds, which hours count, conditions, explanations.

Ratings are computed from real ledgers (:func:`support.scoring.star_ledger`, QR records certified on
posting) where the ledger's part matters, and from :class:`HourRow` values built directly where
only the scheme's arithmetic is under test. Every datetime is explicit, in Asia/Shanghai.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from support.scoring import (
    CATEGORIES,
    HAIAN,
    LONG,
    NANGUAN,
    QR_POLICY,
    YOUYI,
    at,
    hours,
    increasing_thresholds,
    row,
    serve,
    star_ledger,
    star_schemes,
    volunteer,
)
from zhiyuan import SHANGHAI
from zhiyuan.convert import from_json, from_toml, to_json, to_toml
from zhiyuan.errors import InvalidInput, InvalidValue
from zhiyuan.hierarchy import Level
from zhiyuan.hours import Evidence, HourLedger, HourPolicy, HourRow, Purpose, Volunteer
from zhiyuan.scoring import (
    STAR_PROFILES,
    Downgrade,
    StarRating,
    StarScheme,
    Window,
    format_duration,
    star_name,
)

NATIONAL = STAR_PROFILES["national"]
AS_OF = at(2025, 1, 1, 12)


def rating_for(scheme: StarScheme, minutes: int, **kw: Any) -> StarRating:
    """Rate one volunteer holding one certified row of ``minutes`` (served 2024-05-01)."""
    rows = [row("v1", date(2024, 5, 1), minutes)] if minutes else []
    return scheme.rate_rows("v1", rows, AS_OF, **kw)


def rules(r: StarRating) -> list[str]:
    return [f.rule for f in r.findings]


def expected_level(thresholds: tuple[int, ...], minutes: int) -> int:
    """An oracle: the number of thresholds the minutes reach."""
    return sum(1 for t in thresholds if minutes >= t * 60)


def check_rating(scheme: StarScheme, r: StarRating) -> None:
    """A rating's numbers add up and its explanation quotes them, in both languages."""
    assert 0 <= r.level <= scheme.top
    if r.next_level is None:
        assert r.level == scheme.top and r.minutes_missing == 0
        assert "stars.top" in rules(r)
    else:
        assert r.next_level == r.level + 1
        need = scheme.thresholds_hours[r.next_level - 1] * 60
        assert r.minutes_missing == max(need - r.counted_minutes, 0)
        if r.minutes_missing:
            nxt = next(f for f in r.findings if f.rule == "stars.next")
            assert nxt.numbers["missing"] == r.minutes_missing
            assert r.counted_minutes + nxt.numbers["missing"] == need
            zh, en = format_duration(r.minutes_missing)
            assert zh in nxt.zh and en in nxt.en
            assert star_name(r.next_level)[0] in nxt.zh
            assert star_name(r.next_level)[1] in nxt.en
        else:
            assert r.unmet, "reaching the next threshold without it means a condition blocks it"
    head = r.findings[0]
    assert head.rule == "stars.level"
    assert star_name(r.level)[0] in head.zh and star_name(r.level)[1] in head.en
    assert format_duration(r.counted_minutes)[0] in head.zh
    assert format_duration(r.counted_minutes)[1] in head.en


# --- thresholds, exactly at each boundary ------------------------------------------------------

NATIONAL_CASES = [
    # (minutes, level, next level, minutes missing)
    (0, 0, 1, hours(100)),
    (hours(99, 59), 0, 1, 1),
    (hours(100), 1, 2, hours(200)),
    (hours(299, 59), 1, 2, 1),
    (hours(300), 2, 3, hours(300)),
    (hours(599, 59), 2, 3, 1),
    (hours(600), 3, 4, hours(400)),
    (hours(999, 59), 3, 4, 1),
    (hours(1000), 4, 5, hours(500)),
    (hours(1499, 59), 4, 5, 1),
    (hours(1500), 5, None, 0),
    (hours(2400, 1), 5, None, 0),
]


@pytest.mark.parametrize(("minutes", "level", "nxt", "missing"), NATIONAL_CASES)
def test_national_thresholds_through_a_ledger(
    minutes: int, level: int, nxt: int | None, missing: int
) -> None:
    v = volunteer("v1")
    ledger = star_ledger(v)
    if minutes:
        serve(ledger, "r1", "v1", date(2024, 3, 1), minutes)
    r = NATIONAL.rate(v, ledger, AS_OF)
    assert (r.level, r.next_level, r.minutes_missing) == (level, nxt, missing)
    assert r.counted_minutes == minutes
    assert (r.volunteer_id, r.scheme, r.as_of) == ("v1", "national", date(2025, 1, 1))
    assert r.unmet == ()
    check_rating(NATIONAL, r)


ZJG_CASES = [
    (hours(29, 59), 0, 1, 1),
    (hours(30), 1, 2, hours(30)),
    (hours(59, 59), 1, 2, 1),
    (hours(60), 2, 3, hours(40)),
    (hours(99, 59), 2, 3, 1),
    (hours(100), 3, 4, hours(100)),
    (hours(199, 59), 3, 4, 1),
    (hours(200), 4, 5, hours(100)),
    (hours(299, 59), 4, 5, 1),
    (hours(300), 5, None, 0),
]


@pytest.mark.parametrize(("minutes", "level", "nxt", "missing"), ZJG_CASES)
def test_zhangjiagang_thresholds(minutes: int, level: int, nxt: int | None, missing: int) -> None:
    scheme = STAR_PROFILES["zhangjiagang"]
    r = rating_for(scheme, minutes)
    assert (r.level, r.next_level, r.minutes_missing) == (level, nxt, missing)
    check_rating(scheme, r)


def test_the_same_hours_rate_differently_under_zhangjiagang_and_national() -> None:
    r_n = rating_for(NATIONAL, hours(100))
    r_z = rating_for(STAR_PROFILES["zhangjiagang"], hours(100))
    assert (r_n.level, r_z.level) == (1, 3)


# --- the explanation -----------------------------------------------------------------------------


def test_the_explanation_says_what_is_missing_in_both_languages() -> None:
    r = rating_for(NATIONAL, hours(563))
    assert (r.level, r.next_level, r.minutes_missing) == (2, 3, hours(37))
    assert str(r) == (
        "v1: 二星级（563 小时） / 2 stars (563 hours); "
        "还差 37 小时可申请三星级 / 37 hours short of 3 stars"
    )
    assert r.explain().splitlines() == [
        "v1: 二星级（563 小时） / 2 stars (563 hours)",
        "v1: 还差 37 小时可申请三星级 / 37 hours short of 3 stars",
    ]
    # The numbers in the text add up: counted + missing = the 3-star threshold.
    counted = int(re.search(r"\((\d+) hours\)", str(r)).group(1))  # type: ignore[union-attr]
    short = int(re.search(r"(\d+) hours short", str(r)).group(1))  # type: ignore[union-attr]
    assert counted + short == NATIONAL.thresholds_hours[2]


def test_the_explanation_with_hours_and_minutes() -> None:
    r = rating_for(NATIONAL, hours(563, 40))
    assert r.minutes_missing == hours(36, 20)
    assert "还差 36 小时 20 分可申请三星级 / 36 h 20 min short of 3 stars" in str(r)
    assert "二星级（563 小时 40 分） / 2 stars (563 h 40 min)" in str(r)


def test_one_minute_short_and_nothing_yet() -> None:
    assert str(rating_for(NATIONAL, hours(99, 59))) == (
        "v1: 无星级（99 小时 59 分） / no star (99 h 59 min); "
        "还差 1 分可申请一星级 / 1 min short of 1 star"
    )
    assert str(rating_for(NATIONAL, 0)) == (
        "v1: 无星级（0 小时） / no star (0 hours); "
        "还差 100 小时可申请一星级 / 100 hours short of 1 star"
    )


def test_the_top_level_says_so() -> None:
    r = rating_for(NATIONAL, hours(1500))
    assert rules(r) == ["stars.level", "stars.top"]
    assert (
        str(r)
        == "v1: 五星级（1,500 小时） / 5 stars (1,500 hours); 已达最高星级 / at the top level"
    )


def test_star_names_and_durations() -> None:
    assert [star_name(n) for n in (0, 1, 2, 5, 10, 12)] == [
        ("无星级", "no star"),
        ("一星级", "1 star"),
        ("二星级", "2 stars"),
        ("五星级", "5 stars"),
        ("十星级", "10 stars"),
        ("12星级", "12 stars"),
    ]
    assert format_duration(60) == ("1 小时", "1 hour")
    assert format_duration(61) == ("1 小时 1 分", "1 h 1 min")
    assert format_duration(hours(1500)) == ("1,500 小时", "1,500 hours")


def test_ratings_are_frozen_values() -> None:
    r = rating_for(NATIONAL, hours(150))
    assert r == rating_for(NATIONAL, hours(150))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        r.level = 5  # type: ignore[misc]


# --- which hours count ---------------------------------------------------------------------------


def test_only_certified_hours_count() -> None:
    """submitted, pending (公示), rejected and reversed records count nothing; certified do."""
    v = volunteer("v1")
    ledger = star_ledger(
        v, policy=HourPolicy(notice_days=3, max_span_minutes=LONG)
    )  # nothing is auto-certified
    day = date(2024, 3, 1)
    serve(ledger, "sub", "v1", day, hours(100), hour=0, now=at(2024, 6, 1))
    serve(ledger, "pend", "v1", day + timedelta(days=5), hours(100), now=at(2024, 6, 1))
    serve(ledger, "rej", "v1", day + timedelta(days=10), hours(100), now=at(2024, 6, 1))
    serve(ledger, "rev", "v1", day + timedelta(days=15), hours(100), now=at(2024, 6, 1))
    serve(ledger, "ok", "v1", day + timedelta(days=20), hours(60), now=at(2024, 6, 1))
    ledger.certify("pend", by="admin", at=at(2024, 7, 1))
    ledger.reject("rej", by="admin", reason="无签到记录 / no sign-in", at=at(2024, 6, 2))
    ledger.certify("rev", by="admin", at=at(2024, 6, 2))
    ledger.reverse("rev", by="admin", reason="重复记录 / duplicate", at=at(2024, 6, 20))
    ledger.certify("ok", by="admin", at=at(2024, 6, 2))

    as_of = at(2024, 7, 2)
    assert {r: ledger.status(r, as_of=as_of) for r in ("sub", "pend", "rej", "rev", "ok")} == {
        "sub": "submitted",
        "pend": "pending",
        "rej": "rejected",
        "rev": "reversed",
        "ok": "certified",
    }
    r = NATIONAL.rate(v, ledger, as_of)
    assert (r.counted_minutes, r.level) == (hours(60), 0)
    # Before the reversal, the reversed record was certified and counted.
    assert NATIONAL.rate(v, ledger, at(2024, 6, 10)).counted_minutes == hours(160)
    # When the public notice of "pend" is over, it counts too.
    assert NATIONAL.rate(v, ledger, at(2024, 7, 4)).counted_minutes == hours(160)


def test_hours_certified_after_the_rating_moment_do_not_count() -> None:
    v = volunteer("v1")
    ledger = star_ledger(v)
    serve(ledger, "r1", "v1", date(2024, 3, 1), hours(120), now=at(2024, 9, 1, 10))
    assert NATIONAL.rate(v, ledger, at(2024, 9, 1, 9, 59, 59)).level == 0
    assert NATIONAL.rate(v, ledger, at(2024, 9, 1, 10)).level == 1


def test_the_public_notice_delays_counting_to_the_second() -> None:
    v = volunteer("v1")
    ledger = star_ledger(
        v, policy=HourPolicy(auto_certify={"qr_scan"}, notice_days=3, max_span_minutes=LONG)
    )
    serve(ledger, "r1", "v1", date(2024, 3, 1), hours(120), now=at(2024, 4, 1, 10))
    assert NATIONAL.rate(v, ledger, at(2024, 4, 4, 9, 59, 59)).counted_minutes == 0
    assert NATIONAL.rate(v, ledger, at(2024, 4, 4, 10)).counted_minutes == hours(120)


def test_rows_served_after_the_rating_date_do_not_count() -> None:
    rows = [row("v1", date(2024, 12, 31), hours(100)), row("v1", date(2025, 1, 2), hours(500))]
    assert NATIONAL.rate_rows("v1", rows, at(2025, 1, 1, 23, 59)).counted_minutes == hours(100)
    assert NATIONAL.rate_rows("v1", rows, at(2025, 1, 2)).counted_minutes == hours(600)


def test_other_volunteers_hours_do_not_count() -> None:
    rows = [row("v1", date(2024, 1, 1), hours(50)), row("v2", date(2024, 1, 1), hours(500))]
    assert NATIONAL.rate_rows("v1", rows, AS_OF).counted_minutes == hours(50)


def _evidence_ledger(policy: HourPolicy = QR_POLICY) -> tuple[Volunteer, HourLedger]:
    v = volunteer("v1")
    ledger = star_ledger(v, policy=policy)
    kinds = [Evidence.QR_SCAN, Evidence.SELF_REPORT, Evidence.ADMIN_TOPUP, Evidence.SUPERVISOR]
    for i, kind in enumerate(kinds):
        serve(
            ledger, f"r-{kind.value}", "v1", date(2024, 3, 1 + 5 * i), hours(40 + i), evidence=kind,
            now=at(2024, 4, 1),
        )  # fmt: skip
        if kind is not Evidence.QR_SCAN:
            ledger.certify(f"r-{kind.value}", by="admin", at=at(2024, 4, 1))
    return v, ledger


def test_a_self_report_does_not_count_toward_stars_by_default() -> None:
    """The national hour policy counts attested evidence and admin top-ups toward stars."""
    v, ledger = _evidence_ledger()
    assert ledger.minutes("v1", as_of=at(2024, 4, 2)) == hours(40 + 41 + 42 + 43)
    r = NATIONAL.rate(v, ledger, at(2024, 4, 2))
    assert r.counted_minutes == hours(40 + 42 + 43)


def test_the_hour_policys_counts_toward_decides_when_the_scheme_does_not() -> None:
    policy = HourPolicy(
        auto_certify={"qr_scan"},
        max_span_minutes=LONG,
        counts_toward={"stars": {"qr_scan"}, "points": {"qr_scan"}, "reports": list(Evidence)},
    )
    v, ledger = _evidence_ledger(policy)
    assert NATIONAL.rate(v, ledger, at(2024, 4, 2)).counted_minutes == hours(40)


def test_the_schemes_own_evidence_overrides_the_policy() -> None:
    v, ledger = _evidence_ledger()
    own = StarScheme(name="self", evidence={Evidence.SELF_REPORT, Evidence.SUPERVISOR})
    assert own.rate(v, ledger, at(2024, 4, 2)).counted_minutes == hours(41 + 43)
    strict = StarScheme(name="strict", evidence={"qr_scan"})
    assert strict.rate(v, ledger, at(2024, 4, 2)).counted_minutes == hours(40)


def test_scheme_evidence_ignores_the_rows_purposes() -> None:
    rows = [row("v1", date(2024, 1, 1), hours(100), evidence=Evidence.GPS, purposes=())]
    assert NATIONAL.rate_rows("v1", rows, AS_OF).counted_minutes == 0
    gps = StarScheme(name="gps", evidence={"gps"})
    assert gps.rate_rows("v1", rows, AS_OF).counted_minutes == hours(100)


def test_categories() -> None:
    v = volunteer("v1")
    ledger = star_ledger(v)
    serve(ledger, "r1", "v1", date(2024, 3, 1), hours(70), category="助老")
    serve(ledger, "r2", "v1", date(2024, 3, 10), hours(50), category="环保")
    serve(ledger, "r3", "v1", date(2024, 3, 20), hours(20), category="会议")
    as_of = at(2024, 5, 1)
    assert NATIONAL.rate(v, ledger, as_of).counted_minutes == hours(140)
    elders = StarScheme(name="elders", categories="助老")
    assert elders.categories == frozenset({"助老"})
    assert elders.rate(v, ledger, as_of).counted_minutes == hours(70)
    two = StarScheme(name="two", categories=["助老", "环保"])
    r = two.rate(v, ledger, as_of)
    assert (r.counted_minutes, r.level) == (hours(120), 1)


def test_weighted_minutes() -> None:
    v = volunteer("v1")
    policy = HourPolicy(
        auto_certify={"qr_scan"}, category_weights={"应急救援": 150}, max_span_minutes=LONG
    )
    ledger = star_ledger(v, policy=policy)
    serve(ledger, "r1", "v1", date(2024, 3, 1), hours(80), category="应急救援")
    serve(ledger, "r2", "v1", date(2024, 3, 10), hours(10), category="助老")
    as_of = at(2024, 5, 1)
    plain = NATIONAL.rate(v, ledger, as_of)
    weighted = StarScheme(name="weighted", weighted=True).rate(v, ledger, as_of)
    assert (plain.counted_minutes, plain.level) == (hours(90), 0)
    assert (weighted.counted_minutes, weighted.level) == (hours(130), 1)


def test_cumulative_window_counts_every_year() -> None:
    rows = [row("v1", date(2001, 1, 1), hours(60)), row("v1", date(2024, 12, 31), hours(40))]
    assert NATIONAL.window_start(date(2025, 1, 1)) is None
    assert NATIONAL.rate_rows("v1", rows, AS_OF).level == 1


def test_rolling_window_at_the_exact_boundary_day() -> None:
    """南海: the last 5 years, the rating day included: (as_of − 5 years, as_of]."""
    nanhai = STAR_PROFILES["nanhai"]
    as_of = at(2025, 6, 15, 9)
    assert nanhai.window_start(date(2025, 6, 15)) == date(2020, 6, 16)
    inside = [row("v1", date(2020, 6, 16), hours(100))]
    outside = [row("v1", date(2020, 6, 15), hours(100))]
    assert nanhai.rate_rows("v1", inside, as_of).level == 1
    assert nanhai.rate_rows("v1", outside, as_of).counted_minutes == 0
    # The window moves with the rating date: a day later the boundary row drops out.
    assert nanhai.rate_rows("v1", inside, at(2025, 6, 16)).counted_minutes == 0
    # National counts both.
    assert NATIONAL.rate_rows("v1", inside + outside, as_of).counted_minutes == hours(200)


def test_rolling_window_through_a_ledger_and_a_leap_day() -> None:
    one_year = StarScheme(name="one-year", window=Window.ROLLING_YEARS, window_years=1)
    assert one_year.window_start(date(2024, 2, 29)) == date(2023, 3, 1)
    assert one_year.window_start(date(2025, 3, 1)) == date(2024, 3, 2)
    v = volunteer("v1")
    ledger = star_ledger(v)
    serve(ledger, "r1", "v1", date(2023, 3, 1), hours(100))
    serve(ledger, "r2", "v1", date(2023, 2, 28), hours(100), hour=0)
    assert one_year.rate(v, ledger, at(2024, 2, 29, 8)).counted_minutes == hours(100)
    assert one_year.rate(v, ledger, at(2024, 3, 1, 8)).counted_minutes == 0


def test_calendar_year_window() -> None:
    """启东: hours within the rating date's calendar year only."""
    qidong = STAR_PROFILES["qidong"]
    rows = [
        row("v1", date(2024, 12, 31), hours(500)),
        row("v1", date(2025, 1, 1), hours(100)),
        row("v1", date(2025, 12, 31), hours(200)),
    ]
    assert qidong.window_start(date(2025, 7, 1)) == date(2025, 1, 1)
    assert qidong.rate_rows("v1", rows, at(2024, 12, 31, 23, 59, 59)).level == 2
    assert qidong.rate_rows("v1", rows, at(2025, 1, 1)).level == 1
    r = qidong.rate_rows("v1", rows, at(2025, 12, 31, 12))
    assert (r.counted_minutes, r.level) == (hours(300), 2)
    assert qidong.rate_rows("v1", rows, at(2026, 1, 1)).counted_minutes == 0


def test_a_record_over_new_year_counts_in_its_start_year() -> None:
    v = volunteer("v1")
    ledger = star_ledger(v)
    serve(ledger, "r1", "v1", date(2024, 12, 31), hours(6), hour=20)  # ends 2025-01-01 02:00
    qidong = STAR_PROFILES["qidong"]
    as_of = at(2025, 1, 1, 3)
    assert NATIONAL.rate(v, ledger, as_of).counted_minutes == hours(6)
    assert qidong.rate(v, ledger, as_of).counted_minutes == 0  # served in 2024
    assert qidong.rate(v, ledger, at(2025, 1, 1, 1, 59)).counted_minutes == 0  # not yet posted


def test_the_rating_moment_is_taken_in_shanghai() -> None:
    qidong = STAR_PROFILES["qidong"]
    rows = [row("v1", date(2025, 1, 1), hours(100))]
    from datetime import UTC

    # 2024-12-31 16:30 UTC is 2025-01-01 00:30 in Shanghai.
    r = qidong.rate_rows("v1", rows, datetime(2024, 12, 31, 16, 30, tzinfo=UTC))
    assert (r.as_of, r.level) == (date(2025, 1, 1), 1)


@pytest.mark.parametrize("bad", [datetime(2025, 1, 1, 12), "2025-01-01", date(2025, 1, 1)])
def test_a_naive_or_missing_rating_moment_is_refused(bad: Any) -> None:
    with pytest.raises(InvalidValue) as err:
        NATIONAL.rate_rows("v1", [], bad)
    assert err.value.field == "as_of"


# --- conditions ----------------------------------------------------------------------------------


def test_longgang_months_since_registration() -> None:
    """龙岗: 200 h at 5 months of registration is no star yet; at 6 months it is 1★."""
    longgang = STAR_PROFILES["longgang"]
    v = volunteer("v1", registered_on=date(2024, 1, 15))
    ledger = star_ledger(v)
    serve(ledger, "r1", "v1", date(2024, 2, 1), hours(200))
    r = longgang.rate(v, ledger, at(2024, 7, 14, 23, 59))
    assert (r.level, r.next_level, r.minutes_missing) == (0, 1, 0)
    assert [(f.rule, f.numbers) for f in r.unmet] == [
        ("stars.months", {"level": 1, "need": 6, "have": 5})
    ]
    assert (
        "申请1星级须注册满 6 个月（现 5 个月） / 1 stars need 6 months since registration (now 5)"
        in str(r)
    )
    check_rating(longgang, r)
    r = longgang.rate(v, ledger, at(2024, 7, 15))
    assert (r.level, r.next_level, r.minutes_missing, r.unmet) == (1, 2, hours(100), ())


def test_longgang_higher_stars_need_a_year() -> None:
    longgang = STAR_PROFILES["longgang"]
    v = volunteer("v1", registered_on=date(2024, 1, 15))
    rows = [row("v1", date(2024, 2, 1), hours(700))]
    r = longgang.rate_rows("v1", rows, at(2024, 12, 31), volunteer=v)
    assert r.level == 2
    assert [f.numbers for f in r.unmet] == [{"level": 3, "need": 12, "have": 11}]
    assert longgang.rate_rows("v1", rows, at(2025, 1, 15), volunteer=v).level == 3
    # The months are judged on the volunteer: without one, rate_rows refuses (as the columnar
    # twin does) rather than skip the condition.
    with pytest.raises(InvalidValue, match="volunteer"):
        longgang.rate_rows("v1", rows, at(2024, 12, 31))


def test_longgang_months_and_missing_hours_are_both_explained() -> None:
    longgang = STAR_PROFILES["longgang"]
    v = volunteer("v1", registered_on=date(2024, 6, 1))
    rows = [row("v1", date(2024, 7, 1), hours(50))]
    r = longgang.rate_rows("v1", rows, at(2024, 8, 1), volunteer=v)
    assert rules(r) == ["stars.level", "stars.next", "stars.months"]
    assert r.minutes_missing == hours(50)
    check_rating(longgang, r)


def test_longgang_is_a_four_star_scheme() -> None:
    longgang = STAR_PROFILES["longgang"]
    v = volunteer("v1", registered_on=date(2019, 1, 1))
    r = longgang.rate_rows("v1", [row("v1", date(2020, 1, 1), hours(5000))], AS_OF, volunteer=v)
    assert (longgang.top, r.level, r.next_level) == (4, 4, None)
    assert [longgang.approver_level(n) for n in (1, 2, 3, 4)] == [
        Level.TOWNSHIP,
        Level.TOWNSHIP,
        Level.TOWNSHIP,
        Level.COUNTY,
    ]


@pytest.mark.parametrize(
    ("held", "marks"), [("4", ()), (9, ()), (-1, ()), (True, ()), (0, "2024-01-01"), (0, [1])]
)
def test_a_held_level_or_marks_of_the_wrong_kind_are_refused(held: Any, marks: Any) -> None:
    rows = [row("v1", date(2024, 1, 1), hours(100))]
    with pytest.raises(InvalidValue, match=r"held|marks"):
        NATIONAL.rate_rows("v1", rows, AS_OF, held=held, marks=marks)


def test_sichuan_five_stars_need_four_held_first() -> None:
    sichuan = STAR_PROFILES["sichuan"]
    rows = [row("v1", date(2024, 1, 1), hours(1600))]
    r = sichuan.rate_rows("v1", rows, AS_OF, held=3)
    assert (r.level, r.next_level, r.minutes_missing) == (4, 5, 0)
    assert [(f.rule, f.numbers) for f in r.unmet] == [
        ("stars.sequential", {"level": 5, "previous": 4, "held": 3})
    ]
    assert (
        "须先获得4星级才能申请5星级（现为 3 星） / 5 stars need 4 stars held first (holds 3)"
        in str(r)
    )
    check_rating(sichuan, r)
    # Nothing held: 1★–4★ on hours alone, 5★ still needs 4★ held.
    assert sichuan.rate_rows("v1", rows, AS_OF).level == 4
    r = sichuan.rate_rows("v1", rows, AS_OF, held=4)
    assert (r.level, r.next_level, r.unmet) == (5, None, ())
    # The national scheme lets hours alone reach 5★.
    assert NATIONAL.rate_rows("v1", rows, AS_OF, held=0).level == 5


def test_sequential_from_a_lower_level() -> None:
    scheme = StarScheme(name="in-order", sequential_from=2)
    rows = [row("v1", date(2024, 1, 1), hours(1500))]
    assert [scheme.rate_rows("v1", rows, AS_OF, held=h).level for h in range(6)] == [
        1,
        2,
        3,
        4,
        5,
        5,
    ]


def test_guangxi_clean_years() -> None:
    """桂志愿: no upheld complaint or falsified hours in the 3 years up to the rating day."""
    guangxi = STAR_PROFILES["guangxi"]
    rows = [row("v1", date(2024, 1, 1), hours(700))]
    as_of = at(2025, 6, 1, 9)
    inside = guangxi.rate_rows("v1", rows, as_of, marks=[date(2022, 6, 2), date(2020, 1, 1)])
    assert (inside.level, inside.next_level, inside.minutes_missing) == (0, 1, 0)
    assert [(f.rule, f.values) for f in inside.unmet] == [("stars.clean", (3, 1, "2022-06-02"))]
    assert "近 3 年内有 1 次被查实投诉或虚假时长（最近 2022-06-02）" in str(inside)
    check_rating(guangxi, inside)
    on_the_day = guangxi.rate_rows("v1", rows, as_of, marks=[date(2025, 6, 1), date(2023, 1, 1)])
    assert on_the_day.level == 0
    assert on_the_day.unmet[0].values == (3, 2, "2025-06-01")
    outside = guangxi.rate_rows("v1", rows, as_of, marks=[date(2022, 6, 1)])
    assert (outside.level, outside.unmet) == (3, ())
    later = guangxi.rate_rows("v1", rows, as_of, marks=[date(2025, 6, 2)])  # after as_of
    assert later.level == 3
    # Schemes without the condition ignore marks.
    assert NATIONAL.rate_rows("v1", rows, as_of, marks=[date(2025, 6, 1)]).level == 3


# --- several schemes side by side --------------------------------------------------------------


def test_several_schemes_rate_the_same_ledger_each_their_own_way() -> None:
    v = volunteer("v1", registered_on=date(2024, 9, 2))
    ledger = star_ledger(v)
    serve(ledger, "old", "v1", date(2018, 5, 1), hours(100))
    serve(ledger, "last", "v1", date(2024, 10, 1), hours(120))
    serve(ledger, "this", "v1", date(2025, 2, 1), hours(30))
    as_of = at(2025, 3, 1)
    got = {
        name: STAR_PROFILES[name].rate(v, ledger, as_of)
        for name in ("national", "beijing_2007", "zhangjiagang", "qidong", "nanhai", "longgang")
    }
    assert {n: (r.scheme, r.counted_minutes, r.level) for n, r in got.items()} == {
        "national": ("national", hours(250), 1),
        "beijing_2007": ("beijing_2007", hours(250), 2),
        "zhangjiagang": ("zhangjiagang", hours(250), 4),
        "qidong": ("qidong", hours(30), 0),
        "nanhai": ("nanhai", hours(150), 1),
        "longgang": ("longgang", hours(250), 0),  # 6 months of registration on 2025-03-02
    }
    assert got["longgang"].unmet[0].numbers == {"level": 1, "need": 6, "have": 5}
    for name, r in got.items():
        check_rating(STAR_PROFILES[name], r)


def test_every_profile_is_cited_and_consistent() -> None:
    assert StarScheme() == attrs.evolve(NATIONAL, source=None)  # but its source
    assert NATIONAL.thresholds_hours == (100, 300, 600, 1000, 1500)
    assert [NATIONAL.approver_level(n) for n in range(1, 6)] == [
        Level.COUNTY,
        Level.COUNTY,
        Level.CITY,
        Level.CITY,
        Level.PROVINCE,
    ]
    assert STAR_PROFILES["zhangjiagang"].thresholds_hours == (30, 60, 100, 200, 300)
    assert STAR_PROFILES["guangdong"].notice_days >= 5
    assert 1 <= STAR_PROFILES["guangdong"].ban_years <= 3
    for name, scheme in STAR_PROFILES.items():
        assert scheme.name == name
        assert len(scheme.approving) == scheme.top


# --- rate_many ---------------------------------------------------------------------------------


def test_rate_many_through_a_ledger_equals_rate() -> None:
    vs = [
        volunteer("v1", registered_on=date(2024, 1, 1)),
        volunteer("v2", home=HAIAN),
        volunteer("v3", home=NANGUAN),
    ]
    ledger = star_ledger(*vs)
    serve(ledger, "a", "v1", date(2024, 2, 1), hours(320))
    serve(ledger, "b", "v2", date(2024, 2, 1), hours(99, 59))
    serve(ledger, "c", "v2", date(2024, 6, 1), hours(1))
    as_of = at(2024, 12, 1)
    for scheme in STAR_PROFILES.values():
        many = scheme.rate_many(
            vs, ledger.rows(as_of=as_of), as_of, held={"v1": 1}, marks={"v2": [date(2024, 5, 1)]}
        )
        assert list(many) == ["v1", "v2", "v3"]
        for v in vs:
            one = scheme.rate(
                v,
                ledger,
                as_of,
                held=1 if v.id == "v1" else 0,
                marks=[date(2024, 5, 1)] if v.id == "v2" else (),
            )
            assert many[v.id] == one
    assert NATIONAL.rate_many(vs, ledger.rows(as_of=as_of), as_of)["v2"].level == 1


VIDS = ("v1", "v2", "v3", "v4")


@st.composite
def histories(draw: st.DrawFn) -> list[HourRow]:
    n = draw(st.integers(min_value=0, max_value=40))
    out = []
    for _ in range(n):
        minutes = draw(st.integers(min_value=1, max_value=hours(400)))
        out.append(
            HourRow(
                draw(st.sampled_from(VIDS)),
                draw(st.dates(min_value=date(2015, 1, 1), max_value=date(2026, 12, 31))),
                minutes,
                minutes * draw(st.sampled_from([50, 100, 150])) // 100,
                draw(st.sampled_from(Evidence)),
                draw(st.sampled_from(CATEGORIES)),
                draw(st.frozensets(st.sampled_from(Purpose))),
                draw(st.sampled_from([YOUYI, HAIAN, NANGUAN])),
            )
        )
    return out


def counted_oracle(scheme: StarScheme, rows: list[HourRow], vid: str, day: date) -> int:
    """Counted minutes, written apart from the library."""
    total = 0
    for r in rows:
        if r.volunteer_id != vid or r.service_date > day:
            continue
        if scheme.window is Window.CALENDAR_YEAR and r.service_date.year != day.year:
            continue
        if scheme.window is Window.ROLLING_YEARS:
            try:
                back = day.replace(year=day.year - scheme.window_years)
            except ValueError:  # 29 February
                back = date(day.year - scheme.window_years, 2, 28)
            if r.service_date <= back:
                continue
        if scheme.evidence is None and Purpose.STARS not in r.purposes:
            continue
        if scheme.evidence is not None and r.evidence not in scheme.evidence:
            continue
        if scheme.categories is not None and r.category not in scheme.categories:
            continue
        total += r.weighted_minutes if scheme.weighted else r.minutes
    return total


schemes_any = st.sampled_from(list(STAR_PROFILES.values())) | star_schemes()


@given(
    scheme=schemes_any,
    rows=histories(),
    day=st.dates(min_value=date(2016, 1, 1), max_value=date(2026, 12, 31)),
    held=st.dictionaries(st.sampled_from(VIDS), st.integers(min_value=0, max_value=5)),
    marks=st.dictionaries(
        st.sampled_from(VIDS),
        st.lists(st.dates(min_value=date(2015, 1, 1), max_value=date(2026, 12, 31)), max_size=3),
    ),
    registered=st.dates(min_value=date(2014, 1, 1), max_value=date(2026, 12, 31)),
)
def test_rate_many_equals_rate_for_each_volunteer(
    scheme: StarScheme,
    rows: list[HourRow],
    day: date,
    held: dict[str, int],
    marks: dict[str, list[date]],
    registered: date,
) -> None:
    as_of = datetime(day.year, day.month, day.day, 18, tzinfo=SHANGHAI)
    vs = [volunteer(vid, registered_on=registered) for vid in VIDS[:3]]  # v4 is never asked
    held = {vid: min(h, scheme.top) for vid, h in held.items()}  # a level the scheme has
    many = scheme.rate_many(vs, rows, as_of, held=held, marks=marks)
    assert list(many) == [v.id for v in vs]
    for v in vs:
        one = scheme.rate_rows(
            v.id, rows, as_of, volunteer=v, held=held.get(v.id, 0), marks=marks.get(v.id, ())
        )
        assert many[v.id] == one
        assert one.counted_minutes == counted_oracle(scheme, rows, v.id, day)
        check_rating(scheme, one)


# --- properties ----------------------------------------------------------------------------------


@given(
    scheme=schemes_any,
    a=st.integers(min_value=0, max_value=hours(5000)),
    b=st.integers(min_value=0, max_value=hours(5000)),
    held=st.integers(min_value=0, max_value=5),
    mark=st.none() | st.dates(min_value=date(2020, 1, 1), max_value=date(2025, 1, 1)),
)
def test_more_hours_never_lower_the_level(
    scheme: StarScheme, a: int, b: int, held: int, mark: date | None
) -> None:
    lo, hi = sorted((a, b))
    marks = [] if mark is None else [mark]
    v = volunteer("v1", registered_on=date(2024, 6, 1))
    kw: dict[str, Any] = {"held": min(held, scheme.top), "marks": marks, "volunteer": v}
    scheme = attrs.evolve(scheme, evidence=None, categories=None, window=Window.CUMULATIVE)
    r_lo, r_hi = rating_for(scheme, lo, **kw), rating_for(scheme, hi, **kw)
    assert r_lo.counted_minutes == lo and r_hi.counted_minutes == hi
    assert r_lo.level <= r_hi.level
    assert r_lo.level <= expected_level(scheme.thresholds_hours, lo)
    check_rating(scheme, r_lo)
    check_rating(scheme, r_hi)


@given(thresholds=increasing_thresholds(), minutes=st.integers(min_value=0, max_value=hours(5000)))
def test_without_conditions_the_level_is_the_number_of_thresholds_reached(
    thresholds: tuple[int, ...], minutes: int
) -> None:
    n = len(thresholds)
    scheme = StarScheme(name="t", thresholds_hours=thresholds, approving=[Level.COUNTY] * n)
    r = rating_for(scheme, minutes)
    assert r.level == expected_level(thresholds, minutes)
    assert r.unmet == ()
    if r.next_level is not None:
        assert r.counted_minutes + r.minutes_missing == thresholds[r.level] * 60
        assert r.minutes_missing > 0
    check_rating(scheme, r)


@given(
    thresholds=increasing_thresholds(),
    cuts=st.lists(st.integers(min_value=0, max_value=300), min_size=7, max_size=7),
    minutes=st.integers(min_value=0, max_value=hours(5000)),
)
def test_the_level_is_monotone_in_the_thresholds(
    thresholds: tuple[int, ...], cuts: list[int], minutes: int
) -> None:
    """Lowering any thresholds (keeping them increasing) never lowers the level."""
    lower: list[int] = []
    for t, c in zip(thresholds, cuts, strict=False):
        lower.append(max(t - c, (lower[-1] + 1) if lower else 1))
    assume(all(x <= t for x, t in zip(lower, thresholds, strict=True)))
    n = len(thresholds)
    hi = StarScheme(name="hi", thresholds_hours=thresholds, approving=[Level.CITY] * n)
    lo = StarScheme(name="lo", thresholds_hours=lower, approving=[Level.CITY] * n)
    assert rating_for(lo, minutes).level >= rating_for(hi, minutes).level


# --- schemes as data -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(STAR_PROFILES))
def test_every_profile_round_trips_through_json_and_toml(name: str) -> None:
    scheme = STAR_PROFILES[name]
    assert from_json(to_json(scheme), StarScheme) == scheme
    assert from_toml(to_toml(scheme), StarScheme) == scheme
    assert from_json(to_json(scheme, indent=2), StarScheme) == scheme


@given(scheme=star_schemes())
def test_random_schemes_round_trip_losslessly(scheme: StarScheme) -> None:
    j = from_json(to_json(scheme), StarScheme)
    t = from_toml(to_toml(scheme), StarScheme)
    assert j == scheme and t == scheme
    assert to_json(j) == to_json(scheme)
    for field in attrs.fields(StarScheme):
        assert getattr(t, field.name) == getattr(scheme, field.name), field.name


def test_a_scheme_loads_from_hand_written_toml() -> None:
    text = """
name = "龙岗"
effective_from = 2023-01-01
thresholds_hours = [100, 300, 600, 1000]
min_months = [6, 6, 12, 12]
approving = ["township", "township", "township", "county"]
evidence = ["qr_scan", "gps"]
window = "rolling_years"
window_years = 5
downgrade = "idle_year"
"""
    s = from_toml(text, StarScheme)
    assert s.effective_from == date(2023, 1, 1)
    assert s.evidence == frozenset({Evidence.QR_SCAN, Evidence.GPS})
    assert (s.window, s.window_years, s.downgrade) == (Window.ROLLING_YEARS, 5, Downgrade.IDLE_YEAR)
    assert s.top == 4 and s.threshold_minutes(4) == hours(1000)


def test_enum_fields_accept_their_values() -> None:
    """A string value is read as the enum, never silently taken for another rule."""
    s = StarScheme(
        name="s", window="calendar_year", downgrade="idle_year", approving=["county"] * 5,
        evidence=["gps"],
    )  # fmt: skip
    assert s.window is Window.CALENDAR_YEAR and s.downgrade is Downgrade.IDLE_YEAR
    assert s.approving == (Level.COUNTY,) * 5 and s.evidence == frozenset({Evidence.GPS})
    assert s == attrs.evolve(
        s, window=Window.CALENDAR_YEAR, downgrade=Downgrade.IDLE_YEAR, approving=s.approving
    )
    gps = [row("v1", date(2024, 12, 31), hours(100), evidence=Evidence.GPS)]
    assert s.rate_rows("v1", gps, at(2024, 12, 31, 9)).level == 1
    assert s.rate_rows("v1", gps, AS_OF).level == 0  # a new calendar year


def test_unknown_keys_and_floats_are_refused_on_load() -> None:
    with pytest.raises(InvalidInput, match="extra fields"):
        from_json('{"thresholds": [1, 2]}', StarScheme)
    with pytest.raises(InvalidInput, match=r"thresholds_hours"):
        from_json('{"thresholds_hours": [100.5, 300, 600, 1000, 1500]}', StarScheme)


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"thresholds_hours": ()}, "thresholds_hours"),
        ({"thresholds_hours": (100, 100, 600, 1000, 1500)}, "thresholds_hours"),
        ({"thresholds_hours": (100, 300, 200, 1000, 1500)}, "thresholds_hours"),
        ({"thresholds_hours": (0, 300, 600, 1000, 1500)}, "thresholds_hours"),
        ({"thresholds_hours": (-100, 300, 600, 1000, 1500)}, "thresholds_hours"),
        ({"thresholds_hours": (100.0, 300, 600, 1000, 1500)}, "thresholds_hours"),
        ({"thresholds_hours": (True, 300, 600, 1000, 1500)}, "thresholds_hours"),
        ({"approving": (Level.COUNTY,) * 4}, "approving"),
        ({"approving": (Level.COUNTY,) * 6}, "approving"),
        ({"approving": ("county", "county", "town", "city", "province")}, "approving"),
        ({"min_months": (6, 6, 12, 12, 12, 12)}, "min_months"),
        ({"min_months": (6, -1)}, "min_months"),
        ({"sequential_from": 1}, "sequential_from"),
        ({"sequential_from": 6}, "sequential_from"),
        ({"sequential_from": 2.5}, "sequential_from"),
        ({"clean_years": -1}, "clean_years"),
        ({"window_years": 0}, "window_years"),
        ({"ban_years": -1}, "ban_years"),
        ({"notice_days": -1}, "notice_days"),
        ({"name": " "}, "name"),
        ({"effective_from": datetime(2024, 1, 1, tzinfo=SHANGHAI)}, "effective_from"),
        ({"evidence": ["fax"]}, "evidence"),
        ({"window": "weekly"}, "window"),
        ({"downgrade": "monthly"}, "downgrade"),
    ],
)
def test_invalid_schemes_name_the_field(kw: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidValue) as err:
        StarScheme(**kw)
    assert err.value.field == field
    assert str(err.value).startswith(f"{field}: ")


@given(
    steps=st.lists(st.integers(min_value=-300, max_value=300), min_size=2, max_size=7),
    first=st.integers(min_value=1, max_value=500),
)
def test_non_increasing_thresholds_are_refused(steps: list[int], first: int) -> None:
    assume(any(s <= 0 for s in steps[1:]))
    t = [first]
    for s in steps[1:]:
        t.append(t[-1] + s)
    assume(all(x > 0 for x in t))
    with pytest.raises(InvalidValue) as err:
        StarScheme(thresholds_hours=t, approving=[Level.COUNTY] * len(t))
    assert err.value.field == "thresholds_hours"


@given(thresholds=increasing_thresholds(), extra=st.integers(min_value=-7, max_value=7))
def test_approving_of_the_wrong_length_is_refused(thresholds: tuple[int, ...], extra: int) -> None:
    n = len(thresholds) + extra
    assume(n >= 0 and extra != 0)
    with pytest.raises(InvalidValue) as err:
        StarScheme(thresholds_hours=thresholds, approving=[Level.CITY] * n)
    assert err.value.field == "approving"
    assert str(len(thresholds)) in err.value.reason


def test_an_invalid_scheme_in_json_names_the_field() -> None:
    with pytest.raises(InvalidInput, match="thresholds_hours"):
        from_json('{"thresholds_hours": [300, 100]}', StarScheme)
    with pytest.raises(InvalidInput, match="approving"):
        from_json('{"approving": ["county"]}', StarScheme)
    with pytest.raises(InvalidInput, match="min_months"):
        from_json('{"min_months": [-1]}', StarScheme)
