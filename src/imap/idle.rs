//! IDLE (RFC 2177) with a bounded wait and an interrupt.
//!
//! The wait ends on new data, on shutdown, or after `renewal` at the latest — even if the server keeps the
//! connection busy with keepalives — so the loop gets back to a fetch pass (and a heartbeat) regularly.

use std::time::Duration;

use async_imap::extensions::idle::IdleResponse;
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
    let mut handle = session.idle();
    timed(op_timeout, "IDLE", handle.init()).await?;
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
