"""Devices talking to devices: identity, trust, discovery, pairing and encrypted channels."""
