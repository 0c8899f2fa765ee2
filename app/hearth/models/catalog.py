"""The curated catalog: instruct GGUF models Hearth suggests, from small to 70B class.

It is a data file shipped with the app (``catalog.json``), read with a schema so that a broken entry is
reported by name instead of half-shown.
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from hearth.core.errors import HearthError
from hearth.core.gguf_header import split_parts
from hearth.models.hub import RemoteFile, RemoteModel

CATALOG = Path(__file__).with_name("catalog.json")


class CatalogFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    quant: str
    file: str  # path inside the repository; for a split model, its first part
    size: int  # bytes, as the hub lists them (all parts together)
    # When given, the hub's LFS hash must agree: it pins the bytes. Missing, the download is checked
    # against the hub's own listing only (see catalog.json's "about").
    sha256: str | None = None


class CatalogModel(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    id: str
    name: str
    family: str
    parameters_b: float
    license: str
    context: int
    repo: str
    files: list[CatalogFile]
    summary: str = ""
    summaries: dict[str, str] = {}  # the summary in other languages, by language code (ru, zh_CN, ko)
    format: str = "gguf"  # "mlx": an MLX build (mlx-community), offered where MLX runs

    def summary_in(self, language: str) -> str:
        return self.summaries.get(language, self.summary)

    def remote(self, quant: str = "") -> RemoteModel:
        """The file of ``quant`` as the catalog describes it, for showing and judging without asking
        the hub for a listing; a download asks (``hearth.models.resolve``) for exact sizes and hashes."""
        f = self.file(quant)
        names = split_parts(f.file)
        sizes = [f.size] + [0] * (len(names) - 1)  # the catalog knows only the total
        parts = tuple(
            RemoteFile(self.repo, n, s, f.sha256 if i == 0 else None)
            for i, (n, s) in enumerate(zip(names, sizes, strict=True))
        )
        return RemoteModel(self.repo, parts, license=self.license, format=self.format)

    def file(self, quant: str = "") -> CatalogFile:
        """The file of ``quant`` (case-insensitive), or the first (the recommended one)."""
        for f in self.files:
            if f.quant.lower() == quant.lower():
                return f
        if quant:
            have = ", ".join(f.quant for f in self.files)
            raise CatalogError(f"{self.name} comes as {have}, not {quant}")
        return self.files[0]


class _Catalog(msgspec.Struct, forbid_unknown_fields=True):
    about: str
    models: list[CatalogModel]


class CatalogError(HearthError):
    pass


def load_catalog(path: Path = CATALOG) -> list[CatalogModel]:
    try:
        return msgspec.json.decode(path.read_bytes(), type=_Catalog).models
    except OSError as exc:
        raise CatalogError(f"cannot read the model catalog {path}: {exc.strerror}") from None
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise CatalogError(f"the model catalog {path} is damaged: {exc}") from None


def matching(models: list[CatalogModel], text: str) -> list[CatalogModel]:
    """Catalog entries whose id, name, family or repository contains every word of ``text``."""
    words = text.lower().split()
    return [m for m in models if all(w in f"{m.id} {m.name} {m.family} {m.repo}".lower() for w in words)]
