"""What every HTTP API for other apps shares: a listener made from the settings and key it starts
with, restarted when they change, and the checks every request passes before its handler runs.

The OpenAI-compatible API and the Ollama API are both such listeners, on ports of their own; they
differ in their routes and in how they word an error.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import msgspec
from aiohttp import web

from hearth.service import messages as m
from hearth.service.events import Event
from hearth.service.on_demand import served_as
from hearth.service.root import Hearth
from hearth.service.status import ApiStatus
from hearth.service.storage import ApiSettings

log = logging.getLogger(__name__)
MAX_BODY = 8 * 2**20
# How long an idle connection stays open: clients that open a connection per request, or leave theirs
# idle, would otherwise pile up open sockets for an hour (aiohttp's default).
KEEPALIVE_S = 5.0
# How long closing a listener waits for the answers under way (a client that streams gets cut then).
SHUTDOWN_S = 5.0
_LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1", "[::1]"}

# How long later pieces of a streamed answer gather: the first goes at once, then the client wakes once
# per interval rather than once per token (which, on a small machine, takes a core from the model).
SEND_EVERY_S = 0.02

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Pieces = asyncio.Queue[str | m.Done | BaseException]


def json_response(data: Any) -> web.Response:
    """``data`` as a JSON answer (msgspec: structs as well as plain values)."""
    return web.Response(body=msgspec.json.encode(data), content_type="application/json")


def host_is_loopback(host_header: str) -> bool:
    host = host_header.rsplit(":", 1)[0] if host_header.count(":") == 1 else host_header
    if host.startswith("[") and "]" in host:
        host = host[1 : host.index("]")]
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def app_identity(remote: str, agent: str) -> str:
    """Which app a request comes from, as the model's turns tell apps apart: its address and the name
    its client library gives (the port differs per connection, and one app may open many). Two apps on
    one machine with the same library are one to the turns: the cap still leaves a place to the rest."""
    return f"{remote} {agent[:200]}"


def client_of(request: web.Request) -> str:
    return app_identity(request.remote or "", request.headers.get("User-Agent", ""))


# A request may name the paired device that must answer it (by name or ID), instead of wherever
# it starts soonest.
DEVICE_HEADER = "X-Hearth-Device"
# Where a request's model is found on a paired device alone, the request keeps that device here.
_ELSEWHERE = "hearth.elsewhere"


def _named(request: web.Request) -> str:
    """The device ``request`` names in its header; "": none."""
    return request.headers.get(DEVICE_HEADER, "").strip()[:200]


def device_of(request: web.Request) -> str:
    """The paired device that must answer ``request``: the one it names, or the one that alone
    offers the model it asked for; "": wherever it starts soonest."""
    return _named(request) or str(request.get(_ELSEWHERE, ""))


@dataclass(frozen=True)
class Rules:
    """What one listener lets in, fixed when it starts: settings that change who is let in
    (``ApiSettings.listens_like``) or a new key make a new listener, and until the old one is closed
    its requests are judged by its own rules (a request from the network that names 127.0.0.1 as its
    host still needs the key while LAN access is switched off)."""

    settings: ApiSettings
    key: str  # "" only where the settings need no key


class HttpApi:
    """One listener for other apps. A subclass adds its routes, says which port it takes and where
    its state is reported, and words errors in its protocol's shape."""

    name = "API for other apps"
    url_path = ""  # what a client appends to the address: "/v1" for OpenAI's clients

    def __init__(self, services: Hearth) -> None:
        self.services = services
        self._runner: web.AppRunner | None = None
        self._rules: Rules | None = None  # the running listener's
        self._started_with = services.api.settings  # what the last start was asked for
        self._port = self._port_of(services.api.settings)
        self._changing: set[asyncio.Task[None]] = set()
        self._restarting = asyncio.Lock()  # settings changed twice in a row: one restart after the other
        # While this API reports its own state: the event that report raises asks for nothing.
        self._reporting = False
        services.events.subscribe(self._on_event)

    # --- what a subclass says ---

    def _routes(self, app: web.Application) -> None:
        raise NotImplementedError

    def _port_of(self, settings: ApiSettings) -> int | None:
        """The port to listen on; None: this API is off."""
        return settings.port if settings.enabled else None

    def _publish(self, status: ApiStatus) -> None:
        self.services.api.report(status)

    def _refuse(self, status: int, message: str, code: str | None = None) -> web.Response:
        raise NotImplementedError

    # --- life cycle ---

    @property
    def key(self) -> str:
        """The key the running listener asks for; "" when it needs none or nothing listens."""
        return self._rules.key if self._rules is not None else ""

    async def start(self) -> None:
        # Under the restart lock: a settings event that arrives while this start awaits (the other
        # API's report of its own start) must find this listener started, not start a second one.
        async with self._restarting:
            await self._start()

    async def stop(self) -> None:
        async with self._restarting:
            await self._stop()

    async def _start(self) -> None:
        settings = self._started_with = self.services.api.settings
        port = self._port = self._port_of(settings)
        if port is None:
            self._report(ApiStatus())
            return
        key = (await self.services.api.key()).strip() if settings.needs_key else ""
        if settings.needs_key and not key:
            why = "there is no API key to ask for; make one in Settings → Other apps"
            log.warning("%s: %s", self.name, why)
            self._report(ApiStatus(error=why))
            return
        rules = Rules(settings, key)

        @web.middleware
        async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
            return await self._guard(rules, request, handler)

        app = web.Application(middlewares=[guard], client_max_size=MAX_BODY)
        self._routes(app)
        # A client that goes away cancels its handler, and so its answer, at once.
        runner = web.AppRunner(
            app,
            handler_cancellation=True,
            access_log=None,
            keepalive_timeout=KEEPALIVE_S,
            shutdown_timeout=SHUTDOWN_S,
        )
        await runner.setup()
        host = settings.listen_host
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError as exc:
            await runner.cleanup()
            why = f"cannot listen on {host or '*'}:{port}: {exc.strerror or exc}"
            log.warning("%s: %s", self.name, why)
            self._report(ApiStatus(error=why))
            return
        self._runner, self._rules = runner, rules
        bound = port or _bound_port(runner)
        shown = "127.0.0.1" if host is None else host
        self._report(ApiStatus(url=f"http://{_bracket(shown)}:{bound}{self.url_path}", port=bound))

    async def _stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = self._rules = None
        self._report(ApiStatus())

    def _report(self, status: ApiStatus) -> None:
        self._reporting = True
        try:
            self._publish(status)
        finally:
            self._reporting = False

    def _on_event(self, what: Event) -> None:
        # The API's own reports raise Event.API too: answered, a failed start would retry forever.
        if what is not Event.API or self._reporting:
            return
        task = asyncio.ensure_future(self._follow())
        self._changing.add(task)
        task.add_done_callback(self._changing.discard)

    async def _follow(self) -> None:
        """A listener for the settings and key as they are now: the running one if it has them,
        otherwise a new one in its place."""
        async with self._restarting:
            settings = self.services.api.settings
            if settings.listens_like(self._started_with) and self._port_of(settings) == self._port:
                rules = self._rules
                if rules is None:
                    if self._port is None:
                        return
                    # Enabled yet not listening: the last start failed (its port was taken, there was
                    # no key). The same settings applied again are a request to try again.
                elif not rules.settings.needs_key:
                    return
                # Perhaps a new key: the old one stops working at once.
                elif (await self.services.api.key()).strip() == rules.key:
                    return
            await self._stop()
            await self._start()

    # --- every request ---

    async def _guard(self, rules: Rules, request: web.Request, handler: Handler) -> web.StreamResponse:
        settings = rules.settings
        if not settings.needs_key and not host_is_loopback(request.host):
            # A web page that renamed itself to 127.0.0.1 (DNS rebinding) gets nothing.
            return self._refuse(403, "this API answers requests to 127.0.0.1 only")
        origin = request.headers.get("Origin")
        if origin is not None and origin not in settings.origins:
            return self._refuse(403, f"web pages from {origin} may not use Hearth (Settings → Other apps)")
        cors = (
            {
                "Access-Control-Allow-Origin": origin,
                "Access-Control-Allow-Headers": "Authorization, Content-Type",
                "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
                "Vary": "Origin",
            }
            if origin
            else {}
        )
        if request.method == "OPTIONS":
            return web.Response(status=204, headers=cors)
        if settings.needs_key and not secrets.compare_digest(
            request.headers.get("Authorization", "").encode(), f"Bearer {rules.key}".encode()
        ):
            return self._refuse(401, "a valid API key is needed (Settings → Other apps)", "invalid_api_key")
        if request.method == "POST" and not self._json_body(request):
            return self._refuse(415, "send the request as application/json")
        response = await handler(request)
        response.headers.update(cors)
        return response

    def _json_body(self, request: web.Request) -> bool:
        return request.content_type == "application/json"

    # --- what the loaded model can do ---

    def _served_elsewhere(self, request: web.Request, asked: str) -> tuple[str, int] | None:
        """When the model here is not ``asked`` (or none is loaded) and a paired device offers it:
        its name and context there; the request is then that device's to answer. A request that
        names another device is that device's, or refused (``DeviceRefused``): nothing is loaded
        here for it."""
        named = _named(request)
        if named and not self.services.routing.is_here(named):
            named_there = self.services.routing.named(named, asked)
            return named_there.offer.model, named_there.offer.n_ctx
        model = self.services.serving.loaded()
        if model is not None and served_as(asked, model.served_name):
            return None
        there = self.services.routing.offered(asked)
        if there is None:
            return None
        request[_ELSEWHERE] = there.device_id
        return there.offer.model, there.offer.n_ctx

    def _renders_tools(self, request: web.Request) -> bool:
        """Whether the model that answers ``request`` renders tools (one on another device: that
        device says, with the model's own error)."""
        model = self.services.serving.loaded()
        return self._answered_elsewhere(request) or (model is not None and model.renders_tools)

    def _holds_grammar(self, request: web.Request) -> bool:
        """Whether the model that answers ``request`` draws under a grammar (one on another
        device says so itself)."""
        model = self.services.serving.loaded()
        return self._answered_elsewhere(request) or (model is not None and model.holds_grammar)

    def _answered_elsewhere(self, request: web.Request) -> bool:
        """Whether ``request`` names (or was routed to) a paired device, which checks it itself."""
        device = device_of(request)
        return bool(device) and not self.services.routing.is_here(device)

    # --- answers, whole or streamed ---

    stream_headers: ClassVar[dict[str, str]] = {}  # a streamed answer's content type

    def _frame(self, data: dict[str, Any]) -> bytes:
        """One piece of a streamed answer on the wire."""
        raise NotImplementedError

    def _stream_failed(self, exc: BaseException) -> dict[str, Any]:
        """What a stream sends when the answer fails after its first piece."""
        raise NotImplementedError

    stream_end = b""  # what closes a stream after its last piece

    def _failed(self, exc: BaseException) -> web.Response:
        """An answer that failed before its first piece, as this protocol's HTTP error."""
        raise NotImplementedError

    async def _answer(
        self,
        request: web.Request,
        run: Callable[[Callable[[str], None]], Awaitable[m.Done]],
        stream: bool,
        chunk: Callable[[str], dict[str, Any] | None],
        last_chunks: Callable[[m.Done], list[dict[str, Any]]],
        whole: Callable[[str, m.Done], dict[str, Any]],
    ) -> web.StreamResponse:
        """Run an answer; errors before its first piece become HTTP errors, later ones end the stream
        with the protocol's error piece. ``chunk`` may hold text back (None), as the start of what may
        be a tool call; what it held is sent with the next piece."""
        pieces: Pieces = asyncio.Queue()

        async def produce() -> None:
            try:
                pieces.put_nowait(await run(pieces.put_nowait))
            except Exception as exc:
                pieces.put_nowait(exc)

        task = asyncio.ensure_future(produce())
        try:
            item: str | m.Done | BaseException = await pieces.get()
            if isinstance(item, BaseException):
                return self._failed(item)
            if not stream:
                parts: list[str] = []
                while isinstance(item, str):
                    parts.append(item)
                    item = await pieces.get()
                if isinstance(item, BaseException):
                    return self._failed(item)
                return json_response(whole("".join(parts), item))
            response = web.StreamResponse(headers=self.stream_headers)
            await response.prepare(request)
            text = ""
            while isinstance(item, str):
                text += item
                if pieces.empty():
                    data = chunk(text)
                    text = ""
                    if data is not None:
                        await response.write(self._frame(data))
                        await asyncio.sleep(SEND_EVERY_S)
                item = await pieces.get()
            if text and (data := chunk(text)) is not None:
                await response.write(self._frame(data))
            if isinstance(item, m.Done):
                for data in last_chunks(item):
                    await response.write(self._frame(data))
            else:
                await response.write(self._frame(self._stream_failed(item)))
            if self.stream_end:
                await response.write(self.stream_end)
            await response.write_eof()
            return response
        finally:
            if not task.done():
                # The client went away (or the handler failed): the answer stops and the model is free.
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await asyncio.shield(task)


def _bound_port(runner: web.AppRunner) -> int:
    return int(runner.addresses[0][1]) if runner.addresses else 0


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host else host
