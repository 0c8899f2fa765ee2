"""Serving's life cycle, driven without Qt, a network or child processes.

The engine and the pools are stand-ins for the two seams serving depends on (``serving.Engine``,
``pools.Pools``); the plans are the real planner over device rows like the node's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from hearth.core.device_id import DeviceId
from hearth.core.plan import HOST, Plan, PlanError, parse_plan
from hearth.core.profile import ModelProfile, shaped_profile
from hearth.engine import messages as m
from hearth.engine.client import EngineDied
from hearth.service.device_view import DeviceView
from hearth.service.errors import ServiceError
from hearth.service.events import Event
from hearth.service.plans import Plans
from hearth.service.pools import Loss
from hearth.service.serving import Serving
from hearth.service.serving_state import Idle, Loaded, Loading, Lost, ServingState
from hearth.service.turns import Who
from hearth.store.settings import update_pooling

GIB, MIB = 2**30, 2**20
N_CTX = 512
# Eight layers of 200 MiB: too much for the host's half a gigabyte, so a plan needs a donor.
PROFILE = shaped_profile(
    [200 * MIB] * 8,
    embedding_length=512,
    feed_forward_length=1024,
    head_count=8,
    head_count_kv=8,
    vocab_size=1000,
    head_bytes=4 * MIB,
    name="pooled",
)


def host_row() -> DeviceView:
    return DeviceView(
        device_id=DeviceId("ALPHA-ID"),
        short_id="ALPH",
        name="alpha",
        this_device=True,
        online=True,
        connected=True,
        memory_total=4 * GIB,
        memory_free=1 * GIB,
        bytes_per_s=30e9,
        rpc_step_ms=0.5,
    )


def donor_row(name: str, bytes_per_s: float = 20e9) -> DeviceView:
    return DeviceView(
        device_id=DeviceId(f"{name.upper()}-ID"),
        short_id=name[:4].upper(),
        name=name,
        paired=True,
        online=True,
        connected=True,
        memory_total=16 * GIB,
        memory_free=8 * GIB,
        donated_bytes=4 * GIB,
        bytes_per_s=bytes_per_s,
        latency_ms=1.0,
    )


@dataclass
class Household:
    rows: list[DeviceView] = field(default_factory=lambda: [host_row(), donor_row("beta")])

    def devices(self) -> list[DeviceView]:
        return list(self.rows)

    def is_me(self, name: str) -> bool:
        return name in ("alpha", "ALPHA-ID")

    def leave(self, name: str) -> None:
        self.rows = [r for r in self.rows if r.name != name]


class NoSizing:
    """llama.cpp's dry run that cannot say: the estimate stands."""

    def known(self, *_: Any) -> None:
        return None

    async def compute(self, *_: Any) -> None:
        return None


@dataclass
class FakePool:
    plan: Plan
    ids: dict[str, str]  # plan device name -> device ID
    lost: list[Loss] = field(default_factory=list)
    closed: bool = False

    @property
    def endpoints(self) -> list[str]:
        return [f"127.0.0.1:{50000 + i}" for i, _ in enumerate(self.plan.remote)]

    @property
    def devices(self) -> list[str]:
        return [a.device for a in self.plan.remote]

    def losses(self) -> list[Loss]:
        return list(self.lost)

    def cut_unreachable(self) -> list[str]:
        return []

    async def close(self) -> None:
        self.closed = True

    def lose(self, device_id: str, why: str) -> None:
        assert device_id in self.ids.values(), f"{device_id} is not in this pool"
        name = device_id.removesuffix("-ID").lower()
        self.lost.append(Loss(device_id, name, f"{name}: {why}"))


@dataclass
class FakePools:
    household: Household
    opened: list[FakePool] = field(default_factory=list)
    refuse: str = ""

    async def open(self, profile: ModelProfile, plan: Plan, n_ctx: int, cache_type: str = "f16") -> FakePool:
        if self.refuse:
            raise ServiceError(self.refuse)
        # Plans over the planning devices name each remote device by its ID.
        pool = FakePool(plan, {a.device: a.device for a in plan.remote})
        self.opened.append(pool)
        return pool


@dataclass
class FakeEngine:
    """The engine's side of the seam: loads, one answer at a time, killed on demand."""

    loads: list[m.LoadModel] = field(default_factory=list)
    fail_load: str = ""
    load_gate: asyncio.Event | None = None
    kills: int = 0
    unloads: int = 0
    alive: bool = False
    answering: asyncio.Future[m.Done] | None = None

    @property
    def running(self) -> bool:
        return self.alive

    async def load(
        self, request: m.LoadModel, on_progress: Callable[[float], None] | None = None
    ) -> m.Loaded:
        self.alive = True
        self.loads.append(request)
        if self.load_gate is not None:
            await self.load_gate.wait()
        if self.fail_load:
            raise EngineDied(self.fail_load)
        return m.Loaded(request.path, request.n_ctx, 1000, True, 0.01)

    async def generate(self, request: m.Generate, on_token: Callable[[m.Token], None]) -> m.Done:
        self.answering = asyncio.get_running_loop().create_future()
        on_token(m.Token(1, 0, "Hel"))
        return await self.answering

    async def cancel(self, task: asyncio.Task[Any] | None = None) -> bool:
        if self.answering and not self.answering.done():
            self.answering.set_result(m.Done(1, "cancelled", 3, 1, 0.01, 0.0))
            return True
        return False

    async def unload(self) -> None:
        self.unloads += 1

    async def kill(self) -> None:
        self.kills += 1
        self.alive = False
        if self.answering and not self.answering.done():
            self.answering.set_exception(EngineDied("the engine process ended"))


@dataclass
class World:
    household: Household
    engine: FakeEngine
    pools: FakePools
    serving: Serving
    plans: Plans
    events: list[Event]
    states: list[ServingState]


@pytest.fixture
def world() -> World:
    household = Household()
    engine = FakeEngine()
    pools = FakePools(household)
    events: list[Event] = []
    states: list[ServingState] = []
    serving: Serving | None = None

    def emit(what: Event) -> None:
        events.append(what)
        if what is Event.MODEL and serving is not None:
            states.append(serving.state)

    async def read_profile(path: str) -> ModelProfile:
        return PROFILE

    plans = Plans(household, NoSizing(), lambda: serving.state if serving else Idle(), read_profile)
    serving = Serving(engine, pools, plans, emit)
    return World(household, engine, pools, serving, plans, events, states)


async def settle(condition: Callable[[], bool], what: str) -> None:
    """Let serving's own tasks run until ``condition`` holds (a bounded number of loop turns)."""
    for _ in range(200):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError(f"never: {what}")


def kinds(states: list[ServingState]) -> list[str]:
    return [type(s).__name__ for s in states]


async def load_best(world: World) -> Loaded:
    best = world.plans.auto_plan(PROFILE, N_CTX)
    return await world.serving.load(PROFILE, best.plan, N_CTX)


async def test_idle_loading_loaded_idle() -> None:
    household, engine = Household(), FakeEngine()
    engine.load_gate = asyncio.Event()
    serving: Serving | None = None
    seen: list[ServingState] = []

    async def read_profile(path: str) -> ModelProfile:
        return PROFILE

    plans = Plans(household, NoSizing(), lambda: serving.state if serving else Idle(), read_profile)

    def record(event: object) -> None:
        assert serving is not None
        seen.append(serving.state)

    serving = Serving(engine, FakePools(household), plans, record)
    # Each state read into a name of its own: narrowing serving.state would outlive the awaits below.
    state = serving.state
    assert isinstance(state, Idle) and serving.loaded() is None
    best = plans.auto_plan(PROFILE, N_CTX)
    assert [a.device for a in best.plan.remote] == ["BETA-ID"]  # the host alone cannot hold it
    task = asyncio.ensure_future(serving.load(PROFILE, best.plan, N_CTX))
    await settle(lambda: bool(engine.loads), "the engine asked to load")
    state = serving.state
    assert isinstance(state, Loading) and state.plan == best.plan
    engine.load_gate.set()
    model = await task
    assert serving.state is model and model.pooled and model.devices == ("alpha", "beta")
    assert model.tokens_per_s == pytest.approx(best.tokens_per_s)
    assert model.held[HOST] > 0 and model.held["BETA-ID"] > 200 * MIB
    request = engine.loads[-1]
    assert request.rpc_servers == ["127.0.0.1:50000"] and request.n_ctx == N_CTX
    await serving.unload()
    assert isinstance(serving.state, Idle) and engine.kills == 1  # a pooled engine is ended, not unloaded
    assert kinds(seen) == ["Loading", "Loaded", "Idle"]


async def test_a_failed_load_returns_to_idle_and_lets_the_devices_go(world: World) -> None:
    world.engine.fail_load = "llama.cpp could not load the model"
    with pytest.raises(EngineDied):
        await load_best(world)
    assert isinstance(world.serving.state, Idle)
    assert world.pools.opened[-1].closed
    assert kinds(world.states) == ["Loading", "Idle"]


async def test_a_cancelled_load_kills_the_engine(world: World) -> None:
    world.engine.load_gate = asyncio.Event()
    task = asyncio.ensure_future(load_best(world))
    await settle(lambda: bool(world.engine.loads), "the load under way")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert isinstance(world.serving.state, Idle) and world.engine.kills == 1
    assert world.pools.opened[-1].closed


async def test_a_pool_that_cannot_be_reserved_leaves_nothing_loaded(world: World) -> None:
    world.pools.refuse = "beta is paired but not connected"
    with pytest.raises(ServiceError, match="not connected"):
        await load_best(world)
    assert isinstance(world.serving.state, Idle) and not world.engine.loads


async def test_a_device_lost_mid_answer_stops_the_answer_and_names_the_device(world: World) -> None:
    await load_best(world)
    said: list[str] = []
    answer = asyncio.ensure_future(
        world.serving.generate(m.Generate(request_id=1, prompt="Hi"), lambda t: said.append(t.text), Who.CHAT)
    )
    await settle(lambda: world.engine.answering is not None, "the answer under way")
    assert world.serving.queue().serving is Who.CHAT
    world.pools.opened[-1].lose("BETA-ID", "the device is unreachable (its control channel is down)")
    world.household.leave("beta")
    world.serving.on_event(Event.DEVICES)
    with pytest.raises(EngineDied) as failed:
        await answer
    await settle(lambda: isinstance(world.serving.state, Lost), "the model lost")
    lost = world.serving.state
    assert isinstance(lost, Lost) and lost.device_ids == ("BETA-ID",) and lost.names == ("beta",)
    assert said == ["Hel"]  # what was said before the device left
    assert "beta: the device is unreachable" in world.serving.explain(failed.value)
    assert world.serving.queue().serving is None
    assert world.engine.kills == 1 and world.pools.opened[-1].closed


async def test_replan_after_a_loss_without_the_device_that_left(world: World) -> None:
    world.household.rows.append(donor_row("gamma"))
    model = await load_best(world)
    used = {a.device for a in model.plan.remote}
    gone = sorted(used)[0]
    world.pools.opened[-1].lose(gone, "stopped donating")
    world.serving.on_event(Event.POOL)
    await settle(lambda: isinstance(world.serving.state, Lost), "the model lost")
    # The device that left is planned without, even while it still reports as donating.
    assert all(d.key != gone for d in world.plans.devices())
    proposal = world.serving.replan_proposal()
    assert gone not in {a.device for a in proposal.plan.remote}
    again = await world.serving.replan()
    assert world.serving.state is again and gone not in {a.device for a in again.plan.remote}
    assert any(d.key == gone for d in world.plans.devices())  # offered again once a plan loaded
    assert kinds(world.states)[-4:] == ["Loaded", "Lost", "Loading", "Loaded"]
    loading = world.states[-2]
    assert isinstance(loading, Loading) and isinstance(loading.after, Lost)


async def test_replan_on_its_own_when_the_user_asked_for_it(world: World) -> None:
    update_pooling(replan_automatically=True)
    world.household.rows.append(donor_row("gamma"))
    model = await load_best(world)
    gone = next(iter({a.device for a in model.plan.remote}))
    world.pools.opened[-1].lose(gone, "stopped donating")
    world.serving.on_event(Event.POOL)
    await settle(
        lambda: isinstance(world.serving.state, Loaded) and world.serving.state is not model, "re-planned"
    )
    again = world.serving.loaded()
    assert again is not None and gone not in {a.device for a in again.plan.remote}


async def test_a_failed_replan_stays_lost_and_says_why(world: World) -> None:
    update_pooling(replan_automatically=True)
    await load_best(world)  # on beta, the only donor: without it nothing fits
    world.pools.opened[-1].lose("BETA-ID", "stopped donating")
    world.serving.on_event(Event.POOL)
    await settle(
        lambda: isinstance(world.serving.state, Lost) and bool(world.serving.state.replan_failed),
        "replan failed",
    )
    lost = world.serving.state
    assert isinstance(lost, Lost) and lost.names == ("beta",)
    with pytest.raises(PlanError):
        world.serving.replan_proposal()
    # A load the user starts that fails leaves the model lost, its devices still left out.
    world.engine.fail_load = "llama.cpp ran out of memory"
    with pytest.raises(EngineDied):
        await world.serving.load(PROFILE, parse_plan("host:0-7", 8), N_CTX)
    assert isinstance(world.serving.state, Lost) and world.serving.state.names == ("beta",)
    await world.serving.unload()
    assert isinstance(world.serving.state, Lost)  # unloading nothing does not forget what was lost


async def test_a_better_plan_when_a_faster_device_joins(world: World) -> None:
    world.household.rows[1] = donor_row("beta", bytes_per_s=2e9)  # a slow donor
    model = await load_best(world)
    assert world.serving.better_plan() is None  # nothing better in sight
    world.household.rows.append(donor_row("gamma", bytes_per_s=100e9))
    better = world.serving.better_plan()
    assert better is not None and "GAMMA-ID" in {a.device for a in better.plan.remote}
    assert better.tokens_per_s >= model.tokens_per_s * 1.15
    # The same device, only a little faster than asked: not worth a reload.
    assert world.serving.better_plan(gain=better.tokens_per_s / model.tokens_per_s * 1.01) is None


async def test_replan_without_a_lost_model_is_refused(world: World) -> None:
    with pytest.raises(ServiceError, match="No model stopped"):
        world.serving.replan_proposal()


async def test_stopping_an_answer_ends_it_as_cancelled(world: World) -> None:
    await load_best(world)
    task = asyncio.ensure_future(
        world.serving.generate(m.Generate(request_id=1, prompt="Hi"), lambda t: None, Who.CHAT)
    )
    await settle(lambda: world.engine.answering is not None, "the answer under way")
    await world.serving.stop_answer(Who.CHAT, task)
    done = await task
    assert done.reason == "cancelled" and isinstance(world.serving.state, Loaded)


@dataclass
class CuttablePool(FakePool):
    unreachable: list[str] = field(default_factory=list)

    def cut_unreachable(self) -> list[str]:
        cut, self.unreachable = self.unreachable, []
        return cut


async def test_reservations_for_another_engine_are_held_cut_and_given_back(world: World) -> None:
    from hearth.service.reservations import Reservations

    plan = world.plans.auto_plan(PROFILE, N_CTX).plan
    assert plan.remote, "the household pools: the reservation has a device to hold"
    reservations = Reservations(world.pools)
    first = await reservations.reserve(PROFILE, plan, N_CTX)
    second = await reservations.reserve(PROFILE, plan, N_CTX)
    assert isinstance(first, FakePool) and isinstance(second, FakePool)
    first.lose(next(iter(first.ids.values())), "stopped answering")
    assert reservations.failures(first) == ["beta: stopped answering"] and reservations.failures(second) == []
    await reservations.release(first)
    assert first.closed and not second.closed
    await reservations.close()  # the node stops: what is still held is given back
    assert second.closed
    # A device that leaves cuts the tunnels of what is held, and only on a devices event.
    held = CuttablePool(plan, {}, unreachable=["beta"])
    reservations._held.append(held)
    reservations.on_event(Event.MODEL)
    assert held.unreachable == ["beta"]
    reservations.on_event(Event.DEVICES)
    assert held.unreachable == []
