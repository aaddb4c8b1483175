//! The SQLite store: one file in WAL mode, every SQL statement of the program, numbered migrations.
//!
//! The store is synchronous: [`Store`] wraps one `rusqlite::Connection`. The daemon reaches it through
//! [`Db`], which runs each closure on tokio's blocking pool so that no SQLite call ever stalls an executor
//! thread. The CLI uses [`Store`] directly.
//!
//! Durability: transactions commit with `synchronous = NORMAL` (in WAL mode: durable against a crash of the
//! process, not against a power cut), and [`Store::durable_barrier`] makes everything committed so far survive
//! a power cut too. Whoever is about to make an outside party forget a message — flag or move it on the IMAP
//! server, or tell the MTA that `ingest` succeeded — calls the barrier first. One fsync per batch instead of
//! one per transaction is most of the difference between 50 and 500 messages a second.
//!
//! Rows that become structs are read by column name (`r.get("column")`, computed columns aliased), stored
//! words through [`column`], so that a column added or moved in a SELECT cannot shift every field after it;
//! a single value, or a pair from a one-purpose query, is read by position. The two scans over every ticket
//! (`tickets::each_received_since` for statistics, `tickets::list_summaries` for the listing) read by
//! position on purpose: a name lookup per column per row was a measurable share of their time.

pub mod dry_run;
pub mod form;
pub mod health;
pub mod intake;
pub mod languages;
mod migrations;
pub mod oauth2;
pub mod openpgp;
pub mod outbox;
pub mod retention;
pub mod search;
pub mod staff;
pub mod tickets;
pub mod timers;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::Connection;

pub use intake::IntakeStatus;
pub use migrations::latest as latest_schema_version;

/// A failure of the store. Callers branch on [`StoreError::is_transient`]: a full disk or a locked database
/// is retried later and never quarantines a message; anything else is a bug or corruption to report.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database {}: {source}", path.display())]
    Open { path: PathBuf, source: rusqlite::Error },
    #[error("database error: {0}")]
    Sqlite(#[source] rusqlite::Error),
    #[error("migration to schema version {version} failed: {source}")]
    Migration { version: i64, source: rusqlite::Error },
    #[error("the database has schema version {found}, newer than this vdpd understands ({supported}); upgrade vdpd")]
    TooNew { found: i64, supported: i64 },
    #[error("corrupt value in column {column}: {value:?}")]
    Corrupt { column: &'static str, value: String },
}

impl StoreError {
    /// True for conditions that go away by themselves or by an admin freeing space: retry, do not quarantine.
    pub fn is_transient(&self) -> bool {
        use rusqlite::ErrorCode::*;
        let e = match self {
            StoreError::Sqlite(e) | StoreError::Open { source: e, .. } | StoreError::Migration { source: e, .. } => e,
            StoreError::TooNew { .. } | StoreError::Corrupt { .. } => return false,
        };
        matches!(
            e.sqlite_error_code(),
            Some(DiskFull | DatabaseBusy | DatabaseLocked | SystemIoFailure | CannotOpen | ReadOnly | OutOfMemory)
        )
    }
}

/// A connection to the store with the schema migrated.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

/// The writers of one process take turns here before SQLite's own lock.
///
/// The daemon writes from two connections (intake and outbox). When they met at SQLite's lock, the loser
/// slept in SQLite's busy handler (1, 2, 5 … 100 ms), leaving the CPU idle while the lock was long free: in
/// the backlog benchmark the outbox fell behind by half the backlog. A mutex wakes the next writer as soon as
/// the lock is released. Other processes (the CLI, `vdpd ingest`) still meet SQLite's busy timeout, rarely.
static WRITERS: std::sync::Mutex<()> = std::sync::Mutex::new(());

impl Store {
    /// Opens (creating if needed) the database and applies pending migrations.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
            && !dir.exists()
        {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Open {
                path: path.to_path_buf(),
                source: rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
                    Some(format!("cannot create directory {}: {e}", dir.display())),
                ),
            })?;
        }
        // A symbolic link in the database's place is refused (SQLITE_OPEN_NOFOLLOW).
        let flags = rusqlite::OpenFlags::default() | rusqlite::OpenFlags::SQLITE_OPEN_NOFOLLOW;
        let conn = Connection::open_with_flags(path, flags)
            .map_err(|source| StoreError::Open { path: path.to_path_buf(), source })?;
        Self::setup(conn, path)
    }

    /// An in-memory store for unit tests.
    pub fn open_in_memory() -> Result<Store, StoreError> {
        Self::setup(Connection::open_in_memory()?, Path::new(":memory:"))
    }

    /// A copy of this store in memory (SQLite's online backup: a consistent snapshot, taken without blocking
    /// writers for longer than a page step). What `vdpd ingest --dry-run` processes a mail in, so that the real
    /// store — its tickets, its outbox, the signatures it has seen — never learns of it.
    pub fn copy_in_memory(&self) -> Result<Store, StoreError> {
        let mut copy = Connection::open_in_memory()?;
        rusqlite::backup::Backup::new(&self.conn, &mut copy)?.run_to_completion(256, Duration::ZERO, None)?;
        Self::setup(copy, Path::new(":memory:"))
    }

    fn setup(mut conn: Connection, path: &Path) -> Result<Store, StoreError> {
        conn.busy_timeout(Duration::from_secs(10))?;
        // Every statement the processing of a message runs stays prepared (rusqlite keeps 16 by default,
        // fewer than one message uses: they were parsed again for every mail).
        conn.set_prepared_statement_cache_capacity(256);
        // Plans must not depend on bound values. Without this, SQLite recompiles every statement that has a
        // bound parameter in its WHERE clause and an ORDER BY, on every execution (measured: a third of the
        // store's CPU time in the backlog benchmark went to parsing SQL again).
        conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // Deleted and overwritten content is zeroed, not left in free pages: purge and erasure must leave
        // nothing readable in the file (the WAL is truncated after them: `scrub_if_pending`).
        conn.pragma_update(None, "secure_delete", "ON")?;
        // Temporary storage in memory: each message's savepoint writes the pages it changes to a sub-journal,
        // which SQLite otherwise keeps in a temporary file (5 % of the daemon's CPU in the shipped backlog
        // went to writing it). Nor do pages of reports then pass through files outside the store. What it
        // holds is bounded by a transaction's changes: one group of messages at most (`intake::GROUP_READ_BYTES`).
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        migrations::migrate(&mut conn)?;
        Ok(Store { conn, path: path.to_path_buf() })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Read access for queries.
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Runs `f` in one IMMEDIATE transaction (the write lock is taken at BEGIN, so two processes never both
    /// read-then-write the same rows): committed if `f` returns `Ok`, rolled back otherwise (and on panic).
    pub fn write<T, E>(&mut self, f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        // A writer that panicked left no transaction open (it rolled back while unwinding): go on.
        let _turn = WRITERS.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let tx =
            self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(StoreError::from)?;
        let value = f(&tx)?;
        tx.commit().map_err(StoreError::from)?;
        Ok(value)
    }

    /// Makes every transaction committed so far durable against power loss: one commit with
    /// `synchronous = FULL` syncs the write-ahead log, and with it all frames before it.
    pub fn durable_barrier(&mut self, now: i64) -> Result<(), StoreError> {
        self.conn.pragma_update(None, "synchronous", "FULL")?;
        let result = self.write(|tx| health::set(tx, health::Key::StoreDurableAt, &now.to_string(), now));
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        result?;
        self.scrub_if_pending()?;
        Ok(())
    }

    /// After a purge or an erasure (which mark the store with [`health::Key::StoreScrubPending`]): copies the write-ahead log
    /// into the database and truncates it, so that the old versions of the pages — with the content that was
    /// deleted — are gone from the WAL too. Busy readers can keep it from finishing; then it is tried again
    /// at the next call. Returns whether it ran to the end.
    pub fn scrub_if_pending(&mut self) -> Result<bool, StoreError> {
        if health::value(&self.conn, health::Key::StoreScrubPending)?.is_none() {
            return Ok(false);
        }
        // The full-text index forgets a deleted row by a tombstone; its words stay in the index's segments
        // until they are merged. After a purge, merging them all into one drops the purged rows' words, and
        // secure_delete zeroes the pages they were on (`search::compact`: the whole index is rewritten, so
        // only when a purge asked for it).
        self.write(|tx| search::compact(tx))?;
        let (busy, _, _): (i64, i64, i64) =
            self.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        if busy != 0 {
            return Ok(false);
        }
        self.conn.execute("DELETE FROM health WHERE key = ?1", [health::Key::StoreScrubPending.as_str()])?;
        // The delete itself went to the (now empty) WAL: checkpoint that too.
        self.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(true)
    }

    /// The schema version this database is at.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self.conn.pragma_query_value(None, "user_version", |r| r.get(0))?)
    }
}

/// The daemon's handle on the store: a shared connection used from tokio's blocking pool.
#[derive(Clone, Debug)]
pub struct Db {
    inner: Arc<Mutex<Store>>,
}

impl Db {
    pub fn new(store: Store) -> Db {
        Db { inner: Arc::new(Mutex::new(store)) }
    }

    /// Runs `f` with the store on a blocking thread.
    pub async fn call<T, F>(&self, f: F) -> T
    where
        F: FnOnce(&mut Store) -> T + Send + 'static,
        T: Send + 'static,
    {
        let inner = self.inner.clone();
        let task = tokio::task::spawn_blocking(move || {
            // A panic while holding the lock poisons it; the connection itself is still consistent (the
            // transaction was rolled back when it unwound), so carry on with it.
            let mut guard = inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            f(&mut guard)
        });
        match task.await {
            Ok(v) => v,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => panic!("blocking store task was cancelled: {e}"),
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    /// A corrupt column found inside a row mapping ([`column`]) travels through rusqlite as a conversion
    /// failure carrying the [`StoreError::Corrupt`]; it comes out as that again.
    fn from(e: rusqlite::Error) -> StoreError {
        match e {
            rusqlite::Error::FromSqlConversionFailure(i, ty, source) => match source.downcast::<StoreError>() {
                Ok(corrupt) => *corrupt,
                Err(source) => StoreError::Sqlite(rusqlite::Error::FromSqlConversionFailure(i, ty, source)),
            },
            e => StoreError::Sqlite(e),
        }
    }
}

/// Converts a stored text column back into an enum, reporting corruption instead of panicking.
pub(crate) fn parse_column<T: std::str::FromStr>(column: &'static str, value: String) -> Result<T, StoreError> {
    value.parse().map_err(|_| StoreError::Corrupt { column, value })
}

/// [`parse_column`] inside a row mapping: reads `table.column` of the row by its column name and parses it; a
/// value that does not parse becomes [`StoreError::Corrupt`] once the error leaves rusqlite.
pub(crate) fn column<T: std::str::FromStr>(r: &rusqlite::Row<'_>, column: &'static str) -> rusqlite::Result<T> {
    let name = column.rsplit('.').next().unwrap_or(column);
    let i = r.as_ref().column_index(name)?;
    column_at(r, column, i)
}

/// [`column`] at a place already found ([`ColumnList`]).
pub(crate) fn column_at<T: std::str::FromStr>(
    r: &rusqlite::Row<'_>,
    column: &'static str,
    i: usize,
) -> rusqlite::Result<T> {
    parse_column(column, r.get(i)?)
        .map_err(|corrupt| rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(corrupt)))
}

/// A select list written once as a constant (`tickets::TICKET_COLUMNS`) and read by column name: each name's
/// place is found in the constant once per process instead of among the statement's columns for every value
/// of every row (rusqlite compares the names one by one: a ticket's 43 columns cost more to find than to
/// read, 3 % of the daemon's CPU in the shipped backlog). Every row is checked to come from a statement that
/// starts with the list, so a place cannot point at another statement's column.
pub(crate) struct ColumnList {
    names: &'static str,
    places: std::sync::OnceLock<(Vec<&'static str>, std::collections::HashMap<&'static str, usize>)>,
}

impl ColumnList {
    pub(crate) const fn new(names: &'static str) -> ColumnList {
        ColumnList { names, places: std::sync::OnceLock::new() }
    }

    fn places(&self) -> &(Vec<&'static str>, std::collections::HashMap<&'static str, usize>) {
        self.places.get_or_init(|| {
            let names: Vec<&'static str> = self.names.split(',').map(str::trim).collect();
            let at = names.iter().enumerate().map(|(i, n)| (*n, i)).collect();
            (names, at)
        })
    }

    /// The place of `name` in the list. A name not in it is a bug of the code that asks, found by any test
    /// that reads such a row: it panics.
    pub(crate) fn at(&self, name: &str) -> usize {
        *self.places().1.get(name).unwrap_or_else(|| panic!("no column {name} in the list"))
    }

    /// Whether `r` comes from a statement whose columns begin with this list (its first and last names there).
    pub(crate) fn check(&self, r: &rusqlite::Row<'_>) -> rusqlite::Result<()> {
        let places = &self.places().0;
        let stmt = r.as_ref();
        let last = places.len() - 1;
        let matches = |i: usize| stmt.column_name(i).is_ok_and(|n| n.eq_ignore_ascii_case(places[i]));
        if stmt.column_count() > last && matches(0) && matches(last) {
            Ok(())
        } else {
            Err(rusqlite::Error::InvalidColumnName(format!("a row without the columns {}", self.names)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A list's names find their places in the list, and a row of a statement that does not start with the
    /// list is refused rather than read at the wrong places.
    #[test]
    fn a_column_list_reads_its_own_statements_only() {
        static LIST: ColumnList = ColumnList::new("a, b,\n     c");
        let conn = Connection::open_in_memory().unwrap();
        let read = |sql: &str| {
            conn.query_row(sql, [], |r| {
                LIST.check(r)?;
                Ok((r.get::<_, i64>(LIST.at("a"))?, r.get::<_, i64>(LIST.at("c"))?))
            })
        };
        assert_eq!(read("SELECT 1 AS a, 2 AS b, 3 AS c").unwrap(), (1, 3));
        assert_eq!(read("SELECT 1 AS a, 2 AS b, 3 AS c, 4 AS d").unwrap(), (1, 3), "more columns after the list");
        assert!(read("SELECT 2 AS b, 1 AS a, 3 AS c").is_err(), "another order");
        assert!(read("SELECT 1 AS a, 2 AS b").is_err(), "fewer columns");
        assert!(std::panic::catch_unwind(|| LIST.at("d")).is_err(), "a name outside the list is a bug");
    }

    /// A cached statement runs as prepared: a statement with a bound parameter and an ORDER BY is not compiled
    /// again for each new value (SQLite does that unless the query planner stability guarantee is on).
    #[test]
    fn cached_statements_are_not_recompiled() {
        let store = Store::open_in_memory().unwrap();
        for now in 0..5 {
            timers::due(store.conn(), now, 10).unwrap();
            form::sections(store.conn(), now).unwrap();
        }
        for sql in [
            "SELECT id, ticket_id, kind, due_at FROM timers
         WHERE fired_at IS NULL AND cancelled_at IS NULL AND due_at <= ?1 ORDER BY due_at, id LIMIT ?2",
            "SELECT section, value FROM form_sections WHERE ticket_id = ?1 ORDER BY rowid",
        ] {
            let stmt = store.conn().prepare_cached(sql).unwrap();
            assert_eq!(stmt.get_status(rusqlite::StatementStatus::RePrepare), 0, "{sql}");
        }
    }

    /// The statements of the store, by file: every SQL string literal that starts a statement (those built
    /// with `format!` are left out: their text is not whole here).
    fn statements() -> Vec<(&'static str, String)> {
        let files: [(&str, &str); 13] = [
            ("dry_run.rs", include_str!("dry_run.rs")),
            ("form.rs", include_str!("form.rs")),
            ("health.rs", include_str!("health.rs")),
            ("intake.rs", include_str!("intake.rs")),
            ("mod.rs", include_str!("mod.rs")),
            ("oauth2.rs", include_str!("oauth2.rs")),
            ("openpgp.rs", include_str!("openpgp.rs")),
            ("outbox.rs", include_str!("outbox.rs")),
            ("retention.rs", include_str!("retention.rs")),
            ("search.rs", include_str!("search.rs")),
            ("staff.rs", include_str!("staff.rs")),
            ("tickets.rs", include_str!("tickets.rs")),
            ("timers.rs", include_str!("timers.rs")),
        ];
        let mut out = Vec::new();
        for (file, text) in files {
            // The statements the code runs, not those of its tests.
            let mut rest = text.split("#[cfg(test)]").next().unwrap_or(text);
            while let Some(start) = rest.find('"') {
                let after = &rest[start + 1..];
                let Some(end) = after.find('"') else { break };
                let literal = &after[..end];
                let words: Vec<&str> = literal.split_whitespace().collect();
                let starts = words.first().is_some_and(|w| ["SELECT", "UPDATE", "DELETE", "INSERT"].contains(w));
                if starts && words.len() > 2 && !literal.contains('{') && !literal.contains("EXPLAIN") {
                    out.push((file, words.join(" ")));
                }
                rest = &after[end + 1..];
            }
        }
        out
    }

    /// No statement of the store reads a whole large table but the few that mean to: listings and
    /// statistics over every ticket, an erasure (which must find an address wherever it is, and is rare),
    /// the migrations' checks. A scan here costs in proportion to years of tickets on every message; three
    /// were found this way (the duplicate hint, the key request's daily cap, a purge's raw mail).
    #[test]
    fn no_statement_scans_a_large_table_unless_it_means_to() {
        const LARGE: &[&str] = &[
            "tickets",
            "intake",
            "intake_raw",
            "outbox",
            "outbox_body",
            "messages",
            "timeline",
            "participants",
            "attachments",
            "form_sections",
            "timers",
        ];
        // (file, the statement's start): why reading every row is the point.
        const MEANT: &[(&str, &str)] = &[
            ("intake.rs", "SELECT status, count(*) FROM intake GROUP BY status"), // `vdpd status`
            ("outbox.rs", "SELECT status, count(*) FROM outbox GROUP BY status"), // `vdpd status`
            ("timers.rs", "SELECT kind, count(*) FROM timers WHERE fired_at IS NOT NULL"), // metrics
            ("tickets.rs", "SELECT state, count(*) FROM tickets GROUP BY state"), // `vdpd status`
            ("tickets.rs", "SELECT count(*) FROM timeline WHERE event = ?1"),     // statistics
            ("tickets.rs", "SELECT id FROM tickets WHERE purged_at IS NULL"),     // re-planning every ticket
            ("tickets.rs", "SELECT id, reference, state, created_at"),            // statistics, every ticket
            ("tickets.rs", "SELECT reference, state, created_at, ack_latency_ms"), // `tickets list`
            ("dry_run.rs", "SELECT DISTINCT ticket_id FROM timeline WHERE id > ?1"), // a copy, one message
            ("retention.rs", "UPDATE messages SET from_addr = ''"),               // erasure
            ("retention.rs", "UPDATE messages SET to_addr = ''"),                 // erasure
            ("retention.rs", "DELETE FROM intake_raw WHERE intake_id IN (SELECT id FROM intake WHERE from_addr"),
            ("retention.rs", "UPDATE intake SET from_addr = ''"), // erasure
            ("retention.rs", "UPDATE timeline SET actor = '(erased)'"), // erasure
            ("retention.rs", "SELECT body_id FROM outbox WHERE recipient = ?1"), // erasure
            ("retention.rs", "UPDATE outbox SET recipient = '' WHERE recipient = ?1"), // erasure
        ];
        // Sorts before a LIMIT that are meant: a ranking has to see every candidate, the rest sort a few rows.
        const SORTS: &[(&str, &str)] = &[
            ("outbox.rs", "SELECT o.id, coalesce(t.reference, ''), o.recipient, o.last_error FROM outbox o"), // `vdpd status`
            ("search.rs", "SELECT s.rowid AS id, bm25(ticket_search"), // the ranking of similar tickets
            ("tickets.rs", "SELECT m.id, m.message_id, m.direction"),  // a message's few outbox rows
        ];
        // The statuses rows stay in for good (the others are passing: 'held', 'queued', 'sending').
        const ACCUMULATING: &[&str] =
            &["'ticket'", "'correspondence'", "'dropped'", "'answered'", "'sent'", "'failed'"];
        let store = Store::open_in_memory().unwrap();
        let mut unmeant = Vec::new();
        let mut sorted = Vec::new();
        let statements = statements();
        assert!(statements.len() > 100, "the statements were not found: {}", statements.len());
        for (file, sql) in &statements {
            if MEANT.iter().any(|(f, start)| f == file && sql.starts_with(start)) {
                continue;
            }
            let mut stmt = store
                .conn()
                .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                .unwrap_or_else(|e| panic!("{file}: {sql}: {e}"));
            // Bound or not, the values do not change the plan under the stability guarantee.
            let nulls = rusqlite::params_from_iter(std::iter::repeat_n(rusqlite::types::Null, stmt.parameter_count()));
            let details: Vec<String> =
                stmt.query_map(nulls, |r| r.get::<_, String>("detail")).unwrap().map(Result::unwrap).collect();
            for d in details {
                let scanned = d.strip_prefix("SCAN ").and_then(|t| t.split_whitespace().next());
                // A partial index holds only the rows its WHERE names (the slow lane's undigested tickets):
                // scanning it reads what the statement wants, not the table.
                let index = d.split(" INDEX ").nth(1).and_then(|t| t.split_whitespace().next());
                let partial = index.is_some_and(|i| {
                    store
                        .conn()
                        .query_row("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?1", [i], |r| {
                            r.get::<_, Option<String>>(0)
                        })
                        .ok()
                        .flatten()
                        .is_some_and(|sql| sql.contains(" WHERE "))
                });
                if scanned.is_some_and(|t| LARGE.contains(&t)) && !partial {
                    unmeant.push(format!("{file}: {sql}\n    {d}"));
                }
                // A search whose only key is a status reads every row in that status: for the outcomes a
                // store accumulates ('ticket', 'sent'), most of the table. (The duplicate lookup did this
                // once a status its partial index lacked was added to the statement.)
                let searched = d.strip_prefix("SEARCH ").and_then(|t| t.split_whitespace().next());
                let by_status_only = [" (status=?)", " (state=?)"].iter().any(|k| d.ends_with(k))
                    && ACCUMULATING.iter().any(|s| sql.contains(s));
                if searched.is_some_and(|t| LARGE.contains(&t)) && by_status_only && !partial {
                    unmeant.push(format!("{file}: {sql}\n    {d}"));
                }
                // A LIMIT over a sort: every row the search finds is sorted before the first is returned
                // (the outbox's claim sorted each instant's queued rows so, for every mail delivered).
                let sort_meant = SORTS.iter().any(|(f, start)| f == file && sql.starts_with(start));
                if d.contains("TEMP B-TREE FOR") && d.contains("ORDER BY") && sql.contains(" LIMIT ") && !sort_meant {
                    sorted.push(format!("{file}: {sql}\n    {d}"));
                }
            }
        }
        assert!(sorted.is_empty(), "statements that sort what they search before their LIMIT:\n{}", sorted.join("\n"));
        assert!(unmeant.is_empty(), "statements that read a whole table:\n{}", unmeant.join("\n"));
    }
}
