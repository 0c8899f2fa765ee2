"""Time to discover and time to pair, between real ``hearth node`` processes on loopback.

    uv run python -m benchmarks.discovery_pairing [--runs 3]

Discovery needs multicast on loopback, so the nodes run in a private network namespace (root and
iproute2 on Linux); without it only pairing is measured, over 127.0.0.1 and 127.0.0.2.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from harness.nodes import NodeProcess, env_for


def make_netns() -> str | None:
    if not (sys.platform == "linux" and os.geteuid() == 0 and shutil.which("ip")):
        return None
    name = f"hearth-bench-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    for cmd in (
        ["ip", "link", "set", "lo", "up"],
        ["ip", "link", "set", "lo", "multicast", "on"],
        ["ip", "route", "add", "224.0.0.0/4", "dev", "lo"],
    ):
        subprocess.run(["ip", "netns", "exec", name, *cmd], check=True)
    return name


PAIR_SCRIPT = """
import asyncio, json, sys, time
from hearth.api import local_messages as msg
from hearth.api.local import LocalClient
async def main():
    client = await LocalClient.open()
    t0 = time.perf_counter()
    started = await client.call(msg.Pair(device=sys.argv[1]))
    t1 = time.perf_counter()
    print(json.dumps({"request_s": t1 - t0}), flush=True)
    code = sys.stdin.readline().strip()
    t2 = time.perf_counter()
    done = await client.call(msg.PairCode(attempt=started.attempt, code=code))
    t3 = time.perf_counter()
    for _ in range(2000):
        devices = (await client.call(msg.Devices())).devices
        if any(d.device_id == done.device_id and d.connected for d in devices):
            break
        await asyncio.sleep(0.005)
    t4 = time.perf_counter()
    print(json.dumps({"exchange_s": t3 - t2, "channel_s": t4 - t3}), flush=True)
    await client.close()
asyncio.run(main())
"""


def one_run(workdir: Path, prefix: list[str], discovery: bool) -> dict[str, float]:
    a = NodeProcess(workdir / "a", "alpha", "127.0.0.1", discovery=discovery, prefix=prefix)
    b = NodeProcess(workdir / "b", "beta", "127.0.0.2", discovery=discovery, prefix=prefix)
    out: dict[str, float] = {}
    try:
        a.start()
        launched = time.monotonic()
        b.start()
        if discovery:
            _, b_ready = b.wait_for_at("listening on")
            _, found = a.wait_for_at("found beta ", timeout=15)
            out["discover_from_launch_s"] = found - launched
            out["discover_after_ready_s"] = max(0.0, found - b_ready)
        mark = len(b.lines)
        proc = subprocess.Popen(
            [*prefix, sys.executable, "-c", PAIR_SCRIPT, b.address],
            env=env_for(a.home),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout and proc.stdin
        out["request_s"] = float(json.loads(proc.stdout.readline())["request_s"])
        proc.stdin.write(b.code(after=mark) + "\n")
        proc.stdin.flush()
        finished = json.loads(proc.stdout.readline())
        out["key_exchange_s"] = float(finished["exchange_s"])
        out["channel_up_s"] = float(finished["channel_s"])
        proc.wait(30)
    finally:
        a.stop()
        b.stop()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    ns = make_netns()
    prefix = ["ip", "netns", "exec", ns] if ns else []
    if ns is None:
        print("discovery: not measured (needs root and iproute2 for a private network namespace)")
    results: list[dict[str, float]] = []
    try:
        for i in range(args.runs):
            with tempfile.TemporaryDirectory(prefix="hearth-bench-") as tmp:
                results.append(one_run(Path(tmp), prefix, discovery=ns is not None))
            print(f"run {i + 1}: " + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in results[-1].items()))
    finally:
        if ns:
            subprocess.run(["ip", "netns", "del", ns], check=False)
    for key in results[0]:
        ms = [r[key] * 1000 for r in results]
        print(f"{key:>24}: median {statistics.median(ms):7.1f} ms  (min {min(ms):.1f}, max {max(ms):.1f})")
    pair_ms = [(r["request_s"] + r["key_exchange_s"]) * 1000 for r in results]
    label = "time to pair"
    print(f"{label:>24}: median {statistics.median(pair_ms):7.1f} ms  (request + key exchange, no typing)")


if __name__ == "__main__":
    main()
