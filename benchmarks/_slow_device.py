"""A slower device for the planner benchmark: a relay in front of an RPC worker that stretches its work.

    python -m benchmarks._slow_device SHARE PORT

Listens on 127.0.0.1, prints its port, and relays every connection to the worker on PORT. The worker
answers a request once its work is done; the relay holds each answer back so that the time from the
first request after the previous answer to this answer grows from ``t`` to ``t / SHARE``. The worker
behind it then behaves like a device ``SHARE`` times as fast at every time scale, from one layer's
burst to a sustained run, which a CPU quota does not do: a quota lets short bursts run at full speed.
"""

from __future__ import annotations

import socket
import sys
import threading
import time
from collections.abc import Callable

CHUNK = 1 << 16


class _Stretch:
    """When the worker was last asked, and whether the answer to that has been held back yet."""

    def __init__(self, share: float) -> None:
        self.factor = 1 / share - 1
        self.asked = 0.0
        self.waiting = False
        self.lock = threading.Lock()

    def request(self) -> None:
        with self.lock:
            # From the first request after an answer: the host sends a burst (inputs, the graph, the
            # read of its output) and waits; the worker is busy from the first of them.
            if not self.waiting:
                self.asked = time.perf_counter()
                self.waiting = True

    def hold(self) -> float:
        """Seconds to hold back the first bytes of an answer."""
        with self.lock:
            if not self.waiting:
                return 0.0
            self.waiting = False
            return (time.perf_counter() - self.asked) * self.factor


def _pump(src: socket.socket, dst: socket.socket, on_data: Callable[[], None]) -> None:
    try:
        while data := src.recv(CHUNK):
            on_data()
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

    def answer() -> None:
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
