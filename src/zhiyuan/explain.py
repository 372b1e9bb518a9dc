"""Explanations as data: findings that name a rule, carry its numbers, and read in two languages.

Every outcome in zhiyuan (a record's counted minutes, a star rating, a dispatch) explains itself
with :class:`Finding` values. A finding stores only its rule id, a variant and its values; the
text comes from the message catalog :data:`MESSAGES`, so a million outcomes share one copy of
each message, and a local rule adds its own with :func:`register_messages`.

Example:
    >>> register_messages({("demo.cap", ""): (("cap",), "最多 {cap} 分钟", "at most {cap} min")})
    >>> f = finding("demo.cap", (120,))
    >>> str(f), f.numbers
    ('[demo.cap] 最多 120 分钟 / at most 120 min', {'cap': 120})
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

import attrs

__all__ = ["MESSAGES", "Finding", "finding", "register_messages"]

MessageSpec = tuple[tuple[str, ...], str, str]

MESSAGES: dict[tuple[str, str], MessageSpec] = {}
"""The message catalog: ``(rule, variant)`` → (value names, Chinese template, English template).

Templates use :meth:`str.format` with the value names."""


def register_messages(specs: Mapping[tuple[str, str], MessageSpec]) -> None:
    """Add messages to the catalog (a rule id may not change its value names once registered)."""
    for key, spec in specs.items():
        old = MESSAGES.get(key)
        if old is not None and old[0] != spec[0]:
            from zhiyuan.errors import Conflict

            raise Conflict(f"message {key!r} is registered with other value names / 消息已注册")
        MESSAGES[key] = spec


@attrs.frozen
class Finding:
    """One rule that changed, limited or rejected something: rule id, variant, values, text.

    Example:
        >>> f = Finding("hours.record_cap", (220, 120))
        >>> f.numbers
        {'before': 220, 'cap': 120}
        >>> print(f)
        [hours.record_cap] 单次活动最多计 120 分钟，220 分钟核减为 120 分钟 / at most 120 min count per activity; 220 min cut to 120
    """

    rule: str
    values: tuple[int | str, ...] = ()
    variant: str = ""

    def _fields(self) -> dict[str, int | str]:
        spec = MESSAGES.get((self.rule, self.variant))
        keys = spec[0] if spec else tuple(f"v{i}" for i in range(len(self.values)))
        return dict(zip(keys, self.values, strict=False))

    @property
    def numbers(self) -> dict[str, int]:
        """The integer values by name (minutes, days, caps, levels)."""
        return {k: v for k, v in self._fields().items() if isinstance(v, int)}

    @property
    def zh(self) -> str:
        """The Chinese message."""
        spec = MESSAGES.get((self.rule, self.variant))
        return spec[1].format(**self._fields()) if spec else f"{self.rule} {self.values}"

    @property
    def en(self) -> str:
        """The English message."""
        spec = MESSAGES.get((self.rule, self.variant))
        return spec[2].format(**self._fields()) if spec else f"{self.rule} {self.values}"

    def __str__(self) -> str:
        return f"[{self.rule}] {self.zh} / {self.en}"


@functools.lru_cache(maxsize=8192)
def finding(rule: str, values: tuple[int | str, ...] = (), variant: str = "") -> Finding:
    """A :class:`Finding`, shared when equal (findings are values; sharing keeps outcomes small)."""
    return Finding(rule, values, variant)
