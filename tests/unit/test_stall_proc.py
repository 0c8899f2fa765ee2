"""What the donor reads of a worker's process for the stall watchdog: whether any of its threads is
runnable or in disk sleep (Linux's per-thread states), with real processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from hearth.engine import rpc_worker

pytestmark = pytest.mark.skipif(
    sys.platform != "linux", reason="per-thread states are read from Linux's /proc"
)

SPIN = "while True: pass"
SLEEP = "import time; time.sleep(120)"
# The main thread waits on a lock (sleeping, as psutil would name the process) while another spins.
SPIN_IN_A_THREAD = (
    "import threading\n"
    "def spin():\n"
    "    while True: pass\n"
    "t = threading.Thread(target=spin, daemon=True); t.start(); t.join()\n"
)


@contextmanager
def _worker(code: str) -> Iterator[tuple[rpc_worker.Worker, subprocess.Popen[bytes]]]:
    proc = subprocess.Popen([sys.executable, "-c", code])
    try:
        yield rpc_worker.Worker(proc, 0, None), proc  # type: ignore[arg-type]  # only its pid is read
    finally:
        proc.kill()
        proc.wait(10)


def _settles(worker: rpc_worker.Worker, busy: bool, within_s: float = 10.0) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if worker.busy() is busy:
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("code", [SPIN, SPIN_IN_A_THREAD], ids=["main thread", "another thread"])
def test_a_spinning_worker_is_busy(code: str) -> None:
    with _worker(code) as (worker, _):
        assert _settles(worker, True)
        # Running or waiting for a CPU, never anything else, for as long as it spins.
        assert all(worker.busy() for _ in range(20))


def test_a_sleeping_worker_is_not_busy() -> None:
    with _worker(SLEEP) as (worker, _):
        # Its interpreter starts (busy), then it sleeps for good.
        assert _settles(worker, False)
        time.sleep(0.2)
        assert not any(worker.busy() for _ in range(20))


def test_a_stopped_spinning_worker_is_not_busy() -> None:
    with _worker(SPIN) as (worker, proc):
        assert _settles(worker, True)
        os.kill(proc.pid, signal.SIGSTOP)
        assert _settles(worker, False, within_s=5.0)
        assert not worker.busy()


def test_a_worker_that_is_gone_is_not_busy() -> None:
    with _worker(SPIN) as (worker, proc):
        assert _settles(worker, True)
        proc.kill()
        proc.wait(10)
        assert not worker.busy()
