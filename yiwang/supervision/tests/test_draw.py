"""The draw algorithm: deterministic, and no rule ever broken (hypothesis)."""

import hashlib
import hmac

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yiwang.lib.uscc import make_credit_code
from yiwang.supervision import draw

TIER = st.sampled_from(draw.TIERS)


@st.composite
def draw_inputs(draw_, feasible: bool = True):
    n = draw_(st.integers(min_value=1, max_value=60))
    entities = [(make_credit_code("610102", 1000 + i), draw_(TIER)) for i in range(n)]
    k = draw_(st.integers(min_value=2, max_value=4))
    pool = [f"I{i}" for i in range(draw_(st.integers(min_value=k, max_value=k + 6)))]
    ratios = {t: draw_(st.integers(min_value=0, max_value=draw.MAX_BASIS_POINTS)) for t in draw.TIERS}
    ratios[entities[0][1]] = max(ratios[entities[0][1]], 1)  # the ratios take somebody
    conflicts = []
    for code, _tier in entities:
        barred = draw_(st.lists(st.sampled_from(pool), max_size=len(pool) - k, unique=True))
        conflicts += [(i, code) for i in barred]
    inputs = draw.make_inputs(
        plan=1, ratios=ratios, k=k, entities=entities, inspectors=pool, conflicts=conflicts
    )
    seed = draw_(st.binary(min_size=32, max_size=32)).hex()
    return inputs, seed


@settings(max_examples=150, deadline=None)
@given(draw_inputs())
def test_replaying_any_draw_gives_the_same_result_and_breaks_no_rule(case):
    inputs, seed = case
    first = draw.run(inputs, seed)
    replayed = draw.run(draw.unpack(draw.pack(inputs)), seed)
    assert replayed == first
    assert draw.violations(inputs, first) == []


@settings(max_examples=50, deadline=None)
@given(draw_inputs(), st.binary(min_size=32, max_size=32))
def test_each_entity_is_drawn_at_most_once_whatever_the_seed(case, other_seed):
    inputs, _seed = case
    result = draw.run(inputs, other_seed.hex())
    assert len({a.credit_code for a in result}) == len(result)


def test_too_few_inspectors_free_of_conflict_is_a_problem_before_any_seed():
    entities = [(make_credit_code("610102", 1), "B")]
    inputs = draw.make_inputs(
        plan=1,
        ratios={"B": 10000},
        k=2,
        entities=entities,
        inspectors=["I1", "I2"],
        conflicts=[("I1", entities[0][0])],
    )
    assert draw.problems(inputs) == [("short", [entities[0][0]])]
    with pytest.raises(draw.DrawInfeasibleError):
        draw.run(inputs, "00" * 32)


def test_ratios_that_take_nobody_and_a_small_pool_are_problems():
    entities = [(make_credit_code("610102", 1), "A")]
    assert ("empty", None) in draw.problems(
        draw.make_inputs(
            plan=1, ratios={"B": 100}, k=2, entities=entities, inspectors=["I1", "I2"], conflicts=[]
        )
    )
    assert ("pool", 1) in draw.problems(
        draw.make_inputs(plan=1, ratios={"A": 100}, k=2, entities=entities, inspectors=["I1"], conflicts=[])
    )


def test_the_ranks_are_standard_hmac_sha256():
    key = bytes(range(32))
    assert draw.ranks(key, b"entity:", ["91610102MA6TEST01X"]) == [
        hmac.digest(key, b"entity:91610102MA6TEST01X", "sha256")
    ]
    long_key = b"k" * 100
    assert draw.hmac_sha256(long_key, b"m") == hmac.new(long_key, b"m", hashlib.sha256).digest()


def test_the_seed_needs_a_tree_head_after_the_commitment():
    args = {"plan": 1, "inputs_digest": "ab", "timestamp": 1, "root_hash": b"r" * 32}
    with pytest.raises(ValueError, match="commitment"):
        draw.derive_seed(commit_leaf_index=9, tree_size=9, **args)
    assert draw.derive_seed(commit_leaf_index=9, tree_size=10, **args) != draw.derive_seed(
        commit_leaf_index=9, tree_size=11, **args
    )


def test_a_ratio_above_zero_takes_at_least_one_and_quotas_round_up():
    assert (
        draw.quota(1, 1) == 1
        and draw.quota(10, 500) == 1
        and draw.quota(21, 500) == 2
        and draw.quota(5, 0) == 0
    )


@settings(max_examples=100, deadline=None)
@given(st.lists(st.binary(min_size=32, max_size=40), min_size=1, max_size=3000), st.integers(1, 3000))
def test_taking_the_smallest_ranks_equals_sorting_them_all(values, m):
    assert draw._smallest(list(values), m) == sorted(values)[:m]


def test_the_smallest_of_many_uniform_ranks_come_from_the_bounded_path():
    values = draw.ranks(b"s" * 32, b"entity:", [str(i) for i in range(20_000)], tagged=True)
    assert draw._smallest(list(values), 200) == sorted(values)[:200]
