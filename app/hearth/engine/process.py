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
    """Reads requests on a thread so that a Cancel lands while answers are being generated."""

    def __init__(self, stream: BinaryIO, outbox: _Outbox) -> None:
        self.queue: queue.Queue[m.Request | None] = queue.Queue()
        self.cancel_load = threading.Event()
        self._lock = threading.Lock()
        self._active: dict[int, threading.Event] = {}
        self._gone = False
        # A Cancel may overtake the Generate it names while that still waits in the queue.
        self._cancelled: set[int] = set()
        self._stream = stream
        self._outbox = outbox
        threading.Thread(target=self._run, name="engine-inbox", daemon=True).start()

    def _on_cancel(self, request_id: int) -> None:
        with self._lock:
            if request_id in self._active:
                self._active[request_id].set()
            elif len(self._cancelled) < 1024:
                self._cancelled.add(request_id)

    def begin(self, request_id: int) -> threading.Event:
        """The event that a Cancel of ``request_id`` sets, from now until ``end``."""
        cancel = threading.Event()
        with self._lock:
            self._active[request_id] = cancel
            if request_id in self._cancelled or self._gone:
                self._cancelled.discard(request_id)
                cancel.set()
        return cancel

    def end(self, request_id: int) -> None:
        with self._lock:
            self._active.pop(request_id, None)

    def _hang_up(self) -> None:
        with self._lock:
            self._gone = True
            for cancel in self._active.values():
                cancel.set()

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
        self._hang_up()
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


class _Answers:
    """The answers being generated, each on its own thread: as many at once as the runtime decodes
    together (one for a runtime that answers one at a time)."""

    def __init__(self, inbox: _Inbox, outbox: _Outbox) -> None:
        self._inbox = inbox
        self._outbox = outbox
        self._done = threading.Condition()
        self._running: set[int] = set()

    def start(self, runtime: decode.Runtime, request: m.Generate, at_once: int) -> None:
        """Begin answering ``request`` once fewer than ``at_once`` answers are running. A runtime that
        answers one at a time answers here, on this thread, as it always has."""
        self.wait(at_once - 1)
        cancel = self._inbox.begin(request.request_id)
        if at_once <= 1:
            self._answer(runtime, request, cancel)
            return
        with self._done:
            self._running.add(request.request_id)
        threading.Thread(
            target=self._answer, args=(runtime, request, cancel), name="engine-answer", daemon=True
        ).start()

    def _answer(self, runtime: decode.Runtime, request: m.Generate, cancel: threading.Event) -> None:
        try:
            self._outbox.send(decode.answer(runtime, request, self._outbox.send, cancel))
        except Exception as exc:  # this answer fails alone; the client gets the reason
            self._outbox.send(_failure(exc, request))
        finally:
            self._inbox.end(request.request_id)
            with self._done:
                self._running.discard(request.request_id)
                self._done.notify_all()

    def wait(self, most: int = 0) -> None:
        """Until at most ``most`` answers are running. Each answer ends by its own bounds (its
        tokens, its context, a step's time limit), so this does too."""
        with self._done:
            while len(self._running) > max(0, most):
                self._done.wait(1.0)


def _at_once(runtime: decode.Runtime) -> int:
    return runtime.parallel if isinstance(runtime, LlamaRuntime) else 1


def serve(stdin: BinaryIO, out_fd: int) -> None:
    outbox = _Outbox(out_fd)
    inbox = _Inbox(stdin, outbox)
    llama = LlamaRuntime()
    runtime: decode.Runtime = llama
    mlx: MlxRuntime | None = None
    found = backends.load()  # before llama.cpp's first call, which would look for backends elsewhere
    outbox.send(m.Ready(os.getpid(), llama_cpp.__version__, "RPC" in found.registered))
    answers = _Answers(inbox, outbox)
    while True:
        request = inbox.queue.get()
        if isinstance(request, m.Generate):
            answers.start(runtime, request, _at_once(runtime))
            continue
        # Anything else (a load, an unload, leaving) waits for the answers under way, in order.
        answers.wait()
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
