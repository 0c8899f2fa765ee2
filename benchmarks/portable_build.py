"""Hearth's portable llama.cpp build vs one compiled for this machine's CPU: decode speed side by side.

    uv run python -m benchmarks.portable_build [--rounds 6] [--tokens 96] [--native DIR]

Hearth builds llama.cpp without ``-march=native`` and picks the CPU backend variant at run time
(pyproject.toml, ``hearth.engine.backends``). What that could cost is measured against the same
llama-cpp-python version built for this very CPU (``GGML_NATIVE=ON``, AMX instructions off: they crash
the first decode, ggml-org/llama.cpp#20824), compiled once into ``.hearth-cache/native-llama-cpp``
(about five minutes on two cores, from the package index) unless ``--native`` names such a folder.

Both sides are llama-cpp-python in a process of its own (benchmarks/_llama_direct.py), with the same
thread count, context and environment; they differ only in which build ``import llama_cpp`` finds.
Rounds alternate which side goes first; the verdict takes the median of each round's ratio (the two
sides of a round run back to back). Each model runs at 1 thread and at all cores: the medium synthetic
model and SmolLM2-135M-Instruct. Target: every ratio portable/native >= 0.97.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shlex
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from benchmarks._common import CACHE, median, medium_model, real_model
from benchmarks.engine_overhead import DirectProcess
from hearth.engine import backends
from hearth.engine.threads import default_threads

TARGET = 0.97
NATIVE_FLAGS = "-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"


def build_native(target: Path) -> Path:
    """llama-cpp-python of the installed version, compiled for this CPU, into ``target`` (once)."""
    version = metadata.version("llama-cpp-python")
    marker = target / f".built-{version}"
    if marker.exists():
        return target
    args = ["-DGGML_RPC=ON", "-DGGML_NATIVE=ON"]
    if platform.machine().lower() in ("x86_64", "amd64"):
        args += [f"-DCMAKE_C_FLAGS={NATIVE_FLAGS}", f"-DCMAKE_CXX_FLAGS={NATIVE_FLAGS}"]
    env = {**os.environ, "CMAKE_ARGS": shlex.join(args)}
    print(f"building llama-cpp-python {version} for this CPU into {target} (once) …", flush=True)
    # No cache: a cached wheel would be the portable build, whatever CMAKE_ARGS says; no config: the
    # project's own build variables would replace these.
    subprocess.run(
        [
            *("uv", "pip", "install", "--no-cache", "--no-config", "--no-deps", "--python", sys.executable),
            *("--target", str(target), f"llama-cpp-python=={version}"),
        ],
        check=True,
        env=env,
    )
    marker.touch()
    return target


def check_native(target: Path) -> None:
    """The folder must hold a build with its CPU backend compiled in, not one more portable build."""
    probe = "import llama_cpp.llama_cpp as l, sys; sys.exit(0 if l.llama_supports_rpc() else 3)"
    env = {**os.environ, "PYTHONPATH": str(target)}
    lib = target / "llama_cpp" / "lib"
    if list(lib.glob("libggml-cpu-*")) or list(lib.glob("ggml-cpu-*")):
        raise SystemExit(f"{target} holds a portable build (CPU variants as modules), not a native one")
    subprocess.run([sys.executable, "-c", probe], env=env, check=True)


async def measure(
    model: Path, threads: int, native: Path, args: argparse.Namespace
) -> tuple[float, float, float]:
    """Median tokens/s of (portable, native) for one model and thread count, and the median of the
    rounds' paired ratios."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(native), env.get("PYTHONPATH", "")) if p)
    portable = DirectProcess(model, threads, args.ctx)
    tuned = DirectProcess(model, threads, args.ctx, env=env)
    try:
        await portable.decode(8)
        await tuned.decode(8)
        sides: dict[str, list[float]] = {"portable": [], "native": []}
        for r in range(args.rounds):
            for side in ("portable", "native") if r % 2 == 0 else ("native", "portable"):
                proc = portable if side == "portable" else tuned
                sides[side].append(await proc.decode(args.tokens))
            print(
                f"  round {r + 1}: portable {sides['portable'][-1]:7.2f} tok/s   "
                f"native {sides['native'][-1]:7.2f} tok/s"
            )
    finally:
        portable.close()
        tuned.close()
    # Each round's two sides ran back to back: their ratio is spared the minutes-long swings of a
    # shared machine, which the ratio of the two medians is not.
    paired = median([p / n for p, n in zip(sides["portable"], sides["native"], strict=True)])
    return median(sides["portable"]), median(sides["native"]), paired


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, action="append", help="a GGUF file (repeatable)")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--tokens", type=int, default=96)
    parser.add_argument("--ctx", type=int, default=1024)
    parser.add_argument("--native", type=Path, help="a folder holding a natively built llama_cpp")
    parser.add_argument("--threads", type=int, action="append", help="thread counts (default: 1, all)")
    args = parser.parse_args()
    native = args.native or build_native(CACHE / "native-llama-cpp")
    check_native(native)
    found = backends.load()
    print(
        f"portable build: CPU variant '{found.cpu_variant or 'compiled in'}' of {', '.join(found.registered)}"
    )
    models = args.model or [p for p in (medium_model(), real_model()) if p is not None]
    thread_counts = args.threads or sorted({1, default_threads()})
    results: list[tuple[str, int, float, float, float]] = []
    for model in models:
        for threads in thread_counts:
            print(f"{model.name}, {threads} thread(s), {args.tokens} tokens a round")
            p, n, paired = await measure(model, threads, native, args)
            results.append((model.name, threads, p, n, paired))
    print()
    print(f"{'model':<40} {'threads':>7} {'portable':>12} {'native':>12} {'ratio':>6} {'paired':>6}")
    for name, threads, p, n, paired in results:
        print(f"{name:<40} {threads:>7} {p:>8.2f} t/s {n:>8.2f} t/s {p / n:>6.3f} {paired:>6.3f}")
    worst = min(paired for *_, paired in results)
    verdict = "met" if worst >= TARGET else "NOT met"
    print(
        f"ratio portable/native (median of paired rounds): {worst:.3f}  "
        f"(worst of {len(results)}; target >= {TARGET}: {verdict})"
    )


if __name__ == "__main__":
    asyncio.run(main())
