"""Conversion of certified hours into points (工时折算积分): profiles, carry, tiers, caps, idempotence.

Rows are built directly as :class:`HourRow` values where only the conversion arithmetic is under
test, and taken from a real :class:`HourLedger` in the end-to-end test. Two independent oracles
check the arithmetic: a minute-by-minute sum of exact fractions (tiers) and a per-row fraction
(multipliers). Every datetime is explicit, in Asia/Shanghai; nothing reads the wall clock.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from fractions import Fraction
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from zhiyuan import SHANGHAI
from zhiyuan.convert import from_json, from_toml, to_json, to_toml
from zhiyuan.credit import ClawbackRule, PointsLedger, Posting, PostingKind
from zhiyuan.credit.conversion import (
    CONVERSION_PROFILES,
    Conversion,
    ConversionPolicy,
    ConversionStatus,
    Expiry,
    Tier,
    _convert_last,
    convert,
    post_conversion,
)
from zhiyuan.errors import Conflict, InvalidInput, InvalidValue, NotFound, ZhiyuanError
from zhiyuan.explain import MESSAGES
from zhiyuan.hierarchy import Organization, Registry, load_default
from zhiyuan.hours import (
    Evidence,
    HourLedger,
    HourPolicy,
    HourRow,
    Rounding,
    ServiceRecord,
    Volunteer,
)

SH = SHANGHAI
PLACE = "370602001001"  # 烟台市芝罘区向阳街道友谊街社区
HOUR_POLICY = HourPolicy()
_CERTIFIED = object()


def at(y: int, m: int, d: int, h: int = 20, minute: int = 0) -> datetime:
    return datetime(y, m, d, h, minute, tzinfo=SH)


def row(
    rid: str | None,
    day: date,
    minutes: int,
    *,
    vid: str = "v1",
    evidence: Evidence = Evidence.QR_SCAN,
    category: str = "助老",
    certified: Any = _CERTIFIED,
    weighted: int | None = None,
) -> HourRow:
    """A certified row; purposes follow the national hour policy; certified at 20:00 that day."""
    cert = datetime.combine(day, time(20), tzinfo=SH) if certified is _CERTIFIED else certified
    return HourRow(
        vid,
        day,
        minutes,
        minutes if weighted is None else weighted,
        evidence,
        category,
        HOUR_POLICY.purposes(evidence),
        PLACE,
        record_id=rid,
        certified_at=cert,
    )


def hourly(
    n: int, start: date = date(2025, 3, 1), *, minutes: int = 60, vid: str = "v1"
) -> list[HourRow]:
    """``n`` rows of ``minutes`` on consecutive days."""
    return [row(f"{vid}-r{i:04d}", start + timedelta(days=i), minutes, vid=vid) for i in range(n)]


def points(conv: Conversion) -> list[int]:
    return [r.points for r in conv.rows]


def rules(conv: Conversion, record_id: str) -> list[tuple[str, str]]:
    return [(f.rule, f.variant) for f in conv.row(record_id).findings]


# --- the policy as data ------------------------------------------------------------------------


def test_default_policy() -> None:
    p = ConversionPolicy()
    assert (p.name, p.instrument, p.issuer) == ("default", "points", "issuer:default")
    assert (p.points_per_hour, p.hours_per_point, p.tiers) == (1, 1, ())
    assert p.rounding is Rounding.DOWN and p.carry and p.expiry is Expiry.NONE
    assert p.evidence is None and p.categories is None
    assert p.posting_id("r9") == "r9#convert"


def test_profiles_say_what_their_sources_say() -> None:
    P = CONVERSION_PROFILES
    assert set(P) >= {
        "huangshi",
        "huangshan",
        "hailin",
        "rongcheng",
        "weihai",
        "shanghai_time_bank",
    }
    for name, p in P.items():
        assert p.name == name and p.issuer == f"issuer:{name}"
    assert P["huangshi"].expiry is Expiry.YEAR_END
    assert Evidence.ADMIN_TOPUP not in (P["huangshi"].evidence or ())
    assert (P["huangshan"].expiry, P["huangshan"].expiry_years) == (Expiry.PERIOD, 3)
    assert P["hailin"].points_for(60) == 1
    assert P["rongcheng"].points_for(4 * 60) == 1 and P["rongcheng"].points_for(4 * 60 - 1) == 0
    assert [(t.up_to_hours, t.hours_per_point) for t in P["weihai"].tiers] == [
        (20, 1),
        (80, 2),
        (200, 3),
        (None, 4),
    ]
    sh = P["shanghai_time_bank"]
    assert (sh.instrument, sh.daily_cap, sh.lifetime_cap) == ("time_credits", 2, 600)
    assert P["zhiyuanhui"].instrument == "gongyi_coins"


@pytest.mark.parametrize("name", sorted(CONVERSION_PROFILES))
def test_every_profile_round_trips_through_json_and_toml(name: str) -> None:
    p = CONVERSION_PROFILES[name]
    assert from_json(to_json(p), ConversionPolicy) == p
    assert from_json(to_json(p, indent=2), ConversionPolicy) == p
    assert from_toml(to_toml(p), ConversionPolicy) == p


def test_a_policy_loads_from_hand_written_toml() -> None:
    text = """
name = "县积分"
effective_from = 2024-01-01
hours_per_point = 2
evidence = ["qr_scan", "gps"]
categories = ["助老", "助残"]
monthly_cap = 20
expiry = "period"
expiry_months = 18
pending_days = 3

[category_multipliers]
"助残" = 150
"""
    p = from_toml(text, ConversionPolicy)
    assert p.effective_from == date(2024, 1, 1) and p.issuer == "issuer:县积分"
    assert p.evidence == {Evidence.QR_SCAN, Evidence.GPS}
    assert p.categories == {"助老", "助残"} and p.multiplier("助残") == 150
    assert p.multiplier("助老") == 100
    assert from_toml(to_toml(p), ConversionPolicy) == p


def test_tiers_load_from_toml_tables_and_python_pairs() -> None:
    text = """
name = "w"
[[tiers]]
up_to_hours = 10
hours_per_point = 1
[[tiers]]
hours_per_point = 5
"""
    p = from_toml(text, ConversionPolicy)
    assert p == ConversionPolicy(name="w", tiers=((10, 1), (None, 5)))
    assert p.tiers == (Tier(up_to_hours=10), Tier(hours_per_point=5))


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ('{"hours_per_point": 1.5}', "hours_per_point"),
        ('{"hours_per_point": 0}', "hours_per_point"),
        ('{"points_per_hour": true}', "points_per_hour"),
        ('{"daily_cap": 2.0}', "daily_cap"),
        ('{"daily_cap": 0}', "daily_cap"),
        ('{"category_multipliers": {"助老": 1.5}}', "category_multipliers"),
        ('{"category_multipliers": {"助老": -10}}', "category_multipliers"),
        ('{"rounding": "sideways"}', "rounding"),
        ('{"expiry": "soon"}', "expiry"),
        ('{"evidence": ["telepathy"]}', "evidence"),
        ('{"tiers": [{"up_to_hours": 20, "hours_per_point": 1}]}', "tiers"),
        ('{"tiers": [{"up_to_hours": 20}, {"up_to_hours": 10}, {}]}', "tiers"),
        ('{"tiers": [{}, {"up_to_hours": 10}, {}]}', "tiers"),
        ('{"tiers": [{}], "hours_per_point": 4}', "hours_per_point"),
        ('{"expiry": "period"}', "expiry"),
        ('{"expiry": "year_end", "expiry_years": 1}', "expiry"),
        ('{"expiry_days": -1, "expiry": "period"}', "expiry_days"),
        ('{"pending_days": -1}', "pending_days"),
        ('{"name": ""}', "name"),
        ('{"instrument": " "}', "instrument"),
        ('{"effective_from": "2024-01-01T00:00:00+08:00"}', "date"),
        ('{"carry": "yes"}', "bool"),
        ('{"rate": 1}', "extra fields"),
    ],
)
def test_bad_policies_are_refused_with_the_field_named(text: str, field: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        from_json(text, ConversionPolicy)
    assert field in str(exc.value)
    assert isinstance(exc.value, ZhiyuanError)


def test_bad_policies_in_python_raise_invalid_value() -> None:
    with pytest.raises(InvalidValue, match="tiers"):
        ConversionPolicy(tiers=((20, 1), (10, 2)))
    with pytest.raises(InvalidValue, match="tiers"):
        ConversionPolicy(tiers=((20, 1), (None, 2), (None, 3)))
    with pytest.raises(InvalidValue, match="tiers"):
        ConversionPolicy(tiers=((20, 1, 3),))  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="tiers"):
        ConversionPolicy(tiers="20")
    with pytest.raises(InvalidValue, match="tiers"):
        ConversionPolicy(tiers=({"upto": 20}, {}))
    with pytest.raises(InvalidValue):
        ConversionPolicy(weighted=1)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="minutes"):
        ConversionPolicy().points_for(-1)


# --- rates, rounding and carry ------------------------------------------------------------------


def test_rongcheng_four_one_hour_records_make_exactly_one_point() -> None:
    conv = convert(hourly(4), CONVERSION_PROFILES["rongcheng"])
    assert points(conv) == [0, 0, 0, 1]
    assert [r.status for r in conv.rows] == [ConversionStatus.ZERO] * 3 + [
        ConversionStatus.CONVERTED
    ]
    carries = [f for r in conv.rows for f in r.findings if f.rule == "conversion.rounding"]
    assert [f.values[0] for f in carries] == ["1/4", "1/2", "3/4", "1"]  # exact, cumulative
    assert [f.values[4] for f in carries] == ["1/4", "1/2", "3/4", "0"]  # carried on
    assert "结转 1/4 分至下一条" in carries[0].zh
    (p,) = conv.postings
    assert (p.id, p.amount, p.ref, p.kind) == ("v1-r0003#convert", 1, "v1-r0003", PostingKind.EARN)
    assert (p.source, p.target) == ("issuer:rongcheng", "volunteer:v1")


def test_three_hours_at_rongcheng_give_nothing_and_eight_give_two() -> None:
    assert convert(hourly(3), CONVERSION_PROFILES["rongcheng"]).points == 0
    assert points(convert(hourly(8), CONVERSION_PROFILES["rongcheng"])) == [0, 0, 0, 1] * 2


def test_without_carry_each_record_rounds_alone() -> None:
    p = attrs.evolve(CONVERSION_PROFILES["rongcheng"], carry=False)
    conv = convert(hourly(4), p)
    assert conv.points == 0
    f = conv.rows[0].findings[-1]
    assert (f.rule, f.variant, f.values[4]) == ("conversion.rounding", "drop", "1/4")


def test_carry_is_per_volunteer() -> None:
    rows = [*hourly(3, vid="a"), *hourly(1, vid="b"), row("a-late", date(2025, 4, 1), 60, vid="a")]
    conv = convert(rows, CONVERSION_PROFILES["rongcheng"])
    assert conv.by_volunteer() == {"a": 1}


def test_hailin_one_point_an_hour_half_hours_carry() -> None:
    rows = [row("a", date(2025, 5, 1), 90), row("b", date(2025, 5, 2), 30)]
    conv = convert(rows, CONVERSION_PROFILES["hailin"])
    assert points(conv) == [1, 1]
    assert ("conversion.rounding", "carry") in rules(conv, "a")


@pytest.mark.parametrize(
    ("rounding", "expected"),
    [(Rounding.DOWN, [0, 1, 0, 1]), (Rounding.UP, [1, 0, 1, 0]), (Rounding.HALF_UP, [1, 0, 1, 0])],
)
def test_rounding_modes_carry_and_sum_to_the_rounded_total(
    rounding: Rounding, expected: list[int]
) -> None:
    p = ConversionPolicy(rounding=rounding)
    conv = convert(hourly(4, minutes=30), p)
    assert points(conv) == expected
    if rounding is Rounding.UP:
        assert ("conversion.rounding", "ahead") in rules(conv, "v1-r0000")


def test_points_for_rounds_the_exact_value() -> None:
    up, half = ConversionPolicy(rounding=Rounding.UP), ConversionPolicy(rounding=Rounding.HALF_UP)
    assert [up.points_for(m) for m in (0, 1, 60, 61, 120)] == [0, 1, 1, 2, 2]
    assert [half.points_for(m) for m in (29, 30, 89, 90)] == [0, 1, 1, 2]
    assert [ConversionPolicy().points_for(m) for m in (59, 60, 119, 120)] == [0, 1, 1, 2]


def test_two_points_an_hour() -> None:
    conv = convert(hourly(2, minutes=45), ConversionPolicy(points_per_hour=2))
    assert points(conv) == [1, 2]  # 1.5 → 1, then 3 in all


def test_category_multiplier_and_weighted_minutes() -> None:
    p = ConversionPolicy(category_multipliers={"助残": 150, "会议": 0})
    rows = [
        row("a", date(2025, 1, 2), 60, category="助残"),
        row("b", date(2025, 1, 3), 60, category="会议"),
        row("c", date(2025, 1, 4), 60, category="助老"),
    ]
    conv = convert(rows, p)
    assert points(conv) == [1, 0, 1]  # 1.5, +0, +1 → 2.5 in all
    f = conv.row("a").findings[0]
    assert (f.rule, f.values) == ("conversion.multiplier", ("助残", 150, 60, "90"))
    weighted = [row("w", date(2025, 1, 2), 60, weighted=120)]
    assert convert(weighted, ConversionPolicy()).points == 1
    assert convert(weighted, ConversionPolicy(weighted=True)).points == 2


# --- which rows convert -------------------------------------------------------------------------


def test_honour_hours_and_self_reports_do_not_convert_by_default() -> None:
    rows = [
        row("qr", date(2025, 2, 1), 60),
        row("top", date(2025, 2, 2), 60, evidence=Evidence.ADMIN_TOPUP),
        row("self", date(2025, 2, 3), 60, evidence=Evidence.SELF_REPORT),
        row("sup", date(2025, 2, 4), 60, evidence=Evidence.SUPERVISOR),
    ]
    conv = convert(rows, ConversionPolicy())
    assert [r.status.value for r in conv.rows] == ["converted", "excluded", "excluded", "converted"]
    assert rules(conv, "top") == [("conversion.excluded", "purpose")]
    assert "admin_topup" in str(conv.row("top").findings[0])


def test_huangshi_converts_credit_hours_only() -> None:
    rows = [
        row("qr", date(2025, 2, 1), 60),
        row("gps", date(2025, 2, 2), 60, evidence=Evidence.GPS),
        row("sup", date(2025, 2, 3), 60, evidence=Evidence.SUPERVISOR),
        row("top", date(2025, 2, 4), 60, evidence=Evidence.ADMIN_TOPUP),
    ]
    conv = convert(rows, CONVERSION_PROFILES["huangshi"])
    assert points(conv) == [1, 1, 0, 0]
    assert rules(conv, "top") == [("conversion.excluded", "evidence")]


def test_categories_and_effective_from() -> None:
    p = ConversionPolicy(categories={"助老"}, effective_from=date(2025, 1, 1))
    rows = [
        row("old", date(2024, 12, 31), 60),
        row("new", date(2025, 1, 1), 60),
        row("other", date(2025, 1, 2), 60, category="文艺"),
    ]
    conv = convert(rows, p)
    assert points(conv) == [0, 1, 0]
    assert rules(conv, "old") == [("conversion.excluded", "not_in_force")]
    assert rules(conv, "other") == [("conversion.excluded", "category")]
    assert not p.converts(rows[0]) and p.converts(rows[1])


# --- 威海 海贝分 tiers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hours", "pts"),
    [
        (1, 1),
        (19, 19),
        (20, 20),
        (21, 20),  # 20 + ½
        (22, 21),
        (80, 50),  # 20 + 60/2
        (81, 50),  # + ⅓
        (82, 50),
        (83, 51),
        (200, 90),  # 50 + 120/3
        (201, 90),  # + ¼
        (203, 90),
        (204, 91),
        (400, 140),
    ],
)
def test_weihai_tier_boundaries(hours: int, pts: int) -> None:
    weihai = CONVERSION_PROFILES["weihai"]
    assert weihai.points_for(hours * 60) == pts
    assert convert(hourly(hours), weihai).points == pts


def test_weihai_hour_by_hour_around_the_boundaries() -> None:
    conv = convert(hourly(205), CONVERSION_PROFILES["weihai"])
    got = points(conv)
    assert got[19] == 1 and got[20] == 0 and got[21] == 1  # hours 20, 21, 22
    assert got[79] == 1 and got[80] == 0 and got[81] == 0 and got[82] == 1  # 80, 81, 82, 83
    assert got[199] == 1 and got[200:203] == [0, 0, 0] and got[203] == 1  # 200, 201–203, 204
    tier = [f for f in conv.rows[20].findings if f.rule == "conversion.tier"]
    assert [f.values[0] for f in tier] == [2]
    tier = [f for f in conv.rows[200].findings if f.rule == "conversion.tier"]
    assert [(f.values[0], f.variant) for f in tier] == [(4, "open")]


def test_a_record_across_tier_boundaries_is_explained_per_tier() -> None:
    rows = [row("a", date(2025, 3, 1), 19 * 60), row("b", date(2025, 3, 2), 63 * 60)]
    conv = convert(rows, CONVERSION_PROFILES["weihai"])
    # b covers hour 19–20 (tier 1: 1 pt), 20–80 (tier 2: 30 pt), 80–82 (tier 3: ⅔ pt)
    assert points(conv) == [19, 31]
    tier = [f for f in conv.row("b").findings if f.rule == "conversion.tier"]
    assert [(f.values[0], f.values[-1]) for f in tier] == [(1, "1"), (2, "30"), (3, "2/3")]
    assert "第 2 档（累计 20–80 小时）" in tier[1].zh


# --- caps ---------------------------------------------------------------------------------------


def test_shanghai_two_coins_a_day_third_hour_gives_zero() -> None:
    day = date(2025, 6, 2)
    rows = [row(f"r{i}", day, 60, certified=at(2025, 6, 2, 12 + i)) for i in range(3)]
    rows.append(row("next", day + timedelta(days=1), 60))
    conv = convert(rows, CONVERSION_PROFILES["shanghai_time_bank"])
    assert points(conv) == [1, 1, 0, 1]
    third = conv.row("r2")
    assert third.status is ConversionStatus.ZERO and third.raw_points == 1
    (cap,) = [f for f in third.findings if f.rule == "conversion.cap"]
    assert (cap.variant, cap.numbers) == ("day", {"cap": 2, "used": 2, "before": 1, "after": 0})
    assert all(p.id.endswith("#convert") for p in conv.postings)


def test_a_long_day_is_cut_to_the_daily_cap() -> None:
    conv = convert([row("a", date(2025, 6, 2), 5 * 60)], CONVERSION_PROFILES["shanghai_time_bank"])
    assert points(conv) == [2]
    assert ("conversion.cap", "day") in rules(conv, "a")


def test_shanghai_lifetime_cap_of_600() -> None:
    rows = hourly(301, start=date(2024, 1, 1), minutes=120)
    conv = convert(rows, CONVERSION_PROFILES["shanghai_time_bank"])
    assert conv.points == 600
    assert points(conv)[:300] == [2] * 300 and points(conv)[300] == 0
    (cap,) = [f for f in conv.rows[300].findings if f.rule == "conversion.cap"]
    assert cap.variant == "lifetime" and cap.numbers["used"] == 600
    # the cap holds across runs: what was issued before counts first
    more = [row(f"more{i}", date(2025, 6, 1 + i), 120) for i in range(2)]
    again = convert(rows + more, CONVERSION_PROFILES["shanghai_time_bank"], already=conv.postings)
    assert again.postings == ()


def test_lifetime_cap_cuts_a_record_in_part() -> None:
    p = ConversionPolicy(lifetime_cap=5)
    conv = convert([row("a", date(2025, 1, 1), 4 * 60), row("b", date(2025, 1, 2), 4 * 60)], p)
    assert points(conv) == [4, 1]


def test_yearly_cap_resets_on_january_first() -> None:
    p = ConversionPolicy(yearly_cap=10)
    rows = [
        row("a", date(2024, 12, 30), 8 * 60),
        row("b", date(2024, 12, 31), 8 * 60),
        row("c", date(2025, 1, 1), 8 * 60),
        row("d", date(2025, 1, 2), 8 * 60),
    ]
    conv = convert(rows, p)
    assert points(conv) == [8, 2, 8, 2]
    assert conv.row("b").findings[-1].numbers == {"cap": 10, "used": 8, "before": 8, "after": 2}


def test_yearly_cap_follows_the_service_date_not_the_certification() -> None:
    p = ConversionPolicy(yearly_cap=10)
    rows = [
        row("a", date(2024, 12, 30), 8 * 60, certified=at(2025, 1, 3)),
        row("b", date(2025, 1, 1), 8 * 60, certified=at(2025, 1, 2)),
    ]
    assert points(convert(rows, p)) == [8, 8]


def test_monthly_cap_resets_each_month_and_caps_apply_in_order() -> None:
    p = ConversionPolicy(daily_cap=3, monthly_cap=5)
    rows = [
        row("a", date(2025, 1, 30), 4 * 60),
        row("b", date(2025, 1, 31), 4 * 60),
        row("c", date(2025, 2, 1), 4 * 60),
    ]
    conv = convert(rows, p)
    assert points(conv) == [3, 2, 3]
    assert [
        (f.variant, f.numbers["after"])
        for f in conv.row("b").findings
        if f.rule == "conversion.cap"
    ] == [
        ("day", 3),
        ("month", 2),
    ]


# --- posting time, pending period and expiry ----------------------------------------------------


def test_posting_time_is_the_certification_or_the_end_of_the_service_date() -> None:
    rows = [
        row("late", date(2025, 3, 1), 60, certified=at(2025, 3, 5, 9)),
        row("none", date(2025, 3, 2), 60, certified=None),
    ]
    conv = convert(rows, ConversionPolicy())
    assert [r.record_id for r in conv.rows] == ["none", "late"]
    assert conv.row("none").at == datetime(2025, 3, 2, 23, 59, 59, tzinfo=SH)
    assert conv.row("late").posting is not None and conv.row("late").posting.at == at(2025, 3, 5, 9)


def test_an_aware_certification_in_another_zone_becomes_shanghai_time() -> None:
    from datetime import UTC

    utc = datetime(2025, 3, 1, 12, tzinfo=UTC)
    (p,) = convert([row("a", date(2025, 3, 1), 60, certified=utc)], ConversionPolicy()).postings
    assert p.at == at(2025, 3, 1, 20) and p.at.tzinfo is SH


def test_huangshi_points_expire_on_december_31() -> None:
    rows = [
        row("jun", date(2025, 6, 1), 60),
        row("dec", date(2025, 12, 31), 60, certified=at(2025, 12, 31, 23, 30)),
    ]
    conv = convert(rows, CONVERSION_PROFILES["huangshi"])
    jun, dec = conv.postings
    assert jun.expires_at == dec.expires_at == datetime(2026, 1, 1, tzinfo=SH)
    assert ("conversion.expiry", "year_end") in rules(conv, "jun")
    book = PointsLedger()
    post_conversion(book, conv)
    assert book.balances("v1", as_of=at(2025, 12, 31, 23, 59)).available == 2
    assert book.balances("v1", as_of=datetime(2026, 1, 1, tzinfo=SH)).available == 0
    swept = book.expire(datetime(2026, 1, 1, tzinfo=SH))
    assert sum(p.amount for p in swept) == 2 and book.balance("expiry") == 2
    assert book.total() == 0


def test_huangshan_points_are_valid_three_years() -> None:
    rows = [row("a", date(2024, 2, 29), 60), row("b", date(2024, 3, 1), 60)]
    a, b = convert(rows, CONVERSION_PROFILES["huangshan"]).postings
    assert a.expires_at == datetime(2027, 2, 28, 20, tzinfo=SH)  # relativedelta: no 29 Feb
    assert b.expires_at == datetime(2027, 3, 1, 20, tzinfo=SH)


def test_pending_period_sets_available_from() -> None:
    p = attrs.evolve(CONVERSION_PROFILES["hailin"], pending_days=7)
    conv = convert([row("a", date(2025, 4, 1), 120)], p)
    (post,) = conv.postings
    assert post.available_from == at(2025, 4, 8) and post.expires_at is None
    assert ("conversion.pending", "") in rules(conv, "a")
    book = PointsLedger()
    post_conversion(book, conv)
    bal = book.balances("v1", as_of=at(2025, 4, 5))
    assert (bal.pending, bal.available) == (2, 0)
    bal = book.balances("v1", as_of=at(2025, 4, 8))
    assert (bal.pending, bal.available) == (0, 2)


def test_a_pending_period_past_the_expiry_is_flagged() -> None:
    p = attrs.evolve(CONVERSION_PROFILES["huangshi"], pending_days=7)
    conv = convert([row("a", date(2025, 12, 28), 60)], p)
    assert ("conversion.expiry", "unusable") in rules(conv, "a")


def test_no_pending_period_and_no_expiry_leave_the_dates_open() -> None:
    (p,) = convert([row("a", date(2025, 4, 1), 60)], ConversionPolicy()).postings
    assert p.available_from is None and p.expires_at is None


# --- idempotence --------------------------------------------------------------------------------


def test_converting_again_yields_nothing_new() -> None:
    rows = hourly(10, minutes=50)
    first = convert(rows, CONVERSION_PROFILES["hailin"])
    again = convert(rows, CONVERSION_PROFILES["hailin"], already=first.postings)
    assert again.postings == () and again.points == 0
    posted = {r.record_id for r in first.rows if r.posting is not None}
    assert {r.record_id for r in again.rows if r.status is ConversionStatus.ALREADY} == posted
    assert all(
        r.findings[0].rule == "conversion.already"
        for r in again.rows
        if r.status is ConversionStatus.ALREADY
    )


def test_a_superset_converts_only_the_new_rows_and_matches_a_single_run() -> None:
    rows = hourly(7)
    p = CONVERSION_PROFILES["rongcheng"]
    first = convert(rows[:5], p)
    second = convert(rows, p, already=first.postings)
    whole = convert(rows, p)
    assert set(first.postings) | set(second.postings) == set(whole.postings)
    assert not {q.id for q in first.postings} & {q.id for q in second.postings}


def test_the_ledger_itself_can_be_passed_as_already() -> None:
    book = PointsLedger()
    rows = hourly(3)
    assert post_conversion(book, convert(rows, ConversionPolicy())) == 3
    assert convert(rows, ConversionPolicy(), already=book).postings == ()
    assert convert(rows, ConversionPolicy(), already=book.postings).postings == ()


def test_posting_twice_adds_nothing_and_the_total_stays_zero() -> None:
    conv = convert(hourly(5) + hourly(3, vid="v2"), CONVERSION_PROFILES["hailin"])
    book = PointsLedger()
    assert post_conversion(book, conv) == 8
    assert post_conversion(book, conv) == 0
    assert book.total() == 0 and book.balance("issuer:hailin") == -8
    assert book.balance("volunteer:v1") == 5 and book.balance("volunteer:v2") == 3


def test_post_conversion_refuses_another_instrument_and_is_all_or_nothing() -> None:
    conv = convert(hourly(2), CONVERSION_PROFILES["shanghai_time_bank"])
    with pytest.raises(InvalidValue, match="instrument"):
        post_conversion(PointsLedger(), conv)
    book = PointsLedger("time_credits")
    clash = conv.postings[1]
    # a caller cannot take the library's ids ...
    with pytest.raises(InvalidValue, match="#"):
        book.post(attrs.evolve(clash, target="volunteer:v9"))
    # ... so a clash can only be another conversion of the same record id
    other = convert(
        [hourly(2)[1]._replace(volunteer_id="v9")], CONVERSION_PROFILES["shanghai_time_bank"]
    )
    assert post_conversion(book, other) == 1
    with pytest.raises(Conflict):
        post_conversion(book, conv)
    assert len(book) == 1 and book.total() == 0


def test_a_reversed_earning_frees_its_share_of_the_caps() -> None:
    p = ConversionPolicy(lifetime_cap=3)
    rows = hourly(4)
    book = PointsLedger()
    post_conversion(book, convert(rows, p))
    assert book.balance("volunteer:v1") == 3
    book.reverse_earning(
        "v1-r0000#convert", at=at(2025, 4, 1), reason="冲销", rule=ClawbackRule.DEBT
    )
    later = convert(rows[1:], p, already=book)  # r0000 was reversed: its row is gone
    assert [r.record_id for r in later.rows if r.posting] == ["v1-r0003"]
    post_conversion(book, later)
    assert book.balance("volunteer:v1") == 3 and book.total() == 0


def test_a_foreign_posting_under_a_row_id_conflicts() -> None:
    foreign = Posting(
        id="a#convert",
        at=at(2025, 1, 1),
        kind=PostingKind.ADJUST,
        source="x",
        target="y",
        amount=1,
    )
    with pytest.raises(Conflict):
        convert([row("a", date(2025, 1, 1), 60)], ConversionPolicy(), already=[foreign])
    other_volunteer = attrs.evolve(foreign, kind=PostingKind.EARN, ref="a", target="volunteer:v9")
    with pytest.raises(Conflict):
        convert([row("a", date(2025, 1, 1), 60)], ConversionPolicy(), already=[other_volunteer])


# --- bad rows -----------------------------------------------------------------------------------


def test_rows_without_a_record_id_are_invalid() -> None:
    with pytest.raises(InvalidValue, match="record_id"):
        convert(
            [row("a", date(2025, 1, 1), 60), row(None, date(2025, 1, 2), 60)], ConversionPolicy()
        )


def test_bad_rows_are_refused() -> None:
    naive = datetime(2025, 1, 1, 20)
    with pytest.raises(InvalidValue, match="certified_at"):
        convert([row("a", date(2025, 1, 1), 60, certified=naive)], ConversionPolicy())
    with pytest.raises(InvalidValue, match="minutes"):
        convert([row("a", date(2025, 1, 1), -5)], ConversionPolicy())
    with pytest.raises(InvalidValue, match="minutes"):
        convert([row("a", date(2025, 1, 1), 60)._replace(minutes=1.5)], ConversionPolicy())
    with pytest.raises(Conflict):
        convert(
            [row("a", date(2025, 1, 1), 60), row("a", date(2025, 1, 1), 30)], ConversionPolicy()
        )


def test_the_same_row_twice_counts_once() -> None:
    r = row("a", date(2025, 1, 1), 60)
    assert convert([r, r], ConversionPolicy()).points == 1


def test_explanations_read_in_both_languages_from_the_catalog() -> None:
    p = attrs.evolve(
        CONVERSION_PROFILES["weihai"],
        category_multipliers={"助残": 150},
        daily_cap=30,
        pending_days=1,
        expiry=Expiry.PERIOD,
        expiry_months=6,
    )
    rows = [
        row("a", date(2025, 1, 1), 40 * 60, category="助残"),
        row("b", date(2025, 1, 2), 60, evidence=Evidence.ADMIN_TOPUP),
    ]
    conv = convert(rows, p)
    text = conv.explain()
    for r in conv.rows:
        for f in r.findings:
            assert (f.rule, f.variant) in MESSAGES
            assert f.zh in text and f.en in text
    assert "有效期 6 个月" in text and "valid for 6 months" in text
    with pytest.raises(NotFound):
        conv.row("zzz")


# --- end to end from an hour ledger -------------------------------------------------------------


def test_rows_from_an_hour_ledger_convert_once_certified() -> None:
    reg = Registry(
        load_default(),
        [Organization(id="o1", name="向阳街道志愿者协会", region_code="370602001")],
    )
    hours = HourLedger(reg, policies=[HourPolicy(notice_days=3)])
    hours.add_volunteer(
        Volunteer(id="v1", name="王芳", home_region=PLACE, registered_on=date(2024, 1, 1))
    )
    for i, (ev, day) in enumerate(
        [(Evidence.QR_SCAN, 1), (Evidence.ADMIN_TOPUP, 2), (Evidence.GPS, 3)]
    ):
        rec = ServiceRecord(
            id=f"r{i}",
            volunteer_id="v1",
            activity_id="a",
            organization_id="o1",
            region_code=PLACE,
            category="助老",
            evidence=ev,
            start=at(2025, 3, day, 9),
            end=at(2025, 3, day, 11),
            scheduled_start=at(2025, 3, day, 9),
            scheduled_end=at(2025, 3, day, 11),
        )
        hours.post(rec, at=at(2025, 3, day, 12))
        hours.certify(rec.id, by="admin", at=at(2025, 3, day, 13))
    rows = hours.rows(as_of=at(2025, 3, 10))
    conv = convert(rows, CONVERSION_PROFILES["huangshi"])
    assert [(r.record_id, r.points) for r in conv.rows] == [("r0", 2), ("r1", 0), ("r2", 2)]
    assert conv.row("r0").at == at(2025, 3, 4, 13)  # the end of the 3-day notice
    book = PointsLedger()
    post_conversion(book, conv)
    assert book.balance("volunteer:v1") == 4 and book.total() == 0
    assert (
        convert(
            hours.rows(as_of=at(2025, 3, 10)), CONVERSION_PROFILES["huangshi"], already=book
        ).postings
        == ()
    )


# --- properties ---------------------------------------------------------------------------------

CATEGORIES = ("助老", "助残", "文艺")
START = date(2024, 12, 20)


@st.composite
def hour_rows(draw: st.DrawFn, max_rows: int = 25, max_minutes: int = 600) -> list[HourRow]:
    n = draw(st.integers(0, max_rows))
    out = []
    for i in range(n):
        day = START + timedelta(days=draw(st.integers(0, 60)))
        cert = draw(
            st.one_of(
                st.none(),
                st.integers(0, 10 * 24).map(
                    lambda h, d=day: datetime.combine(d, time(12), tzinfo=SH) + timedelta(hours=h)
                ),
            )
        )
        out.append(
            row(
                f"r{i:03d}",
                day,
                draw(st.integers(0, max_minutes)),
                vid=draw(st.sampled_from(("v1", "v2", "v3"))),
                evidence=draw(st.sampled_from(list(Evidence))),
                category=draw(st.sampled_from(CATEGORIES)),
                certified=cert,
                weighted=draw(st.integers(0, max_minutes)),
            )
        )
    return out


@st.composite
def tier_tables(draw: st.DrawFn) -> tuple[Tier, ...]:
    bounds = sorted(draw(st.sets(st.integers(1, 40), max_size=3)))
    hpps = draw(st.lists(st.integers(1, 5), min_size=len(bounds) + 1, max_size=len(bounds) + 1))
    return tuple(
        Tier(up_to_hours=b, hours_per_point=h) for b, h in zip([*bounds, None], hpps, strict=True)
    )


def policies(*, whole_multipliers: bool = False) -> st.SearchStrategy[ConversionPolicy]:
    pct = st.sampled_from((0, 100, 200, 300)) if whole_multipliers else st.integers(0, 300)
    cap = st.none() | st.integers(1, 12)
    return st.builds(
        lambda tiers, hpp, **kw: ConversionPolicy(
            tiers=tiers, hours_per_point=1 if tiers else hpp, **kw
        ),
        tiers=st.just(()) | tier_tables(),
        hpp=st.integers(1, 5),
        points_per_hour=st.integers(1, 3),
        rounding=st.sampled_from(list(Rounding)),
        carry=st.booleans(),
        weighted=st.booleans(),
        evidence=st.none() | st.frozensets(st.sampled_from(list(Evidence))),
        categories=st.none() | st.frozensets(st.sampled_from(CATEGORIES)),
        category_multipliers=st.dictionaries(st.sampled_from(CATEGORIES), pct, max_size=3),
        daily_cap=cap,
        monthly_cap=cap.map(lambda c: None if c is None else c * 3),
        yearly_cap=cap.map(lambda c: None if c is None else c * 5),
        lifetime_cap=cap.map(lambda c: None if c is None else c * 6),
        effective_from=st.sampled_from((date(2017, 12, 1), date(2025, 1, 1))),
        pending_days=st.integers(0, 30),
    )


def any_policies() -> st.SearchStrategy[ConversionPolicy]:
    """Policies for round-trips: every field, any expiry, any name."""
    expiry = st.one_of(
        st.just({"expiry": Expiry.NONE}),
        st.just({"expiry": Expiry.YEAR_END}),
        st.fixed_dictionaries(
            {
                "expiry": st.just(Expiry.PERIOD),
                "expiry_years": st.integers(1, 5),
                "expiry_months": st.integers(0, 11),
                "expiry_days": st.integers(0, 40),
            }
        ),
    )
    return st.builds(
        lambda p, e, name, instrument: attrs.evolve(
            p, name=name, instrument=instrument, issuer=f"issuer:{name}", **e
        ),
        policies(),
        expiry,
        st.text(min_size=1, max_size=8).filter(str.strip),
        st.sampled_from(("points", "time_credits", "credit_score")),
    )


def _order(r: HourRow) -> tuple[datetime, str]:
    cert = r.certified_at or datetime.combine(r.service_date, time(23, 59, 59), tzinfo=SH)
    assert r.record_id is not None
    return cert, r.record_id


def _eligible(r: HourRow, p: ConversionPolicy) -> bool:
    from zhiyuan.hours import Purpose

    if r.service_date < p.effective_from:
        return False
    ok = Purpose.POINTS in r.purposes if p.evidence is None else r.evidence in p.evidence
    return ok and (p.categories is None or r.category in p.categories)


def _round(x: Fraction, rounding: Rounding) -> int:
    if rounding is Rounding.DOWN:
        return math.floor(x)
    if rounding is Rounding.UP:
        return math.ceil(x)
    return math.floor(x + Fraction(1, 2))


def _hours_per_point(p: ConversionPolicy, hour: int) -> int:
    """The tier rate of the ``hour``-th cumulative hour (1-based)."""
    for t in p.tiers:
        if t.up_to_hours is None or hour <= t.up_to_hours:
            return t.hours_per_point
    return p.hours_per_point


def oracle(rows: Iterable[HourRow], p: ConversionPolicy) -> dict[str, int]:
    """Points per converting record, brute force: the value of each credited minute as an exact
    fraction (tiers: minute by minute, whole multipliers only) or of each row (no tiers), rounded
    per the policy, then the caps taken greedily in row order."""
    out: dict[str, int] = {}
    value: dict[str, Fraction] = {}
    credited: dict[str, int] = {}  # whole credited minutes so far (tiers)
    issued: dict[tuple[str, str, object], int] = {}
    for r in sorted(rows, key=_order):
        assert r.record_id is not None
        if not _eligible(r, p):
            continue
        vid = r.volunteer_id
        base = r.weighted_minutes if p.weighted else r.minutes
        pct = p.category_multipliers.get(r.category, 100)
        if p.tiers:
            assert pct % 100 == 0
            done = credited.get(vid, 0)
            more = base * pct // 100
            worth = sum(
                (
                    Fraction(p.points_per_hour, 60 * _hours_per_point(p, (m + 59) // 60))
                    for m in range(done + 1, done + more + 1)
                ),
                Fraction(0),
            )
            credited[vid] = done + more
        else:
            worth = Fraction(base * pct * p.points_per_hour, 100 * 60 * p.hours_per_point)
        v0 = value.get(vid, Fraction(0))
        v1 = value[vid] = v0 + worth
        if p.carry:
            n = _round(v1, p.rounding) - _round(v0, p.rounding)
        else:
            n = _round(worth, p.rounding)
        d = r.service_date
        windows = (("d", d), ("m", (d.year, d.month)), ("y", d.year), ("life", None))
        caps = (p.daily_cap, p.monthly_cap, p.yearly_cap, p.lifetime_cap)
        for key, cap in zip(windows, caps, strict=True):
            if cap is not None:
                n = min(n, cap - issued.get((vid, *key), 0))
        for key in windows:
            issued[(vid, *key)] = issued.get((vid, *key), 0) + n
        out[r.record_id] = n
    return out


def check_caps(postings: Sequence[Posting], rows: Sequence[HourRow], p: ConversionPolicy) -> None:
    """No window of any volunteer holds more than its cap."""
    day_of = {r.record_id: r.service_date for r in rows}
    sums: dict[tuple[str, str, object], int] = {}
    for q in postings:
        d = day_of[q.ref]
        for key in (("d", d), ("m", (d.year, d.month)), ("y", d.year), ("life", None)):
            k = (q.target, *key)
            sums[k] = sums.get(k, 0) + q.amount
    caps = {"d": p.daily_cap, "m": p.monthly_cap, "y": p.yearly_cap, "life": p.lifetime_cap}
    for (_, kind, _), total in sums.items():
        cap = caps[str(kind)]
        assert cap is None or total <= cap


@given(hour_rows(), policies(whole_multipliers=True))
def test_points_equal_a_brute_force_computation(rows: list[HourRow], p: ConversionPolicy) -> None:
    expected = oracle(rows, p)
    conv = convert(rows, p)
    got = {r.record_id: r.points for r in conv.rows if r.status is not ConversionStatus.EXCLUDED}
    assert got == expected
    assert conv.points == sum(expected.values())


@given(hour_rows(), policies().map(lambda p: attrs.evolve(p, tiers=())))
def test_points_with_any_multiplier_equal_a_brute_force_computation(
    rows: list[HourRow], p: ConversionPolicy
) -> None:
    expected = oracle(rows, p)
    conv = convert(rows, p)
    assert {r.record_id: r.points for r in conv.rows if r.record_id in expected} == expected


@given(
    hour_rows(max_rows=12),
    policies().map(
        lambda p: attrs.evolve(
            p, daily_cap=None, monthly_cap=None, yearly_cap=None, lifetime_cap=None, carry=True
        )
    ),
)
def test_without_caps_carry_makes_the_total_the_rounded_value_of_all_hours(
    rows: list[HourRow], p: ConversionPolicy
) -> None:
    conv = convert(rows, p)
    for vid in {r.volunteer_id for r in rows}:
        mine = [r for r in rows if r.volunteer_id == vid and _eligible(r, p)]
        credited = [
            (r.weighted_minutes if p.weighted else r.minutes) * p.multiplier(r.category)
            for r in mine
        ]
        total = p.round_value(p.value(sum(credited)))
        assert conv.by_volunteer().get(vid, 0) == total


@given(hour_rows(), policies())
def test_points_issued_never_exceed_the_caps(rows: list[HourRow], p: ConversionPolicy) -> None:
    conv = convert(rows, p)
    check_caps(conv.postings, rows, p)
    for r in conv.rows:
        assert 0 <= r.points <= r.raw_points
        assert (r.posting is not None) == (r.status is ConversionStatus.CONVERTED)
        if r.posting is not None:
            assert r.posting.amount == r.points and r.posting.ref == r.record_id
            assert r.posting.id == f"{r.record_id}#convert"


@given(hour_rows(), policies(), st.data())
def test_converting_in_pieces_equals_converting_whole(
    rows: list[HourRow], p: ConversionPolicy, data: st.DataObject
) -> None:
    ordered = sorted(rows, key=_order)
    cut = data.draw(st.integers(0, len(ordered)))
    first = convert(ordered[:cut], p)
    second = convert(data.draw(st.permutations(ordered)), p, already=first.postings)
    whole = convert(rows, p)
    assert (*first.postings, *second.postings) == whole.postings
    assert not {q.id for q in first.postings} & {q.id for q in second.postings}
    assert convert(rows, p, already=[*first.postings, *second.postings]).postings == ()


@given(hour_rows(), policies(), st.data())
def test_the_last_row_on_top_of_a_converted_history_equals_converting_the_whole(
    rows: list[HourRow], p: ConversionPolicy, data: st.DataObject
) -> None:
    """The platform's fast path: a volunteer's history converted, some earnings partly taken
    back and the history converted again (what the take-backs freed under a cap goes to the
    rows it now reaches), then one more row that comes last in the conversion's order."""
    mine = sorted((r for r in rows if r.volunteer_id == "v1"), key=_order)
    if not mine or mine[-1].certified_at is None:
        return
    *earlier, last = mine
    done = list(convert(earlier, p).postings)
    for q in list(done):
        back = data.draw(st.integers(0, q.amount))
        if back:
            done.append(
                Posting(
                    id=f"{q.id}#back",
                    at=q.at,
                    kind=PostingKind.REVERSE,
                    source=q.target,
                    target=q.source,
                    amount=back,
                    lot=q.id,
                    reverses=q.id,
                )
            )
    done.extend(convert(earlier, p, already=done).postings)  # the books agree again
    whole = convert(mine, p, already=done).row(last.record_id or "")
    assert _convert_last(last, earlier, p, done) == whole


@given(hour_rows(), policies(), st.data())
def test_any_earlier_subset_never_duplicates_or_breaks_a_cap(
    rows: list[HourRow], p: ConversionPolicy, data: st.DataObject
) -> None:
    subset = (
        data.draw(st.lists(st.sampled_from(rows), unique_by=lambda r: r.record_id)) if rows else []
    )
    first = convert(subset, p)
    second = convert(rows, p, already=first.postings)
    every = [*first.postings, *second.postings]
    assert len({q.id for q in every}) == len(every)
    check_caps(every, rows, p)
    assert convert(rows, p, already=every).postings == ()


@given(hour_rows(), policies(), st.randoms(use_true_random=False))
def test_the_result_does_not_depend_on_the_input_order(
    rows: list[HourRow], p: ConversionPolicy, rnd: Any
) -> None:
    shuffled = list(rows)
    rnd.shuffle(shuffled)
    assert convert(shuffled, p) == convert(rows, p)
    keys = [(r.at, r.record_id) for r in convert(rows, p).rows]
    assert keys == sorted(keys)


@given(hour_rows(), policies())
def test_posting_a_conversion_keeps_the_ledger_total_at_zero(
    rows: list[HourRow], p: ConversionPolicy
) -> None:
    conv = convert(rows, p)
    book = PointsLedger()
    assert post_conversion(book, conv) == len(conv.postings)
    assert book.total() == 0
    assert book.balance(p.issuer) == -conv.points
    for vid, n in conv.by_volunteer().items():
        assert book.balance(f"volunteer:{vid}") == n
    assert post_conversion(book, conv) == 0 and book.total() == 0


@given(any_policies())
def test_random_policies_round_trip_losslessly(p: ConversionPolicy) -> None:
    assert from_json(to_json(p), ConversionPolicy) == p
    assert from_toml(to_toml(p), ConversionPolicy) == p


@given(st.integers(0, 400 * 60))
def test_weihai_points_equal_the_hour_by_hour_sum(minutes: int) -> None:
    weihai = CONVERSION_PROFILES["weihai"]
    per_rate: dict[int, int] = {}
    for m in range(1, minutes + 1):
        k = _hours_per_point(weihai, (m + 59) // 60)
        per_rate[k] = per_rate.get(k, 0) + 1
    exact = sum((Fraction(n, 60 * k) for k, n in per_rate.items()), Fraction(0))
    assert weihai.points_for(minutes) == math.floor(exact)


# --- issue 14: debts, reversed expired lots and caps; bad collections ------------------------------


def _owing(owed: int) -> PointsLedger:
    """v1 spent ``owed`` points of an earning that was then reversed: she owes them."""
    book = PointsLedger()
    book.earn("e0", "v1", owed, at=at(2025, 1, 2), issuer="issuer:default")
    book.spend("s0", "v1", owed, at=at(2025, 1, 3))
    book.reverse_earning("e0", at=at(2025, 1, 4), reason="冲销", rule=ClawbackRule.NEGATIVE)
    assert book.balance("owed:v1") == -owed
    return book


def test_a_conversion_pays_what_is_owed_as_earn_does() -> None:
    # a volunteer who owes 10 used to keep owing 10 after a conversion earned her 10 more
    book = _owing(10)
    conv = convert(hourly(10, date(2025, 2, 1)), ConversionPolicy(), already=book)
    assert conv.points == 10
    assert post_conversion(book, conv) == 10
    assert book.balance("owed:v1") == 0
    assert book.balances("v1", as_of=at(2025, 3, 1)).available == 0
    settles = [p for p in book.postings if p.kind is PostingKind.SETTLE]
    assert [(p.lot, p.amount, p.target) for p in settles] == [
        (f"v1-r{i:04d}#convert", 1, "owed:v1") for i in range(10)
    ]
    # the very postings earn() makes for the same earnings, settle by settle
    twin = _owing(10)
    for p in conv.postings:
        twin._earn(p.id, "v1", p.amount, at=p.at, issuer=p.source, ref=p.ref)
    assert [attrs.evolve(p, note="") for p in book.postings] == [
        attrs.evolve(p, note="") for p in twin.postings
    ]
    # posting it again changes nothing, and what is earned beyond the debt is spendable
    head = book.journal.head
    assert post_conversion(book, conv) == 0
    assert book.journal.head == head
    more = convert(hourly(15, date(2025, 2, 1)), ConversionPolicy(), already=book)
    assert post_conversion(book, more) == 5
    assert book.balances("v1", as_of=at(2025, 3, 1)).available == 5


def test_a_conversion_pays_a_debt_only_once_across_a_batch_and_volunteers() -> None:
    book = _owing(3)
    rows = hourly(2, date(2025, 2, 1), minutes=120) + hourly(2, date(2025, 2, 1), vid="v2")
    post_conversion(book, convert(rows, ConversionPolicy(), already=book))
    assert book.balance("owed:v1") == 0
    assert [(p.id, p.amount) for p in book.postings if p.kind is PostingKind.SETTLE] == [
        ("v1-r0000#convert#settle", 2),
        ("v1-r0001#convert#settle", 1),
    ]
    assert book.balance("volunteer:v1") == 1 and book.balance("volunteer:v2") == 2
    assert book.total() == 0


@pytest.mark.parametrize("swept", [True, False])
def test_reversing_an_expired_conversion_frees_its_yearly_cap(swept: bool) -> None:
    # 10 points a year at most; January's 10 expire after a month; the January record is then
    # found false and reversed: a March record must earn its 5 (it used to earn 0)
    policy = ConversionPolicy(yearly_cap=10, expiry=Expiry.PERIOD, expiry_months=1)
    book = PointsLedger()
    january = [row("jan", date(2025, 1, 10), 600)]
    post_conversion(book, convert(january, policy, already=book))
    assert book.balance("volunteer:v1") == 10
    if swept:
        assert [p.amount for p in book.expire(at(2025, 3, 1))] == [10]
    r = book.reverse_earning("jan#convert", at=at(2025, 3, 2), reason="虚假时长")
    assert sum(p.amount for p in r.postings) == 10
    assert book.balance("issuer:default") == 0  # nothing stands issued
    assert book.balance("expiry") == 0  # and nothing counts as expired
    march = [row("mar", date(2025, 3, 5), 300)]  # January's row is gone from the history
    conv = convert(march, policy, already=book)
    assert [(r.record_id, r.status, r.points) for r in conv.rows] == [
        ("mar", ConversionStatus.CONVERTED, 5)
    ]
    assert post_conversion(book, conv) == 1
    assert book.balance("issuer:default") == -5
    # without the reversal the cap is used up
    other = PointsLedger()
    post_conversion(other, convert(january, policy))
    other.expire(at(2025, 3, 1))
    assert convert(january + march, policy, already=other).row("mar").points == 0


_NOT_A_COLLECTION = [True, 0, "助老", "qr_scan", b"qr_scan", {"助老": 1}]
_BAD_COLLECTIONS = [
    *((f, bad) for f in ("categories", "evidence", "tiers") for bad in _NOT_A_COLLECTION),
    *((f, bad) for f in ("categories", "evidence", "tiers") for bad in ([None], [""], [True])),
    ("categories", ["\ud800"]),
    ("evidence", {"助老"}),
    ("tiers", None),  # None is "no restriction" for categories and evidence only
    *(("category_multipliers", bad) for bad in (None, True, 0, "助老", {"助老"}, [("助老", 1)])),
    *(("category_multipliers", bad) for bad in ({"": 1}, {"助老": True}, {"助老": 1.5})),
]


@pytest.mark.parametrize(("field", "bad"), _BAD_COLLECTIONS, ids=repr)
def test_policy_collections_refuse_what_is_not_one(field: str, bad: object) -> None:
    with pytest.raises(InvalidValue) as info:
        ConversionPolicy(**{field: bad})
    assert info.value.field.startswith(field)


def test_policy_collections_take_any_collection_but_a_string() -> None:
    p = ConversionPolicy(
        categories=["助老", "助残"],
        evidence=("qr_scan", Evidence.GPS),
        tiers=[(10, 1), Tier(hours_per_point=2)],
    )
    assert p.categories == frozenset({"助老", "助残"})
    assert p.evidence == frozenset({Evidence.QR_SCAN, Evidence.GPS})
    assert p.tiers == (Tier(up_to_hours=10, hours_per_point=1), Tier(hours_per_point=2))
    assert ConversionPolicy(categories=None, evidence=None) == ConversionPolicy()
    for field, one in (("categories", "助老"), ("evidence", Evidence.GPS), ("evidence", "gps")):
        with pytest.raises(InvalidValue) as info:
            ConversionPolicy(**{field: one})
        assert info.value.field == field
    for flag in ("weighted", "carry"):
        for bad in (None, 1, "yes"):
            with pytest.raises(InvalidValue) as info:
                ConversionPolicy(**{flag: bad})
            assert info.value.field == flag


def test_post_conversion_refuses_what_convert_did_not_make() -> None:
    book = PointsLedger()
    book.earn("e1", "v1", 5, at=at(2025, 1, 1), issuer="issuer:default")
    good = convert(hourly(2), ConversionPolicy())
    head = book.journal.head

    def refused(call: Any, field: str) -> None:
        with pytest.raises(InvalidValue) as info:
            call()
        assert info.value.field.startswith(field)
        assert book.journal.head == head

    refused(lambda: post_conversion(None, good), "ledger")  # type: ignore[arg-type]
    refused(lambda: post_conversion(book, good.postings), "conversion")  # type: ignore[arg-type]
    refused(lambda: attrs.evolve(good, rows=None), "rows")
    refused(lambda: attrs.evolve(good, rows=("junk",)), "rows")
    refused(lambda: attrs.evolve(good.rows[0], posting="junk"), "posting")
    # a posting under an id that is not its record's: it could take another operation's id
    legs = attrs.evolve(good.postings[0], id="s1#1")
    forged = attrs.evolve(good, rows=(attrs.evolve(good.rows[0], posting=legs),))
    refused(lambda: post_conversion(book, forged), "conversion")
    # an earning that expires when it is made
    (first,) = good.postings[:1]
    dead = attrs.evolve(first, expires_at=first.at)
    forged = attrs.evolve(good, rows=(attrs.evolve(good.rows[0], posting=dead),))
    refused(lambda: post_conversion(book, forged), "conversion.expires_at")
    assert post_conversion(book, good) == 2
