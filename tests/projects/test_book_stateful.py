"""Random recruitment on a project book against a plain model: sign-ups, acceptances, declines and
cancellations in any order. A place is never held twice over (held ≤ places, acceptances ≤
places), nobody waits while a place is free, the waiting list keeps its order and its first is
promoted when a place frees, a refusal changes nothing, and the entries fold back to the same
state."""

from __future__ import annotations

import pickle
from datetime import date, datetime, timedelta

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from zhiyuan import SHANGHAI
from zhiyuan.errors import ZhiyuanError
from zhiyuan.hierarchy import load_default
from zhiyuan.hours import Volunteer
from zhiyuan.projects import (
    Activity,
    Project,
    ProjectBook,
    Shift,
    SignInPoint,
    SignUpState,
)

S = SignUpState
TREE = load_default()
PEOPLE = [f"v{i}" for i in range(7)]
SHIFTS = {"am": 2, "pm": 3}
HOLD = {S.PENDING, S.ACCEPTED}
AT = datetime(2025, 5, 10, 8, tzinfo=SHANGHAI)


def _volunteer(vid: str) -> Volunteer:
    return Volunteer(id=vid, name=vid, home_region="370202001001", registered_on=date(2024, 1, 1))


class Recruitment(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.book = ProjectBook(tree=TREE)
        self.book.publish_project(
            Project(id="p1", name="项目", organization_id="o", region_code="3702", category="c"),
            by="c",
            at=AT,
        )
        day = datetime(2025, 5, 10, tzinfo=SHANGHAI)
        self.book.publish_activity(
            Activity(
                id="a1",
                project_id="p1",
                name="活动",
                region_code="370202001001",
                category="c",
                shifts=[
                    Shift(
                        id=s,
                        start=day.replace(hour=9 + 5 * i),
                        end=day.replace(hour=11 + 5 * i),
                        places=n,
                    )
                    for i, (s, n) in enumerate(SHIFTS.items())
                ],
                points=[SignInPoint(id="g", code="123456")],
            ),
            by="c",
            at=AT,
        )
        self.state: dict[tuple[str, str], S] = {}
        self.wait: dict[str, list[str]] = {s: [] for s in SHIFTS}
        self.minute = 0

    def _now(self) -> datetime:
        self.minute += 1
        return AT + timedelta(seconds=self.minute)  # stays before the first shift

    def _held(self, shift: str) -> int:
        return sum(1 for (s, _), v in self.state.items() if s == shift and v in HOLD)

    def _free(self, shift: str) -> None:
        if self.wait[shift] and self._held(shift) < SHIFTS[shift]:
            first = self.wait[shift].pop(0)
            self.state[shift, first] = S.PENDING

    def _try(self, expect_ok: bool, call: object) -> bool:
        before = (self.book.journal.head, pickle.dumps(self.book._state))
        try:
            call()  # type: ignore[operator]
        except ZhiyuanError:
            assert not expect_ok, "refused what the model allows"
            assert (self.book.journal.head, pickle.dumps(self.book._state)) == before
            return False
        assert expect_ok, "allowed what the model refuses"
        return True

    @rule(vid=st.sampled_from(PEOPLE), shift=st.sampled_from(list(SHIFTS)))
    def sign_up(self, vid: str, shift: str) -> None:
        now = self._now()
        was = self.state.get((shift, vid))
        ok = was in (None, S.CANCELLED)
        if self._try(ok, lambda: self.book.sign_up("a1", shift, _volunteer(vid), at=now)):
            if self._held(shift) < SHIFTS[shift] and not self.wait[shift]:
                self.state[shift, vid] = S.PENDING
            else:
                self.state[shift, vid] = S.WAITLISTED
                self.wait[shift].append(vid)

    @rule(vid=st.sampled_from(PEOPLE), shift=st.sampled_from(list(SHIFTS)))
    def accept(self, vid: str, shift: str) -> None:
        now = self._now()
        ok = self.state.get((shift, vid)) is S.PENDING
        if self._try(ok, lambda: self.book.accept("a1", shift, vid, by="c", at=now)):
            self.state[shift, vid] = S.ACCEPTED

    @rule(
        vid=st.sampled_from(PEOPLE),
        shift=st.sampled_from(list(SHIFTS)),
        decline=st.booleans(),
    )
    def withdraw(self, vid: str, shift: str, decline: bool) -> None:
        now = self._now()
        was = self.state.get((shift, vid))
        ok = was in (S.PENDING, S.ACCEPTED, S.WAITLISTED)

        def call() -> object:
            if decline:
                return self.book.decline("a1", shift, vid, by="c", at=now)
            return self.book.cancel("a1", shift, vid, at=now)

        if self._try(ok, call):
            self.state[shift, vid] = S.DECLINED if decline else S.CANCELLED
            if was is S.WAITLISTED:
                self.wait[shift].remove(vid)
            self._free(shift)

    @invariant()
    def the_book_is_the_model(self) -> None:
        for shift, places in SHIFTS.items():
            roster = self.book.roster("a1", shift)
            assert roster.held <= places
            assert len(roster.accepted) <= places
            assert roster.waitlist == tuple(self.wait[shift])
            assert not roster.waitlist or roster.held == places
            for vid in PEOPLE:
                want = self.state.get((shift, vid))
                if want is not None:
                    assert self.book.signup("a1", shift, vid).state is want

    @invariant()
    def the_entries_fold_back_to_the_state(self) -> None:
        again = ProjectBook(self.book.entries, tree=TREE)
        assert pickle.dumps(again._state) == pickle.dumps(self.book._state)


Recruitment.TestCase.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
TestRecruitment = Recruitment.TestCase
