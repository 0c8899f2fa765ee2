"""What a worker's end of the tunnel lets through to its ggml RPC server (sans-I/O).

The RPC server trusts its client completely. The filter reads the client's command stream and the
server's replies as they pass and enforces the donation, device by device (a worker serves its GPUs
and its CPU, each with a cap of its own, one ``Ledger`` each): allocations that would exceed a
device's donated memory are answered with a failed allocation instead of reaching the server, the
free memory reported for a device is capped to what is left of its donation, a device the worker
does not serve ends the connection before the server sees it, and every graph is checked as ggml
would have built it (``core.rpc_graph``: only the ops llama.cpp's graphs use, each node's shape as its
op makes it, every tensor inside a buffer of this connection); a graph that fails ends the
connection. Commands are held to their sizes before their payload is read, so the server never
allocates for a command it will not get. HELLO's transport capabilities are cleared both ways, so
neither end ever upgrades the connection to a transport (RDMA) that would bypass the tunnel.

Framing as in ``core.rpc_protocol``.
"""

from __future__ import annotations

import os
import struct
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from hearth.core.rpc_graph import MAX_GRAPH_BYTES, Graph, GraphRules, check_graph, work_bytes, work_limit
from hearth.core.rpc_graph import RpcViolation as RpcViolation
from hearth.core.rpc_protocol import (
    ANSWERED,
    CMD_COUNT,
    CONN_CAPS_SIZE,
    GET_ALLOC_SIZE_BYTES,
    RPC_TENSOR_SIZE,
    Cmd,
)
from hearth.core.units import MIB

# Commands whose payload the filter must see whole, with the most it may be (ggml-rpc.cpp's request
# structs); every other payload streams through.
INSPECTED: dict[int, int] = {
    Cmd.ALLOC_BUFFER: 12,  # device u32, size u64
    Cmd.BUFFER_GET_BASE: 8,  # buffer u64
    Cmd.FREE_BUFFER: 8,
    Cmd.GRAPH_COMPUTE: MAX_GRAPH_BYTES,
    Cmd.GET_DEVICE_MEMORY: 4,  # device u32
    Cmd.GET_ALIGNMENT: 4,  # device u32
    Cmd.GET_MAX_SIZE: 4,  # device u32
    Cmd.GET_ALLOC_SIZE: GET_ALLOC_SIZE_BYTES,  # device u32, rpc_tensor, its sources
    Cmd.GRAPH_RECOMPUTE: 4,  # device u32
    Cmd.HELLO: CONN_CAPS_SIZE,
}
# Commands whose payload starts with the index (u32) of the device they address.
ADDRESSED = frozenset(
    {
        Cmd.ALLOC_BUFFER,
        Cmd.GET_ALIGNMENT,
        Cmd.GET_MAX_SIZE,
        Cmd.GET_ALLOC_SIZE,
        Cmd.GET_DEVICE_MEMORY,
        Cmd.GRAPH_COMPUTE,
        Cmd.GRAPH_RECOMPUTE,
    }
)
# Replies the filter reads whole (and may rewrite) before passing them on.
INSPECTED_REPLIES = frozenset({Cmd.ALLOC_BUFFER, Cmd.BUFFER_GET_BASE, Cmd.GET_DEVICE_MEMORY, Cmd.HELLO})
# SET_TENSOR: rpc_tensor, cache flag u8, offset u64, then the data, which fits in one buffer.
SET_TENSOR_HEADER = RPC_TENSOR_SIZE + 1 + 8
_FAILED_ALLOC = struct.pack("<QQQ", 16, 0, 0)


@dataclass
class _Reply:
    cmd: int
    synthetic: bytes = b""
    buffer: int = 0  # BUFFER_GET_BASE: the buffer asked about
    size: int = 0  # ALLOC_BUFFER forwarded: the bytes charged to the ledger until it is answered
    device: int = 0  # ALLOC_BUFFER and GET_DEVICE_MEMORY: the device asked about


class Ledger:
    """The donation shared by every connection drawing on it: what the servers hold for them
    (``used_bytes``) and what they have been asked for and not yet answered (``pending_bytes``).

    An allocation is charged when it is forwarded, not when it is answered: connections that each
    forward one before any answer comes must not each see the whole donation free. It carries its own
    lock, held only for this arithmetic, because it is all that the relays of different connections
    share: each relay keeps its own filter to itself, so one can check an 18 MiB graph or wait on a
    slow peer while the others go on allocating."""

    __slots__ = ("_cap", "_lock", "_pending", "_used")

    def __init__(self, cap_bytes: int, used_bytes: int = 0) -> None:
        self._lock = threading.Lock()
        self._cap = cap_bytes
        self._used = used_bytes
        self._pending = 0

    @property
    def cap_bytes(self) -> int:
        return self._cap

    @property
    def used_bytes(self) -> int:
        return self._used

    @property
    def pending_bytes(self) -> int:
        return self._pending

    def set_cap(self, cap_bytes: int) -> None:
        """A new donation; what is held already stays held (a smaller cap only refuses more)."""
        with self._lock:
            self._cap = cap_bytes

    def left(self) -> int:
        """What a new allocation may still take."""
        with self._lock:
            return max(0, self._cap - self._used - self._pending)

    def reserve(self, size: int) -> bool:
        """Charge an allocation about to be forwarded, if it fits beside everything held or asked for."""
        with self._lock:
            if self._used + self._pending + size > self._cap:
                return False
            self._pending += size
            return True

    def settle(self, reserved: int, granted: int) -> None:
        """A reserved allocation was answered (``granted`` the size the server allocated, 0 when it
        refused) or will never be (its connection ended: 0). ``granted`` is booked as it is, even
        past ``reserved``: the filter ends a connection whose server answers so (``RpcFilter``)."""
        with self._lock:
            self._pending -= reserved
            self._used += granted

    def hold(self, size: int) -> bool:
        """Charge memory the server takes outside any buffer (a graph's work buffer growing), if it
        fits beside everything held or asked for; ``release`` gives it back."""
        with self._lock:
            if self._used + self._pending + size > self._cap:
                return False
            self._used += size
            return True

    def release(self, size: int) -> None:
        """The server freed ``size`` bytes of allocated buffers (or of what ``hold`` charged)."""
        with self._lock:
            self._used -= size


@dataclass
class RpcFilter:
    """One connection's view. Not thread-safe: its caller serialises the calls of one connection (its
    relay, and whoever asks ``awaiting_server``); the ledgers it shares with others lock themselves.

    ``ledger``: the donation of each device the worker serves, in the server's device order (one
    ledger alone: a worker serving one device)."""

    ledger: Ledger | Sequence[Ledger]
    rules: GraphRules
    # The worker's threads: per-thread parts of its work buffer (``rpc_graph.work_bytes``).
    threads: int = field(default_factory=lambda: os.cpu_count() or 1)
    buffers: dict[int, int] = field(default_factory=dict)  # handle -> size, as the server allocated
    buffer_devices: dict[int, int] = field(default_factory=dict)  # handle -> the device it is on
    bases: dict[int, int] = field(default_factory=dict)  # handle -> address, as the server said
    # The largest work buffer this connection's graphs have made the worker allocate, charged to the
    # ledger: the backend keeps it for later graphs and only grows it. ``work`` is all devices'
    # together, ``device_work`` each device's.
    work: int = 0
    device_work: dict[int, int] = field(default_factory=dict)
    ledgers: tuple[Ledger, ...] = field(init=False)
    _replies: deque[_Reply] = field(default_factory=deque)
    _in: bytearray = field(default_factory=bytearray)
    _in_cmd: int | None = None
    _in_left: int = 0  # payload bytes still to stream through
    _out: bytearray = field(default_factory=bytearray)
    _out_left: int = 0
    _out_cmd: int | None = None

    def __post_init__(self) -> None:
        self.ledgers = (self.ledger,) if isinstance(self.ledger, Ledger) else tuple(self.ledger)
        if not self.ledgers:
            raise ValueError("a filter needs the ledger of at least one device")

    def _device(self, cmd: int, payload: bytes) -> int:
        """The device a command addresses; one the worker does not serve ends the connection (the
        server would drop it too, but only after reading it, and with no word of why)."""
        if len(payload) < 4:
            raise RpcViolation(f"malformed {Cmd(cmd).name}")
        (device,) = struct.unpack_from("<I", payload, 0)
        if device >= len(self.ledgers):
            served = len(self.ledgers)
            raise RpcViolation(
                f"{Cmd(cmd).name} for device {device}: this worker serves {served} "
                f"device{'s' if served != 1 else ''} (0 to {served - 1})"
            )
        return int(device)

    # --- client -> server ---

    def from_client(self, data: bytes | memoryview) -> tuple[bytes, bytes]:
        """Returns (bytes for the server, bytes for the client). Raises RpcViolation."""
        to_server = bytearray()
        to_client = bytearray()
        view = memoryview(data)
        while view:
            if self._in_left:
                n = min(self._in_left, len(view))
                to_server += view[:n]
                view = view[n:]
                self._in_left -= n
                continue
            self._in += view
            view = memoryview(b"")
            while True:
                if len(self._in) < 9:
                    break
                cmd = self._in[0]
                (size,) = struct.unpack_from("<Q", self._in, 1)
                if cmd >= CMD_COUNT:
                    raise RpcViolation(f"unknown RPC command {cmd}")
                limit = INSPECTED.get(cmd)
                if limit is not None:
                    # Refused on its declared length, before anything that long is held or sent on.
                    if size > limit:
                        raise RpcViolation(f"a {size}-byte {Cmd(cmd).name} (at most {limit})")
                    if len(self._in) < 9 + size:
                        break
                    frame = bytes(self._in[: 9 + size])
                    del self._in[: 9 + size]
                    self._command(cmd, frame, to_server, to_client)
                    continue
                # Stream this command's payload through without holding it.
                if cmd == Cmd.SET_TENSOR and size > SET_TENSOR_HEADER + max(self.buffers.values(), default=0):
                    # The server holds a whole SET_TENSOR before it looks at it.
                    raise RpcViolation(f"a {size}-byte SET_TENSOR, larger than any buffer it could fill")
                if cmd in ANSWERED:
                    self._replies.append(_Reply(cmd))
                head = bytes(self._in[:9])
                body = bytes(self._in[9 : 9 + size])
                del self._in[: 9 + len(body)]
                to_server += head + body
                self._in_left = size - len(body)
                if self._in_left:
                    rest = bytes(self._in)
                    self._in.clear()
                    out_server, out_client = self.from_client(rest)
                    to_server += out_server
                    to_client += out_client
                    return bytes(to_server), bytes(to_client)
        return bytes(to_server), bytes(to_client)

    def _command(self, cmd: int, frame: bytes, to_server: bytearray, to_client: bytearray) -> None:
        payload = frame[9:]
        device = self._device(cmd, payload) if cmd in ADDRESSED else 0
        if cmd == Cmd.ALLOC_BUFFER:
            if len(payload) != 12:
                raise RpcViolation("malformed ALLOC_BUFFER")
            _, size = struct.unpack("<IQ", payload)
            if not self.ledgers[device].reserve(size):
                # Answer for the server: a null buffer, which llama.cpp reports as a failed allocation.
                self._replies.append(_Reply(cmd, _FAILED_ALLOC))
                to_client += self._drain_synthetic()
                return
            self._replies.append(_Reply(cmd, size=size, device=device))
            to_server += frame
            return
        elif cmd == Cmd.GET_DEVICE_MEMORY:
            self._replies.append(_Reply(cmd, device=device))
            to_server += frame
            return
        elif cmd == Cmd.GET_ALLOC_SIZE:
            if len(payload) != GET_ALLOC_SIZE_BYTES:
                raise RpcViolation("malformed GET_ALLOC_SIZE")
        elif cmd == Cmd.FREE_BUFFER:
            if len(payload) != 8:
                raise RpcViolation("malformed FREE_BUFFER")
            (ptr,) = struct.unpack("<Q", payload)
            self.ledgers[self.buffer_devices.pop(ptr, 0)].release(self.buffers.pop(ptr, 0))
            self.bases.pop(ptr, None)
        elif cmd == Cmd.BUFFER_GET_BASE:
            if len(payload) != 8:
                raise RpcViolation("malformed BUFFER_GET_BASE")
            (ptr,) = struct.unpack("<Q", payload)
            self._replies.append(_Reply(cmd, buffer=ptr))
            to_server += frame
            return
        elif cmd == Cmd.GRAPH_COMPUTE:
            self._charge_work(self.check_graph(payload), device)
        elif cmd == Cmd.HELLO:
            if len(payload) != CONN_CAPS_SIZE:
                raise RpcViolation("malformed HELLO")
            frame = frame[:9] + bytes(CONN_CAPS_SIZE)
        if cmd in ANSWERED:
            self._replies.append(_Reply(cmd))
        to_server += frame

    def check_graph(self, payload: bytes) -> Graph:
        """Check a GRAPH_COMPUTE's payload against the rules and this connection's buffers; raises
        RpcViolation. Only buffers whose base the client asked for can hold its tensors: that is how
        llama.cpp learns where its tensors are, and what the filter needs to place them."""
        spans = {ptr: (base, self.buffers[ptr]) for ptr, base in self.bases.items() if ptr in self.buffers}
        device = self._device(Cmd.GRAPH_COMPUTE, payload)
        return check_graph(
            payload,
            self.rules,
            spans,
            max_work=work_limit(self.ledgers[device].cap_bytes, self.threads),
            threads=self.threads,
        )

    def _charge_work(self, graph: Graph, device: int = 0) -> None:
        """Charge the growth of the worker's work buffer this graph would cause to the ledger, or
        refuse the graph. ``work_limit`` bounds one graph's; this bounds every worker's together, as
        each of a donor's workers (one a host) keeps its own beside the buffers of all."""
        need = work_bytes(graph, self.threads)
        had = self.device_work.get(device, 0)
        if need <= had:
            return
        ledger = self.ledgers[device]
        if not ledger.hold(need - had):
            raise RpcViolation(
                f"a graph whose work buffer could take {need // MIB} MiB, more than is left of the "
                f"donation ({(ledger.left() + had) // MIB} MiB)"
            )
        self.device_work[device] = need
        self.work += need - had

    # --- server -> client ---

    def from_server(self, data: bytes | memoryview) -> bytes | memoryview:
        """Bytes for the client; replies to inspected commands are read and possibly rewritten."""
        out = bytearray(self._drain_synthetic())
        view = memoryview(data)
        while view:
            if self._out_left:
                n = min(self._out_left, len(view))
                out += view[:n]
                view = view[n:]
                self._out_left -= n
                if not self._out_left:
                    out += self._drain_synthetic()
                continue
            self._out += view
            view = memoryview(b"")
            while len(self._out) >= 8:
                if not self._replies:
                    raise RpcViolation("the RPC server answered a command that has no answer")
                (size,) = struct.unpack_from("<Q", self._out, 0)
                cmd = self._replies[0].cmd
                if cmd in INSPECTED_REPLIES:
                    if len(self._out) < 8 + size:
                        break
                    frame = bytes(self._out[: 8 + size])
                    del self._out[: 8 + size]
                    out += self._reply(cmd, frame, self._replies.popleft())
                    out += self._drain_synthetic()
                    continue
                self._replies.popleft()
                body = bytes(self._out[8 : 8 + size])
                out += self._out[:8] + body
                del self._out[: 8 + len(body)]
                self._out_left = size - len(body)
                if self._out_left:
                    rest = bytes(self._out)
                    self._out.clear()
                    return bytes(out) + self.from_server(rest)
                out += self._drain_synthetic()
        return bytes(out)

    def _reply(self, cmd: int, frame: bytes, asked: _Reply) -> bytes:
        if cmd == Cmd.BUFFER_GET_BASE and len(frame) == 16:
            (base,) = struct.unpack_from("<Q", frame, 8)
            if asked.buffer in self.buffers:
                self.bases[asked.buffer] = base
            return frame
        if cmd == Cmd.ALLOC_BUFFER:
            ptr = size = 0
            if len(frame) == 24:
                _, ptr, size = struct.unpack("<QQQ", frame)
            # What the server says it holds is what it holds: booked as such, so that the ledger
            # stays true until the connection closes.
            granted = size if ptr else 0
            self.ledgers[asked.device].settle(asked.size, granted)
            if ptr:
                self.buffers[ptr] = size
                self.buffer_devices[ptr] = asked.device
            if granted > asked.size:
                # ggml's backends report the size asked for (a 0-byte buffer as 0), so a larger one
                # is a server not doing what it was asked: the connection ends, and its buffers with it.
                raise RpcViolation(f"the RPC server allocated {granted} bytes where {asked.size} were asked")
            return frame
        if cmd == Cmd.HELLO:
            if len(frame) != 8 + 4 + CONN_CAPS_SIZE:
                raise RpcViolation("malformed HELLO reply")
            return frame[:12] + bytes(CONN_CAPS_SIZE)
        if cmd == Cmd.GET_DEVICE_MEMORY and len(frame) == 24:
            _, free, total = struct.unpack("<QQQ", frame)
            ledger = self.ledgers[asked.device]
            return struct.pack("<QQQ", 16, min(free, ledger.left()), min(total, ledger.cap_bytes))
        return frame

    def awaiting_server(self) -> bool:
        """Whether the server owes the client an answer, or the rest of one. Most commands have no
        answer (a graph is computed and its output fetched later), so bytes sent are not enough."""
        return bool(self._out_left) or any(not r.synthetic for r in self._replies)

    def close(self) -> None:
        """The connection ended: the server frees its buffers (and the ones it was still allocating),
        and so does the ledger, this connection's work buffer included. The worker keeps that buffer
        while it lives: until its host's next connection grows one again, the ledger counts less than
        the worker holds (docs/security.md says so). Closing twice releases nothing twice."""
        for ptr, size in self.buffers.items():
            self.ledgers[self.buffer_devices.get(ptr, 0)].release(size)
        for device, work in self.device_work.items():
            self.ledgers[device].release(work)
        self.work = 0
        self.device_work.clear()
        for r in self._replies:
            if r.cmd == Cmd.ALLOC_BUFFER and not r.synthetic:
                self.ledgers[r.device].settle(r.size, 0)
        self._replies.clear()
        self.buffers.clear()
        self.buffer_devices.clear()
        self.bases.clear()

    def _drain_synthetic(self) -> bytes:
        out = bytearray()
        while self._replies and self._replies[0].synthetic and not self._out_left:
            out += self._replies.popleft().synthetic
        return bytes(out)
