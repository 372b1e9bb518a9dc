"""Jurisdiction: who may act where (grants over subtrees, actions, validity periods)."""

from __future__ import annotations

import threading
from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zhiyuan import SHANGHAI
from zhiyuan.errors import InvalidValue, PermissionDenied, UnknownRegion, ZhiyuanError
from zhiyuan.hierarchy import (
    ALL_ACTIONS,
    Action,
    Grant,
    Jurisdiction,
    RegionTree,
    load_default,
)

STREET = "370214001000"  # 城阳街道
COMMUNITY = "370214001001"  # 东果园社区居民委员会, in 城阳街道
NEIGHBOUR_STREET = "370214002000"  # 夏庄街道
NEIGHBOUR_COMMUNITY = "370214002001"
DISTRICT = "370214000000"  # 城阳区
QINGDAO = "370200000000"
YANTAI_VILLAGE = "370602001001"


@pytest.fixture(scope="module")
def tree() -> RegionTree:
    return load_default()


@pytest.fixture
def j(tree: RegionTree) -> Jurisdiction:
    return Jurisdiction(
        tree,
        [
            Grant(principal="li", region_code="370214001", actions={Action.CERTIFY}),
            Grant(principal="wang", region_code="3702"),  # a city admin, every action
        ],
    )


def test_a_street_admin_acts_on_its_communities_only(j: Jurisdiction) -> None:
    assert j.can_act("li", Action.CERTIFY, COMMUNITY)
    assert j.can_act("li", Action.CERTIFY, STREET)  # the node itself
    assert not j.can_act("li", Action.CERTIFY, NEIGHBOUR_COMMUNITY)
    assert not j.can_act("li", Action.CERTIFY, NEIGHBOUR_STREET)
    assert not j.can_act("li", Action.CERTIFY, DISTRICT)  # not upward
    assert not j.can_act("li", Action.CERTIFY, YANTAI_VILLAGE)


def test_an_ancestor_grant_covers_the_subtree(j: Jurisdiction, tree: RegionTree) -> None:
    for code in (QINGDAO, DISTRICT, STREET, COMMUNITY, NEIGHBOUR_COMMUNITY, "370202001001"):
        assert j.can_act("wang", Action.DISPATCH, code)
    assert not j.can_act("wang", Action.DISPATCH, "3706")
    assert not j.can_act("wang", Action.DISPATCH, YANTAI_VILLAGE)
    assert not j.can_act("wang", Action.DISPATCH, "37")
    # every village of 青岛, none elsewhere
    sample = list(tree.descendants("370214001"))
    assert all(j.can_act("wang", "manage", r.code) for r in sample)


def test_any_code_form_is_accepted(j: Jurisdiction) -> None:
    assert j.can_act("li", "certify", 370214001001)
    assert j.can_act("li", "certify", " 370214001001 ")
    assert j.can_act("li", "certify", "370214001")
    assert not j.can_act("li", "certify", 370214002)


def test_unknown_principal_may_do_nothing(j: Jurisdiction) -> None:
    assert not j.can_act("zhao", Action.CERTIFY, COMMUNITY)
    assert j.granting("zhao", Action.CERTIFY, COMMUNITY) is None
    assert j.grants("zhao") == []
    assert j.scope("zhao", Action.CERTIFY) == []


@pytest.mark.parametrize("principal", ["li", "zhao"])
def test_unknown_or_malformed_codes_raise_whoever_asks(j: Jurisdiction, principal: str) -> None:
    # with or without grants, an unknown code is an error, not a quiet "no"
    with pytest.raises(UnknownRegion):
        j.can_act(principal, Action.CERTIFY, "370214099001")
    with pytest.raises(InvalidValue):
        j.can_act(principal, Action.CERTIFY, "37021400100")
    with pytest.raises(UnknownRegion):
        j.check(principal, Action.CERTIFY, "370299")


# --- actions -------------------------------------------------------------------------------------


def test_wildcard_and_specific_actions(tree: RegionTree) -> None:
    every = Grant(principal="a", region_code=STREET)
    assert every.actions == frozenset({ALL_ACTIONS})
    some = Grant(principal="b", region_code=STREET, actions={Action.CERTIFY, "custom_thing"})
    one = Grant(principal="c", region_code=STREET, actions="dispatch")
    assert one.actions == frozenset({"dispatch"})
    j = Jurisdiction(tree, [every, some, one])
    for action in [*Action, "anything_else"]:
        assert j.can_act("a", action, COMMUNITY)
    assert j.can_act("b", Action.CERTIFY, COMMUNITY)
    assert j.can_act("b", "certify", COMMUNITY)  # the enum is its string value
    assert j.can_act("b", "custom_thing", COMMUNITY)
    assert not j.can_act("b", Action.APPROVE_STAR, COMMUNITY)
    assert not j.can_act("b", Action.REVERSE, COMMUNITY)
    assert j.can_act("c", Action.DISPATCH, COMMUNITY)
    assert not j.can_act("c", Action.CERTIFY, COMMUNITY)


@pytest.mark.parametrize("actions", [set(), [], [""], ["certify", "  "], ""])
def test_empty_actions_are_refused(actions: object) -> None:
    with pytest.raises(InvalidValue) as info:
        Grant(principal="a", region_code=STREET, actions=actions)  # type: ignore[arg-type]
    assert info.value.field == "actions"


def test_grant_fields_are_checked() -> None:
    with pytest.raises(InvalidValue) as info:
        Grant(principal=" ", region_code=STREET)
    assert info.value.field == "principal"
    with pytest.raises(InvalidValue) as info:
        Grant(principal="a", region_code="3702140")
    assert info.value.field == "region_code"
    assert Grant(principal="a", region_code=370214001).region_code == STREET


# --- validity ------------------------------------------------------------------------------------


def test_validity_period_is_inclusive(tree: RegionTree) -> None:
    g = Grant(
        principal="li",
        region_code=STREET,
        actions={Action.CERTIFY},
        valid_from=date(2024, 1, 1),
        valid_until=date(2024, 12, 31),
    )
    j = Jurisdiction(tree, [g])
    assert not j.can_act("li", Action.CERTIFY, COMMUNITY, on=date(2023, 12, 31))
    assert j.can_act("li", Action.CERTIFY, COMMUNITY, on=date(2024, 1, 1))
    assert j.can_act("li", Action.CERTIFY, COMMUNITY, on=date(2024, 7, 1))
    assert j.can_act("li", Action.CERTIFY, COMMUNITY, on=date(2024, 12, 31))
    assert not j.can_act("li", Action.CERTIFY, COMMUNITY, on=date(2025, 1, 1))
    # without a date, today (Asia/Shanghai) is the date: this 2024 grant has expired
    assert not j.can_act("li", Action.CERTIFY, COMMUNITY)
    with pytest.raises(PermissionDenied):
        j.check("li", Action.CERTIFY, COMMUNITY, on=date(2025, 1, 1))
    assert j.check("li", Action.CERTIFY, COMMUNITY, on=date(2024, 5, 5)) is g


def test_open_ended_periods(tree: RegionTree) -> None:
    since = Grant(principal="a", region_code=STREET, valid_from=date(2024, 1, 1))
    until = Grant(principal="b", region_code=STREET, valid_until=date(2024, 1, 1))
    j = Jurisdiction(tree, [since, until])
    assert not j.can_act("a", "x", COMMUNITY, on=date(2023, 6, 1))
    assert j.can_act("a", "x", COMMUNITY, on=date(2099, 6, 1))
    assert j.can_act("b", "x", COMMUNITY, on=date(2001, 6, 1))
    assert not j.can_act("b", "x", COMMUNITY, on=date(2024, 1, 2))


def test_a_later_grant_takes_over_when_the_first_expires(tree: RegionTree) -> None:
    old = Grant(principal="li", region_code=STREET, valid_until=date(2023, 12, 31))
    new = Grant(principal="li", region_code=DISTRICT, valid_from=date(2024, 1, 1))
    j = Jurisdiction(tree, [old, new])
    assert j.granting("li", "certify", COMMUNITY, on=date(2023, 5, 1)) is old
    assert j.granting("li", "certify", COMMUNITY, on=date(2024, 5, 1)) is new
    assert j.granting("li", "certify", NEIGHBOUR_COMMUNITY, on=date(2023, 5, 1)) is None


def test_bad_periods_are_refused() -> None:
    with pytest.raises(InvalidValue) as info:
        Grant(
            principal="a",
            region_code=STREET,
            valid_from=date(2024, 2, 1),
            valid_until=date(2024, 1, 31),
        )
    assert info.value.field == "valid_until"
    with pytest.raises(InvalidValue) as info:
        Grant(principal="a", region_code=STREET, valid_from=datetime(2024, 1, 1))  # type: ignore[arg-type]
    assert info.value.field == "valid_from"
    one_day = Grant(
        principal="a", region_code=STREET, valid_from=date(2024, 1, 1), valid_until=date(2024, 1, 1)
    )
    assert one_day.in_force(date(2024, 1, 1)) and not one_day.in_force(date(2024, 1, 2))


# --- check ---------------------------------------------------------------------------------------


def test_check_raises_a_bilingual_permission_denied(j: Jurisdiction, tree: RegionTree) -> None:
    with pytest.raises(PermissionDenied) as info:
        j.check("li", Action.APPROVE_STAR, COMMUNITY)
    err = info.value
    assert isinstance(err, PermissionError) and isinstance(err, ZhiyuanError)
    msg = str(err)
    assert msg == (
        f"li 无权在 {tree.path(COMMUNITY)} 执行 approve_star / li may not approve_star at {COMMUNITY}"
    )
    assert "东果园社区居民委员会" in msg
    with pytest.raises(PermissionDenied) as info:
        j.check("li", Action.CERTIFY, "370214002")  # a short form: named in 12 digits
    assert "li may not certify at 370214002000" in str(info.value)
    assert "夏庄街道" in str(info.value)


def test_check_returns_the_covering_grant(j: Jurisdiction) -> None:
    g = j.check("li", Action.CERTIFY, COMMUNITY)
    assert g.principal == "li" and g.region_code == STREET
    assert j.granting("li", Action.CERTIFY, COMMUNITY) == g


# --- adding, removing, scope ---------------------------------------------------------------------


def test_grants_at_unknown_codes_are_refused(tree: RegionTree) -> None:
    j = Jurisdiction(tree)
    with pytest.raises(UnknownRegion):
        j.add(Grant(principal="li", region_code="370214099"))
    assert j.grants("li") == []
    with pytest.raises(UnknownRegion):
        Jurisdiction(tree, [Grant(principal="li", region_code="4419")])


def test_add_is_idempotent_and_remove_withdraws(j: Jurisdiction) -> None:
    g = Grant(principal="li", region_code="370214001", actions={Action.CERTIFY})
    j.add(g)
    j.add(Grant(principal="li", region_code=STREET, actions=["certify"]))  # an equal grant
    assert j.grants("li") == [g]
    j.remove(g)
    assert j.grants("li") == []
    assert not j.can_act("li", Action.CERTIFY, COMMUNITY)
    j.remove(g)  # never there now: nothing happens
    assert j.grants("li") == []
    assert j.can_act("wang", Action.CERTIFY, COMMUNITY)


def test_scope_folds_nested_grants(tree: RegionTree) -> None:
    j = Jurisdiction(
        tree,
        [
            Grant(principal="li", region_code=COMMUNITY),
            Grant(principal="li", region_code=STREET, actions={"certify"}),
            Grant(principal="li", region_code=DISTRICT, actions={"dispatch"}),
            Grant(principal="li", region_code="370202001"),
            Grant(principal="li", region_code="370602", valid_until=date(2020, 1, 1)),
        ],
    )
    # the 芝罘区 grant expired in 2020: without a date (today) it is left out
    assert j.scope("li", "dispatch") == ["370202001000", DISTRICT]
    assert j.scope("li", "certify") == ["370202001000", STREET]
    assert j.scope("li", "manage") == ["370202001000", COMMUNITY]
    assert j.scope("li", "manage", on=date(2019, 6, 1)) == [
        "370202001000",
        COMMUNITY,
        "370602000000",
    ]


def test_concurrent_adds_and_checks(tree: RegionTree) -> None:
    j = Jurisdiction(tree)
    streets = [r.code for r in tree.children(DISTRICT)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def work(k: int) -> None:
        barrier.wait()
        try:
            for code in streets:
                j.add(Grant(principal=f"p{k % 3}", region_code=code, actions={"certify"}))
                j.can_act(f"p{k % 3}", "certify", code)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    for p in ("p0", "p1", "p2"):
        assert len(j.grants(p)) == len(streets)  # two threads each, kept once
        assert j.scope(p, "certify") == streets


# --- property ------------------------------------------------------------------------------------

_SMALL = load_default().prune("370214001", "370214002", "370202001")
_CODES = [r.code for r in _SMALL]
_ACTIONS = ["certify", "dispatch", "manage"]
_DAYS = st.dates(min_value=date(2023, 1, 1), max_value=date(2025, 12, 31))


@st.composite
def grants(draw: st.DrawFn) -> Grant:
    start = draw(st.none() | _DAYS)
    end = draw(st.none() | _DAYS)
    if start is not None and end is not None and end < start:
        start, end = end, start
    return Grant(
        principal=draw(st.sampled_from(["li", "wang"])),
        region_code=draw(st.sampled_from(_CODES)),
        actions=draw(st.sets(st.sampled_from([*_ACTIONS, ALL_ACTIONS]), min_size=1, max_size=2)),
        valid_from=start,
        valid_until=end,
    )


@given(
    held=st.lists(grants(), max_size=6),
    principal=st.sampled_from(["li", "wang", "zhao"]),
    action=st.sampled_from([*_ACTIONS, "other"]),
    code=st.sampled_from(_CODES),
    on=st.none() | _DAYS,
)
@settings(deadline=None, max_examples=300)
def test_can_act_is_any_permitting_grant_above(
    held: list[Grant], principal: str, action: str, code: str, on: date | None
) -> None:
    j = Jurisdiction(_SMALL, held)
    day = on if on is not None else datetime.now(SHANGHAI).date()  # no date means today
    permitting = [
        g for g in held if g.principal == principal and g.permits(action) and g.in_force(day)
    ]
    want = any(_SMALL.is_within(code, g.region_code) for g in permitting)
    assert j.can_act(principal, action, code, on=on) is want
    # the folded scope says the same, and holds no code nested in another
    top = j.scope(principal, action, on=on)
    assert any(_SMALL.is_within(code, t) for t in top) is want
    assert all(not _SMALL.is_within(a, b) for a in top for b in top if a != b)
    assert set(top) <= {g.region_code for g in permitting}
    if want:
        g = j.check(principal, action, code, on=on)
        assert g in permitting and _SMALL.is_within(code, g.region_code)
    else:
        with pytest.raises(PermissionDenied):
            j.check(principal, action, code, on=on)


# --- wrong types and None raise InvalidValue naming the field (issue 14) -----------------------


@pytest.mark.parametrize("actions", [None, 5, [None], [Action.CERTIFY, 3], b"certify"])
def test_grant_actions_are_text(actions: object) -> None:
    with pytest.raises(InvalidValue, match=r"^actions: ") as exc:
        Grant(principal="li", region_code=STREET, actions=actions)  # type: ignore[arg-type]
    assert exc.value.field == "actions"


@pytest.mark.parametrize("role", [None, "", 5])
def test_grant_role_is_text(role: object) -> None:
    with pytest.raises(InvalidValue, match=r"^role: "):
        Grant(principal="li", region_code=STREET, role=role)  # type: ignore[arg-type]


def test_jurisdiction_checks_what_it_is_built_from(tree: RegionTree) -> None:
    grant = Grant(principal="li", region_code=STREET)
    with pytest.raises(InvalidValue, match=r"^tree: "):
        Jurisdiction(None, [grant])  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match=r"^grants: "):
        Jurisdiction(tree, None)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match=r"^grant: "):
        Jurisdiction(tree, [grant, None])  # type: ignore[list-item]
    with pytest.raises(InvalidValue, match=r"^clock: "):
        Jurisdiction(tree, clock=datetime(2025, 1, 1, tzinfo=SHANGHAI))  # type: ignore[arg-type]


def test_add_and_remove_take_grants_only(j: Jurisdiction) -> None:
    before = j.grants("li")
    for bad in (None, "li", {"principal": "li"}):
        with pytest.raises(InvalidValue, match=r"^grant: "):
            j.add(bad)  # type: ignore[arg-type]
        with pytest.raises(InvalidValue, match=r"^grant: "):
            j.remove(bad)  # type: ignore[arg-type]
    assert j.grants("li") == before


@pytest.mark.parametrize("principal", [None, 5, ["li"]])
def test_a_principal_is_text(j: Jurisdiction, principal: object) -> None:
    with pytest.raises(InvalidValue, match=r"^principal: "):
        j.grants(principal)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match=r"^principal: "):
        j.can_act(principal, Action.CERTIFY, COMMUNITY)  # type: ignore[arg-type]


@pytest.mark.parametrize("action", [None, 5, ["certify"]])
def test_an_action_is_text(j: Jurisdiction, action: object) -> None:
    with pytest.raises(InvalidValue, match=r"^action: "):
        j.can_act("wang", action, COMMUNITY)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match=r"^action: "):
        Grant(principal="wang", region_code=STREET).permits(action)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "on",
    [datetime(2024, 3, 1, tzinfo=SHANGHAI), "2024-03-01", 20240301],
    ids=["datetime", "str", "int"],
)
def test_on_is_a_date(tree: RegionTree, on: object) -> None:
    dated = Grant(principal="li", region_code=STREET, valid_from=date(2024, 1, 1))
    j = Jurisdiction(tree, [dated])
    with pytest.raises(InvalidValue, match=r"^on: "):
        j.can_act("li", Action.CERTIFY, COMMUNITY, on=on)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match=r"^on: "):
        j.check("li", Action.CERTIFY, COMMUNITY, on=on)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match=r"^on: "):
        j.scope("li", Action.CERTIFY, on=on)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match=r"^on: "):
        dated.in_force(on)  # type: ignore[arg-type]
    assert j.can_act("li", Action.CERTIFY, COMMUNITY, on=date(2024, 3, 1))
