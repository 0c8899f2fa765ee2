"""The tunnel's relay as other threads see it: what a client waits on, and cutting it, on loopback."""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from harness.sockets import recv_exact
from hearth.core.rpc_filter import Ledger, RpcFilter
from hearth.core.rpc_protocol import Cmd
from hearth.engine.rpc import graph_rules
from hearth.mesh.tunnel import Link, LocalEndpoint, relay

BOUND_S = 5.0


def wait_for(condition: Callable[[], bool], timeout: float = BOUND_S) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def cmd(code: int, payload: bytes = b"") -> bytes:
    return bytes([code]) + struct.pack("<Q", len(payload)) + payload


def tcp_pair(listener: socket.socket) -> tuple[socket.socket, socket.socket]:
    near = socket.create_connection(listener.getsockname(), timeout=BOUND_S)
    far, _ = listener.accept()
    far.settimeout(BOUND_S)
    return near, far


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        sock.settimeout(BOUND_S)
        yield sock


class Relayed:
    """A client and a server on loopback with the relay between them, on its own thread."""

    def __init__(self, listener: socket.socket, filt: RpcFilter | None = None) -> None:
        self.client, relay_client = tcp_pair(listener)
        relay_server, self.server = tcp_pair(listener)
        for sock in (relay_client, relay_server):
            sock.settimeout(None)
        self.link = Link(relay_client, relay_server, filt)
        self.ended: list[str] = []
        self.thread = threading.Thread(
            target=lambda: self.ended.append(
                relay(relay_client, relay_server, filt, self.link.lock, self.link)
            ),
            daemon=True,
        )
        self.thread.start()

    def close(self) -> None:
        self.link.cut()
        self.thread.join(BOUND_S)
        self.client.close()
        self.server.close()


def test_the_client_waits_on_the_server_from_its_question_to_the_end_of_the_answer(listener) -> None:
    relayed = Relayed(listener, RpcFilter(Ledger(1 << 20), graph_rules()))
    try:
        link = relayed.link
        unanswered = cmd(Cmd.SET_TENSOR, b"x" * 100)
        relayed.client.sendall(unanswered)
        assert recv_exact(relayed.server, len(unanswered)) == unanswered
        assert wait_for(lambda: not link.awaiting_server())
        question = cmd(Cmd.GET_TENSOR, b"t" * 40)
        relayed.client.sendall(question)
        assert recv_exact(relayed.server, len(question)) == question
        assert link.awaiting_server()
        answer = struct.pack("<Q", 1000) + b"o" * 1000
        relayed.server.sendall(answer[:500])
        assert recv_exact(relayed.client, 500) == answer[:500]
        assert link.received == 500
        assert wait_for(lambda: link.sending_to is None)
        assert link.awaiting_server()  # half an answer is not an answer
        relayed.server.sendall(answer[500:])
        assert recv_exact(relayed.client, len(answer) - 500) == answer[500:]
        assert wait_for(lambda: not link.awaiting_server())
    finally:
        relayed.close()


def test_a_server_that_takes_nothing_keeps_its_client_waiting_and_a_cut_ends_it(listener) -> None:
    relayed = Relayed(listener)
    try:
        link = relayed.link
        # The server reads nothing, so the relay's send to it blocks once the buffers are full.
        sender = threading.Thread(target=_flood, args=(relayed.client,), daemon=True)
        sender.start()
        assert wait_for(lambda: link.sending_to is link.server)
        assert link.awaiting_server()
        link.cut()
        relayed.thread.join(BOUND_S)
        assert not relayed.thread.is_alive(), "the cut did not wake the relay"
        assert relayed.ended and relayed.ended[0].startswith(("broken", "server closed", "client closed"))
        sender.join(BOUND_S)
        assert not sender.is_alive()
    finally:
        relayed.close()


def _flood(sock: socket.socket) -> None:
    chunk = b"z" * 65536
    for _ in range(10_000):  # far more than any socket buffer holds
        try:
            sock.sendall(chunk)
        except OSError:
            return


def test_a_cut_endpoint_closes_the_connection_llama_cpp_waits_on(listener) -> None:
    upstreams: list[socket.socket] = []

    def open_upstream() -> socket.socket:
        sock = socket.create_connection(listener.getsockname(), timeout=BOUND_S)
        device, _ = listener.accept()  # a device that will never answer
        device.settimeout(BOUND_S)
        upstreams.append(device)
        return sock

    endpoint = LocalEndpoint(open_upstream, "frozen")
    try:
        assert not endpoint.cut("nothing to cut")
        client = socket.create_connection(("127.0.0.1", endpoint.port), timeout=BOUND_S)
        with client:
            client.sendall(cmd(Cmd.GET_TENSOR, b"t" * 40))
            assert wait_for(lambda: bool(endpoint.links.snapshot()))
            started = time.monotonic()
            assert endpoint.cut("frozen: the device is unreachable")
            assert client.recv(1) == b""  # the waiting side sees the connection end
            assert time.monotonic() - started < 1.0
        assert wait_for(lambda: not endpoint.links.snapshot())
        assert endpoint.failures == ["frozen: the device is unreachable"]
        # The device's side is closed too, after what had been sent to it.
        (device,) = upstreams
        assert recv_exact(device, 49) == cmd(Cmd.GET_TENSOR, b"t" * 40)
        assert device.recv(1) == b""
    finally:
        endpoint.close()
        for sock in upstreams:
            sock.close()
