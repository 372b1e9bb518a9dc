"""Helpers for the ``zhiyuan.hours`` core tests (volunteers, records, policy, ledger): places,
builders, strategies and oracles, used by fixtures (``tests/hours/conftest.py``, prefixed
``h_``), hypothesis tests and the stateful machine alike::

    from support.hours import at, record, registry

Every datetime is explicit and aware (Asia/Shanghai unless a test says otherwise); nothing here
reads the wall clock.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from zhiyuan import SHANGHAI
from zhiyuan.hierarchy import Grant, Jurisdiction, Organization, Registry, load_default
from zhiyuan.hours import (
    Entry,
    Evidence,
    Finding,
    HourLedger,
    HourPolicy,
    IdNumber,
    Outcome,
    Registered,
    ServiceRecord,
    Volunteer,
)

SH = SHANGHAI

# --- places ------------------------------------------------------------------------------------
# 山东省 370000 / 烟台市 3706 / 芝罘区 370602 / 向阳街道 370602001 (友谊街社区 370602001001,
# 建昌街社区 370602001002) / 东山街道 370602002 (海岸路社区 370602002001); 青岛市城阳区 370214.
PROVINCE = "370000000000"
CITY = "370600000000"
COUNTY = "370602000000"
XIANGYANG = "370602001000"
DONGSHAN = "370602002000"
YOUYI = "370602001001"
JIANCHANG = "370602001002"
HAIAN = "370602002001"
CHENGYANG = "370214001000"
CHENGYANG_VILLAGE = "370214001001"

ORGS: dict[str, str] = {
    "o-xy": XIANGYANG,  # 向阳街道志愿者协会 (township)
    "o-ds": DONGSHAN,  # 东山街道志愿者协会 (the neighbouring township)
    "o-zf": COUNTY,  # 芝罘区志愿服务联合会 (county)
    "o-yy": YOUYI,  # 友谊街社区志愿服务队 (village)
    "o-cy": CHENGYANG,  # 城阳街道 (another city)
}


def registry(extra: Iterable[Organization] = ()) -> Registry:
    """A fresh registry on the embedded seed tree with the organizations of :data:`ORGS`."""
    orgs = [
        Organization(id=oid, name=f"组织 {oid}", region_code=code) for oid, code in ORGS.items()
    ]
    return Registry(load_default(), [*orgs, *extra])


def jurisdiction(grants: dict[str, str]) -> Jurisdiction:
    """Admins (principal → node) with every action on their node's subtree."""
    return Jurisdiction(
        load_default(), [Grant(principal=p, region_code=code) for p, code in grants.items()]
    )


def ledger(
    *,
    policies: Iterable[HourPolicy] = (),
    grants: dict[str, str] | None = None,
    volunteers: Iterable[Volunteer] | None = None,
) -> HourLedger:
    """A ledger over :func:`registry` with volunteers v1 and v2 (adults) unless others are given."""
    vs = [volunteer("v1"), volunteer("v2")] if volunteers is None else list(volunteers)
    return HourLedger(
        registry(),
        policies=list(policies),
        jurisdiction=None if grants is None else jurisdiction(grants),
        volunteers=vs,
    )


def facts(lg: HourLedger) -> tuple[Entry, ...]:
    """The ledger's entries about records (registrations left out)."""
    return tuple(e for e in lg.entries if not isinstance(e, Registered))


# --- time --------------------------------------------------------------------------------------


def at(y: int, m: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    """An aware Asia/Shanghai datetime."""
    return datetime(y, m, d, h, mi, s, tzinfo=SH)


# --- ID numbers (an oracle written apart from the library) -------------------------------------


def mod11_2_ok(number: str) -> bool:
    """ISO 7064 MOD 11-2 in its textbook form: Σ a_i·2^(17-i) + check ≡ 1 (mod 11), X = 10."""
    values = [10 if c in "Xx" else int(c) for c in number]
    return sum(v * pow(2, 17 - i) for i, v in enumerate(values)) % 11 == 1


def complete_id(first17: str) -> str:
    """Append the one check character that satisfies :func:`mod11_2_ok`."""
    for c in "0123456789X":
        if mod11_2_ok(first17 + c):
            return first17 + c
    raise AssertionError("MOD 11-2 always has a check character")  # pragma: no cover


def id_for(born: date, *, region: str = "370602", order: str = "123") -> str:
    """A valid 18-character number for someone born on ``born`` (order odd = male)."""
    return complete_id(f"{region}{born:%Y%m%d}{order}")


# --- builders ----------------------------------------------------------------------------------


def volunteer(vid: str = "v1", *, born: date | None = None, **kw: Any) -> Volunteer:
    """A volunteer living in 友谊街社区; with ``born`` they get a matching ID number."""
    fields: dict[str, Any] = {
        "id": vid,
        "name": f"志愿者{vid}",
        "home_region": YOUYI,
        "registered_on": date(2020, 1, 1),
    }
    if born is not None:
        fields["id_number"] = id_for(born)
    fields.update(kw)
    if "registered_on" not in kw and fields.get("id_number") is not None:
        # registered no earlier than born
        born = IdNumber.parse(fields["id_number"]).birth_date
        fields["registered_on"] = max(fields["registered_on"], born)
    return Volunteer(**fields)


def record(
    rid: str = "r1",
    *,
    vid: str = "v1",
    start: datetime | None = None,
    end: datetime | None = None,
    minutes: int | None = None,
    org: str = "o-xy",
    region: str = YOUYI,
    category: str = "助老",
    evidence: Evidence = Evidence.QR_SCAN,
    **kw: Any,
) -> ServiceRecord:
    """A service record; give ``end`` or ``minutes`` (default 09:00 on 2025-03-03 for 60 min)."""
    start = at(2025, 3, 3, 9) if start is None else start
    if end is None:
        end = start + timedelta(minutes=60 if minutes is None else minutes)
    return ServiceRecord(
        id=rid,
        volunteer_id=vid,
        activity_id=kw.pop("activity_id", f"act-{rid}"),
        organization_id=org,
        region_code=region,
        category=category,
        start=start,
        end=end,
        evidence=evidence,
        **kw,
    )


NOW = at(2025, 6, 1, 12)
"""A moment after every default record, for evaluations that need a ``now``."""


def evaluate(policy: HourPolicy, rec: ServiceRecord, **kw: Any) -> Outcome:
    """``policy.evaluate`` at :data:`NOW` unless ``now`` is given."""
    kw.setdefault("now", NOW)
    return policy.evaluate(rec, **kw)


def seg(start: datetime, end: datetime) -> tuple[int, int]:
    """A segment in the policy's units: seconds since 1970-01-01 00:00 Asia/Shanghai."""
    epoch = datetime(1970, 1, 1, tzinfo=SH)
    return (int((start - epoch).total_seconds()), int((end - epoch).total_seconds()))


def overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """Half-open intervals share time."""
    return a[0] < b[1] and b[0] < a[1]


# --- findings: bilingual, and their numbers add up ---------------------------------------------


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def check_finding(f: Finding) -> None:
    """A finding names its rule, speaks Chinese and English, and quotes its own numbers."""
    assert f.rule.startswith("hours."), f.rule
    assert _has_cjk(f.zh), f.zh
    # English text: ASCII words (a quoted category name may still be Chinese data).
    assert sum(ch.isascii() and ch.isalpha() for ch in f.en) >= 3, f.en
    assert f.rule not in f.zh and f.rule not in f.en, "a message from the catalog, not a fallback"
    assert str(f) == f"[{f.rule}] {f.zh} / {f.en}"
    n = f.numbers
    assert all(isinstance(v, int) and not isinstance(v, bool) for v in n.values())
    shown: list[int] = []
    if f.rule == "hours.record_cap":
        assert n["before"] > n["cap"] > 0
        shown = [n["cap"], n["before"]]
    elif f.rule == "hours.schedule_cap":  # the time inside the schedule's window
        assert f.variant in ("topup_window", "checkout_window"), f.variant
        assert n["before"] > n["after"] >= 0 and n["scheduled"] >= n["after"]
        shown = [n["scheduled"], n["before"], n["after"]]
    elif f.rule == "hours.rounding":
        assert n["before"] != n["after"] and n["after"] % n["unit"] == 0
        assert abs(n["before"] - n["after"]) < n["unit"]
        shown = [n["unit"], n["before"], n["after"]]
    elif f.rule == "hours.overlap" and f.variant == "trim":
        assert n["before"] >= n["after"] >= 0
        shown = [n["before"], n["after"]]
    elif f.rule == "hours.overlap":
        assert f.variant == "reject" and n["overlapping"] >= 1
        assert str(n["overlapping"]) in f.en
    elif f.rule == "hours.daily_cap" and f.variant == "trim":
        assert n["before"] > n["after"] >= 0
        shown = [n["cap"], n["before"], n["after"]]
    elif f.rule == "hours.daily_cap":
        assert f.variant in ("approval", "reject") and n["over"] > 0
        shown = [n["cap"], n["over"]]
    elif f.rule == "hours.deadline":
        assert n["days"] > n["limit"] >= 0
        shown = [n["days"], n["limit"]]
    elif f.rule == "hours.age":
        assert n["age"] < n["min_age"]
        shown = [n["age"], n["min_age"]]
    elif f.rule == "hours.minor":
        assert n["age"] < 18
        shown = [n["age"]]
    elif f.rule == "hours.span":
        assert n["served"] > n["limit"]
        shown = [n["served"], n["limit"]]
    for value in shown:
        assert str(value) in f.zh, (value, f.zh)
        assert str(value) in f.en, (value, f.en)


def after_of(f: Finding) -> int | None:
    """The minutes a finding leaves (``None`` for findings that do not change them)."""
    n = f.numbers
    if f.rule == "hours.record_cap":
        return n["cap"]
    if f.rule == "hours.schedule_cap":
        return n["after"]
    if f.rule in ("hours.rounding", "hours.overlap") and "after" in n:
        return n["after"]
    if f.rule == "hours.daily_cap" and "after" in n:
        return n["after"]
    return None


def check_outcome(out: Outcome) -> None:
    """Every finding is well formed, the minutes chain through them, the days add up."""
    for f in out.findings:
        check_finding(f)
    if out.status.value == "rejected":
        assert out.counted_minutes == 0 and out.weighted_minutes == 0
        assert out.segments == () and out.day_minutes == ()
        assert out.findings, "a rejection names its rule"
        return
    # The first rule that changes minutes starts from the served minutes; each later one starts
    # where the previous one left off; the last one leaves the counted minutes.
    minutes: int | None = None
    for f in out.findings:
        if "before" in f.numbers:
            expected = out.served_minutes if minutes is None else minutes
            assert f.numbers["before"] == expected, (out.findings, expected)
        changed = after_of(f)
        if changed is not None:
            minutes = changed
    if minutes is not None:
        assert minutes == out.counted_minutes, (out.findings, out.counted_minutes)
    else:  # no rule changed the minutes: every served minute counts
        assert out.counted_minutes == out.served_minutes, out.findings
    assert sum(m for _, m in out.day_minutes) == out.counted_minutes
    assert all(m > 0 for _, m in out.day_minutes)
    days = [d for d, _ in out.day_minutes]
    assert days == sorted(set(days))
    assert list(out.segments) == sorted(out.segments)
    for a, b in itertools.pairwise(out.segments):
        assert a[1] <= b[0], "segments are disjoint"


# --- hypothesis strategies ---------------------------------------------------------------------

MIN_DT = datetime(2000, 1, 1)
MAX_DT = datetime(2100, 1, 1)


def sh_datetimes(
    min_value: datetime = MIN_DT, max_value: datetime = MAX_DT
) -> st.SearchStrategy[datetime]:
    """Aware Asia/Shanghai datetimes in 2000–2100."""
    return st.datetimes(min_value=min_value, max_value=max_value, timezones=st.just(SH))


def minute_datetimes(
    min_value: datetime = datetime(2024, 1, 1), days: int = 3
) -> st.SearchStrategy[datetime]:
    """Whole-minute Asia/Shanghai datetimes within ``days`` of ``min_value`` (collide often)."""
    return st.integers(min_value=0, max_value=days * 24 * 60).map(
        lambda m: (min_value + timedelta(minutes=m)).replace(tzinfo=SH)
    )


# --- fixtures ----------------------------------------------------------------------------------
