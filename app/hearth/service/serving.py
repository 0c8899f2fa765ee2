"""Serving the model: load a plan, answer on it, notice devices that leave, plan again without them.

The state (``serving_state``) changes only here, and every change is announced as ``Event.MODEL``.
Answers are served as many at once as the loaded model decodes together, the rest in a line
(``Turns``); cancelling the caller of ``generate`` stops its answer at once, and no other.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import msgspec

from hearth.core.load_progress import device_progress
from hearth.core.plan import HOST, Plan, PlanError
from hearth.core.planner import Prediction
from hearth.core.profile import ModelProfile
from hearth.core.routing import Elsewhere
from hearth.engine import messages as m
from hearth.engine.client import EngineDied, EngineError
from hearth.service.drafting import Guessing
from hearth.service.errors import DeviceRefused, NotRouted, ServiceError
from hearth.service.events import Event
from hearth.service.plans import Plans
from hearth.service.pools import Pool, Pools
from hearth.service.serving_state import Idle, Loaded, Loading, Lost, ServingState
from hearth.service.turns import LineFull, Turns, Who

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Queue:
    serving: Who | None  # whose answer the model is giving now (the window's, when it is among them)
    waiting: int  # answers waiting for their turn
    answering: int = 0  # answers being given now
    at_once: int = 1  # how many answers the loaded model gives together
    chat_waiting: bool = False  # the window's own answer waits for a place
    # Counts over time rather than the line's shape: left out when two are compared.
    chat_turns: int = field(default=0, compare=False)  # places given to the window's chat so far
    last_ended: float = field(default=0.0, compare=False)  # when the latest answer ended (monotonic)


# How often an app's request waiting in the line here looks for a paired device with a place, and
# how many devices it may be sent to before it waits here for good.
ROUTE_CHECK_S = 0.25
MAX_ROUTES = 4
# How much faster a plan over devices now in sight must be before it is offered instead.
BETTER_GAIN = 1.15


class Engine(Protocol):
    """What serving needs of the engine process (``engine.client.EngineClient``)."""

    @property
    def running(self) -> bool: ...

    async def load(
        self, request: m.LoadModel, on_progress: Callable[[float], None] | None = None
    ) -> m.Loaded: ...

    async def generate(self, request: m.Generate, on_token: Callable[[m.Token], None]) -> m.Done: ...

    async def cancel(self, task: asyncio.Task[Any] | None = None) -> bool:
        """Stop the answer ``task`` awaits (None: every answer); False when there was none."""
        ...

    async def unload(self) -> None: ...

    async def kill(self) -> None: ...


class Guesser(Protocol):
    """How loads guess tokens ahead (``service.drafting.Drafting`` over the library)."""

    async def for_load(
        self, profile: ModelProfile, n_ctx: int, held_here: int, at_once: int = 1
    ) -> Guessing: ...

    def record(self, target: str, draft: str, done: m.Done) -> None: ...


class Router(Protocol):
    """Who may send an app's answer to another device that can start it sooner
    (``service.routing.Routing``)."""

    def place(self) -> Elsewhere | None:
        """The device to ask, or None to answer here."""
        ...

    def device(self, name: str) -> str | None:
        """The ID of the paired device ``name`` names (its name or ID); None: this device. Raises
        ``DeviceRefused`` when no connected paired device is called so."""
        ...

    async def ask(
        self,
        device_id: str,
        request: m.Generate,
        on_token: Callable[[m.Token], None],
        model: str = "",
        on_taken: Callable[[], bool] | None = None,
    ) -> m.Done:
        """``model``: the name an app asked for ("": the model loaded here). ``on_taken`` is asked
        when the device takes it: False stops it there. Raises ``NotRouted`` when the device did not
        take it (or ``on_taken`` declined)."""
        ...


class Serving:
    def __init__(
        self,
        engine: Engine,
        pools: Pools,
        plans: Plans,
        emit: Callable[[Event], None],
        guesser: Guesser | None = None,
    ) -> None:
        self._engine = engine
        self._guesser = guesser
        self._guessing = Guessing()
        self._pools = pools
        self._plans = plans
        self._emit = emit
        self._state: ServingState = Idle()
        self._pool: Pool | None = None
        self._pool_failing: asyncio.Task[None] | None = None
        self._turns = Turns(on_change=lambda: emit(Event.TURNS))
        self.router: Router | None = None

    @property
    def state(self) -> ServingState:
        return self._state

    def loaded(self) -> Loaded | None:
        """The model answering now, if one is."""
        return self._state if isinstance(self._state, Loaded) else None

    def served_name(self) -> str:
        """The loaded model as other apps name it; "" when none is."""
        model = self.loaded()
        return model.served_name if model else ""

    def queue(self) -> Queue:
        """Whom the model is answering now, how many answers it gives, and how many wait for it."""
        turns = self._turns
        return Queue(
            turns.serving,
            turns.waiting,
            turns.answering,
            self._at_once(),
            turns.chat_waiting,
            turns.chat_turns,
            turns.last_ended,
        )

    def _become(self, state: ServingState) -> None:
        self._state = state
        self._emit(Event.MODEL)

    # --- loading ---

    async def load(
        self,
        profile: ModelProfile,
        plan: Plan,
        n_ctx: int,
        on_progress: Callable[[dict[str, float]], None] | None = None,
        threads: int | None = None,
        only_if_idle: bool = False,
    ) -> Loaded:
        """Reserve the plan's devices, then load; progress per plan device (``host`` for this one).
        ``threads`` None: as many as llama.cpp itself would use. ``only_if_idle``: refused
        (``ServiceError``) when a model is loaded or loading by the time it would begin."""
        devices = self._plans.devices()
        held, tokens_per_s, at_once = await self._expectation(profile, plan, n_ctx)
        before = self._state
        if only_if_idle and not isinstance(before, Idle):
            raise ServiceError("another model was loaded here meanwhile")
        await self._stop_engine()
        if only_if_idle and not isinstance(self._state, Idle):
            raise ServiceError("another model was loaded here meanwhile")
        after = before if isinstance(before, Lost) else before.after if isinstance(before, Loading) else None
        self._become(Loading(profile, plan, n_ctx, after))
        names = {d.key: d.name for d in devices}

        def progress(fraction: float) -> None:
            if on_progress is not None:
                on_progress(device_progress(profile, plan, fraction))

        try:
            if plan.remote:
                self._pool = await self._pools.open(profile, plan, n_ctx)
            endpoints = self._pool.endpoints if self._pool else []
            request = m.LoadModel.for_plan(
                profile, plan, n_ctx, rpc_servers=endpoints, threads=threads, parallel=at_once
            )
            log.info("loading %s as %s, %d answers at once, holding %s", profile.path, plan, at_once, held)
            loaded = await self._load_guessing(profile, request, held.get(HOST, 0), progress)
            held[HOST] = held.get(HOST, 0) + self._guessing.draft_bytes
        except BaseException as exc:
            if isinstance(exc, asyncio.CancelledError):
                # The user cancelled: a fresh engine process is certain to hold nothing half-loaded.
                await self._engine.kill()
            await self._close_pool()
            self._become(after or Idle())
            raise
        serving = (names.get(HOST, "this device"), *(names.get(d, d) for d in plan.remote_devices))
        model = Loaded(profile, plan, n_ctx, serving, loaded, held, tokens_per_s)
        self._become(model)
        return model

    async def _load_guessing(
        self, profile: ModelProfile, request: m.LoadModel, held_here: int, progress: Callable[[float], None]
    ) -> m.Loaded:
        """Load ``request`` with the guessing chosen for it; a draft model that the engine cannot use
        (its vocabulary differs after all, it does not load) gives way to guesses from the answer's
        own text, which the engine reports."""
        guessing = Guessing()
        if self._guesser is not None:
            guessing = await self._guesser.for_load(profile, request.n_ctx, held_here, request.parallel)
        draft = guessing.draft.path if guessing.draft is not None else ""
        loaded = await self._engine.load(
            msgspec.structs.replace(request, draft=draft, lookup=guessing.lookup), progress
        )
        if draft and loaded.speculation != "draft":
            guessing = Guessing(lookup=True)
        self._guessing = guessing
        return loaded

    @property
    def guessing(self) -> Guessing:
        """How the loaded model's answers guess tokens ahead."""
        return self._guessing

    async def load_between_answers(
        self, profile: ModelProfile, plan: Plan, n_ctx: int, only_if_idle: bool = False
    ) -> Loaded:
        """``load``, once the answers under way have ended; answers asked for meanwhile wait for the
        model that comes."""
        async with self._turns.alone():
            return await self.load(profile, plan, n_ctx, only_if_idle=only_if_idle)

    async def _expectation(
        self, profile: ModelProfile, plan: Plan, n_ctx: int
    ) -> tuple[dict[str, int], float, int]:
        """What a load will hold on each device, its predicted speed, and how many answers it gives
        at once (the user's choice, or as many as memory allows beside the weights: the planner counts
        each one's KV cache). llama.cpp maps this device's weights from the file (pages the system
        counts as free), so only its KV cache and compute buffers count, and the copies its CPU
        repacks; a remote device copies its weights into memory, and so does MLX."""
        try:
            prediction = await self._plans.sized(profile, self._plans.predict(profile, plan, n_ctx), n_ctx)
        except PlanError:
            return {}, 0.0, max(1, self._plans.at_once) if profile.format.can_pool else 1
        mapped = profile.format.mapped
        held: dict[str, int] = {
            p.device: (
                p.memory.kv + p.memory.compute + p.memory.repacked
                if p.device == HOST and mapped
                else p.memory.total
            )
            for p in prediction.placements
        }
        return held, prediction.tokens_per_s, prediction.at_once

    async def unload(self) -> None:
        """Unload the model; a lost model stays lost (its devices stay left out until a load)."""
        await self._stop_engine()
        if isinstance(self._state, Loaded | Loading):
            self._become(Idle())

    async def _stop_engine(self) -> None:
        if isinstance(self._state, Loaded) and self._state.pooled:
            await self._engine.kill()  # see EngineClient: a pooled model is not unloaded, its process goes
        elif self._engine.running:
            with contextlib.suppress(EngineError):
                await self._engine.unload()
        await self._close_pool()

    async def _close_pool(self) -> None:
        if self._pool is not None:
            with contextlib.suppress(Exception):
                await self._pool.close()
            self._pool = None

    async def close(self) -> None:
        await self._close_pool()

    def _failures(self) -> list[str]:
        """What went wrong with each device of the loaded model's pool, named for people."""
        return [loss.reason for loss in self._pool.losses()] if self._pool is not None else []

    # --- devices of the loaded plan that leave ---

    def on_event(self, what: Event) -> None:
        """Told of every node event: a pool device that left stops the pooled model."""
        if what == Event.DEVICES and self._pool is not None:
            # The engine is stopped below; its relays are not left waiting on the device either.
            for name in self._pool.cut_unreachable():
                log.warning("cut the tunnel to %s: its control channel is down", name)
        if what not in (Event.DEVICES, Event.POOL) or self._pool is None:
            return
        if not isinstance(self._state, Loaded):
            return
        if self._pool_failing is None and self._pool.losses():
            self._pool_failing = asyncio.ensure_future(self._pool_failed())

    async def _pool_failed(self) -> None:
        try:
            model, pool = self._state, self._pool
            if not isinstance(model, Loaded) or pool is None:
                return
            losses = pool.losses()
            lost = Lost(
                model.profile,
                model.n_ctx,
                tuple(loss.device_id for loss in losses),
                tuple(loss.name for loss in losses),
                tuple(loss.reason for loss in losses),
            )
            log.warning("the pooled model stopped: %s", "; ".join(lost.reasons))
            # llama.cpp cannot go on without a device of its graph: the engine and the pool go.
            await self._stop_engine()
            self._become(lost)
        finally:
            self._pool_failing = None
        if self._plans.pooling.replan_automatically:
            try:
                await self.replan()
            except Exception as exc:
                if isinstance(self._state, Lost):
                    self._become(_with_failure(self._state, self.explain(exc)))

    def replan_proposal(self) -> Prediction:
        """The best plan for the lost model over the devices that are left."""
        lost = self._state
        if not isinstance(lost, Lost):
            raise ServiceError("No model stopped for want of a device.")
        return self._plans.auto_plan(lost.profile, lost.n_ctx)

    async def replan(self) -> Loaded:
        """Load the lost model again on the best plan over the devices that are left."""
        proposal = self.replan_proposal()
        lost = self._state
        assert isinstance(lost, Lost)
        return await self.load(lost.profile, proposal.plan, lost.n_ctx)

    def better_plan(self, gain: float = BETTER_GAIN) -> Prediction | None:
        """A plan for the loaded model that devices now in sight would make at least ``gain`` times
        faster than the loaded one was predicted to be, using a device it does not use; else None."""
        model = self._state
        if not isinstance(model, Loaded) or not model.tokens_per_s:
            return None
        try:
            best = self._plans.auto_plan(model.profile, model.n_ctx)
        except PlanError:
            return None
        used = set(model.plan.remote_devices)
        new = set(best.plan.remote_devices) - used
        return best if new and best.tokens_per_s >= model.tokens_per_s * gain else None

    def explain(self, exc: BaseException) -> str:
        """What went wrong, naming the device when a pooled answer or load failed because of one."""
        if isinstance(exc, EngineDied):
            lost = self._state.reasons if isinstance(self._state, Lost) else ()
            failed = self._failures() or list(lost)
            if failed:
                return "; ".join(failed)
        if not str(exc):
            log.error("failed without a message: %r", exc)
        return str(exc) or "it failed without saying why (the log has the details)"

    # --- answering ---

    def _at_once(self) -> int:
        model = self.loaded()
        return model.loaded.parallel if model is not None and model.loaded is not None else 1

    async def generate(
        self,
        request: m.Generate,
        on_token: Callable[[m.Token], None],
        who: Who = Who.API,
        client: str = "",
        route: bool = True,
        device: str = "",
        model: str = "",
        expect: Callable[[], bool] | None = None,
    ) -> m.Done:
        """Run one request on the loaded model once it has a place: as many answers at once as the
        model was loaded for, the window's chat ahead of apps that wait, no client holding every place
        (``client`` tells apps apart; "": all apps are one), ``LineFull`` when too many wait.
        Cancelling the caller stops its answer at once, and only its answer. With ``route``, an app's
        request whose model is busy here goes to a paired device that offers a place for it now;
        ``device`` (a paired device's name or ID) sends it there, asking for ``model`` (the name an app
        asked for; "": the model loaded here), or fails with why it was not taken. ``expect()`` is
        asked once the answer has its place here: False refuses it (``NotRouted``), nothing said."""
        self._turns.at_once = self._at_once()
        router = self.router
        if device and router is not None:
            there = router.device(device)
            if there is not None:
                try:
                    return await router.ask(there, request, on_token, model)
                except NotRouted as exc:
                    raise DeviceRefused(str(exc)) from None
            route = False  # this device was named
        if route and who is Who.API and router is not None:
            return await self._here_or_elsewhere(router, request, on_token, client)
        return await self._here(request, on_token, who, client, expect)

    async def _here(
        self,
        request: m.Generate,
        on_token: Callable[[m.Token], None],
        who: Who,
        client: str,
        expect: Callable[[], bool] | None = None,
    ) -> m.Done:
        async with self._turns.turn(who, client):
            if expect is not None and not expect():
                raise NotRouted("the model here changed before the answer had its place")
            done = await self._engine.generate(request, on_token)
        model = self.loaded()
        if self._guesser is not None and model is not None and done.drafted:
            draft = self._guessing.draft.path if self._guessing.draft is not None else ""
            self._guesser.record(model.profile.path, draft, done)
        return done

    async def _here_or_elsewhere(
        self, router: Router, request: m.Generate, on_token: Callable[[m.Token], None], client: str
    ) -> m.Done:
        """An app's answer: it takes its place in the line here at once and keeps it while a paired
        device that offers a place is asked (on arrival, and while it waits). Whichever begins first
        answers: the device taking it withdraws it from the line here; a place here given first
        stops the asking. A device that did not take it is asked again only once it has said
        something newer (``Routing.place``), at most ``MAX_ROUTES`` times."""
        winner: list[str] = []  # "here" or "there", once one has begun

        def said_here(token: m.Token) -> None:
            if not winner:
                winner.append("here")
            if winner[0] == "here":
                on_token(token)

        def taken_there() -> bool:
            if winner or self._turns.is_answering(here):
                return False  # begun here, or about to: the other device is told to stop
            winner.append("there")
            here.cancel()
            return True

        here = asyncio.ensure_future(self._here(request, said_here, Who.API, client))
        asking: asyncio.Task[m.Done] | None = None
        tries = MAX_ROUTES
        try:
            while True:
                if asking is None and tries and not winner and not self._turns.is_answering(here):
                    place = router.place()
                    if place is not None:
                        tries -= 1
                        asking = asyncio.ensure_future(
                            router.ask(place.device_id, request, on_token, on_taken=taken_there)
                        )
                waiting = {t for t in (here, asking) if t is not None and not t.done()}
                if waiting:
                    await asyncio.wait(waiting, timeout=ROUTE_CHECK_S, return_when=asyncio.FIRST_COMPLETED)
                if winner == ["here"] and asking is not None:
                    # Begun here: the device asked stops now (one loading for it stops waiting).
                    await _withdrawn(asking)
                    asking = None
                if asking is not None and asking.done():
                    if winner == ["there"] or not isinstance(asking.exception(), NotRouted):
                        return asking.result()
                    log.info("answering here: %s", asking.exception())
                    asking = None
                if here.done() and not here.cancelled():
                    # A full line here still lets the device being asked take it.
                    if asking is None or winner or not isinstance(here.exception(), LineFull):
                        return here.result()
        finally:
            # Whichever did not answer stops (as does everything when the caller is cancelled),
            # and is waited for, so that nothing of it runs on or goes unread.
            for task in (here, asking):
                if task is not None and not task.done():
                    task.cancel()
            left = {t for t in (here, asking) if t is not None}
            if left:
                await asyncio.wait(left)
            for task in left:
                if not task.cancelled():
                    task.exception()  # retrieved: its failure was the loser's, not the answer's

    async def stop_answer(self, who: Who, task: asyncio.Task[Any]) -> None:
        """Stop the answer ``task`` awaits: one under way ends as "stopped" with what was said (the
        others go on); one still waiting for its turn is withdrawn."""
        # A turn just given may not have reached the engine yet: then its task is stopped instead.
        if not (self._turns.is_answering(task) and await self._engine.cancel(task)):
            task.cancel()


async def _withdrawn(task: asyncio.Task[Any]) -> None:
    """``task`` cancelled and waited for; what it raised, if it ended first, is read (it lost)."""
    task.cancel()
    await asyncio.wait({task})
    if not task.cancelled():
        task.exception()


def _with_failure(lost: Lost, why: str) -> Lost:
    return Lost(lost.profile, lost.n_ctx, lost.device_ids, lost.names, lost.reasons, why)
