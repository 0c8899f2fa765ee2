"""The MLX backend behind the same engine process and messages: a tiny random-weight MLX llama model,
written here, answers exactly as mlx-lm called directly; cancel, unload and a dead engine behave as
with llama.cpp. Runs on Linux with mlx[cpu]; skipped where MLX does not install."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import pytest

from hearth.engine import messages as m
from hearth.engine.client import EngineClient, EngineDied, EngineError
from hearth.models import synthetic_mlx
from hearth.models.mlx_model import is_mlx_model, read_mlx_profile

mx = pytest.importorskip("mlx.core", reason="MLX is not installed here")
mlx_lm = pytest.importorskip("mlx_lm", reason="mlx-lm is not installed here")

QUESTION = [m.ChatMessage("user", "w1 w2 w3 w4")]


@pytest.fixture(scope="module")
def mlx_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthetic_mlx.write_model(tmp_path_factory.mktemp("mlx") / "tiny")


def _direct(model: Path, n: int) -> list[int]:
    """Greedy tokens from mlx-lm itself, with the tokenizer's chat template, as its own generate runs."""
    from mlx_lm import load
    from mlx_lm.generate import stream_generate
    from mlx_lm.sample_utils import make_sampler

    lm, tokenizer = load(str(model))[:2]
    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": "w1 w2 w3 w4"}], add_generation_prompt=True
    )
    return [r.token for r in stream_generate(lm, tokenizer, prompt, max_tokens=n, sampler=make_sampler(0.0))]


def _load(model: Path, n_ctx: int = 512) -> m.LoadModel:
    return m.LoadModel(str(model), n_ctx=n_ctx, backend="mlx")


def test_the_profile_is_read_without_mlx(mlx_model: Path) -> None:
    profile = read_mlx_profile(mlx_model)
    assert is_mlx_model(mlx_model) and profile.format == "mlx"
    assert (profile.block_count, profile.vocab_size, profile.head_count_kv) == (2, 256, 2)
    assert profile.has_chat_template and profile.context_length == 2048
    assert len(profile.layer_bytes) == 2 and all(b > 0 for b in profile.layer_bytes)
    size = (mlx_model / "model.safetensors").stat().st_size
    assert 0 < size - profile.tensor_data_bytes < 4096  # only the safetensors header is not a tensor


def test_greedy_output_equals_mlx_lm(mlx_model: Path) -> None:
    async def through_hearth() -> tuple[list[int], m.Loaded, m.Done]:
        client = EngineClient()
        try:
            loaded = await client.load(_load(mlx_model))
            ids: list[int] = []
            request = m.Generate(0, messages=QUESTION, max_tokens=24, temperature=0.0)
            done = await client.generate(request, lambda t: ids.append(t.id) if t.id >= 0 else None)
            return ids, loaded, done
        finally:
            await client.close()

    ids, loaded, done = asyncio.run(through_hearth())
    assert loaded.has_chat_template and loaded.chat_format == "model"
    direct = _direct(
        mlx_model, 24
    )  # mlx-lm's last response repeats the token that ended it (EOS or the 24th)
    assert ids == direct[: len(ids)] and len(ids) >= len(direct) - 1
    assert len(ids) == done.completion_tokens > 0
    assert done.reason in ("length", "stop") and done.prompt_tokens > 0


def test_cancel_unload_and_a_dead_engine(mlx_model: Path) -> None:
    async def scenario() -> None:
        client = EngineClient()
        try:
            await client.load(_load(mlx_model, n_ctx=2048))
            seen = asyncio.Event()
            count = 0

            def on_token(token: m.Token) -> None:
                nonlocal count
                count += 1
                if count == 20:
                    seen.set()

            long = m.Generate(0, prompt="w1", max_tokens=1500, temperature=0.0, ignore_eos=True)
            task = asyncio.create_task(client.generate(long, on_token))
            await asyncio.wait_for(seen.wait(), 60)
            asked = time.perf_counter()
            await client.cancel()
            done = await task
            assert done.reason == "cancelled" and 20 <= done.completion_tokens < 1500
            assert time.perf_counter() - asked < 1.0

            # A killed engine is reported, and the next request gets a fresh one with the model again.
            pid = client.pid
            assert pid is not None

            def kill(token: m.Token) -> None:
                if client.pid == pid:
                    os.kill(pid, signal.SIGKILL)

            with pytest.raises(EngineDied) as died:
                await client.generate(long, kill)
            assert "SIGKILL" in str(died.value)
            again = await client.generate(
                m.Generate(0, messages=QUESTION, max_tokens=4, temperature=0.0), lambda t: None
            )
            assert again.completion_tokens > 0 and client.pid != pid

            await client.unload()
            with pytest.raises(EngineError, match="no model is loaded"):
                await client.generate(m.Generate(0, prompt="w1", max_tokens=2), lambda t: None)
        finally:
            await client.close()

    asyncio.run(scenario())


def test_hearth_chat_runs_an_mlx_folder(mlx_model: Path, tmp_path: Path) -> None:
    import subprocess
    import sys

    env = {**os.environ, "HEARTH_HOME": str(tmp_path / "home")}
    args = ["chat", "--model", str(mlx_model), "--prompt", "w1 w2", "--max-tokens", "6", "--temperature", "0"]
    result = subprocess.run(
        [sys.executable, "-m", "hearth", *args, "--no-history"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() and "tokens" in result.stderr
