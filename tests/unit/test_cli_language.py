"""Which shipped language the command line speaks, from what the environment asks for."""

from __future__ import annotations

import pytest

from hearth.cli.say import language, plural_form


@pytest.mark.parametrize(
    ("wanted", "code"),
    [
        (["ru_RU.UTF-8"], "ru"),
        (["ko_KR"], "ko"),
        (["zh_CN.UTF-8"], "zh_CN"),
        (["zh-Hans-CN"], "zh_CN"),
        (["zh_TW.UTF-8"], None),  # Traditional Chinese is not shipped: English, not Simplified
        (["C.UTF-8"], None),
        (["POSIX"], None),
        (["de_DE", "ru_RU"], None),  # the first language asked for wins, even when not shipped
        (["", "C", "ru"], "ru"),
        (["en_GB.UTF-8"], None),
    ],
)
def test_the_language_asked_for(wanted: list[str], code: str | None) -> None:
    assert language(wanted) == code


@pytest.mark.parametrize(("n", "form"), [(1, 0), (21, 0), (11, 2), (2, 1), (4, 1), (12, 2), (5, 2), (0, 2)])
def test_russian_plurals_follow_qts_numerus_rules(n: int, form: int) -> None:
    assert plural_form("ru", n) == form
    assert plural_form("ko", n) == 0
