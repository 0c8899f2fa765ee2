"""Keeping a control channel open to every paired device: dial, hello, reconnect with back-off."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable

from hearth.core import control
from hearth.mesh.channel import ChannelError, ControlChannel, dial
from hearth.mesh.identity import Identity
from hearth.mesh.trust import TrustStore

log = logging.getLogger(__name__)
BACKOFF_START_S = 0.5
BACKOFF_MAX_S = 30.0


class Peers:
    """Open channels by device ID, and one dialer task per paired device."""

    def __init__(
        self,
        identity: Identity,
        trust: TrustStore,
        hello: Callable[[], control.Hello],
        address_of: Callable[[str], str | None],
        on_message: Callable[[ControlChannel, control.ControlMessage], None],
        on_disconnect: Callable[[str], None] | None = None,
        local_host: str | None = None,
    ) -> None:
        self.local_host = local_host
        self.on_disconnect = on_disconnect
        self.identity = identity
        self.trust = trust
        self.hello = hello
        self.address_of = address_of
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

    async def _dial_forever(self, dev_id: str) -> None:
        delay = BACKOFF_START_S
        wake = self._wake[dev_id]
        while True:
            wake.clear()
            device = self.trust.get(dev_id)
            if device is None:
                return
            address = self.address_of(dev_id) or device.address
            if self.channel(dev_id) is None and address:
                try:
                    channel = await dial(
                        address, self.identity, device.cert_pem, dev_id, self.hello(), self.local_host
                    )
                except ChannelError as exc:
                    self.last_error[dev_id] = str(exc)
                    log.debug("control channel to %s: %s", device.name, exc)
                else:
                    delay = BACKOFF_START_S
                    self.trust.seen(dev_id, address=address)
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
