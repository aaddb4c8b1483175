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

    /// Randomness reaches what we write (vendor/README.md: sequoia's nettle backend draws from the system's
    /// generator): the same text to the same recipient never gives the same message twice (session key,
    /// ephemeral keys, the signature's salt), nor does the same text clear-signed twice (the salt).
    #[test]
    fn the_same_text_encrypted_twice_differs() {
        use openpgp::cert::CertBuilder;
        use openpgp::parse::Parse;
        let now = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_796_000_000);
        let org = OrgKey::generate("desk <security@example.test>", None, now).unwrap();
        let (alice, _) =
            CertBuilder::general_purpose(Some("alice@example.test")).set_creation_time(now).generate().unwrap();
        let messages: Vec<Vec<u8>> =
            (0..4).map(|_| sign_and_encrypt(b"the same words", &[&alice], &org, now).unwrap()).collect();
        for (i, m) in messages.iter().enumerate() {
            assert!(messages[..i].iter().all(|other| other != m), "message {i} repeats an earlier one");
            let packets = openpgp::PacketPile::from_bytes(m).unwrap();
            let pkesks = packets.children().filter(|p| matches!(p, openpgp::Packet::PKESK(_))).count();
            assert_eq!(pkesks, 2, "to alice and to ourselves");
        }
        let signed = clearsign(b"text", &org, now).unwrap();
        let again = clearsign(b"text", &org, now).unwrap();
        assert_ne!(signed, again, "each signature has its own salt");
    }
}
