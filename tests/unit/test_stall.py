"""The watchdog's judgement of a worker its host waits on, from samples alone."""

from __future__ import annotations

import pytest

from hearth.core.stall import HALTED_FOR_S, IDLE_FOR_CPU_S, STARVED_FOR_S, Sample, StallWatch, thread_busy

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


def test_a_worker_starved_of_cpu_is_not_given_up_while_it_is_runnable() -> None:
    # A loaded machine: the worker wants the CPU (state R) but gets none for a while, then some.
    watch = StallWatch()
    starved = [Sample(i * STEP, "running", 1.0, 100, busy=True) for i in range(int(30 / STEP))]
    assert first_reason(watch, starved) is None
    fed = Sample(30.0, "running", 1.1, 100, busy=True)
    assert watch.observe(fed) is None


def test_disk_sleep_counts_as_progress_too() -> None:
    # Waiting on its disk (state D), as psutil names it: no CPU, nothing sent, not wedged.
    run = [Sample(i * STEP, "disk-sleep", 1.0, 100, busy=True) for i in range(int(20 / STEP))]
    assert first_reason(StallWatch(), run) is None


def test_without_a_busy_state_the_same_silence_is_a_stall() -> None:
    # The same samples as a starved worker's, from a system that does not say it is runnable
    # (psutil's "running" alone, as on macOS): the idle bound applies as before.
    run = [Sample(i * STEP, "running", 1.0, 100) for i in range(int(30 / STEP))]
    found = first_reason(StallWatch(), run)
    assert found is not None and run[found[0]].at == pytest.approx(IDLE_FOR_CPU_S)


def test_the_idle_bound_counts_from_the_last_busy_sample() -> None:
    watch = StallWatch()
    busy = [Sample(i * STEP, "running", 1.0, 100, busy=True) for i in range(10)]
    assert first_reason(watch, busy) is None
    last = busy[-1].at
    quiet = [Sample(last + (i + 1) * STEP, "sleeping", 1.0, 100) for i in range(20)]
    found = first_reason(watch, quiet)
    assert found is not None
    assert quiet[found[0]].at - last == pytest.approx(IDLE_FOR_CPU_S)
    # What it says counts the whole time without CPU, busy part included.
    assert f"no CPU for {quiet[found[0]].at:.0f} s" in found[1]


def test_a_worker_that_stays_runnable_without_any_cpu_is_given_up_in_the_end() -> None:
    # Stuck in disk sleep on a disk that never answers: busy, but no tick of CPU, ever.
    run = [Sample(i * STEP, "disk-sleep", 1.0, 100, busy=True) for i in range(int(2 * STARVED_FOR_S / STEP))]
    found = first_reason(StallWatch(), run)
    assert found is not None
    index, why = found
    assert run[index].at == pytest.approx(STARVED_FOR_S)
    assert "ready to run or waiting for its disk" in why


def test_the_starved_bound_is_never_shorter_than_the_idle_bound() -> None:
    # A GPU worker's idle bound is longer than the starved one would be: being busy buys time only.
    run = [Sample(i * STEP, "running", 1.0, 100, busy=True) for i in range(int(200 / STEP))]
    found = first_reason(StallWatch(idle_for_s=90.0, starved_for_s=10.0), run)
    assert found is not None and run[found[0]].at == pytest.approx(90.0)


def test_a_stopped_worker_is_given_up_even_after_a_busy_spell() -> None:
    run = [Sample(0.0, "running", 1.0, 0, busy=True)] + [
        Sample((i + 1) * STEP, "stopped", 1.0, 0) for i in range(10)
    ]
    found = first_reason(StallWatch(), run)
    assert found is not None and "stopped" in found[1]
    assert run[found[0]].at == pytest.approx(STEP + HALTED_FOR_S)


@pytest.mark.parametrize(
    ("line", "busy"),
    [
        (b"4242 (python3) R 1 4242 4242 0 -1 4194560 1234 0 0 0 5 3 0 0 20 0 1 0", True),
        (b"4242 (python3) D 1 4242 4242 0 -1 4194560", True),
        (b"4242 (python3) S 1 4242 4242 0 -1 4194560", False),
        (b"4242 (ggml) T 1 4242", False),
        (b"4242 (ggml) t 1 4242", False),
        (b"4242 (ggml) Z 1 4242", False),
        (b"4242 (ggml) I 1 4242", False),
        # A thread may call itself anything: only what follows the last ")" is its state.
        (b"4242 (a) R (b) S 1 4242", False),
        (b"4242 (a) S (b) R 1 4242", True),
        (b"4242 ( ) D ) 1", False),
        (b"4242 (x)", False),
        (b"", False),
        (b"garbage R", False),
    ],
)
def test_a_threads_state_is_read_after_its_name(line: bytes, busy: bool) -> None:
    assert thread_busy(line) is busy
