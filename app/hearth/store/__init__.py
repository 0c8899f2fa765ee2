"""Persistent user data: conversations."""
