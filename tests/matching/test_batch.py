"""Batch dispatch: gates and scores from the Dispatcher, assignment by the exact solver."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from zhiyuan._validators import SHANGHAI
from zhiyuan.hierarchy import load_default
from zhiyuan.matching import Candidate, Dispatcher, Need, dispatch_batch

TREE = load_default()
COMMUNITIES = [r.code for r in TREE.children("370214001")][:6]
T0 = datetime(2025, 5, 1, 8, tzinfo=SHANGHAI)


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
