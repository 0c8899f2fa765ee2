"""Entry point of the embedding engine: ``python -m hearth.engine.embedding_process``.

A process of its own beside the chat model's engine, so that an answer and a batch of embeddings run
at the same time and a llama.cpp abort in one leaves the other standing. Requests arrive as frames on
stdin and are answered one at a time, in order, on the original stdout.
"""

from __future__ import annotations

import os
import sys
import traceback
from typing import BinaryIO

import llama_cpp

from hearth.engine import backends, errors
from hearth.engine import messages as m
from hearth.engine.embedding_runtime import EmbeddingRuntime


def _send(fd: int, event: m.EmbedEvent) -> None:
    view = memoryview(m.encode_embed(event))
    while view:
        view = view[os.write(fd, view) :]


def _next(stream: BinaryIO, fd: int) -> m.EmbedRequest | None:
    """The next request; None once the parent has closed the pipe or broken its framing. A frame that
    does not decode is answered with a failure and skipped."""
    while True:
        prefix = stream.read(4)
        if prefix is None or len(prefix) < 4:
            return None
        try:
            n = m.frame_length(prefix)
        except m.ProtocolError:
            return None
        body = stream.read(n)
        if body is None or len(body) < n:
            return None
        try:
            return m.decode_embed_request(body)
        except m.ProtocolError as exc:
            _send(fd, m.Failure(str(exc), kind="request"))


def _failure(exc: Exception, request: m.EmbedRequest) -> m.Failure:
    if not isinstance(exc, errors.EngineError):
        traceback.print_exception(exc)
    doing = f"loading {request.path}" if isinstance(request, m.LoadModel) else "embedding"
    message, kind = errors.explain(exc, doing)
    return m.Failure(message, getattr(request, "request_id", None), kind)


def serve(stdin: BinaryIO, out_fd: int) -> None:
    runtime = EmbeddingRuntime()
    found = backends.load()
    _send(out_fd, m.Ready(os.getpid(), llama_cpp.__version__, "RPC" in found.registered))
    while (request := _next(stdin, out_fd)) is not None and not isinstance(request, m.Shutdown):
        try:
            if isinstance(request, m.LoadModel):
                _send(out_fd, runtime.load(request))
            elif isinstance(request, m.Embed):
                _send(out_fd, runtime.embed(request))
            else:
                runtime.unload()
                _send(out_fd, m.Unloaded())
        except Exception as exc:  # one bad request must not end the engine; the client gets the reason
            _send(out_fd, _failure(exc, request))
    runtime.unload()


def main() -> None:
    # Native code may print to stdout; keep the protocol on a private copy of it and send fd 1 to stderr.
    out_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    serve(sys.stdin.buffer, out_fd)
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
