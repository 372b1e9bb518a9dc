"""The SQLite store: the embedded default, from the standard library's ``sqlite3``."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence

from zhiyuan.errors import Conflict, InvalidValue
from zhiyuan.journal import Checkpoint, Row, Store

__all__ = ["SQLiteStore"]

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS journal (
        seq INTEGER PRIMARY KEY,
        book TEXT NOT NULL,
        id TEXT NOT NULL,
        recorded_at TEXT NOT NULL,
        payload TEXT NOT NULL,
        digest BLOB NOT NULL,
        UNIQUE (book, id)
    )""",
    """CREATE TABLE IF NOT EXISTS checkpoints (
        book TEXT PRIMARY KEY,
        seq INTEGER NOT NULL,
        key TEXT NOT NULL,
        data BLOB NOT NULL
    )""",
)

_COLUMNS = "seq, book, id, recorded_at, payload, digest"
_CHUNK = 500  # ids per lookup query (SQLite's default limit on variables is 32,766)


class SQLiteStore(Store):
    """A journal in one SQLite file: WAL mode, one transaction per operation, a unique
    constraint on ``(book, id)``, and a ``BEGIN IMMEDIATE`` write lock shared by every process
    that opens the file.

    Args:
        path: the database file (created with its tables if missing).
        durable: ``True`` (default) commits with ``synchronous=FULL``: an acknowledged operation
            survives a power cut. ``False`` uses ``NORMAL``: it survives a crash of the process
            but the last commits may be lost with the machine (for simulations and imports).
        timeout: seconds a writer waits for another process's transaction before giving up with
            :class:`~zhiyuan.errors.Conflict`.
    """

    def __init__(
        self, path: str | os.PathLike[str], *, durable: bool = True, timeout: float = 30.0
    ) -> None:
        self.path = os.fspath(path)
        self.url = f"sqlite:///{self.path}"
        self.durable = durable
        try:
            self._conn = sqlite3.connect(
                self.path, timeout=timeout, isolation_level=None, check_same_thread=False
            )
            self._wal(timeout)
            self._conn.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
            self.begin()
            for statement in _SCHEMA:
                self._conn.execute(statement)
            self.commit()
        except sqlite3.DatabaseError as exc:
            raise InvalidValue(
                "path", self.path, f"无法打开 SQLite 日志 / cannot open: {exc}"
            ) from exc

    def _wal(self, timeout: float) -> None:
        """Switch the file to WAL mode (it stays so). Two processes creating one file at once
        can find it locked while the other switches: wait for it, as for a write."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                mode = self._conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)
                continue
            if str(mode).lower() == "wal":
                return
            if time.monotonic() > deadline:  # pragma: no cover - a file that refuses WAL
                raise sqlite3.OperationalError(f"journal_mode stays {mode}")
            time.sleep(0.01)

    def begin(self) -> None:
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise Conflict(f"{self.url} is busy / 数据库忙: {exc}") from exc

    def commit(self) -> None:
        self._conn.execute("COMMIT")

    def rollback(self) -> None:
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")

    def append(self, rows: Sequence[Row]) -> None:
        try:
            self._conn.executemany(
                f"INSERT INTO journal ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
                [(r.seq, r.book, r.id, r.recorded, r.payload, r.digest) for r in rows],
            )
        except sqlite3.IntegrityError as exc:
            raise Conflict(f"an entry id is already used / 条目编号已被占用: {exc}") from exc

    def last(self) -> tuple[int, bytes | None]:
        row = self._conn.execute(
            "SELECT seq, digest FROM journal ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        return (0, None) if row is None else (int(row[0]), bytes(row[1]))

    def scan(
        self, *, after: int = 0, upto: int | None = None, book: str | None = None
    ) -> Iterator[Row]:
        sql = f"SELECT {_COLUMNS} FROM journal WHERE seq > ?"
        args: list[object] = [after]
        if upto is not None:
            sql += " AND seq <= ?"
            args.append(upto)
        if book is not None:
            sql += " AND book = ?"
            args.append(book)
        cur = self._conn.execute(sql + " ORDER BY seq", args)
        while batch := cur.fetchmany(10_000):
            for seq, b, i, rec, payload, dig in batch:
                yield Row(seq, b, i, rec, payload, bytes(dig))

    def lookup(self, book: str, ids: Iterable[str]) -> dict[str, Row]:
        wanted = list(dict.fromkeys(ids))
        out: dict[str, Row] = {}
        for k in range(0, len(wanted), _CHUNK):
            chunk = wanted[k : k + _CHUNK]
            marks = ", ".join("?" * len(chunk))
            cur = self._conn.execute(
                f"SELECT {_COLUMNS} FROM journal WHERE book = ? AND id IN ({marks})",
                [book, *chunk],
            )
            for seq, b, i, rec, payload, dig in cur:
                out[i] = Row(seq, b, i, rec, payload, bytes(dig))
        return out

    def save_checkpoint(self, book: str, checkpoint: Checkpoint) -> None:
        self._conn.execute(
            "INSERT OR REPLACE INTO checkpoints (book, seq, key, data) VALUES (?, ?, ?, ?)",
            (book, checkpoint.seq, checkpoint.key, checkpoint.data),
        )

    def load_checkpoint(self, book: str) -> Checkpoint | None:
        row = self._conn.execute(
            "SELECT seq, key, data FROM checkpoints WHERE book = ?", (book,)
        ).fetchone()
        return None if row is None else Checkpoint(int(row[0]), str(row[1]), bytes(row[2]))

    def close(self) -> None:
        self._conn.close()
