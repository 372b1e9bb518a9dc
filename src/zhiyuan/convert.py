"""The one edge where outside input becomes zhiyuan values: JSON and TOML, in and out.

Every public value type (attrs classes, enums, aware datetimes, dates) goes through one
preconfigured cattrs converter. Unknown keys are rejected, naive datetimes are rejected, floats
are refused where an integer is expected, and every error names the path of the bad field.

Example:
    >>> from zhiyuan.convert import from_json, to_json
    >>> from zhiyuan.hierarchy import Region, Level
    >>> r = Region(code="370602000000", name="芝罘区", level=Level.COUNTY,
    ...            parent_code="370600000000")
    >>> text = to_json(r)
    >>> from_json(text, Region) == r
    True
    >>> from_json('{"code": "370602000000", "name": "芝罘区", "level": "county", "x": 1}', Region)
    Traceback (most recent call last):
    ...
    zhiyuan.errors.InvalidInput: extra fields found (x) @ $
"""

from __future__ import annotations

import collections.abc as cabc
import enum
import json
import math
import re
import tomllib
import types
from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet
from datetime import date, datetime, time
from typing import Any, TypeVar, get_args, get_origin

import cattrs
import cattrs.gen
import cattrs.strategies
from cattrs.cols import list_structure_factory
from cattrs.preconf.json import make_converter as _make_json_converter

from zhiyuan._private import is_masked_type
from zhiyuan._validators import SHANGHAI, in_years
from zhiyuan.errors import InvalidInput, InvalidValue, ZhiyuanError
from zhiyuan.schedule import Schedule

__all__ = [
    "TAG",
    "compact_json",
    "converter",
    "from_json",
    "from_toml",
    "register_tagged_union",
    "structure",
    "structure_tagged",
    "tagged_types",
    "to_json",
    "to_toml",
    "unstructure",
]

T = TypeVar("T")


def _structure_datetime(value: object, _: type) -> datetime:
    if isinstance(value, str):
        try:
            dt = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidValue(
                "datetime", value, "不是 ISO 8601 时间 / not an ISO 8601 datetime"
            ) from None
    elif isinstance(value, datetime):
        dt = value
    else:
        raise InvalidValue("datetime", value, "需要 ISO 8601 字符串 / need an ISO 8601 string")
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise InvalidValue(
            "datetime",
            value,
            "缺少时区 / naive datetime: an offset is required",
            shown=repr(str(value)),
        )
    in_years("datetime", dt)
    return dt.astimezone(SHANGHAI)


def _structure_date(value: object, _: type) -> date:
    if isinstance(value, datetime):
        raise InvalidValue("date", value, "需要日期而非时间 / need a date, not a datetime")
    if isinstance(value, date):
        in_years("date", value)
        return value
    if isinstance(value, str):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            pass
        else:
            in_years("date", day)
            return day
    raise InvalidValue("date", value, "不是 ISO 8601 日期 / not an ISO 8601 date (YYYY-MM-DD)")


def _structure_int(value: object, _: type) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidValue(
            "int", value, "需要整数 / need an integer (minutes and points are never floats)"
        )
    return value


def _structure_str(value: object, _: type) -> str:
    if not isinstance(value, str):
        raise InvalidValue("str", value, "需要字符串 / need a string")
    return value


def _structure_float(value: object, _: type) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidValue("float", value, "需要数字 / need a number")
    return float(value)


def _structure_bool(value: object, _: type) -> bool:
    if not isinstance(value, bool):
        raise InvalidValue("bool", value, "需要布尔值 / need true or false")
    return value


def _format_exception(exc: BaseException, type_: type | None) -> str:
    if isinstance(exc, ZhiyuanError):
        return str(exc)
    if (isinstance(exc, AttributeError) and str(exc).endswith(("'keys'", "'items'"))) or (
        isinstance(exc, TypeError) and str(exc).startswith("argument of type")
    ):
        # cattrs calls .keys() or `in` on what should be a mapping (an attrs class given a list,
        # a string, a number or null).
        return "需要对象 / expected a mapping (a JSON object or TOML table)"
    return cattrs.v.format_exception(exc, type_)


def _is_enum(t: Any) -> bool:
    return isinstance(t, type) and issubclass(t, enum.Enum)


def _structure_enum(value: object, kind: type[enum.Enum]) -> enum.Enum:
    """A member by its value; anything else names the allowed values."""
    if isinstance(value, (dict, list)) or (isinstance(value, bool) and not _bool_values(kind)):
        value = repr(value)
    try:
        return kind(value)
    except (ValueError, TypeError):
        allowed = ", ".join(str(k.value) for k in kind)
        raise InvalidValue(kind.__name__, value, f"应为 / one of {allowed}") from None


def _bool_values(kind: type[enum.Enum]) -> bool:
    return any(isinstance(k.value, bool) for k in kind)


def _make() -> cattrs.Converter:
    c = _make_json_converter(forbid_extra_keys=True)
    c.register_structure_hook_func(_is_enum, _structure_enum)
    c.register_structure_hook(datetime, _structure_datetime)
    c.register_unstructure_hook(datetime, lambda d: d.isoformat())
    c.register_structure_hook(date, _structure_date)
    c.register_unstructure_hook(date, lambda d: d.isoformat())
    c.register_structure_hook(int, _structure_int)
    c.register_structure_hook(str, _structure_str)
    c.register_structure_hook(bool, _structure_bool)
    c.register_structure_hook(float, _structure_float)
    c.register_unstructure_hook_func(_is_set_type, _set_unstructurer(c))
    c.register_unstructure_hook_func(_is_schedule, _schedule_unstructurer(c))
    c.register_structure_hook_func(is_masked_type, lambda v, t: t.parse(v))
    c.register_unstructure_hook_func(is_masked_type, lambda v: v.masked)
    c.register_structure_hook_factory(_is_collection, lambda t: _collection_hook(t, c))
    c.register_structure_hook_factory(_is_int_keyed, lambda t: _int_keyed_hook(t, c))
    return c


def _is_int_keyed(t: Any) -> bool:
    return get_origin(t) in (dict, cabc.Mapping, cabc.MutableMapping) and get_args(t)[:1] == (int,)


_INT_KEY = re.compile(r"-?[0-9]{1,30}")


def _int_keyed_hook(t: Any, c: cattrs.Converter) -> Callable[[Any, Any], Any]:
    """A mapping with ``int`` keys (stars → count): JSON and TOML keys are strings, so a key of
    digits is read as the integer it was written from."""
    inner = cattrs.gen.make_mapping_structure_fn(t, c)

    def structure_int_keyed(value: Any, _: Any) -> Any:
        if isinstance(value, Mapping):
            value = {
                int(k) if isinstance(k, str) and _INT_KEY.fullmatch(k) else k: v
                for k, v in value.items()
            }
        return inner(value, t)

    return structure_int_keyed


# Homogeneous collections and what each is built as. cattrs iterates whatever it is given, so a
# string would become a list of characters and a mapping a list of its keys: refuse both.
_COLLECTIONS: dict[Any, Callable[[list[Any]], Any]] = {
    list: list,
    cabc.MutableSequence: list,
    tuple: tuple,
    cabc.Sequence: tuple,
    set: set,
    cabc.MutableSet: set,
    frozenset: frozenset,
    AbstractSet: frozenset,
    Schedule: lambda items: Schedule(items, empty=True),  # the owner checks what it needs
}


def _is_collection(t: Any) -> bool:
    return (get_origin(t) or t) in _COLLECTIONS


def _collection_hook(t: Any, c: cattrs.Converter) -> Callable[[Any, Any], Any]:
    origin = get_origin(t) or t
    args = get_args(t)
    build: Callable[[Any], Any] | None = _COLLECTIONS[origin]
    inner: Callable[[Any, Any], Any]
    as_type: Any
    if origin is tuple and args and not (len(args) == 2 and args[1] is ...):
        build, as_type, inner = None, t, c.gen_structure_hetero_tuple(t)  # tuple[str, int]
    else:
        as_type = types.GenericAlias(list, args[:1]) if args else list
        inner = list_structure_factory(as_type, c)
        if build is list:
            build = None

    def structure_collection(value: Any, _: Any) -> Any:
        if isinstance(value, (str, bytes, bytearray, Mapping)):
            raise InvalidValue(
                "list",
                value,
                "需要数组 / need a list (a JSON or TOML array), not a string or object",
            )
        out = inner(value, as_type)
        return out if build is None else build(out)

    return structure_collection


def _is_schedule(t: Any) -> bool:
    return (get_origin(t) or t) is Schedule


def _schedule_unstructurer(c: cattrs.Converter) -> Any:
    def unstructure_schedule(value: Schedule[Any]) -> list[Any]:
        return [c.unstructure(x) for x in value]  # in order of effective_from

    return unstructure_schedule


def _is_set_type(t: Any) -> bool:
    return t in (set, frozenset) or get_origin(t) in (set, frozenset, AbstractSet)


_PLAIN = re.compile(r'[^"\\\x00-\x1f]*')
"""Text that JSON writes as itself between quotes (nothing to escape)."""


def _json_key(x: Any) -> str:
    return json.dumps(x, sort_keys=True, ensure_ascii=False)


def _set_unstructurer(c: cattrs.Converter) -> Any:
    def unstructure_set(value: AbstractSet[Any]) -> list[Any]:
        # Sets export sorted by their JSON text, so the same value always gives the same text
        # (digests rely on it). Plain strings, the common case, are their JSON text in quotes.
        items = [c.unstructure(x) for x in value]
        if all(type(x) is str and _PLAIN.fullmatch(x) for x in items):
            return sorted(items, key=lambda x: f'"{x}"')
        return sorted(items, key=_json_key)

    return unstructure_set


converter: cattrs.Converter = _make()
"""The library's converter. Register hooks for your own types on a copy (``converter.copy()``).

Personal data (ID numbers, phones) exports masked; see ``reveal`` on :func:`unstructure`."""

_revealing: cattrs.Converter = converter.copy()
_revealing.register_unstructure_hook_func(is_masked_type, lambda v: v.reveal())
_revealing.register_unstructure_hook_func(_is_set_type, _set_unstructurer(_revealing))
_revealing.register_unstructure_hook_func(_is_schedule, _schedule_unstructurer(_revealing))

_compact: cattrs.Converter = _revealing.copy(omit_if_default=True)
"""Personal data in full and fields at their defaults left out: the journal's stored form (smaller
and faster to write; it structures back to the same value through :data:`converter`)."""
_compact.register_unstructure_hook_func(_is_set_type, _set_unstructurer(_compact))
_compact.register_unstructure_hook_func(_is_schedule, _schedule_unstructurer(_compact))


# --- tagged unions: entries that say what they are --------------------------------------------

TAG = "type"
"""The key under which an entry's type tag is written (``{"type": "hours.posted", ...}``)."""

_TAGGED: dict[str, type] = {}
_TAG_OF: dict[type, str] = {}


def register_tagged_union(union: Any, tags: Mapping[type, str]) -> None:
    """Make every member of ``union`` carry its tag, and ``union`` a cattrs tagged union.

    Each member class unstructures with ``{"type": tag, ...}`` (so ``to_json(entry)`` can be read
    back) and structures with or without it (a wrong tag is refused); the union structures by
    the tag (cattrs' ``configure_tagged_union`` strategy). Tags are unique across the library.

    Example:
        >>> import attrs
        >>> @attrs.frozen
        ... class Ping:
        ...     n: int
        >>> @attrs.frozen
        ... class Pong:
        ...     n: int
        >>> register_tagged_union(Ping | Pong, {Ping: "doc.ping", Pong: "doc.pong"})
        >>> to_json(Pong(1))
        '{"type": "doc.pong", "n": 1}'
        >>> from_json('{"type": "doc.ping", "n": 2}', Ping | Pong)
        Ping(n=2)
    """
    members = get_args(union) or (union,)  # one class is a union of one
    if set(members) != set(tags):
        raise InvalidValue(
            "tags",
            sorted(t.__name__ for t in tags),
            "须覆盖联合类型的每个成员 / name every member of the union",
        )
    for cls, tag in tags.items():
        if _TAGGED.get(tag, cls) is not cls or _TAG_OF.get(cls, tag) != tag:
            raise InvalidValue("tags", tag, "类型标签已被占用 / the tag is already used")
    for cls, tag in tags.items():
        _TAGGED[tag] = cls
        _TAG_OF[cls] = tag
        for conv in (converter, _revealing, _compact):
            conv.register_unstructure_hook(cls, _tagged_unstructurer(conv, cls, tag))
            conv.register_structure_hook(cls, _tagged_structurer(conv, cls, tag))
    if len(members) == 1:
        return
    for conv in (converter, _revealing):
        cattrs.strategies.configure_tagged_union(
            union, conv, tag_generator=tags.__getitem__, tag_name=TAG
        )
        inner = conv.get_structure_hook(union)
        conv.register_structure_hook(union, _checked_union(inner, dict(tags)))


def _tagged_unstructurer(conv: cattrs.Converter, cls: type, tag: str) -> Callable[[Any], Any]:
    base: Callable[[Any], dict[str, Any]] = cattrs.gen.make_dict_unstructure_fn(
        cls, conv, _cattrs_omit_if_default=conv.omit_if_default
    )

    def unstructure_tagged(value: Any) -> dict[str, Any]:
        return {TAG: tag, **base(value)}

    return unstructure_tagged


def _tagged_structurer(conv: cattrs.Converter, cls: type, tag: str) -> Callable[[Any, Any], Any]:
    base: Callable[[Any, Any], Any] = cattrs.gen.make_dict_structure_fn(
        cls, conv, _cattrs_forbid_extra_keys=True
    )

    def structure_tagged_member(value: Any, _: Any) -> Any:
        if isinstance(value, Mapping) and TAG in value:
            if value[TAG] != tag:
                raise InvalidValue(TAG, value[TAG], f"应为 / expected {tag!r}")
            value = {k: v for k, v in value.items() if k != TAG}
        return base(value, cls)

    return structure_tagged_member


def _checked_union(
    inner: Callable[[Any, Any], Any], tags: dict[type, str]
) -> Callable[[Any, Any], Any]:
    allowed = sorted(tags.values())

    def structure_union(value: Any, t: Any) -> Any:
        if not isinstance(value, Mapping):
            raise InvalidValue(
                "entry", value, "需要对象 / expected a mapping (a JSON object or TOML table)"
            )
        tag = value.get(TAG)
        if tag not in allowed:
            raise InvalidValue(TAG, tag, f"应为 / one of {', '.join(allowed)}")
        return inner(dict(value), t)

    return structure_union


def tagged_types() -> dict[str, type]:
    """Every registered type tag and its class."""
    return dict(_TAGGED)


def structure_tagged(data: object) -> Any:
    """Structure plain data by the type tag it carries (any registered entry type).

    Example:
        >>> structure_tagged({"type": "no.such"})
        Traceback (most recent call last):
        ...
        zhiyuan.errors.InvalidInput: type: 'no.such': 未知的类型标签 / unknown type tag @ $
    """
    tag = data.get(TAG) if isinstance(data, Mapping) else None
    cls = _TAGGED.get(tag) if isinstance(tag, str) else None
    if cls is None:
        raise InvalidInput([f"{TAG}: {tag!r}: 未知的类型标签 / unknown type tag @ $"])
    return structure(data, cls)


_COMPACT_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def compact_json(value: object) -> str:
    """A value as the journal stores it: compact JSON, personal data in full, fields at their
    defaults left out, a type tag on every entry. :func:`structure` reads it back.

    Example:
        >>> from zhiyuan.hierarchy import Region, Level
        >>> compact_json(Region(code="370602000000", name="芝罘区", level=Level.COUNTY))
        '{"code":"370602000000","level":"county","name":"芝罘区"}'
    """
    return _COMPACT_JSON.encode(_compact.unstructure(value))


def unstructure(value: object, *, reveal: bool = False) -> Any:
    """Turn a zhiyuan value into plain JSON-ready data (dicts, lists, strings, ints).

    Sets come out sorted. Personal data (ID numbers, phones) comes out masked unless
    ``reveal=True``; only revealed output can be loaded back.

    Example:
        >>> from zhiyuan.hierarchy import Level
        >>> unstructure(Level.TOWNSHIP)
        'township'
    """
    return (_revealing if reveal else converter).unstructure(value)


def structure(data: object, cls: type[T]) -> T:
    """Turn plain data into a value of ``cls``.

    Every problem becomes one :class:`~zhiyuan.errors.InvalidInput`.

    Example:
        >>> from zhiyuan.hierarchy import Level
        >>> structure("village", Level)
        <Level.VILLAGE: 'village'>
    """
    try:
        return converter.structure(data, cls)
    except cattrs.BaseValidationError as exc:
        raise InvalidInput(
            cattrs.transform_error(exc, path="$", format_exception=_format_exception)
        ) from exc
    except ZhiyuanError as exc:
        if isinstance(exc, InvalidInput):
            raise
        raise InvalidInput([f"{exc} @ $"]) from exc
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise InvalidInput([f"{_format_exception(exc, cls)} @ $"]) from exc


def to_json(value: object, *, indent: int | None = None, reveal: bool = False) -> str:
    """Dump a value as JSON text (UTF-8 characters kept, not escaped; personal data masked
    unless ``reveal=True``)."""
    return json.dumps(unstructure(value, reveal=reveal), ensure_ascii=False, indent=indent)


def from_json(text: str | bytes, cls: type[T]) -> T:
    """Load a value of ``cls`` from JSON text.

    Malformed JSON is an :class:`~zhiyuan.errors.InvalidInput` too.
    """
    try:
        data = json.loads(text)
    except RecursionError as exc:
        raise InvalidInput(["JSON 嵌套过深 / JSON nested too deeply @ $"]) from exc
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            [
                f"malformed JSON / JSON 格式错误: {exc.msg} at line {exc.lineno} "
                f"column {exc.colno} @ $"
            ]
        ) from exc
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            [f"malformed JSON / JSON 格式错误: not valid UTF-8 ({exc.reason}) @ $"]
        ) from exc
    except ValueError as exc:  # an integer of more digits than Python reads
        raise InvalidInput(
            [f"JSON 数值过大 / a number in the JSON is too large: {exc} @ $"]
        ) from exc
    return structure(data, cls)


def from_toml(text: str, cls: type[T]) -> T:
    """Load a value of ``cls`` from TOML text.

    Example:
        >>> from zhiyuan.hierarchy import Region
        >>> from_toml('code = "370602000000"\\nname = "芝罘区"\\nlevel = "county"', Region).name
        '芝罘区'
    """
    if not isinstance(text, str):
        raise InvalidInput([f"TOML 须为文本 / TOML must be text, not {type(text).__name__} @ $"])
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput([f"malformed TOML / TOML 格式错误: {exc} @ $"]) from exc
    except RecursionError as exc:
        raise InvalidInput(["TOML 嵌套过深 / TOML nested too deeply @ $"]) from exc
    except ValueError as exc:  # an integer of more digits than Python reads
        raise InvalidInput(
            [f"TOML 数值过大 / a number in the TOML is too large: {exc} @ $"]
        ) from exc
    return structure(_from_toml_native(data), cls)


def to_toml(value: object, *, reveal: bool = False) -> str:
    """Dump a value as TOML text. ``None`` values are left out (TOML has no null).

    The value must unstructure to a mapping (an attrs class, a dict).

    Example:
        >>> from zhiyuan.hierarchy import Region, Level
        >>> print(to_toml(Region(code="370600000000", name="烟台市", level=Level.CITY,
        ...                      parent_code="370000000000")), end="")
        code = "370600000000"
        name = "烟台市"
        level = "city"
        parent_code = "370000000000"
    """
    data = unstructure(value, reveal=reveal)
    if not isinstance(data, Mapping):
        raise InvalidValue(
            "value", type(value).__name__, "只能导出映射 / only mappings dump to TOML"
        )
    lines: list[str] = []
    _emit_table(data, [], lines)
    return "\n".join(lines).lstrip("\n") + "\n"


# --- a small TOML writer (the stdlib reads TOML but does not write it) ---------------------------

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")  # fullmatch: "$" would also match before a final "\n"


def _key(k: object) -> str:
    s = str(k)
    return s if _BARE_KEY.fullmatch(s) else _string(s)


def _string(s: str) -> str:
    out = ['"']
    for ch in s:
        code = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _is_table(v: object) -> bool:
    return isinstance(v, Mapping)


def _is_table_array(v: object) -> bool:
    return isinstance(v, list) and len(v) > 0 and all(_is_table(x) for x in v)


def _inline(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v) or math.isinf(v):
            return ("-" if v < 0 else "") + ("nan" if math.isnan(v) else "inf")
        return repr(v)
    if isinstance(v, str):
        return _string(v)
    if isinstance(v, (datetime, date, time)):
        return v.isoformat()
    if isinstance(v, Mapping):
        items = [f"{_key(k)} = {_inline(x)}" for k, x in v.items() if x is not None]
        return "{ " + ", ".join(items) + " }" if items else "{}"
    if isinstance(v, (list, tuple)):
        if any(x is None for x in v):
            raise InvalidValue("value", v, "TOML 数组不能含空值 / TOML arrays cannot hold null")
        return "[" + ", ".join(_inline(x) for x in v) + "]"
    raise InvalidValue("value", v, "无法写成 TOML / cannot be written as TOML")


def _emit_table(data: Mapping[Any, Any], path: list[str], lines: list[str]) -> None:
    scalars = [
        (k, v)
        for k, v in data.items()
        if v is not None and not _is_table(v) and not _is_table_array(v)
    ]
    for k, v in scalars:
        lines.append(f"{_key(k)} = {_inline(v)}")
    for k, v in data.items():
        if _is_table(v):
            sub = [*path, _key(k)]
            lines.append("")
            lines.append(f"[{'.'.join(sub)}]")
            _emit_table(v, sub, lines)
        elif _is_table_array(v):
            sub = [*path, _key(k)]
            for item in v:
                lines.append("")
                lines.append(f"[[{'.'.join(sub)}]]")
                _emit_table(item, sub, lines)


def _from_toml_native(data: Any) -> Any:
    """TOML gives native datetimes and dates; turn them into the ISO text the hooks expect."""
    if isinstance(data, dict):
        return {k: _from_toml_native(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_from_toml_native(v) for v in data]
    if isinstance(data, (datetime, date, time)):
        return data.isoformat()
    return data
