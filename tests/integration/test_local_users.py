"""Other accounts on the same machine: what they can reach of Hearth's loopback ports."""

from __future__ import annotations

import os
import select
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from harness.nodes import OTHER_USER, SYSTEM_PYTHON, can_act_as_other_user
from hearth.engine import netns
from hearth.mesh import local_peer

needs_other_user = pytest.mark.skipif(
    not can_act_as_other_user(), reason="needs root and setpriv to act as another local user"
)


def _accept_from(connect: list[str]) -> tuple[bool, bool]:
    """Accept one connection from a process started with ``connect + [port]``: what each check says."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.settimeout(20)
        port = str(server.getsockname()[1])
        proc = subprocess.Popen([*connect, port])
        try:
            conn, _ = server.accept()
            with conn:
                return local_peer.same_user(conn), local_peer._owner_matches(
                    conn.getpeername(), conn.getsockname()
                )
        finally:
            proc.kill()
            proc.wait()


def _reachable_by_others() -> str:
    """A temporary folder the other account can enter: some systems keep /tmp to root alone."""
    candidates = (tempfile.gettempdir(), "/var/tmp", "/dev/shm")
    return next((d for d in candidates if os.path.isdir(d) and os.stat(d).st_mode & 0o001), candidates[0])


HOLD = "import socket, sys, time; x=socket.create_connection(('127.0.0.1', int(sys.argv[1]))); time.sleep(9)"


def test_this_users_connections_are_recognised() -> None:
    # Both ways of telling: the kernel's socket table (Linux) and the process list (macOS, Windows).
    assert _accept_from([sys.executable, "-c", HOLD]) == (True, True)


@needs_other_user
def test_another_users_connections_are_recognised() -> None:
    assert _accept_from([*OTHER_USER, SYSTEM_PYTHON, "-c", HOLD]) == (False, False)


@pytest.mark.skipif(sys.platform != "linux", reason="network namespaces exist only on Linux")
@needs_other_user
def test_an_unprivileged_worker_gets_a_namespace_nobody_else_reaches() -> None:
    # Root would get a bare network namespace; an ordinary account needs a user namespace around it.
    folder = Path(tempfile.mkdtemp(prefix="hearth-netns-", dir=_reachable_by_others()))
    try:
        folder.chmod(0o755)
        shutil.copy(netns.__file__, folder / "netns.py")
        script = (
            f"import sys, socket, time; sys.path.insert(0, {str(folder)!r}); import netns; "
            "netns.enter_private_network(); s = socket.create_server(('127.0.0.1', 0)); "
            "socket.create_connection(s.getsockname()).close(); print(s.getsockname()[1], flush=True); "
            "time.sleep(20)"
        )
        proc = subprocess.Popen([*OTHER_USER, SYSTEM_PYTHON, "-c", script], stdout=subprocess.PIPE, text=True)
        try:
            assert proc.stdout is not None
            ready, _, _ = select.select([proc.stdout], [], [], 20)
            line = proc.stdout.readline() if ready else ""
            assert line, "the process could not listen inside its own namespace"
            with pytest.raises(ConnectionRefusedError):
                socket.create_connection(("127.0.0.1", int(line)), timeout=5)
        finally:
            proc.kill()
            proc.wait()
    finally:
        shutil.rmtree(folder)
