//! OpenPGP's IO: the organisation key and staff certificates on disk ([`keys`]). Everything else — bounded
//! decryption and verification, signing and encryption, certificate checks, Autocrypt — is pure and lives in
//! the core (`vdpd_core::openpgp`), re-exported here.

pub mod keys;

pub use vdpd_core::openpgp::{
    Cert, CertInfo, MAX_OFFERED_CERT_BYTES, addresses, armored, autocrypt, binary, can_encrypt_to, cert_info,
    has_address, policy, read, sanitise_offered, shares_a_key, write,
};
