"""Policies in force by date: one type (:class:`zhiyuan.Schedule`) behind every book's lookup."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from zhiyuan import Schedule
from zhiyuan.convert import from_json, to_json
from zhiyuan.credit import (
    CreditScorePolicy,
    PointsLedger,
    TimeBank,
    TimeBankPolicy,
    credit_bonuses,
)
from zhiyuan.errors import InvalidValue, NotFound
from zhiyuan.hierarchy import Registry, load_default
from zhiyuan.hours import HourLedger, HourPolicy
from zhiyuan.platform import Policies
from zhiyuan.scoring import BayesianPrior, FeedbackBook, StarBook, StarScheme, scorecard_for
from zhiyuan.scoring.scorecards import SCORECARD_PROFILES

DAY0 = date(2020, 1, 1)


def dated(offsets: list[int]) -> list[HourPolicy]:
    return [
        HourPolicy(effective_from=DAY0 + timedelta(days=k), notice_days=k % 30) for k in offsets
    ]


@given(
    st.lists(st.integers(0, 2000), min_size=1, max_size=8, unique=True),
    st.integers(-100, 2200),
    st.randoms(use_true_random=False),
)
def test_the_policy_in_force_is_the_latest_taking_effect_on_or_before_the_day(
    offsets: list[int], k: int, rnd: Any
) -> None:
    policies = dated(offsets)
    rnd.shuffle(policies)
    s = Schedule(policies)
    assert [p.effective_from for p in s] == sorted(p.effective_from for p in policies)
    day = DAY0 + timedelta(days=k)
    started = [p for p in policies if p.effective_from <= day]
    expected = max(started, key=lambda p: p.effective_from) if started else None
    assert s.in_force(day) == expected
    assert s.on(day) == (expected if expected is not None else s[0])
    assert Schedule(s) == s and Schedule(list(reversed(s))) == s
    assert s.latest == s[-1]


def test_a_schedule_is_a_tuple_of_one_policy_or_many() -> None:
    p = HourPolicy()
    assert Schedule(p) == (p,)
    assert Schedule([p]) == Schedule((p,)) == (p,)
    assert Schedule((), default=p) == (p,)
    assert Schedule((), empty=True) == ()
    with pytest.raises(NotFound):
        Schedule((), empty=True).on(DAY0)
    assert Schedule((), empty=True).in_force(DAY0) is None
    assert repr(Schedule(p)).startswith("Schedule([HourPolicy(")


@pytest.mark.parametrize(
    ("value", "field", "shown"),
    [
        ([], "rules", "[]"),
        ([HourPolicy(), HourPolicy(notice_days=3)], "rules", "2021-02-01"),
        ([HourPolicy(), StarScheme()], "rules", "StarScheme"),
        ("national", "rules", "national"),
        ([object()], "rules", "object"),
    ],
)
def test_bad_schedules_are_refused_naming_the_field(value: Any, field: str, shown: str) -> None:
    with pytest.raises(InvalidValue) as err:
        Schedule(value, kind=HourPolicy, field=field)
    assert err.value.field == field
    assert shown in str(err.value)


def test_a_day_must_be_a_date() -> None:
    s = Schedule(dated([0, 10]))
    for bad in ("2020-01-05", None, 5):
        with pytest.raises(InvalidValue, match="day"):
            s.on(bad)  # type: ignore[arg-type]


_TREE = load_default()
_TWO_DAYS = date(2024, 1, 1)


def _twice(cls: type[Any], **kw: Any) -> list[Any]:
    one = cls(effective_from=_TWO_DAYS, **kw)
    return [one, attrs.evolve(one)]


# every place that takes policies by date refuses two taking effect on one day, naming its field
REFUSERS: dict[str, tuple[str, Callable[[], object]]] = {
    "HourLedger": ("policies", lambda: HourLedger(Registry(_TREE), policies=_twice(HourPolicy))),
    "TimeBank": (
        "policies",
        lambda: TimeBank(PointsLedger(instrument="time_credits"), _TREE, _twice(TimeBankPolicy)),
    ),
    "StarBook": (
        "policies",
        lambda: StarBook(HourLedger(Registry(_TREE)), policies=_twice(StarScheme)),
    ),
    "FeedbackBook": ("policies", lambda: FeedbackBook(policies=_twice(BayesianPrior))),
    "credit_bonuses": (
        "policy",
        lambda: credit_bonuses([], {}, _twice(CreditScorePolicy), 2024),
    ),
    "scorecard_for": (
        "cards",
        lambda: scorecard_for(
            [
                attrs.evolve(c, effective_from=_TWO_DAYS)
                for c in list(SCORECARD_PROFILES.values())[:1]
            ]
            * 2,
            date(2024, 6, 1),
        ),
    ),
    "Policies.hours": ("hours", lambda: Policies(hours=_twice(HourPolicy))),
    "Policies.stars": ("stars", lambda: Policies(stars=_twice(StarScheme))),
    "Policies.time_bank": ("time_bank", lambda: Policies(time_bank=_twice(TimeBankPolicy))),
}


@pytest.mark.parametrize("where", sorted(REFUSERS))
def test_two_policies_on_one_day_are_refused_everywhere(where: str) -> None:
    field, build = REFUSERS[where]
    with pytest.raises(InvalidValue) as err:
        build()
    assert err.value.field == field
    assert "2024-01-01" in str(err.value)


def test_books_look_their_policy_up_through_the_schedule() -> None:
    old, new = dated([0, 400])
    ledger = HourLedger(Registry(_TREE), policies=[new, old])
    assert isinstance(ledger.policies, Schedule)
    assert ledger.policy_for(DAY0 + timedelta(days=399)) is old
    assert ledger.policy_for(DAY0 + timedelta(days=400)) is new
    assert ledger.policy_for(DAY0 - timedelta(days=1)) is old  # before every policy: the earliest
    stars = StarBook(ledger, policies=StarScheme())
    assert stars.policy_for(DAY0) is stars.policies.latest
    assert FeedbackBook().policy_for(DAY0) is FeedbackBook().policies.latest


def test_policies_round_trip_through_json_as_schedules() -> None:
    p = Policies(hours=dated([0, 30]), conversion=[], time_bank=[TimeBankPolicy()])
    back = from_json(to_json(p), Policies)
    assert back == p
    assert isinstance(back.hours, Schedule) and isinstance(back.conversion, Schedule)
    assert back.conversion_for(DAY0) is None
    assert back.hours.on(DAY0 + timedelta(days=31)).notice_days == 0
    assert back.hours.on(DAY0 + timedelta(days=30)) == p.hours[1]
