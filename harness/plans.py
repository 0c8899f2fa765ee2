"""Loads that spread a model over RPC workers exactly as a plan says, for tests that compare them."""

from __future__ import annotations

from pathlib import Path

from hearth.core.plan import Plan
from hearth.core.profile import read_profile
from hearth.engine import messages as m


def pooled_load(path: Path, plan: Plan, workers: list[str], n_ctx: int = 512) -> m.LoadModel:
    """``plan``'s remote devices played by ``workers`` in pipeline order."""
    return m.LoadModel.for_plan(read_profile(str(path)), plan, n_ctx, rpc_servers=workers[: len(plan.remote)])
