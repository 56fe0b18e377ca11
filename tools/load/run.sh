#!/usr/bin/env bash
# Load and soak: 200 concurrent Streamable HTTP sessions over 4 tenants for 60 s, then a
# 10-minute soak (tools/load/load.py says what is checked). Everything runs on 127.0.0.1.
#   bash tools/load/run.sh                      # the binary as it ships (dist), default figures
#   bash tools/load/run.sh --soak-seconds 60    # any load.py option passes through
# SFMCP_BIN=/path/to/sfmcp skips the build. The JSON report, RSS samples included,
# is written to target/load/. Exit 1 on any wrong-tenant result, lost or duplicated write.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash tools/setup-test-env
target_dir="${CARGO_TARGET_DIR:-target}"
if [ -z "${SFMCP_BIN:-}" ]; then
  cargo build --profile dist --bin sfmcp
  SFMCP_BIN="$target_dir/dist/sfmcp"
fi
mkdir -p target/load
exec target/test-env/venv/bin/python tools/load/load.py --sfmcp "$SFMCP_BIN" \
  --out "target/load/report-$(date -u +%Y%m%dT%H%M%SZ).json" "$@"
