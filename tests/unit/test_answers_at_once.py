"""How many answers a load gives at once: the planner counts each one's KV cache, a choice left to
memory takes as many as the plan's devices hold beside their weights, and loads ask for that many."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest

from hearth.api.listener import app_identity
from hearth.core.formats import ModelFormat
from hearth.core.plan import HOST, Assignment, Plan, PlanKey
from hearth.core.planner import DeviceSpec, auto_plan, predict
from hearth.core.profile import shaped_profile
from hearth.core.units import MIB
from hearth.service.errors import ServiceError
from hearth.service.planning import kv_budget, predict_at_once, short_of_slack
from hearth.service.plans import Plans
from hearth.service.serving import Queue, Serving
from hearth.service.serving_state import Idle
from hearth.service.turns import Turns, Who
from hearth.store.settings import load_answering
from hearth.ui.view import chat as chat_view
from tests.unit.test_serving import FakeEngine, FakePools, Household, NoSizing

N_CTX = 4096
# Eight layers of 10 MiB; at 4,096 tokens each answer's f16 cache is 64 MiB.
PROFILE = shaped_profile(
    [10 * MIB] * 8,
    embedding_length=512,
    feed_forward_length=1024,
    head_count=8,
    head_count_kv=8,
    vocab_size=1000,
    head_bytes=4 * MIB,
    name="small",
)
WHOLE = Plan(8, (Assignment(HOST, 0, 8),))
SPLIT = Plan(8, (Assignment(HOST, 0, 4), Assignment(PlanKey("beta"), 4, 8)))


def host(memory: int) -> DeviceSpec:
    return DeviceSpec(HOST, memory, 20e9)


def room_for(answers: int, plan: Plan = WHOLE, device: str = HOST) -> int:
    """What ``device`` needs for ``answers`` KV caches beside its weights and compute buffer, and for
    more than one answer the slack of a second compute buffer."""
    one = {
        p.device: p.memory for p in predict(PROFILE, host(1 << 40), [beta(1 << 40)], plan, N_CTX).placements
    }
    memory = one[PlanKey(device)]
    slack = memory.compute if answers > 1 else 0
    return memory.weights + memory.compute + answers * memory.kv + slack


def beta(memory: int) -> DeviceSpec:
    return DeviceSpec(PlanKey("beta"), memory, 20e9, 0.001)


def test_the_planner_counts_a_kv_cache_per_answer_and_nothing_else_more() -> None:
    one = predict(PROFILE, host(1 << 40), [], WHOLE, N_CTX)
    four = predict(PROFILE, host(1 << 40), [], WHOLE, N_CTX, at_once=4)
    assert four.at_once == 4 and one.at_once == 1
    (a,), (b,) = one.placements, four.placements
    assert a.memory.kv == PROFILE.kv_bytes(N_CTX) > 0
    assert b.memory.kv == 4 * a.memory.kv
    assert (b.memory.weights, b.memory.compute) == (a.memory.weights, a.memory.compute)
    # Room for three answers' caches: one fits, four do not, and the planner finds no plan for four.
    cap = a.memory.weights + a.memory.compute + 3 * a.memory.kv
    assert not predict(PROFILE, host(cap), [], WHOLE, N_CTX).over
    assert HOST in predict(PROFILE, host(cap), [], WHOLE, N_CTX, at_once=4).over
    auto_plan(PROFILE, host(cap), [], N_CTX, at_once=3)
    with pytest.raises(Exception, match="does not fit"):
        auto_plan(PROFILE, host(cap), [], N_CTX, at_once=4)


@pytest.mark.parametrize(("room", "expected"), [(0, 1), (1, 1), (2, 2), (3, 3), (4, 4), (9, 4)])
def test_left_to_memory_as_many_answers_as_the_room_beside_the_weights_holds(
    room: int, expected: int
) -> None:
    cap = room_for(room)
    chosen = predict_at_once(PROFILE, host(cap), [], WHOLE, N_CTX)
    assert chosen.at_once == expected
    # What memory allowed still fits, with a compute buffer's slack left beside several answers (a
    # plan that fits one answer and no more stays as it was).
    assert bool(chosen.over) == (room == 0)
    assert not short_of_slack(chosen, {HOST: cap})
    if expected > 1:
        one_more = predict(PROFILE, host(cap), [], WHOLE, N_CTX, at_once=expected + 1)
        assert expected == 4 or short_of_slack(one_more, {HOST: cap})


def test_the_device_with_the_least_room_for_its_share_of_the_cache_decides() -> None:
    host_cap, beta_cap = room_for(4, SPLIT, HOST), room_for(2, SPLIT, "beta")
    chosen = predict_at_once(PROFILE, host(host_cap), [beta(beta_cap)], SPLIT, N_CTX)
    assert chosen.at_once == 2 and not chosen.over
    room = {HOST: host_cap, "beta": beta_cap}
    one = predict(PROFILE, host(host_cap), [beta(beta_cap)], SPLIT, N_CTX)
    assert kv_budget(PROFILE, one, N_CTX, room) == 2 * PROFILE.kv_bytes(N_CTX)


def test_a_choice_is_kept_whatever_memory_says_and_mlx_answers_one_at_a_time() -> None:
    chosen = predict_at_once(PROFILE, host(room_for(1)), [], WHOLE, N_CTX, chosen=3)
    assert chosen.at_once == 3 and HOST in chosen.over  # the Planner says it does not fit
    mlx = dataclasses.replace(PROFILE, format=ModelFormat.MLX)
    assert predict_at_once(mlx, host(1 << 40), [], WHOLE, N_CTX).at_once == 1
    assert predict_at_once(mlx, host(1 << 40), [], WHOLE, N_CTX, chosen=4).at_once == 1


async def _plans() -> tuple[Plans, Serving, FakeEngine]:
    household = Household()
    engine = FakeEngine()
    serving: Serving | None = None

    async def read_profile(path: str) -> Any:
        return PROFILE

    plans = Plans(household, NoSizing(), lambda: serving.state if serving else Idle(), read_profile)
    serving = Serving(engine, FakePools(household), plans, lambda _: None)
    return plans, serving, engine


async def test_a_load_asks_for_the_answers_at_once_memory_or_the_user_chose() -> None:
    plans, serving, engine = await _plans()
    assert plans.at_once == 0  # by default, as memory allows
    await serving.load(PROFILE, WHOLE, 512)
    assert engine.loads[-1].parallel == plans.predict(PROFILE, WHOLE, 512).at_once == 4
    plans.set_at_once(2)
    assert load_answering().at_once == 2
    await serving.load(PROFILE, WHOLE, 512)
    assert engine.loads[-1].parallel == 2
    plans.set_at_once(1, save=False)  # `hearth serve --parallel 1`: this run only
    await serving.load(PROFILE, WHOLE, 512)
    assert engine.loads[-1].parallel == 1 and load_answering().at_once == 2
    with pytest.raises(ServiceError):
        plans.set_at_once(5)


async def test_the_queue_says_when_the_windows_answer_waits_and_the_chat_says_why() -> None:
    turns = Turns(at_once=2, per_client=2)
    async with turns.turn(Who.API, "app"), turns.turn(Who.API, "app"):
        assert turns.answering == 2 and not turns.chat_waiting

        async def window() -> None:
            async with turns.turn(Who.CHAT):
                pass

        waiting = asyncio.ensure_future(window())
        for _ in range(10):
            await asyncio.sleep(0)
        assert turns.chat_waiting and turns.waiting == 1
    await asyncio.wait_for(waiting, 5)
    assert not turns.chat_waiting
    said = chat_view.activity(Queue(Who.API, 1, 2, 2, True))
    assert said == chat_view.Activity(True, 1, 2, 2, this_waits=True)
    # The window's answer among others' on a model that answers several at once.
    assert chat_view.activity(Queue(Who.CHAT, 0, 3, 4)) == chat_view.Activity(False, 0, 3, 4)
    assert chat_view.activity(Queue(Who.CHAT, 0, 1, 4)) is None


def test_an_app_is_its_address_and_client_library_whatever_its_connection() -> None:
    assert app_identity("127.0.0.1", "OpenAI/Python 1.0") == app_identity("127.0.0.1", "OpenAI/Python 1.0")
    assert app_identity("127.0.0.1", "OpenAI/Python 1.0") != app_identity("127.0.0.1", "ollama-js/0.5")
    assert app_identity("127.0.0.1", "x") != app_identity("198.51.100.9", "x")
