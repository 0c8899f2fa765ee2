"""Stop sequences over streamed text: what may be shown now, and whether the answer has ended.

Text that could still grow into a stop sequence is held back until it cannot, so nothing of a stop
sequence is ever shown, even when it arrives split across tokens.
"""

from __future__ import annotations


class StopScanner:
    def __init__(self, stops: list[str]) -> None:
        self._stops = [s for s in stops if s]
        self._held = ""
        self.stopped = False

    def feed(self, text: str) -> str:
        """Add streamed text; returns the part that is safe to show. After a stop, returns nothing."""
        if self.stopped:
            return ""
        if not self._stops:
            return text
        held = self._held + text
        # The stop that is complete first ends the answer (of two ending together, the longer).
        found = [(i + len(s), i) for s in self._stops if (i := held.find(s)) >= 0]
        if found:
            self.stopped = True
            self._held = ""
            return held[: min(found)[1]]
        keep = max((_overlap(held, s) for s in self._stops), default=0)
        self._held = held[len(held) - keep :] if keep else ""
        return held[: len(held) - keep]

    def flush(self) -> str:
        """At the end of an answer that did not stop: what was held back is shown after all."""
        held, self._held = self._held, ""
        return "" if self.stopped else held


def _overlap(text: str, stop: str) -> int:
    """The length of the longest end of ``text`` that begins ``stop`` (a stop not yet complete)."""
    for n in range(min(len(text), len(stop) - 1), 0, -1):
        if text.endswith(stop[:n]):
            return n
    return 0
