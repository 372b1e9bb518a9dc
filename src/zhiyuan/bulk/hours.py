"""The hour policy over columns: :func:`evaluate_hours`, the twin of posting into an HourLedger.

``evaluate_hours(records, policy, now=...)`` gives, for every row, exactly what
``HourLedger(…, policies=[policy]).post_many(records, at=now)`` gives for the same records posted
in row order: served, counted and weighted minutes, the status, the rule that rejected the row
(if any) and the purposes its evidence counts toward. Rows of one volunteer are judged in row
order against that volunteer's already-counted time and per-day minutes, as the ledger does;
different volunteers never interact, so any split of the rows by volunteer (a partition) can be
evaluated on its own (:mod:`zhiyuan.bulk.dask`).

What is vectorized (numpy, no Python loop over rows)
----------------------------------------------------
Rows are sorted by (volunteer, row order), stably. Per row: categories, span, deadline, the
schedule cap, the record cap, rounding and category weights are plain array expressions. The
schedule cap keeps a capped row's time inside its schedule's window, which starts at the
optional ``scheduled_start`` column (the row's start when none is given) and lasts
``scheduled_minutes``: it moves the row's start and end inward, nothing more.

Overlap (``hours.overlap``). Call a row a *candidate* when no earlier rule rejected it, and let
``start`` and ``E`` be its start and end after the schedule cap. If a volunteer's candidates come
in non-decreasing start order, then the time already counted from ``start_k`` on is the single interval
``[start_k, M)``, ``M`` the latest end of the earlier candidates that were *held* (counted, with
minutes > 0). Proof by induction: if it holds before row ``k``, the TRIM rule leaves row ``k`` the
one piece ``[max(start_k, M), E_k)``, and holding that piece makes it hold for the next start
(which is ≥ ``start_k``) with ``M`` raised to ``E_k``. REJECT fires exactly when ``M > start_k``.
The vector path replaces ``M`` by the running maximum ``R`` of ``E`` over *all* earlier
candidates (``np.maximum.accumulate`` with a per-volunteer offset), and then checks the one thing
that can make ``R`` differ from ``M`` where it matters: a candidate that ends up not held (trimmed
below one minute, rounded down to zero, capped to zero by the day, rejected) with
``E_k > max(R_before_k, next start)``. If no such row exists, ``max(R, t) = max(M, t)`` for every
later start ``t`` (induction again), so every row's piece and verdict are exact.

Daily cap (``hours.daily_cap``). Minutes are attributed to service days as the rule does
(earliest first, never more on a day than was served on it, the last day takes the rest), by
expanding rows that cross midnight into one piece per day (days are Shanghai days:
``(epoch + 8 h) // 86400``). For TRIM, a (volunteer, day) group whose pieces all come from
one-day rows is a clipped cumulative sum: counted = ``min(cap, C_k) − min(cap, C_{k−1})``, ``C``
the running sum of the rows' minutes (exact because minutes and the cap are whole units, so the
day's total stays a whole number of units; for one day the rule's "served seconds within the
room, snapped, at most the room in whole units" is exactly that). Every other group — one that a
midnight-crossing row touches, and every group under APPROVAL or REJECT — takes the running sum
of the rows' day splits as the minutes already used. That is exact as long as each row holds
exactly its day split: true for a row sent for approval (its minutes all stay, split as they
fell), and true for a row that fits unless the rule's walk moves minutes between its days
(possible when a record cap or rounding left other minutes than were served). With those
minutes used, each row's verdict is the rule's own arithmetic over its pieces: the seconds each
day's room admits, summed, at most the minutes before rounding, snapped, at most the room in
whole units; over the cap when that is less than the row's minutes. The vector path walks each
row's days as the rule does, compares what it keeps with the split, and marks the volunteer when
they differ, or when a TRIM or REJECT cap bites in such a group.

The exact path
--------------
Volunteers with a marked row — candidates out of start order; a not-held row that would shift
later pieces; a zero-length scheduled row meeting counted time under REJECT; a daily cap that
trims or rejects in a day shared with a midnight-crossing row, or rejects at all; kept minutes
that differ from the day split — are evaluated exactly, in two stages (``HourColumns.fallback``
marks their rows, and ``fallback=False`` raises :class:`NotVectorized` instead).

First they are settled in columns (:mod:`zhiyuan.bulk._settle`): every candidate is judged, all
at once, against the state the volunteer's earlier rows are *assumed* to leave (which rows are
held, and how many minutes each put on each day), with the rule's own arithmetic — the overlap
interval ``[start, M)`` with ``M`` taken over the held rows only, the record cap, the rounding,
and the daily cap day by day, including ``_attribute``'s spreading of the kept minutes (earliest
day first, then what is left on the latest days with room); the state each row then leaves
becomes the next round's assumption. A row's verdict and state depend only on the state of the
rows before it, so where the state a round computes agrees with the state it assumed on rows
``0…p−1``, those rows' state is the true one (induction on the row) and rows ``0…p`` are exact;
a volunteer whose rows all agree is exact whatever the first guess (the plain pass's). Each
round fixes at least one more row of every volunteer, and at 烟台's scale all settle in a few
rounds. This vectorizes the daily cap's midnight-crossing groups under TRIM, APPROVAL and REJECT,
and not-held rows (rounded to nothing, trimmed to nothing by the day, rejected) that would shift
later pieces.

What is not vectorized
----------------------
The settling judges a volunteer's rows only up to the first it cannot: a candidate out of start
order (the counted time from its start on may be several intervals), or, under REJECT, a
zero-length piece meeting counted time; and after :data:`zhiyuan.bulk._settle.ROUNDS` rounds it
stops at the first row whose state does not yet agree. From that row on, the volunteer's rows
(all of them, whichever rule may reject them) are evaluated by the object path itself, one
volunteer at a time, in posting order (the policy's own rule chain, through the kernel
``HourPolicy.evaluate`` and ``HourLedger`` share, with the occupied time and per-day minutes held
as the ledger holds them), starting from what the settled rows before it hold — their held pieces
and minutes per day, exactly what the ledger holds after posting them — so its results are exact
by construction. Policies with age rules (``min_age``, ``minor_daily_cap_minutes``: they need birth
dates, which columns do not carry) or with rules outside the default chain
(``HourLedger(extra_rules=…)`` has no columnar twin) raise :class:`NotVectorized` naming the
rule.

Example:
    >>> from datetime import datetime
    >>> from zhiyuan import SHANGHAI, system_clock
    >>> from zhiyuan.hours import HOUR_PROFILES
    >>> t = lambda d, h, m=0: int(datetime(2025, 3, d, h, m, tzinfo=SHANGHAI).timestamp())
    >>> records = {"volunteer": ["v1", "v1", "v2"],
    ...            "start": [t(1, 9), t(1, 11), t(1, 20)],
    ...            "end": [t(1, 12, 40), t(1, 13), t(2, 1)],
    ...            "evidence": ["qr_scan"] * 3, "category": ["助老"] * 3}
    >>> now = datetime(2025, 3, 2, 12, tzinfo=SHANGHAI)
    >>> evaluate_hours(records, HOUR_PROFILES["national"], now=now).counted_minutes.tolist()
    [220, 20, 300]
    >>> evaluate_hours(records, HOUR_PROFILES["hailin"], now=now).counted_minutes.tolist()
    [120, 0, 120]
"""

from __future__ import annotations

import bisect
import warnings
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

import attrs
import numpy as np
import numpy.typing as npt

from zhiyuan._validators import SHANGHAI, items, system_clock, to_enum
from zhiyuan.bulk import _frames
from zhiyuan.bulk._columns import (
    DAY,
    EVIDENCE,
    MIN_TIME,
    NONE,
    PURPOSES,
    SHANGHAI_OFFSET,
    STATUSES,
    Columns,
    epoch_seconds,
)
from zhiyuan.bulk._settle import Seed, settle
from zhiyuan.errors import InvalidValue, ZhiyuanError
from zhiyuan.hours.policy import (
    RULES,
    HourPolicy,
    Overflow,
    OverlapRule,
    Segment,
    Status,
)
from zhiyuan.hours.records import ServiceRecord
from zhiyuan.progress import Progress

__all__ = [
    "ACCEPTED",
    "NEEDS_APPROVAL",
    "REJECTED",
    "REJECTING_RULES",
    "STATUSES",
    "HourColumns",
    "NotVectorized",
    "SlowPathWarning",
    "check_policy",
    "counted_rows",
    "evaluate_hours",
    "evaluate_hours_frame",
]

I64 = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
AnyArray = npt.NDArray[Any]

ACCEPTED, NEEDS_APPROVAL, REJECTED = 0, 1, 2

REJECTING_RULES: tuple[str, ...] = tuple(r.id for r in RULES if r.rejects)
"""Codes of ``HourColumns.rejected_by``: the rule that rejected a row (``-1``: none); the ids of
the default rules that can reject (:attr:`~zhiyuan.hours.HourRule.rejects`), in chain order."""
_CATEGORY, _SPAN, _AGE, _DEADLINE, _OVERLAP, _DAILY = (
    REJECTING_RULES.index(f"hours.{r}")
    for r in ("category", "span", "age", "deadline", "overlap", "daily_cap")
)

_CHAIN = RULES  # the vector path knows exactly the default chain
_BIG = np.int64(1 << 34)  # > any span of epoch seconds between 2000 and the year 2500
_FAR = np.iinfo(np.int64).max


class NotVectorized(ZhiyuanError, NotImplementedError):
    """The columnar path cannot give the object path's exact answer here (未向量化).

    Attributes:
        rule: the rule (``hours.age`` …) or condition the columnar path does not cover.
    """

    def __init__(self, rule: str, reason: str) -> None:
        self.rule = rule
        self.reason = reason
        super().__init__(f"{rule}: {reason}")

    def __reduce__(self) -> tuple[object, ...]:
        return (NotVectorized, (self.rule, self.reason))


def check_policy(policy: HourPolicy) -> None:
    """Raise :class:`NotVectorized` if ``policy`` uses a rule the columnar path does not cover.

    Example:
        >>> check_policy(HourPolicy(min_age=14))
        Traceback (most recent call last):
        ...
        zhiyuan.bulk.hours.NotVectorized: hours.age: min_age needs birth dates, which columns do not carry
    """
    chain = policy.rules
    for rule in chain:
        if rule not in _CHAIN:
            name = getattr(rule, "__name__", repr(rule))
            raise NotVectorized(name, "不在默认规则链中 / a rule outside the default chain")
    if chain != tuple(r for r in _CHAIN if r in chain):
        raise NotVectorized("rules", "规则顺序不同 / the rules run in another order")
    if policy.min_age is not None:
        raise NotVectorized("hours.age", "min_age needs birth dates, which columns do not carry")
    if policy.minor_daily_cap_minutes is not None:
        raise NotVectorized(
            "hours.age", "minor_daily_cap_minutes needs birth dates, which columns do not carry"
        )


@attrs.frozen(kw_only=True, eq=False)
class HourColumns:
    """Per-row results of :func:`evaluate_hours`, in the rows' order.

    Attributes:
        served_minutes: whole minutes between start and end.
        counted_minutes: minutes that count (0 when rejected).
        weighted_minutes: ``counted × category weight // 100``.
        status: codes into :data:`STATUSES` (0 accepted, 1 needs approval, 2 rejected).
        rejected_by: codes into :data:`REJECTING_RULES`, ``-1`` when not rejected.
        purposes: bits of :data:`~zhiyuan.bulk.PURPOSES` the evidence counts toward.
        fallback: rows of the volunteers the plain vector pass could not prove exact,
            evaluated on the exact path instead (settled in columns, or by the per-volunteer
            loop from the first row the settling could not judge).
        index: the input's pandas index (``None`` for other inputs), kept by :meth:`to_pandas`.
    """

    served_minutes: I64
    counted_minutes: I64
    weighted_minutes: I64
    status: npt.NDArray[np.int8]
    rejected_by: npt.NDArray[np.int8]
    purposes: I64
    fallback: Bools
    index: Any = None

    def __len__(self) -> int:
        return len(self.counted_minutes)

    def as_dict(self) -> dict[str, AnyArray]:
        """The columns by name, as codes (:data:`STATUSES`, :data:`REJECTING_RULES`)."""
        return {
            f.name: getattr(self, f.name) for f in attrs.fields(HourColumns) if f.name != "index"
        }

    def labelled(self) -> dict[str, AnyArray | _frames.Coded]:
        """The columns by name, ``status`` and ``rejected_by`` as labelled categoricals (the
        statuses' values, the rules' ids; a row not rejected has a missing ``rejected_by``).

        Example:
            >>> rows = {"volunteer": ["v1"], "start": [1740790800], "end": [1740794400],
            ...         "evidence": ["gps"], "category": ["助老"]}
            >>> out = evaluate_hours(rows, now=datetime(2025, 3, 2, tzinfo=SHANGHAI))
            >>> out.labelled()["status"].decoded().tolist()
            ['accepted']
        """
        out: dict[str, AnyArray | _frames.Coded] = dict(self.as_dict())
        out["status"] = _frames.Coded(
            self.status.astype(np.int64), np.array([s.value for s in STATUSES], dtype=object)
        )
        out["rejected_by"] = _frames.Coded(
            self.rejected_by.astype(np.int64), np.array(REJECTING_RULES, dtype=object)
        )
        return out

    def to_pandas(self) -> Any:
        """The columns as a DataFrame (needs pandas), with the input's index and labelled
        categoricals (:meth:`labelled`): ``df.join(result.to_pandas())`` lines up whatever the
        input's order or index.

        Example:
            >>> import pandas as pd
            >>> rows = pd.DataFrame({"volunteer": ["v1", "v2"], "start": [1740790800] * 2,
            ...                      "end": [1740794400, 1740790810], "evidence": "gps",
            ...                      "category": "助老"}, index=[10, 20])
            >>> now = datetime(2025, 3, 2, tzinfo=SHANGHAI)
            >>> out = evaluate_hours(rows, now=now).to_pandas()
            >>> out.index.tolist(), out["status"].tolist(), out["rejected_by"].tolist()
            ([10, 20], ['accepted', 'accepted'], [nan, nan])
        """
        return self.to_frame("pandas")

    def to_frame(self, kind: str = "pandas") -> Any:
        """The columns as a frame of ``kind`` (``"pandas"``, ``"polars"`` or ``"pyarrow"``), as
        :meth:`to_pandas` makes them.

        Example:
            >>> rows = {"volunteer": ["v1"], "start": [1740790800], "end": [1740794400],
            ...         "evidence": ["gps"], "category": ["助老"]}
            >>> out = evaluate_hours(rows, now=datetime(2025, 3, 2, tzinfo=SHANGHAI))
            >>> out.to_frame("polars")["counted_minutes"].to_list()
            [60]
        """
        return _frames.make_frame(self.labelled(), kind=kind, index=self.index)


def _empty() -> HourColumns:
    z = np.zeros(0, dtype=np.int64)
    return HourColumns(
        served_minutes=z,
        counted_minutes=z,
        weighted_minutes=z,
        status=np.zeros(0, dtype=np.int8),
        rejected_by=np.zeros(0, dtype=np.int8),
        purposes=z,
        fallback=np.zeros(0, dtype=bool),
    )


@attrs.frozen
class _Rows:
    """The validated input columns, in the order given."""

    volunteer: I64
    start: I64
    end: I64
    evidence: I64
    category: I64
    categories: tuple[str, ...]
    scheduled: I64
    checkout: Bools
    recorded: I64
    sched_start: I64


def _bad(field: str, mask: Bools, values: AnyArray, reason: str) -> None:
    if bool(mask.any()):
        i = int(np.flatnonzero(mask)[0])
        raise InvalidValue(f"{field}[{i}]", values[i].item(), reason)


def _validated(cols: Columns, now_s: int, sched_start: I64 | None) -> _Rows:
    n = len(cols)
    start, end = cols.get("start"), cols.get("end")
    evidence, category = cols.get("evidence"), cols.get("category")
    sched = cols.scheduled_minutes
    sched = np.full(n, NONE, dtype=np.int64) if sched is None else sched
    checkout = cols.checkout_missing
    checkout = np.zeros(n, dtype=bool) if checkout is None else checkout
    rec = cols.recorded_at
    rec = np.full(n, NONE, dtype=np.int64) if rec is None else rec
    for i, name in enumerate(cols.categories):
        if not name.strip():
            raise InvalidValue(f"categories[{i}]", name, "不能为空 / must not be empty")
    _bad("start", start < MIN_TIME, start, "须不早于 2000-01-01（上海时间）/ times start in 2000")
    _bad("end", end <= start, end, "结束时间须晚于开始时间 / end must be after start")
    _bad("end", end > now_s, end, "记录不能晚于当前时间 / a record cannot end in the future")
    _bad("scheduled_minutes", sched < NONE, sched, "计划时长不能为负 / -1 (none) or ≥ 0")
    given = rec != NONE
    _bad("recorded_at", given & (rec < start), rec, "录入时间不能早于服务开始 / before the start")
    _bad("recorded_at", given & (rec > now_s), rec, "录入时间不能晚于当前时间 / in the future")
    ss = np.full(n, NONE, dtype=np.int64) if sched_start is None else sched_start
    planned = ss != NONE
    _bad(
        "scheduled_start",
        planned & (sched == NONE),
        ss,
        "计划起止须同时给出 / give scheduled_minutes with scheduled_start",
    )
    _bad(
        "scheduled_start",
        planned & (ss < MIN_TIME),
        ss,
        "须不早于 2000-01-01 / times start in 2000",
    )
    return _Rows(
        cols.volunteer, start, end, evidence, category, cols.categories, sched, checkout, rec, ss
    )


def evaluate_hours(
    records: object,
    policy: HourPolicy | None = None,
    *,
    now: datetime | None = None,
    fallback: bool = True,
    order: str = "rows",
    progress: Progress | None = None,
) -> HourColumns:
    """Evaluate service records under ``policy``, as posting them in row order into a ledger.

    Args:
        records: the records as columns (:class:`~zhiyuan.bulk.Columns` or anything
            :meth:`~zhiyuan.bulk.Columns.of` takes): ``volunteer``, ``start``, ``end``,
            ``evidence``, ``category``, optionally ``scheduled_minutes``, ``checkout_missing``,
            ``recorded_at`` and ``scheduled_start`` (epoch seconds or aware times, ``-1`` or
            missing for none: the schedule then starts with the row). Row order is posting
            order.
        policy: the hour policy (default: the national one).
        now: the posting time (default: now), as ``post_many(…, at=now)``: no record may end
            after it, and it is the entry time of rows without ``recorded_at``.
        fallback: evaluate the volunteers the plain vector pass cannot prove exact on the
            exact path (default: settled in columns, the object path from the first row that
            cannot be); ``False`` raises :class:`NotVectorized` instead.
        order: the posting order: ``"rows"`` (default), the rows' order; ``"start"``, each
            volunteer's rows by start time (ties in row order), as an export in no particular
            order was most likely entered. Results are in the rows' order either way. A
            volunteer whose rows are out of start order is evaluated exactly but, from the first
            such row on, on the slow path: when that is a large share of the rows,
            :class:`SlowPathWarning` says so.
        progress: told when the vector path is done and then every 10,000 rows of the exact
            path (:mod:`zhiyuan.progress`; the rows it settled in columns count as done before
            the loop's).

    Raises:
        InvalidValue: a malformed row (named with its index), as the ledger would refuse it.
        NotVectorized: the policy needs a rule the columnar path does not cover.
    """
    if order not in ("rows", "start"):
        raise InvalidValue("order", order, "应为 rows 或 start / one of rows, start")
    pol = HourPolicy() if policy is None else policy
    check_policy(pol)
    moment = system_clock() if now is None else now
    now_s = epoch_seconds(moment)
    cols = Columns.of(records)
    sched_start = cols.scheduled_start
    rows = _validated(cols, now_s, sched_start)
    n = len(cols)
    if n == 0:
        return _empty()
    if order == "start":
        posting = np.lexsort((rows.start, rows.volunteer))  # stable: ties keep row order
    else:
        posting = np.argsort(rows.volunteer, kind="stable")
    counted_s, status_s, rej_s, bad_s, cands = _vector(pol, rows, posting, now_s)
    slow = int(bad_s.sum())
    if progress is not None:
        progress("工时（向量）/ hours (vector path)", n - slow, n)
    todo: Bools | None = None
    seeds: dict[int, Seed] = {}
    if slow:
        if not fallback:
            raise NotVectorized(
                "hours.overlap/hours.daily_cap",
                f"{slow} row(s) need the exact per-volunteer loop "
                "(records out of start order, or caps that move counted time)",
            )
        vol_s = rows.volunteer[posting]
        todo, seeds = _settle_marked(pol, cands, bad_s, vol_s, counted_s, status_s, rej_s)
        _warn_if_slow(rows, posting, todo, int(todo.sum()), order)
    weights = np.array([pol.weight(c) for c in rows.categories], dtype=np.int64)
    weighted_s = counted_s * weights[rows.category[posting]] // 100
    if todo is not None and todo.any():
        _loop(
            pol,
            rows,
            posting,
            todo,
            moment,
            counted_s,
            weighted_s,
            status_s,
            rej_s,
            progress=progress,
            seeds=seeds,
            of=slow,
        )
    elif todo is not None and progress is not None:
        progress("工时（逐行）/ hours (exact path)", slow, slow)  # all settled in columns
    bits = np.array(
        [sum(1 << PURPOSES.index(p) for p in pol.purposes(e)) for e in EVIDENCE], dtype=np.int64
    )
    return HourColumns(
        served_minutes=(rows.end - rows.start) // 60,
        counted_minutes=_unsort(counted_s, posting),
        weighted_minutes=_unsort(weighted_s, posting),
        status=_unsort(status_s, posting),
        rejected_by=_unsort(rej_s, posting),
        purposes=bits[rows.evidence],
        fallback=_unsort(bad_s, posting),
        index=cols.index,
    )


_T = TypeVar("_T", bound=np.generic)

SLOW_SHARE = 0.05
"""The share of rows on the slow path, out of start order, above which a warning is given."""
SLOW_ROWS = 10_000
"""… and the number of such rows (small inputs are fast whatever their order)."""


class SlowPathWarning(UserWarning):
    """Many rows were evaluated on the exact per-volunteer path because each volunteer's rows
    are out of start order: the results are right, but ``order="start"`` (when the rows were
    entered in start order) or sorting the rows first is many times faster.

    Example:
        >>> import warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("error", SlowPathWarning)  # make it an error, to act on it
        ...     issubclass(SlowPathWarning, UserWarning)
        True
    """


def _warn_if_slow(rows: _Rows, posting: I64, bad: Bools, n_bad: int, order: str) -> None:
    """Warn when many of the ``n_bad`` rows the loop takes are there because of the row order,
    not the rules."""
    if order != "rows" or n_bad < SLOW_ROWS:
        return
    v, s = rows.volunteer[posting], rows.start[posting]
    back = np.zeros(len(v), dtype=bool)
    back[1:] = (v[1:] == v[:-1]) & (s[1:] < s[:-1])  # a row that starts before the one before
    marked = np.zeros(int(v.max()) + 1, dtype=bool)
    marked[v[back]] = True
    slow = int((bad & marked[v]).sum())
    if slow >= SLOW_ROWS and slow > SLOW_SHARE * len(v):
        warnings.warn(
            f"{slow} 行因记录未按开始时间排列而逐行计算；按开始时间排序或用 order='start' 更快 / "
            f"{slow} of {len(v)} rows took the slow exact path because the rows are not in "
            "start order: sort them by start, or pass order='start'",
            SlowPathWarning,
            stacklevel=3,
        )


def _unsort(values: npt.NDArray[_T], order: I64) -> npt.NDArray[_T]:
    out = np.empty_like(values)
    out[order] = values
    return out


def _snap(pol: HourPolicy, m: I64) -> I64:
    return pol.rounding.snap(m, pol.unit_minutes)


@attrs.frozen
class _Candidates:
    """The marked volunteers' rows that reach the overlap rule (``at``: their positions in
    posting order), with their volunteer, their time after the schedule cap, their status before
    the overlap rule and whether the plain vector pass held them."""

    at: I64
    volunteer: I64
    start: I64
    end: I64
    status: npt.NDArray[np.int8]
    held: Bools


def _vector(
    pol: HourPolicy, rows: _Rows, order: I64, now_s: int
) -> tuple[I64, npt.NDArray[np.int8], npt.NDArray[np.int8], Bools, _Candidates]:
    """Counted minutes, status, rejecting rule and "not proven exact" in (volunteer, row)
    order, and the candidates (for the exact path)."""
    v = rows.volunteer[order]
    s = rows.start[order]
    e = rows.end[order]
    ev = rows.evidence[order]
    cat = rows.category[order]
    sched = rows.scheduled[order]
    n = len(v)
    status = np.zeros(n, dtype=np.int8)
    rej = np.full(n, -1, dtype=np.int8)
    minutes = (e - s) // 60

    def reject(mask: Bools, code: int) -> None:
        hit = mask & (rej < 0)
        rej[hit] = code

    if pol.excluded_categories:
        excluded = np.array([c in pol.excluded_categories for c in rows.categories], dtype=bool)
        reject(excluded[cat], _CATEGORY)
    reject(minutes > pol.max_span_minutes, _SPAN)
    if pol.deadline_days is not None:
        rec = rows.recorded[order]
        entered = np.where(rec != NONE, rec, now_s)
        late = (entered + SHANGHAI_OFFSET) // DAY - (e + SHANGHAI_OFFSET) // DAY
        over = (late > pol.deadline_days) & (rej < 0)
        if pol.late is Overflow.APPROVAL:
            status[over] = NEEDS_APPROVAL
        else:
            reject(over, _DEADLINE)
    # The schedule rule: a capped row keeps only its time inside the schedule's window (from
    # the scheduled start, the row's start when none is given, for the scheduled minutes).
    capped_kind = np.array([k in pol.schedule_capped for k in EVIDENCE], dtype=bool)
    capped = (capped_kind[ev] | rows.checkout[order]) & (sched >= 0)
    ws = rows.sched_start[order]
    ws = np.where(ws != NONE, ws, s)
    we = ws + _window_minutes(sched, ws, e) * 60
    begin = np.where(capped, np.minimum(np.maximum(s, ws), e), s)
    end = np.where(capped, np.maximum(begin, np.minimum(e, we)), e)

    counted = np.zeros(n, dtype=np.int64)
    bad = np.zeros(n, dtype=bool)
    ci = np.flatnonzero(rej < 0)  # candidates: what reaches the overlap rule
    none = np.zeros(0, dtype=np.int64)
    cands = _Candidates(none, none, none, none, status[:0], np.zeros(0, dtype=bool))
    if len(ci):
        cv, cs, ce, c_status_in = v[ci], begin[ci], end[ci], status[ci]
        c_counted, c_status, c_rej, c_bad = _candidates(pol, cv, cs, ce, c_status_in)
        counted[ci] = c_counted
        status[ci] = c_status
        rej[ci] = c_rej
        bad_codes = np.zeros(int(v.max()) + 1, dtype=bool)
        bad_codes[cv[c_bad]] = True
        bad = bad_codes[v]
        m = np.flatnonzero(bad_codes[cv])  # the marked volunteers' candidates
        if len(m):
            held = (c_counted[m] > 0) & (c_rej[m] < 0)
            cands = _Candidates(ci[m], cv[m], cs[m], ce[m], c_status_in[m], held)
    status[rej >= 0] = REJECTED
    counted[rej >= 0] = 0
    return counted, status, rej, bad, cands


def _settle_marked(
    pol: HourPolicy,
    cands: _Candidates,
    bad: Bools,
    volunteer: I64,
    counted: I64,
    status: npt.NDArray[np.int8],
    rej: npt.NDArray[np.int8],
) -> tuple[Bools, dict[int, Seed]]:
    """Settle the marked volunteers' candidates (:func:`zhiyuan.bulk._settle.settle`): write
    the verdicts it proves exact, and return the rows (posting order) left to the loop, each
    such volunteer's rows from its first unsettled candidate on, with the loop's starting state."""
    out = settle(pol, cands.volunteer, cands.start, cands.end, cands.status, cands.held)
    at = cands.at
    exact = at[~out.todo]
    counted[exact] = out.counted[~out.todo]
    status[exact] = out.status[~out.todo]
    rej[exact] = out.rej[~out.todo]
    status[exact[rej[exact] >= 0]] = REJECTED
    counted[exact[rej[exact] >= 0]] = 0
    # the loop takes each unsettled volunteer's rows (rejected earlier or not) from the first
    # unsettled candidate on
    n = len(bad)
    resume = np.full(int(volunteer.max()) + 1, n, dtype=np.int64)
    np.minimum.at(resume, cands.volunteer[out.todo], at[out.todo])
    return bad & (np.arange(n) >= resume[volunteer]), out.seeds


def _window_minutes(sched: I64, ws: I64, e: I64) -> I64:
    """The scheduled minutes, but no more than reach past the row's end (the same window
    wherever it meets the row, and no overflow for a huge duration)."""
    out: I64 = np.minimum(sched, np.maximum(e - ws, 0) // 60 + 1)
    return out


def _candidates(
    pol: HourPolicy, cv: I64, cs: I64, ce: I64, status: npt.NDArray[np.int8]
) -> tuple[I64, npt.NDArray[np.int8], npt.NDArray[np.int8], Bools]:
    """Overlap, record cap, rounding and daily cap for the candidates, grouped by volunteer."""
    k = len(cv)
    status = status.copy()
    rej = np.full(k, -1, dtype=np.int8)
    first = np.ones(k, dtype=bool)
    first[1:] = cv[1:] != cv[:-1]
    last = np.ones(k, dtype=bool)
    last[:-1] = first[1:]
    bad = np.zeros(k, dtype=bool)
    bad[1:] = ~first[1:] & (cs[1:] < cs[:-1])  # out of start order: the loop decides

    # R: the latest end of the volunteer's earlier candidates (t0 when there is none).
    t0 = np.int64(int(cs.min()) - 1)
    if int(ce.max()) - int(t0) >= int(_BIG):
        raise InvalidValue("end", int(ce.max()), "时间跨度过大 / times span too many centuries")
    base = (np.cumsum(first) - 1) * _BIG
    running = np.maximum.accumulate(ce - t0 + base)
    before = np.empty(k, dtype=np.int64)
    before[0] = 0
    before[1:] = running[:-1]
    r = np.where(first, t0, before - base + t0)
    next_start = np.empty(k, dtype=np.int64)
    next_start[:-1] = cs[1:]
    next_start[last] = _FAR

    hit = r > cs
    if pol.overlap is OverlapRule.TRIM:
        a = np.maximum(cs, r)
        minutes = np.maximum(ce - a, 0) // 60
    else:
        a = cs
        overlapped = hit & (ce > cs)
        bad |= hit & (ce == cs)  # a zero-length piece meets counted time: the loop decides
        rej[overlapped] = _OVERLAP
        minutes = np.where(overlapped, 0, (ce - cs) // 60)
    if pol.record_cap_minutes is not None:
        minutes = np.minimum(minutes, pol.record_cap_minutes)
    unrounded = minutes
    minutes = _snap(pol, minutes)
    if pol.daily_cap_minutes is not None:
        minutes, approval, over, unsure = _daily_cap(pol, cv, a, ce, minutes, unrounded)
        status[approval] = NEEDS_APPROVAL
        rej[over & (rej < 0)] = _DAILY
        bad |= unsure
    minutes = np.where(rej >= 0, 0, minutes)
    held = minutes > 0
    bad |= ~held & (ce > np.maximum(r, next_start))
    return minutes, status, rej, bad


def _shift(x: I64, starts: I64) -> I64:
    """``x`` moved down by one within segments beginning at ``starts`` (0 at each start)."""
    out = np.empty_like(x)
    if len(x):
        out[0] = 0
        out[1:] = x[:-1]
        out[starts] = 0
    return out


def _daily_cap(
    pol: HourPolicy, cv: I64, a: I64, ce: I64, minutes: I64, unrounded: I64
) -> tuple[I64, Bools, Bools, Bools]:
    """The daily cap for candidates (counted, needs approval, rejected, not proven exact);
    ``unrounded`` are the minutes before rounding (after the record cap)."""
    cap = pol.daily_cap_minutes
    assert cap is not None
    k = len(cv)
    counted = minutes.copy()
    approval = np.zeros(k, dtype=bool)
    over = np.zeros(k, dtype=bool)
    unsure = np.zeros(k, dtype=bool)
    idx = np.flatnonzero(minutes > 0)
    if not len(idx):
        return counted, approval, over, unsure
    # in local seconds (epoch + 8 h), as the object path's segments: day n is [n·86400, (n+1)·86400)
    ra, re_ = a[idx] + SHANGHAI_OFFSET, ce[idx] + SHANGHAI_OFFSET
    rm, rv = minutes[idx], cv[idx]
    d0 = ra // DAY
    nd = (re_ - 1) // DAY - d0 + 1
    if pol.over_daily_cap is not Overflow.TRIM:
        short, moved = _walk(pol, cap, ra, re_, rm, rv, unrounded[idx], d0, nd)
        if pol.over_daily_cap is Overflow.APPROVAL:
            approval[idx] = short
            unsure[idx] = moved & ~short
        else:
            over[idx] = short
            unsure[idx] = short | moved
            counted[idx] = np.where(short, 0, rm)
        return counted, approval, over, unsure
    # TRIM: a group of one-day rows only is a clipped running sum (whole units throughout); the
    # rows of a group a midnight-crossing row touches take the walk
    g = _Groups(rv, d0, nd)
    mixed_g = np.logical_or.reduceat((nd > 1)[g.rep][g.o], g.gstarts)
    in_mixed = np.empty(len(g.rep), dtype=bool)
    in_mixed[g.o] = mixed_g[g.gid]
    mixed = in_mixed[g.starts] | (nd > 1)  # a one-day row's one piece, or a multi-day row
    capu = cap // pol.unit_minutes * pol.unit_minutes
    so = rm[g.rep][g.o]  # a one-day row's piece holds all its minutes
    csum = np.cumsum(so) - so
    used_o = csum - csum[g.gstarts][g.gid]
    clipped = np.empty_like(used_o)
    clipped[g.o] = np.minimum(capu, used_o + so) - np.minimum(capu, used_o)
    counted[idx] = np.where(mixed, rm, clipped[g.starts])
    sub = np.flatnonzero(mixed)
    if len(sub):
        short, moved = _walk(
            pol, cap, ra[sub], re_[sub], rm[sub], rv[sub], unrounded[idx[sub]], d0[sub], nd[sub]
        )
        unsure[idx[sub]] = short | moved
    return counted, approval, over, unsure


class _Groups:
    """Rows expanded to one piece per day they touch (``starts``: each row's first piece,
    ``rep``: each piece's row, ``day``), and the pieces' (volunteer, day) groups: ``o`` sorts
    the pieces by group (stably: row order within a group), ``gstarts`` and ``gid`` in that
    order."""

    def __init__(self, rv: I64, d0: I64, nd: I64) -> None:
        self.starts = np.cumsum(nd) - nd
        self.rep = np.repeat(np.arange(len(rv)), nd)
        self.j = np.arange(len(self.rep)) - self.starts[self.rep]
        self.day = d0[self.rep] + self.j
        lo = int(self.day.min())
        key = rv[self.rep] * (int(self.day.max()) - lo + 1) + (self.day - lo)
        self.o = np.argsort(key, kind="stable")
        ks = key[self.o]
        gfirst = np.ones(len(ks), dtype=bool)
        gfirst[1:] = ks[1:] != ks[:-1]
        self.gstarts = np.flatnonzero(gfirst)
        self.gid = np.cumsum(gfirst) - 1


def _walk(
    pol: HourPolicy, cap: int, ra: I64, re_: I64, rm: I64, rv: I64, rp: I64, d0: I64, nd: I64
) -> tuple[Bools, Bools]:
    """The daily cap over the rows' pieces, each day's minutes already used taken as the running
    sum of the earlier rows' day splits: per row, over the cap as the rule judges it, and kept
    minutes that differ from the split (or minutes the walk left over) — the rows (``ra``–``re_``
    in local seconds, ``rm`` minutes, ``rp`` before rounding) are every row of each
    (volunteer, day) group they touch."""
    g = _Groups(rv, d0, nd)
    starts, rep = g.starts, g.rep
    room_total = np.maximum(rm, (re_ - ra) // 60)
    # One piece per (row, day): the minutes _split_days gives each day, and its room.
    day = g.day
    sec = np.minimum(re_[rep], (day + 1) * DAY) - np.maximum(ra[rep], day * DAY)
    total = np.cumsum(sec)
    cum = total - (total[starts] - sec[starts])[rep]
    is_last = g.j == nd[rep] - 1
    upto = np.where(is_last, rm[rep], np.minimum(rm[rep], cum // 60))
    split = upto - _shift(upto, starts)
    room_upto = np.where(is_last, room_total[rep], np.minimum(room_total[rep], cum // 60))
    room = room_upto - _shift(room_upto, starts)
    # Minutes already used on each piece's day by the volunteer's earlier rows (as split).
    so = split[g.o]
    csum = np.cumsum(so) - so
    used = np.empty_like(csum)
    used[g.o] = csum - csum[g.gstarts][g.gid]
    # The rule's walk over the days: take min(room, what the cap leaves), at most the minutes.
    avail = np.maximum(cap - used, 0)
    x = np.minimum(room, avail)
    xt = np.cumsum(x)
    xcum = xt - (xt[starts] - x[starts])[rep]
    took = np.minimum(rm[rep], xcum)
    kept = took - _shift(took, starts)
    moved = np.logical_or.reduceat(kept != split, starts)  # kept differs from the split
    moved |= took[starts + nd - 1] < rm  # the walk left minutes over: the rule moves them
    # Over the cap, as the rule judges it: each day gives at most the seconds the cap leaves of
    # it; together (at most the minutes before rounding) snapped to the unit, and never past the
    # days' room in whole units.
    fits = np.add.reduceat(np.minimum(sec, 60 * avail), starts) // 60
    unit = pol.unit_minutes
    room_units = np.add.reduceat(avail, starts) // unit * unit
    can = np.minimum(np.minimum(rm, _snap(pol, np.minimum(rp, fits))), room_units)
    return can < rm, moved


# --- the exact per-volunteer loop ------------------------------------------------------------

_REGION = "110000000000"


def _record(rows: _Rows, i: int) -> ServiceRecord:
    start = datetime.fromtimestamp(int(rows.start[i]), SHANGHAI)
    sched = int(rows.scheduled[i])
    rec = int(rows.recorded[i])
    extra: dict[str, Any] = {}
    if sched != NONE:  # a schedule of exactly ``sched`` whole minutes (as far as the row reaches)
        ws = int(rows.sched_start[i])
        ws = int(rows.start[i]) if ws == NONE else ws
        reach = min(sched, max(int(rows.end[i]) - ws, 0) // 60 + 1)  # as _window_minutes
        extra["scheduled_start"] = datetime.fromtimestamp(ws, SHANGHAI)
        extra["scheduled_end"] = extra["scheduled_start"] + timedelta(seconds=reach * 60 + 30)
    if rec != NONE:
        extra["recorded_at"] = datetime.fromtimestamp(rec, SHANGHAI)
    return ServiceRecord(
        id=f"row{i}",
        volunteer_id=f"v{int(rows.volunteer[i])}",
        activity_id="bulk",
        organization_id="bulk",
        region_code=_REGION,
        category=rows.categories[int(rows.category[i])],
        start=start,
        end=datetime.fromtimestamp(int(rows.end[i]), SHANGHAI),
        evidence=EVIDENCE[int(rows.evidence[i])],
        checkout_missing=bool(rows.checkout[i]),
        **extra,
    )


def _loop(
    pol: HourPolicy,
    rows: _Rows,
    order: I64,
    bad: Bools,
    now: datetime,
    counted: I64,
    weighted: I64,
    status: npt.NDArray[np.int8],
    rej: npt.NDArray[np.int8],
    progress: Progress | None = None,
    seeds: dict[int, Seed] | None = None,
    of: int | None = None,
) -> None:
    """Re-evaluate the marked rows (each volunteer's, in row order, from some row on) on the
    object path: the policy's own rule chain on a :class:`~zhiyuan.hours.Draft` made from the
    row's checked plain values (no record is built unless a rule asks for one; the policy's own
    checks of its arguments are skipped), the volunteer's counted time and per-day minutes held
    as ``HourLedger`` holds them, starting from ``seeds`` (the state the volunteer's earlier rows
    left, by volunteer code; none: nothing held). Progress counts ``of`` rows of the exact path
    (default: the rows here), the ones settled before the loop as done."""
    from functools import partial

    from zhiyuan.hours.policy import Draft, _judge, _steps_of

    occupied: dict[int, list[Segment]] = {}
    day_used: dict[int, dict[date, int]] = {}
    for vid, seed in (seeds or {}).items():
        occupied[vid] = list(seed.occupied)
        day_used[vid] = dict(seed.day_used)
    code = {st: i for i, st in enumerate(STATUSES)}
    chain = _steps_of(pol.rules)
    marked = np.flatnonzero(bad)
    at = order[marked]
    # the marked rows' values as Python objects, once (times in epoch seconds, as segments)
    volunteers = rows.volunteer[at].tolist()
    starts = (rows.start[at] + SHANGHAI_OFFSET).tolist()
    ends = (rows.end[at] + SHANGHAI_OFFSET).tolist()
    kinds = [EVIDENCE[e] for e in rows.evidence[at].tolist()]
    names = rows.categories
    categories = [names[c] for c in rows.category[at].tolist()]
    checkouts = rows.checkout[at].tolist()
    sched = rows.scheduled[at]
    ws = rows.sched_start[at]
    ws = np.where(ws != NONE, ws, rows.start[at])
    reach = _window_minutes(sched, ws, rows.end[at])  # the schedule, as far as the row reaches
    schedules = [
        None if m == NONE else (w, m)
        for w, m in zip((ws + SHANGHAI_OFFSET).tolist(), reach.tolist(), strict=True)
    ]
    recorded = [None if r == NONE else r + SHANGHAI_OFFSET for r in rows.recorded[at].tolist()]
    indices = at.tolist()
    out_counted: list[int] = []
    out_weighted: list[int] = []
    out_status: list[int] = []
    out_rej: list[int] = []
    n = len(volunteers)
    total = n if of is None else of
    skip = total - n  # rows of the exact path settled before the loop
    for k in range(n):
        if progress is not None and ((skip + k + 1) % 10_000 == 0 or k + 1 == n):
            progress("工时（逐行）/ hours (exact path)", skip + k + 1, total)
        vid = volunteers[k]
        occ = occupied.get(vid)
        if occ is None:
            occ = occupied[vid] = []
            used = day_used[vid] = {}
        else:
            used = day_used[vid]
        d = Draft._of(
            pol,
            now,
            occ,
            used,
            starts[k],
            ends[k],
            categories[k],
            kinds[k],
            checkouts[k],
            schedules[k],
            recorded[k],
            partial(_record, rows, indices[k]),
        )
        _judge(d, chain)
        minutes, weighted_minutes = d.counted()
        out_counted.append(minutes)
        out_weighted.append(weighted_minutes)
        out_status.append(code[d.status])
        if d.status is Status.REJECTED:
            out_rej.append(REJECTING_RULES.index(d.findings[-1].rule))
        else:
            out_rej.append(-1)
            if minutes > 0:  # counted: held as HourLedger._hold holds it
                for seg in d.segments:
                    bisect.insort(occ, seg)
                for day, m in d.days:
                    used[day] = used.get(day, 0) + m
    counted[marked] = out_counted
    weighted[marked] = out_weighted
    status[marked] = out_status
    rej[marked] = out_rej


# --- frames and rows -------------------------------------------------------------------------


def evaluate_hours_frame(
    frame: Any,
    policy: HourPolicy | None = None,
    *,
    now: datetime | None = None,
    fallback: bool = True,
    order: str = "rows",
) -> Any:
    """:func:`evaluate_hours` on a frame: the frame with the result columns added, as the same
    kind (a pandas DataFrame with its index, a polars DataFrame, an Arrow table).

    ``status`` and ``rejected_by`` are labelled categoricals (:meth:`HourColumns.labelled`), and
    :func:`~zhiyuan.bulk.rate_stars_frame` on the result counts only the accepted rows, as the
    ledger does. This is the partition function of :mod:`zhiyuan.bulk.dask`: given all rows of
    some volunteers, in posting order, it gives their results, whatever other partitions hold.

    Example:
        >>> import polars as pl
        >>> rows = pl.DataFrame({"volunteer_id": ["v1", "v1"], "start": [1740790800] * 2,
        ...                      "end": [1740794400, 1740797400], "evidence": ["gps", "gps"],
        ...                      "category": ["助老", "会议"]})
        >>> now = datetime(2025, 3, 2, tzinfo=SHANGHAI)
        >>> out = evaluate_hours_frame(rows, HourPolicy(excluded_categories=["会议"]), now=now)
        >>> out["counted_minutes"].to_list(), out["rejected_by"].to_list()
        ([60, 0], [None, 'hours.category'])
    """
    result = evaluate_hours(frame, policy, now=now, fallback=fallback, order=order)
    return _frames.with_columns(frame, result.labelled())


def counted_rows(
    records: object,
    result: HourColumns,
    *,
    statuses: Sequence[Status | str] = (Status.ACCEPTED,),
) -> Columns:
    """The rows that count, as star-rating input (``day``, ``minutes``, ``purposes`` …).

    Keeps rows whose status (a :class:`~zhiyuan.hours.Status` or its value) is in ``statuses``
    (default: accepted only; rows needing approval count once approved) with counted minutes
    > 0, as :meth:`HourLedger.rows <zhiyuan.hours.HourLedger.rows>` lists counted records.
    Certification and public notice are the ledger's business: treat the result as certified
    only where that is true.

    Example:
        >>> rows = {"volunteer": ["v1", "v1"], "start": [1740790800, 1740794400],
        ...         "end": [1740794400, 1740798000], "evidence": ["qr_scan", "gps"],
        ...         "category": ["助老", "会议"]}
        >>> now = datetime(2025, 3, 2, tzinfo=SHANGHAI)
        >>> out = evaluate_hours(rows, HourPolicy(excluded_categories=["会议"]), now=now)
        >>> counted_rows(rows, out, statuses=["accepted", "needs_approval"]).minutes.tolist()
        [60]
        >>> counted_rows(rows, out, statuses=["certified"])
        Traceback (most recent call last):
        ...
        zhiyuan.errors.InvalidValue: statuses: 'certified': 应为 / one of accepted, needs_approval, rejected
    """
    if not isinstance(result, HourColumns):
        raise InvalidValue(
            "result", type(result).__name__, "需要 HourColumns / need evaluate_hours' result"
        )
    wanted = [to_enum("statuses", Status, s) for s in items("statuses", statuses)]
    cols = Columns.of(records)
    if len(result) != len(cols):
        raise InvalidValue("result", len(result), f"应有 {len(cols)} 行 / one row per record")
    codes = np.array([STATUSES.index(s) for s in wanted], dtype=np.int8)
    keep = np.isin(result.status, codes) & (result.counted_minutes > 0)
    return Columns(
        index=None if cols.index is None else cols.index[keep],
        names=cols.names,
        volunteer=cols.volunteer[keep],
        volunteer_ids=cols.volunteer_ids,
        start=cols.get("start")[keep],
        end=cols.get("end")[keep],
        evidence=cols.get("evidence")[keep],
        category=cols.get("category")[keep],
        categories=cols.categories,
        region=(
            None
            if cols.region is None
            else cols.region.take(keep)
            if isinstance(cols.region, _frames.Coded)
            else cols.region[keep]
        ),
        day=cols.service_days()[keep],
        minutes=result.counted_minutes[keep],
        weighted_minutes=result.weighted_minutes[keep],
        purposes=result.purposes[keep],
    )
