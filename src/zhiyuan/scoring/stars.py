"""Star levels for volunteers (星级志愿者): schemes as data, ratings that explain themselves.

A :class:`StarScheme` holds the thresholds in certified hours, which hours count (evidence kinds,
categories, a time window), the extra conditions (months since registration, holding the
previous level, a clean record), who approves each star, and a downgrade rule. The national
scheme is the default; :data:`STAR_PROFILES` holds local variants, each cited.

:meth:`StarScheme.rate` says which level a volunteer may apply for, from the certified hours in
an :class:`~zhiyuan.hours.HourLedger`, and what is missing for the next ("还差 37 小时可申请三星级 /
37 hours short of 3 stars"). Stars are applied for, not automatic: the award lifecycle is in
:mod:`zhiyuan.scoring.awards`. Several schemes can rate the same history side by side.

References:
    《志愿服务记录办法》(民函〔2012〕340号) and the 2012 draft: 1★ 100 h, 2★ 300 h, 3★ 600 h,
    4★ 1,000 h, 5★ 1,500 h of cumulative recorded service, by application; approval 1–2★ county,
    3–4★ city, 5★ province (Fujian reading, reported). Local variants: POLICIES.md §1.3.

Example:
    >>> from datetime import datetime
    >>> from zhiyuan import SHANGHAI
    >>> from zhiyuan.hours import HourRow, Evidence, Purpose
    >>> rows = [HourRow("v1", datetime(2024, 5, 1).date(), 563 * 60, 563 * 60, Evidence.QR_SCAN,
    ...                 "助老", frozenset({Purpose.STARS}), "370602001001")]
    >>> r = StarScheme().rate_rows("v1", rows, as_of=datetime(2025, 1, 1, tzinfo=SHANGHAI))
    >>> r.level, r.next_level, r.minutes_missing
    (2, 3, 2220)
    >>> print(r)
    v1: 二星级（563 小时） / 2 stars (563 hours); 还差 37 小时可申请三星级 / 37 hours short of 3 stars
"""

from __future__ import annotations

import calendar
import enum
import itertools
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import attrs
from dateutil.relativedelta import relativedelta

from zhiyuan._validators import (
    COUNT,
    DAYS,
    MONTHS,
    SHANGHAI,
    YEARS,
    bounded,
    enum_items,
    enum_set,
    is_date,
    non_empty,
    non_negative,
    to_enum,
)
from zhiyuan.errors import InvalidValue
from zhiyuan.explain import Finding, finding, register_messages
from zhiyuan.hierarchy.codes import Level
from zhiyuan.hours.ledger import HourLedger, HourRow
from zhiyuan.hours.policy import N, Purpose
from zhiyuan.hours.records import Evidence
from zhiyuan.hours.volunteers import Volunteer
from zhiyuan.profiles import Profiles, Source, explain_policy, to_source

__all__ = [
    "STAR_PROFILES",
    "Downgrade",
    "Lapse",
    "StarRating",
    "StarScheme",
    "Window",
    "format_duration",
    "star_name",
]

_ZH_NUM = "零一二三四五六七八九十"


def months_since(year: N, month: N, day: N, today: date) -> N:
    """Whole months from a day, given as its year, month and day numbers, to ``today``, counted
    as ``dateutil.relativedelta`` counts them: a month from 31 January is complete on the last
    day of February. Negative for a day after ``today`` (callers clamp at 0).

    The numbers are Python integers (the object path) or numpy integer arrays (the columnar
    twin, :func:`~zhiyuan.bulk.rate_stars`), elementwise: one kernel for both.

    Example:
        >>> months_since(2024, 1, 31, date(2024, 2, 29)), months_since(2024, 1, 31, date(2024, 2, 28))
        (1, 0)
    """
    last = calendar.monthrange(today.year, today.month)[1]
    due = day - (day - last) * (day > last)  # min(day, last)
    return (today.year - year) * 12 + (today.month - month) - (today.day < due)


def star_name(level: int) -> tuple[str, str]:
    """The Chinese and English names of a star level (0 is no star).

    Example:
        >>> star_name(3), star_name(0)
        (('三星级', '3 stars'), ('无星级', 'no star'))
    """
    if level <= 0:
        return "无星级", "no star"
    zh = _ZH_NUM[level] if level <= 10 else str(level)
    return f"{zh}星级", f"{level} star{'s' if level > 1 else ''}"


def format_duration(minutes: int) -> tuple[str, str]:
    """Minutes as hours (and minutes), in Chinese and English.

    Example:
        >>> format_duration(2220), format_duration(2180), format_duration(45)
        (('37 小时', '37 hours'), ('36 小时 20 分', '36 h 20 min'), ('45 分', '45 min'))
    """
    h, m = divmod(minutes, 60)
    if not m:
        return f"{h:,} 小时", f"{h:,} hour{'s' if h != 1 else ''}"
    if not h:
        return f"{m} 分", f"{m} min"
    return f"{h:,} 小时 {m} 分", f"{h:,} h {m} min"


register_messages(
    {
        ("stars.level", ""): (
            ("level_zh", "level_en", "hours_zh", "hours_en"),
            "{level_zh}（{hours_zh}）",
            "{level_en} ({hours_en})",
        ),
        ("stars.next", ""): (
            ("missing_zh", "missing_en", "level_zh", "level_en", "missing"),
            "还差 {missing_zh}可申请{level_zh}",
            "{missing_en} short of {level_en}",
        ),
        ("stars.top", ""): ((), "已达最高星级", "at the top level"),
        ("stars.months", ""): (
            ("level", "need", "have"),
            "申请{level}星级须注册满 {need} 个月（现 {have} 个月）",
            "{level} stars need {need} months since registration (now {have})",
        ),
        ("stars.sequential", ""): (
            ("level", "previous", "held"),
            "须先获得{previous}星级才能申请{level}星级（现为 {held} 星）",
            "{level} stars need {previous} stars held first (holds {held})",
        ),
        ("stars.clean", ""): (
            ("years", "marks", "last"),
            "近 {years} 年内有 {marks} 次被查实投诉或虚假时长（最近 {last}）",
            "{marks} upheld complaint(s) or falsified hours in the last {years} years (latest {last})",
        ),
    }
)


class Window(enum.Enum):
    """Which certified hours a scheme counts, by service date."""

    CUMULATIVE = "cumulative"
    """All hours up to the rating date (national)."""
    ROLLING_YEARS = "rolling_years"
    """Hours in the ``window_years`` years before the rating date (南海: last 5 years)."""
    CALENDAR_YEAR = "calendar_year"
    """Hours in the rating date's calendar year (启东: annual)."""


class Downgrade(enum.Enum):
    """How a granted star can be lost without a revocation."""

    NONE = "none"
    """Once granted, kept (national)."""
    YEARLY_RESET = "yearly_reset"
    """Levels count only in the year they were granted (some party-member platforms)."""
    IDLE_YEAR = "idle_year"
    """One level down for every full year without certified service."""


class Lapse(enum.Enum):
    """What happens to a granted star when reversed hours leave the holder below its threshold.

    The national texts name revocation only for falsified hours (撤销星级); a correction is left
    to the platform, so the default sends the award to a person for review.
    """

    REVIEW = "review"
    """Flag the award for review (:meth:`StarBook.reviews <zhiyuan.scoring.StarBook.reviews>`);
    a person decides whether to revoke it (default)."""
    REVOKE = "revoke"
    """Revoke the volunteer's stars at once; they may apply again for the level the remaining
    hours earn."""


def _lapse(value: object) -> Lapse:
    return to_enum("on_lapse", Lapse, value)


_NATIONAL_APPROVERS = (Level.COUNTY, Level.COUNTY, Level.CITY, Level.CITY, Level.PROVINCE)


def _ints(field: str, value: Iterable[Any], high: int) -> tuple[int, ...]:
    if isinstance(value, (str, bytes, dict)) or not isinstance(value, Iterable):
        raise InvalidValue(field, value, "需要整数列表 / need a list of whole numbers")
    out = tuple(value)
    for v in out:
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= high:
            raise InvalidValue(
                field, out, f"需要 0 到 {high} 的整数 / need whole numbers, 0 to {high}"
            )
    return out


def _thresholds(value: Iterable[Any]) -> tuple[int, ...]:
    return _ints("thresholds_hours", value, COUNT)


def _months(value: Iterable[Any]) -> tuple[int, ...]:
    return _ints("min_months", value, MONTHS)


def _levels(value: Iterable[Any]) -> tuple[Level, ...]:
    return enum_items("approving", Level, value)


def _opt_kinds(value: Any) -> frozenset[Evidence] | None:
    return None if value is None else enum_set("evidence", Evidence, value)


def _window(value: object) -> Window:
    return to_enum("window", Window, value)


def _downgrade(value: object) -> Downgrade:
    return to_enum("downgrade", Downgrade, value)


def _opt_non_negative(_: object, attribute: attrs.Attribute[Any], value: int | None) -> None:
    if value is not None:
        non_negative(_, attribute, value)


def _opt_strs(value: Any) -> frozenset[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return frozenset((value,))
    if isinstance(value, (bytes, dict)) or not isinstance(value, Iterable):
        raise InvalidValue("categories", value, "需要类别列表 / need a list of categories")
    out = frozenset(value)
    if any(not isinstance(v, str) or not v.strip() for v in out):
        raise InvalidValue(
            "categories", sorted(map(repr, out)), "类别须为非空文本 / categories are text"
        )
    return out


@attrs.frozen(kw_only=True)
class StarScheme:
    """A star scheme (星级评定办法): thresholds and conditions, as data.

    Attributes:
        name: a label for reports.
        effective_from: when the scheme applies (national: 2012-10-23, 民函〔2012〕340号).
        source: where the policy comes from (:class:`~zhiyuan.profiles.Source`): set on every
            shipped profile, ``None`` for a policy of your own.
        thresholds_hours: certified hours for 1★, 2★ … (strictly increasing).
        window: which hours count by date; ``window_years`` for a rolling window.
        evidence: evidence kinds that count; ``None`` follows the hour policy's
            ``counts_toward[stars]``.
        categories: categories that count; ``None`` counts all.
        weighted: count category-weighted minutes instead of plain ones.
        min_months: months since registration required per level (龙岗: 6, 6, 12, 12).
        sequential_from: from this level up, the level below must be held first (四川: 5).
        clean_years: no upheld complaint or falsified hours in this many years (广西: 3).
        ban_years: after falsified hours, no new application for this many years (广东: 1–3).
        approving: the level of the body that approves each star (national: county, county,
            city, city, province).
        notice_days: public notice (公示) after approval, before the star is granted.
        downgrade: how a granted star can lapse.
        on_lapse: what a :class:`~zhiyuan.platform.Platform` does when reversed hours leave a
            granted star unearned (:class:`Lapse`: flag it for review, or revoke).
    """

    name: str = attrs.field(default="national", validator=non_empty)
    effective_from: date = attrs.field(default=date(2012, 10, 23), validator=is_date)
    source: Source | None = attrs.field(default=None, converter=to_source)
    thresholds_hours: tuple[int, ...] = attrs.field(
        default=(100, 300, 600, 1000, 1500), converter=_thresholds
    )
    window: Window = attrs.field(default=Window.CUMULATIVE, converter=_window)
    window_years: int = attrs.field(default=1, validator=bounded(1, YEARS, "years"))
    evidence: frozenset[Evidence] | None = attrs.field(default=None, converter=_opt_kinds)
    categories: frozenset[str] | None = attrs.field(default=None, converter=_opt_strs)
    weighted: bool = False
    min_months: tuple[int, ...] = attrs.field(default=(), converter=_months)
    sequential_from: int | None = attrs.field(default=None, validator=bounded(0, 100, "stars"))
    clean_years: int | None = attrs.field(default=None, validator=bounded(0, YEARS, "years"))
    ban_years: int = attrs.field(default=1, validator=bounded(0, YEARS, "years"))
    approving: tuple[Level, ...] = attrs.field(default=_NATIONAL_APPROVERS, converter=_levels)
    notice_days: int = attrs.field(default=0, validator=bounded(0, DAYS, "days"))
    downgrade: Downgrade = attrs.field(default=Downgrade.NONE, converter=_downgrade)
    on_lapse: Lapse = attrs.field(default=Lapse.REVIEW, converter=_lapse)

    def explain(self) -> str:
        """This policy in two lines, Chinese / English: name, first day in force, source."""
        return explain_policy(self, "星级评定办法", "star scheme")

    def __attrs_post_init__(self) -> None:
        t = self.thresholds_hours
        if not t or any(b <= a for a, b in itertools.pairwise(t)) or t[0] <= 0:
            raise InvalidValue(
                "thresholds_hours",
                t,
                "门槛须为递增的正整数 / thresholds must be positive and increasing",
            )
        if len(self.approving) != len(t):
            raise InvalidValue(
                "approving",
                len(self.approving),
                f"须为每一星级指定审批层级（{len(t)} 个）/ one per level",
            )
        if len(self.min_months) > len(t):
            raise InvalidValue("min_months", len(self.min_months), "多于星级数 / more than levels")
        if self.sequential_from is not None and not 2 <= self.sequential_from <= len(t):
            raise InvalidValue(
                "sequential_from", self.sequential_from, "超出星级范围 / out of range"
            )

    @property
    def top(self) -> int:
        """The highest level."""
        return len(self.thresholds_hours)

    def threshold_minutes(self, level: int) -> int:
        """Certified minutes needed for ``level`` (1-based)."""
        return self.thresholds_hours[level - 1] * 60

    def approver_level(self, level: int) -> Level:
        """The tree level whose authority approves ``level`` stars."""
        return self.approving[level - 1]

    # --- counting -----------------------------------------------------------------------------

    def window_start(self, as_of: date) -> date | None:
        """The first service date counted on ``as_of`` (``None``: no lower bound)."""
        if self.window is Window.CUMULATIVE:
            return None
        if self.window is Window.CALENDAR_YEAR:
            return date(as_of.year, 1, 1)
        return as_of - relativedelta(years=self.window_years) + relativedelta(days=1)

    def counts(self, row: HourRow) -> bool:
        """True if a certified row counts toward stars under this scheme (dates aside)."""
        if self.evidence is None:
            if Purpose.STARS not in row.purposes:
                return False
        elif row.evidence not in self.evidence:
            return False
        return self.categories is None or row.category in self.categories

    def counted_minutes(self, rows: Iterable[HourRow], as_of: date) -> dict[str, int]:
        """Counted minutes per volunteer from certified rows, on ``as_of``."""
        start = self.window_start(as_of)
        out: dict[str, int] = {}
        counts = self.counts
        weighted = self.weighted
        for row in rows:
            d = row.service_date
            if d > as_of or (start is not None and d < start) or not counts(row):
                continue
            m = row.weighted_minutes if weighted else row.minutes
            out[row.volunteer_id] = out.get(row.volunteer_id, 0) + m
        return out

    # --- rating -------------------------------------------------------------------------------

    def rate(
        self,
        volunteer: Volunteer,
        ledger: HourLedger,
        as_of: datetime,
        *,
        held: int = 0,
        marks: Sequence[date] = (),
    ) -> StarRating:
        """The level ``volunteer`` may apply for on ``as_of``, from the ledger's certified hours.

        Args:
            volunteer: the volunteer (registration date for ``min_months``).
            ledger: where the certified hours are.
            as_of: the rating moment (aware); hours certified after it do not count.
            held: the level the volunteer holds now (for ``sequential_from``).
            marks: dates of upheld complaints or falsified hours (for ``clean_years``).
        """
        rows = ledger.rows(as_of=as_of, volunteer_id=volunteer.id)
        return self.rate_rows(
            volunteer.id, rows, as_of, volunteer=volunteer, held=held, marks=marks
        )

    def rate_rows(
        self,
        volunteer_id: str,
        rows: Iterable[HourRow],
        as_of: datetime,
        *,
        volunteer: Volunteer | None = None,
        held: int = 0,
        marks: Sequence[date] = (),
    ) -> StarRating:
        """:meth:`rate` from certified rows (:meth:`~zhiyuan.hours.HourLedger.rows`) instead of a ledger."""
        day = _day(as_of)
        if volunteer is None and any(self.min_months):
            raise InvalidValue(
                "volunteer",
                None,
                "本办法按注册月数评定，须给出志愿者 / this scheme counts months since registration: "
                "pass the volunteer",
            )
        minutes = self.counted_minutes(rows, day).get(volunteer_id, 0)
        return self._rate(volunteer_id, minutes, day, volunteer, held, marks)

    def rate_many(
        self,
        volunteers: Iterable[Volunteer],
        rows: Iterable[HourRow],
        as_of: datetime,
        *,
        held: Mapping[str, int] | None = None,
        marks: Mapping[str, Sequence[date]] | None = None,
    ) -> dict[str, StarRating]:
        """Rate many volunteers in one pass over certified rows (the city-scale object path)."""
        day = _day(as_of)
        minutes = self.counted_minutes(rows, day)
        held = held or {}
        marks = marks or {}
        return {
            v.id: self._rate(
                v.id, minutes.get(v.id, 0), day, v, held.get(v.id, 0), marks.get(v.id, ())
            )
            for v in volunteers
        }

    def _blockers(
        self, level: int, day: date, volunteer: Volunteer | None, held: int, marks: Sequence[date]
    ) -> tuple[Finding, ...]:
        out: list[Finding] = []
        if volunteer is not None and level <= len(self.min_months) and self.min_months[level - 1]:
            need = self.min_months[level - 1]
            reg = volunteer.registered_on
            have = max(months_since(reg.year, reg.month, reg.day, day), 0)
            if have < need:
                out.append(finding("stars.months", (level, need, have)))
        if self.sequential_from is not None and level >= self.sequential_from and held < level - 1:
            out.append(finding("stars.sequential", (level, level - 1, held)))
        if self.clean_years is not None:
            since = day - relativedelta(years=self.clean_years)
            recent = sorted(m for m in marks if since < m <= day)
            if recent:
                out.append(
                    finding("stars.clean", (self.clean_years, len(recent), recent[-1].isoformat()))
                )
        return tuple(out)

    def _rate(
        self,
        volunteer_id: str,
        minutes: int,
        day: date,
        volunteer: Volunteer | None,
        held: int,
        marks: Sequence[date],
    ) -> StarRating:
        if isinstance(held, bool) or not isinstance(held, int) or not 0 <= held <= self.top:
            raise InvalidValue(
                "held", held, f"已持星级应为 0 到 {self.top} 的整数 / a level held, 0 to {self.top}"
            )
        if isinstance(marks, (str, bytes)) or any(
            isinstance(m, datetime) or not isinstance(m, date) for m in marks
        ):
            raise InvalidValue("marks", marks, "需要日期列表 / need a list of dates")
        level = 0
        blocked: tuple[Finding, ...] = ()
        for lv in range(1, self.top + 1):
            if minutes < self.threshold_minutes(lv):
                break
            blocked = self._blockers(lv, day, volunteer, held, marks)
            if blocked:
                break
            level = lv
        nxt = level + 1 if level < self.top else None
        missing = max(self.threshold_minutes(nxt) - minutes, 0) if nxt is not None else 0
        if nxt is not None and not blocked:
            blocked = self._blockers(nxt, day, volunteer, held, marks)
        return StarRating(
            volunteer_id=volunteer_id,
            scheme=self.name,
            as_of=day,
            level=level,
            counted_minutes=minutes,
            next_level=nxt,
            minutes_missing=missing,
            unmet=blocked,
        )


def _day(as_of: datetime) -> date:
    if not isinstance(as_of, datetime) or as_of.tzinfo is None or as_of.utcoffset() is None:
        raise InvalidValue("as_of", str(as_of), "需要带时区的时间 / need an aware datetime")
    return as_of.astimezone(SHANGHAI).date()


@attrs.frozen(kw_only=True)
class StarRating:
    """A volunteer's star eligibility under one scheme, with what is missing for the next level.

    ``level`` is the highest level the hours and conditions allow (0: none yet); ``unmet`` lists
    the conditions other than hours that block the next level (or this one).
    """

    volunteer_id: str
    scheme: str
    as_of: date
    level: int
    counted_minutes: int
    next_level: int | None
    minutes_missing: int
    unmet: tuple[Finding, ...] = ()

    @property
    def findings(self) -> tuple[Finding, ...]:
        """The explanation as findings: the level, the gap to the next, the unmet conditions."""
        zh, en = star_name(self.level)
        hzh, hen = format_duration(self.counted_minutes)
        out = [finding("stars.level", (zh, en, hzh, hen))]
        if self.next_level is None:
            out.append(finding("stars.top"))
        elif self.minutes_missing:
            mzh, men = format_duration(self.minutes_missing)
            nzh, nen = star_name(self.next_level)
            out.append(finding("stars.next", (mzh, men, nzh, nen, self.minutes_missing)))
        return (*out, *self.unmet)

    def explain(self) -> str:
        """One line per finding, Chinese / English."""
        return "\n".join(f"{self.volunteer_id}: {f.zh} / {f.en}" for f in self.findings)

    def __str__(self) -> str:
        return f"{self.volunteer_id}: " + "; ".join(f"{f.zh} / {f.en}" for f in self.findings)


STAR_PROFILES: Profiles[StarScheme] = Profiles(
    {
        "national": StarScheme(
            source=Source(
                document="《志愿服务记录办法》",
                issuer="民政部",
                date=date(2012, 10, 23),
                url="https://www.gov.cn/jrzg/2012-09/27/content_2234139.htm",
                verified=True,
                note="民函〔2012〕340号. The thresholds were read in the draft as quoted by 新华社 on "
                "gov.cn (2012-09-27, the link); that the final text keeps them as a numbered "
                "article is unconfirmed. The same thresholds: 《中国社区志愿者注册管理办法》第十八条 "
                "(http://www.cnvolunteer.org/jmzyz/pgybz.shtml). Approval by level (1–2★ county, "
                "3–4★ city, 5★ province): 东南网 Q&A 2013-12-17, reported "
                "(http://www.caoliu14.com/2013-12/17/content_13170627_2.htm).",
            ),
        ),
        "beijing_2007": StarScheme(
            name="beijing_2007",
            effective_from=date(2007, 1, 1),
            thresholds_hours=(100, 200, 500, 800, 1000),
            source=Source(
                document="《北京市志愿者管理办法(试行)》",
                issuer="北京日报",
                url="http://damoshentu.com/shangxun/177170.shtml",
                region_code="11",
                note="A mirror of the 北京日报 report on the day the 办法 took effect (about "
                "2007; the day is not shown): effective_from 2007-01-01 is assumed. Since "
                "replaced by 100/300/600/1,000/1,500 h.",
            ),
        ),
        "sichuan": StarScheme(
            name="sichuan",
            effective_from=date(2021, 9, 1),
            sequential_from=5,
            source=Source(
                document="《四川青年志愿者星级认定规则(试行)》",
                issuer="西南石油大学校团委（通知转引 / quoted in its notice）",
                date=date(2021, 9, 1),
                url="https://www.2mdqqw1.xyz/tw/info/1013/18152.htm",
                region_code="51",
                verified=True,
                note="5★ only for a 4★ volunteer with 1,500 h, after a selection round. The date "
                "is the notice's (a mirror). The 志愿四川 flow: "
                "http://tw.cdysxy.cn/2021_09/30_22/content-31158.shtml .",
            ),
        ),
        "longgang": StarScheme(
            name="longgang",
            effective_from=date(2023, 1, 1),
            thresholds_hours=(100, 300, 600, 1000),
            min_months=(6, 6, 12, 12),
            approving=(Level.TOWNSHIP, Level.TOWNSHIP, Level.TOWNSHIP, Level.COUNTY),
            source=Source(
                document="《龙岗区星级志愿者评定管理办法(2023年修订版)》",
                issuer="深圳市龙岗区人民政府",
                date=date(2024, 1, 10),
                url="https://www.chinagovernance.com/document/11094509",
                region_code="440307",
                verified=True,
                note="Quoted by the district government's notice 龙岗区2023年星级志愿者认定工作启动 "
                "(the date and link). The 2023 revision's day is not given: effective_from "
                "2023-01-01 is assumed.",
            ),
        ),
        "guangdong": StarScheme(
            name="guangdong",
            notice_days=7,
            ban_years=3,
            source=Source(
                document="《广东省星级志愿者资质认证管理办法》",
                issuer="共青团广东省委等（转述 / as reported）",
                url="http://www.397.win/1146329.html",
                region_code="44",
                note="POLICIES.md's summary gives the rules (reported) without a source; this "
                "Q&A paraphrases them: the list is publicly noticed on the certifying "
                "federation's site for at least 5 working days (7 calendar days here); falsified "
                "hours bar a volunteer for 1–3 years. The 办法 is cited by a 东莞 大朗 notice of "
                "2018 (https://lu-xu.com/yule/1450850.html, a rewritten copy). Undated: "
                "effective_from is the national date.",
            ),
        ),
        "guangxi": StarScheme(
            name="guangxi",
            clean_years=3,
            source=Source(
                document="《关于实施广西优秀志愿者守信联合激励加快推进志愿者信用体系建设的行动计划》",
                issuer="南国早报",
                date=date(2022, 5, 11),
                url="http://hljswt.bcpcn.com/articles/2/101901.html",
                region_code="45",
                note="Joint incentives for star volunteers registered on 桂志愿 with a full record "
                "and no bad credit for 3 consecutive years; 39 measures (POLICIES.md's copy, "
                "2023: https://peipeiwa.cn/Btc/39268.html). effective_from is the national date.",
            ),
        ),
        "zhangjiagang": StarScheme(
            name="zhangjiagang",
            effective_from=date(2014, 1, 1),
            thresholds_hours=(30, 60, 100, 200, 300),
            source=Source(
                document="《张家港市星级志愿者认定奖励通知》",
                issuer="张家港市志愿者协会",
                date=date(2014, 5, 26),
                url="http://www.zjgfwd.org/archiver/?tid-2640.html",
                region_code="320582",
                verified=True,
                note="Under 《张家港志愿者礼遇办法(试行)》. Bronze, silver and gold stars at "
                "600/1,000/1,500 h, a lifetime award at 3,000 h; prizes repeat every 300 h. A "
                "forum reprint; effective_from 2014-01-01 is assumed.",
            ),
        ),
        "qidong": StarScheme(
            name="qidong",
            effective_from=date(2019, 1, 1),
            window=Window.CALENDAR_YEAR,
            source=Source(
                document="《2019年启东市志愿者礼遇办法》",
                issuer="启东市文明办",
                region_code="320681",
                note="Hours within one year: 100/300/600/1,000/1,500 → 1★–5★; one reward a year. "
                "Known from a search excerpt of the report (no URL); effective_from 2019-01-01 "
                "is assumed.",
            ),
        ),
        "nanhai": StarScheme(
            name="nanhai",
            window=Window.ROLLING_YEARS,
            window_years=5,
            source=Source(
                document="《2021年佛山市南海区新市民志愿者参加社会服务活动时数认证操作指引》",
                issuer="南海区义工联",
                clause="第四条",
                url="https://freewechat.com/a/MzAxOTMxNzcwNw==/2650058830/1",
                region_code="440605",
                note="Only records of the last 5 years count; records from other cities are "
                "removed; old records are back-filled by the organizing team on i志愿. A copy of "
                "the 南海义工联 WeChat account. effective_from is the national date.",
            ),
        ),
    },
    kind=StarScheme,
    field="STAR_PROFILES",
)
"""Shipped star schemes (POLICIES.md §1), each citing its source in ``source``:

- ``national``: 100/300/600/1,000/1,500 h cumulative; 1–2★ county, 3–4★ city, 5★ province.
- ``beijing_2007``: 100/200/500/800/1,000 h.
- ``sichuan``: hold 4★ before applying for 5★.
- ``longgang``: 深圳龙岗 2023, four stars; ½ year of registration for 1–2★, 1 year for 3–4★;
  1–3★ approved at street level, 4★ by the district.
- ``guangdong``: public notice ≥ 5 working days (7 calendar days); a ban of up to 3 years after
  falsified hours.
- ``guangxi``: no bad record in 3 consecutive years (桂志愿).
- ``zhangjiagang``: 30/60/100/200/300 h.
- ``qidong``: hours within the calendar year.
- ``nanhai``: only the last 5 years of records count (佛山南海).
"""
