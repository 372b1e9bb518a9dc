"""The fold of the project book: what an entry may follow and what it changes, as one function
(:func:`step`) that the book checks entries with and folds them with, and the checks and the
service record that a sign-in, a sign-out and a top-up share with the book's operations.

Example:
    >>> from datetime import datetime
    >>> from zhiyuan import SHANGHAI
    >>> from zhiyuan.projects import Activity, Project, Shift, SignInPoint
    >>> from zhiyuan.projects.entries import ActivityPublished, ProjectPublished, SignedUp
    >>> t = lambda h: datetime(2025, 5, 10, h, tzinfo=SHANGHAI)
    >>> class Tables(dict):
    ...     def get(self, table, key): return super().get((table, key))
    ...     def put(self, table, key, value): self[table, key] = value
    >>> state = Tables()
    >>> def record(e):
    ...     for table, key, value in step(state, e):
    ...         state.put(table, key, value)
    >>> record(ProjectPublished(id="p", at=t(7), by="center", project=Project(
    ...     id="p1", name="清洁", organization_id="o1", region_code="370202", category="环保")))
    >>> record(ActivityPublished(id="a", at=t(7), by="center", activity=Activity(
    ...     id="a1", project_id="p1", name="海滩清洁", region_code="370202001001",
    ...     category="环保", shifts=[Shift(id="am", start=t(9), end=t(11), places=1)],
    ...     points=[SignInPoint(id="gate", code="204816")])))
    >>> record(SignedUp(id="s1", at=t(8), activity_id="a1", shift_id="am", volunteer_id="v1"))
    >>> record(SignedUp(id="s2", at=t(8), activity_id="a1", shift_id="am", volunteer_id="v2"))
    Traceback (most recent call last):
    ...
    zhiyuan.errors.Conflict: 活动 a1 班次 am 没有空余名额（共 1 个）或有人候补 / shift am of a1 has no free place (1 in all) or someone waits
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Protocol

import attrs

from zhiyuan.errors import Conflict, InvalidValue, NotFound
from zhiyuan.explain import finding, register_messages
from zhiyuan.hours.records import Evidence, ServiceRecord
from zhiyuan.projects.entries import (
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
from zhiyuan.projects.values import Activity, Shift, SignInPoint

__all__ = [
    "NO_PLACES",
    "Places",
    "Tables",
    "Writes",
    "check_sign_in",
    "check_sign_out",
    "check_top_up",
    "evidence_of",
    "service_record",
    "sign_in_window",
    "sign_out_closes",
    "state_conflict",
    "step",
]


register_messages(
    {
        ("projects.state", ""): (
            ("volunteer", "activity", "shift", "state_zh", "state", "action_zh", "action"),
            "{volunteer} 在活动 {activity} 班次 {shift} 的报名为「{state_zh}」，不能{action_zh}",
            "the sign-up of {volunteer} for shift {shift} of {activity} is {state}: "
            "cannot {action}",
        ),
        ("projects.full", ""): (
            ("activity", "shift", "places"),
            "活动 {activity} 班次 {shift} 没有空余名额（共 {places} 个）或有人候补",
            "shift {shift} of {activity} has no free place ({places} in all) or someone waits",
        ),
        ("projects.not_first", ""): (
            ("volunteer", "activity", "shift", "first"),
            "活动 {activity} 班次 {shift} 候补第一位是 {first}，不是 {volunteer}",
            "{first}, not {volunteer}, is first on the waiting list of shift {shift} of {activity}",
        ),
        ("projects.started", ""): (
            ("activity", "shift", "start", "action_zh", "action"),
            "活动 {activity} 班次 {shift} 已于 {start} 开始，不能{action_zh}",
            "shift {shift} of {activity} started at {start}: cannot {action}",
        ),
        ("projects.sign_in_window", ""): (
            ("activity", "shift", "opens", "closes"),
            "活动 {activity} 班次 {shift} 的签到时间为 {opens} 至 {closes}（不含）",
            "sign-in to shift {shift} of {activity} is open from {opens} until {closes}",
        ),
        ("projects.sign_out_window", ""): (
            ("activity", "shift", "closes"),
            "活动 {activity} 班次 {shift} 的签退已于 {closes} 截止，请管理员补录",
            "sign-out from shift {shift} of {activity} closed at {closes}; "
            "an administrator tops it up (补录)",
        ),
        ("projects.after_sign_in", ""): (
            ("signed_in",),
            "须晚于签到时间 {signed_in}",
            "must be after the sign-in at {signed_in}",
        ),
        ("projects.topup_window", ""): (
            ("start", "end"),
            "补录的结束时间须在班次计划时段内（晚于 {start}，不晚于 {end}）",
            "a top-up ends inside the shift's schedule: after {start}, at the latest {end}",
        ),
        ("projects.cancelled", ""): (
            ("activity", "action_zh", "action"),
            "活动 {activity} 已取消，不能{action_zh}",
            "activity {activity} is cancelled: cannot {action}",
        ),
        ("projects.closed", ""): (
            ("project", "action_zh", "action"),
            "项目 {project} 已结项，不能{action_zh}",
            "project {project} is closed: cannot {action}",
        ),
        ("projects.present", ""): (
            ("activity", "count"),
            "活动 {activity} 尚有 {count} 人已签到未签退，请先签退或补录",
            "{count} volunteers are signed in to activity {activity} and not out: "
            "sign them out or top them up first",
        ),
        ("projects.published", ""): (
            ("what_zh", "what", "id"),
            "{what_zh} {id} 已发布",
            "{what} {id} is already published",
        ),
        ("projects.elsewhere", ""): (
            ("activity", "project"),
            "活动 {activity} 属于项目 {project}",
            "activity {activity} belongs to project {project}",
        ),
        ("projects.collected", ""): (
            ("need", "project"),
            "需求 {need} 已征集到项目 {project}",
            "need {need} is already collected into project {project}",
        ),
        ("projects.claimed", ""): (
            ("project", "claimant"),
            "项目 {project} 已由组织 {claimant} 认领",
            "project {project} is already claimed by organization {claimant}",
        ),
        ("projects.sponsored", ""): (
            ("project", "claimant"),
            "{claimant} 已认领项目 {project}",
            "{claimant} already claimed project {project}",
        ),
        ("projects.backwards", ""): (
            ("what", "id", "last"),
            "早于{what} {id} 的上一条记录（{last}）",
            "before the last entry of {what} {id} ({last})",
        ),
        ("projects.point_check", ""): (
            ("point",),
            "签到点 {point} 的核验与记录不符",
            "the checks recorded do not match sign-in point {point}",
        ),
        ("projects.record", ""): (
            ("id",),
            "服务记录 {id} 与签到签退不符",
            "the service record does not follow from the sign-in: {id}",
        ),
    }
)


_SIGNUP_TYPES = (
    SignedUp,
    Waitlisted,
    Promoted,
    SignUpAccepted,
    SignUpDeclined,
    SignUpCancelled,
    SignedIn,
    SignedOut,
    ToppedUp,
)

_ACTIONS: dict[type[Any], tuple[str, str]] = {
    ProjectPublished: ("发布项目", "publish"),
    ProjectClosed: ("结项", "close"),
    NeedsCollected: ("征集需求", "collect needs"),
    ProjectClaimed: ("认领", "claim"),
    ActivityPublished: ("发布活动", "publish an activity"),
    ActivityCancelled: ("取消活动", "cancel"),
    SignedUp: ("报名", "sign up"),
    Waitlisted: ("报名", "sign up"),
    Promoted: ("递补", "be promoted"),
    SignUpAccepted: ("录用", "accept"),
    SignUpDeclined: ("不录用", "decline"),
    SignUpCancelled: ("取消报名", "cancel"),
    SignedIn: ("签到", "sign in"),
    SignedOut: ("签退", "sign out"),
    ToppedUp: ("补录", "top up"),
}


_WITHDRAWABLE = frozenset({SignUpState.PENDING, SignUpState.ACCEPTED, SignUpState.WAITLISTED})


def _text(rule: str, values: tuple[int | str, ...]) -> str:
    f = finding(rule, values)
    return f"{f.zh} / {f.en}"


@attrs.frozen
class Places:
    """How a shift's places are taken: held (pending and past), accepted and past, signed in
    now, and the waiting list in order."""

    held: int = 0
    accepted: int = 0
    present: int = 0
    waitlist: tuple[str, ...] = ()


NO_PLACES = Places()

# --- the fold ----------------------------------------------------------------------------------


class Tables(Protocol):
    """What :func:`step` reads and writes: a table of values by key (``project``, ``activity``,
    ``signup``, ``places``, ``owner``)."""

    def get(self, table: str, key: Any) -> Any:
        """The value under ``key`` in ``table``, or ``None``."""

    def put(self, table: str, key: Any, value: Any) -> None:
        """Set the value under ``key`` in ``table``."""


Writes = list[tuple[str, Any, Any]]


def _conflict(rule: str, values: tuple[int | str, ...]) -> Conflict:
    return Conflict(_text(rule, values))


def _action(entry: object) -> tuple[str, str]:
    """The Chinese and English name of what an entry (or an entry class) does."""
    return _ACTIONS[entry if isinstance(entry, type) else type(entry)]


def _project(t: Tables, pid: str) -> ProjectStatus:
    ps: ProjectStatus | None = t.get("project", pid)
    if ps is None:
        raise NotFound("project", pid)
    return ps


def _activity(t: Tables, aid: str) -> ActivityStatus:
    st: ActivityStatus | None = t.get("activity", aid)
    if st is None:
        raise NotFound("activity", aid)
    return st


def _not_before(last: datetime, at: datetime, what: str, ident: str) -> None:
    if at < last:
        raise InvalidValue(
            "at", at.isoformat(), _text("projects.backwards", (what, ident, last.isoformat()))
        )


def state_conflict(su: SignUp, entry: object) -> Conflict:
    """The :class:`~zhiyuan.errors.Conflict` of an entry (or an entry class) a sign-up's state
    does not allow (it names the state and the action)."""
    zh, en = _action(entry)
    s = su.state
    return _conflict(
        "projects.state",
        (su.volunteer_id, su.activity_id, su.shift_id, s.zh, s.value, zh, en),
    )


def sign_in_window(activity: Activity, shift: Shift) -> tuple[datetime, datetime]:
    """When volunteers may sign in: from ``early_minutes`` before the shift starts until it
    ends (excluded)."""
    return shift.start - timedelta(minutes=activity.early_minutes), shift.end


def sign_out_closes(activity: Activity, shift: Shift) -> datetime:
    """The last moment a volunteer may sign out: ``late_minutes`` after the shift ends."""
    return shift.end + timedelta(minutes=activity.late_minutes)


def check_sign_in(activity: Activity, shift: Shift, su: SignUp | None, at: datetime) -> SignUp:
    """Raise unless the sign-up may sign in at ``at`` (accepted, inside the window)."""
    if su is None:
        raise NotFound("sign-up", f"{activity.id}/{shift.id}")
    if su.state is not SignUpState.ACCEPTED:
        raise state_conflict(su, SignedIn)
    opens, closes = sign_in_window(activity, shift)
    if not opens <= at < closes:
        raise _conflict(
            "projects.sign_in_window",
            (activity.id, shift.id, opens.isoformat(), closes.isoformat()),
        )
    return su


def check_sign_out(activity: Activity, shift: Shift, su: SignUp | None, at: datetime) -> SignedIn:
    """Raise unless the sign-up may sign out at ``at``; returns its sign-in."""
    if su is None:
        raise NotFound("sign-up", f"{activity.id}/{shift.id}")
    if su.state is not SignUpState.SIGNED_IN or su.signed_in is None:
        raise state_conflict(su, SignedOut)
    closes = sign_out_closes(activity, shift)
    if at > closes:
        raise _conflict("projects.sign_out_window", (activity.id, shift.id, closes.isoformat()))
    if at <= su.signed_in.at:
        raise InvalidValue(
            "at", at.isoformat(), _text("projects.after_sign_in", (su.signed_in.at.isoformat(),))
        )
    return su.signed_in


def check_top_up(
    activity: Activity, shift: Shift, su: SignUp | None, end: datetime, at: datetime
) -> SignedIn:
    """Raise unless the sign-up may be topped up to ``end`` at ``at``: signed in and not out,
    ``end`` after the sign-in, inside the shift's schedule and not after ``at``; returns the
    sign-in."""
    if su is None:
        raise NotFound("sign-up", f"{activity.id}/{shift.id}")
    if su.state is not SignUpState.SIGNED_IN or su.signed_in is None:
        raise state_conflict(su, ToppedUp)
    if not shift.start < end <= shift.end:
        raise InvalidValue(
            "end",
            end.isoformat(),
            _text("projects.topup_window", (shift.start.isoformat(), shift.end.isoformat())),
        )
    if end <= su.signed_in.at:
        raise InvalidValue(
            "end", end.isoformat(), _text("projects.after_sign_in", (su.signed_in.at.isoformat(),))
        )
    if end > at:
        raise InvalidValue(
            "end",
            end.isoformat(),
            f"补录不能记未来的时间 {at.isoformat()} / a top-up cannot end in the future",
        )
    return su.signed_in


def evidence_of(point: SignInPoint) -> Evidence:
    """The evidence a sign-in at ``point`` gives: a QR scan if the point has a token, else its
    sign-in code, else the GPS fence."""
    if point.qr is not None:
        return Evidence.QR_SCAN
    if point.code is not None:
        return Evidence.SIGN_IN_CODE
    return Evidence.GPS


def service_record(
    status: ActivityStatus,
    organizer: str,
    shift: Shift,
    su: SignUp,
    signed_in: SignedIn,
    end: datetime,
    at: datetime,
    *,
    top_up: bool = False,
    note: str = "",
) -> ServiceRecord:
    """The service record of a sign-up, from the sign-in to ``end``, recorded at ``at``: the
    activity, its region and category, the shift as the schedule, ``organizer`` as the
    organization; a top-up is marked ``checkout_missing`` with evidence ``admin_topup``."""
    a = status.activity
    return ServiceRecord(
        id=su.ref,
        volunteer_id=su.volunteer_id,
        activity_id=a.id,
        organization_id=organizer,
        region_code=a.region_code,
        category=a.category,
        start=signed_in.at,
        end=end,
        evidence=Evidence.ADMIN_TOPUP if top_up else signed_in.evidence,
        geo=signed_in.geo,
        scheduled_start=shift.start,
        scheduled_end=shift.end,
        checkout_missing=top_up,
        recorded_at=at,
        note=note,
    )


def _check_point(activity: Activity, e: SignedIn | SignedOut) -> None:
    point = activity.point(e.point_id)
    fence_ok = point.place is None or (
        e.geo is not None and e.distance_m is not None and e.distance_m <= point.radius_m
    )
    if e.evidence is not evidence_of(point) or not fence_ok:
        raise InvalidValue("point_id", e.point_id, _text("projects.point_check", (e.point_id,)))


def step(t: Tables, e: ProjectEntry) -> Writes:
    """What recording ``e`` on the state ``t`` changes: ``(table, key, value)`` writes. Raises,
    changing nothing, when the state does not allow ``e``: :class:`~zhiyuan.errors.Conflict`
    naming the state, :class:`~zhiyuan.errors.NotFound` for an unknown project, activity, shift
    or sign-up, :class:`~zhiyuan.errors.InvalidValue` for a date before the last entry of its
    project or activity, or a record or check that does not follow from the state."""
    if isinstance(e, ProjectPublished):
        pid = e.project.id
        if t.get("project", pid) is not None:
            raise _conflict("projects.published", ("项目", "project", pid))
        return [("project", pid, ProjectStatus(project=e.project, published_at=e.at, last_at=e.at))]
    if isinstance(e, (ProjectClosed, NeedsCollected, ProjectClaimed)):
        return _project_step(t, e)
    if isinstance(e, ActivityPublished):
        a = e.activity
        if t.get("activity", a.id) is not None:
            raise _conflict("projects.published", ("活动", "activity", a.id))
        ps = _project(t, a.project_id)
        _not_before(ps.last_at, e.at, "project", ps.project_id)
        if ps.closed is not None:
            raise _conflict("projects.closed", (ps.project_id, *_action(e)))
        return [
            ("activity", a.id, ActivityStatus(activity=a, published_at=e.at, last_at=e.at)),
            ("project", ps.project_id, attrs.evolve(ps, last_at=e.at)),
        ]
    st = _activity(t, e.activity_id)
    _not_before(st.last_at, e.at, "activity", st.activity_id)
    writes: Writes = [("activity", st.activity_id, attrs.evolve(st, last_at=e.at))]
    if isinstance(e, ActivityCancelled):
        if st.cancelled is not None:
            raise _conflict("projects.cancelled", (st.activity_id, *_action(e)))
        present = sum(
            (t.get("places", (st.activity_id, s.id)) or NO_PLACES).present
            for s in st.activity.shifts
        )
        if present:
            raise _conflict("projects.present", (st.activity_id, present))
        writes[0] = ("activity", st.activity_id, attrs.evolve(st, last_at=e.at, cancelled=e))
        return writes
    if st.cancelled is not None:
        raise _conflict("projects.cancelled", (st.activity_id, *_action(e)))
    writes.extend(_signup_step(t, st, e))
    return writes


def _project_step(t: Tables, e: ProjectClosed | NeedsCollected | ProjectClaimed) -> Writes:
    ps = _project(t, e.project_id)
    _not_before(ps.last_at, e.at, "project", ps.project_id)
    if ps.closed is not None:
        raise _conflict("projects.closed", (ps.project_id, *_action(e)))
    if isinstance(e, ProjectClosed):
        return [("project", ps.project_id, attrs.evolve(ps, last_at=e.at, closed=e))]
    if isinstance(e, NeedsCollected):
        writes: Writes = []
        for nid in e.need_ids:
            owner = t.get("owner", nid)
            if owner is not None:
                raise _conflict("projects.collected", (nid, owner))
            writes.append(("owner", nid, ps.project_id))
        after = attrs.evolve(
            ps, last_at=e.at, needs=ps.needs + e.need_ids, collections=ps.collections + 1
        )
        return [*writes, ("project", ps.project_id, after)]
    for c in ps.claims:
        if c.kind is e.kind is ClaimantKind.ORGANIZATION:
            raise _conflict("projects.claimed", (ps.project_id, c.claimant))
        if c.kind is e.kind and c.claimant == e.claimant:
            raise _conflict("projects.sponsored", (ps.project_id, c.claimant))
    return [("project", ps.project_id, attrs.evolve(ps, last_at=e.at, claims=(*ps.claims, e)))]


def _signup_step(t: Tables, st: ActivityStatus, e: ProjectEntry) -> Writes:
    assert isinstance(e, _SIGNUP_TYPES)
    a = st.activity
    shift = a.shift(e.shift_id)
    vid = e.volunteer_id
    key = (a.id, shift.id, vid)
    pkey = (a.id, shift.id)
    su: SignUp | None = t.get("signup", key)
    q: Places = t.get("places", pkey) or NO_PLACES
    S = SignUpState
    if isinstance(e, (SignedUp, Waitlisted)):
        ps = _project(t, a.project_id)
        if ps.closed is not None:
            raise _conflict("projects.closed", (ps.project_id, *_action(e)))
        if e.at >= shift.start:
            raise _conflict(
                "projects.started", (a.id, shift.id, shift.start.isoformat(), *_action(e))
            )
        if su is not None and su.state is not S.CANCELLED:
            raise state_conflict(su, e)
        want = 1 if su is None else su.attempt + 1
        if e.attempt != want:
            raise InvalidValue(
                "attempt", e.attempt, f"应为第 {want} 次报名 / this is sign-up number {want}"
            )
        if isinstance(e, SignedUp):
            if q.held >= shift.places or q.waitlist:
                raise _conflict("projects.full", (a.id, shift.id, shift.places))
            new = SignUp(
                activity_id=a.id,
                shift_id=shift.id,
                volunteer_id=vid,
                state=S.PENDING,
                attempt=e.attempt,
                at=e.at,
            )
            return [("signup", key, new), ("places", pkey, attrs.evolve(q, held=q.held + 1))]
        new = SignUp(
            activity_id=a.id,
            shift_id=shift.id,
            volunteer_id=vid,
            state=S.WAITLISTED,
            attempt=e.attempt,
            at=e.at,
        )
        return [
            ("signup", key, new),
            ("places", pkey, attrs.evolve(q, waitlist=(*q.waitlist, vid))),
        ]
    if su is None:
        raise NotFound("sign-up", f"{a.id}/{shift.id}/{vid}")
    if isinstance(e, Promoted):
        if su.state is not S.WAITLISTED:
            raise state_conflict(su, e)
        if q.waitlist[0] != vid:
            raise _conflict("projects.not_first", (vid, a.id, shift.id, q.waitlist[0]))
        if q.held >= shift.places:
            raise _conflict("projects.full", (a.id, shift.id, shift.places))
        return [
            ("signup", key, attrs.evolve(su, state=S.PENDING)),
            ("places", pkey, attrs.evolve(q, held=q.held + 1, waitlist=q.waitlist[1:])),
        ]
    if isinstance(e, SignUpAccepted):
        if su.state is not S.PENDING:
            raise state_conflict(su, e)
        if q.accepted >= shift.places:
            raise _conflict("projects.full", (a.id, shift.id, shift.places))
        return [
            ("signup", key, attrs.evolve(su, state=S.ACCEPTED)),
            ("places", pkey, attrs.evolve(q, accepted=q.accepted + 1)),
        ]
    if isinstance(e, (SignUpDeclined, SignUpCancelled)):
        if su.state not in _WITHDRAWABLE:
            raise state_conflict(su, e)
        if isinstance(e, SignUpCancelled) and e.at >= shift.start:
            raise _conflict(
                "projects.started", (a.id, shift.id, shift.start.isoformat(), *_action(e))
            )
        after = S.DECLINED if isinstance(e, SignUpDeclined) else S.CANCELLED
        if su.state is S.WAITLISTED:
            freed = attrs.evolve(q, waitlist=tuple(w for w in q.waitlist if w != vid))
        else:
            freed = attrs.evolve(q, held=q.held - 1, accepted=q.accepted - (su.state is S.ACCEPTED))
        return [("signup", key, attrs.evolve(su, state=after)), ("places", pkey, freed)]
    if isinstance(e, SignedIn):
        check_sign_in(a, shift, su, e.at)
        _check_point(a, e)
        return [
            ("signup", key, attrs.evolve(su, state=S.SIGNED_IN, signed_in=e)),
            ("places", pkey, attrs.evolve(q, present=q.present + 1)),
        ]
    organizer = _project(t, a.project_id).organizer
    if isinstance(e, SignedOut):
        signed_in = check_sign_out(a, shift, su, e.at)
        _check_point(a, e)
        want_record = service_record(st, organizer, shift, su, signed_in, e.at, e.at)
        if e.record != want_record:
            raise InvalidValue("record", e.record.id, _text("projects.record", (e.record.id,)))
        return [
            ("signup", key, attrs.evolve(su, state=S.SIGNED_OUT, signed_out=e)),
            ("places", pkey, attrs.evolve(q, present=q.present - 1)),
        ]
    assert isinstance(e, ToppedUp)
    signed_in = check_top_up(a, shift, su, e.record.end, e.at)
    want_record = service_record(
        st, organizer, shift, su, signed_in, e.record.end, e.at, top_up=True, note=e.reason
    )
    if e.record != want_record:
        raise InvalidValue("record", e.record.id, _text("projects.record", (e.record.id,)))
    return [
        ("signup", key, attrs.evolve(su, state=S.TOPPED_UP, topped_up=e)),
        ("places", pkey, attrs.evolve(q, present=q.present - 1)),
    ]
