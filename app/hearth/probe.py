"""How fast this device decodes: a short run of llama.cpp on a synthetic model, cached per build.

Decoding reads every weight of a device's layers once per token, so the planner's unit of speed is
weight bytes per second. The probe model is about 90 MB of Q8_0 layers (more than a CPU cache holds)
with a tiny vocabulary, so its time per token is the layers' time. It runs in an engine subprocess like
any model, with the thread count the device would use, and the answer is kept per llama.cpp build and
thread count: a different build or cap measures again.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

from gguf import GGMLQuantizationType as QT

from hearth import paths, synthetic
from hearth.core.profile import read_profile
from hearth.engine import messages as m
from hearth.engine.client import EngineClient

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
TOKENS = 24


def _cache_file() -> Path:
    return paths.cache_dir() / "speed.json"


def _key(build: str, threads: int) -> str:
    return f"{build} / {threads} threads"


def cached(build: str, threads: int) -> float | None:
    """The measured bytes per second for this build and thread count, if measured before."""
    try:
        entry = json.loads(_cache_file().read_text(encoding="utf-8")).get(_key(build, threads))
        return float(entry["bytes_per_s"]) if entry else None
    except (FileNotFoundError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _remember(build: str, threads: int, bytes_per_s: float) -> None:
    try:
        data = json.loads(_cache_file().read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            data = {}
    except (FileNotFoundError, ValueError):
        data = {}
    data[_key(build, threads)] = {"bytes_per_s": bytes_per_s, "measured_at": time.time()}
    tmp = _cache_file().with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
    tmp.replace(_cache_file())


async def measure(build: str, threads: int | None = None, engine: EngineClient | None = None) -> float:
    """Decode weight bytes per second of this device through llama.cpp; cached per build and threads."""
    threads_key = threads or 0
    known = cached(build, threads_key)
    if known:
        return known
    import asyncio

    model = await asyncio.to_thread(synthetic.ensure_model, paths.cache_dir(), PROBE)
    layer_bytes = sum(read_profile(str(model)).layer_bytes)
    own = engine is None
    client = engine or EngineClient(log_path=paths.state_dir() / "logs" / "probe.log")
    try:
        await client.load(m.LoadModel(str(model), n_ctx=256, n_threads=threads, use_mmap=True))
        request = m.Generate(0, prompt="probe", max_tokens=TOKENS, temperature=0.0, ignore_eos=True)
        done = await client.generate(request, lambda _: None)
    finally:
        if own:
            await client.close()
    if done.decode_tokens_per_s <= 0:
        raise RuntimeError("the speed probe produced no tokens")
    speed = layer_bytes * done.decode_tokens_per_s
    _remember(build, threads_key, speed)
    log.info("speed probe: %.1f GB/s of weights with %s threads", speed / 1e9, threads or "all")
    return speed
