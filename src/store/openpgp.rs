//! SQL for researchers' OpenPGP certificates, the keys they offered that were not taken, and the signatures
//! vdpd accepted as proof (each counts once).

use rusqlite::{Connection, OptionalExtension, params};

use super::StoreError;

/// How vdpd came to hold a researcher's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trust {
    /// Taken from the first mail that offered one (trust on first use).
    FirstUse,
    /// Replaced by a key inside signed content, signed by the key held before.
    SignedChange,
    /// A staff member took it (`#key accept`).
    StaffAccepted,
}

impl Trust {
    pub fn as_str(&self) -> &'static str {
        match self {
            Trust::FirstUse => "first-use",
            Trust::SignedChange => "signed-change",
            Trust::StaffAccepted => "staff-accepted",
        }
    }

    /// How the key came to be held, in words for staff.
    pub fn describe(&self) -> &'static str {
        match self {
            Trust::FirstUse => "learned on first use",
            Trust::SignedChange => "a change signed by the key held before",
            Trust::StaffAccepted => "accepted by staff",
        }
    }

    fn parse(s: &str) -> Trust {
        match s {
            "signed-change" => Trust::SignedChange,
            "staff-accepted" => Trust::StaffAccepted,
            _ => Trust::FirstUse,
        }
    }
}

/// A held certificate and how it came to be held.
#[derive(Debug, Clone)]
pub struct HeldCert {
    pub fingerprint: String,
    pub cert: Vec<u8>,
    /// autocrypt | attachment | inline
    pub source: String,
    pub trust: Trust,
    pub added_at: i64,
    pub updated_at: i64,
}

/// A stored certificate: (fingerprint, binary certificate).
pub fn cert_of(conn: &Connection, address: &str) -> Result<Option<(String, Vec<u8>)>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT fingerprint, cert FROM openpgp_certs WHERE address = ?1")?
        .query_row([address], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// The held certificate of an address, with how it came to be held.
pub fn held(conn: &Connection, address: &str) -> Result<Option<HeldCert>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT fingerprint, cert, source, trust, added_at, updated_at FROM openpgp_certs WHERE address = ?1",
        )?
        .query_row([address], |r| {
            Ok(HeldCert {
                fingerprint: r.get("fingerprint")?,
                cert: r.get("cert")?,
                source: r.get("source")?,
                trust: Trust::parse(&r.get::<_, String>("trust")?),
                added_at: r.get("added_at")?,
                updated_at: r.get("updated_at")?,
            })
        })
        .optional()?)
}

/// Stores (or replaces) the certificate of an address.
pub fn set_cert(
    conn: &Connection,
    address: &str,
    fingerprint: &str,
    cert: &[u8],
    source: &str,
    trust: Trust,
    now: i64,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO openpgp_certs (address, fingerprint, cert, source, trust, added_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)
         ON CONFLICT (address) DO UPDATE SET fingerprint = excluded.fingerprint, cert = excluded.cert,
             source = excluded.source, trust = excluded.trust, updated_at = excluded.updated_at,
             added_at = CASE WHEN openpgp_certs.fingerprint = excluded.fingerprint
                             THEN openpgp_certs.added_at ELSE excluded.added_at END",
    )?
    .execute(params![address, fingerprint, cert, source, trust.as_str(), now])?;
    // A key that is held is no longer merely offered.
    conn.prepare_cached("DELETE FROM openpgp_offers WHERE address = ?1 AND fingerprint = ?2")?
        .execute(params![address, fingerprint])?;
    Ok(())
}

/// Forgets the certificate of an address (`#key reset`); whether there was one.
pub fn forget(conn: &Connection, address: &str) -> Result<bool, StoreError> {
    Ok(conn.prepare_cached("DELETE FROM openpgp_certs WHERE address = ?1")?.execute([address])? > 0)
}

/// A key offered for an address and not taken.
#[derive(Debug, Clone)]
pub struct Offer {
    pub fingerprint: String,
    pub cert: Vec<u8>,
    pub source: String,
    pub reason: String,
    pub offered_at: i64,
}

/// Records a key offered and not taken (the latest offer of the same key wins).
pub fn record_offer(conn: &Connection, address: &str, offer: &Offer, intake_id: Option<i64>) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO openpgp_offers (address, fingerprint, cert, source, reason, intake_id, offered_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (address, fingerprint) DO UPDATE SET cert = excluded.cert, source = excluded.source,
             reason = excluded.reason, intake_id = excluded.intake_id, offered_at = excluded.offered_at",
    )?
    .execute(params![
        address,
        offer.fingerprint,
        offer.cert,
        offer.source,
        offer.reason,
        intake_id,
        offer.offered_at
    ])?;
    Ok(())
}

/// The keys offered for an address and not taken, newest first.
pub fn offers(conn: &Connection, address: &str) -> Result<Vec<Offer>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT fingerprint, cert, source, reason, offered_at FROM openpgp_offers WHERE address = ?1
         ORDER BY offered_at DESC, fingerprint",
    )?;
    let rows = stmt.query_map([address], |r| {
        Ok(Offer {
            fingerprint: r.get("fingerprint")?,
            cert: r.get("cert")?,
            source: r.get("source")?,
            reason: r.get("reason")?,
            offered_at: r.get("offered_at")?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Forgets every offer for an address (erasure).
pub fn forget_offers(conn: &Connection, address: &str) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM openpgp_offers WHERE address = ?1")?.execute([address])?;
    Ok(())
}

/// What a signature was accepted for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Staff,
    KeyChange,
}

impl Purpose {
    fn as_str(&self) -> &'static str {
        match self {
            Purpose::Staff => "staff",
            Purpose::KeyChange => "key-change",
        }
    }
}

/// When a signature (by digest) was accepted, if it ever was.
pub fn accepted_at(conn: &Connection, digest: &str) -> Result<Option<i64>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT accepted_at FROM accepted_signatures WHERE digest = ?1")?
        .query_row([digest], |r| r.get(0))
        .optional()?)
}

/// Records a signature as used. The caller checked [`accepted_at`] in the same transaction.
pub fn accept(
    conn: &Connection,
    digest: &str,
    signer: &str,
    purpose: Purpose,
    intake_id: Option<i64>,
    signed_at: i64,
    now: i64,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO accepted_signatures (digest, signer, purpose, intake_id, signed_at, accepted_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![digest, signer, purpose.as_str(), intake_id, signed_at, now])?;
    Ok(())
}

/// Forgets the record of signatures made by a certificate (erasure of its owner).
pub fn forget_signatures_by(conn: &Connection, signer: &str) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM accepted_signatures WHERE signer = ?1")?.execute([signer])?;
    Ok(())
}
