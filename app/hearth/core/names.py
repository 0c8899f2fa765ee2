"""Device names from other devices, made safe to show.

A name arrives from the network (pairing requests, mDNS, control hellos) and ends up on a terminal, in
a window and in logs. Control characters there can move the cursor, erase lines or reorder text
(``\\r``, ANSI escapes, bidi overrides) and so draw a fake prompt; a long name floods a log.
"""

from __future__ import annotations

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
