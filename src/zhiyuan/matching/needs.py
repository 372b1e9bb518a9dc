"""Needs (点单) and candidates: what residents ask for and who could serve it.

A :class:`Need` is a resident's order: where (a village or community code and optionally a GPS
point), what (a category such as the 七帮 or 五为, required skills), how many people, when (a
time window) and how urgent. A :class:`Candidate` is a volunteer or a team: home region,
location, skills (hierarchical, each with an optional expiry), availability (recurring windows
from :class:`~zhiyuan.hours.Recurrence`), capacity, current load, feedback rating and
reliability.

References:
    城阳 网约 (seed 003): 点单、派单、接单、评单、奖单; 七帮: 帮老、帮困、帮病、帮残、帮教、帮事、
    帮心; 山东 五为 (《关于深化"五为"文明实践志愿服务的实施方案》, 2022). POLICIES.md §4.

Example:
    >>> from datetime import datetime, date
    >>> from zhiyuan import SHANGHAI
    >>> s = Skill(name="医疗/护理", expires=date(2026, 1, 1))
    >>> s.satisfies("医疗"), s.satisfies("医疗/护理/老年护理"), s.valid_on(date(2026, 1, 1))
    (True, False, False)
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

import attrs

from zhiyuan._validators import (
    COUNT,
    MINUTES,
    aware,
    bounded,
    is_a,
    is_date,
    items,
    items_of,
    moment,
    non_empty,
    text,
    to_enum,
    to_shanghai,
)
from zhiyuan.errors import InvalidValue
from zhiyuan.hierarchy.codes import normalize_code
from zhiyuan.hours.records import GeoFix
from zhiyuan.hours.recurrence import Recurrence

__all__ = [
    "FIVE_FOR",
    "SEVEN_HELPS",
    "Availability",
    "Candidate",
    "CandidateKind",
    "Need",
    "Skill",
    "Slot",
    "Urgency",
]

SEVEN_HELPS: tuple[str, ...] = ("帮老", "帮困", "帮病", "帮残", "帮教", "帮事", "帮心")
"""城阳's 七帮 need categories (seed 003). Categories are open: any non-empty name works."""

FIVE_FOR: tuple[str, ...] = (
    "为老",
    "为小",
    "为困难群体",
    "为需要心理疏导和情感慰藉群体",
    "为社会公共需要",
)
"""山东's 五为 service categories (省文明委, 2022)."""


class Urgency(enum.Enum):
    """How urgent a need is (紧急程度): more urgent needs are served first.

    :func:`~zhiyuan.matching.dispatch_batch` and :func:`~zhiyuan.matching.call_up` fill the
    places of the most urgent needs first, lexicographically: an emergency place is never left
    empty to fill a normal one that the same candidate could serve (the assignment's
    priorities, :mod:`zhiyuan.matching.assignment`, "Priorities").

    Example:
        >>> Urgency.EMERGENCY.rank > Urgency.NORMAL.rank, Urgency.EMERGENCY.zh
        (True, '紧急')
    """

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    EMERGENCY = "emergency"

    @property
    def rank(self) -> int:
        """0 (low) … 3 (emergency)."""
        return _URGENCY_RANK[self]

    @property
    def zh(self) -> str:
        """The Chinese name: 不急, 普通, 加急, 紧急."""
        return _URGENCY_ZH[self]


_URGENCY_RANK = {Urgency.LOW: 0, Urgency.NORMAL: 1, Urgency.HIGH: 2, Urgency.EMERGENCY: 3}
_URGENCY_ZH = {
    Urgency.LOW: "不急",
    Urgency.NORMAL: "普通",
    Urgency.HIGH: "加急",
    Urgency.EMERGENCY: "紧急",
}


def _code(value: Any) -> str:
    return normalize_code(value, field="region_code")


def _home(value: Any) -> str:
    return normalize_code(value, field="home_region")


_TASKS = bounded(0, COUNT, "tasks")


def _skill_path(field: str, value: object) -> str:
    """A skill path: text whose ``/``-separated parts are all non-blank."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidValue(field, value, "技能须为非空文本 / a skill is non-empty text")
    if any(not part.strip() for part in value.split("/")):
        raise InvalidValue(field, value, "技能路径不能有空段 / no empty part in a skill path")
    return text(field, value)


def _skill_name(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    _skill_path(attribute.name, value)


@attrs.frozen(kw_only=True)
class Skill:
    """A skill, hierarchical by ``/`` (``医疗/护理/老年护理``), valid until ``expires`` (exclusive).

    A skill satisfies a requirement that is itself or more general: ``医疗/护理`` satisfies
    ``医疗`` but not ``医疗/护理/老年护理``.
    """

    name: str = attrs.field(validator=_skill_name)
    expires: date | None = attrs.field(default=None, validator=is_date)

    def satisfies(self, required: str) -> bool:
        """True if this skill meets ``required``."""
        return self.name == required or self.name.startswith(required + "/")

    def valid_on(self, day: date) -> bool:
        """True if not expired on ``day``."""
        return self.expires is None or day < self.expires


def _skills(value: Iterable[Any]) -> tuple[Skill, ...]:
    """Held skills: :class:`Skill` values or skill paths (one alone, or a sequence)."""
    given = [value] if isinstance(value, (str, Skill)) else items("skills", value)
    out = [v if isinstance(v, Skill) else Skill(name=_skill_path("skills", v)) for v in given]
    return tuple(sorted(out, key=lambda s: (s.name, s.expires or date.max)))


def _strs(value: Iterable[Any]) -> frozenset[str]:
    """Required skills: skill paths (one alone, or a sequence); "" or "医疗/" would match nobody."""
    given = [value] if isinstance(value, str) else items("skills", value)
    return frozenset(_skill_path("skills", v) for v in given)


def _urgency(value: Any) -> Urgency:
    return to_enum("urgency", Urgency, value)


def _kind(value: Any) -> CandidateKind:
    return to_enum("kind", CandidateKind, value)


@attrs.frozen(kw_only=True)
class Slot:
    """A recurring window of availability: each occurrence of ``recurrence`` for ``minutes``."""

    recurrence: Recurrence = attrs.field(validator=is_a(Recurrence))
    minutes: int = attrs.field(validator=bounded(1, MINUTES, "minutes"))


def _slots(value: Any) -> tuple[Slot, ...]:
    if isinstance(value, Slot):
        return (value,)
    return items_of("slots", Slot, value)


def _when(value: object, field: str) -> datetime:
    """A required aware moment (``moment`` would read the clock for ``None``)."""
    if value is None:
        raise InvalidValue(field, None, "需要带时区的时间 / need a timezone-aware datetime")
    return moment(value, field)


def _periods(value: Iterable[tuple[datetime, datetime]]) -> tuple[tuple[datetime, datetime], ...]:
    """Blocked periods as aware Asia/Shanghai pairs, each ending after it starts."""
    out = []
    for period in items("blocked", value):
        pair = items("blocked", period) if not isinstance(period, datetime) else ()
        if len(pair) != 2:
            raise InvalidValue(
                "blocked", period, "每段须为 (开始, 结束) / each period is a (start, end) pair"
            )
        start, end = _when(pair[0], "blocked.start"), _when(pair[1], "blocked.end")
        if end <= start:
            raise InvalidValue(
                "blocked.end", end.isoformat(), "结束须晚于开始 / end must be after start"
            )
        out.append((start, end))
    return tuple(out)


@attrs.frozen(kw_only=True)
class Availability:
    """When a candidate can serve: recurring slots, minus blocked periods. No slots: any time.

    Example:
        >>> from datetime import datetime
        >>> from zhiyuan import SHANGHAI
        >>> from zhiyuan.hours import Recurrence
        >>> sat = Slot(recurrence=Recurrence(rule="FREQ=WEEKLY;BYDAY=SA",
        ...            dtstart=datetime(2025, 1, 4, 9, tzinfo=SHANGHAI)), minutes=180)
        >>> a = Availability(slots=(sat,))
        >>> a.covers(datetime(2025, 3, 1, 9, 30, tzinfo=SHANGHAI), datetime(2025, 3, 1, 11, tzinfo=SHANGHAI))
        True
        >>> a.covers(datetime(2025, 3, 1, 11, tzinfo=SHANGHAI), datetime(2025, 3, 1, 13, tzinfo=SHANGHAI))
        False
    """

    slots: tuple[Slot, ...] = attrs.field(default=(), converter=_slots)
    blocked: tuple[tuple[datetime, datetime], ...] = attrs.field(default=(), converter=_periods)

    def covers(self, start: datetime, end: datetime) -> bool:
        """True if one slot occurrence holds all of ``[start, end)`` and nothing blocks it."""
        for b_start, b_end in self.blocked:
            if b_start < end and start < b_end:
                return False
        if not self.slots:
            return True
        for slot in self.slots:
            span = timedelta(minutes=slot.minutes)
            for occ in slot.recurrence.between(start - span, end):
                if occ <= start and end <= occ + span:
                    return True
        return False


class CandidateKind(enum.Enum):
    """Who is dispatched: a single volunteer or a team (志愿服务队伍)."""

    VOLUNTEER = "volunteer"
    TEAM = "team"


@attrs.frozen(kw_only=True)
class Candidate:
    """A volunteer or team that could take needs.

    ``rating_hundredths`` is the feedback score (e.g. a Bayesian average, 400 = 4.00);
    ``completed`` and ``no_shows`` give reliability. ``load`` is how many tasks it holds now,
    ``capacity`` how many it may hold at once.
    """

    id: str = attrs.field(validator=non_empty)
    kind: CandidateKind = attrs.field(default=CandidateKind.VOLUNTEER, converter=_kind)
    home_region: str = attrs.field(converter=_home)
    location: GeoFix | None = attrs.field(default=None, validator=is_a(GeoFix))
    skills: tuple[Skill, ...] = attrs.field(default=(), converter=_skills)
    availability: Availability = attrs.field(factory=Availability, validator=is_a(Availability))
    capacity: int = attrs.field(default=1, validator=bounded(1, COUNT, "tasks"))
    load: int = attrs.field(default=0, validator=_TASKS)
    rating_hundredths: int = attrs.field(
        default=400, validator=bounded(0, 500, "hundredths of a star")
    )
    completed: int = attrs.field(default=0, validator=_TASKS)
    no_shows: int = attrs.field(default=0, validator=_TASKS)

    @property
    def reliability_percent(self) -> int:
        """Share of accepted tasks that were served (100 with no history)."""
        total = self.completed + self.no_shows
        return 100 if total == 0 else self.completed * 100 // total

    def missing_skills(self, required: Iterable[str], day: date) -> list[str]:
        """The required skills this candidate lacks (or holds only expired) on ``day``."""
        return [
            r
            for r in sorted(required)
            if not any(s.satisfies(r) and s.valid_on(day) for s in self.skills)
        ]


@attrs.frozen(kw_only=True)
class Need:
    """A resident's order (点单): where, what, how many, when, how urgent."""

    id: str = attrs.field(validator=non_empty)
    requester: str = attrs.field(validator=non_empty)
    region_code: str = attrs.field(converter=_code)
    location: GeoFix | None = attrs.field(default=None, validator=is_a(GeoFix))
    category: str = attrs.field(validator=non_empty)
    skills: frozenset[str] = attrs.field(factory=frozenset, converter=_strs)
    headcount: int = attrs.field(default=1, validator=bounded(1, COUNT, "people"))
    start: datetime = attrs.field(converter=to_shanghai, validator=aware)
    end: datetime = attrs.field(converter=to_shanghai, validator=aware)
    urgency: Urgency = attrs.field(default=Urgency.NORMAL, converter=_urgency)
    posted_at: datetime = attrs.field(converter=to_shanghai, validator=aware)

    def __attrs_post_init__(self) -> None:
        if self.end <= self.start:
            raise InvalidValue(
                "end", self.end.isoformat(), "结束须晚于开始 / end must be after start"
            )
