"""The engine's messages as the ways in speak them: what a chat sends (messages, sampling), what comes
back (tokens, the end of an answer) and the failures an answer can end in.

The APIs and the command line build and read these values; the engine that carries them stays below the
service.
"""

from __future__ import annotations

from hearth.engine.errors import EngineDied, EngineError, PromptTooLong
from hearth.engine.messages import (
    ChatMessage,
    Done,
    Generate,
    Loaded,
    LoadModel,
    Penalty,
    Probability,
    Sampling,
    Seed,
    StopReason,
    Temperature,
    Token,
    ToolCall,
    TopK,
)

__all__ = [
    "ChatMessage",
    "Done",
    "EngineDied",
    "EngineError",
    "Generate",
    "LoadModel",
    "Loaded",
    "Penalty",
    "Probability",
    "PromptTooLong",
    "Sampling",
    "Seed",
    "StopReason",
    "Temperature",
    "Token",
    "ToolCall",
    "TopK",
]
