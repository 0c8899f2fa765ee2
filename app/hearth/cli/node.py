"""``hearth node``, ``hearth id``, ``hearth devices``, ``hearth pair`` and ``hearth forget``."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import logging
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import msgspec

from hearth.api import local_messages as msg
from hearth.api.local import LocalApiError, LocalClient
from hearth.cli.say import translate
from hearth.core.fill import fill
from hearth.core.pairing import PairingError, normalize_code
from hearth.core.units import MIB, human_size

if TYPE_CHECKING:
    from hearth.service.devices import CodeShown
    from hearth.service.node import NodeOptions
    from hearth.service.root import Hearth
    from hearth.service.storage import ApiSettings, Speculation

EXIT_FAILED = 1
A = TypeVar("A")


def cmd_node(args: argparse.Namespace) -> int:
    log_to_terminal(args.verbose)
    from hearth.service.storage import parse_size, update_donation

    try:
        max_memory = parse_size(args.max_memory) if args.max_memory else 0
        max_vram = parse_size(args.max_vram) if args.max_vram else 0
    except ValueError as exc:
        print(f"hearth: {exc}", file=sys.stderr)
        return EXIT_FAILED
    answers = {
        key: value
        for key, value in (("answers", args.answer_devices), ("loads", args.load_for_devices))
        if value is not None
    }
    update_donation(
        enabled=args.donate, max_memory=max_memory, max_vram=max_vram, threads=args.threads or 0, **answers
    )

    asyncio.run(run_service(args, _said_donation, http=False))
    return 0


def log_to_terminal(verbose: bool) -> None:
    """What a service without a window logs: warnings, or with ``-v`` what it does."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(message)s")
    logging.getLogger("websockets").setLevel(logging.WARNING)


async def _said_donation(services: Hearth) -> None:
    donation = services.donation
    if donation.settings.enabled:
        mib = donation.donated_bytes // MIB
        print(
            f"donating up to {mib} MiB and {donation.settings.effective_threads()} threads to paired hosts",
            flush=True,
        )
        if services.devices.status().rdma_compiled:
            print("this llama.cpp can use RDMA; Hearth keeps every worker on its TLS tunnel", flush=True)
    if donation.settings.loads and not donation.settings.answers:
        print(
            "loading models for paired devices' apps needs answering them too (--answer-devices)", flush=True
        )
    if donation.settings.answers:
        loads = donation.settings.loads
        print(
            "answering paired devices' apps when their model is busy"
            + (
                ", loading the same model of this library for them while nothing is loaded here"
                if loads
                else ""
            ),
            flush=True,
        )


async def run_service(
    args: argparse.Namespace,
    started: Callable[[Hearth], Awaitable[None]],
    http: bool,
    api_settings: ApiSettings | None = None,
    speculation: Speculation | None = None,
) -> None:
    """Run this device's service without a window until SIGINT or SIGTERM (``node`` and ``serve``):
    the local API always, the HTTP API for other apps with ``http``."""
    from hearth.api.local import LocalApi
    from hearth.api.running import Apis
    from hearth.service.root import running

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    def show(shown: CodeShown) -> None:
        print(shown.describe(), flush=True)

    async with running(
        node_options(args), show_code=show, api_settings=api_settings, speculation=speculation
    ) as services:
        api: Apis | LocalApi = Apis(services) if http else LocalApi(services)
        try:
            await api.start()
            me = services.devices.status()
            print(
                f"Hearth node '{me.name}' ({me.device_id}) listening on {args.host or '*'}:{me.port}",
                flush=True,
            )
            if me.key_warning:
                print(f"warning: {me.key_warning}", flush=True)
            # What the command does once the service runs (loading a model) ends early on a signal.
            work = asyncio.ensure_future(started(services))
            stopping = asyncio.ensure_future(stop.wait())
            await asyncio.wait({work, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if work.done():
                work.result()  # its failure ends the command
            else:
                work.cancel()
            await stopping
        finally:
            await api.stop()
    print("stopped", flush=True)


def cmd_id(args: argparse.Namespace) -> int:
    from hearth.service.storage import device_identity

    ident = device_identity()
    if args.json:
        print(
            json.dumps(
                {
                    "device_id": ident.device_id,
                    "short_id": ident.short_id,
                    "name": ident.name,
                    "key_storage": ident.key_storage,
                }
            )
        )
        return 0
    print(f"name       {ident.name}")
    print(f"device ID  {ident.device_id}")
    print(f"short ID   {ident.short_id}")
    print(f"key        {'OS keyring' if ident.key_storage == 'keyring' else 'file (no secure keyring here)'}")
    if ident.key_warning:
        print(f"warning: {ident.key_warning}", file=sys.stderr)
    return 0


def _gib(n: int | None) -> str:
    return human_size(n) if n else "-"


def cmd_devices(args: argparse.Namespace) -> int:
    answer = _ask_node(msg.Devices())
    if answer is None:
        return EXIT_FAILED
    devices = answer.devices
    if args.json:
        print(json.dumps(msgspec.to_builtins(devices), indent=2))
        return 0
    print(f"{'NAME':<20} {'ID':<10} {'STATE':<12} {'MEMORY FREE/TOTAL':<20} {'ACCELERATOR':<24} LATENCY")
    for d in devices:
        state = (
            "this device"
            if d.this_device
            else ("connected" if d.connected else "paired" if d.paired else "not paired")
        )
        latency = f"{d.latency_ms:.1f} ms" if d.latency_ms else "-"
        memory = f"{_gib(d.memory_free)} / {_gib(d.memory_total)}"
        name, accelerator = d.name[:20], d.accelerator[:24]
        print(f"{name:<20} {d.short_id:<10} {state:<12} {memory:<20} {accelerator:<24} {latency}")
    return 0


def cmd_pair(args: argparse.Namespace) -> int:
    async def run() -> msg.DeviceNamed:
        client = await LocalClient.open()
        try:
            started = await client.call(msg.Pair(device=args.device))
            who = f"{started.peer_name} ({started.peer_id[:9]})"
            print(fill(translate("Cli", "%1 shows a 6-digit code."), who), file=sys.stderr)
            code = args.code
            if code is None:
                code = await asyncio.to_thread(_ask_code)
            return await client.call(msg.PairCode(attempt=started.attempt, code=normalize_code(code)))
        finally:
            await client.close()

    try:
        paired = asyncio.run(run())
    except (LocalApiError, PairingError) as exc:
        print("hearth: " + fill(translate("Cli", "pairing failed: %1"), exc), file=sys.stderr)
        return EXIT_FAILED
    print(fill(translate("Cli", "paired with %1"), f"{paired.name} ({paired.device_id})"))
    return 0


def _ask_code() -> str:
    if sys.stdin.isatty():
        return getpass.getpass(translate("Cli", "Code: "))
    line = sys.stdin.readline()
    if not line:
        raise PairingError(translate("Cli", "no code was entered"))
    return line.strip()


def _ask_node(request: msg.Request[A]) -> A | None:
    """One request to the running node; prints the error and returns None when it fails."""
    try:
        return asyncio.run(LocalClient.once(request))
    except LocalApiError as exc:
        print(f"hearth: {exc}", file=sys.stderr)
        return None


def cmd_forget(args: argparse.Namespace) -> int:
    gone = _ask_node(msg.Forget(device=args.device))
    if gone is None:
        return EXIT_FAILED
    print(fill(translate("Cli", "forgot %1"), f"{gone.name} ({gone.device_id})"))
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    added = _ask_node(msg.Add(address=args.address))
    if added is None:
        return EXIT_FAILED
    who = f"{added.name} ({added.device_id})"
    print(fill(translate("Cli", "added %1 at %2"), who, args.address))
    print(fill(translate("Cli", "pair with: %1"), f"hearth pair {args.address}"))
    return 0


def add_node_options(parser: argparse.ArgumentParser) -> None:
    """Where this device's service listens and what it is called (``node`` and ``window``)."""
    from hearth.service.node import DEFAULT_PORT

    parser.add_argument("--name", help="the name other devices see (default: the host name)")
    parser.add_argument("--host", help="listen and advertise on this address only")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"listening port (default {DEFAULT_PORT}; 0: any)"
    )
    parser.add_argument("--no-discovery", action="store_true", help="do not advertise or browse with mDNS")
    parser.add_argument(
        "--no-probe", action="store_true", help="do not measure this device's speed (plan with a default)"
    )


def node_options(args: argparse.Namespace) -> NodeOptions:
    from hearth.service.node import NodeOptions

    return NodeOptions(
        name=args.name,
        host=args.host,
        port=args.port,
        discovery=not args.no_discovery,
        probe=not args.no_probe,
    )


def add_commands(sub: Any) -> None:
    node = sub.add_parser("node", help="run this device's Hearth service without a window")
    add_node_options(node)
    node.add_argument("--donate", action="store_true", help="let paired hosts run model layers here")
    node.add_argument("--max-memory", help="with --donate: at most this much memory, e.g. 8G (default: half)")
    node.add_argument(
        "--max-vram",
        help="with --donate: at most this much of each GPU's memory, e.g. 6G (default: all but headroom)",
    )
    node.add_argument("--threads", type=int, help="with --donate: at most this many threads (default: all)")
    node.add_argument(
        "--answer-devices",
        action=argparse.BooleanOptionalAction,
        help="answer paired devices' apps when their model is busy (saved, as in Settings)",
    )
    node.add_argument(
        "--load-for-devices",
        action=argparse.BooleanOptionalAction,
        help="with --answer-devices: while nothing is loaded here, load the same model from this "
        "device's library to answer them; unloaded after 5 minutes unused (saved, as in Settings)",
    )
    node.add_argument("-v", "--verbose", action="store_true")
    node.set_defaults(func=cmd_node)

    ident = sub.add_parser("id", help="show this device's ID")
    ident.add_argument("--json", action="store_true")
    ident.set_defaults(func=cmd_id)

    devices = sub.add_parser("devices", help="list neighbours and paired devices (needs a running node)")
    devices.add_argument("--json", action="store_true")
    devices.set_defaults(func=cmd_devices)

    pair = sub.add_parser("pair", help="pair with a device by name, ID prefix or host:port")
    pair.add_argument("device")
    pair.add_argument("--code", help="the code the other device shows (prompted for otherwise)")
    pair.set_defaults(func=cmd_pair)

    add = sub.add_parser("add", help="add a device by host:port where mDNS does not reach it")
    add.add_argument("address")
    add.set_defaults(func=cmd_add)

    forget = sub.add_parser("forget", help="stop trusting a paired device, at once")
    forget.add_argument("device")
    forget.set_defaults(func=cmd_forget)
