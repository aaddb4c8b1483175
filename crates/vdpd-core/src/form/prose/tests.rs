//! Reports as researchers write them in prose, and what the reader makes of them.

use super::*;
use crate::config::{ReportForm, Scope};

fn recognition_sections() -> Vec<FormSection> {
    let s = |name: &str, mandatory: bool, kind: SectionKind, aliases: &[&str]| FormSection {
        name: name.into(),
        mandatory,
        hint: String::new(),
        kind,
        aliases: aliases.iter().map(|a| a.to_string()).collect(),
    };
    // As in examples/recognition/policy.toml.
    vec![
        s("Description", true, SectionKind::Text, &["Details", "Vulnerability"]),
        s("URLs", true, SectionKind::Asset, &["URL", "Asset", "Component", "Components"]),
        s("Steps to reproduce", true, SectionKind::Text, &["Steps", "Reproduction", "Reproduction steps"]),
        s("Impact", false, SectionKind::Text, &["Potential impact", "Estimated impact"]),
        s("Severity", false, SectionKind::Severity, &["CVSS"]),
        s("Weakness", false, SectionKind::Weakness, &["CWE"]),
        s("Proof of concept", false, SectionKind::Text, &["PoC"]),
        s("Contact", false, SectionKind::Text, &["Contact details", "Name"]),
        s("Credit", false, SectionKind::Credit, &["Public credit", "Hall of fame"]),
    ]
}

fn scope() -> Scope {
    Scope {
        domains: vec!["mykonci.com".into()],
        assets: vec!["MyKonci API".into(), "API".into(), "dashboard".into()],
        ..Scope::default()
    }
}

fn letter<'a>(scope: &'a Scope, subject: &'a str, opening: bool) -> Letter<'a> {
    Letter {
        opening,
        subject,
        sender: "ada@research.example",
        sender_name: "Ada Lovelace",
        scope,
        ignore_urls: &["https://mykonci.com/responsible-disclosure"],
    }
}

/// The labelled reader, then the prose reader, as the engine runs them.
fn read_all(text: &str, subject: &str, sections: &[FormSection], opening: bool) -> Parsed {
    let scope = scope();
    let mut parsed = super::super::parse(text, sections);
    let understood = read(text, &letter(&scope, subject, opening), sections, &parsed);
    parsed.add_understood(understood, sections);
    parsed
}

const PROSE: &str = "\
Hello MyKonci team,

While testing your site I found a stored cross-site scripting vulnerability in the profile page at
https://app.mykonci.com/profile. The display name field is rendered without any encoding, so any
script placed in it runs in the browser of every user who views the profile (I read your policy at
https://mykonci.com/responsible-disclosure first).

To reproduce:
1. Log in and open https://app.mykonci.com/profile/edit
2. Set the display name to <img src=x onerror=alert(document.domain)>
3. Open the public profile from another account: the alert fires.

An attacker can steal session tokens of administrators who view the profile, and take over their
accounts. I would rate the severity as high.

Please credit me as Ada L. (https://ada.example).

Best regards,
Ada Lovelace
Independent researcher
ada@research.example
";

#[test]
fn a_complete_prose_report_fills_every_mandatory_section_of_the_recognition_form() {
    let sections = recognition_sections();
    let p = read_all(PROSE, "Stored XSS in the profile page", &sections, true);
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    let description = p.get("Description").unwrap();
    assert!(description.starts_with("While testing your site"), "{description}");
    assert!(!description.contains("Hello MyKonci team"), "the greeting is no description");
    // The scope's host first; the policy page is not an asset.
    let urls = p.get("URLs").unwrap();
    assert_eq!(urls.lines().next(), Some("https://app.mykonci.com/profile"));
    assert!(!urls.contains("responsible-disclosure"), "{urls}");
    let steps = p.get("Steps to reproduce").unwrap();
    assert!(steps.starts_with("1. Log in") && steps.contains("3. Open the public profile"), "{steps}");
    assert!(!steps.contains("An attacker"), "the steps end with their list: {steps}");
    assert!(p.get("Impact").unwrap().starts_with("An attacker can steal session tokens"));
    assert_eq!(p.get("Severity"), Some("high"));
    assert_eq!(p.get("Weakness"), Some("CWE-79"));
    assert_eq!(p.get("Credit"), Some("Ada L. (https://ada.example)"));
    let contact = p.get("Contact").unwrap();
    assert!(contact.starts_with("Ada Lovelace\nIndependent researcher"), "{contact}");
    // Every value says where it came from, and none counts as an attempt at the form.
    assert!(p.is_understood("URLs") && p.is_understood("Weakness"));
    assert!(!p.attempted(), "prose is no attempt at the form");
    let (_, from) = p.understood.iter().find(|(n, _)| n == "Weakness").unwrap();
    assert_eq!(from, "\"stored xss\" in the subject", "the subject is the researcher's own summary");
    // In the policy's order.
    let names: Vec<&str> = p.values.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["Description", "URLs", "Steps to reproduce", "Impact", "Severity", "Weakness", "Contact", "Credit"]
    );
}

#[test]
fn a_short_mail_is_no_report() {
    let sections = recognition_sections();
    let p =
        read_all("Hi,\n\nI found a bug on your site, do you pay bounties?\n\nThanks,\nBob\n", "bug", &sections, true);
    for missing in ["Description", "URLs", "Steps to reproduce", "Severity", "Weakness"] {
        assert_eq!(p.get(missing), None, "{missing}: {p:?}");
    }
}

#[test]
fn the_default_form_takes_title_contact_name_and_email_from_the_mail() {
    let sections = ReportForm::default_sections();
    let p = read_all(PROSE, "Stored XSS in the profile page", &sections, true);
    assert_eq!(p.get("Title"), Some("Stored XSS in the profile page"));
    assert_eq!(p.get("Asset").map(|a| a.lines().next().unwrap()), Some("https://app.mykonci.com/profile"));
    assert_eq!(p.get("Contact name"), Some("Ada Lovelace"));
    assert_eq!(p.get("Contact email"), Some("ada@research.example"));
    assert_eq!(p.get("Contact company"), None, "a company is never guessed");
    // Without a signature, the sender's name and address.
    let bare = read_all(
        "The export endpoint https://api.mykonci.com/v1/export returns every customer's invoices without \
         checking who asks for them, an IDOR on the id parameter.\n",
        "IDOR",
        &sections,
        true,
    );
    assert_eq!(bare.get("Contact name"), Some("Ada Lovelace"));
    assert_eq!(bare.get("Contact email"), Some("ada@research.example"));
    assert_eq!(bare.get("Weakness"), Some("CWE-639"));
    assert_eq!(bare.get("Title"), None, "a one-word subject is no title");
}

#[test]
fn a_reply_gives_only_what_it_names_precisely() {
    let sections = recognition_sections();
    let reply = "Thanks for the quick acknowledgement, I will send you the full details and a video tomorrow \
                 morning, after I have checked it again.\n\nMy PoC is at https://github.com/ada/poc and it \
                 affects https://dashboard.mykonci.com/settings too.\n\n1. first thing\n2. second thing\n\n\
                 > On Monday, security@mykonci.com wrote:\n> Steps to reproduce*:\n";
    let p = read_all(reply, "Re: [MK-2026-0001] Stored XSS", &sections, false);
    assert_eq!(p.get("Description"), None, "a line of thanks is no description");
    assert_eq!(p.get("URLs"), Some("https://dashboard.mykonci.com/settings"), "only in-scope links in a reply");
    assert_eq!(p.get("Steps to reproduce"), None, "a bare list in a reply may answer anything");
    // Under a heading, a reply's steps are steps.
    let p = read_all("Steps to reproduce the issue\n\n1. open\n2. click\n", "Re: x", &sections, false);
    assert_eq!(p.get("Steps to reproduce"), Some("1. open\n2. click"));
}

#[test]
fn labelled_sections_win_and_the_text_above_them_is_the_description() {
    let sections = recognition_sections();
    let text = "\
I found an SQL injection in the search API, which lets anyone read the whole customer table without logging in.

URL: https://api.mykonci.com/search?q=
Steps: send q=' OR 1=1-- and the response lists every row.
Weakness: CWE-89
";
    let p = read_all(text, "SQLi", &sections, true);
    assert!(p.attempted());
    assert_eq!(p.get("URLs"), Some("https://api.mykonci.com/search?q="));
    assert!(!p.is_understood("URLs"));
    assert!(p.get("Description").unwrap().starts_with("I found an SQL injection"));
    assert!(p.is_understood("Description"));
    assert_eq!(p.get("Weakness"), Some("CWE-89"), "the label, not the words");
    // A form without prose above it gets no description from its own lines.
    let form_only = "URL: https://api.mykonci.com/search\nSteps: send a quote and see the SQL error in the response.\nImpact: database read\n";
    assert_eq!(read_all(form_only, "SQLi", &sections, true).get("Description"), None);
}

#[test]
fn class_names_severity_words_and_vectors() {
    let w = |t: &str| weakness(t, None).map(|(v, _)| v);
    assert_eq!(w("a classic SSRF via the webhook URL"), Some("CWE-918".into()));
    assert_eq!(w("Path traversal in the download handler"), Some("CWE-22".into()));
    assert_eq!(w("unauthenticated RCE through the upload"), Some("CWE-94".into()));
    assert_eq!(w("this is CWE-352 really, although it looks like XSS"), Some("CWE-352".into()));
    assert_eq!(w("une injection SQL dans le formulaire"), Some("CWE-89".into()));
    assert_eq!(w("the forcexssx parameter"), None, "whole words only");
    assert_eq!(w("Open redirect, then XSS"), Some("CWE-601".into()), "the first class named");
    // A first mail's subject is the researcher's summary: its class counts before the text's, a CWE the
    // text names before both.
    let ws = |t: &str, subject: &str| weakness(t, Some(subject));
    assert_eq!(
        ws("the comment box keeps my SQL", "Stored XSS in comments"),
        Some(("CWE-79".into(), "\"stored xss\" in the subject".into()))
    );
    assert_eq!(ws("it is CWE-89", "Stored XSS"), Some(("CWE-89".into(), "CWE-89 in the text".into())));
    assert_eq!(ws("nothing named", "Re: thanks"), None);
    let s = |t: &str| severity(t).map(|(v, _)| v);
    assert_eq!(s("I would rate the severity as critical."), Some("critical".into()));
    assert_eq!(s("This is a high-severity issue"), Some("high".into()));
    assert_eq!(s("Risk: low"), Some("low".into()));
    assert_eq!(s("CVSS 3.1 base score 8.1"), Some("high".into()), "the version is no score");
    assert_eq!(
        s("scored CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H."),
        Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".into())
    );
    assert_eq!(s("CVSS:3.1/AV:X nonsense"), None, "a vector that does not parse is not taken");
    assert_eq!(s("a high number of requests gets you rate-limited"), None, "band words need a severity word");
    assert_eq!(s("sévérité élevée"), Some("high".into()));
}

#[test]
fn hosts_urls_and_named_assets() {
    assert_eq!(hosts("see api.mykonci.com/v1 and index.php, e.g. Node.js or v1.2.3"), vec!["api.mykonci.com"]);
    assert_eq!(
        urls("(https://a.mykonci.com/x), <https://b.example/y>. https://a.mykonci.com/x"),
        vec!["https://a.mykonci.com/x", "https://b.example/y"]
    );
    let scope = scope();
    let l = letter(&scope, "", true);
    let doc = Doc::new("The MyKonci API leaks the invoice of any customer to whoever asks for it by number.");
    assert_eq!(asset(&doc, &l).map(|(v, _)| v), Some("MyKonci API".into()), "the longest named asset");
    let doc = Doc::new("found on evil.example and on shop.mykonci.com");
    assert_eq!(asset(&doc, &l).map(|(v, _)| v), Some("shop.mykonci.com\nevil.example".into()), "in scope first");
}

#[test]
fn exploitation_is_never_inferred_and_refusals_of_credit_are_heard() {
    let mut sections = recognition_sections();
    sections.push(FormSection {
        name: "Exploited".into(),
        mandatory: false,
        hint: String::new(),
        kind: SectionKind::Exploited,
        aliases: vec![],
    });
    let p = read_all(
        "I have no evidence that this is exploited in the wild. I would prefer to remain anonymous.",
        "x",
        &sections,
        true,
    );
    assert_eq!(p.get("Exploited"), None);
    assert_eq!(p.get("Credit"), Some("none"));
}

#[test]
fn hostile_text_does_not_panic() {
    let sections = ReportForm::default_sections();
    for text in [
        "",
        "\u{130}stanbul CWE",
        "credit me as ",
        "ſtored xss CVSS 9.9.9 CVSS",
        "```\nunterminated",
        "Steps:\n\n\n",
        "-- \n",
        "İİİİ https://",
        "1.\n2.\n3.",
    ] {
        let _ = read_all(text, text, &sections, true);
        let _ = read_all(text, text, &sections, false);
    }
}

/// The sections a policy may require by name: the reproducer comes from a code block (never from a list of
/// steps), and whether AI tools were used, or how the flaw was verified, is never guessed.
#[test]
fn a_reproducer_is_code_and_ai_use_is_never_guessed() {
    let sections: Vec<FormSection> = ["reproducer", "ai-use", "verification"]
        .iter()
        .map(|w| crate::config::ReportForm::optional_section(w).unwrap())
        .collect();
    let text = "I used ChatGPT to write this up after verifying it by hand.\n\n\
                1. Open the page\n2. Type a quote\n\n\
                ```\ncurl -s 'https://api.mykonci.com/search?q=%27'\n```\n";
    let p = read_all(text, "SQL injection in search", &sections, true);
    assert_eq!(p.get("Reproducer"), Some("curl -s 'https://api.mykonci.com/search?q=%27'"));
    assert_eq!(p.get("AI tools used"), None, "what only the researcher can say");
    assert_eq!(p.get("How it was verified"), None);
    // Without a code block there is no reproducer, however many steps.
    let p = read_all("1. Open the page\n2. Type a quote\n3. See the error\n", "SQLi", &sections, true);
    assert_eq!(p.get("Reproducer"), None);
    // Labelled, each is an answer like any other.
    let p = read_all("AI tools used: none\nVerification: ran it against my own account\n", "SQLi", &sections, true);
    assert_eq!(
        (p.get("AI tools used"), p.get("How it was verified")),
        (Some("none"), Some("ran it against my own account"))
    );
}
