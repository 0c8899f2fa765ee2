"""The root of Hearth's own errors."""


class HearthError(Exception):
    """Something went wrong that the user can act on: the message says what happened and, where it
    helps, what to do next. Every layer's errors derive from it, so a way in (the window, the CLI,
    the local API) can show any of them as they are."""
