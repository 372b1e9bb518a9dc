"""Functional zones (功能区): a named group of regions, usable wherever a region scopes something.

What is tested: a zone's validation and its JSON/TOML round-trip; that the tree, the bulk arrays
and a zone's own ``covers`` agree on membership (hypothesis over real codes); grants over a zone;
a shop item for a zone's residents; a profile for a zone and its precedence; a what-if limited to
a zone (library and CLI); the shipped zones are made of real regions.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zhiyuan import SHANGHAI
from zhiyuan.__main__ import main
from zhiyuan.bulk.regions import within, zone_rollup
from zhiyuan.convert import from_json, from_toml, to_json
from zhiyuan.credit.catalog import Catalog, Item
from zhiyuan.credit.ledger import PointsLedger
from zhiyuan.credit.redemptions import Redemptions
from zhiyuan.errors import InvalidValue, PermissionDenied, UnknownRegion
from zhiyuan.hierarchy import Level, load_default
from zhiyuan.hierarchy.jurisdiction import Grant, Jurisdiction
from zhiyuan.hierarchy.zones import ZONES, Zone, to_zone
from zhiyuan.hours import HOUR_PROFILES, HourPolicy, Volunteer
from zhiyuan.profiles import Profiles, Source
from zhiyuan.simulate import from_records

TREE = load_default()
CHANGDAO = ZONES["长岛综合试验区"]
XINPU = ZONES["新蒲新区"]
# every village and township of 蓬莱区 and 红花岗区: inside and outside the two zones
CODES = sorted(
    r.code
    for top in ("370614", "520302")
    for r in TREE.descendants(top)
    if r.level in (Level.TOWNSHIP, Level.VILLAGE)
)


# --- the value --------------------------------------------------------------------------------


def test_members_are_normalized_sorted_and_nested_ones_dropped() -> None:
    z = Zone(id="z", name="区", codes=["370602001", "370602", "370611", 370611])
    assert z.codes == ("370602000000", "370611000000")


@pytest.mark.parametrize(
    ("codes", "field"),
    [([], "codes"), ("370602", "codes"), (370602, "codes"), (["37x"], "codes"), (None, "codes")],
)
def test_a_bad_member_list_is_refused_naming_the_field(codes: object, field: str) -> None:
    with pytest.raises(InvalidValue) as info:
        Zone(id="z", name="区", codes=codes)  # type: ignore[arg-type]
    assert info.value.field == field


def test_a_zone_round_trips_through_json_and_toml() -> None:
    for zone in ZONES.values():
        assert from_json(to_json(zone), Zone) == zone
    z = from_toml('id = "z"\nname = "新区"\ncodes = ["520302013"]\nkind = "新区"', Zone)
    assert z == Zone(id="z", name="新区", codes=["520302013"], kind="新区")
    assert to_zone({"id": "z", "name": "新区", "codes": ["520302013"]}).codes == ("520302013000",)
    with pytest.raises(InvalidValue):
        to_zone({"id": "z", "name": "新区", "codes": ["520302013"], "colour": "red"})
    with pytest.raises(InvalidValue):
        to_zone("新蒲新区")


def test_the_shipped_zones_are_made_of_real_regions_and_cite_their_source() -> None:
    for zone in ZONES.values():
        regions = zone.regions(TREE)
        assert [r.code for r in regions] == list(zone.codes)
        assert zone.source is not None and zone.source.document
        assert zone.name in zone.explain() and "出处 / source" in zone.explain()
    assert {r.name for r in CHANGDAO.regions(TREE)} >= {"砣矶镇", "大钦岛乡", "北隍城乡"}
    assert {r.name for r in XINPU.regions(TREE)} == {
        "新蒲街道",
        "新中街道",
        "虾子镇",
        "三渡镇",
        "永乐镇",
    }


# --- the tree and the arrays agree -------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sampled_from(CODES), min_size=1, max_size=40), st.sampled_from([CHANGDAO, XINPU])
)
def test_tree_arrays_and_covers_agree_on_membership(codes: list[str], zone: Zone) -> None:
    expect = [any(TREE.is_within(c, m) for m in zone.codes) for c in codes]
    assert [TREE.is_within(c, zone) for c in codes] == expect
    assert TREE.within_mask(codes, zone) == expect
    assert within(TREE, codes, zone).tolist() == expect
    assert [zone.covers(c) for c in codes] == expect


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(CODES), st.integers(-1000, 1000)), max_size=50))
def test_zone_rollup_sums_what_lies_in_each_zone(rows: list[tuple[str, int]]) -> None:
    codes = [c for c, _ in rows]
    values = [v for _, v in rows]
    got = zone_rollup(TREE, codes, values, ZONES.values())
    assert got == {z.id: sum(v for c, v in rows if TREE.is_within(c, z)) for z in ZONES.values()}


def test_an_unknown_member_raises_when_the_tree_is_asked() -> None:
    ghost = Zone(id="g", name="虚", codes=["370699"])
    with pytest.raises(UnknownRegion):
        TREE.is_within("370602001001", ghost)
    with pytest.raises(UnknownRegion):
        ghost.regions(TREE)


# --- authority ---------------------------------------------------------------------------------


def test_a_grant_over_a_zone_covers_its_members_only() -> None:
    g = Grant(principal="长岛管委", zone=CHANGDAO, actions={"record"})
    j = Jurisdiction(TREE, [g], clock=lambda: datetime(2025, 1, 1, tzinfo=SHANGHAI))
    assert j.can_act("长岛管委", "record", "370614110201")  # a village of 砣矶镇
    assert not j.can_act("长岛管委", "record", "370614001001")  # 登州街道: 蓬莱, not the islands
    assert not j.can_act("长岛管委", "approve", "370614110201")
    assert j.scope("长岛管委", "record") == list(CHANGDAO.codes)
    with pytest.raises(PermissionDenied):
        j.check("长岛管委", "record", "370614001001")
    assert from_json(to_json(g), Grant) == g


def test_a_grant_names_a_region_or_a_zone_not_both() -> None:
    with pytest.raises(InvalidValue):
        Grant(principal="p")
    with pytest.raises(InvalidValue):
        Grant(principal="p", region_code="3706", zone=CHANGDAO)


def test_a_grant_over_a_zone_with_an_unknown_member_is_refused_and_not_kept() -> None:
    j = Jurisdiction(TREE)
    with pytest.raises(UnknownRegion):
        j.add(Grant(principal="p", zone=Zone(id="g", name="虚", codes=["370602", "370699"])))
    assert j.grants("p") == []


# --- a shop item for a zone ------------------------------------------------------------------


def test_an_item_for_a_zone_is_redeemed_by_its_residents_only() -> None:
    t0 = datetime(2025, 3, 1, 9, tzinfo=SHANGHAI)
    people = {
        "island": Volunteer(
            id="island", name="岛民", home_region="370614110201", registered_on=date(2024, 1, 1)
        ),
        "town": Volunteer(
            id="town", name="城里", home_region="370614001001", registered_on=date(2024, 1, 1)
        ),
    }
    ledger = PointsLedger()
    for vid in people:
        ledger.earn(f"earn-{vid}", vid, 100, at=t0, issuer="issuer:烟台")
    fish = Item(id="fish", name="海产品", price=10, zone=CHANGDAO)
    assert from_toml(
        'id = "fish"\nname = "海产品"\nprice = 10\n[zone]\nid = "长岛综合试验区"\n'
        'name = "长岛综合试验区"\ncodes = ' + json.dumps(list(CHANGDAO.codes)),
        Item,
    ) == attrs.evolve(fish, zone=attrs.evolve(CHANGDAO, kind="", source=None))
    book = Redemptions(ledger, Catalog([fish]), volunteers=people, tree=TREE)
    book.reserve("o1", "island", "fish", at=t0)
    assert ledger.balance("volunteer:island") == 90
    before = (ledger.postings, book.entries)
    with pytest.raises(PermissionDenied) as info:
        book.reserve("o2", "town", "fish", at=t0)
    assert "长岛综合试验区" in str(info.value)
    assert (ledger.postings, book.entries) == before
    # without a tree, membership follows the codes' structure
    bare = Redemptions(PointsLedger(), Catalog([fish]), volunteers=people)
    assert bare._within("370614110201", CHANGDAO) and not bare._within("370614001001", CHANGDAO)


# --- a policy for a zone -------------------------------------------------------------------------


def _hours(name: str, **source: object) -> HourPolicy:
    return attrs.evolve(
        HOUR_PROFILES["national"],
        name=name,
        source=Source(document=f"《{name}》", issuer="某地", **source),  # type: ignore[arg-type]
    )


def test_a_zone_profile_holds_at_its_members_and_yields_to_profiles_below_them() -> None:
    table = Profiles(
        {
            "city": _hours("city", region_code="3706"),
            "islands": _hours("islands", zone=CHANGDAO.id),
            "tuoji": _hours("tuoji", region_code="370614110"),  # a town of the zone, its own
        },
        kind=HourPolicy,
        field="T",
    )
    zones = list(ZONES.values())
    assert table.for_region("370614201201", zones=zones).name == "islands"  # 北长山乡
    assert table.for_region("370614110201", zones=zones).name == "tuoji"
    assert table.for_region("370614001001", zones=zones).name == "city"  # outside the zone
    assert table.for_region("370614201201").name == "city"  # zones not given: not used
    with pytest.raises(InvalidValue):
        table.for_region("370614201201", zones=["长岛综合试验区"])  # type: ignore[list-item]


# --- a what-if of a zone ---------------------------------------------------------------------------


def _records(path: Path) -> Path:
    path.write_text(
        "volunteer_id,region_code,start,end,evidence,category\n"
        "v1,370614110201,2025-03-01 09:00:00,2025-03-01 12:00:00,qr_scan,助老\n"
        "v1,370614001001,2025-03-02 09:00:00,2025-03-02 19:00:00,qr_scan,助老\n"
        "v2,370614001001,2025-03-01 09:00:00,2025-03-01 10:00:00,gps,环保\n"
        "v3,370614201201,2025-03-01 09:00:00,2025-03-01 11:00:00,gps,环保\n",
        encoding="utf-8",
    )
    return path


def test_a_what_if_of_a_zone_keeps_its_records_and_its_people(tmp_path: Path) -> None:
    records = _records(tmp_path / "r.csv")
    people = tmp_path / "p.csv"
    people.write_text(
        "volunteer_id,registered_on,region_code\n"
        "v1,2024-01-01,370614001001\nv2,2024-01-01,370614001001\n"
        "v3,2024-01-01,370614201201\nv4,2024-01-01,370614205201\nv5,2024-01-01,370614001002\n",
        encoding="utf-8",
    )
    pop = from_records(str(records), TREE, registrations=str(people), zone=CHANGDAO)
    assert pop.profile.name == "长岛综合试验区"
    assert pop.n_records == 2  # v1's day on 砣矶 and v3's on 北长山
    assert pop.n_volunteers == 3  # v1 and v3 served there, v4 lives there; v2 and v5 neither
    assert pop.total_hours() == 5
    whole = from_records(str(records), TREE, registrations=str(people))
    assert whole.n_records == 4 and whole.n_volunteers == 5
    with pytest.raises(InvalidValue) as info:
        from_records(str(records), TREE, zone=XINPU)
    assert info.value.field == "zone"


def test_the_cli_replays_the_records_of_a_shipped_zone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records = _records(tmp_path / "r.csv")
    assert (
        main(["simulate", "--records", str(records), "--zone", CHANGDAO.id, "--format", "json"])
        == 0
    )
    doc = json.loads(capsys.readouterr().out)
    assert doc["run"]["zone"] == CHANGDAO.id
    assert doc["run"]["population"]["records"] == 2
    assert main(["simulate", "--zone", CHANGDAO.id]) == 2
    assert "--zone" in capsys.readouterr().err
    assert main(["simulate", "--records", str(records), "--zone", "月球新区"]) == 2
    assert "月球新区" in capsys.readouterr().err
