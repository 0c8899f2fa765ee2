"""Pooled decode speed through Hearth's tunnels vs raw llama.cpp RPC, on loopback, interleaved.

    uv run python -m benchmarks.tunnel_overhead [--rounds 4] [--tokens 64] [--plan host:0-3,A:4-7,B:8-11]

All sides run the medium synthetic model with the same split over two workers. Raw: llama.cpp's RPC
client reaches two RPC servers directly. Hearth: a host node reserves workers on two donating nodes and
llama.cpp reaches them through the mutual-TLS tunnels. Bare hops: the same two hops as Hearth's path
(one relay process on the host's side, one per worker) with Hearth's relay loop but no TLS, ticket or
filter, which separates what any user-space hop costs on this machine from what the tunnel adds.
Local: the whole model on the host, for the time a remote device adds to a token. Tokens/s are
counted where the caller sees them. Targets: Hearth/bare hops >= 0.95 on any machine, and the time
Hearth adds per remote device per token within 0.1 ms of raw RPC's on a machine with enough cores for
every device (on a 2-core box the hops' processes compete with the model for the cores). Also prints
the first pooled load against a reload.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks._common import decode, median, medium_model, raw_worker, share_cores
from harness.nodes import NodeProcess, open_local, pair, wait_until
from hearth.api import local_messages as msg
from hearth.core.plan import parse_plan
from hearth.engine import messages as m
from hearth.engine.client import EngineClient


def plain_relay(targets: list[int]) -> tuple[subprocess.Popen[bytes], list[int]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "benchmarks._plain_relay", *map(str, targets)], stdout=subprocess.PIPE
    )
    assert proc.stdout is not None
    ports = [int(p) for p in proc.stdout.readline().split()]
    if len(ports) != len(targets):
        proc.kill()
        raise RuntimeError(f"the bare relay for ports {targets} did not start")
    return proc, ports


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--plan", default="host:0-3,A:4-7,B:8-11")
    parser.add_argument("--worker-threads", type=int, default=1)
    parser.add_argument("--ctx", type=int, default=1024)
    args = parser.parse_args()
    share_cores()  # a host and two workers on this one machine
    model = args.model or medium_model()
    from hearth.core.profile import read_profile

    profile = read_profile(str(model))
    plan = parse_plan(args.plan, profile.block_count)
    print(f"model: {model.name}, plan {plan}, {args.tokens} tokens x {args.rounds} rounds")

    with tempfile.TemporaryDirectory(prefix="hearth-bench-") as tmp:
        root = Path(tmp)
        raw = [raw_worker(args.worker_threads, root / f"raw{i}") for i in range(2)]
        hopped = [raw_worker(args.worker_threads, root / f"hop{i}") for i in range(2)]
        relays = [plain_relay([port]) for _, port in hopped]
        relays.append(plain_relay([ports[0] for _, ports in relays]))
        donor = ["--donate", "--max-memory", "4G", "--threads", str(args.worker_threads)]
        host = NodeProcess(root / "host", "host", "127.0.0.1").start()
        workers = [
            NodeProcess(root / "A", "A", "127.0.0.2", extra=donor).start(),
            NodeProcess(root / "B", "B", "127.0.0.3", extra=donor).start(),
        ]
        raw_engine, hearth_engine = EngineClient(root / "raw.log"), EngineClient(root / "hearth.log")
        hop_engine = EngineClient(root / "hops.log")
        local_engine = EngineClient(root / "local.log")
        client = None
        try:
            for w in workers:
                assert pair(host, w).returncode == 0
                assert wait_until(
                    lambda w=w: ((host.device(w.device_id) or {}).get("donated_bytes") or 0) > 0, 15
                )
            client = await open_local(host.home)
            await local_engine.load(m.LoadModel(str(model), n_ctx=args.ctx))
            for engine, ports in ((raw_engine, [p for _, p in raw]), (hop_engine, relays[-1][1])):
                servers = [f"127.0.0.1:{p}" for p in ports]
                await engine.load(m.LoadModel.for_plan(profile, plan, args.ctx, rpc_servers=servers))
            loads = []
            for _ in range(2):
                pool = await client.call(msg.Pool(model=str(model), plan=str(plan), n_ctx=args.ctx))
                started = time.perf_counter()
                await hearth_engine.load(
                    m.LoadModel.for_plan(profile, plan, args.ctx, rpc_servers=pool.endpoints)
                )
                loads.append(time.perf_counter() - started)
            engines = {"local": local_engine, "raw": raw_engine, "hops": hop_engine, "hearth": hearth_engine}
            tps: dict[str, list[float]] = {side: [] for side in engines}
            for engine in engines.values():
                await decode(engine, 8)
            for rnd in range(args.rounds):
                order = list(engines)[rnd % 4 :] + list(engines)[: rnd % 4]
                for side in order if rnd % 2 == 0 else reversed(order):
                    tps[side].append(await decode(engines[side], args.tokens))
                print(
                    f"round {rnd + 1}: local {tps['local'][-1]:6.2f} tok/s   raw RPC {tps['raw'][-1]:6.2f}"
                    f"   bare hops {tps['hops'][-1]:6.2f}   Hearth {tps['hearth'][-1]:6.2f}"
                )
        finally:
            for engine in (local_engine, raw_engine, hop_engine, hearth_engine):
                await engine.close()
            if client is not None:
                await client.close()
            for node in (host, *workers):
                node.stop()
            for proc, _ in (*raw, *hopped, *relays):
                proc.kill()
    loc, r, b, h = (median(tps[side]) for side in ("local", "raw", "hops", "hearth"))
    remote = len(plan.remote)

    def per_device_ms(tok_s: float) -> float:
        return (1000 / tok_s - 1000 / loc) / remote

    print(f"local, whole model:    {loc:.2f} tok/s (median)")
    print(f"raw llama.cpp RPC:     {r:.2f} tok/s (median)")
    print(f"bare hops, no TLS:     {b:.2f} tok/s (median)")
    print(f"Hearth pooled tunnel:  {h:.2f} tok/s (median)")
    print(f"ratio bare hops/raw:   {b / r:.3f}  (two user-space hops, nothing else)")
    print(f"ratio Hearth/bare:     {h / b:.3f}  (what TLS, ticket and filter add; target >= 0.95)")
    print(f"ratio Hearth/raw:      {h / r:.3f}")
    print(
        f"added per remote device per token vs local: raw RPC {per_device_ms(r):.2f} ms, "
        f"bare hops {per_device_ms(b):.2f} ms, Hearth {per_device_ms(h):.2f} ms"
    )
    print(
        f"Hearth adds over raw RPC per remote device per token: {per_device_ms(h) - per_device_ms(r):.2f} ms"
        "  (target <= 0.1 ms with enough cores)"
    )
    verdict = "met" if h / b >= 0.95 else "NOT met"
    print(f"tunnel target Hearth/bare hops >= 0.95: {verdict}")
    print(f"first pooled load:     {loads[0]:.2f} s;  reload: {loads[1]:.2f} s")


if __name__ == "__main__":
    asyncio.run(main())
