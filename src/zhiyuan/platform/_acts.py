"""The platform's record of authority: one :class:`Act` per authorized write."""

from __future__ import annotations

from datetime import datetime

import attrs

from zhiyuan._validators import aware, is_bool, non_empty, to_shanghai
from zhiyuan.convert import register_tagged_union
from zhiyuan.journal import Book
from zhiyuan.journal._ids import derive, foreign
from zhiyuan.journal._pickle import register_state_type

__all__ = ["Act", "ActBook"]


@attrs.frozen(kw_only=True)
class Act:
    """One write on a platform and the authority it was made under (授权记录).

    Recorded in the same transaction as the entries it authorized, so that the journal shows
    who did what, where, and under which right, for every write.

    Attributes:
        id: ``<action>#<target>``: an action on a target is authorized once.
        action: what was done (an :class:`~zhiyuan.hierarchy.Action` value, or ``register``,
            ``post``, ``spend``, ``settle`` … for the platform's own operations).
        by: the principal.
        region_code: where authority was needed (checked on the day of ``at``); ``None`` for
            the platform's batch work (:meth:`~zhiyuan.platform.Platform.settle`), which only
            carries out what was authorized before.
        target: what it was done to (a record, volunteer, need or posting id).
        at: when it was recorded (the platform clock's now).
        own: ``True`` when the principal acted for themself (a volunteer registering, reporting
            their own service or spending their own points), which needs no grant.
    """

    id: str = attrs.field(validator=non_empty)
    action: str = attrs.field(validator=non_empty)
    by: str = attrs.field(validator=non_empty)
    target: str = attrs.field(validator=non_empty)
    at: datetime = attrs.field(converter=to_shanghai, validator=aware)
    region_code: str | None = attrs.field(
        default=None, validator=attrs.validators.optional(non_empty)
    )
    own: bool = attrs.field(default=False, validator=is_bool)

    @staticmethod
    def id_for(action: str, target: str) -> str:
        """The id of the act doing ``action`` to ``target``."""
        return derive(foreign(action), target)


register_tagged_union(Act, {Act: "platform.act"})


class _ActsState:
    """Every act, by id, in the order recorded."""

    __slots__ = ("acts",)

    def __init__(self) -> None:
        self.acts: dict[str, Act] = {}

    def apply(self, entry: Act) -> None:
        self.acts[entry.id] = entry


register_state_type(_ActsState)


class ActBook(Book[Act, _ActsState]):
    """The platform's acts, a book on its journal (written only by the platform)."""

    kind = "acts"
    entry_type = Act

    def _new_state(self) -> _ActsState:
        return _ActsState()

    def acts(self) -> list[Act]:
        """Every act, in the order recorded."""
        with self._lock:
            return list(self._state.acts.values())

    def get(self, act_id: str) -> Act | None:
        """The act under ``act_id``, or ``None``."""
        return self._state.acts.get(act_id)
