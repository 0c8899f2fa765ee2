"""The donating side: workers started for paired hosts, within what the user donated."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from hearth.core import control
from hearth.core.device_id import device_id
from hearth.core.rpc_filter import Ledger, RpcFilter
from hearth.core.units import MIB
from hearth.engine import rpc_worker
from hearth.mesh.tunnel import Grant, TunnelServer
from hearth.store import paths
from hearth.store.settings import Donation

log = logging.getLogger(__name__)


@dataclass
class Reservation:
    id: str
    host_id: str
    ticket: bytes
    memory: int
    threads: int
    worker: rpc_worker.Worker
    ledger: Ledger
    lock: threading.Lock = field(default_factory=threading.Lock)
    watcher: asyncio.Task[None] | None = None
    rpc_connections: int = 0  # connections the RPC server accepted, as it reports them


class Workers:
    def __init__(
        self,
        name: str,
        donation: Callable[[], Donation],
        total_memory: Callable[[], int],
        build_id: Callable[[], str],
        tls_context: Callable[[], ssl.SSLContext],
        is_trusted: Callable[[str], bool],
        on_lost: Callable[[Reservation, str], None],
        bind_host: str | None,
    ) -> None:
        self.name = name
        self._donation = donation
        self._total_memory = total_memory
        self._build_id = build_id
        self._tls_context = tls_context
        self._is_trusted = is_trusted
        self._on_lost = on_lost
        self._bind_host = bind_host or ""
        self.reservations: dict[str, Reservation] = {}
        self._by_ticket: dict[bytes, Reservation] = {}
        self._tunnel: TunnelServer | None = None
        self._forbidden_ops: frozenset[int] | None = None

    @property
    def tunnel_port(self) -> int | None:
        return self._tunnel.port if self._tunnel else None

    def used_memory(self, except_host: str | None = None) -> int:
        return sum(r.memory for r in self.reservations.values() if r.host_id != except_host)

    async def reserve(self, host_id: str, request: control.Reserve) -> control.Reserved | control.Refused:
        donation = self._donation()

        def refuse(reason: str) -> control.Refused:
            return control.Refused(request.request_id, reason)

        if not donation.enabled:
            return refuse(
                f"{self.name} is not donating compute (start it with --donate, or switch donation on)"
            )
        build = self._build_id()
        if request.llama_build != build:
            return refuse(
                f"llama.cpp builds differ: {self.name} runs '{build}', the host '{request.llama_build}'"
            )
        # A host holds one reservation per device; a new one replaces its old one.
        for old in [r for r in self.reservations.values() if r.host_id == host_id]:
            await self.release(old.id, "replaced by a new reservation")
        cap = donation.effective_memory(self._total_memory())
        left = cap - self.used_memory()
        if request.memory_bytes > left:
            return refuse(
                f"{self.name} donates {cap // MIB} MiB ({left // MIB} MiB free of it); "
                f"this plan needs {request.memory_bytes // MIB} MiB there"
            )
        threads = max(1, min(request.threads or donation.effective_threads(), donation.effective_threads()))
        try:
            worker = await self._start_worker(host_id, threads)
        except (OSError, RuntimeError) as exc:
            return refuse(f"{self.name} could not start a worker: {exc}")
        reservation = Reservation(
            id=secrets.token_hex(8),
            host_id=host_id,
            ticket=secrets.token_bytes(32),
            memory=request.memory_bytes,
            threads=threads,
            worker=worker,
            # What actually gets allocated is held to the donation, less what other hosts reserved.
            ledger=Ledger(cap - self.used_memory()),
        )
        self.reservations[reservation.id] = reservation
        self._by_ticket[reservation.ticket] = reservation
        reservation.watcher = asyncio.create_task(self._watch(reservation))
        tunnel = self._ensure_tunnel()
        log.info("worker for %s on port %d (%d threads)", host_id[:9], worker.port, threads)
        return control.Reserved(request.request_id, reservation.id, reservation.ticket, tunnel.port)

    async def _start_worker(self, host_id: str, threads: int) -> rpc_worker.Worker:
        # One weight cache per host: the cache's hash is not cryptographic, so hosts do not share one.
        cache = paths.cache_dir() / "rpc" / host_id.replace("-", "")[:16]
        return await rpc_worker.start(threads, str(cache))

    async def _watch(self, reservation: Reservation) -> None:
        proc = reservation.worker.proc
        assert proc.stdout is not None
        # Keep reading: the RPC server writes a line per connection, and a full pipe would stall it.
        while line := await proc.stdout.readline():
            reservation.rpc_connections += line.count(b"Accepted client connection")
        code = await proc.wait()
        reservation.worker.close()
        if self.reservations.pop(reservation.id, None) is not None:
            self._by_ticket.pop(reservation.ticket, None)
            reason = f"the worker on {self.name} exited (status {code})"
            log.warning(reason)
            self._on_lost(reservation, reason)

    def _ensure_tunnel(self) -> TunnelServer:
        if self._tunnel is None:
            self._tunnel = TunnelServer(self._bind_host, self._tls_context, self.authorize)
        return self._tunnel

    def authorize(self, peer_der: bytes, ticket: bytes) -> Grant | None:
        """Called from tunnel threads: the reservation this host's ticket opens, if any."""
        reservation = self._by_ticket.get(ticket)
        if reservation is None or device_id(peer_der) != reservation.host_id:
            return None
        if not self._is_trusted(reservation.host_id):
            return None
        if self._forbidden_ops is None:
            from hearth.engine.rpc import forbidden_op_ids

            self._forbidden_ops = forbidden_op_ids()
        forbidden = self._forbidden_ops
        return Grant(
            reservation.worker.connect, lambda: RpcFilter(reservation.ledger, forbidden), reservation.lock
        )

    async def release(self, reservation_id: str, reason: str = "released") -> None:
        reservation = self.reservations.pop(reservation_id, None)
        if reservation is None:
            return
        self._by_ticket.pop(reservation.ticket, None)
        log.info("worker for %s stopped: %s", reservation.host_id[:9], reason)
        with contextlib.suppress(ProcessLookupError):
            reservation.worker.proc.kill()
        await reservation.worker.proc.wait()
        reservation.worker.close()
        if reservation.watcher is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await reservation.watcher

    async def release_host(self, host_id: str, reason: str) -> None:
        for r in [r for r in self.reservations.values() if r.host_id == host_id]:
            await self.release(r.id, reason)

    async def release_all(self, reason: str) -> list[Reservation]:
        gone = list(self.reservations.values())
        for r in gone:
            await self.release(r.id, reason)
        return gone

    def close(self) -> None:
        if self._tunnel is not None:
            self._tunnel.close()
