"""The entries of the project book and their fold: everything that happens to a project, an
activity and a volunteer's sign-up, as immutable facts, and the states they add up to.

Projects (项目): :class:`ProjectPublished`, :class:`ProjectClosed` (结项), :class:`NeedsCollected`
(遵义's 双向征集: residents' needs gathered into a project) and :class:`ProjectClaimed` (认领, by an
organization that runs it or a sponsor that funds it). Activities (活动): :class:`ActivityPublished`
and :class:`ActivityCancelled`. A volunteer's sign-up for one shift (报名)::

    SignedUp ──────────────▶ pending ──SignUpAccepted──▶ accepted ──SignedIn──▶ signed_in
    Waitlisted ─▶ waitlisted ──Promoted (a place frees)──▶ pending          │
                                                      SignedOut / ToppedUp ─┴▶ signed_out / topped_up
    pending / accepted / waitlisted ──SignUpDeclined (organizer)──▶ declined
    pending / accepted / waitlisted ──SignUpCancelled (volunteer)──▶ cancelled (may sign up again)

A sign-up takes a place while one is free and nobody waits; otherwise it joins the waiting list,
in order. Every place held (pending, accepted, signed in or out) counts against the shift's
``places``, so acceptances never exceed them; a place freed by a decline or a cancellation goes to
the first on the waiting list (:class:`Promoted`). :class:`SignedOut` and :class:`ToppedUp` (补录
of a forgotten sign-out) carry the :class:`~zhiyuan.hours.ServiceRecord` of the service, for the
hour ledger.

What an entry may follow, and what it changes, is one function (:mod:`zhiyuan.projects.fold`),
which the book both checks and folds with. Dates do not go backwards within a project or an
activity, so that a state ``as_of`` any moment is a fold of the entries up to it.

Example:
    >>> from datetime import datetime
    >>> from zhiyuan import SHANGHAI
    >>> e = SignedUp(id="s", at=datetime(2025, 5, 1, 9, tzinfo=SHANGHAI), activity_id="a1",
    ...              shift_id="am", volunteer_id="v1")
    >>> su = SignUp(activity_id="a1", shift_id="am", volunteer_id="v1",
    ...             state="waitlisted", at=e.at)
    >>> str(su), su.ref
    ('v1 @ a1/am: 候补 / waitlisted', 'a1#am#v1')

    Every entry carries its type tag in JSON, so a journal's records read back:

    >>> import json
    >>> from zhiyuan.convert import to_json
    >>> from zhiyuan.hours import ServiceRecord
    >>> at = e.at
    >>> rec = ServiceRecord(id="a1#am#v1", volunteer_id="v1", activity_id="a1",
    ...     organization_id="o1", region_code="370202001001", category="环保", start=at,
    ...     end=at.replace(hour=11), evidence="admin_topup", checkout_missing=True,
    ...     scheduled_start=at, scheduled_end=at.replace(hour=11), recorded_at=at.replace(hour=18))
    >>> entries = [
    ...     ProjectClosed(id="c", at=at, project_id="p1", by="center", reason="年度结项"),
    ...     NeedsCollected(id="n", at=at, project_id="p1", need_ids=["n1", "n2"], by="center"),
    ...     ProjectClaimed(id="k", at=at, project_id="p1", claimant="青岛啤酒", kind="sponsor",
    ...                    by="center"),
    ...     ActivityCancelled(id="x", at=at, activity_id="a1", by="center", reason="台风"),
    ...     SignUpDeclined(id="d", at=at, activity_id="a1", shift_id="am", volunteer_id="v2",
    ...                    by="center", reason="名额调整"),
    ...     ToppedUp(id="u", at=at.replace(hour=18), activity_id="a1", shift_id="am",
    ...              volunteer_id="v1", by="街道", record=rec, reason=""),
    ... ]
    >>> [json.loads(to_json(x))["type"] for x in entries]
    ['projects.closed', 'projects.needs_collected', 'projects.claimed', 'projects.activity_cancelled', 'projects.declined', 'projects.topped_up']
"""

from __future__ import annotations

import enum
from datetime import datetime

import attrs

from zhiyuan._validators import (
    COUNT,
    aware,
    bounded,
    is_a,
    items,
    items_of,
    non_empty,
    text,
    to_enum,
    to_shanghai,
)
from zhiyuan.convert import register_tagged_union
from zhiyuan.errors import InvalidValue
from zhiyuan.hours.records import Evidence, GeoFix, ServiceRecord
from zhiyuan.journal._ids import derive, foreign
from zhiyuan.projects.values import Activity, Project

__all__ = [
    "AUTO",
    "ENTRY_TYPES",
    "HOLDING",
    "ActivityCancelled",
    "ActivityPublished",
    "ActivityStatus",
    "ClaimantKind",
    "NeedsCollected",
    "ProjectClaimed",
    "ProjectClosed",
    "ProjectEntry",
    "ProjectPublished",
    "ProjectStatus",
    "Promoted",
    "SignUp",
    "SignUpAccepted",
    "SignUpCancelled",
    "SignUpDeclined",
    "SignUpState",
    "SignedIn",
    "SignedOut",
    "SignedUp",
    "ToppedUp",
    "Waitlisted",
    "signup_ref",
]

AUTO = "activity:auto_accept"
"""Who is named on an acceptance an activity with ``auto_accept`` makes by itself."""


def signup_ref(activity_id: str, shift_id: str, volunteer_id: str, attempt: int = 1) -> str:
    """The reference of one sign-up: ``<activity>#<shift>#<volunteer>`` (``#<attempt>`` from the
    second sign-up after a cancellation). It is the id of the service record the sign-up earns.

    Example:
        >>> signup_ref("a1", "am", "v1"), signup_ref("a#1", "am", "v1", 2)
        ('a1#am#v1', 'a%231#am#v1#2')
    """
    ref = derive(foreign(activity_id), shift_id, volunteer_id)
    return ref if attempt == 1 else derive(ref, attempt)


# --- states ------------------------------------------------------------------------------------


class SignUpState(enum.Enum):
    """Where a volunteer's sign-up for one shift stands (报名状态)."""

    PENDING = "pending"
    """待录用: holds a place, awaiting the organizer."""
    ACCEPTED = "accepted"
    """已录用: accepted, not yet signed in."""
    WAITLISTED = "waitlisted"
    """候补: on the waiting list, in order."""
    DECLINED = "declined"
    """未录用: declined by the organizer."""
    CANCELLED = "cancelled"
    """已取消: cancelled by the volunteer."""
    SIGNED_IN = "signed_in"
    """已签到: signed in, not yet out."""
    SIGNED_OUT = "signed_out"
    """已签退: signed out; the service record is made."""
    TOPPED_UP = "topped_up"
    """已补录: a forgotten sign-out topped up by an administrator; the record is made."""

    @property
    def zh(self) -> str:
        """The Chinese name of the state."""
        return _STATE_ZH[self]


_STATE_ZH = {
    SignUpState.PENDING: "待录用",
    SignUpState.ACCEPTED: "已录用",
    SignUpState.WAITLISTED: "候补",
    SignUpState.DECLINED: "未录用",
    SignUpState.CANCELLED: "已取消",
    SignUpState.SIGNED_IN: "已签到",
    SignUpState.SIGNED_OUT: "已签退",
    SignUpState.TOPPED_UP: "已补录",
}

HOLDING = frozenset(
    {
        SignUpState.PENDING,
        SignUpState.ACCEPTED,
        SignUpState.SIGNED_IN,
        SignUpState.SIGNED_OUT,
        SignUpState.TOPPED_UP,
    }
)
"""The states that hold a place."""


class ClaimantKind(enum.Enum):
    """Who claims a project (认领方)."""

    ORGANIZATION = "organization"
    """志愿服务组织: runs the project (one per project); it organizes, and records, the
    activities' service from then on."""
    SPONSOR = "sponsor"
    """出资方: funds it (any number)."""


def _state(value: object) -> SignUpState:
    return to_enum("state", SignUpState, value)


def _claimant_kind(value: object) -> ClaimantKind:
    return to_enum("kind", ClaimantKind, value)


def _evidence(value: object) -> Evidence:
    return to_enum("evidence", Evidence, value)


def _any_text(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str):
        raise InvalidValue(attribute.name, value, "需要文本 / need text (it may be empty)")
    text(attribute.name, value)


def _need_ids(value: object) -> tuple[str, ...]:
    out = items("need_ids", value)
    if not out:
        raise InvalidValue("need_ids", [], "至少一个需求 / at least one need")
    for v in out:
        if not isinstance(v, str) or not v.strip():
            raise InvalidValue("need_ids", v, "需要非空文本 / need non-empty text")
        text("need_ids", v)
    if len(set(out)) != len(out):
        raise InvalidValue("need_ids", list(out), "需求重复 / a need is named twice")
    return out


_DISTANCE = bounded(0, 40_100_000, "metres")  # half the Earth's circumference, and then some

# --- entries -----------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ProjectPublished:
    """项目发布: a project is published by ``by``."""

    id: str = attrs.field(validator=non_empty)
    at: datetime = attrs.field(converter=to_shanghai, validator=aware)
    project: Project = attrs.field(validator=is_a(Project))
    by: str = attrs.field(validator=non_empty)

    @property
    def project_id(self) -> str:
        """The published project's id."""
        return self.project.id


@attrs.frozen(kw_only=True)
class ProjectClosed:
    """结项: the project takes no new activities, sign-ups, needs or claims; activities under
    way go on (signing in and out still works)."""

    id: str = attrs.field(validator=non_empty)
    at: datetime = attrs.field(converter=to_shanghai, validator=aware)
    project_id: str = attrs.field(validator=non_empty)
    by: str = attrs.field(validator=non_empty)
    reason: str = attrs.field(default="", validator=_any_text)


@attrs.frozen(kw_only=True)
class NeedsCollected:
    """征集: residents' needs (点单, by need id) gathered into a project (遵义's 双向征集); a
    need belongs to one project at most."""

    id: str = attrs.field(validator=non_empty)
    at: datetime = attrs.field(converter=to_shanghai, validator=aware)
    project_id: str = attrs.field(validator=non_empty)
    need_ids: tuple[str, ...] = attrs.field(converter=_need_ids)
    by: str = attrs.field(validator=non_empty)


@attrs.frozen(kw_only=True)
class ProjectClaimed:
    """认领: an organization takes a project on (one per project), or a sponsor funds it (each
    sponsor once)."""

    id: str = attrs.field(validator=non_empty)
    at: datetime = attrs.field(converter=to_shanghai, validator=aware)
    project_id: str = attrs.field(validator=non_empty)
    claimant: str = attrs.field(validator=non_empty)
    kind: ClaimantKind = attrs.field(converter=_claimant_kind)
    by: str = attrs.field(validator=non_empty)


@attrs.frozen(kw_only=True)
class ActivityPublished:
    """活动发布: an activity of an open project is published (reviewed) by ``by``."""

    id: str = attrs.field(validator=non_empty)
    at: datetime = attrs.field(converter=to_shanghai, validator=aware)
    activity: Activity = attrs.field(validator=is_a(Activity))
    by: str = attrs.field(validator=non_empty)

    @property
    def activity_id(self) -> str:
        """The published activity's id."""
        return self.activity.id


@attrs.frozen(kw_only=True)
class ActivityCancelled:
    """活动取消: nobody signs up or in any more (refused while anyone is signed in)."""

    id: str = attrs.field(validator=non_empty)
    at: datetime = attrs.field(converter=to_shanghai, validator=aware)
    activity_id: str = attrs.field(validator=non_empty)
    by: str = attrs.field(validator=non_empty)
    reason: str = attrs.field(default="", validator=_any_text)


@attrs.frozen(kw_only=True)
class SignedUp:
    """报名: a volunteer takes a free place in a shift (``attempt``: 1, or more after a
    cancellation)."""

    id: str = attrs.field(validator=non_empty)
    at: datetime = attrs.field(converter=to_shanghai, validator=aware)
    activity_id: str = attrs.field(validator=non_empty)
    shift_id: str = attrs.field(validator=non_empty)
    volunteer_id: str = attrs.field(validator=non_empty)
    attempt: int = attrs.field(default=1, validator=bounded(1, COUNT, "sign-ups"))


@attrs.frozen(kw_only=True)
class Waitlisted:
    """候补: a volunteer signs up for a full shift and joins the end of its waiting list."""

    id: str = attrs.field(validator=non_empty)
    at: datetime = attrs.field(converter=to_shanghai, validator=aware)
    activity_id: str = attrs.field(validator=non_empty)
    shift_id: str = attrs.field(validator=non_empty)
    volunteer_id: str = attrs.field(validator=non_empty)
    attempt: int = attrs.field(default=1, validator=bounded(1, COUNT, "sign-ups"))


@attrs.frozen(kw_only=True)
class Promoted:
    """递补: the first on the waiting list takes a place that freed (and is then pending)."""

    id: str = attrs.field(validator=non_empty)
    at: datetime = attrs.field(converter=to_shanghai, validator=aware)
    activity_id: str = attrs.field(validator=non_empty)
    shift_id: str = attrs.field(validator=non_empty)
    volunteer_id: str = attrs.field(validator=non_empty)


@attrs.frozen(kw_only=True)
class SignUpAccepted:
    """录用: the organizer accepts a pending sign-up (``by`` is
    :data:`~zhiyuan.projects.entries.AUTO` for an activity that accepts by itself)."""

    id: str = attrs.field(validator=non_empty)
    at: datetime = attrs.field(converter=to_shanghai, validator=aware)
    activity_id: str = attrs.field(validator=non_empty)
    shift_id: str = attrs.field(validator=non_empty)
    volunteer_id: str = attrs.field(validator=non_empty)
    by: str = attrs.field(validator=non_empty)


@attrs.frozen(kw_only=True)
class SignUpDeclined:
    """不录用: the organizer declines a sign-up (pending, accepted or waitlisted) before the
    volunteer signs in; a place it held goes to the first waiter."""

    id: str = attrs.field(validator=non_empty)
    at: datetime = attrs.field(converter=to_shanghai, validator=aware)
    activity_id: str = attrs.field(validator=non_empty)
    shift_id: str = attrs.field(validator=non_empty)
    volunteer_id: str = attrs.field(validator=non_empty)
    by: str = attrs.field(validator=non_empty)
    reason: str = attrs.field(default="", validator=_any_text)


@attrs.frozen(kw_only=True)
class SignUpCancelled:
    """取消报名: the volunteer (or someone for them, ``by``) withdraws before the shift starts;
    a place it held goes to the first waiter."""

    id: str = attrs.field(validator=non_empty)
    at: datetime = attrs.field(converter=to_shanghai, validator=aware)
    activity_id: str = attrs.field(validator=non_empty)
    shift_id: str = attrs.field(validator=non_empty)
    volunteer_id: str = attrs.field(validator=non_empty)
    by: str = attrs.field(validator=non_empty)
    reason: str = attrs.field(default="", validator=_any_text)


@attrs.frozen(kw_only=True)
class SignedIn:
    """签到: an accepted volunteer signs in at ``point_id``, which ``evidence`` names the check
    of (QR scan, sign-in code or GPS fence); ``geo`` and ``distance_m`` are the fix and its
    distance from the point, when a fix was given."""

    id: str = attrs.field(validator=non_empty)
    at: datetime = attrs.field(converter=to_shanghai, validator=aware)
    activity_id: str = attrs.field(validator=non_empty)
    shift_id: str = attrs.field(validator=non_empty)
    volunteer_id: str = attrs.field(validator=non_empty)
    point_id: str = attrs.field(validator=non_empty)
    evidence: Evidence = attrs.field(converter=_evidence)
    geo: GeoFix | None = attrs.field(default=None, validator=is_a(GeoFix))
    distance_m: int | None = attrs.field(default=None, validator=_DISTANCE)


@attrs.frozen(kw_only=True)
class SignedOut:
    """签退: a signed-in volunteer signs out at a point, checked as a sign-in is; ``record`` is
    the service from sign-in to sign-out, for the hour ledger."""

    id: str = attrs.field(validator=non_empty)
    at: datetime = attrs.field(converter=to_shanghai, validator=aware)
    activity_id: str = attrs.field(validator=non_empty)
    shift_id: str = attrs.field(validator=non_empty)
    volunteer_id: str = attrs.field(validator=non_empty)
    point_id: str = attrs.field(validator=non_empty)
    evidence: Evidence = attrs.field(converter=_evidence)
    record: ServiceRecord = attrs.field(validator=is_a(ServiceRecord))
    geo: GeoFix | None = attrs.field(default=None, validator=is_a(GeoFix))
    distance_m: int | None = attrs.field(default=None, validator=_DISTANCE)


@attrs.frozen(kw_only=True)
class ToppedUp:
    """补录: an administrator closes a forgotten sign-out (荣誉时长). ``record`` runs from the
    sign-in to an end inside the shift's schedule, never past its end, marked
    ``checkout_missing`` with evidence ``admin_topup``, so the hour policy never counts more
    than the schedule."""

    id: str = attrs.field(validator=non_empty)
    at: datetime = attrs.field(converter=to_shanghai, validator=aware)
    activity_id: str = attrs.field(validator=non_empty)
    shift_id: str = attrs.field(validator=non_empty)
    volunteer_id: str = attrs.field(validator=non_empty)
    by: str = attrs.field(validator=non_empty)
    record: ServiceRecord = attrs.field(validator=is_a(ServiceRecord))
    reason: str = attrs.field(default="", validator=_any_text)


ProjectEntry = (
    ProjectPublished
    | ProjectClosed
    | NeedsCollected
    | ProjectClaimed
    | ActivityPublished
    | ActivityCancelled
    | SignedUp
    | Waitlisted
    | Promoted
    | SignUpAccepted
    | SignUpDeclined
    | SignUpCancelled
    | SignedIn
    | SignedOut
    | ToppedUp
)
"""Any entry of the project book."""

ENTRY_TYPES = (
    ProjectPublished,
    ProjectClosed,
    NeedsCollected,
    ProjectClaimed,
    ActivityPublished,
    ActivityCancelled,
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
"""The classes of :data:`ProjectEntry`, for ``isinstance``."""

register_tagged_union(
    ProjectEntry,
    {
        ProjectPublished: "projects.published",
        ProjectClosed: "projects.closed",
        NeedsCollected: "projects.needs_collected",
        ProjectClaimed: "projects.claimed",
        ActivityPublished: "projects.activity_published",
        ActivityCancelled: "projects.activity_cancelled",
        SignedUp: "projects.signed_up",
        Waitlisted: "projects.waitlisted",
        Promoted: "projects.promoted",
        SignUpAccepted: "projects.accepted",
        SignUpDeclined: "projects.declined",
        SignUpCancelled: "projects.cancelled",
        SignedIn: "projects.signed_in",
        SignedOut: "projects.signed_out",
        ToppedUp: "projects.topped_up",
    },
)

# --- folded values -----------------------------------------------------------------------------


def _collected(value: object) -> tuple[str, ...]:
    if type(value) is tuple and all(type(v) is str and v.strip() for v in value):
        return value  # the fold's own tuples (and text was checked when the need came in)
    out = items("needs", value)
    for v in out:
        if not isinstance(v, str) or not v.strip():
            raise InvalidValue("needs", v, "需要非空文本 / need non-empty text")
        text("needs", v)
    return out


def _claims(value: object) -> tuple[ProjectClaimed, ...]:
    if type(value) is tuple and all(type(c) is ProjectClaimed for c in value):
        return value
    return items_of("claims", ProjectClaimed, value)


@attrs.frozen(kw_only=True)
class ProjectStatus:
    """A project folded from its entries: open or closed, the needs collected into it and who
    claimed it.

    Attributes:
        project: the project as published.
        published_at: when it was published.
        last_at: its latest entry (its own, or an activity's publication).
        closed: the closing entry, if closed.
        needs: the needs collected into it, in order.
        claims: the claims, in order.
        collections: how many collections were recorded.
    """

    project: Project = attrs.field(validator=is_a(Project))
    published_at: datetime = attrs.field(converter=to_shanghai, validator=aware)
    last_at: datetime = attrs.field(converter=to_shanghai, validator=aware)
    closed: ProjectClosed | None = attrs.field(default=None, validator=is_a(ProjectClosed))
    needs: tuple[str, ...] = attrs.field(default=(), converter=_collected)
    claims: tuple[ProjectClaimed, ...] = attrs.field(default=(), converter=_claims)
    collections: int = attrs.field(default=0, validator=bounded(0, COUNT, "collections"))

    @property
    def project_id(self) -> str:
        """The project's id."""
        return self.project.id

    @property
    def open(self) -> bool:
        """True until the project is closed."""
        return self.closed is None

    @property
    def organizer(self) -> str:
        """The organization that runs it: the one that claimed it, else the publisher. It is
        the ``organization_id`` of the service records of its activities (谁组织谁记录)."""
        for c in self.claims:
            if c.kind is ClaimantKind.ORGANIZATION:
                return c.claimant
        return self.project.organization_id

    @property
    def sponsors(self) -> tuple[str, ...]:
        """The sponsor named at publication, then those that claimed it, in order."""
        first = () if self.project.sponsor is None else (self.project.sponsor,)
        return first + tuple(c.claimant for c in self.claims if c.kind is ClaimantKind.SPONSOR)


@attrs.frozen(kw_only=True)
class ActivityStatus:
    """An activity folded from its entries: as published, and whether cancelled."""

    activity: Activity = attrs.field(validator=is_a(Activity))
    published_at: datetime = attrs.field(converter=to_shanghai, validator=aware)
    last_at: datetime = attrs.field(converter=to_shanghai, validator=aware)
    cancelled: ActivityCancelled | None = attrs.field(
        default=None, validator=is_a(ActivityCancelled)
    )

    @property
    def activity_id(self) -> str:
        """The activity's id."""
        return self.activity.id

    @property
    def project_id(self) -> str:
        """The id of its project."""
        return self.activity.project_id


@attrs.frozen(kw_only=True)
class SignUp:
    """One volunteer's sign-up for one shift, folded from its entries.

    Attributes:
        activity_id: the activity.
        shift_id: the shift.
        volunteer_id: the volunteer.
        state: where it stands.
        attempt: 1, or more for a sign-up after a cancellation.
        at: when the volunteer signed up (this attempt).
        signed_in: the sign-in, once signed in.
        signed_out: the sign-out, once signed out.
        topped_up: the top-up of a forgotten sign-out, if any.
    """

    activity_id: str = attrs.field(validator=non_empty)
    shift_id: str = attrs.field(validator=non_empty)
    volunteer_id: str = attrs.field(validator=non_empty)
    state: SignUpState = attrs.field(converter=_state)
    attempt: int = attrs.field(default=1, validator=bounded(1, COUNT, "sign-ups"))
    at: datetime = attrs.field(converter=to_shanghai, validator=aware)
    signed_in: SignedIn | None = attrs.field(default=None, validator=is_a(SignedIn))
    signed_out: SignedOut | None = attrs.field(default=None, validator=is_a(SignedOut))
    topped_up: ToppedUp | None = attrs.field(default=None, validator=is_a(ToppedUp))

    @property
    def ref(self) -> str:
        """:func:`signup_ref` of this sign-up: the id of the service record it earns."""
        return signup_ref(self.activity_id, self.shift_id, self.volunteer_id, self.attempt)

    @property
    def record(self) -> ServiceRecord | None:
        """The service record, once signed out or topped up."""
        if self.signed_out is not None:
            return self.signed_out.record
        if self.topped_up is not None:
            return self.topped_up.record
        return None

    def __str__(self) -> str:
        s = self.state
        return f"{self.volunteer_id} @ {self.activity_id}/{self.shift_id}: {s.zh} / {s.value}"
