"""Shared by the benchmarks: cached synthetic models and small statistics."""

from __future__ import annotations

import contextlib
import os
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from harness.real_model import smollm2
from hearth.core.plan import parse_plan
from hearth.core.profile import read_profile
from hearth.engine import messages as m
from hearth.engine import rpc_worker
from hearth.engine.client import EngineClient
from hearth.models import synthetic

CACHE = Path(os.environ.get("HEARTH_BENCH_CACHE", Path(__file__).resolve().parent.parent / ".hearth-cache"))


def medium_model() -> Path:
    """The medium synthetic model (about 250 MB), written once and reused."""
    path = synthetic.ensure_model(CACHE, synthetic.MEDIUM)
    return path


def real_model() -> Path | None:
    """SmolLM2-135M-Instruct from the dev dependencies; None when not installed."""
    return smollm2()


def share_cores() -> None:
    """For benchmarks that put several devices on this one machine (a host engine and its workers):
    OpenMP threads spinning between ops in one process steal the cores another needs. Every side of
    such a benchmark runs under this same setting; Hearth itself never sets it."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def pin_cores(threads: int) -> list[int]:
    """This process, and so every device, worker and engine it starts, on the first ``threads`` of
    the cores it may use; called before any thread is started, so that all of them inherit it. For
    benchmarks whose devices take turns for a token, as a pipeline's do: with one thread each on the
    same core, no device waits for threads another device's work has pushed off a core (the passive
    OpenMP waits that several multi-threaded processes on two cores need cost a 135M model's pass
    4x, and do not add up across processes)."""
    cores = sorted(os.sched_getaffinity(0))[: max(1, threads)]
    os.sched_setaffinity(0, cores)
    return cores


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


PROMPT = "Once upon a time, in a house with three computers,"


def raw_worker(threads: int, cache: Path, prefix: Sequence[str] = ()) -> tuple[subprocess.Popen[bytes], int]:
    """A plain RPC worker on loopback (``prefix``: the command to run it under, as ``nsenter``)."""
    proc = subprocess.Popen(
        [*prefix, *rpc_worker.command(threads, str(cache))], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        match = rpc_worker.READY.search(line)
        if match:
            # Keep draining, so that the server never blocks on a full pipe.
            threading.Thread(target=proc.stdout.read, daemon=True).start()
            return proc, int(match.group(1))
    raise RuntimeError("the RPC worker did not start")


async def decode(engine: EngineClient, n: int) -> float:
    arrivals: list[float] = []
    request = m.Generate(0, prompt=PROMPT, max_tokens=n, temperature=0.0, ignore_eos=True)
    await engine.generate(request, lambda t: arrivals.append(time.perf_counter()))
    return (len(arrivals) - 1) / (arrivals[-1] - arrivals[0])


@contextlib.contextmanager
def raw_workers(n: int) -> Iterator[list[str]]:
    """``n`` of Hearth's RPC workers on loopback, one thread each, for as long as the block runs."""
    with tempfile.TemporaryDirectory() as root:
        procs: list[subprocess.Popen[bytes]] = []
        try:
            endpoints = []
            for i in range(n):
                proc, port = raw_worker(1, Path(root) / f"w{i}")
                procs.append(proc)
                endpoints.append(f"127.0.0.1:{port}")
            yield endpoints
        finally:
            for proc in procs:
                proc.kill()
                proc.wait()


def thirds_load(model: Path, ctx: int, threads: int, workers: list[str], parallel: int) -> m.LoadModel:
    """A third of the layers here, a third on each worker."""
    profile = read_profile(str(model))
    n = profile.block_count
    plan = parse_plan(f"host:0-{n // 3 - 1},A:{n // 3}-{2 * n // 3 - 1},B:{2 * n // 3}-{n - 1}", n)
    return m.LoadModel.for_plan(profile, plan, ctx, rpc_servers=workers, threads=threads, parallel=parallel)


def gpus() -> list[str]:
    """This machine's GPUs as llama.cpp lists them; empty without a GPU build or a GPU."""
    try:
        from hearth.engine import backends, ggml

        backends.load()
        return [d.description or d.name for d in ggml.accelerators()]
    except (OSError, AttributeError, RuntimeError):
        return []
