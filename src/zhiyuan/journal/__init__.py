"""The journal (台账日志): one append-only, hash-chained log under every book.

Every fact a book learns — a service record posted, a certification, a points posting, a star
decision, a need accepted — is an immutable entry. A :class:`Journal` records entries in one global
sequence, each with the moment it was recorded and a SHA-256 digest chained to the record before
it; every book's state is a fold of its entries. The books (the hour ledger, the points ledger, the
time bank, the star book, the feedback book, the need book and the order book) all sit on this one
abstraction (:class:`Book`) and differ only in how they check an entry and fold it in.

* **All or nothing.** An operation stages its entries in a :class:`Transaction`; they are written
  together (durably, for a persistent store) before the operation returns, then folded in. A
  refusal or a failed write records nothing. Operations on several books (an order that spends
  points) are one transaction.
* **Rebuilt, not re-run.** Opening a journal folds the recorded entries (after a checkpoint, if
  one was saved) into the books; no policy runs again. A policy change is a new entry or an
  explicit replay.
* **Entries as data.** Every entry carries a type tag (``{"type": "hours.posted", ...}``), so
  :func:`~zhiyuan.convert.to_json` output reads back, and a whole journal exports to JSON Lines
  and imports to an equal one (:meth:`Journal.export_jsonl`, :meth:`Journal.import_jsonl`).
* **Tamper evidence.** :meth:`Journal.verify` recomputes the chain and names the first bad record;
  :attr:`Journal.head` is an anchor worth publishing.

The default :class:`MemoryStore` keeps nothing after the process ends; :mod:`zhiyuan.store` opens
SQLite (the embedded default) and PostgreSQL journals.

Example:
    >>> from datetime import datetime
    >>> from zhiyuan import SHANGHAI
    >>> from zhiyuan.credit import PointsLedger
    >>> from zhiyuan.journal import Journal
    >>> clock = lambda: datetime(2025, 5, 1, 9, tzinfo=SHANGHAI)
    >>> journal = Journal(clock=clock)
    >>> book = PointsLedger(journal=journal)
    >>> _ = book.earn("e1", "v1", 10, issuer="issuer:烟台")
    >>> [(r.seq, r.book, r.id) for r in journal.records()]
    [(1, 'points', 'e1')]
    >>> journal.verify().ok
    True
"""

from __future__ import annotations

from zhiyuan.journal._book import Book, Fold
from zhiyuan.journal._journal import Head, Journal, Record, Transaction, Verification
from zhiyuan.journal._store import Checkpoint, MemoryStore, Row, Store

__all__ = [
    "Book",
    "Checkpoint",
    "Fold",
    "Head",
    "Journal",
    "MemoryStore",
    "Record",
    "Row",
    "Store",
    "Transaction",
    "Verification",
]
