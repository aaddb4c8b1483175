use super::*;

#[test]
fn every_kind_reads_back_from_its_stored_word() {
    for k in MessageKind::ALL {
        assert_eq!(k.as_str().parse::<MessageKind>(), Ok(*k));
    }
    assert!("Report".parse::<MessageKind>().is_err(), "stored words are exact");
    let incoming: Vec<&str> = MessageKind::ALL.iter().filter(|k| k.is_incoming()).map(|k| k.as_str()).collect();
    assert_eq!(incoming, ["report", "reply", "staff", "staff-note"]);
}

#[test]
fn every_mail_is_outgoing_and_kinds_keep_their_stored_words() {
    let bare = TicketContext::default();
    for m in Mail::samples(&bare) {
        assert!(!m.kind().is_incoming(), "{m:?}");
    }
    // The words already in stores: a rename here would orphan every row written before it.
    let stored = |m: Mail| m.kind().as_str();
    assert_eq!(stored(Mail::Acknowledgement { form: None }), "acknowledgement");
    assert_eq!(stored(Mail::ToResearcher { text: None, notices: vec![] }), "staff-reply");
    assert_eq!(
        stored(Mail::StaffActivity { member: String::new(), changes: vec![], text: String::new() }),
        "staff-correspondence"
    );
    assert_eq!(stored(Mail::StatusUpdate { status: StatusContext::default() }), "status-update");
}

#[test]
fn the_samples_cover_every_template_of_every_mail_and_notice() {
    let names = templates();
    assert_eq!(names.len(), 30, "{names:?}");
    for n in &names {
        assert!(n.ends_with(".txt") && !n.starts_with('_'), "{n}");
    }
    // Each outcome has its own notice template.
    let bare = TicketContext::default();
    let closed: Vec<&str> =
        Notice::samples(&bare).iter().filter(|n| matches!(n, Notice::Closed { .. })).map(Notice::template).collect();
    assert_eq!(closed, ["outcome_duplicate.txt", "outcome_not_applicable.txt", "outcome_informative.txt"]);
}

#[test]
fn a_mail_fills_exactly_what_it_carries() {
    let clock = ClockContext { name: "fix".into(), ..ClockContext::default() };
    let status = StatusContext { state: "fixing".into(), ..StatusContext::default() };
    let mut ctx = TicketContext::default();
    Mail::StaffReminder { clock: clock.clone(), status: status.clone() }.fill(&mut ctx);
    assert_eq!(ctx.clock.as_ref(), Some(&clock));
    assert_eq!(ctx.status.as_ref(), Some(&status));
    assert_eq!(ctx.form, None);

    let mut ctx = TicketContext::default();
    Mail::Escalation { clock: clock.clone() }.fill(&mut ctx);
    assert_eq!(ctx.status, None, "an escalation carries no ticket status");

    let mut ctx = TicketContext { form: Some(FormContext::default()), ..TicketContext::default() };
    Mail::Acknowledgement { form: None }.fill(&mut ctx);
    assert_eq!(ctx.form, None, "an acknowledgement without the form shows none, whatever the context had");

    let mut ctx = TicketContext::default();
    Mail::StaffConfirmation { member: "a@example.org".into(), changes: vec!["assigned".into()] }.fill(&mut ctx);
    assert_eq!(ctx.staff_member.as_deref(), Some("a@example.org"));
    assert_eq!(ctx.changes, ["assigned"]);
    assert_eq!(ctx.text, None);
}

#[test]
fn the_key_goes_with_what_asks_for_detail_and_with_key_answers() {
    let form = FormContext::default();
    assert!(Mail::Acknowledgement { form: Some(form.clone()) }.attaches_key());
    assert!(!Mail::Acknowledgement { form: None }.attaches_key());
    assert!(Mail::ReportForm { form: form.clone() }.attaches_key());
    assert!(Mail::Undecryptable { error: String::new() }.attaches_key());
    assert!(Mail::PublicKey.attaches_key());
    assert!(!Mail::FormMissing { form }.attaches_key(), "the form's follow-up comes after the key was sent");
    assert!(!Mail::Status { status: StatusContext::default() }.attaches_key());
}

#[test]
fn notices_fill_the_outcome() {
    let mut ctx = TicketContext::default();
    Notice::Disclose { on: "2027-02-21".into() }.fill(&mut ctx);
    assert_eq!(ctx.outcome.and_then(|o| o.disclose_on).as_deref(), Some("2027-02-21"));
    let mut ctx = TicketContext::default();
    Notice::Paid.fill(&mut ctx);
    assert_eq!(ctx.outcome, Some(OutcomeContext::default()));
}
