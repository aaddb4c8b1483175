use super::*;
use crate::config::Severity;

fn config(extra: &str) -> Config {
    let text = format!(
        r#"[organisation]
name = "Example"
security_address = "security@example.test"
ticket_prefix = "EX"
[smtp]
host = "127.0.0.1"
tls = "none"
[store]
path = "/tmp/x.sqlite"
[sla]
acknowledge = "24h"
[[staff.members]]
address = "alice@example.test"
cert = "alice.asc"
[[staff.members]]
address = "bob@example.test"
cert = "bob.asc"
[[scope.out_of_scope]]
id = "dos"
wording = "Denial-of-service attacks (DDoS, flood)."
[[scope.out_of_scope]]
id = "sub-processor"
wording = "Our sub-processors' sites and services: report directly to the sub-processor concerned."
sub_processors = [{{ name = "Stripe", contact = "https://stripe.com/docs/security" }}]
[bounty]
enabled = true
currency = "GBP"
[[bounty.tiers]]
id = "minor"
amount = 50
[[bounty.tiers]]
id = "major"
amount = 100
[recognition]
hall_of_fame = true
{extra}"#
    );
    crate::config::parse(&text, std::path::Path::new("/etc/vdpd/policy.toml"), &crate::config::TestMachine).unwrap()
}

fn mail(from: &str, signature: Signature) -> Inbound {
    let mut m = Inbound::for_tests(from, "Re: [EX-2026-0001] x", "");
    m.subject_refs = vec!["EX-2026-0001".into()];
    m.body.signature = signature;
    m
}

fn fprs() -> Vec<(String, String)> {
    vec![("alice@example.test".into(), "AAAA".into()), ("bob@example.test".into(), "BBBB".into())]
}

/// Received at 1 December 2026, 12:00 UTC.
const NOW: i64 = 1_796_126_400_000;
const HOUR: i64 = 3600 * 1000;

fn good(cert: &str) -> Signature {
    Signature::Good { cert: cert.into(), signed_at: NOW - HOUR, digest: format!("digest-{cert}") }
}

fn check(m: &Inbound, staff: &crate::config::Staff, accepted_before: Option<i64>) -> StaffCheck {
    authenticate(m, staff, &Evidence { fingerprints: &fprs(), now: NOW, accepted_before })
}

#[test]
fn only_a_good_signature_by_the_members_own_key_authenticates() {
    let c = config("");
    assert_eq!(check(&mail("carol@research.test", good("AAAA")), &c.staff, None), StaffCheck::NotStaff);
    assert_eq!(
        check(&mail("Alice@Example.test", good("AAAA")), &c.staff, None),
        StaffCheck::Authenticated {
            member: "alice@example.test".into(),
            proof: Proof::Signature { signer: "AAAA".into(), signed_at: NOW - HOUR, digest: "digest-AAAA".into() }
        }
    );
    let cases = [
        (good("BBBB"), "signed by the key of bob@example.test"),
        (good("CCCC"), "not alice@example.test's certificate"),
        (Signature::Unknown { issuer: "1234".into() }, "unknown key"),
        (Signature::Bad { reason: "manipulated".into() }, "bad signature"),
        (Signature::None, "not signed"),
    ];
    for (sig, want) in cases {
        match check(&mail("alice@example.test", sig.clone()), &c.staff, None) {
            StaffCheck::Failed { member, reason } => {
                assert_eq!(member, "alice@example.test");
                assert!(reason.contains(want), "{sig:?}: {reason}");
            }
            other => panic!("{sig:?}: {other:?}"),
        }
    }
}

fn failure(check: StaffCheck) -> String {
    match check {
        StaffCheck::Failed { reason, .. } => reason,
        other => panic!("accepted: {other:?}"),
    }
}

#[test]
fn a_signature_counts_once_and_only_while_it_is_fresh() {
    let c = config("");
    let signed_at = |at: i64| Signature::Good { cert: "AAAA".into(), signed_at: at, digest: "d".into() };
    // Within the window (3 days by default) and up to ten minutes ahead of our clock: accepted.
    for at in [NOW - 3 * 24 * HOUR + 60_000, NOW, NOW + 9 * 60_000] {
        assert!(matches!(
            check(&mail("alice@example.test", signed_at(at)), &c.staff, None),
            StaffCheck::Authenticated { .. }
        ));
    }
    let old = failure(check(&mail("alice@example.test", signed_at(NOW - 4 * 24 * HOUR)), &c.staff, None));
    assert!(old.contains("4 days") && old.contains("staff.max_signature_age (3 days)"), "{old}");
    let future = failure(check(&mail("alice@example.test", signed_at(NOW + HOUR)), &c.staff, None));
    assert!(future.contains("1 hour after the mail arrived"), "{future}");
    // The same signature a second time, whatever mail it comes in: a replay.
    let replay = failure(check(&mail("alice@example.test", signed_at(NOW)), &c.staff, Some(NOW - 2 * HOUR)));
    assert!(replay.contains("replay") && replay.contains("2 hours"), "{replay}");
    // The window is the policy's.
    let short = config("[staff]\nmax_signature_age = \"1h\"\n");
    assert!(
        failure(check(&mail("alice@example.test", signed_at(NOW - 2 * HOUR)), &short.staff, None)).contains("1 hour")
    );
    for bad in ["\"1 minute\"", "\"31 days\"", "\"2 business days\""] {
        let text = format!("[staff]\nmax_signature_age = {bad}\n");
        let problems = std::panic::catch_unwind(|| config(&text)).is_err();
        assert!(problems, "{bad} should be refused");
    }
}

#[test]
fn several_signed_blocks_give_no_authority() {
    let c = config("");
    let mut m = mail("alice@example.test", good("AAAA"));
    m.crypto.note = Some("the mail has 2 signed or encrypted parts: none of them vouches for the whole mail".into());
    assert!(failure(check(&m, &c.staff, None)).contains("2 signed or encrypted parts"));
}

fn dkim_staff(proof: crate::config::DkimProof) -> crate::config::Staff {
    let c = config("").staff;
    let mut staff = crate::config::Staff {
        authentication: crate::config::StaffAuth::Dkim { authserv_id: "mx.example.test".into() },
        ..c
    };
    staff.members[0].dkim_proof = proof;
    staff
}

#[test]
fn dkim_is_trusted_only_from_the_one_header_of_the_named_authserv_id() {
    let dkim = dkim_staff(crate::config::DkimProof::Domain);
    let with = |results: &[&str]| Inbound {
        auth_results: results.iter().map(|s| s.to_string()).collect(),
        ..mail("alice@example.test", Signature::None)
    };
    let ok = "mx.example.test; dkim=pass header.d=example.test header.s=sel; spf=pass";
    assert!(matches!(check(&with(&[ok]), &dkim, None), StaffCheck::Authenticated { proof: Proof::Dkim, .. }));
    // Comments may hold semicolons; a version number may follow the authserv-id.
    let commented = "mx.example.test 1; dkim=pass (2048-bit key; unprotected) header.d=example.test";
    assert!(matches!(check(&with(&[commented]), &dkim, None), StaffCheck::Authenticated { .. }));
    // An attacker's own header, from another authserv-id, proves nothing.
    let forged = "evil.test; dkim=pass header.d=example.test";
    assert!(failure(check(&with(&[forged]), &dkim, None)).contains("no Authentication-Results from the trusted"));
    // Our MX says fail, or passes another domain.
    assert!(matches!(
        check(&with(&["mx.example.test; dkim=fail header.d=example.test"]), &dkim, None),
        StaffCheck::Failed { .. }
    ));
    assert!(matches!(
        check(&with(&["mx.example.test; dkim=pass header.d=evil.test"]), &dkim, None),
        StaffCheck::Failed { .. }
    ));
    // Two headers claiming our MX: one is a forgery that got through, and which cannot be told. Neither counts,
    // in either order.
    let top_fail = "mx.example.test; dkim=none";
    for pair in [[top_fail, ok], [ok, top_fail], [ok, ok]] {
        let why = failure(check(&with(&pair), &dkim, None));
        assert!(why.contains("2 Authentication-Results headers"), "{why}");
    }
}

#[test]
fn dkim_members_can_be_asked_for_their_own_login_or_identity() {
    let by_login = dkim_staff(crate::config::DkimProof::SmtpAuth { login: "alice".into() });
    let by_identity = dkim_staff(crate::config::DkimProof::Identity);
    let with = |r: &str| Inbound { auth_results: vec![r.to_string()], ..mail("alice@example.test", Signature::None) };
    let domain_only = "mx.example.test; dkim=pass header.d=example.test header.i=@example.test";
    assert!(failure(check(&with(domain_only), &by_login, None)).contains("smtp.auth=alice"));
    assert!(failure(check(&with(domain_only), &by_identity, None)).contains("header.i=alice@example.test"));
    let logged_in = "mx.example.test; auth=pass smtp.auth=alice; dkim=pass header.d=example.test";
    assert!(matches!(check(&with(logged_in), &by_login, None), StaffCheck::Authenticated { .. }));
    let someone_else = "mx.example.test; auth=pass smtp.auth=mallory; dkim=pass header.d=example.test";
    assert!(matches!(check(&with(someone_else), &by_login, None), StaffCheck::Failed { .. }));
    let own_identity = "mx.example.test; dkim=pass header.d=example.test header.i=alice@example.test";
    assert!(matches!(check(&with(own_identity), &by_identity, None), StaffCheck::Authenticated { .. }));
}

#[test]
fn dmarc_alignment_reads_only_the_trusted_header() {
    let ok = ["mx.example.test; dmarc=pass header.from=research.test; dkim=pass header.d=research.test".to_string()];
    assert!(dmarc_aligned(&ok, "mx.example.test", "ada@research.test").is_ok());
    let dkim_only = ["mx.example.test; dkim=pass header.d=research.test".to_string()];
    assert!(dmarc_aligned(&dkim_only, "mx.example.test", "ada@research.test").is_ok());
    // A DKIM pass for another domain is not aligned with From.
    let unaligned =
        ["mx.example.test; dkim=pass header.d=mailer.test; dmarc=fail header.from=research.test".to_string()];
    assert!(dmarc_aligned(&unaligned, "mx.example.test", "ada@research.test").is_err());
    let forged = ["evil.test; dmarc=pass header.from=research.test".to_string()];
    assert!(dmarc_aligned(&forged, "mx.example.test", "ada@research.test").is_err());
}

#[test]
fn spans_read_like_people_write_them() {
    assert_eq!(span(40_000), "40 seconds");
    assert_eq!(span(12 * 60_000), "12 minutes");
    assert_eq!(span(HOUR), "1 hour");
    assert_eq!(span(2 * HOUR + 5 * 60_000), "2 hours 5 minutes");
    assert_eq!(span(3 * 24 * HOUR), "3 days");
    assert_eq!(span(4 * 24 * HOUR + 2 * HOUR), "4 days 2 hours");
}

#[test]
fn commands_at_the_top_and_the_text_after_them() {
    let c = config("");
    let text = "\n#state accepted\n#severity CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\n\nThanks, we can reproduce it.\nFix next week.\n\n-- \nAlice\n\nOn Mon, Ada wrote:\n> #state closed\n> old text\n";
    let p = parse(text, &c);
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    assert_eq!(p.commands.len(), 2);
    assert_eq!(p.commands[0].command, Command::State(TicketState::Accepted));
    assert_eq!(p.commands[0].number, 2);
    match &p.commands[1].command {
        Command::Severity { band, score, .. } => assert_eq!((*band, *score), (Severity::Critical, Some(9.8))),
        other => panic!("{other:?}"),
    }
    assert_eq!(p.text, "Thanks, we can reproduce it.\nFix next week.");
}

#[test]
fn quoted_commands_never_run_and_the_attribution_goes_with_the_quote() {
    let c = config("");
    let p = parse("Looks good to me.\n\nOn Tue, 24 Nov 2026, Bob wrote:\n> #resolved\n> done\n", &c);
    assert!(p.commands.is_empty());
    assert_eq!(p.text, "Looks good to me.");
}

#[test]
fn bad_commands_name_their_line_and_why() {
    let c = config("");
    let p = parse(
        "#state fixed\n#bounty huge\n#assign carol@example.test\n#teleport\n#disclose 31/12/2026\n#not-applicable nope\n#not-applicable sub-processor Twilio\n#informative now\n",
        &c,
    );
    let why: Vec<(usize, &str)> = p.errors.iter().map(|e| (e.number, e.why.as_str())).collect();
    assert_eq!(why.len(), 8, "{why:?}");
    assert!(why[0].1.contains("unknown state \"fixed\""));
    assert!(why[1].1.contains("no bounty tier \"huge\" (known: minor, major)"));
    assert!(why[2].1.contains("not a staff member"));
    assert!(why[3].1.starts_with("unknown command"));
    assert!(why[4].1.contains("not a date"));
    assert!(why[5].1.contains("known: dos, sub-processor"));
    assert!(why[6].1.contains("no sub-processor \"Twilio\" (known: Stripe)"));
    assert!(why[7].1.contains("takes no argument"));
}

fn view(state: TicketState) -> TicketView {
    TicketView {
        reference: "EX-2026-0001".into(),
        state,
        outcome: None,
        bounty_tier: None,
        bounty_paid: false,
        credit_consent: CreditConsent::Given("Ada L. (https://ada.example)".into()),
        suggested_clause: None,
        erased: false,
        researcher_key: None,
        offered_keys: Vec::new(),
        exploited_at: None,
        mitigated: false,
        cra_filed: Vec::new(),
        product: None,
        cve_id: None,
        incident_at: None,
        reporter: Some("ada@research.example".into()),
        co_reporters: Vec::new(),
    }
}

/// 2026-11-23 12:00 UTC: when the test mails are planned.
const PLANNED_AT: i64 = 1_795_435_200_000;

fn at() -> At<'static> {
    At { now: PLANNED_AT, member: "alice@example.org" }
}

/// Plans `text` against `t` with the test policy.
fn planned(t: &TicketView, text: &str, existing: &[Existing]) -> Result<Vec<Effect>, Vec<LineError>> {
    let c = config("");
    plan(t, &parse(text, &c), existing, at(), &c)
}

/// The ticket fields a plan changes, in order.
fn updates(effects: &[Effect]) -> Vec<TicketUpdate> {
    effects.iter().filter_map(|e| if let Effect::Update(u) = e { Some(u.clone()) } else { None }).collect()
}

/// What the member is told, in order.
fn done(effects: &[Effect]) -> Vec<String> {
    effects.iter().filter_map(|e| if let Effect::Done(d) = e { Some(d.clone()) } else { None }).collect()
}

fn notices(effects: &[Effect]) -> Vec<Notice> {
    effects.iter().filter_map(|e| if let Effect::Notice(n) = e { Some((**n).clone()) } else { None }).collect()
}

#[test]
fn a_mails_commands_are_checked_in_order_and_apply_together_or_not_at_all() {
    let text = "#state accepted\n#bounty minor\n#resolved\n#disclose 2027-02-01\n#credit Ada L.\n";
    let effects = planned(&view(TicketState::Triage), text, &[]).unwrap();
    assert_eq!(
        updates(&effects),
        [
            TicketUpdate::State(TicketState::Accepted),
            TicketUpdate::Bounty { tier: "minor".into(), amount: 50 },
            TicketUpdate::State(TicketState::Resolved),
            TicketUpdate::DiscloseOn(jiff::civil::date(2027, 2, 1)),
            TicketUpdate::Credit(Some("Ada L.".into())),
        ]
    );
    assert_eq!(
        done(&effects),
        [
            "state: triage → accepted",
            "bounty: minor (50 GBP)",
            "state: accepted → resolved; the researcher is asked to confirm the fix",
            "disclosure date: 2027-02-01",
            "credit: Ada L.",
        ]
    );
    // Each change is on the timeline; the researcher hears of the bounty, the fix, the date and the credit.
    let events: Vec<Event> = effects
        .iter()
        .filter_map(|e| if let Effect::Timeline { event, .. } = e { Some(*event) } else { None })
        .collect();
    assert_eq!(
        events,
        [Event::StateChanged, Event::BountyAwarded, Event::Resolved, Event::DisclosureDateSet, Event::CreditConfirmed]
    );
    let n = notices(&effects);
    assert!(matches!(&n[0], Notice::Bounty { bounty } if bounty.amount == 50 && bounty.currency == "GBP"), "{n:?}");
    assert_eq!(
        n[1..],
        [Notice::Resolved, Notice::Disclose { on: "2027-02-01".into() }, Notice::Credit { credit: "Ada L.".into() }]
    );
    // Accepting the report is a decision about it: the diagnosis is made.
    assert!(effects.contains(&Effect::Diagnosed));

    // One bad line refuses the whole mail, naming every bad line.
    let errors =
        planned(&view(TicketState::Triage), "#bounty minor\n#state accepted\n#paid\n#disclose 2020-01-01\n", &[])
            .unwrap_err();
    let lines: Vec<usize> = errors.iter().map(|e| e.number).collect();
    assert_eq!(lines, [1, 3, 4], "{errors:?}");
    assert!(errors[0].why.contains("still triage"));
    assert!(errors[1].why.contains("no bounty was awarded"));
    assert!(errors[2].why.contains("in the past"));
}

#[test]
fn only_decisions_count_as_the_diagnosis() {
    let t = view(TicketState::Triage);
    for (text, diagnosed) in [
        ("#state accepted\n", true),
        ("#informative\n", true),
        ("#resolved\n", true),
        ("#severity high\n", false),
        ("#assign alice@example.test\n", false),
        ("#waiting\n", false),
    ] {
        let effects = planned(&t, text, &[]).unwrap();
        assert_eq!(effects.contains(&Effect::Diagnosed), diagnosed, "{text}");
    }
}

#[test]
fn outcomes_close_and_only_reopen_opens() {
    let existing = vec![Existing { reference: "EX-2026-0003".into(), advisory: None }];
    let errors =
        planned(&view(TicketState::Triage), "#duplicate EX-2026-0003\n#state fixing\n", &existing).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert!(errors[0].why.contains("closed: #reopen it first"));
    let effects = planned(&view(TicketState::Triage), "#duplicate EX-2026-0003\n", &existing).unwrap();
    assert_eq!(
        updates(&effects),
        [
            TicketUpdate::Outcome { outcome: Some(Outcome::Duplicate), detail: "EX-2026-0003".into() },
            TicketUpdate::State(TicketState::Closed)
        ]
    );
    assert!(
        matches!(&notices(&effects)[..], [Notice::Closed { outcome: Outcome::Duplicate, context }] if context.advisory.is_none())
    );
    // The original fixed and its advisory published: the researcher gets its link (and still not its reference).
    let url = "https://example.com/.well-known/csaf/white/2026/ex-2026-0003.json";
    let fixed = vec![Existing { reference: "EX-2026-0003".into(), advisory: Some(url.into()) }];
    let effects = planned(&view(TicketState::Triage), "#duplicate ex-2026-0003\n", &fixed).unwrap();
    assert!(
        matches!(&notices(&effects)[..], [Notice::Closed { outcome: Outcome::Duplicate, context }] if context.advisory.as_deref() == Some(url)),
        "{effects:?}"
    );
    let errors = planned(&view(TicketState::Triage), "#duplicate EX-2026-0009\n#duplicate EX-2026-0001\n", &existing)
        .unwrap_err();
    assert!(errors[0].why.contains("no ticket EX-2026-0009"));
    assert!(errors[1].why.contains("cannot duplicate itself"));
    assert!(planned(&view(TicketState::Accepted), "#reopen\n", &existing).is_err());
    let effects = planned(&view(TicketState::Closed), "#reopen\n", &existing).unwrap();
    assert_eq!(
        updates(&effects),
        [TicketUpdate::Outcome { outcome: None, detail: String::new() }, TicketUpdate::State(TicketState::Triage)]
    );
    assert_eq!(done(&effects), ["reopened: closed → triage"]);
    let effects = planned(&view(TicketState::Triage), "#not-applicable sub-processor Stripe\n", &[]).unwrap();
    match &notices(&effects)[..] {
        [Notice::Closed { outcome: Outcome::NotApplicable, context }] => {
            // The researcher reads the policy's own clause and where to report to the sub-processor.
            assert!(context.clause.as_deref().is_some_and(|c| !c.is_empty()), "{context:?}");
            assert_eq!(context.sub_processor.as_ref().map(|s| s.name.as_str()), Some("Stripe"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn no_bounty_without_a_programme() {
    let c = config("").bounty;
    let mut cfg = config("");
    cfg.bounty = crate::config::Bounty { enabled: false, ..c };
    let p = parse("#bounty minor\n", &cfg);
    assert!(p.errors[0].why.contains("no bounty"));
}

#[test]
fn credit_only_with_the_researchers_consent_and_a_hall_of_fame() {
    let asked_nothing = TicketView { credit_consent: CreditConsent::NotAnswered, ..view(TicketState::Resolved) };
    let e = planned(&asked_nothing, "#credit Ada L.\n", &[]).unwrap_err();
    assert!(e[0].why.contains("has not agreed"), "{e:?}");
    let declined = TicketView { credit_consent: CreditConsent::Declined, ..view(TicketState::Resolved) };
    assert!(planned(&declined, "#credit Ada L.\n", &[]).unwrap_err()[0].why.contains("declined"));
    let effects = planned(&view(TicketState::Resolved), "#credit Ada L.\n", &[]).unwrap();
    assert_eq!(updates(&effects), [TicketUpdate::Credit(Some("Ada L.".into()))]);
    // "none" is always allowed: it only records that nobody is credited.
    let effects = planned(&asked_nothing, "#credit none\n", &[]).unwrap();
    assert_eq!(updates(&effects), [TicketUpdate::Credit(None)]);
    assert_eq!(notices(&effects), [Notice::Credit { credit: "none".into() }]);
    // Without a hall of fame, nobody is credited by name.
    let mut no_hof = config("");
    no_hof.recognition.hall_of_fame = false;
    assert!(parse("#credit Ada\n", &no_hof).errors[0].why.contains("credits nobody"));
}

#[test]
fn bare_not_applicable_uses_the_clause_the_report_points_to() {
    let suggested = TicketView {
        suggested_clause: Some(("sub-processor".into(), Some("Stripe".into()))),
        ..view(TicketState::Triage)
    };
    let effects = planned(&suggested, "#not-applicable\n", &[]).unwrap();
    assert_eq!(
        updates(&effects)[0],
        TicketUpdate::Outcome { outcome: Some(Outcome::NotApplicable), detail: "sub-processor".into() }
    );
    assert!(matches!(&notices(&effects)[0], Notice::Closed { context, .. }
        if context.sub_processor.as_ref().is_some_and(|s| s.name == "Stripe")));
    // A clause staff name wins over the suggestion.
    let effects = planned(&suggested, "#not-applicable dos\n", &[]).unwrap();
    assert_eq!(
        updates(&effects)[0],
        TicketUpdate::Outcome { outcome: Some(Outcome::NotApplicable), detail: "dos".into() }
    );
    assert!(matches!(&notices(&effects)[0], Notice::Closed { context, .. } if context.sub_processor.is_none()));
}

#[test]
fn waiting_and_erasure() {
    let effects = planned(&view(TicketState::Triage), "#waiting\nWhich browser?\n", &[]).unwrap();
    assert_eq!(effects[0], Effect::Wait(crate::ticket::WaitReason::Staff));
    let e = planned(&view(TicketState::Triage), "#waiting\n#internal\n", &[]).unwrap_err();
    assert!(e[0].why.contains("cannot go with #internal"));
    assert!(planned(&view(TicketState::Closed), "#wait\n", &[]).is_err());
    assert_eq!(planned(&view(TicketState::Closed), "#erase\n", &[]).unwrap(), [Effect::Erase]);
    let erased = TicketView { erased: true, ..view(TicketState::Closed) };
    assert!(planned(&erased, "#erase\n", &[]).unwrap_err()[0].why.contains("already erased"));
}

#[test]
fn key_commands_show_reset_and_accept_only_what_was_offered() {
    let c = config("");
    assert_eq!(parse("#key show\n", &c).commands[0].command, Command::Key(KeyCommand::Show));
    let fpr = "0123456789ABCDEF0123456789ABCDEF01234567";
    // Fingerprints are pasted with spaces and in lower case.
    let spaced = "#key accept 0123 4567 89ab cdef 0123  4567 89AB CDEF 0123 4567\n";
    assert_eq!(parse(spaced, &c).commands[0].command, Command::Key(KeyCommand::Accept(fpr.into())));
    for bad in ["#key\n", "#key accept 1234\n", "#key show all\n", "#key forget\n"] {
        assert!(!parse(bad, &c).errors.is_empty(), "{bad:?}");
    }
    let t = view(TicketState::Triage);
    assert!(planned(&t, "#key reset\n", &[]).unwrap_err()[0].why.contains("no key is held"));
    let held = TicketView { researcher_key: Some("FFFF".into()), ..t.clone() };
    let effects = planned(&held, "#key reset\n", &[]).unwrap();
    assert_eq!(effects[..2], [Effect::KeyReset, Effect::timeline(Event::KeyReset, "FFFF")]);
    let accept = format!("#key accept {fpr}\n");
    assert!(planned(&held, &accept, &[]).unwrap_err()[0].why.contains("never offered"));
    let offered = TicketView { offered_keys: vec![fpr.into()], ..held.clone() };
    assert_eq!(planned(&offered, &accept, &[]).unwrap(), [Effect::KeyAccept(fpr.into())]);
    let erased = TicketView { erased: true, ..offered };
    assert!(planned(&erased, &accept, &[]).is_err());
    assert_eq!(planned(&t, "#key show\n", &[]).unwrap(), [Effect::KeyShow]);
}

/// The registry is the one list of commands: every name and alias reaches its own command (never "unknown"),
/// no spelling belongs to two, and the help lists each command once, as staff type it.
#[test]
fn every_registered_command_is_parsed_and_listed_once() {
    let c = config("");
    let mut seen: Vec<&str> = Vec::new();
    for spec in REGISTRY {
        for word in std::iter::once(&spec.name).chain(spec.aliases) {
            assert!(word.starts_with('#') && *word == word.to_ascii_lowercase(), "{word}");
            assert!(!seen.contains(word), "{word} is registered twice");
            seen.push(word);
            let parsed = parse(word, &c);
            let unknown = parsed.errors.iter().any(|e| e.why.starts_with("unknown command"));
            assert!(!unknown, "{word} is registered but not parsed: {parsed:?}");
        }
    }
    let help = help();
    assert_eq!(help.len(), REGISTRY.len());
    assert!(help.iter().any(|(s, _)| s == "#key show|reset|accept FINGERPRINT"), "{help:?}");
    assert!(help.iter().any(|(s, _)| s == "#paid"), "a command without arguments is listed bare");
    let unknown = parse("#frobnicate", &c);
    assert!(unknown.errors[0].why.contains("#state") && unknown.errors[0].why.contains("#key"), "{unknown:?}");
}

#[test]
fn staff_words_reach_the_researcher_only_where_detail_may_go() {
    let c = config("");
    let only = config("[openpgp]\nkey = \"k\"\nreport_detail = \"encrypted-only\"\n").openpgp;
    let words = "Thanks, we can reproduce it.";
    let relay = |text: &str, notices: bool, encrypted: bool, policy: &Option<crate::config::OpenPgpConfig>| {
        super::relay(&parse(text, &c), notices, encrypted, policy.as_ref())
    };
    // Encrypted, or the policy allows clear text: the words go.
    assert_eq!(relay(words, false, true, &only).send, Some(Some(words.to_string())));
    assert_eq!(relay(words, false, false, &None).send, Some(Some(words.to_string())));
    // Clear text under encrypted-only: withheld, and the member is told how to send anyway.
    let r = relay(words, false, false, &only);
    assert_eq!(r.send, None);
    assert!(r.done[0].contains("NOT sent") && r.done[0].contains("#cleartext"), "{r:?}");
    // With notices to send, the mail goes without the words.
    let r = relay(&format!("#resolved\n\n{words}"), true, false, &only);
    assert_eq!(r.send, Some(None));
    assert_eq!(r.done.len(), 2);
    assert_eq!(r.done[1], "sent to the researcher (in clear text)");
    // #cleartext overrides the policy for this mail; #internal sends nothing at all.
    assert_eq!(relay(&format!("#cleartext\n\n{words}"), false, false, &only).send, Some(Some(words.to_string())));
    let r = relay(&format!("#internal\n\n{words}"), true, true, &only);
    assert_eq!((r.send, r.done), (None, vec!["nothing went to the researcher (#internal)".to_string()]));
    // Nothing to say: nothing goes, nothing to tell.
    assert_eq!(relay("#severity high\n", false, true, &only), Relay { send: None, done: vec![] });
}

const CRA: &str = "[cra]\nenabled = true\ncsirt = \"CERT-FR\"\n\
                   [[products]]\nid = \"shop\"\nname = \"Shop\"\nmember_states = [\"FR\"]\n\
                   [[products]]\nid = \"app\"\nname = \"App\"\n";

fn cra_planned(t: &TicketView, text: &str) -> Result<Vec<Effect>, Vec<LineError>> {
    let c = config(CRA);
    plan(t, &parse(text, &c), &[], at(), &c)
}

fn why(result: Result<Vec<Effect>, Vec<LineError>>) -> Vec<String> {
    result.unwrap_err().into_iter().map(|e| e.why).collect()
}

#[test]
fn exploited_starts_the_cra_duties_from_the_mail_or_the_time_given_and_no_withdraws_them() {
    let t = view(TicketState::Triage);
    let member = "alice@example.org".to_string();
    // Bare: aware since the mail.
    let effects = cra_planned(&t, "#exploited\n").unwrap();
    assert_eq!(updates(&effects), [TicketUpdate::Exploited { since: Some(PLANNED_AT), by: member.clone() }]);
    assert!(done(&effects)[0].contains("the CRA early warning is due in 24 hours"), "{:?}", done(&effects));
    // An instant with its offset, or a time in the policy's zone (UTC here), or a date's start.
    for (arg, want) in [
        ("2026-11-23T09:30Z", PLANNED_AT - 2 * HOUR - 30 * 60_000),
        ("2026-11-23T10:30+01:00", PLANNED_AT - 2 * HOUR - 30 * 60_000),
        ("2026-11-23T09:30", PLANNED_AT - 2 * HOUR - 30 * 60_000),
        ("2026-11-23", PLANNED_AT - 12 * HOUR),
    ] {
        let effects = cra_planned(&t, &format!("#exploited {arg}\n")).unwrap();
        assert_eq!(updates(&effects), [TicketUpdate::Exploited { since: Some(want), by: member.clone() }], "{arg}");
    }
    assert!(why(cra_planned(&t, "#exploited 2026-11-24T09:30Z\n"))[0].contains("cannot be in the future"));
    assert!(why(cra_planned(&t, "#exploited yesterday\n"))[0].contains("is not a time"));
    // Marked already: an earlier awareness moves the clocks back, a later one is refused.
    let marked = TicketView { exploited_at: Some(PLANNED_AT - HOUR), ..t.clone() };
    assert!(why(cra_planned(&marked, "#exploited\n"))[0].contains("already marked exploited"));
    assert!(cra_planned(&marked, "#exploited 2026-11-23T09:00Z\n").is_ok());
    assert_eq!(
        updates(&cra_planned(&marked, "#exploited no\n").unwrap()),
        [TicketUpdate::Exploited { since: None, by: member.clone() }]
    );
    assert!(why(cra_planned(&t, "#exploited no\n"))[0].contains("not marked exploited"));
    // Without the duty in the policy, the command is refused as it is read.
    assert!(why(planned(&t, "#exploited\n", &[]))[0].contains("[cra] enabled = false"));
}

#[test]
fn cra_filings_follow_the_order_the_law_gives_them() {
    let t = view(TicketState::Triage);
    let member = "alice@example.org".to_string();
    assert!(why(cra_planned(&t, "#cra-filed early-warning\n"))[0].contains("#exploited first"));
    let exploited = TicketView { exploited_at: Some(PLANNED_AT - HOUR), ..t.clone() };
    let effects = cra_planned(&exploited, "#cra-filed early-warning ENISA-2026-00042\n").unwrap();
    assert_eq!(
        updates(&effects),
        [TicketUpdate::CraFiled {
            stage: CraStage::EarlyWarning,
            platform_id: Some("ENISA-2026-00042".into()),
            by: member.clone()
        }]
    );
    assert_eq!(done(&effects), ["CRA early warning filed as ENISA-2026-00042: its clock stopped"]);
    // One mail may record both first stages; a stage is filed once.
    assert!(cra_planned(&exploited, "#cra-filed early-warning\n#cra-filed notification X-2\n").is_ok());
    let filed = TicketView { cra_filed: vec![CraStage::EarlyWarning], ..exploited.clone() };
    assert!(why(cra_planned(&filed, "#cra-filed early-warning\n"))[0].contains("recorded as filed already"));
    // The final report needs a measure: #mitigated (or #resolved) first, in the same mail or before.
    assert!(why(cra_planned(&filed, "#cra-filed final\n"))[0].contains("#mitigated or #resolved first"));
    let effects = cra_planned(&filed, "#mitigated\n#cra-filed final\n").unwrap();
    assert_eq!(updates(&effects)[0], TicketUpdate::Mitigated);
    assert!(done(&effects)[0].contains("the CRA final report is due in 14 days"));
    assert!(cra_planned(&filed, "#resolved\n#cra-filed final\n").is_ok());
    assert!(why(cra_planned(&filed, "#cra-filed interim\n"))[0].contains("unknown CRA stage"));
    assert!(why(cra_planned(&filed, "#cra-filed notification two words\n"))[0].contains("one word"));
    let mitigated = TicketView { mitigated: true, ..filed };
    assert!(why(cra_planned(&mitigated, "#mitigated\n"))[0].contains("already recorded"));
}

#[test]
fn product_names_one_of_the_policys_products() {
    let t = view(TicketState::Triage);
    assert_eq!(updates(&cra_planned(&t, "#product shop\n").unwrap()), [TicketUpdate::Product("shop".into())]);
    assert!(why(cra_planned(&t, "#product shoe\n"))[0].contains("known: shop, app"));
    let shop = TicketView { product: Some("shop".into()), ..t };
    assert!(why(cra_planned(&shop, "#product shop\n"))[0].contains("already about shop"));
}

#[test]
fn cve_records_a_cve_id_in_its_canonical_spelling() {
    let t = view(TicketState::Resolved);
    assert_eq!(
        updates(&planned(&t, "#cve cve-2026-12345\n", &[]).unwrap()),
        [TicketUpdate::Cve("CVE-2026-12345".into())]
    );
    for bad in ["#cve CVE-26-1234\n", "#cve CVE-2026-123\n", "#cve 2026-12345\n", "#cve\n"] {
        assert!(why(planned(&t, bad, &[]))[0].contains("not a CVE ID"), "{bad}");
    }
    let held = TicketView { cve_id: Some("CVE-2026-12345".into()), ..t };
    assert!(why(planned(&held, "#cve CVE-2026-12345\n", &[]))[0].contains("already"));
    assert!(done(&planned(&held, "#cve CVE-2026-54321\n", &[]).unwrap())[0].contains("(was CVE-2026-12345)"));
}

#[test]
fn incident_starts_the_severe_incident_duty_only_where_the_policy_tracks_it() {
    let c = config(&CRA.replacen("csirt = \"CERT-FR\"\n", "csirt = \"CERT-FR\"\nincidents = true\n", 1));
    let t = view(TicketState::Triage);
    let p = |text: &str| plan(&t, &parse(text, &c), &[], at(), &c);
    assert_eq!(
        updates(&p("#incident\n").unwrap()),
        [TicketUpdate::Incident { since: Some(PLANNED_AT), by: "alice@example.org".into() }]
    );
    assert!(why(cra_planned(&t, "#incident\n"))[0].contains("[cra] incidents = false"));
    let marked = TicketView { incident_at: Some(PLANNED_AT), ..t.clone() };
    let pm = |text: &str| plan(&marked, &parse(text, &c), &[], at(), &c);
    assert!(why(pm("#cra-filed incident-final\n"))[0].contains("incident-notification first"));
    assert!(pm("#cra-filed incident-notification N-1\n#cra-filed incident-final F-1\n").is_ok());
    assert!(why(p("#cra-filed incident-early-warning\n"))[0].contains("#incident first"));
    assert!(why(pm("#cra-filed early-warning\n"))[0].contains("#exploited first"), "an incident is no exploited flaw");
}

#[test]
fn participants_are_added_and_removed_once_and_never_the_reporter_or_the_desk() {
    let t = view(TicketState::Triage);
    let effects = planned(&t, "#participant add Claire <claire@Research.Example>\n", &[]).unwrap();
    let claire = Effect::AddParticipant { address: "claire@research.example".into(), name: "Claire".into() };
    assert!(effects.contains(&claire), "{effects:?}");
    assert!(done(&effects)[0].contains("claire@research.example added as a co-reporter"), "{:?}", done(&effects));
    // Added and removed in one mail: the second command sees the first.
    let effects =
        planned(&t, "#participant add claire@research.example\n#participant remove claire@research.example\n", &[])
            .unwrap();
    assert!(effects.contains(&Effect::RemoveParticipant("claire@research.example".into())));
    let with = TicketView { co_reporters: vec!["claire@research.example".into()], ..t.clone() };
    assert!(planned(&with, "#co-reporter remove claire@research.example\n", &[]).is_ok(), "an alias");
    let refused = why(planned(
        &with,
        "#participant add claire@research.example\n#participant remove bob@research.example\n\
         #participant add ada@research.example\n",
        &[],
    ));
    assert!(refused[0].contains("is a co-reporter already"), "{refused:?}");
    assert!(refused[1].contains("is not a co-reporter"), "{refused:?}");
    assert!(refused[2].contains("is the reporter"), "{refused:?}");
    let erased = TicketView { erased: true, ..t.clone() };
    assert!(why(planned(&erased, "#participant add claire@research.example\n", &[]))[0].contains("erased"));
    // The parser refuses what is not one address, or is the desk's own.
    let c = config("");
    let p = parse(
        "#participant claire@research.example\n#participant add\n#participant add not-an-address\n\
         #participant add security@example.test\n#participant add a@x.example b@x.example\n",
        &c,
    );
    let why: Vec<&str> = p.errors.iter().map(|e| e.why.as_str()).collect();
    assert_eq!(why.len(), 5, "{why:?}");
    assert!(why[0].contains("#participant add ADDRESS or #participant remove ADDRESS"), "{why:?}");
    assert!(why[2].contains("is not an e-mail address"), "{why:?}");
    assert!(why[3].contains("the desk's own"), "{why:?}");
    assert!(why[4].contains("give one address"), "{why:?}");
}

/// A staff mail's whole plan: the message recorded (a note under `#internal`), commands beside the signature
/// ignored with a warning and a line for the member, then either all commands refused or their effects, the
/// index, the relay, the erasure after everything the researcher is sent, the confirmation and the others'
/// note.
#[test]
fn a_staff_mail_is_one_plan_with_the_erasure_after_what_the_researcher_is_sent() {
    let c = config("");
    let t = view(TicketState::Triage);
    let signed = |text: &str, beside: &str| {
        let mut m = mail("alice@example.org", good("AAAA"));
        m.body.text = text.into();
        m.outside.text = beside.into();
        m
    };
    let whole = |m: &Inbound| mail_plan(m, &parse(&m.body.text, &c), &t, &[], at(), &c);

    let p = whole(&signed("#state accepted\n#erase\nThanks, erased as asked.\n", ""));
    assert_eq!(
        p.journal,
        super::super::JournalEntry {
            status: super::super::IntakeStatus::Correspondence,
            reason: "staff mail from alice@example.org".into(),
            dedup: true,
        }
    );
    assert_eq!(p.effects[0], Effect::Record(MessageKind::Staff));
    let tail: Vec<&Effect> = p.effects.iter().skip_while(|e| **e != Effect::Reindex).collect();
    assert_eq!(tail, [&Effect::Reindex, &Effect::Relay, &Effect::Erase, &Effect::Confirm, &Effect::TellStaff]);
    assert_eq!(p.effects.iter().filter(|e| **e == Effect::Erase).count(), 1, "erased once, last: {:?}", p.effects);
    assert!(updates(&p.effects).contains(&TicketUpdate::State(TicketState::Accepted)));

    // A command beside the signed text: ignored, on the timeline, warned of, told to the member first.
    let p = whole(&signed("#internal\nlooked at it\n", "#resolved\n"));
    assert_eq!(p.effects[0], Effect::Record(MessageKind::StaffNote));
    assert_eq!(p.timeline()[0], (&super::super::By::Author, Event::UnsignedCommandsIgnored, "\"#resolved\""));
    let Some(Effect::Warn(w)) = p.effects.iter().find(|e| matches!(e, Effect::Warn(_))) else { panic!("{p:?}") };
    assert_eq!(w.kind, crate::ticket::WarningKind::UnsignedCommands);
    assert!(w.names_message && w.detail.contains("signed by alice@example.org") && w.at_most_every.is_none());
    assert_eq!(done(&p.effects)[0], "IGNORED, not signed: \"#resolved\" — only what your signature covers counts");
    assert!(!updates(&p.effects).iter().any(|u| matches!(u, TicketUpdate::State(_))), "{:?}", p.effects);

    // A refused command: nothing else the commands would do, no relay, no confirmation; the member is told
    // why, with the ignored line too.
    let p = whole(&signed("#state accepted\n#bounty huge\nSee the notes.\n", "#resolved\n"));
    let Some(Effect::Refuse(lines)) = p.effects.last() else { panic!("{:?}", p.effects) };
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[0].contains("#bounty huge") && lines[1].starts_with("IGNORED, not signed"), "{lines:?}");
    assert!(p.timeline().iter().any(|(_, e, _)| *e == Event::StaffCommandsRefused));
    assert!(updates(&p.effects).is_empty() && !p.has(&Effect::Relay) && !p.has(&Effect::Confirm));
}
