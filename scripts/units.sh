#!/usr/bin/env bash
# Writes DIR/vdpd@.service, the unit of one desk among several on a host (`systemctl enable --now vdpd@NAME`),
# from systemd/vdpd.service: the same hardening and behaviour, with the policy, templates and credentials in
# /etc/vdpd/NAME/ and the state in /var/lib/vdpd/NAME/. One source, so that the two units cannot drift.
# Usage: scripts/units.sh DIR
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: scripts/units.sh DIR}
mkdir -p "$out"
{
  cat <<'HEAD'
# vdpd@NAME — one of several vulnerability-disclosure desks on this host (generated from vdpd.service by
# scripts/units.sh). Its policy is /etc/vdpd/NAME/policy.toml, with [store] path =
# "/var/lib/vdpd/NAME/vdpd.sqlite" (the state directory systemd creates for it); its passwords are
# /etc/vdpd/NAME/imap-password and /etc/vdpd/NAME/smtp-password (mode 0600, root), handed over as
# credentials. Create its key as the service user: runuser -u vdpd -- vdpd --config /etc/vdpd/NAME/policy.toml
# key generate.
HEAD
  # The unit without its leading comment, paths moved into the instance's directories.
  sed -e '1,/^\[Unit\]/{/^#/d}' \
      -e 's|^Description=vdpd vulnerability-disclosure desk$|Description=vdpd vulnerability-disclosure desk %i|' \
      -e 's|/etc/vdpd/policy.toml|/etc/vdpd/%i/policy.toml|g' \
      -e 's|/etc/vdpd/imap-password|/etc/vdpd/%i/imap-password|g' \
      -e 's|/etc/vdpd/smtp-password|/etc/vdpd/%i/smtp-password|g' \
      -e 's|^StateDirectory=vdpd$|StateDirectory=vdpd/%i|' \
      systemd/vdpd.service
} > "$out/vdpd@.service"
for want in 'StateDirectory=vdpd/%i' 'ExecStart=/usr/bin/vdpd --config /etc/vdpd/%i/policy.toml run' \
            'LoadCredential=imap-password:/etc/vdpd/%i/imap-password' 'LoadCredential=smtp-password:/etc/vdpd/%i/smtp-password'; do
  grep -qF "$want" "$out/vdpd@.service" || { echo "[units] vdpd@.service lacks $want" >&2; exit 1; }
done
