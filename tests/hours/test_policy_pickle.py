"""Hour policies travel to other processes (a Dask worker, a process pool): pickled, they come back
equal, with the same rule chain, and the columnar path still recognizes their rules."""

from __future__ import annotations

import copy
import pickle
from concurrent.futures import ProcessPoolExecutor

import pytest

from zhiyuan.bulk import check_policy
from zhiyuan.hours import HOUR_PROFILES, HourPolicy, Overflow
from zhiyuan.hours.policy import RULES

POLICIES = [
    HourPolicy(),
    HourPolicy(daily_cap_minutes=480, over_daily_cap=Overflow.TRIM, excluded_categories={"x"}),
    *HOUR_PROFILES.values(),
]


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.name)
def test_a_pickled_policy_is_the_same_policy_with_the_same_chain(policy: HourPolicy) -> None:
    back = pickle.loads(pickle.dumps(policy))
    assert back == policy
    assert [r.id for r in back.rules] == [r.id for r in policy.rules]
    assert all(a is b for a, b in zip(back.rules, policy.rules, strict=True))
    check_policy(back)  # the columnar path knows its rules as the default chain's
    assert copy.deepcopy(policy) == policy


def test_the_default_rules_are_pickled_by_reference() -> None:
    for rule in RULES:
        assert pickle.loads(pickle.dumps(rule)) is rule


def _chain_ids(policy: HourPolicy) -> list[str]:
    check_policy(policy)
    return [r.id for r in policy.rules]


def test_a_policy_crosses_into_a_worker_process() -> None:
    policy = HOUR_PROFILES["guangdong"]
    with ProcessPoolExecutor(max_workers=1) as pool:
        assert pool.submit(_chain_ids, policy).result() == [r.id for r in policy.rules]
