"""Fixtures for the ``zhiyuan.projects`` tests: a project book on the embedded seed tree with a
project of 市南区 (青岛) and an activity at 栈桥 (two shifts on 10 May 2025), and builders of
volunteers, projects and activities (``vol``, ``make_project``, ``make_activity``,
``make_book``). Every moment is explicit; nothing reads the wall clock. The test modules keep
their own one-line moment helper ``t`` and the constants they name (the gate, its code)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any

import pytest

from zhiyuan import SHANGHAI
from zhiyuan.hierarchy import RegionTree, load_default
from zhiyuan.hours import GeoFix, Volunteer, check_character
from zhiyuan.projects import (
    Activity,
    Project,
    ProjectBook,
    Requirements,
    Shift,
    SignInPoint,
)

SN = "370202000000"  # 青岛市 市南区
SN_STREET = "370202001000"  # 香港中路街道
SN_VILLAGE = "370202001001"  # 云霄路社区
LX = "370285000000"  # 青岛市 莱西市
LX_VILLAGE = "370285001001"
GATE = GeoFix(lat=36.0600, lon=120.3200)  # 栈桥 (illustrative)
CODE = "204816"
TOKEN = "qr:a1:gate"


def t(hour: int, minute: int = 0, *, day: int = 10, month: int = 5) -> datetime:
    """An aware moment in 2025 (10 May unless told otherwise)."""
    return datetime(2025, month, day, hour, minute, tzinfo=SHANGHAI)


def north(metres: float) -> GeoFix:
    """A fix ``metres`` north of :data:`GATE` (1 m of latitude ≈ 1/111,195 of a degree)."""
    return GeoFix(lat=GATE.lat + metres / 111_195, lon=GATE.lon)


def volunteer(
    vid: str, *, born: date | None = None, skills: Iterable[str] = (), home: str = SN_VILLAGE
) -> Volunteer:
    """A volunteer registered in 2024; with ``born``, an ID number giving that birth date."""
    idn = None
    if born is not None:
        first17 = f"370202{born:%Y%m%d}123"
        idn = first17 + check_character(first17)
    return Volunteer(
        id=vid,
        name=f"志愿者{vid}",
        id_number=idn,
        home_region=home,
        skills=frozenset(skills),
        registered_on=date(2024, 1, 1),
    )


def project(pid: str = "p1", region: str = SN, **kw: Any) -> Project:
    kw.setdefault("name", "蓝色海湾守护行动")
    kw.setdefault("organization_id", "o-sn")
    kw.setdefault("category", "环保")
    return Project(id=pid, region_code=region, **kw)


def activity(
    aid: str = "a1",
    *,
    pid: str = "p1",
    places: int = 2,
    points: Iterable[SignInPoint] | None = None,
    region: str = SN_VILLAGE,
    **kw: Any,
) -> Activity:
    """Shifts ``am`` (09:00–11:00) and ``pm`` (14:00–17:00) on 10 May, ``places`` each; one
    sign-in point at :data:`GATE` (300 m) with code :data:`CODE` unless ``points`` says."""
    kw.setdefault("name", "栈桥海滩清洁")
    kw.setdefault("category", "环保")
    kw.setdefault("requirements", Requirements())
    return Activity(
        id=aid,
        project_id=pid,
        region_code=region,
        shifts=[
            Shift(id="am", start=t(9), end=t(11), places=places),
            Shift(id="pm", start=t(14), end=t(17), places=places),
        ],
        points=[SignInPoint(id="gate", place=GATE, code=CODE)] if points is None else points,
        **kw,
    )


@pytest.fixture
def vol() -> Callable[..., Volunteer]:
    """``vol(vid, born=…, skills=…, home=…)``: see :func:`volunteer`."""
    return volunteer


@pytest.fixture
def make_project() -> Callable[..., Project]:
    """``make_project(pid, region, **fields)``: see :func:`project`."""
    return project


@pytest.fixture
def make_activity() -> Callable[..., Activity]:
    """``make_activity(aid, pid=…, places=…, points=…, region=…, **fields)``: see
    :func:`activity`."""
    return activity


@pytest.fixture(scope="session")
def tree() -> RegionTree:
    return load_default()


@pytest.fixture
def make_book(tree: RegionTree) -> Callable[..., ProjectBook]:
    """``make_book(**activity_kw)``: a book with project ``p1`` and activity ``a1`` published at
    07:00 on 10 May."""

    def build(**kw: Any) -> ProjectBook:
        book = ProjectBook(tree=tree)
        book.publish_project(project(), by="center", at=t(7))
        book.publish_activity(activity(**kw), by="center", at=t(7))
        return book

    return build


@pytest.fixture
def book(make_book: Callable[..., ProjectBook]) -> ProjectBook:
    """A book with activity ``a1``: two places a shift, reviewed sign-ups, the gate point."""
    return make_book()
