"""Whether Qt's window can start here, asked before Qt is: Qt's own answer to a missing X11 library
is "could not load the Qt platform plugin xcb" and an abort, which tells a user nothing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

# Debian and Ubuntu packages that hold what Qt's X11 plugin needs beyond the wheel or the bundle.
XCB_PACKAGES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libEGL.so.1": "libegl1",
    "libfontconfig.so.1": "libfontconfig1",
}


def uses_xcb() -> bool:
    """Whether Qt will pick its X11 plugin: Linux, not told otherwise, and not on a Wayland session."""
    chosen = os.environ.get("QT_QPA_PLATFORM", "")
    if sys.platform != "linux":
        return False
    if chosen:
        return chosen.split(":")[0] == "xcb"
    return not os.environ.get("WAYLAND_DISPLAY")


def no_display() -> str | None:
    """Why the window has no screen to open on here, as over SSH: Linux, Qt told of no platform, and
    no X11 or Wayland display named or found; None when there is one (or it cannot be told)."""
    if sys.platform != "linux" or any(
        os.environ.get(name) for name in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")
    ):
        return None
    # A Wayland session's own default display (over SSH the session is a "tty" one, whatever the
    # desktop a user is logged into meanwhile).
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if os.environ.get("XDG_SESSION_TYPE") == "wayland" and runtime and (Path(runtime) / "wayland-0").exists():
        return None
    return (
        "Hearth's window cannot start: this session has no display (neither DISPLAY nor "
        "WAYLAND_DISPLAY is set, as over SSH). `hearth node` runs this device without a window "
        "(`hearth node --donate` lends it to paired devices); `hearth --help` lists the rest."
    )


def missing_xcb_libraries(plugin: Path | None = None) -> list[str]:
    """System libraries that Qt's X11 plugin needs and this machine lacks (asked of ldd)."""
    if plugin is None:
        import PySide6

        plugin = Path(PySide6.__file__).parent / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    ldd = shutil.which("ldd")
    if sys.platform != "linux" or not plugin.exists() or ldd is None:
        return []
    try:
        out = subprocess.run([ldd, str(plugin)], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    return sorted({line.split()[0] for line in out.splitlines() if "not found" in line})


def xcb_advice(missing: list[str]) -> str:
    packages = sorted({XCB_PACKAGES.get(lib, lib) for lib in missing})
    return (
        f"Hearth's window cannot start: Qt's X11 plugin needs {', '.join(missing)}, which this system "
        f"lacks. On Debian or Ubuntu: sudo apt install {' '.join(packages)}. "
        "The command line works without it (hearth --help)."
    )


def _probe() -> int:
    """Start Qt's platform plugin and name it (run as a separate process: a failure ends it)."""
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication([])
    print(app.platformName())
    return 0


if __name__ == "__main__":
    sys.exit(_probe() if "--probe" in sys.argv else 2)
