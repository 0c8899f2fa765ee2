"""Which shipped language the command line speaks, from what the environment asks for."""

from __future__ import annotations

import pytest

from hearth.cli.say import language


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
