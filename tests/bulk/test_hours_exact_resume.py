"""The exact path of ``zhiyuan.bulk.evaluate_hours`` for volunteers the plain vector pass cannot
prove exact: the fixed-point settling (:mod:`zhiyuan.bulk._settle`) and the per-volunteer loop
resumed from the first unsettled row, against posting the same records into an
:class:`~zhiyuan.hours.HourLedger`.

The histories aim at what sends volunteers there: many records across midnight (and over several
days), overlapping each other, under tight daily caps that trim, ask for approval or reject, with
both overlap rules, rounding and record caps; rows in random order, posted in row order or by
start. The settling is also run with one or two rounds only, so that the loop takes over from
the first unsettled row with the state the settled rows left, and that state is compared with the
ledger's own.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import pytest

np = pytest.importorskip("numpy")

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import zhiyuan.bulk._settle as settling  # noqa: E402
import zhiyuan.bulk.hours as bulk_hours  # noqa: E402
from support.columnar import (  # noqa: E402
    NOW,
    SH,
    assert_same,
    ledger_for,
    service_records,
    ts,
)
from zhiyuan.bulk import (  # noqa: E402
    EVIDENCE,
    NONE,
)
from zhiyuan.hours import (  # noqa: E402
    Evidence,
    HourPolicy,
    Overflow,
    OverlapRule,
    Rounding,
)

CATEGORIES = ("助老", "环保")
NIGHT = int(datetime(2025, 3, 1, 18, tzinfo=SH).timestamp())  # 18:00, six hours before midnight


@contextlib.contextmanager
def rounds(n: int | None) -> Iterator[None]:
    """Settle with at most ``n`` rounds (``None``: the default)."""
    before = settling.ROUNDS
    settling.ROUNDS = before if n is None else n
    try:
        yield
    finally:
        settling.ROUNDS = before


class LoopSpy:
    """Wraps ``_loop``: records the rows it was given (posting order) and its starting state."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, Any, dict[int, settling.Seed]]] = []
        self.real = bulk_hours._loop

    def __call__(self, pol: Any, rows: Any, order: Any, todo: Any, *args: Any, **kw: Any) -> None:
        self.calls.append((order.copy(), todo.copy(), dict(kw.get("seeds") or {})))
        self.real(pol, rows, order, todo, *args, **kw)


@contextlib.contextmanager
def spy_loop() -> Iterator[LoopSpy]:
    spy = LoopSpy()
    bulk_hours._loop = spy  # type: ignore[assignment]
    try:
        yield spy
    finally:
        bulk_hours._loop = spy.real


# --- random histories --------------------------------------------------------------------------


@st.composite
def night_histories(draw: st.DrawFn) -> list[dict[str, Any]]:
    """A few volunteers' records around midnights: most cross one (some several days), they
    overlap each other, some last under a minute or end off the minute, some are cut to a
    schedule (to nothing, at times); in random row order."""
    n_vol = draw(st.integers(1, 3))
    rows = []
    for _ in range(draw(st.integers(1, 24))):
        night = draw(st.integers(0, 3))
        start = NIGHT + night * 86400 + draw(st.integers(0, 12 * 60)) * 60
        minutes = draw(
            st.one_of(
                st.integers(1, 180),
                st.integers(180, 720),  # across midnight, most of them
                st.integers(720, 2900),  # over several days
                st.just(0),
            )
        )
        seconds = max(minutes * 60 + draw(st.sampled_from((0, 0, 1, 29, 59))), 1)
        start += draw(st.sampled_from((0, 0, 0, 17, 59)))
        sched = draw(st.one_of(st.just(NONE), st.just(NONE), st.integers(0, 300)))
        rows.append(
            {
                "volunteer": f"v{draw(st.integers(0, n_vol - 1))}",
                "start": start,
                "end": start + seconds,
                "evidence": draw(st.sampled_from(EVIDENCE)).value,
                "category": draw(st.sampled_from(CATEGORIES)),
                "scheduled_minutes": sched,
                "checkout_missing": draw(st.integers(0, 5)) == 0,
            }
        )
    return draw(st.permutations(rows))


@st.composite
def tight_caps(draw: st.DrawFn, overflow: Overflow | None = None) -> HourPolicy:
    """Policies with a tight daily cap (whole units), and every rule that moves counted time."""
    unit = draw(st.sampled_from((1, 1, 15, 30, 60)))
    cap = draw(st.sampled_from((1, 2, 3, 4, 6, 8))) * max(unit, 30)
    return HourPolicy(
        name="tight",
        unit_minutes=unit,
        rounding=draw(st.sampled_from(Rounding)),
        record_cap_minutes=draw(st.one_of(st.none(), st.integers(1, 12).map(lambda k: k * 60))),
        schedule_capped=frozenset({Evidence.ADMIN_TOPUP, Evidence.SELF_REPORT}),
        daily_cap_minutes=cap,
        over_daily_cap=overflow or draw(st.sampled_from(Overflow)),
        overlap=draw(st.sampled_from(OverlapRule)),
        max_span_minutes=3000,
        category_weights={"环保": 150},
    )


ORDERS = st.sampled_from(("rows", "start"))


@pytest.mark.parametrize("overflow", list(Overflow))
@settings(max_examples=100)
@given(rows=night_histories(), data=st.data())
def test_night_histories_under_tight_caps_agree_with_the_ledger(
    overflow: Overflow, rows: list[dict[str, Any]], data: st.DataObject
) -> None:
    policy = data.draw(tight_caps(overflow))
    order = data.draw(ORDERS)
    with rounds(data.draw(st.sampled_from((None, None, 1, 2)))):
        assert_same(rows, policy, order)


@settings(max_examples=100)
@given(rows=night_histories(), policy=tight_caps(), order=ORDERS, n=st.integers(1, 3))
def test_the_loop_resumes_from_the_ledgers_own_state(
    rows: list[dict[str, Any]], policy: HourPolicy, order: str, n: int
) -> None:
    """With few rounds, the loop takes each unsettled volunteer from some row on: the state it
    starts from (held time, minutes per day) is what the ledger holds after that volunteer's
    earlier rows, and the results are the ledger's."""
    with rounds(n), spy_loop() as spy:
        got = assert_same(rows, policy, order)
    codes = sorted({r["volunteer"] for r in rows})  # volunteer codes: the ids in sorted order
    looped = np.zeros(len(rows), dtype=bool)
    for posting, todo, seeds in spy.calls:
        looped[posting[todo]] = True
        at = np.flatnonzero(todo)  # positions in posting order
        who = [rows[int(posting[p])]["volunteer"] for p in range(len(posting))]
        assert {codes[c] for c in seeds} == {who[p] for p in at}
        for code, seed in seeds.items():
            vid = codes[code]
            mine = [p for p in range(len(posting)) if who[p] == vid]
            first = min(int(p) for p in at if who[p] == vid)
            assert [bool(todo[p]) for p in mine] == [p >= first for p in mine]  # all from there
            before = [int(posting[p]) for p in range(first) if who[p] == vid]
            lg = ledger_for(rows, policy)
            lg.post_many(service_records([rows[i] for i in before]), at=NOW)
            assert seed.occupied == lg.occupied(vid), (vid, before)
            assert {d: m for d, m in seed.day_used.items() if m} == lg.day_minutes(vid)
    # the loop takes only rows of volunteers the vector pass did not prove exact
    assert not (looped & ~got.fallback).any()


# --- worked examples ---------------------------------------------------------------------------


def rec(v: str, start: int, end: int) -> dict[str, Any]:
    return {
        "volunteer": v,
        "start": start,
        "end": end,
        "evidence": "qr_scan",
        "category": "助老",
        "scheduled_minutes": NONE,
        "checkout_missing": False,
    }


HALF_HOURS = HourPolicy(
    name="half-hours", unit_minutes=30, daily_cap_minutes=480, over_daily_cap=Overflow.TRIM
)
MIDNIGHT = [
    rec("a", ts(2, 9), ts(2, 17)),  # the 2nd is full
    rec("a", ts(2, 21), ts(3, 3)),  # 180 on the 2nd (no room): 180 on the 3rd only
    rec("a", ts(3, 9), ts(3, 16)),  # 420 on the 3rd, 300 left
    rec("b", ts(2, 21), ts(3, 3)),  # nothing else that day: 360
]


def test_a_trimmed_midnight_span_is_settled_without_the_loop() -> None:
    with spy_loop() as spy:
        got = assert_same(MIDNIGHT, HALF_HOURS, "rows")
    assert got.counted_minutes.tolist() == [480, 180, 300, 360]
    assert not spy.calls  # settled in columns
    assert got.fallback.tolist() == [True, True, True, False]  # not proven by the plain pass


def test_one_round_leaves_the_loop_the_rows_from_the_first_unsettled_one() -> None:
    with rounds(1), spy_loop() as spy:
        got = assert_same(MIDNIGHT, HALF_HOURS, "rows")
    assert got.counted_minutes.tolist() == [480, 180, 300, 360]
    ((posting, todo, seeds),) = spy.calls
    assert sorted(posting[todo].tolist()) == [1, 2]  # the first row of "a" is settled
    ((code, seed),) = seeds.items()
    assert code == 0
    nine, five = ts(2, 9) + 8 * 3600, ts(2, 17) + 8 * 3600  # segments are in local seconds
    assert seed.occupied == [(nine, five)]
    assert seed.day_used == {date(2025, 3, 2): 480}


def test_rows_out_of_start_order_resume_the_loop_where_the_order_breaks() -> None:
    rows = [
        rec("a", ts(1, 9), ts(1, 11)),
        rec("a", ts(1, 14), ts(1, 16)),
        rec("a", ts(1, 10), ts(1, 15)),  # earlier start than the row before: the loop's
        rec("a", ts(1, 17), ts(1, 18)),
    ]
    national = HourPolicy()
    with spy_loop() as spy:
        got = assert_same(rows, national, "rows")
    assert got.counted_minutes.tolist() == [120, 120, 180, 60]
    ((posting, todo, seeds),) = spy.calls
    assert sorted(posting[todo].tolist()) == [2, 3]
    assert seeds[0].occupied == sorted(
        (s + 8 * 3600, e + 8 * 3600) for s, e in ((ts(1, 9), ts(1, 11)), (ts(1, 14), ts(1, 16)))
    )
    assert got.fallback.all()
    with spy_loop() as spy:  # posted by start, the same rows need neither
        by_start = assert_same(rows, national, "start")
    assert not spy.calls and not by_start.fallback.any()
    assert by_start.counted_minutes.tolist() == [120, 60, 240, 60]  # 10:00 posted before 14:00
