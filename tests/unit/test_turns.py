"""Turns at the model: first come, first served; a bounded line; a withdrawn waiter leaves no trace."""

from __future__ import annotations

import asyncio

import pytest

from hearth.service.turns import LineFull, Turns, Who


def test_requests_are_answered_in_the_order_they_came_and_the_line_is_bounded() -> None:
    async def scenario() -> tuple[list[int], str, int]:
        turns = Turns(max_waiting=3)
        order: list[int] = []
        release = asyncio.Event()

        async def ask(i: int, who: Who) -> None:
            async with turns.turn(who):
                order.append(i)
                await release.wait()

        first = asyncio.create_task(ask(0, Who.CHAT))
        await asyncio.sleep(0)
        waiters = [asyncio.create_task(ask(i, Who.API)) for i in (1, 2, 3)]
        await asyncio.sleep(0)
        assert (turns.serving, turns.waiting) == (Who.CHAT, 3)
        with pytest.raises(LineFull) as full:
            async with turns.turn(Who.API):
                pass
        # A waiter that gives up leaves the line at once.
        waiters[1].cancel()
        await asyncio.sleep(0)
        left = turns.waiting
        release.set()
        await asyncio.gather(first, waiters[0], waiters[2])
        return order, str(full.value), left

    order, full, left = asyncio.run(scenario())
    assert order == [0, 1, 3]
    assert "3 requests are already waiting" in full
    assert left == 2
