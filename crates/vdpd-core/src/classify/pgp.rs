//! OpenPGP in incoming mail, and the one rule for what a mail proves.
//!
//! A verdict belongs to exactly the bytes a signature covers — nothing else:
//!
//! - the signed entity of a PGP/MIME `multipart/signed` part, wherever it sits in the body (a mailing list or
//!   a corporate MTA may wrap it in a `multipart/mixed` with a footer);
//! - the content inside a PGP/MIME encryption, when the encrypted message is signed (or, when it is not, a
//!   signed layer inside it);
//! - the text of one inline armoured block (`BEGIN PGP SIGNED MESSAGE`, or a signed `BEGIN PGP MESSAGE`).
//!
//! [`open`] returns that content as the mail's [`Body`], with its verdict, and everything else the mail
//! carries as [`Outside`]: text beside a signed block, a footer, files outside the signed entity, the outer
//! `Autocrypt:` header. Later stages read staff commands, relayed text, form answers and keys that may
//! replace a held one from the `Body` only, so no stage can read what the signature did not cover. Two or
//! more signed or encrypted parts, or a signature only on an attachment, give no authority at all: the
//! whole mail is then read as unsigned.
//!
//! Keys the mail offers may verify it only when they claim no identity vdpd already holds (a staff member's
//! or the sender's address, or any key of a held certificate): otherwise a stolen key's old, unrevoked
//! certificate attached to the mail would outvote the revoked one vdpd holds. Offered certificates are
//! stripped of third-party certifications and capped in size ([`crate::openpgp::sanitise_offered`]).
//!
//! Decryption and verification are bounded by [`crate::openpgp::read`]; this module finds the pieces.

use std::time::SystemTime;

use mail_parser::{Message, MessageParser, MessagePart, MimeHeaders, PartType};
use sequoia_openpgp::Cert;
use sequoia_openpgp::cert::CertParser;
use sequoia_openpgp::parse::Parse;

use super::{Attachment, MAX_TEXT_BYTES};
use crate::config::Limits as MimeLimits;
use crate::mailtext;
use crate::openpgp::keys::OrgKey;
use crate::openpgp::read::{self, Signature};
use crate::openpgp::{self, autocrypt};

/// The most keys taken from one mail, and the largest key block read.
const MAX_KEYS: usize = 5;
const MAX_KEY_BYTES: usize = 256 * 1024;
/// The most inline armour blocks opened in one mail.
const MAX_INLINE_BLOCKS: usize = 4;
/// How many signed or encrypted layers are opened inside each other (encrypted around signed is two).
const MAX_LAYERS: u8 = 2;

/// What decryption and verification may use.
#[derive(Clone, Copy)]
pub struct Keyring<'a> {
    /// The organisation key (to decrypt); `None` when none is configured.
    pub org: Option<&'a OrgKey>,
    /// Certificates vdpd holds that may verify a signature: the sender's known one, staff certificates.
    pub certs: &'a [Cert],
    /// Addresses vdpd holds a certificate for (staff members', and the sender's when one is known): a
    /// certificate offered in a mail that names one of them never verifies that mail.
    pub held_addresses: &'a [String],
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

/// A public key found in a mail (sanitised: see [`crate::openpgp::sanitise_offered`]).
#[derive(Debug, Clone, PartialEq)]
pub struct OfferedKey {
    pub cert: Cert,
    pub source: KeySource,
}

/// What OpenPGP did with a mail as a whole.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Crypto {
    /// The mail (or a block in it) was encrypted.
    pub encrypted: bool,
    /// …and we could decrypt it.
    pub decrypted: bool,
    /// Why it could not be decrypted (or a signed structure could not be read).
    pub error: Option<String>,
    /// Why signatures in the mail count for nothing although something in it is signed (several signed or
    /// encrypted parts): shown to staff, and the reason a staff mail is refused.
    pub note: Option<String>,
}

/// How the mail's [`Body`] was protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Protection {
    /// Not at all: the body is the whole mail.
    #[default]
    None,
    /// A PGP/MIME `multipart/signed` entity.
    SignedMime,
    /// A PGP/MIME encryption (its verdict says whether the content was signed inside).
    EncryptedMime,
    /// One inline `BEGIN PGP SIGNED MESSAGE` (or signed `BEGIN PGP MESSAGE`) block.
    SignedInline,
    /// One inline `BEGIN PGP MESSAGE` block that was encrypted.
    EncryptedInline,
}

/// The content a mail vouches for, with its verdict: the signed (or encrypted) content when the mail has
/// exactly one such part, else the whole mail (unsigned).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Body {
    pub text: String,
    pub attachments: Vec<Attachment>,
    /// Keys carried inside this content (attached or pasted): the only ones that may replace a held key.
    pub keys: Vec<OfferedKey>,
    /// The verdict on exactly this content.
    pub signature: Signature,
    pub protection: Protection,
    /// The Subject inside the signed or encrypted entity (protected headers, RFC 9788), if it had one.
    pub protected_subject: Option<String>,
}

/// Everything the mail carries outside its [`Body`]: unsigned, unencrypted, for display only.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outside {
    pub text: String,
    pub attachments: Vec<Attachment>,
    /// Keys offered outside the body, the outer `Autocrypt:` header among them: usable on first use,
    /// never to replace a held key.
    pub keys: Vec<OfferedKey>,
}

/// A file found in an entity, before it is taken out of it: its bytes either still inside the entity's own
/// buffer (a part with no transfer encoding) or already decoded into a buffer of their own.
#[derive(Debug)]
struct FoundFile {
    name: String,
    content_type: String,
    data: FileBytes,
}

#[derive(Debug)]
enum FileBytes {
    /// Decoded (base64, quoted-printable): owned already.
    Owned(Vec<u8>),
    /// A range of the buffer the entity was parsed from.
    In(std::ops::Range<usize>),
}

/// Readable content of one piece of a mail.
#[derive(Debug, Default)]
struct Piece {
    text: String,
    attachments: Vec<FoundFile>,
    keys: Vec<OfferedKey>,
}

impl Piece {
    fn append(&mut self, other: Piece) {
        if !other.text.trim().is_empty() {
            if !self.text.is_empty() {
                self.text.push_str("\n\n");
            }
            self.text.push_str(&other.text);
        }
        self.attachments.extend(other.attachments);
        for k in other.keys {
            push_key(&mut self.keys, k);
        }
    }
}

/// One layer of a mail: what its protection covers, and what lies beside it.
#[derive(Debug, Default)]
struct Layer {
    covered: Piece,
    outside: Piece,
    signature: Signature,
    protection: Protection,
    protected_subject: Option<String>,
}

/// What opening needs besides the bytes.
struct Ctx<'a, 'k> {
    keyring: &'a Keyring<'k>,
    mime: &'a MimeLimits,
    /// The sender's address: an Autocrypt header is theirs only if its `addr` is this.
    sender: &'a str,
    /// The certificates that may verify: the held ones and the offered ones that claim no held identity.
    verifiers: Vec<Cert>,
}

impl Ctx<'_, '_> {
    /// Lets keys found inside decrypted content verify too (when they claim no held identity).
    fn admit(&mut self, keys: &[OfferedKey]) -> bool {
        let mut added = false;
        for k in keys {
            if may_verify(self.keyring, &k.cert)
                && !self.verifiers.iter().any(|c| c.fingerprint() == k.cert.fingerprint())
            {
                self.verifiers.push(k.cert.clone());
                added = true;
            }
        }
        added
    }
}

/// Whether a certificate offered in a mail may verify it: it must name no address vdpd holds a certificate
/// for and share no key with a held certificate. So a revoked staff key cannot bring its own old copy, and
/// no key can be made to look like a staff member's or a known researcher's.
fn may_verify(keyring: &Keyring<'_>, cert: &Cert) -> bool {
    let named = openpgp::addresses(cert);
    !named.iter().any(|a| keyring.held_addresses.iter().any(|h| h.eq_ignore_ascii_case(a)))
        && !keyring.certs.iter().any(|held| openpgp::shares_a_key(held, cert))
}

/// Reads what `message` (whose bytes are `raw`) vouches for: see the module documentation.
pub fn open(
    message: &Message<'_>,
    raw: &[u8],
    mime: &MimeLimits,
    keyring: &Keyring<'_>,
    sender: &str,
    crypto: &mut Crypto,
) -> Result<(Body, Outside), String> {
    // Every key the mail offers outside any encryption, so that a signature by a key sent along can be
    // checked; which of them lie inside the signed content is sorted out below.
    let mut offered = Vec::new();
    for value in message.header_values("Autocrypt").filter_map(|v| v.as_text()) {
        if let Some(offer) = autocrypt::parse(value).filter(|o| o.addr.eq_ignore_ascii_case(sender)) {
            add_cert(&mut offered, offer.cert, KeySource::Autocrypt);
        }
    }
    for k in keys_in(message) {
        push_key(&mut offered, k);
    }
    let verifiers = keyring
        .certs
        .iter()
        .cloned()
        .chain(offered.iter().filter(|k| may_verify(keyring, &k.cert)).map(|k| k.cert.clone()))
        .collect();
    let mut ctx = Ctx { keyring, mime, sender, verifiers };
    let mut layer = open_entity(message, raw, &mut ctx, crypto, 0)?;
    settle(&mut layer, Buffer::Borrowed(raw));
    let mut outside = layer.outside;
    // The outer Autocrypt header is outside every signature (RFC 3156 signs only the body).
    for k in offered.into_iter().filter(|k| k.source == KeySource::Autocrypt) {
        push_key(&mut outside.keys, k);
    }
    Ok((
        Body {
            text: mailtext::clean_body_text(&layer.covered.text, MAX_TEXT_BYTES),
            attachments: attachments_of(layer.covered.attachments),
            keys: layer.covered.keys,
            signature: layer.signature,
            protection: layer.protection,
            protected_subject: layer.protected_subject,
        },
        Outside {
            text: mailtext::clean_body_text(&outside.text, MAX_TEXT_BYTES),
            attachments: attachments_of(outside.attachments),
            keys: outside.keys,
        },
    ))
}

/// A signed or encrypted part found in the body of an entity.
#[derive(Debug, Clone, Copy)]
enum Found {
    /// A `multipart/signed` (`encrypted: false`) or `multipart/encrypted` part, by part id.
    Mime { part: usize, encrypted: bool },
    /// Inline armour in a text body part, by part id, with how many blocks it holds.
    Inline { part: usize, blocks: usize },
}

fn open_entity(
    message: &Message<'_>,
    raw: &[u8],
    ctx: &mut Ctx<'_, '_>,
    crypto: &mut Crypto,
    depth: u8,
) -> Result<Layer, String> {
    let found = find_protected(message);
    let protected: usize = found
        .iter()
        .map(|f| match f {
            Found::Mime { .. } => 1,
            Found::Inline { blocks, .. } => *blocks,
        })
        .sum();
    if protected == 0 {
        if depth == 0 && signed_attachment(message) {
            crypto.note = Some(
                "only an attachment is signed (a signature over a file, or an attached signed mail): it says nothing \
                 about the mail itself"
                    .into(),
            );
        }
        return Ok(Layer { covered: piece(message, raw, &[]), ..Layer::default() });
    }
    if protected > 1 || depth > MAX_LAYERS {
        if protected > 1 {
            crypto.note = Some(several(protected));
        }
        return Ok(Layer { covered: readable(message, raw, ctx, crypto), ..Layer::default() });
    }
    match found[0] {
        Found::Mime { part, encrypted } => {
            let skip = subtree(message, part);
            let outside = piece(message, raw, &skip);
            let mut layer = if encrypted {
                open_encrypted(message, part, ctx, crypto, depth)?
            } else {
                open_signed(message, part, raw, ctx, crypto, depth)?
            };
            layer.outside.append(outside);
            Ok(layer)
        }
        Found::Inline { part, .. } => {
            let text = text_of(message, part).unwrap_or_default();
            let mut layer = open_text(&text, ctx, crypto, depth);
            // The other text parts and every file are outside the block.
            layer.outside.append(piece(message, raw, &[part]));
            Ok(layer)
        }
    }
}

fn several(n: usize) -> String {
    format!(
        "the mail has {n} signed or encrypted parts: none of them vouches for the whole mail, so nothing in it counts \
         as signed"
    )
}

/// The signed entity of a `multipart/signed` part, verified; everything inside it is covered.
fn open_signed(
    message: &Message<'_>,
    part: usize,
    raw: &[u8],
    ctx: &mut Ctx<'_, '_>,
    crypto: &mut Crypto,
    depth: u8,
) -> Result<Layer, String> {
    let node = &message.parts[part];
    let parts = children(message, node);
    let boundary = node.content_type().and_then(|c| c.attribute("boundary"));
    let data = boundary.and_then(|b| signed_entity(raw, node.offset_body as usize, b));
    let (Some(signature), Some(data)) = (parts.get(1), data) else {
        crypto.error = Some("multipart/signed without a signature part".into());
        return Ok(Layer { covered: only(message, raw, part), ..Layer::default() });
    };
    let verdict = read::verify_detached(&data, signature.contents(), &ctx.verifiers, ctx.keyring.now);
    let mut layer = open_inner_entity(&data, ctx, crypto, depth)?;
    settle(&mut layer, Buffer::Owned(data));
    // The signature covers the whole entity, whatever is inside it.
    let inner_outside = std::mem::take(&mut layer.outside);
    layer.covered.append(inner_outside);
    layer.signature = verdict;
    layer.protection = Protection::SignedMime;
    Ok(layer)
}

/// A `multipart/encrypted` part, decrypted: covered is all of it when it was signed inside the encryption,
/// else whatever signed layer it holds (or all of it, unsigned).
fn open_encrypted(
    message: &Message<'_>,
    part: usize,
    ctx: &mut Ctx<'_, '_>,
    crypto: &mut Crypto,
    depth: u8,
) -> Result<Layer, String> {
    crypto.encrypted = true;
    let parts = children(message, &message.parts[part]);
    // Borrowed, not copied: the payload can be most of a 25 MB mail.
    let payload =
        parts.iter().find(|p| is(p, "application", "octet-stream")).or_else(|| parts.get(1)).map(|p| p.contents());
    let Some(payload) = payload else {
        crypto.error = Some("multipart/encrypted without an encrypted part".into());
        return Ok(Layer::default());
    };
    let opened = match decrypt(payload, ctx, crypto) {
        Some(o) => o,
        None => return Ok(Layer::default()),
    };
    let is_mime = MessageParser::default()
        .parse_headers(&opened.plaintext)
        .is_some_and(|m| m.root_part().content_type().is_some());
    let mut layer = if is_mime {
        open_inner_entity(&opened.plaintext, ctx, crypto, depth)?
    } else {
        open_text(&String::from_utf8_lossy(&opened.plaintext), ctx, crypto, depth + 1)
    };
    let mut signature = opened.signature;
    settle(&mut layer, Buffer::Owned(opened.plaintext));
    // A key that only the decrypted content revealed may verify it (a first mail with the key attached).
    if matches!(signature, Signature::Unknown { .. }) {
        let mut inside = layer.covered.keys.clone();
        inside.extend(layer.outside.keys.iter().cloned());
        if ctx.admit(&inside)
            && let Ok(again) =
                read::decrypt(payload, ctx.keyring.org, &ctx.verifiers, &ctx.keyring.limits, ctx.keyring.now)
        {
            signature = again.signature;
        }
    }
    if signature != Signature::None {
        // Signed inside the encryption: all of the plaintext is covered.
        let inner_outside = std::mem::take(&mut layer.outside);
        layer.covered.append(inner_outside);
        layer.signature = signature;
        layer.protection = Protection::EncryptedMime;
    } else if layer.signature == Signature::None {
        layer.protection = Protection::EncryptedMime;
    }
    Ok(layer)
}

/// Parses a signed or decrypted MIME entity and opens what is inside it, one level deeper.
fn open_inner_entity(bytes: &[u8], ctx: &mut Ctx<'_, '_>, crypto: &mut Crypto, depth: u8) -> Result<Layer, String> {
    let Some(inner) = MessageParser::default().parse(bytes) else {
        return Ok(Layer {
            covered: Piece { text: String::from_utf8_lossy(bytes).into_owned(), ..Piece::default() },
            ..Layer::default()
        });
    };
    super::check_shape(&inner, ctx.mime, "the signed or decrypted content")?;
    let mut layer = open_entity(&inner, bytes, ctx, crypto, depth + 1)?;
    // Protected headers (RFC 9788, and the older "protected-headers=v1" of Thunderbird and Delta Chat).
    let root_headers = &inner.root_part().headers;
    let has = |name: &str| root_headers.iter().any(|h| h.name.as_str().eq_ignore_ascii_case(name));
    if has("Subject") {
        layer.protected_subject =
            Some(mailtext::clean_header_text(inner.subject().unwrap_or(""), mailtext::MAX_SUBJECT_CHARS));
    }
    // An Autocrypt header inside the entity is covered by whatever covers the entity.
    for value in inner.header_values("Autocrypt").filter_map(|v| v.as_text()) {
        if let Some(offer) = autocrypt::parse(value).filter(|o| o.addr.eq_ignore_ascii_case(ctx.sender)) {
            add_cert(&mut layer.covered.keys, offer.cert, KeySource::Autocrypt);
        }
    }
    Ok(layer)
}

/// Plain text that may hold inline armour: exactly one block is the covered content, the text around it
/// is outside.
fn open_text(text: &str, ctx: &mut Ctx<'_, '_>, crypto: &mut Crypto, depth: u8) -> Layer {
    let blocks = inline_blocks(text);
    let Some((range, encrypted)) = blocks.first().cloned() else {
        return Layer { covered: text_piece(text), ..Layer::default() };
    };
    if blocks.len() > 1 || depth > MAX_LAYERS + 1 {
        if blocks.len() > 1 {
            crypto.note = Some(several(blocks.len()));
        }
        return Layer { covered: text_piece(&readable_text(text, ctx, crypto)), ..Layer::default() };
    }
    let before = &text[..range.start];
    let after = &text[range.end..];
    let outside = text_piece(&format!("{}\n{}", before.trim_end(), after.trim_start()));
    let armour = &text[range];
    let (covered, signature, protection) = if encrypted {
        match decrypt(armour.as_bytes(), ctx, crypto) {
            Some(opened) => {
                let plain = String::from_utf8_lossy(&opened.plaintext).into_owned();
                if opened.signature == Signature::None && opened.encrypted {
                    // Encrypted, not signed: a signed block inside may still vouch for part of it.
                    let mut inner = open_text(&plain, ctx, crypto, depth + 1);
                    inner.outside.append(outside);
                    if inner.protection == Protection::None {
                        inner.protection = Protection::EncryptedInline;
                    }
                    return inner;
                }
                let protection = if opened.encrypted { Protection::EncryptedInline } else { Protection::SignedInline };
                (text_piece(&plain), opened.signature, protection)
            }
            None => (text_piece("[encrypted text that could not be decrypted]"), Signature::None, Protection::None),
        }
    } else {
        match read::verify_inline(armour.as_bytes(), &ctx.verifiers, &ctx.keyring.limits, ctx.keyring.now) {
            Ok(opened) => {
                (text_piece(&String::from_utf8_lossy(&opened.plaintext)), opened.signature, Protection::SignedInline)
            }
            Err(e) => {
                (text_piece(&armour_text(armour)), Signature::Bad { reason: e.to_string() }, Protection::SignedInline)
            }
        }
    };
    Layer { covered, outside, signature, protection, protected_subject: None }
}

/// The text of a mail that gives no authority (several signed or encrypted parts), made readable: each
/// inline block replaced by its text, decrypted where it was encrypted.
fn readable(message: &Message<'_>, raw: &[u8], ctx: &mut Ctx<'_, '_>, crypto: &mut Crypto) -> Piece {
    let mut p = piece(message, raw, &[]);
    p.text = readable_text(&p.text, ctx, crypto);
    p
}

fn readable_text(text: &str, ctx: &mut Ctx<'_, '_>, crypto: &mut Crypto) -> String {
    let mut out = String::new();
    let mut rest = text;
    for _ in 0..MAX_INLINE_BLOCKS {
        let Some((range, encrypted)) = inline_blocks(rest).first().cloned() else { break };
        out.push_str(&rest[..range.start]);
        let armour = &rest[range.clone()];
        if encrypted {
            match decrypt(armour.as_bytes(), ctx, crypto) {
                Some(o) => out.push_str(&String::from_utf8_lossy(&o.plaintext)),
                None => out.push_str("[encrypted text that could not be decrypted]"),
            }
        } else {
            out.push_str(&armour_text(armour));
        }
        rest = &rest[range.end..];
    }
    out.push_str(rest);
    out
}

/// Decrypts an OpenPGP message, recording what happened in `crypto`; `None` when it cannot be read.
fn decrypt(data: &[u8], ctx: &Ctx<'_, '_>, crypto: &mut Crypto) -> Option<read::Opened> {
    match read::decrypt(data, ctx.keyring.org, &ctx.verifiers, &ctx.keyring.limits, ctx.keyring.now) {
        Ok(opened) => {
            if opened.encrypted {
                crypto.encrypted = true;
                crypto.decrypted = true;
            }
            Some(opened)
        }
        Err(e) => {
            // An OpenPGP message that cannot be opened was, as far as anyone can tell, encrypted.
            crypto.encrypted = true;
            crypto.error = Some(match ctx.keyring.org {
                None => "the message is encrypted, but no organisation key is configured".into(),
                Some(_) => e.to_string(),
            });
            None
        }
    }
}

/// The signed text of a cleartext-signed block, without verifying (for display): the armour lines dropped.
fn armour_text(armour: &str) -> String {
    armour
        .lines()
        .skip_while(|l| !l.trim().is_empty())
        .take_while(|l| !l.starts_with("-----BEGIN PGP SIGNATURE-----"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn text_piece(text: &str) -> Piece {
    let mut keys = Vec::new();
    pasted_keys(text, &mut keys);
    Piece { text: text.trim_matches('\n').to_string(), attachments: Vec::new(), keys }
}

/// Inline armour blocks in `text`, in order: (byte range including both armour lines, encrypted?). A
/// `BEGIN PGP MESSAGE` block may be only signed (`gpg --sign --armor`); decryption tells.
fn inline_blocks(text: &str) -> Vec<(std::ops::Range<usize>, bool)> {
    let mut out = Vec::new();
    let mut at = 0;
    while out.len() < MAX_INLINE_BLOCKS {
        let rest = &text[at..];
        let encrypted = block(rest, "-----BEGIN PGP MESSAGE-----", "-----END PGP MESSAGE-----");
        let signed = block(rest, "-----BEGIN PGP SIGNED MESSAGE-----", "-----END PGP SIGNATURE-----");
        let (range, is_encrypted) = match (encrypted, signed) {
            (Some(e), Some(s)) if s.start < e.start => (s, false),
            (Some(e), _) => (e, true),
            (None, Some(s)) => (s, false),
            (None, None) => break,
        };
        out.push((at + range.start..at + range.end, is_encrypted));
        at += range.end;
    }
    out
}

/// The byte range of the first `begin … end` block (including both lines).
fn block(text: &str, begin: &str, end: &str) -> Option<std::ops::Range<usize>> {
    let start = text.find(begin)?;
    let end_at = text[start..].find(end)? + start + end.len();
    Some(start..end_at)
}

fn is(part: &MessagePart<'_>, ctype: &str, subtype: &str) -> bool {
    part.content_type().is_some_and(|c| {
        c.ctype().eq_ignore_ascii_case(ctype) && c.subtype().is_some_and(|s| s.eq_ignore_ascii_case(subtype))
    })
}

fn protocol_is(part: &MessagePart<'_>, protocol: &str) -> bool {
    part.content_type().and_then(|c| c.attribute("protocol")).is_some_and(|p| p.eq_ignore_ascii_case(protocol))
}

fn is_attachment(part: &MessagePart<'_>) -> bool {
    part.content_disposition().is_some_and(|d| d.ctype().eq_ignore_ascii_case("attachment"))
}

fn children<'m>(message: &'m Message<'_>, part: &MessagePart<'_>) -> Vec<&'m MessagePart<'m>> {
    match &part.body {
        PartType::Multipart(ids) => ids.iter().filter_map(|&i| message.parts.get(i as usize)).collect(),
        _ => Vec::new(),
    }
}

/// The signed and encrypted parts in the body of `message`: PGP/MIME parts reachable from the root through
/// other multiparts (not inside attached messages, not themselves attachments), and text body parts that
/// carry inline armour.
fn find_protected(message: &Message<'_>) -> Vec<Found> {
    let mut found = Vec::new();
    let mut stack = vec![0usize];
    let mut seen = vec![false; message.parts.len()];
    let mut mime_parts = vec![false; message.parts.len()];
    while let Some(id) = stack.pop() {
        let Some(part) = message.parts.get(id) else { continue };
        if std::mem::replace(&mut seen[id], true) || (id != 0 && is_attachment(part)) {
            continue;
        }
        if is(part, "multipart", "signed") && protocol_is(part, "application/pgp-signature") {
            found.push(Found::Mime { part: id, encrypted: false });
            subtree(message, id).into_iter().for_each(|i| mime_parts[i] = true);
        } else if is(part, "multipart", "encrypted") && protocol_is(part, "application/pgp-encrypted") {
            found.push(Found::Mime { part: id, encrypted: true });
            subtree(message, id).into_iter().for_each(|i| mime_parts[i] = true);
        } else if let PartType::Multipart(ids) = &part.body {
            // In reverse, so that the stack visits children in order.
            stack.extend(ids.iter().rev().map(|&c| c as usize));
        }
    }
    for &id in &message.text_body {
        let id = id as usize;
        if mime_parts.get(id).copied().unwrap_or(true) {
            continue;
        }
        if message.parts.get(id).is_none_or(is_attachment) {
            continue;
        }
        let blocks = text_of(message, id).map_or(0, |t| inline_blocks(&t).len());
        if blocks > 0 {
            found.push(Found::Inline { part: id, blocks });
        }
    }
    found
}

/// Whether the mail carries a signature only as an attachment: a detached `application/pgp-signature`
/// file, or an attached message that is itself signed.
fn signed_attachment(message: &Message<'_>) -> bool {
    message.attachments.iter().filter_map(|&id| message.parts.get(id as usize)).any(|p| match &p.body {
        PartType::Message(inner) => {
            let root = inner.root_part();
            is(root, "multipart", "signed")
                || inner
                    .text_body
                    .iter()
                    .any(|&t| text_of(inner, t as usize).is_some_and(|t| !inline_blocks(&t).is_empty()))
        }
        _ => is(p, "application", "pgp-signature"),
    })
}

/// What `part` and the parts below it hold, read as plain content (a signed part whose signature is
/// missing): what lies beside it is the caller's.
fn only(message: &Message<'_>, raw: &[u8], part: usize) -> Piece {
    let inside = subtree(message, part);
    let others: Vec<usize> = (0..message.parts.len()).filter(|i| !inside.contains(i)).collect();
    piece(message, raw, &others)
}

/// The part ids of `root` and everything below it.
fn subtree(message: &Message<'_>, root: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(id) = stack.pop() {
        if out.contains(&id) || out.len() > message.parts.len() {
            continue;
        }
        out.push(id);
        if let Some(PartType::Multipart(ids)) = message.parts.get(id).map(|p| &p.body) {
            stack.extend(ids.iter().map(|&c| c as usize));
        }
    }
    out
}

/// The text of a text body part (HTML converted to text).
fn text_of<'m>(message: &'m Message<'_>, id: usize) -> Option<std::borrow::Cow<'m, str>> {
    match &message.parts.get(id)?.body {
        PartType::Text(t) => Some(std::borrow::Cow::Borrowed(t.as_ref())),
        PartType::Html(h) => Some(std::borrow::Cow::Owned(mail_parser::decoders::html::html_to_text(h))),
        _ => None,
    }
}

/// The readable text, files and keys of `message` (parsed from `raw`), leaving out the parts `skip` lists.
/// A file without transfer encoding stays a range of `raw` until [`settle`] takes it out.
fn piece(message: &Message<'_>, raw: &[u8], skip: &[usize]) -> Piece {
    let mut p = Piece::default();
    for &id in &message.text_body {
        let id = id as usize;
        if p.text.len() >= MAX_TEXT_BYTES {
            break;
        }
        if skip.contains(&id) || message.parts.get(id).is_none_or(is_attachment) {
            continue;
        }
        if let Some(t) = text_of(message, id) {
            if !p.text.is_empty() {
                p.text.push_str("\n\n");
            }
            p.text.push_str(&t);
        }
    }
    pasted_keys(&p.text, &mut p.keys);
    for (i, &id) in message.attachments.iter().enumerate() {
        let id = id as usize;
        let Some(part) = message.parts.get(id).filter(|_| !skip.contains(&id)) else { continue };
        let ct = part.content_type();
        let content_type = ct
            .map(|c| format!("{}/{}", c.ctype(), c.subtype().unwrap_or("octet-stream")).to_ascii_lowercase())
            .unwrap_or_else(|| "application/octet-stream".into());
        let name = part.attachment_name().map(mailtext::clean_file_name).filter(|n| !n.is_empty());
        key_attachment(part, &mut p.keys);
        // The OpenPGP plumbing (keys, signatures, encrypted payloads) is not a researcher's file.
        if matches!(
            content_type.as_str(),
            "application/pgp-keys" | "application/pgp-signature" | "application/pgp-encrypted"
        ) {
            continue;
        }
        let contents = part.contents();
        let (base, at) = (raw.as_ptr() as usize, contents.as_ptr() as usize);
        let data = if at >= base && at + contents.len() <= base + raw.len() {
            FileBytes::In(at - base..at - base + contents.len())
        } else {
            FileBytes::Owned(contents.to_vec())
        };
        p.attachments.push(FoundFile {
            name: name.unwrap_or_else(|| format!("attachment-{}", i + 1)),
            content_type: mailtext::clean_header_text(&content_type, 100),
            data,
        });
    }
    p
}

/// Every key `message` carries outside any encryption: attached anywhere in its body, or pasted into its
/// text.
fn keys_in(message: &Message<'_>) -> Vec<OfferedKey> {
    let mut keys = Vec::new();
    for &id in &message.text_body {
        if let Some(t) = text_of(message, id as usize) {
            pasted_keys(&t, &mut keys);
        }
    }
    for part in message.attachments.iter().filter_map(|&id| message.parts.get(id as usize)) {
        key_attachment(part, &mut keys);
    }
    keys
}

/// The keys in an attachment that is a key: `application/pgp-keys`, or a file named like a key that holds
/// an armoured key block.
fn key_attachment(part: &MessagePart<'_>, keys: &mut Vec<OfferedKey>) {
    let bytes = part.contents();
    let named_like_key = part
        .attachment_name()
        .is_some_and(|n| [".asc", ".pub", ".key", ".gpg", ".pgp"].iter().any(|e| n.to_lowercase().ends_with(e)));
    let is_key = is(part, "application", "pgp-keys")
        || (named_like_key && bytes.windows(30).any(|w| w == b"-----BEGIN PGP PUBLIC KEY BLOCK"));
    if is_key && bytes.len() <= MAX_KEY_BYTES {
        for cert in parse_certs(bytes) {
            add_cert(keys, cert, KeySource::Attachment);
        }
    }
}

/// Where a layer's files still point into: the buffer its entity was parsed from.
enum Buffer<'a> {
    /// The mail as received: its files are copied out.
    Borrowed(&'a [u8]),
    /// A signed entity or a decrypted plaintext, ours to consume: the largest file takes the buffer over
    /// instead of being copied, so a mail at the decryption cap does not cost twice the cap for its files.
    Owned(Vec<u8>),
}

/// Takes every file of `layer` out of `buffer` (ranges become bytes of their own).
fn settle(layer: &mut Layer, buffer: Buffer<'_>) {
    let mut files: Vec<&mut FoundFile> =
        layer.covered.attachments.iter_mut().chain(layer.outside.attachments.iter_mut()).collect();
    let largest = files
        .iter()
        .enumerate()
        .filter_map(|(i, f)| match &f.data {
            FileBytes::In(r) => Some((i, r.len())),
            FileBytes::Owned(_) => None,
        })
        .max_by_key(|(_, len)| *len)
        .map(|(i, _)| i);
    let bytes: &[u8] = match &buffer {
        Buffer::Borrowed(b) => b,
        Buffer::Owned(v) => v,
    };
    for (i, f) in files.iter_mut().enumerate() {
        if let FileBytes::In(r) = &f.data
            && (Some(i) != largest || matches!(buffer, Buffer::Borrowed(_)))
        {
            f.data = FileBytes::Owned(bytes.get(r.clone()).unwrap_or_default().to_vec());
        }
    }
    if let (Some(i), Buffer::Owned(mut v)) = (largest, buffer)
        && let FileBytes::In(r) = &files[i].data
    {
        let r = r.clone();
        v.truncate(r.end.min(v.len()));
        v.drain(..r.start.min(v.len()));
        v.shrink_to_fit();
        files[i].data = FileBytes::Owned(v);
    }
}

fn attachments_of(files: Vec<FoundFile>) -> Vec<Attachment> {
    files
        .into_iter()
        .map(|f| Attachment {
            name: f.name,
            content_type: f.content_type,
            data: match f.data {
                FileBytes::Owned(v) => v,
                FileBytes::In(_) => Vec::new(),
            },
        })
        .collect()
}

/// Keys pasted as armoured blocks into text.
fn pasted_keys(text: &str, keys: &mut Vec<OfferedKey>) {
    let mut rest = text;
    while let Some(r) = block(rest, "-----BEGIN PGP PUBLIC KEY BLOCK-----", "-----END PGP PUBLIC KEY BLOCK-----") {
        if r.len() <= MAX_KEY_BYTES {
            for cert in parse_certs(rest[r.clone()].as_bytes()) {
                add_cert(keys, cert, KeySource::Inline);
            }
        }
        rest = &rest[r.end..];
    }
}

fn parse_certs(bytes: &[u8]) -> Vec<Cert> {
    match CertParser::from_bytes(bytes) {
        Ok(parser) => parser.take(MAX_KEYS).filter_map(Result::ok).collect(),
        Err(_) => Vec::new(),
    }
}

/// Adds a certificate, sanitised (no secrets — someone may mail us their secret key by mistake —, no
/// third-party certifications, capped in size), unless the list is full or has it already.
fn add_cert(keys: &mut Vec<OfferedKey>, cert: Cert, source: KeySource) {
    if let Some(cert) = openpgp::sanitise_offered(cert) {
        push_key(keys, OfferedKey { cert, source });
    }
}

fn push_key(keys: &mut Vec<OfferedKey>, key: OfferedKey) {
    if keys.len() >= MAX_KEYS || keys.iter().any(|k| k.cert.fingerprint() == key.cert.fingerprint()) {
        return;
    }
    keys.push(key);
}

/// The signed entity of a multipart/signed body: the exact bytes between the first delimiter line and the
/// line break before the next one (RFC 2046: that line break belongs to the delimiter), with line endings made
/// CRLF (RFC 3156 §5: the signature covers the canonical form). Found by scanning for the boundary rather
/// than trusting a parser's part offsets, because a single byte off is a bad signature. Only line starts
/// are compared with the delimiter, so the scan costs the body's length, not its length times the
/// boundary's.
fn signed_entity(raw: &[u8], body_start: usize, boundary: &str) -> Option<Vec<u8>> {
    let delimiter = format!("--{boundary}");
    let body = raw.get(body_start..)?;
    let line_starts = std::iter::once(0).chain(memchr_iter(body).map(|i| i + 1)).filter(|&i| i < body.len());
    let is_delimiter_at = |i: usize| {
        body[i..].starts_with(delimiter.as_bytes())
            && matches!(body.get(i + delimiter.len()), None | Some(b'\r' | b'\n' | b' ' | b'\t' | b'-'))
    };
    let mut delimiters = line_starts.filter(|&i| is_delimiter_at(i));
    let first = delimiters.next()?;
    let start = first + body[first..].iter().position(|&b| b == b'\n')? + 1;
    let next = delimiters.find(|&i| i >= start)?;
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

/// Positions of every `\n`.
fn memchr_iter(bytes: &[u8]) -> impl Iterator<Item = usize> + '_ {
    bytes.iter().enumerate().filter(|(_, b)| **b == b'\n').map(|(i, _)| i)
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
