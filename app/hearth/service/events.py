"""What changed in the node, as its listeners (the window) are told."""

from __future__ import annotations

from enum import StrEnum


class Event(StrEnum):
    DEVICES = "devices"  # a device appeared, left, paired, was forgotten, connected or disconnected
    TELEMETRY = "telemetry"  # a paired device reported its memory and speed
    DONATION = "donation"  # this device's donation or its workers changed
    PAIRING = "pairing"  # a pairing code is to be shown, or is no longer
    POOL = "pool"  # a device of the loaded pool gave up its worker
    MODEL = "model"  # a model was loaded or unloaded
    TURNS = "turns"  # who the model is answering, or how many wait for it, changed
    API = "api"  # the HTTP API for other apps started, stopped or changed its settings
    DOWNLOADS = "downloads"  # a download started, progressed, paused, failed or finished
    LIBRARY = "library"  # a model was added to this device's library or removed from it
