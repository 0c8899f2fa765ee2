"""The Ollama API, for apps that speak only Ollama's protocol: the same model and the same services as
the OpenAI-compatible API, on a port of its own (11435 by default, Ollama's own 11434 plus one, so that
it never takes the port of an Ollama the user also runs).

It listens where the OpenAI API does, with its settings and key (Ollama's clients send the key as
``Authorization: Bearer``), and the same checks guard every request (``listener.HttpApi``). Answers
stream as NDJSON, one object a line, as Ollama's do.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import msgspec
from aiohttp import web

from hearth.api import embedding_messages as emb
from hearth.api import ollama_messages as oll
from hearth.api.listener import HttpApi, client_of, device_of
from hearth.api.listener import json_response as _json
from hearth.api.openai_messages import BadRequest
from hearth.api.tools import CallWatch, parse_calls
from hearth.core.errors import HearthError
from hearth.core.profile import ModelProfile, default_context
from hearth.service import messages as m
from hearth.service.embeddings import ModelNotFound, NotEnoughMemory
from hearth.service.errors import DeviceRefused, ServiceError
from hearth.service.messages import EngineError, PromptTooLong
from hearth.service.on_demand import RETRY_AFTER_S as ON_DEMAND_RETRY_S
from hearth.service.on_demand import UNCHECKED_CTX, NotServed, Refusal, served_as
from hearth.service.serving_state import Loaded, Loading
from hearth.service.status import ApiStatus
from hearth.service.storage import ApiSettings
from hearth.service.turns import LineFull, Who

log = logging.getLogger(__name__)
RETRY_AFTER_S = 2

T = TypeVar("T")


def _error(status: int, message: str, **headers: str) -> web.Response:
    return web.Response(
        status=status,
        body=msgspec.json.encode({"error": message}),
        content_type="application/json",
        headers=headers,
    )


def _line(data: Any) -> bytes:
    return msgspec.json.encode(data) + b"\n"


class OllamaApi(HttpApi):
    name = "Ollama API"

    def _routes(self, app: web.Application) -> None:
        app.router.add_get("/", self._root)
        app.router.add_get("/api/version", self._version)
        app.router.add_get("/api/tags", self._tags)
        app.router.add_get("/api/ps", self._ps)
        app.router.add_post("/api/show", self._show)
        app.router.add_post("/api/chat", self._chat)
        app.router.add_post("/api/generate", self._generate)
        app.router.add_post("/api/embed", self._embed)
        app.router.add_post("/api/embeddings", self._embeddings)

    def _port_of(self, settings: ApiSettings) -> int | None:
        return self.services.api.ollama_port(settings)

    def _publish(self, status: ApiStatus) -> None:
        self.services.api.report_ollama(status)

    def _refuse(self, status: int, message: str, code: str | None = None) -> web.Response:
        return _error(status, message)

    def _json_body(self, request: web.Request) -> bool:
        # Ollama reads every body as JSON whatever its type (`curl -d` sends a form's type), and its
        # users' scripts rely on that. A web page's request carries an Origin, refused above.
        return True

    # --- the library ---

    async def _models(self) -> list[tuple[str, ModelProfile, int, str]]:
        """Every model other apps can name here: (name, profile, context, "loaded" | "loading" | "")."""
        out: list[tuple[str, ModelProfile, int, str]] = []
        shown: set[str] = set()
        state = self.services.serving.state
        if isinstance(state, Loaded | Loading):
            kind = "loaded" if isinstance(state, Loaded) else "loading"
            out.append((Path(state.profile.path).stem, state.profile, state.n_ctx, kind))
            shown.add(state.profile.path)
        for entry in await self.services.models.entries():
            if entry.profile is not None and not entry.problem and entry.path not in shown:
                shown.add(entry.path)
                out.append((Path(entry.path).stem, entry.profile, default_context(entry.profile), ""))
        return out

    async def _root(self, request: web.Request) -> web.Response:
        return web.Response(text="Ollama is running")

    async def _version(self, request: web.Request) -> web.Response:
        return _json({"version": oll.VERSION})

    async def _tags(self, request: web.Request) -> web.Response:
        models = await self._models()
        tags = [_tag(name, profile) for name, profile, _, _ in models]
        # Models that paired devices answer this device's apps with, where nothing here has the name.
        names = {tag["name"] for tag in tags}
        for there in self.services.routing.sendable():
            if there.offer.model not in names:
                names.add(there.offer.model)
                tags.append(_tag_elsewhere(there.offer.model, there.offer.size, there.name))
        return _json({"models": tags})

    async def _ps(self, request: web.Request) -> web.Response:
        turns = self.services.serving.queue()
        running = [
            {
                **_tag(name, profile),
                "expires_at": "0001-01-01T00:00:00Z",
                "size_vram": 0,
                "context_length": ctx,
                # Beyond Ollama's fields (its OLLAMA_NUM_PARALLEL): the answers the model gives
                # together, how many it is giving now and how many wait for a place.
                "num_parallel": turns.at_once,
                "running": turns.answering,
                "waiting": turns.waiting,
            }
            for name, profile, ctx, kind in await self._models()
            if kind == "loaded"
        ]
        return _json({"models": running})

    async def _show(self, request: web.Request) -> web.Response:
        try:
            req = await _decode(request, oll.ShowRequest)
            wanted = req.wanted
        except BadRequest as exc:
            return _error(400, str(exc))
        for name, profile, ctx, kind in await self._models():
            if served_as(wanted, name):
                return _json(self._shown(name, profile, ctx, kind))
        return _error(404, f"model '{wanted}' not found")

    def _shown(self, name: str, profile: ModelProfile, n_ctx: int, kind: str) -> dict[str, Any]:
        arch = profile.architecture
        capabilities = ["completion"]
        model = self.services.serving.loaded()
        if kind == "loaded" and model is not None and model.renders_tools:
            capabilities.append("tools")
        info: dict[str, Any] = {
            "general.architecture": arch,
            "general.name": profile.name,
            "general.parameter_count": profile.parameters,
            f"{arch}.context_length": profile.context_length,
            f"{arch}.embedding_length": profile.embedding_length,
            f"{arch}.block_count": profile.block_count,
            f"{arch}.attention.head_count": profile.head_count,
            f"{arch}.attention.head_count_kv": profile.head_count_kv,
        }
        if profile.license:
            info["general.license"] = profile.license
        return {
            "modelfile": f"FROM {name}\n",
            "parameters": f"num_ctx {n_ctx}",
            "template": "",
            "details": _details(profile),
            "model_info": info,
            "capabilities": capabilities,
            "modified_at": _modified(profile.path),
        }

    # --- answers ---

    async def _model_for(self, request: web.Request, asked: str) -> tuple[str, int] | web.Response:
        """The served name and context of the model ``asked`` names, loaded first when apps may load
        models (``OnDemand``), as Ollama loads the model a request names; a paired device's when it
        alone offers it."""
        try:
            elsewhere = self._served_elsewhere(request, asked)
        except DeviceRefused as exc:
            return _error(503, str(exc), **{"Retry-After": str(RETRY_AFTER_S)})
        if elsewhere is not None:
            return elsewhere
        try:
            model = await self.services.on_demand.model(asked)
        except NotServed as exc:
            retry = {"Retry-After": str(ON_DEMAND_RETRY_S)} if exc.refusal is Refusal.BUSY else {}
            return _error(exc.refusal.status, str(exc), **retry)
        except LineFull as exc:
            return _error(429, str(exc), **{"Retry-After": str(RETRY_AFTER_S)})
        except HearthError as exc:
            return _error(500, self.services.serving.explain(exc))
        return model.served_name, model.n_ctx

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        started = time.perf_counter()
        try:
            req = await _decode(request, oll.ChatRequest)
            # Every field is checked before a model is loaded for the request.
            req.chat_messages(), req.sampling(UNCHECKED_CTX, req.tools_text())
            checked = await self._model_for(request, req.model)
            if isinstance(checked, web.Response):
                return checked
            name, n_ctx = checked
            names = req.tool_names()
            if names and not self._renders_tools(request):
                return _error(400, f"tools: the chat template of '{name}' has no place for tools")
            sampling = req.sampling(n_ctx, req.tools_text())
            messages = req.chat_messages()
        except BadRequest as exc:
            return _error(400, str(exc))
        if sampling.json_schema and not self._holds_grammar(request):
            return _error(400, f"format: '{name}' is an MLX model, which cannot be held to a schema yet")
        if not messages:
            # Ollama's way of asking for a model to be loaded: it is.
            return _json({**oll.chat_piece(name, ""), "done": True, "done_reason": "load"})
        session = self.services.conversations.chat(
            sampling=sampling, who=Who.API, client=client_of(request), device=device_of(request), model=name
        )
        watch = CallWatch(names)

        def piece(text: str) -> dict[str, Any] | None:
            shown = watch.feed(text)
            return oll.chat_piece(name, shown) if shown else None

        def last(done: m.Done) -> list[dict[str, Any]]:
            rest, calls = watch.finish()
            return [oll.chat_end(name, rest, done, started, calls)]

        def whole(text: str, done: m.Done) -> dict[str, Any]:
            calls = parse_calls(text, names) if names else None
            return oll.chat_end(name, "" if calls else text, done, started, calls)

        return await self._answer(
            request, lambda on_text: session.reply(messages, on_text), req.stream, piece, last, whole
        )

    async def _generate(self, request: web.Request) -> web.StreamResponse:
        started = time.perf_counter()
        try:
            req = await _decode(request, oll.GenerateRequest)
            req.check()
            req.sampling(UNCHECKED_CTX)
            checked = await self._model_for(request, req.model)
            if isinstance(checked, web.Response):
                return checked
            name, n_ctx = checked
            sampling = req.sampling(n_ctx)
        except BadRequest as exc:
            return _error(400, str(exc))
        if sampling.json_schema and not self._holds_grammar(request):
            return _error(400, f"format: '{name}' is an MLX model, which cannot be held to a schema yet")
        if not req.prompt and not req.system:
            return _json({**oll.generate_piece(name, ""), "done": True, "done_reason": "load"})
        if req.raw:
            generate = m.Generate(0, prompt=req.prompt, **msgspec.structs.asdict(sampling))

            def run(on_text: Callable[[str], None]) -> Awaitable[m.Done]:
                def on_token(token: m.Token) -> None:
                    if token.text:
                        on_text(token.text)

                return self.services.serving.generate(
                    generate, on_token, Who.API, client_of(request), device=device_of(request), model=name
                )
        else:
            session = self.services.conversations.chat(
                sampling=sampling,
                who=Who.API,
                client=client_of(request),
                device=device_of(request),
                model=name,
            )
            messages = req.chat_messages()

            def run(on_text: Callable[[str], None]) -> Awaitable[m.Done]:
                return session.reply(messages, on_text)

        return await self._answer(
            request,
            run,
            req.stream,
            lambda text: oll.generate_piece(name, text),
            lambda done: [oll.generate_end(name, "", done, started)],
            lambda text, done: oll.generate_end(name, text, done, started),
        )

    async def _embed(self, request: web.Request) -> web.Response:
        started = time.perf_counter()
        try:
            req = emb.decode(await request.read(), emb.EmbedRequest)
            inputs = req.inputs()
            if req.dimensions is not None:
                width = (await self.services.embeddings.model(req.model)).dimension
                if req.dimensions != width:
                    said = f"makes vectors of {width} dimensions, not {req.dimensions}"
                    return _error(400, f"dimensions: '{req.model}' {said}")
            done = await self.services.embeddings.embed(
                req.model, inputs.texts, truncate=req.truncate, keep_alive_s=req.keep_alive_s()
            )
        except BadRequest as exc:
            return _error(400, str(exc))
        except Exception as exc:
            return _embedding_failed(exc)
        return _json(
            emb.EmbedAnswer(
                req.model,
                done.floats(),
                total_duration=int((time.perf_counter() - started) * 1e9),
                load_duration=int(done.load_s * 1e9),
                prompt_eval_count=done.prompt_tokens,
            )
        )

    async def _embeddings(self, request: web.Request) -> web.Response:
        """The older route: one prompt, its vector as the model gives it (not scaled to unit length)."""
        try:
            req = emb.decode(await request.read(), emb.LegacyEmbedRequest)
            keep_alive_s = req.keep_alive_s()
            if not req.prompt:
                # As Ollama answers an empty prompt: no vector, the model loaded (or unloaded).
                await self.services.embeddings.embed(req.model, keep_alive_s=keep_alive_s)
                return _json(emb.LegacyEmbedAnswer([]))
            done = await self.services.embeddings.embed(
                req.model, [req.prompt], normalize=False, keep_alive_s=keep_alive_s
            )
        except BadRequest as exc:
            return _error(400, str(exc))
        except Exception as exc:
            return _embedding_failed(exc)
        return _json(emb.LegacyEmbedAnswer(done.floats()[0]))

    stream_headers: ClassVar[dict[str, str]] = {
        "Content-Type": "application/x-ndjson",
        "Cache-Control": "no-cache",
    }

    def _frame(self, data: dict[str, Any]) -> bytes:
        return _line(data)

    def _stream_failed(self, exc: BaseException) -> dict[str, Any]:
        return {"error": self.services.serving.explain(exc)}  # as Ollama ends a failed stream

    def _failed(self, exc: BaseException) -> web.Response:
        if isinstance(exc, LineFull):
            return _error(429, str(exc), **{"Retry-After": str(RETRY_AFTER_S)})
        if isinstance(exc, DeviceRefused):
            return _error(503, str(exc), **{"Retry-After": str(RETRY_AFTER_S)})
        if isinstance(exc, PromptTooLong):
            return _error(400, str(exc))
        if isinstance(exc, EngineError) and exc.kind == "request":
            return _error(400, str(exc))
        if isinstance(exc, EngineError):
            return _error(500, self.services.serving.explain(exc))
        log.exception("Ollama API request failed", exc_info=exc)
        return _error(500, str(exc) or type(exc).__name__)


def _embedding_failed(exc: Exception) -> web.Response:
    """An embedding request that failed, as Ollama says it."""
    if isinstance(exc, ModelNotFound):
        return _error(404, str(exc))
    if isinstance(exc, NotEnoughMemory):
        return _error(503, str(exc))
    if isinstance(exc, PromptTooLong) or (isinstance(exc, EngineError) and exc.kind == "request"):
        return _error(400, str(exc))
    if isinstance(exc, EngineError | ServiceError):
        return _error(500, str(exc))
    log.exception("Ollama embedding request failed", exc_info=exc)
    return _error(500, str(exc) or type(exc).__name__)


async def _decode(request: web.Request, kind: type[T]) -> T:
    """The body as ``kind``; anything malformed is a 400 that names it."""
    body = await request.read()
    try:
        return msgspec.json.decode(body, type=kind)
    except msgspec.ValidationError as exc:
        raise BadRequest(str(exc)) from None
    except msgspec.DecodeError as exc:
        raise BadRequest(f"the body is not JSON: {exc}") from None
    except UnicodeDecodeError:
        raise BadRequest("the body is not valid UTF-8: a string in it holds other bytes") from None
    except RecursionError:
        raise BadRequest("the body nests arrays or objects too deep to read") from None


def _details(profile: ModelProfile) -> dict[str, Any]:
    return {
        "parent_model": "",
        "format": profile.format.value,
        "family": profile.architecture,
        "families": [profile.architecture],
        "parameter_size": _parameter_size(profile.parameters),
        "quantization_level": _quantization(profile),
    }


def _tag(name: str, profile: ModelProfile) -> dict[str, Any]:
    identity = f"{profile.path}:{profile.file_size}:{_modified(profile.path)}"
    return {
        "name": name,
        "model": name,
        "modified_at": _modified(profile.path),
        "size": profile.file_size,
        # Ollama's digest names the weights' blob; hashing a whole model for a listing would read
        # gigabytes, so this one names the file (path, size, time) instead.
        "digest": hashlib.sha256(identity.encode()).hexdigest(),
        "details": _details(profile),
    }


def _tag_elsewhere(name: str, size: int, device: str) -> dict[str, Any]:
    """A model a paired device answers with: what its offer says (no file here to read more from)."""
    return {
        "name": name,
        "model": name,
        "modified_at": "0001-01-01T00:00:00Z",
        "size": size,
        "digest": hashlib.sha256(f"{device}:{name}:{size}".encode()).hexdigest(),
        "details": {
            "parent_model": "",
            "format": "gguf",
            "family": "",
            "families": None,
            "parameter_size": "",
            "quantization_level": "",
        },
        "remote_host": device,  # beyond Ollama's own fields: the paired device that answers
    }


def _parameter_size(n: int) -> str:
    if n >= 10**9:
        return f"{n / 10**9:.1f}B"
    if n >= 10**6:
        return f"{n / 10**6:.0f}M"
    return f"{n / 10**3:.0f}K" if n else ""


def _quantization(profile: ModelProfile) -> str:
    """The type that holds most of the weights, as Ollama names a model's quantization."""
    shares = profile.quantization
    return max(shares, key=lambda k: shares[k].bytes) if shares else ""


def _modified(path: str) -> str:
    try:
        stamp = os.stat(path).st_mtime
    except OSError:
        return oll.now()
    return datetime.fromtimestamp(stamp, UTC).isoformat().replace("+00:00", "Z")
