"""The icon files the installers use: a Windows .ico and a macOS .icns holding every size, from the SVG."""

from __future__ import annotations

import struct
from pathlib import Path

from scripts.icons import ICNS_TYPES, ICO_SIZES, RES, icns, ico

PNG = b"\x89PNG\r\n\x1a\n"


def _ico_sizes(data: bytes) -> list[int]:
    reserved, kind, count = struct.unpack_from("<HHH", data)
    assert (reserved, kind) == (0, 1)
    sizes = []
    for i in range(count):
        width, _, _, _, _, _, length, offset = struct.unpack_from("<BBBBHHII", data, 6 + 16 * i)
        assert data[offset : offset + 8] == PNG and offset + length <= len(data)
        sizes.append(width or 256)
    return sizes


def _icns_types(data: bytes) -> list[bytes]:
    assert data[:4] == b"icns" and struct.unpack_from(">I", data, 4)[0] == len(data)
    kinds, at = [], 8
    while at < len(data):
        kind, length = data[at : at + 4], struct.unpack_from(">I", data, at + 4)[0]
        assert data[at + 8 : at + 16] == PNG
        kinds.append(kind)
        at += length
    assert at == len(data)
    return kinds


def test_writers_round_trip() -> None:
    images = {size: PNG + bytes([size % 256]) * size for size in (16, 32, 48, 256)}
    assert _ico_sizes(ico(images)) == [16, 32, 48, 256]
    assert _icns_types(icns(images)) == [ICNS_TYPES[16], ICNS_TYPES[32], ICNS_TYPES[256]]


def test_the_shipped_icons_hold_every_size() -> None:
    assert _ico_sizes((RES / "hearth.ico").read_bytes()) == list(ICO_SIZES)
    assert _icns_types((RES / "hearth.icns").read_bytes()) == list(ICNS_TYPES.values())
    for size in (16, 32, 48, 64, 128, 256, 512):
        assert (RES / "icons" / f"hearth-{size}.png").read_bytes()[:8] == PNG
    for state in ("idle", "donating", "busy"):
        for panel in ("light", "dark"):
            assert Path(RES / "tray" / f"hearth-{state}-{panel}@2x.png").exists()
