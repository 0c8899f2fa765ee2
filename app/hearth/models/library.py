"""The models this device knows: files in the models folder (downloads live there, one folder per
hub repository) plus files the user imported by path.

Importing validates the header (a file llama.cpp would reject is refused with the reason) and records
the path; nothing is copied, since models are often tens of gigabytes. A model split over several files
is listed once, by its first part.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from hearth.core.errors import HearthError
from hearth.core.gguf_header import GGUFError, is_later_part, read_model_headers, split_parts
from hearth.core.profile import ModelProfile, profile_from_header
from hearth.models.mlx_model import is_mlx_model, read_mlx_profile
from hearth.store import json_state, paths


class LibraryError(HearthError):
    pass


def profile_of(path: str) -> ModelProfile:
    """A GGUF file's profile, or an MLX folder's; GGUFError (or OSError) says why it is unusable."""
    if Path(path).is_dir():
        if not is_mlx_model(path):
            raise GGUFError(f"{path} is a folder but not an MLX model (config.json and .safetensors)")
        return read_mlx_profile(path)
    # Every part of a split model read against one header budget (``read_profile`` gives each its own).
    return profile_from_header(*read_model_headers(path))


def same_model_key(name: str) -> str:
    """A model's name without what tells its builds apart (format, quantization, spacing):
    "Qwen2.5-0.5B-Instruct-4bit" and "Qwen2.5 0.5B Instruct" both give "qwen2505binstruct"."""
    key = re.sub(r"[^a-z0-9]", "", name.lower().replace("(mlx)", ""))
    return re.sub(r"(mlx|gguf|\d+bit|q\d+k?[msl]?|f16|bf16)+$", "", key)


@dataclass(frozen=True)
class LibraryEntry:
    path: str
    profile: ModelProfile | None
    problem: str = ""  # why the file cannot be used any more (moved, damaged)


class ModelLibrary:
    def __init__(self, index: Path | None = None) -> None:
        self._index = index or paths.config_dir() / "models.json"

    def _imported(self) -> list[str]:
        return json_state.load(self._index, list[str], list)

    def _save(self, imported: list[str]) -> None:
        json_state.write(self._index, imported)

    def paths(self) -> list[str]:
        root = paths.models_dir()
        found = sorted(str(p) for p in root.rglob("*.gguf") if not is_later_part(p.name))
        found += sorted(str(p.parent) for p in root.rglob("config.json") if is_mlx_model(p.parent))
        return list(dict.fromkeys([*found, *self._imported()]))

    def entries(self) -> list[LibraryEntry]:
        """Every known model with its profile; reads headers, so call it off the UI thread."""
        out = []
        for path in self.paths():
            try:
                out.append(LibraryEntry(path, profile_of(path)))
            except FileNotFoundError:
                out.append(LibraryEntry(path, None, "the file is gone"))
            except (GGUFError, OSError) as exc:
                out.append(LibraryEntry(path, None, str(exc)))
        return out

    def import_file(self, path: str) -> ModelProfile:
        """Validate and remember a model file; GGUFError (or OSError) says why it is refused."""
        resolved = str(Path(path).expanduser().resolve())
        profile = profile_of(resolved)
        if profile.block_count <= 0:
            raise GGUFError("the model has no layers to run")
        imported = self._imported()
        if resolved not in imported and resolved not in self.paths():
            self._save([*imported, resolved])
        return profile

    def remove(self, path: str) -> None:
        """Forget an imported model (the file stays where it is)."""
        self._save([p for p in self._imported() if p != path])

    def delete(self, path: str) -> list[str]:
        """Take a model out of the library: a file in the models folder is deleted with every part of
        it (and the folders it leaves empty); an imported file is only forgotten. Returns what was
        deleted."""
        folder = paths.models_dir().resolve()
        target = Path(path).resolve()
        if folder not in target.parents:
            if path not in self._imported():
                raise LibraryError(f"{path} is not in the library")
            self.remove(path)
            return []
        deleted = []
        if target.is_dir():  # an MLX model: its folder holds the whole of it
            shutil.rmtree(target)
            deleted.append(str(target))
        for part in [] if deleted else split_parts(str(target)):
            try:
                Path(part).unlink()
                deleted.append(part)
            except FileNotFoundError:
                pass
        parent = target.parent
        while parent != folder and folder in parent.parents and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent
        return deleted
