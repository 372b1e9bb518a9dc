"""The project book (项目台账): projects, activities and sign-ups recorded in a journal.

A :class:`ProjectBook` records the entries of :mod:`zhiyuan.projects.entries`, each checked
against the folded state before it is recorded (by the same function that folds it), and offers
the operations that make them: publishing projects and activities, signing up (with the
waiting list), accepting and declining, cancelling, signing in and out at a sign-in point, topping
up a forgotten sign-out, and 遵义's collection of needs into projects and claims. Invalid changes
raise and leave the book exactly as it was; the same entry again is a no-op, and publishing the
same project or activity again records nothing.

A sign-out or a top-up carries the :class:`~zhiyuan.hours.ServiceRecord` of the service; post it
to an :class:`~zhiyuan.hours.HourLedger` (a :class:`~zhiyuan.platform.Platform` does that in the
same transaction). All methods are thread-safe.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any, TypeVar, cast

import attrs

from zhiyuan._validators import (
    Clock,
    arg_of,
    flag,
    is_a,
    items,
    items_of,
    key,
    moment,
    names,
    non_empty,
    to_enum,
)
from zhiyuan.errors import Conflict, InvalidValue, NotFound, UnknownRegion
from zhiyuan.explain import Finding, finding, register_messages
from zhiyuan.hierarchy.tree import RegionTree
from zhiyuan.hours.records import GeoFix
from zhiyuan.hours.volunteers import Volunteer
from zhiyuan.journal import Book, Journal, Transaction
from zhiyuan.journal._ids import derive
from zhiyuan.journal._pickle import register_state_type
from zhiyuan.matching.dispatch import distance_m
from zhiyuan.matching.needbook import NeedBook
from zhiyuan.projects.entries import (
    AUTO,
    ENTRY_TYPES,
    ActivityCancelled,
    ActivityPublished,
    ActivityStatus,
    ClaimantKind,
    NeedsCollected,
    ProjectClaimed,
    ProjectClosed,
    ProjectEntry,
    ProjectPublished,
    ProjectStatus,
    Promoted,
    SignedIn,
    SignedOut,
    SignedUp,
    SignUp,
    SignUpAccepted,
    SignUpCancelled,
    SignUpDeclined,
    SignUpState,
    ToppedUp,
    Waitlisted,
)
from zhiyuan.projects.find import Opening, search
from zhiyuan.projects.fold import (
    NO_PLACES,
    Places,
    Writes,
    check_sign_in,
    check_sign_out,
    check_top_up,
    evidence_of,
    service_record,
    step,
)
from zhiyuan.projects.values import Activity, Project, Shift, SignInPoint

__all__ = ["ProjectBook", "ShiftRoster"]

register_messages(
    {
        ("projects.requirements", ""): (
            ("volunteer", "activity", "shift"),
            "{volunteer} 不符合活动 {activity} 班次 {shift} 的报名条件",
            "{volunteer} does not meet the requirements of shift {shift} of {activity}",
        ),
        ("projects.outside", ""): (
            ("activity", "region", "project", "project_region"),
            "活动 {activity} 的区划 {region} 不在项目 {project} 的区划 {project_region} 之内",
            "activity {activity} is at {region}, outside {project_region} of project {project}",
        ),
        ("projects.no_points", ""): (
            ("activity",),
            "活动 {activity} 未设签到点",
            "activity {activity} has no sign-in point",
        ),
        ("projects.no_fix", ""): (
            ("point",),
            "签到点 {point} 需要定位",
            "sign-in point {point} needs a location fix",
        ),
        ("projects.fence", ""): (
            ("point", "distance", "radius"),
            "距签到点 {point} {distance} 米，超出 {radius} 米范围",
            "{distance} m from sign-in point {point}, outside its {radius} m radius",
        ),
        ("projects.code", ""): (
            ("point",),
            "签到点 {point} 的签到码不对",
            "wrong sign-in code for point {point}",
        ),
        ("projects.qr", ""): (
            ("point",),
            "不是签到点 {point} 的二维码",
            "not the QR code of sign-in point {point}",
        ),
    }
)

_E = TypeVar("_E")
_TABLES = ("project", "activity", "signup", "places", "owner")


class _ProjectsState:
    """The folded book: projects, activities, sign-ups and places by key, which project each
    collected need went to, and indexes in the order things were recorded."""

    __slots__ = (
        "activity",
        "by_project",
        "by_shift",
        "by_volunteer",
        "latest",
        "owner",
        "places",
        "project",
        "signup",
    )

    def __init__(self) -> None:
        self.project: dict[str, ProjectStatus] = {}
        self.activity: dict[str, ActivityStatus] = {}
        self.signup: dict[tuple[str, str, str], SignUp] = {}
        self.places: dict[tuple[str, str], Places] = {}
        self.owner: dict[str, str] = {}
        self.by_project: dict[str, list[str]] = {}
        self.by_shift: dict[tuple[str, str], list[str]] = {}
        self.by_volunteer: dict[str, list[tuple[str, str, str]]] = {}
        self.latest: datetime | None = None  # the latest moment of any entry

    def get(self, table: str, key: Any) -> Any:
        return getattr(self, table).get(key)

    def put(self, table: str, key: Any, value: Any) -> None:
        d = getattr(self, table)
        if key not in d:
            if table == "activity":
                self.by_project.setdefault(value.project_id, []).append(key)
            elif table == "signup":
                self.by_shift.setdefault(key[:2], []).append(key[2])
                self.by_volunteer.setdefault(key[2], []).append(key)
        d[key] = value

    def apply(self, entry: ProjectEntry) -> None:
        _write(self, step(self, entry))
        if self.latest is None or entry.at > self.latest:
            self.latest = entry.at


register_state_type(_ProjectsState)


class _View:
    """The state as an operation sees it: recorded, with the staged entries on top."""

    __slots__ = ("over", "state")

    def __init__(self, state: _ProjectsState, staged: Iterable[ProjectEntry]) -> None:
        self.state = state
        self.over: dict[str, dict[Any, Any]] = {t: {} for t in _TABLES}
        for e in staged:
            self.apply(e)

    def get(self, table: str, key: Any) -> Any:
        over = self.over[table]
        return over[key] if key in over else self.state.get(table, key)

    def put(self, table: str, key: Any, value: Any) -> None:
        self.over[table][key] = value

    def apply(self, entry: ProjectEntry) -> None:
        _write(self, step(self, entry))


def _write(target: _ProjectsState | _View, writes: Writes) -> None:
    for table, k, value in writes:
        target.put(table, k, value)


def _text(rule: str, values: tuple[int | str, ...]) -> str:
    f = finding(rule, values)
    return f"{f.zh} / {f.en}"


def _texts(findings: Iterable[Finding]) -> str:
    return "; ".join(f"{f.zh} / {f.en}" for f in findings)


def _optional(field: str, kind: type, value: object) -> Any:
    if value is not None and not isinstance(value, kind):
        raise InvalidValue(field, value, f"需要 {kind.__name__} 或 None / need a {kind.__name__}")
    return value


def _secret_is(given: str | None, want: str) -> bool:
    """``given == want`` in time that does not depend on where they differ."""
    if given is None:
        return False
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), want.encode())


def _signup_id(aid: str, sid: str, vid: str, step_name: str, attempt: int) -> str:
    base = derive("signup", aid, sid, vid, step_name)
    return base if attempt == 1 else derive(base, attempt)


def _names(value: object) -> tuple[str, ...]:
    out = items_of("volunteers", str, value)
    for v in out:
        key("volunteers", v)
    return out


@attrs.frozen(kw_only=True)
class ShiftRoster:
    """Who holds the places of one shift, and who waits (名单), as of a moment.

    Attributes:
        activity_id: the activity.
        shift: the shift.
        pending: awaiting the organizer, in the order they signed up.
        accepted: accepted and not yet signed in.
        signed_in: signed in now.
        done: signed out or topped up.
        waitlist: the waiting list, first to be promoted first.
        declined: declined by the organizer.
        cancelled: withdrawn by the volunteer (and not signed up again).

    Example:
        >>> from datetime import datetime
        >>> from zhiyuan import SHANGHAI
        >>> s = Shift(id="am", start=datetime(2025, 5, 10, 9, tzinfo=SHANGHAI),
        ...           end=datetime(2025, 5, 10, 11, tzinfo=SHANGHAI), places=2)
        >>> r = ShiftRoster(activity_id="a1", shift=s, pending=["v1"], accepted=["v2"],
        ...                 waitlist=["v3"])
        >>> r.held, r.open_places, r
        (2, 0, <ShiftRoster a1/am: 2/2 held, 1 waiting>)
    """

    activity_id: str = attrs.field(validator=non_empty)
    shift: Shift = attrs.field(validator=is_a(Shift))
    pending: tuple[str, ...] = attrs.field(default=(), converter=_names)
    accepted: tuple[str, ...] = attrs.field(default=(), converter=_names)
    signed_in: tuple[str, ...] = attrs.field(default=(), converter=_names)
    done: tuple[str, ...] = attrs.field(default=(), converter=_names)
    waitlist: tuple[str, ...] = attrs.field(default=(), converter=_names)
    declined: tuple[str, ...] = attrs.field(default=(), converter=_names)
    cancelled: tuple[str, ...] = attrs.field(default=(), converter=_names)

    @classmethod
    def of(
        cls, activity_id: str, shift: Shift, signups: Iterable[SignUp], waitlist: Iterable[str]
    ) -> ShiftRoster:
        """The roster of the sign-ups of one shift (in the order they signed up) and its
        waiting list."""
        by: dict[SignUpState, list[str]] = {s: [] for s in SignUpState}
        for su in sorted(signups, key=lambda s: s.at):
            by[su.state].append(su.volunteer_id)
        S = SignUpState
        return cls(
            activity_id=activity_id,
            shift=shift,
            pending=by[S.PENDING],
            accepted=by[S.ACCEPTED],
            signed_in=by[S.SIGNED_IN],
            done=by[S.SIGNED_OUT] + by[S.TOPPED_UP],
            waitlist=waitlist,
            declined=by[S.DECLINED],
            cancelled=by[S.CANCELLED],
        )

    @property
    def held(self) -> int:
        """Places held: pending, accepted, signed in and done."""
        return len(self.pending) + len(self.accepted) + len(self.signed_in) + len(self.done)

    @property
    def open_places(self) -> int:
        """Places a new sign-up would take (none while anyone waits)."""
        return 0 if self.waitlist else max(self.shift.places - self.held, 0)

    def __repr__(self) -> str:
        return (
            f"<ShiftRoster {self.activity_id}/{self.shift.id}: {self.held}/{self.shift.places} "
            f"held, {len(self.waitlist)} waiting>"
        )


class ProjectBook(Book[ProjectEntry, _ProjectsState]):
    """Projects, activities and sign-ups (项目、活动、报名), a book on a journal.

    Args:
        entries: entries to add at once (checked as if added one by one, in one transaction).
        tree: the region tree: with it, an activity must lie within its project's region, and
            :meth:`find` can search by region.
        needs: the need book: with it, collected needs must have been posted there.
        journal: the journal to record in (default: a new in-memory one).
        name: the book's name in the journal (default ``projects``).
        clock: the clock of the new journal made when ``journal`` is not given.

    Example:
        >>> from datetime import date, datetime
        >>> from zhiyuan import SHANGHAI
        >>> from zhiyuan.hours import GeoFix, Volunteer
        >>> from zhiyuan.projects import Activity, Project, Shift, SignInPoint
        >>> t = lambda h, m=0: datetime(2025, 5, 10, h, m, tzinfo=SHANGHAI)
        >>> book = ProjectBook()
        >>> _ = book.publish_project(Project(id="p1", name="蓝色海湾", organization_id="o1",
        ...     region_code="370202", category="环保"), by="center", at=t(7))
        >>> gate = SignInPoint(id="gate", place=GeoFix(lat=36.0600, lon=120.3200), radius_m=300)
        >>> _ = book.publish_activity(Activity(id="a1", project_id="p1", name="海滩清洁",
        ...     region_code="370202001001", category="环保", auto_accept=True, points=[gate],
        ...     shifts=[Shift(id="am", start=t(9), end=t(11), places=1)]), by="center", at=t(7))
        >>> v1, v2 = (Volunteer(id=v, name=v, home_region="370202001001",
        ...           registered_on=date(2024, 1, 1)) for v in ("v1", "v2"))
        >>> print(book.sign_up("a1", "am", v1, at=t(8)))
        v1 @ a1/am: 已录用 / accepted
        >>> print(book.sign_up("a1", "am", v2, at=t(8)))
        v2 @ a1/am: 候补 / waitlisted
        >>> book.sign_in("a1", "am", "v1", geo=GeoFix(lat=36.0700, lon=120.3200), at=t(9))
        Traceback (most recent call last):
        ...
        zhiyuan.errors.InvalidValue: geo: GeoFix(lat=36.07, lon=120.32, accuracy_m=0): 距签到点 gate 1111 米，超出 300 米范围 / 1111 m from sign-in point gate, outside its 300 m radius
        >>> _ = book.sign_in("a1", "am", "v1", geo=GeoFix(lat=36.0601, lon=120.3200), at=t(9))
        >>> out = book.sign_out("a1", "am", "v1", geo=GeoFix(lat=36.0600, lon=120.3201), at=t(11))
        >>> out.record.id, out.record.served_minutes, out.record.evidence.value
        ('a1#am#v1', 120, 'gps')
    """

    kind = "projects"
    entry_type = ProjectEntry

    def __init__(
        self,
        entries: Iterable[ProjectEntry] = (),
        *,
        tree: RegionTree | None = None,
        needs: NeedBook | None = None,
        journal: Journal | None = None,
        name: str | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.tree = _optional("tree", RegionTree, tree)
        self.needs = _optional("needs", NeedBook, needs)
        given = items("entries", entries)
        super().__init__(journal=journal, name=name, clock=clock)
        with self.journal.transaction():
            for e in given:
                self.add(e)

    def _new_state(self) -> _ProjectsState:
        return _ProjectsState()

    def _view(self, tx: Transaction) -> _View:
        state = self._state
        return tx.view(self, lambda staged: _View(state, staged))

    def _entry_id(self, entry: ProjectEntry) -> str:
        return entry.id

    # --- the one way in -----------------------------------------------------------------------

    def add(self, entry: ProjectEntry) -> ProjectEntry:
        """Check an entry against the state (and the tree and need book, if given), then
        record it.

        The same entry again is a no-op (it is returned); another entry under a used id is a
        :class:`~zhiyuan.errors.Conflict`. Nothing changes when anything raises.
        """
        if not isinstance(entry, ENTRY_TYPES):
            raise InvalidValue("entry", type(entry).__name__, "不是项目条目 / not a project entry")
        with self.journal.transaction() as tx:
            old = self.journal.find(self.name, entry.id)
            if old is not None and old == entry:
                return old  # type: ignore[no-any-return]
            view = self._view(tx)
            step(view, entry)  # the state's objection first: it names the state
            if old is not None:
                raise Conflict(
                    f"entry id {entry.id!r} is already used by another entry / 条目编号已被占用"
                )
            self._check_outside(view, entry)
            tx.add(self, [entry])
        return entry

    def _check_outside(self, view: _View, entry: ProjectEntry) -> None:
        """What the state cannot check: the tree's regions and the need book's needs."""
        tree = self.tree
        if isinstance(entry, ProjectPublished) and tree is not None:
            if entry.project.region_code not in tree:
                raise UnknownRegion(entry.project.region_code)
        elif isinstance(entry, ActivityPublished) and tree is not None:
            a = entry.activity
            if a.region_code not in tree:
                raise UnknownRegion(a.region_code)
            p = view.get("project", a.project_id).project
            if p.region_code in tree and not tree.is_within(a.region_code, p.region_code):
                raise InvalidValue(
                    "region_code",
                    a.region_code,
                    _text("projects.outside", (a.id, a.region_code, p.id, p.region_code)),
                )
        elif isinstance(entry, NeedsCollected) and self.needs is not None:
            posted = set(self.needs.needs())
            for nid in entry.need_ids:
                if nid not in posted:
                    raise NotFound("need", nid)

    def _add(self, entry: _E) -> _E:
        return cast(_E, self.add(cast(ProjectEntry, entry)))

    # --- projects -----------------------------------------------------------------------------

    def publish_project(
        self, project: Project, *, by: str, at: datetime | None = None
    ) -> ProjectPublished:
        """项目发布: publish a project; the same project again records nothing."""
        p = arg_of("project", Project, project)
        who = key("by", by)
        with self.journal.transaction():
            eid = derive("project", p.id, "publish")
            old = self.journal.find(self.name, eid)
            if isinstance(old, ProjectPublished) and old.project == p:
                return old
            return self._add(ProjectPublished(id=eid, at=self._when(at), project=p, by=who))

    def close_project(
        self, project_id: str, *, by: str, reason: str = "", at: datetime | None = None
    ) -> ProjectClosed:
        """结项: the project takes no new activities, sign-ups, needs or claims."""
        pid = key("project_id", project_id)
        return self._add(
            ProjectClosed(
                id=derive("project", pid, "close"),
                at=self._when(at),
                project_id=pid,
                by=key("by", by),
                reason=reason,
            )
        )

    def collect(
        self, project_id: str, need_ids: Iterable[str], *, by: str, at: datetime | None = None
    ) -> NeedsCollected:
        """双向征集: gather residents' needs into a project (each need into one project only;
        with a need book, only needs posted there)."""
        pid = key("project_id", project_id)
        who = key("by", by)
        with self.journal.transaction() as tx:
            when = self._when(at)
            ps = self._view(tx).get("project", pid)
            if ps is None:
                raise NotFound("project", pid)
            return self._add(
                NeedsCollected(
                    id=derive("project", pid, "collect", ps.collections + 1),
                    at=when,
                    project_id=pid,
                    need_ids=need_ids,
                    by=who,
                )
            )

    def claim(
        self,
        project_id: str,
        claimant: str,
        *,
        kind: ClaimantKind | str = ClaimantKind.ORGANIZATION,
        by: str,
        at: datetime | None = None,
    ) -> ProjectClaimed:
        """认领: an organization takes the project on (one per project; it becomes the
        organizer of the service records from then on), or a sponsor funds it."""
        pid = key("project_id", project_id)
        who = key("claimant", claimant)
        sort = to_enum("kind", ClaimantKind, kind)
        return self._add(
            ProjectClaimed(
                id=derive("project", pid, "claim", sort.value, who),
                at=self._when(at),
                project_id=pid,
                claimant=who,
                kind=sort,
                by=key("by", by),
            )
        )

    # --- activities ---------------------------------------------------------------------------

    def publish_activity(
        self, activity: Activity, *, by: str, at: datetime | None = None
    ) -> ActivityPublished:
        """活动发布: publish (after review) an activity of an open project; the same activity
        again records nothing."""
        a = arg_of("activity", Activity, activity)
        who = key("by", by)
        with self.journal.transaction():
            eid = derive("activity", a.id, "publish")
            old = self.journal.find(self.name, eid)
            if isinstance(old, ActivityPublished) and old.activity == a:
                return old
            return self._add(ActivityPublished(id=eid, at=self._when(at), activity=a, by=who))

    def cancel_activity(
        self, activity_id: str, *, by: str, reason: str = "", at: datetime | None = None
    ) -> ActivityCancelled:
        """活动取消: nobody signs up or in any more (refused while anyone is signed in)."""
        aid = key("activity_id", activity_id)
        return self._add(
            ActivityCancelled(
                id=derive("activity", aid, "cancel"),
                at=self._when(at),
                activity_id=aid,
                by=key("by", by),
                reason=reason,
            )
        )

    # --- sign-ups -----------------------------------------------------------------------------

    def _shift(self, view: _View, activity_id: object, shift_id: object) -> tuple[Activity, Shift]:
        aid = key("activity_id", activity_id)
        sid = key("shift_id", shift_id)
        st: ActivityStatus | None = view.get("activity", aid)
        if st is None:
            raise NotFound("activity", aid)
        return st.activity, st.activity.shift(sid)

    def sign_up(
        self,
        activity_id: str,
        shift_id: str,
        volunteer: Volunteer,
        *,
        training: Iterable[str] = (),
        at: datetime | None = None,
    ) -> SignUp:
        """报名: sign ``volunteer`` up for a shift; returns the sign-up.

        It takes a free place (pending, or accepted at once if the activity accepts by itself)
        while one is free and nobody waits; otherwise it joins the waiting list (候补). The
        volunteer must meet the activity's requirements on the day of the shift (``training``:
        the trainings they completed). Refused once the shift has started, for an activity
        cancelled or a project closed, and for a volunteer already signed up (unless they
        cancelled; a declined volunteer cannot sign up again).
        """
        v = arg_of("volunteer", Volunteer, volunteer)
        with self.journal.transaction() as tx:
            when = self._when(at)
            view = self._view(tx)
            a, shift = self._shift(view, activity_id, shift_id)
            k = (a.id, shift.id, v.id)
            su: SignUp | None = view.get("signup", k)
            attempt = 1 if su is None else su.attempt + (su.state is SignUpState.CANCELLED)
            q: Places = view.get("places", k[:2]) or NO_PLACES
            free = q.held < shift.places and not q.waitlist
            kind: type[SignedUp] | type[Waitlisted] = SignedUp if free else Waitlisted
            entry = kind(
                id=_signup_id(a.id, shift.id, v.id, "signup", attempt),
                at=when,
                activity_id=a.id,
                shift_id=shift.id,
                volunteer_id=v.id,
                attempt=attempt,
            )
            step(view, entry)  # the state's objections first
            unmet = a.requirements.unmet(v, shift.day, training=training)
            if unmet:
                raise InvalidValue(
                    "volunteer",
                    v.id,
                    _text("projects.requirements", (v.id, a.id, shift.id)) + ": " + _texts(unmet),
                )
            self._add(entry)
            if free and a.auto_accept:
                self._accept(a, shift, v.id, AUTO, when, attempt)
            out: SignUp = view.get("signup", k)
            return out

    def _accept(
        self, a: Activity, shift: Shift, vid: str, by: str, when: datetime, attempt: int
    ) -> SignUpAccepted:
        return self._add(
            SignUpAccepted(
                id=_signup_id(a.id, shift.id, vid, "accept", attempt),
                at=when,
                activity_id=a.id,
                shift_id=shift.id,
                volunteer_id=vid,
                by=by,
            )
        )

    def _signup(self, view: _View, a: Activity, shift: Shift, volunteer_id: object) -> SignUp:
        vid = key("volunteer_id", volunteer_id)
        su: SignUp | None = view.get("signup", (a.id, shift.id, vid))
        if su is None:
            raise NotFound("sign-up", f"{a.id}/{shift.id}/{vid}")
        return su

    def accept(
        self,
        activity_id: str,
        shift_id: str,
        volunteer_id: str,
        *,
        by: str,
        at: datetime | None = None,
    ) -> SignUpAccepted:
        """录用: the organizer accepts a pending sign-up (never beyond the shift's places)."""
        who = key("by", by)
        with self.journal.transaction() as tx:
            when = self._when(at)
            view = self._view(tx)
            a, shift = self._shift(view, activity_id, shift_id)
            su = self._signup(view, a, shift, volunteer_id)
            return self._accept(a, shift, su.volunteer_id, who, when, su.attempt)

    def decline(
        self,
        activity_id: str,
        shift_id: str,
        volunteer_id: str,
        *,
        by: str,
        reason: str = "",
        at: datetime | None = None,
    ) -> Promoted | None:
        """不录用: the organizer declines a sign-up (pending, accepted or waitlisted) before the
        volunteer signs in. Returns the promotion of the first waiter into the freed place, if
        any (recorded with it)."""
        return self._withdraw(SignUpDeclined, activity_id, shift_id, volunteer_id, by, reason, at)

    def cancel(
        self,
        activity_id: str,
        shift_id: str,
        volunteer_id: str,
        *,
        by: str | None = None,
        reason: str = "",
        at: datetime | None = None,
    ) -> Promoted | None:
        """取消报名: the volunteer (``by``, default the volunteer) withdraws a sign-up before the
        shift starts. Returns the promotion of the first waiter into the freed place, if any
        (recorded with it)."""
        who = volunteer_id if by is None else by
        return self._withdraw(SignUpCancelled, activity_id, shift_id, volunteer_id, who, reason, at)

    def _withdraw(
        self,
        kind: type[SignUpDeclined] | type[SignUpCancelled],
        activity_id: object,
        shift_id: object,
        volunteer_id: object,
        by: object,
        reason: str,
        at: datetime | None,
    ) -> Promoted | None:
        who = key("by", by)
        with self.journal.transaction() as tx:
            when = self._when(at)
            view = self._view(tx)
            a, shift = self._shift(view, activity_id, shift_id)
            su = self._signup(view, a, shift, volunteer_id)
            step_name = "decline" if kind is SignUpDeclined else "cancel"
            self._add(
                kind(
                    id=_signup_id(a.id, shift.id, su.volunteer_id, step_name, su.attempt),
                    at=when,
                    activity_id=a.id,
                    shift_id=shift.id,
                    volunteer_id=su.volunteer_id,
                    by=who,
                    reason=reason,
                )
            )
            return self._promote(view, a, shift, when)

    def _promote(self, view: _View, a: Activity, shift: Shift, when: datetime) -> Promoted | None:
        """Give a free place to the first on the waiting list (accepting them too, if the
        activity accepts by itself)."""
        q: Places = view.get("places", (a.id, shift.id)) or NO_PLACES
        if not q.waitlist or q.held >= shift.places:
            return None
        vid = q.waitlist[0]
        su: SignUp = view.get("signup", (a.id, shift.id, vid))
        out = self._add(
            Promoted(
                id=_signup_id(a.id, shift.id, vid, "promote", su.attempt),
                at=when,
                activity_id=a.id,
                shift_id=shift.id,
                volunteer_id=vid,
            )
        )
        if a.auto_accept:
            self._accept(a, shift, vid, AUTO, when, su.attempt)
        return out

    # --- signing in and out -------------------------------------------------------------------

    def sign_in(
        self,
        activity_id: str,
        shift_id: str,
        volunteer_id: str,
        *,
        geo: GeoFix | None = None,
        code: str | None = None,
        qr: str | None = None,
        at: datetime | None = None,
    ) -> SignedIn:
        """签到: an accepted volunteer signs in at one of the activity's sign-in points, from
        the activity's ``early_minutes`` before the shift until it ends.

        A point takes the sign-in when every check it names passes: ``geo`` within its fence
        (:func:`~zhiyuan.matching.distance_m`), ``code`` its 6-digit code, ``qr`` its token.
        Otherwise :class:`~zhiyuan.errors.InvalidValue` says what failed at each point, with
        the distance and the radius of a fence.
        """
        with self.journal.transaction() as tx:
            when = self._when(at)
            view = self._view(tx)
            a, shift = self._shift(view, activity_id, shift_id)
            su = self._signup(view, a, shift, volunteer_id)
            check_sign_in(a, shift, su, when)
            point, dist = _credentials(a, geo, code, qr)
            return self._add(
                SignedIn(
                    id=_signup_id(a.id, shift.id, su.volunteer_id, "sign_in", su.attempt),
                    at=when,
                    activity_id=a.id,
                    shift_id=shift.id,
                    volunteer_id=su.volunteer_id,
                    point_id=point.id,
                    evidence=evidence_of(point),
                    geo=geo,
                    distance_m=dist,
                )
            )

    def sign_out(
        self,
        activity_id: str,
        shift_id: str,
        volunteer_id: str,
        *,
        geo: GeoFix | None = None,
        code: str | None = None,
        qr: str | None = None,
        at: datetime | None = None,
    ) -> SignedOut:
        """签退: a signed-in volunteer signs out at a sign-in point (checked as a sign-in is),
        until the activity's ``late_minutes`` after the shift ends (later, an administrator
        tops it up). The entry carries the service record: from the sign-in to now, the
        sign-in's evidence, the shift as the schedule, the project's organizer."""
        with self.journal.transaction() as tx:
            when = self._when(at)
            view = self._view(tx)
            a, shift = self._shift(view, activity_id, shift_id)
            su = self._signup(view, a, shift, volunteer_id)
            signed_in = check_sign_out(a, shift, su, when)
            point, dist = _credentials(a, geo, code, qr)
            st: ActivityStatus = view.get("activity", a.id)
            organizer = view.get("project", a.project_id).organizer
            return self._add(
                SignedOut(
                    id=_signup_id(a.id, shift.id, su.volunteer_id, "sign_out", su.attempt),
                    at=when,
                    activity_id=a.id,
                    shift_id=shift.id,
                    volunteer_id=su.volunteer_id,
                    point_id=point.id,
                    evidence=evidence_of(point),
                    geo=geo,
                    distance_m=dist,
                    record=service_record(st, organizer, shift, su, signed_in, when, when),
                )
            )

    def top_up(
        self,
        activity_id: str,
        shift_id: str,
        volunteer_id: str,
        *,
        by: str,
        end: datetime | None = None,
        reason: str = "",
        at: datetime | None = None,
    ) -> ToppedUp:
        """补录: close a forgotten sign-out, from the sign-in to ``end`` (default: the shift's
        end). ``end`` must lie inside the shift's schedule (after its start, at the latest its
        end), after the sign-in and not in the future; the record is marked
        ``checkout_missing`` with evidence ``admin_topup`` (荣誉时长), ``reason`` as its note."""
        who = key("by", by)
        with self.journal.transaction() as tx:
            when = self._when(at)
            view = self._view(tx)
            a, shift = self._shift(view, activity_id, shift_id)
            su = self._signup(view, a, shift, volunteer_id)
            stop = shift.end if end is None else moment(end, "end")
            signed_in = check_top_up(a, shift, su, stop, when)
            st: ActivityStatus = view.get("activity", a.id)
            organizer = view.get("project", a.project_id).organizer
            record = service_record(
                st, organizer, shift, su, signed_in, stop, when, top_up=True, note=reason
            )
            return self._add(
                ToppedUp(
                    id=_signup_id(a.id, shift.id, su.volunteer_id, "top_up", su.attempt),
                    at=when,
                    activity_id=a.id,
                    shift_id=shift.id,
                    volunteer_id=su.volunteer_id,
                    by=who,
                    record=record,
                    reason=reason,
                )
            )

    # --- reading ------------------------------------------------------------------------------

    def _state_as_of(self, as_of: object) -> _ProjectsState:
        """The state now (the caller holds the lock), or folded from the entries up to
        ``as_of``."""
        when = self._as_of(as_of)
        latest = self._state.latest
        if when is None or latest is None or when >= latest:
            return self._state
        state = _ProjectsState()
        for e in self.entries:
            if e.at <= when:
                state.apply(e)
        return state

    def __len__(self) -> int:
        return len(self.journal.entries(self.name))

    def __iter__(self) -> Iterator[ProjectEntry]:
        return iter(self.entries)

    def projects(self) -> tuple[str, ...]:
        """The ids of every published project, in the order published."""
        with self._lock:
            return tuple(self._state.project)

    def project(self, project_id: str, *, as_of: datetime | None = None) -> ProjectStatus:
        """A project's status now, or as of a moment; :class:`~zhiyuan.errors.NotFound` for
        one not published (by then)."""
        pid = key("project_id", project_id)
        with self._lock:
            ps = self._state_as_of(as_of).project.get(pid)
        if ps is None:
            raise NotFound("project", pid)
        return ps

    def activities(self, project_id: str | None = None) -> tuple[str, ...]:
        """The ids of every published activity (of one project), in the order published."""
        with self._lock:
            if project_id is None:
                return tuple(self._state.activity)
            return tuple(self._state.by_project.get(key("project_id", project_id), ()))

    def activity(self, activity_id: str, *, as_of: datetime | None = None) -> ActivityStatus:
        """An activity's status now, or as of a moment."""
        aid = key("activity_id", activity_id)
        with self._lock:
            st = self._state_as_of(as_of).activity.get(aid)
        if st is None:
            raise NotFound("activity", aid)
        return st

    def signup(
        self,
        activity_id: str,
        shift_id: str,
        volunteer_id: str,
        *,
        as_of: datetime | None = None,
    ) -> SignUp:
        """One volunteer's sign-up for one shift, now or as of a moment."""
        k = (
            key("activity_id", activity_id),
            key("shift_id", shift_id),
            key("volunteer_id", volunteer_id),
        )
        with self._lock:
            su = self._state_as_of(as_of).signup.get(k)
        if su is None:
            raise NotFound("sign-up", "/".join(k))
        return su

    def signups_of(self, volunteer_id: str) -> tuple[SignUp, ...]:
        """A volunteer's sign-ups, in the order they first signed up for each shift."""
        vid = key("volunteer_id", volunteer_id)
        with self._lock:
            st = self._state
            return tuple(st.signup[k] for k in st.by_volunteer.get(vid, ()))

    def roster(
        self, activity_id: str, shift_id: str, *, as_of: datetime | None = None
    ) -> ShiftRoster:
        """Who holds the places of a shift and who waits, now or as of a moment."""
        aid = key("activity_id", activity_id)
        sid = key("shift_id", shift_id)
        with self._lock:
            state = self._state_as_of(as_of)
            st = state.activity.get(aid)
            if st is None:
                raise NotFound("activity", aid)
            shift = st.activity.shift(sid)
            signups = [state.signup[(aid, sid, v)] for v in state.by_shift.get((aid, sid), ())]
            q = state.places.get((aid, sid), NO_PLACES)
        return ShiftRoster.of(aid, shift, signups, q.waitlist)

    def find(
        self,
        *,
        region: object | None = None,
        near: GeoFix | None = None,
        within_m: int | None = None,
        category: str | Iterable[str] | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        open_only: bool = True,
        as_of: datetime | None = None,
    ) -> list[Opening]:
        """找活动: the shifts that meet every criterion given, nearest first, then by start, each
        with the reasons it matched.

        Args:
            region: a region code: activities within its subtree (needs the book's ``tree``).
            near: a point; results are ordered by the distance from it to the activity's
                nearest sign-in point with a place (activities with none come last).
            within_m: with ``near``, at most this many metres away (an activity with no
                placed sign-in point is left out).
            category: a category, or several.
            start: only shifts starting at or after this moment.
            end: only shifts ending at or before this moment.
            open_only: only shifts a volunteer can still sign up for at ``as_of`` (default
                now): not started, with a free place and nobody waiting, of an activity not
                cancelled and a project not closed.
            as_of: search the book as of this moment (default: now, everything recorded).
        """
        if region is not None and self.tree is None:
            raise InvalidValue(
                "region", region, "按区划查找需要区划树 / searching by region needs the tree"
            )
        _optional("near", GeoFix, near)
        if within_m is not None:
            if near is None:
                raise InvalidValue("within_m", within_m, "需要 near / give near as well")
            _check_metres(within_m)
        categories = names("category", [category] if isinstance(category, str) else category)
        lo = None if start is None else moment(start, "start")
        hi = None if end is None else moment(end, "end")
        flag("open_only", open_only)
        when = self._when(as_of, "as_of")
        code = None
        if region is not None:
            assert self.tree is not None
            code = self.tree[region].code  # UnknownRegion for an unknown one
        with self._lock:
            state = self._state_as_of(as_of)
            return search(
                state.activity.values(),
                state.project.__getitem__,
                lambda aid, sid: _taken(state.places.get((aid, sid), NO_PLACES)),
                tree=self.tree,
                region=code,
                near=near,
                within_m=within_m,
                categories=categories,
                start=lo,
                end=hi,
                open_only=open_only,
                now=when,
            )


def _taken(q: Places) -> tuple[int, int]:
    return q.held, len(q.waitlist)


def _check_metres(value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 40_100_000:
        raise InvalidValue(
            "within_m", value, "需要 0 以上的整数米数 / need whole metres, 0 or more"
        )


def _credentials(
    activity: Activity, geo: object, code: object, qr: object
) -> tuple[SignInPoint, int | None]:
    """The first sign-in point whose every check passes, and the distance of ``geo`` from it
    (``None`` if it has no place or no fix was given); else an
    :class:`~zhiyuan.errors.InvalidValue` naming what failed at each point."""
    fix = _optional("geo", GeoFix, geo)
    given_code = _optional("code", str, code)
    token = _optional("qr", str, qr)
    if not activity.points:
        raise Conflict(_text("projects.no_points", (activity.id,)))
    problems: list[tuple[str, Finding]] = []
    for p in activity.points:
        failed: list[tuple[str, Finding]] = []
        dist: int | None = None
        if fix is not None and p.place is not None:
            dist = distance_m(fix, p.place)
        if p.place is not None:
            if dist is None:
                failed.append(("geo", finding("projects.no_fix", (p.id,))))
            elif dist > p.radius_m:
                failed.append(("geo", finding("projects.fence", (p.id, dist, p.radius_m))))
        if p.code is not None and not _secret_is(given_code, p.code):
            failed.append(("code", finding("projects.code", (p.id,))))
        if p.qr is not None and not _secret_is(token, p.qr):
            failed.append(("qr", finding("projects.qr", (p.id,))))
        if not failed:
            return p, dist
        problems.extend(failed)
    field = problems[0][0]
    shown = {"geo": fix, "code": given_code, "qr": token}[field]
    raise InvalidValue(field, shown, _texts(f for _, f in problems))
