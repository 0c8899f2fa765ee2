"""How this installation starts one of its own modules as a process (the engine, a worker).

From a checkout or a wheel that is ``python -m MODULE``. A bundled Hearth (PyInstaller) has no
interpreter to give ``-m`` to: its own executable takes ``--run-module MODULE`` instead, which the
bundle's entry point understands (``installers/hearth_entry.py``).
"""

from __future__ import annotations

import sys

RUN_MODULE = "--run-module"


def module_command(module: str) -> list[str]:
    if getattr(sys, "frozen", False):
        return [sys.executable, RUN_MODULE, module]
    return [sys.executable, "-m", module]
