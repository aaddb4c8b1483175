//! `vdpd cra draft`: a Cyber Resilience Act filing drafted from the ticket.

use std::process::ExitCode;

use super::Exit;
use crate::cli::CraStageArg;
use crate::config::Config;
use crate::store::{self, Store};
use crate::ticket::CraStage;

pub fn draft(
    store: &Store,
    config: &Config,
    reference: &str,
    stage: CraStageArg,
    json: bool,
    now: Option<jiff::Timestamp>,
) -> anyhow::Result<ExitCode> {
    let conn = store.conn();
    let Some(t) = store::tickets::ticket_by_reference(conn, reference.trim())? else {
        return Err(Exit { code: 1, message: format!("no ticket {reference}") }.into());
    };
    let stage = match stage {
        CraStageArg::EarlyWarning => CraStage::EarlyWarning,
        CraStageArg::Notification => CraStage::Notification,
        CraStageArg::Final => CraStage::Final,
        CraStageArg::IncidentEarlyWarning => CraStage::IncidentEarlyWarning,
        CraStageArg::IncidentNotification => CraStage::IncidentNotification,
        CraStageArg::IncidentFinal => CraStage::IncidentFinal,
    };
    let form = store::form::sections(conn, t.id)?;
    let filings = store::tickets::cra_filings(conn, t.id)?;
    let waits = store::tickets::waits(conn, t.id)?;
    let now = now.unwrap_or_else(jiff::Timestamp::now).as_millisecond();
    let draft = crate::cra::draft(config, &t, &form, &filings, waits, stage, now)
        .map_err(|e| Exit { code: 1, message: e.to_string() })?;
    if json {
        println!("{}", serde_json::to_string_pretty(&draft)?);
    } else {
        print!("{}", draft.text());
    }
    Ok(ExitCode::SUCCESS)
}
