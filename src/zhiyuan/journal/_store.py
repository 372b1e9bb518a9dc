"""Where a journal's records live: the :class:`Store` interface and the in-memory :class:`MemoryStore`.

A store keeps rows in sequence order and knows nothing of books or entry types: a row is a
sequence number, a book name, an entry id, the moment it was recorded, the entry's JSON text and
its chained digest. The persistent stores (SQLite, PostgreSQL) live in :mod:`zhiyuan.store`.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Iterator, Sequence
from typing import ClassVar

from zhiyuan.errors import Conflict

__all__ = ["Checkpoint", "MemoryStore", "Row", "Store"]


class Row:
    """One record as a store keeps it (internal to the journal and the stores).

    ``payload`` and ``digest`` may be ``None`` in a :class:`MemoryStore`, which holds the entry
    itself and encodes it only when the chain is asked for; ``entry`` is ``None`` in a row read
    back from a persistent store until a book decodes it.
    """

    __slots__ = ("book", "digest", "entry", "id", "payload", "recorded", "seq")

    def __init__(
        self,
        seq: int,
        book: str,
        id: str,
        recorded: str,
        payload: str | None = None,
        digest: bytes | None = None,
        entry: object = None,
    ) -> None:
        self.seq = seq
        self.book = book
        self.id = id
        self.recorded = recorded
        self.payload = payload
        self.digest = digest
        self.entry = entry

    def __repr__(self) -> str:
        return f"Row(seq={self.seq}, book={self.book!r}, id={self.id!r})"


class Checkpoint:
    """A book's folded state saved at a sequence number: ``key`` names the state's format."""

    __slots__ = ("data", "key", "seq")

    def __init__(self, seq: int, key: str, data: bytes) -> None:
        self.seq = seq
        self.key = key
        self.data = data


class Store(abc.ABC):
    """Rows in sequence order, written in transactions.

    Writers call :meth:`begin` (which takes the store's write lock, across processes for a
    persistent store), then :meth:`append` any number of times, then :meth:`commit` or
    :meth:`rollback`. Readers call :meth:`scan` and :meth:`lookup` at any time.
    """

    persistent: ClassVar[bool] = True
    """True if rows must carry their payload and digest when appended."""

    url: str = "memory:"
    """Where the store is, for messages (passwords left out)."""

    @abc.abstractmethod
    def begin(self) -> None:
        """Start a write transaction, holding the write lock until commit or rollback."""

    @abc.abstractmethod
    def commit(self) -> None:
        """Make the appended rows durable and release the write lock."""

    @abc.abstractmethod
    def rollback(self) -> None:
        """Drop the appended rows and release the write lock."""

    @abc.abstractmethod
    def append(self, rows: Sequence[Row]) -> None:
        """Append rows inside a write transaction; a used ``(book, id)`` is a
        :class:`~zhiyuan.errors.Conflict` (and the caller rolls back)."""

    @abc.abstractmethod
    def last(self) -> tuple[int, bytes | None]:
        """The sequence number and digest of the last row (``(0, None)`` when empty)."""

    @abc.abstractmethod
    def scan(
        self, *, after: int = 0, upto: int | None = None, book: str | None = None
    ) -> Iterator[Row]:
        """Rows with ``after < seq <= upto`` (of one book, if given), in sequence order."""

    @abc.abstractmethod
    def lookup(self, book: str, ids: Iterable[str]) -> dict[str, Row]:
        """The rows of ``book`` recorded under any of ``ids``, by id."""

    def save_checkpoint(self, book: str, checkpoint: Checkpoint) -> None:  # noqa: B027
        """Keep ``checkpoint`` as the latest of ``book`` (inside a write transaction)."""

    def load_checkpoint(self, book: str) -> Checkpoint | None:
        """The latest checkpoint of ``book``, if any."""
        return None

    def close(self) -> None:  # noqa: B027
        """Release the store's resources."""


class MemoryStore(Store):
    """Rows in a list, for a journal that lives and dies with its process (the default).

    Entries are held as objects; their JSON text and digests are computed only when the chain
    is asked for (:meth:`Journal.head <zhiyuan.journal.Journal.head>`, ``verify``, an export).
    """

    persistent = False

    def __init__(self) -> None:
        self.rows: list[Row] = []
        self._index: dict[str, dict[str, Row]] = {}
        self._pending: list[Row] = []

    def begin(self) -> None:
        self._pending = []

    def commit(self) -> None:
        self._pending = []

    def rollback(self) -> None:
        for row in reversed(self._pending):
            self.rows.pop()
            del self._index[row.book][row.id]
        self._pending = []

    def append(self, rows: Sequence[Row]) -> None:
        # the journal never stages one id twice in a transaction; check against what is stored
        indexes = self._index
        for row in rows:
            index = indexes.get(row.book)
            if index is not None and row.id in index:
                raise Conflict(
                    f"entry id {row.id!r} is already used in book {row.book!r} / 条目编号已被占用"
                )
        for row in rows:
            index = indexes.get(row.book)
            if index is None:
                index = indexes[row.book] = {}
            index[row.id] = row
        self.rows.extend(rows)
        self._pending.extend(rows)

    def last(self) -> tuple[int, bytes | None]:
        if not self.rows:
            return 0, None
        row = self.rows[-1]
        return row.seq, row.digest

    def scan(
        self, *, after: int = 0, upto: int | None = None, book: str | None = None
    ) -> Iterator[Row]:
        rows = self.rows
        end = len(rows) if upto is None else min(upto, len(rows))
        for i in range(max(after, 0), end):  # seq k sits at index k - 1
            row = rows[i]
            if book is None or row.book == book:
                yield row

    def lookup(self, book: str, ids: Iterable[str]) -> dict[str, Row]:
        index = self._index.get(book, {})
        return {i: index[i] for i in ids if i in index}
