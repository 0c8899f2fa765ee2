"""``hearth models pull`` and Ctrl-C: it stops soon, keeps what arrived, and the same command resumes."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

from hearth.models.transfer import partial_path
from hearth.store import paths

REPO = "test/tiny-GGUF"
# A terminal starts a command with Ctrl-C's signal at its default and unblocked. A child inherits
# both from whoever starts it, so the pull is started the way a terminal would start it, whatever a
# test process that has run other tests before this one has left.
AS_FROM_A_TERMINAL = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
    "hasattr(signal, 'pthread_sigmask') and signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT}); "
    "os.execv(sys.executable, sys.argv[1:])"
)


def _signals(pid: int) -> str:
    """The process's blocked, ignored and caught signal masks, as the kernel reports them."""
    with open(f"/proc/{pid}/status") as status:
        return " ".join(line.strip() for line in status if line.startswith(("SigBlk", "SigIgn", "SigCgt")))


def test_ctrl_c_stops_a_pull_before_it_ends_and_a_rerun_resumes(fake_hub) -> None:
    data = fake_hub.repos[REPO].files["Tiny-Q8_0.gguf"]
    fake_hub.bytes_per_s = len(data) / 8.0  # eight seconds for the whole file
    command = [sys.executable, "-m", "hearth", "models", "pull", f"{REPO}:Q8_0"]
    proc = subprocess.Popen(
        [sys.executable, "-c", AS_FROM_A_TERMINAL, *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    partial = partial_path(paths.models_dir() / REPO / "Tiny-Q8_0.gguf")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (partial.exists() and partial.stat().st_size >= len(data) // 4):
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    seen = _signals(proc.pid) if sys.platform == "linux" else ""
    pressed = time.monotonic()
    proc.send_signal(signal.SIGINT)  # what Ctrl-C sends
    _, err = proc.communicate(timeout=30)
    took = time.monotonic() - pressed
    print(f"the pull stopped {took:.1f} s after Ctrl-C")
    # Stopped, not finished: the file (eight seconds' worth) is still partial. How soon is a timing,
    # which a loaded machine cannot promise.
    assert partial.exists() and partial.stat().st_size < len(data), f"the pull ran to its end ({seen})"
    assert proc.returncode == 130, err
    assert "run the same command again to resume" in err and "Traceback" not in err
    kept = partial.stat().st_size
    assert len(data) // 4 <= kept < len(data)  # what arrived is kept, and it is not the whole file
    first = fake_hub.sent["Tiny-Q8_0.gguf"]
    assert first < len(data)

    fake_hub.bytes_per_s = 0
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    target = paths.models_dir() / REPO / "Tiny-Q8_0.gguf"
    assert target.read_bytes() == data
    # Only the missing part was asked for the second time.
    assert fake_hub.sent["Tiny-Q8_0.gguf"] - first <= len(data) - kept + len(data) // 20
