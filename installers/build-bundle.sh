#!/usr/bin/env bash
# Build Hearth's bundle (PyInstaller, installers/hearth.spec) into dist/hearth, or dist/Hearth.app on
# macOS. Runs the same on every OS that has bash (Git Bash on Windows). Usage: installers/build-bundle.sh
set -euo pipefail
cd "$(dirname "$0")/.."
uv run pyinstaller --noconfirm --clean --log-level WARN \
    --distpath dist --workpath build/pyinstaller installers/hearth.spec
echo "dist/hearth"
