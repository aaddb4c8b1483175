#!/usr/bin/env bash
# mailstack.sh — a throwaway, REAL mail system on loopback for vdpd's tests and demo.
#
#   Postfix smtpd 127.0.0.1:$MAILSTACK_SMTP_PORT (2525; plain, STARTTLS offered, AUTH only after TLS)
#           smtpd 127.0.0.1:$MAILSTACK_SUBMISSION_PORT (1587; STARTTLS + AUTH required)
#           smtpd 127.0.0.1:$MAILSTACK_NOPIPELINING_PORT (2526; as 2525, but without PIPELINING in its EHLO)
#     → Dovecot LMTP (unix socket) → Maildir under $MAILSTACK_ROOT/mail
#   Dovecot IMAP 127.0.0.1:$MAILSTACK_IMAP_PORT (1143; STARTTLS offered), IMAPS :$MAILSTACK_IMAPS_PORT (1993); IDLE.
#   An OAuth2 provider http://127.0.0.1:$MAILSTACK_OAUTH_PORT (1890; scripts/oauth2-server.py): its token
#   endpoint, and the tokeninfo Dovecot's oauth2 passdb checks XOAUTH2/OAUTHBEARER logins (IMAP and SMTP) with.
#
# Every address @example.test exists and logs in with the password "pass" (tests invent one mailbox per test,
# so they can run in parallel). Mail to @sink.example.test is accepted and then discarded (benchmarks). Recipients named reject-*@example.test are refused at RCPT with 554 5.1.1, to test
# permanent SMTP failures. Nothing leaves the machine: other domains bounce. Nothing under /etc is written.
#
# Usage: mailstack.sh install | start | stop | restart-dovecot | status | env | clean
# Needs root (the Postfix and Dovecot masters start as root). Works without systemd.
set -euo pipefail
export PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH

ROOT=${MAILSTACK_ROOT:-/tmp/vdpd-mailstack}
SMTP_PORT=${MAILSTACK_SMTP_PORT:-2525}
SUBM_PORT=${MAILSTACK_SUBMISSION_PORT:-1587}
NOPIPE_PORT=${MAILSTACK_NOPIPELINING_PORT:-2526}
IMAP_PORT=${MAILSTACK_IMAP_PORT:-1143}
IMAPS_PORT=${MAILSTACK_IMAPS_PORT:-1993}
OAUTH_PORT=${MAILSTACK_OAUTH_PORT:-1890}
HERE=$(cd "$(dirname "$0")" && pwd)
VMAIL_ID=${MAILSTACK_VMAIL_ID:-5000}
DOMAIN=example.test

ETC=$ROOT/etc
PFDIR=$ROOT/etc/postfix
RUN=$ROOT/run
LOG=$ROOT/log
SPOOL=$ROOT/spool
DC_PIDFILE=$RUN/master.pid
PF_PIDFILE=$SPOOL/pid/master.pid
OAUTH_PIDFILE=$RUN/oauth2.pid

log() { printf '[mailstack] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

do_install() {
  local need=()
  command -v dovecot >/dev/null || need+=(dovecot-imapd)
  [ -x /usr/lib/dovecot/lmtp ] || need+=(dovecot-lmtpd)
  command -v postfix >/dev/null || need+=(postfix)
  command -v gpg >/dev/null || need+=(gnupg)
  command -v openssl >/dev/null || need+=(openssl)
  [ -x /usr/bin/python3 ] || need+=(python3)
  [ ${#need[@]} -eq 0 ] && { log "mail stack packages already installed"; return 0; }
  log "installing: ${need[*]}"
  # Keep the packages' postinst scripts from starting system daemons.
  local added_policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && added_policy=1
  fi
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  [ -n "${MAILSTACK_SKIP_APT_UPDATE:-}" ] || apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
  [ -n "$added_policy" ] && rm -f /usr/sbin/policy-rc.d
  return 0
}

put() { # put FILE < content: replace FILE only if the content changed
  local f=$1
  cat >"$f.new"
  if cmp -s "$f.new" "$f"; then rm -f "$f.new"; return 0; fi
  mv -f "$f.new" "$f"
  touch -d '-5 sec' "$f"   # postfix(1) waits until main.cf/master.cf are >= 2 s old
}

write_config() {
  mkdir -p "$ETC" "$PFDIR" "$RUN" "$LOG" "$SPOOL" "$ROOT/state" "$ROOT/data" "$ROOT/mail" "$ROOT/tls"
  # postfix must traverse to the LMTP and auth sockets; the vmail uid owns the Maildirs.
  chmod 755 "$ROOT" "$ETC" "$PFDIR" "$RUN" "$LOG" "$ROOT/tls"
  chown "$VMAIL_ID:$VMAIL_ID" "$ROOT/mail"; chmod 700 "$ROOT/mail"
  chown postfix "$ROOT/data"

  if [ ! -s "$ROOT/tls/cert.pem" ]; then
    # A test CA (what clients trust: MAILSTACK_CA) and a server certificate it signs. rustls, rightly, refuses
    # a self-signed CA certificate used directly as the server's certificate.
    local t=$ROOT/tls
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=vdpd test CA" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
      -keyout "$t/ca.key" -out "$t/ca.pem" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$t/key.pem" -out "$t/server.csr" 2>/dev/null
    printf 'subjectAltName=DNS:localhost,DNS:mail.%s,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' "$DOMAIN" >"$t/server.ext"
    openssl x509 -req -in "$t/server.csr" -CA "$t/ca.pem" -CAkey "$t/ca.key" -CAcreateserial -days 3650 \
      -extfile "$t/server.ext" -out "$t/cert.pem" 2>/dev/null
    chmod 600 "$t/key.pem" "$t/ca.key"
    chmod 644 "$t/cert.pem" "$t/ca.pem"
  fi

  if [ ! -s "$ROOT/tls/selfsigned.pem" ]; then
    # A small site's certificate: self-signed by `openssl req -x509`, which marks it CA:TRUE. Dovecot presents
    # it on 127.0.0.2 and 127.0.0.3 (`local` blocks), so that tests can pin it the way such sites are used.
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=127.0.0.2" \
      -addext "subjectAltName=IP:127.0.0.2" -addext "basicConstraints=critical,CA:TRUE" \
      -keyout "$ROOT/tls/selfsigned.key" -out "$ROOT/tls/selfsigned.pem" 2>/dev/null
    chmod 600 "$ROOT/tls/selfsigned.key"; chmod 644 "$ROOT/tls/selfsigned.pem"
  fi

  put "$ETC/dovecot-oauth2.conf.ext" <<EOF
tokeninfo_url = http://127.0.0.1:$OAUTH_PORT/tokeninfo?access_token=
username_attribute = email
active_attribute = active
active_value = true
EOF

  put "$ETC/dovecot.conf" <<EOF
base_dir = $RUN
state_dir = $ROOT/state
instance_name = vdpd-mailstack
protocols = imap lmtp
listen = 127.0.0.1, 127.0.0.2, 127.0.0.3, 127.0.0.4
log_path = $LOG/dovecot.log
ssl = yes
ssl_cert = <$ROOT/tls/cert.pem
ssl_key = <$ROOT/tls/key.pem
local 127.0.0.2 {
  ssl_cert = <$ROOT/tls/selfsigned.pem
  ssl_key = <$ROOT/tls/selfsigned.key
}
# The same certificate where its name (127.0.0.2) is wrong: a pinned certificate's name is still checked.
local 127.0.0.3 {
  ssl_cert = <$ROOT/tls/selfsigned.pem
  ssl_key = <$ROOT/tls/selfsigned.key
}
# A server without MOVE, UIDPLUS or IDLE, as older and smaller servers are.
local 127.0.0.4 {
  protocol imap {
    imap_capability = IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE LITERAL+ NAMESPACE
  }
}
disable_plaintext_auth = no
auth_mechanisms = plain login xoauth2 oauthbearer
auth_failure_delay = 0
login_trusted_networks = 127.0.0.0/8
mail_location = maildir:~/Maildir
mail_max_userip_connections = 200
passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = $ETC/dovecot-oauth2.conf.ext
}
passdb {
  driver = static
  mechanisms = plain login
  args = password=pass
}
userdb {
  driver = static
  args = uid=$VMAIL_ID gid=$VMAIL_ID home=$ROOT/mail/%d/%n allow_all_users=yes
}
service imap-login {
  inet_listener imap {
    port = $IMAP_PORT
  }
  inet_listener imaps {
    port = $IMAPS_PORT
    ssl = yes
  }
  process_limit = 500
}
service imap {
  process_limit = 500
}
service lmtp {
  unix_listener lmtp {
    mode = 0666
  }
}
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
service auth {
  unix_listener auth-postfix {
    mode = 0666
  }
}
EOF

  put "$PFDIR/recipient_access" <<EOF
/^reject-.*@example\.test\$/ REJECT 5.1.1 this test recipient refuses all mail
EOF
  put "$PFDIR/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $SPOOL
data_directory = $ROOT/data
maillog_file_prefixes = $ROOT
maillog_file = $LOG/postfix.log
myhostname = mail.$DOMAIN
mydomain = $DOMAIN
myorigin = \$mydomain
inet_interfaces = loopback-only
inet_protocols = ipv4
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
mynetworks = 127.0.0.0/8
virtual_mailbox_domains = $DOMAIN
virtual_mailbox_maps = static:ok
smtpd_recipient_restrictions = check_recipient_access regexp:$PFDIR/recipient_access, permit_mynetworks, reject_unauth_destination
message_size_limit = 104857600
virtual_transport = lmtp:unix:$RUN/lmtp
# The benchmark's researchers: mail to sink.example.test is accepted and queued like any other, then
# discarded (in production it would leave for other machines).
transport_maps = inline:{ sink.example.test=discard: }
default_transport = error:outbound mail is disabled in this test stack
relay_transport = \$default_transport
smtpd_tls_cert_file = $ROOT/tls/cert.pem
smtpd_tls_key_file = $ROOT/tls/key.pem
smtpd_tls_security_level = may
smtpd_tls_auth_only = yes
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = $RUN/auth-postfix
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
default_process_limit = 200
EOF

  put "$PFDIR/master.cf" <<EOF
127.0.0.1:$SMTP_PORT inet n - n - - smtpd
127.0.0.1:$SUBM_PORT inet n - n - - smtpd
  -o syslog_name=postfix/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
127.0.0.1:$NOPIPE_PORT inet n - n - - smtpd
  -o syslog_name=postfix/nopipelining
  -o smtpd_discard_ehlo_keywords=pipelining
  -o smtpd_forbid_unauth_pipelining=yes
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n -  0 cleanup
qmgr      unix  n - n 300 1 qmgr
tlsmgr    unix  - - n 1000? 1 tlsmgr
rewrite   unix  - - n -  - trivial-rewrite
bounce    unix  - - n -  0 bounce
defer     unix  - - n -  0 bounce
trace     unix  - - n -  0 bounce
verify    unix  - - n -  1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n -  - proxymap
showq     unix  n - n -  - showq
error     unix  - - n -  - error
retry     unix  - - n -  - error
discard   unix  - - n -  - discard
lmtp      unix  - - n -  - lmtp
anvil     unix  - - n -  1 anvil
scache    unix  - - n -  1 scache
postlog   unix-dgram n - n - 1 postlogd
EOF
}

pid_alive() { # pidfile expected_comm → prints the pid if that process is alive
  local f=$1 comm=$2 pid
  [ -s "$f" ] || return 1
  pid=$(tr -dc '0-9' <"$f")
  [ -n "$pid" ] && [ "$(cat /proc/"$pid"/comm 2>/dev/null)" = "$comm" ] && echo "$pid"
}

wait_port() { # port [timeout_s]
  local port=$1 t=${2:-20} i
  for ((i = 0; i < t * 10; i++)); do
    (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && return 0
    sleep 0.1
  done
  die "port $port not listening after ${t}s (see $LOG)"
}

start_dovecot() {
  local pid
  if pid=$(pid_alive "$DC_PIDFILE" dovecot); then
    log "dovecot already running (pid $pid), reloading"; kill -HUP "$pid"
  else
    rm -f "$DC_PIDFILE" "$RUN/anvil-auth-penalty"
    # The dovecot master keeps stderr open: redirect, or a pipe reading us never closes.
    dovecot -c "$ETC/dovecot.conf" </dev/null >>"$LOG/dovecot-start.log" 2>&1 ||
      { cat "$LOG/dovecot-start.log" >&2; die "dovecot start failed"; }
  fi
  wait_port "$IMAP_PORT"; wait_port "$IMAPS_PORT"
  [ -S "$RUN/lmtp" ] || die "missing socket $RUN/lmtp"
}

stop_pids() { # TERM the given masters and their children, KILL what survives 15 s
  local pids=$1 all="" pid k i alive
  for pid in $pids; do all+=" $pid $(ps -o pid= --ppid "$pid" | tr '\n' ' ' || true)"; done
  kill -TERM $pids 2>/dev/null || true
  for ((i = 0; i < 150; i++)); do
    alive=
    for k in $all; do kill -0 "$k" 2>/dev/null && alive=1; done
    [ -z "$alive" ] && return 0
    sleep 0.1
  done
  for k in $all; do kill -0 "$k" 2>/dev/null && { log "pid $k survived TERM, sending KILL"; kill -KILL "$k"; }; done
  return 0
}

start_oauth() {
  if pid_alive "$OAUTH_PIDFILE" python3 >/dev/null; then return 0; fi
  [ -x /usr/bin/python3 ] || die "python3 is needed for the OAuth2 provider (run '$0 install')"
  nohup /usr/bin/python3 "$HERE/oauth2-server.py" --port "$OAUTH_PORT" --pidfile "$OAUTH_PIDFILE" \
    </dev/null >>"$LOG/oauth2.log" 2>&1 &
  wait_port "$OAUTH_PORT"
}

do_start() {
  [ "$(id -u)" = 0 ] || die "must run as root"
  command -v dovecot >/dev/null && command -v postfix >/dev/null || die "run '$0 install' first"
  write_config
  start_oauth
  start_dovecot
  local pid
  if pid=$(pid_alive "$PF_PIDFILE" master); then
    log "postfix already running (pid $pid), reloading"; postfix -c "$PFDIR" reload 2>/dev/null
  else
    postfix -c "$PFDIR" start </dev/null >>"$LOG/postfix-start.log" 2>&1 ||
      { cat "$LOG/postfix-start.log" "$LOG/postfix.log" >&2; die "postfix start failed"; }
  fi
  wait_port "$SMTP_PORT"; wait_port "$SUBM_PORT"; wait_port "$NOPIPE_PORT"
  log "up: smtp=$SMTP_PORT submission=$SUBM_PORT nopipelining=$NOPIPE_PORT imap=$IMAP_PORT imaps=$IMAPS_PORT oauth2=$OAUTH_PORT root=$ROOT"
}

do_stop() {
  local pids="" pid
  if pid=$(pid_alive "$PF_PIDFILE" master); then pids+=" $pid"; fi
  if pid=$(pid_alive "$DC_PIDFILE" dovecot); then pids+=" $pid"; fi
  if pid=$(pid_alive "$OAUTH_PIDFILE" python3); then pids+=" $pid"; fi
  [ -z "$pids" ] && { log "not running"; return 0; }
  stop_pids "$pids"
  log "stopped"
}

do_stop_postfix() {
  local pid
  pid=$(pid_alive "$PF_PIDFILE" master) || { log "postfix not running"; return 0; }
  stop_pids "$pid"
  log "postfix stopped"
}

do_start_postfix() {
  write_config
  postfix -c "$PFDIR" start </dev/null >>"$LOG/postfix-start.log" 2>&1 || true
  wait_port "$SMTP_PORT"
  log "postfix started"
}

do_restart_dovecot() {
  local pid
  if pid=$(pid_alive "$DC_PIDFILE" dovecot); then stop_pids "$pid"; fi
  start_dovecot
  log "dovecot restarted"
}

do_status() {
  local pid
  if pid=$(pid_alive "$DC_PIDFILE" dovecot); then echo "dovecot running pid $pid"; else echo "dovecot stopped"; fi
  if pid=$(pid_alive "$PF_PIDFILE" master); then echo "postfix running pid $pid"; else echo "postfix stopped"; fi
  if pid=$(pid_alive "$OAUTH_PIDFILE" python3); then echo "oauth2 running pid $pid"; else echo "oauth2 stopped"; fi
}

do_env() { # what tests need to find the stack
  cat <<EOF
MAILSTACK_ROOT=$ROOT
MAILSTACK_SMTP_PORT=$SMTP_PORT
MAILSTACK_SUBMISSION_PORT=$SUBM_PORT
MAILSTACK_NOPIPELINING_PORT=$NOPIPE_PORT
MAILSTACK_IMAP_PORT=$IMAP_PORT
MAILSTACK_IMAPS_PORT=$IMAPS_PORT
MAILSTACK_OAUTH_PORT=$OAUTH_PORT
MAILSTACK_CA=$ROOT/tls/ca.pem
EOF
}

case "${1:-}" in
  install) do_install ;;
  start) do_start ;;
  stop) do_stop ;;
  stop-postfix) do_stop_postfix ;;
  start-postfix) do_start_postfix ;;
  restart-dovecot) do_restart_dovecot ;;
  status) do_status ;;
  env) do_env ;;
  clean) do_stop; rm -rf "$ROOT" ;;
  *) echo "usage: $0 install|start|stop|stop-postfix|start-postfix|restart-dovecot|status|env|clean" >&2; exit 2 ;;
esac
