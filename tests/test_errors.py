"""The error hierarchy: one root, leaves that are also the matching built-ins, readable, picklable."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

import zhiyuan
from zhiyuan import errors
from zhiyuan.errors import (
    Conflict,
    InsufficientBalance,
    InvalidInput,
    InvalidValue,
    NotFound,
    PermissionDenied,
    UnknownRegion,
    ZhiyuanError,
)

# Every public error class and the built-in it must also be.
LEAVES: list[tuple[type[ZhiyuanError], type[BaseException]]] = [
    (InvalidValue, ValueError),
    (InvalidInput, ValueError),
    (NotFound, KeyError),
    (UnknownRegion, KeyError),
    (PermissionDenied, PermissionError),
    (Conflict, ValueError),
    (InsufficientBalance, ValueError),
]

# One instance of each, as the library raises them.
SAMPLES: list[ZhiyuanError] = [
    InvalidValue("code", "37x", "区划代码只能包含数字 / digits only"),
    InvalidValue(
        "id_number", "110101199003071234", "校验位错误 / bad check digit", shown="1101********1234"
    ),
    InvalidInput(["int: 1.5: 需要整数 @ $.minutes", "extra fields found (x) @ $"]),
    NotFound("team", "t-42"),
    UnknownRegion("370699000000"),
    UnknownRegion("region", None),
    PermissionDenied("370602 may not certify in 370202 / 无权操作"),
    Conflict("entry r1 already posted with other content / 冲突"),
    InsufficientBalance("volunteer:v1", 50, 12),
]


def test_every_exported_error_is_listed_here() -> None:
    exported = {
        getattr(errors, name)
        for name in errors.__all__
        if isinstance(getattr(errors, name), type)
        and issubclass(getattr(errors, name), BaseException)
    }
    assert exported == {ZhiyuanError, *(cls for cls, _ in LEAVES)}


def test_errors_are_reexported_from_the_package() -> None:
    for name in errors.__all__:
        assert getattr(zhiyuan, name) is getattr(errors, name)


@pytest.mark.parametrize(("cls", "builtin"), LEAVES, ids=lambda x: x.__name__)
def test_leaf_is_a_zhiyuan_error_and_its_builtin(
    cls: type[ZhiyuanError], builtin: type[BaseException]
) -> None:
    assert issubclass(cls, ZhiyuanError)
    assert issubclass(cls, builtin)
    assert cls.__doc__ and cls.__doc__.strip()


def test_unknown_region_is_a_not_found() -> None:
    assert issubclass(UnknownRegion, NotFound)
    with pytest.raises(KeyError):
        raise UnknownRegion("370699000000")


def test_zhiyuan_error_is_not_a_builtin_leaf() -> None:
    assert not issubclass(ZhiyuanError, (ValueError, KeyError, PermissionError))


def test_invalid_value_message_names_field_value_and_reason() -> None:
    err = InvalidValue("minutes", -5, "不能为负数 / must not be negative")
    assert str(err) == "minutes: -5: 不能为负数 / must not be negative"
    assert (err.field, err.value, err.reason, err.shown) == (
        "minutes",
        -5,
        "不能为负数 / must not be negative",
        "-5",
    )


def test_invalid_value_uses_repr_so_strings_are_quoted() -> None:
    assert str(InvalidValue("code", "37x", "bad")) == "code: '37x': bad"


def test_invalid_value_shown_masks_the_value_everywhere() -> None:
    secret = "110101199003071234"
    err = InvalidValue("id_number", secret, "bad", shown="1101********1234")
    assert secret not in str(err)
    assert secret not in repr(err)
    assert "1101********1234" in str(err)
    assert err.value == secret  # the caller still has it


def test_invalid_input_joins_messages_and_keeps_them() -> None:
    err = InvalidInput(["a @ $.x", "b @ $.y"])
    assert str(err) == "a @ $.x; b @ $.y"
    assert err.messages == ["a @ $.x", "b @ $.y"]


def test_invalid_input_copies_its_list() -> None:
    msgs = ["a @ $"]
    err = InvalidInput(msgs)
    msgs.append("b @ $")
    assert err.messages == ["a @ $"]


def test_not_found_message_names_what_and_key() -> None:
    err = NotFound("team", "t-42")
    assert str(err) == "team not found / 未找到: 't-42'"
    assert (err.what, err.key) == ("team", "t-42")


def test_unknown_region_one_argument_form() -> None:
    err = UnknownRegion("370699000000")
    assert str(err) == "region not found / 未找到: '370699000000'"
    assert (err.what, err.key) == ("region", "370699000000")


def test_unknown_region_keeps_a_none_key() -> None:
    err = UnknownRegion("region", None)
    assert (err.what, err.key) == ("region", None)


def _same(a: BaseException, b: BaseException) -> None:
    assert type(a) is type(b)
    assert str(a) == str(b)
    assert a.args == b.args
    assert vars(a) == vars(b)


@pytest.mark.parametrize("err", SAMPLES, ids=lambda e: type(e).__name__)
def test_pickle_round_trip(err: ZhiyuanError) -> None:
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        _same(pickle.loads(pickle.dumps(err, protocol)), err)


@given(
    field=st.text(),
    value=st.one_of(st.none(), st.integers(), st.text(), st.lists(st.integers())),
    reason=st.text(),
    shown=st.one_of(st.none(), st.text()),
)
def test_invalid_value_pickles_any_payload(
    field: str, value: object, reason: str, shown: str | None
) -> None:
    err = InvalidValue(field, value, reason, shown=shown)
    back = pickle.loads(pickle.dumps(err))
    _same(back, err)
    assert back.value == value
    assert str(back) == f"{field}: {repr(value) if shown is None else shown}: {reason}"


@given(messages=st.lists(st.text()))
def test_invalid_input_pickles_any_messages(messages: list[str]) -> None:
    err = InvalidInput(messages)
    _same(pickle.loads(pickle.dumps(err)), err)


@given(
    what=st.text(),
    key=st.one_of(st.none(), st.text(), st.integers(), st.tuples(st.text(), st.integers())),
)
def test_not_found_and_unknown_region_pickle_any_key(what: str, key: object) -> None:
    for err in (NotFound(what, key), UnknownRegion(what, key), UnknownRegion(key)):
        back = pickle.loads(pickle.dumps(err))
        _same(back, err)
        assert back.key == err.key


def test_caught_by_the_builtin_and_by_the_root() -> None:
    from zhiyuan.hierarchy import normalize_code

    with pytest.raises(ValueError):
        normalize_code("37x")
    with pytest.raises(ZhiyuanError):
        normalize_code("37x")


def test_a_value_whose_repr_fails_is_shown_by_its_type() -> None:
    # an int of more than 4 300 digits cannot be repr'd; the error must still be made
    err = InvalidValue("points", 10**5000, "too big")
    assert err.shown == "<int of 16610 bits>"
    assert str(err) == "points: <int of 16610 bits>: too big"

    class Hostile:
        def __repr__(self) -> str:
            raise RuntimeError("no")

    assert InvalidValue("x", Hostile(), "bad").shown == "<Hostile>"
