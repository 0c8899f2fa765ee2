"""``hearth chat``: one question with --prompt, or an interactive chat on the terminal."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from hearth.api.local import LocalApiError, LocalClient
from hearth.cli.say import translate
from hearth.core.fill import fill
from hearth.core.profile import ModelProfile, default_context
from hearth.engine import messages as m
from hearth.engine.client import EngineClient, EngineDied, EngineError
from hearth.engine.messages import Sampling
from hearth.models.mlx_model import is_mlx_model
from hearth.service.chat import ChatSession
from hearth.store import paths
from hearth.store.conversations import ConversationStore

EXIT_ENGINE = 3
EXIT_INTERRUPTED = 130


def _stats(done: m.Done) -> str:
    return (
        f"[{done.completion_tokens} tokens · first token {done.ttft_s * 1000:.0f} ms · "
        f"{done.decode_tokens_per_s:.1f} tokens/s · {done.reason}]"
    )


FLUSH_S = 0.03


class _Screen:
    """Writes an answer as it streams, flushing at most every ``FLUSH_S``: a terminal redraws at
    screen speed anyway, and a flush per token wakes the terminal (or whatever reads the pipe) once
    per token, taking a core from the model on a small machine."""

    def __init__(self) -> None:
        self._pending: asyncio.TimerHandle | None = None

    def show(self, text: str) -> None:
        sys.stdout.write(text)
        if self._pending is None:
            self._pending = asyncio.get_running_loop().call_later(FLUSH_S, self.flush)

    def flush(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
        sys.stdout.flush()


_screen = _Screen()


def _show(text: str) -> None:
    _screen.show(text)


class _Pool:
    """The pooled devices, reserved through the node running here for as long as the chat lasts."""

    def __init__(self, args: argparse.Namespace, n_ctx: int) -> None:
        self.args = args
        self.n_ctx = n_ctx
        self.client: LocalClient | None = None

    async def reserve(self, plan: str | None) -> dict[str, Any]:
        if self.client is None:
            self.client = await LocalClient.open()
        pool = await self.client.call("pool", model=self.args.model, plan=plan, n_ctx=self.n_ctx)
        devices = ", ".join([translate("Cli", "this device"), *pool["devices"]])
        print(
            fill(translate("Cli", "pooled over %1: %2"), devices, pool["plan"]),
            file=sys.stderr,
        )
        return pool

    async def failures(self) -> list[str]:
        if self.client is None:
            return []
        try:
            return list((await self.client.call("pool_failures"))["failures"])
        except LocalApiError:
            return ["the local node is gone"]

    async def close(self) -> None:
        if self.client is not None:
            await self.client.close()


def _request(args: argparse.Namespace, n_ctx: int, pool: dict[str, Any] | None) -> m.LoadModel:
    if pool is None:
        backend = "mlx" if is_mlx_model(args.model) else "llama"
        return m.LoadModel(
            args.model, n_ctx=n_ctx, n_threads=args.threads, n_gpu_layers=args.gpu_layers, backend=backend
        )
    return m.LoadModel(
        args.model,
        n_ctx=n_ctx,
        n_threads=args.threads,
        n_gpu_layers=pool["n_gpu_layers"],
        tensor_split=pool["tensor_split"],
        rpc_servers=pool["endpoints"],
    )


async def _load(engine: EngineClient, request: m.LoadModel, label: str) -> m.Loaded:
    interactive = sys.stderr.isatty()

    def progress(fraction: float) -> None:
        if interactive:
            sys.stderr.write(f"\rloading {label}: {fraction * 100:3.0f}%")
            sys.stderr.flush()

    loaded = await engine.load(request, progress)
    if interactive:
        sys.stderr.write("\n")
    return loaded


def run_chat(args: argparse.Namespace, profile: ModelProfile) -> int:
    store = None if args.no_history else ConversationStore(paths.conversations_db())
    engine = EngineClient()
    sampling = Sampling(max_tokens=args.max_tokens, temperature=args.temperature, seed=args.seed)
    session = ChatSession(
        engine.generate, args.model, store=store, system_prompt=args.system, sampling=sampling
    )
    n_ctx = args.ctx or default_context(profile)
    pool = _Pool(args, n_ctx) if args.pool else None
    label = profile.name or args.model
    with asyncio.Runner() as runner:
        try:
            try:
                reserved = runner.run(pool.reserve(args.plan)) if pool else None
                runner.run(_load(engine, _request(args, n_ctx, reserved), label))
            except (EngineError, LocalApiError) as exc:
                failed = runner.run(pool.failures()) if pool and isinstance(exc, EngineDied) else []
                why = "; ".join(failed) or str(exc)
                said = fill(translate("Cli", "could not load %1: %2"), args.model, why)
                print(f"hearth: {said}", file=sys.stderr)
                return EXIT_ENGINE
            if args.prompt is not None:
                return _turn(runner, session, args.prompt, pool)
            return _interactive(runner, engine, session, pool, lambda p: _request(args, n_ctx, p), label)
        finally:
            runner.run(engine.close())
            if pool is not None:
                runner.run(pool.close())
            if store is not None:
                store.close()


def _turn(runner: asyncio.Runner, session: ChatSession, text: str, pool: _Pool | None) -> int:
    try:
        try:
            done = runner.run(session.ask(text, _show))
        finally:
            _screen.flush()
    except KeyboardInterrupt:
        # The Runner cancelled the turn; the session stopped the engine and kept the partial answer.
        print("\n[" + translate("Cli", "stopped") + "]", file=sys.stderr)
        return EXIT_INTERRUPTED
    except EngineError as exc:
        failed = runner.run(pool.failures()) if pool and isinstance(exc, EngineDied) else []
        reason = "; ".join(failed) if failed else str(exc)
        print("\nhearth: " + fill(translate("Cli", "the answer stopped: %1"), reason), file=sys.stderr)
        return EXIT_ENGINE
    print()
    print(_stats(done), file=sys.stderr)
    return 0


def _interactive(
    runner: asyncio.Runner,
    engine: EngineClient,
    session: ChatSession,
    pool: _Pool | None,
    request: Any,
    label: str,
) -> int:
    print(
        translate("Cli", "Type a message and press Enter. Ctrl-C stops an answer; /exit or Ctrl-D leaves."),
        file=sys.stderr,
    )
    while True:
        try:
            text = input("> ")
        except (EOFError, KeyboardInterrupt):
            print(file=sys.stderr)
            return 0
        text = text.strip()
        if not text:
            continue
        if text in ("/exit", "/quit"):
            return 0
        if _turn(runner, session, text, pool) == EXIT_ENGINE and pool is not None:
            # A device failed: plan again over the devices that are still there.
            try:
                reserved = runner.run(pool.reserve(None))
                runner.run(_load(engine, request(reserved), label))
            except (EngineError, LocalApiError) as exc:
                print(
                    "hearth: " + fill(translate("Cli", "cannot pool again: %1"), exc),
                    file=sys.stderr,
                )
