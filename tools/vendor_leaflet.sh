#!/usr/bin/env bash
# Vendor Leaflet (the workbench's map) from its npm package into the package's static files:
# src/rainforest/web/static/leaflet/{leaflet.js, leaflet.css, images/*.png, LICENSE}.
# The version and the tarball's SHA-256 are pinned here; the script stops when the registry
# hands back anything else. Run from the repository's root: tools/vendor_leaflet.sh
# Needs npm (only to fetch the tarball: nothing is installed) and sha256sum.
set -euo pipefail

VERSION="1.9.4"
SHA256="84c65a256e50657896f54c33bd857b6849ebe94c817803be818bf32a3dde0b77"  # leaflet-1.9.4.tgz

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="$root/src/rainforest/web/static/leaflet"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

(cd "$work" && npm pack --silent "leaflet@$VERSION" >/dev/null)
tarball="$work/leaflet-$VERSION.tgz"
got="$(sha256sum "$tarball" | cut -d' ' -f1)"
echo "leaflet-$VERSION.tgz sha256 $got"
if [ "$got" != "$SHA256" ]; then
    echo "checksum mismatch: expected $SHA256, got $got; nothing was changed" >&2
    exit 1
fi
tar -xzf "$tarball" -C "$work"
rm -rf "$target"
mkdir -p "$target/images"
cp "$work/package/dist/leaflet.js" "$work/package/dist/leaflet.css" "$work/package/LICENSE" "$target/"
cp "$work/package/dist/images/"*.png "$target/images/"
(cd "$target" && sha256sum leaflet.js leaflet.css LICENSE images/*.png)
echo "Leaflet $VERSION vendored into ${target#"$root"/}"
