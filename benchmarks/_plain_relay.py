"""A bare TCP relay process for the tunnel benchmark: Hearth's relay loop without TLS, ticket or filter.

    python -m benchmarks._plain_relay PORT [PORT...]

Listens on 127.0.0.1 once per target port, prints the listening ports on one line, and relays every
connection to its target until killed. It shows what a user-space hop costs by itself on this machine.
"""

from __future__ import annotations

import socket
import sys
import threading

from hearth.mesh.tunnel import relay


def _forward(listener: socket.socket, target: int) -> None:
    while True:
        conn, _ = listener.accept()
        upstream = socket.create_connection(("127.0.0.1", target))
        for sock in (conn, upstream):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=relay, args=(conn, upstream), daemon=True).start()


def main() -> None:
    ports = []
    for target in map(int, sys.argv[1:]):
        listener = socket.create_server(("127.0.0.1", 0))
        ports.append(listener.getsockname()[1])
        threading.Thread(target=_forward, args=(listener, target), daemon=True).start()
    print(" ".join(map(str, ports)), flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
