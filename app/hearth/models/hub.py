"""What the Hugging Face hub holds: repositories with GGUF files, their parts, sizes and LFS hashes.

Metadata comes through ``huggingface_hub`` (search, a repository's files with ``blobs=true``); bytes go
through Hearth's own transfer (``hearth.models.transfer``). ``HF_ENDPOINT`` and ``HF_TOKEN`` are read when
a ``Hub`` is made, not when Python starts, so a setting changed at run time counts.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from huggingface_hub import HfApi, get_token, hf_hub_url
from huggingface_hub.errors import GatedRepoError, HfHubHTTPError, RepositoryNotFoundError

from hearth.core.errors import HearthError
from hearth.core.gguf_header import is_later_part, split_parts

DEFAULT_ENDPOINT = "https://huggingface.co"
_QUANT_RE = re.compile(r"(?i)[-_.](?P<quant>I?Q\d(?:_[A-Z0-9]+)*|BF16|F16|F32)(?:-\d{5}-of-\d{5})?\.gguf$")


class HubError(HearthError):
    """Getting a model from the hub failed; the message says why and what to do."""


class NotOnHub(HubError):
    pass


class NeedsAccess(HubError):
    """A gated or private repository: the user must accept its terms or give a token."""


class HubUnreachable(HubError):
    pass


# What an MLX model's folder needs besides its weights: mlx-lm's loader reads these.
MLX_SIDE_FILES = frozenset(
    {
        "config.json",
        "model.safetensors.index.json",
        "tokenizer.json",
        "tokenizer_config.json",
        "special_tokens_map.json",
        "added_tokens.json",
        "tokenizer.model",
        "vocab.json",
        "merges.txt",
        "chat_template.jinja",
        "generation_config.json",
    }
)


@dataclass(frozen=True)
class RemoteFile:
    repo: str
    name: str  # path inside the repository
    size: int
    sha256: str | None  # the LFS object id; None for a file not stored in LFS
    revision: str = "main"


@dataclass(frozen=True)
class RemoteModel:
    """One model in a repository: a GGUF file, or every part of a split one (first part first); or an
    MLX model, every file its folder needs (weights first)."""

    repo: str
    parts: tuple[RemoteFile, ...]
    gated: bool = False
    license: str = ""
    format: str = "gguf"  # or "mlx"

    @property
    def name(self) -> str:
        return self.parts[0].name

    @property
    def size(self) -> int:
        return sum(p.size for p in self.parts)

    @property
    def quant(self) -> str:
        return quant_of(self.name)

    @property
    def key(self) -> str:
        """``repo/first file``: one model among every repository's."""
        return f"{self.repo}/{self.name}"


@dataclass(frozen=True)
class HubRepo:
    repo: str
    downloads: int
    gated: bool


def quant_of(filename: str) -> str:
    """The quantization a file name announces (``Q4_K_M``, ``IQ4_XS``, ``F16``), or ""."""
    m = _QUANT_RE.search(filename)
    return m["quant"].upper() if m else ""


def need_access_message(repo: str) -> str:
    return (
        f"{repo} is gated: accept its terms on its page on Hugging Face, then give Hearth an access "
        "token (set HF_TOKEN, or log in with `hf auth login`)"
    )


def _network_error(exc: Exception) -> bool:
    # huggingface_hub's HTTP client (httpx, renamed httpx2 in later releases) raises its own transport
    # errors; matching on the module keeps this true across those releases.
    return isinstance(exc, OSError) or type(exc).__module__.split(".")[0] in ("httpx", "httpx2", "httpcore")


def _unreachable(endpoint: str, exc: Exception) -> Exception:
    if not _network_error(exc):
        return exc
    return HubUnreachable(f"cannot reach {endpoint} ({type(exc).__name__}): check the network and try again")


class Hub:
    def __init__(self, endpoint: str | None = None, token: str | None = None) -> None:
        self.endpoint = (endpoint or os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")
        self.token = token if token is not None else get_token()
        self._api = HfApi(endpoint=self.endpoint, token=self.token or False)

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def url(self, file: RemoteFile) -> str:
        return hf_hub_url(file.repo, file.name, revision=file.revision, endpoint=self.endpoint)

    def search(self, text: str, limit: int = 20) -> list[HubRepo]:
        """Repositories with GGUF files whose name matches ``text``, most downloaded first (blocking)."""
        try:
            found = self._api.list_models(search=text or None, filter="gguf", sort="downloads", limit=limit)
            return [HubRepo(m.id, m.downloads or 0, bool(m.gated)) for m in found]
        except HfHubHTTPError as exc:
            raise HubError(f"the hub refused the search: {exc}") from None
        except Exception as exc:
            raise _unreachable(self.endpoint, exc) from None

    def _listing(self, repo: str, revision: str) -> tuple[dict[str, RemoteFile], bool, str]:
        """Every file of ``repo`` with its size and LFS hash, whether it is gated, its licence."""
        try:
            info = self._api.model_info(repo, revision=revision, files_metadata=True)
        except GatedRepoError:
            raise NeedsAccess(need_access_message(repo)) from None
        except RepositoryNotFoundError:
            raise NotOnHub(f"there is no repository '{repo}' on {self.endpoint} (or it is private)") from None
        except HfHubHTTPError as exc:
            raise HubError(f"the hub refused to list {repo}: {exc}") from None
        except Exception as exc:
            raise _unreachable(self.endpoint, exc) from None
        files = {
            s.rfilename: RemoteFile(
                repo,
                s.rfilename,
                (s.lfs.size if s.lfs else s.size) or 0,
                s.lfs.sha256 if s.lfs else None,
                revision,
            )
            for s in info.siblings or []
        }
        return files, bool(info.gated), str(getattr(info.card_data, "license", None) or "")

    def mlx_model(self, repo: str, revision: str = "main") -> RemoteModel:
        """The MLX model in ``repo``: its weights, config and tokenizer files (blocking)."""
        files, gated, license = self._listing(repo, revision)
        weights = sorted(n for n in files if n.endswith(".safetensors") and "/" not in n)
        if "config.json" not in files or not weights:
            raise NotOnHub(f"{repo} holds no MLX model (config.json and .safetensors weights)")
        wanted = [*weights, *sorted(n for n in files if n in MLX_SIDE_FILES)]
        return RemoteModel(repo, tuple(files[n] for n in wanted), gated, license, format="mlx")

    def models(self, repo: str, revision: str = "main") -> list[RemoteModel]:
        """Every GGUF model in ``repo`` (a split model once, with all its parts) (blocking)."""
        listing, gated, license = self._listing(repo, revision)
        files = {name: file for name, file in listing.items() if name.endswith(".gguf")}
        out = []
        for name in sorted(files):
            base = name.rsplit("/", 1)[-1]
            if is_later_part(base) or "mmproj" in base.lower():
                continue
            parts = split_parts(name)
            if all(p in files for p in parts):
                out.append(RemoteModel(repo, tuple(files[p] for p in parts), gated, license))
        return out

    def model(self, repo: str, want: str = "") -> RemoteModel:
        """The model in ``repo`` named by ``want``: a file name, a quantization (``Q4_K_M``), or ""
        for the repository's only model, or else its Q4_K_M one (blocking)."""
        models = self.models(repo)
        if not models:
            raise NotOnHub(f"{repo} holds no GGUF model")
        if want.endswith(".gguf"):
            found = [m for m in models if m.name == want or m.name.rsplit("/", 1)[-1] == want]
        else:
            found = [m for m in models if m.quant == (want or "Q4_K_M").upper()]
            if not want and not found and len(models) == 1:
                found = models
        if not found:
            choices = ", ".join(m.quant or m.name for m in models)
            raise NotOnHub(f"{repo} has no '{want or 'Q4_K_M'}' model; it has: {choices}")
        return found[0]
