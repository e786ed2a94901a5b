#!/bin/sh
# Re-fetch the vendored hls.js (the replay page's and the live HLS fallback's player) from
# the npm registry: the pinned version's light build and its licence, nothing else. The
# server never downloads anything at run time; run this only to change the version.
set -eu
VERSION="${1:-1.7.4}"
HERE="$(cd "$(dirname "$0")/.." && pwd)"
TARGET="$HERE/clients/viewer/vendor"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
npm pack --silent "hls.js@$VERSION" >/dev/null
tar -xzf "hls.js-$VERSION.tgz"
mkdir -p "$TARGET"
cp package/dist/hls.light.min.js "$TARGET/hls.light.min.js"
cp package/LICENSE "$TARGET/hls.js.LICENSE.txt"
printf 'hls.js %s (npm), dist/hls.light.min.js\n' "$VERSION" > "$TARGET/hls.js.VERSION.txt"
sha256sum "$TARGET/hls.light.min.js"
