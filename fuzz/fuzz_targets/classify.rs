//! Classification of a raw message as fetched: MIME parsing, auto-reply/bounce/loop detection, the
//! reference, the OpenPGP parts, the form. Must never panic, hang or allocate without bound.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use vdpd::classify::{self, Keyring};

fuzz_target!(|data: &[u8]| {
    let config = common::config();
    let keyring = Keyring {
        org: Some(common::org()),
        certs: &[],
        held_addresses: &[],
        limits: common::limits(),
        now: std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_790_000_000),
    };
    let _ = classify::read(data, data.len(), false, &config.limits, &config.organisation, &keyring);
    // The same bytes announced as an oversized message of which only the header was fetched.
    let _ = classify::read(data, data.len().saturating_mul(64), true, &config.limits, &config.organisation, &keyring);
});
