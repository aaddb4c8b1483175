//! SMTP connections for the outbox: lettre's SMTP client over sockets vdpd opens itself, with a small pool.
//!
//! Why not lettre's pooled transport: it cannot set `TCP_NODELAY`, and it writes a message's end-of-data
//! marker (`.`) as a separate small write. With Nagle's algorithm that small write waits for the server's
//! delayed ACK of the message — about 40 ms per mail, which capped a backlog at ~80 acknowledgements a second
//! on loopback. Here every socket has `TCP_NODELAY`; the pool keeps idle connections for a minute and checks
//! one with NOOP only when it has been idle for more than a few seconds.
//!
//! The transaction itself (MAIL, a RCPT per recipient, DATA, the message) is driven here with lettre's commands,
//! for two things lettre's `send` does not do: each recipient's own answer (one refused team member fails only
//! their copy), and command pipelining (RFC 2920) when the server offers it — MAIL, the RCPTs and DATA in one
//! write, their replies read together: two round trips per message instead of three plus one per recipient,
//! which over a provider's submission server far away is most of a mail's time.
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
use lettre::transport::smtp::commands::{Data, Ehlo, Mail, Rcpt, Rset};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use lettre::transport::smtp::response::Response;
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
    idle: tokio::sync::Mutex<Vec<(Conn, Instant)>>,
}

/// A connection, and whether its server offers PIPELINING (lettre does not record it).
struct Conn {
    smtp: AsyncSmtpConnection,
    pipelining: bool,
}

/// One server reply, judged: a positive one's text, or what a negative one means for the mail.
pub type Reply = Result<String, Failure>;

/// What one transaction did for each recipient, in order: the server's final answer for the message, or why
/// that recipient's copy was not taken. `reuse`: whether the connection is usable for the next transaction.
#[derive(Debug)]
struct Transaction {
    results: Vec<Reply>,
    reuse: Reuse,
    /// The server answered at least once: a failure after that is not a stale pooled connection, and the
    /// transaction is not tried again at once (the message may have been taken).
    answered: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reuse {
    /// At a transaction's end: ready as it is.
    Ready,
    /// A transaction was refused part way: RSET first.
    Reset,
    /// Broken, or left where no command may follow: close it.
    Close,
}

/// Each recipient's result, from the replies to MAIL, to each RCPT, to DATA and to the message (`None`: not
/// sent, as an earlier reply made it pointless). A refused MAIL fails every copy; a refused RCPT fails that
/// recipient's; DATA or the message refused fails the recipients that had been accepted. Pure: the table
/// test below holds it to the protocol.
fn results(mail: &Reply, rcpts: &[Reply], data: Option<&Reply>, message: Option<&Reply>) -> Vec<Reply> {
    if let Err(f) = mail {
        return vec![Err(f.clone()); rcpts.len()];
    }
    let end = match (data, message) {
        (Some(Err(f)), _) | (_, Some(Err(f))) => Err(f.clone()),
        (Some(Ok(_)), Some(Ok(answer))) => Ok(answer.clone()),
        _ => Err(Failure::Connection("the transaction ended before the message was sent".into())),
    };
    rcpts.iter().map(|r| r.as_ref().map_err(Clone::clone).and_then(|_| end.clone())).collect()
}

/// A server's reply to one command: a positive reply's text, a negative reply's meaning, or the connection's
/// failure (`Err`: nothing more can be read).
fn judge(reply: Result<Response, lettre::transport::smtp::Error>) -> Result<Reply, Failure> {
    match reply {
        Ok(r) => Ok(Ok(format!("{} {}", r.code(), r.message().collect::<Vec<_>>().join(" ")).trim().to_string())),
        Err(e) => match classify(&e) {
            Failure::Connection(m) => Err(Failure::Connection(m)),
            refusal => Ok(Err(refusal)),
        },
    }
}

/// MAIL, the RCPTs and DATA written at once (RFC 2920): lettre writes a command's text and reads one reply;
/// the other replies are read after it.
struct Pipelined<'a> {
    mail: &'a Mail,
    rcpts: &'a [Rcpt],
}

impl std::fmt::Display for Pipelined<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.mail)?;
        for r in self.rcpts {
            write!(f, "{r}")?;
        }
        write!(f, "{Data}")
    }
}

impl Conn {
    /// One transaction for `envelope`'s recipients. Every reply to what was written is read, so the
    /// connection stays in step with the server whatever it refused.
    async fn transact(&mut self, envelope: &Envelope, raw: &[u8]) -> Transaction {
        let n = envelope.to().len();
        let broken = |f: Failure| Transaction { results: vec![Err(f); n], reuse: Reuse::Close, answered: true };
        let unanswered = |f: Failure| Transaction { results: vec![Err(f); n], reuse: Reuse::Close, answered: false };
        let refused = |m: &str| Transaction {
            results: vec![Err(Failure::Permanent(m.into())); n],
            reuse: Reuse::Ready,
            answered: false,
        };
        // The parameters lettre's `send` would give (RFC 6531 and RFC 6152), checked as it checks them.
        let info = self.smtp.server_info();
        let mut parameters = Vec::new();
        let non_ascii = envelope.from().into_iter().chain(envelope.to()).any(|a| !AsRef::<str>::as_ref(a).is_ascii());
        if non_ascii {
            if !info.supports_feature(Extension::SmtpUtfEight) {
                return refused("the envelope has an address beyond ASCII and the server does not offer SMTPUTF8");
            }
            parameters.push(MailParameter::SmtpUtfEight);
        }
        if !raw.is_ascii() {
            if !info.supports_feature(Extension::EightBitMime) {
                return refused("the message is not ASCII and the server does not offer 8BITMIME");
            }
            parameters.push(MailParameter::Body(MailBodyParameter::EightBitMime));
        }
        let mail = Mail::new(envelope.from().cloned(), parameters);
        let rcpts: Vec<Rcpt> = envelope.to().iter().map(|a| Rcpt::new(a.clone(), Vec::new())).collect();
        let (mail_reply, rcpt_replies, data_reply) = if self.pipelining {
            let first = judge(self.smtp.command(Pipelined { mail: &mail, rcpts: &rcpts }).await);
            let mail_reply = match first {
                Ok(r) => r,
                Err(f) => return unanswered(f),
            };
            let mut replies = Vec::with_capacity(n + 1);
            for _ in 0..=n {
                match judge(self.smtp.read_response().await) {
                    Ok(r) => replies.push(r),
                    Err(f) => return broken(f),
                }
            }
            let data_reply = replies.pop();
            (mail_reply, replies, data_reply)
        } else {
            let mail_reply = match judge(self.smtp.command(&mail).await) {
                Ok(r) => r,
                Err(f) => return unanswered(f),
            };
            if mail_reply.is_err() {
                // Nothing more is sent; `results` fails every copy with MAIL's refusal.
                return Transaction {
                    results: results(&mail_reply, &vec![Ok(String::new()); n], None, None),
                    reuse: Reuse::Reset,
                    answered: true,
                };
            }
            let mut replies = Vec::with_capacity(n);
            for r in &rcpts {
                match judge(self.smtp.command(r).await) {
                    Ok(r) => replies.push(r),
                    Err(f) => return broken(f),
                }
            }
            let data_reply = if replies.iter().any(Result::is_ok) {
                match judge(self.smtp.command(Data).await) {
                    Ok(r) => Some(r),
                    Err(f) => return broken(f),
                }
            } else {
                None
            };
            (mail_reply, replies, data_reply)
        };
        let wanted = mail_reply.is_ok() && rcpt_replies.iter().any(Result::is_ok);
        let (message_reply, reuse) = match (&data_reply, wanted) {
            (Some(Ok(_)), true) => match judge(self.smtp.message(raw).await) {
                Ok(r) => {
                    let reuse = if r.is_ok() { Reuse::Ready } else { Reuse::Reset };
                    (Some(r), reuse)
                }
                // After the message, a broken connection may still have delivered it (RFC 1047): the outbox
                // retries, and the copy may arrive twice.
                Err(f) => (Some(Err(f)), Reuse::Close),
            },
            // The server would take a message nobody is to receive (a pipelined DATA after every RCPT was
            // refused, which RFC 2920 has it refuse): only closing ends that without sending one.
            (Some(Ok(_)), false) => (None, Reuse::Close),
            _ => (None, Reuse::Reset),
        };
        Transaction {
            results: results(&mail_reply, &rcpt_replies, data_reply.as_ref(), message_reply.as_ref()),
            reuse,
            answered: true,
        }
    }
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

    async fn open(&self, login: Option<&Login>) -> Result<Conn, Failure> {
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
            // lettre keeps of its EHLO only the extensions it knows, and PIPELINING is not one: ask again (once
            // per connection, before AUTH, which a second EHLO would undo).
            let ehlo = conn.command(Ehlo::new(self.hello.clone())).await.map_err(|e| classify(&e))?;
            let pipelining = ehlo.message().skip(1).any(|l| l.trim().eq_ignore_ascii_case("PIPELINING"));
            if let Some(l) = login {
                conn.auth(&l.mechanisms, &l.credentials).await.map_err(|e| match classify(&e) {
                    // A refused login is a configuration problem, not the mail's: keep the mail queued.
                    Failure::Permanent(m) | Failure::Transient(m) => Failure::Connection(format!("login refused: {m}")),
                    other => other,
                })?;
            }
            Ok(Conn { smtp: conn, pipelining })
        };
        match tokio::time::timeout(t.saturating_mul(2), setup).await {
            Ok(r) => r,
            Err(_) => Err(fail("greeting, TLS or login with", &"timed out")),
        }
    }

    /// A connection ready for a transaction: an idle one, or a new one.
    async fn checkout(&self, login: Option<&Login>) -> Result<Conn, Failure> {
        loop {
            let Some((mut conn, since)) = self.idle.lock().await.pop() else { break };
            let idle = since.elapsed();
            if idle > IDLE_LIMIT {
                conn.smtp.abort().await;
                continue;
            }
            if idle > CHECK_AFTER
                && !tokio::time::timeout(self.config.timeout, conn.smtp.test_connected()).await.unwrap_or(false)
            {
                conn.smtp.abort().await;
                continue;
            }
            return Ok(conn);
        }
        self.open(login).await
    }

    async fn checkin(&self, mut conn: Conn) {
        let mut idle = self.idle.lock().await;
        if conn.smtp.has_broken() || idle.len() >= self.config.concurrency {
            drop(idle);
            conn.smtp.abort().await;
        } else {
            idle.push((conn, Instant::now()));
        }
    }

    /// One transaction for `envelope`'s recipients; each one's result, in order (see [`Transaction`]). A
    /// pooled connection found dead before the server answered anything is replaced once.
    pub async fn send(&self, envelope: &Envelope, raw: &[u8], login: Option<&Login>) -> Vec<Reply> {
        let n = envelope.to().len();
        // Big mail over a slow link gets time in proportion (at least 50 KiB/s).
        let limit = self.config.timeout.saturating_mul(2) + Duration::from_millis(raw.len() as u64 / 50);
        for attempt in 0..2 {
            let mut conn = match self.checkout(login).await {
                Ok(c) => c,
                Err(f) => return vec![Err(f); n],
            };
            let Ok(done) = tokio::time::timeout(limit, conn.transact(envelope, raw)).await else {
                conn.smtp.abort().await;
                return vec![Err(Failure::Connection(format!("no answer within {}s", limit.as_secs()))); n];
            };
            match done.reuse {
                Reuse::Ready => self.checkin(conn).await,
                Reuse::Reset => {
                    // RSET keeps the connection usable after a refused transaction.
                    if conn.smtp.command(Rset).await.is_ok() {
                        self.checkin(conn).await;
                    } else {
                        conn.smtp.abort().await;
                    }
                }
                Reuse::Close => conn.smtp.abort().await,
            }
            // A pooled connection the server had closed fails at once, before any reply: try a fresh one.
            if !done.answered && done.reuse == Reuse::Close && attempt == 0 {
                continue;
            }
            return done.results;
        }
        vec![Err(Failure::Connection("no usable connection".into())); n]
    }

    /// Connects, greets and logs in: what `vdpd check --connect` uses. Returns whether the server offers
    /// PIPELINING.
    pub async fn test(&self, login: Option<&Login>) -> Result<bool, Failure> {
        let mut conn = self.open(login).await?;
        let _ = conn.smtp.quit().await;
        Ok(conn.pipelining)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Reply {
        Ok(text.to_string())
    }
    fn permanent(text: &str) -> Reply {
        Err(Failure::Permanent(text.to_string()))
    }
    fn transient(text: &str) -> Reply {
        Err(Failure::Transient(text.to_string()))
    }

    /// Each recipient's result from the replies of one transaction, whether pipelined or not.
    #[test]
    fn each_recipient_gets_the_answer_that_concerns_it() {
        let queued = ok("250 2.0.0 Ok: queued as 4Xy");
        // (what, MAIL, RCPTs, DATA, the message, each recipient's result)
        type Case = (&'static str, Reply, Vec<Reply>, Option<Reply>, Option<Reply>, Vec<Reply>);
        let cases: Vec<Case> = vec![
            (
                "all taken",
                ok("250"),
                vec![ok("250"), ok("250")],
                Some(ok("354")),
                Some(queued.clone()),
                vec![queued.clone(), queued.clone()],
            ),
            (
                "one address refused: only its copy fails",
                ok("250"),
                vec![ok("250"), permanent("550 5.1.1 no such user"), ok("250")],
                Some(ok("354")),
                Some(queued.clone()),
                vec![queued.clone(), permanent("550 5.1.1 no such user"), queued.clone()],
            ),
            (
                "MAIL refused: every copy fails with it",
                transient("451 4.3.0 try later"),
                vec![permanent("503 5.5.1 need MAIL"), permanent("503 5.5.1 need MAIL")],
                Some(permanent("503 5.5.1 need RCPT")),
                None,
                vec![transient("451 4.3.0 try later"), transient("451 4.3.0 try later")],
            ),
            (
                "every RCPT refused: each its own refusal, DATA's answer beside the point",
                ok("250"),
                vec![permanent("550 a"), transient("450 b")],
                Some(permanent("554 5.5.1 no valid recipients")),
                None,
                vec![permanent("550 a"), transient("450 b")],
            ),
            (
                "DATA refused: the accepted copies fail with it",
                ok("250"),
                vec![ok("250"), permanent("550 a")],
                Some(transient("451 4.3.0 busy")),
                None,
                vec![transient("451 4.3.0 busy"), permanent("550 a")],
            ),
            (
                "the message refused at its end",
                ok("250"),
                vec![ok("250")],
                Some(ok("354")),
                Some(permanent("552 5.3.4 too big")),
                vec![permanent("552 5.3.4 too big")],
            ),
            (
                "the connection lost after the message: not known to be taken",
                ok("250"),
                vec![ok("250")],
                Some(ok("354")),
                Some(Err(Failure::Connection("reset by peer".into()))),
                vec![Err(Failure::Connection("reset by peer".into()))],
            ),
        ];
        for (what, mail, rcpts, data, message, want) in cases {
            assert_eq!(results(&mail, &rcpts, data.as_ref(), message.as_ref()), want, "{what}");
        }
        // Accepted recipients whose message was never sent (no DATA reply) are never reported as delivered.
        let out = results(&ok("250"), &[ok("250")], None, None);
        assert!(matches!(out[0], Err(Failure::Connection(_))), "{out:?}");
    }

    /// The pipelined group is MAIL, each RCPT and DATA, each on its own CRLF-ended line, in that order.
    #[test]
    fn the_pipelined_group_is_mail_rcpts_and_data() {
        let mail = Mail::new(Some("security@example.test".parse().unwrap()), Vec::new());
        let rcpts: Vec<Rcpt> =
            ["a@example.test", "b@example.test"].iter().map(|a| Rcpt::new(a.parse().unwrap(), Vec::new())).collect();
        assert_eq!(
            Pipelined { mail: &mail, rcpts: &rcpts }.to_string(),
            "MAIL FROM:<security@example.test>\r\nRCPT TO:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n"
        );
    }
}
