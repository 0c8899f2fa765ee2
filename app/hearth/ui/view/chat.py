"""The chat page without Qt: the conversation shown, how each answer ended, what the buttons may do,
and what the page says about the model and the devices serving it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

from hearth.core.names import model_details, model_display_name
from hearth.core.planner import Prediction
from hearth.service.chat import ChatSession, Done, MessageStatus
from hearth.service.conversations import Message
from hearth.service.serving import Queue
from hearth.service.serving_state import Loaded, Loading, Lost, ServingState
from hearth.service.turns import Who


class Role(StrEnum):
    USER = "user"
    ASSISTANT = "assistant"
    SYSTEM = "system"


@dataclass
class Entry:
    """One message as the page shows it."""

    role: Role
    text: str = ""
    status: MessageStatus = MessageStatus.DONE
    error: str | None = None  # why it failed, when it did and the page knows


@dataclass(frozen=True)
class Buttons:
    stop: bool  # the send button stops the answer under way
    send: bool
    regenerate: bool
    edit: bool
    copy: bool


@dataclass(frozen=True)
class Heading:
    """The loaded model, as the line above the conversation names it."""

    name: str
    devices: tuple[str, ...]
    continues_text: bool  # a base model: it carries text on rather than answering as an assistant
    details: str = ""  # architecture and quantization, beside the name


@dataclass(frozen=True)
class ModelLost:
    """Devices of the plan left and the model stopped (or is being loaded again without them)."""

    names: tuple[str, ...]
    replan_failed: str  # why planning again on its own did not work; "" when it was not tried


@dataclass(frozen=True)
class FasterPlan:
    """Devices that joined would make the loaded model faster."""

    tokens_per_s: float
    instead_of: float


@dataclass(frozen=True)
class NoModel:
    pass


Notice = ModelLost | FasterPlan | NoModel


@dataclass(frozen=True)
class Stats:
    """How the last answer went."""

    tokens_per_s: float
    first_token_ms: float
    context_used: float  # of the loaded model's context, 0 to 1 (or more)
    devices: tuple[str, ...]
    stopped: bool
    kept: float | None = None  # the share of guessed tokens the model confirmed; None: none guessed


@dataclass(frozen=True)
class Activity:
    """Who else the model is busy with."""

    other_app: bool  # answering another app now
    waiting: int
    running: int = 0  # answers being given now, this chat's among them
    at_once: int = 1  # how many answers the loaded model gives together
    this_waits: bool = False  # this chat's answer waits for a place: every one is taken


class ChatView:
    """The conversation the page shows and the turn under way, if any.

    The page runs the session's coroutines and tells this what happened; the buttons, the notes and
    what may be done next all follow from it."""

    def __init__(self) -> None:
        self.messages: list[Entry] = []
        self.session: ChatSession | None = None
        self.answering = False
        self.last_done: Done | None = None
        # The answer being given: pieces go to it even if the messages shown change meanwhile.
        self._answer: Entry | None = None

    # --- what may be done ---

    def buttons(self, has_model: bool) -> Buttons:
        """What the buttons may do, with a model loaded or not."""
        idle = not self.answering
        asked = any(x.role is Role.USER for x in self.messages)
        return Buttons(
            stop=self.answering,
            send=self.answering or has_model,
            regenerate=idle and has_model and self.session is not None,
            edit=idle and self.session is not None and asked,
            copy=self.last_answer() is not None,
        )

    def question(self, text: str, has_model: bool) -> str:
        """``text`` as it would be asked; "" when nothing can be asked now."""
        text = text.strip()
        return text if text and has_model and not self.answering else ""

    def may_edit(self) -> bool:
        """Whether the last question may be taken back now (the session says whether there is one)."""
        return self.session is not None and not self.answering

    def may_leave(self) -> bool:
        """Whether another conversation may be shown: never in the middle of an answer."""
        return not self.answering

    def last_answer(self) -> str | None:
        answers = [x.text for x in self.messages if x.role is Role.ASSISTANT and x.text]
        return answers[-1] if answers else None

    # --- what happens ---

    def new_chat(self) -> bool:
        """An empty conversation; refused (False) while an answer is under way."""
        if self.answering:
            return False
        self.session = None
        self.messages = []
        return True

    def opened(self, session: ChatSession, messages: Iterable[Message]) -> None:
        """A stored conversation, carried on in ``session``."""
        self.session = session
        # The stored error is not shown: reopened, a failed answer has only ever said that it failed.
        self.messages = [Entry(Role(x.role), x.content, x.status) for x in messages]

    def asked(self, session: ChatSession, question: str) -> None:
        """``question`` sent in ``session``; its answer begins."""
        self.session = session
        self.messages.append(Entry(Role.USER, question))
        self._begin()

    def regenerating(self) -> None:
        """The last question is answered again: the last answer gives way to the new one."""
        if self.messages and self.messages[-1].role is Role.ASSISTANT:
            self.messages.pop()
        self._begin()

    def _begin(self) -> None:
        self._answer = Entry(Role.ASSISTANT, status=MessageStatus.STREAMING)
        self.messages.append(self._answer)
        self.answering = True

    def piece(self, text: str) -> None:
        """A piece of the answer under way."""
        if self._answer is not None:
            self._answer.text += text

    def done(self, done: Done) -> None:
        """The answer ended as the model says: complete, or cut short by Stop."""
        self.last_done = done
        self._end(MessageStatus.STOPPED if done.reason == "cancelled" else MessageStatus.DONE)

    def stopped(self) -> None:
        """The answer was withdrawn before it ended (or before its turn came)."""
        self._end(MessageStatus.STOPPED)

    def failed(self, why: str) -> None:
        self._end(MessageStatus.FAILED, why)

    def _end(self, status: MessageStatus, error: str | None = None) -> None:
        if self._answer is not None:
            self._answer.status, self._answer.error = status, error
        self._answer = None
        self.answering = False

    def taken_back(self) -> None:
        """The last question and what came after it leave the conversation."""
        users = [i for i, x in enumerate(self.messages) if x.role is Role.USER]
        if users:
            del self.messages[users[-1] :]


# --- what the page says about the model ---


def heading(model: Loaded | None) -> Heading | None:
    if model is None:
        return None  # the notice says what to do
    profile = model.profile
    name = model_display_name(profile.path, profile.name)
    details = model_details(profile.architecture, profile.dominant_type)
    return Heading(name, model.devices, not profile.has_chat_template, details)


def notice(state: ServingState, better_plan: Callable[[], Prediction | None]) -> Notice | None:
    """What the page says about the devices for the model in ``state``; ``better_plan`` is asked only
    of a loaded model, since finding one plans over every device."""
    match state:
        case (Lost() as lost) | Loading(after=Lost() as lost):
            return ModelLost(lost.names, lost.replan_failed)
        case Loaded() as model:
            better = better_plan()
            return None if better is None else FasterPlan(better.tokens_per_s, model.tokens_per_s)
    return NoModel()


def stats(done: Done, model: Loaded | None) -> Stats:
    used = (done.prompt_tokens + done.completion_tokens) / model.n_ctx if model else 0.0
    return Stats(
        done.decode_tokens_per_s,
        done.ttft_s * 1000,
        used,
        model.devices if model else (),
        done.reason == "cancelled",
        done.acceptance,
    )


def activity(queue: Queue) -> Activity | None:
    """Who else the model serves or who waits for it, when this chat should say so: why this chat's
    answer waits, and how many answers run beside it on a model that gives several at once."""
    other_app = queue.serving is Who.API
    said = Activity(other_app, queue.waiting, queue.answering, queue.at_once, queue.chat_waiting)
    if queue.chat_waiting or other_app or (queue.serving is None and queue.waiting):
        return said
    if queue.at_once > 1 and queue.answering > 1:
        return said  # this chat among others' answers
    return None
