"""Star awards (星级认定): apply → decide → public notice → granted | rejected; revocations, bans,
downgrades, who may decide, and counts by region.

Ledgers come from :mod:`support.scoring` (QR records certified on posting, no notice). Every datetime is
explicit, in Asia/Shanghai.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from support.scoring import (
    ADMINS,
    CHENGYANG_VILLAGE,
    HAIAN,
    JIANCHANG,
    NANGUAN,
    YOUYI,
    at,
    hours,
    jurisdiction,
    serve,
    star_ledger,
    volunteer,
)
from zhiyuan.errors import Conflict, InvalidValue, NotFound, PermissionDenied
from zhiyuan.hierarchy import Jurisdiction
from zhiyuan.hours import HourLedger
from zhiyuan.scoring import (
    STAR_PROFILES,
    Application,
    Decision,
    Downgrade,
    Revocation,
    StarBook,
    StarScheme,
)

NATIONAL = STAR_PROFILES["national"]
SERVED = date(2024, 1, 2)
"""Everybody's hours are served from this day (certified when each record ends)."""
APPLY = at(2024, 6, 1, 9)
"""A moment after every default record is certified."""

HOMES = {
    "v1": YOUYI,  # 芝罘区 向阳街道
    "v2": NANGUAN,  # 福山区 (the neighbour county)
    "v3": JIANCHANG,  # 芝罘区 向阳街道
    "v4": HAIAN,  # 芝罘区 东山街道
    "v5": CHENGYANG_VILLAGE,  # 青岛市 城阳区
}


def make_book(
    scheme: StarScheme = NATIONAL,
    served: dict[str, int] | None = None,
    *,
    judge: Jurisdiction | None = None,
    trust: bool = False,
    registered_on: date = date(2015, 1, 1),
) -> tuple[StarBook, HourLedger]:
    """A book over a fresh ledger; ``served`` is hours per volunteer (default: v1 112 h).

    Decisions are checked against ``judge`` (default: the admins of ``support.scoring.ADMINS``), or
    not at all with ``trust=True``."""
    served = {"v1": 112} if served is None else served
    ledger = star_ledger(
        *(volunteer(v, home=home, registered_on=registered_on) for v, home in HOMES.items())
    )
    for vid, h in served.items():
        serve(ledger, f"{vid}-base", vid, SERVED, hours(h))
    j = None if trust else (jurisdiction() if judge is None else judge)
    return StarBook(ledger, policies=scheme, jurisdiction=j), ledger


def grant(book: StarBook, app_id: str, vid: str, level: int, when: datetime, by: str) -> None:
    """Apply and approve at once (the grant follows after the scheme's notice)."""
    book.apply(app_id, vid, level, at=when)
    book.decide(app_id, by=by, approve=True, reason="符合条件 / eligible", at=when)


# --- the lifecycle -------------------------------------------------------------------------------


def test_apply_approve_notice_then_granted() -> None:
    book, _ = make_book(StarScheme(name="notice", notice_days=7))
    book.apply("app1", "v1", 1, at=APPLY)
    decided = at(2024, 6, 3, 10)
    assert book.status("app1", as_of=APPLY - timedelta(seconds=1)) is None
    assert book.status("app1", as_of=APPLY) == "applied"
    assert book.status("app1", as_of=decided) == "applied"
    book.decide("app1", by="zf-admin", approve=True, reason="符合条件", at=decided)
    granted = decided + timedelta(days=7)
    assert book.status("app1", as_of=decided - timedelta(seconds=1)) == "applied"
    assert book.status("app1", as_of=decided) == "notice"
    assert book.status("app1", as_of=granted - timedelta(seconds=1)) == "notice"
    assert book.level("v1", as_of=granted - timedelta(seconds=1)) == 0
    assert book.status("app1", as_of=granted) == "granted"
    assert book.level("v1", as_of=granted) == 1
    assert book.level("v1", as_of=at(2030, 1, 1)) == 1  # national: kept
    assert [type(e) for e in book.entries] == [Application, Decision]
    app, dec = book.entries
    assert isinstance(app, Application) and isinstance(dec, Decision)
    assert (app.id, app.volunteer_id, app.level, app.at) == ("app1", "v1", 1, APPLY)
    assert (dec.application_id, dec.by, dec.approve, dec.at) == ("app1", "zf-admin", True, decided)


def test_without_notice_the_grant_is_immediate() -> None:
    book, _ = make_book()
    grant(book, "app1", "v1", 1, APPLY, "zf-admin")
    assert book.status("app1", as_of=APPLY) == "granted"
    assert book.level("v1", as_of=APPLY) == 1
    assert book.level("v1", as_of=APPLY - timedelta(seconds=1)) == 0


def test_reject_leaves_the_level_unchanged() -> None:
    book, _ = make_book(served={"v1": 350})
    grant(book, "app1", "v1", 1, APPLY, "zf-admin")
    later = APPLY + timedelta(days=10)
    book.apply("app2", "v1", 2, at=later)
    book.decide("app2", by="zf-admin", approve=False, reason="材料不全 / incomplete", at=later)
    assert book.status("app2", as_of=later) == "rejected"
    assert book.level("v1", as_of=later + timedelta(days=400)) == 1
    # A rejected application is closed: a new one may follow.
    book.apply("app3", "v1", 2, at=later + timedelta(days=1))
    assert book.status("app3", as_of=later + timedelta(days=1)) == "applied"


def test_applying_above_eligibility_carries_the_rating() -> None:
    book, _ = make_book()  # 112 h
    with pytest.raises(InvalidValue) as err:
        book.apply("app1", "v1", 2, at=APPLY)
    assert err.value.field == "level"
    msg = str(err.value)
    assert "未达二星级条件 / not eligible for 2 stars" in msg
    assert "v1: 一星级（112 小时） / 1 star (112 hours)" in msg
    assert "还差 188 小时可申请二星级 / 188 hours short of 2 stars" in msg
    assert book.entries == ()
    with pytest.raises(NotFound):
        book.status("app1", as_of=APPLY)


def test_hours_certified_after_the_application_do_not_back_it() -> None:
    book, ledger = make_book(served={})
    serve(ledger, "late", "v1", date(2024, 5, 1), hours(120), now=at(2024, 6, 1, 10))
    with pytest.raises(InvalidValue, match="还差 100 小时可申请一星级"):
        book.apply("app1", "v1", 1, at=at(2024, 6, 1, 9, 59))
    book.apply("app1", "v1", 1, at=at(2024, 6, 1, 10))


@pytest.mark.parametrize("level", [0, -1, 6])
def test_a_level_out_of_range_is_refused(level: int) -> None:
    book, _ = make_book(served={"v1": 2000})
    with pytest.raises(InvalidValue) as err:
        book.apply("app1", "v1", level, at=APPLY)
    assert err.value.field == "level"
    assert book.entries == ()


def test_applying_for_a_level_held_or_lower_is_refused() -> None:
    book, _ = make_book(served={"v1": 700})
    grant(book, "app1", "v1", 2, APPLY, "zf-admin")
    for level in (1, 2):
        with pytest.raises(InvalidValue, match="已持有 2 星 / already holds 2 stars"):
            book.apply(f"again{level}", "v1", level, at=APPLY + timedelta(days=1))
    book.apply("app3", "v1", 3, at=APPLY + timedelta(days=1))


def test_an_open_application_blocks_another() -> None:
    book, _ = make_book(StarScheme(name="notice", notice_days=7), served={"v1": 350})
    book.apply("app1", "v1", 1, at=APPLY)
    with pytest.raises(Conflict, match="app1"):
        book.apply("app2", "v1", 2, at=APPLY + timedelta(hours=1))
    book.decide(
        "app1", by="zf-admin", approve=True, reason="符合条件", at=APPLY + timedelta(days=1)
    )
    with pytest.raises(Conflict, match="open application app1"):  # during the notice
        book.apply("app2", "v1", 2, at=APPLY + timedelta(days=2))
    book.apply("app2", "v1", 2, at=APPLY + timedelta(days=8))  # granted by then
    assert len(book.entries) == 3
    # Another volunteer's open application is no obstacle.
    book2, _ = make_book(served={"v1": 112, "v3": 112})
    book2.apply("a", "v1", 1, at=APPLY)
    book2.apply("b", "v3", 1, at=APPLY)


def test_the_same_application_twice_is_a_no_op() -> None:
    book, _ = make_book()
    book.apply("app1", "v1", 1, at=APPLY)
    book.apply("app1", "v1", 1, at=APPLY)
    assert len(book.entries) == 1
    # Even once the rating has moved on (replaying an old log must not fail).
    book.decide("app1", by="zf-admin", approve=True, reason="符合条件", at=APPLY)
    book.apply("app1", "v1", 1, at=APPLY)
    assert len(book.entries) == 2


@pytest.mark.parametrize(
    ("vid", "level", "when"),
    [("v1", 2, APPLY), ("v3", 1, APPLY), ("v1", 1, APPLY + timedelta(seconds=1))],
)
def test_a_used_application_id_with_other_content_conflicts(
    vid: str, level: int, when: datetime
) -> None:
    book, _ = make_book(served={"v1": 350, "v3": 112})
    book.apply("app1", "v1", 1, at=APPLY)
    with pytest.raises(Conflict, match="app1"):
        book.apply("app1", vid, level, at=when)
    assert len(book.entries) == 1


def test_decide_twice() -> None:
    book, _ = make_book()
    book.apply("app1", "v1", 1, at=APPLY)
    book.decide("app1", by="zf-admin", approve=True, reason="符合条件", at=APPLY)
    book.decide("app1", by="zf-admin", approve=True, reason="符合条件", at=APPLY + timedelta(1))
    assert len(book.entries) == 2
    with pytest.raises(Conflict, match="already decided"):
        book.decide("app1", by="zf-admin", approve=False, reason="撤回", at=APPLY + timedelta(1))
    assert len(book.entries) == 2
    assert book.status("app1", as_of=APPLY + timedelta(2)) == "granted"
    # A rejection decided twice the same way is a no-op as well.
    book2, _ = make_book()
    book2.apply("x", "v1", 1, at=APPLY)
    book2.decide("x", by="zf-admin", approve=False, reason="材料不全", at=APPLY)
    book2.decide("x", by="zf-admin", approve=False, reason="材料不全", at=APPLY)
    with pytest.raises(Conflict):
        book2.decide("x", by="zf-admin", approve=True, reason="复核通过", at=APPLY)
    assert book2.status("x", as_of=APPLY) == "rejected"


def test_decide_unknown_or_too_early() -> None:
    book, _ = make_book()
    with pytest.raises(NotFound):
        book.decide("nope", by="zf-admin", approve=True, reason="r", at=APPLY)
    book.apply("app1", "v1", 1, at=APPLY)
    with pytest.raises(InvalidValue) as err:
        book.decide("app1", by="zf-admin", approve=True, reason="r", at=APPLY - timedelta(1))
    assert err.value.field == "at"
    assert len(book.entries) == 1


def test_unknown_volunteer_and_naive_times() -> None:
    book, _ = make_book()
    with pytest.raises(NotFound):
        book.apply("app1", "ghost", 1, at=APPLY)
    with pytest.raises(InvalidValue) as err:
        book.apply("app1", "v1", 1, at=datetime(2024, 6, 1, 9))
    assert err.value.field == "at"
    with pytest.raises(InvalidValue):
        book.level("v1", as_of=datetime(2024, 6, 1, 9))
    assert book.entries == ()


# --- who may decide ------------------------------------------------------------------------------


def _applied(level: int, vid: str = "v1", scheme: StarScheme = NATIONAL) -> StarBook:
    need = {1: 100, 2: 300, 3: 600, 4: 1000, 5: 1500}[level]
    book, _ = make_book(scheme, served={vid: need})
    book.apply("app", vid, level, at=APPLY)
    return book


@pytest.mark.parametrize(
    ("level", "allowed", "denied"),
    [
        (1, ["zf-admin", "yt-admin", "sd-admin"], ["fs-admin", "xy-admin", "qd-admin"]),
        (2, ["zf-admin", "yt-admin", "sd-admin"], ["fs-admin", "xy-admin", "qd-admin"]),
        (3, ["yt-admin", "sd-admin"], ["zf-admin", "fs-admin", "xy-admin", "qd-admin"]),
        (4, ["yt-admin", "sd-admin"], ["zf-admin", "xy-admin", "qd-admin"]),
        (5, ["sd-admin"], ["yt-admin", "zf-admin", "qd-admin"]),
    ],
)
def test_national_approval_follows_the_tree(
    level: int, allowed: list[str], denied: list[str]
) -> None:
    """1–2★ the county of the volunteer's home, 3–4★ the city, 5★ the province."""
    for who in denied:
        book = _applied(level)
        with pytest.raises(PermissionDenied, match=who):
            book.decide("app", by=who, approve=True, reason="符合条件", at=APPLY)
        assert book.status("app", as_of=APPLY) == "applied"
        assert len(book.entries) == 1
    for who in allowed:
        book = _applied(level)
        book.decide("app", by=who, approve=True, reason="符合条件", at=APPLY)
        assert book.level("v1", as_of=APPLY) == level


def test_the_neighbour_county_decides_for_its_own_residents() -> None:
    book = _applied(1, vid="v2")  # lives in 福山区
    with pytest.raises(PermissionDenied):
        book.decide("app", by="zf-admin", approve=True, reason="符合条件", at=APPLY)
    book.decide("app", by="fs-admin", approve=True, reason="符合条件", at=APPLY)
    assert book.level("v2", as_of=APPLY) == 1


def test_a_rejection_needs_the_same_authority() -> None:
    book = _applied(3)
    with pytest.raises(PermissionDenied):
        book.decide("app", by="zf-admin", approve=False, reason="材料不全", at=APPLY)
    book.decide("app", by="yt-admin", approve=False, reason="材料不全", at=APPLY)
    assert book.status("app", as_of=APPLY) == "rejected"


def test_longgang_streets_approve_up_to_three_stars() -> None:
    longgang = STAR_PROFILES["longgang"]
    book = _applied(3, scheme=longgang)
    book.decide("app", by="xy-admin", approve=True, reason="符合条件", at=APPLY)
    assert book.level("v1", as_of=APPLY) == 3
    book = _applied(4, scheme=longgang)
    with pytest.raises(PermissionDenied):
        book.decide("app", by="xy-admin", approve=True, reason="符合条件", at=APPLY)
    book.decide("app", by="zf-admin", approve=True, reason="符合条件", at=APPLY)


def test_grants_without_approve_star_or_out_of_force_do_not_authorize() -> None:
    from zhiyuan.hierarchy import Grant, load_default

    j = Jurisdiction(
        load_default(),
        [
            Grant(principal="certifier", region_code="370602", actions={"certify"}),
            Grant(
                principal="expired",
                region_code="370602",
                actions={"approve_star"},
                valid_until=date(2024, 5, 31),
            ),
        ],
    )
    book, _ = make_book(judge=j)
    book.apply("app", "v1", 1, at=APPLY)
    for who in ("certifier", "expired"):
        with pytest.raises(PermissionDenied):
            book.decide("app", by=who, approve=True, reason="符合条件", at=APPLY)


def test_without_a_jurisdiction_every_caller_is_trusted() -> None:
    book, _ = make_book(trust=True)
    grant(book, "app", "v1", 1, APPLY, "anyone")
    assert book.level("v1", as_of=APPLY) == 1


# --- revocations and bans ------------------------------------------------------------------------


def test_revoking_for_falsified_hours_bans_and_marks() -> None:
    book, _ = make_book(served={"v1": 350})
    granted = at(2024, 6, 1, 9)
    grant(book, "app1", "v1", 2, granted, "zf-admin")
    revoked = at(2024, 9, 10, 15)
    book.revoke(
        "rev1", "v1", by="zf-admin", reason="虚假时长 / falsified", at=revoked, falsified=True
    )
    assert book.level("v1", as_of=revoked - timedelta(seconds=1)) == 2
    assert book.level("v1", as_of=revoked) == 0
    assert book.status("app1", as_of=revoked - timedelta(seconds=1)) == "granted"
    assert book.status("app1", as_of=revoked) == "revoked"
    assert book.banned_until("v1", as_of=revoked - timedelta(seconds=1)) is None
    assert book.banned_until("v1", as_of=revoked) == date(2025, 9, 10)  # ban_years = 1
    assert book.marks("v1") == [date(2024, 9, 10)]
    rev = book.entries[-1]
    assert isinstance(rev, Revocation)
    assert (rev.falsified, rev.banned_until, rev.by) == (True, date(2025, 9, 10), "zf-admin")

    for when in (at(2024, 9, 11), at(2025, 9, 10, 23, 59)):
        with pytest.raises(Conflict, match="2025-09-10"):
            book.apply(f"during-{when:%Y}", "v1", 1, at=when)
    after = at(2025, 9, 11)
    assert book.banned_until("v1", as_of=after) is None
    book.apply("after", "v1", 2, at=after)  # national: no clean-years condition
    book.decide("after", by="zf-admin", approve=True, reason="符合条件", at=after)
    assert book.level("v1", as_of=after) == 2
    assert book.status("app1", as_of=after) == "revoked"


def test_guangdong_bans_for_three_years() -> None:
    book, _ = make_book(STAR_PROFILES["guangdong"])
    revoked = at(2024, 3, 10, 9)
    book.revoke("rev1", "v1", by="zf-admin", reason="虚假时长", at=revoked, falsified=True)
    assert book.banned_until("v1", as_of=revoked) == date(2027, 3, 10)
    with pytest.raises(Conflict):
        book.apply("a", "v1", 1, at=at(2027, 3, 10, 12))
    book.apply("a", "v1", 1, at=at(2027, 3, 11))


def test_guangxi_marks_block_until_the_clean_years_pass() -> None:
    """桂志愿: the ban is 1 year, but the mark keeps blocking for 3 clean years."""
    book, _ = make_book(STAR_PROFILES["guangxi"])
    revoked = at(2024, 3, 10, 9)
    book.revoke("rev1", "v1", by="zf-admin", reason="虚假时长", at=revoked, falsified=True)
    with pytest.raises(Conflict):
        book.apply("a", "v1", 1, at=at(2024, 12, 1))
    with pytest.raises(InvalidValue) as err:
        book.apply("a", "v1", 1, at=at(2025, 3, 11))
    assert "近 3 年内有 1 次被查实投诉或虚假时长（最近 2024-03-10）" in str(err.value)
    with pytest.raises(InvalidValue):
        book.apply("a", "v1", 1, at=at(2027, 3, 9, 23))
    book.apply("a", "v1", 1, at=at(2027, 3, 10))


def test_revoking_without_falsification_neither_bans_nor_marks() -> None:
    book, _ = make_book(StarScheme(name="guangxi-like", clean_years=3))
    grant(book, "app1", "v1", 1, APPLY, "zf-admin")
    later = APPLY + timedelta(days=30)
    book.revoke("rev1", "v1", by="zf-admin", reason="退出注册 / left", at=later)
    assert book.level("v1", as_of=later) == 0
    assert book.banned_until("v1", as_of=later) is None
    assert book.marks("v1") == []
    book.apply("app2", "v1", 1, at=later)


def test_revoke_is_idempotent_by_id() -> None:
    book, _ = make_book()
    grant(book, "app1", "v1", 1, APPLY, "zf-admin")
    later = APPLY + timedelta(days=30)
    book.revoke("rev1", "v1", by="zf-admin", reason="虚假时长", at=later, falsified=True)
    book.revoke("rev1", "v1", by="zf-admin", reason="虚假时长", at=later, falsified=True)
    assert len(book.entries) == 3
    assert book.marks("v1") == [later.date()]
    for kw in (
        {"volunteer_id": "v3"},
        {"at": later + timedelta(seconds=1)},
        {"falsified": False},
        {"reason": "另一理由"},
        {"by": "yt-admin"},
    ):
        args = {
            "volunteer_id": "v1",
            "by": "zf-admin",
            "reason": "虚假时长",
            "at": later,
            "falsified": True,
            **kw,
        }
        vid = args.pop("volunteer_id")
        with pytest.raises(Conflict, match="rev1"):
            book.revoke("rev1", vid, **args)  # type: ignore[arg-type]
    assert len(book.entries) == 3
    assert book.marks("v1") == [later.date()]


def test_revoking_needs_authority_over_the_highest_star_held() -> None:
    book, _ = make_book(served={"v1": 700})
    grant(book, "app1", "v1", 3, APPLY, "yt-admin")
    later = APPLY + timedelta(days=1)
    with pytest.raises(PermissionDenied):
        book.revoke("rev1", "v1", by="zf-admin", reason="虚假时长", at=later, falsified=True)
    assert book.level("v1", as_of=later) == 3 and book.marks("v1") == []
    assert book.banned_until("v1", as_of=later) is None
    book.revoke("rev1", "v1", by="yt-admin", reason="虚假时长", at=later, falsified=True)
    assert book.level("v1", as_of=later) == 0


def test_revoking_during_the_public_notice_stops_the_grant() -> None:
    """公示 exists to catch problems: a revocation during the notice means no star."""
    book, _ = make_book(StarScheme(name="notice", notice_days=7))
    grant(book, "app1", "v1", 1, APPLY, "zf-admin")
    during = APPLY + timedelta(days=3)
    assert book.status("app1", as_of=during) == "notice"
    book.revoke("rev1", "v1", by="zf-admin", reason="虚假时长", at=during, falsified=True)
    assert book.status("app1", as_of=during - timedelta(seconds=1)) == "notice"
    assert book.status("app1", as_of=during) == "revoked"
    assert book.status("app1", as_of=APPLY + timedelta(days=8)) == "revoked"
    assert book.level("v1", as_of=APPLY + timedelta(days=8)) == 0


def test_a_revocation_does_not_touch_later_grants() -> None:
    book, _ = make_book()
    book.revoke("rev1", "v1", by="zf-admin", reason="退出注册", at=APPLY - timedelta(days=1))
    grant(book, "app1", "v1", 1, APPLY, "zf-admin")
    assert book.status("app1", as_of=APPLY) == "granted"
    assert book.level("v1", as_of=APPLY) == 1


def test_revoke_an_unknown_volunteer() -> None:
    book, _ = make_book()
    with pytest.raises(NotFound):
        book.revoke("rev1", "ghost", by="zf-admin", reason="r", at=APPLY)
    assert book.entries == ()


# --- sequential schemes through the book -------------------------------------------------------


def test_sichuan_five_stars_only_after_four_are_held() -> None:
    book, _ = make_book(STAR_PROFILES["sichuan"], served={"v1": 1600})
    with pytest.raises(InvalidValue, match="须先获得4星级才能申请5星级"):
        book.apply("app5", "v1", 5, at=APPLY)
    grant(book, "app4", "v1", 4, APPLY, "yt-admin")
    later = APPLY + timedelta(days=1)
    book.apply("app5", "v1", 5, at=later)
    book.decide("app5", by="sd-admin", approve=True, reason="评选通过", at=later)
    assert book.level("v1", as_of=later) == 5


# --- downgrades ----------------------------------------------------------------------------------


def test_yearly_reset() -> None:
    book, _ = make_book(StarScheme(name="yearly", downgrade=Downgrade.YEARLY_RESET))
    grant(book, "app1", "v1", 1, at(2024, 5, 10, 9), "zf-admin")
    assert book.level("v1", as_of=at(2024, 12, 31, 23, 59, 59)) == 1
    assert book.level("v1", as_of=at(2025, 1, 1)) == 0
    assert book.status("app1", as_of=at(2025, 1, 1)) == "granted"  # the grant stays on record
    grant(book, "app2", "v1", 1, at(2025, 1, 2), "zf-admin")  # apply again in the new year
    assert book.level("v1", as_of=at(2025, 6, 1)) == 1
    assert book.level("v1", as_of=at(2026, 1, 1)) == 0


def test_yearly_reset_keeps_the_highest_of_the_year() -> None:
    book, _ = make_book(
        StarScheme(name="yearly", downgrade=Downgrade.YEARLY_RESET), served={"v1": 350}
    )
    grant(book, "a1", "v1", 1, at(2024, 3, 1), "zf-admin")
    grant(book, "a2", "v1", 2, at(2024, 4, 1), "zf-admin")
    assert book.level("v1", as_of=at(2024, 5, 1)) == 2
    assert book.level("v1", as_of=at(2025, 5, 1)) == 0


def test_idle_year_one_level_down_per_full_idle_year() -> None:
    book, _ = make_book(StarScheme(name="idle", downgrade=Downgrade.IDLE_YEAR), served={"v1": 700})
    granted = at(2024, 6, 1, 9)
    grant(book, "app1", "v1", 3, granted, "yt-admin")
    assert book.level("v1", as_of=at(2025, 5, 31, 23, 59)) == 3
    assert book.level("v1", as_of=at(2025, 6, 1)) == 2
    assert book.level("v1", as_of=at(2026, 6, 1)) == 1
    assert book.level("v1", as_of=at(2027, 6, 1)) == 0
    assert book.level("v1", as_of=at(2030, 6, 1)) == 0


def test_idle_year_service_keeps_the_level() -> None:
    book, ledger = make_book(
        StarScheme(name="idle", downgrade=Downgrade.IDLE_YEAR), served={"v1": 700}
    )
    grant(book, "app1", "v1", 3, at(2024, 6, 1, 9), "yt-admin")
    serve(ledger, "r2", "v1", date(2025, 3, 1), 60)
    assert book.level("v1", as_of=at(2025, 6, 1)) == 3
    assert book.level("v1", as_of=at(2026, 2, 28, 23)) == 3
    assert book.level("v1", as_of=at(2026, 3, 1)) == 2


def test_idle_year_a_lost_level_does_not_come_back_by_itself() -> None:
    """After a full idle year the star drops; later service does not restore it."""
    book, ledger = make_book(
        StarScheme(name="idle", downgrade=Downgrade.IDLE_YEAR), served={"v1": 700}
    )
    grant(book, "app1", "v1", 3, at(2024, 6, 1, 9), "yt-admin")
    assert book.level("v1", as_of=at(2025, 7, 1)) == 2
    serve(ledger, "r2", "v1", date(2025, 7, 1), 60, hour=10)
    assert book.level("v1", as_of=at(2025, 7, 2)) == 2
    assert book.level("v1", as_of=at(2026, 7, 1, 12)) == 1  # another full idle year
    # A new application restores it, and the idle count starts again from that grant.
    grant(book, "app2", "v1", 3, at(2026, 7, 2), "yt-admin")
    assert book.level("v1", as_of=at(2027, 7, 1)) == 3


def test_idle_year_only_counts_certified_service() -> None:
    from zhiyuan.hours import Evidence

    book, ledger = make_book(
        StarScheme(name="idle", downgrade=Downgrade.IDLE_YEAR), served={"v1": 700}
    )
    grant(book, "app1", "v1", 3, at(2024, 6, 1, 9), "yt-admin")
    serve(ledger, "sup", "v1", date(2025, 3, 1), 60, evidence=Evidence.SUPERVISOR)  # submitted
    assert book.level("v1", as_of=at(2025, 6, 1)) == 2


# --- counts by region ----------------------------------------------------------------------------


def test_counts_by_region_roll_up_the_tree() -> None:
    served = {"v1": 350, "v2": 112, "v3": 112, "v4": 700, "v5": 112}
    book, _ = make_book(served=served, trust=True)
    grant(book, "a1", "v1", 2, APPLY, "x")
    grant(book, "a2", "v2", 1, APPLY, "x")
    grant(book, "a3", "v3", 1, APPLY, "x")
    grant(book, "a4", "v4", 3, APPLY, "x")
    grant(book, "a5", "v5", 1, APPLY, "x")
    counts = book.counts_by_region(as_of=APPLY)
    assert counts[YOUYI] == {2: 1}
    assert counts[JIANCHANG] == {1: 1}
    assert counts["370602001000"] == {1: 1, 2: 1}  # 向阳街道
    assert counts["370602002000"] == {3: 1}  # 东山街道
    assert counts["370602000000"] == {1: 1, 2: 1, 3: 1}  # 芝罘区
    assert counts["370611000000"] == {1: 1}  # 福山区
    assert counts["370600000000"] == {1: 2, 2: 1, 3: 1}  # 烟台市
    assert counts["370214000000"] == {1: 1}  # 城阳区
    assert counts["370000000000"] == {1: 3, 2: 1, 3: 1}  # 山东省
    # A city's total is the sum of its counties', level by level.
    tree = book.ledger.tree
    for city in ("370600000000", "370200000000"):
        counties = [c for c in counts if tree[c].parent_code == city]
        for level, n in counts[city].items():
            assert n == sum(counts[c].get(level, 0) for c in counties)
    # Before the grants, nobody; within a subtree, only that subtree.
    assert book.counts_by_region(as_of=APPLY - timedelta(seconds=1)) == {}
    within = book.counts_by_region(as_of=APPLY, within="370602")
    assert within["370600000000"] == {1: 1, 2: 1, 3: 1}
    assert "370611000000" not in within and "370214000000" not in within


def test_counts_by_region_follow_revocations_and_downgrades() -> None:
    book, _ = make_book(
        StarScheme(name="yearly", downgrade=Downgrade.YEARLY_RESET),
        served={"v1": 112, "v3": 112},
        trust=True,
    )
    grant(book, "a1", "v1", 1, APPLY, "x")
    grant(book, "a3", "v3", 1, APPLY, "x")
    book.revoke("r", "v3", by="x", reason="退出", at=APPLY + timedelta(days=1))
    assert book.counts_by_region(as_of=APPLY)["370602000000"] == {1: 2}
    assert book.counts_by_region(as_of=APPLY + timedelta(days=1))["370602000000"] == {1: 1}
    assert book.counts_by_region(as_of=at(2025, 1, 1)) == {}


# --- a property: the notice boundary -------------------------------------------------------------


@given(
    notice=st.integers(min_value=0, max_value=30),
    delay=st.integers(min_value=0, max_value=60 * 24 * 60),
    probe=st.integers(min_value=-3 * 24 * 3600, max_value=40 * 24 * 3600),
)
def test_status_turns_granted_exactly_when_the_notice_ends(
    notice: int, delay: int, probe: int
) -> None:
    book, _ = make_book(StarScheme(name="n", notice_days=notice), trust=True)
    book.apply("app", "v1", 1, at=APPLY)
    decided = APPLY + timedelta(minutes=delay)
    book.decide("app", by="x", approve=True, reason="ok", at=decided)
    when = decided + timedelta(seconds=probe)
    granted = decided + timedelta(days=notice)
    expected = (
        None
        if when < APPLY
        else "applied"
        if when < decided
        else "notice"
        if when < granted
        else "granted"
    )
    assert book.status("app", as_of=when) == expected
    assert book.level("v1", as_of=when) == (1 if expected == "granted" else 0)


def test_entries_are_frozen() -> None:
    book, _ = make_book()
    grant(book, "app1", "v1", 1, APPLY, "zf-admin")
    app = book.entries[0]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        app.level = 5  # type: ignore[misc]
    assert set(ADMINS) >= {"zf-admin", "fs-admin", "yt-admin", "sd-admin"}


# --- issue 14: a level, a flag or an id of the wrong kind is refused before anything is recorded --


@pytest.mark.parametrize("level", [1.0, True, "1", None, 0, 101])
def test_an_application_level_that_is_not_a_whole_star_count_is_refused(level: Any) -> None:
    book, _ = make_book()
    before = len(book.journal)
    with pytest.raises(InvalidValue) as info:
        book.apply("app1", "v1", level, at=APPLY)
    assert info.value.field == "level"
    assert len(book.journal) == before and book.level("v1", as_of=APPLY) == 0


@pytest.mark.parametrize("approve", [1, "yes", None])
def test_a_decision_that_is_not_true_or_false_is_refused(approve: Any) -> None:
    book, _ = make_book(trust=True)
    book.apply("app1", "v1", 1, at=APPLY)
    with pytest.raises(InvalidValue) as info:
        book.decide("app1", by="zf-admin", approve=approve, reason="ok", at=APPLY)
    assert info.value.field == "approve"
    assert book.status("app1", as_of=APPLY) == "applied"


@pytest.mark.parametrize("falsified", [1, "no", None])
def test_a_revocation_flag_that_is_not_true_or_false_is_refused(falsified: Any) -> None:
    book, _ = make_book(trust=True)
    with pytest.raises(InvalidValue) as info:
        book.revoke("rv1", "v1", by="zf-admin", reason="x", at=APPLY, falsified=falsified)
    assert info.value.field == "falsified"
    assert book.banned_until("v1", as_of=APPLY) is None
