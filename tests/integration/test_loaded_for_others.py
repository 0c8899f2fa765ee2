"""A model loaded on an idle device for a paired device's app: loaded there alone, never in place of
that device's own model, and unloaded again once unused, unless that device's own chat answers with it;
switching loading off mid-load refuses the answer waiting for it, telling the device that asked why,
and the model goes once the load ends, unused.
A real service with a real engine on the tiny synthetic model; the keep time is shortened here.
A short answer of the chat is enough to keep it, however rarely the watch looks."""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path

import msgspec
import pytest

from hearth.core import control, wire
from hearth.core.plan import HOST, even_plan
from hearth.core.profile import read_profile
from hearth.engine import messages as m
from hearth.engine.errors import LoadFailed
from hearth.mesh.channel import ControlChannel, dial
from hearth.mesh.identity import Identity, make_certificate
from hearth.mesh.pairing_client import request_pairing
from hearth.service.errors import ServiceError
from hearth.service.node import NodeOptions
from hearth.service.on_demand import NotServed, Refusal
from hearth.service.root import Hearth
from hearth.service.serving_state import Idle, Loaded
from hearth.service.turns import Who

KEEP_S = 1.0


async def _until(check, what: str, limit: float = 30.0, poll: float = 0.05) -> None:
    deadline = time.monotonic() + limit
    while not check():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(poll)


def test_a_model_loaded_for_another_device_goes_when_unused_and_stays_once_the_chat_uses_it(
    tiny_model: Path, tmp_path: Path
) -> None:
    other = tmp_path / "second-tiny.gguf"
    shutil.copyfile(tiny_model, other)

    async def scenario() -> None:
        services = Hearth(NodeOptions(name="beta", host="127.0.0.1", port=0, discovery=False, probe=False))
        await services.start()
        # The watch's times, shortened for the test (5 minutes and 5 s in use).
        services.loadable._keep_s, services.loadable._watch_s = KEEP_S, 0.05

        def state() -> object:
            return services.serving.state

        try:
            await services.donation.answer_devices(True, loads=True)
            for path in (tiny_model, other):
                await services.models.import_file(str(path))
            # The paired device that asked goes away while the model loads: the load goes on, and
            # its model is watched all the same.
            asked = asyncio.ensure_future(services.on_demand.model(tiny_model.stem, for_device=True))
            await _until(lambda: services.on_demand.loading, "the load begun", poll=0.001)
            asked.cancel()
            await _until(lambda: isinstance(state(), Loaded), "loaded, though nobody waits for it")
            loaded = state()
            assert isinstance(loaded, Loaded) and not loaded.pooled
            # Another device's request never replaces the model loaded here.
            with pytest.raises(NotServed) as refused:
                await services.on_demand.model(other.stem, for_device=True)
            assert refused.value.refusal is Refusal.BUSY
            assert state() is loaded

            started = time.monotonic()
            await _until(lambda: isinstance(state(), Idle), "unloaded once unused")
            assert time.monotonic() - started >= KEEP_S * 0.9

            # Loaded again for another device; then this device's own chat answers with it.
            await services.on_demand.model(tiny_model.stem, for_device=True)
            request = m.Generate(0, prompt="Once upon a", max_tokens=8, temperature=0.0, ignore_eos=True)
            done = await services.serving.generate(request, lambda _: None, Who.CHAT, route=False)
            assert done.completion_tokens == 8
            await asyncio.sleep(KEEP_S * 3)
            assert isinstance(state(), Loaded), "the chat used it: it stays"

            # A model the user loads is never watched.
            await services.serving.unload()
            profile = read_profile(str(tiny_model))
            await services.serving.load(profile, even_plan(profile.block_count, [HOST]), 512)
            await asyncio.sleep(KEEP_S * 3)
            assert isinstance(state(), Loaded)
        finally:
            await services.stop()

    asyncio.run(scenario())


def test_only_a_file_that_cannot_be_loaded_stops_being_offered(tiny_model: Path, tmp_path: Path) -> None:
    other = tmp_path / "second-tiny.gguf"
    shutil.copyfile(tiny_model, other)

    async def failing(exc: BaseException) -> Loaded:
        raise exc

    async def scenario() -> None:
        services = Hearth(NodeOptions(name="beta", host="127.0.0.1", port=0, discovery=False, probe=False))
        await services.start()
        try:
            await services.donation.answer_devices(True)
            for path in (tiny_model, other):
                await services.models.import_file(str(path))
            loadable = services.loadable
            # Answering allowed, loading for other devices not (a consent of its own): nothing is
            # offered, and a request for a model of the library loads nothing.
            assert not loadable.idle() and loadable.offers() == []
            with pytest.raises(NotServed) as refused:
                await services.on_demand.model(tiny_model.stem, for_device=True)
            assert refused.value.refusal is Refusal.NOT_ALLOWED
            assert "do not let models be loaded for other devices' apps" in str(refused.value)
            assert isinstance(services.serving.state, Idle)
            await services.donation.answer_devices(loads=True)
            offered = {tiny_model.stem, other.stem}
            await _until(lambda: {o.model for o in loadable.offers()} == offered, "the library offered")
            # Passing refusals: busy, another model loaded meanwhile, too long a context for now.
            for passing, n_ctx in (
                (NotServed("busy", Refusal.BUSY), None),
                (ServiceError("another model was loaded here meanwhile"), None),
                (NotServed("does not fit", Refusal.CANNOT_LOAD), 8192),
            ):
                task = asyncio.ensure_future(failing(passing))
                loadable.loading_for_device(task, str(tiny_model), n_ctx)
                await asyncio.wait({task})
                assert {o.model for o in loadable.offers()} == offered, passing
            # The engine could not load it: that file is offered no more, the other still is.
            task = asyncio.ensure_future(failing(LoadFailed("not a model")))
            loadable.loading_for_device(task, str(tiny_model))
            await asyncio.wait({task})
            assert {o.model for o in loadable.offers()} == {other.stem}
        finally:
            await services.stop()

    asyncio.run(scenario())


def test_a_model_loaded_for_another_device_goes_once_unused_when_loading_for_them_is_switched_off(
    tiny_model: Path,
) -> None:
    async def scenario() -> None:
        services = Hearth(NodeOptions(name="beta", host="127.0.0.1", port=0, discovery=False, probe=False))
        await services.start()
        # The product's keep time (5 minutes), looked at often: only the switch can make it go sooner.
        services.loadable._watch_s = 0.05
        try:
            await services.donation.answer_devices(True, loads=True)
            await services.models.import_file(str(tiny_model))
            await services.on_demand.model(tiny_model.stem, for_device=True)
            await asyncio.sleep(0.5)
            assert isinstance(services.serving.state, Loaded), "kept while loading for them is allowed"
            await services.donation.answer_devices(loads=False)
            await _until(lambda: isinstance(services.serving.state, Idle), "unloaded once the switch is off")
        finally:
            await services.stop()

    asyncio.run(scenario())


async def _paired_host(services: Hearth) -> ControlChannel:
    """A device paired with ``services`` now, its control channel to it open: a host that asks it."""
    cert, key = make_certificate()
    identity = Identity("alpha", cert, key, "file")
    node = services._node
    address = f"127.0.0.1:{node.port}"
    attempt = await request_pairing(address, identity)
    await _until(lambda: services.devices.pending_codes(), "the pairing code shown")
    await attempt.finish(services.devices.pending_codes()[0].code)
    hello = control.Hello(control.PROTOCOL_VERSION, "0", "none", identity.device_id, identity.name)
    return await dial(address, identity, node.identity.cert_pem.decode(), node.identity.device_id, hello)


def test_switching_loading_off_mid_load_stops_it_and_the_host_is_told_why(tiny_model: Path) -> None:
    async def scenario() -> None:
        services = Hearth(NodeOptions(name="beta", host="127.0.0.1", port=0, discovery=False, probe=False))
        await services.start()
        try:
            await services.donation.answer_devices(True, loads=True)
            await services.models.import_file(str(tiny_model))
            chan = await _paired_host(services)
            try:
                request = m.Generate(0, prompt="Once upon a", max_tokens=8, temperature=0.0)
                generate = msgspec.Raw(msgspec.json.encode(request))
                size = read_profile(str(tiny_model)).file_size
                await chan.ws.send(wire.encode(control.Ask(1, tiny_model.stem, size, generate, working=True)))
                await _until(lambda: services.on_demand.loading, "the load for alpha begun", poll=0.001)
                await services.donation.answer_devices(loads=False)
                async with asyncio.timeout(60):
                    while not isinstance(said := control.decode(await chan.ws.recv()), control.NotAnswered):
                        assert not isinstance(said, control.Told), "nothing is said of a stopped load"
                assert said.request_id == 1 and said.refused, said
                assert "beta stopped loading models for other devices' apps" in said.reason
                await _until(lambda: isinstance(services.serving.state, Idle), "nothing left loaded")
                # Answering with a model loaded here is still allowed: only the loads stopped.
                assert services._node.donation.answers and not services._node.donation.loads
            finally:
                await chan.close()
        finally:
            await services.stop()

    asyncio.run(scenario())
