"""The optional response model of what-ifs (行为响应): off by default, and when on, only volunteers
near a level under B serve more, once each, within the history.

What is tested: ``compare`` without a response is the plain replay of both scenarios; a share of
0 changes nothing but the assumption; with a share of 100 every responder was near a level (only
hours missing, at most ``within_hours``), served once on the day after their last record for the
hours they lacked rounded up, and B's counted minutes and star levels only grow; the draw is
repeatable by seed; bad parameters are refused naming the field; the CLI's ``--response``.
"""

from __future__ import annotations

import json

import attrs
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zhiyuan.__main__ import main
from zhiyuan.errors import InvalidValue
from zhiyuan.hierarchy import load_default
from zhiyuan.scoring import StarScheme
from zhiyuan.simulate import (
    ASSUMPTIONS,
    CITY_PROFILES,
    Response,
    Scenario,
    compare,
    generate,
    replay,
    respond,
)

TREE = load_default()
POP = generate(CITY_PROFILES["shinan"], TREE, scale=0.01, seed=11)
LOW = Scenario(
    name="low", stars=StarScheme(name="low", thresholds_hours=(40, 300, 600, 1000, 1500))
)


def _counts(pop: object) -> np.ndarray:
    return np.bincount(pop.volunteer, minlength=pop.n_volunteers)  # type: ignore[attr-defined]


def test_without_a_response_compare_is_the_plain_replay_of_both() -> None:
    cmp = compare(POP, Scenario(), LOW, TREE)
    plain = replay(POP, LOW, TREE)
    assert attrs.evolve(cmp.b, seconds=0) == attrs.evolve(plain, seconds=0)
    assert ASSUMPTIONS["unchanged"] in cmp.b.assumptions


def test_a_share_of_zero_changes_nothing_but_what_b_assumes() -> None:
    cmp = compare(POP, Scenario(), LOW, TREE, response=Response(share_percent=0))
    plain = replay(POP, LOW, TREE)
    assert cmp.b.counted_minutes == plain.counted_minutes
    assert cmp.b.records == plain.records
    assert ASSUMPTIONS["unchanged"] not in cmp.b.assumptions
    assert any("0 名" in line and "response" in line for line in cmp.b.assumptions)


@settings(max_examples=8, deadline=None)
@given(st.integers(1, 40), st.integers(0, 2**31), st.integers(1, 100))
def test_responders_were_near_and_serve_what_they_lack_once(
    within: int, seed: int, share: int
) -> None:
    response = Response(share_percent=share, within_hours=within, seed=seed)
    grown, near, took = respond(POP, LOW, TREE, response)
    assert 0 <= took <= near
    assert grown.n_records == POP.n_records + took
    assert grown.n_volunteers == POP.n_volunteers
    extra = _counts(grown) - _counts(POP)
    assert set(np.unique(extra).tolist()) <= {0, 1}
    assert int(extra.sum()) == took
    # still sorted by volunteer, then start (what the blocked replay relies on)
    assert bool(np.all(np.diff(grown.volunteer) >= 0))
    again, near2, took2 = respond(POP, LOW, TREE, response)
    assert (near2, took2) == (near, took)
    assert np.array_equal(again.start, grown.start)
    if took:
        before = replay(POP, LOW, TREE)
        after = replay(grown, LOW, TREE)
        assert after.counted_minutes >= before.counted_minutes
        lv_before = sum(k * n for k, n in before.star_counts.items())
        lv_after = sum(k * n for k, n in after.star_counts.items())
        assert lv_after >= lv_before
        # each new record is a whole number of hours, at most within_hours (rounded up), at 09:00
        who = np.flatnonzero(extra)
        for v in who[:20].tolist():
            old = POP.end[POP.volunteer == v].max()
            new = grown.start[(grown.volunteer == v) & (grown.start > old)]
            assert new.size == 1
            secs = int(grown.end[(grown.volunteer == v) & (grown.start == new[0])][0] - new[0])
            assert secs % 3600 == 0 and 0 < secs <= within * 3600 + 3600
            assert (int(new[0]) + 8 * 3600) % 86400 == 9 * 3600


def test_with_everyone_near_responding_more_reach_a_level() -> None:
    cmp = compare(POP, Scenario(), LOW, TREE, response=Response(share_percent=100))
    plain = replay(POP, LOW, TREE)
    assert cmp.b.records > plain.records
    assert cmp.b.star_counts.get(1, 0) + cmp.b.star_counts.get(2, 0) > plain.star_counts.get(
        1, 0
    ) + plain.star_counts.get(2, 0)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"share_percent": 101}, "share_percent"),
        ({"share_percent": -1}, "share_percent"),
        ({"within_hours": 0}, "within_hours"),
        ({"seed": -3}, "seed"),
        ({"share_percent": 1.5}, "share_percent"),
    ],
)
def test_bad_parameters_are_refused_naming_the_field(fields: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidValue) as info:
        Response(**fields)  # type: ignore[arg-type]
    assert info.value.field == field
    with pytest.raises(InvalidValue):
        respond(POP, LOW, TREE, "30%")  # type: ignore[arg-type]


def test_the_cli_takes_a_response_share(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["simulate", "--region", "370202", "--scale", "0.01", "--format", "json"]
    assert main([*args, "--response", "100"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert any(line.startswith("行为响应") for line in doc["run"]["assumptions"])
    assert main(args) == 0
    doc = json.loads(capsys.readouterr().out)
    assert not any(line.startswith("行为响应") for line in doc["run"]["assumptions"])
