"""Model files as a command reads and writes them without a node: a model's profile (``hearth profile``,
``hearth chat``) and the random-weight models for trying Hearth out (``hearth synth``)."""

from __future__ import annotations

from pathlib import Path

from hearth.models import synthetic
from hearth.models.library import profile_of
from hearth.store import paths


def write_synthetic(size: str, out: Path | None = None, *, seed: int = 0, force: bool = False) -> Path:
    """A random-weight model of ``size`` (``tiny``, ``medium``, ``talkative``) at ``out``, by default in
    the models folder; written unless it is there already, or again with ``force``."""
    spec = synthetic.SPECS[size]
    path = out or paths.models_dir() / f"hearth-synthetic-{spec.name}.gguf"
    if force or not path.exists():
        synthetic.write_model(path, spec, seed=seed)
    return path


__all__ = ["profile_of", "write_synthetic"]
