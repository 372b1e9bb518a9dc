"""Good-deed points and deductions (公益行为积分、扣分): points for what is not hours.

Many villages and towns score more than service time. 莱西's 道德积分 adds points for caring for
older people, good turns, charity work and blood donation, and takes points off for dumping
rubbish; 绵阳 涪城's 红色文明指数积分 adds 5 for acting bravely and takes 5 off for breaking the
residents' compact and 10 for a child who does not support their parents (POLICIES.md "Points,
credit and time banks", §3.2; :data:`DEED_PROFILES` cites each). 城阳's 文明实践积分平台 scores
its practice sites and teams as well (阵地积分, seed 003). Hours stay the hour ledger's; these
points go to the same :class:`~zhiyuan.credit.PointsLedger` as points converted from hours.

A :class:`DeedScheme` is the policy, as data: its :class:`Indicator` values (指标), each with the
points it gives (negative for a deduction, 扣分), the evidence it accepts, the level of the tree
that approves it and an optional yearly cap per holder. A :class:`DeedBook` is the book on the
ledger's journal: a deed is claimed (申报, :meth:`DeedBook.claim`), then approved
(:meth:`DeedBook.approve`) or rejected (:meth:`DeedBook.reject`) by someone at the indicator's
level (who may approve is the caller's check: :class:`zhiyuan.platform.Platform` checks the
jurisdiction at :func:`approval_region`; the book records who did), and an approved deed can be
reversed (:meth:`DeedBook.reverse`). :meth:`DeedBook.award` claims and approves at once (a
deduction found by an inspection, a site's points for an activity). Approving posts the points
in the same transaction:

* a good deed of a person: an earning into ``volunteer:<id>`` (``<deed>#deed``), which pays what
  the person owes first, as every earning does;
* a deduction from a person: clawback postings (``PostingKind.CLAWBACK``, ``<deed>#deduct#1`` …)
  from the person's available lots in the spending order, and what the lots do not cover
  recorded as owed (``<deed>#deduct#owed``, from ``owed:<id>``) under the scheme's
  :class:`~zhiyuan.credit.ClawbackRule` ``DEBT``; under ``NEGATIVE`` all of it is owed. This is
  what the ledger does with the spent part of a reversed earning;
* a site's or a team's points (``site:<unit id>``, ``team:<team id>``:
  :func:`~zhiyuan.credit.site_account`, :func:`~zhiyuan.credit.team_account`): one posting into
  or out of the account, which may go below zero (a score, not a currency).

Every posting names the indicator in Chinese and English in its ``note``. A yearly cap counts the
points approved (and not reversed) under the indicator for the same holder in the calendar year
of the deed's day; the approval records how much the cap cut, and the deed's explanation names
the indicator, the year, the cap and the cut. Reversing takes the points back: an earning by the
ledger's reversal (clawing back what was spent, as the scheme's rule says), a deduction by giving
each lot back with its own dates (and cancelling what is still owed), a site's or team's by the
opposite posting.

Every operation checks its arguments before anything is staged, records all of its entries (the
book's and the ledger's) or none, and is idempotent: the same call again returns the deed as it
stands; another call under a used id, or one the deed's state does not allow, is a
:class:`~zhiyuan.errors.Conflict`. Applying a recorded entry never consults a scheme: the claim
keeps the indicator as it was (the scheme in force on the deed's day), so a book rebuilt from
its journal needs no scheme at all.

Example (a 莱西-style scheme, at most 5 points a year for 邻里互助; the village 双山村):
    >>> from datetime import date, datetime
    >>> from zhiyuan import SHANGHAI
    >>> from zhiyuan.credit import PointsLedger
    >>> t = lambda m, d: datetime(2025, m, d, 10, tzinfo=SHANGHAI)
    >>> scheme = DeedScheme(name="demo", indicators=[
    ...     Indicator(id="help", name="邻里互助", name_en="helping neighbours", points=3,
    ...               yearly_cap=5),
    ...     Indicator(id="litter", name="乱倒垃圾", name_en="dumping rubbish", points=-5)])
    >>> book = DeedBook(PointsLedger(), schemes=scheme)
    >>> _ = book.claim("d1", "v1", "help", day=date(2025, 3, 1), region_code="370285102259",
    ...                evidence="witness", at=t(3, 2))
    >>> book.approve("d1", by="村评议小组", at=t(3, 5)).points
    3
    >>> _ = book.claim("d2", "v1", "help", day=date(2025, 4, 1), region_code="370285102259",
    ...                evidence="witness", at=t(4, 2))
    >>> print(book.approve("d2", by="村评议小组", at=t(4, 5)).explain())
    d2: 已通过 / approved
      [deeds.claim] v1 2025-04-01「邻里互助」每次加 3 分 / v1, 2025-04-01: helping neighbours, 3 points a time
      [deeds.cap] 「邻里互助」2025 年每人至多 5 分：此前已计 3 分，核减 1 分 / helping neighbours: at most 5 per holder in 2025; 3 counted before, 1 cut
      [deeds.approved] 村评议小组 审核通过，记 2 分 / approved by 村评议小组: 2 posted
    >>> _ = book.award("d3", "v1", "litter", day=date(2025, 4, 9), region_code="370285102259",
    ...                evidence="inspection", by="村评议小组", at=t(4, 10))
    >>> book.ledger.balances("v1", as_of=t(4, 11)).net, book.ledger.total()
    (0, 0)
    >>> print(book.ledger.posting("d3#deduct#1").note)
    扣分「乱倒垃圾」/ deduction: dumping rubbish (d3)
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import Any

import attrs

from zhiyuan._validators import (
    COUNT,
    arg_of,
    aware,
    bounded,
    day_arg,
    enum_set,
    is_a,
    is_date,
    items,
    items_of,
    key,
    moment,
    non_empty,
    text,
    to_enum,
    to_shanghai,
)
from zhiyuan.convert import register_tagged_union
from zhiyuan.credit.accounts import (
    check_issuer,
    issuer_account,
    owed_account,
    site_account,
    team_account,
    volunteer_account,
)
from zhiyuan.credit.ledger import MAX_AMOUNT, ClawbackRule, PointsLedger, Posting, PostingKind
from zhiyuan.errors import Conflict, InvalidValue, NotFound, show
from zhiyuan.explain import Finding, finding, register_messages
from zhiyuan.hierarchy.codes import Level, RegionCode, normalize_code
from zhiyuan.hierarchy.tree import RegionTree
from zhiyuan.journal import Book, Transaction
from zhiyuan.journal._ids import derive, own_id
from zhiyuan.journal._pickle import register_state_type
from zhiyuan.profiles import Profiles, Source, explain_policy, to_source
from zhiyuan.schedule import Schedule

__all__ = [
    "DEED_PROFILES",
    "Deed",
    "DeedApproved",
    "DeedBook",
    "DeedClaimed",
    "DeedEntry",
    "DeedEvidence",
    "DeedHolder",
    "DeedRejected",
    "DeedReversed",
    "DeedScheme",
    "DeedState",
    "Indicator",
    "approval_region",
    "fold_deeds",
]

register_messages(
    {
        ("deeds.claim", ""): (
            ("holder", "day", "indicator", "indicator_en", "points"),
            "{holder} {day}「{indicator}」每次加 {points} 分",
            "{holder}, {day}: {indicator_en}, {points} points a time",
        ),
        ("deeds.claim", "deduct"): (
            ("holder", "day", "indicator", "indicator_en", "points"),
            "{holder} {day}「{indicator}」每次扣 {points} 分",
            "{holder}, {day}: {indicator_en}, {points} points off a time",
        ),
        ("deeds.cap", ""): (
            ("indicator", "indicator_en", "year", "cap", "prior", "cut"),
            "「{indicator}」{year} 年每人至多 {cap} 分：此前已计 {prior} 分，核减 {cut} 分",
            "{indicator_en}: at most {cap} per holder in {year}; {prior} counted before, {cut} cut",
        ),
        ("deeds.approved", ""): (
            ("by", "points"),
            "{by} 审核通过，记 {points} 分",
            "approved by {by}: {points} posted",
        ),
        ("deeds.approved", "deduct"): (
            ("by", "points"),
            "{by} 审核通过，扣 {points} 分",
            "approved by {by}: {points} deducted",
        ),
        ("deeds.rejected", ""): (
            ("by", "reason"),
            "{by} 驳回：{reason}",
            "rejected by {by}: {reason}",
        ),
        ("deeds.reversed", ""): (
            ("by", "points", "reason"),
            "{by} 撤销，收回 {points} 分：{reason}",
            "reversed by {by}, {points} taken back: {reason}",
        ),
        ("deeds.reversed", "deduct"): (
            ("by", "points", "reason"),
            "{by} 撤销，退还 {points} 分：{reason}",
            "reversed by {by}, {points} given back: {reason}",
        ),
    }
)


class DeedEvidence(enum.Enum):
    """How a deed is attested (佐证材料). 莱西's villages gather points by 个人申报, 群众反馈,
    组织摸排 and 部门核查, and settle them in a 道德评议会 with public notice.

    Example:
        >>> DeedEvidence("certificate"), len(DeedEvidence)
        (<DeedEvidence.CERTIFICATE: 'certificate'>, 6)
    """

    PHOTO = "photo"
    """照片、视频: a photo or video of the deed or the breach."""
    WITNESS = "witness"
    """群众反馈、证人证明: neighbours or the people helped say so."""
    CERTIFICATE = "certificate"
    """证明材料: a certificate or commendation from a department or unit (a blood-donation
    certificate, a police commendation, a school's honour)."""
    REVIEW = "review"
    """评议: assessed by the village's 评议小组 or 道德评议会 and publicly noticed."""
    INSPECTION = "inspection"
    """检查、摸排: found by an organization's or a department's check."""
    PLATFORM = "platform"
    """平台记录: recorded on the platform (a site's activity, a rated service)."""


class DeedHolder(enum.Enum):
    """Whose points an indicator scores: a person, a practice site or a team."""

    PERSON = "person"
    """个人 (a volunteer or a resident): ``volunteer:<id>``."""
    SITE = "site"
    """阵地 (a 新时代文明实践 中心, 所 or 站): ``site:<unit id>``."""
    TEAM = "team"
    """队伍 (a volunteer team): ``team:<team id>``."""

    def account(self, holder_id: str) -> str:
        """The points account of ``holder_id``.

        Example:
            >>> [h.account("x1") for h in DeedHolder]
            ['volunteer:x1', 'site:x1', 'team:x1']
        """
        if self is DeedHolder.PERSON:
            return volunteer_account(holder_id)
        if self is DeedHolder.SITE:
            return site_account(holder_id)
        return team_account(holder_id)


def _own(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    own_id(value, attribute.name)


def _points(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value == 0
        or not -MAX_AMOUNT <= value <= MAX_AMOUNT
    ):
        raise InvalidValue(
            attribute.name,
            value,
            f"分值为非零整数，绝对值至多 {MAX_AMOUNT}（扣分为负） / a whole number, not 0, at most "
            f"{MAX_AMOUNT} either way (negative for a deduction)",
        )


def _note(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Any text, blank too, that can be written as UTF-8."""
    if not isinstance(value, str):
        raise InvalidValue(attribute.name, value, "需要文字 / need text")
    text(attribute.name, value)


def _evidence_set(value: object) -> frozenset[DeedEvidence]:
    out = enum_set("evidence", DeedEvidence, value)
    if not out:
        raise InvalidValue("evidence", [], "至少一种佐证 / accept at least one kind of evidence")
    return out


def _evidence(value: object) -> DeedEvidence:
    return to_enum("evidence", DeedEvidence, value)


def _level(value: object) -> Level:
    return to_enum("level", Level, value)


def _holder(value: object) -> DeedHolder:
    return to_enum("holder", DeedHolder, value)


def _clawback(value: object) -> ClawbackRule:
    return to_enum("clawback", ClawbackRule, value)


def _region(value: object) -> str:
    return normalize_code(value, field="region_code")


def _optional_issuer(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        check_issuer(value, attribute.name)


@attrs.frozen(kw_only=True)
class Indicator:
    """One scored item of a scheme (指标): a good deed, or a breach that costs points (扣分).

    Attributes:
        id: the indicator's id in its scheme (text without ``#``).
        name: its Chinese name (见义勇为, 孝老爱亲, 邻里互助, 移风易俗 …; 违反村规民约 …).
        name_en: its English name, for explanations and posting notes.
        points: what one deed gives, a whole number: positive for a good deed, negative for a
            deduction; never 0.
        evidence: the kinds of :class:`DeedEvidence` a claim may rest on (default: any).
        level: the level of the tree that approves it (:class:`~zhiyuan.hierarchy.Level`:
            village, township, county …; default village): an approver needs authority over
            the deed's region at that level (:func:`approval_region`).
        yearly_cap: at most this many points (taken off, for a deduction) per holder in a
            calendar year under this indicator, or ``None`` (default) for no cap.
        holder: whose points it scores (:class:`DeedHolder`; default a person).

    Example:
        >>> i = Indicator(id="brave", name="见义勇为", name_en="acting bravely", points=5,
        ...               level="township", evidence=["certificate"])
        >>> str(i), i.deduction
        ('brave 见义勇为 / acting bravely: +5 (乡级 township)', False)
        >>> Indicator(id="x", name="无", name_en="none", points=0)
        Traceback (most recent call last):
        ...
        zhiyuan.errors.InvalidValue: points: 0: 分值为非零整数，绝对值至多 1000000000（扣分为负） / a whole number, not 0, at most 1000000000 either way (negative for a deduction)
    """

    id: str = attrs.field(validator=_own)
    name: str = attrs.field(validator=non_empty)
    name_en: str = attrs.field(validator=non_empty)
    points: int = attrs.field(validator=_points)
    evidence: frozenset[DeedEvidence] = attrs.field(
        default=frozenset(DeedEvidence), converter=_evidence_set
    )
    level: Level = attrs.field(default=Level.VILLAGE, converter=_level)
    yearly_cap: int | None = attrs.field(default=None, validator=bounded(1, COUNT, "points"))
    holder: DeedHolder = attrs.field(default=DeedHolder.PERSON, converter=_holder)

    @property
    def deduction(self) -> bool:
        """True for a deduction (扣分): the indicator takes points off."""
        return self.points < 0

    def __str__(self) -> str:
        cap = "" if self.yearly_cap is None else f", 每年至多 / at most {self.yearly_cap} a year"
        who = "" if self.holder is DeedHolder.PERSON else f", {self.holder.value}"
        return (
            f"{self.id} {self.name} / {self.name_en}: {self.points:+d} "
            f"({self.level.zh} {self.level.value}{cap}{who})"
        )


def _indicators(value: object) -> tuple[Indicator, ...]:
    out = items_of("indicators", Indicator, value)
    seen: set[str] = set()
    for i in out:
        if i.id in seen:
            raise InvalidValue("indicators", i.id, "指标编号重复 / two indicators share an id")
        seen.add(i.id)
    return out


_DEFAULT_FROM = date(2017, 12, 1)


@attrs.frozen(kw_only=True)
class DeedScheme:
    """A good-deed points scheme (道德积分、文明积分办法), as data.

    Attributes:
        name: a label for reports and the default issuer account.
        effective_from: the first day of deeds it judges (default: 2017-12-01, the library's
            floor, as for :class:`~zhiyuan.credit.ConversionPolicy`: a floor, not a claim).
        source: where it comes from (:class:`~zhiyuan.profiles.Source`): set on every shipped
            profile, ``None`` for a scheme of your own.
        indicators: its :class:`Indicator` values (ids unique).
        issuer: the account its points come from; ``None`` (default): the issuer of whoever
            runs the book (a platform's conversion issuer; for a :class:`DeedBook` used alone,
            ``issuer:<name>``).
        clawback: what a deduction does when the person's available points fall short, and what
            reversing a good deed whose points were spent does
            (:class:`~zhiyuan.credit.ClawbackRule`; default ``debt``: take what is there, the
            rest owed).

    Example:
        >>> s = DEED_PROFILES["laixi"]
        >>> s.indicator("litter").points, s.indicator("blood").name
        (-5, '无偿献血')
        >>> s.indicator("brave")
        Traceback (most recent call last):
        ...
        zhiyuan.errors.NotFound: indicator not found / 未找到: 'brave'
    """

    name: str = attrs.field(default="default", validator=non_empty)
    effective_from: date = attrs.field(default=_DEFAULT_FROM, validator=is_date)
    source: Source | None = attrs.field(default=None, converter=to_source)
    indicators: tuple[Indicator, ...] = attrs.field(default=(), converter=_indicators)
    issuer: str | None = attrs.field(default=None, validator=_optional_issuer)
    clawback: ClawbackRule = attrs.field(default=ClawbackRule.DEBT, converter=_clawback)

    def explain(self) -> str:
        """The scheme in Chinese and English: name, first day, source, then one line per
        indicator."""
        lines = [explain_policy(self, "公益行为积分办法", "good-deed points scheme")]
        lines.extend(f"  {i}" for i in self.indicators)
        return "\n".join(lines)

    def indicator(self, indicator_id: str) -> Indicator:
        """The indicator under ``indicator_id`` (:class:`~zhiyuan.errors.NotFound` if none)."""
        iid = key("indicator_id", indicator_id)
        for i in self.indicators:
            if i.id == iid:
                return i
        raise NotFound("indicator", iid)


def approval_region(region_code: object, level: Level | str) -> str:
    """Where authority to approve a deed is needed: the ancestor at ``level`` of the deed's
    region (12 digits), or the region itself when it lies at or above that level. A village
    deed under a township-approved indicator needs authority over the township.

    Example:
        >>> approval_region("370285102259", "township"), approval_region("370285", "village")
        ('370285102000', '370285000000')
    """
    code = RegionCode(_region(region_code))
    want = _level(level)
    if code.level > want:
        for a in code.ancestors():
            if a.level is want:
                return a.value
    return code.value


# --- entries ----------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class DeedClaimed:
    """A deed claimed (申报): who did it (or was found to breach), under which indicator, where
    and when, on what evidence. The indicator is kept as the scheme in force on ``day`` had it.

    ``id`` is the deed's id (the caller's, without ``#``); ``by`` is who filed the claim (the
    holder, or a recorder for them); ``evidence`` must be one the indicator accepts and ``day``
    may not come after ``at``.

    Example:
        >>> from zhiyuan import SHANGHAI
        >>> blood = DEED_PROFILES["laixi"].indicator("blood")
        >>> c = DeedClaimed(id="d1", at=datetime(2025, 3, 2, tzinfo=SHANGHAI), holder="v1",
        ...                 indicator=blood, scheme="laixi", day=date(2025, 3, 1),
        ...                 region_code="370285102259", evidence="certificate", by="v1")
        >>> c.account, c.evidence.value
        ('volunteer:v1', 'certificate')
        >>> attrs.evolve(c, evidence="photo")
        Traceback (most recent call last):
        ...
        zhiyuan.errors.InvalidValue: evidence: 'photo': 「无偿献血」须以下列之一为佐证 / donating blood needs one of: certificate
    """

    id: str = attrs.field(validator=_own)
    at: datetime = attrs.field(converter=to_shanghai, validator=aware)
    holder: str = attrs.field(validator=non_empty)
    indicator: Indicator = attrs.field(validator=is_a(Indicator))
    scheme: str = attrs.field(validator=non_empty)
    day: date = attrs.field(validator=is_date)
    region_code: str = attrs.field(converter=_region)
    evidence: DeedEvidence = attrs.field(converter=_evidence)
    by: str = attrs.field(validator=non_empty)
    note: str = attrs.field(default="", validator=_note)

    def __attrs_post_init__(self) -> None:
        if self.evidence not in self.indicator.evidence:
            accepted = ", ".join(sorted(e.value for e in self.indicator.evidence))
            raise InvalidValue(
                "evidence",
                self.evidence.value,
                f"「{self.indicator.name}」须以下列之一为佐证 / {self.indicator.name_en} needs "
                f"one of: {accepted}",
            )
        if self.day > self.at.date():
            raise InvalidValue(
                "day",
                self.day.isoformat(),
                "不能申报尚未发生的事 / a deed cannot be claimed before its day",
            )

    @property
    def account(self) -> str:
        """The holder's points account (``volunteer:``, ``site:`` or ``team:``)."""
        return self.indicator.holder.account(self.holder)


@attrs.frozen(kw_only=True)
class DeedApproved:
    """A claim approved (审核通过), with the points it posted.

    Attributes:
        id: ``<deed>#approve``.
        deed_id: the deed.
        at: when it was approved (the postings' moment).
        by: who approved it.
        points: what was posted, signed (negative for a deduction); 0 when the yearly cap left
            nothing.
        cut: how many points the yearly cap cut (0 without a cap).
        prior: the points counted under the cap for the holder, indicator and year before.
        issuer: the account the points came from (or went back to, for a deduction).
        note: the approver's note.

    Example:
        >>> from zhiyuan import SHANGHAI
        >>> a = DeedApproved(id="d1#approve", deed_id="d1", by="村评议小组", points=-5,
        ...                  issuer="issuer:laixi", at=datetime(2025, 3, 5, tzinfo=SHANGHAI))
        >>> a.points, a.cut
        (-5, 0)
    """

    id: str = attrs.field(validator=non_empty)
    deed_id: str = attrs.field(validator=non_empty)
    at: datetime = attrs.field(converter=to_shanghai, validator=aware)
    by: str = attrs.field(validator=non_empty)
    points: int = attrs.field(validator=bounded(-MAX_AMOUNT, MAX_AMOUNT, "points"))
    issuer: str = attrs.field(validator=non_empty)
    cut: int = attrs.field(default=0, validator=bounded(0, MAX_AMOUNT, "points"))
    prior: int = attrs.field(default=0, validator=bounded(0, COUNT, "points"))
    note: str = attrs.field(default="", validator=_note)


@attrs.frozen(kw_only=True)
class DeedRejected:
    """A claim rejected (驳回): ``<deed>#reject``, by whom and why.

    Example:
        >>> from zhiyuan import SHANGHAI
        >>> DeedRejected(id="d1#reject", deed_id="d1", by="村评议小组", reason="证据不足",
        ...              at=datetime(2025, 3, 5, tzinfo=SHANGHAI)).reason
        '证据不足'
        >>> DeedRejected(id="d1#reject", deed_id="d1", by="村评议小组", reason=" ",
        ...              at=datetime(2025, 3, 5, tzinfo=SHANGHAI))
        Traceback (most recent call last):
        ...
        zhiyuan.errors.InvalidValue: reason: ' ': 不能为空 / must not be empty
    """

    id: str = attrs.field(validator=non_empty)
    deed_id: str = attrs.field(validator=non_empty)
    at: datetime = attrs.field(converter=to_shanghai, validator=aware)
    by: str = attrs.field(validator=non_empty)
    reason: str = attrs.field(validator=non_empty)


@attrs.frozen(kw_only=True)
class DeedReversed:
    """An approved deed reversed (撤销): ``<deed>#reverse``; its points are taken back (or, for
    a deduction, given back) in the same transaction.

    Example:
        >>> from zhiyuan import SHANGHAI
        >>> DeedReversed(id="d1#reverse", deed_id="d1", by="镇文明办", reason="核查不实",
        ...              at=datetime(2025, 3, 9, tzinfo=SHANGHAI)).reason
        '核查不实'
    """

    id: str = attrs.field(validator=non_empty)
    deed_id: str = attrs.field(validator=non_empty)
    at: datetime = attrs.field(converter=to_shanghai, validator=aware)
    by: str = attrs.field(validator=non_empty)
    reason: str = attrs.field(validator=non_empty)


DeedEntry = DeedClaimed | DeedApproved | DeedRejected | DeedReversed
"""Any entry of a :class:`DeedBook`."""

register_tagged_union(
    DeedEntry,
    {
        DeedClaimed: "deeds.claimed",
        DeedApproved: "deeds.approved",
        DeedRejected: "deeds.rejected",
        DeedReversed: "deeds.reversed",
    },
)


class DeedState(enum.Enum):
    """Where a deed stands.

    Example:
        >>> [s.value for s in DeedState]
        ['claimed', 'approved', 'rejected', 'reversed']
    """

    CLAIMED = "claimed"
    """已申报: waiting for approval."""
    APPROVED = "approved"
    """已通过: approved, its points posted."""
    REJECTED = "rejected"
    """已驳回: rejected, nothing posted."""
    REVERSED = "reversed"
    """已撤销: approved, then reversed; its points taken back."""


_STATE_ZH = {
    DeedState.CLAIMED: "已申报",
    DeedState.APPROVED: "已通过",
    DeedState.REJECTED: "已驳回",
    DeedState.REVERSED: "已撤销",
}


@attrs.frozen(kw_only=True)
class Deed:
    """A deed as it stands: its claim and what became of it (a fold of its entries).

    Attributes:
        claim: the claim.
        approval, rejection, reversal: the decisions recorded, if any.

    Example:
        >>> from zhiyuan import SHANGHAI
        >>> at = datetime(2025, 3, 2, tzinfo=SHANGHAI)
        >>> c = DeedClaimed(id="d1", at=at, holder="v1", scheme="laixi", day=date(2025, 3, 1),
        ...                 indicator=DEED_PROFILES["laixi"].indicator("elders"),
        ...                 region_code="370285102259", evidence="witness", by="v1")
        >>> d = Deed(claim=c)
        >>> d.state.value, d.points
        ('claimed', 0)
        >>> a = DeedApproved(id="d1#approve", deed_id="d1", by="村评议小组", points=3,
        ...                  issuer="issuer:laixi", at=at)
        >>> attrs.evolve(d, approval=a).points
        3
    """

    claim: DeedClaimed
    approval: DeedApproved | None = None
    rejection: DeedRejected | None = None
    reversal: DeedReversed | None = None

    @property
    def id(self) -> str:
        """The deed's id."""
        return self.claim.id

    @property
    def state(self) -> DeedState:
        """Where it stands."""
        if self.reversal is not None:
            return DeedState.REVERSED
        if self.rejection is not None:
            return DeedState.REJECTED
        if self.approval is not None:
            return DeedState.APPROVED
        return DeedState.CLAIMED

    @property
    def points(self) -> int:
        """The points it holds now, signed: what the approval posted, 0 before approval and
        after a rejection or a reversal."""
        if self.approval is None or self.reversal is not None:
            return 0
        return self.approval.points

    def findings(self) -> tuple[Finding, ...]:
        """What happened, as findings: the claim, the cap (when the indicator has one), the
        approval or rejection, the reversal."""
        c = self.claim
        ind = c.indicator
        variant = "deduct" if ind.deduction else ""
        out = [
            finding(
                "deeds.claim",
                (c.holder, c.day.isoformat(), ind.name, ind.name_en, abs(ind.points)),
                variant,
            )
        ]
        a = self.approval
        if a is not None:
            if ind.yearly_cap is not None:
                out.append(
                    finding(
                        "deeds.cap",
                        (ind.name, ind.name_en, c.day.year, ind.yearly_cap, a.prior, a.cut),
                    )
                )
            out.append(finding("deeds.approved", (a.by, abs(a.points)), variant))
        if self.rejection is not None:
            out.append(finding("deeds.rejected", (self.rejection.by, self.rejection.reason)))
        r = self.reversal
        if r is not None and a is not None:
            out.append(finding("deeds.reversed", (r.by, abs(a.points), r.reason), variant))
        return tuple(out)

    def explain(self) -> str:
        """The deed in Chinese and English: its state, then one line per finding."""
        head = f"{self.id}: {_STATE_ZH[self.state]} / {self.state.value}"
        return "\n".join([head, *(f"  {f}" for f in self.findings())])


# --- the fold ---------------------------------------------------------------------------------


def _deed_id(entry: DeedEntry) -> str:
    return entry.id if isinstance(entry, DeedClaimed) else entry.deed_id


def _step(deed: Deed | None, entry: DeedEntry) -> Deed | None:
    """The deed after ``entry`` (``None`` for a decision on no deed, which a book never
    records)."""
    if isinstance(entry, DeedClaimed):
        return Deed(claim=entry)
    if deed is None:
        return None
    if isinstance(entry, DeedApproved):
        return attrs.evolve(deed, approval=entry)
    if isinstance(entry, DeedRejected):
        return attrs.evolve(deed, rejection=entry)
    return attrs.evolve(deed, reversal=entry)


def _tally_key(claim: DeedClaimed) -> tuple[str, str, int]:
    return (claim.account, claim.indicator.id, claim.day.year)


def _tally_delta(deed: Deed | None, entry: DeedEntry) -> int:
    """How ``entry`` changes the points counted under its deed's yearly cap."""
    if isinstance(entry, DeedApproved):
        return abs(entry.points)
    if isinstance(entry, DeedReversed) and deed is not None and deed.approval is not None:
        return -abs(deed.approval.points)
    return 0


class _DeedsState:
    """Every deed by id, in the order claimed, and the points counted under each cap."""

    __slots__ = ("deeds", "tally")

    def __init__(self) -> None:
        self.deeds: dict[str, Deed] = {}
        self.tally: dict[tuple[str, str, int], int] = {}  # (account, indicator, year) → points

    def apply(self, entry: DeedEntry) -> None:
        did = _deed_id(entry)
        before = self.deeds.get(did)
        after = _step(before, entry)
        if after is None:
            return
        self.deeds[did] = after
        delta = _tally_delta(before, entry)
        if delta:
            k = _tally_key(after.claim)
            self.tally[k] = self.tally.get(k, 0) + delta


register_state_type(_DeedsState)


class _DeedsView:
    """The deeds as an operation sees them: recorded, with the staged entries on top."""

    __slots__ = ("deeds", "state", "tally")

    def __init__(self, state: _DeedsState, staged: Iterable[DeedEntry]) -> None:
        self.state = state
        self.deeds: dict[str, Deed] = {}
        self.tally: dict[tuple[str, str, int], int] = {}
        for e in staged:
            self.apply(e)

    def get(self, deed_id: str) -> Deed | None:
        found = self.deeds.get(deed_id)
        return self.state.deeds.get(deed_id) if found is None else found

    def counted(self, k: tuple[str, str, int]) -> int:
        found = self.tally.get(k)
        return self.state.tally.get(k, 0) if found is None else found

    def apply(self, entry: DeedEntry) -> None:
        did = _deed_id(entry)
        before = self.get(did)
        after = _step(before, entry)
        if after is None:
            return
        self.deeds[did] = after
        delta = _tally_delta(before, entry)
        if delta:
            k = _tally_key(after.claim)
            self.tally[k] = self.counted(k) + delta


def fold_deeds(entries: Iterable[DeedEntry], *, as_of: datetime | None = None) -> dict[str, Deed]:
    """Every deed by id (in the order claimed), folded from ``entries`` made by ``as_of``
    (``None``: all of them), exactly as a :class:`DeedBook` folds them.

    Example:
        >>> fold_deeds([])
        {}
    """
    when = None if as_of is None else _aware("as_of", as_of)
    state = _DeedsState()
    for e in items("entries", entries):
        if not isinstance(e, (DeedClaimed, DeedApproved, DeedRejected, DeedReversed)):
            raise InvalidValue("entries", e, "需要公益行为条目 / need deed entries", shown=show(e))
        if when is None or e.at <= when:
            state.apply(e)
    return dict(state.deeds)


def _aware(field: str, value: object) -> datetime:
    if value is None:
        raise InvalidValue(field, None, "需要带时区的时间 / need a timezone-aware datetime")
    return moment(value, field)


def _memo(ind: Indicator, deed_id: str) -> str:
    """The note of a deed's postings: the indicator in Chinese and English, and the deed."""
    if ind.deduction:
        return f"扣分「{ind.name}」/ deduction: {ind.name_en} ({deed_id})"
    return f"公益行为「{ind.name}」/ good deed: {ind.name_en} ({deed_id})"


def _schedule(value: object) -> Schedule[DeedScheme]:
    return Schedule(value, kind=DeedScheme, field="schemes", empty=True)  # type: ignore[arg-type]


class DeedBook(Book[DeedEntry, _DeedsState]):
    """The deeds claimed, approved, rejected and reversed, on a points ledger's journal, with
    their points posted to the ledger in the same transactions (公益行为积分台账).

    Args:
        ledger: where the points go; the book records in its journal.
        schemes: the :class:`DeedScheme` values by date (one, several, or none yet): a claim is
            judged by the scheme in force on the deed's day. Settable later
            (:attr:`schemes`); a book rebuilt from its journal needs none to fold.
        tree: the region tree; with one, a claim's region must be in it.
        name: the book's name in the journal (default ``deeds``).

    Example:
        >>> from zhiyuan import SHANGHAI
        >>> book = DeedBook(PointsLedger(), schemes=DEED_PROFILES["laixi"])
        >>> deed = book.award("x1", "v1", "litter", day=date(2025, 3, 1),
        ...                   region_code="370285102259", evidence="inspection",
        ...                   by="村评议小组", at=datetime(2025, 3, 2, tzinfo=SHANGHAI))
        >>> deed.points, book.ledger.balance("owed:v1")
        (-5, -5)
        >>> len(book), book.deed("x1").state.value
        (1, 'approved')
    """

    kind = "deeds"
    entry_type = DeedEntry

    def __init__(
        self,
        ledger: PointsLedger,
        *,
        schemes: DeedScheme | Iterable[DeedScheme] = (),
        tree: RegionTree | None = None,
        name: str | None = None,
    ) -> None:
        self.ledger = arg_of("ledger", PointsLedger, ledger)
        if tree is not None:
            arg_of("tree", RegionTree, tree)
        self.tree = tree
        self._schemes = _schedule(schemes)
        super().__init__(journal=ledger.journal, name=name)

    def _new_state(self) -> _DeedsState:
        return _DeedsState()

    def _view(self, tx: Transaction) -> _DeedsView:
        state = self._state
        return tx.view(self, lambda staged: _DeedsView(state, staged))

    # --- schemes ------------------------------------------------------------------------------

    @property
    def schemes(self) -> Schedule[DeedScheme]:
        """The schemes by date (a :class:`~zhiyuan.schedule.Schedule`, possibly empty)."""
        return self._schemes

    @schemes.setter
    def schemes(self, value: DeedScheme | Iterable[DeedScheme]) -> None:
        self._schemes = _schedule(value)

    def scheme_for(self, day: date) -> DeedScheme:
        """The scheme in force on ``day``; a day before every scheme (or no scheme at all) is
        an :class:`~zhiyuan.errors.InvalidValue` naming ``day``."""
        d = day_arg("day", day)
        scheme = self._schemes.in_force(d) if self._schemes else None
        if scheme is None:
            raise InvalidValue(
                "day",
                d.isoformat(),
                "该日无公益行为积分办法施行 / no good-deed scheme in force on that day",
            )
        return scheme

    def _scheme_of(self, claim: DeedClaimed) -> DeedScheme | None:
        """The scheme the claim was judged by, if it is still among the schemes."""
        s = self._schemes.in_force(claim.day) if self._schemes else None
        return s if s is not None and s.name == claim.scheme else None

    def _issuer(self, claim: DeedClaimed, given: str | None) -> str:
        s = self._scheme_of(claim)
        if s is not None and s.issuer is not None:
            return s.issuer
        return given if given is not None else issuer_account(claim.scheme)

    def _rule(self, claim: DeedClaimed) -> ClawbackRule:
        s = self._scheme_of(claim)
        return ClawbackRule.DEBT if s is None else s.clawback

    # --- operations ---------------------------------------------------------------------------

    def claim(
        self,
        id: str,
        holder: str,
        indicator_id: str,
        *,
        day: date,
        region_code: object,
        evidence: DeedEvidence | str,
        by: str | None = None,
        note: str = "",
        at: datetime | None = None,
    ) -> Deed:
        """Claim a deed (申报) under the scheme in force on ``day``: ``holder`` (a person, or
        a site's or team's id, as the indicator says) did it at ``region_code`` on ``day``.

        ``by`` is who files it (default: the holder). Raises
        :class:`~zhiyuan.errors.NotFound` for an unknown indicator,
        :class:`~zhiyuan.errors.UnknownRegion` for a region not in the tree, and
        :class:`~zhiyuan.errors.InvalidValue` for evidence the indicator does not accept, a
        day after ``at`` or with no scheme in force. The same claim again returns the deed;
        another under a used id is a :class:`~zhiyuan.errors.Conflict`.
        """
        own_id(id, "id")
        who = key("holder", holder)
        filer = who if by is None else key("by", by)
        iid = key("indicator_id", indicator_id)
        d = day_arg("day", day)
        region = _region(region_code)
        kind = _evidence(evidence)
        if not isinstance(note, str):
            raise InvalidValue("note", note, "需要文字 / need text")
        with self.journal.transaction() as tx:
            when = self._when(at)
            old = self._view(tx).get(id)
            if old is not None:  # the same claim again (by what it says, not by the scheme)
                c = old.claim
                if (c.holder, c.indicator.id, c.day, c.region_code, c.evidence, c.by, c.note) == (
                    who,
                    iid,
                    d,
                    region,
                    kind,
                    filer,
                    note,
                ) and (at is None or c.at == when):
                    return old
                raise Conflict(f"deed id {id!r} is already used / 编号已被占用")
            scheme = self.scheme_for(d)
            ind = scheme.indicator(iid)
            if self.tree is not None:
                region = self.tree[region].code  # UnknownRegion
            entry = DeedClaimed(
                id=id,
                at=when,
                holder=who,
                indicator=ind,
                scheme=scheme.name,
                day=d,
                region_code=region,
                evidence=kind,
                by=filer,
                note=note,
            )
            tx.add(self, [entry])
            return Deed(claim=entry)

    def _open(self, tx: Transaction, deed_id: object) -> tuple[_DeedsView, Deed]:
        did = key("deed_id", deed_id)
        view = self._view(tx)
        deed = view.get(did)
        if deed is None:
            raise NotFound("deed", did)
        return view, deed

    @staticmethod
    def _refuse(deed: Deed, what: tuple[str, str]) -> Conflict:
        zh = _STATE_ZH[deed.state]
        return Conflict(
            f"公益行为 {deed.id} 当前为「{zh}」，不能{what[0]} / deed {deed.id} is "
            f"{deed.state.value}: cannot {what[1]}"
        )

    @staticmethod
    def _not_before(field: str, when: datetime, before: datetime) -> None:
        if when < before:
            raise InvalidValue(
                field,
                when.isoformat(),
                f"不能早于 {before.isoformat()} / cannot come before {before.isoformat()}",
            )

    def approve(
        self,
        deed_id: str,
        *,
        by: str,
        at: datetime | None = None,
        note: str = "",
        issuer: str | None = None,
    ) -> Deed:
        """Approve a claimed deed (审核通过) and post its points, capped by the indicator's
        yearly cap; returns the deed (its :meth:`~Deed.explain` says what the cap cut).

        ``issuer`` is where points come from when the scheme names none (default
        ``issuer:<scheme name>``). The same approval again returns the deed as it stands;
        approving a deed rejected, reversed or approved by someone else is a
        :class:`~zhiyuan.errors.Conflict`.
        """
        who = key("by", by)
        if issuer is not None:
            check_issuer(issuer)
        with self.journal.transaction() as tx:
            when = self._when(at)
            view, deed = self._open(tx, deed_id)
            a = deed.approval
            if a is not None:
                if (a.by, a.note) == (who, note) and (at is None or a.at == when):
                    return deed
                raise self._refuse(deed, ("审核", "approve"))
            if deed.state is not DeedState.CLAIMED:
                raise self._refuse(deed, ("审核", "approve"))
            c = deed.claim
            self._not_before("at", when, c.at)
            ind = c.indicator
            ask = abs(ind.points)
            prior = view.counted(_tally_key(c))
            give = ask if ind.yearly_cap is None else max(0, min(ask, ind.yearly_cap - prior))
            entry = DeedApproved(
                id=derive(c.id, "approve"),
                deed_id=c.id,
                at=when,
                by=who,
                points=-give if ind.deduction else give,
                issuer=self._issuer(c, issuer),
                cut=ask - give,
                prior=prior,
                note=note,
            )
            tx.add(self, [entry])
            if give:
                self._post(tx, c, entry)
            out = view.get(c.id)
            assert out is not None
            return out

    def _post(self, tx: Transaction, c: DeedClaimed, a: DeedApproved) -> None:
        """Stage the postings of an approval (see the module's docstring)."""
        ind = c.indicator
        memo = _memo(ind, c.id)
        if ind.holder is DeedHolder.PERSON and ind.deduction:
            self._deduct(tx, c, a, memo)
            return
        source, target, kind = (
            (c.account, a.issuer, PostingKind.CLAWBACK)
            if ind.deduction
            else (a.issuer, c.account, PostingKind.EARN)
        )
        p = Posting(
            id=derive(c.id, "deed"),
            at=a.at,
            kind=kind,
            source=source,
            target=target,
            amount=abs(a.points),
            ref=c.id,
            note=memo,
        )
        if ind.holder is DeedHolder.PERSON:  # an earning: it pays what the person owes first
            self.ledger._post_earnings([p], "deed")
        else:
            self.ledger._post_many([p])

    def _deduct(self, tx: Transaction, c: DeedClaimed, a: DeedApproved, memo: str) -> None:
        """Take ``|a.points|`` off a person: from the available lots in the spending order, the
        rest owed (``DEBT``), or all of it owed (``NEGATIVE``)."""
        ledger = self.ledger
        view = ledger._view(tx)
        amount = abs(a.points)
        base = derive(c.id, "deduct")
        taken = 0
        out: list[Posting] = []
        if self._rule(c) is ClawbackRule.DEBT:
            free = sum(n for lot, n in view.lots(c.account) if lot.usable(a.at))
            owed = min(view.balance(owed_account(c.holder)), 0)
            taken = min(amount, max(free + owed, 0))
            if taken:
                plan = ledger._take(view, c.holder, taken, a.at)
                out.extend(
                    Posting(
                        id=derive(base, k),
                        at=a.at,
                        kind=PostingKind.CLAWBACK,
                        source=lot.account,
                        target=a.issuer,
                        amount=n,
                        lot=lot.id,
                        ref=c.id,
                        note=memo,
                    )
                    for k, (lot, n) in enumerate(plan, start=1)
                )
        if amount > taken:
            out.append(
                Posting(
                    id=derive(base, "owed"),
                    at=a.at,
                    kind=PostingKind.CLAWBACK,
                    source=owed_account(c.holder),
                    target=a.issuer,
                    amount=amount - taken,
                    ref=c.id,
                    note=memo,
                )
            )
        tx.add(ledger, out)

    def reject(self, deed_id: str, *, by: str, reason: str, at: datetime | None = None) -> Deed:
        """Reject a claimed deed (驳回); nothing is posted. The same rejection again returns the
        deed; rejecting a deed decided otherwise is a :class:`~zhiyuan.errors.Conflict`."""
        who = key("by", by)
        why = key("reason", reason)
        with self.journal.transaction() as tx:
            when = self._when(at)
            view, deed = self._open(tx, deed_id)
            r = deed.rejection
            if r is not None and (r.by, r.reason) == (who, why) and (at is None or r.at == when):
                return deed
            if deed.state is not DeedState.CLAIMED:
                raise self._refuse(deed, ("驳回", "reject"))
            self._not_before("at", when, deed.claim.at)
            entry = DeedRejected(
                id=derive(deed.id, "reject"), deed_id=deed.id, at=when, by=who, reason=why
            )
            tx.add(self, [entry])
            out = view.get(deed.id)
            assert out is not None
            return out

    def reverse(self, deed_id: str, *, by: str, reason: str, at: datetime | None = None) -> Deed:
        """Reverse an approved deed (撤销) and take its points back: a good deed's earning by
        :meth:`PointsLedger.reverse_earning <zhiyuan.credit.PointsLedger.reverse_earning>` (what
        was spent clawed back as the scheme's rule says), a deduction by giving each lot back
        with its own dates (what is still owed is cancelled, what was paid off since comes back
        as new points), a site's or team's points by the opposite posting. The points stop
        counting under the yearly cap. The same reversal again returns the deed; reversing a
        deed that is not approved is a :class:`~zhiyuan.errors.Conflict`."""
        who = key("by", by)
        why = key("reason", reason)
        with self.journal.transaction() as tx:
            when = self._when(at)
            view, deed = self._open(tx, deed_id)
            r = deed.reversal
            if r is not None and (r.by, r.reason) == (who, why) and (at is None or r.at == when):
                return deed
            a = deed.approval
            if deed.state is not DeedState.APPROVED or a is None:
                raise self._refuse(deed, ("撤销", "reverse"))
            self._not_before("at", when, a.at)
            entry = DeedReversed(
                id=derive(deed.id, "reverse"), deed_id=deed.id, at=when, by=who, reason=why
            )
            tx.add(self, [entry])
            if a.points:
                self._take_back(tx, deed.claim, when, why)
            out = view.get(deed.id)
            assert out is not None
            return out

    def _take_back(self, tx: Transaction, c: DeedClaimed, when: datetime, reason: str) -> None:
        ind = c.indicator
        note = f"{reason}（撤销 / reversed: {_memo(ind, c.id)}）"
        ledger = self.ledger
        pid = derive(c.id, "deed")
        if ind.holder is DeedHolder.PERSON and not ind.deduction:
            ledger.reverse_earning(pid, at=when, reason=note, rule=self._rule(c))
            return
        if ind.holder is not DeedHolder.PERSON:
            p: Posting = ledger.posting(pid)
            back = Posting(
                id=derive(pid, "reverse"),
                at=when,
                kind=PostingKind.REVERSE,
                source=p.target,
                target=p.source,
                amount=p.amount,
                reverses=p.id,
                ref=c.id,
                note=note,
            )
            ledger._post_many([back])
            return
        # a person's deduction: each leg back where it came from
        base = derive(c.id, "deduct")
        legs: list[Posting] = []
        k = 1
        while (leg := self.journal.find(ledger.name, derive(base, k))) is not None:
            legs.append(leg)
            k += 1
        out: list[Posting] = []
        for leg in legs:
            lot: Posting | None = self.journal.find(ledger.name, leg.lot or "")
            out.append(
                Posting(
                    id=derive(leg.id, "restore"),
                    at=when,
                    kind=PostingKind.REVERSE,
                    source=leg.target,
                    target=leg.source,
                    amount=leg.amount,
                    reverses=leg.id,
                    ref=c.id,
                    available_from=None if lot is None else (lot.available_from or lot.at),
                    expires_at=None if lot is None else lot.expires_at,
                    note=note,
                )
            )
        owed_leg: Posting | None = self.journal.find(ledger.name, derive(base, "owed"))
        if owed_leg is not None:
            still = -min(ledger._view(tx).balance(owed_leg.source), 0)
            cancel = min(owed_leg.amount, still)
            if cancel:
                out.append(
                    Posting(
                        id=derive(owed_leg.id, "restore"),
                        at=when,
                        kind=PostingKind.REVERSE,
                        source=owed_leg.target,
                        target=owed_leg.source,
                        amount=cancel,
                        reverses=owed_leg.id,
                        ref=c.id,
                        note=note,
                    )
                )
            if owed_leg.amount > cancel:  # paid off since, from later points: they come back
                out.append(
                    Posting(
                        id=derive(owed_leg.id, "restore", "paid"),
                        at=when,
                        kind=PostingKind.REVERSE,
                        source=owed_leg.target,
                        target=c.account,
                        amount=owed_leg.amount - cancel,
                        reverses=owed_leg.id,
                        ref=c.id,
                        note=note,
                    )
                )
        tx.add(ledger, out)

    def award(
        self,
        id: str,
        holder: str,
        indicator_id: str,
        *,
        day: date,
        region_code: object,
        evidence: DeedEvidence | str,
        by: str,
        note: str = "",
        at: datetime | None = None,
        issuer: str | None = None,
    ) -> Deed:
        """Claim and approve at once, by ``by``, in one transaction: a deduction found by an
        inspection, or a site's or team's points for an activity or a rating. The same award
        again returns the deed as it stands."""
        with self.journal.transaction():
            deed = self.claim(
                id,
                holder,
                indicator_id,
                day=day,
                region_code=region_code,
                evidence=evidence,
                by=by,
                note=note,
                at=at,
            )
            when = at
            if deed.approval is None and at is None:
                when = max(self._when(None), deed.claim.at)
            return self.approve(id, by=by, at=when, issuer=issuer)

    # --- reading ------------------------------------------------------------------------------

    def deed(self, deed_id: str, *, as_of: datetime | None = None) -> Deed:
        """A deed as it stands now, or folded from its entries made by ``as_of``
        (:class:`~zhiyuan.errors.NotFound` for a deed not claimed by then)."""
        did = key("deed_id", deed_id)
        if as_of is None:
            with self._lock:
                found = self._state.deeds.get(did)
        else:
            mine = [e for e in self.entries if _deed_id(e) == did]
            found = fold_deeds(mine, as_of=as_of).get(did)
        if found is None:
            raise NotFound("deed", did)
        return found

    def deeds(
        self,
        *,
        holder: str | None = None,
        state: DeedState | str | None = None,
        as_of: datetime | None = None,
    ) -> list[Deed]:
        """Every deed in the order claimed, or those of one holder id and in one state."""
        who = None if holder is None else key("holder", holder)
        want = None if state is None else to_enum("state", DeedState, state)
        if as_of is None:
            with self._lock:
                every = list(self._state.deeds.values())
        else:
            every = list(fold_deeds(self.entries, as_of=as_of).values())
        return [
            d
            for d in every
            if (who is None or d.claim.holder == who) and (want is None or d.state is want)
        ]

    def counted(self, account: str, indicator_id: str, year: int) -> int:
        """The points counted under an indicator's yearly cap for an account (``volunteer:v1``,
        ``site:u1`` …) in a calendar year: approved and not reversed, in absolute value."""
        acct = key("account", account)
        iid = key("indicator_id", indicator_id)
        if isinstance(year, bool) or not isinstance(year, int):
            raise InvalidValue("year", year, "需要年份整数 / need a year")
        with self._lock:
            return self._state.tally.get((acct, iid, year), 0)

    def __len__(self) -> int:
        with self._lock:
            return len(self._state.deeds)

    def __iter__(self) -> Iterator[Deed]:
        return iter(self.deeds())


DEED_PROFILES: Profiles[DeedScheme] = Profiles(
    {
        "laixi": DeedScheme(
            name="laixi",
            effective_from=date(2020, 1, 1),
            indicators=(
                Indicator(
                    id="elders",
                    name="孝老爱亲（为村里老人服务）",
                    name_en="caring for the village's elders",
                    points=3,
                    evidence=[DeedEvidence.WITNESS, DeedEvidence.REVIEW, DeedEvidence.PHOTO],
                ),
                Indicator(
                    id="good_turn",
                    name="做好事",
                    name_en="a good turn",
                    points=3,
                    evidence=[DeedEvidence.WITNESS, DeedEvidence.REVIEW, DeedEvidence.PHOTO],
                ),
                Indicator(
                    id="charity",
                    name="参加慈善活动、义务劳动",
                    name_en="charity or voluntary labour",
                    points=4,
                    evidence=[DeedEvidence.WITNESS, DeedEvidence.PLATFORM, DeedEvidence.PHOTO],
                ),
                Indicator(
                    id="blood",
                    name="无偿献血",
                    name_en="donating blood",
                    points=5,
                    evidence=[DeedEvidence.CERTIFICATE],
                ),
                Indicator(
                    id="study",
                    name="积学（子女获评三好学生或考上知名院校）",
                    name_en="a child's school honour",
                    points=5,
                    evidence=[DeedEvidence.CERTIFICATE],
                ),
                Indicator(
                    id="litter",
                    name="乱倒垃圾",
                    name_en="dumping rubbish",
                    points=-5,
                    evidence=[DeedEvidence.INSPECTION, DeedEvidence.WITNESS, DeedEvidence.PHOTO],
                ),
            ),
            source=Source(
                document="《西沙埠村道德信用积分管理办法》《道德积分评分标准》（鲁网报道 / as "
                "reported by 鲁网）",
                issuer="莱西市沽河街道西沙埠村（鲁网转述 / reported by 鲁网）",
                date=date(2023, 12, 27),
                url="https://td.fyun.cc/detail/a9ddfeabc3e7eef064562f897c9a9deae1f49847.html",
                region_code="370285",
                note="Reported, not read (a mirror of 鲁网 2023-12-27): 上善莱西 德者有得, 4 aspects "
                "(积孝、积善、积学、积勤) and 18 items scored per household; 为老人服务、做好事 3 a time, "
                "慈善活动、义务劳动 4, a child's 三好学生 or university place 5, 乱倒垃圾 −5; 4 评议小组, "
                "the 村党支部 and the 道德评议会 settle the points, then public notice (so approval "
                "at the village). 无偿献血 5 is 夏格庄镇双山村's (民主与法制网 2023-06-30, "
                "http://flzs.falvjieda.com.cn/flzs/56576.html ), which also names "
                "《莱西市加强乡村德治体系建设实施方案》 (2020; day unknown, effective_from is 1 "
                "January) and its 75 赋分指标, not read. Unverified: the other 12 items, any yearly "
                "cap (none shipped), the evidence kinds (the library's reading).",
            ),
        ),
        "fucheng": DeedScheme(
            name="fucheng",
            indicators=(
                Indicator(
                    id="brave",
                    name="伸张正义、见义勇为",
                    name_en="standing up for justice, acting bravely",
                    points=5,
                    evidence=[DeedEvidence.CERTIFICATE, DeedEvidence.WITNESS],
                ),
                Indicator(
                    id="compact",
                    name="违反居规民约",
                    name_en="breaking the residents' compact",
                    points=-5,
                    evidence=[DeedEvidence.INSPECTION, DeedEvidence.WITNESS, DeedEvidence.PHOTO],
                ),
                Indicator(
                    id="water",
                    name="污染水资源",
                    name_en="polluting water",
                    points=-5,
                    evidence=[DeedEvidence.INSPECTION, DeedEvidence.WITNESS, DeedEvidence.PHOTO],
                ),
                Indicator(
                    id="support",
                    name="子女不履行赡养义务",
                    name_en="a child not supporting their parents",
                    points=-10,
                    evidence=[DeedEvidence.INSPECTION, DeedEvidence.WITNESS, DeedEvidence.REVIEW],
                ),
            ),
            source=Source(
                document="红色文明指数积分《管理手册》（绵阳日报报道 / as reported by 绵阳日报）",
                issuer="涪城区文明办（绵阳日报转述 / reported by 绵阳日报）",
                date=date(2021, 5, 19),
                url="http://www.adibba.com/html/2021/news/5/282949.html",
                region_code="510703",
                note="Reported, not read (a mirror of 绵阳日报 2021-05-19, 石塘街道古井社区 pilot): "
                "见义勇为 +5, 污染水资源 or 违反居规民约 −5, 子女不履行赡养义务 −10; 义务巡逻 and "
                "义务献血 give 0.5 a time, which whole points cannot hold, so they are left out. "
                "District, town and village tiers; who approves which item is not given (village "
                "here). Undated: effective_from is the library's floor.",
            ),
        ),
    },
    kind=DeedScheme,
    field="DEED_PROFILES",
)
"""Shipped good-deed schemes (道德积分; POLICIES.md "Points, credit and time banks" and §3.2),
each citing its source in ``source``; both are reported (news reports read through mirrors), not
rule texts. No yearly cap is shipped: none was found.

- ``laixi``: 莱西 道德积分 as its villages report it: 孝老爱亲 and 做好事 +3, 慈善活动、义务劳动 +4,
  无偿献血 and a child's school honour +5, 乱倒垃圾 −5; approved in the village
  (https://td.fyun.cc/detail/a9ddfeabc3e7eef064562f897c9a9deae1f49847.html ,
  http://flzs.falvjieda.com.cn/flzs/56576.html ).
- ``fucheng``: 绵阳 涪城 红色文明指数积分: 见义勇为 +5, 违反居规民约 and 污染水资源 −5, 子女不履行赡养义务
  −10 (http://www.adibba.com/html/2021/news/5/282949.html ).
"""
