"""Certificates (志愿服务记录证明): what they include, the number, the digest, the renderings.

Self-contained: the ledgers are built here (the helpers of ``tests/hours/conftest.py`` are not
used, so this module does not move when they do). Every datetime is explicit and aware.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from zhiyuan import SHANGHAI
from zhiyuan.convert import from_json, from_toml, to_json, to_toml, unstructure
from zhiyuan.errors import InvalidInput, InvalidValue, NotFound
from zhiyuan.hierarchy import Organization, Registry, load_default
from zhiyuan.hours import Evidence, HourLedger, HourPolicy, Purpose, ServiceRecord, Volunteer
from zhiyuan.hours.certificates import (
    ID_TYPE_RESIDENT,
    Certificate,
    CertificateLine,
    Issuer,
    audit,
    build_certificate,
    compute_digest,
    format_minutes,
    make_serial,
    render_html,
    render_text,
    verify,
)

SH = SHANGHAI
RAW_ID = "370602198001011234"
MIDDLE = RAW_ID[4:14]  # the ten characters a masked number hides
BIRTH = RAW_ID[6:14]
MARCH = (date(2025, 3, 1), date(2025, 4, 1))
ISSUED = date(2025, 4, 10)

XY = Organization(id="o1", name="向阳街道志愿者协会", region_code="370602001")
ZF = Organization(id="o2", name="芝罘区青年志愿者协会", region_code="370602")
ISSUER = Issuer.from_organization(
    XY, legal_representative="李明", handler="张华", contact="0535-6612345"
)
ISSUER_ZF = Issuer.from_organization(
    ZF, legal_representative="赵强", handler="孙丽", contact="0535-6688000"
)


def at(m: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(2025, m, d, h, mi, tzinfo=SH)


def rec(
    rid: str,
    start: datetime,
    minutes: int,
    *,
    vid: str = "v1",
    org: str = "o1",
    category: str = "助老",
    activity: str | None = None,
    evidence: Evidence = Evidence.QR_SCAN,
) -> ServiceRecord:
    return ServiceRecord(
        id=rid,
        volunteer_id=vid,
        activity_id=activity or f"act-{rid}",
        organization_id=org,
        region_code="370602001001",
        category=category,
        evidence=evidence,
        start=start,
        end=start + timedelta(minutes=minutes),
    )


def new_ledger(policy: HourPolicy | None = None) -> HourLedger:
    pol = policy or HourPolicy(notice_days=3, excluded_categories={"聚餐"})
    ledger = HourLedger(Registry(load_default(), [XY, ZF]), policies=[pol])
    ledger.add_volunteer(
        Volunteer(
            id="v1",
            name="王芳",
            id_number=RAW_ID,
            phone="13812345678",
            home_region="370602001001",
            registered_on=date(2024, 1, 1),
        )
    )
    ledger.add_volunteer(
        Volunteer(id="v2", name="刘洋", home_region="370602001001", registered_on=date(2024, 1, 1))
    )
    return ledger


def _post(ledger: HourLedger, r: ServiceRecord, now: datetime | None = None) -> None:
    ledger.post(r, at=now or r.end + timedelta(hours=1))


@functools.cache
def scenario() -> HourLedger:
    """One volunteer's March 2025 in every state, judged on the issue date 2025-04-10.

    With the 3-day notice, as of the end of 2025-04-10:

    ====  =====  =====  ==================================================  ===========
    id    org    date   what happened                                       state
    ====  =====  =====  ==================================================  ===========
    r1    o1     03-01  certified 03-02                                     certified
    r2    o1     03-03  never reviewed                                      submitted
    r3    o1     03-31  certified 04-08, notice until 04-11                 pending
    r4    o1     03-05  rejected 03-06                                      rejected
    r5    o1     03-07  certified 03-08, reversed 03-20                     reversed
    r6    o2     03-10  certified by the other organization                 certified
    r7    o1     02-27  certified, but in February                          certified
    r8    o1     03-15  certified 03-16                                     certified
    r9    o1     03-31  certified 04-01 (the last day of the period)        certified
    r10   o1     03-20  posted 04-15, after the issue date                  (none)
    r11   o1     03-12  certified 03-13, reversed 04-20, after issue        certified
    r12   o1     03-18  category 聚餐 rejected by the policy                submitted
    v2    o1     03-01  another volunteer's certified record                certified
    ====  =====  =====  ==================================================  ===========
    """
    ledger = new_ledger()
    _post(ledger, rec("r1", at(3, 1, 9), 120))
    ledger.certify("r1", by="admin", at=at(3, 2, 9))
    _post(ledger, rec("r2", at(3, 3, 9), 60))
    _post(ledger, rec("r3", at(3, 31, 9), 90))
    ledger.certify("r3", by="admin", at=at(4, 8, 9))
    _post(ledger, rec("r4", at(3, 5, 14), 120))
    ledger.reject("r4", by="admin", reason="无签到 / no sign-in", at=at(3, 6, 9))
    _post(ledger, rec("r5", at(3, 7, 9), 180))
    ledger.certify("r5", by="admin", at=at(3, 8, 9))
    ledger.reverse("r5", by="admin", reason="重复记录 / duplicate", at=at(3, 20, 9))
    _post(ledger, rec("r6", at(3, 10, 9), 240, org="o2"))
    ledger.certify("r6", by="admin", at=at(3, 11, 9))
    _post(ledger, rec("r7", at(2, 27, 9), 60))
    ledger.certify("r7", by="admin", at=at(2, 28, 9))
    _post(ledger, rec("r8", at(3, 15, 13), 150))
    ledger.certify("r8", by="admin", at=at(3, 16, 9))
    _post(ledger, rec("r9", at(3, 31, 19), 105))
    ledger.certify("r9", by="admin", at=at(4, 1, 9))
    _post(ledger, rec("r10", at(3, 20, 9), 45), now=at(4, 15, 9))
    ledger.certify("r10", by="admin", at=at(4, 16, 9))
    _post(ledger, rec("r11", at(3, 12, 9), 60))
    ledger.certify("r11", by="admin", at=at(3, 13, 9))
    ledger.reverse("r11", by="admin", reason="投诉成立 / complaint upheld", at=at(4, 20, 9))
    _post(ledger, rec("r12", at(3, 18, 18), 120, category="聚餐"))
    _post(ledger, rec("x1", at(3, 1, 9), 120, vid="v2"))
    ledger.certify("x1", by="admin", at=at(3, 2, 9))
    return ledger


@functools.cache
def march() -> Certificate:
    return build_certificate(scenario(), "v1", period=MARCH, issuer=ISSUER, issued_on=ISSUED)


def reseal(cert: Certificate, **changes: Any) -> Certificate:
    """A consistent certificate after ``changes``: serial and digest recomputed (a forger's work)."""
    c = attrs.evolve(cert, **changes)
    serial = make_serial(
        volunteer_id=c.volunteer_id,
        period=(c.period_start, c.period_end),
        issuer=c.issuer,
        issued_on=c.issued_on,
        as_of=c.as_of,
    )
    c = attrs.evolve(c, serial=serial)
    return attrs.evolve(c, digest=compute_digest(c))


# --- what a certificate includes ---------------------------------------------------------------


def test_scenario_covers_every_state() -> None:
    ledger, when = scenario(), datetime(2025, 4, 10, 23, 59, 59, tzinfo=SH)
    states = {r.id: ledger.status(r.id, as_of=when) for r in ledger.records_of("v1")}
    assert states == {
        "r1": "certified",
        "r2": "submitted",
        "r3": "pending",
        "r4": "rejected",
        "r5": "reversed",
        "r6": "certified",
        "r7": "certified",
        "r8": "certified",
        "r9": "certified",
        "r10": None,
        "r11": "certified",
        "r12": "submitted",
    }


def test_includes_exactly_the_issuers_certified_records_in_the_period() -> None:
    cert = march()
    assert [line.record_id for line in cert.lines] == ["r1", "r11", "r8", "r9"]
    assert [line.minutes for line in cert.lines] == [120, 60, 150, 105]
    assert cert.total_minutes == 435
    assert {line.organization_id for line in cert.lines} == {"o1"}
    assert {line.organization_name for line in cert.lines} == {"向阳街道志愿者协会"}
    assert cert.own_only is True
    assert verify(cert)


def test_lines_carry_the_records_content() -> None:
    line = attrs.evolve(march().lines[0], seq=None, entry_digest=None)
    assert line == CertificateLine(
        record_id="r1",
        service_date=date(2025, 3, 1),
        activity_id="act-r1",
        organization_id="o1",
        organization_name="向阳街道志愿者协会",
        category="助老",
        minutes=120,
    )


def test_lines_sorted_by_date_then_record_id() -> None:
    ledger = new_ledger()
    for rid, start in [("b", at(3, 2, 9)), ("a", at(3, 2, 14)), ("c", at(3, 1, 9))]:
        _post(ledger, rec(rid, start, 30))
        ledger.certify(rid, by="admin", at=at(3, 3, 9))
    cert = build_certificate(ledger, "v1", period=MARCH, issuer=ISSUER, issued_on=ISSUED)
    assert [(line.service_date.day, line.record_id) for line in cert.lines] == [
        (1, "c"),
        (2, "a"),
        (2, "b"),
    ]


def test_only_own_off_takes_every_organizer_and_agrees_with_the_ledger() -> None:
    cert = build_certificate(
        scenario(), "v1", period=MARCH, issuer=ISSUER, issued_on=ISSUED, only_own=False
    )
    assert [line.record_id for line in cert.lines] == ["r1", "r6", "r11", "r8", "r9"]
    assert cert.total_minutes == 675
    assert cert.own_only is False
    assert verify(cert)
    assert cert.total_minutes == scenario().minutes(
        "v1", as_of=cert.as_of, period=MARCH, purpose=Purpose.REPORTS
    )
    assert "其他组织单位" in render_text(cert)


def test_other_issuer_certifies_only_its_own() -> None:
    cert = build_certificate(scenario(), "v1", period=MARCH, issuer=ISSUER_ZF, issued_on=ISSUED)
    assert [line.record_id for line in cert.lines] == ["r6"]
    assert cert.total_minutes == 240


def test_as_of_decides_the_states() -> None:
    ledger = scenario()
    # Issued on 04-25: r3's notice is over (04-11) and r11 was reversed (04-20); r10 is in.
    late = build_certificate(ledger, "v1", period=MARCH, issuer=ISSUER, issued_on=date(2025, 4, 25))
    assert [line.record_id for line in late.lines] == ["r1", "r8", "r10", "r3", "r9"]
    # An explicit cut-off before r9's certification leaves it out.
    early = build_certificate(
        ledger, "v1", period=MARCH, issuer=ISSUER, issued_on=ISSUED, as_of=at(3, 31, 23)
    )
    assert [line.record_id for line in early.lines] == ["r1", "r11", "r8"]
    assert early.as_of == at(3, 31, 23)
    assert verify(early) and verify(late)


def test_default_as_of_is_the_end_of_the_issue_day_in_shanghai() -> None:
    cert = march()
    assert cert.as_of == datetime(2025, 4, 10, 23, 59, 59, 999999, tzinfo=SH)
    assert cert.as_of.utcoffset() == timedelta(hours=8)


def test_as_of_in_another_zone_is_kept_in_shanghai() -> None:
    cert = build_certificate(
        scenario(),
        "v1",
        period=MARCH,
        issuer=ISSUER,
        issued_on=ISSUED,
        as_of=datetime(2025, 4, 10, 12, tzinfo=UTC),
    )
    assert cert.as_of.isoformat() == "2025-04-10T20:00:00+08:00"
    assert verify(from_json(to_json(cert), Certificate))


def test_policy_can_keep_evidence_out_of_certificates() -> None:
    policy = HourPolicy(
        counts_toward={
            Purpose.STARS: [Evidence.QR_SCAN],
            Purpose.POINTS: [Evidence.QR_SCAN],
            Purpose.REPORTS: [Evidence.QR_SCAN],
        }
    )
    ledger = new_ledger(policy)
    _post(ledger, rec("q", at(3, 1, 9), 60))
    _post(ledger, rec("s", at(3, 2, 9), 60, evidence=Evidence.SELF_REPORT))
    for rid in ("q", "s"):
        ledger.certify(rid, by="admin", at=at(3, 3, 9))
    cert = build_certificate(ledger, "v1", period=MARCH, issuer=ISSUER, issued_on=ISSUED)
    assert [line.record_id for line in cert.lines] == ["q"]


def test_empty_certificate_is_valid() -> None:
    cert = build_certificate(
        scenario(),
        "v1",
        period=(date(2024, 1, 1), date(2024, 2, 1)),
        issuer=ISSUER,
        issued_on=ISSUED,
    )
    assert cert.lines == () and cert.total_minutes == 0 and verify(cert)
    assert "0 小时 0 分 / 0 h 0 min" in render_text(cert)
    assert "<table>" not in render_html(cert)


def test_volunteer_without_id_number() -> None:
    cert = build_certificate(scenario(), "v2", period=MARCH, issuer=ISSUER, issued_on=ISSUED)
    assert cert.id_type is None and cert.id_number is None
    assert [line.record_id for line in cert.lines] == ["x1"]
    assert "证件号码 / ID number: 未登记 / not on record" in render_text(cert)
    assert verify(from_json(to_json(cert), Certificate))


def test_identity_block() -> None:
    cert = march()
    assert cert.volunteer_id == "v1" and cert.volunteer_name == "王芳"
    assert cert.id_type == ID_TYPE_RESIDENT
    assert cert.id_number == "3706**********1234"
    assert cert.period_start == date(2025, 3, 1) and cert.period_end == date(2025, 4, 1)
    assert cert.last_day == date(2025, 3, 31)
    assert cert.issuer == ISSUER and cert.issued_on == ISSUED


def test_building_twice_gives_the_same_certificate_and_leaves_the_ledger_alone() -> None:
    ledger = scenario()
    before = ledger.entries
    assert build_certificate(ledger, "v1", period=MARCH, issuer=ISSUER, issued_on=ISSUED) == march()
    assert ledger.entries == before


# --- bad requests ------------------------------------------------------------------------------


def _build(**kw: Any) -> Certificate:
    args: dict[str, Any] = {"period": MARCH, "issuer": ISSUER, "issued_on": ISSUED}
    args.update(kw)
    vid = args.pop("volunteer_id", "v1")
    return build_certificate(scenario(), vid, **args)


def test_unknown_volunteer() -> None:
    with pytest.raises(NotFound, match="nobody"):
        _build(volunteer_id="nobody")


def test_unregistered_issuer() -> None:
    with pytest.raises(NotFound, match="o-ghost"):
        _build(issuer=attrs.evolve(ISSUER, organization_id="o-ghost"))


@pytest.mark.parametrize(
    "change", [{"name": "向阳街道青年协会"}, {"region_code": "370602002"}], ids=["name", "region"]
)
def test_issuer_must_match_its_registered_organization(change: dict[str, str]) -> None:
    with pytest.raises(InvalidValue, match="registered organization"):
        _build(issuer=attrs.evolve(ISSUER, **change))


@pytest.mark.parametrize(
    "period",
    [
        (date(2025, 4, 1), date(2025, 3, 1)),
        (date(2025, 3, 1), date(2025, 3, 1)),
        (datetime(2025, 3, 1, tzinfo=SH), date(2025, 4, 1)),
        (date(2025, 3, 1),),
        "2025-03",
    ],
    ids=["reversed", "empty", "datetime", "one-day", "string"],
)
def test_bad_period(period: Any) -> None:
    with pytest.raises(InvalidValue, match="period"):
        _build(period=period)


def test_period_cannot_reach_past_the_issue_date() -> None:
    _build(period=(date(2025, 4, 1), date(2025, 4, 11)))  # up to the issue day itself is fine
    with pytest.raises(InvalidValue, match="past the issue date"):
        _build(period=(date(2025, 4, 1), date(2025, 4, 12)))


def test_as_of_must_be_aware_and_not_after_the_issue_day() -> None:
    with pytest.raises(InvalidValue, match="timezone-aware"):
        _build(as_of=datetime(2025, 4, 10, 12))
    with pytest.raises(InvalidValue, match="after the issue date"):
        _build(as_of=at(4, 11, 0))


def test_issued_on_must_be_a_date() -> None:
    with pytest.raises(InvalidValue, match="issued_on"):
        _build(issued_on=at(4, 10, 9))


# --- personal data -----------------------------------------------------------------------------


def test_masked_id_never_reveals_the_middle_digits() -> None:
    cert = march()
    outputs = {
        "text": render_text(cert),
        "html": render_html(cert),
        "json": to_json(cert),
        "json-reveal": to_json(cert, reveal=True),
        "toml": to_toml(cert),
        "repr": repr(cert),
        "unstructure": json.dumps(unstructure(cert, reveal=True), ensure_ascii=False),
    }
    for name, out in outputs.items():
        assert "3706**********1234" in out, name
        assert MIDDLE not in out, name
        assert BIRTH not in out, name
        assert RAW_ID not in out, name
        assert "13812345678" not in out and "138****5678" not in out, name


def test_certificate_refuses_a_raw_id_number_and_does_not_echo_it() -> None:
    with pytest.raises(InvalidValue, match="masked") as err:
        attrs.evolve(march(), id_number=RAW_ID)
    assert MIDDLE not in str(err.value)
    data = json.loads(to_json(march()))
    data["id_number"] = RAW_ID
    with pytest.raises(InvalidInput) as err2:
        from_json(json.dumps(data), Certificate)
    assert MIDDLE not in str(err2.value)


def test_an_id_number_object_is_stored_masked() -> None:
    ledger = scenario()
    idn = ledger.volunteer("v1").id_number
    assert idn is not None
    cert = attrs.evolve(march(), id_number=idn)
    assert cert.id_number == "3706**********1234"


# --- the number --------------------------------------------------------------------------------


def test_serial_is_stable_and_follows_the_scheme() -> None:
    a = march()
    b = build_certificate(scenario(), "v1", period=MARCH, issuer=ISSUER, issued_on=ISSUED)
    assert a.serial == b.serial
    assert re.fullmatch(r"370602001-20250410-[0-9A-F]{12}", a.serial)
    payload = [
        "zhiyuan.certificate.serial/1",
        "v1",
        "2025-03-01",
        "2025-04-01",
        "o1",
        "2025-04-10",
        "2025-04-10T23:59:59.999999+08:00",
    ]
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert a.serial.endswith(hashlib.sha256(text.encode()).hexdigest()[:12].upper())


@pytest.mark.parametrize(
    "change",
    [
        {"period": (date(2025, 3, 1), date(2025, 3, 16))},
        {"period": (date(2025, 2, 1), date(2025, 4, 1))},
        {"volunteer_id": "v2"},
        {"issuer": ISSUER_ZF},
        {"issued_on": date(2025, 4, 11)},
        {"as_of": at(4, 10, 12)},
    ],
    ids=["shorter-period", "longer-period", "volunteer", "issuer", "issue-day", "as-of"],
)
def test_serial_differs_for_another_request(change: dict[str, Any]) -> None:
    assert _build(**change).serial != march().serial


def test_serial_prefix_is_the_issuers_short_region_code() -> None:
    assert build_certificate(
        scenario(), "v1", period=MARCH, issuer=ISSUER_ZF, issued_on=ISSUED
    ).serial.startswith("370602-20250410-")


# --- the digest and verify ---------------------------------------------------------------------


def test_digest_is_sha256_of_the_canonical_json_a_third_party_can_recompute() -> None:
    cert = march()
    data = json.loads(to_json(cert))  # what a third party receives
    digest = data.pop("digest")
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert hashlib.sha256(text.encode("utf-8")).hexdigest() == digest == cert.digest
    assert re.fullmatch(r"[0-9a-f]{64}", digest)


def test_golden_serial_and_digest() -> None:
    # Issued certificates must stay checkable: a change here breaks every number already given out.
    cert = march()
    assert cert.serial == GOLDEN_SERIAL
    # a certificate issued before lines named their journal position still has its digest
    lines = tuple(attrs.evolve(x, seq=None, entry_digest=None) for x in cert.lines)
    legacy = attrs.evolve(cert, lines=lines)
    assert compute_digest(legacy) == GOLDEN_DIGEST
    assert verify(attrs.evolve(legacy, digest=GOLDEN_DIGEST))
    assert cert.digest != GOLDEN_DIGEST  # the journal positions are sealed in too


GOLDEN_SERIAL = "370602001-20250410-DB5EB4013395"
GOLDEN_DIGEST = "1bdc17ce276debff8a64d58039dd63c17bbd602820e92800d21f44385a5b154f"


def _tampered_issuer(c: Certificate) -> Certificate:
    return attrs.evolve(c, issuer=attrs.evolve(c.issuer, handler="王五"))


TAMPERS: dict[str, Callable[[Certificate], Certificate]] = {
    "serial": lambda c: attrs.evolve(c, serial=c.serial + "0"),
    "volunteer_id": lambda c: attrs.evolve(c, volunteer_id="v9"),
    "volunteer_name": lambda c: attrs.evolve(c, volunteer_name="王芬"),
    "id_type": lambda c: attrs.evolve(c, id_type="护照"),
    "id_number": lambda c: attrs.evolve(c, id_number="3706**********1235"),
    "period_start": lambda c: attrs.evolve(c, period_start=date(2025, 2, 28)),
    "period_end": lambda c: attrs.evolve(c, period_end=date(2025, 4, 2)),
    "lines-dropped": lambda c: attrs.evolve(c, lines=c.lines[1:]),
    "lines-reordered": lambda c: attrs.evolve(c, lines=c.lines[::-1]),
    "line-activity": lambda c: attrs.evolve(
        c, lines=(attrs.evolve(c.lines[0], activity_id="x"), *c.lines[1:])
    ),
    "total_minutes": lambda c: attrs.evolve(c, total_minutes=c.total_minutes + 60),
    "issuer": _tampered_issuer,
    "issued_on": lambda c: attrs.evolve(c, issued_on=date(2025, 4, 9)),
    "as_of": lambda c: attrs.evolve(c, as_of=c.as_of - timedelta(seconds=1)),
    "own_only": lambda c: attrs.evolve(c, own_only=False),
    "notes": lambda c: attrs.evolve(c, notes="补发 / reissued"),
    "digest": lambda c: attrs.evolve(c, digest="0" * 64),
}


def test_every_field_is_covered_by_a_tamper_case() -> None:
    names = {a.name for a in attrs.fields(Certificate)}
    covered = {k.split("-")[0] for k in TAMPERS}
    assert names <= covered


@pytest.mark.parametrize("name", sorted(TAMPERS))
def test_any_change_makes_verify_false(name: str) -> None:
    assert verify(march())
    tampered = TAMPERS[name](march())
    assert tampered != march()
    assert not verify(tampered)
    assert audit(tampered)


@given(data=st.data())
def test_tampering_a_lines_minutes_makes_verify_false(data: st.DataObject) -> None:
    cert = march()
    i = data.draw(st.integers(min_value=0, max_value=len(cert.lines) - 1), label="line")
    old = cert.lines[i].minutes
    new = data.draw(st.integers(min_value=0, max_value=10**6).filter(lambda m: m != old))
    lines = list(cert.lines)
    lines[i] = attrs.evolve(lines[i], minutes=new)
    tampered = attrs.evolve(cert, lines=tuple(lines))
    assert not verify(tampered)
    assert any("total" in p for p in audit(tampered))
    # A forger who also fixes the total is still caught by the digest.
    consistent = attrs.evolve(tampered, total_minutes=sum(x.minutes for x in lines))
    assert not verify(consistent)
    assert [p for p in audit(consistent) if "digest" in p]


@given(name=st.text(min_size=1).filter(lambda s: s.strip() != "" and s != "王芳"))
def test_tampering_the_name_makes_verify_false(name: str) -> None:
    assert not verify(attrs.evolve(march(), volunteer_name=name))


@given(total=st.integers(min_value=0, max_value=10**6).filter(lambda t: t != 435))
def test_a_total_that_is_not_the_sum_fails_even_when_resealed(total: int) -> None:
    forged = reseal(march(), total_minutes=total)
    assert forged.digest == compute_digest(forged)  # the digest itself is right
    assert not verify(forged)
    assert audit(forged) == [
        f"合计 {total} 分钟与明细之和 435 不符 / total != sum of lines",
    ]


def test_audit_reports_structural_problems_even_when_resealed() -> None:
    cert = march()
    stranger = attrs.evolve(cert.lines[0], organization_id="o2", record_id="z")
    outside = attrs.evolve(cert.lines[0], service_date=date(2025, 4, 5), record_id="zz")
    assert any("order" in p for p in audit(reseal(cert, lines=cert.lines[::-1])))
    assert any(
        "another organization" in p
        for p in audit(reseal(cert, lines=(stranger,), total_minutes=120))
    )
    assert any(
        "outside the period" in p for p in audit(reseal(cert, lines=(outside,), total_minutes=120))
    )
    # The same lines with own_only off are fine.
    assert verify(reseal(cert, lines=(stranger,), total_minutes=120, own_only=False))


# --- JSON round-trip ---------------------------------------------------------------------------


def test_json_round_trip_is_lossless_and_still_verifies() -> None:
    cert = march()
    back = from_json(to_json(cert), Certificate)
    assert back == cert
    assert verify(back)
    assert to_json(back) == to_json(cert)
    assert from_json(to_json(cert, indent=2), Certificate) == cert


def test_toml_round_trip_still_verifies() -> None:
    for cert in (march(), _build(volunteer_id="v2")):
        back = from_toml(to_toml(cert), Certificate)
        assert back == cert and verify(back)


def test_tampered_json_loads_and_fails_verify() -> None:
    data = json.loads(to_json(march()))
    data["lines"][0]["minutes"] += 1
    data["total_minutes"] += 1
    loaded = from_json(json.dumps(data, ensure_ascii=False), Certificate)
    assert not verify(loaded)


def test_json_rejects_float_minutes_and_unknown_keys() -> None:
    data = json.loads(to_json(march()))
    data["lines"][0]["minutes"] = 120.0
    with pytest.raises(InvalidInput, match=r"lines\[0\]\.minutes"):
        from_json(json.dumps(data), Certificate)
    data = json.loads(to_json(march()))
    data["seal"] = "fake"
    with pytest.raises(InvalidInput, match="seal"):
        from_json(json.dumps(data), Certificate)


_texts = st.text(min_size=1, max_size=12).filter(lambda s: s.strip() != "")
_days = st.dates(min_value=date(2021, 2, 1), max_value=date(2030, 12, 31))


@st.composite
def certificates(draw: st.DrawFn) -> Certificate:
    """Consistent certificates with arbitrary text (any Unicode) in every string field."""
    start = draw(_days)
    length = draw(st.integers(min_value=1, max_value=400))
    end = start + timedelta(days=length)
    issued = end - timedelta(days=1) + timedelta(days=draw(st.integers(0, 30)))
    as_of = datetime.combine(issued, datetime.min.time(), tzinfo=SH) + timedelta(
        seconds=draw(st.integers(0, 86399)), microseconds=draw(st.integers(0, 999999))
    )
    own = draw(st.booleans())
    org_id = draw(_texts)
    lines = draw(
        st.lists(
            st.builds(
                CertificateLine,
                record_id=_texts,
                service_date=st.integers(0, length - 1).map(lambda k: start + timedelta(days=k)),
                activity_id=_texts,
                organization_id=st.just(org_id) if own else _texts,
                organization_name=_texts,
                category=_texts,
                minutes=st.integers(0, 24 * 60),
            ),
            max_size=6,
            unique_by=lambda line: line.record_id,
        )
    )
    lines.sort(key=lambda line: (line.service_date, line.record_id))
    issuer = Issuer(
        organization_id=org_id,
        name=draw(_texts),
        region_code=draw(st.sampled_from(["37", "3706", "370602", "370602001", "370602001001"])),
        legal_representative=draw(_texts),
        handler=draw(_texts),
        contact=draw(_texts),
    )
    masked = draw(
        st.one_of(st.none(), st.just("3706**********1234"), st.just("1101**********002X"))
    )
    draft = Certificate(
        serial="-",
        volunteer_id=draw(_texts),
        volunteer_name=draw(_texts),
        id_type=None if masked is None else ID_TYPE_RESIDENT,
        id_number=masked,
        period_start=start,
        period_end=end,
        lines=tuple(lines),
        total_minutes=sum(line.minutes for line in lines),
        issuer=issuer,
        issued_on=issued,
        as_of=as_of,
        own_only=own,
        notes=draw(st.text(max_size=20)),
    )
    return reseal(draft)


@given(cert=certificates())
def test_round_trip_property(cert: Certificate) -> None:
    assert verify(cert), audit(cert)
    back = from_json(to_json(cert), Certificate)
    assert back == cert
    assert verify(back)


@given(cert=certificates())
def test_renderings_escape_every_value(cert: Certificate) -> None:
    page = render_html(cert)
    body = page.split("<body>", 1)[1]
    # Only the tags the renderer writes appear; nothing from the data becomes markup.
    tags = set(re.findall(r"</?([a-zA-Z0-9]+)", body))
    allowed = "h1 br small p section h2 dl dt dd table thead tbody tr th td code body html"
    assert tags <= set(allowed.split())
    text = render_text(cert)
    assert len(text.splitlines()) == len(render_text(march()).splitlines()) - 4 + len(cert.lines)


# --- rendering ---------------------------------------------------------------------------------


def test_format_minutes() -> None:
    assert format_minutes(750) == "12 小时 30 分 / 12 h 30 min"
    assert format_minutes(59) == "0 小时 59 分 / 0 h 59 min"
    assert format_minutes(60) == "1 小时 0 分 / 1 h 0 min"
    assert format_minutes(0) == "0 小时 0 分 / 0 h 0 min"


def test_twelve_and_a_half_hours_show_as_hours_and_minutes() -> None:
    ledger = new_ledger()
    _post(ledger, rec("a", at(3, 1, 8), 480))
    _post(ledger, rec("b", at(3, 2, 8), 270))
    for rid in ("a", "b"):
        ledger.certify(rid, by="admin", at=at(3, 3, 9))
    cert = build_certificate(ledger, "v1", period=MARCH, issuer=ISSUER, issued_on=ISSUED)
    assert cert.total_minutes == 750
    assert "累计服务时长 / Total service time: 12 小时 30 分 / 12 h 30 min" in render_text(cert)
    assert "<dd>12 小时 30 分 / 12 h 30 min</dd>" in render_html(cert)


@pytest.mark.parametrize("render", [render_text, render_html], ids=["text", "html"])
def test_renderings_show_all_four_blocks_bilingually(render: Callable[[Certificate], str]) -> None:
    cert = march()
    out = render(cert)
    expected = [
        "志愿服务记录证明",
        "Volunteer Service Record Certificate",
        # 1 identity
        "一、志愿者信息 / 1. Volunteer",
        "王芳",
        "居民身份证 / Resident Identity Card",
        "3706**********1234",
        "志愿者编号 / Volunteer No.",
        # 2 service
        "二、服务信息 / 2. Service",
        "2025-03-01 至 2025-03-31 / 2025-03-01 to 2025-03-31",
        "7 小时 15 分 / 7 h 15 min",
        "2 小时 30 分 / 2 h 30 min",
        "act-r8",
        "助老",
        # 3 issuer
        "三、出具单位 / 3. Issuer",
        "向阳街道志愿者协会",
        "法定代表人 / Legal representative",
        "李明",
        "经办人 / Handled by",
        "张华",
        "联系方式 / Contact",
        "0535-6612345",
        # 4 number, date, notes
        "四、证明信息 / 4. Certificate",
        "出具日期 / Issued on",
        "2025-04-10",
        "备注 / Notes",
        "免费出具",
        "free of charge",
        "谁组织谁记录",
        "盖章",
        # checkable
        cert.serial,
        cert.digest,
        "SHA-256",
    ]
    for piece in expected:
        assert piece in out, piece
    for rid in ("r2", "r3", "r4", "r5", "r6", "r7", "r10", "r12"):
        assert f"act-{rid}" not in out


def test_text_lists_one_line_per_record() -> None:
    text = render_text(march())
    items = [line for line in text.splitlines() if line.startswith("  - ")]
    assert [item.rsplit("记录 / Record: ", 1)[1] for item in items] == ["r1", "r11", "r8", "r9"]
    assert "4 条记录 / 4 records" in text


def _with_activity(activity: str) -> Certificate:
    ledger = new_ledger()
    _post(ledger, rec("evil", at(3, 1, 9), 60, activity=activity))
    ledger.certify("evil", by="admin", at=at(3, 2, 9))
    return build_certificate(ledger, "v1", period=MARCH, issuer=ISSUER, issued_on=ISSUED)


def test_html_escapes_a_malicious_activity_id() -> None:
    cert = _with_activity('<script>alert("x")</script><img src=x onerror=alert(1)>')
    assert verify(cert)
    page = render_html(cert)
    assert "<script" not in page.lower()
    assert "<img" not in page.lower()
    assert (
        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"
        in page
    )
    assert "1 条记录 / 1 record<" in page


def test_html_is_self_contained() -> None:
    page = render_html(march())
    assert page.startswith("<!DOCTYPE html>")
    assert '<meta charset="utf-8">' in page
    assert "<style>" in page
    for external in ("<link", "<script", "src=", "href=", "@import", "url(", "http://", "https://"):
        assert external not in page, external


def test_text_cannot_be_forged_by_a_newline_in_a_value() -> None:
    cert = _with_activity("扫地\n  累计服务时长 / Total service time: 999 小时 0 分\u202e")
    text = render_text(cert)
    totals = [line for line in text.splitlines() if line.lstrip().startswith("累计服务时长")]
    assert totals == ["  累计服务时长 / Total service time: 1 小时 0 分 / 1 h 0 min"]
    assert "\\u000a" in text and "\\u202e" in text and "\u202e" not in text
    assert "\u202e" not in render_html(cert)


# --- property: any ledger, the certificate agrees with the ledger -----------------------------

ACTIONS = ("none", "certify", "reject", "reverse", "late")


@st.composite
def histories(draw: st.DrawFn) -> list[tuple[str, int, int, int, str, str]]:
    """(record id, day of March, start hour, minutes, organization, action) per record."""
    n = draw(st.integers(min_value=0, max_value=10))
    out = []
    for i in range(n):
        out.append(
            (
                f"r{i}",
                draw(st.integers(1, 31)),
                draw(st.integers(6, 20)),
                draw(st.integers(1, 180)),
                draw(st.sampled_from(["o1", "o2"])),
                draw(st.sampled_from(ACTIONS)),
            )
        )
    return out


@given(history=histories(), issue_day=st.integers(1, 20), only_own=st.booleans())
def test_certificate_agrees_with_the_ledger(
    history: list[tuple[str, int, int, int, str, str]], issue_day: int, only_own: bool
) -> None:
    ledger = new_ledger()
    for rid, day, hour, minutes, org, action in history:
        r = rec(rid, at(3, day, hour), minutes, org=org)
        _post(ledger, r, now=at(4, 1, 0))
        if action in ("certify", "reverse"):
            ledger.certify(rid, by="admin", at=at(4, 1, 1))
        if action == "late":
            ledger.certify(rid, by="admin", at=at(4, issue_day, 12))
        if action == "reject":
            ledger.reject(rid, by="admin", reason="不实 / untrue", at=at(4, 1, 2))
        if action == "reverse":
            ledger.reverse(rid, by="admin", reason="冲销 / reversal", at=at(4, 1, 3))
    issued = date(2025, 4, issue_day)
    cert = build_certificate(
        ledger, "v1", period=MARCH, issuer=ISSUER, issued_on=issued, only_own=only_own
    )
    assert verify(cert)
    when = cert.as_of
    want = [
        r.id
        for r in ledger.records_of("v1")
        if ledger.status(r.id, as_of=when) == "certified"
        and (not only_own or r.organization_id == "o1")
    ]
    assert sorted(line.record_id for line in cert.lines) == sorted(want)
    assert cert.total_minutes == sum(ledger.outcome(rid).counted_minutes for rid in want)
    if not only_own:
        assert cert.total_minutes == ledger.minutes("v1", as_of=when, period=MARCH)
    keys = [(line.service_date, line.record_id) for line in cert.lines]
    assert keys == sorted(keys)


# --- against the journal -----------------------------------------------------------------------


def test_a_certificate_names_where_each_record_sits_in_the_journal() -> None:
    from zhiyuan.hours import check_against

    ledger, issuer = _journal_world()
    cert = build_certificate(
        ledger,
        "v1",
        period=(date(2025, 3, 1), date(2025, 4, 1)),
        issuer=issuer,
        issued_on=date(2025, 4, 1),
    )
    assert cert.lines and all(line.seq and line.entry_digest for line in cert.lines)
    for line in cert.lines:
        rec = ledger.journal.record("hours", f"post:{line.record_id}")
        assert (rec.seq, rec.digest) == (line.seq, line.entry_digest)
    assert check_against(cert, ledger) == []
    # a forger who edits a line and recomputes the digest passes verify() but not the store
    forged = attrs.evolve(
        cert, lines=(attrs.evolve(cert.lines[0], minutes=999),), total_minutes=999
    )
    forged = attrs.evolve(
        forged,
        serial=make_serial(
            volunteer_id=forged.volunteer_id,
            period=(forged.period_start, forged.period_end),
            issuer=forged.issuer,
            issued_on=forged.issued_on,
            as_of=forged.as_of,
        ),
    )
    forged = attrs.evolve(forged, digest=compute_digest(forged))
    assert verify(forged)
    assert any("minutes" in p for p in check_against(forged, ledger))
    moved = attrs.evolve(cert.lines[0], seq=cert.lines[0].seq + 1)  # type: ignore[operator]
    assert any(
        "digest" in p
        for p in check_against(attrs.evolve(cert, lines=(moved, *cert.lines[1:])), ledger)
    )


def test_a_certificate_reversed_since_is_no_longer_the_journals() -> None:
    from zhiyuan.hours import check_against

    ledger, issuer = _journal_world()
    cert = build_certificate(
        ledger,
        "v1",
        period=(date(2025, 3, 1), date(2025, 4, 1)),
        issuer=issuer,
        issued_on=date(2025, 4, 1),
    )
    rid = cert.lines[0].record_id
    ledger.reverse(rid, by="admin", reason="x", at=datetime(2025, 3, 20, tzinfo=SHANGHAI))
    assert any(rid in p and "certified" in p for p in check_against(cert, ledger))


def _journal_world() -> tuple[HourLedger, Issuer]:
    org = Organization(id="o1", name="向阳街道志愿者协会", region_code="370602001")
    ledger = HourLedger(Registry(load_default(), [org]))
    ledger.add_volunteer(
        Volunteer(id="v1", name="王芳", home_region="370602001001", registered_on=date(2024, 1, 1))
    )
    for d in (1, 2, 3):
        rid = f"r{d}"
        ledger.post(
            ServiceRecord(
                id=rid,
                volunteer_id="v1",
                activity_id="a",
                organization_id="o1",
                region_code="370602001001",
                category="助老",
                evidence=Evidence.QR_SCAN,
                start=datetime(2025, 3, d, 9, tzinfo=SHANGHAI),
                end=datetime(2025, 3, d, 11, tzinfo=SHANGHAI),
            ),
            at=datetime(2025, 3, d, 12, tzinfo=SHANGHAI),
        )
        ledger.certify(rid, by="admin", at=datetime(2025, 3, d, 13, tzinfo=SHANGHAI))
    issuer = Issuer.from_organization(
        org, legal_representative="李明", handler="张华", contact="0535-6612345"
    )
    return ledger, issuer


# --- issue 14: text that is not valid Unicode -----------------------------------------------------


@pytest.mark.parametrize("field", ["notes", "digest", "id_type"])
def test_a_lone_surrogate_makes_verify_false_not_raise(field: str) -> None:
    tampered = attrs.evolve(march(), **{field: "补发\ud800"})
    assert not verify(tampered)
    assert any("not valid Unicode" in p for p in audit(tampered))


def test_a_lone_surrogate_in_loaded_json_fails_verify() -> None:
    text = to_json(march()).replace('"notes": ""', '"notes": "\\ud800"')
    assert "\\ud800" in text
    assert not verify(from_json(text, Certificate))


@pytest.mark.parametrize("field", ["volunteer_name", "volunteer_id", "serial"])
def test_a_lone_surrogate_in_a_name_or_id_is_refused_at_construction(field: str) -> None:
    with pytest.raises(InvalidValue, match="lone surrogate") as info:
        attrs.evolve(march(), **{field: "王\udc80"})
    assert info.value.field == field
