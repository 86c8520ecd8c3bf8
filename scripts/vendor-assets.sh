#!/usr/bin/env bash
# Fetch the GUI's front-end assets at pinned versions and copy only the built files we serve
# into src/telora/ui/static/vendor/ (no bundler, no node_modules in the repo).
#
# Packages come from whatever npm registry `npm` is configured for. To upgrade, change a
# version below, run this script, look at the GUI, and commit the result together.
set -euo pipefail

TABLER_VERSION=1.6.1            # @tabler/core: Bootstrap 5 based CSS and JS
TABLER_ICONS_VERSION=3.49.0     # @tabler/icons-webfont: the `ti ti-<name>` icon font
HTMX_VERSION=2.0.11             # htmx.org: partial page updates
BPMN_JS_VERSION=18.6.2          # bpmn-js: the BPMN diagram viewer (flows, orders) and modeler (flow builder)

root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/src/telora/ui/static/vendor"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# unpack <package> <version> -> prints the directory holding the unpacked package
unpack() {
    local name="$1" version="$2" tarball dir
    tarball="$(cd "$work" && npm pack --silent "$name@$version" | tail -n 1)"
    dir="$work/$(echo "$name" | tr '/@' '__')"
    mkdir -p "$dir"
    tar -xzf "$work/$tarball" -C "$dir"
    echo "$dir/package"
}

tabler="$(unpack @tabler/core "$TABLER_VERSION")"
icons="$(unpack @tabler/icons-webfont "$TABLER_ICONS_VERSION")"
htmx="$(unpack htmx.org "$HTMX_VERSION")"
bpmnjs="$(unpack bpmn-js "$BPMN_JS_VERSION")"

rm -rf "$dest"
mkdir -p "$dest/tabler" "$dest/tabler-icons/fonts" "$dest/htmx" "$dest/bpmn-js/assets"

# @tabler/core ships no LICENSE file; its MIT notice heads the minified files themselves.
cp "$tabler/dist/css/tabler.min.css" "$tabler/dist/js/tabler.min.js" "$dest/tabler/"

# Only the woff2 font is shipped (every browser we support reads it), so the stylesheet is
# pointed at that file alone instead of also naming woff and ttf files we leave out.
cp "$icons/dist/fonts/tabler-icons.woff2" "$dest/tabler-icons/fonts/"
cp "$icons/LICENSE" "$dest/tabler-icons/"
sed -E 's#src:url\("\./fonts/tabler-icons\.woff2\?v[0-9.]+"\) format\("woff2"\)[^}]*#src:url("./fonts/tabler-icons.woff2?v'"$TABLER_ICONS_VERSION"'") format("woff2")#' \
    "$icons/dist/tabler-icons.min.css" > "$dest/tabler-icons/tabler-icons.min.css"
if grep -q 'tabler-icons\.ttf' "$dest/tabler-icons/tabler-icons.min.css"; then
    echo "vendor-assets: could not narrow the icon font to woff2; check the @font-face rule" >&2
    exit 1
fi

cp "$htmx/dist/htmx.min.js" "$htmx/LICENSE" "$dest/htmx/"

# bpmn-js's licence asks that the bpmn.io watermark stays visible in the viewer and the modeler: it does.
# The modeler is bpmn-js's own ready UMD build (global BpmnJS), used by the flow builder only.
cp "$bpmnjs/dist/bpmn-navigated-viewer.production.min.js" "$bpmnjs/dist/bpmn-modeler.production.min.js" \
    "$bpmnjs/LICENSE" "$dest/bpmn-js/"
cp -r "$bpmnjs/dist/assets/bpmn-js.css" "$bpmnjs/dist/assets/diagram-js.css" "$bpmnjs/dist/assets/bpmn-font" \
    "$dest/bpmn-js/assets/"

cat > "$dest/VERSIONS" <<VERSIONS
# Written by scripts/vendor-assets.sh; do not edit by hand.
@tabler/core $TABLER_VERSION (MIT)
@tabler/icons-webfont $TABLER_ICONS_VERSION (MIT)
htmx.org $HTMX_VERSION (0BSD)
bpmn-js $BPMN_JS_VERSION (bpmn.io licence: MIT with the watermark kept)
VERSIONS

echo "vendored into ${dest#"$root/"}:"
(cd "$dest" && find . -type f | sort | sed 's#^\./#  #')
