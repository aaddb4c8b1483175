//! IDLE (RFC 2177) with a bounded wait and an interrupt.
//!
//! The wait ends on new data, on shutdown, or after `renewal` at the latest — even if the server keeps the
//! connection busy with keepalives — so the loop gets back to a fetch pass (and a heartbeat) regularly.

use std::time::Duration;

use async_imap::extensions::idle::IdleResponse;
use async_imap::types::UnsolicitedResponse;
use tokio_util::sync::CancellationToken;

use super::{ImapError, Session, timed};

/// Why an IDLE wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    /// The server reported a change (new mail, most likely).
    Data,
    /// `renewal` passed.
    Timeout,
    /// Shutdown was requested.
    Cancelled,
}

/// Idles on the selected mailbox; gives the session back when the wait ends.
pub async fn wait(
    session: Session,
    renewal: Duration,
    cancel: &CancellationToken,
    op_timeout: Duration,
) -> Result<(Session, Wake), ImapError> {
    // async-imap files untagged responses that arrive outside a command's own results in a side channel.
    // What is there now was announced before the pass that just ended looked at the mailbox: stale. What
    // arrives while IDLE starts (before the server's "+ idling") is new mail the wait below would not see.
    let unsolicited = session.unsolicited_responses.clone();
    while unsolicited.try_recv().is_ok() {}
    let mut handle = session.idle();
    timed(op_timeout, "IDLE", handle.init()).await?;
    let announced = std::iter::from_fn(|| unsolicited.try_recv().ok())
        .any(|r| matches!(r, UnsolicitedResponse::Exists(_) | UnsolicitedResponse::Recent(_)));
    if announced {
        let session = timed(op_timeout, "IDLE DONE", handle.done()).await?;
        return Ok((session, Wake::Data));
    }
    let response = {
        let (fut, stop) = handle.wait_with_timeout(renewal);
        tokio::pin!(fut);
        // Dropping the StopSource interrupts the wait.
        let mut stop = Some(stop);
        let deadline = tokio::time::sleep(renewal);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                r = &mut fut => break r?,
                _ = cancel.cancelled(), if stop.is_some() => stop = None,
                _ = &mut deadline, if stop.is_some() => stop = None,
            }
        }
    };
    let session = timed(op_timeout, "IDLE DONE", handle.done()).await?;
    let wake = match response {
        IdleResponse::NewData(_) => Wake::Data,
        IdleResponse::Timeout => Wake::Timeout,
        IdleResponse::ManualInterrupt if cancel.is_cancelled() => Wake::Cancelled,
        IdleResponse::ManualInterrupt => Wake::Timeout,
    };
    Ok((session, wake))
}
