"""A whole state as JSON Lines: the tree edition, the registry, the policies in force and the
journal under every book, exported to one file and imported back to an equal state.

The header line names the tree (an embedded edition by its vintage, or every region), the
registry's units, organizations and teams, and the policies by the role they play (``"hours"``,
``"stars"``, ``"conversion"``, ``"timebank"``, ``"dispatch"``, ``"priors"``); one line per record
of the journal follows (see :meth:`Journal.export_jsonl
<zhiyuan.journal.Journal.export_jsonl>`). Importing checks the hash chain line by line and
rebuilds nothing by policy: books built on the imported journal fold the recorded entries.

Personal data (ID numbers, phones) is written in full: an export is a backup, to be kept as
safely as the store itself.

Example:
    >>> import io
    >>> from datetime import datetime
    >>> from zhiyuan import SHANGHAI, load_default
    >>> from zhiyuan.credit import PointsLedger
    >>> from zhiyuan.hierarchy import Organization, Registry
    >>> from zhiyuan.hours import HourPolicy
    >>> from zhiyuan.journal import Journal
    >>> tree = load_default()
    >>> state = State(tree=tree, registry=Registry(tree, [Organization(id="o1", name="协会",
    ...     region_code="370602001")]), policies={"hours": (HourPolicy(notice_days=3),)},
    ...     journal=Journal())
    >>> _ = PointsLedger(journal=state.journal).earn("e1", "v1", 5, issuer="issuer:x",
    ...     at=datetime(2025, 1, 2, tzinfo=SHANGHAI))
    >>> out = io.StringIO()
    >>> state.export_jsonl(out)
    1
    >>> again = State.import_jsonl(io.StringIO(out.getvalue()))
    >>> again == state, PointsLedger(journal=again.journal).balance("volunteer:v1")
    (True, 5)
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import IO, Any

import attrs

from zhiyuan._validators import Clock, system_clock
from zhiyuan.convert import structure, unstructure
from zhiyuan.errors import InvalidInput, InvalidValue, ZhiyuanError
from zhiyuan.hierarchy import (
    UNIT_CLASSES,
    Grid,
    Organization,
    PracticeUnit,
    Region,
    RegionTree,
    Registry,
    Team,
    load_default,
)
from zhiyuan.hours import HourPolicy
from zhiyuan.journal import Journal, Store

__all__ = ["State"]

_ITEMS: dict[str, type] = {
    **{kind.value: cls for kind, cls in UNIT_CLASSES.items()},
    "grid": Grid,
    "organization": Organization,
    "team": Team,
}


def _policy_classes() -> dict[str, type]:
    # imported here: the policies of the upper packages are known to the state, not below it
    from zhiyuan.credit import ConversionPolicy, TimeBankPolicy
    from zhiyuan.matching import DispatchPolicy
    from zhiyuan.scoring import BayesianPrior, StarScheme

    return {
        "hours": HourPolicy,
        "stars": StarScheme,
        "conversion": ConversionPolicy,
        "timebank": TimeBankPolicy,
        "dispatch": DispatchPolicy,
        "prior": BayesianPrior,
    }


def _registry_items(registry: Registry) -> list[object]:
    return list(registry.items())


def _policies(value: Mapping[str, Iterable[object]]) -> dict[str, tuple[object, ...]]:
    if not isinstance(value, Mapping):
        raise InvalidValue("policies", value, "需要映射 / need a mapping of role to policies")
    known = tuple(_policy_classes().values())
    out: dict[str, tuple[object, ...]] = {}
    for role, items in value.items():
        seq = tuple(items)
        for p in seq:
            if not isinstance(p, known):
                raise InvalidValue(
                    f"policies.{role}", type(p).__name__, "不是已知的政策 / not a known policy"
                )
        out[str(role)] = seq
    return out


@attrs.define(eq=False)
class State:
    """A city's whole state: tree, registry, policies in force (by role) and the journal."""

    tree: RegionTree
    registry: Registry
    policies: dict[str, tuple[Any, ...]] = attrs.field(factory=dict, converter=_policies)
    journal: Journal = attrs.field(factory=Journal)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, State):
            return NotImplemented
        return (
            self.tree == other.tree
            and _registry_items(self.registry) == _registry_items(other.registry)
            and self.policies == other.policies
            and self.journal.head == other.journal.head
        )

    def _header(self) -> dict[str, Any]:
        default = load_default()
        tree: dict[str, Any] = (
            {"default": 2023}
            if self.tree == default
            else {"regions": [unstructure(r) for r in self.tree]}
        )
        names = {cls: name for name, cls in _ITEMS.items()}
        registry = [
            {"item": names[type(item)], "fields": unstructure(item)}
            for item in _registry_items(self.registry)
        ]
        classes = {cls: name for name, cls in _policy_classes().items()}
        policies = {
            role: [{"policy": classes[type(p)], "fields": unstructure(p)} for p in items]
            for role, items in self.policies.items()
        }
        return {"tree": tree, "registry": registry, "policies": policies}

    def export_jsonl(self, out: IO[str]) -> int:
        """Write the state as JSON Lines; returns the number of journal records written."""
        return self.journal.export_jsonl(out, header=self._header())

    @classmethod
    def import_jsonl(
        cls, lines: Iterable[str], *, store: Store | None = None, clock: Clock = system_clock
    ) -> State:
        """Read an export back into a new journal (in ``store``, empty, or in memory).

        Raises :class:`~zhiyuan.errors.InvalidInput` naming the line for anything malformed or
        altered; nothing is recorded then.
        """
        it = iter(lines)
        head = Journal.read_jsonl_header(it)
        try:
            tree = _tree(head.get("tree"))
            registry = Registry(tree, [_item(x) for x in _list(head.get("registry"), "registry")])
            policies = _read_policies(head.get("policies"))
        except ZhiyuanError as exc:
            if isinstance(exc, InvalidInput):
                raise InvalidInput([f"{m} (header, line 1)" for m in exc.messages]) from exc
            raise InvalidInput([f"{exc} (header, line 1)"]) from exc
        journal = Journal(store, clock=clock)
        journal.import_jsonl(_with_header(head, it))
        return cls(tree=tree, registry=registry, policies=policies, journal=journal)


def _with_header(head: dict[str, Any], rest: Iterable[str]) -> Iterable[str]:
    yield json.dumps(head, ensure_ascii=False)
    yield from rest


def _list(value: object, field: str) -> Sequence[Any]:
    if not isinstance(value, list):
        raise InvalidValue(field, value, "需要数组 / need a list")
    return value


def _tree(value: object) -> RegionTree:
    if isinstance(value, dict) and set(value) == {"default"}:
        vintage = value["default"]
        if isinstance(vintage, bool) or not isinstance(vintage, int):
            raise InvalidValue("tree.default", vintage, "需要年份 / need a vintage year")
        return load_default(vintage)
    if isinstance(value, dict) and set(value) == {"regions"}:
        regions = structure(value["regions"], list[Region])
        return RegionTree.from_records((r.code, r.name, r.parent_code) for r in regions)
    raise InvalidValue("tree", value, "需要 default 或 regions / need default or regions")


def _item(
    value: object,
) -> PracticeUnit | Grid | Organization | Team:
    if not isinstance(value, dict) or set(value) != {"item", "fields"}:
        raise InvalidValue("registry", value, "需要 item 与 fields / need item and fields")
    if value["item"] not in _ITEMS:
        raise InvalidValue("item", value["item"], f"应为 / one of {', '.join(_ITEMS)}")
    item: PracticeUnit | Grid | Organization | Team = structure(
        value["fields"], _ITEMS[value["item"]]
    )
    return item


def _read_policies(value: object) -> dict[str, tuple[object, ...]]:
    if not isinstance(value, dict):
        raise InvalidValue("policies", value, "需要对象 / need an object")
    classes = _policy_classes()
    out: dict[str, tuple[object, ...]] = {}
    for role, items in value.items():
        read: list[object] = []
        for x in _list(items, f"policies.{role}"):
            if not isinstance(x, dict) or set(x) != {"policy", "fields"}:
                raise InvalidValue(
                    f"policies.{role}", x, "需要 policy 与 fields / need policy and fields"
                )
            if x["policy"] not in classes:
                raise InvalidValue("policy", x["policy"], f"应为 / one of {', '.join(classes)}")
            read.append(structure(x["fields"], classes[x["policy"]]))
        out[role] = tuple(read)
    return out
