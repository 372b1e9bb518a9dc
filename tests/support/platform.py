"""Helpers for the ``zhiyuan.platform`` tests: a fixed, settable clock, a registry on the
embedded seed tree with organizations in 城阳 (青岛, 370214) and 龙口 (烟台, 370681), grants,
and builders for volunteers, records and platforms (the fixtures are in
``tests/platform/conftest.py``)::

    from support.platform import Clock, at, record, volunteer

Every moment is explicit and aware (Asia/Shanghai); nothing here reads the wall clock. A
platform writes at its clock's now (writes take no ``at``), so tests move the clock instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from zhiyuan import SHANGHAI
from zhiyuan.credit import Catalog, ConversionPolicy, TimeBankPolicy
from zhiyuan.hierarchy import Action, Grant, Level, Organization, Registry, load_default
from zhiyuan.hours import Evidence, ServiceRecord, Volunteer
from zhiyuan.journal import Journal
from zhiyuan.platform import Act, Event, EventKind, Platform, Policies
from zhiyuan.scoring import StarScheme

SH = SHANGHAI

# --- places ------------------------------------------------------------------------------------
# 青岛市 城阳区 370214: 城阳街道 370214001 (东果园社区 370214001001, 和阳路社区 370214001002),
# 夏庄街道 370214002 (夏塔路社区 370214002001). 烟台市 龙口市 370681: 东莱街道 370681001
# (南苑社区 370681001001).
CY = "370214000000"
CY_STREET = "370214001000"
CY_VILLAGE = "370214001001"
CY_VILLAGE2 = "370214001002"
XZ_STREET = "370214002000"
XZ_VILLAGE = "370214002001"
LK = "370681000000"
LK_STREET = "370681001000"
LK_VILLAGE = "370681001001"

ORGS: dict[str, tuple[str, str]] = {
    "o-cy": ("城阳街道志愿者协会", CY_STREET),
    "o-xz": ("夏庄街道志愿者协会", XZ_STREET),
    "o-lk": ("东莱街道志愿者协会", LK_STREET),
}


def registry() -> Registry:
    """A fresh registry on the embedded seed tree with the organizations of :data:`ORGS`."""
    return Registry(
        load_default(),
        [Organization(id=oid, name=name, region_code=code) for oid, (name, code) in ORGS.items()],
    )


# --- time --------------------------------------------------------------------------------------

START = datetime(2025, 3, 10, 18, tzinfo=SH)
"""The clock's first "now": every default record (1–9 March) is over by then."""


def at(day: int, hour: int = 9, minute: int = 0, *, month: int = 3) -> datetime:
    """An aware moment in 2025 (March unless ``month`` says otherwise)."""
    return datetime(2025, month, day, hour, minute, tzinfo=SH)


class Clock:
    """A fixed clock a test moves by hand (``set``, ``advance``); the platform's "now"."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, when: datetime) -> datetime:
        self.now = when
        return when

    def advance(self, **delta: float) -> datetime:
        self.now = self.now + timedelta(**delta)
        return self.now


# --- authority ---------------------------------------------------------------------------------

GRANTS: tuple[Grant, ...] = (
    Grant(principal="admin-cy", region_code=CY),  # every action in 城阳
    Grant(principal="admin-lk", region_code=LK),  # every action in 龙口
    Grant(principal="recorder", region_code=CY_STREET, actions={Action.RECORD}),
    Grant(principal="certifier", region_code=CY_STREET, actions={Action.CERTIFY}),
    Grant(principal="reverser", region_code=CY_STREET, actions={Action.REVERSE}),
    Grant(principal="dispatcher", region_code=CY, actions={Action.DISPATCH}),
    Grant(principal="treasurer", region_code=CY, actions={Action.ADJUST_POINTS}),
    Grant(principal="approver", region_code=CY, actions={Action.APPROVE_STAR}),
    Grant(principal="manager", region_code=CY, actions={Action.MANAGE}),
    # every action in 城阳, but only until the end of February 2025 (the clock is in March)
    Grant(
        principal="lapsed",
        region_code=CY,
        valid_from=date(2025, 1, 1),
        valid_until=date(2025, 2, 28),
    ),
    # a volunteer who is also an administrator of 城阳 (may not act on their own books)
    Grant(principal="v-admin", region_code=CY),
)


def holds_grant(act: Act, grants: Iterable[Grant]) -> bool:
    """An oracle apart from the library: some grant of ``act.by`` covers its action (by the
    :class:`~zhiyuan.hierarchy.Action` the platform checks for it) at its region on its day."""
    needed = ACTION_OF.get(act.action)
    if needed is None or act.region_code is None:
        return False
    tree = load_default()
    day = act.at.date()
    for g in grants:
        if g.principal != act.by or not g.permits(needed):
            continue
        if g.valid_from is not None and day < g.valid_from:
            continue
        if g.valid_until is not None and day > g.valid_until:
            continue
        if tree.is_within(act.region_code, g.region_code):
            return True
    return False


ACTION_OF: dict[str, str] = {
    "register": Action.MANAGE,
    "post": Action.RECORD,
    "certify": Action.CERTIFY,
    "reject": Action.CERTIFY,
    "reverse": Action.REVERSE,
    "spend": Action.ADJUST_POINTS,
    "adjust": Action.ADJUST_POINTS,
    "redeem": Action.ADJUST_POINTS,
    "apply_star": Action.MANAGE,
    "decide_star": Action.APPROVE_STAR,
    "close_review": Action.APPROVE_STAR,
    "revoke_stars": Action.APPROVE_STAR,
    "reconcile": Action.MANAGE,
    "post_need": Action.DISPATCH,
    "dispatch": Action.DISPATCH,
    "accept": Action.DISPATCH,
    "decline": Action.DISPATCH,
    "start": Action.RECORD,
    "complete": Action.RECORD,
    "rate": Action.DISPATCH,
    "reward": Action.ADJUST_POINTS,
    "publish_project": Action.MANAGE,
    "close_project": Action.MANAGE,
    "publish_activity": Action.MANAGE,
    "cancel_activity": Action.MANAGE,
    "sign_up": Action.MANAGE,
    "accept_signup": Action.MANAGE,
    "decline_signup": Action.MANAGE,
    "cancel_signup": Action.MANAGE,
    "collect_needs": Action.MANAGE,
    "claim_project": Action.MANAGE,
    "sign_in": Action.RECORD,
    "sign_out": Action.RECORD,
    "top_up": Action.RECORD,
    "take": Action.DISPATCH,
    "call_up": Action.DISPATCH,
    "claim_deed": Action.RECORD,
    "approve_deed": Action.ADJUST_POINTS,
    "reject_deed": Action.ADJUST_POINTS,
    "reverse_deed": Action.ADJUST_POINTS,
    "deduct": Action.ADJUST_POINTS,
    "award_site": Action.ADJUST_POINTS,
    "award_team": Action.ADJUST_POINTS,
}
"""The action each platform write is authorized under when ``by`` acts for someone else."""


# --- policies ----------------------------------------------------------------------------------

STARS = StarScheme(
    name="test", thresholds_hours=(4, 8), approving=(Level.COUNTY, Level.COUNTY), notice_days=0
)
"""Small thresholds (4 h for 1★, 8 h for 2★), approved by the county (城阳区, 龙口市)."""


def rules(**kw: Any) -> Policies:
    """:class:`Policies` with the test star scheme unless ``stars`` is given."""
    kw.setdefault("stars", STARS)
    return Policies(**kw)


# --- people and records ------------------------------------------------------------------------


def volunteer(vid: str, home: str = CY_VILLAGE, *, skills: Iterable[str] = ()) -> Volunteer:
    """An adult volunteer registered in 2024."""
    return Volunteer(
        id=vid,
        name=f"志愿者{vid}",
        home_region=home,
        skills=frozenset(skills),
        registered_on=date(2024, 1, 1),
    )


def record(
    rid: str,
    vid: str = "v1",
    day: int = 1,
    hours: int = 2,
    *,
    start_hour: int = 9,
    org: str = "o-cy",
    region: str = CY_VILLAGE,
    category: str = "助老",
    evidence: Evidence | str = Evidence.QR_SCAN,
    month: int = 3,
) -> ServiceRecord:
    """``hours`` of service from ``start_hour`` on 2025-``month``-``day``."""
    start = at(day, start_hour, month=month)
    return ServiceRecord(
        id=rid,
        volunteer_id=vid,
        activity_id=f"act-{rid}",
        organization_id=org,
        region_code=region,
        category=category,
        evidence=evidence,
        start=start,
        end=start + timedelta(hours=hours),
    )


def make(
    clock: Clock,
    *,
    policies: Policies | None = None,
    grants: Iterable[Grant] = GRANTS,
    catalog: Catalog | None = None,
    journal: Journal | None = None,
) -> Platform:
    """A platform on ``clock`` (or on ``journal``, whose clock it then is)."""
    pol = rules() if policies is None else policies
    if journal is not None:
        return Platform(registry(), policies=pol, grants=grants, journal=journal, catalog=catalog)
    return Platform(registry(), policies=pol, grants=grants, clock=clock, catalog=catalog)


def serve(
    city: Platform, rid: str, vid: str = "v1", day: int = 1, hours: int = 2, **kw: Any
) -> None:
    """Post a record as 城阳's recorder or admin and certify it as its admin."""
    org = kw.get("org", "o-cy")
    admin = "admin-lk" if org == "o-lk" else "admin-cy"
    city.post(record(rid, vid, day, hours, **kw), by=admin)
    city.certify(rid, by=admin)


def points(city: Platform, vid: str = "v1") -> int:
    """A volunteer's spendable points account."""
    return city.points.balance(f"volunteer:{vid}")


def owed(city: Platform, vid: str = "v1") -> int:
    """What a volunteer owes in points (zero or negative)."""
    return city.points.balance(f"owed:{vid}")


class Heard:
    """A hook that keeps every event it is given."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def __call__(self, event: Event) -> None:
        self.events.append(event)

    def kinds(self) -> list[EventKind]:
        return [e.kind for e in self.events]

    def of(self, kind: EventKind) -> list[Event]:
        return [e for e in self.events if e.kind is kind]

    def clear(self) -> None:
        self.events.clear()


# --- fixtures ----------------------------------------------------------------------------------


def conversion(**kw: Any) -> ConversionPolicy:
    """A conversion policy named ``cy`` unless ``name`` is given."""
    kw.setdefault("name", "cy")
    return ConversionPolicy(**kw)


def time_bank(**kw: Any) -> TimeBankPolicy:
    """A time-bank policy that banks certified hours at once unless told otherwise."""
    kw.setdefault("bank_hours", "at_once")
    return TimeBankPolicy(**kw)
