"""``zhiyuan.bulk.evaluate_hours`` against the object path: posting the same records, in the same
order, into an :class:`~zhiyuan.hours.HourLedger` under the same policy must give the same served,
counted and weighted minutes, status, rejecting rule and purposes for every row.

Histories are random: a few volunteers, overlapping records, records across midnight (and over
several days), sub-minute times, schedules and missed check-outs, late entries, every evidence
kind and an excluded category. Most histories come in start order (the vector path's home
ground); the rest are shuffled (the per-volunteer loop's).
"""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from typing import Any

import pytest

np = pytest.importorskip("numpy")

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from support.columnar import NOW, NOW_S, SH, as_columns, assert_same, ts  # noqa: E402
from zhiyuan.bulk import (  # noqa: E402
    EVIDENCE,
    NONE,
    PURPOSES,
    REJECTING_RULES,
    STATUSES,
    Columns,
    NotVectorized,
    check_policy,
    counted_rows,
    evaluate_hours,
    evaluate_hours_frame,
)
from zhiyuan.errors import InvalidValue, ZhiyuanError  # noqa: E402
from zhiyuan.hours import (  # noqa: E402
    HOUR_PROFILES,
    Evidence,
    HourPolicy,
    Overflow,
    OverlapRule,
    Rounding,
    Status,
)

CATEGORIES = ("助老", "环保", "会议", "助残")


# --- random histories --------------------------------------------------------------------------


@st.composite
def histories(
    draw: st.DrawFn,
    *,
    shuffled: bool | None = None,
    whole_minutes: bool | None = None,
    windows: bool = True,
) -> list[dict[str, Any]]:
    """A few volunteers' records: overlaps, midnight spans, schedules (starting with the record
    or, with ``windows``, around it), late entries."""
    n_vol = draw(st.integers(1, 3))
    whole = draw(st.booleans()) if whole_minutes is None else whole_minutes
    rows = []
    for _ in range(draw(st.integers(0, 16))):
        start = ts(1, 0) + draw(st.integers(0, 3 * 24 * 60)) * 60
        minutes = draw(
            st.one_of(
                st.integers(1, 240),  # an ordinary activity
                st.integers(240, 900),  # a long day or a night shift
                st.integers(900, 3000),  # over several days
                st.integers(0, 0),  # under a minute
            )
        )
        seconds = minutes * 60
        if not whole:
            start += draw(st.integers(0, 59))
            seconds += draw(st.integers(0, 59))
        seconds = max(seconds, 60 if whole else 1)
        end = start + seconds
        recorded = draw(st.one_of(st.just(NONE), st.integers(0, 50 * 86400)))
        sched = draw(st.one_of(st.just(NONE), st.integers(0, 600)))
        planned = NONE  # the schedule starts with the row, or somewhere around it
        if windows and sched != NONE and draw(st.booleans()):
            planned = start + draw(st.integers(-300 * 60, 300 * 60)) + draw(st.integers(0, 59))
        rows.append(
            {
                "volunteer": f"v{draw(st.integers(0, n_vol - 1))}",
                "start": start,
                "end": end,
                "evidence": draw(st.sampled_from(EVIDENCE)).value,
                "category": draw(st.sampled_from(CATEGORIES)),
                "scheduled_minutes": sched,
                "scheduled_start": planned,
                "checkout_missing": draw(st.booleans()),
                "recorded_at": NONE if recorded == NONE else min(end + recorded, NOW_S),
            }
        )
    mix = draw(st.integers(0, 3)) == 0 if shuffled is None else shuffled
    if not mix:
        rows.sort(key=lambda r: r["start"])
    return rows


@st.composite
def policies(draw: st.DrawFn) -> HourPolicy:
    """Random hour policies with every rule the columnar path covers."""
    unit = draw(st.sampled_from((1, 1, 15, 30, 60)))
    cap = draw(st.one_of(st.none(), st.integers(1, 12).map(lambda k: k * 60)))
    return HourPolicy(
        name="random",
        unit_minutes=unit,
        rounding=draw(st.sampled_from(Rounding)),
        record_cap_minutes=draw(st.one_of(st.none(), st.integers(1, 8).map(lambda k: k * 60))),
        schedule_capped=draw(st.frozensets(st.sampled_from(Evidence))),
        daily_cap_minutes=cap,
        over_daily_cap=draw(st.sampled_from(Overflow)),
        overlap=draw(st.sampled_from(OverlapRule)),
        deadline_days=draw(st.one_of(st.none(), st.integers(0, 40))),
        late=draw(st.sampled_from((Overflow.REJECT, Overflow.APPROVAL))),
        max_span_minutes=draw(st.integers(30, 4000)),
        excluded_categories=draw(st.frozensets(st.sampled_from(CATEGORIES), max_size=2)),
        category_weights=draw(
            st.dictionaries(st.sampled_from(CATEGORIES), st.integers(0, 300), max_size=3)
        ),
        counts_toward=draw(
            st.fixed_dictionaries(
                {p.value: st.frozensets(st.sampled_from(Evidence)) for p in PURPOSES}
            )
        ),
    )


SUPPORTED = ("national", "hailin", "university", "guangdong", "jindu")


@pytest.mark.parametrize("profile", SUPPORTED)
@given(rows=histories())
def test_profiles_agree_with_the_ledger(profile: str, rows: list[dict[str, Any]]) -> None:
    assert_same(rows, HOUR_PROFILES[profile])


@settings(max_examples=300)
@given(rows=histories(), policy=policies())
def test_random_policies_agree_with_the_ledger(
    rows: list[dict[str, Any]], policy: HourPolicy
) -> None:
    assert_same(rows, policy)


@pytest.mark.parametrize("profile", ("national", "guangdong", "jindu"))
@given(rows=histories(shuffled=False, whole_minutes=True, windows=False))
def test_whole_minutes_in_start_order_never_need_the_loop(
    profile: str, rows: list[dict[str, Any]]
) -> None:
    """No daily cap that trims, whole minutes, start order: the vector path is exact alone."""
    got = assert_same(rows, HOUR_PROFILES[profile])
    assert got is None or not got.fallback.any()


@given(rows=histories(shuffled=True))
def test_shuffled_histories_agree_with_fallback_off_or_on(rows: list[dict[str, Any]]) -> None:
    policy = HOUR_PROFILES["university"]
    got = assert_same(rows, policy)
    if got is not None and got.fallback.any():
        with pytest.raises(NotVectorized):
            evaluate_hours(as_columns(rows), policy, now=NOW, fallback=False)


# --- worked examples ---------------------------------------------------------------------------


def rec(v: str, start: int, end: int, **kw: Any) -> dict[str, Any]:
    """A QR-scanned 助老 record, entered when it ended (unless ``recorded_at`` says otherwise)."""
    row = {
        "volunteer": v,
        "start": start,
        "end": end,
        "evidence": "qr_scan",
        "category": "助老",
        "scheduled_minutes": NONE,
        "checkout_missing": False,
        "recorded_at": end,
    }
    row.update(kw)
    return row


def test_trim_in_start_order_is_the_running_maximum() -> None:
    rows = [
        rec("a", ts(1, 9), ts(1, 12)),
        rec("a", ts(1, 10), ts(1, 11)),  # inside: 0
        rec("a", ts(1, 11, 30), ts(1, 13)),  # from 12:00: 60
        rec("b", ts(1, 10), ts(1, 11)),  # another volunteer: untouched
        rec("a", ts(1, 14), ts(1, 15)),
    ]
    got = assert_same(rows, HOUR_PROFILES["national"])
    assert got.counted_minutes.tolist() == [180, 0, 60, 60, 60]
    assert not got.fallback.any()


def test_records_out_of_start_order_go_to_the_loop_and_stay_exact() -> None:
    rows = [
        rec("a", ts(1, 14), ts(1, 16)),
        rec("a", ts(1, 9), ts(1, 15)),  # earlier start, meets 14:00–16:00 in the middle
        rec("b", ts(1, 9), ts(1, 10)),
    ]
    got = assert_same(rows, HOUR_PROFILES["national"])
    assert got.counted_minutes.tolist() == [120, 300, 60]
    assert got.fallback.tolist() == [True, True, False]
    with pytest.raises(NotVectorized, match=r"hours\.overlap"):
        evaluate_hours(as_columns(rows), HOUR_PROFILES["national"], now=NOW, fallback=False)


def test_a_piece_rounded_to_nothing_does_not_hold_its_time() -> None:
    """海林: 40 trimmed minutes round down to 0, so the next record may count that time."""
    rows = [
        rec("a", ts(1, 9), ts(1, 10)),
        rec("a", ts(1, 9, 30), ts(1, 10, 40)),  # 40 min left → 0 h: not held
        rec("a", ts(1, 10), ts(1, 11)),  # counts the full hour
    ]
    got = assert_same(rows, HOUR_PROFILES["hailin"])
    assert got.counted_minutes.tolist() == [60, 0, 60]
    assert got.fallback.all()


def test_university_daily_cap_is_a_clipped_running_sum() -> None:
    rows = [
        rec("a", ts(2, 8), ts(2, 12, 10)),  # 250 → 240
        rec("a", ts(2, 13), ts(2, 17, 20)),  # 260 → 240 (day full: 480)
        rec("a", ts(2, 18), ts(2, 19)),  # 0: the day is full
        rec("a", ts(3, 8), ts(3, 9)),  # a new day
    ]
    got = assert_same(rows, HOUR_PROFILES["university"])
    assert got.counted_minutes.tolist() == [240, 240, 0, 60]
    assert not got.fallback.any()


def test_guangdong_sends_the_ninth_hour_for_approval() -> None:
    rows = [
        rec("a", ts(2, 8), ts(2, 15)),
        rec("a", ts(2, 16), ts(2, 18)),  # 420 + 120 > 480: needs approval, all minutes stay
        rec("a", ts(2, 22), ts(3, 2)),  # across midnight: no room for the 2nd's 120: approval
    ]
    got = assert_same(rows, HOUR_PROFILES["guangdong"])
    assert [STATUSES[s] for s in got.status] == [
        Status.ACCEPTED,
        Status.NEEDS_APPROVAL,
        Status.NEEDS_APPROVAL,
    ]
    assert got.counted_minutes.tolist() == [420, 120, 240]


def test_midnight_span_under_a_trimming_cap_is_exact() -> None:
    rows = [
        rec("a", ts(2, 9), ts(2, 17)),  # the 2nd is full
        rec("a", ts(2, 21), ts(3, 3)),  # 180 on the 2nd (no room), 180 on the 3rd
        rec("a", ts(3, 9), ts(3, 16)),  # 420 on the 3rd, 300 left
    ]
    got = assert_same(rows, HOUR_PROFILES["university"])
    assert got.counted_minutes.tolist() == [480, 180, 300]


def test_rejections_name_their_rule() -> None:
    policy = HourPolicy(
        excluded_categories={"会议"},
        max_span_minutes=600,
        deadline_days=3,
        overlap=OverlapRule.REJECT,
    )
    rows = [
        rec("a", ts(1, 9), ts(1, 10), category="会议"),
        rec("a", ts(1, 0), ts(1, 11)),  # 660 min
        rec("a", ts(1, 12), ts(1, 13), recorded_at=ts(9, 12)),  # 8 days late
        rec("a", ts(2, 9), ts(2, 11)),
        rec("a", ts(2, 10), ts(2, 12)),  # overlaps
    ]
    got = assert_same(rows, policy)
    names = [REJECTING_RULES[r] if r >= 0 else None for r in got.rejected_by]
    assert names == ["hours.category", "hours.span", "hours.deadline", None, "hours.overlap"]


def test_schedule_cap_and_weights() -> None:
    policy = HourPolicy(category_weights={"助老": 150})
    rows = [
        rec("a", ts(1, 9), ts(1, 13), evidence="admin_topup", scheduled_minutes=90),
        rec("a", ts(2, 9), ts(2, 13), checkout_missing=True, scheduled_minutes=120),
        rec("a", ts(3, 9), ts(3, 13), scheduled_minutes=60),  # QR: not capped
    ]
    got = assert_same(rows, policy)
    assert got.counted_minutes.tolist() == [90, 120, 240]
    assert got.weighted_minutes.tolist() == [135, 180, 360]


# --- inputs ------------------------------------------------------------------------------------


def test_dataframes_numpy_and_arrow_give_the_same_answer() -> None:
    pd = pytest.importorskip("pandas")
    rows = [
        rec("v2", ts(1, 9), ts(1, 12)),
        rec("v1", ts(1, 23), ts(2, 1), evidence="gps", category="环保"),
        rec("v2", ts(1, 11), ts(1, 13), recorded_at=ts(2, 9)),
    ]
    plain = evaluate_hours(as_columns(rows), HOUR_PROFILES["university"], now=NOW)
    frame = pd.DataFrame(as_columns(rows))
    frame["start"] = pd.to_datetime(frame["start"], unit="s", utc=True).dt.tz_convert(SH)
    frame["category"] = frame["category"].astype("category")
    frame["recorded_at"] = frame["recorded_at"].where(frame["recorded_at"] != NONE)  # NaN: none
    framed = evaluate_hours(frame, HOUR_PROFILES["university"], now=NOW)
    arrays = {k: np.asarray(v) for k, v in as_columns(rows).items()}
    for other in (framed, evaluate_hours(arrays, HOUR_PROFILES["university"], now=NOW)):
        for name, values in plain.as_dict().items():
            assert other.as_dict()[name].tolist() == values.tolist(), name
    pa = pytest.importorskip("pyarrow")
    table = pa.Table.from_pandas(pd.DataFrame(as_columns(rows)))
    assert evaluate_hours(table, HOUR_PROFILES["university"], now=NOW).counted_minutes.tolist() == (
        plain.counted_minutes.tolist()
    )
    out = evaluate_hours_frame(pd.DataFrame(as_columns(rows)), HOUR_PROFILES["university"], now=NOW)
    assert out["counted_minutes"].tolist() == plain.counted_minutes.tolist()
    assert list(out.columns[:2]) == ["volunteer", "start"]


def test_codes_in_and_out() -> None:
    cols = Columns.of(
        {
            "volunteer": np.array([3, 1, 3]),
            "start": [ts(1, 9)] * 3,
            "end": [ts(1, 10)] * 3,
            "evidence": [Evidence.QR_SCAN, "qr_scan", Evidence.GPS],
            "category": [0, 1, 0],
        },
        categories=("助老", "环保"),
    )
    assert cols.volunteer_ids.tolist() == [1, 3] and cols.volunteer.tolist() == [1, 0, 1]
    assert cols.evidence.tolist() == [1, 1, 2] and cols.categories == ("助老", "环保")
    got = evaluate_hours(cols, now=NOW)
    assert got.counted_minutes.tolist() == [60, 60, 0]


@given(
    ids=st.one_of(
        st.lists(st.integers(-5, 40), min_size=1, max_size=30),  # dense: a lookup table
        st.lists(st.integers(-(2**62), 2**62), min_size=1, max_size=30),  # sparse: hashing
        st.lists(st.sampled_from(["张三", "李四", "v1", "v10", "v2", ""]), min_size=1, max_size=30),
    )
)
def test_factorizing_with_and_without_pandas_gives_sorted_codes(ids: list[Any]) -> None:
    from zhiyuan.bulk import _frames

    values = np.array(ids, dtype=object if isinstance(ids[0], str) else np.int64)
    uniques, inverse = np.unique(values, return_inverse=True)
    codes, got = _frames.factorize(values)
    assert got.tolist() == uniques.tolist() and codes.tolist() == inverse.tolist()
    for absent in (("pyarrow",), ("pyarrow", "pandas")):  # as if they were not installed
        saved = {name: _frames.optional_module(name) for name in absent}
        _frames._modules.update(dict.fromkeys(absent))
        try:
            codes, got = _frames.factorize(values)
        finally:
            _frames._modules.update(saved)
        assert got.tolist() == uniques.tolist() and codes.tolist() == inverse.tolist()


def test_empty_input() -> None:
    got = evaluate_hours(
        {k: [] for k in ("volunteer", "start", "end", "evidence", "category")}, now=NOW
    )
    assert len(got) == 0 and got.counted_minutes.dtype == np.int64


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"end": ts(1, 8)}, "end[1]"),  # before the start
        ({"end": NOW_S + 60}, "end[1]"),  # in the future
        ({"start": 900000000, "end": 900003600}, "start[1]"),  # 1998: before 2000
        ({"recorded_at": ts(1, 8)}, "recorded_at[1]"),  # before the start
        ({"scheduled_minutes": -5}, "scheduled_minutes[1]"),
        ({"evidence": "carrier_pigeon"}, "evidence"),
        ({"category": " "}, "categories[0]"),
    ],
)
def test_bad_rows_are_refused_by_index(change: dict[str, Any], field: str) -> None:
    rows = [rec("a", ts(1, 9), ts(1, 10)), {**rec("a", ts(1, 9), ts(1, 10)), **change}]
    with pytest.raises(InvalidValue) as err:
        evaluate_hours(as_columns(rows), now=NOW)
    assert err.value.field == field


def test_missing_columns_and_naive_times_are_refused() -> None:
    with pytest.raises(InvalidValue, match="volunteer"):
        Columns.of({"start": [1]})
    with pytest.raises(InvalidValue, match="unknown column"):  # a misspelt column
        Columns.of({"volunteer": ["a"], "checkout": [True]})
    with pytest.raises(InvalidValue, match="category"):
        evaluate_hours({"volunteer": ["a"], "start": [ts(1, 9)], "end": [ts(1, 10)],
                        "evidence": ["gps"]}, now=NOW)  # fmt: skip
    with pytest.raises(InvalidValue, match="naive"):
        Columns.of({"volunteer": ["a"], "start": np.array(["2025-03-01T09:00"], "M8[s]")})
    with pytest.raises(InvalidValue, match="now"):
        evaluate_hours(as_columns([rec("a", ts(1, 9), ts(1, 10))]), now=datetime(2025, 5, 1))
    pd = pytest.importorskip("pandas")
    naive = pd.DataFrame({"volunteer": ["a"], "start": pd.to_datetime(["2025-03-01 09:00"])})
    with pytest.raises(InvalidValue, match="naive"):
        Columns.of(naive)


# --- what is not vectorized says so ------------------------------------------------------------


@pytest.mark.parametrize(
    "policy", [HourPolicy(min_age=14), HourPolicy(minor_daily_cap_minutes=240)]
)
def test_age_rules_are_not_vectorized(policy: HourPolicy) -> None:
    with pytest.raises(NotVectorized) as err:
        check_policy(policy)
    assert err.value.rule == "hours.age"
    assert isinstance(err.value, ZhiyuanError) and isinstance(err.value, NotImplementedError)
    with pytest.raises(NotVectorized):
        evaluate_hours(as_columns([rec("a", ts(1, 9), ts(1, 10))]), policy, now=NOW)


def test_a_rule_outside_the_chain_is_named() -> None:
    def rule_local(d: Any) -> None:  # a district's extra rule
        pass

    policy = HourPolicy()
    object.__setattr__(policy, "_rules", (*policy._rules, rule_local))
    with pytest.raises(NotVectorized, match="rule_local"):
        check_policy(policy)


# --- the core does not need numpy --------------------------------------------------------------


def test_core_imports_without_numpy_and_bulk_says_what_it_needs() -> None:
    code = """
import sys
sys.modules["numpy"] = None  # import numpy now raises ImportError
import zhiyuan, zhiyuan.hours, zhiyuan.scoring, zhiyuan.credit, zhiyuan.hierarchy, zhiyuan.convert
assert not any(m == "pandas" or m.startswith(("pandas.", "dask")) for m in sys.modules)
try:
    import zhiyuan.bulk
except ImportError as exc:
    print("refused:", exc)
"""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "refused: zhiyuan.bulk needs numpy" in done.stdout
    assert "zhiyuan[sim]" in done.stdout


def test_bulk_imports_neither_pandas_nor_dask_by_itself() -> None:
    code = """
import sys
import zhiyuan.bulk, zhiyuan.bulk.dask
assert not [m for m in sys.modules if m.split(".")[0] in ("pandas", "dask")], "eager import"
"""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr


# --- the daily cap is monotone for every rounding, in columns too (issue 14) ---------------------


@pytest.mark.parametrize(
    ("rounding", "taken", "row"),
    [
        (Rounding.HALF_UP, (ts(3, 22, 20), ts(3, 23)), (ts(3, 22, 20), ts(4, 0, 29))),
        (Rounding.UP, (ts(3, 20, 5), ts(3, 20, 30)), (ts(3, 20, 5), ts(4, 0, 1))),
    ],
)
def test_time_taken_before_midnight_never_counts_more(
    rounding: Rounding, taken: tuple[int, int], row: tuple[int, int]
) -> None:
    """Unit 30, 60 a day: the record counted 60 alone and 90 after a piece of it was taken."""
    policy = HourPolicy(unit_minutes=30, rounding=rounding, daily_cap_minutes=60)
    alone = assert_same([rec("a", *row)], policy)
    after = assert_same([rec("a", *taken), rec("a", *row)], policy)
    assert alone.counted_minutes.tolist() == [90]
    assert after.counted_minutes.tolist() == [30, 60]


@st.composite
def taken_and_row(draw: st.DrawFn) -> tuple[HourPolicy, list[dict[str, Any]], dict[str, Any]]:
    """A capped policy, earlier rows that each count whole (disjoint whole units, within the
    cap on their day) and one last row, mostly from the evening to just past midnight."""
    unit = draw(st.sampled_from((15, 30, 60)))
    cap = draw(st.integers(1, 8)) * 60
    policy = HourPolicy(
        unit_minutes=unit,
        rounding=draw(st.sampled_from(Rounding)),
        daily_cap_minutes=cap,
        record_cap_minutes=draw(st.one_of(st.none(), st.integers(1, 6).map(lambda k: k * 60))),
        over_daily_cap=draw(st.sampled_from((Overflow.TRIM, Overflow.APPROVAL))),
        overlap=draw(st.sampled_from(OverlapRule)),
        max_span_minutes=3000,
    )
    used: dict[int, int] = {}
    taken = []
    for day, hour in sorted(draw(st.sets(st.tuples(st.integers(2, 4), st.integers(0, 23))))):
        minutes = draw(st.integers(1, 60 // unit)) * unit
        if used.get(day, 0) + minutes <= min(cap, policy.record_cap_minutes or cap):
            used[day] = used.get(day, 0) + minutes
            taken.append(rec("a", ts(day, hour), ts(day, hour) + minutes * 60))
    start = ts(2, 18) + draw(st.integers(0, 2 * 1440 // 2)) * 60
    end = start + draw(st.integers(1, 1440)) * 60 + draw(st.integers(0, 59))
    if draw(st.integers(0, 2)):  # just past a midnight
        midnight = ts(3, 0) if start < ts(3, 0) else ts(4, 0) if start < ts(4, 0) else ts(5, 0)
        end = max(start + 1, midnight + draw(st.integers(0, 90 * 60)))
    return policy, taken, rec("a", start, end)


@settings(max_examples=300)
@given(case=taken_and_row(), data=st.data())
def test_more_time_taken_never_counts_more_in_columns(
    case: tuple[HourPolicy, list[dict[str, Any]], dict[str, Any]], data: st.DataObject
) -> None:
    policy, taken, row = case
    fewer = [r for r in taken if data.draw(st.booleans())]
    more = assert_same([*taken, row], policy)  # and the ledger agrees, row for row
    less = assert_same([*fewer, row], policy)
    assert more.counted_minutes[: len(taken)].tolist() == [
        min((r["end"] - r["start"]) // 60, policy.record_cap_minutes or 10**9) for r in taken
    ]  # every earlier row counts whole: the taken time is nested
    assert int(more.counted_minutes[-1]) <= int(less.counted_minutes[-1])


# --- schedules and spans (issue 14) --------------------------------------------------------------


def test_a_top_up_counts_only_the_time_inside_the_schedule() -> None:
    """13:00–18:00 entered for a 09:00–12:00 activity counted 180 min, all outside it."""
    topup = {"evidence": "admin_topup", "scheduled_minutes": 180, "scheduled_start": ts(1, 9)}
    rows = [
        rec("a", ts(1, 13), ts(1, 18), **topup),  # outside: 0
        rec("b", ts(1, 11), ts(1, 14), **topup),  # 11–12: 60
        rec("c", ts(1, 8), ts(1, 10), **topup),  # 9–10: 60
        rec("d", ts(1, 8), ts(1, 13), **topup),  # the whole schedule: 180
        rec("e", ts(1, 13), ts(1, 18), **{**topup, "evidence": "qr_scan"}),  # attested: 300
        rec("f", ts(1, 13), ts(1, 18), evidence="admin_topup", scheduled_minutes=180),
    ]
    got = assert_same(rows, HourPolicy())
    assert got.counted_minutes.tolist() == [0, 60, 60, 180, 300, 180]  # f: from its own start
    assert got.status.tolist() == [0] * 6


def test_scheduled_start_comes_from_frames_and_is_checked() -> None:
    pd = pytest.importorskip("pandas")
    rows = [rec("a", ts(1, 13), ts(1, 18), evidence="admin_topup", scheduled_minutes=180)]
    frame = pd.DataFrame(as_columns(rows))
    frame["scheduled_start"] = pd.to_datetime([ts(1, 9)], unit="s", utc=True)
    assert evaluate_hours(frame, now=NOW).counted_minutes.tolist() == [0]
    cols = {**as_columns(rows), "scheduled_start": [ts(1, 9)]}
    out = evaluate_hours(cols, now=NOW)
    assert out.counted_minutes.tolist() == [0]
    assert counted_rows(cols, out, statuses=["accepted"]).minutes.tolist() == []
    for change, reason in [
        ({"scheduled_minutes": [NONE]}, "scheduled_minutes"),  # a start without a duration
        ({"scheduled_start": [900000000]}, "2000"),  # 1998
        ({"scheduled_start": [ts(1, 9), ts(1, 10)]}, "length"),
        ({"scheduled_start": ["9 点"]}, "whole numbers"),
    ]:
        with pytest.raises(InvalidValue, match=reason) as err:
            evaluate_hours({**cols, **change}, now=NOW)
        assert err.value.field.startswith("scheduled_start")


def test_a_record_spans_at_most_a_day_by_default() -> None:
    """One 62-day record counted 1,488 h under the national default."""
    start = ts(1, 0) - 62 * 86400  # 29 December 2024 … 1 March 2025
    rows = [
        rec("a", start, start + 62 * 86400),
        rec("a", ts(1, 9), ts(2, 9)),
        rec("a", ts(3, 9), ts(4, 9, 1)),
    ]
    got = assert_same(rows, HourPolicy())
    assert got.counted_minutes.tolist() == [0, 1440, 0]
    assert [REJECTING_RULES[r] if r >= 0 else None for r in got.rejected_by] == [
        "hours.span",
        None,
        "hours.span",
    ]


@pytest.mark.parametrize(
    ("statuses", "bad"),
    [(["certified"], "certified"), ("accepted", "accepted"), ([None], None)],
)
def test_counted_rows_takes_statuses_by_member_or_value(statuses: Any, bad: Any) -> None:
    rows = [rec("a", ts(1, 9), ts(1, 10))]
    out = evaluate_hours(as_columns(rows), now=NOW)
    assert counted_rows(as_columns(rows), out, statuses=["accepted"]).minutes.tolist() == [60]
    assert counted_rows(as_columns(rows), out, statuses=[Status.ACCEPTED]).minutes.tolist() == [60]
    with pytest.raises(InvalidValue, match="statuses") as err:
        counted_rows(as_columns(rows), out, statuses=statuses)
    assert err.value.value == bad
