"""``hearth serve``: a device without a window that loads a model and serves it to other apps."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
from typing import TYPE_CHECKING, Any

from hearth.cli.draft import add_draft_argument, draft_choice
from hearth.cli.node import EXIT_FAILED, add_node_options, log_to_terminal, run_service
from hearth.cli.say import translate
from hearth.core.errors import HearthError
from hearth.core.fill import fill

if TYPE_CHECKING:
    from hearth.service.root import Hearth

SETTLE_S = 10.0  # how long paired devices get to connect before a pooled plan is chosen


def cmd_serve(args: argparse.Namespace) -> int:
    from hearth.service.planning import said_at_once
    from hearth.service.storage import load_api

    log_to_terminal(args.verbose)
    changes: dict[str, Any] = {"enabled": True, "lan": args.lan}
    if args.api_port is not None:
        changes["port"] = args.api_port
    if args.api_host is not None:
        changes["host"] = args.api_host
    if args.ollama_port is not None:
        changes["ollama"] = args.ollama_port >= 0
        changes["ollama_port"] = max(args.ollama_port, 0)
    # For this run only: the window's saved settings stay as the user left them.
    settings = dataclasses.replace(load_api(), **changes)

    async def load(services: Hearth) -> None:
        if args.parallel is not None:
            services.plans.set_at_once(args.parallel, save=False)
        if args.answer_devices is not None:
            await services.donation.answer_devices(args.answer_devices)
        pooled = bool(args.pool or args.plan)
        if pooled:
            await services.plans.settle(SETTLE_S)
        choice = await services.plans.choose(args.model, args.ctx, args.plan, pooled=pooled)
        print(
            fill(
                translate("Cli", "loading %1 with plan %2 (context %3)"),
                args.model,
                choice.prediction.plan,
                choice.n_ctx,
            ),
            flush=True,
        )
        print(said_at_once(choice.prediction, choice.n_ctx), flush=True)
        plan = choice.prediction.plan
        await services.serving.load(choice.profile, plan, choice.n_ctx, threads=args.threads)
        status = services.api.status
        if status.error:
            raise HearthError(f"the model is loaded but other apps cannot reach it: {status.error}")
        said = fill(translate("Cli", "serving %1 at %2"), services.serving.served_name(), status.url)
        print(said, flush=True)
        # Like the key below, a line for programs and people alike: the address, or why there is none.
        ollama_status = services.api.ollama_status
        if ollama_status.url or ollama_status.error:
            print(f"ollama: {ollama_status.url or ollama_status.error}", flush=True)
        if settings.needs_key:
            print(
                translate("Cli", "every request needs the key: `hearth serve` shows it with --show-key"),
                flush=True,
            )
        if args.show_key:
            print(f"key: {await services.api.key()}", flush=True)
        if services.donation.settings.answers:
            print(translate("Cli", "paired devices' apps may be answered here too"), flush=True)

    speculation = draft_choice(args.draft)
    try:
        asyncio.run(run_service(args, load, http=True, api_settings=settings, speculation=speculation))
    except HearthError as exc:
        print(f"hearth: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return 0


def at_once_choice(text: str) -> int:
    """``--parallel``: 1 to ``MOST_AT_ONCE``, or "auto" (0: as many as memory allows)."""
    from hearth.service.storage import MOST_AT_ONCE

    if text == "auto":
        return 0
    try:
        n = int(text)
    except ValueError:
        n = -1
    if not 1 <= n <= MOST_AT_ONCE:
        raise argparse.ArgumentTypeError(f"'{text}' is not 1 to {MOST_AT_ONCE} or auto")
    return n


def add_command(sub: Any) -> None:
    from hearth.service.storage import DEFAULT_API_PORT, DEFAULT_OLLAMA_PORT, MOST_AT_ONCE

    serve = sub.add_parser(
        "serve", help="load a model and serve it to other apps (OpenAI-compatible API), without a window"
    )
    serve.add_argument("--model", required=True, help="path of a .gguf file")
    serve.add_argument("--ctx", type=int, help="context length (default: the model's, at most 4096)")
    serve.add_argument(
        "--threads", type=int, help="CPU threads (default: one per physical core, as llama.cpp)"
    )
    serve.add_argument(
        "--parallel",
        type=at_once_choice,
        metavar="N",
        help=f"answers the model gives at once, 1 to {MOST_AT_ONCE}, or auto: as many as memory allows "
        "(default: as in Settings)",
    )
    serve.add_argument("--pool", action="store_true", help="spread the model over paired, donating devices")
    serve.add_argument("--plan", help='layer ranges, e.g. "host:0-9,desktop:10-31" (implies --pool)')
    serve.add_argument("--api-port", type=int, help=f"port for other apps (default {DEFAULT_API_PORT})")
    serve.add_argument(
        "--ollama-port",
        type=int,
        help=f"port of the Ollama API (default: as in Settings, first {DEFAULT_OLLAMA_PORT}; "
        "any free one with --api-port 0; -1: none)",
    )
    serve.add_argument("--api-host", default=None, help="listen for other apps on this address only")
    serve.add_argument(
        "--lan", action="store_true", help="let devices on the network use it too (with the key)"
    )
    serve.add_argument("--show-key", action="store_true", help="print the key other apps must send")
    serve.add_argument(
        "--answer-devices",
        action=argparse.BooleanOptionalAction,
        help="answer paired devices' apps with this model when theirs is busy (saved, as in Settings)",
    )
    add_node_options(serve)
    add_draft_argument(serve)
    serve.add_argument("-v", "--verbose", action="store_true")
    serve.set_defaults(func=cmd_serve)
