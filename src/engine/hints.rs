//! What staff see at a glance about a ticket: where it stands against the policy's scope, and its clocks.
//! Pure functions of the ticket's facts and the policy.

use crate::config::{Scope, Severity, Sla};
use crate::engine::deadline;

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
    let words = text.to_lowercase();
    let has_word = |w: &str| {
        words.match_indices(w).any(|(i, _)| {
            let before = words[..i].chars().next_back().is_none_or(|c| !c.is_alphanumeric());
            let after = words[i + w.len()..].chars().next().is_none_or(|c| !c.is_alphanumeric());
            before && after
        })
    };
    for clause in &scope.out_of_scope {
        if let Some(sp) = clause.sub_processors.iter().find(|sp| has_word(&sp.name.to_lowercase())) {
            hints.push(format!(
                "mentions {}, a sub-processor (out of scope, clause {}: report to {})",
                sp.name, clause.id, sp.contact
            ));
        } else if let Some(h) = clause.hints.iter().find(|h| has_word(h)) {
            hints.push(format!("may be out of scope, clause {} ({h:?}): {}", clause.id, clause.wording));
        }
    }
    hints
}

/// A ticket's facts that the clocks depend on (times in milliseconds since the epoch).
#[derive(Debug, Clone, Default)]
pub struct ClockFacts {
    pub received_at: i64,
    pub acknowledged_at: Option<i64>,
    pub severity: Option<Severity>,
    /// A negotiated disclosure date (YYYY-MM-DD), if one was set.
    pub disclose_on: Option<String>,
    pub resolved_at: Option<i64>,
}

fn day(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_default()
}

/// The promises of the policy as they stand for one ticket: (clock, state), in the order they come due.
pub fn clocks(f: &ClockFacts, sla: &Sla, now: i64) -> Vec<(String, String)> {
    let due = |name: &str, at: i64, promise: String| {
        let state = if now > at { "OVERDUE since" } else { "due" };
        (name.to_string(), format!("{state} {} ({promise})", day(at)))
    };
    let mut out = Vec::new();
    match f.acknowledged_at {
        Some(at) => out.push(("acknowledgement".into(), format!("sent {}", day(at)))),
        None => out.push(due("acknowledgement", deadline(f.received_at, sla.acknowledge), sla.acknowledge.to_string())),
    }
    if let Some(d) = sla.first_diagnosis {
        out.push(due("first diagnosis", deadline(f.received_at, d), d.to_string()));
    }
    if let Some(sev) = f.severity
        && let Some((_, d)) = sla.fix.iter().find(|(s, _)| *s == sev)
    {
        let name = format!("fix ({})", sev.as_str());
        match f.resolved_at {
            Some(at) => out.push((name, format!("resolved {}", day(at)))),
            None => out.push(due(&name, deadline(f.received_at, *d), d.to_string())),
        }
    }
    match (&f.disclose_on, sla.disclosure) {
        (Some(date), _) if !date.is_empty() => out.push(("disclosure".into(), format!("{date} (negotiated)"))),
        (_, Some(d)) => {
            out.push(("disclosure".into(), format!("{} ({d} after the report)", day(deadline(f.received_at, d)))))
        }
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Clause, SubProcessor};

    fn scope() -> Scope {
        Scope {
            domains: vec!["mykonci.com".into()],
            assets: vec!["MyKonci API".into()],
            out_of_scope: vec![
                Clause {
                    id: "dos".into(),
                    wording: "Denial-of-service attacks (DDoS, flood).".into(),
                    hints: vec!["ddos".into(), "flood".into(), "denial of service".into()],
                    sub_processors: vec![],
                },
                Clause {
                    id: "sub-processor".into(),
                    wording: "Our sub-processors' sites and services.".into(),
                    hints: vec![],
                    sub_processors: vec![SubProcessor {
                        name: "Stripe".into(),
                        contact: "https://stripe.com/docs/security".into(),
                    }],
                },
            ],
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
    fn clocks_by_promise() {
        let sla = Sla {
            acknowledge: "48h".parse().unwrap(),
            first_diagnosis: Some("7 business days".parse().unwrap()),
            fix: vec![(Severity::Critical, "7 days".parse().unwrap())],
            disclosure: Some("90 days".parse().unwrap()),
        };
        let t0 = "2026-11-23T09:00:00Z".parse::<jiff::Timestamp>().unwrap().as_millisecond();
        let f = ClockFacts {
            received_at: t0,
            acknowledged_at: Some(t0 + 1000),
            severity: Some(Severity::Critical),
            ..Default::default()
        };
        let c = clocks(&f, &sla, t0 + 10 * 86_400_000);
        let names: Vec<&str> = c.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["acknowledgement", "first diagnosis", "fix (critical)", "disclosure"]);
        assert!(c[0].1.starts_with("sent 2026-11-23"));
        assert_eq!(c[1].1, "OVERDUE since 2026-12-02 09:00 UTC (7 business days)");
        assert!(c[2].1.starts_with("OVERDUE since 2026-11-30"));
        assert_eq!(c[3].1, "2027-02-21 09:00 UTC (90 days after the report)");
        let negotiated = ClockFacts { disclose_on: Some("2027-01-15".into()), ..f };
        assert_eq!(clocks(&negotiated, &sla, t0)[3].1, "2027-01-15 (negotiated)");
    }
}
