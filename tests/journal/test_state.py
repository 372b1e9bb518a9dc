"""A whole state (tree, registry, policies, every book) exports to JSON Lines and imports back
to an equal state, in memory or into an empty store."""

from __future__ import annotations

import io
import json

import pytest

from books import REGISTRY, fixed_clock, open_books, script, snapshot
from zhiyuan.credit import CONVERSION_PROFILES, TIMEBANK_PROFILES
from zhiyuan.errors import InvalidInput
from zhiyuan.hierarchy import (
    Grid,
    Organization,
    PracticeCenter,
    PracticePoint,
    PracticeStation,
    Registry,
    Team,
    load_default,
)
from zhiyuan.hours import HOUR_PROFILES, HourPolicy
from zhiyuan.journal import Journal
from zhiyuan.matching import DispatchPolicy
from zhiyuan.scoring import BayesianPrior, StarScheme
from zhiyuan.state import State
from zhiyuan.store import open_store


def full_state() -> State:
    journal = Journal(clock=fixed_clock)
    script(open_books(journal))
    tree = REGISTRY.tree
    registry = Registry(
        tree,
        [
            Organization(id="o1", name="向阳街道志愿者协会", region_code="370602001"),
            PracticeCenter(id="c1", name="芝罘区新时代文明实践中心", region_code="370602"),
            Team(id="t1", name="理论宣讲队", region_code="370602", kind="理论宣讲"),
            # the kinds a node may have many of, grids and nested teams travel too
            PracticeStation(id="s1", name="实践站", region_code="370602001001"),
            PracticePoint(id="p1", name="广场实践点", region_code="370602001001"),
            PracticePoint(id="p2", name="商场实践点", region_code="370602001001"),
            Grid(id="g1", name="一号网格", region_code="370602001001", leader_id="v1"),
            Team(
                id="t2",
                name="宣讲小队",
                region_code="370602001001",
                kind="理论宣讲",
                parent_id="t1",
                unit_id="s1",
                grid_id="g1",
            ),
        ],
    )
    policies = {
        "hours": (HourPolicy(notice_days=3, auto_certify={"qr_scan"}), HOUR_PROFILES["hailin"]),
        "stars": (StarScheme(notice_days=7),),
        "conversion": (CONVERSION_PROFILES["rongcheng"],),
        "timebank": (TIMEBANK_PROFILES["qingdao"],),
        "dispatch": (DispatchPolicy(),),
        "priors": (BayesianPrior(),),
    }
    return State(tree=tree, registry=registry, policies=policies, journal=journal)


@pytest.mark.parametrize("into", ["memory", "sqlite"])
def test_a_whole_state_round_trips(into: str, tmp_path: object) -> None:
    state = full_state()
    out = io.StringIO()
    assert state.export_jsonl(out) == len(state.journal)
    store = None if into == "memory" else open_store(f"sqlite:///{tmp_path}/s.db")  # type: ignore[str-bytes-safe]
    again = State.import_jsonl(io.StringIO(out.getvalue()), store=store, clock=fixed_clock)
    assert again == state
    assert snapshot(open_books(again.journal)) == snapshot(
        open_books(Journal(state.journal.store, clock=fixed_clock))
    )
    # and once more, from the imported state: the same text
    twice = io.StringIO()
    again.export_jsonl(twice)
    assert twice.getvalue() == out.getvalue()


def test_a_tree_that_is_not_the_default_travels_whole() -> None:
    from zhiyuan.hierarchy import RegionTree

    tree = RegionTree.from_records([("37", "山东省", None), ("3706", "烟台市", "37")])
    state = State(tree=tree, registry=Registry(tree), journal=Journal())
    out = io.StringIO()
    state.export_jsonl(out)
    head = json.loads(out.getvalue().splitlines()[0])
    assert "regions" in head["tree"]
    assert State.import_jsonl(io.StringIO(out.getvalue())) == state
    assert load_default() != tree


@pytest.mark.parametrize(
    ("patch", "needle"),
    [
        ({"tree": {"default": 1999}}, "vintage"),
        ({"registry": [{"item": "bank", "fields": {"id": "x"}}]}, "bank"),
        ({"registry": [{"id": "x"}]}, "fields"),
        (
            {"policies": {"hours": [{"policy": "hours", "fields": {"notice_days": -1}}]}},
            "notice_days",
        ),
        ({"policies": {"hours": [{"policy": "nope", "fields": {}}]}}, "nope"),
    ],
)
def test_a_bad_header_is_refused_naming_line_1(patch: dict[str, object], needle: str) -> None:
    out = io.StringIO()
    full_state().export_jsonl(out)
    lines = out.getvalue().splitlines(keepends=True)
    head = {**json.loads(lines[0]), **patch}
    lines[0] = json.dumps(head, ensure_ascii=False) + "\n"
    with pytest.raises(InvalidInput) as err:
        State.import_jsonl(lines)
    assert needle in str(err.value) and "line 1" in str(err.value)
