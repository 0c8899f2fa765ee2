"""Turns at a model that answers several requests at once: places of the batch, the window's chat
ahead of apps that wait, a cap per client, a bounded line; and how many answers fit in memory."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hearth.core.plan import parse_plan
from hearth.core.profile import read_profile
from hearth.engine import messages as m
from hearth.engine.batch_size import answers_at_once, describe, kv_bytes_at_once
from hearth.service.serving import Queue, Serving
from hearth.service.serving_state import Loaded
from hearth.service.turns import LineFull, Turns, Who


class _Asker:
    """Requests that hold their turn until released, recording the order they got it in."""

    def __init__(self, turns: Turns) -> None:
        self.turns = turns
        self.order: list[str] = []
        self.release: dict[str, asyncio.Event] = {}

    def ask(self, name: str, who: Who, client: str = "") -> asyncio.Task[None]:
        self.release[name] = asyncio.Event()

        async def run() -> None:
            async with self.turns.turn(who, client):
                self.order.append(name)
                await self.release[name].wait()

        return asyncio.ensure_future(run())


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def test_as_many_answers_as_the_batch_holds_go_at_once_and_the_rest_wait_in_order() -> None:
    async def scenario() -> None:
        turns = Turns(at_once=3, per_client=3)
        asker = _Asker(turns)
        tasks = [asker.ask(f"api{i}", Who.API) for i in range(5)]
        await _settle()
        assert asker.order == ["api0", "api1", "api2"]
        assert (turns.answering, turns.waiting, turns.serving) == (3, 2, Who.API)
        asker.release["api1"].set()
        await _settle()
        assert asker.order == ["api0", "api1", "api2", "api3"]
        for name in ("api0", "api2", "api3", "api4"):
            asker.release[name].set()
        await asyncio.gather(*tasks)
        assert (turns.answering, turns.waiting, turns.serving) == (0, 0, None)

    asyncio.run(asyncio.wait_for(scenario(), 10))


def test_one_client_never_holds_every_place_so_the_window_gets_one_at_once() -> None:
    async def scenario() -> None:
        turns = Turns(at_once=4)  # per client: all places but one
        asker = _Asker(turns)
        tasks = [asker.ask(f"api{i}", Who.API) for i in range(5)]
        await _settle()
        assert asker.order == ["api0", "api1", "api2"] and turns.waiting == 2
        tasks.append(asker.ask("chat", Who.CHAT))
        await _settle()
        assert asker.order[-1] == "chat" and turns.serving is Who.CHAT
        # Another app is another client: it may not take the window's place, but it has a cap of its own.
        tasks.append(asker.ask("other", Who.API, client="other-app"))
        await _settle()
        assert "other" not in asker.order and turns.waiting == 3
        asker.release["chat"].set()
        await _settle()
        assert asker.order[-1] == "other"
        for event in asker.release.values():
            event.set()
        await asyncio.gather(*tasks)

    asyncio.run(asyncio.wait_for(scenario(), 10))


def test_the_windows_chat_goes_ahead_of_apps_that_wait() -> None:
    async def scenario() -> None:
        turns = Turns(at_once=1)
        asker = _Asker(turns)
        tasks = [asker.ask("api0", Who.API), asker.ask("api1", Who.API), asker.ask("api2", Who.API)]
        await _settle()
        tasks.append(asker.ask("chat", Who.CHAT))
        await _settle()
        assert asker.order == ["api0"] and turns.waiting == 3 and turns.serving is Who.API
        asker.release["api0"].set()
        await _settle()
        assert asker.order == ["api0", "chat"]
        for event in asker.release.values():
            event.set()
        await asyncio.gather(*tasks)
        assert asker.order == ["api0", "chat", "api1", "api2"]

    asyncio.run(asyncio.wait_for(scenario(), 10))


def test_the_line_is_bounded_and_a_withdrawn_turn_frees_its_place() -> None:
    async def scenario() -> None:
        turns = Turns(max_waiting=2, at_once=2, per_client=2)
        asker = _Asker(turns)
        tasks = [asker.ask(f"api{i}", Who.API) for i in range(4)]
        await _settle()
        with pytest.raises(LineFull, match="2 requests are already waiting"):
            async with turns.turn(Who.API):
                pass
        # One being answered is cancelled (its caller went away): the first waiter takes its place.
        tasks[0].cancel()
        await _settle()
        assert asker.order == ["api0", "api1", "api2"] and turns.answering == 2 and turns.waiting == 1
        # A waiter that gives up leaves the line at once.
        tasks[3].cancel()
        await _settle()
        assert turns.waiting == 0
        for event in asker.release.values():
            event.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        assert (turns.answering, turns.waiting) == (0, 0)

    asyncio.run(asyncio.wait_for(scenario(), 10))


def test_a_model_loaded_for_more_answers_lets_those_waiting_in() -> None:
    async def scenario() -> None:
        changes = 0

        def changed() -> None:
            nonlocal changes
            changes += 1

        turns = Turns(at_once=1, per_client=4, on_change=changed)
        asker = _Asker(turns)
        tasks = [asker.ask(f"api{i}", Who.API) for i in range(3)]
        await _settle()
        assert turns.answering == 1
        before = changes
        turns.at_once = 3
        await _settle()
        assert turns.answering == 3 and changes > before
        for event in asker.release.values():
            event.set()
        await asyncio.gather(*tasks)

    asyncio.run(asyncio.wait_for(scenario(), 10))


def test_answers_at_once_follow_the_memory_the_kv_cache_may_take(tiny_model: Path) -> None:
    profile = read_profile(str(tiny_model))
    one = profile.kv_bytes(4096)
    assert kv_bytes_at_once(profile, 4096, 4) == 4 * one
    assert answers_at_once(profile, 4096, 10 * one) == 4  # at most the default
    assert answers_at_once(profile, 4096, 10 * one, most=8) == 8
    assert answers_at_once(profile, 4096, 3 * one + one // 2) == 3
    assert answers_at_once(profile, 4096, one // 2) == 1
    assert answers_at_once(profile, 2048, 4 * one // 2 * 2) == 4
    assert describe(4, 4096) == "4 answers at once at 4,096 tokens each"
    assert describe(1, 512) == "1 answer at a time at 512 tokens each"


class _ManyAtOnce:
    """An engine that answers several requests at once, each until it is stopped."""

    def __init__(self) -> None:
        self.answers: dict[asyncio.Task[Any], asyncio.Future[m.Done]] = {}
        self.cancelled: list[asyncio.Task[Any] | None] = []

    @property
    def running(self) -> bool:
        return True

    async def generate(self, request: m.Generate, on_token: Callable[[m.Token], None]) -> m.Done:
        task = asyncio.current_task()
        assert task is not None
        self.answers[task] = asyncio.get_running_loop().create_future()
        on_token(m.Token(1, 0, "Hi"))
        return await self.answers[task]

    async def cancel(self, task: asyncio.Task[Any] | None = None) -> bool:
        self.cancelled.append(task)
        found = False
        for t, answer in self.answers.items():
            if (task is None or t is task) and not answer.done():
                answer.set_result(m.Done(1, "cancelled", 3, 1, 0.01, 0.0))
                found = True
        return found


def test_serving_answers_as_many_as_the_model_holds_and_stops_only_the_one_asked(tiny_model: Path) -> None:
    profile = read_profile(str(tiny_model))
    plan = parse_plan(f"host:0-{profile.block_count - 1}", profile.block_count)

    async def scenario() -> None:
        engine = _ManyAtOnce()
        serving = Serving(engine, None, None, lambda _: None)  # type: ignore[arg-type]
        loaded = m.Loaded(str(tiny_model), 256, 384, True, 0.01, parallel=3)
        serving._become(Loaded(profile, plan, 256, ("this device",), loaded))

        def ask(who: Who) -> asyncio.Task[m.Done]:
            return asyncio.ensure_future(serving.generate(m.Generate(0, prompt="Hi"), lambda _: None, who))

        api = [ask(Who.API), ask(Who.API), ask(Who.API)]
        await _settle()
        assert serving.queue() == Queue(Who.API, 1, 2, 3)  # one app holds all places but one
        chat = ask(Who.CHAT)
        await _settle()
        assert serving.queue() == Queue(Who.CHAT, 1, 3, 3)
        await serving.stop_answer(Who.CHAT, chat)
        assert (await chat).reason == "cancelled" and engine.cancelled == [chat]
        assert not any(t.done() for t in api)
        # The waiting app request is withdrawn, not stopped in the engine.
        await serving.stop_answer(Who.API, api[2])
        await _settle()
        assert api[2].cancelled() and engine.cancelled == [chat]
        await serving.stop_answer(Who.API, api[0])
        assert (await api[0]).reason == "cancelled"
        assert not api[1].done()
        await engine.cancel()
        await api[1]
        assert serving.queue() == Queue(None, 0, 0, 3)

    asyncio.run(asyncio.wait_for(scenario(), 10))


def test_holding_the_model_alone_waits_for_every_answer_and_keeps_new_ones_waiting() -> None:
    async def scenario() -> None:
        turns = Turns(at_once=2)
        ends = [asyncio.Event(), asyncio.Event()]
        log: list[str] = []

        async def answer(i: int) -> None:
            async with turns.turn(Who.API, f"app{i}"):
                log.append(f"answer {i}")
                await ends[i].wait()

        async def load() -> None:
            async with turns.alone():
                log.append("load")
                await asyncio.sleep(0.05)
                log.append("loaded")

        answers = [asyncio.ensure_future(answer(i)) for i in range(2)]
        await asyncio.sleep(0.01)
        loading = asyncio.ensure_future(load())
        await asyncio.sleep(0.01)
        late = asyncio.ensure_future(answer_late(turns, log))
        await asyncio.sleep(0.05)
        assert (
            log == ["answer 0", "answer 1"] and turns.waiting == 1
        )  # the load waits, and so does the late one
        ends[0].set()
        await asyncio.sleep(0.02)
        assert "load" not in log  # one answer is still under way
        ends[1].set()
        await asyncio.wait_for(asyncio.gather(*answers, loading, late), 5)
        assert log == ["answer 0", "answer 1", "load", "loaded", "late"]

    asyncio.run(scenario())


async def answer_late(turns: Turns, log: list[str]) -> None:
    async with turns.turn(Who.CHAT):
        log.append("late")
