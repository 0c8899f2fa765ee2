"""``hearth chat``: one question with --prompt, or an interactive chat on the terminal."""

from __future__ import annotations

import argparse
import asyncio
import sys

from hearth import paths
from hearth.chat import ChatSession, Sampling
from hearth.core.profile import ModelProfile
from hearth.engine import messages as m
from hearth.engine.client import EngineClient, EngineError
from hearth.store.conversations import ConversationStore

DEFAULT_CTX = 4096
EXIT_ENGINE = 3
EXIT_INTERRUPTED = 130


def _stats(done: m.Done) -> str:
    return (
        f"[{done.completion_tokens} tokens · first token {done.ttft_s * 1000:.0f} ms · "
        f"{done.decode_tokens_per_s:.1f} tokens/s · {done.reason}]"
    )


def _show(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


async def _load(engine: EngineClient, args: argparse.Namespace, profile: ModelProfile) -> m.Loaded:
    n_ctx = args.ctx or min(profile.context_length or DEFAULT_CTX, DEFAULT_CTX)
    interactive = sys.stderr.isatty()

    def progress(fraction: float) -> None:
        if interactive:
            sys.stderr.write(f"\rloading {profile.name or args.model}: {fraction * 100:3.0f}%")
            sys.stderr.flush()

    loaded = await engine.load(
        m.LoadModel(args.model, n_ctx=n_ctx, n_threads=args.threads, n_gpu_layers=args.gpu_layers), progress
    )
    if interactive:
        sys.stderr.write("\n")
    return loaded


def run_chat(args: argparse.Namespace, profile: ModelProfile) -> int:
    store = None if args.no_history else ConversationStore(paths.conversations_db())
    engine = EngineClient()
    sampling = Sampling(max_tokens=args.max_tokens, temperature=args.temperature, seed=args.seed)
    session = ChatSession(engine, args.model, store=store, system_prompt=args.system, sampling=sampling)
    with asyncio.Runner() as runner:
        try:
            try:
                runner.run(_load(engine, args, profile))
            except EngineError as exc:
                print(f"hearth: could not load {args.model}: {exc}", file=sys.stderr)
                return EXIT_ENGINE
            if args.prompt is not None:
                return _turn(runner, session, args.prompt, one_shot=True)
            return _interactive(runner, session)
        finally:
            runner.run(engine.close())
            if store is not None:
                store.close()


def _turn(runner: asyncio.Runner, session: ChatSession, text: str, one_shot: bool = False) -> int:
    try:
        done = runner.run(session.ask(text, _show))
    except KeyboardInterrupt:
        # The Runner cancelled the turn; the session stopped the engine and kept the partial answer.
        print("\n[stopped]", file=sys.stderr)
        return EXIT_INTERRUPTED
    except EngineError as exc:
        print(f"\nhearth: {exc}", file=sys.stderr)
        return EXIT_ENGINE
    print()
    print(_stats(done), file=sys.stderr)
    return 0


def _interactive(runner: asyncio.Runner, session: ChatSession) -> int:
    print("Type a message and press Enter. Ctrl-C stops an answer; /exit or Ctrl-D leaves.", file=sys.stderr)
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
        _turn(runner, session, text)
