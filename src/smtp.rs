//! SMTP connections for the outbox: lettre's SMTP client over sockets vdpd opens itself, with a small pool.
//!
//! Why not lettre's pooled transport: it cannot set `TCP_NODELAY`, and it writes a message's end-of-data
//! marker (`.`) as a separate small write. With Nagle's algorithm that small write waits for the server's
//! delayed ACK of the message — about 40 ms per mail, which capped a backlog at ~80 acknowledgements a second
//! on loopback. Here every socket has `TCP_NODELAY`; the pool keeps idle connections for a minute and checks
//! one with NOOP only when it has been idle for more than a few seconds.
//!
//! TLS, implicit or STARTTLS, is done here with [`crate::tls`]'s verifier (pinning, advice in words) rather
//! than by lettre, whose own STARTTLS upgrade cannot take a custom verifier. The plaintext part of STARTTLS is
//! three commands; bytes the server sends after its `220` to STARTTLS and before the handshake are refused
//! (the plaintext command injection of CVE-2011-0411 and its kin).

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, AsyncTokioStream};
use lettre::transport::smtp::extension::ClientId;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader, ReadBuf};
use tokio::net::TcpStream;

use crate::config::{SmtpConfig, TlsMode};

/// A connection idle longer than this is closed instead of reused.
const IDLE_LIMIT: Duration = Duration::from_secs(60);
/// A connection idle longer than this is checked with NOOP before it is reused.
const CHECK_AFTER: Duration = Duration::from_secs(5);

/// What went wrong talking to the server, classified for the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// No usable connection: refused, TLS, timeout, greeting, login.
    Connection(String),
    /// 4xx.
    Transient(String),
    /// 5xx.
    Permanent(String),
}

/// How to log in, if at all.
#[derive(Debug, Clone)]
pub struct Login {
    pub credentials: Credentials,
    pub mechanisms: Vec<Mechanism>,
}

/// TLS on a socket we opened: rustls over tokio, as lettre wants a stream. After our own STARTTLS, `greeting`
/// holds a `220` line for lettre to read first, as it reads a greeting on every new stream (and then sends
/// EHLO again, as RFC 3207 wants after the upgrade).
#[derive(Debug)]
struct TlsSocket {
    tls: tokio_rustls::client::TlsStream<TcpStream>,
    greeting: Vec<u8>,
}

impl AsyncRead for TlsSocket {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        if !self.greeting.is_empty() {
            let n = self.greeting.len().min(buf.remaining());
            buf.put_slice(&self.greeting[..n]);
            self.greeting.drain(..n);
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.tls).poll_read(cx, buf)
    }
}

impl AsyncWrite for TlsSocket {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tls).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tls).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tls).poll_shutdown(cx)
    }
}

impl AsyncTokioStream for TlsSocket {
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.tls.get_ref().0.peer_addr()
    }
}

/// Reads one SMTP reply (all its lines); fails unless its code is `want`. Bounded: a server that talks
/// without end is an error, not a buffer that grows.
async fn read_reply(r: &mut BufReader<TcpStream>, want: u16) -> Result<Vec<String>, String> {
    let mut lines = Vec::new();
    for _ in 0..64 {
        let mut line = Vec::new();
        let n = (&mut *r).take(1000).read_until(b'\n', &mut line).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("the server closed the connection".into());
        }
        let text = String::from_utf8_lossy(&line).trim_end().to_string();
        let code: Option<u16> = text.get(..3).and_then(|c| c.parse().ok());
        let last = text.as_bytes().get(3) != Some(&b'-');
        lines.push(text);
        if last {
            return match code {
                Some(c) if c == want => Ok(lines),
                _ => Err(lines.join(" / ")),
            };
        }
    }
    Err("the server's reply has too many lines".into())
}

/// The plaintext part of STARTTLS: greeting, EHLO, STARTTLS. Returns the socket, ready for the handshake.
async fn starttls(tcp: TcpStream, hello: &ClientId) -> Result<TcpStream, String> {
    let mut r = BufReader::new(tcp);
    read_reply(&mut r, 220).await.map_err(|e| format!("greeting: {e}"))?;
    r.get_mut().write_all(format!("EHLO {hello}\r\n").as_bytes()).await.map_err(|e| e.to_string())?;
    let ehlo = read_reply(&mut r, 250).await.map_err(|e| format!("EHLO: {e}"))?;
    if !ehlo.iter().any(|l| l.get(4..).is_some_and(|k| k.trim().eq_ignore_ascii_case("STARTTLS"))) {
        return Err("the server does not offer STARTTLS (tls = \"starttls\")".into());
    }
    r.get_mut().write_all(b"STARTTLS\r\n").await.map_err(|e| e.to_string())?;
    read_reply(&mut r, 220).await.map_err(|e| format!("STARTTLS: {e}"))?;
    if !r.buffer().is_empty() {
        return Err("the server sent data after agreeing to STARTTLS, before the TLS handshake: refused".into());
    }
    Ok(r.into_inner())
}

/// Connections to one SMTP server.
pub struct Client {
    config: SmtpConfig,
    /// For implicit TLS and STARTTLS (we wrap the socket).
    rustls: Option<Arc<rustls::ClientConfig>>,
    hello: ClientId,
    idle: tokio::sync::Mutex<Vec<(AsyncSmtpConnection, Instant)>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("host", &self.config.host).field("port", &self.config.port).finish()
    }
}

/// lettre's error on one line, with those of its causes that its message does not already include.
pub fn describe(e: &lettre::transport::smtp::Error) -> String {
    let mut s = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let c = cause.to_string();
        if !s.contains(&c) {
            s.push_str(": ");
            s.push_str(&c);
        }
        source = cause.source();
    }
    s
}

fn classify(e: &lettre::transport::smtp::Error) -> Failure {
    if e.is_permanent() {
        Failure::Permanent(describe(e))
    } else if e.is_transient() {
        Failure::Transient(describe(e))
    } else {
        Failure::Connection(describe(e))
    }
}

impl Client {
    pub fn new(config: &SmtpConfig) -> Result<Client, String> {
        let rustls = match config.tls {
            TlsMode::Implicit | TlsMode::Starttls => {
                Some(crate::tls::client_config(config.into()).map_err(|e| e.to_string())?)
            }
            TlsMode::None => None,
        };
        Ok(Client {
            config: config.clone(),
            rustls,
            hello: ClientId::default(),
            idle: tokio::sync::Mutex::new(Vec::new()),
        })
    }

    async fn open(&self, login: Option<&Login>) -> Result<AsyncSmtpConnection, Failure> {
        let c = &self.config;
        let t = c.timeout;
        let fail =
            |what: &str, e: &dyn std::fmt::Display| Failure::Connection(format!("{what} {}:{}: {e}", c.host, c.port));
        let tcp = match tokio::time::timeout(t, TcpStream::connect((c.host.as_str(), c.port))).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => return Err(fail("connecting to", &e)),
            Err(_) => return Err(fail("connecting to", &"timed out")),
        };
        let _ = tcp.set_nodelay(true);
        let setup = async {
            let mut conn = match (&self.rustls, c.tls) {
                (Some(cfg), TlsMode::Implicit | TlsMode::Starttls) => {
                    let (tcp, greeting) = if c.tls == TlsMode::Starttls {
                        let tcp = starttls(tcp, &self.hello).await.map_err(|e| fail("STARTTLS with", &e))?;
                        (tcp, b"220 TLS established\r\n".to_vec())
                    } else {
                        (tcp, Vec::new())
                    };
                    let name = crate::tls::server_name(&c.host).map_err(|e| fail("TLS with", &e))?;
                    let tls = tokio_rustls::TlsConnector::from(cfg.clone())
                        .connect(name, tcp)
                        .await
                        .map_err(|e| fail("TLS handshake with", &crate::tls::describe_handshake_error(&e)))?;
                    AsyncSmtpConnection::connect_with_transport(Box::new(TlsSocket { tls, greeting }), &self.hello)
                        .await
                        .map_err(|e| classify(&e))?
                }
                _ => AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &self.hello)
                    .await
                    .map_err(|e| classify(&e))?,
            };
            if let Some(l) = login {
                conn.auth(&l.mechanisms, &l.credentials).await.map_err(|e| match classify(&e) {
                    // A refused login is a configuration problem, not the mail's: keep the mail queued.
                    Failure::Permanent(m) | Failure::Transient(m) => Failure::Connection(format!("login refused: {m}")),
                    other => other,
                })?;
            }
            Ok(conn)
        };
        match tokio::time::timeout(t.saturating_mul(2), setup).await {
            Ok(r) => r,
            Err(_) => Err(fail("greeting, TLS or login with", &"timed out")),
        }
    }

    /// A connection ready for a transaction: an idle one, or a new one.
    async fn checkout(&self, login: Option<&Login>) -> Result<AsyncSmtpConnection, Failure> {
        loop {
            let Some((mut conn, since)) = self.idle.lock().await.pop() else { break };
            let idle = since.elapsed();
            if idle > IDLE_LIMIT {
                conn.abort().await;
                continue;
            }
            if idle > CHECK_AFTER
                && !tokio::time::timeout(self.config.timeout, conn.test_connected()).await.unwrap_or(false)
            {
                conn.abort().await;
                continue;
            }
            return Ok(conn);
        }
        self.open(login).await
    }

    async fn checkin(&self, mut conn: AsyncSmtpConnection) {
        let mut idle = self.idle.lock().await;
        if conn.has_broken() || idle.len() >= self.config.concurrency {
            drop(idle);
            conn.abort().await;
        } else {
            idle.push((conn, Instant::now()));
        }
    }

    /// One transaction; returns the server's final answer. A pooled connection that turns out dead is replaced
    /// once.
    pub async fn send(&self, envelope: &Envelope, raw: &[u8], login: Option<&Login>) -> Result<String, Failure> {
        // Big mail over a slow link gets time in proportion (at least 50 KiB/s).
        let limit = self.config.timeout.saturating_mul(2) + Duration::from_millis(raw.len() as u64 / 50);
        for attempt in 0..2 {
            let mut conn = self.checkout(login).await?;
            let result = tokio::time::timeout(limit, conn.send(envelope, raw)).await;
            match result {
                Ok(Ok(response)) => {
                    self.checkin(conn).await;
                    let text = response.message().collect::<Vec<_>>().join(" ");
                    return Ok(format!("{} {text}", response.code()).trim().to_string());
                }
                Ok(Err(e)) => {
                    let f = classify(&e);
                    let broken = conn.has_broken();
                    if broken {
                        conn.abort().await;
                    } else {
                        // RSET keeps the connection usable after a refused transaction.
                        let _ = conn.command(lettre::transport::smtp::commands::Rset).await;
                        self.checkin(conn).await;
                    }
                    // A pooled connection the server had closed: try once more on a fresh one.
                    if matches!(f, Failure::Connection(_)) && attempt == 0 {
                        continue;
                    }
                    return Err(f);
                }
                Err(_) => {
                    conn.abort().await;
                    return Err(Failure::Connection(format!("no answer within {}s", limit.as_secs())));
                }
            }
        }
        Err(Failure::Connection("no usable connection".into()))
    }

    /// Connects, greets and logs in: what `vdpd check --connect` uses.
    pub async fn test(&self, login: Option<&Login>) -> Result<(), Failure> {
        let mut conn = self.open(login).await?;
        let _ = conn.quit().await;
        Ok(())
    }
}
