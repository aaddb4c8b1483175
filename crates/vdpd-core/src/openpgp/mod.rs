//! OpenPGP with sequoia: the organisation key, certificates of researchers and staff, bounded decryption and
//! verification of what arrives, signing and encryption of what leaves.
//!
//! Interoperability: researchers use GnuPG 2.2, Thunderbird, Mailvelope… so the organisation key is a v4
//! (RFC 4880) Ed25519/Cv25519 certificate that advertises only SEIPDv1, and mail to a researcher is encrypted
//! the way their certificate says they can read it. Nothing here does network IO; files are touched only by
//! [`keys`] (the secret key) and only when asked.

pub mod autocrypt;
pub mod keys;
pub mod read;
pub mod write;

use std::time::SystemTime;

use sequoia_openpgp as openpgp;

pub use openpgp::Cert;
use openpgp::policy::StandardPolicy;

/// The policy every operation uses (sequoia's standard policy: no SHA-1 signatures, no weak algorithms).
pub fn policy() -> &'static StandardPolicy<'static> {
    static POLICY: StandardPolicy<'static> = StandardPolicy::new();
    &POLICY
}

/// Facts about a certificate that admins and logs care about.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CertInfo {
    pub fingerprint: String,
    /// User IDs, as written.
    pub user_ids: Vec<String>,
    /// Expiry of the primary key, if it has one (milliseconds since the epoch).
    pub expires_at: Option<i64>,
    /// Fingerprints of subkeys valid now for signing / for transport encryption.
    pub signing_keys: Vec<String>,
    pub encryption_keys: Vec<String>,
    /// Why the certificate is unusable now (expired, revoked, fails the policy), if it is.
    pub problem: Option<String>,
}

/// Describes a certificate at `now`.
pub fn cert_info(cert: &Cert, now: SystemTime) -> CertInfo {
    let mut info = CertInfo {
        fingerprint: cert.fingerprint().to_hex(),
        user_ids: cert.userids().map(|u| String::from_utf8_lossy(u.userid().value()).to_string()).collect(),
        expires_at: None,
        signing_keys: Vec::new(),
        encryption_keys: Vec::new(),
        problem: None,
    };
    match cert.with_policy(policy(), now) {
        Ok(valid) => {
            info.expires_at = valid
                .primary_key()
                .key_expiration_time()
                .and_then(|t| jiff::Timestamp::try_from(t).ok())
                .map(|t| t.as_millisecond());
            if let Err(e) = valid.alive() {
                info.problem = Some(format!("not alive: {e}"));
            }
            if let openpgp::types::RevocationStatus::Revoked(_) = valid.revocation_status() {
                info.problem = Some("revoked".into());
            }
            info.signing_keys =
                valid.keys().alive().revoked(false).for_signing().map(|k| k.key().fingerprint().to_hex()).collect();
            info.encryption_keys = valid
                .keys()
                .alive()
                .revoked(false)
                .for_transport_encryption()
                .map(|k| k.key().fingerprint().to_hex())
                .collect();
        }
        Err(e) => info.problem = Some(format!("{e}")),
    }
    info
}

/// Whether `cert` has a key that can receive encrypted mail at `now` (valid under the policy, alive, not
/// revoked): what [`cert_info`] reports as `encryption_keys`, without building the rest of its report — it is
/// asked for every recipient of every mail.
pub fn can_encrypt_to(cert: &Cert, now: SystemTime) -> bool {
    cert.with_policy(policy(), now)
        .is_ok_and(|valid| valid.keys().alive().revoked(false).for_transport_encryption().next().is_some())
}

/// Whether a certificate has a user ID with this e-mail address (case-insensitive).
pub fn has_address(cert: &Cert, address: &str) -> bool {
    cert.userids()
        .any(|u| u.userid().email_normalized().ok().flatten().is_some_and(|e| e.eq_ignore_ascii_case(address)))
}

/// ASCII-armoured serialisation of the public certificate.
pub fn armored(cert: &Cert) -> Vec<u8> {
    use openpgp::serialize::SerializeInto;
    cert.armored().to_vec().unwrap_or_default()
}

/// Binary serialisation of the public certificate.
pub fn binary(cert: &Cert) -> Vec<u8> {
    use openpgp::serialize::SerializeInto;
    cert.to_vec().unwrap_or_default()
}

/// The largest certificate vdpd keeps from a mail, once sanitised: a real one (primary key, a few user IDs
/// and subkeys with their self-signatures) is a few kilobytes.
pub const MAX_OFFERED_CERT_BYTES: usize = 64 * 1024;

/// A certificate offered in a mail, reduced to what its owner vouches for: the primary key, user IDs and
/// subkeys with their self-signatures and self-revocations. Secret key material, third-party certifications
/// (anyone can add those, and a flood of them is a known way to make a key unusable), user attributes
/// (photos) and unknown components are dropped. `None` when nothing usable is left or it is still larger
/// than [`MAX_OFFERED_CERT_BYTES`].
pub fn sanitise_offered(cert: Cert) -> Option<Cert> {
    use openpgp::Packet;
    let cert = cert.strip_secret_key_material();
    let primary = cert.primary_key();
    let mut packets: Vec<Packet> = vec![primary.key().clone().into()];
    packets.extend(primary.self_signatures().chain(primary.self_revocations()).cloned().map(Packet::from));
    for uid in cert.userids() {
        packets.push(uid.userid().clone().into());
        packets.extend(uid.self_signatures().chain(uid.self_revocations()).cloned().map(Packet::from));
    }
    for key in cert.keys().subkeys() {
        packets.push(key.key().clone().into());
        packets.extend(key.self_signatures().chain(key.self_revocations()).cloned().map(Packet::from));
    }
    let clean = Cert::from_packets(packets.into_iter()).ok()?;
    (binary(&clean).len() <= MAX_OFFERED_CERT_BYTES).then_some(clean)
}

/// The e-mail addresses of a certificate's user IDs, lower-cased.
pub fn addresses(cert: &Cert) -> Vec<String> {
    cert.userids()
        .filter_map(|u| u.userid().email_normalized().ok().flatten())
        .map(|e| e.to_ascii_lowercase())
        .collect()
}

/// Whether two certificates share any key (primary or subkey): a copy of a held certificate, or a
/// certificate built around one of its keys.
pub fn shares_a_key(a: &Cert, b: &Cert) -> bool {
    a.keys().any(|ka| b.keys().any(|kb| ka.key().fingerprint() == kb.key().fingerprint()))
}
