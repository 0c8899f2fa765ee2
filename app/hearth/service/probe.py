"""How fast this device decodes, and what a remote device costs it: short runs of llama.cpp on
synthetic models, cached per build.

Decoding reads every weight of a device's layers once per token, so the planner's main unit of speed is
weight bytes per second; each layer and each token also cost a little whatever the weights
(``core.speed``). The probe models are Q8_0 layers with a tiny vocabulary, so a token's time is the
layers' time: eight 1024-wide layers (about 90 MB, more than a CPU cache holds), two 2048-wide layers of
the same bytes, and two 1024-wide ones; their differences tell the three costs apart. They run in an
engine subprocess like any model, with the thread count the device would use, and the answer is kept
per llama.cpp build and thread count: a different build or cap measures again. One probe can catch the
machine busy with something else, so the last few are kept, the planner takes their medians, and a probe
more than a day old is taken again when the node starts.

A remote device costs each token more than the network's round trip: llama.cpp's RPC commands, and a
process woken on each side. That step is measured on loopback, on the tiny model (whose compute is
negligible) with its last layer on a worker started here, against the same model run locally.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import statistics
import time
from pathlib import Path
from typing import Any

from gguf import GGMLQuantizationType as QT

from hearth.core.plan import HOST, Assignment, Plan, PlanKey
from hearth.core.profile import read_profile
from hearth.core.speed import Speed, Timing, fit
from hearth.engine import messages as m
from hearth.engine import rpc_worker
from hearth.engine.client import EngineClient
from hearth.mesh.tunnel import LocalEndpoint
from hearth.models import synthetic
from hearth.store import json_state, paths

log = logging.getLogger(__name__)
PROBE = synthetic.SyntheticSpec(
    "probe",
    n_layer=8,
    n_embd=1024,
    n_ff=2816,
    n_head=16,
    n_head_kv=4,
    n_vocab=384,
    n_ctx=512,
    matrix_type=QT.Q8_0,
    embd_type=QT.Q8_0,
    output_type=QT.Q8_0,
    chat_template=False,
)
# Same bytes as PROBE in a quarter of the layers, and a quarter of PROBE's layers: what a layer costs
# beyond its weights, and what a token costs beyond its layers.
PROBE_WIDE = dataclasses.replace(PROBE, name="probe-wide", n_layer=2, n_embd=2048, n_ff=5632)
PROBE_SHORT = dataclasses.replace(PROBE, name="probe-short", n_layer=2)
TOKENS = 24
ROUNDS = 5
SAMPLES = 5  # probes kept per build and thread count
STALE_S = 24 * 3600  # a node that starts probes again when its newest probe is older than this
STEP_TOKENS = 64
STEP_ROUNDS = 5


def _cache_file() -> Path:
    return paths.cache_dir() / "speed.json"


def _key(build: str, threads: int) -> str:
    # "cpu": before, a machine with a GPU probed it instead of its CPU under the same key.
    return f"{build} / cpu / {threads} threads"


def _step_key(build: str) -> str:
    return f"{build} / rpc step"


def _read(key: str, field: str) -> float | None:
    try:
        entry = json.loads(_cache_file().read_text(encoding="utf-8")).get(key)
        return float(entry[field]) if entry else None
    except (FileNotFoundError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _samples(key: str) -> tuple[list[Speed], float]:
    """The probes kept for ``key`` and when the newest was taken (0 when none). Probes from before
    the per-layer and per-token costs were measured are not comparable, and are not kept."""
    try:
        entry = json.loads(_cache_file().read_text(encoding="utf-8")).get(key) or {}
        rows = zip(entry["samples"], entry["layer_samples"], entry["token_samples"], strict=True)
        samples = [Speed(float(b), float(layer), float(token)) for b, layer, token in rows]
        return samples[-SAMPLES:], float(entry.get("measured_at", 0))
    except (FileNotFoundError, ValueError, KeyError, TypeError, AttributeError):
        return [], 0.0


def _typical(samples: list[Speed]) -> Speed:
    return Speed(
        statistics.median(s.bytes_per_s for s in samples),
        statistics.median(s.layer_s for s in samples),
        statistics.median(s.token_s for s in samples),
    )


def _remember(key: str, field: str, value: float, **more: Any) -> None:
    try:
        data = json.loads(_cache_file().read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            data = {}
    except (FileNotFoundError, ValueError):
        data = {}
    data[key] = {field: value, "measured_at": time.time(), **more}
    json_state.write(_cache_file(), data)


async def measure(build: str, threads: int | None = None, engine: EngineClient | None = None) -> Speed:
    """This device's decode speed through llama.cpp on its CPU: the medians of the last few probes for
    this build and thread count, probing again when there are none or the newest is stale."""
    return await _kept(_key(build, threads or 0), f"the CPU, {threads or 'all'} threads", engine, threads)


async def measure_gpus(build: str, engine: EngineClient | None = None) -> list[Speed | None]:
    """Each of this machine's accelerators' speed, layers on it alone, in llama.cpp's order, kept as
    the CPU's is; None for one that could not be probed (the planner assumes a typical GPU's)."""
    from hearth.engine import ggml

    out: list[Speed | None] = []
    for i, gpu in enumerate(ggml.accelerators()):
        name = gpu.description or gpu.name
        try:
            out.append(await _kept(f"{build} / gpu {i} {name}", name, engine, None, gpu=i))
        except Exception as exc:  # one GPU that fails its probe leaves the others' standing
            log.warning("speed probe of %s failed: %s", name, exc)
            out.append(None)
    return out


async def _kept(
    key: str, what: str, engine: EngineClient | None, threads: int | None, gpu: int | None = None
) -> Speed:
    samples, measured_at = _samples(key)
    if samples and time.time() - measured_at < STALE_S:
        return _typical(samples)
    own = engine is None
    client = engine or EngineClient(log_path=paths.logs_dir() / "probe.log")
    try:
        speed = await probe_speed(client, threads, gpu)
    finally:
        if own:
            await client.close()
    samples = [*samples, speed][-SAMPLES:]
    typical = _typical(samples)
    _remember(
        key,
        "bytes_per_s",
        typical.bytes_per_s,
        layer_s=typical.layer_s,
        token_s=typical.token_s,
        samples=[s.bytes_per_s for s in samples],
        layer_samples=[s.layer_s for s in samples],
        token_samples=[s.token_s for s in samples],
    )
    log.info(
        "speed probe: %.1f GB/s of weights, %.2f ms a layer, %.2f ms a token on %s "
        "(medians of %d probes: %.1f GB/s, %.2f ms, %.2f ms)",
        speed.bytes_per_s / 1e9,
        speed.layer_s * 1000,
        speed.token_s * 1000,
        what,
        len(samples),
        typical.bytes_per_s / 1e9,
        typical.layer_s * 1000,
        typical.token_s * 1000,
    )
    return typical


async def probe_speed(client: EngineClient, threads: int | None = None, gpu: int | None = None) -> Speed:
    """Time a token of each probe model in ``client``, and fit the speed to them: of this device's
    CPU, or with ``gpu`` of that accelerator (its index among this machine's).

    Three probes fix three costs exactly, so a machine that slows down while one of them runs (another
    program, a shared host) would bend the fit rather than just slow it: the models take turns, round
    by round (reloading one of them from the page cache takes tens of milliseconds), and each keeps the
    median of its rounds."""
    specs = (PROBE, PROBE_WIDE, PROBE_SHORT)
    files = [await asyncio.to_thread(synthetic.ensure_model, paths.cache_dir(), spec) for spec in specs]
    profiles = [read_profile(str(path)) for path in files]
    rates: list[list[float]] = [[] for _ in specs]
    for round_ in range(ROUNDS):
        for path, kept in zip(files, rates, strict=True):
            await client.load(probe_load(str(path), threads, gpu))
            # The weights into the page cache once; a GPU uploads them and builds its kernels again
            # with every load.
            if round_ == 0 or gpu is not None:
                await _decode_rate(client, 4)
            kept.append(await _decode_rate(client, TOKENS))
    reads = [sum(p.layer_bytes) + (p.output_bytes or p.token_embd_bytes) for p in profiles]
    return fit(
        [
            Timing(p.block_count, read, 1 / statistics.median(r))
            for p, read, r in zip(profiles, reads, rates, strict=True)
        ]
    )


def probe_load(path: str, threads: int | None, gpu: int | None) -> m.LoadModel:
    """A probe model's load: every layer on the CPU, or with ``gpu`` every layer and the head on
    that accelerator alone."""
    if gpu is None:
        return m.LoadModel(path, n_ctx=256, n_threads=threads, use_mmap=True, n_gpu_layers=0)
    return m.LoadModel(path, n_ctx=256, n_threads=threads, use_mmap=True, n_gpu_layers=-1, host_gpus=[gpu])


async def _decode_rate(client: EngineClient, tokens: int) -> float:
    request = m.Generate(0, prompt="probe", max_tokens=tokens, temperature=0.0, ignore_eos=True)
    done = await client.generate(request, lambda _: None)
    if done.decode_tokens_per_s <= 0:
        raise RuntimeError("the probe produced no tokens")
    return done.decode_tokens_per_s


async def measure_rpc_step(build: str) -> float:
    """Seconds a remote device adds to each token beyond the network's round trip; cached per build."""
    known = _read(_step_key(build), "seconds")
    if known is not None:
        return known
    model = await asyncio.to_thread(synthetic.ensure_model, paths.cache_dir(), synthetic.TINY)
    profile = read_profile(str(model))
    n = profile.block_count
    plan = Plan(n, (Assignment(HOST, 0, n - 1), Assignment(PlanKey("worker"), n - 1, n)))
    worker = await rpc_worker.start(1, str(paths.cache_dir() / "rpc" / "probe"))
    proc = worker.proc
    assert proc.stdout is not None
    drain = asyncio.create_task(proc.stdout.read())
    # The way a pooled load reaches a worker on this machine, without the TLS hop.
    endpoint = LocalEndpoint(worker.connect, "the probe's worker")
    client = EngineClient(log_path=paths.logs_dir() / "probe.log")
    local = m.LoadModel(str(model), n_ctx=256, n_threads=1)
    remote = m.LoadModel.for_plan(profile, plan, 256, rpc_servers=[endpoint.endpoint], threads=1)
    extra = []
    try:
        # Alternated, so that the machine's drift over the rounds falls on both sides alike.
        for _ in range(STEP_ROUNDS):
            await client.load(local)
            t_local = 1 / await _decode_rate(client, STEP_TOKENS)
            await client.load(remote)
            extra.append(1 / await _decode_rate(client, STEP_TOKENS) - t_local)
    finally:
        await client.close()
        endpoint.close()
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
        worker.close()
        drain.cancel()
    step = max(0.0, statistics.median(extra))
    _remember(_step_key(build), "seconds", step)
    log.info("rpc step: %.2f ms a token for each remote device", step * 1000)
    return step
