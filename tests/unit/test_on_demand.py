"""Models loaded because an app asked for them, over serving's real planner: a model that needs other
devices is loaded only where the user allowed that, one load serves every request waiting for it, and
a load someone else started is waited for rather than overridden."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest

from hearth.models.library import LibraryEntry
from hearth.service.on_demand import NotServed, OnDemand, Refusal
from hearth.service.planning import PlanChoice
from hearth.service.serving_state import Loaded, Loading
from hearth.store.settings import ApiSettings
from tests.unit import test_serving
from tests.unit.test_serving import N_CTX, PROFILE, World

world = test_serving.world  # serving over its real planner, with the engine and pools stood in

# Two models of the library, both too big for the host alone (see test_serving.PROFILE).
FIRST = dataclasses.replace(PROFILE, path="/models/first.gguf")
OTHER = dataclasses.replace(PROFILE, path="/models/other.gguf")


def _on_demand(world: World, settings: list[ApiSettings]) -> OnDemand:
    by_path = {p.path: p for p in (FIRST, OTHER)}

    async def entries() -> list[LibraryEntry]:
        return [
            LibraryEntry(FIRST.path, FIRST),
            LibraryEntry(OTHER.path, OTHER),
            LibraryEntry("/models/gone.gguf", None, "moved"),
        ]

    async def choose(path: str, pooled: bool, n_ctx: int | None = None) -> PlanChoice:
        choice = await world.plans.choose(path, n_ctx, pooled=pooled)
        return dataclasses.replace(choice, profile=by_path[path])

    return OnDemand(world.serving, entries, choose, lambda: settings[-1])


async def _until(condition: Callable[[], object], what: str) -> None:
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never: {what}")


def _loads(world: World) -> list[str]:
    return [Path(r.path).stem for r in world.engine.loads]


async def test_a_model_that_needs_other_devices_loads_only_where_allowed(world: World) -> None:
    settings = [ApiSettings()]
    on_demand = _on_demand(world, settings)
    with pytest.raises(NotServed) as refused:
        await on_demand.model("first")
    assert refused.value.refusal is Refusal.CANNOT_LOAD and refused.value.refusal.status == 409
    assert "does not fit on this device alone" in str(refused.value) and "Settings" in str(refused.value)
    assert world.engine.loads == [] and world.pools.opened == []

    settings.append(dataclasses.replace(settings[-1], pool_on_request=True))
    loaded = await on_demand.model("first:latest")
    assert loaded.served_name == "first" and loaded.plan.remote
    assert _loads(world) == ["first"] and len(world.pools.opened) == 1


async def test_two_requests_for_one_model_load_it_once(world: World) -> None:
    on_demand = _on_demand(world, [ApiSettings(pool_on_request=True)])
    first, second = await asyncio.gather(on_demand.model("first"), on_demand.model("first.gguf"))
    assert first is second and _loads(world) == ["first"]


async def test_names_the_library_lacks_or_cannot_use_are_refused_without_a_load(world: World) -> None:
    settings = [ApiSettings(pool_on_request=True)]
    on_demand = _on_demand(world, settings)
    for asked in ("gpt-4o", "gone"):
        with pytest.raises(NotServed) as refused:
            await on_demand.model(asked)
        assert refused.value.refusal is Refusal.NOT_FOUND and "library" in str(refused.value)
    settings.append(ApiSettings(load_on_request=False, pool_on_request=True))
    with pytest.raises(NotServed) as refused:
        await on_demand.model("first")
    assert refused.value.refusal is Refusal.NOT_ALLOWED and "Settings → Other apps" in str(refused.value)
    assert world.engine.loads == []


async def test_a_load_someone_else_started_is_waited_for_not_overridden(world: World) -> None:
    on_demand = _on_demand(world, [ApiSettings(pool_on_request=True)])
    world.engine.load_gate = asyncio.Event()
    plan = world.plans.auto_plan(FIRST, N_CTX).plan
    users = asyncio.ensure_future(world.serving.load(FIRST, plan, N_CTX))
    await _until(lambda: isinstance(world.serving.state, Loading), "the user's load")
    asked = asyncio.ensure_future(on_demand.model("other"))
    await asyncio.sleep(0.3)
    assert _loads(world) == ["first"] and not asked.done()
    world.engine.load_gate.set()
    assert (await users).served_name == "first"  # the user's load ended as the user asked
    assert (await asyncio.wait_for(asked, 10)).served_name == "other"
    assert _loads(world) == ["first", "other"]


async def test_a_client_that_leaves_does_not_stop_the_load_it_asked_for(world: World) -> None:
    on_demand = _on_demand(world, [ApiSettings(pool_on_request=True)])
    world.engine.load_gate = asyncio.Event()
    asked = asyncio.ensure_future(on_demand.model("other"))
    await _until(lambda: world.engine.loads, "the load")
    asked.cancel()
    await asyncio.sleep(0.05)
    world.engine.load_gate.set()
    await _until(lambda: isinstance(world.serving.state, Loaded), "the model loaded")
    assert world.engine.kills == 0 and _loads(world) == ["other"]
    # The next request finds it loaded.
    assert (await on_demand.model("other")).served_name == "other" and _loads(world) == ["other"]


async def test_a_failed_load_fails_every_request_waiting_for_it_once(world: World) -> None:
    on_demand = _on_demand(world, [ApiSettings(pool_on_request=True)])
    world.engine.fail_load = "the engine process ended"
    results = await asyncio.gather(*(on_demand.model("other") for _ in range(4)), return_exceptions=True)
    assert all(isinstance(r, NotServed) and r.refusal is Refusal.BUSY for r in results), results
    assert "could not be loaded" in str(results[0]) and _loads(world) == ["other"]
