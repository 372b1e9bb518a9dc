"""Volunteers (志愿者) and their personal data: 身份证号 and phone numbers, validated and masked.

:class:`IdNumber` checks the GB 11643-1999 checksum and birth date, derives birth date and sex, and
shows itself masked (``3706**********123X``) in every ``repr``, ``str``, export and error message;
:meth:`IdNumber.reveal` is the one way to the raw value. :class:`Phone` does the same for mobile
numbers (``138****5678``).

References:
    GB 11643-1999《公民身份号码》: 6-digit address code, 8-digit birth date, 3-digit order code
    (odd for men, even for women), 1 check character (ISO 7064 MOD 11-2, ``X`` for 10).

Example:
    >>> from datetime import date
    >>> from zhiyuan.hours import IdNumber, Volunteer
    >>> idn = IdNumber.parse("370602198001011238")
    Traceback (most recent call last):
    ...
    zhiyuan.errors.InvalidValue: id_number: '3706**********1238': 校验码错误 / check character should be 4
    >>> idn = IdNumber.parse("370602198001011234")
    >>> idn, idn.birth_date, idn.sex
    (IdNumber('3706**********1234'), datetime.date(1980, 1, 1), 'M')
    >>> v = Volunteer(id="v1", name="王芳", id_number=idn, phone="13812345678",
    ...               home_region="370602001001", registered_on=date(2020, 3, 5))
    >>> v.phone
    Phone('138****5678')
    >>> v.age_on(date(2025, 1, 1)), v.is_minor_on(date(2025, 1, 1))
    (45, False)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date
from typing import Any

import attrs

from zhiyuan._private import Masked
from zhiyuan._validators import MIN_YEAR, is_date, non_empty, system_clock
from zhiyuan.errors import InvalidValue
from zhiyuan.hierarchy.codes import normalize_code

__all__ = ["ADULT_AGE", "IdNumber", "Phone", "Volunteer", "check_character", "mask_id"]

ADULT_AGE = 18
"""Age of majority (《民法典》第十七条): a volunteer younger than this on the service date is a minor."""

_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
_CHECK = "10X98765432"


def check_character(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits.

    Example:
        >>> check_character("37060219800101123"), check_character("11010519491231002")
        ('4', 'X')
    """
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def mask_id(raw: str) -> str:
    """Mask all but the first 4 and last 4 characters (``3706**********123X``)."""
    if len(raw) <= 8:
        return "*" * len(raw)
    return raw[:4] + "*" * (len(raw) - 8) + raw[-4:]


def _id_problem(raw: str) -> str | None:
    """Why a normalized 18-character number is not valid (bilingual), or ``None``."""
    if len(raw) != 18 or not (raw[:17].isdigit() and raw[:17].isascii()):
        return "身份证号应为 18 位 / an ID number has 17 digits and a check character"
    try:
        born = date(int(raw[6:10]), int(raw[10:12]), int(raw[12:14]))
    except ValueError:
        return "出生日期无效 / the birth date is not a real date"
    if born.year < MIN_YEAR:
        return f"出生年份早于 {MIN_YEAR} / born before {MIN_YEAR}"
    today = system_clock().date()
    if born > today:
        return f"出生日期晚于今天 {today} / the birth date is after today, {today}"
    want = check_character(raw[:17])
    if raw[17] != want:
        return f"校验码错误 / check character should be {want}"
    return None


def _phone_problem(raw: str) -> str | None:
    if not (len(raw) == 11 and raw.isdigit() and raw.isascii() and raw[0] == "1"):
        return "手机号应为 1 开头的 11 位数字 / need 11 digits starting with 1"
    return None


def _checked(
    field: str, problem: Callable[[str], str | None], mask: Callable[[str], str]
) -> Callable[[object, attrs.Attribute[str], object], None]:
    """An attrs validator: the constructor refuses what ``parse`` would refuse (masked)."""

    def check(_: object, __: attrs.Attribute[str], value: object) -> None:
        if not isinstance(value, str):
            raise InvalidValue(field, type(value).__name__, "需要字符串 / need a string")
        why = problem(value)
        if why is not None:
            raise InvalidValue(field, None, why, shown=repr(mask(value)))

    return check


def _mask_phone(raw: str) -> str:
    if len(raw) <= 7:
        return "*" * len(raw)
    return raw[:3] + "*" * (len(raw) - 7) + raw[-4:]


@attrs.frozen(repr=False)
class IdNumber(Masked):
    """A validated 18-character 公民身份号码, masked wherever it is shown.

    Build it with :meth:`parse`. Equality and hashing use the raw value. The birth date must be a
    real date from 1900 to today (Asia/Shanghai): a number born later cannot have been issued.
    """

    _raw: str = attrs.field(alias="raw", validator=_checked("id_number", _id_problem, mask_id))

    @classmethod
    def parse(cls, value: object, *, field: str = "id_number") -> IdNumber:
        """Validate and wrap a raw number (a trailing ``x`` is read as ``X``)."""
        if isinstance(value, IdNumber):
            return value
        if not isinstance(value, str):
            raise InvalidValue(field, type(value).__name__, "身份证号应为字符串 / need a string")
        raw = value.strip().upper()
        problem = _id_problem(raw)
        if problem is not None:
            raise InvalidValue(field, None, problem, shown=repr(mask_id(raw)))
        return cls(raw=raw)

    def reveal(self) -> str:
        """The raw number. Call it only where the raw value is needed and allowed."""
        return self._raw

    @property
    def masked(self) -> str:
        """The masked form, ``3706**********123X``."""
        return mask_id(self._raw)

    @property
    def birth_date(self) -> date:
        """The birth date encoded in digits 7–14."""
        r = self._raw
        return date(int(r[6:10]), int(r[10:12]), int(r[12:14]))

    @property
    def sex(self) -> str:
        """``'M'`` or ``'F'``, from the parity of digit 17."""
        return "M" if int(self._raw[16]) % 2 else "F"

    @property
    def region_prefix(self) -> str:
        """The 6-digit address code of the place of first registration (may be an old code)."""
        return self._raw[:6]

    def __str__(self) -> str:
        return self.masked

    def __repr__(self) -> str:
        return f"IdNumber({self.masked!r})"


@attrs.frozen(repr=False)
class Phone(Masked):
    """A mainland mobile number (11 digits starting with 1), masked wherever it is shown."""

    _raw: str = attrs.field(alias="raw", validator=_checked("phone", _phone_problem, _mask_phone))

    @classmethod
    def parse(cls, value: object, *, field: str = "phone") -> Phone:
        """Validate and wrap a number; spaces, dashes and a ``+86`` prefix are dropped."""
        if isinstance(value, Phone):
            return value
        if not isinstance(value, str):
            raise InvalidValue(field, type(value).__name__, "手机号应为字符串 / need a string")
        raw = value.strip().replace(" ", "").replace("-", "")
        if raw.startswith("+86"):
            raw = raw[3:]
        problem = _phone_problem(raw)
        if problem is not None:
            raise InvalidValue(field, None, problem, shown=repr(_mask_phone(raw)))
        return cls(raw=raw)

    def reveal(self) -> str:
        """The raw number."""
        return self._raw

    @property
    def masked(self) -> str:
        """The masked form, ``138****5678``."""
        return _mask_phone(self._raw)

    def __str__(self) -> str:
        return self.masked

    def __repr__(self) -> str:
        return f"Phone({self.masked!r})"


def _id_number(value: Any) -> IdNumber | None:
    return None if value is None else IdNumber.parse(value)


def _phone(value: Any) -> Phone | None:
    return None if value is None else Phone.parse(value)


def _home(value: Any) -> str:
    return normalize_code(value, field="home_region")


def _skills(value: Any) -> frozenset[str]:
    if isinstance(value, str):
        value = (value,)
    if not isinstance(value, Iterable) or isinstance(value, (bytes, Mapping)):
        raise InvalidValue("skills", value, "需要技能名称的集合 / need a collection of skill names")
    value = tuple(value)
    for s in value:
        if not isinstance(s, str) or not s.strip():
            raise InvalidValue(
                "skills", s, "技能名称应为非空字符串 / a skill is a non-empty string"
            )
    return frozenset(value)


def _registered(v: Volunteer, attribute: attrs.Attribute[date], value: date) -> None:
    is_date(v, attribute, value)
    born = v.birth_date
    if born is not None and value < born:
        raise InvalidValue(
            "registered_on",
            value.isoformat(),
            f"注册日期早于出生日期 {born} / registered before the birth date, {born}",
        )


@attrs.frozen(kw_only=True)
class Volunteer:
    """A registered volunteer (注册志愿者).

    ``id_number`` and ``phone`` accept raw strings and are validated and masked; both are optional
    (a platform may hold them elsewhere). ``home_region`` is a region code in any form.
    ``registered_on`` is a date in 1900–2199, not before the birth date of the ID number.
    """

    id: str = attrs.field(validator=non_empty)
    name: str = attrs.field(validator=non_empty)
    id_number: IdNumber | None = attrs.field(default=None, converter=_id_number)
    phone: Phone | None = attrs.field(default=None, converter=_phone)
    home_region: str = attrs.field(converter=_home)
    skills: frozenset[str] = attrs.field(factory=frozenset, converter=_skills)
    registered_on: date = attrs.field(validator=_registered)

    @property
    def birth_date(self) -> date | None:
        """From the ID number, when there is one."""
        return None if self.id_number is None else self.id_number.birth_date

    def age_on(self, day: date) -> int | None:
        """Full years of age on ``day`` (``None`` without an ID number)."""
        born = self.birth_date
        if born is None:
            return None
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))

    def is_minor_on(self, day: date) -> bool:
        """True if under 18 on ``day`` (unknown age counts as adult)."""
        age = self.age_on(day)
        return age is not None and age < ADULT_AGE
