"""The hour ledger (工时台账): records posted, certified after public notice, rejected or reversed.

Everything that happens is an immutable entry (:class:`Registered`, :class:`Posted`,
:class:`Certified`, :class:`Rejected`, :class:`Reversed`) recorded in the ledger's
:class:`~zhiyuan.journal.Journal`; every total is a fold of those entries, which :func:`fold`
computes from scratch for checking. A correction is a new :class:`Reversed` entry, never an edit
or a delete. A :class:`Posted` entry carries the policy's outcome: reopening the ledger folds the
recorded outcomes and runs no policy again.

A record's life: posted → ``submitted`` → certified by someone with authority over the organizing
organization's node (or automatically, for the evidence kinds the policy names) → ``pending``
during the public notice (公示) → ``certified`` when the notice ends; or ``rejected`` (during
review or notice); a counted record can later be ``reversed``. A record the policy sent for
approval (daily cap, late entry) needs authority one level above the organizer.

Posting validates everything before it records anything: what is not a service record, unknown
volunteers, organizations or region codes, records in the future, and a different record under a
used id raise, and leave the ledger exactly as it was. Posting the same record again is a no-op.
Every argument is checked before anything is read or written: an id that is not text, an unknown
status, evidence kind or purpose (members or their values, such as ``"qr_scan"``, are taken) is
an :class:`~zhiyuan.errors.InvalidValue`, and a read about a volunteer the ledger never
registered is a :class:`~zhiyuan.errors.NotFound`, not a zero. All methods are thread-safe.

Time: ``at`` is the moment of a write (default: the journal clock's now); ``as_of`` is a read
cut-off, and without it every recorded entry counts, with public notices judged at the clock's
now (hours still in 公示 are ``pending``).

Example:
    >>> from datetime import date, datetime
    >>> from zhiyuan import SHANGHAI
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
    >>> ledger.post(rec, at=t(1, 13)).counted_minutes
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
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, timedelta
from typing import Literal, NamedTuple

import attrs

from zhiyuan._gc import paused_gc
from zhiyuan._validators import (
    Clock,
    aware,
    items,
    moment,
    non_empty,
    system_clock,
    text,
    to_enum,
    to_shanghai,
)
from zhiyuan.convert import register_tagged_union
from zhiyuan.errors import Conflict, InvalidValue, NotFound, UnknownRegion, show
from zhiyuan.hierarchy.jurisdiction import Action, Jurisdiction
from zhiyuan.hierarchy.units import Registry
from zhiyuan.hours.policy import (
    Draft,
    HourPolicy,
    Outcome,
    Purpose,
    Rule,
    Segment,
    Status,
    _judge,
    _slot_setters,
    _steps_of,
)
from zhiyuan.hours.records import Evidence, ServiceRecord
from zhiyuan.hours.volunteers import Volunteer
from zhiyuan.journal import Book, Journal, Transaction
from zhiyuan.journal._pickle import register_state_type
from zhiyuan.schedule import Schedule

__all__ = [
    "AUTO",
    "Certified",
    "Entry",
    "HourLedger",
    "HourRow",
    "Posted",
    "RecordStatus",
    "Registered",
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


def _key(field: str, value: object) -> str:
    """An id argument: text (a number, ``None`` or a list is an :class:`InvalidValue`, not a
    lookup that finds nothing or a ``TypeError``)."""
    if not isinstance(value, str):
        raise InvalidValue(field, value, "需要文字编号 / need an id as text", shown=show(value))
    return value


def _name(field: str, value: object) -> str:
    """A non-blank text argument (who acts, why)."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidValue(field, value, "不能为空 / must not be empty", shown=show(value))
    return text(field, value)


def _status(value: object) -> RecordStatus:
    if not isinstance(value, str) or value not in _STATUSES:
        raise InvalidValue("status", value, f"应为 / one of {', '.join(_STATUSES)}")
    return value  # type: ignore[return-value]


def _period(value: object) -> tuple[date, date] | None:
    """``None``, or ``(first day, day after the last)`` as two dates in order."""
    if value is None:
        return None
    if (
        not isinstance(value, tuple | list)
        or len(value) != 2
        or any(isinstance(d, datetime) or not isinstance(d, date) for d in value)
    ):
        raise InvalidValue(
            "period",
            value,
            "需要 (首日, 末日次日) 两个日期 / need (first day, day after the last) as two dates",
            shown=show(value),
        )
    first, after = value
    if after < first:
        raise InvalidValue(
            "period", value, "结束早于开始 / the period ends before it begins", shown=show(value)
        )
    return (first, after)


@attrs.frozen(kw_only=True)
class Registered:
    """A volunteer registered with the ledger (志愿者注册)."""

    volunteer: Volunteer
    at: datetime = attrs.field(converter=to_shanghai, validator=aware)

    @property
    def id(self) -> str:
        """``register:<volunteer id>``: a volunteer is registered once."""
        return f"register:{self.volunteer.id}"


@attrs.frozen(kw_only=True)
class Posted:
    """A record entered into the ledger, with the policy's outcome at posting time.

    Example:
        >>> from zhiyuan import SHANGHAI
        >>> from zhiyuan.hours import HourPolicy
        >>> t = lambda h: datetime(2025, 3, 1, h, tzinfo=SHANGHAI)
        >>> rec = ServiceRecord(id="r1", volunteer_id="v1", activity_id="a1", organization_id="o1",
        ...     region_code="370602001001", category="助老", evidence="qr_scan",
        ...     start=t(9), end=t(12))
        >>> entry = Posted(record=rec, outcome=HourPolicy().evaluate(rec, now=t(13)),
        ...                policy="national", at=t(13))
        >>> entry.id, entry.outcome.counted_minutes
        ('post:r1', 180)
    """

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


def _posted(record: ServiceRecord, outcome: Outcome, policy: str, at: datetime) -> Posted:
    """``Posted(record=…, outcome=…, policy=…, at=…)`` for values the ledger has checked (``at``
    as its validator checks it), without running the validator again for every record."""
    entry = _new(Posted)
    _p_record(entry, record)
    _p_outcome(entry, outcome)
    _p_policy(entry, policy)
    _p_at(entry, at)
    return entry


_new = object.__new__
_p_record, _p_outcome, _p_policy, _p_at = _slot_setters(
    Posted, ("record", "outcome", "policy", "at")
)
_POSTED_AT = attrs.fields(Posted).at


Entry = Registered | Posted | Certified | Rejected | Reversed
"""Any entry of the hour ledger."""

register_tagged_union(
    Entry,
    {
        Registered: "hours.registered",
        Posted: "hours.posted",
        Certified: "hours.certified",
        Rejected: "hours.rejected",
        Reversed: "hours.reversed",
    },
)


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

    def copy(self) -> _Row:
        out = _Row(self.record, self.outcome, self.posted)
        out.certified, out.notice_until = self.certified, self.notice_until
        out.rejected, out.reversed = self.rejected, self.reversed
        return out

    def status(self, as_of: datetime | None, now: datetime) -> RecordStatus | None:
        """The state as of ``as_of``; without it, every entry counts and the public notice is
        judged at ``now``."""
        if as_of is None:
            if self.reversed is not None:
                return "reversed"
            if self.rejected is not None:
                return "rejected"
            if self.certified is not None:
                assert self.notice_until is not None
                return "certified" if self.notice_until <= now else "pending"
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

    def mark(self, entry: Certified | Rejected | Reversed) -> bool:
        """Fold a review entry in; ``True`` if the record stopped holding its time slot."""
        if isinstance(entry, Certified):
            self.certified, self.notice_until = entry.at, entry.notice_until
            return False
        was_live = self.live()
        if isinstance(entry, Rejected):
            self.rejected = entry.at
        else:
            self.reversed = entry.at
        return was_live


class _HoursState:
    """The folded ledger: volunteers, every record's row, and each volunteer's time held."""

    __slots__ = ("by_volunteer", "day_used", "occupied", "rows", "volunteers")

    def __init__(self) -> None:
        self.volunteers: dict[str, Volunteer] = {}
        self.rows: dict[str, _Row] = {}
        self.by_volunteer: dict[str, list[str]] = {}
        self.occupied: dict[str, list[Segment]] = {}
        self.day_used: dict[str, dict[date, int]] = {}

    def apply(self, entry: Entry) -> None:
        if isinstance(entry, Posted):
            rec, out = entry.record, entry.outcome
            rid, vid = rec.id, rec.volunteer_id
            self.rows[rid] = _Row(rec, out, entry.at)
            held = self.by_volunteer.get(vid)
            if held is None:
                self.by_volunteer[vid] = [rid]
            else:
                held.append(rid)
            if out.counted:
                occ = self.occupied.get(vid)
                if occ is None:
                    occ = self.occupied[vid] = []
                    self.day_used[vid] = {}
                _hold(occ, self.day_used[vid], out, +1)
        elif isinstance(entry, Registered):
            self.volunteers[entry.volunteer.id] = entry.volunteer
        else:
            row = self.rows[entry.record_id]
            if row.mark(entry):
                vid = row.record.volunteer_id
                _hold(self.occupied[vid], self.day_used[vid], row.outcome, -1)


def _hold(occ: list[Segment], days: dict[date, int], out: Outcome, sign: int) -> None:
    """Take (``sign`` +1) or give back (-1) the time and the day minutes a counted outcome
    holds, in a volunteer's held segments and minutes per day."""
    if sign > 0:
        for seg in out.segments:
            bisect.insort(occ, seg)
        for day, m in out.day_minutes:
            days[day] = days.get(day, 0) + m
    else:
        for seg in out.segments:
            occ.remove(seg)
        for day, m in out.day_minutes:
            days[day] = days.get(day, 0) - m


class _Overlay:
    """The ledger as an operation sees it: the recorded state with the entries staged earlier in
    the same transaction on top (copied on first touch, so the state itself is never changed
    before the write)."""

    __slots__ = ("added", "day_used", "occupied", "rows", "state", "volunteers")

    def __init__(self, state: _HoursState, staged: Iterable[Entry] = ()) -> None:
        self.state = state
        self.rows: dict[str, _Row] = {}
        self.added: dict[str, list[str]] = {}  # volunteer → records posted in the transaction
        self.volunteers: dict[str, Volunteer] = {}
        self.occupied: dict[str, list[Segment]] = {}
        self.day_used: dict[str, dict[date, int]] = {}
        for e in staged:
            self.apply(e)

    def row(self, record_id: str) -> _Row | None:
        row = self.rows.get(record_id)
        return self.state.rows.get(record_id) if row is None else row

    def volunteer(self, volunteer_id: str) -> Volunteer | None:
        v = self.volunteers.get(volunteer_id)
        return self.state.volunteers.get(volunteer_id) if v is None else v

    def occupied_of(self, vid: str) -> Sequence[Segment]:
        occ = self.occupied.get(vid)
        return self.state.occupied.get(vid, ()) if occ is None else occ

    def day_used_of(self, vid: str) -> dict[date, int]:
        days = self.day_used.get(vid)
        return self.state.day_used.get(vid, _EMPTY) if days is None else days

    def _touch(self, vid: str) -> list[Segment]:
        """The volunteer's held segments, copied from the state on first touch (with the
        minutes per day)."""
        occ = self.occupied.get(vid)
        if occ is None:
            occ = self.occupied[vid] = list(self.state.occupied.get(vid, ()))
            self.day_used[vid] = dict(self.state.day_used.get(vid, _EMPTY))
        return occ

    def apply(self, entry: Entry) -> None:
        if isinstance(entry, Posted):
            rec, out = entry.record, entry.outcome
            rid, vid = rec.id, rec.volunteer_id
            self.rows[rid] = _Row(rec, out, entry.at)
            added = self.added.get(vid)
            if added is None:
                self.added[vid] = [rid]
            else:
                added.append(rid)
            if out.counted:
                _hold(self._touch(vid), self.day_used[vid], out, +1)
        elif isinstance(entry, Registered):
            self.volunteers[entry.volunteer.id] = entry.volunteer
        else:
            found = self.row(entry.record_id)
            assert found is not None
            row = self.rows[entry.record_id] = (
                found if entry.record_id in self.rows else found.copy()
            )
            if row.mark(entry):
                vid = row.record.volunteer_id
                _hold(self._touch(vid), self.day_used[vid], row.outcome, -1)


class _Reader:
    """The recorded state read as an :class:`_Overlay` is read, for an operation alone in its
    transaction (nothing staged to lay over it, so nothing to copy)."""

    __slots__ = ("state",)

    def __init__(self, state: _HoursState) -> None:
        self.state = state

    def row(self, record_id: str) -> _Row | None:
        return self.state.rows.get(record_id)

    def volunteer(self, volunteer_id: str) -> Volunteer | None:
        return self.state.volunteers.get(volunteer_id)

    def occupied_of(self, vid: str) -> Sequence[Segment]:
        return self.state.occupied.get(vid, ())

    def day_used_of(self, vid: str) -> dict[date, int]:
        return self.state.day_used.get(vid, _EMPTY)


register_state_type(_Row, _HoursState)


class HourLedger(Book[Entry, _HoursState]):
    """Service records and their certification, for the organizations of one :class:`~zhiyuan.hierarchy.Registry`.

    Args:
        registry: the tree and the organizations that organize activities.
        policies: one hour policy or several (a :class:`~zhiyuan.schedule.Schedule`, default: the
            national rules); each record is judged by the one in force on its service date (the
            latest ``effective_from`` on or before it; the earliest policy before that). Two
            taking effect on one day are refused.
        jurisdiction: who may certify, reject and reverse; ``None`` trusts every caller.
        volunteers: volunteers to register at once (more with :meth:`add_volunteer`).
        extra_rules: local rules run after each policy's own chain (see
            :class:`~zhiyuan.hours.Draft`); a district's extra rule is one more step.
        journal: the journal to record in (default: a new in-memory one); see
            :mod:`zhiyuan.store` to keep the ledger across restarts.
        name: the ledger's name in the journal (default ``hours``).
        clock: the clock of the new journal made when ``journal`` is not given.
    """

    kind = "hours"
    entry_type = Entry

    def __init__(
        self,
        registry: Registry,
        *,
        policies: HourPolicy | Iterable[HourPolicy] = (),
        jurisdiction: Jurisdiction | None = None,
        volunteers: Iterable[Volunteer] = (),
        extra_rules: Sequence[Rule] = (),
        journal: Journal | None = None,
        name: str | None = None,
        clock: Clock | None = None,
    ) -> None:
        if not isinstance(registry, Registry):
            raise InvalidValue(
                "registry", type(registry).__name__, "需要 Registry / need a Registry"
            )
        schedule = Schedule(policies, kind=HourPolicy, field="policies", default=HourPolicy())
        extra_rules = items("extra_rules", extra_rules)
        for r in extra_rules:
            if not callable(r):
                raise InvalidValue("extra_rules", r, "规则须为可调用对象 / a rule is a callable")
        self.registry = registry
        self.tree = registry.tree
        self.policies: Schedule[HourPolicy] = schedule
        self._only = schedule[0] if len(schedule) == 1 else None  # the one policy, if one
        self.jurisdiction = jurisdiction
        # each policy's own chain, then the local rules (a district's rule is one more step),
        # as the functions the evaluation calls
        self._chains = {id(p): _steps_of((*p.rules, *extra_rules)) for p in schedule}
        self._region_row = self.tree._lookup()  # the tree is immutable: one lookup for all
        self._at_checked: datetime | None = None  # the last posting moment checked
        self._org_node: dict[str, str] = {o.id: o.region_code for o in registry.organizations()}
        super().__init__(journal=journal, name=name, clock=clock)
        self.add_volunteers(volunteers)

    def _new_state(self) -> _HoursState:
        return _HoursState()

    def _entry_id(self, entry: Entry) -> str:
        return entry.id  # every entry type names its id

    # --- registration -------------------------------------------------------------------------

    def add_volunteer(self, volunteer: Volunteer, *, at: datetime | None = None) -> None:
        """Register a volunteer (the same one again is a no-op; another under its id conflicts)."""
        self.add_volunteers([volunteer], at=at)

    def add_volunteers(self, volunteers: Iterable[Volunteer], *, at: datetime | None = None) -> int:
        """Register many volunteers in one operation (all or none); returns how many were new."""
        batch = items("volunteers", volunteers)
        for v in batch:
            if not isinstance(v, Volunteer):
                raise InvalidValue(
                    "volunteer", type(v).__name__, "需要 Volunteer / need a Volunteer"
                )
            if v.home_region not in self.tree:
                raise UnknownRegion(v.home_region)
        if not batch:
            return 0
        with self.journal.transaction() as tx:
            when = self._when(at)
            view = self._view(tx)
            fresh: dict[str, Volunteer] = {}
            for v in batch:
                old = fresh.get(v.id) or view.volunteer(v.id)
                if old is not None:
                    if old != v:
                        raise Conflict(
                            f"volunteer id {v.id!r} is already used / 志愿者编号已被占用"
                        )
                    continue
                fresh[v.id] = v
            tx.add(self, [Registered(volunteer=v, at=when) for v in fresh.values()])
        return len(fresh)

    def volunteer(self, volunteer_id: str) -> Volunteer:
        """A registered volunteer, or :class:`~zhiyuan.errors.NotFound`."""
        try:
            return self._state.volunteers[_key("volunteer_id", volunteer_id)]
        except KeyError:
            raise NotFound("volunteer", volunteer_id) from None

    def _known(self, volunteer_id: object) -> str:
        """A registered volunteer's id; an unregistered one is :class:`NotFound` (a read about
        nobody is a mistake, not a zero)."""
        vid = _key("volunteer_id", volunteer_id)
        if vid not in self._state.volunteers:
            raise NotFound("volunteer", vid)
        return vid

    def volunteers(self) -> list[Volunteer]:
        """Every registered volunteer, in the order registered."""
        with self._lock:
            return list(self._state.volunteers.values())

    def policy_for(self, day: date) -> HourPolicy:
        """The policy in force on ``day`` (:meth:`Schedule.on <zhiyuan.schedule.Schedule.on>`)."""
        return self.policies.on(day)

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

    def post(self, record: ServiceRecord, *, at: datetime | None = None) -> Outcome:
        """Evaluate a record under the policy in force and record it; returns the outcome.

        ``at`` is the moment of posting (default: the clock's now). Idempotent by record id.
        Raises before recording anything when ``record`` is not a
        :class:`~zhiyuan.hours.ServiceRecord` (:class:`~zhiyuan.errors.InvalidValue`), the
        volunteer, the organization or the region is unknown, the record ends after ``at``, or
        another record already uses the id (:class:`~zhiyuan.errors.Conflict`).
        """
        return self._post(record, at, auto=True)

    def _post(self, record: ServiceRecord, at: datetime | None, *, auto: bool) -> Outcome:
        """:meth:`post`; with ``auto=False`` the policy's ``auto_certify`` is not applied (a
        volunteer's own report still needs a certifier, whatever evidence it claims)."""
        with self.journal.transaction() as tx:
            # alone in its transaction, a record is judged on the recorded state itself
            view = _Reader(self._state) if tx.untouched(self) else self._view(tx)
            return self._stage_post(tx, record, self._when(at), view, auto=auto)

    def post_many(
        self, records: Iterable[ServiceRecord], *, at: datetime | None = None
    ) -> list[Outcome]:
        """:meth:`post` for many records in order, as one operation: all are recorded, or none.

        Each record is judged with the ones before it in place (overlaps, daily caps). The first
        bad record raises and nothing is recorded (use :func:`~zhiyuan.hours.import_jsonl` for a
        report of every row instead).
        """
        batch = items("records", records)
        with paused_gc(), self.journal.transaction() as tx:
            when = self._when(at)
            if tx.has_view(self):  # an earlier operation of the transaction made the view:
                view = self._view(tx)  # post on it, record by record
                post = self._stage_post
                return [post(tx, r, when, view) for r in batch]
            return self._post_batch(tx, batch, when)

    def _post_batch(self, tx: Transaction, batch: Sequence[object], at: datetime) -> list[Outcome]:
        """:meth:`post_many`'s path when the transaction has no view of the ledger yet: each
        record checked (:meth:`_admit`) and judged as :meth:`_stage_post` does it, on a working
        view made here (the recorded state with what the transaction staged before), which takes
        each posting in as it is judged; the entries are staged together at the end, and the
        view becomes the transaction's view of the ledger (it holds exactly what they make).
        A bad record raises before anything is staged."""
        view = _Overlay(self._state, tx.staged(self))
        admit, judged, apply = self._admit, self._judged, view.apply
        entries: list[Entry] = []
        outs: list[Outcome] = []
        for record in batch:
            volunteer = admit(record, at, view)
            if type(volunteer) is Outcome:  # posted before: the same record again
                outs.append(volunteer)
                continue
            assert isinstance(volunteer, Volunteer) and isinstance(record, ServiceRecord)
            outcome, made = judged(record, volunteer, at, view)
            outs.append(outcome)
            for entry in made:
                apply(entry)
            entries.extend(made)
        if entries:
            tx.add(self, entries)  # no view of the ledger yet in the transaction: staged only
        tx.view(self, lambda _: view)  # holds what every entry staged for the ledger makes
        return outs

    def _view(self, tx: Transaction) -> _Overlay:
        state = self._state
        return tx.view(self, lambda staged: _Overlay(state, staged))

    def _adopt(self, view: object, entries: list[Entry]) -> bool:
        """The overlay holds exactly the state the entries make: take its rows, volunteers and
        held time instead of evaluating the holds twice (post_many's path)."""
        if not isinstance(view, _Overlay) or view.state is not self._state:
            return False
        st = self._state
        st.volunteers.update(view.volunteers)
        # the overlay's tables become the state's (an empty one is replaced, not copied into)
        if st.rows:
            st.rows.update(view.rows)
        else:
            st.rows = view.rows
        by_volunteer = st.by_volunteer
        for vid, ids in view.added.items():  # each volunteer's records posted, in order
            held = by_volunteer.get(vid)
            if held is None:
                by_volunteer[vid] = ids
            else:
                held.extend(ids)
        if st.occupied:
            st.occupied.update(view.occupied)
            st.day_used.update(view.day_used)
        else:
            st.occupied, st.day_used = view.occupied, view.day_used
        return True

    def _stage_post(
        self,
        tx: Transaction,
        record: ServiceRecord,
        at: datetime,
        view: _Overlay | _Reader,
        *,
        auto: bool = True,
    ) -> Outcome:
        got = self._admit(record, at, view)
        if isinstance(got, Outcome):  # posted before: the same record again
            return got
        assert isinstance(got, Volunteer) and isinstance(record, ServiceRecord)
        outcome, entries = self._judged(record, got, at, view, auto=auto)
        tx.add(self, entries)
        return outcome

    def _judged(
        self,
        record: ServiceRecord,
        volunteer: Volunteer,
        at: datetime,
        view: _Overlay | _Reader,
        *,
        auto: bool = True,
    ) -> tuple[Outcome, tuple[Entry, ...]]:
        """An admitted record judged by the policy in force on its day, against the time its
        volunteer holds in ``view``: its outcome and the entries that record it (the posting,
        and its certification when the policy certifies such records on posting)."""
        policy = self._only
        if policy is None:
            policy = self.policy_for(record.service_date)
        vid = record.volunteer_id
        draft = Draft(record, policy, at, volunteer, view.occupied_of(vid), view.day_used_of(vid))
        outcome = _judge(draft, self._chains[id(policy)]).outcome()
        self._check_at(at)
        posted = _posted(record, outcome, policy.name, at)
        if (
            auto
            and policy.auto_certify
            and outcome.status is Status.ACCEPTED
            and record.evidence in policy.auto_certify
        ):
            return outcome, (posted, self._certification(record.id, AUTO, at, policy))
        return outcome, (posted,)

    def _check_at(self, at: datetime) -> None:
        """``at`` as ``Posted(at=…)`` checks it, once per moment."""
        if at is not self._at_checked:
            aware(None, _POSTED_AT, at)
            self._at_checked = at

    def _admit(self, record: object, at: datetime, view: _Overlay | _Reader) -> Outcome | Volunteer:
        """The checks of a record offered for posting at ``at``, in order: the outcome it was
        posted with if the same record was posted before, else its volunteer; raises when it is
        not a record, its id is taken by another record, its volunteer, organization or region
        is unknown, or it was recorded or ends after ``at``."""
        if type(record) is not ServiceRecord and not isinstance(record, ServiceRecord):
            raise InvalidValue(
                "record", type(record).__name__, "需要 ServiceRecord / need a ServiceRecord"
            )
        row = view.row(record.id)
        if row is not None:
            if row.record == record:
                return row.outcome
            raise Conflict(
                f"record id {record.id!r} is already used by another record / 记录编号已被占用"
            )
        vid = record.volunteer_id
        volunteer = view.volunteer(vid)
        if volunteer is None:
            raise NotFound("volunteer", vid)
        if record.organization_id not in self._org_node:
            self._org(record.organization_id)
        region = record.region_code
        if self._region_row(region) is None and region not in self.tree:
            raise UnknownRegion(region)
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
        return volunteer

    def _certification(
        self, record_id: str, by: str, at: datetime, policy: HourPolicy
    ) -> Certified:
        return Certified(
            record_id=record_id,
            by=by,
            at=at,
            notice_until=at + timedelta(days=policy.notice_days),
        )

    def _rows_seen(self, tx: Transaction, volunteer_id: str) -> list[_Row]:
        """A volunteer's rows as the open transaction sees them (staged entries on top), in
        posting order: what a platform plans the consequences of an operation on."""
        view = self._view(tx)
        ids = [*self._state.by_volunteer.get(volunteer_id, ()), *view.added.get(volunteer_id, ())]
        return [r for r in map(view.row, ids) if r is not None]

    # --- review -------------------------------------------------------------------------------

    def _row_for_action(
        self, tx: Transaction, record_id: str, by: str, action: str, when: datetime
    ) -> _Row:
        record_id = _key("record_id", record_id)
        _name("by", by)
        row = self._view(tx).row(record_id)
        if row is None:
            raise NotFound("record", record_id)
        # No exemption for AUTO: automatic certification happens inside post(); a caller who
        # names AUTO as the certifier is checked like anyone else.
        if self.jurisdiction is not None:
            self.jurisdiction.check(by, action, self._authority_node(row, action), on=when.date())
        return row

    def _authority_node(self, row: _Row, action: str) -> str:
        """Where authority to review a record is needed: the organizer's node, or its parent
        for certifying a record the policy sent for approval."""
        node = self._org(row.record.organization_id)
        if action == Action.CERTIFY and row.outcome.status is Status.NEEDS_APPROVAL:
            parent = self.tree[node].parent_code
            node = parent if parent is not None else node
        return node

    def certify(self, record_id: str, *, by: str, at: datetime | None = None) -> None:
        """Certify a submitted record; it counts once the policy's public notice is over.

        A record the policy sent for approval needs authority over the organizer's parent node.
        Certifying twice is a no-op. A rejected, reversed or policy-rejected record cannot be
        certified (:class:`~zhiyuan.errors.Conflict`).
        """
        with self.journal.transaction() as tx:
            when = self._when(at)
            row = self._row_for_action(tx, record_id, by, Action.CERTIFY, when)
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
            tx.add(self, [self._certification(record_id, by, when, policy)])

    def reject(self, record_id: str, *, by: str, reason: str, at: datetime | None = None) -> None:
        """Reject a record under review or public notice (not one already certified)."""
        _name("reason", reason)
        with self.journal.transaction() as tx:
            when = self._when(at)
            row = self._row_for_action(tx, record_id, by, Action.CERTIFY, when)
            if row.rejected is not None:
                return
            if when < row.posted:
                raise InvalidValue(
                    "at", when.isoformat(), "驳回不能早于录入 / cannot reject before posting"
                )
            state = row.status(when, when)
            if state not in ("submitted", "pending"):
                raise Conflict(f"record {record_id!r} is {state}; reverse it instead / 请改用冲销")
            tx.add(self, [Rejected(record_id=record_id, by=by, at=when, reason=reason)])

    def reverse(self, record_id: str, *, by: str, reason: str, at: datetime | None = None) -> None:
        """Reverse a record (冲销): from ``at`` on it counts nowhere. Reversing twice is a no-op."""
        _name("reason", reason)
        with self.journal.transaction() as tx:
            when = self._when(at)
            row = self._row_for_action(tx, record_id, by, Action.REVERSE, when)
            if row.reversed is not None:
                return
            if when < row.posted:
                raise InvalidValue(
                    "at", when.isoformat(), "冲销不能早于录入 / cannot reverse before posting"
                )
            tx.add(self, [Reversed(record_id=record_id, by=by, at=when, reason=reason)])

    # --- reading ------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._state.rows)

    def _get(self, record_id: str) -> _Row:
        row = self._state.rows.get(_key("record_id", record_id))
        if row is None:
            raise NotFound("record", record_id)
        return row

    def record(self, record_id: str) -> ServiceRecord:
        """A posted record."""
        return self._get(record_id).record

    def _view_record(self, record_id: str) -> ServiceRecord | None:
        """The record under ``record_id`` as the open transaction sees it (staged ones too)."""
        tx = self.journal._tx
        row = self._state.rows.get(record_id) if tx is None else self._view(tx).row(record_id)
        return None if row is None else row.record

    def outcome(self, record_id: str) -> Outcome:
        """The policy's outcome for a posted record."""
        return self._get(record_id).outcome

    def status(self, record_id: str, *, as_of: datetime | None = None) -> RecordStatus | None:
        """A record's state (as of a moment; ``None`` if not yet posted then)."""
        row = self._get(record_id)
        return row.status(self._as_of(as_of), self.journal.now())

    def occupied(self, volunteer_id: str) -> list[Segment]:
        """The time a volunteer's live records hold (epoch-second segments, sorted): what the
        overlap rule checks a new record against. An unregistered volunteer is
        :class:`~zhiyuan.errors.NotFound`."""
        with self._lock:
            vid = self._known(volunteer_id)
            return list(self._state.occupied.get(vid, ()))

    def day_minutes(self, volunteer_id: str) -> dict[date, int]:
        """Counted minutes per service day of a volunteer's live records: what a daily cap
        checks (days with none left out). An unregistered volunteer is
        :class:`~zhiyuan.errors.NotFound`."""
        with self._lock:
            vid = self._known(volunteer_id)
            return {d: n for d, n in self._state.day_used.get(vid, {}).items() if n}

    def records_of(self, volunteer_id: str) -> list[ServiceRecord]:
        """A volunteer's posted records, in posting order. An unregistered volunteer is
        :class:`~zhiyuan.errors.NotFound`."""
        with self._lock:
            vid = self._known(volunteer_id)
            rows = self._state.rows
            return [rows[r].record for r in self._state.by_volunteer.get(vid, ())]

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
        now = self.journal.now()
        for row in rows:
            if row.status(as_of, now) != status:
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

    def _rows_of(self, volunteer_id: str | None) -> list[_Row]:
        with self._lock:
            rows = self._state.rows
            if volunteer_id is None:
                return list(rows.values())
            vid = self._known(volunteer_id)
            return [rows[r] for r in self._state.by_volunteer.get(vid, ())]

    def _filters(
        self,
        status: object,
        as_of: object,
        period: object,
        purpose: object,
        weighted: object = False,
    ) -> tuple[RecordStatus, datetime | None, tuple[date, date] | None, Purpose | None]:
        """The common read arguments, checked (before anything is read)."""
        if not isinstance(weighted, bool):
            raise InvalidValue("weighted", weighted, "需要布尔值 / need true or false")
        return (
            _status(status),
            self._as_of(as_of),
            _period(period),
            None if purpose is None else to_enum("purpose", Purpose, purpose),
        )

    def minutes(
        self,
        volunteer_id: str,
        *,
        status: RecordStatus = "certified",
        as_of: datetime | None = None,
        period: tuple[date, date] | None = None,
        category: str | None = None,
        evidence: Evidence | str | None = None,
        purpose: Purpose | str | None = None,
        weighted: bool = False,
    ) -> int:
        """A volunteer's counted minutes in one state (default: certified), filtered.

        ``as_of`` judges states at that moment (default: every recorded entry, with public
        notices judged at the clock's now, so hours still in 公示 are ``pending``, not
        ``certified``; :func:`fold` judges them the same way); ``period`` is ``(first day, day
        after the last)`` by service date; ``evidence`` (a member or its value) keeps records on
        that evidence; ``purpose`` (a member or its value) keeps records whose evidence counts
        toward stars, points or reports; ``weighted`` applies category weights. Rejected and
        reversed records contribute the minutes they would have counted.

        Raises:
            NotFound: the volunteer is not registered (a total about nobody is not zero).
            InvalidValue: an argument is not of its kind, or names an unknown status, evidence
                kind or purpose (the message lists the allowed values).

        Example:
            >>> from zhiyuan.hierarchy import Registry, load_default
            >>> empty = HourLedger(Registry(load_default()))
            >>> empty.minutes("nobody")
            Traceback (most recent call last):
            ...
            zhiyuan.errors.NotFound: volunteer not found / 未找到: 'nobody'
        """
        status, when, period, purpose = self._filters(status, as_of, period, purpose, weighted)
        if category is not None:
            _name("category", category)
        if evidence is not None:
            evidence = to_enum("evidence", Evidence, evidence)
        rows = self._rows_of(_key("volunteer_id", volunteer_id))
        sel = self._select(rows, status, when, period, category, evidence, purpose)
        if weighted:
            return sum(r.outcome.weighted_minutes for r in sel)
        return sum(r.outcome.counted_minutes for r in sel)

    def summary(self, volunteer_id: str, *, as_of: datetime | None = None) -> dict[str, int]:
        """Minutes in every state for one volunteer (:class:`~zhiyuan.errors.NotFound` for an
        unregistered one)."""
        return {s: self.minutes(volunteer_id, status=s, as_of=as_of) for s in _STATUSES}  # type: ignore[arg-type]

    def rows(
        self,
        *,
        status: RecordStatus = "certified",
        as_of: datetime | None = None,
        volunteer_id: str | None = None,
    ) -> list[HourRow]:
        """Counted records in one state as light :class:`HourRow` tuples (for stars and points);
        of one volunteer with ``volunteer_id`` (:class:`~zhiyuan.errors.NotFound` for an
        unregistered one).

        Example:
            >>> from zhiyuan.hierarchy import Registry, load_default
            >>> HourLedger(Registry(load_default())).rows()
            []
        """
        status, when, _, _ = self._filters(status, as_of, None, None)
        sel = self._select(self._rows_of(volunteer_id), status, when, None, None, None, None)
        return [_hour_row(r) for r in sel if r.outcome.counted_minutes]

    def minutes_by_volunteer(
        self,
        *,
        status: RecordStatus = "certified",
        as_of: datetime | None = None,
        period: tuple[date, date] | None = None,
        purpose: Purpose | str | None = None,
        weighted: bool = False,
    ) -> dict[str, int]:
        """Minutes per volunteer in one state, for every volunteer with any (bulk form)."""
        status, when, period, purpose = self._filters(status, as_of, period, purpose, weighted)
        out: dict[str, int] = {}
        for row in self._select(self._rows_of(None), status, when, period, None, None, purpose):
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
        purpose: Purpose | str | None = None,
    ) -> dict[str, int]:
        """Minutes by the region where the service took place, rolled up the tree."""
        status, when, period, purpose = self._filters(status, as_of, period, purpose)
        pairs = [
            (r.record.region_code, r.outcome.counted_minutes)
            for r in self._select(self._rows_of(None), status, when, period, None, None, purpose)
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


def fold(
    entries: Iterable[Entry] | HourLedger,
    *,
    as_of: datetime | None = None,
    clock: Clock | None = None,
) -> dict[tuple[str, str], int]:
    """Minutes per ``(volunteer id, state)`` computed from the entries alone, from scratch.

    The entries are folded exactly as the ledger folds them, and states mean what they mean in
    :meth:`HourLedger.minutes`: with ``as_of``, as of that moment; without it, every entry
    counts and a public notice (公示) is judged at the clock's now, so hours still in notice are
    ``pending``, not ``certified``. The clock is ``clock``; given a ledger instead of entries,
    its entries and its journal's clock, so ``fold(ledger)`` always agrees with the ledger's
    queries; given entries alone, the system clock (every ledger's default clock: pass
    ``clock=ledger.journal.clock`` for a ledger on another clock). The ledger's queries must
    always agree with this; it exists to check them (and to total an exported entry log).

    Raises:
        InvalidValue: ``entries`` is not a collection of hour entries, an entry id appears twice,
            or a review entry names a record no earlier entry posted.

    Example:
        >>> from datetime import date, datetime
        >>> from zhiyuan import SHANGHAI
        >>> from zhiyuan.hierarchy import Organization, Registry, load_default
        >>> from zhiyuan.hours import HourPolicy, ServiceRecord, Volunteer
        >>> t = lambda d, h: datetime(2025, 3, d, h, tzinfo=SHANGHAI)
        >>> reg = Registry(load_default(), [Organization(id="o1", name="协会",
        ...                                              region_code="370602001")])
        >>> ledger = HourLedger(reg, policies=[HourPolicy(notice_days=3)], clock=lambda: t(3, 9))
        >>> ledger.add_volunteer(Volunteer(id="v1", name="王芳", home_region="370602001001",
        ...                                registered_on=date(2024, 1, 1)), at=t(1, 8))
        >>> _ = ledger.post(ServiceRecord(id="r1", volunteer_id="v1", activity_id="a1",
        ...     organization_id="o1", region_code="370602001001", category="助老",
        ...     evidence="qr_scan", start=t(1, 9), end=t(1, 12)), at=t(1, 13))
        >>> ledger.certify("r1", by="admin", at=t(2, 9))
        >>> ledger.minutes("v1", status="pending"), fold(ledger)   # the notice runs to 5 March
        (180, {('v1', 'pending'): 180})
        >>> fold(ledger.entries, clock=ledger.journal.clock) == fold(ledger)
        True
        >>> fold(ledger, as_of=t(5, 9))
        {('v1', 'certified'): 180}
        >>> fold([])
        {}
    """
    if isinstance(entries, HourLedger):
        source: Iterable[Entry] = entries.entries
        if clock is None:
            clock = entries.journal.clock
    else:
        source = items("entries", entries)
    if clock is not None and not callable(clock):
        raise InvalidValue("clock", clock, "时钟须为可调用对象 / a clock is a callable")
    when = None if as_of is None else moment(as_of, "as_of")
    state = _HoursState()
    seen: set[str] = set()
    for e in source:
        if not isinstance(e, Registered | Posted | Certified | Rejected | Reversed):
            raise InvalidValue(
                "entries", type(e).__name__, "需要工时条目 / need hour-ledger entries"
            )
        if e.id in seen:
            raise InvalidValue("entries", e.id, "条目编号重复 / an entry id appears twice")
        seen.add(e.id)
        if isinstance(e, Certified | Rejected | Reversed) and e.record_id not in state.rows:
            raise InvalidValue(
                "entries", e.id, "所指记录此前未录入 / names a record no earlier entry posted"
            )
        state.apply(e)
    now = to_shanghai(system_clock() if clock is None else moment(clock(), "clock"))
    out: dict[tuple[str, str], int] = {}
    for row in state.rows.values():
        status = row.status(when, now)
        if status is None or not row.outcome.counted_minutes:
            continue
        key = (row.record.volunteer_id, status)
        out[key] = out.get(key, 0) + row.outcome.counted_minutes
    return out
