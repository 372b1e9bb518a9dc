"""The platform: every book over one journal, kept consistent by the city's rules."""

from __future__ import annotations

import contextlib
import enum
import os
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar

import attrs

from zhiyuan._validators import (
    COUNT,
    Clock,
    arg_of,
    bounded,
    is_a,
    is_bool,
    items,
    items_of,
    key,
    non_empty,
    to_enum,
)
from zhiyuan.credit.catalog import Catalog
from zhiyuan.credit.conversion import ConversionPolicy, _convert_last, convert
from zhiyuan.credit.ledger import PointsLedger, Posting, PostingKind, Timing
from zhiyuan.credit.redemptions import Order, Redemptions
from zhiyuan.credit.reports import ExpiringPoints, expiring_soon
from zhiyuan.credit.timebank import TimeBank
from zhiyuan.errors import Conflict, InvalidValue, NotFound, ZhiyuanError, show
from zhiyuan.hierarchy.jurisdiction import Action, Grant, Jurisdiction
from zhiyuan.hierarchy.units import Registry
from zhiyuan.hours.ledger import HourLedger, HourRow, Registered, _hour_row, _Row
from zhiyuan.hours.policy import Outcome
from zhiyuan.hours.records import ServiceRecord
from zhiyuan.hours.volunteers import Volunteer
from zhiyuan.journal import Journal, Transaction
from zhiyuan.journal._ids import derive, foreign
from zhiyuan.matching.dispatch import Dispatcher
from zhiyuan.matching.needbook import NeedBook
from zhiyuan.matching.needs import Candidate
from zhiyuan.platform._acts import Act, ActBook
from zhiyuan.platform._core import _WHAT, PlatformCore
from zhiyuan.platform._deeds import DeedFlows
from zhiyuan.platform._events import Event, EventKind, Hooks
from zhiyuan.platform._needs import NeedFlows
from zhiyuan.platform._policies import Policies
from zhiyuan.platform._projects import ProjectFlows
from zhiyuan.scoring.awards import Review, Revocation, StarBook
from zhiyuan.scoring.feedback import FeedbackBook
from zhiyuan.scoring.stars import Lapse

__all__ = ["Drift", "DriftKind", "Platform", "Reconciliation", "candidate_of"]

T = TypeVar("T")

TIME_BANK_BOOK = "time_bank"
"""The name of the time bank's ledger in a platform's journal."""


def candidate_of(volunteer: Volunteer) -> Candidate:
    """A registered volunteer as a dispatch candidate: home region and skills (网约派单).

    Example:
        >>> from datetime import date
        >>> v = Volunteer(id="v1", name="王芳", home_region="370214001001",
        ...               skills={"医疗/护理"}, registered_on=date(2024, 1, 1))
        >>> c = candidate_of(v)
        >>> c.id, c.home_region, [s.name for s in c.skills]
        ('v1', '370214001001', ['医疗/护理'])
    """
    v = arg_of("volunteer", Volunteer, volunteer)
    return Candidate(id=v.id, home_region=v.home_region, skills=tuple(sorted(v.skills)))


class DriftKind(enum.StrEnum):
    """How a book can disagree with the certified hours."""

    POINTS_MISSING = "points.missing"
    """Certified hours that have not become points yet."""
    POINTS_NOT_REVERSED = "points.not_reversed"
    """Points whose hours were rejected or reversed, not yet taken back."""
    POINTS_EXCESS = "points.excess"
    """A record holding more points than the conversion of the certified history gives it,
    under a policy that carries remainders (an undone record's remainder carried into it)."""
    TIME_MISSING = "time.missing"
    """Certified hours the time-bank policy banks, not banked yet."""
    TIME_NOT_REVERSED = "time.not_reversed"
    """A deposit whose hours were rejected or reversed, not yet taken back."""
    STAR_UNEARNED = "star.unearned"
    """A granted star the certified hours no longer earn, with no open review."""


def _drift_kind(value: object) -> DriftKind:
    return to_enum("kind", DriftKind, value)


@attrs.frozen(kw_only=True)
class Drift:
    """One disagreement between the hours and another book, and what repairs it.

    Attributes:
        kind: what disagrees.
        volunteer_id: whose books.
        ref: the record it concerns (for a star, the volunteer).
        amount: points, minutes, or the level the hours now earn.
        posting: for missing points, the earning that repairs it.
    """

    kind: DriftKind = attrs.field(converter=_drift_kind)
    volunteer_id: str = attrs.field(validator=non_empty)
    ref: str = attrs.field(validator=non_empty)
    amount: int = attrs.field(validator=bounded(0, COUNT, "units"))
    posting: Posting | None = attrs.field(default=None, validator=is_a(Posting))

    def explain(self) -> str:
        """One bilingual line."""
        zh, en = _DRIFT_TEXT[self.kind]
        return f"{self.volunteer_id} {self.ref}: {zh} {self.amount} / {en} {self.amount}"


_DRIFT_TEXT = {
    DriftKind.POINTS_MISSING: ("已认证工时未折算积分", "certified hours not yet points:"),
    DriftKind.POINTS_EXCESS: (
        "积分多于已认证工时所值",
        "points beyond what the certified hours are worth:",
    ),
    DriftKind.POINTS_NOT_REVERSED: (
        "撤销工时的积分未冲回",
        "points of undone hours not taken back:",
    ),
    DriftKind.TIME_MISSING: ("应存入时间银行的工时未存入", "hours to bank not banked, minutes:"),
    DriftKind.TIME_NOT_REVERSED: (
        "撤销工时的存入未冲回",
        "deposit of undone hours not taken back, minutes:",
    ),
    DriftKind.STAR_UNEARNED: (
        "星级不再满足条件，现评",
        "a granted star no longer earned; hours now rate",
    ),
}


def _drifts(value: object) -> tuple[Drift, ...]:
    return items_of("drifts", Drift, value)


@attrs.frozen(kw_only=True)
class Reconciliation:
    """What :meth:`Platform.reconcile` found, and whether it repaired it."""

    drifts: tuple[Drift, ...] = attrs.field(converter=_drifts)
    repaired: bool = attrs.field(validator=is_bool)

    def __bool__(self) -> bool:
        """``True`` when the books agree (nothing found)."""
        return not self.drifts

    def explain(self) -> str:
        """One line per drift, or that the books agree."""
        if not self.drifts:
            return "账目一致 / the books agree"
        return "\n".join(d.explain() for d in self.drifts)


class Platform(NeedFlows, ProjectFlows, DeedFlows, PlatformCore):
    """A city's volunteer platform (志愿服务平台): every book over one journal, with the rules
    that keep them consistent and authority on every write.

    It holds the region tree and registry, the volunteers, the :class:`Policies` in force and
    these books, all on one :class:`~zhiyuan.journal.Journal` (in memory, or a store, see
    :meth:`open`):

    * :attr:`hours` (:class:`~zhiyuan.hours.HourLedger`), :attr:`points`
      (:class:`~zhiyuan.credit.PointsLedger`), :attr:`time_bank`
      (:class:`~zhiyuan.credit.TimeBank`, when the policies have one), :attr:`stars`
      (:class:`~zhiyuan.scoring.StarBook`), :attr:`feedback`
      (:class:`~zhiyuan.scoring.FeedbackBook`), :attr:`needs`
      (:class:`~zhiyuan.matching.NeedBook`, with a :attr:`dispatcher` of every registered
      volunteer), :attr:`orders` (:class:`~zhiyuan.credit.Redemptions`, with a catalog) and
      :attr:`acts` (who did what under which authority).

    Read from the books; write through the platform's methods. Every write names a principal
    (``by``) and is authorized by :attr:`jurisdiction` at the moment it is recorded, which is
    the journal clock's now (writes take no ``at``): a grant that has ended authorizes nothing,
    whatever the caller claims. Nobody certifies, rejects or reverses their own hours, decides
    their own stars, or adjusts or rewards their own points; a volunteer may register, report
    their own service, accept offers and spend their own points without a grant. Each write is
    recorded with an :class:`Act` in one transaction with everything it causes:

    * certified hours become points under the conversion policy in force on their service date
      and are banked where the time-bank policy says so, at once or in :meth:`settle`, as the
      policy's ``timing`` chooses (hours in public notice count when it ends, at the next
      :meth:`settle`);
    * rejected or reversed hours take their points back under the policy's ``clawback`` rule
      (under a policy that carries remainders, also the remainder they carried into later
      records' points, so that what is held is what the certified history is worth), and
      their time-bank deposit; a granted star they no longer earn is flagged for review or
      revoked, as the scheme's ``on_lapse`` says;
    * a completed need posts hour records for the volunteers who served, or for the named
      members of a team, through the same chain; registration makes a dispatch candidate.

    Hooks (:meth:`subscribe`) hear of each :class:`Event` after its operation is recorded; a
    hook that raises is logged and kept in :attr:`hook_failures`, never undoing anything.

    Args:
        registry: the tree and the organizations.
        policies: the rules (default :class:`Policies`: national hours and stars, 1 h = 1 point,
            no time bank).
        grants: the authority of principals (see :class:`~zhiyuan.hierarchy.Grant`).
        journal: where to record (default: a new in-memory one, with ``clock``).
        clock: the clock of the new journal (tests and replays fix "now" with it).
        catalog: a redemption catalog; with one, :attr:`orders` and :meth:`redeem` work.

    Configuration (registry, policies, grants, catalog) is not recorded: give the same to
    :meth:`open` after every restart.

    Example:
        >>> from datetime import date, datetime, timedelta
        >>> from zhiyuan import SHANGHAI
        >>> from zhiyuan.hierarchy import Grant, Organization, Registry, load_default
        >>> from zhiyuan.hours import Evidence, ServiceRecord, Volunteer
        >>> now = [datetime(2025, 3, 1, 18, tzinfo=SHANGHAI)]
        >>> reg = Registry(load_default(), [Organization(id="o1", name="协会", region_code="370602")])
        >>> city = Platform(reg, grants=[Grant(principal="admin", region_code="370602")],
        ...                 clock=lambda: now[0])
        >>> city.register(Volunteer(id="v1", name="王芳", home_region="370602001001",
        ...                         registered_on=date(2024, 1, 1)), by="v1")
        >>> rec = ServiceRecord(id="r1", volunteer_id="v1", activity_id="a", organization_id="o1",
        ...     region_code="370602001001", category="助老", evidence=Evidence.QR_SCAN,
        ...     start=datetime(2025, 3, 1, 9, tzinfo=SHANGHAI),
        ...     end=datetime(2025, 3, 1, 12, tzinfo=SHANGHAI))
        >>> city.post(rec, by="v1").counted_minutes
        180
        >>> city.certify("r1", by="v1")
        Traceback (most recent call last):
        ...
        zhiyuan.errors.PermissionDenied: 不能认证本人的工时 / nobody may certify their own hours (v1)
        >>> city.certify("r1", by="admin")
        >>> city.points.balance("volunteer:v1")
        3
        >>> city.reverse("r1", by="admin", reason="重复录入")
        >>> city.points.balance("volunteer:v1"), bool(city.reconcile())
        (0, True)
    """

    def __init__(
        self,
        registry: Registry,
        *,
        policies: Policies | None = None,
        grants: Iterable[Grant] = (),
        journal: Journal | None = None,
        clock: Clock | None = None,
        catalog: Catalog | None = None,
    ) -> None:
        registry = arg_of("registry", Registry, registry)
        policies = Policies() if policies is None else arg_of("policies", Policies, policies)
        if catalog is not None:
            arg_of("catalog", Catalog, catalog)
        if journal is None:
            journal = Journal() if clock is None else Journal(clock=clock)
        else:
            journal = arg_of("journal", Journal, journal)
            if clock is not None:
                raise InvalidValue(
                    "clock",
                    clock,
                    "已给日志时请把时钟交给日志 / with a journal, the clock is the journal's",
                    shown=show(clock),
                )
        self.registry = registry
        self.tree = registry.tree
        self.policies = policies
        self.journal = journal
        self.jurisdiction = Jurisdiction(self.tree, grants, clock=journal.clock)
        self.hours = HourLedger(
            registry, policies=policies.hours, jurisdiction=self.jurisdiction, journal=journal
        )
        self.points = PointsLedger(policies.instrument, journal=journal)
        self.stars = StarBook(self.hours, policies=policies.stars, jurisdiction=self.jurisdiction)
        self.feedback = FeedbackBook(journal=journal)
        self.dispatcher = Dispatcher(
            self.tree,
            [candidate_of(v) for v in self.hours.volunteers()],
            policy=policies.dispatch_for(journal.now().date()),
        )
        self.needs = NeedBook(dispatcher=self.dispatcher, journal=journal)
        self.time_bank: TimeBank | None = None
        if policies.time_bank:
            credits = PointsLedger("time_credits", journal=journal, name=TIME_BANK_BOOK)
            self.time_bank = TimeBank(credits, self.tree, policies.time_bank)
        self.orders: Redemptions | None = None
        if catalog is not None:
            self.orders = Redemptions(
                self.points,
                catalog,
                volunteers=self.hours.volunteer,
                level_of=self.stars,
                tree=self.tree,
            )
        self.acts = ActBook(journal=journal)
        self._hooks = Hooks()
        self._boxes: dict[Transaction, list[Event]] = {}  # events of each open transaction
        self._box: list[Event] = []  # the events of the operation running now
        # registrations recorded by this process or folded in from another keep the dispatcher
        # in step
        self.hours._listeners.append(self._on_hours)
        self._init_projects()
        self._init_deeds(policies.deeds)

    @classmethod
    def open(
        cls,
        url: str | os.PathLike[str],
        registry: Registry,
        *,
        policies: Policies | None = None,
        grants: Iterable[Grant] = (),
        clock: Clock | None = None,
        catalog: Catalog | None = None,
        checkpoint_every: int | None = None,
        **options: object,
    ) -> Platform:
        """A platform on the store ``url`` names (``sqlite:///path``, a path, ``postgresql://…``
        or ``memory:``; see :func:`zhiyuan.store.open_journal`), every book rebuilt from it.

        Example:
            >>> import tempfile, pathlib
            >>> from zhiyuan.hierarchy import Registry, load_default
            >>> path = pathlib.Path(tempfile.mkdtemp()) / "city.db"
            >>> with Platform.open(path, Registry(load_default())) as city:
            ...     len(city.journal)
            0
        """
        from zhiyuan.store import open_journal

        kw: dict[str, object] = dict(options)
        if clock is not None:
            kw["clock"] = clock
        journal = open_journal(url, checkpoint_every=checkpoint_every, **kw)  # type: ignore[arg-type]
        try:
            return cls(registry, policies=policies, grants=grants, journal=journal, catalog=catalog)
        except BaseException:
            journal.close()
            raise

    def close(self) -> None:
        """Close the journal (and its store)."""
        self.journal.close()

    def __enter__(self) -> Platform:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _row(self, tx: Transaction, record_id: object) -> _Row:
        rid = key("record_id", record_id)
        row = self.hours._view(tx).row(rid)
        if row is None:
            raise NotFound("record", rid)
        return row

    def _on_hours(self, entry: object) -> None:
        if isinstance(entry, Registered):
            with contextlib.suppress(Conflict):
                self.dispatcher.add(candidate_of(entry.volunteer))

    # --- volunteers and hours -----------------------------------------------------------------

    def register(self, volunteer: Volunteer, *, by: str) -> None:
        """Register a volunteer (注册) and make them a dispatch candidate.

        ``by`` is the volunteer (self-registration) or a principal with
        :attr:`~zhiyuan.hierarchy.Action.MANAGE` over the home region. The same volunteer again
        is a no-op; another under a used id is a :class:`~zhiyuan.errors.Conflict`.
        """
        v = arg_of("volunteer", Volunteer, volunteer)
        with self._op() as (tx, now):
            act = self._allow(
                "register", by, v.home_region, now, v.id, None if by == v.id else Action.MANAGE
            )
            if self.hours.add_volunteers([v], at=now):
                self._act(tx, act)
                self._emit(EventKind.REGISTERED, now, v.id, v.id)

    def post(self, record: ServiceRecord, *, by: str) -> Outcome:
        """Post a service record (录入) under the hour policy in force; returns its outcome.

        ``by`` is the volunteer (reporting their own service, which always needs a certifier,
        whatever evidence it claims) or a principal with
        :attr:`~zhiyuan.hierarchy.Action.RECORD` over the organizer's region. A record such a
        principal posts that the policy certifies on posting (its evidence is in
        ``auto_certify``) has its consequences at once, as :meth:`certify` would.
        """
        rec = arg_of("record", ServiceRecord, record)
        with self._op() as (tx, now):
            node = self.hours._org(rec.organization_id)
            own = by == rec.volunteer_id
            act = self._allow("post", by, node, now, rec.id, None if own else Action.RECORD)
            outcome, new = self._did(tx, act, lambda: self.hours._post(rec, now, auto=not own))
            if new:
                self._posted(tx, now, rec, outcome, key("by", by))
            return outcome

    def _post_record(
        self, tx: Transaction, now: datetime, record: ServiceRecord, by: str
    ) -> Outcome:
        outcome = self.hours.post(record, at=now)
        self._posted(tx, now, record, outcome, by)
        return outcome

    def _posted(
        self, tx: Transaction, now: datetime, rec: ServiceRecord, outcome: Outcome, by: str
    ) -> None:
        vid = rec.volunteer_id
        self._emit(EventKind.HOURS_POSTED, now, vid, rec.id, outcome.counted_minutes)
        if self._row(tx, rec.id).certified is not None:
            self._emit(EventKind.HOURS_CERTIFIED, now, vid, rec.id, outcome.counted_minutes)
            self._follow(tx, now, vid, by=by, reason="", last=rec.id)

    def certify(self, record_id: str, *, by: str) -> None:
        """Certify a record (认证): its points and time-bank deposit follow as the policies say.

        ``by`` needs :attr:`~zhiyuan.hierarchy.Action.CERTIFY` over the organizer's region (its
        parent for a record the policy sent for approval), and may not be the volunteer.
        """
        self._review(record_id, by, "certify", Action.CERTIFY, "")

    def reject(self, record_id: str, *, by: str, reason: str) -> None:
        """Reject a record under review or public notice (驳回), with what follows from it."""
        self._review(record_id, by, "reject", Action.CERTIFY, reason)

    def reverse(self, record_id: str, *, by: str, reason: str) -> None:
        """Reverse a record (冲销): its points and time-bank deposit are taken back, and a star
        it no longer earns is flagged or revoked, in the same transaction.

        ``by`` needs :attr:`~zhiyuan.hierarchy.Action.REVERSE` over the organizer's region, and
        may not be the volunteer.
        """
        self._review(record_id, by, "reverse", Action.REVERSE, reason)

    def _review(self, record_id: str, by: str, what: str, action: str, reason: str) -> None:
        with self._op() as (tx, now):
            row = self._row(tx, record_id)
            rid, vid = row.record.id, row.record.volunteer_id
            self._not_own(by, vid, what)
            act = self._allow(what, by, self.hours._authority_node(row, action), now, rid, action)
            before = len(tx)
            if what == "certify":
                self.hours.certify(rid, by=by, at=now)
            elif what == "reject":
                self.hours.reject(rid, by=by, reason=reason, at=now)
            else:
                self.hours.reverse(rid, by=by, reason=reason, at=now)
            if len(tx) == before:
                return
            self._act(tx, act)
            kind = _REVIEW_EVENT[what]
            self._emit(kind, now, vid, rid, row.outcome.counted_minutes)
            why = (
                ""
                if what == "certify"
                else f"工时 {rid} 已{_WHAT[what][0]}（{reason}）/ hours {rid} {_DONE[what]} ({reason})"
            )
            self._follow(
                tx,
                now,
                vid,
                by=act.by,
                reason=why,
                stars=what == "reverse",
                last=rid if what == "certify" else None,
            )

    # --- consistency: one plan for every flow, settle and reconcile ---------------------------

    def _plan(
        self,
        tx: Transaction,
        now: datetime,
        vid: str,
        *,
        batch: bool,
        stars: bool,
        seen: _Seen,
        last: str | None = None,
    ) -> list[Drift]:
        """Where the points, the time bank and the stars disagree with ``vid``'s hours as the
        transaction sees them (``seen``). ``batch`` counts what the policies leave to
        :meth:`settle`; ``last`` names the one record that has changed since the books last
        agreed (just certified), if that is all that has."""
        policies = self.policies
        certified, undone = seen.certified, seen.undone
        out: list[Drift] = []
        # points
        if policies.conversion:
            view = self.points._view(tx)
            groups: dict[int, tuple[ConversionPolicy, list[_Row]]] = {}
            for r in certified:
                p = policies.conversion_for(r.record.service_date)
                assert p is not None
                if batch or p.timing is Timing.AT_ONCE:
                    groups.setdefault(id(p), (p, []))[1].append(r)
            for p, group in groups.values():
                new = _last_of(last, group)
                if new is not None:
                    # the one new record comes after all the others in the conversion's order:
                    # converting it on top of what the others hold is what converting the
                    # whole history would give it
                    out.extend(self._converted_last(vid, p, group, new, view, seen))
                elif p.carry:
                    out.extend(self._carried(vid, p, group, view, seen))
                else:
                    out.extend(self._converted(vid, p, group, view, seen))
            for r in undone:
                p = policies.conversion_for(r.record.service_date)
                assert p is not None
                left = sum(n for _, n in self._holdings(p.posting_id(r.record.id), view))
                if left > 0:
                    out.append(
                        Drift(
                            kind=DriftKind.POINTS_NOT_REVERSED,
                            volunteer_id=vid,
                            ref=r.record.id,
                            amount=left,
                        )
                    )
        # the time bank
        bank = self.time_bank
        if bank is not None:
            wanted = []
            for r in certified:
                tp = policies.time_bank_for(r.record.service_date)
                if (
                    tp is not None
                    and tp.banks(r.record.category)
                    and (batch or tp.bank_hours is Timing.AT_ONCE)
                ):
                    wanted.append(r)
            ids2 = {_deposit_id(r): r for r in (*wanted, *undone)}
            banked = bank.journal.find_many(bank.ledger.name, ids2) if ids2 else {}
            bview = bank.ledger._view(tx)
            for r in wanted:
                if _deposit_id(r) not in banked:
                    out.append(
                        Drift(
                            kind=DriftKind.TIME_MISSING,
                            volunteer_id=vid,
                            ref=r.record.id,
                            amount=r.outcome.counted_minutes,
                        )
                    )
            for r in undone:
                did = _deposit_id(r)
                dep = banked.get(did)
                if dep is not None and not bview.reversals(did):
                    out.append(
                        Drift(
                            kind=DriftKind.TIME_NOT_REVERSED,
                            volunteer_id=vid,
                            ref=r.record.id,
                            amount=dep.amount,
                        )
                    )
        # stars
        if stars:
            held = self.stars.level(vid, as_of=now)
            if held and not self.stars.reviews(vid):
                rated = self._rating(vid, seen, now, held)
                # a review closed with the award kept covers every rating down to its own
                kept = self.stars.reviews(vid, open_only=False)
                if rated < held and (not kept or rated < kept[-1].rated):
                    out.append(
                        Drift(kind=DriftKind.STAR_UNEARNED, volunteer_id=vid, ref=vid, amount=rated)
                    )
        return out

    def _holdings(self, pid: str, view: Any) -> list[tuple[Posting, int]]:
        """A record's conversion earnings (``<record>#convert``, then its top-ups
        ``…#top#1`` …) with what each still holds after reversals and corrections."""
        out: list[tuple[Posting, int]] = []
        k = 0
        while True:
            earn = self.journal.find(self.points.name, pid if k == 0 else derive(pid, "top", k))
            if earn is None:
                return out
            out.append((earn, earn.amount - sum(x.amount for x in view.reversals(earn.id))))
            k += 1

    def _converted(
        self, vid: str, p: ConversionPolicy, rows: Sequence[_Row], view: Any, seen: _Seen
    ) -> list[Drift]:
        """Certified records not yet converted under a policy that converts each record alone
        (no carry), converted on top of what was issued (for the caps)."""
        ids = [p.posting_id(r.record.id) for r in rows]
        conv = convert(seen.hour_rows(rows), p, already=self._issued(ids, view))
        return [
            _missing(vid, rc.record_id, rc.posting) for rc in conv.rows if rc.posting is not None
        ]

    def _converted_last(
        self,
        vid: str,
        p: ConversionPolicy,
        rows: Sequence[_Row],
        new: _Row,
        view: Any,
        seen: _Seen,
    ) -> list[Drift]:
        """The record ``new``, certified last of ``rows``, converted on top of the others
        (:func:`~zhiyuan.credit.conversion._convert_last`): a sum over the history, not a
        conversion of it. The others' postings are looked up only when a cap counts them."""
        capped = any(cap is not None for cap in p._caps().values())
        ids = [p.posting_id(r.record.id) for r in (rows if capped else (new,))]
        earlier = seen.hour_rows([r for r in rows if r is not new])
        rc = _convert_last(seen.hour_row(new), earlier, p, self._issued(ids, view))
        return [] if rc.posting is None else [_missing(vid, rc.record_id, rc.posting)]

    def _issued(self, ids: Sequence[str], view: Any) -> list[Posting]:
        """The conversion postings under ``ids`` that exist, each followed by its reversals."""
        out: list[Posting] = []
        for pid, earn in self.journal.find_many(self.points.name, ids).items():
            out.append(earn)
            out.extend(view.reversals(pid))
        return out

    def _carried(
        self, vid: str, p: ConversionPolicy, rows: Sequence[_Row], view: Any, seen: _Seen
    ) -> list[Drift]:
        """Under a policy that carries remainders, each certified record must hold what the
        conversion of the whole certified history gives it: certifications in another order,
        and undone records, move the remainders. Short records get a top-up
        (``<record>#convert#top#k``), records holding too much give the difference back."""
        out = []
        for rc in convert(seen.hour_rows(rows), p).rows:
            pid = p.posting_id(rc.record_id)
            want = 0 if rc.posting is None else rc.posting.amount
            held = self._holdings(pid, view)
            have = sum(n for _, n in held)
            if have < want:
                assert rc.posting is not None
                more = (
                    rc.posting
                    if not held
                    else attrs.evolve(
                        rc.posting, id=derive(pid, "top", len(held)), amount=want - have
                    )
                )
                out.append(
                    Drift(
                        kind=DriftKind.POINTS_MISSING,
                        volunteer_id=vid,
                        ref=rc.record_id,
                        amount=want - have,
                        posting=more,
                    )
                )
            elif have > want:
                out.append(
                    Drift(
                        kind=DriftKind.POINTS_EXCESS,
                        volunteer_id=vid,
                        ref=rc.record_id,
                        amount=have - want,
                    )
                )
        return out

    def points_of(self, record_id: str) -> int:
        """The points a record's hours hold now: its conversion and top-ups, less what was
        taken back (0 for a record never converted or undone).

        Example:
            >>> from zhiyuan.hierarchy import Registry, load_default
            >>> Platform(Registry(load_default())).points_of("r1")
            0
        """
        rid = key("record_id", record_id)
        with self.journal._lock:
            row = self.hours._state.rows.get(rid)
            if row is None or not self.policies.conversion:
                return 0
            p = self.policies.conversion_for(row.record.service_date)
            assert p is not None
            view = self.points._view_now()
            return sum(n for _, n in self._holdings(p.posting_id(rid), view))

    def _rating(self, vid: str, seen: _Seen, now: datetime, held: int) -> int:
        rows = seen.hour_rows(seen.certified)
        volunteer = self.hours.volunteer(vid)
        marks = self.stars.marks(vid)
        return (
            self.stars.policy_for(now.date())
            .rate_rows(vid, rows, now, volunteer=volunteer, held=held, marks=marks)
            .level
        )

    def _carry(
        self, tx: Transaction, now: datetime, drifts: Sequence[Drift], *, by: str, reason: str
    ) -> None:
        """Record the entries that repair ``drifts`` (in the open transaction)."""
        earnings = [d.posting for d in drifts if d.posting is not None]
        if earnings:
            self.points._post_earnings(earnings, "conversion")
            for d in drifts:
                if d.posting is not None:
                    self._emit(EventKind.POINTS_EARNED, now, d.volunteer_id, d.ref, d.amount)
        for d in drifts:
            if d.kind in (DriftKind.POINTS_NOT_REVERSED, DriftKind.POINTS_EXCESS):
                row = self._row(tx, d.ref)
                p = self.policies.conversion_for(row.record.service_date)
                assert p is not None
                why = reason or _UNDONE
                held = self._holdings(p.posting_id(d.ref), self.points._view(tx))
                if d.kind is DriftKind.POINTS_NOT_REVERSED:
                    for earn, n in held:
                        if n > 0:
                            self.points.reverse_earning(
                                earn.id, at=now, reason=why, rule=p.clawback
                            )
                else:  # give back the difference, from the latest earnings first
                    left = d.amount
                    base = derive(p.posting_id(d.ref), "less", self._position(tx))
                    for k, (earn, n) in enumerate(reversed(held), start=1):
                        take = min(n, left)
                        if take > 0:
                            self.points._correct(
                                derive(base, k), earn.id, take, at=now, reason=why, rule=p.clawback
                            )
                            left -= take
                self._emit(EventKind.POINTS_REVERSED, now, d.volunteer_id, d.ref, d.amount)
            elif d.kind is DriftKind.TIME_MISSING:
                assert self.time_bank is not None
                row = self._row(tx, d.ref)
                try:
                    with self.journal.transaction():  # a savepoint: a refused deposit alone
                        self.time_bank._deposit(
                            _deposit_id(row),
                            d.volunteer_id,
                            d.amount,
                            at=now,
                            region=row.record.region_code,
                        )
                except ZhiyuanError as exc:
                    self._emit(
                        EventKind.TIME_NOT_BANKED, now, d.volunteer_id, d.ref, d.amount, str(exc)
                    )
                else:
                    self._emit(EventKind.TIME_BANKED, now, d.volunteer_id, d.ref, d.amount)
            elif d.kind is DriftKind.TIME_NOT_REVERSED:
                assert self.time_bank is not None
                row = self._row(tx, d.ref)
                self.time_bank._reverse_deposit(_deposit_id(row), at=now, reason=reason or _UNDONE)
                self._emit(EventKind.TIME_REVERSED, now, d.volunteer_id, d.ref, d.amount)
            elif d.kind is DriftKind.STAR_UNEARNED:
                self._lapse(tx, now, d, by=by, reason=reason)

    def _lapse(self, tx: Transaction, now: datetime, d: Drift, *, by: str, reason: str) -> None:
        vid = d.volunteer_id
        held = self.stars.level(vid, as_of=now)
        stamp = self._position(tx)
        why = (reason or _UNDONE) + f"；现评 {d.amount} 星 / now rated {d.amount}"
        if self.stars.policy_for(now.date()).on_lapse is Lapse.REVOKE:
            rev = Revocation(
                id=derive(foreign(vid), "lapse", stamp), volunteer_id=vid, by=by, reason=why, at=now
            )
            tx.add(self.stars, [rev])
            self._emit(EventKind.STAR_REVOKED, now, vid, rev.id, d.amount)
        else:
            review = Review(
                id=derive(foreign(vid), "review", stamp),
                volunteer_id=vid,
                held=held,
                rated=d.amount,
                by=by,
                reason=why,
                at=now,
            )
            tx.add(self.stars, [review])
            self._emit(EventKind.STAR_REVIEW, now, vid, review.id, d.amount)

    def _follow(
        self,
        tx: Transaction,
        now: datetime,
        vid: str,
        *,
        by: str,
        reason: str,
        stars: bool = False,
        last: str | None = None,
    ) -> None:
        """Bring ``vid``'s other books in line with their hours, as far as the policies say to
        do at once; tell the hooks when the hours earn a higher star. ``last``: the record just
        certified, when that is the only change."""
        seen = _Seen(self.hours._rows_seen(tx, vid), now)
        drifts = self._plan(tx, now, vid, batch=False, stars=stars, seen=seen, last=last)
        self._carry(tx, now, drifts, by=by, reason=reason)
        if not stars:
            self._eligible(now, vid, seen)

    def _eligible(self, now: datetime, vid: str, seen: _Seen) -> None:
        """Tell the hooks when ``vid``'s certified hours (``seen``) earn a higher star than
        held."""
        if not self._hooks:
            return
        held = self.stars.level(vid, as_of=now)
        rated = self._rating(vid, seen, now, held)
        if rated > held:
            self._emit(EventKind.STAR_ELIGIBLE, now, vid, vid, rated)

    def settle(self, *, by: str, volunteer_ids: Iterable[str] | None = None) -> int:
        """Run the scheduled batch (结算): convert and bank the certified hours the policies
        leave to it (``timing="batch"``) and hours whose public notice has ended. Returns how
        many entries it recorded. Run it daily; running it again records nothing new.

        ``by`` is who runs it (recorded with the act); it needs no grant, since it only carries
        out what certifications already authorized.
        """
        return self._sweep(by, volunteer_ids, repair=True, stars=False, name="settle").repaired_n

    def reconcile(
        self,
        *,
        repair: bool = False,
        by: str | None = None,
        volunteer_ids: Iterable[str] | None = None,
    ) -> Reconciliation:
        """Check every book against the hours (对账): points for every certified record, taken
        back for every undone one; time-bank deposits likewise; no granted star the hours no
        longer earn without a review. With ``repair`` (and ``by``), record the entries that
        repair what was found, in one transaction, as the flows would have.

        For state imported from elsewhere, or after a policy's ``timing`` left work to
        :meth:`settle`.
        """
        if repair and by is None:
            raise InvalidValue("by", None, "修复须署名 / a repair needs a principal")
        out = self._sweep(by, volunteer_ids, repair=repair, stars=True, name="reconcile")
        return Reconciliation(drifts=out.drifts, repaired=repair)

    def _sweep(
        self,
        by: str | None,
        volunteer_ids: Iterable[str] | None,
        *,
        repair: bool,
        stars: bool,
        name: str,
    ) -> _Swept:
        if volunteer_ids is None:
            vids = [v.id for v in self.hours.volunteers()]
        else:
            vids = [key("volunteer_ids", v) for v in items("volunteer_ids", volunteer_ids)]
        found: list[Drift] = []
        with self._op() as (tx, now):
            before = len(tx)
            who = "" if by is None else key("by", by)
            reason = _RECONCILED if stars else _SETTLED
            for vid in vids:
                home = self.hours.volunteer(vid).home_region  # NotFound for an unknown one
                seen = _Seen(self.hours._rows_seen(tx, vid), now)
                drifts = self._plan(tx, now, vid, batch=True, stars=stars, seen=seen)
                found.extend(drifts)
                if not (repair and drifts):
                    continue
                if stars:  # a repair decides (it may revoke stars): it needs authority
                    target = f"{vid}@{self._position(tx)}"
                    act = self._allow(name, who, home, now, target, Action.MANAGE)
                    tx.add(self.acts, [act])
                self._carry(tx, now, drifts, by=who, reason=reason)
                if not stars:
                    self._eligible(now, vid, seen)
            n = len(tx) - before
            if repair and n and not stars:
                # batch work carries out what certifications authorized: no region, no grant
                target = self._position(tx)
                act = Act(id=Act.id_for(name, target), action=name, by=who, target=target, at=now)
                tx.add(self.acts, [act])
        return _Swept(tuple(found), n)

    # --- points -------------------------------------------------------------------------------

    def spend(
        self, id: str, volunteer_id: str, amount: int, *, by: str, to: str = "redemption"
    ) -> list[Posting]:
        """Spend a volunteer's points (兑换); ``by`` is the volunteer or a principal with
        :attr:`~zhiyuan.hierarchy.Action.ADJUST_POINTS` over their home region."""
        vid = key("volunteer_id", volunteer_id)
        with self._op() as (tx, now):
            home = self.hours.volunteer(vid).home_region
            act = self._allow(
                "spend", by, home, now, key("id", id), None if by == vid else Action.ADJUST_POINTS
            )
            out, _ = self._did(tx, act, lambda: self.points.spend(id, vid, amount, at=now, to=to))
            return out

    def adjust(self, id: str, volunteer_id: str, amount: int, *, by: str) -> list[Posting]:
        """Credit points by hand (积分调整, kind ``adjust``); ``by`` needs
        :attr:`~zhiyuan.hierarchy.Action.ADJUST_POINTS` over the home region and may not be
        the volunteer."""
        vid = key("volunteer_id", volunteer_id)
        with self._op() as (tx, now):
            self._not_own(by, vid, "adjust")
            home = self.hours.volunteer(vid).home_region
            act = self._allow("adjust", by, home, now, key("id", id), Action.ADJUST_POINTS)
            out, new = self._did(
                tx,
                act,
                lambda: self.points.earn(
                    id, vid, amount, at=now, issuer=self._issuer(now), kind=PostingKind.ADJUST
                ),
            )
            if new:
                self._emit(EventKind.POINTS_EARNED, now, vid, id, amount)
            return out

    def redeem(
        self, order_id: str, volunteer_id: str, item_id: str, quantity: int = 1, *, by: str
    ) -> Order:
        """Order an item of the catalog with points (兑换订单); ``by`` as for :meth:`spend`."""
        orders = self.orders
        if orders is None:
            raise InvalidValue("catalog", None, "平台没有兑换目录 / the platform has no catalog")
        vid = key("volunteer_id", volunteer_id)
        with self._op() as (tx, now):
            home = self.hours.volunteer(vid).home_region
            act = self._allow(
                "redeem",
                by,
                home,
                now,
                key("order_id", order_id),
                None if by == vid else Action.ADJUST_POINTS,
            )
            out, _ = self._did(
                tx, act, lambda: orders.reserve(order_id, vid, item_id, quantity, at=now)
            )
            return out

    def notify_expiring(self, *, within_days: int) -> list[ExpiringPoints]:
        """Tell the hooks whose points expire within ``within_days`` days (积分即将过期), and
        return the list (:func:`~zhiyuan.credit.expiring_soon`)."""
        if isinstance(within_days, bool) or not isinstance(within_days, int):
            raise InvalidValue("within_days", within_days, "需要整数 / need a whole number")
        if not 1 <= within_days <= 3660:
            raise InvalidValue("within_days", within_days, "须为 1–3660 天 / 1 to 3660 days")
        now = self.journal.now()
        soon = expiring_soon(self.points, within_days=within_days, as_of=now)
        if self._hooks:
            self._hooks.deliver(
                Event(
                    kind=EventKind.POINTS_EXPIRING,
                    at=now,
                    subject=e.volunteer_id,
                    ref=e.earliest_expiry.isoformat(),
                    amount=e.amount,
                )
                for e in soon
            )
        return soon

    # --- stars --------------------------------------------------------------------------------

    def apply_star(self, id: str, volunteer_id: str, level: int, *, by: str) -> None:
        """Apply for a star level (星级申请); ``by`` is the volunteer or a principal with
        :attr:`~zhiyuan.hierarchy.Action.MANAGE` over the home region."""
        vid = key("volunteer_id", volunteer_id)
        with self._op() as (tx, now):
            home = self.hours.volunteer(vid).home_region
            act = self._allow(
                "apply_star", by, home, now, key("id", id), None if by == vid else Action.MANAGE
            )
            self._did(tx, act, lambda: self.stars.apply(id, vid, level, at=now))

    def decide_star(self, application_id: str, *, by: str, approve: bool, reason: str) -> None:
        """Approve or reject a star application (星级审批); ``by`` needs
        :attr:`~zhiyuan.hierarchy.Action.APPROVE_STAR` at the scheme's approving level and may
        not be the applicant."""
        aid = key("application_id", application_id)
        with self._op() as (tx, now):
            app = self.stars._state.apps.get(aid)
            if app is None:
                raise NotFound("application", aid)
            self._not_own(by, app.volunteer_id, "decide")
            node = self.stars._approver_node(app.volunteer_id, app.level, now.date())
            act = self._allow("decide_star", by, node, now, aid, Action.APPROVE_STAR)
            self._did(
                tx,
                act,
                lambda: self.stars.decide(aid, by=by, approve=approve, reason=reason, at=now),
            )

    def close_review(self, review_id: str, *, by: str, reason: str) -> None:
        """Close a star review keeping the award (复核维持); ``by`` needs
        :attr:`~zhiyuan.hierarchy.Action.APPROVE_STAR` as for the level held and may not be
        the volunteer. The lapse it answered is not flagged again unless the hours fall
        further."""
        rid = key("review_id", review_id)
        with self._op() as (tx, now):
            review = self.stars._state.reviews.get(rid)
            if review is None:
                raise NotFound("review", rid)
            self._not_own(by, review.volunteer_id, "decide")
            node = self.stars._approver_node(review.volunteer_id, review.held, now.date())
            act = self._allow("close_review", by, node, now, rid, Action.APPROVE_STAR)
            self._did(tx, act, lambda: self.stars.close_review(rid, by=by, reason=reason, at=now))

    def revoke_stars(
        self, id: str, volunteer_id: str, *, by: str, reason: str, falsified: bool = False
    ) -> None:
        """Revoke a volunteer's stars (撤销星级; with ``falsified``, bar new applications);
        ``by`` needs :attr:`~zhiyuan.hierarchy.Action.APPROVE_STAR` as for the level held and
        may not be the volunteer."""
        vid = key("volunteer_id", volunteer_id)
        with self._op() as (tx, now):
            self.hours.volunteer(vid)
            self._not_own(by, vid, "decide")
            held = self.stars.level(vid, as_of=now)
            node = self.stars._approver_node(vid, max(held, 1), now.date())
            act = self._allow("revoke_stars", by, node, now, key("id", id), Action.APPROVE_STAR)
            _, new = self._did(
                tx,
                act,
                lambda: self.stars.revoke(
                    id, vid, by=by, reason=reason, at=now, falsified=falsified
                ),
            )
            if new:
                self._emit(EventKind.STAR_REVOKED, now, vid, id, 0)


@attrs.frozen
class _Swept:
    drifts: tuple[Drift, ...]
    repaired_n: int


class _Seen:
    """One volunteer's records as a transaction sees them at ``now``: the certified ones that
    count minutes, and the undone (rejected or reversed) ones; each record's hour row is built
    once, for the conversions and the star rating alike."""

    __slots__ = ("_rows", "certified", "undone")

    def __init__(self, rows: Iterable[_Row], now: datetime) -> None:
        self.certified: list[_Row] = []
        self.undone: list[_Row] = []
        self._rows: dict[str, HourRow] = {}
        for r in rows:
            state = r.status(None, now)
            if state == "certified":
                if r.outcome.counted_minutes:
                    self.certified.append(r)
            elif state in ("rejected", "reversed"):
                self.undone.append(r)

    def hour_row(self, row: _Row) -> HourRow:
        out = self._rows.get(row.record.id)
        if out is None:
            out = self._rows[row.record.id] = _hour_row(row)
        return out

    def hour_rows(self, rows: Iterable[_Row]) -> list[HourRow]:
        return [self.hour_row(r) for r in rows]


def _missing(vid: str, record_id: str, posting: Posting) -> Drift:
    """A record's conversion not yet recorded: the posting that repairs it."""
    return Drift(
        kind=DriftKind.POINTS_MISSING,
        volunteer_id=vid,
        ref=record_id,
        amount=posting.amount,
        posting=posting,
    )


def _last_of(record_id: str | None, rows: Sequence[_Row]) -> _Row | None:
    """The row of ``record_id`` if it is among ``rows`` and comes after every other one in the
    order a conversion takes them (when it counted as certified, then record id)."""
    if record_id is None:
        return None
    mine = next((r for r in rows if r.record.id == record_id), None)
    if mine is None or mine.notice_until is None:
        return None
    last = (mine.notice_until, record_id)
    for r in rows:
        if r is not mine and (r.notice_until is None or (r.notice_until, r.record.id) >= last):
            return None
    return mine


def _deposit_id(row: _Row) -> str:
    """The time-bank deposit of a record's hours: ``<record id>#bank``."""
    return derive(foreign(row.record.id), "bank")


_DONE = {"reject": "rejected", "reverse": "reversed"}

_REVIEW_EVENT = {
    "certify": EventKind.HOURS_CERTIFIED,
    "reject": EventKind.HOURS_REJECTED,
    "reverse": EventKind.HOURS_REVERSED,
}

_UNDONE = "工时已撤销 / hours undone"
_SETTLED = "结算 / settled"
_RECONCILED = "对账修复 / repaired by reconciliation"
