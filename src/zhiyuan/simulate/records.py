"""A city's real records as a population to replay (what-if on real records).

:func:`from_records` turns an export of service records — a CSV or Parquet file, or a pandas or
polars DataFrame, an Arrow table or a mapping of columns — into a
:class:`~zhiyuan.simulate.Population` that :func:`~zhiyuan.simulate.replay` and
:func:`~zhiyuan.simulate.compare` run under scenarios A and B, for any region of the country.

The records' columns (as :class:`zhiyuan.bulk.Columns` reads them, aliases included):
``volunteer`` (any ids), ``region`` (the 区划代码 where the service took place, any level of the
tree, usually the village or community), ``start`` and ``end`` (aware times or epoch seconds),
``evidence`` (``qr_scan`` …) and ``category``. Registrations, optional, are a second table with
``volunteer`` and ``registered_on`` (dates), and optionally ``region`` (the volunteer's home);
a volunteer without one counts as registered on the day of their first record, living where it
took place. Volunteers registered without records count too (they have no hours).

In a file, times without a zone are Asia/Shanghai times (exports of 志愿山东 and the national
system give local times); in a frame they must carry their zone, as everywhere in zhiyuan.
Files need pyarrow (the ``arrow`` extra).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from zhiyuan.errors import InvalidValue, NotFound
from zhiyuan.hierarchy.codes import normalize_code
from zhiyuan.hierarchy.tree import RegionTree
from zhiyuan.hierarchy.zones import Zone, to_zone
from zhiyuan.progress import Progress, stepper
from zhiyuan.simulate.population import CityProfile, Population, _need_numpy, np

__all__ = ["from_records", "read_table"]

_TIME_COLUMNS = ("start", "end")


def read_table(path: str | Path) -> Any:
    """A CSV or Parquet file as an Arrow table, naive ``start`` and ``end`` times read as
    Asia/Shanghai times (needs pyarrow).

    Raises:
        InvalidValue: another kind of file, or one that cannot be read.
        NotFound: no such file.

    Example:
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "records.csv"
        >>> _ = path.write_text("volunteer_id,start\\nv1,2025-03-01 09:00:00\\n")
        >>> read_table(path).column("start").type
        TimestampType(timestamp[s, tz=Asia/Shanghai])
    """
    from zhiyuan.bulk import optional_module

    file = Path(path)
    if not file.is_file():
        raise NotFound("records file", str(path))
    pa = optional_module("pyarrow")
    suffix = file.suffix.lower()
    try:
        if suffix == ".parquet":
            table = importlib.import_module("pyarrow.parquet").read_table(file)
        elif suffix == ".csv":
            table = importlib.import_module("pyarrow.csv").read_csv(file)
        else:
            raise InvalidValue("path", str(path), "需要 .csv 或 .parquet 文件 / a .csv or .parquet")
    except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        raise InvalidValue("path", str(path), f"无法读取 / cannot be read: {exc}") from None
    pc = importlib.import_module("pyarrow.compute")
    for name in _TIME_COLUMNS:
        if name in table.column_names:
            col = table.column(name)
            if pa.types.is_timestamp(col.type) and col.type.tz is None:
                local = pc.assume_timezone(col, "Asia/Shanghai", ambiguous="earliest")
                table = table.set_column(table.column_names.index(name), name, local)
    return table


def _source(value: object) -> Any:
    return read_table(value) if isinstance(value, str | Path) else value


def _registrations(value: object) -> dict[str, Any]:
    """The registrations table as ``volunteer`` ids, ``registered_on`` days and ``region``."""
    from zhiyuan.bulk import Coded, frame_columns

    table = _source(value)
    raw: Mapping[str, Any]
    if isinstance(table, Mapping):
        raw = {str(k): np.asarray(v) for k, v in table.items()}
    else:
        raw = frame_columns(table)
    cols = {("volunteer" if k == "volunteer_id" else k): v for k, v in raw.items()}
    cols = {("region" if k == "region_code" else k): v for k, v in cols.items()}
    for name in ("volunteer", "registered_on"):
        if name not in cols:
            raise InvalidValue(
                f"registrations.{name}", None, f"缺少 {name} 列 / the {name} column is missing"
            )
    out: dict[str, Any] = {}
    for name in ("volunteer", "registered_on", "region"):
        if name in cols:
            v = cols[name]
            out[name] = v.decoded() if isinstance(v, Coded) else np.asarray(v)
    days = out["registered_on"]
    if days.dtype == object:
        if any(not isinstance(d, date) or isinstance(d, datetime) for d in days.tolist()):
            raise InvalidValue("registrations.registered_on", None, "需要日期 / need dates")
        days = np.array(days.tolist(), dtype="datetime64[D]")
    if days.dtype.kind != "M":
        raise InvalidValue("registrations.registered_on", str(days.dtype), "需要日期 / need dates")
    out["registered_on"] = days.astype("datetime64[D]").astype(np.int64)
    return out


def _ids(values: Any) -> Any:
    """Ids as one comparable kind: integers stay, anything else becomes text."""
    arr = np.asarray(values)
    return arr if arr.dtype.kind in "iu" else arr.astype(str).astype(object)


def _known(tree: RegionTree, raw: str, field: str) -> str:
    """``raw`` as a 12-digit code of a region in ``tree`` (else the error naming ``field``)."""
    code = normalize_code(raw, field=field)
    if code not in tree:
        raise NotFound(field, code)
    return code


def _in(tree: RegionTree, raw: str, zone: Zone, field: str) -> bool:
    return tree.is_within(_known(tree, raw, field), zone)


def _common_region(tree: RegionTree, codes: list[str]) -> str:
    """The lowest region containing every one of ``codes``."""
    first = codes[0]
    chain = [first, *(r.code for r in tree.ancestors(first))]  # nearest first
    for code in codes[1:]:
        mine = {code, *(r.code for r in tree.ancestors(code))}
        chain = [c for c in chain if c in mine]
    if not chain:
        raise InvalidValue("region", codes[0], "记录跨越多个省 / the records span provinces")
    return chain[0]


def from_records(
    records: object,
    tree: RegionTree,
    *,
    registrations: object = None,
    name: str | None = None,
    region: object = None,
    zone: Zone | None = None,
    progress: Progress | None = None,
) -> Population:
    """A population of real records, to replay under scenarios (see the module doc).

    Args:
        records: the records: a ``.csv`` or ``.parquet`` path, a frame or a mapping of columns.
        tree: the region tree the records' regions are in.
        registrations: the volunteers' registrations (a path, a frame or a mapping), optional.
        name: the report's name for the place (default: the region's name).
        region: the region the report is about (default: the lowest one that holds every
            record's region); every record must be within it.
        zone: a functional zone (:class:`~zhiyuan.hierarchy.Zone`): only the records within it
            are kept, and the registrations of volunteers who have records there or live there;
            the report is named after it.
        progress: told of each of the three steps (read, places, order;
            :mod:`zhiyuan.progress`).

    Raises:
        InvalidValue: a malformed column or row (named), a region outside ``region``.
        NotFound: a region code that is not in the tree, or a file that does not exist.

    Example:
        >>> from zhiyuan.hierarchy import load_default
        >>> from zhiyuan.simulate import compare, Scenario
        >>> t = 1740790800  # 2025-03-01 09:00 in Shanghai
        >>> pop = from_records({"volunteer": ["a", "b"], "region": ["370202001001"] * 2,
        ...                     "start": [t, t], "end": [t + 7200, t + 3600],
        ...                     "evidence": ["qr_scan", "gps"], "category": ["助老", "环保"]},
        ...                    load_default())
        >>> pop.profile.name, pop.n_volunteers, pop.n_records, pop.synthetic
        ('云霄路社区', 2, 2, False)
        >>> compare(pop, Scenario(), Scenario(name="b"), load_default()).a.counted_minutes
        180

        Only the records of a functional zone (长岛综合试验区's 砣矶镇 and not 登州街道):

        >>> from zhiyuan.hierarchy.zones import ZONES
        >>> pop = from_records({"volunteer": ["a", "b"], "region": ["370614110201", "370614001001"],
        ...                     "start": [t, t], "end": [t + 7200, t + 3600],
        ...                     "evidence": ["qr_scan"] * 2, "category": ["助老"] * 2},
        ...                    load_default(), zone=ZONES["长岛综合试验区"])
        >>> pop.profile.name, pop.n_volunteers, pop.n_records
        ('长岛综合试验区', 1, 1)
    """
    _need_numpy()
    from zhiyuan.bulk import EVIDENCE, Coded, Columns

    step = stepper(progress, 3)
    cols = Columns.of(_source(records))
    step("读取记录 / records read")
    n = len(cols)
    if n == 0:
        raise InvalidValue("records", 0, "没有记录 / no records")
    start, end = cols.get("start"), cols.get("end")
    evidence, category = cols.get("evidence"), cols.get("category")
    if cols.region is None:
        raise InvalidValue("region", None, "缺少 region 列 / the region column is missing")
    reg = _registrations(registrations) if registrations is not None else None

    # the records' regions, as codes into their distinct values
    if isinstance(cols.region, Coded):  # text read from a frame: already coded
        inverse, uniq = cols.region.codes, cols.region.names
        if len(inverse) and int(inverse.min()) < 0:
            i = int(np.flatnonzero(inverse < 0)[0])
            raise InvalidValue(f"region[{i}]", None, "缺少区划代码 / a region is missing")
    else:
        uniq, inverse = np.unique(np.asarray(cols.region).astype(str), return_inverse=True)
    rec_volunteer = cols.volunteer
    if zone is not None:
        zone = to_zone(zone)
        inside = np.array([_in(tree, str(u), zone, "region") for u in uniq.tolist()], dtype=bool)
        keep = inside[inverse]
        if not keep.any():
            raise InvalidValue("zone", zone.name, "区内没有记录 / no record lies in the zone")
        start, end, inverse = start[keep], end[keep], inverse[keep]
        evidence, category, rec_volunteer = evidence[keep], category[keep], rec_volunteer[keep]
        n = int(keep.sum())
        if reg is not None:
            mine = np.isin(np.arange(len(cols.volunteer_ids)), rec_volunteer)
            served = set(_ids(cols.volunteer_ids)[mine].tolist())
            lives = (
                np.array(
                    [
                        _in(tree, c, zone, "registrations.region")
                        for c in np.asarray(reg["region"]).astype(str).tolist()
                    ],
                    dtype=bool,
                )
                if "region" in reg
                else np.zeros(len(reg["volunteer"]), dtype=bool)
            )
            who = _ids(reg["volunteer"]).tolist()
            take = lives | np.array([v in served for v in who], dtype=bool)
            reg = {k: np.asarray(v)[take] for k, v in reg.items()}

    # volunteers: those with records and those registered
    rec_ids = _ids(cols.volunteer_ids)
    ids = rec_ids if reg is None else np.unique(np.concatenate([rec_ids, _ids(reg["volunteer"])]))
    if zone is not None:  # only those with records in the zone, or registered in it
        used = np.zeros(len(rec_ids), dtype=bool)
        used[np.unique(rec_volunteer)] = True
        kept = rec_ids[used]
        ids = kept if reg is None else np.unique(np.concatenate([kept, _ids(reg["volunteer"])]))
    volunteer = np.searchsorted(ids, rec_ids)[rec_volunteer]

    extra: Any = None
    if reg is not None and "region" in reg:
        extra = np.asarray(reg["region"]).astype(str)
    codes: dict[str, int] = {}
    villages: list[str] = []

    def place_of(raw: str, field: str) -> int:
        code = _known(tree, raw, field)
        if code not in codes:
            codes[code] = len(villages)
            villages.append(code)
        return codes[code]

    place = np.array([place_of(str(u), "region") for u in uniq.tolist()], dtype=np.int32)[inverse]
    home_of = (
        None
        if extra is None
        else np.array([place_of(c, "registrations.region") for c in extra.tolist()], np.int32)
    )
    top = (
        normalize_code(region, field="region")
        if region is not None
        else _common_region(tree, villages)
    )
    outside = [c for c in villages if c != top and not tree.is_within(c, top)]
    if outside:
        raise InvalidValue("region", outside[0], f"不在 {top} 内 / not within {top}")

    step("地点 / places")
    order = np.lexsort((start, volunteer))
    volunteer, start, end, place = volunteer[order], start[order], end[order], place[order]
    evidence = evidence[order].astype(np.int8)
    category = category[order].astype(np.int16)

    n_vol = len(ids)
    first = np.full(n_vol, -1, dtype=np.int64)  # each volunteer's first record (sorted by start)
    first[volunteer[::-1]] = np.arange(n - 1, -1, -1)
    has = first >= 0
    registered = np.zeros(n_vol, dtype=np.int64)
    registered[has] = start[first[has]]
    home = np.zeros(n_vol, dtype=np.int32)
    home[has] = place[first[has]]
    if reg is not None:
        at = np.searchsorted(ids, _ids(reg["volunteer"]))
        registered[at] = reg["registered_on"] * 86400 - 8 * 3600  # 00:00 in Shanghai
        if home_of is not None:
            home[at] = home_of

    step("排序 / ordered")

    def day_of(t: int) -> date:
        return date(1970, 1, 1) + timedelta(days=(t + 8 * 3600) // 86400)

    last_day = day_of(int(end.max()))
    served_hours = int((end - start).sum()) // 3600
    place_name = zone.name if zone is not None else tree[top].name or top
    profile = CityProfile(
        name=name or place_name,
        region_code=top,
        volunteers=n_vol,
        cumulative_hours=max(served_hours, 1),
        first_year=day_of(int(start.min())).year,
        last_day=last_day,
        inactive_share=int(100 * int((~has).sum()) // n_vol),
        source=f"records: {n:,} records of {n_vol:,} volunteers, "
        f"{day_of(int(start.min()))} – {last_day}",
    )
    return Population(
        profile=profile,
        scale=1.0,
        seed=0,
        villages=tuple(villages),
        home=home,
        registered=registered,
        volunteer=volunteer.astype(np.int32),
        start=start,
        end=end,
        place=place,
        evidence=evidence,
        category=category,
        evidence_kinds=EVIDENCE,
        categories=cols.categories,
        synthetic=False,
    )
