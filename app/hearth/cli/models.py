"""``hearth models list|search|pull|rm``: the library, the catalog and the hub, from a terminal.

Fit badges use the devices the node running here sees (through its local API), or this device alone
when no node runs, or the devices of a ``--devices`` file, exactly as ``hearth plan`` does.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

import msgspec

from hearth.api import local_messages as msg
from hearth.api.local import LocalApiError, LocalClient
from hearth.cli.say import translate
from hearth.core.errors import HearthError
from hearth.core.planner import DeviceSpec
from hearth.core.profile import ModelProfile
from hearth.core.units import human_size
from hearth.service.fit import Fit, fit
from hearth.service.local_models import LocalModels, Progress, RemoteModel
from hearth.service.planning import this_device_alone

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2


def _devices(args: argparse.Namespace) -> tuple[DeviceSpec, list[DeviceSpec], str]:
    """The devices fit badges are computed over, and a line that says which they are."""
    if args.devices:
        from hearth.cli.plan import load_devices

        host, remotes = load_devices(args.devices)
        return host, remotes, f"devices from {args.devices}"
    try:
        answer = asyncio.run(LocalClient.once(msg.PlanningDevicesRequest()))
    except LocalApiError:
        return this_device_alone(), [], "no node runs here: this device alone"
    return answer.host, answer.remotes, f"this device and {len(answer.remotes)} paired device(s) that donate"


def _fit_row(name: str, size: int, result: Fit | str, **extra: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"name": name, "size": size, **extra}
    if isinstance(result, Fit):
        row["fit"] = msgspec.to_builtins(result)
        row["badge"] = result.label()
    else:
        row["fit"] = None
        row["badge"] = f"unknown: {result}"
    return row


def _print_rows(rows: list[dict[str, Any]], about: str, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"devices": about, "models": rows}, indent=2))
        return
    print(f"fit over {about}")
    if not rows:
        print(translate("Cli", "nothing found"))
    for r in rows:
        speed = r["fit"]["tokens_per_s"] if r["fit"] and r["fit"]["tokens_per_s"] else 0
        tps = f"  ~{speed:.1f} tokens/s" if speed else ""
        # Such a model serves the APIs' embeddings; it cannot chat.
        kind = "  (" + translate("Cli", "embedding model") + ")" if r.get("embedding") else ""
        print(f"{r['name']}  {human_size(r['size'])}  [{r['badge']}]{tps}{kind}")
        if r.get("where"):
            print(f"    {r['where']}")


def cmd_list(args: argparse.Namespace) -> int:
    host, remotes, about = _devices(args)
    rows = []
    for e in LocalModels().entries():
        result: Fit | str = fit(e.profile, host, remotes, args.ctx) if e.profile else e.problem
        size = e.profile.file_size if e.profile else 0
        embedding = bool(e.profile and e.profile.embedding_only)
        rows.append(_fit_row(e.path.rsplit("/", 1)[-1], size, result, where=e.path, embedding=embedding))
    _print_rows(rows, about, args.json)
    return 0


def _say_unreadable(name: str, exc: HearthError) -> None:
    print(f"hearth: {name}: {exc}", file=sys.stderr)


def cmd_search(args: argparse.Namespace) -> int:
    host, remotes, about = _devices(args)
    models = LocalModels()
    found = models.search(args.text, args.limit, _say_unreadable)
    rows = []
    for item, profile in zip(found, asyncio.run(models.profiles(found)), strict=True):
        result = fit(profile, host, remotes, args.ctx) if isinstance(profile, ModelProfile) else profile
        model = item.model
        ref = f"{model.repo}/{model.name}"
        embedding = isinstance(profile, ModelProfile) and profile.embedding_only
        rows.append(
            _fit_row(ref, model.size, result, where=item.source, quant=model.quant, embedding=embedding)
        )
    _print_rows(rows, about, args.json)
    return 0


class _Bar:
    """A terminal progress bar (tqdm) fed by the transfer's progress reports."""

    def __init__(self, model: RemoteModel, quiet: bool) -> None:
        from tqdm import tqdm

        self._bar = tqdm(
            total=model.size, unit="B", unit_scale=True, unit_divisor=1024, desc=model.name, disable=quiet
        )

    def __call__(self, p: Progress) -> None:
        self._bar.update(p.done - self._bar.n)

    def close(self) -> None:
        self._bar.close()


def cmd_pull(args: argparse.Namespace) -> int:
    models = LocalModels()
    model = models.resolve(args.model, args.quant or "")
    print(
        f"{model.repo}/{model.name}: {human_size(model.size)} in {len(model.parts)} file(s)", file=sys.stderr
    )
    bar = _Bar(model, args.json)
    try:
        path = asyncio.run(models.download(model, bar))
    except KeyboardInterrupt:
        bar.close()
        print(translate("Cli", "paused: run the same command again to resume"), file=sys.stderr)
        raise
    finally:
        bar.close()
    if args.json:
        print(json.dumps({"path": str(path), "repo": model.repo, "file": model.name, "size": model.size}))
    else:
        print(path)
    return 0


def cmd_rm(args: argparse.Namespace) -> int:
    models = LocalModels()
    chosen = models.find(args.model)
    if chosen is None:
        print(
            f"hearth: no model called '{args.model}' in the library (see `hearth models list`)",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    deleted = models.delete(chosen)
    print("\n".join(f"deleted {p}" for p in deleted) or f"forgot {chosen} (the file stays)")
    return 0


def _run(func: Any) -> Any:
    def wrapped(args: argparse.Namespace) -> int:
        try:
            return int(func(args))
        except HearthError as exc:
            print(f"hearth: {exc}", file=sys.stderr)
            return EXIT_FAILED
        except ValueError as exc:  # a bad --devices file or size
            print(f"hearth: {exc}", file=sys.stderr)
            return EXIT_BAD_INPUT

    return wrapped


def add_command(sub: Any) -> None:
    models = sub.add_parser("models", help="the models on this device, the catalog, the hub")
    verbs = models.add_subparsers(dest="verb", metavar="VERB", required=True)

    def fit_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--ctx", type=int, default=None, help="context the fit is judged at (default: 4096)")
        p.add_argument("--devices", help="a JSON list of devices, as for `hearth plan`")
        p.add_argument("--json", action="store_true")

    listing = verbs.add_parser("list", help="models on this device, with whether each fits")
    fit_options(listing)
    listing.set_defaults(func=_run(cmd_list))

    search = verbs.add_parser("search", help="the catalog, or the catalog and the hub for a text")
    search.add_argument("text", nargs="?", default="")
    search.add_argument("--limit", type=int, default=10, help="hub repositories to look at")
    fit_options(search)
    search.set_defaults(func=_run(cmd_search))

    pull = verbs.add_parser("pull", help="download a model (resumes an interrupted download)")
    pull.add_argument("model", help="a catalog id, owner/repo, owner/repo:QUANT or owner/repo/file.gguf")
    pull.add_argument("--quant", help="the quantization to take, e.g. Q5_K_M")
    pull.add_argument("--json", action="store_true", help="no progress bar; the result as JSON")
    pull.set_defaults(func=_run(cmd_pull))

    rm = verbs.add_parser("rm", help="delete a downloaded model (an imported one is only forgotten)")
    rm.add_argument("model", help="its path or file name")
    rm.set_defaults(func=_run(cmd_rm))
