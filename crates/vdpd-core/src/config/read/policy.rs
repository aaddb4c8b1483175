//! Validating the policy sections of `policy.toml` (OpenPGP, the report form, staff, scope, bounty, calendar,
//! retention, recognition, security.txt) into the core's types.

use std::path::{Path, PathBuf};

use super::{Validator, raw};
use crate::config::{
    Bounty, Calendar, Clause, DEFAULT_KEY_REQUEST_PATTERNS, DkimProof, FormDelivery, FormSection, Holiday, LearnKeys,
    OUTCOME_TIERS, OpenPgpConfig, PolicyDuration, Recognition, ReportDetail, ReportForm, Retention, SCOPE_CLASSES,
    Scope, SectionKind, SecurityTxt, Staff, StaffAuth, StaffEncryption, StaffMember, SubProcessor, Tier,
};

/// An identifier staff type in commands: letters, digits and dashes.
fn is_token(s: &str) -> bool {
    !s.is_empty() && s.len() <= 40 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl Validator<'_> {
    fn choice<T: Copy>(&mut self, key: &str, value: Option<String>, default: T, options: &[(&str, T)]) -> Option<T> {
        let Some(v) = value else { return Some(default) };
        match options.iter().find(|(name, _)| *name == v) {
            Some((_, t)) => Some(*t),
            None => {
                let names: Vec<String> = options.iter().map(|(n, _)| format!("{n:?}")).collect();
                self.problem(key, format!("{v:?}: choose {}", names.join(" or ")));
                None
            }
        }
    }

    pub(super) fn openpgp(
        &mut self,
        r: raw::RawOpenPgp,
        store_dir: &Path,
        authserv_id: Option<&str>,
    ) -> Option<OpenPgpConfig> {
        let learn_keys = match (r.learn_keys.as_deref().unwrap_or("first-use"), authserv_id) {
            ("first-use", _) => Some(LearnKeys::FirstUse),
            ("dmarc", Some(id)) => Some(LearnKeys::DmarcAligned { authserv_id: id.to_string() }),
            ("dmarc", None) => {
                self.problem(
                    "openpgp.learn_keys",
                    "\"dmarc\" needs organisation.trusted_authserv_id: the authserv-id of your own MX",
                );
                None
            }
            (other, _) => {
                self.problem("openpgp.learn_keys", format!("{other:?}: choose \"first-use\" or \"dmarc\""));
                None
            }
        };
        let report_detail = self.choice(
            "openpgp.report_detail",
            r.report_detail,
            ReportDetail::EncryptedOnly,
            &[("encrypted-only", ReportDetail::EncryptedOnly), ("plaintext-allowed", ReportDetail::PlaintextAllowed)],
        );
        let staff_encryption = self.choice(
            "openpgp.staff_encryption",
            r.staff_encryption,
            StaffEncryption::Required,
            &[("required", StaffEncryption::Required), ("when-possible", StaffEncryption::WhenPossible)],
        );
        let patterns: Vec<String> = r
            .key_request_patterns
            .unwrap_or_else(|| DEFAULT_KEY_REQUEST_PATTERNS.iter().map(|p| p.to_string()).collect())
            .into_iter()
            .map(|p| p.trim().to_lowercase())
            .collect();
        if patterns.iter().any(|p| p.len() < 3) {
            self.problem("openpgp.key_request_patterns", "each pattern needs at least 3 characters");
        }
        let max_decrypted_bytes = r.max_decrypted_bytes.unwrap_or(50 * 1024 * 1024);
        if !(1024..=1024 * 1024 * 1024).contains(&max_decrypted_bytes) {
            self.problem("openpgp.max_decrypted_bytes", "must be between 1 KiB and 1 GiB");
        }
        let max_compression_ratio = r.max_compression_ratio.unwrap_or(100);
        if !(2..=10_000).contains(&max_compression_ratio) {
            self.problem("openpgp.max_compression_ratio", "must be between 2 and 10000");
        }
        Some(OpenPgpConfig {
            key: store_dir.join(r.key.unwrap_or_else(|| PathBuf::from("openpgp/organisation.key"))),
            report_detail: report_detail?,
            staff_encryption: staff_encryption?,
            key_request_patterns: patterns,
            max_decrypted_bytes,
            max_compression_ratio,
            autocrypt: r.autocrypt.unwrap_or(true),
            learn_keys: learn_keys?,
        })
    }

    /// `hall_of_fame`: the default form asks for a credit preference only when the policy credits anyone.
    pub(super) fn report_form(&mut self, r: raw::RawReportForm, hall_of_fame: bool) -> Option<ReportForm> {
        let delivery = self.choice(
            "report_form.delivery",
            r.delivery,
            FormDelivery::WithAcknowledgement,
            &[("with-acknowledgement", FormDelivery::WithAcknowledgement), ("separate", FormDelivery::Separate)],
        );
        let mut sections = match r.sections {
            None => ReportForm::default_sections()
                .into_iter()
                .filter(|s| hall_of_fame || s.kind != SectionKind::Credit)
                .collect(),
            Some(raw) => {
                let mut out = Vec::new();
                for (i, s) in raw.into_iter().enumerate() {
                    let key = |k: &str| format!("report_form.sections.{i}.{k}");
                    let Some(name) = s.name.filter(|n| !n.trim().is_empty()) else {
                        self.problem(&format!("report_form.sections.{i}"), "a section needs a name");
                        continue;
                    };
                    let kind = self.choice(
                        &key("kind"),
                        s.kind,
                        SectionKind::Text,
                        &[
                            ("text", SectionKind::Text),
                            ("asset", SectionKind::Asset),
                            ("weakness", SectionKind::Weakness),
                            ("severity", SectionKind::Severity),
                            ("email", SectionKind::Email),
                            ("credit", SectionKind::Credit),
                            ("exploited", SectionKind::Exploited),
                        ],
                    );
                    if name.contains([':', '\n']) {
                        self.problem(&key("name"), "a section name cannot contain ':' or a line break");
                    }
                    out.push(FormSection {
                        name: name.trim().to_string(),
                        mandatory: s.mandatory.unwrap_or(false),
                        hint: s.hint.unwrap_or_default(),
                        kind: kind.unwrap_or(SectionKind::Text),
                        aliases: s.aliases.unwrap_or_default(),
                    });
                }
                if out.is_empty() {
                    self.problem(
                        "report_form.sections",
                        "declare at least one section, or leave `sections` out for the default form",
                    );
                }
                let mut labels = std::collections::HashSet::new();
                for s in &out {
                    for label in std::iter::once(&s.name).chain(&s.aliases) {
                        if !labels.insert(label.to_lowercase()) {
                            self.problem("report_form.sections", format!("the label {label:?} is used twice"));
                        }
                    }
                }
                out
            }
        };
        // The sections vdpd knows how to ask for, that a policy may require on top of its own.
        for (i, name) in r.require.unwrap_or_default().iter().enumerate() {
            let key = format!("report_form.require.{i}");
            let Some(section) = ReportForm::optional_section(name) else {
                let known: Vec<&str> = ReportForm::OPTIONAL.iter().map(|(n, _)| *n).collect();
                self.problem(&key, format!("{name:?} is not one vdpd knows: {}", known.join(", ")));
                continue;
            };
            if sections.iter().any(|s| s.name.eq_ignore_ascii_case(&section.name)) {
                self.problem(&key, format!("the form already has a section {:?}", section.name));
                continue;
            }
            sections.push(section);
        }
        Some(ReportForm {
            enabled: r.enabled.unwrap_or(true),
            delivery: delivery?,
            read_prose: r.read_prose.unwrap_or(true),
            sections,
        })
    }

    pub(super) fn staff(&mut self, r: raw::RawStaff, dir: &Path, authserv_id: Option<&str>) -> Option<Staff> {
        let mut members = Vec::new();
        for (i, m) in r.members.unwrap_or_default().into_iter().enumerate() {
            let Some(address) = self.address(&format!("staff.members.{i}.address"), m.address) else {
                continue;
            };
            if members.iter().any(|x: &StaffMember| x.address == address) {
                self.problem(&format!("staff.members.{i}.address"), format!("{address} is listed twice"));
            }
            let dkim_proof = match m.dkim_proof.as_deref().unwrap_or("domain") {
                "domain" => DkimProof::Domain,
                "smtp.auth" => DkimProof::SmtpAuth {
                    login: m.login.clone().unwrap_or_else(|| address.clone()).trim().to_ascii_lowercase(),
                },
                "header.i" => DkimProof::Identity,
                other => {
                    self.problem(
                        &format!("staff.members.{i}.dkim_proof"),
                        format!("{other:?}: choose \"domain\", \"smtp.auth\" or \"header.i\""),
                    );
                    DkimProof::Domain
                }
            };
            if m.login.is_some() && !matches!(dkim_proof, DkimProof::SmtpAuth { .. }) {
                self.problem(&format!("staff.members.{i}.login"), "set only with dkim_proof = \"smtp.auth\"");
            }
            members.push(StaffMember {
                address,
                name: m.name.unwrap_or_default(),
                cert: m.cert.map(|c| dir.join(c)),
                dkim_proof,
            });
        }
        let max_signature_age_ms = match r.max_signature_age.map(|d| (d, d.exact())) {
            None => Staff::default().max_signature_age_ms,
            Some((_, Some(e)))
                if e >= std::time::Duration::from_secs(600) && e <= std::time::Duration::from_secs(30 * 86_400) =>
            {
                i64::try_from(e.as_millis()).unwrap_or(i64::MAX)
            }
            Some((d, _)) => {
                self.problem(
                    "staff.max_signature_age",
                    format!("{d}: give between 10 minutes and 30 days in minutes, hours or days"),
                );
                Staff::default().max_signature_age_ms
            }
        };
        let authentication = match (r.authentication.as_deref().unwrap_or("openpgp"), authserv_id) {
            ("openpgp", _) => {
                for (i, m) in members.iter().enumerate() {
                    if m.cert.is_none() {
                        self.problem(
                            &format!("staff.members.{i}"),
                            format!(
                                "{}: staff.authentication = \"openpgp\" needs the member's certificate (cert = …)",
                                m.address
                            ),
                        );
                    }
                }
                StaffAuth::OpenPgp
            }
            ("dkim", Some(id)) => StaffAuth::Dkim { authserv_id: id.to_string() },
            ("dkim", None) => {
                self.problem(
                    "organisation.trusted_authserv_id",
                    "staff.authentication = \"dkim\" needs the authserv-id of your own MX (e.g. \"mx.example.com\")",
                );
                StaffAuth::OpenPgp
            }
            (other, _) => {
                self.problem("staff.authentication", format!("{other:?}: choose \"openpgp\" or \"dkim\""));
                StaffAuth::OpenPgp
            }
        };
        let mut escalation = Vec::new();
        for (i, a) in r.escalation.unwrap_or_default().into_iter().enumerate() {
            if let Some(a) = self.address(&format!("staff.escalation.{i}"), Some(a)) {
                escalation.push(a);
            }
        }
        let d = Staff::default();
        Some(Staff {
            members,
            authentication,
            max_signature_age_ms,
            signature_must_name_ticket: r.signature_must_name_ticket.unwrap_or(false),
            max_attachment_bytes: r.max_attachment_bytes.unwrap_or(d.max_attachment_bytes),
            warnings_per_day: r.warnings_per_day.unwrap_or(d.warnings_per_day),
            escalation,
        })
    }

    pub(super) fn scope(&mut self, r: raw::RawScope) -> Option<Scope> {
        let mut domains = Vec::new();
        for (i, d) in r.domains.unwrap_or_default().into_iter().enumerate() {
            let d = d.trim().trim_start_matches("*.").to_ascii_lowercase();
            if is_hostname(&d) {
                domains.push(d);
            } else {
                self.problem(&format!("scope.domains.{i}"), format!("{d:?} is not a domain name"));
            }
        }
        let mut out_of_scope: Vec<Clause> = Vec::new();
        for (i, c) in r.out_of_scope.unwrap_or_default().into_iter().enumerate() {
            let key = |k: &str| format!("scope.out_of_scope.{i}.{k}");
            let id = self.required(&key("id"), c.id).unwrap_or_default();
            let wording = self.required(&key("wording"), c.wording).unwrap_or_default();
            let class = c.class.map(|k| k.trim().to_ascii_lowercase());
            let class_hints: &[&str] = match &class {
                None => &[],
                Some(k) => match SCOPE_CLASSES.iter().find(|(name, _, _)| name == k) {
                    Some((_, _, hints)) => hints,
                    None => {
                        let known: Vec<&str> = SCOPE_CLASSES.iter().map(|(n, _, _)| *n).collect();
                        self.problem(&key("class"), format!("{k:?}: choose one of {}", known.join(", ")));
                        &[]
                    }
                },
            };
            if !id.is_empty() && !is_token(&id) {
                self.problem(
                    &key("id"),
                    format!("{id:?}: use letters, digits and dashes (it is typed after #not-applicable)"),
                );
            }
            if out_of_scope.iter().any(|x| x.id.eq_ignore_ascii_case(&id)) {
                self.problem(&key("id"), format!("{id:?} is used twice"));
            }
            let mut sub_processors = Vec::new();
            for (j, sp) in c.sub_processors.unwrap_or_default().into_iter().enumerate() {
                let name = self.required(&format!("scope.out_of_scope.{i}.sub_processors.{j}.name"), sp.name);
                let contact = self.required(&format!("scope.out_of_scope.{i}.sub_processors.{j}.contact"), sp.contact);
                if let (Some(name), Some(contact)) = (name, contact) {
                    sub_processors.push(SubProcessor { name, contact });
                }
            }
            let mut hints: Vec<String> = c.hints.unwrap_or_default().into_iter().map(|h| h.to_lowercase()).collect();
            for h in class_hints {
                if !hints.iter().any(|x| x == h) {
                    hints.push(h.to_string());
                }
            }
            out_of_scope.push(Clause { id, class, wording, hints, sub_processors });
        }
        Some(Scope {
            domains,
            assets: r.assets.unwrap_or_default(),
            out_of_scope,
            duplicate_window: r.duplicate_window.unwrap_or(Scope::default().duplicate_window),
        })
    }

    pub(super) fn bounty(&mut self, r: raw::RawBounty) -> Option<Bounty> {
        let enabled = r.enabled.unwrap_or(false);
        let mut tiers: Vec<Tier> = Vec::new();
        for (i, t) in r.tiers.unwrap_or_default().into_iter().enumerate() {
            let key = |k: &str| format!("bounty.tiers.{i}.{k}");
            let id = self.required(&key("id"), t.id).unwrap_or_default();
            if !id.is_empty() && !is_token(&id) {
                self.problem(&key("id"), format!("{id:?}: use letters, digits and dashes (it is typed after #bounty)"));
            }
            if tiers.iter().any(|x| x.id.eq_ignore_ascii_case(&id)) {
                self.problem(&key("id"), format!("{id:?} is used twice"));
            }
            let amount = self.required(&key("amount"), t.amount).unwrap_or_default();
            if OUTCOME_TIERS.iter().any(|o| o.eq_ignore_ascii_case(&id)) && amount != 0 {
                self.problem(
                    &key("amount"),
                    format!("{id:?} is an outcome, not a payment: its amount must be 0 (its meaning is quoted when staff close a report as {id})"),
                );
            }
            tiers.push(Tier { id, amount, meaning: t.meaning.unwrap_or_default() });
        }
        let currency = r.currency.unwrap_or_default();
        if enabled {
            if tiers.is_empty() {
                self.problem("bounty.tiers", "an enabled bounty needs at least one tier");
            }
            if currency.trim().is_empty() {
                self.problem("bounty.currency", "an enabled bounty needs a currency (e.g. \"GBP\")");
            }
        }
        Some(Bounty {
            enabled,
            currency,
            payment: r.payment.unwrap_or_default(),
            invoice_fields: r.invoice_fields.unwrap_or_default(),
            tiers,
            approximate: r.approximate.unwrap_or(false),
        })
    }
}

/// A DNS name: labels of letters, digits and dashes.
pub(super) fn is_hostname(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.')
            .all(|l| !l.is_empty() && l.len() <= 63 && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
}

impl Validator<'_> {
    pub(super) fn calendar(&mut self, r: raw::RawCalendar) -> Option<Calendar> {
        let mut c = Calendar::default();
        if let Some(name) = r.time_zone {
            match self.machine.time_zone(&name) {
                Some(tz) => {
                    c.time_zone = tz;
                    c.zone_name = name;
                }
                None => self.problem(
                    "calendar.time_zone",
                    format!(
                        "{name:?} is not a known time zone: write an IANA name such as \"Europe/London\" (and make \
                         sure the tzdata package is installed)"
                    ),
                ),
            }
        }
        if let Some(days) = r.working_days {
            let mut set = [false; 7];
            for (i, d) in days.iter().enumerate() {
                match weekday_index(d) {
                    Some(w) => set[w] = true,
                    None => self.problem(
                        &format!("calendar.working_days.{i}"),
                        format!("{d:?} is not a weekday (write \"mon\" … \"sun\")"),
                    ),
                }
            }
            if !set.contains(&true) {
                self.problem("calendar.working_days", "at least one working day is needed for business days");
            }
            c.working_days = set;
        }
        if let Some(h) = r.working_hours {
            let parsed = h.split_once('-').and_then(|(a, b)| {
                let a: jiff::civil::Time = a.trim().parse().ok()?;
                let b: jiff::civil::Time = b.trim().parse().ok()?;
                (a < b).then_some((a, b))
            });
            match parsed {
                Some(p) => c.working_hours = Some(p),
                None => self.problem(
                    "calendar.working_hours",
                    format!("{h:?}: write the start and end of the working day, e.g. \"09:00-17:30\""),
                ),
            }
        }
        for (i, h) in r.holidays.unwrap_or_default().into_iter().enumerate() {
            match parse_holiday(&h) {
                Some(day) => c.holidays.push(day),
                None => self.problem(
                    &format!("calendar.holidays.{i}"),
                    format!("{h:?}: write a date (\"2026-12-25\") or a day every year (\"12-25\")"),
                ),
            }
        }
        Some(c)
    }

    pub(super) fn retention(&mut self, r: raw::RawRetention) -> Option<Retention> {
        if let Some(duty) = &r.researcher_deletion_duty
            && duty.trim().is_empty()
        {
            self.problem("retention.researcher_deletion_duty", "leave it out rather than empty");
        }
        Some(Retention {
            after_resolution: r.after_resolution,
            unticketed_mail: r.unticketed_mail.unwrap_or(PolicyDuration::new(30, super::Unit::Days)),
            receipt: r.receipt.unwrap_or(true),
            researcher_deletion_duty: r.researcher_deletion_duty,
        })
    }

    pub(super) fn recognition(&mut self, r: raw::RawRecognition) -> Option<Recognition> {
        if let Some(url) = &r.page
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            self.problem("recognition.page", "must be an http(s) URL");
        }
        Some(Recognition { hall_of_fame: r.hall_of_fame.unwrap_or(false), page: r.page })
    }
}

fn weekday_index(name: &str) -> Option<usize> {
    const NAMES: [&str; 7] = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
    let n = name.trim().to_ascii_lowercase();
    NAMES.iter().position(|full| n.len() >= 3 && full.starts_with(n.as_str()))
}

fn parse_holiday(s: &str) -> Option<Holiday> {
    let s = s.trim();
    if let Ok(d) = s.parse::<jiff::civil::Date>() {
        return Some(Holiday::Date(d));
    }
    let (m, d) = s.split_once('-')?;
    let (month, day): (i8, i8) = (m.parse().ok()?, d.parse().ok()?);
    // 2000 is a leap year: 02-29 is a valid yearly holiday (kept only in leap years).
    jiff::civil::Date::new(2000, month, day).ok()?;
    Some(Holiday::Yearly { month, day })
}

/// A duration in whole days, roughly (a month as 30, a business day as one), for comparing two of them.
fn approx_days(d: PolicyDuration) -> u64 {
    let n = u64::from(d.amount);
    match d.unit {
        super::Unit::Months => n * 30,
        super::Unit::Years => n * 365,
        super::Unit::BusinessDays => n,
        _ => d.exact().map_or(0, |e| e.as_secs() / 86_400),
    }
}

/// A URI as a security.txt field may carry it: a scheme, no whitespace or control characters (which would
/// break the line-based format).
fn is_field_uri(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once(':') else { return false };
    !scheme.is_empty()
        && scheme.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'-' || b == b'.')
        && !rest.is_empty()
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

impl Validator<'_> {
    pub(super) fn security_txt(&mut self, r: raw::RawSecurityTxt, dir: &Path) -> Option<SecurityTxt> {
        let d = SecurityTxt::default();
        let canonical = r.canonical.unwrap_or_default();
        for (i, c) in canonical.iter().enumerate() {
            if !c.starts_with("https://") || !is_field_uri(c) {
                self.problem(
                    &format!("security_txt.canonical.{i}"),
                    format!("{c:?}: an https:// URL (RFC 9116 §2.5.2)"),
                );
            }
        }
        let contacts = r.contacts.unwrap_or_default();
        for (i, c) in contacts.iter().enumerate() {
            if !is_field_uri(c) {
                self.problem(&format!("security_txt.contacts.{i}"), format!("{c:?}: a URI such as https://… or tel:…"));
            }
        }
        if let Some(e) = &r.encryption
            && !is_field_uri(e)
        {
            self.problem("security_txt.encryption", format!("{e:?}: a URI (https://…, dns:…, openpgp4fpr:…)"));
        }
        if let Some(h) = &r.hiring
            && !is_field_uri(h)
        {
            self.problem("security_txt.hiring", format!("{h:?}: a URI"));
        }
        let languages = r.preferred_languages.unwrap_or_default();
        for (i, l) in languages.iter().enumerate() {
            if l.is_empty() || l.len() > 35 || !l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
                self.problem(
                    &format!("security_txt.preferred_languages.{i}"),
                    format!("{l:?}: a language tag such as \"en\""),
                );
            }
        }
        let expires = r.expires.unwrap_or(d.expires);
        let too_long = match expires.unit {
            super::Unit::Months => expires.amount > 12,
            super::Unit::Years => expires.amount > 1,
            super::Unit::BusinessDays => expires.amount > 260,
            _ => expires.exact().is_none_or(|e| e > std::time::Duration::from_secs(366 * 86_400)),
        };
        if expires.amount == 0 || too_long {
            self.problem("security_txt.expires", format!("{expires}: between a day and a year (RFC 9116 §2.5.5)"));
        }
        let csaf = r.csaf.unwrap_or_default();
        for (i, c) in csaf.iter().enumerate() {
            if !c.starts_with("https://") || !is_field_uri(c) {
                self.problem(
                    &format!("security_txt.csaf.{i}"),
                    format!("{c:?}: the https:// URL of provider-metadata.json"),
                );
            }
        }
        let renew_before = r.renew_before.unwrap_or(d.renew_before);
        // Renewing must come before the file expires, and not at once after writing it.
        let (renew_days, expires_days) = (approx_days(renew_before), approx_days(expires));
        if renew_days == 0 || renew_days * 2 > expires_days {
            self.problem(
                "security_txt.renew_before",
                format!("{renew_before}: at least a day, and at most half of expires ({expires})"),
            );
        }
        Some(SecurityTxt {
            canonical,
            expires,
            contacts,
            encryption: r.encryption,
            preferred_languages: languages,
            hiring: r.hiring,
            csaf,
            path: r.path.map(|p| dir.join(p)),
            renew_before,
            sign: r.sign.unwrap_or(true),
        })
    }
}
