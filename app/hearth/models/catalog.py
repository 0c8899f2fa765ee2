"""The curated catalog: instruct GGUF models Hearth suggests, from small to 70B class.

It is a data file shipped with the app (``catalog.json``), read with a schema so that a broken entry is
reported by name instead of half-shown.
"""

from __future__ import annotations

import re
from pathlib import Path

import msgspec

from hearth.core.errors import HearthError
from hearth.core.formats import ModelFormat
from hearth.core.gguf_header import split_parts
from hearth.models.hub import RemoteFile, RemoteModel

CATALOG = Path(__file__).with_name("catalog.json")
# Parameters (billions) past which a model, at the quantizations offered, outgrows one typical device.
POOL_SIZE_B = 30.0
_SHA256 = re.compile(r"[0-9a-f]{64}")


class CatalogFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    quant: str
    file: str  # path inside the repository; for a split model, its first part
    size: int  # bytes, as the hub lists them (all parts together)
    # When given, it pins the bytes: the file's SHA-256, or for a split model one per part, first part
    # first (a pin on the first part alone would leave the others to whatever the hub serves). The
    # download must match it whether or not the hub lists a hash. Missing, the download is checked
    # against the hub's own listing only (see catalog.json's "about").
    sha256: str | list[str] | None = None

    def pins(self) -> tuple[str, ...]:
        """The SHA-256 pinned for each part, first part first, in lower case; () when unpinned."""
        if self.sha256 is None:
            return ()
        pins = (self.sha256,) if isinstance(self.sha256, str) else tuple(self.sha256)
        return tuple(pin.lower() for pin in pins)

    def pin_problem(self, format: ModelFormat = ModelFormat.GGUF) -> str:
        """Why this file's pins cannot be used, or ""."""
        if self.sha256 is None:
            return ""
        pins = self.pins()
        if not ModelFormat(format).pinnable:
            return "only GGUF files can be pinned"
        if not all(_SHA256.fullmatch(pin) for pin in pins):
            return "a sha256 is not 64 hexadecimal digits"
        parts = len(split_parts(self.file))
        if len(pins) != parts:
            return f"it comes in {parts} part(s) but {len(pins)} sha256 are given: pin every part"
        return ""


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
    format: ModelFormat = ModelFormat.GGUF  # MLX: an MLX build (mlx-community), offered where MLX runs
    tools: bool = False  # its chat template can call tools (functions)
    embedding: bool = False  # an embedding model: vectors for search (the APIs' embeddings), no chat
    # A mixture of experts: the billions of parameters one token reads; 0 for a dense model.
    active_parameters_b: float = 0.0

    def __post_init__(self) -> None:
        msgspec.structs.force_setattr(self, "format", ModelFormat(self.format))

    @property
    def experts(self) -> bool:
        return self.active_parameters_b > 0

    @property
    def suits_pooling(self) -> bool:
        """Worth spreading over several devices: a mixture of experts (a token reads only its experts,
        so the link costs little beside the reading), or too big for the memory one household device has."""
        return self.format.can_pool and (self.experts or self.parameters_b >= POOL_SIZE_B)

    def summary_in(self, language: str) -> str:
        return self.summaries.get(language, self.summary)

    def remote(self, quant: str = "") -> RemoteModel:
        """The file of ``quant`` as the catalog describes it, for showing and judging without asking
        the hub for a listing; a download asks (``hearth.models.resolve``) for exact sizes and hashes."""
        f = self.file(quant)
        names = split_parts(f.file)
        sizes = [f.size] + [0] * (len(names) - 1)  # the catalog knows only the total
        pins = f.pins()
        parts = tuple(
            RemoteFile(self.repo, n, s, pins[i] if i < len(pins) else None, pinned=i < len(pins))
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
        models = msgspec.json.decode(path.read_bytes(), type=_Catalog).models
    except OSError as exc:
        raise CatalogError(f"cannot read the model catalog {path}: {exc.strerror}") from None
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise CatalogError(f"the model catalog {path} is damaged: {exc}") from None
    for model in models:
        for f in model.files:
            problem = f.pin_problem(model.format)
            if problem:
                raise CatalogError(
                    f"the model catalog {path} is damaged: {model.id} {f.quant}'s sha256 cannot pin "
                    f"{f.file} ({problem})"
                )
    return models


def matching(models: list[CatalogModel], text: str) -> list[CatalogModel]:
    """Catalog entries whose id, name, family or repository contains every word of ``text``."""
    words = text.lower().split()
    return [m for m in models if all(w in f"{m.id} {m.name} {m.family} {m.repo}".lower() for w in words)]
