"""Hour accounting (工时): volunteers, service records, the hour policy, the ledger, certificates.

Certified hours are the permanent record that stars, points and reports are computed from.

Example:
    >>> from zhiyuan.hours import HourPolicy, HOUR_PROFILES
    >>> HourPolicy().unit_minutes, HOUR_PROFILES["university"].daily_cap_minutes
    (1, 480)
"""

from __future__ import annotations

from zhiyuan.hours.certificates import (
    ID_TYPE_RESIDENT,
    Certificate,
    CertificateLine,
    Issuer,
    audit,
    build_certificate,
    check_against,
    compute_digest,
    format_minutes,
    make_serial,
    render_html,
    render_text,
    verify,
)
from zhiyuan.hours.imports import (
    CSV_COLUMNS,
    ImportReport,
    ImportResult,
    RowResult,
    import_csv,
    import_jsonl,
)
from zhiyuan.hours.ledger import (
    AUTO,
    Certified,
    Entry,
    HourLedger,
    HourRow,
    Posted,
    RecordStatus,
    Registered,
    Rejected,
    Reversed,
    fold,
)
from zhiyuan.hours.policy import (
    HOUR_PROFILES,
    RULES,
    Draft,
    Finding,
    HourPolicy,
    HourRule,
    Outcome,
    Overflow,
    OverlapRule,
    Purpose,
    Rounding,
    Rule,
    Status,
)
from zhiyuan.hours.records import Evidence, GeoFix, ServiceRecord
from zhiyuan.hours.recurrence import (
    AttendanceReport,
    Duty,
    Recurrence,
    Shift,
    attendance,
    expected_shifts,
)
from zhiyuan.hours.volunteers import ADULT_AGE, IdNumber, Phone, Volunteer, check_character, mask_id

__all__ = [
    "ADULT_AGE",
    "AUTO",
    "CSV_COLUMNS",
    "HOUR_PROFILES",
    "ID_TYPE_RESIDENT",
    "RULES",
    "AttendanceReport",
    "Certificate",
    "CertificateLine",
    "Certified",
    "Draft",
    "Duty",
    "Entry",
    "Evidence",
    "Finding",
    "GeoFix",
    "HourLedger",
    "HourPolicy",
    "HourRow",
    "HourRule",
    "IdNumber",
    "ImportReport",
    "ImportResult",
    "Issuer",
    "Outcome",
    "Overflow",
    "OverlapRule",
    "Phone",
    "Posted",
    "Purpose",
    "RecordStatus",
    "Recurrence",
    "Registered",
    "Rejected",
    "Reversed",
    "Rounding",
    "RowResult",
    "Rule",
    "ServiceRecord",
    "Shift",
    "Status",
    "Volunteer",
    "attendance",
    "audit",
    "build_certificate",
    "check_against",
    "check_character",
    "compute_digest",
    "expected_shifts",
    "fold",
    "format_minutes",
    "import_csv",
    "import_jsonl",
    "make_serial",
    "mask_id",
    "render_html",
    "render_text",
    "verify",
]
