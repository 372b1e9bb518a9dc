"""The journal (台账日志): one append-only, hash-chained log of entries under every book.

See :mod:`zhiyuan.journal` for the overview.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from datetime import datetime
from typing import IO, TYPE_CHECKING, Any, NamedTuple, TypeVar

import attrs

from zhiyuan._gc import paused_gc
from zhiyuan._validators import SHANGHAI, Clock, system_clock, to_shanghai
from zhiyuan.convert import structure_tagged
from zhiyuan.errors import Conflict, InvalidInput, InvalidValue, NotFound, ZhiyuanError
from zhiyuan.journal import _pickle
from zhiyuan.journal._chain import GENESIS, digest, encode
from zhiyuan.journal._store import Checkpoint, MemoryStore, Row, Store

if TYPE_CHECKING:
    from zhiyuan.journal._book import Book

__all__ = ["Head", "Journal", "Record", "Transaction", "Verification"]

V = TypeVar("V")

_FORMAT = "zhiyuan-journal"
_FORMAT_VERSION = 1


class Head(NamedTuple):
    """The last record of a journal: its sequence number and hex digest (``0`` and 64 zeros when
    empty). Publishing a head anchors everything before it."""

    seq: int
    digest: str


@attrs.frozen(kw_only=True)
class Record:
    """One entry as the journal recorded it: where in the sequence, in which book, when, and the
    digest that chains it to every record before it."""

    seq: int
    book: str
    id: str
    recorded_at: datetime
    entry: Any
    digest: str


@attrs.frozen(kw_only=True)
class Verification:
    """The result of :meth:`Journal.verify`: ``ok``, how many records were ``checked``, and the
    first bad sequence number with the reason (``None`` when all is well)."""

    ok: bool
    checked: int
    first_bad: int | None = None
    reason: str = ""

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        if self.ok:
            return (
                f"链完整：已核对 {self.checked} 条 / chain intact: {self.checked} records checked"
            )
        return (
            f"第 {self.first_bad} 条记录有误 / record {self.first_bad} is bad: {self.reason} "
            f"({self.checked} checked before it)"
        )


class Transaction:
    """The entries of one operation, staged until the journal writes them all or none.

    Obtained from :meth:`Journal.transaction`; books stage entries with :meth:`add`.
    """

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        # what is staged, in order, in three columns: the book's name, the entry, its id
        self._names: list[str] = []
        self._entries: list[Any] = []
        self._eids: list[str] = []
        self._ids: dict[str, dict[str, Any]] = {}  # book name → entry id → entry
        self._views: dict[str, Any] = {}
        self._by_book: dict[str, tuple[Book[Any, Any], list[Any]]] = {}
        self._when_done: list[Callable[[bool], None]] = []

    def when_done(self, callback: Callable[[bool], None]) -> None:
        """Call ``callback(recorded)`` once the transaction ends: ``True`` if its entries were
        written, ``False`` if it was undone. Called after the journal's lock is released (so it
        may write again), and never for a savepoint, only for the transaction that writes."""
        self._when_done.append(callback)

    def add(self, book: Book[Any, Any], entries: Iterable[Any]) -> None:
        """Stage entries of ``book`` (attached to this journal), in order.

        The same entry staged twice is kept once; another entry under a staged id is a
        :class:`~zhiyuan.errors.Conflict`.
        """
        if book.journal is not self.journal:
            raise InvalidValue(
                "book", book.name, "账本不在本日志上 / the book is not attached to this journal"
            )
        name = book.name
        entries = list(entries)
        eids = list(map(book._entry_id, entries))
        ids = self._ids.get(name)
        if ids is None:
            ids = self._ids[name] = {}
        mine = self._by_book.get(name)
        if mine is None:
            mine = self._by_book[name] = (book, [])
        size = len(ids)
        if ids.keys().isdisjoint(eids):  # the common case: all new, staged in bulk
            ids.update(zip(eids, entries, strict=True))
            if len(ids) != size + len(eids):  # an id twice among them: one at a time
                for eid in eids:
                    ids.pop(eid, None)
            else:
                self._staged(name, mine[1], entries, eids)
                return
        fresh: list[Any] = []
        fresh_ids: list[str] = []
        for entry, eid in zip(entries, eids, strict=True):
            old = ids.get(eid)
            if old is not None:
                if old == entry:
                    continue
                for done in fresh_ids:  # nothing of this call stays staged
                    del ids[done]
                raise Conflict(
                    f"entry id {eid!r} is already used in book {name!r} / 条目编号已被占用"
                )
            ids[eid] = entry
            fresh.append(entry)
            fresh_ids.append(eid)
        self._staged(name, mine[1], fresh, fresh_ids)

    def _staged(self, name: str, own: list[Any], entries: list[Any], eids: list[str]) -> None:
        """Put down entries of book ``name`` (already in its id map) as staged, in order."""
        self._names.extend([name] * len(entries))
        self._entries.extend(entries)
        self._eids.extend(eids)
        own.extend(entries)
        view = self._views.get(name)
        if view is not None:
            for entry in entries:
                view.apply(entry)

    def view(self, book: Book[Any, Any], make: Callable[[list[Any]], V]) -> V:
        """The book's working view for this transaction: made once by ``make`` from the entries
        staged so far, then kept up to date as more are staged (``view.apply(entry)``). Books
        plan on it so that later operations of one transaction see what earlier ones did."""
        view = self._views.get(book.name)
        if view is None:
            view = self._views[book.name] = make(self.staged(book))
        out: V = view
        return out

    def has_view(self, book: Book[Any, Any]) -> bool:
        """True once :meth:`view` made the book's working view in this transaction.

        Example:
            >>> from zhiyuan.credit import PointsLedger
            >>> ledger = PointsLedger()
            >>> with ledger.journal.transaction() as tx:
            ...     before = tx.has_view(ledger)
            ...     _ = ledger.earn("e1", "v1", 5, issuer="issuer:烟台")  # plans on a view
            ...     before, tx.has_view(ledger)
            (False, True)
        """
        return book.name in self._views

    def untouched(self, book: Book[Any, Any]) -> bool:
        """True while nothing is staged for ``book`` and it has no working view here: an
        operation may then plan on the book's recorded state itself.

        Example:
            >>> from zhiyuan.credit import PointsLedger
            >>> ledger = PointsLedger()
            >>> with ledger.journal.transaction() as tx:
            ...     before = tx.untouched(ledger)
            ...     _ = ledger.earn("e1", "v1", 5, issuer="issuer:烟台")
            ...     before, tx.untouched(ledger)
            (True, False)
        """
        mine = self._by_book.get(book.name)
        return book.name not in self._views and (mine is None or not mine[1])

    def _mark(self) -> int:
        return len(self._eids)

    def _rollback_to(self, mark: int) -> None:
        """Drop what was staged after ``mark`` (a failed operation inside a larger one)."""
        if mark == len(self._eids):
            return
        for name, eid in zip(self._names[mark:], self._eids[mark:], strict=True):
            del self._ids[name][eid]
        for column in (self._names, self._entries, self._eids):
            del column[mark:]
        self._views.clear()
        books = {name: book for name, (book, _) in self._by_book.items()}
        self._by_book.clear()
        for name, entry in zip(self._names, self._entries, strict=True):
            self._by_book.setdefault(name, (books[name], []))[1].append(entry)

    def staged(self, book: Book[Any, Any]) -> list[Any]:
        """The entries of ``book`` staged so far, in order."""
        mine = self._by_book.get(book.name)
        return [] if mine is None else list(mine[1])

    def __len__(self) -> int:
        return len(self._eids)


class Journal:
    """An append-only log of entries with a global sequence number, shared by books.

    Args:
        store: where records live; default a :class:`MemoryStore` (nothing survives the process).
            Use :func:`zhiyuan.store.open_journal` for SQLite or PostgreSQL.
        clock: the source of "now" for writes without ``at`` and reads without ``as_of``, and of
            every record's ``recorded_at``.
        checkpoint_every: with a persistent store, save every book's folded state after this
            many new records, so that reopening replays only the tail (``None``: only when
            :meth:`checkpoint` is called).

    Example:
        >>> from zhiyuan.journal import Journal
        >>> j = Journal()
        >>> j.head
        Head(seq=0, digest='0000000000000000000000000000000000000000000000000000000000000000')
    """

    def __init__(
        self,
        store: Store | None = None,
        *,
        clock: Clock = system_clock,
        checkpoint_every: int | None = None,
    ) -> None:
        if checkpoint_every is not None and (
            isinstance(checkpoint_every, bool)
            or not isinstance(checkpoint_every, int)
            or checkpoint_every < 1
        ):
            raise InvalidValue(
                "checkpoint_every", checkpoint_every, "须为正整数 / must be a whole number > 0"
            )
        self.store: Store = MemoryStore() if store is None else store
        self.clock: Clock = clock
        self.checkpoint_every = checkpoint_every
        self._lock = threading.RLock()
        self._books: dict[str, Book[Any, Any]] = {}
        self._views: dict[str, Any] = {}
        self._tx: Transaction | None = None
        self._seq, last = self.store.last()
        self._digest: bytes = GENESIS if last is None else last
        self._sealed = 0  # memory store: rows whose digest is computed
        self._last_checkpoint = self._seq
        self._broken: str | None = None
        self._closed = False

    def __repr__(self) -> str:
        return f"<Journal {self.store.url} at seq {self._seq}>"

    # --- time ---------------------------------------------------------------------------------

    def now(self) -> datetime:
        """The clock's current moment, in Asia/Shanghai."""
        t = self.clock()
        if not isinstance(t, datetime) or t.tzinfo is None or t.utcoffset() is None:
            raise InvalidValue("clock", t, "时钟须给出带时区的时间 / a clock gives aware datetimes")
        return t if t.tzinfo is SHANGHAI else to_shanghai(t)

    # --- books --------------------------------------------------------------------------------

    @property
    def books(self) -> dict[str, Book[Any, Any]]:
        """The attached books by name."""
        with self._lock:
            return dict(self._books)

    def _attach(self, book: Book[Any, Any]) -> None:
        """Attach a book and fold its recorded entries into it (checkpoint, then the tail)."""
        with self._lock:
            self._check_open()
            if book.name in self._books or book.name in self._views:
                raise Conflict(
                    f"a book named {book.name!r} is already attached to this journal / "
                    "同名账本已在本日志上"
                )
            self._rebuild(book, book)
            self._books[book.name] = book

    def _rebuild(self, part: Any, book: Book[Any, Any]) -> None:
        """Fold ``book``'s records into ``part`` (a book or a view over it): from its latest
        checkpoint when that is of the same state layout, then the records after it."""
        start = 0
        # a rebuild makes millions of lasting objects and frees few: the collector would only
        # walk them again and again
        with paused_gc():
            if self.store.persistent:
                cp = self.store.load_checkpoint(part.name)
                if cp is not None and cp.key == part._state_key() and cp.seq <= self._seq:
                    part._state = _pickle.loads(cp.data)
                    start = cp.seq
            entries = (
                row.entry if row.entry is not None else book._decode(row.payload or "")
                for row in self.store.scan(after=start, upto=self._seq, book=book.name)
            )
            many = getattr(part._state, "apply_many", None)
            if many is not None:
                many(entries)
            else:
                fold = part._state.apply
                for entry in entries:
                    fold(entry)

    def _attach_view(self, view: Any, book: Book[Any, Any]) -> None:
        """Attach a view: a state folded from another book's entries (say, the time bank's
        positions over its ledger), checkpointed with the books. ``view`` has ``name``,
        ``_state`` (with ``apply``) and ``_state_key()``; it is folded from the checkpoint and
        the book's records after it, then follows the book's entries as they are recorded."""
        with self._lock:
            self._check_open()
            if book.journal is not self or self._books.get(book.name) is not book:
                raise InvalidValue("book", book.name, "账本不在本日志上 / not on this journal")
            if view.name in self._books or view.name in self._views:
                raise Conflict(f"{view.name!r} is already attached / 已在本日志上")
            self._rebuild(view, book)
            self._views[view.name] = view
            book._listeners.append(lambda entry: view._state.apply(entry))

    # --- writing ------------------------------------------------------------------------------

    def transaction(self) -> AbstractContextManager[Transaction]:
        """One atomic write: entries staged inside are recorded all together or not at all.

        Use it as ``with journal.transaction() as tx:``. It holds the journal's lock (and the
        store's write lock) throughout; first folds in what other processes recorded meanwhile,
        so that checks run on the latest state. On leaving the block the entries are written
        (durably, for a persistent store), then folded into their books. An exception inside
        the block, or a failed write, records nothing. A transaction opened inside another one
        on the same thread joins it as a savepoint: if the inner block fails, what it staged is
        dropped and the outer one goes on.
        """
        return _Writing(self)

    def _begin(self) -> Transaction:
        self._check_open()
        self.store.begin()
        tx = Transaction(self)
        self._tx = tx
        try:
            self._catch_up()
        except BaseException:
            self._tx = None
            self.store.rollback()
            raise
        return tx

    def _end(self, tx: Transaction, failed: bool) -> None:
        if failed:
            self._tx = None
            self.store.rollback()
            return
        with paused_gc():  # encoding allocates many short-lived objects, and frees them all
            try:
                self._write(tx)
            except BaseException:
                self._tx = None
                self.store.rollback()
                raise
            self._tx = None
            self._fold(tx)
        if (
            self.checkpoint_every is not None
            and self.store.persistent
            and self._seq - self._last_checkpoint >= self.checkpoint_every
        ):
            self.checkpoint()

    def _write(self, tx: Transaction) -> None:
        if not tx._eids:
            self.store.commit()
            return
        for book, entries in tx._by_book.values():
            if entries:
                book._check_staged(entries)
        recorded = self.now().isoformat()
        seq = self._seq
        store = self.store
        if isinstance(store, MemoryStore):  # entries held as they are, digests computed later
            store.extend(tx._names, tx._eids, tx._entries, recorded)
            store.commit()
            self._seq = seq + len(tx._eids)
            return
        prev = self._digest
        rows = []
        for name, entry, eid in zip(tx._names, tx._entries, tx._eids, strict=True):
            seq += 1
            row = Row(seq, name, eid, recorded, encode(entry))
            prev = row.digest = digest(prev, row)
            rows.append(row)
        store.append(rows)
        store.commit()
        self._seq = seq
        self._digest = prev

    def _fold(self, tx: Transaction) -> None:
        """Fold a written transaction into its books, book by book (their states are
        independent). A book whose working view of the transaction already holds the new state
        may adopt it instead of applying every entry again."""
        views = tx._views
        try:
            for name, (book, entries) in tx._by_book.items():
                if not entries:
                    continue
                view = views.get(name)
                if view is not None and book._adopt(view, entries):
                    for listen in book._listeners:
                        for entry in entries:
                            listen(entry)
                elif book._listeners:
                    for entry in entries:
                        book._fold(entry)
                else:
                    state = book._state
                    many = getattr(state, "apply_many", None)
                    if many is not None:  # the state folds a whole transaction in one loop
                        many(entries)
                    else:
                        apply = state.apply
                        for entry in entries:
                            apply(entry)
        except Exception as exc:  # a bug: the write is durable but the state is not whole
            self._broken = f"{type(exc).__name__}: {exc}"
            raise

    def _catch_up(self) -> int:
        """Fold in records other writers appended (the caller holds the lock)."""
        if not self.store.persistent:
            return 0
        n = 0
        for row in self.store.scan(after=self._seq):
            if row.seq != self._seq + 1:
                raise Conflict(
                    f"the store skips from record {self._seq} to {row.seq} / 日志序号不连续"
                )
            book = self._books.get(row.book)
            if book is not None:
                book._fold(book._decode(row.payload or ""))
            self._seq = row.seq
            if row.digest is not None:
                self._digest = row.digest
            n += 1
        return n

    def refresh(self) -> int:
        """Fold in what other processes recorded since this journal last looked; returns how
        many records that was. Writes do this by themselves; call it before reading when other
        processes write to the same store."""
        with self._lock:
            self._check_open()
            if self._tx is not None:
                return 0
            return self._catch_up()

    def checkpoint(self) -> int:
        """Save every attached book's folded state at the current head; returns its sequence
        number. Reopening then replays only the records after it. A memory journal keeps no
        checkpoints (it returns the head)."""
        with self.transaction():
            seq = self._seq
            if self.store.persistent:
                for part in (*self._books.values(), *self._views.values()):
                    cp = Checkpoint(seq, part._state_key(), _pickle.dumps(part._state))
                    self.store.save_checkpoint(part.name, cp)
            self._last_checkpoint = seq
        return seq

    def _check_open(self) -> None:
        if self._closed:
            raise Conflict("the journal is closed / 日志已关闭")
        if self._broken is not None:
            raise Conflict(
                "a fold failed after a write; reopen the journal to rebuild the books / "
                f"折叠失败，请重新打开日志: {self._broken}"
            )

    def close(self) -> None:
        """Close the store; the journal and its books can no longer write."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self.store.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- reading ------------------------------------------------------------------------------

    def __len__(self) -> int:
        return self._seq

    @property
    def head(self) -> Head:
        """The sequence number and digest of the last record."""
        with self._lock:
            self._seal()
            return Head(self._seq, self._digest.hex())

    def _seal(self) -> None:
        """Compute the digests a memory store left for later (the caller holds the lock)."""
        store = self.store
        if not isinstance(store, MemoryStore):
            return
        self._sealed = min(self._sealed, len(store))
        prev = store.row(self._sealed).digest or GENESIS if self._sealed else GENESIS
        for seq in range(self._sealed + 1, self._seq + 1):
            row = store.row(seq)
            row.payload = encode(row.entry)  # recomputed on demand; the entry is the memory copy
            prev = digest(prev, row)
            store.set_digest(seq, prev)
        self._sealed = self._seq
        self._digest = prev

    def _entry(self, row: Row) -> Any:
        if row.entry is not None:
            return row.entry
        book = self._books.get(row.book)
        if book is not None:
            return book._decode(row.payload or "")
        return structure_tagged(json.loads(row.payload or "null"))

    def records(
        self, *, book: str | None = None, after: int = 0, upto: int | None = None
    ) -> Iterator[Record]:
        """Recorded entries with ``after < seq <= upto`` (of one book, if given), in order."""
        with self._lock:
            self._seal()
            end = self._seq if upto is None else min(upto, self._seq)
            rows = list(self.store.scan(after=after, upto=end, book=book))
        for row in rows:
            yield self._record(row)

    def _record(self, row: Row) -> Record:
        return Record(
            seq=row.seq,
            book=row.book,
            id=row.id,
            recorded_at=datetime.fromisoformat(row.recorded).astimezone(SHANGHAI),
            entry=self._entry(row),
            digest=(row.digest or GENESIS).hex(),
        )

    def entries(self, book: str) -> list[Any]:
        """The entries of one book, in the order recorded."""
        with self._lock:
            if isinstance(self.store, MemoryStore):
                return self.store.entries(book, self._seq)
            rows = list(self.store.scan(upto=self._seq, book=book))
        return [self._entry(r) for r in rows]

    def find(self, book: str, entry_id: str) -> Any:
        """The entry recorded (or staged in the open transaction) under ``entry_id`` in ``book``,
        or ``None``."""
        with self._lock:
            tx = self._tx
            if tx is not None:
                staged = tx._ids.get(book, {}).get(entry_id)
                if staged is not None:
                    return staged
            if isinstance(self.store, MemoryStore):
                return self.store.find(book, (entry_id,)).get(entry_id)
            row = self.store.lookup(book, (entry_id,)).get(entry_id)
        return None if row is None else self._entry(row)

    def find_many(self, book: str, entry_ids: Iterable[str]) -> dict[str, Any]:
        """The entries recorded (or staged) under any of ``entry_ids`` in ``book``, by id."""
        ids = list(entry_ids)
        out: dict[str, Any] = {}
        with self._lock:
            tx = self._tx
            mine = None if tx is None else tx._ids.get(book)
            if mine:
                for i in ids:
                    staged = mine.get(i)
                    if staged is not None:
                        out[i] = staged
            rest = [i for i in ids if i not in out] if out else ids
            if isinstance(self.store, MemoryStore):
                out.update(self.store.find(book, rest))
                return out
            rows = self.store.lookup(book, rest)
        for i, row in rows.items():
            out[i] = self._entry(row)
        return out

    def record(self, book: str, entry_id: str) -> Record:
        """The record of an entry, with its position and digest (for certificates)."""
        with self._lock:
            self._seal()
            row = self.store.lookup(book, (entry_id,)).get(entry_id)
        if row is None:
            raise NotFound("entry", f"{book}/{entry_id}")
        return self._record(row)

    # --- tamper evidence ----------------------------------------------------------------------

    def verify(self, *, decode: bool = False) -> Verification:
        """Walk the chain from the first record and recompute every digest.

        Returns a :class:`Verification` naming the first bad sequence number: a gap, a digest
        that does not match its record, or (with ``decode``) a payload that no longer reads as
        an entry.

        Example:
            >>> Journal().verify().ok
            True
        """
        with self._lock:
            self._seal()
            known = self._seq
            prev = GENESIS
            n = 0
            persistent = self.store.persistent
            for row in self.store.scan():
                if row.seq != n + 1:
                    return Verification(
                        ok=False,
                        checked=n,
                        first_bad=n + 1,
                        reason=f"缺失，下一条为 {row.seq} / missing: the next record is {row.seq}",
                    )
                payload = row.payload if persistent else encode(row.entry)
                if payload is None:
                    return Verification(
                        ok=False, checked=n, first_bad=row.seq, reason="no payload / 无内容"
                    )
                d = digest(prev, Row(row.seq, row.book, row.id, row.recorded, payload))
                if row.digest is not None and d != row.digest:
                    return Verification(
                        ok=False,
                        checked=n,
                        first_bad=row.seq,
                        reason="摘要不符：记录被改动 / digest mismatch: the record was altered",
                    )
                if decode:
                    try:
                        structure_tagged(json.loads(payload))
                    except (ZhiyuanError, ValueError) as exc:
                        return Verification(
                            ok=False,
                            checked=n,
                            first_bad=row.seq,
                            reason=f"内容无法读取 / unreadable entry: {exc}",
                        )
                prev = d
                n += 1
            if n < known:
                return Verification(
                    ok=False,
                    checked=n,
                    first_bad=n + 1,
                    reason="记录被删除 / records were removed from the end",
                )
        return Verification(ok=True, checked=n)

    # --- JSON Lines ---------------------------------------------------------------------------

    def export_jsonl(self, out: IO[str], *, header: dict[str, Any] | None = None) -> int:
        """Write the journal as JSON Lines: a header line, then one line per record (its
        sequence number, book, id, recorded_at, entry with its type tag, and digest). Personal
        data is written in full: it is a backup, to be kept as the store is.

        ``header`` adds fields to the header line (a state export puts the tree edition, the
        registry and the policies there). Returns the number of records written.
        """
        head = {"format": _FORMAT, "version": _FORMAT_VERSION, **(header or {})}
        out.write(json.dumps(head, ensure_ascii=False, separators=(",", ":")) + "\n")
        n = 0
        with self._lock:
            self._seal()
            rows = list(self.store.scan(upto=self._seq))
        for row in rows:
            payload = row.payload if row.payload is not None else encode(row.entry)
            line = (
                f'{{"seq":{row.seq},"book":{json.dumps(row.book, ensure_ascii=False)},'
                f'"id":{json.dumps(row.id, ensure_ascii=False)},"recorded_at":"{row.recorded}",'
                f'"entry":{payload},"digest":"{(row.digest or GENESIS).hex()}"}}\n'
            )
            out.write(line)
            n += 1
        return n

    @staticmethod
    def read_jsonl_header(lines: Iterator[str]) -> dict[str, Any]:
        """Read and check the header line of a journal export."""
        try:
            first = next(lines)
        except StopIteration:
            raise InvalidInput(["空文件 / empty file: no header line @ line 1"]) from None
        try:
            head = json.loads(first)
        except (json.JSONDecodeError, RecursionError) as exc:
            raise InvalidInput([f"首行不是 JSON / the header is not JSON: {exc} @ line 1"]) from exc
        if not isinstance(head, dict) or head.get("format") != _FORMAT:
            raise InvalidInput([f"不是 {_FORMAT} 文件 / not a {_FORMAT} export @ line 1"])
        if head.get("version") != _FORMAT_VERSION:
            raise InvalidInput(
                [f"不支持的版本 / unsupported version {head.get('version')!r} @ line 1"]
            )
        return head

    def import_jsonl(self, lines: Iterable[str]) -> dict[str, Any]:
        """Append the records of an export to this empty journal, exactly as they were (same
        sequence numbers, moments and digests), checking the chain as it goes; returns the
        header. Books attached afterwards fold them in.

        Raises :class:`~zhiyuan.errors.InvalidInput` naming the line for a malformed line or a
        broken chain, and records nothing then.
        """
        it = iter(lines)
        head = self.read_jsonl_header(it)
        rows: list[Row] = []
        prev = GENESIS
        for lineno, line in enumerate(it, start=2):
            if not line.strip():
                continue
            where = f"@ line {lineno}"
            try:
                data = json.loads(line)
                if not isinstance(data, dict):
                    raise TypeError("not an object")
                seq, book, eid = data["seq"], data["book"], data["id"]
                recorded, entry, hexdigest = data["recorded_at"], data["entry"], data["digest"]
                if not (
                    isinstance(seq, int)
                    and isinstance(book, str)
                    and isinstance(eid, str)
                    and isinstance(recorded, str)
                    and isinstance(hexdigest, str)
                ):
                    raise TypeError("wrong field types")
                datetime.fromisoformat(recorded)
            except (ValueError, KeyError, TypeError, RecursionError) as exc:
                raise InvalidInput([f"行格式错误 / malformed record: {exc} {where}"]) from exc
            if seq != len(rows) + 1:
                raise InvalidInput(
                    [f"序号应为 {len(rows) + 1} / expected seq {len(rows) + 1} {where}"]
                )
            payload = json.dumps(entry, ensure_ascii=False, separators=(",", ":"))
            row = Row(seq, book, eid, recorded, payload)
            row.digest = digest(prev, row)
            if row.digest.hex() != hexdigest:
                raise InvalidInput([f"摘要不符 / digest mismatch: the record was altered {where}"])
            try:
                row.entry = structure_tagged(entry)
            except ZhiyuanError as exc:
                raise InvalidInput([f"{exc} {where}"]) from exc
            if not self.store.persistent:
                row.payload = None
            prev = row.digest
            rows.append(row)
        with self._lock:
            if self._seq or self._books:
                raise Conflict("只能导入到空日志 / import only into an empty journal")
            self.store.begin()
            try:
                self.store.append(rows)
                self.store.commit()
            except BaseException:
                self.store.rollback()
                raise
            self._seq = len(rows)
            self._digest = prev
            self._sealed = len(rows)
        return head


class _Writing:
    """The context manager :meth:`Journal.transaction` returns (a class, not a generator: an
    operation on one record opens one, so it must cost little)."""

    __slots__ = ("journal", "mark", "outer", "tx")

    def __init__(self, journal: Journal) -> None:
        self.journal = journal

    def __enter__(self) -> Transaction:
        j = self.journal
        j._lock.acquire()
        try:
            outer = j._tx
            if outer is not None:  # a savepoint: a failure drops only what it staged
                self.outer, self.mark, self.tx = True, outer._mark(), outer
                return outer
            self.outer, self.tx = False, j._begin()
            return self.tx
        except BaseException:
            j._lock.release()
            raise

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        j = self.journal
        written = False
        try:
            if self.outer:
                if kind is not None:
                    self.tx._rollback_to(self.mark)
            else:
                j._end(self.tx, failed=kind is not None)
                written = kind is None
        finally:
            j._lock.release()
            if not self.outer:
                for done in self.tx._when_done:
                    done(written)
