"""Hearth: pool the computers of a household into one private LLM."""

__version__ = "0.1.0"
