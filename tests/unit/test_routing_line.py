"""An app's request that waits for the model here while a paired device is asked for it
(``Serving._here_or_elsewhere``): it keeps its place in the line until the device takes it, goes on
waiting there when the device refuses, and is answered here when its place comes first."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from hearth.core.control import Offer
from hearth.core.routing import Elsewhere
from hearth.engine import messages as m
from hearth.service.errors import NotRouted
from hearth.service.serving import Serving
from hearth.service.turns import Who
from tests.unit.test_answers_at_once import PROFILE, WHOLE, _plans
from tests.unit.test_serving import FakeEngine

THERE = Elsewhere("id-beta", "beta", Offer("small", 1, 512, 1, 0, 0))
REMOTE_DONE = m.Done(0, "stop", 3, 2, 0.01, 0.01)


@dataclass
class FakeRouter:
    """A paired device that offers a place whenever ``offering`` is set, and answers as told."""

    offering: bool = False
    asked: list[asyncio.Future[bool]] = field(default_factory=list)  # True: take it; False: refuse

    def place(self) -> Elsewhere | None:
        return THERE if self.offering and not self.asked else None

    def device(self, name: str) -> str | None:
        return None

    async def ask(
        self,
        device_id: str,
        request: m.Generate,
        on_token: Callable[[m.Token], None],
        model: str = "",
        on_taken: Callable[[], bool] | None = None,
    ) -> m.Done:
        decided: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.asked.append(decided)
        try:
            if not await decided:
                raise NotRouted("beta has no place free now")
            if on_taken is not None and not on_taken():
                raise NotRouted("answered here before beta began")
            on_token(m.Token(0, 7, "there"))
            return REMOTE_DONE
        finally:
            self.offering = False


async def _busy() -> tuple[Serving, FakeEngine, FakeRouter, asyncio.Task[m.Done]]:
    plans, serving, engine = await _plans()
    plans.set_at_once(1, save=False)
    await serving.load(PROFILE, WHOLE, 512)
    router = FakeRouter()
    serving.router = router
    first = asyncio.ensure_future(serving.generate(_request(), lambda _: None, Who.API, "a"))
    for _ in range(20):
        await asyncio.sleep(0)
    assert serving.queue().answering == 1
    return serving, engine, router, first


def _request() -> m.Generate:
    return m.Generate(0, prompt="hi", max_tokens=4, temperature=0)


async def _settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def _until(condition: Callable[[], object], steps: int = 500) -> None:
    for _ in range(steps):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"not so after {steps} looks: {condition}")


def _end_the_answer_here(engine: FakeEngine) -> None:
    assert engine.answering is not None
    engine.answering.set_result(m.Done(1, "stop", 3, 1, 0.01, 0.0))


async def test_a_device_that_refuses_leaves_the_request_where_it_was_in_the_line() -> None:
    serving, engine, router, first = await _busy()
    router.offering = True
    second = asyncio.ensure_future(serving.generate(_request(), lambda _: None, Who.API, "b"))
    await _until(lambda: router.asked)
    # While beta is asked, the request keeps its place here, and a later one queues behind it.
    third = asyncio.ensure_future(serving.generate(_request(), lambda _: None, Who.API, "c"))
    await _settle()
    assert serving.queue().waiting == 2
    router.asked[0].set_result(False)
    await _settle()
    assert serving.queue().waiting == 2 and not second.done()
    _end_the_answer_here(engine)
    await first
    await _until(lambda: serving.queue().answering == 1 and serving.queue().waiting == 1)
    assert not third.done()  # the second has the place: it came first
    _end_the_answer_here(engine)
    assert (await asyncio.wait_for(second, 5)).reason == "stop"
    await _until(lambda: serving.queue().answering == 1 and serving.queue().waiting == 0)
    _end_the_answer_here(engine)
    assert (await asyncio.wait_for(third, 5)).reason == "stop"


async def test_a_device_that_takes_it_withdraws_it_from_the_line_and_answers() -> None:
    serving, engine, router, first = await _busy()
    router.offering = True
    said: list[str] = []
    second = asyncio.ensure_future(serving.generate(_request(), lambda t: said.append(t.text), Who.API, "b"))
    await _until(lambda: router.asked)
    assert serving.queue().waiting == 1
    router.asked[0].set_result(True)
    assert await asyncio.wait_for(second, 5) == REMOTE_DONE
    assert said == ["there"]
    assert serving.queue().waiting == 0  # withdrawn from the line here
    _end_the_answer_here(engine)
    await first


async def test_a_place_here_given_first_answers_here_and_the_device_is_told_to_stop() -> None:
    serving, engine, router, first = await _busy()
    router.offering = True
    said: list[str] = []
    second = asyncio.ensure_future(serving.generate(_request(), lambda t: said.append(t.text), Who.API, "b"))
    await _until(lambda: router.asked)
    _end_the_answer_here(engine)
    await first
    await _until(lambda: said == ["Hel"])  # begun here
    router.asked[0].set_result(True)  # beta takes it now: too late
    await _settle()
    assert not second.done()
    _end_the_answer_here(engine)
    assert (await asyncio.wait_for(second, 5)).reason == "stop"
    assert said == ["Hel"]  # nothing of beta's


async def test_a_caller_that_goes_stops_both_the_wait_here_and_the_asking() -> None:
    serving, engine, router, first = await _busy()
    router.offering = True
    second = asyncio.ensure_future(serving.generate(_request(), lambda _: None, Who.API, "b"))
    await _until(lambda: router.asked)
    second.cancel()
    await asyncio.wait({second})
    assert second.cancelled()
    assert router.asked[0].cancelled()  # the asking was stopped, not left running
    assert serving.queue().waiting == 0
    _end_the_answer_here(engine)
    await first
