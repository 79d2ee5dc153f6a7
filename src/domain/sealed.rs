//! Secrets at rest: values sealed with the operator's master key, so a copy of the database (a
//! backup, a replica, a stolen disk) holds none of the merchants' provider credentials.
//!
//! The cipher is XChaCha20-Poly1305: its 24-byte nonce is drawn at random for every seal, which
//! stays safe for any number of values sealed by any number of nodes (no counter to keep in
//! step), and its tag refuses a value that was changed. The associated data binds a sealed value
//! to where it belongs (an account's organization, environment and provider), so a value copied
//! into another row does not open there either.
//!
//! The stored form is text: `v1:` and the base64 of the nonce followed by the ciphertext and its
//! tag. The version leaves room for another cipher, or a second key while one is rotated.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use secrecy::{ExposeSecret, SecretBox};

const VERSION: &str = "v1:";
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;

/// The operator's master key: 32 bytes that nothing prints (its `Debug` shows none of them).
pub struct MasterKey(SecretBox<[u8; 32]>);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(***)")
    }
}

/// Why a text is not a master key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be 64 hexadecimal digits, or the base64 of 32 bytes")]
pub struct MalformedKey;

/// Why a sealed value did not open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    #[error("the sealed value is not of the form v1:<base64>")]
    Malformed,
    /// The tag does not verify: another key sealed it, it was changed, or it belongs to
    /// another row. The cipher cannot tell these apart, by design.
    #[error(
        "the sealed value does not open with this master key (another key sealed it, or it \
             was changed or moved from another row)"
    )]
    Refused,
}

impl MasterKey {
    pub fn from_bytes(bytes: [u8; 32]) -> MasterKey {
        MasterKey(SecretBox::new(Box::new(bytes)))
    }

    /// A fresh key from the system's secure random source.
    pub fn generate() -> MasterKey {
        MasterKey::from_bytes(rand::random())
    }

    /// A key as an operator writes it: 64 hex digits, or the base64 of 32 bytes (standard
    /// alphabet, padded or not); surrounding whitespace is ignored.
    pub fn parse(text: &str) -> Result<MasterKey, MalformedKey> {
        let text = text.trim();
        let mut bytes = [0u8; 32];
        if text.len() == 64 && hex::decode_to_slice(text, &mut bytes).is_ok() {
            return Ok(MasterKey::from_bytes(bytes));
        }
        let decoded = SecretBox::new(Box::new(
            base64::engine::general_purpose::STANDARD_NO_PAD
                .decode(text.trim_end_matches('='))
                .map_err(|_| MalformedKey)?,
        ));
        let decoded: &Vec<u8> = decoded.expose_secret();
        if decoded.len() != 32 {
            return Err(MalformedKey);
        }
        bytes.copy_from_slice(decoded);
        Ok(MasterKey::from_bytes(bytes))
    }

    /// The key in the form a key file holds it: 64 lower-case hex digits.
    pub fn to_hex(&self) -> SecretBox<str> {
        super::hex_string(self.0.expose_secret()).into()
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(self.0.expose_secret().into())
    }

    /// Seals `plaintext` to `aad`: only this key, with the same `aad`, opens it.
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> String {
        let nonce: [u8; NONCE_LEN] = rand::random();
        let sealed = self
            .cipher()
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .expect("XChaCha20-Poly1305 seals any value shorter than 256 GiB");
        let mut raw = Vec::with_capacity(NONCE_LEN + sealed.len());
        raw.extend_from_slice(&nonce);
        raw.extend_from_slice(&sealed);
        format!("{VERSION}{}", BASE64.encode(raw))
    }

    /// Opens what [`MasterKey::seal`] made with the same `aad`.
    pub fn open(&self, sealed: &str, aad: &[u8]) -> Result<SecretBox<Vec<u8>>, OpenError> {
        let raw = sealed
            .strip_prefix(VERSION)
            .and_then(|b| BASE64.decode(b).ok())
            .filter(|raw| raw.len() >= NONCE_LEN + TAG_LEN)
            .ok_or(OpenError::Malformed)?;
        let (nonce, ciphertext) = raw.split_at(NONCE_LEN);
        let nonce = XNonce::try_from(nonce).map_err(|_| OpenError::Malformed)?;
        self.cipher()
            .decrypt(
                &nonce,
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .map(|plain| SecretBox::new(Box::new(plain)))
            .map_err(|_| OpenError::Refused)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AAD: &[u8] = b"provider account|org|test|wave";

    fn key() -> MasterKey {
        MasterKey::from_bytes([7; 32])
    }

    fn opened(key: &MasterKey, sealed: &str, aad: &[u8]) -> Result<Vec<u8>, OpenError> {
        key.open(sealed, aad).map(|s| s.expose_secret().clone())
    }

    #[test]
    fn a_sealed_value_opens_with_its_key_and_associated_data() {
        let sealed = key().seal(b"wave_sn_prod_secret", AAD);
        assert!(sealed.starts_with("v1:"), "{sealed}");
        assert!(!sealed.contains("wave_sn_prod"), "{sealed}");
        assert_eq!(
            opened(&key(), &sealed, AAD).unwrap(),
            b"wave_sn_prod_secret"
        );
        // A fresh nonce each time: the same value never seals to the same text.
        assert_ne!(sealed, key().seal(b"wave_sn_prod_secret", AAD));
    }

    #[test]
    fn a_tampered_value_is_refused() {
        let sealed = key().seal(b"wave_sn_prod_secret", AAD);
        let mut raw = BASE64.decode(&sealed[3..]).unwrap();
        for at in [0, NONCE_LEN, raw.len() - 1] {
            raw[at] ^= 1;
            let forged = format!("v1:{}", BASE64.encode(&raw));
            assert_eq!(
                opened(&key(), &forged, AAD),
                Err(OpenError::Refused),
                "{at}"
            );
            raw[at] ^= 1;
        }
        raw.pop();
        let cut = format!("v1:{}", BASE64.encode(&raw));
        assert_eq!(opened(&key(), &cut, AAD), Err(OpenError::Refused));
    }

    #[test]
    fn a_value_moved_to_another_row_is_refused() {
        let sealed = key().seal(b"wave_sn_prod_secret", AAD);
        let other = b"provider account|org|live|wave";
        assert_eq!(opened(&key(), &sealed, other), Err(OpenError::Refused));
        assert_eq!(opened(&key(), &sealed, b""), Err(OpenError::Refused));
    }

    #[test]
    fn another_key_cannot_open_it() {
        let sealed = key().seal(b"wave_sn_prod_secret", AAD);
        let other = MasterKey::from_bytes([8; 32]);
        assert_eq!(opened(&other, &sealed, AAD), Err(OpenError::Refused));
        assert_eq!(
            opened(&MasterKey::generate(), &sealed, AAD),
            Err(OpenError::Refused)
        );
    }

    #[test]
    fn malformed_stored_text_is_refused() {
        let short = format!("v1:{}", BASE64.encode([0u8; NONCE_LEN + TAG_LEN - 1]));
        let unknown_version = key().seal(b"x", AAD).replacen("v1:", "v2:", 1);
        for text in ["", "v1:", "v1:***", "plain text", &short, &unknown_version] {
            assert_eq!(
                opened(&key(), text, AAD),
                Err(OpenError::Malformed),
                "{text:?}"
            );
        }
    }

    #[test]
    fn keys_are_read_from_hex_or_base64_of_32_bytes_only() {
        let hex = "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF";
        let from_hex = MasterKey::parse(hex).unwrap();
        let b64 = BASE64.encode(from_hex.0.expose_secret());
        let from_b64 = MasterKey::parse(&format!(" {b64}\n")).unwrap();
        let unpadded = MasterKey::parse(b64.trim_end_matches('=')).unwrap();
        let sealed = from_hex.seal(b"secret", AAD);
        assert_eq!(opened(&from_b64, &sealed, AAD).unwrap(), b"secret");
        assert_eq!(opened(&unpadded, &sealed, AAD).unwrap(), b"secret");
        assert_eq!(from_hex.to_hex().expose_secret(), hex.to_lowercase());

        for bad in [
            "",
            "not a key",
            &hex[..62],
            &format!("{hex}00"),
            &hex.replace('0', "g"),
            &BASE64.encode([1u8; 31]),
            &BASE64.encode([1u8; 33]),
        ] {
            assert_eq!(MasterKey::parse(bad).err(), Some(MalformedKey), "{bad:?}");
        }
    }

    #[test]
    fn a_key_prints_nothing_of_itself() {
        let key = MasterKey::parse(&"ab".repeat(32)).unwrap();
        let shown = format!("{key:?}");
        assert!(!shown.contains("ab"), "{shown}");
    }
}
