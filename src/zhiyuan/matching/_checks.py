"""Validators and converters of the matching value classes (private).

Each raises :class:`~zhiyuan.errors.InvalidValue` naming the field and the value, never a bare
``TypeError`` or ``AttributeError``: a value class refuses a bad field when it is built, so nothing
fails later inside a dispatcher, a batch or a book. (``zhiyuan._validators.aware`` and
``bounded`` let ``None`` pass, for optional fields; the required forms here refuse it.)

Example:
    >>> import attrs
    >>> @attrs.frozen
    ... class P:
    ...     capacity: int = attrs.field(validator=count(1, 10, "任务", "tasks"))
    >>> P(None)
    Traceback (most recent call last):
    ...
    zhiyuan.errors.InvalidValue: capacity: None: 应为 1 到 10 的整数（任务） / a whole number of tasks, 1 to 10
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

import attrs

from zhiyuan._validators import aware
from zhiyuan.errors import InvalidValue

Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]

NEED_MOMENT = "需要带时区的时间 / need a timezone-aware datetime"


def moment(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """A required aware datetime, in the years the library accepts."""
    if not isinstance(value, datetime):
        raise InvalidValue(attribute.name, value, NEED_MOMENT)
    aware(instance, attribute, value)


def count(low: int, high: int, zh: str, en: str, *, optional: bool = False) -> Validator:
    """An ``int`` (not a bool) from ``low`` to ``high``; ``None`` only when ``optional``."""

    def check(_: object, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is None and optional:
            return
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise InvalidValue(
                attribute.name,
                value,
                f"应为 {low} 到 {high} 的整数（{zh}） / a whole number of {en}, {low} to {high}",
            )

    return check


def integer(_: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    """Any ``int`` (not a bool): a cost, which may be negative."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidValue(attribute.name, value, "需要整数 / must be an integer")


def instance(kind: type, zh: str, en: str, *, optional: bool = False) -> Validator:
    """A value of type ``kind`` (``None`` too when ``optional``)."""

    def check(_: object, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is None and optional:
            return
        if not isinstance(value, kind):
            raise InvalidValue(attribute.name, value, f"需要{zh} / need {en}")

    return check


def text(_: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    """An optional non-blank string (``None`` passes)."""
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise InvalidValue(attribute.name, value, "须为非空文本 / must be non-empty text")


def items(field: str, value: object) -> list[Any]:
    """The items of a list, tuple, set or other iterable; ``None``, text, a mapping or a
    non-iterable is an :class:`InvalidValue` naming ``field``."""
    if isinstance(value, (str, bytes, bytearray, Mapping)) or not isinstance(value, Iterable):
        raise InvalidValue(
            field, value, "需要序列（列表或元组） / need a sequence (a list or tuple)"
        )
    return list(value)


def tuple_of(field: str, kind: type, zh: str, en: str) -> Callable[[Any], tuple[Any, ...]]:
    """A converter: a sequence of ``kind`` values to a tuple (each checked)."""

    def convert(value: Any) -> tuple[Any, ...]:
        out = tuple(items(field, value))
        for k, v in enumerate(out):
            if not isinstance(v, kind):
                raise InvalidValue(f"{field}[{k}]", v, f"需要{zh} / need {en}")
        return out

    return convert
