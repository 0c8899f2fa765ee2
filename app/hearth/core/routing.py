"""Where an app's request starts soonest: on this device's model, or on a paired device's copy of it.

Pure: it reads offers (from telemetry) and counts, and names a device or none.
"""

from __future__ import annotations

from dataclasses import dataclass

from hearth.core.control import Offer


@dataclass(frozen=True)
class Elsewhere:
    """A paired device that offers the model loaded here, as its last telemetry said."""

    device_id: str
    name: str
    offer: Offer


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
        free = offer.at_once - max(offer.answering, asked.get(other.device_id, 0)) if not offer.waiting else 0
        if free > 0 and (best is None or free > best[0]):
            best = (free, other)
    return best[1] if best else None
