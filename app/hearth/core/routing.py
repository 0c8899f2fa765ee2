"""Where an app's request starts soonest: on this device's model, or on a paired device's copy of it.

Pure: it reads offers (from telemetry) and counts, and names a device or none.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from hearth.core.control import Offer


@dataclass(frozen=True)
class Elsewhere:
    """A paired device that offers the model loaded here, as its last telemetry said."""

    device_id: str
    name: str
    offer: Offer


# What an offer may claim: a device that says it gives more answers at once, or a longer context,
# is not believed; and the most answers one device takes from another at once.
MOST_AT_ONCE = 64
MOST_CONTEXT = 1 << 18
MOST_PER_DEVICE = 8
# The most models one device's telemetry may offer to load; the rest are not read.
MOST_LOADABLE = 16


def believable(offer: Offer) -> Offer:
    """``offer`` held to what can be true of it."""
    return Offer(
        offer.model,
        max(0, offer.size),
        max(1, min(offer.n_ctx, MOST_CONTEXT)),
        max(1, min(offer.at_once, MOST_AT_ONCE)),
        max(0, offer.answering),
        max(0, offer.waiting),
        offer.loaded,
    )


# The longest model name an offer may carry (a file's name, as apps name it).
MOST_NAME = 255


def sane(offer: Offer) -> bool:
    """Whether ``offer`` names a file at all: a printable name of a sensible length, and a size."""
    return 0 < len(offer.model) <= MOST_NAME and offer.model.isprintable() and offer.size > 0


def places(offer: Offer, asked: int) -> int:
    """Places the device offering ``offer`` has for one more answer of this device, which has
    ``asked`` answers there since: the free ones (its last telemetry may not count this device's
    latest yet), within the cap it holds every client to (all its places but one, or one, and
    never more than ``MOST_PER_DEVICE``)."""
    if offer.waiting or offer.answering < 0:
        return 0
    at_once = max(1, min(offer.at_once, MOST_AT_ONCE))
    free = at_once - max(offer.answering, asked)
    cap = min(MOST_PER_DEVICE, max(1, at_once - 1)) - asked
    return max(0, min(free, cap))


def choose(here: Offer | None, others: list[Elsewhere], asked: dict[str, int]) -> Elsewhere | None:
    """Where an app's request starts soonest: here while a place is free here (or nothing else
    offers one), else the device with the most places free after the answers this device has
    already sent it. Only devices that offer the same model, with at least this context, count."""
    if here is None or here.free > 0:
        return None
    best: tuple[int, Elsewhere] | None = None
    for other in others:
        offer = other.offer
        if (offer.model, offer.size) != (here.model, here.size) or offer.n_ctx < here.n_ctx:
            continue
        free = places(offer, asked.get(other.device_id, 0))
        if free > 0 and (best is None or free > best[0]):
            best = (free, other)
    return best[1] if best else None


def choose_idle(here: Offer | None, idle: list[Elsewhere], asked: dict[str, int]) -> Elsewhere | None:
    """When every place here is taken and no device offers one: a paired device with nothing loaded
    that would load the same file (with at least this context) for the request, and has not been
    asked for anything yet (its load serves one request; its next word offers the places it has)."""
    if here is None or here.free > 0:
        return None
    for other in idle:
        offer = other.offer
        same = (offer.model, offer.size) == (here.model, here.size) and offer.n_ctx >= here.n_ctx
        if same and not offer.loaded and not asked.get(other.device_id, 0):
            return other
    return None


class RanOut(Enum):
    TAKE = "take"  # the device asked did not take the answer
    QUIET = "quiet"  # it took it, then said nothing at all
    STALL = "stall"  # it says it is at work, but no token comes


@dataclass
class Patience:
    """How long a host still waits for the device it asked for an answer: ``take_s`` for it to take
    the answer, then at most ``stall_s`` for its next token, and where it said it sends words that it
    is at work (``Taken.working``), ``quiet_s`` for any word of it. Pure: the times are given."""

    take_s: float
    quiet_s: float
    stall_s: float
    heard: float  # the last word of the device asked (at first: when it was asked)
    told: float = 0.0  # its last token (at first: when it took the answer)
    taken: bool = False
    heartbeats: bool = False  # it said it sends words that it is at work

    def take(self, now: float, heartbeats: bool = False) -> None:
        self.taken, self.heartbeats = True, heartbeats
        self.heard = self.told = now

    def word(self, now: float) -> None:
        """A word that it is still at work: heard only once it took the answer, and no token."""
        if self.taken:
            self.heard = now

    def token(self, now: float) -> None:
        self.heard = self.told = now

    def ran_out(self, now: float) -> RanOut | None:
        if not self.taken:
            return RanOut.TAKE if now - self.heard >= self.take_s else None
        if now - self.told >= self.stall_s:
            return RanOut.STALL
        return RanOut.QUIET if self.heartbeats and now - self.heard >= self.quiet_s else None

    def left(self, now: float) -> float:
        """Seconds until it runs out."""
        if not self.taken:
            return self.heard + self.take_s - now
        stall = self.told + self.stall_s
        return (min(stall, self.heard + self.quiet_s) if self.heartbeats else stall) - now
