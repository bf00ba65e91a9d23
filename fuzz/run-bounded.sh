#!/usr/bin/env bash
# Runs every numbind fuzz target for a bounded time (first argument, seconds per target, default 15) and exits
# non-zero on the first crash, leak or timeout (libFuzzer writes the input to fuzz/artifacts/<target>/).
# Installs the pinned cargo-fuzz if missing. The machine has only a stable toolchain: RUSTC_BOOTSTRAP=1 lets it
# accept the sanitizer flags cargo-fuzz passes. The build is reused across runs through NUMBIND_FUZZ_TARGET_DIR
# (default: ~/.cache/numbind-fuzz-target), because the first sanitizer build of all dependencies takes minutes.
# The corpus each run grows is kept in NUMBIND_FUZZ_CORPUS_DIR (default: ~/.cache/numbind-fuzz-corpus/<target>)
# and read back by the next run together with the committed seeds, so that runs continue where the last one
# stopped instead of starting from the seeds each time (CI keeps that directory between runs).
set -euo pipefail
cd "$(dirname "$0")"

CARGO_FUZZ_VERSION="0.13.2"
SECONDS_PER_TARGET="${1:-15}"
TARGET_DIR="${NUMBIND_FUZZ_TARGET_DIR:-$HOME/.cache/numbind-fuzz-target}"
CORPUS_DIR="${NUMBIND_FUZZ_CORPUS_DIR:-$HOME/.cache/numbind-fuzz-corpus}"
TARGETS=(sms_command activation_code msisdn smpp_pdu cmpp_pdu signature_headers component_authorization signed_statement
  smsc_config_file session_request routing_tables)

if ! [[ "$SECONDS_PER_TARGET" =~ ^[0-9]+$ ]] || [ "$SECONDS_PER_TARGET" -lt 1 ]; then
  echo "usage: $0 [seconds per target, a positive integer]" >&2
  exit 2
fi
if ! cargo fuzz --version 2>/dev/null | grep -q "$CARGO_FUZZ_VERSION"; then
  echo "== installing cargo-fuzz $CARGO_FUZZ_VERSION"
  cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
fi

export RUSTC_BOOTSTRAP=1
echo "== building ${#TARGETS[@]} fuzz targets (target dir $TARGET_DIR)"
cargo fuzz build --target-dir "$TARGET_DIR"

for target in "${TARGETS[@]}"; do
  echo "== fuzzing $target for ${SECONDS_PER_TARGET}s"
  if ! compgen -G "corpus/$target/seed-*" >/dev/null; then
    echo "fuzz target $target has no committed seed in fuzz/corpus/$target/" >&2
    exit 1
  fi
  mkdir -p "$CORPUS_DIR/$target"
  echo "   corpus: $(find "$CORPUS_DIR/$target" -type f | wc -l) inputs kept from earlier runs, plus the seeds"
  # libFuzzer writes new inputs to the first directory (the kept corpus) and only reads the seeds.
  # -rss_limit_mb bounds memory; -timeout flags any single input slower than 10 s as a hang.
  if ! cargo fuzz run --target-dir "$TARGET_DIR" "$target" "$CORPUS_DIR/$target" "corpus/$target" -- \
    -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 2>"artifacts-$target.log"; then
    tail -n 60 "artifacts-$target.log" >&2
    echo "fuzz target $target failed: see fuzz/artifacts/$target/" >&2
    exit 1
  fi
  grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+ *DONE)" "artifacts-$target.log" || true
  rm -f "artifacts-$target.log"
done
echo "== all ${#TARGETS[@]} fuzz targets ran ${SECONDS_PER_TARGET}s each without a crash"
