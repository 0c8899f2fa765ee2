"""``hearth chat --prompt``: the answer, then its stats on a line of their own, as a terminal shows both."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_the_stats_follow_the_answer_on_their_own_line(tiny_model: Path) -> None:
    # One pipe for both streams, as a terminal is: what reaches it first is shown first. Buffered as a
    # pipe is by default: stdout holds what it was given until flushed, stderr writes each line.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    command = [sys.executable, "-m", "hearth", "chat", "--model", str(tiny_model), "--prompt", "hi"]
    done = subprocess.run(
        [*command, "--max-tokens", "12", "--temperature", "0", "--no-history"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 0, done.stdout
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    stats = [i for i, line in enumerate(lines) if "tokens/s" in line]
    assert stats, done.stdout
    assert lines[stats[-1]].startswith("["), done.stdout  # not glued to the answer's last words
    assert stats[-1] == len(lines) - 1 and stats[-1] > 0, done.stdout  # after the answer
