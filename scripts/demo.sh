#!/usr/bin/env bash
# vdpd's main job, end to end, on this machine: start a real Postfix + Dovecot on loopback, build vdpd,
# create the organisation's OpenPGP key, send a sample vulnerability report to security@example.test as a researcher would, run one vdpd cycle,
# and print the acknowledgement that arrived in the researcher's inbox and the ticket vdpd opened.
# Usage: scripts/demo.sh   (as root, or as a user with sudo). Leaves nothing running.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

install_packages
check_rust

echo "[demo] building vdpd (release)"
cargo build --release --locked --quiet
vdpd=$PWD/target/release/vdpd

use_mailstack
demo=$(mktemp -d /tmp/vdpd-demo.XXXXXX)

run_id=$(date +%s)
security="security-$run_id@example.test"
researcher="researcher-$run_id@example.test"

# The policy: the mailbox of the security address on the local Dovecot (IMAPS, trusting the stack's test CA),
# the local Postfix for outgoing mail.
cat >"$demo/policy.toml" <<EOF
[organisation]
name = "Example Security Team"
security_address = "$security"
ticket_prefix = "EX"
policy_url = "https://example.test/security-policy"

[imap]
host = "127.0.0.1"
port = $MAILSTACK_IMAPS_PORT
tls = "implicit"
ca_file = "$MAILSTACK_CA"
username = "$security"
password_file = "imap-password"
processed_mailbox = "vdpd/processed"

[smtp]
host = "127.0.0.1"
port = $MAILSTACK_SMTP_PORT
tls = "starttls"
ca_file = "$MAILSTACK_CA"

[store]
path = "vdpd.sqlite"

[sla]
acknowledge = "48h"
first_diagnosis = "7 business days"
disclosure = "90 days"

[sla.fix]
critical = "7 days"
low = "90 days"

[openpgp]
EOF
echo pass >"$demo/imap-password"
echo "[demo] vdpd key generate: the organisation's OpenPGP key"
"$vdpd" --config "$demo/policy.toml" key generate --userid "Example Security Team <$security>"

echo "[demo] the researcher mails a report to $security"
swaks --silent 2 --server 127.0.0.1 --port "$MAILSTACK_SMTP_PORT" \
  --from "$researcher" --to "$security" \
  --header "Subject: Reflected XSS in the search page" \
  --header "Message-ID: <demo-$run_id@research.example>" \
  --body $'Hello,\n\nthe q parameter of https://example.test/search is reflected unescaped.\n\nRegards,\nA researcher'

echo "[demo] vdpd once: fetch, ticket, acknowledge"
"$vdpd" --config "$demo/policy.toml" check
"$vdpd" --config "$demo/policy.toml" once

echo
echo "[demo] the researcher's inbox now holds (the acknowledgement, with the report form and our public key):"
echo "------------------------------------------------------------------------"
for _ in $(seq 1 50); do
  ack=$(curl -s --url "imap://127.0.0.1:$MAILSTACK_IMAP_PORT/INBOX;UID=1" --user "$researcher:pass" || true)
  [ -n "$ack" ] && break
  sleep 0.2
done
printf '%s\n' "$ack" | tr -d '\r'
echo "------------------------------------------------------------------------"
echo
echo "[demo] vdpd tickets list:"
"$vdpd" --config "$demo/policy.toml" tickets list
echo
echo "[demo] vdpd tickets show EX-$(date +%Y)-0001:"
"$vdpd" --config "$demo/policy.toml" tickets show "EX-$(date +%Y)-0001"
echo
echo "[demo] files of this run: $demo (policy.toml, vdpd.sqlite)"
[ -n "$ack" ] || { echo "[demo] no acknowledgement arrived" >&2; exit 1; }
