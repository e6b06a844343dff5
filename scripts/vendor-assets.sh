#!/usr/bin/env bash
# Refresh the browser libraries the pages use from the npm registry, at the pinned versions
# below, into app/web/static/vendor/ (served by us: nothing loads from a CDN) and axe-core for
# the browser tests into tests/browser/vendor/. The built files are committed; run this only
# to change a version, then commit what it wrote.
set -euo pipefail
cd "$(dirname "$0")/.."

LEAFLET=1.9.4
MARKERCLUSTER=1.5.3
UPLOT=1.6.32
AXE=4.10.3

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
unpack() {  # unpack NAME VERSION: the package's tarball from the registry, into $work/NAME
  (cd "$work" && npm pack --silent "$1@$2" >/dev/null)
  mkdir -p "$work/$1"
  tar -xzf "$work/$(echo "$1" | tr -d '@' | tr '/' '-')-$2.tgz" -C "$work/$1" --strip-components=1
}

web=app/web/static/vendor
rm -rf "$web" && mkdir -p "$web/leaflet/images" "$web/markercluster" "$web/uplot"
unpack leaflet "$LEAFLET"
cp "$work/leaflet/dist/leaflet.js" "$work/leaflet/dist/leaflet.css" "$work/leaflet/LICENSE" "$web/leaflet/"
cp "$work/leaflet/dist/images/"*.png "$web/leaflet/images/"
unpack leaflet.markercluster "$MARKERCLUSTER"
cp "$work/leaflet.markercluster/dist/leaflet.markercluster.js" \
   "$work/leaflet.markercluster/dist/MarkerCluster.css" \
   "$work/leaflet.markercluster/dist/MarkerCluster.Default.css" \
   "$work/leaflet.markercluster/MIT-LICENCE.txt" "$web/markercluster/"
unpack uplot "$UPLOT"
cp "$work/uplot/dist/uPlot.iife.min.js" "$work/uplot/dist/uPlot.min.css" "$work/uplot/LICENSE" "$web/uplot/"
cat > "$web/VERSIONS" <<VERSIONS
leaflet $LEAFLET
leaflet.markercluster $MARKERCLUSTER
uplot $UPLOT
VERSIONS

tests=tests/browser/vendor
rm -rf "$tests" && mkdir -p "$tests"
unpack axe-core "$AXE"
cp "$work/axe-core/axe.min.js" "$work/axe-core/LICENSE" "$tests/"
echo "axe-core $AXE" > "$tests/VERSIONS"
echo "vendor-assets: leaflet $LEAFLET, markercluster $MARKERCLUSTER, uplot $UPLOT, axe-core $AXE"
