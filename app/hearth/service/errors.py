"""The service's own refusals."""

from __future__ import annotations

from hearth.core.errors import HearthError


class ServiceError(HearthError):
    """A request the service cannot carry out; the message says why, for the user."""
