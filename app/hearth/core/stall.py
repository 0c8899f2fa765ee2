"""Whether a worker its host waits on has stopped answering, judged from samples of its process.

A worker that dies closes its sockets, and the host's llama.cpp fails at once. A worker that is
stopped (SIGSTOP, a tracer that never lets go), deadlocked or otherwise wedged keeps them open, and
llama.cpp would wait in its receive forever. The donating node samples the worker's process while the
host waits on it (``StallWatch.observe``) and says when it waits on nothing (``StallWatch.reset``).

Elapsed time alone never decides: a worker computing a long prompt is busy all the while, so only a
worker that makes no progress at all, or cannot run, is given up on. A worker that wants to run but
gets no CPU (a loaded machine) or waits for its disk is making progress as far as it can, so where
the system says so (Linux: a thread in state R or D) it has ``STARVED_FOR_S`` before it is given up.
"""

from __future__ import annotations

from dataclasses import dataclass

# psutil's names for a process that cannot run, with how a person is told.
HALTED = {
    "stopped": "its process is stopped",
    "tracing-stop": "its process is held by a tracer",
    "zombie": "its process has ended",
    "dead": "its process has ended",
}
# A profiler taking a stack, or strace attaching, stops a process for an instant: that is no wedge.
HALTED_FOR_S = 1.0
# A worker computing on a CPU spends CPU time throughout, and a wedged one spends none at all.
IDLE_FOR_CPU_S = 4.0
# A worker waiting for a GPU sleeps until the kernel ends, and one graph of a long prompt on a slow
# GPU can take many seconds: only a much longer silence means the worker is wedged there.
IDLE_FOR_GPU_S = 60.0
# A worker that is runnable or in disk sleep yet gets not one tick of CPU for this long is stuck all
# the same (a disk that no longer answers, a driver in an uninterruptible wait): the host would
# otherwise wait on it forever. A fair scheduler gives a runnable process some CPU well within it.
STARVED_FOR_S = 60.0
# /proc/<pid>/task/<tid>/stat states of a thread that wants the CPU or waits on the kernel for I/O.
_BUSY_STATES = (b"R", b"D")


def thread_busy(stat: bytes) -> bool:
    """Whether a Linux ``/proc/<pid>/task/<tid>/stat`` line says its thread is running, runnable
    (R) or in uninterruptible disk sleep (D). The thread's name comes before the state in
    parentheses and may itself hold parentheses and spaces, so the state is read after the last
    ``)``; a line that does not parse is not busy."""
    close = stat.rfind(b")")
    if close < 0:
        return False
    fields = stat[close + 1 :].split(maxsplit=1)
    return bool(fields) and fields[0] in _BUSY_STATES


@dataclass(frozen=True)
class Sample:
    """The worker's process at one moment while its host waits on it."""

    at: float  # seconds on a monotonic clock
    status: str  # the process's state as psutil names it ("running", "sleeping", "stopped", ...)
    cpu_s: float  # CPU time the process has used so far, user and system
    received: int  # bytes the worker has sent towards its host so far (only compared for change)
    # Whether a thread of it is runnable or in disk sleep, where the system says so reliably (Linux's
    # per-thread states); False elsewhere. psutil's "running" is no such word on macOS, where a
    # process that waits on a socket is "running" too.
    busy: bool = False


class StallWatch:
    """Samples in time order in, a reason out once the worker has stopped answering."""

    def __init__(
        self,
        idle_for_s: float = IDLE_FOR_CPU_S,
        halted_for_s: float = HALTED_FOR_S,
        starved_for_s: float = STARVED_FOR_S,
    ) -> None:
        self.idle_for_s = idle_for_s
        self.halted_for_s = halted_for_s
        # Never shorter than the idle bound: being busy only ever buys time.
        self.starved_for_s = max(starved_for_s, idle_for_s)
        # The first sample since which the worker has used no CPU and sent nothing while its host
        # waited, busy or not.
        self._still_since: Sample | None = None
        # When the worker was last seen making progress or busy: the idle bound counts from there.
        self._quiet_from = 0.0
        # When the process was first seen unable to run, in an unbroken run of such samples.
        self._halted_since: float | None = None

    def reset(self) -> None:
        """The host waits on nothing now: whatever the worker does next is not a stall."""
        self._still_since = None
        self._halted_since = None

    def observe(self, sample: Sample) -> str | None:
        """A sample taken while the host waits; why the worker has stopped answering, or None."""
        since = self._still_since
        if since is None or sample.cpu_s != since.cpu_s or sample.received != since.received:
            self._still_since = since = sample
            self._quiet_from = sample.at
        elif sample.busy:
            self._quiet_from = sample.at
        if sample.status not in HALTED:
            self._halted_since = None
        elif self._halted_since is None:
            self._halted_since = sample.at
        still = sample.at - since.at
        quiet = sample.at - self._quiet_from
        if (
            self._halted_since is not None
            and sample.at - self._halted_since >= self.halted_for_s
            and quiet >= self.halted_for_s
        ):
            return HALTED[sample.status]
        if quiet >= self.idle_for_s:
            return f"it used no CPU for {still:.0f} s while its host waited for an answer"
        if still >= self.starved_for_s:
            return (
                f"it got no CPU for {still:.0f} s while its host waited for an answer, though it was "
                "ready to run or waiting for its disk"
            )
        return None
