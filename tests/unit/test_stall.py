"""The watchdog's judgement of a worker its host waits on, from samples alone."""

from __future__ import annotations

import pytest

from hearth.core.stall import HALTED_FOR_S, IDLE_FOR_CPU_S, Sample, StallWatch

STEP = 0.5


def samples(n: int, *, status: str = "sleeping", cpu_step: float = 0.0, received_step: int = 0, start=0.0):
    return [Sample(start + i * STEP, status, 1.0 + i * cpu_step, 100 + i * received_step) for i in range(n)]


def first_reason(watch: StallWatch, run: list[Sample]) -> tuple[int, str] | None:
    for i, sample in enumerate(run):
        why = watch.observe(sample)
        if why is not None:
            return i, why
    return None


def test_a_stopped_worker_is_given_up_once_it_stayed_stopped() -> None:
    run = samples(10, status="stopped")
    found = first_reason(StallWatch(), run)
    assert found is not None
    index, why = found
    assert run[index].at - run[0].at == pytest.approx(HALTED_FOR_S)
    assert "stopped" in why


@pytest.mark.parametrize("status", ["tracing-stop", "zombie", "dead"])
def test_every_state_that_cannot_run_counts(status: str) -> None:
    assert first_reason(StallWatch(), samples(10, status=status)) is not None


def test_a_stop_for_an_instant_is_no_wedge() -> None:
    # A profiler stops the process for one sample; it then runs on and uses CPU again.
    watch = StallWatch()
    run = [
        Sample(0.0, "running", 1.0, 0),
        Sample(0.5, "tracing-stop", 1.0, 0),
        Sample(1.0, "running", 1.2, 0),
        Sample(1.5, "tracing-stop", 1.2, 0),
        Sample(2.0, "running", 1.4, 0),
    ]
    assert first_reason(watch, run) is None


def test_a_busy_worker_is_never_given_up_however_long_it_computes() -> None:
    # An hour of one long prompt: the worker never answers, but it uses CPU throughout.
    assert first_reason(StallWatch(), samples(7200, status="running", cpu_step=0.4)) is None


def test_a_worker_sending_its_answer_is_making_progress() -> None:
    assert first_reason(StallWatch(), samples(100, received_step=4096)) is None


def test_a_worker_that_uses_no_cpu_while_its_host_waits_is_given_up() -> None:
    run = samples(20)
    found = first_reason(StallWatch(), run)
    assert found is not None
    index, why = found
    assert run[index].at - run[0].at == pytest.approx(IDLE_FOR_CPU_S)
    assert "no CPU" in why


def test_the_idle_bound_is_the_callers() -> None:
    run = samples(200)
    found = first_reason(StallWatch(idle_for_s=60.0), run)
    assert found is not None and run[found[0]].at == pytest.approx(60.0)


def test_the_silence_counts_from_the_last_progress() -> None:
    watch = StallWatch()
    busy = samples(6, status="running", cpu_step=0.3)
    assert first_reason(watch, busy) is None
    last = busy[-1]
    quiet = [Sample(last.at + (i + 1) * STEP, "sleeping", last.cpu_s, last.received) for i in range(20)]
    found = first_reason(watch, quiet)
    assert found is not None
    assert quiet[found[0]].at - last.at == pytest.approx(IDLE_FOR_CPU_S)


def test_waiting_on_nothing_starts_the_count_again() -> None:
    # The host stops waiting between answers: an idle worker then is simply idle.
    watch = StallWatch()
    for round_ in range(10):
        for sample in samples(int(IDLE_FOR_CPU_S / STEP), start=round_ * 100.0):
            assert watch.observe(sample) is None
        watch.reset()
