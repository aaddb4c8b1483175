#!/usr/bin/env bash
# Installs the Debian package built by scripts/package.sh on this machine and checks what it did, then sets it
# up as the README's "Operations" section says, runs `vdpd check`, and purges it again.
# Needs root (dpkg). Part of scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

deb=$(ls target/debian/vdpd_*.deb | tail -n 1)
fail() { echo "[package-test] FAIL: $*" >&2; exit 1; }
ok() { echo "[package-test] ok: $*"; }

report=$(lintian --fail-on error,warning --tag-display-limit 0 "$deb" 2>&1) \
  || { echo "$report" | grep -v "running with root privileges" >&2; fail "lintian reports errors or warnings"; }
ok "lintian: no errors, no warnings"

if [ -e /usr/bin/vdpd ] && ! dpkg -s vdpd >/dev/null 2>&1; then
  fail "/usr/bin/vdpd exists but is not from the package: refusing to overwrite it"
fi
as_root env DEBIAN_FRONTEND=noninteractive dpkg -i "$deb" >/dev/null
cleanup() {
  as_root dpkg --purge vdpd >/dev/null 2>&1 || true
  as_root rm -rf /var/lib/vdpd
  as_root deluser --system vdpd >/dev/null 2>&1 || true
}
trap cleanup EXIT

[ -x /usr/bin/vdpd ] || fail "no /usr/bin/vdpd"
/usr/bin/vdpd --version | grep -q '^vdpd ' || fail "vdpd --version"
getent passwd vdpd >/dev/null || fail "no vdpd user"
[ "$(stat -c '%U %a' /var/lib/vdpd)" = "vdpd 700" ] || fail "/var/lib/vdpd is $(stat -c '%U %a' /var/lib/vdpd)"
[ -f /lib/systemd/system/vdpd.service ] || fail "no unit"
state=$(systemctl is-enabled vdpd.service 2>/dev/null || true)
[ "$state" != enabled ] || fail "the service was enabled before it is configured"
[ ! -e /run/vdpd.pid ] && ! pgrep -x vdpd >/dev/null || fail "vdpd was started before it is configured"
# Read whole first: `dpkg-query | grep -q` fails under pipefail when grep stops reading early (SIGPIPE).
conffiles=$(dpkg-query -W -f='${Conffiles}\n' vdpd)
grep -q ' /etc/vdpd/policy.toml ' <<<"$conffiles" || fail "policy.toml is not a conffile"
grep -q ' /etc/vdpd/templates/fr/acknowledgement.txt ' <<<"$conffiles" || fail "the French templates are not conffiles"
for f in /etc/vdpd/templates/acknowledgement.txt /etc/vdpd/templates/fr/acknowledgement.txt /usr/share/man/man1/vdpd.1.gz \
         /usr/share/bash-completion/completions/vdpd /usr/share/zsh/vendor-completions/_vdpd \
         /usr/share/fish/vendor_completions.d/vdpd.fish /usr/share/doc/vdpd/examples/bounty/policy.toml; do
  [ -f "$f" ] || fail "missing $f"
done
[ -f /lib/systemd/system/vdpd@.service ] || fail "no vdpd@.service"
for secret in imap-password smtp-password; do
  [ "$(stat -c '%U %a %s' /etc/vdpd/$secret)" = "root 600 0" ] || fail "/etc/vdpd/$secret is not an empty root-only file"
done
ok "installed: binary, user, state directory, units (not enabled), configuration, password files, man page, completions"

# A query as root on a fresh install creates nothing; a command that would create files in the service's
# state directory as root is refused with the invocation that works.
status=$(as_root /usr/bin/vdpd status 2>&1 || true)
[[ "$status" == *"there is no store"* ]] || fail "vdpd status on a fresh install said: $status"
[ -z "$(ls -A /var/lib/vdpd)" ] || fail "vdpd status left files in /var/lib/vdpd: $(ls -A /var/lib/vdpd)"
once=$(as_root /usr/bin/vdpd once 2>&1 || true)
[[ "$once" == *"sudo -u vdpd vdpd --config /etc/vdpd/policy.toml once"* ]] || fail "vdpd once as root said: $once"
[ -z "$(ls -A /var/lib/vdpd)" ] || fail "vdpd once as root left files in /var/lib/vdpd"
ok "as root: queries create no store, writers are refused with the right invocation"

# Set it up as the README says (as root, like an admin).
as_root sh -c 'umask 077; echo "imap secret" > /etc/vdpd/imap-password; echo "smtp secret" > /etc/vdpd/smtp-password'
as_root runuser -u vdpd -- /usr/bin/vdpd key generate --userid "Example Security <security@example.com>" >/dev/null
[ "$(stat -c '%U %a' /var/lib/vdpd/openpgp/organisation.key)" = "vdpd 600" ] || fail "the key is not vdpd's, mode 0600"
as_root /usr/bin/vdpd check > target/package-check.txt || { cat target/package-check.txt; fail "vdpd check"; }
grep -q "all checks passed" target/package-check.txt || fail "vdpd check did not pass"
ok "configured: vdpd check passes"

as_root dpkg --remove vdpd >/dev/null
[ ! -e /usr/bin/vdpd ] || fail "/usr/bin/vdpd left behind by remove"
[ -f /etc/vdpd/policy.toml ] && [ -f /etc/vdpd/imap-password ] || fail "remove took the configuration"
[ -f /var/lib/vdpd/openpgp/organisation.key ] || fail "remove took the state directory"
ok "removed: configuration and state kept"
as_root dpkg --purge vdpd > target/package-purge.txt 2>&1
[ ! -e /etc/vdpd ] || fail "/etc/vdpd left behind by purge"
[ -f /var/lib/vdpd/openpgp/organisation.key ] && getent passwd vdpd >/dev/null || fail "purge took the store or its user"
grep -q "kept /var/lib/vdpd" target/package-purge.txt || fail "purge did not say it kept the store"
ok "purged: configuration gone, store and its user kept (and said so)"
cleanup
trap - EXIT
