"""Certificates of volunteer service (志愿服务记录证明): built from the ledger, sealed by a digest.

A :class:`Certificate` carries the four blocks that 民发〔2015〕149号 asks for: (1) the volunteer's
identity — name, ID type and number (masked), volunteer number; (2) the service — hours and content,
one :class:`CertificateLine` per certified record; (3) the :class:`Issuer` — organization name,
legal representative, the person handling it, contact; (4) the certificate number
(:attr:`Certificate.serial`), the issue date and notes. It is issued free of charge, and only by the
organization that organized the activities (谁组织谁记录，谁记录谁证明): :func:`build_certificate`
takes only the issuer's own records unless told otherwise.

The number and the digest let a third party check a certificate against itself; the journal
position and digest of every line (:attr:`CertificateLine.seq`,
:attr:`CertificateLine.entry_digest`) let the issuer check it against the store
(:func:`check_against`), where a recomputed digest does not help a forger. The **serial** is derived from the
request, not drawn from a counter, so the same request always gives the same number
(:func:`make_serial` documents the scheme). The **digest** is the SHA-256 of the certificate's
canonical JSON — every field but ``digest``, through :func:`zhiyuan.convert.unstructure`, dumped
with sorted keys, UTF-8 characters kept and no whitespace (:func:`compute_digest`).
:func:`verify` recomputes both and checks the total against the lines: any change to any field
makes it ``False``. A digest is a checksum anyone can recompute, not a signature: authenticity
still comes from the issuer's seal and its register of numbers.

:class:`Certificate` checks only the types of its fields, so a tampered document can still be
loaded (from JSON) and found out by :func:`verify` rather than refused at the door.

References:
    《关于规范志愿服务记录证明工作的指导意见》(民发〔2015〕149号): the four blocks, the seal, the
    number; 《志愿服务条例》(2017): proof issued on request, free of charge; 《志愿服务记录与证明
    出具办法(试行)》(民政部令第67号, in force 2021-02-01): 谁组织谁记录，谁记录谁证明.

Example:
    >>> from datetime import date, datetime
    >>> from zhiyuan import SHANGHAI
    >>> from zhiyuan.hierarchy import load_default, Registry, Organization
    >>> from zhiyuan.hours import HourLedger, ServiceRecord, Evidence, Volunteer
    >>> org = Organization(id="o1", name="向阳街道志愿者协会", region_code="370602001")
    >>> ledger = HourLedger(Registry(load_default(), [org]))
    >>> ledger.add_volunteer(Volunteer(id="v1", name="王芳", id_number="370602198001011234",
    ...                                home_region="370602001001", registered_on=date(2024, 1, 1)))
    >>> t = lambda d, h, m=0: datetime(2025, 3, d, h, m, tzinfo=SHANGHAI)
    >>> for rid, day, (h0, m0), (h1, m1) in [("r1", 1, (9, 0), (12, 0)), ("r2", 8, (14, 0), (16, 30))]:
    ...     _ = ledger.post(ServiceRecord(id=rid, volunteer_id="v1", activity_id=f"a-{rid}",
    ...         organization_id="o1", region_code="370602001001", category="助老",
    ...         evidence=Evidence.QR_SCAN, start=t(day, h0, m0), end=t(day, h1, m1)), at=t(9, 8))
    ...     ledger.certify(rid, by="admin", at=t(9, 9))
    >>> issuer = Issuer.from_organization(org, legal_representative="李明", handler="张华",
    ...                                   contact="0535-6612345")
    >>> cert = build_certificate(ledger, "v1", period=(date(2025, 3, 1), date(2025, 4, 1)),
    ...                          issuer=issuer, issued_on=date(2025, 4, 1))
    >>> cert.serial, cert.total_minutes, cert.id_number, verify(cert)
    ('370602001-20250401-241A6ED70EE0', 330, '3706**********1234', True)
    >>> verify(attrs.evolve(cert, volunteer_name="王芬"))
    False
    >>> print(render_text(cert))  # doctest: +ELLIPSIS
    志愿服务记录证明 / Volunteer Service Record Certificate
    证明编号 / Certificate No.: 370602001-20250401-241A6ED70EE0
    <BLANKLINE>
    一、志愿者信息 / 1. Volunteer
      姓名 / Name: 王芳
      证件类型 / ID type: 居民身份证 / Resident Identity Card
      证件号码 / ID number: 3706**********1234
      志愿者编号 / Volunteer No.: v1
    <BLANKLINE>
    二、服务信息 / 2. Service
      服务期间 / Period: 2025-03-01 至 2025-03-31 / 2025-03-01 to 2025-03-31
      累计服务时长 / Total service time: 5 小时 30 分 / 5 h 30 min
      服务内容 / Service content: 2 条记录 / 2 records
      - 2025-03-01 | 助老 | 活动 / Activity: a-r1 | 组织单位 / Organizer: 向阳街道志愿者协会 | 3 小时 0 分 / 3 h 0 min | 记录 / Record: r1
      - 2025-03-08 | 助老 | 活动 / Activity: a-r2 | 组织单位 / Organizer: 向阳街道志愿者协会 | 2 小时 30 分 / 2 h 30 min | 记录 / Record: r2
    <BLANKLINE>
    三、出具单位 / 3. Issuer
      单位名称 / Organization: 向阳街道志愿者协会 (o1)
      所在区划 / Region code: 370602001
      法定代表人 / Legal representative: 李明
      经办人 / Handled by: 张华
      联系方式 / Contact: 0535-6612345
    <BLANKLINE>
    四、证明信息 / 4. Certificate
      证明编号 / Certificate No.: 370602001-20250401-241A6ED70EE0
      出具日期 / Issued on: 2025-04-01
      记录截至 / Records as of: 2025-04-01 23:59:59 (UTC+08:00)
      备注 / Notes: 无 / none
      本证明仅含出具单位组织的活动（谁组织谁记录，谁记录谁证明）。/ Covers only activities organized by the issuer (the organizer records and certifies).
      本证明免费出具。/ Issued free of charge.
      出具单位（盖章）/ Issuer (official seal):
    <BLANKLINE>
    核验 / Verification
      SHA-256: ...
      核验方法：向出具单位查询证明编号；对证明 JSON 中除 digest 外的全部字段按键排序、UTF-8、无空白序列化后计算 SHA-256，应与上值一致。
      To check: ask the issuer about the certificate number; the SHA-256 of the certificate's JSON without "digest" (keys sorted, UTF-8, no whitespace) must equal the value above.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import unicodedata
from datetime import date, datetime, time, timedelta

import attrs

from zhiyuan._validators import (
    SHANGHAI,
    aware,
    is_date,
    items_of,
    non_empty,
    non_negative,
    to_shanghai,
)
from zhiyuan.convert import unstructure
from zhiyuan.errors import InvalidValue, NotFound
from zhiyuan.hierarchy.codes import RegionCode, normalize_code
from zhiyuan.hierarchy.units import Organization
from zhiyuan.hours.ledger import HourLedger
from zhiyuan.hours.policy import Purpose
from zhiyuan.hours.volunteers import IdNumber, mask_id

__all__ = [
    "ID_TYPE_RESIDENT",
    "Certificate",
    "CertificateLine",
    "Issuer",
    "audit",
    "build_certificate",
    "check_against",
    "compute_digest",
    "format_minutes",
    "make_serial",
    "render_html",
    "render_text",
    "verify",
]

ID_TYPE_RESIDENT = "居民身份证"
"""The ID type of a GB 11643 number (:class:`~zhiyuan.hours.IdNumber`): 居民身份证."""

_ID_TYPES_EN = {ID_TYPE_RESIDENT: "Resident Identity Card"}

_SERIAL_SCHEME = "zhiyuan.certificate.serial/1"
_SERIAL_HEX = 12


def _code(value: object) -> str:
    return normalize_code(value, field="region_code")


def _masked_id(value: object) -> str | None:
    """Accept an IdNumber (kept masked) or a string that is already masked; refuse a raw number."""
    if value is None:
        return None
    if isinstance(value, IdNumber):
        return value.masked
    if not isinstance(value, str) or not value:
        raise InvalidValue(
            "id_number", type(value).__name__, "需要脱敏号码字符串 / need a masked number"
        )
    if mask_id(value) != value:
        raise InvalidValue(
            "id_number",
            None,
            "证明上的证件号码须脱敏 / a certificate holds the masked number only",
            shown=repr(mask_id(value)),
        )
    return value


def _lines(value: object) -> tuple[CertificateLine, ...]:
    return items_of("lines", CertificateLine, value)


@attrs.frozen(kw_only=True)
class Issuer:
    """The issuing organization (出具单位) and the people responsible for the certificate.

    ``organization_id``, ``name`` and ``region_code`` must match a registered
    :class:`~zhiyuan.hierarchy.Organization` (checked by :func:`build_certificate`); build it from
    one with :meth:`from_organization`. ``contact`` is the unit's public contact (phone or address).
    """

    organization_id: str = attrs.field(validator=non_empty)
    name: str = attrs.field(validator=non_empty)
    region_code: str = attrs.field(converter=_code)
    legal_representative: str = attrs.field(validator=non_empty)
    handler: str = attrs.field(validator=non_empty)
    contact: str = attrs.field(validator=non_empty)

    @classmethod
    def from_organization(
        cls, organization: Organization, *, legal_representative: str, handler: str, contact: str
    ) -> Issuer:
        """The issuer for a registered organization, with its 法定代表人, 经办人 and contact."""
        return cls(
            organization_id=organization.id,
            name=organization.name,
            region_code=organization.region_code,
            legal_representative=legal_representative,
            handler=handler,
            contact=contact,
        )


@attrs.frozen(kw_only=True)
class CertificateLine:
    """One certified service record on a certificate: when, what, who organized it, minutes counted.

    ``seq`` and ``entry_digest`` are where the record's :class:`~zhiyuan.hours.Posted` entry
    sits in the ledger's journal and its chained digest: :func:`check_against` finds the entry
    there and checks that it is the one certified (``None`` on certificates made before the
    journal).
    """

    record_id: str = attrs.field(validator=non_empty)
    service_date: date = attrs.field(validator=is_date)
    activity_id: str = attrs.field(validator=non_empty)
    organization_id: str = attrs.field(validator=non_empty)
    organization_name: str = attrs.field(validator=non_empty)
    category: str = attrs.field(validator=non_empty)
    minutes: int = attrs.field(validator=non_negative)
    seq: int | None = None
    entry_digest: str | None = None


@attrs.frozen(kw_only=True)
class Certificate:
    """A 志愿服务记录证明: identity, service, issuer, number and date, sealed by ``digest``.

    Attributes:
        serial: the certificate number (证明编号), see :func:`make_serial`.
        volunteer_id: the volunteer number (志愿者编号).
        volunteer_name: the volunteer's name.
        id_type: the ID type (证件类型), ``None`` when no ID number is on record.
        id_number: the masked ID number (``3706**********1234``); a raw number is refused.
        period_start: the first service date covered.
        period_end: the day *after* the last service date covered (half-open, as everywhere in
            zhiyuan); renderings show the last day.
        lines: the certified records, by service date then record id.
        total_minutes: the sum of the lines' minutes.
        issuer: the issuing organization and responsible persons.
        issued_on: the issue date (出具日期).
        as_of: the moment the records' states were judged (default: the end of ``issued_on``).
        own_only: ``True`` if only the issuer's own activities were taken (谁组织谁证明).
        notes: remarks (备注).
        digest: SHA-256 hex of the canonical JSON of every other field (:func:`compute_digest`).
    """

    serial: str = attrs.field(validator=non_empty)
    volunteer_id: str = attrs.field(validator=non_empty)
    volunteer_name: str = attrs.field(validator=non_empty)
    id_type: str | None = None
    id_number: str | None = attrs.field(default=None, converter=_masked_id)
    period_start: date = attrs.field(validator=is_date)
    period_end: date = attrs.field(validator=is_date)
    lines: tuple[CertificateLine, ...] = attrs.field(converter=_lines)
    total_minutes: int = attrs.field(validator=non_negative)
    issuer: Issuer
    issued_on: date = attrs.field(validator=is_date)
    as_of: datetime = attrs.field(converter=to_shanghai, validator=aware)
    own_only: bool = True
    notes: str = ""
    digest: str = ""

    @property
    def last_day(self) -> date:
        """The last service date covered (``period_end`` minus one day)."""
        return self.period_end - timedelta(days=1)


# --- number and digest -----------------------------------------------------------------------


def _canonical(data: object) -> bytes:
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8")


def make_serial(
    *,
    volunteer_id: str,
    period: tuple[date, date],
    issuer: Issuer,
    issued_on: date,
    as_of: datetime,
) -> str:
    """The certificate number for a request: ``<region>-<YYYYMMDD>-<12 hex digits>``.

    ``<region>`` is the issuer's region code without the zeros of lower levels (2–12 digits),
    ``<YYYYMMDD>`` the issue date, and the hex digits (upper case) the first 12 of the SHA-256 of
    the canonical JSON (sorted keys, no whitespace, UTF-8) of the list ``["zhiyuan.certificate.
    serial/1", volunteer id, period start, period end, issuer organization id, issue date, as_of]``
    (dates and ``as_of`` in ISO 8601, ``as_of`` in Asia/Shanghai). The same request always gives
    the same number; another volunteer, period, issuer, day or cut-off gives another.

    Example:
        >>> issuer = Issuer(organization_id="o1", name="向阳街道志愿者协会", region_code="370602001",
        ...                 legal_representative="李明", handler="张华", contact="0535-6612345")
        >>> make_serial(volunteer_id="v1", period=(date(2025, 3, 1), date(2025, 4, 1)),
        ...             issuer=issuer, issued_on=date(2025, 4, 1),
        ...             as_of=datetime(2025, 4, 1, 23, 59, 59, 999999, tzinfo=SHANGHAI))
        '370602001-20250401-241A6ED70EE0'
    """
    payload = [
        _SERIAL_SCHEME,
        volunteer_id,
        period[0].isoformat(),
        period[1].isoformat(),
        issuer.organization_id,
        issued_on.isoformat(),
        to_shanghai(as_of).isoformat(),
    ]
    digest = hashlib.sha256(_canonical(payload)).hexdigest()
    region = RegionCode.parse(issuer.region_code).short
    return f"{region}-{issued_on:%Y%m%d}-{digest[:_SERIAL_HEX].upper()}"


def compute_digest(certificate: Certificate) -> str:
    """SHA-256 hex over the canonical JSON of every field but ``digest``.

    Canonical JSON: :func:`zhiyuan.convert.unstructure`, the ``digest`` key removed (and a
    line's ``seq`` and ``entry_digest`` when they are ``None``, so certificates issued before
    lines carried them still verify), then ``json.dumps(…, sort_keys=True, ensure_ascii=False,
    separators=(",", ":"))`` encoded as UTF-8.
    """
    data = unstructure(certificate)
    del data["digest"]
    for line in data["lines"]:  # lines without a journal position hash as they always did
        for key in ("seq", "entry_digest"):
            if line.get(key) is None:
                line.pop(key, None)
    return hashlib.sha256(_canonical(data)).hexdigest()


def _serial_of(cert: Certificate) -> str:
    return make_serial(
        volunteer_id=cert.volunteer_id,
        period=(cert.period_start, cert.period_end),
        issuer=cert.issuer,
        issued_on=cert.issued_on,
        as_of=cert.as_of,
    )


def audit(certificate: Certificate) -> list[str]:
    """What is wrong with a certificate, one bilingual message per problem (empty: all is well).

    Checks the total against the lines, the order and uniqueness of the lines, that every line is
    in the period (and organized by the issuer when ``own_only``), the serial, and the digest.
    """
    c = certificate
    out: list[str] = []
    total = sum(line.minutes for line in c.lines)
    if total != c.total_minutes:
        out.append(f"合计 {c.total_minutes} 分钟与明细之和 {total} 不符 / total != sum of lines")
    keys = [(line.service_date, line.record_id) for line in c.lines]
    if keys != sorted(keys) or len({k[1] for k in keys}) != len(keys):
        out.append("明细未按日期和记录编号排序或有重复 / lines out of order or repeated")
    if c.period_end <= c.period_start:
        out.append("服务期间无效 / the period is empty")
    if any(not c.period_start <= line.service_date < c.period_end for line in c.lines):
        out.append("有明细不在服务期间内 / a line falls outside the period")
    if c.own_only and any(line.organization_id != c.issuer.organization_id for line in c.lines):
        out.append("有明细非出具单位组织 / a line was organized by another organization")
    try:
        serial, digest = _serial_of(c), compute_digest(c).encode("utf-8")
        claimed = c.digest.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: no certificate we issued holds one
        out.append(
            "证明含无效字符，无法校验 / the certificate holds text that is not valid Unicode "
            "(a lone surrogate), so it cannot be checked"
        )
        return out
    if c.serial != serial:
        out.append("证明编号与内容不符 / the serial does not match the certificate")
    if not hmac.compare_digest(claimed, digest):
        out.append("校验值不符，证明内容已被改动 / digest mismatch: the certificate was altered")
    return out


def _posted_id(record_id: str) -> str:
    return f"post:{record_id}"


def check_against(certificate: Certificate, ledger: HourLedger) -> list[str]:
    """What the ledger's journal says against a certificate, one bilingual message per problem
    (empty: the certificate is the journal's).

    Beyond :func:`audit` (the certificate against itself), every line must name a record whose
    :class:`~zhiyuan.hours.Posted` entry sits at the line's ``seq`` with the line's
    ``entry_digest`` (so a chain rewritten after issue is found, even where its digests were
    recomputed), counts the line's minutes, and was certified as of the certificate's
    ``as_of``. The journal's own chain is checked too (:meth:`Journal.verify
    <zhiyuan.journal.Journal.verify>`).
    """
    out = audit(certificate)
    check = ledger.journal.verify()
    if not check.ok:
        out.append(f"台账日志有误 / the journal is bad: {check}")
    for line in certificate.lines:
        rid = line.record_id
        if line.seq is None or line.entry_digest is None:
            out.append(f"{rid}: 证明未载日志位置 / the line names no journal position")
            continue
        try:
            where = ledger.journal.record(ledger.name, _posted_id(rid))
        except NotFound:
            out.append(f"{rid}: 日志中没有该记录 / the record is not in the journal")
            continue
        if (where.seq, where.digest) != (line.seq, line.entry_digest):
            out.append(
                f"{rid}: 日志位置或摘要不符 / the record sits at {where.seq} with another digest "
                f"than the certificate's {line.seq}"
            )
            continue
        if ledger.outcome(rid).counted_minutes != line.minutes:
            out.append(f"{rid}: 时长不符 / the minutes differ from the record's")
        if ledger.status(rid, as_of=certificate.as_of) != "certified":
            out.append(f"{rid}: 截至出具时未认证 / not certified as of the certificate")
    return out


def verify(certificate: Certificate) -> bool:
    """``True`` if the digest, the serial and the total all match the certificate's content.

    Example:
        >>> issuer = Issuer(organization_id="o1", name="协会", region_code="370602",
        ...                 legal_representative="李明", handler="张华", contact="0535-6612345")
        >>> blank = Certificate(serial="x", volunteer_id="v1", volunteer_name="王芳",
        ...     period_start=date(2025, 3, 1), period_end=date(2025, 4, 1), lines=(),
        ...     total_minutes=0, issuer=issuer, issued_on=date(2025, 4, 1),
        ...     as_of=datetime(2025, 4, 1, 12, tzinfo=SHANGHAI))
        >>> verify(blank)
        False
        >>> audit(blank)
        ['证明编号与内容不符 / the serial does not match the certificate', '校验值不符，证明内容已被改动 / digest mismatch: the certificate was altered']
    """
    return not audit(certificate)


# --- building --------------------------------------------------------------------------------


def _period(period: tuple[date, date]) -> tuple[date, date]:
    days = tuple(period) if isinstance(period, (tuple, list)) else ()
    if len(days) != 2 or any(isinstance(d, datetime) or not isinstance(d, date) for d in days):
        raise InvalidValue(
            "period",
            period,
            "需要 (首日, 末日次日) 两个日期 / need (first day, day after the last)",
        )
    start, end = days
    if end <= start:
        raise InvalidValue(
            "period",
            (start.isoformat(), end.isoformat()),
            "服务期间为空 / the period is empty (the end is the day after the last day)",
        )
    return start, end


def build_certificate(
    ledger: HourLedger,
    volunteer_id: str,
    *,
    period: tuple[date, date],
    issuer: Issuer,
    issued_on: date,
    as_of: datetime | None = None,
    only_own: bool = True,
    notes: str = "",
) -> Certificate:
    """Issue a certificate from the ledger for one volunteer's certified service in a period.

    A record is taken when, as of ``as_of``, its state is ``certified`` (public notice over, not
    rejected or reversed), its service date is in ``period`` (first day, day after the last), its
    policy counts its evidence toward reports and certificates (:attr:`Purpose.REPORTS`), and —
    with ``only_own`` — the issuer organized it (谁组织谁证明). Each line carries the record's
    counted minutes; the total is their sum, the same as
    ``ledger.minutes(volunteer_id, as_of=…, period=…, purpose=Purpose.REPORTS)`` when
    ``only_own`` is off.

    Args:
        ledger: the hour ledger.
        volunteer_id: the volunteer.
        period: ``(first day, day after the last)``; it may not end after ``issued_on``.
        issuer: the issuing organization, registered in the ledger's registry with the same name
            and region code.
        issued_on: the issue date.
        as_of: when to judge the records' states (aware; default: the end of ``issued_on`` in
            Asia/Shanghai); it may not be later than that.
        only_own: take only records the issuer organized (the default, as the rules require); off
            for a successor certifying a dissolved organizer's records.
        notes: remarks (备注).

    Raises:
        NotFound: the volunteer or the issuer's organization is unknown.
        InvalidValue: a bad period, issue date or ``as_of``, or an issuer that does not match
            its registered organization.
    """
    start, end = _period(period)
    if isinstance(issued_on, datetime) or not isinstance(issued_on, date):
        raise InvalidValue("issued_on", issued_on, "需要日期 / need a date (not a datetime)")
    day_end = datetime.combine(issued_on, time.max, tzinfo=SHANGHAI)
    if as_of is None:
        when = day_end
    else:
        if not isinstance(as_of, datetime) or as_of.tzinfo is None or as_of.utcoffset() is None:
            raise InvalidValue("as_of", as_of, "需要带时区的时间 / need a timezone-aware datetime")
        when = as_of.astimezone(SHANGHAI)
        if when > day_end:
            raise InvalidValue(
                "as_of",
                when.isoformat(),
                f"不能晚于出具日 {issued_on.isoformat()} / cannot be after the issue date",
            )
    if end > issued_on + timedelta(days=1):
        raise InvalidValue(
            "period",
            (start.isoformat(), end.isoformat()),
            f"不能晚于出具日 {issued_on.isoformat()} / cannot extend past the issue date",
        )
    volunteer = ledger.volunteer(volunteer_id)
    orgs = {o.id: o for o in ledger.registry.organizations()}
    own = orgs.get(issuer.organization_id)
    if own is None:
        raise NotFound("organization", issuer.organization_id)
    if (own.name, own.region_code) != (issuer.name, issuer.region_code):
        raise InvalidValue(
            "issuer",
            (issuer.name, issuer.region_code),
            f"与登记的组织不符 {own.name} ({own.region_code}) / "
            "does not match the registered organization",
        )

    lines: list[CertificateLine] = []
    for rec in ledger.records_of(volunteer_id):
        if not start <= rec.service_date < end:
            continue
        if only_own and rec.organization_id != issuer.organization_id:
            continue
        if ledger.status(rec.id, as_of=when) != "certified":
            continue
        outcome = ledger.outcome(rec.id)
        if Purpose.REPORTS not in outcome.counts_toward:
            continue
        org = orgs.get(rec.organization_id)
        if org is None:  # the ledger checked it on posting; the registry never forgets
            raise NotFound("organization", rec.organization_id)
        where = ledger.journal.record(ledger.name, _posted_id(rec.id))
        lines.append(
            CertificateLine(
                record_id=rec.id,
                service_date=rec.service_date,
                activity_id=rec.activity_id,
                organization_id=org.id,
                organization_name=org.name,
                category=rec.category,
                minutes=outcome.counted_minutes,
                seq=where.seq,
                entry_digest=where.digest,
            )
        )
    lines.sort(key=lambda line: (line.service_date, line.record_id))

    idn = volunteer.id_number
    draft = Certificate(
        serial=make_serial(
            volunteer_id=volunteer.id,
            period=(start, end),
            issuer=issuer,
            issued_on=issued_on,
            as_of=when,
        ),
        volunteer_id=volunteer.id,
        volunteer_name=volunteer.name,
        id_type=None if idn is None else ID_TYPE_RESIDENT,
        id_number=None if idn is None else idn.masked,
        period_start=start,
        period_end=end,
        lines=tuple(lines),
        total_minutes=sum(line.minutes for line in lines),
        issuer=issuer,
        issued_on=issued_on,
        as_of=when,
        own_only=only_own,
        notes=notes,
    )
    return attrs.evolve(draft, digest=compute_digest(draft))


# --- rendering -------------------------------------------------------------------------------


def format_minutes(minutes: int) -> str:
    """Minutes as hours and minutes, Chinese then English.

    Example:
        >>> format_minutes(750), format_minutes(0)
        ('12 小时 30 分 / 12 h 30 min', '0 小时 0 分 / 0 h 0 min')
    """
    h, m = divmod(minutes, 60)
    return f"{h} 小时 {m} 分 / {h} h {m} min"


def _clean(value: object) -> str:
    """Text safe to print on one line: control, format and line-separator characters escaped.

    A newline or a bidi override in an activity id could otherwise forge or reorder lines.
    """
    out = []
    for ch in str(value):
        cat = unicodedata.category(ch)
        if cat[0] == "C" or cat in ("Zl", "Zp"):
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)


def _as_of_text(moment: datetime) -> str:
    offset = moment.strftime("%z")
    return f"{moment:%Y-%m-%d %H:%M:%S} (UTC{offset[:3]}:{offset[3:]})"


def _id_type_text(id_type: str | None) -> str:
    if id_type is None:
        return "未登记 / not on record"
    en = _ID_TYPES_EN.get(id_type)
    return id_type if en is None else f"{id_type} / {en}"


def _scope_text(own_only: bool) -> str:
    if own_only:
        return (
            "本证明仅含出具单位组织的活动（谁组织谁记录，谁记录谁证明）。/ Covers only activities "
            "organized by the issuer (the organizer records and certifies)."
        )
    return (
        "本证明含其他组织单位的活动，各条注明组织单位。/ Includes activities of other organizers, "
        "each line naming its organizer."
    )


_FREE = "本证明免费出具。/ Issued free of charge."
_CHECK_ZH = (
    "核验方法：向出具单位查询证明编号；对证明 JSON 中除 digest 外的全部字段按键排序、UTF-8、"
    "无空白序列化后计算 SHA-256，应与上值一致。"
)
_CHECK_EN = (
    'To check: ask the issuer about the certificate number; the SHA-256 of the certificate\'s JSON without "digest" '
    "(keys sorted, UTF-8, no whitespace) must equal the value above."
)


def _blocks(c: Certificate) -> list[tuple[str, list[tuple[str, str]]]]:
    """The four blocks as (heading, [(label, value)]) pairs; values are not yet cleaned."""
    last = c.last_day.isoformat()
    first = c.period_start.isoformat()
    return [
        (
            "一、志愿者信息 / 1. Volunteer",
            [
                ("姓名 / Name", c.volunteer_name),
                ("证件类型 / ID type", _id_type_text(c.id_type)),
                ("证件号码 / ID number", c.id_number or "未登记 / not on record"),
                ("志愿者编号 / Volunteer No.", c.volunteer_id),
            ],
        ),
        (
            "二、服务信息 / 2. Service",
            [
                ("服务期间 / Period", f"{first} 至 {last} / {first} to {last}"),
                ("累计服务时长 / Total service time", format_minutes(c.total_minutes)),
                (
                    "服务内容 / Service content",
                    f"{len(c.lines)} 条记录 / {len(c.lines)} record"
                    + ("" if len(c.lines) == 1 else "s"),
                ),
            ],
        ),
        (
            "三、出具单位 / 3. Issuer",
            [
                ("单位名称 / Organization", f"{c.issuer.name} ({c.issuer.organization_id})"),
                ("所在区划 / Region code", RegionCode.parse(c.issuer.region_code).short),
                ("法定代表人 / Legal representative", c.issuer.legal_representative),
                ("经办人 / Handled by", c.issuer.handler),
                ("联系方式 / Contact", c.issuer.contact),
            ],
        ),
        (
            "四、证明信息 / 4. Certificate",
            [
                ("证明编号 / Certificate No.", c.serial),
                ("出具日期 / Issued on", c.issued_on.isoformat()),
                ("记录截至 / Records as of", _as_of_text(c.as_of)),
                ("备注 / Notes", c.notes or "无 / none"),
            ],
        ),
    ]


def _line_cells(line: CertificateLine) -> list[str]:
    return [
        line.service_date.isoformat(),
        line.category,
        line.activity_id,
        line.organization_name,
        format_minutes(line.minutes),
        line.record_id,
    ]


def render_text(certificate: Certificate) -> str:
    """The certificate as plain text, Chinese first with English beside, all four blocks.

    Every value is printed on one line: control and format characters (newlines, bidi overrides)
    are shown as ``\\uXXXX`` escapes, so no value can forge a line. The serial and the digest are
    printed for a third party to check (see the module example).
    """
    c = certificate
    out = [
        "志愿服务记录证明 / Volunteer Service Record Certificate",
        f"证明编号 / Certificate No.: {_clean(c.serial)}",
    ]
    for heading, fields in _blocks(c):
        out += ["", heading]
        out += [f"  {label}: {_clean(value)}" for label, value in fields]
        if heading.startswith("二"):
            for line in c.lines:
                d, cat, act, org, hm, rid = (_clean(x) for x in _line_cells(line))
                out.append(
                    f"  - {d} | {cat} | 活动 / Activity: {act} | 组织单位 / Organizer: {org} "
                    f"| {hm} | 记录 / Record: {rid}"
                )
        elif heading.startswith("四"):
            out += [
                f"  {_scope_text(c.own_only)}",
                f"  {_FREE}",
                "  出具单位（盖章）/ Issuer (official seal):",
            ]
    out += [
        "",
        "核验 / Verification",
        f"  SHA-256: {_clean(c.digest)}",
        f"  {_CHECK_ZH}",
        f"  {_CHECK_EN}",
    ]
    return "\n".join(out)


_CSS = """
body { font-family: "Noto Serif SC", "Songti SC", SimSun, serif; margin: 2em auto;
       max-width: 52em; color: #111; }
h1 { text-align: center; font-size: 1.6em; margin-bottom: 0.2em; }
.serial { text-align: center; font-family: monospace; margin-top: 0; }
h2 { font-size: 1.1em; border-bottom: 1px solid #999; margin-top: 1.4em; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.25em 1em; margin: 0.5em 0; }
dt { color: #444; }
dd { margin: 0; }
table { border-collapse: collapse; width: 100%; margin-top: 0.6em; font-size: 0.95em; }
th, td { border: 1px solid #999; padding: 0.25em 0.5em; text-align: left;
         vertical-align: top; }
td.num { white-space: nowrap; }
.seal { margin-top: 2em; text-align: right; }
.check { margin-top: 2em; font-size: 0.85em; color: #333; }
.check code { word-break: break-all; }
""".strip()


def _h(value: object) -> str:
    return html.escape(_clean(value), quote=True)


def render_html(certificate: Certificate) -> str:
    """The certificate as one self-contained HTML page (inline CSS, no scripts, no links).

    Every value passes through :func:`html.escape`, so markup in an activity id or a name is shown,
    never run.
    """
    c = certificate
    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>志愿服务记录证明 / Volunteer Service Record Certificate {_h(c.serial)}</title>",
        f"<style>\n{_CSS}\n</style>",
        "</head>",
        "<body>",
        "<h1>志愿服务记录证明<br><small>Volunteer Service Record Certificate</small></h1>",
        f'<p class="serial">证明编号 / Certificate No.: {_h(c.serial)}</p>',
    ]
    for heading, fields in _blocks(c):
        parts.append(f"<section>\n<h2>{_h(heading)}</h2>\n<dl>")
        parts += [f"<dt>{_h(label)}</dt><dd>{_h(value)}</dd>" for label, value in fields]
        parts.append("</dl>")
        if heading.startswith("二") and c.lines:
            parts.append(
                "<table>\n<thead><tr><th>日期 / Date</th><th>类别 / Category</th>"
                "<th>活动 / Activity</th><th>组织单位 / Organizer</th>"
                "<th>时长 / Time</th><th>记录 / Record</th></tr></thead>\n<tbody>"
            )
            for line in c.lines:
                row = "".join(
                    f'<td class="num">{_h(x)}</td>' if i == 4 else f"<td>{_h(x)}</td>"
                    for i, x in enumerate(_line_cells(line))
                )
                parts.append(f"<tr>{row}</tr>")
            parts.append("</tbody>\n</table>")
        elif heading.startswith("四"):
            parts += [
                f"<p>{_h(_scope_text(c.own_only))}</p>",
                f"<p>{_h(_FREE)}</p>",
                '<p class="seal">出具单位（盖章）/ Issuer (official seal)</p>',
            ]
        parts.append("</section>")
    parts += [
        '<section class="check">',
        "<h2>核验 / Verification</h2>",
        f"<p>SHA-256: <code>{_h(c.digest)}</code></p>",
        f"<p>{_h(_CHECK_ZH)}</p>",
        f"<p>{_h(_CHECK_EN)}</p>",
        "</section>",
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"
