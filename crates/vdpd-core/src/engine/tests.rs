use super::*;

fn org() -> Organisation {
    Organisation {
        name: "Example".into(),
        security_address: "security@example.test".into(),
        domain: "example.test".into(),
        ticket_prefix: "EX".into(),
        policy_url: None,
        trusted_authserv_id: None,
    }
}

pub(super) fn config(extra: &str) -> Config {
    let text = format!(
        "[organisation]\nname = \"Example\"\nsecurity_address = \"security@example.test\"\nticket_prefix = \"EX\"\n\
         [smtp]\nhost = \"127.0.0.1\"\ntls = \"none\"\n[store]\npath = \"/tmp/x.sqlite\"\n[sla]\nacknowledge = \"24h\"\n{extra}"
    );
    crate::config::parse(&text, std::path::Path::new("/etc/vdpd/policy.toml"), &crate::config::TestMachine).unwrap()
}

fn mail() -> Inbound {
    Inbound {
        message_id: Some("<r1@research.test>".into()),
        sender_name: "Alice".into(),
        dedup_key: "mid:<r1@research.test>:alice@research.test".into(),
        ..Inbound::for_tests("alice@research.test", "XSS in login", "details")
    }
}

fn candidate(id: i64, participant: bool) -> ThreadCandidate {
    ThreadCandidate {
        ticket_id: id,
        reference: format!("EX-2026-{id:04}"),
        sender_is_participant: participant,
        by_header: true,
    }
}

#[test]
fn decisions() {
    let cfg = config("");
    let auto = Inbound { automatic: Some("auto-submitted: auto-replied".into()), ..mail() };
    struct Case {
        name: &'static str,
        mail: Inbound,
        facts: Facts,
        want: Decision,
    }
    let cases = vec![
        Case { name: "a first mail opens a ticket", mail: mail(), facts: Facts::default(), want: Decision::NewTicket },
        Case {
            name: "a participant's reply joins the ticket",
            mail: mail(),
            facts: Facts { candidates: vec![candidate(7, true)], ..Facts::default() },
            want: Decision::Correspondence { ticket_id: 7, reference: "EX-2026-0007".into() },
        },
        Case {
            name: "a stranger quoting a reference opens a ticket of their own",
            mail: mail(),
            facts: Facts { candidates: vec![candidate(7, false)], ..Facts::default() },
            want: Decision::NewTicket,
        },
        Case {
            name: "the first candidate the sender takes part in wins",
            mail: mail(),
            facts: Facts { candidates: vec![candidate(3, false), candidate(9, true)], ..Facts::default() },
            want: Decision::Correspondence { ticket_id: 9, reference: "EX-2026-0009".into() },
        },
        Case {
            name: "an auto-reply in a thread is dropped, not correspondence",
            mail: auto.clone(),
            facts: Facts { candidates: vec![candidate(7, true)], ..Facts::default() },
            want: Decision::Drop { reason: "auto-submitted: auto-replied".into(), ticket_id: Some(7) },
        },
        Case {
            name: "an auto-reply outside any thread is dropped",
            mail: auto,
            facts: Facts::default(),
            want: Decision::Drop { reason: "auto-submitted: auto-replied".into(), ticket_id: None },
        },
        Case {
            name: "a duplicate is a duplicate before anything else",
            mail: mail(),
            facts: Facts {
                duplicate_of: Some((12, Some(4))),
                candidates: vec![candidate(7, true)],
                sender_tickets_last_day: 99,
                ..Facts::default()
            },
            want: Decision::Duplicate { of_intake: 12, ticket_id: Some(4) },
        },
        Case {
            name: "replies are not rate limited",
            mail: mail(),
            facts: Facts { candidates: vec![candidate(7, true)], sender_tickets_last_day: 99, ..Facts::default() },
            want: Decision::Correspondence { ticket_id: 7, reference: "EX-2026-0007".into() },
        },
    ];
    for case in cases {
        assert_eq!(decide(&case.mail, &case.facts, &cfg), case.want, "{}", case.name);
    }
}

#[test]
fn the_daily_new_ticket_limit_drops_with_a_reason() {
    let cfg = config("[limits]\nnew_tickets_per_sender_per_day = 3\n");
    let facts = |n| Facts { sender_tickets_last_day: n, ..Facts::default() };
    assert_eq!(decide(&mail(), &facts(2), &cfg), Decision::NewTicket);
    match decide(&mail(), &facts(3), &cfg) {
        Decision::Drop { reason, ticket_id: None } => assert!(reason.starts_with("rate limit"), "{reason}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn auto_reply_guard() {
    let limits = Limits { auto_replies_per_ticket_per_day: 2, ..Limits::default() };
    assert!(may_auto_reply(1, &limits));
    assert!(!may_auto_reply(2, &limits));
}

#[test]
fn acknowledgement_threads_under_the_report() {
    let plan = reply_plan(Mail::Acknowledgement { form: None }, "EX-2026-0007", &mail(), &org());
    assert_eq!(plan.subject, "[EX-2026-0007] Re: XSS in login");
    assert_eq!(plan.in_reply_to.as_deref(), Some("<r1@research.test>"));
    assert_eq!(plan.references, vec!["<r1@research.test>"]);
    assert_eq!(plan.auto, Auto::Replied);
}

#[test]
fn reply_subject_does_not_pile_up_prefixes_or_leak_other_tags() {
    let m = Inbound { subject: "Re: [EX-2026-0001] RE: XSS".into(), ..mail() };
    assert_eq!(reply_plan(Mail::PublicKey, "EX-2026-0002", &m, &org()).subject, "[EX-2026-0002] Re: XSS");
    let empty = Inbound { subject: String::new(), ..mail() };
    assert_eq!(reply_plan(Mail::PublicKey, "EX-2026-0002", &empty, &org()).subject, "[EX-2026-0002] Re: your report");
}

#[test]
fn references_are_their_thread_plus_their_message_trimmed() {
    let long: Vec<String> = (0..20).map(|i| format!("<m{i}@x.test>")).collect();
    let m = Inbound { references: long, ..mail() };
    let refs = reply_plan(Mail::PublicKey, "EX-2026-0002", &m, &org()).references;
    assert_eq!(refs.len(), MAX_REFERENCES);
    assert_eq!(refs.first().map(String::as_str), Some("<m0@x.test>"));
    assert_eq!(refs.last().map(String::as_str), Some("<r1@research.test>"));
    assert_eq!(refs[refs.len() - 2], "<m19@x.test>");
}

#[test]
fn states_parse_case_insensitively_and_refuse_unknown() {
    assert_eq!("Triage".parse::<TicketState>(), Ok(TicketState::Triage));
    assert!("open".parse::<TicketState>().unwrap_err().contains("one of: new, triage"));
}

#[test]
fn key_requests_are_short_outside_tickets_and_only_with_openpgp() {
    let with_pgp = config("[openpgp]\n");
    let ask = |subject: &str, text: &str| Inbound {
        subject: subject.into(),
        body: crate::classify::Body { text: text.into(), ..Default::default() },
        ..mail()
    };
    let request = ask("PGP key?", "Hello, could you send me your public key? Thanks");
    assert_eq!(decide(&request, &Facts::default(), &with_pgp), Decision::KeyRequest);
    // In French, German and Spanish too.
    for (subject, text) in [
        ("Clé PGP", "Bonjour, pourriez-vous m'envoyer votre clé publique ? Merci"),
        ("Frage", "Hallo, könnten Sie mir Ihren öffentlichen Schlüssel schicken?"),
        ("Hola", "¿Me podrían enviar su clave PGP?"),
    ] {
        assert_eq!(decide(&ask(subject, text), &Facts::default(), &with_pgp), Decision::KeyRequest, "{text}");
    }
    // Without an organisation key there is nothing to send: it is a report like any other.
    assert_eq!(decide(&request, &Facts::default(), &config("")), Decision::NewTicket);
    // Inside a ticket it is correspondence.
    let in_thread = Facts { candidates: vec![candidate(7, true)], ..Facts::default() };
    assert!(matches!(decide(&request, &in_thread, &with_pgp), Decision::Correspondence { .. }));
    // A long report that mentions a public key is a report.
    let long = ask("Weak RSA", &format!("The public key of your API is 512 bits. {}", "Details. ".repeat(200)));
    assert_eq!(decide(&long, &Facts::default(), &with_pgp), Decision::NewTicket);
    // A short report that fills form sections is a report, even if it mentions the key.
    let form = ask("Report", "Asset: api.example.test\nDescription: the public key endpoint leaks private keys");
    assert_eq!(decide(&form, &Facts::default(), &with_pgp), Decision::NewTicket);
    // A researcher who pastes their own key is not asking for ours.
    let pasted = ask(
        "report",
        "Hello, my key:\n-----BEGIN PGP PUBLIC KEY BLOCK-----\nxjMEZ\n-----END PGP PUBLIC KEY BLOCK-----\n",
    );
    assert_eq!(decide(&pasted, &Facts::default(), &with_pgp), Decision::NewTicket);
    // Quoted text does not count towards the length.
    let quoted = ask("Re: hello", &format!("Please send your PGP key.\n{}", "> quoted line\n".repeat(200)));
    assert_eq!(decide(&quoted, &Facts::default(), &with_pgp), Decision::KeyRequest);
}

#[test]
fn form_progress_tracks_missing_mandatory_sections() {
    let sections = crate::config::ReportForm::default_sections();
    let first = form::parse("Asset: x.example\nSeverity: high", &sections);
    let p = form_progress(&[], &first, &sections, false);
    assert_eq!(p.missing, ["Description", "Steps to reproduce", "Contact name", "Contact email"]);
    assert!(p.attempted && !p.newly_complete);
    let before: Vec<(String, String)> = first.values.clone();
    let rest = form::parse(
        "Description: d\nSteps to reproduce: s\nContact name: Ada\nContact email: ada@x.example",
        &sections,
    );
    let p = form_progress(&before, &rest, &sections, false);
    assert!(p.missing.is_empty() && p.newly_complete);
    // Already complete: not "newly" again.
    assert!(!form_progress(&before, &rest, &sections, true).newly_complete);
}

/// What the form's answers establish besides the answers themselves: the flaw's asset (its first line),
/// CWE and severity with the CVSS score, and the researcher's word on credit.
#[test]
fn form_answers_classify_the_flaw_and_carry_the_credit_consent() {
    let sections = crate::config::ReportForm::default_sections();
    let text = "Asset: https://app.example.test/search\n  (the search page)\nWeakness: stored XSS, CWE-79\n\
                Severity: CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N\nCredit: anonymous\n";
    let a = form_answers(text, None, &sections, &[], false);
    assert_eq!(a.classification.asset.as_deref(), Some("https://app.example.test/search"));
    assert_eq!(a.classification.weakness.as_deref(), Some("CWE-79"));
    assert_eq!(a.classification.severity.as_deref(), Some("medium"));
    assert_eq!(a.classification.cvss_score, Some(6.1));
    assert_eq!(a.credit, Some(crate::ticket::CreditConsent::Declined));
    assert_eq!(a.answered().as_deref(), Some("Asset, Weakness, Severity, Credit"));
    assert!(a.progress.attempted && !a.progress.newly_complete);
    let named = form_answers("Credit: Ada Lovelace\n", None, &sections, &[], false);
    assert!(matches!(named.credit, Some(crate::ticket::CreditConsent::Given(_))), "{:?}", named.credit);
    let none = form_answers("Just prose, no form.", None, &sections, &[], false);
    assert_eq!((none.answered(), none.credit, none.classification), (None, None, Default::default()));
}

fn proof() -> staff::Proof {
    staff::Proof::Signature { signer: "AAAA".into(), signed_at: 0, digest: "d1".into() }
}

#[test]
fn staff_mail_is_decided_by_its_authentication() {
    let cfg = config("");
    let authenticated = Facts {
        candidates: vec![candidate(7, false)],
        staff: staff::StaffCheck::Authenticated { member: "alice@example.test".into(), proof: proof() },
        ..Facts::default()
    };
    // Staff need not be participants.
    assert_eq!(
        decide(&mail(), &authenticated, &cfg),
        Decision::Staff {
            ticket_id: 7,
            reference: "EX-2026-0007".into(),
            member: "alice@example.test".into(),
            proof: proof()
        }
    );
    let no_ticket = Facts { candidates: vec![], ..authenticated.clone() };
    assert_eq!(
        decide(&mail(), &no_ticket, &cfg),
        Decision::StaffNoTicket { member: "alice@example.test".into(), proof: proof() }
    );
    let failed = Facts {
        candidates: vec![candidate(7, true)],
        staff: staff::StaffCheck::Failed { member: "alice@example.test".into(), reason: "not signed".into() },
        ..Facts::default()
    };
    // A forged staff mail is never correspondence, even on a ticket its From takes part in.
    assert_eq!(
        decide(&mail(), &failed, &cfg),
        Decision::StaffRejected {
            member: "alice@example.test".into(),
            reason: "not signed".into(),
            ticket_id: Some(7)
        }
    );
    // Machine mail from staff (their out-of-office) is dropped like any other.
    let auto = Inbound { automatic: Some("auto-submitted: auto-replied".into()), ..mail() };
    assert!(matches!(decide(&auto, &authenticated, &cfg), Decision::Drop { .. }));
}

#[test]
fn a_signed_staff_mail_acts_only_on_the_ticket_its_signed_content_names() {
    let cfg = config("");
    let facts = Facts {
        candidates: vec![candidate(7, false)],
        staff: staff::StaffCheck::Authenticated { member: "alice@example.test".into(), proof: proof() },
        ..Facts::default()
    };
    // Its protected Subject (or a [REF] in its text) names EX-2026-0001; the headers point at 0007.
    let moved = Inbound { body_names: vec!["EX-2026-0001".into()], ..mail() };
    match decide(&moved, &facts, &cfg) {
        Decision::StaffRejected { reason, ticket_id: Some(7), .. } => {
            assert!(reason.contains("names EX-2026-0001") && reason.contains("EX-2026-0007"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    // Naming this ticket (among others) is fine, and so is naming none.
    let bound = Inbound { body_names: vec!["EX-2026-0003".into(), "EX-2026-0007".into()], ..mail() };
    assert!(matches!(decide(&bound, &facts, &cfg), Decision::Staff { ticket_id: 7, .. }));
    assert!(matches!(decide(&mail(), &facts, &cfg), Decision::Staff { ticket_id: 7, .. }));
    // DKIM proves no content: the rule is for signatures.
    let dkim = Facts {
        staff: staff::StaffCheck::Authenticated { member: "alice@example.test".into(), proof: staff::Proof::Dkim },
        ..facts
    };
    assert!(matches!(decide(&moved, &dkim, &cfg), Decision::Staff { ticket_id: 7, .. }));
    // Where the policy asks for it, a signature that names no ticket acts on none.
    let strict = config("[staff]\nsignature_must_name_ticket = true\n");
    let facts = Facts {
        staff: staff::StaffCheck::Authenticated { member: "alice@example.test".into(), proof: proof() },
        ..dkim
    };
    match decide(&mail(), &facts, &strict) {
        Decision::StaffRejected { reason, .. } => assert!(reason.contains("names no ticket"), "{reason}"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(decide(&bound, &facts, &strict), Decision::Staff { .. }));
}

#[test]
fn a_flood_of_new_reports_is_kept_but_not_answered() {
    let cfg = config("[limits]\nnew_tickets_per_hour = 3\n");
    let calm = Facts { hour_cap_reached: false, ..Facts::default() };
    assert_eq!(decide(&mail(), &calm, &cfg), Decision::NewTicket);
    let flood = Facts { hour_cap_reached: true, ..Facts::default() };
    match decide(&mail(), &flood, &cfg) {
        Decision::Flood { reason } => assert!(reason.contains("limits.new_tickets_per_hour = 3"), "{reason}"),
        other => panic!("{other:?}"),
    }
    // Correspondence on a ticket is never held back.
    let reply = Facts { candidates: vec![candidate(7, true)], ..flood };
    assert!(matches!(decide(&mail(), &reply, &cfg), Decision::Correspondence { .. }));
}

#[test]
fn report_detail_goes_in_clear_text_only_where_the_policy_allows_it() {
    let only = config("[openpgp]\nkey = \"k\"\nreport_detail = \"encrypted-only\"\n").openpgp.unwrap();
    let plain = config("[openpgp]\nkey = \"k\"\nreport_detail = \"plaintext-allowed\"\n").openpgp.unwrap();
    assert!(may_send_detail(Some(&only), true));
    assert!(!may_send_detail(Some(&only), false));
    assert!(may_send_detail(Some(&plain), false));
    assert!(may_send_detail(None, false), "without OpenPGP there is no other way");
}

/// The whole of a researcher's mail decided at once, from a snapshot of the store: a prose report under a
/// policy with a form (asked for what it lacks, and waiting for it), the same report complete, a reply that
/// completes the form, a status enquiry on a ticket waiting for the form (its words are no answer), a mail
/// we could not decrypt, and the timeline of a partly signed one.
#[test]
fn a_researchers_mail_is_one_plan() {
    use crate::classify::{Crypto, Outside};
    use crate::engine::plan::{By, Effect::*, News};
    use crate::engine::researcher::{Snapshot, TicketSnapshot, plan};
    use crate::mail::MessageKind;
    use crate::openpgp::read::Signature;
    use crate::ticket::WaitReason;
    use crate::timeline::Event;
    let form = "[report_form]\nenabled = true\ndelivery = \"with-acknowledgement\"\n\
         [[report_form.sections]]\nname = \"Asset\"\nmandatory = true\nkind = \"asset\"\n\
         [[report_form.sections]]\nname = \"Impact\"\nmandatory = true\n";
    // The diagnosis waits for the asset (a policy that says so); the impact is asked for, not waited for.
    let cfg = config(&format!("first_diagnosis = \"7 business days\"\ndiagnosis_waits_for = [\"Asset\"]\n{form}"));
    let runs_from_receipt = config(&format!("first_diagnosis = \"7 business days\"\n{form}"));
    let facts =
        super::keys::KeyFacts { held: None, signature_used_at: None, learn: None, max_signature_age_ms: 0, now: 0 };
    let new = Snapshot { ticket: None, answered: &[], key: facts, sender: Default::default() };
    let waiting = [("Asset".to_string(), "https://app.example.test/login".to_string())];
    let reply = Snapshot {
        ticket: Some(TicketSnapshot { form_complete: false, exploited: false }),
        answered: &waiting,
        key: facts,
        sender: Default::default(),
    };
    let prose = Inbound::for_tests("alice@research.test", "XSS", "The login page reflects the name parameter.");
    let whole = Inbound::for_tests(
        "alice@research.test",
        "XSS",
        "Asset: https://app.example.test/login\nImpact: session theft\n",
    );

    let p = plan(&prose, &new, &cfg);
    assert_eq!(p.journal, Decision::NewTicket.journal_entry());
    let answers = p.form().unwrap().clone();
    assert_eq!(answers.progress.missing, vec!["Asset", "Impact"]);
    // The whole plan: the ticket, the message, its timeline, the form's answers (no key offered, no
    // exploitation), then what follows.
    assert_eq!(
        p.effects,
        vec![
            OpenTicket,
            Record(MessageKind::Report),
            Timeline { by: By::Author, event: Event::TicketOpened, detail: "XSS".into() },
            Form(Box::new(answers)),
            Reindex,
            Acknowledge { with_form: true },
            Notify(News::NewReport),
            Informed,
            Wait(WaitReason::Form),
        ]
    );
    // A policy whose diagnosis waits for nothing: the form is asked for, the clock runs.
    let p = plan(&prose, &new, &runs_from_receipt);
    assert_eq!(p.steps(), vec![Acknowledge { with_form: true }, Notify(News::NewReport), Informed]);
    // The asset arrives, the impact does not: the wait is over, the form still incomplete.
    let asset_only = Inbound::for_tests("alice@research.test", "Re: [EX-2026-0001] XSS", "Asset: https://x.test/\n");
    let no_answers = Snapshot { answered: &[], ..reply };
    let p = plan(&asset_only, &no_answers, &cfg);
    assert_eq!(p.form().unwrap().progress.missing, vec!["Impact"]);
    assert!(p.has(&EndWait) && !p.has(&Wait(WaitReason::Form)), "{:?}", p.effects);

    let p = plan(&whole, &new, &cfg);
    assert_eq!(p.form().unwrap().answered().as_deref(), Some("Asset, Impact"));
    assert_eq!(p.steps(), vec![Acknowledge { with_form: false }, FormComplete, Notify(News::NewReport), Informed]);

    let rest = Inbound::for_tests("alice@research.test", "Re: [EX-2026-0001] XSS", "Impact: session theft\n");
    let p = plan(&rest, &reply, &cfg);
    assert_eq!(p.journal.status, IntakeStatus::Correspondence);
    assert_eq!(
        p.effects[..2],
        [Record(MessageKind::Reply), crate::engine::Effect::timeline(Event::ResearcherWrote, "Re: [EX-2026-0001] XSS")]
    );
    assert!(p.form().unwrap().progress.newly_complete, "the earlier answer counts");
    assert_eq!(p.steps(), vec![EndWait, FormComplete, Notify(News::ReportComplete)]);

    let asks = Inbound::for_tests("alice@research.test", "Re: [EX-2026-0001] XSS", "Any news?");
    let p = plan(&asks, &reply, &cfg);
    assert!(p.form().is_none(), "an enquiry is no answer to the form");
    assert_eq!(p.steps(), vec![AnswerEnquiry, Notify(News::StatusEnquiry)]);

    let sealed = Inbound {
        crypto: Crypto { encrypted: true, error: Some("no key for it".into()), ..Crypto::default() },
        ..prose.clone()
    };
    let p = plan(&sealed, &new, &cfg);
    assert!(p.form().is_none());
    assert_eq!(p.timeline()[1], (&By::Author, Event::OpenPgp, "could not be decrypted: no key for it"));
    // We cannot read it: the report waits on the researcher for what the diagnosis needs.
    assert!(p.has(&SendUndecryptable) && p.has(&Wait(WaitReason::Form)));
    let p = plan(&sealed, &new, &runs_from_receipt);
    assert!(p.has(&SendUndecryptable) && !p.has(&Wait(WaitReason::Form)));

    // Text beside a good signature is on the record as unsigned.
    let partly = Inbound { outside: Outside { text: "PS: unsigned".into(), ..Outside::default() }, ..prose };
    let mut partly = partly;
    partly.body.signature = Signature::Good { cert: "ABCD".into(), digest: "d".into(), signed_at: 0 };
    let note = crate::engine::researcher::crypto_note(&partly).unwrap();
    assert_eq!(note, "good signature by ABCD; partly signed: text beside the signed part was not signed");
    assert_eq!(crate::engine::researcher::crypto_note(&whole), None);
}

/// Every decision's record in the intake journal: a second delivery does not take over the dedup key of the
/// first; the reasons name what an admin reading `vdpd mail list` needs.
#[test]
fn each_decision_has_its_journal_entry() {
    use IntakeStatus::*;
    let proof = staff::Proof::Dkim;
    let rows: Vec<(Decision, IntakeStatus, &str, bool)> = vec![
        (Decision::Duplicate { of_intake: 7, ticket_id: Some(1) }, Duplicate, "second delivery of message #7", false),
        (Decision::Drop { reason: "auto-submitted".into(), ticket_id: None }, Dropped, "auto-submitted", true),
        (Decision::Flood { reason: "over the hourly cap".into() }, Held, "over the hourly cap", true),
        (Decision::NewTicket, Ticket, "", true),
        (Decision::Correspondence { ticket_id: 1, reference: "EX-2026-0001".into() }, Correspondence, "", true),
        (Decision::KeyRequest, Answered, "request for our OpenPGP key: answered with the key", true),
        (
            Decision::Staff {
                ticket_id: 1,
                reference: "EX-2026-0001".into(),
                member: "alice@example.test".into(),
                proof: proof.clone(),
            },
            Correspondence,
            "staff mail from alice@example.test",
            true,
        ),
        (
            Decision::StaffNoTicket { member: "alice@example.test".into(), proof },
            Answered,
            "staff mail from alice@example.test naming no ticket: told the sender",
            true,
        ),
        (
            Decision::StaffRejected {
                member: "bob@example.test".into(),
                reason: "no signature".into(),
                ticket_id: None,
            },
            Dropped,
            "mail from the staff address bob@example.test failed authentication: no signature",
            true,
        ),
    ];
    for (decision, status, reason, dedup) in rows {
        assert_eq!(decision.journal_entry(), JournalEntry { status, reason: reason.into(), dedup }, "{decision:?}");
    }
    assert_eq!(
        key_request_entry(Some(3)).reason,
        "request for our OpenPGP key: not answered, 3 automatic replies to this address in 24 hours"
    );
    assert_eq!("answered".parse::<IntakeStatus>(), Ok(Answered));
    assert!("ticketed".parse::<IntakeStatus>().unwrap_err().contains("one of: pending, ticket"));
}

/// A key request is answered with our key until the daily cap on automatic replies to the address, and then
/// recorded as held back with the count; it teaches nothing about a key it does not offer.
#[test]
fn a_key_request_is_one_plan() {
    let cfg = config("[limits]\nauto_replies_per_ticket_per_day = 2\n");
    let ask = Inbound { subject: "Your PGP key?".into(), ..mail() };
    let facts = keys::KeyFacts { held: None, signature_used_at: None, learn: None, max_signature_age_ms: 0, now: 0 };
    let p = key_request(&ask, &facts, 1, &cfg);
    // It offers no key: the answer is all it causes.
    let [Effect::SendKey(reply)] = &p.effects[..] else { panic!("answered below the cap: {:?}", p.effects) };
    assert_eq!((&reply.mail, reply.subject.as_str()), (&Mail::PublicKey, "Re: Your PGP key?"));
    assert_eq!(reply.in_reply_to.as_deref(), Some("<r1@research.test>"));
    assert_eq!(p.journal, key_request_entry(None));
    let held_back = key_request(&ask, &facts, 2, &cfg);
    assert!(held_back.effects.is_empty(), "{:?}", held_back.effects);
    assert_eq!(
        held_back.journal.reason,
        "request for our OpenPGP key: not answered, 2 automatic replies to this address in 24 hours"
    );
}

/// A researcher's "Exploited: yes" starts the CRA clocks, once, only under a policy with the duty, and only
/// from what a signature covers when the mail is signed; a no, an "unknown" or a policy without it starts
/// nothing. The policy refuses the section without `[cra]`.
#[test]
fn a_researchers_exploited_answer_starts_the_cra_duty() {
    use crate::classify::Outside;
    use crate::engine::researcher::{Snapshot, TicketSnapshot, plan};
    use crate::openpgp::read::Signature;
    let form = "[report_form]\nenabled = true\n\
                [[report_form.sections]]\nname = \"Asset\"\nmandatory = true\nkind = \"asset\"\n\
                [[report_form.sections]]\nname = \"Exploited in the wild\"\nkind = \"exploited\"\n";
    let cra = "[cra]\nenabled = true\ncsirt = \"CERT-FR\"\n\
               [[products]]\nid = \"app\"\nname = \"App\"\nmember_states = [\"FR\"]\n";
    let cfg = config(&format!("{form}{cra}"));
    let facts =
        super::keys::KeyFacts { held: None, signature_used_at: None, learn: None, max_signature_age_ms: 0, now: 0 };
    let new = Snapshot { ticket: None, answered: &[], key: facts, sender: Default::default() };
    let marked = Snapshot { ticket: Some(TicketSnapshot { form_complete: false, exploited: true }), ..new };
    let mail = |answer: &str| {
        Inbound::for_tests(
            "alice@research.test",
            "RCE",
            &format!("Asset: https://app.example.test/\nExploited in the wild: {answer}\n"),
        )
    };
    for (answer, want) in
        [("yes, we saw it used against a customer", true), ("Yes", true), ("no", false), ("unknown", false)]
    {
        assert_eq!(plan(&mail(answer), &new, &cfg).has(&Effect::Exploited), want, "{answer}");
    }
    assert!(!plan(&mail("yes"), &marked, &cfg).has(&Effect::Exploited), "marked already: the clocks keep their start");
    // Only what the signature covers answers the form: a "yes" beside a signed block (unsigned text, which
    // classify keeps outside the body) starts nothing; the same signed mail with the yes inside does.
    let signed = |body: &str, outside: &str| {
        let mut m = Inbound::for_tests("alice@research.test", "RCE", body);
        m.body.signature = Signature::Good { cert: "ABCD".into(), digest: "d".into(), signed_at: 0 };
        m.outside = Outside { text: outside.into(), ..Outside::default() };
        m
    };
    let beside = signed("Asset: https://app.example.test/\n", "Exploited in the wild: yes\n");
    let p = plan(&beside, &new, &cfg);
    assert!(!p.has(&Effect::Exploited));
    assert!(!p.form().unwrap().parsed.values.iter().any(|(name, _)| name.starts_with("Exploited")));
    let inside = signed("Asset: https://app.example.test/\nExploited in the wild: yes\n", "-- \nA footer\n");
    assert!(plan(&inside, &new, &cfg).has(&Effect::Exploited));
    let maybe = plan(&mail("maybe"), &new, &cfg);
    assert!(!maybe.has(&Effect::Exploited));
    assert!(maybe.form().unwrap().parsed.problems.iter().any(|(_, e)| e.contains("yes or no")));
    let err = crate::config::parse(
        &format!(
            "[organisation]\nname = \"E\"\nsecurity_address = \"security@example.test\"\nticket_prefix = \"EX\"\n\
             [smtp]\nhost = \"127.0.0.1\"\ntls = \"none\"\n[store]\npath = \"/tmp/x.sqlite\"\n[sla]\nacknowledge = \
             \"24h\"\n{form}"
        ),
        std::path::Path::new("/etc/vdpd/policy.toml"),
        &crate::config::TestMachine,
    )
    .unwrap_err();
    assert!(
        err.iter().any(|p| p.key == "report_form.sections.1.kind" && p.message.contains("[cra] enabled")),
        "{err:?}"
    );
}

#[test]
fn a_researcher_names_co_reporters_as_proposals() {
    let named = co_reporters_named(
        "Found together.\nCo-reporters: Claire Dupont <Claire@Research.Example>, bob@research.example and \
         \"Eve\" <eve@research.example>\n> Co-reporter: quoted@research.example\nCredit: Sam\n",
    );
    assert_eq!(
        named,
        [
            ("Claire Dupont".to_string(), "claire@research.example".to_string()),
            (String::new(), "bob@research.example".to_string()),
            ("Eve".to_string(), "eve@research.example".to_string()),
        ]
    );
    assert_eq!(co_reporters_named("Co-rapporteurs : jeanne@exemple.fr et paul@exemple.fr").len(), 2);
    assert!(co_reporters_named("Co-reporter: nobody, not-an-address\nMy co-reporter is Claire.").is_empty());
    let many = format!("Co-reporters: {}", (0..20).map(|i| format!("r{i}@x.example")).collect::<Vec<_>>().join(", "));
    assert_eq!(co_reporters_named(&many).len(), 5, "a mail proposes a handful, not a list");
}
