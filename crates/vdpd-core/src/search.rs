//! Finding a report's duplicates by what it says: the words of a ticket that go into the store's full-text
//! index (SQLite FTS5), and the query that asks the index for the tickets closest to it.
//!
//! The index does the ranking (BM25, with the short, telling columns — title, asset, weakness — weighted
//! above the report's text); this module only chooses *which* words to ask for. A report is thousands of
//! words, and an FTS5 query of thousands of alternatives is slow and dominated by filler, so the query is
//! the report's most telling words: every word of its title, asset and weakness, then the words of its text
//! that it uses most, without the words every report uses ("the", "vulnerability", "please"). Pure code.

use std::collections::HashMap;

/// The words of a ticket as the index holds them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Document {
    pub title: String,
    pub asset: String,
    pub weakness: String,
    /// The report's own words: its first mail and the form's descriptive sections.
    pub description: String,
    /// The published advisory's title and summary, when there is one.
    pub advisory: String,
}

/// At most this many words of the report go into the index: enough for any real report, and an attached log
/// pasted into the mail does not make the index (and every query over it) large.
pub const DESCRIPTION_MAX_BYTES: usize = 32 * 1024;

/// At most this many words are asked for: the cost of a query grows with its alternatives.
pub const QUERY_TERMS: usize = 48;

/// The column weights of the ranking (title, asset, weakness, description, advisory), in the order of the
/// index's columns: the short fields name the flaw; the text, long and free, counts less per word.
pub const WEIGHTS: [f64; 5] = [3.0, 4.0, 3.0, 1.0, 1.5];

impl Document {
    /// The FTS5 query for the documents like this one: its telling words, each quoted, joined by `OR`.
    /// `None` when it has none (an empty, purged ticket).
    pub fn query(&self) -> Option<String> {
        query_of(&self.terms())
    }

    /// The words [`Document::query`] asks for, in its order.
    pub fn terms(&self) -> Vec<String> {
        let mut terms: Vec<String> = Vec::new();
        // Every word of the short fields, in order: they name the flaw.
        for field in [&self.title, &self.asset, &self.weakness] {
            for w in words(field) {
                if !terms.contains(&w) {
                    terms.push(w);
                }
            }
        }
        // Then the text's words, the most used first (ties: first used first).
        let mut counts: HashMap<String, (usize, usize)> = HashMap::new();
        for (i, w) in words(&self.description).chain(words(&self.advisory)).enumerate() {
            counts.entry(w).or_insert((0, i)).0 += 1;
        }
        let mut by_use: Vec<(String, (usize, usize))> = counts.into_iter().collect();
        by_use.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.1.1.cmp(&b.1.1)));
        for (w, _) in by_use {
            if terms.len() >= QUERY_TERMS {
                break;
            }
            if !terms.contains(&w) {
                terms.push(w);
            }
        }
        terms.truncate(QUERY_TERMS);
        terms
    }
}

/// The FTS5 query asking for any of `terms` (words of [`Document::terms`]). Words are letters and digits
/// only, so quoting needs no escaping; quoted, no word is an FTS5 operator ("OR", "NEAR") or a column filter.
pub fn query_of<S: AsRef<str>>(terms: &[S]) -> Option<String> {
    (!terms.is_empty()).then(|| terms.iter().map(|t| format!("\"{}\"", t.as_ref())).collect::<Vec<_>>().join(" OR "))
}

/// Whether a word found in `df` of `n` rows can still rank anything: BM25 weighs it by
/// log((n - df + 0.5) / (df + 0.5)), which FTS5 counts as nothing once it is zero or less — a word in half
/// the rows or more. Asking for such a word costs a ranked row for every ticket that has it and changes no
/// ranking, so it is left out.
pub fn ranks(df: i64, n: i64) -> bool {
    2 * df < n
}

/// What [`ranks`] says of a word counted in `df` rows some `changes` writes of the index ago, when the
/// index now has `n` rows: each write replaces one row, so the count now is within `changes` of `df`.
/// `Some` when every count in that range gives the same answer (which is then the exact one), `None` when
/// the word must be counted again.
pub fn ranks_surely(df: i64, changes: i64, n: i64) -> Option<bool> {
    let changes = changes.max(0);
    // `ranks` falls as the count rises: the range's two ends agreeing is every count in it agreeing.
    let most = ranks(df.saturating_add(changes), n);
    let fewest = ranks(df.saturating_sub(changes).max(0), n);
    (most == fewest).then_some(most)
}

/// A similarity in percent: how a candidate's rank compares with the report's own (a report matched against
/// the index ranks itself best). BM25 ranks are negative, better is lower.
pub fn percent(candidate: f64, itself: f64) -> u8 {
    if !(itself < 0.0 && candidate.is_finite()) {
        return 0;
    }
    (100.0 * candidate / itself).round().clamp(0.0, 100.0) as u8
}

/// The report's words: lower case, letters and digits, at least two characters (so "79" of CWE-79 counts),
/// without the words every report and every mail uses.
fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        // Lower case may add a mark that is neither letter nor digit ('İ' becomes 'i' and U+0307): it goes,
        // so that a word stays letters and digits only.
        .map(|w| w.to_lowercase().chars().filter(|c| c.is_alphanumeric()).collect::<String>())
        .filter(|w| w.chars().count() >= 2 && w.chars().count() <= 40)
        .filter(|w| !STOP.contains(&w.as_str()) && !w.chars().all(|c| c.is_ascii_digit() && w.len() > 6))
}

/// Words too common in reports and mail to tell one report from another, in the languages researchers
/// write to us in (English, French, German, Spanish).
const STOP: &[&str] = &[
    // English
    "a",
    "about",
    "after",
    "all",
    "also",
    "am",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "be",
    "been",
    "before",
    "being",
    "but",
    "by",
    "can",
    "could",
    "did",
    "do",
    "does",
    "dear",
    "for",
    "found",
    "from",
    "get",
    "had",
    "has",
    "have",
    "hello",
    "hi",
    "how",
    "if",
    "in",
    "into",
    "is",
    "it",
    "its",
    "just",
    "let",
    "me",
    "more",
    "my",
    "no",
    "not",
    "of",
    "on",
    "one",
    "or",
    "our",
    "please",
    "regards",
    "report",
    "reporting",
    "so",
    "some",
    "such",
    "team",
    "than",
    "thank",
    "thanks",
    "that",
    "the",
    "their",
    "them",
    "then",
    "there",
    "these",
    "they",
    "this",
    "to",
    "up",
    "us",
    "was",
    "we",
    "were",
    "what",
    "when",
    "which",
    "while",
    "who",
    "will",
    "with",
    "would",
    "you",
    "your",
    "security",
    "vulnerability",
    "vulnerabilities",
    "issue",
    "best",
    "kind",
    "like",
    "know",
    "http",
    "https",
    "www",
    "com",
    // French
    "au",
    "aux",
    "avec",
    "bonjour",
    "ce",
    "cette",
    "dans",
    "de",
    "des",
    "du",
    "elle",
    "en",
    "est",
    "et",
    "il",
    "je",
    "la",
    "le",
    "les",
    "merci",
    "mon",
    "ne",
    "nous",
    "par",
    "pas",
    "pour",
    "qui",
    "que",
    "sur",
    "un",
    "une",
    "vous",
    "votre",
    "vulnérabilité",
    "cordialement",
    // German
    "auf",
    "das",
    "dem",
    "den",
    "der",
    "die",
    "ein",
    "eine",
    "für",
    "ich",
    "ist",
    "mit",
    "nicht",
    "sie",
    "und",
    "von",
    "wir",
    "zu",
    "grüße",
    // Spanish
    "el",
    "es",
    "hola",
    "los",
    "las",
    "por",
    "se",
    "su",
    "gracias",
    "saludos",
    "del",
    "con",
    "para",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_asks_for_the_short_fields_then_the_texts_most_used_words() {
        let d = Document {
            title: "Stored XSS in comments".into(),
            asset: "https://dashboard.mykonci.com/comments".into(),
            weakness: "CWE-79".into(),
            description: "Hello team, the comment field stores script. The script runs for every viewer of the \
                          comment; script script."
                .into(),
            advisory: String::new(),
        };
        let q = d.query().unwrap();
        assert!(q.starts_with("\"stored\" OR \"xss\" OR \"comments\" OR \"dashboard\" OR \"mykonci\""), "{q}");
        assert!(q.contains("\"cwe\" OR \"79\""), "{q}");
        // "script" (4 times) before "comment" (twice) before "viewer" (once); no filler.
        let (s, c, v) = (q.find("\"script\"").unwrap(), q.find("\"comment\"").unwrap(), q.find("\"viewer\"").unwrap());
        assert!(s < c && c < v, "{q}");
        for filler in ["\"the\"", "\"hello\"", "\"team\"", "\"https\"", "\"com\""] {
            assert!(!q.contains(filler), "{filler} in {q}");
        }
    }

    #[test]
    fn a_long_report_asks_for_at_most_the_query_terms_and_an_empty_one_for_nothing() {
        let description: String = (0..1000).map(|i| format!("word{i} ")).collect();
        let d = Document { description, ..Document::default() };
        assert_eq!(d.query().unwrap().matches(" OR ").count(), QUERY_TERMS - 1);
        assert_eq!(Document::default().query(), None);
        let d = Document { description: "the and of, to! 12345678901".into(), ..Document::default() };
        assert_eq!(d.query(), None, "nothing but filler and a long number");
    }

    #[test]
    fn hostile_words_are_quoted_and_fts5_operators_are_only_words() {
        let d = Document { title: "NEAR(\"a\" OR b) title:x * ^ - AND NOT".into(), ..Document::default() };
        let q = d.query().unwrap();
        assert_eq!(q, "\"near\" OR \"title\"", "{q}");
    }

    /// Found by the `form` fuzz target (fuzz/regressions/form/): a word whose lower case holds a mark that is
    /// no letter ('İ' lower-cased is 'i' and a combining dot) broke the rule that a query word is letters and
    /// digits only. The mark goes; the word stays.
    #[test]
    fn words_are_letters_and_digits_after_lower_case_too() {
        let d = Document { title: "İstanbul İA ﬃx".into(), ..Document::default() };
        assert_eq!(d.terms(), ["istanbul", "ia", "ﬃx"]);
        let crash = include_bytes!("../../../fuzz/regressions/form/crash-abd8e142c644a58b97c363d7bb64cd57e846dbde");
        let text = String::from_utf8_lossy(crash);
        let d = Document {
            title: text.lines().next().unwrap_or_default().into(),
            description: text.to_string(),
            ..Document::default()
        };
        for t in d.terms() {
            assert!(t.chars().all(char::is_alphanumeric), "{t:?}");
        }
    }

    #[test]
    fn only_words_that_can_rank_are_asked_for() {
        // BM25's weight log((n - df + 0.5) / (df + 0.5)) is positive only below half the rows.
        assert!(ranks(1, 1000) && ranks(499, 1000));
        // A count some writes old decides only when no count it may have become would decide otherwise.
        for n in 1..40 {
            for df in 0..=n {
                for changes in 0..12 {
                    let possible: Vec<bool> =
                        (df - changes..=df + changes).filter(|d| *d >= 0).map(|d| ranks(d, n)).collect();
                    let same = possible.iter().all(|r| *r == possible[0]);
                    assert_eq!(ranks_surely(df, changes, n), same.then_some(possible[0]), "{df} {changes} {n}");
                }
            }
        }
        assert_eq!(ranks_surely(1, 100, 1200), Some(true));
        assert_eq!(ranks_surely(1000, 400, 1200), Some(false));
        assert_eq!(ranks_surely(1000, 401, 1200), None);
        assert!(!ranks(500, 1000) && !ranks(1000, 1000));
        assert_eq!(query_of(&["xss", "79"]).as_deref(), Some("\"xss\" OR \"79\""));
        assert_eq!(query_of::<&str>(&[]), None);
    }

    #[test]
    fn percent_compares_with_the_report_itself() {
        assert_eq!(percent(-5.0, -10.0), 50);
        assert_eq!(percent(-12.0, -10.0), 100, "never above the report itself");
        assert_eq!(percent(-1.0, 0.0), 0);
        assert_eq!(percent(f64::NAN, -1.0), 0);
    }
}
