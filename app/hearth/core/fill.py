"""Filling a translated message's ``%1``, ``%2``… placeholders, every one in a single pass.

PySide6 has no ``QString.arg``, and a chain of ``str.replace`` calls reads each argument again for the
placeholders still to come: a device that calls itself "%2" would get the next argument spliced into
its name (and a translation that orders the placeholders differently would splice in the wrong one).
One pass over the template, as Qt's own ``arg`` does, puts every argument in as it is.
"""

from __future__ import annotations

import re

# Qt numbers placeholders %1 to %99; "%100" is %10 followed by a zero, as in QString::arg.
_PLACEHOLDER = re.compile(r"%(\d{1,2})")


def fill(template: str, *args: object) -> str:
    """``template`` with ``%1`` replaced by the first argument, ``%2`` by the second, and so on, in one
    pass: what an argument holds (a "%2" of its own) is never read as a placeholder. A placeholder with
    no argument is left as it is, so a translation with one too many stays readable."""

    def put(match: re.Match[str]) -> str:
        index = int(match.group(1))
        return str(args[index - 1]) if 1 <= index <= len(args) else match.group(0)

    return _PLACEHOLDER.sub(put, template)
