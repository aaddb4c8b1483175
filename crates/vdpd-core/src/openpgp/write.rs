//! Signing and encrypting what leaves: one OpenPGP message, signed by the organisation key and encrypted to
//! each recipient certificate (and to ourselves, so that the copy we keep stays readable to us).

use std::io::Write;
use std::time::SystemTime;

use sequoia_openpgp as openpgp;

use openpgp::Cert;
use openpgp::crypto::SessionKey;
use openpgp::serialize::stream::{Armorer, Encryptor, LiteralWriter, Message, Recipient, Signer};
use openpgp::types::SymmetricAlgorithm;

use super::keys::OrgKey;
use super::policy;

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("certificate {fingerprint} has no key that can receive encrypted mail now")]
    NoEncryptionKey { fingerprint: String },
    #[error("OpenPGP: {0}")]
    OpenPgp(String),
}

fn err(e: impl std::fmt::Display) -> WriteError {
    WriteError::OpenPgp(e.to_string())
}

/// Signs `plaintext` with the organisation key and encrypts it to `recipients` and to the organisation key;
/// returns the ASCII-armoured message.
pub fn sign_and_encrypt(
    plaintext: &[u8],
    recipients: &[&Cert],
    org: &OrgKey,
    now: SystemTime,
) -> Result<Vec<u8>, WriteError> {
    let mut keys: Vec<Recipient<'_>> = Vec::new();
    for cert in recipients.iter().copied().chain(std::iter::once(org.public())) {
        let valid = cert.with_policy(policy(), now).map_err(err)?;
        let before = keys.len();
        keys.extend(valid.keys().alive().revoked(false).for_transport_encryption().map(Recipient::from));
        if keys.len() == before {
            return Err(WriteError::NoEncryptionKey { fingerprint: cert.fingerprint().to_hex() });
        }
    }
    let signer = org.signer(now).map_err(err)?;
    let mut sink = Vec::with_capacity(plaintext.len() * 2 + 1024);
    {
        let message = Message::new(&mut sink);
        let message = Armorer::new(message).build().map_err(err)?;
        let message = Encryptor::with_session_key(message, SYMMETRIC, session_key()?)
            .map_err(err)?
            .add_recipients(keys)
            .build()
            .map_err(err)?;
        let mut signer_builder = Signer::new(message, signer).map_err(err)?;
        for cert in recipients {
            signer_builder = signer_builder.add_intended_recipient(cert);
        }
        let message = signer_builder.creation_time(now).build().map_err(err)?;
        let mut literal = LiteralWriter::new(message).build().map_err(err)?;
        literal.write_all(plaintext).map_err(err)?;
        literal.finalize().map_err(err)?;
    }
    Ok(sink)
}

/// The cipher of what we encrypt: sequoia's default, named because the session key is made here.
const SYMMETRIC: SymmetricAlgorithm = SymmetricAlgorithm::AES256;

/// A fresh session key from the operating system's generator (getrandom(2), through ring).
///
/// sequoia would make one itself, but its nettle backend seeds a new Yarrow-256 generator for every random
/// value it draws — 1,500 SHA-256 compressions each time, more than the X25519 agreement it serves — and a
/// notification draws six or seven (BENCHMARKS.md). The key is the same 256 bits from the same kernel
/// source that seeds Yarrow, without the stretch in between.
fn session_key() -> Result<SessionKey, WriteError> {
    use ring::rand::SecureRandom as _;
    let size = SYMMETRIC.key_size().map_err(err)?;
    let mut key: openpgp::crypto::mem::Protected = vec![0u8; size].into();
    ring::rand::SystemRandom::new()
        .fill(&mut key)
        .map_err(|_| WriteError::OpenPgp("the system's random number generator failed".into()))?;
    Ok(key.into())
}

/// Clear-signs `text` with the organisation key (the OpenPGP cleartext signature framework, RFC 9580 §7):
/// readable as is, verifiable with `gpg --verify`. RFC 9116 asks for this form for a signed security.txt.
pub fn clearsign(text: &[u8], org: &OrgKey, now: SystemTime) -> Result<Vec<u8>, WriteError> {
    let signer = org.signer(now).map_err(err)?;
    let mut sink = Vec::with_capacity(text.len() + 1024);
    {
        let message = Message::new(&mut sink);
        let mut signer =
            Signer::new(message, signer).map_err(err)?.cleartext().creation_time(now).build().map_err(err)?;
        signer.write_all(text).map_err(err)?;
        signer.finalize().map_err(err)?;
    }
    Ok(sink)
}

/// A detached, armoured signature of `data` by the organisation key (`.asc` files beside what they sign:
/// CSAF advisories, as trusted providers publish them).
pub fn sign_detached(data: &[u8], org: &OrgKey, now: SystemTime) -> Result<Vec<u8>, WriteError> {
    use sequoia_openpgp::armor;
    let signer = org.signer(now).map_err(err)?;
    let mut sink = Vec::with_capacity(1024);
    {
        let message = Message::new(&mut sink);
        let message = sequoia_openpgp::serialize::stream::Armorer::new(message)
            .kind(armor::Kind::Signature)
            .build()
            .map_err(err)?;
        let mut signer =
            Signer::new(message, signer).map_err(err)?.detached().creation_time(now).build().map_err(err)?;
        signer.write_all(data).map_err(err)?;
        signer.finalize().map_err(err)?;
    }
    Ok(sink)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every message gets its own full-size key (the round trip through decryption is in `read::tests` and,
    /// with GnuPG, in the mail-stack suite).
    #[test]
    fn each_session_key_is_fresh_and_full_size() {
        let keys: Vec<SessionKey> = (0..8).map(|_| session_key().unwrap()).collect();
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(k.len(), 32);
            assert!(k.iter().any(|&b| b != 0));
            assert!(keys[..i].iter().all(|other| other[..] != k[..]), "key {i} repeats an earlier one");
        }
    }
}
