"""The exact path's vector stage for :func:`zhiyuan.bulk.evaluate_hours`: the volunteers the plain
vector pass could not prove exact, settled by iterating the rules to their fixed point.

Why a fixed point is the answer
-------------------------------
A volunteer's rows (candidates: what reaches the overlap rule, in posting order) are judged one
after the other, each against the *state* the earlier ones left: which rows are held (counted,
minutes > 0) with which piece of time, and how many minutes each held row put on each day. Row
``k``'s verdict and its own state are a function of the state of rows ``0…k−1`` alone. So take
any assumed state ``S`` for every row, judge every row against the assumed state of the rows
before it (all rows at once, in columns), and compare the state each row then leaves with its
assumed state: if they agree on rows ``0…p−1``, then by induction on the row those rows' assumed
state is the true one, and the verdicts of rows ``0…p`` are exact (row ``p`` was judged against
true inputs). Every round therefore fixes at least one more row of each volunteer; a volunteer
whose rows all agree is exact, whatever the first guess was. The first guess is the plain vector
pass's own (rows held as it held them, each row's minutes on its days as they were served).

What a round computes, per row (start order, so the overlap state is one interval)
---------------------------------------------------------------------------------
``M``: the latest end of the held rows before (the time counted from the row's start on is
``[start, M)``, :mod:`zhiyuan.bulk.hours`' induction, whichever rows are held). TRIM keeps
``[max(start, M), end)``; REJECT rejects when ``M > start``. Then the record cap and the rounding
as plain arithmetic, and the daily cap as ``rule_daily_cap`` computes it: the row's piece
expanded to one piece per (row, day) with its seconds; the minutes already used on each piece's
day (the assumed minutes of the earlier rows on that day, a running sum in (volunteer, day, row)
order); each day's room; what the days admit; the snapped result; and the minutes each day
keeps, as ``_attribute`` spreads them (a clipped running sum earliest first, then what is left,
latest day first, again a clipped running sum) or, for a row sent for approval, as
``_split_days`` splits them.

What is left to the per-volunteer loop
--------------------------------------
A volunteer's rows from the first one the columns cannot judge: a row out of start order (the
counted time from its start on may then be several intervals), or, under REJECT, a zero-length
piece meeting counted time; and, after :data:`ROUNDS` rounds, from the first row whose state did
not yet agree. The rows before that point are exact, and their state (held pieces and minutes per
day, exactly as ``HourLedger`` holds them) is handed to the loop as its starting state.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from zhiyuan.bulk._columns import DAY, SHANGHAI_OFFSET, STATUSES
from zhiyuan.hours.policy import RULES, HourPolicy, Overflow, OverlapRule, Segment, Status

I64 = npt.NDArray[np.int64]
I8 = npt.NDArray[np.int8]
Bools = npt.NDArray[np.bool_]

ROUNDS = 24
"""Rounds of the fixed-point iteration before the loop takes what is left (each round costs a
vector pass over the volunteers not yet settled; most settle in two or three)."""

_BIG = np.int64(1 << 34)  # > any span of epoch seconds between 2000 and the year 2500
# codes into STATUSES and zhiyuan.bulk.REJECTING_RULES (the ids of the rules that can reject)
_NEEDS_APPROVAL = STATUSES.index(Status.NEEDS_APPROVAL)
_REJECTING = tuple(r.id for r in RULES if r.rejects)
_OVERLAP, _DAILY = _REJECTING.index("hours.overlap"), _REJECTING.index("hours.daily_cap")


@attrs.frozen
class Seed:
    """A volunteer's state before the loop takes over: the held pieces (local seconds, sorted)
    and the minutes counted per day, as ``HourLedger`` holds them."""

    occupied: list[Segment]
    day_used: dict[date, int]


@attrs.frozen
class Settled:
    """The settled candidates, in the order given: verdicts (exact where ``todo`` is false),
    the rows left to the loop (``todo``: each such volunteer's rows from its resume point on)
    and the loop's starting state for those volunteers (keyed by volunteer code)."""

    counted: I64
    status: I8
    rej: I8
    todo: Bools
    seeds: dict[int, Seed]
    rounds: int


def _seg_cumsum(x: I64, starts: I64, rep: I64) -> I64:
    """Inclusive running sums of ``x`` within segments starting at ``starts`` (``rep``: each
    element's segment)."""
    c = np.cumsum(x)
    out: I64 = c - (c[starts] - x[starts])[rep]
    return out


def _prev(x: I64, first: Bools) -> I64:
    """``x`` of the element before in the same segment (0 at a segment's first element)."""
    out = np.empty_like(x)
    if len(x):
        out[0] = 0
        out[1:] = x[:-1]
        out[first] = 0
    return out


def _first_in_group(flag: Bools, group: I64, n_groups: int, none: int) -> I64:
    """Per group, the position of its first flagged element (``none`` when there is none);
    elements are in group order."""
    out = np.full(n_groups, none, dtype=np.int64)
    at = np.flatnonzero(flag)
    if len(at):
        g = group[at]
        keep = np.ones(len(at), dtype=bool)
        keep[1:] = g[1:] != g[:-1]
        out[g[keep]] = at[keep]
    return out


class _Work:
    """The working set: candidates of the volunteers not yet settled, grouped by volunteer in
    posting order, and their pieces (one per row and day of the row's time before the overlap
    rule; pieces before the day the row's kept time starts have no seconds)."""

    def __init__(self, pol: HourPolicy, cv: I64, cs: I64, ce: I64, status: I8, pos: I64) -> None:
        self.pol = pol
        self.cv, self.cs, self.ce, self.status, self.pos = cv, cs, ce, status, pos
        k = len(cv)
        first = np.ones(k, dtype=bool)
        first[1:] = cv[1:] != cv[:-1]
        self.first = first
        self.group = np.cumsum(first) - 1  # the volunteer's index in the working set
        self.n_groups = int(self.group[-1]) + 1 if k else 0
        # out of start order: the columns cannot judge this row or any after it
        self.stop = np.zeros(k, dtype=bool)
        self.stop[1:] = ~first[1:] & (cs[1:] < cs[:-1])
        self.t0 = np.int64(int(cs.min()) - 1) if k else np.int64(0)
        self.base = self.group * _BIG
        self.pieces = pol.daily_cap_minutes is not None and k > 0
        if self.pieces:
            ls, le = cs + SHANGHAI_OFFSET, ce + SHANGHAI_OFFSET
            d0 = ls // DAY
            nd = np.maximum((le - 1) // DAY - d0 + 1, 1)
            self.starts = np.cumsum(nd) - nd
            self.ends = self.starts + nd - 1  # each row's last piece
            self.rep = np.repeat(np.arange(k), nd)
            j = np.arange(len(self.rep)) - self.starts[self.rep]
            self.pfirst = j == 0
            self.is_last = j == nd[self.rep] - 1
            self.day = d0[self.rep] + j
            lo = int(self.day.min())
            key = self.group[self.rep] * (int(self.day.max()) - lo + 1) + (self.day - lo)
            self.o = np.argsort(key, kind="stable")  # (volunteer, day, row) order
            self.key_o = key[self.o]

    def subset(self, rows: Bools) -> _Work:
        """The working set of the rows ``rows`` (whole volunteers), keeping the pieces' order."""
        new = _Work.__new__(_Work)
        new.pol = self.pol
        for name in ("cv", "cs", "ce", "status", "pos", "first", "stop"):
            setattr(new, name, getattr(self, name)[rows])
        k = len(new.cv)
        new.group = np.cumsum(new.first) - 1
        new.n_groups = int(new.group[-1]) + 1 if k else 0
        new.t0 = self.t0
        new.base = new.group * _BIG
        new.pieces = self.pieces and k > 0
        if new.pieces:
            keep = rows[self.rep]
            renum = np.cumsum(rows) - 1
            new.rep = renum[self.rep[keep]]
            for name in ("pfirst", "is_last", "day"):
                setattr(new, name, getattr(self, name)[keep])
            new.starts = np.flatnonzero(new.pfirst)
            new.ends = np.flatnonzero(new.is_last)
            piece_renum = np.cumsum(keep) - 1
            ok = keep[self.o]
            new.o = piece_renum[self.o[ok]]
            new.key_o = self.key_o[ok]
        return new

    def judge(self, held: Bools, kept: I64 | None) -> dict[str, Any]:
        """Judge every row against the assumed state of the rows before it (``held`` per row,
        ``kept`` minutes per piece; ``None``: each row's minutes split as served)."""
        pol = self.pol
        cv, cs, ce = self.cv, self.cs, self.ce
        k = len(cv)
        # M: the latest end of the held rows before (t0: none)
        val = np.where(held, ce - self.t0, 0) + self.base
        run = np.maximum.accumulate(val)
        before = np.empty(k, dtype=np.int64)
        before[0] = 0
        before[1:] = run[:-1]
        m = np.where(self.first, self.t0, before - self.base + self.t0)
        rej = np.full(k, -1, dtype=np.int8)
        status = self.status.copy()
        stop = self.stop.copy()
        if pol.overlap is OverlapRule.TRIM:
            a = np.maximum(cs, m)
            m0 = np.maximum(ce - a, 0) // 60
            orej = np.zeros(k, dtype=bool)
        else:
            a = cs
            hit = m > cs
            orej = hit & (ce > cs)
            rej[orej] = _OVERLAP
            stop |= hit & (ce == cs)  # a zero-length piece meets counted time: the loop decides
            m0 = np.where(orej, 0, (ce - cs) // 60)
        m1 = m0 if pol.record_cap_minutes is None else np.minimum(m0, pol.record_cap_minutes)
        m2 = pol.rounding.snap(m1, pol.unit_minutes)
        counted = np.where(orej, 0, m2)
        new_kept: I64 | None = None
        mismatch = np.zeros(k, dtype=bool)
        if self.pieces:
            counted, new_kept, dmis = self._daily(
                a, m0, m1, m2, ~orej & (m2 > 0), kept, status, rej
            )
            mismatch |= dmis
        held_new = (counted > 0) & (rej < 0) & ~orej
        mismatch |= held_new != held
        return {
            "counted": counted,
            "status": status,
            "rej": rej,
            "orej": orej,
            "held": held_new,
            "kept": new_kept,
            "mismatch": mismatch,
            "stop": stop,
            "a": a,
        }

    def _daily(
        self,
        a: I64,
        m0: I64,
        m1: I64,
        m2: I64,
        active: Bools,
        kept: I64 | None,
        status: I8,
        rej: I8,
    ) -> tuple[I64, I64, Bools]:
        """``rule_daily_cap`` for every active row (counted minutes, minutes kept per piece,
        rows whose kept minutes differ from the assumed ones); sets ``status`` and ``rej``."""
        pol = self.pol
        cap = pol.daily_cap_minutes
        assert cap is not None
        unit = pol.unit_minutes
        rep, starts, day, is_last = self.rep, self.starts, self.day, self.is_last
        la, le = (a + SHANGHAI_OFFSET)[rep], (self.ce + SHANGHAI_OFFSET)[rep]
        live = active[rep]
        sec = np.where(live, np.minimum(le, (day + 1) * DAY) - np.maximum(la, day * DAY), 0)
        sec = np.maximum(sec, 0)
        real = sec > 0
        cum = _seg_cumsum(sec, starts, rep)
        total = np.maximum(m2, m0)[rep]  # max(minutes, served): the shares' total
        upto = np.where(is_last, total, np.minimum(total, cum // 60))
        share = upto - _prev(upto, self.pfirst)
        m2r = m2[rep]
        upto_s = np.where(is_last, m2r, np.minimum(m2r, cum // 60))
        split = np.where(live, upto_s - _prev(upto_s, self.pfirst), 0)
        assumed = split if kept is None else kept
        # minutes already used on each piece's day by the earlier rows (as assumed)
        o = self.o
        ao = assumed[o]
        c = np.cumsum(ao) - ao
        gfirst = np.ones(len(o), dtype=bool)
        gfirst[1:] = self.key_o[1:] != self.key_o[:-1]
        gid = np.cumsum(gfirst) - 1
        used = np.empty_like(c)
        used[o] = c - c[gfirst][gid]
        room = np.where(real, np.maximum(cap - used, 0), 0)
        fits = np.add.reduceat(np.minimum(sec, 60 * room), starts) // 60
        room_total = np.add.reduceat(room, starts)
        snapped = pol.rounding.snap(np.minimum(m1, fits), unit)
        can = np.minimum(np.minimum(m2, snapped), room_total // unit * unit)
        short = active & (can < m2)
        counted = np.where(active, m2, 0)
        spread = m2  # the minutes _attribute spreads (rows that fit: all of them)
        if pol.over_daily_cap is Overflow.TRIM:
            counted = np.where(short, can, counted)
            spread = counted
        elif pol.over_daily_cap is Overflow.APPROVAL:
            status[short] = _NEEDS_APPROVAL
        else:
            rej[short] = _DAILY
            counted = np.where(short, 0, counted)
            spread = counted
        # _attribute: each day's share as far as its room allows, earliest first …
        x = spread[rep]
        take_cum = np.minimum(_seg_cumsum(np.minimum(share, room), starts, rep), x)
        take = take_cum - _prev(take_cum, self.pfirst)
        ends = self.ends
        left = spread - take_cum[ends]
        # … then what is left on the days with room left, latest first
        free = room - take
        after = _seg_cumsum(free, starts, rep)
        from_end = after[ends][rep] - after + free  # free room on this day and the later ones
        extra_cum = np.minimum(from_end, left[rep])
        nxt = np.empty_like(extra_cum)
        nxt[:-1] = extra_cum[1:]
        nxt[is_last] = 0
        new_kept = take + extra_cum - nxt
        if pol.over_daily_cap is Overflow.APPROVAL:
            new_kept = np.where(short[rep], split, new_kept)
        new_kept = np.where(live, new_kept, 0)
        differs = new_kept != assumed
        mismatch = np.logical_or.reduceat(differs, starts)
        return counted, new_kept, mismatch


def settle(
    pol: HourPolicy,
    cv: I64,
    cs: I64,
    ce: I64,
    status: I8,
    held: Bools,
    rounds: int | None = None,
) -> Settled:
    """Settle candidates (grouped by volunteer ``cv`` in posting order; ``cs``/``ce`` their times
    after the schedule cap, ``status`` before the overlap rule) by the fixed-point iteration,
    starting from the rows ``held`` as assumed held, for at most ``rounds`` rounds (default
    :data:`ROUNDS`)."""
    rounds = ROUNDS if rounds is None else rounds
    k = len(cv)
    out_counted = np.zeros(k, dtype=np.int64)
    out_status = status.copy()
    out_rej = np.full(k, -1, dtype=np.int8)
    todo = np.zeros(k, dtype=bool)
    seeds: dict[int, Seed] = {}
    if not k:
        return Settled(out_counted, out_status, out_rej, todo, seeds, 0)
    work = _Work(pol, cv, cs, ce, status, np.arange(k))
    kept: I64 | None = None
    done_rounds = 0
    while True:
        done_rounds += 1
        r = work.judge(held, kept)
        n = len(work.cv)
        fm = _first_in_group(r["mismatch"], work.group, work.n_groups, n)
        fs = _first_in_group(r["stop"], work.group, work.n_groups, n)
        last = done_rounds >= rounds
        # settled: every row agrees, or the first row the columns cannot judge comes first
        finished = (fs <= fm) | last
        resume = np.where(fs <= fm, fs, fm)  # (n: none)
        rows_done = finished[work.group]
        gstart = np.flatnonzero(work.first)
        exact = rows_done & (np.arange(n) < resume[work.group])
        pos = work.pos
        out_counted[pos[exact]] = r["counted"][exact]
        out_status[pos[exact]] = r["status"][exact]
        out_rej[pos[exact]] = r["rej"][exact]
        loop = rows_done & ~exact
        todo[pos[loop]] = True
        resumed = np.flatnonzero(finished & (resume < n))
        if len(resumed):
            _seed(work, r, gstart, resume, resumed, seeds)
        if last or bool(rows_done.all()):
            break
        keep = ~rows_done
        held = r["held"][keep]
        kept = None if r["kept"] is None else r["kept"][keep[work.rep]]
        work = work.subset(keep)
    return Settled(out_counted, out_status, out_rej, todo, seeds, done_rounds)


def _seed(
    work: _Work,
    r: dict[str, Any],
    gstart: I64,
    resume: I64,
    groups: I64,
    seeds: dict[int, Seed],
) -> None:
    """The loop's starting state for the volunteers ``groups`` of the working set: what their
    rows before ``resume`` (the rows whose state the round confirmed) hold."""
    from zhiyuan.hours.policy import _day

    n = len(work.cv)
    chosen = np.zeros(work.n_groups, dtype=bool)
    chosen[groups] = True
    before = chosen[work.group] & (np.arange(n) < resume[work.group])
    # held pieces, in local seconds, sorted as the ledger keeps them
    h = np.flatnonzero(before & r["held"])
    hg, ha, he = work.group[h], r["a"][h] + SHANGHAI_OFFSET, work.ce[h] + SHANGHAI_OFFSET
    o = np.lexsort((he, ha, hg))
    hg, ha, he = hg[o], ha[o], he[o]
    h_at = np.searchsorted(hg, groups, side="left").tolist()
    h_to = np.searchsorted(hg, groups, side="right").tolist()
    starts, ends = ha.tolist(), he.tolist()
    # minutes per day
    kept = r["kept"]
    dg: list[int] = []
    dd: list[int] = []
    dm: list[int] = []
    if kept is not None:
        p = np.flatnonzero(before[work.rep] & (kept > 0))
        g, day, m = work.group[work.rep[p]], work.day[p], kept[p]
        lo = int(day.min()) if len(p) else 0
        key = g * (int(day.max()) - lo + 1 if len(p) else 1) + (day - lo)
        o = np.argsort(key, kind="stable")
        key, g, day, m = key[o], g[o], day[o], m[o]
        first = np.ones(len(key), dtype=bool)
        first[1:] = key[1:] != key[:-1]
        at = np.flatnonzero(first)
        dg, dd = g[at].tolist(), day[at].tolist()
        dm = np.add.reduceat(m, at).tolist() if len(at) else []
    d_at = np.searchsorted(np.array(dg, dtype=np.int64), groups, side="left").tolist()
    d_to = np.searchsorted(np.array(dg, dtype=np.int64), groups, side="right").tolist()
    codes = work.cv[gstart[groups]].tolist()
    for i, code in enumerate(codes):
        occupied = list(zip(starts[h_at[i] : h_to[i]], ends[h_at[i] : h_to[i]], strict=True))
        used = {
            _day(d): mm for d, mm in zip(dd[d_at[i] : d_to[i]], dm[d_at[i] : d_to[i]], strict=True)
        }
        seeds[code] = Seed(occupied, used)
