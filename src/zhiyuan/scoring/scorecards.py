"""Scorecards (考核评估): weighted indicators and grade bands for stations, teams and organizations.

新时代文明实践 所 and 站 are graded (星级评定: 石狮, 单县), districts test their practice work with
scored sheets (测评细则), and 文明单位 are judged partly on their volunteer work. Each of these is a
:class:`Scorecard`: frozen data with an ``effective_from`` date, loadable from JSON/TOML, made of
:class:`Indicator` values (a weight in points and a target) and :class:`Band` values (the least
total that earns a grade such as 五星 or AAAAA).

:meth:`Scorecard.score` turns indicator values (integers) into a :class:`ScoreResult`: one
:class:`ScorePart` per indicator, the total, the band, and what is missing for the next band. All
arithmetic is on integers:

- higher is better: ``points = weight × min(value, target) // target`` (at or over the target,
  full marks; below it, in proportion, rounded down);
- lower is better: full marks at or below the target, ``weight × target // value`` above it
  (twice the target, half the points; with a target of 0, any value above 0 earns nothing).

:data:`SCORECARD_PROFILES` ships two cited examples, and :func:`~zhiyuan.scoring.station_values` computes the standard
station indicator values from plain counts.

Example:
    >>> from datetime import date
    >>> card = Scorecard(
    ...     name="实践站考核（示例）", effective_from=date(2024, 1, 1),
    ...     indicators=[
    ...         Indicator(id="activities", name="活动次数", name_en="activities", weight=20,
    ...                   target=4),
    ...         Indicator(id="complaints", name="有效投诉", name_en="upheld complaints",
    ...                   weight=10, target=1, higher_is_better=False),
    ...     ],
    ...     bands=[Band(min_points=20, label="合格", label_en="pass")])
    >>> result = card.score({"activities": 3, "complaints": 2})
    >>> result.total, [p.points for p in result.parts]
    (20, [15, 5])
    >>> print(result.explain())
    实践站考核（示例）：总分 20/30 → 合格 / 实践站考核（示例）: total 20 of 30 → pass
      活动次数 3/4 → 15/20 分 / activities 3 of 4 → 15 of 20 points
      有效投诉 2（不超过 1 得满分）→ 5/10 分 / upheld complaints 2 (full marks at or below 1) → 5 of 10 points
    >>> card.score({"activities": 3})
    Traceback (most recent call last):
    ...
    zhiyuan.errors.InvalidValue: values.complaints: None: 缺少指标「有效投诉」/ missing indicator 'upheld complaints'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

import attrs

from zhiyuan._validators import (
    COUNT,
    bounded,
    day_arg,
    is_bool,
    is_date,
    items_of,
    non_empty,
    non_negative,
)
from zhiyuan.errors import InvalidValue, NotFound
from zhiyuan.explain import Finding, finding, register_messages
from zhiyuan.hours.policy import Rounding
from zhiyuan.profiles import Profiles, Source, explain_policy, to_source
from zhiyuan.schedule import Schedule
from zhiyuan.scoring.feedback import FeedbackScore

__all__ = [
    "SCORECARD_PROFILES",
    "Band",
    "Indicator",
    "ScorePart",
    "ScoreResult",
    "Scorecard",
    "scorecard_for",
    "station_values",
]

_MAX_DECIMALS = 4

register_messages(
    {
        ("scorecard.part", "higher"): (
            ("name", "name_en", "value", "target", "unit", "points", "weight"),
            "{name} {value}/{target}{unit} → {points}/{weight} 分",
            "{name_en} {value} of {target}{unit} → {points} of {weight} points",
        ),
        ("scorecard.part", "lower"): (
            ("name", "name_en", "value", "target", "unit", "points", "weight"),
            "{name} {value}{unit}（不超过 {target}{unit} 得满分）→ {points}/{weight} 分",
            "{name_en} {value}{unit} (full marks at or below {target}{unit}) → "
            "{points} of {weight} points",
        ),
        ("scorecard.part", "missing"): (
            ("name", "name_en", "value", "target", "unit", "points", "weight"),
            "{name} 未填报，计 0 分 → {points}/{weight} 分",
            "{name_en} not reported, scores nothing → {points} of {weight} points",
        ),
        ("scorecard.total", "band"): (
            ("card", "card_en", "total", "max", "label", "label_en"),
            "{card}：总分 {total}/{max} → {label}",
            "{card_en}: total {total} of {max} → {label_en}",
        ),
        ("scorecard.total", "none"): (
            ("card", "card_en", "total", "max"),
            "{card}：总分 {total}/{max}，未达等级",
            "{card_en}: total {total} of {max}, unrated",
        ),
        ("scorecard.next", ""): (
            ("short", "label", "label_en"),
            "距{label}还差 {short} 分",
            "{short} points short of {label_en}",
        ),
    }
)


def _show(value: int, decimals: int) -> str:
    """An integer in units of 10^-decimals as a decimal: ``(1447, 2)`` → ``'14.47'``."""
    if not decimals:
        return str(value)
    sign = "-" if value < 0 else ""
    whole, frac = divmod(abs(value), 10**decimals)
    return f"{sign}{whole}.{frac:0{decimals}d}"


def _text(_: object, attribute: attrs.Attribute[Any], value: str) -> None:
    if not isinstance(value, str):
        raise InvalidValue(attribute.name, value, "需要字符串 / need a string")


def _decimals(_: object, attribute: attrs.Attribute[Any], value: int) -> None:
    non_negative(_, attribute, value)
    if value > _MAX_DECIMALS:
        raise InvalidValue(
            attribute.name, value, f"小数位数 0 到 {_MAX_DECIMALS} / 0 to {_MAX_DECIMALS} places"
        )


@attrs.frozen(kw_only=True)
class Indicator:
    """One scored item (考核指标): a weight in points and the target that earns all of them.

    Values are integers in the indicator's unit; ``decimals`` only says how to show them (a
    feedback score in hundredths of a star has ``decimals=2``: 433 shows as 4.33). ``unit`` is a
    short suffix shown after the numbers in both languages (``"%"``, ``" h"``).

    Example:
        >>> i = Indicator(id="a", name="活动次数", name_en="activities", weight=20, target=4)
        >>> [i.points(v) for v in (0, 1, 3, 4, 9)]
        [0, 5, 15, 20, 20]
        >>> low = Indicator(id="c", name="投诉", name_en="complaints", weight=10, target=2,
        ...                 higher_is_better=False)
        >>> [low.points(v) for v in (0, 2, 3, 4, 20)]
        [10, 10, 6, 5, 1]
    """

    id: str = attrs.field(validator=non_empty)
    name: str = attrs.field(validator=non_empty)
    name_en: str = attrs.field(validator=non_empty)
    weight: int = attrs.field(validator=bounded(1, COUNT, "points"))
    target: int = attrs.field(validator=bounded(0, COUNT, "units"))
    higher_is_better: bool = attrs.field(default=True, validator=is_bool)
    unit: str = attrs.field(default="", validator=_text)
    decimals: int = attrs.field(default=0, validator=_decimals)

    def __attrs_post_init__(self) -> None:
        if self.higher_is_better and self.target == 0:
            raise InvalidValue(
                "target",
                0,
                f"指标「{self.name}」越高越好，目标须大于 0 / a higher-is-better target must be "
                "positive",
            )

    def points(self, value: int) -> int:
        """The points ``value`` earns (0 to ``weight``)."""
        if self.higher_is_better:
            return self.weight * min(value, self.target) // self.target
        if value <= self.target:
            return self.weight
        return self.weight * self.target // value

    def show(self, value: int) -> str:
        """A value as the card shows it (with ``decimals`` places)."""
        return _show(value, self.decimals)


@attrs.frozen(kw_only=True)
class Band:
    """A grade (等级): a total of at least ``min_points`` earns ``label`` (五星, AAAAA …)."""

    min_points: int = attrs.field(validator=bounded(0, COUNT, "points"))
    label: str = attrs.field(validator=non_empty)
    label_en: str = attrs.field(default="", validator=_text)

    @property
    def en(self) -> str:
        """The English label (the Chinese one when none is set)."""
        return self.label_en or self.label


def _indicators(value: object) -> tuple[Indicator, ...]:
    return items_of("indicators", Indicator, value)


def _bands(value: Any) -> tuple[Band, ...]:
    return tuple(sorted(items_of("bands", Band, value), key=lambda b: -b.min_points))


@attrs.frozen(kw_only=True)
class ScorePart:
    """One indicator's part of a score: the value (``None`` if not reported) and the points."""

    indicator: Indicator
    value: int | None
    points: int

    @property
    def weight(self) -> int:
        """The most the indicator can earn."""
        return self.indicator.weight

    @property
    def finding(self) -> Finding:
        """The explanation as data (``scorecard.part``; variant higher, lower or missing)."""
        i = self.indicator
        direction = "higher" if i.higher_is_better else "lower"
        variant = "missing" if self.value is None else direction
        shown = "" if self.value is None else i.show(self.value)
        return finding(
            "scorecard.part",
            (i.name, i.name_en, shown, i.show(i.target), i.unit, self.points, i.weight),
            variant,
        )

    def __str__(self) -> str:
        f = self.finding
        return f"{f.zh} / {f.en}"


@attrs.frozen(kw_only=True)
class ScoreResult:
    """A scored card: every indicator's part, the total, the band and the next band.

    ``band`` is ``None`` below the lowest band (未达等级: 单县 summons the heads of unrated sites);
    ``next_band`` is the band just above the total, ``None`` at the top.
    """

    scorecard: Scorecard
    parts: tuple[ScorePart, ...]
    total: int
    band: Band | None
    next_band: Band | None

    @property
    def max_points(self) -> int:
        """The card's full marks (the sum of the weights)."""
        return self.scorecard.max_points

    @property
    def points_to_next(self) -> int | None:
        """How many more points reach the next band (``None`` at the top)."""
        return None if self.next_band is None else self.next_band.min_points - self.total

    @property
    def headline(self) -> tuple[Finding, ...]:
        """The total and band, then what the next band needs (if there is one)."""
        card = self.scorecard
        card_en = card.name_en or card.name
        if self.band is None:
            head = finding(
                "scorecard.total", (card.name, card_en, self.total, self.max_points), "none"
            )
        else:
            head = finding(
                "scorecard.total",
                (card.name, card_en, self.total, self.max_points, self.band.label, self.band.en),
                "band",
            )
        if self.next_band is None:
            return (head,)
        short = self.next_band.min_points - self.total
        return head, finding("scorecard.next", (short, self.next_band.label, self.next_band.en))

    @property
    def findings(self) -> tuple[Finding, ...]:
        """The :attr:`headline`, then one finding per indicator."""
        return (*self.headline, *(p.finding for p in self.parts))

    def __str__(self) -> str:
        head = self.headline
        return "；".join(f.zh for f in head) + " / " + "; ".join(f.en for f in head)

    def explain(self) -> str:
        """The headline, then one line per indicator."""
        return "\n".join([str(self), *(f"  {p}" for p in self.parts)])


@attrs.frozen(kw_only=True)
class Scorecard:
    """A scorecard (考核评估表) as data: indicators, bands, and from when it applies.

    Attributes:
        name: the card's name (Chinese); ``name_en`` its English name (optional).
        effective_from: the date from which assessments use this card (:func:`scorecard_for`).
        source: where the policy comes from (:class:`~zhiyuan.profiles.Source`): set on every
            shipped profile, ``None`` for a policy of your own.
        indicators: the scored items, in the order shown; ids are unique.
        bands: the grades, kept sorted by ``min_points`` from the highest down; no two share a
            threshold and none needs more than the card's full marks.
        missing_counts_zero: ``True`` lets an unreported indicator score 0 points (whichever way
            it points: leaving out a complaint count never earns full marks); ``False`` (default)
            makes it an :class:`~zhiyuan.errors.InvalidValue` naming the indicator.

    Example:
        >>> from zhiyuan.convert import from_json, to_json
        >>> card = SCORECARD_PROFILES["station_stars"]
        >>> from_json(to_json(card), Scorecard) == card
        True
        >>> [b.label for b in card.bands]
        ['五星', '四星', '三星', '二星', '一星']
    """

    name: str = attrs.field(validator=non_empty)
    name_en: str = attrs.field(default="", validator=_text)
    effective_from: date = attrs.field(validator=is_date)
    source: Source | None = attrs.field(default=None, converter=to_source)
    indicators: tuple[Indicator, ...] = attrs.field(converter=_indicators)
    bands: tuple[Band, ...] = attrs.field(default=(), converter=_bands)
    missing_counts_zero: bool = attrs.field(default=False, validator=is_bool)

    def explain(self) -> str:
        """This policy in two lines, Chinese / English: name, first day in force, source."""
        return explain_policy(self, "考核评分表", "scorecard")

    def __attrs_post_init__(self) -> None:
        if not self.indicators:
            raise InvalidValue("indicators", [], "至少一个指标 / need at least one indicator")
        seen: set[str] = set()
        for i in self.indicators:
            if i.id in seen:
                raise InvalidValue("indicators", i.id, "指标编号重复 / duplicate indicator id")
            seen.add(i.id)
        thresholds = [b.min_points for b in self.bands]
        if len(set(thresholds)) != len(thresholds):
            raise InvalidValue(
                "bands", thresholds, "两个等级的分数线相同 / two bands share a threshold"
            )
        if thresholds and thresholds[0] > self.max_points:
            raise InvalidValue(
                "bands",
                thresholds[0],
                f"分数线高于满分 {self.max_points} / a band needs more than full marks",
            )

    @property
    def max_points(self) -> int:
        """Full marks: the sum of the indicator weights."""
        return sum(i.weight for i in self.indicators)

    def indicator(self, indicator_id: str) -> Indicator:
        """An indicator by id, or :class:`~zhiyuan.errors.NotFound`."""
        for i in self.indicators:
            if i.id == indicator_id:
                return i
        raise NotFound("indicator", indicator_id)

    def band_for(self, total: int) -> Band | None:
        """The band a total earns (``None`` below the lowest)."""
        for b in self.bands:
            if total >= b.min_points:
                return b
        return None

    def score(self, values: Mapping[str, int], *, ignore_unknown: bool = False) -> ScoreResult:
        """Score indicator values (id → integer ≥ 0).

        Raises:
            InvalidValue: a value is not a whole number ≥ 0 (field ``values.<id>``); an indicator
                is missing and the card does not let missing values score 0; a key names no
                indicator (unless ``ignore_unknown``).
        """
        if not isinstance(values, Mapping):
            raise InvalidValue("values", values, "需要 指标编号 → 数值 / need a mapping id → value")
        if not ignore_unknown:
            known = {i.id for i in self.indicators}
            for key in values:
                if key not in known:
                    raise InvalidValue(
                        f"values.{key}",
                        values[key],
                        f"「{self.name}」没有此指标 / no such indicator on this card",
                    )
        parts = []
        for i in self.indicators:
            v = values.get(i.id)
            if v is None:
                if not self.missing_counts_zero:
                    raise InvalidValue(
                        f"values.{i.id}",
                        None,
                        f"缺少指标「{i.name}」/ missing indicator {i.name_en!r}",
                    )
                parts.append(ScorePart(indicator=i, value=None, points=0))
                continue
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise InvalidValue(
                    f"values.{i.id}",
                    v,
                    f"指标「{i.name}」需要非负整数 / {i.name_en} needs a whole number ≥ 0",
                )
            parts.append(ScorePart(indicator=i, value=v, points=i.points(v)))
        total = sum(p.points for p in parts)
        band = self.band_for(total)
        above = [b for b in self.bands if b.min_points > total]
        return ScoreResult(
            scorecard=self,
            parts=tuple(parts),
            total=total,
            band=band,
            next_band=above[-1] if above else None,
        )


def scorecard_for(cards: Iterable[Scorecard], day: date, *, name: str | None = None) -> Scorecard:
    """The card in force on ``day``: the latest ``effective_from`` on or before it.

    ``name`` keeps only cards of that name (a city may keep station and district cards in one
    list). No card in force is :class:`~zhiyuan.errors.NotFound`.

    Example:
        >>> scorecard_for(SCORECARD_PROFILES.values(), date(2024, 1, 1), name="新时代文明实践站星级评定（示例）").name
        '新时代文明实践站星级评定（示例）'
    """
    chosen = [c for c in items_of("cards", Scorecard, cards) if name is None or c.name == name]
    best = Schedule(chosen, field="cards").in_force(day) if chosen else None
    if best is None:
        raise NotFound("scorecard in force", day_arg("day", day).isoformat())
    return best


# --- the standard station values ---------------------------------------------------------------


def _count(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidValue(name, value, "需要非负整数 / need a whole number ≥ 0")
    return value


def station_values(
    *,
    activities: int,
    registered_volunteers: int,
    residents: int,
    certified_minutes: int,
    needs_posted: int,
    needs_filled: int,
    feedback: FeedbackScore,
) -> dict[str, int]:
    """The standard station indicator values (the ids of ``SCORECARD_PROFILES["station_stars"]``).

    Integer arithmetic, quotients rounded half up:

    - ``monthly_activities``: ``activities`` held in the assessed month;
    - ``volunteers_per_100``: registered volunteers per 100 residents, in hundredths
      (``registered_volunteers × 10000 / residents``: 14.47 per 100 → 1447);
    - ``hours_per_volunteer``: certified hours per registered volunteer, in tenths of an hour
      (``certified_minutes × 10 / (60 × registered_volunteers)``; 0 without volunteers). The
      shipped card expects the last 12 months' certified minutes;
    - ``needs_filled_pct``: needs filled (派单 completed) per 100 posted (点单); 0 when none were
      posted, since a station nobody orders from has not shown it meets needs;
    - ``feedback``: the Bayesian feedback score in hundredths of a star.

    Example:
        >>> from zhiyuan.scoring.feedback import FeedbackScore
        >>> station_values(activities=3, registered_volunteers=217, residents=1500,
        ...                certified_minutes=217 * 60 * 18 + 30, needs_posted=40, needs_filled=37,
        ...                feedback=FeedbackScore.of([5, 5, 4, 5]))
        {'monthly_activities': 3, 'volunteers_per_100': 1447, 'hours_per_volunteer': 180, 'needs_filled_pct': 93, 'feedback': 433}
    """
    activities = _count("activities", activities)
    volunteers = _count("registered_volunteers", registered_volunteers)
    residents = _count("residents", residents)
    minutes = _count("certified_minutes", certified_minutes)
    posted = _count("needs_posted", needs_posted)
    filled = _count("needs_filled", needs_filled)
    if not isinstance(feedback, FeedbackScore):
        raise InvalidValue("feedback", feedback, "需要 FeedbackScore / need a FeedbackScore")
    if residents == 0:
        raise InvalidValue("residents", 0, "常住人口须大于 0 / residents must be positive")
    if volunteers > residents:
        raise InvalidValue(
            "registered_volunteers",
            volunteers,
            f"多于常住人口 {residents} / more than the {residents} residents",
        )
    if filled > posted:
        raise InvalidValue(
            "needs_filled", filled, f"多于发布的需求 {posted} / more than the {posted} posted"
        )
    return {
        "monthly_activities": activities,
        "volunteers_per_100": Rounding.HALF_UP.divide(volunteers * 10000, residents),
        "hours_per_volunteer": Rounding.HALF_UP.divide(minutes * 10, 60 * volunteers)
        if volunteers
        else 0,
        "needs_filled_pct": Rounding.HALF_UP.divide(filled * 100, posted) if posted else 0,
        "feedback": feedback.bayesian_hundredths,
    }


# --- shipped examples --------------------------------------------------------------------------

_STATION = Scorecard(
    name="新时代文明实践站星级评定（示例）",
    name_en="Civilization practice station star rating (example)",
    effective_from=date(2023, 5, 8),
    indicators=(
        Indicator(
            id="monthly_activities",
            name="月度活动次数",
            name_en="activities this month",
            weight=25,
            target=4,
        ),
        Indicator(
            id="volunteers_per_100",
            name="每百名居民注册志愿者",
            name_en="registered volunteers per 100 residents",
            weight=20,
            target=1500,
            decimals=2,
        ),
        Indicator(
            id="hours_per_volunteer",
            name="人均年度认证时长",
            name_en="certified hours per volunteer a year",
            weight=20,
            target=250,
            unit=" h",
            decimals=1,
        ),
        Indicator(
            id="needs_filled_pct",
            name="群众点单满足率",
            name_en="needs filled",
            weight=15,
            target=95,
            unit="%",
        ),
        Indicator(
            id="feedback",
            name="群众评单得分",
            name_en="feedback score",
            weight=20,
            target=450,
            unit="★",
            decimals=2,
        ),
    ),
    bands=(
        Band(min_points=90, label="五星", label_en="5 stars"),
        Band(min_points=80, label="四星", label_en="4 stars"),
        Band(min_points=70, label="三星", label_en="3 stars"),
        Band(min_points=60, label="二星", label_en="2 stars"),
        Band(min_points=50, label="一星", label_en="1 star"),
    ),
    source=Source(
        document="新时代文明实践所、站星级评定",
        issuer="石狮日报",
        date=date(2023, 5, 8),
        url="http://wmf.fjsen.com/2023-05/08/content_31310161.htm",
        note="Stars 1–5 for 所/站: 石狮日报 2023-05-08, http://wmf.fjsen.com/2023-05/08/content_31310161.htm "
        "(venue, signage, team, rules, management, activities; S). Monthly activity: 高台县 2019, "
        "https://4bub.com/system/2019/06/10/030002247.shtml (≥1 a month; S) and the district test "
        "sheet https://xiexiebang.com/a1/d80ed2335e71ecda.html (所/站 monthly; V). Volunteers per "
        "100 residents: 全国文明城市 ≥8 % (洛阳日报 2009), 青岛市南 14.47 % (seed 001). Hours: "
        "全国文明城市测评体系 ≥25 h per capita a year (黄淮学院 2018; S). Needs filled and "
        "feedback: 英德 100 % dispatched, 98 % satisfied (人民日报 2022-01-11; S). Weights, "
        "targets beyond those and band thresholds are illustrative (POLICIES.md §1.5, §2.7, §4.1).",
    ),
)

_DISTRICT = Scorecard(
    name="XX区新时代文明实践工作测评（示例）",
    name_en="District civilization practice test sheet (example)",
    effective_from=date(2021, 1, 1),
    indicators=(
        Indicator(
            id="staff_volunteer_pct",
            name="机关事业单位和国企职工注册志愿者比例",
            name_en="public-sector and SOE staff registered as volunteers",
            weight=20,
            target=70,
            unit="%",
        ),
        Indicator(
            id="party_volunteer_pct",
            name="党员注册志愿者比例",
            name_en="Party members registered as volunteers",
            weight=20,
            target=80,
            unit="%",
        ),
        Indicator(
            id="stations_monthly_pct",
            name="每月开展活动的所站比例",
            name_en="所/站 holding an activity every month",
            weight=30,
            target=100,
            unit="%",
        ),
        Indicator(
            id="subcentres_bimonthly_pct",
            name="每两月开展活动的分中心和支队比例",
            name_en="sub-centres and support teams active every two months",
            weight=20,
            target=100,
            unit="%",
        ),
        Indicator(
            id="upheld_complaints",
            name="查实投诉件数",
            name_en="upheld complaints",
            weight=10,
            target=0,
            higher_is_better=False,
        ),
    ),
    bands=(
        Band(min_points=90, label="AAAAA"),
        Band(min_points=80, label="AAAA"),
        Band(min_points=70, label="AAA"),
        Band(min_points=60, label="AA"),
        Band(min_points=50, label="A"),
    ),
    source=Source(
        document="XX区新时代文明实践工作测评实施细则(试行)",
        issuer="XX区（转载，未注明日期 / a reprint, undated）",
        url="https://xiexiebang.com/a1/d80ed2335e71ecda.html",
        verified=True,
        note="(V, reprint, undated: base 100 points with deductions per item; staff of government, "
        "public institutions and SOEs who are volunteers ≥70 %; Party members ≥80 %; sub-centres "
        "and support teams an activity at least every two months, 所/站 monthly). The complaint "
        "item follows 海林 (0 h for an upheld complaint). A…AAAAA labels follow the style of "
        "graded assessments (the 5A–1A of 社会组织评估, recalled, not verified); thresholds, "
        "weights and the effective date are illustrative (POLICIES.md §1.5).",
    ),
)

SCORECARD_PROFILES: Profiles[Scorecard] = Profiles(
    {
        "station_stars": _STATION,
        "district_test": _DISTRICT,
    },
    kind=Scorecard,
    field="SCORECARD_PROFILES",
)
"""Shipped example scorecards, each citing its sources in ``source`` (POLICIES.md §1.5):

- ``station_stars``: a 新时代文明实践站 graded 一星…五星 (石狮 rates 所 and 站 1★–5★) on the
  month's activities, registered volunteers per 100 residents, certified hours per volunteer,
  needs filled and feedback; values from :func:`~zhiyuan.scoring.station_values`.
- ``district_test``: a district test sheet graded A…AAAAA on the volunteer shares of public-sector
  staff (70 %) and Party members (80 %), the activity rhythm of 所/站 (monthly) and of
  sub-centres (every two months), and upheld complaints (lower is better, target 0).

Both are examples: the sources give the items and some numbers, not the weights or band
thresholds, which a city sets by data (load its own card from TOML).
"""
