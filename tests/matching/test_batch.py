"""Batch dispatch: gates and scores from the Dispatcher, assignment by the exact solver."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zhiyuan import SHANGHAI
from zhiyuan.errors import InvalidValue
from zhiyuan.hierarchy import load_default
from zhiyuan.matching import (
    BatchPair,
    BatchResult,
    Booking,
    Candidate,
    Dispatcher,
    Need,
    dispatch_batch,
)

TREE = load_default()
COMMUNITIES = [r.code for r in TREE.children("370214001")][:6]
T0 = datetime(2025, 5, 1, 8, tzinfo=SHANGHAI)
SKILLS = ["助老", "医疗"]


def _need(i: int, region: str, headcount: int, skill: str) -> Need:
    start = T0 + timedelta(hours=3 * i)  # disjoint windows: the batch has no clock conflicts
    return Need(
        id=f"n{i}",
        requester="r",
        region_code=region,
        category="帮老",
        skills={skill},
        headcount=headcount,
        start=start,
        end=start + timedelta(hours=2),
        posted_at=T0 - timedelta(days=1),
    )


@given(
    cands=st.lists(
        st.tuples(
            st.sampled_from(COMMUNITIES), st.integers(1, 3), st.sampled_from(["助老", "医疗"])
        ),
        min_size=1,
        max_size=8,
    ),
    needs=st.lists(
        st.tuples(
            st.sampled_from(COMMUNITIES), st.integers(1, 2), st.sampled_from(["助老", "医疗"])
        ),
        min_size=1,
        max_size=6,
    ),
)
@settings(max_examples=60, deadline=None)
def test_batch_respects_capacity_and_exact_beats_greedy(
    cands: list[tuple[str, int, str]], needs: list[tuple[str, int, str]]
) -> None:
    d = Dispatcher(
        TREE,
        [
            Candidate(id=f"c{k}", home_region=home, capacity=cap, skills=[skill])
            for k, (home, cap, skill) in enumerate(cands)
        ],
    )
    batch = [_need(i, region, h, skill) for i, (region, h, skill) in enumerate(needs)]
    exact = dispatch_batch(d, batch)
    greedy = dispatch_batch(d, batch, method="greedy")
    by_id = {c.id: c for c in (d.candidate(f"c{k}") for k in range(len(cands)))}
    for result in (exact, greedy):
        per_cand: dict[str, int] = {}
        seen: set[tuple[str, str]] = set()
        for p in result.pairs:
            assert (p.need_id, p.candidate_id) not in seen  # never twice on one need
            seen.add((p.need_id, p.candidate_id))
            per_cand[p.candidate_id] = per_cand.get(p.candidate_id, 0) + 1
            need = next(n for n in batch if n.id == p.need_id)
            assert d.gate(need, by_id[p.candidate_id]) is None  # every pair passes the gates
            assert p.cost == p.parts.total
        assert all(n <= by_id[c].capacity for c, n in per_cand.items())
        filled = {n.id: n.headcount - result.unfilled.get(n.id, 0) for n in batch}
        assert sum(filled.values()) == len(result.pairs)
    # exact fills at least as many slots, and at equal fill costs no more
    assert len(exact.pairs) >= len(greedy.pairs)
    if len(exact.pairs) == len(greedy.pairs):
        assert exact.total_cost <= greedy.total_cost


def test_batch_explains_pairs_and_shortfalls() -> None:
    d = Dispatcher(TREE, [Candidate(id="a", home_region=COMMUNITIES[0], skills=["助老"])])
    result = dispatch_batch(
        d, [_need(0, COMMUNITIES[0], 2, "助老"), _need(1, COMMUNITIES[1], 1, "医疗")]
    )
    assert [(p.need_id, p.candidate_id) for p in result.pairs] == [("n0", "a")]
    assert result.unfilled == {"n0": 1, "n1": 1}
    text = result.explain()
    assert "n0 ← a: cost" in text and "n1: 还差 1 人 / 1 short" in text


# --- issue 14: no double booking inside a batch -------------------------------------------------


def _at(i: int, start_half_hours: int, length_half_hours: int, region: str, headcount: int = 1,
        skill: str = "助老") -> Need:  # fmt: skip
    start = T0 + timedelta(minutes=30 * start_half_hours)
    return Need(
        id=f"n{i}",
        requester="r",
        region_code=region,
        category="帮老",
        skills={skill},
        headcount=headcount,
        start=start,
        end=start + timedelta(minutes=30 * length_half_hours),
        posted_at=T0 - timedelta(days=1),
    )


def _overlaps(a: Need, b: Need) -> bool:
    return a.start < b.end and b.start < a.end


def test_a_candidate_of_capacity_two_is_not_booked_twice_at_once() -> None:
    # a (capacity 2) is cheapest for both needs, 09:00–11:00 and 10:00–12:00; b, one community
    # away, is free. Before: a got both. Now: a one, b the other, both filled.
    d = Dispatcher(
        TREE,
        [
            Candidate(id="a", home_region=COMMUNITIES[0], skills=["助老"], capacity=2),
            Candidate(id="b", home_region=COMMUNITIES[1], skills=["助老"]),
        ],
    )
    batch = [_at(0, 2, 4, COMMUNITIES[0]), _at(1, 4, 4, COMMUNITIES[0])]
    for method in ("exact", "greedy"):
        result = dispatch_batch(d, batch, method=method)  # type: ignore[arg-type]
        assert sorted(p.candidate_id for p in result.pairs) == ["a", "b"], method
        assert result.unfilled == {}
    assert d.bookings() == {}  # a batch books nothing


def booked_with_the_others(d: Dispatcher, batch: list[Need], pairs: Any) -> None:
    """Every pair passes the dispatcher's gates once all the other pairs are booked."""
    by_id = {n.id: n for n in batch}
    for p in pairs:
        n = by_id[p.need_id]
        d.book(Booking(candidate_id=p.candidate_id, need_id=n.id, start=n.start, end=n.end))
    for p in pairs:
        n = by_id[p.need_id]
        d.release(p.candidate_id, n.id)
        assert d.gate(n, d.candidate(p.candidate_id)) is None, (p.need_id, p.candidate_id)
        d.book(Booking(candidate_id=p.candidate_id, need_id=n.id, start=n.start, end=n.end))


@given(
    cands=st.lists(
        # any capacity: from 1 to more than the needs of a batch (then only the windows bind)
        st.tuples(st.sampled_from(COMMUNITIES), st.integers(1, 8), st.sampled_from(SKILLS)),
        min_size=1,
        max_size=8,
    ),
    needs=st.lists(
        st.tuples(
            st.integers(0, 8),  # start, in half hours after 08:00: windows overlap a lot
            st.integers(1, 6),  # length, in half hours
            st.sampled_from(COMMUNITIES),
            st.integers(1, 2),
            st.sampled_from(SKILLS),
        ),
        min_size=1,
        max_size=7,
    ),
)
@settings(max_examples=80, deadline=None)
def test_no_candidate_gets_two_overlapping_needs_of_a_batch(
    cands: list[tuple[str, int, str]], needs: list[tuple[int, int, str, int, str]]
) -> None:
    def fresh() -> Dispatcher:
        return Dispatcher(
            TREE,
            [
                Candidate(id=f"c{k}", home_region=home, capacity=cap, skills=[skill])
                for k, (home, cap, skill) in enumerate(cands)
            ],
        )

    d = fresh()
    batch = [
        _at(i, s, length, region, h, skill) for i, (s, length, region, h, skill) in enumerate(needs)
    ]
    by_id = {n.id: n for n in batch}
    results = {m: dispatch_batch(d, batch, method=m) for m in ("exact", "greedy")}  # type: ignore[arg-type]
    assert d.bookings() == {}
    for result in results.values():
        held: dict[str, list[Need]] = {}
        for p in result.pairs:
            n = by_id[p.need_id]
            assert not any(_overlaps(n, other) for other in held.get(p.candidate_id, []))
            held.setdefault(p.candidate_id, []).append(n)
        booked_with_the_others(fresh(), batch, result.pairs)
        filled = {n.id: n.headcount - result.unfilled.get(n.id, 0) for n in batch}
        assert sum(filled.values()) == len(result.pairs)
    exact, greedy = results["exact"], results["greedy"]
    assert (len(exact.pairs), -exact.total_cost) >= (len(greedy.pairs), -greedy.total_cost)


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ((None, []), "dispatcher"),
        (("d", None), "needs"),  # "d": the dispatcher below
        (("d", [None]), "needs"),
        (("d", "n0"), "needs"),
        (
            ("d", [_need(0, COMMUNITIES[0], 1, "助老"), _need(0, COMMUNITIES[1], 1, "助老")]),
            "needs",
        ),
    ],
)
def test_bad_batches_are_refused_and_book_nothing(args: tuple[Any, Any], field: str) -> None:
    d = Dispatcher(TREE, [Candidate(id="a", home_region=COMMUNITIES[0], skills=["助老"])])
    d.book(
        Booking(
            candidate_id="a", need_id="x", start=T0 - timedelta(days=2), end=T0 - timedelta(days=1)
        )
    )
    before = d.bookings()
    with pytest.raises(InvalidValue) as err:
        dispatch_batch(d if args[0] == "d" else args[0], args[1])
    assert err.value.field == field
    assert d.bookings() == before
    with pytest.raises(InvalidValue, match="method"):
        dispatch_batch(d, [], method="best")  # type: ignore[arg-type]


def test_batch_results_check_their_fields() -> None:
    with pytest.raises(InvalidValue, match="unfilled"):
        BatchResult(pairs=(), total_cost=0, unfilled={"n0": 0}, method="exact", backend="scipy")
    with pytest.raises(InvalidValue, match="pairs"):
        BatchResult(pairs=None, total_cost=0, unfilled={}, method="exact", backend="scipy")  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="parts"):
        BatchPair(need_id="n0", candidate_id="a", cost=1, parts=None)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="unfilled"):
        BatchResult(pairs=(), total_cost=0, unfilled={" ": 1}, method="exact", backend="scipy")
    with pytest.raises(InvalidValue, match="total_cost"):
        BatchResult(pairs=(), total_cost=-1, unfilled={}, method="exact", backend="scipy")
