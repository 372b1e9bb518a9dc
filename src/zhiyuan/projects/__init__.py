"""Projects and activities (项目发布、招募、报名、签到签退): publishing, recruitment with a waiting
list, sign-in by geofence, code or QR, and sign-out into service hours.

An organization publishes a :class:`Project` (项目) in its region, and under it
:class:`Activity` values (活动), each with one or more :class:`Shift` (班次) of so many places,
the :class:`Requirements` a volunteer must meet, and the :class:`SignInPoint` values (签到点)
where volunteers sign in and out. A :class:`ProjectBook` on a journal records what happens:

* **recruitment (招募报名)**: a sign-up takes a free place, or joins the waiting list (候补) in
  order when the shift is full; the organizer accepts or declines (录用/不录用); a place freed
  by a decline or a cancellation goes to the first waiter (递补); acceptances never exceed the
  places;
* **sign-in and sign-out (签到签退)**: an accepted volunteer signs in at a point, inside its
  fence (the refusal names the distance and the radius), with its 6-digit code, or with its
  QR token; the sign-out carries the :class:`~zhiyuan.hours.ServiceRecord` for the hour ledger,
  with the shift as the schedule; an administrator tops up a forgotten sign-out (补录), never
  past the shift's end;
* **finding activities (找活动)**: :meth:`ProjectBook.find` searches by region, distance,
  category and time for shifts with open places, nearest first, each result explaining itself;
* **遵义's 双向征集**: residents' needs collected into a project, and projects claimed (认领) by
  an organization that runs them or by sponsors.

On a :class:`~zhiyuan.platform.Platform` the same flows are authorized writes, and a sign-out
posts its hours through the hour chain (points, time bank and stars follow) in the same
transaction.

References:
    Seed cities: 青岛市南 (时尚市南: 招募注册、项目发布、工时认证), 莱西 (上善莱西: 找活动), 运城
    (over 2 万 projects), 遵义 (项目化, 双向征集). POLICIES.md, "Hours: what local practice
    adds" (志愿汇: activities reviewed and given a 6-digit sign-in code; GPS check-in tolerance of
    a few hundred metres; a top-up for a forgotten check-out never exceeds the scheduled
    duration) and §4.1 (志多星: a team starts a project, recruits, confirms completion).

Example:
    >>> from datetime import date, datetime
    >>> from zhiyuan import SHANGHAI
    >>> from zhiyuan.hierarchy import load_default
    >>> from zhiyuan.hours import Volunteer
    >>> t = lambda h: datetime(2025, 5, 10, h, tzinfo=SHANGHAI)
    >>> book = ProjectBook(tree=load_default())
    >>> _ = book.publish_project(Project(id="p1", name="蓝色海湾守护行动", organization_id="o1",
    ...     region_code="370202", category="环保"), by="市南区志愿者协会", at=t(7))
    >>> _ = book.publish_activity(Activity(id="a1", project_id="p1", name="栈桥海滩清洁",
    ...     region_code="370202001001", category="环保",
    ...     shifts=[Shift(id="am", start=t(9), end=t(11), places=1)],
    ...     points=[SignInPoint(id="gate", code="204816")]), by="市南区志愿者协会", at=t(7))
    >>> print(book.find(region="370202", as_of=t(8))[0])
    栈桥海滩清洁 (a1/am) 2025-05-10 09:00–11:00
      [projects.find.region] 在 市南区（370202000000）辖区内 / within 市南区 (370202000000)
      [projects.find.open] 尚余 1 个名额（共 1 个） / 1 of 1 places open
    >>> v1, v2 = (Volunteer(id=v, name=v, home_region="370202001001",
    ...           registered_on=date(2024, 1, 1)) for v in ("v1", "v2"))
    >>> [str(book.sign_up("a1", "am", v, at=t(8))) for v in (v1, v2)]
    ['v1 @ a1/am: 待录用 / pending', 'v2 @ a1/am: 候补 / waitlisted']
    >>> book.find(region="370202", as_of=t(8))
    []
    >>> book.cancel("a1", "am", "v1", at=t(8)).volunteer_id
    'v2'
    >>> _ = book.accept("a1", "am", "v2", by="市南区志愿者协会", at=t(8))
    >>> book.sign_in("a1", "am", "v2", code="000000", at=t(9))
    Traceback (most recent call last):
    ...
    zhiyuan.errors.InvalidValue: code: '000000': 签到点 gate 的签到码不对 / wrong sign-in code for point gate
    >>> _ = book.sign_in("a1", "am", "v2", code="204816", at=t(9))
    >>> rec = book.sign_out("a1", "am", "v2", code="204816", at=t(11)).record
    >>> rec.served_minutes, rec.evidence.value, rec.scheduled_start == t(9)
    (120, 'sign_in_code', True)
"""

from __future__ import annotations

from zhiyuan.projects.book import ProjectBook, ShiftRoster
from zhiyuan.projects.entries import (
    AUTO,
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
    signup_ref,
)
from zhiyuan.projects.find import Opening
from zhiyuan.projects.values import (
    DEFAULT_RADIUS_M,
    Activity,
    Project,
    Requirements,
    Shift,
    SignInPoint,
)

__all__ = [
    "AUTO",
    "DEFAULT_RADIUS_M",
    "Activity",
    "ActivityCancelled",
    "ActivityPublished",
    "ActivityStatus",
    "ClaimantKind",
    "NeedsCollected",
    "Opening",
    "Project",
    "ProjectBook",
    "ProjectClaimed",
    "ProjectClosed",
    "ProjectEntry",
    "ProjectPublished",
    "ProjectStatus",
    "Promoted",
    "Requirements",
    "Shift",
    "ShiftRoster",
    "SignInPoint",
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
