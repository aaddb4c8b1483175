//! `policy.toml` → a validated [`Config`].
//!
//! Two phases, as ripgrep parses its flags: serde reads the text into the raw structs of [`raw`] (which know
//! nothing but shapes), then `from_raw` checks meaning and builds the types of this module. Every problem is
//! collected, not just the first, and each one names the file, the line and the key, so an admin fixes a broken
//! policy in one round instead of ten. Unknown keys are errors: a misspelt `procesed_mailbox` that silently does
//! nothing is how mail ends up flagged instead of moved.
//!
//! Pure: the text comes in (the shell reads the file), and the one question about the filesystem — does a CA
//! file the policy names exist — is a function the caller passes. Secrets are never read here.

use std::path::{Path, PathBuf};

mod cra;
mod policy;

use super::*;

/// What validating a policy asks of the machine it will run on: whether a file it names (a CA file) is there,
/// and the rules of a time zone it names, from the system's zone database. The shell answers from the machine;
/// tests answer from a table ([`TestMachine`]).
pub trait Machine {
    fn exists(&self, path: &Path) -> bool;
    fn time_zone(&self, name: &str) -> Option<jiff::tz::TimeZone>;
}

/// A machine for tests: every file exists, and the zones the shipped and example policies name have today's
/// rules (as POSIX TZ strings, so no zone database is read).
#[cfg(test)]
pub(crate) struct TestMachine;

#[cfg(test)]
impl Machine for TestMachine {
    fn exists(&self, _: &Path) -> bool {
        true
    }

    fn time_zone(&self, name: &str) -> Option<jiff::tz::TimeZone> {
        let rules = match name {
            "UTC" => return Some(jiff::tz::TimeZone::UTC),
            "Europe/London" => "GMT0BST,M3.5.0/1,M10.5.0",
            "Europe/Paris" | "Europe/Berlin" => "CET-1CEST,M3.5.0,M10.5.0/3",
            _ => return None,
        };
        jiff::tz::TimeZone::posix(rules).ok()
    }
}

/// Validates policy text as if it had been read from `path` (which is used for messages and to resolve
/// relative paths), asking `machine` what only the machine it runs on knows.
pub fn parse(text: &str, path: &Path, machine: &dyn Machine) -> Result<Config, Vec<Problem>> {
    let map = raw::SourceMap::new(text);
    let mut problems = Vec::new();
    let raw = match raw::read(text) {
        Ok((raw, unknown)) => {
            for key in unknown {
                problems.push(Problem {
                    file: path.to_path_buf(),
                    line: map.line_of_key(&key),
                    message: "unknown key (misspelt, or in the wrong section?)".into(),
                    key,
                });
            }
            Some(raw)
        }
        Err(e) => {
            let (line, key) = match e.span() {
                Some(span) => (Some(map.line_at(span.start)), map.key_at(span.start)),
                None => (None, None),
            };
            problems.push(Problem {
                file: path.to_path_buf(),
                line,
                key: key.unwrap_or_else(|| "(file)".into()),
                message: e.message().trim().to_string(),
            });
            None
        }
    };
    let Some(raw) = raw else {
        return Err(problems);
    };
    let mut v = Validator { file: path.to_path_buf(), map: &map, problems, machine };
    let config = from_raw(raw, path, &mut v);
    if v.problems.is_empty() {
        Ok(config.expect("no problems means every field was set"))
    } else {
        let mut problems = v.problems;
        problems.sort_by_key(|p| p.line.unwrap_or(usize::MAX));
        Err(problems)
    }
}

fn from_raw(raw: raw::RawConfig, path: &Path, v: &mut Validator<'_>) -> Option<Config> {
    let dir = config_dir(path);
    let authserv_id =
        v.authserv_id(raw.organisation.trusted_authserv_id.clone(), raw.staff.trusted_authserv_id.clone());
    let organisation = v.organisation(raw.organisation, authserv_id.clone());
    let imap = raw.imap.map(|r| v.imap(r, &dir));
    let smtp = v.smtp(raw.smtp, &dir);
    let oauth2 = raw.oauth2.map(|r| v.oauth2(r, &dir));
    let wants_oauth2 = matches!(&imap, Some(Some(i)) if matches!(i.auth, ImapAuth::XOAuth2))
        || matches!(&smtp, Some(s) if matches!(s.auth, Some(SmtpAuth::XOAuth2 { .. })));
    if wants_oauth2 && oauth2.is_none() {
        v.problem("oauth2", "auth = \"xoauth2\" needs an [oauth2] section (token_url, client_id, refresh_token_file)");
    }
    let oauth2 = match oauth2 {
        Some(Some(o)) => Some(o),
        Some(None) => return None,
        None => None,
    };
    let store = v.required("store.path", raw.store.path).map(|p| StoreConfig { path: dir.join(p) });
    let limits = v.limits(raw.limits);
    let templates = v.templates(raw.templates, &dir);
    let sla = v.sla(raw.sla);
    let store_dir = store.as_ref().map(|s| config_dir(&s.path)).unwrap_or_else(|| dir.clone());
    let openpgp = raw.openpgp.map(|r| v.openpgp(r, &store_dir, authserv_id.as_deref()));
    let recognition = v.recognition(raw.recognition);
    let hall_of_fame = recognition.as_ref().is_some_and(|r| r.hall_of_fame);
    let report_form = v.report_form(raw.report_form, hall_of_fame);
    let calendar = v.calendar(raw.calendar);
    let retention = v.retention(raw.retention);
    let security_txt = v.security_txt(raw.security_txt, &dir);
    let metrics = raw.metrics.and_then(|m| {
        let listen = v.required("metrics.listen", m.listen)?;
        match listen.parse::<std::net::SocketAddr>() {
            Ok(addr) => Some(addr),
            Err(_) => {
                v.problem("metrics.listen", format!("{listen:?}: write an address and port, e.g. \"127.0.0.1:9464\""));
                None
            }
        }
    });
    let products = v.products(raw.products);
    let cra = v.cra(raw.cra, products.as_deref().unwrap_or_default());
    if let (Some(form), Some(cra)) = (&report_form, &cra)
        && !cra.enabled
        && let Some(i) = form.sections.iter().position(|s| s.kind == SectionKind::Exploited)
    {
        v.problem(
            &format!("report_form.sections.{i}.kind"),
            "\"exploited\" starts the Cyber Resilience Act's clocks: it needs [cra] enabled = true",
        );
    }
    if let (Some(form), Some(sla)) = (&report_form, &sla) {
        v.diagnosis_waits_for(sla, form);
    }
    let cve = v.cve(raw.cve);
    let csaf = v.csaf(raw.csaf);
    let staff = v.staff(raw.staff, &dir, authserv_id.as_deref());
    let scope = v.scope(raw.scope);
    let bounty = v.bounty(raw.bounty);
    let openpgp = match openpgp {
        Some(Some(o)) => Some(o),
        Some(None) => return None,
        None => None,
    };
    let imap = match imap {
        Some(Some(i)) => Some(i),
        Some(None) => return None,
        None => None,
    };
    Some(Config {
        path: path.to_path_buf(),
        organisation: organisation?,
        imap,
        smtp: smtp?,
        store: store?,
        limits: limits?,
        templates,
        sla: sla?,
        openpgp,
        report_form: report_form?,
        staff: staff?,
        scope: scope?,
        bounty: bounty?,
        calendar: calendar?,
        retention: retention?,
        recognition: recognition?,
        security_txt: security_txt?,
        metrics,
        oauth2,
        products: products?,
        cra: cra?,
        cve: cve?,
        csaf: csaf?,
    })
}

/// Collects problems with their lines while turning raw values into validated ones.
struct Validator<'a> {
    file: PathBuf,
    map: &'a raw::SourceMap,
    problems: Vec<Problem>,
    machine: &'a dyn Machine,
}

impl Validator<'_> {
    fn problem(&mut self, key: &str, message: impl Into<String>) {
        self.problems.push(Problem {
            file: self.file.clone(),
            line: self.map.line_of_key(key),
            key: key.to_string(),
            message: message.into(),
        });
    }

    fn required<T>(&mut self, key: &str, value: Option<T>) -> Option<T> {
        if value.is_none() {
            // Point at the section header so the admin knows where to add it.
            let section = key.rsplit_once('.').map(|(s, _)| s).unwrap_or("");
            self.problems.push(Problem {
                file: self.file.clone(),
                line: self.map.line_of_key(section),
                key: key.to_string(),
                message: "required key is missing".into(),
            });
        }
        value
    }

    fn address(&mut self, key: &str, value: Option<String>) -> Option<String> {
        let value = self.required(key, value)?;
        match crate::mailtext::is_valid_address(&value) {
            true if !value.contains(['<', '>', ' ', '\r', '\n']) => Some(value.to_ascii_lowercase()),
            _ => {
                self.problem(key, format!("{value:?} is not a plain email address (write local@domain)"));
                None
            }
        }
    }

    fn duration(&mut self, key: &str, value: Option<PolicyDuration>, default: PolicyDuration) -> std::time::Duration {
        let d = value.unwrap_or(default);
        match d.exact() {
            Some(d) => d,
            None => {
                self.problem(key, format!("{d} has no fixed length here: use seconds, minutes, hours or days"));
                default.exact().unwrap_or_default()
            }
        }
    }

    /// The trusted authserv-id: `[organisation] trusted_authserv_id`, or (its older place, still read)
    /// `[staff] trusted_authserv_id`.
    fn authserv_id(&mut self, org: Option<String>, staff: Option<String>) -> Option<String> {
        let (key, id) = match (org, staff) {
            (Some(a), Some(b)) if !a.eq_ignore_ascii_case(&b) => {
                self.problem(
                    "staff.trusted_authserv_id",
                    format!(
                        "{b:?} differs from organisation.trusted_authserv_id {a:?}: set it once, in [organisation]"
                    ),
                );
                return None;
            }
            (Some(a), _) => ("organisation.trusted_authserv_id", a),
            (None, Some(b)) => ("staff.trusted_authserv_id", b),
            (None, None) => return None,
        };
        if policy::is_hostname(&id.to_ascii_lowercase()) {
            Some(id.to_ascii_lowercase())
        } else {
            self.problem(key, format!("{id:?}: give the authserv-id your MX writes, e.g. \"mx.example.com\""));
            None
        }
    }

    fn organisation(&mut self, r: raw::RawOrganisation, trusted_authserv_id: Option<String>) -> Option<Organisation> {
        let name = self.required("organisation.name", r.name);
        let security_address = self.address("organisation.security_address", r.security_address);
        let prefix = self.required("organisation.ticket_prefix", r.ticket_prefix);
        if let Some(p) = &prefix {
            let ok = !p.is_empty()
                && p.len() <= 16
                && p.bytes().all(|b| b.is_ascii_alphanumeric())
                && p.bytes().next().is_some_and(|b| b.is_ascii_alphabetic());
            if !ok {
                self.problem(
                    "organisation.ticket_prefix",
                    format!("{p:?}: use 1 to 16 letters and digits, starting with a letter (e.g. \"EX\")"),
                );
            }
        }
        if let Some(url) = &r.policy_url
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            self.problem("organisation.policy_url", "must be an http(s) URL");
        }
        let security_address = security_address?;
        let domain = security_address.rsplit_once('@').map(|(_, d)| d.to_string())?;
        Some(Organisation {
            name: name?,
            security_address,
            domain,
            ticket_prefix: prefix?.to_ascii_uppercase(),
            policy_url: r.policy_url,
            trusted_authserv_id,
        })
    }

    fn templates(&mut self, r: raw::RawTemplates, dir: &Path) -> TemplatesConfig {
        let mut lang =
            |key: &str, tag: &str| tag.parse::<crate::lang::Lang>().map_err(|e| self.problem(key, e.to_string())).ok();
        let language =
            r.language.and_then(|t| lang("templates.language", &t)).unwrap_or_else(crate::lang::Lang::english);
        let languages = r.languages.map(|list| {
            let mut out: Vec<crate::lang::Lang> = Vec::new();
            for (i, t) in list.iter().enumerate() {
                if let Some(l) = lang(&format!("templates.languages.{i}"), t)
                    && l != language
                    && !out.contains(&l)
                {
                    out.push(l);
                }
            }
            out
        });
        TemplatesConfig { dir: dir.join(r.dir.unwrap_or_else(|| PathBuf::from("templates"))), language, languages }
    }

    fn tls(&mut self, section: &str, host: &Option<String>, tls: Option<String>) -> Option<TlsMode> {
        let key = format!("{section}.tls");
        let mode = match tls.as_deref().unwrap_or("implicit") {
            "implicit" => TlsMode::Implicit,
            "starttls" => TlsMode::Starttls,
            "none" => TlsMode::None,
            other => {
                self.problem(&key, format!("{other:?}: choose \"implicit\", \"starttls\" or \"none\""));
                return None;
            }
        };
        if mode == TlsMode::None
            && let Some(h) = host
            && !is_loopback(h)
        {
            self.problem(
                &key,
                format!("tls = \"none\" sends passwords and reports in clear text; it is allowed only to a loopback address, not {h:?}"),
            );
            return None;
        }
        Some(mode)
    }

    fn fingerprint(&mut self, key: &str, value: Option<String>) -> Option<Fingerprint> {
        value.and_then(|v| v.parse().map_err(|e| self.problem(key, e)).ok())
    }

    fn ca_file(&mut self, key: &str, ca: Option<PathBuf>, dir: &Path) -> Option<PathBuf> {
        ca.map(|p| dir.join(p)).inspect(|p| {
            if !self.machine.exists(p) {
                self.problem(key, format!("{} does not exist", p.display()));
            }
        })
    }

    fn imap(&mut self, r: raw::RawImap, dir: &Path) -> Option<ImapConfig> {
        let tls = self.tls("imap", &r.host, r.tls);
        let host = self.required("imap.host", r.host);
        let username = self.required("imap.username", r.username);
        let password = self.password_pair("imap", "password", r.password_file, r.password_env, dir);
        let auth = match r.auth.as_deref().unwrap_or("password") {
            "password" => {
                if password.is_none() && !self.problems.iter().any(|p| p.key == "imap.password_env") {
                    self.problem("imap.password_file", "IMAP needs a password: set password_file or password_env");
                }
                password.map(ImapAuth::Password)
            }
            "xoauth2" => {
                if password.is_some() {
                    self.problem(
                        "imap.auth",
                        "auth = \"xoauth2\" logs in with a token from [oauth2]: remove the password",
                    );
                }
                Some(ImapAuth::XOAuth2)
            }
            other => {
                self.problem("imap.auth", format!("{other:?}: choose \"password\" or \"xoauth2\""));
                None
            }
        };
        let ca_file = self.ca_file("imap.ca_file", r.ca_file, dir);
        let tls_fingerprint = self.fingerprint("imap.tls_fingerprint", r.tls_fingerprint);
        let poll_interval =
            self.duration("imap.poll_interval", r.poll_interval, PolicyDuration::new(60, Unit::Seconds));
        let timeout = self.duration("imap.timeout", r.timeout, PolicyDuration::new(60, Unit::Seconds));
        if poll_interval.is_zero() || poll_interval > std::time::Duration::from_secs(29 * 60) {
            self.problem("imap.poll_interval", "must be between 1 second and 29 minutes");
        }
        if timeout.is_zero() {
            self.problem("imap.timeout", "must be more than zero");
        }
        let mailbox = r.mailbox.unwrap_or_else(|| "INBOX".into());
        if let Some(p) = &r.processed_mailbox
            && p == &mailbox
        {
            self.problem("imap.processed_mailbox", "must differ from imap.mailbox");
        }
        let tls = tls?;
        let port = r.port.unwrap_or(match tls {
            TlsMode::Implicit => 993,
            TlsMode::Starttls | TlsMode::None => 143,
        });
        Some(ImapConfig {
            host: host?,
            port,
            tls,
            ca_file,
            tls_fingerprint,
            username: username?,
            auth: auth?,
            mailbox,
            processed_mailbox: r.processed_mailbox,
            idle: r.idle.unwrap_or(true),
            poll_interval,
            timeout,
        })
    }

    fn smtp(&mut self, r: raw::RawSmtp, dir: &Path) -> Option<SmtpConfig> {
        let tls = self.tls("smtp", &r.host, r.tls);
        let host = self.required("smtp.host", r.host);
        let password = self.password_pair("smtp", "password", r.password_file, r.password_env, dir);
        let xoauth2 = match r.auth.as_deref() {
            None | Some("password") => false,
            Some("xoauth2") => true,
            Some(other) => {
                self.problem("smtp.auth", format!("{other:?}: choose \"password\" or \"xoauth2\""));
                false
            }
        };
        let auth = match (r.username, password) {
            (Some(username), None) if xoauth2 => Some(SmtpAuth::XOAuth2 { username }),
            (_, Some(_)) if xoauth2 => {
                self.problem("smtp.auth", "auth = \"xoauth2\" logs in with a token from [oauth2]: remove the password");
                None
            }
            (None, None) if xoauth2 => {
                self.problem("smtp.username", "auth = \"xoauth2\" needs the username (the mailbox's address)");
                None
            }
            (Some(username), Some(password)) => Some(SmtpAuth::Password { username, password }),
            (None, None) => None,
            (Some(_), None) => {
                if !self.problems.iter().any(|p| p.key == "smtp.password_env") {
                    self.problem("smtp.username", "a username needs password_file or password_env");
                }
                None
            }
            (None, Some(_)) => {
                self.problem("smtp.username", "a password is set but no username");
                None
            }
        };
        let ca_file = self.ca_file("smtp.ca_file", r.ca_file, dir);
        let tls_fingerprint = self.fingerprint("smtp.tls_fingerprint", r.tls_fingerprint);
        let concurrency = r.concurrency.unwrap_or(4);
        if !(1..=64).contains(&concurrency) {
            self.problem("smtp.concurrency", "must be between 1 and 64");
        }
        let timeout = self.duration("smtp.timeout", r.timeout, PolicyDuration::new(60, Unit::Seconds));
        let retry_initial =
            self.duration("smtp.retry_initial", r.retry_initial, PolicyDuration::new(30, Unit::Seconds));
        let retry_max = self.duration("smtp.retry_max", r.retry_max, PolicyDuration::new(1, Unit::Hours));
        let give_up_after = self.duration("smtp.give_up_after", r.give_up_after, PolicyDuration::new(5, Unit::Days));
        if retry_initial.is_zero() || retry_max < retry_initial {
            self.problem("smtp.retry_max", "retry_initial must be more than zero and retry_max at least retry_initial");
        }
        let tls = tls?;
        let port = r.port.unwrap_or(match tls {
            TlsMode::Implicit => 465,
            TlsMode::Starttls => 587,
            TlsMode::None => 25,
        });
        Some(SmtpConfig {
            host: host?,
            port,
            tls,
            ca_file,
            tls_fingerprint,
            auth,
            concurrency,
            timeout,
            retry_initial,
            retry_max,
            give_up_after,
        })
    }

    fn oauth2(&mut self, r: raw::RawOAuth2, dir: &Path) -> Option<OAuth2Config> {
        let token_url = self.required("oauth2.token_url", r.token_url);
        if let Some(u) = &token_url {
            let host = u.split_once("://").map(|(_, rest)| rest.split(['/', ':', '?']).next().unwrap_or(""));
            let ok = match (u.starts_with("https://"), u.starts_with("http://"), host) {
                (true, _, Some(h)) => !h.is_empty(),
                (_, true, Some(h)) => is_loopback(h),
                _ => false,
            };
            if !ok {
                self.problem(
                    "oauth2.token_url",
                    format!("{u:?}: an https:// URL (http:// only to a loopback address)"),
                );
            }
        }
        let client_id = self.required("oauth2.client_id", r.client_id);
        let client_secret =
            self.password_pair("oauth2", "client_secret", r.client_secret_file, r.client_secret_env, dir);
        let refresh_token =
            self.password_pair("oauth2", "refresh_token", r.refresh_token_file, r.refresh_token_env, dir);
        if refresh_token.is_none() && !self.problems.iter().any(|p| p.key.starts_with("oauth2.refresh_token")) {
            self.problem("oauth2.refresh_token_file", "set refresh_token_file or refresh_token_env");
        }
        let refresh_before =
            self.duration("oauth2.refresh_before", r.refresh_before, PolicyDuration::new(5, Unit::Minutes));
        let ca_file = self.ca_file("oauth2.ca_file", r.ca_file, dir);
        Some(OAuth2Config {
            token_url: token_url?,
            client_id: client_id?,
            client_secret,
            refresh_token: refresh_token?,
            scopes: r.scopes.unwrap_or_default(),
            refresh_before,
            ca_file,
        })
    }

    /// A secret given as `<name>_file` or `<name>_env` (not both).
    fn password_pair(
        &mut self,
        section: &str,
        name: &str,
        file: Option<PathBuf>,
        env: Option<String>,
        dir: &Path,
    ) -> Option<PasswordSource> {
        match (file, env) {
            (Some(_), Some(_)) => {
                self.problem(
                    &format!("{section}.{name}_env"),
                    format!("set either {name}_file or {name}_env, not both"),
                );
                None
            }
            (Some(name), None) => Some(PasswordSource::File { name, config_dir: dir.to_path_buf() }),
            (None, Some(var)) => Some(PasswordSource::Env(var)),
            (None, None) => None,
        }
    }

    fn limits(&mut self, r: raw::RawLimits) -> Option<Limits> {
        let d = Limits::default();
        let l = Limits {
            max_message_bytes: r.max_message_bytes.unwrap_or(d.max_message_bytes),
            max_header_bytes: r.max_header_bytes.unwrap_or(d.max_header_bytes),
            new_tickets_per_sender_per_day: r
                .new_tickets_per_sender_per_day
                .unwrap_or(d.new_tickets_per_sender_per_day),
            new_tickets_per_hour: r.new_tickets_per_hour.unwrap_or(d.new_tickets_per_hour),
            trial_reports_per_month: r.trial_reports_per_month,
            auto_replies_per_ticket_per_day: r
                .auto_replies_per_ticket_per_day
                .unwrap_or(d.auto_replies_per_ticket_per_day),
            max_mime_depth: r.max_mime_depth.unwrap_or(d.max_mime_depth),
            max_mime_parts: r.max_mime_parts.unwrap_or(d.max_mime_parts),
        };
        let before = self.problems.len();
        if !(1024..=1024 * 1024 * 1024).contains(&l.max_message_bytes) {
            self.problem("limits.max_message_bytes", "must be between 1 KiB and 1 GiB");
        }
        if !(8 * 1024..=16 * 1024 * 1024).contains(&l.max_header_bytes) {
            self.problem("limits.max_header_bytes", "must be between 8 KiB and 16 MiB");
        }
        if l.new_tickets_per_sender_per_day == 0 {
            self.problem("limits.new_tickets_per_sender_per_day", "must be at least 1");
        }
        if l.new_tickets_per_hour == 0 {
            self.problem("limits.new_tickets_per_hour", "must be at least 1");
        }
        if l.trial_reports_per_month == Some(0) {
            self.problem("limits.trial_reports_per_month", "must be at least 1 (leave it out for no trial)");
        }
        if !(1..=64).contains(&l.max_mime_depth) {
            self.problem("limits.max_mime_depth", "must be between 1 and 64");
        }
        if !(1..=10_000).contains(&l.max_mime_parts) {
            self.problem("limits.max_mime_parts", "must be between 1 and 10000");
        }
        (self.problems.len() == before).then_some(l)
    }

    /// `sla.diagnosis_waits_for` names sections of the form, and a clock that waits pauses.
    fn diagnosis_waits_for(&mut self, sla: &Sla, form: &crate::config::ReportForm) {
        let key = "sla.diagnosis_waits_for";
        if sla.diagnosis_waits_for.is_empty() {
            return;
        }
        if !sla.pause_diagnosis_while_waiting {
            self.problem(key, "a clock that waits for sections pauses: set pause_diagnosis_while_waiting = true");
        }
        if sla.first_diagnosis.is_none() {
            self.problem(key, "there is no diagnosis clock (sla.first_diagnosis) to wait");
        }
        if !form.enabled {
            self.problem(key, "names form sections, but [report_form] is not enabled");
        }
        for name in &sla.diagnosis_waits_for {
            if !form.sections.iter().any(|s| s.name == *name) {
                let names: Vec<&str> = form.sections.iter().map(|s| s.name.as_str()).collect();
                self.problem(key, format!("{name:?} is not a section of the form ({})", names.join(", ")));
            }
        }
    }

    fn sla(&mut self, r: raw::RawSla) -> Option<Sla> {
        let acknowledge = self.required("sla.acknowledge", r.acknowledge);
        let fix = r
            .fix
            .map(|f| {
                [
                    (Severity::Critical, f.critical),
                    (Severity::High, f.high),
                    (Severity::Medium, f.medium),
                    (Severity::Low, f.low),
                ]
                .into_iter()
                .filter_map(|(s, d)| d.map(|d| (s, d)))
                .collect()
            })
            .unwrap_or_default();
        if let Some(d) = r.status_updates
            && d.exact().is_some_and(|e| e < std::time::Duration::from_secs(86_400))
        {
            self.problem("sla.status_updates", format!("{d} would flood the researcher: at least 1 day"));
        }
        Some(Sla {
            acknowledge: acknowledge?,
            first_diagnosis: r.first_diagnosis,
            fix,
            disclosure: r.disclosure,
            // Naming what the clock waits for says that it pauses.
            pause_diagnosis_while_waiting: r
                .pause_diagnosis_while_waiting
                .unwrap_or(r.diagnosis_waits_for.as_ref().is_some_and(|w| !w.is_empty())),
            diagnosis_waits_for: r.diagnosis_waits_for.unwrap_or_default(),
            status_updates: r.status_updates,
            status_enquiry_interval: r.status_enquiry_interval,
            reminders: r.reminders.unwrap_or_default(),
            disclosure_reminders: r.disclosure_reminders.unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
[organisation]
name = "Example"
security_address = "Security@Example.COM"
ticket_prefix = "ex"

[smtp]
host = "127.0.0.1"
port = 2525
tls = "none"

[store]
path = "/var/lib/vdpd/vdpd.sqlite"

[sla]
acknowledge = "24h"
"#;

    fn parse(text: &str) -> Result<Config, Vec<Problem>> {
        super::parse(text, Path::new("/etc/vdpd/policy.toml"), &TestMachine)
    }

    #[test]
    fn minimal_policy_is_valid_and_normalised() {
        let c = parse(MINIMAL).unwrap();
        assert_eq!(c.organisation.security_address, "security@example.com");
        assert_eq!(c.organisation.domain, "example.com");
        assert_eq!(c.organisation.ticket_prefix, "EX");
        assert!(c.imap.is_none());
        assert_eq!(c.smtp.port, 2525);
        assert_eq!(c.templates.dir, Path::new("/etc/vdpd/templates"));
    }

    #[test]
    fn every_unknown_key_is_reported_with_its_line() {
        let text = MINIMAL.replace("port = 2525", "port = 2525\nprot = 1\nfoo = 2") + "\n[bogus]\nx = 1\n";
        let problems = parse(&text).unwrap_err();
        let keys: Vec<_> = problems.iter().map(|p| (p.key.as_str(), p.line)).collect();
        assert!(keys.contains(&("smtp.prot", Some(10))), "{problems:?}");
        assert!(keys.contains(&("smtp.foo", Some(11))), "{problems:?}");
        assert!(keys.iter().any(|(k, _)| k.starts_with("bogus")), "{problems:?}");
        let shown = problems[0].to_string();
        assert!(shown.starts_with("/etc/vdpd/policy.toml:"), "{shown}");
    }

    #[test]
    fn type_errors_name_line_and_key() {
        let text = MINIMAL.replace("port = 2525", "port = \"twenty\"");
        let problems = parse(&text).unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].line, Some(9));
        assert_eq!(problems[0].key, "smtp.port");
    }

    #[test]
    fn clear_text_refused_off_loopback_and_all_problems_at_once() {
        let text = MINIMAL
            .replace("host = \"127.0.0.1\"", "host = \"mail.example.com\"")
            .replace("ticket_prefix = \"ex\"", "ticket_prefix = \"E-X\"")
            .replace("acknowledge = \"24h\"", "");
        let problems = parse(&text).unwrap_err();
        let keys: Vec<_> = problems.iter().map(|p| p.key.as_str()).collect();
        assert!(keys.contains(&"smtp.tls"), "{problems:?}");
        assert!(keys.contains(&"organisation.ticket_prefix"), "{problems:?}");
        assert!(keys.contains(&"sla.acknowledge"), "{problems:?}");
    }

    #[test]
    fn imap_section_validated() {
        let text = format!(
            "{MINIMAL}\n[imap]\nhost = \"localhost\"\ntls = \"starttls\"\nusername = \"sec\"\npassword_env = \"P\"\npoll_interval = \"1 month\"\n"
        );
        let problems = parse(&text).unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].key, "imap.poll_interval");
        let ok = text.replace("\"1 month\"", "\"30s\"");
        let c = parse(&ok).unwrap();
        let imap = c.imap.unwrap();
        assert_eq!(imap.port, 143);
        assert_eq!(imap.mailbox, "INBOX");
        assert_eq!(imap.poll_interval, std::time::Duration::from_secs(30));
    }

    #[test]
    fn the_shipped_policy_is_valid() {
        let c = super::parse(include_str!("../../../../policy.toml"), Path::new("/etc/vdpd/policy.toml"), &TestMachine)
            .unwrap();
        assert_eq!(c.organisation.ticket_prefix, "EX");
        assert_eq!(c.imap.unwrap().processed_mailbox.as_deref(), Some("vdpd/processed"));
        assert!(c.smtp.auth.is_some());
        assert_eq!(c.store.path, Path::new("/var/lib/vdpd/vdpd.sqlite"));
        assert_eq!(c.sla.fix.len(), 4);
    }

    #[test]
    fn staff_authentication_is_chosen_and_the_trusted_authserv_id_named_once() {
        let members = "[[staff.members]]\naddress = \"alice@example.com\"\ncert = \"alice.asc\"\n";
        // Naming the MX does not switch staff to DKIM: the mode is chosen explicitly.
        let with_id = |text: &str, id: &str| {
            text.replace(
                "ticket_prefix = \"ex\"\n",
                &format!("ticket_prefix = \"ex\"\ntrusted_authserv_id = \"{id}\"\n"),
            )
        };
        let named = with_id(&format!("{MINIMAL}\n{members}"), "mx.example.com");
        let c = parse(&named).unwrap();
        assert_eq!(c.staff.authentication, StaffAuth::OpenPgp);
        assert_eq!(c.organisation.trusted_authserv_id.as_deref(), Some("mx.example.com"));
        let dkim_without_id = format!("{MINIMAL}\n[staff]\nauthentication = \"dkim\"\n{members}");
        assert!(parse(&dkim_without_id).unwrap_err().iter().any(|p| p.key == "organisation.trusted_authserv_id"));
        let no_cert = format!("{MINIMAL}\n[[staff.members]]\naddress = \"bob@example.com\"\n");
        assert!(parse(&no_cert).unwrap_err()[0].message.contains("needs the member's certificate"));
        // Its older place, [staff], is still read.
        let dkim = format!(
            "{MINIMAL}\n[staff]\nauthentication = \"dkim\"\ntrusted_authserv_id = \"MX.example.com\"\n[[staff.members]]\naddress = \"bob@example.com\"\ndkim_proof = \"smtp.auth\"\nlogin = \"Bob\"\n"
        );
        let c = parse(&dkim).unwrap();
        assert_eq!(c.staff.authentication, StaffAuth::Dkim { authserv_id: "mx.example.com".into() });
        assert_eq!(c.staff.members[0].dkim_proof, DkimProof::SmtpAuth { login: "bob".into() });
        // Two different ids, or a login without smtp.auth, are mistakes.
        let twice = with_id(&dkim, "other.example.com");
        assert!(parse(&twice).unwrap_err().iter().any(|p| p.message.contains("differs")));
        let stray = dkim.replace("dkim_proof = \"smtp.auth\"\n", "");
        assert!(parse(&stray).unwrap_err().iter().any(|p| p.key == "staff.members.0.login"));
        // Learning keys only from DMARC-passing mail needs the MX named.
        let dmarc = format!("{MINIMAL}\n[openpgp]\nlearn_keys = \"dmarc\"\n");
        assert!(parse(&dmarc).unwrap_err().iter().any(|p| p.key == "openpgp.learn_keys"));
        let dmarc = with_id(&dmarc, "mx.example.com");
        assert_eq!(
            parse(&dmarc).unwrap().openpgp.unwrap().learn_keys,
            LearnKeys::DmarcAligned { authserv_id: "mx.example.com".into() }
        );
    }

    #[test]
    fn scope_and_bounty_are_validated() {
        let text = format!(
            "{MINIMAL}\n[scope]\ndomains = [\"Example.COM\", \"not a domain\"]\n[[scope.out_of_scope]]\nid = \"d o s\"\nwording = \"x\"\n\
             [bounty]\nenabled = true\n"
        );
        let keys: Vec<String> = parse(&text).unwrap_err().into_iter().map(|p| p.key).collect();
        assert!(keys.contains(&"scope.domains.1".to_string()), "{keys:?}");
        assert!(keys.contains(&"scope.out_of_scope.0.id".to_string()), "{keys:?}");
        assert!(
            keys.contains(&"bounty.tiers".to_string()) && keys.contains(&"bounty.currency".to_string()),
            "{keys:?}"
        );
    }

    #[test]
    fn what_the_diagnosis_waits_for_is_named_from_the_form_and_implies_the_pause() {
        // Nothing named: the clock runs from receipt and does not pause by default.
        let c = parse(
            &MINIMAL.replace("acknowledge = \"24h\"", "acknowledge = \"24h\"\nfirst_diagnosis = \"7 business days\""),
        )
        .unwrap();
        assert!(!c.sla.pause_diagnosis_while_waiting && c.sla.diagnosis_waits_for.is_empty());
        // Naming sections says the clock pauses for them.
        let waits = |extra: &str| MINIMAL.replace("acknowledge = \"24h\"", &format!("acknowledge = \"24h\"\n{extra}"));
        let c = parse(&waits("first_diagnosis = \"7 business days\"\ndiagnosis_waits_for = [\"Steps to reproduce\"]"))
            .unwrap();
        assert!(c.sla.pause_diagnosis_while_waiting);
        assert_eq!(c.sla.diagnosis_waits_for, ["Steps to reproduce"]);
        // A name the form does not have, no clock to wait, or the pause turned off: each one problem.
        let problems =
            parse(&waits("diagnosis_waits_for = [\"Step to reproduce\"]\npause_diagnosis_while_waiting = false"))
                .unwrap_err();
        let shown: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        assert_eq!(problems.len(), 3, "{shown:#?}");
        assert!(problems.iter().all(|p| p.key == "sla.diagnosis_waits_for"), "{shown:#?}");
        assert!(shown.iter().any(|s| s.contains("\"Step to reproduce\" is not a section of the form (Title, Asset")));
        assert!(shown.iter().any(|s| s.contains("no diagnosis clock")));
        assert!(shown.iter().any(|s| s.contains("pause_diagnosis_while_waiting = true")));
        // A form that is off cannot be waited for.
        let off = waits("first_diagnosis = \"7 business days\"\ndiagnosis_waits_for = [\"Impact\"]")
            + "\n[report_form]\nenabled = false\n";
        let problems = parse(&off).unwrap_err();
        assert!(problems.iter().any(|p| p.to_string().contains("not enabled")), "{problems:?}");
    }

    #[test]
    fn a_policy_requires_the_sections_vdpd_knows_by_name() {
        let c = parse(
            &(MINIMAL.to_string() + "\n[report_form]\nrequire = [\"reproducer\", \"ai-use\", \"verification\"]\n"),
        )
        .unwrap();
        let added: Vec<(&str, bool)> =
            c.report_form.sections.iter().rev().take(3).map(|s| (s.name.as_str(), s.mandatory)).collect();
        assert_eq!(added, [("How it was verified", true), ("AI tools used", true), ("Reproducer", true)]);
        assert!(c.report_form.sections.iter().any(|s| s.name == "Asset"), "added to the default form");
        // Unknown words, and a section the form already has, are problems with their key.
        let text = MINIMAL.to_string()
            + "\n[report_form]\nrequire = [\"captcha\", \"reproducer\"]\n\
               [[report_form.sections]]\nname = \"Reproducer\"\n";
        let problems = parse(&text).unwrap_err();
        let shown: Vec<String> = problems.iter().map(|p| format!("{}: {}", p.key, p.message)).collect();
        assert!(
            shown
                .iter()
                .any(|s| s.starts_with("report_form.require.0") && s.contains("reproducer, ai-use, verification")),
            "{shown:#?}"
        );
        assert!(
            shown.iter().any(|s| s.starts_with("report_form.require.1") && s.contains("already has")),
            "{shown:#?}"
        );
    }

    #[test]
    fn loopback_detection() {
        for h in ["localhost", "127.0.0.1", "127.8.9.1", "::1", "[::1]"] {
            assert!(is_loopback(h), "{h}");
        }
        for h in ["example.com", "10.0.0.1", "localhost.example.com", "0.0.0.0"] {
            assert!(!is_loopback(h), "{h}");
        }
    }
}
