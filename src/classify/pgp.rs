//! OpenPGP in incoming mail: PGP/MIME (RFC 3156 multipart/encrypted and multipart/signed), inline armour
//! (`BEGIN PGP MESSAGE`, `BEGIN PGP SIGNED MESSAGE`), and keys offered in Autocrypt headers, attachments and
//! pasted blocks.
//!
//! [`open`] decides what a mail's readable content is: the outer message, a decrypted or signed MIME entity,
//! or plain text, and records what OpenPGP said ([`Crypto`]). Decryption and verification are bounded by
//! [`crate::openpgp::read`]; this module only finds the pieces.

use std::time::SystemTime;

use mail_parser::{Message, MessagePart, MimeHeaders, PartType};
use sequoia_openpgp::Cert;
use sequoia_openpgp::cert::CertParser;
use sequoia_openpgp::parse::Parse;

use crate::openpgp::autocrypt;
use crate::openpgp::keys::OrgKey;
use crate::openpgp::read::{self, Signature};

/// The most keys taken from one mail, and the largest key block read.
const MAX_KEYS: usize = 5;
const MAX_KEY_BYTES: usize = 256 * 1024;
/// The most inline armour blocks opened in one mail.
const MAX_INLINE_BLOCKS: usize = 4;

/// What decryption and verification may use.
#[derive(Clone, Copy)]
pub struct Keyring<'a> {
    /// The organisation key (to decrypt); `None` when none is configured.
    pub org: Option<&'a OrgKey>,
    /// Certificates to verify signatures with: the sender's known one, staff certificates.
    pub certs: &'a [Cert],
    pub limits: read::Limits,
    pub now: SystemTime,
}

impl std::fmt::Debug for Keyring<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring").field("org", &self.org).field("certs", &self.certs.len()).finish()
    }
}

/// Where an offered key came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    Autocrypt,
    Attachment,
    Inline,
}

impl KeySource {
    pub fn as_str(&self) -> &'static str {
        match self {
            KeySource::Autocrypt => "autocrypt",
            KeySource::Attachment => "attachment",
            KeySource::Inline => "inline",
        }
    }
}

/// A public key found in a mail.
#[derive(Debug, Clone, PartialEq)]
pub struct OfferedKey {
    pub cert: Cert,
    pub source: KeySource,
}

/// What OpenPGP said about a mail.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Crypto {
    /// The mail (or a block in it) was encrypted.
    pub encrypted: bool,
    /// …and we could decrypt it.
    pub decrypted: bool,
    pub signature: Signature,
    /// Why it could not be decrypted (or a signed structure could not be read).
    pub error: Option<String>,
    pub keys: Vec<OfferedKey>,
}

/// The readable content of a mail.
#[derive(Debug)]
pub enum Content {
    /// The outer message itself.
    Outer,
    /// A MIME entity: decrypted, or the signed part of a multipart/signed.
    Entity(Vec<u8>),
    /// Plain text (a decrypted message that was not MIME).
    Text(String),
}

fn is(part: &MessagePart<'_>, ctype: &str, subtype: &str) -> bool {
    part.content_type().is_some_and(|c| {
        c.ctype().eq_ignore_ascii_case(ctype) && c.subtype().is_some_and(|s| s.eq_ignore_ascii_case(subtype))
    })
}

fn children<'m>(message: &'m Message<'_>, part: &MessagePart<'_>) -> Vec<&'m MessagePart<'m>> {
    match &part.body {
        PartType::Multipart(ids) => ids.iter().filter_map(|&i| message.parts.get(i as usize)).collect(),
        _ => Vec::new(),
    }
}

/// The signed entity of a multipart/signed body: the exact bytes between the first delimiter line and the
/// line break before the next one (RFC 2046: that line break belongs to the delimiter), with line endings made
/// CRLF (RFC 3156 §5: the signature covers the canonical form). Found by scanning for the boundary rather
/// than trusting a parser's part offsets, because a single byte off is a bad signature.
fn signed_entity(raw: &[u8], body_start: usize, boundary: &str) -> Option<Vec<u8>> {
    let delimiter = format!("--{boundary}");
    let body = raw.get(body_start..)?;
    // A delimiter line: at the start of a line, and not merely a longer boundary that starts the same way.
    let is_delimiter_at = |i: usize| {
        body[i..].starts_with(delimiter.as_bytes())
            && (i == 0 || body[i - 1] == b'\n')
            && matches!(body.get(i + delimiter.len()), None | Some(b'\r' | b'\n' | b' ' | b'\t' | b'-'))
    };
    let first = (0..body.len()).find(|&i| is_delimiter_at(i))?;
    let start = first + body[first..].iter().position(|&b| b == b'\n')? + 1;
    let next = (start..body.len()).find(|&i| is_delimiter_at(i))?;
    // Drop the line break that belongs to the delimiter.
    let mut end = next.checked_sub(1)?;
    if end > start && body[end - 1] == b'\r' {
        end -= 1;
    }
    let slice = body.get(start..end)?;
    let mut out = Vec::with_capacity(slice.len() + slice.len() / 40);
    let mut prev = 0u8;
    for &b in slice {
        if b == b'\n' && prev != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        prev = b;
    }
    Some(out)
}

/// Finds the readable content of `message` (whose bytes are `raw`), decrypting or verifying PGP/MIME.
pub fn open(message: &Message<'_>, raw: &[u8], keyring: &Keyring<'_>, crypto: &mut Crypto) -> Content {
    let root = message.root_part();
    if is(root, "multipart", "encrypted") {
        crypto.encrypted = true;
        let parts = children(message, root);
        let payload = parts
            .iter()
            .find(|p| is(p, "application", "octet-stream"))
            .or_else(|| parts.get(1))
            .map(|p| p.contents().to_vec());
        let Some(payload) = payload else {
            crypto.error = Some("multipart/encrypted without an encrypted part".into());
            return Content::Outer;
        };
        return decrypt(&payload, keyring, crypto);
    }
    if is(root, "multipart", "signed") {
        let parts = children(message, root);
        let boundary = root.content_type().and_then(|c| c.attribute("boundary"));
        let data = boundary.and_then(|b| signed_entity(raw, root.offset_body as usize, b));
        if let ([_, signature, ..], Some(data)) = (parts.as_slice(), data) {
            let certs = with_offered(keyring.certs, &crypto.keys);
            crypto.signature = read::verify_detached(&data, signature.contents(), &certs, keyring.now);
            return Content::Entity(data);
        }
        crypto.error = Some("multipart/signed without a signature part".into());
    }
    Content::Outer
}

fn with_offered(certs: &[Cert], offered: &[OfferedKey]) -> Vec<Cert> {
    certs.iter().cloned().chain(offered.iter().map(|k| k.cert.clone())).collect()
}

/// Decrypts an OpenPGP message found in a mail; the result is a MIME entity when it parses as one.
fn decrypt(payload: &[u8], keyring: &Keyring<'_>, crypto: &mut Crypto) -> Content {
    let certs = with_offered(keyring.certs, &crypto.keys);
    match read::decrypt(payload, keyring.org, &certs, &keyring.limits, keyring.now) {
        Ok(opened) => {
            crypto.decrypted = true;
            crypto.signature = opened.signature;
            let is_mime = mail_parser::MessageParser::default()
                .parse_headers(&opened.plaintext)
                .is_some_and(|m| m.root_part().content_type().is_some());
            if is_mime {
                Content::Entity(opened.plaintext)
            } else {
                Content::Text(String::from_utf8_lossy(&opened.plaintext).into_owned())
            }
        }
        Err(e) => {
            crypto.error = Some(match keyring.org {
                None => "the message is encrypted, but no organisation key is configured".into(),
                Some(_) => e.to_string(),
            });
            Content::Outer
        }
    }
}

/// Re-verifies a decrypted message with keys that only its decrypted content revealed (a key attached
/// inside the encryption), when the signer was unknown.
pub fn reverify_with_inner_keys(payload_holder: &Message<'_>, keyring: &Keyring<'_>, crypto: &mut Crypto) {
    if !matches!(crypto.signature, Signature::Unknown { .. }) || crypto.keys.is_empty() {
        return;
    }
    let root = payload_holder.root_part();
    let parts = children(payload_holder, root);
    let Some(payload) = parts.iter().find(|p| is(p, "application", "octet-stream")).map(|p| p.contents().to_vec())
    else {
        return;
    };
    let certs = with_offered(keyring.certs, &crypto.keys);
    if let Ok(opened) = read::decrypt(&payload, keyring.org, &certs, &keyring.limits, keyring.now) {
        crypto.signature = opened.signature;
    }
}

/// Opens inline armour in text: decrypts `BEGIN PGP MESSAGE` blocks and verifies `BEGIN PGP SIGNED MESSAGE`
/// blocks, replacing each with its text.
pub fn open_inline(text: &str, keyring: &Keyring<'_>, crypto: &mut Crypto) -> String {
    let mut out = text.to_string();
    for _ in 0..MAX_INLINE_BLOCKS {
        let encrypted = block(&out, "-----BEGIN PGP MESSAGE-----", "-----END PGP MESSAGE-----");
        let signed = block(&out, "-----BEGIN PGP SIGNED MESSAGE-----", "-----END PGP SIGNATURE-----");
        let (range, is_encrypted) = match (encrypted, signed) {
            (Some(e), Some(s)) if s.start < e.start => (s, false),
            (Some(e), _) => (e, true),
            (None, Some(s)) => (s, false),
            (None, None) => break,
        };
        let armour = out[range.clone()].to_string();
        let replacement = if is_encrypted {
            crypto.encrypted = true;
            let certs = with_offered(keyring.certs, &crypto.keys);
            match read::decrypt(armour.as_bytes(), keyring.org, &certs, &keyring.limits, keyring.now) {
                Ok(opened) => {
                    crypto.decrypted = true;
                    crypto.signature = opened.signature;
                    String::from_utf8_lossy(&opened.plaintext).into_owned()
                }
                Err(e) => {
                    crypto.error = Some(match keyring.org {
                        None => "the message is encrypted, but no organisation key is configured".into(),
                        Some(_) => e.to_string(),
                    });
                    "[encrypted text that could not be decrypted]".into()
                }
            }
        } else {
            let certs = with_offered(keyring.certs, &crypto.keys);
            match read::verify_inline(armour.as_bytes(), &certs, &keyring.limits, keyring.now) {
                Ok(opened) => {
                    crypto.signature = opened.signature;
                    String::from_utf8_lossy(&opened.plaintext).into_owned()
                }
                Err(e) => {
                    crypto.signature = Signature::Bad { reason: e.to_string() };
                    // Keep the text readable: drop the armour lines, keep what was signed.
                    armour
                        .lines()
                        .skip_while(|l| !l.trim().is_empty())
                        .take_while(|l| !l.starts_with("-----BEGIN PGP SIGNATURE-----"))
                        .collect::<Vec<_>>()
                        .join("\n")
                }
            }
        };
        out.replace_range(range, &replacement);
    }
    out
}

/// The byte range of the first `begin … end` block (including both lines).
fn block(text: &str, begin: &str, end: &str) -> Option<std::ops::Range<usize>> {
    let start = text.find(begin)?;
    let end_at = text[start..].find(end)? + start + end.len();
    Some(start..end_at)
}

/// Collects the keys a message offers: its Autocrypt header, key attachments, pasted key blocks in `text`.
pub fn collect_keys(message: &Message<'_>, text: &str, autocrypt_header: bool, crypto: &mut Crypto) {
    if autocrypt_header {
        for value in message.header_values("Autocrypt").filter_map(|v| v.as_text()) {
            if let Some(offer) = autocrypt::parse(value) {
                push_key(crypto, offer.cert, KeySource::Autocrypt);
            }
        }
    }
    for part in message.attachments() {
        let named_like_key = part
            .attachment_name()
            .is_some_and(|n| [".asc", ".pub", ".key", ".gpg", ".pgp"].iter().any(|e| n.to_lowercase().ends_with(e)));
        let bytes = part.contents();
        if bytes.len() > MAX_KEY_BYTES {
            continue;
        }
        let looks_like_key = bytes.windows(30).any(|w| w == b"-----BEGIN PGP PUBLIC KEY BLOCK");
        if is(part, "application", "pgp-keys") || (named_like_key && looks_like_key) {
            for cert in parse_certs(bytes) {
                push_key(crypto, cert, KeySource::Attachment);
            }
        }
    }
    let mut rest = text;
    while let Some(r) = block(rest, "-----BEGIN PGP PUBLIC KEY BLOCK-----", "-----END PGP PUBLIC KEY BLOCK-----") {
        if r.len() <= MAX_KEY_BYTES {
            for cert in parse_certs(rest[r.clone()].as_bytes()) {
                push_key(crypto, cert, KeySource::Inline);
            }
        }
        rest = &rest[r.end..];
    }
}

fn parse_certs(bytes: &[u8]) -> Vec<Cert> {
    match CertParser::from_bytes(bytes) {
        Ok(parser) => parser
            .take(MAX_KEYS)
            .filter_map(Result::ok)
            // Someone who mails us their secret key by mistake: never keep it.
            .map(|c| c.strip_secret_key_material())
            .collect(),
        Err(_) => Vec::new(),
    }
}

fn push_key(crypto: &mut Crypto, cert: Cert, source: KeySource) {
    if crypto.keys.len() >= MAX_KEYS || crypto.keys.iter().any(|k| k.cert.fingerprint() == cert.fingerprint()) {
        return;
    }
    crypto.keys.push(OfferedKey { cert, source });
}

/// Parses a single certificate (for the store).
pub fn cert_from_bytes(bytes: &[u8]) -> Option<Cert> {
    Cert::from_bytes(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::signed_entity;

    #[test]
    fn the_signed_entity_is_exactly_what_lies_between_the_delimiters() {
        let body = b"preamble\r\n--b\r\nContent-Type: text/plain\r\n\r\nline\r\n\r\n--b\r\nsig\r\n--b--\r\n";
        assert_eq!(signed_entity(body, 0, "b").unwrap(), b"Content-Type: text/plain\r\n\r\nline\r\n");
        // LF-only storage is made canonical.
        let lf = b"--b\nContent-Type: text/plain\n\nline\n--b\nsig\n--b--\n";
        assert_eq!(signed_entity(lf, 0, "b").unwrap(), b"Content-Type: text/plain\r\n\r\nline");
        // A longer boundary that starts like ours is not a delimiter.
        let tricky = b"--b\r\nContent-Type: multipart/mixed; boundary=\"bb\"\r\n\r\n--bb\r\nx\r\n--bb--\r\n\r\n--b\r\nsig\r\n--b--\r\n";
        let e = signed_entity(tricky, 0, "b").unwrap();
        assert!(e.ends_with(b"--bb--\r\n"), "{}", String::from_utf8_lossy(&e));
        assert!(signed_entity(b"no delimiters", 0, "b").is_none());
    }
}
