"""The order of a dataview iteration, as pure arithmetic on positions: the same seed gives the same order in
every process, and any position of the order is computed from a small state (no replay from the start).

An iteration has a snapshot of its items (``DataviewItem``): each (input version, frame) the rules take, with
``seq``, its place in the sequential order (context_id, timestamp, frame id, input), and the first rule that
takes it with ``rule_pos``, its place among that rule's items in the same order. Each item belongs to one
rule, so the rules' item lists are disjoint and together hold every item once.

- ``sequential``: the stream's ``i``-th item is the one with ``seq = i`` (``i mod total`` with repetition).
- ``random``: each rule's items come out in a seeded permutation of its list (a new one each cycle, when
  the iteration repeats), and the rules' streams are merged by weight: a rule's weight is a weight per frame
  (ClearML's: daylight weight 1 and night weight 5 with five times fewer night frames give about as many of
  each), so rule ``r`` of ``n_r`` items gives ``w_r * n_r / sum(w * n)`` of the output. The ``k``-th item of
  rule ``r`` comes at time ``(k + u) / (w_r * n_r)``, ``u`` a seeded number in [0, 1), and the merge takes the
  earliest time first: with equal weights every rule spans the same time, a shuffle of all the items. Without
  repetition a rule that runs out leaves the others the rest, so every item comes out exactly once.

Sharding: worker ``j`` of ``n`` takes the stream's items ``i`` with ``i mod n == j``, so the workers' parts
are disjoint and their union is the stream.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterator
from dataclasses import dataclass

MASK64 = (1 << 64) - 1
_U = float(1 << 64)


def mix(x: int) -> int:
    """SplitMix64's finalizer: a well-spread 64-bit hash of a 64-bit integer."""
    x = (x + 0x9E3779B97F4A7C15) & MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK64
    return x ^ (x >> 31)


def key(*parts: int) -> int:
    value = 0x243F6A8885A308D3
    for part in parts:
        value = mix(value ^ (part & MASK64))
    return value


class Permutation:
    """A seeded bijection of ``range(n)``: a four-round Feistel network on the smallest domain of an even
    number of bits that holds ``n``, walking the cycle until the value falls below ``n`` (the domain is at
    most four times ``n``, so a few steps on average)."""

    def __init__(self, n: int, seed: int) -> None:
        self.n = n
        bits = max(2, (max(n, 1) - 1).bit_length())
        bits += bits % 2
        self.half = bits // 2
        self.low = (1 << self.half) - 1
        self.keys = [key(seed, round_) for round_ in range(4)]

    def _round_trip(self, x: int) -> int:
        left, right = x >> self.half, x & self.low
        for round_key in self.keys:
            left, right = right, left ^ (mix(right ^ round_key) & self.low)
        return (left << self.half) | right

    def __call__(self, index: int) -> int:
        x = index
        while True:
            x = self._round_trip(x)
            if x < self.n:
                return x


@dataclass(frozen=True)
class Plan:
    """What an iteration streams: ``order``, the rules' item counts (``sizes``, disjoint) and weights, the
    seed, whether items repeat, and the stream's length (None: endless)."""

    order: str
    sizes: tuple[int, ...]
    weights: tuple[float, ...]
    seed: int
    repeat: bool
    length: int | None

    @property
    def total(self) -> int:
        return sum(self.sizes)


def stream_length(total: int, sizes: list[int], weights: list[float], *, infinite: bool, limit: int | None,
                  allow_repetition: bool) -> tuple[bool, int | None]:
    """(whether items repeat, how many the stream yields; None for no end). Once: every item once, or
    ``limit`` of them. Infinite: endless, or ``limit``. ``allow_repetition`` (a synthetic epoch, as
    ClearML's SDK has it): repeat, for ``ceil(max_rule_count / normalized weight of that rule)`` items
    unless a ``limit`` is given."""
    if total == 0:
        return False, 0
    if allow_repetition and limit is None:
        mass = sum(w * n for w, n in zip(weights, sizes, strict=True))
        largest = max(range(len(sizes)), key=lambda r: (sizes[r], -weights[r]))
        return True, math.ceil(mass / weights[largest])  # n_max / (w_max * n_max / mass)
    if allow_repetition or infinite:
        return True, limit
    return False, total if limit is None else min(limit, total)


@dataclass
class Position:
    """Where a worker is in the stream: the next stream index ``i`` and, for the random order, the next
    ``k`` of each rule's stream at that index."""

    i: int
    ks: list[int]


def start(plan: Plan) -> Position:
    return Position(0, [0] * len(plan.sizes))


class _Arrivals:
    """``arrival(rule, k)``: when the ``k``-th item of the rule comes, ``(k + u) / (w * n)`` with
    ``u = key(seed, 0x5EED, rule, k) / 2**64`` (the key's prefix per rule worked out once: ``key`` folds)."""

    def __init__(self, plan: Plan) -> None:
        self.bases = [key(plan.seed, 0x5EED, rule) for rule in range(len(plan.sizes))]
        self.rates = [w * n for w, n in zip(plan.weights, plan.sizes, strict=True)]

    def __call__(self, rule: int, k: int) -> float:
        return (k + mix(self.bases[rule] ^ (k & MASK64)) / _U) / self.rates[rule]


def _rule_pos(plan: Plan, rule: int, k: int, permutations: dict) -> int:
    size = plan.sizes[rule]
    cycle, within = divmod(k, size)
    permutation = permutations.get((rule, cycle))
    if permutation is None:
        permutation = permutations[(rule, cycle)] = Permutation(size, key(plan.seed, rule, cycle))
    return permutation(within)


def walk(plan: Plan, position: Position, count: int, worker: int = 0, workers: int = 1
         ) -> tuple[list[tuple[int, int, int]], Position]:
    """The next ``count`` items of worker ``worker``'s part from ``position`` (fewer at the stream's end), as
    (stream index, rule or -1, ``rule_pos`` or ``seq``), and the position after them. Sequential items are
    (i, -1, seq)."""
    out: list[tuple[int, int, int]] = []
    i = position.i
    end = plan.length
    if plan.order == "sequential":
        total = plan.total
        if i % workers != worker:
            i += (worker - i) % workers
        while len(out) < count and (end is None or i < end) and total:
            if not plan.repeat and i >= total:
                break
            out.append((i, -1, i % total))
            i += workers
        return out, Position(i, list(position.ks))
    ks = list(position.ks)
    arrival = _Arrivals(plan)
    heap = []
    for rule, size in enumerate(plan.sizes):
        if size and (plan.repeat or ks[rule] < size):
            heapq.heappush(heap, (arrival(rule, ks[rule]), rule))
    permutations: dict = {}
    while heap and len(out) < count and (end is None or i < end):
        _time, rule = heapq.heappop(heap)
        k = ks[rule]
        if i % workers == worker:
            out.append((i, rule, _rule_pos(plan, rule, k, permutations)))
        ks[rule] = k + 1
        i += 1
        if plan.repeat or k + 1 < plan.sizes[rule]:
            heapq.heappush(heap, (arrival(rule, k + 1), rule))
    if heap and i % workers != worker:
        # Step past the other workers' items, so the position is this worker's next item.
        while heap and i % workers != worker and (end is None or i < end):
            _time, rule = heapq.heappop(heap)
            k = ks[rule]
            ks[rule] = k + 1
            i += 1
            if plan.repeat or k + 1 < plan.sizes[rule]:
                heapq.heappush(heap, (arrival(rule, k + 1), rule))
    return out, Position(i, ks)


def iterate(plan: Plan, worker: int = 0, workers: int = 1, batch: int = 1000) -> Iterator[tuple[int, int, int]]:
    """Every item of worker ``worker``'s part (endless for an endless plan)."""
    position = start(plan)
    while True:
        items, position = walk(plan, position, batch, worker, workers)
        if not items:
            return
        yield from items
