"""Province-scale what-ifs in blocks: ``generate_blocks`` and ``compare_blocks``.

What is tested: a population cut into blocks of whole volunteers and replayed by
``compare_blocks`` gives exactly what ``compare`` gives for the whole (hypothesis over cut points
and scenarios); ``generate_blocks`` is repeatable, sized as asked, sorted as the replay needs,
and matches the profile's hours in expectation; bad blocks are refused naming the field.
"""

from __future__ import annotations

import itertools

import attrs
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zhiyuan.errors import InvalidValue
from zhiyuan.hierarchy import load_default
from zhiyuan.hours import HourPolicy, Overflow
from zhiyuan.scoring import STAR_PROFILES
from zhiyuan.simulate import (
    CITY_PROFILES,
    Population,
    Scenario,
    compare,
    compare_blocks,
    generate,
    generate_blocks,
)

TREE = load_default()
POP = generate(CITY_PROFILES["shinan"], TREE, scale=0.01, seed=4)
CAPPED = Scenario(
    name="capped",
    hours=HourPolicy(name="cap", daily_cap_minutes=240, over_daily_cap=Overflow.TRIM),
    stars=STAR_PROFILES["zhangjiagang"],
)


def _cut(pop: Population, cuts: list[int]) -> list[Population]:
    """``pop`` in blocks of whole volunteers, each numbered from 0, cut before ``cuts``."""
    edges = [0, *sorted(set(cuts)), pop.n_volunteers]
    out = []
    for lo, hi in itertools.pairwise(edges):
        if lo >= hi:
            continue
        rows = (pop.volunteer >= lo) & (pop.volunteer < hi)
        out.append(
            attrs.evolve(
                pop,
                home=pop.home[lo:hi],
                registered=pop.registered[lo:hi],
                volunteer=(pop.volunteer[rows] - lo).astype(pop.volunteer.dtype),
                start=pop.start[rows],
                end=pop.end[rows],
                place=pop.place[rows],
                evidence=pop.evidence[rows],
                category=pop.category[rows],
            )
        )
    return out


def _same(x: object, y: object) -> None:
    assert attrs.evolve(x, seconds=0) == attrs.evolve(y, seconds=0)  # type: ignore[misc]


@settings(max_examples=10, deadline=None)
@given(
    st.lists(st.integers(1, POP.n_volunteers - 1), max_size=6),
    st.sampled_from([Scenario(), CAPPED]),
)
def test_blocks_replay_to_what_the_whole_replays_to(cuts: list[int], b: Scenario) -> None:
    whole = compare(POP, Scenario(), b, TREE)
    parts = compare_blocks(iter(_cut(POP, cuts)), Scenario(), b, TREE)
    _same(parts.a, whole.a)
    _same(parts.b, whole.b)


def test_generated_blocks_are_repeatable_sized_and_sorted() -> None:
    profile = CITY_PROFILES["shinan"]
    one = list(generate_blocks(profile, TREE, scale=0.03, seed=9, block_volunteers=1_000))
    two = list(generate_blocks(profile, TREE, scale=0.03, seed=9, block_volunteers=1_000))
    n = round(profile.volunteers * 0.03)
    assert [b.n_volunteers for b in one] == [1_000] * (n // 1_000) + [n % 1_000]
    for x, y in zip(one, two, strict=True):
        assert np.array_equal(x.start, y.start) and np.array_equal(x.place, y.place)
        assert x.villages == y.villages == one[0].villages
        order = np.lexsort((x.start, x.volunteer))
        assert np.array_equal(order, np.arange(x.n_records))
        assert int(x.volunteer.max()) < x.n_volunteers
    other = list(generate_blocks(profile, TREE, scale=0.03, seed=10, block_volunteers=1_000))
    assert not np.array_equal(other[0].start, one[0].start)
    hours = sum(b.total_hours() for b in one)
    assert 0.7 < hours / (profile.cumulative_hours * 0.03) < 1.3  # in expectation, not exactly


def test_a_whole_generated_province_is_replayed_block_by_block() -> None:
    seen: list[tuple[str, int, int | None]] = []
    blocks = generate_blocks(
        CITY_PROFILES["shinan"],
        TREE,
        scale=0.02,
        seed=2,
        block_volunteers=700,
        progress=lambda *a: seen.append(a),
    )
    cmp = compare_blocks(blocks, Scenario(), CAPPED, TREE, progress=lambda *a: seen.append(a))
    n = round(CITY_PROFILES["shinan"].volunteers * 0.02)
    assert cmp.a.volunteers == cmp.b.volunteers == n
    assert cmp.b.counted_minutes < cmp.a.counted_minutes  # the 4 h cap bites
    assert ("生成 / generate", n, n) in seen and ("回放 / replay", n, None) in seen
    assert sum(cmp.a.star_counts.values()) == n


def test_bad_blocks_are_refused() -> None:
    with pytest.raises(InvalidValue) as info:
        compare_blocks(iter([]), Scenario(), Scenario(), TREE)
    assert info.value.field == "blocks"
    with pytest.raises(InvalidValue) as info:
        compare_blocks([POP, "block"], Scenario(), Scenario(), TREE)  # type: ignore[list-item]
    assert info.value.field == "blocks[1]"
    other = generate(CITY_PROFILES["yantai"], TREE, scale=0.0005, seed=1)
    with pytest.raises(InvalidValue) as info:
        compare_blocks([POP, other], Scenario(), Scenario(), TREE)
    assert info.value.field == "blocks[1]"
    for bad in (0, -5, 1.5, True):
        with pytest.raises(InvalidValue) as info:
            list(generate_blocks(CITY_PROFILES["shinan"], TREE, block_volunteers=bad))  # type: ignore[arg-type]
        assert info.value.field == "block_volunteers"


def test_the_cli_draws_and_replays_a_big_population_in_blocks(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from zhiyuan import __main__ as cli

    args = ["simulate", "--region", "370202", "--scale", "0.01", "--format", "json"]
    assert cli.main(args) == 0
    whole = json.loads(capsys.readouterr().out)
    assert whole["run"]["blocks"] is False
    monkeypatch.setattr(cli, "_STREAM_ABOVE", 100)
    assert cli.main(args) == 0
    parts = json.loads(capsys.readouterr().out)
    assert parts["run"]["blocks"] is True
    assert parts["run"]["population"]["volunteers"] == whole["run"]["population"]["volunteers"]
    assert parts["a"]["volunteers"] == whole["a"]["volunteers"]
    assert sum(parts["a"]["star_counts"].values()) == parts["a"]["volunteers"]
    assert cli.main([*args, "--response", "30"]) == 2
    assert "--response" in capsys.readouterr().err
