"""Matching metrics: fill rate, time to acceptance, distance travelled, workload Gini."""

from __future__ import annotations

from datetime import timedelta
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from support.matching import HOME, ORG, at, cand, need
from zhiyuan.errors import InvalidValue
from zhiyuan.hours import Evidence, GeoFix
from zhiyuan.matching import distance_m
from zhiyuan.matching.lifecycle import fold
from zhiyuan.matching.metrics import (
    AcceptanceTimes,
    FillRate,
    Travel,
    Workload,
    acceptance_times,
    fill_rate,
    gini_thousandths,
    matching_metrics,
    nearest_rank,
    travel,
    workload,
)
from zhiyuan.matching.needbook import NeedBook


def half_up(x: Fraction) -> int:
    return int((2 * x + 1) // 2)


def gini_by_pairs(values: list[int]) -> int:
    """Independent oracle: Σᵢ Σⱼ |xᵢ − xⱼ| / (2 n Σx), in thousandths, rounded half up."""
    n, total = len(values), sum(values)
    if n == 0 or total == 0:
        return 0
    diffs = sum(abs(a - b) for a in values for b in values)
    return half_up(Fraction(diffs * 1000, 2 * n * total))


# --- Gini --------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 3, 5, 7, 10])
def test_gini_is_zero_for_equal_work(n: int) -> None:
    assert gini_thousandths([4] * n) == 0


@pytest.mark.parametrize("n", [1, 2, 3, 4, 6, 7, 100])
def test_gini_when_one_worker_does_everything(n: int) -> None:
    assert gini_thousandths([0] * (n - 1) + [9]) == half_up(Fraction(n - 1, n) * 1000)


def test_gini_examples() -> None:
    assert gini_thousandths([1, 2, 3, 4]) == 250
    assert gini_thousandths([0, 0, 1]) == 667  # 2/3, rounded half up
    assert gini_thousandths([1, 1, 2]) == 167  # 1/6 = 166.67
    assert gini_thousandths([]) == gini_thousandths([0, 0]) == 0
    assert gini_thousandths(iter([3, 1])) == 250


def test_gini_refuses_negative_work() -> None:
    with pytest.raises(InvalidValue):
        gini_thousandths([3, -1])


@given(st.lists(st.integers(min_value=0, max_value=50), max_size=30))
def test_gini_is_bounded_and_matches_the_pairwise_definition(values: list[int]) -> None:
    g = gini_thousandths(values)
    assert 0 <= g <= 1000
    assert g == gini_by_pairs(values)
    assert g == gini_thousandths(list(reversed(values)))  # order does not matter
    assert g == gini_thousandths([3 * v for v in values])  # nor the scale


# --- percentiles -------------------------------------------------------------------------------


def test_nearest_rank() -> None:
    values = [15, 20, 35, 40, 50]
    assert [nearest_rank(values, p) for p in (5, 30, 40, 50, 100)] == [15, 20, 20, 35, 50]
    assert nearest_rank([2, 1], 50) == 1  # the lower middle
    assert nearest_rank([], 50) is None
    with pytest.raises(InvalidValue):
        nearest_rank([1], 0)
    with pytest.raises(InvalidValue):
        nearest_rank([1], 101)


@given(st.lists(st.integers(0, 10_000), min_size=1), st.integers(1, 100))
def test_a_percentile_is_a_value_with_enough_below_it(values: list[int], p: int) -> None:
    v = nearest_rank(values, p)
    assert v in values
    assert sum(x <= v for x in values) * 100 >= p * len(values)
    assert sum(x < v for x in values) * 100 < p * len(values)


# --- from entries ------------------------------------------------------------------------------


def scenario(
    book: NeedBook,
    nid: str,
    *,
    headcount: int = 1,
    accept: int = 0,
    minutes: int = 30,
    complete: bool = False,
    cancel: bool = False,
    who: tuple[str, ...] = ("a", "b", "c"),
    location: GeoFix | None = None,
) -> None:
    """Post a need at 07:00; offer it to ``headcount`` candidates; ``accept`` of them accept,
    the first ``minutes`` after posting; then optionally serve it, or cancel it."""
    book.post(need(nid, headcount=headcount, location=location, posted=at(1, 7)))
    for cid in who[:headcount]:
        book.offer(nid, cid, at=at(1, 7))
    for cid in who[:accept]:
        book.accept(nid, cid, at=at(1, 7) + timedelta(minutes=minutes))
    if complete:
        book.start(nid, at=at(1, 9))
        book.complete(nid, at=at(1, 11), evidence=Evidence.QR_SCAN, organization_id=ORG)
    if cancel:
        book.cancel(nid, at=at(1, 8, 30), by="admin")


def test_fill_rate_counts_needs_that_reached_their_headcount() -> None:
    book = NeedBook()
    scenario(book, "full", accept=1)
    scenario(book, "half", headcount=2, accept=1)
    scenario(book, "none")
    scenario(book, "served", accept=1, complete=True)
    scenario(book, "cancelled-after-filling", accept=1, cancel=True)
    book.post(need("withdrawn", posted=at(1, 7)))
    book.offer("withdrawn", "a", at=at(1, 7))
    book.accept("withdrawn", "a", at=at(1, 7, 10))
    book.decline("withdrawn", "a", at=at(1, 8))
    rate = fill_rate(book.entries)
    assert (rate.filled, rate.posted, rate.percent) == (3, 6, 50)
    assert str(rate) == "接单率 50%（6 单中 3 单满员） / fill rate 50% (3 of 6 needs filled)"
    assert fill_rate(book.entries, as_of=at(1, 7, 5)).filled == 0  # nobody had accepted yet
    assert fill_rate(book.entries, as_of=at(1, 7, 15)).filled == 1  # "withdrawn", for a while
    assert "no needs" in str(fill_rate([]))


def test_no_needs_is_no_fill_rate_not_zero_percent() -> None:
    # as the simulation report's fill_rate_percent: no needs is None, not 0 % (nothing unfilled)
    assert fill_rate([]) == FillRate(filled=0, posted=0, percent=None)
    assert fill_rate([]).percent is None and FillRate.of(filled=0, posted=0).percent is None
    assert matching_metrics([]).fill.percent is None
    assert str(fill_rate([])) == "尚无需求，接单率无从计算 / no needs posted: no fill rate"
    assert FillRate.of(filled=0, posted=4).percent == 0  # needs posted, none filled: 0 %
    assert FillRate(filled=1, posted=4) == FillRate.of(filled=1, posted=4)  # percent computed


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"filled": 0, "posted": 0, "percent": 0}, "percent"),  # the old ambiguous 0 %
        ({"filled": 1, "posted": 2, "percent": 40}, "percent"),
        ({"filled": 1, "posted": 2, "percent": None}, "percent"),
        ({"filled": 3, "posted": 2}, "filled"),
        ({"filled": -1, "posted": 2}, "filled"),
        ({"filled": None, "posted": 2}, "filled"),
        ({"filled": 1, "posted": "2"}, "posted"),
    ],
)
def test_inconsistent_fill_rates_are_invalid(kw: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidValue, match=field):
        FillRate(**kw)  # type: ignore[arg-type]


def test_fill_rate_rounds_down() -> None:
    assert FillRate.of(filled=2, posted=3).percent == 66
    assert FillRate.of(filled=199, posted=200).percent == 99  # 100 % only when all are filled


def test_time_to_acceptance() -> None:
    book = NeedBook()
    for i, minutes in enumerate([5, 10, 15, 20, 30, 45, 60, 90, 120, 240]):
        scenario(book, f"n{i}", accept=1, minutes=minutes)
    scenario(book, "waiting")
    times = acceptance_times(book.entries)
    assert (times.count, times.median_minutes, times.p90_minutes) == (10, 30, 120)
    assert times.minutes == (5, 10, 15, 20, 30, 45, 60, 90, 120, 240)
    assert "中位数 30 分钟" in str(times) and "median 30 min" in str(times)
    assert acceptance_times([]) == AcceptanceTimes(count=0, median_minutes=None, p90_minutes=None)
    assert "no need accepted" in str(acceptance_times([]))


def test_time_to_acceptance_uses_the_first_acceptance() -> None:
    book = NeedBook()
    book.post(need(headcount=2, posted=at(1, 7)))
    book.offer("n1", "a", at=at(1, 7))
    book.offer("n1", "b", at=at(1, 7))
    book.accept("n1", "a", at=at(1, 7, 12))
    book.accept("n1", "b", at=at(1, 8, 40))
    assert acceptance_times(book.entries).minutes == (12,)


def test_distance_travelled() -> None:
    near, far = GeoFix(lat=36.301, lon=120.40), GeoFix(lat=36.32, lon=120.40)
    candidates = [cand("a", location=near), cand("b", location=far), cand("c")]
    book = NeedBook()
    scenario(book, "n1", headcount=3, accept=3, location=HOME)  # c has no GPS
    scenario(book, "n2", accept=1, location=None)  # the need has no GPS
    scenario(book, "n3", accept=1, location=HOME, who=("b",), complete=True)
    scenario(book, "n4", accept=1, location=HOME, cancel=True)  # cancelled: nobody travels
    scenario(book, "n5", headcount=2, accept=1, location=HOME)  # not filled yet
    d_near, d_far = distance_m(HOME, near), distance_m(HOME, far)
    t = travel(book.entries, candidates)
    assert t == Travel(count=3, total_m=d_near + 2 * d_far, median_m=d_far, unknown=2)
    assert f"{d_near + 2 * d_far} 米" in str(t)
    assert travel(book.entries, {c.id: c for c in candidates}) == t
    assert travel(book.entries, []) == Travel(count=0, total_m=0, median_m=None, unknown=5)
    assert "no distances known (5 without GPS)" in str(travel(book.entries, []))


def test_workload_spread() -> None:
    book = NeedBook()
    for i in range(3):
        scenario(book, f"a{i}", accept=1, complete=True, who=("a",))
    scenario(book, "ab", headcount=2, accept=2, complete=True, who=("a", "b"))
    scenario(book, "c-not-done", accept=1, who=("c",))
    w = workload(book.entries)
    assert w.by_candidate == {"a": 4, "b": 1} and w.total == 5
    assert w.gini_thousandths == gini_by_pairs([4, 1]) == 300
    with_pool = workload(book.entries, pool=["a", "b", "c", "d"])
    assert with_pool.by_candidate == {"a": 4, "b": 1, "c": 0, "d": 0}
    assert with_pool.gini_thousandths == gini_by_pairs([4, 1, 0, 0])
    assert str(w) == (
        "任务分布基尼系数 300‰（2 名候选完成 5 单） / workload Gini 300‰ (5 tasks completed over 2 candidates)"
    )


def test_all_metrics_together() -> None:
    book = NeedBook()
    scenario(book, "n1", accept=1, complete=True, location=HOME)
    scenario(book, "n2")
    m = matching_metrics(book.entries, [cand("a", location=HOME)], pool=["a", "b"])
    assert m.fill.percent == 50 and m.acceptance.median_minutes == 30
    assert m.travel.total_m == 0 and m.workload.gini_thousandths == 500
    lines = str(m).splitlines()
    assert len(lines) == 4 and all(" / " in line for line in lines)
    assert matching_metrics(book) == matching_metrics(book.entries)  # a book is its entries


@settings(max_examples=100)
@given(
    st.lists(
        st.tuples(
            st.integers(1, 3),  # headcount
            st.integers(0, 3),  # acceptances
            st.integers(0, 600),  # minutes to the first acceptance
            st.booleans(),  # served
            st.booleans(),  # cancelled
        ),
        max_size=12,
    )
)
def test_metrics_stay_in_range(plans: list[tuple[int, int, int, bool, bool]]) -> None:
    book = NeedBook()
    filled = 0
    for i, (headcount, accepted, minutes, served, cancelled) in enumerate(plans):
        accepted = min(accepted, headcount)
        full = accepted == headcount
        scenario(
            book,
            f"n{i}",
            headcount=headcount,
            accept=accepted,
            minutes=minutes % 60,
            complete=served and full,
            cancel=cancelled and not (served and full),
        )
        filled += full
    statuses = fold(book.entries)
    rate = fill_rate(statuses)
    assert rate.filled == filled and rate.posted == len(plans)
    if plans:
        assert rate.percent is not None and 0 <= rate.percent <= 100
        assert (rate.percent == 100) == (filled == len(plans))
    else:
        assert rate.percent is None
    times = acceptance_times(statuses)
    assert times.count == sum(1 for h, a, *_ in plans if min(a, h) > 0)
    if times.count:
        assert times.median_minutes is not None and times.p90_minutes is not None
        assert 0 <= times.median_minutes <= times.p90_minutes < 60
    w = workload(statuses, pool=["a", "b", "c", "z"])
    assert 0 <= w.gini_thousandths <= 1000
    assert w.gini_thousandths == gini_by_pairs([n for _, n in w.tasks])


# --- issue 14: the figures and their functions refuse junk -------------------------------------


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: fill_rate(None), "entries"),  # was a TypeError from the fold
        (lambda: fill_rate([None]), "entries"),  # was an AttributeError
        (lambda: fill_rate({"n1": "posted"}), "entries"),
        (lambda: fill_rate([], as_of="2025-05-01"), "as_of"),
        (lambda: acceptance_times("n1"), "entries"),
        (lambda: travel([], None), "candidates"),
        (lambda: travel([], [cand("a"), "b"]), "candidates"),
        (lambda: travel([], {"a": "b"}), "candidates"),
        (lambda: workload([], pool="abc"), "pool"),  # was three candidates a, b and c
        (lambda: workload([], pool=[1]), "pool"),
        (lambda: matching_metrics(7), "entries"),
        (lambda: gini_thousandths(None), "values"),
        (lambda: gini_thousandths([3, True]), "values"),
        (lambda: gini_thousandths([3, "4"]), "values"),  # was a TypeError from sorting
        (lambda: gini_thousandths([3, -4]), "values"),
        (lambda: nearest_rank(None, 50), "values"),
        (lambda: nearest_rank([], 0), "percent"),  # refused even with no values
        (lambda: nearest_rank([1], True), "percent"),
        (lambda: nearest_rank([1, 2.5], 50), "values"),
    ],
)
def test_metric_functions_refuse_junk(call: Any, field: str) -> None:
    with pytest.raises(InvalidValue) as err:
        call()
    assert err.value.field == field


@pytest.mark.parametrize(
    ("cls", "kw", "field"),
    [
        (AcceptanceTimes, {"count": -1, "median_minutes": None, "p90_minutes": None}, "count"),
        (AcceptanceTimes, {"count": 1, "median_minutes": "5", "p90_minutes": 5}, "median_minutes"),
        (
            AcceptanceTimes,
            {"count": 1, "median_minutes": 5, "p90_minutes": 5, "minutes": [5, None]},
            "minutes",
        ),
        (Travel, {"count": 0, "total_m": 0, "median_m": 1.5, "unknown": 0}, "median_m"),
        (Travel, {"count": 0, "total_m": None, "median_m": None, "unknown": 0}, "total_m"),
        (Workload, {"tasks": [("a", -1)], "gini_thousandths": 0}, "tasks[0]"),
        (Workload, {"tasks": [("", 1)], "gini_thousandths": 0}, "tasks[0]"),
        (Workload, {"tasks": {"a": 1}, "gini_thousandths": 0}, "tasks"),
        (Workload, {"tasks": (), "gini_thousandths": 1001}, "gini_thousandths"),
    ],
)
def test_metric_values_refuse_junk(cls: Any, kw: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidValue) as err:
        cls(**kw)
    assert err.value.field == field
