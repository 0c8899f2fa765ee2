"""``--draft``: what guesses tokens ahead of the answers of ``hearth chat`` and ``hearth serve``."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hearth.service.storage import Speculation


def _choice(text: str) -> str:
    # Imported when the option is given: the settings pull in more than a command's start needs.
    from hearth.service.storage import DRAFT_CHOICES

    if text in DRAFT_CHOICES:
        return text
    if os.path.isfile(text):
        # Named from the root, as the library names models: the same path wherever it is read.
        return os.path.abspath(text)
    raise argparse.ArgumentTypeError(
        f"'{text}' is neither {', '.join(DRAFT_CHOICES)} nor a draft model's file"
    )


def add_draft_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--draft",
        type=_choice,
        default=None,
        metavar="FILE|auto|lookup|none",
        help="what guesses tokens ahead for the model to check several at a time: a small model of the "
        "same family (FILE), one of the library chosen by its tokenizer, else the answer's own text "
        "(auto), the answer's own text only (lookup), or nothing (none); default: as in Settings",
    )


def draft_choice(draft: str | None) -> Speculation | None:
    """``--draft`` for this run only; None: the stored choice."""
    from hearth.service.storage import Speculation

    return Speculation(draft=draft) if draft else None
