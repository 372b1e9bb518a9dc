"""The columnar conversion (:mod:`zhiyuan.bulk.points`) against the object path, row for row.

Every property builds certified :class:`HourRow` histories (several volunteers, service dates
across month and year ends and the profiles' start dates, certification times with ties, record
ids whose string order is not their creation order, any evidence, purposes and category), converts
them with :func:`zhiyuan.credit.convert` and with :func:`convert_points` on columns encoded here
independently of the module's helpers, and asks for the same points per row. No wall clock.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import attrs
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from zhiyuan import SHANGHAI
from zhiyuan.bulk.points import (
    EVIDENCE_KINDS,
    NEVER,
    conversion_mask,
    convert_points,
    end_of_day,
    lot_balances,
    record_order,
    spend_lots,
)
from zhiyuan.credit import ClawbackRule, Lot, PointsLedger, fold_balances, owed_account
from zhiyuan.credit.conversion import CONVERSION_PROFILES, ConversionPolicy, Tier, convert
from zhiyuan.errors import InsufficientBalance, InvalidValue
from zhiyuan.hours import Evidence, HourRow, Purpose, Rounding

SH = SHANGHAI
PLACE = "370602001001"
CATEGORIES = ("助老", "助残", "文艺", "环保")
EPOCH = date(1970, 1, 1).toordinal()

# windows of service dates: the default floor, 威海's start, 上海's start, a year end, February
SPANS = (
    (date(2017, 11, 20), 30),
    (date(2018, 10, 25), 14),
    (date(2022, 12, 20), 20),
    (date(2024, 12, 10), 80),
)


# --- strategies ---------------------------------------------------------------------------------


def _minutes(top: int) -> st.SearchStrategy[int]:
    """Whole and half hours mostly (values land on whole points: rounding ties), any minute too."""
    return st.one_of(
        st.integers(0, top // 60).map(lambda h: h * 60),
        st.integers(0, top // 30).map(lambda h: h * 30),
        st.integers(0, top),
    )


def _row_parts(width: int, top: int, *, whole: bool) -> st.SearchStrategy[tuple[Any, ...]]:
    minutes = st.integers(0, top // 60).map(lambda h: h * 60) if whole else _minutes(top)
    return st.tuples(
        st.sampled_from(("v1", "v2", "v3", "v4")),
        st.integers(0, width),  # service day offset
        st.sampled_from(("none", "shared", "local", "utc")),  # how it was certified
        st.integers(0, 10 * 24 * 3600),  # seconds after the service day's 08:00
        st.integers(0, 2),  # which shared instant
        minutes,
        minutes,
        st.sampled_from(EVIDENCE_KINDS),
        st.sampled_from(CATEGORIES),
        st.frozensets(st.sampled_from(list(Purpose))),
    )


@st.composite
def histories(
    draw: st.DrawFn, max_rows: int = 40, max_minutes: int = 720, *, whole_hours: bool = False
) -> list[HourRow]:
    """Certified rows of up to four volunteers, record ids unique but not in creation order.

    Service dates fall in one of :data:`SPANS`; a row is certified at the end of its service day
    (no time), at one of three instants shared by the history (posting times tie and record ids
    decide), or at any second of the ten days after, given in Shanghai time or in UTC.
    """
    start, width = draw(st.sampled_from(SPANS))
    origin = datetime.combine(start, time(0), tzinfo=SH)
    span = (width + 10) * 24 * 3600
    shared = [origin + timedelta(seconds=s) for s in draw(st.tuples(*[st.integers(0, span)] * 3))]
    n = draw(st.integers(0, max_rows))
    parts = draw(
        st.lists(_row_parts(width, max_minutes, whole=whole_hours), min_size=n, max_size=n)
    )
    ids = draw(
        st.lists(st.integers(0, 10_000), min_size=len(parts), max_size=len(parts), unique=True)
    )
    out = []
    for rid, (vid, offset, how, sec, k, minutes, weighted, ev, cat, purposes) in zip(
        ids, parts, strict=True
    ):
        day = start + timedelta(days=offset)
        local = datetime.combine(day, time(8), tzinfo=SH) + timedelta(seconds=sec)
        cert = {"none": None, "shared": shared[k], "local": local, "utc": local.astimezone(UTC)}
        out.append(
            HourRow(
                vid,
                day,
                minutes,
                weighted,
                ev,
                cat,
                purposes,
                PLACE,
                record_id=f"r{rid}",
                certified_at=cert[how],
            )
        )
    return out


@st.composite
def tier_tables(draw: st.DrawFn) -> tuple[Tier, ...]:
    bounds = sorted(draw(st.sets(st.integers(1, 60), max_size=4)))
    hpps = draw(st.lists(st.integers(1, 7), min_size=len(bounds) + 1, max_size=len(bounds) + 1))
    return tuple(
        Tier(up_to_hours=b, hours_per_point=h) for b, h in zip([*bounds, None], hpps, strict=True)
    )


def policies() -> st.SearchStrategy[ConversionPolicy]:
    cap = st.none() | st.integers(1, 40)
    return st.builds(
        lambda tiers, hpp, **kw: ConversionPolicy(
            tiers=tiers, hours_per_point=1 if tiers else hpp, **kw
        ),
        tiers=st.just(()) | tier_tables(),
        hpp=st.integers(1, 7),
        points_per_hour=st.integers(1, 5),
        rounding=st.sampled_from(list(Rounding)),
        carry=st.booleans(),
        weighted=st.booleans(),
        evidence=st.none() | st.frozensets(st.sampled_from(EVIDENCE_KINDS)),
        categories=st.none() | st.frozensets(st.sampled_from(CATEGORIES)),
        category_multipliers=st.dictionaries(
            st.sampled_from(CATEGORIES),
            st.sampled_from((0, 50, 100, 150, 200)) | st.integers(0, 400),
            max_size=4,
        ),
        daily_cap=cap,
        monthly_cap=cap,
        yearly_cap=cap,
        lifetime_cap=st.none() | st.integers(1, 200),
        effective_from=st.sampled_from(
            (date(2017, 12, 1), date(2018, 11, 1), date(2023, 1, 1), date(2025, 1, 1))
        ),
    )


# --- encoding, done here by hand (not with the module's helpers) --------------------------------


def columns(rows: Sequence[HourRow], categories: Sequence[str] = CATEGORIES) -> dict[str, Any]:
    vids = {v: k for k, v in enumerate(sorted({r.volunteer_id for r in rows}))}
    rids = sorted({r.record_id for r in rows if r.record_id is not None})
    rank = {rid: k for k, rid in enumerate(rids)}

    def posting_seconds(r: HourRow) -> int:
        at = r.certified_at or datetime.combine(r.service_date, time(23, 59, 59), tzinfo=SH)
        return int(at.timestamp())

    def ints(values: Sequence[int]) -> np.ndarray[Any, np.dtype[np.int64]]:
        return np.array(values, dtype=np.int64)

    return {
        "volunteer": ints([vids[r.volunteer_id] for r in rows]),
        "service_day": ints([r.service_date.toordinal() - EPOCH for r in rows]),
        "certified_at": ints([posting_seconds(r) for r in rows]),
        "record_order": ints([rank[r.record_id] for r in rows if r.record_id is not None]),
        "minutes": ints([r.minutes for r in rows]),
        "weighted_minutes": ints([r.weighted_minutes for r in rows]),
        "evidence": ints([EVIDENCE_KINDS.index(r.evidence) for r in rows]),
        "points_purpose": np.array([Purpose.POINTS in r.purposes for r in rows], dtype=bool),
        "category": ints([list(categories).index(r.category) for r in rows]),
        "categories": tuple(categories),
    }


def object_points(rows: Sequence[HourRow], policy: ConversionPolicy) -> list[int]:
    """``convert()``'s points per row, in the order of ``rows``."""
    by_id = {r.record_id: r.points for r in convert(rows, policy).rows}
    return [by_id[r.record_id] for r in rows]


def assert_same(rows: Sequence[HourRow], policy: ConversionPolicy) -> list[int]:
    expected = object_points(rows, policy)
    got = convert_points(policy=policy, **columns(rows))
    assert got.dtype == np.int64 and got.shape == (len(rows),)
    assert got.tolist() == expected
    assert int(got.sum()) == convert(rows, policy).points
    per: dict[str, int] = {}
    for r, n in zip(rows, got.tolist(), strict=True):
        if n:
            per[r.volunteer_id] = per.get(r.volunteer_id, 0) + n
    assert per == convert(rows, policy).by_volunteer()
    return expected


# --- the properties -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CONVERSION_PROFILES))
@given(rows=histories())
def test_every_profile_agrees_with_convert_row_for_row(name: str, rows: list[HourRow]) -> None:
    assert_same(rows, CONVERSION_PROFILES[name])


@pytest.mark.parametrize("name", ["weihai", "shanghai_time_bank"])
@given(rows=histories(max_rows=60, max_minutes=3000))
def test_long_histories_cross_the_tiers_and_the_lifetime_cap(
    name: str, rows: list[HourRow]
) -> None:
    assert_same(rows, CONVERSION_PROFILES[name])


@given(histories(), policies())
def test_random_policies_agree_with_convert_row_for_row(
    rows: list[HourRow], policy: ConversionPolicy
) -> None:
    assert_same(rows, policy)


@given(histories(max_rows=60), policies().map(lambda p: attrs.evolve(p, carry=True)))
def test_caps_that_bind_agree_with_convert(rows: list[HourRow], policy: ConversionPolicy) -> None:
    small = attrs.evolve(policy, daily_cap=1, monthly_cap=3, yearly_cap=7, lifetime_cap=9)
    assert_same(rows, small)
    inverted = attrs.evolve(policy, daily_cap=9, monthly_cap=4, yearly_cap=2, lifetime_cap=None)
    assert_same(rows, inverted)


@given(
    histories(max_minutes=900, whole_hours=True),
    st.builds(
        lambda tiers, rounding, pct: ConversionPolicy(
            tiers=tiers, rounding=rounding, category_multipliers={"助残": pct}
        ),
        tier_tables(),
        st.sampled_from((Rounding.UP, Rounding.HALF_UP)),
        st.sampled_from((50, 100, 200)),
    ),
)
def test_whole_hours_land_exactly_on_tier_bounds_and_points(
    rows: list[HourRow], policy: ConversionPolicy
) -> None:
    assert_same(rows, policy)


# tier rates of nearly 10 000 hours a point whose least common multiple is about 10**16
_PRIMES = (9973, 9967, 9949, 9941, 9931, 9929, 9923, 9907)


@given(histories(max_rows=20), st.data())
def test_huge_rates_run_in_python_integers_and_still_agree(
    rows: list[HourRow], data: st.DataObject
) -> None:
    # every rate is bounded (points_per_hour, hours_per_point ≤ 10 000), but the common
    # denominator of coprime tier rates is their product: 6000 × lcm × points_per_hour passes
    # 2**63, so the intermediates cannot be int64
    hpps = data.draw(st.lists(st.sampled_from(_PRIMES), min_size=4, max_size=6, unique=True))
    bounds = sorted(
        data.draw(st.sets(st.integers(1, 30), min_size=len(hpps) - 1, max_size=len(hpps) - 1))
    )
    policy = ConversionPolicy(
        points_per_hour=data.draw(st.integers(1, 10_000)),
        tiers=tuple(
            Tier(up_to_hours=b, hours_per_point=h)
            for b, h in zip([*bounds, None], hpps, strict=True)
        ),
        rounding=data.draw(st.sampled_from(list(Rounding))),
        carry=data.draw(st.booleans()),
        daily_cap=data.draw(st.none() | st.integers(1, 2**20)),
        lifetime_cap=data.draw(st.none() | st.integers(1, 2**25)),
    )
    assert policy.denominator * policy.points_per_hour >= 2**63
    assert_same(rows, policy)


@given(histories(), policies(), st.randoms(use_true_random=False))
def test_the_input_order_does_not_matter(
    rows: list[HourRow], policy: ConversionPolicy, rnd: Any
) -> None:
    shuffled = list(rows)
    rnd.shuffle(shuffled)
    cols = columns(rows)
    perm = [rows.index(r) for r in shuffled]
    moved = {k: v[perm] if isinstance(v, np.ndarray) else v for k, v in cols.items()}
    whole = convert_points(policy=policy, **cols)
    assert convert_points(policy=policy, **moved).tolist() == whole[perm].tolist()


@given(histories(), policies())
def test_converting_by_volunteer_partition_equals_converting_whole(
    rows: list[HourRow], policy: ConversionPolicy
) -> None:
    cols = columns(rows)
    whole = convert_points(policy=policy, **cols)
    pieces = np.zeros(len(rows), dtype=np.int64)
    for v in np.unique(cols["volunteer"]):
        part = np.flatnonzero(cols["volunteer"] == v)
        sub = {k: x[part] if isinstance(x, np.ndarray) else x for k, x in cols.items()}
        pieces[part] = convert_points(policy=policy, **sub)
    assert pieces.tolist() == whole.tolist()


@given(
    histories(),
    policies(),
    st.sampled_from((1, 2**40, 2**60)),
    st.sampled_from((1, 2**20, 2**40)),
    st.integers(-(2**40), 2**40),
)
def test_codes_may_be_spread_over_the_whole_int64_range(
    rows: list[HourRow], policy: ConversionPolicy, v_spread: int, o_spread: int, shift: int
) -> None:
    # order-preserving recodings: when the combined sort key no longer fits int64 the sort
    # falls back to (volunteer, time) with record order in the runs, ranking times and then
    # volunteers first when even that key does not fit
    cols = columns(rows)
    cols["record_order"] = cols["record_order"] * o_spread + shift
    cols["certified_at"] = cols["certified_at"] * 1_000_000
    cols["volunteer"] = cols["volunteer"] * v_spread - shift
    assert convert_points(policy=policy, **cols).tolist() == object_points(rows, policy)


@given(histories(), policies())
def test_the_mask_is_the_policys_converts(rows: list[HourRow], policy: ConversionPolicy) -> None:
    cols = columns(rows)
    mask = conversion_mask(
        policy,
        service_day=cols["service_day"],
        evidence=cols["evidence"],
        points_purpose=cols["points_purpose"],
        category=cols["category"],
        categories=CATEGORIES,
    )
    assert mask.tolist() == [policy.converts(r) for r in rows]


@given(histories(), policies())
def test_an_evidence_coding_of_ones_own_gives_the_same_points(
    rows: list[HourRow], policy: ConversionPolicy
) -> None:
    kinds = tuple(reversed(EVIDENCE_KINDS))
    cols = columns(rows)
    cols["evidence"] = np.array([kinds.index(r.evidence) for r in rows], dtype=np.int64)
    got = convert_points(policy=policy, evidence_kinds=kinds, **cols)
    assert got.tolist() == object_points(rows, policy)


@given(histories())
def test_the_helpers_encode_as_convert_orders(rows: list[HourRow]) -> None:
    cols = columns(rows)
    ids = [r.record_id for r in rows]
    assert record_order(ids).tolist() == cols["record_order"].tolist()
    no_time = [r._replace(certified_at=None) for r in rows]
    assert end_of_day(cols["service_day"]).tolist() == columns(no_time)["certified_at"].tolist()


@given(st.lists(st.text(max_size=6) | st.text(max_size=3).map(lambda t: t + "\x00")))
def test_record_order_follows_python_string_order(ids: list[str]) -> None:
    ranks = record_order(ids).tolist()
    for a, ra in zip(ids, ranks, strict=True):
        for b, rb in zip(ids, ranks, strict=True):
            assert (a < b) == (ra < rb) and (a == b) == (ra == rb)


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)))
def test_end_of_day_is_235959_in_shanghai_even_under_old_daylight_saving(day: date) -> None:
    expected = datetime.combine(day, time(23, 59, 59), tzinfo=SH).timestamp()
    assert end_of_day([day.toordinal() - EPOCH]).tolist() == [int(expected)]


@given(histories(max_rows=25), policies(), st.sampled_from(("us", "ns")))
def test_fractions_of_a_second_count_given_as_datetime64(
    rows: list[HourRow], policy: ConversionPolicy, unit: str
) -> None:
    # certifications a fraction of a second apart: convert() orders by them, and so must we
    rows = [
        r._replace(certified_at=r.certified_at + timedelta(microseconds=k * 7919 % 1_000_000))
        if r.certified_at is not None
        else r
        for k, r in enumerate(rows)
    ]
    cols = columns(rows)

    def micros(r: HourRow) -> int:
        at = r.certified_at or datetime.combine(r.service_date, time(23, 59, 59), tzinfo=SH)
        return (at - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)

    stamps = np.array([micros(r) for r in rows], dtype="datetime64[us]").astype(
        f"datetime64[{unit}]"
    )
    cols["certified_at"] = stamps
    assert convert_points(policy=policy, **cols).tolist() == object_points(rows, policy)
    cols["certified_at"] = stamps.astype("datetime64[s]")  # whole seconds, as integers
    whole = columns(
        [
            r._replace(certified_at=r.certified_at and r.certified_at.replace(microsecond=0))
            for r in rows
        ]
    )
    assert (
        convert_points(policy=policy, **cols).tolist()
        == convert_points(policy=policy, **whole).tolist()
    )


# the clock went back from 02:00 to 01:00 on 1990-09-16 (daylight saving, 1986–1991)
SET_BACK = datetime(1990, 9, 15, 17, tzinfo=UTC)


def test_convert_orders_the_repeated_hour_by_wall_clock_so_it_is_refused() -> None:
    policy = ConversionPolicy(effective_from=date(1986, 1, 1), hours_per_point=2)
    day = date(1990, 9, 15)
    first = one_day(1, day=day)[0]._replace(
        record_id="a", certified_at=SET_BACK - timedelta(minutes=30)
    )
    later = first._replace(record_id="b", certified_at=SET_BACK + timedelta(minutes=10))
    assert first.certified_at is not None and later.certified_at is not None
    assert first.certified_at < later.certified_at  # as instants
    # … but convert() sees 01:30 (summer time) after 01:10 (standard time)
    assert object_points([first, later], policy) == [1, 0]
    with pytest.raises(NotImplementedError, match="repeats"):
        convert_points(policy=policy, **columns([first, later]))
    # an hour either side, the clocks agree and so do the two paths
    early = first._replace(certified_at=SET_BACK - timedelta(hours=1, seconds=1))
    late = later._replace(certified_at=SET_BACK + timedelta(hours=1))
    assert assert_same([early, late], policy) == [0, 1]


@given(
    st.lists(
        st.tuples(
            st.sampled_from(("v1", "v2")),
            st.integers(-3 * 3600, 3 * 3600),
            st.sampled_from((30, 60, 90)),
        ),
        max_size=12,
    ),
    policies(),
)
def test_around_a_set_back_clock_the_paths_agree_or_the_columns_refuse(
    parts: list[tuple[str, int, int]], policy: ConversionPolicy
) -> None:
    policy = attrs.evolve(policy, effective_from=date(1986, 1, 1))
    rows = [
        one_day(1, minutes, day=date(1990, 9, 15))[0]._replace(
            volunteer_id=vid, record_id=f"r{k}", certified_at=SET_BACK + timedelta(seconds=sec)
        )
        for k, (vid, sec, minutes) in enumerate(parts)
    ]
    try:
        got = convert_points(policy=policy, **columns(rows))
    except NotImplementedError:
        hour = timedelta(hours=1)
        assert any(
            policy.converts(r) and -hour <= (r.certified_at or SET_BACK) - SET_BACK < hour
            for r in rows
        )
    else:
        assert got.tolist() == object_points(rows, policy)


# --- examples -----------------------------------------------------------------------------------


def one_day(n: int, minutes: int = 60, day: date = date(2025, 6, 2)) -> list[HourRow]:
    return [
        HourRow(
            "v1",
            day,
            minutes,
            minutes,
            Evidence.QR_SCAN,
            "助老",
            frozenset({Purpose.POINTS}),
            PLACE,
            record_id=f"r{i}",
            certified_at=datetime.combine(day, time(12 + i), tzinfo=SH),
        )
        for i in range(n)
    ]


def test_shanghai_two_coins_a_day_the_third_hour_gives_zero() -> None:
    rows = one_day(3)
    assert assert_same(rows, CONVERSION_PROFILES["shanghai_time_bank"]) == [1, 1, 0]


def test_weihai_tier_boundary_inside_one_record() -> None:
    rows = one_day(2, minutes=19 * 60 + 30)  # 39 h: 20 at 1/h, 19 at 1 per 2 h
    assert assert_same(rows, CONVERSION_PROFILES["weihai"]) == [19, 10]


@pytest.mark.parametrize(
    ("rounding", "carry", "expected"),
    [
        (Rounding.DOWN, True, [0, 1, 0, 1]),
        (Rounding.UP, True, [1, 0, 1, 0]),
        (Rounding.HALF_UP, True, [1, 0, 1, 0]),  # ½ rounds up
        (Rounding.HALF_UP, False, [1, 1, 1, 1]),
        (Rounding.DOWN, False, [0, 0, 0, 0]),
    ],
)
def test_rounding_modes_on_half_hours(rounding: Rounding, carry: bool, expected: list[int]) -> None:
    rows = [
        one_day(1, minutes=30, day=date(2025, 6, d))[0]._replace(record_id=f"r{d}")
        for d in (1, 2, 3, 4)
    ]
    assert assert_same(rows, ConversionPolicy(rounding=rounding, carry=carry)) == expected


def test_rounding_up_just_past_a_tier_boundary() -> None:
    # 20 h at 1/h, then 2 h at 1 per 2 h: exactly 21, which rounds up to 21, not 22
    policy = attrs.evolve(CONVERSION_PROFILES["weihai"], rounding=Rounding.UP)
    rows = [*one_day(1, minutes=20 * 60), *one_day(1, minutes=120, day=date(2025, 6, 3))]
    rows[1] = rows[1]._replace(record_id="s1")
    assert assert_same(rows, policy) == [20, 1]


def test_nothing_in_nothing_out() -> None:
    got = convert_points(policy=ConversionPolicy(), **columns([]))
    assert got.dtype == np.int64 and got.tolist() == []
    bare = {k: [] for k in columns([])} | {"categories": ()}  # plain empty lists are float arrays
    assert convert_points(policy=ConversionPolicy(), **bare).tolist() == []


def test_a_large_seeded_history_agrees_for_every_profile() -> None:
    rng = np.random.default_rng(20250601)
    n = 3000
    start = date(2024, 11, 1)
    rows = [
        HourRow(
            f"v{rng.integers(0, 15)}",
            start + timedelta(days=int(rng.integers(0, 120))),
            int(rng.integers(0, 600)),
            int(rng.integers(0, 600)),
            EVIDENCE_KINDS[int(rng.integers(0, len(EVIDENCE_KINDS)))],
            CATEGORIES[int(rng.integers(0, len(CATEGORIES)))],
            frozenset({Purpose.POINTS}) if rng.random() < 0.8 else frozenset(),
            PLACE,
            record_id=f"r{i}",
            certified_at=None
            if rng.random() < 0.2
            else datetime(2024, 11, 1, tzinfo=SH) + timedelta(hours=int(rng.integers(0, 3000))),
        )
        for i in range(n)
    ]
    capped = ConversionPolicy(
        daily_cap=3,
        monthly_cap=20,
        yearly_cap=45,
        lifetime_cap=60,
        category_multipliers={"助残": 150},
    )
    for policy in [*CONVERSION_PROFILES.values(), capped]:
        assert_same(rows, policy)


# --- bad input ----------------------------------------------------------------------------------


def test_bad_columns_are_refused_with_the_column_named() -> None:
    rows = one_day(3)
    good = columns(rows)
    p = ConversionPolicy()
    for key, bad, field in [
        ("minutes", np.array([60, -1, 60]), "minutes"),
        ("minutes", np.array([60, 60]), "minutes"),
        ("minutes", np.array([60.0, 60.0, 60.0]), "minutes"),
        ("category", np.array([0, 9, 0]), "category"),
        ("evidence", np.array([0, -1, 0]), "evidence"),
        ("points_purpose", np.array([1, 1, 1]), "points_purpose"),
        ("points_purpose", np.array([True, True]), "points_purpose"),
        ("volunteer", np.zeros((3, 1), dtype=np.int64), "volunteer"),
        ("record_order", np.array([0, 0, 1]), "record_order"),
    ]:
        cols = {**good, key: bad}
        if key == "record_order":  # the same record twice: same volunteer, time and order
            cols["certified_at"] = np.full(3, good["certified_at"][0])
        with pytest.raises(InvalidValue) as info:
            convert_points(policy=p, **cols)
        assert info.value.field == field
    with pytest.raises(InvalidValue, match="9223372036854775808"):
        convert_points(policy=p, **{**good, "certified_at": np.array([2**63] * 3, dtype=np.uint64)})
    with pytest.raises(InvalidValue):
        record_order(["r1", 2])
    stamps = good["certified_at"].astype("datetime64[s]")
    for bad in (
        stamps[:2],
        np.array([stamps[0], "NaT", stamps[2]]),
        stamps.astype("datetime64[ps]"),
    ):
        with pytest.raises(InvalidValue) as info:
            convert_points(policy=p, **{**good, "certified_at": bad})
        assert info.value.field == "certified_at"
    minutes_ = stamps.astype("datetime64[m]")  # coarser units are taken as seconds
    as_ints = {**good, "certified_at": minutes_.astype(np.int64) * 60}
    assert (
        convert_points(policy=p, **{**good, "certified_at": minutes_}).tolist()
        == convert_points(policy=p, **as_ints).tolist()
    )
    cols = {**good}
    del cols["weighted_minutes"]
    with pytest.raises(InvalidValue, match="weighted_minutes"):
        convert_points(policy=ConversionPolicy(weighted=True), **cols)


def test_the_same_time_and_order_under_two_volunteers_is_no_tie() -> None:
    rows = one_day(2)
    cols = columns(rows)
    cols["certified_at"] = np.full(2, cols["certified_at"][0])
    cols["record_order"] = np.zeros(2, dtype=np.int64)
    cols["volunteer"] = np.array([0, 1])
    assert convert_points(policy=ConversionPolicy(), **cols).tolist() == [1, 1]


def test_rates_and_minutes_that_could_pass_int64_are_refused_up_front() -> None:
    # rates and caps are bounded by the policy, minutes by the columns (and by convert()), so
    # no row's points nor any running sum can pass int64
    with pytest.raises(InvalidValue, match="points_per_hour"):
        ConversionPolicy(points_per_hour=2**62)
    with pytest.raises(InvalidValue, match="daily_cap"):
        ConversionPolicy(daily_cap=2**62)
    rows = one_day(1, minutes=120)
    cols = columns(rows)
    with pytest.raises(InvalidValue) as info:
        convert_points(policy=ConversionPolicy(), **{**cols, "minutes": np.array([2**60])})
    assert info.value.field == "minutes"
    with pytest.raises(InvalidValue) as info:
        convert([rows[0]._replace(minutes=2**60)], ConversionPolicy())
    assert info.value.field == "minutes"


def test_a_row_worth_more_than_a_posting_holds_is_refused_by_both_paths() -> None:
    # a year of minutes at 100 × and 10 000 points an hour: 8 760 000 000 points, more than one
    # posting may carry (MAX_AMOUNT): convert() cannot post it, so neither path returns it
    rows = [one_day(1)[0]._replace(minutes=525_600, weighted_minutes=525_600)]
    policy = ConversionPolicy(points_per_hour=10_000, category_multipliers={CATEGORIES[0]: 10_000})
    assert rows[0].category == CATEGORIES[0]
    with pytest.raises(InvalidValue) as info:
        convert(rows, policy)
    assert info.value.field == "amount"
    with pytest.raises(InvalidValue) as info:
        convert_points(policy=policy, **columns(rows))
    assert info.value.field == "amount"


def test_the_minutes_dtype_may_be_any_integer() -> None:
    rows = one_day(3, minutes=90)
    cols = columns(rows)
    cols["minutes"] = cols["minutes"].astype(np.uint16)
    cols["points_purpose"] = cols["points_purpose"].tolist()
    assert convert_points(policy=ConversionPolicy(), **cols).tolist() == [1, 2, 1]


# --- the points ledger, columnar: spend_lots and lot_balances against PointsLedger (issue 14) ------

LOT_VOLS = ("v1", "v2", "v3")
LT0 = datetime(2025, 1, 1, tzinfo=SH)


def hours_after(h: int) -> datetime:
    return LT0 + timedelta(hours=h)


@st.composite
def lot_ledgers(draw: st.DrawFn) -> PointsLedger:
    """Earnings of three volunteers at few distinct hours (ties in expiry and earning are
    common), pending or not, expiring or not, posted out of date order; some spending; perhaps a
    reversal that leaves a debt. Everything happens by hour 100."""
    book = PointsLedger()
    n = draw(st.integers(1, 14))
    for k in range(n):
        at = hours_after(draw(st.sampled_from((0, 5, 24, 30, 60, 90))))
        pending = draw(st.none() | st.sampled_from((0, 10, 48, 72)))
        life = draw(st.none() | st.sampled_from((1, 40, 70, 100, 150)))
        book.earn(
            f"e{k}",
            draw(st.sampled_from(LOT_VOLS)),
            draw(st.integers(1, 50)),
            at=at,
            issuer="issuer:x",
            available_from=None if pending is None else at + timedelta(hours=pending),
            expires_at=None if life is None else at + timedelta(hours=life),
        )
    for k in range(draw(st.integers(0, 4))):
        with contextlib.suppress(InsufficientBalance):
            book.spend(
                f"s{k}",
                draw(st.sampled_from(LOT_VOLS)),
                draw(st.integers(1, 40)),
                at=hours_after(draw(st.integers(0, 99))),
            )
    if draw(st.booleans()):
        book.reverse_earning(
            f"e{draw(st.integers(0, n - 1))}",
            at=hours_after(100),
            reason="r",
            rule=draw(st.sampled_from(ClawbackRule)),
        )
    return book


def lot_columns(book: PointsLedger, *, encoding: str) -> tuple[list[Lot], dict[str, Any]]:
    """Every open lot, in the ledger's posting order (volunteers interleaved), as columns."""
    order = {p.id: k for k, p in enumerate(book.postings)}
    lots = sorted((x for v in LOT_VOLS for x in book.lots(v)), key=lambda x: order[x.id])

    def moments(values: list[datetime | None]) -> Any:
        if encoding == "seconds":
            return np.array([NEVER if x is None else int(x.timestamp()) for x in values])
        naive = [None if x is None else x.astimezone(UTC).replace(tzinfo=None) for x in values]
        return np.array(naive, dtype="datetime64[us]")

    return lots, {
        "volunteer": np.array([LOT_VOLS.index(x.account.removeprefix("volunteer:")) for x in lots]),
        "remaining": np.array([x.remaining for x in lots], dtype=np.int64),
        "opened_at": moments([x.opened_at for x in lots]),
        "available_from": moments([x.available_from for x in lots]),
        "expires_at": moments([x.expires_at for x in lots]),
    }


@given(lot_ledgers(), st.data())
def test_spend_lots_takes_what_the_ledger_spends(book: PointsLedger, data: st.DataObject) -> None:
    at = hours_after(data.draw(st.integers(100, 260)))
    spenders = data.draw(st.lists(st.sampled_from(LOT_VOLS), unique=True, min_size=1))
    amounts = data.draw(
        st.lists(st.integers(1, 80), min_size=len(spenders), max_size=len(spenders))
    )
    encoding = data.draw(st.sampled_from(("seconds", "datetime64")))
    lots, cols = lot_columns(book, encoding=encoding)
    owed = [book.balance(owed_account(v)) for v in spenders]
    bulk = spend_lots(
        **cols,
        spender=np.array([LOT_VOLS.index(v) for v in spenders]),
        amount=np.array(amounts),
        at=at if encoding == "datetime64" else int(at.timestamp()),
        owed=np.array(owed),
    )
    taken: dict[str, int] = {}
    done = []
    for v, n in zip(spenders, amounts, strict=True):
        try:
            out = book.spend(f"x-{v}", v, n, at=at)
        except InsufficientBalance:
            done.append(False)
            continue
        done.append(True)
        for p in out:
            assert p.lot is not None
            taken[p.lot] = taken.get(p.lot, 0) + p.amount
    assert bulk.done.tolist() == done
    assert bulk.taken.tolist() == [taken.get(x.id, 0) for x in lots]
    assert int(bulk.taken.sum()) == sum(n for n, ok in zip(amounts, done, strict=True) if ok)


@given(lot_ledgers(), st.integers(100, 260), st.integers(0, 10))
def test_lot_balances_are_the_ledgers_fold(book: PointsLedger, h: int, within: int) -> None:
    as_of = hours_after(h)  # after every posting of the ledger
    _, cols = lot_columns(book, encoding="datetime64")
    got = lot_balances(
        volunteer=cols["volunteer"],
        remaining=cols["remaining"],
        available_from=cols["available_from"],
        expires_at=cols["expires_at"],
        as_of=as_of,
        within_days=within,
    )
    rows = {LOT_VOLS[c]: k for k, c in enumerate(got.volunteer.tolist())}
    for v in LOT_VOLS:
        want = fold_balances(book.postings, v, as_of=as_of, within_days=within)
        k = rows.get(v)
        have = (0, 0, 0, 0) if k is None else tuple(int(a[k]) for a in got[1:])
        assert have == (want.available, want.pending, want.expiring_soon, want.expired_unswept)


def test_a_january_lot_posted_after_a_march_lot_goes_first_in_both_paths() -> None:
    book = PointsLedger()
    year_end = datetime(2026, 1, 1, tzinfo=SH)
    book.earn("mar", "v1", 10, at=datetime(2025, 3, 1, tzinfo=SH), issuer="i", expires_at=year_end)
    book.earn("jan", "v1", 10, at=datetime(2025, 1, 15, tzinfo=SH), issuer="i", expires_at=year_end)
    lots, cols = lot_columns(book, encoding="seconds")
    assert [x.id for x in lots] == ["mar", "jan"]
    at = datetime(2025, 4, 1, tzinfo=SH)
    got = spend_lots(**cols, spender=[0], amount=[15], at=at)
    assert (got.taken.tolist(), got.done.tolist()) == ([5, 10], [True])
    assert [(p.lot, p.amount) for p in book.spend("s1", "v1", 15, at=at)] == [
        ("jan", 10),
        ("mar", 5),
    ]


def _lot_cols(n: int = 2) -> dict[str, Any]:
    t = int(datetime(2025, 1, 1, tzinfo=SH).timestamp())
    return {
        "volunteer": np.zeros(n, dtype=np.int64),
        "remaining": np.full(n, 5),
        "opened_at": np.full(n, t),
        "available_from": np.full(n, t),
        "expires_at": np.full(n, NEVER),
    }


_AT = datetime(2025, 2, 1, tzinfo=SH)


@pytest.mark.parametrize(
    ("field", "change"),
    [
        ("remaining", {"remaining": np.array([5, -1])}),
        ("remaining", {"remaining": np.array([5.0, 1.0])}),
        ("remaining", {"remaining": np.array([5, 10**10])}),
        ("remaining", {"remaining": np.array([5])}),
        ("volunteer", {"volunteer": np.zeros((2, 1), dtype=np.int64)}),
        ("volunteer", {"volunteer": np.array(["a", "b"])}),
        ("opened_at", {"opened_at": np.array([NEVER, NEVER])}),
        ("opened_at", {"opened_at": np.array([0, -(10**12)])}),
        ("available_from", {"available_from": np.array([1.5, 2.5])}),
        ("expires_at", {"expires_at": np.array([2**62, NEVER])}),
        ("spender", {"spender": np.array([0, 0]), "amount": np.array([1, 1])}),
        ("amount", {"amount": np.array([0])}),
        ("amount", {"amount": np.array([10**10])}),
        ("amount", {"amount": np.array([1, 2])}),
        ("owed", {"owed": np.array([1])}),
        ("owed", {"owed": np.array([-(2**63) + 1])}),
        ("at", {"at": datetime(2025, 2, 1)}),
        ("at", {"at": datetime(1, 1, 1, tzinfo=UTC)}),
        ("at", {"at": "2025-02-01"}),
        ("at", {"at": True}),
        ("at", {"at": None}),
    ],
    ids=repr,
)
def test_spend_lots_refuses_bad_columns_naming_them(field: str, change: dict[str, Any]) -> None:
    args: dict[str, Any] = {**_lot_cols(), "spender": [0], "amount": [3], "at": _AT, **change}
    with pytest.raises(InvalidValue) as info:
        spend_lots(**args)
    assert info.value.field == field


@pytest.mark.parametrize(
    ("field", "change"),
    [
        ("within_days", {"within_days": 10**10}),
        ("within_days", {"within_days": -1}),
        ("within_days", {"within_days": 1.5}),
        ("within_days", {"within_days": True}),
        ("as_of", {"as_of": datetime(9999, 1, 1, tzinfo=SH)}),
        ("as_of", {"as_of": None}),
        ("remaining", {"remaining": [1, None]}),
    ],
    ids=repr,
)
def test_lot_balances_refuses_bad_arguments_naming_them(field: str, change: dict[str, Any]) -> None:
    cols = _lot_cols()
    del cols["opened_at"]
    with pytest.raises(InvalidValue) as info:
        lot_balances(**{**cols, "as_of": _AT, **change})
    assert info.value.field == field
