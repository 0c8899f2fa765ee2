"""Where the kernel refuses workers a network namespace, the node says so and why (the window shows
it where donation is set), and a worker on the machine's loopback is used only through its own
listener."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from harness.nodes import NodeProcess, env_for, local_call, wait_until
from hearth.api import local_messages as msg
from hearth.engine import rpc_worker

# A user namespace of its own in which the kernel grants no further network or user namespaces: in
# there a worker's namespace is refused for real, as Ubuntu's AppArmor rule refuses it to ordinary
# users, while the loopback stays the machine's.
REFUSING = [
    "unshare",
    "--user",
    "--map-root-user",
    "sh",
    "-c",
    'echo 0 > /proc/sys/user/max_net_namespaces && echo 0 > /proc/sys/user/max_user_namespaces && exec "$@"',
    "sh",
]


def _can_refuse() -> bool:
    if sys.platform != "linux" or shutil.which("unshare") is None:
        return False
    try:
        return subprocess.run([*REFUSING, "true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


needs_refusal = pytest.mark.skipif(not _can_refuse(), reason="cannot make the kernel refuse namespaces here")


def _probe(prefix: list[str], home: Path) -> str:
    done = subprocess.run(
        [*prefix, sys.executable, "-m", "hearth.engine.netns"],
        env=env_for(home),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _exposed(node: NodeProcess) -> str | None:
    return node.status().workers_exposed


@needs_refusal
def test_a_donating_node_says_why_its_workers_are_not_isolated(tmp_path: Path) -> None:
    said = _probe(REFUSING, tmp_path / "probe")
    assert said.startswith("NOT ISOLATED: the kernel refused a private network namespace"), said
    refused = NodeProcess(
        tmp_path / "refused", "alpha", "127.0.0.1", prefix=REFUSING, extra=["--donate"]
    ).start()
    try:
        assert wait_until(lambda: _exposed(refused) is not None, 20), refused.lines
        assert _exposed(refused) == said.removeprefix("NOT ISOLATED: ")
        # Not donating: no workers, nothing to say.
        asyncio.run(local_call(refused.home, msg.Donate(enabled=False)))
        assert _exposed(refused) is None
    finally:
        refused.stop()


def test_a_donating_node_where_workers_are_isolated_says_nothing(tmp_path: Path) -> None:
    if _probe([], tmp_path / "probe") != "ISOLATED":
        pytest.skip("this machine's kernel refuses namespaces itself")
    node = NodeProcess(tmp_path / "alpha", "alpha", "127.0.0.1", extra=["--donate"]).start()
    try:
        assert node.status().donating
        assert not wait_until(lambda: _exposed(node) is not None, 3)
    finally:
        node.stop()


@needs_refusal
def test_a_worker_the_kernel_refuses_a_namespace_listens_itself_and_says_why(tmp_path: Path) -> None:
    script = (
        "import asyncio, sys\n"
        "from hearth.engine import rpc_worker\n"
        "async def main():\n"
        "    worker = await rpc_worker.start(1, sys.argv[1])\n"
        "    print(worker.exposed)\n"
        "    print(rpc_worker.exposure())\n"
        "    print(rpc_worker._listens(worker.proc.pid, worker.port))\n"
        "    worker.proc.kill()\n"
        "    await worker.proc.wait()\n"
        "asyncio.run(main())\n"
    )
    done = subprocess.run(
        [*REFUSING, sys.executable, "-c", script, str(tmp_path / "cache")],
        env=env_for(tmp_path / "home"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    exposed, known, own = done.stdout.strip().splitlines()
    assert exposed.startswith("the kernel refused a private network namespace"), done.stdout
    assert known == exposed and own == "True"


def test_only_the_process_that_listens_counts_as_the_worker() -> None:
    # What tells a worker's own listener from a program that took its port first.
    with socket.socket() as mine:
        mine.bind(("127.0.0.1", 0))
        mine.listen()
        port = mine.getsockname()[1]
        other = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import socket, sys\n"
                "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()\n"
                "print(s.getsockname()[1], flush=True); sys.stdin.read()",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert other.stdout is not None
            theirs = int(other.stdout.readline())
            assert rpc_worker._listens(other.pid, theirs) and rpc_worker._listens(os.getpid(), port)
            assert not rpc_worker._listens(os.getpid(), theirs) and not rpc_worker._listens(other.pid, port)
        finally:
            other.kill()
            other.wait()
