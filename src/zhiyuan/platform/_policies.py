"""The policies a platform holds, each in force from its ``effective_from``."""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence
from datetime import date
from typing import Any, TypeVar

import attrs

from zhiyuan._validators import day_arg, items_of
from zhiyuan.credit.conversion import ConversionPolicy
from zhiyuan.credit.timebank import TimeBankPolicy
from zhiyuan.errors import InvalidValue
from zhiyuan.hours.policy import HourPolicy
from zhiyuan.matching.dispatch import DispatchPolicy
from zhiyuan.scoring.stars import StarScheme

__all__ = ["Policies"]

P = TypeVar("P", HourPolicy, ConversionPolicy, TimeBankPolicy, StarScheme, DispatchPolicy)


def _schedule(field: str, kind: type[P], value: Any) -> tuple[P, ...]:
    """Policies of one kind, ordered by ``effective_from``; two on one day are refused."""
    given = items_of(field, kind, value)
    ordered = tuple(sorted(given, key=lambda p: p.effective_from))
    for before, after in itertools.pairwise(ordered):
        if before.effective_from == after.effective_from:
            raise InvalidValue(
                field,
                after.effective_from.isoformat(),
                "两个办法同日生效 / two policies take effect on the same day",
            )
    return ordered


def _hours(value: Any) -> tuple[HourPolicy, ...]:
    out = _schedule("hours", HourPolicy, value)
    if not out:
        raise InvalidValue("hours", [], "至少一个工时规则 / need at least one hour policy")
    return out


def _conversion(value: Any) -> tuple[ConversionPolicy, ...]:
    out = _schedule("conversion", ConversionPolicy, value)
    if len({p.name for p in out}) < len(out):
        raise InvalidValue(
            "conversion",
            [p.name for p in out],
            "折算办法须各有其名 / every conversion policy needs its own name",
        )
    if len({p.instrument for p in out}) > 1:
        raise InvalidValue(
            "conversion",
            sorted({p.instrument for p in out}),
            "折算办法须记同一种积分 / every conversion policy must keep one instrument",
        )
    return out


def _time_bank(value: Any) -> tuple[TimeBankPolicy, ...]:
    return _schedule("time_bank", TimeBankPolicy, value)


def _one_or_more(field: str, kind: type[P], value: Any) -> tuple[P, ...]:
    out = _schedule(field, kind, (value,) if isinstance(value, kind) else value)
    if not out:
        raise InvalidValue(field, [], f"至少一个 / need at least one {kind.__name__}")
    return out


def _stars(value: Any) -> tuple[StarScheme, ...]:
    return _one_or_more("stars", StarScheme, value)


def _dispatch(value: Any) -> tuple[DispatchPolicy, ...]:
    return _one_or_more("dispatch", DispatchPolicy, value)


def _in_force(policies: Sequence[P], day: date) -> P:
    """The policy in force on ``day``: the latest one from on or before it, else the earliest."""
    starts = [p.effective_from for p in policies]
    return policies[max(bisect.bisect_right(starts, day) - 1, 0)]


@attrs.frozen(kw_only=True)
class Policies:
    """Every rule a :class:`~zhiyuan.platform.Platform` runs on, as data.

    Each policy kind with an ``effective_from`` is a schedule: the policy in force on a day is
    the latest one taking effect on or before it (the earliest one before that). Hours are
    judged by their service date; the conversion and time-bank policies follow the service date
    too, so a record's points do not depend on when it happened to be certified.

    Attributes:
        hours: hour policies (at least one; default: the national rules).
        stars: star schemes (one, or several by date; default: the national one).
        conversion: conversion policies, hours to points (default: 1 h = 1 point); empty for
            none. All keep one instrument.
        time_bank: time-bank policies; empty (default) for no time bank.
        dispatch: dispatch policies (网约 matching; one, or several by date).

    Example:
        >>> from datetime import date
        >>> from zhiyuan.credit import ConversionPolicy
        >>> p = Policies(conversion=[ConversionPolicy(name="old"),
        ...     ConversionPolicy(name="new", effective_from=date(2025, 1, 1), hours_per_point=2)])
        >>> p.conversion_for(date(2024, 12, 31)).name, p.conversion_for(date(2025, 3, 1)).name
        ('old', 'new')
        >>> p.time_bank_for(date(2025, 3, 1)) is None
        True
    """

    hours: tuple[HourPolicy, ...] = attrs.field(default=(HourPolicy(),), converter=_hours)
    stars: tuple[StarScheme, ...] = attrs.field(default=(StarScheme(),), converter=_stars)
    conversion: tuple[ConversionPolicy, ...] = attrs.field(
        default=(ConversionPolicy(),), converter=_conversion
    )
    time_bank: tuple[TimeBankPolicy, ...] = attrs.field(default=(), converter=_time_bank)
    dispatch: tuple[DispatchPolicy, ...] = attrs.field(
        default=(DispatchPolicy(),), converter=_dispatch
    )

    @property
    def instrument(self) -> str:
        """What conversions earn (``points`` unless the policies say otherwise)."""
        return self.conversion[0].instrument if self.conversion else "points"

    def conversion_for(self, day: date) -> ConversionPolicy | None:
        """The conversion policy in force on ``day`` (``None``: hours earn no points)."""
        return _in_force(self.conversion, day_arg("day", day)) if self.conversion else None

    def stars_for(self, day: date) -> StarScheme:
        """The star scheme in force on ``day``."""
        return _in_force(self.stars, day_arg("day", day))

    def dispatch_for(self, day: date) -> DispatchPolicy:
        """The dispatch policy in force on ``day``."""
        return _in_force(self.dispatch, day_arg("day", day))

    def time_bank_for(self, day: date) -> TimeBankPolicy | None:
        """The time-bank policy in force on ``day`` (``None``: no time bank)."""
        return _in_force(self.time_bank, day_arg("day", day)) if self.time_bank else None
