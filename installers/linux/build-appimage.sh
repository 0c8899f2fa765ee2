#!/usr/bin/env bash
# Package dist/hearth (installers/build-bundle.sh) as dist/Hearth-VERSION-ARCH.AppImage with
# appimagetool, fetched on first use (set APPIMAGETOOL to use one already on the machine).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
version="$(sed -n 's/^__version__ = "\(.*\)"/\1/p' "$root/app/hearth/__init__.py")"
arch="$(uname -m)"
[ -x "$root/dist/hearth/hearth" ] || { echo "no dist/hearth: run installers/build-bundle.sh first" >&2; exit 1; }
tool="${APPIMAGETOOL:-$root/build/appimagetool-$arch.AppImage}"
if [ ! -x "$tool" ]; then
    mkdir -p "$(dirname "$tool")"
    curl -fsSL -o "$tool" \
        "https://github.com/AppImage/appimagetool/releases/download/continuous/appimagetool-$arch.AppImage"
    chmod +x "$tool"
fi
appdir="$(mktemp -d)/Hearth.AppDir"
trap 'rm -rf "$(dirname "$appdir")"' EXIT
mkdir -p "$appdir/usr/share/metainfo"
cp -a "$root/dist/hearth" "$appdir/usr/hearth"
cp "$here/hearth.desktop" "$appdir/hearth.desktop"
cp "$here/org.hearthapp.Hearth.metainfo.xml" "$appdir/usr/share/metainfo/"
cp "$root/resources/hearth_resources/icons/hearth-256.png" "$appdir/hearth.png"
cat > "$appdir/AppRun" <<'RUN'
#!/bin/sh
here="$(dirname "$(readlink -f "$0")")"
exec "$here/usr/hearth/hearth" "$@"
RUN
chmod +x "$appdir/AppRun"
out="$root/dist/Hearth-$version-$arch.AppImage"
ARCH="$arch" "$tool" --no-appstream "$appdir" "$out"
echo "$out"
