"""A platform on each real store (a SQLite file, a PostgreSQL database): the flows, a reopen
that gives the same state, and two platforms on one store that see each other's writes."""

from __future__ import annotations

from typing import Any

from support.platform import GRANTS, Clock, registry, rules, serve, time_bank, volunteer
from zhiyuan.platform import Platform


def _open(url: str, clock: Clock) -> Platform:
    return Platform.open(
        url, registry(), policies=rules(time_bank=[time_bank()]), grants=GRANTS, clock=clock
    )


def _state(city: Platform) -> dict[str, Any]:
    assert city.time_bank is not None
    return {
        "accounts": city.points.accounts(),
        "statuses": {r.id: city.hours.status(r.id) for r in city.hours.records_of("v1")},
        "levels": city.stars.level("v1"),
        "bank": city.time_bank.balance("v1"),
        "acts": city.acts.acts(),
        "head": city.journal.head,
    }


def test_a_platform_on_a_store_reopens_to_the_same_state(store_url: str) -> None:
    clock = Clock()
    city = _open(store_url, clock)
    city.register(volunteer("v1"), by="v1")
    for rid, day in (("r1", 1), ("r2", 2), ("r3", 3)):
        serve(city, rid, "v1", day, 3)
    clock.advance(hours=1)
    city.spend("s1", "v1", 4, by="v1")
    city.reverse("r2", by="admin-cy", reason="重复")
    before = _state(city)
    # 3 × 3 points; 4 spent (r1's 3 and 1 of r2's); r2 reversed: its 2 left go back and the 1
    # spent is clawed back from r3's lot
    assert before["accounts"]["volunteer:v1"] == 9 - 4 - 2 - 1
    assert bool(city.reconcile())
    city.close()
    again = _open(store_url, clock)
    try:
        assert _state(again) == before
        assert again.journal.verify()
        assert bool(again.reconcile())
        assert again.dispatcher.candidate("v1").home_region == volunteer("v1").home_region
    finally:
        again.close()


def test_two_platforms_on_one_store_see_each_others_writes(store_url: str) -> None:
    clock = Clock()
    one, two = _open(store_url, clock), _open(store_url, clock)
    try:
        one.register(volunteer("v1"), by="v1")
        serve(one, "r1", "v1", 1, 2)
        assert two.journal.refresh() > 0
        assert two.points.balance("volunteer:v1") == 2
        assert two.dispatcher.candidate("v1").id == "v1"  # registrations folded in keep step
        # the second writes on top of the first's records, and the first catches up
        serve(two, "r2", "v1", 2, 1)
        one.journal.refresh()
        assert one.points.balance("volunteer:v1") == two.points.balance("volunteer:v1") == 3
        assert one.journal.head == two.journal.head
    finally:
        one.close()
        two.close()
