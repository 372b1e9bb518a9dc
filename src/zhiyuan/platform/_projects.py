"""The platform's project flows: publishing projects and activities, sign-up, sign-in and
sign-out (招募注册、项目发布、报名、签到签退), with the hours they earn posted through the hour chain."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import attrs

from zhiyuan._validators import arg_of, key, to_enum
from zhiyuan.errors import NotFound, PermissionDenied
from zhiyuan.hierarchy.jurisdiction import Action
from zhiyuan.hours.policy import Outcome
from zhiyuan.hours.records import GeoFix
from zhiyuan.journal import Transaction
from zhiyuan.matching.needbook import NeedBook
from zhiyuan.platform._acts import Act
from zhiyuan.platform._core import PlatformCore
from zhiyuan.platform._events import EventKind
from zhiyuan.projects import (
    Activity,
    ActivityCancelled,
    ActivityPublished,
    ActivityStatus,
    ClaimantKind,
    NeedsCollected,
    Project,
    ProjectBook,
    ProjectClaimed,
    ProjectClosed,
    ProjectPublished,
    ProjectStatus,
    Promoted,
    SignedIn,
    SignUp,
    SignUpAccepted,
)

__all__ = ["ProjectFlows"]


class ProjectFlows(PlatformCore):
    """Projects and activities on the platform (see :class:`~zhiyuan.platform.Platform`).

    Organizers publish projects and activities and accept or decline sign-ups with
    :attr:`~zhiyuan.hierarchy.Action.MANAGE` over the activity's region; a registered volunteer
    signs up, cancels, signs in and signs out for themself (or a principal does it for them:
    ``manage`` for sign-ups, ``record`` for signing in and out); a top-up of a forgotten
    sign-out needs ``record`` and is never the volunteer's own. A sign-out or a top-up posts
    its service record through the hour chain in the same transaction, so that points, the
    time bank and stars follow as for any record. A sign-out is evidence the platform checked
    (a fence, a code, a QR token), not a report of one's own: the hour policy certifies it on
    posting when its ``auto_certify`` names the evidence (志愿汇's 信用时长); a top-up is
    ``admin_topup`` evidence (荣誉时长), certified as the policy says.
    """

    needs: NeedBook
    projects: ProjectBook

    def _init_projects(self) -> None:
        """Make the project book on the platform's journal."""
        self.projects = ProjectBook(journal=self.journal, tree=self.tree, needs=self.needs)

    # --- reading through the operation's transaction ------------------------------------------

    def _project_status(self, tx: Transaction, project_id: object) -> ProjectStatus:
        pid = key("project_id", project_id)
        ps: ProjectStatus | None = self.projects._view(tx).get("project", pid)
        if ps is None:
            raise NotFound("project", pid)
        return ps

    def _activity_status(self, tx: Transaction, activity_id: object) -> ActivityStatus:
        aid = key("activity_id", activity_id)
        st: ActivityStatus | None = self.projects._view(tx).get("activity", aid)
        if st is None:
            raise NotFound("activity", aid)
        return st

    def _signup_of(
        self, tx: Transaction, activity_id: object, shift_id: object, volunteer_id: object
    ) -> tuple[ActivityStatus, SignUp]:
        st = self._activity_status(tx, activity_id)
        sid = st.activity.shift(key("shift_id", shift_id)).id
        vid = key("volunteer_id", volunteer_id)
        su: SignUp | None = self.projects._view(tx).get("signup", (st.activity_id, sid, vid))
        if su is None:
            raise NotFound("sign-up", f"{st.activity_id}/{sid}/{vid}")
        return st, su

    # --- projects -----------------------------------------------------------------------------

    def publish_project(self, project: Project, *, by: str) -> ProjectPublished:
        """Publish a project (项目发布); ``by`` needs :attr:`~zhiyuan.hierarchy.Action.MANAGE`
        over its region, and its organization must be registered. The same project again
        records nothing."""
        p = arg_of("project", Project, project)
        with self._op() as (tx, now):
            act = self._allow("publish_project", by, p.region_code, now, p.id, Action.MANAGE)
            self.hours._org(p.organization_id)  # NotFound for an unregistered organization
            out, _ = self._did(tx, act, lambda: self.projects.publish_project(p, by=act.by, at=now))
            return out

    def close_project(self, project_id: str, *, by: str, reason: str = "") -> ProjectClosed:
        """Close a project (结项): no new activities, sign-ups, needs or claims; ``by`` needs
        :attr:`~zhiyuan.hierarchy.Action.MANAGE` over its region."""
        with self._op() as (tx, now):
            ps = self._project_status(tx, project_id)
            p = ps.project
            act = self._allow("close_project", by, p.region_code, now, p.id, Action.MANAGE)
            out, _ = self._did(
                tx, act, lambda: self.projects.close_project(p.id, by=act.by, reason=reason, at=now)
            )
            return out

    def collect_needs(self, project_id: str, need_ids: Iterable[str], *, by: str) -> NeedsCollected:
        """Collect posted needs into a project (双向征集, 遵义): each need goes to one project;
        ``by`` needs :attr:`~zhiyuan.hierarchy.Action.MANAGE` over the project's region."""
        with self._op() as (tx, now):
            ps = self._project_status(tx, project_id)
            p = ps.project
            target = f"{p.id}@{self._position(tx)}"
            act = self._allow("collect_needs", by, p.region_code, now, target, Action.MANAGE)
            out, _ = self._did(
                tx, act, lambda: self.projects.collect(p.id, need_ids, by=act.by, at=now)
            )
            return out

    def claim_project(
        self,
        project_id: str,
        claimant: str,
        *,
        kind: ClaimantKind | str = ClaimantKind.ORGANIZATION,
        by: str,
    ) -> ProjectClaimed:
        """Record a claim of a project (认领): by a registered organization, which then runs it
        (one per project, the organizer of its service records from then on), or by a sponsor;
        ``by`` needs :attr:`~zhiyuan.hierarchy.Action.MANAGE` over the project's region."""
        who = key("claimant", claimant)
        sort = to_enum("kind", ClaimantKind, kind)
        with self._op() as (tx, now):
            ps = self._project_status(tx, project_id)
            p = ps.project
            act = self._allow(
                "claim_project",
                by,
                p.region_code,
                now,
                f"{p.id}/{sort.value}/{who}",
                Action.MANAGE,
            )
            if sort is ClaimantKind.ORGANIZATION:
                self.hours._org(who)  # NotFound for an unregistered organization
            out, _ = self._did(
                tx, act, lambda: self.projects.claim(p.id, who, kind=sort, by=act.by, at=now)
            )
            return out

    # --- activities ---------------------------------------------------------------------------

    def publish_activity(self, activity: Activity, *, by: str) -> ActivityPublished:
        """Publish (after review) an activity of an open project (活动发布); ``by`` needs
        :attr:`~zhiyuan.hierarchy.Action.MANAGE` over its region, which lies within the
        project's. The same activity again records nothing."""
        a = arg_of("activity", Activity, activity)
        with self._op() as (tx, now):
            act = self._allow("publish_activity", by, a.region_code, now, a.id, Action.MANAGE)
            out, _ = self._did(
                tx, act, lambda: self.projects.publish_activity(a, by=act.by, at=now)
            )
            return out

    def cancel_activity(self, activity_id: str, *, by: str, reason: str = "") -> ActivityCancelled:
        """Cancel an activity (活动取消); ``by`` needs
        :attr:`~zhiyuan.hierarchy.Action.MANAGE` over its region. Refused while anyone is
        signed in."""
        with self._op() as (tx, now):
            a = self._activity_status(tx, activity_id).activity
            act = self._allow("cancel_activity", by, a.region_code, now, a.id, Action.MANAGE)
            out, _ = self._did(
                tx,
                act,
                lambda: self.projects.cancel_activity(a.id, by=act.by, reason=reason, at=now),
            )
            return out

    # --- sign-ups -----------------------------------------------------------------------------

    def sign_up(
        self,
        activity_id: str,
        shift_id: str,
        volunteer_id: str,
        *,
        by: str,
        training: Iterable[str] = (),
    ) -> SignUp:
        """Sign a registered volunteer up for a shift (报名); returns the sign-up: pending,
        accepted (an activity that accepts by itself) or waitlisted (候补) when the shift is
        full. ``by`` is the volunteer, or a principal with
        :attr:`~zhiyuan.hierarchy.Action.MANAGE` over the activity's region signing them up.
        ``training`` names the trainings the volunteer completed, for the requirements."""
        vid = key("volunteer_id", volunteer_id)
        with self._op() as (tx, now):
            a = self._activity_status(tx, activity_id).activity
            volunteer = self.hours.volunteer(vid)  # NotFound for an unregistered volunteer
            act = self._allow(
                "sign_up", by, a.region_code, now, vid, None if by == vid else Action.MANAGE
            )
            before = len(tx)
            out = self.projects.sign_up(a.id, shift_id, volunteer, training=training, at=now)
            if len(tx) > before:
                self._act(tx, attrs.evolve(act, id=Act.id_for("sign_up", out.ref), target=out.ref))
                self._emit(EventKind.SIGNUP_CREATED, now, vid, out.ref, detail=out.state.value)
            return out

    def accept_signup(
        self, activity_id: str, shift_id: str, volunteer_id: str, *, by: str
    ) -> SignUpAccepted:
        """Accept a pending sign-up (录用), never beyond the shift's places; ``by`` needs
        :attr:`~zhiyuan.hierarchy.Action.MANAGE` over the activity's region."""
        with self._op() as (tx, now):
            st, su = self._signup_of(tx, activity_id, shift_id, volunteer_id)
            act = self._allow(
                "accept_signup", by, st.activity.region_code, now, su.ref, Action.MANAGE
            )
            out, new = self._did(
                tx,
                act,
                lambda: self.projects.accept(
                    st.activity_id, su.shift_id, su.volunteer_id, by=act.by, at=now
                ),
            )
            if new:
                self._emit(EventKind.SIGNUP_ACCEPTED, now, su.volunteer_id, su.ref)
            return out

    def decline_signup(
        self, activity_id: str, shift_id: str, volunteer_id: str, *, by: str, reason: str = ""
    ) -> Promoted | None:
        """Decline a sign-up (不录用) before the volunteer signs in; ``by`` needs
        :attr:`~zhiyuan.hierarchy.Action.MANAGE` over the activity's region. Returns the
        promotion of the first waiter into the freed place (递补), if any: tell them."""
        with self._op() as (tx, now):
            st, su = self._signup_of(tx, activity_id, shift_id, volunteer_id)
            act = self._allow(
                "decline_signup", by, st.activity.region_code, now, su.ref, Action.MANAGE
            )
            out, new = self._did(
                tx,
                act,
                lambda: self.projects.decline(
                    st.activity_id, su.shift_id, su.volunteer_id, by=act.by, reason=reason, at=now
                ),
            )
            self._promoted(out if new else None, now)
            return out

    def cancel_signup(
        self, activity_id: str, shift_id: str, volunteer_id: str, *, by: str, reason: str = ""
    ) -> Promoted | None:
        """Withdraw a sign-up before the shift starts (取消报名); ``by`` is the volunteer, or a
        principal with :attr:`~zhiyuan.hierarchy.Action.MANAGE` over the activity's region.
        Returns the promotion of the first waiter into the freed place, if any."""
        with self._op() as (tx, now):
            st, su = self._signup_of(tx, activity_id, shift_id, volunteer_id)
            own = by == su.volunteer_id
            act = self._allow(
                "cancel_signup",
                by,
                st.activity.region_code,
                now,
                su.ref,
                None if own else Action.MANAGE,
            )
            out, new = self._did(
                tx,
                act,
                lambda: self.projects.cancel(
                    st.activity_id, su.shift_id, su.volunteer_id, by=act.by, reason=reason, at=now
                ),
            )
            self._promoted(out if new else None, now)
            return out

    def _promoted(self, promoted: Promoted | None, now: datetime) -> None:
        """Tell the hooks of the waiter a freed place went to."""
        if promoted is not None:
            self._emit(EventKind.SIGNUP_PROMOTED, now, promoted.volunteer_id, promoted.id)

    # --- signing in and out -------------------------------------------------------------------

    def sign_in(
        self,
        activity_id: str,
        shift_id: str,
        volunteer_id: str,
        *,
        by: str,
        geo: GeoFix | None = None,
        code: str | None = None,
        qr: str | None = None,
    ) -> SignedIn:
        """Sign an accepted volunteer in at a sign-in point (签到): inside its fence, with its
        code or its QR token (see :meth:`ProjectBook.sign_in
        <zhiyuan.projects.ProjectBook.sign_in>`). ``by`` is the volunteer, or a principal with
        :attr:`~zhiyuan.hierarchy.Action.RECORD` over the activity's region. A refusal records
        nothing."""
        with self._op() as (tx, now):
            st, su = self._signup_of(tx, activity_id, shift_id, volunteer_id)
            act = self._allow(
                "sign_in",
                by,
                st.activity.region_code,
                now,
                su.ref,
                None if by == su.volunteer_id else Action.RECORD,
            )
            out, _ = self._did(
                tx,
                act,
                lambda: self.projects.sign_in(
                    st.activity_id, su.shift_id, su.volunteer_id, geo=geo, code=code, qr=qr, at=now
                ),
            )
            return out

    def sign_out(
        self,
        activity_id: str,
        shift_id: str,
        volunteer_id: str,
        *,
        by: str,
        geo: GeoFix | None = None,
        code: str | None = None,
        qr: str | None = None,
    ) -> Outcome:
        """Sign a volunteer out (签退), checked as a sign-in is, and post the service record
        from the sign-in to now through the hour chain in the same transaction; returns its
        outcome. ``by`` as for :meth:`sign_in`."""
        with self._op() as (tx, now):
            st, su = self._signup_of(tx, activity_id, shift_id, volunteer_id)
            act = self._allow(
                "sign_out",
                by,
                st.activity.region_code,
                now,
                su.ref,
                None if by == su.volunteer_id else Action.RECORD,
            )
            out, _ = self._did(
                tx,
                act,
                lambda: self.projects.sign_out(
                    st.activity_id, su.shift_id, su.volunteer_id, geo=geo, code=code, qr=qr, at=now
                ),
            )
            return self._post_record(tx, now, out.record, act.by)

    def top_up(
        self,
        activity_id: str,
        shift_id: str,
        volunteer_id: str,
        *,
        by: str,
        end: datetime | None = None,
        reason: str = "",
    ) -> Outcome:
        """Top up a forgotten sign-out (补录, 荣誉时长): the service from the sign-in to ``end``
        (default: the shift's end; never past it, never outside its schedule), posted through
        the hour chain in the same transaction; returns its outcome. ``by`` needs
        :attr:`~zhiyuan.hierarchy.Action.RECORD` over the activity's region and may not be the
        volunteer."""
        with self._op() as (tx, now):
            st, su = self._signup_of(tx, activity_id, shift_id, volunteer_id)
            if by == su.volunteer_id:
                raise PermissionDenied(
                    f"不能为本人补录工时 / nobody may top up their own hours ({su.volunteer_id})"
                )
            act = self._allow("top_up", by, st.activity.region_code, now, su.ref, Action.RECORD)
            out, _ = self._did(
                tx,
                act,
                lambda: self.projects.top_up(
                    st.activity_id,
                    su.shift_id,
                    su.volunteer_id,
                    by=act.by,
                    end=end,
                    reason=reason,
                    at=now,
                ),
            )
            return self._post_record(tx, now, out.record, act.by)
