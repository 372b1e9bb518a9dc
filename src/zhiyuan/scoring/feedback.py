"""Feedback (评单): ratings of services, complaints and their resolution, and Bayesian scores.

In the 网约 loop (点单 → 派单 → 接单 → 评单 → 奖单) the person served rates the service: 1 to 5 stars
(杭州上城 "上城·青志"; POLICIES.md §4.2), optionally with a comment, and may complain. Each of
these is an immutable entry: a :class:`Rating`, a :class:`Complaint`, and a complaint's
resolution, :class:`Upheld` or :class:`Dismissed`. A :class:`FeedbackBook` holds the entries; every
score and every complaint state as of a moment is a fold over them.

Scores use a Bayesian average, so that a volunteer with one 5-star rating does not outrank one
with a hundred 4.8s: the ratings are pooled with ``weight`` imaginary ratings at the prior mean
(:class:`BayesianPrior`, default 4.00 with weight 5)::

    score = (weight × prior mean + Σ stars) / (weight + n)

computed in integer hundredths of a star and rounded half up (4.125 → 4.13). With the default
prior a single 5-star rating scores 4.17, never 5.00.

An upheld complaint can take the service's hours away (海林: 0 h for a service that drew an upheld
complaint; POLICIES.md "Hours: what local practice adds"): :meth:`FeedbackBook.uphold` given an
:class:`~zhiyuan.hours.ledger.HourLedger` on the same journal reverses the record there (冲销) in
the same transaction, so the hours no longer count from the moment of the decision.

The national texts define no rating scale and no consequence of a bad review (POLICIES.md §7,
item 7): the scale (1–5 stars) follows the platforms, and the prior is a parameter.

Example:
    >>> from datetime import datetime
    >>> from zhiyuan import SHANGHAI
    >>> book = FeedbackBook()
    >>> t = lambda d: datetime(2025, 3, d, 18, tzinfo=SHANGHAI)
    >>> book.add_rating(Rating(id="g1", record_id="r1", volunteer_id="v1", stars=5, at=t(1)))
    >>> print(book.score("v1"))
    4.17 (1 条评价 / 1 rating)
    >>> for i, s in enumerate([5, 4, 4, 5, 4, 5, 4, 4, 5, 4, 4], start=2):
    ...     book.add_rating(Rating(id=f"g{i}", record_id=f"r{i}", volunteer_id="v1", stars=s,
    ...                            at=t(i)))
    >>> print(book.score("v1"))
    4.29 (12 条评价 / 12 ratings)
    >>> book.score("v1").raw_mean_hundredths
    442
    >>> book.file_complaint(Complaint(id="c1", record_id="r3", volunteer_id="v1", at=t(20),
    ...                               text="迟到一小时 / an hour late"))
    >>> book.uphold("c1", by="admin", at=t(22)).id
    'c1#uphold'
    >>> book.upheld_complaints("v1")
    [datetime.date(2025, 3, 22)]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any, Literal

import attrs

from zhiyuan._validators import (
    COUNT,
    SHANGHAI,
    Clock,
    arg_of,
    aware,
    bounded,
    is_a,
    is_date,
    key,
    non_empty,
    non_negative,
    to_shanghai,
)
from zhiyuan.convert import register_tagged_union
from zhiyuan.errors import Conflict, InvalidValue, NotFound
from zhiyuan.explain import Finding, finding, register_messages
from zhiyuan.hours.ledger import HourLedger
from zhiyuan.hours.policy import Rounding
from zhiyuan.journal import Book, Journal, Transaction
from zhiyuan.journal._ids import derive, own_id
from zhiyuan.journal._pickle import register_state_type
from zhiyuan.profiles import Source, explain_policy, to_source
from zhiyuan.schedule import Schedule

__all__ = [
    "MAX_STARS",
    "MIN_STARS",
    "BayesianPrior",
    "Complaint",
    "ComplaintStatus",
    "Dismissed",
    "FeedbackBook",
    "FeedbackEntry",
    "FeedbackScore",
    "Rating",
    "Upheld",
    "format_hundredths",
]

MIN_STARS = 1
"""The lowest rating (一星)."""
MAX_STARS = 5
"""The highest rating (五星)."""

ComplaintStatus = Literal["open", "upheld", "dismissed"]
"""A complaint's state as of a moment: ``open`` (filed, not decided), ``upheld`` (投诉成立) or
``dismissed`` (投诉不成立)."""


register_messages(
    {
        ("feedback.count", ""): (("count",), "{count} 条评价", "{count} ratings"),
        ("feedback.count", "one"): (("count",), "{count} 条评价", "{count} rating"),
        ("feedback.bayes", ""): (
            ("weight", "prior", "stars", "count", "score"),
            "贝叶斯平均 ({weight} × {prior} + {stars}) ÷ ({weight} + {count}) = {score}，"
            "保留两位小数四舍五入",
            "Bayesian average ({weight} × {prior} + {stars}) / ({weight} + {count}) = {score}, "
            "rounded half up to hundredths",
        ),
        ("feedback.raw", ""): (
            ("mean", "count"),
            "{count} 条评价的原始平均 {mean}",
            "raw mean of {count} ratings {mean}",
        ),
        ("feedback.raw", "none"): ((), "尚无评价，取先验均值", "no ratings yet: the prior mean"),
        ("feedback.reversal", ""): (
            ("complaint",),
            "投诉 {complaint} 成立，该次服务不计工时",
            "complaint {complaint} upheld; the service's hours no longer count",
        ),
    }
)


def format_hundredths(value: int) -> str:
    """Hundredths as a decimal with two places: ``433`` → ``'4.33'``.

    Example:
        >>> format_hundredths(433), format_hundredths(5), format_hundredths(-150)
        ('4.33', '0.05', '-1.50')
    """
    sign = "-" if value < 0 else ""
    whole, frac = divmod(abs(value), 100)
    return f"{sign}{whole}.{frac:02d}"


# --- validators --------------------------------------------------------------------------------


def _stars(_: object, attribute: attrs.Attribute[Any], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not MIN_STARS <= value <= MAX_STARS:
        raise InvalidValue(
            attribute.name,
            value,
            f"评分为 {MIN_STARS} 到 {MAX_STARS} 星的整数 / stars are a whole number from "
            f"{MIN_STARS} to {MAX_STARS}",
        )


def _optional_id(_: object, attribute: attrs.Attribute[Any], value: str | None) -> None:
    if value is not None:
        non_empty(_, attribute, value)


def _text(_: object, attribute: attrs.Attribute[Any], value: str) -> None:
    if not isinstance(value, str):
        raise InvalidValue(attribute.name, value, "需要字符串 / need a string")


def _prior_mean(_: object, attribute: attrs.Attribute[Any], value: int) -> None:
    non_negative(_, attribute, value)
    if not MIN_STARS * 100 <= value <= MAX_STARS * 100:
        raise InvalidValue(
            attribute.name,
            value,
            "先验均值以百分之一星计，应在 100 到 500 之间 / the prior mean is in hundredths of a "
            "star, from 100 to 500",
        )


# --- entries -----------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Rating:
    """A rating of one service (评单): 1 to 5 whole stars, given at ``at``, with a comment.

    ``record_id`` is the service record rated; ``volunteer_id`` the volunteer who served; ``team_id``
    optionally the team (志愿服务队伍) the service was dispatched to. ``at`` must be timezone-aware
    and is kept in Asia/Shanghai. Every validation error names its field.

    Example:
        >>> from datetime import datetime
        >>> from zhiyuan import SHANGHAI
        >>> Rating(id="g1", record_id="r1", volunteer_id="v1", stars=6,
        ...        at=datetime(2025, 3, 1, tzinfo=SHANGHAI))
        Traceback (most recent call last):
        ...
        zhiyuan.errors.InvalidValue: stars: 6: 评分为 1 到 5 星的整数 / stars are a whole number from 1 to 5
    """

    id: str = attrs.field(validator=non_empty)
    record_id: str = attrs.field(validator=non_empty)
    volunteer_id: str = attrs.field(validator=non_empty)
    team_id: str | None = attrs.field(default=None, validator=_optional_id)
    stars: int = attrs.field(validator=_stars)
    at: datetime = attrs.field(converter=to_shanghai, validator=aware)
    comment: str = attrs.field(default="", validator=_text)


@attrs.frozen(kw_only=True)
class Complaint:
    """A complaint about one service (投诉), filed at ``at``; open until upheld or dismissed."""

    id: str = attrs.field(validator=non_empty)
    record_id: str = attrs.field(validator=non_empty)
    volunteer_id: str = attrs.field(validator=non_empty)
    team_id: str | None = attrs.field(default=None, validator=_optional_id)
    at: datetime = attrs.field(converter=to_shanghai, validator=aware)
    text: str = attrs.field(validator=non_empty)


@attrs.frozen(kw_only=True)
class Upheld:
    """The decision that a complaint is founded (投诉成立), by whom, when and why."""

    complaint_id: str = attrs.field(validator=non_empty)
    by: str = attrs.field(validator=non_empty)
    at: datetime = attrs.field(converter=to_shanghai, validator=aware)
    reason: str = attrs.field(default="", validator=_text)

    @property
    def id(self) -> str:
        """``<complaint id>#uphold``: a complaint is decided once."""
        return derive(self.complaint_id, "uphold")


@attrs.frozen(kw_only=True)
class Dismissed:
    """The decision that a complaint is unfounded (投诉不成立), by whom, when and why."""

    complaint_id: str = attrs.field(validator=non_empty)
    by: str = attrs.field(validator=non_empty)
    at: datetime = attrs.field(converter=to_shanghai, validator=aware)
    reason: str = attrs.field(default="", validator=_text)

    @property
    def id(self) -> str:
        """``<complaint id>#dismiss``: a complaint is decided once."""
        return derive(self.complaint_id, "dismiss")


FeedbackEntry = Rating | Complaint | Upheld | Dismissed
"""Any entry of a :class:`FeedbackBook`."""

register_tagged_union(
    FeedbackEntry,
    {
        Rating: "feedback.rating",
        Complaint: "feedback.complaint",
        Upheld: "feedback.upheld",
        Dismissed: "feedback.dismissed",
    },
)

Resolution = Upheld | Dismissed


# --- the prior and the score -------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class BayesianPrior:
    """The prior of the Bayesian average: ``weight`` imaginary ratings at ``mean_hundredths``.

    Policy data: frozen, loadable from JSON/TOML, in force from ``effective_from`` (default: the
    in-force date of 民政部令第67号, whose records include evaluation). ``weight = 0`` gives the raw
    mean (and the prior mean while there are no ratings).

    A single 5-star rating stays below 5.00 whenever ``weight ≥ 2`` and the mean is below 5.00, or
    ``weight = 1`` and the mean is at most 4.98 (a mean of 4.99 with weight 1 gives 4.995, which
    rounds half up to 5.00).

    Example:
        >>> p = BayesianPrior()
        >>> p.apply(star_sum=5, count=1)     # (5 × 400 + 500) / 6 = 416.67 → 417
        417
        >>> from zhiyuan.convert import from_toml, to_toml
        >>> from_toml(to_toml(p), BayesianPrior) == p
        True
    """

    mean_hundredths: int = attrs.field(default=400, validator=_prior_mean)
    weight: int = attrs.field(default=5, validator=bounded(0, COUNT, "ratings"))
    effective_from: date = attrs.field(default=date(2021, 2, 1), validator=is_date)
    source: Source | None = attrs.field(default=None, converter=to_source)

    def explain(self) -> str:
        """This policy in two lines, Chinese / English: name, first day in force, source."""
        return explain_policy(self, "评价先验", "Bayesian prior")

    def apply(self, *, star_sum: int, count: int) -> int:
        """The Bayesian average in hundredths for ``count`` ratings summing to ``star_sum``."""
        den = self.weight + count
        if den == 0:
            return self.mean_hundredths
        return Rounding.HALF_UP.divide(self.weight * self.mean_hundredths + 100 * star_sum, den)


_DEFAULT_PRIOR = BayesianPrior()


@attrs.frozen(kw_only=True)
class FeedbackScore:
    """A feedback score: how many ratings, their raw mean, and the Bayesian average.

    Hundredths of a star throughout (433 = 4.33★). ``raw_mean_hundredths`` is ``None`` while there
    are no ratings. The numbers are checked against each other on construction, so a score loaded
    from outside cannot disagree with itself; build one with :meth:`of`.

    Example:
        >>> s = FeedbackScore.of([5, 4, 4])
        >>> s.raw_mean_hundredths, s.bayesian_hundredths      # 433.3 and 412.5 → 413
        (433, 413)
        >>> print(s.explain())
        4.13 (3 条评价 / 3 ratings)
          贝叶斯平均 (5 × 4.00 + 13) ÷ (5 + 3) = 4.13，保留两位小数四舍五入 / Bayesian average (5 × 4.00 + 13) / (5 + 3) = 4.13, rounded half up to hundredths
          3 条评价的原始平均 4.33 / raw mean of 3 ratings 4.33
    """

    count: int = attrs.field(validator=non_negative)
    star_sum: int = attrs.field(validator=non_negative)
    raw_mean_hundredths: int | None
    bayesian_hundredths: int
    prior: BayesianPrior = attrs.field(default=_DEFAULT_PRIOR, validator=is_a(BayesianPrior))

    def __attrs_post_init__(self) -> None:
        if not MIN_STARS * self.count <= self.star_sum <= MAX_STARS * self.count:
            raise InvalidValue(
                "star_sum",
                self.star_sum,
                f"{self.count} 条评价的星数之和应在 {MIN_STARS * self.count} 到 "
                f"{MAX_STARS * self.count} / {self.count} ratings sum to "
                f"{MIN_STARS * self.count}..{MAX_STARS * self.count} stars",
            )
        raw = Rounding.HALF_UP.divide(100 * self.star_sum, self.count) if self.count else None
        if self.raw_mean_hundredths != raw:
            raise InvalidValue(
                "raw_mean_hundredths", self.raw_mean_hundredths, f"应为 / should be {raw}"
            )
        bayes = self.prior.apply(star_sum=self.star_sum, count=self.count)
        if self.bayesian_hundredths != bayes:
            raise InvalidValue(
                "bayesian_hundredths", self.bayesian_hundredths, f"应为 / should be {bayes}"
            )

    @classmethod
    def of(cls, stars: Iterable[int], prior: BayesianPrior = _DEFAULT_PRIOR) -> FeedbackScore:
        """The score of some star values (each 1–5) under ``prior``."""
        count = total = 0
        for s in stars:
            if isinstance(s, bool) or not isinstance(s, int) or not MIN_STARS <= s <= MAX_STARS:
                raise InvalidValue(
                    "stars", s, "评分为 1 到 5 星的整数 / stars are a whole number from 1 to 5"
                )
            count += 1
            total += s
        return cls(
            count=count,
            star_sum=total,
            raw_mean_hundredths=Rounding.HALF_UP.divide(100 * total, count) if count else None,
            bayesian_hundredths=prior.apply(star_sum=total, count=count),
            prior=prior,
        )

    def _count(self) -> tuple[str, str]:
        f = finding("feedback.count", (self.count,), "one" if self.count == 1 else "")
        return f.zh, f.en

    @property
    def zh(self) -> str:
        """The headline in Chinese: ``4.33（12 条评价）``."""
        return f"{format_hundredths(self.bayesian_hundredths)}（{self._count()[0]}）"

    @property
    def en(self) -> str:
        """The headline in English: ``4.33 (12 ratings)``."""
        return f"{format_hundredths(self.bayesian_hundredths)} ({self._count()[1]})"

    def __str__(self) -> str:
        zh, en = self._count()
        return f"{format_hundredths(self.bayesian_hundredths)} ({zh} / {en})"

    @property
    def findings(self) -> tuple[Finding, ...]:
        """The Bayesian formula with its numbers, then the raw mean (``feedback.*`` messages)."""
        p = self.prior
        bayes = finding(
            "feedback.bayes",
            (
                p.weight,
                format_hundredths(p.mean_hundredths),
                self.star_sum,
                self.count,
                format_hundredths(self.bayesian_hundredths),
            ),
        )
        if self.raw_mean_hundredths is None:
            return bayes, finding("feedback.raw", (), "none")
        return bayes, finding(
            "feedback.raw", (format_hundredths(self.raw_mean_hundredths), self.count)
        )

    def explain(self) -> str:
        """The headline, the Bayesian formula with its numbers, and the raw mean."""
        return "\n".join([str(self), *(f"  {f.zh} / {f.en}" for f in self.findings)])


# --- the book ----------------------------------------------------------------------------------


def _moment(value: datetime | None, field: str = "as_of") -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise InvalidValue(field, value, "需要带时区的时间 / need a timezone-aware datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidValue(field, value.isoformat(), "缺少时区 / naive datetime")
    return to_shanghai(value)


class _FeedbackState:
    """The folded feedback: ratings in order, complaints and their resolutions by complaint id."""

    __slots__ = ("complaints", "ratings", "resolutions")

    def __init__(self) -> None:
        self.ratings: list[Rating] = []
        self.complaints: dict[str, Complaint] = {}
        self.resolutions: dict[str, Resolution] = {}

    def apply(self, entry: FeedbackEntry) -> None:
        if isinstance(entry, Rating):
            self.ratings.append(entry)
        elif isinstance(entry, Complaint):
            self.complaints[entry.id] = entry
        else:
            self.resolutions[entry.complaint_id] = entry


register_state_type(_FeedbackState)


class FeedbackBook(Book[FeedbackEntry, _FeedbackState]):
    """Ratings, complaints and resolutions, and the scores folded from them (评单台账).

    Adding is idempotent by id: the same entry again is a no-op; another entry under a used id
    raises :class:`~zhiyuan.errors.Conflict`. Ratings and complaints share one id space (the
    caller's: no ``#``); resolutions have the ids ``<complaint>#uphold`` and
    ``<complaint>#dismiss``. Every check runs before anything is recorded, so a refused entry
    leaves the book exactly as it was. All methods are thread-safe.

    Args:
        policies: Bayesian priors; a score as of a moment uses the one in force on that day (the
            latest ``effective_from`` on or before it; the earliest before that). Default: one
            :class:`BayesianPrior`.
        entries: entries to add at once, in order (as by :meth:`add`, in one transaction).
        journal: the journal to record in (default: a new in-memory one); an hour ledger whose
            records an upheld complaint reverses must be on the same journal.
        name: the book's name in the journal (default ``feedback``).
        clock: the clock of the new journal made when ``journal`` is not given.
    """

    kind = "feedback"
    entry_type = FeedbackEntry

    def __init__(
        self,
        *,
        policies: BayesianPrior | Iterable[BayesianPrior] = (),
        entries: Iterable[FeedbackEntry] = (),
        journal: Journal | None = None,
        name: str | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.policies: Schedule[BayesianPrior] = Schedule(
            policies, kind=BayesianPrior, field="policies", default=_DEFAULT_PRIOR
        )
        super().__init__(journal=journal, name=name, clock=clock)
        with self.journal.transaction():
            for e in entries:
                self.add(e)

    def _new_state(self) -> _FeedbackState:
        return _FeedbackState()

    def policy_for(self, day: date) -> BayesianPrior:
        """The prior in force on ``day``."""
        return self.policies.on(day)

    # --- adding -------------------------------------------------------------------------------

    def _check(self, entry: FeedbackEntry) -> None:
        """A resolution must name a filed complaint (:class:`~zhiyuan.errors.NotFound`), must not
        come before it (:class:`~zhiyuan.errors.InvalidValue`), and a complaint is decided once
        (:class:`~zhiyuan.errors.Conflict`). Ratings and complaints carry the caller's ids."""
        if not isinstance(entry, (Rating, Complaint, Upheld, Dismissed)):
            raise InvalidValue(
                "entry",
                type(entry).__name__,
                "不是评单条目 / not a Rating, Complaint, Upheld or Dismissed",
            )
        if isinstance(entry, (Upheld, Dismissed)):
            self._check_resolution(entry)
        else:
            own_id(entry.id, "id")

    def add(self, entry: FeedbackEntry) -> FeedbackEntry:
        """Add any entry (the replay path: resolutions here touch no hour ledger).

        A resolution must name a filed complaint (:class:`~zhiyuan.errors.NotFound`), must not
        come before it (:class:`~zhiyuan.errors.InvalidValue`), and a complaint is decided once
        (:class:`~zhiyuan.errors.Conflict`).
        """
        if not isinstance(entry, (Rating, Complaint, Upheld, Dismissed)):
            raise InvalidValue(
                "entry",
                type(entry).__name__,
                "不是评单条目 / not a Rating, Complaint, Upheld or Dismissed",
            )
        return super().add(entry)

    def _stage_ratings(self, tx: Transaction, ratings: Sequence[Rating]) -> None:
        """Stage ratings the library made (their ids are derived), skipping recorded ones."""
        recorded = self.journal.find_many(self.name, [r.id for r in ratings])
        fresh = []
        for r in ratings:
            old = recorded.get(r.id)
            if old is not None:
                if old != r:
                    raise Conflict(f"entry id {r.id!r} is already used / 条目编号已被占用")
                continue
            fresh.append(r)
        tx.add(self, fresh)

    def add_rating(self, rating: Rating) -> None:
        """Add a rating (评价)."""
        if not isinstance(rating, Rating):
            raise InvalidValue("rating", type(rating).__name__, "需要 Rating / need a Rating")
        self.add(rating)

    def file_complaint(self, complaint: Complaint) -> None:
        """File a complaint (投诉); it stays open until upheld or dismissed."""
        if not isinstance(complaint, Complaint):
            raise InvalidValue(
                "complaint", type(complaint).__name__, "需要 Complaint / need a Complaint"
            )
        self.add(complaint)

    def uphold(
        self,
        complaint_id: str,
        *,
        by: str,
        at: datetime | None = None,
        reason: str = "",
        ledger: HourLedger | None = None,
    ) -> Upheld:
        """Uphold a complaint (投诉成立); with ``ledger``, reverse the service's hours there.

        The reversal is :meth:`HourLedger.reverse(record_id, by=by, reason=…, at=at)
        <zhiyuan.hours.HourLedger.reverse>`: from ``at`` on the record counts nowhere. The
        ledger must be on the book's journal: the decision and the reversal are recorded in one
        transaction, so an unknown record (:class:`~zhiyuan.errors.NotFound`), a record of
        another volunteer (:class:`~zhiyuan.errors.InvalidValue`) or a ``by`` without authority
        there (:class:`~zhiyuan.errors.PermissionDenied`) leaves both unchanged.

        Upholding again is a no-op that returns the first decision (and, given a ledger, makes
        sure the reversal is there: reversing is a no-op in the ledger too). A dismissed
        complaint cannot be upheld (:class:`~zhiyuan.errors.Conflict`).

        Example:
            >>> from datetime import date, datetime
            >>> from zhiyuan import SHANGHAI
            >>> from zhiyuan.hierarchy import load_default, Registry, Organization
            >>> from zhiyuan.hours import HourLedger, ServiceRecord, Evidence, Volunteer
            >>> reg = Registry(load_default(), [Organization(id="o1", name="向阳街道志愿者协会",
            ...                                              region_code="370602001")])
            >>> ledger = HourLedger(reg)
            >>> ledger.add_volunteer(Volunteer(id="v1", name="王芳", home_region="370602001001",
            ...                                registered_on=date(2024, 1, 1)))
            >>> t = lambda d, h: datetime(2025, 3, d, h, tzinfo=SHANGHAI)
            >>> rec = ServiceRecord(id="r1", volunteer_id="v1", activity_id="a1",
            ...     organization_id="o1", region_code="370602001001", category="助老",
            ...     evidence=Evidence.QR_SCAN, start=t(1, 9), end=t(1, 12))
            >>> ledger.post(rec, at=t(1, 13)).counted_minutes
            180
            >>> ledger.certify("r1", by="admin", at=t(1, 14))
            >>> book = FeedbackBook(journal=ledger.journal)
            >>> book.file_complaint(Complaint(id="c1", record_id="r1", volunteer_id="v1",
            ...                               at=t(2, 9), text="未到场 / did not turn up"))
            >>> book.uphold("c1", by="admin", at=t(3, 9), ledger=ledger).at.day
            3
            >>> ledger.status("r1"), ledger.minutes("v1", as_of=t(2, 9)), ledger.minutes("v1")
            ('reversed', 180, 0)
        """
        if ledger is not None and arg_of("ledger", HourLedger, ledger).journal is not self.journal:
            raise InvalidValue(
                "ledger",
                ledger.name,
                "台账须与评单在同一日志上 / the ledger must be on the feedback book's journal",
            )
        with self.journal.transaction() as tx:
            entry = Upheld(complaint_id=complaint_id, by=by, at=self._when(at), reason=reason)
            old = self._resolution(complaint_id)
            if isinstance(old, Upheld):
                entry = old
            else:
                self._check_resolution(entry)
            if ledger is not None:
                self._reverse_in(ledger, entry)
            if old is None:
                tx.add(self, [entry])
        return entry

    def dismiss(
        self, complaint_id: str, *, by: str, at: datetime | None = None, reason: str = ""
    ) -> Dismissed:
        """Dismiss a complaint (投诉不成立). Dismissing again is a no-op returning the first
        decision; an upheld complaint cannot be dismissed (:class:`~zhiyuan.errors.Conflict`)."""
        with self.journal.transaction() as tx:
            entry = Dismissed(complaint_id=complaint_id, by=by, at=self._when(at), reason=reason)
            old = self._resolution(complaint_id)
            if isinstance(old, Dismissed):
                return old
            self._check_resolution(entry)
            tx.add(self, [entry])
        return entry

    def _complaint(self, complaint_id: str) -> Complaint:
        """A filed complaint, staged in the open transaction or recorded."""
        c = self._state.complaints.get(complaint_id)
        if c is None:
            found = self.journal.find(self.name, complaint_id)
            c = found if isinstance(found, Complaint) else None
        if c is None:
            raise NotFound("complaint", complaint_id)
        return c

    def _resolution(self, complaint_id: str) -> Resolution | None:
        old = self._state.resolutions.get(complaint_id)
        if old is None:
            for kind in ("uphold", "dismiss"):
                found = self.journal.find(self.name, derive(complaint_id, kind))
                if found is not None:
                    old = found
        return old

    def _check_resolution(self, entry: Resolution) -> None:
        complaint = self._complaint(entry.complaint_id)
        old = self._resolution(entry.complaint_id)
        if old is not None and old != entry:
            state = "upheld" if isinstance(old, Upheld) else "dismissed"
            raise Conflict(
                f"complaint {entry.complaint_id!r} is already {state} / 投诉已处理"
                f"（{'成立' if state == 'upheld' else '不成立'}）"
            )
        if entry.at < complaint.at:
            raise InvalidValue(
                "at",
                entry.at.isoformat(),
                f"处理不能早于投诉时间 {complaint.at.isoformat()} / a decision cannot come "
                "before the complaint",
            )

    def _reverse_in(self, ledger: HourLedger, entry: Upheld) -> None:
        complaint = self._complaint(entry.complaint_id)
        record = ledger.record(complaint.record_id)  # NotFound for an unknown record
        if record.volunteer_id != complaint.volunteer_id:
            raise InvalidValue(
                "volunteer_id",
                complaint.volunteer_id,
                f"记录 {record.id} 属于志愿者 {record.volunteer_id} / record {record.id} belongs "
                f"to volunteer {record.volunteer_id}",
            )
        why = finding("feedback.reversal", (complaint.id,))
        reason = f"{why.zh} / {why.en}"
        if entry.reason:
            reason += f": {entry.reason}"
        ledger.reverse(record.id, by=entry.by, reason=reason, at=entry.at)

    # --- reading ------------------------------------------------------------------------------

    def __len__(self) -> int:
        with self._lock:
            st = self._state
            return len(st.ratings) + len(st.complaints) + len(st.resolutions)

    def complaint(self, complaint_id: str) -> Complaint:
        """A filed complaint, or :class:`~zhiyuan.errors.NotFound`."""
        with self._lock:
            c = self._state.complaints.get(key("complaint_id", complaint_id))
        if c is None:
            raise NotFound("complaint", complaint_id)
        return c

    def ratings(
        self,
        volunteer_id: str | None = None,
        *,
        team_id: str | None = None,
        as_of: datetime | None = None,
    ) -> list[Rating]:
        """The ratings given by ``as_of`` (default: all), for a volunteer and/or a team, in order
        added."""
        when = _moment(as_of)
        with self._lock:
            rows = list(self._state.ratings)
        return [
            r
            for r in rows
            if (volunteer_id is None or r.volunteer_id == volunteer_id)
            and (team_id is None or r.team_id == team_id)
            and (when is None or r.at <= when)
        ]

    def score(
        self,
        volunteer_id: str | None = None,
        *,
        team_id: str | None = None,
        as_of: datetime | None = None,
        prior: BayesianPrior | None = None,
    ) -> FeedbackScore:
        """The feedback score of a volunteer, a team, both, or everyone (both ``None``).

        Folds the ratings given by ``as_of`` (default: all of them). The prior is ``prior`` if
        given (a what-if), else the one in force on ``as_of``'s date (without ``as_of``: on the date
        of the newest rating counted). Ratings of services that later drew an upheld complaint
        still count: a rating is the requester's view, the complaint acts on the hours.
        """
        if prior is not None and not isinstance(prior, BayesianPrior):
            raise InvalidValue("prior", prior, "需要 BayesianPrior / need a BayesianPrior")
        when = _moment(as_of)
        chosen = self.ratings(volunteer_id, team_id=team_id, as_of=when)
        if prior is None:
            if when is not None:
                prior = self.policy_for(when.date())
            elif chosen:
                prior = self.policy_for(max(r.at for r in chosen).date())
            else:
                prior = self.policies[0]
        return FeedbackScore.of((r.stars for r in chosen), prior)

    def complaint_status(
        self, complaint_id: str, *, as_of: datetime | None = None
    ) -> ComplaintStatus | None:
        """A complaint's state (latest, or as of a moment; ``None`` if not yet filed then)."""
        when = _moment(as_of)
        with self._lock:
            c = self._state.complaints.get(key("complaint_id", complaint_id))
            res = self._state.resolutions.get(complaint_id)
        if c is None:
            raise NotFound("complaint", complaint_id)
        return self._status(c, res, when)

    @staticmethod
    def _status(
        c: Complaint, res: Resolution | None, when: datetime | None
    ) -> ComplaintStatus | None:
        if when is not None and c.at > when:
            return None
        if res is None or (when is not None and res.at > when):
            return "open"
        return "upheld" if isinstance(res, Upheld) else "dismissed"

    def complaints(
        self,
        volunteer_id: str | None = None,
        *,
        status: ComplaintStatus | None = None,
        as_of: datetime | None = None,
    ) -> list[Complaint]:
        """Complaints filed by ``as_of``, optionally against one volunteer and in one state."""
        if status is not None and status not in ("open", "upheld", "dismissed"):
            raise InvalidValue("status", status, "应为 / one of open, upheld, dismissed")
        when = _moment(as_of)
        with self._lock:
            pairs = [
                (c, self._state.resolutions.get(c.id)) for c in self._state.complaints.values()
            ]
        out = []
        for c, res in pairs:
            if volunteer_id is not None and c.volunteer_id != volunteer_id:
                continue
            state = self._status(c, res, when)
            if state is None or (status is not None and state != status):
                continue
            out.append(c)
        return out

    def upheld_complaints(
        self,
        volunteer_id: str,
        since: date | None = None,
        *,
        as_of: datetime | None = None,
    ) -> list[date]:
        """The dates (Asia/Shanghai) on which complaints against a volunteer were upheld, sorted.

        One date per upheld complaint, the day of the decision; only decisions on or after
        ``since`` and made by ``as_of`` (default: all). This is what a star scheme's "no upheld
        complaint in the last N years" condition reads.
        """
        if since is not None and (isinstance(since, datetime) or not isinstance(since, date)):
            raise InvalidValue("since", since, "需要日期 / need a date (not a datetime)")
        when = _moment(as_of)
        with self._lock:
            pairs = [
                (c, self._state.resolutions.get(c.id)) for c in self._state.complaints.values()
            ]
        days = []
        for c, res in pairs:
            if c.volunteer_id != volunteer_id or not isinstance(res, Upheld):
                continue
            if when is not None and res.at > when:
                continue
            day = res.at.astimezone(SHANGHAI).date()
            if since is None or day >= since:
                days.append(day)
        return sorted(days)
