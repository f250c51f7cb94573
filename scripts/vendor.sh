#!/usr/bin/env bash
# The browser libraries the pages load, copied from node_modules/ into dashboards/vendor/ (served
# under /static/vendor/, never from a CDN). The version is the one package.json pins; run
# `npm ci` first, then this script after changing the pin, and commit what it wrote
# (tests/dashboards/test_map.py checks the copy matches the pinned package byte for byte).
#   scripts/vendor.sh          Leaflet → dashboards/vendor/leaflet/
set -euo pipefail
cd "$(dirname "$0")/.."

pinned=$(node -p 'require("./package.json").devDependencies.leaflet')
installed=$(node -p 'require("./node_modules/leaflet/package.json").version')
if [ "$pinned" != "$installed" ]; then
  echo "vendor: package.json pins leaflet $pinned but node_modules has $installed: run npm ci" >&2
  exit 1
fi

src=node_modules/leaflet
dest=dashboards/vendor/leaflet
rm -rf "$dest"
mkdir -p "$dest/images"
cp "$src/dist/leaflet.js" "$src/dist/leaflet.css" "$dest/"
cp "$src"/dist/images/*.png "$dest/images/"
cp "$src/LICENSE" "$dest/LICENSE"
printf '%s\n' "$installed" >"$dest/VERSION"
echo "vendor: leaflet $installed → $dest"
