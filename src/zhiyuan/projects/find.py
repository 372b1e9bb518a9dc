"""Finding activities (找活动): the shifts a volunteer can still sign up for, by region, distance,
category and time, nearest first, each with the reasons it matched.

:meth:`ProjectBook.find <zhiyuan.projects.ProjectBook.find>` searches the book's state with
:func:`search`; this module holds the search and its result, :class:`Opening`.

References:
    上善莱西 (seed 003): volunteers find activities near them (找活动) in the mini-program.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

import attrs

from zhiyuan._validators import COUNT, bounded, is_a, items_of, non_empty
from zhiyuan.explain import Finding, finding, register_messages
from zhiyuan.hierarchy.tree import RegionTree
from zhiyuan.hours.records import GeoFix
from zhiyuan.matching.dispatch import distance_m
from zhiyuan.projects.entries import ActivityStatus, ProjectStatus
from zhiyuan.projects.values import Activity, Shift

__all__ = ["Opening", "search"]

register_messages(
    {
        ("projects.find.region", ""): (
            ("region", "name"),
            "在 {name}（{region}）辖区内",
            "within {name} ({region})",
        ),
        ("projects.find.near", ""): (
            ("distance", "point"),
            "距签到点 {point} {distance} 米",
            "{distance} m from sign-in point {point}",
        ),
        ("projects.find.within", ""): (
            ("distance", "point", "within"),
            "距签到点 {point} {distance} 米，在 {within} 米内",
            "{distance} m from sign-in point {point}, within {within} m",
        ),
        ("projects.find.category", ""): (
            ("category",),
            "类别为「{category}」",
            "of category {category}",
        ),
        ("projects.find.window", ""): (
            ("start", "end"),
            "班次 {start} 至 {end}，在所选时段内",
            "the shift, {start} to {end}, is inside the window",
        ),
        ("projects.find.open", ""): (
            ("open", "places"),
            "尚余 {open} 个名额（共 {places} 个）",
            "{open} of {places} places open",
        ),
    }
)


def _why(value: object) -> tuple[Finding, ...]:
    return items_of("why", Finding, value)


def _optional_id(_: object, attribute: attrs.Attribute[str | None], value: str | None) -> None:
    if value is not None:
        non_empty(_, attribute, value)


def _when(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M")


@attrs.frozen(kw_only=True)
class Opening:
    """One shift a search found, and why it matched (找活动的结果).

    Attributes:
        activity: the activity.
        shift: the shift.
        open_places: places free now (0 when full, or when someone waits).
        distance_m: metres from the search point to the nearest sign-in point with a place
            (``None`` without a search point, or when no point has a place).
        point_id: that sign-in point.
        why: one finding per criterion met, and the places open.

    Example:
        >>> from datetime import datetime
        >>> from zhiyuan import SHANGHAI
        >>> from zhiyuan.projects import Activity, Shift, SignInPoint
        >>> t = lambda h: datetime(2025, 5, 10, h, tzinfo=SHANGHAI)
        >>> s = Shift(id="am", start=t(9), end=t(11), places=5)
        >>> a = Activity(id="a1", project_id="p1", name="海滩清洁", region_code="370202001001",
        ...              category="环保", shifts=[s], points=[SignInPoint(id="g", code="204816")])
        >>> print(Opening(activity=a, shift=s, open_places=2,
        ...               why=(finding("projects.find.open", (2, 5)),)).explain())
        海滩清洁 (a1/am) 2025-05-10 09:00–11:00
          [projects.find.open] 尚余 2 个名额（共 5 个） / 2 of 5 places open
    """

    activity: Activity = attrs.field(validator=is_a(Activity))
    shift: Shift = attrs.field(validator=is_a(Shift))
    open_places: int = attrs.field(validator=bounded(0, COUNT, "places"))
    distance_m: int | None = attrs.field(default=None, validator=bounded(0, 40_100_000, "metres"))
    point_id: str | None = attrs.field(default=None, validator=_optional_id)
    why: tuple[Finding, ...] = attrs.field(default=(), converter=_why)

    def explain(self) -> str:
        """A heading (the activity, the shift and its times), then one line per reason."""
        a, s = self.activity, self.shift
        head = f"{a.name} ({a.id}/{s.id}) {_when(s.start)}–{s.end.strftime('%H:%M')}"
        return "\n".join([head, *(f"  {f}" for f in self.why)])

    def __str__(self) -> str:
        return self.explain()


def free_places(shift: Shift, held: int, waiting: int) -> int:
    """Places a new sign-up could take: none while anyone waits, else those not held."""
    return 0 if waiting else max(shift.places - held, 0)


def search(
    activities: Iterable[ActivityStatus],
    project: Callable[[str], ProjectStatus],
    taken: Callable[[str, str], tuple[int, int]],
    *,
    tree: RegionTree | None,
    region: str | None,
    near: GeoFix | None,
    within_m: int | None,
    categories: frozenset[str] | None,
    start: datetime | None,
    end: datetime | None,
    open_only: bool,
    now: datetime,
) -> list[Opening]:
    """The shifts of ``activities`` that meet every criterion given (arguments already checked),
    nearest first, then by start: ``region`` (within its subtree, by ``tree``), ``near`` and
    ``within_m`` (metres to the nearest sign-in point with a place), ``categories``, a window
    ``start``–``end`` holding the whole shift, and, with ``open_only``, a shift not started at
    ``now`` of an open project and an activity not cancelled, with a free place. ``project``
    gives a project's status; ``taken`` a shift's places held and people waiting."""
    out: list[tuple[tuple[object, ...], Opening]] = []
    for st in activities:
        a = st.activity
        if open_only and (st.cancelled is not None or project(a.project_id).closed is not None):
            continue
        reasons: list[Finding] = []
        if region is not None:
            assert tree is not None
            if not tree.is_within(a.region_code, region):
                continue
            reasons.append(finding("projects.find.region", (region, tree[region].name)))
        if categories is not None:
            if a.category not in categories:
                continue
            reasons.append(finding("projects.find.category", (a.category,)))
        dist: int | None = None
        point: str | None = None
        if near is not None:
            for p in a.points:
                if p.place is not None:
                    d = distance_m(near, p.place)
                    if dist is None or d < dist:
                        dist, point = d, p.id
            if within_m is not None and (dist is None or dist > within_m):
                continue
            if dist is not None and point is not None:
                if within_m is None:
                    reasons.append(finding("projects.find.near", (dist, point)))
                else:
                    reasons.append(finding("projects.find.within", (dist, point, within_m)))
        for s in a.shifts:
            if (start is not None and s.start < start) or (end is not None and s.end > end):
                continue
            held, waiting = taken(a.id, s.id)
            free = free_places(s, held, waiting)
            if open_only and (free == 0 or s.start <= now):
                continue
            why = list(reasons)
            if start is not None or end is not None:
                why.append(finding("projects.find.window", (_when(s.start), _when(s.end))))
            why.append(finding("projects.find.open", (free, s.places)))
            order = (dist is None, dist or 0, s.start, a.id, s.id)
            out.append(
                (
                    order,
                    Opening(
                        activity=a,
                        shift=s,
                        open_places=free,
                        distance_m=dist,
                        point_id=point,
                        why=tuple(why),
                    ),
                )
            )
    out.sort(key=lambda pair: pair[0])
    return [o for _, o in out]
