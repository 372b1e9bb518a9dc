"""Teams nest: 总队 → 分队 → 小队 (城阳, seed 003; 仁怀, POLICIES.md §5.3) (units.py)."""

from __future__ import annotations

import itertools
import random
import sys
import threading
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zhiyuan.convert import from_json, from_toml, to_json, to_toml
from zhiyuan.errors import Conflict, InvalidValue, NotFound
from zhiyuan.hierarchy import (
    TEAM_STANDARD_PROFILES,
    PracticeInstitute,
    RegionTree,
    Registry,
    Team,
    load_default,
)

RENHUAI = "520382000000"  # 仁怀市: 1 中心, 20 所, 181 站 (POLICIES.md §5.3)
YANJIN = "520382001000"  # 盐津街道
YANJIN_VILLAGE = "520382001001"
OTHER_TOWN = "520382002000"


@pytest.fixture(scope="module")
def tree() -> RegionTree:
    return load_default()


@pytest.fixture
def reg(tree: RegionTree) -> Registry:
    return Registry(tree)


def team(tid: str, code: str, parent: str | None = None, *, kind: str = "综合") -> Team:
    return Team(id=tid, name=f"队{tid}", region_code=code, kind=kind, parent_id=parent)


@pytest.fixture
def renhuai(reg: Registry) -> Registry:
    """仁怀's county 总队, two 所 分队 and three 站 小队."""
    reg.add(team("zd", RENHUAI))
    reg.add(team("fd-b", YANJIN, "zd"))
    reg.add(team("fd-a", OTHER_TOWN, "zd"))
    reg.add(team("xd-2", YANJIN_VILLAGE, "fd-b"))
    reg.add(team("xd-1", YANJIN_VILLAGE, "fd-b"))
    reg.add(team("xd-3", "520382002001", "fd-a"))
    reg.add(team("lone", RENHUAI))
    return reg


def ids(teams: list[Team]) -> list[str]:
    return [t.id for t in teams]


def test_subteams_and_paths(renhuai: Registry) -> None:
    assert ids(renhuai.subteams("zd")) == ["fd-b", "fd-a"]  # by code: 盐津 (001) first
    assert ids(renhuai.subteams("zd", deep=True)) == ["fd-b", "xd-1", "xd-2", "fd-a", "xd-3"]
    assert ids(renhuai.subteams("fd-b")) == ["xd-1", "xd-2"]
    assert renhuai.subteams("xd-1") == [] and renhuai.subteams("lone", deep=True) == []
    assert ids(renhuai.team_path("xd-2")) == ["zd", "fd-b", "xd-2"]
    assert ids(renhuai.team_path("zd")) == ["zd"]
    for bad in ("nobody", ""):
        with pytest.raises((NotFound, InvalidValue)):
            renhuai.subteams(bad)
        with pytest.raises((NotFound, InvalidValue)):
            renhuai.team_path(bad)
    with pytest.raises(NotFound) as info:
        renhuai.team_path("nobody")
    assert (info.value.what, info.value.key) == ("team", "nobody")


def test_a_parent_must_be_registered_first(reg: Registry) -> None:
    with pytest.raises(NotFound) as info:
        reg.add(team("fd", YANJIN, "zd"))
    assert (info.value.what, info.value.key) == ("team", "zd")
    assert reg.teams() == []
    reg.add(team("zd", RENHUAI))
    reg.add(team("fd", YANJIN, "zd"))
    assert ids(reg.subteams("zd")) == ["fd"]


@pytest.mark.parametrize(
    ("parent_code", "child_code"),
    [(YANJIN, RENHUAI), (YANJIN, OTHER_TOWN), (YANJIN_VILLAGE, YANJIN), (RENHUAI, "370602")],
)
def test_a_team_sits_at_or_below_its_parent(
    reg: Registry, parent_code: str, child_code: str
) -> None:
    reg.add(team("p", parent_code))
    before = reg.items()
    with pytest.raises(InvalidValue) as info:
        reg.add(team("c", child_code, "p"))
    assert info.value.field == "parent_id" and info.value.value == "p"
    assert "not at or below it" in info.value.reason and "不在其下" in info.value.reason
    assert reg.items() == before
    assert reg.subteams("p") == []
    reg.add(team("c", parent_code, "p"))  # the same node is fine
    assert ids(reg.subteams("p")) == ["c"]


def test_a_team_is_never_its_own_parent() -> None:
    with pytest.raises(InvalidValue) as info:
        team("a", RENHUAI, "a")
    assert info.value.field == "parent_id"


def test_a_team_cannot_be_re_added_under_another_parent(renhuai: Registry) -> None:
    with pytest.raises(Conflict):
        renhuai.add(team("xd-1", YANJIN_VILLAGE, "zd"))
    assert ids(renhuai.team_path("xd-1")) == ["zd", "fd-b", "xd-1"]
    renhuai.add(team("xd-1", YANJIN_VILLAGE, "fd-b"))  # the same team: a no-op
    assert ids(renhuai.subteams("fd-b")) == ["xd-1", "xd-2"]


def test_nesting_does_not_change_what_the_standard_counts(renhuai: Registry) -> None:
    renhuai.add(PracticeInstitute(id="i", name="盐津街道实践所", region_code=YANJIN))
    (s,) = renhuai.shortfalls(TEAM_STANDARD_PROFILES["yantai"])
    # only the 分队 at the township's node counts, not the 小队 below it
    assert s.unit.id == "i" and (s.have, s.need) == (1, 5)


def test_a_nested_team_round_trips() -> None:
    t = Team(
        id="xd",
        name="小队",
        region_code=YANJIN_VILLAGE,
        kind="理论宣讲",
        organization_id="o",
        unit_id="u",
        parent_id="fd",
        grid_id="g",
    )
    assert from_json(to_json(t), Team) == t
    assert from_toml(to_toml(t), Team) == t


def test_items_add_parents_first(renhuai: Registry, tree: RegionTree) -> None:
    items = renhuai.items()
    seen: set[str] = set()
    for t in items:
        assert isinstance(t, Team)
        assert t.parent_id is None or t.parent_id in seen
        seen.add(t.id)
    copy = Registry(tree, items)
    assert copy.teams() == renhuai.teams()
    assert ids(copy.subteams("zd", deep=True)) == ids(renhuai.subteams("zd", deep=True))


# --- random forests ------------------------------------------------------------------------------


@st.composite
def forests(draw: st.DrawFn) -> list[Team]:
    """Teams in add order, each a root or the child of an earlier one, each at its parent's node
    or at a child node of it (仁怀: county → township → village)."""
    tree = load_default()
    n = draw(st.integers(1, 25))
    out: list[Team] = []
    for i in range(n):
        parent = draw(st.one_of(st.none(), st.integers(0, i - 1))) if i else None
        if parent is None:
            code = RENHUAI
        else:
            up = out[parent].region_code
            below = [r.code for r in tree.children(up)][:4]
            code = draw(st.sampled_from([up, *below]))
        tid = f"t{draw(st.integers(0, 10**6))}-{i}"
        out.append(team(tid, code, None if parent is None else out[parent].id))
    return out


@given(forests(), st.randoms(use_true_random=False))
@settings(max_examples=80)
def test_subteams_and_paths_agree_on_random_forests(teams: list[Team], rnd: random.Random) -> None:
    reg = Registry(load_default(), teams)
    by_id = {t.id: t for t in teams}
    for t in teams:
        path = reg.team_path(t.id)
        assert path[-1] == t and path[0].parent_id is None
        for up, down in itertools.pairwise(path):
            assert down.parent_id == up.id
            assert reg.tree.is_within(down.region_code, up.region_code)
        children = [c for c in teams if c.parent_id == t.id]
        assert reg.subteams(t.id) == sorted(children, key=lambda c: (c.region_code, c.id))
        deep = reg.subteams(t.id, deep=True)
        assert len(deep) == len(set(ids(deep)))
        seen = {t.id}
        for d in deep:  # depth first: each team after its parent
            assert d.parent_id in seen
            seen.add(d.id)
        for other in teams:
            below = other in deep
            assert below == (t in reg.team_path(other.id)[:-1])
    # adding the whole forest again, in any order that keeps parents first, is a no-op
    again = list(teams)
    rnd.shuffle(again)
    for _ in range(len(again)):
        for t in list(again):
            if t.parent_id is None or t.parent_id not in {x.id for x in again}:
                reg.add(t)
                again.remove(t)
    assert sorted(ids(reg.teams())) == sorted(by_id)
    assert Registry(reg.tree, reg.items()).items() == reg.items()


@given(forests(), st.integers(0, 100))
@settings(max_examples=60)
def test_a_child_offered_before_its_parent_changes_nothing(teams: list[Team], pick: int) -> None:
    children = [t for t in teams if t.parent_id is not None]
    if not children:
        return
    child = children[pick % len(children)]
    earlier = teams[: teams.index(next(t for t in teams if t.id == child.parent_id))]
    reg = Registry(load_default(), earlier)
    before = reg.items()
    with pytest.raises(NotFound):
        reg.add(child)
    assert reg.items() == before


# --- threads -------------------------------------------------------------------------------------


@pytest.fixture
def eager_switching() -> Iterator[None]:
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(old)


@pytest.mark.usefixtures("eager_switching")
def test_threads_adding_one_forest_build_it_once(tree: RegionTree) -> None:
    towns = [r.code for r in tree.children(RENHUAI)][:5]
    forest = [team("zd", RENHUAI)]
    for i, town in enumerate(towns):
        forest.append(team(f"fd{i}", town, "zd"))
        for j, village in enumerate(r.code for r in tree.children(town)):
            forest.append(team(f"xd{i}-{j}", village, f"fd{i}"))
    reg = Registry(tree)
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def work(k: int) -> None:
        barrier.wait()
        pending = list(forest)
        random.Random(k).shuffle(pending)
        try:
            while pending:  # a child waits until some thread has added its parent
                for t in list(pending):
                    try:
                        reg.add(t)
                    except NotFound:
                        continue
                    pending.remove(t)
                    # while others add, reading is safe too
                    reg.team_path(t.id)
                    reg.subteams(t.id, deep=True)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    assert sorted(ids(reg.teams())) == sorted(ids(forest))
    assert len(reg.subteams("zd", deep=True)) == len(forest) - 1
    for i in range(len(towns)):
        assert reg.subteams(f"fd{i}") == sorted(
            (t for t in forest if t.parent_id == f"fd{i}"), key=lambda t: (t.region_code, t.id)
        )
