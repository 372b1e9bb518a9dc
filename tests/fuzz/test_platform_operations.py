"""Random platform operations with junk mixed into the arguments, by granted and ungranted
principals: only the ZhiyuanError family escapes, a refused operation changes nothing (the
journal's head and every book's folded state), and the ledgers stay balanced (issues 11, 14).

Each step calls one public method of :class:`~zhiyuan.platform.Platform`, chosen from the class
itself (so a method added later is fuzzed too), with arguments plausible for their parameter's
name (:func:`fuzz_support.plausible`) or, for a share of them, anything at all.
"""

from __future__ import annotations

import inspect
import pickle
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from books import CATALOG, REGISTRY, STREET, fixed_clock, record, t, volunteer
from fuzz_support import count, junk, plausible
from zhiyuan.credit import TimeBankPolicy
from zhiyuan.errors import ZhiyuanError
from zhiyuan.hierarchy import Action, Grant
from zhiyuan.hours import HourPolicy
from zhiyuan.matching import Need
from zhiyuan.platform import Platform, Policies

STEPS = 30
POLICIES = Policies(
    hours=[HourPolicy(notice_days=2)],
    time_bank=[TimeBankPolicy(bank_hours="at_once", bank_categories=["助老"])],
)
GRANTS = [
    Grant(principal="admin", region_code="3706"),
    Grant(principal="county", region_code="370602", actions={Action.CERTIFY, Action.RECORD}),
]
_SKIP = {"open", "close", "transaction", "subscribe", "unsubscribe"}


def _city() -> Platform:
    """A platform with some history: volunteers, certified and pending hours, a need."""
    city = Platform(REGISTRY, policies=POLICIES, grants=GRANTS, clock=fixed_clock, catalog=CATALOG)
    for v in ("v1", "v2", "v3"):
        city.register(volunteer(v), by=v)
    for d in range(1, 6):
        city.post(record(f"r{d}", "v1", d, 3), by="admin")
    city.post(record("r20", "v2", 2, 2), by="v2")
    for rid in ("r1", "r2", "r20"):
        city.certify(rid, by="county")
    city.post_need(
        Need(
            id="n1",
            requester="张大爷",
            region_code=STREET + "001",
            category="助老",
            start=t(50, 9),
            end=t(50, 11),
            posted_at=t(49),
        ),
        by="admin",
    )
    return city


METHODS = [
    (name, inspect.signature(fn))
    for name, fn in inspect.getmembers(Platform, inspect.isfunction)
    if not name.startswith("_") and name not in _SKIP
]


def _call(city: Platform, draw: st.DrawFn) -> tuple[str, Callable[[], Any]]:
    name, sig = draw(st.sampled_from(METHODS))
    kwargs: dict[str, Any] = {}
    for p in sig.parameters.values():
        if p.name == "self" or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        if p.default is p.empty or draw(st.integers(0, 3)) == 0:
            if p.name == "by":
                kwargs[p.name] = draw(st.sampled_from(["admin", "county", "v1", "v2", "nobody"]))
            else:
                kwargs[p.name] = plausible(p.name, city, draw)
    if kwargs and draw(st.integers(0, 2)) == 0:
        kwargs[draw(st.sampled_from(sorted(kwargs)))] = draw(junk)
    method = getattr(city, name)
    return f"{name}({kwargs!r})", lambda: method(**kwargs)


def _fingerprint(city: Platform) -> tuple[Any, ...]:
    books = city.journal.books.values()
    return (city.journal.head, *(pickle.dumps(book._state) for book in books))


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(data=st.data())
def test_random_platform_operations_raise_only_zhiyuan_errors_and_refusals_change_nothing(
    data: st.DataObject,
) -> None:
    city = _city()
    for _ in range(STEPS):
        what, call = _call(city, data.draw)
        before = _fingerprint(city)
        try:
            call()
        except ZhiyuanError as exc:
            str(exc).encode("utf-8", "backslashreplace")
            assert _fingerprint(city) == before, f"refused, yet changed: {what}"
        except Exception as exc:
            raise AssertionError(f"{type(exc).__name__} escaped {what}: {exc}") from exc
        assert city.points.total() == 0, what
    count("operations", STEPS)


def test_every_platform_write_is_fuzzed() -> None:
    names = {name for name, _ in METHODS}
    for must in ("register", "post", "certify", "reverse", "spend", "complete", "reconcile"):
        assert must in names
