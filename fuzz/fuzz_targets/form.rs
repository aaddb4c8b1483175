//! The report form parser: sections, quoting, HTML remnants, CVSS vectors, CWE identifiers.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = vdpd::form::parse(&text, &common::config().report_form.sections);
});
