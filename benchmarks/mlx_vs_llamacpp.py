"""MLX and llama.cpp side by side on this machine, and MLX through Hearth's engine vs mlx-lm alone.

    uv run python -m benchmarks.mlx_vs_llamacpp [--rounds 6] [--tokens 96]

Two random-weight models of one shape (llama, 8 layers, 512 wide, grouped-query attention, 4k
vocabulary, f16): an MLX folder and a GGUF file. Four sides, rounds interleaved: mlx-lm in its own
process (what a Mac user would otherwise run), MLX through Hearth's engine process, llama-cpp-python in
its own process, llama.cpp through Hearth's engine. On a Mac the MLX/llama.cpp columns say which to
pick; on Linux (mlx[cpu]) they check the plumbing. Target: Hearth-MLX / mlx-lm >= 0.97.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from benchmarks._common import CACHE, decode, median
from benchmarks.engine_overhead import DirectProcess
from hearth.engine import messages as m
from hearth.engine.client import EngineClient
from hearth.engine.threads import default_threads
from hearth.models import synthetic, synthetic_mlx

TARGET = 0.97
SHAPE = replace(
    synthetic.TINY,
    name="mlx-twin",
    n_layer=8,
    n_embd=512,
    n_ff=1408,
    n_head=8,
    n_head_kv=4,
    n_vocab=4096,
    n_ctx=2048,
)


class MlxDirect(DirectProcess):
    def __init__(self, model: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks._mlx_direct", "serve", "--model", str(model)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        if "ready" not in self._answer():
            raise RuntimeError("mlx-lm did not load the model")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--tokens", type=int, default=96)
    parser.add_argument("--ctx", type=int, default=1024)
    args = parser.parse_args()
    folder = CACHE / "mlx-small"
    if not (folder / "model.safetensors").exists():
        synthetic_mlx.write_model(folder, synthetic_mlx.SMALL)
    gguf = synthetic.ensure_model(CACHE, SHAPE)
    threads = default_threads()
    mlx_direct, llama_direct = MlxDirect(folder), DirectProcess(gguf, threads, args.ctx)
    mlx_engine, llama_engine = EngineClient(), EngineClient()
    sides: dict[str, list[float]] = {
        "mlx-lm": [],
        "Hearth MLX": [],
        "llama-cpp-python": [],
        "Hearth llama.cpp": [],
    }
    try:
        await mlx_engine.load(m.LoadModel(str(folder), n_ctx=args.ctx, backend="mlx"))
        await llama_engine.load(m.LoadModel(str(gguf), n_ctx=args.ctx, n_threads=threads))
        runs = {
            "mlx-lm": lambda n: mlx_direct.decode(n),
            "Hearth MLX": lambda n: decode(mlx_engine, n),
            "llama-cpp-python": lambda n: llama_direct.decode(n),
            "Hearth llama.cpp": lambda n: decode(llama_engine, n),
        }
        for run in runs.values():
            await run(8)  # warm every side once
        order = list(runs)
        for r in range(args.rounds):
            for side in order if r % 2 == 0 else reversed(order):
                sides[side].append(await runs[side](args.tokens))
            print("  round", r + 1, "  ".join(f"{k} {v[-1]:7.1f}" for k, v in sides.items()))
    finally:
        await mlx_engine.close()
        await llama_engine.close()
        mlx_direct.close()
        llama_direct.close()
    result = {k: median(v) for k, v in sides.items()}
    print()
    for side, tps in result.items():
        print(f"{side:<18} {tps:8.1f} tokens/s")
    ratio = result["Hearth MLX"] / result["mlx-lm"]
    print(f"MLX vs llama.cpp through Hearth: {result['Hearth MLX'] / result['Hearth llama.cpp']:.2f}×")
    verdict = "met" if ratio >= TARGET else "NOT met"
    print(f"ratio Hearth MLX / mlx-lm: {ratio:.3f}  (target >= {TARGET}: {verdict})")
    print(json.dumps({"ratio": ratio, **result}))


if __name__ == "__main__":
    asyncio.run(main())
