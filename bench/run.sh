#!/usr/bin/env bash
# The benchmark of BENCHMARKS.md: starts the real Postfix + Dovecot on loopback (unless running), runs
# `cargo bench --bench desk` (release build) with the given scenarios and options, stops what it started.
# Usage: bench/run.sh [backlog] [latency] [memory] [cli] [--reports N] [--latency-reports N] [--tickets N]
#                     [--json FILE]          (no scenario: all four, with the numbers of BENCHMARKS.md)
# As root, or as a user with sudo. Installs what it needs, like scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

install_packages
check_rust

use_mailstack

echo "[bench] machine: $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB, $(uname -r)"
echo "[bench] $(rustc --version); $(dovecot --version 2>/dev/null | head -1 | sed 's/^/Dovecot /'); $(postconf -d mail_version 2>/dev/null | sed 's/mail_version = /Postfix /')"
cargo bench --locked --bench desk -- "$@"
