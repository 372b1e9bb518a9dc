"""The PostgreSQL store, for deployments: psycopg 3 (the ``postgres`` extra)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from zhiyuan.errors import Conflict, InvalidValue
from zhiyuan.journal import Checkpoint, Row, Store

__all__ = ["PostgresStore"]

_COLUMNS = "seq, book, id, recorded_at, payload, digest"
_CHUNK = 1000
_NAME = re.compile(r"[a-z_][a-z0-9_]{0,40}")


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError as exc:  # pragma: no cover - the extra is installed in the tests
        raise InvalidValue(
            "url",
            "postgresql://…",
            "需要 psycopg：pip install 'zhiyuan[postgres]' / PostgreSQL needs the postgres extra",
        ) from exc
    return psycopg


class PostgresStore(Store):
    """A journal in two tables of a PostgreSQL database.

    Writers serialize on a transaction-scoped advisory lock, so every process sees one sequence
    with no gaps; a unique constraint on ``(book, id)`` backs the books' own checks. Commits are
    as durable as the server's ``synchronous_commit`` (``on`` by default).

    Args:
        conninfo: a libpq connection string or URL (``postgresql://user@host/db``).
        prefix: the tables' name prefix (``<prefix>_journal``, ``<prefix>_checkpoints``), so that
            several journals can share a database.
    """

    def __init__(self, conninfo: str, *, prefix: str = "zhiyuan") -> None:
        if not isinstance(prefix, str) or not _NAME.fullmatch(prefix):
            raise InvalidValue("prefix", prefix, "须为小写标识符 / a lower-case SQL identifier")
        psycopg = _psycopg()
        self._errors = psycopg.errors
        self.prefix = prefix
        self._journal = f"{prefix}_journal"
        self._checkpoints = f"{prefix}_checkpoints"
        # a stable 63-bit key per prefix for pg_advisory_xact_lock
        self._key = int.from_bytes(prefix.encode()[:7].ljust(7, b"\0"), "big")
        try:
            self._conn = psycopg.connect(conninfo, autocommit=True)
        except psycopg.Error as exc:
            raise InvalidValue(
                "url", _redact(conninfo), f"无法连接 / cannot connect: {exc}"
            ) from exc
        info = self._conn.info
        self.url = f"postgresql://{info.user}@{info.host}:{info.port}/{info.dbname}"
        self.begin()
        try:
            self._conn.execute(
                f"""CREATE TABLE IF NOT EXISTS {self._journal} (
                    seq BIGINT PRIMARY KEY,
                    book TEXT NOT NULL,
                    id TEXT NOT NULL,
                    recorded_at TEXT NOT NULL,
                    payload TEXT NOT NULL,
                    digest BYTEA NOT NULL,
                    UNIQUE (book, id)
                )"""
            )
            self._conn.execute(
                f"""CREATE TABLE IF NOT EXISTS {self._checkpoints} (
                    book TEXT PRIMARY KEY,
                    seq BIGINT NOT NULL,
                    key TEXT NOT NULL,
                    data BYTEA NOT NULL
                )"""
            )
        except BaseException:
            self.rollback()
            raise
        self.commit()

    def begin(self) -> None:
        self._conn.execute("BEGIN")
        self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (self._key,))

    def commit(self) -> None:
        self._conn.execute("COMMIT")

    def rollback(self) -> None:
        self._conn.execute("ROLLBACK")

    def append(self, rows: Sequence[Row]) -> None:
        try:
            with (
                self._conn.cursor() as cur,
                cur.copy(f"COPY {self._journal} ({_COLUMNS}) FROM STDIN") as copy,
            ):
                for r in rows:
                    copy.write_row((r.seq, r.book, r.id, r.recorded, r.payload, r.digest))
        except self._errors.UniqueViolation as exc:
            raise Conflict(f"an entry id is already used / 条目编号已被占用: {exc}") from exc

    def last(self) -> tuple[int, bytes | None]:
        row = self._conn.execute(
            f"SELECT seq, digest FROM {self._journal} ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        return (0, None) if row is None else (int(row[0]), bytes(row[1]))

    def scan(
        self, *, after: int = 0, upto: int | None = None, book: str | None = None
    ) -> Iterator[Row]:
        sql = f"SELECT {_COLUMNS} FROM {self._journal} WHERE seq > %s"
        args: list[object] = [after]
        if upto is not None:
            sql += " AND seq <= %s"
            args.append(upto)
        if book is not None:
            sql += " AND book = %s"
            args.append(book)
        # a server-side cursor needs a transaction; outside one, read in keyset pages instead
        last = after
        while True:
            page_args = [last, *args[1:]]
            rows = self._conn.execute(sql + " ORDER BY seq LIMIT 10000", page_args).fetchall()
            if not rows:
                return
            for seq, b, i, rec, payload, dig in rows:
                yield Row(int(seq), b, i, rec, payload, bytes(dig))
            last = int(rows[-1][0])

    def lookup(self, book: str, ids: Iterable[str]) -> dict[str, Row]:
        wanted = list(dict.fromkeys(ids))
        out: dict[str, Row] = {}
        for k in range(0, len(wanted), _CHUNK):
            chunk = wanted[k : k + _CHUNK]
            cur = self._conn.execute(
                f"SELECT {_COLUMNS} FROM {self._journal} WHERE book = %s AND id = ANY(%s)",
                (book, chunk),
            )
            for seq, b, i, rec, payload, dig in cur:
                out[i] = Row(int(seq), b, i, rec, payload, bytes(dig))
        return out

    def save_checkpoint(self, book: str, checkpoint: Checkpoint) -> None:
        self._conn.execute(
            f"""INSERT INTO {self._checkpoints} (book, seq, key, data) VALUES (%s, %s, %s, %s)
                ON CONFLICT (book) DO UPDATE
                SET seq = EXCLUDED.seq, key = EXCLUDED.key, data = EXCLUDED.data""",
            (book, checkpoint.seq, checkpoint.key, checkpoint.data),
        )

    def load_checkpoint(self, book: str) -> Checkpoint | None:
        row = self._conn.execute(
            f"SELECT seq, key, data FROM {self._checkpoints} WHERE book = %s", (book,)
        ).fetchone()
        return None if row is None else Checkpoint(int(row[0]), str(row[1]), bytes(row[2]))

    def close(self) -> None:
        self._conn.close()


def _redact(conninfo: str) -> str:
    """A connection string without its password."""
    out = re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", conninfo)
    return re.sub(r"(password\s*=\s*)\S+", r"\1***", out)
