"""Staging in bulk: random transactions over two books, with ids used again (by the same entry
or another), savepoints that fail and books interleaved, give what a one-entry-at-a-time model
of the rules gives, in memory and in SQLite alike (the same entries, lookups and chain)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zhiyuan import SHANGHAI
from zhiyuan.credit import PointsLedger, Posting, PostingKind
from zhiyuan.errors import Conflict
from zhiyuan.journal import Journal
from zhiyuan.store import open_journal

T = datetime(2025, 3, 1, 9, tzinfo=SHANGHAI)


def clock() -> datetime:
    return T


def posting(n: int, amount: int) -> Posting:
    return Posting(
        id=f"p{n}",
        at=T,
        kind=PostingKind.EARN,
        source="issuer:烟台",
        target="volunteer:v1",
        amount=amount,
    )


# an add: which book, the (id, amount) of each entry; its savepoint: none, kept or failed
adds = st.tuples(
    st.sampled_from("ab"),
    st.lists(st.tuples(st.integers(0, 6), st.integers(1, 2)), max_size=6),
    st.sampled_from(["none", "kept", "failed"]),
)
transactions = st.lists(st.lists(adds, min_size=1, max_size=4), min_size=1, max_size=6)


class Dropped(Exception):
    """A savepoint that fails on purpose."""


def run(journal: Journal, script: list[list[Any]]) -> list[str]:
    books = {name: PointsLedger(journal=journal, name=name) for name in "ab"}
    outcomes = []
    for ops in script:
        try:
            with journal.transaction() as tx:
                for name, items, savepoint in ops:
                    entries = [posting(n, a) for n, a in items]
                    if savepoint == "none":
                        tx.add(books[name], entries)
                        continue
                    try:
                        with journal.transaction() as inner:
                            inner.add(books[name], entries)
                            if savepoint == "failed":
                                raise Dropped
                    except (Dropped, Conflict):
                        pass
            outcomes.append("ok")
        except Conflict:
            outcomes.append("conflict")
    return outcomes


def model(script: list[list[Any]]) -> tuple[list[str], dict[str, list[Posting]]]:
    """The rules one entry at a time: a staged id again is skipped if the entry is equal and a
    conflict if not (undoing the transaction, or only its savepoint); at the write, an id
    recorded before is a conflict."""
    recorded: dict[str, list[Posting]] = {"a": [], "b": []}
    outcomes = []
    for ops in script:
        staged: list[tuple[str, Posting]] = []
        failed = False
        for name, items, savepoint in ops:
            mark = len(staged)
            conflict = False
            for n, a in items:
                p = posting(n, a)
                old = next((q for b, q in staged if b == name and q.id == p.id), None)
                if old is None:
                    staged.append((name, p))
                elif old != p:
                    conflict = True
                    break
            if conflict or savepoint == "failed":
                del staged[mark:]
                if conflict and savepoint == "none":
                    failed = True
                    break
        used = any(p.id in {q.id for q in recorded[b]} for b, p in staged)
        if failed or used:
            outcomes.append("conflict")
            continue
        for b, p in staged:
            recorded[b].append(p)
        outcomes.append("ok")
    return outcomes, recorded


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(script=transactions)
def test_bulk_staging_follows_the_rules_in_memory_and_in_sqlite(
    script: list[list[Any]], tmp_path: Path
) -> None:
    want_outcomes, want = model(script)
    memory = Journal(clock=clock)
    path = tmp_path / f"j{abs(hash(repr(script)))}.db"
    path.unlink(missing_ok=True)
    stored = open_journal(f"sqlite:///{path}", clock=clock)
    try:
        assert run(memory, script) == want_outcomes
        assert run(stored, script) == want_outcomes
        for journal in (memory, stored):
            for name in "ab":
                assert journal.entries(name) == want[name]
                found = journal.find_many(name, [f"p{n}" for n in range(7)])
                assert found == {p.id: p for p in want[name]}
            assert journal.verify().ok
            assert len(journal) == len(want["a"]) + len(want["b"])
        assert memory.head == stored.head
    finally:
        stored.close()


def test_a_transaction_says_which_books_it_touched() -> None:
    """``untouched`` until an entry is staged or a view made; ``has_view`` once made; a failed
    savepoint takes back what it staged (and every view, remade on demand)."""
    journal = Journal(clock=clock)
    a, b = (PointsLedger(journal=journal, name=name) for name in "ab")
    with journal.transaction() as tx:
        assert tx.untouched(a) and tx.untouched(b)
        assert not tx.has_view(a)
        try:
            with journal.transaction() as inner:
                inner.add(a, [posting(1, 1)])
                assert not tx.untouched(a) and tx.untouched(b)
                raise Dropped
        except Dropped:
            pass
        assert tx.untouched(a)
        a.earn("e1", "v1", 2, at=T, issuer="issuer:烟台")  # plans on a view
        assert tx.has_view(a) and not tx.untouched(a)
        assert not tx.has_view(b) and tx.untouched(b)
    assert a.balance("volunteer:v1") == 2
