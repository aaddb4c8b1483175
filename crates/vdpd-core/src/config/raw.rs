//! The shapes of `policy.toml`, as serde reads them, and a map from key paths back to lines.
//!
//! Nothing here judges values: that is [`super::Validator`]'s job. Every field is optional so that a missing
//! key becomes a "required key is missing" problem with a line, not a serde error that stops at the first one.

use std::path::PathBuf;

use serde::Deserialize;

use super::PolicyDuration;

#[derive(Debug, Default, Deserialize)]
pub struct RawConfig {
    #[serde(default)]
    pub organisation: RawOrganisation,
    pub imap: Option<RawImap>,
    #[serde(default)]
    pub smtp: RawSmtp,
    #[serde(default)]
    pub store: RawStore,
    #[serde(default)]
    pub limits: RawLimits,
    #[serde(default)]
    pub templates: RawTemplates,
    #[serde(default)]
    pub sla: RawSla,
    pub openpgp: Option<RawOpenPgp>,
    #[serde(default)]
    pub report_form: RawReportForm,
    #[serde(default)]
    pub staff: RawStaff,
    #[serde(default)]
    pub scope: RawScope,
    #[serde(default)]
    pub bounty: RawBounty,
    #[serde(default)]
    pub calendar: RawCalendar,
    #[serde(default)]
    pub retention: RawRetention,
    #[serde(default)]
    pub recognition: RawRecognition,
    #[serde(default)]
    pub security_txt: RawSecurityTxt,
    pub metrics: Option<RawMetrics>,
    pub oauth2: Option<RawOAuth2>,
    #[serde(default)]
    pub products: Vec<RawProduct>,
    #[serde(default)]
    pub cra: RawCra,
    #[serde(default)]
    pub cve: RawCve,
    #[serde(default)]
    pub csaf: RawCsaf,
}

#[derive(Debug, Default, Deserialize)]
pub struct RawCsaf {
    pub base_url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RawCve {
    pub org_id: Option<String>,
    pub short_name: Option<String>,
    pub advisory_url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RawProduct {
    pub id: Option<String>,
    pub name: Option<String>,
    pub purl: Option<String>,
    pub cpe: Option<String>,
    pub assets: Option<Vec<String>>,
    pub member_states: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RawCra {
    pub enabled: Option<bool>,
    pub csirt: Option<String>,
    pub reminders: Option<Vec<PolicyDuration>>,
    pub incidents: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RawOAuth2 {
    pub token_url: Option<String>,
    pub client_id: Option<String>,
    pub client_secret_file: Option<PathBuf>,
    pub client_secret_env: Option<String>,
    pub refresh_token_file: Option<PathBuf>,
    pub refresh_token_env: Option<String>,
    pub scopes: Option<Vec<String>>,
    pub refresh_before: Option<PolicyDuration>,
    pub ca_file: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RawMetrics {
    pub listen: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RawSecurityTxt {
    pub canonical: Option<Vec<String>>,
    pub expires: Option<PolicyDuration>,
    pub contacts: Option<Vec<String>>,
    pub encryption: Option<String>,
    pub preferred_languages: Option<Vec<String>>,
    pub hiring: Option<String>,
    pub csaf: Option<Vec<String>>,
    pub path: Option<PathBuf>,
    pub renew_before: Option<PolicyDuration>,
    pub sign: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RawOrganisation {
    pub name: Option<String>,
    pub security_address: Option<String>,
    pub ticket_prefix: Option<String>,
    pub policy_url: Option<String>,
    pub trusted_authserv_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RawImap {
    pub host: Option<String>,
    pub port: Option<u16>,
    pub tls: Option<String>,
    pub ca_file: Option<PathBuf>,
    pub tls_fingerprint: Option<String>,
    pub username: Option<String>,
    pub password_file: Option<PathBuf>,
    pub password_env: Option<String>,
    pub auth: Option<String>,
    pub mailbox: Option<String>,
    pub processed_mailbox: Option<String>,
    pub idle: Option<bool>,
    pub poll_interval: Option<PolicyDuration>,
    pub timeout: Option<PolicyDuration>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RawSmtp {
    pub host: Option<String>,
    pub port: Option<u16>,
    pub tls: Option<String>,
    pub ca_file: Option<PathBuf>,
    pub tls_fingerprint: Option<String>,
    pub username: Option<String>,
    pub password_file: Option<PathBuf>,
    pub password_env: Option<String>,
    pub auth: Option<String>,
    pub concurrency: Option<usize>,
    pub timeout: Option<PolicyDuration>,
    pub retry_initial: Option<PolicyDuration>,
    pub retry_max: Option<PolicyDuration>,
    pub give_up_after: Option<PolicyDuration>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RawStore {
    pub path: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RawLimits {
    pub max_message_bytes: Option<usize>,
    pub max_header_bytes: Option<usize>,
    pub new_tickets_per_sender_per_day: Option<u32>,
    pub new_tickets_per_hour: Option<u32>,
    pub trial_reports_per_month: Option<u32>,
    pub auto_replies_per_ticket_per_day: Option<u32>,
    pub max_mime_depth: Option<usize>,
    pub max_mime_parts: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RawTemplates {
    pub dir: Option<PathBuf>,
    pub language: Option<String>,
    pub languages: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RawSla {
    pub acknowledge: Option<PolicyDuration>,
    pub first_diagnosis: Option<PolicyDuration>,
    pub fix: Option<RawFix>,
    pub disclosure: Option<PolicyDuration>,
    pub pause_diagnosis_while_waiting: Option<bool>,
    pub diagnosis_waits_for: Option<Vec<String>>,
    pub status_updates: Option<PolicyDuration>,
    pub status_enquiry_interval: Option<PolicyDuration>,
    pub reminders: Option<Vec<PolicyDuration>>,
    pub disclosure_reminders: Option<Vec<PolicyDuration>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RawCalendar {
    pub time_zone: Option<String>,
    pub working_days: Option<Vec<String>>,
    pub working_hours: Option<String>,
    pub holidays: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RawRetention {
    pub after_resolution: Option<PolicyDuration>,
    pub unticketed_mail: Option<PolicyDuration>,
    pub receipt: Option<bool>,
    pub researcher_deletion_duty: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RawRecognition {
    pub hall_of_fame: Option<bool>,
    pub page: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RawFix {
    pub critical: Option<PolicyDuration>,
    pub high: Option<PolicyDuration>,
    pub medium: Option<PolicyDuration>,
    pub low: Option<PolicyDuration>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RawOpenPgp {
    pub key: Option<PathBuf>,
    pub report_detail: Option<String>,
    pub staff_encryption: Option<String>,
    pub key_request_patterns: Option<Vec<String>>,
    pub max_decrypted_bytes: Option<usize>,
    pub max_compression_ratio: Option<usize>,
    pub autocrypt: Option<bool>,
    pub learn_keys: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RawReportForm {
    pub enabled: Option<bool>,
    pub delivery: Option<String>,
    pub read_prose: Option<bool>,
    pub sections: Option<Vec<RawSection>>,
    pub require: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RawSection {
    pub name: Option<String>,
    pub mandatory: Option<bool>,
    pub hint: Option<String>,
    pub kind: Option<String>,
    pub aliases: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RawStaff {
    pub members: Option<Vec<RawMember>>,
    pub authentication: Option<String>,
    pub trusted_authserv_id: Option<String>,
    pub max_signature_age: Option<PolicyDuration>,
    pub signature_must_name_ticket: Option<bool>,
    pub max_attachment_bytes: Option<usize>,
    pub warnings_per_day: Option<u32>,
    pub escalation: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RawScope {
    pub domains: Option<Vec<String>>,
    pub assets: Option<Vec<String>>,
    pub out_of_scope: Option<Vec<RawClause>>,
    pub duplicate_window: Option<PolicyDuration>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RawClause {
    pub id: Option<String>,
    pub class: Option<String>,
    pub wording: Option<String>,
    pub hints: Option<Vec<String>>,
    pub sub_processors: Option<Vec<RawSubProcessor>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RawSubProcessor {
    pub name: Option<String>,
    pub contact: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RawBounty {
    pub enabled: Option<bool>,
    pub currency: Option<String>,
    pub payment: Option<String>,
    pub invoice_fields: Option<Vec<String>>,
    pub tiers: Option<Vec<RawTier>>,
    pub approximate: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RawTier {
    pub id: Option<String>,
    pub amount: Option<u32>,
    pub meaning: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RawMember {
    pub address: Option<String>,
    pub name: Option<String>,
    pub cert: Option<PathBuf>,
    pub dkim_proof: Option<String>,
    pub login: Option<String>,
}

/// Deserializes the file, returning the raw config and the dotted path of every key serde did not use.
pub fn read(text: &str) -> Result<(RawConfig, Vec<String>), toml::de::Error> {
    let de = toml::Deserializer::parse(text)?;
    let mut unknown = Vec::new();
    let raw = serde_ignored::deserialize(de, |path| unknown.push(path_string(&path)))?;
    Ok((raw, unknown))
}

/// `imap.processed_mailbox`, `staff.0.address`: the same form [`SourceMap`] uses. serde_ignored's own
/// rendering puts `?` for `Option`s, which no admin would recognise.
fn path_string(path: &serde_ignored::Path<'_>) -> String {
    use serde_ignored::Path;
    fn walk(p: &Path<'_>, out: &mut Vec<String>) {
        match p {
            Path::Root => {}
            Path::Seq { parent, index } => {
                walk(parent, out);
                out.push(index.to_string());
            }
            Path::Map { parent, key } => {
                walk(parent, out);
                out.push(key.clone());
            }
            Path::Some { parent } | Path::NewtypeStruct { parent } | Path::NewtypeVariant { parent } => {
                walk(parent, out)
            }
        }
    }
    let mut parts = Vec::new();
    walk(path, &mut parts);
    parts.join(".")
}

/// Where each key of the file is, so that every problem can name its line.
pub struct SourceMap {
    /// Byte offset of the start of each line.
    line_starts: Vec<usize>,
    /// (dotted path, offset of the key, span of its value).
    entries: Vec<(String, usize, std::ops::Range<usize>)>,
}

impl SourceMap {
    pub fn new(text: &str) -> SourceMap {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        let mut entries = Vec::new();
        // A syntax error leaves the map empty; that error carries its own span.
        if let Ok(table) = toml::de::DeTable::parse(text) {
            collect(table.get_ref(), "", &mut entries);
        }
        SourceMap { line_starts, entries }
    }

    /// 1-based line of a byte offset.
    pub fn line_at(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&start| start <= offset)
    }

    /// The line where a key (or section header) is written.
    pub fn line_of_key(&self, path: &str) -> Option<usize> {
        self.entries.iter().find(|(p, _, _)| p == path).map(|(_, key, _)| self.line_at(*key))
    }

    /// The innermost key whose value contains `offset`.
    pub fn key_at(&self, offset: usize) -> Option<String> {
        self.entries
            .iter()
            .filter(|(_, _, value)| value.contains(&offset) || value.start == offset)
            .max_by_key(|(p, _, _)| p.matches('.').count())
            .map(|(p, _, _)| p.clone())
    }
}

fn collect(table: &toml::de::DeTable<'_>, prefix: &str, out: &mut Vec<(String, usize, std::ops::Range<usize>)>) {
    for (key, value) in table {
        let path = if prefix.is_empty() { key.get_ref().to_string() } else { format!("{prefix}.{}", key.get_ref()) };
        out.push((path.clone(), key.span().start, value.span()));
        collect_value(value.get_ref(), &path, out);
    }
}

fn collect_value(value: &toml::de::DeValue<'_>, path: &str, out: &mut Vec<(String, usize, std::ops::Range<usize>)>) {
    match value {
        toml::de::DeValue::Table(t) => collect(t, path, out),
        toml::de::DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let item_path = format!("{path}.{i}");
                out.push((item_path.clone(), item.span().start, item.span()));
                collect_value(item.get_ref(), &item_path, out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_keys() {
        let text = "a = 1\n\n[sec]\nkey = \"v\"\n[[arr]]\nx = 2\n";
        let map = SourceMap::new(text);
        assert_eq!(map.line_of_key("a"), Some(1));
        assert_eq!(map.line_of_key("sec"), Some(3));
        assert_eq!(map.line_of_key("sec.key"), Some(4));
        assert_eq!(map.line_of_key("arr.0.x"), Some(6));
        let value_offset = text.find("\"v\"").unwrap();
        assert_eq!(map.key_at(value_offset).as_deref(), Some("sec.key"));
        assert_eq!(map.line_at(0), 1);
        assert_eq!(map.line_at(text.len() - 1), 6);
    }
}
