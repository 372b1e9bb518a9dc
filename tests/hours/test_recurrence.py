"""Recurring duty: Recurrence (RRULE text + aware start), Duty, expected shifts, attendance."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zhiyuan import SHANGHAI
from zhiyuan.convert import from_json, from_toml, structure, to_json, to_toml, unstructure
from zhiyuan.errors import InvalidInput, InvalidValue, ZhiyuanError
from zhiyuan.hierarchy import Organization, Registry, load_default
from zhiyuan.hours import Evidence, HourLedger, ServiceRecord, Volunteer
from zhiyuan.hours.recurrence import (
    AttendanceReport,
    Duty,
    Recurrence,
    Shift,
    attendance,
    expected_shifts,
)

DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
_MIN, _MAX = datetime(2000, 1, 1), datetime(2090, 1, 1)


def sh(y: int, m: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=SHANGHAI)


SAT = Recurrence(rule="FREQ=WEEKLY;BYDAY=SA", dtstart=sh(2026, 1, 3, 8))


def duty(**kw: Any) -> Duty:
    base: dict[str, Any] = {
        "id": "d1",
        "name": "交通文明引导",
        "organization_id": "o1",
        "region_code": "370602001",
        "activity_id": "a-traffic",
        "recurrence": SAT,
        "duration_minutes": 120,
        "volunteer_ids": {"v1", "v2"},
    }
    base.update(kw)
    return Duty(**base)


def record(
    rid: str, vid: str, start: datetime, end: datetime, activity: str = "a-traffic"
) -> ServiceRecord:
    return ServiceRecord(
        id=rid,
        volunteer_id=vid,
        activity_id=activity,
        organization_id="o1",
        region_code="370602001001",
        category="文明引导",
        evidence=Evidence.QR_SCAN,
        start=start,
        end=end,
    )


starts = st.datetimes(min_value=_MIN, max_value=_MAX, timezones=st.just(SHANGHAI)).map(
    lambda d: d.replace(microsecond=0)
)


# --- construction ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "needle"),
    [
        ("", "empty rule"),
        ("RRULE:", "empty rule"),
        ("FREQ=FOO", "invalid 'FREQ'"),
        ("BYDAY=SA", "FREQ is required"),
        ("FREQ=WEEKLY;BYDAY=XX", "invalid 'BYDAY'"),
        ("FREQ=WEEKLY;BYHOUR=25", "hour must be in 0..23"),
        ("FREQ=WEEKLY;X-FOO=1", "unknown parameter"),
        ("FREQ=WEEKLY;;BYDAY=SA", "is not NAME=VALUE"),
        ("FREQ=WEEKLY;BYDAY", "is not NAME=VALUE"),
        ("FREQ=WEEKLY;FREQ=DAILY", "FREQ is given twice"),
        ("FREQ=WEEKLY;INTERVAL=0", "INTERVAL must be a whole number of at least 1"),
        ("FREQ=WEEKLY;INTERVAL=-2", "INTERVAL must be"),
        ("FREQ=WEEKLY;COUNT=0", "COUNT must be"),
        ("FREQ=WEEKLY;COUNT=2;UNTIL=20260131", "COUNT and UNTIL exclude each other"),
        ("FREQ=WEEKLY;UNTIL=2026", "UNTIL=2026: write YYYYMMDD"),  # dateutil: today's month/day
        ("FREQ=WEEKLY;UNTIL=20260231", "not a real date"),
        ("FREQ=WEEKLY;UNTIL=20260131T250000Z", "not a real date"),
        ("FREQ=DAILY;DTSTART=20250101T000000", "DTSTART comes from `dtstart`"),
        ("DTSTART:20250101T000000\nRRULE:FREQ=DAILY", "one RRULE line only"),
        ("FREQ=DAILY\nEXDATE:20260104T080000", "one RRULE line only"),
        ("FREQ=DAILY\r", "one RRULE line only"),
    ],
)
def test_bad_rules_are_refused_naming_rule(rule: str, needle: str) -> None:
    with pytest.raises(InvalidValue) as err:
        Recurrence(rule=rule, dtstart=sh(2026, 1, 3, 8))
    assert err.value.field == "rule"
    assert needle in str(err.value)
    assert isinstance(err.value, ZhiyuanError) and isinstance(err.value, ValueError)


def test_rule_must_be_text() -> None:
    with pytest.raises(InvalidValue) as err:
        Recurrence(rule=42, dtstart=sh(2026, 1, 3, 8))  # type: ignore[arg-type]
    assert err.value.field == "rule"


@pytest.mark.parametrize(
    "value",
    [datetime(2026, 1, 3, 8), sh(2026, 1, 3, 8).replace(microsecond=5), "2026-01-03T08:00+08:00"],
)
def test_bad_starts_are_refused_naming_dtstart(value: object) -> None:
    with pytest.raises(InvalidValue) as err:
        Recurrence(rule="FREQ=DAILY", dtstart=value)  # type: ignore[arg-type]
    assert err.value.field == "dtstart"


def test_start_in_another_zone_is_kept_in_shanghai() -> None:
    r = Recurrence(rule="FREQ=WEEKLY;BYDAY=SA", dtstart=datetime(2026, 1, 3, 0, tzinfo=UTC))
    assert r == SAT and hash(r) == hash(SAT)
    assert r.dtstart.tzinfo is SHANGHAI and r.dtstart.hour == 8


def test_recurrences_are_values() -> None:
    again = Recurrence(rule="FREQ=WEEKLY;BYDAY=SA", dtstart=sh(2026, 1, 3, 8))
    assert again == SAT and len({again, SAT}) == 1
    assert Recurrence(rule="FREQ=WEEKLY;BYDAY=SU", dtstart=sh(2026, 1, 3, 8)) != SAT
    with pytest.raises(AttributeError):
        SAT.rule = "FREQ=DAILY"  # type: ignore[misc]


def test_prefix_and_lower_case_are_accepted_and_kept_as_written() -> None:
    r = Recurrence(rule="rrule:freq=weekly;byday=sa", dtstart=SAT.dtstart)
    assert r.rule == "rrule:freq=weekly;byday=sa" and r != SAT
    window = (sh(2026, 1, 1), sh(2026, 3, 1))
    assert r.between(*window) == SAT.between(*window)


# --- between -------------------------------------------------------------------------------------


def test_between_is_half_open_and_aware() -> None:
    got = SAT.between(sh(2026, 1, 3, 8), sh(2026, 1, 17, 8))
    assert got == [sh(2026, 1, 3, 8), sh(2026, 1, 10, 8)]
    assert all(d.tzinfo is SHANGHAI for d in got)
    assert SAT.between(sh(2026, 1, 3, 8), sh(2026, 1, 3, 8)) == []
    assert SAT.between(sh(2026, 1, 3, 8), sh(2026, 1, 3, 8, 1)) == [sh(2026, 1, 3, 8)]


def test_between_takes_any_zone_for_the_window() -> None:
    utc = SAT.between(datetime(2026, 1, 3, 0, tzinfo=UTC), datetime(2026, 1, 10, 0, tzinfo=UTC))
    assert utc == [sh(2026, 1, 3, 8)]


def test_between_refuses_naive_and_backwards_windows() -> None:
    with pytest.raises(InvalidValue) as err:
        SAT.between(datetime(2026, 1, 1), sh(2026, 2, 1))
    assert err.value.field == "start"
    with pytest.raises(InvalidValue) as err:
        SAT.between(sh(2026, 1, 1), datetime(2026, 2, 1))
    assert err.value.field == "end"
    with pytest.raises(InvalidValue) as err:
        SAT.between(sh(2026, 2, 1), sh(2026, 1, 1))
    assert err.value.field == "end"


def test_nothing_before_dtstart() -> None:
    assert SAT.between(sh(2025, 1, 1), sh(2026, 1, 4)) == [sh(2026, 1, 3, 8)]


def test_count_limits_occurrences_across_windows() -> None:
    r = Recurrence(rule="FREQ=WEEKLY;BYDAY=SA;COUNT=3", dtstart=SAT.dtstart)
    assert len(r.between(sh(2026, 1, 1), sh(2027, 1, 1))) == 3
    assert r.between(sh(2026, 1, 18), sh(2027, 1, 1)) == []


@pytest.mark.parametrize(
    ("until", "last"),
    [
        ("20260117T080000", sh(2026, 1, 17, 8)),  # wall time, inclusive
        ("20260117T075959", sh(2026, 1, 10, 8)),
        ("20260117", sh(2026, 1, 17, 8)),  # a date means the whole day
        ("20260117T000000Z", sh(2026, 1, 17, 8)),  # UTC: 08:00 in Shanghai
        ("20260116T235959Z", sh(2026, 1, 10, 8)),
    ],
)
def test_until_forms(until: str, last: datetime) -> None:
    r = Recurrence(rule=f"FREQ=WEEKLY;BYDAY=SA;UNTIL={until}", dtstart=SAT.dtstart)
    got = r.between(sh(2026, 1, 1), sh(2027, 1, 1))
    assert got[-1] == last
    assert got == [d for d in SAT.between(sh(2026, 1, 1), sh(2027, 1, 1)) if d <= last]


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=HOURLY;BYMONTH=2;BYMONTHDAY=30",
        "FREQ=YEARLY;BYMONTH=4,6;BYMONTHDAY=31,-31",
        "FREQ=MINUTELY;BYMONTH=2;BYMONTHDAY=30,31",
    ],
)
def test_a_rule_naming_no_real_day_is_refused_at_once(rule: str) -> None:
    began = time.perf_counter()
    with pytest.raises(InvalidValue, match="it never occurs"):
        Recurrence(rule=rule, dtstart=sh(2026, 1, 1))
    assert time.perf_counter() - began < 1.0  # dateutil alone searches to year 9999 (~5 s)


def test_leap_day_and_last_day_rules_are_fine() -> None:
    leap = Recurrence(rule="FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", dtstart=sh(2026, 1, 1, 9))
    assert leap.between(sh(2026, 1, 1), sh(2033, 1, 1)) == [sh(2028, 2, 29, 9), sh(2032, 2, 29, 9)]
    last = Recurrence(rule="FREQ=MONTHLY;BYMONTHDAY=-1", dtstart=sh(2026, 1, 1, 9))
    assert [d.day for d in last.between(sh(2026, 1, 1), sh(2026, 5, 1))] == [31, 28, 31, 30]


def test_a_rule_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(InvalidValue, match="never occurs on or after dtstart"):
        Recurrence(rule="FREQ=WEEKLY;UNTIL=20251231", dtstart=sh(2026, 1, 3, 8))


def test_until_in_lower_case_is_read_like_upper_case() -> None:
    lower = Recurrence(rule="freq=weekly;byday=sa;until=20260116t235959z", dtstart=SAT.dtstart)
    upper = Recurrence(rule="FREQ=WEEKLY;BYDAY=SA;UNTIL=20260116T235959Z", dtstart=SAT.dtstart)
    window = (sh(2026, 1, 1), sh(2027, 1, 1))
    assert (
        lower.between(*window) == upper.between(*window) == [sh(2026, 1, 3, 8), sh(2026, 1, 10, 8)]
    )


@st.composite
def weekly(draw: st.DrawFn) -> tuple[Recurrence, set[int], int]:
    days = draw(st.sets(st.integers(0, 6), min_size=1))
    interval = draw(st.integers(1, 3))
    rule = f"FREQ=WEEKLY;INTERVAL={interval};BYDAY={','.join(DAYS[d] for d in sorted(days))}"
    return Recurrence(rule=rule, dtstart=draw(starts)), days, interval


def brute_weekly(
    rec: Recurrence, days: set[int], interval: int, start: datetime, end: datetime
) -> list[datetime]:
    """Walk day by day: the weekday is listed, the week is on the interval, in the window."""
    first = rec.dtstart
    week0 = first.date() - timedelta(days=first.weekday())  # weeks start on Monday (WKST=MO)
    out = []
    day = start.astimezone(SHANGHAI).date() - timedelta(days=1)
    while day <= end.astimezone(SHANGHAI).date():
        at = datetime(day.year, day.month, day.day, first.hour, first.minute, first.second)
        at = at.replace(tzinfo=SHANGHAI)
        monday = day - timedelta(days=day.weekday())
        if (
            day.weekday() in days
            and (monday - week0).days // 7 % interval == 0
            and at >= first
            and start <= at < end
        ):
            out.append(at)
        day += timedelta(days=1)
    return out


@settings(max_examples=150)
@given(
    w=weekly(),
    offset=st.integers(min_value=-60, max_value=3 * 365),
    length=st.integers(min_value=0, max_value=200 * 24),
    minute=st.integers(0, 24 * 60 - 1),
)
def test_weekly_matches_a_day_by_day_walk(
    w: tuple[Recurrence, set[int], int], offset: int, length: int, minute: int
) -> None:
    rec, days, interval = w
    start = rec.dtstart + timedelta(days=offset, minutes=minute)
    end = start + timedelta(hours=length)
    got = rec.between(start, end)
    assert got == brute_weekly(rec, days, interval, start, end)
    assert all(start <= d < end and d.tzinfo is SHANGHAI for d in got)


@settings(max_examples=100)
@given(
    start=starts,
    interval=st.integers(1, 5),
    offset=st.integers(-10, 400),
    length=st.integers(0, 90),
)
def test_daily_interval_is_every_nth_day(
    start: datetime, interval: int, offset: int, length: int
) -> None:
    rec = Recurrence(rule=f"FREQ=DAILY;INTERVAL={interval}", dtstart=start)
    a = start + timedelta(days=offset, hours=5)
    b = a + timedelta(days=length)
    want = []
    k = 0
    while (t := start + timedelta(days=k * interval)) < b:
        if t >= a:
            want.append(t)
        k += 1
    assert rec.between(a, b) == want


# --- rule shapes for round trips ----------------------------------------------------------------


@st.composite
def rules(draw: st.DrawFn, start: datetime) -> str:
    shape = draw(st.sampled_from(["weekly", "daily", "monthly", "hourly"]))
    if shape == "weekly":
        days = draw(st.sets(st.sampled_from(DAYS), min_size=1))
        parts = ["FREQ=WEEKLY", "BYDAY=" + ",".join(sorted(days, key=DAYS.index))]
    elif shape == "daily":
        parts = ["FREQ=DAILY", f"INTERVAL={draw(st.integers(1, 9))}"]
    elif shape == "monthly":
        parts = ["FREQ=MONTHLY", f"BYMONTHDAY={draw(st.sampled_from([1, 15, 28, -1]))}"]
    else:
        hours = draw(st.sets(st.integers(6, 21), min_size=1, max_size=3))
        parts = ["FREQ=DAILY", "BYHOUR=" + ",".join(map(str, sorted(hours))), "BYMINUTE=0"]
    bound = draw(st.sampled_from(["", "count", "until", "until_date", "until_utc"]))
    if bound == "count":
        parts.append(f"COUNT={draw(st.integers(1, 50))}")
    elif bound:
        first = start.date() + timedelta(days=40)  # every shape occurs within 40 days
        day = draw(st.dates(min_value=first, max_value=date(2099, 12, 31)))
        stamp = day.strftime("%Y%m%d")
        if bound == "until":
            stamp += "T180000"
        elif bound == "until_utc":
            stamp += "T100000Z"
        parts.append(f"UNTIL={stamp}")
    text = ";".join(draw(st.permutations(parts)))
    if draw(st.booleans()):
        text = "RRULE:" + text
    return text.lower() if draw(st.integers(0, 4)) == 0 else text


@st.composite
def recurrences(draw: st.DrawFn) -> Recurrence:
    start = draw(starts)
    return Recurrence(rule=draw(rules(start)), dtstart=start)


duties = st.builds(
    lambda rec, ids, dur, tol: duty(
        recurrence=rec, volunteer_ids=ids, duration_minutes=dur, tolerance_minutes=tol
    ),
    recurrences(),
    st.frozensets(st.sampled_from(["v1", "v2", "v3", "志愿者甲"]), max_size=4),
    st.integers(1, 600),
    st.integers(0, 60),
)


@settings(max_examples=100)
@given(rec=recurrences())
def test_recurrence_round_trips_json_and_toml(rec: Recurrence) -> None:
    back_json = from_json(to_json(rec), Recurrence)
    back_toml = from_toml(to_toml(rec), Recurrence)
    assert back_json == rec and back_toml == rec
    window = (rec.dtstart - timedelta(days=3), rec.dtstart + timedelta(days=40))
    assert back_json.between(*window) == rec.between(*window)


@settings(max_examples=100)
@given(d=duties)
def test_duty_round_trips_json_and_toml(d: Duty) -> None:
    assert from_json(to_json(d), Duty) == d
    assert from_toml(to_toml(d), Duty) == d
    data = unstructure(d)
    assert data["recurrence"] == {
        "rule": d.recurrence.rule,
        "dtstart": d.recurrence.dtstart.isoformat(),
    }
    assert data["volunteer_ids"] == sorted(d.volunteer_ids)


def test_converter_errors_name_the_path() -> None:
    data = unstructure(duty())
    data["recurrence"]["dtstart"] = "2026-01-03T08:00:00"
    data["recurrence"]["rule"] = "FREQ=WEEKLY;BYDAY=XX"
    with pytest.raises(InvalidInput) as err:
        structure(data, Duty)
    assert "@ $.recurrence.dtstart" in str(err.value)
    data = unstructure(duty())
    data["recurrence"]["rule"] = "FREQ=WEEKLY;BYDAY=XX"
    with pytest.raises(InvalidInput, match=r"rule: .*invalid 'BYDAY'.* @ \$\.recurrence"):
        structure(data, Duty)
    data = unstructure(duty())
    data["shift_length"] = 5
    with pytest.raises(InvalidInput, match=r"extra fields found \(shift_length\)"):
        structure(data, Duty)


# --- Duty and Shift values ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kw", "name"),
    [
        ({"id": ""}, "id"),
        ({"name": "  "}, "name"),
        ({"activity_id": ""}, "activity_id"),
        ({"duration_minutes": 0}, "duration_minutes"),
        ({"duration_minutes": 1.5}, "duration_minutes"),
        ({"tolerance_minutes": -1}, "tolerance_minutes"),
        ({"volunteer_ids": {"v1", ""}}, "volunteer_ids"),
        ({"volunteer_ids": {"v1", 7}}, "volunteer_ids"),
        ({"volunteer_ids": 7}, "volunteer_ids"),
        ({"recurrence": "FREQ=DAILY"}, "recurrence"),
        ({"region_code": "37x"}, "region_code"),
    ],
)
def test_duty_invariants(kw: dict[str, Any], name: str) -> None:
    with pytest.raises(InvalidValue) as err:
        duty(**kw)
    assert err.value.field == name


def test_duty_normalises_roster_and_region() -> None:
    d = duty(volunteer_ids="v1", region_code=370602001)
    assert d.volunteer_ids == frozenset({"v1"})
    assert d.region_code == "370602001000"
    assert duty(volunteer_ids=["v2", "v1", "v1"]).volunteer_ids == {"v1", "v2"}
    assert duty().tolerance_minutes == 15


def test_shift_needs_aware_times_in_order() -> None:
    with pytest.raises(InvalidValue):
        Shift(volunteer_id="v1", start=sh(2026, 1, 3, 8), end=sh(2026, 1, 3, 8))
    with pytest.raises(InvalidValue):
        Shift(volunteer_id="v1", start=datetime(2026, 1, 3, 8), end=sh(2026, 1, 3, 9))
    s = Shift(volunteer_id="v1", start=datetime(2026, 1, 3, 0, tzinfo=UTC), end=sh(2026, 1, 3, 9))
    assert s.start == sh(2026, 1, 3, 8) and s.start.tzinfo is SHANGHAI
    assert str(s) == "v1 2026-01-03 08:00–09:00"


# --- expected shifts ----------------------------------------------------------------------------


def test_expected_shifts_one_per_occurrence_and_volunteer() -> None:
    got = expected_shifts(duty(), sh(2026, 1, 1), sh(2026, 1, 11))
    assert [(s.volunteer_id, s.start, s.end) for s in got] == [
        ("v1", sh(2026, 1, 3, 8), sh(2026, 1, 3, 10)),
        ("v2", sh(2026, 1, 3, 8), sh(2026, 1, 3, 10)),
        ("v1", sh(2026, 1, 10, 8), sh(2026, 1, 10, 10)),
        ("v2", sh(2026, 1, 10, 8), sh(2026, 1, 10, 10)),
    ]
    assert expected_shifts(duty(volunteer_ids=()), sh(2026, 1, 1), sh(2026, 2, 1)) == []


def test_a_shift_may_run_past_the_window_and_midnight() -> None:
    late = Recurrence(rule="FREQ=DAILY", dtstart=sh(2026, 1, 1, 23))
    (s,) = expected_shifts(
        duty(recurrence=late, volunteer_ids={"v1"}, duration_minutes=90),
        sh(2026, 1, 1),
        sh(2026, 1, 2),
    )
    assert (s.start, s.end) == (sh(2026, 1, 1, 23), sh(2026, 1, 2, 0, 30))


@settings(max_examples=100)
@given(d=duties, offset=st.integers(-30, 400), days=st.integers(0, 120))
def test_every_expected_shift_starts_in_the_window(d: Duty, offset: int, days: int) -> None:
    start = d.recurrence.dtstart + timedelta(days=offset)
    end = start + timedelta(days=days)
    got = expected_shifts(d, start, end)
    occurrences = d.recurrence.between(start, end)
    assert len(got) == len(occurrences) * len(d.volunteer_ids)
    assert all(start <= s.start < end for s in got)
    assert all(s.end - s.start == timedelta(minutes=d.duration_minutes) for s in got)
    assert [(s.start, s.volunteer_id) for s in got] == sorted(
        (s.start, s.volunteer_id) for s in got
    )


# --- attendance -----------------------------------------------------------------------------------


# The first shift is 2026-01-03 08:00–10:00; with 15 min tolerance the window is 07:45–10:15.
@pytest.mark.parametrize(
    ("start", "end", "attended"),
    [
        (sh(2026, 1, 3, 8, 5), sh(2026, 1, 3, 9, 55), True),
        (sh(2026, 1, 3, 7, 0), sh(2026, 1, 3, 7, 46), True),  # 1 min inside the early edge
        (sh(2026, 1, 3, 7, 0), sh(2026, 1, 3, 7, 45), False),  # touches the early edge
        (sh(2026, 1, 3, 10, 14), sh(2026, 1, 3, 11), True),  # 1 min inside the late edge
        (sh(2026, 1, 3, 10, 15), sh(2026, 1, 3, 11), False),  # touches the late edge
        (sh(2026, 1, 2, 8), sh(2026, 1, 2, 10), False),  # the day before
        (sh(2026, 1, 3, 6), sh(2026, 1, 3, 12), True),  # covers the shift
    ],
)
def test_tolerance_edges(start: datetime, end: datetime, attended: bool) -> None:
    d = duty(volunteer_ids={"v1"})
    report = attendance(d, [record("r1", "v1", start, end)], sh(2026, 1, 3), sh(2026, 1, 4))
    assert len(report.expected) == 1
    assert (len(report.attended) == 1) is attended
    assert (len(report.no_shows) == 1) is not attended


def test_zero_tolerance_uses_the_shift_itself() -> None:
    d = duty(volunteer_ids={"v1"}, tolerance_minutes=0)
    early = record("r1", "v1", sh(2026, 1, 3, 7), sh(2026, 1, 3, 7, 50))
    report = attendance(d, [early], sh(2026, 1, 3), sh(2026, 1, 4))
    assert report.attended == () and len(report.no_shows) == 1


def test_records_of_other_activities_and_volunteers_do_not_count() -> None:
    d = duty()
    recs = [
        record("r1", "v1", sh(2026, 1, 3, 8), sh(2026, 1, 3, 10), activity="a-other"),
        record("r2", "v3", sh(2026, 1, 3, 8), sh(2026, 1, 3, 10)),  # not on the roster
        record("r3", "v2", sh(2026, 1, 3, 8), sh(2026, 1, 3, 10)),
    ]
    report = attendance(d, recs, sh(2026, 1, 3), sh(2026, 1, 4))
    assert [s.volunteer_id for s in report.attended] == ["v2"]
    assert [s.volunteer_id for s in report.no_shows] == ["v1"]
    assert report.rate_percent == 50


def test_records_in_another_zone_compare_as_instants() -> None:
    d = duty(volunteer_ids={"v1"}, tolerance_minutes=0)
    utc = record(
        "r1", "v1", datetime(2026, 1, 3, 0, 30, tzinfo=UTC), datetime(2026, 1, 3, 1, tzinfo=UTC)
    )
    report = attendance(d, [utc], sh(2026, 1, 3), sh(2026, 1, 4))
    assert len(report.attended) == 1


def test_one_record_may_attend_several_shifts() -> None:
    twice = Recurrence(rule="FREQ=DAILY;BYHOUR=8,10;BYMINUTE=0", dtstart=sh(2026, 1, 3, 8))
    d = duty(recurrence=twice, volunteer_ids={"v1"}, duration_minutes=60)
    long = record("r1", "v1", sh(2026, 1, 3, 8), sh(2026, 1, 3, 11))
    report = attendance(d, [long], sh(2026, 1, 3), sh(2026, 1, 4))
    assert len(report.expected) == 2 and len(report.attended) == 2


def test_rate_rounds_down_and_is_none_without_shifts() -> None:
    d = duty(volunteer_ids={"v1"})
    recs = [
        record(f"r{k}", "v1", sh(2026, 1, 3 + 7 * k, 8), sh(2026, 1, 3 + 7 * k, 10)) for k in (0, 1)
    ]
    report = attendance(d, recs, sh(2026, 1, 1), sh(2026, 1, 22))
    assert (len(report.expected), len(report.attended)) == (3, 2)
    assert report.rate_percent == 66
    empty = attendance(d, recs, sh(2026, 1, 4), sh(2026, 1, 5))
    assert empty.expected == () and empty.rate_percent is None
    assert "出勤率 —" in str(empty) and "attendance n/a" in str(empty)


def test_report_str_is_bilingual_and_lists_no_shows() -> None:
    d = duty()
    recs = [record("r1", "v1", sh(2026, 1, 3, 8), sh(2026, 1, 3, 10))]
    report = attendance(d, recs, sh(2026, 1, 1), sh(2026, 1, 11))
    lines = str(report).splitlines()
    assert lines[0] == (
        "交通文明引导（d1）2026-01-01 00:00 – 2026-01-11 00:00：应到 4 人次，实到 1，缺勤 3，出勤率 25%"
    )
    assert lines[1] == (
        "duty d1, 2026-01-01 00:00 – 2026-01-11 00:00: 4 shifts expected, 1 attended, "
        "3 no-shows, attendance 25%"
    )
    assert lines[2:] == [
        "  缺勤 / no-show: v2 2026-01-03 08:00–10:00",
        "  缺勤 / no-show: v1 2026-01-10 08:00–10:00",
        "  缺勤 / no-show: v2 2026-01-10 08:00–10:00",
    ]


def test_attendance_from_a_ledger() -> None:
    reg = Registry(load_default(), [Organization(id="o1", name="文明办", region_code="370602001")])
    vols = [
        Volunteer(id=v, name="志愿者", home_region="370602001001", registered_on=date(2025, 1, 1))
        for v in ("v1", "v2")
    ]
    ledger = HourLedger(reg, volunteers=vols)
    ledger.post(record("r1", "v1", sh(2026, 1, 3, 8, 3), sh(2026, 1, 3, 10)), at=sh(2026, 2, 1))
    ledger.post(record("r2", "v2", sh(2026, 1, 10, 7, 50), sh(2026, 1, 10, 9)), at=sh(2026, 2, 1))
    d = duty()
    recs = [r for v in sorted(d.volunteer_ids) for r in ledger.records_of(v)]
    report = attendance(d, recs, sh(2026, 1, 1), sh(2026, 1, 11))
    assert [(s.volunteer_id, s.start.day) for s in report.attended] == [("v1", 3), ("v2", 10)]
    assert [(s.volunteer_id, s.start.day) for s in report.no_shows] == [("v2", 3), ("v1", 10)]


def test_attendance_refuses_naive_windows() -> None:
    with pytest.raises(InvalidValue):
        attendance(duty(), [], datetime(2026, 1, 1), sh(2026, 2, 1))


@st.composite
def spans(draw: st.DrawFn) -> tuple[str, datetime, datetime, str]:
    vid = draw(st.sampled_from(["v1", "v2", "v3"]))
    start = sh(2026, 1, 1) + timedelta(minutes=draw(st.integers(0, 40 * 24 * 60)))
    end = start + timedelta(minutes=draw(st.integers(1, 300)))
    return vid, start, end, draw(st.sampled_from(["a-traffic", "a-traffic", "a-other"]))


@settings(max_examples=150)
@given(
    items=st.lists(spans(), max_size=30),
    tol=st.integers(0, 60),
    rule=st.sampled_from(["FREQ=WEEKLY;BYDAY=SA", "FREQ=DAILY", "FREQ=WEEKLY;BYDAY=MO,TH"]),
    offset=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=10)),
)
def test_attendance_matches_a_brute_force_overlap_check(
    items: list[tuple[str, datetime, datetime, str]], tol: int, rule: str, offset: timedelta
) -> None:
    d = duty(
        recurrence=Recurrence(rule=rule, dtstart=sh(2026, 1, 3, 8)),
        tolerance_minutes=tol,
        volunteer_ids={"v1", "v2"},
    )
    recs = [record(f"r{k}", v, s, e, a) for k, (v, s, e, a) in enumerate(items)]
    start, end = sh(2026, 1, 1) + offset, sh(2026, 2, 15)
    report = attendance(d, recs, start, end)
    assert report.expected == tuple(expected_shifts(d, start, end))
    pad = timedelta(minutes=tol)
    want = [
        any(
            r.volunteer_id == s.volunteer_id
            and r.activity_id == "a-traffic"
            and r.start < s.end + pad
            and r.end > s.start - pad
            for r in recs
        )
        for s in report.expected
    ]
    assert report.attended == tuple(s for s, ok in zip(report.expected, want, strict=True) if ok)
    assert report.no_shows == tuple(
        s for s, ok in zip(report.expected, want, strict=True) if not ok
    )
    if report.expected:
        assert report.rate_percent == 100 * sum(want) // len(want)


def test_attendance_report_is_a_value() -> None:
    report = attendance(duty(), [], sh(2026, 1, 1), sh(2026, 1, 11))
    again = AttendanceReport(
        duty_id="d1",
        duty_name="交通文明引导",
        start=datetime(2025, 12, 31, 16, tzinfo=UTC),
        end=sh(2026, 1, 11),
        expected=list(report.expected),
        attended=[],
        no_shows=list(report.no_shows),
    )
    assert again == report and hash(again) == hash(report)
