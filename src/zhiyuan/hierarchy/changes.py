"""Administrative changes (行政区划调整): rename, merge, split, move and re-code, with dates.

Applying a change set to a tree yields a new tree and a :class:`CodeMapping` from every old code
that changed to its new code(s), so historical records keyed by old codes can be re-keyed. Changes
apply in order of their effective date (ties keep the given order); each is checked against the
tree as it stands after the earlier ones, and if any is invalid nothing is applied.

Codes follow the tree: when a region moves or is re-coded, its whole subtree takes the new prefix
(``370214001`` moving to ``370215`` becomes ``370215xxx``, its villages ``370215xxx…``), as NBS
editions do. A moved or merged-away region gets the next free code in the same numbering block
(街道 001–099, 镇 100–199, 乡 200–399; 居委会 001–199, 村委会 200–399 …) unless one is given.

Example:
    >>> from datetime import date
    >>> from zhiyuan.hierarchy import load_default, RegionChange, apply_changes
    >>> tree = load_default().prune("370214")
    >>> result = apply_changes(tree, [
    ...     RegionChange.rename("370214008", "惜福镇", effective=date(2024, 1, 1)),
    ...     RegionChange.merge("370214010", into="370214009", effective=date(2024, 6, 30)),
    ... ])
    >>> result.tree["370214008"].name
    '惜福镇'
    >>> "370214010000" in result.tree, result.mapping.one("370214010000")
    (False, '370214009000')
    >>> len(tree.children("370214009")), len(result.tree.children("370214009"))
    (19, 38)
    >>> result.mapping.one("370214010001")  # a community of 河套街道, re-keyed under 红岛街道
    '370214009020'

"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

import attrs

from zhiyuan._validators import is_date, non_empty, to_enum
from zhiyuan.errors import Conflict, InvalidValue, UnknownRegion, show
from zhiyuan.hierarchy.codes import Level, level_of, normalize_code, parent_of
from zhiyuan.hierarchy.tree import RegionTree

__all__ = [
    "ChangeKind",
    "ChangeResult",
    "CodeMapping",
    "RegionChange",
    "SplitPart",
    "apply_changes",
]

_DIGITS = (2, 4, 6, 9, 12)


class ChangeKind(enum.Enum):
    """The kinds of administrative change (区划调整类型)."""

    RENAME = "rename"
    """更名：same code, new name."""
    MERGE = "merge"
    """合并：a region is absorbed by a sibling; its children move under the sibling."""
    SPLIT = "split"
    """拆分：a region is divided into parts, each taking some of its children."""
    MOVE = "move"
    """移交：a region moves under another parent and takes a code there."""
    RECODE = "recode"
    """改码：a region takes a new code at the same level."""


# The numbering blocks of the 3-digit segments (GB/T 10114 and the NBS rules, POLICIES.md): a region
# that takes a new code keeps its kind, so the code comes from the block of its old one.
_BLOCKS: dict[Level, tuple[tuple[int, int], ...]] = {
    Level.TOWNSHIP: ((1, 99), (101, 199), (201, 399), (401, 599)),  # 街道, 镇, 乡, other units
    Level.VILLAGE: ((1, 199), (201, 399), (401, 599)),  # 居委会, 村委会, other units
}


def _block(level: Level, seg: str) -> tuple[int, int]:
    """The first and last number to try for a new code in the block of segment ``seg``."""
    n = int(seg)
    for first, last in _BLOCKS.get(level, ()):
        if first - 1 <= n <= last:
            return first, last
    if len(seg) == 3:  # beyond the documented blocks: the hundred it is in
        return n // 100 * 100 + 1, n // 100 * 100 + 99
    return 1, 99


def _iterable(field: str, values: object, what: str) -> tuple[Any, ...]:
    """``values`` as a tuple; a string, a mapping or anything not iterable is an InvalidValue."""
    if isinstance(values, Iterable) and not isinstance(values, (str, bytes, bytearray, Mapping)):
        return tuple(values)
    raise InvalidValue(field, values, what, shown=show(values))


def _children(values: Iterable[object]) -> tuple[str, ...]:
    items = _iterable("children", values, "需要代码的序列 / need a list of codes")
    return tuple(normalize_code(c, field="children") for c in items)


def _target(value: object) -> str | None:
    return None if value is None else normalize_code(value, field="target")


def _new_code(value: object) -> str | None:
    return None if value is None else normalize_code(value, field="new_code")


def _kind(value: object) -> ChangeKind:
    return to_enum("kind", ChangeKind, value)


def _parts(values: Iterable[SplitPart]) -> tuple[SplitPart, ...]:
    items = _iterable("parts", values, "需要拆分部分的序列 / need a list of SplitPart")
    for part in items:
        if not isinstance(part, SplitPart):
            raise InvalidValue(
                "parts", part, "需要拆分部分 / each part is a SplitPart", shown=show(part)
            )
    return items


def _mapping_changes(value: Mapping[Any, Iterable[object]]) -> dict[str, tuple[str, ...]]:
    """Old code → new codes, every code checked and in 12 digits."""
    if not isinstance(value, Mapping):
        raise InvalidValue(
            "changes",
            value,
            "需要旧代码到新代码的映射 / need a mapping old code → new codes",
            shown=show(value),
        )
    out: dict[str, tuple[str, ...]] = {}
    for old, new in value.items():
        key = normalize_code(old, field="changes")
        field = f"changes[{key!r}]"
        items = _iterable(field, new, "需要新代码的序列 / need a list of new codes")
        if not items:
            raise InvalidValue(field, new, "至少一个新代码 / need at least one new code")
        out[key] = tuple(normalize_code(c, field=field) for c in items)
    return out


def _optional_name(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and not isinstance(value, str):
        raise InvalidValue(
            attribute.name, value, "名称应为文本或 None / a name is text or None", shown=show(value)
        )


@attrs.frozen(kw_only=True)
class SplitPart:
    """One part of a split: its code and name, and the codes of the children it takes.

    A part may keep the original region's code (the rest of it); other parts need new codes at
    the same level under the same parent.
    """

    code: str = attrs.field(converter=normalize_code)
    name: str = attrs.field(validator=non_empty)
    children: tuple[str, ...] = attrs.field(default=(), converter=_children)


@attrs.frozen(kw_only=True)
class RegionChange:
    """One dated change to the tree. Build it with the named constructors.

    Fields: ``kind``; ``code`` the region changed; ``effective`` the date it takes effect;
    ``name`` the new name (rename, or a moved/re-coded region's new name); ``target`` the region
    absorbing it (merge), the new parent (move) or the new code (recode); ``new_code`` the code a
    moved region takes (default: the next free one); ``parts`` for a split.
    """

    kind: ChangeKind = attrs.field(converter=_kind)
    code: str = attrs.field(converter=normalize_code)
    effective: date = attrs.field(validator=is_date)
    name: str | None = attrs.field(default=None, validator=_optional_name)
    target: str | None = attrs.field(default=None, converter=_target)
    new_code: str | None = attrs.field(default=None, converter=_new_code)
    parts: tuple[SplitPart, ...] = attrs.field(default=(), converter=_parts)

    def __attrs_post_init__(self) -> None:
        k = self.kind
        if k is ChangeKind.RENAME and not (self.name and self.name.strip()):
            raise InvalidValue("name", self.name, "更名需要新名称 / a rename needs a new name")
        if k in (ChangeKind.MERGE, ChangeKind.MOVE, ChangeKind.RECODE) and self.target is None:
            raise InvalidValue("target", None, f"{k.value} 需要目标 / a {k.value} needs a target")
        if k is ChangeKind.SPLIT and len(self.parts) < 2:
            raise InvalidValue("parts", len(self.parts), "拆分至少两部分 / a split needs two parts")
        if k is ChangeKind.RECODE and level_of(self.target or "") is not level_of(self.code):
            raise InvalidValue(
                "target", self.target, "改码须在同一层级 / a re-code keeps the level"
            )

    @classmethod
    def rename(cls, code: object, name: str, *, effective: date) -> RegionChange:
        """更名: ``code`` is called ``name`` from ``effective`` on."""
        return cls(kind=ChangeKind.RENAME, code=code, effective=effective, name=name)

    @classmethod
    def merge(cls, code: object, *, into: object, effective: date) -> RegionChange:
        """合并: ``code`` is absorbed by its sibling ``into``; its children move under ``into``."""
        return cls(kind=ChangeKind.MERGE, code=code, effective=effective, target=into)

    @classmethod
    def split(cls, code: object, parts: Iterable[SplitPart], *, effective: date) -> RegionChange:
        """拆分: ``code`` is divided into ``parts``; every child must go to exactly one part."""
        return cls(kind=ChangeKind.SPLIT, code=code, effective=effective, parts=parts)

    @classmethod
    def move(
        cls,
        code: object,
        *,
        to: object,
        effective: date,
        new_code: object | None = None,
        name: str | None = None,
    ) -> RegionChange:
        """移交: ``code`` moves under ``to`` and takes ``new_code`` (default: the next free code)."""
        return cls(
            kind=ChangeKind.MOVE,
            code=code,
            effective=effective,
            target=to,
            new_code=new_code,
            name=name,
        )

    @classmethod
    def recode(cls, code: object, new_code: object, *, effective: date) -> RegionChange:
        """改码: ``code`` takes ``new_code`` at the same level; its subtree follows."""
        return cls(kind=ChangeKind.RECODE, code=code, effective=effective, target=new_code)


@attrs.frozen(kw_only=True)
class CodeMapping:
    """Old codes → new codes after a change set. Codes absent from the mapping did not change.

    A split maps one old code to several new ones; :meth:`one` refuses to guess there.
    """

    changes: dict[str, tuple[str, ...]] = attrs.field(factory=dict, converter=_mapping_changes)

    def map(self, code: object) -> tuple[str, ...]:
        """The new code(s) of ``code`` (itself, if it did not change)."""
        c = normalize_code(code)
        return self.changes.get(c, (c,))

    def one(self, code: object) -> str:
        """The single new code of ``code``; raises :class:`~zhiyuan.errors.Conflict` after a split."""
        new = self.map(code)
        if len(new) != 1:
            raise Conflict(
                f"{normalize_code(code)} 拆分为 {', '.join(new)}，无法唯一对应 / was split into "
                f"{len(new)} regions; re-key it by hand"
            )
        return new[0]

    def rekey(self, values: Mapping[object, int]) -> dict[str, int]:
        """Re-key a mapping code → number; values of split regions raise (see :meth:`one`)."""
        if not isinstance(values, Mapping):
            raise InvalidValue(
                "values",
                values,
                "需要代码到数值的映射 / need a mapping code → number",
                shown=show(values),
            )
        out: dict[str, int] = {}
        for k, v in values.items():
            c = self.one(k)
            try:
                out[c] = out.get(c, 0) + v
            except TypeError:
                raise InvalidValue(
                    f"values[{show(k)}]", v, "需要数值 / need a number", shown=show(v)
                ) from None
        return out

    def __len__(self) -> int:
        return len(self.changes)


@attrs.frozen(kw_only=True)
class ChangeResult:
    """The tree after the changes, the code mapping, and the changes applied in order."""

    tree: RegionTree = attrs.field(eq=False)
    mapping: CodeMapping
    applied: tuple[RegionChange, ...]


class _Work:
    """A mutable working copy: code → name, edited change by change."""

    def __init__(self, tree: RegionTree) -> None:
        self.names: dict[str, str | None] = {code: name for code, name, _ in tree.to_records()}
        self.original = frozenset(self.names)
        self.mapping: dict[str, tuple[str, ...]] = {}

    def need(self, code: str) -> None:
        if code not in self.names:
            raise UnknownRegion(code)

    def subtree(self, code: str) -> list[str]:
        prefix = code[: _DIGITS[level_of(code).depth - 1]]
        return sorted(c for c in self.names if c.startswith(prefix))

    def tree_parent(self, code: str) -> str | None:
        """The nearest present ancestor by code, as in :class:`RegionTree` (orphans included)."""
        p = parent_of(code)
        while p is not None and p not in self.names:
            p = parent_of(p)
        return p

    def children(self, code: str) -> list[str]:
        return [c for c in self.subtree(code)[1:] if self.tree_parent(c) == code]

    def free_code(self, parent: str, level: Level, like: str) -> str:
        """The next unused code at ``level`` under ``parent``, in ``like``'s numbering block."""
        lo, hi = _DIGITS[level.depth - 2], _DIGITS[level.depth - 1]
        width = hi - lo
        first, last = _block(level, like[lo:hi])
        used = {c[lo:hi] for c in self.names if c.startswith(parent[:lo])}
        for n in range(first, last + 1):
            s = str(n).zfill(width)
            if s not in used:
                return parent[:lo] + s + "0" * (12 - hi)
        raise Conflict(f"{parent} 下无可用代码 / no free code left under {parent}")

    def relocate(self, code: str, new: str) -> dict[str, tuple[str, ...]]:
        """Move ``code`` and its subtree to the prefix of ``new``; returns old → new codes."""
        if new in self.names and new != code:
            raise Conflict(f"{new} 已存在 / code {new} is already in use")
        parent = parent_of(new)
        if parent is not None and parent not in self.names:
            raise UnknownRegion(parent)
        digits = _DIGITS[level_of(code).depth - 1]
        moved: dict[str, tuple[str, ...]] = {}
        for old in self.subtree(code):
            target = new[:digits] + old[digits:]
            moved[old] = (target,)
        names = {moved[o][0]: self.names.pop(o) for o in moved}
        self.names.update(names)
        return moved

    def record(self, local: dict[str, tuple[str, ...]]) -> None:
        if not local:
            return
        for orig, cur in list(self.mapping.items()):
            if any(c in local for c in cur):
                out: list[str] = []
                for c in cur:
                    for n in local.get(c, (c,)):
                        if n not in out:
                            out.append(n)
                self.mapping[orig] = tuple(out)
        for old, new in local.items():
            if old in self.original and old not in self.mapping and new != (old,):
                self.mapping[old] = new

    def apply(self, ch: RegionChange) -> None:
        code = ch.code
        self.need(code)
        if ch.kind is ChangeKind.RENAME:
            self.names[code] = ch.name
            return
        if ch.kind is ChangeKind.RECODE:
            assert ch.target is not None
            self.record(self.relocate(code, ch.target))
            return
        if ch.kind is ChangeKind.MOVE:
            assert ch.target is not None
            to = ch.target
            self.need(to)
            lv = level_of(code)
            if level_of(to) >= lv:
                raise InvalidValue(
                    "target", to, f"新上级须高于{lv.zh} / the new parent must be above a {lv.value}"
                )
            if ch.new_code is not None:
                new = ch.new_code
                if level_of(new) is not lv or parent_of(new) != to:
                    raise InvalidValue(
                        "new_code",
                        new,
                        f"须是 {to} 下的{lv.zh}代码 / must be a {lv.value} code under {to}",
                    )
            else:
                new = self.free_code(to, lv, code)
            local = self.relocate(code, new)
            if ch.name:
                self.names[new] = ch.name
            self.record(local)
            return
        if ch.kind is ChangeKind.MERGE:
            assert ch.target is not None
            into = ch.target
            self.need(into)
            if (
                into == code
                or parent_of(into) != parent_of(code)
                or level_of(into) is not level_of(code)
            ):
                raise InvalidValue(
                    "target",
                    into,
                    "只能并入同级的兄弟区划 / merge into a sibling at the same level",
                )
            merged: dict[str, tuple[str, ...]] = {}
            for child in self.children(code):
                new = self.free_code(into, level_of(child), child)
                merged.update(self.relocate(child, new))
            self.names.pop(code)
            merged[code] = (into,)
            self.record(merged)
            return
        # SPLIT
        kids = set(self.children(code))
        taken: dict[str, str] = {}
        seen: set[str] = set()
        for part in ch.parts:
            if part.code in seen:
                raise InvalidValue("parts.code", part.code, "部分代码重复 / two parts share a code")
            seen.add(part.code)
            if level_of(part.code) is not level_of(code) or parent_of(part.code) != parent_of(code):
                raise InvalidValue(
                    "parts.code",
                    part.code,
                    "须与原区划同级同上级 / a part is a sibling of the original",
                )
            if part.code != code and part.code in self.names:
                raise Conflict(f"{part.code} 已存在 / code {part.code} is already in use")
            for c in part.children:
                if c not in kids:
                    raise InvalidValue(
                        "parts.children", c, f"不是 {code} 的下级 / not a child of {code}"
                    )
                if c in taken:
                    raise InvalidValue("parts.children", c, "重复分配 / given to two parts")
                taken[c] = part.code
        left = sorted(kids - set(taken))
        if left:
            raise InvalidValue(
                "parts.children", left, "有下级未分配 / children not given to any part"
            )
        parts_map: dict[str, tuple[str, ...]] = {}
        self.names.pop(code)
        for part in ch.parts:
            self.names[part.code] = part.name
        for child, part_code in sorted(taken.items()):
            if part_code == code:
                continue
            new = self.free_code(part_code, level_of(child), child)
            parts_map.update(self.relocate(child, new))
        parts_map[code] = tuple(p.code for p in ch.parts)
        self.record(parts_map)


def apply_changes(
    tree: RegionTree, changes: Iterable[RegionChange], *, as_of: date | None = None
) -> ChangeResult:
    """Apply ``changes`` (those effective on or before ``as_of``, if given) to a copy of ``tree``.

    Returns the new tree, the old → new :class:`CodeMapping` and the changes applied, in order.
    Any invalid change raises (:class:`~zhiyuan.errors.InvalidValue`,
    :class:`~zhiyuan.errors.UnknownRegion` or :class:`~zhiyuan.errors.Conflict`) and ``tree`` is
    untouched either way: trees are immutable.
    """
    if not isinstance(tree, RegionTree):
        raise InvalidValue("tree", tree, "需要区划树 / need a RegionTree", shown=show(tree))
    if as_of is not None and (isinstance(as_of, datetime) or not isinstance(as_of, date)):
        raise InvalidValue(
            "as_of", as_of, "需要日期 / need a date (not a datetime)", shown=show(as_of)
        )
    given = _iterable("changes", changes, "需要区划调整的序列 / need a list of RegionChange")
    for pos, c in enumerate(given):
        if not isinstance(c, RegionChange):
            raise InvalidValue(
                f"changes[{pos}]", c, "需要区划调整 / need a RegionChange", shown=show(c)
            )
    todo = sorted(
        (c for c in given if as_of is None or c.effective <= as_of), key=lambda c: c.effective
    )
    work = _Work(tree)
    for ch in todo:
        work.apply(ch)
    new_tree = RegionTree._from_names(work.names)
    return ChangeResult(
        tree=new_tree, mapping=CodeMapping(changes=work.mapping), applied=tuple(todo)
    )
