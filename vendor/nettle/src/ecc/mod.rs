//! Types for ECs in Weierstraß form.

mod types;
pub use self::types::{Point, Scalar};

mod curves;
pub use self::curves::{
    Curve, Secp192r1, Secp224r1, Secp256r1, Secp384r1, Secp521r1,
};
