"""The OpenAI-compatible HTTP API other apps use: the loaded model, served through the service.

It runs on the app's own event loop (aiohttp), answers from whatever model the service has loaded
(local or pooled) and takes turns at it with the window's chat. By default it listens on 127.0.0.1
only and needs no key; open to the network, every request needs the key.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, ClassVar

import msgspec
from aiohttp import web

from hearth.api import embedding_messages as emb
from hearth.api import openai_messages as oai
from hearth.api.listener import HttpApi, client_of, device_of
from hearth.api.listener import json_response as _json
from hearth.api.tools import CallWatch, parse_calls
from hearth.core.errors import HearthError
from hearth.core.profile import default_context
from hearth.service import messages as m
from hearth.service.embeddings import ModelNotFound, NotEnoughMemory
from hearth.service.errors import DeviceRefused, ServiceError
from hearth.service.messages import EngineError, PromptTooLong
from hearth.service.on_demand import RETRY_AFTER_S as ON_DEMAND_RETRY_S
from hearth.service.on_demand import UNCHECKED_CTX, NotServed, Refusal, served_as
from hearth.service.serving_state import Loaded, Loading
from hearth.service.turns import LineFull, Who

log = logging.getLogger(__name__)
RETRY_AFTER_S = 2


def _error(
    status: int, message: str, kind: str, code: str | None = None, param: str | None = None, **headers: str
) -> web.Response:
    body = oai.ErrorAnswer(oai.ErrorBody(message, kind, param, code))
    return web.Response(
        status=status, body=msgspec.json.encode(body), content_type="application/json", headers=headers
    )


class OpenAiApi(HttpApi):
    name = "API for other apps"
    url_path = "/v1"

    def _routes(self, app: web.Application) -> None:
        app.router.add_get("/health", self._health)
        app.router.add_get("/v1/models", self._models)
        app.router.add_get("/v1/models/{model}", self._model)
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/v1/completions", self._completions)
        app.router.add_post("/v1/embeddings", self._embeddings)

    def _refuse(self, status: int, message: str, code: str | None = None) -> web.Response:
        return _error(status, message, "invalid_request_error", code)

    # --- what is served ---

    def _served(self) -> tuple[str, int] | None:
        model = self.services.serving.loaded()
        return (self.services.serving.served_name(), model.n_ctx) if model is not None else None

    async def _model_for(self, request: web.Request, name: str) -> tuple[str, int] | web.Response:
        """The served name and context of the model ``name`` asks for: a paired device's when it
        alone offers it, else loaded here first when apps may load models (``OnDemand``)."""
        try:
            elsewhere = self._served_elsewhere(request, name)
        except DeviceRefused as exc:
            retry = {"Retry-After": str(RETRY_AFTER_S)}
            return _error(503, str(exc), "server_error", "device_refused", **retry)
        if elsewhere is not None:
            return elsewhere
        try:
            model = await self.services.on_demand.model(name)
        except NotServed as exc:
            retry = {"Retry-After": str(ON_DEMAND_RETRY_S)} if exc.refusal is Refusal.BUSY else {}
            return _error(
                exc.refusal.status, str(exc), "invalid_request_error", exc.refusal.value, "model", **retry
            )
        except LineFull as exc:
            return _error(
                429, str(exc), "rate_limit_exceeded", "queue_full", **{"Retry-After": str(RETRY_AFTER_S)}
            )
        except HearthError as exc:
            return _error(500, self.services.serving.explain(exc), "server_error")
        return model.served_name, model.n_ctx

    async def _health(self, request: web.Request) -> web.Response:
        turns = self.services.serving.queue()
        served = self._served()
        return _json(
            {
                "status": "ok",
                "model": served[0] if served else None,
                "busy": turns.serving is not None,
                "waiting": turns.waiting,
                # How many answers the loaded model gives together, and how many it is giving now.
                "answers_at_once": turns.at_once if served else 0,
                "answering": turns.answering,
                "devices": self._devices(),
            }
        )

    def _devices(self) -> dict[str, Any]:
        """Answers sent to paired devices and given here for theirs, and what each offers now."""
        routing = self.services.routing
        status = routing.status
        idle = routing.idle()
        return {
            "sent": status.sent,
            "answered_for_them": status.answered,
            "answering_for_them": status.answering,
            "refused_for_them": status.refused,
            "offering": [
                {
                    "name": e.name,
                    "model": e.offer.model,
                    "n_ctx": e.offer.n_ctx,
                    "answers_at_once": e.offer.at_once,
                    "answering": e.offer.answering,
                    "waiting": e.offer.waiting,
                }
                for e in routing.elsewhere()
            ],
            # Paired devices with nothing loaded, and the models each would load for a request.
            "idle": [
                {"name": e.name, "would_load": [o.offer.model for o in idle if o.device_id == e.device_id]}
                for e in {e.device_id: e for e in idle}.values()
            ],
        }

    async def _models(self, request: web.Request) -> web.Response:
        return _json(oai.ModelList(await self.cards()))

    async def cards(self) -> list[oai.ModelCard]:
        """The model answering (or loading) first, then the rest of the library: a client that starts
        with Hearth sees its model before the load ends."""
        cards: list[oai.ModelCard] = []
        shown: set[str] = set()
        state = self.services.serving.state
        if isinstance(state, Loaded | Loading):
            name = Path(state.profile.path).stem
            cards.append(
                oai.ModelCard(name, state.n_ctx, "loaded" if isinstance(state, Loaded) else "loading")
            )
            shown.add(state.profile.path)
        names = {card.id for card in cards}
        # Models paired devices answer this device's apps with, as loaded as they are there.
        for there in self.services.routing.sendable():
            if there.offer.model not in names:
                names.add(there.offer.model)
                offered = there.offer
                cards.append(oai.ModelCard(offered.model, offered.n_ctx, "loaded", owned_by=there.name))
        for entry in await self.services.models.entries():
            if entry.profile is not None and not entry.problem and entry.path not in shown:
                shown.add(entry.path)
                if Path(entry.path).stem not in names:
                    cards.append(
                        oai.ModelCard(Path(entry.path).stem, default_context(entry.profile), "not-loaded")
                    )
        return cards

    async def _model(self, request: web.Request) -> web.Response:
        asked = request.match_info["model"]
        for card in await self.cards():
            if served_as(asked, card.id):
                return _json(card)
        why = f"there is no model '{asked}' in Hearth's library"
        return _error(404, why, "invalid_request_error", "model_not_found")

    async def _embeddings(self, request: web.Request) -> web.Response:
        try:
            req = emb.decode(await request.read(), emb.EmbeddingRequest)
            req.check()
            inputs = req.inputs()
            model = await self.services.embeddings.model(req.model)
            req.check_dimensions(model.dimension)
            # OpenAI refuses an input past the model's context rather than cutting it.
            done = await self.services.embeddings.embed(
                req.model, inputs.texts, inputs.tokens, truncate=False
            )
        except oai.BadRequest as exc:
            return _error(400, str(exc), "invalid_request_error", param=exc.param)
        except Exception as exc:
            return _embedding_failed(exc)
        return _json(emb.EmbeddingList.of(done, req.encoding_format))

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
            # Every field is checked before a model is loaded for the request.
            req.chat_messages(), req.sampling(UNCHECKED_CTX), req.offered_tools()
            checked = await self._model_for(request, req.model)
            if isinstance(checked, web.Response):
                return checked
            name, n_ctx = checked
            messages = req.chat_messages()
            sampling = req.sampling(n_ctx)
            names = [t.function.name for t in req.offered_tools()]
            if names and not self._renders_tools(request):
                why = (
                    f"tools: the chat template of '{name}' has no place for tools; load a model made for them"
                )
                return _error(400, why, "invalid_request_error", param="tools")
            if sampling.json_schema and not self._holds_grammar(request):
                why = f"response_format: '{name}' is an MLX model, which cannot be held to a schema yet"
                return _error(400, why, "invalid_request_error", param="response_format")
            session = self.services.conversations.chat(
                sampling=sampling,
                who=Who.API,
                client=client_of(request),
                device=device_of(request),
                model=name,
            )
        except oai.BadRequest as exc:
            return _error(400, str(exc), "invalid_request_error", param=exc.param)
        cid = oai.completion_id("chatcmpl")
        watch = CallWatch(names)

        def piece(text: str) -> dict[str, Any] | None:
            shown = watch.feed(text)
            return oai.chat_chunk(cid, name, {"role": "assistant", "content": shown}, None) if shown else None

        def last(done: m.Done) -> list[dict[str, Any]]:
            rest, calls = watch.finish()
            chunks = []
            if rest:
                chunks.append(oai.chat_chunk(cid, name, {"role": "assistant", "content": rest}, None))
            if calls:
                delta = {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": oai.tool_calls(calls, indexed=True),
                }
                chunks.append(oai.chat_chunk(cid, name, delta, None))
            chunks.append(oai.chat_chunk(cid, name, {}, oai.finish_reason(done, calls)))
            if req.include_usage:
                chunks.append(oai.chat_chunk(cid, name, {}, None, oai.Usage.of(done)))
            return chunks

        def whole(text: str, done: m.Done) -> dict[str, Any]:
            calls = parse_calls(text, names) if names else None
            return oai.chat_answer(cid, name, text, done, calls)

        return await self._answer(
            request, lambda on_text: session.reply(messages, on_text), req.stream, piece, last, whole
        )

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        try:
            req = await self._decode(request, oai.CompletionRequest)
            assert isinstance(req, oai.CompletionRequest)
            req.sampling(UNCHECKED_CTX), req.text()
            checked = await self._model_for(request, req.model)
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

            return self.services.serving.generate(
                generate, on_token, Who.API, client_of(request), device=device_of(request), model=name
            )

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

    stream_headers: ClassVar[dict[str, str]] = {
        "Content-Type": "text/event-stream",
        "Cache-Control": "no-cache",
    }
    stream_end = b"data: [DONE]\n\n"

    def _frame(self, data: dict[str, Any]) -> bytes:
        return _event(data)

    def _stream_failed(self, exc: BaseException) -> dict[str, Any]:
        error = oai.ErrorAnswer(oai.ErrorBody(self.services.serving.explain(exc), "server_error"))
        return dict(msgspec.to_builtins(error))

    def _failed(self, exc: BaseException) -> web.Response:
        if isinstance(exc, LineFull):
            retry = {"Retry-After": str(RETRY_AFTER_S)}
            return _error(429, str(exc), "rate_limit_exceeded", "queue_full", **retry)
        if isinstance(exc, DeviceRefused):
            retry = {"Retry-After": str(RETRY_AFTER_S)}
            return _error(503, str(exc), "server_error", "device_refused", **retry)
        if isinstance(exc, PromptTooLong):
            return _error(400, str(exc), "invalid_request_error", "context_length_exceeded")
        if isinstance(exc, EngineError) and exc.kind == "request":
            # The engine refused what the request asked for (a schema it cannot enforce): the client's.
            return _error(400, str(exc), "invalid_request_error")
        if isinstance(exc, EngineError):
            return _error(500, self.services.serving.explain(exc), "server_error")
        log.exception("API request failed", exc_info=exc)
        return _error(500, str(exc) or type(exc).__name__, "server_error")


def _embedding_failed(exc: Exception) -> web.Response:
    """An embedding request that failed, in OpenAI's shape."""
    if isinstance(exc, ModelNotFound):
        return _error(404, str(exc), "invalid_request_error", "model_not_found", "model")
    if isinstance(exc, NotEnoughMemory):
        return _error(503, str(exc), "server_error", "insufficient_memory")
    if isinstance(exc, PromptTooLong):
        return _error(400, str(exc), "invalid_request_error", "context_length_exceeded", "input")
    if isinstance(exc, EngineError) and exc.kind == "request":
        return _error(400, str(exc), "invalid_request_error", param="input")
    if isinstance(exc, EngineError | ServiceError):
        return _error(500, str(exc), "server_error")
    log.exception("embedding request failed", exc_info=exc)
    return _error(500, str(exc) or type(exc).__name__, "server_error")


def _event(data: Any) -> bytes:
    return b"data: " + json.dumps(data, ensure_ascii=False).encode() + b"\n\n"
