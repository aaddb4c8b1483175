//! The Autocrypt header (https://autocrypt.org/level1.html): how mail clients such as Thunderbird and Delta
//! Chat offer their key in every mail, and how we offer ours.

use base64::Engine;
use sequoia_openpgp::Cert;
use sequoia_openpgp::parse::Parse;

/// A key offered in an Autocrypt header.
#[derive(Debug, Clone)]
pub struct Offer {
    pub addr: String,
    pub cert: Cert,
}

/// Parses an `Autocrypt:` header value. `None` if it is malformed, has unknown critical attributes, or its
/// key does not parse (Autocrypt says to ignore such headers).
pub fn parse(value: &str) -> Option<Offer> {
    let mut addr = None;
    let mut keydata = None;
    for attr in value.split(';') {
        let (name, val) = attr.split_once('=')?;
        let name = name.trim();
        let val: String = val.split_whitespace().collect();
        match name {
            "addr" => addr = Some(val.trim().to_ascii_lowercase()),
            "keydata" => keydata = Some(val),
            "prefer-encrypt" => {}
            // Non-critical attributes start with an underscore; anything else unknown voids the header.
            n if n.starts_with('_') => {}
            _ => return None,
        }
    }
    let bytes = base64::engine::general_purpose::STANDARD.decode(keydata?.as_bytes()).ok()?;
    let cert = Cert::from_bytes(&bytes).ok()?;
    Some(Offer { addr: addr?, cert })
}

/// Our `Autocrypt:` header value for `addr`, offering `cert`. The key data is broken into 72-character
/// chunks separated by spaces (readers remove whitespace from it), so the header folds into short lines.
pub fn header(addr: &str, cert: &Cert) -> String {
    header_for(addr, &super::binary(cert))
}

/// [`header`] for a certificate already serialised ([`super::binary`]; the organisation key keeps its own).
pub fn header_for(addr: &str, binary_cert: &[u8]) -> String {
    let data = base64::engine::general_purpose::STANDARD.encode(binary_cert);
    let chunks: Vec<&str> = data.as_bytes().chunks(72).map(|c| std::str::from_utf8(c).unwrap_or_default()).collect();
    format!("addr={addr}; prefer-encrypt=mutual; keydata={}", chunks.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openpgp::keys::OrgKey;

    #[test]
    fn round_trip_and_refusals() {
        let key = OrgKey::generate("Sec <security@example.test>", None, crate::testing::now()).unwrap();
        let h = header("security@example.test", key.public());
        // Folded as a mail header would be.
        let folded = h.replace("keydata=", "keydata=\r\n ");
        let offer = parse(&folded).unwrap();
        assert_eq!(offer.addr, "security@example.test");
        assert_eq!(offer.cert.fingerprint(), key.public().fingerprint());
        assert!(parse("addr=a@b.c; keydata=!!!notbase64").is_none());
        assert!(parse("addr=a@b.c; critical-unknown=1; keydata=AAAA").is_none());
        assert!(parse("keydata=AAAA").is_none());
    }
}
