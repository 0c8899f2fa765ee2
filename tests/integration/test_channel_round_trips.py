"""A control channel's round trip is the median of its recent pings: one ping that lands while the
other device is busy does not price every pooled token as if the network were slow. A link whose
round trips vary prices each hop above that median, by the pings' spread below it."""

from __future__ import annotations

import asyncio
import threading
import time

from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve

from hearth.core import control
from hearth.mesh.channel import ROUND_TRIPS, ControlChannel

PING_S = 0.2
STALL_S = 0.12  # less than an interval, so that a slow ping's value stands until the next ping
SLOW_S = STALL_S / 2
STALLS = 12


def _other_device(
    ready: threading.Event, port: list[int], stall: threading.Event, done: threading.Event
) -> None:
    """A websockets server on its own loop, in its own thread: its loop can be stalled, as a busy
    device's would be, while a ping waits for its pong."""

    async def main() -> None:
        async def drain(ws: ServerConnection) -> None:
            async for _ in ws:
                pass

        async with serve(drain, "127.0.0.1", 0, ping_interval=None) as server:
            port.append(server.sockets[0].getsockname()[1])
            ready.set()
            deadline = time.monotonic() + 60
            while not done.is_set() and time.monotonic() < deadline:
                if stall.is_set():
                    time.sleep(STALL_S)  # noqa: ASYNC251 - the whole loop busy, as a busy device: no pong goes out
                    stall.clear()
                await asyncio.sleep(0.005)

    asyncio.run(main())


async def _slow_ping(ws: object, stall: threading.Event) -> float | None:
    """Stall the other device until one ping's round trip shows it (a stall may fall between pings)."""
    for _ in range(STALLS):
        stall.set()
        until = time.monotonic() + 2 * PING_S + STALL_S
        while time.monotonic() < until:
            await asyncio.sleep(0.005)
            latency: float = ws.latency  # type: ignore[attr-defined]
            if latency >= SLOW_S:
                return latency
    return None


def test_a_link_whose_round_trips_vary_prices_a_hop_above_the_median_ping() -> None:
    from benchmarks._links import PROFILES, Relay

    wifi = PROFILES["wifi"]  # 4 ms +- 2 ms: a ping's round trip is anything from 2 to 6 ms
    ready, stall, done = threading.Event(), threading.Event(), threading.Event()
    port: list[int] = []
    thread = threading.Thread(target=_other_device, args=(ready, port, stall, done), daemon=True)
    thread.start()
    assert ready.wait(10)
    relay = Relay(wifi, ("127.0.0.1", 0), ("127.0.0.1", port[0]))

    async def scenario() -> tuple[float | None, float | None]:
        ws = await connect(f"ws://127.0.0.1:{relay.port}", ping_interval=PING_S, ping_timeout=5)
        hello = control.Hello(control.PROTOCOL_VERSION, "test", "test", "a" * 16, "here")
        chan = ControlChannel(ws, control.ControlSession(hello, "b" * 16))
        run = asyncio.create_task(chan.run())
        try:
            await asyncio.sleep(PING_S * (ROUND_TRIPS + 2))
            return chan.latency_ms, chan.hop_ms
        finally:
            await ws.close()
            await run

    try:
        median, hop = asyncio.run(scenario())
    finally:
        relay.close()
        done.set()
        thread.join(10)
    assert median is not None and hop is not None
    assert 2.0 <= median < 6.0 + 20, median
    # Pings that vary by up to 2 ms either way spread below their median (``hop_s`` has the exact rule).
    assert median < hop < 2 * (wifi.rtt_s + wifi.jitter_s) * 1000 + 40, (median, hop)


def test_one_slow_ping_does_not_become_the_channels_round_trip() -> None:
    ready, stall, done = threading.Event(), threading.Event(), threading.Event()
    port: list[int] = []
    thread = threading.Thread(target=_other_device, args=(ready, port, stall, done), daemon=True)
    thread.start()
    assert ready.wait(10)

    async def scenario() -> tuple[float | None, float | None, float | None]:
        ws = await connect(f"ws://127.0.0.1:{port[0]}", ping_interval=PING_S, ping_timeout=5)
        hello = control.Hello(control.PROTOCOL_VERSION, "test", "test", "a" * 16, "here")
        chan = ControlChannel(ws, control.ControlSession(hello, "b" * 16))
        run = asyncio.create_task(chan.run())
        try:
            # Enough pings for a median before the slow one.
            await asyncio.sleep(PING_S * (ROUND_TRIPS // 2 + 2))
            before = chan.latency_ms
            slow = await _slow_ping(ws, stall)
            return before, slow, chan.latency_ms
        finally:
            await ws.close()
            await run

    try:
        before, slow, after = asyncio.run(scenario())
    finally:
        done.set()
        thread.join(10)
    assert slow is not None, "no ping waited for the stalled device"
    assert before is not None and after is not None
    # websockets' own latency, which the channel reported before, is the slow ping's now.
    assert after < slow * 1000 / 4, (before, after, slow)
    assert after < before * 3 + 20, (before, after)
