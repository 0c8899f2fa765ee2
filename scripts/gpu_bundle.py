"""Bundle what a machine with an NVIDIA GPU but no network needs to build Hearth's engine with CUDA
there and run the GPU benchmarks.

    uv run python -m scripts.gpu_bundle [--out .gpu-bundle] [--python 3.12]

Then, on that machine, from the repository's root (with the bundle folder copied beside it):

    bash .gpu-bundle/run.sh ["gpu_offload --rounds 4" "batch_decode --tokens 64" ...]

Each argument is a benchmark's module name with its arguments; by default ``gpu_offload``, then
``batch_decode``.

The machine needs Python, CUDA's compiler, CMake, ninja and scikit-build-core, and the packages a CUDA
image usually holds (numpy, psutil, Jinja2, PyYAML, sentencepiece, typing-extensions). The bundle holds
the rest, for that Python:

- llama-cpp-python's source at the version ``pyproject.toml`` pins, without what its build never reads
  (llama.cpp's model vocabularies, docs, media, tests and examples): about a tenth of its size;
- wheels of the engine's other dependencies, at the versions ``uv.lock`` holds;
- ``run.sh``, which builds llama.cpp as Hearth's own build does (RPC on, nothing tuned to the build
  machine, the CPU backend for every instruction-set level) plus CUDA for the GPU at hand, into a
  folder of its own, then runs each benchmark named (``benchmarks.NAME``).

``HEARTH_GPU_CMAKE`` replaces the backend's own CMake flags (``-DGGML_CUDA=OFF`` tries the bundle on a
machine without CUDA); ``HEARTH_GPU_SITE`` where it installs (default ``/tmp/hearth-gpu-site``).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# What the engine imports that a CUDA image does not usually hold (llama-cpp-python's own needs too).
WHEELS = ("msgspec", "gguf", "platformdirs", "diskcache")
PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64", "any")
# Parts of the llama-cpp-python source that its build does not read.
UNREAD = (
    ".git",
    "docs",
    "docker",
    "examples",
    "tests",
    "vendor/llama.cpp/models",
    "vendor/llama.cpp/docs",
    "vendor/llama.cpp/media",
    "vendor/llama.cpp/.github",
    "vendor/llama.cpp/benches",
    "vendor/llama.cpp/tests",
    "vendor/llama.cpp/examples",
    "vendor/llama.cpp/pocs",
    "vendor/llama.cpp/gguf-py",
    "vendor/llama.cpp/conversion",
    "vendor/llama.cpp/tools/ui",
    "vendor/llama.cpp/tools/server",
)

RUN_SH = r"""#!/usr/bin/env bash
# Builds llama-cpp-python with CUDA here, then runs each benchmark given as "NAME ARGS..." (default:
# gpu_offload and batch_decode). Made by scripts/gpu_bundle.py; run from the repository's root.
set -euo pipefail
bundle=$(cd "$(dirname "$0")" && pwd)
site=${HEARTH_GPU_SITE:-/tmp/hearth-gpu-site}
export PYTHONUNBUFFERED=1
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$site" \
    "$bundle"/wheels/*.whl
if [ -z "${HEARTH_GPU_CMAKE+set}" ]; then
    if ! command -v nvidia-smi > /dev/null; then
        echo "no nvidia-smi here: set HEARTH_GPU_CMAKE to the backend's CMake flags" >&2
        exit 1
    fi
    arch=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -n 1 | tr -d ' .')
    HEARTH_GPU_CMAKE="-DGGML_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=$arch"
fi
flags="@BASE_CMAKE@ -DLLAVA_BUILD=OFF $HEARTH_GPU_CMAKE"
# Built once per set of flags: another set builds again.
if [ ! -f "$site/llama_cpp/__init__.py" ] || [ "$(cat "$site/.cmake-flags" 2>/dev/null)" != "$flags" ]; then
    echo "building llama-cpp-python ($HEARTH_GPU_CMAKE)"
    start=$(date +%s)
    rm -rf "$site/llama_cpp" "$site"/llama_cpp_python-*
    CMAKE_ARGS="$flags" \
    CMAKE_BUILD_PARALLEL_LEVEL=$(nproc) \
        python3 -m pip install -q --no-index --no-deps --no-build-isolation --no-cache-dir \
        --target "$site" "$bundle"/@SDIST@
    echo "$flags" > "$site/.cmake-flags"
    echo "built in $(( $(date +%s) - start )) s"
fi
export PYTHONPATH="$PWD/app:$PWD:$site${PYTHONPATH:+:$PYTHONPATH}"
python3 -c "import llama_cpp, msgspec, gguf, numpy, psutil, jinja2; print('llama-cpp-python', \
    llama_cpp.__version__)"
if [ $# -eq 0 ]; then set -- gpu_offload batch_decode; fi
for run in "$@"; do
    read -ra words <<< "$run"
    echo "== benchmarks.$run"
    python3 -m "benchmarks.${words[0]}" "${words[@]:1}"
done
"""


def _pinned_llama() -> str:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pin = next(d for d in deps if d.startswith("llama-cpp-python=="))
    return str(pin.split("==", 1)[1])


def _base_cmake() -> str:
    """Hearth's own build flags for llama-cpp-python, as ``pyproject.toml`` gives them to uv."""
    tool = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["uv"]
    return str(tool["extra-build-variables"]["llama-cpp-python"]["CMAKE_ARGS"])


def _locked(names: tuple[str, ...]) -> dict[str, str]:
    packages = tomllib.loads((ROOT / "uv.lock").read_text())["package"]
    found = {p["name"]: p["version"] for p in packages if p["name"] in names}
    missing = set(names) - set(found)
    if missing:
        raise SystemExit(f"uv.lock holds no {', '.join(sorted(missing))}")
    return found


def _pip(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", *args], check=True)


def _trimmed_source(version: str, out: Path) -> Path:
    """llama-cpp-python's source, without what its build does not read, as a .tar.gz in ``out``."""
    with tempfile.TemporaryDirectory() as tmp:
        _pip("download", "-q", "--no-deps", "--no-binary", ":all:", f"llama-cpp-python=={version}", "-d", tmp)
        (archive,) = Path(tmp).glob("llama_cpp_python-*.tar.gz")
        with tarfile.open(archive) as tar:
            tar.extractall(tmp, filter="data")
        top = Path(tmp) / f"llama_cpp_python-{version}"
        for part in UNREAD:
            shutil.rmtree(top / part, ignore_errors=True)
        target = out / archive.name
        with tarfile.open(target, "w:gz") as tar:
            tar.add(top, arcname=top.name)
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / ".gpu-bundle")
    parser.add_argument("--python", default="3.12", help="the GPU machine's Python (default 3.12)")
    args = parser.parse_args()
    out: Path = args.out
    shutil.rmtree(out, ignore_errors=True)
    (out / "wheels").mkdir(parents=True)
    platforms = [a for p in PLATFORMS for a in ("--platform", p)]
    for name, version in _locked(WHEELS).items():
        _pip(
            "download", "-q", "--no-deps", "--only-binary", ":all:", "--python-version", args.python,
            "--implementation", "cp", *platforms, "-d", str(out / "wheels"), f"{name}=={version}",
        )  # fmt: skip
    sdist = _trimmed_source(_pinned_llama(), out)
    script = RUN_SH.replace("@BASE_CMAKE@", _base_cmake()).replace("@SDIST@", sdist.name)
    (out / "run.sh").write_text(script)
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    wheels = len(list((out / "wheels").iterdir()))
    print(f"{out}: {size / 2**20:.1f} MiB ({sdist.name}, {wheels} wheels, run.sh)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
