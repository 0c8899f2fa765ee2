"""Planning with the devices that are really there: speed probes and ``hearth plan`` on a live node."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from harness.nodes import NodeProcess, pair, wait_until
from hearth.service.probe import PROBE


def test_speed_probe_runs_once_per_build_a_day_and_reaches_the_planner(tmp_path: Path) -> None:
    node = NodeProcess(tmp_path / "solo", "solo", "127.0.0.1", probe=True).start()
    cache_dir = tmp_path / "solo" / "cache"
    try:
        node.wait_for(r"speed probe: [0-9.]+ GB/s", timeout=120)
        node.wait_for(r"rpc step: [0-9.]+ ms", timeout=120)
        cache = json.loads((cache_dir / "speed.json").read_text())
        speed_key = next(k for k in cache if k.endswith("threads"))
        step_key = next(k for k in cache if k.endswith("rpc step"))
        assert len(cache) == 2
        measured = cache[speed_key]["bytes_per_s"]
        assert measured > 1e8  # any computer reads weights faster than 100 MB/s
        step = cache[step_key]["seconds"]
        # Reaching a worker costs something, and on loopback less than a tenth of a second.
        assert 0 < step < 0.1
        assert wait_until(lambda: next(d for d in node.devices() if d["this_device"])["rpc_step_ms"], 10)
        me = next(d for d in node.devices() if d["this_device"])
        assert me["bytes_per_s"] == measured and me["rpc_step_ms"] == pytest.approx(step * 1000)
        assert any(p.name.startswith(f"hearth-synthetic-{PROBE.name}") for p in cache_dir.iterdir())
    finally:
        node.stop()
    # Started again with the same llama.cpp build: the cached figure, without measuring again.
    node.start()
    try:
        assert wait_until(lambda: next(d for d in node.devices() if d["this_device"])["bytes_per_s"], 10)
        assert wait_until(lambda: next(d for d in node.devices() if d["this_device"])["rpc_step_ms"], 10)
        me = next(d for d in node.devices() if d["this_device"])
        assert me["bytes_per_s"] == measured and me["rpc_step_ms"] == pytest.approx(step * 1000)
        assert not any("speed probe:" in ln or "rpc step:" in ln for ln in node.lines)
    finally:
        node.stop()
    # Two days later the probe is taken again and the planner gets the median of the probes kept.
    cache[speed_key]["measured_at"] -= 2 * 24 * 3600
    (cache_dir / "speed.json").write_text(json.dumps(cache))
    node.start()
    try:
        node.wait_for(r"speed probe: [0-9.]+ GB/s", timeout=120)
        again = json.loads((cache_dir / "speed.json").read_text())[speed_key]
        assert len(again["samples"]) == 2 and again["samples"][0] == measured
        assert again["bytes_per_s"] == pytest.approx(sum(again["samples"]) / 2)
        typical = again["bytes_per_s"]
        assert wait_until(
            lambda: next(d for d in node.devices() if d["this_device"])["bytes_per_s"] == typical, 10
        )
    finally:
        node.stop()


def test_hearth_plan_uses_the_live_devices(tmp_path: Path, tiny_model: Path) -> None:
    host = NodeProcess(tmp_path / "host", "alpha", "127.0.0.1").start()
    donor = NodeProcess(
        tmp_path / "beta", "beta", "127.0.0.2", extra=["--donate", "--max-memory", "64M"]
    ).start()
    try:
        assert pair(host, donor).returncode == 0

        def beta_planned() -> bool:
            result = host.cli("plan", "--model", str(tiny_model), "--json")
            if result.returncode != 0:
                return False
            report.update(json.loads(result.stdout))
            used = {d["device"] for d in report["devices"]}
            return "beta" in used or "beta" in report["left_out"]

        report: dict = {}
        assert wait_until(beta_planned, timeout=20), report
        assert report["devices"][0]["device"] == "host" and report["tokens_per_s"] > 0
        assert report["sized_by_llama"] is True
        # The models list judges fit over the same live devices, through the node.
        (host.home / "models").mkdir(exist_ok=True)
        shutil.copy(tiny_model, host.home / "models" / "tiny.gguf")
        listed = host.cli("models", "list", "--json")
        assert listed.returncode == 0, listed.stderr
        answer = json.loads(listed.stdout)
        assert answer["devices"] == "this device and 1 paired device(s) that donate"
        assert answer["models"][0]["fit"]["plan"] == report["plan"]
        # A pooled chat without --plan loads exactly the plan `hearth plan` shows.
        chat = host.cli(
            "chat", "--pool", "--model", str(tiny_model), "--prompt", "hi", "--max-tokens", "2", timeout=120
        )
        assert chat.returncode == 0, chat.stderr
        pooled = re.search(r"pooled over [^:]*: (\S+)", chat.stderr)
        assert pooled is not None, chat.stderr
        assert pooled.group(1) == report["plan"]
        # The same devices, with a plan given by hand (this device by its own name): beta holds what
        # it is given.
        checked = host.cli("plan", "--model", str(tiny_model), "--plan", "alpha:0-3,beta:4-7", "--json")
        assert checked.returncode == 0, checked.stderr
        rows = {d["device"]: d for d in json.loads(checked.stdout)["devices"]}
        assert rows["host"]["layers"] == [0, 3]
        assert rows["beta"]["layers"] == [4, 7] and rows["beta"]["free"] > 0
        # More than beta donates at a long context is refused, naming beta and the overflow.
        over = host.cli("plan", "--model", str(tiny_model), "--plan", "beta:0-7", "--ctx", "8192")
        assert over.returncode == 2
        assert "beta would need" in over.stderr and "over by" in over.stderr
    finally:
        host.stop()
        donor.stop()


def test_hearth_plan_without_a_node_says_how_to_start_one(tmp_path: Path, tiny_model: Path) -> None:
    lonely = NodeProcess(tmp_path / "none", "none", "127.0.0.1")
    result = lonely.cli("plan", "--model", str(tiny_model))
    assert result.returncode == 2
    assert "hearth node" in result.stderr
