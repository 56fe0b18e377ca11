#!/usr/bin/env bash
# Runs every fuzz target in turn for SECONDS each (default 600), niced, then minimises each
# corpus in place (fuzz/corpus/<target>, kept in git). The hand-written seeds in
# fuzz/seeds/<target> are read too but never minimised away, so the shapes they show stay
# readable. Crashes land in fuzz/artifacts/<target>: copy a crash into fuzz/seeds/<target>
# once it is fixed, so every later run replays it first.
#   bash fuzz/run.sh            # all targets, ten minutes each
#   bash fuzz/run.sh 60 tool_args
# cargo-fuzz needs nightly features; RUSTC_BOOTSTRAP=1 lets the stable toolchain build it.
# Without a sanitizer (-s none): the crate forbids unsafe code, and the build is much lighter.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-600}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(soql_parse tool_args render_records)
fi
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
export RUSTC_BOOTSTRAP=1
target_dir="${CARGO_TARGET_DIR:-$PWD/target}/fuzz"
for target in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$target"
  echo "== $target: ${seconds}s"
  # New inputs go to the first directory; the seeds are only read.
  nice -n 10 cargo fuzz run -s none --target-dir "$target_dir" "$target" \
    "fuzz/corpus/$target" "fuzz/seeds/$target" -- \
    -max_total_time="$seconds" -timeout=30 -rss_limit_mb=4096 -max_len=8192 -print_final_stats=1
  nice -n 10 cargo fuzz cmin -s none --target-dir "$target_dir" "$target" "fuzz/corpus/$target" -- \
    -rss_limit_mb=4096 -max_len=8192
done
