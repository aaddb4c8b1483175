//! Researchers' keys: what a mail may teach vdpd about the key it encrypts to, and staff's `#key` commands.
//!
//! - A first key for an address is taken from the first mail that offers one (trust on first use) — or,
//!   with `openpgp.learn_keys = "dmarc"`, only from mail whose From passed DMARC at the trusted MX — and
//!   staff are told, since nothing vouches for it but the mail itself.
//! - A held key is replaced only by a key carried inside the mail's signed content, signed by the held key,
//!   within `staff.max_signature_age` and never before: an `Autocrypt:` header or a key beside the
//!   signature never replaces one. Anything else offered is kept as an offer staff may take
//!   (`#key accept FINGERPRINT`).
//! - A copy of the held key (same fingerprint) is merged: new subkeys and self-signatures only its owner can
//!   make, and nothing of the held one (revocations, expiry) is lost.

use super::apply::Tx;
use super::{Env, HandleError};
use crate::classify::{Inbound, OfferedKey};
use crate::config::LearnKeys;
use crate::engine::staff::{dmarc_aligned, fresh_and_unused};
use crate::openpgp::{self, Cert, read::Signature};
use crate::store::{self, openpgp::Offer, openpgp::Purpose, openpgp::Trust};
use crate::timeline::Event;

fn source_words(k: &OfferedKey) -> &'static str {
    match k.source {
        crate::classify::KeySource::Autocrypt => "the Autocrypt header",
        crate::classify::KeySource::Attachment => "an attached key",
        crate::classify::KeySource::Inline => "a pasted key block",
    }
}

/// Learns what `inbound` teaches about its sender's key. Returns what staff should be told (a key learned
/// on first use, a key change, a change refused), which is also on the ticket's timeline.
pub(super) fn learn(
    tx: &Tx<'_>,
    env: &Env,
    inbound: &Inbound,
    intake_id: i64,
    ticket_id: Option<i64>,
    now: i64,
) -> Result<Option<String>, HandleError> {
    let sender = &inbound.sender;
    let note = |event: Event, detail: &str| -> Result<(), HandleError> {
        tracing::info!(address = %sender, "{event}: {detail}");
        if let Some(t) = ticket_id {
            store::tickets::add_timeline(tx, t, now, sender, event, detail)?;
        }
        Ok(())
    };
    let own = |k: &&OfferedKey| openpgp::has_address(&k.cert, sender);
    let inside: Vec<&OfferedKey> = inbound.body.keys.iter().filter(own).collect();
    let outside: Vec<&OfferedKey> = inbound.outside.keys.iter().filter(own).collect();
    if inside.is_empty() && outside.is_empty() {
        if let Some(k) = inbound.body.keys.iter().chain(&inbound.outside.keys).next() {
            note(
                Event::KeyIgnored,
                &format!("{} has no user ID with the address {sender}", k.cert.fingerprint().to_hex()),
            )?;
        }
        return Ok(None);
    }
    let offer = |k: &OfferedKey, reason: &str| -> Result<(), HandleError> {
        let o = Offer {
            fingerprint: k.cert.fingerprint().to_hex(),
            cert: openpgp::binary(&k.cert),
            source: k.source.as_str().to_string(),
            reason: reason.to_string(),
            offered_at: now,
        };
        store::openpgp::record_offer(tx, sender, &o, Some(intake_id))?;
        Ok(())
    };
    let Some(held) = store::openpgp::held(tx, sender)? else {
        // First use: a key inside signed content is preferred to one beside it.
        let k = inside.first().or(outside.first()).copied().expect("one key at least");
        let fpr = k.cert.fingerprint().to_hex();
        if let Some(LearnKeys::DmarcAligned { authserv_id }) = env.config.openpgp.as_ref().map(|o| &o.learn_keys)
            && let Err(why) = dmarc_aligned(&inbound.auth_results, authserv_id, sender)
        {
            let reason = format!("not learned: {why} (openpgp.learn_keys = \"dmarc\")");
            offer(k, &reason)?;
            note(Event::KeyNotLearned, &format!("{fpr}: {reason}"))?;
            return Ok(Some(format!(
                "{sender} offered the key {fpr} ({}), but it was not learned: {why}. Mail to them stays unencrypted; \
                 `#key accept {fpr}` takes it if you know it is theirs.",
                source_words(k)
            )));
        }
        store::openpgp::set_cert(tx, sender, &fpr, &openpgp::binary(&k.cert), k.source.as_str(), Trust::FirstUse, now)?;
        note(Event::KeyStored, &format!("{fpr} (from {}; trust on first use)", k.source.as_str()))?;
        return Ok(Some(format!(
            "vdpd learned a key for {sender} on first use: {fpr}, from {}{}. Nothing vouches for it but this mail: if \
             you doubt it, `#key show`, and `#key reset` forgets it.",
            source_words(k),
            if inside.iter().any(|i| i.cert.fingerprint() == k.cert.fingerprint())
                && inbound.body.signature != Signature::None
            {
                ", inside the signed content"
            } else {
                ""
            }
        )));
    };

    // The held key, offered again: merge what only its owner can add.
    if let Some(same) = inside.iter().chain(&outside).find(|k| k.cert.fingerprint().to_hex() == held.fingerprint) {
        merge(tx, sender, &held, &same.cert, now)?;
    }
    let new: Vec<&&OfferedKey> =
        inside.iter().chain(&outside).filter(|k| k.cert.fingerprint().to_hex() != held.fingerprint).collect();
    let Some(candidate) = new.first() else { return Ok(None) };
    let fpr = candidate.cert.fingerprint().to_hex();
    let covered = inside.iter().any(|k| k.cert.fingerprint() == candidate.cert.fingerprint());
    let verdict = match &inbound.body.signature {
        Signature::Good { cert, signed_at, digest } if *cert == held.fingerprint => Some((*signed_at, digest)),
        _ => None,
    };
    let window = env.config.staff.max_signature_age_ms;
    let refused = match (covered, verdict) {
        (false, _) => Some(format!(
            "it came in {}, outside any signed content: only a key inside content signed by the key we hold ({}) \
             replaces it",
            source_words(candidate),
            held.fingerprint
        )),
        (true, None) => {
            Some(format!("the content that carries it is not signed by the key we hold ({})", held.fingerprint))
        }
        (true, Some((signed_at, digest))) => {
            fresh_and_unused(signed_at, now, window, store::openpgp::accepted_at(tx, digest)?).err()
        }
    };
    if let Some(why) = refused {
        offer(candidate, &why)?;
        note(Event::KeyChangeRefused, &format!("{fpr} offered: {why}"))?;
        return Ok(Some(format!(
            "{sender} was offered a new key {fpr}, and it was NOT taken: {why}. Mail to them stays encrypted to {}. If \
             they really changed keys: `#key accept {fpr}`.",
            held.fingerprint
        )));
    }
    let (signed_at, digest) = verdict.expect("checked above");
    store::openpgp::accept(tx, digest, &held.fingerprint, Purpose::KeyChange, Some(intake_id), signed_at, now)?;
    store::openpgp::set_cert(
        tx,
        sender,
        &fpr,
        &openpgp::binary(&candidate.cert),
        candidate.source.as_str(),
        Trust::SignedChange,
        now,
    )?;
    note(Event::KeyReplaced, &format!("{} → {fpr} (in content signed by {})", held.fingerprint, held.fingerprint))?;
    Ok(Some(format!(
        "{sender} changed keys: {} → {fpr}, in content signed by the old key. Mail to them is encrypted to the new one.",
        held.fingerprint
    )))
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
