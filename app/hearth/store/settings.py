"""User settings that outlive a run: what this device donates to paired hosts."""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, replace

from hearth.engine import threads as engine_threads
from hearth.store import paths

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}


def parse_size(text: str) -> int:
    """'8G', '512M', '1.5GiB' or a plain byte count."""
    m = _SIZE.match(text)
    if not m:
        raise ValueError(f"'{text}' is not a size like 8G or 512M")
    return int(float(m.group(1)) * _UNITS[m.group(2).lower()])


@dataclass(frozen=True)
class Donation:
    enabled: bool = False
    max_memory: int = 0  # bytes; 0: half of this device's memory
    threads: int = 0  # 0: one per physical core, as llama.cpp itself chooses

    def effective_memory(self, total_memory: int) -> int:
        return self.max_memory or total_memory // 2

    def effective_threads(self) -> int:
        return engine_threads.resolve(self.threads)


def _path() -> os.PathLike[str]:
    return paths.config_dir() / "settings.json"


def load_donation() -> Donation:
    try:
        data = json.loads(open(_path(), encoding="utf-8").read()).get("donation", {})
        return Donation(**{k: v for k, v in data.items() if k in Donation.__dataclass_fields__})
    except (FileNotFoundError, ValueError, TypeError):
        return Donation()


def save_donation(donation: Donation) -> None:
    try:
        data = json.loads(open(_path(), encoding="utf-8").read())
    except (FileNotFoundError, ValueError):
        data = {}
    data["donation"] = asdict(donation)
    with open(_path(), "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2)


def update_donation(**changes: object) -> Donation:
    donation = replace(load_donation(), **changes)  # type: ignore[arg-type]
    save_donation(donation)
    return donation
