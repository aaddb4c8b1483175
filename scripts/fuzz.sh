#!/usr/bin/env bash
# Fuzzing with cargo-fuzz (libFuzzer) on stable Rust (RUSTC_BOOTSTRAP=1 lets cargo-fuzz use its -Z flags).
# Usage: scripts/fuzz.sh [classify|form|openpgp|all] [SECONDS] [--grow]
#   SECONDS per target (default 30: the smoke run of the test suite).
#   --grow  new interesting inputs are saved into the committed corpus (fuzz/corpus/TARGET); without it they
#           go to a scratch directory and the committed corpus is only read.
# A crash or a hang (an input taking over 10 s) fails the run; libFuzzer leaves the input in
# fuzz/artifacts/TARGET/: turn it into a regression test (tests/hostile/ or a unit test) and fix the cause.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
check_rust

targets=${1:-all}
seconds=${2:-30}
grow=${3:-}
[ "$targets" = all ] && targets="classify form openpgp"
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "[fuzz] installing cargo-fuzz"
  cargo install --locked cargo-fuzz
fi
export RUSTC_BOOTSTRAP=1
# No sanitizer: vdpd is safe Rust (the C underneath, SQLite and Nettle, is not instrumented anyway); debug
# assertions on, so overflows and broken invariants crash instead of passing silently.
flags=(-s none -a --release)
echo "[fuzz] building the targets"
(cd fuzz && cargo fuzz build "${flags[@]}")
for t in $targets; do
  scratch=$(mktemp -d)
  if [ "$grow" = --grow ]; then dirs=(corpus/"$t"); else dirs=("$scratch" corpus/"$t"); fi
  echo "[fuzz] $t for ${seconds}s"
  log=$(mktemp)
  rc=0
  (cd fuzz && cargo fuzz run "${flags[@]}" "$t" "${dirs[@]}" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=16384 -print_final_stats=1 >"$log" 2>&1) || rc=$?
  # The start, the end, and how coverage grew (a line per tenth of the run) — a plateau shows here.
  grep -E "^#[0-9]+\s+(INITED|DONE)|stat::number_of_executed_units|stat::new_units_added|ERROR|SUMMARY|panicked|Test unit written" "$log" || true
  grep -E "^#[0-9]+\s+(NEW|REDUCE|pulse)" "$log" | awk -v n="$seconds" '{ line[NR] = $0 } END { step = int(NR / 10); if (step < 1) step = 1; for (i = step; i <= NR; i += step) print "  " line[i] }' | cut -c1-110
  rm -rf "$scratch"
  if compgen -G "fuzz/artifacts/$t/*" >/dev/null; then
    echo "[fuzz] $t: crash or hang found, see fuzz/artifacts/$t/" >&2
    rm -f "$log"
    exit 1
  fi
  # A target that failed without leaving an input (it did not build, could not start, ran out of memory)
  # fails the run too, and so does one that never reached the end of its time.
  executed=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  if [ "$rc" -ne 0 ] || [ -z "$executed" ] || [ "$executed" -eq 0 ]; then
    echo "[fuzz] $t: cargo fuzz exited with $rc after ${executed:-no} executed inputs" >&2
    tail -40 "$log" >&2
    rm -f "$log"
    exit 1
  fi
  rm -f "$log"
done
echo "[fuzz] no crash"
