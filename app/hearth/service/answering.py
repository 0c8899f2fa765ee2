"""Answers given here for paired devices' apps, whole, as this device would answer its own.

A paired device asks only when this device's telemetry offers its model with a place free, but that
word is a second old: each request is judged again as it comes. It is answered only while the user
allows it (``Donation.answers``), with a place free now (this device's own window and apps never wait
behind other devices' requests), and only when it asks within the ranges this device's own APIs allow.

The engine's own request is run through this device's own turns and its own tokens go back, so an
answer given here for another device is the answer this device gives when asked directly. A device
that leaves, or stops reading, ends its answers alone; switching answering off ends them at once.

A device with nothing loaded may also offer the models of its library (``service.loadable``): a
request for one loads it first, one such load at a time, and is taken only once it is loaded, so the
host's own line keeps the request meanwhile and answers it should its place come first.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import msgspec

from hearth.core import control
from hearth.core.errors import HearthError
from hearth.core.routing import MOST_PER_DEVICE
from hearth.engine import messages as em
from hearth.mesh.channel import ControlChannel
from hearth.service import messages as m
from hearth.service.errors import NotRouted
from hearth.service.events import Event
from hearth.service.loadable import Loadable
from hearth.service.node import Node
from hearth.service.on_demand import NotServed
from hearth.service.serving import Serving
from hearth.service.serving_state import Loaded
from hearth.service.turns import LineFull, Who

if TYPE_CHECKING:
    # Counted with the answers this device sends elsewhere: one status for both ways.
    from hearth.service.routing import RoutingStatus

log = logging.getLogger(__name__)
# How often the channel an answer goes over is checked, both here and at the host that waits for it.
CHECK_S = 2.0
# How often an answer under way says so (``Working``), between and beside its tokens: the host gives up
# on a device that goes quiet for a few of these, not only after a whole prompt's worth of waiting.
WORKING_S = 4.0
# Replies waiting to be read for one answer, and refusals waiting to be sent, before more are dropped.
MAX_PENDING = 1024
MAX_SENDING = 256
MAX_STOPS = 16
_generate = msgspec.json.Decoder(em.Generate)


@dataclass(frozen=True)
class _Unfit:
    """A request that asks what the model cannot do (tools, a schema): the app's to mend."""

    reason: str


class Answering:
    """Takes other devices' requests: ``here()`` is the model loaded here as an offer, ``offer()``
    what telemetry tells paired devices of it."""

    def __init__(
        self,
        node: Node,
        serving: Serving,
        status: RoutingStatus,
        here: Callable[[], control.Offer | None],
        offer: Callable[[], control.Offer | None],
        loadable: Loadable,
        load: Callable[[control.Ask], Awaitable[Loaded]],
    ) -> None:
        """``load(ask)``: the file ``ask`` names loaded here for another device's app (``OnDemand``)."""
        self._node = node
        self._serving = serving
        self._status = status
        self._here = here
        self._offer = offer
        self._loadable = loadable
        self._load = load
        self._loads: set[asyncio.Task[Any]] = set()  # answers that load their model first
        # The answers under way for each device, by its request ID.
        self._for: dict[str, dict[int, asyncio.Task[None]]] = {}
        self._sending: dict[str, set[asyncio.Task[None]]] = {}  # replies not yet written, by device
        # Answers stopped by a setting switched off, and what the host is told of it.
        self._switched_off: dict[asyncio.Task[Any], str] = {}
        self._unplaced: set[asyncio.Task[None]] = set()  # answers taken, not yet at their place
        node.listeners.append(self._on_event)

    def received(self, chan: ControlChannel, message: control.Ask | control.StopAsking) -> None:
        if isinstance(message, control.Ask):
            self._answer(chan, message)
        else:
            task = self._for.get(chan.peer_id, {}).get(message.request_id)
            if task is not None:
                task.cancel()

    def lost(self, dev_id: str) -> None:
        for task in self._for.pop(dev_id, {}).values():
            task.cancel()

    def send(self, chan: ControlChannel, message: control.ControlMessage) -> None:
        """Sends ``message`` without waiting for it to be written."""
        sending = self._sending.setdefault(chan.peer_id, set())
        if len(sending) >= MAX_SENDING:
            return  # a device that does not read its replies gets no more of them
        task = asyncio.ensure_future(chan.send(message))
        sending.add(task)
        task.add_done_callback(sending.discard)

    def _on_event(self, what: Event) -> None:
        # Answering other devices switched off: the answers given for them stop now, not at their end;
        # loading for them switched off: the answers still waiting for their model's load.
        if what is not Event.DONATION:
            return
        name, donation = self._node.identity.name, self._node.donation
        if not donation.answers:
            stopped = [task for answers in self._for.values() for task in answers.values()]
            why = f"{name} stopped answering other devices' apps"
        elif not donation.loads:
            stopped, why = list(self._loads), f"{name} stopped loading models for other devices' apps"
        else:
            return
        for task in stopped:
            self._switched_off[task] = why
            task.cancel()

    def _checked(self, chan: ControlChannel, ask: control.Ask) -> em.Generate | str | _Unfit:
        """The request ``ask`` carries, as this device will run it, or why it is refused (``_Unfit``:
        what it asks of the model is wrong, as this device's own API would say)."""
        name = self._node.identity.name
        if not self._node.donation.answers:
            return f"{name} does not answer other devices' apps (its Settings can allow it)"
        here = self._here()
        loading = here is None and self._loadable.has(ask.model, ask.size)
        if not loading and (here is None or not self._serves(ask)):
            return f"{name} has {here.model if here else 'no model'} loaded, not {ask.model}"
        under_way = self._for.get(chan.peer_id, {})
        if ask.request_id in under_way:
            return "that request is already being answered"
        if loading and (self._loads or under_way):
            return f"{name} is loading a model for another request"
        # Only with a place free now, within the cap every client has here: this device's own
        # window and apps never wait behind other devices' requests.
        # Answers taken a moment ago that have not reached their place yet count as taken too.
        if here is not None and (
            here.free - len(self._unplaced) <= 0
            or len(under_way) >= min(MOST_PER_DEVICE, max(1, here.at_once - 1))
        ):
            return f"{name} has no place free now"
        try:
            request = _generate.decode(ask.generate)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            return f"the request is malformed: {exc}"
        # A length of 0 is answered with no token, as this device's engine answers it.
        if (request.messages is None) == (request.prompt is None) or request.max_tokens < 0:
            return "the request is malformed: it needs messages or a prompt, and a length of 0 or more"
        if len(request.stop) > MAX_STOPS:
            return f"the request is malformed: more than {MAX_STOPS} stop texts"
        problem = em.sampling_problem(request)
        if problem is not None:
            return f"the request is malformed: {problem}"
        if request.tools:
            try:
                if not isinstance(json.loads(request.tools), list):
                    raise ValueError("not a list")
            except ValueError:
                return "the request is malformed: its tools are not a list"
        return request if loading else self._fitted(request)

    def _fitted(self, request: em.Generate) -> em.Generate | _Unfit:
        """``request`` as the model loaded here runs it, or why that model cannot."""
        model, here, name = self._serving.loaded(), self._here(), self._node.identity.name
        if model is None or here is None:
            return _Unfit(f"{name} has no model loaded")
        if request.tools and not model.renders_tools:
            return _Unfit(f"tools: the chat template of '{here.model}' on {name} has no place for tools")
        if request.json_schema and not model.holds_grammar:
            return _Unfit(f"'{here.model}' on {name} is an MLX model, which cannot be held to a schema yet")
        # Held to this model's context, as this device's own API holds its apps; an answer for
        # another device always ends where the model ends it.
        return msgspec.structs.replace(
            request, max_tokens=min(request.max_tokens, here.n_ctx), ignore_eos=False
        )

    def _answer(self, chan: ControlChannel, ask: control.Ask) -> None:
        request = self._checked(chan, ask)
        if isinstance(request, _Unfit):
            self._status.refused += 1
            self.send(
                chan, control.NotAnswered(ask.request_id, request.reason, refused=False, kind="request")
            )
            return
        if isinstance(request, str):
            self._status.refused += 1
            log.debug("refused %s's request: %s", chan.peer.name, request)
            self.send(chan, control.NotAnswered(ask.request_id, request, refused=True))
            return
        loading = self._here() is None
        task = asyncio.ensure_future(self._give(chan, ask, request, loading))
        answers = self._for.setdefault(chan.peer_id, {})
        answers[ask.request_id] = task
        self._unplaced.add(task)
        if loading:
            self._loads.add(task)
        self._status.answering += 1

        def ended(_: asyncio.Task[None]) -> None:
            self._unplaced.discard(task)
            self._loads.discard(task)
            self._status.answering -= 1
            if answers.get(ask.request_id) is task:
                del answers[ask.request_id]

        task.add_done_callback(ended)

    async def _loaded(self, ask: control.Ask, request: em.Generate) -> em.Generate | control.NotAnswered:
        """``request`` once the model it asks for is loaded here for it, or the reply that says why
        it is not (a refusal: the host answers it itself)."""
        name = self._node.identity.name
        try:
            # The load goes on should this request go away meanwhile (``Loadable`` watches it).
            await self._load(ask)
        except NotServed as exc:
            return control.NotAnswered(
                ask.request_id, f"{name} could not load {ask.model}: {exc}", refused=True
            )
        except Exception:  # a load for another device never takes this device down
            log.exception("a load for another device's app failed")
            return control.NotAnswered(
                ask.request_id, f"{name} could not load {ask.model} (its log has the details)", refused=True
            )
        fitted = self._fitted(request) if self._serves(ask) else _Unfit("")
        if isinstance(fitted, _Unfit):
            why = fitted.reason or f"{name} loaded another model meanwhile"
            return control.NotAnswered(ask.request_id, why, refused=True)
        return fitted

    async def _loaded_for(
        self, chan: ControlChannel, ask: control.Ask, request: em.Generate
    ) -> em.Generate | None:
        """``_loaded``, its refusal sent to ``chan`` (None then); switched off meanwhile, the host
        is told so."""
        try:
            ready = await self._loaded(ask, request)
        except asyncio.CancelledError:
            if (why := self._switched_off.pop(_this_task(), None)) is not None:
                self.send(chan, control.NotAnswered(ask.request_id, why, refused=True))
            raise
        if isinstance(ready, control.NotAnswered):
            self._status.refused += 1
            self.send(chan, ready)
            return None
        return ready

    async def _give(
        self, chan: ControlChannel, ask: control.Ask, request: em.Generate, loading: bool
    ) -> None:
        request_id = ask.request_id
        # Replies go out in the order they were made, by one sender, whatever the socket's pace.
        out: asyncio.Queue[control.AskMessage | None] = asyncio.Queue()
        if loading:
            # Taken only once loaded and placed: until then the request keeps its place in the host's line.
            ready = await self._loaded_for(chan, ask, request)
            if ready is None:
                return
            self._loads.discard(_this_task())
            request = ready
        said: list[bool] = []
        worked: list[float] = []  # when the answer last said it is under way; empty: not taken yet

        def placed() -> bool:
            # Taken once the answer has its place here (at once when one was free), with the model
            # it asked for: until then the host's line keeps the request.
            if not self._serves(ask):
                return False
            # A host that knows ``Working`` is told it will come (an older one would refuse it).
            out.put_nowait(control.Taken(request_id, working=ask.working))
            if ask.working:
                worked[:] = [time.monotonic()]
            return True

        async def send_all() -> None:
            while (message := await out.get()) is not None:
                await chan.send(message)

        def on_token(token: m.Token) -> None:
            said[:] = [True]
            if out.qsize() >= MAX_PENDING:
                # The host does not read what it asked for: the answer stops rather than pile up.
                answer.cancel()
                return
            out.put_nowait(control.Told(request_id, msgspec.Raw(msgspec.json.encode(token))))

        sender = asyncio.ensure_future(send_all())
        answer = asyncio.ensure_future(
            self._serving.generate(
                request,
                on_token,
                Who.API,
                client=f"device {chan.peer_id}",
                route=False,
                expect=placed,
            )
        )
        try:
            # One turn of the loop: the answer takes its place (given at once when one is free)
            # before the next request is judged by the places left.
            await asyncio.sleep(0)
            self._unplaced.discard(asyncio.current_task())
            if not await self._watched(chan, answer, lambda: _working(out, request_id, worked)):
                return
            done = answer.result()
            self._ended(chan.peer_id, request_id)
            body = msgspec.Raw(msgspec.json.encode(done))
            out.put_nowait(control.Answered(request_id, body, self._offer()))
            self._status.answered += 1
        except LineFull as exc:
            self._status.refused += 1
            out.put_nowait(control.NotAnswered(request_id, str(exc), refused=True))
        except NotRouted as exc:
            out.put_nowait(control.NotAnswered(request_id, str(exc), refused=True))
        except m.EngineError as exc:
            reason = self._serving.explain(exc)
            out.put_nowait(control.NotAnswered(request_id, reason, refused=False, kind=exc.kind))
        except HearthError as exc:
            out.put_nowait(control.NotAnswered(request_id, str(exc), refused=False))
        except asyncio.CancelledError:
            if (why := self._switched_off.get(_this_task())) is not None:
                out.put_nowait(control.NotAnswered(request_id, why, refused=not said))
            raise
        except Exception:  # an answer for another device never takes this device down
            log.exception("an answer for %s failed", chan.peer.name)
            out.put_nowait(
                control.NotAnswered(request_id, "it failed (its log has the details)", refused=False)
            )
        finally:
            try:
                if not answer.done():
                    answer.cancel()
                    await asyncio.wait({answer})
            finally:
                # Even when cancelled again meanwhile: the sender ends after what is queued.
                self._ended(chan.peer_id, request_id)
                self._switched_off.pop(_this_task(), None)
                out.put_nowait(None)
                if not answer.cancelled() and answer.done():
                    answer.exception()  # read: what it raised was answered above
            await asyncio.wait({sender})

    async def _watched(
        self, chan: ControlChannel, answer: asyncio.Future[m.Done], every: Callable[[], None]
    ) -> bool:
        """Waits for ``answer``, with ``every()`` between looks; False when ``chan`` closed first
        (the answer is this channel's: it stops then, whether or not another channel stays open)."""
        while not answer.done():
            await asyncio.wait({answer}, timeout=CHECK_S)
            if not answer.done() and chan not in self._node.peers.all_channels():
                answer.cancel()
                await asyncio.wait({answer})
                return False
            if not answer.done():
                every()
        return True

    def _serves(self, ask: control.Ask) -> bool:
        """Whether the model loaded here is the file ``ask`` is for (checked again once its place
        is given: a load between answers may have changed the model)."""
        here = self._here()
        return here is not None and (here.model, here.size) == (ask.model, ask.size)

    def _ended(self, dev_id: str, request_id: int) -> None:
        """The answer's place is free again: it no longer counts against what ``dev_id`` may ask,
        even while its last words are still being sent."""
        self._for.get(dev_id, {}).pop(request_id, None)


def _this_task() -> asyncio.Task[Any]:
    task = asyncio.current_task()
    assert task is not None  # called from the answer's own task
    return task


def _working(out: asyncio.Queue[control.AskMessage | None], request_id: int, worked: list[float]) -> None:
    """Says the answer is under way, once it was taken and ``WORKING_S`` after it last said so."""
    if worked and time.monotonic() - worked[0] >= WORKING_S:
        out.put_nowait(control.Working(request_id))
        worked[:] = [time.monotonic()]
