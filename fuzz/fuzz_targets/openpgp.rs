//! The OpenPGP read path: decrypting (with the organisation key), verifying inline-signed and detached
//! signatures. Compression bombs and deep nesting must end as bounded errors.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use vdpd::openpgp::read;

fuzz_target!(|data: &[u8]| {
    let now = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_790_000_000);
    let org = common::org();
    let certs = [org.public().clone()];
    let limits = common::limits();
    let _ = read::decrypt(data, Some(org), &certs, &limits, now);
    let _ = read::verify_inline(data, &certs, &limits, now);
    if let Some(split) = data.iter().position(|&b| b == 0) {
        let _ = read::verify_detached(&data[..split], &data[split + 1..], &certs, now);
    }
});
