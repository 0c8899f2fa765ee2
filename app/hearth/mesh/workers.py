"""The donating side: workers started for paired hosts, within what the user donated.

A worker that dies is reported by its watcher. One that stops answering without dying (stopped,
deadlocked) would leave its host's llama.cpp waiting forever, so a guard samples the worker's
process while the host waits on it (``core.stall`` decides) and, once it is wedged, reports it, cuts
its tunnel connections and kills it: the host then sees what it sees when a worker dies.

A paired host is trusted with what it computes, not with this device, so what it can take is
bounded: one reservation in flight per host and ``MAX_RESERVATIONS`` in all, each within the
donation, all of them drawing on one ledger per device the workers serve (together they never
allocate more than the donation: the RAM cap on the CPU, the VRAM cap on each GPU);
``MAX_TUNNEL_CONNECTIONS`` connections per reservation; and the weights the worker caches on disk for
the host held to a quota, oldest files first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import ssl
import stat
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import psutil

from hearth.core import control, stall
from hearth.core.control import ComputeDevice
from hearth.core.device_id import device_id
from hearth.core.rpc_filter import Ledger, RpcFilter
from hearth.core.units import GIB, MIB
from hearth.engine import rpc_worker
from hearth.mesh.telemetry import compute_device
from hearth.mesh.tunnel import Grant, Links, TunnelServer
from hearth.store import paths
from hearth.store.settings import Donation

log = logging.getLogger(__name__)
# How often a guard looks at its worker while the host waits on it; a glance at /proc when it does.
GUARD_PERIOD_S = 0.5
# How long the report of a wedged worker may hold back cutting its connections.
REPORT_WAIT_S = 1.0
# Reservations on this device at once (each a worker process), whatever the number of hosts.
MAX_RESERVATIONS = 8
# Tunnel connections one reservation may have open at once; llama.cpp keeps one per worker and
# process (an engine, and now and then a second while one replaces the other).
MAX_TUNNEL_CONNECTIONS = 8
# Each host's weight cache on this device's disk is held to the donated memory (a host cannot load
# more here at once, so the model it pools now always fits), and to at least this.
CACHE_QUOTA_MIN = 1 * GIB
# How often the cache is measured besides each time the worker says it saved a file.
CACHE_CHECK_S = 10.0
# What the worker's RPC server logs once it has written a tensor to the cache.
_SAVED = b"saved to '"


def trim_cache(folder: Path, quota: int) -> int:
    """Remove the files beneath ``folder``, in its subfolders too, least recently used first (the
    later of their modification and access) until the rest fit in ``quota`` bytes; what was
    removed, in bytes. The files written or read since a reservation began are the newest, so they
    go only once every older one has gone, and only when they alone are over the quota. Subfolders
    left empty by this go too, and so does anything that is neither a file nor a folder (ggml's
    cache holds only files).

    The worker writes this folder and is not trusted, and the node that trims it is not confined:
    every folder is opened relative to its parent's descriptor and never through a link, and every
    name is removed relative to the folder it was found in, so swapping a folder for a link to
    somewhere else while the trim runs leads nowhere (``os.fwalk`` without following links)."""
    if not folder.is_dir() or folder.is_symlink():
        return 0
    files: list[tuple[float, int, tuple[str, ...], str]] = []
    for at, _, names, where in _walk(folder, topdown=True):
        for name in names:
            with contextlib.suppress(FileNotFoundError):
                info = at.stat(name)
                if stat.S_ISREG(info.st_mode):
                    files.append((max(info.st_mtime, info.st_atime), info.st_size, where, name))
    total = sum(size for _, size, _, _ in files)
    doomed: set[tuple[tuple[str, ...], str]] = set()
    removed = 0
    for _, size, where, name in sorted(files):
        if total <= quota:
            break
        doomed.add((where, name))
        total -= size
        removed += size
    # Bottom up: a folder's files go before the folder is tried, and subfolders before their parent.
    for at, dirs, names, where in _walk(folder, topdown=False):
        for name in names:
            with contextlib.suppress(FileNotFoundError):
                if (where, name) in doomed or not stat.S_ISREG(at.stat(name).st_mode):
                    at.unlink(name)
        for name in dirs:  # links to folders are listed here too, and never descended
            with contextlib.suppress(FileNotFoundError):
                if not stat.S_ISDIR(at.stat(name).st_mode):
                    at.unlink(name)
                    continue
            if doomed:
                with contextlib.suppress(OSError):  # not empty: it keeps files that fit
                    at.rmdir(name)
    return removed


@dataclass(frozen=True)
class _Folder:
    """A folder met in a walk, reached by its open descriptor where the system has them."""

    path: str
    fd: int | None

    def stat(self, name: str) -> os.stat_result:
        if self.fd is None:
            return os.stat(os.path.join(self.path, name), follow_symlinks=False)
        return os.stat(name, dir_fd=self.fd, follow_symlinks=False)

    def unlink(self, name: str) -> None:
        if self.fd is None:
            os.unlink(os.path.join(self.path, name))
        else:
            os.unlink(name, dir_fd=self.fd)

    def rmdir(self, name: str) -> None:
        if self.fd is None:
            os.rmdir(os.path.join(self.path, name))
        else:
            os.rmdir(name, dir_fd=self.fd)


def _walk(folder: Path, topdown: bool) -> Iterator[tuple[_Folder, list[str], list[str], tuple[str, ...]]]:
    """The folders below ``folder`` and itself, links never followed, each with its path below
    ``folder`` as a tuple of names. ``os.fwalk`` where there is one (not on Windows, where workers
    are not confined either and a plain walk is what there is)."""
    base = len(folder.parts)
    if hasattr(os, "fwalk"):
        for top, dirs, names, fd in os.fwalk(folder, topdown=topdown, follow_symlinks=False):
            yield _Folder(top, fd), dirs, names, Path(top).parts[base:]
    else:
        for top, dirs, names in os.walk(folder, topdown=topdown, followlinks=False):
            yield _Folder(top, None), dirs, names, Path(top).parts[base:]


@cache
def _workers_compute_on_gpu() -> bool:
    """Whether this machine's workers compute on a GPU (``rpc.served_devices``: its GPUs, then its CPU)."""
    return any(d.accelerator for d in _served_devices())


@cache
def _served_devices() -> tuple[ComputeDevice, ...]:
    """Each device a worker here serves, in its server's order; the CPU alone without a usable
    llama.cpp (no worker would start then anyway)."""
    try:
        from hearth.engine import rpc

        return tuple(compute_device(d) for d in rpc.served_devices())
    except (OSError, AttributeError, RuntimeError):
        return (ComputeDevice("CPU", "CPU", "CPU", 0, 0),)


@dataclass
class Reservation:
    id: str
    host_id: str
    ticket: bytes
    memory: int
    threads: int
    worker: rpc_worker.Worker
    ledger: Ledger  # the CPU's (the RAM cap), shared with every reservation here; it locks itself
    # Every served device's, in the worker's device order (the CPU's last), shared likewise.
    ledgers: tuple[Ledger, ...] = ()
    gpu_memory: dict[int, int] = field(default_factory=dict)  # by GPU (not sharing the RAM): its claim
    links: Links = field(default_factory=Links)  # the host's connections to the worker, open now
    watcher: asyncio.Task[None] | None = None
    guard: asyncio.Task[None] | None = None
    rpc_connections: int = 0  # connections the RPC server accepted, as it reports them
    cache_dir: Path | None = None  # the host's weight cache
    cache_saved: asyncio.Event = field(default_factory=asyncio.Event)  # the worker wrote to it
    cache_keeper: asyncio.Task[None] | None = None


class Workers:
    def __init__(
        self,
        name: str,
        donation: Callable[[], Donation],
        total_memory: Callable[[], int],
        build_id: Callable[[], str],
        tls_context: Callable[[], ssl.SSLContext],
        is_trusted: Callable[[str], bool],
        on_lost: Callable[[Reservation, str], Awaitable[None]],
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
        # Hosts whose reservation is being made, with the memory it claims meanwhile.
        self._claims: dict[str, int] = {}
        self._gpu_claims: dict[str, dict[int, int]] = {}  # likewise, on each GPU of its own memory
        # One ledger per served device for every reservation here: together they never allocate more
        # than the donation. An integrated GPU's memory is the RAM: it draws on the CPU's.
        self._ledger = Ledger(0)
        self._gpu_ledgers: dict[int, Ledger] = {}
        self._tunnel: TunnelServer | None = None
        self._reports: set[asyncio.Task[None]] = set()
        self._closed = False

    @property
    def tunnel_port(self) -> int | None:
        return self._tunnel.port if self._tunnel else None

    def used_memory(self, except_host: str | None = None) -> int:
        """Memory the reservations here (and those being made) are given, but ``except_host``'s."""
        held = sum(r.memory for r in self.reservations.values() if r.host_id != except_host)
        return held + sum(m for host, m in self._claims.items() if host != except_host)

    def used_gpu_memory(self, index: int, except_host: str | None = None) -> int:
        """What the reservations here (and those being made) are given on GPU ``index``, but
        ``except_host``'s."""
        held = sum(r.gpu_memory.get(index, 0) for r in self.reservations.values() if r.host_id != except_host)
        return held + sum(c.get(index, 0) for host, c in self._gpu_claims.items() if host != except_host)

    def cache_quota(self) -> int:
        """What each host's weight cache may hold on this device's disk."""
        return max(CACHE_QUOTA_MIN, self._donation().effective_memory(self._total_memory()))

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
        if request.memory_bytes < 0:
            return refuse(
                f"{self.name} was asked for {request.memory_bytes} bytes; a reservation asks for 0 bytes "
                "or more (update Hearth on the host)"
            )
        # From here to the claim nothing awaits: a host that asks again before its answer, or hosts
        # asking at once, cannot each pass a check that the others' claims are not yet part of.
        if host_id in self._claims:
            return refuse(
                f"{self.name} is still answering this device's previous reservation; ask again once it has"
            )
        others = [r for r in self.reservations.values() if r.host_id != host_id]
        if len(others) + len(self._claims) >= MAX_RESERVATIONS:
            return refuse(
                f"{self.name} already runs {MAX_RESERVATIONS} workers for other devices; ask again once "
                "one of them is released"
            )
        gpus = [d for d in _served_devices() if d.accelerator]
        need = request.memory_bytes
        on_gpus: dict[int, int] = {}
        for index, size in request.accelerator_bytes.items():
            if not 0 <= index < len(gpus) or size < 0:
                return refuse(
                    f"{self.name} was asked for {size} bytes on its GPU number {index}; it lends "
                    f"{len(gpus)} GPUs (plan again with the devices as they are now)"
                )
            if gpus[index].shares_ram:
                need += size  # its memory is the RAM, held to the RAM's cap
                continue
            vram = donation.effective_vram(gpus[index].memory_total)
            free = vram - self.used_gpu_memory(index, except_host=host_id)
            if size > free:
                return refuse(
                    f"{self.name} lends {vram // MIB} MiB of its GPU number {index} "
                    f"({max(0, free) // MIB} MiB free of it); this plan needs {size // MIB} MiB there"
                )
            on_gpus[index] = size
        cap = donation.effective_memory(self._total_memory())
        left = cap - self.used_memory(except_host=host_id)
        if need > left:
            return refuse(
                f"{self.name} donates {cap // MIB} MiB ({max(0, left) // MIB} MiB free of it); "
                f"this plan needs {need // MIB} MiB there"
            )
        threads = max(1, min(request.threads or donation.effective_threads(), donation.effective_threads()))
        self._claims[host_id] = need
        self._gpu_claims[host_id] = on_gpus
        try:
            # A host holds one reservation per device; a new one replaces its old one.
            for old in [r for r in self.reservations.values() if r.host_id == host_id]:
                await self.release(old.id, "replaced by a new reservation")
            folder = self._cache_folder(host_id)
            await self._trim_cache(folder)
            try:
                worker = await self._start_worker(host_id, threads)
            except (OSError, RuntimeError) as exc:
                return refuse(f"{self.name} could not start a worker: {exc}")
            if self._closed or not self._donation().enabled:
                # Donation was switched off (or the node is stopping) while the worker started.
                with contextlib.suppress(ProcessLookupError):
                    worker.proc.kill()
                await worker.proc.wait()
                worker.close()
                return refuse(f"{self.name} stopped donating")
            self._ledger.set_cap(cap)
            ledgers = self._device_ledgers(donation)
            reservation = Reservation(
                id=secrets.token_hex(8),
                host_id=host_id,
                ticket=secrets.token_bytes(32),
                memory=need,
                gpu_memory=on_gpus,
                threads=threads,
                worker=worker,
                ledger=self._ledger,
                ledgers=ledgers,
                links=Links(MAX_TUNNEL_CONNECTIONS),
                cache_dir=folder,
            )
            self.reservations[reservation.id] = reservation
            self._by_ticket[reservation.ticket] = reservation
        finally:
            self._claims.pop(host_id, None)
            self._gpu_claims.pop(host_id, None)
        reservation.watcher = asyncio.create_task(self._watch(reservation))
        reservation.guard = asyncio.create_task(self._guard(reservation))
        reservation.cache_keeper = asyncio.create_task(self._keep_cache(reservation))
        tunnel = self._ensure_tunnel()
        log.info("worker for %s on port %d (%d threads)", host_id[:9], worker.port, threads)
        return control.Reserved(request.request_id, reservation.id, reservation.ticket, tunnel.port)

    def _device_ledgers(self, donation: Donation) -> tuple[Ledger, ...]:
        """The ledger of each device a worker serves, their caps set from ``donation``."""
        out = []
        for i, device in enumerate(_served_devices()):
            if not device.accelerator or device.shares_ram:
                out.append(self._ledger)  # its memory is the RAM
                continue
            ledger = self._gpu_ledgers.setdefault(i, Ledger(0))
            ledger.set_cap(donation.effective_vram(device.memory_total))
            out.append(ledger)
        return tuple(out)

    @staticmethod
    def _cache_folder(host_id: str) -> Path:
        # One weight cache per host: the cache's hash is not cryptographic, so hosts do not share one.
        return paths.cache_dir() / "rpc" / host_id.replace("-", "")[:16]

    async def _start_worker(self, host_id: str, threads: int) -> rpc_worker.Worker:
        return await rpc_worker.start(threads, str(self._cache_folder(host_id)))

    async def _trim_cache(self, folder: Path) -> None:
        try:
            removed = await asyncio.to_thread(trim_cache, folder, self.cache_quota())
        except OSError as exc:
            log.warning("cannot clean the weight cache %s: %s", folder, exc)
            return
        if removed:
            log.info("removed %d MiB of cached weights from %s (over its quota)", removed // MIB, folder)

    async def _keep_cache(self, reservation: Reservation) -> None:
        """Hold the host's cache to its quota while the reservation lasts: each time the worker says
        it saved a file there, and every ``CACHE_CHECK_S`` besides."""
        assert reservation.cache_dir is not None
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(CACHE_CHECK_S):
                    await reservation.cache_saved.wait()
            reservation.cache_saved.clear()
            await self._trim_cache(reservation.cache_dir)
            if reservation.id not in self.reservations:
                return  # once more after it ended (a worker that died, or was ended), then no more

    async def _watch(self, reservation: Reservation) -> None:
        proc = reservation.worker.proc
        assert proc.stdout is not None
        # Keep reading: the RPC server writes a line per connection, and a full pipe would stall it.
        while line := await proc.stdout.readline():
            reservation.rpc_connections += line.count(b"Accepted client connection")
            if _SAVED in line:
                reservation.cache_saved.set()
        code = await proc.wait()
        reservation.worker.close()
        if self.reservations.pop(reservation.id, None) is not None:
            self._by_ticket.pop(reservation.ticket, None)
            reason = f"the worker on {self.name} exited (status {code})"
            log.warning(reason)
            await self._on_lost(reservation, reason)

    async def _guard(self, reservation: Reservation) -> None:
        """Give up on the worker once it stops answering a host that waits on it; runs as long as the
        reservation does, and looks at the process only while the host waits."""
        try:
            proc = psutil.Process(reservation.worker.proc.pid)
        except psutil.Error:
            return  # already gone: the watcher reports it
        idle = stall.IDLE_FOR_GPU_S if _workers_compute_on_gpu() else stall.IDLE_FOR_CPU_S
        watch = stall.StallWatch(idle)
        while reservation.id in self.reservations:
            await asyncio.sleep(GUARD_PERIOD_S)
            links = reservation.links
            if not links.awaiting_server():
                watch.reset()
                continue
            try:
                with proc.oneshot():
                    times = proc.cpu_times()
                    sample = stall.Sample(
                        time.monotonic(),
                        proc.status(),
                        times.user + times.system,
                        links.received(),
                        # Runnable but starved of CPU on a loaded machine, or waiting for its disk.
                        reservation.worker.busy(),
                    )
            except psutil.NoSuchProcess:
                return  # it ended: the watcher reports it
            except psutil.Error as exc:
                log.debug("cannot look at the worker for %s: %s", reservation.host_id[:9], exc)
                continue
            why = watch.observe(sample)
            if why is not None:
                await self._stopped_answering(reservation, why)
                return

    async def _stopped_answering(self, reservation: Reservation, why: str) -> None:
        if self.reservations.pop(reservation.id, None) is None:
            return
        self._by_ticket.pop(reservation.ticket, None)
        reason = f"the worker on {self.name} stopped answering ({why})"
        log.warning("%s: ending it", reason)
        report = asyncio.ensure_future(self._on_lost(reservation, reason))
        self._reports.add(report)
        report.add_done_callback(self._reports.discard)
        # The host hears why before its engine sees the connection close, so that it names the cause;
        # a congested channel does not hold the cut back for long.
        await asyncio.wait({report}, timeout=REPORT_WAIT_S)
        reservation.links.cut()
        # SIGKILL ends even a stopped process; the watcher reaps it and closes what is left.
        with contextlib.suppress(ProcessLookupError):
            reservation.worker.proc.kill()

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
        from hearth.engine.rpc import graph_rules

        rules = graph_rules()
        return Grant(
            reservation.worker.connect,
            lambda: RpcFilter(reservation.ledgers or reservation.ledger, rules, threads=reservation.threads),
            # A lock of this connection's own (a grant is made per connection): it keeps the relay
            # and the guard asking whether the host waits off the filter at once, and one
            # connection's graph check or blocked send never holds up another's relay. The ledger
            # the filters share takes its own lock.
            threading.Lock(),
            reservation.links,
        )

    async def release(self, reservation_id: str, reason: str = "released") -> None:
        reservation = self.reservations.pop(reservation_id, None)
        if reservation is None:
            return
        self._by_ticket.pop(reservation.ticket, None)
        log.info("worker for %s stopped: %s", reservation.host_id[:9], reason)
        if reservation.guard is not None:
            reservation.guard.cancel()
        if reservation.cache_keeper is not None:
            reservation.cache_keeper.cancel()
        with contextlib.suppress(ProcessLookupError):
            reservation.worker.proc.kill()
        await reservation.worker.proc.wait()
        reservation.worker.close()
        if reservation.watcher is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await reservation.watcher
        if reservation.cache_dir is not None:
            await self._trim_cache(reservation.cache_dir)

    async def release_host(self, host_id: str, reason: str) -> None:
        for r in [r for r in self.reservations.values() if r.host_id == host_id]:
            await self.release(r.id, reason)

    async def release_all(self, reason: str) -> list[Reservation]:
        gone = list(self.reservations.values())
        for r in gone:
            await self.release(r.id, reason)
        return gone

    def close(self) -> None:
        self._closed = True
        if self._tunnel is not None:
            self._tunnel.close()
