"""Rankings (top volunteers and teams) and the active-volunteer rule."""

from __future__ import annotations

import itertools
from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zhiyuan import SHANGHAI
from zhiyuan.errors import InvalidValue
from zhiyuan.hierarchy import Organization, Registry, load_default
from zhiyuan.hours import (
    Evidence,
    HourLedger,
    HourPolicy,
    HourRow,
    Purpose,
    ServiceRecord,
    Volunteer,
)
from zhiyuan.scoring import (
    ActivityRule,
    active_counts_by_region,
    active_volunteers,
    rank,
    top_teams,
    top_volunteers,
)

PURPOSES = frozenset({Purpose.STARS})


def row(
    v: str,
    minutes: int,
    day: date = date(2025, 3, 1),
    team: str | None = None,
    region: str = "370602001001",
) -> HourRow:
    return HourRow(v, day, minutes, minutes, Evidence.QR_SCAN, "助老", PURPOSES, region, team)


def test_ties_share_a_rank_and_break_by_id() -> None:
    rows = [row("b", 60), row("a", 60), row("c", 90), row("d", 30)]
    out = rank(rows, 4)
    assert [(e.rank, e.id, e.minutes) for e in out] == [
        (1, "c", 90),
        (2, "a", 60),
        (2, "b", 60),
        (4, "d", 30),
    ]
    assert [e.id for e in rank(rows, 2)] == ["c", "a"]  # the cut-off tie goes to the lower id


def test_team_ranking_skips_rows_without_team_and_sums_members() -> None:
    rows = [
        row("a", 60, team="t2"),
        row("b", 50, team="t2"),
        row("c", 100, team="t1"),
        row("d", 500),
    ]
    assert [(e.id, e.minutes) for e in rank(rows, 5, key="team")] == [("t2", 110), ("t1", 100)]


def test_period_and_subtree_filters() -> None:
    tree = load_default()
    rows = [
        row("a", 60, date(2024, 12, 31)),
        row("a", 10, date(2025, 1, 1)),
        row("b", 30, date(2025, 12, 31), region="370202001001"),
        row("c", 90, date(2026, 1, 1)),
    ]
    year = (date(2025, 1, 1), date(2026, 1, 1))
    assert [(e.id, e.minutes) for e in rank(rows, 9, period=year)] == [("b", 30), ("a", 10)]
    assert [e.id for e in rank(rows, 9, tree=tree, within="3706")] == ["c", "a"]
    with pytest.raises(InvalidValue):
        rank(rows, 3, within="3706")  # no tree given
    with pytest.raises(InvalidValue):
        rank(rows, -1)


@given(
    st.lists(
        st.tuples(st.sampled_from("abcdefg"), st.integers(min_value=0, max_value=600)), max_size=30
    ),
    st.integers(min_value=0, max_value=10),
)
@settings(max_examples=150, deadline=None)
def test_rank_is_deterministic_sorted_and_complete(pairs: list[tuple[str, int]], n: int) -> None:
    rows = [row(v, m) for v, m in pairs]
    out = rank(rows, n)
    assert out == rank(list(reversed(rows)), n)  # order of input does not matter
    totals: dict[str, int] = {}
    for v, m in pairs:
        totals[v] = totals.get(v, 0) + m
    assert len(out) == min(n, len(totals))
    keys = [(-e.minutes, e.id) for e in out]
    assert keys == sorted(keys)
    assert all(totals[e.id] == e.minutes for e in out)
    for prev, cur in itertools.pairwise(out):
        assert cur.rank == (prev.rank if cur.minutes == prev.minutes else out.index(cur) + 1)
    if out:
        # nobody left out has more minutes than the last one kept
        kept = {e.id for e in out}
        assert all(m <= out[-1].minutes for v, m in totals.items() if v not in kept)


def _ledger() -> HourLedger:
    reg = Registry(load_default(), [Organization(id="o1", name="协会", region_code="370602")])
    ledger = HourLedger(reg, policies=[HourPolicy(auto_certify={"qr_scan"})])
    for i, home in enumerate(["370602001001", "370602001002", "370202001001"]):
        ledger.add_volunteer(
            Volunteer(id=f"v{i}", name="x", home_region=home, registered_on=date(2020, 1, 1))
        )
    return ledger


def _post(
    ledger: HourLedger,
    rid: str,
    vid: str,
    day: date,
    hours: int,
    team: str | None,
    evidence: Evidence = Evidence.QR_SCAN,
) -> None:
    start = datetime(day.year, day.month, day.day, 8, tzinfo=SHANGHAI)
    ledger.post(
        ServiceRecord(
            id=rid,
            volunteer_id=vid,
            activity_id="a",
            organization_id="o1",
            region_code="370602001001",
            category="助老",
            evidence=evidence,
            start=start,
            end=start.replace(hour=8 + hours),
            team_id=team,
        ),
        at=datetime(2025, 12, 31, tzinfo=SHANGHAI),
    )


def test_ledger_rankings_and_activity() -> None:
    ledger = _ledger()
    _post(ledger, "r1", "v0", date(2025, 5, 1), 3, "t1")
    _post(ledger, "r2", "v1", date(2025, 5, 2), 5, "t1")
    _post(ledger, "r3", "v2", date(2024, 1, 2), 8, "t2")
    _post(ledger, "r4", "v2", date(2025, 5, 3), 1, "t2", Evidence.SELF_REPORT)  # not certified
    as_of = datetime(2026, 1, 1, tzinfo=SHANGHAI)
    assert [(e.id, e.minutes) for e in top_volunteers(ledger, 5, as_of=as_of)] == [
        ("v2", 480),
        ("v1", 300),
        ("v0", 180),
    ]
    assert [(e.id, e.minutes) for e in top_teams(ledger, 5, as_of=as_of)] == [
        ("t1", 480),
        ("t2", 480),
    ]
    rule = ActivityRule(min_minutes=120, months=12)
    assert active_volunteers(ledger, rule, as_of=as_of) == {"v0", "v1"}  # v2 served in 2024 only
    counts = active_counts_by_region(ledger, rule, as_of=as_of)
    assert counts["370602001000"] == 2 and counts["370600000000"] == 2
    assert "370202000000" not in counts
    assert active_volunteers(ledger, ActivityRule(min_minutes=200), as_of=as_of) == {"v1"}
    with pytest.raises(InvalidValue):
        active_volunteers(ledger, rule, as_of=datetime(2026, 1, 1))
