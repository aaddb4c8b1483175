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
    Config::parse(&text, std::path::Path::new("/etc/vdpd/policy.toml")).unwrap()
}

fn mail(from: &str, signature: Signature) -> Inbound {
    Inbound {
        message_id: None,
        sender: from.into(),
        sender_name: String::new(),
        subject: "Re: [EX-2026-0001] x".into(),
        thread_ids: vec![],
        references: vec![],
        subject_refs: vec!["EX-2026-0001".into()],
        automatic: None,
        text: String::new(),
        crypto: crate::classify::Crypto { signature, ..Default::default() },
        attachments: vec![],
        auth_results: vec![],
        dedup_key: String::new(),
    }
}

fn fprs() -> Vec<(String, String)> {
    vec![("alice@example.test".into(), "AAAA".into()), ("bob@example.test".into(), "BBBB".into())]
}

#[test]
fn only_a_good_signature_by_the_members_own_key_authenticates() {
    let c = config("");
    let good = |cert: &str| Signature::Good { cert: cert.into() };
    assert_eq!(authenticate(&mail("carol@research.test", good("AAAA")), &c.staff, &fprs()), StaffCheck::NotStaff);
    assert_eq!(
        authenticate(&mail("Alice@Example.test", good("AAAA")), &c.staff, &fprs()),
        StaffCheck::Authenticated { member: "alice@example.test".into() }
    );
    let cases = [
        (good("BBBB"), "signed by the key of bob@example.test"),
        (good("CCCC"), "not alice@example.test's certificate"),
        (Signature::Unknown { issuer: "1234".into() }, "unknown key"),
        (Signature::Bad { reason: "manipulated".into() }, "bad signature"),
        (Signature::None, "not signed"),
    ];
    for (sig, want) in cases {
        match authenticate(&mail("alice@example.test", sig.clone()), &c.staff, &fprs()) {
            StaffCheck::Failed { member, reason } => {
                assert_eq!(member, "alice@example.test");
                assert!(reason.contains(want), "{sig:?}: {reason}");
            }
            other => panic!("{sig:?}: {other:?}"),
        }
    }
}

#[test]
fn dkim_is_trusted_only_from_the_named_authserv_id() {
    let c = config("").staff;
    let dkim = crate::config::Staff {
        authentication: crate::config::StaffAuth::Dkim { authserv_id: "mx.example.test".into() },
        ..c
    };
    let with = |results: &[&str]| Inbound {
        auth_results: results.iter().map(|s| s.to_string()).collect(),
        ..mail("alice@example.test", Signature::None)
    };
    let ok = "mx.example.test; dkim=pass header.d=example.test header.s=sel; spf=pass";
    assert!(matches!(authenticate(&with(&[ok]), &dkim, &[]), StaffCheck::Authenticated { .. }));
    // An attacker's own header, from another authserv-id, proves nothing.
    let forged = "evil.test; dkim=pass header.d=example.test";
    assert!(matches!(authenticate(&with(&[forged]), &dkim, &[]), StaffCheck::Failed { .. }));
    // Our MX says fail, or passes another domain.
    assert!(matches!(
        authenticate(&with(&["mx.example.test; dkim=fail header.d=example.test"]), &dkim, &[]),
        StaffCheck::Failed { .. }
    ));
    assert!(matches!(
        authenticate(&with(&["mx.example.test; dkim=pass header.d=evil.test"]), &dkim, &[]),
        StaffCheck::Failed { .. }
    ));
    // The topmost header of our MX counts; a lower, forged one of the same id does not.
    let top_fail = "mx.example.test; dkim=none";
    assert!(matches!(authenticate(&with(&[top_fail, ok]), &dkim, &[]), StaffCheck::Failed { .. }));
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
        outcome: String::new(),
        bounty_tier: String::new(),
        bounty_paid: false,
        credit_consent: "Ada L. (https://ada.example)".into(),
        suggested_clause: None,
        erased: false,
    }
}

fn today() -> jiff::civil::Date {
    jiff::civil::date(2026, 11, 23)
}

#[test]
fn a_mails_commands_are_checked_in_order_and_apply_together_or_not_at_all() {
    let c = config("");
    let p = parse("#state accepted\n#bounty minor\n#resolved\n#disclose 2027-02-01\n#credit Ada L.\n", &c);
    let changes = plan(&view(TicketState::Triage), &p, &[], today()).unwrap();
    assert_eq!(changes.len(), 5);
    assert_eq!(changes[0], Change::State { from: TicketState::Triage, to: TicketState::Accepted });
    assert_eq!(changes[1], Change::Bounty { tier: "minor".into() });
    assert_eq!(changes[4], Change::Credit(Some("Ada L.".into())));

    // One bad line refuses the whole mail, naming every bad line.
    let p = parse("#bounty minor\n#state accepted\n#paid\n#disclose 2020-01-01\n", &c);
    let errors = plan(&view(TicketState::Triage), &p, &[], today()).unwrap_err();
    let lines: Vec<usize> = errors.iter().map(|e| e.number).collect();
    assert_eq!(lines, [1, 3, 4], "{errors:?}");
    assert!(errors[0].why.contains("still triage"));
    assert!(errors[1].why.contains("no bounty was awarded"));
    assert!(errors[2].why.contains("in the past"));
}

#[test]
fn outcomes_close_and_only_reopen_opens() {
    let c = config("");
    let existing = vec!["EX-2026-0003".to_string()];
    let p = parse("#duplicate EX-2026-0003\n#state fixing\n", &c);
    let errors = plan(&view(TicketState::Triage), &p, &existing, today()).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert!(errors[0].why.contains("closed: #reopen it first"));
    let p = parse("#duplicate EX-2026-0003\n", &c);
    assert!(plan(&view(TicketState::Triage), &p, &existing, today()).is_ok());
    let p = parse("#duplicate EX-2026-0009\n#duplicate EX-2026-0001\n", &c);
    let errors = plan(&view(TicketState::Triage), &p, &existing, today()).unwrap_err();
    assert!(errors[0].why.contains("no ticket EX-2026-0009"));
    assert!(errors[1].why.contains("cannot duplicate itself"));
    let p = parse("#reopen\n", &c);
    assert!(plan(&view(TicketState::Accepted), &p, &existing, today()).is_err());
    assert_eq!(plan(&view(TicketState::Closed), &p, &existing, today()).unwrap(), vec![Change::Reopen]);
    let p = parse("#not-applicable sub-processor Stripe\n", &c);
    match &plan(&view(TicketState::Triage), &p, &[], today()).unwrap()[0] {
        Change::Outcome { outcome, sub_processor, .. } => {
            assert_eq!((*outcome, sub_processor.as_deref()), ("not-applicable", Some("Stripe")))
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
    let c = config("");
    let p = parse("#credit Ada L.\n", &c);
    let asked_nothing = TicketView { credit_consent: String::new(), ..view(TicketState::Resolved) };
    let e = plan(&asked_nothing, &p, &[], today()).unwrap_err();
    assert!(e[0].why.contains("has not agreed"), "{e:?}");
    let declined = TicketView { credit_consent: "none".into(), ..view(TicketState::Resolved) };
    assert!(plan(&declined, &p, &[], today()).unwrap_err()[0].why.contains("declined"));
    assert_eq!(plan(&view(TicketState::Resolved), &p, &[], today()).unwrap(), [Change::Credit(Some("Ada L.".into()))]);
    // "none" is always allowed: it only records that nobody is credited.
    assert!(plan(&asked_nothing, &parse("#credit none\n", &c), &[], today()).is_ok());
    // Without a hall of fame, nobody is credited by name.
    let mut no_hof = config("");
    no_hof.recognition.hall_of_fame = false;
    assert!(parse("#credit Ada\n", &no_hof).errors[0].why.contains("credits nobody"));
}

#[test]
fn bare_not_applicable_uses_the_clause_the_report_points_to() {
    let c = config("");
    let suggested = TicketView {
        suggested_clause: Some(("sub-processor".into(), Some("Stripe".into()))),
        ..view(TicketState::Triage)
    };
    let changes = plan(&suggested, &parse("#not-applicable\n", &c), &[], today()).unwrap();
    assert_eq!(
        changes,
        [Change::Outcome {
            outcome: "not-applicable",
            detail: "sub-processor".into(),
            clause: Some("sub-processor".into()),
            sub_processor: Some("Stripe".into()),
        }]
    );
    // A clause staff name wins over the suggestion.
    let changes = plan(&suggested, &parse("#not-applicable dos\n", &c), &[], today()).unwrap();
    assert!(matches!(&changes[0], Change::Outcome { clause: Some(c), sub_processor: None, .. } if c == "dos"));
}

#[test]
fn waiting_and_erasure() {
    let c = config("");
    assert_eq!(
        plan(&view(TicketState::Triage), &parse("#waiting\nWhich browser?\n", &c), &[], today()).unwrap(),
        [Change::Waiting]
    );
    let e = plan(&view(TicketState::Triage), &parse("#waiting\n#internal\n", &c), &[], today()).unwrap_err();
    assert!(e[0].why.contains("cannot go with #internal"));
    assert!(plan(&view(TicketState::Closed), &parse("#wait\n", &c), &[], today()).is_err());
    assert_eq!(plan(&view(TicketState::Closed), &parse("#erase\n", &c), &[], today()).unwrap(), [Change::Erase]);
    let erased = TicketView { erased: true, ..view(TicketState::Closed) };
    assert!(plan(&erased, &parse("#erase\n", &c), &[], today()).unwrap_err()[0].why.contains("already erased"));
}
