"""One model over a host and two donating worker nodes, through Hearth's tunnels, on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import os
import select
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from harness.nodes import (
    HEARTH,
    NodeProcess,
    as_other_user,
    can_act_as_other_user,
    env_for,
    open_local,
    pair,
    read_at_least,
    wait_until,
)
from hearth.api import local_messages as msg
from hearth.core import control, llama_log
from hearth.core.profile import read_profile
from hearth.engine import messages as m
from hearth.engine.client import EngineClient
from hearth.mesh import channel, tls
from hearth.mesh.channel import dial
from hearth.mesh.identity import Identity, make_certificate
from hearth.mesh.pairing_client import request_pairing
from hearth.models import synthetic
from hearth.service.status import WorkerStatus
from hearth.store.conversations import ConversationStore

PROMPT = "The quick brown fox"
DONOR = ["--donate", "--max-memory", "512M", "--threads", "1"]


@pytest.fixture(scope="module")
def small_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Layers of about 1 MiB, so that llama.cpp's buffer sizes (logged in 0.01 MiB steps) resolve them.
    spec = synthetic.variant(synthetic.TINY, n_embd=256, n_ff=512, name="small")
    return synthetic.write_model(tmp_path_factory.mktemp("pool") / "small.gguf", spec)


@pytest.fixture(scope="module")
def pool_nodes(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("nodes")
    host = NodeProcess(root / "alpha", "alpha", "127.0.0.1").start()
    beta = NodeProcess(root / "beta", "beta", "127.0.0.2", extra=DONOR).start()
    gamma = NodeProcess(root / "gamma", "gamma", "127.0.0.3", extra=DONOR).start()
    try:
        for worker in (beta, gamma):
            assert pair(host, worker).returncode == 0
        for worker in (beta, gamma):
            assert wait_until(
                lambda w=worker: ((host.device(w.device_id) or {}).get("donated_bytes") or 0) > 0, 15
            )
        yield host, beta, gamma
    finally:
        for node in (host, beta, gamma):
            node.stop()


def run(coro, timeout: float = 180):
    return asyncio.run(asyncio.wait_for(coro, timeout))


async def _generate(engine: EngineClient, n: int = 32) -> list[int]:
    ids: list[int] = []
    await engine.generate(
        m.Generate(0, prompt=PROMPT, max_tokens=n, temperature=0.0, ignore_eos=True),
        lambda t: ids.append(t.id),
    )
    return [i for i in ids if i >= 0]


def test_pooled_greedy_output_equals_local_and_layers_land_as_planned(pool_nodes, small_model: Path) -> None:
    host, _, _ = pool_nodes
    profile = read_profile(str(small_model))
    plans = ["host:0-1,beta:2-6,gamma:7", "beta:0-3,gamma:4-7", "host:0-5,beta:6,gamma:7"]

    async def scenario() -> tuple[list[int], list[tuple[msg.PoolAnswer, list[int], dict[str, int]]]]:
        engine = EngineClient()
        client = await open_local(host.home)
        try:
            await engine.load(m.LoadModel(str(small_model), n_ctx=256))
            local = await _generate(engine)
            results = []
            for plan in plans:
                pool = await client.call(msg.Pool(model=str(small_model), plan=plan, n_ctx=256))
                loaded = await engine.load(
                    m.LoadModel(
                        str(small_model),
                        n_ctx=256,
                        rpc_servers=pool.endpoints,
                        n_gpu_layers=pool.n_gpu_layers,
                        tensor_split=pool.tensor_split,
                    )
                )
                results.append((pool, await _generate(engine), loaded.buffers))
            return local, results
        finally:
            await engine.close()
            await client.close()

    local, results = run(scenario())
    assert len(local) == 32
    for plan, (pool, ids, buffers) in zip(plans, results, strict=True):
        assert pool.plan == plan
        assert ids == local, plan
        ranges = [part.split(":") for part in plan.split(",") if not part.startswith("host")]
        for (name, span), endpoint in zip(ranges, pool.endpoints, strict=True):
            first, _, last = span.partition("-")
            expected = sum(profile.layer_bytes[int(first) : int(last or first) + 1])
            held = buffers[f"RPC0[{endpoint}] model"]
            assert _close(held, expected), (plan, name, held, expected)
            layers = int(last or first) - int(first) + 1
            assert _close(buffers[f"RPC0[{endpoint}] KV"], profile.kv_bytes(256, layers)), (plan, name)
        assert llama_log.total(buffers, "model") > 0


def _close(logged: int, expected: int) -> bool:
    # llama.cpp logs sizes in MiB with two decimals: within that rounding, or 2 %.
    return abs(logged - expected) <= max(0.02 * expected, 0.006 * 2**20)


def test_over_the_donation_is_refused_naming_the_device(pool_nodes, small_model: Path) -> None:
    host, _, gamma = pool_nodes

    async def scenario() -> str:
        client = await open_local(gamma.home)
        await client.call(msg.Donate(enabled=True, max_memory=2**20))
        await client.close()
        try:
            host_client = await open_local(host.home)
            try:
                await host_client.call(msg.Pool(model=str(small_model), plan="host:0-3,gamma:4-7", n_ctx=256))
            except Exception as exc:
                return str(exc)
            finally:
                await host_client.close()
            return "pooled"
        finally:
            client = await open_local(gamma.home)
            await client.call(msg.Donate(enabled=True, max_memory=512 * 2**20))
            await client.close()

    message = run(scenario())
    assert message.startswith("gamma refused: gamma donates 1 MiB")
    assert "this plan needs" in message


def test_nothing_but_the_reserving_host_gets_through_a_tunnel(
    pool_nodes, small_model: Path, tmp_path: Path
) -> None:
    host, beta, _ = pool_nodes
    stranger = Identity("stranger", *make_certificate(), "file")

    async def scenario() -> tuple[list[str], int, int]:
        # The stranger is even paired with beta: being paired is not enough, the ticket decides.
        mark = len(beta.lines)
        attempt = await request_pairing(beta.address, stranger)
        await attempt.finish(await asyncio.to_thread(beta.code, mark))
        client = await open_local(host.home)
        try:
            await client.call(msg.Pool(model=str(small_model), plan="host:0-3,beta:4-7", n_ctx=256))
            status = await open_local(beta.home)
            before = await status.call(msg.Status())
            port = before.tunnel_port
            assert port is not None
            seen_before = sum(w.rpc_connections for w in before.workers)
            hello = bytes([14]) + (4).to_bytes(8, "little") + b"\0\0\0\0"
            beta_cert = (beta.home / "config" / "device-cert.pem").read_text()
            outcomes = []
            for label, ctx in (
                ("plain TCP", None),
                ("TLS without a certificate", tls.pairing_client_context()),
                ("paired device, wrong ticket", tls.pinned_client_context(stranger, beta_cert)),
            ):
                outcomes.append(await asyncio.to_thread(_probe, label, beta.host, port, ctx, hello))
            after = await status.call(msg.Status())
            await status.close()
            return outcomes, seen_before, sum(w.rpc_connections for w in after.workers)
        finally:
            await client.close()

    outcomes, before, after = run(scenario())
    assert all(o.endswith("nothing") for o in outcomes), outcomes
    assert after == before, "the RPC server saw a connection it should never have seen"


def _probe(label: str, host: str, port: int, ctx: ssl.SSLContext | None, hello: bytes) -> str:
    sock = socket.create_connection((host, port), timeout=5)
    try:
        if ctx is not None:
            sock = ctx.wrap_socket(sock, server_hostname="hearth")
        sock.sendall((os.urandom(32) if ctx is not None else b"") + hello)
        ready, _, _ = select.select([sock], [], [], 3)
        data = sock.recv(64) if ready else b""
    except (OSError, ssl.SSLError):
        data = b""
    finally:
        sock.close()
    return f"{label}: {'got ' + data.hex() if data else 'nothing'}"


# Connects to each labelled port on 127.0.0.1, sends RPC HELLO, and says what came back.
HELLO_PROBE = r"""
import json, select, socket, sys
hello = bytes([14]) + (24).to_bytes(8, "little") + bytes(24)  # HELLO and its capabilities
out = {}
for label, port in zip(sys.argv[1::2], sys.argv[2::2]):
    try:
        s = socket.create_connection(("127.0.0.1", int(port)), timeout=5)
    except OSError as exc:
        out[label] = "unreachable: " + type(exc).__name__
        continue
    with s:
        try:
            s.sendall(hello)
            data = s.recv(64) if select.select([s], [], [], 3)[0] else b""
        except OSError:
            data = b""
    out[label] = "answered" if data else "nothing"
print(json.dumps(out))
"""


@pytest.mark.skipif(not can_act_as_other_user(), reason="needs root and setpriv to act as another user")
def test_another_local_user_gets_no_hello_from_a_worker_or_a_host_listener(
    pool_nodes, small_model: Path
) -> None:
    host, beta, _ = pool_nodes

    async def scenario() -> tuple[dict[str, str], dict[str, str], WorkerStatus, int, int]:
        client = await open_local(host.home)
        status = await open_local(beta.home)
        try:
            pooled = await client.call(msg.Pool(model=str(small_model), plan="host:0-3,beta:4-7", n_ctx=256))
            (worker,) = (await status.call(msg.Status())).workers
            ports = ["worker", str(worker.port), "host listener", pooled.endpoints[0].split(":")[1]]
            other = await asyncio.to_thread(as_other_user, HELLO_PROBE, *ports)
            between = (await status.call(msg.Status())).workers[0].rpc_connections
            mine = await asyncio.to_thread(
                subprocess.run, [sys.executable, "-c", HELLO_PROBE, *ports], capture_output=True, text=True
            )
            after = (await status.call(msg.Status())).workers[0].rpc_connections
            assert other.returncode == 0, other.stderr
            return json.loads(other.stdout), json.loads(mine.stdout), worker, between, after
        finally:
            await status.close()
            await client.close()

    other, mine, worker, between, after = run(scenario())
    assert worker.exposed is None, worker.exposed
    # The worker's server is in a network namespace of its own: nobody outside reaches it at all.
    assert other["worker"].startswith("unreachable") and mine["worker"].startswith("unreachable")
    # The host's listener serves this user's processes (llama.cpp) and nobody else's.
    assert other["host listener"] == "nothing"
    assert mine["host listener"] == "answered"
    assert between == worker.rpc_connections and after == between + 1


def test_a_different_llama_build_is_refused_before_any_weight_moves(pool_nodes) -> None:
    _, beta, _ = pool_nodes
    other = Identity("other-build", *make_certificate(), "file")

    async def scenario() -> control.ControlMessage:
        mark = len(beta.lines)
        attempt = await request_pairing(beta.address, other)
        await attempt.finish(await asyncio.to_thread(beta.code, mark))
        beta_cert = (beta.home / "config" / "device-cert.pem").read_text()
        hello = control.Hello(
            control.PROTOCOL_VERSION, "0.1.0", "llama.cpp from elsewhere", other.device_id, "other"
        )
        chan = await dial(beta.address, other, beta_cert, beta.device_id, hello)
        await chan.send(control.Reserve(1, 2**20, 1, "llama.cpp from elsewhere"))
        async with asyncio.timeout(10):
            async for data in chan.ws:
                message = control.decode(data)
                if isinstance(message, control.Refused | control.Reserved):
                    await chan.close()
                    return message
        raise AssertionError("no answer")

    answer = run(scenario())
    assert isinstance(answer, control.Refused)
    assert "llama.cpp builds differ" in answer.reason and "llama.cpp from elsewhere" in answer.reason
    assert "ggml" in answer.reason  # this device's own build is named too
    assert beta.status().workers == []


@contextlib.contextmanager
def _pooled_chat_under_way(
    host: NodeProcess, model: Path, plan: str
) -> Iterator[tuple[subprocess.Popen[bytes], bytes]]:
    """A pooled `hearth chat` that answers for far longer than any test waits, once its answer shows;
    it is killed on the way out, whatever happened."""
    args = [
        *HEARTH,
        "chat",
        "--model",
        str(model),
        "--pool",
        "--plan",
        plan,
        "--prompt",
        "tell me everything",
        "--max-tokens",
        "15000",
        "--ctx",
        "8192",
        "--temperature",
        "0",
    ]
    proc = subprocess.Popen(args, env=env_for(host.home), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    engines: list[psutil.Process] = []
    try:
        assert proc.stdout is not None and proc.stderr is not None
        shown = read_at_least(proc.stdout, 200)
        if len(shown) < 200:
            ended = proc.poll() is not None
            raise AssertionError(
                "the pooled answer never got going" + (f": {proc.stderr.read().decode()}" if ended else "")
            )
        yield proc, shown
    finally:
        # Its engine too: orphaned, an engine whose pooled model lost its device may never exit.
        if proc.poll() is None:  # not reaped, so the ID is still the chat's
            with contextlib.suppress(psutil.Error):
                engines = psutil.Process(proc.pid).children(recursive=True)
        proc.kill()
        proc.wait()
        for engine in engines:
            with contextlib.suppress(psutil.Error):
                engine.kill()


def _worker_of(node: NodeProcess) -> psutil.Process:
    assert node.proc is not None
    workers = [p for p in psutil.Process(node.proc.pid).children() if "rpc_worker" in " ".join(p.cmdline())]
    assert len(workers) == 1, workers
    return workers[0]


def _ended(proc: subprocess.Popen[bytes], since: float, timeout: float) -> tuple[float, str, bytes]:
    """Wait for the chat to end: seconds from ``since``, its stderr, and the rest of its answer."""
    proc.wait(timeout=timeout)
    after = time.monotonic() - since
    assert proc.stderr is not None and proc.stdout is not None
    return after, proc.stderr.read().decode(), proc.stdout.read()


def test_killing_a_worker_mid_answer_is_reported_and_a_new_plan_works(pool_nodes, small_model: Path) -> None:
    host, beta, _ = pool_nodes
    with _pooled_chat_under_way(host, small_model, "host:0-3,beta:4-7") as (proc, shown):
        worker = _worker_of(beta)
        killed_at = time.monotonic()
        os.kill(worker.pid, signal.SIGKILL)
        reported_after, stderr, rest = _ended(proc, killed_at, 15)
    shown += rest
    assert proc.returncode == 3
    assert reported_after < 5.0
    assert "beta" in stderr and "the answer stopped" in stderr, stderr
    assert beta.alive()
    store = ConversationStore(host.home / "conversations.sqlite3")
    answer = store.messages(store.conversations()[0].id)[-1]
    assert answer.status == "failed" and answer.error
    assert answer.content.encode() == shown.rstrip(b"\n")
    # The pool goes on without beta.
    again = host.pooled_answer(small_model, "host:0-3,gamma:4-7")
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip()


def test_a_worker_that_stops_answering_mid_answer_is_reported_and_replaced(
    pool_nodes, small_model: Path
) -> None:
    host, beta, _ = pool_nodes
    with _pooled_chat_under_way(host, small_model, "host:0-3,beta:4-7") as (proc, _):
        worker = _worker_of(beta)
        stopped_at = time.monotonic()
        # Stopped, not dead: its sockets stay open, and without the node's guard the host would wait
        # forever.
        os.kill(worker.pid, signal.SIGSTOP)
        try:
            reported_after, stderr, _ = _ended(proc, stopped_at, 30)
            gone, _ = psutil.wait_procs([worker], timeout=10)
        finally:
            with contextlib.suppress(psutil.Error):
                worker.kill()
    print(f"SIGSTOP to the end of the answer: {reported_after:.2f} s")
    assert proc.returncode == 3, stderr
    assert reported_after < 10.0
    assert "beta" in stderr and "stopped answering" in stderr, stderr
    assert gone, "the node left its stopped worker in place"
    assert beta.alive()
    assert beta.status().workers == []
    # The same donor serves the next answer, with a fresh worker.
    again = host.pooled_answer(small_model, "host:0-3,beta:4-7")
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip()


SYS_PIDFD_GETFD = 438  # the same number on every Linux architecture


def _shut_down_server_connections(worker: psutil.Process, port: int) -> int:
    """Shut down the worker's end of each connection to its RPC server, while the process runs on.

    A copy of a socket taken with pidfd_getfd is the same socket, so shutting the copy down closes
    the connection the RPC server reads from. /proc/PID/net is the table of the worker's own network
    namespace."""
    inodes = set()
    for line in Path(f"/proc/{worker.pid}/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port, state = int(fields[1].rsplit(":", 1)[1], 16), fields[3]
        if local_port == port and state == "01":  # established, on the server's side
            inodes.add(f"socket:[{fields[9]}]")
    fds = []
    for entry in Path(f"/proc/{worker.pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            if os.readlink(entry) in inodes:
                fds.append(int(entry.name))
    libc = ctypes.CDLL(None, use_errno=True)
    pidfd = os.pidfd_open(worker.pid)
    try:
        for fd in fds:
            copy = libc.syscall(SYS_PIDFD_GETFD, pidfd, fd, 0)
            if copy < 0:
                raise OSError(ctypes.get_errno(), "pidfd_getfd")
            with socket.socket(fileno=copy) as sock:
                sock.shutdown(socket.SHUT_RDWR)
    finally:
        os.close(pidfd)
    return len(fds)


@pytest.mark.skipif(not hasattr(os, "pidfd_open"), reason="needs pidfd_open and pidfd_getfd (Linux 5.6)")
def test_a_worker_connection_that_closes_mid_answer_is_reported_and_the_donor_serves_on(
    pool_nodes, small_model: Path
) -> None:
    host, beta, _ = pool_nodes
    with _pooled_chat_under_way(host, small_model, "host:0-3,beta:4-7") as (proc, _):
        worker = _worker_of(beta)
        (status,) = beta.status().workers
        closed_at = time.monotonic()
        assert _shut_down_server_connections(worker, status.port) >= 1
        reported_after, stderr, _ = _ended(proc, closed_at, 30)
    print(f"connection closed to the end of the answer: {reported_after:.2f} s")
    assert proc.returncode == 3, stderr
    assert reported_after < 10.0
    assert "beta" in stderr and "the answer stopped" in stderr, stderr
    assert beta.alive()
    again = host.pooled_answer(small_model, "host:0-3,beta:4-7")
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip()


if sys.platform != "linux":
    pytestmark = pytest.mark.skip(
        "uses 127.0.0.x addresses beyond 127.0.0.1, which only Linux routes by default"
    )


def test_a_killed_node_takes_its_worker_with_it(tmp_path: Path, small_model: Path) -> None:
    host = NodeProcess(tmp_path / "alpha", "alpha", "127.0.0.1").start()
    donor = NodeProcess(tmp_path / "delta", "delta", "127.0.0.4", extra=DONOR).start()
    try:
        assert pair(host, donor).returncode == 0
        assert wait_until(lambda: ((host.device(donor.device_id) or {}).get("donated_bytes") or 0) > 0, 15)

        async def scenario() -> tuple[list[psutil.Process], float]:
            client = await open_local(host.home)
            try:
                # The reservation lasts while this connection is open.
                await client.call(msg.Pool(model=str(small_model), plan="host:0-3,delta:4-7", n_ctx=256))
                assert donor.proc is not None
                node = psutil.Process(donor.proc.pid)
                workers = [p for p in node.children() if "hearth.engine.rpc_worker" in p.cmdline()]
                assert len(workers) == 1
                donor.proc.kill()  # SIGKILL: the node gets no chance to clean up
                killed = time.monotonic()
                # A bound, not a speed: the worker sees its stdin close at once, but a loaded 2-core
                # machine may take a few seconds to schedule it.
                gone, _ = await asyncio.to_thread(psutil.wait_procs, workers, 10.0)
                return gone, time.monotonic() - killed
            finally:
                await client.close()

        gone, waited = run(scenario())
        assert len(gone) == 1, f"the worker outlived its node by {waited:.1f} s"
    finally:
        host.stop()
        donor.stop()


def test_a_donor_that_freezes_mid_answer_is_reported_once_its_channel_times_out(
    tmp_path: Path, small_model: Path
) -> None:
    host = NodeProcess(tmp_path / "alpha", "alpha", "127.0.0.1").start()
    donor = NodeProcess(tmp_path / "epsilon", "epsilon", "127.0.0.5", extra=DONOR).start()
    try:
        assert pair(host, donor).returncode == 0
        assert wait_until(lambda: ((host.device(donor.device_id) or {}).get("donated_bytes") or 0) > 0, 15)
        with _pooled_chat_under_way(host, small_model, "host:0-3,epsilon:4-7") as (proc, _):
            assert donor.proc is not None
            # The whole node stops, as on a machine that froze: its worker runs on, but nothing
            # reaches it.
            frozen_at = time.monotonic()
            donor.proc.send_signal(signal.SIGSTOP)
            try:
                reported_after, stderr, _ = _ended(proc, frozen_at, 45)
            finally:
                donor.proc.send_signal(signal.SIGCONT)
        print(f"node frozen to the end of the answer: {reported_after:.2f} s")
        assert proc.returncode == 3, stderr
        # The control channel's keepalive gives up after its ping interval and timeout.
        assert reported_after < channel.PING_INTERVAL_S + channel.PING_TIMEOUT_S + 8
        assert "epsilon" in stderr and "unreachable" in stderr, stderr
    finally:
        host.stop()
        donor.stop()
