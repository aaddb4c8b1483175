//! SQL for OAuth2 tokens: the refresh token to use next and the current access token, per client.

use rusqlite::{Connection, OptionalExtension, params};

use super::StoreError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRow {
    pub refresh_token: String,
    pub source_sha256: String,
    pub access_token: String,
    pub expires_at: i64,
}

pub fn get(conn: &Connection, name: &str) -> Result<Option<TokenRow>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT refresh_token, source_sha256, access_token, expires_at FROM oauth2_tokens WHERE name = ?1",
        )?
        .query_row([name], |r| {
            Ok(TokenRow {
                refresh_token: r.get("refresh_token")?,
                source_sha256: r.get("source_sha256")?,
                access_token: r.get("access_token")?,
                expires_at: r.get("expires_at")?,
            })
        })
        .optional()?)
}

pub fn put(conn: &Connection, name: &str, row: &TokenRow, now: i64) -> Result<(), StoreError> {
    conn.prepare_cached("INSERT INTO oauth2_tokens (name, refresh_token, source_sha256, access_token, expires_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (name) DO UPDATE SET refresh_token = excluded.refresh_token, source_sha256 = excluded.source_sha256,
             access_token = excluded.access_token, expires_at = excluded.expires_at, updated_at = excluded.updated_at")?.execute(
        params![name, row.refresh_token, row.source_sha256, row.access_token, row.expires_at, now],
    )?;
    Ok(())
}
