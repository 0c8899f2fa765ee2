"""How fast a device decodes, as a sum of three costs a token pays there.

Reading the weights is most of a token's time on a large model, so the planner's first unit is weight
bytes per second. But every layer also costs a fixed amount whatever its size (each of its dozen
operations hands work to the threads and waits for them: tens of microseconds a time on a CPU,
a kernel launch on a GPU), and every token a little more (the graph, the sampler). A probe on one model
folds those into its bytes per second, which is then right for models shaped like the probe and wrong
for others: on a CPU whose threads sleep between operations, a 1024-wide probe read 12 GB/s while a
2048-wide model of the same machine read 23 GB/s. So the speed is fitted to probes of different shapes:
``seconds(token) = token_s + layers · layer_s + bytes / bytes_per_s``.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

_GB = 1e9


@dataclass(frozen=True)
class Timing:
    """One probe: a model of ``layers`` layers reading ``bytes`` of weights took ``seconds`` a token."""

    layers: int
    bytes: float
    seconds: float


@dataclass(frozen=True)
class Speed:
    bytes_per_s: float  # weight bytes read per second, beyond the fixed costs
    layer_s: float = 0.0  # what each layer costs whatever its weights
    token_s: float = 0.0  # what each token costs whatever its layers

    def seconds(self, layers: int, read: float) -> float:
        """What a token costs through ``layers`` layers reading ``read`` bytes, fixed costs included."""
        return self.token_s + layers * self.layer_s + read / self.bytes_per_s


def fit(timings: Sequence[Timing]) -> Speed:
    """The speed that explains ``timings`` best with no cost below zero: all three costs where the
    probes tell them apart, fewer where they do not (or where noise would make one negative), and at
    worst the bytes per second of the largest probe alone."""
    if not timings:
        raise ValueError("no probe timings")
    # Unknowns: 1/bytes_per_s (always), then layer_s and token_s, each kept only if it comes out >= 0.
    for extra in ((1, 2), (1,), (2,), ()):
        columns = (0, *extra)
        solved = _least_squares(timings, columns)
        if solved is None or any(v < 0 for v in solved) or solved[0] <= 0:
            continue
        values = dict(zip(columns, solved, strict=True))
        return Speed(_GB / values[0], values.get(1, 0.0), values.get(2, 0.0))
    largest = max(timings, key=lambda t: t.bytes)
    return Speed(largest.bytes / largest.seconds)


def _least_squares(timings: Sequence[Timing], columns: tuple[int, ...]) -> list[float] | None:
    """Solve the normal equations for the chosen columns of [GB, layers, 1]; None if singular."""

    def row(t: Timing) -> list[float]:
        full = [t.bytes / _GB, float(t.layers), 1.0]  # in GB, so that no column dwarfs the others
        return [full[c] for c in columns]

    rows = [row(t) for t in timings]
    n = len(columns)
    if len(rows) < n:
        return None
    a = [[sum(r[i] * r[j] for r in rows) for j in range(n)] for i in range(n)]
    b = [sum(r[i] * t.seconds for r, t in zip(rows, timings, strict=True)) for i in range(n)]
    return _solve(a, b)


def _solve(a: list[list[float]], b: list[float]) -> list[float] | None:
    """Gaussian elimination with partial pivoting; None when the system is (nearly) singular."""
    n = len(b)
    m = [[*a[i], b[i]] for i in range(n)]
    scale = max((abs(v) for v in itertools.chain.from_iterable(a)), default=0.0)
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(m[r][col]))
        if abs(m[pivot][col]) <= 1e-12 * max(scale, 1e-300):
            return None
        m[col], m[pivot] = m[pivot], m[col]
        for r in range(n):
            if r != col:
                f = m[r][col] / m[col][col]
                m[r] = [x - f * y for x, y in zip(m[r], m[col], strict=True)]
    return [m[i][n] / m[i][i] for i in range(n)]
