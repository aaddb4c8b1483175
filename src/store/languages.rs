//! SQL for the language each researcher is answered in ([`vdpd_core::lang`]).

use rusqlite::{Connection, OptionalExtension, params};
use vdpd_core::lang::{Found, Lang};

use super::StoreError;

/// Records the language `address` wrote in; a later mail's language replaces an earlier one.
pub fn remember(conn: &Connection, address: &str, lang: &Lang, found: Found, now: i64) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO researcher_languages (address, lang, found, updated_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (address) DO UPDATE SET lang = excluded.lang, found = excluded.found,
             updated_at = excluded.updated_at",
    )?
    .execute(params![address, lang.as_str(), found.as_str(), now])?;
    Ok(())
}

/// The language remembered for `address`, and how it was learned. A row that no longer reads (written by
/// hand) counts as none: the researcher is answered in the organisation's language.
pub fn of(conn: &Connection, address: &str) -> Result<Option<(Lang, Found)>, StoreError> {
    let row: Option<(String, String)> = conn
        .prepare_cached("SELECT lang, found FROM researcher_languages WHERE address = ?1")?
        .query_row([address], |r| Ok((r.get("lang")?, r.get("found")?)))
        .optional()?;
    Ok(row.and_then(|(l, f)| Some((l.parse().ok()?, f.parse().ok()?))))
}

/// Forgets `address`'s language (erasure).
pub fn forget(conn: &Connection, address: &str) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM researcher_languages WHERE address = ?1")?.execute([address])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_latest_language_is_remembered_and_erasure_forgets_it() {
        let store = crate::store::Store::open_in_memory().unwrap();
        let conn = store.conn();
        let fr: Lang = "fr".parse().unwrap();
        assert_eq!(of(conn, "r@example.net").unwrap(), None);
        remember(conn, "r@example.net", &fr, Found::Declared, 1).unwrap();
        assert_eq!(of(conn, "r@example.net").unwrap(), Some((fr, Found::Declared)));
        remember(conn, "r@example.net", &Lang::english(), Found::Detected, 2).unwrap();
        assert_eq!(of(conn, "r@example.net").unwrap(), Some((Lang::english(), Found::Detected)));
        crate::store::retention::erase_address(conn, "r@example.net", &[], 3).unwrap();
        assert_eq!(of(conn, "r@example.net").unwrap(), None);
    }
}
