"""The hash chain: how an entry becomes text, and how each record's digest binds the one before.

A record's digest is the SHA-256 of the previous record's digest (32 zero bytes before the
first), then a header naming the record — its sequence number, book, entry id (each length
prefixed, so no choice of id can imitate another record) and the moment it was recorded — and
then the entry's JSON text exactly as stored. Changing any stored byte of any record changes its
digest and therefore every digest after it.
"""

from __future__ import annotations

import hashlib

from zhiyuan.convert import compact_json
from zhiyuan.journal._store import Row

__all__ = ["GENESIS", "digest", "encode"]

GENESIS = bytes(32)
"""The digest "before" the first record."""


def encode(entry: object) -> str:
    """An entry as compact JSON text with its type tag, personal data kept (the store is the
    system of record, not an export) and fields at their defaults left out."""
    return compact_json(entry)


def digest(prev: bytes, row: Row) -> bytes:
    """The digest of ``row`` chained to ``prev``; ``row.payload`` must be set."""
    assert row.payload is not None
    h = hashlib.sha256(prev)
    h.update(
        f"{row.seq}\n{len(row.book)}:{row.book}\n{len(row.id)}:{row.id}\n{row.recorded}\n".encode()
    )
    h.update(row.payload.encode())
    return h.digest()
