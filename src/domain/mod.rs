//! The pure domain of caisse: the values a checkout is made of, each parsed once at the edge
//! and valid by construction. Nothing here does I/O, so everything here is unit-tested.

pub mod address;
pub mod apikey;
pub mod coupon;
pub mod csrf;
pub mod event;
pub mod fields;
pub mod money;
pub mod pricing;
pub mod provider;
pub mod session;
pub mod time;

/// Lower-case hex, written in one pass into a string of the right size.
pub fn hex_string(bytes: &[u8]) -> String {
    let mut out = vec![0; bytes.len() * 2];
    hex::encode_to_slice(bytes, &mut out).expect("the buffer is twice the input");
    String::from_utf8(out).expect("hex digits are ASCII")
}
