"""Answers sent whole to a paired device that can start them sooner, and answers given for them.

A household may load the same model on two devices. When every place of this device's model is taken
(or the line already waits), an app's request goes to a paired device whose telemetry offers that
model with a place free, over the control channel's mutual TLS: no port is opened for it. That device
answers it as it would answer its own apps, through its own turns, and only while its user allows it
(``Donation.answers``); it re-checks at every request, since telemetry is a second old.

The host hands the engine's own request over and gets the engine's own tokens back, so an answer given
elsewhere is the answer that device gives when asked directly. A refusal before any token falls back to
answering here; a device that leaves mid-answer fails that answer alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import msgspec

from hearth.core import control
from hearth.core.errors import HearthError
from hearth.core.routing import Elsewhere, choose
from hearth.engine import messages as em
from hearth.mesh.channel import MAX_MESSAGE, ControlChannel
from hearth.service import messages as m
from hearth.service.errors import DeviceRefused, NotRouted
from hearth.service.node import Node
from hearth.service.serving import Serving
from hearth.service.turns import LineFull, Who

log = logging.getLogger(__name__)
# The most answers one paired device may have asked of this one and not yet had.
MAX_ASKED_PER_DEVICE = 8
# How long a host waits for the next word of an answer asked elsewhere (its first waits for the
# other device's line and prompt too), and how often it checks that the channel is still there.
STALL_S = 300.0
CHECK_S = 2.0
_token = msgspec.json.Decoder(em.Token)
_done = msgspec.json.Decoder(em.Done)
_generate = msgspec.json.Decoder(em.Generate)


@dataclass(eq=False)
class _Asked:
    device_id: str
    chan: ControlChannel
    replies: asyncio.Queue[control.AskMessage | None] = field(default_factory=asyncio.Queue)


@dataclass
class RoutingStatus:
    sent: int = 0  # answers this device's apps got from another device
    answered: int = 0  # answers given here for other devices' apps
    refused: int = 0  # requests of other devices refused here
    answering: int = 0  # of those, under way now


class Routing:
    def __init__(self, node: Node, serving: Serving) -> None:
        self._node = node
        self._serving = serving
        self._ids = itertools.count(1)
        self._asked: dict[int, _Asked] = {}  # as the host: answers asked of other devices
        # As the device asked: the answers under way for each device, by its request ID.
        self._for: dict[str, dict[int, asyncio.Task[None]]] = {}
        self._sending: set[asyncio.Task[None]] = set()
        self.status = RoutingStatus()
        node.answering = self
        node.offer = self.offer
        serving.router = self

    # --- what this device offers ---

    def here(self) -> control.Offer | None:
        """The model loaded here as an offer, with its places now; None while none is loaded."""
        model = self._serving.loaded()
        if model is None:
            return None
        queue = self._serving.queue()
        return control.Offer(
            model.served_name,
            model.profile.file_size,
            model.n_ctx,
            queue.at_once,
            queue.answering,
            queue.waiting,
        )

    def offer(self) -> control.Offer | None:
        """What telemetry tells paired devices: the model here, while the user lets them ask."""
        return self.here() if self._node.donation.answers else None

    def elsewhere(self) -> list[Elsewhere]:
        """Paired devices connected now that offer a model, each once."""
        found: dict[str, Elsewhere] = {}
        for chan in self._node.peers.all_channels():
            offer = chan.telemetry.answers if chan.telemetry is not None else None
            if offer is not None:
                found[chan.peer_id] = Elsewhere(chan.peer_id, chan.peer.name, offer)
        return list(found.values())

    def place(self) -> Elsewhere | None:
        """Where the next app request should go; None: here."""
        asked: dict[str, int] = {}
        for a in self._asked.values():
            asked[a.device_id] = asked.get(a.device_id, 0) + 1
        return choose(self.here(), self.elsewhere(), asked)

    def device(self, name: str) -> str | None:
        """The ID of the connected paired device named ``name`` (by name or ID); None: this one."""
        if name in (self._node.identity.name, self._node.identity.device_id):
            return None
        found = {c.peer_id for c in self._node.peers.all_channels() if name in (c.peer.name, c.peer_id)}
        if len(found) != 1:
            why = "no connected paired device" if not found else f"{len(found)} connected paired devices"
            raise DeviceRefused(f"{why} is called '{name}'")
        return found.pop()

    # --- as the host ---

    async def ask(self, device_id: str, request: m.Generate, on_token: Callable[[m.Token], None]) -> m.Done:
        """Have ``device_id`` answer ``request`` with the model loaded here. ``NotRouted`` when it
        does not take it (nothing was said); a failure after the first token is that answer's."""
        here = self.here()
        chan = self._node.peers.channel(device_id)
        if here is None:
            raise NotRouted("no model is loaded here, so no other device can be asked for it")
        if chan is None:
            raise NotRouted("that device is not connected")
        body = msgspec.json.encode(request)
        if len(body) > MAX_MESSAGE // 2:
            raise NotRouted("the request is too long to send to another device")
        request_id = next(self._ids)
        asked = _Asked(device_id, chan)
        self._asked[request_id] = asked
        told = False
        name = chan.peer.name
        try:
            await chan.send(control.Ask(request_id, here.model, here.size, msgspec.Raw(body)))
            waited = 0.0
            while True:
                try:
                    async with asyncio.timeout(CHECK_S):
                        reply = await asked.replies.get()
                except TimeoutError:
                    waited += CHECK_S
                    if chan not in self._node.peers.all_channels():
                        reply = None
                    elif waited < STALL_S:
                        continue
                    else:
                        raise m.EngineError(f"{name} said nothing for {STALL_S:.0f} s") from None
                waited = 0.0
                if reply is None:
                    if not told:
                        raise NotRouted(f"{name} left before it answered")
                    raise m.EngineError(f"{name}, which was answering, left in the middle of the answer")
                if isinstance(reply, control.Told):
                    told = True
                    on_token(_token.decode(reply.token))
                elif isinstance(reply, control.Answered):
                    self.status.sent += 1
                    return _done.decode(reply.done)
                elif isinstance(reply, control.NotAnswered):
                    if reply.refused and not told:
                        raise NotRouted(f"{name} did not take it: {reply.reason}")
                    raise m.EngineError(f"{name} could not answer: {reply.reason}")
        except asyncio.CancelledError:
            await chan.send(control.StopAsking(request_id))
            raise
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            await chan.send(control.StopAsking(request_id))
            raise m.EngineError(f"{name} sent a malformed answer: {exc}") from None
        finally:
            self._asked.pop(request_id, None)

    # --- the channel's messages, both ways ---

    def received(self, chan: ControlChannel, message: control.AskMessage) -> None:
        if isinstance(message, control.Ask):
            self._answer(chan, message)
        elif isinstance(message, control.StopAsking):
            task = self._for.get(chan.peer_id, {}).get(message.request_id)
            if task is not None:
                task.cancel()
        else:
            asked = self._asked.get(message.request_id)
            # Only the device asked may answer; anything else is dropped.
            if asked is not None and asked.device_id == chan.peer_id:
                asked.replies.put_nowait(message)

    def lost(self, dev_id: str) -> None:
        for asked in self._asked.values():
            if asked.device_id == dev_id:
                asked.replies.put_nowait(None)
        for task in self._for.pop(dev_id, {}).values():
            task.cancel()

    # --- as the device asked ---

    def _checked(self, chan: ControlChannel, ask: control.Ask) -> em.Generate | str:
        """The request ``ask`` carries, as this device will run it, or why it is refused."""
        name = self._node.identity.name
        if not self._node.donation.answers:
            return f"{name} does not answer other devices' apps (its Settings can allow it)"
        here = self.here()
        if here is None or (here.model, here.size) != (ask.model, ask.size):
            return f"{name} has {here.model if here else 'no model'} loaded, not {ask.model}"
        under_way = self._for.get(chan.peer_id, {})
        if len(under_way) >= MAX_ASKED_PER_DEVICE or ask.request_id in under_way:
            return f"{name} already answers {len(under_way)} requests of {chan.peer.name}"
        try:
            request = _generate.decode(ask.generate)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            return f"the request is malformed: {exc}"
        if (request.messages is None) == (request.prompt is None) or request.max_tokens < 1:
            return "the request is malformed: it needs messages or a prompt, and a length"
        # Held to this model's context, as this device's own API holds its apps.
        return msgspec.structs.replace(request, max_tokens=min(request.max_tokens, here.n_ctx))

    def _answer(self, chan: ControlChannel, ask: control.Ask) -> None:
        request = self._checked(chan, ask)
        if isinstance(request, str):
            self.status.refused += 1
            log.info("refused %s's request: %s", chan.peer.name, request)
            self._send(chan, control.NotAnswered(ask.request_id, request, refused=True))
            return
        task = asyncio.ensure_future(self._give(chan, ask.request_id, request))
        answers = self._for.setdefault(chan.peer_id, {})
        answers[ask.request_id] = task
        self.status.answering += 1

        def ended(_: asyncio.Task[None]) -> None:
            self.status.answering -= 1
            if answers.get(ask.request_id) is task:
                del answers[ask.request_id]

        task.add_done_callback(ended)

    async def _give(self, chan: ControlChannel, request_id: int, request: em.Generate) -> None:
        # Tokens go out in the order they were made, by one sender, whatever the socket's pace.
        out: asyncio.Queue[control.AskMessage | None] = asyncio.Queue()

        async def send_all() -> None:
            while (message := await out.get()) is not None:
                await chan.send(message)

        def on_token(token: m.Token) -> None:
            out.put_nowait(control.Told(request_id, msgspec.Raw(msgspec.json.encode(token))))

        sender = asyncio.ensure_future(send_all())
        try:
            done = await self._serving.generate(
                request, on_token, Who.API, client=f"device {chan.peer_id}", route=False
            )
            out.put_nowait(control.Answered(request_id, msgspec.Raw(msgspec.json.encode(done))))
            self.status.answered += 1
        except LineFull as exc:
            out.put_nowait(control.NotAnswered(request_id, str(exc), refused=True))
        except HearthError as exc:
            out.put_nowait(control.NotAnswered(request_id, self._serving.explain(exc), refused=False))
        finally:
            out.put_nowait(None)
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(sender)

    def _send(self, chan: ControlChannel, message: control.ControlMessage) -> None:
        task = asyncio.ensure_future(chan.send(message))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)
