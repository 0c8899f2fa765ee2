"""A LAN neighbour floods a donor: 1,500 fake mDNS records and 1,100 slow-drip connections to its ports.

Real nodes inside a network namespace of their own (multicast on its loopback, as in
test_discovery.py); the donor runs with the 1,024 file descriptors a desktop session usually gets.
While the flood lasts the donor stays under ``FD_BOUND`` descriptors and every device list shows at
most ``MAX_UNPAIRED`` unpaired devices; a record claiming the donor's ID elsewhere moves nothing; once
the flood stops, a pooled answer over the donor succeeds within ``RECOVERY_S``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from harness.nodes import NodeProcess, pair, wait_until
from hearth.mesh.discovery import MAX_UNPAIRED

pytestmark = pytest.mark.skipif(
    not (sys.platform == "linux" and os.geteuid() == 0 and shutil.which("ip") and shutil.which("prlimit")),
    reason="needs Linux, root, iproute2 and prlimit for a private network namespace and a descriptor limit",
)

ROOT = Path(__file__).resolve().parents[2]
FAKE_RECORDS = 1500
DRIPS = 1100
FLOOD_S = 15.0
# What the donor may hold while flooded: its own few dozen, the node port's and the tunnel's
# handshakes in progress (128 and 64 at most), its control channels and its worker's pipes.
FD_BOUND = 400
RECOVERY_S = 30.0
DONOR = ["--donate", "--max-memory", "512M", "--threads", "1"]


def _node_process(node: NodeProcess) -> psutil.Process:
    """The node's own process (``ip netns exec`` and ``prlimit`` exec it in place; look below too)."""
    assert node.proc is not None
    top = psutil.Process(node.proc.pid)
    for proc in [top, *top.children(recursive=True)]:
        line = proc.cmdline()
        if "hearth" in line and "node" in line:
            return proc
    raise AssertionError(f"no node process under {node.proc.pid}")


def _fds(proc: psutil.Process) -> int:
    return len(os.listdir(f"/proc/{proc.pid}/fd"))


def _flood(netns: list[str], *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'app'}"}
    return subprocess.Popen(
        [*netns, sys.executable, "-m", "harness.flood", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


# The node's local API is on the 127.0.0.1 of its namespace: asked from in there.
STATUS = """
import asyncio, json, sys
from pathlib import Path
import msgspec
from harness.nodes import local_call
from hearth.api.local_messages import Status
print(json.dumps(msgspec.to_builtins(asyncio.run(local_call(Path(sys.argv[1]), Status())))))
"""


def _status(netns: list[str], node: NodeProcess) -> dict:
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'app'}"}
    done = subprocess.run(
        [*netns, sys.executable, "-c", STATUS, str(node.home)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _devices(node: NodeProcess) -> list[dict]:
    # `hearth devices` gives up on a node that does not answer within 5 s; a loaded 2-core machine
    # running a flood, its sender and two nodes may take that long once in a while.
    for _ in range(3):
        result = node.cli("devices", "--json")
        if result.returncode == 0:
            return json.loads(result.stdout)
    raise AssertionError(f"{node.name} did not list its devices: {result.stderr}")


def _unpaired(rows: list[dict]) -> int:
    return sum(1 for r in rows if not r["this_device"] and not r["paired"])


def test_a_flooded_donor_stays_bounded_and_pools_again_once_the_flood_stops(
    netns: list[str], tmp_path: Path, tiny_model: Path
) -> None:
    host = NodeProcess(tmp_path / "alpha", "alpha", "127.0.0.1", discovery=True, prefix=netns)
    donor = NodeProcess(
        tmp_path / "beta",
        "beta",
        "127.0.0.2",
        discovery=True,
        prefix=[*netns, "prlimit", "--nofile=1024:1024"],
        extra=DONOR,
    )
    floods: list[subprocess.Popen[str]] = []
    try:
        host.start()
        donor.start()
        assert pair(host, donor).returncode == 0
        assert wait_until(lambda: ((host.device(donor.device_id) or {}).get("donated_bytes") or 0) > 0, 20)
        plan = "host:0-3,beta:4-7"
        first = host.pooled_answer(tiny_model, plan)
        assert first.returncode == 0 and first.stdout.strip(), first.stderr
        tunnel_port = _status(netns, donor)["tunnel_port"]
        node = _node_process(donor)
        before = _fds(node)

        floods.append(
            _flood(
                netns,
                "mdns",
                "--count",
                str(FAKE_RECORDS),
                "--seconds",
                str(FLOOD_S + 5),
                "--live",
                donor.address,
                # Twenty records that say the donor is elsewhere.
                *(f"--claim={donor.device_id}@127.0.0.99:{donor.port}" for _ in range(20)),
            )
        )
        floods.append(
            _flood(
                netns,
                "drip",
                "--count",
                str(DRIPS),
                "--seconds",
                str(FLOOD_S),
                donor.address,
                f"127.0.0.2:{tunnel_port}",
            )
        )
        most = before
        deadline = time.monotonic() + FLOOD_S
        while time.monotonic() < deadline and floods[1].poll() is None:
            most = max(most, _fds(node))
            time.sleep(0.25)
        drip_out, drip_err = floods[1].communicate(timeout=30)
        stopped = time.monotonic()
        # The fake records are still announced: what each device list shows of them.
        listed = max(_unpaired(_devices(host)), _unpaired(_devices(donor)))
        drip = json.loads(drip_out.strip().splitlines()[-1]) if drip_out.strip() else {}
        assert drip.get("opened", 0) >= DRIPS, (drip, drip_err)
        print(f"donor descriptors: {before} before, at most {most} during the flood; drips: {drip}")

        # Pooling over the donor works again within seconds.
        answered = None
        while time.monotonic() - stopped < RECOVERY_S:
            again = host.pooled_answer(tiny_model, plan)
            if again.returncode == 0 and again.stdout.strip():
                answered = time.monotonic() - stopped
                break
            time.sleep(1)
        print(f"pooled answer {answered} s after the flood stopped")

        assert most < FD_BOUND, f"the donor held {most} descriptors"
        assert answered is not None, "no pooled answer after the flood"
        assert 0 < listed <= MAX_UNPAIRED, listed
        # The claim moved nothing: the host still has the donor where it proved itself.
        entry = next((d for d in _devices(host) if d["device_id"] == donor.device_id), None)
        assert entry is not None and entry["address"] == donor.address, entry
        assert donor.alive() and host.alive()
    finally:
        for flood in floods:
            if flood.poll() is None:
                flood.kill()
            flood.communicate(timeout=10)
        for node_ in (host, donor):
            node_.stop()
