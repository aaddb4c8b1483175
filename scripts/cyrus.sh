#!/usr/bin/env bash
# cyrus.sh — a second, REAL IMAP server for vdpd's tests: Cyrus IMAP 3.6 from Debian 12's packages, so that
# Dovecot-only assumptions show up.
#
#   Cyrus IMAP 127.0.0.1:$CYRUS_IMAP_PORT (2143), IMAPS :$CYRUS_IMAPS_PORT (2993; the mail stack's certificate),
#   IDLE through idled, Debian's namespace settings (altnamespace: no, unixhierarchysep: no: personal
#   mailboxes are INBOX.x, levels separated by "."), users name@domain (virtdomains: userid).
#
# Debian's cyrus-imapd conflicts with dovecot-imapd, so Cyrus runs in a chroot: a copy of the cached minimal
# Debian 12 (scripts/lib.sh minbase_rootfs) with cyrus-imapd installed, cached too, in
# $VDPD_NSPAWN_CACHE/bookworm-cyrus. Users exist once added (`cyrus.sh adduser ADDRESS`), with the password
# "pass". Mail reaches it by IMAP APPEND (the tests play the MTA). Run scripts/mailstack.sh start first (for
# its certificate).
#
# Usage: cyrus.sh start | stop | status | env | adduser ADDRESS     (needs root)
set -euo pipefail
export PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH
cd "$(dirname "$0")/.."
source scripts/lib.sh

IMAP_PORT=${CYRUS_IMAP_PORT:-2143}
IMAPS_PORT=${CYRUS_IMAPS_PORT:-2993}
MAILSTACK_ROOT=${MAILSTACK_ROOT:-/tmp/vdpd-mailstack}
CR=$VDPD_NSPAWN_CACHE/bookworm-cyrus
# Inside the chroot. The spool is emptied at every start: each run begins with no users and no mail.
R=/srv/vdpd-cyrus
PIDFILE=$CR$R/master.pid

log() { printf '[cyrus] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

rootfs() {
  [ -x "$CR/usr/lib/cyrus/bin/master" ] && return 0
  local base
  base=$(minbase_rootfs) || die "debootstrap failed: see $VDPD_NSPAWN_CACHE/debootstrap.log"
  log "installing cyrus-imapd into a copy of $base (once)"
  rm -rf "$CR.tmp"
  cp -a "$base" "$CR.tmp"
  cp /etc/resolv.conf "$CR.tmp/etc/resolv.conf"
  printf '#!/bin/sh\nexit 101\n' > "$CR.tmp/usr/sbin/policy-rc.d"; chmod 755 "$CR.tmp/usr/sbin/policy-rc.d"
  chroot "$CR.tmp" apt-get update -qq > "$VDPD_NSPAWN_CACHE/cyrus-apt.log" 2>&1 || die "apt-get update in the chroot"
  chroot "$CR.tmp" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    cyrus-imapd sasl2-bin >> "$VDPD_NSPAWN_CACHE/cyrus-apt.log" 2>&1 || die "installing cyrus-imapd: see $VDPD_NSPAWN_CACHE/cyrus-apt.log"
  mv "$CR.tmp" "$CR"
}

pid() { [ -s "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null && cat "$PIDFILE"; }

do_start() {
  [ -s "$MAILSTACK_ROOT/tls/cert.pem" ] || die "no $MAILSTACK_ROOT/tls/cert.pem: start scripts/mailstack.sh first"
  rootfs
  if pid >/dev/null; then log "already running (pid $(pid))"; return 0; fi
  rm -rf "${CR:?}$R"
  mkdir -p "$CR$R"/{conf/db,conf/socket,conf/proc,conf/log,spool,proc,lock,socket,tls}
  install -m 0644 "$MAILSTACK_ROOT/tls/cert.pem" "$CR$R/tls/cert.pem"
  install -m 0600 "$MAILSTACK_ROOT/tls/key.pem" "$CR$R/tls/key.pem"
  cat > "$CR$R/imapd.conf" <<EOF
configdirectory: $R/conf
proc_path: $R/proc
mboxname_lockpath: $R/lock
defaultpartition: default
partition-default: $R/spool
# As Debian ships it: personal mailboxes under "INBOX.", levels separated by ".".
altnamespace: no
unixhierarchysep: no
virtdomains: userid
autocreate_quota: 0
allowplaintext: yes
sasl_pwcheck_method: auxprop
sasl_auxprop_plugin: sasldb
sasl_sasldb_path: $R/sasldb2
sasl_mech_list: PLAIN LOGIN
tls_server_cert: $R/tls/cert.pem
tls_server_key: $R/tls/key.pem
idlemethod: idled
idlesocket: $R/socket/idle
lmtpsocket: $R/socket/lmtp
notifysocket: $R/socket/notify
syslog_prefix: vdpd-cyrus
servername: localhost
EOF
  cat > "$CR$R/cyrus.conf" <<EOF
START {
  recover cmd="ctl_cyrusdb -C $R/imapd.conf -r"
}
SERVICES {
  imap cmd="imapd -C $R/imapd.conf" listen="127.0.0.1:$IMAP_PORT" prefork=1 maxchild=200
  imaps cmd="imapd -s -C $R/imapd.conf" listen="127.0.0.1:$IMAPS_PORT" prefork=1 maxchild=200
}
EVENTS {
}
DAEMON {
  idled cmd="idled -C $R/imapd.conf"
}
EOF
  chroot "$CR" chown -R cyrus:mail "$R"
  chroot "$CR" /usr/lib/cyrus/bin/master -C "$R/imapd.conf" -M "$R/cyrus.conf" -p "$R/master.pid" -d
  local i
  for ((i = 0; i < 200; i++)); do
    (exec 3<>/dev/tcp/127.0.0.1/"$IMAPS_PORT") 2>/dev/null && (exec 3<>/dev/tcp/127.0.0.1/"$IMAP_PORT") 2>/dev/null \
      && { log "up: imap=$IMAP_PORT imaps=$IMAPS_PORT (pid $(pid))"; return 0; }
    sleep 0.1
  done
  die "Cyrus is not listening on $IMAP_PORT/$IMAPS_PORT after 20 s"
}

do_stop() {
  local p
  p=$(pid) || { log "not running"; return 0; }
  kill "$p"
  for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || { log "stopped"; return 0; }; sleep 0.2; done
  pkill -9 -P "$p" 2>/dev/null || true
  kill -9 "$p" 2>/dev/null || true
  log "killed"
}

do_adduser() {
  local address=${1:?usage: cyrus.sh adduser ADDRESS}
  [[ "$address" =~ ^[A-Za-z0-9._+-]+@[A-Za-z0-9.-]+$ ]] || die "not an address: $address"
  # Tests add their users in parallel: two saslpasswd2 writing the one sasldb2 at once can lose a user
  # (seen as "authentication failure" for a user just added). One at a time.
  (
    flock 9
    printf 'pass' | chroot "$CR" saslpasswd2 -p -c -f "$R/sasldb2" -u "${address#*@}" "${address%@*}"
    chroot "$CR" chown cyrus:mail "$R/sasldb2"
  ) 9>"$CR$R/sasldb2.lock"
}

case "${1:-}" in
  start) do_start ;;
  stop) do_stop ;;
  status) if p=$(pid); then echo "cyrus running pid $p"; else echo "cyrus stopped"; fi ;;
  env) printf 'CYRUS_IMAP_PORT=%s\nCYRUS_IMAPS_PORT=%s\n' "$IMAP_PORT" "$IMAPS_PORT" ;;
  adduser) do_adduser "${2:-}" ;;
  *) echo "usage: $0 start|stop|status|env|adduser ADDRESS" >&2; exit 2 ;;
esac
