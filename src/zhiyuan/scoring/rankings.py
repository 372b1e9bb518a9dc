"""Rankings and activity: top volunteers and teams, and who counts as an active volunteer.

Rankings order by certified minutes, most first, with ties broken by id so that the same
history always gives the same list; tied entries share a rank (competition ranking, 1-2-2-4).
An :class:`ActivityRule` says who is an active volunteer (活跃志愿者): at least so many certified
minutes in the months before a date.

Example:
    >>> from datetime import datetime
    >>> from zhiyuan import SHANGHAI
    >>> from zhiyuan.hours import HourRow, Evidence, Purpose
    >>> d = datetime(2025, 3, 1).date()
    >>> rows = [HourRow(v, d, m, m, Evidence.QR_SCAN, "助老", frozenset({Purpose.STARS}),
    ...                 "370602001001", t) for v, m, t in
    ...         [("v1", 120, "t1"), ("v2", 300, "t1"), ("v3", 120, "t2")]]
    >>> [str(e) for e in rank(rows, 3)]
    ['1. v2 300 min', '2. v1 120 min', '2. v3 120 min']
    >>> [str(e) for e in rank(rows, 2, key="team")]
    ['1. t1 420 min', '2. t2 120 min']
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Literal

import attrs
from dateutil.relativedelta import relativedelta

from zhiyuan._validators import SHANGHAI, non_negative, positive
from zhiyuan.errors import InvalidValue
from zhiyuan.hierarchy.tree import RegionTree
from zhiyuan.hours.ledger import HourLedger, HourRow

__all__ = [
    "ActivityRule",
    "RankEntry",
    "active_counts_by_region",
    "active_volunteers",
    "rank",
    "top_teams",
    "top_volunteers",
]


@attrs.frozen(kw_only=True)
class RankEntry:
    """One place in a ranking."""

    rank: int
    id: str
    minutes: int

    def __str__(self) -> str:
        return f"{self.rank}. {self.id} {self.minutes:,} min"


def rank(
    rows: Iterable[HourRow],
    n: int,
    *,
    key: Literal["volunteer", "team"] = "volunteer",
    tree: RegionTree | None = None,
    within: object | None = None,
    period: tuple[date, date] | None = None,
) -> list[RankEntry]:
    """The top ``n`` volunteers (or teams) by minutes in ``rows``, ties by id.

    ``within`` (with ``tree``) keeps rows whose service took place in that subtree; ``period`` is
    ``(first day, day after the last)`` by service date. Rows without a team are left out of a
    team ranking. Ties at the cut-off are broken by id, so exactly ``n`` entries come back when
    there are that many.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise InvalidValue("n", n, "需要非负整数 / need a whole number ≥ 0")
    if within is not None and tree is None:
        raise InvalidValue("tree", None, "按区域筛选需要区划树 / `within` needs the tree")
    totals: dict[str, int] = {}
    for row in rows:
        if period is not None and not period[0] <= row.service_date < period[1]:
            continue
        if within is not None and tree is not None and not tree.is_within(row.region_code, within):
            continue
        ident = row.volunteer_id if key == "volunteer" else row.team_id
        if ident is None:
            continue
        totals[ident] = totals.get(ident, 0) + row.minutes
    ordered = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
    out: list[RankEntry] = []
    for i, (ident, minutes) in enumerate(ordered):
        place = out[-1].rank if out and out[-1].minutes == minutes else i + 1
        out.append(RankEntry(rank=place, id=ident, minutes=minutes))
    return out


def top_volunteers(
    ledger: HourLedger,
    n: int,
    *,
    within: object | None = None,
    period: tuple[date, date] | None = None,
    as_of: datetime | None = None,
) -> list[RankEntry]:
    """The ``n`` volunteers with the most certified minutes (served within a subtree, a period)."""
    return rank(ledger.rows(as_of=as_of), n, tree=ledger.tree, within=within, period=period)


def top_teams(
    ledger: HourLedger,
    n: int,
    *,
    within: object | None = None,
    period: tuple[date, date] | None = None,
    as_of: datetime | None = None,
) -> list[RankEntry]:
    """The ``n`` teams whose members served the most certified minutes (by ``team_id``)."""
    rows = ledger.rows(as_of=as_of)
    return rank(rows, n, key="team", tree=ledger.tree, within=within, period=period)


@attrs.frozen(kw_only=True)
class ActivityRule:
    """Who is an active volunteer (活跃志愿者): ``min_minutes`` certified in the last ``months``.

    No national text defines the term; the default (one hour in twelve months) is the plain
    reading of 一年内参加过志愿服务 and is meant to be set by each city.
    """

    min_minutes: int = attrs.field(default=60, validator=non_negative)
    months: int = attrs.field(default=12, validator=positive)

    def window(self, as_of: date) -> tuple[date, date]:
        """``(first day, day after the last)`` of the counted service dates."""
        return as_of - relativedelta(months=self.months) + relativedelta(
            days=1
        ), as_of + relativedelta(days=1)


def active_volunteers(ledger: HourLedger, rule: ActivityRule, *, as_of: datetime) -> set[str]:
    """Ids of the volunteers active on ``as_of`` under ``rule``."""
    if as_of.tzinfo is None or as_of.utcoffset() is None:
        raise InvalidValue("as_of", as_of.isoformat(), "需要带时区的时间 / need an aware datetime")
    first, stop = rule.window(as_of.astimezone(SHANGHAI).date())
    totals = ledger.minutes_by_volunteer(as_of=as_of, period=(first, stop))
    return {v for v, m in totals.items() if m >= rule.min_minutes and m > 0}


def active_counts_by_region(
    ledger: HourLedger, rule: ActivityRule, *, as_of: datetime
) -> dict[str, int]:
    """Active volunteers counted by home region, rolled up the tree."""
    active = active_volunteers(ledger, rule, as_of=as_of)
    pairs = [(ledger.volunteer(v).home_region, 1) for v in sorted(active)]
    return ledger.tree.rollup(pairs)
