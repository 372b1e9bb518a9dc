"""Volunteers and their personal data: GB 11643 ID numbers, phones, masking, ages."""

from __future__ import annotations

import pickle
from datetime import date, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from support.hours import YOUYI, complete_id, id_for, mod11_2_ok, volunteer
from zhiyuan.convert import from_json, from_toml, to_json, to_toml, unstructure
from zhiyuan.errors import InvalidInput, InvalidValue, ZhiyuanError
from zhiyuan.hours import ADULT_AGE, IdNumber, Phone, Volunteer, check_character, mask_id

# Valid numbers: the GB 11643 standard's own example (X check), the module's example, and two
# computed with the textbook oracle (one female, one born on 29 February of a leap year).
VALID = [
    ("11010519491231002X", date(1949, 12, 31), "F"),
    ("370602198001011234", date(1980, 1, 1), "M"),
    (id_for(date(2000, 2, 29), order="246"), date(2000, 2, 29), "F"),
    (id_for(date(2007, 6, 15), region="370214", order="017"), date(2007, 6, 15), "M"),
]


def middle(raw: str) -> str:
    """The part of a number that masking must hide."""
    return raw[4:-4]


# --- GB 11643 ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "born", "sex"), VALID)
def test_valid_numbers_parse_with_birth_date_and_sex(raw: str, born: date, sex: str) -> None:
    assert mod11_2_ok(raw)  # the oracle agrees these are valid
    idn = IdNumber.parse(raw)
    assert idn.reveal() == raw
    assert idn.birth_date == born
    assert idn.sex == sex
    assert idn.region_prefix == raw[:6]
    assert check_character(raw[:17]) == raw[17]


def test_lower_case_x_is_read_as_upper_case() -> None:
    idn = IdNumber.parse("11010519491231002x")
    assert idn.reveal() == "11010519491231002X"
    assert idn == IdNumber.parse("11010519491231002X")
    assert hash(idn) == hash(IdNumber.parse(" 11010519491231002X "))


def test_parse_is_idempotent_on_an_id_number() -> None:
    idn = IdNumber.parse("370602198001011234")
    assert IdNumber.parse(idn) is idn


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("370602198001011238", "check character should be 4"),  # wrong check digit
        ("110105194912310021", "check character should be X"),  # X expected, digit given
        ("37060219800101123X", "check character should be 4"),  # X given, digit expected
        ("37060219800101123", "17 digits and a check character"),  # 17 characters
        ("3706021980010112344", "17 digits and a check character"),  # 19 characters
        ("3706021980010112A4", "17 digits and a check character"),  # a letter inside
        ("３７０６０２198001011234", "17 digits and a check character"),  # full-width digits
        ("", "17 digits and a check character"),
        (complete_id("37060219800230123"), "not a real date"),  # 30 February
        (complete_id("37060219810229123"), "not a real date"),  # 1981 is not a leap year
        (complete_id("37060219000229123"), "not a real date"),  # 1900 is not a leap year
        (complete_id("37060219801301123"), "not a real date"),  # month 13
        (complete_id("37060219800000123"), "not a real date"),  # month 0, day 0
        (complete_id("37060219800431123"), "not a real date"),  # 31 April
    ],
)
def test_invalid_numbers_are_refused(raw: str, reason: str) -> None:
    with pytest.raises(InvalidValue) as info:
        IdNumber.parse(raw)
    err = info.value
    assert isinstance(err, ZhiyuanError) and isinstance(err, ValueError)
    assert err.field == "id_number"
    assert reason in str(err)
    if len(raw) > 8:
        assert middle(raw) not in str(err) and middle(raw) not in repr(err)
        assert middle(raw) not in repr(err.args) and middle(raw) not in err.shown
        assert err.value is None  # the raw number is not kept on the error either


def test_birth_date_in_a_leap_year_is_valid() -> None:
    assert IdNumber.parse(complete_id("37060220000229123")).birth_date == date(2000, 2, 29)


def test_non_strings_are_refused_with_the_field_name() -> None:
    with pytest.raises(InvalidValue, match="need a string") as info:
        IdNumber.parse(370602198001011234, field="member.id_number")
    assert info.value.field == "member.id_number"
    assert "370602198001011234" not in str(info.value)


def test_the_constructor_checks_the_number_too() -> None:
    # __init__ is public (attrs); it must not make an IdNumber that parse() would refuse.
    with pytest.raises(InvalidValue):
        IdNumber(raw="370602198001011238")
    with pytest.raises(InvalidValue):
        IdNumber(raw="garbage")
    with pytest.raises(InvalidValue):
        Phone(raw="12")
    assert IdNumber(raw="370602198001011234") == IdNumber.parse("370602198001011234")


def test_wrong_check_character_names_the_right_one() -> None:
    raw = "370602198001011234"
    for wrong in "0123567899X":
        if wrong == "4":
            continue
        with pytest.raises(InvalidValue, match="should be 4"):
            IdNumber.parse(raw[:17] + wrong)


# --- masking ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "born", "sex"), VALID)
def test_masked_everywhere_it_is_shown(raw: str, born: date, sex: str) -> None:
    idn = IdNumber.parse(raw)
    assert idn.masked == raw[:4] + "*" * 10 + raw[-4:]
    assert str(idn) == idn.masked
    assert repr(idn) == f"IdNumber({idn.masked!r})"
    assert f"{idn}" == idn.masked
    assert unstructure(idn) == idn.masked
    v = volunteer(id_number=raw, phone="13812345678")
    for text in (repr(v), str(v), to_json(v), to_toml(v), repr(unstructure(v))):
        assert middle(raw) not in text
        assert f"{born:%Y%m%d}" not in text
        assert "1234" + "5678" not in text  # phone middle hidden too
        assert idn.masked in text
        assert "138****5678" in text


def test_attrs_repr_of_the_frozen_class_does_not_leak(h_volunteer: Volunteer) -> None:
    idn = IdNumber.parse("370602198001011234")
    assert "0219800101" not in repr([idn, {"k": idn}, (idn,)])
    assert "0219800101" not in repr(attrs.evolve(volunteer(id_number=idn)))
    assert h_volunteer.id_number is not None
    raw = h_volunteer.id_number.reveal()
    assert raw[4:-4] not in repr(h_volunteer) + str(h_volunteer) + to_json(h_volunteer)
    assert raw in to_json(h_volunteer, reveal=True)
    assert "13812345678" in to_json(h_volunteer, reveal=True)


def test_mask_id_short_and_long() -> None:
    assert mask_id("1234") == "****"
    assert mask_id("12345678") == "********"
    assert mask_id("123456789") == "1234*6789"


def test_error_when_building_a_volunteer_is_masked() -> None:
    raw = "370602198001011238"
    with pytest.raises(InvalidValue) as info:
        volunteer(id_number=raw)
    assert middle(raw) not in str(info.value)
    assert "3706**********1238" in str(info.value)


def test_converter_errors_are_masked() -> None:
    bad = to_json(volunteer(id_number="370602198001011234"), reveal=True).replace(
        "370602198001011234", "370602198001011238"
    )
    with pytest.raises(InvalidInput) as info:
        from_json(bad, Volunteer)
    msg = str(info.value)
    assert "$.id_number" in msg
    assert "0219800101" not in msg and "0219800101" not in repr(info.value.messages)


# --- JSON/TOML ------------------------------------------------------------------------------------


def test_round_trip_only_when_revealed() -> None:
    v = volunteer(id_number="11010519491231002X", phone="13812345678", skills={"急救", "外语"})
    assert from_json(to_json(v, reveal=True), Volunteer) == v
    assert from_toml(to_toml(v, reveal=True), Volunteer) == v
    for masked in (to_json(v), to_toml(v)):
        assert "11010519491231002X" not in masked and "13812345678" not in masked
    with pytest.raises(InvalidInput, match=r"\$\.id_number"):
        from_json(to_json(v), Volunteer)
    with pytest.raises(InvalidInput, match=r"\$\.phone"):
        from_toml(to_toml(v), Volunteer)


def test_volunteer_without_personal_data_round_trips_either_way() -> None:
    v = volunteer()
    assert v.id_number is None and v.phone is None
    assert from_json(to_json(v), Volunteer) == v
    assert from_toml(to_toml(v), Volunteer) == v


# --- phones -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["13812345678", "+8613812345678", "+86 138-1234-5678", "138 1234 5678", " 138-1234-5678 "],
)
def test_phone_forms(text: str) -> None:
    p = Phone.parse(text)
    assert p.reveal() == "13812345678"
    assert p.masked == str(p) == "138****5678"
    assert repr(p) == "Phone('138****5678')"
    assert unstructure(p) == "138****5678"
    assert p == Phone.parse("13812345678")


@pytest.mark.parametrize(
    "text",
    [
        "23812345678",  # does not start with 1
        "1381234567",  # 10 digits
        "138123456789",  # 12 digits
        "8613812345678",  # 86 without the plus
        "+85213812345678",  # another country code
        "１３８１２３４５６７８",  # full-width digits
        "138a2345678",
        "",
    ],
)
def test_bad_phones_are_refused_masked(text: str) -> None:
    with pytest.raises(InvalidValue, match="11 digits starting with 1") as info:
        Phone.parse(text)
    assert info.value.field == "phone"
    raw = text.replace("-", "").replace(" ", "")
    if len(raw) > 7:
        assert raw[3:-4] not in str(info.value)


def test_phone_must_be_a_string() -> None:
    with pytest.raises(InvalidValue, match="need a string"):
        Phone.parse(13812345678)


# --- volunteers and ages --------------------------------------------------------------------------


def test_volunteer_fields_are_normalized_and_checked() -> None:
    v = volunteer(home_region="3706", skills="急救")
    assert v.home_region == "370600000000"
    assert v.skills == frozenset({"急救"})
    with pytest.raises(InvalidValue, match="name"):
        volunteer(name="  ")
    with pytest.raises(InvalidValue, match="registered_on"):
        volunteer(registered_on="2020-01-01")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        v.name = "x"  # type: ignore[misc]


def test_age_at_the_birthday_boundary() -> None:
    born = date(2007, 6, 15)
    v = volunteer(born=born)
    assert v.birth_date == born
    eve, birthday = date(2025, 6, 14), date(2025, 6, 15)
    assert v.age_on(eve) == ADULT_AGE - 1 and v.is_minor_on(eve)
    assert v.age_on(birthday) == ADULT_AGE and not v.is_minor_on(birthday)
    assert v.age_on(born) == 0
    assert v.age_on(born - timedelta(days=1)) == -1  # not yet born: negative, still a "minor"
    assert v.is_minor_on(born - timedelta(days=1))


def test_age_of_someone_born_on_29_february() -> None:
    v = volunteer(born=date(2004, 2, 29))
    assert v.age_on(date(2022, 2, 28)) == 17 and v.is_minor_on(date(2022, 2, 28))
    assert v.age_on(date(2022, 3, 1)) == 18 and not v.is_minor_on(date(2022, 3, 1))
    assert v.age_on(date(2024, 2, 29)) == 20


def test_age_unknown_without_an_id_number() -> None:
    v = volunteer()
    assert v.birth_date is None and v.age_on(date(2025, 1, 1)) is None
    assert not v.is_minor_on(date(2025, 1, 1))


def test_errors_pickle_with_the_masked_text() -> None:
    with pytest.raises(InvalidValue) as info:
        IdNumber.parse("370602198001011238")
    again = pickle.loads(pickle.dumps(info.value))
    assert str(again) == str(info.value)
    assert "0219800101" not in str(again)


# --- properties ---------------------------------------------------------------------------------

birth_dates = st.dates(min_value=date(1900, 1, 1), max_value=date(2025, 12, 31))
regions6 = st.from_regex(r"[1-9][0-9]{5}", fullmatch=True)
orders = st.from_regex(r"[0-9]{3}", fullmatch=True)


@st.composite
def valid_ids(draw: st.DrawFn) -> tuple[str, date]:
    born = draw(birth_dates)
    first17 = f"{draw(regions6)}{born:%Y%m%d}{draw(orders)}"
    return complete_id(first17), born


@given(valid_ids())
def test_any_valid_number_parses(pair: tuple[str, date]) -> None:
    raw, born = pair
    idn = IdNumber.parse(raw)
    assert idn.birth_date == born
    assert idn.sex == ("M" if int(raw[16]) % 2 else "F")
    assert check_character(raw[:17]) == raw[17]
    assert middle(raw) not in repr(idn) + str(idn) + to_json(volunteer(id_number=idn))
    assert idn.reveal() == raw


@given(valid_ids(), st.integers(min_value=0, max_value=17), st.data())
def test_any_single_character_change_breaks_it(
    pair: tuple[str, date], pos: int, data: st.DataObject
) -> None:
    raw, _ = pair
    alphabet = "0123456789X" if pos == 17 else "0123456789"
    new = data.draw(st.sampled_from([c for c in alphabet if c != raw[pos]]))
    changed = raw[:pos] + new + raw[pos + 1 :]
    assert not mod11_2_ok(changed)
    with pytest.raises(InvalidValue) as info:
        IdNumber.parse(changed)
    assert middle(changed) not in str(info.value)


@given(st.from_regex(r"[0-9]{17}", fullmatch=True))
def test_check_character_matches_the_textbook_oracle(first17: str) -> None:
    assert mod11_2_ok(first17 + check_character(first17))


@given(valid_ids(), st.dates(min_value=date(1900, 1, 1), max_value=date(2120, 12, 31)))
def test_age_is_whole_years_since_birth(pair: tuple[str, date], day: date) -> None:
    raw, born = pair
    assume(day >= born)
    v = volunteer(id_number=raw, home_region=YOUYI)
    age = v.age_on(day)
    assert age is not None and age >= 0
    # the age-th birthday has happened and the (age+1)-th has not (29 Feb → 1 Mar when absent)

    def birthday(n: int) -> date:
        try:
            return born.replace(year=born.year + n)
        except ValueError:
            return date(born.year + n, 3, 1)

    assert birthday(age) <= day < birthday(age + 1)
    assert v.is_minor_on(day) == (age < ADULT_AGE)


# --- issue 14: impossible birth and registration dates -------------------------------------------


@pytest.mark.parametrize("year", ["2090", "2200", "1899", "1000"])
def test_a_birth_year_before_1900_or_after_today_is_refused(year: str) -> None:
    with pytest.raises(InvalidValue, match="出生") as info:
        IdNumber.parse(complete_id(f"370602{year}0101123"))
    assert info.value.field == "id_number"


def test_a_birth_date_of_today_or_earlier_is_valid() -> None:
    assert IdNumber.parse(complete_id("37060220250101123")).birth_date == date(2025, 1, 1)


def test_registration_before_birth_is_refused() -> None:
    with pytest.raises(InvalidValue, match="registered before the birth date") as info:
        volunteer(born=date(2010, 5, 1), registered_on=date(2010, 4, 30))
    assert info.value.field == "registered_on"
    assert (
        volunteer(born=date(2010, 5, 1), registered_on=date(2010, 5, 1)).age_on(date(2010, 5, 1))
        == 0
    )


@pytest.mark.parametrize("day", [date(2999, 1, 1), date(1899, 12, 31)])
def test_registration_outside_the_years_the_library_knows_is_refused(day: date) -> None:
    with pytest.raises(InvalidValue) as info:
        volunteer(registered_on=day)
    assert info.value.field == "registered_on"


@pytest.mark.parametrize("skills", [None, 5, b"x", {"a": 1}, [None], [""], ["ok", 3]])
def test_skills_that_are_not_names_are_refused(skills: Any) -> None:
    with pytest.raises(InvalidValue) as info:
        volunteer(skills=skills)
    assert info.value.field == "skills"
