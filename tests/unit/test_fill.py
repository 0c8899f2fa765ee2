"""Placeholders filled in one pass: what an argument holds is never read as another placeholder."""

from __future__ import annotations

import ast
from pathlib import Path

import hearth
from hearth.core.fill import fill


def test_an_argument_named_like_a_placeholder_stays_as_it_is() -> None:
    # A chain of replace() calls would give "Paired with laptop and laptop".
    assert fill("Paired with %1 and %2", "%2", "laptop") == "Paired with %2 and laptop"
    assert fill("%1 used · %2 free of %3", "%3", "%1", "%2") == "%3 used · %1 free of %2"


def test_translations_may_order_placeholders_as_their_language_needs() -> None:
    assert fill("%2 에서 %1", "model", "desk") == "desk 에서 model"
    assert fill("%1 and %1 again", "x") == "x and x again"


def test_what_has_no_argument_is_left_alone() -> None:
    assert fill("context %1 % · %2", 50) == "context 50 % · %2"
    assert fill("100%", "x") == "100%"
    # As in Qt: placeholders run to %99, so "%100" is %10 followed by a zero.
    assert fill("%10", *range(1, 11)) == "10"
    assert fill("%100", *range(1, 11)) == "100"


def test_arguments_of_any_type_are_shown_as_text() -> None:
    assert fill("%1 layers, %2", 32, ValueError("no room")) == "32 layers, no room"


def test_no_translated_message_is_filled_by_chained_replace() -> None:
    # The window and the command line fill "%1"… only through fill(): a ``.replace("%1", …)`` anywhere
    # in them would bring the splice back.
    package = Path(hearth.__file__).parent
    offenders = []
    for folder in ("ui", "cli", "service", "api"):
        for path in (package / folder).glob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "replace"
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)
                    and node.args[0].value[:1] == "%"
                    and node.args[0].value[1:].isdigit()
                ):
                    offenders.append(f"{path.name}:{node.lineno}")
    assert not offenders, offenders
