//! Reading a report written in prose: what researchers send when a policy asks for "everything in the first
//! mail" and they answer in their own words rather than in `Section: value` lines.
//!
//! [`read`] runs after the labelled reader ([`super::parse`]) and looks only for the sections it did not
//! find. Each section has a *role*, from its kind (asset, weakness, severity, e-mail, credit) or, for a text
//! section, from the words of its name and aliases ("Steps to reproduce" → steps). Every value found says
//! where it came from ([`Understood::from`]), so that the researcher can be shown what was understood and
//! correct it, and staff can tell a value the researcher labelled from one vdpd inferred.
//!
//! The reader is deliberately cautious where a wrong guess costs something: a description needs a real
//! paragraph, severity words count only next to a word like "severity", and whether a flaw is exploited is
//! never inferred ("no evidence that this is exploited in the wild" must not start the CRA's clocks). The
//! free text of a *reply* gives only what it names precisely (an address, a CWE or class name, a vector, a
//! numbered list under a heading): a line of thanks is no description. Pure code.

use crate::config::{FormSection, Scope, SectionKind};
use crate::hints::asset_host;
use crate::mailtext;

use super::Parsed;

/// The mail around the text, as far as the reader uses it.
#[derive(Debug, Clone, Copy)]
pub struct Letter<'a> {
    /// The mail opens the report (its subject is the report's title; its prose the description).
    pub opening: bool,
    pub subject: &'a str,
    /// The sender's address and display name: the contact of last resort.
    pub sender: &'a str,
    pub sender_name: &'a str,
    /// The policy's scope: which of the hosts a report names is the asset.
    pub scope: &'a Scope,
    /// Addresses that are not an asset however often they appear (the policy page).
    pub ignore_urls: &'a [&'a str],
}

/// A section's value read from prose, and from what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Understood {
    pub section: String,
    pub value: String,
    /// Where it came from, in words a researcher understands ("the subject", "\"stored XSS\"").
    pub from: String,
}

/// What a text section is for, from the words of its name and aliases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Title,
    Description,
    Steps,
    Impact,
    ProofOfConcept,
    Contact,
    ContactName,
    /// A text section this reader does not fill (a company name, a section of the admin's own).
    Other,
}

fn role(s: &FormSection) -> Role {
    let words: Vec<String> = std::iter::once(&s.name).chain(&s.aliases).map(|l| super::normalise_label(l)).collect();
    let any = |keys: &[&str]| words.iter().any(|w| keys.iter().any(|k| w.contains(k)));
    // Contact sections go by their own name: "Contact" with the alias "Name" is the contact details.
    let name = |keys: &[&str]| keys.iter().any(|k| words[0].contains(k));
    // A reproducer is code that runs, not a list of steps: a fenced block, never a numbered list.
    if name(&["reproducer", "repro script", "reproduction script"]) {
        Role::ProofOfConcept
    } else if name(&["ai tool", "ai use", "verified", "verification"]) {
        // What only the researcher can say (see `ReportForm::optional_section`).
        Role::Other
    } else if any(&["step", "reproduc"]) {
        Role::Steps
    } else if any(&["impact"]) {
        Role::Impact
    } else if any(&["proof", "poc", "exploit code"]) {
        Role::ProofOfConcept
    } else if name(&["company", "organisation", "organization", "employer"]) {
        Role::Other
    } else if name(&["name"]) {
        Role::ContactName
    } else if name(&["contact"]) {
        Role::Contact
    } else if any(&["title", "subject"]) {
        Role::Title
    } else if any(&["description", "details", "vulnerability", "summary"]) {
        Role::Description
    } else {
        Role::Other
    }
}

/// Whether a text section tells what the flaw is (its description, steps, impact, proof of concept) rather
/// than who reported it: what duplicate search reads of the form ([`crate::search`]).
pub fn describes_the_flaw(s: &FormSection) -> bool {
    s.kind == SectionKind::Text
        && matches!(role(s), Role::Description | Role::Steps | Role::Impact | Role::ProofOfConcept)
}

/// The fewest words a paragraph needs to count as a report's description.
const DESCRIPTION_MIN_WORDS: usize = 12;

/// Reads, from `text`, the sections of `sections` that `found` lacks.
pub fn read(text: &str, letter: &Letter<'_>, sections: &[FormSection], found: &Parsed) -> Vec<Understood> {
    let doc = Doc::new(text);
    let mut out = Vec::new();
    for s in sections {
        if found.get(&s.name).is_some() || found.problems.iter().any(|(n, _)| *n == s.name) {
            continue;
        }
        let got = match s.kind {
            SectionKind::Asset => asset(&doc, letter),
            SectionKind::Weakness => weakness(&doc.body, letter.opening.then_some(letter.subject)),
            SectionKind::Severity => severity(&doc.body),
            SectionKind::Email => contact_email(&doc, letter),
            SectionKind::Credit => credit(&doc.body),
            // Never inferred: see the module's comment.
            SectionKind::Exploited => None,
            SectionKind::Text => match role(s) {
                Role::Title if letter.opening => title(letter.subject),
                Role::Description if letter.opening => description(&doc, found),
                Role::Steps => steps(&doc, letter.opening),
                Role::Impact => impact(&doc, letter.opening),
                Role::ProofOfConcept => proof_of_concept(&doc),
                Role::Contact if letter.opening => contact(&doc, letter),
                Role::ContactName if letter.opening => contact_name(&doc, letter),
                _ => None,
            },
        };
        if let Some((value, from)) = got {
            out.push(Understood { section: s.name.clone(), value, from });
        }
    }
    out
}

/// A mail's own text, split: the body (without quoted lines, the attribution above them and the greeting),
/// its paragraphs, and the signature block.
struct Doc {
    body: String,
    /// Paragraphs of the body: runs of non-blank lines.
    paragraphs: Vec<Vec<String>>,
    signature: Vec<String>,
}

const VALEDICTIONS: [&str; 24] = [
    "regards",
    "best regards",
    "kind regards",
    "warm regards",
    "best",
    "thanks",
    "thank you",
    "many thanks",
    "cheers",
    "sincerely",
    "yours sincerely",
    "yours",
    "cordialement",
    "bien cordialement",
    "merci",
    "bien à vous",
    "mit freundlichen grüßen",
    "viele grüße",
    "grüße",
    "gruß",
    "saludos",
    "un saludo",
    "atentamente",
    "thanks in advance",
];

fn is_valediction(line: &str) -> bool {
    let l = line.trim().trim_end_matches([',', '!', '.']).to_lowercase();
    VALEDICTIONS.contains(&l.as_str())
}

fn is_greeting(line: &str) -> bool {
    let l = line.trim().to_lowercase();
    let words = l.split_whitespace().count();
    // "Hi, I found …" is the report itself, not a greeting.
    (words <= 2 || l.ends_with([',', '!']))
        && words <= 5
        && ["hi", "hello", "dear", "hey", "greetings", "good morning", "good afternoon", "bonjour", "hallo", "hola"]
            .iter()
            .any(|g| l == *g || l.starts_with(&format!("{g} ")) || l.starts_with(&format!("{g},")))
}

impl Doc {
    fn new(text: &str) -> Doc {
        let mut lines: Vec<String> = Vec::new();
        let mut signature: Vec<String> = Vec::new();
        let mut in_signature = false;
        for raw in text.lines() {
            let line = raw.trim_end();
            if in_signature {
                if !line.trim().is_empty() {
                    signature.push(line.trim().to_string());
                }
                continue;
            }
            if line == "--" || line == "-- " || line.starts_with("-----Original Message") {
                in_signature = true;
                continue;
            }
            if line.trim_start().starts_with('>') {
                continue;
            }
            lines.push(line.to_string());
        }
        // The attribution of a quote that was removed ("On Monday, … wrote:").
        lines.retain(|l| {
            let t = l.trim();
            !(t.ends_with("wrote:") || t.ends_with("a écrit :") || t.ends_with("schrieb:") || t.ends_with("escribió:"))
        });
        // A valediction near the end: what follows is the signature (when no "-- " line said so).
        let last_lines = lines.iter().enumerate().rev().filter(|(_, l)| !l.trim().is_empty()).take(8);
        if let Some(i) = last_lines.map(|(i, _)| i).find(|i| is_valediction(&lines[*i])) {
            let tail: Vec<String> =
                lines.drain(i..).skip(1).filter(|l| !l.trim().is_empty()).map(|l| l.trim().to_string()).collect();
            signature.splice(0..0, tail);
        }
        if let Some(first) = lines.iter().position(|l| !l.trim().is_empty())
            && is_greeting(&lines[first])
        {
            lines.remove(first);
        }
        signature.truncate(8);
        let mut paragraphs = Vec::new();
        let mut current: Vec<String> = Vec::new();
        for l in &lines {
            if l.trim().is_empty() {
                if !current.is_empty() {
                    paragraphs.push(std::mem::take(&mut current));
                }
            } else {
                current.push(l.clone());
            }
        }
        if !current.is_empty() {
            paragraphs.push(current);
        }
        let body = lines.join("\n").trim_matches('\n').to_string();
        Doc { body, paragraphs, signature }
    }

    /// The text under the first heading-like line (a short line, possibly ending in a colon) that contains
    /// one of `keys`: what follows it on its line, then the lines after it up to the next blank line that is
    /// not inside a list.
    fn under_heading(&self, keys: &[&str]) -> Option<String> {
        let lines: Vec<&str> = self.body.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let t = line.trim().trim_start_matches(['#', '*', '_', ' ']);
            let (head, rest) = match t.find([':', '：']) {
                Some(c) => (&t[..c], t[c..].trim_start_matches([':', '：']).trim()),
                None => (t, ""),
            };
            let head_l = head.to_lowercase().replace(['*', '_'], "");
            if head_l.split_whitespace().count() > 6 || rest.is_empty() && t.ends_with('.') {
                continue;
            }
            if !keys.iter().any(|k| has_words(&head_l, k)) {
                continue;
            }
            let mut value: Vec<String> = if rest.is_empty() { Vec::new() } else { vec![rest.to_string()] };
            for (j, l) in lines.iter().enumerate().skip(i + 1) {
                if l.trim().is_empty() {
                    // Blank lines right under the heading belong to it; later, a blank line ends the section
                    // unless a list goes on after it.
                    if value.is_empty() {
                        continue;
                    }
                    let next = lines[j + 1..].iter().find(|l| !l.trim().is_empty());
                    let in_list = value.iter().any(|v| list_item(v).is_some());
                    if !(in_list && next.is_some_and(|n| list_item(n).is_some())) {
                        break;
                    }
                } else if is_heading_like(l) {
                    break;
                }
                value.push(l.trim_end().to_string());
            }
            let value = value.join("\n").trim().to_string();
            if !value.is_empty() {
                return Some(value);
            }
        }
        None
    }
}

/// A line that opens a part of its own: `## …`, `**…**`, or a short `Word:` line with nothing after it.
fn is_heading_like(line: &str) -> bool {
    let t = line.trim();
    t.starts_with('#')
        || (t.starts_with("**") && t.ends_with("**") && t.len() > 4)
        || (t.ends_with(':') && t.split_whitespace().count() <= 3 && list_item(t).is_none())
}

/// The number of a numbered list item ("1.", "2)", "Step 3:"), or 0 for a bullet.
fn list_item(line: &str) -> Option<u32> {
    let t = line.trim_start();
    let lower = t.to_lowercase();
    let after_step = lower.strip_prefix("step ").or_else(|| lower.strip_prefix("étape ")).unwrap_or(&lower);
    let digits: String = after_step.chars().take_while(char::is_ascii_digit).collect();
    if !digits.is_empty() {
        let rest = &after_step[digits.len()..];
        if rest.starts_with(['.', ')', ':']) || (after_step.len() != lower.len() && rest.starts_with(' ')) {
            return digits.parse().ok();
        }
    }
    (t.starts_with("- ") || t.starts_with("* ") || t.starts_with("• ")).then_some(0)
}

/// Whether `text` (lower case) holds `phrase` as whole words.
fn has_words(text: &str, phrase: &str) -> bool {
    text.match_indices(phrase).any(|(i, _)| {
        let before = text[..i].chars().next_back().is_none_or(|c| !c.is_alphanumeric());
        let after = text[i + phrase.len()..].chars().next().is_none_or(|c| !c.is_alphanumeric());
        before && after
    })
}

fn title(subject: &str) -> Option<(String, String)> {
    let t = mailtext::clean_header_text(subject, 200);
    // The caller gives the subject without reply markers and reference tags (`mailtext::base_subject`).
    let t = t.trim();
    (t.split_whitespace().count() >= 2).then(|| (t.to_string(), "the subject".into()))
}

fn description(doc: &Doc, found: &Parsed) -> Option<(String, String)> {
    let words = |s: &str| s.split_whitespace().filter(|w| w.chars().any(char::is_alphabetic)).count();
    // A mail that fills in part of the form: the text above its first section, if it says enough.
    if found.attempted() {
        let lead = Doc::new(&found.lead).body;
        return (words(&lead) >= DESCRIPTION_MIN_WORDS).then(|| (lead, "the text above the sections".into()));
    }
    // Prose: the text before the first part with a heading of its own, or all of it.
    let mut lead: Vec<&str> = Vec::new();
    for l in doc.body.lines() {
        if !lead.is_empty() && (is_heading_like(l) || list_item(l).is_some_and(|n| n > 0)) {
            break;
        }
        lead.push(l);
    }
    let lead = lead.join("\n").trim().to_string();
    if words(&lead) >= DESCRIPTION_MIN_WORDS {
        return Some((lead, "the text".into()));
    }
    (words(&doc.body) >= DESCRIPTION_MIN_WORDS * 2).then(|| (doc.body.clone(), "the text".into()))
}

const STEP_HEADINGS: [&str; 14] = [
    "steps",
    "to reproduce",
    "reproduce",
    "reproduction",
    "how to reproduce",
    "repro",
    "étapes",
    "reproduire",
    "reproduction steps",
    "schritte",
    "reproduzieren",
    "pasos",
    "reproducir",
    "steps to reproduce",
];

fn steps(doc: &Doc, opening: bool) -> Option<(String, String)> {
    if let Some(v) = doc.under_heading(&STEP_HEADINGS) {
        return Some((v, "the steps in the text".into()));
    }
    // In a reply, a numbered list may answer anything.
    if !opening {
        return None;
    }
    // The first numbered list of at least two items.
    let lines: Vec<&str> = doc.body.lines().collect();
    let start = lines.iter().position(|l| list_item(l) == Some(1))?;
    let mut end = start;
    let mut items = 0;
    for (j, l) in lines.iter().enumerate().skip(start) {
        match list_item(l) {
            Some(n) if n > 0 => {
                items += 1;
                end = j;
            }
            // A line that carries on an item (indented, or right below one).
            _ if !l.trim().is_empty() && (l.starts_with([' ', '\t']) || j == end + 1) => end = j,
            _ if l.trim().is_empty() => {}
            _ => break,
        }
    }
    (items >= 2).then(|| (lines[start..=end].join("\n").trim().to_string(), "the numbered list in the text".into()))
}

const IMPACT_HEADINGS: [&str; 6] =
    ["impact", "potential impact", "conséquences", "auswirkung", "auswirkungen", "impacto"];
const IMPACT_PHRASES: [&str; 14] = [
    "attacker can",
    "attacker could",
    "attacker may",
    "attacker might",
    "attacker is able",
    "attacker would",
    "attackers can",
    "attackers could",
    "allows an attacker",
    "allow an attacker",
    "could allow",
    "un attaquant peut",
    "angreifer kann",
    "un atacante puede",
];

fn impact(doc: &Doc, opening: bool) -> Option<(String, String)> {
    if let Some(v) = doc.under_heading(&IMPACT_HEADINGS) {
        return Some((v, "the impact described".into()));
    }
    if !opening {
        return None;
    }
    doc.paragraphs
        .iter()
        .map(|p| p.join("\n"))
        .find(|p| {
            let l = p.to_lowercase();
            IMPACT_PHRASES.iter().any(|w| l.contains(w)) || has_words(&l, "impact")
        })
        .map(|p| (p.trim().to_string(), "the paragraph on what an attacker can do".into()))
}

fn proof_of_concept(doc: &Doc) -> Option<(String, String)> {
    if let Some(v) = doc.under_heading(&["proof of concept", "poc", "exploit", "payload", "preuve de concept"]) {
        return Some((v, "the proof of concept in the text".into()));
    }
    // A fenced code block.
    let body = &doc.body;
    let start = body.find("```")?;
    let after = &body[start + 3..];
    let end = after.find("```")?;
    let code = after[..end].split_once('\n').map_or("", |(_, c)| c).trim();
    (!code.is_empty()).then(|| (code.to_string(), "the code block in the text".into()))
}

/// Every URL in a text, in order, without the punctuation that ends a sentence around it.
fn urls(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for token in text.split(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '\'' | '(' | ')' | '[' | ']'))
    {
        let lower = token.to_ascii_lowercase();
        if let Some(i) = lower.find("http://").or_else(|| lower.find("https://")) {
            let url = token[i..].trim_end_matches(['.', ',', ';', ':', '!', '?']);
            if url.len() > "https://".len() && asset_host(url).is_some() && !out.iter().any(|u| u == url) {
                out.push(url.to_string());
            }
        }
    }
    out
}

/// The top-level domains a bare host name is taken with (beside two-letter country codes): code is full of
/// `document.domain` and `user.name`, which a looser rule takes for hosts.
const TLDS: [&str; 30] = [
    "com", "net", "org", "io", "dev", "app", "info", "biz", "cloud", "ai", "tech", "online", "site", "xyz", "gov",
    "edu", "mil", "int", "eu", "shop", "store", "blog", "page", "tools", "systems", "services", "software", "test",
    "example", "internal",
];

/// Two letters that are a country's domain and, far more often in a report, a file's or a field's suffix.
const NOT_A_TLD: [&str; 10] = ["id", "js", "py", "rs", "sh", "md", "cs", "ts", "rb", "pm"];

/// Every bare host name in a text ("api.example.com"), not inside a URL or an e-mail address.
fn hosts(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for token in text.split(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '\'' | '(' | ')' | ',' | ';'))
    {
        if token.contains("://") || token.contains('@') {
            continue;
        }
        let t = token.trim_matches(['.', ':', '!', '?', '`', '*']).to_ascii_lowercase();
        let host = t.split('/').next().unwrap_or("");
        let labels: Vec<&str> = host.split('.').collect();
        let tld = labels.last().copied().unwrap_or("");
        let ok = labels.len() >= 2
            && labels.iter().all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
            && (TLDS.contains(&tld)
                || (tld.len() == 2 && tld.bytes().all(|b| b.is_ascii_alphabetic()) && !NOT_A_TLD.contains(&tld)));
        if ok && !out.iter().any(|h| h == host) {
            out.push(host.to_string());
        }
    }
    out
}

fn in_scope_domain(host: &str, scope: &Scope) -> bool {
    scope.domains.iter().any(|d| host == d || host.ends_with(&format!(".{d}")))
}

/// The asset: the URLs and host names the report names, those under the scope first, then a named asset of
/// the scope; the first line is what scope checks and duplicates use.
fn asset(doc: &Doc, letter: &Letter<'_>) -> Option<(String, String)> {
    let text = &doc.body;
    let ignored = |u: &str| letter.ignore_urls.iter().any(|i| u.trim_end_matches('/') == i.trim_end_matches('/'));
    let mut named: Vec<String> = urls(text).into_iter().filter(|u| !ignored(u)).collect();
    for h in hosts(text) {
        if !named.iter().any(|u| asset_host(u).as_deref() == Some(h.as_str())) {
            named.push(h);
        }
    }
    let in_scope = |n: &String| asset_host(n).is_some_and(|h| in_scope_domain(&h, letter.scope));
    named.sort_by_key(|n| !in_scope(n));
    // A reply's links are often something else (a PoC on GitHub): only in-scope ones name the asset.
    if !letter.opening {
        named.retain(in_scope);
    }
    named.truncate(5);
    if !named.is_empty() {
        return Some((named.join("\n"), "the addresses in the text".into()));
    }
    let lower = text.to_lowercase();
    let mut assets: Vec<&String> = letter.scope.assets.iter().collect();
    assets.sort_by_key(|a| std::cmp::Reverse(a.len()));
    assets
        .into_iter()
        .find(|a| has_words(&lower, &a.to_lowercase()))
        .map(|a| (a.clone(), format!("\"{a}\" in the text")))
}

/// Common names of weakness classes, with their CWE: what researchers write instead of the number. Longer
/// names come before the shorter ones they contain.
const CLASSES: [(&str, u32); 60] = [
    ("stored cross-site scripting", 79),
    ("reflected cross-site scripting", 79),
    ("dom-based cross-site scripting", 79),
    ("cross-site scripting", 79),
    ("cross site scripting", 79),
    ("stored xss", 79),
    ("reflected xss", 79),
    ("dom xss", 79),
    ("xss", 79),
    ("cross-site request forgery", 352),
    ("cross site request forgery", 352),
    ("csrf", 352),
    ("xsrf", 352),
    ("blind sql injection", 89),
    ("sql injection", 89),
    ("sqli", 89),
    ("injection sql", 89),
    ("server-side request forgery", 918),
    ("server side request forgery", 918),
    ("ssrf", 918),
    ("insecure direct object reference", 639),
    ("idor", 639),
    ("remote code execution", 94),
    ("code injection", 94),
    ("rce", 94),
    ("os command injection", 78),
    ("command injection", 78),
    ("path traversal", 22),
    ("directory traversal", 22),
    ("traversée de répertoire", 22),
    ("local file inclusion", 98),
    ("lfi", 98),
    ("xml external entity", 611),
    ("xxe", 611),
    ("open redirect", 601),
    ("unvalidated redirect", 601),
    ("server-side template injection", 1336),
    ("template injection", 1336),
    ("ssti", 1336),
    ("insecure deserialization", 502),
    ("deserialization", 502),
    ("authentication bypass", 287),
    ("auth bypass", 287),
    ("broken access control", 284),
    ("missing authorization", 862),
    ("privilege escalation", 269),
    ("information disclosure", 200),
    ("information leak", 200),
    ("sensitive data exposure", 200),
    ("clickjacking", 1021),
    ("http request smuggling", 444),
    ("request smuggling", 444),
    ("crlf injection", 93),
    ("header injection", 113),
    ("prototype pollution", 1321),
    ("race condition", 362),
    ("use after free", 416),
    ("buffer overflow", 120),
    ("hard-coded credentials", 798),
    ("session fixation", 384),
];

/// The weakness: a `CWE-n` anywhere, else the first class name the text uses.
/// A CWE the text names, else the class the subject of a first mail names (the researcher's own summary:
/// "Stored XSS in comments"), else the first class the text names.
fn weakness(text: &str, subject: Option<&str>) -> Option<(String, String)> {
    if let Some(Ok(id)) = super::cwe(text) {
        return Some((id.clone(), format!("{id} in the text")));
    }
    let subject = subject.unwrap_or_default();
    if let Some(Ok(id)) = super::cwe(subject) {
        return Some((id.clone(), format!("{id} in the subject")));
    }
    class_in(subject, "the subject").or_else(|| class_in(text, "the text"))
}

fn class_in(text: &str, place: &str) -> Option<(String, String)> {
    let lower = text.to_lowercase();
    CLASSES
        .iter()
        .filter_map(|(name, id)| {
            lower.match_indices(name).find(|(i, _)| word_at(&lower, *i, name.len())).map(|(i, _)| (i, *name, *id))
        })
        // The earliest mention; at one place, the longest name.
        .min_by_key(|(i, name, _)| (*i, std::cmp::Reverse(name.len())))
        .map(|(_, name, id)| (format!("CWE-{id}"), format!("\"{name}\" in {place}")))
}

/// Whether `len` bytes at `i` of `text` stand as whole words.
fn word_at(text: &str, i: usize, len: usize) -> bool {
    let before = text[..i].chars().next_back().is_none_or(|c| !c.is_alphanumeric());
    let after = text[i + len..].chars().next().is_none_or(|c| !c.is_alphanumeric());
    before && after
}

const SEVERITY_WORDS: [&str; 12] = [
    "severity",
    "criticality",
    "risk",
    "sévérité",
    "criticité",
    "gravité",
    "schweregrad",
    "kritikalität",
    "risiko",
    "severidad",
    "gravedad",
    "riesgo",
];

/// Band words, in English and the languages vdpd reads, with the English band.
const BANDS: [(&str, &str); 22] = [
    ("critical", "critical"),
    ("high", "high"),
    ("medium", "medium"),
    ("moderate", "medium"),
    ("low", "low"),
    ("critique", "critical"),
    ("élevée", "high"),
    ("élevé", "high"),
    ("haute", "high"),
    ("moyenne", "medium"),
    ("faible", "low"),
    ("kritisch", "critical"),
    ("hoch", "high"),
    ("mittel", "medium"),
    ("niedrig", "low"),
    ("crítica", "critical"),
    ("crítico", "critical"),
    ("alta", "high"),
    ("alto", "high"),
    ("media", "medium"),
    ("baja", "low"),
    ("bajo", "low"),
];

/// The severity: a CVSS vector anywhere (it parses, or it is not taken); else a band word within three words
/// of "severity" (or "risk", "criticality"); else a CVSS score next to "CVSS".
fn severity(text: &str) -> Option<(String, String)> {
    if text.contains("CVSS:") {
        let scored = super::severity(text).ok()?;
        let vector = scored.vector?;
        return Some((vector.clone(), "the CVSS vector in the text".into()));
    }
    let lower = text.to_lowercase();
    let words: Vec<&str> =
        lower.split(|c: char| !(c.is_alphanumeric() || c == '.')).map(|w| w.trim_matches('.')).collect();
    let words: Vec<&str> = words.into_iter().filter(|w| !w.is_empty()).collect();
    for (i, w) in words.iter().enumerate() {
        if SEVERITY_WORDS.contains(w) {
            let from = i.saturating_sub(3);
            let mut near = words[from..(i + 4).min(words.len())].iter().enumerate();
            if let Some((j, band)) =
                near.find_map(|(j, n)| BANDS.iter().find(|(b, _)| b == n).map(|(_, band)| (from + j, band)))
            {
                let quote = words[i.min(j)..=i.max(j)].join(" ");
                return Some(((*band).to_string(), format!("\"{quote}\" in the text")));
            }
        }
        if *w == "cvss" {
            // "CVSS 3.1 base score 7.5": the version is no score.
            let after = &words[i + 1..(i + 6).min(words.len())];
            let score = after
                .iter()
                .enumerate()
                .filter(|(k, n)| !(*k == 0 && matches!(**n, "2.0" | "3.0" | "3.1" | "4.0")))
                .find_map(|(_, n)| n.parse::<f64>().ok());
            if let Some(score) = score.filter(|s| (0.0..=10.0).contains(s) && *s > 0.0) {
                let band = match score {
                    s if s >= 9.0 => "critical",
                    s if s >= 7.0 => "high",
                    s if s >= 4.0 => "medium",
                    _ => "low",
                };
                return Some((band.to_string(), format!("the CVSS score {score:.1} in the text")));
            }
        }
    }
    None
}

fn contact(doc: &Doc, letter: &Letter<'_>) -> Option<(String, String)> {
    if !doc.signature.is_empty() {
        return Some((doc.signature.join("\n"), "the signature".into()));
    }
    let name = mailtext::clean_header_text(letter.sender_name, 100);
    (!name.trim().is_empty()).then(|| (format!("{} <{}>", name.trim(), letter.sender), "the sender".into()))
}

/// A signature line that is a person's name: a few words, no digits or addresses.
fn looks_like_name(line: &str) -> bool {
    let words = line.split_whitespace().count();
    (1..=5).contains(&words) && !line.contains(['@', ':', '/']) && !line.chars().any(|c| c.is_ascii_digit())
}

fn contact_name(doc: &Doc, letter: &Letter<'_>) -> Option<(String, String)> {
    if let Some(first) = doc.signature.first().filter(|l| looks_like_name(l)) {
        return Some((first.clone(), "the signature".into()));
    }
    let name = mailtext::clean_header_text(letter.sender_name, 100);
    (!name.trim().is_empty()).then(|| (name.trim().to_string(), "the sender".into()))
}

/// The contact address: one in the signature, else the address the report came from (where we answer).
fn contact_email(doc: &Doc, letter: &Letter<'_>) -> Option<(String, String)> {
    let in_signature = doc.signature.iter().flat_map(|l| l.split_whitespace()).find_map(|w| {
        let w = w.trim_matches(['<', '>', ',', ';', '(', ')']);
        let w = w.strip_prefix("mailto:").unwrap_or(w);
        w.contains('@').then(|| mailtext::normalize_address(w)).flatten()
    });
    match in_signature {
        Some(a) => Some((a, "the signature".into())),
        None => mailtext::normalize_address(letter.sender).map(|a| (a, "the sender's address".into())),
    }
}

/// A credit preference stated in a sentence: "credit me as …", "please credit …", or a wish to stay anonymous.
fn credit(text: &str) -> Option<(String, String)> {
    let lower = text.to_lowercase();
    for refusal in
        ["no credit", "do not credit", "don't credit", "remain anonymous", "stay anonymous", "no public credit"]
    {
        if has_words(&lower, refusal) {
            return Some(("none".into(), format!("\"{refusal}\" in the text")));
        }
    }
    for lead in ["credit me as ", "credited as ", "credit me under ", "please credit "] {
        // The leads are ASCII: a match in the text itself ends on a character boundary.
        if let Some(i) = find_ascii_ci(text, lead) {
            let after = &text[i + lead.len()..];
            let how = after.lines().next().unwrap_or("").trim().trim_end_matches('!');
            // The full stop ends the sentence, unless it ends an initial ("Sam R.").
            let initial =
                how.strip_suffix('.').is_some_and(|h| h.rsplit(' ').next().is_some_and(|w| w.chars().count() == 1));
            let how = if initial { how } else { how.trim_end_matches('.') }.trim();
            if !how.is_empty() && how.split_whitespace().count() <= 8 {
                return Some((how.to_string(), "the words on credit".into()));
            }
        }
    }
    None
}

/// Where ASCII `needle` first occurs in `hay`, ignoring ASCII case.
fn find_ascii_ci(hay: &str, needle: &str) -> Option<usize> {
    hay.as_bytes().windows(needle.len()).position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

#[cfg(test)]
mod tests;
