#!/usr/bin/env bash
# Mount a Hearth .dmg, copy the app out as a user would, and check it: --version, self-test, a chat.
set -euo pipefail
dmg="$1"
scratch="$(mktemp -d)"
mount="$scratch/mount"
hdiutil attach -nobrowse -readonly -mountpoint "$mount" "$dmg" >/dev/null
trap 'hdiutil detach "$mount" >/dev/null || true; rm -rf "$scratch"' EXIT
cp -R "$mount/Hearth.app" "$scratch/"
hearth="$scratch/Hearth.app/Contents/MacOS/hearth"
export HEARTH_HOME="$scratch/home" QT_QPA_PLATFORM=offscreen
"$hearth" --version
"$hearth" self-test --engine
model="$("$hearth" synth tiny --out "$scratch/tiny.gguf")"
"$hearth" chat --model "$model" --prompt "hello" --max-tokens 4 --temperature 0 --no-history
echo "smoke test passed: $dmg"
