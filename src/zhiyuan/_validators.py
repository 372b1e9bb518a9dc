"""Small attrs validators that raise :class:`~zhiyuan.errors.InvalidValue` (never bare ValueError)."""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, TypeAlias, TypeVar
from zoneinfo import ZoneInfo

import attrs

from zhiyuan.errors import InvalidValue

SHANGHAI = ZoneInfo("Asia/Shanghai")
"""The default time zone of the library (China has observed no daylight saving since 1991)."""

Clock: TypeAlias = Callable[[], datetime]
"""A source of the current moment: a function of no arguments returning an aware datetime."""


def system_clock() -> datetime:
    """The wall clock in Asia/Shanghai: the one place the library reads it.

    Every book, journal and report takes a ``clock`` (default: this function), so tests and
    replays can fix "now".
    """
    return datetime.now(SHANGHAI)


def aware(_: object, attribute: attrs.Attribute[Any], value: datetime | None) -> None:
    """Reject naive datetimes (``None`` passes, for optional fields)."""
    if value is None:
        return
    if type(value) is datetime and value.tzinfo is SHANGHAI:  # the common case, already normal
        return
    if not isinstance(value, datetime):
        raise InvalidValue(
            attribute.name, value, "需要带时区的时间 / need a timezone-aware datetime"
        )
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidValue(
            attribute.name,
            value.isoformat(),
            "缺少时区 / naive datetime: an offset or zone is required",
        )


def to_shanghai(value: datetime) -> datetime:
    """Convert an aware datetime to Asia/Shanghai; naive values pass through for ``aware`` to reject."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        if value.tzinfo is SHANGHAI:
            return value
        if value.utcoffset() is not None:
            return value.astimezone(SHANGHAI)
    return value


def non_negative(_: object, attribute: attrs.Attribute[Any], value: int) -> None:
    """Require an ``int`` (not bool, not float) that is zero or more."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidValue(attribute.name, value, "需要整数 / must be an integer")
    if value < 0:
        raise InvalidValue(attribute.name, value, "不能为负数 / must not be negative")


def positive(_: object, attribute: attrs.Attribute[Any], value: int) -> None:
    """Require an ``int`` that is one or more."""
    non_negative(_, attribute, value)
    if value == 0:
        raise InvalidValue(attribute.name, value, "必须大于零 / must be positive")


def non_empty(_: object, attribute: attrs.Attribute[Any], value: str) -> None:
    """Require a non-blank string."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidValue(attribute.name, value, "不能为空 / must not be empty")


def is_date(_: object, attribute: attrs.Attribute[Any], value: date | None) -> None:
    """Require a ``date`` that is not a ``datetime`` (``None`` passes)."""
    if value is None:
        return
    if isinstance(value, datetime) or not isinstance(value, date):
        raise InvalidValue(attribute.name, value, "需要日期 / need a date (not a datetime)")


E = TypeVar("E", bound=enum.Enum)


def to_enum(field: str, kind: type[E], value: object) -> E:
    """``kind(value)`` for a member or its value; anything else is an :class:`InvalidValue`
    naming ``field`` and listing the allowed values."""
    if isinstance(value, kind):
        return value
    try:
        return kind(value)
    except ValueError:
        names = ", ".join(str(k.value) for k in kind)
        raise InvalidValue(field, value, f"应为 / one of {names}") from None


def moment(at: object, field: str = "at", clock: Clock = system_clock) -> datetime:
    """An aware moment in Asia/Shanghai: ``None`` is ``clock()``; a naive or non-datetime value is
    an :class:`InvalidValue` naming ``field``.

    Example:
        >>> moment(datetime(2025, 1, 1, 12, tzinfo=SHANGHAI)).isoformat()
        '2025-01-01T12:00:00+08:00'
        >>> moment(datetime(2025, 1, 1, 12))
        Traceback (most recent call last):
        ...
        zhiyuan.errors.InvalidValue: at: '2025-01-01T12:00:00': 缺少时区 / naive datetime: an offset or zone is required
    """
    if at is None:
        return to_shanghai(clock())
    if not isinstance(at, datetime):
        raise InvalidValue(field, str(at), "需要带时区的时间 / need a timezone-aware datetime")
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidValue(
            field, at.isoformat(), "缺少时区 / naive datetime: an offset or zone is required"
        )
    return to_shanghai(at)
