"""The persistent stores against real engines (SQLite files, a PostgreSQL cluster): a restart
rebuilds every book, acknowledged means durable, checkpoints replay only the tail, other writers
are folded in before a write, ids are unique, and tampering is found."""

from __future__ import annotations

import sqlite3
from typing import Any

import psycopg
import pytest

from books import CLOCK, _steps, fixed_clock, open_books, script, snapshot, t
from zhiyuan.credit import PointsLedger
from zhiyuan.errors import Conflict, InvalidValue
from zhiyuan.journal import Head, Journal, MemoryStore, Row
from zhiyuan.store import PostgresStore, SQLiteStore, open_journal, open_store


def reference() -> dict[str, Any]:
    b = open_books(Journal(clock=fixed_clock))
    script(b)
    return snapshot(b)


def execute(url: str, sql: str, *args: object) -> None:
    """Change the store behind the library's back (as an attacker or a bad tool would)."""
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url[len("sqlite:///") :]) as conn:
            conn.execute(sql.replace("%s", "?"), args)
    else:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql.replace("journal", "zhiyuan_journal"), args)


# --- a restart ----------------------------------------------------------------------------------


def test_a_restart_rebuilds_every_book(store_url: str) -> None:
    with open_journal(store_url, clock=fixed_clock) as journal:
        script(open_books(journal))
        head = journal.head
    with open_journal(store_url, clock=fixed_clock) as journal:
        assert journal.head == head
        books = open_books(journal)
        assert snapshot(books) == reference()
        assert snapshot(books, t(6)) == snapshot(_memory_run(), t(6))
        assert journal.verify(decode=True).ok


def _memory_run() -> Any:
    b = open_books(Journal(clock=fixed_clock))
    script(b)
    return b


def test_the_same_history_gives_the_same_chain_in_every_store(store_url: str) -> None:
    with open_journal(store_url, clock=fixed_clock) as journal:
        script(open_books(journal))
        assert journal.head == _memory_run().journal.head


def test_an_operation_is_durable_when_it_returns(store_url: str) -> None:
    with open_journal(store_url, clock=fixed_clock) as writer:
        book = PointsLedger(journal=writer)
        with open_journal(store_url, clock=fixed_clock) as reader:
            seen = PointsLedger(journal=reader)
            for k in range(5):
                book.earn(f"e{k}", "v1", 2, at=t(1), issuer="i")
                assert reader.refresh() == 1  # another connection sees it at once
                assert seen.balance("volunteer:v1") == 2 * (k + 1)


def test_a_write_first_folds_in_what_others_recorded(store_url: str) -> None:
    with open_journal(store_url) as a, open_journal(store_url) as b:
        in_a, in_b = PointsLedger(journal=a), PointsLedger(journal=b)
        in_a.earn("e1", "v1", 10, at=t(1), issuer="i")
        # b has not looked since; its write takes the lock, folds in e1, then plans
        legs = in_b.spend("s1", "v1", 10, at=t(2))
        assert [p.lot for p in legs] == ["e1"]
        with pytest.raises(Conflict):
            in_a.spend("s2", "v1", 1, at=t(3))  # a folds in s1 first: nothing is left
        assert a.head == b.head
        assert in_a.accounts() == in_b.accounts()


def test_the_store_keeps_entry_ids_unique(store_url: str) -> None:
    with open_journal(store_url, clock=fixed_clock) as journal:
        PointsLedger(journal=journal).earn("e1", "v1", 10, at=t(1), issuer="i")
        store = journal.store
        store.begin()
        with pytest.raises(Conflict):
            store.append([Row(2, "points", "e1", CLOCK.isoformat(), "{}", bytes(32))])
        store.rollback()
        assert store.last()[0] == 1


# --- checkpoints ---------------------------------------------------------------------------------


def test_reopening_after_a_checkpoint_replays_only_the_tail(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with open_journal(store_url, clock=fixed_clock) as journal:
        b = open_books(journal)
        script(b, upto=40)
        at = journal.checkpoint()
        assert at == len(journal) > 40  # the head (some steps record several entries)
        for step in _steps(b)[40:]:
            step()
        tail = len(journal) - at
    decoded: list[str] = []
    from zhiyuan.journal import Book

    original = Book._decode

    def counting(self: Book[Any, Any], payload: str) -> Any:
        decoded.append(self.name)
        return original(self, payload)

    monkeypatch.setattr(Book, "_decode", counting)
    with open_journal(store_url, clock=fixed_clock) as journal:
        books = open_books(journal)
        assert len(decoded) == tail  # only the records after the checkpoint were read
        assert snapshot(books) == reference()


def test_a_checkpoint_of_another_state_layout_is_ignored(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with open_journal(store_url, clock=fixed_clock) as journal:
        script(open_books(journal))
        journal.checkpoint()
    monkeypatch.setattr(PointsLedger, "state_version", PointsLedger.state_version + 1)
    with open_journal(store_url, clock=fixed_clock) as journal:
        assert snapshot(open_books(journal)) == reference()  # rebuilt from the records


def test_checkpoint_every_saves_as_the_journal_grows(store_url: str) -> None:
    with open_journal(store_url, clock=fixed_clock, checkpoint_every=10) as journal:
        book = PointsLedger(journal=journal)
        for k in range(25):
            book.earn(f"e{k}", "v1", 1, at=t(1), issuer="i")
        cp = journal.store.load_checkpoint("points")
        assert cp is not None and cp.seq == 20


# --- tamper evidence -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "args", "bad"),
    [
        ("UPDATE journal SET payload = payload || ' ' WHERE seq = %s", (5,), 5),
        ("UPDATE journal SET recorded_at = '2025-01-01T00:00:00+08:00' WHERE seq = %s", (7,), 7),
        ("UPDATE journal SET book = 'x' WHERE seq = %s", (3,), 3),
        ("UPDATE journal SET id = 'post:zz' WHERE seq = %s", (9,), 9),
        ("DELETE FROM journal WHERE seq = %s", (4,), 4),
    ],
)
def test_tampering_with_one_row_is_found_and_named(
    store_url: str, sql: str, args: tuple[object, ...], bad: int
) -> None:
    with open_journal(store_url, clock=fixed_clock) as journal:
        script(open_books(journal), upto=12)
        assert journal.verify().ok
    execute(store_url, sql, *args)
    with open_journal(store_url, clock=fixed_clock) as journal:
        check = journal.verify()
        assert not check.ok and check.first_bad == bad and check.checked == bad - 1
        assert f"{bad}" in str(check)


def test_a_published_head_catches_a_rewritten_chain(store_url: str) -> None:
    with open_journal(store_url, clock=fixed_clock) as journal:
        script(open_books(journal), upto=12)
        published: Head = journal.head
    execute(store_url, "DELETE FROM journal WHERE seq = %s", published.seq)
    with open_journal(store_url, clock=fixed_clock) as journal:
        assert journal.verify().ok  # a shorter chain is still a chain ...
        assert journal.head != published  # ... but not the one that was published


# --- opening -------------------------------------------------------------------------------------


def test_urls_name_their_stores(tmp_path: Any) -> None:
    assert isinstance(open_store("memory:"), MemoryStore)
    assert isinstance(open_store(tmp_path / "a.db"), SQLiteStore)
    assert isinstance(open_store(str(tmp_path / "b.db")), SQLiteStore)
    assert isinstance(open_store(f"sqlite:///{tmp_path / 'c.db'}"), SQLiteStore)
    for bad in ("mysql://x/y", "", 42):
        with pytest.raises(InvalidValue):
            open_store(bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        open_store("memory:", durable=True)


def test_sqlite_is_in_wal_mode_with_durable_commits_by_default(tmp_path: Any) -> None:
    durable = SQLiteStore(tmp_path / "a.db")
    fast = SQLiteStore(tmp_path / "b.db", durable=False)
    assert durable._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert durable._conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert fast._conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    durable.close()
    fast.close()


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Any) -> None:
    path = tmp_path / "not.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(InvalidValue, match="path"):
        open_journal(path)


def test_a_failed_postgres_connection_hides_the_password(pg_url: str) -> None:
    bad = pg_url.replace("postgres@", "nobody:s3cret@").replace("port=", "port=1")
    with pytest.raises(InvalidValue) as err:
        PostgresStore(bad)
    assert "s3cret" not in str(err.value)


def test_postgres_journals_with_other_prefixes_share_a_database(pg_url: str) -> None:
    a = Journal(PostgresStore(pg_url, prefix="city_a"))
    b = Journal(PostgresStore(pg_url, prefix="city_b"))
    PointsLedger(journal=a).earn("e1", "v1", 1, at=t(1), issuer="i")
    assert len(a) == 1 and len(b) == 0 and b.refresh() == 0
    with pytest.raises(InvalidValue):
        PostgresStore(pg_url, prefix="Bad-Name")
    a.close()
    b.close()


def test_a_postgres_key_value_string_is_not_taken_for_a_file(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # a relative SQLite path would land here
    with pytest.raises(InvalidValue, match="PostgresStore") as err:
        open_store("host=db dbname=city password=secret")
    assert "secret" not in str(err.value)
    assert not any(tmp_path.iterdir())


def test_a_refused_bulk_append_leaves_the_memory_index_as_it_was() -> None:
    # The one-book bulk path inserts first and counts after: a used id (or one given twice)
    # must leave every id pointing at its own record, in order, and append nothing.
    store = MemoryStore()
    store.begin()
    store.extend(["b", "b", "c"], ["x", "y", "x"], ["X", "Y", "cX"], CLOCK.isoformat())
    store.commit()
    for ids in (["z", "y"], ["z", "z"], ["y"]):
        store.begin()
        with pytest.raises(Conflict, match=r"'(y|z)'"):
            store.extend(["b"] * len(ids), ids, ["new"] * len(ids), CLOCK.isoformat())
        store.rollback()
        assert store.last()[0] == 3
        assert store.find("b", ["x", "y", "z"]) == {"x": "X", "y": "Y"}
        assert store.entries("b", 3) == ["X", "Y"]
        assert store.find("c", ["x"]) == {"x": "cX"}
    store.begin()
    store.extend(["b"], ["z"], ["Z"], CLOCK.isoformat())  # the index still takes new ids
    store.commit()
    assert store.entries("b", 4) == ["X", "Y", "Z"]
