//! SQL for the health table: what the daemon last saw, for `vdpd status` in another process.

use rusqlite::{Connection, params};

use super::StoreError;

/// Key/value health facts with the time each was written.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Health {
    pub entries: Vec<(String, String, i64)>,
}

impl Health {
    pub fn get(&self, key: &str) -> Option<(&str, i64)> {
        self.entries.iter().find(|(k, _, _)| k == key).map(|(_, v, at)| (v.as_str(), *at))
    }
}

pub fn set(conn: &Connection, key: &str, value: &str, now: i64) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO health (key, value, updated_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
    )?
    .execute(params![key, value, now])?;
    Ok(())
}

pub fn read(conn: &Connection) -> Result<Health, StoreError> {
    let mut stmt = conn.prepare("SELECT key, value, updated_at FROM health ORDER BY key")?;
    let entries = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<Result<Vec<_>, _>>()?;
    Ok(Health { entries })
}

/// One health value, if set.
pub fn value(conn: &Connection, key: &str) -> Result<Option<String>, StoreError> {
    use rusqlite::OptionalExtension;
    Ok(conn.prepare_cached("SELECT value FROM health WHERE key = ?1")?.query_row([key], |r| r.get(0)).optional()?)
}
