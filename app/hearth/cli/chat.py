"""``hearth chat``: one question with --prompt, or an interactive chat on the terminal."""

from __future__ import annotations

import argparse
import asyncio
import sys

from hearth.api import local_messages as msg
from hearth.api.local import LocalApiError, LocalClient
from hearth.cli.draft import draft_choice
from hearth.cli.say import translate
from hearth.core.fill import fill
from hearth.core.names import model_display_name
from hearth.core.profile import ModelProfile, default_context
from hearth.service.drafting import guessing_here
from hearth.service.solo import Done, EngineDied, EngineError, Sampling, SoloChat

EXIT_ENGINE = 3
EXIT_INTERRUPTED = 130


def _stats(done: Done) -> str:
    kept = "" if done.acceptance is None else f" · {done.acceptance:.0%} of {done.drafted} guesses kept"
    return (
        f"[{done.completion_tokens} tokens · first token {done.ttft_s * 1000:.0f} ms · "
        f"{done.decode_tokens_per_s:.1f} tokens/s{kept} · {done.reason}]"
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

    def __init__(self, model: str, n_ctx: int) -> None:
        self.model = model
        self.n_ctx = n_ctx
        self.client: LocalClient | None = None

    async def reserve(self, plan: str | None) -> msg.PoolAnswer:
        if self.client is None:
            self.client = await LocalClient.open()
        pool = await self.client.call(msg.Pool(model=self.model, plan=plan, n_ctx=self.n_ctx))
        devices = ", ".join([translate("Cli", "this device"), *pool.devices])
        print(
            fill(translate("Cli", "pooled over %1: %2"), devices, pool.plan),
            file=sys.stderr,
        )
        return pool

    async def failures(self) -> list[str]:
        if self.client is None:
            return []
        try:
            return (await self.client.call(msg.PoolFailures())).failures
        except LocalApiError:
            return ["the local node is gone"]

    async def close(self) -> None:
        if self.client is not None:
            await self.client.close()


async def _load(chat: SoloChat, pool: msg.PoolAnswer | None, label: str) -> None:
    interactive = sys.stderr.isatty()

    def progress(fraction: float) -> None:
        if interactive:
            sys.stderr.write(f"\rloading {label}: {fraction * 100:3.0f}%")
            sys.stderr.flush()

    await chat.load(pool, progress)
    if interactive:
        sys.stderr.write("\n")


def run_chat(args: argparse.Namespace, profile: ModelProfile) -> int:
    n_ctx = args.ctx or default_context(profile)
    chat = SoloChat(
        args.model,
        n_ctx,
        threads=args.threads,
        gpu_layers=args.gpu_layers,
        history=not args.no_history,
        system_prompt=args.system,
        sampling=Sampling(max_tokens=args.max_tokens, temperature=args.temperature, seed=args.seed),
        guessing=guessing_here(profile, n_ctx, draft_choice(args.draft)),
    )
    pool = _Pool(args.model, n_ctx) if args.pool else None
    label = model_display_name(profile.path, profile.name) if profile.path else args.model
    with asyncio.Runner() as runner:
        try:
            try:
                reserved = runner.run(pool.reserve(args.plan)) if pool else None
                runner.run(_load(chat, reserved, label))
            except (EngineError, LocalApiError) as exc:
                failed = runner.run(pool.failures()) if pool and isinstance(exc, EngineDied) else []
                why = "; ".join(failed) or str(exc)
                said = fill(translate("Cli", "could not load %1: %2"), args.model, why)
                print(f"hearth: {said}", file=sys.stderr)
                return EXIT_ENGINE
            if args.prompt is not None:
                return _turn(runner, chat, args.prompt, pool)
            return _interactive(runner, chat, pool, label)
        finally:
            runner.run(chat.close())
            if pool is not None:
                runner.run(pool.close())


def _turn(runner: asyncio.Runner, chat: SoloChat, text: str, pool: _Pool | None) -> int:
    try:
        try:
            done = runner.run(chat.ask(text, _show))
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
    # The answer's end reaches the terminal before the stats do: stdout is buffered, stderr is not, and
    # without the flush the stats would land on the answer's last line.
    print(flush=True)
    print(_stats(done), file=sys.stderr, flush=True)
    return 0


def _interactive(runner: asyncio.Runner, chat: SoloChat, pool: _Pool | None, label: str) -> int:
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
        if _turn(runner, chat, text, pool) == EXIT_ENGINE and pool is not None:
            # A device failed: plan again over the devices that are still there.
            try:
                reserved = runner.run(pool.reserve(None))
                runner.run(_load(chat, reserved, label))
            except (EngineError, LocalApiError) as exc:
                print(
                    "hearth: " + fill(translate("Cli", "cannot pool again: %1"), exc),
                    file=sys.stderr,
                )
