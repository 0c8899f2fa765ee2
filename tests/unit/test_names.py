"""Names from other devices are shown as text, never as terminal or layout commands."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from hearth.core.names import MAX_NAME, clean_name
from hearth.mesh.discovery import parse_txt


def test_control_characters_are_shown_escaped() -> None:
    forged = "mallory\r\x1b[2KPairing request from alpha. Code: 111 111"
    shown = clean_name(forged)
    assert "\r" not in shown and "\x1b" not in shown
    assert shown.startswith("mallory\\r\\x1b[2K")


def test_bidi_overrides_and_line_separators_are_escaped() -> None:
    assert clean_name("abc\u202edcb") == "abc\\u202edcb"
    assert clean_name("a\u2028b") == "a\\u2028b"


def test_long_names_are_cut_and_empty_ones_get_a_placeholder() -> None:
    assert len(clean_name("x" * 200_000)) == MAX_NAME
    assert clean_name("") == "?" and clean_name("   ") == "?"
    assert clean_name("Küchen-PC 台式机") == "Küchen-PC 台式机"


@given(st.text(max_size=500))
def test_any_name_comes_out_printable_and_bounded(name: str) -> None:
    shown = clean_name(name)
    assert all(unicodedata.category(ch) not in {"Cc", "Cf", "Zl", "Zp", "Cs"} for ch in shown)
    assert len(shown) <= MAX_NAME * 10


def test_mdns_names_are_cleaned() -> None:
    props: dict[bytes, bytes | None] = {b"id": b"ABC", b"name": b"evil\x1b[31m" + b"x" * 500}
    neighbour = parse_txt(props, "127.0.0.1", 47311)
    assert neighbour is not None and "\x1b" not in neighbour.name and len(neighbour.name) < 80
