"""The hour ledger (工时台账): records posted, certified after public notice, rejected or reversed.

Everything that happens is an immutable entry (:class:`Posted`, :class:`Certified`,
:class:`Rejected`, :class:`Reversed`) appended to :attr:`HourLedger.entries`; every total is a fold
of those entries, which :func:`fold` computes from scratch for checking. A correction is a new
:class:`Reversed` entry, never an edit or a delete.

A record's life: posted → ``submitted`` → certified by someone with authority over the organizing
organization's node (or automatically, for the evidence kinds the policy names) → ``pending``
during the public notice (公示) → ``certified`` when the notice ends; or ``rejected`` (during
review or notice); a counted record can later be ``reversed``. A record the policy sent for
approval (daily cap, late entry) needs authority one level above the organizer.

Posting validates everything before it changes anything: unknown volunteers, organizations or
region codes, records in the future, and a different record under a used id raise, and leave the
ledger exactly as it was. Posting the same record again is a no-op. All methods are thread-safe.

Example:
    >>> from datetime import date, datetime
    >>> from zhiyuan._validators import SHANGHAI
    >>> from zhiyuan.hierarchy import load_default, Registry, Organization
    >>> from zhiyuan.hours import HourLedger, HourPolicy, ServiceRecord, Evidence, Volunteer
    >>> reg = Registry(load_default(), [Organization(id="o1", name="向阳街道志愿者协会",
    ...                                              region_code="370602001")])
    >>> ledger = HourLedger(reg, policies=[HourPolicy(notice_days=3)])
    >>> ledger.add_volunteer(Volunteer(id="v1", name="王芳", home_region="370602001001",
    ...                                registered_on=date(2024, 1, 1)))
    >>> t = lambda d, h: datetime(2025, 3, d, h, tzinfo=SHANGHAI)
    >>> rec = ServiceRecord(id="r1", volunteer_id="v1", activity_id="a1", organization_id="o1",
    ...     region_code="370602001001", category="助老", evidence=Evidence.QR_SCAN,
    ...     start=t(1, 9), end=t(1, 12))
    >>> ledger.post(rec, now=t(1, 13)).counted_minutes
    180
    >>> ledger.certify("r1", by="admin", at=t(2, 9))
    >>> ledger.minutes("v1", as_of=t(3, 9)), ledger.minutes("v1", status="pending", as_of=t(3, 9))
    (0, 180)
    >>> ledger.minutes("v1", as_of=t(5, 9))   # the 3-day notice is over
    180
    >>> ledger.reverse("r1", by="admin", reason="重复记录 / duplicate", at=t(6, 9))
    >>> ledger.minutes("v1", as_of=t(7, 9)), ledger.minutes("v1", as_of=t(5, 9))
    (0, 180)
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, timedelta
from typing import Literal, NamedTuple

import attrs

from zhiyuan._gc import paused_gc
from zhiyuan._validators import aware, moment, non_empty
from zhiyuan.errors import Conflict, InvalidValue, NotFound, UnknownRegion
from zhiyuan.hierarchy.jurisdiction import Action, Jurisdiction
from zhiyuan.hierarchy.units import Registry
from zhiyuan.hours.policy import HourPolicy, Outcome, Purpose, Rule, Segment, Status
from zhiyuan.hours.records import Evidence, ServiceRecord
from zhiyuan.hours.volunteers import Volunteer

__all__ = [
    "AUTO",
    "Certified",
    "Entry",
    "HourLedger",
    "HourRow",
    "Posted",
    "RecordStatus",
    "Rejected",
    "Reversed",
    "fold",
]

AUTO = "policy:auto"
"""The certifier named on automatic certifications."""

RecordStatus = Literal["submitted", "pending", "certified", "rejected", "reversed"]
"""A record's state as of a moment: ``submitted`` (awaiting review), ``pending`` (公示 running),
``certified``, ``rejected`` or ``reversed``."""

_EMPTY: dict[date, int] = {}

_STATUSES = ("submitted", "pending", "certified", "rejected", "reversed")


@attrs.frozen(kw_only=True)
class Posted:
    """A record entered into the ledger, with the policy's outcome at posting time."""

    record: ServiceRecord
    outcome: Outcome
    policy: str
    at: datetime = attrs.field(validator=aware)

    @property
    def id(self) -> str:
        """``post:<record id>``: a record is posted once."""
        return f"post:{self.record.id}"


@attrs.frozen(kw_only=True)
class Certified:
    """A certification (工时认证); the record is counted once ``notice_until`` has passed."""

    record_id: str
    by: str = attrs.field(validator=non_empty)
    at: datetime = attrs.field(validator=aware)
    notice_until: datetime = attrs.field(validator=aware)

    @property
    def id(self) -> str:
        """``certify:<record id>``: a record is certified once."""
        return f"certify:{self.record_id}"


@attrs.frozen(kw_only=True)
class Rejected:
    """A rejection during review or public notice, with the reason."""

    record_id: str
    by: str = attrs.field(validator=non_empty)
    at: datetime = attrs.field(validator=aware)
    reason: str = attrs.field(validator=non_empty)

    @property
    def id(self) -> str:
        """``reject:<record id>``."""
        return f"reject:{self.record_id}"


@attrs.frozen(kw_only=True)
class Reversed:
    """A reversal (冲销) of a posted record: from ``at`` on it counts nowhere."""

    record_id: str
    by: str = attrs.field(validator=non_empty)
    at: datetime = attrs.field(validator=aware)
    reason: str = attrs.field(validator=non_empty)

    @property
    def id(self) -> str:
        """``reverse:<record id>``."""
        return f"reverse:{self.record_id}"


Entry = Posted | Certified | Rejected | Reversed


class _Row:
    """The folded state of one record (internal)."""

    __slots__ = ("certified", "notice_until", "outcome", "posted", "record", "rejected", "reversed")

    def __init__(self, record: ServiceRecord, outcome: Outcome, posted: datetime) -> None:
        self.record = record
        self.outcome = outcome
        self.posted = posted
        self.certified: datetime | None = None
        self.notice_until: datetime | None = None
        self.rejected: datetime | None = None
        self.reversed: datetime | None = None

    def status(self, as_of: datetime | None) -> RecordStatus | None:
        if as_of is None:
            if self.reversed is not None:
                return "reversed"
            if self.rejected is not None:
                return "rejected"
            if self.certified is not None:
                return "certified"
            return "submitted"
        if self.posted > as_of:
            return None
        if self.reversed is not None and self.reversed <= as_of:
            return "reversed"
        if self.rejected is not None and self.rejected <= as_of:
            return "rejected"
        if self.certified is not None and self.certified <= as_of:
            assert self.notice_until is not None
            return "certified" if self.notice_until <= as_of else "pending"
        return "submitted"

    def live(self) -> bool:
        """Counted now or on its way to being counted (holds its time slot)."""
        return self.rejected is None and self.reversed is None and self.outcome.counted


class HourLedger:
    """Service records and their certification, for the organizations of one :class:`~zhiyuan.hierarchy.Registry`.

    Args:
        registry: the tree and the organizations that organize activities.
        policies: hour policies; each record is judged by the one in force on its service date
            (the latest ``effective_from`` on or before it; the earliest policy before that).
        jurisdiction: who may certify, reject and reverse; ``None`` trusts every caller.
        volunteers: volunteers to register at once (more with :meth:`add_volunteer`).
        extra_rules: local rules run after each policy's own chain (see
            :class:`~zhiyuan.hours.Draft`); a district's extra rule is one more step.
    """

    def __init__(
        self,
        registry: Registry,
        *,
        policies: Sequence[HourPolicy] = (),
        jurisdiction: Jurisdiction | None = None,
        volunteers: Iterable[Volunteer] = (),
        extra_rules: Sequence[Rule] = (),
    ) -> None:
        self.registry = registry
        self.tree = registry.tree
        ordered = sorted(policies or [HourPolicy()], key=lambda p: p.effective_from)
        self.policies: tuple[HourPolicy, ...] = tuple(ordered)
        self._starts = [p.effective_from for p in ordered]
        self._single = len(ordered) == 1
        self._region_index = self.tree._index  # 12-digit codes (records hold only those)
        self.jurisdiction = jurisdiction
        # each policy's own chain, then the local rules (a district's rule is one more step)
        self._chains = {id(p): (*p._rules, *extra_rules) for p in ordered}
        self._lock = threading.RLock()
        self._volunteers: dict[str, Volunteer] = {}
        self._entries: list[Entry] = []
        self._rows: dict[str, _Row] = {}
        self._by_volunteer: dict[str, list[str]] = {}
        self._occupied: dict[str, list[Segment]] = {}
        self._day_used: dict[str, dict[date, int]] = {}
        self._org_node: dict[str, str] = {o.id: o.region_code for o in registry.organizations()}
        for v in volunteers:
            self.add_volunteer(v)

    # --- registration -------------------------------------------------------------------------

    def add_volunteer(self, volunteer: Volunteer) -> None:
        """Register a volunteer (the same one again is a no-op; another under its id conflicts)."""
        if volunteer.home_region not in self.tree:
            raise UnknownRegion(volunteer.home_region)
        with self._lock:
            old = self._volunteers.get(volunteer.id)
            if old is not None and old != volunteer:
                raise Conflict(
                    f"volunteer id {volunteer.id!r} is already used / 志愿者编号已被占用"
                )
            self._volunteers[volunteer.id] = volunteer

    def volunteer(self, volunteer_id: str) -> Volunteer:
        """A registered volunteer, or :class:`~zhiyuan.errors.NotFound`."""
        try:
            return self._volunteers[volunteer_id]
        except KeyError:
            raise NotFound("volunteer", volunteer_id) from None

    def policy_for(self, day: date) -> HourPolicy:
        """The policy in force on ``day``."""
        i = bisect.bisect_right(self._starts, day) - 1
        return self.policies[max(i, 0)]

    def _org(self, organization_id: str) -> str:
        node = self._org_node.get(organization_id)
        if node is None:
            for o in self.registry.organizations():  # registered after the ledger was made
                self._org_node[o.id] = o.region_code
            node = self._org_node.get(organization_id)
            if node is None:
                raise NotFound("organization", organization_id)
        return node

    # --- posting ------------------------------------------------------------------------------

    def post(self, record: ServiceRecord, *, now: datetime | None = None) -> Outcome:
        """Evaluate a record under the policy in force and enter it; returns the outcome.

        Idempotent by record id. Raises before changing anything when the volunteer, the
        organization or the region is unknown, the record ends after ``now``, or another record
        already uses the id (:class:`~zhiyuan.errors.Conflict`).
        """
        at = moment(now)
        with self._lock:
            return self._post(record, at)

    def post_many(
        self, records: Iterable[ServiceRecord], *, now: datetime | None = None
    ) -> list[Outcome]:
        """:meth:`post` for many records in order (one lock, one clock): the city-scale path.

        Each record is validated and committed on its own, as by :meth:`post`: the first bad
        record raises, and the records before it stay posted (use
        :func:`~zhiyuan.hours.import_jsonl` for a report of every row instead).
        """
        at = moment(now)
        with self._lock, paused_gc():
            post = self._post
            return [post(r, at) for r in records]

    def _post(self, record: ServiceRecord, at: datetime) -> Outcome:
        row = self._rows.get(record.id)
        if row is not None:
            if row.record == record:
                return row.outcome
            raise Conflict(
                f"record id {record.id!r} is already used by another record / 记录编号已被占用"
            )
        vid = record.volunteer_id
        volunteer = self._volunteers.get(vid)
        if volunteer is None:
            raise NotFound("volunteer", vid)
        if record.organization_id not in self._org_node:
            self._org(record.organization_id)
        if record.region_code not in self._region_index:
            raise UnknownRegion(record.region_code)
        if record.recorded_at is not None and record.recorded_at > at:
            raise InvalidValue(
                "recorded_at",
                record.recorded_at.isoformat(),
                f"录入时间不能晚于当前时间 {at.isoformat()} / recorded_at cannot be in the future",
            )
        if record.end > at:
            raise InvalidValue(
                "end",
                record.end.isoformat(),
                f"记录不能晚于当前时间 {at.isoformat()} / a record cannot end in the future",
            )
        policy = self.policies[0] if self._single else self.policy_for(record.service_date)
        outcome = policy._evaluate(
            record,
            at,
            volunteer,
            self._occupied.get(vid, ()),
            self._day_used.get(vid, _EMPTY),
            self._chains[id(policy)],
        )
        self._commit(Posted(record=record, outcome=outcome, policy=policy.name, at=at))
        if outcome.status is Status.ACCEPTED and record.evidence in policy.auto_certify:
            self._commit(self._certification(record.id, AUTO, at, policy))
        return outcome

    def _certification(
        self, record_id: str, by: str, at: datetime, policy: HourPolicy
    ) -> Certified:
        return Certified(
            record_id=record_id,
            by=by,
            at=at,
            notice_until=at + timedelta(days=policy.notice_days),
        )

    def _commit(self, entry: Entry) -> None:
        """Apply an entry to the folded state (the caller holds the lock and has validated it)."""
        if isinstance(entry, Posted):
            rec, out = entry.record, entry.outcome
            row = _Row(rec, out, entry.at)
            self._rows[rec.id] = row
            self._by_volunteer.setdefault(rec.volunteer_id, []).append(rec.id)
            if out.counted:
                self._hold(rec.volunteer_id, out, +1)
        else:
            row = self._rows[entry.record_id]
            if isinstance(entry, Certified):
                row.certified, row.notice_until = entry.at, entry.notice_until
            else:
                was_live = row.live()
                if isinstance(entry, Rejected):
                    row.rejected = entry.at
                else:
                    row.reversed = entry.at
                if was_live:
                    self._hold(row.record.volunteer_id, row.outcome, -1)
        self._entries.append(entry)

    def _hold(self, vid: str, out: Outcome, sign: int) -> None:
        occ = self._occupied.setdefault(vid, [])
        days = self._day_used.setdefault(vid, {})
        for seg in out.segments:
            if sign > 0:
                bisect.insort(occ, seg)
            else:
                occ.remove(seg)
        for day, m in out.day_minutes:
            days[day] = days.get(day, 0) + sign * m

    # --- review -------------------------------------------------------------------------------

    def _row_for_action(self, record_id: str, by: str, action: str, when: datetime) -> _Row:
        row = self._rows.get(record_id)
        if row is None:
            raise NotFound("record", record_id)
        # No exemption for AUTO: automatic certification happens inside post(); a caller who
        # names AUTO as the certifier is checked like anyone else.
        if self.jurisdiction is not None:
            node = self._org(row.record.organization_id)
            if action == Action.CERTIFY and row.outcome.status is Status.NEEDS_APPROVAL:
                parent = self.tree[node].parent_code
                node = parent if parent is not None else node
            self.jurisdiction.check(by, action, node, on=when.date())
        return row

    def certify(self, record_id: str, *, by: str, at: datetime | None = None) -> None:
        """Certify a submitted record; it counts once the policy's public notice is over.

        A record the policy sent for approval needs authority over the organizer's parent node.
        Certifying twice is a no-op. A rejected, reversed or policy-rejected record cannot be
        certified (:class:`~zhiyuan.errors.Conflict`).
        """
        when = moment(at)
        with self._lock:
            row = self._row_for_action(record_id, by, Action.CERTIFY, when)
            if row.rejected is not None or row.reversed is not None:
                raise Conflict(f"record {record_id!r} was rejected or reversed / 记录已驳回或冲销")
            if row.certified is not None:
                return
            if row.outcome.status is Status.REJECTED:
                raise Conflict(
                    f"record {record_id!r} was rejected by the policy / 记录未通过规则校验"
                )
            if when < row.posted:
                raise InvalidValue(
                    "at", when.isoformat(), "认证不能早于录入 / cannot certify before posting"
                )
            policy = self.policy_for(row.record.service_date)
            self._commit(self._certification(record_id, by, when, policy))

    def reject(self, record_id: str, *, by: str, reason: str, at: datetime | None = None) -> None:
        """Reject a record under review or public notice (not one already certified)."""
        when = moment(at)
        with self._lock:
            row = self._row_for_action(record_id, by, Action.CERTIFY, when)
            if row.rejected is not None:
                return
            if when < row.posted:
                raise InvalidValue(
                    "at", when.isoformat(), "驳回不能早于录入 / cannot reject before posting"
                )
            state = row.status(when)
            if state not in ("submitted", "pending"):
                raise Conflict(f"record {record_id!r} is {state}; reverse it instead / 请改用冲销")
            self._commit(Rejected(record_id=record_id, by=by, at=when, reason=reason))

    def reverse(self, record_id: str, *, by: str, reason: str, at: datetime | None = None) -> None:
        """Reverse a record (冲销): from ``at`` on it counts nowhere. Reversing twice is a no-op."""
        when = moment(at)
        with self._lock:
            row = self._row_for_action(record_id, by, Action.REVERSE, when)
            if row.reversed is not None:
                return
            if when < row.posted:
                raise InvalidValue(
                    "at", when.isoformat(), "冲销不能早于录入 / cannot reverse before posting"
                )
            self._commit(Reversed(record_id=record_id, by=by, at=when, reason=reason))

    # --- reading ------------------------------------------------------------------------------

    @property
    def entries(self) -> tuple[Entry, ...]:
        """Every entry, in the order applied."""
        with self._lock:
            return tuple(self._entries)

    def __len__(self) -> int:
        return len(self._rows)

    def record(self, record_id: str) -> ServiceRecord:
        """A posted record."""
        row = self._rows.get(record_id)
        if row is None:
            raise NotFound("record", record_id)
        return row.record

    def outcome(self, record_id: str) -> Outcome:
        """The policy's outcome for a posted record."""
        row = self._rows.get(record_id)
        if row is None:
            raise NotFound("record", record_id)
        return row.outcome

    def status(self, record_id: str, *, as_of: datetime | None = None) -> RecordStatus | None:
        """A record's state as of a moment (default: now); ``None`` if not yet posted then."""
        row = self._rows.get(record_id)
        if row is None:
            raise NotFound("record", record_id)
        return row.status(moment(as_of))

    def records_of(self, volunteer_id: str) -> list[ServiceRecord]:
        """A volunteer's posted records, in posting order."""
        with self._lock:
            return [self._rows[r].record for r in self._by_volunteer.get(volunteer_id, ())]

    def _select(
        self,
        rows: Iterable[_Row],
        status: RecordStatus,
        as_of: datetime | None,
        period: tuple[date, date] | None,
        category: str | None,
        evidence: Evidence | None,
        purpose: Purpose | None,
    ) -> Iterator[_Row]:
        if status not in _STATUSES:
            raise InvalidValue("status", status, f"应为 / one of {', '.join(_STATUSES)}")
        for row in rows:
            if row.status(as_of) != status:
                continue
            rec = row.record
            if period is not None and not period[0] <= rec.service_date < period[1]:
                continue
            if category is not None and rec.category != category:
                continue
            if evidence is not None and rec.evidence is not evidence:
                continue
            if purpose is not None and purpose not in row.outcome.counts_toward:
                continue
            yield row

    def minutes(
        self,
        volunteer_id: str,
        *,
        status: RecordStatus = "certified",
        as_of: datetime | None = None,
        period: tuple[date, date] | None = None,
        category: str | None = None,
        evidence: Evidence | None = None,
        purpose: Purpose | None = None,
        weighted: bool = False,
    ) -> int:
        """A volunteer's counted minutes in one state (default: certified), filtered.

        ``as_of`` judges states at that moment (default: now, so hours still in 公示 are
        ``pending``, not ``certified``); ``period`` is
        ``(first day, day after the last)`` by service date; ``purpose`` keeps records whose
        evidence counts toward stars, points or reports; ``weighted`` applies category weights.
        Rejected and reversed records contribute the minutes they would have counted.
        """
        when = moment(as_of)
        with self._lock:
            rows = [self._rows[r] for r in self._by_volunteer.get(volunteer_id, ())]
        sel = self._select(rows, status, when, period, category, evidence, purpose)
        if weighted:
            return sum(r.outcome.weighted_minutes for r in sel)
        return sum(r.outcome.counted_minutes for r in sel)

    def summary(self, volunteer_id: str, *, as_of: datetime | None = None) -> dict[str, int]:
        """Minutes in every state for one volunteer."""
        return {s: self.minutes(volunteer_id, status=s, as_of=as_of) for s in _STATUSES}  # type: ignore[arg-type]

    def rows(
        self,
        *,
        status: RecordStatus = "certified",
        as_of: datetime | None = None,
        volunteer_id: str | None = None,
    ) -> list[HourRow]:
        """Counted records in one state as light :class:`HourRow` tuples (for stars and points).

        Example:
            >>> from zhiyuan.hierarchy import Registry, load_default
            >>> HourLedger(Registry(load_default())).rows()
            []
        """
        when = moment(as_of)
        with self._lock:
            if volunteer_id is None:
                rows = list(self._rows.values())
            else:
                rows = [self._rows[r] for r in self._by_volunteer.get(volunteer_id, ())]
        sel = self._select(rows, status, when, None, None, None, None)
        return [_hour_row(r) for r in sel if r.outcome.counted_minutes]

    def minutes_by_volunteer(
        self,
        *,
        status: RecordStatus = "certified",
        as_of: datetime | None = None,
        period: tuple[date, date] | None = None,
        purpose: Purpose | None = None,
        weighted: bool = False,
    ) -> dict[str, int]:
        """Minutes per volunteer in one state, for every volunteer with any (bulk form)."""
        when = moment(as_of)
        with self._lock:
            rows = list(self._rows.values())
        out: dict[str, int] = {}
        for row in self._select(rows, status, when, period, None, None, purpose):
            m = row.outcome.weighted_minutes if weighted else row.outcome.counted_minutes
            vid = row.record.volunteer_id
            out[vid] = out.get(vid, 0) + m
        return out

    def totals_by_region(
        self,
        *,
        status: RecordStatus = "certified",
        as_of: datetime | None = None,
        period: tuple[date, date] | None = None,
        purpose: Purpose | None = None,
    ) -> dict[str, int]:
        """Minutes by the region where the service took place, rolled up the tree."""
        when = moment(as_of)
        with self._lock:
            rows = list(self._rows.values())
        pairs = [
            (r.record.region_code, r.outcome.counted_minutes)
            for r in self._select(rows, status, when, period, None, None, purpose)
        ]
        return self.tree.rollup(pairs)


class HourRow(NamedTuple):
    """One counted record in a light form, for bulk consumers (stars, points, reports)."""

    volunteer_id: str
    service_date: date
    minutes: int
    weighted_minutes: int
    evidence: Evidence
    category: str
    purposes: frozenset[Purpose]
    region_code: str
    team_id: str | None = None
    record_id: str | None = None
    certified_at: datetime | None = None
    """When the record counted as certified (the end of its public notice)."""


def _hour_row(row: _Row) -> HourRow:
    rec, out = row.record, row.outcome
    return HourRow(
        rec.volunteer_id,
        rec.service_date,
        out.counted_minutes,
        out.weighted_minutes,
        rec.evidence,
        rec.category,
        out.counts_toward,
        rec.region_code,
        rec.team_id,
        rec.id,
        row.notice_until,
    )


def fold(entries: Iterable[Entry], *, as_of: datetime | None = None) -> dict[tuple[str, str], int]:
    """Minutes per ``(volunteer id, state)`` computed from the entries alone, from scratch.

    The ledger's queries must always agree with this; it exists to check them (and to rebuild
    totals from an exported entry log).

    Example:
        >>> fold([])
        {}
    """
    rows: dict[str, _Row] = {}
    for e in entries:
        if isinstance(e, Posted):
            rows.setdefault(e.record.id, _Row(e.record, e.outcome, e.at))
            continue
        row = rows[e.record_id]
        if isinstance(e, Certified):
            row.certified, row.notice_until = e.at, e.notice_until
        elif isinstance(e, Rejected):
            row.rejected = e.at
        else:
            row.reversed = e.at
    out: dict[tuple[str, str], int] = {}
    for row in rows.values():
        state = row.status(as_of)
        if state is None or not row.outcome.counted_minutes:
            continue
        key = (row.record.volunteer_id, state)
        out[key] = out.get(key, 0) + row.outcome.counted_minutes
    return out
