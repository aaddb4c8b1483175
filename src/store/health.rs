//! SQL for the health table: what the daemon last saw, for `vdpd status` in another process.

use rusqlite::{Connection, params};

use super::StoreError;

/// Every fact the health table holds: one name per concept, written by the daemon and read by `vdpd status`,
/// the metrics and `vdpd reload` in other processes. The strings are the stored keys (stable: a store
/// written by an older vdpd is read by a newer one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// The pid of the running `vdpd run` (`vdpd reload` signals it only if the store lock's holder is this pid).
    DaemonPid,
    /// When `vdpd run` started (ms).
    DaemonStartedAt,
    /// When it stopped cleanly (ms); empty while it runs.
    DaemonStoppedAt,
    /// The outcome of the last reload: `ok` or `refused: why` (what `vdpd reload` waits for).
    DaemonReload,
    /// connecting, fetching, idle, polling, `disconnected: …`, `configuration error: …`, stopped.
    ImapState,
    /// The last IMAP error, whatever its kind.
    ImapLastError,
    /// When a fetch pass last succeeded (ms).
    ImapLastFetchOk,
    /// A standing refusal only the admin can fix; empty when there is none.
    ImapConfigError,
    /// `ok` or `unreachable …`.
    SmtpState,
    /// When a delivery last succeeded (ms).
    SmtpLastOk,
    /// `ok …` or `failing: …`.
    OAuth2State,
    /// Since when refreshing fails (ms); empty when it works.
    OAuth2FailingSince,
    /// When the last admin alert was mailed (ms): at most one a day.
    AlertMailedAt,
    /// The last durability barrier (ms).
    StoreDurableAt,
    /// The fingerprint of the promises the open tickets' timers were planned with.
    TimersPlannedWith,
    /// Erased content still in the WAL: truncate it at the next chance.
    StoreScrubPending,
    /// The kept security.txt: `ok, valid until …` or `failing: …`.
    SecurityTxtState,
}

impl Key {
    pub const fn as_str(self) -> &'static str {
        match self {
            Key::DaemonPid => "daemon.pid",
            Key::DaemonStartedAt => "daemon.started_at",
            Key::DaemonStoppedAt => "daemon.stopped_at",
            Key::DaemonReload => "daemon.reload",
            Key::ImapState => "imap.state",
            Key::ImapLastError => "imap.last_error",
            Key::ImapLastFetchOk => "imap.last_fetch_ok",
            Key::ImapConfigError => "imap.config_error",
            Key::SmtpState => "smtp.state",
            Key::SmtpLastOk => "smtp.last_ok",
            Key::OAuth2State => "oauth2.state",
            Key::OAuth2FailingSince => "oauth2.failing_since",
            Key::AlertMailedAt => "alert.mailed_at",
            Key::StoreDurableAt => "store.durable_at",
            Key::TimersPlannedWith => "timers.planned_with",
            Key::StoreScrubPending => "store.scrub_pending",
            Key::SecurityTxtState => "security_txt.state",
        }
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Key/value health facts with the time each was written.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Health {
    pub entries: Vec<(String, String, i64)>,
}

impl Health {
    pub fn get(&self, key: Key) -> Option<(&str, i64)> {
        self.entries.iter().find(|(k, _, _)| k == key.as_str()).map(|(_, v, at)| (v.as_str(), *at))
    }
}

pub fn set(conn: &Connection, key: Key, value: &str, now: i64) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO health (key, value, updated_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
    )?
    .execute(params![key.as_str(), value, now])?;
    Ok(())
}

pub fn read(conn: &Connection) -> Result<Health, StoreError> {
    let mut stmt = conn.prepare("SELECT key, value, updated_at FROM health ORDER BY key")?;
    let entries = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<Result<Vec<_>, _>>()?;
    Ok(Health { entries })
}

/// One health value, if set.
pub fn value(conn: &Connection, key: Key) -> Result<Option<String>, StoreError> {
    use rusqlite::OptionalExtension;
    Ok(conn
        .prepare_cached("SELECT value FROM health WHERE key = ?1")?
        .query_row([key.as_str()], |r| r.get(0))
        .optional()?)
}
