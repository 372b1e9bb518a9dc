"""The values of projects and activities (项目、活动): what is published, when, how many places,
who may come, and where and how volunteers sign in.

A :class:`Project` (项目) is an organization's standing programme in a region; an
:class:`Activity` (活动) of a project is what volunteers sign up for: one or more :class:`Shift`
(班次) with a number of places each, the :class:`Requirements` a volunteer must meet, and the
:class:`SignInPoint` (签到点) where they sign in and out: a place with a geofence, a 6-digit
sign-in code, a QR token, or any of them together.

References:
    POLICIES.md, "Hours: what local practice adds": 志愿汇 activities are reviewed and get a
    6-digit sign-in code; GPS check-in has a tolerance of a few hundred metres (hence the default
    radius, :data:`~zhiyuan.projects.values.DEFAULT_RADIUS_M`); a top-up for a forgotten
    check-out never exceeds the activity's schedule. §2.6: i志愿 times are set to the minute, QR
    sign-in and sign-out.

Example:
    >>> from datetime import datetime
    >>> from zhiyuan import SHANGHAI
    >>> from zhiyuan.hours import GeoFix
    >>> t = lambda h: datetime(2025, 5, 10, h, tzinfo=SHANGHAI)
    >>> gate = SignInPoint(id="gate", place=GeoFix(lat=36.0671, lon=120.3826), code="204816")
    >>> a = Activity(id="a1", project_id="p1", name="栈桥海滩清洁", region_code="370202001001",
    ...              category="环保", shifts=[Shift(id="am", start=t(9), end=t(12), places=20)],
    ...              points=[gate])
    >>> a.shift("am").minutes, a.points[0].radius_m
    (180, 300)
    >>> Shift(id="pm", start=t(14), end=t(13), places=5)
    Traceback (most recent call last):
    ...
    zhiyuan.errors.InvalidValue: end: '2025-05-10T13:00:00+08:00': 结束须晚于开始 / end must be after start
    >>> SignInPoint(id="desk", code="12345")
    Traceback (most recent call last):
    ...
    zhiyuan.errors.InvalidValue: code: '12345': 签到码须为 6 位数字 / a sign-in code is 6 digits
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

import attrs

from zhiyuan._validators import (
    COUNT,
    aware,
    bounded,
    is_a,
    is_bool,
    items,
    items_of,
    names,
    non_empty,
    text,
    to_shanghai,
)
from zhiyuan.errors import InvalidValue, NotFound
from zhiyuan.explain import Finding, finding, register_messages
from zhiyuan.hierarchy.codes import normalize_code
from zhiyuan.hours.records import GeoFix
from zhiyuan.hours.volunteers import Volunteer
from zhiyuan.matching.needs import Skill

__all__ = [
    "DEFAULT_RADIUS_M",
    "Activity",
    "Project",
    "Requirements",
    "Shift",
    "SignInPoint",
]

DEFAULT_RADIUS_M = 300
"""The geofence radius of a sign-in point unless it names one, in metres: 志愿汇's GPS check-in
tolerates "a few hundred metres" (POLICIES.md, reported)."""

MAX_RADIUS_M = 100_000
"""The largest geofence radius a sign-in point may have (100 km)."""

MAX_AGE = 150
"""The largest age a requirement may name."""

register_messages(
    {
        ("projects.age_unknown", ""): (
            ("volunteer",),
            "{volunteer} 年龄未知（没有身份证号），不能核对年龄要求",
            "the age of {volunteer} is unknown (no ID number): the age requirement cannot be checked",
        ),
        ("projects.age_below", ""): (
            ("volunteer", "age", "min_age"),
            "{volunteer} 服务当日 {age} 岁，低于最低年龄 {min_age} 岁",
            "{volunteer} is {age} on the day, younger than the minimum age of {min_age}",
        ),
        ("projects.age_above", ""): (
            ("volunteer", "age", "max_age"),
            "{volunteer} 服务当日 {age} 岁，高于最高年龄 {max_age} 岁",
            "{volunteer} is {age} on the day, older than the maximum age of {max_age}",
        ),
        ("projects.skill", ""): (
            ("volunteer", "skill"),
            "{volunteer} 不具备技能「{skill}」",
            "{volunteer} lacks the skill {skill}",
        ),
        ("projects.training", ""): (
            ("volunteer", "training"),
            "{volunteer} 未完成培训「{training}」",
            "{volunteer} has not completed the training {training}",
        ),
    }
)


def _code(value: Any) -> str:
    return normalize_code(value, field="region_code")


def _any_text(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    """Text, which may be empty (a description, a reason)."""
    if not isinstance(value, str):
        raise InvalidValue(attribute.name, value, "需要文本 / need text (it may be empty)")
    text(attribute.name, value)


def _optional_name(_: object, attribute: attrs.Attribute[str | None], value: str | None) -> None:
    if value is not None:
        non_empty(_, attribute, value)


def _minutes_between(start: datetime, end: datetime) -> int:
    # elapsed time between instants (as ServiceRecord.served_minutes counts it)
    return int((end.astimezone(UTC) - start.astimezone(UTC)).total_seconds()) // 60


@attrs.frozen(kw_only=True)
class Project:
    """A project (志愿服务项目): an organization's programme in a region, under which activities
    are published (项目发布).

    ``region_code`` is any accepted code form, kept as 12 digits; ``sponsor`` optionally names
    who funds it (出资方), when that is known at publication (sponsors may also claim it later,
    see :meth:`ProjectBook.claim <zhiyuan.projects.ProjectBook.claim>`).

    Example:
        >>> p = Project(id="p1", name="蓝色海湾守护行动", organization_id="o-sn",
        ...             region_code="370202", category="环保")
        >>> p.region_code, p.sponsor
        ('370202000000', None)
    """

    id: str = attrs.field(validator=non_empty)
    name: str = attrs.field(validator=non_empty)
    organization_id: str = attrs.field(validator=non_empty)
    region_code: str = attrs.field(converter=_code)
    category: str = attrs.field(validator=non_empty)
    description: str = attrs.field(default="", validator=_any_text)
    sponsor: str | None = attrs.field(default=None, validator=_optional_name)


@attrs.frozen(kw_only=True)
class Shift:
    """One shift (班次) of an activity: from ``start`` to ``end`` (aware, kept in Asia/Shanghai),
    with ``places`` places (at least one).

    Example:
        >>> from datetime import datetime
        >>> from zhiyuan import SHANGHAI
        >>> s = Shift(id="s1", start=datetime(2025, 5, 10, 9, tzinfo=SHANGHAI),
        ...           end=datetime(2025, 5, 10, 11, 30, tzinfo=SHANGHAI), places=4)
        >>> s.minutes, s.day
        (150, datetime.date(2025, 5, 10))
    """

    id: str = attrs.field(validator=non_empty)
    start: datetime = attrs.field(converter=to_shanghai, validator=aware)
    end: datetime = attrs.field(converter=to_shanghai, validator=aware)
    places: int = attrs.field(validator=bounded(1, COUNT, "places"))

    def __attrs_post_init__(self) -> None:
        if self.end <= self.start:
            raise InvalidValue(
                "end", self.end.isoformat(), "结束须晚于开始 / end must be after start"
            )

    @property
    def minutes(self) -> int:
        """The scheduled duration in whole minutes."""
        return _minutes_between(self.start, self.end)

    @property
    def day(self) -> date:
        """The date the shift starts on (Asia/Shanghai)."""
        return self.start.date()


def _skill_paths(value: object) -> frozenset[str]:
    """Required skills: skill paths (``医疗/护理``), checked as :class:`~zhiyuan.matching.Skill`
    names (one alone, or a collection)."""
    given = [value] if isinstance(value, str) else items("skills", value)
    return frozenset(Skill(name=v).name for v in given)


def _trainings(value: object) -> frozenset[str]:
    out = names("training", [value] if isinstance(value, str) else value)
    return frozenset() if out is None else out


def _age(_: object, attribute: attrs.Attribute[int | None], value: int | None) -> None:
    bounded(0, MAX_AGE, "years")(_, attribute, value)


@attrs.frozen(kw_only=True)
class Requirements:
    """Who may sign up for an activity (报名条件): an age range on the day of the shift, skills
    and trainings.

    A required skill is met as :meth:`Skill.satisfies <zhiyuan.matching.Skill.satisfies>` meets
    it: a volunteer's ``医疗/护理`` meets ``医疗``, not ``医疗/护理/老年护理``. Trainings are names
    the caller vouches for (the library keeps no training records). A volunteer whose age is
    unknown (no ID number) does not meet an age requirement.

    Example:
        >>> from datetime import date
        >>> from zhiyuan.hours import Volunteer
        >>> need = Requirements(min_age=18, skills={"医疗"}, training={"急救培训"})
        >>> v = Volunteer(id="v1", name="王芳", home_region="370202001001",
        ...               skills={"医疗/护理"}, registered_on=date(2024, 1, 1))
        >>> [str(f) for f in need.unmet(v, date(2025, 5, 10), training=["急救培训"])]
        ['[projects.age_unknown] v1 年龄未知（没有身份证号），不能核对年龄要求 / the age of v1 is unknown (no ID number): the age requirement cannot be checked']
        >>> Requirements(skills={"医疗"}).unmet(v, date(2025, 5, 10))
        ()
        >>> Requirements(min_age=20, max_age=18)
        Traceback (most recent call last):
        ...
        zhiyuan.errors.InvalidValue: max_age: 18: 最高年龄不能低于最低年龄 20 / max_age must not be below min_age, 20
    """

    min_age: int | None = attrs.field(default=None, validator=_age)
    max_age: int | None = attrs.field(default=None, validator=_age)
    skills: frozenset[str] = attrs.field(factory=frozenset, converter=_skill_paths)
    training: frozenset[str] = attrs.field(factory=frozenset, converter=_trainings)

    def __attrs_post_init__(self) -> None:
        lo, hi = self.min_age, self.max_age
        if lo is not None and hi is not None and hi < lo:
            raise InvalidValue(
                "max_age",
                hi,
                f"最高年龄不能低于最低年龄 {lo} / max_age must not be below min_age, {lo}",
            )

    def unmet(
        self, volunteer: Volunteer, day: date, *, training: Iterable[str] = ()
    ) -> tuple[Finding, ...]:
        """What ``volunteer`` lacks for a shift on ``day``, one finding each (empty: all met).

        ``training`` names the trainings the volunteer has completed.
        """
        if not isinstance(volunteer, Volunteer):
            raise InvalidValue("volunteer", volunteer, "需要 Volunteer / need a Volunteer")
        done = _trainings(training)
        vid = volunteer.id
        out: list[Finding] = []
        if self.min_age is not None or self.max_age is not None:
            age = volunteer.age_on(day)
            if age is None:
                out.append(finding("projects.age_unknown", (vid,)))
            elif self.min_age is not None and age < self.min_age:
                out.append(finding("projects.age_below", (vid, age, self.min_age)))
            elif self.max_age is not None and age > self.max_age:
                out.append(finding("projects.age_above", (vid, age, self.max_age)))
        held = _held_skills(volunteer)
        for skill in sorted(self.skills):
            if not any(s.satisfies(skill) and s.valid_on(day) for s in held):
                out.append(finding("projects.skill", (vid, skill)))
        for name in sorted(self.training - done):
            out.append(finding("projects.training", (vid, name)))
        return tuple(out)


def _held_skills(volunteer: Volunteer) -> list[Skill]:
    """A volunteer's skills as :class:`~zhiyuan.matching.Skill` values (a name that is not a
    skill path, such as ``医疗/``, meets nothing)."""
    out = []
    for name in volunteer.skills:
        try:
            out.append(Skill(name=name))
        except InvalidValue:
            continue
    return out


def _sign_in_code(_: object, attribute: attrs.Attribute[str | None], value: str | None) -> None:
    if value is None:
        return
    if not (isinstance(value, str) and len(value) == 6 and value.isascii() and value.isdigit()):
        raise InvalidValue(
            attribute.name, value, "签到码须为 6 位数字 / a sign-in code is 6 digits"
        )


@attrs.frozen(kw_only=True)
class SignInPoint:
    """Where and how volunteers sign in and out (签到点): a ``place`` with a geofence of
    ``radius_m`` metres (default :data:`~zhiyuan.projects.values.DEFAULT_RADIUS_M`), a 6-digit
    sign-in ``code`` (签到码), a ``qr`` token (what the point's QR code encodes, 扫码签到), or
    several of them.

    A sign-in at a point must pass every check the point names: inside the fence if it has a
    place, the right code if it has one, the right token if it has one. An activity that takes
    either a code or a QR scan has two points.

    Example:
        >>> from zhiyuan.hours import GeoFix
        >>> p = SignInPoint(id="hall", place=GeoFix(lat=36.06, lon=120.38), radius_m=200)
        >>> p.checks
        ('fence',)
        >>> SignInPoint(id="nothing")
        Traceback (most recent call last):
        ...
        zhiyuan.errors.InvalidValue: id: 'nothing': 签到点须有位置、签到码或二维码 / a sign-in point needs a place, a code or a QR token
    """

    id: str = attrs.field(validator=non_empty)
    place: GeoFix | None = attrs.field(default=None, validator=is_a(GeoFix))
    radius_m: int = attrs.field(
        default=DEFAULT_RADIUS_M, validator=bounded(0, MAX_RADIUS_M, "metres")
    )
    code: str | None = attrs.field(default=None, validator=_sign_in_code)
    qr: str | None = attrs.field(default=None, validator=_optional_name)

    def __attrs_post_init__(self) -> None:
        if self.place is None and self.code is None and self.qr is None:
            raise InvalidValue(
                "id",
                self.id,
                "签到点须有位置、签到码或二维码 / a sign-in point needs a place, a code or a QR token",
            )

    @property
    def checks(self) -> tuple[str, ...]:
        """The checks a sign-in here must pass: ``fence``, ``code``, ``qr``."""
        out = []
        if self.place is not None:
            out.append("fence")
        if self.code is not None:
            out.append("code")
        if self.qr is not None:
            out.append("qr")
        return tuple(out)


def _shifts(value: object) -> tuple[Shift, ...]:
    out = (value,) if isinstance(value, Shift) else items_of("shifts", Shift, value)
    if not out:
        raise InvalidValue("shifts", [], "活动至少有一个班次 / an activity has at least one shift")
    _unique("shifts", [s.id for s in out])
    return out


def _points(value: object) -> tuple[SignInPoint, ...]:
    out = (value,) if isinstance(value, SignInPoint) else items_of("points", SignInPoint, value)
    _unique("points", [p.id for p in out])
    return out


def _unique(field: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for i in ids:
        if i in seen:
            raise InvalidValue(field, i, "编号重复 / the same id twice")
        seen.add(i)


@attrs.frozen(kw_only=True)
class Activity:
    """An activity (志愿活动) of a project: its shifts, who may come and where they sign in.

    ``shifts`` are one or more :class:`Shift` with distinct ids; ``points`` the
    :class:`SignInPoint` values (distinct ids; none: nobody can sign in, so hours come another
    way). With ``auto_accept``, a sign-up that gets a place is accepted at once (报名即录用);
    otherwise the organizer accepts or declines it. Volunteers may sign in from
    ``early_minutes`` before a shift starts until it ends, and sign out until
    ``late_minutes`` after it ends; later, only an administrator's top-up (补录) closes the
    record.

    Example:
        >>> from datetime import datetime
        >>> from zhiyuan import SHANGHAI
        >>> t = lambda h: datetime(2025, 5, 10, h, tzinfo=SHANGHAI)
        >>> a = Activity(id="a1", project_id="p1", name="社区义诊", region_code="370285001",
        ...              category="医疗", shifts=[Shift(id="s1", start=t(9), end=t(11), places=3)],
        ...              points=[SignInPoint(id="desk", code="530712")],
        ...              requirements=Requirements(skills={"医疗"}))
        >>> a.region_code, [s.id for s in a.shifts], a.auto_accept
        ('370285001000', ['s1'], False)
        >>> a.shift("s9")
        Traceback (most recent call last):
        ...
        zhiyuan.errors.NotFound: shift not found / 未找到: 'a1/s9'
    """

    id: str = attrs.field(validator=non_empty)
    project_id: str = attrs.field(validator=non_empty)
    name: str = attrs.field(validator=non_empty)
    region_code: str = attrs.field(converter=_code)
    category: str = attrs.field(validator=non_empty)
    shifts: tuple[Shift, ...] = attrs.field(converter=_shifts)
    points: tuple[SignInPoint, ...] = attrs.field(default=(), converter=_points)
    requirements: Requirements = attrs.field(factory=Requirements, validator=is_a(Requirements))
    description: str = attrs.field(default="", validator=_any_text)
    auto_accept: bool = attrs.field(default=False, validator=is_bool)
    early_minutes: int = attrs.field(default=30, validator=bounded(0, 1440, "minutes"))
    late_minutes: int = attrs.field(default=60, validator=bounded(0, 1440, "minutes"))

    def shift(self, shift_id: str) -> Shift:
        """The shift under ``shift_id``, or :class:`~zhiyuan.errors.NotFound`."""
        for s in self.shifts:
            if s.id == shift_id:
                return s
        raise NotFound("shift", f"{self.id}/{shift_id}")

    def point(self, point_id: str) -> SignInPoint:
        """The sign-in point under ``point_id``, or :class:`~zhiyuan.errors.NotFound`."""
        for p in self.points:
            if p.id == point_id:
                return p
        raise NotFound("sign-in point", f"{self.id}/{point_id}")

    @property
    def start(self) -> datetime:
        """When the first shift starts."""
        return min(s.start for s in self.shifts)

    @property
    def end(self) -> datetime:
        """When the last shift ends."""
        return max(s.end for s in self.shifts)
