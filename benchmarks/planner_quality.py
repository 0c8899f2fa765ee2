"""How good the planner's choice is: measured decode speed of its plan against the memory-proportional
splits and against the best contiguous plan found by measuring them all, on unequal devices.

    uv run python -m benchmarks.planner_quality [--step 2] [--tokens 32] [--share 0.25] [--rounds 3]

The host is the engine process (one thread) with memory for only half of the layers (``--host-share``);
two llama.cpp RPC workers on loopback are the other devices: A with ``--threads-a`` threads, B with one
thread behind a relay that stretches every piece of its work to ``1 / --share`` of its time
(``benchmarks/_slow_device.py``), so that B is slow for one layer as for many, as a slower computer is.
The host's and A's speeds are probed as a node does it (the probe models through llama.cpp, in a process
with the device's threads). B is probed as it would probe itself: the same probe models with every layer
on B, through its relay, less what the host computes of each token; what is left over its layers is B's
cost a token (the RPC step, stretched like the rest of its work). A's per-token cost is the node's RPC
step probe (loopback's round trip is negligible). The auto plan comes from the probes taken before the
run, as a node would have them; the devices are probed again after each pass over the plans, and the
predictions printed at the end use the median of every probe, since one probe on a shared machine is at
the mercy of the moment. Every contiguous plan that fits in memory, with the host first and the workers
in either order, on a grid of ``--step`` layers, is timed once; then the fastest few and the compared
plans (Hearth's auto plan, llama.cpp's default split by reported free memory, which is even over CPU
workers since they report the same RAM, and exo's RAM-proportional split, even over all three) are timed
again in interleaved rounds, and each plan's median decides, so that the machine's drift over the run
does not. Targets: auto >= 0.95 x best measured, and >= 1.2 x the memory-proportional splits.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from benchmarks._common import CACHE, decode, median, medium_model, raw_worker, share_cores
from hearth.core.memory import device_memory
from hearth.core.plan import HOST, Assignment, Plan, PlanKey, even_plan
from hearth.core.planner import DeviceSpec, auto_plan, predict
from hearth.core.profile import ModelProfile, read_profile
from hearth.core.speed import Speed, Timing, fit
from hearth.engine import messages as m
from hearth.engine.client import EngineClient
from hearth.models import synthetic
from hearth.service.probe import PROBE, PROBE_SHORT, PROBE_WIDE, measure_rpc_step
from hearth.service.probe import probe_speed as probe_with


def slow_device(share: float, port: int) -> tuple[subprocess.Popen[bytes], int]:
    """A worker seen through ``_slow_device``: ``share`` times as fast as the worker itself."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "benchmarks._slow_device", str(share), str(port)], stdout=subprocess.PIPE
    )
    assert proc.stdout is not None
    return proc, int(proc.stdout.readline())


async def tokens_per_s(
    engine: EngineClient, model: Path, plan: Plan, endpoints: dict[str, str], n: int
) -> float:
    servers = [endpoints[a.device] for a in plan.remote]
    await engine.load(
        m.LoadModel.for_plan(read_profile(str(model)), plan, 512, rpc_servers=servers, threads=1)
    )
    await decode(engine, 4)  # warm up
    return await decode(engine, n)


@dataclass(frozen=True)
class Probed:
    speeds: dict[str, Speed]  # the host's, A's and B's
    hop_s: float  # the RPC step
    hop_b_s: float  # what B costs a token beyond its layers, through its relay


async def probe_remote(engine: EngineClient, endpoint: str, host: Speed) -> tuple[Speed, float]:
    """A device behind ``endpoint`` as it would probe itself: each probe model with every layer on
    it, less the host's share of the token (its token cost and the output head, at ``host``'s
    speed), fitted like a node's probes; the fixed cost left is what the device adds a token."""
    timings = []
    for spec in (PROBE, PROBE_WIDE, PROBE_SHORT):
        model = await asyncio.to_thread(synthetic.ensure_model, CACHE, spec)
        profile = read_profile(str(model))
        n = profile.block_count
        plan = Plan(n, (Assignment(HOST, 0, 0), Assignment(B, 0, n)))
        seconds = median([1 / await tokens_per_s(engine, model, plan, {"B": endpoint}, 32) for _ in range(3)])
        head = profile.output_bytes or profile.token_embd_bytes
        here = host.token_s + head / host.bytes_per_s
        timings.append(Timing(n, sum(profile.layer_bytes), max(seconds - here, 1e-6)))
    fitted = fit(timings)
    return Speed(fitted.bytes_per_s, fitted.layer_s), fitted.token_s


async def probe_all(
    args: argparse.Namespace, work: Path, i: int, engine: EngineClient, endpoint_b: str
) -> Probed:
    """The host's and A's speeds, and the RPC step, probed as a node probes them; B's through its relay."""
    one_thread = await probe_speed(1, work / f"probe-host-{i}.log")
    b, hop_b = await probe_remote(engine, endpoint_b, one_thread)
    speeds = {
        HOST: one_thread,
        "A": await probe_speed(args.threads_a, work / f"probe-A-{i}.log"),
        "B": b,
    }
    # A new key: the step is measured anew.
    probed = Probed(speeds, await measure_rpc_step(f"planner-quality-{i}"), hop_b)
    print(
        "probe: "
        + ", ".join(
            f"{k} {v.bytes_per_s / 1e9:.2f} GB/s + {v.layer_s * 1000:.2f} ms a layer"
            for k, v in speeds.items()
        )
        + f"; A costs {probed.hop_s * 1000:.2f} ms a token beyond its layers, B {probed.hop_b_s * 1000:.2f}",
        flush=True,
    )
    return probed


A, B = PlanKey("A"), PlanKey("B")


def specs(probes: list[Probed], room: int, big: int) -> tuple[DeviceSpec, list[DeviceSpec]]:
    """The devices as the planner takes them, from the median of each probed figure."""

    def mid(name: str, figure: str) -> float:
        return median([getattr(p.speeds[name], figure) for p in probes])

    hops = {A: median([p.hop_s for p in probes]), B: median([p.hop_b_s for p in probes])}
    host = DeviceSpec(
        HOST, room, mid(HOST, "bytes_per_s"), layer_s=mid(HOST, "layer_s"), token_s=mid(HOST, "token_s")
    )
    return host, [
        DeviceSpec(n, big, mid(n, "bytes_per_s"), hops[n], layer_s=mid(n, "layer_s")) for n in (A, B)
    ]


async def probe_speed(threads: int, log: Path) -> Speed:
    """The probe a node runs, in a process with this device's threads."""
    engine = EngineClient(log)
    try:
        return await probe_with(engine, threads)
    finally:
        await engine.close()


def candidates(n_layers: int, step: int) -> list[Plan]:
    """Contiguous plans, host first, workers A and B in either order, cut on a grid of ``step``."""
    cuts = sorted({*range(0, n_layers + 1, step), n_layers})
    plans = {}
    for order in ((A, B), (B, A)):
        for c1, c2 in itertools.combinations_with_replacement(cuts, 2):
            parts = [(HOST, 0, c1), (order[0], c1, c2), (order[1], c2, n_layers)]
            assignments = tuple(Assignment(d, s, e) for d, s, e in parts if e > s or d == HOST)
            plan = Plan(n_layers, assignments)
            plans[str(plan)] = plan
    return list(plans.values())


def memory_splits(n_layers: int) -> dict[str, Plan]:
    llama_default = Plan(
        n_layers,
        (Assignment(HOST, 0, 0), Assignment(A, 0, n_layers // 2), Assignment(B, n_layers // 2, n_layers)),
    )
    return {
        "llama.cpp default (free memory)": llama_default,
        "exo (RAM)": even_plan(n_layers, [HOST, A, B]),
    }


async def measure(
    engine: EngineClient,
    model: Path,
    plans: dict[str, Plan],
    keep: set[str],
    endpoints: dict[str, str],
    args: argparse.Namespace,
    probe_again: Callable[[], Awaitable[None]],
) -> dict[str, float]:
    """One timing of every plan, then interleaved rounds of the fastest few and of ``keep``: medians.
    The devices are probed again after the first pass and after each round."""
    first: dict[str, float] = {}
    for i, (text, plan) in enumerate(plans.items()):
        first[text] = await tokens_per_s(engine, model, plan, endpoints, args.tokens)
        print(f"[{i + 1}/{len(plans)}] {text:<28} {first[text]:7.2f} tok/s", flush=True)
    await probe_again()
    fastest = sorted(first, key=first.__getitem__, reverse=True)[: args.finalists]
    finalists = list(dict.fromkeys([*fastest, *sorted(keep)]))
    samples = {text: [first[text]] for text in finalists}
    for r in range(args.rounds):
        # A different order each round, so that no plan always runs right after the same one.
        order = finalists[r % len(finalists) :] + finalists[: r % len(finalists)]
        for text in order:
            samples[text].append(await tokens_per_s(engine, model, plans[text], endpoints, args.tokens))
        await probe_again()
    print("again in interleaved rounds (median of each):")
    for text in finalists:
        print(f"  {text:<28} {median(samples[text]):7.2f} tok/s  ({len(samples[text])} runs)")
    return {**first, **{text: median(values) for text, values in samples.items()}}


async def main(args: argparse.Namespace, work: Path) -> None:
    model = args.model or medium_model()
    profile: ModelProfile = read_profile(str(model))
    L = profile.block_count
    workers = {"A": raw_worker(args.threads_a, work / "A"), "B": raw_worker(1, work / "B")}
    procs = [proc for proc, _ in workers.values()]
    relay, relay_port = slow_device(args.share, workers["B"][1])
    procs.append(relay)
    ports = {"A": workers["A"][1], "B": relay_port}
    endpoints = {name: f"127.0.0.1:{port}" for name, port in ports.items()}
    engine = EngineClient(work / "engine.log")
    try:
        probes = [
            await probe_all(args, work, 0, engine, endpoints["B"]),
            await probe_all(args, work, 1, engine, endpoints["B"]),
        ]
        big = 1 << 40
        # The host has room for only part of the model, as in a household that needs the pool.
        room = device_memory(profile, 0, max(0, round(L * args.host_share)), 512, host=True).total
        # The auto plan from the probes a node would have before the run.
        host, remotes = specs(probes, room, big)
        solve_started = time.perf_counter()
        auto = auto_plan(profile, host, remotes, 512)
        solve_ms = (time.perf_counter() - solve_started) * 1000
        named = {"Hearth auto plan": auto.plan, **memory_splits(L)}
        fitting = [p for p in candidates(L, args.step) if not predict(profile, host, remotes, p, 512).over]
        plans = {str(p): p for p in [*fitting, *named.values()]}

        async def probe_again() -> None:
            probes.append(await probe_all(args, work, len(probes), engine, endpoints["B"]))

        measured = await measure(
            engine, model, plans, {str(p) for p in named.values()}, endpoints, args, probe_again
        )
    finally:
        await engine.close()
        for proc in procs:
            proc.kill()
            proc.wait()
    # Predictions from every probe taken over the run, as medians: one probe on a shared machine is at
    # the mercy of what else runs at that moment, and the plans were timed over minutes.
    host, remotes = specs(probes, room, big)
    print(
        "probed speeds (median of "
        + f"{len(probes)} probes over the run): "
        + ", ".join(f"{d.name} {d.bytes_per_s / 1e9:.2f} GB/s" for d in [host, *remotes])
        + f"; A costs {remotes[0].hop_s * 1000:.2f} ms a token beyond its layers, "
        + f"B {remotes[1].hop_s * 1000:.2f}"
    )
    best_text = max(measured, key=measured.__getitem__)
    best = measured[best_text]
    got = measured[str(auto.plan)]
    print(f"\nmodel {model.name}, {L} layers; {len(plans)} plans measured; solved in {solve_ms:.1f} ms")
    print(f"best measured plan: {best_text}: {best:.2f} tok/s")
    for name, plan in named.items():
        tps = measured[str(plan)]
        predicted = predict(profile, host, remotes, plan, 512).tokens_per_s
        error = (predicted - tps) / tps * 100
        print(f"{name:<32} {plan!s:<26} {tps:7.2f} tok/s  predicted {predicted:7.2f} ({error:+.0f} %)")
    print(f"auto / best measured: {got / best:.3f}  (target >= 0.95)")
    for name, plan in memory_splits(L).items():
        print(f"auto / {name}: {got / measured[str(plan)]:.3f}  (target >= 1.2)")
    print("\npredicted vs measured, every plan:")
    errors = []
    for text, plan in sorted(plans.items(), key=lambda tp: -measured[tp[0]]):
        predicted = predict(profile, host, remotes, plan, 512).tokens_per_s
        error = (predicted - measured[text]) / measured[text]
        errors.append(abs(error))
        print(f"  {text:<28} {measured[text]:7.2f} tok/s  predicted {predicted:7.2f}  ({error * 100:+.0f} %)")
    print(
        f"prediction error over all plans: median {median(errors) * 100:.1f} %, "
        f"max {max(errors) * 100:.1f} %  (target: median <= 10 %)"
    )


def run() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None, help="default: the medium synthetic model")
    parser.add_argument("--step", type=int, default=2, help="layer grid of the measured plans")
    parser.add_argument("--tokens", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of the finalists")
    parser.add_argument("--finalists", type=int, default=4, help="fastest plans timed again")
    parser.add_argument("--threads-a", type=int, default=2, help="threads of worker A")
    parser.add_argument("--share", type=float, default=0.25, help="B's speed as a share of one thread")
    parser.add_argument(
        "--host-share", type=float, default=0.5, help="share of the layers the host has memory for"
    )
    args = parser.parse_args()
    share_cores()  # a host and two workers on this one machine
    with tempfile.TemporaryDirectory(prefix="hearth-bench-") as tmp:
        os.environ.setdefault("HEARTH_HOME", str(Path(tmp) / "home"))
        asyncio.run(main(args, Path(tmp)))
    return 0


if __name__ == "__main__":
    sys.exit(run())
