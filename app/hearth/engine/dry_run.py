"""What a load would allocate on each device, from llama.cpp itself, before any device is reserved.

llama.cpp's dry run (``no_alloc``) builds and reserves the same graphs as a real load and reports the
compute buffer each device would get; its graph allocator reuses freed space in ways no formula
follows exactly. The remote devices of the plan are played by stand-ins on 127.0.0.1 in this process
(``core.rpc_standin``: made-up answers, no memory, no compute), so a plan can be sized for devices
that are not reserved, or not even connected. The stand-ins stay up for the life of the process:
ggml registers an RPC server for good, so the same endpoints are reused by every dry run.
"""

from __future__ import annotations

import logging
import socket
import threading

from hearth.core.rpc_standin import StandIn, StandInError
from hearth.engine import rpc
from hearth.engine.errors import BadRequest, EngineError
from hearth.engine.llama_runtime import dry_run
from hearth.engine.messages import Estimate, Estimated
from hearth.mesh.listener import Admission, Gate, Listener

log = logging.getLogger(__name__)
MAX_STAND_INS = 64
# Connections to one stand-in at once: this process's llama.cpp opens one per device and keeps it.
STAND_IN_CONNECTIONS = 8


def _serve(conn: socket.socket, addr: tuple[str, int], admission: Admission) -> None:
    device = StandIn(alignment=rpc.cpu_alignment())
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    with conn:
        try:
            # llama.cpp asks its first question (HELLO) as it connects: until it is answered the
            # connection is in its handshake, held to one deadline; then it may stay as long as ggml
            # keeps it, which is for good.
            handshake = True
            while True:
                conn.settimeout(admission.remaining() if handshake else None)
                data = conn.recv(1 << 16)
                if not data:
                    return
                reply = device.receive(data)
                if reply:
                    conn.sendall(reply)
                    if handshake:
                        handshake = False
                        admission.done()
        except (OSError, StandInError) as exc:
            log.debug("stand-in connection ended: %s", exc)


class _StandIns:
    def __init__(self) -> None:
        self._endpoints: list[str] = []
        self._lock = threading.Lock()

    def endpoints(self, n: int) -> list[str]:
        if n > MAX_STAND_INS:
            raise BadRequest(f"a plan over {n} remote devices; Hearth sizes at most {MAX_STAND_INS}")
        with self._lock:
            while len(self._endpoints) < n:
                gate = Gate(STAND_IN_CONNECTIONS, STAND_IN_CONNECTIONS, open_total=STAND_IN_CONNECTIONS)
                listener = Listener("127.0.0.1", gate)
                listener.serve(_serve, "stand-in")
                self._endpoints.append(f"127.0.0.1:{listener.port}")
            return self._endpoints[:n]


_stand_ins = _StandIns()


def estimate(request: Estimate) -> Estimated:
    if request.load.backend != "llama":
        raise BadRequest("llama.cpp sizes GGUF models only; an MLX model is sized by Hearth's estimate")
    endpoints = _stand_ins.endpoints(request.remote_devices)
    buffers = dry_run(request.load, endpoints, request.head_on_first)
    # llama.cpp names a remote buffer by the server's device: "RPC<device>[<endpoint>]".
    remote = {f"RPC0[{endpoint}]": i for i, endpoint in enumerate(endpoints)}
    host, remotes = 0, [0] * len(endpoints)
    reported: set[int] = set()
    for key, size in buffers.items():
        device, kind = key.rsplit(" ", 1)
        index = remote.get(device)
        if index is not None:
            reported.add(index)
        if kind not in ("compute", "output"):
            continue
        if index is None:
            host += size
        else:
            remotes[index] += size
    if len(reported) < len(endpoints):
        # Every device of a plan holds layers, so llama.cpp names each; anything else would put their
        # buffers on this device without a word.
        missing = [endpoints[i] for i in range(len(endpoints)) if i not in reported]
        raise EngineError(f"llama.cpp's dry run reported nothing for {', '.join(missing)}")
    return Estimated(host, remotes)
