"""The fast paths of the hour policy give exactly what the plain ways give: epoch seconds by wall
clock from 1992 on, outcomes and posting entries set field by field, one-day splits shared, and
drafts made from plain values (the columnar path's exact loop) judged as drafts made from records."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

from support.hours import NOW, SH, record
from zhiyuan.hours import Draft, Evidence, HourPolicy, Outcome, Overflow, Rounding, ServiceRecord
from zhiyuan.hours.ledger import Posted, _posted
from zhiyuan.hours.policy import _EPOCH, _ONE_OFFSET_FROM, _judge, _steps_of

ZONES = [SH, UTC, timezone(timedelta(hours=-5)), timezone(timedelta(hours=9, minutes=30))]


def _exact(moment: datetime) -> int:
    return int((moment - _EPOCH).total_seconds())


def test_shanghai_keeps_one_offset_from_1992() -> None:
    """The wall-clock shortcut holds only while Asia/Shanghai keeps the epoch's +08:00."""
    eight = timedelta(hours=8)
    assert datetime(1970, 1, 1, tzinfo=SH).utcoffset() == eight
    assert datetime(1991, 7, 1, tzinfo=SH).utcoffset() != eight  # the last summer time
    day = datetime(_ONE_OFFSET_FROM, 1, 1, tzinfo=SH)
    while day.year < 2200:
        assert day.utcoffset() == eight, day
        day += timedelta(days=7)


@settings(max_examples=300, deadline=None)
@given(
    start=st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(2199, 12, 30)),
    minutes=st.integers(1, 3000),
    micro=st.sampled_from([0, 1, 499_999, 999_999]),
    zone=st.sampled_from(ZONES),
)
def test_draft_seconds_are_the_instants(
    start: datetime, minutes: int, micro: int, zone: Any
) -> None:
    """Segments and served minutes, whatever the zone, the year (summer times included) and the
    microseconds, are those of the instants: ``(moment − epoch)`` in whole seconds."""
    s = start.replace(tzinfo=zone, microsecond=micro)
    e = s + timedelta(minutes=minutes, seconds=micro % 7)
    rec = record(start=s, end=e)
    d = Draft(rec, HourPolicy(), NOW, None, (), {})
    assert d.segments == ((_exact(rec.start), _exact(rec.end)),)
    assert d.served_minutes == rec.served_minutes
    assert d.minutes == (_exact(rec.end) - _exact(rec.start)) // 60


@settings(max_examples=100, deadline=None)
@given(
    minutes=st.integers(1, 2000),
    category=st.sampled_from(["助老", "会议"]),
    evidence=st.sampled_from(list(Evidence)),
)
def test_outcome_is_the_one_its_constructor_makes(
    minutes: int, category: str, evidence: Evidence
) -> None:
    policy = HourPolicy(category_weights={"助老": 150}, excluded_categories=["会议"])
    rec = record(minutes=minutes, category=category, evidence=evidence)
    out = policy.evaluate(rec, now=NOW)
    again = Outcome(**{f.name: getattr(out, f.name) for f in attrs.fields(Outcome)})
    assert out == again and hash(out) == hash(again) and repr(out) == repr(again)
    assert attrs.evolve(out, minor=True).minor


def test_posted_is_the_one_its_constructor_makes() -> None:
    rec = record()
    out = HourPolicy().evaluate(rec, now=NOW)
    fast = _posted(rec, out, "national", NOW)
    slow = Posted(record=rec, outcome=out, policy="national", at=NOW)
    assert fast == slow and hash(fast) == hash(slow) and fast.id == "post:r1"


def test_one_day_splits_are_shared() -> None:
    """Records on one day with the same minutes share one ``day_minutes`` tuple."""
    policy = HourPolicy()
    ra = record("a", minutes=90)
    a = policy.evaluate(ra, now=NOW)
    b = policy.evaluate(record("b", minutes=90), now=NOW)
    assert a.day_minutes == ((ra.service_date, 90),)
    assert a.day_minutes is b.day_minutes


POLICIES = [
    HourPolicy(),
    HourPolicy(
        unit_minutes=30,
        rounding=Rounding.HALF_UP,
        daily_cap_minutes=240,
        over_daily_cap=Overflow.TRIM,
        record_cap_minutes=180,
        deadline_days=3,
        late=Overflow.APPROVAL,
        schedule_capped=["admin_topup", "gps"],
    ),
    HourPolicy(daily_cap_minutes=120, over_daily_cap=Overflow.REJECT, deadline_days=0),
    HourPolicy(daily_cap_minutes=60, over_daily_cap=Overflow.APPROVAL, overlap="reject"),
]


def _plain(rec: ServiceRecord, policy: HourPolicy, occupied: Any, used: Any) -> Draft:
    """A draft from the record's plain values, as the columnar path's exact loop makes it."""
    schedule = None
    if rec.scheduled_start is not None and rec.scheduled_minutes is not None:
        schedule = (_exact(rec.scheduled_start), rec.scheduled_minutes)
    recorded = None if rec.recorded_at is None else _exact(rec.recorded_at)
    return Draft._of(
        policy,
        NOW,
        occupied,
        used,
        _exact(rec.start),
        _exact(rec.end),
        rec.category,
        rec.evidence,
        rec.checkout_missing,
        schedule,
        recorded,
        lambda: rec,
    )


@settings(max_examples=200, deadline=None)
@given(
    policy=st.sampled_from(POLICIES),
    day=st.integers(0, 3),
    hour=st.integers(0, 23),
    minutes=st.integers(1, 1500),
    evidence=st.sampled_from(list(Evidence)),
    checkout=st.booleans(),
    planned=st.one_of(st.none(), st.tuples(st.integers(-300, 300), st.integers(0, 600))),
    late=st.one_of(st.none(), st.integers(0, 6 * 24 * 60)),
    held=st.lists(st.tuples(st.integers(0, 5 * 24 * 60), st.integers(1, 600)), max_size=4),
)
def test_plain_drafts_judge_as_record_drafts(
    policy: HourPolicy,
    day: int,
    hour: int,
    minutes: int,
    evidence: Evidence,
    checkout: bool,
    planned: tuple[int, int] | None,
    late: int | None,
    held: list[tuple[int, int]],
) -> None:
    """The same chain on the same values: minutes, segments, status, findings and day split."""
    start = datetime(2025, 3, 1, tzinfo=SH) + timedelta(days=day, hours=hour)
    end = start + timedelta(minutes=minutes)
    kw: dict[str, Any] = {"evidence": evidence, "checkout_missing": checkout}
    if planned is not None:
        kw["scheduled_start"] = start + timedelta(minutes=planned[0])
        kw["scheduled_end"] = kw["scheduled_start"] + timedelta(minutes=planned[1], seconds=30)
    if late is not None:
        kw["recorded_at"] = min(start + timedelta(minutes=late), NOW)
    rec = record(start=start, end=end, **kw)
    base = _exact(datetime(2025, 3, 1, tzinfo=SH))
    occupied: list[tuple[int, int]] = []
    used: dict[date, int] = {}
    for off, length in sorted(held):
        s = base + off * 60
        if occupied and s < occupied[-1][1]:
            continue
        occupied.append((s, s + length * 60))
        d = datetime(2025, 3, 1).date() + timedelta(days=off // 1440)
        used[d] = used.get(d, 0) + min(length, 100)
    chain = _steps_of(policy.rules)
    a = _judge(Draft(rec, policy, NOW, None, occupied, used), chain)
    b = _judge(_plain(rec, policy, occupied, used), chain)
    for name in ("minutes", "segments", "status", "findings", "days", "minor"):
        assert getattr(a, name) == getattr(b, name), name
    assert a.counted() == b.counted()
    assert (a.schedule, a.end_day, a.entered_day) == (b.schedule, b.end_day, b.entered_day)


def test_a_plain_draft_makes_its_record_only_when_asked() -> None:
    made: list[ServiceRecord] = []
    rec = record()

    def make() -> ServiceRecord:
        made.append(rec)
        return rec

    s, e = _exact(rec.start), _exact(rec.end)
    d = Draft._of(HourPolicy(), NOW, (), {}, s, e, "助老", Evidence.GPS, False, None, None, make)
    _judge(d, _steps_of(HourPolicy().rules))
    assert not made and d.minutes == rec.served_minutes
    assert d.record is rec and d.record is rec and made == [rec]
    assert d.outcome().record_id == "r1"
