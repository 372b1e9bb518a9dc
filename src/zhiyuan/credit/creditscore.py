"""志愿+信用: certified hours and star levels as bonus points in a personal credit score.

A :class:`CreditScorePolicy` says how a year of volunteering turns into credit points: hours in
bands with their own rates (威海 海贝分: the more hours, the fewer points per hour, 增量递减),
points per star level (福州 茉莉分: 1★–5★ → 1–5), a yearly cap and a cap on all volunteering
points together (福州: 50 of the model's 1,000). :func:`credit_bonuses` computes one year's
:class:`CreditBonus` per volunteer, with the findings that explain it, in a stable order, ready
for another system (``zhiyuan.convert.to_json``). The score itself belongs to the credit
platform; zhiyuan computes the volunteering part it is sent each year.

Counting:
    Hours are certified minutes of :class:`~zhiyuan.hours.HourRow` rows (pass certified rows,
    e.g. ``HourLedger.rows(status="certified", as_of=…)``), placed in a year by service date.
    Within a band, points are whole steps: ``minutes in band // (hours per step × 60) × points
    per step``. With ``basis=cumulative`` the bands apply to a volunteer's cumulative hours and a
    year earns the increase; with ``basis=year`` they apply to the year's hours alone. Star
    points go to the level held for the year (the caller decides as of when, e.g. the year's
    end with ``StarBook.level``). The yearly cap applies first, then the total cap less the
    points of earlier years (``prior``).

References:
    POLICIES.md §3.3. 威海: 《关于在全市开展"海贝分"个人信用积分的试行意见》 (2018-11), 威海市发改委
    2020-03-05 (official site). 福州: 《福州市志愿者信用积分管理办法(试行)》 (2020), 福州晚报 report
    2020-05-13. See :data:`CREDIT_PROFILES`.

Example:
    >>> from datetime import date
    >>> from zhiyuan.hours import HourRow, Evidence
    >>> row = lambda v, d, h: HourRow(v, d, h * 60, h * 60, Evidence.QR_SCAN, "助老",
    ...                               frozenset(), "371002001001")
    >>> rows = [row("v1", date(2023, 5, 1), 15), row("v1", date(2024, 5, 1), 30)]
    >>> [b] = credit_bonuses(rows, {}, CREDIT_PROFILES["weihai"], 2024)
    >>> b.hours_points, b.total
    (17, 17)
    >>> print(b.explain())
    累计时长 15 小时 → 45 小时：时长分 15 → 32，本年增加 17 分 / cumulative hours 15 h → 45 h: hour points 15 → 32, 17 this year
    0–20 小时档：20 小时，每 1 小时 1 分 → 20 分 / band 0–20 h: 20 h at 1 pt per 1 h → 20 pts
    20–80 小时档：25 小时，每 2 小时 1 分 → 12 分 / band 20–80 h: 25 h at 1 pt per 2 h → 12 pts
    本年合计 17 分（时长 17 分，星级 0 分） / 17 pts this year (17 for hours, 0 for stars)
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from datetime import date

import attrs

from zhiyuan._validators import (
    COUNT,
    bounded,
    is_date,
    non_empty,
)
from zhiyuan.errors import InvalidValue
from zhiyuan.explain import Finding, finding, register_messages
from zhiyuan.hours.ledger import HourRow
from zhiyuan.profiles import Profiles, Source, explain_policy, to_source
from zhiyuan.schedule import Schedule

__all__ = [
    "CREDIT_PROFILES",
    "CreditBonus",
    "CreditScorePolicy",
    "HourTier",
    "ScoreBasis",
    "credit_bonuses",
    "credit_history",
]

register_messages(
    {
        ("creditscore.tier", ""): (
            ("low", "high", "hours_zh", "hours_en", "per", "pts", "points"),
            "{low}–{high} 小时档：{hours_zh}，每 {per} 小时 {pts} 分 → {points} 分",
            "band {low}–{high} h: {hours_en} at {pts} pt per {per} h → {points} pts",
        ),
        ("creditscore.tier", "open"): (
            ("low", "hours_zh", "hours_en", "per", "pts", "points"),
            "{low} 小时以上档：{hours_zh}，每 {per} 小时 {pts} 分 → {points} 分",
            "band over {low} h: {hours_en} at {pts} pt per {per} h → {points} pts",
        ),
        ("creditscore.tier", "beyond"): (
            ("high", "hours_zh", "hours_en"),
            "超过 {high} 小时的 {hours_zh}不计分",
            "{hours_en} beyond {high} h earn nothing",
        ),
        ("creditscore.cumulative", ""): (
            ("before_zh", "after_zh", "before_en", "after_en", "from", "to", "points"),
            "累计时长 {before_zh} → {after_zh}：时长分 {from} → {to}，本年增加 {points} 分",
            "cumulative hours {before_en} → {after_en}: hour points {from} → {to}, {points} this year",
        ),
        ("creditscore.star", ""): (
            ("level", "points"),
            "{level} 星级志愿者 → {points} 分",
            "{level}-star volunteer → {points} pts",
        ),
        ("creditscore.yearly_cap", ""): (
            ("cap", "before", "cut"),
            "每年最多 {cap} 分：{before} 分核减 {cut} 分",
            "at most {cap} pts a year: {before} cut by {cut}",
        ),
        ("creditscore.total_cap", ""): (
            ("cap", "prior", "cut"),
            "志愿服务累计最多 {cap} 分（此前已得 {prior} 分）：核减 {cut} 分",
            "at most {cap} pts for volunteering in all ({prior} earned before): cut by {cut}",
        ),
        ("creditscore.total", ""): (
            ("total", "hours_points", "star_points"),
            "本年合计 {total} 分（时长 {hours_points} 分，星级 {star_points} 分）",
            "{total} pts this year ({hours_points} for hours, {star_points} for stars)",
        ),
    }
)


def _hours(minutes: int) -> tuple[str, str]:
    h, m = divmod(minutes, 60)
    if not m:
        return f"{h:,} 小时", f"{h:,} h"
    return f"{h:,} 小时 {m} 分", f"{h:,} h {m} min"


@attrs.frozen(kw_only=True)
class HourTier:
    """One band of hours and its rate: ``points_per_step`` for every ``hours_per_step`` hours.

    ``hours`` is the width of the band (``None``: unbounded, the last band only).
    """

    hours: int | None = attrs.field(default=None, validator=bounded(1, COUNT, "hours"))
    hours_per_step: int = attrs.field(default=1, validator=bounded(1, COUNT, "hours"))
    points_per_step: int = attrs.field(default=1, validator=bounded(0, COUNT, "points"))


class ScoreBasis(enum.Enum):
    """Which hours the bands apply to."""

    YEAR = "year"
    """The year's hours alone: every year starts in the first band."""
    CUMULATIVE = "cumulative"
    """All hours up to the year's end; the year earns the increase over the year before."""


def _tiers(value: object) -> tuple[HourTier, ...]:
    if isinstance(value, HourTier):
        return (value,)
    if not isinstance(value, Iterable) or isinstance(value, (str, bytes, Mapping)):
        raise InvalidValue("hour_tiers", value, "需要档位列表 / need a list of tiers")
    out = []
    for t in value:
        if isinstance(t, HourTier):
            out.append(t)
        elif isinstance(t, tuple) and len(t) in (2, 3):
            out.append(HourTier(hours=t[0], hours_per_step=t[1], points_per_step=(*t, 1)[2]))
        else:
            raise InvalidValue(
                "hour_tiers", t, "档位为 (小时, 每步小时, 每步分) / a tier is (hours, per, points)"
            )
    return tuple(out)


def _star_points(value: object) -> tuple[int, ...]:
    if not isinstance(value, Iterable) or isinstance(value, (str, bytes, Mapping)):
        raise InvalidValue("star_points", value, "需要整数列表 / need a list of integers")
    out = tuple(value)
    for v in out:
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise InvalidValue("star_points", v, "需要非负整数 / need whole numbers ≥ 0")
    return out


def _opt_month(_: object, attribute: attrs.Attribute[int | None], value: int | None) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 12:
        raise InvalidValue(attribute.name, value, "月份为 1–12 / a month is 1 to 12")


@attrs.frozen(kw_only=True)
class CreditScorePolicy:
    """How volunteering earns personal-credit points (志愿+信用), as data.

    Attributes:
        name: a label for reports.
        effective_from: the first day the policy applies; a year is judged by the policy in
            force on its last day.
        source: where the policy comes from (:class:`~zhiyuan.profiles.Source`): set on every
            shipped profile, ``None`` for a policy of your own.
        hour_tiers: bands of hours and their rates, in order (威海: 20 h at 1 per h, 60 h at 1
            per 2 h, 120 h at 1 per 3 h, then 1 per 4 h). One unbounded tier is "N hours → P
            points". Empty: hours earn nothing. Hours beyond a last bounded band earn nothing.
        basis: whether the bands apply to the year's hours or to cumulative hours.
        star_points: points for 1★, 2★ … (福州: 1–5); a level above the list gets the last.
        yearly_cap: at most this many points a year.
        total_cap: at most this many volunteering points in all (福州: 50).
        scale: the credit model's full score (福州 1,000), for reports.
        collection_month: the month after the year when units submit the list (福州: April).
    """

    name: str = attrs.field(default="default", validator=non_empty)
    effective_from: date = attrs.field(default=date(2000, 1, 1), validator=is_date)
    source: Source | None = attrs.field(default=None, converter=to_source)
    hour_tiers: tuple[HourTier, ...] = attrs.field(default=(), converter=_tiers)
    basis: ScoreBasis = ScoreBasis.YEAR
    star_points: tuple[int, ...] = attrs.field(default=(), converter=_star_points)
    yearly_cap: int | None = attrs.field(default=None, validator=bounded(1, COUNT, "points"))
    total_cap: int | None = attrs.field(default=None, validator=bounded(1, COUNT, "points"))
    scale: int | None = attrs.field(default=None, validator=bounded(1, COUNT, "points"))
    collection_month: int | None = attrs.field(default=None, validator=_opt_month)

    def explain(self) -> str:
        """This policy in two lines, Chinese / English: name, first day in force, source."""
        return explain_policy(self, "志愿+信用加分规则", "credit-score policy")

    def __attrs_post_init__(self) -> None:
        for t in self.hour_tiers[:-1]:
            if t.hours is None:
                raise InvalidValue(
                    "hour_tiers", None, "只有最后一档可以不设上限 / only the last band may be open"
                )
        if not isinstance(self.basis, ScoreBasis):
            raise InvalidValue("basis", self.basis, "需要 year 或 cumulative / need a ScoreBasis")

    def hour_points(self, minutes: int) -> int:
        """Points for ``minutes`` of hours through the bands (whole steps per band).

        Example:
            >>> w = CREDIT_PROFILES["weihai"]
            >>> [w.hour_points(h * 60) for h in (20, 21, 22, 80, 200, 203, 204)]
            [20, 20, 21, 50, 90, 90, 91]
        """
        return sum(p for *_, p in self._bands(minutes))

    def _bands(self, minutes: int) -> list[tuple[int, HourTier, int, int]]:
        """``(low hours, tier, minutes in band, points)`` for every band that holds minutes."""
        out = []
        left, low = minutes, 0
        for t in self.hour_tiers:
            if left <= 0:
                break
            take = left if t.hours is None else min(left, t.hours * 60)
            out.append((low, t, take, take // (t.hours_per_step * 60) * t.points_per_step))
            left -= take
            low += t.hours or 0
        return out

    def points_for_level(self, level: int) -> int:
        """Points for a star level (0 or no star points: 0).

        Example:
            >>> [CREDIT_PROFILES["fuzhou"].points_for_level(n) for n in range(7)]
            [0, 1, 2, 3, 4, 5, 5]
        """
        if level <= 0 or not self.star_points:
            return 0
        return self.star_points[min(level, len(self.star_points)) - 1]

    def due(self, year: int) -> date | None:
        """When the year's list is due (the first of ``collection_month`` the next year).

        Example:
            >>> CREDIT_PROFILES["fuzhou"].due(2024)
            datetime.date(2025, 4, 1)
        """
        return None if self.collection_month is None else date(year + 1, self.collection_month, 1)


CREDIT_PROFILES: Profiles[CreditScorePolicy] = Profiles(
    {
        "weihai": CreditScorePolicy(
            name="weihai",
            effective_from=date(2018, 11, 1),
            hour_tiers=(
                HourTier(hours=20, hours_per_step=1),
                HourTier(hours=60, hours_per_step=2),
                HourTier(hours=120, hours_per_step=3),
                HourTier(hours=None, hours_per_step=4),
            ),
            basis=ScoreBasis.CUMULATIVE,
            source=Source(
                document="《关于在全市开展“海贝分”个人信用积分的试行意见》",
                issuer="威海市发改委",
                date=date(2020, 3, 5),
                url="http://fgw.weihai.gov.cn/art/2020/3/5/art_37923_2296162.html",
                region_code="3710",
                verified=True,
                note="The 意见 dates from 2018-11 (day unknown: effective_from is the 1st); "
                "residents 18+, grades AAA…D. The tiers are as the 发改委's credit centre gave "
                "them on 2020-03-04, published 2020-03-05 on its official site. No cap was found "
                "(the excerpt is cut off): none is set.",
            ),
        ),
        "fuzhou": CreditScorePolicy(
            name="fuzhou",
            effective_from=date(2020, 5, 13),
            star_points=(1, 2, 3, 4, 5),
            total_cap=50,
            scale=1000,
            collection_month=4,
            source=Source(
                document="《福州市志愿者信用积分管理办法(试行)》",
                issuer="福州晚报",
                date=date(2020, 5, 13),
                url="http://www.biying172.com/html/94/20200513/5ebb4cb84dfdb.shtml",
                region_code="3501",
                note="Issued jointly by the 市委文明办 and the 市信用办 (as reported); the report's "
                "date is used as effective_from. The 最美 (3–8) and campaign honours (1–5) are "
                "not modelled.",
            ),
        ),
    },
    kind=CreditScorePolicy,
    field="CREDIT_PROFILES",
)
"""Shipped 志愿+信用 policies (POLICIES.md §3.3), each citing its source in ``source``:

- ``weihai``: 海贝分 (official site). Hours 1–20 → 1 pt per h; 21–80 → 1 per 2 h; 81–200 → 1 per
  3 h; over 200 → 1 per 4 h. Applied to cumulative hours (our reading of 增量递减: the rate falls
  as a volunteer's hours grow). No cap found: none set.
- ``fuzhou``: 茉莉分. 1★–5★ → 1–5 pts a year, volunteering capped at 50 of the model's 1,000;
  the previous year's list is submitted each April.
"""


@attrs.frozen(kw_only=True)
class CreditBonus:
    """One volunteer's credit points for one year (an entry another system can consume).

    Attributes:
        volunteer_id: the volunteer.
        year: the calendar year of the service.
        policy: the name of the policy applied.
        minutes: certified minutes served in the year.
        hours_points: points for hours (for ``cumulative``: the year's increase).
        star_level: the star level counted.
        star_points: points for the star level.
        capped: points cut by the yearly and total caps.
        total: points granted for the year.
        findings: the explanation, rule by rule.
    """

    volunteer_id: str
    year: int
    policy: str
    minutes: int
    hours_points: int
    star_level: int
    star_points: int
    capped: int
    total: int
    findings: tuple[Finding, ...]

    def explain(self) -> str:
        """One line per finding, Chinese / English."""
        return "\n".join(f"{f.zh} / {f.en}" for f in self.findings)

    def __str__(self) -> str:
        return f"{self.volunteer_id} {self.year}: {self.total}"


def _policy_for(
    policy: CreditScorePolicy | Iterable[CreditScorePolicy], year: int
) -> CreditScorePolicy:
    """The policy in force on the year's last day."""
    return Schedule(policy, kind=CreditScorePolicy, field="policy").on(date(year, 12, 31))


def _check_year(year: object) -> int:
    if isinstance(year, bool) or not isinstance(year, int) or not 1900 <= year <= 9999:
        raise InvalidValue("year", year, "年份须为整数 / a year is a whole number")
    return year


def _count(value: object, field: str, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidValue(f"{field}[{key!r}]", value, "需要非负整数 / need a whole number ≥ 0")
    return value


def _tier_findings(policy: CreditScorePolicy, minutes: int) -> list[Finding]:
    out = []
    for low, t, take, pts in policy._bands(minutes):
        zh, en = _hours(take)
        if t.hours is None:
            values: tuple[int | str, ...] = (low, zh, en, t.hours_per_step, t.points_per_step, pts)
            out.append(finding("creditscore.tier", values, "open"))
        else:
            values = (low, low + t.hours, zh, en, t.hours_per_step, t.points_per_step, pts)
            out.append(finding("creditscore.tier", values))
    bounded = sum((t.hours or 0) * 60 for t in policy.hour_tiers)
    if policy.hour_tiers and policy.hour_tiers[-1].hours is not None and minutes > bounded:
        zh, en = _hours(minutes - bounded)
        out.append(finding("creditscore.tier", (bounded // 60, zh, en), "beyond"))
    return out


def credit_bonuses(
    rows: Iterable[HourRow],
    star_levels: Mapping[str, int],
    policy: CreditScorePolicy | Sequence[CreditScorePolicy],
    year: int,
    *,
    prior: Mapping[str, int] | None = None,
) -> list[CreditBonus]:
    """Each volunteer's :class:`CreditBonus` for ``year``, sorted by volunteer id.

    Args:
        rows: certified hour rows (any years; each record once).
        star_levels: the star level each volunteer holds for the year (missing: none).
        policy: a policy, or several (the one in force on the year's last day applies).
        year: the calendar year (by service date).
        prior: points each volunteer was granted in earlier years (for ``total_cap``).

    Every volunteer with minutes in the year or a star level gets an entry (possibly 0 points,
    with the reason). Raises :class:`~zhiyuan.errors.InvalidValue` for a negative level or
    prior, or a record id given twice.

    Example:
        >>> [b] = credit_bonuses([], {"v1": 5}, CREDIT_PROFILES["fuzhou"], 2024, prior={"v1": 48})
        >>> b.star_points, b.capped, b.total
        (5, 3, 2)
    """
    y = _check_year(year)
    p = _policy_for(policy, y)
    prior = prior or {}
    levels = {k: _count(v, "star_levels", k) for k, v in star_levels.items()}
    before = {k: _count(v, "prior", k) for k, v in prior.items()}
    in_year: dict[str, int] = {}
    earlier: dict[str, int] = {}
    seen: set[str] = set()
    for r in rows:
        if r.record_id is not None:
            if r.record_id in seen:
                raise InvalidValue("rows", r.record_id, "记录重复 / a record is given twice")
            seen.add(r.record_id)
        ry = r.service_date.year
        if ry == y:
            in_year[r.volunteer_id] = in_year.get(r.volunteer_id, 0) + r.minutes
        elif ry < y:
            earlier[r.volunteer_id] = earlier.get(r.volunteer_id, 0) + r.minutes
    people = sorted({*in_year, *(k for k, v in levels.items() if v > 0)})
    out = []
    for vid in people:
        minutes = in_year.get(vid, 0)
        findings: list[Finding] = []
        if p.basis is ScoreBasis.CUMULATIVE:
            old = earlier.get(vid, 0)
            new = old + minutes
            a, b = p.hour_points(old), p.hour_points(new)
            hours_points = b - a
            if p.hour_tiers:
                ozh, oen = _hours(old)
                nzh, nen = _hours(new)
                findings.append(
                    finding("creditscore.cumulative", (ozh, nzh, oen, nen, a, b, hours_points))
                )
                findings.extend(_tier_findings(p, new))
        else:
            hours_points = p.hour_points(minutes)
            findings.extend(_tier_findings(p, minutes))
        level = levels.get(vid, 0)
        star_points = p.points_for_level(level)
        if level and p.star_points:
            findings.append(finding("creditscore.star", (level, star_points)))
        raw = total = hours_points + star_points
        if p.yearly_cap is not None and total > p.yearly_cap:
            findings.append(
                finding("creditscore.yearly_cap", (p.yearly_cap, total, total - p.yearly_cap))
            )
            total = p.yearly_cap
        if p.total_cap is not None:
            had = before.get(vid, 0)
            room = max(p.total_cap - had, 0)
            if total > room:
                findings.append(finding("creditscore.total_cap", (p.total_cap, had, total - room)))
                total = room
        findings.append(finding("creditscore.total", (total, hours_points, star_points)))
        out.append(
            CreditBonus(
                volunteer_id=vid,
                year=y,
                policy=p.name,
                minutes=minutes,
                hours_points=hours_points,
                star_level=level,
                star_points=star_points,
                capped=raw - total,
                total=total,
                findings=tuple(findings),
            )
        )
    return out


def credit_history(
    rows: Iterable[HourRow],
    star_levels_by_year: Mapping[int, Mapping[str, int]],
    policy: CreditScorePolicy | Sequence[CreditScorePolicy],
    years: Iterable[int],
    *,
    prior: Mapping[str, int] | None = None,
) -> list[CreditBonus]:
    """:func:`credit_bonuses` for several years in order, each year's points counting as prior
    for the next (so the total cap holds across years). Sorted by year, then volunteer.

    Example:
        >>> out = credit_history([], {y: {"v1": 5} for y in range(2020, 2032)},
        ...                      CREDIT_PROFILES["fuzhou"], range(2020, 2032))
        >>> [b.total for b in out], sum(b.total for b in out)
        ([5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 0, 0], 50)
    """
    materialized = list(rows)
    had = dict(prior or {})
    out: list[CreditBonus] = []
    for y in sorted(set(years)):
        year_out = credit_bonuses(
            materialized, star_levels_by_year.get(y, {}), policy, y, prior=had
        )
        for b in year_out:
            had[b.volunteer_id] = had.get(b.volunteer_id, 0) + b.total
        out.extend(year_out)
    return out
