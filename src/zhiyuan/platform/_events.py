"""What happened on a platform, told to the embedder's hooks after it is recorded."""

from __future__ import annotations

import enum
import logging
import threading
from collections import deque
from collections.abc import Callable, Iterable
from datetime import datetime

import attrs

from zhiyuan._validators import (
    COUNT,
    aware,
    bounded,
    is_a,
    items,
    non_empty,
    to_enum,
    to_shanghai,
)
from zhiyuan.errors import InvalidValue, show

__all__ = ["Event", "EventKind", "Hook", "HookFailure"]

log = logging.getLogger("zhiyuan.platform")


class EventKind(enum.StrEnum):
    """The kinds of :class:`Event` a platform tells its hooks about."""

    REGISTERED = "volunteer.registered"
    """A volunteer was registered (and became a dispatch candidate)."""
    HOURS_POSTED = "hours.posted"
    """A service record was posted (its outcome is in the hour ledger)."""
    HOURS_CERTIFIED = "hours.certified"
    """A record was certified (it counts once its public notice, if any, is over)."""
    HOURS_REJECTED = "hours.rejected"
    """A record was rejected."""
    HOURS_REVERSED = "hours.reversed"
    """A record was reversed (冲销)."""
    POINTS_EARNED = "points.earned"
    """Certified hours became points (``amount``: the points)."""
    POINTS_REVERSED = "points.reversed"
    """The points of undone hours were taken back (``amount``: the points earned)."""
    POINTS_EXPIRING = "points.expiring"
    """A volunteer's points expire soon (``amount``: how many; see
    :meth:`~zhiyuan.platform.Platform.notify_expiring`)."""
    TIME_BANKED = "time.banked"
    """Certified hours were banked in the time bank (``amount``: minutes)."""
    TIME_NOT_BANKED = "time.not_banked"
    """Certified hours could not be banked (a cap of the time bank; ``detail`` says which)."""
    TIME_REVERSED = "time.reversed"
    """The time-bank deposit of undone hours was taken back (``amount``: minutes)."""
    STAR_ELIGIBLE = "star.eligible"
    """Certified hours rate the volunteer above the level held (``amount``: the level)."""
    STAR_REVIEW = "star.review"
    """Reversed hours leave a granted star unearned: flagged for review (``amount``: the
    level the remaining hours rate)."""
    STAR_REVOKED = "star.revoked"
    """Reversed hours leave a granted star unearned: revoked, as the scheme says."""
    NEED_POSTED = "need.posted"
    """A need was posted (点单)."""
    NEED_DISPATCHED = "need.dispatched"
    """A need was offered to a candidate (派单; ``subject`` is the candidate)."""
    NEED_TAKEN = "need.taken"
    """A candidate took a place of a need without an offer (抢单; ``subject`` is the
    candidate)."""
    SIGNUP_CREATED = "signup.created"
    """A volunteer signed up for a shift (报名; ``subject`` is the volunteer, ``ref`` the
    sign-up, ``detail`` its state: ``pending``, ``accepted`` or ``waitlisted``)."""
    SIGNUP_ACCEPTED = "signup.accepted"
    """A sign-up was accepted (录用)."""
    SIGNUP_PROMOTED = "signup.promoted"
    """The first on a waiting list took a place that freed (递补): tell them."""
    NEED_COMPLETED = "need.completed"
    """A need was completed (its hour records are posted)."""
    NEED_REWARDED = "need.rewarded"
    """A candidate was rewarded for a need (奖单; ``amount``: the points)."""


def _event_kind(value: object) -> EventKind:
    return to_enum("kind", EventKind, value)


@attrs.frozen(kw_only=True)
class Event:
    """One thing that happened, told to hooks after its operation was recorded.

    Attributes:
        kind: what happened.
        at: when it was recorded (the platform clock's now).
        subject: whom it concerns: a volunteer id (or a candidate's, for a dispatch).
        ref: what it concerns: a record id, a posting id, a need id.
        amount: the number that goes with it (points, minutes, a star level), if any.
        detail: a short bilingual note, if any.
    """

    kind: EventKind = attrs.field(converter=_event_kind)
    at: datetime = attrs.field(converter=to_shanghai, validator=aware)
    subject: str = attrs.field(validator=non_empty)
    ref: str = attrs.field(validator=non_empty)
    amount: int | None = attrs.field(default=None, validator=bounded(-COUNT, COUNT, "units"))
    detail: str = attrs.field(default="", validator=is_a(str))


Hook = Callable[[Event], object]
"""A hook: called with each :class:`Event` of the kinds it subscribed to."""


@attrs.frozen(kw_only=True)
class HookFailure:
    """A hook that raised: the event it was given and what it raised. The operation stands."""

    event: Event = attrs.field(validator=is_a(Event))
    hook: str = attrs.field(validator=non_empty)
    error: str = attrs.field(validator=is_a(str))


class Hooks:
    """The subscribed hooks, and delivery that never fails an operation (internal)."""

    def __init__(self, keep_failures: int = 1000) -> None:
        self._subs: list[tuple[Hook, frozenset[EventKind] | None]] = []
        self._lock = threading.Lock()
        self.failures: deque[HookFailure] = deque(maxlen=keep_failures)

    def subscribe(self, hook: Hook, kinds: Iterable[EventKind | str] | None = None) -> None:
        if not callable(hook):
            raise InvalidValue("hook", hook, "需要可调用对象 / need a callable", shown=show(hook))
        wanted = None
        if kinds is not None:
            wanted = frozenset(_kind(k) for k in items("kinds", kinds))
        with self._lock:
            self._subs.append((hook, wanted))

    def unsubscribe(self, hook: Hook) -> None:
        with self._lock:
            self._subs = [(h, k) for h, k in self._subs if h is not hook]

    def __bool__(self) -> bool:
        return bool(self._subs)

    def deliver(self, events: Iterable[Event]) -> None:
        with self._lock:
            subs = list(self._subs)
        for event in events:
            for hook, kinds in subs:
                if kinds is not None and event.kind not in kinds:
                    continue
                try:
                    hook(event)
                except Exception as exc:  # a hook never fails the operation it reports
                    name = getattr(hook, "__qualname__", None) or repr(hook)
                    self.failures.append(
                        HookFailure(event=event, hook=name, error=f"{type(exc).__name__}: {exc}")
                    )
                    log.warning("hook %s failed on %s %s: %s", name, event.kind, event.ref, exc)


def _kind(value: object) -> EventKind:
    return to_enum("kinds", EventKind, value)
