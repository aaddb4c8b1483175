//! Wiring: the long-running loops of `vdpd run`, the single cycle of `vdpd once`, and `vdpd ingest`.
//!
//! `run` spawns three loops on one tokio runtime — mailbox (IMAP IDLE or polling, reconnect with backoff),
//! outbox (SMTP delivery), timers — plus the systemd watchdog feeder, all stopped by one
//! `CancellationToken` on SIGTERM/SIGINT and awaited through a `TaskTracker`. Nothing here decides policy;
//! it only moves work between the edges and [`crate::intake`].

use crate::store::health::Key as HealthKey;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::clock::Clock;
use crate::config::{Config, ImapConfig};
use crate::heartbeat::Heartbeat;
use crate::imap::{self, idle, sync};
use crate::intake::{self, Env, IncomingMail, Processed, SharedEnv, Source};
use crate::lock::{self, FileLock};
use crate::openpgp::keys::Keys;
use crate::outbox::{self, Mailer};
use crate::render::Templates;
use crate::seal;
use crate::store::{self, Db, Store, StoreError};
use crate::timers;

/// The longest an IDLE lasts before it is renewed (RFC 2177 asks for less than 29 minutes); shorter when the
/// systemd watchdog needs more frequent proof of life.
const IDLE_RENEWAL: Duration = Duration::from_secs(10 * 60);
/// Reconnect backoff bounds.
const RECONNECT_MIN: Duration = Duration::from_secs(1);
const RECONNECT_MAX: Duration = Duration::from_secs(5 * 60);
/// How often the outbox and timer loops look at the store even without being woken.
const IDLE_CHECK: Duration = Duration::from_secs(30);
/// How long shutdown waits for loops to finish what they are doing.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Templates(#[from] crate::render::RenderError),
    #[error(transparent)]
    Outbox(#[from] outbox::OutboxError),
    #[error(transparent)]
    Lock(#[from] lock::LockError),
    #[error(transparent)]
    Keys(#[from] crate::openpgp::keys::KeyError),
    #[error(transparent)]
    Imap(#[from] imap::ImapError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Everything the daemon commands share, opened and checked once.
#[derive(Debug, Clone)]
pub struct Runtime {
    /// The environment as opened (what one-shot commands use).
    pub env: Env,
    /// The environment `vdpd run` works with: the same, until a SIGHUP replaces it.
    pub live: SharedEnv,
    pub db: Db,
    /// A second connection for the outbox loop: in WAL mode it reads and claims while the mailbox loop's
    /// connection is busy classifying and rendering (SQLite still serialises the writes themselves).
    pub outbox_db: Db,
    /// A third for the sealing task, whose reads and short writes then never wait behind the outbox's.
    pub seal_db: Db,
    pub mailer: Mailer,
    pub clock: Clock,
    /// OAuth2 access tokens, for IMAP or SMTP with `auth = "xoauth2"`.
    pub tokens: Option<Arc<crate::oauth2::TokenSource>>,
    /// Woken by a reload: a mailbox loop waiting out a configuration error tries the new one at once.
    pub imap_retry: Arc<Notify>,
}

impl Runtime {
    /// Loads templates (refusing ones that do not render) and keys (refusing a secret key others can read),
    /// opens the store and prepares SMTP.
    pub fn open(config: Config, clock: Clock) -> Result<Runtime, DaemonError> {
        let db = Db::new(Store::open(&config.store.path)?);
        let outbox_db = Db::new(Store::open(&config.store.path)?);
        let seal_db = Db::new(Store::open(&config.store.path)?);
        let tokens =
            config.oauth2.clone().map(|o| Arc::new(crate::oauth2::TokenSource::new(o, db.clone(), &config.store.path)));
        let mailer = Mailer::new(&config.smtp, tokens.clone())?;
        let env = load_env(config)?;
        let imap_retry = Arc::new(Notify::new());
        Ok(Runtime {
            live: SharedEnv::new(env.clone()),
            env,
            db,
            outbox_db,
            seal_db,
            mailer,
            clock,
            tokens,
            imap_retry,
        })
    }

    fn config(&self) -> &Config {
        &self.env.config
    }

    fn store_path(&self) -> PathBuf {
        self.config().store.path.clone()
    }

    async fn health(&self, key: HealthKey, value: String) {
        let now = self.clock.now_ms();
        let result = self.db.call(move |s| s.write(|tx| store::health::set(tx, key, &value, now))).await;
        if let Err(e) = result {
            tracing::warn!(key = key.as_str(), "could not record health {key}: {e}");
        }
    }
}

/// The policy, templates and keys of a configuration, each checked: templates must render, the secret key
/// must not be readable by others.
pub fn load_env(config: Config) -> Result<Env, DaemonError> {
    let templates = Templates::load_for(&config.templates)?;
    templates.self_test(&config)?;
    let keys = Keys::load(&config)?;
    Ok(Env { config: Arc::new(config), templates: Arc::new(templates), keys: Arc::new(keys) })
}

/// SIGHUP: read the policy, the templates and the keys again. A new configuration that does not pass every
/// check is refused with a clear log line and the running one stays in use. Transport settings ([imap],
/// [smtp]) take effect only at the next start; another store is refused.
async fn reload(rt: &Runtime, timer_wake: &Notify) {
    let outcome = match reload_env(rt, timer_wake).await {
        Ok(()) => "ok".to_string(),
        Err(why) => {
            tracing::error!("reload refused, the running configuration stays in use:\n{why}");
            format!("refused: {why}")
        }
    };
    // For `vdpd reload`, which waits for this record: stamped with the real time, so that two reloads under
    // a fixed test clock still differ.
    let now = jiff::Timestamp::now().as_millisecond();
    let key = HealthKey::DaemonReload;
    if let Err(e) = rt.db.call(move |s| s.write(|tx| store::health::set(tx, key, &outcome, now))).await {
        tracing::warn!("could not record the reload's outcome: {e}");
    }
}

/// The work of [`reload`]; the error says why the new configuration was refused.
async fn reload_env(rt: &Runtime, timer_wake: &Notify) -> Result<(), String> {
    let path = rt.config().path.clone();
    let old = rt.live.current();
    let env = tokio::task::spawn_blocking(move || -> Result<Env, String> {
        let config = crate::config::load(&path).map_err(|e| e.to_string())?;
        load_env(config).map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())
    .and_then(|r| r)?;
    if env.config.store.path != old.config.store.path {
        return Err("store.path changed (restart vdpd to use another store)".into());
    }
    if format!("{:?}", env.config.smtp) != format!("{:?}", old.config.smtp) {
        tracing::warn!("[smtp] changes take effect when vdpd restarts; the rest of the policy is in use now");
    }
    if format!("{:?}", env.config.imap) != format!("{:?}", old.config.imap) {
        tracing::info!("[imap] changes take effect at the next IMAP connection (at once if the last one failed)");
    }
    rt.live.replace(env.clone());
    let now = rt.clock.now_ms();
    match rt.db.call(move |s| timers::replan_if_policy_changed(s, &env, now)).await {
        Ok(n) if n > 0 => tracing::info!(tickets = n, "timers re-planned for the new policy ({n} tickets)"),
        Ok(_) => {}
        Err(e) => tracing::error!("re-planning timers after the reload failed: {e}"),
    }
    timer_wake.notify_one();
    rt.imap_retry.notify_one();
    tracing::info!("configuration reloaded: policy, templates and keys");
    Ok(())
}

/// `vdpd run`: until SIGTERM or SIGINT.
pub async fn run(rt: Runtime) -> Result<(), DaemonError> {
    let _lock = FileLock::try_acquire(&lock::path_beside(&rt.store_path(), ".lock"))?;
    let cancel = CancellationToken::new();
    let tracker = TaskTracker::new();
    let heartbeat = Heartbeat::new();
    let outbox_wake = Arc::new(Notify::new());
    let timer_wake = Arc::new(Notify::new());
    let watchdog = sd_notify::watchdog_enabled();

    rt.health(HealthKey::DaemonPid, std::process::id().to_string()).await;
    rt.health(HealthKey::DaemonStartedAt, rt.clock.now_ms().to_string()).await;
    rt.health(HealthKey::DaemonStoppedAt, String::new()).await;
    // A port that is taken fails the start, loudly, before anything else runs.
    let metrics = match rt.config().metrics {
        Some(addr) => {
            let listener = crate::metrics::bind(addr)
                .await
                .map_err(|e| std::io::Error::new(e.kind(), format!("[metrics] listen = \"{addr}\": {e}")))?;
            tracing::info!(%addr, "serving Prometheus metrics at http://{addr}/metrics");
            Some(listener)
        }
        None => None,
    };
    // A changed policy (new deadlines, reminder points, holidays) applies to tickets already open.
    let (env, now) = (rt.env.clone(), rt.clock.now_ms());
    rt.db.call(move |s| timers::replan_if_policy_changed(s, &env, now)).await?;

    if let Some(imap_cfg) = rt.config().imap.clone() {
        let ctx = sync::SyncContext {
            db: rt.db.clone(),
            env: rt.live.clone(),
            clock: rt.clock,
            cancel: cancel.clone(),
            heartbeat: heartbeat.clone(),
            outbox_wake: outbox_wake.clone(),
            timer_wake: timer_wake.clone(),
        };
        let renewal = watchdog.map_or(IDLE_RENEWAL, |wd| IDLE_RENEWAL.min(wd / 2));
        tracker.spawn(mailbox_loop(rt.clone(), imap_cfg, ctx, renewal));
    } else {
        tracing::info!("no [imap] section: mail arrives only through `vdpd ingest`");
    }
    // Whatever queues mail wakes the outbox (`outbox_wake`), which wakes the sealing task (`seal_wake`), which
    // wakes the outbox again whenever it has released sealed mail.
    let seal_wake = Arc::new(Notify::new());
    tracker.spawn(seal_loop(rt.clone(), cancel.clone(), seal_wake.clone(), outbox_wake.clone()));
    tracker.spawn(outbox_loop(
        rt.clone(),
        cancel.clone(),
        outbox_wake.clone(),
        seal_wake.clone(),
        rt.config().imap.is_none().then(|| heartbeat.clone()),
    ));
    tracker.spawn(timer_loop(rt.clone(), outbox_wake.clone(), timer_wake.clone(), cancel.clone()));
    if rt.config().security_txt.path.is_some() {
        tracker.spawn(security_txt_loop(rt.clone(), cancel.clone()));
    }
    if let Some(wd) = watchdog {
        tracker.spawn(watchdog_loop(heartbeat.clone(), wd, cancel.clone()));
    }
    if rt.tokens.is_some() {
        tracker.spawn(oauth2_loop(rt.clone(), outbox_wake.clone(), cancel.clone()));
    }
    if let Some(listener) = metrics {
        tracker.spawn(crate::metrics::serve(listener, rt.db.clone(), rt.clock, cancel.clone()));
    }
    heartbeat.beat();
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Ready, sd_notify::NotifyState::Status("running")]);
    tracing::info!(pid = std::process::id(), "vdpd running (pid {})", std::process::id());

    wait_for_shutdown_signal(&rt, &timer_wake).await?;
    tracing::info!("stopping: finishing the message in hand and mail being sent");
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Stopping]);
    cancel.cancel();
    tracker.close();
    if tokio::time::timeout(SHUTDOWN_GRACE, tracker.wait()).await.is_err() {
        tracing::warn!(
            "loops did not stop within {}s; exiting anyway (nothing committed is lost)",
            SHUTDOWN_GRACE.as_secs()
        );
    }
    rt.health(HealthKey::DaemonStoppedAt, rt.clock.now_ms().to_string()).await;
    rt.health(HealthKey::ImapState, "stopped".into()).await;
    tracing::info!("stopped");
    Ok(())
}

/// Waits for SIGTERM or SIGINT, reloading the configuration on every SIGHUP meanwhile.
async fn wait_for_shutdown_signal(rt: &Runtime, timer_wake: &Notify) -> Result<(), std::io::Error> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut hup = signal(SignalKind::hangup())?;
    loop {
        tokio::select! {
            _ = term.recv() => {
                tracing::info!("SIGTERM received");
                return Ok(());
            }
            _ = int.recv() => {
                tracing::info!("SIGINT received");
                return Ok(());
            }
            _ = hup.recv() => {
                tracing::info!("SIGHUP received: reloading the configuration");
                let _ = sd_notify::notify(&[sd_notify::NotifyState::Reloading]);
                reload(rt, timer_wake).await;
                let _ = sd_notify::notify(&[sd_notify::NotifyState::Ready]);
            }
        }
    }
}

/// Sleeps `d` (or until cancelled) while still proving life to the watchdog: a loop waiting out a backoff is
/// alive.
async fn sleep_alive(d: Duration, heartbeat: &Heartbeat, cancel: &CancellationToken) {
    let end = tokio::time::Instant::now() + d;
    while tokio::time::Instant::now() < end {
        heartbeat.beat();
        let step = (end - tokio::time::Instant::now()).min(Duration::from_secs(5));
        tokio::select! {
            _ = tokio::time::sleep(step) => {}
            _ = cancel.cancelled() => return,
        }
    }
    heartbeat.beat();
}

/// Exponential backoff with ±20 % jitter.
fn reconnect_delay(failures: u32) -> Duration {
    outbox::backoff(i64::from(failures), RECONNECT_MIN, RECONNECT_MAX, jitter_unit())
}

fn jitter_unit() -> f64 {
    let mut b = [0u8; 2];
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b);
    f64::from(u16::from_le_bytes(b)) / f64::from(u16::MAX)
}

/// Connect → fetch → IDLE (or sleep) → fetch …, reconnecting with backoff on a network error. A permanent
/// refusal (see [`imap::ImapError::is_permanent`]) is a configuration error: logged at error priority as
/// such, shown by `vdpd status` and the metrics, mailed once to the escalation contacts, and tried again
/// only slowly or after a reload. Each connection uses `[imap]` as the running policy has it now.
async fn mailbox_loop(rt: Runtime, first: ImapConfig, ctx: sync::SyncContext, renewal: Duration) {
    let mut failures = 0u32;
    let mut config_error: Option<String> = None;
    while !ctx.cancel.is_cancelled() {
        // A reload that removed [imap] changes nothing until a restart: this loop is also the watchdog's
        // proof of life.
        let cfg = rt.live.current().config.imap.clone().unwrap_or_else(|| first.clone());
        rt.health(HealthKey::ImapState, "connecting".into()).await;
        let error = match imap::open(&cfg, rt.tokens.as_deref()).await {
            Ok(opened) => {
                if config_error.take().is_some() {
                    tracing::info!("the IMAP configuration error is resolved");
                    rt.health(HealthKey::ImapConfigError, String::new()).await;
                }
                let caps = opened.caps;
                tracing::info!(host = %cfg.host, idle = caps.idle, r#move = caps.r#move,
                    "IMAP connected to {}: {}", cfg.host, opened.summary);
                for limitation in opened.limitations(&cfg) {
                    tracing::warn!("{limitation}");
                }
                let (error, synced) = serve_mailbox(&rt, &cfg, &ctx, opened, renewal).await;
                if synced {
                    failures = 0;
                }
                error
            }
            Err(e) => Some(e),
        };
        let Some(e) = error else {
            ctx.heartbeat.beat();
            continue;
        };
        if e.is_permanent() {
            let text = e.to_string();
            let wait = RECONNECT_MAX;
            tracing::error!(
                "IMAP configuration error: {text}. Fix the policy or the mail account, then `systemctl reload vdpd` (tried again every {}s until then)",
                wait.as_secs()
            );
            rt.health(HealthKey::ImapState, format!("configuration error: {text}")).await;
            rt.health(HealthKey::ImapLastError, text.clone()).await;
            if config_error.as_deref() != Some(text.as_str()) {
                // Written when it changes, so that `vdpd status` says since when it stands.
                rt.health(HealthKey::ImapConfigError, text.clone()).await;
                if imap_alert(&rt, &text).await {
                    ctx.outbox_wake.notify_one();
                }
            }
            config_error = Some(text);
            tokio::select! {
                _ = sleep_alive(wait, &ctx.heartbeat, &ctx.cancel) => {}
                _ = rt.imap_retry.notified() => tracing::info!("trying the IMAP connection again after the reload"),
            }
        } else {
            failures = failures.saturating_add(1);
            let delay = reconnect_delay(failures);
            tracing::warn!(
                retry_in_s = delay.as_secs(),
                "IMAP connection lost or failed (retry in {}s): {e}",
                delay.as_secs()
            );
            rt.health(HealthKey::ImapState, format!("disconnected: {e}")).await;
            rt.health(HealthKey::ImapLastError, e.to_string()).await;
            sleep_alive(delay, &ctx.heartbeat, &ctx.cancel).await;
        }
        ctx.heartbeat.beat();
    }
}

/// The escalation contacts hear of an IMAP configuration error (at most one such alert a day). Returns
/// whether mail was queued.
async fn imap_alert(rt: &Runtime, problem: &str) -> bool {
    let detail = format!(
        "vdpd cannot read the security mailbox: {problem}\n\nThis is a configuration problem, not a network fault: \
         no report is fetched until it is fixed. Correct [imap] in the policy (or the mail account), then run \
         `systemctl reload vdpd`; `vdpd check --connect` shows whether the server accepts it."
    );
    let env = rt.live.current();
    let now = rt.clock.now_ms();
    match rt
        .db
        .call(move |s| {
            s.write(|tx| intake::timed::admin_alert(tx, &env, "the security mailbox cannot be read", &detail, now))
        })
        .await
    {
        Ok(queued) => queued,
        Err(e) => {
            tracing::error!("could not queue the IMAP alert: {e}");
            false
        }
    }
}

/// Runs one connection until it fails (returned) or shutdown. The flag says whether a fetch pass succeeded.
async fn serve_mailbox(
    rt: &Runtime,
    cfg: &ImapConfig,
    ctx: &sync::SyncContext,
    opened: imap::Opened,
    renewal: Duration,
) -> (Option<imap::ImapError>, bool) {
    let imap::Opened { mut session, caps, names, .. } = opened;
    let mut synced = false;
    let use_idle = cfg.idle && caps.idle;
    loop {
        rt.health(HealthKey::ImapState, "fetching".into()).await;
        match sync::sync(&mut session, caps, cfg, &names, ctx).await {
            Ok(report) => {
                synced = true;
                ctx.heartbeat.beat();
                rt.health(HealthKey::ImapLastFetchOk, rt.clock.now_ms().to_string()).await;
                if report.fetched > 0 {
                    tracing::info!(
                        fetched = report.fetched,
                        tickets = report.tickets,
                        correspondence = report.correspondence,
                        dropped = report.dropped,
                        duplicates = report.duplicates,
                        quarantined = report.quarantined,
                        held = report.held,
                        "mailbox pass: {} fetched, {} new tickets, {} correspondence, {} dropped, {} duplicates, {} quarantined, {} held",
                        report.fetched,
                        report.tickets,
                        report.correspondence,
                        report.dropped,
                        report.duplicates,
                        report.quarantined,
                        report.held
                    );
                }
            }
            Err(e) => return (Some(e), synced),
        }
        if ctx.cancel.is_cancelled() {
            break;
        }
        if use_idle {
            rt.health(HealthKey::ImapState, "idle".into()).await;
            match idle::wait(session, renewal, &ctx.cancel, cfg.timeout).await {
                Ok((s, wake)) => {
                    tracing::debug!(?wake, "IDLE ended");
                    session = s;
                    ctx.heartbeat.beat();
                    if wake == idle::Wake::Cancelled {
                        break;
                    }
                }
                Err(e) => return (Some(e), synced),
            }
        } else {
            rt.health(HealthKey::ImapState, "polling".into()).await;
            sleep_alive(cfg.poll_interval, &ctx.heartbeat, &ctx.cancel).await;
            if ctx.cancel.is_cancelled() {
                break;
            }
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(5), session.logout()).await;
    (None, synced)
}

/// Seals queued mail ([`crate::seal`]) whenever the outbox is woken (mail was queued) or every
/// [`IDLE_CHECK`] (mail queued by another process, or left by a crash), and wakes the outbox whenever it has
/// released mail. It has a connection of its own: the mailbox loop's stays free for intake, and the outbox's
/// for delivery, while mail is sealed.
async fn seal_loop(rt: Runtime, cancel: CancellationToken, wake: Arc<Notify>, outbox: Arc<Notify>) {
    while !cancel.is_cancelled() {
        let env = rt.live.current();
        if let Err(e) = seal::seal_pending(&rt.seal_db, &env, &rt.clock, Some(&outbox)).await {
            tracing::error!("sealing queued mail failed: {e}");
        }
        tokio::select! {
            _ = tokio::time::sleep(IDLE_CHECK) => {}
            _ = wake.notified() => {}
            _ = cancel.cancelled() => break,
        }
    }
}

/// Delivers due mail whenever woken, when the next retry is due, or every [`IDLE_CHECK`].
async fn outbox_loop(
    rt: Runtime,
    cancel: CancellationToken,
    wake: Arc<Notify>,
    seal: Arc<Notify>,
    heartbeat: Option<Heartbeat>,
) {
    let mut outage = 0u32;
    while !cancel.is_cancelled() {
        // Mail was queued (or time passed): what of it is to be signed and encrypted is the sealing task's.
        seal.notify_one();
        if let Some(h) = &heartbeat {
            h.beat();
        }
        let pass = outbox::deliver_due(
            &rt.outbox_db,
            &rt.mailer,
            &rt.clock,
            rt.store_path(),
            Duration::from_secs(5),
            Some(&cancel),
        )
        .await;
        let mut pause = None;
        match pass {
            Ok(r) if r.connection_failed => {
                outage = outage.saturating_add(1);
                let delay = outbox::backoff(
                    i64::from(outage),
                    rt.config().smtp.retry_initial,
                    rt.config().smtp.retry_max,
                    jitter_unit(),
                );
                rt.health(HealthKey::SmtpState, format!("unreachable (retry in {}s)", delay.as_secs())).await;
                pause = Some(delay);
            }
            Ok(r) => {
                if outage > 0 {
                    tracing::info!("SMTP server reachable again");
                }
                outage = 0;
                if r.sent + r.failed + r.deferred > 0 {
                    rt.health(HealthKey::SmtpState, "ok".into()).await;
                    if r.sent > 0 {
                        rt.health(HealthKey::SmtpLastOk, rt.clock.now_ms().to_string()).await;
                    }
                }
            }
            Err(e) => {
                tracing::error!("outbox pass failed: {e}");
                pause = Some(rt.config().smtp.retry_initial);
            }
        }
        let wait = match pause {
            // During an outage new mail must not make us hammer the server: only the backoff ends the pause.
            Some(p) => p,
            None => {
                let next = rt.db.call(|s| store::outbox::next_due(s.conn())).await.ok().flatten();
                let now = rt.clock.now_ms();
                next.map_or(IDLE_CHECK, |due| {
                    Duration::from_millis(u64::try_from(due - now).unwrap_or(0)).min(IDLE_CHECK)
                })
            }
        };
        if wait.is_zero() {
            continue;
        }
        if pause.is_some() {
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = cancel.cancelled() => break,
            }
        } else {
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = wake.notified() => {}
                _ = cancel.cancelled() => break,
            }
        }
    }
}

/// Fires due timers; sleeps until the next one (at most [`IDLE_CHECK`], as new timers appear all the time).
/// What they queued (reminders, escalations, status mails) goes out at once: the outbox is woken.
async fn timer_loop(rt: Runtime, outbox_wake: Arc<Notify>, wake: Arc<Notify>, cancel: CancellationToken) {
    while !cancel.is_cancelled() {
        let env = rt.live.current();
        let now = rt.clock.now_ms();
        // Reports the hourly cap held become tickets in their turn, then the timers fire.
        let held_env = env.clone();
        match rt.db.call(move |s| crate::intake::release_held(s, &held_env, now)).await {
            Ok(n) if n > 0 => {
                tracing::info!(released = n, "{n} reports held by the hourly cap made tickets");
                outbox_wake.notify_one();
            }
            Ok(_) => {}
            Err(e) => tracing::error!("releasing held reports failed: {e}"),
        }
        match rt.db.call(move |s| timers::fire_due(s, &env, now)).await {
            Ok(r) if r.fired > 0 || r.failed > 0 || r.digests > 0 => {
                tracing::info!(fired = r.fired, failed = r.failed, "timers fired: {}, failed: {}", r.fired, r.failed);
                outbox_wake.notify_one();
            }
            Ok(_) => {}
            Err(e) => tracing::error!("firing timers failed: {e}"),
        }
        let next = rt.db.call(|s| store::timers::next_due(s.conn())).await.ok().flatten();
        let now = rt.clock.now_ms();
        let wait = next.map_or(IDLE_CHECK, |due| {
            Duration::from_millis(u64::try_from(due - now).unwrap_or(0)).clamp(Duration::from_millis(100), IDLE_CHECK)
        });
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = wake.notified() => {}
            _ = cancel.cancelled() => break,
        }
    }
}

/// How often the daemon looks at its security.txt (a cheap read of a small file).
const SECURITY_TXT_CHECK: Duration = Duration::from_secs(3600);

/// Keeps `[security_txt] path` valid: at start, then hourly (`sectxt::keep_valid`, on a blocking thread: it
/// reads, signs and writes a file).
async fn security_txt_loop(rt: Runtime, cancel: CancellationToken) {
    while !cancel.is_cancelled() {
        renew_security_txt(&rt).await;
        tokio::select! {
            _ = tokio::time::sleep(SECURITY_TXT_CHECK) => {}
            _ = cancel.cancelled() => break,
        }
    }
}

/// One look at the security.txt, its outcome logged.
async fn renew_security_txt(rt: &Runtime) {
    let env = rt.live.current();
    let now = rt.clock.now_ms();
    let done = tokio::task::spawn_blocking(move || {
        crate::sectxt::keep_valid(&env.config, env.templates.languages(), env.keys.org.as_ref(), now)
    })
    .await;
    let until = |e: Option<i64>| e.map(|t| format!(", valid until {}", crate::clock::format_ms(t))).unwrap_or_default();
    let state = match done {
        Ok(Ok(Some(kept))) => {
            if let Some(why) = &kept.renewed {
                tracing::info!("security.txt written again ({why}){}", until(kept.expires));
            }
            format!("ok{}", until(kept.expires))
        }
        Ok(Ok(None)) => return,
        Ok(Err(e)) => {
            tracing::error!("security.txt could not be renewed: {e}");
            security_txt_alert(rt, &e).await;
            format!("failing: {e}")
        }
        Err(e) => {
            tracing::error!("security.txt renewal failed: {e}");
            format!("failing: {e}")
        }
    };
    rt.health(HealthKey::SecurityTxtState, state).await;
}

/// Tells the escalation contacts that the kept security.txt cannot be written (at most once a day with the
/// other admin alerts): an expired file tells researchers the address is abandoned.
async fn security_txt_alert(rt: &Runtime, problem: &str) {
    let detail = format!(
        "vdpd cannot write the published security.txt: {problem}\n\nUntil it can, the file is not renewed, and \
         once its Expires passes researchers may take the security address for abandoned (RFC 9116). Check \
         [security_txt] path and that the service may write there (ReadWritePaths=, the directory's owner); \
         `vdpd status` shows each attempt."
    );
    let env = rt.live.current();
    let now = rt.clock.now_ms();
    let queued = rt
        .db
        .call(move |s| s.write(|tx| intake::timed::admin_alert(tx, &env, "security.txt is not renewed", &detail, now)))
        .await;
    if let Err(e) = queued {
        tracing::error!("could not queue the security.txt alert: {e}");
    }
}

/// Refreshes the OAuth2 access token when it is due (so an idle daemon never logs in with an expired one) and,
/// while refreshing fails, raises the alarm: a mail to the escalation contacts at most once a day, if SMTP
/// still works. Returns whether that mail was queued.
async fn oauth2_check(rt: &Runtime) -> bool {
    let Some(tokens) = &rt.tokens else { return false };
    let result = tokens.token().await;
    let state =
        rt.db.call(|s| store::health::value(s.conn(), HealthKey::OAuth2State)).await.ok().flatten().unwrap_or_default();
    let failing = match &result {
        Err(e) => Some(e.to_string()),
        Ok(_) => state.strip_prefix("failing: ").map(str::to_string),
    };
    let Some(problem) = failing else { return false };
    let detail = format!(
        "Refreshing the OAuth2 access token fails: {problem}\n\nvdpd logs in to the mailbox with OAuth2 (auth = \"xoauth2\"). \
         Put a new refresh token in place ([oauth2] refresh_token_file) and run `systemctl reload vdpd`, or check \
         the client's registration at the provider."
    );
    let env = rt.live.current();
    let now = rt.clock.now_ms();
    match rt
        .db
        .call(move |s| s.write(|tx| intake::timed::admin_alert(tx, &env, "OAuth2 token refresh failing", &detail, now)))
        .await
    {
        Ok(queued) => queued,
        Err(e) => {
            tracing::error!("could not queue the OAuth2 alert: {e}");
            false
        }
    }
}

/// Runs [`oauth2_check`] often enough to refresh before expiry.
async fn oauth2_loop(rt: Runtime, outbox_wake: Arc<Notify>, cancel: CancellationToken) {
    let every = rt
        .config()
        .oauth2
        .as_ref()
        .map_or(IDLE_CHECK, |o| (o.refresh_before / 2).clamp(Duration::from_secs(1), IDLE_CHECK));
    while !cancel.is_cancelled() {
        if oauth2_check(&rt).await {
            outbox_wake.notify_one();
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = cancel.cancelled() => break,
        }
    }
}

/// Pings systemd's watchdog while the mailbox loop beats; stops pinging (and so gets the service restarted)
/// when it does not.
async fn watchdog_loop(heartbeat: Heartbeat, interval: Duration, cancel: CancellationToken) {
    let mut complained = false;
    loop {
        if heartbeat.age() < interval {
            let _ = sd_notify::notify(&[sd_notify::NotifyState::Watchdog]);
            complained = false;
        } else if !complained {
            tracing::error!(
                "the mailbox loop has made no progress for {}s; no longer feeding the watchdog so that systemd restarts vdpd",
                heartbeat.age().as_secs()
            );
            complained = true;
        }
        tokio::select! {
            _ = tokio::time::sleep(interval / 4) => {}
            _ = cancel.cancelled() => return,
        }
    }
}

/// What `vdpd once` did.
#[derive(Debug, Default)]
pub struct OnceReport {
    pub fetch: Option<sync::SyncReport>,
    pub timers_fired: usize,
    pub delivery: outbox::DeliveryReport,
    /// Connection failures (IMAP or SMTP) that make `once` exit 69.
    pub failures: Vec<String>,
    /// Refusals only the admin can fix (a mailbox the server refuses, a refused login or certificate):
    /// `once` exits 78.
    pub config_errors: Vec<String>,
}

/// `vdpd once`: fetch everything new, process it, fire due timers, deliver the outbox.
pub async fn once(rt: Runtime) -> Result<OnceReport, DaemonError> {
    let _lock = FileLock::try_acquire(&lock::path_beside(&rt.store_path(), ".lock"))?;
    let mut report = OnceReport::default();
    if let Some(cfg) = rt.config().imap.clone() {
        let ctx = sync::SyncContext {
            db: rt.db.clone(),
            env: SharedEnv::new(rt.env.clone()),
            clock: rt.clock,
            cancel: CancellationToken::new(),
            heartbeat: Heartbeat::new(),
            outbox_wake: Arc::new(Notify::new()),
            timer_wake: Arc::new(Notify::new()),
        };
        let result = match imap::open(&cfg, rt.tokens.as_deref()).await {
            Ok(imap::Opened { mut session, caps, names, .. }) => {
                let r = sync::sync(&mut session, caps, &cfg, &names, &ctx).await;
                let _ = tokio::time::timeout(Duration::from_secs(5), session.logout()).await;
                r
            }
            Err(e) => Err(e),
        };
        match result {
            Ok(r) => {
                rt.health(HealthKey::ImapLastFetchOk, rt.clock.now_ms().to_string()).await;
                rt.health(HealthKey::ImapConfigError, String::new()).await;
                report.fetch = Some(r);
            }
            Err(e) => {
                rt.health(HealthKey::ImapLastError, e.to_string()).await;
                if e.is_permanent() {
                    rt.health(HealthKey::ImapConfigError, e.to_string()).await;
                    report.config_errors.push(format!("IMAP configuration error: {e}"));
                } else {
                    report.failures.push(format!("IMAP: {e}"));
                }
            }
        }
    }
    let env = rt.env.clone();
    let now = rt.clock.now_ms();
    report.timers_fired = rt
        .db
        .call(move |s| {
            timers::replan_if_policy_changed(s, &env, now)?;
            // Reports the hourly cap held become tickets in their turn (a failure is the store's: reported).
            if let Err(crate::intake::IntakeError::Store(e)) = crate::intake::release_held(s, &env, now) {
                return Err(e);
            }
            timers::fire_due(s, &env, now)
        })
        .await?
        .fired;
    oauth2_check(&rt).await;
    if rt.config().security_txt.path.is_some() {
        renew_security_txt(&rt).await;
    }
    seal::seal_pending(&rt.db, &rt.env, &rt.clock, None).await?;
    report.delivery =
        outbox::deliver_due(&rt.db, &rt.mailer, &rt.clock, rt.store_path(), Duration::from_secs(30), None).await?;
    if report.delivery.connection_failed {
        rt.health(HealthKey::SmtpState, "unreachable".into()).await;
        report.failures.push("SMTP: server unreachable; mail stays queued".into());
    } else if report.delivery.sent > 0 {
        rt.health(HealthKey::SmtpState, "ok".into()).await;
        rt.health(HealthKey::SmtpLastOk, rt.clock.now_ms().to_string()).await;
    }
    Ok(report)
}

/// A message handed to `vdpd ingest`.
#[derive(Debug)]
pub struct Input {
    /// File name, or `-` for standard input (for messages and logs).
    pub name: String,
    pub mail: IncomingMail,
}

/// Reads a message from `reader`, keeping at most `max` bytes: a larger message keeps only its header (and
/// is then quarantined as too large), but its whole size is counted.
pub fn read_message(mut reader: impl std::io::Read, max: usize) -> std::io::Result<IncomingMail> {
    use std::io::Read;
    let mut raw = Vec::new();
    (&mut reader).take(max as u64 + 1).read_to_end(&mut raw)?;
    let mut size = raw.len();
    let truncated = size > max;
    if truncated {
        size += std::io::copy(&mut reader, &mut std::io::sink())? as usize;
        let header_end = find_header_end(&raw).unwrap_or(raw.len().min(64 * 1024));
        raw.truncate(header_end.min(1024 * 1024));
    }
    Ok(IncomingMail { source: Source::Ingest, raw, size, truncated, admitted: false })
}

fn find_header_end(raw: &[u8]) -> Option<usize> {
    let crlf = raw.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4);
    let lf = raw.windows(2).position(|w| w == b"\n\n").map(|p| p + 2);
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// What `vdpd ingest` did.
#[derive(Debug, Default)]
pub struct IngestReport {
    pub processed: Vec<(String, Processed)>,
    pub delivery: Option<outbox::DeliveryReport>,
}

/// `vdpd ingest`: process messages exactly as if fetched, make them durable, then deliver the outbox.
pub async fn ingest(rt: Runtime, inputs: Vec<Input>, deliver: bool) -> Result<IngestReport, DaemonError> {
    let mut report = IngestReport::default();
    for input in inputs {
        let env = rt.env.clone();
        let now = rt.clock.now_ms();
        let mail = input.mail;
        let processed = rt
            .db
            .call(move |s| intake::process(s, &env, &mail, now))
            .await
            .map_err(|intake::IntakeError::Store(e)| e)?;
        report.processed.push((input.name, processed));
    }
    let now = rt.clock.now_ms();
    rt.db.call(move |s| s.durable_barrier(now)).await?;
    if deliver && report.processed.iter().any(|(_, p)| p.enqueued) {
        // Sealing failures are recorded against their mail; a store error leaves it for the daemon.
        if let Err(e) = seal::seal_pending(&rt.db, &rt.env, &rt.clock, None).await {
            tracing::warn!("sealing after ingest failed, the mail stays queued: {e}");
        }
        match outbox::deliver_due(&rt.db, &rt.mailer, &rt.clock, rt.store_path(), Duration::from_secs(10), None).await {
            Ok(d) => report.delivery = Some(d),
            // The messages are safely stored; the daemon (or the next `once`) delivers.
            Err(e) => tracing::warn!("delivery after ingest failed, the mail stays queued: {e}"),
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oversized_input_keeps_its_header_and_true_size() {
        let mut msg = b"From: a@research.test\r\nSubject: big\r\n\r\n".to_vec();
        msg.extend(std::iter::repeat_n(b'x', 5000));
        let m = read_message(&msg[..], 1024).unwrap();
        assert!(m.truncated);
        assert_eq!(m.size, msg.len());
        assert_eq!(m.raw, b"From: a@research.test\r\nSubject: big\r\n\r\n");
        let small = read_message(&msg[..], 10_000).unwrap();
        assert!(!small.truncated);
        assert_eq!(small.raw, msg);
    }
}
