"""The hour policy: every rule at its boundaries, findings that explain themselves, profiles as
data, and properties over random records, policies and contexts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from support.hours import (
    NOW,
    SH,
    at,
    check_outcome,
    evaluate,
    ledger,
    minute_datetimes,
    overlaps,
    record,
    seg,
    volunteer,
)
from zhiyuan._validators import MINUTES
from zhiyuan.convert import from_json, from_toml, to_json, to_toml
from zhiyuan.errors import InvalidInput, InvalidValue
from zhiyuan.hours import (
    HOUR_PROFILES,
    RULES,
    Evidence,
    HourPolicy,
    HourRule,
    Outcome,
    Overflow,
    OverlapRule,
    Purpose,
    Rounding,
    ServiceRecord,
    Status,
    Volunteer,
)

D = date(2025, 3, 3)  # the default record's service date (09:00, 60 min)


def rules_of(out: Outcome) -> list[str]:
    return [f.rule for f in out.findings]


def finding(out: Outcome, rule: str) -> Any:
    (f,) = [f for f in out.findings if f.rule == rule]
    return f


def run(policy: HourPolicy, rec: ServiceRecord, **kw: Any) -> Outcome:
    """Evaluate and check the outcome's self-consistency (findings, days, segments)."""
    out = evaluate(policy, rec, **kw)
    check_outcome(out)
    assert out.record_id == rec.id
    assert out.served_minutes == rec.served_minutes
    return out


# --- the national default -------------------------------------------------------------------


def test_the_default_rules_are_values_with_unique_ids_and_switch_off_with_their_policy() -> None:
    assert all(isinstance(r, HourRule) for r in RULES)
    assert len({r.id for r in RULES}) == len(RULES)
    assert [r.id for r in HourPolicy().rules] == [
        "hours.span", "hours.age", "hours.schedule_cap", "hours.overlap", "hours.daily_cap",
    ]  # fmt: skip
    full = HourPolicy(
        excluded_categories={"x"}, deadline_days=30, record_cap_minutes=120, unit_minutes=30
    )
    assert full.rules == RULES
    assert all(r.rejects for r in RULES if r.id in {"hours.category", "hours.overlap"})
    assert not any(r.rejects for r in RULES if r.id in {"hours.rounding", "hours.record_cap"})


def test_national_default_counts_every_minute_and_explains_nothing() -> None:
    rec = record(minutes=220)
    out = run(HourPolicy(), rec)
    assert out.status is Status.ACCEPTED and out.counted
    assert out.counted_minutes == out.weighted_minutes == 220
    assert out.findings == ()
    assert out.segments == (seg(rec.start, rec.end),)
    assert out.day_minutes == ((D, 220),)
    assert out.explain() == "r1: accepted, 220 min served, 220 counted"
    assert HourPolicy() == attrs.evolve(HOUR_PROFILES["national"], source=None)  # but its source


def test_counts_toward_follows_the_evidence() -> None:
    p = HourPolicy()
    every = frozenset(Purpose)
    assert run(p, record(evidence=Evidence.QR_SCAN)).counts_toward == every
    assert run(p, record(evidence=Evidence.SELF_REPORT)).counts_toward == {Purpose.REPORTS}
    assert run(p, record(evidence=Evidence.ADMIN_TOPUP)).counts_toward == {
        Purpose.STARS,
        Purpose.REPORTS,
    }
    only = HourPolicy(counts_toward={"points": ["gps"]})
    assert only.purposes(Evidence.GPS) == {Purpose.POINTS}
    assert only.purposes(Evidence.QR_SCAN) == frozenset()


# --- record cap (海林: 2 h per activity) -------------------------------------------------------


@pytest.mark.parametrize(("served", "counted"), [(119, 119), (120, 120), (121, 120), (600, 120)])
def test_record_cap_boundary(served: int, counted: int) -> None:
    out = run(HourPolicy(record_cap_minutes=120), record(minutes=served))
    assert out.counted_minutes == counted
    if served <= 120:
        assert out.findings == ()
    else:
        f = finding(out, "hours.record_cap")
        assert f.numbers == {"before": served, "cap": 120}
        assert f"{served} 分钟核减为 120 分钟" in f.zh and f"{served} min cut to 120" in f.en


@pytest.mark.parametrize(
    ("served", "counted", "rules"),
    [
        (59, 0, ["hours.rounding"]),
        (60, 60, []),
        (119, 60, ["hours.rounding"]),
        (120, 120, []),
        (121, 120, ["hours.record_cap"]),
        (220, 120, ["hours.record_cap"]),
    ],
)
def test_hailin_whole_hours_at_most_two(served: int, counted: int, rules: list[str]) -> None:
    out = run(HOUR_PROFILES["hailin"], record(minutes=served))
    assert out.counted_minutes == counted
    assert rules_of(out) == rules


# --- units and rounding -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rounding", "expected"),
    [
        (Rounding.DOWN, {29: 0, 30: 30, 31: 30, 44: 30, 45: 30, 59: 30, 60: 60}),
        (Rounding.HALF_UP, {29: 30, 30: 30, 31: 30, 44: 30, 45: 60, 59: 60, 60: 60, 14: 0, 15: 30}),
        (Rounding.UP, {29: 30, 30: 30, 31: 60, 44: 60, 45: 60, 59: 60, 60: 60, 1: 30}),
    ],
)
def test_half_hour_units(rounding: Rounding, expected: dict[int, int]) -> None:
    p = HourPolicy(unit_minutes=30, rounding=rounding)
    for served, counted in expected.items():
        assert p.snap(served) == counted
        out = run(p, record(minutes=served))
        assert out.counted_minutes == counted, (rounding, served)
        if counted == served:
            assert out.findings == ()
        else:
            f = finding(out, "hours.rounding")
            assert f.numbers == {"before": served, "after": counted, "unit": 30}
            assert f"{served} → {counted}" in f.zh and f"{served} → {counted}" in f.en


def test_unit_of_one_minute_never_rounds() -> None:
    for rounding in Rounding:
        p = HourPolicy(rounding=rounding)
        assert [p.snap(m) for m in (0, 1, 29, 61)] == [0, 1, 29, 61]


def test_rounded_down_to_zero_is_accepted_but_not_counted() -> None:
    out = run(HourPolicy(unit_minutes=30), record(minutes=29))
    assert out.status is Status.ACCEPTED
    assert out.counted_minutes == 0 and not out.counted
    assert out.day_minutes == ()


# --- daily cap (广东, university) ------------------------------------------------------------


def test_daily_cap_trim_at_the_boundary() -> None:
    p = HourPolicy(daily_cap_minutes=480)
    assert run(p, record(minutes=480)).findings == ()
    out = run(p, record(minutes=481))
    assert out.counted_minutes == 480 and out.status is Status.ACCEPTED
    f = finding(out, "hours.daily_cap")
    assert f.variant == "trim" and f.numbers == {"cap": 480, "before": 481, "after": 480}
    assert out.day_minutes == ((D, 480),)


def test_daily_cap_counts_what_the_day_already_used() -> None:
    p = HourPolicy(daily_cap_minutes=480)
    used = {D: 300}
    assert run(p, record(minutes=180), day_used=used).counted_minutes == 180
    out = run(p, record(minutes=240), day_used=used)
    assert out.counted_minutes == 180
    assert finding(out, "hours.daily_cap").numbers == {"cap": 480, "before": 240, "after": 180}
    full = run(p, record(minutes=60), day_used={D: 480})
    assert full.counted_minutes == 0 and full.day_minutes == () and not full.counted
    # another day's use does not matter
    assert run(p, record(minutes=240), day_used={D + timedelta(days=1): 480}).findings == ()


def test_daily_cap_approval_counts_everything_but_needs_approval() -> None:
    p = HourPolicy(daily_cap_minutes=480, over_daily_cap=Overflow.APPROVAL)
    assert run(p, record(minutes=180), day_used={D: 300}).status is Status.ACCEPTED
    out = run(p, record(minutes=240), day_used={D: 300})
    assert out.status is Status.NEEDS_APPROVAL and out.counted
    assert out.counted_minutes == 240 and out.day_minutes == ((D, 240),)
    f = finding(out, "hours.daily_cap")
    assert f.numbers == {"cap": 480, "over": 60} and "approval" in f.en and "审批" in f.zh


def test_daily_cap_reject() -> None:
    p = HourPolicy(daily_cap_minutes=480, over_daily_cap=Overflow.REJECT)
    assert run(p, record(minutes=180), day_used={D: 300}).status is Status.ACCEPTED
    out = run(p, record(minutes=181), day_used={D: 300})
    assert out.status is Status.REJECTED and out.counted_minutes == 0
    assert finding(out, "hours.daily_cap").numbers == {"cap": 480, "over": 1}


def test_guangdong_more_than_eight_hours_needs_approval() -> None:
    gd = HOUR_PROFILES["guangdong"]
    assert run(gd, record(minutes=480)).status is Status.ACCEPTED
    out = run(gd, record(minutes=540))
    assert out.status is Status.NEEDS_APPROVAL and out.counted_minutes == 540


def test_university_half_hours_and_eight_a_day() -> None:
    uni = HOUR_PROFILES["university"]
    soon = at(2025, 3, 5)  # within the 30-day deadline
    assert run(uni, record(minutes=100), now=soon).counted_minutes == 90
    out = run(uni, record(minutes=9 * 60 + 10), now=soon)
    assert out.counted_minutes == 480
    assert rules_of(out) == ["hours.rounding", "hours.daily_cap"]
    # 7 h 45 already: 15 min of room, less than a unit, so nothing more counts
    out = run(uni, record(minutes=60), day_used={D: 465}, now=soon)
    assert out.counted_minutes == 0
    f = finding(out, "hours.daily_cap")
    assert f.numbers == {"cap": 480, "before": 60, "after": 0}


def test_daily_cap_on_a_full_day_still_counts_the_next_days_part() -> None:
    # University: 8 h already on 3 March; 23:15 → 00:44 is 45 min on the 3rd (no room) and
    # 44 min on the 4th. The 4th's 44 min give one 30-minute unit.
    uni = HOUR_PROFILES["university"]
    rec = record(start=at(2025, 3, 3, 23, 15), end=at(2025, 3, 4, 0, 44))
    out = run(uni, rec, day_used={D: 480}, now=at(2025, 3, 5))
    assert out.counted_minutes == 30
    assert out.day_minutes == ((date(2025, 3, 4), 30),)


def test_minors_have_their_own_daily_cap() -> None:
    p = HourPolicy(daily_cap_minutes=480, minor_daily_cap_minutes=120)
    minor = volunteer(born=date(2008, 1, 1))  # 17 on 2025-03-03
    adult = volunteer(born=date(2007, 3, 3))  # 18 that very day
    out = run(p, record(minutes=180), volunteer=minor)
    assert out.minor and out.counted_minutes == 120
    assert finding(out, "hours.minor").numbers == {"age": 17}
    assert finding(out, "hours.daily_cap").numbers["cap"] == 120
    out = run(p, record(minutes=180), volunteer=adult)
    assert not out.minor and out.counted_minutes == 180 and out.findings == ()
    # a minor cap alone (no adult cap) applies to minors only
    only_minors = HourPolicy(minor_daily_cap_minutes=120)
    assert run(only_minors, record(minutes=180), volunteer=minor).counted_minutes == 120
    assert run(only_minors, record(minutes=180), volunteer=adult).counted_minutes == 180
    assert run(only_minors, record(minutes=180)).counted_minutes == 180  # age unknown


def test_minimum_age() -> None:
    p = HourPolicy(min_age=14)
    thirteen = volunteer(born=date(2011, 3, 4))  # 14 tomorrow
    fourteen = volunteer(born=date(2011, 3, 3))  # 14 today
    out = run(p, record(), volunteer=thirteen)
    assert out.status is Status.REJECTED
    assert finding(out, "hours.age").numbers == {"age": 13, "min_age": 14}
    out = run(p, record(), volunteer=fourteen)
    assert out.status is Status.ACCEPTED and out.minor
    assert rules_of(out) == ["hours.minor"]
    assert run(p, record(), volunteer=volunteer()).status is Status.ACCEPTED  # no ID number


# --- recording deadline ---------------------------------------------------------------------


def test_deadline_at_the_limit_and_one_day_past() -> None:
    p = HourPolicy(deadline_days=30)
    rec = record()  # ends 2025-03-03 10:00
    assert run(p, rec, now=at(2025, 4, 2, 23, 59)).findings == ()  # day 30
    out = run(p, rec, now=at(2025, 4, 3, 0, 0))  # day 31
    assert out.status is Status.REJECTED
    assert finding(out, "hours.deadline").numbers == {"days": 31, "limit": 30}


def test_late_entry_can_go_for_approval() -> None:
    p = HourPolicy(deadline_days=30, late=Overflow.APPROVAL)
    out = run(p, record(minutes=90), now=at(2025, 4, 3))
    assert out.status is Status.NEEDS_APPROVAL and out.counted_minutes == 90
    assert "approval" in finding(out, "hours.deadline").en
    with pytest.raises(InvalidValue, match="late"):
        HourPolicy(late=Overflow.TRIM)


def test_deadline_uses_recorded_at_and_shanghai_dates() -> None:
    p = HourPolicy(deadline_days=0)
    rec = record(start=at(2025, 3, 3, 22), end=at(2025, 3, 3, 23, 30))
    assert run(p, rec, now=at(2025, 3, 3, 23, 59)).status is Status.ACCEPTED
    assert run(p, rec, now=at(2025, 3, 4, 0, 0)).status is Status.REJECTED
    entered = record(
        start=at(2025, 3, 3, 22), end=at(2025, 3, 3, 23, 30), recorded_at=at(2025, 3, 3, 23, 45)
    )
    assert run(p, entered, now=at(2025, 6, 1)).status is Status.ACCEPTED
    assert run(HOUR_PROFILES["university"], record(), now=at(2025, 4, 3)).status is Status.REJECTED


# --- schedule cap (志愿汇: top-ups never exceed the scheduled duration) -----------------------


def scheduled(**kw: Any) -> ServiceRecord:
    return record(
        start=at(2025, 3, 3, 9),
        end=at(2025, 3, 3, 12),
        scheduled_start=at(2025, 3, 3, 9),
        scheduled_end=at(2025, 3, 3, 11),
        **kw,
    )


def test_top_up_never_exceeds_the_schedule() -> None:
    rec = scheduled(evidence=Evidence.ADMIN_TOPUP)
    out = run(HourPolicy(), rec)
    assert out.counted_minutes == 120
    assert out.segments == (seg(at(2025, 3, 3, 9), at(2025, 3, 3, 11)),)
    f = finding(out, "hours.schedule_cap")
    assert f.numbers == {"before": 180, "after": 120, "scheduled": 120} and "top-up" in f.en
    assert f.variant == "topup_window"


def test_top_up_counts_only_the_time_inside_the_schedule() -> None:
    # Regression: 13:00–18:00 entered for a 09:00–12:00 activity counted 180 min, all of them
    # outside the schedule. Only the minutes inside the window count.
    def topup(start: datetime, end: datetime, **kw: Any) -> ServiceRecord:
        return record(
            start=start,
            end=end,
            evidence=Evidence.ADMIN_TOPUP,
            scheduled_start=at(2025, 3, 3, 9),
            scheduled_end=at(2025, 3, 3, 12),
            **kw,
        )

    outside = run(HourPolicy(), topup(at(2025, 3, 3, 13), at(2025, 3, 3, 18)))
    assert outside.status is Status.ACCEPTED and outside.counted_minutes == 0
    assert outside.segments == () and outside.day_minutes == () and not outside.counted
    f = finding(outside, "hours.schedule_cap")
    assert f.numbers == {"before": 300, "after": 0, "scheduled": 180}
    late_start = run(HourPolicy(), topup(at(2025, 3, 3, 11), at(2025, 3, 3, 14)))
    assert late_start.counted_minutes == 60
    assert late_start.segments == (seg(at(2025, 3, 3, 11), at(2025, 3, 3, 12)),)
    early = run(HourPolicy(), topup(at(2025, 3, 3, 8), at(2025, 3, 3, 10)))
    assert early.counted_minutes == 60
    assert early.segments == (seg(at(2025, 3, 3, 9), at(2025, 3, 3, 10)),)
    inside = run(HourPolicy(), topup(at(2025, 3, 3, 9, 30), at(2025, 3, 3, 11)))
    assert inside.counted_minutes == 90 and inside.findings == ()
    # a missed check-out is cut to the window too, whatever the evidence
    missed = topup(at(2025, 3, 3, 10), at(2025, 3, 3, 23), checkout_missing=True)
    out = run(HourPolicy(schedule_capped=[]), attrs.evolve(missed, evidence=Evidence.QR_SCAN))
    assert out.counted_minutes == 120
    assert finding(out, "hours.schedule_cap").variant == "checkout_window"


def test_missed_check_out_is_capped_whatever_the_evidence() -> None:
    out = run(HourPolicy(schedule_capped=[]), scheduled(checkout_missing=True))
    assert out.counted_minutes == 120
    assert "missed check-out" in finding(out, "hours.schedule_cap").en


def test_qr_scans_are_not_capped_by_the_schedule() -> None:
    out = run(HourPolicy(), scheduled(evidence=Evidence.QR_SCAN))
    assert out.counted_minutes == 180 and out.findings == ()


def test_schedule_cap_needs_a_schedule_and_only_cuts() -> None:
    assert run(HourPolicy(), record(minutes=180, evidence=Evidence.ADMIN_TOPUP)).findings == ()
    short = record(
        minutes=60,
        evidence=Evidence.ADMIN_TOPUP,
        scheduled_start=at(2025, 3, 3, 9),
        scheduled_end=at(2025, 3, 3, 11),
    )
    assert run(HourPolicy(), short).counted_minutes == 60


# --- overlap ---------------------------------------------------------------------------------


def test_overlap_reject() -> None:
    p = HourPolicy(overlap=OverlapRule.REJECT)
    rec = record(start=at(2025, 3, 3, 9), end=at(2025, 3, 3, 12))
    occ = [seg(at(2025, 3, 3, 10), at(2025, 3, 3, 11))]
    out = run(p, rec, occupied=occ)
    assert out.status is Status.REJECTED and out.segments == ()
    assert finding(out, "hours.overlap").numbers == {"overlapping": 1}
    # touching is not overlapping (half-open intervals)
    touching = [seg(at(2025, 3, 3, 8), at(2025, 3, 3, 9)), seg(at(2025, 3, 3, 12), at(2025, 3, 4))]
    assert run(p, rec, occupied=touching).counted_minutes == 180


def test_overlap_trim_inside_and_around() -> None:
    rec = record(start=at(2025, 3, 3, 9), end=at(2025, 3, 3, 12))
    inside = [
        seg(at(2025, 3, 3, 9, 30), at(2025, 3, 3, 10)),
        seg(at(2025, 3, 3, 10, 30), at(2025, 3, 3, 11)),
    ]
    out = run(HourPolicy(), rec, occupied=inside)
    assert out.counted_minutes == 120
    assert out.segments == (
        seg(at(2025, 3, 3, 9), at(2025, 3, 3, 9, 30)),
        seg(at(2025, 3, 3, 10), at(2025, 3, 3, 10, 30)),
        seg(at(2025, 3, 3, 11), at(2025, 3, 3, 12)),
    )
    assert finding(out, "hours.overlap").numbers == {"before": 180, "after": 120}


def test_overlap_trim_of_a_record_spanning_two_occupied_pieces() -> None:
    rec = record(start=at(2025, 3, 3, 9), end=at(2025, 3, 3, 12))
    occ = [
        seg(at(2025, 3, 3, 7), at(2025, 3, 3, 9, 30)),  # covers the start
        seg(at(2025, 3, 3, 11, 30), at(2025, 3, 3, 14)),  # covers the end
    ]
    out = run(HourPolicy(), rec, occupied=occ)
    assert out.segments == (seg(at(2025, 3, 3, 9, 30), at(2025, 3, 3, 11, 30)),)
    assert out.counted_minutes == 120
    covered = run(HourPolicy(), rec, occupied=[seg(at(2025, 3, 3, 8), at(2025, 3, 3, 13))])
    assert covered.status is Status.ACCEPTED and covered.counted_minutes == 0
    assert covered.segments == () and not covered.counted


def test_schedule_cap_applies_before_overlap_and_record_cap_after() -> None:
    p = HourPolicy(record_cap_minutes=60)
    rec = scheduled(evidence=Evidence.ADMIN_TOPUP)  # 9–12, scheduled 9–11
    occ = [seg(at(2025, 3, 3, 10, 30), at(2025, 3, 3, 12))]
    out = run(p, rec, occupied=occ)
    assert rules_of(out) == ["hours.schedule_cap", "hours.overlap", "hours.record_cap"]
    assert out.segments == (seg(at(2025, 3, 3, 9), at(2025, 3, 3, 10, 30)),)
    assert out.counted_minutes == 60


# --- across midnight ---------------------------------------------------------------------------


def test_record_across_midnight_splits_into_two_days() -> None:
    rec = record(start=at(2025, 3, 3, 22), end=at(2025, 3, 4, 2))
    out = run(HourPolicy(), rec)
    assert out.day_minutes == ((D, 120), (date(2025, 3, 4), 120))
    assert rec.service_date == D
    capped = run(HourPolicy(record_cap_minutes=180), rec)
    assert capped.day_minutes == ((D, 120), (date(2025, 3, 4), 60))  # earliest time first
    daily = run(HourPolicy(daily_cap_minutes=60), rec)
    assert daily.counted_minutes == 120
    assert daily.day_minutes == ((D, 60), (date(2025, 3, 4), 60))


def test_multi_day_record() -> None:
    rec = record(start=at(2025, 3, 3, 12), end=at(2025, 3, 5, 12))
    assert run(HourPolicy(daily_cap_minutes=480), rec).status is Status.REJECTED  # > one day
    out = run(HourPolicy(daily_cap_minutes=480, max_span_minutes=3 * 1440), rec)
    assert out.day_minutes == ((D, 480), (date(2025, 3, 4), 480), (date(2025, 3, 5), 480))
    assert out.counted_minutes == 1440


def test_counted_minutes_across_a_historical_clock_change_are_elapsed_minutes() -> None:
    # 1988-04-17 01:00 → 04:00 on the Shanghai wall clock is 2 h: the clock skipped 02:00–03:00.
    rec = record(start=datetime(1988, 4, 17, 1, tzinfo=SH), end=datetime(1988, 4, 17, 4, tzinfo=SH))
    out = run(HourPolicy(), rec, now=at(2025, 1, 1))
    assert out.served_minutes == out.counted_minutes == 120
    ((s, e),) = out.segments
    assert e - s == 7200
    assert out.day_minutes == ((date(1988, 4, 17), 120),)


# --- categories, span, future ------------------------------------------------------------------


def test_excluded_categories_never_count() -> None:
    p = HourPolicy(excluded_categories=["会议"])
    assert p.excluded_categories == frozenset({"会议"})
    out = run(p, record(category="会议"))
    assert out.status is Status.REJECTED and rules_of(out) == ["hours.category"]
    assert "会议" in out.findings[0].zh
    assert run(p, record(category="助老")).counted_minutes == 60


def test_category_weights() -> None:
    p = HourPolicy(category_weights={"应急救援": 150, "宣传": 0})
    out = run(p, record(minutes=90, category="应急救援"))
    assert (out.counted_minutes, out.weighted_minutes) == (90, 135)
    assert "(135 weighted)" in out.explain()
    assert run(p, record(minutes=90, category="宣传")).weighted_minutes == 0
    assert run(p, record(minutes=90, category="助老")).weighted_minutes == 90
    assert run(p, record(minutes=7, category="应急救援")).weighted_minutes == 10  # floor
    for bad in (-1, 1.5, True, "150"):
        with pytest.raises(InvalidValue, match="category_weights"):
            HourPolicy(category_weights={"x": bad})


def test_span_limit() -> None:
    p = HourPolicy(max_span_minutes=600)
    assert run(p, record(minutes=600)).status is Status.ACCEPTED
    out = run(p, record(minutes=601))
    assert out.status is Status.REJECTED
    assert finding(out, "hours.span").numbers == {"served": 601, "limit": 600}


def test_a_record_spans_at_most_a_day_by_default() -> None:
    # Regression: one 62-day record counted 1,488 h under the national default.
    assert all(p.max_span_minutes == 1440 for p in HOUR_PROFILES.values())
    long = record(start=at(2025, 3, 1), end=at(2025, 5, 2))
    assert long.served_minutes == 62 * 1440
    for name in sorted(HOUR_PROFILES):
        out = run(HOUR_PROFILES[name], long)
        assert out.status is Status.REJECTED and out.counted_minutes == 0, name
        assert rules_of(out) == ["hours.span"]
        assert finding(out, "hours.span").numbers == {"served": 62 * 1440, "limit": 1440}
    assert run(HourPolicy(), record(start=at(2025, 3, 1, 9), minutes=1440)).counted_minutes == 1440
    assert run(HourPolicy(), record(start=at(2025, 3, 1, 9), minutes=1441)).status is (
        Status.REJECTED
    )
    # the loosest limit is a year; no limit at all (None) is refused: TOML could not hold it
    assert run(HourPolicy(max_span_minutes=MINUTES), long).counted_minutes == 62 * 1440
    for bad in (None, 0, MINUTES + 1, 1440.0, True):
        with pytest.raises(InvalidValue, match="max_span_minutes"):
            HourPolicy(max_span_minutes=bad)


def test_a_record_in_the_future_raises() -> None:
    rec = record()  # ends 2025-03-03 10:00
    assert evaluate(HourPolicy(), rec, now=rec.end).counted_minutes == 60
    with pytest.raises(InvalidValue, match="future") as info:
        evaluate(HourPolicy(), rec, now=rec.end - timedelta(seconds=1))
    assert info.value.field == "end"
    with pytest.raises(InvalidValue, match="now"):
        evaluate(HourPolicy(), rec, now=datetime(2025, 6, 1))


def test_a_rejection_stops_the_chain() -> None:
    p = HourPolicy(excluded_categories={"会议"}, record_cap_minutes=30)
    out = run(p, record(minutes=90, category="会议"))
    assert rules_of(out) == ["hours.category"]


def test_a_local_rule_is_one_more_step() -> None:
    complaints = {"r-bad"}

    def rule_complaint(d: Any) -> None:  # 海林: an upheld complaint counts 0 h
        if d.record.id in complaints:
            d.reject("hours.complaint", "投诉成立，不计时长", "an upheld complaint: 0 h")

    chain = [*RULES, rule_complaint]
    ok = HOUR_PROFILES["hailin"].evaluate(record("r-ok", minutes=120), now=NOW, rules=chain)
    bad = HOUR_PROFILES["hailin"].evaluate(record("r-bad", minutes=120), now=NOW, rules=chain)
    assert ok.counted_minutes == 120
    assert bad.status is Status.REJECTED and rules_of(bad) == ["hours.complaint"]


def test_explain_lists_every_finding() -> None:
    out = HOUR_PROFILES["hailin"].evaluate(record(minutes=220), now=NOW)
    lines = out.explain().splitlines()
    assert lines[0] == "r1: accepted, 220 min served, 120 counted"
    assert lines[1].startswith("  [hours.record_cap] ")
    assert len(lines) == 1 + len(out.findings)


# --- the policy as data -----------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(HOUR_PROFILES))
def test_profiles_round_trip(name: str) -> None:
    p = HOUR_PROFILES[name]
    assert p.name == name
    assert isinstance(p.effective_from, date)
    assert from_json(to_json(p), HourPolicy) == p
    assert from_toml(to_toml(p), HourPolicy) == p


def test_profiles_hold_the_cited_numbers() -> None:
    assert HOUR_PROFILES["hailin"].record_cap_minutes == 120
    assert HOUR_PROFILES["hailin"].unit_minutes == 60
    uni = HOUR_PROFILES["university"]
    assert (uni.unit_minutes, uni.rounding, uni.daily_cap_minutes) == (30, Rounding.DOWN, 480)
    gd = HOUR_PROFILES["guangdong"]
    assert (gd.daily_cap_minutes, gd.over_daily_cap) == (480, Overflow.APPROVAL)
    assert HOUR_PROFILES["jindu"].notice_days == 3
    national = HOUR_PROFILES["national"]
    assert national.unit_minutes == 1
    assert national.daily_cap_minutes is None and national.deadline_days is None
    assert national.record_cap_minutes is None


def test_policy_from_toml_text() -> None:
    text = (
        'name = "某区"\neffective_from = "2024-01-01"\nunit_minutes = 30\nrounding = "half_up"\n'
        'excluded_categories = ["会议", "聚餐"]\n[category_weights]\n"应急救援" = 150\n'
    )
    p = from_toml(text, HourPolicy)
    assert p.rounding is Rounding.HALF_UP and p.unit_minutes == 30
    assert p.excluded_categories == {"会议", "聚餐"}
    assert p.weight("应急救援") == 150 and p.weight("助老") == 100
    for bad, where in [
        ("unit_minutes = 0", "unit_minutes"),
        ("unit_minutes = 1.5", "unit_minutes"),
        ('late = "trim"', "late"),
        ('rounding = "sideways"', "rounding"),
        ("surprise = 1", "surprise"),
        ("record_cap_minutes = -5", "record_cap_minutes"),
    ]:
        with pytest.raises(InvalidInput, match=where):
            from_toml(bad, HourPolicy)


@pytest.mark.parametrize(
    "kw",
    [
        {"unit_minutes": 0},
        {"record_cap_minutes": 0},
        {"daily_cap_minutes": -60},
        {"deadline_days": -1},
        {"notice_days": -1},
        {"min_age": -1},
        {"name": ""},
        {"effective_from": datetime(2025, 1, 1, tzinfo=SH)},
    ],
)
def test_policy_fields_are_checked(kw: dict[str, Any]) -> None:
    with pytest.raises(InvalidValue):
        HourPolicy(**kw)


# --- properties -----------------------------------------------------------------------------

BASE = datetime(2024, 5, 1)
CATEGORIES = ("助老", "环保", "会议", "应急救援")
NOT_REJECT = st.sampled_from([Overflow.TRIM, Overflow.APPROVAL])


@st.composite
def policies(draw: st.DrawFn, **fixed: Any) -> HourPolicy:
    """Random policies: every rule on or off, at random limits."""
    opt = st.one_of
    unit = draw(st.sampled_from([1, 1, 15, 30, 60]))

    def units(lo: int, hi: int) -> st.SearchStrategy[int]:  # caps are whole units
        return st.integers(max(lo // unit, 1), hi // unit).map(lambda k: k * unit)

    kw: dict[str, Any] = {
        "unit_minutes": unit,
        "rounding": draw(st.sampled_from(Rounding)),
        "record_cap_minutes": draw(opt(st.none(), units(30, 600))),
        "schedule_capped": draw(st.frozensets(st.sampled_from(Evidence))),
        "daily_cap_minutes": draw(opt(st.none(), units(30, 720))),
        "over_daily_cap": draw(st.sampled_from(Overflow)),
        "minor_daily_cap_minutes": draw(opt(st.none(), units(30, 240))),
        "min_age": draw(opt(st.none(), st.integers(0, 18))),
        "overlap": draw(st.sampled_from(OverlapRule)),
        "deadline_days": draw(opt(st.none(), st.integers(0, 10))),
        "late": draw(st.sampled_from([Overflow.REJECT, Overflow.APPROVAL])),
        "max_span_minutes": draw(st.integers(60, 3000)),
        "excluded_categories": draw(st.frozensets(st.sampled_from(CATEGORIES), max_size=1)),
        "category_weights": draw(st.dictionaries(st.sampled_from(CATEGORIES), st.integers(0, 300))),
    }
    for key, value in fixed.items():  # a fixed value, or a strategy to draw it from
        kw[key] = draw(value) if isinstance(value, st.SearchStrategy) else value
    return HourPolicy(**kw)


# Only the rules that move minutes between days: caps, units, rounding (a narrow space, so that
# records across midnight meet full days often).
@st.composite
def _cap_policies(draw: st.DrawFn) -> HourPolicy:
    unit = draw(st.sampled_from([1, 30, 60]))
    return HourPolicy(
        unit_minutes=unit,
        rounding=draw(st.sampled_from(Rounding)),
        record_cap_minutes=draw(
            st.one_of(st.none(), st.integers(1, 300 // unit).map(lambda k: k * unit))
        ),
        daily_cap_minutes=draw(
            st.integers(max(30 // unit, 1), 480 // unit).map(lambda k: k * unit)
        ),
        over_daily_cap=draw(NOT_REJECT),
    )


cap_policies = _cap_policies()


@st.composite
def records_on(draw: st.DrawFn, rid: str = "r") -> ServiceRecord:
    """Records of whole minutes within three days, often with a schedule."""
    start = draw(minute_datetimes(BASE, days=3))
    end = start + timedelta(minutes=draw(st.integers(1, 1500)))
    kw: dict[str, Any] = {}
    if draw(st.booleans()):
        s = start + timedelta(minutes=draw(st.integers(-60, 60)))
        kw["scheduled_start"] = s
        kw["scheduled_end"] = s + timedelta(minutes=draw(st.integers(1, 600)))
    return record(
        rid,
        start=start,
        end=end,
        category=draw(st.sampled_from(CATEGORIES)),
        evidence=draw(st.sampled_from(Evidence)),
        checkout_missing=draw(st.booleans()),
        **kw,
    )


@st.composite
def night_records(draw: st.DrawFn) -> ServiceRecord:
    """Records that start in the evening and often run past midnight."""
    day = BASE + timedelta(days=draw(st.integers(0, 2)), hours=18)
    start = (day + timedelta(minutes=draw(st.integers(0, 6 * 60)))).replace(tzinfo=SH)
    return record("r", start=start, minutes=draw(st.integers(1, 12 * 60)))


@st.composite
def occupied_near(draw: st.DrawFn, rec: ServiceRecord) -> list[tuple[int, int]]:
    """Sorted disjoint segments (whole minutes) in and around the record."""
    s, e = seg(rec.start, rec.end)
    points = sorted(draw(st.sets(st.integers(s // 60 - 180, e // 60 + 180), max_size=10)))
    if len(points) % 2:
        points = points[:-1]
    return [(a * 60, b * 60) for a, b in zip(points[::2], points[1::2], strict=True)]


day_used_maps = st.dictionaries(
    st.dates(min_value=BASE.date(), max_value=BASE.date() + timedelta(days=4)),
    st.integers(0, 720),
    max_size=3,
)
maybe_volunteers = st.one_of(
    st.none(),
    st.dates(min_value=date(2004, 1, 1), max_value=date(2014, 12, 31)).map(
        lambda born: volunteer(born=born)
    ),
)


def evaluate_all(
    policy: HourPolicy,
    rec: ServiceRecord,
    occupied: Sequence[tuple[int, int]],
    day_used: dict[date, int],
    who: Volunteer | None = None,
    late_days: int = 0,
) -> Outcome:
    now = rec.end + timedelta(days=late_days)
    out = policy.evaluate(rec, now=now, volunteer=who, occupied=occupied, day_used=day_used)
    check_outcome(out)
    return out


@settings(max_examples=300)
@given(policies(), records_on(), st.data(), day_used_maps, maybe_volunteers, st.integers(0, 20))
def test_every_outcome_is_consistent_and_bounded(
    policy: HourPolicy,
    rec: ServiceRecord,
    data: st.DataObject,
    used: dict[date, int],
    who: Volunteer | None,
    late: int,
) -> None:
    occ = data.draw(occupied_near(rec))
    out = evaluate_all(policy, rec, occ, used, who, late)
    # counted ≤ served, up to one unit of rounding when rounding is not DOWN
    if policy.rounding is Rounding.DOWN or policy.unit_minutes == 1:
        assert out.counted_minutes <= out.served_minutes
    else:
        assert out.counted_minutes <= policy.snap(out.served_minutes)
    assert out.weighted_minutes == out.counted_minutes * policy.weight(rec.category) // 100
    assert out.counts_toward == policy.purposes(rec.evidence)
    # every finding comes from a rule of this policy's chain; a rejection from one that rejects
    ids = {r.id for r in policy.rules} | {"hours.minor"}  # the age rule's flag
    assert {f.rule for f in out.findings} <= ids
    if out.status is Status.REJECTED:
        (rejecter,) = [r for r in policy.rules if r.id == out.findings[-1].rule]
        assert rejecter.rejects
    if out.status is not Status.REJECTED:
        assert sum(m for _, m in out.day_minutes) == out.counted_minutes
        assert out.counted_minutes % policy.unit_minutes == 0
        s, e = seg(rec.start, rec.end)
        assert all(s <= a < b <= e for a, b in out.segments)  # within the record
        for a in out.segments:  # whatever the overlap rule, a counted record overlaps nothing
            assert not any(overlaps(a, b) for b in occ)
        if policy.daily_cap_minutes is not None and policy.over_daily_cap is Overflow.TRIM:
            cap = policy.daily_cap_minutes
            assert all(
                m + used.get(day, 0) <= max(cap, used.get(day, 0)) for day, m in out.day_minutes
            )


@given(policies(overlap=OverlapRule.TRIM), records_on(), st.data(), day_used_maps)
def test_trim_never_yields_segments_that_overlap_occupied(
    policy: HourPolicy, rec: ServiceRecord, data: st.DataObject, used: dict[date, int]
) -> None:
    occ = data.draw(occupied_near(rec))
    out = evaluate_all(policy, rec, occ, used)
    for a in out.segments:
        for b in occ:
            assert not overlaps(a, b)
    trimmed_only_by_overlap = policy.daily_cap_minutes is None and not (
        rec.checkout_missing or rec.scheduled_start
    )
    if out.status is not Status.REJECTED and trimmed_only_by_overlap:
        # every second of the record not occupied is kept, nothing more
        s, e = seg(rec.start, rec.end)
        free = (e - s) - sum(max(0, min(e, b) - max(s, a)) for a, b in occ)
        assert sum(b - a for a, b in out.segments) == free


@settings(max_examples=300)
@given(policies(over_daily_cap=NOT_REJECT), st.one_of(records_on(), night_records()), st.data())
def test_more_occupied_time_never_increases_counted_minutes(
    policy: HourPolicy, rec: ServiceRecord, data: st.DataObject
) -> None:
    # (Not with over_daily_cap=REJECT: there, trimming a record below the cap can save it whole.)
    occ = data.draw(occupied_near(rec))
    fewer = [s for s in occ if data.draw(st.booleans())]
    used = data.draw(day_used_maps)
    assert (
        evaluate_all(policy, rec, occ, used).counted_minutes
        <= evaluate_all(policy, rec, fewer, used).counted_minutes
    )


@settings(max_examples=300)
@given(cap_policies, night_records(), st.data())
def test_caps_across_midnight_are_monotone(
    policy: HourPolicy, rec: ServiceRecord, data: st.DataObject
) -> None:
    occ = data.draw(occupied_near(rec))
    fewer = [s for s in occ if data.draw(st.booleans())]
    used = data.draw(day_used_maps)
    more_used = {d: m + data.draw(st.integers(0, 300)) for d, m in used.items()}
    base = evaluate_all(policy, rec, fewer, used).counted_minutes
    assert evaluate_all(policy, rec, occ, used).counted_minutes <= base
    assert evaluate_all(policy, rec, fewer, more_used).counted_minutes <= base


@given(policies(), st.one_of(records_on(), night_records()), st.data(), maybe_volunteers)
def test_more_day_used_never_increases_counted_minutes(
    policy: HourPolicy, rec: ServiceRecord, data: st.DataObject, who: Volunteer | None
) -> None:
    used = data.draw(day_used_maps)
    more = {d: m + data.draw(st.integers(0, 300)) for d, m in used.items()}
    assert (
        evaluate_all(policy, rec, (), more, who).counted_minutes
        <= evaluate_all(policy, rec, (), used, who).counted_minutes
    )


def test_a_full_first_day_does_not_waste_the_second_days_room() -> None:
    # Found by the monotonicity property: 23:00–01:00 capped at 60 min per record and 30 a day.
    # Earliest-first, all 60 went to the first day and 30 were cut; the second day had room.
    p = HourPolicy(record_cap_minutes=60, daily_cap_minutes=30)
    rec = record(start=at(2025, 3, 3, 23), end=at(2025, 3, 4, 1))
    out = run(p, rec)
    assert out.counted_minutes == 60
    assert out.day_minutes == ((D, 30), (date(2025, 3, 4), 30))
    first_half_taken = run(p, rec, occupied=[seg(at(2025, 3, 3, 23), at(2025, 3, 3, 23, 30))])
    assert first_half_taken.counted_minutes == 60
    first_day_full = run(p, rec, day_used={D: 30})
    assert first_day_full.counted_minutes == 30
    assert first_day_full.day_minutes == ((date(2025, 3, 4), 30),)
    approval = HourPolicy(
        record_cap_minutes=60, daily_cap_minutes=30, over_daily_cap=Overflow.APPROVAL
    )
    assert run(approval, rec).status is Status.ACCEPTED  # it fits: no approval needed


@pytest.mark.parametrize(
    "field", ["record_cap_minutes", "daily_cap_minutes", "minor_daily_cap_minutes"]
)
def test_caps_must_be_whole_units(field: str) -> None:
    assert getattr(HourPolicy(unit_minutes=30, **{field: 90}), field) == 90
    with pytest.raises(InvalidValue, match=field):
        HourPolicy(unit_minutes=30, **{field: 100})


# --- the daily cap is monotone for every rounding (issue 14) ------------------------------------


@pytest.mark.parametrize(
    ("rounding", "start", "end", "taken_until"),
    [
        # Unit 30, HALF_UP, 60 a day: 22:20–00:29 counted 60 alone but 90 with 22:20–23:00 taken.
        (Rounding.HALF_UP, at(2025, 3, 3, 22, 20), at(2025, 3, 4, 0, 29), at(2025, 3, 3, 23)),
        # Unit 30, UP, 60 a day: 20:05–00:01 counted 60 alone but 90 with 20:05–20:30 taken.
        (Rounding.UP, at(2025, 3, 3, 20, 5), at(2025, 3, 4, 0, 1), at(2025, 3, 3, 20, 30)),
    ],
)
def test_more_occupied_time_never_counts_more_across_midnight(
    rounding: Rounding, start: datetime, end: datetime, taken_until: datetime
) -> None:
    p = HourPolicy(unit_minutes=30, rounding=rounding, daily_cap_minutes=60)
    rec = record("r", start=start, end=end)
    alone = run(p, rec)
    # the first day gives its 60, the second its few minutes, which round to a unit of 30
    assert alone.counted_minutes == 90
    assert alone.day_minutes == ((D, 60), (date(2025, 3, 4), 30))
    taken = run(p, rec, occupied=[seg(start, taken_until)])
    assert taken.counted_minutes == 90 <= alone.counted_minutes
    # in a ledger the taken time also used 30 of the first day
    lg = ledger(policies=[p])
    assert lg.post(record("first", start=start, end=taken_until), at=NOW).counted_minutes == 30
    after = lg.post(rec, at=NOW)
    assert after.counted_minutes == 60 <= alone.counted_minutes
    assert after.day_minutes == ((D, 30), (date(2025, 3, 4), 30))
    assert lg.day_minutes("v1") == {D: 60, date(2025, 3, 4): 30}


@st.composite
def second_records(draw: st.DrawFn) -> ServiceRecord:
    """Records mostly from the evening to just past midnight (where a small second day meets a
    full first one), sometimes longer; in whole minutes or to the second."""
    day = BASE + timedelta(days=draw(st.integers(0, 2)))
    start = day + timedelta(hours=18, minutes=draw(st.integers(0, 6 * 60 - 1)))
    if draw(st.integers(0, 3)):
        end = day + timedelta(days=1, minutes=draw(st.integers(0, 90)))
    else:
        end = start + timedelta(minutes=draw(st.integers(1, 1500)))
    if draw(st.booleans()):
        start += timedelta(seconds=draw(st.integers(0, 59)))
        end += timedelta(seconds=draw(st.integers(0, 59)))
    end = max(end, start + timedelta(seconds=1))
    return record("r", start=start.replace(tzinfo=SH), end=end.replace(tzinfo=SH))


@st.composite
def second_segments(draw: st.DrawFn, rec: ServiceRecord) -> list[tuple[int, int]]:
    """Sorted disjoint segments in and around the record, often one from its start."""
    s, e = seg(rec.start, rec.end)
    points = set(draw(st.sets(st.integers(s // 60 - 120, e // 60 + 120), max_size=6)))
    out = {p * 60 + draw(st.sampled_from([0, 0, 17])) for p in points}
    if draw(st.booleans()):  # a piece taken from the record's very start
        out = {p for p in out if p > s} | {s, s + draw(st.integers(1, 240)) * 60}
    ordered = sorted(out)
    if len(ordered) % 2:
        ordered = ordered[:-1]
    return list(zip(ordered[::2], ordered[1::2], strict=True))


@pytest.mark.parametrize("rounding", list(Rounding))
@settings(max_examples=400)
@given(data=st.data())
def test_more_occupied_time_never_counts_more_for_every_rounding(
    rounding: Rounding, data: st.DataObject
) -> None:
    """Monotonicity of the whole chain in the time already taken: more occupied segments and
    more minutes already counted on any day never make a record count more. (Not with
    ``over_daily_cap=reject``: there a remainder that fits is counted where the whole was not.)"""
    unit = data.draw(st.sampled_from([1, 15, 30, 60]))

    def units(lo: int, hi: int) -> st.SearchStrategy[int]:
        return st.integers(max(lo // unit, 1), hi // unit).map(lambda k: k * unit)

    policy = HourPolicy(
        unit_minutes=unit,
        rounding=rounding,
        daily_cap_minutes=data.draw(st.one_of(units(1, 4 * unit), units(15, 600), st.none())),
        record_cap_minutes=data.draw(st.one_of(st.none(), units(15, 600))),
        over_daily_cap=data.draw(NOT_REJECT),
        overlap=data.draw(st.sampled_from(OverlapRule)),
        max_span_minutes=3000,
    )
    rec = data.draw(second_records())
    occ = data.draw(second_segments(rec))
    fewer = [s for s in occ if data.draw(st.booleans())]
    used = data.draw(day_used_maps)
    more_used = dict(used)
    days = [BASE.date() + timedelta(days=k) for k in range(5)]
    for day in data.draw(st.sets(st.sampled_from(days), max_size=3)):
        more_used[day] = more_used.get(day, 0) + data.draw(st.integers(0, 300))
    base = evaluate_all(policy, rec, fewer, used).counted_minutes
    assert evaluate_all(policy, rec, occ, used).counted_minutes <= base
    assert evaluate_all(policy, rec, fewer, more_used).counted_minutes <= base
    assert evaluate_all(policy, rec, occ, more_used).counted_minutes <= base
