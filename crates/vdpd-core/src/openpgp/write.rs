//! Signing and encrypting what leaves: one OpenPGP message, signed by the organisation key and encrypted to
//! each recipient certificate (and to ourselves, so that the copy we keep stays readable to us).

use std::io::Write;
use std::time::SystemTime;

use sequoia_openpgp as openpgp;

use openpgp::Cert;
use openpgp::serialize::stream::{Armorer, Encryptor, LiteralWriter, Message, Recipient, Signer};

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
        let message = Encryptor::for_recipients(message, keys).build().map_err(err)?;
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
