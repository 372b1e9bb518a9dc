"""The error hierarchy: every error zhiyuan raises on purpose derives from :class:`ZhiyuanError`.

Leaves also subclass the matching built-in (``ValueError``, ``KeyError``, ``PermissionError``), so
code that already catches those keeps working. Messages name the field and the offending value,
and give Chinese and English where a person reads them.

Example:
    >>> from zhiyuan.errors import InvalidValue, ZhiyuanError
    >>> err = InvalidValue("code", "37x", "区划代码只能包含数字 / a region code has digits only")
    >>> isinstance(err, ZhiyuanError) and isinstance(err, ValueError)
    True
    >>> str(err)
    "code: '37x': 区划代码只能包含数字 / a region code has digits only"
"""

from __future__ import annotations

__all__ = [
    "Conflict",
    "InsufficientBalance",
    "InvalidInput",
    "InvalidValue",
    "NotFound",
    "PermissionDenied",
    "UnknownRegion",
    "ZhiyuanError",
]


def show(value: object, limit: int | None = 120) -> str:
    """``repr(value)`` for a message, cut to ``limit`` characters (``None``: not cut).

    The repr of an outside value may itself fail (an int of more than 4,300 digits raises
    ``ValueError``); such a value is shown by its type, so that reporting bad input never raises.

    Example:
        >>> from zhiyuan.errors import show
        >>> show("37x"), show(10**5000), show("3" * 200, limit=10)
        ("'37x'", '<int of 16610 bits>', "'33333333…")
    """
    try:
        text = repr(value)
    except Exception:  # an outside value's repr may raise anything; the message must not
        if isinstance(value, int):
            return f"<int of {value.bit_length()} bits>"
        return f"<{type(value).__name__}>"
    return text if limit is None or len(text) <= limit else text[: limit - 1] + "…"


class ZhiyuanError(Exception):
    """Base of every error zhiyuan raises on purpose (志愿库错误)."""


class InvalidValue(ZhiyuanError, ValueError):
    """A value breaks a rule or an invariant; nothing was changed (无效值).

    Args:
        field: the name (or dotted path) of the offending field.
        value: the offending value; it is shown with ``repr`` (or, when that fails, its type) unless ``shown`` is given, so that
            personal data can be masked by the caller.
        reason: why the value is wrong, in Chinese and English.
        shown: the text to show instead of ``repr(value)``.
    """

    def __init__(self, field: str, value: object, reason: str, *, shown: str | None = None) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        self.shown = show(value, limit=None) if shown is None else shown
        super().__init__(f"{field}: {self.shown}: {reason}")

    def __reduce__(self) -> tuple[object, ...]:  # keep pickling (multiprocessing) working
        return (_rebuild_invalid_value, (self.field, self.value, self.reason, self.shown))


def _rebuild_invalid_value(field: str, value: object, reason: str, shown: str) -> InvalidValue:
    return InvalidValue(field, value, reason, shown=shown)


class InvalidInput(ZhiyuanError, ValueError):
    """Outside input (JSON, TOML, CSV rows) could not be turned into zhiyuan values (无效输入).

    Attributes:
        messages: one message per problem, each ending with the path of the bad field
            (``@ $.records[3].start``).
    """

    def __init__(self, messages: list[str]) -> None:
        self.messages = list(messages)
        super().__init__("; ".join(self.messages))

    def __reduce__(self) -> tuple[object, ...]:
        return (InvalidInput, (self.messages,))


class NotFound(ZhiyuanError, KeyError):
    """Something looked up by key does not exist (未找到)."""

    def __init__(self, what: str, key: object) -> None:
        self.what = what
        self.key = key
        super().__init__(what, key)

    def __str__(self) -> str:
        return f"{self.what} not found / 未找到: {self.key!r}"

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.what, self.key))


_NO_KEY = object()


class UnknownRegion(NotFound):
    """A region code is well formed but not in the tree (区划代码不存在).

    Example:
        >>> str(UnknownRegion("370699000000"))
        "region not found / 未找到: '370699000000'"
    """

    def __init__(self, what: object, key: object = _NO_KEY) -> None:
        # Called as UnknownRegion(code) by users, or as (what, key) when unpickled. A sentinel,
        # not None, marks the one-argument form, so a key of None survives pickling.
        if key is _NO_KEY:
            what, key = "region", what
        super().__init__(str(what), key)


class PermissionDenied(ZhiyuanError, PermissionError):
    """A principal acted outside its jurisdiction (无权操作)."""


class Conflict(ZhiyuanError, ValueError):
    """The operation clashes with what is already recorded, e.g. another entry under a used id (冲突)."""


class InsufficientBalance(Conflict):
    """Not enough spendable points, credits or stock for the operation; nothing was posted (余额不足).

    Attributes:
        account: the account (or item) that is short.
        needed: the amount asked for.
        available: the amount there is.
    """

    def __init__(self, account: str, needed: int, available: int) -> None:
        self.account = account
        self.needed = needed
        self.available = available
        super().__init__(
            f"{account}: 需要 {needed}，可用 {available} / needs {needed}, {available} available"
        )

    def __reduce__(self) -> tuple[object, ...]:
        return (InsufficientBalance, (self.account, self.needed, self.available))
