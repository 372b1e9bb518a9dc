"""Random operation sequences on all seven books, with junk mixed into the arguments: only the
ZhiyuanError family escapes, a refused operation changes nothing, and the books stay balanced
(issue 14).

The books are those of ``tests/books.py`` (one journal), after its fixed history. Each step
calls one public method of one book, chosen from the books' own classes (so a method added later
is fuzzed too), with arguments that are plausible for their parameter's name (ids of the
history, amounts, moments of 2025) or, for a share of them, anything at all (``junk``).

After a refusal the journal's head and every book's folded state (pickled, views included) are
exactly as before. After every step the points ledgers balance.
"""

from __future__ import annotations

import inspect
import pickle
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from books import (
    Books,
    fixed_clock,
    open_books,
    script,
    t,
    volunteer,
)
from fuzz_support import count, junk, plausible
from zhiyuan.errors import ZhiyuanError
from zhiyuan.journal import Journal

STEPS = 40
"""Operations per hypothesis example."""

BOOKS = ("hours", "points", "credits", "timebank", "stars", "feedback", "needs", "orders")
_SKIP = {"add", "post_many", "add_volunteers"}  # add: the journal's raw entry door, tested apart


def _methods() -> list[tuple[str, str, inspect.Signature]]:
    b = open_books(Journal(clock=fixed_clock))
    out = []
    for book in BOOKS:
        cls = type(getattr(b, book))
        for name, fn in inspect.getmembers(cls, inspect.isfunction):
            if not name.startswith("_") and name not in _SKIP:
                out.append((book, name, inspect.signature(fn)))
    return out


METHODS = _methods()


def _call(b: Books, draw: st.DrawFn) -> tuple[str, Callable[[], Any], bool]:
    book, name, sig = draw(st.sampled_from(METHODS))
    params = [p for p in sig.parameters.values() if p.name != "self"]
    kwargs: dict[str, Any] = {}
    for p in params:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        if p.default is p.empty or draw(st.integers(0, 3)) == 0:
            kwargs[p.name] = plausible(p.name, b, draw)
    spoiled = bool(kwargs) and draw(st.integers(0, 2)) == 0
    if spoiled:
        kwargs[draw(st.sampled_from(sorted(kwargs)))] = draw(junk)
    method = getattr(getattr(b, book), name)
    return f"{book}.{name}({kwargs!r})", lambda: method(**kwargs), spoiled


def _fingerprint(b: Books) -> tuple[Any, ...]:
    return (b.journal.head, *(pickle.dumps(book._state) for book in b.journal.books.values()))


def _fresh() -> Books:
    b = open_books(Journal(clock=fixed_clock))
    script(b)
    return b


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(data=st.data())
def test_random_operations_raise_only_zhiyuan_errors_and_refusals_change_nothing(
    data: st.DataObject,
) -> None:
    b = _fresh()
    for _ in range(STEPS):
        what, call, _ = _call(b, data.draw)
        before = _fingerprint(b)
        try:
            call()
        except ZhiyuanError as exc:
            str(exc).encode("utf-8", "backslashreplace")  # the message can be shown
            assert _fingerprint(b) == before, f"refused, yet changed: {what}"
        except Exception as exc:
            raise AssertionError(f"{type(exc).__name__} escaped {what}: {exc}") from exc
        assert b.points.total() == 0 and b.credits.total() == 0, what
    count("operations", STEPS)


def test_every_book_method_is_fuzzed() -> None:
    names = {f"{book}.{name}" for book, name, _ in METHODS}
    # the writes of each book, at least, are among them
    for must in ("hours.post", "points.spend", "timebank.withdraw", "stars.apply"):
        assert must in names
    for must in ("feedback.uphold", "needs.reward", "orders.reserve"):
        assert must in names
    assert len(names) > 60


def test_bad_volunteers_change_nothing() -> None:
    # add_volunteers is left out of the random steps (it would grow the registry without end)
    b = _fresh()
    before = _fingerprint(b)
    for bad in (None, "v1", 5, [volunteer("v4"), None]):
        with pytest.raises(ZhiyuanError):
            b.hours.add_volunteers(bad if isinstance(bad, list) else [bad], at=t(1))
        assert _fingerprint(b) == before
    b.hours.add_volunteers([volunteer("v1")], at=t(1, 7))  # the same registration: a no-op
    assert _fingerprint(b) == before
