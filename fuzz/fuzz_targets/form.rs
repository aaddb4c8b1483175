//! The report form parser: sections, quoting, HTML remnants, CVSS vectors, CWE identifiers; then the
//! reading of the same text as prose (as a first mail and as a reply, the first line its subject), and the
//! duplicate-search query made of its words.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let config = common::config();
    let sections = &config.report_form.sections;
    let parsed = vdpd::form::parse(&text, sections);
    let subject = text.lines().next().unwrap_or_default();
    for opening in [true, false] {
        let letter = vdpd::form::Letter {
            opening,
            subject,
            sender: "researcher@example.net",
            sender_name: subject,
            scope: &config.scope,
            ignore_urls: &[],
        };
        let _ = vdpd::form::read_prose(&text, &letter, sections, &parsed);
    }
    let doc = vdpd::search::Document { title: subject.to_string(), description: text.to_string(), ..Default::default() };
    if let Some(q) = doc.query() {
        assert!(q.split(" OR ").all(|t| t.starts_with('"') && t.ends_with('"') && t[1..t.len() - 1].chars().all(char::is_alphanumeric)));
    }
});
