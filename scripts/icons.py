"""Render Hearth's icons from their SVG sources in ``resources/hearth_resources``: PNG sizes, ``hearth.ico``
(Windows), ``hearth.icns`` (macOS) and the tray's state icons for light and dark panels.

    uv run python -m scripts.icons

The window and the tray draw from the same SVGs at run time; these files are for the installers
(desktop entries, the hicolor theme, app bundles) and for systems that want bitmaps.
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parent.parent
RES = ROOT / "resources" / "hearth_resources"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# The ICNS element types that hold a PNG of this many pixels a side.
ICNS_TYPES = {16: b"icp4", 32: b"icp5", 64: b"icp6", 128: b"ic07", 256: b"ic08", 512: b"ic09"}


def png(size: int) -> bytes:
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice

    from hearth.ui.app_icon import app_pixmap

    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    app_pixmap(size).save(buffer, "PNG")
    return bytes(data.data())


def ico(images: dict[int, bytes]) -> bytes:
    """A Windows icon holding PNG images (read by every Windows since Vista)."""
    head = struct.pack("<HHH", 0, 1, len(images))
    offset = 6 + 16 * len(images)
    entries, blobs = b"", b""
    for size, data in images.items():
        side = 0 if size >= 256 else size  # 0 means 256 in an ICO directory
        entries += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(data), offset + len(blobs))
        blobs += data
    return head + entries + blobs


def icns(images: dict[int, bytes]) -> bytes:
    """A macOS icon family of PNG elements."""
    body = b"".join(
        ICNS_TYPES[size] + struct.pack(">I", 8 + len(data)) + data
        for size, data in images.items()
        if size in ICNS_TYPES
    )
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def main() -> int:
    from PySide6.QtGui import QGuiApplication

    from hearth.ui.app_icon import STATES, tray_pixmap

    _app = QGuiApplication.instance() or QGuiApplication(sys.argv)
    images = {size: png(size) for size in SIZES}
    out = RES / "icons"
    out.mkdir(exist_ok=True)
    for size, data in images.items():
        (out / f"hearth-{size}.png").write_bytes(data)
    (RES / "hearth.ico").write_bytes(ico({s: images[s] for s in ICO_SIZES}))
    (RES / "hearth.icns").write_bytes(icns(images))
    tray = RES / "tray"
    tray.mkdir(exist_ok=True)
    for state in STATES:
        for panel in ("light", "dark"):
            for scale, suffix in ((1, ""), (2, "@2x")):
                pixmap = tray_pixmap(state, dark_panel=panel == "dark", size=32 * scale)
                pixmap.save(str(tray / f"hearth-{state}-{panel}{suffix}.png"), "PNG")
    for path in sorted(RES.rglob("*")):
        if path.is_file() and path.suffix != ".svg":
            print(path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
