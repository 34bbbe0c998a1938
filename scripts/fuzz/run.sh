#!/usr/bin/env bash
# Builds the fuzz targets of fuzz/ and runs each for FUZZ_SECONDS seconds
# (default 20): the CI smoke step of scripts/test-all.sh, and the way to
# fuzz for hours (docs/testing.md, "Fuzzing").
#
# The targets use libFuzzer (the libfuzzer-sys crate, cargo-fuzz's layout),
# built with the coverage instrumentation flags `cargo fuzz build
# --sanitizer none` passes to rustc, which are stable: no nightly toolchain
# and no cargo-fuzz install are needed. Build scripts and proc macros are
# not instrumented (the flags apply to --target only).
#
#   FUZZ_SECONDS=3600 bash scripts/fuzz/run.sh run     # one target, an hour
#   FUZZ_JOBS=2 ...                                    # parallel workers
#
# A crash, panic, timeout (10 s per input) or out-of-memory (2 GB) fails the
# script; the input is kept in fuzz/artifacts/TARGET/ and the log's tail is
# printed. Reproduce with `fuzz/target/HOST/release/TARGET FILE`.
set -euo pipefail
cd "$(dirname "$0")/../.."

all_targets=(parse compile run records policy fixture json)
if [ $# -gt 0 ]; then targets=("$@"); else targets=("${all_targets[@]}"); fi
secs=${FUZZ_SECONDS:-20}
jobs=${FUZZ_JOBS:-1}
host=$(rustc -vV | sed -n 's/^host: //p')

export RUSTFLAGS="-Cpasses=sancov-module \
 -Cllvm-args=-sanitizer-coverage-level=4 \
 -Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
 -Cllvm-args=-sanitizer-coverage-pc-table \
 -Cllvm-args=-sanitizer-coverage-trace-compares \
 -Cllvm-args=-simplifycfg-branch-fold-threshold=0 \
 -Cllvm-args=-sanitizer-coverage-stack-depth \
 --cfg fuzzing"
(cd fuzz && cargo build --release --locked --target "$host" --bins)
bash scripts/fuzz/seed.sh

bin="fuzz/target/$host/release"
for t in "${targets[@]}"; do
  mkdir -p "fuzz/artifacts/$t"
  dict=()
  case $t in parse | compile | run) dict=(-dict=fuzz/weft.dict) ;; esac
  log="fuzz/artifacts/$t.log"
  start=$SECONDS
  if ! "$bin/$t" "fuzz/corpus/$t" "${dict[@]}" -max_total_time="$secs" \
      -timeout=10 -rss_limit_mb=2048 -max_len=65536 -jobs="$jobs" -workers="$jobs" \
      -artifact_prefix="fuzz/artifacts/$t/" -print_final_stats=1 >"$log" 2>&1; then
    tail -n 40 "$log"
    [ "$jobs" -gt 1 ] && tail -n 40 fuzz-*.log 2>/dev/null
    echo "fuzz: target '$t' failed; input in fuzz/artifacts/$t/" >&2
    exit 1
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  echo "fuzz: $t: ${runs:-?} runs in $((SECONDS - start)) s, no crash"
done
