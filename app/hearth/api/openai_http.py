"""The OpenAI-compatible HTTP API other apps use: the loaded model, served through the service.

It runs on the app's own event loop (aiohttp), answers from whatever model the service has loaded
(local or pooled) and takes turns at it with the window's chat. By default it listens on 127.0.0.1
only and needs no key; open to the network, every request needs the key.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import msgspec
from aiohttp import web

from hearth.api import openai_messages as oai
from hearth.service import messages as m
from hearth.service.events import Event
from hearth.service.messages import EngineError, PromptTooLong
from hearth.service.root import Hearth
from hearth.service.status import ApiStatus
from hearth.service.storage import ApiSettings
from hearth.service.turns import LineFull, Who

log = logging.getLogger(__name__)
MAX_BODY = 8 * 2**20
# How long an idle connection stays open: clients that open a connection per request, or leave theirs
# idle, would otherwise pile up open sockets for an hour (aiohttp's default).
KEEPALIVE_S = 5.0
# How long closing a listener waits for the answers under way (a client that streams gets cut then).
SHUTDOWN_S = 5.0
RETRY_AFTER_S = 2
SEND_EVERY_S = 0.02
_SSE_HEADERS = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
_LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1", "[::1]"}

Pieces = asyncio.Queue[str | m.Done | BaseException]


def _error(status: int, message: str, kind: str, code: str | None = None, **headers: str) -> web.Response:
    body = oai.ErrorAnswer(oai.ErrorBody(message, kind, None, code))
    return web.Response(
        status=status, body=msgspec.json.encode(body), content_type="application/json", headers=headers
    )


def _json(data: Any) -> web.Response:
    return web.Response(body=msgspec.json.encode(data), content_type="application/json")


def _host_is_loopback(host_header: str) -> bool:
    host = host_header.rsplit(":", 1)[0] if host_header.count(":") == 1 else host_header
    if host.startswith("[") and "]" in host:
        host = host[1 : host.index("]")]
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class _Rules:
    """What one listener lets in, fixed when it starts: changed settings or a new key make a new
    listener, and until the old one is closed its requests are judged by its own rules (a request from
    the network that names 127.0.0.1 as its host still needs the key while LAN access is switched off)."""

    settings: ApiSettings
    key: str  # "" only where the settings need no key


class OpenAiApi:
    def __init__(self, services: Hearth) -> None:
        self.services = services
        self._runner: web.AppRunner | None = None
        self._rules: _Rules | None = None  # the running listener's
        self._started_with = services.api.settings  # what the last start was asked for
        self._changing: set[asyncio.Task[None]] = set()
        self._restarting = asyncio.Lock()  # settings changed twice in a row: one restart after the other
        # While this API reports its own state: the event that report raises asks for nothing.
        self._reporting = False
        services.events.subscribe(self._on_event)

    @property
    def key(self) -> str:
        """The key the running listener asks for; "" when it needs none or nothing listens."""
        return self._rules.key if self._rules is not None else ""

    # --- life cycle ---

    async def start(self) -> None:
        settings = self._started_with = self.services.api.settings
        if not settings.enabled:
            self._report(ApiStatus())
            return
        key = (await self.services.api.key()).strip() if settings.needs_key else ""
        if settings.needs_key and not key:
            why = "there is no API key to ask for; make one in Settings → Other apps"
            log.warning("API for other apps: %s", why)
            self._report(ApiStatus(error=why))
            return
        rules = _Rules(settings, key)

        @web.middleware
        async def guard(
            request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
        ) -> web.StreamResponse:
            return await self._guard(rules, request, handler)

        app = web.Application(middlewares=[guard], client_max_size=MAX_BODY)
        app.router.add_get("/health", self._health)
        app.router.add_get("/v1/models", self._models)
        app.router.add_get("/v1/models/{model}", self._model)
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/v1/completions", self._completions)
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
            await web.TCPSite(runner, host, settings.port).start()
        except OSError as exc:
            await runner.cleanup()
            why = f"cannot listen on {host or '*'}:{settings.port}: {exc.strerror or exc}"
            log.warning("API for other apps: %s", why)
            self._report(ApiStatus(error=why))
            return
        self._runner, self._rules = runner, rules
        port = settings.port or _bound_port(runner)
        shown = "127.0.0.1" if host is None else host
        self._report(ApiStatus(url=f"http://{_bracket(shown)}:{port}/v1", port=port))

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = self._rules = None
        self._report(ApiStatus())

    def _report(self, status: ApiStatus) -> None:
        self._reporting = True
        try:
            self.services.api.report(status)
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
            if self.services.api.settings == self._started_with:
                rules = self._rules
                if rules is None:
                    if not self._started_with.enabled:
                        return
                    # Enabled yet not listening: the last start failed (its port was taken, there was
                    # no key). The same settings applied again are a request to try again.
                elif not rules.settings.needs_key:
                    return
                # Perhaps a new key: the old one stops working at once.
                elif (await self.services.api.key()).strip() == rules.key:
                    return
            await self.stop()
            await self.start()

    # --- every request ---

    async def _guard(
        self,
        rules: _Rules,
        request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    ) -> web.StreamResponse:
        settings = rules.settings
        if not settings.needs_key and not _host_is_loopback(request.host):
            # A web page that renamed itself to 127.0.0.1 (DNS rebinding) gets nothing.
            return _error(403, "this API answers requests to 127.0.0.1 only", "invalid_request_error")
        origin = request.headers.get("Origin")
        if origin is not None and origin not in settings.origins:
            why = f"web pages from {origin} may not use Hearth (Settings → Other apps)"
            return _error(403, why, "invalid_request_error")
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
            why = "a valid API key is needed (Settings → Other apps)"
            return _error(401, why, "invalid_request_error", "invalid_api_key")
        if request.method == "POST" and request.content_type != "application/json":
            return _error(415, "send the request as application/json", "invalid_request_error")
        response = await handler(request)
        response.headers.update(cors)
        return response

    # --- what is served ---

    def _served(self) -> tuple[str, int] | None:
        model = self.services.serving.loaded()
        return (self.services.serving.served_name(), model.n_ctx) if model is not None else None

    def _check_model(self, name: str) -> tuple[str, int] | web.Response:
        served = self._served()
        if served is None:
            return _error(
                404,
                "no model is loaded in Hearth: load one in the window, or run `hearth serve --model FILE`",
                "invalid_request_error",
                "model_not_found",
            )
        if name not in (served[0], served[0] + ".gguf"):
            return _error(
                404,
                f"the model '{name}' is not loaded; Hearth is serving '{served[0]}'",
                "invalid_request_error",
                "model_not_found",
            )
        return served

    async def _health(self, request: web.Request) -> web.Response:
        turns = self.services.serving.queue()
        served = self._served()
        return _json(
            {
                "status": "ok",
                "model": served[0] if served else None,
                "busy": turns.serving is not None,
                "waiting": turns.waiting,
            }
        )

    async def _models(self, request: web.Request) -> web.Response:
        served = self._served()
        cards = [oai.ModelCard(served[0], served[1])] if served else []
        return _json(oai.ModelList(cards))

    async def _model(self, request: web.Request) -> web.Response:
        checked = self._check_model(request.match_info["model"])
        if isinstance(checked, web.Response):
            return checked
        return _json(oai.ModelCard(*checked))

    async def _decode(self, request: web.Request, kind: type[oai.Generation]) -> oai.Generation:
        """The body as ``kind``; anything malformed is the client's mistake (a 400 that names it),
        never a server error with a traceback."""
        body = await request.read()
        try:
            return msgspec.json.decode(body, type=kind)
        except msgspec.ValidationError as exc:
            raise oai.BadRequest(str(exc)) from None
        except msgspec.DecodeError as exc:
            raise oai.BadRequest(f"the body is not JSON: {exc}") from None
        except UnicodeDecodeError:
            # msgspec checks the encoding of each string only as it decodes it.
            raise oai.BadRequest("the body is not valid UTF-8: a string in it holds other bytes") from None
        except RecursionError:
            raise oai.BadRequest("the body nests arrays or objects too deep to read") from None

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        try:
            req = await self._decode(request, oai.ChatRequest)
            assert isinstance(req, oai.ChatRequest)
            checked = self._check_model(req.model)
            if isinstance(checked, web.Response):
                return checked
            name, n_ctx = checked
            messages = req.chat_messages()
            session = self.services.conversations.chat(sampling=req.sampling(n_ctx), who=Who.API)
        except oai.BadRequest as exc:
            return _error(400, str(exc), "invalid_request_error")
        cid = oai.completion_id("chatcmpl")

        def piece(text: str) -> dict[str, Any]:
            return oai.chat_chunk(cid, name, {"role": "assistant", "content": text}, None)

        def last(done: m.Done) -> list[dict[str, Any]]:
            chunks = [oai.chat_chunk(cid, name, {}, oai.finish_reason(done))]
            if req.include_usage:
                chunks.append(oai.chat_chunk(cid, name, {}, None, oai.Usage.of(done)))
            return chunks

        return await self._answer(
            request,
            lambda on_text: session.reply(messages, on_text),
            req.stream,
            piece,
            last,
            lambda text, done: oai.chat_answer(cid, name, text, done),
        )

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        try:
            req = await self._decode(request, oai.CompletionRequest)
            assert isinstance(req, oai.CompletionRequest)
            checked = self._check_model(req.model)
            if isinstance(checked, web.Response):
                return checked
            name, n_ctx = checked
            sampling = req.sampling(n_ctx)
            generate = m.Generate(0, prompt=req.text(), **msgspec.structs.asdict(sampling))
        except oai.BadRequest as exc:
            return _error(400, str(exc), "invalid_request_error")
        cid = oai.completion_id("cmpl")

        def run(on_text: Callable[[str], None]) -> Awaitable[m.Done]:
            def on_token(token: m.Token) -> None:
                if token.text:
                    on_text(token.text)

            return self.services.serving.generate(generate, on_token, Who.API)

        def last(done: m.Done) -> list[dict[str, Any]]:
            chunks = [oai.text_answer(cid, name, "", oai.finish_reason(done))]
            if req.include_usage:
                chunks.append(oai.text_answer(cid, name, None, None, oai.Usage.of(done)))
            return chunks

        return await self._answer(
            request,
            run,
            req.stream,
            lambda text: oai.text_answer(cid, name, text, None),
            last,
            lambda text, done: oai.text_answer(cid, name, text, oai.finish_reason(done), oai.Usage.of(done)),
        )

    async def _answer(
        self,
        request: web.Request,
        run: Callable[[Callable[[str], None]], Awaitable[m.Done]],
        stream: bool,
        chunk: Callable[[str], dict[str, Any]],
        last_chunks: Callable[[m.Done], list[dict[str, Any]]],
        whole: Callable[[str, m.Done], dict[str, Any]],
    ) -> web.StreamResponse:
        """Run an answer; errors before its first piece become HTTP errors, later ones end the stream."""
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
                return _json(whole("".join(parts), item))
            response = web.StreamResponse(headers=_SSE_HEADERS)
            await response.prepare(request)
            text = ""
            while isinstance(item, str):
                text += item
                if pieces.empty():
                    await response.write(_event(chunk(text)))
                    text = ""
                    # The first piece goes at once; later ones gather for a moment, so that the client
                    # wakes once per interval rather than once per token (which, on a small machine,
                    # takes a core from the model).
                    await asyncio.sleep(SEND_EVERY_S)
                item = await pieces.get()
            if text:
                await response.write(_event(chunk(text)))
            if isinstance(item, m.Done):
                for data in last_chunks(item):
                    await response.write(_event(data))
            else:
                error = oai.ErrorAnswer(oai.ErrorBody(self.services.serving.explain(item), "server_error"))
                await response.write(_event(msgspec.to_builtins(error)))
            await response.write(b"data: [DONE]\n\n")
            await response.write_eof()
            return response
        finally:
            if not task.done():
                # The client went away (or the handler failed): the answer stops and the model is free.
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await asyncio.shield(task)

    def _failed(self, exc: BaseException) -> web.Response:
        if isinstance(exc, LineFull):
            retry = {"Retry-After": str(RETRY_AFTER_S)}
            return _error(429, str(exc), "rate_limit_exceeded", "queue_full", **retry)
        if isinstance(exc, PromptTooLong):
            return _error(400, str(exc), "invalid_request_error", "context_length_exceeded")
        if isinstance(exc, EngineError):
            return _error(500, self.services.serving.explain(exc), "server_error")
        log.exception("API request failed", exc_info=exc)
        return _error(500, str(exc) or type(exc).__name__, "server_error")


def _event(data: Any) -> bytes:
    return b"data: " + json.dumps(data, ensure_ascii=False).encode() + b"\n\n"


def _bound_port(runner: web.AppRunner) -> int:
    return int(runner.addresses[0][1]) if runner.addresses else 0


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host else host
