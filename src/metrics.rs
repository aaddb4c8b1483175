//! Prometheus metrics for `vdpd run` (`[metrics] listen`): mail taken in, tickets, the outbox, quarantine,
//! broken promises, and the IMAP connection — the same facts as `vdpd status`, scraped.
//!
//! Every value is read from the store at scrape time, so counters survive restarts and agree with the CLI.
//! The HTTP side is deliberately tiny: `GET /metrics` on a connection that is closed after one answer, with a
//! bounded request, a timeout and a cap on concurrent connections — enough for a Prometheus server on the same
//! host or network, nothing a browser or the internet should see.

use crate::store::health::Key as HealthKey;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::store::{Db, Store, StoreError, health, intake, outbox, tickets};

/// What a scrape shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    pub intake: Vec<(String, i64)>,
    pub tickets_by_state: Vec<(String, i64)>,
    pub outbox: outbox::OutboxCounts,
    /// Seconds since the oldest undelivered mail was queued.
    pub outbox_oldest_age_s: Option<f64>,
    pub promises_broken: i64,
    pub imap_state: Option<String>,
    /// A refusal only the admin can fix is standing (`imap.config_error`).
    pub imap_config_error: bool,
    pub imap_last_fetch_ok_s: Option<f64>,
}

/// Reads the facts of a scrape.
pub fn snapshot(store: &Store, now_ms: i64) -> Result<Snapshot, StoreError> {
    let conn = store.conn();
    let h = health::read(conn)?;
    let ob = outbox::counts(conn)?;
    Ok(Snapshot {
        intake: intake::counts(conn)?,
        tickets_by_state: tickets::ticket_counts(conn)?,
        outbox_oldest_age_s: ob.oldest_undelivered_at.map(|t| (now_ms - t).max(0) as f64 / 1000.0),
        outbox: ob,
        promises_broken: tickets::count_events(conn, tickets::Event::PromiseBroken)?,
        imap_state: h.get(HealthKey::ImapState).map(|(v, _)| v.to_string()),
        imap_config_error: h.get(HealthKey::ImapConfigError).is_some_and(|(v, _)| !v.is_empty()),
        imap_last_fetch_ok_s: h
            .get(HealthKey::ImapLastFetchOk)
            .and_then(|(v, _)| v.parse::<f64>().ok())
            .map(|ms| ms / 1000.0),
    })
}

/// A label value, escaped as the text format wants it.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// The Prometheus text exposition format (0.0.4).
pub fn render(s: &Snapshot) -> String {
    let mut out = String::new();
    let mut metric = |name: &str, kind: &str, help: &str, samples: Vec<(String, f64)>| {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
        for (labels, value) in samples {
            let _ = writeln!(out, "{name}{labels} {value}");
        }
    };
    let by = |key: &str, rows: &[(String, i64)]| -> Vec<(String, f64)> {
        rows.iter().map(|(k, n)| (format!("{{{key}=\"{}\"}}", label(k)), *n as f64)).collect()
    };
    metric(
        "vdpd_mail_fetched_total",
        "counter",
        "Messages taken in, by what became of them.",
        by("outcome", &s.intake),
    );
    let created: i64 = s.tickets_by_state.iter().map(|(_, n)| n).sum();
    metric("vdpd_tickets_created_total", "counter", "Tickets opened.", vec![(String::new(), created as f64)]);
    metric("vdpd_tickets", "gauge", "Tickets by state.", by("state", &s.tickets_by_state));
    let quarantined = s.intake.iter().find(|(k, _)| k == "quarantined").map_or(0, |(_, n)| *n);
    metric("vdpd_quarantined_total", "counter", "Messages quarantined.", vec![(String::new(), quarantined as f64)]);
    metric(
        "vdpd_outbox_depth",
        "gauge",
        "Mails waiting for delivery (queued or being sent).",
        vec![(String::new(), (s.outbox.queued + s.outbox.sending) as f64)],
    );
    metric(
        "vdpd_outbox_oldest_age_seconds",
        "gauge",
        "Age of the oldest undelivered mail (0 when none).",
        vec![(String::new(), s.outbox_oldest_age_s.unwrap_or(0.0))],
    );
    metric(
        "vdpd_mail_sent_total",
        "counter",
        "Mails accepted by the SMTP server.",
        vec![(String::new(), s.outbox.sent as f64)],
    );
    metric(
        "vdpd_mail_failed_total",
        "counter",
        "Mails that could not be delivered.",
        vec![(String::new(), s.outbox.failed as f64)],
    );
    metric(
        "vdpd_sla_breaches_total",
        "counter",
        "Promises of the policy broken (each escalated once).",
        vec![(String::new(), s.promises_broken as f64)],
    );
    let state = s.imap_state.as_deref().unwrap_or("unknown");
    let connected = matches!(state, "idle" | "fetching" | "polling");
    metric(
        "vdpd_imap_connected",
        "gauge",
        "1 while the IMAP connection is up.",
        vec![(String::new(), f64::from(u8::from(connected)))],
    );
    // The state's first word ("disconnected: …" carries the error, which does not belong in a label).
    let word = state.split([':', ' ']).next().unwrap_or("unknown");
    metric(
        "vdpd_imap_state",
        "gauge",
        "The IMAP connection's state.",
        vec![(format!("{{state=\"{}\"}}", label(word)), 1.0)],
    );
    metric(
        "vdpd_imap_config_error",
        "gauge",
        "1 while the IMAP server refuses what the configuration asks (login, certificate, mailbox): an admin must act.",
        vec![(String::new(), f64::from(u8::from(s.imap_config_error)))],
    );
    if let Some(t) = s.imap_last_fetch_ok_s {
        metric(
            "vdpd_imap_last_fetch_timestamp_seconds",
            "gauge",
            "When the mailbox was last fetched successfully.",
            vec![(String::new(), t)],
        );
    }
    out
}

/// The most scrapes served at once, the longest a request may take to arrive, its largest size.
const MAX_CONNECTIONS: usize = 8;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_REQUEST: usize = 8 * 1024;

/// Binds the listener (so a taken port fails `vdpd run` at start, loudly).
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await
}

/// Serves scrapes until cancelled.
pub async fn serve(listener: TcpListener, db: Db, clock: crate::clock::Clock, cancel: CancellationToken) {
    let permits = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = cancel.cancelled() => return,
        };
        let (mut stream, _) = match accepted {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!("metrics: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            let _ = stream.write_all(b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n").await;
            continue;
        };
        let db = db.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let _ = tokio::time::timeout(REQUEST_TIMEOUT, answer(&mut stream, &db, clock)).await;
        });
    }
}

async fn answer(stream: &mut tokio::net::TcpStream, db: &Db, clock: crate::clock::Clock) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && !buf.windows(2).any(|w| w == b"\n\n") {
        let n = stream.read(&mut chunk).await?;
        if n == 0 || buf.len() + n > MAX_REQUEST {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let line = String::from_utf8_lossy(&buf[..buf.iter().position(|b| *b == b'\n').unwrap_or(buf.len())]).to_string();
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let (status, body) = if method == "GET" && (path == "/metrics" || path.starts_with("/metrics?")) {
        let now = clock.now_ms();
        match db.call(move |s| snapshot(s, now)).await {
            Ok(s) => ("200 OK", render(&s)),
            Err(e) => {
                tracing::warn!("metrics: reading the store failed: {e}");
                ("503 Service Unavailable", format!("store unavailable: {e}\n"))
            }
        }
    } else {
        ("404 Not Found", "only GET /metrics is served here\n".to_string())
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_format() {
        let s = Snapshot {
            intake: vec![("quarantined".into(), 1), ("ticket".into(), 3)],
            tickets_by_state: vec![("new".into(), 2), ("triage".into(), 1)],
            outbox: outbox::OutboxCounts { queued: 2, sending: 0, sent: 5, failed: 1, oldest_undelivered_at: Some(0) },
            outbox_oldest_age_s: Some(12.5),
            promises_broken: 4,
            imap_state: Some("disconnected: connection \"refused\"".into()),
            imap_config_error: true,
            imap_last_fetch_ok_s: Some(1_790_000_000.0),
        };
        let text = render(&s);
        for line in [
            "vdpd_mail_fetched_total{outcome=\"ticket\"} 3",
            "vdpd_tickets_created_total 3",
            "vdpd_tickets{state=\"new\"} 2",
            "vdpd_quarantined_total 1",
            "vdpd_imap_config_error 1",
            "vdpd_outbox_depth 2",
            "vdpd_outbox_oldest_age_seconds 12.5",
            "vdpd_mail_failed_total 1",
            "vdpd_sla_breaches_total 4",
            "vdpd_imap_connected 0",
            "vdpd_imap_state{state=\"disconnected\"} 1",
            "# TYPE vdpd_outbox_depth gauge",
        ] {
            assert!(text.lines().any(|l| l == line), "{line:?} missing:\n{text}");
        }
    }
}
