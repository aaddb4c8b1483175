//! A corpus of form bodies as researchers write them.

use super::*;
use crate::config::ReportForm;

fn sections() -> Vec<FormSection> {
    ReportForm::default_sections()
}

fn parse_default(text: &str) -> Parsed {
    parse(text, &sections())
}

const CLEAN: &str = "\
Title: Reflected XSS on the search page
Asset*: https://app.example.com/search
Weakness: CWE-79
Severity*: high, CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:H/I:H/A:N
Description*: The q parameter is reflected without encoding.
It works in every browser.
Steps to reproduce*:
1. Open https://app.example.com/search?q=<script>alert(1)</script>
2. Step 2: observe the alert
Impact: Session theft.
Contact company: ACME Research
Contact name*: Ada Lovelace
Contact email*: ada@research.example
Credit: Ada L. (https://ada.example)
";

#[test]
fn a_clean_form_fills_every_section() {
    let p = parse_default(CLEAN);
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    assert_eq!(p.values.len(), 11);
    assert_eq!(p.get("Asset"), Some("https://app.example.com/search"));
    assert_eq!(
        p.get("Description"),
        Some("The q parameter is reflected without encoding.\nIt works in every browser.")
    );
    // "Step 2:" is not a section: it stays inside the steps.
    assert!(p.get("Steps to reproduce").unwrap().contains("2. Step 2: observe the alert"));
    assert_eq!(p.get("Contact email"), Some("ada@research.example"));
}

#[test]
fn quoted_reordered_and_differently_cased_forms_read_the_same() {
    // Upper case is fine for labels; CVSS vectors are upper case anyway.
    let quoted: String = "On Monday, security@ wrote:\n> Please fill in:\n".to_string()
        + &CLEAN.lines().rev().map(|l| format!("> {}\n", l.to_uppercase())).collect::<String>();
    let p = parse_default(&quoted);
    assert!(p.get("Asset").is_some() && p.get("Contact name").is_some() && p.get("Severity").is_some(), "{p:?}");
}

#[test]
fn markdown_bullets_bold_and_headings() {
    let md = "\
**Asset**: api.example.com
- **Severity**: CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N
## Steps to reproduce
curl https://api.example.com/admin
## Description
Unauthenticated admin API.
Contact details:
* Name: Grace Hopper
* Email address: grace@navy.example
";
    let p = parse_default(md);
    assert_eq!(p.get("Asset"), Some("api.example.com"));
    assert_eq!(p.get("Steps to reproduce"), Some("curl https://api.example.com/admin"));
    assert_eq!(p.get("Description"), Some("Unauthenticated admin API."), "the group heading ends the section");
    assert_eq!(p.get("Contact name"), Some("Grace Hopper"));
    assert_eq!(p.get("Contact email"), Some("grace@navy.example"));
    let s = severity(p.get("Severity").unwrap()).unwrap();
    assert_eq!(s.band, Severity::Critical);
    assert!(s.score.unwrap() >= 9.0);
}

#[test]
fn html_converted_text_works() {
    // What mail-parser makes of <p>Asset: x</p><p>Severity: low</p>.
    let text = "Asset: shop.example.com\n\nSeverity: Low\n\nDescription: open redirect\n";
    let p = parse_default(text);
    assert_eq!(p.get("Severity"), Some("Low"));
    assert_eq!(severity("Low").unwrap().band, Severity::Low);
}

#[test]
fn our_own_empty_form_quoted_back_is_not_an_answer() {
    let hint = sections().iter().find(|s| s.name == "Asset").unwrap().hint.clone();
    let text = format!("> Asset*:\n> ({hint})\n> Severity*:\n> Description*: <...>\n");
    let p = parse_default(&text);
    assert!(p.values.is_empty(), "{p:?}");
    assert!(!p.attempted());
}

#[test]
fn a_quoted_form_rewrapped_by_a_mail_client_is_not_an_answer_but_inline_answers_are() {
    let form = sections();
    let hint = |name: &str| form.iter().find(|s| s.name == name).unwrap().hint.clone();
    let severity = hint("Severity");
    let (severity_a, severity_b) = severity.split_at(30);
    let reply = format!(
        "> Asset*:\n> ({})\nhttps://app.example.test/\n> Severity*:\n> ({severity_a}\n> {severity_b})\n> Description*:\n> ({})\n",
        hint("Asset"),
        hint("Description")
    );
    let p = parse(&reply, &form);
    assert_eq!(p.values, vec![("Asset".to_string(), "https://app.example.test/".to_string())]);
    assert!(p.problems.is_empty(), "{p:?}");
    // The researcher's own short answer that occurs in a hint is still an answer.
    assert_eq!(parse_default("Severity: low").get("Severity"), Some("low"));
}

#[test]
fn garbage_cvss_and_bad_values_are_problems_not_values() {
    let text = "Severity: CVSS:3.1/AV:X/AC:L\nWeakness: CWE-0\nContact email: not-an-address\nAsset: x";
    let p = parse_default(text);
    let problems: Vec<&str> = p.problems.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(problems, ["Weakness", "Severity", "Contact email"]);
    assert!(p.problems[1].1.contains("does not parse"), "{:?}", p.problems);
    assert!(p.attempted());
    assert_eq!(p.get("Asset"), Some("x"));
}

#[test]
fn severity_words_and_vectors() {
    let cases = [
        ("critical", Severity::Critical, None),
        ("I'd say HIGH", Severity::High, None),
        ("moderate", Severity::Medium, None),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", Severity::Critical, Some(9.8)),
        ("low (CVSS:3.1/AV:N/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N)", Severity::Low, Some(2.0)),
    ];
    for (text, band, score) in cases {
        let s = severity(text).unwrap();
        assert_eq!(s.band, band, "{text}");
        assert_eq!(s.score, score, "{text}");
    }
    assert!(severity("it is bad").is_err());
}

#[test]
fn cwe_identifiers() {
    assert_eq!(cwe("CWE-79 (XSS)"), Some(Ok("CWE-79".into())));
    assert_eq!(cwe("cwe 89"), Some(Ok("CWE-89".into())));
    assert!(matches!(cwe("CWE-"), Some(Err(_))));
    assert!(matches!(cwe("CWE-100000"), Some(Err(_))));
    assert_eq!(cwe("cross-site scripting"), None);
}

#[test]
fn missing_sections_are_simply_absent() {
    let p = parse_default("Asset: x.example\nThanks!");
    assert_eq!(p.values.len(), 1);
    assert_eq!(p.get("Asset"), Some("x.example\nThanks!"));
}

#[test]
fn a_mail_without_any_section_is_not_an_attempt() {
    let chat = parse_default("Hi, any news about my report?\nThanks, Ada");
    assert!(chat.values.is_empty() && chat.problems.is_empty());
    assert!(!chat.attempted());
    // Contact lines in a signature are answers all the same (they are the researcher's details).
    let signed = parse_default("Any news?\n-- \nName: Ada Lovelace\nEmail: ada@research.example");
    assert_eq!(signed.get("Contact name"), Some("Ada Lovelace"));
    assert_eq!(signed.get("Contact email"), Some("ada@research.example"));
    assert!(signed.get("Description").is_none());
}

#[test]
fn placeholders_do_not_count() {
    let p = parse_default("Asset: <...>\nSeverity: TBD\nDescription: ...\n");
    assert!(p.values.is_empty(), "{p:?}");
    assert!(p.problems.is_empty(), "{p:?}");
    assert!(!p.attempted());
}

/// Found by the `form` fuzz target (fuzz/regressions/form/): characters whose upper case is longer or
/// shorter than themselves before a "cwe" made the parser slice a string inside a character.
#[test]
fn weaknesses_next_to_characters_that_change_length_in_upper_case() {
    assert_eq!(cwe("ſſſ cwe-79"), Some(Ok("CWE-79".into())));
    assert_eq!(cwe("ﬀ CWE: 89 ﬃ"), Some(Ok("CWE-89".into())));
    assert!(matches!(cwe("İİ cwe ſ"), Some(Err(e)) if e.contains("cwe ſ")));
    let crash = include_bytes!("../../../../fuzz/regressions/form/crash-0c7ffcf5695377a4a11ea4b7f52389bbfc0ed692");
    let _ = parse_default(&String::from_utf8_lossy(crash));
}
