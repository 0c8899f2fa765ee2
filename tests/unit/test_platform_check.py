"""The window names the system library Qt's X11 plugin lacks, instead of Qt's own cryptic abort."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hearth.ui.platform_check import missing_xcb_libraries, xcb_advice

pytestmark = pytest.mark.skipif(
    sys.platform != "linux" or shutil.which("cc") is None or shutil.which("ldd") is None,
    reason="builds a small shared library on Linux",
)


def _library_needing(tmp_path: Path, soname: str) -> Path:
    """A shared library that needs ``soname``, which is then taken away again."""
    (tmp_path / "dep.c").write_text("int dep(void) { return 1; }\n")
    (tmp_path / "user.c").write_text("int dep(void); int user(void) { return dep(); }\n")
    dep = tmp_path / soname
    subprocess.run(
        ["cc", "-shared", "-fPIC", f"-Wl,-soname,{soname}", "-o", dep, tmp_path / "dep.c"], check=True
    )
    user = tmp_path / "libuser.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-o", user, tmp_path / "user.c", dep], check=True)
    dep.unlink()
    return user


def test_a_missing_library_is_named_with_its_package(tmp_path: Path) -> None:
    plugin = _library_needing(tmp_path, "libxcb-hearth-absent.so.0")
    assert missing_xcb_libraries(plugin) == ["libxcb-hearth-absent.so.0"]
    advice = xcb_advice(["libxcb-cursor.so.0", "libxcb-icccm.so.4"])
    assert "libxcb-cursor.so.0, libxcb-icccm.so.4" in advice
    assert "sudo apt install libxcb-cursor0 libxcb-icccm4" in advice
