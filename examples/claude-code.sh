#!/usr/bin/env bash
# Registers sfmcp with Claude Code (https://docs.claude.com/en/docs/claude-code/mcp).
# The demo org needs nothing else; for a real org, pass its settings with -e.
set -euo pipefail
sfmcp=${SFMCP:-$(command -v sfmcp || echo "$PWD/target/release/sfmcp")}
claude mcp add salesforce-demo -- "$sfmcp" demo
# claude mcp add salesforce -e SF_INSTANCE_URL=https://acme.my.salesforce.com \
#   -e SF_CLIENT_ID=... -e SF_REFRESH_TOKEN=... -- "$sfmcp" serve --read-only
