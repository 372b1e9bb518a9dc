"""Where a journal's records live: the :class:`Store` interface and the in-memory :class:`MemoryStore`.

A store keeps rows in sequence order and knows nothing of books or entry types: a row is a
sequence number, a book name, an entry id, the moment it was recorded, the entry's JSON text and
its chained digest. The persistent stores (SQLite, PostgreSQL) live in :mod:`zhiyuan.store`.
"""

from __future__ import annotations

import abc
import bisect
from collections.abc import Iterable, Iterator, Sequence
from typing import ClassVar, NoReturn

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
    """Records in columns, for a journal that lives and dies with its process (the default).

    Entries are held as objects; their JSON text and digests are computed only when the chain
    is asked for (:meth:`Journal.head <zhiyuan.journal.Journal.head>`, ``verify``, an export).
    A record costs four list slots and its index entry, not a :class:`Row` (one is made only
    when a record is read); the moment of recording is kept once per transaction.
    """

    persistent = False

    def __init__(self) -> None:
        self._books: list[str] = []  # record k (seq k + 1): its book, id, entry and digest
        self._ids: list[str] = []
        self._entries: list[object] = []
        self._digests: list[bytes | None] = []
        self._starts: list[int] = []  # the first seq of each append, and when it was recorded
        self._recorded: list[str] = []
        self._index: dict[str, dict[str, int]] = {}  # book → id → seq, in sequence order
        self._mark = 0  # records before the open transaction

    def __len__(self) -> int:
        return len(self._ids)

    def begin(self) -> None:
        self._mark = len(self._ids)

    def commit(self) -> None:
        self._mark = len(self._ids)

    def rollback(self) -> None:
        mark = self._mark
        for book, eid in zip(self._books[mark:], self._ids[mark:], strict=True):
            del self._index[book][eid]
        for column in (self._books, self._ids, self._entries, self._digests):
            del column[mark:]
        while self._starts and self._starts[-1] > mark:
            self._starts.pop()
            self._recorded.pop()

    def append(self, rows: Sequence[Row]) -> None:
        run: list[Row] = []  # consecutive rows recorded at the same moment
        for row in (*rows, None):
            if run and (row is None or row.recorded != run[0].recorded):
                first = len(self._ids)
                self.extend(
                    [r.book for r in run],
                    [r.id for r in run],
                    [r.entry for r in run],
                    run[0].recorded,
                )
                self._digests[first:] = [r.digest for r in run]
                run = []
            if row is not None:
                if row.seq != len(self._ids) + len(run) + 1:
                    raise Conflict(f"record {row.seq} out of sequence / 日志序号不连续")
                run.append(row)

    def extend(
        self, books: Sequence[str], ids: Sequence[str], entries: Sequence[object], recorded: str
    ) -> None:
        """Append records (``books[k]``, ``ids[k]``, ``entries[k]``) recorded at ``recorded``,
        inside a write transaction; a used ``(book, id)`` is a :class:`~zhiyuan.errors.Conflict`
        and appends nothing."""
        if not ids:
            return
        indexes = self._index
        first = len(self._ids) + 1
        one = books[0]
        if books.count(one) == len(books):  # one book (the common case): checked in bulk
            index = indexes.get(one)
            if index is None:
                index = indexes[one] = {}
            size = len(index)
            index.update(zip(ids, range(first, first + len(ids)), strict=True))
            if len(index) != size + len(ids):  # an id used before, or twice in ``ids``
                self._reindex(one)  # what the update overwrote, put back from the columns
                self._used(books, ids)
        else:
            for k, (book, eid) in enumerate(zip(books, ids, strict=True)):
                index = indexes.get(book)
                if index is None:
                    index = indexes[book] = {}
                if eid in index:
                    for b, i in zip(books[:k], ids[:k], strict=True):
                        del indexes[b][i]
                    self._used(books, ids)
                index[eid] = first + k
        self._books.extend(books)
        self._ids.extend(ids)
        self._entries.extend(entries)
        self._digests.extend([None] * len(ids))
        self._starts.append(first)
        self._recorded.append(recorded)

    def _reindex(self, book: str) -> None:
        """Build ``book``'s id index again from the records (after a refused bulk update)."""
        self._index[book] = {
            eid: seq
            for seq, (b, eid) in enumerate(zip(self._books, self._ids, strict=True), 1)
            if b == book
        }

    def _used(self, books: Sequence[str], ids: Sequence[str]) -> NoReturn:
        """Raise the conflict of the first id used before or twice in ``ids``."""
        seen: set[tuple[str, str]] = set()
        for book, eid in zip(books, ids, strict=True):
            if eid in self._index.get(book, {}) or (book, eid) in seen:
                raise Conflict(
                    f"entry id {eid!r} is already used in book {book!r} / 条目编号已被占用"
                )
            seen.add((book, eid))
        raise AssertionError("no id is used twice")  # pragma: no cover

    def row(self, seq: int) -> Row:
        """Record ``seq`` as a :class:`Row` (its entry held, its digest if computed)."""
        k = seq - 1
        at = self._recorded[bisect.bisect_right(self._starts, seq) - 1]
        return Row(
            seq, self._books[k], self._ids[k], at, digest=self._digests[k], entry=self._entries[k]
        )

    def set_digest(self, seq: int, value: bytes) -> None:
        """Keep the digest the journal computed for record ``seq``."""
        self._digests[seq - 1] = value

    def last(self) -> tuple[int, bytes | None]:
        if not self._ids:
            return 0, None
        return len(self._ids), self._digests[-1]

    def scan(
        self, *, after: int = 0, upto: int | None = None, book: str | None = None
    ) -> Iterator[Row]:
        end = len(self._ids) if upto is None else min(upto, len(self._ids))
        if book is None:
            seqs: Iterable[int] = range(max(after, 0) + 1, end + 1)
        else:
            seqs = (s for s in self._index.get(book, {}).values() if after < s <= end)
        for seq in seqs:
            yield self.row(seq)

    def entries(self, book: str, upto: int) -> list[object]:
        """The entries of ``book`` with ``seq <= upto``, in order (no :class:`Row` made)."""
        entries = self._entries
        return [entries[s - 1] for s in self._index.get(book, {}).values() if s <= upto]

    def lookup(self, book: str, ids: Iterable[str]) -> dict[str, Row]:
        index = self._index.get(book, {})
        return {i: self.row(index[i]) for i in ids if i in index}

    def find(self, book: str, ids: Iterable[str]) -> dict[str, object]:
        """The entries of ``book`` recorded under any of ``ids``, by id (no :class:`Row` made)."""
        index, entries = self._index.get(book, {}), self._entries
        return {i: entries[index[i] - 1] for i in ids if i in index}
