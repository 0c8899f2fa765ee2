"""The icon files the installers use: a Windows .ico and a macOS .icns holding every size, from the SVG."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from scripts.icons import ICNS_TYPES, ICO_SIZES, RES, icns, ico

ROOT = Path(__file__).resolve().parents[2]

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


def test_the_checkout_finds_them_in_the_top_level_resources_folder() -> None:
    from hearth.ui.app_icon import RESOURCES

    assert RESOURCES == ROOT / "resources" / "hearth_resources" == RES


def test_an_installed_wheel_carries_them_where_the_app_looks(tmp_path: Path) -> None:
    uv = os.environ.get("UV") or shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not on PATH")
    built = subprocess.run(
        [uv, "build", "--wheel", "--offline", "-o", str(tmp_path / "dist"), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "dist").glob("hearth-*.whl")
    shipped = {
        name.split("/purelib/", 1)[1]
        for name in zipfile.ZipFile(wheel).namelist()
        if "/purelib/" in name and not name.endswith("/")
    }
    in_checkout = {str(p.relative_to(RES.parent).as_posix()) for p in RES.rglob("*") if p.is_file()}
    assert shipped == in_checkout
    # Installed on its own (no checkout beside it), the package finds its icons in site-packages.
    target = tmp_path / "site"
    installed = subprocess.run(
        [uv, "pip", "install", "--offline", "--no-deps", "--target", str(target), str(wheel)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert installed.returncode == 0, installed.stderr
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "from hearth.ui.app_icon import APP_SVG, TRAY_SVG;"
        "print(APP_SVG.resolve()); print(TRAY_SVG.resolve())"
    )
    found = subprocess.run(
        [sys.executable, "-c", probe, str(target)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        cwd=tmp_path,
    )
    assert found.returncode == 0, found.stderr
    assert found.stdout.split() == [
        str(target.resolve() / "hearth_resources" / name) for name in ("hearth.svg", "tray.svg")
    ]
