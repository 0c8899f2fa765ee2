"""Reading what llama.cpp says about its allocations out of its log lines."""

from __future__ import annotations

import re
from collections.abc import Iterable

from hearth.core.units import MIB

_BUFFER_RE = re.compile(r"(\S+)\s+(model|KV|compute|output)\s+buffer size\s*=\s*([0-9]+(?:\.[0-9]+)?)\s*MiB")


def buffer_sizes(lines: Iterable[str]) -> dict[str, int]:
    """Bytes per "<buffer type> <kind>" (e.g. "CPU KV", "CPU_Mapped model"), summed over repeats."""
    sizes: dict[str, int] = {}
    for line in lines:
        for dev, kind, mib in _BUFFER_RE.findall(line):
            key = f"{dev} {kind}"
            sizes[key] = sizes.get(key, 0) + round(float(mib) * MIB)
    return sizes


def total(sizes: dict[str, int], kind: str) -> int:
    """Sum of one kind ("model", "KV", "compute", "output") over every buffer type."""
    return sum(v for k, v in sizes.items() if k.rsplit(" ", 1)[-1] == kind)
