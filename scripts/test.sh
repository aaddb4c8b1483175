#!/usr/bin/env bash
# The whole test suite, from a fresh Debian machine: installs what it needs, starts a real Postfix + Dovecot
# on loopback and a real Cyrus IMAP (in a chroot), runs the format and lint gates and every test — the
# package under a real systemd too — and stops what it started.
# Usage: scripts/test.sh   (as root, or as a user with sudo)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

install_packages
check_rust

use_mailstack
use_cyrus
use_validators

echo "[test] cargo fmt --check"
cargo fmt --check
echo "[test] cargo clippy"
cargo clippy --locked --all-targets -- -D warnings
echo "[test] cargo test"
cargo test --locked --all-targets
echo "[test] the patched crates' own tests (vendor/README.md)"
cargo test --locked --manifest-path vendor/nettle/Cargo.toml --target-dir target/vendor
if [ -z "${VDPD_SKIP_FUZZ:-}" ]; then
  echo "[test] fuzz smoke run: each cargo-fuzz target for 30 s from the committed corpus"
  scripts/fuzz.sh all 30
fi
if [ -z "${VDPD_SKIP_PACKAGE:-}" ]; then
  echo "[test] the Debian package: build, install, configure, check, purge"
  scripts/package.sh
  scripts/package-test.sh
  if [ -z "${VDPD_SKIP_SYSTEMD:-}" ]; then
    echo "[test] the package under a real systemd: minimal Debian 12 in systemd-nspawn"
    scripts/systemd-test.sh
  fi
fi
echo "[test] all passed"
