"""Levels and the 12-digit statistical division code (统计用区划代码).

References:
    国家统计局《统计用区划代码和城乡划分代码编制规则》(国统字〔2009〕91号): 2 digits province,
    2 city, 2 county, 3 township, 3 village; 国家标准《县以下行政区划代码编制规则》(GB/T 10114)
    for the township digits (001–099 街道, 100–199 镇, 200–399 乡, 400–599 other units).
"""

from __future__ import annotations

import enum

import attrs

from zhiyuan.errors import InvalidValue, show

__all__ = ["Level", "RegionCode", "normalize_code"]


class Level(enum.Enum):
    """The five levels of the region tree (行政区划层级).

    Example:
        >>> Level.TOWNSHIP.zh
        '乡级'
        >>> Level.from_depth(3) is Level.COUNTY
        True
        >>> Level.VILLAGE > Level.PROVINCE
        True
    """

    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"
    TOWNSHIP = "township"
    VILLAGE = "village"

    @property
    def depth(self) -> int:
        """1 for a province … 5 for a village."""
        return _DEPTH[self]

    @property
    def zh(self) -> str:
        """The Chinese name of the level."""
        return _ZH[self]

    @property
    def digits(self) -> int:
        """How many leading digits of the 12-digit code are significant at this level."""
        return _DIGITS[self.depth - 1]

    @classmethod
    def from_depth(cls, depth: int) -> Level:
        """The level at ``depth`` (1–5); anything else raises :class:`~zhiyuan.errors.InvalidValue`."""
        if isinstance(depth, bool) or not isinstance(depth, int) or not 1 <= depth <= 5:
            raise InvalidValue(
                "depth",
                depth,
                "层级应为 1–5 的整数 / a depth is a whole number 1 to 5",
                shown=show(depth),
            )
        return _BY_DEPTH[depth - 1]

    @classmethod
    def _missing_(cls, value: object) -> Level:
        # ``Level("county")`` looks the value up; anything else is an InvalidValue (a ValueError,
        # as before) that names the allowed values instead of the enum module's bare message.
        raise InvalidValue(
            "level",
            value,
            "未知层级 / not a level: province, city, county, township or village",
            shown=show(value),
        )

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Level):
            return NotImplemented
        return self.depth < other.depth

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Level):
            return NotImplemented
        return self.depth <= other.depth

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Level):
            return NotImplemented
        return self.depth > other.depth

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Level):
            return NotImplemented
        return self.depth >= other.depth


_BY_DEPTH = (Level.PROVINCE, Level.CITY, Level.COUNTY, Level.TOWNSHIP, Level.VILLAGE)
_DEPTH = {lv: i + 1 for i, lv in enumerate(_BY_DEPTH)}
_ZH = {
    Level.PROVINCE: "省级",
    Level.CITY: "市级",
    Level.COUNTY: "县级",
    Level.TOWNSHIP: "乡级",
    Level.VILLAGE: "村级",
}
_DIGITS = (2, 4, 6, 9, 12)
_SHORT_LENGTHS = frozenset(_DIGITS)
_ZEROS = "000000000000"
_INT_LIMIT = 10**12
_DIGITS_REASON = "区划代码应为 2、4、6、9 或 12 位数字 / a region code has 2, 4, 6, 9 or 12 digits"


def normalize_code(code: object, *, field: str = "code") -> str:
    """Return the canonical 12-digit form of a region code given in any accepted form.

    Accepted: a string or int of 2, 4, 6, 9 or 12 digits (the short forms are padded with zeros).
    Surrounding whitespace is ignored. The province digits cannot be ``00`` (as in
    :class:`RegionCode`). Anything else (another type, ``None``, a negative or huge int, any other
    text) raises :class:`~zhiyuan.errors.InvalidValue` naming ``field``.

    Example:
        >>> normalize_code("3706")
        '370600000000'
        >>> normalize_code(370602001)
        '370602001000'
        >>> normalize_code("37060")
        Traceback (most recent call last):
        ...
        zhiyuan.errors.InvalidValue: code: '37060': 区划代码应为 2、4、6、9 或 12 位数字 / a region code has 2, 4, 6, 9 or 12 digits
    """
    if isinstance(code, RegionCode):
        return code.value
    if isinstance(code, bool):
        raise InvalidValue(field, code, "区划代码不能是布尔值 / a region code is not a bool")
    if isinstance(code, int):
        if not 0 < code < _INT_LIMIT:  # before str(): a huge int cannot even be written out
            raise InvalidValue(field, code, _DIGITS_REASON, shown=show(code))
        text = str(code)
    elif isinstance(code, str):
        text = code.strip()
    else:
        raise InvalidValue(
            field,
            code,
            "区划代码应为字符串 / a region code is a string of digits",
            shown=show(code),
        )
    n = len(text)
    if n == 12 and text.isdigit() and text.isascii() and text[:2] != "00":
        return text
    if n not in _SHORT_LENGTHS or not (text.isdigit() and text.isascii()):
        raise InvalidValue(field, code, _DIGITS_REASON, shown=show(code))
    if text[:2] == "00":
        raise InvalidValue(field, code, "省级代码不能为 00 / the province digits cannot be 00")
    return text + _ZEROS[n:]


def level_of(code12: str) -> Level:
    """The level a canonical 12-digit code denotes, read from its trailing zero segments.

    Example:
        >>> level_of("370602001000")
        <Level.TOWNSHIP: 'township'>
    """
    if code12[9:] != "000":
        return Level.VILLAGE
    if code12[6:9] != "000":
        return Level.TOWNSHIP
    if code12[4:6] != "00":
        return Level.COUNTY
    if code12[2:4] != "00":
        return Level.CITY
    return Level.PROVINCE


def parent_of(code12: str) -> str | None:
    """The code of the level above, by structure alone (``None`` for a province)."""
    lv = level_of(code12)
    if lv is Level.PROVINCE:
        return None
    keep = _DIGITS[lv.depth - 2]
    return code12[:keep] + _ZEROS[keep:]


@attrs.frozen(order=True)
class RegionCode:
    """A validated 12-digit 统计用区划代码, with its level and structural parent.

    Construct with :meth:`parse`, which accepts the short forms. The level comes from the code's
    trailing zero segments: ``370602001000`` is a township. (A few real codes collide when
    padded, e.g. 东莞市 ``4419`` and its county-like node ``441900``; the tree reports those.)

    Example:
        >>> c = RegionCode.parse("370602001")
        >>> c.value, c.level.value, c.short
        ('370602001000', 'township', '370602001')
        >>> c.parent
        RegionCode(value='370602000000')
        >>> [str(a) for a in c.ancestors()]
        ['370602000000', '370600000000', '370000000000']
        >>> c.township_kind
        '街道'
    """

    value: str = attrs.field()

    @value.validator
    def _check(self, _: attrs.Attribute[str], value: str) -> None:
        if not (
            isinstance(value, str) and len(value) == 12 and value.isdigit() and value.isascii()
        ):
            raise InvalidValue(
                "code",
                value,
                "需要 12 位数字 / need 12 digits (use RegionCode.parse)",
                shown=show(value),
            )
        if value[:2] == "00":
            raise InvalidValue(
                "code", value, "省级代码不能为 00 / the province digits cannot be 00"
            )

    @classmethod
    def parse(cls, code: object) -> RegionCode:
        """Parse any accepted form (2/4/6/9/12 digits, str or int)."""
        return cls(normalize_code(code))

    def __str__(self) -> str:
        return self.value

    @property
    def level(self) -> Level:
        """The level this code denotes."""
        return level_of(self.value)

    @property
    def short(self) -> str:
        """The code without the zeros of lower levels (2, 4, 6, 9 or 12 digits)."""
        return self.value[: self.level.digits]

    @property
    def parent(self) -> RegionCode | None:
        """The structural parent (the code with this level's digits zeroed), or ``None``."""
        p = parent_of(self.value)
        return None if p is None else RegionCode(p)

    def ancestors(self) -> list[RegionCode]:
        """Structural ancestors, nearest first."""
        out: list[RegionCode] = []
        p = self.parent
        while p is not None:
            out.append(p)
            p = p.parent
        return out

    def is_within(self, ancestor: RegionCode | str | int) -> bool:
        """True if ``ancestor`` (a :class:`RegionCode` or any accepted code form) is this code or
        one of its structural ancestors."""
        if not isinstance(ancestor, RegionCode):
            ancestor = RegionCode(normalize_code(ancestor, field="ancestor"))
        keep = ancestor.level.digits
        return self.value[:keep] == ancestor.value[:keep] and self.level >= ancestor.level

    @property
    def township_kind(self) -> str | None:
        """Township kind by code — 街道 (001–099), 镇 (100–199), 乡 (200–399) or 其他 (400–599+)."""
        if self.level is not Level.TOWNSHIP:
            return None
        first = self.value[6]
        if first == "0":
            return "街道"
        if first == "1":
            return "镇"
        if first in "23":
            return "乡"
        return "其他"
