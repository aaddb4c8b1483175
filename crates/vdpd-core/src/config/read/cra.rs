//! Validating `[[products]]` and `[cra]`.

use super::{Validator, raw};
use crate::config::{Cra, CsafConfig, CveConfig, EU_MEMBER_STATES, Product, default_cra_reminders};

/// A product id staff type: lower-case letters, digits and dashes.
fn is_product_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 40 && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// A host name as `assets` lists it: `shop.example.com` or `*.example.com`.
fn is_asset_host(s: &str) -> bool {
    let host = s.strip_prefix("*.").unwrap_or(s);
    !host.is_empty()
        && host.len() <= 253
        && host
            .split('.')
            .all(|l| !l.is_empty() && l.len() <= 63 && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
}

impl Validator<'_> {
    pub(super) fn products(&mut self, raw: Vec<raw::RawProduct>) -> Option<Vec<Product>> {
        let mut out: Vec<Product> = Vec::new();
        let mut ok = true;
        for (i, r) in raw.into_iter().enumerate() {
            let key = |k: &str| format!("products.{i}.{k}");
            let id = self.required(&key("id"), r.id);
            let name = self.required(&key("name"), r.name);
            let (Some(id), Some(name)) = (id, name) else {
                ok = false;
                continue;
            };
            if !is_product_id(&id) {
                self.problem(&key("id"), format!("{id:?}: lower-case letters, digits and dashes (staff type it)"));
                ok = false;
            }
            if out.iter().any(|p| p.id == id) {
                self.problem(&key("id"), format!("{id:?} names two products"));
                ok = false;
            }
            if let Some(purl) = &r.purl
                && (!purl.starts_with("pkg:") || purl.chars().any(|c| c.is_whitespace() || c.is_control()))
            {
                self.problem(&key("purl"), format!("{purl:?}: a package URL starts with pkg: (e.g. pkg:npm/shop)"));
                ok = false;
            }
            if let Some(cpe) = &r.cpe
                && (!cpe.starts_with("cpe:2.3:") || cpe.split(':').count() != 13)
            {
                self.problem(&key("cpe"), format!("{cpe:?}: a CPE 2.3 name has 13 parts (cpe:2.3:a:vendor:product:…)"));
                ok = false;
            }
            let assets: Vec<String> =
                r.assets.unwrap_or_default().into_iter().map(|a| a.to_ascii_lowercase()).collect();
            for (j, a) in assets.iter().enumerate() {
                if !is_asset_host(a) {
                    self.problem(&format!("products.{i}.assets.{j}"), format!("{a:?}: a host name, or *.domain"));
                    ok = false;
                }
            }
            let mut member_states = Vec::new();
            for (j, m) in r.member_states.unwrap_or_default().into_iter().enumerate() {
                let code = m.trim().to_ascii_uppercase();
                if code == "EU" {
                    member_states.extend(EU_MEMBER_STATES.iter().map(|s| s.to_string()));
                } else if EU_MEMBER_STATES.contains(&code.as_str()) || code == "EL" {
                    member_states.push(code);
                } else {
                    self.problem(
                        &format!("products.{i}.member_states.{j}"),
                        format!("{m:?} is not an EU Member State's code (ISO 3166-1: DE, FR, …; or EU for all)"),
                    );
                    ok = false;
                }
            }
            member_states.sort();
            member_states.dedup();
            out.push(Product {
                id,
                name: crate::mailtext::clean_header_text(&name, 200),
                purl: r.purl,
                cpe: r.cpe,
                assets,
                member_states,
            });
        }
        ok.then_some(out)
    }

    pub(super) fn cra(&mut self, r: raw::RawCra, products: &[Product]) -> Option<Cra> {
        let enabled = r.enabled.unwrap_or(false);
        let csirt = r.csirt.map(|c| crate::mailtext::clean_header_text(&c, 200)).unwrap_or_default();
        let reminders = r.reminders.unwrap_or_else(default_cra_reminders);
        let mut ok = true;
        for (i, d) in reminders.iter().enumerate() {
            if d.exact().is_none() {
                self.problem(
                    &format!("cra.reminders.{i}"),
                    format!("{d}: the deadlines run on calendar hours; write hours or minutes (\"4 hours\")"),
                );
                ok = false;
            }
        }
        if enabled {
            if csirt.is_empty() {
                self.problem(
                    "cra.csirt",
                    "name the CSIRT designated as coordinator where you have your main establishment (e.g. \"CERT-FR\")",
                );
                ok = false;
            }
            if !products.iter().any(|p| !p.member_states.is_empty()) {
                self.problem(
                    "cra.enabled",
                    "an early warning names the Member States where the product is made available: add a \
                     [[products]] entry with member_states",
                );
                ok = false;
            }
        }
        ok.then_some(Cra { enabled, csirt, reminders, incidents: r.incidents.unwrap_or(false) })
    }
}

impl Validator<'_> {
    pub(super) fn csaf(&mut self, r: raw::RawCsaf) -> Option<CsafConfig> {
        if let Some(u) = &r.base_url
            && (!u.starts_with("https://") || u.chars().any(char::is_whitespace) || u.contains(['?', '#']))
        {
            self.problem("csaf.base_url", format!("{u:?}: the https URL the provider directory is served at"));
            return None;
        }
        Some(CsafConfig { base_url: r.base_url.map(|u| u.trim_end_matches('/').to_string()) })
    }

    pub(super) fn cve(&mut self, r: raw::RawCve) -> Option<CveConfig> {
        let mut ok = true;
        if let Some(id) = &r.org_id {
            let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
            let parts: Vec<&str> = id.split('-').collect();
            // CVE Services' UUIDs are version 4 (random), as the record's schema requires.
            let uuid = parts.len() == 5
                && [8, 4, 4, 4, 12].iter().zip(&parts).all(|(n, p)| hex(p, *n))
                && parts[2].starts_with('4')
                && parts[3].starts_with(['8', '9', 'a', 'b', 'A', 'B']);
            if !uuid {
                self.problem(
                    "cve.org_id",
                    format!("{id:?}: the organisation's UUID in CVE Services (a version 4 UUID)"),
                );
                ok = false;
            }
        }
        if let Some(s) = &r.short_name
            && !(2..=32).contains(&s.len())
        {
            self.problem("cve.short_name", "2 to 32 characters");
            ok = false;
        }
        if let Some(u) = &r.advisory_url
            && (!u.starts_with("https://") || u.chars().any(char::is_whitespace))
        {
            self.problem("cve.advisory_url", format!("{u:?}: an https URL, with {{id}} where the CVE ID goes"));
            ok = false;
        }
        ok.then_some(CveConfig {
            org_id: r.org_id.map(|o| o.to_ascii_lowercase()),
            short_name: r.short_name,
            advisory_url: r.advisory_url,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, Problem, TestMachine};

    const MINIMAL: &str = "[organisation]\nname = \"Example\"\nsecurity_address = \"security@example.com\"\n\
                           ticket_prefix = \"EX\"\n[smtp]\nhost = \"127.0.0.1\"\ntls = \"none\"\n\
                           [store]\npath = \"/var/lib/vdpd/vdpd.sqlite\"\n[sla]\nacknowledge = \"24h\"\n";

    fn parse(extra: &str) -> Result<Config, Vec<Problem>> {
        crate::config::parse(&format!("{MINIMAL}{extra}"), std::path::Path::new("/etc/vdpd/policy.toml"), &TestMachine)
    }

    /// The problems as `key: message` lines.
    fn problems(extra: &str) -> Vec<String> {
        parse(extra).unwrap_err().into_iter().map(|p| format!("{}: {}", p.key, p.message)).collect()
    }

    #[test]
    fn products_and_the_cra_duty_are_read_and_checked() {
        let c = parse(
            "[cra]\nenabled = true\ncsirt = \"CERT-FR\"\nreminders = [\"6 hours\", \"30 minutes\"]\n\
             [[products]]\nid = \"shop\"\nname = \"Shop\"\npurl = \"pkg:npm/shop\"\n\
             cpe = \"cpe:2.3:a:example:shop:*:*:*:*:*:*:*:*\"\nassets = [\"Shop.Example.com\"]\n\
             member_states = [\"fr\", \"DE\", \"FR\"]\n\
             [[products]]\nid = \"app\"\nname = \"App\"\nmember_states = [\"EU\"]\n",
        )
        .unwrap();
        assert!(c.cra.enabled);
        assert_eq!(c.cra.csirt, "CERT-FR");
        assert_eq!(c.cra.reminders.iter().map(ToString::to_string).collect::<Vec<_>>(), ["6 hours", "30 minutes"]);
        assert_eq!(c.products[0].member_states, ["DE", "FR"]);
        assert_eq!(c.products[0].assets, ["shop.example.com"]);
        assert_eq!(c.products[1].member_states.len(), 27);
        // Off by default, with the default reminders.
        let off = parse("").unwrap();
        assert!(!off.cra.enabled);
        assert_eq!(off.cra.reminders, default_cra_reminders());
    }

    #[test]
    fn a_wrong_product_or_cra_section_is_refused_with_its_key() {
        let found = problems(
            "[cra]\nenabled = true\nreminders = [\"1 business day\"]\n\
             [[products]]\nid = \"Shop\"\nname = \"Shop\"\npurl = \"npm/shop\"\ncpe = \"cpe:/a:x\"\n\
             assets = [\"https://shop.example.com\"]\nmember_states = [\"UK\"]\n\
             [[products]]\nid = \"Shop\"\n",
        );
        let want = [
            "products.0.id: \"Shop\": lower-case letters",
            "products.0.purl: \"npm/shop\": a package URL starts with pkg:",
            "products.0.cpe: \"cpe:/a:x\": a CPE 2.3 name has 13 parts",
            "products.0.assets.0: \"https://shop.example.com\": a host name",
            "products.0.member_states.0: \"UK\" is not an EU Member State's code",
            "products.1.name: required key is missing",
            "cra.reminders.0: 1 business day: the deadlines run on calendar hours",
            "cra.csirt: name the CSIRT designated as coordinator",
        ];
        for w in want {
            assert!(found.iter().any(|f| f.starts_with(w)), "{w:?} in {found:#?}");
        }
        // Enabled with products that name no Member State: an early warning could not be written.
        let found = problems("[cra]\nenabled = true\ncsirt = \"CERT-FR\"\n[[products]]\nid = \"a\"\nname = \"A\"\n");
        assert!(
            found.iter().any(|f| f.starts_with("cra.enabled: an early warning names the Member States")),
            "{found:?}"
        );
    }

    #[test]
    fn asset_hosts_and_product_ids() {
        assert!(is_asset_host("shop.example.com"));
        assert!(is_asset_host("*.example.com"));
        assert!(!is_asset_host("*.*.example.com"));
        assert!(!is_asset_host("shop..example.com"));
        assert!(!is_asset_host("https://shop.example.com"));
        assert!(is_product_id("web-shop2"));
        assert!(!is_product_id("Web"));
        assert!(!is_product_id(""));
    }
}
