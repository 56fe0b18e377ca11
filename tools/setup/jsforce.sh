#!/usr/bin/env bash
# Installs jsforce (npm) under target/test-env/jsforce, idempotently, for
# tests/interop_jsforce.rs: a Salesforce client nobody here wrote logs in over SOAP and queries.
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=target/test-env/jsforce
version=3.10.26
stamp="$dir/.installed"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$version" ] && [ -d "$dir/node_modules/jsforce" ]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "tools/setup/jsforce.sh: npm is needed (Debian package npm, or Node.js)" >&2
  exit 1
fi
mkdir -p "$dir"
cd "$dir"
[ -f package.json ] || npm init -y >/dev/null
npm install --no-audit --no-fund --loglevel=error "jsforce@$version" >/dev/null
cd - >/dev/null
echo "$version" >"$stamp"
echo "jsforce $version ready: $dir"
