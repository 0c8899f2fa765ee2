"""A slower device for the planner benchmark: a relay in front of an RPC worker that stretches its work.

    python -m benchmarks._slow_device SHARE PORT

Listens on 127.0.0.1, prints its port, and relays every connection to the worker on PORT. The worker
answers once its work is done; the relay holds the answer after each graph back so that the time from
the graph's arrival to the answer grows from ``t`` to ``t / SHARE``. The worker behind it then behaves
like a device ``SHARE`` times as fast at every time scale, from one layer to a sustained run, which a
CPU quota does not do: a quota lets short bursts run at full speed.
"""

from __future__ import annotations

import socket
import sys
import threading
import time
from collections.abc import Callable

from hearth.core.rpc_protocol import Cmd

CHUNK = 1 << 16


class _Stretch:
    """When the worker was given a graph to compute, and whether its answer has been held back yet.

    Reads the host's requests as ggml RPC frames (``cmd u8 | size u64 | payload``): the worker's work
    starts when a whole graph has arrived, and the next answer comes once it is done. Inputs the host
    sends ahead of time (it may send them while it computes its own layers) do not count."""

    def __init__(self, share: float) -> None:
        self.factor = 1 / share - 1
        self.asked = 0.0
        self.waiting = False
        self.lock = threading.Lock()
        self._head = bytearray()
        self._cmd = -1
        self._left = 0

    def request(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            if self._left:
                n = min(self._left, len(view))
                view, self._left = view[n:], self._left - n
                if not self._left:
                    self._complete()
                continue
            take = min(9 - len(self._head), len(view))
            self._head += view[:take]
            view = view[take:]
            if len(self._head) == 9:
                self._cmd, self._left = self._head[0], int.from_bytes(self._head[1:], "little")
                self._head.clear()
                if not self._left:
                    self._complete()

    def _complete(self) -> None:
        if self._cmd in (Cmd.GRAPH_COMPUTE, Cmd.GRAPH_RECOMPUTE):
            with self.lock:
                self.asked = time.perf_counter()
                self.waiting = True

    def hold(self) -> float:
        """Seconds to hold back the first bytes of an answer."""
        with self.lock:
            if not self.waiting:
                return 0.0
            self.waiting = False
            return (time.perf_counter() - self.asked) * self.factor


def _pump(src: socket.socket, dst: socket.socket, on_data: Callable[[bytes], None]) -> None:
    try:
        while data := src.recv(CHUNK):
            on_data(data)
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (src, dst):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def _serve(conn: socket.socket, target: int, share: float) -> None:
    upstream = socket.create_connection(("127.0.0.1", target))
    for sock in (conn, upstream):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    stretch = _Stretch(share)

    def answer(_: bytes) -> None:
        delay = stretch.hold()
        if delay > 0:
            time.sleep(delay)

    threading.Thread(target=_pump, args=(conn, upstream, stretch.request), daemon=True).start()
    _pump(upstream, conn, answer)


def main() -> None:
    share, target = float(sys.argv[1]), int(sys.argv[2])
    listener = socket.create_server(("127.0.0.1", 0))
    print(listener.getsockname()[1], flush=True)
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=_serve, args=(conn, target, share), daemon=True).start()


if __name__ == "__main__":
    main()
