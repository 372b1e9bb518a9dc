"""What the fuzz suite (``tests/fuzz``) feeds the library: junk values, and one valid instance of
every public attrs class to spoil.

The valid instances are harvested, not written by hand: every doctest of the package is run once
with each public class's ``__init__`` wrapped to remember the arguments of the first few
successful constructions. A class no doctest builds gets its instances from :data:`EXTRA`; a test
checks that every public class has at least one, so a new class without an example fails loudly.
"""

from __future__ import annotations

import contextlib
import doctest
import enum
import functools
import importlib
import inspect
import io
import pkgutil
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import attrs
from hypothesis import strategies as st

import zhiyuan
from books import VILLAGE, record, t
from zhiyuan.credit import PostingKind
from zhiyuan.hours import Evidence
from zhiyuan.matching import Need
from zhiyuan.scoring import Complaint, Rating

PACKAGES = (
    "zhiyuan",
    "zhiyuan.hierarchy",
    "zhiyuan.hours",
    "zhiyuan.scoring",
    "zhiyuan.credit",
    "zhiyuan.matching",
    "zhiyuan.projects",
    "zhiyuan.journal",
    "zhiyuan.state",
    "zhiyuan.bulk",
    "zhiyuan.simulate",
    "zhiyuan.platform",
)


def public(predicate: Callable[[Any], bool]) -> dict[str, Any]:
    """Every object of the packages' ``__all__`` for which ``predicate`` holds, by dotted name."""
    found: dict[int, tuple[str, Any]] = {}
    for name in PACKAGES:
        mod = importlib.import_module(name)
        for attr in getattr(mod, "__all__", ()):
            obj = getattr(mod, attr)
            if predicate(obj) and id(obj) not in found:
                found[id(obj)] = (f"{name}.{attr}", obj)
    return dict(sorted(found.values()))


PUBLIC_CLASSES: dict[str, type] = public(lambda o: inspect.isclass(o) and attrs.has(o))
"""Every public attrs class (records, policies, entries, results), by dotted name."""

PUBLIC_ENUMS: dict[str, type[enum.Enum]] = public(
    lambda o: inspect.isclass(o) and issubclass(o, enum.Enum)
)


def init_fields(cls: type) -> list[attrs.Attribute[Any]]:
    """The fields ``__init__`` takes."""
    return [a for a in attrs.fields(cls) if a.init]


def kwargs_of(obj: Any) -> dict[str, Any]:
    """The keyword arguments that rebuild ``obj``."""
    return {a.alias: getattr(obj, a.name) for a in init_fields(type(obj))}


@contextlib.contextmanager
def _recording(keep: int) -> Iterator[dict[type, list[dict[str, Any]]]]:
    seen: dict[type, list[dict[str, Any]]] = {cls: [] for cls in PUBLIC_CLASSES.values()}
    originals = {cls: cls.__init__ for cls in seen}

    def wrap(cls: type, init: Callable[..., None]) -> Callable[..., None]:
        sig = inspect.signature(init)

        @functools.wraps(init)
        def record(self: Any, *args: Any, **kwargs: Any) -> None:
            init(self, *args, **kwargs)
            if type(self) is cls and len(seen[cls]) < keep:
                bound = sig.bind(self, *args, **kwargs)
                seen[cls].append({k: v for k, v in bound.arguments.items() if k != "self"})

        return record

    for cls, init in originals.items():
        cls.__init__ = wrap(cls, init)  # type: ignore[misc]
    try:
        yield seen
    finally:
        for cls, init in originals.items():
            cls.__init__ = init  # type: ignore[misc]


def _modules() -> Iterator[Any]:
    for info in pkgutil.walk_packages(zhiyuan.__path__, "zhiyuan."):
        if info.name.endswith("__main__"):
            continue
        yield importlib.import_module(info.name)


@functools.cache
def harvested(keep: int = 4) -> dict[type, tuple[dict[str, Any], ...]]:
    """Up to ``keep`` valid constructor arguments per public class, from the doctests."""
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    with _recording(keep) as seen, contextlib.redirect_stdout(io.StringIO()):
        for mod in _modules():
            for test in finder.find(mod):
                if "register" in test.name.rsplit(".", 1)[-1]:
                    continue  # registers types process-wide: its own doctest must run first
                runner.run(test, out=lambda _: None)
    for cls, make in EXTRA.items():
        seen.setdefault(cls, []).extend(kwargs_of(obj) for obj in make())
    return {cls: tuple(found) for cls, found in seen.items()}


def _extra() -> dict[type, Callable[[], list[Any]]]:
    from zhiyuan.credit import CreditScorePolicy, HourTier, Posting, PostingKind, Reversal, Tally
    from zhiyuan.hierarchy import (
        PracticeInstitute,
        PracticeStation,
        SplitPart,
    )
    from zhiyuan.hours import Rejected
    from zhiyuan.matching import (
        AcceptanceTimes,
        Booking,
        Declined,
        Expired,
        FillRate,
        MatchingMetrics,
        NeedCancelled,
        Rewarded,
        Travel,
        Unfilled,
        Workload,
    )
    from zhiyuan.platform import (
        Act,
        Drift,
        DriftKind,
        Event,
        EventKind,
        HookFailure,
        Reconciliation,
    )
    from zhiyuan.scoring import ActivityRule, Dismissed, Review, ReviewClosed, Revocation
    from zhiyuan.simulate import CITY_PROFILES, CityProfile

    at = datetime(2025, 3, 1, 9, tzinfo=zhiyuan.SHANGHAI)
    later = datetime(2025, 3, 1, 11, tzinfo=zhiyuan.SHANGHAI)
    acceptance = AcceptanceTimes(count=2, median_minutes=5, p90_minutes=9, minutes=(5, 9))
    travel = Travel(count=2, total_m=1800, median_m=900, unknown=0)
    workload = Workload(tasks=(("v1", 2), ("v2", 1)), gini_thousandths=111)
    event = Event(kind=EventKind.POINTS_EARNED, at=at, subject="v1", ref="r1", amount=3)
    earning = Posting(
        id="r1#convert",
        at=at,
        kind=PostingKind.EARN,
        source="issuer:default",
        target="volunteer:v1",
        amount=3,
        ref="r1",
    )
    drift = Drift(
        kind=DriftKind.POINTS_MISSING, volunteer_id="v1", ref="r1", amount=3, posting=earning
    )
    out: dict[type, Callable[[], list[Any]]] = {
        CreditScorePolicy: lambda: [
            CreditScorePolicy(
                name="荣成", hour_tiers=(HourTier(hours=100, hours_per_step=10),), yearly_cap=50
            )
        ],
        HourTier: lambda: [HourTier(hours=50, hours_per_step=5, points_per_step=2)],
        Reversal: lambda: [Reversal(postings=(), findings=())],
        Tally: lambda: [Tally(orders=1, units=2, points=30)],
        PracticeInstitute: lambda: [
            PracticeInstitute(id="i1", name="向阳街道新时代文明实践所", region_code="370602001")
        ],
        PracticeStation: lambda: [
            PracticeStation(id="s1", name="友谊街社区新时代文明实践站", region_code="370602001001")
        ],
        SplitPart: lambda: [SplitPart(code="370602001001", name="友谊街社区")],
        Rejected: lambda: [Rejected(record_id="r1", by="admin", at=at, reason="重复 / duplicate")],
        AcceptanceTimes: lambda: [acceptance],
        Booking: lambda: [Booking(candidate_id="v1", need_id="n1", start=at, end=later)],
        NeedCancelled: lambda: [NeedCancelled(id="n1#cancel", at=at, need_id="n1", by="resident")],
        Declined: lambda: [Declined(id="n1#decline", at=at, need_id="n1", candidate_id="v1")],
        Expired: lambda: [Expired(id="n1#expire", at=at, need_id="n1", candidate_id="v1")],
        MatchingMetrics: lambda: [
            MatchingMetrics(
                fill=FillRate(filled=1, posted=2),
                acceptance=acceptance,
                travel=travel,
                workload=workload,
            )
        ],
        Rewarded: lambda: [
            Rewarded(
                id="n1#reward",
                at=later,
                need_id="n1",
                candidate_id="v1",
                points=5,
                posting_id="p1",
                issuer="issuer:370602",
            )
        ],
        Travel: lambda: [travel],
        Unfilled: lambda: [Unfilled(id="n1#unfilled", at=at, need_id="n1")],
        Workload: lambda: [workload],
        ActivityRule: lambda: [ActivityRule(min_minutes=600, months=12)],
        Dismissed: lambda: [Dismissed(complaint_id="c1", by="admin", at=at, reason="不实")],
        Revocation: lambda: [
            Revocation(id="rv1", volunteer_id="v1", by="admin", reason="造假", at=at)
        ],
        CityProfile: lambda: list(CITY_PROFILES.values())[:2],
        Review: lambda: [
            Review(
                id="v1#review", volunteer_id="v1", held=2, rated=1, by="admin", reason="冲销", at=at
            )
        ],
        ReviewClosed: lambda: [
            ReviewClosed(review_id="v1#review", by="admin", reason="维持", at=later)
        ],
        Act: lambda: [
            Act(
                id="certify#r1",
                action="certify",
                by="admin",
                region_code="370602",
                target="r1",
                at=at,
            ),
            Act(id="settle#x", action="settle", by="system", target="x", at=at, own=True),
        ],
        Event: lambda: [event],
        HookFailure: lambda: [HookFailure(event=event, hook="notify", error="RuntimeError: boom")],
        Drift: lambda: [drift],
        Reconciliation: lambda: [Reconciliation(drifts=(drift,), repaired=False)],
    }
    return out


EXTRA: dict[type, Callable[[], list[Any]]] = _extra()
"""Instances of the public classes that no doctest builds."""


# --- junk ----------------------------------------------------------------------------------------

_FIXED: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    1,
    2**31,
    2**63,
    10**30,
    -(10**30),
    1.5,
    -0.0,
    float("nan"),
    float("inf"),
    "",
    " ",
    "x",
    "\ud800",
    "王\udcff",
    "9" * 5000,
    "qr_scan",
    "370602001001",
    "2025-03-01T09:00:00+08:00",
    "2025-13-01",
    b"x",
    [],
    [None],
    ["x", 1],
    {},
    {"id": "x"},
    (),
    frozenset({None}),
    object(),
    date(1, 1, 1),
    date(9999, 12, 31),
    date(2025, 3, 1),
    datetime(2025, 3, 1, 9),
    datetime(1, 1, 1, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-12))),
    datetime(2025, 3, 1, 9, tzinfo=UTC),
    timedelta(days=10**6),
]

junk: st.SearchStrategy[Any] = st.one_of(
    st.sampled_from(_FIXED),
    st.integers(),
    st.text(max_size=12),
    st.floats(),
    st.dates(),
    st.datetimes(),
    st.datetimes(timezones=st.just(UTC)),
    st.sampled_from([m for e in PUBLIC_ENUMS.values() for m in e]),
    st.lists(st.one_of(st.integers(), st.text(max_size=4), st.none()), max_size=3),
)
"""A value of any kind: plausible, absurd, or of the wrong type."""


def junk_json() -> st.SearchStrategy[Any]:
    """A JSON value of any shape (what a file may hold where a field belongs)."""
    leaves = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=12),
        st.sampled_from(["", "qr_scan", "2025-03-01", "2025-03-01T09:00:00+08:00", "9" * 40]),
    )
    return st.recursive(
        leaves,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
        max_leaves=6,
    )


# --- counting ------------------------------------------------------------------------------------

INPUTS: dict[str, int] = {}
"""How many generated inputs each fuzz test fed the library in this session (printed at the end
by ``tests/fuzz/conftest.py``)."""


def count(test: str, n: int = 1) -> None:
    """Count ``n`` more inputs fed by ``test``."""
    INPUTS[test] = INPUTS.get(test, 0) + n


# --- plausible arguments for operations ------------------------------------------------------

IDS = ["r1", "r2", "r3", "r5", "r20", "e1", "e2", "s1", "s1#1", "g1", "o1", "o2", "app1"]
IDS += ["c1", "n1", "d1", "w1", "tt1", "x1", "x2", "x3", "new"]
PEOPLE = ["v1", "v2", "v3", "v9"]
moments = st.builds(t, st.integers(1, 60), st.integers(0, 23))


def _need(draw: st.DrawFn) -> Need:
    day = draw(st.integers(1, 60))
    return Need(
        id=draw(st.sampled_from(IDS)),
        requester="张大爷",
        region_code=VILLAGE,
        category="帮老",
        start=t(day, 9),
        end=t(day, 9 + draw(st.integers(1, 4))),
        posted_at=t(day, 7),
        headcount=draw(st.integers(1, 3)),
    )


def plausible(name: str, b: Any, draw: st.DrawFn) -> Any:
    """A value that fits a parameter of this name (and often passes), for the books of
    ``tests/books.py`` or a platform over the same registry (``b`` has ``hours``, ``points``
    and ``feedback``)."""
    if name in ("volunteer_id", "candidate_id", "from_volunteer", "to_volunteer", "member_id"):
        return draw(st.sampled_from(PEOPLE))
    if name in ("volunteer", "from_member", "to_member", "recipient"):
        return draw(st.sampled_from(PEOPLE))
    if name.endswith("id") or name == "id":
        return draw(st.sampled_from(IDS))
    if name in ("amount", "minutes", "quantity", "points", "within_days"):
        return draw(st.integers(-1, 120))
    if name in ("level", "stars"):
        return draw(st.integers(0, 6))
    if name in ("at", "as_of", "start", "end", "available_from", "expires_at"):
        return draw(moments)
    if name in ("day", "since"):
        return date(2025, 3, draw(st.integers(1, 28)))
    if name == "issuer":
        return draw(st.sampled_from(["issuer:芝罘", "issuer:城阳"]))
    if name == "region":
        return draw(st.sampled_from([VILLAGE, "370602001", "370211001000"]))
    if name in ("by", "reason", "comment", "requester"):
        return draw(st.sampled_from(["admin", "county", "原因 / reason"]))
    if name in ("approve", "falsified", "open_only", "mark_unfilled"):
        return draw(st.booleans())
    if name == "relation":
        return draw(st.sampled_from(["spouse", "child", "neighbour"]))
    if name == "rule":
        return draw(st.sampled_from(["debt", "negative"]))
    if name == "evidence":
        return draw(st.sampled_from(list(Evidence)))
    if name == "organization_id":
        return draw(st.sampled_from(["o1", "o9"]))
    if name == "item_id":
        return draw(st.sampled_from(["umbrella", "rice", "x"]))
    if name == "to":
        return draw(st.sampled_from(["redemption", "shop:x"]))
    if name == "ledger":
        return b.hours if draw(st.booleans()) else b.points
    if name == "feedback":
        return b.feedback
    if name == "record":
        day = draw(st.integers(1, 60))
        return record(draw(st.sampled_from(IDS)), draw(st.sampled_from(PEOPLE)), day, 2)
    if name == "need":
        return _need(draw)
    if name == "rating":
        return Rating(
            id=draw(st.sampled_from(IDS)),
            record_id=draw(st.sampled_from(["r1", "r2", "r9"])),
            volunteer_id=draw(st.sampled_from(PEOPLE)),
            stars=draw(st.integers(1, 5)),
            at=draw(moments),
        )
    if name == "complaint":
        return Complaint(
            id=draw(st.sampled_from(IDS)),
            record_id=draw(st.sampled_from(["r1", "r2", "r9"])),
            volunteer_id=draw(st.sampled_from(PEOPLE)),
            at=draw(moments),
            text="迟到 / late",
        )
    if name == "members":
        return {draw(st.sampled_from(["t1", *PEOPLE])): draw(st.lists(st.sampled_from(PEOPLE)))}
    if name == "volunteer_ids":
        return draw(st.lists(st.sampled_from(PEOPLE), max_size=3))
    if name == "repair":
        return draw(st.booleans())
    if name == "kinds":
        return draw(st.lists(st.sampled_from(["hours.posted", "points.earned"]), max_size=2))
    if name == "spend_postings":
        spent = [p for p in b.points.entries if getattr(p, "kind", None) is PostingKind.SPEND]
        return draw(st.lists(st.sampled_from(spent), max_size=2)) if spent else []
    return draw(junk)  # a parameter this table does not know: anything
