"""Device names from other devices, made safe to show.

A name arrives from the network (pairing requests, mDNS, control hellos) and ends up on a terminal, in
a window and in logs. Control characters there can move the cursor, erase lines or reorder text
(``\\r``, ANSI escapes, bidi overrides) and so draw a fake prompt; a long name floods a log.
"""

from __future__ import annotations

import re
import unicodedata

MAX_NAME = 64
# Cc: C0/C1 controls (\\r, ESC); Cf: invisible format characters (bidi overrides, zero-width joiners);
# Zl/Zp: line and paragraph separators; Cs: lone surrogates.
_UNSAFE = {"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"}


def clean_name(name: str) -> str:
    """At most ``MAX_NAME`` characters of ``name``, each unsafe one written as a visible escape."""
    out = []
    for ch in name[:MAX_NAME]:
        if unicodedata.category(ch) in _UNSAFE:
            out.append(ch.encode("unicode_escape").decode("ascii"))
        else:
            out.append(ch)
    return "".join(out).strip() or "?"


# --- model names people use ---

# A quantization at the end of a GGUF file's name: "-Q4_K_M", ".Q8_0", "-IQ4_XS", "-UD-Q4_K_XL", "-f16",
# "-MXFP4", and the shard suffix of a split file ("-00001-of-00003").
_SHARD = re.compile(r"-\d{5}-of-\d{5}$")
_QUANT = re.compile(
    r"[-._](?:UD[-_])?(?:I?Q\d(?:_[0-9A-Z]+)*|[BF]F?16|F32|MXFP4(?:_MOE)?|TQ\d_\d)$", re.IGNORECASE
)


def file_stem(path: str) -> str:
    """A model file's name without folders, ``.gguf`` and a shard suffix."""
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    if name.lower().endswith(".gguf"):
        name = name[: -len(".gguf")]
    return _SHARD.sub("", name)


def file_quantization(path: str) -> str:
    """The quantization a model file's name states ("Q4_K_M"), or ""."""
    found = _QUANT.search(file_stem(path))
    return found.group(0)[1:].upper() if found else ""


def model_display_name(path: str, metadata_name: str = "") -> str:
    """The name people call a model file by: its file (as the repository names it) without the
    quantization and the shard suffix, ``SmolLM2-135M-Instruct``; the file's own ``general.name`` only when
    the file name says nothing (it is often a converter's guess, "Smollm2 135M 8k Lc100K Mix1 Ep2")."""
    stem = _QUANT.sub("", file_stem(path)).strip("-._ ")
    if _QUANT.search("-" + stem) and not _QUANT.sub("", "-" + stem):
        stem = ""  # the file is named by its quantization alone
    return stem or metadata_name.strip() or file_stem(path) or "?"


def model_details(architecture: str, quantization: str) -> str:
    """The secondary text beside a model's name: its architecture and quantization."""
    return " · ".join(x for x in (architecture, quantization) if x and x != "?")
