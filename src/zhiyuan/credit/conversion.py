"""Converting certified hours into points (工时折算积分): the policy as data, a pure conversion.

A :class:`ConversionPolicy` says which certified hours convert (by default the rows whose
evidence counts toward :attr:`~zhiyuan.hours.Purpose.POINTS`, so honour hours added by an
administrator do not), at what rate (``points_per_hour`` points for every ``hours_per_point``
hours, or diminishing :class:`Tier` bands on the volunteer's cumulative hours), how the rounding
works, the category multipliers, the caps per day, month, year and lifetime, the pending period
and the expiry. :data:`CONVERSION_PROFILES` holds the local schemes, each cited.

:func:`convert` is a pure function from certified :class:`~zhiyuan.hours.HourRow` values to
:class:`~zhiyuan.credit.Posting` values (kind ``EARN``), with one :class:`RowConversion` per row
that explains itself in findings: the rate, the rounding carry, the multiplier, the cap that cut
how much, or why the row does not convert. :func:`post_conversion` posts it to a
:class:`~zhiyuan.credit.PointsLedger`, all or nothing.

How rounding carries (结转)
    For each volunteer the rows are folded in order (by certification time, then record id).
    ``C`` is the volunteer's cumulative credited time so far (minutes × category multiplier)
    and ``V(C)`` its exact value in points, a rational number (piecewise linear under tiers).
    With ``carry=True`` (the default) a row earns ``R(V(C after)) − R(V(C before))``, where
    ``R`` is the stated :class:`~zhiyuan.hours.Rounding` (down by default): the fraction of a
    point left over is carried to the volunteer's next row, so four rows of 1 h at 4 h per point
    make exactly 1 point (the fourth row brings the cumulative value from ¾ to 1), and the sum
    over a history is ``R(V(C))`` whatever the pieces. With ``carry=False`` each row is
    rounded alone and its remainder dropped. The rounding finding of a row states the
    cumulative exact value, what has been issued for it and what is carried.

Caps
    Caps count points issued, per volunteer, by service date (a calendar day, month, year) and
    over the volunteer's whole history. They are applied in that order, each finding naming the
    cap and how much it cut; what a cap cuts is lost, not carried (the third hour of a day under
    a 2-a-day cap gives 0). Points already issued by earlier conversions (``already``) count
    first, net of reversals found among them.

Idempotence
    A row's posting id is ``<record id>#convert`` (the record id escaped, see
    :mod:`zhiyuan.journal`): the library's own, never a caller's. A row whose posting is among
    ``already`` (postings already made, or a ledger) is not issued again, but its credit still
    advances the volunteer's carry and tier position, so that converting a history in pieces
    gives the same postings as converting it whole. Pass the volunteer's whole certified history
    (:meth:`HourLedger.rows() <zhiyuan.hours.HourLedger.rows>`) each time: rows left out cannot
    advance the carry or the tiers.

References:
    POLICIES.md "Points, credit and time banks", §3.1–3.3 (sources on each profile).

Example:
    >>> from datetime import date, datetime
    >>> from zhiyuan import SHANGHAI
    >>> from zhiyuan.hours import Evidence, HourRow, Purpose
    >>> rongcheng = CONVERSION_PROFILES["rongcheng"]          # 4 h = 1 point
    >>> rows = [HourRow("v1", date(2025, 3, d), 60, 60, Evidence.QR_SCAN, "助老",
    ...                 frozenset({Purpose.POINTS}), "371082001001", record_id=f"r{d}",
    ...                 certified_at=datetime(2025, 3, d, 20, tzinfo=SHANGHAI))
    ...         for d in (1, 2, 3, 4)]
    >>> conv = convert(rows, rongcheng)
    >>> [r.points for r in conv.rows], [p.id for p in conv.postings]
    ([0, 0, 0, 1], ['r4#convert'])
    >>> print(conv.rows[3].explain())
    r4 (v1, 2025-03-04): 1 pt, converted
      [conversion.rate] 60 分钟按每 4 小时 1 分折合 1/4 分 / 60 min at 1 pt per 4 h is worth 1/4 pt
      [conversion.rounding] 累计折合 1 分，向下取整累计 1 分，结转 0 分至下一条 / worth 1 pt in all so far, rounded down to 1 in all; 0 pt carried to the next record
    >>> convert(rows, rongcheng, already=conv.postings).postings    # converting again: nothing new
    ()
"""

from __future__ import annotations

import enum
import functools
import itertools
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

import attrs
from dateutil.relativedelta import relativedelta

from zhiyuan._validators import (
    COUNT,
    DAYS,
    MINUTES,
    MONTHS,
    SHANGHAI,
    YEARS,
    bounded,
    enum_set,
    in_years,
    is_a,
    is_bool,
    is_date,
    items,
    items_of,
    key,
    moment,
    names,
    non_empty,
    text,
    to_enum,
    to_shanghai,
)
from zhiyuan.credit.accounts import VOLUNTEER_PREFIX, issuer_account, volunteer_account
from zhiyuan.credit.accounts import check_issuer as _issuer
from zhiyuan.credit.ledger import (
    ClawbackRule,
    PointsLedger,
    Posting,
    PostingKind,
    Timing,
    _postings,
)
from zhiyuan.errors import Conflict, InvalidValue, NotFound, show
from zhiyuan.explain import Finding, finding, register_messages
from zhiyuan.hours.ledger import HourRow
from zhiyuan.hours.policy import N, Purpose, Rounding
from zhiyuan.hours.records import Evidence
from zhiyuan.journal._ids import derive, foreign
from zhiyuan.profiles import Profiles, Source, explain_policy, to_source

__all__ = [
    "CONVERSION_PROFILES",
    "Conversion",
    "ConversionPolicy",
    "ConversionStatus",
    "Expiry",
    "RowConversion",
    "Tier",
    "convert",
    "post_conversion",
]

_CENTI = 100
"""Credit is kept in minute-percents (minutes × multiplier percent), so multipliers stay exact."""
_HOUR = 60 * _CENTI
"""One hour of credit at 100 %."""

register_messages(
    {
        ("conversion.excluded", "purpose"): (
            ("evidence",),
            "「{evidence}」记录不计入积分（荣誉时长等不折算）",
            "{evidence} hours do not count toward points (honour hours and the like do not convert)",
        ),
        ("conversion.excluded", "evidence"): (
            ("evidence",),
            "记录依据「{evidence}」不在可折算之列",
            "evidence {evidence} is not among the kinds that convert",
        ),
        ("conversion.excluded", "category"): (
            ("category",),
            "「{category}」类服务不折算",
            "category {category!r} does not convert",
        ),
        ("conversion.excluded", "not_in_force"): (
            ("service_date", "effective_from"),
            "服务日期 {service_date} 早于本办法施行日 {effective_from}",
            "served on {service_date}, before the policy took effect on {effective_from}",
        ),
        ("conversion.already", ""): (
            ("posting", "amount"),
            "已折算为 {posting}（{amount} 分），不重复发放",
            "already converted as {posting} ({amount} pt); not issued again",
        ),
        ("conversion.multiplier", ""): (
            ("category", "percent", "minutes", "credited"),
            "「{category}」按 {percent}% 计：{minutes} 分钟计为 {credited} 分钟",
            "category {category!r} counts {percent}%: {minutes} min credited as {credited}",
        ),
        ("conversion.rate", ""): (
            ("credited", "points_per_hour", "hours_per_point", "exact"),
            "{credited} 分钟按每 {hours_per_point} 小时 {points_per_hour} 分折合 {exact} 分",
            "{credited} min at {points_per_hour} pt per {hours_per_point} h is worth {exact} pt",
        ),
        ("conversion.tier", ""): (
            ("tier", "lower", "upper", "credited", "points_per_hour", "hours_per_point", "exact"),
            "第 {tier} 档（累计 {lower}–{upper} 小时）：{credited} 分钟按每 {hours_per_point} 小时 "
            "{points_per_hour} 分折合 {exact} 分",
            "tier {tier} ({lower}–{upper} h cumulative): {credited} min at {points_per_hour} pt "
            "per {hours_per_point} h is worth {exact} pt",
        ),
        ("conversion.tier", "open"): (
            ("tier", "lower", "credited", "points_per_hour", "hours_per_point", "exact"),
            "第 {tier} 档（累计 {lower} 小时以上）：{credited} 分钟按每 {hours_per_point} 小时 "
            "{points_per_hour} 分折合 {exact} 分",
            "tier {tier} (beyond {lower} h cumulative): {credited} min at {points_per_hour} pt "
            "per {hours_per_point} h is worth {exact} pt",
        ),
        ("conversion.rounding", "carry"): (
            ("exact", "mode_zh", "mode_en", "rounded", "carry"),
            "累计折合 {exact} 分，{mode_zh}取整累计 {rounded} 分，结转 {carry} 分至下一条",
            "worth {exact} pt in all so far, rounded {mode_en} to {rounded} in all; "
            "{carry} pt carried to the next record",
        ),
        ("conversion.rounding", "ahead"): (
            ("exact", "mode_zh", "mode_en", "rounded", "ahead"),
            "累计折合 {exact} 分，{mode_zh}取整累计 {rounded} 分，已预发 {ahead} 分，由后续记录抵扣",
            "worth {exact} pt in all so far, rounded {mode_en} to {rounded} in all; "
            "{ahead} pt issued ahead, taken from the next records",
        ),
        ("conversion.rounding", "drop"): (
            ("exact", "mode_zh", "mode_en", "points", "dropped"),
            "本条折合 {exact} 分，{mode_zh}取整为 {points} 分，舍去 {dropped} 分（不结转）",
            "this record is worth {exact} pt, rounded {mode_en} to {points}; "
            "{dropped} pt dropped (no carry)",
        ),
        ("conversion.rounding", "add"): (
            ("exact", "mode_zh", "mode_en", "points", "added"),
            "本条折合 {exact} 分，{mode_zh}取整为 {points} 分，多计 {added} 分（不结转）",
            "this record is worth {exact} pt, rounded {mode_en} to {points}; "
            "{added} pt added (no carry)",
        ),
        ("conversion.cap", "day"): (
            ("cap", "used", "before", "after"),
            "每日最多 {cap} 分，当日已发 {used} 分：{before} 分核减为 {after} 分",
            "at most {cap} pt a day, {used} already issued that day: {before} cut to {after}",
        ),
        ("conversion.cap", "month"): (
            ("cap", "used", "before", "after"),
            "每月最多 {cap} 分，当月已发 {used} 分：{before} 分核减为 {after} 分",
            "at most {cap} pt a month, {used} already issued that month: {before} cut to {after}",
        ),
        ("conversion.cap", "year"): (
            ("cap", "used", "before", "after"),
            "每年最多 {cap} 分，当年已发 {used} 分：{before} 分核减为 {after} 分",
            "at most {cap} pt a year, {used} already issued that year: {before} cut to {after}",
        ),
        ("conversion.cap", "lifetime"): (
            ("cap", "used", "before", "after"),
            "每人累计最多 {cap} 分，已发 {used} 分：{before} 分核减为 {after} 分",
            "at most {cap} pt per person in all, {used} already issued: {before} cut to {after}",
        ),
        ("conversion.pending", ""): (
            ("days", "available_from"),
            "待生效 {days} 天，{available_from} 起可用",
            "spendable after a {days}-day pending period, from {available_from}",
        ),
        ("conversion.expiry", "year_end"): (
            ("year",),
            "年底清零：{year} 年 12 月 31 日后失效",
            "expires at the year end: valid through 31 December {year}",
        ),
        ("conversion.expiry", "period"): (
            ("period_zh", "period_en", "expires_at"),
            "有效期 {period_zh}，{expires_at} 失效",
            "valid for {period_en}, expires {expires_at}",
        ),
        ("conversion.expiry", "unusable"): (
            ("available_from", "expires_at"),
            "待生效期至 {available_from}，但 {expires_at} 已失效：积分无法使用",
            "pending until {available_from} but expired at {expires_at}: never spendable",
        ),
    }
)


class Expiry(enum.Enum):
    """When converted points expire (积分有效期)."""

    NONE = "none"
    """Never."""
    PERIOD = "period"
    """A fixed period after earning (``expiry_years``/``expiry_months``/``expiry_days``;
    黄山: 3 years), by calendar arithmetic (:class:`dateutil.relativedelta.relativedelta`)."""
    YEAR_END = "year_end"
    """On 31 December of the year earned: valid until the next 1 January, 00:00 (志愿黄石)."""


class ConversionStatus(enum.Enum):
    """What became of one row."""

    CONVERTED = "converted"
    """Points issued (a posting)."""
    ZERO = "zero"
    """The row converts but earned nothing this time: its value was carried, or a cap cut it."""
    EXCLUDED = "excluded"
    """The row does not convert under this policy (evidence, category, before the policy)."""
    ALREADY = "already"
    """Converted before (its posting is among ``already``); not issued again."""


@attrs.frozen(kw_only=True)
class Tier:
    """A band of cumulative converted hours and its rate (增量递减).

    Attributes:
        up_to_hours: the band runs up to this many cumulative hours (inclusive); ``None`` for
            the last, open band.
        hours_per_point: hours per ``points_per_hour`` points in this band.
    """

    up_to_hours: int | None = attrs.field(default=None, validator=bounded(1, COUNT, "hours"))
    hours_per_point: int = attrs.field(default=1, validator=bounded(1, 10_000, "hours"))


MULTIPLIER_MAX = 10_000
"""The largest category multiplier, in percent (100×)."""


def _tiers(value: object) -> tuple[Tier, ...]:
    """Tiers from a list of :class:`Tier`, ``(up_to_hours, hours_per_point)`` pairs or mappings
    of their fields; ``None``, text, a mapping or a bool is not a list of tiers."""
    out: list[Tier] = []
    for t in items("tiers", value):
        if isinstance(t, Tier):
            out.append(t)
        elif isinstance(t, Mapping):
            try:
                out.append(Tier(**t))
            except TypeError:
                raise InvalidValue("tiers", dict(t), "未知字段 / unknown fields") from None
        elif isinstance(t, (tuple, list)) and len(t) == 2:
            out.append(Tier(up_to_hours=t[0], hours_per_point=t[1]))
        else:
            raise InvalidValue(
                "tiers",
                t,
                "档位为 (累计小时上限, 每分小时数) / a tier is (up to hours, hours per point)",
            )
    return tuple(out)


def _kinds(value: object) -> frozenset[Evidence] | None:
    """``None`` (every attested kind) or a collection of evidence kinds (members or values); a
    single kind or a string is refused, so that ``"qr_scan,gps"`` cannot pass for a set."""
    return None if value is None else enum_set("evidence", Evidence, value)


def _strs(value: object) -> frozenset[str] | None:
    return names("categories", value)


def _percents(value: Mapping[Any, Any]) -> dict[str, int]:
    if not isinstance(value, Mapping):
        raise InvalidValue("category_multipliers", value, "需要映射 / need a mapping")
    out: dict[str, int] = {}
    for k, v in value.items():
        if not isinstance(k, str) or not k.strip():
            raise InvalidValue("category_multipliers", k, "类别须为文字 / a category is text")
        text("category_multipliers", k)
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= MULTIPLIER_MAX:
            raise InvalidValue(
                f"category_multipliers.{k}",
                v,
                f"倍率为 0 到 {MULTIPLIER_MAX} 的整数百分比 / a multiplier is a whole percent, "
                f"0 to {MULTIPLIER_MAX}",
            )
        out[k] = v
    return out


def _issuer_account(_: object, attribute: attrs.Attribute[Any], value: str) -> None:
    _issuer(value, attribute.name)


def _at(field: str, value: object) -> datetime:
    """A required aware moment in Asia/Shanghai (``None`` is refused, not read as now)."""
    if value is None:
        raise InvalidValue(field, None, "需要带时区的时间 / need a timezone-aware datetime")
    return moment(value, field)


def _rounding(value: object) -> Rounding:
    return to_enum("rounding", Rounding, value)


def _expiry(value: object) -> Expiry:
    return to_enum("expiry", Expiry, value)


def _timing(value: object) -> Timing:
    return to_enum("timing", Timing, value)


def _clawback(value: object) -> ClawbackRule:
    return to_enum("clawback", ClawbackRule, value)


_DEFAULT_FROM = date(2017, 12, 1)


@attrs.frozen(kw_only=True)
class ConversionPolicy:
    """How certified hours become points, time credits or credit score (积分折算办法), as data.

    Attributes:
        name: a label for reports and the default issuer account.
        effective_from: rows served before this date do not convert under this policy (default:
            2017-12-01, when 《志愿服务条例》 came into force; no national text sets a
            conversion, so this is a floor, not a claim about any scheme).
        source: where the policy comes from (:class:`~zhiyuan.profiles.Source`): set on every
            shipped profile, ``None`` for a policy of your own.
        instrument: what is issued (``points``, ``time_credits``, ``credit_score`` …), the
            instrument of the ledger it is posted to; posting ids are ``<record id>#convert``.
        issuer: the account points come from (default ``issuer:<name>``).
        evidence: the evidence kinds that convert; ``None`` (default) converts the rows whose
            ``purposes`` include :attr:`Purpose.POINTS <zhiyuan.hours.Purpose.POINTS>` (the hour
            policy's attested kinds: honour hours and self reports do not).
        categories: the categories that convert; ``None`` converts all.
        weighted: convert the hour policy's category-weighted minutes instead of plain ones.
        points_per_hour: points for every ``hours_per_point`` hours (1 pt/h: 1 and 1).
        hours_per_point: hours per ``points_per_hour`` points (荣成: 4 h = 1 pt).
        tiers: diminishing bands on the volunteer's cumulative credited hours (威海), each with
            its own ``hours_per_point``; the last band is open (``up_to_hours=None``). With
            tiers, ``hours_per_point`` stays 1.
        rounding: how the exact value rounds (default down).
        carry: carry the fraction of a point left by rounding to the volunteer's next row
            (default); ``False`` rounds each row alone and drops its remainder.
        category_multipliers: percent multipliers by category (150 = 1.5×), on the credited
            minutes; 100 when a category has none.
        daily_cap, monthly_cap, yearly_cap: at most this many points per volunteer per service
            day, calendar month, calendar year; ``None`` for none.
        lifetime_cap: at most this many points per volunteer in all, or ``None``.
        pending_days: days after earning before the points are spendable (``available_from``).
        expiry: when the points expire; ``expiry_years``, ``expiry_months`` and ``expiry_days``
            give the period for :attr:`Expiry.PERIOD`.
        timing: when certified hours become points on a :class:`~zhiyuan.platform.Platform`:
            at once (default) or in the batch :meth:`~zhiyuan.platform.Platform.settle` runs.
        clawback: what happens when the hours of points already spent are reversed
            (:class:`~zhiyuan.credit.ClawbackRule`; default ``debt``: taken from the
            volunteer's other points, the rest owed).
    """

    name: str = attrs.field(default="default", validator=non_empty)
    effective_from: date = attrs.field(default=_DEFAULT_FROM, validator=is_date)
    source: Source | None = attrs.field(default=None, converter=to_source)
    instrument: str = attrs.field(default="points", validator=non_empty)
    issuer: str = attrs.field(
        default=attrs.Factory(lambda self: issuer_account(self.name), takes_self=True),
        validator=_issuer_account,
    )
    evidence: frozenset[Evidence] | None = attrs.field(default=None, converter=_kinds)
    categories: frozenset[str] | None = attrs.field(default=None, converter=_strs)
    weighted: bool = attrs.field(default=False, validator=is_bool)
    points_per_hour: int = attrs.field(default=1, validator=bounded(1, 10_000, "points"))
    hours_per_point: int = attrs.field(default=1, validator=bounded(1, 10_000, "hours"))
    tiers: tuple[Tier, ...] = attrs.field(default=(), converter=_tiers)
    rounding: Rounding = attrs.field(default=Rounding.DOWN, converter=_rounding)
    carry: bool = attrs.field(default=True, validator=is_bool)
    category_multipliers: dict[str, int] = attrs.field(factory=dict, converter=_percents)
    daily_cap: int | None = attrs.field(default=None, validator=bounded(1, COUNT, "points"))
    monthly_cap: int | None = attrs.field(default=None, validator=bounded(1, COUNT, "points"))
    yearly_cap: int | None = attrs.field(default=None, validator=bounded(1, COUNT, "points"))
    lifetime_cap: int | None = attrs.field(default=None, validator=bounded(1, COUNT, "points"))
    pending_days: int = attrs.field(default=0, validator=bounded(0, DAYS, "days"))
    expiry: Expiry = attrs.field(default=Expiry.NONE, converter=_expiry)
    expiry_years: int = attrs.field(default=0, validator=bounded(0, YEARS, "years"))
    expiry_months: int = attrs.field(default=0, validator=bounded(0, MONTHS, "months"))
    expiry_days: int = attrs.field(default=0, validator=bounded(0, DAYS, "days"))
    timing: Timing = attrs.field(default=Timing.AT_ONCE, converter=_timing)
    clawback: ClawbackRule = attrs.field(default=ClawbackRule.DEBT, converter=_clawback)

    _bands: tuple[tuple[int, int | None, int], ...] = attrs.field(init=False, eq=False, repr=False)
    _lcm: int = attrs.field(init=False, eq=False, repr=False)

    def explain(self) -> str:
        """This policy in two lines, Chinese / English: name, first day in force, source."""
        return explain_policy(self, "工时折算规则", "conversion policy")

    def __attrs_post_init__(self) -> None:
        if self.tiers:
            if self.hours_per_point != 1:
                raise InvalidValue(
                    "hours_per_point",
                    self.hours_per_point,
                    "分档时每档自定小时数，此项应为 1 / with tiers, set hours per point per tier",
                )
            bounds = [t.up_to_hours for t in self.tiers]
            if bounds[-1] is not None:
                raise InvalidValue(
                    "tiers", bounds[-1], "最后一档应无上限 / the last tier is open (no up_to_hours)"
                )
            inner = [b for b in bounds[:-1] if b is not None]
            if len(inner) != len(bounds) - 1 or any(
                b2 <= b1 for b1, b2 in itertools.pairwise(inner)
            ):
                raise InvalidValue(
                    "tiers",
                    bounds,
                    "档位上限须递增 / tier bounds must increase, only the last open",
                )
        if self.expiry is Expiry.PERIOD:
            if not (self.expiry_years or self.expiry_months or self.expiry_days):
                raise InvalidValue(
                    "expiry", "period", "有效期须大于零 / a period expiry needs a length"
                )
        elif self.expiry_years or self.expiry_months or self.expiry_days:
            raise InvalidValue(
                "expiry",
                self.expiry.value,
                "仅 period 使用有效期长度 / only a period expiry takes a length",
            )
        bands: list[tuple[int, int | None, int]] = []
        lower = 0
        for t in self.tiers or (Tier(hours_per_point=self.hours_per_point),):
            upper = None if t.up_to_hours is None else t.up_to_hours * _HOUR
            bands.append((lower, upper, t.hours_per_point))
            lower = upper if upper is not None else lower
        object.__setattr__(self, "_bands", tuple(bands))
        object.__setattr__(self, "_lcm", math.lcm(*(b[2] for b in bands)))

    # --- arithmetic ---------------------------------------------------------------------------

    def posting_id(self, record_id: str) -> str:
        """The id of the posting that converts a record: ``<record id>#convert``.

        Example:
            >>> CONVERSION_PROFILES["shanghai_time_bank"].posting_id("r1")
            'r1#convert'
        """
        return derive(foreign(key("record_id", record_id)), "convert")

    @property
    def denominator(self) -> int:
        """The denominator of every :meth:`value`: 6,000 (an hour in minute-percents) × the least
        common multiple of the tiers' hours per point."""
        return _HOUR * self._lcm

    @property
    def steepest(self) -> int:
        """A bound on what one minute-percent of credit adds to :meth:`value` (for overflow checks)."""
        return self._lcm * self.points_per_hour

    def value(self, credit: N) -> N:
        """The exact worth of ``credit`` cumulative minute-percents (minutes × category percent),
        as a numerator over :attr:`denominator`: the tier bands as a piecewise-linear sum.

        ``credit`` is a Python integer (the object path) or a numpy integer array (the columnar
        twin, :func:`~zhiyuan.bulk.convert_points`), elementwise: one kernel for both.

        Example:
            >>> weihai = CONVERSION_PROFILES["weihai"]
            >>> weihai.value(21 * 6000) / weihai.denominator   # 20 h at 1 per h, 1 h at 1 per 2 h
            20.5
        """
        num = 0 * credit
        for lower, upper, hpp in self._bands:
            part = credit - lower
            part = part * (part > 0)
            if upper is not None:
                width = upper - lower
                part = part - (part - width) * (part > width)
            num = num + part * (self._lcm // hpp)
        return num * self.points_per_hour

    def round_value(self, num: N) -> N:
        """A :meth:`value` numerator as whole points, rounded the policy's way.

        Example:
            >>> weihai = CONVERSION_PROFILES["weihai"]
            >>> weihai.round_value(weihai.value(21 * 6000))
            20
        """
        return self.rounding.divide(num, self.denominator)

    def _caps(self) -> dict[str, int | None]:
        """The caps by window (``day``, ``month``, ``year``, ``lifetime``; ``None``: no cap)."""
        return {
            "day": self.daily_cap,
            "month": self.monthly_cap,
            "year": self.yearly_cap,
            "lifetime": self.lifetime_cap,
        }

    def points_for(self, minutes: int) -> int:
        """Points for ``minutes`` of credited time from zero, rounded (before any cap).

        Example:
            >>> weihai = CONVERSION_PROFILES["weihai"]
            >>> [weihai.points_for(h * 60) for h in (20, 21, 22, 80, 200, 204)]
            [20, 20, 21, 50, 90, 91]
        """
        if isinstance(minutes, bool) or not isinstance(minutes, int) or not 0 <= minutes <= COUNT:
            raise InvalidValue(
                "minutes", minutes, f"需要 0 到 {COUNT} 的整数 / need a whole number, 0 to {COUNT}"
            )
        return self.round_value(self.value(minutes * _CENTI))

    def multiplier(self, category: str) -> int:
        """The category's multiplier in percent (100 when none is set)."""
        return self.category_multipliers.get(key("category", category), 100)

    def expires_at(self, at: datetime) -> datetime | None:
        """When points earned at ``at`` expire (``None``: never).

        Example:
            >>> from zhiyuan import SHANGHAI
            >>> CONVERSION_PROFILES["huangshi"].expires_at(datetime(2025, 6, 1, tzinfo=SHANGHAI))
            datetime.datetime(2026, 1, 1, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='Asia/Shanghai'))
        """
        at = _at("at", at)
        if self.expiry is Expiry.YEAR_END:
            return datetime(at.year + 1, 1, 1, tzinfo=SHANGHAI)
        if self.expiry is Expiry.PERIOD:
            return at + relativedelta(
                years=self.expiry_years, months=self.expiry_months, days=self.expiry_days
            )
        return None

    def available_from(self, at: datetime) -> datetime | None:
        """When points earned at ``at`` become spendable (``None``: at once)."""
        at = _at("at", at)
        return at + timedelta(days=self.pending_days) if self.pending_days else None

    def _exclusion(self, row: HourRow) -> Finding | None:
        if row.service_date < self.effective_from:
            return finding(
                "conversion.excluded",
                (row.service_date.isoformat(), self.effective_from.isoformat()),
                "not_in_force",
            )
        if self.evidence is None:
            if Purpose.POINTS not in row.purposes:
                return finding("conversion.excluded", (row.evidence.value,), "purpose")
        elif row.evidence not in self.evidence:
            return finding("conversion.excluded", (row.evidence.value,), "evidence")
        if self.categories is not None and row.category not in self.categories:
            return finding("conversion.excluded", (row.category,), "category")
        return None

    def converts(self, row: HourRow) -> bool:
        """True if the row converts under this policy (evidence, category, date)."""
        return self._exclusion(row) is None


# --- results ----------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class RowConversion:
    """What one certified row became, and why.

    Attributes:
        record_id, volunteer_id, service_date: the row.
        at: the posting time (the row's ``certified_at``, or the end of its service date).
        status: converted, zero, excluded or already converted.
        minutes: the minutes taken from the row (weighted or not, per the policy).
        percent: the category multiplier applied.
        raw_points: points before caps (after rounding and carry).
        points: points issued now (0 unless ``status`` is converted).
        posting: the posting, if any.
        findings: the explanation.
    """

    record_id: str
    volunteer_id: str
    service_date: date
    at: datetime
    status: ConversionStatus
    minutes: int = 0
    percent: int = 100
    raw_points: int = 0
    points: int = 0
    posting: Posting | None = attrs.field(default=None, validator=is_a(Posting))
    findings: tuple[Finding, ...] = ()

    def explain(self) -> str:
        """A head line and one line per finding."""
        head = (
            f"{self.record_id} ({self.volunteer_id}, {self.service_date.isoformat()}): "
            f"{self.points} pt, {self.status.value}"
        )
        return "\n".join([head, *(f"  {f}" for f in self.findings)])


def _row_conversions(value: object) -> tuple[RowConversion, ...]:
    return items_of("rows", RowConversion, value)


@attrs.frozen(kw_only=True)
class Conversion:
    """The result of :func:`convert`: one :class:`RowConversion` per row, in posting order."""

    policy: str
    instrument: str
    issuer: str
    rows: tuple[RowConversion, ...] = attrs.field(converter=_row_conversions)

    @property
    def postings(self) -> tuple[Posting, ...]:
        """The new postings, in order (by posting time, then record id)."""
        return tuple(r.posting for r in self.rows if r.posting is not None)

    @property
    def points(self) -> int:
        """Points issued by the new postings."""
        return sum(r.points for r in self.rows)

    def by_volunteer(self) -> dict[str, int]:
        """Points issued per volunteer (those with any)."""
        out: dict[str, int] = {}
        for r in self.rows:
            if r.points:
                out[r.volunteer_id] = out.get(r.volunteer_id, 0) + r.points
        return out

    def row(self, record_id: str) -> RowConversion:
        """The conversion of one record."""
        for r in self.rows:
            if r.record_id == record_id:
                return r
        raise NotFound("record", record_id)

    def explain(self) -> str:
        """Every row's explanation, in order."""
        head = f"{self.policy} ({self.instrument}): {self.points} issued in {len(self.postings)} posting(s)"
        return "\n".join([head, *(r.explain() for r in self.rows)])


# --- conversion -------------------------------------------------------------------------------


def _frac(num: int, den: int) -> str:
    """An exact fraction as text: ``2``, ``1/4``, ``2 1/4``, ``-3/4``."""
    g = math.gcd(num, den)
    num, den = num // g, den // g
    sign = "-" if num < 0 else ""
    whole, rest = divmod(abs(num), den)
    if not rest:
        return f"{sign}{whole}"
    if not whole:
        return f"{sign}{rest}/{den}"
    return f"{sign}{whole} {rest}/{den}"


def _minutes_text(credit: int) -> str:
    """Minute-percents as minutes (``45``, ``45.5``, ``45.25``)."""
    q, r = divmod(credit, _CENTI)
    return str(q) if not r else f"{q}.{r:02d}".rstrip("0")


_MODE = {
    Rounding.DOWN: ("向下", "down"),
    Rounding.UP: ("向上", "up"),
    Rounding.HALF_UP: ("四舍五入", "half up"),
}

_END_OF_DAY = time(23, 59, 59)


def _posting_time(row: HourRow) -> datetime:
    at = row.certified_at
    if at is None:
        return datetime.combine(row.service_date, _END_OF_DAY, tzinfo=SHANGHAI)
    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise InvalidValue(
            "certified_at", str(at), "需要带时区的时间 / need a timezone-aware datetime"
        )
    return to_shanghai(at)


def _check_row(row: HourRow) -> str:
    if not isinstance(row, HourRow):
        raise InvalidValue("rows", row, "需要 HourRow / need HourRows", shown=show(row))
    rid = row.record_id
    if rid is None or not isinstance(rid, str) or not rid.strip():
        raise InvalidValue(
            "record_id", rid, "折算须有记录编号 / a row needs its record id to convert"
        )
    key("volunteer_id", row.volunteer_id)
    for name in ("minutes", "weighted_minutes"):
        v = getattr(row, name)
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= MINUTES:
            raise InvalidValue(
                name, v, f"需要 0 到 {MINUTES} 的整数 / need a whole number, 0 to {MINUTES}"
            )
    if not isinstance(row.service_date, date) or isinstance(row.service_date, datetime):
        raise InvalidValue("service_date", row.service_date, "需要日期 / need a date")
    in_years("service_date", row.service_date)
    if not isinstance(row.evidence, Evidence):
        raise InvalidValue("evidence", row.evidence, "需要 Evidence / need an Evidence")
    if not isinstance(row.category, str):
        raise InvalidValue("category", row.category, "需要文字 / need text")
    if not isinstance(row.purposes, (frozenset, set)) or not all(
        isinstance(x, Purpose) for x in row.purposes
    ):
        raise InvalidValue("purposes", row.purposes, "需要 Purpose 集合 / need a set of Purposes")
    return rid


class _Usage:
    """Points issued so far for one volunteer, by cap window."""

    __slots__ = ("days", "life", "months", "years")

    def __init__(self) -> None:
        self.days: dict[date, int] = {}
        self.months: dict[tuple[int, int], int] = {}
        self.years: dict[int, int] = {}
        self.life = 0

    def add(self, day: date, n: int) -> None:
        self.days[day] = self.days.get(day, 0) + n
        m = (day.year, day.month)
        self.months[m] = self.months.get(m, 0) + n
        self.years[day.year] = self.years.get(day.year, 0) + n
        self.life += n

    def windows(self, day: date) -> Iterator[tuple[str, int]]:
        yield "day", self.days.get(day, 0)
        yield "month", self.months.get((day.year, day.month), 0)
        yield "year", self.years.get(day.year, 0)
        yield "lifetime", self.life


def _prior(
    postings: Sequence[Posting], policy: ConversionPolicy, dates: Mapping[str, date]
) -> tuple[dict[str, Posting], dict[str, _Usage]]:
    """Earlier conversion postings by id, and what they issued per volunteer (net of reversals)."""
    mine: dict[str, Posting] = {}
    for p in postings:
        if (
            p.kind is PostingKind.EARN
            and p.ref is not None
            and p.id == policy.posting_id(p.ref)
            and p.target.startswith(VOLUNTEER_PREFIX)
        ):
            mine[p.id] = p
    reversed_: dict[str, int] = {}
    for p in postings:
        if p.reverses is not None and p.reverses in mine:
            reversed_[p.reverses] = reversed_.get(p.reverses, 0) + p.amount
    usage: dict[str, _Usage] = {}
    for pid, p in mine.items():
        net = p.amount - reversed_.get(pid, 0)
        if net <= 0:
            continue
        vid = p.target[len(VOLUNTEER_PREFIX) :]
        assert p.ref is not None
        day = dates.get(p.ref) or p.at.astimezone(SHANGHAI).date()
        usage.setdefault(vid, _Usage()).add(day, net)
    return mine, usage


def convert(
    rows: Iterable[HourRow],
    policy: ConversionPolicy,
    *,
    already: Iterable[Posting] | PointsLedger = (),
) -> Conversion:
    """Convert certified hour rows into ``EARN`` postings under ``policy``. Pure.

    Args:
        rows: certified rows (:meth:`HourLedger.rows() <zhiyuan.hours.HourLedger.rows>`), the
            volunteers' whole certified history (see the module doc); each needs a
            ``record_id``. The same row twice counts once.
        policy: the conversion policy.
        already: the postings made so far (or the ledger itself): rows converted before are not
            issued again, and what they issued counts toward the caps.

    Returns:
        A :class:`Conversion`, rows ordered by posting time (``certified_at``, or the end of the
        service date when it is ``None``), then record id.

    Raises:
        InvalidValue: a row without a record id, with negative or non-integer minutes, or with a
            naive ``certified_at``; nothing is converted.
        Conflict: two different rows under one record id, or a posting under a row's posting id
            that is not this row's conversion.
    """
    if not isinstance(policy, ConversionPolicy):
        raise InvalidValue("policy", policy, "需要 ConversionPolicy / need one", shown=show(policy))
    prior_postings = (
        already.postings if isinstance(already, PointsLedger) else _postings("already", already)
    )
    table: dict[str, tuple[datetime, HourRow]] = {}
    for row in items("rows", rows):
        rid = _check_row(row)
        at = _posting_time(row)
        old = table.get(rid)
        if old is not None and old[1] != row:
            raise Conflict(f"record id {rid!r} appears in two different rows / 记录编号重复")
        table[rid] = (at, row)
    dates = {rid: row.service_date for rid, (_, row) in table.items()}
    prior, usage = _prior(prior_postings, policy, dates)
    by_id = {p.id: p for p in prior_postings}
    credit: dict[str, int] = {}
    out: list[RowConversion] = []
    for rid, (at, row) in sorted(table.items(), key=lambda kv: (kv[1][0], kv[0])):
        out.append(_one(policy, rid, at, row, by_id, prior, credit, usage))
    return Conversion(
        policy=policy.name, instrument=policy.instrument, issuer=policy.issuer, rows=tuple(out)
    )


def _convert_last(
    row: HourRow, earlier: Iterable[HourRow], policy: ConversionPolicy, already: Sequence[Posting]
) -> RowConversion:
    """What :func:`convert` gives ``row`` when it comes after every row of ``earlier`` in the
    conversion's order and each of those is converted already (or gives nothing under the
    state ``already`` holds): the earlier rows only add their credit, and ``already`` (their
    postings and the reversals of them) what the caps have used. Equal to converting the whole
    history, at the cost of a sum over it (the platform's path for a record certified last)."""
    rid = _check_row(row)
    at = _posting_time(row)
    dates = {rid: row.service_date}
    credit = 0
    for r in earlier:
        if r.record_id is not None:
            dates[r.record_id] = r.service_date
        if policy._exclusion(r) is None:
            minutes = r.weighted_minutes if policy.weighted else r.minutes
            credit += minutes * policy.multiplier(r.category)
    prior, usage = _prior(already, policy, dates)
    by_id = {p.id: p for p in already}
    return _one(policy, rid, at, row, by_id, prior, {row.volunteer_id: credit}, usage)


def _one(
    policy: ConversionPolicy,
    rid: str,
    at: datetime,
    row: HourRow,
    by_id: Mapping[str, Posting],
    prior: Mapping[str, Posting],
    credit: dict[str, int],
    usage: dict[str, _Usage],
) -> RowConversion:
    vid = row.volunteer_id
    result = functools.partial(
        RowConversion, record_id=rid, volunteer_id=vid, service_date=row.service_date, at=at
    )
    pid = policy.posting_id(rid)
    excluded = policy._exclusion(row)
    minutes = row.weighted_minutes if policy.weighted else row.minutes
    percent = policy.multiplier(row.category)
    units = minutes * percent
    before = credit.get(vid, 0)
    after = before + units
    done = by_id.get(pid)
    if done is not None:
        mine = prior.get(pid)
        if mine is None or mine.target != volunteer_account(vid):
            raise Conflict(
                f"posting id {pid!r} is already used by another posting / 记账编号已被占用"
            )
        if excluded is None:
            credit[vid] = after
        return result(
            status=ConversionStatus.ALREADY,
            minutes=minutes,
            percent=percent,
            findings=(finding("conversion.already", (pid, mine.amount)),),
        )
    if excluded is not None:
        return result(
            status=ConversionStatus.EXCLUDED,
            minutes=minutes,
            percent=percent,
            findings=(excluded,),
        )
    findings: list[Finding] = []
    if percent != 100:
        findings.append(
            finding("conversion.multiplier", (row.category, percent, minutes, _minutes_text(units)))
        )
    findings.extend(_rate_findings(policy, before, after))
    den = policy.denominator
    v0, v1 = policy.value(before), policy.value(after)
    zh, en = _MODE[policy.rounding]
    if policy.carry:
        r0, r1 = policy.round_value(v0), policy.round_value(v1)
        raw = r1 - r0
        if v0 != r0 * den or v1 != r1 * den:
            left = v1 - r1 * den
            if left >= 0:
                findings.append(
                    finding(
                        "conversion.rounding",
                        (_frac(v1, den), zh, en, r1, _frac(left, den)),
                        "carry",
                    )
                )
            else:
                findings.append(
                    finding(
                        "conversion.rounding",
                        (_frac(v1, den), zh, en, r1, _frac(-left, den)),
                        "ahead",
                    )
                )
    else:
        worth = v1 - v0
        raw = policy.round_value(worth)
        rest = worth - raw * den
        if rest > 0:
            findings.append(
                finding(
                    "conversion.rounding",
                    (_frac(worth, den), zh, en, raw, _frac(rest, den)),
                    "drop",
                )
            )
        elif rest < 0:
            findings.append(
                finding(
                    "conversion.rounding",
                    (_frac(worth, den), zh, en, raw, _frac(-rest, den)),
                    "add",
                )
            )
    credit[vid] = after
    points = raw
    use = usage.setdefault(vid, _Usage())
    caps = policy._caps()
    for window, used in use.windows(row.service_date):
        cap = caps[window]
        if cap is None or points == 0:
            continue
        room = max(cap - used, 0)
        if points > room:
            findings.append(finding("conversion.cap", (cap, used, points, room), window))
            points = room
    if points == 0:
        return result(
            status=ConversionStatus.ZERO,
            minutes=minutes,
            percent=percent,
            raw_points=raw,
            findings=tuple(findings),
        )
    use.add(row.service_date, points)
    available_from = policy.available_from(at)
    expires_at = policy.expires_at(at)
    if available_from is not None:
        findings.append(
            finding(
                "conversion.pending",
                (policy.pending_days, available_from.isoformat(timespec="minutes")),
            )
        )
    if expires_at is not None:
        if policy.expiry is Expiry.YEAR_END:
            findings.append(finding("conversion.expiry", (at.year,), "year_end"))
        else:
            zh_p, en_p = _period_text(policy)
            findings.append(
                finding(
                    "conversion.expiry",
                    (zh_p, en_p, expires_at.isoformat(timespec="minutes")),
                    "period",
                )
            )
        if available_from is not None and available_from >= expires_at:
            findings.append(
                finding(
                    "conversion.expiry",
                    (
                        available_from.isoformat(timespec="minutes"),
                        expires_at.isoformat(timespec="minutes"),
                    ),
                    "unusable",
                )
            )
    posting = Posting(
        id=pid,
        at=at,
        kind=PostingKind.EARN,
        source=policy.issuer,
        target=volunteer_account(vid),
        amount=points,
        ref=rid,
        available_from=available_from,
        expires_at=expires_at,
        note=f"{policy.name}: {row.service_date.isoformat()}, {minutes} min",
    )
    return result(
        status=ConversionStatus.CONVERTED,
        minutes=minutes,
        percent=percent,
        raw_points=raw,
        points=points,
        posting=posting,
        findings=tuple(findings),
    )


def _rate_findings(policy: ConversionPolicy, before: int, after: int) -> list[Finding]:
    den = policy.denominator
    pph = policy.points_per_hour
    if not policy.tiers:
        worth = policy.value(after) - policy.value(before)
        return [
            finding(
                "conversion.rate",
                (_minutes_text(after - before), pph, policy.hours_per_point, _frac(worth, den)),
            )
        ]
    out: list[Finding] = []
    for k, (lower, upper, hpp) in enumerate(policy._bands, start=1):
        lo = max(before, lower)
        hi = after if upper is None else min(after, upper)
        if hi <= lo:
            continue
        worth = (hi - lo) * (policy._lcm // hpp) * pph
        text = _minutes_text(hi - lo)
        if upper is None:
            out.append(
                finding(
                    "conversion.tier",
                    (k, lower // _HOUR, text, pph, hpp, _frac(worth, den)),
                    "open",
                )
            )
        else:
            out.append(
                finding(
                    "conversion.tier",
                    (k, lower // _HOUR, upper // _HOUR, text, pph, hpp, _frac(worth, den)),
                )
            )
    return out


def _period_text(policy: ConversionPolicy) -> tuple[str, str]:
    zh: list[str] = []
    en: list[str] = []
    for n, z, e in (
        (policy.expiry_years, "年", "year"),
        (policy.expiry_months, "个月", "month"),
        (policy.expiry_days, "天", "day"),
    ):
        if n:
            zh.append(f"{n} {z}")
            en.append(f"{n} {e}{'s' if n != 1 else ''}")
    return " ".join(zh), " ".join(en)


def post_conversion(ledger: PointsLedger, conversion: Conversion) -> int:
    """Post a conversion's postings to ``ledger``, all or nothing; returns how many were new.

    Each new earning pays what its volunteer owes first, exactly as
    :meth:`PointsLedger.earn <zhiyuan.credit.PointsLedger.earn>` does (``<id>#settle``, the
    same code). Postings already in the ledger are skipped (posting the same conversion twice
    adds nothing). Everything is checked first; the postings are recorded in one journal
    transaction.

    Raises:
        InvalidValue: the ledger keeps another instrument, or a posting is not an earning.
        Conflict: a posting id is used by another posting; nothing is posted.
    """
    if not isinstance(ledger, PointsLedger):
        raise InvalidValue("ledger", ledger, "需要 PointsLedger / need one", shown=show(ledger))
    if not isinstance(conversion, Conversion):
        raise InvalidValue(
            "conversion", conversion, "需要 Conversion / need one", shown=show(conversion)
        )
    if ledger.instrument != conversion.instrument:
        raise InvalidValue(
            "instrument",
            conversion.instrument,
            f"账本记的是 {ledger.instrument} / the ledger keeps {ledger.instrument}",
        )
    postings = conversion.postings
    for p in postings:
        # a conversion's posting is named from its record (``<record id>#convert``), so that it
        # can never take an id another operation of the ledger makes
        if p.ref is None or p.id != derive(foreign(p.ref), "convert"):
            raise InvalidValue(
                "conversion", p.id, "不是工时折算的记账编号 / not the posting id of a conversion"
            )
    return ledger._post_earnings(postings, "conversion")


CONVERSION_PROFILES: Profiles[ConversionPolicy] = Profiles(
    {
        "huangshi": ConversionPolicy(
            name="huangshi",
            evidence=frozenset({Evidence.SIGN_IN_CODE, Evidence.QR_SCAN, Evidence.GPS}),
            expiry=Expiry.YEAR_END,
            source=Source(
                document="志愿黄石积分规则（文件名未知 / title unknown）",
                issuer="志愿黄石（平台 / platform）",
                region_code="4202",
                note="Known only from POLICIES.md's summary (reported): no document, date or URL "
                "was recorded, and none was found. Undated: effective_from is the library's floor.",
            ),
        ),
        "huangshan": ConversionPolicy(
            name="huangshan",
            expiry=Expiry.PERIOD,
            expiry_years=3,
            source=Source(
                document="黄山志愿服务积分兑换规则（文件名未知 / title unknown）",
                issuer="黄山（发布单位未知 / issuer unknown）",
                note="Known only from POLICIES.md's summary (reported): no document, date or URL "
                "was recorded, and none was found; whether 黄山市 or 黄山区 is not known, so no "
                "region is given. Undated: effective_from is the library's floor.",
            ),
        ),
        "hailin": ConversionPolicy(
            name="hailin",
            source=Source(
                document="《社区志愿者积分奖励制度(试行)》",
                issuer="海林市（转载，未注明发文单位 / a reprint naming no issuer）",
                clause="第三条",
                url="http://m.51dongshi.net/eedfrcvreebvs.html",
                region_code="231083",
                verified=True,
                note="1 h = 1 point (第三条). Also https://360docs.net/doc/9918628663.html . "
                "Undated: effective_from is the library's floor.",
            ),
        ),
        "zhiyuanhui": ConversionPolicy(
            name="zhiyuanhui",
            instrument="gongyi_coins",
            evidence=frozenset({Evidence.SIGN_IN_CODE, Evidence.QR_SCAN, Evidence.GPS}),
            source=Source(
                document="志愿汇 信用时长与荣誉时长（文件名未知 / title unknown）",
                issuer="志愿汇（平台 / platform）",
                url="http://4idols.com/PublicInterestSMS/mnxeushoel.html",
                note="A platform's rule, used in many regions, so no region is given. Undated: "
                "effective_from is the library's floor.",
            ),
        ),
        "rongcheng": ConversionPolicy(
            name="rongcheng",
            hours_per_point=4,
            source=Source(
                document="《东岛刘家村信用管理办法》",
                issuer="网易山东",
                date=date(2024, 10, 4),
                url="https://sd.news.163.com/24/1004/09/JDL5BLIS04379D5J.html",
                region_code="371082",
                note="荣成 王连街道 东岛刘家村: 4 h of volunteering = 1 credit point; a village "
                "average above 5 unlocks rewards. The rules are named by 济宁新闻网 2019-08-25 "
                "(http://www.jnnews.tv/p/715599.html). The region is 荣成市, whose villages each set "
                "such rules under the city's credit system. effective_from is the library's floor.",
            ),
        ),
        "weihai": ConversionPolicy(
            name="weihai",
            effective_from=date(2018, 11, 1),
            instrument="credit_score",
            tiers=(
                Tier(up_to_hours=20),
                Tier(up_to_hours=80, hours_per_point=2),
                Tier(up_to_hours=200, hours_per_point=3),
                Tier(hours_per_point=4),
            ),
            source=Source(
                document="《关于在全市开展“海贝分”个人信用积分的试行意见》",
                issuer="威海市发改委",
                date=date(2020, 3, 5),
                url="http://fgw.weihai.gov.cn/art/2020/3/5/art_37923_2296162.html",
                region_code="3710",
                verified=True,
                note="The 意见 dates from 2018-11 (day unknown: effective_from is the 1st). The "
                "diminishing tiers are as the 发改委's credit centre gave them on 2020-03-04, "
                "published 2020-03-05; no cap was found.",
            ),
        ),
        "shanghai_time_bank": ConversionPolicy(
            name="shanghai_time_bank",
            effective_from=date(2023, 1, 1),
            instrument="time_credits",
            daily_cap=2,
            lifetime_cap=600,
            source=Source(
                document="沪助养老时光汇《管理办法》",
                issuer="上观新闻（江苏文明网转载 / reprinted by 江苏文明网）",
                url="https://www.jswmb.cn/article/14627/78339.html",
                region_code="31",
                note="1 h = 1 时间币. The caps of 2 a day and 600 per person (长宁 pilot) are in "
                "POLICIES.md's summary only, without a source (unverified). The platform dates "
                "from 2023; the day is assumed.",
            ),
        ),
    },
    kind=ConversionPolicy,
    field="CONVERSION_PROFILES",
)
"""Shipped conversion profiles (POLICIES.md "Points, credit and time banks" and §3.1–3.3), each
citing its source in ``source``. Where a source gives no date, ``effective_from`` is the
library's floor (2017-12-01), not a claim.

- ``huangshi``: 志愿黄石, 1 h = 1 point; only credit hours (信用时长: sign-in/sign-out, never
  admin-added honour hours) convert; points expire on 31 December.
- ``huangshan``: 黄山, 1 h = 1 point, valid 3 years; redemption never reduces hours.
- ``hailin``: 海林, 1 h = 1 point (http://m.51dongshi.net/eedfrcvreebvs.html ,
  https://360docs.net/doc/9918628663.html ); its 2-h-per-activity cap is an hour rule
  (``zhiyuan.hours.HOUR_PROFILES["hailin"]``), its referral points and quarterly redemption are not
  conversion rules.
- ``zhiyuanhui``: 志愿汇, 1 credit hour → 1 公益币; honour hours do not convert
  (http://4idols.com/PublicInterestSMS/mnxeushoel.html ).
- ``rongcheng``: 荣成 东岛刘家村 美德信用积分, 4 h = 1 point, remainders carried
  (https://sd.news.163.com/24/1004/09/JDL5BLIS04379D5J.html ).
- ``weihai``: 威海 海贝分, diminishing: cumulative hours 1–20 → 1 pt per h, 21–80 → 1 per 2 h,
  81–200 → 1 per 3 h, beyond 200 → 1 per 4 h; no cap
  (http://fgw.weihai.gov.cn/art/2020/3/5/art_37923_2296162.html ).
- ``shanghai_time_bank``: 上海 沪助养老时光汇 (长宁 pilot), 1 h = 1 time coin, at most 2 a day and
  600 per person (https://www.jswmb.cn/article/14627/78339.html ).
"""
