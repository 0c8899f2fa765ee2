"""The one narrow async facade the window talks to: the node, the engine, the store, the models.

Everything here is asyncio and knows nothing of Qt. Disk work (the conversation store, GGUF headers)
runs on a worker thread so that the event loop, which in the window is the Qt thread, never waits on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from hearth.core.errors import HearthError
from hearth.core.load_progress import device_progress
from hearth.core.plan import HOST, Plan, PlanError, even_plan
from hearth.core.planner import DeviceSpec, Prediction, auto_plan, predict, with_compute
from hearth.core.profile import ModelProfile, default_context
from hearth.engine import messages as m
from hearth.engine import mlx_runtime, rpc
from hearth.engine.client import EngineClient, EngineDied, EngineError
from hearth.engine.messages import Sampling
from hearth.mesh.discovery import Neighbour
from hearth.mesh.pairing_client import PairingAttempt
from hearth.mesh.pairing_endpoint import CodeShown
from hearth.mesh.pool import PoolSession, open_pool
from hearth.mesh.trust import TrustedDevice
from hearth.models import resolve
from hearth.models.catalog import CatalogModel, load_catalog
from hearth.models.hub import Hub, HubRepo, RemoteModel
from hearth.models.library import ModelLibrary, profile_of
from hearth.models.remote_profile import remote_profile
from hearth.service.chat import ChatSession
from hearth.service.device_view import DeviceView
from hearth.service.downloads import DownloadJob, Downloads, State
from hearth.service.events import Event
from hearth.service.fit import Fit, fit
from hearth.service.memory_check import MemoryCheck
from hearth.service.node import Node, NodeOptions
from hearth.service.planning import (
    PlanChoice,
    PlanningDevice,
    caps,
    choose_sized,
    keyed_specs,
    named_specs,
    planning_devices,
    size,
)
from hearth.service.status import ApiStatus, DonationStatus, NodeStatus, WorkerStatus
from hearth.service.turns import Turns, Who
from hearth.store import api_key, paths
from hearth.store.conversations import ConversationStore
from hearth.store.settings import (
    ApiSettings,
    Donation,
    Pooling,
    load_api,
    load_pooling,
    update_api,
    update_pooling,
)

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class LoadedModel:
    profile: ModelProfile
    plan: Plan
    n_ctx: int
    devices: list[str]  # names of the devices serving it, this one first
    pooled: bool
    loaded: m.Loaded | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # What it holds on each device (by plan key) that the devices' free memory no longer counts.
    held: dict[str, int] = field(default_factory=dict)
    tokens_per_s: float = 0.0  # as predicted when it was loaded


@dataclass
class LostDevices:
    """A pooled model that stopped because devices of its plan left: what to plan again, without whom."""

    profile: ModelProfile
    n_ctx: int
    device_ids: list[str]
    names: list[str]
    reasons: list[str]
    replan_failed: str = ""  # why planning again on its own did not work, when it was tried


class ServiceError(HearthError):
    """A request the service cannot carry out; the message says why, for the user."""


class Services:
    """The application: what the window, the local API (and so the CLI) and the HTTP API call."""

    def __init__(
        self,
        options: NodeOptions,
        engine: EngineClient | None = None,
        show_code: Callable[[CodeShown], None] | None = None,
    ) -> None:
        self.node = Node(options, show_code=show_code or self._code_shown)
        self.engine = engine or EngineClient()
        self.memory_check = MemoryCheck()
        self.library = ModelLibrary()
        self.disk = ThreadPoolExecutor(1, thread_name_prefix="hearth-disk")
        self.store: ConversationStore | None = None
        self.pool: PoolSession | None = None
        # Pools reserved for engines that run elsewhere on this machine (``hearth chat --pool``).
        self.reserved: list[PoolSession] = []
        self.model: LoadedModel | None = None
        self.lost: LostDevices | None = None
        self._pool_failing: asyncio.Task[None] | None = None
        self.listeners: list[Callable[[Event], None]] = []
        self.node.listeners.append(self._watch_pool)
        self.node.listeners.append(self._notify)
        self.turns = Turns(on_change=lambda: self._notify(Event.TURNS))
        self.api_settings: ApiSettings = load_api()
        self.api_status = ApiStatus()
        self.downloads = Downloads(paths.models_dir, self.hub, self._download_changed)
        self._catalog: list[CatalogModel] | None = None

    async def start(self) -> None:
        self.store = await self.on_disk(ConversationStore, paths.conversations_db())
        await self.node.start()

    async def stop(self) -> None:
        await self.downloads.close()
        with contextlib.suppress(Exception):
            await self.engine.close()
        await self.memory_check.close()
        await self._close_pool()
        await self.node.stop()
        if self.store is not None:
            await self.on_disk(self.store.close)
        self.disk.shutdown(wait=True)

    async def on_disk(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn`` on the disk thread (in order with every other disk call)."""
        return await asyncio.get_running_loop().run_in_executor(self.disk, fn, *args)

    def _notify(self, what: Event) -> None:
        for listener in list(self.listeners):
            try:
                listener(what)
            except Exception:  # a broken view must not take the node down with it
                log.exception("listener failed on %s", what)

    def _code_shown(self, shown: CodeShown) -> None:
        log.info("%s", shown.describe())

    # --- devices and pairing ---

    def devices(self) -> list[DeviceView]:
        return self.node.devices()

    def pending_codes(self) -> list[CodeShown]:
        return list(self.node.pending_codes)

    async def pair(self, target: str) -> PairingAttempt:
        return await self.node.request_pairing(target)

    async def finish_pairing(self, attempt: PairingAttempt, code: str) -> TrustedDevice:
        await attempt.finish(code)
        return self.node.accept_attempt(attempt)

    async def add_address(self, address: str) -> Neighbour:
        """Add a device by ``host:port``; it stays listed and is checked again every few seconds."""
        return await self.node.add_address(address)

    def forget(self, target: str) -> TrustedDevice:
        """Stop trusting a device (named by name or ID prefix) at once."""
        device = self.node.forget(target)
        if device is None:
            raise ServiceError(f"no paired device called '{target}'")
        return device

    def status(self) -> NodeStatus:
        node, ident = self.node, self.node.identity
        workers = [
            WorkerStatus(r.host_id, r.threads, r.rpc_connections, r.worker.port, r.worker.exposed)
            for r in node.workers.reservations.values()
        ]
        return NodeStatus(
            ident.device_id,
            ident.short_id,
            ident.name,
            node.port,
            ident.key_warning,
            node.donation.enabled,
            node.donated_bytes,
            node.workers.tunnel_port,
            rpc.rdma_compiled(),
            workers,
            node.workers_exposed,
        )

    # --- donation ---

    @property
    def donation(self) -> Donation:
        return self.node.donation

    async def donate(
        self, enabled: bool, max_memory: int | None = None, threads: int | None = None
    ) -> DonationStatus:
        """Switch donation on or off; limits left as None keep their stored value."""
        changes: dict[str, Any] = {"enabled": enabled}
        if max_memory is not None:
            changes["max_memory"] = max_memory
        if threads is not None:
            changes["threads"] = threads
        donation = await self.node.set_donation(**changes)
        return DonationStatus(donation.enabled, self.node.donated_bytes)

    @property
    def workers_exposed(self) -> str | None:
        """While this device donates: why the workers it runs for paired hosts can be reached by other
        local accounts (no network namespace for them here); None when they are isolated or before
        that is known. ``Event.DONATION`` says when it changes."""
        return self.node.workers_exposed

    def donation_state(self) -> str:
        """'idle', 'donating' (available to paired hosts) or 'busy' (a host is using a worker here)."""
        if not self.node.donation.enabled:
            return "idle"
        return "busy" if self.node.workers.reservations else "donating"

    # --- planning and loading ---

    def planning_devices(self) -> list[PlanningDevice]:
        """The devices a plan may use now. While a pooled model is lost, the devices that left are
        not offered again until the user loads something."""
        held = self.model.held if self.model else None
        without = self.lost.device_ids if self.lost else ()
        return planning_devices(self.node.devices(), held, without)

    def predict(self, profile: ModelProfile, plan: Plan, n_ctx: int) -> Prediction:
        host, remotes = keyed_specs(self.planning_devices())
        return predict(profile, host, remotes, plan, n_ctx)

    def auto_plan(self, profile: ModelProfile, n_ctx: int) -> Prediction:
        host, remotes = keyed_specs(self.planning_devices())
        return auto_plan(profile, host, remotes, n_ctx)

    async def choose(
        self, model: str, n_ctx: int | None = None, plan_text: str | None = None, pooled: bool = True
    ) -> PlanChoice:
        """The plan named, checked, or the planner's best over the devices as this node sees them now:
        what `hearth plan` prints and what a pool without a named plan loads. Devices are named as
        plans name them (by name where unique), and this device's own name or ID works too. Not
        ``pooled``: every layer on this device."""
        profile = await self.on_disk(profile_of, model)
        n_ctx = n_ctx or default_context(profile)
        if not pooled:
            plan_text = str(even_plan(profile.block_count, [HOST]))
        host, remotes = named_specs(self.planning_devices())
        sized = await choose_sized(
            profile, host, remotes, n_ctx, self.memory_check, plan_text, self.node.is_me
        )
        return PlanChoice(profile, n_ctx, sized, host, remotes)

    async def sized(
        self,
        profile: ModelProfile,
        prediction: Prediction,
        n_ctx: int,
        host: DeviceSpec | None = None,
        remotes: list[DeviceSpec] | None = None,
    ) -> Prediction:
        """``prediction`` with each device's compute buffer as llama.cpp's dry run sizes it, and what
        would overflow then; as it was when llama.cpp cannot say. ``host`` and ``remotes``: the devices
        it was made over (by default the planning devices, by key)."""
        if host is None or remotes is None:
            host, remotes = keyed_specs(self.planning_devices())
        return await size(self.memory_check, profile, prediction, n_ctx, caps(host, remotes))

    def sized_at_hand(self, profile: ModelProfile, prediction: Prediction, n_ctx: int) -> Prediction:
        """``prediction`` sized as llama.cpp already sized its plan, without waiting; as it is when
        llama.cpp has not been asked yet (``sized``)."""
        figures = self.memory_check.known(profile, prediction.plan, n_ctx)
        if figures is None:
            return prediction
        return with_compute(prediction, figures, caps(*keyed_specs(self.planning_devices())))

    async def settle(self, timeout: float) -> None:
        """Give paired devices in sight up to ``timeout`` seconds to connect and report their memory
        (a node that has just started knows nothing of them yet)."""

        def settled() -> bool:
            rows = [d for d in self.devices() if d.paired and not d.this_device and d.online]
            return all(d.connected and d.memory_free is not None for d in rows)

        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                # Discovery needs a moment even to show a device as online.
                await asyncio.sleep(min(1.0, timeout))
                while not settled():
                    await asyncio.sleep(0.2)

    def served_name(self) -> str:
        """The loaded model as other apps name it: its file name without ``.gguf``."""
        return Path(self.model.profile.path).stem if self.model else ""

    async def reserve(self, choice: PlanChoice, cache_type: str = "f16") -> PoolSession:
        """Reserve the plan's remote devices for an engine that runs elsewhere on this machine
        (``hearth chat --pool``); the caller releases them with ``release``."""
        pool = await open_pool(self.node, choice.profile, choice.prediction.plan, choice.n_ctx, cache_type)
        self.reserved.append(pool)
        return pool

    async def release(self, pool: PoolSession) -> None:
        self.reserved = [p for p in self.reserved if p is not pool]
        await pool.close(self.node)

    def failures(self, pool: PoolSession | None = None) -> list[str]:
        """What went wrong with each device of a pool (by default the loaded model's), named for people."""
        pool = pool or self.pool
        return pool.failures(self.node) if pool is not None else []

    async def load(
        self,
        profile: ModelProfile,
        plan: Plan,
        n_ctx: int,
        on_progress: Callable[[dict[str, float]], None] | None = None,
        threads: int | None = None,
    ) -> LoadedModel:
        """Reserve the plan's devices, then load; progress per plan device (``host`` for this one).
        ``threads`` None: as many as llama.cpp itself would use."""
        devices = self.planning_devices()
        expected = await self._expectation(profile, plan, n_ctx)
        await self.unload()
        names = {d.key: d.name for d in devices}
        if plan.remote:
            self.pool = await open_pool(self.node, profile, plan, n_ctx)
        n_gpu_layers, split = plan.llama_params()
        request = m.LoadModel(
            profile.path,
            n_ctx=n_ctx,
            n_threads=threads,
            n_gpu_layers=n_gpu_layers,
            tensor_split=split,
            rpc_servers=self.pool.endpoints if self.pool else [],
            backend="mlx" if profile.format == "mlx" else "llama",
        )

        def progress(fraction: float) -> None:
            if on_progress is not None:
                on_progress(device_progress(profile, plan, fraction))

        try:
            loaded = await self.engine.load(request, progress)
        except BaseException as exc:
            if isinstance(exc, asyncio.CancelledError):
                # The user cancelled: a fresh engine process is certain to hold nothing half-loaded.
                await self.engine.kill()
            await self._close_pool()
            raise
        serving = [names.get(HOST, "this device")] + [names.get(a.device, a.device) for a in plan.remote]
        held, tokens_per_s = expected
        self.model = LoadedModel(
            profile, plan, n_ctx, serving, bool(plan.remote), loaded, held=held, tokens_per_s=tokens_per_s
        )
        self.lost = None
        self._notify(Event.MODEL)
        return self.model

    async def _expectation(
        self, profile: ModelProfile, plan: Plan, n_ctx: int
    ) -> tuple[dict[str, int], float]:
        """What a load will hold on each device, and its predicted speed. llama.cpp maps this device's
        weights from the file (pages the system counts as free), so only its KV cache and compute
        buffers count, and the copies its CPU repacks; a remote device copies its weights into
        memory, and so does MLX."""
        try:
            prediction = await self.sized(profile, self.predict(profile, plan, n_ctx), n_ctx)
        except PlanError:
            return {}, 0.0
        mapped = profile.format == "gguf"
        held = {
            p.device: (
                p.memory.kv + p.memory.compute + p.memory.repacked
                if p.device == HOST and mapped
                else p.memory.total
            )
            for p in prediction.placements
        }
        return held, prediction.tokens_per_s

    # --- devices of the loaded plan that leave ---

    def _watch_pool(self, what: Event) -> None:
        if what == Event.DEVICES:
            # An engine of `hearth chat` is not this service's to stop: ending its connections to a
            # device that left makes its llama.cpp fail now rather than wait on that device. The
            # window's engine is stopped below, and its relays are not left waiting either.
            for pool in [*self.reserved, *([self.pool] if self.pool else [])]:
                for member in pool.cut_unreachable(self.node):
                    log.warning("cut the tunnel to %s: its control channel is down", member.name)
        if what not in (Event.DEVICES, Event.POOL) or self.pool is None or self.model is None:
            return
        if self._pool_failing is None and self.pool.failed(self.node):
            self._pool_failing = asyncio.ensure_future(self._pool_failed())

    async def _pool_failed(self) -> None:
        try:
            model, pool = self.model, self.pool
            if model is None or pool is None:
                return
            failed = pool.failed(self.node)
            self.lost = LostDevices(
                model.profile,
                model.n_ctx,
                [member.device_id for member, _ in failed],
                [member.name for member, _ in failed],
                [reason for _, reason in failed],
            )
            log.warning("the pooled model stopped: %s", "; ".join(self.lost.reasons))
            # llama.cpp cannot go on without a device of its graph: the engine and the pool go.
            await self.unload()
        finally:
            self._pool_failing = None
        if self.pooling.replan_automatically:
            try:
                await self.replan()
            except Exception as exc:
                if self.lost is not None:
                    self.lost.replan_failed = self.explain(exc)
                self._notify(Event.MODEL)

    @property
    def pooling(self) -> Pooling:
        return load_pooling()

    def set_pooling(self, **changes: Any) -> Pooling:
        return update_pooling(**changes)

    def replan_proposal(self) -> Prediction:
        """The best plan for the lost model over the devices that are left."""
        if self.lost is None:
            raise ServiceError("No model stopped for want of a device.")
        return self.auto_plan(self.lost.profile, self.lost.n_ctx)

    async def replan(self) -> LoadedModel:
        """Load the lost model again on the best plan over the devices that are left."""
        lost = self.lost
        proposal = self.replan_proposal()
        assert lost is not None
        return await self.load(lost.profile, proposal.plan, lost.n_ctx)

    def better_plan(self, gain: float = 1.15) -> Prediction | None:
        """A plan for the loaded model that devices now in sight would make at least ``gain`` times
        faster than the loaded one was predicted to be, using a device it does not use; else None."""
        model = self.model
        if model is None or not model.tokens_per_s:
            return None
        try:
            best = self.auto_plan(model.profile, model.n_ctx)
        except PlanError:
            return None
        used = {a.device for a in model.plan.remote}
        new = {a.device for a in best.plan.remote} - used
        return best if new and best.tokens_per_s >= model.tokens_per_s * gain else None

    async def unload(self) -> None:
        if self.model is not None and self.model.pooled:
            await self.engine.kill()  # see EngineClient: a pooled model is not unloaded, its process goes
        elif self.engine.running:
            with contextlib.suppress(EngineError):
                await self.engine.unload()
        await self._close_pool()
        if self.model is not None:
            self.model = None
            self._notify(Event.MODEL)

    async def _close_pool(self) -> None:
        if self.pool is not None:
            with contextlib.suppress(Exception):
                await self.pool.close(self.node)
            self.pool = None

    def explain(self, exc: BaseException) -> str:
        """What went wrong, naming the device when a pooled answer or load failed because of one."""
        if isinstance(exc, EngineDied):
            failed = self.failures() or (self.lost.reasons if self.lost else [])
            if failed:
                return "; ".join(failed)
        return str(exc) or type(exc).__name__

    # --- getting models ---

    def hub(self) -> Hub:
        """The hub as configured now (``HF_ENDPOINT``, ``HF_TOKEN``)."""
        return Hub()

    def catalog(self) -> list[CatalogModel]:
        """The catalog's models for this device: MLX builds only where MLX runs (Apple Silicon, or
        Linux with mlx[cpu])."""
        if self._catalog is None:
            mlx = mlx_runtime.available()
            self._catalog = [m for m in load_catalog() if m.format != "mlx" or mlx]
        return self._catalog

    async def search_hub(self, text: str, limit: int = 20) -> list[HubRepo]:
        return await asyncio.to_thread(self.hub().search, text, limit)

    async def hub_models(self, repo: str) -> list[RemoteModel]:
        """The GGUF models of a hub repository."""
        return await asyncio.to_thread(self.hub().models, repo)

    async def catalog_model(self, entry: CatalogModel, quant: str = "") -> RemoteModel:
        return await asyncio.to_thread(resolve.from_catalog, self.hub(), entry, quant)

    async def remote_profile(self, model: RemoteModel) -> ModelProfile:
        """A hub model's profile from its header (a few Range requests, remembered)."""
        return await remote_profile(self.hub(), model, paths.cache_dir() / "hub-headers")

    def fit(self, profile: ModelProfile, n_ctx: int | None = None) -> Fit:
        """Whether ``profile`` fits this device, the paired devices together, or neither, as the
        planner would place it over the devices as this node sees them now."""
        host, remotes = named_specs(self.planning_devices())
        return fit(profile, host, remotes, n_ctx)

    def download(self, model: RemoteModel) -> DownloadJob:
        """Start or resume downloading ``model`` into the models folder."""
        return self.downloads.start(model)

    async def pause_download(self, key: str) -> None:
        await self.downloads.pause(key)

    def resume_download(self, key: str) -> DownloadJob:
        return self.downloads.resume(key)

    async def cancel_download(self, key: str) -> None:
        await self.downloads.cancel(key)

    def _download_changed(self, job: DownloadJob) -> None:
        self._notify(Event.DOWNLOADS)
        if job.state is State.DONE:
            self._notify(Event.LIBRARY)

    async def delete_model(self, path: str) -> list[str]:
        """Delete a downloaded model (every part), or forget an imported one."""
        if self.model is not None and self.model.profile.path == path:
            raise ServiceError("the model is loaded: unload it before deleting it")
        deleted = await self.on_disk(self.library.delete, path)
        self._notify(Event.LIBRARY)
        return deleted

    # --- the HTTP API for other apps ---

    def set_api_settings(self, **changes: Any) -> ApiSettings:
        """Change how other apps reach this device's model; the API restarts to match."""
        self.api_settings = update_api(**changes)
        self._notify(Event.API)
        return self.api_settings

    async def api_key(self) -> str:
        return await self.on_disk(api_key.load_or_create)

    async def regenerate_api_key(self) -> str:
        key = await self.on_disk(api_key.regenerate)
        self._notify(Event.API)
        return key

    def report_api(self, status: ApiStatus) -> None:
        """Called by the HTTP API when it starts, stops or cannot listen."""
        self.api_status = status
        self._notify(Event.API)

    # --- answering ---

    async def generate(
        self, request: m.Generate, on_token: Callable[[m.Token], None], who: Who = Who.API
    ) -> m.Done:
        """Run one request on the loaded model once it is this request's turn (first come, first
        served; ``LineFull`` when too many wait). Cancelling the caller stops the answer at once."""
        async with self.turns.turn(who):
            return await self.engine.generate(request, on_token)

    async def stop_answer(self, who: Who, task: asyncio.Task[Any]) -> None:
        """Stop ``who``'s answer: an answer under way ends as "stopped" with what was said; one still
        waiting for its turn is withdrawn."""
        if self.turns.serving is who:
            await self.engine.cancel()
        else:
            task.cancel()

    # --- chat ---

    def chat(
        self, system_prompt: str = "", sampling: Sampling | None = None, who: Who = Who.CHAT
    ) -> ChatSession:
        """A conversation with the loaded model. Other apps' conversations are kept in the history
        only when the user asked for that."""
        model = self.model.profile.path if self.model else ""
        keep = who is Who.CHAT or self.api_settings.keep_history
        return ChatSession(
            functools.partial(self.generate, who=who),
            model,
            store=self.store if keep else None,
            system_prompt=system_prompt,
            sampling=sampling,
            executor=self.disk,
        )
