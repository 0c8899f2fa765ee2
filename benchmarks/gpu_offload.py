"""Decode on this machine's GPU: Hearth's engine against llama-cpp-python, interleaved, same settings.

    uv run python -m benchmarks.gpu_offload [--rounds 6] [--tokens 96] [--model FILE ...]

Needs a GPU build of llama.cpp (README, "GPU builds") and a GPU; on a machine without one it says so
and measures nothing. With several GPUs, the local case compares each side's default:
llama-cpp-python spreads the layers over every GPU, Hearth's plan fills the first GPU before it uses
the next; the split case keeps them on the first on both. Each comparison runs Hearth's engine
process beside llama-cpp-python in a process of its own (same file, context and threads; every other
setting llama-cpp-python's default), rounds alternating which goes first; tokens/s counts decode steps
after the first token.

- **local**: a load with no flag, as the window, ``hearth chat`` and ``hearth serve`` make it (the
  engine offloads every layer that fits), against llama-cpp-python with ``n_gpu_layers=-1``, every
  layer on the GPU. Target: >= 0.97.
- **split**: the first half of the layers on the CPU and the rest on the GPU, the head on the GPU
  (Hearth's plan ``host:0-K,host/gpu0:K+1-...``), against llama-cpp-python with the same
  ``n_gpu_layers``. Target: >= 0.97.
- **pooled**: the same model over two of Hearth's workers on this machine, each computing on the GPU
  (``A/gpu0``, ``B/gpu0``), against Hearth's local load: what two RPC hops cost a token on a GPU
  (no target; on loopback, so the network adds nothing).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from benchmarks._common import decode, gpus, median, medium_model, raw_workers, real_model
from benchmarks.engine_overhead import DirectProcess
from hearth.core.plan import HOST, Assignment, Plan, PlanKey, parse_plan, validate
from hearth.core.profile import read_profile
from hearth.engine import messages as m
from hearth.engine.client import EngineClient
from hearth.engine.threads import default_threads

TARGET = 0.97


async def _side_by_side(
    name: str,
    direct: DirectProcess | None,
    engine: EngineClient,
    base: EngineClient | None,
    args: argparse.Namespace,
) -> tuple[float, float]:
    """Median tokens/s of (the other side, Hearth's engine): ``direct``, or Hearth's ``base`` load."""
    await decode(engine, 8)  # warm: the GPU's kernels, the page cache
    if direct is not None:
        await direct.decode(8)
    if base is not None:
        await decode(base, 8)
    sides: dict[str, list[float]] = {"other": [], "hearth": []}
    for r in range(args.rounds):
        for side in ("other", "hearth") if r % 2 == 0 else ("hearth", "other"):
            if side == "hearth":
                tps = await decode(engine, args.tokens)
            elif direct is not None:
                tps = await direct.decode(args.tokens)
            else:
                assert base is not None
                tps = await decode(base, args.tokens)
            sides[side].append(tps)
        print(
            f"  {name} round {r + 1}: other {sides['other'][-1]:8.2f} tok/s   "
            f"Hearth {sides['hearth'][-1]:8.2f} tok/s"
        )
    return median(sides["other"]), median(sides["hearth"])


async def measure(model: Path, args: argparse.Namespace, several: bool) -> list[tuple[str, float, float]]:
    """The three cases on ``model``; ``several``: this machine has more than one GPU."""
    profile = read_profile(str(model))
    n = profile.block_count
    threads = default_threads()
    out = []
    # local: no flag on Hearth's side, every layer on the GPU on llama-cpp-python's.
    direct = DirectProcess(model, threads, args.ctx, gpu_layers=-1)
    engine = EngineClient()
    try:
        await engine.load(m.LoadModel(str(model), n_ctx=args.ctx, n_threads=threads))
        out.append(("local", *await _side_by_side("local", direct, engine, None, args)))
    finally:
        await engine.close()
        direct.close()
    # split: the first half on the CPU, the rest and the head on the GPU, on both sides.
    k = n // 2
    split = parse_plan(f"host:0-{k - 1},host/gpu0:{k}-{n - 1}", n)
    n_gpu_layers, _ = split.llama_params()
    direct = DirectProcess(model, threads, args.ctx, gpu_layers=n_gpu_layers, first_gpu=several)
    engine = EngineClient()
    try:
        await engine.load(m.LoadModel.for_plan(profile, split, args.ctx, threads=threads))
        out.append(("split", *await _side_by_side("split", direct, engine, None, args)))
    finally:
        await engine.close()
        direct.close()
    # pooled: two workers, each on the GPU, against Hearth's local load.
    with raw_workers(2) as workers:
        # Nothing on this device's CPU: every layer on a worker's GPU.
        ranges = (
            Assignment(HOST, 0, 0),
            Assignment(PlanKey("A/gpu0"), 0, k),
            Assignment(PlanKey("B/gpu0"), k, n),
        )
        pooled = validate(Plan(n, ranges))
        engine, base = EngineClient(), EngineClient()
        try:
            await base.load(m.LoadModel(str(model), n_ctx=args.ctx, n_threads=threads))
            await engine.load(
                m.LoadModel.for_plan(profile, pooled, args.ctx, rpc_servers=workers, threads=threads)
            )
            out.append(("pooled", *await _side_by_side("pooled", None, engine, base, args)))
        finally:
            await engine.close()
            await base.close()
    return out


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, action="append", help="a GGUF file (repeatable)")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--tokens", type=int, default=96)
    parser.add_argument("--ctx", type=int, default=1024)
    args = parser.parse_args()
    found = gpus()
    if not found:
        print("no GPU here (or a llama.cpp built without a GPU backend): nothing to measure")
        return 0
    print(f"GPUs: {', '.join(found)}")
    models = args.model or [p for p in (medium_model(), real_model()) if p is not None]
    results: list[tuple[str, str, float, float]] = []
    for model in models:
        print(f"{model.name} ({model.stat().st_size / 2**20:.0f} MiB), {args.tokens} tokens a round")
        results += [(model.name, *r) for r in await measure(model, args, len(found) > 1)]
    print()
    print(f"{'model':<40} {'case':<7} {'other':>12} {'Hearth':>12} {'ratio':>6}")
    for name, case, other, hearth in results:
        print(f"{name:<40} {case:<7} {other:>8.2f} t/s {hearth:>8.2f} t/s {hearth / other:>6.3f}")
    checked = [hearth / other for _, case, other, hearth in results if case != "pooled"]
    worst = min(checked)
    verdict = "met" if worst >= TARGET else "NOT met"
    print(
        f"ratio Hearth/llama-cpp-python on the GPU: {worst:.3f}  "
        f"(worst of {len(checked)}; target >= {TARGET}: {verdict})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
