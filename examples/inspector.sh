#!/usr/bin/env bash
# Drives sfmcp with the MCP Inspector's CLI, non-interactively (npm package
# @modelcontextprotocol/inspector-cli). Lists the tools, then runs one query on the demo org.
set -euo pipefail
sfmcp=${SFMCP:-$PWD/target/release/sfmcp}
npx -y @modelcontextprotocol/inspector-cli --cli "$sfmcp" demo --method tools/list
npx -y @modelcontextprotocol/inspector-cli --cli "$sfmcp" demo --method tools/call \
  --tool-name soql_query \
  --tool-arg 'query=SELECT Name, Industry FROM Account ORDER BY Name LIMIT 5'
