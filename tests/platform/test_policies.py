"""Policies in force by date: every kind a platform holds is a dated schedule, and each
decision follows the one in force on its day."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from support.platform import STARS, Clock, at, rules, serve, volunteer
from zhiyuan.convert import from_json, to_json
from zhiyuan.credit import ConversionPolicy
from zhiyuan.errors import InvalidValue
from zhiyuan.hierarchy import Level
from zhiyuan.matching import DispatchPolicy, Need
from zhiyuan.platform import Platform, Policies
from zhiyuan.scoring import StarScheme

Make = Callable[..., Platform]

# from 1 April 2025, 2 h earn the first star (4 h before)
EASIER = StarScheme(
    name="easier",
    effective_from=date(2025, 4, 1),
    thresholds_hours=(2, 8),
    approving=(Level.COUNTY, Level.COUNTY),
)


def test_each_kind_is_a_schedule_and_one_policy_alone_is_one() -> None:
    p = Policies(stars=STARS, dispatch=DispatchPolicy())
    assert p.stars == (STARS,) and len(p.dispatch) == 1
    both = Policies(stars=[EASIER, STARS])
    assert both.stars == (STARS, EASIER)  # ordered by effective_from
    assert both.stars_for(date(2025, 3, 31)) is STARS
    assert both.stars_for(date(2025, 4, 1)) is EASIER
    assert both.stars_for(date(2000, 1, 1)) is STARS  # before the first: the earliest


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("stars", []),
        ("stars", [STARS, STARS]),  # two on one day
        ("dispatch", "fast"),
        (
            "conversion",
            [
                ConversionPolicy(name="a"),
                ConversionPolicy(name="a", effective_from=date(2024, 1, 1)),
            ],
        ),
        ("hours", []),
    ],
)
def test_bad_schedules_are_refused_naming_the_field(field: str, value: Any) -> None:
    with pytest.raises(InvalidValue) as err:
        Policies(**{field: value})
    assert err.value.field == field


def test_policies_round_trip_through_json() -> None:
    p = rules(
        stars=[STARS, EASIER],
        dispatch=[DispatchPolicy(), DispatchPolicy(effective_from=date(2025, 6, 1))],
    )
    assert from_json(to_json(p), Policies) == p


def test_a_star_application_is_judged_by_the_scheme_in_force_on_its_day(
    make_city: Make, clock: Clock
) -> None:
    city = make_city(policies=rules(stars=[STARS, EASIER]))
    city.register(volunteer("v1"), by="v1")
    serve(city, "r1", "v1", day=1, hours=3)  # 3 h: short of 4 h in March
    with pytest.raises(InvalidValue):
        city.apply_star("a1", "v1", 1, by="v1")
    assert len(city.stars.entries) == 0
    clock.set(at(2, month=4))  # the easier scheme is in force: 2 h are enough
    city.apply_star("a1", "v1", 1, by="v1")
    city.decide_star("a1", by="approver", approve=True, reason="符合")
    assert city.stars.level("v1") == 1
    assert city.stars.policy_for(date(2025, 3, 1)) is STARS
    assert city.stars.policies.latest is EASIER  # the latest


def test_dispatch_follows_the_policy_in_force(make_city: Make, clock: Clock) -> None:
    later = DispatchPolicy(effective_from=date(2025, 4, 1), offer_timeout_minutes=5)
    city = make_city(policies=rules(dispatch=[DispatchPolicy(offer_timeout_minutes=60), later]))
    city.register(volunteer("v1"), by="v1")

    def need(nid: str, day: int, month: int) -> Need:
        return Need(
            id=nid,
            requester="张大爷",
            region_code="370214001001",
            category="助老",
            start=at(day, 14, month=month),
            end=at(day, 16, month=month),
            posted_at=clock.now,
        )

    city.post_need(need("n1", 20, 3), by="张大爷")
    offer = city.dispatch("n1", by="dispatcher")
    assert offer is not None and offer.expires_at is not None
    assert offer.expires_at - offer.at == (at(1, 1) - at(1, 0))  # 60 minutes in March
    clock.set(at(2, 9, month=4))
    city.post_need(need("n2", 20, 4), by="张大爷")
    offer = city.dispatch("n2", by="dispatcher")
    assert offer is not None and offer.expires_at is not None
    assert (offer.expires_at - offer.at).total_seconds() == 5 * 60  # 5 minutes from April
    assert city.dispatcher.policy is later
