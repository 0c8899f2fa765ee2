"""``hearth plan``: what each device would hold and how fast the model would answer, before loading."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from typing import Any

import msgspec

from hearth.api import local_messages as msg
from hearth.api.local import LocalApiError
from hearth.cli.say import translate
from hearth.core.fill import fill
from hearth.core.gguf_header import GGUFError
from hearth.core.plan import HOST, PlanError, PlanKey
from hearth.core.planner import DeviceSpec, Pool, Prediction
from hearth.core.profile import ModelProfile, default_context, read_profile
from hearth.core.units import MIB
from hearth.service.memory_check import MemoryCheck
from hearth.service.planning import PlanReport, choose_sized, plan_report
from hearth.service.storage import parse_size


class GpuEntry(msgspec.Struct, forbid_unknown_fields=True):
    """One of a device's accelerators in a ``--devices`` file."""

    memory: str | int  # its memory usable by the model: "12G" of VRAM, or bytes
    bandwidth_gbs: float  # its memory bandwidth while decoding, in GB/s
    name: str = "GPU"


class DeviceEntry(msgspec.Struct, forbid_unknown_fields=True):
    """One device in a ``--devices`` file; the first entry, or the one named "host", is this device."""

    name: str
    memory: str | int  # RAM usable by the model: "8G", or bytes
    bandwidth_gbs: float  # weights its CPU reads per second while decoding, in GB/s
    hop_ms: float = 0.0  # per-token cost of reaching it from the host
    layer_ms: float = 0.0  # what each layer costs its CPU beyond its weights
    gpus: list[GpuEntry] = []  # its accelerators: layers there first (as ``NAME/gpu0`` in a plan)


def _size(path: str, name: str, memory: str | int, bandwidth_gbs: float) -> int:
    size = parse_size(memory) if isinstance(memory, str) else memory
    if bandwidth_gbs <= 0 or size < 0:
        raise PlanError(f"{path}: '{name}' has a negative or zero figure")
    return size


def load_devices(path: str) -> tuple[DeviceSpec, list[DeviceSpec]]:
    try:
        with open(path, "rb") as f:
            entries = msgspec.json.decode(f.read(), type=list[DeviceEntry])
    except OSError as exc:
        raise PlanError(f"cannot read {path}: {exc.strerror}") from None
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise PlanError(f"{path}: {exc}") from None
    if not entries:
        raise PlanError(f"{path} lists no devices")
    specs = []
    for e in entries:
        memory = _size(path, e.name, e.memory, e.bandwidth_gbs)
        if e.hop_ms < 0 or e.layer_ms < 0:
            raise PlanError(f"{path}: '{e.name}' has a negative or zero figure")
        gpus = tuple(
            Pool(g.name, _size(path, e.name, g.memory, g.bandwidth_gbs), g.bandwidth_gbs * 1e9)
            for g in e.gpus
        )
        specs.append(
            DeviceSpec(
                PlanKey(e.name),
                memory,
                e.bandwidth_gbs * 1e9,
                e.hop_ms / 1000,
                accelerators=gpus,
                layer_s=e.layer_ms / 1000,
            )
        )
    host_index = next((i for i, s in enumerate(specs) if s.name == HOST), 0)
    host = specs.pop(host_index)
    return dataclasses.replace(host, name=HOST, hop_s=0.0), specs


def _choose_here(
    profile: ModelProfile, host: DeviceSpec, remotes: list[DeviceSpec], n_ctx: int, plan: str | None
) -> Prediction:
    """The plan over the devices of a file, sized by llama.cpp in an engine process of this command."""
    import asyncio

    async def choose() -> Prediction:
        check = MemoryCheck()
        try:
            return await choose_sized(profile, host, remotes, n_ctx, check, plan)
        finally:
            await check.close()

    return asyncio.run(choose())


def _ask_node(model: str, n_ctx: int, plan: str | None) -> PlanReport:
    import asyncio

    from hearth.api.local import LocalClient

    return asyncio.run(LocalClient.once(msg.PlanRequest(model=model, n_ctx=n_ctx, plan=plan)))


def cmd_plan(args: argparse.Namespace) -> int:
    try:
        profile = read_profile(args.model)
        n_ctx = args.ctx or default_context(profile)
        if args.devices:
            host, remotes = load_devices(args.devices)
            report = plan_report(_choose_here(profile, host, remotes, n_ctx, args.plan), host, remotes)
        else:
            # The node plans over what it sees now, as it does for a pooled chat without --plan.
            report = _ask_node(args.model, n_ctx, args.plan)
    except (GGUFError, PlanError, ValueError, LocalApiError) as exc:
        print(f"hearth: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(msgspec.to_builtins(report), indent=2))
        return 0
    print(
        fill(
            translate("Cli", "plan %1  ·  %2 tokens/s predicted  ·  context %3"),
            report.plan,
            f"{report.tokens_per_s:.1f}",
            n_ctx,
        )
    )
    print(f"{'DEVICE':<14} {'LAYERS':<9} {'WEIGHTS':>9} {'KV':>8} {'COMPUTE':>8} {'FREE':>9} {'MS/TOKEN':>9}")
    for r in report.devices:
        layers = f"{r.layers[0]}-{r.layers[1]}" if r.layers else "-"
        print(
            f"{r.device[:14]:<14} {layers:<9} {r.weights / MIB:>7.0f}Mi {r.kv / MIB:>6.0f}Mi "
            f"{r.compute / MIB:>6.0f}Mi {r.free / MIB:>7.0f}Mi {r.ms_per_token:>9.2f}"
        )
    for name, why in report.left_out.items():
        print(f"{name}: {why}")
    if report.sized_by_llama:
        print(translate("Cli", "Compute buffers as llama.cpp sizes them for this plan."))
    return 0


def add_command(sub: Any) -> None:
    plan = sub.add_parser("plan", help="show where a model's layers would go and how fast it would answer")
    plan.add_argument("--model", required=True)
    plan.add_argument(
        "--ctx", type=int, default=None, help="context length (default: the model's, at most 4096)"
    )
    plan.add_argument(
        "--devices",
        help="a JSON list of devices, for planning without the hardware (default: the paired devices "
        "that donate, as the node running here sees them)",
    )
    plan.add_argument("--plan", help='check a plan such as "host:0-9,desktop:10-31" instead of choosing one')
    plan.add_argument("--json", action="store_true")
    plan.set_defaults(func=cmd_plan)
