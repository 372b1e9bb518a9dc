"""What-if on real records: :func:`zhiyuan.simulate.from_records` turns an export (CSV, Parquet,
a frame) into a population whose replay equals the replay of the population it was exported
from; results carry the period, the place, the assumptions and the points by month.
"""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

np = pytest.importorskip("numpy")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
pacsv = pytest.importorskip("pyarrow.csv")
pc = pytest.importorskip("pyarrow.compute")
pl = pytest.importorskip("polars")

from zhiyuan import SHANGHAI  # noqa: E402
from zhiyuan.credit import CONVERSION_PROFILES  # noqa: E402
from zhiyuan.errors import InvalidValue, NotFound  # noqa: E402
from zhiyuan.hierarchy import load_default  # noqa: E402
from zhiyuan.hours import HOUR_PROFILES  # noqa: E402
from zhiyuan.scoring import STAR_PROFILES  # noqa: E402
from zhiyuan.simulate import (  # noqa: E402
    ASSUMPTIONS,
    CITY_PROFILES,
    Population,
    Scenario,
    compare,
    from_records,
    generate,
    replay,
)

TREE = load_default()
A = Scenario(name="national")
B = Scenario(
    name="local",
    hours=HOUR_PROFILES["guangdong"],
    stars=STAR_PROFILES["longgang"],
    points=CONVERSION_PROFILES["huangshi"],
)
POP = generate(CITY_PROFILES["shinan"], TREE, scale=0.01, seed=11)


def local(t: int) -> str:
    """Epoch seconds as an export's local time, without a zone."""
    return datetime.fromtimestamp(t, SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


def export(pop: Population, folder: Path) -> tuple[Path, Path]:
    """The population as an export: records and registrations, two CSV files."""
    records = folder / "records.csv"
    with records.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["volunteer_id", "region_code", "start", "end", "evidence", "category"])
        for k in range(pop.n_records):
            w.writerow(
                [
                    f"v{int(pop.volunteer[k]):07d}",
                    pop.villages[int(pop.place[k])],
                    local(int(pop.start[k])),
                    local(int(pop.end[k])),
                    pop.evidence_kinds[int(pop.evidence[k])].value,
                    pop.categories[int(pop.category[k])],
                ]
            )
    people = folder / "volunteers.csv"
    with people.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["volunteer_id", "registered_on", "region_code"])
        for i in range(pop.n_volunteers):
            day = datetime.fromtimestamp(int(pop.registered[i]), SHANGHAI).date()
            w.writerow([f"v{i:07d}", day.isoformat(), pop.villages[int(pop.home[i])]])
    return records, people


def same_outcome(got: Any, want: Any) -> None:
    for side in ("a", "b"):
        g, w = getattr(got, side), getattr(want, side)
        assert g.volunteers == w.volunteers and g.records == w.records
        assert g.counted_minutes == w.counted_minutes, side
        assert g.star_counts == w.star_counts, side
        assert (g.points_issued, g.points_outstanding) == (w.points_issued, w.points_outstanding)
        assert g.hours_by_region == w.hours_by_region, side
        assert g.points_by_month == w.points_by_month, side


def test_an_exported_population_replays_as_the_population_itself(tmp_path: Path) -> None:
    want = compare(POP, A, B, TREE)
    records, people = export(POP, tmp_path)
    pop = from_records(records, TREE, registrations=people)
    assert not pop.synthetic and pop.n_volunteers == POP.n_volunteers
    assert pop.profile.region_code == "370202000000"  # 市南区 holds every record
    got = compare(pop, A, B, TREE)
    same_outcome(got, want)
    assert got.a.scale is None and got.a.random_seed is None
    assert want.a.scale == 0.01 and want.a.random_seed == 11
    assert ASSUMPTIONS["records"] in got.assumptions
    assert ASSUMPTIONS["synthetic"] in want.assumptions
    assert ASSUMPTIONS["unchanged"] in got.text()


def test_parquet_and_frames_give_the_same_population(tmp_path: Path) -> None:
    records, people = export(POP, tmp_path)
    table = pacsv.read_csv(records)
    aware = table.set_column(
        table.column_names.index("start"),
        "start",
        pc.assume_timezone(table.column("start"), "Asia/Shanghai"),
    ).set_column(
        table.column_names.index("end"),
        "end",
        pc.assume_timezone(table.column("end"), "Asia/Shanghai"),
    )
    pq.write_table(aware, tmp_path / "records.parquet")
    from_csv = from_records(records, TREE, registrations=people)
    from_parquet = from_records(tmp_path / "records.parquet", TREE, registrations=people)
    from_polars = from_records(pl.from_arrow(aware), TREE, registrations=pacsv.read_csv(people))
    for other in (from_parquet, from_polars):
        for name in ("volunteer", "start", "end", "place", "evidence", "category", "registered"):
            assert np.array_equal(getattr(other, name), getattr(from_csv, name)), name
        assert other.villages == from_csv.villages


def test_without_registrations_volunteers_join_at_their_first_record() -> None:
    t = int(datetime(2025, 3, 1, 9, tzinfo=SHANGHAI).timestamp())
    pop = from_records(
        {
            "volunteer": ["b", "a", "b"],
            "region": ["370202001001", "370202001001", "370203005001"],
            "start": [t + 86400, t, t],
            "end": [t + 86400 + 3600, t + 600, t + 1800],
            "evidence": ["qr_scan"] * 3,
            "category": ["助老"] * 3,
        },
        TREE,
    )
    assert pop.n_volunteers == 2 and pop.profile.region_code == "370200000000"  # 青岛市
    assert pop.registered.tolist() == [t, t]  # both first served at 09:00 on 1 March
    assert pop.start.tolist() == [t, t, t + 86400]  # by volunteer, then start
    assert pop.villages[pop.home[1]] == "370203005001"  # b's first record


def test_bad_records_are_named(tmp_path: Path) -> None:
    t = int(datetime(2025, 3, 1, 9, tzinfo=SHANGHAI).timestamp())
    base = {
        "volunteer": ["a"],
        "region": ["370202001001"],
        "start": [t],
        "end": [t + 60],
        "evidence": ["gps"],
        "category": ["助老"],
    }
    with pytest.raises(NotFound, match="region"):
        from_records({**base, "region": ["370202999999"]}, TREE)
    with pytest.raises(InvalidValue, match="region"):
        from_records({k: v for k, v in base.items() if k != "region"}, TREE)
    with pytest.raises(InvalidValue, match="not within"):
        from_records(base, TREE, region="3706")
    with pytest.raises(NotFound, match="records file"):
        from_records(tmp_path / "missing.csv", TREE)
    (tmp_path / "x.txt").write_text("a")
    with pytest.raises(InvalidValue, match="csv"):
        from_records(tmp_path / "x.txt", TREE)
    with pytest.raises(InvalidValue, match="registered_on"):
        from_records(base, TREE, registrations={"volunteer": ["a"]})
    with pytest.raises(InvalidValue, match="records"):
        from_records({k: [] for k in base}, TREE)


def test_points_by_month_add_up_to_the_totals() -> None:
    cmp = compare(POP, A, B, TREE)
    for side in (cmp.a, cmp.b):
        months = list(side.points_by_month.values())
        assert sum(i for i, _, _ in months) == side.points_issued
        assert months[-1][2] == side.points_outstanding
        running = 0
        for issued, expired, outstanding in months:
            running += issued - expired
            assert outstanding == running >= 0
    # 黄石's points expire at the end of each year: B has expiries, A (national) none
    assert any(e for _, e, _ in cmp.b.points_by_month.values())
    assert not any(e for _, e, _ in cmp.a.points_by_month.values())
    assert cmp.a.first_day is not None and cmp.a.last_day is not None
    assert cmp.a.first_day <= cmp.a.last_day
    assert cmp.a.policies["stars"]["name"] == "national"
    assert cmp.b.policies["stars"]["name"] == "longgang"
    assert cmp.a.last_day - cmp.a.first_day > timedelta(days=365)


# --- a profile for any region ----------------------------------------------------------------


def test_a_profile_for_any_region() -> None:
    from zhiyuan.simulate import PUBLISHED_TOTALS, profile_for

    assert profile_for("3706", TREE) is CITY_PROFILES["yantai"]
    shandong = profile_for("37", TREE)
    assert (shandong.volunteers, shandong.cumulative_hours) == PUBLISHED_TOTALS["370000000000"][:2]
    part = profile_for("370602", TREE)  # 芝罘区: its share of 山东's villages in this tree
    villages = lambda c: sum(1 for r in TREE.descendants(c) if r.code[9:] != "000")  # noqa: E731
    share = villages("370602") / villages("37")
    assert part.volunteers == round(17_200_000 * share)
    assert part.hours_estimated and "芝罘区" in part.source
    with pytest.raises(InvalidValue, match="volunteers"):
        profile_for("520302", TREE)  # 贵州 publishes nothing here
    given = profile_for("520302", TREE, volunteers=5000)
    assert given.cumulative_hours == 5000 * 15 and given.hours_estimated
    own = profile_for("520302", TREE, volunteers=5000, hours=80_000)
    assert own.cumulative_hours == 80_000 and not own.hours_estimated
    with pytest.raises(NotFound):
        profile_for("5101", TREE)


def test_the_command_line_simulates_any_region(capsys: pytest.CaptureFixture[str]) -> None:
    from zhiyuan.__main__ import main

    assert main(["simulate", "--region", "37", "--scale", "0.001", "--format", "json"]) == 0
    import json

    doc = json.loads(capsys.readouterr().out)
    assert doc["run"]["city"] == "山东省" and doc["run"]["population"]["volunteers"] == 17_200
    assert main(["simulate", "--region", "520302", "--scale", "0.01"]) == 2
    assert "--volunteers" in capsys.readouterr().err
    assert main(["simulate", "--region", "520302", "--volunteers", "3000", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["run"]["population"]["volunteers"] == 150


# --- blocked replays ---------------------------------------------------------------------------


@settings(max_examples=12, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    block=st.integers(1, 5000),
    city=st.sampled_from(["shinan", "chengyang"]),
)
def test_a_blocked_replay_equals_the_whole(seed: int, block: int, city: str) -> None:
    """Blocks of whole volunteers (down to one record) add up to the replay of everything."""
    pop = generate(CITY_PROFILES[city], TREE, scale=0.003, seed=seed)
    for scenario in (A, B):
        whole = replay(pop, scenario, TREE, block_records=None)
        blocked = replay(pop, scenario, TREE, block_records=block)
        assert attrs.evolve(blocked, seconds=0) == attrs.evolve(whole, seconds=0)
    with pytest.raises(InvalidValue, match="block_records"):
        replay(pop, A, TREE, block_records=0)
