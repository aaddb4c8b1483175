# Shared by scripts/demo.sh, scripts/test.sh and bench/run.sh: system packages, the Rust toolchain check and
# the mail stack.

# Debian packages the build, the tests and the demo need.
VDPD_PACKAGES=(
  build-essential pkg-config ca-certificates curl
  # the real mail stack of the tests and the demo
  dovecot-imapd dovecot-lmtpd postfix swaks openssl
  # GnuPG plays the researcher's and staff's mail client; nettle + libclang build sequoia-openpgp
  gnupg nettle-dev libclang1-14 libclang-common-14-dev
  # the IANA time zones of [calendar] (jiff reads /usr/share/zoneinfo)
  tzdata
  # systemd-analyze rates the unit's hardening in the tests; the systemd suite boots a minimal Debian 12 in
  # systemd-nspawn; lintian checks the Debian package
  systemd systemd-container debootstrap lintian
  # the tests validate CSAF advisories against the OASIS schema, and security.txt with the sectxt validator
  # (from PyPI, in a virtual environment: see use_sectxt)
  python3 python3-jsonschema python3-venv
  # the CSAF reference validator (BSI's csaf-validator-lib, from npm) runs on Node.js
  nodejs
)

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

install_packages() {
  local missing=() p
  for p in "${VDPD_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    echo "[setup] system packages present"
    return 0
  fi
  echo "[setup] installing: ${missing[*]}"
  # Keep the packages' postinst scripts from starting system-wide Postfix/Dovecot: the tests run their own.
  local added_policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | as_root tee /usr/sbin/policy-rc.d >/dev/null
    as_root chmod 755 /usr/sbin/policy-rc.d
    added_policy=1
  fi
  echo "postfix postfix/main_mailer_type select No configuration" | as_root debconf-set-selections
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  [ -n "$added_policy" ] && as_root rm -f /usr/sbin/policy-rc.d
  return 0
}

check_rust() {
  export PATH="$HOME/.cargo/bin:$PATH"
  if ! command -v cargo >/dev/null; then
    echo "[setup] cargo not found: install Rust 1.95 or newer (https://rustup.rs), then run this again" >&2
    exit 1
  fi
  local v
  v=$(rustc --version | awk '{print $2}')
  if [ "$(printf '%s\n1.95.0\n' "$v" | sort -V | head -1)" != "1.95.0" ]; then
    echo "[setup] rustc $v is too old: vdpd needs 1.95 or newer" >&2
    exit 1
  fi
}

VDPD_MAILSTACK=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/mailstack.sh
VDPD_CYRUS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/cyrus.sh
VDPD_STARTED_MAILSTACK=
VDPD_STARTED_CYRUS=

# Stops the servers use_mailstack and use_cyrus started (a script with an EXIT trap of its own calls this
# from it).
stop_started_mailstack() {
  if [ -n "$VDPD_STARTED_CYRUS" ]; then
    as_root "$VDPD_CYRUS" stop || true
  fi
  if [ -n "$VDPD_STARTED_MAILSTACK" ]; then
    as_root "$VDPD_MAILSTACK" stop || true
  fi
}

# Starts Cyrus IMAP (scripts/cyrus.sh; after use_mailstack) unless it runs, stops it again at exit, and
# exports its ports.
# The validators the tests run from PyPI, in a virtual environment of their own: the Dutch DTC's security.txt
# validator (`sectxt`, the one internet.nl runs) and `cvelib` (Red Hat's CVE Services client, which ships the
# CVE JSON 5.1 schemas). The tests find the interpreter in VDPD_VALIDATORS_PYTHON.
VDPD_VALIDATORS=(sectxt==0.9.8 cvelib==1.8.0)
VDPD_CSAF_VALIDATOR_VERSION=2.0.10
use_validators() {
  local venv=${VDPD_VALIDATORS_VENV:-/var/tmp/vdpd-validators-1}
  if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import sectxt, cvelib, jsonschema' 2>/dev/null; then
    echo "[setup] ${VDPD_VALIDATORS[*]} into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "${VDPD_VALIDATORS[@]}"
  fi
  export VDPD_VALIDATORS_PYTHON="$venv/bin/python"
  # The CSAF reference validator: BSI's csaf-validator-lib (npm), its mandatory and optional tests.
  local csaf=${VDPD_CSAF_VALIDATOR_DIR:-/var/tmp/vdpd-csaf-validator-$VDPD_CSAF_VALIDATOR_VERSION}
  if [ ! -f "$csaf/node_modules/@secvisogram/csaf-validator-lib/validateStrict.js" ]; then
    # Node.js from Debian comes without npm; a Node.js that bundles npm (NodeSource's) needs nothing more.
    command -v npm >/dev/null || as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends npm >/dev/null
    echo "[setup] csaf-validator-lib $VDPD_CSAF_VALIDATOR_VERSION into $csaf"
    rm -rf "$csaf" && mkdir -p "$csaf"
    npm install --silent --no-audit --no-fund --prefix "$csaf" "@secvisogram/csaf-validator-lib@$VDPD_CSAF_VALIDATOR_VERSION"
  fi
  export VDPD_CSAF_VALIDATOR="$csaf/node_modules/@secvisogram/csaf-validator-lib"
}

use_cyrus() {
  if [[ "$(as_root "$VDPD_CYRUS" status)" != *"cyrus running"* ]]; then
    as_root "$VDPD_CYRUS" start
    VDPD_STARTED_CYRUS=1
    trap stop_started_mailstack EXIT
  fi
  eval "$(as_root "$VDPD_CYRUS" env)"
  export CYRUS_IMAP_PORT CYRUS_IMAPS_PORT
}

# Starts the real mail stack (scripts/mailstack.sh) unless it already runs — and then stops it again when
# the calling script exits (an EXIT trap) — and exports where it listens (the MAILSTACK_* variables).
use_mailstack() {
  local status
  # (Capture first: with pipefail, grep -q closing the pipe early would make a running stack look stopped.)
  status=$(as_root "$VDPD_MAILSTACK" status)
  if [[ "$status" != *"dovecot running"*"postfix running"*"oauth2 running"* ]]; then
    as_root "$VDPD_MAILSTACK" start
    VDPD_STARTED_MAILSTACK=1
    trap stop_started_mailstack EXIT
  fi
  eval "$(as_root "$VDPD_MAILSTACK" env)"
  export MAILSTACK_ROOT MAILSTACK_SMTP_PORT MAILSTACK_SUBMISSION_PORT MAILSTACK_NOPIPELINING_PORT MAILSTACK_IMAP_PORT \
    MAILSTACK_IMAPS_PORT MAILSTACK_OAUTH_PORT MAILSTACK_CA
}

# A minimal Debian 12 root file system (debootstrap --variant=minbase), cached in $VDPD_NSPAWN_CACHE (default
# /var/cache/vdpd-test) for the systemd suite (booted in systemd-nspawn) and the Cyrus IMAP server of the tests
# (which Debian cannot install beside Dovecot). Prints its path; returns 1 if debootstrap fails (no mirror).
VDPD_NSPAWN_CACHE=${VDPD_NSPAWN_CACHE:-/var/cache/vdpd-test}
minbase_rootfs() {
  local base=$VDPD_NSPAWN_CACHE/bookworm-minbase mirror=${VDPD_DEBIAN_MIRROR:-http://deb.debian.org/debian}
  if [ ! -x "$base/usr/bin/systemctl" ]; then
    echo "[setup] debootstrap a minimal Debian 12 into $base (once; about a minute)" >&2
    as_root rm -rf "$base.tmp"; as_root mkdir -p "$VDPD_NSPAWN_CACHE"
    # adduser and tzdata are the vdpd package's dependencies: in the cache, dpkg -i needs no network.
    as_root debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,ca-certificates,adduser,tzdata \
      bookworm "$base.tmp" "$mirror" > "$VDPD_NSPAWN_CACHE/debootstrap.log" 2>&1 || return 1
    as_root mv "$base.tmp" "$base"
  fi
  echo "$base"
}
