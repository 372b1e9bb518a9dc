"""Star awards (星级认定): applied → reviewed → public notice → granted | rejected, and revoked.

Stars are applied for, not automatic. A :class:`StarBook` keeps the award entries of one
:class:`~zhiyuan.scoring.StarScheme` in its hour ledger's journal: :class:`Application`,
:class:`Decision` and :class:`Revocation`. A volunteer's held level on any date is a fold of them
(and of the scheme's downgrade rule). An application must be backed by a rating at least as high; who may decide
follows the tree: the authority over the volunteer's home region at the scheme's approving level
for that star (national: county for 1–2★, city for 3–4★, province for 5★). Revoking for
falsified hours bars new applications for the scheme's ``ban_years``.

Example:
    >>> from datetime import date, datetime
    >>> from zhiyuan import SHANGHAI
    >>> from zhiyuan.hierarchy import Organization, Registry, load_default, Grant, Jurisdiction
    >>> from zhiyuan.hours import Evidence, HourLedger, HourPolicy, ServiceRecord, Volunteer
    >>> from zhiyuan.scoring import StarScheme
    >>> tree = load_default()
    >>> reg = Registry(tree, [Organization(id="o1", name="协会", region_code="370602")])
    >>> ledger = HourLedger(reg, policies=[HourPolicy(auto_certify={"qr_scan"})])
    >>> ledger.add_volunteer(Volunteer(id="v1", name="王芳", home_region="370602001001",
    ...                                registered_on=date(2020, 1, 1)))
    >>> t = lambda d: datetime(2024, 1, 1, tzinfo=SHANGHAI).replace(day=d)
    >>> for d in range(1, 15):  # 14 days of 8 hours = 112 hours
    ...     _ = ledger.post(ServiceRecord(id=f"r{d}", volunteer_id="v1", activity_id="a",
    ...         organization_id="o1", region_code="370602001001", category="助老",
    ...         evidence=Evidence.QR_SCAN, start=t(d).replace(hour=8), end=t(d).replace(hour=16)),
    ...         at=t(d).replace(hour=17))
    >>> j = Jurisdiction(tree, [Grant(principal="zhifu", region_code="370602")])
    >>> book = StarBook(ledger, policies=StarScheme(notice_days=7), jurisdiction=j)
    >>> book.apply("app1", "v1", 1, at=datetime(2024, 2, 1, tzinfo=SHANGHAI))
    >>> book.decide("app1", by="zhifu", approve=True, reason="符合条件",
    ...             at=datetime(2024, 2, 3, tzinfo=SHANGHAI))
    >>> book.status("app1", as_of=datetime(2024, 2, 5, tzinfo=SHANGHAI))
    'notice'
    >>> book.level("v1", as_of=datetime(2024, 2, 11, tzinfo=SHANGHAI))
    1
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta
from typing import Literal

import attrs
from dateutil.relativedelta import relativedelta

from zhiyuan._validators import (
    aware,
    bounded,
    flag,
    is_bool,
    is_date,
    key,
    non_empty,
    to_shanghai,
)
from zhiyuan.convert import register_tagged_union
from zhiyuan.errors import Conflict, InvalidValue, NotFound
from zhiyuan.hierarchy.codes import Level, RegionCode
from zhiyuan.hierarchy.jurisdiction import Action, Jurisdiction
from zhiyuan.hours.ledger import HourLedger
from zhiyuan.journal import Book
from zhiyuan.journal._ids import derive, own_id
from zhiyuan.journal._pickle import register_state_type
from zhiyuan.schedule import Schedule
from zhiyuan.scoring.stars import Downgrade, StarScheme, star_name

__all__ = [
    "Application",
    "ApplicationStatus",
    "AwardEntry",
    "Decision",
    "Review",
    "ReviewClosed",
    "Revocation",
    "StarBook",
]

ApplicationStatus = Literal["applied", "notice", "granted", "rejected", "revoked"]
"""An application's state: ``applied`` (awaiting decision), ``notice`` (approved, 公示 running),
``granted``, ``rejected``, or ``revoked`` (approved, then revoked during the notice or after)."""


@attrs.frozen(kw_only=True)
class Application:
    """An application for a star level (星级申请)."""

    id: str = attrs.field(validator=non_empty)
    volunteer_id: str = attrs.field(validator=non_empty)
    level: int = attrs.field(validator=bounded(1, 100, "stars"))
    at: datetime = attrs.field(converter=to_shanghai, validator=aware)


@attrs.frozen(kw_only=True)
class Decision:
    """The review of an application: approved (then public notice) or rejected, with a reason."""

    application_id: str = attrs.field(validator=non_empty)
    by: str = attrs.field(validator=non_empty)
    approve: bool = attrs.field(validator=is_bool)
    reason: str = attrs.field(validator=non_empty)
    at: datetime = attrs.field(converter=to_shanghai, validator=aware)

    @property
    def id(self) -> str:
        """``<application id>#decide``: an application is decided once."""
        return derive(self.application_id, "decide")


@attrs.frozen(kw_only=True)
class Revocation:
    """A revocation of a volunteer's stars (撤销星级); falsified hours bar new applications."""

    id: str = attrs.field(validator=non_empty)
    volunteer_id: str = attrs.field(validator=non_empty)
    by: str = attrs.field(validator=non_empty)
    reason: str = attrs.field(validator=non_empty)
    falsified: bool = attrs.field(default=False, validator=is_bool)
    at: datetime = attrs.field(converter=to_shanghai, validator=aware)
    banned_until: date | None = attrs.field(default=None, validator=is_date)


@attrs.frozen(kw_only=True)
class Review:
    """An award flagged for review (复核): reversed hours leave the volunteer rated below the
    level held. Open until the volunteer's stars are revoked or the review is closed."""

    id: str = attrs.field(validator=non_empty)
    volunteer_id: str = attrs.field(validator=non_empty)
    held: int = attrs.field(validator=bounded(1, 100, "stars"))
    rated: int = attrs.field(validator=bounded(0, 100, "stars"))
    by: str = attrs.field(validator=non_empty)
    reason: str = attrs.field(validator=non_empty)
    at: datetime = attrs.field(converter=to_shanghai, validator=aware)


@attrs.frozen(kw_only=True)
class ReviewClosed:
    """A review closed without a revocation: the reviewer keeps the award (复核维持)."""

    review_id: str = attrs.field(validator=non_empty)
    by: str = attrs.field(validator=non_empty)
    reason: str = attrs.field(validator=non_empty)
    at: datetime = attrs.field(converter=to_shanghai, validator=aware)

    @property
    def id(self) -> str:
        """``<review id>#close``: a review is closed once."""
        return derive(self.review_id, "close")


AwardEntry = Application | Decision | Revocation | Review | ReviewClosed
"""Any entry of a :class:`StarBook`."""

register_tagged_union(
    AwardEntry,
    {
        Application: "stars.application",
        Decision: "stars.decision",
        Revocation: "stars.revocation",
        Review: "stars.review",
        ReviewClosed: "stars.review_closed",
    },
)


class _StarsState:
    """The folded awards: applications, decisions, revocations, per volunteer."""

    __slots__ = ("apps", "by_volunteer", "closed", "decisions", "marks", "reviews", "revocations")

    def __init__(self) -> None:
        self.apps: dict[str, Application] = {}
        self.decisions: dict[str, Decision] = {}
        self.revocations: dict[str, Revocation] = {}
        self.by_volunteer: dict[str, list[str]] = {}
        self.marks: dict[str, list[date]] = {}
        self.reviews: dict[str, Review] = {}
        self.closed: dict[str, ReviewClosed] = {}

    def apply(self, entry: AwardEntry) -> None:
        if isinstance(entry, Application):
            self.apps[entry.id] = entry
            self.by_volunteer.setdefault(entry.volunteer_id, []).append(entry.id)
        elif isinstance(entry, Decision):
            self.decisions[entry.application_id] = entry
        elif isinstance(entry, Review):
            self.reviews[entry.id] = entry
        elif isinstance(entry, ReviewClosed):
            self.closed[entry.review_id] = entry
        else:
            self.revocations[entry.id] = entry
            self.by_volunteer.setdefault(entry.volunteer_id, [])
            if entry.falsified:
                self.marks.setdefault(entry.volunteer_id, []).append(entry.at.date())


register_state_type(_StarsState)


class StarBook(Book[AwardEntry, _StarsState]):
    """The star awards of one scheme, checked against the ledger's hours and the tree.

    Args:
        ledger: the hour ledger (volunteers, certified hours, the tree); the book records in
            its journal.
        policies: the star scheme, or several with their ``effective_from`` dates (default: the
            national :class:`~zhiyuan.scoring.StarScheme`): an
            application is judged, a decision approved, a notice timed and a revocation's ban
            set by the scheme in force on its day (the latest taking effect on or before it,
            the earliest before that); a held level follows the downgrade rule of the scheme
            in force on the day asked about. Two taking effect on one day are refused.
        jurisdiction: who may decide and revoke; ``None`` trusts every caller.
        name: the book's name in the journal (default ``stars``; give another for a second
            scheme on the same ledger).
    """

    kind = "stars"
    entry_type = AwardEntry
    state_version = 2

    def __init__(
        self,
        ledger: HourLedger,
        *,
        policies: StarScheme | Iterable[StarScheme] = (),
        jurisdiction: Jurisdiction | None = None,
        name: str | None = None,
    ) -> None:
        self.policies: Schedule[StarScheme] = Schedule(
            policies, kind=StarScheme, field="policies", default=StarScheme()
        )
        self.ledger = ledger
        self.jurisdiction = jurisdiction
        super().__init__(journal=ledger.journal, name=name)

    def _new_state(self) -> _StarsState:
        return _StarsState()

    def policy_for(self, day: date) -> StarScheme:
        """The scheme in force on ``day``."""
        return self.policies.on(day)

    # --- reading ------------------------------------------------------------------------------

    def status(
        self, application_id: str, *, as_of: datetime | None = None
    ) -> ApplicationStatus | None:
        """An application's state (as of a moment: ``None`` before it was made)."""
        cut = self._as_of(as_of)
        with self._lock:
            app = self._state.apps.get(key("application_id", application_id))
            if app is None:
                raise NotFound("application", application_id)
            return self._status(app, cut, cut or self.journal.now())

    def _status(
        self, app: Application, cut: datetime | None, now: datetime
    ) -> ApplicationStatus | None:
        if cut is not None and app.at > cut:
            return None
        dec = self._state.decisions.get(app.id)
        if dec is None or (cut is not None and dec.at > cut):
            return "applied"
        if not dec.approve:
            return "rejected"
        for rev in self._state.revocations.values():  # approved, then revoked
            if (
                rev.volunteer_id == app.volunteer_id
                and dec.at <= rev.at
                and (cut is None or rev.at <= cut)
            ):
                return "revoked"
        if dec.at + timedelta(days=self.policy_for(dec.at.date()).notice_days) > now:
            return "notice"
        return "granted"

    def _granted(
        self, volunteer_id: str, cut: datetime | None, now: datetime
    ) -> Iterator[tuple[int, datetime]]:
        st = self._state
        for app_id in st.by_volunteer.get(volunteer_id, ()):
            app = st.apps[app_id]
            if self._status(app, cut, now) == "granted":
                dec = st.decisions[app_id]
                notice = self.policy_for(dec.at.date()).notice_days
                yield app.level, dec.at + timedelta(days=notice)

    def level(self, volunteer_id: str, *, as_of: datetime | None = None) -> int:
        """The star level a volunteer holds (as of a moment), after the scheme's downgrade rule."""
        key("volunteer_id", volunteer_id)
        cut = self._as_of(as_of)
        when = cut or self.journal.now()
        with self._lock:
            grants = list(self._granted(volunteer_id, cut, when))
        if not grants:
            return 0
        rule = self.policy_for(when.date()).downgrade
        if rule is Downgrade.YEARLY_RESET:
            grants = [(lv, t) for lv, t in grants if t.year == when.year]
            return max((lv for lv, _ in grants), default=0)
        held = max(lv for lv, _ in grants)
        if rule is Downgrade.IDLE_YEAR:
            # Full idle years in every gap since the latest grant: between it and the first
            # service after it, between services, and since the last one. A level lost to an
            # idle year stays lost (later service does not restore it; a new grant does).
            since = max(t for _, t in grants).date()
            today = when.date()
            rows = self.ledger.rows(as_of=cut, volunteer_id=volunteer_id)
            days = sorted({r.service_date for r in rows if since < r.service_date <= today})
            marks = [since, *days, today]
            idle = sum(relativedelta(b, a).years for a, b in itertools.pairwise(marks))
            held = max(held - idle, 0)
        return held

    def banned_until(self, volunteer_id: str, *, as_of: datetime | None = None) -> date | None:
        """The date until which the volunteer may not apply (``None``: free to apply)."""
        cut = self._as_of(as_of)
        day = (cut or self.journal.now()).date()
        with self._lock:
            bans = [
                r.banned_until
                for r in self._state.revocations.values()
                if r.volunteer_id == volunteer_id
                and r.banned_until is not None
                and (cut is None or r.at <= cut)
            ]
        latest = max(bans, default=None)
        return latest if latest is not None and latest >= day else None

    def marks(self, volunteer_id: str) -> list[date]:
        """Dates of falsification findings (for the scheme's ``clean_years`` condition)."""
        with self._lock:
            return list(self._state.marks.get(key("volunteer_id", volunteer_id), ()))

    def counts_by_region(
        self, *, as_of: datetime | None = None, within: object | None = None
    ) -> dict[str, dict[int, int]]:
        """How many volunteers hold each level, by home region, rolled up the tree."""
        tree = self.ledger.tree
        with self._lock:
            vids = list(self._state.by_volunteer)
        per_level: dict[int, list[tuple[str, int]]] = {}
        for vid in vids:
            lv = self.level(vid, as_of=as_of)
            if lv:
                home = self.ledger.volunteer(vid).home_region
                if within is None or tree.is_within(home, within):
                    per_level.setdefault(lv, []).append((home, 1))
        out: dict[str, dict[int, int]] = {}
        for lv, pairs in sorted(per_level.items()):
            for code, n in tree.rollup(pairs).items():
                out.setdefault(code, {})[lv] = n
        return out

    # --- acting -------------------------------------------------------------------------------

    def _approver_node(self, volunteer_id: str, level: int, day: date) -> str:
        home = self.ledger.volunteer(volunteer_id).home_region
        want: Level = self.policy_for(day).approver_level(level)
        code = RegionCode(home)
        if code.level > want:
            anc = [a for a in code.ancestors() if a.level is want]
            target = anc[0].value if anc else home
        else:
            target = home
        tree = self.ledger.tree
        while target not in tree:  # the nearest present ancestor
            parent = RegionCode(target).parent
            if parent is None:
                return home
            target = parent.value
        return target

    def apply(self, id: str, volunteer_id: str, level: int, *, at: datetime | None = None) -> None:
        """Apply for ``level`` stars; the same application again is a no-op.

        Raises :class:`~zhiyuan.errors.InvalidValue` (level out of range or not above the held
        one; hours or conditions not met, with the rating's explanation), or
        :class:`~zhiyuan.errors.Conflict` (an open application, a ban, a used id).
        """
        own_id(id, "id")
        with self.journal.transaction() as tx:
            when = self._when(at)
            app = Application(id=id, volunteer_id=volunteer_id, level=level, at=when)
            old = self._state.apps.get(id)
            if old is not None:
                if old == app or (at is None and old == attrs.evolve(app, at=old.at)):
                    return
                raise Conflict(f"application id {id!r} is already used / 申请编号已被占用")
            if self.journal.find(self.name, id) is not None:
                raise Conflict(f"id {id!r} is already used / 编号已被占用")
            volunteer = self.ledger.volunteer(volunteer_id)
            scheme = self.policy_for(when.date())
            if not 1 <= level <= scheme.top:
                raise InvalidValue("level", level, f"星级应为 1–{scheme.top} / level out of range")
            held = self.level(volunteer_id, as_of=when)
            if level <= held:
                raise InvalidValue("level", level, f"已持有 {held} 星 / already holds {held} stars")
            ban = self.banned_until(volunteer_id, as_of=when)
            if ban is not None:
                raise Conflict(
                    f"{volunteer_id} 禁止申请至 {ban.isoformat()} / barred until {ban.isoformat()}"
                )
            st = self._state
            for other in st.by_volunteer.get(volunteer_id, ()):
                if self._status(st.apps[other], when, when) in ("applied", "notice"):
                    raise Conflict(
                        f"{volunteer_id} 已有待办申请 {other} / has an open application {other}"
                    )
            rating = scheme.rate(
                volunteer, self.ledger, when, held=held, marks=st.marks.get(volunteer_id, ())
            )
            if rating.level < level:
                zh, en = star_name(level)
                raise InvalidValue(
                    "level", level, f"未达{zh}条件 / not eligible for {en}: {rating}"
                )
            tx.add(self, [app])

    def decide(
        self,
        application_id: str,
        *,
        by: str,
        approve: bool,
        reason: str,
        at: datetime | None = None,
    ) -> None:
        """Approve (public notice follows, then the grant) or reject an application.

        The decider needs :attr:`~zhiyuan.hierarchy.Action.APPROVE_STAR` over the volunteer's
        home region at the scheme's approving level for the star. Deciding the same way twice
        is a no-op; deciding otherwise is a :class:`~zhiyuan.errors.Conflict`.
        """
        with self.journal.transaction() as tx:
            when = self._when(at)
            dec = Decision(
                application_id=application_id, by=by, approve=approve, reason=reason, at=when
            )
            app = self._state.apps.get(application_id)
            if app is None:
                raise NotFound("application", application_id)
            old = self._state.decisions.get(application_id)
            if old is not None:
                if old.approve == approve:
                    return
                raise Conflict(f"application {application_id!r} is already decided / 申请已审批")
            if when < app.at:
                raise InvalidValue(
                    "at", when.isoformat(), "审批不能早于申请 / cannot decide before applying"
                )
            if self.jurisdiction is not None:
                node = self._approver_node(app.volunteer_id, app.level, when.date())
                self.jurisdiction.check(by, Action.APPROVE_STAR, node, on=when.date())
            tx.add(self, [dec])

    def revoke(
        self,
        id: str,
        volunteer_id: str,
        *,
        by: str,
        reason: str,
        at: datetime | None = None,
        falsified: bool = False,
    ) -> None:
        """Revoke every star the volunteer holds; with ``falsified``, bar new applications.

        The revoker needs authority as for the highest star held. Idempotent by id.
        """
        own_id(id, "id")
        with self.journal.transaction() as tx:
            when = self._when(at)
            years = self.policy_for(when.date()).ban_years
            ban = when.date() + relativedelta(years=years) if falsified else None
            rev = Revocation(
                id=id,
                volunteer_id=volunteer_id,
                by=by,
                reason=reason,
                falsified=falsified,
                at=when,
                banned_until=ban,
            )
            old = self._state.revocations.get(id)
            if old is not None:
                if old == rev or (
                    at is None
                    and old == attrs.evolve(rev, at=old.at, banned_until=old.banned_until)
                ):
                    return
                raise Conflict(f"revocation id {id!r} is already used / 编号已被占用")
            if self.journal.find(self.name, id) is not None:
                raise Conflict(f"id {id!r} is already used / 编号已被占用")
            self.ledger.volunteer(volunteer_id)
            held = self.level(volunteer_id, as_of=when)
            if self.jurisdiction is not None:
                node = self._approver_node(volunteer_id, max(held, 1), when.date())
                self.jurisdiction.check(by, Action.APPROVE_STAR, node, on=when.date())
            tx.add(self, [rev])

    # --- reviews ------------------------------------------------------------------------------

    def reviews(
        self,
        volunteer_id: str | None = None,
        *,
        as_of: datetime | None = None,
        open_only: bool = True,
    ) -> list[Review]:
        """Open reviews (复核), oldest first: flagged, and neither closed nor followed by a
        revocation of the volunteer's stars (as of a moment, if given); with
        ``open_only=False``, every review flagged by then.

        A :class:`~zhiyuan.platform.Platform` flags an award when reversed hours leave its
        holder rated below it and the scheme says :attr:`~zhiyuan.scoring.Lapse.REVIEW`.
        """
        cut = self._as_of(as_of)
        vid = None if volunteer_id is None else key("volunteer_id", volunteer_id)
        flag("open_only", open_only)
        with self._lock:
            st = self._state
            if not st.reviews:
                return []
            out = []
            for r in st.reviews.values():
                if (vid is not None and r.volunteer_id != vid) or (cut is not None and r.at > cut):
                    continue
                if not open_only:
                    out.append(r)
                    continue
                done = st.closed.get(r.id)
                if done is not None and (cut is None or done.at <= cut):
                    continue
                if any(
                    v.volunteer_id == r.volunteer_id
                    and v.at >= r.at
                    and (cut is None or v.at <= cut)
                    for v in st.revocations.values()
                ):
                    continue
                out.append(r)
            return out

    def close_review(
        self, review_id: str, *, by: str, reason: str, at: datetime | None = None
    ) -> None:
        """Close a review keeping the award (复核维持); to take the stars, :meth:`revoke`.

        The closer needs authority as for deciding the held level. Closing twice is a no-op.
        """
        with self.journal.transaction() as tx:
            when = self._when(at)
            review = self._state.reviews.get(key("review_id", review_id))
            if review is None:
                raise NotFound("review", review_id)
            entry = ReviewClosed(review_id=review_id, by=by, reason=reason, at=when)
            if review_id in self._state.closed:
                return
            if when < review.at:
                raise InvalidValue(
                    "at", when.isoformat(), "不能早于复核标记 / cannot close before the flag"
                )
            if self.jurisdiction is not None:
                node = self._approver_node(review.volunteer_id, review.held, when.date())
                self.jurisdiction.check(by, Action.APPROVE_STAR, node, on=when.date())
            tx.add(self, [entry])
