use super::*;

/// The recognition policy's promises in a London working calendar with the 2026/27 holidays.
fn config(extra: &str) -> Config {
    let text = format!(
        "[organisation]\nname = \"Example\"\nsecurity_address = \"security@example.test\"\nticket_prefix = \"EX\"\n\
         [smtp]\nhost = \"127.0.0.1\"\ntls = \"none\"\n[store]\npath = \"/tmp/x.sqlite\"\n\
         [sla]\nacknowledge = \"48h\"\nfirst_diagnosis = \"7 business days\"\ndisclosure = \"90 days\"\n\
         reminders = [\"2 business days\"]\ndisclosure_reminders = [\"14 days\", \"1 day\"]\n{extra}\n\
         [sla.fix]\ncritical = \"7 days\"\nlow = \"90 days\"\n\
         [calendar]\ntime_zone = \"Europe/London\"\nworking_hours = \"09:00-17:30\"\n\
         holidays = [\"12-25\", \"2026-12-28\", \"01-01\"]\n\
         [retention]\nafter_resolution = \"1 month\"\n"
    );
    crate::config::parse(&text, std::path::Path::new("/etc/vdpd/policy.toml"), &crate::config::TestMachine).unwrap()
}

fn ms(s: &str) -> i64 {
    s.parse::<jiff::Timestamp>().unwrap().as_millisecond()
}

fn by_kind(clocks: &[Clock], kind: ClockKind) -> &Clock {
    clocks.iter().find(|c| c.kind == kind).unwrap()
}

fn timer<'a>(timers: &'a [(TimerKind, i64)], kind: &str) -> Option<&'a i64> {
    timers.iter().find(|(k, _)| k.to_string() == kind).map(|(_, due)| due)
}

#[test]
fn the_recognition_policy_over_christmas() {
    let c = config("");
    // Monday 21 December 2026, 10:00 GMT.
    let f = Facts { severity: Some(Severity::Low), ..Facts::new(TicketState::New, ms("2026-12-21T10:00:00Z")) };
    let clocks = compute(&f, &TimerPolicy::of(&c));
    let kinds: Vec<ClockKind> = clocks.iter().map(|c| c.kind).collect();
    assert_eq!(kinds, [ClockKind::Acknowledge, ClockKind::Diagnosis, ClockKind::Fix, ClockKind::Disclosure]);
    assert_eq!(by_kind(&clocks, ClockKind::Acknowledge).due_at, Some(ms("2026-12-23T10:00:00Z")));
    // Seven business days, the 25th, the 28th, 1 January and two weekends skipped.
    assert_eq!(by_kind(&clocks, ClockKind::Diagnosis).due_at, Some(ms("2027-01-04T10:00:00Z")));
    assert_eq!(by_kind(&clocks, ClockKind::Fix).due_at, Some(ms("2027-03-21T10:00:00Z")));
    assert_eq!(by_kind(&clocks, ClockKind::Disclosure).due_at, Some(ms("2027-03-21T10:00:00Z")));

    let t = timers(&f, &clocks, &TimerPolicy::of(&c));
    assert_eq!(timer(&t, "acknowledge"), Some(&ms("2026-12-23T10:00:00Z")));
    assert_eq!(timer(&t, "diagnosis:breach"), Some(&ms("2027-01-04T10:00:00Z")));
    // Two business days before Monday 4 January 10:00 is Wednesday 30 December 10:00.
    assert_eq!(timer(&t, "diagnosis:reminder:2 business days"), Some(&ms("2026-12-30T10:00:00Z")));
    // 21 March 2027 is a Sunday: staff hear of the fix deadline on Monday at 09:00 (GMT until the 28th).
    assert_eq!(timer(&t, "fix:breach"), Some(&ms("2027-03-22T09:00:00Z")));
    assert_eq!(timer(&t, "disclosure:due"), Some(&ms("2027-03-22T09:00:00Z")));
    // 14 days before is Sunday 7 March → Monday 8 March 09:00; 1 day before is Saturday → Monday too.
    assert_eq!(timer(&t, "disclosure:reminder:14 days"), Some(&ms("2027-03-08T09:00:00Z")));
    assert_eq!(timer(&t, "disclosure:reminder:1 day"), Some(&ms("2027-03-22T09:00:00Z")));
    assert_eq!(timer(&t, "retention"), None, "nothing to purge before resolution");
}

#[test]
fn critical_tickets_do_not_wait_for_working_hours() {
    let c = config("");
    // Friday 27 November 2026, 20:00: a critical fix is due 7 days later, Friday 4 December 20:00.
    let f = Facts { severity: Some(Severity::Critical), ..Facts::new(TicketState::Triage, ms("2026-11-27T20:00:00Z")) };
    let t = timers(&f, &compute(&f, &TimerPolicy::of(&c)), &TimerPolicy::of(&c));
    assert_eq!(timer(&t, "fix:breach"), Some(&ms("2026-12-04T20:00:00Z")));
    let low = Facts { severity: Some(Severity::Low), ..f };
    let t = timers(&low, &compute(&low, &TimerPolicy::of(&c)), &TimerPolicy::of(&c));
    // The diagnosis breach (Tuesday 8 December 20:00) waits for Wednesday 09:00.
    assert_eq!(timer(&t, "diagnosis:breach"), Some(&ms("2026-12-09T09:00:00Z")));
}

#[test]
fn waiting_on_the_researcher_pauses_the_diagnosis_clock_when_the_policy_says_so() {
    let received = ms("2026-11-23T10:00:00Z");
    let waiting = Facts { waits: vec![(ms("2026-11-25T10:00:00Z"), None)], ..Facts::new(TicketState::New, received) };
    // Without the setting, waiting changes nothing.
    let c = config("");
    let d = by_kind(&compute(&waiting, &TimerPolicy::of(&c)), ClockKind::Diagnosis).clone();
    assert_eq!((d.status, d.due_at), (ClockStatus::Running, Some(ms("2026-12-02T10:00:00Z"))));

    let c = config("pause_diagnosis_while_waiting = true");
    let clocks = compute(&waiting, &TimerPolicy::of(&c));
    let d = by_kind(&clocks, ClockKind::Diagnosis);
    assert_eq!(d.status, ClockStatus::Paused { since: ms("2026-11-25T10:00:00Z") });
    assert_eq!(d.left_ms, Some(5 * 86_400_000));
    assert_eq!(d.due_at, None);
    let t = timers(&waiting, &clocks, &TimerPolicy::of(&c));
    assert!(
        !t.iter().any(|(k, _)| matches!(
            k,
            TimerKind::Breach(ClockKind::Diagnosis) | TimerKind::Reminder(ClockKind::Diagnosis, _)
        )),
        "a paused clock has no timers: {t:?}"
    );
    let lines = describe(&clocks, &c.calendar, ms("2026-11-26T10:00:00Z"));
    assert_eq!(
        lines[1].1,
        "paused since 2026-11-25 10:00 GMT while waiting on the researcher (5 d of 7 business days left)"
    );

    // The researcher answered the next Monday at 10:00: five business days are left from then.
    let answered =
        Facts { waits: vec![(ms("2026-11-25T10:00:00Z"), Some(ms("2026-11-30T10:00:00Z")))], ..waiting.clone() };
    let d = by_kind(&compute(&answered, &TimerPolicy::of(&c)), ClockKind::Diagnosis).clone();
    assert_eq!((d.status, d.due_at), (ClockStatus::Running, Some(ms("2026-12-07T10:00:00Z"))));

    // A wait that begins after the clock ran out changes nothing: the promise was already broken.
    let late = Facts { waits: vec![(ms("2026-12-10T10:00:00Z"), None)], ..waiting };
    let d = by_kind(&compute(&late, &TimerPolicy::of(&c)), ClockKind::Diagnosis).clone();
    assert_eq!(d.due_at, Some(ms("2026-12-02T10:00:00Z")));
    assert!(d.overdue(ms("2026-12-10T11:00:00Z")));
}

#[test]
fn clocks_stop_and_restart_with_the_ticket() {
    let c = config("status_updates = \"14 days\"");
    let received = ms("2026-11-23T10:00:00Z");
    let mut f = Facts {
        severity: Some(Severity::Low),
        acknowledged_at: Some(received + 2_000),
        last_update_at: Some(received + 2_000),
        ..Facts::new(TicketState::Triage, received)
    };
    let t = timers(&f, &compute(&f, &TimerPolicy::of(&c)), &TimerPolicy::of(&c));
    assert!(timer(&t, "acknowledge").is_none(), "an acknowledged ticket has no acknowledgement timer");
    let update = format!("status-update:{}", received + 2_000);
    // 14 days after Monday 23 November 10:00:02 is Monday 7 December, in working hours.
    assert_eq!(timer(&t, &update), Some(&(ms("2026-12-07T10:00:00Z") + 2_000)));

    // Staff answered: the diagnosis clock is met, and the status mail counts from their answer.
    f.diagnosed_at = Some(ms("2026-11-24T15:00:00Z"));
    f.last_update_at = f.diagnosed_at;
    let clocks = compute(&f, &TimerPolicy::of(&c));
    assert_eq!(by_kind(&clocks, ClockKind::Diagnosis).kept(), Some(true));
    let t = timers(&f, &clocks, &TimerPolicy::of(&c));
    assert!(!t.iter().any(|(k, _)| matches!(
        k,
        TimerKind::Breach(ClockKind::Diagnosis) | TimerKind::Reminder(ClockKind::Diagnosis, _)
    )));
    assert!(timer(&t, &update).is_none());
    assert!(timer(&t, &format!("status-update:{}", ms("2026-11-24T15:00:00Z"))).is_some());

    // Resolved: the fix is met, no more status mails, the purge is planned a month later.
    f.state = TicketState::Resolved;
    f.resolved_at = Some(ms("2027-01-31T12:00:00Z"));
    let clocks = compute(&f, &TimerPolicy::of(&c));
    assert_eq!(by_kind(&clocks, ClockKind::Fix).kept(), Some(true));
    let t = timers(&f, &clocks, &TimerPolicy::of(&c));
    assert!(
        !t.iter().any(|(k, _)| matches!(
            k,
            TimerKind::StatusUpdate { .. } | TimerKind::Breach(ClockKind::Fix) | TimerKind::Reminder(ClockKind::Fix, _)
        )),
        "{t:?}"
    );
    assert_eq!(timer(&t, "retention"), Some(&ms("2027-02-28T12:00:00Z")));
    assert!(timer(&t, "disclosure:due").is_some(), "the disclosure date still comes");

    // Reopened: the fix clock runs again towards its first deadline.
    f.state = TicketState::Triage;
    f.resolved_at = None;
    let t = timers(&f, &compute(&f, &TimerPolicy::of(&c)), &TimerPolicy::of(&c));
    assert!(timer(&t, "fix:breach").is_some());
    assert!(timer(&t, "retention").is_none());

    // Closed as not applicable: no fix and no disclosure are due any more.
    f.state = TicketState::Closed;
    f.outcome = Some(crate::ticket::Outcome::NotApplicable);
    f.closed_at = Some(ms("2026-12-01T10:00:00Z"));
    let clocks = compute(&f, &TimerPolicy::of(&c));
    assert!(matches!(by_kind(&clocks, ClockKind::Fix).status, ClockStatus::Stopped { .. }));
    assert!(matches!(by_kind(&clocks, ClockKind::Disclosure).status, ClockStatus::Stopped { .. }));
    let t = timers(&f, &clocks, &TimerPolicy::of(&c));
    let kinds: Vec<&TimerKind> = t.iter().map(|(k, _)| k).collect();
    assert_eq!(kinds, [&TimerKind::Retention]);
    // Purged: nothing at all.
    f.purged = true;
    assert!(timers(&f, &compute(&f, &TimerPolicy::of(&c)), &TimerPolicy::of(&c)).is_empty());
}

#[test]
fn a_negotiated_date_moves_the_disclosure() {
    let c = config("");
    let f = Facts {
        disclose_on: Some("2027-01-15".parse().unwrap()),
        ..Facts::new(TicketState::Accepted, ms("2026-11-23T10:00:00Z"))
    };
    let clocks = compute(&f, &TimerPolicy::of(&c));
    let d = by_kind(&clocks, ClockKind::Disclosure);
    assert_eq!((d.promise.as_str(), d.due_at), ("agreed", Some(ms("2027-01-15T00:00:00Z"))));
    let t = timers(&f, &clocks, &TimerPolicy::of(&c));
    // Friday 15 January: staff hear of it at 09:00 that day; the 1-day reminder, Thursday at 09:00.
    assert_eq!(timer(&t, "disclosure:due"), Some(&ms("2027-01-15T09:00:00Z")));
    assert_eq!(timer(&t, "disclosure:reminder:1 day"), Some(&ms("2027-01-14T09:00:00Z")));
    let lines = describe(&clocks, &c.calendar, ms("2027-01-16T00:00:00Z"));
    assert_eq!(lines.last().unwrap().1, "reached 2027-01-15 00:00 GMT (agreed)");
}

#[test]
fn timer_kinds_read_back() {
    assert_eq!(TimerKind::parse("acknowledge"), Some(TimerKind::Breach(ClockKind::Acknowledge)));
    assert_eq!(TimerKind::parse("fix:breach"), Some(TimerKind::Breach(ClockKind::Fix)));
    assert_eq!(
        TimerKind::parse("diagnosis:reminder:2 business days"),
        Some(TimerKind::Reminder(ClockKind::Diagnosis, "2 business days".parse().unwrap()))
    );
    assert_eq!(TimerKind::parse("disclosure:due"), Some(TimerKind::DisclosureDue));
    assert_eq!(
        TimerKind::parse("status-update:1790000000000"),
        Some(TimerKind::StatusUpdate { since: 1_790_000_000_000 })
    );
    assert_eq!(TimerKind::parse("retention"), Some(TimerKind::Retention));
    for bad in ["", "fix", "fix:nothing", "moon:breach", "fix:breach:x", "fix:reminder:soon", "status-update:x"] {
        assert_eq!(TimerKind::parse(bad), None, "{bad}");
    }
    // What is stored reads back as itself.
    for stored in [
        "acknowledge",
        "fix:breach",
        "diagnosis:breach",
        "diagnosis:reminder:2 business days",
        "disclosure:reminder:14 days",
        "disclosure:due",
        "status-update:1790000000000",
        "retention",
    ] {
        assert_eq!(TimerKind::parse(stored).map(|k| k.to_string()).as_deref(), Some(stored));
    }
}

#[test]
fn described_for_staff() {
    let c = config("");
    let received = ms("2026-11-23T10:00:00Z");
    let f = Facts {
        acknowledged_at: Some(received + 1_000),
        severity: Some(Severity::Critical),
        ..Facts::new(TicketState::Triage, received)
    };
    let lines = describe(&compute(&f, &TimerPolicy::of(&c)), &c.calendar, received + 10 * 86_400_000);
    let names: Vec<&str> = lines.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["acknowledgement", "first diagnosis", "fix (critical)", "disclosure"]);
    assert_eq!(lines[0].1, "sent 2026-11-23 10:00 GMT");
    assert_eq!(lines[1].1, "OVERDUE since 2026-12-02 10:00 GMT (7 business days)");
    assert_eq!(lines[2].1, "OVERDUE since 2026-11-30 10:00 GMT (7 days)");
    assert_eq!(lines[3].1, "on 2027-02-21 10:00 GMT (90 days after the report)");
}

/// The re-plan fingerprint follows everything the plan reads — including settings nobody listed by hand — and
/// nothing else.
#[test]
fn the_replan_fingerprint_covers_what_the_plan_reads() {
    let base = config("");
    let fp = |c: &Config| TimerPolicy::of(c).fingerprint();
    assert_eq!(fp(&base), fp(&config("")), "the same policy, the same fingerprint");
    let mut unrelated = base.clone();
    unrelated.organisation.name = "Another name".into();
    unrelated.limits.new_tickets_per_hour += 1;
    assert_eq!(fp(&base), fp(&unrelated), "settings the plan does not read");
    type Change = (&'static str, fn(&mut Config));
    let changes: [Change; 6] = [
        ("a reminder", |c| c.sla.reminders.push(PolicyDuration::new(1, crate::config::Unit::Days))),
        ("the acknowledgement", |c| c.sla.acknowledge = PolicyDuration::new(12, crate::config::Unit::Hours)),
        ("status updates", |c| c.sla.status_updates = Some(PolicyDuration::new(14, crate::config::Unit::Days))),
        ("a holiday", |c| c.calendar.holidays.clear()),
        ("working hours", |c| c.calendar.working_hours = None),
        ("retention", |c| c.retention.after_resolution = None),
    ];
    for (what, change) in changes {
        let mut changed = base.clone();
        change(&mut changed);
        assert_ne!(fp(&base), fp(&changed), "{what} changes the plan");
    }
}

/// `[cra]` on, with one product sold in two Member States.
fn cra_config() -> Config {
    config(
        "[cra]\nenabled = true\ncsirt = \"CERT-FR\"\n\
         [[products]]\nid = \"shop\"\nname = \"Shop\"\nmember_states = [\"FR\", \"DE\"]\n",
    )
}

const CRA: [ClockKind; 3] =
    [ClockKind::Cra(CraStage::EarlyWarning), ClockKind::Cra(CraStage::Notification), ClockKind::Cra(CraStage::Final)];

#[test]
fn an_exploited_vulnerability_has_the_laws_three_deadlines_on_calendar_hours() {
    let c = cra_config();
    let p = TimerPolicy::of(&c);
    // Reported on Friday 18 December 2026 at 16:00 GMT; known exploited since 17:00 that evening (after working
    // hours, before a weekend and Christmas).
    let received = ms("2026-12-18T16:00:00Z");
    let aware = ms("2026-12-18T17:00:00Z");
    let mut f = Facts { exploited_at: Some(aware), ..Facts::new(TicketState::Triage, received) };
    let clocks = compute(&f, &p);
    let cra: Vec<&Clock> = clocks.iter().filter(|c| c.kind.cra_stage().is_some()).collect();
    assert_eq!(cra.iter().map(|c| c.kind).collect::<Vec<_>>(), CRA);
    // 24 and 72 hours on the clock: Saturday and Monday evening, whatever the working calendar says.
    assert_eq!(by_kind(&clocks, CRA[0]).due_at, Some(ms("2026-12-19T17:00:00Z")));
    assert_eq!(by_kind(&clocks, CRA[1]).due_at, Some(ms("2026-12-21T17:00:00Z")));
    assert_eq!(by_kind(&clocks, CRA[0]).promise, "24 hours of becoming aware");
    // No measure yet: the final report's clock has not started.
    assert_eq!(by_kind(&clocks, CRA[2]).due_at, None);

    let t = timers(&f, &clocks, &p);
    // Reminders 12, 4 and 1 hours before, and the breach, at the exact hour — a Saturday morning included.
    assert_eq!(timer(&t, "cra-early-warning:reminder:12 hours"), Some(&ms("2026-12-19T05:00:00Z")));
    assert_eq!(timer(&t, "cra-early-warning:reminder:4 hours"), Some(&ms("2026-12-19T13:00:00Z")));
    assert_eq!(timer(&t, "cra-early-warning:reminder:1 hour"), Some(&ms("2026-12-19T16:00:00Z")));
    assert_eq!(timer(&t, "cra-early-warning:breach"), Some(&ms("2026-12-19T17:00:00Z")));
    assert_eq!(timer(&t, "cra-notification:reminder:12 hours"), Some(&ms("2026-12-21T05:00:00Z")));
    assert_eq!(timer(&t, "cra-notification:breach"), Some(&ms("2026-12-21T17:00:00Z")));
    assert!(t.iter().all(|(k, _)| !k.to_string().starts_with("cra-final")), "{t:?}");
    // Every kind reads back as itself.
    for (k, _) in &t {
        assert_eq!(TimerKind::parse(&k.to_string()).as_ref(), Some(k), "{k}");
    }

    // Filed: the early warning's clock is met, its timers gone; the notification's stay.
    f.cra_filed.push((CraStage::EarlyWarning, ms("2026-12-19T09:00:00Z")));
    // A mitigation on the 22nd starts the 14 days; the later fix does not move them.
    f.mitigated_at = Some(ms("2026-12-22T10:00:00Z"));
    f.resolved_at = Some(ms("2026-12-30T10:00:00Z"));
    f.state = TicketState::Resolved;
    let clocks = compute(&f, &p);
    assert_eq!(by_kind(&clocks, CRA[0]).status, ClockStatus::Met { at: ms("2026-12-19T09:00:00Z") });
    assert_eq!(by_kind(&clocks, CRA[0]).kept(), Some(true));
    assert_eq!(by_kind(&clocks, CRA[2]).started_at, ms("2026-12-22T10:00:00Z"));
    assert_eq!(by_kind(&clocks, CRA[2]).due_at, Some(ms("2027-01-05T10:00:00Z")));
    let t = timers(&f, &clocks, &p);
    assert_eq!(timer(&t, "cra-early-warning:breach"), None);
    assert_eq!(timer(&t, "cra-notification:breach"), Some(&ms("2026-12-21T17:00:00Z")));
    assert_eq!(timer(&t, "cra-final:breach"), Some(&ms("2027-01-05T10:00:00Z")));
    // 12 hours before Tuesday 10:00 is 22:00 on the Monday evening: at that hour, not the next morning.
    assert_eq!(timer(&t, "cra-final:reminder:12 hours"), Some(&ms("2027-01-04T22:00:00Z")));

    // A fix alone starts the final report's clock too.
    let fixed = Facts { mitigated_at: None, ..f.clone() };
    assert_eq!(by_kind(&compute(&fixed, &p), CRA[2]).started_at, ms("2026-12-30T10:00:00Z"));
    // Described for staff.
    let described = describe(&compute(&f, &p), &c.calendar, ms("2026-12-20T00:00:00Z"));
    assert!(described.iter().any(|(n, v)| n == "CRA early warning" && v.starts_with("filed ")), "{described:?}");
    let unstarted = Facts { mitigated_at: None, resolved_at: None, state: TicketState::Triage, ..f.clone() };
    let described = describe(&compute(&unstarted, &p), &c.calendar, ms("2026-12-20T00:00:00Z"));
    assert!(described.iter().any(|(n, v)| n == "CRA final report" && v.starts_with("starts when a fix")));
}

#[test]
fn cra_clocks_run_only_when_the_policy_has_the_duty_and_the_ticket_is_exploited() {
    let off = config("");
    let on = cra_config();
    let received = ms("2026-12-18T16:00:00Z");
    let exploited = Facts { exploited_at: Some(received), ..Facts::new(TicketState::Triage, received) };
    let plain = Facts::new(TicketState::Triage, received);
    let has_cra = |f: &Facts, c: &Config| compute(f, &TimerPolicy::of(c)).iter().any(|c| c.kind.cra_stage().is_some());
    assert!(!has_cra(&exploited, &off));
    assert!(!has_cra(&plain, &on));
    assert!(has_cra(&exploited, &on));
    // A duplicate's filings are the original's: its clocks stop, and no timer is left for them.
    let dup = Facts {
        outcome: Some(Outcome::Duplicate),
        closed_at: Some(received + 3_600_000),
        state: TicketState::Closed,
        ..exploited.clone()
    };
    let clocks = compute(&dup, &TimerPolicy::of(&on));
    assert!(matches!(by_kind(&clocks, CRA[0]).status, ClockStatus::Stopped { .. }));
    assert!(timers(&dup, &clocks, &TimerPolicy::of(&on)).iter().all(|(k, _)| !k.to_string().starts_with("cra-")));
    // The reminders are part of the re-plan fingerprint: changing them re-plans every ticket.
    let other = config(
        "[cra]\nenabled = true\ncsirt = \"CERT-FR\"\nreminders = [\"6 hours\"]\n\
         [[products]]\nid = \"shop\"\nname = \"Shop\"\nmember_states = [\"FR\"]\n",
    );
    assert_ne!(TimerPolicy::of(&on).fingerprint(), TimerPolicy::of(&other).fingerprint());
}

/// A severe incident (Art. 14(3)) under a policy that tracks them: 24 and 72 hours from awareness, and the
/// final report a calendar month after the incident notification was filed — not before it is.
#[test]
fn a_severe_incident_has_its_own_three_deadlines() {
    let with = config(
        "[cra]\nenabled = true\ncsirt = \"CERT-FR\"\nincidents = true\n\
         [[products]]\nid = \"shop\"\nname = \"Shop\"\nmember_states = [\"FR\"]\n",
    );
    let without = cra_config();
    let aware = ms("2026-12-18T17:00:00Z");
    let mut f = Facts { incident_at: Some(aware), ..Facts::new(TicketState::Triage, ms("2026-12-18T16:00:00Z")) };
    let stage = |s| ClockKind::Cra(s);
    assert!(compute(&f, &TimerPolicy::of(&without)).iter().all(|c| c.kind.cra_stage().is_none()), "not tracked");
    let p = TimerPolicy::of(&with);
    let clocks = compute(&f, &p);
    assert_eq!(by_kind(&clocks, stage(CraStage::IncidentEarlyWarning)).due_at, Some(ms("2026-12-19T17:00:00Z")));
    assert_eq!(by_kind(&clocks, stage(CraStage::IncidentNotification)).due_at, Some(ms("2026-12-21T17:00:00Z")));
    assert_eq!(by_kind(&clocks, stage(CraStage::IncidentFinal)).due_at, None, "waits for the notification");
    assert_eq!(
        timer(&timers(&f, &clocks, &p), "cra-incident-early-warning:reminder:12 hours"),
        Some(&ms("2026-12-19T05:00:00Z"))
    );
    f.cra_filed.push((CraStage::IncidentNotification, ms("2026-12-20T10:00:00Z")));
    let clocks = compute(&f, &p);
    assert_eq!(by_kind(&clocks, stage(CraStage::IncidentFinal)).due_at, Some(ms("2027-01-20T10:00:00Z")));
    assert!(matches!(by_kind(&clocks, stage(CraStage::IncidentNotification)).status, ClockStatus::Met { .. }));
    for (k, _) in timers(&f, &clocks, &p) {
        assert_eq!(TimerKind::parse(&k.to_string()).as_ref(), Some(&k), "{k}");
    }
}
