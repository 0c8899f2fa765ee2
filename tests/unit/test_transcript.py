"""The transcript's rendering: Copy links number across cards, what Copy gives is what a block shows,
and a card once drawn is not drawn again while another streams."""

from __future__ import annotations

from hearth.ui.view import transcript as t

COLORS = t.Colors.for_theme(dark=False)


def _render(*texts: str) -> t.Transcript:
    cards = [t.Card("assistant" if i % 2 else "user", "Hearth", text) for i, text in enumerate(texts)]
    return t.render(cards, COLORS, "Copy", "code")


def test_copy_links_number_across_cards_and_copy_what_the_block_shows() -> None:
    first = _render("```py\n\n\nx = 1\n\n```", "and\n```sh\necho <b>&amp;\n```")
    assert first.code_blocks == ["\n\nx = 1\n", "echo <b>&amp;"]
    assert f"{t.COPY_SCHEME}:0" in first.html and f"{t.COPY_SCHEME}:1" in first.html
    assert "<b>&amp;" not in first.html  # the code is escaped, never markup


def test_a_card_drawn_before_is_taken_as_it_was() -> None:
    done = "```py\nprint(1)\n```"
    before = _render(done, "stream")
    hits = len(t._cards)
    after = _render(done, "streaming on")
    assert after.code_blocks == before.code_blocks == ["print(1)"]
    assert len(t._cards) == hits + 1  # only the card under way was rendered again
    # The same card after a different number of blocks has its own links.
    shifted = _render("```\na\n```", done)
    assert shifted.code_blocks == ["a", "print(1)"] and f"{t.COPY_SCHEME}:1" in shifted.html


def test_only_web_links_become_links() -> None:
    html = _render("[a](https://example.org) [b](mailto:x@example.org) [c](javascript:alert(1))").html
    assert 'href="https://example.org"' in html
    assert 'href="mailto' not in html and 'href="javascript' not in html
