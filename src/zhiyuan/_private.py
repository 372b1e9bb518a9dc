"""Personal data that shows itself masked: the base of :class:`~zhiyuan.hours.IdNumber` and
:class:`~zhiyuan.hours.Phone`. The converter exports it masked unless asked to reveal it."""

from __future__ import annotations

from typing import Any, Self


class Masked:
    """A validated personal value whose ``str``, ``repr`` and default export are masked."""

    __slots__ = ()

    @classmethod
    def parse(cls, value: object, *, field: str = "value") -> Self:  # pragma: no cover - abstract
        """Validate and wrap a raw value."""
        raise NotImplementedError

    def reveal(self) -> str:  # pragma: no cover - abstract
        """The raw value."""
        raise NotImplementedError

    @property
    def masked(self) -> str:  # pragma: no cover - abstract
        """The masked form."""
        raise NotImplementedError


def is_masked_type(t: Any) -> bool:
    """True for subclasses of :class:`Masked` (a cattrs hook predicate)."""
    return isinstance(t, type) and issubclass(t, Masked)
