//! Mailbox names: `policy.toml` writes levels with `/`; the server decides what they are called.
//!
//! IMAP leaves the hierarchy delimiter to the server (Dovecot's Maildir++ uses `.`, Cyrus `.` or `/`, Gmail
//! `/`) and may put personal mailboxes under a namespace prefix (Cyrus's `INBOX.`), and names outside ASCII
//! travel in modified UTF-7 (RFC 3501 §5.1.3). So vdpd asks the server (NAMESPACE, else `LIST "" ""`) and
//! translates `vdpd/processed` into `vdpd.processed` on Dovecot and `INBOX.vdpd.processed` on Cyrus. `INBOX`
//! is INBOX everywhere, and `INBOX/x` is a child of it.
//!
//! The names in the store (the UID cursor, the intake log) stay as the policy writes them, so that a
//! server's naming never changes what vdpd remembers.

use base64::Engine;

/// How one server names personal mailboxes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Naming {
    /// The hierarchy delimiter; `None` for a flat server.
    pub delimiter: Option<char>,
    /// The personal namespace's prefix (`""`, `"INBOX."`), in the server's own form.
    pub prefix: String,
}

/// Why a configured name cannot be used on this server.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("{name:?}: a mailbox name must not be empty or have an empty level (write levels as \"a/b\")")]
    Empty { name: String },
    #[error("{name:?}: this server has no mailbox hierarchy, so a name cannot have levels; write it without \"/\"")]
    Flat { name: String },
    #[error(
        "{name:?}: the level {level:?} contains {delimiter:?}, which this server uses between levels; write levels with \"/\" (e.g. \"vdpd/processed\")"
    )]
    Delimiter { name: String, level: String, delimiter: char },
}

impl Naming {
    /// The server's name for a mailbox the policy names `configured` (levels separated by `/`).
    pub fn server_name(&self, configured: &str) -> Result<String, NameError> {
        let levels: Vec<&str> = configured.split('/').collect();
        if levels.iter().any(|l| l.is_empty()) {
            return Err(NameError::Empty { name: configured.to_string() });
        }
        if levels[0].eq_ignore_ascii_case("INBOX") && levels.len() == 1 {
            return Ok("INBOX".into());
        }
        let delimiter = match self.delimiter {
            Some(d) => d,
            None if levels.len() == 1 => '/',
            None => return Err(NameError::Flat { name: configured.to_string() }),
        };
        if let Some(level) = levels.iter().find(|l| l.contains(delimiter)) {
            return Err(NameError::Delimiter { name: configured.to_string(), level: level.to_string(), delimiter });
        }
        let joined = levels.iter().map(|l| encode_utf7(l)).collect::<Vec<_>>().join(&delimiter.to_string());
        if levels[0].eq_ignore_ascii_case("INBOX") {
            // A child of INBOX: "INBOX" itself is case-insensitive, its children are not.
            return Ok(format!("INBOX{delimiter}{}", joined.split_once(delimiter).map_or("", |(_, rest)| rest)));
        }
        // A prefix of INBOX's own (Cyrus: "INBOX.") already holds INBOX's children.
        Ok(format!("{}{joined}", self.prefix))
    }
}

/// The modified base64 of RFC 3501 §5.1.3: `,` instead of `/`, no padding.
const MUTF7: base64::engine::GeneralPurpose =
    base64::engine::GeneralPurpose::new(&base64::alphabet::IMAP_MUTF7, base64::engine::general_purpose::NO_PAD);

/// A mailbox name in modified UTF-7: printable ASCII stays, `&` is `&-`, anything else is UTF-16 in modified
/// base64 between `&` and `-`.
pub fn encode_utf7(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut pending: Vec<u16> = Vec::new();
    let flush = |pending: &mut Vec<u16>, out: &mut String| {
        if pending.is_empty() {
            return;
        }
        let bytes: Vec<u8> = pending.iter().flat_map(|u| u.to_be_bytes()).collect();
        out.push('&');
        out.push_str(&MUTF7.encode(bytes));
        out.push('-');
        pending.clear();
    };
    for c in name.chars() {
        if (' '..='~').contains(&c) {
            flush(&mut pending, &mut out);
            if c == '&' {
                out.push_str("&-");
            } else {
                out.push(c);
            }
        } else {
            let mut units = [0u16; 2];
            pending.extend_from_slice(c.encode_utf16(&mut units));
        }
    }
    flush(&mut pending, &mut out);
    out
}

/// A modified UTF-7 name decoded, `None` if it is not valid: the inverse the tests check encoding against.
#[cfg(test)]
fn decode_utf7(name: &str) -> Option<String> {
    let mut out = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let end = after.find('-')?;
        if end == 0 {
            out.push('&');
        } else {
            let bytes = MUTF7.decode(&after[..end]).ok()?;
            if bytes.len() % 2 != 0 {
                return None;
            }
            let units: Vec<u16> = bytes.chunks(2).map(|p| u16::from_be_bytes([p[0], p[1]])).collect();
            out.push_str(&String::from_utf16(&units).ok()?);
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

/// The first personal namespace of a raw `* NAMESPACE` response: (prefix, delimiter). `None` when the server
/// has no personal namespace or the line is not one we can read.
pub fn parse_namespace(line: &str) -> Option<(String, Option<char>)> {
    let rest = line.trim_start().strip_prefix("* ")?.trim_start();
    let rest = rest.get(..9).filter(|w| w.eq_ignore_ascii_case("NAMESPACE")).map(|_| &rest[9..])?;
    let rest = rest.trim_start().strip_prefix("((")?;
    let (prefix, rest) = quoted(rest)?;
    let rest = rest.trim_start();
    let delimiter = if rest.get(..3).is_some_and(|w| w.eq_ignore_ascii_case("NIL")) {
        None
    } else {
        let (d, _) = quoted(rest)?;
        let mut chars = d.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => Some(c),
            _ => return None,
        }
    };
    Some((prefix, delimiter))
}

/// An IMAP quoted string at the start of `s`, and what follows it.
fn quoted(s: &str) -> Option<(String, &str)> {
    let mut chars = s.strip_prefix('"')?.char_indices();
    let mut out = String::new();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => out.push(chars.next()?.1),
            '"' => return Some((out, &s[i + 2..])),
            c => out.push(c),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dovecot() -> Naming {
        Naming { delimiter: Some('.'), prefix: String::new() }
    }
    fn cyrus() -> Naming {
        Naming { delimiter: Some('.'), prefix: "INBOX.".into() }
    }
    fn gmail() -> Naming {
        Naming { delimiter: Some('/'), prefix: String::new() }
    }

    #[test]
    fn the_shipped_names_on_each_kind_of_server() {
        assert_eq!(dovecot().server_name("vdpd/processed").unwrap(), "vdpd.processed");
        assert_eq!(cyrus().server_name("vdpd/processed").unwrap(), "INBOX.vdpd.processed");
        assert_eq!(gmail().server_name("vdpd/processed").unwrap(), "vdpd/processed");
        for n in [dovecot(), cyrus(), gmail()] {
            assert_eq!(n.server_name("INBOX").unwrap(), "INBOX");
            assert_eq!(n.server_name("inbox").unwrap(), "INBOX");
        }
        assert_eq!(cyrus().server_name("INBOX/Processed").unwrap(), "INBOX.Processed");
        assert_eq!(dovecot().server_name("INBOX/Processed").unwrap(), "INBOX.Processed");
        assert_eq!(dovecot().server_name("Processed").unwrap(), "Processed");
    }

    #[test]
    fn names_the_server_cannot_hold_are_refused_with_the_fix() {
        let e = dovecot().server_name("vdpd.processed").unwrap_err();
        assert!(e.to_string().contains("write levels with \"/\""), "{e}");
        assert!(matches!(dovecot().server_name("a//b"), Err(NameError::Empty { .. })));
        assert!(matches!(dovecot().server_name("/a"), Err(NameError::Empty { .. })));
        let flat = Naming { delimiter: None, prefix: String::new() };
        assert!(matches!(flat.server_name("a/b"), Err(NameError::Flat { .. })));
        assert_eq!(flat.server_name("Processed").unwrap(), "Processed");
    }

    #[test]
    fn modified_utf7_as_rfc_3501_writes_it() {
        // RFC 3501 §5.1.3's own example, and the ampersand.
        assert_eq!(encode_utf7("~peter/mail/台北/日本語"), "~peter/mail/&U,BTFw-/&ZeVnLIqe-");
        assert_eq!(encode_utf7("R&D"), "R&-D");
        assert_eq!(dovecot().server_name("Bearbeitet/Erledigt ✓").unwrap(), "Bearbeitet.Erledigt &JxM-");
        for s in ["~peter/mail/台北/日本語", "R&D", "plain", "😀 emoji", "Ünïcödé"] {
            assert_eq!(decode_utf7(&encode_utf7(s)).as_deref(), Some(s));
        }
        assert_eq!(decode_utf7("&bad"), None);
    }

    #[test]
    fn namespace_responses_of_real_servers() {
        assert_eq!(parse_namespace("* NAMESPACE ((\"\" \".\")) NIL NIL"), Some((String::new(), Some('.'))));
        assert_eq!(
            parse_namespace("* NAMESPACE ((\"INBOX.\" \".\")) ((\"user.\" \".\")) ((\"\" \".\"))"),
            Some(("INBOX.".into(), Some('.')))
        );
        assert_eq!(parse_namespace("* NAMESPACE ((\"\" \"/\")) NIL NIL"), Some((String::new(), Some('/'))));
        assert_eq!(parse_namespace("* NAMESPACE ((\"\" NIL)) NIL NIL"), Some((String::new(), None)));
        assert_eq!(parse_namespace("* NAMESPACE NIL NIL NIL"), None);
        assert_eq!(parse_namespace("* OK whatever"), None);
    }
}
