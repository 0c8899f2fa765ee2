"""The pages' view-models (``hearth.ui.view``), without Qt: they import none of it, and every state and
rule the chat and planner pages follow is checked here as plain values."""

from __future__ import annotations

import ast
import asyncio
import dataclasses
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import hearth
from hearth.core.plan import HOST, Plan, PlanKey, parse_plan
from hearth.core.plan_edit import PlanDraft
from hearth.core.planner import DeviceSpec, Prediction, auto_plan, predict
from hearth.core.profile import ModelProfile, shaped_profile
from hearth.engine import messages as m
from hearth.engine.client import EngineError
from hearth.service.chat import ChatSession, MessageStatus
from hearth.service.models import LibraryEntry
from hearth.service.planning import PlanningDevice, keyed_specs
from hearth.service.serving import Queue
from hearth.service.serving_state import Idle, Loaded, Loading, Lost
from hearth.service.turns import Who
from hearth.store.conversations import ConversationStore
from hearth.ui.view import chat as chat_view
from hearth.ui.view import planner as planner_view
from hearth.ui.view.chat import ChatView, Entry, Role
from hearth.ui.view.planner import (
    DevicesLeft,
    FasterPlan,
    MlxAlone,
    PlannerView,
    PlanStatus,
    Proposal,
    context_steps,
)

VIEW = Path(hearth.__file__).parent / "ui" / "view"
QT = ("PySide6", "qasync", "shiboken6")
MIB = 2**20


# --- no Qt ---


def _view_modules() -> list[str]:
    return sorted(
        ".".join(("hearth", "ui", "view", *p.relative_to(VIEW).with_suffix("").parts)).removesuffix(
            ".__init__"
        )
        for p in VIEW.rglob("*.py")
    )


def _imported(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
    return found


def test_the_view_models_import_no_qt() -> None:
    offenders = {}
    for path in VIEW.rglob("*.py"):
        # The widgets beside this package are Qt through and through: reaching them brings it in.
        bad = {
            name
            for name in _imported(path)
            if name.split(".")[0] in QT
            or (name.startswith("hearth.ui.") and not name.startswith("hearth.ui.view"))
        }
        if bad:
            offenders[str(path.relative_to(VIEW))] = sorted(bad)
    assert not offenders, offenders


def test_importing_the_view_models_loads_no_qt_at_all() -> None:
    modules = _view_modules()
    assert {"hearth.ui.view.chat", "hearth.ui.view.planner"} <= set(modules)
    probe = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {QT!r}))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_qt_check_sees_an_import_of_qt(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from PySide6.QtCore import QObject\nimport hearth.ui.tasks\nfrom hearth.core import fill\n"
    )
    assert _imported(sample) >= {"PySide6.QtCore", "hearth.ui.tasks"}


# --- the chat page ---


def _profile(**changes: object) -> ModelProfile:
    base = shaped_profile(
        [100 * MIB] * 8,
        embedding_length=256,
        feed_forward_length=512,
        head_count=4,
        head_count_kv=2,
        vocab_size=32000,
        head_bytes=4 * MIB,
    )
    defaults: dict[str, Any] = {
        "path": "/models/alpha.gguf",
        "name": "Alpha",
        "context_length": 8192,
        "has_chat_template": True,
    }
    return dataclasses.replace(base, **{**defaults, **changes})


def _session() -> ChatSession:
    async def never(request: m.Generate, on_token: Callable[[m.Token], None]) -> m.Done:
        raise AssertionError("the view-model runs nothing")

    return ChatSession(never, "alpha.gguf")


def _done(reason: m.StopReason = "stop", prompt: int = 100, completion: int = 28) -> m.Done:
    return m.Done(0, reason, prompt, completion, 0.25, 1.0)


def test_a_question_and_its_answer_as_they_stream_and_end() -> None:
    chat = ChatView()
    assert chat.question("  hello \n", has_model=True) == "hello"
    assert chat.question("   ", has_model=True) == ""
    assert chat.question("hello", has_model=False) == ""

    chat.asked(_session(), "hello")
    assert [(x.role, x.text, x.status) for x in chat.messages] == [
        (Role.USER, "hello", MessageStatus.DONE),
        (Role.ASSISTANT, "", MessageStatus.STREAMING),
    ]
    assert chat.answering and chat.question("again", has_model=True) == ""
    assert chat.buttons(has_model=True) == chat_view.Buttons(
        stop=True, send=True, regenerate=False, edit=False, copy=False
    )
    assert not chat.new_chat() and len(chat.messages) == 2  # not in the middle of an answer

    chat.piece("Hel")
    chat.piece("lo!")
    assert chat.buttons(has_model=True).copy and chat.last_answer() == "Hello!"
    done = _done()
    chat.done(done)
    answer = chat.messages[-1]
    assert (answer.text, answer.status, answer.error) == ("Hello!", MessageStatus.DONE, None)
    assert chat.last_done is done and not chat.answering
    assert chat.buttons(has_model=True) == chat_view.Buttons(
        stop=False, send=True, regenerate=True, edit=True, copy=True
    )
    # Without a model: nothing to send to or answer again with, but the conversation stays editable.
    assert chat.buttons(has_model=False) == chat_view.Buttons(
        stop=False, send=False, regenerate=False, edit=True, copy=True
    )


@pytest.mark.parametrize(
    ("end", "status", "error"),
    [
        (lambda chat: chat.done(_done("cancelled")), MessageStatus.STOPPED, None),
        (lambda chat: chat.done(_done("length")), MessageStatus.DONE, None),
        (lambda chat: chat.stopped(), MessageStatus.STOPPED, None),
        (lambda chat: chat.failed("desk left"), MessageStatus.FAILED, "desk left"),
    ],
)
def test_how_an_answer_ends(
    end: Callable[[ChatView], None], status: MessageStatus, error: str | None
) -> None:
    chat = ChatView()
    chat.asked(_session(), "hi")
    chat.piece("partial")
    end(chat)
    answer = chat.messages[-1]
    assert (answer.text, answer.status, answer.error) == ("partial", status, error)
    assert not chat.answering


def test_regenerating_replaces_the_last_answer() -> None:
    chat = ChatView()
    chat.asked(_session(), "hi")
    chat.piece("first")
    chat.done(_done())
    chat.regenerating()
    assert [(x.role, x.text, x.status) for x in chat.messages] == [
        (Role.USER, "hi", MessageStatus.DONE),
        (Role.ASSISTANT, "", MessageStatus.STREAMING),
    ]
    # The old answer is still what Copy takes until the new one says something.
    assert chat.last_answer() is None and chat.answering
    chat.piece("second")
    chat.done(_done())
    assert [x.text for x in chat.messages] == ["hi", "second"]


def test_pieces_go_to_the_answer_under_way_whatever_is_shown() -> None:
    chat = ChatView()
    chat.asked(_session(), "hi")
    answer = chat.messages[-1]
    chat.messages = [Entry(Role.USER, "something else")]
    chat.piece("late")
    chat.failed("gone")
    assert (answer.text, answer.status, answer.error) == ("late", MessageStatus.FAILED, "gone")
    assert chat.messages == [Entry(Role.USER, "something else")]


def test_taking_back_the_last_exchange() -> None:
    chat = ChatView()
    chat.asked(_session(), "one")
    chat.done(_done())
    chat.asked(chat.session or _session(), "two")
    chat.failed("boom")
    assert chat.may_edit()
    chat.taken_back()
    assert [x.text for x in chat.messages] == ["one", ""]
    chat.taken_back()
    assert chat.messages == []
    assert not chat.buttons(has_model=True).edit  # nothing asked is left to take back
    chat.taken_back()  # and doing it again changes nothing
    assert chat.messages == [] and chat.session is not None


def test_a_new_chat_forgets_the_conversation_but_not_the_last_stats() -> None:
    chat = ChatView()
    chat.asked(_session(), "hi")
    done = _done()
    chat.done(done)
    assert chat.new_chat()
    assert chat.messages == [] and chat.session is None and chat.last_done is done
    assert chat.buttons(has_model=True) == chat_view.Buttons(
        stop=False, send=True, regenerate=False, edit=False, copy=False
    )


def test_a_stored_conversation_opens_with_typed_statuses(tmp_path: Path) -> None:
    """Written by the service as it answers, read back by the store, shown by the view-model."""
    store = ConversationStore(tmp_path / "c.db")
    said: list[str] = []

    async def answers(request: m.Generate, on_token: Callable[[m.Token], None]) -> m.Done:
        on_token(m.Token(0, 1, "Par"))
        if len(request.messages or []) > 2:
            raise EngineError("desk stopped answering")
        return _done("cancelled")

    async def talk() -> ChatSession:
        session = ChatSession(answers, "alpha.gguf", store=store)
        await session.ask("first", said.append)
        with pytest.raises(EngineError):
            await session.ask("second", said.append)
        return session

    session = asyncio.run(talk())
    assert session.conversation_id is not None
    stored = store.messages(session.conversation_id)
    assert [(x.status, x.error) for x in stored] == [
        (MessageStatus.DONE, None),
        (MessageStatus.STOPPED, None),
        (MessageStatus.DONE, None),
        (MessageStatus.FAILED, "desk stopped answering"),
    ]
    assert all(type(x.status) is MessageStatus for x in stored)

    chat = ChatView()
    chat.opened(session, stored)
    assert [(x.role, x.text, x.status) for x in chat.messages] == [
        (Role.USER, "first", MessageStatus.DONE),
        (Role.ASSISTANT, "Par", MessageStatus.STOPPED),
        (Role.USER, "second", MessageStatus.DONE),
        (Role.ASSISTANT, "Par", MessageStatus.FAILED),
    ]
    # Reopened, a failed answer says only that it failed, as it always has.
    assert chat.messages[-1].error is None
    assert chat.session is session and chat.buttons(has_model=True).regenerate
    store.close()


def _loaded(tokens_per_s: float = 10.0, chat_template: bool = True) -> Loaded:
    profile = _profile(has_chat_template=chat_template)
    return Loaded(profile, parse_plan("host:0-7", 8), 512, ("alpha", "desk"), tokens_per_s=tokens_per_s)


def _lost(replan_failed: str = "") -> Lost:
    return Lost(_profile(), 512, ("id-desk",), ("desk",), ("desk left",), replan_failed)


def _prediction(tokens_per_s: float) -> Prediction:
    return Prediction(parse_plan("host:0-7", 8), (), 1 / tokens_per_s, {})


def test_the_notice_follows_what_serving_is_doing() -> None:
    asked: list[bool] = []

    def better(found: Prediction | None) -> Callable[[], Prediction | None]:
        def plan() -> Prediction | None:
            asked.append(True)
            return found

        return plan

    none = better(None)
    assert chat_view.notice(Idle(), none) == chat_view.NoModel()
    assert chat_view.notice(Loading(_profile(), parse_plan("host:0-7", 8), 512), none) == chat_view.NoModel()
    assert chat_view.notice(_lost(), none) == chat_view.ModelLost(("desk",), "")
    loading_again = Loading(_profile(), parse_plan("host:0-7", 8), 512, after=_lost("no room"))
    assert chat_view.notice(loading_again, none) == chat_view.ModelLost(("desk",), "no room")
    assert not asked  # planning over every device is only worth it for a model that answers
    assert chat_view.notice(_loaded(), none) is None
    assert chat_view.notice(_loaded(10.0), better(_prediction(25.0))) == chat_view.FasterPlan(25.0, 10.0)
    assert len(asked) == 2


def test_the_heading_stats_and_activity() -> None:
    assert chat_view.heading(None) is None
    # Named as its file is (alpha.gguf), not by the GGUF's own name; the architecture beside it.
    assert chat_view.heading(_loaded()) == chat_view.Heading("alpha", ("alpha", "desk"), False, "llama")
    assert chat_view.heading(_loaded(chat_template=False)) == chat_view.Heading(
        "alpha", ("alpha", "desk"), True, "llama"
    )

    stats = chat_view.stats(_done("cancelled", prompt=100, completion=28), _loaded())
    assert stats == chat_view.Stats(27.0, 250.0, 0.25, ("alpha", "desk"), True)
    unloaded = chat_view.stats(_done(), None)
    assert (unloaded.context_used, unloaded.devices, unloaded.stopped) == (0.0, (), False)

    assert chat_view.activity(Queue(Who.API, 2)) == chat_view.Activity(True, 2)
    assert chat_view.activity(Queue(None, 3)) == chat_view.Activity(False, 3)
    assert chat_view.activity(Queue(None, 0)) is None
    assert chat_view.activity(Queue(Who.CHAT, 1)) is None  # this chat's own answer says enough


# --- the planner page ---


def _device(name: str, memory: int, bytes_per_s: float = 20e9, hop_s: float = 0.001) -> PlanningDevice:
    key = PlanKey(name)
    spec = DeviceSpec(key, memory, bytes_per_s, 0.0 if key == HOST else hop_s)
    return PlanningDevice(key, "alpha" if key == HOST else f"{key}-name", memory, memory, memory, spec)


class FakePlans:
    """The plans service over devices given here, with llama.cpp's sizing played by a set of plans."""

    def __init__(self, *devices: PlanningDevice) -> None:
        self.listed = list(devices)
        self.sized_plans: set[tuple[str, int]] = set()

    def devices(self) -> list[PlanningDevice]:
        return list(self.listed)

    def predict(self, profile: ModelProfile, plan: Plan, n_ctx: int) -> Prediction:
        host, remotes = keyed_specs(self.listed)
        return predict(profile, host, remotes, plan, n_ctx)

    def auto_plan(self, profile: ModelProfile, n_ctx: int) -> Prediction:
        host, remotes = keyed_specs(self.listed)
        return auto_plan(profile, host, remotes, n_ctx)

    def sized_at_hand(self, profile: ModelProfile, prediction: Prediction, n_ctx: int) -> Prediction:
        known = (str(prediction.plan), n_ctx) in self.sized_plans
        return dataclasses.replace(prediction, sized_by_llama=True) if known else prediction

    async def sized(self, profile: ModelProfile, prediction: Prediction, n_ctx: int) -> Prediction:
        self.sized_plans.add((str(prediction.plan), n_ctx))
        return dataclasses.replace(prediction, sized_by_llama=True)


def _planner(
    *devices: PlanningDevice, profiles: tuple[ModelProfile, ...] = ()
) -> tuple[PlannerView, FakePlans]:
    plans = FakePlans(*(devices or (_device(HOST, 4096 * MIB),)))
    view = PlannerView(plans)
    view.listed([LibraryEntry(p.path, p) for p in profiles or (_profile(),)])
    return view, plans


def test_context_steps_and_the_slider() -> None:
    assert context_steps(4096) == [256, 512, 1024, 2048, 4096]
    assert context_steps(3000) == [256, 512, 1024, 2048, 3000]
    assert context_steps(100) == [256]
    view, _ = _planner()
    assert view.choose(0)
    assert view.steps() == [256, 512, 1024, 2048, 4096, 8192]
    assert view.n_ctx == 4096 and view.ctx_index == 4  # at most 4096 until the user asks for more
    assert view.index_for(3000) == 3 and view.index_for(1) == 0


def test_choosing_a_model_plans_it_over_the_devices_there_are() -> None:
    view, _ = _planner(_device(HOST, 4096 * MIB), _device("desk", 4096 * MIB))
    assert not view.may_load() and view.begin_load() is None
    assert view.choose(0)
    assert view.profile is not None and [d.key for d in view.devices] == [HOST, "desk"]
    assert view.draft is not None and view.draft.n_layers == 8 and view.draft.devices[0] == HOST
    assert view.prediction is not None and not view.prediction.over
    assert view.status is PlanStatus.NOTE and view.note is None and view.may_load()
    # The estimate is shown at once, and is to be sized by llama.cpp once it settles.
    assert view.predictions == 1 and view.to_size is not None and view.to_size.n_ctx == 4096
    columns = view.columns_version
    assert not view.choose(0)  # the same model again changes nothing
    assert view.columns_version == columns and view.predictions == 1

    view.listed([])
    assert view.choose(-1)
    assert view.profile is None and view.draft is None and not view.may_load()


def test_the_library_read_again_keeps_the_plan_the_user_edited() -> None:
    view, _ = _planner(_device(HOST, 4096 * MIB), _device("desk", 4096 * MIB))
    assert view.choose(0)
    view.set_context(1)
    assert view.drop(0, 3, 1) and view.draft is not None
    edited, n_ctx = view.draft.counts, view.n_ctx
    # A download ends elsewhere in the library: every entry is read again, the same file among them.
    view.listed([LibraryEntry(p.path, dataclasses.replace(p)) for p in (_profile(),)])
    assert not view.choose(0)
    assert view.draft.counts == edited and view.n_ctx == n_ctx
    # The file itself changed (another size): it is planned anew.
    view.listed([LibraryEntry(_profile().path, _profile(file_size=_profile().file_size + 1))])
    assert view.choose(0)


def test_llama_cpps_sizing_is_shown_only_for_the_plan_still_drafted(monkeypatch: pytest.MonkeyPatch) -> None:
    view, _ = _planner()
    view.choose(0)
    request = view.to_size
    assert request is not None
    monkeypatch.setattr(planner_view, "SIZE_AFTER_S", 0)
    asked, sized = asyncio.run(view.size(request))
    assert asked is request and sized.sized_by_llama
    view.set_context(0)  # the user moved on to 256 tokens meanwhile
    assert not view.sized(request, sized)
    assert view.prediction is not None and not view.prediction.sized_by_llama
    view.set_context(request_index := view.index_for(request.n_ctx))
    assert view.ctx_index == request_index and view.sized(request, sized)
    assert view.prediction is sized
    # Once llama.cpp has seen a plan, predicting it again is sized at once: nothing left to ask.
    view.update()
    assert view.prediction.sized_by_llama and view.to_size is None
    assert not view.sized(request, dataclasses.replace(sized, sized_by_llama=False))


def test_layers_dropped_on_a_device_that_cannot_hold_them() -> None:
    view, _ = _planner(_device(HOST, 4096 * MIB), _device("small", 150 * MIB, bytes_per_s=1e9))
    view.choose(0)
    view.set_context(0)
    assert view.draft is not None and view.draft.counts == [8, 0]  # a slow, small device gets nothing
    assert view.drop(4, 8, 1)
    assert view.draft.counts == [4, 4]
    assert view.status is PlanStatus.OVER and not view.may_load()
    assert [o.device for o in view.overflows()] == ["small"]
    # Back onto this device: it fits, and the line goes back to saying nothing.
    assert view.drop(4, 8, 0) and view.draft.counts == [8, 0]
    status = PlanStatus(view.status)  # read again: the drop changed it
    assert status is PlanStatus.NOTE and view.may_load() and view.overflows() == []
    assert not view.drop(0, 2, 5)  # no such column
    assert PlanStatus(view.status) is PlanStatus.NOTE


def test_a_plan_that_cannot_be_made_says_why() -> None:
    view, _ = _planner(_device(HOST, 64 * MIB))
    view.choose(0)
    # Nothing fits: everything is drafted on this device, and the line says what would overflow.
    assert view.draft is not None and view.draft.counts == [8]
    assert view.status is PlanStatus.OVER and not view.may_load()
    view.say_problem("the library could not be read")
    status = PlanStatus(view.status)  # read again: saying the problem changed it
    assert (status, view.problem) == (PlanStatus.PROBLEM, "the library could not be read")
    view.draft = PlanDraft([HOST, PlanKey("gone")], [4, 4])  # over a device that is not there
    view.update()
    assert view.prediction is None and PlanStatus(view.status) is PlanStatus.PROBLEM and not view.may_load()
    assert view.problem and view.problem != "the library could not be read"


def test_the_status_line_through_a_load() -> None:
    view, plans = _planner(_device(HOST, 4096 * MIB), _device("desk", 4096 * MIB))
    view.choose(0)
    view.note = FasterPlan()
    request = view.begin_load()
    assert request is not None and request.profile is view.profile and request.n_ctx == view.n_ctx
    assert view.draft is not None and request.plan == view.draft.plan()
    assert view.status is PlanStatus.LOADING and view.loading and view.note is None
    assert not view.may_load() and view.begin_load() is None  # one load at a time
    view.load_progress({HOST: 0.5})
    assert view.progress == {HOST: 0.5}

    view.loaded(("alpha", "desk-name"))
    assert (view.status, view.loaded_on) == (PlanStatus.LOADED, ("alpha", "desk-name"))
    assert not view.loading and view.progress is None and view.may_load()
    # Told of what is served, as after every model change: the same file on the same devices keeps it.
    assert view.profile is not None
    view.served(view.profile.path, ("alpha", "desk-name"))
    assert view.status is PlanStatus.LOADED
    # Redrawn every second as the devices report, the plan keeps saying the model loaded...
    view.refresh()
    view.update()
    assert view.status is PlanStatus.LOADED
    # ...until something needs saying instead.
    assert view.drop(0, 8, 1)
    plans.listed[1] = dataclasses.replace(
        plans.listed[1], spec=dataclasses.replace(plans.listed[1].spec, memory_bytes=10 * MIB)
    )
    view.update()
    assert view.status is PlanStatus.OVER

    # The same file loaded again elsewhere, by another plan (an app's request, a paired device's):
    # this plan is not what is loaded.
    view.begin_load()
    view.loaded(("alpha", "desk-name"))
    view.served(view.profile.path, ("alpha",))
    assert (view.status, view.loaded_on) == (PlanStatus.NOTE, ())
    # On the same devices, split another way: told by the plan the service loaded.
    loaded_as = view.draft.plan()
    other = dataclasses.replace(loaded_as, assignments=loaded_as.assignments[::-1])
    view.begin_load()
    view.loaded(("alpha", "desk-name"), loaded_as)
    view.served(view.profile.path, ("alpha", "desk-name"), loaded_as)
    assert view.status is PlanStatus.LOADED
    view.served(view.profile.path, ("alpha", "desk-name"), other)
    assert (view.status, view.loaded_on, view.loaded_plan) == (PlanStatus.NOTE, (), None)
    view.begin_load()
    view.loaded(("alpha", "desk-name"))
    view.served(None)
    assert (view.status, view.loaded_on) == (PlanStatus.NOTE, ())

    view.begin_load()
    view.load_failed("desk stopped answering")
    assert (view.status, view.problem) == (PlanStatus.LOAD_FAILED, "desk-name stopped answering")
    assert not view.loading
    view.begin_load()
    view.load_cancelled()
    assert view.status is PlanStatus.CANCELLED and not view.loading and view.progress is None


def test_devices_that_come_and_go() -> None:
    view, plans = _planner(_device(HOST, 4096 * MIB))
    view.choose(0)
    columns = view.columns_version
    view.refresh()  # nothing changed: predicted again, same columns
    assert view.columns_version == columns and view.predictions == 2

    plans.listed.append(_device("desk", 4096 * MIB))
    view.refresh()
    # A device that joined gets a column; the plan stays as it was, with nothing on it.
    assert view.columns_version == columns + 1
    assert view.draft is not None and view.draft.devices == [HOST, "desk"] and view.draft.counts == [8, 0]

    assert view.drop(4, 8, 1) and view.draft.counts == [4, 4]
    plans.listed.pop()
    view.refresh()
    # It left holding layers: planned again over the devices left.
    assert view.columns_version == columns + 2
    assert view.draft.devices == [HOST] and view.draft.counts == [8]


def test_proposals_and_what_a_copy_of_the_page_takes_over() -> None:
    other = _profile(path="/models/beta.gguf", name="Beta")
    view, plans = _planner(
        _device(HOST, 4096 * MIB), _device("desk", 4096 * MIB), profiles=(_profile(), other)
    )
    assert view.keep() is None
    view.choose(0)
    assert view.draft is not None
    view.draft.counts[:] = [3, 5]
    kept = view.keep()
    assert kept == Proposal("/models/alpha.gguf", 4096, None, view.draft)

    copy = PlannerView(plans)
    copy.listed(view.entries)
    copy.proposal = kept
    copy.choose(0)
    assert copy.apply_proposal() and copy.proposal is None
    assert copy.draft is kept.draft and copy.n_ctx == 4096

    # A proposal after devices left: its note, at its context, the best plan over the devices there are.
    copy.proposal = Proposal(
        "/models/alpha.gguf", 1024, DevicesLeft(("laptop",)), PlanDraft([HOST, "laptop"], [4, 4])
    )
    assert copy.apply_proposal()
    assert copy.note == DevicesLeft(("laptop",)) and copy.n_ctx == 1024
    assert copy.draft is not None and copy.draft.devices == [HOST, "desk"]
    assert copy.status is PlanStatus.NOTE

    # One for another model waits for nobody: the model chosen is what the library said.
    copy.proposal = Proposal(other.path, 512, FasterPlan())
    assert not copy.apply_proposal() and copy.proposal is None
    assert copy.note == DevicesLeft(("laptop",))


def test_an_mlx_model_runs_alone_and_offers_its_gguf() -> None:
    mlx = _profile(path="/models/qwen-mlx", name="Qwen2.5-0.5B-Instruct-4bit", format="mlx")
    gguf = _profile(path="/models/qwen.gguf", name="Qwen2.5 0.5B Instruct")
    view, plans = _planner(_device(HOST, 4096 * MIB), profiles=(mlx, gguf))
    view.choose(0)
    assert not view.pools_alone() and view.note is None and not view.offers_twin()
    assert view.twin() == view.entries[1]
    plans.listed.append(_device("desk", 4096 * MIB))
    view.refresh()
    assert view.pools_alone() and view.offers_twin() and view.note == MlxAlone()
    # A note already there is not replaced.
    view.note = DevicesLeft(("laptop",))
    view.update()
    assert view.note == DevicesLeft(("laptop",))
    view.choose(1)
    assert not view.pools_alone() and view.note is None


def test_the_planner_offers_no_embedding_model_for_chat() -> None:
    bert = _profile(path="/models/bge-small.gguf", name="BGE", architecture="bert", has_chat_template=False)
    assert bert.embedding_only and not _profile().embedding_only
    view, _ = _planner(profiles=(_profile(), bert))
    assert [e.path for e in view.entries] == ["/models/alpha.gguf"]
