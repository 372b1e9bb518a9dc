"""Every count, cap, day, month and year field of a policy is bounded: a value that could later
overflow a date or a product is refused at construction, naming the field (issue 14)."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from zhiyuan.credit.catalog import Item
from zhiyuan.credit.conversion import ConversionPolicy, Tier
from zhiyuan.credit.creditscore import CreditScorePolicy, HourTier
from zhiyuan.credit.timebank_policy import TimeBankPolicy
from zhiyuan.errors import InvalidValue, ZhiyuanError
from zhiyuan.scoring.feedback import BayesianPrior
from zhiyuan.scoring.scorecards import Band, Indicator

VALID: dict[str, Any] = {
    "ConversionPolicy": ConversionPolicy(),
    "Tier": Tier(),
    "CreditScorePolicy": CreditScorePolicy(),
    "HourTier": HourTier(),
    "TimeBankPolicy": TimeBankPolicy(),
    "BayesianPrior": BayesianPrior(),
    "Item": Item(id="i1", name="雨伞", price=10),
    "Indicator": Indicator(id="x", name="时长", name_en="hours", weight=10, target=5),
    "Band": Band(min_points=60, label="合格"),
}

FIELDS = [
    ("ConversionPolicy", "points_per_hour", 10_001),
    ("ConversionPolicy", "hours_per_point", 0),
    ("ConversionPolicy", "daily_cap", 10**12),
    ("ConversionPolicy", "monthly_cap", 0),
    ("ConversionPolicy", "yearly_cap", -5),
    ("ConversionPolicy", "lifetime_cap", 10**30),
    ("ConversionPolicy", "pending_days", 3_000_000),
    ("ConversionPolicy", "expiry_years", 10_000),
    ("ConversionPolicy", "expiry_months", 1_000_000),
    ("ConversionPolicy", "expiry_days", 10**9),
    ("Tier", "up_to_hours", 10**12),
    ("Tier", "hours_per_point", 10**6),
    ("CreditScorePolicy", "yearly_cap", 10**12),
    ("CreditScorePolicy", "total_cap", 0),
    ("CreditScorePolicy", "scale", 10**15),
    ("HourTier", "hours", 10**12),
    ("HourTier", "hours_per_step", 0),
    ("HourTier", "points_per_step", -1),
    ("TimeBankPolicy", "minutes_per_credit", 1441),
    ("TimeBankPolicy", "daily_deposit_cap", 10**12),
    ("TimeBankPolicy", "storage_cap", 0),
    ("TimeBankPolicy", "lifetime_cap", 10**12),
    ("BayesianPrior", "weight", 10**12),
    ("Item", "price", 10**12),
    ("Item", "stock", -1),
    ("Item", "min_star_level", 101),
    ("Item", "limit", 0),
    ("Indicator", "weight", 10**12),
    ("Indicator", "target", -1),
    ("Band", "min_points", 10**12),
]


@pytest.mark.parametrize(("cls", "field", "value"), FIELDS)
def test_an_out_of_range_field_is_refused_by_name(cls: str, field: str, value: int) -> None:
    with pytest.raises(InvalidValue) as caught:
        attrs.evolve(VALID[cls], **{field: value})
    assert caught.value.field == field
    assert str(value) in str(caught.value)


@pytest.mark.parametrize(("cls", "field"), sorted({(c, f) for c, f, _ in FIELDS}))
@pytest.mark.parametrize("value", [True, 1.5, "7", [1]])
def test_a_bounded_field_of_the_wrong_type_is_refused(cls: str, field: str, value: Any) -> None:
    with pytest.raises(ZhiyuanError) as caught:
        attrs.evolve(VALID[cls], **{field: value})
    assert field in str(caught.value)


REQUIRED = sorted(
    {(c, f) for c, f, _ in FIELDS if attrs.fields_dict(type(VALID[c]))[f].default is not None}
)


@pytest.mark.parametrize(("cls", "field"), REQUIRED)
def test_none_is_refused_where_the_field_is_not_optional(cls: str, field: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        attrs.evolve(VALID[cls], **{field: None})
    assert caught.value.field == field


@pytest.mark.parametrize(("cls", "field"), sorted({(c, f) for c, f, _ in FIELDS} - set(REQUIRED)))
def test_none_means_no_limit_where_the_field_is_optional(cls: str, field: str) -> None:
    assert getattr(attrs.evolve(VALID[cls], **{field: None}), field) is None
