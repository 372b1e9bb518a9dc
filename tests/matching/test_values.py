"""Every public value class of ``zhiyuan.matching`` refuses a field of the wrong kind when it is
built (issue 14): ``None`` where a value is required, a bool where a number is, text where
something else is, a mapping, a float, an arbitrary object; each as an
:class:`~zhiyuan.errors.InvalidValue` that names the field and the value, never attrs'
``TypeError`` or a failure later inside ``rank``, a batch or a book."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import pytest

from support.matching import VILLAGE, at, need
from zhiyuan.errors import InvalidValue
from zhiyuan.explain import finding
from zhiyuan.hours import Evidence, Recurrence
from zhiyuan.matching import (
    AcceptanceTimes,
    Accepted,
    AssignedPair,
    Assignment,
    AssignmentProblem,
    Availability,
    BatchPair,
    BatchResult,
    Booking,
    CallUpResult,
    Candidate,
    Completed,
    Declined,
    DispatchPolicy,
    DispatchResult,
    Expired,
    FillRate,
    MatchingMetrics,
    Need,
    NeedCallUp,
    NeedCancelled,
    NeedPosted,
    NeedStatus,
    Offered,
    Ranked,
    Rated,
    Rewarded,
    ScoreParts,
    Skill,
    Slot,
    Started,
    Taken,
    Travel,
    Unfilled,
    Urgency,
    UrgencyTier,
    Workload,
)

PARTS = ScoreParts(tree_levels=0, tree=0, meters=None, distance=0, rating=0, reliability=0, load=0)
FILL = FillRate.of(filled=1, posted=2)
TIMES = AcceptanceTimes(count=0, median_minutes=None, p90_minutes=None)
TRAVEL = Travel(count=0, total_m=0, median_m=None, unknown=0)
WORK = Workload(tasks=(), gini_thousandths=0)
N1 = need("n1")
T = at(1, 7)

VALID: dict[type, dict[str, Any]] = {
    Skill: {"name": "医疗"},
    Slot: {"recurrence": Recurrence(rule="FREQ=DAILY", dtstart=at(1, 9)), "minutes": 60},
    Availability: {},
    Candidate: {"id": "c", "home_region": VILLAGE},
    Need: {
        "id": "n1",
        "requester": "r",
        "region_code": VILLAGE,
        "category": "帮老",
        "start": at(1, 9),
        "end": at(1, 11),
        "posted_at": T,
    },
    DispatchPolicy: {},
    ScoreParts: attrs.asdict(PARTS),
    Ranked: {"candidate_id": "a", "cost": 0, "parts": PARTS},
    Booking: {"candidate_id": "a", "need_id": "n", "start": at(1, 9), "end": at(1, 10)},
    DispatchResult: {
        "need_id": "n",
        "ranked": (),
        "level": None,
        "region_code": None,
        "excluded": (("a", finding("dispatch.none")),),
        "trail": (finding("dispatch.none"),),
    },
    BatchPair: {"need_id": "n", "candidate_id": "a", "cost": 0, "parts": PARTS},
    BatchResult: {
        "pairs": (),
        "total_cost": 0,
        "unfilled": {"n": 1},
        "method": "exact",
        "backend": "python",
    },
    AssignedPair: {"need": 0, "candidate": 0, "cost": 0},
    Assignment: {
        "pairs": (),
        "total_cost": 0,
        "filled": 0,
        "slots": 0,
        "unfilled": (),
        "method": "exact",
        "backend": "python",
    },
    AssignmentProblem: {
        "headcounts": [1],
        "capacities": [1],
        "needs": [0],
        "candidates": [0],
        "costs": [1],
        "starts": [0],
        "ends": [1],
        "priorities": [0],
    },
    FillRate: {"filled": 1, "posted": 2},
    AcceptanceTimes: {"count": 1, "median_minutes": 5, "p90_minutes": 5, "minutes": (5,)},
    Travel: {"count": 1, "total_m": 10, "median_m": 10, "unknown": 0},
    Workload: {"tasks": (("a", 1),), "gini_thousandths": 0},
    MatchingMetrics: {"fill": FILL, "acceptance": TIMES, "travel": TRAVEL, "workload": WORK},
    NeedStatus: {"need": N1, "posted_at": T, "last_at": T},
    NeedPosted: {"id": "p", "at": T, "need": N1},
    Offered: {"id": "o", "at": T, "need_id": "n1", "candidate_id": "a"},
    Accepted: {"id": "o", "at": T, "need_id": "n1", "candidate_id": "a"},
    Declined: {"id": "o", "at": T, "need_id": "n1", "candidate_id": "a"},
    Expired: {"id": "o", "at": T, "need_id": "n1", "candidate_id": "a"},
    Started: {"id": "o", "at": T, "need_id": "n1"},
    Completed: {
        "id": "c",
        "at": at(1, 12),
        "need_id": "n1",
        "served": ("a",),
        "start": at(1, 9),
        "end": at(1, 11),
        "evidence": Evidence.SUPERVISOR,
        "organization_id": "o",
    },
    Rated: {"id": "o", "at": T, "need_id": "n1", "stars": 5, "by": "r"},
    Rewarded: {
        "id": "o",
        "at": T,
        "need_id": "n1",
        "candidate_id": "a",
        "points": 1,
        "posting_id": "p",
        "issuer": "i",
    },
    NeedCancelled: {"id": "o", "at": T, "need_id": "n1", "by": "r"},
    Unfilled: {"id": "o", "at": T, "need_id": "n1"},
    Taken: {"id": "o", "at": T, "need_id": "n1", "candidate_id": "a"},
    UrgencyTier: {"urgency": Urgency.NORMAL, "places": 2, "filled": 1},
    NeedCallUp: {"need_id": "n1", "urgency": Urgency.NORMAL, "places": 1, "filled": 0},
    CallUpResult: {"pairs": (), "needs": ()},
}


class _Opaque:
    """An object of no kind the library knows (its repr is fixed, so test ids are stable across
    xdist workers)."""

    def __repr__(self) -> str:
        return "<opaque>"


JUNK: list[object] = [None, True, "x", {"a": 1}, 1.5, _Opaque(), "\ud800"]

ONE_OR_MANY = {(Candidate, "skills"), (Need, "skills"), (Completed, "served")}
"""Fields that take one text for a collection of one."""

NONE_IS_ABSENT = {(AssignmentProblem, "priorities")}
"""Optional fields stored in another form (bytes) whose ``None`` means "not given"."""


def kind_of(field: attrs.Attribute[Any]) -> str:
    """The field's annotation as written (``"str | None"``), resolved or not."""
    t = field.type
    if isinstance(t, str):
        return t
    return t.__name__ if isinstance(t, type) else str(t)


def accepts(cls: type, field: attrs.Attribute[Any], junk: object) -> bool:
    """Whether ``junk`` is a value of the kind the field takes (so not junk for it)."""
    kind = kind_of(field)
    if junk is None:
        return "None" in kind or (cls, field.alias) in NONE_IS_ABSENT
    if junk == "x":  # text: for text fields, and a one-element collection of text
        return kind.startswith("str") or (cls, field.name) in ONE_OR_MANY
    if isinstance(junk, dict):
        return kind.startswith("dict")
    if junk is True:  # a bool: for bool fields only
        return kind.startswith("bool")
    return False  # a bool, a float, an object, a lone surrogate: never


CASES = [
    pytest.param(cls, a.alias, junk, id=f"{cls.__name__}.{a.alias}={junk!r}")
    for cls in VALID
    for a in attrs.fields(cls)
    for junk in JUNK
    if not accepts(cls, a, junk)
]


def test_every_public_value_class_is_covered() -> None:
    import zhiyuan.matching as m

    public = {
        getattr(m, name)
        for name in m.__all__
        if attrs.has(getattr(m, name)) and isinstance(getattr(m, name), type)
    }
    assert public == set(VALID)
    for cls, kwargs in VALID.items():
        cls(**kwargs)  # the valid instance is valid


@pytest.mark.parametrize(("cls", "field", "junk"), CASES)
def test_a_field_of_the_wrong_kind_is_refused_naming_it(
    cls: Callable[..., object], field: str, junk: object
) -> None:
    with pytest.raises(InvalidValue) as err:
        cls(**{**VALID[cls], field: junk})  # type: ignore[index]
    assert err.value.field.startswith(field), err.value
    assert str(err.value).startswith(f"{err.value.field}: ")
