"""The :class:`~zhiyuan.bulk.Columns` constructor checks what it is given (issue 14)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from zhiyuan.bulk import Columns
from zhiyuan.errors import InvalidValue


def _encoded(**over: Any) -> dict[str, Any]:
    cols = Columns.of(
        {"volunteer": ["v1", "v2"], "start": [0, 60], "evidence": ["gps", "qr_scan"]}
        | {"category": ["助老", "环保"]}
    )
    base = {
        "volunteer": cols.volunteer,
        "volunteer_ids": cols.volunteer_ids,
        "start": cols.start,
        "evidence": cols.evidence,
        "category": cols.category,
        "categories": cols.categories,
    }
    return base | over


def test_encoded_columns_rebuild_what_of_built() -> None:
    cols = Columns(**_encoded())
    assert cols.volunteer_ids.tolist() == ["v1", "v2"]
    assert cols.categories == ("助老", "环保")


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("volunteer", None),
        ("volunteer", "v1"),
        ("volunteer", [0, 1]),
        ("volunteer", np.array([[0, 1]])),
        ("volunteer", np.array([0.0, 1.0])),
        ("volunteer_ids", 0),
        ("start", [0, 60]),
        ("start", np.array(["0", "60"])),
        ("evidence", np.array([0, 1], dtype=np.int32)),
        ("evidence", "gps"),
        ("checkout_missing", np.array([0, 1])),
        ("categories", None),
        ("categories", "助老"),
        ("categories", (1, 2)),
    ],
)
def test_a_wrong_column_is_an_invalid_value_naming_it(field: str, bad: object) -> None:
    with pytest.raises(InvalidValue) as info:
        Columns(**_encoded(**{field: bad}))
    assert info.value.field == field
