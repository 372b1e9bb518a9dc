"""Policies in force by date (按施行日期): one type for every book that judges a day by a rule.

A city changes its rules on a date: a new hour policy from 1 January, a new star scheme from the
day a notice says. Every policy class carries an ``effective_from`` date, and a
:class:`Schedule` holds the policies of one kind in order of it, refuses two that take effect on
one day, and answers which one is in force on a day. The hour ledger, the star book, the time
bank, the feedback book's priors, the credit-score bonuses, the scorecards and the platform's
:class:`~zhiyuan.platform.Policies` all look their rule up through it.

Example:
    >>> from datetime import date
    >>> from zhiyuan.hours import HourPolicy
    >>> rules = Schedule([HourPolicy(effective_from=date(2026, 1, 1), notice_days=3), HourPolicy()])
    >>> [p.notice_days for p in rules]  # in order of effective_from
    [0, 3]
    >>> rules.on(date(2026, 3, 1)).notice_days, rules.on(date(2025, 3, 1)).notice_days
    (3, 0)
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable
from datetime import date
from typing import Any, Protocol, TypeVar

from zhiyuan._validators import day_arg, items
from zhiyuan.errors import InvalidValue, NotFound

__all__ = ["Dated", "Schedule"]


class Dated(Protocol):
    """Anything with the day it takes effect (every policy class of the library).

    Example:
        >>> from zhiyuan.hours import HourPolicy
        >>> isinstance(HourPolicy().effective_from, date)
        True
    """

    @property
    def effective_from(self) -> date: ...


P = TypeVar("P", bound=Dated)


def _start(policy: Dated) -> date:
    return policy.effective_from


class Schedule(tuple[P, ...]):
    """Policies of one kind in order of ``effective_from`` (施行日期), no two on one day.

    A schedule is a tuple (it compares, iterates and indexes as one), built from one policy or
    any collection of them. The policy in force on a day is the latest one taking effect on or
    before it (:meth:`on`); a day before every policy is judged by the earliest one, since a
    city's first rule also covers what was recorded before it was written down.
    :meth:`in_force` is the strict form, ``None`` before the first.

    Args:
        policies: one policy or a collection of them (any order).
        kind: the class every item must be (checked when given).
        field: the argument's name, for errors.
        default: what an empty collection stands for; without one, empty is refused.
        empty: allow no policy at all (a role a city may leave unfilled, such as a time bank):
            :meth:`on` is then :class:`~zhiyuan.errors.NotFound` and :meth:`in_force` ``None``.

    Raises:
        InvalidValue: an item of the wrong kind, no policy at all, or two taking effect on one
            day (naming the field and the day).

    Example:
        >>> from datetime import date
        >>> from zhiyuan.scoring import StarScheme
        >>> Schedule([StarScheme(), StarScheme()], field="stars")
        Traceback (most recent call last):
        ...
        zhiyuan.errors.InvalidValue: stars: '2012-10-23': 两个办法同日生效 / two policies take effect on the same day
        >>> Schedule(StarScheme()).in_force(date(2000, 1, 1)) is None
        True
    """

    __slots__ = ()

    def __new__(
        cls,
        policies: P | Iterable[P] = (),
        *,
        kind: type[Any] | None = None,
        field: str = "policies",
        default: P | None = None,
        empty: bool = False,
    ) -> Schedule[P]:
        if isinstance(policies, cls):
            given: tuple[Any, ...] = tuple(policies)
        elif hasattr(policies, "effective_from"):  # one policy
            given = (policies,)
        else:
            given = items(field, policies)
        if not given and default is not None:
            given = (default,)
        if not given and not empty:
            raise InvalidValue(field, [], "至少需要一个办法 / need at least one policy")
        for p in given:
            if kind is not None and not isinstance(p, kind):
                raise InvalidValue(field, p, f"需要 {kind.__name__} / need {kind.__name__} values")
            if not isinstance(getattr(p, "effective_from", None), date):
                raise InvalidValue(field, p, "需要带施行日期的办法 / need dated policies")
        ordered = sorted(given, key=_start)
        for before, after in itertools.pairwise(ordered):
            if before.effective_from == after.effective_from:
                raise InvalidValue(
                    field,
                    after.effective_from.isoformat(),
                    "两个办法同日生效 / two policies take effect on the same day",
                )
        return super().__new__(cls, ordered)

    def __repr__(self) -> str:
        return f"Schedule({list(self)!r})"

    @property
    def latest(self) -> P:
        """The policy that took effect last.

        Example:
            >>> from zhiyuan.hours import HourPolicy
            >>> Schedule([HourPolicy(), HourPolicy(effective_from=date(2026, 1, 1))]).latest.effective_from
            datetime.date(2026, 1, 1)
        """
        return self[-1]

    def on(self, day: date) -> P:
        """The policy in force on ``day`` (a ``date``): the latest taking effect on or before
        it, the earliest before that.

        Example:
            >>> from zhiyuan.scoring import StarScheme
            >>> Schedule(StarScheme()).on(date(2000, 1, 1)).effective_from  # before the first
            datetime.date(2012, 10, 23)
        """
        day = day_arg("day", day)
        if len(self) == 1:
            return self[0]
        if not self:
            raise NotFound("policy in force", day.isoformat())
        return self[max(bisect.bisect_right(self, day, key=_start) - 1, 0)]

    def in_force(self, day: date) -> P | None:
        """The policy in force on ``day``, or ``None`` before the first took effect.

        Example:
            >>> from zhiyuan.scoring import StarScheme
            >>> Schedule(StarScheme()).in_force(date(2025, 1, 1)) == StarScheme()
            True
        """
        i = bisect.bisect_right(self, day_arg("day", day), key=_start) - 1
        return None if i < 0 else self[i]
