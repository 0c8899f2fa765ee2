"""Embedding requests and answers in OpenAI's shape (``/v1/embeddings``) and Ollama's (``/api/embed``
and the older ``/api/embeddings``).

Every field Hearth reads is checked, and a bad one is refused by name; fields it does not use are
ignored, as OpenAI's and Ollama's servers ignore them (``user``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, TypeVar

import msgspec

from hearth.api.ollama_messages import Options
from hearth.api.openai_messages import BadRequest
from hearth.service.embeddings import Embedding

T = TypeVar("T")
MAX_INPUTS = 2048  # OpenAI's limit on the inputs of one request
ENCODINGS = ("float", "base64")


# Where msgspec says which field is wrong: "... - at `$.dimensions`", "missing required field `input`".
_FIELD = re.compile(r"(?:at `\$\.|field `)(\w+)")


def decode(body: bytes, kind: type[T]) -> T:
    """``body`` as ``kind``; anything malformed is a BadRequest that says what."""
    try:
        return msgspec.json.decode(body, type=kind)
    except msgspec.ValidationError as exc:
        field = _FIELD.search(str(exc))
        raise BadRequest(str(exc), field.group(1) if field else None) from None
    except msgspec.DecodeError as exc:
        raise BadRequest(f"the body is not JSON: {exc}") from None
    except UnicodeDecodeError:
        raise BadRequest("the body is not valid UTF-8: a string in it holds other bytes") from None
    except RecursionError:
        raise BadRequest("the body nests arrays or objects too deep to read") from None


@dataclass(frozen=True)
class Inputs:
    """What to embed: texts, or token IDs; never both."""

    texts: tuple[str, ...] = ()
    tokens: tuple[tuple[int, ...], ...] = ()

    def __len__(self) -> int:
        return len(self.texts) + len(self.tokens)


def _is_token(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _texts(value: object, field: str, allow_empty_list: bool = False) -> Inputs:
    """A string or a list of strings, as both APIs take them."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadRequest(f"{field} must be a string or a list of strings", field)
    if not value and not allow_empty_list:
        raise BadRequest(f"{field} is empty: give at least one text to embed", field)
    if len(value) > MAX_INPUTS:
        raise BadRequest(f"{field}: at most {MAX_INPUTS} inputs in one request, not {len(value)}", field)
    for i, text in enumerate(value):
        if not text:
            raise BadRequest(f"{field}[{i}] is an empty string: there is nothing to embed", field)
    return Inputs(texts=tuple(value))


# --- OpenAI ---


class EmbeddingRequest(msgspec.Struct, kw_only=True):
    model: str
    input: Any  # a string, strings, token IDs, or lists of token IDs: checked by ``inputs``
    encoding_format: str = "float"
    dimensions: int | None = None
    user: str | None = None  # an end user's ID for OpenAI's abuse checks; nothing to check here

    def inputs(self) -> Inputs:
        value = self.input
        if isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            return _texts(value, "input")
        if isinstance(value, list) and all(_is_token(v) for v in value):
            return Inputs(tokens=(tuple(value),))
        if not isinstance(value, list) or not all(isinstance(v, list) for v in value):
            raise BadRequest(
                "input must be a string, a list of strings, a list of token IDs or a list of lists of "
                "token IDs",
                "input",
            )
        if len(value) > MAX_INPUTS:
            raise BadRequest(f"input: at most {MAX_INPUTS} inputs in one request, not {len(value)}", "input")
        for i, tokens in enumerate(value):
            if not tokens or not all(_is_token(t) for t in tokens):
                why = f"input[{i}] must be a non-empty list of token IDs (integers from 0)"
                raise BadRequest(why, "input")
        return Inputs(tokens=tuple(tuple(tokens) for tokens in value))

    def check(self) -> None:
        if not self.model:
            raise BadRequest("model: name the embedding model", "model")
        if self.encoding_format not in ENCODINGS:
            raise BadRequest(
                f"encoding_format must be 'float' or 'base64', not '{self.encoding_format}'",
                "encoding_format",
            )
        if self.dimensions is not None and self.dimensions <= 0:
            raise BadRequest(f"dimensions must be a positive number, not {self.dimensions}", "dimensions")

    def check_dimensions(self, dimension: int) -> None:
        """Refuses a ``dimensions`` the model, whose vectors are ``dimension`` long, cannot give."""
        if self.dimensions is not None and self.dimensions != dimension:
            raise BadRequest(
                f"dimensions: '{self.model}' makes vectors of {dimension} dimensions and cannot shorten "
                f"them to {self.dimensions}; leave dimensions out or ask for {dimension}",
                "dimensions",
            )


class EmbeddingItem(msgspec.Struct):
    index: int
    embedding: list[float] | str
    object: str = "embedding"


class EmbeddingUsage(msgspec.Struct):
    prompt_tokens: int
    total_tokens: int


class EmbeddingList(msgspec.Struct):
    data: list[EmbeddingItem]
    model: str
    usage: EmbeddingUsage
    object: str = "list"

    @classmethod
    def of(cls, done: Embedding, encoding_format: str) -> EmbeddingList:
        if encoding_format == "base64":
            items = [EmbeddingItem(i, done.base64(i)) for i in range(len(done))]
        else:
            items = [EmbeddingItem(i, row) for i, row in enumerate(done.floats())]
        return cls(items, done.model, EmbeddingUsage(done.prompt_tokens, done.prompt_tokens))


# --- Ollama ---

_NUMBER = re.compile(r"\d+(?:\.\d+)?", re.ASCII)
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)", re.ASCII)
_UNIT_S = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def keep_alive_seconds(value: str | int | float | None) -> float | None:
    """Ollama's ``keep_alive``: seconds as a number, or a duration as Go writes one ("5m", "1h30m",
    "300"); negative keeps the model loaded, 0 unloads it after the request. None: the default."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise BadRequest('keep_alive must be a duration such as "5m" or a number of seconds', "keep_alive")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        seconds = _duration(value)
    if not math.isfinite(seconds):
        raise BadRequest(f"keep_alive: '{value}' is not a length of time", "keep_alive")
    return -1.0 if seconds < 0 else seconds


def _duration(value: str) -> float:
    text = value.strip()
    sign = -1.0 if text.startswith("-") else 1.0
    body = text.lstrip("+-")
    if _NUMBER.fullmatch(body):
        return sign * float(body)
    parts = _DURATION.findall(body)
    if not body or "".join(n + u for n, u in parts) != body:
        raise BadRequest(
            f'keep_alive: \'{value}\' is not a duration such as "5m", "1h" or "30s"', "keep_alive"
        )
    return sign * sum(float(n) * _UNIT_S[u] for n, u in parts)


class _OllamaEmbed(msgspec.Struct, kw_only=True):
    model: str
    options: Options | None = None  # checked as for an answer; nothing in it changes a vector
    keep_alive: str | int | float | None = None

    def keep_alive_s(self) -> float | None:
        return keep_alive_seconds(self.keep_alive)


class EmbedRequest(_OllamaEmbed, kw_only=True):
    """``/api/embed``: a text or a list of them; ``truncate`` cuts one past the context to it."""

    input: Any = None
    truncate: bool = True
    dimensions: int | None = None  # as OpenAI's: only the width the model has

    def inputs(self) -> Inputs:
        if self.input is None:
            return Inputs()  # Ollama's way of asking for a model to be loaded (or, keep_alive 0, unloaded)
        return _texts(self.input, "input", allow_empty_list=True)


class LegacyEmbedRequest(_OllamaEmbed, kw_only=True):
    """``/api/embeddings``, which Ollama keeps for older clients: one ``prompt``."""

    prompt: str = ""


class EmbedAnswer(msgspec.Struct):
    model: str
    embeddings: list[list[float]]
    total_duration: int  # nanoseconds, as Ollama counts them
    load_duration: int
    prompt_eval_count: int


class LegacyEmbedAnswer(msgspec.Struct):
    embedding: list[float]
