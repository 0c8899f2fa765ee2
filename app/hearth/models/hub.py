"""What the Hugging Face hub holds: repositories with GGUF files, their parts, sizes and LFS hashes.

Metadata comes through ``huggingface_hub`` (search, a repository's files with ``blobs=true``); bytes go
through Hearth's own transfer (``hearth.models.transfer``). ``HF_ENDPOINT`` and ``HF_TOKEN`` are read when
a ``Hub`` is made, not when Python starts, so a setting changed at run time counts.

The hub's names become paths (``models/owner/repo/file``), and the hub is whatever ``HF_ENDPOINT`` points
at: a mirror can list any name it likes. So a repository id or a file name is checked where it enters
(``check_repo_id``, ``check_file_name``), and a listing with one unsafe name is refused whole.
"""

from __future__ import annotations

import ipaddress
import os
import re
import unicodedata
import urllib.parse
from dataclasses import dataclass

from huggingface_hub import HfApi, get_token, hf_hub_url
from huggingface_hub.errors import GatedRepoError, HfHubHTTPError, RepositoryNotFoundError

from hearth.core.errors import HearthError
from hearth.core.formats import ModelFormat
from hearth.core.gguf_header import is_later_part, split_parts
from hearth.core.names import clean_name

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


class UnsafeName(HubError):
    """The hub named a repository or a file with a name that would not stay a plain path inside the
    models folder; nothing was written."""


# The hub's own rule for a repository id's parts (letters, digits, '-', '_', '.'; not starting or ending
# with '-' or '.'; at most 96 characters); '..' anywhere is refused whatever the hub allows.
_REPO_PART = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?")
MAX_REPO_ID = 96
# Bytes in one path component on the file systems Hearth runs on.
MAX_NAME_PART = 255
# Names Windows gives to devices in every folder, with or without an extension.
_WINDOWS_DEVICES = frozenset(
    {"con", "prn", "aux", "nul", "conin$", "conout$"}
    | {f"{kind}{n}" for kind in ("com", "lpt") for n in (*"123456789", "¹", "²", "³")}
)


def check_repo_id(repo: str) -> str:
    """``repo`` when it is a repository id that can be a folder (``owner/name``, or a bare ``name``);
    else UnsafeName, which says why."""
    parts = repo.split("/")
    if (
        len(repo) > MAX_REPO_ID
        or not 1 <= len(parts) <= 2
        or ".." in repo
        or not all(_REPO_PART.fullmatch(part) for part in parts)
    ):
        raise UnsafeName(
            f"'{clean_name(repo)}' is not a hub repository id (owner/name, of letters, digits, '-', '_' "
            "and '.'); nothing was read or written for it"
        )
    return repo


def _is_repo_id(repo: object) -> bool:
    try:
        return isinstance(repo, str) and bool(check_repo_id(repo))
    except UnsafeName:
        return False


def _name_problem(name: str) -> str:
    """Why ``name`` (a path inside a repository, parts joined by '/') is not a plain file name, or ""."""
    if not name or name.startswith("/"):
        return "it is empty or starts at the root of the disk"
    if any(unicodedata.category(ch) == "Cc" for ch in name):
        return "it holds a control character"
    if "\\" in name:
        return "it holds a backslash, which Windows reads as a folder"
    if ":" in name:
        return "it holds a colon, which names a drive or a hidden stream on Windows"
    for part in name.split("/"):
        if part in ("", ".", ".."):
            return "it climbs out of the repository with '..'" if part == ".." else "it has an empty part"
        if len(part.encode("utf-8", "surrogatepass")) > MAX_NAME_PART:
            return f"a part of it is longer than {MAX_NAME_PART} bytes"
        if part.split(".")[0].rstrip(" ").lower() in _WINDOWS_DEVICES:
            return f"'{part}' is a device on Windows"
    return ""


def check_file_name(repo: str, name: str) -> str:
    """``name`` when it is a plain file name inside ``repo`` (no '..', no empty part, no root or drive, no
    backslash, colon or control character); else UnsafeName, which says what was refused and why."""
    problem = _name_problem(name)
    if problem:
        raise UnsafeName(
            f"the hub listed a file named '{clean_name(name)}' in {clean_name(repo)}, which is not a plain "
            f"file name inside the repository ({problem}); nothing was written"
        )
    return name


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
    revision: str = "main"  # the commit the listing was read at, once listed: every part comes from it
    git_blob: str | None = None  # a file kept in git (not LFS): its blob id, which verifies it instead
    # ``sha256`` is the catalog's pin rather than the hub's word: bytes that differ are another file
    # than the one Hearth ships a pin for, not damage in transit.
    pinned: bool = False

    @property
    def verifiable(self) -> bool:
        """Whether the listing (or a pin) gives anything to check the bytes against."""
        return bool(self.sha256 or self.git_blob)


@dataclass(frozen=True)
class RemoteModel:
    """One model in a repository: a GGUF file, or every part of a split one (first part first); or an
    MLX model, every file its folder needs (weights first)."""

    repo: str
    parts: tuple[RemoteFile, ...]
    gated: bool = False
    license: str = ""
    format: ModelFormat = ModelFormat.GGUF

    def __post_init__(self) -> None:
        object.__setattr__(self, "format", ModelFormat(self.format))

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

    @property
    def unverified(self) -> tuple[str, ...]:
        """The parts the hub listed with neither a SHA-256 nor a git blob id: they are downloaded
        unchecked (``hearth.models.transfer``), which a window or command can say."""
        return tuple(p.name for p in self.parts if not p.verifiable)


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


_COMMIT = re.compile(r"[0-9a-f]{40}")


def check_endpoint(endpoint: str) -> str:
    """The hub's address: HTTPS, or plain HTTP only to this machine (a mirror or a test's stand-in),
    since a token and every model's bytes travel over it."""
    url = urllib.parse.urlsplit(endpoint)
    if transport_allowed(url.scheme, url.hostname or ""):
        return endpoint
    raise HubError(
        f"the hub address {endpoint!r} is not HTTPS: Hearth downloads models only over HTTPS "
        "(or plain HTTP from this machine itself); check HF_ENDPOINT"
    )


def transport_allowed(scheme: str, host: str) -> bool:
    """Whether a URL of ``scheme`` to ``host`` may carry a token or a model's bytes: HTTPS anywhere,
    plain HTTP only to this machine (``localhost``, which the system itself resolves, or a loopback
    address; not any other name, whose address is whatever the name server answers)."""
    host = host.lower()
    if scheme == "https":
        return bool(host)
    if scheme != "http":
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Hub:
    def __init__(self, endpoint: str | None = None, token: str | None = None) -> None:
        self.endpoint = check_endpoint(
            (endpoint or os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")
        )
        self.token = token if token is not None else get_token()
        self._api = HfApi(endpoint=self.endpoint, token=self.token or False)

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def url(self, file: RemoteFile) -> str:
        # A '..' in the name would reach outside the repository on the hub's side too.
        check_file_name(check_repo_id(file.repo), file.name)
        return hf_hub_url(file.repo, file.name, revision=file.revision, endpoint=self.endpoint)

    def search(self, text: str, limit: int = 20) -> list[HubRepo]:
        """Repositories with GGUF files whose name matches ``text``, most downloaded first (blocking)."""
        try:
            found = self._api.list_models(search=text or None, filter="gguf", sort="downloads", limit=limit)
            # An id that could not be a repository's (a mirror's '../x', a terminal escape) is no result.
            return [HubRepo(m.id, m.downloads or 0, bool(m.gated)) for m in found if _is_repo_id(m.id)]
        except HfHubHTTPError as exc:
            raise HubError(f"the hub refused the search: {exc}") from None
        except Exception as exc:
            raise _unreachable(self.endpoint, exc) from None

    def _listing(self, repo: str, revision: str) -> tuple[dict[str, RemoteFile], bool, str]:
        """Every file of ``repo`` with its size and LFS hash, whether it is gated, its licence; UnsafeName
        when the repository's id, or any name in its listing, could not be a plain path."""
        check_repo_id(repo)
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
        for s in info.siblings or []:
            check_file_name(repo, s.rfilename if isinstance(s.rfilename, str) else "")
        # The files are fetched at the commit they were listed at: a repository that changes meanwhile
        # cannot hand over a mix of two versions, or other bytes than the sizes and hashes listed.
        pinned = info.sha if isinstance(info.sha, str) and _COMMIT.fullmatch(info.sha) else revision
        files = {
            s.rfilename: RemoteFile(
                repo,
                s.rfilename,
                (s.lfs.size if s.lfs else s.size) or 0,
                s.lfs.sha256 if s.lfs else None,
                pinned,
                None if s.lfs else (s.blob_id if isinstance(s.blob_id, str) else None),
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
        return RemoteModel(repo, tuple(files[n] for n in wanted), gated, license, format=ModelFormat.MLX)

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
