//! The report form: which sections a policy asks for, and reading them out of whatever researchers send.
//!
//! Researchers answer from every kind of mail client: `Section: value` lines, values running over several
//! lines, the whole thing quoted (`> `) under our form, HTML turned to text, sections in another order or
//! case, markdown bullets and bold. [`parse`] takes all of that; it knows the sections of the policy (and their
//! aliases) and treats every other `Word:` line as part of the value it is in, so that "Step 1: open the page"
//! stays inside "Steps to reproduce".
//!
//! Three kinds of section get more than text: the severity (CVSS v3.x and v4.0 vectors are parsed and scored;
//! a band word is accepted too), the weakness (`CWE-79`), and the contact e-mail. The asset is kept for scope
//! checks. Pure code: no IO.

use serde::Serialize;

use crate::config::{FormSection, SectionKind, Severity};
use crate::mailtext;

mod prose;
pub use prose::{Letter, Understood, describes_the_flaw, read as read_prose};

/// The longest value kept per section (the raw message keeps everything).
const MAX_VALUE_BYTES: usize = 64 * 1024;

/// What one message said of the form.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parsed {
    /// Sections found, by canonical name, in the order of the policy.
    pub values: Vec<(String, String)>,
    /// Sections present but unusable, with why (e.g. a CVSS vector that does not parse).
    pub problems: Vec<(String, String)>,
    /// Sections of `values` read from the prose rather than a label, with what they were read from.
    pub understood: Vec<(String, String)>,
    /// The text above the first section: a labelled form's introduction.
    pub lead: String,
}

impl Parsed {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// True when the message filled in at least one section by its label: an attempt at the form, as opposed
    /// to a mail that only talks (whatever its prose told).
    pub fn attempted(&self) -> bool {
        self.values.iter().any(|(n, _)| !self.understood.iter().any(|(u, _)| u == n)) || !self.problems.is_empty()
    }

    /// Adds what the prose told of the sections the labels did not give (values that do not check are
    /// dropped: a guess is no answer to correct), keeping `values` in the order of the policy.
    pub fn add_understood(&mut self, understood: Vec<Understood>, sections: &[FormSection]) {
        for u in understood {
            let Some(section) = sections.iter().find(|s| s.name == u.section) else { continue };
            if self.get(&u.section).is_some() {
                continue;
            }
            if let Ok(v) = check(section, &u.value) {
                self.values.push((u.section.clone(), v));
                self.understood.push((u.section, u.from));
            }
        }
        let order = |name: &str| sections.iter().position(|s| s.name == name);
        self.values.sort_by_key(|(n, _)| order(n));
    }

    /// Whether a section's value was read from the prose.
    pub fn is_understood(&self, name: &str) -> bool {
        self.understood.iter().any(|(n, _)| n == name)
    }
}

/// A scored severity.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scored {
    pub band: Severity,
    pub vector: Option<String>,
    pub score: Option<f64>,
}

/// Lower-case, without `*`, markdown emphasis, "(optional)"/"(mandatory)" and extra spaces.
fn normalise_label(s: &str) -> String {
    let s = s.to_lowercase().replace(['*', '_', '`'], " ");
    let s = s.replace("(optional)", " ").replace("(mandatory)", " ").replace("(required)", " ");
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Strips quoting (`>`, `> >`) from the start of a line; says whether there was any.
fn strip_line(line: &str) -> (&str, bool) {
    let mut l = line.trim_end_matches(['\r', ' ', '\t']);
    let mut quoted = false;
    loop {
        let t = l.trim_start();
        if let Some(rest) = t.strip_prefix('>') {
            l = rest;
            quoted = true;
        } else {
            return (t, quoted);
        }
    }
}

/// Whether a line is (a piece of) one of our own hints, echoed back: a quoted line, or one in parentheses,
/// whose text occurs in a hint. Mail clients re-wrap quoted text, so whole-line equality is not enough; and
/// an answer of the researcher's own ("low") must not be mistaken for the hint it happens to occur in.
fn is_hint_line(line: &str, quoted: bool, hints: &[&str]) -> bool {
    let t = line.trim();
    if !(quoted || t.starts_with('(')) {
        return false;
    }
    let t = t.trim_start_matches('(').trim_end_matches(')').trim();
    t.len() >= 8 && hints.iter().any(|h| h.contains(t))
}

fn strip_decoration(l: &str) -> &str {
    let l = l.trim_start_matches(['#', '-', '•', '|', ' ', '\t']);
    // "* Title:" as a bullet, but keep "*" that is part of "Asset*" (handled by normalise_label).
    l.strip_prefix("* ").unwrap_or(l)
}

/// Headings that group sections without being one ("Contact details:" above name and e-mail): they end the
/// section before them.
const GROUP_HEADINGS: [&str; 4] = ["contact details", "contact", "contact information", "report"];

/// Which section a line opens, and the rest of the line after the colon.
fn header<'a>(line: &'a str, labels: &Labels) -> Option<(usize, &'a str)> {
    let l = strip_decoration(line);
    let (label, rest) = match l.find([':', '：']) {
        Some(i) => (&l[..i], l[i..].trim_start_matches([':', '：'])),
        // A heading without a colon ("## Steps to reproduce") opens a section too.
        None => (l, ""),
    };
    if label.len() > 60 {
        return None;
    }
    let wanted = normalise_label(label);
    if wanted.is_empty() {
        return None;
    }
    labels.iter().find(|(_, l)| *l == wanted).map(|(i, _)| (*i, rest.trim()))
}

/// Every label that opens a section (its name and its aliases), normalised once per mail rather than once per
/// line: (section index, label).
type Labels = Vec<(usize, String)>;

fn labels(sections: &[FormSection]) -> Labels {
    let mut out = Vec::new();
    for (i, s) in sections.iter().enumerate() {
        out.push((i, normalise_label(&s.name)));
        out.extend(s.aliases.iter().map(|a| (i, normalise_label(a))));
    }
    out
}

/// Reads the sections of `sections` out of a mail's text.
pub fn parse(text: &str, sections: &[FormSection]) -> Parsed {
    let hints: Vec<&str> = sections.iter().map(|s| s.hint.as_str()).filter(|h| !h.is_empty()).collect();
    let labels = labels(sections);
    let mut found: Vec<Option<String>> = vec![None; sections.len()];
    let mut current: Option<usize> = None;
    let mut lead = String::new();
    let mut opened = false;
    for raw_line in text.lines() {
        let (line, quoted) = strip_line(raw_line);
        // Our own hint lines, echoed back in a quoted form, are not answers.
        if is_hint_line(line, quoted, &hints) {
            continue;
        }
        let label = normalise_label(strip_decoration(line).trim_end_matches([':', '：']));
        if GROUP_HEADINGS.contains(&label.as_str()) {
            current = None;
            continue;
        }
        if let Some((i, rest)) = header(line, &labels) {
            current = Some(i);
            opened = true;
            let slot = found[i].get_or_insert_with(String::new);
            if !slot.is_empty() {
                slot.push('\n');
            }
            slot.push_str(rest);
            continue;
        }
        if !opened && !quoted && lead.len() < MAX_VALUE_BYTES {
            lead.push_str(raw_line);
            lead.push('\n');
        }
        if let Some(i) = current {
            let slot = found[i].get_or_insert_with(String::new);
            if slot.len() < MAX_VALUE_BYTES {
                if !slot.is_empty() || !line.trim().is_empty() {
                    slot.push('\n');
                }
                slot.push_str(line);
            }
        }
    }
    let mut parsed = Parsed { lead, ..Parsed::default() };
    for (section, value) in sections.iter().zip(found) {
        let Some(value) = value else { continue };
        let value = tidy(&value);
        if value.is_empty() || is_placeholder(&value) {
            continue;
        }
        match check(section, &value) {
            Ok(v) => parsed.values.push((section.name.clone(), v)),
            Err(problem) => parsed.problems.push((section.name.clone(), problem)),
        }
    }
    parsed
}

/// Trims blank lines at both ends and a common signature separator at the end.
fn tidy(v: &str) -> String {
    let mut lines: Vec<&str> = v.lines().collect();
    if let Some(sig) = lines.iter().position(|l| *l == "-- " || *l == "--") {
        lines.truncate(sig);
    }
    while lines.first().is_some_and(|l| l.trim().is_empty()) {
        lines.remove(0);
    }
    while lines.last().is_some_and(|l| l.trim().is_empty()) {
        lines.pop();
    }
    let mut out = lines.join("\n");
    if out.len() > MAX_VALUE_BYTES {
        let mut cut = MAX_VALUE_BYTES;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
    }
    out
}

/// A yes or a no to "is it exploited in the wild?": its first word decides (`yes, against a customer`);
/// "unknown" and "not that I know" are a no — only a yes starts a clock.
pub fn exploited(value: &str) -> Result<bool, String> {
    let first: String = value.trim().chars().take_while(|c| c.is_alphabetic() || *c == '\'').collect();
    match first.to_lowercase().as_str() {
        "yes" | "y" | "true" | "exploited" | "actively" | "oui" | "ja" | "sí" | "si" => Ok(true),
        "no" | "n" | "false" | "not" | "unknown" | "none" | "don't" | "dont" | "non" | "nein" => Ok(false),
        _ => Err("answer yes or no".into()),
    }
}

fn is_placeholder(v: &str) -> bool {
    let t = v.trim().trim_matches(['<', '>', '[', ']', '(', ')', '.', ' ']).to_lowercase();
    t.is_empty() || matches!(t.as_str(), "..." | "tbd" | "todo" | "fill in" | "your answer")
}

/// Validates a value for its kind; returns the value to keep (normalised where the kind allows).
fn check(section: &FormSection, value: &str) -> Result<String, String> {
    match section.kind {
        SectionKind::Text | SectionKind::Asset | SectionKind::Credit => Ok(value.to_string()),
        SectionKind::Severity => severity(value).map(|_| value.to_string()),
        SectionKind::Exploited => exploited(value).map(|_| value.to_string()),
        SectionKind::Weakness => match cwe(value) {
            Some(Ok(_)) | None => Ok(value.to_string()),
            Some(Err(e)) => Err(e),
        },
        SectionKind::Email => {
            let first = value.split_whitespace().next().unwrap_or("").trim_matches(['<', '>', ',', ';']);
            mailtext::normalize_address(first)
                .ok_or_else(|| format!("{first:?} is not an e-mail address"))
                .map(|_| value.to_string())
        }
    }
}

/// The severity of a value: from its CVSS vector when it has one (the vector wins over a word), else from a
/// band word. An unparseable vector is an error, not ignored.
pub fn severity(value: &str) -> Result<Scored, String> {
    if let Some(start) = value.find("CVSS:") {
        let vector: String = value[start..]
            .chars()
            .take_while(|c| !c.is_whitespace() && !matches!(c, ')' | ',' | ';' | '"' | '\''))
            .collect();
        let vector = vector.trim_end_matches('.').to_string();
        return match vector.parse::<cvss::Cvss>() {
            Ok(c) => Ok(Scored { band: band_from_cvss(c.severity()), vector: Some(vector), score: Some(c.score()) }),
            Err(e) => Err(format!("the CVSS vector {vector:?} does not parse ({e})")),
        };
    }
    let lower = value.to_lowercase();
    let word = ["critical", "high", "medium", "moderate", "low", "informational", "none"]
        .into_iter()
        .find(|w| lower.split(|c: char| !c.is_alphanumeric()).any(|t| t == *w));
    match word {
        Some("critical") => Ok(Scored { band: Severity::Critical, vector: None, score: None }),
        Some("high") => Ok(Scored { band: Severity::High, vector: None, score: None }),
        Some("medium" | "moderate") => Ok(Scored { band: Severity::Medium, vector: None, score: None }),
        Some(_) => Ok(Scored { band: Severity::Low, vector: None, score: None }),
        None => Err("give a severity (low, medium, high, critical) or a CVSS vector (CVSS:3.1/… or CVSS:4.0/…)".into()),
    }
}

fn band_from_cvss(s: cvss::Severity) -> Severity {
    match s {
        cvss::Severity::Critical => Severity::Critical,
        cvss::Severity::High => Severity::High,
        cvss::Severity::Medium => Severity::Medium,
        cvss::Severity::Low | cvss::Severity::None => Severity::Low,
    }
}

/// The first `CWE-n` of a value: `None` if there is none, an error if it is malformed.
pub fn cwe(value: &str) -> Option<Result<String, String>> {
    // Matched in place, ASCII-insensitively: an upper-cased copy can differ in length ('ſ' becomes 'S', 'ﬀ'
    // becomes "FF"), and an index found in it once cut the original inside a character (found by fuzzing).
    let start = value.as_bytes().windows(3).position(|w| w.eq_ignore_ascii_case(b"CWE"))?;
    let rest = value[start + 3..].trim_start_matches([' ', '-', ':', '_']);
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    Some(match digits.parse::<u32>() {
        // CWE identifiers run from 1 to a little over 1400; leave room for the list to grow.
        Ok(n) if (1..=9999).contains(&n) => Ok(format!("CWE-{n}")),
        _ => Err(format!(
            "{:?} is not a CWE identifier (write it like CWE-79)",
            value[start..].chars().take(20).collect::<String>()
        )),
    })
}

#[cfg(test)]
mod tests;
