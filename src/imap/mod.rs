//! The IMAP side: connecting, fetching new mail by UID, flagging or moving it after commit, IDLE.
//!
//! Every network operation runs under `imap.timeout`: a server that stops answering becomes an error and a
//! reconnect, never a fetcher that hangs silently. (The systemd watchdog in [`crate::daemon`] is the last
//! line of defence behind these timeouts.)

pub mod idle;
pub mod names;
pub mod sync;

use std::fmt;
use std::future::Future;
use std::time::Duration;

use async_imap::types::Capabilities;
use futures_util::TryStreamExt;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use crate::config::{ImapConfig, TlsMode};
use crate::tls;

/// The byte stream under the IMAP session: plain TCP or TLS, chosen at run time.
pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send + fmt::Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + fmt::Debug> Stream for T {}

pub type Session = async_imap::Session<Box<dyn Stream>>;

#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    #[error("connecting to {host}:{port}: {source}")]
    Connect { host: String, port: u16, source: std::io::Error },
    #[error("TLS: {0}")]
    Tls(String),
    /// The server's certificate was refused: only the admin can fix that.
    #[error("TLS: {0}")]
    Certificate(String),
    /// The server refused what the configuration asks for (a mailbox it cannot hold or does not have, a
    /// command it forbids): no reconnect will help until the policy or the server changes.
    #[error("{0}")]
    Config(String),
    #[error("the server did not greet us properly: {0}")]
    Greeting(String),
    #[error("login refused for {user}: {message}")]
    Login { user: String, message: String },
    #[error("IMAP password: {0}")]
    Password(std::io::Error),
    #[error(transparent)]
    OAuth2(#[from] crate::oauth2::OAuthError),
    #[error("{what} timed out after {secs}s")]
    Timeout { what: &'static str, secs: u64 },
    #[error("IMAP: {0}")]
    Protocol(#[from] async_imap::error::Error),
    #[error("{0}")]
    Server(String),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Intake(#[from] crate::intake::IntakeError),
}

impl ImapError {
    /// Whether only the admin can fix this: a login the server refuses, a certificate vdpd refuses, a
    /// mailbox the server refuses or does not have ([`refused`]). Such errors are configuration errors,
    /// reported as such (error priority, `vdpd status`, one mail to the escalation contacts) and retried
    /// slowly, not a reconnect loop that looks like a network fault.
    pub fn is_permanent(&self) -> bool {
        match self {
            ImapError::Certificate(_) | ImapError::Config(_) | ImapError::Password(_) => true,
            ImapError::Login { message, .. } => !sounds_transient(message),
            _ => false,
        }
    }
}

/// The server's own words in an async-imap NO: it hands over the text of the tagged response as the Debug
/// form of imap-proto's outcome (`outcome: Outcome { code: …, information: Some("…") }`).
pub fn server_words(text: &str) -> String {
    let Some(start) = ["information: Some(\"", "info: Some(\""].iter().find_map(|k| text.find(k).map(|i| i + k.len()))
    else {
        return text.trim().to_string();
    };
    let mut out = String::new();
    let mut chars = text[start..].chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            '"' => break,
            c => out.push(c),
        }
    }
    out.trim().to_string()
}

/// A refusal that says "not now" rather than "not this". imap-proto drops the RFC 5530 codes it does not
/// know ([UNAVAILABLE], [INUSE], [NONEXISTENT], …), so the words decide.
fn sounds_transient(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    ["internal error", "temporar", "try again", "unavailable", "in use", "server bug", "[inuse]", "[serverbug]"]
        .iter()
        .any(|w| t.contains(w))
}

/// A NO from the server to `what` (SELECT, CREATE, COPY, MOVE of the configured mailboxes), as a configuration
/// error in the server's words, unless they say "not now".
pub fn refused(e: ImapError, what: impl FnOnce() -> String) -> ImapError {
    match e {
        ImapError::Protocol(async_imap::error::Error::No(text)) if !sounds_transient(&text) => {
            ImapError::Config(format!("{}: the server says \"{}\"", what(), server_words(&text)))
        }
        other => other,
    }
}

/// Runs an IMAP operation under the configured timeout.
pub async fn timed<T, E>(
    limit: Duration,
    what: &'static str,
    fut: impl Future<Output = Result<T, E>>,
) -> Result<T, ImapError>
where
    ImapError: From<E>,
{
    match tokio::time::timeout(limit, fut).await {
        Ok(r) => r.map_err(ImapError::from),
        Err(_) => Err(ImapError::Timeout { what, secs: limit.as_secs() }),
    }
}

/// What the server can do, as far as vdpd cares.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Caps {
    pub idle: bool,
    pub r#move: bool,
    pub uidplus: bool,
    pub namespace: bool,
}

impl Caps {
    fn from(c: &Capabilities) -> Caps {
        Caps {
            idle: c.has_str("IDLE"),
            r#move: c.has_str("MOVE"),
            uidplus: c.has_str("UIDPLUS"),
            namespace: c.has_str("NAMESPACE"),
        }
    }
}

/// The server's names of the mailboxes the policy names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailboxes {
    /// `[imap] mailbox` on this server.
    pub inbox: String,
    /// `[imap] processed_mailbox` on this server.
    pub processed: Option<String>,
}

/// A connection ready for fetch passes: logged in, names resolved, mailbox selectable, processed mailbox
/// present.
pub struct Opened {
    pub session: Session,
    pub caps: Caps,
    pub names: Mailboxes,
    /// What `vdpd check --connect` shows of the mailboxes.
    pub summary: String,
}

impl Opened {
    /// What this server lacks that changes how vdpd works with it, in words: logged when the daemon
    /// connects, warned of by `vdpd check --connect`.
    pub fn limitations(&self, cfg: &ImapConfig) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(dest) = &self.names.processed
            && !self.caps.r#move
            && !self.caps.uidplus
        {
            out.push(format!(
                "the IMAP server offers neither MOVE nor UIDPLUS: handled mail is copied to {dest:?} and flagged \\Seen but stays in {:?} (a plain EXPUNGE could remove others' deleted mail)",
                self.names.inbox
            ));
        }
        if cfg.idle && !self.caps.idle {
            out.push(format!("the IMAP server does not offer IDLE: vdpd polls every {}s", cfg.poll_interval.as_secs()));
        }
        out
    }
}

/// Connects, logs in, resolves the mailbox names and prepares the mailboxes.
pub async fn open(cfg: &ImapConfig, tokens: Option<&crate::oauth2::TokenSource>) -> Result<Opened, ImapError> {
    let (mut session, caps) = connect(cfg, tokens).await?;
    let names = resolve(&mut session, caps, cfg).await?;
    let summary = sync::prepare(&mut session, cfg, &names).await?;
    Ok(Opened { session, caps, names, summary })
}

/// An IMAP quoted string (for the LIST pattern, which async-imap passes unquoted).
pub fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Asks the server how it names mailboxes (NAMESPACE, else the delimiter of `LIST "" ""`) and translates the
/// configured names. A name the server cannot hold is a configuration error.
pub async fn resolve(session: &mut Session, caps: Caps, cfg: &ImapConfig) -> Result<Mailboxes, ImapError> {
    let t = cfg.timeout;
    let from_namespace = if caps.namespace { namespace(session, t).await? } else { None };
    let naming = match from_namespace {
        Some((prefix, delimiter)) => names::Naming { delimiter, prefix },
        None => {
            let root = {
                let names = timed(t, "LIST", session.list(Some(""), Some("\"\""))).await?;
                timed(t, "LIST", names.try_collect::<Vec<_>>()).await?
            };
            let delimiter = root.first().and_then(|n| n.delimiter()).and_then(|d| d.chars().next());
            names::Naming { delimiter, prefix: String::new() }
        }
    };
    let name = |key: &str, configured: &str| {
        naming.server_name(configured).map_err(|e| ImapError::Config(format!("[imap] {key}: {e}")))
    };
    let inbox = name("mailbox", &cfg.mailbox)?;
    let processed = cfg.processed_mailbox.as_deref().map(|p| name("processed_mailbox", p)).transpose()?;
    Ok(Mailboxes { inbox, processed })
}

/// NAMESPACE (RFC 2342), spoken on the raw stream: async-imap's parser does not know the response and would
/// fail the whole connection on it. Safe between commands: after a completed command the server sends
/// nothing unasked until it is selected, so no byte of it sits in async-imap's buffer.
async fn namespace(session: &mut Session, t: Duration) -> Result<Option<(String, Option<char>)>, ImapError> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    const TAG: &str = "vdpdns ";
    let exchange = async {
        let stream = session.as_mut();
        let io = |e: std::io::Error| ImapError::Server(format!("NAMESPACE: {e}"));
        stream.write_all(format!("{TAG}NAMESPACE\r\n").as_bytes()).await.map_err(io)?;
        stream.flush().await.map_err(io)?;
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let n = stream.read(&mut chunk).await.map_err(io)?;
            if n == 0 {
                return Err(ImapError::Server("NAMESPACE: the server closed the connection".into()));
            }
            buf.extend_from_slice(&chunk[..n]);
            if buf.len() > 64 * 1024 {
                return Err(ImapError::Server("NAMESPACE: the server's answer is too long".into()));
            }
            let done =
                buf.ends_with(b"\r\n") && buf.split(|&b| b == b'\n').any(|line| line.starts_with(TAG.as_bytes()));
            if done {
                break;
            }
        }
        let text = String::from_utf8_lossy(&buf).into_owned();
        let ok = text
            .lines()
            .find_map(|l| l.strip_prefix(TAG))
            .is_some_and(|status| status.get(..2).is_some_and(|w| w.eq_ignore_ascii_case("OK")));
        if !ok {
            return Ok(None);
        }
        Ok(text.lines().find_map(names::parse_namespace))
    };
    timed(t, "NAMESPACE", exchange).await
}

/// How a connection logs in: the password, or an access token for XOAUTH2.
enum Login {
    Password(String),
    Token(String),
}

/// SASL XOAUTH2: the initial response, then (if the server answers with an error challenge) an empty one to
/// let it finish with NO.
struct XOAuth2 {
    response: Option<String>,
}

impl async_imap::Authenticator for XOAuth2 {
    type Response = String;
    fn process(&mut self, _challenge: &[u8]) -> String {
        self.response.take().unwrap_or_default()
    }
}

/// Connects, secures, logs in and reads the capabilities. `tokens` is needed for `auth = "xoauth2"`.
pub async fn connect(
    cfg: &ImapConfig,
    tokens: Option<&crate::oauth2::TokenSource>,
) -> Result<(Session, Caps), ImapError> {
    let login = match (&cfg.auth, tokens) {
        (crate::config::ImapAuth::Password(p), _) => {
            Login::Password(crate::config::read_password(p).map_err(ImapError::Password)?)
        }
        (crate::config::ImapAuth::XOAuth2, Some(t)) => Login::Token(t.token().await?),
        (crate::config::ImapAuth::XOAuth2, None) => {
            return Err(ImapError::Server("auth = \"xoauth2\" but no [oauth2] token source".into()));
        }
    };
    let t = cfg.timeout;
    let tcp = match tokio::time::timeout(t, TcpStream::connect((cfg.host.as_str(), cfg.port))).await {
        Ok(Ok(tcp)) => tcp,
        Ok(Err(source)) => {
            return Err(ImapError::Connect { host: cfg.host.clone(), port: cfg.port, source });
        }
        Err(_) => {
            return Err(ImapError::Timeout { what: "connect", secs: t.as_secs() });
        }
    };
    let _ = tcp.set_nodelay(true);
    let stream: Box<dyn Stream> = match cfg.tls {
        TlsMode::None => Box::new(tcp),
        TlsMode::Implicit => Box::new(secure(cfg, tcp).await?),
        TlsMode::Starttls => {
            let mut client = async_imap::Client::new(tcp);
            greeting(&mut client, t).await?;
            timed(t, "STARTTLS", client.run_command_and_check_ok("STARTTLS", None)).await?;
            Box::new(secure(cfg, client.into_inner()).await?)
        }
    };
    let mut client = async_imap::Client::new(stream);
    if cfg.tls != TlsMode::Starttls {
        greeting(&mut client, t).await?;
    }
    let attempt = match &login {
        Login::Password(password) => tokio::time::timeout(t, client.login(&cfg.username, password)).await,
        Login::Token(token) => {
            let auth = XOAuth2 { response: Some(crate::oauth2::xoauth2_response(&cfg.username, token)) };
            tokio::time::timeout(t, client.authenticate("XOAUTH2", auth)).await
        }
    };
    let mut session = match attempt {
        Ok(Ok(s)) => s,
        Ok(Err((e, _))) => {
            let message = match &e {
                async_imap::error::Error::No(text) => format!("the server says \"{}\"", server_words(text)),
                other => other.to_string(),
            };
            return Err(ImapError::Login { user: cfg.username.clone(), message });
        }
        Err(_) => {
            return Err(ImapError::Timeout { what: "login", secs: t.as_secs() });
        }
    };
    let caps = timed(t, "CAPABILITY", session.capabilities()).await?;
    Ok((session, Caps::from(&caps)))
}

async fn secure(cfg: &ImapConfig, tcp: TcpStream) -> Result<tokio_rustls::client::TlsStream<TcpStream>, ImapError> {
    let config = tls::client_config(cfg.into()).map_err(|e| ImapError::Tls(e.to_string()))?;
    let name = tls::server_name(&cfg.host).map_err(|e| ImapError::Tls(e.to_string()))?;
    let connector = tokio_rustls::TlsConnector::from(config);
    match tokio::time::timeout(cfg.timeout, connector.connect(name, tcp)).await {
        Ok(Ok(s)) => Ok(s),
        Ok(Err(e)) if tls::is_certificate_error(&e) => {
            Err(ImapError::Certificate(format!("{}: {}", cfg.host, tls::describe_handshake_error(&e))))
        }
        Ok(Err(e)) => {
            Err(ImapError::Tls(format!("handshake with {}: {}", cfg.host, tls::describe_handshake_error(&e))))
        }
        Err(_) => Err(ImapError::Timeout { what: "TLS handshake", secs: cfg.timeout.as_secs() }),
    }
}

/// Reads the server greeting; anything but `* OK` is an error.
async fn greeting<T>(client: &mut async_imap::Client<T>, t: Duration) -> Result<(), ImapError>
where
    T: AsyncRead + AsyncWrite + Unpin + fmt::Debug + Send,
{
    let response = match tokio::time::timeout(t, client.read_response()).await {
        Ok(Ok(Some(r))) => r,
        Ok(Ok(None)) => return Err(ImapError::Greeting("connection closed".into())),
        Ok(Err(e)) => return Err(ImapError::Greeting(e.to_string())),
        Err(_) => {
            return Err(ImapError::Timeout { what: "greeting", secs: t.as_secs() });
        }
    };
    match response.parsed() {
        async_imap::imap_proto::Response::Data { status: async_imap::imap_proto::Status::Ok, .. } => Ok(()),
        other => Err(ImapError::Greeting(format!("{other:?}").chars().take(200).collect())),
    }
}

/// Compresses sorted UIDs into an IMAP sequence set (`1:5,7,9:12`), in chunks of at most `max` UIDs so that
/// no command line grows without bound.
pub fn uid_sets(uids: &[u32], max: usize) -> Vec<String> {
    let mut sorted = uids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    sorted
        .chunks(max.max(1))
        .map(|chunk| {
            let mut parts: Vec<String> = Vec::new();
            let mut i = 0;
            while i < chunk.len() {
                let start = chunk[i];
                let mut end = start;
                while i + 1 < chunk.len() && chunk[i + 1] == end + 1 {
                    i += 1;
                    end = chunk[i];
                }
                parts.push(if start == end { start.to_string() } else { format!("{start}:{end}") });
                i += 1;
            }
            parts.join(",")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_servers_words_out_of_async_imaps_debug_text() {
        let no = r#"outcome: Outcome { code: None, information: Some("Mailbox doesn't exist: Missing.Box (0.001 + 0.000 secs).") }"#;
        assert_eq!(server_words(no), "Mailbox doesn't exist: Missing.Box (0.001 + 0.000 secs).");
        assert_eq!(
            server_words(r#"code: None, info: Some("Authentication \"failed\".")"#),
            r#"Authentication "failed"."#
        );
        assert_eq!(server_words("plain"), "plain");
        let e = refused(ImapError::Protocol(async_imap::error::Error::No(no.into())), || "SELECT".into());
        assert!(e.is_permanent(), "{e}");
        let busy =
            r#"outcome: Outcome { code: None, information: Some("Internal error occurred. Refer to server log") }"#;
        let e = refused(ImapError::Protocol(async_imap::error::Error::No(busy.into())), || "SELECT".into());
        assert!(!e.is_permanent(), "{e}");
    }

    #[test]
    fn uid_sets_compress_ranges_and_chunk() {
        assert_eq!(uid_sets(&[1, 2, 3, 5, 7, 8, 9, 12], 100), vec!["1:3,5,7:9,12"]);
        assert_eq!(uid_sets(&[3, 1, 2, 2], 100), vec!["1:3"]);
        assert_eq!(uid_sets(&[1, 2, 3, 4], 2), vec!["1:2", "3:4"]);
        assert!(uid_sets(&[], 10).is_empty());
    }
}
