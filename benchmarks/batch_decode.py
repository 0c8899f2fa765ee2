"""Several answers decoded together (continuous batching) vs one stream, side by side, interleaved.

    uv run python -m benchmarks.batch_decode [--rounds 3] [--tokens 64] [--streams 4] [--pooled]
                                             [--model FILE ...]

One stream is what a user would otherwise run: llama-cpp-python with its defaults in a process of its
own, started as Hearth's engine is (same environment, threads, context per answer), answering one
request after another. Against it, Hearth's engine loaded for ``--streams`` answers at once answers
that many greedy requests together; its aggregate decode speed is every stream's tokens after its
first (the first carries the prompt) over the time from the first stream's first token to the last
stream's last one. The same engine answering one stream alone is printed too (the batched runtime's
cost when nobody shares it). Time to first token of a request that arrives mid-batch (the others
decoding) is measured from the moment it is sent, against the same request on an idle engine.
Rounds alternate which side goes first. Target (issue #32): 4 streams >= 2.5x one stream.

``--pooled`` runs both sides over two of Hearth's RPC workers each (a third of the layers on this
device, a third on each worker): one stream is then the engine as it answered before batching (one
answer at a time, the same plan), on workers of its own, since a worker serves one host at a time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
from pathlib import Path

from benchmarks._common import (
    CACHE,
    PROMPT,
    gpus,
    median,
    medium_model,
    raw_workers,
    real_model,
    share_cores,
    thirds_load,
)
from benchmarks.engine_overhead import DirectProcess
from harness.real_pair import widened
from hearth.engine import messages as m
from hearth.engine.client import EngineClient
from hearth.engine.threads import default_threads

TARGET = 2.5
# Different prompts, so that no stream is a copy of another.
PROMPTS = [
    PROMPT,
    "The three best things about a home-made loaf of bread are",
    "A short note to the neighbours about the party on Saturday:",
    "def merge_sorted(a, b):",
    "Twelve facts about octopuses, one per line:",
    "The recipe for a lemon cake begins with",
    "Dear diary, today the router finally",
    "In the beginning there was only the kitchen table, and",
]


class _Stream:
    def __init__(self) -> None:
        self.sent = 0.0
        self.first = 0.0
        self.last = 0.0
        self.tokens = 0
        self.decoding = asyncio.Event()  # set at its second token: past its prompt

    def on_token(self, token: m.Token) -> None:
        now = time.perf_counter()
        if token.id < 0:
            return
        self.first = self.first or now
        self.last = now
        self.tokens += 1
        if self.tokens == 2:
            self.decoding.set()


async def _one(engine: EngineClient, prompt: str, n: int, stream: _Stream | None = None) -> _Stream:
    stream = stream or _Stream()
    stream.sent = time.perf_counter()
    request = m.Generate(0, prompt=prompt, max_tokens=n, temperature=0.0, ignore_eos=True)
    await engine.generate(request, stream.on_token)
    return stream


async def together(engine: EngineClient, streams: int, n: int) -> float:
    """Aggregate decode tokens/s of ``streams`` greedy answers sent at once."""
    done = await asyncio.gather(*(_one(engine, PROMPTS[i % len(PROMPTS)], n) for i in range(streams)))
    start = min(s.first for s in done)
    end = max(s.last for s in done)
    return sum(s.tokens - 1 for s in done) / (end - start)


async def alone(engine: EngineClient, n: int) -> float:
    s = await _one(engine, PROMPT, n)
    return (s.tokens - 1) / (s.last - s.first)


async def ttft_mid_batch(engine: EngineClient, others: int, n: int) -> tuple[float, float]:
    """(time to first token alone, the same with ``others`` answers decoding), in seconds."""
    idle = await _one(engine, PROMPTS[-1], 2)
    streams = [_Stream() for _ in range(others)]
    running = [asyncio.create_task(_one(engine, PROMPTS[i], n, s)) for i, s in enumerate(streams)]
    await asyncio.wait_for(asyncio.gather(*(s.decoding.wait() for s in streams)), 120)
    late = await _one(engine, PROMPTS[-1], 2)
    await asyncio.gather(*running)
    return idle.first - idle.sent, late.first - late.sent


class _OneAtATime:
    """The engine as it answered before batching: the "one stream" side of a pooled run."""

    def __init__(self, engine: EngineClient) -> None:
        self.engine = engine

    async def decode(self, n: int) -> float:
        return await alone(self.engine, n)

    def close(self) -> None:
        pass


async def measure(model: Path, args: argparse.Namespace) -> dict[str, float]:
    threads = args.threads or default_threads()
    with contextlib.ExitStack() as stack:
        before: EngineClient | None = None
        if args.pooled:
            # A worker serves one host at a time: each side has two of its own.
            mine, theirs = stack.enter_context(raw_workers(2)), stack.enter_context(raw_workers(2))
            before = EngineClient()
            await before.load(thirds_load(model, args.ctx, threads, theirs, 1))
            one: DirectProcess | _OneAtATime = _OneAtATime(before)
            load = thirds_load(model, args.ctx, threads, mine, args.streams)
        else:
            # On a GPU build with a GPU, Hearth's engine offloads every layer that fits unasked;
            # llama-cpp-python only when told, so it is told to.
            one = DirectProcess(model, threads, args.ctx, gpu_layers=-1 if gpus() else None)
            load = m.LoadModel(str(model), n_ctx=args.ctx, n_threads=threads, parallel=args.streams)
        try:
            return await _measure(one, load, args)
        finally:
            one.close()
            if before is not None:
                await before.close()
    raise AssertionError("unreachable")


async def _measure(
    one: DirectProcess | _OneAtATime, load: m.LoadModel, args: argparse.Namespace
) -> dict[str, float]:
    engine = EngineClient()
    try:
        await engine.load(load)
        await one.decode(8)
        await together(engine, args.streams, 8)
        sides: dict[str, list[float]] = {"one": [], "alone": [], "batch": []}
        order = ["one", "alone", "batch"]
        for r in range(args.rounds):
            for side in order if r % 2 == 0 else order[::-1]:
                if side == "one":
                    tps = await one.decode(args.tokens)
                elif side == "alone":
                    tps = await alone(engine, args.tokens)
                else:
                    tps = await together(engine, args.streams, args.tokens)
                sides[side].append(tps)
            print(
                f"  round {r + 1}: one stream before {sides['one'][-1]:7.2f} tok/s   "
                f"Hearth 1 stream {sides['alone'][-1]:7.2f} tok/s   "
                f"Hearth {args.streams} streams {sides['batch'][-1]:7.2f} tok/s"
            )
        ttfts = [await ttft_mid_batch(engine, args.streams - 1, args.tokens) for _ in range(args.rounds)]
    finally:
        await engine.close()
    return {
        "one": median(sides["one"]),
        "alone": median(sides["alone"]),
        "batch": median(sides["batch"]),
        "ttft_idle": median([t[0] for t in ttfts]),
        "ttft_mid": median([t[1] for t in ttfts]),
    }


def _default_models() -> list[Path]:
    """SmolLM2 as shipped (Q4_1: on a few CPU cores its pass is bound by arithmetic, which grows with
    the answers a pass carries), SmolLM2 at F16 (a pass bound by reading the weights, as a large model's
    is everywhere and a pooled one's always) and the medium synthetic model."""
    real = real_model()
    models = [] if real is None else [real, widened(real, CACHE / "smollm2-135m-f16.gguf", "F16")]
    return [*models, medium_model()]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, action="append", help="a GGUF file (repeatable)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--streams", type=int, default=4)
    parser.add_argument("--ctx", type=int, default=1024, help="context per answer")
    parser.add_argument("--threads", type=int, help="default: llama.cpp's own (one per physical core)")
    parser.add_argument("--pooled", action="store_true", help="over two RPC workers on this machine")
    args = parser.parse_args()
    if args.pooled:
        share_cores()  # a host and its workers on this one machine
    models = args.model or _default_models()
    where = "pooled over two workers" if args.pooled else "on this device"
    before = "one at a time" if args.pooled else "llama-cpp-python"
    results: list[tuple[str, dict[str, float]]] = []
    for model in models:
        print(f"{model.name}, {where}: {args.streams} streams vs 1, {args.tokens} tokens a stream")
        results.append((model.name, await measure(model, args)))
    print()
    print(
        f"{'model':<40} {before + ' 1':>19} {'Hearth 1':>11} {f'Hearth {args.streams}':>11} "
        f"{'ratio':>6} {'TTFT idle':>10} {'TTFT mid-batch':>15}"
    )
    for name, r in results:
        ttft = f"{r['ttft_idle'] * 1000:>7.0f} ms {r['ttft_mid'] * 1000:>12.0f} ms"
        print(
            f"{name:<40} {r['one']:>15.2f} t/s {r['alone']:>7.2f} t/s {r['batch']:>7.2f} t/s "
            f"{r['batch'] / r['one']:>6.2f} {ttft}"
        )
    for name, r in results:
        ratio = r["batch"] / r["one"]
        verdict = "met" if ratio >= TARGET else "NOT met"
        said = f"{name}, {where}; target >= {TARGET}: {verdict}"
        print(f"ratio {args.streams} streams/1 stream: {ratio:.2f} ({said})")
    for name, r in results:
        print(
            f"ratio batched alone/{before}: {r['alone'] / r['one']:.3f} ({name}); "
            f"TTFT mid-batch/idle: {r['ttft_mid'] / r['ttft_idle']:.2f}"
        )


if __name__ == "__main__":
    asyncio.run(main())
