"""The window, in its own process, streams an answer from a loaded model and exits with status 0."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from hearth.models import synthetic

ROOT = Path(__file__).resolve().parents[2]
TOKENS = 1500


@pytest.fixture(scope="module")
def talkative_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthetic.ensure_model(tmp_path_factory.mktemp("talkative"), synthetic.TALKATIVE, seed=0)


def test_window_streams_an_answer_and_exits_cleanly(talkative_model: Path, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "HEARTH_HOME": str(tmp_path / "home"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "harness.window_session", str(talkative_model), str(TOKENS)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Fatal Python error" not in result.stderr
    streamed = re.search(r"streamed (\d+) characters, (\d+) tokens", result.stdout)
    assert streamed and int(streamed.group(2)) > 100, result.stdout
    refs = re.search(r"none refs (-?\d+)", result.stdout)
    assert refs, result.stdout
    # A binding that leaks per event loses several references per token; a healthy one stays near 0.
    assert int(refs.group(1)) > -int(streamed.group(2)) // 4, result.stdout
