"""Small attrs validators that raise :class:`~zhiyuan.errors.InvalidValue` (never bare ValueError)."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from typing import Any, TypeAlias, TypeVar
from zoneinfo import ZoneInfo

import attrs

from zhiyuan.errors import InvalidValue, show

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


MIN_YEAR = 1900
"""The first year a moment or a date may fall in (born, served, recorded)."""
MAX_YEAR = 2199
"""The last year a moment or a date may fall in: far enough for any deadline or expiry, near
enough that adding a policy's longest period never overflows."""


def in_years(field: str, value: date) -> None:
    """Refuse a date or moment outside :data:`MIN_YEAR` – :data:`MAX_YEAR`."""
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise InvalidValue(
            field,
            value.isoformat(),
            f"年份须在 {MIN_YEAR}–{MAX_YEAR} 之间 / the year must be {MIN_YEAR} to {MAX_YEAR}",
        )


def aware(_: object, attribute: attrs.Attribute[Any], value: datetime | None) -> None:
    """Reject naive datetimes and years outside :data:`MIN_YEAR`–:data:`MAX_YEAR` (``None``
    passes only for an optional field, one whose default is ``None``)."""
    if value is None:
        if attribute.default is None:
            return
        raise InvalidValue(
            attribute.name, None, "需要带时区的时间 / need a timezone-aware datetime"
        )
    if type(value) is datetime and value.tzinfo is SHANGHAI:  # the common case, already normal
        if not MIN_YEAR <= value.year <= MAX_YEAR:
            in_years(attribute.name, value)
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
    in_years(attribute.name, value)


def to_shanghai(value: datetime) -> datetime:
    """Convert an aware datetime to Asia/Shanghai; naive values (and moments at the very ends of
    the calendar, which cannot be converted) pass through for ``aware`` to reject."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        if value.tzinfo is SHANGHAI:
            return value
        if value.utcoffset() is not None:
            try:
                return value.astimezone(SHANGHAI)
            except OverflowError:
                return value
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
    """Require a non-blank string of valid Unicode text (no lone surrogate: it could not be
    written as UTF-8 to a journal, a file or a digest)."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidValue(attribute.name, value, "不能为空 / must not be empty")
    text(attribute.name, value)


def text(field: str, value: str) -> str:
    """``value`` if it can be written as UTF-8; a lone surrogate is an :class:`InvalidValue`.

    Example:
        >>> text("name", "王芳")
        '王芳'
        >>> text("name", "王\\ud800")
        Traceback (most recent call last):
        ...
        zhiyuan.errors.InvalidValue: name: '王\\ud800': 含无效字符（孤立代理项） / not valid Unicode text (a lone surrogate)
    """
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidValue(
                field, value, "含无效字符（孤立代理项） / not valid Unicode text (a lone surrogate)"
            ) from None
    return value


def is_bool(_: object, attribute: attrs.Attribute[Any], value: bool) -> None:
    """Require ``True`` or ``False`` (not ``1``, ``"yes"`` or ``None``)."""
    if not isinstance(value, bool):
        raise InvalidValue(attribute.name, value, "需要布尔值 / need true or false")


def is_date(_: object, attribute: attrs.Attribute[Any], value: date | None) -> None:
    """Require a ``date`` that is not a ``datetime``, in :data:`MIN_YEAR`–:data:`MAX_YEAR`
    (``None`` passes only for an optional field, one whose default is ``None``)."""
    if value is None:
        if attribute.default is None:
            return
        raise InvalidValue(attribute.name, None, "需要日期 / need a date (not a datetime)")
    if isinstance(value, datetime) or not isinstance(value, date):
        raise InvalidValue(attribute.name, value, "需要日期 / need a date (not a datetime)")
    in_years(attribute.name, value)


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


def enum_items(field: str, kind: type[E], value: object) -> tuple[E, ...]:
    """Members of ``kind``, in order, from a collection of members or their values (not a
    string, a mapping, ``None`` or a bool), errors naming ``field``: the one coercer behind
    every policy's lists and sets of levels and evidence kinds. A lone value is refused rather
    than taken for a list of one, so that ``"qr_scan,gps"`` cannot pass for two.

    Example:
        >>> from zhiyuan.hours import Evidence
        >>> enum_items("evidence", Evidence, ["gps", Evidence.QR_SCAN])
        (<Evidence.GPS: 'gps'>, <Evidence.QR_SCAN: 'qr_scan'>)
        >>> enum_items("evidence", Evidence, "gps")
        Traceback (most recent call last):
        ...
        zhiyuan.errors.InvalidValue: evidence: 'gps': 需要一组值（列表或集合） / need a collection (a list or a set)
    """
    return tuple(to_enum(field, kind, v) for v in items(field, value))


def enum_set(field: str, kind: type[E], value: object) -> frozenset[E]:
    """:func:`enum_items` as a set.

    Example:
        >>> from zhiyuan.hours import Evidence
        >>> sorted(e.value for e in enum_set("evidence", Evidence, ["gps", Evidence.QR_SCAN]))
        ['gps', 'qr_scan']
    """
    return frozenset(enum_items(field, kind, value))


def mapping(field: str, value: object) -> Mapping[Any, Any]:
    """``value`` if it is a mapping (a dict, or a TOML table), else an error naming ``field``."""
    if not isinstance(value, Mapping):
        raise InvalidValue(
            field,
            value,
            "需要映射（键到值）/ need a mapping (a dict, or a TOML table)",
            shown=show(value),
        )
    return value


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
    in_years(field, at)
    return to_shanghai(at)


def bounded(low: int, high: int, what: str) -> Callable[[object, attrs.Attribute[Any], Any], None]:
    """A validator: an ``int`` (not a bool) from ``low`` to ``high``; ``None`` passes only for an
    optional field (one whose default is ``None``). Every day, year, month, minute and count
    field of a policy is bounded, so that no later computation can overflow (a date
    ``+ timedelta(days=…)``, a product of caps).

    Example:
        >>> import attrs
        >>> @attrs.frozen
        ... class P:
        ...     notice_days: int = attrs.field(validator=bounded(0, DAYS, "days"))
        >>> P(3_000_000)
        Traceback (most recent call last):
        ...
        zhiyuan.errors.InvalidValue: notice_days: 3000000: 应为 0 到 36500 的整数（days） / a whole number of days, 0 to 36500
    """

    def check(_: object, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is None and attribute.default is None:  # an optional field
            return
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise InvalidValue(
                attribute.name,
                value,
                f"应为 {low} 到 {high} 的整数（{what}） / a whole number of {what}, {low} to {high}",
            )

    return check


DAYS = 36_500
"""The most days any policy period may have (a century)."""
YEARS = 100
"""The most years any policy period may have."""
MONTHS = 1_200
"""The most months any policy period may have."""
MINUTES = 525_600
"""The most minutes any duration or cap may have (a year)."""
COUNT = 1_000_000_000
"""The largest count, cap, weight or amount of points a policy may name."""


T = TypeVar("T")


def items(field: str, value: object) -> tuple[Any, ...]:
    """The items of a collection argument, as a tuple: a list, tuple, set or other iterable, but
    not a string, bytes or a mapping (whose iteration would silently give characters or keys).

    Example:
        >>> items("skills", ["急救", "助老"])
        ('急救', '助老')
        >>> items("skills", None)
        Traceback (most recent call last):
        ...
        zhiyuan.errors.InvalidValue: skills: None: 需要一组值（列表或集合） / need a collection (a list or a set)
    """
    if isinstance(value, str | bytes | bytearray | Mapping) or not isinstance(value, Iterable):
        raise InvalidValue(
            field, value, "需要一组值（列表或集合） / need a collection (a list or a set)"
        )
    return tuple(value)


def names(field: str, value: object) -> frozenset[str] | None:
    """``None`` (no restriction) or a collection of non-empty names, such as categories; a
    single string is refused (it would be read as a set of its characters, or as one name, by
    mistake)."""
    if value is None:
        return None
    out = items(field, value)
    for v in out:
        if not isinstance(v, str) or not v.strip():
            raise InvalidValue(field, v, "需要非空文字 / need non-empty text")
        text(field, v)
    return frozenset(out)


def items_of(field: str, kind: type[T], value: object) -> tuple[T, ...]:
    """The items of a collection argument (see :func:`items`), each a ``kind``."""
    out = items(field, value)
    for x in out:
        if not isinstance(x, kind):
            raise InvalidValue(field, x, f"需要 {kind.__name__} / need {kind.__name__} values")
    return out


def is_a(kind: type) -> Callable[[object, attrs.Attribute[Any], Any], None]:
    """A validator: an instance of ``kind`` (``None`` only for an optional field)."""

    def check(_: object, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is None and attribute.default is None:
            return
        if not isinstance(value, kind):
            raise InvalidValue(
                attribute.name, value, f"需要 {kind.__name__} / need a {kind.__name__}"
            )

    return check


# --- function arguments --------------------------------------------------------------------------
# The attrs validators above check fields; these check a method's arguments and return them.


def key(field: str, value: object) -> str:
    """An id argument: non-blank text that can be written as UTF-8.

    Example:
        >>> key("volunteer_id", "v1")
        'v1'
        >>> key("volunteer_id", ["v1"])
        Traceback (most recent call last):
        ...
        zhiyuan.errors.InvalidValue: volunteer_id: ['v1']: 需要非空文本 / need non-empty text
    """
    if not isinstance(value, str) or not value.strip():
        raise InvalidValue(field, value, "需要非空文本 / need non-empty text")
    return text(field, value)


def flag(field: str, value: object) -> bool:
    """A ``True``/``False`` argument (:func:`is_bool` for an argument rather than a field)."""
    if not isinstance(value, bool):
        raise InvalidValue(field, value, "需要布尔值 / need true or false")
    return value


def day_arg(field: str, value: object) -> date:
    """A date argument (not a datetime), in :data:`MIN_YEAR`–:data:`MAX_YEAR`.

    Example:
        >>> day_arg("day", date(2025, 3, 1))
        datetime.date(2025, 3, 1)
        >>> day_arg("day", "2025-03-01")
        Traceback (most recent call last):
        ...
        zhiyuan.errors.InvalidValue: day: '2025-03-01': 需要日期 / need a date (not a datetime)
    """
    if isinstance(value, datetime) or not isinstance(value, date):
        raise InvalidValue(field, value, "需要日期 / need a date (not a datetime)")
    in_years(field, value)
    return value


def arg_of(field: str, kind: type[T], value: object) -> T:
    """An argument that must be a ``kind`` (a tree, a ledger, a book)."""
    if not isinstance(value, kind):
        raise InvalidValue(field, value, f"需要 {kind.__name__} / need a {kind.__name__}")
    return value
