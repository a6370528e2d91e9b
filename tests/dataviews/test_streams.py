"""The order of an iteration (dataviews.streams) against brute force: the seeded permutation is a bijection,
the weighted merge is the global sort of every item's arrival time, shards are disjoint and complete,
batches resumed from returned positions give the same stream, and a seed gives the same order in another
process."""

import itertools
import json
import math
import subprocess
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from dataviews import streams
from dataviews.streams import Permutation, Plan, Position, iterate, stream_length, walk

ROOT = Path(__file__).resolve().parents[2]


@given(st.integers(1, 600), st.integers(0, 2**31 - 1))
def test_a_permutation_is_a_bijection(n, seed):
    assert sorted(Permutation(n, seed)(i) for i in range(n)) == list(range(n))


def test_permutations_differ_by_seed():
    orders = {tuple(Permutation(50, seed)(i) for i in range(50)) for seed in range(20)}
    assert len(orders) == 20
    assert tuple(range(50)) not in orders


def _reference(plan: Plan) -> list[tuple[int, int, int]]:
    """Every item's arrival time, sorted: what the merge must yield, in full."""
    if plan.order == "sequential":
        length = plan.length if plan.length is not None else plan.total
        return [(i, -1, i % plan.total) for i in range(length)] if plan.total else []
    arrivals = []
    for rule, size in enumerate(plan.sizes):
        if not size:
            continue
        # Enough of each rule's stream to cover the plan's length (it can take at most all of them).
        count = size if not plan.repeat else plan.length
        for k in range(count):
            u = streams.key(plan.seed, 0x5EED, rule, k) / float(1 << 64)
            cycle, within = divmod(k, size)
            pos = Permutation(size, streams.key(plan.seed, rule, cycle))(within)
            arrivals.append(((k + u) / (plan.weights[rule] * size), rule, pos))
    arrivals.sort()
    length = plan.length if plan.length is not None else len(arrivals)
    return [(i, rule, pos) for i, (_t, rule, pos) in enumerate(arrivals[:length])]


plans = st.builds(
    lambda order, sizes, weights, seed, repeat, length: Plan(
        order, tuple(sizes), tuple(weights[: len(sizes)] + [1.0] * (len(sizes) - len(weights))), seed, repeat,
        (length if repeat else min(length, sum(sizes))) if sum(sizes) else 0),
    st.sampled_from(["sequential", "random"]),
    st.lists(st.integers(0, 40), min_size=1, max_size=4),
    st.lists(st.sampled_from([0.5, 1.0, 2.0, 5.0, 7.25]), max_size=4),
    st.integers(0, 2**31 - 1),
    st.booleans(),
    st.integers(0, 150),
)


@settings(max_examples=200, deadline=None)
@given(plans)
def test_the_merge_is_the_sorted_arrivals(plan):
    assert list(iterate(plan, batch=7)) == _reference(plan)


@settings(max_examples=150, deadline=None)
@given(plans, st.integers(1, 5), st.lists(st.integers(1, 9), min_size=1, max_size=6))
def test_shards_are_disjoint_and_complete_and_resume_from_positions(plan, workers, sizes):
    whole = list(iterate(plan))
    parts = []
    for worker in range(workers):
        part, position = [], streams.start(plan)
        for size in itertools.cycle(sizes):  # batches of varying sizes, each resumed from the returned position
            items, position = walk(plan, Position(position.i, list(position.ks)), size, worker, workers)
            if not items:
                break
            part += items
        assert [i for i, _r, _p in part] == [i for i, _r, _p in whole if i % workers == worker]
        parts += part
    assert sorted(parts) == whole


def test_without_repetition_every_item_comes_once():
    plan = Plan("random", (30, 5, 0, 12), (1.0, 5.0, 3.0, 0.5), 99, False, 47)
    items = list(iterate(plan))
    assert len(items) == 47
    assert sorted((r, p) for _i, r, p in items) == sorted(
        (r, p) for r, n in enumerate(plan.sizes) for p in range(n))


def test_weights_set_each_rule_share():
    """Daylight weight 1 and night weight 5 with five times fewer night frames: about as many of each."""
    plan = Plan("random", (500, 100), (1.0, 5.0), 1234, True, 1200)
    items = list(iterate(plan))
    night = sum(1 for _i, rule, _p in items if rule == 1)
    assert abs(night / len(items) - 1 / 2) < 0.01
    # Equal weights: a shuffle of all the items, each rule in proportion to its size all along.
    once = Plan("random", (500, 100), (1.0, 1.0), 1234, False, 600)
    first = list(iterate(once))[:150]
    assert abs(sum(1 for _i, r, _p in first if r == 1) - 25) <= 2


def test_stream_length():
    # Once: every item; a limit shortens it. Infinite: endless unless limited.
    assert stream_length(120, [100, 20], [1, 5], infinite=False, limit=None, allow_repetition=False) == (False, 120)
    assert stream_length(120, [100, 20], [1, 5], infinite=False, limit=50, allow_repetition=False) == (False, 50)
    assert stream_length(120, [100, 20], [1, 5], infinite=False, limit=500, allow_repetition=False) == (False, 120)
    assert stream_length(120, [100, 20], [1, 5], infinite=True, limit=None, allow_repetition=False) == (True, None)
    assert stream_length(120, [100, 20], [1, 5], infinite=True, limit=900, allow_repetition=False) == (True, 900)
    # A synthetic epoch: ceil(max_rule_count / normalized weight of that rule), the normalized weight being
    # the rule's share of the output: 100 / (100 / 200).
    assert stream_length(120, [100, 20], [1, 5], infinite=False, limit=None, allow_repetition=True) == (True, 200)
    assert stream_length(11, [7, 4], [2, 5], infinite=False, limit=None, allow_repetition=True) == (
        True, math.ceil(7 / (14 / 34)))
    assert stream_length(0, [0], [1], infinite=True, limit=None, allow_repetition=False) == (False, 0)


def test_the_same_seed_gives_the_same_order_in_another_process():
    plan = Plan("random", (40, 17, 9), (1.0, 2.5, 4.0), 20261204, True, 200)
    here = [list(item) for item in iterate(plan, worker=1, workers=3)]
    code = ("import json, sys; from dataviews.streams import Plan, iterate; "
            "plan = Plan('random', (40, 17, 9), (1.0, 2.5, 4.0), 20261204, True, 200); "
            "print(json.dumps([list(i) for i in iterate(plan, worker=1, workers=3)]))")
    for hash_seed in ("0", "12345"):
        out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                             env={"PYTHONHASHSEED": hash_seed, "PATH": "/usr/bin:/bin"})
        assert json.loads(out.stdout) == here
    other = Plan("random", (40, 17, 9), (1.0, 2.5, 4.0), 20261205, True, 200)
    assert [list(item) for item in iterate(other, worker=1, workers=3)] != here
