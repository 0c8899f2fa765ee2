"""How long the exact auto plan takes for a household at its largest: 8 devices x 80 layers.

    uv run python -m benchmarks.planner_solve [--repeat 5]

Prints the solve time (aim: under 100 ms) and, for scale, the time of llama.cpp's default split rule
(a proportion by memory) computed on the same inputs, whose plan is slower by the printed ratio.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from hearth.core.plan import HOST, PlanKey, even_plan
from hearth.core.planner import DeviceSpec, auto_plan, evaluate
from hearth.core.profile import ModelProfile, shaped_profile

MIB = 2**20


def model(n_layers: int) -> ModelProfile:
    """A 70B-shaped model at about 4.5 bits a weight."""
    return shaped_profile(
        [400 * MIB] * n_layers,
        embedding_length=8192,
        feed_forward_length=28672,
        head_count=64,
        head_count_kv=8,
        vocab_size=128256,
        head_bytes=1000 * MIB,
        name="70B-shaped",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--devices", type=int, default=8)
    parser.add_argument("--layers", type=int, default=80)
    args = parser.parse_args()
    rng = random.Random(7)
    profile = model(args.layers)
    host = DeviceSpec(HOST, 16 * 1024 * MIB, 100e9)
    remotes = [
        DeviceSpec(
            PlanKey(f"device{i}"),
            rng.choice([8, 12, 16, 24, 32]) * 1024 * MIB,
            rng.uniform(20e9, 400e9),
            rng.uniform(0.0005, 0.003),
        )
        for i in range(args.devices - 1)
    ]
    times = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        pred = auto_plan(profile, host, remotes, n_ctx=4096)
        times.append(time.perf_counter() - started)
    ms = statistics.median(times) * 1000
    size = f"{args.devices} devices x {args.layers} layers"
    print(f"{size}: auto plan in {ms:.1f} ms (median of {args.repeat}; aim < 100)")
    print(f"auto plan: {pred.plan}  ->  {pred.tokens_per_s:.2f} tok/s predicted")
    for name, why in pred.left_out.items():
        print(f"  {name}: {why}")
    names = [HOST] + [d.name for d in remotes]
    weights = [float(host.memory_bytes)] + [float(d.memory_bytes) for d in remotes]
    try:
        by_memory = evaluate(profile, host, remotes, even_plan(args.layers, names, weights), n_ctx=4096)
        print(f"split by memory: {by_memory.plan}  ->  {by_memory.tokens_per_s:.2f} tok/s predicted")
        print(f"ratio auto / by memory (predicted): {pred.tokens_per_s / by_memory.tokens_per_s:.2f}")
    except ValueError as exc:
        print(f"split by memory does not fit: {exc}")


if __name__ == "__main__":
    main()
