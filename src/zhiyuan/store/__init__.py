"""Stores that keep a journal across restarts: SQLite (embedded default) and PostgreSQL.

:func:`open_journal` opens one by URL and returns a :class:`~zhiyuan.journal.Journal`; books built
on it are rebuilt from what is recorded (after the latest checkpoint, if any), and every
operation is written before it returns.

* ``sqlite:///path/to/city.db`` (or just a path): one file, WAL mode, durable commits by
  default. Several processes may share it; writers take turns.
* ``postgresql://user@host/dbname``: for deployments (``pip install 'zhiyuan[postgres]'``).
  Writers take turns on an advisory lock.
* ``memory:``: nothing kept (what a book makes when given no journal).

Example:
    >>> import tempfile, pathlib
    >>> from datetime import datetime
    >>> from zhiyuan import SHANGHAI
    >>> from zhiyuan.credit import PointsLedger
    >>> from zhiyuan.store import open_journal
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "city.db"
    >>> t = datetime(2025, 5, 1, 9, tzinfo=SHANGHAI)
    >>> with open_journal(path) as journal:
    ...     _ = PointsLedger(journal=journal).earn("e1", "v1", 10, at=t, issuer="issuer:烟台")
    >>> with open_journal(path) as journal:        # a restart
    ...     PointsLedger(journal=journal).balance("volunteer:v1")
    10
"""

from __future__ import annotations

import os
from typing import Any

from zhiyuan._validators import Clock, system_clock
from zhiyuan.errors import InvalidValue
from zhiyuan.journal import Journal, MemoryStore, Store
from zhiyuan.store._postgres import PostgresStore
from zhiyuan.store._sqlite import SQLiteStore

__all__ = ["PostgresStore", "SQLiteStore", "open_journal", "open_store"]


def open_store(url: str | os.PathLike[str], **options: Any) -> Store:
    """The store a URL names (see the module documentation); ``options`` go to its class.

    Example:
        >>> open_store("memory:")  # doctest: +ELLIPSIS
        <zhiyuan.journal._store.MemoryStore object at ...>
        >>> open_store("mysql://db")
        Traceback (most recent call last):
        ...
        zhiyuan.errors.InvalidValue: url: 'mysql://db': 应为 sqlite:///、postgresql:// 或 memory: / expected sqlite:///…, postgresql://… or memory:
    """
    if isinstance(url, os.PathLike):
        return SQLiteStore(url, **options)
    if not isinstance(url, str) or not url:
        raise InvalidValue("url", url, "需要存储地址 / need a store URL or a path")
    if url == "memory:":
        if options:
            raise InvalidValue("options", sorted(options), "内存存储无选项 / memory: takes none")
        return MemoryStore()
    if url.startswith("sqlite:///"):
        return SQLiteStore(url[len("sqlite:///") :], **options)
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresStore(url, **options)
    if "://" in url:
        raise InvalidValue(
            "url",
            url,
            "应为 sqlite:///、postgresql:// 或 memory: / expected sqlite:///…, postgresql://… or memory:",
        )
    if "=" in url and " " in url.strip():
        raise InvalidValue(
            "url",
            url.split("password", 1)[0],
            "像是 PostgreSQL 连接串：请用 postgresql:// 地址或 PostgresStore / looks like a "
            "PostgreSQL key=value string: give a postgresql:// URL or use PostgresStore",
        )
    return SQLiteStore(url, **options)


def open_journal(
    url: str | os.PathLike[str] = "memory:",
    *,
    clock: Clock = system_clock,
    checkpoint_every: int | None = None,
    **options: Any,
) -> Journal:
    """A :class:`~zhiyuan.journal.Journal` on the store ``url`` names (see :func:`open_store`).

    ``clock`` and ``checkpoint_every`` go to the journal; ``options`` to the store (``durable``
    and ``timeout`` for SQLite, ``prefix`` for PostgreSQL).
    """
    return Journal(open_store(url, **options), clock=clock, checkpoint_every=checkpoint_every)
