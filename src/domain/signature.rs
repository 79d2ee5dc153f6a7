//! Signature headers of the form `t=<unix seconds>,v1=<hex>[,v1=<hex>…]`: caisse's own
//! `X-Caisse-Signature`, Wave's `Wave-Signature` and Stripe's `Stripe-Signature` all have it,
//! each `v1` an HMAC-SHA256 of what its sender signs with the timestamp (several while a secret
//! is rotated).

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// A signature header, read.
#[derive(Debug, PartialEq, Eq)]
pub struct SignatureHeader<'a> {
    /// The `t`, when there is one that is a number.
    pub timestamp: Option<i64>,
    /// Every `v1`, in order.
    signatures: Vec<&'a str>,
}

impl<'a> SignatureHeader<'a> {
    pub fn parse(header: &'a str) -> SignatureHeader<'a> {
        let mut timestamp = None;
        let mut signatures = Vec::new();
        for part in header.split(',') {
            match part.trim().split_once('=') {
                Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
                Some(("v1", v)) => signatures.push(v),
                _ => {}
            }
        }
        SignatureHeader {
            timestamp,
            signatures,
        }
    }

    /// Whether one of the `v1` is the HMAC-SHA256 under `secret` of `signed` (its parts one
    /// after the other), each compared in constant time.
    pub fn matches(&self, secret: &str, signed: &[&[u8]]) -> bool {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
            .expect("HMAC takes keys of any length");
        for part in signed {
            mac.update(part);
        }
        self.signatures
            .iter()
            .filter_map(|s| hex::decode(s).ok())
            .any(|s| mac.clone().verify_slice(&s).is_ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_gives_its_timestamp_and_any_of_its_signatures_matches() {
        let mut mac = Hmac::<Sha256>::new_from_slice(b"k").unwrap();
        mac.update(b"12.body");
        let good = hex::encode(mac.finalize().into_bytes());
        let header = format!("t=12, v1=00ff,v1={good},v0=zz");
        let read = SignatureHeader::parse(&header);
        assert_eq!(read.timestamp, Some(12));
        assert!(read.matches("k", &[b"12", b".", b"body"]));
        assert!(!read.matches("other", &[b"12", b".", b"body"]));
        assert!(!read.matches("k", &[b"12", b"body"]));
        assert_eq!(SignatureHeader::parse("v1=ab").timestamp, None);
        assert_eq!(SignatureHeader::parse("t=soon,v1=ab").timestamp, None);
    }
}
