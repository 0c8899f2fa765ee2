"""``hearth window`` (and ``hearth`` alone): the window, with this device's node inside it."""

from __future__ import annotations

import argparse
from typing import Any

from hearth.cli.node import add_node_options, node_options


def cmd_window(args: argparse.Namespace) -> int:
    from hearth.ui.app import run

    return run(node_options(args))


def add_command(sub: Any) -> None:
    window = sub.add_parser("window", help="open the Hearth window (what `hearth` alone does)")
    add_node_options(window)
    window.set_defaults(func=cmd_window)
