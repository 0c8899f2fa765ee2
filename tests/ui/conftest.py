from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Before any QApplication exists: the tests draw into memory, never onto a screen.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import qasync

from harness.nodes import NodeProcess


@pytest.fixture
def loop(qapp) -> Iterator[asyncio.AbstractEventLoop]:
    """An asyncio loop running on the Qt event loop, as in the app."""
    ev = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(ev)
    yield ev
    ev.close()
    asyncio.set_event_loop(None)


def _beta(tmp_path: Path, memory: str) -> Iterator[NodeProcess]:
    proc = NodeProcess(
        tmp_path / "beta", "beta", "127.0.0.2", extra=["--donate", "--max-memory", memory, "--threads", "1"]
    ).start()
    yield proc
    proc.stop()


@pytest.fixture
def donor(tmp_path: Path) -> Iterator[NodeProcess]:
    """A real node process "beta" on 127.0.0.2 donating 4 MiB and one thread."""
    yield from _beta(tmp_path, "4M")


@pytest.fixture
def roomy_donor(tmp_path: Path) -> Iterator[NodeProcess]:
    """The same, donating enough to hold half of the tiny model."""
    yield from _beta(tmp_path, "2G")
