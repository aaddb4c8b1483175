//! Decrypting and verifying what arrives, with limits.
//!
//! OpenPGP data in a mail is as hostile as the rest of it. A compressed packet can expand a kilobyte into
//! gigabytes, containers can nest, signatures can lie. So: the plaintext is read in bounded steps and refused
//! past `max_plaintext` bytes or past `max_ratio` times the size of what was sent; sequoia's buffer (which it
//! fills before it releases data whose signature is not yet checked) is capped the same way; packets nested
//! deeper than [`MAX_DEPTH`] are refused. Every refusal is a [`ReadError`] with a sentence an admin (and, where
//! it helps, the researcher) can act on.

use std::io::Read;
use std::time::SystemTime;

use sequoia_openpgp as openpgp;

use openpgp::crypto::SessionKey;
use openpgp::packet::{PKESK, SKESK};
use openpgp::parse::stream::{
    DecryptionHelper, DecryptorBuilder, DetachedVerifierBuilder, MessageLayer, MessageStructure, VerificationError,
    VerificationHelper, VerifierBuilder,
};
use openpgp::parse::{PacketParser, Parse};
use openpgp::types::SymmetricAlgorithm;
use openpgp::{Cert, KeyHandle};

use super::keys::OrgKey;
use super::policy;

/// Deepest packet nesting accepted (encryption → compression → signed literal data is 3; gpg and Thunderbird
/// never go beyond 4).
pub const MAX_DEPTH: isize = 8;

/// What sequoia may hold back before it releases data whose signature it has not checked yet (it holds about
/// twice this). vdpd reads every message to its end before it uses any of it, and the verdict is taken only
/// at the end, so nothing unverified is ever acted on; a small buffer keeps one hostile mail from costing
/// twice the plaintext cap on top of the plaintext itself (measured: a 1.5 MB compression bomb against a
/// 50 MiB cap peaked at 225 MB RSS with a cap-sized buffer).
const STREAM_BUFFER: usize = 256 * 1024;

/// Bounds on what decryption may produce.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_plaintext: usize,
    /// Plaintext may be at most this many times the size of the OpenPGP data (plus 1 MiB of slack).
    pub max_ratio: usize,
}

/// The verdict on a message's signature.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Signature {
    /// Not signed.
    #[default]
    None,
    /// A valid signature by this certificate (fingerprint of the certificate, not the subkey), made at
    /// `signed_at` (milliseconds since the epoch, as the signature says), identified by `digest` (SHA-256 of
    /// the signature packet): a signature is evidence of *when* as well as *who*, and it may be used once.
    Good { cert: String, signed_at: i64, digest: String },
    /// Signed by a key we do not have (the issuer as the signature names it).
    Unknown { issuer: String },
    /// A signature that does not verify, or one from an expired, revoked or unbound key.
    Bad { reason: String },
}

impl Signature {
    /// `none`, `good`, `unknown` or `bad`: what the store and the JSON say.
    pub fn kind(&self) -> &'static str {
        match self {
            Signature::None => "none",
            Signature::Good { .. } => "good",
            Signature::Unknown { .. } => "unknown",
            Signature::Bad { .. } => "bad",
        }
    }

    /// The fingerprint (good), issuer (unknown) or reason (bad).
    pub fn detail(&self) -> &str {
        match self {
            Signature::None => "",
            Signature::Good { cert, .. } => cert,
            Signature::Unknown { issuer } => issuer,
            Signature::Bad { reason } => reason,
        }
    }
}

/// An opened message.
#[derive(Debug, Clone)]
pub struct Opened {
    pub plaintext: Vec<u8>,
    pub encrypted: bool,
    pub signature: Signature,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    /// Encrypted, but not to any of our keys.
    #[error("the message is not encrypted to our key{}", if recipients.is_empty() { String::new() } else { format!(" (it is encrypted to {})", recipients.join(", ")) })]
    NotForUs { recipients: Vec<String> },
    #[error("the decrypted message would be larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("the message expands more than {ratio} times when decompressed (a compression bomb?)")]
    Bomb { ratio: usize },
    #[error("OpenPGP packets nested more than {MAX_DEPTH} deep")]
    TooDeep,
    #[error("the OpenPGP data is damaged or malformed: {0}")]
    Damaged(String),
}

struct Helper<'a> {
    org: Option<&'a OrgKey>,
    certs: &'a [Cert],
    signature: Signature,
    encrypted: bool,
    too_deep: bool,
    recipients: Vec<String>,
}

impl<'a> Helper<'a> {
    fn new(org: Option<&'a OrgKey>, certs: &'a [Cert]) -> Self {
        Helper { org, certs, signature: Signature::None, encrypted: false, too_deep: false, recipients: Vec::new() }
    }
}

impl VerificationHelper for Helper<'_> {
    fn inspect(&mut self, pp: &PacketParser<'_>) -> openpgp::Result<()> {
        if pp.recursion_depth() > MAX_DEPTH {
            self.too_deep = true;
            return Err(anyhow::anyhow!("nested too deep"));
        }
        Ok(())
    }

    fn get_certs(&mut self, _ids: &[KeyHandle]) -> openpgp::Result<Vec<Cert>> {
        // A handful of candidates at most (the sender's, those sent with the mail, staff): let sequoia match.
        Ok(self.certs.to_vec())
    }

    fn check(&mut self, structure: MessageStructure<'_>) -> openpgp::Result<()> {
        for layer in structure.into_iter() {
            match layer {
                MessageLayer::Encryption { .. } => self.encrypted = true,
                MessageLayer::Compression { .. } => {}
                MessageLayer::SignatureGroup { results } => {
                    // The best verdict of the group wins: one good signature makes the message signed.
                    for r in results {
                        let verdict = match r {
                            Ok(good) => Signature::Good {
                                cert: good.ka.cert().fingerprint().to_hex(),
                                signed_at: good
                                    .sig
                                    .signature_creation_time()
                                    .and_then(|t| jiff::Timestamp::try_from(t).ok())
                                    .map_or(0, |t| t.as_millisecond()),
                                digest: signature_digest(good.sig),
                            },
                            Err(VerificationError::MissingKey { sig }) => Signature::Unknown {
                                issuer: sig
                                    .get_issuers()
                                    .first()
                                    .map(|h| h.to_hex())
                                    .unwrap_or_else(|| "an unnamed key".into()),
                            },
                            Err(e) => Signature::Bad { reason: e.to_string() },
                        };
                        let rank = |s: &Signature| match s {
                            Signature::Good { .. } => 3,
                            Signature::Bad { .. } => 2,
                            Signature::Unknown { .. } => 1,
                            Signature::None => 0,
                        };
                        if rank(&verdict) > rank(&self.signature) {
                            self.signature = verdict;
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

impl DecryptionHelper for Helper<'_> {
    fn decrypt(
        &mut self,
        pkesks: &[PKESK],
        _skesks: &[SKESK],
        sym_algo: Option<SymmetricAlgorithm>,
        decrypt: &mut dyn FnMut(Option<SymmetricAlgorithm>, &SessionKey) -> bool,
    ) -> openpgp::Result<Option<Cert>> {
        self.recipients = pkesks
            .iter()
            .map(|p| p.recipient().map_or_else(|| "an anonymous recipient".into(), |r| r.to_hex()))
            .collect();
        let Some(org) = self.org else {
            return Err(anyhow::anyhow!("no organisation key"));
        };
        for pkesk in pkesks {
            for mut pair in org.decryption_keys() {
                let ours = pkesk.recipient().is_none_or(|r| r.aliases(KeyHandle::from(pair.public().fingerprint())));
                if ours
                    && let Some((algo, sk)) = pkesk.decrypt(&mut pair, sym_algo)
                    && decrypt(algo, &sk)
                {
                    return Ok(Some(org.cert().clone()));
                }
            }
        }
        Err(anyhow::anyhow!("no key to decrypt"))
    }
}

/// SHA-256 of the signature packet as serialised: the identity of one act of signing (its creation time, salt
/// and MPIs differ from any other), which is what replay protection remembers.
fn signature_digest(sig: &openpgp::packet::Signature) -> String {
    use openpgp::serialize::MarshalInto;
    let bytes = sig.to_vec().unwrap_or_default();
    ring::digest::digest(&ring::digest::SHA256, &bytes).as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

fn cap(input_len: usize, limits: &Limits) -> usize {
    limits.max_plaintext.min(input_len.saturating_mul(limits.max_ratio).saturating_add(1024 * 1024))
}

/// Reads at most `cap` bytes from `r`; the reason if there is more.
fn read_capped(mut r: impl Read, cap: usize, limits: &Limits) -> Result<Vec<u8>, ReadError> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = r.read(&mut buf).map_err(|e| ReadError::Damaged(e.to_string()))?;
        if n == 0 {
            return Ok(out);
        }
        if out.len() + n > cap {
            return Err(if cap < limits.max_plaintext {
                ReadError::Bomb { ratio: limits.max_ratio }
            } else {
                ReadError::TooLarge { limit: cap }
            });
        }
        out.extend_from_slice(&buf[..n]);
    }
}

fn classify_error(e: anyhow::Error, helper: Option<&Helper<'_>>, limits: &Limits) -> ReadError {
    if let Some(h) = helper {
        if h.too_deep {
            return ReadError::TooDeep;
        }
        if e.to_string().contains("no key to decrypt") || e.to_string().contains("no organisation key") {
            return ReadError::NotForUs { recipients: h.recipients.clone() };
        }
    }
    // Sequoia reports a full buffer as an I/O error when data is still pending.
    let text = format!("{e:#}");
    if text.contains("nested too deep") {
        return ReadError::TooDeep;
    }
    if text.contains("buffer") && text.contains("exceed") {
        return ReadError::Bomb { ratio: limits.max_ratio };
    }
    ReadError::Damaged(text.chars().take(300).collect())
}

/// Decrypts (and verifies, when signed) an OpenPGP message, armoured or binary.
pub fn decrypt(
    data: &[u8],
    org: Option<&OrgKey>,
    certs: &[Cert],
    limits: &Limits,
    now: SystemTime,
) -> Result<Opened, ReadError> {
    let cap = cap(data.len(), limits);
    let mut helper = Helper::new(org, certs);
    let builder = DecryptorBuilder::from_bytes(data)
        .map_err(|e| ReadError::Damaged(format!("{e:#}")))?
        .buffer_size(STREAM_BUFFER.min(cap.saturating_add(1)));
    // with_policy consumes the helper; errors before that point say nothing about recipients, so run the
    // helper through a cell we can read afterwards.
    let result = builder.with_policy(policy(), now, HelperCell(&mut helper));
    let mut decryptor = match result {
        Ok(d) => d,
        Err(e) => return Err(classify_error(e, Some(&helper), limits)),
    };
    let plaintext = read_capped(&mut decryptor, cap, limits);
    drop(decryptor);
    let plaintext = plaintext.map_err(|e| if helper.too_deep { ReadError::TooDeep } else { e })?;
    Ok(Opened { plaintext, encrypted: helper.encrypted, signature: helper.signature })
}

/// Verifies a signed message: an inline `BEGIN PGP SIGNED MESSAGE` (cleartext signature) or a signed
/// OpenPGP message; returns the signed text.
pub fn verify_inline(data: &[u8], certs: &[Cert], limits: &Limits, now: SystemTime) -> Result<Opened, ReadError> {
    let cap = cap(data.len(), limits);
    let mut helper = Helper::new(None, certs);
    let builder = VerifierBuilder::from_bytes(data)
        .map_err(|e| ReadError::Damaged(format!("{e:#}")))?
        .buffer_size(STREAM_BUFFER.min(cap.saturating_add(1)));
    let mut verifier = match builder.with_policy(policy(), now, HelperCell(&mut helper)) {
        Ok(v) => v,
        Err(e) => return Err(classify_error(e, Some(&helper), limits)),
    };
    let plaintext = read_capped(&mut verifier, cap, limits);
    drop(verifier);
    Ok(Opened { plaintext: plaintext?, encrypted: false, signature: helper.signature })
}

/// Verifies a detached signature (PGP/MIME multipart/signed) over `data`.
pub fn verify_detached(data: &[u8], signature: &[u8], certs: &[Cert], now: SystemTime) -> Signature {
    let mut helper = Helper::new(None, certs);
    let result = DetachedVerifierBuilder::from_bytes(signature)
        .and_then(|b| b.with_policy(policy(), now, HelperCell(&mut helper)))
        .and_then(|mut v| v.verify_bytes(data));
    match result {
        Ok(()) => helper.signature,
        // A failed check still leaves the verdict the helper recorded (bad or unknown); otherwise the
        // signature itself could not be read.
        Err(e) => match helper.signature {
            Signature::None => {
                Signature::Bad { reason: format!("unreadable signature: {e:#}").chars().take(300).collect() }
            }
            other => other,
        },
    }
}

/// Lends a helper to sequoia (which wants to own it) while we keep access to what it recorded.
struct HelperCell<'h, 'a>(&'h mut Helper<'a>);

impl VerificationHelper for HelperCell<'_, '_> {
    fn inspect(&mut self, pp: &PacketParser<'_>) -> openpgp::Result<()> {
        self.0.inspect(pp)
    }
    fn get_certs(&mut self, ids: &[KeyHandle]) -> openpgp::Result<Vec<Cert>> {
        self.0.get_certs(ids)
    }
    fn check(&mut self, structure: MessageStructure<'_>) -> openpgp::Result<()> {
        self.0.check(structure)
    }
}

impl DecryptionHelper for HelperCell<'_, '_> {
    fn decrypt(
        &mut self,
        pkesks: &[PKESK],
        skesks: &[SKESK],
        sym_algo: Option<SymmetricAlgorithm>,
        decrypt: &mut dyn FnMut(Option<SymmetricAlgorithm>, &SessionKey) -> bool,
    ) -> openpgp::Result<Option<Cert>> {
        self.0.decrypt(pkesks, skesks, sym_algo, decrypt)
    }
}

#[cfg(test)]
mod tests;
