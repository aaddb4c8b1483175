//! The Rivest, Shamir, Adelman (RSA) cryptosystem.

mod keys;
pub use self::keys::{generate_keypair, PrivateKey, PublicKey};

mod pkcs1;
pub use self::pkcs1::{
    decrypt_pkcs1,
    decrypt_pkcs1_insecure, encrypt_pkcs1, sign_digest_pkcs1, sign_pkcs1,
    verify_digest_pkcs1, verify_pkcs1, Pkcs1Hash, ASN1_OID_MD2, ASN1_OID_MD5,
    ASN1_OID_RIPEMD160,
    ASN1_OID_SHA1, ASN1_OID_SHA224, ASN1_OID_SHA256, ASN1_OID_SHA384,
    ASN1_OID_SHA512,
};

mod pss;
pub use self::pss::{sign_pss, verify_pss, PssHash};
