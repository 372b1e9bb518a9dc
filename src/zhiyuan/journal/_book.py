"""The book: what every ledger shares (journal, lock, ids, idempotency, fold, time).

A book is a named part of a :class:`~zhiyuan.journal.Journal`. It supplies only its own rules:

* a **state** (a "fold"): an object with ``apply(entry)``, built empty by ``_new_state`` and
  grown one recorded entry at a time. Applying never checks and never fails: a recorded entry
  is a fact, and rebuilding a book re-applies the facts without re-running any policy;
* a **check** (``_check``): whether an entry offered from outside (:meth:`Book.add`) may be
  recorded on top of the current state;
* its **operations**, which validate, build the entries and record them through the journal.

Everything else lives here once: the id index (the journal's), idempotency (the same entry again
is a no-op, another entry under a used id a :class:`~zhiyuan.errors.Conflict`), the lock (the
journal's, one for every book on it), the clock, and the time convention: ``at`` is the moment of
a write (default: the clock's now), ``as_of`` is a keyword-only read cut-off (``None``: every
recorded entry, with time-driven states such as a public notice or an expiry judged at the
clock's now).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from zhiyuan._validators import Clock, moment
from zhiyuan.convert import structure
from zhiyuan.errors import Conflict, InvalidInput, InvalidValue
from zhiyuan.journal._journal import Journal

__all__ = ["Book", "Fold"]

E = TypeVar("E")
E_contra = TypeVar("E_contra", contravariant=True)


class Fold(Protocol[E_contra]):
    """The folded state of a book: grown one recorded entry at a time, never failing.

    A state may also have ``apply_many(entries)``, folding many in order exactly as ``apply``
    folds each: the journal then folds a whole transaction (or a rebuild) in one call.
    """

    def apply(self, entry: E_contra, /) -> None:
        """Fold one recorded entry in."""


S = TypeVar("S", bound=Fold[Any])


class Book(Generic[E, S]):
    """Base of every book: what every ledger shares, over one :class:`Journal`.

    A book supplies only its own rules: a state (``_new_state``, an object with ``apply(entry)``
    that folds one recorded entry and never fails), ``_check`` for an entry offered from outside
    (:meth:`add`), optionally ``_check_staged`` for the entries of one transaction taken
    together, and its operations, which validate, build their entries and stage them in a
    transaction (``with self.journal.transaction() as tx: tx.add(self, entries)``). Everything
    else lives here once: the id index (the journal's), idempotency, the lock (the journal's),
    the clock, rebuilding from the recorded entries (after a checkpoint) when the book is
    attached, and the time convention (``at`` for writes, ``as_of`` for reads).

    Args:
        journal: the journal to record in; default a new in-memory one (with ``clock``).
        name: the book's name in the journal (default: its kind, such as ``"hours"``); two books
            of one kind on one journal need different names.
        clock: the clock of the new journal made when ``journal`` is not given.
    """

    kind: ClassVar[str] = ""
    """The default name, and the prefix of the entry type tags."""
    entry_type: ClassVar[Any] = None
    """The tagged union of the book's entry classes."""
    state_version: ClassVar[int] = 1
    """Bumped when the state's layout changes, so older checkpoints are not loaded."""

    journal: Journal
    name: str
    _state: S

    def __init__(
        self, *, journal: Journal | None = None, name: str | None = None, clock: Clock | None = None
    ) -> None:
        if journal is None:
            journal = Journal() if clock is None else Journal(clock=clock)
        elif not isinstance(journal, Journal):
            raise InvalidValue("journal", journal, "需要 Journal / need a Journal")
        elif clock is not None:
            raise InvalidValue(
                "clock",
                clock,
                "已给日志时请把时钟交给日志 / with a journal, the clock is the journal's",
            )
        name = self.kind if name is None else name
        if not isinstance(name, str) or not name.strip():
            raise InvalidValue("name", name, "账本名不能为空 / a book needs a name")
        self.journal = journal
        self.name = name
        self._lock = journal._lock
        self._listeners: list[Callable[[E], None]] = []
        self._state = self._new_state()
        journal._attach(self)
        self._restored()

    # --- what a book supplies -----------------------------------------------------------------

    def _new_state(self) -> S:
        """An empty state."""
        raise NotImplementedError

    def _restored(self) -> None:
        """Called once the state holds every recorded entry (at attach): rebuild anything kept
        outside the state, such as a dispatcher's bookings."""

    def _check(self, entry: E) -> None:
        """Raise if ``entry``, offered from outside, may not be recorded on the current state."""
        raise InvalidValue(
            "entry",
            type(entry).__name__,
            f"账本 {self.name} 不接受直接添加条目 / book {self.name!r} takes no raw entries",
        )

    def _check_staged(self, entries: list[E]) -> None:
        """Raise if the entries staged for this book in one transaction do not hold together on
        the current state (say, two spends from one lot). Runs just before they are written."""

    def _adopt(self, view: object, entries: list[E]) -> bool:
        """Take the transaction's working view (see :meth:`Transaction.view`) as the new state
        once ``entries`` are written, instead of applying them one by one; return ``False`` to
        have them applied. Adopting must give exactly the state applying would."""
        return False

    def _entry_id(self, entry: E) -> str:
        """An entry's id in the book (unique within the book)."""
        eid = getattr(entry, "id", None)
        if not isinstance(eid, str) or not eid:
            raise InvalidValue("id", eid, "条目须有编号 / an entry needs an id")
        return eid

    # --- the machinery ------------------------------------------------------------------------

    def _state_key(self) -> str:
        cls = type(self)
        state = type(self._state)
        return (
            f"{cls.__module__}.{cls.__qualname__}:{state.__module__}.{state.__qualname__}"
            f":{cls.state_version}"
        )

    def _decode(self, payload: str) -> E:
        try:
            data = json.loads(payload)
        except (json.JSONDecodeError, RecursionError) as exc:
            raise InvalidInput([f"记录不是 JSON / a record is not JSON: {exc} @ $"]) from exc
        out: E = structure(data, self.entry_type)
        return out

    def _fold(self, entry: E) -> None:
        """Fold a recorded entry into the state and tell the listeners."""
        self._state.apply(entry)
        for listen in self._listeners:
            listen(entry)

    def _when(self, at: object, field: str = "at") -> datetime:
        """A write moment: ``at``, or the clock's now."""
        return moment(at, field, self.journal.clock)

    def _as_of(self, as_of: object, field: str = "as_of") -> datetime | None:
        """A read cut-off: ``None`` stays ``None`` (everything recorded)."""
        return None if as_of is None else moment(as_of, field)

    # --- what every book offers ---------------------------------------------------------------

    def add(self, entry: E) -> E:
        """Record one entry built outside the book, after checking it against the state.

        The same entry again is a no-op (the recorded one is returned); another entry under a
        used id is a :class:`~zhiyuan.errors.Conflict`. Nothing changes when anything raises.
        """
        with self.journal.transaction() as tx:
            eid = self._entry_id(entry)
            old = self.journal.find(self.name, eid)
            if old is not None:
                if old == entry:
                    return old  # type: ignore[no-any-return]
                raise Conflict(
                    f"entry id {eid!r} is already used by another entry / 条目编号已被占用"
                )
            self._check(entry)
            tx.add(self, [entry])
        return entry

    @property
    def entries(self) -> tuple[E, ...]:
        """Every entry of the book, in the order recorded."""
        return tuple(self.journal.entries(self.name))
