"""The call-up (紧急召集, issue 12 items 1 and 2): urgency served first by the assignment backends and
by batch dispatch; a call-up that fills every place any assignment can fill, nearest first, with
its escalation explained; the 市南 平战结合 case (435 volunteers to 11 streets in a day); the
call-up recorded in a need book; and brute-force comparisons on small random instances."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from support.matching import (
    OTHER_CITY_VILLAGE,
    OTHER_TOWNSHIP_VILLAGE,
    SIBLING,
    VILLAGE,
    at,
    cand,
    dispatcher,
    need,
    other_county_village,
    tree,
)
from zhiyuan import SHANGHAI
from zhiyuan.convert import from_json, to_json
from zhiyuan.errors import Conflict, InvalidValue, NotFound
from zhiyuan.hierarchy import Level
from zhiyuan.matching import (
    AssignmentProblem,
    CallUpResult,
    Candidate,
    Dispatcher,
    Need,
    NeedBook,
    NeedState,
    Urgency,
    call_up,
    dispatch_batch,
    solve_assignment,
)
from zhiyuan.matching.assignment.problem import objective

E, H, N, L = Urgency.EMERGENCY, Urgency.HIGH, Urgency.NORMAL, Urgency.LOW


# --- brute force ---------------------------------------------------------------------------------


def brute_best(
    pairs: Sequence[tuple[int, int]],
    heads: Sequence[int],
    caps: Sequence[int],
    clash: set[tuple[int, int]],
    key: object,
) -> tuple[int, ...]:
    """The best ``key(subset)`` over every feasible subset of ``pairs`` (need ``i`` at most
    ``heads[i]`` times, candidate ``j`` at most ``caps[j]`` times, never two needs of ``clash``
    for one candidate)."""
    best: tuple[int, ...] | None = None
    for r in range(len(pairs) + 1):
        for sub in itertools.combinations(range(len(pairs)), r):
            per_need = Counter(pairs[k][0] for k in sub)
            per_cand = Counter(pairs[k][1] for k in sub)
            if any(per_need[i] > heads[i] for i in per_need):
                continue
            if any(per_cand[j] > caps[j] for j in per_cand):
                continue
            held: dict[int, list[int]] = {}
            for k in sub:
                held.setdefault(pairs[k][1], []).append(pairs[k][0])
            if any((a, b) in clash for mine in held.values() for a in mine for b in mine if a != b):
                continue
            value = key(sub)  # type: ignore[operator]
            if best is None or value > best:
                best = value
    assert best is not None
    return best


# --- the assignment backends serve priorities first ---------------------------------------------


@st.composite
def prioritised(draw: st.DrawFn) -> AssignmentProblem:
    n, m = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    options = []
    for _ in range(n):
        js = draw(st.lists(st.integers(0, m - 1), unique=True, max_size=min(m, 4)))
        options.append([(j, draw(st.integers(0, 9))) for j in js])
    windows = draw(st.booleans())
    starts = [draw(st.sampled_from([0, 5, 10])) for _ in range(n)] if windows else None
    return AssignmentProblem.from_lists(
        headcounts=[draw(st.integers(1, 2)) for _ in range(n)],
        capacities=[draw(st.integers(1, 2)) for _ in range(m)],
        options=options,
        starts=starts,
        ends=None if starts is None else [s + draw(st.sampled_from([5, 8])) for s in starts],
        priorities=[draw(st.integers(0, 3)) for _ in range(n)],
    )


def _index(p: AssignmentProblem) -> dict[tuple[int, int], int]:
    return {(p.needs[k], p.candidates[k]): k for k in range(p.n_pairs)}


@settings(max_examples=200)
@given(p=prioritised(), backend=st.sampled_from(["python", "scipy"]))
def test_exact_backends_serve_priorities_lexicographically(
    p: AssignmentProblem, backend: str
) -> None:
    pairs = [(p.needs[k], p.candidates[k]) for k in range(p.n_pairs)]
    clash = set()
    if p.has_windows:
        s, e = p.starts.tolist(), p.ends.tolist()
        clash = {
            (a, b)
            for a in range(p.n_needs)
            for b in range(p.n_needs)
            if s[a] < e[b] and s[b] < e[a]
        }
    best = brute_best(
        pairs, p.headcounts.tolist(), p.capacities.tolist(), clash, lambda sub: objective(p, sub)
    )
    got = solve_assignment(p, backend=backend)  # type: ignore[arg-type]
    index = _index(p)
    assert objective(p, [index[(x.need, x.candidate)] for x in got.pairs]) == best
    if p.has_priorities:
        tiers = sorted(set(p.priorities.tolist()), reverse=True)
        assert [t for t, _, _ in got.tiers] == tiers
        assert [f for _, _, f in got.tiers] == list(best[: len(tiers)])


def test_one_candidate_for_two_needs_goes_to_the_urgent_one_in_every_method() -> None:
    p = AssignmentProblem.from_lists(
        headcounts=[1, 1], capacities=[1], options=[[(0, 1)], [(0, 50)]], priorities=[1, 3]
    )
    for method, backend in (("exact", "python"), ("exact", "scipy"), ("greedy", "auto")):
        a = solve_assignment(p, method=method, backend=backend)  # type: ignore[arg-type]
        assert [(x.need, x.candidate) for x in a.pairs] == [(1, 0)], (method, backend)
        assert a.tiers == ((3, 1, 1), (1, 1, 0))
        assert "优先级 3：已派 1/1 个名额 / priority 3: 1 of 1 slots filled" in a.explain()
    # the same problem without priorities takes the cheaper need: the test above could fail
    flat = AssignmentProblem.from_lists(
        headcounts=[1, 1], capacities=[1], options=[[(0, 1)], [(0, 50)]]
    )
    assert [x.need for x in solve_assignment(flat).pairs] == [0] and not flat.has_priorities


def test_priorities_round_trip_and_are_checked() -> None:
    p = AssignmentProblem.from_lists(
        headcounts=[1, 1], capacities=[1], options=[[(0, 1)], [(0, 2)]], priorities=[0, 2]
    )
    assert from_json(to_json(p), AssignmentProblem) == p
    assert '"priorities"' in to_json(p) and '"priorities"' not in to_json(
        AssignmentProblem.from_lists(headcounts=[1], capacities=[1], options=[[(0, 1)]])
    )
    with pytest.raises(InvalidValue, match=r"priorities\[1\]"):
        AssignmentProblem.from_lists(
            headcounts=[1, 1], capacities=[1], options=[[], []], priorities=[0, -1]
        )
    with pytest.raises(InvalidValue, match="priorities"):
        AssignmentProblem.from_lists(
            headcounts=[1, 1], capacities=[1], options=[[], []], priorities=[0]
        )
    dense = AssignmentProblem.from_dense(
        headcounts=[1, 1], capacities=[1], costs=[[1], [2]], priorities=[0, 2]
    )
    assert [x.need for x in solve_assignment(dense).pairs] == [1]


# --- batch dispatch serves urgency first ---------------------------------------------------------


def test_dispatch_batch_leaves_no_emergency_place_empty_for_a_normal_one() -> None:
    d = dispatcher(cand("a", skills=["助老"]))
    near = need("near", VILLAGE, skills={"助老"})  # a's own community: cheaper
    urgent = need("urgent", SIBLING, skills={"助老"}, urgency=E)
    for method in ("exact", "greedy"):
        result = dispatch_batch(d, [near, urgent], method=method)  # type: ignore[arg-type]
        assert [(p.need_id, p.candidate_id) for p in result.pairs] == [("urgent", "a")]
        assert result.pairs[0].level is Level.TOWNSHIP and result.unfilled == {"near": 1}
        assert [(t.urgency, t.places, t.filled) for t in result.tiers] == [(E, 1, 1), (N, 1, 0)]
        assert result.explain().splitlines()[:2] == [
            "紧急：已派 1/1 个名额 / emergency: 1 of 1 places filled",
            "普通：已派 0/1 个名额 / normal: 0 of 1 places filled",
        ]
    # at equal urgency the nearer need wins: the assertion above could fail
    same = dispatch_batch(d, [near, need("urgent", SIBLING, skills={"助老"})])
    assert [p.need_id for p in same.pairs] == ["near"] and same.pairs[0].level is Level.VILLAGE


# --- 市南, 10月12日: 435 volunteers to 11 streets in a day ----------------------------------------

SHINAN = "370202000000"


def _t(h: int) -> datetime:
    return datetime(2025, 10, 12, h, tzinfo=SHANGHAI)


def shinan() -> tuple[Dispatcher, list[Need]]:
    """市南区's 11 streets: 香港中路 has 40 volunteers and three emergency needs of 20; 八大峡 30
    volunteers and three high needs of 15; 云南路 35 volunteers and no need; each of the other
    eight streets one normal need as large as its own volunteers (40 × 6, 45 × 2). 435
    volunteers, 435 places. A batch looks only as far as twice a need's headcount: the needs of
    香港中路 and 八大峡 stop at their own street (40 ≥ 2 × 20, 30 ≥ 2 × 15) and strand 35 places
    there, while 云南路's 35 volunteers stay idle."""
    t = tree()
    streets = [c.code for c in t.children(SHINAN)]
    assert len(streets) == 11
    villages = {s: [v.code for v in t.children(s)] for s in streets}
    cands: list[Candidate] = []
    needs: list[Need] = []

    def volunteers(street: str, k: int, tag: str) -> None:
        homes = villages[street]
        cands.extend(
            Candidate(id=f"{tag}{i:03d}", home_region=homes[i % len(homes)]) for i in range(k)
        )

    def order(nid: str, street: str, village: int, headcount: int, urgency: Urgency) -> None:
        needs.append(
            Need(
                id=nid,
                requester=f"{nid} 街道",
                region_code=villages[street][village],
                category="平战结合",
                headcount=headcount,
                urgency=urgency,
                start=_t(9),
                end=_t(17),
                posted_at=_t(7),
            )
        )

    volunteers(streets[0], 40, "xg")
    for i in range(3):
        order(f"香港中路{i}", streets[0], i, 20, E)
    volunteers(streets[1], 30, "bdx")
    for i in range(3):
        order(f"八大峡{i}", streets[1], i, 15, H)
    volunteers(streets[2], 35, "yn")  # 云南路: volunteers, no need
    for k, size in enumerate([40] * 6 + [45, 45]):
        volunteers(streets[3 + k], size, f"s{k}-")
        order(f"街道{k}", streets[3 + k], 0, size, N)
    assert len(cands) == 435 and sum(n.headcount for n in needs) == 435
    return Dispatcher(t, cands), needs


def test_shinan_a_batch_strands_places_next_to_idle_volunteers() -> None:
    d, needs = shinan()
    batch = dispatch_batch(d, needs)
    idle = set(d._candidates) - {p.candidate_id for p in batch.pairs}
    assert sum(batch.unfilled.values()) == 35 and len(idle) == 35
    stranded = [n for n in needs if n.id in batch.unfilled]
    # every idle volunteer could have filled every stranded place: a call-up is needed
    for n in stranded:
        for cid in idle:
            c = d.candidate(cid)
            assert d.gate(n, c) is None and d.level_of(n, c) is Level.COUNTY


def test_shinan_call_up_fills_every_place_urgent_first_and_nearest_first() -> None:
    d, needs = shinan()
    result = call_up(d, needs)
    assert isinstance(result, CallUpResult)
    assert (result.filled, result.places, result.unfilled) == (435, 435, {})
    assert [(t.urgency, t.places, t.filled) for t in result.tiers] == [
        (E, 60, 60),
        (H, 45, 45),
        (N, 330, 330),
    ]
    by_id = {n.id: n for n in needs}
    per_cand = Counter(p.candidate_id for p in result.pairs)
    assert set(per_cand.values()) == {1} and len(per_cand) == 435  # each volunteer once
    for p in result.pairs:
        n, c = by_id[p.need_id], d.candidate(p.candidate_id)
        assert d.gate(n, c) is None and p.level is d.level_of(n, c) and p.cost == p.parts.total
    # nearest first: a need with volunteers enough in its own street never leaves it; the
    # stranded streets take from their own street first, and only the rest from the district
    for account in result.needs:
        levels = dict(account.by_level)
        assert sum(levels.values()) == account.filled == account.places
        if account.need_id.startswith("街道"):
            assert account.level is Level.TOWNSHIP
    from_district = sum(
        dict(a.by_level).get(Level.COUNTY, 0)
        for a in result.needs
        if not a.need_id.startswith("街道")
    )
    own_street = sum(
        dict(a.by_level).get(Level.VILLAGE, 0) + dict(a.by_level).get(Level.TOWNSHIP, 0)
        for a in result.needs
        if not a.need_id.startswith("街道")
    )
    assert (from_district, own_street) == (35, 70)  # 云南路's 35, and every local volunteer
    district = [p for p in result.pairs if p.level is Level.COUNTY]
    assert {p.candidate_id[:2] for p in district} == {"yn"}
    text = result.explain()
    assert text.splitlines()[0] == (
        "紧急召集：14 项需求共 435 个名额，已派 435 个 / call-up: 435 of 435 places filled over 14 needs"
    )
    assert "需求 香港中路0（紧急）：已派 20/20 个名额，村级" in text and "县级" in text


def test_shinan_call_up_recorded_in_a_need_book_as_a_binding_order() -> None:
    d, needs = shinan()
    book = NeedBook(dispatcher=d)
    for n in needs:
        book.post(n)
    result = book.call_up([n.id for n in needs], at=_t(8), accept=True)
    assert result.filled == 435
    assert {book.state(n.id) for n in needs} == {NeedState.ACCEPTED}
    assert len(d.bookings()) == 435
    assert len(book) == 14 + 2 * 435
    # a second call-up has nothing left to fill and records nothing
    again = book.call_up([n.id for n in needs], at=_t(8))
    assert again.pairs == () and again.places == 0 and len(book) == 14 + 2 * 435


# --- the call-up against brute force on small random instances ------------------------------------

HOMES = (VILLAGE, SIBLING, OTHER_TOWNSHIP_VILLAGE, OTHER_CITY_VILLAGE)
SLOTS = ((9, 11), (14, 16))


@st.composite
def small_city(draw: st.DrawFn) -> tuple[Dispatcher, list[Need]]:
    homes = (*HOMES, other_county_village())
    cands = []
    for j in range(draw(st.integers(1, 4))):
        capacity = draw(st.integers(1, 2))
        cands.append(
            cand(
                f"c{j}",
                draw(st.sampled_from(homes)),
                skills=draw(st.sets(st.sampled_from(["A", "B"]))),
                capacity=capacity,
                load=draw(st.sampled_from([0, 0, 0, capacity])),
                # a poor rating and record cost more than a step up the tree (100): nearest
                # first must then come from the call-up, not from the score
                rating_hundredths=draw(st.sampled_from([0, 250, 500])),
                no_shows=draw(st.integers(0, 1)),
            )
        )
    needs = []
    for i in range(draw(st.integers(1, 3))):
        start, end = draw(st.sampled_from(SLOTS))
        needs.append(
            need(
                f"n{i}",
                draw(st.sampled_from(HOMES[:3])),
                skills=draw(st.sets(st.sampled_from(["A", "B"]), max_size=1)),
                headcount=draw(st.integers(1, 2)),
                start=at(1, start),
                end=at(1, end),
                urgency=draw(st.sampled_from([L, N, H, E])),
            )
        )
    return dispatcher(*cands), needs


@settings(max_examples=120)
@given(case=small_city(), backend=st.sampled_from(["python", "scipy"]))
def test_call_up_fills_as_many_places_as_any_assignment_urgency_first_nearest_first(
    case: tuple[Dispatcher, list[Need]], backend: str
) -> None:
    d, needs = case
    cands = [d.candidate(f"c{j}") for j in range(len(d._candidates))]
    ladder = [Level.VILLAGE, Level.TOWNSHIP, Level.COUNTY, Level.CITY]
    pairs, steps = [], []
    for i, n in enumerate(needs):
        for j, c in enumerate(cands):
            level = d.level_of(n, c)
            if d.gate(n, c) is None and level is not None:  # the oracle of eligibility
                pairs.append((i, j))
                steps.append(ladder.index(level))
    caps = [max(c.capacity - c.load, 0) for c in cands]
    clash = {
        (a, b)
        for a in range(len(needs))
        for b in range(len(needs))
        if needs[a].start == needs[b].start
    }
    ranks = sorted({n.urgency.rank for n in needs}, reverse=True)

    def key(sub: Sequence[int]) -> tuple[int, ...]:
        filled = Counter(needs[pairs[k][0]].urgency.rank for k in sub)
        return (*(filled[r] for r in ranks), len(sub), -sum(steps[k] for k in sub))

    best = brute_best(pairs, [n.headcount for n in needs], caps, clash, key)
    result = call_up(d, needs, backend=backend)  # type: ignore[arg-type]
    got = [(int(p.need_id[1:]), int(p.candidate_id[1:])) for p in result.pairs]
    assert set(got) <= set(pairs)  # never an ineligible candidate
    per_cand = Counter(j for _, j in got)
    assert all(per_cand[j] <= caps[j] for j in per_cand)  # never beyond the capacity left
    assert len(set(got)) == len(got)  # never twice on one need
    for (a, j), (b, k) in itertools.combinations(got, 2):
        assert not (j == k and (a, b) in clash)  # never two needs at once
    mine = key([pairs.index(g) for g in got])
    assert mine[: len(ranks)] == best[: len(ranks)]  # urgency served lexicographically
    assert result.filled == best[len(ranks)]  # as many places as any feasible assignment
    assert mine[-1] == best[-1]  # and as near as any that does as well
    assert [(t.urgency.rank, t.filled) for t in result.tiers] == list(
        zip(ranks, best[: len(ranks)], strict=True)
    )


def test_a_nearer_candidate_is_taken_although_a_farther_one_scores_better() -> None:
    """Nearest first is the call-up's rule, not the score's: the ladder is climbed only as far
    as needed, however much better a candidate one street away is rated."""
    d = dispatcher(cand("near", rating_hundredths=0, no_shows=1), cand("far", SIBLING))
    assert d.score(need(), d.candidate("near")).total > d.score(need(), d.candidate("far")).total
    # a second need makes the search look two candidates deep, so both are in the pool
    lonely = need("n2", OTHER_TOWNSHIP_VILLAGE, skills={"法律"})
    result = call_up(d, [need(), lonely])
    assert [(p.candidate_id, p.level) for p in result.pairs] == [("near", Level.VILLAGE)]
    assert result.need("n1").by_level == ((Level.VILLAGE, 1),)


# --- explanations of empty places ------------------------------------------------------------------


def test_an_empty_place_is_explained_with_the_counts() -> None:
    d = dispatcher(
        cand("a", skills=["助老"]),
        cand("b", SIBLING, skills=["助老"]),
        cand("nurse", OTHER_TOWNSHIP_VILLAGE, skills=["医疗"]),
    )
    urgent = need("urgent", skills={"助老"}, headcount=2, urgency=E)
    normal = need("normal", SIBLING, skills={"助老"}, headcount=2)
    lonely = need("lonely", skills={"法律"})
    result = call_up(d, [urgent, normal, lonely])
    assert result.unfilled == {"normal": 2, "lonely": 1}
    assert {(p.need_id, p.candidate_id) for p in result.pairs} == {("urgent", "a"), ("urgent", "b")}
    account = result.need("normal")
    assert (account.places, account.filled, account.eligible) == (2, 0, 2)
    assert account.searched is Level.CITY and account.region_code == "370200000000"
    assert dict(account.excluded) == {"dispatch.skills": 1}
    text = account.explain()
    assert (
        "市级（370200000000）以内的 2 名合格候选中，0 名派给本需求，其余 2 名已满额或派给了其他需求，2 个名额空缺"
        in text
    )
    assert "failed the gates: missing skills 1" in text
    none = result.need("lonely").explain()
    assert "以内没有合格候选，1 个名额空缺" in none and "missing skills 3" in none
    with pytest.raises(NotFound):
        result.need("ghost")


def test_call_up_leaves_out_the_excluded_and_fills_only_the_places_given() -> None:
    d = dispatcher(cand("a"), cand("b"), cand("c", SIBLING))
    n = need(headcount=3)
    result = call_up(d, [n], places={"n1": 2}, exclude={"n1": ["a"]})
    assert sorted(p.candidate_id for p in result.pairs) == ["b", "c"]
    account = result.need("n1")
    assert account.places == 2 and dict(account.excluded) == {"callup.asked": 1}
    assert account.eligible == 2 and account.by_level == ((Level.VILLAGE, 1), (Level.TOWNSHIP, 1))
    nothing = call_up(d, [n], places={"n1": 0})
    assert nothing.pairs == () and nothing.need("n1").searched is None


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"places": {"n1": 4}}, "places.n1"),
        ({"places": {"n1": -1}}, "places.n1"),
        ({"places": {"ghost": 1}}, "places"),
        ({"exclude": {"ghost": ["a"]}}, "exclude"),
        ({"exclude": {"n1": "a"}}, "exclude.n1"),
        ({"backend": "gurobi"}, "backend"),
    ],
)
def test_call_up_refuses_bad_arguments_naming_them(kwargs: dict[str, object], field: str) -> None:
    d = dispatcher(cand("a"))
    with pytest.raises(InvalidValue) as err:
        call_up(d, [need(headcount=3)], **kwargs)  # type: ignore[arg-type]
    assert err.value.field == field
    with pytest.raises(InvalidValue, match="needs"):
        call_up(d, [need(), need()])
    with pytest.raises(InvalidValue, match="dispatcher"):
        call_up(None, [need()])  # type: ignore[arg-type]


# --- the call-up in a need book ---------------------------------------------------------------------


def test_need_book_call_up_offers_free_places_only_and_in_one_go() -> None:
    d = dispatcher(
        cand("a"), cand("b"), cand("c", SIBLING), cand("d", SIBLING), offer_timeout_minutes=30
    )
    book = NeedBook(dispatcher=d)
    book.post(need(headcount=3))
    book.post(need("n2", SIBLING, start=at(2, 9), end=at(2, 11), urgency=E))
    book.offer("n1", "a", at=at(1, 7, 5))
    book.decline("n1", "a", at=at(1, 7, 6))
    book.offer("n1", "b", at=at(1, 7, 7))  # open: covers one place
    size = len(book)
    result = book.call_up(["n1", "n2"], at=at(1, 7, 10))
    assert result.need("n1").places == 2 and result.need("n2").places == 1
    assert {p.candidate_id for p in result.pairs if p.need_id == "n1"} == {"c", "d"}  # not a, b
    new = book.entries[size:]
    assert len(new) == 3 and all(e.at == at(1, 7, 10) for e in new)
    assert all(type(e).__name__ == "Offered" for e in new)
    assert {e.expires_at for e in new} == {at(1, 7, 40)}  # the policy's deadline
    assert book.state("n1") is NeedState.OFFERED and d.bookings() == {}


@pytest.mark.parametrize("bad", ["ghost", "done", "twice"])
def test_need_book_call_up_refuses_and_records_nothing(bad: str) -> None:
    d = dispatcher(cand("a"), cand("b"))
    book = NeedBook(dispatcher=d)
    book.post(need())
    book.post(need("done", start=at(2, 9), end=at(2, 11)))
    book.cancel("done", at=at(1, 8), by="张大爷")
    before = book.entries
    ids = {"ghost": ["n1", "ghost"], "done": ["n1", "done"], "twice": ["n1", "n1"]}[bad]
    error = {"ghost": NotFound, "done": Conflict, "twice": InvalidValue}[bad]
    with pytest.raises(error):
        book.call_up(ids, at=at(1, 9))
    assert book.entries == before
    with pytest.raises(InvalidValue, match="dispatcher"):
        NeedBook().call_up(["n1"])
