//! Small, pure helpers for text that crosses from a hostile mail into our own headers and store.
//!
//! Anything a researcher controls (subject, display name, Message-IDs they name) passes through here before
//! it is stored or put in a header we write: control characters (CR, LF, NUL, bidi overrides) become spaces,
//! lengths are bounded, and Message-IDs must look like Message-IDs. lettre then RFC 2047-encodes and folds.

/// The longest subject we keep or repeat, in characters.
pub const MAX_SUBJECT_CHARS: usize = 200;
/// The longest display name we keep, in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// The longest Message-ID we accept (RFC 5322 lines are 998 octets; real IDs are far shorter).
pub const MAX_MESSAGE_ID_LEN: usize = 250;

/// Makes header text safe to store and to repeat in a header: every control or invisible formatting
/// character becomes a space, runs of whitespace collapse, and the result is cut at `max_chars` (with "…").
pub fn clean_header_text(s: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max_chars * 4));
    let mut last_space = true;
    let mut count = 0;
    for c in s.chars() {
        let c = if c.is_control() || is_invisible_format(c) || c.is_whitespace() { ' ' } else { c };
        if c == ' ' {
            if last_space {
                continue;
            }
            last_space = true;
        } else {
            last_space = false;
        }
        if count == max_chars {
            out.truncate(out.trim_end().len());
            out.push('…');
            return out;
        }
        out.push(c);
        count += 1;
    }
    out.truncate(out.trim_end().len());
    out
}

/// Bidi overrides and similar characters that make text display differently from what it is.
fn is_invisible_format(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
}

/// Text a sender wrote, made safe to print on a terminal: control characters other than line breaks and
/// tabs (ESC, which starts a terminal escape sequence, BEL, backspace, a bare CR that rewrites a line …), C1
/// controls, and invisible formatting characters (bidi overrides) are shown as `\u{…}` instead of acting
/// on the terminal. Text stored before it was cleaned, or cleaned for another purpose, goes through here
/// on its way to the screen.
pub fn for_terminal(s: &str) -> std::borrow::Cow<'_, str> {
    escape_for_terminal(s, false)
}

/// [`for_terminal`] for a one-line field: line breaks and tabs are escaped too.
pub fn for_terminal_line(s: &str) -> std::borrow::Cow<'_, str> {
    escape_for_terminal(s, true)
}

fn escape_for_terminal(s: &str, one_line: bool) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| (c.is_control() && (one_line || !matches!(c, '\n' | '\t'))) || is_invisible_format(c);
    if !s.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if unsafe_char(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A file name we can show and use: no path, no control characters, no leading dots, bounded.
pub fn clean_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned: String = clean_header_text(base, 120)
        .chars()
        .map(|c| if matches!(c, ':' | '*' | '?' | '"' | '<' | '>' | '|') { '_' } else { c })
        .collect();
    cleaned.trim_start_matches('.').trim().to_string()
}

/// Body text for the store: NUL bytes removed (SQLite text and most tools choke on them), line endings
/// normalised to `\n`, cut at `max_bytes` on a character boundary.
pub fn clean_body_text(s: &str, max_bytes: usize) -> String {
    let mut out: String = s.chars().filter(|&c| c != '\0').collect();
    if out.contains('\r') {
        out = out.replace("\r\n", "\n").replace('\r', "\n");
    }
    if out.len() > max_bytes {
        let mut cut = max_bytes;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out.push_str("\n[… truncated]");
    }
    out
}

/// A Message-ID as `<id>`, or `None` if `s` is not one we would ever write back into a header.
pub fn clean_message_id(s: &str) -> Option<String> {
    let id = s.trim().trim_start_matches('<').trim_end_matches('>').trim();
    let ok = !id.is_empty()
        && id.len() <= MAX_MESSAGE_ID_LEN
        && id.bytes().all(|b| b.is_ascii_graphic() && !matches!(b, b'<' | b'>' | b'"' | b'\\' | b','));
    ok.then(|| format!("<{id}>"))
}

/// An address as we store and compare it: trimmed and lower-cased, or `None` if it is not a plain
/// `local@domain` that we could safely put in an envelope and a header.
pub fn normalize_address(s: &str) -> Option<String> {
    let a = s.trim().to_ascii_lowercase();
    let (local, domain) = a.rsplit_once('@')?;
    let ok = !local.is_empty()
        && !domain.is_empty()
        && a.len() <= 254
        && a.chars().all(|c| !c.is_control() && !c.is_whitespace() && !matches!(c, '<' | '>' | ',' | ';' | '"'))
        && (domain.contains('.') || domain == "localhost");
    (ok && is_valid_address(&a)).then_some(a)
}

/// Whether `a` is a `local@domain` address that the SMTP library will accept for an envelope and a header:
/// the same syntax rules lettre applies (RFC 5322 local part; a DNS name, an IDN that converts to one, or an
/// IP literal), checked here so that the core decides without the crate that sends mail. A shell test keeps
/// the two in agreement.
pub fn is_valid_address(a: &str) -> bool {
    use email_address::EmailAddress;
    let Some((local, domain)) = a.rsplit_once('@') else {
        return false;
    };
    let ascii_domain_ok = |d: &str| {
        EmailAddress::is_valid_domain(d)
            || d.strip_prefix('[').and_then(|d| d.strip_suffix(']')).unwrap_or(d).parse::<std::net::IpAddr>().is_ok()
    };
    EmailAddress::is_valid_local_part(local)
        && (ascii_domain_ok(domain) || idna::domain_to_ascii(domain).is_ok_and(|d| ascii_domain_ok(&d)))
}

/// The subject without leading reply/forward markers (`Re:`, `AW:`, `Fwd:` …) and without any ticket
/// reference tags of ours, so that our `[REF] Re: …` never piles up prefixes or repeats someone else's tag.
pub fn base_subject(subject: &str, prefix: &str) -> String {
    let without_tags = strip_reference_tags(subject, prefix);
    let mut s = without_tags.trim();
    loop {
        let lower = s.to_lowercase();
        let marker = ["re:", "aw:", "sv:", "fw:", "fwd:", "wg:", "tr:"].iter().find(|m| lower.starts_with(*m));
        match marker {
            Some(m) => s = s[m.len()..].trim_start(),
            None => break,
        }
    }
    s.to_string()
}

/// Every `[PREFIX-YYYY-NNNN]` tag in `s`, upper-cased, in order, without repeats.
pub fn find_reference_tags(s: &str, prefix: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (start, end) in tag_spans(s, prefix) {
        let tag = s[start + 1..end - 1].to_ascii_uppercase();
        if !found.contains(&tag) {
            found.push(tag);
        }
    }
    found
}

fn strip_reference_tags(s: &str, prefix: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pos = 0;
    for (start, end) in tag_spans(s, prefix) {
        out.push_str(&s[pos..start]);
        pos = end;
    }
    out.push_str(&s[pos..]);
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Byte spans (including the brackets) of reference tags: `[`, prefix (any case), `-`, four digits, `-`, one
/// or more digits, `]`.
fn tag_spans(s: &str, prefix: &str) -> Vec<(usize, usize)> {
    let bytes = s.as_bytes();
    let p = prefix.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'['
            && let Some(end) = match_tag(&bytes[i + 1..], p)
        {
            spans.push((i, i + 1 + end));
            i += 1 + end;
            continue;
        }
        i += 1;
    }
    spans
}

/// If `b` starts with `PREFIX-YYYY-N+]`, the length up to and including `]`.
fn match_tag(b: &[u8], prefix: &[u8]) -> Option<usize> {
    if b.len() < prefix.len() + 8 || !b[..prefix.len()].eq_ignore_ascii_case(prefix) {
        return None;
    }
    let mut i = prefix.len();
    if b[i] != b'-' {
        return None;
    }
    i += 1;
    if !b[i..i + 4].iter().all(u8::is_ascii_digit) {
        return None;
    }
    i += 4;
    if b.get(i) != Some(&b'-') {
        return None;
    }
    i += 1;
    let digits = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 || digits > 9 {
        return None;
    }
    i += digits;
    (b.get(i) == Some(&b']')).then_some(i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_text_loses_line_breaks_and_controls() {
        assert_eq!(clean_header_text("XSS\r\nBcc: victim@example.com", 200), "XSS Bcc: victim@example.com");
        assert_eq!(clean_header_text("a\0b\tc\u{202E}d", 200), "a b c d");
        assert_eq!(clean_header_text("  spaced   out  ", 200), "spaced out");
        assert_eq!(clean_header_text("abcdef", 3), "abc…");
        assert_eq!(clean_header_text("ab    ", 3), "ab");
    }

    #[test]
    fn body_text_is_bounded_on_a_char_boundary() {
        assert_eq!(clean_body_text("a\r\nb\0c\rd", 100), "a\nbc\nd");
        let t = clean_body_text("ééé", 3);
        assert!(t.starts_with('é') && t.ends_with("[… truncated]"), "{t}");
    }

    #[test]
    fn file_names_lose_paths_and_tricks() {
        assert_eq!(clean_file_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_file_name("C:\\Users\\x\\poc.py"), "poc.py");
        assert_eq!(clean_file_name(".hidden"), "hidden");
        assert_eq!(clean_file_name("a\r\nb.png"), "a b.png");
        assert_eq!(clean_file_name("what?.txt"), "what_.txt");
    }

    #[test]
    fn message_ids() {
        assert_eq!(clean_message_id(" <abc@x.test> ").as_deref(), Some("<abc@x.test>"));
        assert_eq!(clean_message_id("abc@x.test").as_deref(), Some("<abc@x.test>"));
        assert_eq!(clean_message_id("<a b@x>"), None);
        assert_eq!(clean_message_id("<a\r\nBcc: x@y>"), None);
        assert_eq!(clean_message_id("<>"), None);
        assert_eq!(clean_message_id(&"x".repeat(300)), None);
    }

    #[test]
    fn addresses() {
        assert_eq!(normalize_address(" Alice@Example.COM ").as_deref(), Some("alice@example.com"));
        assert_eq!(normalize_address("no-at-sign"), None);
        assert_eq!(normalize_address("a@b\r\nBcc: c@d.e"), None);
        assert_eq!(normalize_address("a b@c.d"), None);
        assert_eq!(normalize_address("user@nodot"), None);
    }

    #[test]
    fn subjects_and_tags() {
        assert_eq!(base_subject("Re: RE: Fwd: XSS in login", "EX"), "XSS in login");
        assert_eq!(base_subject("[EX-2026-0001] Re: XSS", "EX"), "XSS");
        assert_eq!(base_subject("Re: [ex-2026-0001] XSS [EX-2026-0002]", "EX"), "XSS");
        assert_eq!(base_subject("[OTHER-2026-0001] XSS", "EX"), "[OTHER-2026-0001] XSS");
        assert_eq!(
            find_reference_tags("Re: [ex-2026-0007] and [EX-2026-0012][EX-2026-0007]", "EX"),
            vec!["EX-2026-0007", "EX-2026-0012"]
        );
        assert!(find_reference_tags("[EX-26-0001] [EX-2026-] [EX-2026-x] [EX-2026-1", "EX").is_empty());
        assert!(find_reference_tags("[EXAMPLE-2026-0001]", "EX").is_empty());
    }

    #[test]
    fn terminal_output_shows_control_characters_instead_of_obeying_them() {
        // A subject that would clear the screen and retitle the terminal, and a bidi override.
        assert_eq!(for_terminal_line("a\x1b[2Jb\x07\u{202E}c"), "a\\u{1b}[2Jb\\u{7}\\u{202e}c");
        assert_eq!(for_terminal("line one\n\tindented\rover"), "line one\n\tindented\\u{d}over");
        assert_eq!(for_terminal_line("one\ntwo"), "one\\u{a}two");
        assert!(matches!(for_terminal("plain text"), std::borrow::Cow::Borrowed(_)));
    }
}
