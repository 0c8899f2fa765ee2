"""Entry point of the engine subprocess: ``python -m hearth.engine.process``.

Requests arrive as frames on stdin and events leave as frames on the original stdout. The model lives
here and nowhere else, because llama.cpp aborts the whole process on some failures (an RPC socket that
drops, for one): the parent only ever sees this process exit.
"""

from __future__ import annotations

import os
import queue
import sys
import threading
import traceback
from typing import BinaryIO

import llama_cpp

from hearth.engine import backends, decode, dry_run, errors
from hearth.engine import messages as m
from hearth.engine.llama_runtime import LlamaRuntime, install_log_capture
from hearth.engine.mlx_runtime import MlxRuntime


class _Outbox:
    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._lock = threading.Lock()

    def send(self, event: m.Event) -> None:
        data = m.encode(event)
        with self._lock:
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view) :]


def _read_exact(stream: BinaryIO, n: int) -> bytes | None:
    data = stream.read(n)
    if data is None or len(data) < n:
        return None
    return data


class _Inbox:
    """Reads requests on a thread so that a Cancel lands while the main thread is generating."""

    def __init__(self, stream: BinaryIO, outbox: _Outbox) -> None:
        self.queue: queue.Queue[m.Request | None] = queue.Queue()
        self.cancel = threading.Event()
        self.cancel_load = threading.Event()
        self._lock = threading.Lock()
        self._active: int | None = None
        # A Cancel may overtake the Generate it names while that still waits in the queue.
        self._cancelled: set[int] = set()
        self._stream = stream
        self._outbox = outbox
        threading.Thread(target=self._run, name="engine-inbox", daemon=True).start()

    def _on_cancel(self, request_id: int) -> None:
        with self._lock:
            if request_id == self._active:
                self.cancel.set()
            elif len(self._cancelled) < 1024:
                self._cancelled.add(request_id)

    def begin(self, request_id: int) -> None:
        with self._lock:
            self._active = request_id
            if request_id in self._cancelled:
                self._cancelled.discard(request_id)
                self.cancel.set()
            else:
                self.cancel.clear()

    def end(self) -> None:
        with self._lock:
            self._active = None

    def _run(self) -> None:
        try:
            while True:
                prefix = _read_exact(self._stream, 4)
                if prefix is None:
                    break
                body = _read_exact(self._stream, m.frame_length(prefix))
                if body is None:
                    break
                try:
                    request = m.decode_request(body)
                except m.ProtocolError as exc:
                    self._outbox.send(m.Failure(str(exc), kind="request"))
                    continue
                if isinstance(request, m.Cancel):
                    self._on_cancel(request.request_id)
                    continue
                if isinstance(request, m.CancelLoad):
                    self.cancel_load.set()
                    continue
                if isinstance(request, m.LoadModel):
                    # Cleared here, in arrival order, so a CancelLoad sent right after this load counts.
                    self.cancel_load.clear()
                self.queue.put(request)
        except (OSError, m.ProtocolError):
            pass
        # The parent closed our stdin or sent garbage framing: nobody is left to answer to.
        self.cancel.set()
        self.cancel_load.set()
        self.queue.put(None)


def _doing(request: m.Request) -> str:
    """What the engine was doing for ``request``, as a failure names it."""
    if isinstance(request, m.LoadModel):
        return f"loading {request.path}"
    if isinstance(request, m.Estimate):
        return f"sizing {request.load.path}"
    if isinstance(request, m.Generate):
        return "answering"
    return "unloading the model"


def _failure(exc: Exception, request: m.Request) -> m.Failure:
    if not isinstance(exc, errors.EngineError):
        # Not one of the engine's own refusals: the log keeps the whole story for whoever looks.
        traceback.print_exception(exc)
    message, kind = errors.explain(exc, _doing(request))
    return m.Failure(message, getattr(request, "request_id", None), kind)


def serve(stdin: BinaryIO, out_fd: int) -> None:
    outbox = _Outbox(out_fd)
    inbox = _Inbox(stdin, outbox)
    llama = LlamaRuntime()
    runtime: decode.Runtime = llama
    mlx: MlxRuntime | None = None
    found = backends.load()  # before llama.cpp's first call, which would look for backends elsewhere
    outbox.send(m.Ready(os.getpid(), llama_cpp.__version__, "RPC" in found.registered))
    while True:
        request = inbox.queue.get()
        if request is None or isinstance(request, m.Shutdown):
            break
        try:
            if isinstance(request, m.LoadModel):

                def progress(fraction: float) -> bool:
                    outbox.send(m.LoadProgress(fraction))
                    return not inbox.cancel_load.is_set()

                runtime.unload()  # one model in the engine, whichever backend holds it
                if request.backend == "mlx":
                    runtime = mlx = mlx or MlxRuntime()
                else:
                    runtime = llama
                outbox.send(runtime.load(request, progress))
            elif isinstance(request, m.Estimate):
                outbox.send(dry_run.estimate(request))
            elif isinstance(request, m.Unload):
                runtime.unload()
                outbox.send(m.Unloaded())
            elif isinstance(request, m.Generate):
                inbox.begin(request.request_id)
                try:
                    outbox.send(decode.answer(runtime, request, outbox.send, inbox.cancel))
                finally:
                    inbox.end()
        except Exception as exc:  # one bad request must not end the engine; the client gets the reason
            outbox.send(_failure(exc, request))
    runtime.unload()


def main() -> None:
    # Native code may print to stdout; keep the protocol on a private copy of it and send fd 1 to stderr.
    out_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    install_log_capture()
    serve(sys.stdin.buffer, out_fd)
    sys.stderr.flush()
    # Skip interpreter teardown: llama.cpp's static destructors add nothing once the model is freed.
    os._exit(0)


if __name__ == "__main__":
    main()
