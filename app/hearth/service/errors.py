"""The service's own refusals."""

from __future__ import annotations

from hearth.core.errors import HearthError


class ServiceError(HearthError):
    """A request the service cannot carry out; the message says why, for the user."""


class NotRouted(HearthError):
    """The device an answer was sent to did not take it; nothing of it was said, so it can be given
    here."""


class DeviceRefused(ServiceError):
    """The paired device a request named is not connected or did not take the request."""
