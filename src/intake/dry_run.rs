//! `vdpd ingest --dry-run`: what a message would do, without doing it.
//!
//! The message goes through [`super::process`] — the same code, every rule, rendering and encryption — in an
//! in-memory copy of the store, and what that copy gained is read back: the outcome, the tickets' changed
//! fields, the timeline, the mail that would be queued and the staff warnings. The real store is only read:
//! no ticket, no outbox row, no intake record, and a staff member's signature is not spent (it still counts
//! once, when the mail really arrives). Plans that the engine makes are the same in both.

use super::{Env, IncomingMail, IntakeError, Processed, process};
use crate::store::{self, Store};

/// A field of a ticket before and after (`None`: the ticket is new).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FieldChange {
    pub field: String,
    pub before: Option<serde_json::Value>,
    pub after: serde_json::Value,
}

/// A ticket the message would change (or open).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TicketChange {
    pub reference: String,
    pub new: bool,
    pub fields: Vec<FieldChange>,
}

/// What the message would do.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DryRun {
    #[serde(skip)]
    pub processed: Processed,
    pub tickets: Vec<TicketChange>,
    #[serde(flatten)]
    pub added: store::dry_run::Added,
}

/// Fields that change with any activity and say nothing by themselves.
const UNTOLD: &[&str] = &["id", "updated_at"];

/// Processes `mail` in a copy of `store` and reports what it did there.
pub fn dry_run(store: &Store, env: &Env, mail: &IncomingMail, now: i64) -> Result<DryRun, IntakeError> {
    let mut copy = store.copy_in_memory()?;
    let marks = store::dry_run::marks(copy.conn())?;
    let processed = process(&mut copy, env, mail, now)?;
    // Sealed as the daemon would, so that what is shown is what would be sent.
    crate::seal::seal_all(&mut copy, env, now)?;
    let added = store::dry_run::added_since(copy.conn(), &marks)?;
    let mut tickets = Vec::new();
    for &id in &added.ticket_ids {
        let Some(after) = store::tickets::ticket_by_id(copy.conn(), id)? else { continue };
        let before = store::tickets::ticket_by_id(store.conn(), id)?;
        let json = |t: &store::tickets::TicketRow| serde_json::to_value(t).unwrap_or_default();
        let (b, a) = (before.as_ref().map(json), json(&after));
        let fields = a
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(k, _)| !UNTOLD.contains(&k.as_str()))
            .filter_map(|(k, v)| {
                let old = b.as_ref().and_then(|b| b.get(k)).cloned();
                let shown = old.as_ref() != Some(v) && !(old.is_none() && (v.is_null() || v == "" || v == 0));
                shown.then(|| FieldChange { field: k.clone(), before: old, after: v.clone() })
            })
            .collect();
        tickets.push(TicketChange { reference: after.reference.clone(), new: before.is_none(), fields });
    }
    Ok(DryRun { processed, tickets, added })
}
