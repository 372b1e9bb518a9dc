"""Service records: aware times kept in Asia/Shanghai, invariants, served minutes, round-trips."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from support.hours import SH, YOUYI, at, record, sh_datetimes
from zhiyuan.convert import from_json, from_toml, to_json, to_toml, unstructure
from zhiyuan.errors import InvalidInput, InvalidValue
from zhiyuan.hours import Evidence, GeoFix, ServiceRecord

PLUS9 = timezone(timedelta(hours=9))


@pytest.mark.parametrize(
    "field", ["start", "end", "scheduled_start", "scheduled_end", "recorded_at"]
)
def test_naive_datetimes_are_refused_naming_the_field(field: str) -> None:
    fields: dict[str, Any] = {
        "start": at(2025, 3, 1, 9),
        "end": at(2025, 3, 1, 11),
        "scheduled_start": at(2025, 3, 1, 9),
        "scheduled_end": at(2025, 3, 1, 11),
        "recorded_at": at(2025, 3, 2),
    }
    fields[field] = fields[field].replace(tzinfo=None)
    with pytest.raises(InvalidValue, match="naive") as info:
        record(**fields)
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}: ")


@pytest.mark.parametrize("delta", [timedelta(0), timedelta(minutes=-1), timedelta(hours=-5)])
def test_end_must_be_after_start(delta: timedelta) -> None:
    start = at(2025, 3, 1, 9)
    with pytest.raises(InvalidValue, match="end must be after start") as info:
        record(start=start, end=start + delta)
    assert info.value.field == "end"


def test_end_one_second_after_start_is_a_record_of_zero_minutes() -> None:
    r = record(start=at(2025, 3, 1, 9), end=at(2025, 3, 1, 9, 0, 1))
    assert r.served_minutes == 0


def test_times_are_converted_to_shanghai() -> None:
    r = record(
        start=datetime(2025, 3, 1, 1, 0, tzinfo=UTC),
        end=datetime(2025, 3, 1, 12, 30, tzinfo=PLUS9),
        scheduled_start=datetime(2025, 3, 1, 1, 0, tzinfo=UTC),
        scheduled_end=datetime(2025, 3, 1, 2, 0, tzinfo=UTC),
        recorded_at=datetime(2025, 3, 1, 4, 0, tzinfo=UTC),
    )
    for value in (r.start, r.end, r.scheduled_start, r.scheduled_end, r.recorded_at):
        assert value is not None and value.tzinfo is SH
    assert r.start == at(2025, 3, 1, 9) and r.start.hour == 9
    assert r.end.hour == 11 and r.end.minute == 30
    assert r.recorded_at is not None and r.recorded_at.hour == 12
    assert r.served_minutes == 150
    assert r.scheduled_minutes == 60


def test_service_date_is_the_shanghai_date_of_the_start() -> None:
    # 16:30 UTC on 1 March is 00:30 on 2 March in Shanghai.
    r = record(start=datetime(2025, 3, 1, 16, 30, tzinfo=UTC), minutes=30)
    assert r.service_date == date(2025, 3, 2)
    late = record(start=at(2025, 3, 1, 23, 30), minutes=120)
    assert late.service_date == date(2025, 3, 1)


def test_served_minutes_are_whole_minutes_between_instants() -> None:
    assert record(start=at(2025, 3, 1, 9), end=at(2025, 3, 1, 9, 29, 59)).served_minutes == 29
    assert record(start=at(2025, 3, 1, 9), end=at(2025, 3, 2, 9)).served_minutes == 24 * 60
    # The same instants given in different zones give the same minutes.
    a = record(start=at(2025, 3, 1, 9), end=at(2025, 3, 1, 11))
    b = record(
        start=datetime(2025, 3, 1, 1, tzinfo=UTC),
        end=datetime(2025, 3, 1, 12, tzinfo=PLUS9),
    )
    assert a == b and a.served_minutes == b.served_minutes == 120


def test_served_minutes_across_a_historical_clock_change_use_instants() -> None:
    # China kept summer time 1986–1991: on 1988-04-17 the clock jumped from 02:00 to 03:00,
    # so 01:00 → 04:00 on the wall is two hours of service, not three.
    start = datetime(1988, 4, 17, 1, 0, tzinfo=SH)
    end = datetime(1988, 4, 17, 4, 0, tzinfo=SH)
    assert end.utcoffset() != start.utcoffset()
    r = record(start=start, end=end)
    assert r.served_minutes == 120
    sched = record(start=start, end=end, scheduled_start=start, scheduled_end=end)
    assert sched.scheduled_minutes == 120


def test_scheduled_times_come_both_or_neither() -> None:
    with pytest.raises(InvalidValue, match="give both") as info:
        record(scheduled_start=at(2025, 3, 3, 9))
    assert info.value.field == "scheduled_end"
    with pytest.raises(InvalidValue, match="give both") as info:
        record(scheduled_end=at(2025, 3, 3, 10))
    assert info.value.field == "scheduled_start"
    with pytest.raises(InvalidValue, match="after scheduled start") as info:
        record(scheduled_start=at(2025, 3, 3, 10), scheduled_end=at(2025, 3, 3, 10))
    assert info.value.field == "scheduled_end"
    r = record(scheduled_start=at(2025, 3, 3, 9), scheduled_end=at(2025, 3, 3, 10, 30))
    assert r.scheduled_minutes == 90
    assert record().scheduled_minutes is None


def test_evidence_is_a_member_or_its_value() -> None:
    # JSON, TOML and the bulk columns write evidence by value; the constructor takes it too.
    assert record(evidence="qr_scan").evidence is Evidence.QR_SCAN  # type: ignore[arg-type]
    assert record(evidence="qr_scan") == record(evidence=Evidence.QR_SCAN)  # type: ignore[arg-type]
    for bad in ("QR_SCAN", "carrier_pigeon", None, 1, ["gps"]):
        with pytest.raises(InvalidValue, match="evidence") as info:
            record(evidence=bad)
        assert info.value.field == "evidence"
        assert "qr_scan" in info.value.reason and "admin_topup" in info.value.reason


def test_other_fields_are_checked() -> None:
    for kw in (
        {"checkout_missing": "yes"},
        {"checkout_missing": None},
        {"note": None},
        {"note": "\ud800"},
        {"team_id": " "},
        {"team_id": 7},
        {"geo": (37.5, 121.4)},
    ):
        (name,) = kw
        with pytest.raises(InvalidValue, match=name):
            record(**kw)
    assert record(team_id="t1", note="补录").team_id == "t1"
    for name in ("id", "volunteer_id", "activity_id", "organization_id", "category"):
        with pytest.raises(InvalidValue, match=name):
            ServiceRecord(
                **{
                    **attrs.asdict(record(), recurse=False),
                    name: " ",
                }
            )
    with pytest.raises(InvalidValue):
        record(region="37x")
    assert record(region="370602001001").region_code == YOUYI
    assert record(region=3706).region_code == "370600000000"


def test_records_are_frozen_and_hash_by_value() -> None:
    a, b = record(), record()
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        a.end = at(2030, 1, 1)  # type: ignore[misc]
    assert record(note="x") != a


@pytest.mark.parametrize(
    ("lat", "lon"), [(91, 0), (-90.5, 0), (0, 180.1), (0, -181), (True, 0), (0, "120")]
)
def test_geofix_bounds(lat: Any, lon: Any) -> None:
    with pytest.raises(InvalidValue):
        GeoFix(lat=lat, lon=lon)


def test_geofix_accuracy_is_not_negative() -> None:
    with pytest.raises(InvalidValue, match="accuracy_m"):
        GeoFix(lat=37.5, lon=121.4, accuracy_m=-1)


def test_recorded_at_is_not_before_the_service_began() -> None:
    with pytest.raises(InvalidValue, match="recorded_at"):
        record(start=at(2025, 3, 1, 9), recorded_at=at(2025, 3, 1, 8, 59))
    r = record(start=at(2025, 3, 1, 9), recorded_at=at(2025, 3, 1, 9, 30))  # during it: fine
    assert r.recorded_at == at(2025, 3, 1, 9, 30)


def test_geofix_valid() -> None:
    g = GeoFix(lat=37.5, lon=121.4, accuracy_m=300)
    assert record(geo=g).geo == g
    assert GeoFix(lat=-90, lon=180) == GeoFix(lat=-90.0, lon=180.0)


def test_naive_datetime_in_json_is_refused_with_its_path() -> None:
    data = unstructure(record())
    data["start"] = "2025-03-03T09:00:00"
    with pytest.raises(InvalidInput, match=r"\$\.start"):
        from_json(to_json(data), ServiceRecord)
    data = unstructure(record())
    data["surprise"] = 1
    with pytest.raises(InvalidInput, match="surprise"):
        from_json(to_json(data), ServiceRecord)


def test_end_before_start_in_json_is_refused() -> None:
    data = unstructure(record())
    data["start"], data["end"] = data["end"], data["start"]
    with pytest.raises(InvalidInput, match="end must be after start"):
        from_json(to_json(data), ServiceRecord)


# --- round-trips -------------------------------------------------------------------------------

offsets = st.integers(min_value=-12 * 60, max_value=14 * 60).map(
    lambda m: timezone(timedelta(minutes=m))
)


def any_zone(dt: datetime, tz: timezone | None) -> datetime:
    return dt if tz is None else dt.astimezone(tz)


@st.composite
def records(draw: st.DrawFn) -> ServiceRecord:
    start = draw(sh_datetimes(max_value=datetime(2099, 12, 1)))
    end = start + timedelta(seconds=draw(st.integers(min_value=1, max_value=3 * 86400)))
    zone = draw(st.one_of(st.none(), offsets))
    sched = draw(st.booleans())
    s_start = start + timedelta(minutes=draw(st.integers(-120, 120)))
    s_end = s_start + timedelta(minutes=draw(st.integers(1, 600)))
    text = st.text(min_size=1, max_size=12).filter(lambda s: s.strip() != "")
    return ServiceRecord(
        id=draw(text),
        volunteer_id=draw(text),
        activity_id=draw(text),
        organization_id=draw(text),
        region_code=draw(st.sampled_from(["370602001001", "3706", "370214", "52"])),
        category=draw(text),
        start=any_zone(start, zone),
        end=any_zone(end, zone),
        evidence=draw(st.sampled_from(Evidence)),
        geo=draw(
            st.one_of(
                st.none(),
                st.builds(
                    GeoFix,
                    lat=st.floats(-90, 90),
                    lon=st.floats(-180, 180),
                    accuracy_m=st.integers(0, 5000),
                ),
            )
        ),
        scheduled_start=any_zone(s_start, zone) if sched else None,
        scheduled_end=any_zone(s_end, zone) if sched else None,
        checkout_missing=draw(st.booleans()),
        recorded_at=draw(
            st.one_of(
                st.none(),
                st.integers(0, 30 * 86400).map(lambda sec: start + timedelta(seconds=sec)),
            )
        ),
        note=draw(st.text(max_size=20)),
    )


@given(records())
def test_json_round_trip(r: ServiceRecord) -> None:
    assert r.start.tzinfo is SH and r.end.tzinfo is SH
    back = from_json(to_json(r), ServiceRecord)
    assert back == r
    assert back.served_minutes == r.served_minutes
    assert back.start.tzinfo is SH


@given(records())
def test_toml_round_trip(r: ServiceRecord) -> None:
    back = from_toml(to_toml(r), ServiceRecord)
    assert back == r
    assert back.service_date == r.service_date


@given(sh_datetimes(max_value=datetime(2099, 12, 1)), st.integers(1, 10**6), offsets)
def test_served_minutes_ignore_the_zone_given(start: datetime, seconds: int, tz: timezone) -> None:
    end = start + timedelta(seconds=seconds)
    r = record(start=start.astimezone(tz), end=end.astimezone(UTC))
    assert r.served_minutes == seconds // 60
    assert r.service_date == start.date()
