#!/usr/bin/env bash
# Package dist/hearth (installers/build-bundle.sh) as dist/hearth_VERSION_ARCH.deb: the bundle in
# /opt/hearth, /usr/bin/hearth, a desktop entry, icons in the hicolor theme and AppStream metainfo.
# Usage: installers/linux/build-deb.sh [BUNDLE_DIR] [OUT_DIR]; DEB_COMPRESSION=xz for a smaller file
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bundle="${1:-$root/dist/hearth}"
out="${2:-$root/dist}"
version="$(sed -n 's/^__version__ = "\(.*\)"/\1/p' "$root/app/hearth/__init__.py")"
arch="$(dpkg --print-architecture)"
[ -x "$bundle/hearth" ] || { echo "no bundle at $bundle: run installers/build-bundle.sh first" >&2; exit 1; }

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
install -d "$stage/opt/hearth" "$stage/usr/bin" "$stage/usr/share/applications" \
    "$stage/usr/share/metainfo" "$stage/DEBIAN" "$stage/usr/share/icons/hicolor/scalable/apps"
cp -a "$bundle/." "$stage/opt/hearth/"
ln -s /opt/hearth/hearth "$stage/usr/bin/hearth"
install -m 644 "$here/hearth.desktop" "$stage/usr/share/applications/hearth.desktop"
install -m 644 "$here/org.hearthapp.Hearth.metainfo.xml" "$stage/usr/share/metainfo/"
install -m 644 "$root/resources/hearth_resources/hearth.svg" "$stage/usr/share/icons/hicolor/scalable/apps/hearth.svg"
for png in "$root"/resources/hearth_resources/icons/hearth-*.png; do
    size="$(basename "$png" .png)"; size="${size#hearth-}"
    install -D -m 644 "$png" "$stage/usr/share/icons/hicolor/${size}x${size}/apps/hearth.png"
done
installed_kb="$(du -sk "$stage" | cut -f1)"
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$installed_kb/" \
    "$here/control.in" > "$stage/DEBIAN/control"
mkdir -p "$out"
deb="$out/hearth_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Z"${DEB_COMPRESSION:-gzip}" --build "$stage" "$deb" >/dev/null
echo "$deb"
