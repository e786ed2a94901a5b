#!/bin/sh
# Re-fetch the vendored renderers of /docs from the npm registry: Redoc's standalone
# build (the OpenAPI document) and the AsyncAPI React component's standalone build with
# its style sheet (the channel's AsyncAPI document), with their licences and versions.
# The server never downloads anything at run time; run this only to change a version.
set -eu
REDOC="${1:-2.5.4}"
ASYNCAPI="${2:-3.2.1}"
HERE="$(cd "$(dirname "$0")/.." && pwd)"
TARGET="$HERE/clients/docs/vendor"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
npm pack --silent "redoc@$REDOC" "@asyncapi/react-component@$ASYNCAPI" >/dev/null
mkdir redoc asyncapi
tar -xzf "redoc-$REDOC.tgz" -C redoc
tar -xzf "asyncapi-react-component-$ASYNCAPI.tgz" -C asyncapi
mkdir -p "$TARGET"
cp redoc/package/bundles/redoc.standalone.js "$TARGET/redoc.standalone.js"
cp redoc/package/LICENSE "$TARGET/redoc.LICENSE.txt"
cp asyncapi/package/browser/standalone/index.js "$TARGET/asyncapi.standalone.js"
cp asyncapi/package/styles/default.min.css "$TARGET/asyncapi.css"
cp asyncapi/package/LICENSE "$TARGET/asyncapi.LICENSE.txt"
printf 'redoc %s (npm, MIT), bundles/redoc.standalone.js\n@asyncapi/react-component %s (npm, Apache-2.0), browser/standalone/index.js and styles/default.min.css\n' \
  "$REDOC" "$ASYNCAPI" > "$TARGET/VERSIONS.txt"
sha256sum "$TARGET/redoc.standalone.js" "$TARGET/asyncapi.standalone.js" "$TARGET/asyncapi.css"
