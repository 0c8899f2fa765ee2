"""Answers sent whole to a paired device that can start them sooner.

A household may load the same model on two devices. When every place of this device's model is taken
(or the line already waits), an app's request goes to a paired device whose telemetry offers that
model with a place free, over the control channel's mutual TLS: no port is opened for it. That device
answers it as it would answer its own apps (``service.answering``), only while its user allows it.
A paired device with nothing loaded that holds the same file is asked only when no device offers a
place: it loads the model first, and the request keeps its place here until that device takes it.

The host hands the engine's own request over and gets the engine's own tokens back, so an answer given
elsewhere is the answer that device gives when asked directly. A refusal before any token falls back to
answering here; a device that leaves mid-answer fails that answer alone. What comes back is held to
what was asked: the other device is trusted with the answer, not with this device's bounds.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import msgspec

from hearth.core import control
from hearth.core.routing import (
    MOST_LOADABLE,
    Elsewhere,
    Patience,
    RanOut,
    believable,
    choose,
    choose_idle,
    places,
    sane,
)
from hearth.engine import messages as em
from hearth.engine.errors import BadRequest
from hearth.mesh.channel import MAX_MESSAGE, ControlChannel
from hearth.service import messages as m
from hearth.service.answering import CHECK_S, MAX_PENDING, WORKING_S, Answering
from hearth.service.errors import DeviceRefused, NotRouted
from hearth.service.loadable import Loadable
from hearth.service.node import Node
from hearth.service.on_demand import served_as
from hearth.service.serving import Serving
from hearth.service.serving_state import Loaded
from hearth.store.settings import ApiSettings

# How long a host waits for the device asked to take an answer (it takes one only with a place free,
# so it says so at once); then for any word of it (a token, or ``Working`` every ``WORKING_S``), and at
# most for its next token (a long prompt read on a slow device); it checks the channel every ``CHECK_S``.
TAKE_S = 15.0
QUIET_S = 5 * WORKING_S
STALL_S = 120.0
# How long a device with nothing loaded may take to load the model before it takes the request
# (the request waits in the line here meanwhile, and is answered here should its place come first).
LOAD_TAKE_S = 300.0
# Telemetry older than this is not trusted to offer a place (it comes every second).
FRESH_S = 5.0
# What an answer from elsewhere may bring beyond what was asked: a few tokens, and text per token.
EXTRA_TOKENS = 8
TEXT_PER_TOKEN = 256
_token = msgspec.json.Decoder(em.Token)
_done = msgspec.json.Decoder(em.Done)
_FAILURES: dict[str, type[m.EngineError]] = {"request": BadRequest, "context": m.PromptTooLong}


@dataclass(eq=False)
class _Asked:
    device_id: str
    chan: ControlChannel
    replies: asyncio.Queue[control.AskMessage | None] = field(default_factory=asyncio.Queue)
    overflow: bool = False


@dataclass
class RoutingStatus:
    sent: int = 0  # answers this device's apps got from another device
    answered: int = 0  # answers given here for other devices' apps
    refused: int = 0  # requests of other devices refused here
    answering: int = 0  # of those, under way now


class Routing:
    def __init__(
        self,
        node: Node,
        serving: Serving,
        api_settings: Callable[[], ApiSettings],
        loadable: Loadable,
        load: Callable[[control.Ask], Awaitable[Loaded]],
    ) -> None:
        """``loadable`` and ``load``: the models this device would load for another device's app
        while nothing is loaded here, and how one is loaded for it."""
        self._node = node
        self._serving = serving
        self._api_settings = api_settings
        self._ids = itertools.count(1)
        self._asked: dict[int, _Asked] = {}  # as the host: answers asked of other devices
        # As the host: the offer each device sent with its last answer, and when it came.
        self._told: dict[str, tuple[float, control.Offer | None]] = {}
        self._refused_at: dict[str, float] = {}  # when each device last refused an answer
        self.status = RoutingStatus()
        node.answering = self
        node.offer = self.offer
        node.loadable = loadable.offers
        # As the device asked: answers given here; its sender also carries the host's stops, so that
        # both ways share one bound on what waits to be written to a device.
        self._answering = Answering(node, serving, self.status, self.here, self.offer, loadable, load)
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

    def _channels(self) -> dict[str, ControlChannel]:
        """Each connected paired device's channel with the newest telemetry."""
        newest: dict[str, ControlChannel] = {}
        for chan in self._node.peers.all_channels():
            best = newest.get(chan.peer_id)
            if best is None or chan.telemetry_at > best.telemetry_at:
                newest[chan.peer_id] = chan
        return newest

    def elsewhere(self) -> list[Elsewhere]:
        """Paired devices connected now that offer a model, each once, as their newest word (their
        telemetry, or the offer that came with the last answer they gave) says, if it is fresh."""
        now = time.monotonic()
        found = []
        for dev_id, chan in self._channels().items():
            said_at, offer = chan.telemetry_at, chan.telemetry.answers if chan.telemetry else None
            told = self._told.get(dev_id)
            if told is not None and told[0] > said_at:
                said_at, offer = told
            # A refusal is newer word than the offer it answered: the offer waits for the next one.
            if offer is not None and now - said_at < FRESH_S and self._refused_at.get(dev_id, 0) < said_at:
                if sane(offer):
                    # Loaded, whatever it says: only ``idle`` offers wait for a load.
                    offer = msgspec.structs.replace(believable(offer), loaded=True)
                    found.append(Elsewhere(dev_id, chan.peer.name, offer))
        return found

    def idle(self) -> list[Elsewhere]:
        """What connected paired devices with nothing loaded would load for a request, as their
        fresh telemetry offers it, each model once per device; none while this device's Settings
        send nothing elsewhere."""
        if not self._api_settings().send_to_devices:
            return []
        now = time.monotonic()
        found = []
        for dev_id, chan in self._channels().items():
            said = chan.telemetry
            if said is None or now - chan.telemetry_at >= FRESH_S:
                continue
            if self._refused_at.get(dev_id, 0) >= chan.telemetry_at:
                continue
            files = {(o.model, o.size): o for o in said.loadable[:MOST_LOADABLE] if sane(o)}
            for offer in files.values():
                offer = msgspec.structs.replace(
                    believable(offer), loaded=False, at_once=1, answering=0, waiting=0
                )
                found.append(Elsewhere(dev_id, chan.peer.name, offer))
        return found

    def sendable(self) -> list[Elsewhere]:
        """The offers this device may send its apps' requests to: ``elsewhere`` while its Settings
        allow sending, else none."""
        return self.elsewhere() if self._api_settings().send_to_devices else []

    def place(self) -> Elsewhere | None:
        """Where the next app request should go; None: here."""
        others, idle = self.sendable(), self.idle()
        asked = {e.device_id: self._asked_of(e.device_id) for e in others + idle}
        return choose(self.here(), others, asked) or choose_idle(self.here(), idle, asked)

    def device(self, name: str) -> str | None:
        """The ID of the connected paired device named ``name`` (by name or ID) that answers other
        devices' apps now; None: this one. ``DeviceRefused`` says why there is none."""
        if self.is_here(name):
            return None
        channels = self._channels()
        if self._node.trust.get(name) is not None or name in channels:
            # A paired device's ID names that device alone, never one whose name looks like it.
            found = {i: c for i, c in channels.items() if i == name}
        else:
            # A name is the one device's only while no other paired device, connected or not, has
            # it: a paired device that takes another's name makes the name ambiguous, not its own.
            named = {d.device_id for d in self._node.trust.devices() if d.name == name}
            found = {i: c for i, c in channels.items() if c.peer.name == name}
            if len(named | found.keys()) > 1:
                raise DeviceRefused(
                    f"{len(named | found.keys())} paired devices are called '{name}': name one by its ID"
                )
        if len(found) != 1:
            why = "no connected paired device" if not found else f"{len(found)} connected paired devices"
            raise DeviceRefused(f"{why} is called '{name}'")
        dev_id, chan = found.popitem()
        if not self._api_settings().send_to_devices:
            raise DeviceRefused("this device's Settings do not send apps' requests to other devices")
        if chan.telemetry is None or (chan.telemetry.answers is None and not chan.telemetry.loadable):
            raise DeviceRefused(
                f"{chan.peer.name} answers no other device's apps now: it has no model loaded, "
                "or its Settings do not allow it"
            )
        return dev_id

    # --- as the host ---

    def named(self, name: str, asked: str) -> Elsewhere:
        """The paired device ``name`` names, offering the model an app names ``asked``;
        ``DeviceRefused`` says why it cannot answer it."""
        dev_id = self.device(name)
        offers = [e for e in self.elsewhere() + self.idle() if e.device_id == dev_id]
        if dev_id is None or not offers:
            raise DeviceRefused(f"'{name}' offers no model to other devices' apps now")
        there = next((e for e in offers if served_as(asked, e.offer.model)), None)
        if there is None:
            how = "answers with" if offers[0].offer.loaded else "would load"
            has = ", ".join(e.offer.model for e in offers[:4])
            raise DeviceRefused(f"{offers[0].name} {how} {has}, not {asked}")
        return there

    def offered(self, asked: str) -> Elsewhere | None:
        """A paired device that offers the model an app names ``asked``, the one with most places
        free first; None when none does (or this device's Settings send nothing elsewhere)."""
        if not asked:
            return None
        found = [e for e in self.sendable() if e.offer.model and served_as(asked, e.offer.model)]
        return max(found, key=lambda e: places(e.offer, self._asked_of(e.device_id)), default=None)

    def is_here(self, name: str) -> bool:
        """Whether ``name`` (a device's name or ID, as a request names it) is this device."""
        return name in (self._node.identity.name, self._node.identity.device_id)

    def _asked_of(self, device_id: str) -> int:
        return sum(a.device_id == device_id for a in self._asked.values())

    def _model_for(self, device_id: str, model: str) -> control.Offer:
        """What to ask ``device_id`` for: the model the app named (``model``) as it offers it, or
        the model loaded here; ``NotRouted`` when it offers neither."""
        here = self.here()
        offers = [e.offer for e in self.elsewhere() + self.idle() if e.device_id == device_id]
        there = next((o for o in offers if model and served_as(model, o.model)), None)
        if there is not None:
            return there
        if here is not None and (not model or served_as(model, here.model)):
            # As it offers this file: loaded, or to be loaded for the request.
            return next((o for o in offers if (o.model, o.size) == (here.model, here.size)), here)
        raise NotRouted(f"that device does not offer {model or 'the model loaded here'}")

    async def ask(
        self,
        device_id: str,
        request: m.Generate,
        on_token: Callable[[m.Token], None],
        model: str = "",
        on_taken: Callable[[], bool] | None = None,
    ) -> m.Done:
        """Have ``device_id`` answer ``request`` with the model an app named (``model``; "": the
        one loaded here). ``on_taken()`` is asked once the device takes it; False stops it there.
        ``NotRouted`` when it does not take it (nothing was said) or ``on_taken`` declined; a
        failure after it took it is that answer's."""
        chan = self._channels().get(device_id)
        if chan is None:
            raise NotRouted("that device is not connected")
        here = self._model_for(device_id, model)
        body = msgspec.json.encode(request)
        if len(body) > MAX_MESSAGE // 2:
            raise NotRouted("the request is too long to send to another device")
        request_id = next(self._ids)
        asked = _Asked(device_id, chan)
        self._asked[request_id] = asked
        name = chan.peer.name
        ended = False
        most_tokens = request.max_tokens + EXTRA_TOKENS
        counted = _Counted(most_tokens)
        try:
            # A device that loads the file for it loads this device's context for it (or longer).
            mine = self.here()
            n_ctx = mine.n_ctx if mine and (mine.model, mine.size) == (here.model, here.size) else 0
            ask = control.Ask(request_id, here.model, here.size, msgspec.Raw(body), n_ctx, working=True)
            await chan.send(ask)
            take_s = TAKE_S if here.loaded else LOAD_TAKE_S
            patience = Patience(take_s, QUIET_S, STALL_S, time.monotonic())
            while True:
                now = time.monotonic()
                if (out_of := patience.ran_out(now)) is not None:
                    raise _gave_up(name, out_of, take_s)
                try:
                    async with asyncio.timeout(min(CHECK_S, patience.left(now))):
                        reply = await asked.replies.get()
                except TimeoutError:
                    if chan in self._node.peers.all_channels():
                        continue
                    reply = None
                if asked.overflow:
                    raise m.EngineError(f"{name} sent more than this device could read")
                if reply is None:
                    if not patience.taken:
                        raise NotRouted(f"{name} left before it answered")
                    raise m.EngineError(f"{name}, which was answering, left in the middle of the answer")
                # One Taken counts: after it, Taken or Working only say the device is still there,
                # and only a token is progress (a device that keeps saying so gains no more time).
                if isinstance(reply, control.Taken | control.Told) and not patience.taken:
                    patience.take(time.monotonic(), isinstance(reply, control.Taken) and reply.working)
                    if on_taken is not None and not on_taken():
                        raise NotRouted(f"answered here before {name} began")
                elif isinstance(reply, control.Taken | control.Working):
                    patience.word(time.monotonic())
                if isinstance(reply, control.Told):
                    token = _token.decode(reply.token)
                    if not counted.add(token, patience):
                        raise m.EngineError(
                            f"{name} sent more than the {request.max_tokens} tokens asked for"
                        )
                    on_token(token)
                elif isinstance(reply, control.Answered):
                    ended = True
                    self.status.sent += 1
                    self._told[device_id] = (time.monotonic(), reply.offer)
                    return _bounded(_done.decode(reply.done), most_tokens)
                elif isinstance(reply, control.NotAnswered):
                    ended = True
                    if reply.refused and not patience.taken:
                        self._refused_at[device_id] = time.monotonic()
                        raise NotRouted(f"{name} did not take it: {reply.reason}")
                    raise _FAILURES.get(reply.kind, m.EngineError)(f"{name} could not answer: {reply.reason}")
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise m.EngineError(f"{name} sent a malformed answer: {exc}") from None
        finally:
            self._asked.pop(request_id, None)
            if not ended:
                # Left for whatever reason (the app went, a stall, a bad reply): the other device stops.
                self._answering.send(chan, control.StopAsking(request_id))

    # --- the channel's messages, both ways ---

    def received(self, chan: ControlChannel, message: control.AskMessage) -> None:
        if isinstance(message, control.Ask | control.StopAsking):
            self._answering.received(chan, message)
        else:
            asked = self._asked.get(message.request_id)
            # Only the device asked may answer; anything else is dropped.
            if asked is None or asked.device_id != chan.peer_id:
                return
            if asked.replies.qsize() >= MAX_PENDING:
                asked.overflow = True
                asked.replies.put_nowait(None)  # wakes the reader, which then sees the overflow
                return
            asked.replies.put_nowait(message)

    def lost(self, dev_id: str) -> None:
        for asked in self._asked.values():
            if asked.device_id == dev_id:
                asked.replies.put_nowait(None)
        self._answering.lost(dev_id)
        self._told.pop(dev_id, None)
        self._refused_at.pop(dev_id, None)


@dataclass
class _Counted:
    """What an answer from elsewhere has brought so far, against what can be true of it."""

    most_tokens: int
    tokens: int = 0
    text: int = 0
    words: int = 0  # every ``Told``, empty ones too

    def add(self, token: em.Token, patience: Patience) -> bool:
        """Counts ``token`` (only a token, or text, is progress: an empty word only says the device is
        still there); False once the answer brought more than was asked."""
        self.words += 1
        self.tokens += token.id >= 0
        self.text += len(token.text)
        (patience.token if token.id >= 0 or token.text else patience.word)(time.monotonic())
        most = self.most_tokens
        return self.tokens <= most and self.text <= most * TEXT_PER_TOKEN and self.words <= 2 * most


def _gave_up(name: str, out_of: RanOut, take_s: float) -> Exception:
    if out_of is RanOut.TAKE:
        return NotRouted(f"{name} did not take it in {take_s:.0f} s")
    if out_of is RanOut.STALL:
        return m.EngineError(f"{name} sent no token of the answer for {STALL_S:.0f} s")
    return m.EngineError(f"{name} said nothing of the answer for {QUIET_S:.0f} s")


def _bounded(done: m.Done, most_tokens: int) -> m.Done:
    """``done`` from another device, with its counts and times held to what can be true."""

    def count(n: int) -> int:
        return max(0, min(n, 1 << 30))

    def seconds(s: float) -> float:
        return max(0.0, min(s, 1e6)) if s == s else 0.0

    return msgspec.structs.replace(
        done,
        prompt_tokens=count(done.prompt_tokens),
        completion_tokens=max(0, min(done.completion_tokens, most_tokens)),
        ttft_s=seconds(done.ttft_s),
        decode_s=seconds(done.decode_s),
        drafted=count(done.drafted),
        accepted=max(0, min(done.accepted, count(done.drafted))),
        guess_passes=count(done.guess_passes),
    )
