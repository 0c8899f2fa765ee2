"""Streaming through Hearth's OpenAI-compatible API vs the engine directly, interleaved.

    uv run python -m benchmarks.api_overhead [--rounds 6] [--tokens 256] [--model FILE ...]

One side is ``hearth serve`` in its own process, as a user starts it, asked for a streamed completion
over HTTP (server-sent events) the way an OpenAI client asks; the other loads the same file in
Hearth's engine process (the same llama.cpp settings: context, default threads) and streams the same
prompt with no HTTP, service or queue in between. Both greedy; order alternates between rounds.
Printed: decode tokens/s after the first token and time to first token, as the client sees them.
Targets: API/direct tokens/s >= 0.97, and under 5 ms added to the first token.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from benchmarks._common import PROMPT, median, medium_model, real_model
from hearth.engine import messages as m
from hearth.engine.client import EngineClient

TARGET_RATIO = 0.97
TARGET_FIRST_MS = 5.0
SETTLE_S = 0.5


def start_server(model: Path, ctx: int, threads: int | None, home: Path) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "HEARTH_HOME": str(home), "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "hearth", "serve", "--model", str(model), "--ctx", str(ctx)),
            *("--host", "127.0.0.1", "--port", "0", "--api-port", "0", "--no-discovery", "--no-probe"),
            *(("--threads", str(threads)) if threads else ()),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 120
    for line in proc.stdout:
        found = re.search(r"serving \S+ at (http://\S+)", line)
        if found:
            return proc, found.group(1)
        if time.monotonic() > deadline:
            break
    proc.kill()
    raise RuntimeError("hearth serve did not start")


async def through_api(
    http: aiohttp.ClientSession, url: str, model: Path, tokens: int
) -> tuple[float, float, int]:
    body = {
        **{"model": model.stem, "prompt": PROMPT, "max_tokens": tokens, "temperature": 0},
        **{"stream": True, "stream_options": {"include_usage": True}},
    }
    arrivals: list[float] = []
    count = 0
    sent = time.perf_counter()
    async with http.post(url + "/completions", json=body) as answer:
        async for line in answer.content:
            if not line.startswith(b"data: {"):
                continue
            data = json.loads(line[6:])
            if data["choices"] and data["choices"][0]["text"]:
                arrivals.append(time.perf_counter())
            if data.get("usage"):
                count = data["usage"]["completion_tokens"]
    # A chunk may carry several tokens: the rate counts tokens, timed from the first to the last text.
    return _rates(sent, arrivals, count)


async def direct(engine: EngineClient, tokens: int) -> tuple[float, float, int]:
    arrivals: list[float] = []
    request = m.Generate(0, prompt=PROMPT, max_tokens=tokens, temperature=0.0)

    def arrived(token: m.Token) -> None:
        if token.text:
            arrivals.append(time.perf_counter())

    sent = time.perf_counter()
    await engine.generate(request, arrived)
    return _rates(sent, arrivals)


def _rates(sent: float, arrivals: list[float], tokens: int = 0) -> tuple[float, float, int]:
    if len(arrivals) < 2:
        raise RuntimeError("too few tokens to time")
    tokens = tokens or len(arrivals)
    return (tokens - 1) / (arrivals[-1] - arrivals[0]), arrivals[0] - sent, tokens


async def bench(model: Path, args: argparse.Namespace) -> tuple[float, float, float, float]:
    with tempfile.TemporaryDirectory() as home:
        server, url = start_server(model, args.ctx, args.threads, Path(home))
        engine = EngineClient(log_path=Path(home) / "direct-engine.log")
        # One connection kept open, as OpenAI's client keeps its connections.
        http = aiohttp.ClientSession()
        try:
            await engine.load(m.LoadModel(str(model), n_ctx=args.ctx, n_threads=args.threads))
            # One unmeasured answer each: first-use costs (page faults, allocator) out of the way.
            await through_api(http, url, model, 8)
            await direct(engine, 8)
            runs: dict[str, list[tuple[float, float, int]]] = {"direct": [], "api": []}
            for r in range(args.rounds):
                for side in ("direct", "api") if r % 2 == 0 else ("api", "direct"):
                    # llama.cpp's threads spin for a while after an answer: let the other side's settle.
                    await asyncio.sleep(SETTLE_S)
                    run = (
                        direct(engine, args.tokens)
                        if side == "direct"
                        else through_api(http, url, model, args.tokens)
                    )
                    runs[side].append(await run)
                (dt, df, dn), (at, af, an) = runs["direct"][-1], runs["api"][-1]
                print(
                    f"  round {r + 1}: engine {dt:7.2f} tok/s, first {df * 1000:6.1f} ms ({dn} tokens)   "
                    f"API {at:7.2f} tok/s, first {af * 1000:6.1f} ms ({an} tokens)"
                )
        finally:
            await http.close()
            await engine.close()
            server.terminate()
            server.wait(30)
    d_tps, a_tps = (median([x[0] for x in runs[s]]) for s in ("direct", "api"))
    d_first, a_first = (median([x[1] for x in runs[s]]) for s in ("direct", "api"))
    return d_tps, a_tps, d_first, a_first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, action="append", help="a GGUF file (repeatable)")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--tokens", type=int, default=256)
    parser.add_argument("--ctx", type=int, default=1024)
    parser.add_argument("--threads", type=int, help="both sides (default: llama.cpp's own choice)")
    args = parser.parse_args()
    models = args.model or [p for p in (medium_model(), real_model()) if p is not None]
    rows = []
    for model in models:
        print(model.name)
        rows.append((model.name, *asyncio.run(bench(model, args))))
    print()
    print(f"{'model':<40} {'engine':>10} {'API':>10} {'ratio':>6}  first token engine / API")
    for name, d_tps, a_tps, d_first, a_first in rows:
        print(
            f"{name:<40} {d_tps:>6.1f} t/s {a_tps:>6.1f} t/s {a_tps / d_tps:>6.3f}  "
            f"{d_first * 1000:.1f} / {a_first * 1000:.1f} ms"
        )
    worst = min(r[2] / r[1] for r in rows)
    added = max((r[4] - r[3]) * 1000 for r in rows)
    verdict = "met" if worst >= TARGET_RATIO else "NOT met"
    print(f"ratio API/engine: {worst:.3f}  (worst; target >= {TARGET_RATIO}: {verdict})")
    verdict = "met" if added < TARGET_FIRST_MS else "NOT met"
    print(f"first token added: {added:.1f} ms  (worst; target < {TARGET_FIRST_MS}: {verdict})")


if __name__ == "__main__":
    main()
