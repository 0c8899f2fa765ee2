"""Where an app's request starts soonest (``core.routing.choose``), over described offers."""

from __future__ import annotations

from hearth.core import control, routing
from hearth.core.control import Offer
from hearth.core.routing import MOST_NAME, Elsewhere, believable, choose, choose_idle, sane

MODEL = ("SmolLM2-135M-Instruct.Q4_1", 100_000_000)


def offer(
    at_once: int = 1, answering: int = 0, waiting: int = 0, n_ctx: int = 4096, model=MODEL, loaded=True
) -> Offer:
    return Offer(model[0], model[1], n_ctx, at_once, answering, waiting, loaded)


def there(name: str, o: Offer) -> Elsewhere:
    return Elsewhere(f"id-{name}", name, o)


def test_a_free_place_here_keeps_the_request_here() -> None:
    assert choose(offer(2, 1), [there("b", offer(4))], {}) is None


def test_nothing_loaded_here_is_not_routed() -> None:
    assert choose(None, [there("b", offer(4))], {}) is None


def test_a_full_model_here_goes_to_the_device_with_the_most_places_free() -> None:
    b, c = there("b", offer(2, 1)), there("c", offer(4, 1))
    assert choose(offer(1, 1), [b, c], {}) == c


def test_a_line_here_counts_as_full() -> None:
    b = there("b", offer(1))
    assert choose(offer(4, 0, waiting=1), [b], {}) == b


def test_devices_that_are_full_or_have_a_line_are_not_asked() -> None:
    full, line = there("b", offer(2, 2)), there("c", offer(4, 0, waiting=1))
    assert choose(offer(1, 1), [full, line], {}) is None


def test_answers_already_sent_count_before_the_next_telemetry() -> None:
    b = there("b", offer(1, 0))
    assert choose(offer(1, 1), [b], {"id-b": 1}) is None
    assert choose(offer(1, 1), [b], {"id-other": 3}) == b


def test_another_model_another_file_or_a_shorter_context_is_not_the_same_answer() -> None:
    here = offer(1, 1)
    other_model = there("b", offer(4, model=("Other", MODEL[1])))
    other_file = there("c", offer(4, model=(MODEL[0], MODEL[1] + 1)))
    shorter = there("d", offer(4, n_ctx=2048))
    assert choose(here, [other_model, other_file, shorter], {}) is None
    longer = there("e", offer(4, n_ctx=8192))
    assert choose(here, [other_model, longer], {}) == longer


def test_offer_free_places() -> None:
    assert offer(4, 1).free == 3
    assert offer(4, 0, waiting=2).free == 0
    assert offer(1, 3).free == 0


def test_the_other_devices_cap_per_client_is_kept() -> None:
    # A device with 4 places gives one client at most 3 of them.
    b = there("b", offer(4, 0))
    assert choose(offer(1, 1), [b], {"id-b": 2}) == b
    assert choose(offer(1, 1), [b], {"id-b": 3}) is None


def test_an_offer_that_claims_too_much_is_not_believed() -> None:
    boastful = there("b", offer(10_000, 0))
    # However many places it claims, one device takes at most 8 answers of another at once.
    assert choose(offer(1, 1), [boastful], {"id-b": 7}) == boastful
    assert choose(offer(1, 1), [boastful], {"id-b": 8}) is None
    assert choose(offer(1, 1), [there("d", offer(4, -5))], {}) is None
    held = believable(offer(10_000, -3, -1, n_ctx=1 << 40))
    assert (held.at_once, held.answering, held.waiting, held.n_ctx) == (64, 0, 0, 1 << 18)


def test_an_idle_device_is_asked_only_when_the_model_here_is_full() -> None:
    idle = there("b", offer(loaded=False))
    assert choose_idle(offer(2, 1), [idle], {}) is None
    assert choose_idle(None, [idle], {}) is None
    assert choose_idle(offer(1, 1), [idle], {}) == idle


def test_an_idle_device_loads_for_one_request_and_only_the_same_file() -> None:
    here = offer(1, 1)
    same, loaded = there("b", offer(loaded=False)), there("c", offer(4))
    assert choose_idle(here, [same], {"id-b": 1}) is None  # its load already serves one
    other_file = there("d", offer(model=(MODEL[0], MODEL[1] + 1), loaded=False))
    shorter = there("e", offer(n_ctx=2048, loaded=False))
    # A device with the model loaded is ``choose``'s, not an idle one.
    assert choose_idle(here, [other_file, shorter, loaded], {}) is None
    assert choose_idle(here, [other_file, shorter, same], {}) == same


def test_believable_keeps_whether_the_model_is_loaded() -> None:
    assert believable(offer(loaded=False)).loaded is False
    assert believable(offer()).loaded is True


def test_an_offer_must_name_a_file() -> None:
    assert sane(offer())
    for model in (("", 1), ("x" * (MOST_NAME + 1), 1), ("a\x1b[2Jb", 1), ("a\nb", 1), ("ok", 0)):
        assert not sane(offer(model=model)), model


def test_a_device_asked_is_given_its_time_to_take_then_to_say_anything_then_to_send_a_token() -> None:
    p = routing.Patience(take_s=15, quiet_s=20, stall_s=120, heard=0.0)
    # Before it takes the answer, a word that it is at work gains it nothing.
    p.word(10.0)
    assert (p.ran_out(14.9), p.ran_out(15.0), p.left(5.0)) == (None, routing.RanOut.TAKE, 10.0)
    p.take(14.0, heartbeats=True)
    assert (p.ran_out(33.9), p.ran_out(34.0), p.left(14.0)) == (None, routing.RanOut.QUIET, 20.0)
    # At work: each word gives it the quiet time again, never past its next token's time.
    for now in range(30, 134, 15):
        p.word(float(now))
    assert (p.ran_out(133.9), p.ran_out(134.0), p.left(130.0)) == (None, routing.RanOut.STALL, 4.0)
    p.token(135.0)
    assert (p.ran_out(154.9), p.ran_out(155.0)) == (None, routing.RanOut.QUIET)


def test_a_device_that_sends_no_words_of_work_is_given_its_next_tokens_time_alone() -> None:
    # A version before ``Working``: its silence while it reads a long prompt is not taken for a stall.
    p = routing.Patience(take_s=15, quiet_s=20, stall_s=120, heard=0.0)
    p.take(1.0, heartbeats=False)
    assert (p.ran_out(120.9), p.ran_out(121.0), p.left(21.0)) == (None, routing.RanOut.STALL, 100.0)


def test_messages_of_a_version_before_working_still_read() -> None:
    ask = control.decode(b'{"type":"ask","request_id":1,"model":"m","size":2,"generate":{}}')
    taken = control.decode(b'{"type":"taken","request_id":1}')
    assert isinstance(ask, control.Ask) and not ask.working
    assert taken == control.Taken(1, working=False)
