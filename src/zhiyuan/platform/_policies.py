"""The policies a platform holds, each in force from its ``effective_from``."""

from __future__ import annotations

from datetime import date
from typing import Any

import attrs

from zhiyuan.credit.conversion import ConversionPolicy
from zhiyuan.credit.deeds import DeedScheme
from zhiyuan.credit.timebank_policy import TimeBankPolicy
from zhiyuan.errors import InvalidValue
from zhiyuan.hours.policy import HourPolicy
from zhiyuan.matching.dispatch import DispatchPolicy
from zhiyuan.schedule import Schedule
from zhiyuan.scoring.stars import StarScheme

__all__ = ["Policies"]


def _hours(value: Any) -> Schedule[HourPolicy]:
    return Schedule(value, kind=HourPolicy, field="hours")


def _conversion(value: Any) -> Schedule[ConversionPolicy]:
    """Conversion policies by date; none (hours earn no points) is allowed."""
    out = Schedule(value, kind=ConversionPolicy, field="conversion", empty=True)
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


def _time_bank(value: Any) -> Schedule[TimeBankPolicy]:
    return Schedule(value, kind=TimeBankPolicy, field="time_bank", empty=True)


def _stars(value: Any) -> Schedule[StarScheme]:
    return Schedule(value, kind=StarScheme, field="stars")


def _deeds(value: Any) -> Schedule[DeedScheme]:
    """Good-deed schemes by date (道德积分); none is allowed."""
    return Schedule(value, kind=DeedScheme, field="deeds", empty=True)


def _dispatch(value: Any) -> Schedule[DispatchPolicy]:
    return Schedule(value, kind=DispatchPolicy, field="dispatch")


@attrs.frozen(kw_only=True)
class Policies:
    """Every rule a :class:`~zhiyuan.platform.Platform` runs on, as data.

    Each policy kind is a :class:`~zhiyuan.schedule.Schedule` by ``effective_from``: the policy in force
    on a day is the latest one taking effect on or before it (the earliest one before that),
    and two of a kind taking effect on one day are refused. Hours are
    judged by their service date; the conversion and time-bank policies follow the service date
    too, so a record's points do not depend on when it happened to be certified.

    Attributes:
        hours: hour policies (at least one; default: the national rules).
        stars: star schemes (one, or several by date; default: the national one).
        conversion: conversion policies, hours to points (default: 1 h = 1 point); empty for
            none. All keep one instrument.
        time_bank: time-bank policies; empty (default) for no time bank.
        dispatch: dispatch policies (网约 matching; one, or several by date).
        deeds: good-deed schemes (道德积分, :class:`~zhiyuan.credit.DeedScheme`): a claim is
            judged by the scheme in force on the deed's day; empty (default) for none.

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

    hours: Schedule[HourPolicy] = attrs.field(default=(HourPolicy(),), converter=_hours)
    stars: Schedule[StarScheme] = attrs.field(default=(StarScheme(),), converter=_stars)
    conversion: Schedule[ConversionPolicy] = attrs.field(
        default=(ConversionPolicy(),), converter=_conversion
    )
    time_bank: Schedule[TimeBankPolicy] = attrs.field(default=(), converter=_time_bank)
    dispatch: Schedule[DispatchPolicy] = attrs.field(
        default=(DispatchPolicy(),), converter=_dispatch
    )
    deeds: Schedule[DeedScheme] = attrs.field(default=(), converter=_deeds)

    @property
    def instrument(self) -> str:
        """What conversions earn (``points`` unless the policies say otherwise)."""
        return self.conversion[0].instrument if self.conversion else "points"

    def conversion_for(self, day: date) -> ConversionPolicy | None:
        """The conversion policy in force on ``day`` (``None``: hours earn no points)."""
        return self.conversion.on(day) if self.conversion else None

    def stars_for(self, day: date) -> StarScheme:
        """The star scheme in force on ``day``."""
        return self.stars.on(day)

    def dispatch_for(self, day: date) -> DispatchPolicy:
        """The dispatch policy in force on ``day``."""
        return self.dispatch.on(day)

    def time_bank_for(self, day: date) -> TimeBankPolicy | None:
        """The time-bank policy in force on ``day`` (``None``: no time bank)."""
        return self.time_bank.on(day) if self.time_bank else None

    def deeds_for(self, day: date) -> DeedScheme | None:
        """The good-deed scheme in force on ``day`` (``None``: none)."""
        return self.deeds.on(day) if self.deeds else None
