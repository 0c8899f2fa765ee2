"""Real ``hearth node`` processes for integration tests, each with its own state directory."""

from __future__ import annotations

import asyncio
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from harness.timing import scaled

if TYPE_CHECKING:
    from hearth.api.local import LocalClient
    from hearth.api.local_messages import Request
    from hearth.service.status import NodeStatus

A = TypeVar("A")
HEARTH = [sys.executable, "-m", "hearth"]
# A keyring backend that is never secure, so every test node keeps its key in its own HEARTH_HOME.
TEST_ENV = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring", "PYTHONUNBUFFERED": "1"}


def env_for(home: Path) -> dict[str, str]:
    return {**os.environ, **TEST_ENV, "HEARTH_HOME": str(home)}


class NodeProcess:
    def __init__(
        self,
        home: Path,
        name: str,
        host: str,
        *,
        discovery: bool = False,
        prefix: list[str] | None = None,
        extra: list[str] | None = None,
        probe: bool = False,
        command: str = "node",
    ) -> None:
        self.command = command  # "node", or "serve" (which also takes the node's options)
        self.probe = probe
        self.extra = extra or []
        self.home = home
        self.name = name
        self.host = host
        self.discovery = discovery
        self.prefix = prefix or []
        self.proc: subprocess.Popen[str] | None = None
        self.lines: list[str] = []
        self.times: list[float] = []  # when each line arrived (time.monotonic)
        self._cond = threading.Condition()
        self.port = 0
        self.device_id = ""

    def start(self, timeout: float = 30) -> NodeProcess:
        args = [
            *self.prefix,
            *HEARTH,
            self.command,
            "-v",
            "--name",
            self.name,
            "--host",
            self.host,
            "--port",
            str(self.port),
        ]
        if not self.discovery:
            args.append("--no-discovery")
        if not self.probe:
            # Each test node has its own state folder: measuring each would cost seconds apiece.
            args.append("--no-probe")
        args += self.extra
        self.lines = []
        self.times = []
        self.proc = subprocess.Popen(
            args, env=env_for(self.home), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        threading.Thread(target=self._pump, args=(self.proc,), daemon=True).start()
        line = self.wait_for(r"listening on \S+:(\d+)", timeout)
        match = re.search(r"\(([A-Z0-9-]+)\) listening on \S+:(\d+)", line)
        assert match, line
        self.device_id, self.port = match.group(1), int(match.group(2))
        return self

    def _pump(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            with self._cond:
                self.times.append(time.monotonic())
                self.lines.append(line.rstrip("\n"))
                self._cond.notify_all()

    def wait_for(self, pattern: str, timeout: float = 15, after: int = 0) -> str:
        return self.wait_for_at(pattern, timeout, after)[0]

    def wait_for_at(self, pattern: str, timeout: float = 15, after: int = 0) -> tuple[str, float]:
        """The first line from index ``after`` on that matches, and when it arrived."""
        deadline = time.monotonic() + scaled(timeout)
        with self._cond:
            while True:
                for i in range(after, len(self.lines)):
                    if re.search(pattern, self.lines[i]):
                        return self.lines[i], self.times[i]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"{self.name}: no line matching {pattern!r} in:\n" + "\n".join(self.lines)
                    )
                self._cond.wait(min(left, 0.2))

    def code(self, after: int = 0, timeout: float = 15) -> str:
        line = self.wait_for(r"Code: \d{3} \d{3}", timeout, after)
        match = re.search(r"Code: (\d{3}) (\d{3})", line)
        assert match
        return match.group(1) + match.group(2)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def cli(
        self, *args: str, stdin: str | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.prefix, *HEARTH, *args],
            env=env_for(self.home),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=scaled(timeout),
        )

    def pooled_answer(self, model: Path, plan: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """A short greedy ``hearth chat --pool`` answer over ``plan``, kept out of the history."""
        return self.cli(
            *("chat", "--model", str(model), "--pool", "--plan", plan, "--prompt", "hi"),
            *("--max-tokens", "8", "--no-history"),
            timeout=timeout,
        )

    def status(self) -> NodeStatus:
        from hearth.api.local_messages import Status

        return asyncio.run(local_call(self.home, Status()))

    def devices(self) -> list[dict[str, Any]]:
        result = self.cli("devices", "--json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    def device(self, device_id: str) -> dict[str, Any] | None:
        return next((d for d in self.devices() if d["device_id"] == device_id), None)

    def trust(self) -> list[dict[str, Any]]:
        path = self.home / "config" / "trust.json"
        return json.loads(path.read_text())["devices"] if path.exists() else []

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int:
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(scaled(timeout))
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return self.proc.returncode

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


async def open_local(home: Path) -> LocalClient:
    """A LocalClient for the node whose state directory is ``home``."""
    from hearth.api.local import LocalClient

    previous = os.environ.get("HEARTH_HOME")
    os.environ["HEARTH_HOME"] = str(home)
    try:
        return await LocalClient.open()
    finally:
        if previous is None:
            os.environ.pop("HEARTH_HOME", None)
        else:
            os.environ["HEARTH_HOME"] = previous


async def local_call(home: Path, request: Request[A]) -> A:
    """One request to a node's local API from this process."""
    client = await open_local(home)
    try:
        return await client.call(request)
    finally:
        await client.close()


def pair(
    a: NodeProcess, b: NodeProcess, meanwhile: Callable[[], None] | None = None
) -> subprocess.CompletedProcess[str]:
    """Pair ``a`` (initiator) with ``b``: request, read the code ``b`` shows, type it into ``a``;
    ``meanwhile`` runs while ``b`` shows the code, before it is typed."""
    mark = len(b.lines)
    proc = subprocess.Popen(
        [*a.prefix, *HEARTH, "pair", b.address],
        env=env_for(a.home),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        code = b.code(after=mark)
        if meanwhile is not None:
            meanwhile()
        out, err = proc.communicate(code + "\n", timeout=scaled(60))
    finally:
        if proc.poll() is None:
            proc.kill()
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def read_at_least(stream: Any, n: int, timeout: float = 60) -> bytes:
    """Read a process's output until ``n`` bytes have come, it closes, or ``timeout`` runs out."""
    got = b""
    deadline = time.monotonic() + scaled(timeout)
    while len(got) < n and time.monotonic() < deadline:
        ready, _, _ = select.select([stream], [], [], 1.0)
        if ready:
            chunk = os.read(stream.fileno(), 4096)
            if not chunk:
                break
            got += chunk
    return got


def wait_until(predicate: Any, timeout: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + scaled(timeout)
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


# Another local account: setpriv drops to nobody. Its programs must be readable by that account, so
# probes run with the system's Python rather than the project's.
OTHER_USER = ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups"]
SYSTEM_PYTHON = "/usr/bin/python3"


def can_act_as_other_user() -> bool:
    return os.name == "posix" and os.geteuid() == 0 and shutil.which("setpriv") is not None


def as_other_user(script: str, *args: str, timeout: float = 20) -> subprocess.CompletedProcess[str]:
    """Run a Python ``script`` as another local account; its stdout comes back as text."""
    command = [*OTHER_USER, SYSTEM_PYTHON, "-c", script, *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=scaled(timeout))


def serve(
    home: Path, name: str, host: str, model: Path, *extra: str, timeout: float = 120
) -> tuple[NodeProcess, str]:
    """A running ``hearth serve`` (API on an ephemeral port) and the base URL it serves at."""
    proc = NodeProcess(
        home, name, host, command="serve", extra=["--model", str(model), "--api-port", "0", *extra]
    ).start()
    line = proc.wait_for(r"serving \S+ at http://", timeout)
    match = re.search(r"serving \S+ at (http://\S+)", line)
    assert match, line
    return proc, match.group(1)


def ollama_url(proc: NodeProcess) -> str:
    """Where a `hearth serve` process's Ollama API listens, from the line it prints."""
    return proc.wait_for(r"^ollama: ").split("ollama: ", 1)[1].strip()
