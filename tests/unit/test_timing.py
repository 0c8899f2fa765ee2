"""Every wait of the harness stretches with one factor from the environment."""

from __future__ import annotations

import pytest

from harness import timing


def test_bounds_are_as_written_unless_the_environment_stretches_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(timing.ENV, raising=False)
    assert timing.scaled(15) == 15
    monkeypatch.setenv(timing.ENV, "2.5")
    assert timing.scaled(15) == 37.5


@pytest.mark.parametrize("raw", ["slow", "0", "-1", "1000", "nan"])
def test_a_factor_that_is_no_factor_is_refused_by_name(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv(timing.ENV, raw)
    with pytest.raises(ValueError, match=timing.ENV):
        timing.scaled(1)
