from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from harness.nodes import read_at_least
from hearth.engine import backends
from hearth.store.conversations import ConversationStore

# The console script that `uv run hearth` starts, installed beside this interpreter.
HEARTH = str(Path(sys.executable).with_name("hearth"))


def hearth(*args: str, stdin: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([HEARTH, *args], input=stdin, capture_output=True, text=True, timeout=timeout)


def store_for(home: Path) -> ConversationStore:
    return ConversationStore(home / "conversations.sqlite3")


def test_chat_with_a_prompt_prints_the_answer_and_records_it(tiny_model: Path, hearth_home: Path) -> None:
    result = hearth(
        "chat", "--model", str(tiny_model), "--prompt", "hi", "--max-tokens", "24", "--temperature", "0"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()
    assert "tokens/s" in result.stderr and "first token" in result.stderr
    store = store_for(hearth_home)
    [conv] = store.conversations()
    assert conv.title == "hi"
    user, answer = store.messages(conv.id)
    assert (user.role, user.content) == ("user", "hi")
    assert answer.role == "assistant" and answer.status == "done"
    assert answer.content == result.stdout[:-1]  # print() adds the final newline
    assert answer.completion_tokens and answer.ttft_s is not None


def test_no_history_records_nothing(tiny_model: Path, hearth_home: Path) -> None:
    result = hearth("chat", "--model", str(tiny_model), "--prompt", "hi", "--max-tokens", "4", "--no-history")
    assert result.returncode == 0, result.stderr
    assert not (hearth_home / "conversations.sqlite3").exists()


def test_interactive_chat_keeps_one_conversation(tiny_model: Path, hearth_home: Path) -> None:
    result = hearth(
        "chat",
        "--model",
        str(tiny_model),
        "--max-tokens",
        "8",
        "--system",
        "be kind",
        stdin="hello\n\nagain\n/exit\n",
    )
    assert result.returncode == 0, result.stderr
    [conv] = store_for(hearth_home).conversations()
    assert conv.system_prompt == "be kind"
    roles = [
        (msg.role, msg.content if msg.role == "user" else "")
        for msg in store_for(hearth_home).messages(conv.id)
    ]
    assert roles == [("user", "hello"), ("assistant", ""), ("user", "again"), ("assistant", "")]


def test_bad_model_files_give_one_line_and_status_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF\x03\x00\x00\x00" + b"\xff" * 16)
    for args in (
        ["profile", str(bad)],
        ["chat", "--model", str(bad), "--prompt", "hi"],
        ["profile", str(tmp_path / "no.gguf")],
    ):
        result = hearth(*args)
        assert result.returncode == 2
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
        assert result.stderr.startswith("hearth: ")


def test_profile_json_and_synth(tmp_path: Path) -> None:
    out = tmp_path / "made.gguf"
    made = hearth("synth", "tiny", "--out", str(out))
    assert made.returncode == 0 and made.stdout.strip() == str(out)
    result = hearth("profile", str(out), "--json")
    assert result.returncode == 0
    data = json.loads(result.stdout)
    assert data["block_count"] == 8 and data["architecture"] == "llama"
    assert (
        sum(data["layer_bytes"]) + data["token_embd_bytes"] + data["output_bytes"] + data["other_bytes"]
        == data["tensor_data_bytes"]
    )


def test_kill_9_mid_answer_loses_nothing_shown(tiny_model: Path, hearth_home: Path) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hearth",
            "chat",
            "--model",
            str(tiny_model),
            "--prompt",
            "tell me everything",
            "--max-tokens",
            "15000",
            "--ctx",
            "16384",
            "--temperature",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    try:
        shown = read_at_least(proc.stdout, 300)
        assert len(shown) >= 300, "the answer ended before the test could interrupt it"
        engines = psutil.Process(proc.pid).children()
        assert engines, "the chat command runs its model in a child process"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        proc.kill()
    # The orphaned engine notices its parent is gone and leaves on its own.
    _, alive = psutil.wait_procs(engines, timeout=10)
    assert not alive
    store = store_for(hearth_home)
    [conv] = store.conversations()
    answer = store.messages(conv.id)[-1]
    assert answer.status == "interrupted"
    assert answer.content.encode().startswith(shown)


def test_messages_follow_the_language_of_the_environment(tiny_model: Path, tmp_path: Path) -> None:
    devices = tmp_path / "devices.json"
    devices.write_text(json.dumps([{"name": "host", "memory": "1G", "bandwidth_gbs": 10}]))
    said = {}
    for lang in ("C.UTF-8", "ru_RU.UTF-8", "zh_CN.UTF-8", "ko_KR.UTF-8"):
        result = subprocess.run(
            [sys.executable, "-m", "hearth", "plan", "--model", str(tiny_model), "--devices", str(devices)],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "LANG": lang, "LC_ALL": "", "LANGUAGE": ""},
        )
        assert result.returncode == 0, result.stderr
        said[lang] = result.stdout.splitlines()[0]
    assert "tokens/s predicted" in said["C.UTF-8"]
    assert "прогноз" in said["ru_RU.UTF-8"] and "контекст" in said["ru_RU.UTF-8"]
    assert "预计" in said["zh_CN.UTF-8"] and "예상" in said["ko_KR.UTF-8"]


def test_plan_from_a_devices_file(tiny_model: Path, tmp_path: Path) -> None:
    devices = tmp_path / "devices.json"
    devices.write_text(
        json.dumps(
            [
                {"name": "host", "memory": "64M", "bandwidth_gbs": 10},
                {"name": "desktop", "memory": "1G", "bandwidth_gbs": 40, "hop_ms": 0.5},
            ]
        )
    )
    result = hearth("plan", "--model", str(tiny_model), "--devices", str(devices), "--ctx", "256", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["tokens_per_s"] > 0
    held = [r for r in report["devices"] if r["layers"]]
    assert sum(r["layers"][1] - r["layers"][0] + 1 for r in held) == 8
    assert all(r["free"] >= 0 for r in report["devices"])
    # The compute buffers shown are llama.cpp's own sizing of this plan, and the table says so.
    assert report["sized_by_llama"] is True
    table = hearth("plan", "--model", str(tiny_model), "--devices", str(devices), "--ctx", "256")
    assert "Compute buffers as llama.cpp sizes them" in table.stdout

    tight = tmp_path / "tight.json"
    tight.write_text(
        json.dumps(
            [
                {"name": "host", "memory": "64M", "bandwidth_gbs": 10},
                {"name": "laptop", "memory": "1M", "bandwidth_gbs": 5, "hop_ms": 1},
            ]
        )
    )
    over = hearth(
        "plan", "--model", str(tiny_model), "--devices", str(tight), "--plan", "host:0-3,laptop:4-7"
    )
    assert over.returncode == 2
    assert "laptop would need" in over.stderr and "over by" in over.stderr

    # A household described with its GPUs: the PC's VRAM before its RAM, the host's GPU before the PC.
    household = tmp_path / "household.json"
    household.write_text(
        json.dumps(
            [
                {
                    "name": "host",
                    "memory": "64M",
                    "bandwidth_gbs": 0.01,  # a slow CPU: worth a hop to the PC even for a tiny model
                    "gpus": [{"memory": "1M", "bandwidth_gbs": 300}],
                },
                {
                    "name": "pc",
                    "memory": "1G",
                    "bandwidth_gbs": 20,
                    "hop_ms": 0.5,
                    "gpus": [{"name": "RTX", "memory": "1G", "bandwidth_gbs": 360}],
                },
            ]
        )
    )
    pooled = hearth("plan", "--model", str(tiny_model), "--devices", str(household), "--ctx", "256", "--json")
    assert pooled.returncode == 0, pooled.stderr
    rows = {r["device"]: r for r in json.loads(pooled.stdout)["devices"]}
    # The host's GPU is too small for a layer; the PC's VRAM is the fastest memory in the house.
    assert rows["pc/gpu0"]["layers"] and "host/gpu0" not in rows, rows

    broken = tmp_path / "broken.json"
    broken.write_text('[{"name": "host", "memory": "lots"}]')
    bad = hearth("plan", "--model", str(tiny_model), "--devices", str(broken))
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and bad.stderr.startswith("hearth: ")


def test_self_test_checks_what_a_support_request_needs(tmp_path: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HEARTH_HOME": str(tmp_path / "home")}
    result = subprocess.run(
        [HEARTH, "self-test", "--engine", "--json"], capture_output=True, text=True, timeout=300, env=env
    )
    checks = {c["name"]: c for c in json.loads(result.stdout)}
    assert result.returncode == 0, result.stdout
    for name in ("llama.cpp", "RPC support", "ggml loaded once", "Qt platform", "data folder", "engine"):
        assert checks[name]["ok"], checks[name]
    assert "libggml-rpc" in checks["RPC support"]["detail"]
    assert "each once" in checks["ggml loaded once"]["detail"]
    # The CPU variant that runs here, the buffers weights go to, and the backends found.
    found = backends.load()
    assert checks["CPU backend"]["ok"] and "weights in CPU" in checks["CPU backend"]["detail"]
    if found.cpu_variant:
        assert f"variant '{found.cpu_variant}'" in checks["CPU backend"]["detail"]
    assert "CPU" in checks["backends"]["detail"] and "RPC" in checks["backends"]["detail"]
    text = subprocess.run([HEARTH, "self-test"], capture_output=True, text=True, timeout=300, env=env)
    assert text.returncode == 0 and "ok   RPC support" in text.stdout


@pytest.mark.skipif(sys.platform != "linux", reason="a Linux session without a display")
def test_without_a_display_the_window_says_what_runs_instead_and_self_test_only_notes_it(
    tmp_path: Path,
) -> None:
    # As over SSH: no display named, and Qt told of no platform (nor a Wayland socket to find).
    hidden = ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM", "XDG_RUNTIME_DIR")
    env = {k: v for k, v in os.environ.items() if k not in hidden}
    env["HEARTH_HOME"] = str(tmp_path / "home")
    window = subprocess.run([HEARTH], capture_output=True, text=True, timeout=120, env=env)
    assert window.returncode == 1, window
    assert window.stderr.startswith("Hearth's window cannot start: this session has no display"), (
        window.stderr
    )
    assert "`hearth node`" in window.stderr and "qt.qpa" not in window.stderr, window.stderr
    result = subprocess.run(
        [HEARTH, "self-test", "--json"], capture_output=True, text=True, timeout=300, env=env
    )
    qt = {c["name"]: c for c in json.loads(result.stdout)}["Qt platform"]
    assert (qt["ok"], qt["fatal"]) == (False, False) and "hearth node" in qt["detail"], qt
    assert result.returncode == 0, result.stdout


def test_a_device_whose_key_cannot_be_read_stops_instead_of_becoming_another(hearth_home: Path) -> None:
    from hearth.mesh import identity

    assert hearth("id").returncode == 0  # a file key: the tests' keyring is never secure
    cert = (hearth_home / "config" / identity.CERT_FILE).read_bytes()
    (hearth_home / "config" / identity.KEY_FILE).unlink()
    for command in (("id",), ("node", "--port", "0", "--no-discovery", "--no-probe")):
        done = hearth(*command, timeout=30)
        assert done.returncode == 1, done
        assert done.stderr.startswith("hearth: ") and "Traceback" not in done.stderr, done.stderr
        assert str(hearth_home / "config" / identity.CERT_FILE) in done.stderr, done.stderr
    assert (hearth_home / "config" / identity.CERT_FILE).read_bytes() == cert
    assert not (hearth_home / "config" / identity.KEY_FILE).exists()
