//! OAuth2 for mailboxes that want tokens instead of passwords (Microsoft 365, Google): vdpd trades its
//! refresh token for access tokens at the provider's token endpoint and logs in with SASL XOAUTH2.
//!
//! - An access token is refreshed `refresh_before` its expiry, by whichever vdpd process needs one first; a
//!   lock file beside the store makes that one process at a time, and the store keeps the token for the
//!   others (`oauth2_tokens`), so `vdpd once` from cron does not refresh on every run.
//! - Providers that rotate refresh tokens (Microsoft does) answer with a new one, which is stored: the
//!   configured refresh token is used again only when an admin replaces it (its hash changes).
//! - A refresh that fails is loud: an error in the log, `vdpd status`, and (from the daemon) a mail to the
//!   escalation contacts. A token that is still valid keeps being used meanwhile.
//!
//! The HTTP side is a single POST: a few lines over tokio and rustls rather than an HTTP client crate.

use crate::store::health::Key as HealthKey;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::config::OAuth2Config;
use crate::lock::{self, FileLock};
use crate::store::{Db, health, oauth2 as sql};

/// The longest a refresh may take, end to end.
const HTTP_TIMEOUT: Duration = Duration::from_secs(30);
/// The largest token endpoint answer read.
const MAX_RESPONSE: usize = 256 * 1024;

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum OAuthError {
    #[error("OAuth2: cannot read the {what}: {message}")]
    Secret { what: &'static str, message: String },
    #[error("OAuth2 token endpoint {url}: {message}")]
    Http { url: String, message: String },
    #[error("OAuth2 token endpoint refused the refresh (HTTP {status}): {error}{description}")]
    Refused { status: u16, error: String, description: String },
    #[error("OAuth2: {0}")]
    Local(String),
}

#[derive(Debug, Clone)]
struct Cached {
    token: String,
    expires_at: i64,
}

/// Access tokens for the configured OAuth2 client.
#[derive(Debug)]
pub struct TokenSource {
    cfg: OAuth2Config,
    db: Db,
    lock_path: PathBuf,
    name: String,
    cache: tokio::sync::Mutex<Option<Cached>>,
}

impl TokenSource {
    pub fn new(cfg: OAuth2Config, db: Db, store_path: &Path) -> TokenSource {
        let name = format!("{} {}", cfg.token_url, cfg.client_id);
        TokenSource {
            cfg,
            db,
            lock_path: lock::path_beside(store_path, ".oauth2.lock"),
            name,
            cache: Default::default(),
        }
    }

    fn fresh(&self, c: &Cached, now: i64) -> bool {
        c.expires_at - self.cfg.refresh_before.as_millis() as i64 > now
    }

    /// A valid access token: the one in hand, or a refreshed one when it is about to expire. Tokens live in
    /// real time: this reads the system clock, whatever `--now` says.
    pub async fn token(&self) -> Result<String, OAuthError> {
        let now = jiff::Timestamp::now().as_millisecond();
        let mut cache = self.cache.lock().await;
        if let Some(c) = cache.as_ref().filter(|c| self.fresh(c, now)) {
            return Ok(c.token.clone());
        }
        let lock_path = self.lock_path.clone();
        let _lock = tokio::task::spawn_blocking(move || FileLock::acquire_within(&lock_path, HTTP_TIMEOUT))
            .await
            .map_err(|e| OAuthError::Local(e.to_string()))?
            .map_err(|e| OAuthError::Local(format!("waiting for another vdpd's refresh: {e}")))?;
        let name = self.name.clone();
        let row =
            self.db.call(move |s| sql::get(s.conn(), &name)).await.map_err(|e| OAuthError::Local(e.to_string()))?;
        // Another process may have refreshed meanwhile.
        if let Some(r) = &row {
            let c = Cached { token: r.access_token.clone(), expires_at: r.expires_at };
            if !c.token.is_empty() && self.fresh(&c, now) {
                *cache = Some(c.clone());
                return Ok(c.token);
            }
        }
        let result = self.refresh(row.clone(), now).await;
        match result {
            Ok(c) => {
                let until = crate::clock::format_ms(c.expires_at);
                self.health(
                    vec![
                        (HealthKey::OAuth2State, format!("ok: access token valid until {until}")),
                        (HealthKey::OAuth2FailingSince, String::new()),
                    ],
                    now,
                )
                .await;
                tracing::info!(until = %until, "OAuth2 access token refreshed, valid until {until}");
                *cache = Some(c.clone());
                Ok(c.token)
            }
            Err(e) => {
                tracing::error!("{e}; vdpd cannot log in to the mailbox once the current token expires");
                let since = match self.db.call(|s| health::value(s.conn(), HealthKey::OAuth2FailingSince)).await {
                    Ok(Some(v)) if !v.is_empty() => v,
                    _ => now.to_string(),
                };
                self.health(
                    vec![(HealthKey::OAuth2State, format!("failing: {e}")), (HealthKey::OAuth2FailingSince, since)],
                    now,
                )
                .await;
                // A token that still works keeps working until it expires.
                let still = cache
                    .clone()
                    .or_else(|| row.map(|r| Cached { token: r.access_token, expires_at: r.expires_at }))
                    .filter(|c| !c.token.is_empty() && c.expires_at > now);
                match still {
                    Some(c) => Ok(c.token),
                    None => Err(e),
                }
            }
        }
    }

    async fn health(&self, values: Vec<(HealthKey, String)>, now: i64) {
        let r = self
            .db
            .call(move |s| {
                s.write(|tx| {
                    for (k, v) in &values {
                        health::set(tx, *k, v, now)?;
                    }
                    Ok::<_, crate::store::StoreError>(())
                })
            })
            .await;
        if let Err(e) = r {
            tracing::warn!("could not record the OAuth2 state: {e}");
        }
    }

    async fn refresh(&self, row: Option<sql::TokenRow>, now: i64) -> Result<Cached, OAuthError> {
        let cfg = self.cfg.clone();
        let (configured, secret) = tokio::task::spawn_blocking(move || {
            let rt = crate::config::read_password(&cfg.refresh_token)
                .map_err(|e| OAuthError::Secret { what: "refresh token", message: e.to_string() })?;
            let secret = match &cfg.client_secret {
                Some(s) => Some(
                    crate::config::read_password(s)
                        .map_err(|e| OAuthError::Secret { what: "client secret", message: e.to_string() })?,
                ),
                None => None,
            };
            Ok::<_, OAuthError>((rt.trim().to_string(), secret))
        })
        .await
        .map_err(|e| OAuthError::Local(e.to_string()))??;
        let source = crate::classify::sha256_hex(configured.as_bytes());
        // The stored (rotated) refresh token, unless the admin has put a new one in place since.
        let refresh_token = match &row {
            Some(r) if r.source_sha256 == source && !r.refresh_token.is_empty() => r.refresh_token.clone(),
            _ => configured,
        };
        let mut form = vec![
            ("grant_type", "refresh_token".to_string()),
            ("refresh_token", refresh_token.clone()),
            ("client_id", self.cfg.client_id.clone()),
        ];
        if let Some(s) = secret {
            form.push(("client_secret", s));
        }
        if !self.cfg.scopes.is_empty() {
            form.push(("scope", self.cfg.scopes.join(" ")));
        }
        let (status, body) = post_form(&self.cfg.token_url, &form, self.cfg.ca_file.as_deref()).await?;
        let json: serde_json::Value = serde_json::from_str(&body).map_err(|_| OAuthError::Http {
            url: self.cfg.token_url.clone(),
            message: format!("HTTP {status}, not a JSON answer: {:?}", body.chars().take(200).collect::<String>()),
        })?;
        let text = |k: &str| json.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
        if !(200..300).contains(&status) || text("access_token").is_empty() {
            let description = text("error_description");
            return Err(OAuthError::Refused {
                status,
                error: if text("error").is_empty() { "no access token".into() } else { text("error") },
                description: if description.is_empty() { String::new() } else { format!(": {description}") },
            });
        }
        let expires_in =
            json.get("expires_in").and_then(|v| v.as_i64().or_else(|| v.as_str()?.parse().ok())).unwrap_or(3600);
        let cached = Cached { token: text("access_token"), expires_at: now + expires_in.max(1) * 1000 };
        let rotated = text("refresh_token");
        let stored = sql::TokenRow {
            refresh_token: if rotated.is_empty() { refresh_token } else { rotated },
            source_sha256: source,
            access_token: cached.token.clone(),
            expires_at: cached.expires_at,
        };
        let name = self.name.clone();
        self.db
            .call(move |s| s.write(|tx| sql::put(tx, &name, &stored, now)))
            .await
            .map_err(|e| OAuthError::Local(format!("storing the new tokens: {e}")))?;
        Ok(cached)
    }
}

/// `application/x-www-form-urlencoded`.
fn form_encode(pairs: &[(&str, String)]) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
                b' ' => "+".to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    pairs.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join("&")
}

/// POSTs a form and returns (status, body). `https://` is verified TLS (webpki roots + `ca_file`); plain
/// `http://` is allowed by the configuration only to loopback.
async fn post_form(url: &str, form: &[(&str, String)], ca_file: Option<&Path>) -> Result<(u16, String), OAuthError> {
    let err = |message: String| OAuthError::Http { url: url.to_string(), message };
    let (tls, rest) = match url.split_once("://") {
        Some(("https", rest)) => (true, rest),
        Some(("http", rest)) => (false, rest),
        _ => return Err(err("not an http(s) URL".into())),
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => {
            (h.trim_matches(['[', ']']), p.parse::<u16>().map_err(|_| err(format!("bad port {p:?}")))?)
        }
        _ => (authority.trim_matches(['[', ']']), if tls { 443 } else { 80 }),
    };
    let body = form_encode(form);
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: vdpd/{}\r\nAccept: application/json\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        env!("CARGO_PKG_VERSION"),
        body.len()
    );
    let exchange = async {
        let tcp = TcpStream::connect((host, port)).await.map_err(|e| err(format!("connecting: {e}")))?;
        let mut raw = Vec::new();
        if tls {
            let config = crate::tls::client_config(crate::tls::Trust { ca_file, fingerprint: None, section: "oauth2" })
                .map_err(|e| err(e.to_string()))?;
            let name = crate::tls::server_name(host).map_err(|e| err(e.to_string()))?;
            let mut s = tokio_rustls::TlsConnector::from(config)
                .connect(name, tcp)
                .await
                .map_err(|e| err(format!("TLS: {e}")))?;
            s.write_all(request.as_bytes()).await.map_err(|e| err(e.to_string()))?;
            read_capped(&mut s, &mut raw).await.map_err(|e| err(e.to_string()))?;
        } else {
            let mut s = tcp;
            s.write_all(request.as_bytes()).await.map_err(|e| err(e.to_string()))?;
            read_capped(&mut s, &mut raw).await.map_err(|e| err(e.to_string()))?;
        }
        parse_response(&raw).map_err(err)
    };
    tokio::time::timeout(HTTP_TIMEOUT, exchange)
        .await
        .map_err(|_| err(format!("no answer within {}s", HTTP_TIMEOUT.as_secs())))?
}

async fn read_capped<R: tokio::io::AsyncRead + Unpin>(r: &mut R, out: &mut Vec<u8>) -> std::io::Result<()> {
    let mut buf = [0u8; 8192];
    loop {
        match r.read(&mut buf).await {
            Ok(0) => return Ok(()),
            Ok(n) => {
                out.extend_from_slice(&buf[..n]);
                if out.len() > MAX_RESPONSE {
                    return Err(std::io::Error::other("answer too large"));
                }
            }
            // Servers that close TLS without close_notify: what arrived is the answer.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !out.is_empty() => return Ok(()),
            Err(e) => return Err(e),
        }
    }
}

/// (status, body) of an HTTP/1.x response read to its end; the body de-chunked if it came chunked.
fn parse_response(raw: &[u8]) -> Result<(u16, String), String> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").ok_or("no complete HTTP header")?;
    let head = String::from_utf8_lossy(&raw[..split]);
    let mut body = raw[split + 4..].to_vec();
    let mut lines = head.lines();
    let status_line = lines.next().unwrap_or("");
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad status line {status_line:?}"))?;
    let chunked = lines.any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    if chunked {
        let mut out = Vec::new();
        let mut rest = &body[..];
        loop {
            let end = rest.windows(2).position(|w| w == b"\r\n").ok_or("truncated chunk")?;
            let size_text = String::from_utf8_lossy(&rest[..end]);
            let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| format!("bad chunk size {size_text:?}"))?;
            rest = &rest[end + 2..];
            if size == 0 {
                break;
            }
            if rest.len() < size {
                return Err("truncated chunk".into());
            }
            out.extend_from_slice(&rest[..size]);
            rest = rest.get(size + 2..).unwrap_or(&[]);
        }
        body = out;
    }
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

/// The SASL XOAUTH2 initial response (before base64, which the IMAP and SMTP clients add).
pub fn xoauth2_response(user: &str, token: &str) -> String {
    format!("user={user}\x01auth=Bearer {token}\x01\x01")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_plain_and_chunked() {
        let plain = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{\"a\":1}";
        assert_eq!(parse_response(plain).unwrap(), (200, "{\"a\":1}".to_string()));
        let chunked =
            b"HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"e\"\r\n5\r\n:\"x\"}\r\n0\r\n\r\n";
        assert_eq!(parse_response(chunked).unwrap(), (400, "{\"e\":\"x\"}".to_string()));
        assert!(parse_response(b"garbage").is_err());
        assert!(parse_response(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").is_err());
    }

    #[test]
    fn forms_are_encoded() {
        assert_eq!(
            form_encode(&[("grant_type", "refresh_token".into()), ("scope", "a b/c&d".into())]),
            "grant_type=refresh_token&scope=a+b%2Fc%26d"
        );
        assert_eq!(xoauth2_response("u@x", "T"), "user=u@x\u{1}auth=Bearer T\u{1}\u{1}");
    }
}
