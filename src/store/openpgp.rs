//! SQL for researchers' OpenPGP certificates.

use rusqlite::{Connection, OptionalExtension, params};

use super::StoreError;

/// A stored certificate: (fingerprint, binary certificate).
pub fn cert_of(conn: &Connection, address: &str) -> Result<Option<(String, Vec<u8>)>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT fingerprint, cert FROM openpgp_certs WHERE address = ?1")?
        .query_row([address], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// Stores (or replaces) the certificate of an address.
pub fn set_cert(
    conn: &Connection,
    address: &str,
    fingerprint: &str,
    cert: &[u8],
    source: &str,
    now: i64,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO openpgp_certs (address, fingerprint, cert, source, added_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)
         ON CONFLICT (address) DO UPDATE SET fingerprint = excluded.fingerprint, cert = excluded.cert,
             source = excluded.source, updated_at = excluded.updated_at",
    )?
    .execute(params![address, fingerprint, cert, source, now])?;
    Ok(())
}
