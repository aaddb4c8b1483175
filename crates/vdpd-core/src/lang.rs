//! The language a researcher is answered in.
//!
//! A desk has templates in one or more languages (the top of `templates/` in the organisation's own, and a
//! folder per other language, `templates/fr/`); every mail to a researcher is written in the language they
//! wrote in when the desk has templates in it, else in the organisation's. Which one a researcher wrote in is
//! read, in this order, from what their mail declares (`Content-Language`, RFC 3282) and from the text itself
//! (trigram statistics, the [`whatlang`] crate), and remembered per researcher, so that a short "merci" or a
//! later status mail is still in their language. Nothing here is a matter of trust: a forged
//! `Content-Language` can only change the wording of what its sender receives.

use std::fmt;
use std::str::FromStr;

/// A language, as its primary subtag (ISO 639-1 where there is one, else ISO 639-2/3): `en`, `fr`, `de`.
///
/// Regions and scripts (`fr-CA`, `zh-Hant`) are dropped: a desk has one set of templates per language, and a
/// researcher in Québec reads the French ones.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Lang(String);

impl Lang {
    /// The language of the templates vdpd ships at the top of `templates/`.
    pub fn english() -> Lang {
        Lang("en".into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The language's name in itself, for the languages vdpd knows ("français"); the tag otherwise.
    pub fn native_name(&self) -> &str {
        match self.0.as_str() {
            "en" => "English",
            "fr" => "français",
            "de" => "Deutsch",
            "es" => "español",
            "it" => "italiano",
            "nl" => "Nederlands",
            "pt" => "português",
            other => other,
        }
    }

    /// Whether vdpd itself can write durations and dates in this language (English, French, German,
    /// Spanish); in any other, the words it puts into a template (a policy's "7 business days") stay English.
    pub fn has_own_words(&self) -> bool {
        matches!(self.0.as_str(), "en" | "fr" | "de" | "es")
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a language tag was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a language tag: write its primary subtag, e.g. \"en\", \"fr\", \"de\" (BCP 47)")]
pub struct ParseLangError(pub String);

impl FromStr for Lang {
    type Err = ParseLangError;

    /// Reads a BCP 47 tag (`fr`, `fr-CA`, `FR`; `fr_FR` as locales write it) as its primary language.
    fn from_str(s: &str) -> Result<Lang, ParseLangError> {
        let primary = s.trim().split(['-', '_']).next().unwrap_or("");
        // Two or three letters: `i-…` and `x-…` (grandfathered, private use) and `*` are not a language.
        if !(2..=3).contains(&primary.len()) || !primary.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(ParseLangError(s.to_string()));
        }
        Ok(Lang(primary.to_ascii_lowercase()))
    }
}

impl serde::Serialize for Lang {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Lang {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Lang, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

/// How the language of a mail was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Found {
    /// The mail's `Content-Language` named it.
    Declared,
    /// The text read as written in it.
    Detected,
}

impl Found {
    pub fn as_str(self) -> &'static str {
        match self {
            Found::Declared => "content-language",
            Found::Detected => "detected",
        }
    }
}

impl FromStr for Found {
    type Err = ParseLangError;

    fn from_str(s: &str) -> Result<Found, ParseLangError> {
        match s {
            "content-language" => Ok(Found::Declared),
            "detected" => Ok(Found::Detected),
            other => Err(ParseLangError(other.to_string())),
        }
    }
}

/// The languages a `Content-Language` header names, in its order (RFC 3282: a comma-separated list of
/// tags; comments in parentheses are skipped, nonsense is dropped). At most eight.
pub fn declared(header: &str) -> Vec<Lang> {
    let mut depth = 0u32;
    let bare: String = header
        .chars()
        .filter(|&c| {
            match c {
                '(' => depth += 1,
                ')' => depth = depth.saturating_sub(1),
                _ => return depth == 0,
            }
            false
        })
        .collect();
    let mut out: Vec<Lang> = Vec::new();
    for tag in bare.split(',').filter_map(|t| t.parse::<Lang>().ok()) {
        if !out.contains(&tag) {
            out.push(tag);
        }
        if out.len() == 8 {
            break;
        }
    }
    out
}

/// The fewest letters of text the detector judges: below this, trigram statistics guess.
const MIN_LETTERS: usize = 40;
/// The most of a mail the detector reads: the first few paragraphs say it as well as the whole, and the cost
/// grows with the text (about 0.1 ms for 1,600 characters, measured with whatlang 0.18 in a release build).
const MAX_CHARS: usize = 2000;

/// The language `text` is written in, among `among`, if the text says so clearly.
///
/// The detector reads the researcher's own prose only: quoted lines (`>`), OpenPGP armour, fenced code and
/// lines that are a URL or a command are not language (a proof of concept in Python reads as English). It
/// weighs every language it knows, not only the desk's, so that German is not taken for the nearest of
/// English and French; and it answers only when its verdict is reliable.
pub fn detect(text: &str, among: &[Lang]) -> Option<Lang> {
    let prose = prose_of(text);
    if prose.chars().filter(|c| c.is_alphabetic()).count() < MIN_LETTERS {
        return None;
    }
    let info = whatlang::detect(&prose)?;
    if !info.is_reliable() {
        return None;
    }
    let found = from_whatlang(info.lang())?;
    among.contains(&found).then_some(found)
}

/// The language of a mail among the desk's `available` ones, and how it was found: what `Content-Language`
/// declares (the first of its tags the desk has), else what the text reads as. A mail that declares only
/// languages the desk lacks is not second-guessed by the detector (`None`: answer in the desk's own). A desk
/// with one language has nothing to choose: `None` at once, the text unread.
pub fn of_mail(content_language: Option<&str>, text: &str, available: &[Lang]) -> Option<(Lang, Found)> {
    if available.len() < 2 {
        return None;
    }
    if let Some(header) = content_language {
        let tags = declared(header);
        if !tags.is_empty() {
            return tags.into_iter().find(|t| available.contains(t)).map(|t| (t, Found::Declared));
        }
    }
    detect(text, available).map(|l| (l, Found::Detected))
}

/// The researcher's own words: not quoted, not code, not armour, not URLs.
fn prose_of(text: &str) -> String {
    let mut out = String::new();
    let (mut fenced, mut armour) = (false, false);
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with("```") || t.starts_with("~~~") {
            fenced = !fenced;
            continue;
        }
        if t.starts_with("-----BEGIN PGP") {
            armour = true;
        }
        let skip = fenced
            || armour
            || t.starts_with('>')
            || t.starts_with('$')
            || t.starts_with('#')
            || t.starts_with("http://")
            || t.starts_with("https://")
            || t == "--";
        if t.starts_with("-----END PGP") {
            armour = false;
        }
        if t == "--" {
            // The signature block: a name and a title say nothing of the language.
            break;
        }
        if !skip {
            out.push_str(t);
            out.push('\n');
        }
        if out.len() >= MAX_CHARS {
            break;
        }
    }
    out
}

/// whatlang names languages by ISO 639-3; templates folders by their primary subtag (ISO 639-1 where there is
/// one). The languages a desk may plausibly have templates in.
const ISO_639_3: &[(&str, &str)] = &[
    ("eng", "en"),
    ("fra", "fr"),
    ("deu", "de"),
    ("spa", "es"),
    ("ita", "it"),
    ("por", "pt"),
    ("nld", "nl"),
    ("pol", "pl"),
    ("ces", "cs"),
    ("slk", "sk"),
    ("swe", "sv"),
    ("dan", "da"),
    ("nob", "nb"),
    ("fin", "fi"),
    ("est", "et"),
    ("lav", "lv"),
    ("lit", "lt"),
    ("hun", "hu"),
    ("ron", "ro"),
    ("bul", "bg"),
    ("hrv", "hr"),
    ("slv", "sl"),
    ("srp", "sr"),
    ("ell", "el"),
    ("tur", "tr"),
    ("rus", "ru"),
    ("ukr", "uk"),
    ("bel", "be"),
    ("heb", "he"),
    ("arb", "ar"),
    ("pes", "fa"),
    ("hin", "hi"),
    ("ben", "bn"),
    ("tha", "th"),
    ("vie", "vi"),
    ("ind", "id"),
    ("jpn", "ja"),
    ("kor", "ko"),
    ("cmn", "zh"),
    ("cat", "ca"),
    ("epo", "eo"),
    ("afr", "af"),
];

fn from_whatlang(l: whatlang::Lang) -> Option<Lang> {
    let code = l.code();
    ISO_639_3.iter().find(|(three, _)| *three == code).map(|(_, two)| Lang((*two).to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(s: &str) -> Lang {
        s.parse().unwrap()
    }

    #[test]
    fn tags_are_read_as_their_primary_language() {
        assert_eq!(l("fr"), l("FR"));
        assert_eq!(l("fr-CA").as_str(), "fr");
        assert_eq!(l("fr_FR").as_str(), "fr");
        assert_eq!(l("gsw").as_str(), "gsw");
        for bad in ["", "*", "i-klingon", "x-private", "f", "français", "e1", "../etc"] {
            assert!(bad.parse::<Lang>().is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn content_language_lists_are_read_in_order() {
        assert_eq!(declared("fr"), vec![l("fr")]);
        assert_eq!(declared("de-DE, en (the fallback), de"), vec![l("de"), l("en")]);
        assert_eq!(declared("(only a comment)"), Vec::<Lang>::new());
        assert_eq!(declared("x-klingon, nonsense!!, es"), vec![l("es")]);
        assert!(declared(&"fr, ".repeat(10_000)).len() <= 8);
    }

    const FR: &str = "Bonjour,\n\nJ'ai trouvé une faille de type injection SQL dans le formulaire de recherche de \
                      votre site. En envoyant une apostrophe dans le champ, la page renvoie une erreur de la base \
                      de données, et il est possible de lire la table des utilisateurs.\n\nCordialement,\nJeanne";
    const EN: &str = "Hello,\n\nI found an SQL injection in the search form of your site. Sending a single quote in \
                      the field makes the page return a database error, and the users table can be read.\n\nBest \
                      regards,\nJane";
    const DE: &str = "Hallo,\n\nich habe in dem Suchformular Ihrer Webseite eine SQL-Injection gefunden. Wenn man \
                      ein Hochkomma in das Feld eingibt, zeigt die Seite einen Datenbankfehler, und die Tabelle \
                      der Benutzer lässt sich auslesen.\n\nMit freundlichen Grüßen\nJana";

    #[test]
    fn the_text_says_which_language_it_is() {
        let desk = [l("en"), l("fr")];
        assert_eq!(detect(FR, &desk), Some(l("fr")));
        assert_eq!(detect(EN, &desk), Some(l("en")));
        // German is recognised as German, which this desk has no templates in: not taken for English or French.
        assert_eq!(detect(DE, &desk), None);
        assert_eq!(detect(DE, &[l("en"), l("de")]), Some(l("de")));
    }

    #[test]
    fn code_quotes_and_short_texts_are_not_judged() {
        let desk = [l("en"), l("fr")];
        assert_eq!(detect("merci !", &desk), None);
        let code = format!("Voici :\n```\n{}\n```\n", "import requests\nprint(requests.get(url).text)\n".repeat(20));
        assert_eq!(detect(&code, &desk), None, "a proof of concept is not English prose");
        let quoted = format!("Merci, c'est noté.\n\n{}", EN.lines().map(|l| format!("> {l}\n")).collect::<String>());
        assert_ne!(detect(&quoted, &desk), Some(l("en")), "the quoted English is not the researcher's");
    }

    #[test]
    fn a_declared_language_comes_first_and_is_not_second_guessed() {
        let desk = [l("en"), l("fr")];
        assert_eq!(of_mail(Some("fr-FR"), EN, &desk), Some((l("fr"), Found::Declared)));
        assert_eq!(of_mail(Some("de, fr"), EN, &desk), Some((l("fr"), Found::Declared)));
        // Only a language the desk lacks: the desk's own, not a guess.
        assert_eq!(of_mail(Some("de"), FR, &desk), None);
        // Nothing usable declared: the text decides.
        assert_eq!(of_mail(Some("(none)"), FR, &desk), Some((l("fr"), Found::Detected)));
        assert_eq!(of_mail(None, FR, &desk), Some((l("fr"), Found::Detected)));
        assert_eq!(of_mail(None, "ok", &desk), None);
        // One language: nothing to choose, nothing read.
        assert_eq!(of_mail(Some("fr"), FR, &[l("en")]), None);
    }
}
