"""Downloads under way in this process: start, pause, resume, cancel, and what each has done so far.

A paused or failed download keeps its partial files; resuming asks the hub only for the rest. A
restarted app finds those files and carries on where they stop (``hearth.models.transfer``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from hearth.models.hub import Hub, RemoteModel
from hearth.models.transfer import Progress, discard, download


class State(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    FAILED = "failed"
    DONE = "done"


@dataclass
class DownloadJob:
    model: RemoteModel
    state: State = State.RUNNING
    progress: Progress | None = None
    error: str = ""
    path: str = ""  # once done: the model's (first) file
    task: asyncio.Task[None] | None = field(default=None, repr=False)

    @property
    def key(self) -> str:
        return self.model.key


class Downloads:
    def __init__(
        self,
        folder: Callable[[], Path],
        hub: Callable[[], Hub],
        on_change: Callable[[DownloadJob], None],
    ) -> None:
        self._folder = folder
        self._hub = hub
        self._on_change = on_change
        self.jobs: dict[str, DownloadJob] = {}

    def start(self, model: RemoteModel) -> DownloadJob:
        """Start (or resume) downloading ``model``; a download already running is left to run."""
        key = model.key
        job = self.jobs.get(key)
        if job is not None and job.state is State.RUNNING:
            return job
        job = self.jobs[key] = DownloadJob(model)
        job.task = asyncio.ensure_future(self._run(job))
        self._on_change(job)
        return job

    async def _run(self, job: DownloadJob) -> None:
        def progress(p: Progress) -> None:
            job.progress = p
            self._on_change(job)

        try:
            path = await download(self._hub(), job.model, self._folder(), progress)
        except asyncio.CancelledError:
            if job.state is State.RUNNING:
                job.state = State.PAUSED
            self._on_change(job)
            raise
        except Exception as exc:  # every failure is shown on the job, none is lost
            job.state, job.error = State.FAILED, str(exc) or type(exc).__name__
        else:
            job.state, job.path = State.DONE, str(path)
        self._on_change(job)

    async def pause(self, key: str) -> None:
        """Stop the transfer; what arrived stays for ``resume``."""
        job = self.jobs.get(key)
        if job is not None and job.task is not None and not job.task.done():
            job.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await job.task

    def resume(self, key: str) -> DownloadJob:
        return self.start(self.jobs[key].model)

    async def cancel(self, key: str) -> None:
        """Stop the transfer and remove what it left."""
        job = self.jobs.get(key)
        if job is None:
            return
        await self.pause(key)
        discard(job.model, self._folder())
        del self.jobs[key]
        self._on_change(job)

    async def close(self) -> None:
        for key in list(self.jobs):
            await self.pause(key)
