#!/usr/bin/env bash
# Sign (when a signing identity is configured), package and notarize dist/Hearth.app as
# dist/Hearth-VERSION.dmg. Without the secrets it builds an unsigned image and says so.
#   APPLE_SIGNING_IDENTITY  "Developer ID Application: …" in the keychain
#   APPLE_ID, APPLE_TEAM_ID, APPLE_APP_PASSWORD  for notarization
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
app="$root/dist/Hearth.app"
version="$(sed -n 's/^__version__ = "\(.*\)"/\1/p' "$root/app/hearth/__init__.py")"
dmg="$root/dist/Hearth-$version.dmg"
[ -d "$app" ] || { echo "no $app: run installers/build-bundle.sh first" >&2; exit 1; }
/usr/libexec/PlistBuddy -c "Print :NSBonjourServices" "$app/Contents/Info.plist" | grep -q _hearth._tcp

if [ -n "${APPLE_SIGNING_IDENTITY:-}" ]; then
    codesign --force --deep --options runtime --timestamp \
        --entitlements "$root/installers/macos/entitlements.plist" \
        --sign "$APPLE_SIGNING_IDENTITY" "$app"
    codesign --verify --strict --verbose=2 "$app"
else
    echo "notice: APPLE_SIGNING_IDENTITY is not set; the app is not signed (Gatekeeper will ask)" >&2
fi
rm -f "$dmg"
hdiutil create -volname Hearth -srcfolder "$app" -ov -format UDZO "$dmg" >/dev/null
if [ -n "${APPLE_ID:-}" ] && [ -n "${APPLE_TEAM_ID:-}" ] && [ -n "${APPLE_APP_PASSWORD:-}" ]; then
    xcrun notarytool submit "$dmg" --apple-id "$APPLE_ID" --team-id "$APPLE_TEAM_ID" \
        --password "$APPLE_APP_PASSWORD" --wait
    xcrun stapler staple "$dmg"
else
    echo "notice: notarization secrets are not set; the image is not notarized" >&2
fi
echo "$dmg"
