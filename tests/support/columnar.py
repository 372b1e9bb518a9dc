"""The harness that holds the columnar hour evaluation to the ledger's: rows as dicts of plain
values, posted into a fresh :class:`~zhiyuan.hours.HourLedger` (in row order, or each
volunteer's by start) and evaluated by :func:`zhiyuan.bulk.evaluate_hours`, every row's outcome
compared. Used by ``tests/bulk/test_bulk_hours.py`` and ``tests/bulk/test_hours_exact_resume.py``::

    from support.columnar import assert_same, ts

A row has ``volunteer``, ``start``, ``end`` (epoch seconds), ``evidence``, ``category``,
``scheduled_minutes`` and ``checkout_missing``, and optionally ``recorded_at`` (default: the
row's end; ``NONE``: the posting time) and ``scheduled_start`` (default or ``NONE``: the start).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from zhiyuan import SHANGHAI
from zhiyuan.bulk import NONE, PURPOSES, REJECTING_RULES, STATUSES, evaluate_hours
from zhiyuan.hierarchy import Organization, Registry, load_default
from zhiyuan.hours import (
    Evidence,
    HourLedger,
    HourPolicy,
    Outcome,
    ServiceRecord,
    Status,
    Volunteer,
)

SH = SHANGHAI
REGION = "370602001001"
NOW = datetime(2025, 5, 1, 12, tzinfo=SH)
NOW_S = int(NOW.timestamp())


def ts(d: int, h: int, mi: int = 0, s: int = 0) -> int:
    """Epoch seconds of 2025-03-``d`` ``h``:``mi``:``s`` in Shanghai."""
    return int(datetime(2025, 3, d, h, mi, s, tzinfo=SH).timestamp())


_REGISTRY: list[Registry] = []


def registry() -> Registry:
    if not _REGISTRY:
        org = Organization(id="o1", name="向阳街道", region_code="370602001000")
        _REGISTRY.append(Registry(load_default(), [org]))
    return _REGISTRY[0]


def service_records(rows: list[dict[str, Any]]) -> list[ServiceRecord]:
    out = []
    for i, r in enumerate(rows):
        start = datetime.fromtimestamp(r["start"], SH)
        kw: dict[str, Any] = {}
        if r["scheduled_minutes"] != NONE:
            planned = r.get("scheduled_start", NONE)
            planned = start if planned == NONE else datetime.fromtimestamp(planned, SH)
            kw["scheduled_start"] = planned
            kw["scheduled_end"] = planned + timedelta(minutes=r["scheduled_minutes"], seconds=7)
        recorded = r.get("recorded_at", r["end"])
        if recorded != NONE:
            kw["recorded_at"] = datetime.fromtimestamp(recorded, SH)
        out.append(
            ServiceRecord(
                id=f"r{i}",
                volunteer_id=r["volunteer"],
                activity_id=f"a{i}",
                organization_id="o1",
                region_code=REGION,
                category=r["category"],
                start=start,
                end=datetime.fromtimestamp(r["end"], SH),
                evidence=Evidence(r["evidence"]),
                checkout_missing=r["checkout_missing"],
                **kw,
            )
        )
    return out


def ledger_for(rows: list[dict[str, Any]], policy: HourPolicy) -> HourLedger:
    """A fresh ledger under ``policy`` with every volunteer of ``rows`` registered."""
    vids = sorted({r["volunteer"] for r in rows})
    return HourLedger(
        registry(),
        policies=[policy],
        volunteers=[
            Volunteer(id=v, name="志愿者", home_region=REGION, registered_on=date(2020, 1, 1))
            for v in vids
        ],
    )


def posting_order(rows: list[dict[str, Any]], order: str) -> list[int]:
    """The order the rows are posted in: as given, or each volunteer's by start (ties in row
    order; volunteers never interact, so one stable sort by start does)."""
    if order == "rows":
        return list(range(len(rows)))
    return sorted(range(len(rows)), key=lambda i: rows[i]["start"])


def post(rows: list[dict[str, Any]], policy: HourPolicy, order: str = "rows") -> list[Outcome]:
    """The object path: the outcomes of posting the rows into a fresh ledger in ``order``,
    given back in the rows' order."""
    seq = posting_order(rows, order)
    outs = ledger_for(rows, policy).post_many(service_records([rows[i] for i in seq]), at=NOW)
    back: list[Outcome | None] = [None] * len(rows)
    for i, out in zip(seq, outs, strict=True):
        back[i] = out
    assert all(o is not None for o in back)
    return back  # type: ignore[return-value]


def as_columns(rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    keys = ("volunteer", "start", "end", "evidence", "category", "scheduled_minutes")
    out = {k: [r[k] for r in rows] for k in (*keys, "checkout_missing")}
    out["recorded_at"] = [r.get("recorded_at", r["end"]) for r in rows]
    if any(r.get("scheduled_start", NONE) != NONE for r in rows):
        out["scheduled_start"] = [r.get("scheduled_start", NONE) for r in rows]
    return out


def expected(out: Outcome) -> tuple[Any, ...]:
    bits = sum(1 << PURPOSES.index(p) for p in out.counts_toward)
    rule = out.findings[-1].rule if out.status is Status.REJECTED else None
    return (out.served_minutes, out.counted_minutes, out.weighted_minutes, out.status, rule, bits)


def assert_same(rows: list[dict[str, Any]], policy: HourPolicy, order: str = "rows") -> Any:
    """Both paths on ``rows``; every row's served, counted and weighted minutes, status,
    rejecting rule and purposes must agree. Returns the columnar result (``None`` for no rows)."""
    outcomes = post(rows, policy, order)
    got = evaluate_hours(as_columns(rows), policy, now=NOW, order=order) if rows else None
    for i, out in enumerate(outcomes):
        assert got is not None
        rej = int(got.rejected_by[i])
        row = (
            int(got.served_minutes[i]),
            int(got.counted_minutes[i]),
            int(got.weighted_minutes[i]),
            STATUSES[int(got.status[i])],
            REJECTING_RULES[rej] if rej >= 0 else None,
            int(got.purposes[i]),
        )
        assert row == expected(out), (i, rows[i], row, out.explain(), bool(got.fallback[i]))
    return got
