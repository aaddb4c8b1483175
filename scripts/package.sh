#!/usr/bin/env bash
# Builds the Debian package: target/debian/vdpd_<version>-1_<arch>.deb.
# It installs /usr/bin/vdpd, the systemd unit (not enabled), /etc/vdpd/policy.toml and templates, the examples,
# the man page and shell completions; its postinst creates the `vdpd` user and /var/lib/vdpd.
# Usage: scripts/package.sh   (needs cargo-deb: `cargo install cargo-deb --locked`, done here if missing)
set -euo pipefail
cd "$(dirname "$0")/.."

if ! cargo deb --version >/dev/null 2>&1; then
  echo "[package] installing cargo-deb"
  cargo install cargo-deb --locked --version 3.8.0 --quiet
fi
echo "[package] cargo build --release"
cargo build --release --locked --quiet
mkdir -p target/assets
vdpd=target/release/vdpd
"$vdpd" manpage | gzip -9n > target/assets/vdpd.1.gz
"$vdpd" completions bash > target/assets/vdpd.bash
"$vdpd" completions zsh > target/assets/_vdpd
"$vdpd" completions fish > target/assets/vdpd.fish
scripts/units.sh target/assets
# Symbols go to a separate -dbgsym package, as Debian does it: the service binary stays small.
cargo deb --no-build --dbgsym --quiet
ls target/debian/*.deb target/debian/*.ddeb
