//! Researchers' keys: carrying out what the core decides a mail teaches about its sender's key
//! ([`vdpd_core::engine::keys`], where the rules are), and staff's `#key` commands.

use super::apply::Tx;
use super::{Env, HandleError};
use crate::classify::Inbound;
use crate::engine::keys::{self as decide, KeyChange, KeyFacts};
use crate::openpgp::{self, Cert, read::Signature};
use crate::store::{self, openpgp::Offer, openpgp::Purpose, openpgp::Trust};

/// What the store holds that the key decision needs: the sender's held certificate, and when the mail's
/// signature was used before.
#[derive(Debug, Default)]
pub(super) struct Held {
    cert: Option<store::openpgp::HeldCert>,
    signature_used_at: Option<i64>,
}

impl Held {
    /// Read only for a mail that offers a key: no other mail needs it.
    pub(super) fn read(tx: &Tx<'_>, inbound: &Inbound) -> Result<Held, HandleError> {
        if !decide::offers_any(inbound) {
            return Ok(Held::default());
        }
        Ok(Held {
            cert: store::openpgp::held(tx, &inbound.sender)?,
            signature_used_at: match &inbound.body.signature {
                Signature::Good { digest, .. } => store::openpgp::accepted_at(tx, digest)?,
                _ => None,
            },
        })
    }

    pub(super) fn facts<'a>(&'a self, env: &'a Env, now: i64) -> KeyFacts<'a> {
        KeyFacts {
            held: self.cert.as_ref().map(|h| h.fingerprint.as_str()),
            signature_used_at: self.signature_used_at,
            learn: env.config.openpgp.as_ref().map(|o| &o.learn_keys),
            max_signature_age_ms: env.config.staff.max_signature_age_ms,
            now,
        }
    }
}

/// Carries out the core's decision about the mail's keys (`held` as read before it). Returns the staff note.
pub(super) fn apply(
    tx: &Tx<'_>,
    inbound: &Inbound,
    intake_id: i64,
    ticket_id: Option<i64>,
    held: &Held,
    plan: &decide::KeyPlan,
    now: i64,
) -> Result<Option<String>, HandleError> {
    let sender = &inbound.sender;
    tracing::debug!(address = %sender, ?plan.merge, change = ?plan.change, "key decision");
    let keys = decide::offered(inbound);
    let hold = |k: &crate::classify::OfferedKey, trust: Trust| {
        let fpr = k.cert.fingerprint().to_hex();
        store::openpgp::set_cert(tx, sender, &fpr, &openpgp::binary(&k.cert), k.source.as_str(), trust, now)
    };
    if let (Some(i), Some(held)) = (plan.merge, &held.cert) {
        merge(tx, sender, held, &keys[i].cert, now)?;
    }
    match &plan.change {
        KeyChange::Nothing => {}
        KeyChange::Learned { key } => hold(keys[*key], Trust::FirstUse)?,
        KeyChange::Offered { key, reason } => {
            let k = keys[*key];
            let offer = Offer {
                fingerprint: k.cert.fingerprint().to_hex(),
                cert: openpgp::binary(&k.cert),
                source: k.source.as_str().to_string(),
                reason: reason.clone(),
                offered_at: now,
            };
            store::openpgp::record_offer(tx, sender, &offer, Some(intake_id))?;
        }
        KeyChange::Replaced { key, signed_at, digest } => {
            let k = keys[*key];
            let old = held.cert.as_ref().map(|h| h.fingerprint.as_str()).unwrap_or_default();
            store::openpgp::accept(tx, digest, old, Purpose::KeyChange, Some(intake_id), *signed_at, now)?;
            hold(k, Trust::SignedChange)?;
        }
    }
    if let Some((event, detail)) = &plan.event {
        tracing::info!(address = %sender, "{event}: {detail}");
        if let Some(t) = ticket_id {
            store::tickets::add_timeline(tx, t, now, sender, *event, detail)?;
        }
    }
    Ok(plan.staff_note.clone())
}

/// Merges an offered copy of the held certificate into it (a union: nothing held is lost).
fn merge(
    tx: &Tx<'_>,
    sender: &str,
    held: &store::openpgp::HeldCert,
    offered: &Cert,
    now: i64,
) -> Result<(), HandleError> {
    let Some(old) = crate::classify::pgp::cert_from_bytes(&held.cert) else { return Ok(()) };
    if let Ok((merged, true)) = old.insert_packets(offered.clone().into_packets()) {
        let bytes = openpgp::binary(&merged);
        if bytes.len() <= 2 * openpgp::MAX_OFFERED_CERT_BYTES {
            store::openpgp::set_cert(tx, sender, &held.fingerprint, &bytes, &held.source, held.trust, now)?;
        }
    }
    Ok(())
}

/// The held key in one line, for every staff notification: so that a key learned on first use — also one
/// learned from a key request, before any ticket — is never trusted unseen.
pub(super) fn summary(tx: &Tx<'_>, address: &str) -> Result<Option<String>, HandleError> {
    Ok(store::openpgp::held(tx, address)?.map(|h| {
        let how = h.trust.describe();
        let since = jiff::Timestamp::from_millisecond(h.added_at)
            .map(|t| t.strftime("%Y-%m-%d").to_string())
            .unwrap_or_default();
        format!("{} ({how}, from {}, {since})", h.fingerprint, h.source)
    }))
}

/// What `#key show` reports about a researcher's key.
pub(super) fn describe(tx: &Tx<'_>, address: &str, now: i64) -> Result<Vec<String>, HandleError> {
    let when = |ms: i64| {
        jiff::Timestamp::from_millisecond(ms).map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_default()
    };
    let mut out = Vec::new();
    match store::openpgp::held(tx, address)? {
        None => out.push(format!("no key is held for {address}: mail to them is not encrypted")),
        Some(h) => {
            let how = h.trust.describe();
            out.push(format!(
                "key held for {address}: {} ({how}, from {}, since {})",
                h.fingerprint,
                h.source,
                when(h.added_at)
            ));
            if let Some(cert) = crate::classify::pgp::cert_from_bytes(&h.cert) {
                let info = openpgp::cert_info(&cert, super::system_time(now));
                out.push(format!("  user IDs: {}", info.user_ids.join("; ")));
                if let Some(problem) = info.problem {
                    out.push(format!("  unusable: {problem}"));
                }
            }
        }
    }
    for o in store::openpgp::offers(tx, address)? {
        out.push(format!(
            "offered, not taken: {} (from {}, {}): {}",
            o.fingerprint,
            o.source,
            when(o.offered_at),
            o.reason
        ));
    }
    Ok(out)
}

/// `#key accept FINGERPRINT`: makes an offered key the held one. The fingerprint must be one the researcher
/// offered (`#key show` lists them).
pub(super) fn accept_offer(
    tx: &Tx<'_>,
    address: &str,
    fingerprint: &str,
    now: i64,
) -> Result<Result<String, String>, HandleError> {
    let offers = store::openpgp::offers(tx, address)?;
    let Some(o) = offers.iter().find(|o| o.fingerprint.eq_ignore_ascii_case(fingerprint)) else {
        return Ok(Err(format!(
            "{address} never offered the key {fingerprint} (offered: {})",
            if offers.is_empty() {
                "none".to_string()
            } else {
                offers.iter().map(|o| o.fingerprint.clone()).collect::<Vec<_>>().join(", ")
            }
        )));
    };
    store::openpgp::set_cert(tx, address, &o.fingerprint, &o.cert, &o.source, Trust::StaffAccepted, now)?;
    Ok(Ok(o.fingerprint.clone()))
}
