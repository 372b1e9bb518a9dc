"""Province-scale what-ifs partitioned by county, on Dask and in turn.

What is tested: the totals of a replay add up (``_Totals.__add__``): two halves of a population
give the totals of the whole, field by field, in both forms of the minutes per village;
``partitions`` shares the region's volunteers out by villages exactly and covers every village
once; the Dask run equals its sequential twin (all but ``seconds``) under the synchronous,
threaded and process schedulers and on a ``dask.distributed`` cluster of two worker processes
(given as ``scheduler=`` or active), whatever the fan-in; the workers' CPU and peak memory are
read on the workers; each partition's figures are what
``compare_blocks`` gives for that partition's blocks, so the partitioned result is their sum;
the costs of the partitions are reported and a partition's memory follows its blocks; bad
arguments are refused naming the field.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from datetime import datetime

import attrs
import numpy as np
import pytest
from distributed import Client, LocalCluster, get_task_stream

from zhiyuan.__main__ import demo_scenarios
from zhiyuan.errors import InvalidValue, NotFound
from zhiyuan.hierarchy import Level, load_default
from zhiyuan.matching import DispatchPolicy
from zhiyuan.simulate import (
    CITY_PROFILES,
    Comparison,
    Population,
    Scenario,
    compare_blocks,
    generate,
    profile_for,
)
from zhiyuan.simulate.dask import (
    PartitionCost,
    compare_partitioned,
    compare_sequential,
    partitions,
    worker_usage,
)
from zhiyuan.simulate.replay import BLOCK_RECORDS, _blocks, _end_of, _Totals

TREE = load_default()
A, B = demo_scenarios()  # B: half-hour units, an 8 h daily cap, 张家港 stars, year-end expiry
SMALL = {"scale": 0.002, "seed": 11, "block_volunteers": 300}  # 烟台: 2,920 volunteers


def _half(pop: Population, lo: int, hi: int) -> Population:
    """Volunteers ``lo:hi`` of ``pop`` and all their records, numbered from 0."""
    rows = (pop.volunteer >= lo) & (pop.volunteer < hi)
    return attrs.evolve(
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


def _totals_of(pop: Population, scenario: Scenario) -> _Totals:
    now = _end_of(pop.profile.last_day)
    today = (int(now.timestamp()) + 8 * 3600) // 86400
    totals = _Totals(
        levels=np.zeros(scenario.stars.top + 1, dtype=np.int64),
        per_place=np.zeros(len(pop.villages), dtype=np.int64),
        missing=[],
    )
    _blocks(pop, scenario, now, today, totals, None, BLOCK_RECORDS)
    return totals


def _equal(x: _Totals, y: _Totals) -> None:
    assert (x.counted, x.issued, x.outstanding) == (y.counted, y.issued, y.outstanding)
    assert x.months == y.months
    assert np.array_equal(x.levels, y.levels)
    assert (x.per_place is None) == (y.per_place is None)
    if x.per_place is not None:
        assert np.array_equal(x.per_place, y.per_place)
    assert x.places == y.places
    assert np.array_equal(np.concatenate(x.missing or [[]]), np.concatenate(y.missing or [[]]))


def _same(x: Comparison, y: Comparison) -> None:
    assert attrs.evolve(x.a, seconds=0) == attrs.evolve(y.a, seconds=0)
    assert attrs.evolve(x.b, seconds=0) == attrs.evolve(y.b, seconds=0)


@pytest.mark.parametrize("cut", [1, 300, 420])
def test_the_totals_of_two_halves_add_up_to_the_totals_of_the_whole(cut: int) -> None:
    pop = generate(CITY_PROFILES["shinan"], TREE, scale=0.01, seed=4)  # 839 volunteers
    for scenario in (A, B):
        whole = _totals_of(pop, scenario)
        first = _totals_of(_half(pop, 0, cut), scenario)
        second = _totals_of(_half(pop, cut, pop.n_volunteers), scenario)
        _equal(first + second, whole)
        assert any(expired for _, expired in whole.months.values()) is (scenario is B)
        # keyed by village code, as partitions over different villages add up
        keyed = first.keyed(pop.villages) + second.keyed(pop.villages)
        _equal(keyed, whole.keyed(pop.villages))
        assert keyed.places is not None and keyed.per_place is None
        assert sum(keyed.places.values()) == int(whole.per_place.sum())
        _equal(_Totals() + whole, whole)
        _equal(whole + _Totals(), whole)
    with pytest.raises(ValueError, match="shapes"):  # totals of different star schemes
        _ = _Totals(levels=np.zeros(4, np.int64)) + _Totals(levels=np.zeros(6, np.int64))


def test_partitions_share_the_volunteers_out_by_villages() -> None:
    profile = profile_for("37", TREE)
    parts = partitions("37", TREE, scale=0.01, seed=1)
    n = round(profile.volunteers * 0.01)
    villages = [r.code for r in TREE.descendants("37") if r.code[9:] != "000"]
    assert sum(p.volunteers for p in parts) == n
    assert sorted(itertools.chain.from_iterable(p.villages for p in parts)) == sorted(villages)
    for p in parts:
        assert TREE.level(p.code) is Level.COUNTY and p.name == TREE[p.code].name
        assert all(TREE.is_within(v, p.code) for v in p.villages)
        assert abs(p.volunteers - n * len(p.villages) / len(villages)) < 1
        assert p.hours_per_draw == parts[0].hours_per_draw and p.profile == profile
    cities = partitions("37", TREE, by=Level.CITY, scale=0.01, seed=1)
    assert [c.code[:4] for c in cities] == ["3702", "3706"]
    assert sum(c.volunteers for c in cities) == n
    (whole,) = partitions("37", TREE, by=Level.PROVINCE, scale=0.01, seed=1)
    assert whole.code == "370000000000" and whole.volunteers == n
    (county,) = partitions("370602", TREE, by=Level.CITY, scale=0.01)  # at or below `by`
    assert county.code == "370602000000"
    # a partition's draw is its own: the same blocks every time, and another seed differs
    p = parts[5]
    one, two = (list(p.blocks(block_volunteers=500)) for _ in range(2))
    assert [b.n_volunteers for b in one] == [500] * (p.volunteers // 500) + [p.volunteers % 500]
    for x, y in zip(one, two, strict=True):
        assert np.array_equal(x.start, y.start) and np.array_equal(x.place, y.place)
        assert x.villages == p.villages
    other = partitions("37", TREE, scale=0.01, seed=2)[5]
    assert not np.array_equal(next(other.blocks()).start, one[0].start)


@pytest.mark.parametrize(
    ("scheduler", "workers"), [("synchronous", None), ("threads", 2), ("processes", 2)]
)
def test_dask_gives_what_the_sequential_twin_gives(scheduler: str, workers: int | None) -> None:
    twin = compare_sequential("3706", A, B, TREE, **SMALL)
    spent: list[PartitionCost] = []
    on_dask = compare_partitioned(
        "3706", A, B, TREE, scheduler=scheduler, num_workers=workers, costs=spent, **SMALL
    )
    _same(on_dask, twin)
    assert twin.a.volunteers == 2_920 and twin.b.counted_minutes < twin.a.counted_minutes
    assert len(twin.a.hours_by_region) == 13 and twin.a.region_code == "370600000000"
    assert [c.code for c in spent] == [p.code for p in partitions("3706", TREE, **SMALL_P)]
    assert sum(c.records for c in spent) == twin.a.records
    assert all(c.cpu_seconds >= 0 and c.peak_mb > 0 and c.block_bytes > 0 for c in spent)


SMALL_P = {"scale": SMALL["scale"], "seed": SMALL["seed"]}


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    """A cluster of two worker processes, one thread each, closed after this module's tests."""
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def test_a_distributed_cluster_gives_what_the_sequential_twin_gives(client: Client) -> None:
    twin = compare_sequential("3706", A, B, TREE, **SMALL)
    before = {u.address: u for u in worker_usage(client)}
    spent: list[PartitionCost] = []
    on_cluster = compare_partitioned(
        "3706", A, B, TREE, scheduler=client, costs=spent, fan_in=3, **SMALL
    )
    after = worker_usage(client)
    _same(on_cluster, twin)
    assert twin.b.counted_minutes < twin.a.counted_minutes  # B's rules count less: not trivial
    assert [c.code for c in spent] == [p.code for p in partitions("3706", TREE, **SMALL_P)]
    assert sum(c.records for c in spent) == twin.a.records
    # the tasks ran in the two worker processes, not here, and cost them CPU
    assert len(after) == 2 and sorted(before) == [u.address for u in after]
    assert len({u.pid for u in after}) == 2 and os.getpid() not in {u.pid for u in after}
    assert sum(u.cpu_seconds - before[u.address].cpu_seconds for u in after) > 0
    # a partition's memory is its worker's high-water mark at its end: at most the worker's now
    assert 0 < max(c.peak_mb for c in spent) <= max(u.peak_mb for u in after)


def test_the_active_client_is_dasks_default(client: Client) -> None:
    b = attrs.evolve(B, dispatch=DispatchPolicy(), needs=5)  # needs dispatched in the driver
    twin = compare_sequential("3706", A, b, TREE, **SMALL)
    assert twin.b.needs_filled > 0
    for scheduler in (None, "distributed"):
        with get_task_stream(client) as stream:
            _same(compare_partitioned("3706", A, b, TREE, scheduler=scheduler, **SMALL), twin)
        ran = [t["key"] for t in stream.data]
        # on the cluster: 13 partition tasks and their reduction (8 + 5, then 2) in the tree
        assert sum("_run" in str(k) for k in ran) == 13 and len(ran) == 13 + 3


def test_a_client_takes_no_num_workers(client: Client) -> None:
    for scheduler in (client, "distributed"):
        with pytest.raises(InvalidValue) as info:
            compare_partitioned("3706", A, B, TREE, scheduler=scheduler, num_workers=2)
        assert info.value.field == "num_workers" and info.value.value == 2
    with pytest.raises(InvalidValue) as info:
        worker_usage("processes")
    assert info.value.field == "client"


def test_the_fan_in_does_not_change_the_result() -> None:
    twin = compare_sequential("3706", A, B, TREE, **SMALL)
    _same(compare_sequential("3706", A, B, TREE, fan_in=2, **SMALL), twin)
    _same(
        compare_partitioned("3706", A, B, TREE, fan_in=3, scheduler="synchronous", **SMALL),
        twin,
    )


def test_each_partition_is_what_compare_blocks_gives_for_its_blocks() -> None:
    got = compare_sequential("3706", A, B, TREE, **SMALL)
    each = [
        compare_blocks(p.blocks(block_volunteers=300), A, B, TREE)
        for p in partitions("3706", TREE, **SMALL_P)
        if p.volunteers
    ]
    for side in ("a", "b"):
        whole = getattr(got, side)
        parts = [getattr(c, side) for c in each]
        for field in ("volunteers", "records", "counted_minutes", "points_issued"):
            assert getattr(whole, field) == sum(getattr(r, field) for r in parts)
        assert whole.points_outstanding == sum(r.points_outstanding for r in parts)
        levels = {lv for r in parts for lv in r.star_counts}
        assert whole.star_counts == {
            lv: sum(r.star_counts.get(lv, 0) for r in parts) for lv in levels
        }
        by_county = {c: m for r in parts for c, m in r.hours_by_region.items()}
        assert whole.hours_by_region == by_county  # each partition is one county
        assert whole.first_day == min(r.first_day for r in parts if r.first_day)
        months = {m for r in parts for m in r.points_by_month}
        last = max(months)
        assert whole.points_by_month[last][2] == sum(
            r.points_by_month[last][2] for r in parts if r.points_by_month
        )
    # a region that is one partition gives exactly what compare_blocks gives for its blocks
    (shinan,) = partitions("370202", TREE, scale=0.01, seed=3)
    _same(
        compare_sequential("370202", A, B, TREE, scale=0.01, seed=3, block_volunteers=200),
        compare_blocks(shinan.blocks(block_volunteers=200), A, B, TREE),
    )


def test_a_partition_holds_one_block_at_a_time() -> None:
    small: list[PartitionCost] = []
    big: list[PartitionCost] = []
    compare_sequential("3706", A, A, TREE, scale=0.002, block_volunteers=50, costs=small)
    compare_sequential("3706", A, A, TREE, scale=0.002, block_volunteers=5_000, costs=big)
    for s, g in zip(small, big, strict=True):
        assert s.code == g.code and s.volunteers == g.volunteers
        assert s.blocks == -(-s.volunteers // 50) and g.blocks == 1
        assert s.block_bytes <= g.block_bytes
    assert max(s.block_bytes for s in small) < max(g.block_bytes for g in big) / 2
    assert small[0].cpu_per_million_records > 0


def test_needs_are_dispatched_among_the_first_partition() -> None:
    b = attrs.evolve(B, dispatch=DispatchPolicy(), needs=5)
    twin = compare_sequential("3706", A, b, TREE, **SMALL)
    assert twin.b.needs == 5 and twin.a.needs == 0 and twin.b.needs_filled > 0
    _same(compare_partitioned("3706", A, b, TREE, scheduler="threads", **SMALL), twin)


def test_as_of_is_the_end_of_the_history_for_every_partition() -> None:
    from zhiyuan import SHANGHAI

    later = datetime(2026, 6, 30, 23, 59, 59, tzinfo=SHANGHAI)
    got = compare_partitioned("3706", A, B, TREE, as_of=later, scheduler="synchronous", **SMALL)
    _same(got, compare_sequential("3706", A, B, TREE, as_of=later, **SMALL))
    assert max(got.b.points_by_month) == "2026-06"
    at_end = compare_sequential("3706", A, B, TREE, **SMALL)
    assert got.b.points_outstanding < at_end.b.points_outstanding  # 2025's points expired


def test_bad_arguments_are_refused() -> None:
    cases = [
        ({"by": "county"}, "by"),
        ({"by": Level.VILLAGE}, "by"),
        ({"fan_in": 1}, "fan_in"),
        ({"fan_in": True}, "fan_in"),
        ({"block_volunteers": 0}, "block_volunteers"),
        ({"block_volunteers": 2.5}, "block_volunteers"),
        ({"scale": 0}, "scale"),
        ({"seed": -1}, "seed"),
    ]
    for kwargs, field in cases:
        for run in (compare_sequential, compare_partitioned):
            with pytest.raises(InvalidValue) as info:
                run("3706", A, B, TREE, **kwargs)  # type: ignore[operator]
            assert info.value.field == field
    with pytest.raises(InvalidValue) as info:
        compare_sequential("3706", A, "B", TREE)  # type: ignore[arg-type]
    assert info.value.field == "b"
    with pytest.raises(NotFound):
        compare_partitioned("5101", A, B, TREE)
    with pytest.raises(InvalidValue) as info:
        list(partitions("3706", TREE)[0].blocks(block_volunteers=-1))
    assert info.value.field == "block_volunteers"
