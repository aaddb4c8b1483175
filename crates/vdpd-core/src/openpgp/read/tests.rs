use std::io::Write;

use sequoia_openpgp as openpgp;

use openpgp::serialize::stream::{Compressor, Encryptor, LiteralWriter, Message, Recipient, Signer};
use openpgp::types::{CompressionAlgorithm, CompressionLevel};

use super::*;
use crate::openpgp::keys::OrgKey;
use crate::openpgp::write::sign_and_encrypt;

const LIMITS: Limits = Limits { max_plaintext: 10 * 1024 * 1024, max_ratio: 100 };

fn key(uid: &str) -> OrgKey {
    OrgKey::generate(uid, None, now()).unwrap()
}

fn now() -> SystemTime {
    crate::testing::now()
}

#[test]
fn encrypted_and_signed_round_trip_with_signature_verdicts() {
    let org = key("Sec <security@example.test>");
    let alice = key("Alice <alice@example.test>");
    // Alice writes to us: signed by her, encrypted to us.
    let ct = sign_and_encrypt(b"Asset*: example.test", &[org.public()], &alice, now()).unwrap();
    let opened = decrypt(&ct, Some(&org), std::slice::from_ref(alice.public()), &LIMITS, now()).unwrap();
    assert_eq!(opened.plaintext, b"Asset*: example.test");
    assert!(opened.encrypted);
    match &opened.signature {
        Signature::Good { cert, signed_at, digest } => {
            assert_eq!(cert, &alice.fingerprint());
            // The signature says when it was made, and has an identity of its own.
            let made = jiff::Timestamp::try_from(now()).unwrap().as_millisecond() / 1000 * 1000;
            assert_eq!(*signed_at, made);
            assert_eq!(digest.len(), 64);
        }
        other => panic!("{other:?}"),
    }
    // Without her certificate the signer is unknown, but the text is still readable.
    let opened = decrypt(&ct, Some(&org), &[], &LIMITS, now()).unwrap();
    assert_eq!(opened.signature.kind(), "unknown");
    // A certificate that is not hers does not make it good.
    let mallory = key("Mallory <m@example.test>");
    let opened = decrypt(&ct, Some(&org), std::slice::from_ref(mallory.public()), &LIMITS, now()).unwrap();
    assert_eq!(opened.signature.kind(), "unknown");
}

#[test]
fn a_message_for_someone_else_says_so() {
    let org = key("Sec <security@example.test>");
    let other = key("Other <other@example.test>");
    let alice = key("Alice <alice@example.test>");
    let ct = sign_and_encrypt(b"secret", &[other.public()], &alice, now()).unwrap();
    match decrypt(&ct, Some(&org), &[], &LIMITS, now()) {
        Err(ReadError::NotForUs { recipients }) => assert!(!recipients.is_empty()),
        other => panic!("{other:?}"),
    }
}

#[test]
fn damaged_data_is_an_error_not_a_panic() {
    let org = key("Sec <security@example.test>");
    let alice = key("Alice <alice@example.test>");
    let ct = sign_and_encrypt(b"secret text here", &[org.public()], &alice, now()).unwrap();
    let text = String::from_utf8(ct).unwrap();
    // Flip characters in the middle of the armoured body.
    let mid = text.len() / 2;
    let mut damaged = text.into_bytes();
    for b in &mut damaged[mid..mid + 8] {
        *b = if *b == b'A' { b'B' } else { b'A' };
    }
    assert!(decrypt(&damaged, Some(&org), &[], &LIMITS, now()).is_err());
    assert!(decrypt(b"not openpgp at all", Some(&org), &[], &LIMITS, now()).is_err());
    assert!(decrypt(b"", Some(&org), &[], &LIMITS, now()).is_err());
}

fn encrypt_raw(org: &OrgKey, build: impl FnOnce(Message<'_>) -> Message<'_>, payload: &[u8]) -> Vec<u8> {
    let mut sink = Vec::new();
    {
        let valid = org.public().with_policy(policy(), None).unwrap();
        let recipients: Vec<Recipient<'_>> = valid.keys().for_transport_encryption().map(Recipient::from).collect();
        let message = Message::new(&mut sink);
        let message = Encryptor::for_recipients(message, recipients).build().unwrap();
        let message = build(message);
        let mut w = LiteralWriter::new(message).build().unwrap();
        w.write_all(payload).unwrap();
        w.finalize().unwrap();
    }
    sink
}

#[test]
fn a_compression_bomb_is_refused_with_bounded_memory() {
    let org = key("Sec <security@example.test>");
    let zeros = vec![0u8; 8 * 1024 * 1024];
    let bomb = encrypt_raw(
        &org,
        |m| Compressor::new(m).algo(CompressionAlgorithm::Zip).level(CompressionLevel::best()).build().unwrap(),
        &zeros,
    );
    assert!(bomb.len() < 100 * 1024, "the bomb is small: {}", bomb.len());
    let limits = Limits { max_plaintext: 100 * 1024 * 1024, max_ratio: 10 };
    assert_eq!(decrypt(&bomb, Some(&org), &[], &limits, now()).unwrap_err(), ReadError::Bomb { ratio: 10 });
    // And a plain size cap below the ratio cap.
    let small = Limits { max_plaintext: 1024 * 1024, max_ratio: 1000 };
    assert!(matches!(decrypt(&bomb, Some(&org), &[], &small, now()), Err(ReadError::TooLarge { .. })));
}

#[test]
fn deeply_nested_packets_are_refused() {
    let org = key("Sec <security@example.test>");
    let nested = encrypt_raw(
        &org,
        |mut m| {
            for _ in 0..100 {
                m = Compressor::new(m).algo(CompressionAlgorithm::Uncompressed).build().unwrap();
            }
            m
        },
        b"deep",
    );
    let err = decrypt(&nested, Some(&org), &[], &LIMITS, now()).unwrap_err();
    assert_eq!(err, ReadError::TooDeep);
    // A normal depth is fine.
    let shallow = encrypt_raw(&org, |m| Compressor::new(m).algo(CompressionAlgorithm::Zip).build().unwrap(), b"fine");
    assert_eq!(decrypt(&shallow, Some(&org), &[], &LIMITS, now()).unwrap().plaintext, b"fine");
}

/// An armoured detached signature by `key` over `data`.
fn detached(key: &OrgKey, data: &[u8]) -> Vec<u8> {
    let mut sig = Vec::new();
    let m = Message::new(&mut sig);
    let m = openpgp::serialize::stream::Armorer::new(m).kind(openpgp::armor::Kind::Signature).build().unwrap();
    let mut s = Signer::new(m, key.signer(now()).unwrap()).unwrap().detached().creation_time(now()).build().unwrap();
    s.write_all(data).unwrap();
    s.finalize().unwrap();
    sig
}

#[test]
fn detached_and_inline_signatures() {
    let alice = key("Alice <alice@example.test>");
    let data = b"Content-Type: text/plain\r\n\r\nhello\r\n";
    let sig = detached(&alice, data);
    let certs = std::slice::from_ref(alice.public());
    let first = verify_detached(data, &sig, certs, now());
    assert!(matches!(&first, Signature::Good { cert, .. } if *cert == alice.fingerprint()), "{first:?}");
    // The same signature verified twice is the same signature (replay protection remembers this digest);
    // another signature over the same bytes is another.
    assert_eq!(verify_detached(data, &sig, certs, now()), first);
    let again = detached(&alice, data);
    let second = verify_detached(data, &again, certs, now());
    match (&first, &second) {
        (Signature::Good { digest: a, .. }, Signature::Good { digest: b, .. }) => assert_ne!(a, b),
        other => panic!("{other:?}"),
    }
    assert_eq!(verify_detached(b"tampered", &sig, certs, now()).kind(), "bad");
    assert_eq!(verify_detached(data, &sig, &[], now()).kind(), "unknown");
    assert_eq!(verify_detached(data, b"garbage", certs, now()).kind(), "bad");

    // Cleartext-signed (inline) text.
    let mut csf = Vec::new();
    {
        let m = Message::new(&mut csf);
        let mut s =
            Signer::new(m, alice.signer(now()).unwrap()).unwrap().cleartext().creation_time(now()).build().unwrap();
        s.write_all(b"Title: XSS\nAsset*: example.test\n").unwrap();
        s.finalize().unwrap();
    }
    let opened = verify_inline(&csf, certs, &LIMITS, now()).unwrap();
    assert_eq!(opened.signature.kind(), "good");
    assert!(String::from_utf8_lossy(&opened.plaintext).contains("Asset*: example.test"));
}
