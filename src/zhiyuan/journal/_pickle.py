"""Checkpoint states as pickles, loaded by an unpickler that builds only known, inert types.

A checkpoint is derived data (it can always be rebuilt from the records), so speed matters more
than a portable format; but a store can be copied around, so loading one must never run code or
reach outside: the unpickler builds only the library's value types (attrs classes, which unpickle
without running their ``__init__``), the members of its enums, the state types the books
register with :func:`register_state_type`, and a short list of standard value types. Any other
name is refused, so a crafted checkpoint cannot, say, open a store or a file.
"""

from __future__ import annotations

import enum
import io
import pickle
from typing import Any
from zoneinfo import ZoneInfo

import attrs

from zhiyuan.errors import InvalidInput

__all__ = ["dumps", "loads", "register_state_type"]

_STATE_TYPES: set[type] = set()


def register_state_type(*classes: type) -> None:
    """Allow ``classes`` (a book's state and the plain holders inside it) in checkpoints."""
    _STATE_TYPES.update(classes)


_ALLOWED: dict[str, frozenset[str]] = {
    "builtins": frozenset(
        {"dict", "list", "set", "frozenset", "tuple", "int", "str", "bytes", "bool", "object"}
    ),
    "copyreg": frozenset({"_reconstructor", "__newobj__"}),
    "datetime": frozenset({"datetime", "date", "time", "timedelta", "timezone"}),
    "zoneinfo": frozenset({"ZoneInfo"}),
    "zoneinfo._zoneinfo": frozenset({"ZoneInfo"}),
    "collections": frozenset({"OrderedDict", "defaultdict", "deque"}),
}


def _refused(what: str) -> InvalidInput:
    return InvalidInput([f"检查点含不允许的类型 / a checkpoint names a forbidden type: {what} @ $"])


def _enum_member(cls: object, name: object) -> object:
    """What ``getattr`` may do in a checkpoint: name a member of one of the library's enums, or
    fetch the constructor zoneinfo pickles its zones with."""
    if cls is ZoneInfo and name == "_unpickle":
        return ZoneInfo._unpickle  # type: ignore[attr-defined]
    if (
        isinstance(cls, type)
        and issubclass(cls, enum.Enum)
        and cls.__module__.startswith("zhiyuan.")
        and isinstance(name, str)
        and name in cls.__members__
    ):
        return cls[name]
    raise _refused(f"getattr({cls!r}, {name!r})")


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if module == "builtins" and name == "getattr":  # how enum members pickle
            return _enum_member
        if module == "zhiyuan" or module.startswith("zhiyuan."):
            found = super().find_class(module, name)
            if isinstance(found, type) and (
                found in _STATE_TYPES or attrs.has(found) or issubclass(found, enum.Enum)
            ):
                return found
            raise _refused(f"{module}.{name}")
        if name in _ALLOWED.get(module, ()):
            return super().find_class(module, name)
        raise _refused(f"{module}.{name}")


def dumps(state: object) -> bytes:
    """A state as pickle bytes."""
    return pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)


def loads(data: bytes) -> Any:
    """A state from :func:`dumps` bytes, building only allowed types."""
    return _Unpickler(io.BytesIO(data)).load()
