#!/usr/bin/env bash
# Measures sfmcp's MCP layer on a release build (bench profile) against the in-process
# emulator and prints a Markdown table for tools/README.md. Loopback only; bounded rounds.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo bench --bench mcp_stdio
