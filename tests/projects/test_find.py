"""找活动 (上善莱西): finding the shifts a volunteer can still join, by region subtree, distance,
category and time window, nearest first then by start, each result explaining why it matched;
full, started, cancelled and closed ones are left out unless asked for."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest

from zhiyuan import SHANGHAI
from zhiyuan.errors import InvalidValue, UnknownRegion
from zhiyuan.hierarchy import RegionTree
from zhiyuan.hours import GeoFix, Volunteer
from zhiyuan.projects import Activity, Project, ProjectBook, Shift, SignInPoint

LX = "370285"  # 莱西市
SHUIJI = "370285001"  # 水集街道
YUEHU = "370285001001"  # 月湖街社区
SHANGHAI_RD = "370285001002"  # 上海西路社区
JIANGSHAN = "370285101294"  # 姜山镇 姜山社区
SN = "370202001001"  # 市南区 云霄路社区
HOME = GeoFix(lat=36.8870, lon=120.5000)  # where the volunteer stands


def t(hour: int, minute: int = 0, *, day: int = 10) -> datetime:
    return datetime(2025, 5, day, hour, minute, tzinfo=SHANGHAI)


def east(metres: float) -> GeoFix:
    """A point ``metres`` east of :data:`HOME` (at 36.9°N, 1° of longitude ≈ 88.9 km)."""
    return GeoFix(lat=HOME.lat, lon=HOME.lon + metres / 88_920)


def _activity(
    aid: str,
    region: str,
    where: GeoFix | None,
    *,
    category: str = "助老",
    day: int = 10,
    places: int = 2,
    pid: str = "lx",
) -> Activity:
    points = (
        [SignInPoint(id="p", place=where)]
        if where is not None
        else [SignInPoint(id="p", code="135790")]
    )
    return Activity(
        id=aid,
        project_id=pid,
        name=f"活动{aid}",
        region_code=region,
        category=category,
        shifts=[Shift(id="s", start=t(9, day=day), end=t(11, day=day), places=places)],
        points=points,
    )


@pytest.fixture
def laixi(tree: RegionTree) -> ProjectBook:
    """莱西's 上善莱西 activities around the volunteer, and one in 市南."""
    book = ProjectBook(tree=tree)
    for pid, region in (("lx", LX), ("sn", "370202")):
        book.publish_project(
            Project(id=pid, name="项目", organization_id="o", region_code=region, category="综合"),
            by="c",
            at=t(7, day=1),
        )
    for a in (
        _activity("near", YUEHU, east(400)),
        _activity("mid", SHANGHAI_RD, east(2_500), category="环保"),
        _activity("far", JIANGSHAN, east(15_000)),
        _activity("codeonly", YUEHU, None),
        _activity("later", YUEHU, east(400), day=12),
        _activity("full", YUEHU, east(100), places=1),
        _activity("shinan", SN, GeoFix(lat=36.06, lon=120.32), pid="sn"),
    ):
        book.publish_activity(a, by="c", at=t(7, day=1))
    return book


def _ids(found: list) -> list[str]:  # type: ignore[type-arg]
    return [o.activity.id for o in found]


def test_near_orders_by_distance_then_start_and_places_without_a_point_last(
    laixi: ProjectBook,
) -> None:
    found = laixi.find(near=HOME, as_of=t(8))
    assert _ids(found) == ["full", "near", "later", "mid", "far", "shinan", "codeonly"]
    assert [o.distance_m for o in found][:4] == [100, 400, 400, 2500]
    assert 14_900 < (found[4].distance_m or 0) < 15_100
    assert found[-1].distance_m is None and found[-1].point_id is None
    assert str(found[1].why[0]) == (
        "[projects.find.near] 距签到点 p 400 米 / 400 m from sign-in point p"
    )


def test_within_leaves_out_the_far_and_the_unplaced(laixi: ProjectBook) -> None:
    found = laixi.find(near=HOME, within_m=3_000, as_of=t(8))
    assert _ids(found) == ["full", "near", "later", "mid"]
    assert found[3].why[0].numbers == {"distance": 2500, "within": 3000}


def test_region_finds_the_subtree_and_names_it(laixi: ProjectBook) -> None:
    found = laixi.find(region=SHUIJI, as_of=t(8))
    assert set(_ids(found)) == {"near", "mid", "codeonly", "later", "full"}
    # without a point to measure from: by start, then activity id
    assert _ids(found) == ["codeonly", "full", "mid", "near", "later"]
    assert "在 水集街道（370285001000）辖区内" in found[0].explain()
    assert set(_ids(laixi.find(region="370202", as_of=t(8)))) == {"shinan"}
    assert len(laixi.find(region="3702", as_of=t(8))) == 7


def test_category_and_time_window(laixi: ProjectBook) -> None:
    assert _ids(laixi.find(category="环保", as_of=t(8))) == ["mid"]
    two = laixi.find(category=["环保", "助老"], region=LX, as_of=t(8))
    assert len(two) == 6
    weekend = laixi.find(start=t(0, day=12), end=t(23, day=12), as_of=t(8))
    assert _ids(weekend) == ["later"]
    assert "[projects.find.window]" in weekend[0].explain()
    # a window holds the whole shift: one ending after it is left out
    assert laixi.find(start=t(0, day=12), end=t(10, day=12), as_of=t(8)) == []


def test_only_open_shifts_unless_asked(laixi: ProjectBook, vol: Callable[..., Volunteer]) -> None:
    laixi.sign_up("full", "s", vol("v1"), at=t(8))
    laixi.cancel_activity("mid", by="c", reason="下雨", at=t(8))
    open_now = set(_ids(laixi.find(region=LX, as_of=t(8))))
    assert open_now == {"near", "far", "codeonly", "later"}
    assert set(_ids(laixi.find(region=LX, as_of=t(9)))) == {"later"}  # the 10th's have started
    everything = laixi.find(region=LX, open_only=False, as_of=t(8))
    assert {"full", "mid"} <= set(_ids(everything))
    assert next(o for o in everything if o.activity.id == "full").open_places == 0
    laixi.close_project("lx", by="c", at=t(8))
    assert laixi.find(region=LX, as_of=t(8)) == []
    # as of before the sign-up and the cancellation, they were open
    assert {"full", "mid"} <= set(_ids(laixi.find(region=LX, as_of=t(7, day=1))))


def test_a_result_explains_itself(laixi: ProjectBook) -> None:
    found = laixi.find(region=LX, near=HOME, within_m=1_000, category="助老", as_of=t(8))
    assert _ids(found) == ["full", "near", "later"]
    lines = found[1].explain().splitlines()
    assert lines[0] == "活动near (near/s) 2025-05-10 09:00–11:00"
    assert [line.split("]")[0].strip() for line in lines[1:]] == [
        "[projects.find.region",
        "[projects.find.category",
        "[projects.find.within",
        "[projects.find.open",
    ]
    assert "2 of 2 places open" in lines[-1]


def test_bad_search_arguments_are_refused(laixi: ProjectBook) -> None:
    with pytest.raises(InvalidValue, match="give near as well"):
        laixi.find(within_m=100)
    with pytest.raises(InvalidValue):
        laixi.find(near=HOME, within_m=-1)
    with pytest.raises(InvalidValue):
        laixi.find(near=(36.8, 120.5))  # type: ignore[arg-type]
    with pytest.raises(UnknownRegion):
        laixi.find(region="370285999")
    with pytest.raises(InvalidValue):
        laixi.find(category=[""])
    with pytest.raises(InvalidValue):
        laixi.find(start=datetime(2025, 5, 10))
    with pytest.raises(InvalidValue):
        laixi.find(open_only="yes")  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="needs the tree"):
        ProjectBook().find(region=LX)


def test_yuncheng_finds_its_county_among_thousands_of_projects(tree: RegionTree) -> None:
    """运城 runs over 2 万 projects: a search by county returns exactly the open shifts in it (the
    tree's own is_within as the oracle), ordered by start."""
    villages = [r.code for r in tree if r.code.startswith("1408") and r.level.value == "village"]
    book = ProjectBook(tree=tree)
    with book.journal.transaction():
        for i in range(2_000):
            code = villages[(i * 7) % len(villages)]
            book.publish_project(
                Project(
                    id=f"yc{i}",
                    name="项目",
                    organization_id="o",
                    region_code=code[:6],
                    category="助老",
                ),
                by="运城市志愿服务联合会",
                at=t(7, day=1),
            )
            book.publish_activity(
                _activity(f"a{i}", code, None, day=2 + i % 20, pid=f"yc{i}"),
                by="运城市志愿服务联合会",
                at=t(7, day=1),
            )
    found = book.find(region="140802", as_of=t(8, day=1))
    want = {
        f"a{i}" for i in range(2_000) if tree.is_within(villages[(i * 7) % len(villages)], "140802")
    }
    assert {o.activity.id for o in found} == want and want
    assert [o.shift.start for o in found] == sorted(o.shift.start for o in found)
