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
  # the tests validate CSAF advisories against the OASIS schema
  python3 python3-jsonschema
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
VDPD_STARTED_MAILSTACK=

# Stops the mail stack if use_mailstack started it (a script with an EXIT trap of its own calls this from it).
stop_started_mailstack() {
  if [ -n "$VDPD_STARTED_MAILSTACK" ]; then
    as_root "$VDPD_MAILSTACK" stop || true
  fi
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
  export MAILSTACK_ROOT MAILSTACK_SMTP_PORT MAILSTACK_SUBMISSION_PORT MAILSTACK_IMAP_PORT MAILSTACK_IMAPS_PORT \
    MAILSTACK_OAUTH_PORT MAILSTACK_CA
}
