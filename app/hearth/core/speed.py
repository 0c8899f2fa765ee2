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
    """Least squares over the chosen columns of [GB, layers, 1]; None when the probes cannot tell
    those costs apart (fewer probes than costs, or shapes that make the columns dependent)."""
    import numpy as np  # here: the CLI's quick commands never need it

    # In GB, so that no column dwarfs the others.
    full = np.array([[t.bytes / _GB, float(t.layers), 1.0] for t in timings])[:, list(columns)]
    seconds = np.array([t.seconds for t in timings])
    solved, _, rank, _ = np.linalg.lstsq(full, seconds, rcond=None)
    return [float(v) for v in solved] if rank == len(columns) else None
