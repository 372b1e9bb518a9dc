"""``HourLedger.post_many``'s batch path gives exactly what posting the records one at a time with
``post`` in one transaction gives: the same outcomes, entries and folded state, and on a bad record
the same error with the ledger left as it was. Random records of a few volunteers, with overlaps,
midnight crossings, daily caps, repeats of a record, other records under a used id, automatic
certification, two policies in force, and records the ledger must refuse."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from support.hours import CHENGYANG_VILLAGE, JIANCHANG, YOUYI, at, record, registry, volunteer
from zhiyuan.errors import ZhiyuanError
from zhiyuan.hours import (
    Evidence,
    HourLedger,
    HourPolicy,
    Overflow,
    Rounding,
    ServiceRecord,
    fold,
)

NOW = at(2025, 3, 10, 12)
BASE = at(2025, 3, 3)
VOLUNTEERS = ("v1", "v2", "v3")

POLICIES: list[list[HourPolicy]] = [
    [HourPolicy()],
    [HourPolicy(daily_cap_minutes=240, over_daily_cap=Overflow.TRIM, unit_minutes=30)],
    [HourPolicy(daily_cap_minutes=120, over_daily_cap=Overflow.APPROVAL, overlap="reject")],
    [HourPolicy(daily_cap_minutes=180, over_daily_cap=Overflow.REJECT, record_cap_minutes=150)],
    [HourPolicy(auto_certify=["qr_scan", "gps"], notice_days=2, rounding=Rounding.UP)],
    [  # two policies: the second from 2025-03-05 on
        HourPolicy(auto_certify=["supervisor"]),
        HourPolicy(
            name="later",
            effective_from=date(2025, 3, 5),
            daily_cap_minutes=300,
            deadline_days=2,
            late=Overflow.APPROVAL,
        ),
    ],
]

BAD = ("volunteer", "organization", "region", "future", "recorded_future", "not_a_record")


@st.composite
def records(draw: st.DrawFn) -> list[Any]:
    """A batch: new records, repeats of earlier ones, other records under a used id, and now and
    then one the ledger refuses."""
    out: list[Any] = []
    for k in range(draw(st.integers(0, 14))):
        kind = draw(st.integers(0, 19))
        if kind == 0 and out:  # the same record again
            out.append(draw(st.sampled_from(out)))
            continue
        rid = f"r{draw(st.integers(0, 40))}" if kind == 1 else f"n{k}"  # 1: maybe a used id
        start = BASE + timedelta(days=draw(st.integers(0, 4)), minutes=draw(st.integers(0, 1439)))
        minutes = draw(st.sampled_from([1, 29, 60, 95, 180, 300, 600, 900, 1440, 1500]))
        kw: dict[str, Any] = {
            "vid": draw(st.sampled_from(VOLUNTEERS)),
            "start": start,
            "minutes": minutes,
            "evidence": draw(st.sampled_from(list(Evidence))),
            "region": draw(st.sampled_from([YOUYI, JIANCHANG])),
        }
        if draw(st.integers(0, 5)) == 0:
            kw["recorded_at"] = min(start + timedelta(days=draw(st.integers(0, 5))), NOW)
        if draw(st.integers(0, 6)) == 0:
            kw["scheduled_start"] = start + timedelta(minutes=draw(st.integers(-60, 60)))
            kw["scheduled_end"] = kw["scheduled_start"] + timedelta(minutes=90)
            kw["checkout_missing"] = draw(st.booleans())
        bad = draw(st.sampled_from(BAD)) if kind == 2 and draw(st.booleans()) else None
        if bad == "volunteer":
            kw["vid"] = "nobody"
        elif bad == "organization":
            kw["org"] = "o-none"
        elif bad == "region":
            kw["region"] = "370602001999"
        elif bad == "future":
            kw["start"], kw["minutes"] = NOW - timedelta(minutes=30), 60
            kw.pop("recorded_at", None)
        elif bad == "recorded_future":
            kw["recorded_at"] = NOW + timedelta(hours=1)
        elif bad == "not_a_record":
            out.append({"id": rid})
            continue
        out.append(record(rid, **kw))
    return out


def _ledger(policies: list[HourPolicy]) -> HourLedger:
    vols = [volunteer(v) for v in VOLUNTEERS]
    vols[2] = volunteer("v3", born=date(2010, 4, 1))  # a minor
    return HourLedger(registry(), policies=policies, volunteers=vols, clock=lambda: NOW)


def _state(ledger: HourLedger) -> dict[str, Any]:
    """Everything the ledger holds, in plain values."""
    st_ = ledger._state
    rows = {
        rid: (r.record, r.outcome, r.posted, r.certified, r.notice_until, r.rejected, r.reversed)
        for rid, r in st_.rows.items()
    }
    return {
        "entries": list(ledger.entries),
        "rows": rows,
        "row_order": list(st_.rows),
        "by_volunteer": {k: list(v) for k, v in st_.by_volunteer.items()},
        "occupied": {k: list(v) for k, v in st_.occupied.items()},
        "day_used": {k: dict(v) for k, v in st_.day_used.items()},
        "volunteers": dict(st_.volunteers),
        "fold": fold(ledger, as_of=NOW),
        "head": len(ledger.journal),
    }


def _error(exc: BaseException) -> tuple[type, str]:
    return type(exc), str(exc)


def _one_by_one(ledger: HourLedger, batch: list[Any]) -> list[Any] | tuple[type, str]:
    """``post`` for each record in one transaction (all or none): the per-record path."""
    try:
        with ledger.journal.transaction():
            return [ledger.post(r, at=NOW) for r in batch]
    except ZhiyuanError as exc:
        return _error(exc)


def _many(ledger: HourLedger, batch: list[Any]) -> list[Any] | tuple[type, str]:
    try:
        return ledger.post_many(batch, at=NOW)
    except ZhiyuanError as exc:
        return _error(exc)


@settings(max_examples=300, deadline=None)
@given(
    policies=st.sampled_from(POLICIES),
    before=records(),
    batch=records(),
    split=st.booleans(),
)
def test_post_many_is_post_one_by_one(
    policies: list[HourPolicy], before: list[Any], batch: list[Any], split: bool
) -> None:
    fast, slow = _ledger(policies), _ledger(policies)
    # an earlier history, recorded the same way in both (or refused in both)
    assert _many(fast, before) == _one_by_one(slow, before)
    assert _state(fast) == _state(slow)
    was = _state(fast)
    if split:  # the batch in two calls of one transaction: the second on the first's view
        half = len(batch) // 2
        try:
            with fast.journal.transaction():
                got: Any = fast.post_many(batch[:half], at=NOW)
                got += fast.post_many(batch[half:], at=NOW)
        except ZhiyuanError as exc:
            got = _error(exc)
    else:
        got = _many(fast, batch)
    want = _one_by_one(slow, batch)
    assert got == want
    assert _state(fast) == _state(slow)
    if isinstance(want, tuple):  # refused: nothing recorded
        assert _state(fast) == was


def test_a_refused_batch_inside_a_transaction_leaves_the_rest() -> None:
    """A savepoint: the batch's failure drops only what the batch would have staged."""
    fast, slow = _ledger([HourPolicy()]), _ledger([HourPolicy()])
    good = record("a", start=at(2025, 3, 3, 9), minutes=60)
    bad = record("b", vid="nobody")
    for lg in (fast, slow):
        with lg.journal.transaction():
            lg.post(good, at=NOW)
            with pytest.raises(ZhiyuanError, match="nobody"):
                lg.post_many([record("c", minutes=30, start=at(2025, 3, 4, 9)), bad], at=NOW)
            lg.post_many([record("d", start=at(2025, 3, 3, 9, 30), minutes=60)], at=NOW)
    assert _state(fast) == _state(slow)
    assert [r.id for r in fast.records_of("v1")] == ["a", "d"]
    assert fast.outcome("d").counted_minutes == 30  # trimmed against "a", staged before it


def test_the_same_batch_twice_is_a_no_op() -> None:
    lg = _ledger([HourPolicy(auto_certify=["qr_scan"])])
    batch = [
        record("a", start=at(2025, 3, 3, 23), minutes=120),  # across midnight
        record("b", start=at(2025, 3, 4, 0, 30), minutes=60),  # overlaps a's second day
    ]
    first = lg.post_many(batch, at=NOW)
    state = _state(lg)
    assert lg.post_many(batch, at=NOW) == first
    assert _state(lg) == state
    assert [o.counted_minutes for o in first] == [120, 30]
    assert dict(first[0].day_minutes) == {date(2025, 3, 3): 60, date(2025, 3, 4): 60}


def test_refusals_name_the_field_and_value() -> None:
    lg = _ledger([HourPolicy()])
    used = record("a")
    lg.post_many([used], at=NOW)
    state = _state(lg)
    cases: list[tuple[list[Any], str]] = [
        ([record("x", vid="nobody")], "nobody"),
        ([record("x", org="o-none")], "o-none"),
        ([record("x", region="370602001999")], "370602001999"),
        ([record("x", region=CHENGYANG_VILLAGE), record("y", org="o-none")], "o-none"),
        ([record("x", start=NOW - timedelta(minutes=10))], "end"),
        ([record("x", recorded_at=NOW + timedelta(minutes=1))], "recorded_at"),
        ([record("x"), "r"], "record"),
        ([attrs.evolve(used, category="其他")], "'a'"),
    ]
    for batch, needle in cases:
        with pytest.raises(ZhiyuanError, match=needle):
            lg.post_many(batch, at=NOW)
        assert _state(lg) == state


def test_records_of_a_subclass_are_posted_alike() -> None:
    class Mine(ServiceRecord):
        pass

    a, b = _ledger([HourPolicy()]), _ledger([HourPolicy()])
    rec = record("a")
    mine = Mine(**{f.name: getattr(rec, f.name) for f in attrs.fields(ServiceRecord)})
    assert a.post_many([mine], at=NOW) == [b.post(rec, at=NOW)]
