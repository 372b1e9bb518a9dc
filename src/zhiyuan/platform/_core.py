"""The platform's core: the machinery every operation of :class:`~zhiyuan.platform.Platform`
shares (one transaction per operation, authority checks, acts, events and hooks), and the books
and rules the operations read.

The platform's operations live in parts, each a mixin on this core, so that one file holds one
set of flows: volunteers, hours, points, stars and consistency in ``_platform``, the need
lifecycle in ``_needs``, projects and sign-up in ``_projects``, good deeds and site points in
``_deeds``.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import TypeVar

from zhiyuan._validators import key
from zhiyuan.credit.accounts import issuer_account
from zhiyuan.credit.ledger import PointsLedger
from zhiyuan.errors import PermissionDenied
from zhiyuan.hierarchy.jurisdiction import Jurisdiction
from zhiyuan.hierarchy.tree import RegionTree
from zhiyuan.hierarchy.units import Registry
from zhiyuan.hours.ledger import HourLedger
from zhiyuan.hours.policy import Outcome
from zhiyuan.hours.records import ServiceRecord
from zhiyuan.journal import Journal, Transaction
from zhiyuan.platform._acts import Act, ActBook
from zhiyuan.platform._events import Event, EventKind, Hook, HookFailure, Hooks
from zhiyuan.platform._policies import Policies

__all__ = ["PlatformCore"]

T = TypeVar("T")


class PlatformCore:
    """What every part of the platform shares; see :class:`~zhiyuan.platform.Platform`."""

    registry: Registry
    tree: RegionTree
    policies: Policies
    journal: Journal
    jurisdiction: Jurisdiction
    hours: HourLedger
    points: PointsLedger
    acts: ActBook
    _hooks: Hooks
    _boxes: dict[Transaction, list[Event]]
    _box: list[Event]

    def _issuer(self, now: datetime) -> str:
        """The account points come from today: the conversion policy's issuer."""
        p = self.policies.conversion_for(now.date())
        return p.issuer if p is not None else issuer_account("platform")

    def _post_record(
        self, tx: Transaction, now: datetime, record: ServiceRecord, by: str
    ) -> Outcome:
        """Post a service record through the hour chain (points, time bank, stars follow as
        the policies say); supplied by the platform."""
        raise NotImplementedError

    # --- hooks --------------------------------------------------------------------------------

    def subscribe(self, hook: Hook, kinds: Iterable[EventKind | str] | None = None) -> None:
        """Call ``hook(event)`` for every :class:`Event` (of ``kinds``, if given) after the
        operation that made it is recorded. A hook that raises never undoes or fails the
        operation: it is logged (logger ``zhiyuan.platform``) and kept in :attr:`hook_failures`.
        """
        self._hooks.subscribe(hook, kinds)

    def unsubscribe(self, hook: Hook) -> None:
        """Stop calling ``hook``."""
        self._hooks.unsubscribe(hook)

    @property
    def hook_failures(self) -> list[HookFailure]:
        """The latest hook failures (at most 1,000), oldest first."""
        return list(self._hooks.failures)

    def _emit(
        self,
        kind: EventKind,
        at: datetime,
        subject: str,
        ref: str,
        amount: int | None = None,
        detail: str = "",
    ) -> None:
        if self._hooks:
            self._box.append(
                Event(kind=kind, at=at, subject=subject, ref=ref, amount=amount, detail=detail)
            )

    # --- operations: the machinery ------------------------------------------------------------

    @contextlib.contextmanager
    def _op(self) -> Iterator[tuple[Transaction, datetime]]:
        """One operation: a journal transaction (joining an open one, the platform's or the
        journal's), its moment, and its events, told to the hooks once the transaction that
        writes them is recorded (and never if it is undone)."""
        j = self.journal
        with j.transaction() as tx:
            box = self._boxes.get(tx)
            if box is None:
                box = self._boxes[tx] = []
                tx.when_done(functools.partial(self._done, tx))
            self._box = box
            mark = len(box)
            try:
                yield tx, j.now()
            except BaseException:
                del box[mark:]
                raise

    def _done(self, tx: Transaction, recorded: bool) -> None:
        events = self._boxes.pop(tx, [])
        if recorded and events:
            self._hooks.deliver(events)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Several operations as one: all of their entries are recorded, or none; hooks hear of
        them once it ends.

        Example:
            >>> from zhiyuan.hierarchy import Registry, load_default
            >>> from zhiyuan.platform import Platform
            >>> city = Platform(Registry(load_default()))
            >>> with city.transaction():
            ...     pass
        """
        with self._op():
            yield

    def _allow(
        self,
        name: str,
        by: object,
        code: object,
        now: datetime,
        target: str,
        action: str | None,
    ) -> Act:
        """The act of ``by`` doing ``name`` to ``target``: checked against the jurisdiction on
        the day of ``now`` when ``action`` is given (``None``: acting for oneself)."""
        who = key("by", by)
        region = self.tree[code].code
        if action is not None:
            self.jurisdiction.check(who, action, region, on=now.date())
        return Act(
            id=Act.id_for(name, target),
            action=name,
            by=who,
            region_code=region,
            target=target,
            at=now,
            own=action is None,
        )

    def _did(self, tx: Transaction, act: Act, write: Callable[[], T]) -> tuple[T, bool]:
        """Run a book's ``write`` and record ``act`` with it if it recorded anything (a repeat
        of a recorded operation is a no-op, and so is its act); returns what ``write``
        returned and whether it recorded anything."""
        before = len(tx)
        out = write()
        new = len(tx) > before
        if new:
            self._act(tx, act)
        return out, new

    def _position(self, tx: Transaction) -> str:
        """The journal position the next staged entry will take: a step that makes the ids of
        repeated platform work (corrections, lapses, batch acts) unique, even when the clock
        stands still."""
        return str(self.journal._seq + len(tx) + 1)

    def _act(self, tx: Transaction, act: Act) -> None:
        """Record ``act`` unless the same action on the same target was authorized before."""
        if self.journal.find(self.acts.name, act.id) is None:
            tx.add(self.acts, [act])

    @staticmethod
    def _not_own(by: object, volunteer_id: str, what: str) -> None:
        if by == volunteer_id:
            verb, thing, thing_en = _WHAT[what]
            raise PermissionDenied(
                f"不能{verb}本人的{thing} / nobody may {what} their own {thing_en} ({volunteer_id})"
            )


_WHAT = {
    "certify": ("认证", "工时", "hours"),
    "reject": ("驳回", "工时", "hours"),
    "reverse": ("冲销", "工时", "hours"),
    "decide": ("审批", "星级", "stars"),
    "adjust": ("调整", "积分", "points"),
    "reward": ("奖励", "服务", "service"),
}
