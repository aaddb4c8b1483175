//! What a researcher's mail teaches vdpd about the key it encrypts to: decided here, carried out by the shell.
//!
//! - A first key for an address is taken from the first mail that offers one (trust on first use) — or,
//!   with `openpgp.learn_keys = "dmarc"`, only from mail whose From passed DMARC at the trusted MX — and
//!   staff are told, since nothing vouches for it but the mail itself. A key inside signed content is
//!   preferred to one beside it.
//! - A held key is replaced only by a key carried inside the mail's signed content, signed by the held key,
//!   within `staff.max_signature_age` and never before: an `Autocrypt:` header or a key beside the
//!   signature never replaces one. Anything else offered is kept as an offer staff may take
//!   (`#key accept FINGERPRINT`).
//! - A copy of the held key (same fingerprint) is merged: new subkeys and self-signatures only its owner can
//!   make, and nothing of the held one (revocations, expiry) is lost.

use crate::classify::{Inbound, KeySource, OfferedKey};
use crate::config::LearnKeys;
use crate::openpgp::{self, read::Signature};
use crate::timeline::Event;

use super::staff::{dmarc_aligned, fresh_and_unused};

/// What the shell looks up before the decision.
#[derive(Debug, Clone, Copy)]
pub struct KeyFacts<'a> {
    /// The fingerprint of the key held for the sender, if any.
    pub held: Option<&'a str>,
    /// When the mail's signature (its digest) was used before, if it was.
    pub signature_used_at: Option<i64>,
    /// How the first key for an address may be learned (`openpgp.learn_keys`).
    pub learn: Option<&'a LearnKeys>,
    /// `staff.max_signature_age`, in milliseconds.
    pub max_signature_age_ms: i64,
    pub now: i64,
}

/// What becomes of an offered key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyChange {
    /// The sender offered no key of their own.
    Nothing,
    /// The first key for the address, held from now on (trust on first use).
    Learned { key: usize },
    /// A key that replaces the held one: its signature (the digest) is spent by it.
    Replaced { key: usize, signed_at: i64, digest: String },
    /// Kept as an offer, not held: why.
    Offered { key: usize, reason: String },
}

/// The decision about a mail's keys: `key` indices are into [`offered`]'s list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPlan {
    /// A copy of the held key to merge into it.
    pub merge: Option<usize>,
    pub change: KeyChange,
    /// What goes on the ticket's timeline.
    pub event: Option<(Event, String)>,
    /// What staff should be told (a key learned on first use, a key change, a change refused).
    pub staff_note: Option<String>,
}

/// The keys a mail carries, inside its signed content first and then beside it, as [`KeyPlan`] counts them.
pub fn offered(inbound: &Inbound) -> Vec<&OfferedKey> {
    inbound.body.keys.iter().chain(&inbound.outside.keys).collect()
}

/// Whether the mail offers any key at all (most carry none, and need no lookup of the sender's).
pub fn offers_any(inbound: &Inbound) -> bool {
    !inbound.body.keys.is_empty() || !inbound.outside.keys.is_empty()
}

/// [`learn`] for a mail that offers a key; `None` for one that offers none.
pub fn learn_offered(inbound: &Inbound, facts: &KeyFacts<'_>) -> Option<KeyPlan> {
    offers_any(inbound).then(|| learn(inbound, facts))
}

fn source_words(k: &OfferedKey) -> &'static str {
    match k.source {
        KeySource::Autocrypt => "the Autocrypt header",
        KeySource::Attachment => "an attached key",
        KeySource::Inline => "a pasted key block",
    }
}

/// Decides what `inbound` teaches about its sender's key.
pub fn learn(inbound: &Inbound, facts: &KeyFacts<'_>) -> KeyPlan {
    let sender = &inbound.sender;
    let all = offered(inbound);
    let inside_count = inbound.body.keys.len();
    let fpr = |i: usize| all[i].cert.fingerprint().to_hex();
    // The sender's own keys, by index: inside the signed content, then beside it.
    let own: Vec<usize> = (0..all.len()).filter(|&i| openpgp::has_address(&all[i].cert, sender)).collect();
    let is_inside = |i: usize| i < inside_count;
    let mut plan = KeyPlan { merge: None, change: KeyChange::Nothing, event: None, staff_note: None };
    if own.is_empty() {
        if !all.is_empty() {
            plan.event = Some((Event::KeyIgnored, format!("{} has no user ID with the address {sender}", fpr(0))));
        }
        return plan;
    }
    let Some(held) = facts.held else {
        let k = own[0];
        let f = fpr(k);
        if let Some(LearnKeys::DmarcAligned { authserv_id }) = facts.learn
            && let Err(why) = dmarc_aligned(&inbound.auth_results, authserv_id, sender)
        {
            let reason = format!("not learned: {why} (openpgp.learn_keys = \"dmarc\")");
            plan.event = Some((Event::KeyNotLearned, format!("{f}: {reason}")));
            plan.staff_note = Some(format!(
                "{sender} offered the key {f} ({}), but it was not learned: {why}. Mail to them stays unencrypted; \
                 `#key accept {f}` takes it if you know it is theirs.",
                source_words(all[k])
            ));
            plan.change = KeyChange::Offered { key: k, reason };
            return plan;
        }
        plan.event = Some((Event::KeyStored, format!("{f} (from {}; trust on first use)", all[k].source.as_str())));
        plan.staff_note = Some(format!(
            "vdpd learned a key for {sender} on first use: {f}, from {}{}. Nothing vouches for it but this mail: if \
             you doubt it, `#key show`, and `#key reset` forgets it.",
            source_words(all[k]),
            if is_inside(k) && inbound.body.signature != Signature::None { ", inside the signed content" } else { "" }
        ));
        plan.change = KeyChange::Learned { key: k };
        return plan;
    };

    // The held key, offered again: merge what only its owner can add.
    plan.merge = own.iter().copied().find(|&i| fpr(i) == held);
    let Some(candidate) = own.iter().copied().find(|&i| fpr(i) != held) else { return plan };
    let f = fpr(candidate);
    // Covered when the same key is among the sender's keys inside the signed content.
    let covered = own.iter().any(|&i| is_inside(i) && all[i].cert.fingerprint() == all[candidate].cert.fingerprint());
    let taken: Result<(i64, &String), String> = match (covered, &inbound.body.signature) {
        (false, _) => Err(format!(
            "it came in {}, outside any signed content: only a key inside content signed by the key we hold ({held}) \
             replaces it",
            source_words(all[candidate]),
        )),
        (true, Signature::Good { cert, signed_at, digest }) if cert == held => {
            fresh_and_unused(*signed_at, facts.now, facts.max_signature_age_ms, facts.signature_used_at)
                .map(|()| (*signed_at, digest))
        }
        (true, _) => Err(format!("the content that carries it is not signed by the key we hold ({held})")),
    };
    match taken {
        Err(why) => {
            plan.event = Some((Event::KeyChangeRefused, format!("{f} offered: {why}")));
            plan.staff_note = Some(format!(
                "{sender} was offered a new key {f}, and it was NOT taken: {why}. Mail to them stays encrypted to \
                 {held}. If they really changed keys: `#key accept {f}`."
            ));
            plan.change = KeyChange::Offered { key: candidate, reason: why };
        }
        Ok((signed_at, digest)) => {
            plan.event = Some((Event::KeyReplaced, format!("{held} → {f} (in content signed by {held})")));
            plan.staff_note = Some(format!(
                "{sender} changed keys: {held} → {f}, in content signed by the old key. Mail to them is encrypted to \
                 the new one."
            ));
            plan.change = KeyChange::Replaced { key: candidate, signed_at, digest: digest.clone() };
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::*;
    use crate::openpgp::keys::OrgKey;

    const NOW: i64 = 1_795_000_000_000;
    const DAY: i64 = 86_400_000;

    fn cert(userid: &str) -> openpgp::Cert {
        let made = SystemTime::UNIX_EPOCH + Duration::from_millis((NOW - DAY) as u64);
        OrgKey::generate(userid, None, made).unwrap().public().clone()
    }

    fn key(cert: &openpgp::Cert, source: KeySource) -> OfferedKey {
        OfferedKey { cert: cert.clone(), source }
    }

    fn mail(inside: Vec<OfferedKey>, outside: Vec<OfferedKey>, signature: Signature) -> Inbound {
        let mut m = Inbound::for_tests("sam@research.test", "Re: [EX-2026-0001] x", "text");
        m.body.keys = inside;
        m.body.signature = signature;
        m.outside.keys = outside;
        m
    }

    fn facts(held: Option<&str>) -> KeyFacts<'_> {
        KeyFacts { held, signature_used_at: None, learn: None, max_signature_age_ms: 7 * DAY, now: NOW }
    }

    fn signed_by(fingerprint: &str, at: i64) -> Signature {
        Signature::Good { cert: fingerprint.into(), signed_at: at, digest: "d1".into() }
    }

    /// Every way a mail's keys can go, first use and change, as a table: the change, what merges, the
    /// timeline event and the words of the reason.
    #[test]
    fn what_a_mail_teaches_about_its_senders_key() {
        let (old, new, other) =
            (cert("Sam <sam@research.test>"), cert("Sam <sam@research.test>"), cert("Eve <eve@x.test>"));
        let (old_fp, new_fp) = (old.fingerprint().to_hex(), new.fingerprint().to_hex());
        let dmarc = LearnKeys::DmarcAligned { authserv_id: "mx.example.test".into() };
        let attached = |c: &openpgp::Cert| key(c, KeySource::Attachment);
        let autocrypt = |c: &openpgp::Cert| key(c, KeySource::Autocrypt);
        struct Case<'a> {
            name: &'a str,
            mail: Inbound,
            facts: KeyFacts<'a>,
            change: KeyChange,
            merge: Option<usize>,
            event: Option<Event>,
            reason: &'a str,
        }
        let mut passed = mail(vec![], vec![autocrypt(&new)], Signature::None);
        passed.auth_results = vec!["mx.example.test; dmarc=pass header.from=research.test".into()];
        let cases = [
            Case {
                name: "no key",
                mail: mail(vec![], vec![], Signature::None),
                facts: facts(None),
                change: KeyChange::Nothing,
                merge: None,
                event: None,
                reason: "",
            },
            Case {
                name: "someone else's key",
                mail: mail(vec![attached(&other)], vec![], Signature::None),
                facts: facts(None),
                change: KeyChange::Nothing,
                merge: None,
                event: Some(Event::KeyIgnored),
                reason: "no user ID with the address sam@research.test",
            },
            Case {
                name: "first use prefers the key inside the signed content",
                mail: mail(vec![attached(&new)], vec![autocrypt(&old)], signed_by("unknown", NOW)),
                facts: facts(None),
                change: KeyChange::Learned { key: 0 },
                merge: None,
                event: Some(Event::KeyStored),
                reason: "inside the signed content",
            },
            Case {
                name: "first use from the Autocrypt header",
                mail: mail(vec![], vec![autocrypt(&new)], Signature::None),
                facts: facts(None),
                change: KeyChange::Learned { key: 0 },
                merge: None,
                event: Some(Event::KeyStored),
                reason: "on first use",
            },
            Case {
                name: "first use under learn_keys = dmarc, without DMARC",
                mail: mail(vec![], vec![autocrypt(&new)], Signature::None),
                facts: KeyFacts { learn: Some(&dmarc), ..facts(None) },
                change: KeyChange::Offered {
                    key: 0,
                    reason: "not learned: no Authentication-Results from the trusted mx.example.test (openpgp.learn_keys = \"dmarc\")".into(),
                },
                merge: None,
                event: Some(Event::KeyNotLearned),
                reason: "not learned",
            },
            Case {
                name: "first use under learn_keys = dmarc, DMARC passed",
                mail: passed,
                facts: KeyFacts { learn: Some(&dmarc), ..facts(None) },
                change: KeyChange::Learned { key: 0 },
                merge: None,
                event: Some(Event::KeyStored),
                reason: "on first use",
            },
            Case {
                name: "the held key again is merged",
                mail: mail(vec![], vec![autocrypt(&old)], Signature::None),
                facts: facts(Some(&old_fp)),
                change: KeyChange::Nothing,
                merge: Some(0),
                event: None,
                reason: "",
            },
            Case {
                name: "a new key beside the content",
                mail: mail(vec![], vec![autocrypt(&new)], signed_by(&old_fp, NOW)),
                facts: facts(Some(&old_fp)),
                change: KeyChange::Offered { key: 0, reason: String::new() },
                merge: None,
                event: Some(Event::KeyChangeRefused),
                reason: "outside any signed content",
            },
            Case {
                name: "a new key inside content not signed by the held key",
                mail: mail(vec![attached(&new)], vec![], signed_by(&new_fp, NOW)),
                facts: facts(Some(&old_fp)),
                change: KeyChange::Offered { key: 0, reason: String::new() },
                merge: None,
                event: Some(Event::KeyChangeRefused),
                reason: "not signed by the key we hold",
            },
            Case {
                name: "a new key signed by the held key, but long ago",
                mail: mail(vec![attached(&new)], vec![], signed_by(&old_fp, NOW - 30 * DAY)),
                facts: facts(Some(&old_fp)),
                change: KeyChange::Offered { key: 0, reason: String::new() },
                merge: None,
                event: Some(Event::KeyChangeRefused),
                reason: "longer than staff.max_signature_age",
            },
            Case {
                name: "a new key signed by the held key with a signature already spent",
                mail: mail(vec![attached(&new)], vec![], signed_by(&old_fp, NOW)),
                facts: KeyFacts { signature_used_at: Some(NOW - DAY), ..facts(Some(&old_fp)) },
                change: KeyChange::Offered { key: 0, reason: String::new() },
                merge: None,
                event: Some(Event::KeyChangeRefused),
                reason: "replay",
            },
            Case {
                name: "a new key inside content freshly signed by the held key, the held one beside it",
                mail: mail(vec![attached(&new)], vec![autocrypt(&old)], signed_by(&old_fp, NOW - 60_000)),
                facts: facts(Some(&old_fp)),
                change: KeyChange::Replaced { key: 0, signed_at: NOW - 60_000, digest: "d1".into() },
                merge: Some(1),
                event: Some(Event::KeyReplaced),
                reason: "changed keys",
            },
        ];
        for case in cases {
            let plan = learn(&case.mail, &case.facts);
            let change = match (&plan.change, &case.change) {
                // The reason's words are checked below, with the staff note's.
                (KeyChange::Offered { key, reason }, KeyChange::Offered { reason: want, .. }) if want.is_empty() => {
                    KeyChange::Offered { key: *key, reason: if reason.is_empty() { "?".into() } else { String::new() } }
                }
                (c, _) => c.clone(),
            };
            assert_eq!(change, case.change, "{}", case.name);
            assert_eq!(plan.merge, case.merge, "{}", case.name);
            assert_eq!(plan.event.as_ref().map(|(e, _)| *e), case.event, "{}", case.name);
            let words = format!("{:?} {:?}", plan.event, plan.staff_note);
            assert!(words.contains(case.reason), "{}: {words}", case.name);
            assert_eq!(plan.staff_note.is_some(), !matches!(plan.change, KeyChange::Nothing), "{}", case.name);
        }
    }
}
