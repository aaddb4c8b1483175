//! What every target shares: the shipped policy and an organisation key, made once per process.
#![allow(dead_code)]

use std::path::Path;
use std::sync::OnceLock;

use vdpd::config::Config;
use vdpd::openpgp::keys::OrgKey;

pub fn config() -> &'static Config {
    static CONFIG: OnceLock<Config> = OnceLock::new();
    CONFIG.get_or_init(|| {
        vdpd::config::parse(include_str!("../../policy.toml"), Path::new("/etc/vdpd/policy.toml"))
            .expect("the shipped policy parses")
    })
}

/// The organisation's key: the OpenPGP read path decrypts with it, so fuzzed input reaches past the
/// recipient check into the packet parser and decompression.
pub fn org() -> &'static OrgKey {
    static KEY: OnceLock<OrgKey> = OnceLock::new();
    KEY.get_or_init(|| OrgKey::generate("Fuzz Security <security@example.com>", None, std::time::SystemTime::now()).expect("key generation"))
}

/// Tight limits, so that a bomb shows as a bounded error quickly instead of slowing the fuzzer.
pub fn limits() -> vdpd::openpgp::read::Limits {
    vdpd::openpgp::read::Limits { max_plaintext: 1 << 20, max_ratio: 100 }
}
