"""Helpers for the ``zhiyuan.matching`` tests (needs, dispatch, lifecycle, metrics): places,
clocks and builders, used by fixtures (``tests/matching/conftest.py``, prefixed ``m_``) and by
hypothesis tests that cannot take function-scoped fixtures::

    from support.matching import VILLAGE, at, cand, need

Places are real codes of the embedded seed tree (青岛市城阳区 and its neighbours). Every datetime
is explicit and aware, in Asia/Shanghai; nothing here reads the wall clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from zhiyuan import SHANGHAI
from zhiyuan.hierarchy import Organization, RegionTree, Registry, load_default
from zhiyuan.hours import GeoFix, HourLedger, HourPolicy, Volunteer
from zhiyuan.matching import Candidate, Dispatcher, DispatchPolicy, Need, Skill

SH = SHANGHAI

# --- places ------------------------------------------------------------------------------------
# 山东省 37 / 青岛市 3702 / 城阳区 370214 / 城阳街道 370214001 / 东果园社区 370214001001,
# 和阳路社区 370214001002; 夏庄街道 370214002, 夏塔路社区 370214002001; 市南区 370202;
# 烟台市芝罘区 370602 (another city of the province).
PROVINCE = "370000000000"
CITY = "370200000000"
COUNTY = "370214000000"
TOWNSHIP = "370214001000"
VILLAGE = "370214001001"
SIBLING = "370214001002"
OTHER_TOWNSHIP = "370214002000"
OTHER_TOWNSHIP_VILLAGE = "370214002001"
OTHER_COUNTY = "370202000000"
OTHER_CITY_VILLAGE = "370602001001"

HOME = GeoFix(lat=36.30, lon=120.40)
"""The need's door (a point in 城阳)."""


def tree() -> RegionTree:
    """The embedded seed tree (cached by :func:`load_default`)."""
    return load_default()


def other_county_village() -> str:
    """A village of 市南区 (another county of 青岛)."""
    return next(r.code for r in tree().descendants(OTHER_COUNTY) if r.code[9:] != "000")


# --- time --------------------------------------------------------------------------------------


def at(d: int, h: int = 0, mi: int = 0, *, m: int = 5, y: int = 2025) -> datetime:
    """An aware Asia/Shanghai datetime in May 2025 by default."""
    return datetime(y, m, d, h, mi, tzinfo=SH)


# --- builders ----------------------------------------------------------------------------------


def need(
    nid: str = "n1",
    region: str = VILLAGE,
    *,
    skills: Iterable[str] = (),
    headcount: int = 1,
    start: datetime | None = None,
    end: datetime | None = None,
    posted: datetime | None = None,
    location: GeoFix | None = None,
    category: str = "帮老",
    **kw: Any,
) -> Need:
    """A need in ``region``, 09:00–11:00 on 1 May 2025, posted at 07:00."""
    return Need(
        id=nid,
        requester=kw.pop("requester", "张大爷"),
        region_code=region,
        category=category,
        skills=frozenset(skills),
        headcount=headcount,
        start=start or at(1, 9),
        end=end or at(1, 11),
        posted_at=posted or at(1, 7),
        location=location,
        **kw,
    )


def cand(
    cid: str, home: str = VILLAGE, *, skills: Iterable[str | Skill] = (), **kw: Any
) -> Candidate:
    """A candidate living in ``home`` (default 东果园社区)."""
    return Candidate(id=cid, home_region=home, skills=tuple(skills), **kw)


def dispatcher(*candidates: Candidate, **policy: Any) -> Dispatcher:
    """A dispatcher on the seed tree with a policy built from ``policy`` keywords."""
    return Dispatcher(tree(), candidates, policy=DispatchPolicy(**policy))


ORG = "o-cy"
"""城阳区新时代文明实践中心 (the organizer of dispatched services)."""


def hour_ledger(*volunteer_ids: str) -> HourLedger:
    """An hour ledger with :data:`ORG` at the county and the volunteers registered in VILLAGE."""
    registry = Registry(
        tree(), [Organization(id=ORG, name="城阳区文明实践中心", region_code=COUNTY)]
    )
    return HourLedger(
        registry,
        policies=[HourPolicy()],
        volunteers=[
            Volunteer(id=v, name=f"志愿者{v}", home_region=VILLAGE, registered_on=date(2020, 1, 1))
            for v in volunteer_ids
        ],
    )


# --- fixtures ----------------------------------------------------------------------------------
