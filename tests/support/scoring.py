"""Helpers for the ``zhiyuan.scoring`` tests (stars, awards, scorecards, feedback): places,
clocks, builders and strategies, used by fixtures (``tests/scoring/conftest.py``, prefixed
``s_``) and by hypothesis tests that cannot take function-scoped fixtures::

    from support.scoring import at, serve, star_ledger

Every datetime is explicit and aware, in Asia/Shanghai (:data:`zhiyuan.SHANGHAI`); nothing
here reads the wall clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from zhiyuan import SHANGHAI
from zhiyuan.hierarchy import Grant, Jurisdiction, Level, Organization, Registry, load_default
from zhiyuan.hours import (
    Evidence,
    HourLedger,
    HourPolicy,
    HourRow,
    Purpose,
    ServiceRecord,
    Volunteer,
)
from zhiyuan.scoring import Downgrade, StarScheme, Window

SH = SHANGHAI

# --- places ------------------------------------------------------------------------------------
# 山东省 370000 / 烟台市 3706 / 芝罘区 370602 / 向阳街道 370602001 / 友谊街社区 370602001001,
# 建昌街社区 370602001002; 东山街道 海岸路社区 370602002001. The neighbour county 福山区 370611,
# 清洋街道 南关社区 370611001001. Another city: 青岛市 3702, 城阳区 370214.
PROVINCE = "370000000000"
CITY = "370600000000"
COUNTY = "370602000000"
TOWNSHIP = "370602001000"
YOUYI = "370602001001"
JIANCHANG = "370602001002"
HAIAN = "370602002001"
NEIGHBOUR_COUNTY = "370611000000"
NANGUAN = "370611001001"
QINGDAO = "370200000000"
CHENGYANG_VILLAGE = "370214001001"

ORGS: dict[str, str] = {
    "o-zf": COUNTY,  # 芝罘区志愿服务联合会
    "o-xy": TOWNSHIP,  # 向阳街道志愿者协会
    "o-fs": NEIGHBOUR_COUNTY,  # 福山区志愿者协会
    "o-cy": CHENGYANG_VILLAGE,  # 城阳 community team
}

ADMINS: dict[str, str] = {
    "zf-admin": COUNTY,  # 芝罘区 (county)
    "fs-admin": NEIGHBOUR_COUNTY,  # 福山区 (the neighbour county)
    "xy-admin": TOWNSHIP,  # 向阳街道 (a street)
    "yt-admin": CITY,  # 烟台市 (city)
    "sd-admin": PROVINCE,  # 山东省 (province)
    "qd-admin": QINGDAO,  # 青岛市 (another city)
}


def registry() -> Registry:
    """A fresh registry on the embedded seed tree with the organizations of :data:`ORGS`."""
    return Registry(
        load_default(),
        [Organization(id=oid, name=f"组织 {oid}", region_code=code) for oid, code in ORGS.items()],
    )


def jurisdiction(admins: dict[str, str] | None = None) -> Jurisdiction:
    """Admins (principal → node) holding ``approve_star`` (only) on their node's subtree."""
    return Jurisdiction(
        load_default(),
        [
            Grant(principal=p, region_code=code, actions={"approve_star"})
            for p, code in (ADMINS if admins is None else admins).items()
        ],
    )


# --- time --------------------------------------------------------------------------------------


def at(y: int, m: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    """An aware Asia/Shanghai datetime."""
    return datetime(y, m, d, h, mi, s, tzinfo=SH)


# --- builders ----------------------------------------------------------------------------------

LONG = 525_600
"""A year of minutes: the longest span a record may have (the tests post weeks at once)."""

QR_POLICY = HourPolicy(auto_certify={"qr_scan"}, max_span_minutes=LONG)
"""National rules; QR records are certified on posting, with no public notice (counted at once).
The tests post long records (whole weeks of service at once), so a record may span a year."""


def volunteer(
    vid: str = "v1", *, home: str = YOUYI, registered_on: date = date(2015, 1, 1)
) -> Volunteer:
    """A volunteer living in ``home`` (default 友谊街社区, 芝罘区)."""
    return Volunteer(id=vid, name=f"志愿者{vid}", home_region=home, registered_on=registered_on)


def star_ledger(
    *volunteers: Volunteer, policy: HourPolicy = QR_POLICY, registry_: Registry | None = None
) -> HourLedger:
    """A ledger on a fresh registry under ``policy`` (default :data:`QR_POLICY`)."""
    return HourLedger(
        registry() if registry_ is None else registry_, policies=[policy], volunteers=volunteers
    )


def record(
    rid: str,
    vid: str,
    start: datetime,
    minutes: int,
    *,
    evidence: Evidence = Evidence.QR_SCAN,
    category: str = "助老",
    org: str = "o-xy",
    region: str = YOUYI,
) -> ServiceRecord:
    """A service record of ``minutes`` from ``start``."""
    return ServiceRecord(
        id=rid,
        volunteer_id=vid,
        activity_id=f"act-{rid}",
        organization_id=org,
        region_code=region,
        category=category,
        start=start,
        end=start + timedelta(minutes=minutes),
        evidence=evidence,
    )


def serve(
    ledger: HourLedger,
    rid: str,
    vid: str,
    day: date,
    minutes: int,
    *,
    hour: int = 8,
    now: datetime | None = None,
    **kw: Any,
) -> ServiceRecord:
    """Post one record of ``minutes`` starting at ``hour`` on ``day`` (posted when it ends,
    unless ``now`` is given) and return it. Long records simply run over several days."""
    rec = record(rid, vid, at(day.year, day.month, day.day, hour), minutes, **kw)
    ledger.post_many([rec], at=rec.end if now is None else now)
    return rec


def hours(h: int, m: int = 0) -> int:
    """Minutes in ``h`` hours and ``m`` minutes."""
    return h * 60 + m


def row(
    vid: str,
    day: date,
    minutes: int,
    *,
    weighted: int | None = None,
    evidence: Evidence = Evidence.QR_SCAN,
    category: str = "助老",
    purposes: Iterable[Purpose] = (Purpose.STARS, Purpose.POINTS, Purpose.REPORTS),
    region: str = YOUYI,
) -> HourRow:
    """An :class:`HourRow` built directly (as :meth:`HourLedger.rows` gives them)."""
    return HourRow(
        vid,
        day,
        minutes,
        minutes if weighted is None else weighted,
        evidence,
        category,
        frozenset(purposes),
        region,
    )


# --- hypothesis strategies ---------------------------------------------------------------------

CATEGORIES = ("助老", "助残", "环保", "应急救援")


@st.composite
def increasing_thresholds(draw: st.DrawFn, min_size: int = 1, max_size: int = 7) -> tuple[int, ...]:
    """Strictly increasing positive hour thresholds."""
    steps = draw(
        st.lists(st.integers(min_value=1, max_value=600), min_size=min_size, max_size=max_size)
    )
    out, total = [], 0
    for s in steps:
        total += s
        out.append(total)
    return tuple(out)


@st.composite
def star_schemes(draw: st.DrawFn) -> StarScheme:
    """Random valid star schemes (every field exercised)."""
    t = draw(increasing_thresholds())
    n = len(t)
    optional_kinds = st.none() | st.frozensets(st.sampled_from(Evidence), max_size=4)
    optional_cats = st.none() | st.frozensets(st.sampled_from(CATEGORIES), min_size=1, max_size=3)
    return StarScheme(
        name=draw(st.text(alphabet="abc星级志愿_-", min_size=1, max_size=8).filter(str.strip)),
        effective_from=draw(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))),
        thresholds_hours=t,
        window=draw(st.sampled_from(Window)),
        window_years=draw(st.integers(min_value=1, max_value=10)),
        evidence=draw(optional_kinds),
        categories=draw(optional_cats),
        weighted=draw(st.booleans()),
        min_months=tuple(
            draw(st.lists(st.integers(min_value=0, max_value=36), min_size=0, max_size=n))
        ),
        sequential_from=draw(st.none() | st.integers(min_value=2, max_value=max(n, 2)))
        if n >= 2
        else None,
        clean_years=draw(st.none() | st.integers(min_value=1, max_value=5)),
        ban_years=draw(st.integers(min_value=0, max_value=5)),
        approving=tuple(draw(st.lists(st.sampled_from(Level), min_size=n, max_size=n))),
        notice_days=draw(st.integers(min_value=0, max_value=30)),
        downgrade=draw(st.sampled_from(Downgrade)),
    )


# --- fixtures ----------------------------------------------------------------------------------
