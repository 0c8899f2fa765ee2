"""Keeping a control channel open to every paired device: dial, hello, reconnect with back-off.

A paired device is dialled where it last proved itself (the trust store's address: where it was
paired, then wherever a channel to it last authenticated). What mDNS or the address book says is
only a suggestion, tried after that address, and it becomes the device's address only once a channel
there authenticates as that device: an advertisement that claims a paired device's ID redirects
nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable

from hearth.core import control
from hearth.mesh.channel import ChannelError, ControlChannel, dial
from hearth.mesh.identity import Identity
from hearth.mesh.trust import TrustStore

log = logging.getLogger(__name__)
BACKOFF_START_S = 0.5
BACKOFF_MAX_S = 30.0
# Suggested addresses tried per round besides the proven one.
MAX_SUGGESTIONS = 2


class Peers:
    """Open channels by device ID, and one dialer task per paired device."""

    def __init__(
        self,
        identity: Identity,
        trust: TrustStore,
        hello: Callable[[], control.Hello],
        suggestions: Callable[[str], list[str]],
        on_message: Callable[[ControlChannel, control.ControlMessage], None],
        on_disconnect: Callable[[str], None] | None = None,
        local_host: str | None = None,
    ) -> None:
        self.local_host = local_host
        self.on_disconnect = on_disconnect
        self.identity = identity
        self.trust = trust
        self.hello = hello
        self.suggestions = suggestions  # where else a device might be, unproven
        self.on_message = on_message
        self.channels: dict[str, list[ControlChannel]] = {}
        self.last_error: dict[str, str] = {}
        self._dialers: dict[str, asyncio.Task[None]] = {}
        self._wake: dict[str, asyncio.Event] = {}
        self._closing: set[asyncio.Task[None]] = set()

    def channel(self, dev_id: str) -> ControlChannel | None:
        chans = self.channels.get(dev_id)
        return chans[0] if chans else None

    def all_channels(self) -> list[ControlChannel]:
        return [c for chans in self.channels.values() for c in chans]

    async def serve(self, channel: ControlChannel) -> None:
        """Run an established channel (either direction) until it closes."""
        channel.on_message = self.on_message
        self.channels.setdefault(channel.peer_id, []).append(channel)
        self.trust.seen(channel.peer_id, name=channel.peer.name)
        self.last_error.pop(channel.peer_id, None)
        try:
            await channel.run()
        finally:
            chans = self.channels.get(channel.peer_id, [])
            if channel in chans:
                chans.remove(channel)
            if not chans:
                self.channels.pop(channel.peer_id, None)
                self.poke(channel.peer_id)
                if self.on_disconnect:
                    self.on_disconnect(channel.peer_id)

    def sync(self) -> None:
        """Match dialers to the trust store: start for new devices, stop and disconnect forgotten ones."""
        trusted = {d.device_id for d in self.trust.devices()}
        for dev_id in list(self._dialers):
            if dev_id not in trusted:
                self._dialers.pop(dev_id).cancel()
                self._wake.pop(dev_id, None)
        for dev_id in list(self.channels):
            if dev_id not in trusted:
                for chan in self.channels.pop(dev_id):
                    task = asyncio.ensure_future(chan.close(control.CLOSE_POLICY, "forgotten"))
                    self._closing.add(task)
                    task.add_done_callback(self._closing.discard)
        for dev_id in trusted:
            if dev_id not in self._dialers:
                self._wake[dev_id] = asyncio.Event()
                self._dialers[dev_id] = asyncio.ensure_future(self._dial_forever(dev_id))

    def poke(self, dev_id: str) -> None:
        """Try now (a new address, a lost channel) instead of waiting out the back-off."""
        wake = self._wake.get(dev_id)
        if wake:
            wake.set()

    def candidates(self, dev_id: str) -> list[str]:
        """Where to dial ``dev_id``: the address it last proved itself at, then a few suggestions."""
        device = self.trust.get(dev_id)
        proven = [device.address] if device is not None and device.address else []
        suggested = [a for a in self.suggestions(dev_id) if a not in proven][:MAX_SUGGESTIONS]
        return [*proven, *suggested]

    async def _dial_forever(self, dev_id: str) -> None:
        delay = BACKOFF_START_S
        wake = self._wake[dev_id]
        last_round = 0.0
        while True:
            # Woken early (new suggestions come with every advertisement), a round still waits this long.
            await asyncio.sleep(max(0.0, last_round + BACKOFF_START_S - time.monotonic()))
            last_round = time.monotonic()
            wake.clear()
            device = self.trust.get(dev_id)
            if device is None:
                return
            channel = None
            errors: list[str] = []
            if self.channel(dev_id) is None:
                for address in self.candidates(dev_id):
                    try:
                        channel = await dial(
                            address, self.identity, device.cert_pem, dev_id, self.hello(), self.local_host
                        )
                    except ChannelError as exc:
                        errors.append(str(exc))
                        log.debug("control channel to %s at %s: %s", device.name, address, exc)
                        continue
                    # Authenticated as this device: from now on this is where it is.
                    self.trust.seen(dev_id, address=address)
                    break
            if errors and channel is None:
                self.last_error[dev_id] = errors[0]  # where it proved itself last, first
            if channel is not None:
                delay = BACKOFF_START_S
                await self.serve(channel)
                continue
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay * random.uniform(0.8, 1.2)):
                    await wake.wait()
            if not wake.is_set():
                delay = min(BACKOFF_MAX_S, delay * 2)
            elif self.channel(dev_id) is not None:
                delay = BACKOFF_START_S

    async def stop(self) -> None:
        for task in self._dialers.values():
            task.cancel()
        for chan in self.all_channels():
            await chan.close(1001, "shutting down")
        self._dialers.clear()
