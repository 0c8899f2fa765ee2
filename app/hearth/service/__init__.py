"""The one application service that the window, the command line and the APIs call."""
