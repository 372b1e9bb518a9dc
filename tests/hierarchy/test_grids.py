"""Grids (网格) below a village or community, with their 楼长, and what names them (units.py)."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zhiyuan.convert import from_json, from_toml, to_json, to_toml
from zhiyuan.errors import Conflict, InvalidValue, NotFound, UnknownRegion
from zhiyuan.hierarchy import (
    Grid,
    PracticePoint,
    PracticeStation,
    RegionTree,
    Registry,
    Team,
    Waystation,
    load_default,
)

VILLAGE = "370214001001"  # 城阳区/城阳街道/… a community
NEXT_VILLAGE = "370214001002"
TOWNSHIP = "370214001000"


@pytest.fixture(scope="module")
def tree() -> RegionTree:
    return load_default()


@pytest.fixture
def reg(tree: RegionTree) -> Registry:
    assert tree.level(VILLAGE).value == "village" and NEXT_VILLAGE in tree
    return Registry(tree)


def grid(gid: str = "g1", code: str = VILLAGE, leader: str | None = "v-lou") -> Grid:
    return Grid(id=gid, name=f"{gid}号网格", region_code=code, leader_id=leader)


# --- the value -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "got"), [(TOWNSHIP, "township"), ("370214", "county")])
def test_a_grid_lies_in_a_village(code: str, got: str) -> None:
    with pytest.raises(InvalidValue) as info:
        Grid(id="g", name="网格", region_code=code)
    assert info.value.field == "region_code"
    assert f"this code is a {got}" in info.value.reason and "网格应设在村级" in info.value.reason


@pytest.mark.parametrize("bad", ["", "  ", 7, ["v1"]])
def test_the_leader_is_an_id_or_none(bad: object) -> None:
    with pytest.raises(InvalidValue) as info:
        Grid(id="g", name="网格", region_code=VILLAGE, leader_id=bad)  # type: ignore[arg-type]
    assert info.value.field == "leader_id"
    assert Grid(id="g", name="网格", region_code=int(VILLAGE)).leader_id is None


def test_a_grid_round_trips() -> None:
    for g in (grid(), grid(leader=None)):
        assert from_json(to_json(g), Grid) == g
        assert from_toml(to_toml(g), Grid) == g
    assert str(grid()) == f"g1号网格 ({VILLAGE})"


# --- in the registry --------------------------------------------------------------------------------


def test_grids_are_registered_and_found_within(reg: Registry) -> None:
    reg.add(grid("g2"))
    reg.add(grid("g1"))
    reg.add(grid("g3", NEXT_VILLAGE, leader=None))
    reg.add(Grid(id="far", name="远处网格", region_code="370602001001"))
    assert [g.id for g in reg.grids(within=VILLAGE)] == ["g1", "g2"]
    assert [g.id for g in reg.grids(within=TOWNSHIP)] == ["g1", "g2", "g3"]
    assert [g.id for g in reg.grids(within="3706")] == ["far"]
    assert len(reg.grids()) == 4
    assert reg.units() == [] and reg.teams() == []  # grids are neither units nor teams
    with pytest.raises(UnknownRegion):
        reg.add(Grid(id="g9", name="网格", region_code="370214001999"))
    with pytest.raises(Conflict):
        reg.add(grid("g1", NEXT_VILLAGE))
    reg.add(grid("g1"))  # the same grid again: nothing changes
    assert len(reg.grids()) == 4


def test_ids_are_per_space(reg: Registry) -> None:
    reg.add(grid("x"))
    reg.add(PracticePoint(id="x", name="点", region_code=VILLAGE))
    reg.add(Team(id="x", name="队", region_code=VILLAGE, kind="平安建设"))
    assert [len(reg.grids()), len(reg.units()), len(reg.teams())] == [1, 1, 1]


def test_units_and_teams_name_their_grid(reg: Registry) -> None:
    reg.add(grid("g1"))
    reg.add(grid("g2"))
    reg.add(Waystation(id="w", name="楼道驿站", region_code=VILLAGE, grid_id="g1"))
    reg.add(PracticeStation(id="s", name="社区站", region_code=VILLAGE))
    reg.add(Team(id="t1", name="3号楼小队", region_code=VILLAGE, kind="平安建设", grid_id="g1"))
    reg.add(Team(id="t2", name="5号楼小队", region_code=VILLAGE, kind="助老助残", grid_id="g2"))
    reg.add(Team(id="t3", name="社区队", region_code=VILLAGE, kind="助老助残"))
    assert [t.id for t in reg.teams(grid_id="g1")] == ["t1"]
    assert [t.id for t in reg.teams(within=VILLAGE, grid_id="g2")] == ["t2"]
    assert [u.id for u in reg.units_at(VILLAGE) if u.grid_id == "g1"] == ["w"]
    with pytest.raises(InvalidValue) as info:
        reg.teams(grid_id="")
    assert info.value.field == "grid_id"


@pytest.mark.parametrize(
    "item",
    [
        Team(id="t", name="队", region_code=NEXT_VILLAGE, kind="x", grid_id="g1"),
        Team(id="t", name="队", region_code=TOWNSHIP, kind="x", grid_id="g1"),
        PracticePoint(id="p", name="点", region_code=NEXT_VILLAGE, grid_id="g1"),
    ],
)
def test_an_item_away_from_its_grids_village_is_refused(reg: Registry, item: object) -> None:
    reg.add(grid("g1"))
    before = reg.items()
    with pytest.raises(InvalidValue) as info:
        reg.add(item)  # type: ignore[arg-type]
    assert info.value.field == "grid_id" and VILLAGE in info.value.reason
    assert reg.items() == before


def test_an_unknown_grid_is_not_found(reg: Registry) -> None:
    for item in (
        Team(id="t", name="队", region_code=VILLAGE, kind="x", grid_id="nope"),
        PracticePoint(id="p", name="点", region_code=VILLAGE, grid_id="nope"),
    ):
        with pytest.raises(NotFound) as info:
            reg.add(item)
        assert (info.value.what, info.value.key) == ("grid", "nope")
    assert reg.items() == []
    reg.add(grid("nope"))
    reg.add(Team(id="t", name="队", region_code=VILLAGE, kind="x", grid_id="nope"))
    assert len(reg.teams()) == 1


def test_items_put_grids_before_what_names_them(reg: Registry, tree: RegionTree) -> None:
    reg.add(grid("z"))
    reg.add(PracticePoint(id="a", name="点", region_code=VILLAGE, grid_id="z"))
    reg.add(Team(id="a", name="队", region_code=VILLAGE, kind="x", grid_id="z"))
    items = reg.items()
    assert isinstance(items[0], Grid)
    assert Registry(tree, items).items() == items
    with pytest.raises(NotFound):  # the other way round cannot be added
        Registry(tree, items[::-1])


@given(
    st.lists(
        st.tuples(st.sampled_from([VILLAGE, NEXT_VILLAGE]), st.sampled_from(["g0", "g1", "g2"])),
        max_size=12,
    )
)
@settings(max_examples=60)
def test_every_item_with_a_grid_sits_at_its_village(offers: list[tuple[str, str]]) -> None:
    reg = Registry(load_default())
    reg.add(grid("g0", VILLAGE))
    reg.add(grid("g1", NEXT_VILLAGE))
    for i, (code, gid) in enumerate(offers):
        with contextlib.suppress(InvalidValue, NotFound):
            reg.add(Team(id=f"t{i}", name="队", region_code=code, kind="x", grid_id=gid))
    grids = {g.id: g for g in reg.grids()}
    for t in reg.teams():
        assert t.grid_id in grids and grids[t.grid_id].region_code == t.region_code
    accepted = sum(1 for code, gid in offers if gid in grids and grids[gid].region_code == code)
    assert len(reg.teams()) == accepted
