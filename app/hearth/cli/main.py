"""The ``hearth`` command."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from hearth import __version__
from hearth.cli.draft import add_draft_argument
from hearth.core.errors import HearthError
from hearth.core.gguf_header import GGUFError
from hearth.core.profile import ModelProfile

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


def _mib(n: float) -> str:
    return f"{n / 2**20:,.1f} MiB"


def _print_profile(p: ModelProfile) -> None:
    rows = [
        ("file", p.path),
        ("name", p.name or "-"),
        ("architecture", p.architecture),
        ("parameters", f"{p.parameters / 1e6:,.1f} M"),
        (
            "quantization",
            p.dominant_type
            + "  ("
            + ", ".join(f"{k}: {v.tensors} tensors {_mib(v.bytes)}" for k, v in p.quantization.items())
            + ")",
        ),
        ("layers", str(p.block_count)),
        ("embedding", str(p.embedding_length)),
        ("heads / kv heads", f"{p.head_count} / {p.head_count_kv} (head dim {p.head_dim_k})"),
        ("context length", str(p.context_length)),
        ("vocabulary", str(p.vocab_size)),
        ("tied embeddings", "yes" if p.tied_embeddings else "no"),
        ("chat template", "yes" if p.has_chat_template else "no: continues text; not tuned for chat"),
        (
            "layer bytes",
            f"{_mib(min(p.layer_bytes))} to {_mib(max(p.layer_bytes))} each, "
            f"{_mib(sum(p.layer_bytes))} in all",
        ),
        ("token embedding", _mib(p.token_embd_bytes)),
        ("output head", _mib(p.output_bytes) if p.output_bytes else "tied to the token embedding"),
        (
            "KV cache (f16)",
            f"{p.kv_bytes_per_token_per_layer('f16') * p.block_count / 1024:,.1f} KiB per token",
        ),
        ("tensor data", _mib(p.tensor_data_bytes)),
    ]
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")


def _read_model(path: str) -> ModelProfile | None:
    """The model's profile (a GGUF file or an MLX folder), or None after saying on stderr why it is
    not usable."""
    from hearth.service.model_files import profile_of

    try:
        return profile_of(path)
    except GGUFError as exc:
        print(f"hearth: {path}: {exc}", file=sys.stderr)
        return None


def cmd_profile(args: argparse.Namespace) -> int:
    profile = _read_model(args.file)
    if profile is None:
        return EXIT_BAD_INPUT
    if args.json:
        print(json.dumps(profile.to_json(), indent=2))
    else:
        _print_profile(profile)
    return 0


def cmd_synth(args: argparse.Namespace) -> int:
    from hearth.service.model_files import write_synthetic

    print(write_synthetic(args.size, Path(args.out) if args.out else None, seed=args.seed, force=args.force))
    return 0


def cmd_self_test(args: argparse.Namespace) -> int:
    from hearth.cli.selftest import cmd_self_test as run

    return run(args)


def cmd_chat(args: argparse.Namespace) -> int:
    from hearth.cli.chat import run_chat

    profile = _read_model(args.model)
    return EXIT_BAD_INPUT if profile is None else run_chat(args, profile)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hearth", description="Pool the computers of a home into one private AI."
    )
    parser.add_argument("--version", action="version", version=f"hearth {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    chat = sub.add_parser("chat", help="chat with a GGUF model")
    chat.add_argument("--model", required=True, help="path of a .gguf file")
    chat.add_argument("--prompt", help="answer this one message and exit")
    chat.add_argument("--system", default="", help="system prompt")
    chat.add_argument("--max-tokens", type=int, default=512)
    chat.add_argument("--temperature", type=float, default=0.8)
    chat.add_argument("--seed", type=int, default=None)
    chat.add_argument(
        "--ctx", type=int, default=None, help="context length (default: the model's, at most 4096)"
    )
    chat.add_argument(
        "--threads", type=int, default=None, help="CPU threads (default: one per physical core, as llama.cpp)"
    )
    chat.add_argument(
        "--gpu-layers",
        type=int,
        default=None,
        help="layers on this machine's GPU (default: as many as fit; 0: none; -1: all)",
    )
    chat.add_argument("--no-history", action="store_true", help="do not record the conversation")
    add_draft_argument(chat)
    chat.add_argument("--pool", action="store_true", help="spread the model over paired, donating devices")
    chat.add_argument(
        "--plan",
        help='with --pool: layer ranges, e.g. "host:0-9,desktop:10-19,laptop:20-31" (default: automatic)',
    )
    chat.set_defaults(func=cmd_chat)

    profile = sub.add_parser("profile", help="show what a GGUF model is and what it costs")
    profile.add_argument("file")
    profile.add_argument("--json", action="store_true")
    profile.set_defaults(func=cmd_profile)

    synth = sub.add_parser("synth", help="write a random-weight model for trying Hearth out")
    synth.add_argument("size", choices=["tiny", "medium", "talkative"])
    synth.add_argument("--out", help="file to write (default: the models folder)")
    synth.add_argument("--seed", type=int, default=0)
    synth.add_argument("--force", action="store_true", help="overwrite an existing file")
    synth.set_defaults(func=cmd_synth)

    check = sub.add_parser("self-test", help="check this installation; what a support request needs")
    check.add_argument("--engine", action="store_true", help="also answer with a tiny model in an engine")
    check.add_argument("--json", action="store_true")
    check.set_defaults(func=cmd_self_test)

    from hearth.cli.models import add_command as add_models
    from hearth.cli.node import add_commands
    from hearth.cli.plan import add_command as add_plan
    from hearth.cli.serve import add_command as add_serve
    from hearth.cli.window import add_command as add_window

    add_window(sub)
    add_commands(sub)
    add_plan(sub)
    add_models(sub)
    add_serve(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        # No command: open the window, as a double-click would.
        args = parser.parse_args(["window"])
    for name in ("ctx", "threads", "limit", "max_tokens"):
        value = getattr(args, name, None)
        if value is not None and value <= 0:
            parser.error(f"--{name.replace('_', '-')} must be positive")
    if args.command == "chat" and args.plan and not args.pool:
        parser.error("--plan needs --pool")
    try:
        return int(args.func(args) or 0)
    except HearthError as exc:
        # What a command could not do and what to do about it (a device key that cannot be read):
        # one line, not a traceback.
        print(f"hearth: {exc}", file=sys.stderr)
        return EXIT_FAILED


def entry() -> None:
    """Console-script entry point."""
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(EXIT_INTERRUPTED)


if __name__ == "__main__":
    entry()
