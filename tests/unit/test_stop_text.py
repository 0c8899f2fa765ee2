from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from hearth.core.stop_text import StopScanner


def _run(pieces: list[str], stops: list[str]) -> tuple[str, bool]:
    scanner = StopScanner(stops)
    shown = "".join(scanner.feed(p) for p in pieces)
    return shown + scanner.flush(), scanner.stopped


def test_a_stop_split_across_tokens_is_never_shown() -> None:
    scanner = StopScanner(["</end>"])
    assert scanner.feed("Hello </") == "Hello "
    assert scanner.feed("en") == ""
    assert scanner.feed("d> more") == ""
    assert scanner.stopped and scanner.flush() == ""


def test_held_text_that_was_not_a_stop_is_shown() -> None:
    scanner = StopScanner(["\n\n"])
    assert scanner.feed("a\n") == "a"
    assert scanner.feed("b") == "\nb"
    assert scanner.feed("c\n") == "c"
    assert scanner.flush() == "\n" and not scanner.stopped


def test_the_earliest_of_several_stops_wins() -> None:
    assert _run(["one. two! three"], ["!", "."]) == ("one", True)


@given(
    st.lists(st.text(alphabet="ab\n", max_size=4), max_size=12),
    st.lists(st.text(alphabet="ab\n", min_size=1, max_size=3), max_size=3),
)
def test_streamed_equals_whole_text_cut_at_the_first_complete_stop(
    pieces: list[str], stops: list[str]
) -> None:
    whole = "".join(pieces)
    found = [(i + len(s), i) for s in stops if (i := whole.find(s)) >= 0]
    expected = whole[: min(found)[1]] if found else whole
    assert _run(pieces, stops) == (expected, bool(found))


def test_a_stop_complete_before_a_longer_one_that_began_earlier_wins() -> None:
    assert _run(["\nb", "\n"], ["b", "\nb\n"]) == ("\n", True)
