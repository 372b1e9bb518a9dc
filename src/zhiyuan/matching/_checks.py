"""Validators the matching value classes need that :mod:`zhiyuan._validators` does not have yet
(private; each belongs there, and moves there when that module takes it).

Everything else the matching classes check goes through :mod:`zhiyuan._validators`: ``aware``,
``bounded``, ``is_a``, ``non_empty``, ``non_negative``, ``items``, ``items_of``, ``to_enum``.
Each validator here raises :class:`~zhiyuan.errors.InvalidValue` naming the field and the value.

Example:
    >>> import attrs
    >>> @attrs.frozen
    ... class P:
    ...     cost: int = attrs.field(validator=integer)
    ...     note: str = attrs.field(default="", validator=any_text)
    >>> P(-3), P(2, note="")
    (P(cost=-3, note=''), P(cost=2, note=''))
    >>> P(True)
    Traceback (most recent call last):
    ...
    zhiyuan.errors.InvalidValue: cost: True: 需要整数 / must be an integer
    >>> P(1, note=None)
    Traceback (most recent call last):
    ...
    zhiyuan.errors.InvalidValue: note: None: 需要文本 / need text (it may be empty)
"""

from __future__ import annotations

from typing import Any

import attrs

from zhiyuan._validators import text
from zhiyuan.errors import InvalidValue


def integer(_: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    """Any ``int`` (not a bool), negative too: a cost or a sum of costs, which have no bound."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidValue(attribute.name, value, "需要整数 / must be an integer")


def any_text(_: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    """A ``str`` that may be empty (a reason, a comment, a note), of valid Unicode text: no lone
    surrogate, which could not be written to a journal as UTF-8."""
    if not isinstance(value, str):
        raise InvalidValue(attribute.name, value, "需要文本 / need text (it may be empty)")
    text(attribute.name, value)
