"""Decode speed through Hearth's engine process vs llama-cpp-python called directly, interleaved.

    uv run python -m benchmarks.engine_overhead [--rounds 6] [--tokens 96] [--threads 2]

Both load the same file with the same settings; rounds alternate which side goes first. Tokens/s counts
decode steps after the first token (the first carries the prompt). Target: ratio >= 0.97.
"""

from __future__ import annotations

import argparse
import asyncio
import codecs
import os
import time
from pathlib import Path

import llama_cpp

from benchmarks._common import median, medium_model
from hearth.engine import messages as m
from hearth.engine.client import EngineClient

PROMPT = "Once upon a time, in a house with three computers,"


def direct_decode(llm: llama_cpp.Llama, n: int) -> float:
    prompt = llm.tokenize(PROMPT.encode(), add_bos=True, special=True)
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    produced: list[int] = []
    first = 0.0
    for token in llm.generate(prompt, temp=0.0, repeat_penalty=1.0, reset=True):
        if not first:
            first = time.perf_counter()
        decoder.decode(llm.detokenize([token], prev_tokens=prompt + produced))
        produced.append(token)
        if len(produced) >= n:
            break
    return (n - 1) / (time.perf_counter() - first)


async def engine_decode(client: EngineClient, n: int) -> float:
    """Measured where a caller sees the tokens: on this side of the pipe, not inside the engine."""
    request = m.Generate(0, prompt=PROMPT, max_tokens=n, temperature=0.0, ignore_eos=True)
    arrivals: list[float] = []
    await client.generate(request, lambda t: arrivals.append(time.perf_counter()))
    return (len(arrivals) - 1) / (arrivals[-1] - arrivals[0])


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--tokens", type=int, default=96)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--ctx", type=int, default=1024)
    args = parser.parse_args()
    # Two processes share the cores here; spinning OpenMP threads would steal time from the other side.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    model = args.model or medium_model()
    size = model.stat().st_size / 2**20
    print(f"model: {model} ({size:.0f} MiB), {args.tokens} tokens, {args.threads} threads")

    llm = llama_cpp.Llama(
        str(model), n_ctx=args.ctx, n_threads=args.threads, n_threads_batch=args.threads, verbose=False
    )
    client = EngineClient()
    await client.load(m.LoadModel(str(model), n_ctx=args.ctx, n_threads=args.threads))
    # Warm both sides once (page cache, thread pools) before measuring.
    direct_decode(llm, 8)
    await engine_decode(client, 8)

    direct: list[float] = []
    engine: list[float] = []
    for r in range(args.rounds):
        order = ("direct", "engine") if r % 2 == 0 else ("engine", "direct")
        for side in order:
            if side == "direct":
                direct.append(direct_decode(llm, args.tokens))
            else:
                engine.append(await engine_decode(client, args.tokens))
        print(f"round {r + 1}: direct {direct[-1]:7.2f} tok/s   engine {engine[-1]:7.2f} tok/s")
    await client.close()
    llm.close()
    d, e = median(direct), median(engine)
    print(f"direct llama-cpp-python: {d:.2f} tok/s (median of {len(direct)})")
    print(f"hearth engine process:   {e:.2f} tok/s (median of {len(engine)})")
    print(f"ratio engine/direct:     {e / d:.3f}  (target >= 0.97)")


if __name__ == "__main__":
    asyncio.run(main())
