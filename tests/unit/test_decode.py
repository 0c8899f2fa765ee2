"""The one decode loop both backends answer through, driven by a scripted runtime.

The runtime here is a stand-in for a backend at the engine's own seam (``decode.Runtime``): tokens
come out of a script, a step at a time, and a clock of its own says how long each step took, so
the answer's end, its text and its timings can be checked exactly.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

import pytest

from hearth.engine import decode
from hearth.engine import messages as m
from hearth.engine.errors import NoModelLoaded, PromptTooLong

EOS = 0
PIECES = {EOS: "</s>", 1: "Hel", 2: "lo", 3: " ST", 4: "OP", 5: " more", 6: " S", 7: "!"}


class Clock:
    """What the loop reads as time.perf_counter: moved on only by the scripted steps."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


CLOCK = Clock()


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> None:
    CLOCK.now = 100.0
    # The loop's module reads time.perf_counter when it runs, so this is the clock it sees.
    monkeypatch.setattr(time, "perf_counter", CLOCK)


class ScriptedStream:
    drafted = 0  # it guesses nothing
    accepted = 0
    guess_passes = 0

    def __init__(self, runtime: ScriptedRuntime) -> None:
        self.runtime = runtime
        self.steps = 0
        self.closed = False

    def step(self) -> Sequence[int]:
        r = self.runtime
        CLOCK.now += r.prompt_s if self.steps == 0 else r.token_s
        tokens = r.script[self.steps] if self.steps < len(r.script) else ()
        self.steps += 1
        if r.on_step is not None:
            r.on_step(self.steps)
        return tokens

    def text(self, token: int) -> str:
        return PIECES.get(token, f" w{token}")

    def rest(self) -> str:
        return self.runtime.rest

    def close(self) -> None:
        self.closed = True


class ScriptedRuntime:
    """A model whose answers are ``script``: one tuple of tokens per step."""

    def __init__(
        self,
        script: Sequence[Sequence[int]],
        *,
        prompt: int = 4,
        n_ctx: int = 64,
        prompt_s: float = 0.5,
        token_s: float = 0.1,
        rest: str = "",
    ) -> None:
        self.script = [tuple(s) for s in script]
        self.prompt = list(range(100, 100 + prompt))
        self._n_ctx = n_ctx
        self.prompt_s, self.token_s, self.rest = prompt_s, token_s, rest
        self.on_step: Callable[[int], None] | None = None
        self.stream: ScriptedStream | None = None
        self.loaded = True
        self.seen: m.Sampling | None = None

    def load(self, req: m.LoadModel, progress: Callable[[float], bool]) -> m.Loaded:
        self.loaded = True
        return m.Loaded(req.path, self._n_ctx, len(PIECES), False, 0.0)

    def unload(self) -> None:
        self.loaded = False

    @property
    def n_ctx(self) -> int:
        return self._n_ctx

    def prompt_tokens(self, req: m.Generate) -> list[int]:
        if not self.loaded:
            raise NoModelLoaded("no model is loaded")
        return list(self.prompt)

    def is_end(self, token: int) -> bool:
        return token == EOS

    def start(self, prompt: list[int], sampling: m.Sampling) -> ScriptedStream:
        self.seen = sampling
        self.stream = ScriptedStream(self)
        return self.stream


def one_at_a_time(*tokens: int) -> list[tuple[int]]:
    return [(t,) for t in tokens]


def run(
    runtime: ScriptedRuntime, cancelled: threading.Event | None = None, **generate: object
) -> tuple[m.Done, list[m.Token]]:
    request = m.Generate(7, prompt="ignored", **generate)  # type: ignore[arg-type]
    tokens: list[m.Token] = []
    done = decode.answer(runtime, request, tokens.append, cancelled or threading.Event())
    return done, tokens


def texts(tokens: list[m.Token]) -> str:
    return "".join(t.text for t in tokens)


def test_the_end_of_generation_token_ends_the_answer_unshown() -> None:
    runtime = ScriptedRuntime(one_at_a_time(1, 2, EOS, 5))
    done, tokens = run(runtime, max_tokens=10)
    assert [t.id for t in tokens] == [1, 2]
    assert texts(tokens) == "Hello"
    assert (done.reason, done.completion_tokens, done.prompt_tokens, done.request_id) == ("stop", 2, 4, 7)
    assert runtime.stream is not None and runtime.stream.closed


def test_ignore_eos_shows_the_end_token_and_goes_on() -> None:
    done, tokens = run(ScriptedRuntime(one_at_a_time(1, EOS, 2, 7)), max_tokens=3, ignore_eos=True)
    assert [t.id for t in tokens] == [1, EOS, 2]
    assert done.reason == "length" and done.completion_tokens == 3


def test_a_stop_text_split_over_tokens_is_never_shown() -> None:
    runtime = ScriptedRuntime(one_at_a_time(1, 2, 3, 4, 5))
    done, tokens = run(runtime, max_tokens=10, stop=["STOP"])
    assert texts(tokens) == "Hello "
    assert all("S" not in t.text for t in tokens)
    # Every token up to the one that completed the stop counts; nothing after it was asked for.
    assert done.reason == "stop" and done.completion_tokens == 4
    assert runtime.stream is not None and runtime.stream.steps == 4


def test_text_held_back_for_a_stop_that_never_came_is_shown_at_the_end() -> None:
    done, tokens = run(ScriptedRuntime(one_at_a_time(1, 6, EOS), rest="?"), max_tokens=10, stop=["STOP"])
    assert texts(tokens) == "Hel S?"
    # The held-back "S" (it could have begun "STOP") and the detokenizer's remainder arrive together,
    # in a token of no id.
    assert tokens[-1].id == -1 and tokens[-1].text == "S?"
    assert done.reason == "stop" and done.completion_tokens == 2

    done, tokens = run(ScriptedRuntime(one_at_a_time(1, 6)), max_tokens=2, stop=["STOP"])
    assert texts(tokens) == "Hel S" and tokens[-1] == m.Token(7, -1, "S")
    assert done.reason == "length"


def test_max_tokens_ends_with_length_and_computes_no_token_beyond() -> None:
    runtime = ScriptedRuntime(one_at_a_time(*range(10, 30)))
    done, tokens = run(runtime, max_tokens=3)
    assert [t.id for t in tokens] == [10, 11, 12]
    assert done.reason == "length" and done.completion_tokens == 3
    assert runtime.stream is not None and runtime.stream.steps == 3


def test_a_full_context_ends_with_context() -> None:
    runtime = ScriptedRuntime(one_at_a_time(*range(10, 30)), prompt=5, n_ctx=8)
    done, tokens = run(runtime, max_tokens=100)
    assert len(tokens) == 3
    assert done.reason == "context" and done.prompt_tokens + done.completion_tokens == 8


def test_a_prompt_that_fills_the_context_is_refused_before_anything_runs() -> None:
    runtime = ScriptedRuntime(one_at_a_time(1), prompt=8, n_ctx=8)
    with pytest.raises(PromptTooLong, match="8 tokens but the context holds 8"):
        run(runtime)
    assert runtime.stream is None


def test_no_model_is_an_engine_error_of_its_own() -> None:
    runtime = ScriptedRuntime(one_at_a_time(1))
    runtime.unload()
    with pytest.raises(NoModelLoaded):
        run(runtime)


def test_a_cancel_during_a_step_ends_with_what_was_said() -> None:
    runtime = ScriptedRuntime(one_at_a_time(1, 2, 7, 5))
    cancelled = threading.Event()
    # The cancel lands while the third token is being computed: that token is not shown.
    runtime.on_step = lambda n: cancelled.set() if n == 3 else None
    done, tokens = run(runtime, cancelled, max_tokens=10)
    assert [t.id for t in tokens] == [1, 2] and texts(tokens) == "Hello"
    assert done.reason == "cancelled" and done.completion_tokens == 2
    assert runtime.stream is not None and runtime.stream.closed


def test_a_cancel_between_steps_spares_the_next_step() -> None:
    runtime = ScriptedRuntime(one_at_a_time(1, 2, 7, 5))
    cancelled = threading.Event()
    request = m.Generate(1, prompt="x", max_tokens=10)
    shown: list[m.Token] = []

    def emit(token: m.Token) -> None:
        shown.append(token)
        if len(shown) == 2:
            cancelled.set()

    done = decode.answer(runtime, request, emit, cancelled)
    assert done.reason == "cancelled" and done.completion_tokens == 2
    assert runtime.stream is not None and runtime.stream.steps == 2


def test_a_cancel_that_overtook_its_request_evaluates_no_prompt() -> None:
    runtime = ScriptedRuntime(one_at_a_time(1, 2))
    cancelled = threading.Event()
    cancelled.set()
    done, tokens = run(runtime, cancelled)
    assert tokens == [] and done.reason == "cancelled" and done.completion_tokens == 0
    assert runtime.stream is not None and runtime.stream.steps == 0 and runtime.stream.closed


def test_first_token_time_carries_the_prompt_and_decode_time_the_rest() -> None:
    runtime = ScriptedRuntime(one_at_a_time(1, 2, 7, 5, EOS), prompt_s=0.5, token_s=0.1)
    done, _ = run(runtime, max_tokens=10)
    assert done.ttft_s == pytest.approx(0.5)
    # From the first token to the fourth and last shown; the step that found the end adds nothing.
    assert done.decode_s == pytest.approx(0.3)
    assert done.decode_tokens_per_s == pytest.approx(10.0)


def test_an_answer_cancelled_before_its_first_token_has_no_decode_time() -> None:
    runtime = ScriptedRuntime(one_at_a_time(1, 2), prompt_s=0.5)
    cancelled = threading.Event()
    runtime.on_step = lambda n: cancelled.set()
    done, _ = run(runtime, cancelled)
    assert done.reason == "cancelled" and done.decode_s == 0.0
    assert done.ttft_s == pytest.approx(0.5)


def test_several_tokens_in_one_step_are_each_shown_and_the_end_can_fall_mid_step() -> None:
    runtime = ScriptedRuntime([(1, 2, 7), (5, EOS, 6)], prompt_s=0.5, token_s=0.1)
    done, tokens = run(runtime, max_tokens=10)
    assert [t.id for t in tokens] == [1, 2, 7, 5]
    assert done.reason == "stop" and done.completion_tokens == 4
    # Tokens of one step arrive together: the first step carries the prompt, the last one came 0.1 s on.
    assert done.ttft_s == pytest.approx(0.5) and done.decode_s == pytest.approx(0.1)

    done, tokens = run(ScriptedRuntime([(1, 2, 7)]), max_tokens=2)
    assert [t.id for t in tokens] == [1, 2] and done.reason == "length"


def test_a_backend_with_nothing_more_ends_the_answer() -> None:
    done, tokens = run(ScriptedRuntime(one_at_a_time(1, 2)), max_tokens=10)
    assert [t.id for t in tokens] == [1, 2] and done.reason == "stop"


def test_no_tokens_asked_for_none_made() -> None:
    runtime = ScriptedRuntime(one_at_a_time(1, 2))
    done, tokens = run(runtime, max_tokens=0)
    assert tokens == [] and done.reason == "length" and done.completion_tokens == 0
    assert runtime.stream is not None and runtime.stream.steps == 0


def test_the_sampling_reaches_the_backend_and_a_failing_step_still_closes_the_stream() -> None:
    runtime = ScriptedRuntime(one_at_a_time(1, 2))
    run(runtime, temperature=0.0, seed=3, top_k=5)
    assert runtime.seen is not None
    assert (runtime.seen.temperature, runtime.seen.seed, runtime.seen.top_k) == (0.0, 3, 5)

    def fail(n: int) -> None:
        raise RuntimeError("llama_decode returned -1")

    runtime.on_step = fail
    with pytest.raises(RuntimeError, match="llama_decode"):
        run(runtime)
    assert runtime.stream is not None and runtime.stream.closed
