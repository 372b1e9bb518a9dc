"""Bad arguments to the simulator are refused with InvalidValue, not numpy's errors (issue 14)."""

from __future__ import annotations

from typing import Any

import pytest

from zhiyuan.errors import InvalidValue
from zhiyuan.hierarchy import load_default
from zhiyuan.simulate import CITY_PROFILES
from zhiyuan.simulate.population import generate


@pytest.mark.parametrize("seed", [-1, 2**64, 1.5, "1", None, True])
def test_a_seed_that_is_not_a_non_negative_whole_number_is_refused(seed: Any) -> None:
    with pytest.raises(InvalidValue) as info:
        generate(CITY_PROFILES["shinan"], load_default(), scale=0.001, seed=seed)
    assert info.value.field == "seed"


@pytest.mark.parametrize("scale", [0, -1, 1.5, float("nan"), "0.1", None, True])
def test_a_scale_outside_zero_to_one_is_refused(scale: Any) -> None:
    with pytest.raises(InvalidValue) as info:
        generate(CITY_PROFILES["shinan"], load_default(), scale=scale, seed=1)
    assert info.value.field == "scale"


def test_the_largest_seed_is_accepted() -> None:
    pop = generate(CITY_PROFILES["shinan"], load_default(), scale=0.001, seed=2**63 - 1)
    assert pop.n_volunteers > 0
