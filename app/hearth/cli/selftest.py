"""``hearth self-test``: what a support request needs, checked (``service.selftest``), one line each.
Exit 1 when something is broken.

The Qt platform plugin is checked here, beside the window it is for: the missing system library by name
when it cannot load, and otherwise whether it starts, in a process of its own.
"""

from __future__ import annotations

import argparse
import json
import subprocess
from dataclasses import asdict

from hearth.core.launch import module_command
from hearth.service.selftest import broken, run_checks
from hearth.ui import platform_check


def _qt() -> tuple[bool, str]:
    if platform_check.uses_xcb():
        missing = platform_check.missing_xcb_libraries()
        if missing:
            return False, platform_check.xcb_advice(missing)
    # Qt ends a process whose platform plugin fails: ask a separate one.
    result = subprocess.run(
        [*module_command("hearth.ui.platform_check"), "--probe"], capture_output=True, text=True, timeout=60
    )
    if result.returncode != 0:
        tail = (result.stderr.strip().splitlines() or ["no output"])[-1]
        return False, f"the Qt platform plugin did not start: {tail}"
    return True, f"platform plugin '{result.stdout.strip()}'"


def _no_window() -> tuple[bool, str]:
    return False, "no display in this session: the window cannot open here; `hearth node` runs without one"


def cmd_self_test(args: argparse.Namespace) -> int:
    # A machine without a display (a donor reached over SSH) is one Hearth serves well without a window.
    headless = platform_check.no_display() is not None
    checks = run_checks(_no_window if headless else _qt, engine=args.engine, window_needed=not headless)
    if args.json:
        print(json.dumps([asdict(c) for c in checks], indent=2))
    else:
        width = max(len(c.name) for c in checks)
        for c in checks:
            mark = "ok  " if c.ok else ("FAIL" if c.fatal else "note")
            print(f"{mark} {c.name:<{width}}  {c.detail}")
    return 1 if broken(checks) else 0
