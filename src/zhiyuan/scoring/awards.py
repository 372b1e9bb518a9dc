"""Star awards (星级认定): applied → reviewed → public notice → granted | rejected, and revoked.

Stars are applied for, not automatic. A :class:`StarBook` keeps the award entries of one
:class:`~zhiyuan.scoring.StarScheme`: :class:`Application`, :class:`Decision` and
:class:`Revocation`. A volunteer's held level on any date is a fold of them (and of the scheme's
downgrade rule). An application must be backed by a rating at least as high; who may decide
follows the tree: the authority over the volunteer's home region at the scheme's approving level
for that star (national: county for 1–2★, city for 3–4★, province for 5★). Revoking for
falsified hours bars new applications for the scheme's ``ban_years``.

Example:
    >>> from datetime import date, datetime
    >>> from zhiyuan._validators import SHANGHAI
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
    >>> book = StarBook(StarScheme(notice_days=7), ledger, jurisdiction=j)
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
import threading
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Literal

import attrs
from dateutil.relativedelta import relativedelta

from zhiyuan._validators import aware, moment, non_empty, to_shanghai
from zhiyuan.errors import Conflict, InvalidValue, NotFound
from zhiyuan.hierarchy.codes import Level, RegionCode
from zhiyuan.hierarchy.jurisdiction import Action, Jurisdiction
from zhiyuan.hours.ledger import HourLedger
from zhiyuan.scoring.stars import Downgrade, StarScheme, star_name

__all__ = ["Application", "ApplicationStatus", "Decision", "Revocation", "StarBook"]

ApplicationStatus = Literal["applied", "notice", "granted", "rejected", "revoked"]
"""An application's state: ``applied`` (awaiting decision), ``notice`` (approved, 公示 running),
``granted``, ``rejected``, or ``revoked`` (approved, then revoked during the notice or after)."""


@attrs.frozen(kw_only=True)
class Application:
    """An application for a star level (星级申请)."""

    id: str = attrs.field(validator=non_empty)
    volunteer_id: str = attrs.field(validator=non_empty)
    level: int
    at: datetime = attrs.field(converter=to_shanghai, validator=aware)


@attrs.frozen(kw_only=True)
class Decision:
    """The review of an application: approved (then public notice) or rejected, with a reason."""

    application_id: str
    by: str = attrs.field(validator=non_empty)
    approve: bool
    reason: str = attrs.field(validator=non_empty)
    at: datetime = attrs.field(converter=to_shanghai, validator=aware)


@attrs.frozen(kw_only=True)
class Revocation:
    """A revocation of a volunteer's stars (撤销星级); falsified hours bar new applications."""

    id: str = attrs.field(validator=non_empty)
    volunteer_id: str = attrs.field(validator=non_empty)
    by: str = attrs.field(validator=non_empty)
    reason: str = attrs.field(validator=non_empty)
    falsified: bool = False
    at: datetime = attrs.field(converter=to_shanghai, validator=aware)
    banned_until: date | None = None


AwardEntry = Application | Decision | Revocation


class StarBook:
    """The star awards of one scheme, checked against the ledger's hours and the tree.

    Args:
        scheme: the star scheme.
        ledger: the hour ledger (volunteers, certified hours, the tree).
        jurisdiction: who may decide and revoke; ``None`` trusts every caller.
    """

    def __init__(
        self, scheme: StarScheme, ledger: HourLedger, *, jurisdiction: Jurisdiction | None = None
    ) -> None:
        self.scheme = scheme
        self.ledger = ledger
        self.jurisdiction = jurisdiction
        self._lock = threading.RLock()
        self._entries: list[AwardEntry] = []
        self._apps: dict[str, Application] = {}
        self._decisions: dict[str, Decision] = {}
        self._revocations: dict[str, Revocation] = {}
        self._by_volunteer: dict[str, list[str]] = {}
        self._marks: dict[str, list[date]] = {}

    # --- reading ------------------------------------------------------------------------------

    @property
    def entries(self) -> tuple[AwardEntry, ...]:
        """Every entry, in order."""
        with self._lock:
            return tuple(self._entries)

    def status(self, application_id: str, *, as_of: datetime) -> ApplicationStatus | None:
        """An application's state at a moment (``None`` before it was made)."""
        when = moment(as_of)
        with self._lock:
            app = self._apps.get(application_id)
            if app is None:
                raise NotFound("application", application_id)
            return self._status(app, when)

    def _status(self, app: Application, when: datetime) -> ApplicationStatus | None:
        if app.at > when:
            return None
        dec = self._decisions.get(app.id)
        if dec is None or dec.at > when:
            return "applied"
        if not dec.approve:
            return "rejected"
        for rev in self._revocations.values():  # approved, then revoked (in notice or granted)
            if rev.volunteer_id == app.volunteer_id and dec.at <= rev.at <= when:
                return "revoked"
        if dec.at + timedelta(days=self.scheme.notice_days) > when:
            return "notice"
        return "granted"

    def _granted(self, volunteer_id: str, when: datetime) -> Iterator[tuple[int, datetime]]:
        for app_id in self._by_volunteer.get(volunteer_id, ()):
            app = self._apps[app_id]
            if self._status(app, when) == "granted":
                dec = self._decisions[app_id]
                yield app.level, dec.at + timedelta(days=self.scheme.notice_days)

    def level(self, volunteer_id: str, *, as_of: datetime) -> int:
        """The star level a volunteer holds at a moment, after the scheme's downgrade rule."""
        when = moment(as_of)
        with self._lock:
            grants = list(self._granted(volunteer_id, when))
        if not grants:
            return 0
        rule = self.scheme.downgrade
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
            rows = self.ledger.rows(as_of=when, volunteer_id=volunteer_id)
            days = sorted({r.service_date for r in rows if since < r.service_date <= today})
            marks = [since, *days, today]
            idle = sum(relativedelta(b, a).years for a, b in itertools.pairwise(marks))
            held = max(held - idle, 0)
        return held

    def banned_until(self, volunteer_id: str, *, as_of: datetime) -> date | None:
        """The date until which the volunteer may not apply (``None``: free to apply)."""
        when = moment(as_of)
        day = when.date()
        with self._lock:
            bans = [
                r.banned_until
                for r in self._revocations.values()
                if r.volunteer_id == volunteer_id and r.banned_until is not None and r.at <= when
            ]
        latest = max(bans, default=None)
        return latest if latest is not None and latest >= day else None

    def marks(self, volunteer_id: str) -> list[date]:
        """Dates of falsification findings (for the scheme's ``clean_years`` condition)."""
        with self._lock:
            return list(self._marks.get(volunteer_id, ()))

    def counts_by_region(
        self, *, as_of: datetime, within: object | None = None
    ) -> dict[str, dict[int, int]]:
        """How many volunteers hold each level, by home region, rolled up the tree."""
        tree = self.ledger.tree
        when = moment(as_of)
        with self._lock:
            vids = list(self._by_volunteer)
        per_level: dict[int, list[tuple[str, int]]] = {}
        for vid in vids:
            lv = self.level(vid, as_of=when)
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

    def _approver_node(self, volunteer_id: str, level: int) -> str:
        home = self.ledger.volunteer(volunteer_id).home_region
        want: Level = self.scheme.approver_level(level)
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

    def apply(self, id: str, volunteer_id: str, level: int, *, at: datetime) -> None:
        """Apply for ``level`` stars; the same application again is a no-op.

        Raises :class:`~zhiyuan.errors.InvalidValue` (level out of range or not above the held
        one; hours or conditions not met, with the rating's explanation), or
        :class:`~zhiyuan.errors.Conflict` (an open application, a ban, a used id).
        """
        when = moment(at)
        app = Application(id=id, volunteer_id=volunteer_id, level=level, at=when)
        with self._lock:
            old = self._apps.get(id)
            if old is not None:
                if old == app:
                    return
                raise Conflict(f"application id {id!r} is already used / 申请编号已被占用")
            volunteer = self.ledger.volunteer(volunteer_id)
            if not 1 <= level <= self.scheme.top:
                raise InvalidValue(
                    "level", level, f"星级应为 1–{self.scheme.top} / level out of range"
                )
            held = self.level(volunteer_id, as_of=when)
            if level <= held:
                raise InvalidValue("level", level, f"已持有 {held} 星 / already holds {held} stars")
            ban = self.banned_until(volunteer_id, as_of=when)
            if ban is not None:
                raise Conflict(
                    f"{volunteer_id} 禁止申请至 {ban.isoformat()} / barred until {ban.isoformat()}"
                )
            for other in self._by_volunteer.get(volunteer_id, ()):
                if self._status(self._apps[other], when) in ("applied", "notice"):
                    raise Conflict(
                        f"{volunteer_id} 已有待办申请 {other} / has an open application {other}"
                    )
            rating = self.scheme.rate(
                volunteer, self.ledger, when, held=held, marks=self._marks.get(volunteer_id, ())
            )
            if rating.level < level:
                zh, en = star_name(level)
                raise InvalidValue(
                    "level", level, f"未达{zh}条件 / not eligible for {en}: {rating}"
                )
            self._entries.append(app)
            self._apps[id] = app
            self._by_volunteer.setdefault(volunteer_id, []).append(id)

    def decide(
        self, application_id: str, *, by: str, approve: bool, reason: str, at: datetime
    ) -> None:
        """Approve (public notice follows, then the grant) or reject an application.

        The decider needs :attr:`~zhiyuan.hierarchy.Action.APPROVE_STAR` over the volunteer's
        home region at the scheme's approving level for the star. Deciding the same way twice
        is a no-op; deciding otherwise is a :class:`~zhiyuan.errors.Conflict`.
        """
        when = moment(at)
        dec = Decision(
            application_id=application_id, by=by, approve=approve, reason=reason, at=when
        )
        with self._lock:
            app = self._apps.get(application_id)
            if app is None:
                raise NotFound("application", application_id)
            old = self._decisions.get(application_id)
            if old is not None:
                if old.approve == approve:
                    return
                raise Conflict(f"application {application_id!r} is already decided / 申请已审批")
            if when < app.at:
                raise InvalidValue(
                    "at", when.isoformat(), "审批不能早于申请 / cannot decide before applying"
                )
            if self.jurisdiction is not None:
                node = self._approver_node(app.volunteer_id, app.level)
                self.jurisdiction.check(by, Action.APPROVE_STAR, node, on=when.date())
            self._entries.append(dec)
            self._decisions[application_id] = dec

    def revoke(
        self,
        id: str,
        volunteer_id: str,
        *,
        by: str,
        reason: str,
        at: datetime,
        falsified: bool = False,
    ) -> None:
        """Revoke every star the volunteer holds; with ``falsified``, bar new applications.

        The revoker needs authority as for the highest star held. Idempotent by id.
        """
        when = moment(at)
        ban = when.date() + relativedelta(years=self.scheme.ban_years) if falsified else None
        rev = Revocation(
            id=id,
            volunteer_id=volunteer_id,
            by=by,
            reason=reason,
            falsified=falsified,
            at=when,
            banned_until=ban,
        )
        with self._lock:
            old = self._revocations.get(id)
            if old is not None:
                if old == rev:
                    return
                raise Conflict(f"revocation id {id!r} is already used / 编号已被占用")
            self.ledger.volunteer(volunteer_id)
            held = self.level(volunteer_id, as_of=when)
            if self.jurisdiction is not None:
                node = self._approver_node(volunteer_id, max(held, 1))
                self.jurisdiction.check(by, Action.APPROVE_STAR, node, on=when.date())
            self._entries.append(rev)
            self._revocations[id] = rev
            self._by_volunteer.setdefault(volunteer_id, [])
            if falsified:
                self._marks.setdefault(volunteer_id, []).append(when.date())
