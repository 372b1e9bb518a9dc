"""All seven books on one journal, a script of operations across them, and a snapshot of what
a user can observe: shared by the journal and store tests.

Every moment is explicit; the journal's clock is fixed, so two runs of the script record the
same entries at the same moments (and so the same digests).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from zhiyuan import SHANGHAI
from zhiyuan.credit import (
    Catalog,
    Item,
    PointsLedger,
    Redemptions,
    TimeBank,
    TimeBankPolicy,
)
from zhiyuan.hierarchy import Organization, Registry, load_default
from zhiyuan.hours import Evidence, HourLedger, HourPolicy, ServiceRecord, Volunteer
from zhiyuan.journal import Journal
from zhiyuan.matching import Need, NeedBook
from zhiyuan.scoring import Complaint, FeedbackBook, Rating, StarBook, StarScheme

VILLAGE = "370602001001"  # 友谊街社区, 向阳街道, 芝罘区, 烟台
STREET = "370602001"
T0 = datetime(2025, 3, 1, 8, tzinfo=SHANGHAI)
CLOCK = datetime(2025, 12, 31, 12, tzinfo=SHANGHAI)  # "now" for every journal of the tests
VOLUNTEERS = ("v1", "v2", "v3")

REGISTRY = Registry(
    load_default(), [Organization(id="o1", name="向阳街道志愿者协会", region_code=STREET)]
)
CATALOG = Catalog(
    [Item(id="umbrella", name="雨伞", price=3, stock=5), Item(id="rice", name="米", price=2)]
)


def fixed_clock() -> datetime:
    return CLOCK


def t(day: int, hour: int = 8) -> datetime:
    return T0 + timedelta(days=day - 1, hours=hour - 8)


def volunteer(vid: str) -> Volunteer:
    return Volunteer(
        id=vid, name=f"志愿者{vid}", home_region=VILLAGE, registered_on=date(2024, 1, 1)
    )


def record(rid: str, vid: str, day: int, hours: int = 8) -> ServiceRecord:
    return ServiceRecord(
        id=rid,
        volunteer_id=vid,
        activity_id=f"a-{rid}",
        organization_id="o1",
        region_code=VILLAGE,
        category="助老",
        evidence=Evidence.QR_SCAN,
        start=t(day, 8),
        end=t(day, 8 + hours),
    )


@dataclass
class Books:
    """The seven books, on one journal."""

    journal: Journal
    hours: HourLedger
    points: PointsLedger
    credits: PointsLedger
    timebank: TimeBank
    stars: StarBook
    feedback: FeedbackBook
    needs: NeedBook
    orders: Redemptions


def open_books(journal: Journal) -> Books:
    """Build (or rebuild, on a reopened journal) every book."""
    hours = HourLedger(
        REGISTRY,
        policies=[HourPolicy(notice_days=3, auto_certify={"qr_scan"})],
        journal=journal,
    )
    points = PointsLedger(journal=journal)
    credits = PointsLedger("time_credits", journal=journal)
    timebank = TimeBank(credits, REGISTRY.tree, TimeBankPolicy(transfer_relations={"spouse"}))
    stars = StarBook(hours, policies=StarScheme(notice_days=7))
    feedback = FeedbackBook(journal=journal)
    needs = NeedBook(journal=journal)
    orders = Redemptions(points, CATALOG, volunteers=hours.volunteer, level_of=stars)
    return Books(journal, hours, points, credits, timebank, stars, feedback, needs, orders)


def script(b: Books, *, upto: int | None = None) -> None:
    """A fixed history across every book (the first ``upto`` steps of it)."""
    steps = list(_steps(b))
    for step in steps[:upto]:
        step()


def _steps(b: Books) -> list[Callable[[], Any]]:
    out: list[Callable[[], Any]] = []
    add = out.append
    add(lambda: b.hours.add_volunteers([volunteer(v) for v in VOLUNTEERS], at=t(1, 7)))
    for d in range(1, 17):  # v1 serves 16 days of 8 h; 14 of them count toward a star
        add(lambda d=d: b.hours.post(record(f"r{d}", "v1", d), at=t(d, 18)))
    add(lambda: b.hours.post(record("r20", "v2", 2, 3), at=t(2, 18)))
    add(lambda: b.hours.reverse("r3", by="admin", reason="重复 / duplicate", at=t(20)))
    add(lambda: b.points.earn("e1", "v1", 30, at=t(2), issuer="issuer:芝罘"))
    add(lambda: b.points.earn("e2", "v2", 10, at=t(3), issuer="issuer:芝罘", expires_at=t(40)))
    add(lambda: b.points.spend("s1", "v1", 12, at=t(4)))
    add(lambda: b.points.transfer("g1", "v2", "v3", 4, at=t(5)))
    add(lambda: b.orders.reserve("o1", "v1", "umbrella", 2, at=t(6)))
    add(lambda: b.orders.reserve("o2", "v1", "rice", 1, at=t(6, 9)))
    add(lambda: b.orders.cancel("o2", at=t(7), reason="不要了"))
    add(lambda: b.orders.fulfill("o1", at=t(8)))
    add(lambda: b.points.reverse_earning("e1", at=t(21), reason="工时冲销"))
    add(lambda: b.points.expire(t(45)))
    add(lambda: b.timebank.deposit("d1", "v2", 90, at=t(3), region=VILLAGE))
    add(lambda: b.timebank.withdraw("w1", "v2", 30, at=t(9), region=VILLAGE))
    add(lambda: b.timebank.transfer("tt1", "v2", "v3", 20, relation="spouse", at=t(10)))
    add(lambda: b.stars.apply("app1", "v1", 1, at=t(25)))
    add(lambda: b.stars.decide("app1", by="county", approve=True, reason="符合", at=t(26)))
    add(
        lambda: b.feedback.add_rating(
            Rating(id="g1", record_id="r1", volunteer_id="v1", stars=4, at=t(2))
        )
    )
    add(
        lambda: b.feedback.file_complaint(
            Complaint(id="c1", record_id="r2", volunteer_id="v1", at=t(3), text="迟到 / late")
        )
    )
    add(lambda: b.feedback.uphold("c1", by="admin", at=t(4), ledger=b.hours))
    need = Need(
        id="n1",
        requester="张大爷",
        region_code=VILLAGE,
        category="帮老",
        start=t(11, 9),
        end=t(11, 11),
        posted_at=t(11, 7),
    )
    add(lambda: b.needs.post(need))
    add(lambda: b.needs.offer("n1", "v3", at=t(11, 7)))
    add(lambda: b.needs.accept("n1", "v3", at=t(11, 8)))
    add(lambda: b.needs.start("n1", at=t(11, 9)))
    add(
        lambda: b.needs.complete(
            "n1", at=t(11, 11), evidence=Evidence.SUPERVISOR, organization_id="o1"
        )
    )
    add(lambda: b.needs.rate("n1", 5, at=t(11, 12), feedback=b.feedback))
    add(lambda: b.needs.reward("n1", "v3", 6, at=t(11, 13), ledger=b.points, issuer="issuer:城阳"))
    return out


def snapshot(b: Books, as_of: datetime | None = None) -> dict[str, Any]:
    """What a user can read from every book (now, or as of a moment)."""
    h, p = b.hours, b.points
    known = {v.id for v in h.volunteers()}
    registered = [v for v in VOLUNTEERS if v in known]  # reads about others are NotFound
    return {
        "hours": {v: h.summary(v, as_of=as_of) for v in registered},
        "records": [r.id for v in registered for r in h.records_of(v)],
        "occupied": {v: h.occupied(v) for v in registered},
        "points": p.accounts(),
        "lots": {v: p.lots(v) for v in VOLUNTEERS},
        "balances": {v: p.balances(v, as_of=as_of) for v in VOLUNTEERS},
        "credits": b.credits.accounts(),
        "banks": b.timebank.positions(as_of=as_of),
        "stars": {v: b.stars.level(v, as_of=as_of) for v in VOLUNTEERS},
        "applications": [b.stars.status("app1", as_of=as_of)] if "app1" in _apps(b) else [],
        "feedback": (b.feedback.score("v1", as_of=as_of), b.feedback.complaints(as_of=as_of)),
        "needs": {n: b.needs.status(n) for n in b.needs.needs()},
        "orders": b.orders.orders(as_of=as_of),
        "entries": {name: book.entries for name, book in b.journal.books.items()},
    }


def _apps(b: Books) -> set[str]:
    return {e.id for e in b.stars.entries if hasattr(e, "level")}
