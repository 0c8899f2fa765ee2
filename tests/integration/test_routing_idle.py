"""A paired device with nothing loaded answers an app's request when the model here is busy: it loads
the same file from its own library, and answers as the model here would. A device that has not allowed
it, or that holds another file, is not asked; a paired device that takes another's name makes that
name ambiguous. `hearth serve` (one answer at a time, the real SmolLM2) and idle `hearth node`
processes on loopback."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from typing import Any

import openai
import pytest

from harness.nodes import NodeProcess, pair, serve, wait_until
from harness.routing import LONG, NAME, QUESTION, SMOL, marks
from harness.routing import health as _health
from hearth.models import synthetic

pytestmark = marks()


def _ask(url: str, device: str = "", text: str = QUESTION, tokens: int = 24) -> str:
    headers = {"X-Hearth-Device": device} if device else None
    client = openai.OpenAI(base_url=url, api_key="none", max_retries=0, timeout=180, default_headers=headers)
    completion = client.chat.completions.create(
        model=NAME, messages=[{"role": "user", "content": text}], max_tokens=tokens, temperature=0
    )
    content = completion.choices[0].message.content
    assert content, completion
    return content


def _idle(home: Any, name: str, host: str, model: Any, *extra: str) -> NodeProcess:
    """A ``hearth node`` with nothing loaded and ``model`` in its library."""
    library = home / "models"
    library.mkdir(parents=True)
    shutil.copyfile(model, library / model.name)
    return NodeProcess(home, name, host, extra=list(extra)).start()


@pytest.fixture(scope="module")
def household(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    assert SMOL is not None
    root = tmp_path_factory.mktemp("idle")
    started: list[NodeProcess] = []
    try:
        alpha, url = serve(
            root / "alpha", "alpha", "127.0.0.1", SMOL, "--parallel", "1", "--threads", "1", "--ctx", "8192"
        )
        started.append(alpha)
        # beta and gamma hold the same file, and only beta lets a model be loaded to answer paired
        # devices' apps (gamma lets them be answered, with a model loaded only); delta lets it, but
        # holds another model.
        other = synthetic.write_model(root / "other.gguf", synthetic.TINY)
        loads = ("--answer-devices", "--load-for-devices")
        for name, host, model, allowed in (
            ("beta", "127.0.0.2", SMOL, loads),
            ("gamma", "127.0.0.3", SMOL, ("--answer-devices",)),
            ("delta", "127.0.0.4", other, loads),
        ):
            started.append(_idle(root / name, name, host, model, *allowed))
            # Each says what it does for paired devices as it starts.
            said = started[-1].wait_for(r"^answering paired devices' apps", 60)
            assert ("loading the same model" in said) == ("--load-for-devices" in allowed), said
            assert pair(alpha, started[-1]).returncode == 0
        assert wait_until(
            lambda: sorted(d["name"] for d in _health(url)["devices"]["idle"]) == ["beta", "delta"], 60
        ), _health(url)
        yield {"url": url, "alpha": alpha, "beta": started[1], "gamma": started[2]}
    finally:
        for proc in started:
            proc.stop()


def test_an_idle_device_loads_the_model_and_answers_as_the_model_here_would(household) -> None:
    url = household["url"]
    idle = {d["name"]: d["would_load"] for d in _health(url)["devices"]["idle"]}
    assert idle["beta"] == [NAME] and NAME not in idle["delta"], idle
    direct = _ask(url)  # the model here, free
    sent = _health(url)["devices"]["sent"]
    # An app holds the only place here: the next request goes to beta, which loads SmolLM2 for it.
    holder = threading.Thread(target=lambda: _ask(url, text=LONG, tokens=1500), daemon=True)
    holder.start()
    assert wait_until(lambda: _health(url)["busy"], 30)
    started = time.monotonic()
    routed = _ask(url)
    took = time.monotonic() - started
    assert routed == direct
    devices = _health(url)["devices"]
    assert devices["sent"] == sent + 1, devices
    assert _health(url)["busy"], "the long answer here was still under way: beta answered"
    print(f"beta loaded SmolLM2 and answered in {took:.1f} s")
    # Loaded now, beta offers its place like any device with the model loaded, and no longer as idle;
    # it loaded the context the model here has (8,192), not its own default (4,096).
    assert wait_until(lambda: [d["name"] for d in _health(url)["devices"]["offering"]] == ["beta"], 15)
    assert _health(url)["devices"]["offering"][0]["n_ctx"] == 8192
    assert "beta" not in [d["name"] for d in _health(url)["devices"]["idle"]]
    holder.join(timeout=180)
    assert not holder.is_alive()


def test_a_device_that_has_not_allowed_it_or_holds_another_file_is_refused(household) -> None:
    url = household["url"]
    for device, said in (("gamma", "answers no other device's apps now"), ("delta", "would load other")):
        with pytest.raises(openai.APIStatusError) as failed:
            _ask(url, device=device)
        assert failed.value.status_code == 503
        assert said in str(failed.value), failed.value


def _refusal(url: str, device: str) -> str:
    """What asking ``device`` by name is refused with ("" when it is not refused)."""
    try:
        _ask(url, device=device, tokens=4)
    except openai.APIStatusError as exc:
        return str(exc)
    return ""


def test_a_paired_device_that_takes_another_ones_name_makes_the_name_ambiguous(household) -> None:
    url, beta, gamma = household["url"], household["beta"], household["gamma"]
    # beta is away; gamma comes back under beta's name. Asking for "beta" must not reach gamma.
    beta.stop()
    gamma.stop()
    gamma.name = "beta"
    gamma.start()
    try:
        assert wait_until(lambda: "2 paired devices are called 'beta'" in _refusal(url, "beta"), 60)
        # By its ID, gamma is still the one device it is (and it answers no other device's apps).
        assert "answers no other device's apps now" in _refusal(url, gamma.device_id)
        # Named as beta's ID, gamma is not beta either: an ID names one device alone.
        gamma.stop()
        gamma.name = beta.device_id
        gamma.start()
        alpha = household["alpha"]

        def gamma_back() -> bool:
            seen = alpha.device(gamma.device_id)
            return seen is not None and seen["connected"] and seen["name"] == beta.device_id

        assert wait_until(gamma_back, 60)
        assert "no connected paired device" in _refusal(url, beta.device_id)
    finally:
        gamma.stop()
        gamma.name = "gamma"
        gamma.start()
        beta.start()
    assert wait_until(lambda: "answers no other device's apps now" in _refusal(url, "gamma"), 60)
