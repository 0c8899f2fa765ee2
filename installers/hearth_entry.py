"""The bundled executable's entry point: ``hearth`` as installed, and the engine and worker processes
it starts (``--run-module MODULE``, where a checkout would run ``python -m MODULE``)."""

from __future__ import annotations

import runpy
import sys

from hearth.core.launch import RUN_MODULE

if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == RUN_MODULE:
        module = sys.argv[2]
        sys.argv = [sys.argv[0], *sys.argv[3:]]
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    else:
        from hearth.cli.main import entry

        entry()
