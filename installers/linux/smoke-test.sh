#!/usr/bin/env bash
# Unpack a Hearth .deb into a scratch root (no root rights, nothing installed) and check what it holds:
# `hearth --version`, `hearth self-test --engine` (Qt offscreen) and a local `hearth chat` with a tiny
# model that the bundle writes itself. Usage: installers/linux/smoke-test.sh dist/hearth_*.deb
set -euo pipefail
deb="$1"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
dpkg-deb -x "$deb" "$scratch/root"
hearth="$scratch/root/opt/hearth/hearth"
export HEARTH_HOME="$scratch/home" QT_QPA_PLATFORM=offscreen
[ "$(readlink "$scratch/root/usr/bin/hearth")" = /opt/hearth/hearth ]
"$hearth" --version
"$hearth" self-test --engine
model="$("$hearth" synth tiny --out "$scratch/tiny.gguf")"
"$hearth" chat --model "$model" --prompt "hello" --max-tokens 4 --temperature 0 --no-history
echo "smoke test passed: $deb"
