"""Checkpoint states as pickles, loaded by an unpickler that builds only known, inert types.

A checkpoint is derived data (it can always be rebuilt from the records), so speed matters more
than a portable format; but a store can be copied around, so loading it must never run code: the
unpickler below refuses every global outside the library's own modules and a short list of
standard value types.
"""

from __future__ import annotations

import io
import pickle
from typing import Any

from zhiyuan.errors import InvalidInput

__all__ = ["dumps", "loads"]

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


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module == "zhiyuan" or module.startswith("zhiyuan.")) and not name.startswith("__"):
            return super().find_class(module, name)
        if name in _ALLOWED.get(module, ()):
            return super().find_class(module, name)
        raise InvalidInput(
            [f"检查点含不允许的类型 / a checkpoint names a forbidden type: {module}.{name} @ $"]
        )


def dumps(state: object) -> bytes:
    """A state as pickle bytes."""
    return pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)


def loads(data: bytes) -> Any:
    """A state from :func:`dumps` bytes, building only allowed types."""
    return _Unpickler(io.BytesIO(data)).load()
