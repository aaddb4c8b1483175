//! The IMAP side: connecting, fetching new mail by UID, flagging or moving it after commit, IDLE.
//!
//! Every network operation runs under `imap.timeout`: a server that stops answering becomes an error and a
//! reconnect, never a fetcher that hangs silently. (The systemd watchdog in [`crate::daemon`] is the last
//! line of defence behind these timeouts.)

pub mod idle;
pub mod sync;

use std::fmt;
use std::future::Future;
use std::time::Duration;

use async_imap::types::Capabilities;
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
}

impl Caps {
    fn from(c: &Capabilities) -> Caps {
        Caps { idle: c.has_str("IDLE"), r#move: c.has_str("MOVE"), uidplus: c.has_str("UIDPLUS") }
    }
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
        (crate::config::ImapAuth::Password(p), _) => Login::Password(p.resolve().map_err(ImapError::Password)?),
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
            return Err(ImapError::Login { user: cfg.username.clone(), message: e.to_string() });
        }
        Err(_) => {
            return Err(ImapError::Timeout { what: "login", secs: t.as_secs() });
        }
    };
    let caps = timed(t, "CAPABILITY", session.capabilities()).await?;
    Ok((session, Caps::from(&caps)))
}

async fn secure(cfg: &ImapConfig, tcp: TcpStream) -> Result<tokio_rustls::client::TlsStream<TcpStream>, ImapError> {
    let config = tls::client_config(cfg.ca_file.as_deref()).map_err(|e| ImapError::Tls(e.to_string()))?;
    let name = tls::server_name(&cfg.host).map_err(|e| ImapError::Tls(e.to_string()))?;
    let connector = tokio_rustls::TlsConnector::from(config);
    match tokio::time::timeout(cfg.timeout, connector.connect(name, tcp)).await {
        Ok(Ok(s)) => Ok(s),
        Ok(Err(e)) => Err(ImapError::Tls(format!("handshake with {}: {e}", cfg.host))),
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
    fn uid_sets_compress_ranges_and_chunk() {
        assert_eq!(uid_sets(&[1, 2, 3, 5, 7, 8, 9, 12], 100), vec!["1:3,5,7:9,12"]);
        assert_eq!(uid_sets(&[3, 1, 2, 2], 100), vec!["1:3"]);
        assert_eq!(uid_sets(&[1, 2, 3, 4], 2), vec!["1:2", "3:4"]);
        assert!(uid_sets(&[], 10).is_empty());
    }
}
