#!/usr/bin/env bash
# The whole test suite, from a fresh Debian machine: installs what it needs, starts a real Postfix + Dovecot
# on loopback, runs the format and lint gates and every test, and stops what it started.
# Usage: scripts/test.sh   (as root, or as a user with sudo)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

install_packages
check_rust

stack=scripts/mailstack.sh
started=
# (Capture first: with pipefail, grep -q closing the pipe early would make a running stack look stopped.)
stack_status=$(as_root "$stack" status)
if [[ "$stack_status" != *"dovecot running"*"postfix running"*"oauth2 running"* ]]; then
  as_root "$stack" start
  started=1
fi
stop_stack() { [ -n "$started" ] && as_root "$stack" stop || true; }
trap stop_stack EXIT
eval "$(as_root "$stack" env)"
export MAILSTACK_ROOT MAILSTACK_SMTP_PORT MAILSTACK_SUBMISSION_PORT MAILSTACK_IMAP_PORT MAILSTACK_IMAPS_PORT MAILSTACK_OAUTH_PORT MAILSTACK_CA

echo "[test] cargo fmt --check"
cargo fmt --check
echo "[test] cargo clippy"
cargo clippy --locked --all-targets -- -D warnings
echo "[test] cargo test"
cargo test --locked --all-targets
if [ -z "${VDPD_SKIP_FUZZ:-}" ]; then
  echo "[test] fuzz smoke run: each cargo-fuzz target for 30 s from the committed corpus"
  scripts/fuzz.sh all 30
fi
if [ -z "${VDPD_SKIP_PACKAGE:-}" ]; then
  echo "[test] the Debian package: build, install, configure, check, purge"
  scripts/package.sh
  scripts/package-test.sh
fi
echo "[test] all passed"
