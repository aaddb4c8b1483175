//! What staff see at a glance about a ticket: where it stands against the policy's scope, and its clocks.
//! Pure functions of the ticket's facts and the policy.

use crate::config::{Clause, Scope, SubProcessor};

/// The host part of an asset ("https://app.example.com:8443/x" → "app.example.com").
pub fn asset_host(asset: &str) -> Option<String> {
    let a = asset.trim().to_ascii_lowercase();
    let a = a.split_once("://").map_or(a.as_str(), |(_, rest)| rest);
    let host = a.split(['/', '?', '#', ' ', '\t']).next()?;
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let host = host.split(':').next()?.trim_matches('.');
    (host.contains('.') && host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.'))
        .then(|| host.to_string())
}

/// Sentences about scope: whether the asset is under an in-scope domain or a named asset, and which
/// out-of-scope clauses the report's words point to (with the sub-processors it names).
pub fn scope_hint(asset: &str, text: &str, scope: &Scope) -> Vec<String> {
    let mut hints = Vec::new();
    let asset = asset.trim();
    if asset.is_empty() {
        if !scope.domains.is_empty() || !scope.assets.is_empty() {
            hints.push("no asset named yet".to_string());
        }
    } else if let Some(named) = scope.assets.iter().find(|a| asset.to_lowercase().contains(&a.to_lowercase())) {
        hints.push(format!("in scope: the named asset {named}"));
    } else if !scope.domains.is_empty() {
        match asset_host(asset) {
            Some(host) => match scope.domains.iter().find(|d| host == **d || host.ends_with(&format!(".{d}"))) {
                Some(d) => hints.push(format!("in scope: {host} is under {d}")),
                None => hints.push(format!("{host} is not under the in-scope domains ({})", scope.domains.join(", "))),
            },
            None => hints.push(format!("the asset {asset:?} names no host to check against the in-scope domains")),
        }
    }
    for m in out_of_scope(text, scope) {
        match m.sub_processor {
            Some(sp) => hints.push(format!(
                "mentions {}, a sub-processor (out of scope, clause {}: report to {})",
                sp.name, m.clause.id, sp.contact
            )),
            None => {
                hints.push(format!("may be out of scope, clause {} ({:?}): {}", m.clause.id, m.word, m.clause.wording))
            }
        }
    }
    hints
}

/// An out-of-scope clause a report's words point to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClauseMatch<'a> {
    pub clause: &'a Clause,
    /// The sub-processor it names, for a sub-processor clause.
    pub sub_processor: Option<&'a SubProcessor>,
    /// The word that matched.
    pub word: String,
}

/// The out-of-scope clauses a report's words point to, in the policy's order: a clause matches when the text
/// names one of its sub-processors or contains one of its hints as whole words.
pub fn out_of_scope<'a>(text: &str, scope: &'a Scope) -> Vec<ClauseMatch<'a>> {
    let words = text.to_lowercase();
    // Whole words only ("dos" is not in "windows"); a hint ending in `*` is a prefix ("impersonat*").
    let has_word = |w: &str| {
        let (w, prefix) = match w.strip_suffix('*') {
            Some(stem) => (stem, true),
            None => (w, false),
        };
        !w.is_empty()
            && words.match_indices(w).any(|(i, _)| {
                let before = words[..i].chars().next_back().is_none_or(|c| !c.is_alphanumeric());
                let after = prefix || words[i + w.len()..].chars().next().is_none_or(|c| !c.is_alphanumeric());
                before && after
            })
    };
    let mut out = Vec::new();
    for clause in &scope.out_of_scope {
        if let Some(sp) = clause.sub_processors.iter().find(|sp| has_word(&sp.name.to_lowercase())) {
            out.push(ClauseMatch { clause, sub_processor: Some(sp), word: sp.name.clone() });
        } else if let Some(h) = clause.hints.iter().find(|h| has_word(h)) {
            out.push(ClauseMatch { clause, sub_processor: None, word: h.clone() });
        }
    }
    out
}

/// Whether two tickets name the same flaw: the same weakness (CWE) on the same asset (the same host, or the
/// same words when the asset names no host).
pub fn same_flaw(asset_a: &str, weakness_a: &str, asset_b: &str, weakness_b: &str) -> bool {
    Flaw::of(asset_a, weakness_a).is(asset_b, weakness_b)
}

/// A ticket's flaw as [`same_flaw`] compares it, worked out once: a new report is compared with every
/// earlier ticket of the same weakness (hundreds in a flood of one report).
#[derive(Debug, Clone)]
pub struct Flaw<'a> {
    weakness: &'a str,
    host: Option<String>,
    /// The asset's words, when it names no host.
    words: String,
}

fn asset_words(asset: &str) -> String {
    asset.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

impl<'a> Flaw<'a> {
    pub fn of(asset: &'a str, weakness: &'a str) -> Flaw<'a> {
        let host = asset_host(asset);
        let words = if host.is_none() { asset_words(asset) } else { String::new() };
        Flaw { weakness: weakness.trim(), host, words }
    }

    /// Whether another ticket's asset and weakness name this flaw.
    pub fn is(&self, asset: &str, weakness: &str) -> bool {
        if self.weakness.is_empty() || !self.weakness.eq_ignore_ascii_case(weakness.trim()) {
            return false;
        }
        match (&self.host, asset_host(asset)) {
            (Some(a), Some(b)) => *a == b,
            (None, None) => !self.words.is_empty() && self.words == asset_words(asset),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> Scope {
        Scope {
            domains: vec!["mykonci.com".into()],
            assets: vec!["MyKonci API".into()],
            out_of_scope: vec![
                Clause {
                    id: "dos".into(),
                    class: None,
                    wording: "Denial-of-service attacks (DDoS, flood).".into(),
                    hints: vec!["ddos".into(), "flood".into(), "denial of service".into()],
                    sub_processors: vec![],
                },
                Clause {
                    id: "sub-processor".into(),
                    class: None,
                    wording: "Our sub-processors' sites and services.".into(),
                    hints: vec![],
                    sub_processors: vec![SubProcessor {
                        name: "Stripe".into(),
                        contact: "https://stripe.com/docs/security".into(),
                    }],
                },
                Clause {
                    id: "social".into(),
                    class: None,
                    wording: "Social engineering against employees or customers.".into(),
                    hints: vec!["impersonat*".into()],
                    sub_processors: vec![],
                },
            ],
            ..Scope::default()
        }
    }

    #[test]
    fn hosts_of_assets() {
        assert_eq!(asset_host("https://app.mykonci.com:8443/x?y").as_deref(), Some("app.mykonci.com"));
        assert_eq!(asset_host("api.mykonci.com").as_deref(), Some("api.mykonci.com"));
        assert_eq!(asset_host("user@shop.example.org/path").as_deref(), Some("shop.example.org"));
        assert_eq!(asset_host("the dashboard"), None);
    }

    #[test]
    fn scope_hints() {
        let s = scope();
        assert_eq!(
            scope_hint("https://dash.mykonci.com/login", "", &s),
            ["in scope: dash.mykonci.com is under mykonci.com"]
        );
        assert_eq!(
            scope_hint("https://mykonci.com.evil.test/", "", &s)[0],
            "mykonci.com.evil.test is not under the in-scope domains (mykonci.com)"
        );
        assert_eq!(scope_hint("the MyKonci API /v1/users", "", &s), ["in scope: the named asset MyKonci API"]);
        let h = scope_hint("https://mykonci.com", "A flood of requests takes it down", &s);
        assert!(h[1].starts_with("may be out of scope, clause dos"), "{h:?}");
        let h = scope_hint("checkout.stripe.com", "the Stripe checkout page", &s);
        assert!(
            h.iter().any(|x| x.contains("Stripe, a sub-processor") && x.contains("https://stripe.com/docs/security")),
            "{h:?}"
        );
        // Words inside other words do not count.
        assert_eq!(scope_hint("https://mykonci.com", "overflooded", &s).len(), 1);
        assert_eq!(scope_hint("", "", &Scope::default()), Vec::<String>::new());
    }

    #[test]
    fn clauses_matched_by_words_and_prefixes() {
        let s = scope();
        let m = out_of_scope("We impersonated your CEO on the phone", &s);
        assert_eq!(m.len(), 1);
        assert_eq!((m[0].clause.id.as_str(), m[0].word.as_str()), ("social", "impersonat*"));
        let m = out_of_scope("Stripe webhooks can be flooded... and a flood takes it down", &s);
        let ids: Vec<&str> = m.iter().map(|m| m.clause.id.as_str()).collect();
        assert_eq!(ids, ["dos", "sub-processor"]);
        assert_eq!(m[1].sub_processor.map(|p| p.name.as_str()), Some("Stripe"));
        assert!(out_of_scope("Windows DOSBox", &s).is_empty());
    }

    #[test]
    fn same_flaw_needs_the_same_weakness_and_asset() {
        assert!(same_flaw("https://app.mykonci.com/login", "CWE-79", "app.mykonci.com/search?q=1", "cwe-79"));
        assert!(!same_flaw("https://app.mykonci.com/login", "CWE-79", "https://api.mykonci.com/", "CWE-79"));
        assert!(!same_flaw("https://app.mykonci.com/login", "CWE-79", "https://app.mykonci.com/", "CWE-89"));
        assert!(!same_flaw("https://app.mykonci.com/login", "", "https://app.mykonci.com/", ""));
        assert!(same_flaw("the  Dashboard", "CWE-352", "the dashboard", "CWE-352"));
        assert!(!same_flaw("the dashboard", "CWE-352", "https://dashboard.mykonci.com", "CWE-352"));
    }
}
