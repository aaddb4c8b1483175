//! `vdpd reload`: tell the daemon of this store to read its policy, templates and keys again, and wait for
//! its answer.
//!
//! systemd's `ExecReload=` runs this (a minimal system has no `/bin/kill`), and expects it to return when
//! the reload is done: the daemon records each reload's outcome in the store's health table, and this
//! command waits for that record and exits non-zero if the new configuration was refused.

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use super::{Exit, exit, open_existing_store};
use crate::lock;
use crate::store::health::{self, Key as HealthKey};

pub fn run(config_path: &Path, wait: crate::config::PolicyDuration) -> anyhow::Result<ExitCode> {
    // Months and business days have no fixed length: a wait in them is taken as the default.
    let wait = wait.exact().unwrap_or(Duration::from_secs(30));
    // A policy that does not load is refused here, before the daemon is disturbed: it keeps the one it has.
    let config = crate::config::load(config_path).map_err(|e| Exit {
        code: exit::CONFIG,
        message: format!("not reloaded: the new configuration is invalid, and the running daemon keeps its own:\n{e}"),
    })?;
    let lock_path = lock::path_beside(&config.store.path, ".lock");
    let not_running = || Exit {
        code: exit::UNAVAILABLE,
        message: format!("no vdpd daemon is running on the store {}", config.store.path.display()),
    };
    let holder = lock::holder(&lock_path)?.ok_or_else(not_running)?;
    let store = open_existing_store(&config)?;
    let h = health::read(store.conn())?;
    // The lock is also held by `vdpd once`, which has no SIGHUP handler (the signal would kill it): only a
    // `vdpd run` that recorded its pid and has not recorded a stop is signalled.
    let daemon_pid = h.get(HealthKey::DaemonPid).map(|(v, _)| v.to_string());
    let stopped = h.get(HealthKey::DaemonStoppedAt).is_some_and(|(v, _)| !v.is_empty());
    let pid: i32 = match (daemon_pid, stopped) {
        (Some(p), false) if p == holder => p.parse().map_err(|_| not_running())?,
        _ => {
            return Err(Exit {
                code: exit::UNAVAILABLE,
                message: format!(
                    "the store {} is held by process {holder}, which is not a running `vdpd run` (a `vdpd once`?): nothing to reload",
                    config.store.path.display()
                ),
            }
            .into());
        }
    };
    let before = h.get(HealthKey::DaemonReload).map(|(v, at)| (v.to_string(), at));
    // SAFETY: kill(2) with a pid read from the lock its holder wrote and still holds; no memory is involved.
    if unsafe { libc::kill(pid, libc::SIGHUP) } != 0 {
        let e = std::io::Error::last_os_error();
        return Err(Exit { code: exit::UNAVAILABLE, message: format!("signalling vdpd (pid {pid}): {e}") }.into());
    }
    let start = Instant::now();
    while start.elapsed() < wait {
        std::thread::sleep(Duration::from_millis(100));
        let now = health::read(store.conn())?.get(HealthKey::DaemonReload).map(|(v, at)| (v.to_string(), at));
        if let Some((outcome, _)) = now.filter(|n| Some(n) != before.as_ref()) {
            return match outcome.strip_prefix("refused: ") {
                None => {
                    println!("vdpd (pid {pid}) reloaded its policy, templates and keys");
                    Ok(ExitCode::SUCCESS)
                }
                Some(why) => Err(Exit {
                    code: exit::CONFIG,
                    message: format!(
                        "vdpd (pid {pid}) refused the new configuration and keeps the running one:\n{why}"
                    ),
                }
                .into()),
            };
        }
    }
    Err(Exit {
        code: exit::TEMPFAIL,
        message: format!("vdpd (pid {pid}) was signalled but has not reported a reload within {}s", wait.as_secs()),
    }
    .into())
}
