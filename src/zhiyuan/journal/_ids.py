"""The id grammar: ids the library makes can never be ids a caller chose.

A caller's id (an order, a spend, a posting, a rating …) is any non-empty text without ``#``.
An id the library derives is its parent's id followed by steps, each written ``#step``:
``o1#1`` (the first leg of spend ``o1``), ``e1#settle``, ``r7#convert``, ``n1#reward#v1``. Every
derived id holds a ``#`` and no caller id does, so the two never meet; and steps that come from
other books' ids (a record id, a candidate id) are escaped (``%`` → ``%25``, ``#`` → ``%23``), so
two different derivations never give the same text.

Example:
    >>> derive("o1", 2)
    'o1#2'
    >>> derive(foreign("need#7"), "reward", "v1")
    'need%237#reward#v1'
    >>> own_id("a#b", "id")
    Traceback (most recent call last):
    ...
    zhiyuan.errors.InvalidValue: id: 'a#b': 编号不能含 # （库生成的编号专用）/ an id cannot contain '#' (kept for ids the library makes)
"""

from __future__ import annotations

from zhiyuan._validators import text
from zhiyuan.errors import InvalidValue

__all__ = ["SEP", "derive", "foreign", "own_id"]

SEP = "#"
"""The separator of derived ids, never found in a caller's id."""


def foreign(value: str) -> str:
    """An id from elsewhere (another book, a record), escaped to be one step of a derived id."""
    return value.replace("%", "%25").replace(SEP, "%23")


def derive(parent: str, *steps: object) -> str:
    """``parent#step#step…``: an id made by the library (text steps are escaped)."""
    return parent + "".join(SEP + foreign(str(s)) for s in steps)


def own_id(value: object, field: str) -> str:
    """A caller's id: non-empty text without ``#`` that can be written as UTF-8 (no lone
    surrogate), or :class:`~zhiyuan.errors.InvalidValue`. Checked before any store is asked."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidValue(field, value, "编号不能为空 / an id must be non-empty text")
    text(field, value)
    if SEP in value:
        raise InvalidValue(
            field,
            value,
            "编号不能含 # （库生成的编号专用）/ an id cannot contain '#' (kept for ids the library makes)",
        )
    return value
