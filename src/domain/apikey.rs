//! Secret API keys: `sk_test_…` / `sk_live_…`.
//!
//! A key is 32 random bytes in lowercase hex behind its environment prefix. Only its SHA-256 is
//! stored: the key has 256 bits of entropy, so a fast hash is as strong as a slow one here, and
//! it lets the key be found by an index lookup on every request.

use secrecy::SecretString;
use sha2::{Digest, Sha256};

use super::session::Environment;

/// A freshly generated key. The plaintext exists only here, to be shown once; it cannot be
/// printed by mistake (its `Debug` shows nothing of it).
#[derive(Debug)]
pub struct GeneratedKey {
    pub plaintext: SecretString,
    pub hash: String,
    /// The first characters, safe to show in listings and logs (`sk_test_3f9a…`).
    pub prefix: String,
}

pub fn generate(environment: Environment) -> GeneratedKey {
    let bytes: [u8; 32] = rand::random();
    let plaintext = format!("sk_{}_{}", environment.as_str(), hex::encode(bytes));
    GeneratedKey {
        hash: hash(&plaintext),
        prefix: plaintext[..plaintext.len().min(16)].to_string(),
        plaintext: plaintext.into(),
    }
}

pub fn hash(plaintext: &str) -> String {
    hex::encode(Sha256::digest(plaintext.as_bytes()))
}

/// The environment a key claims by its prefix, before it is looked up.
pub fn environment_of(plaintext: &str) -> Option<Environment> {
    if plaintext.starts_with("sk_test_") {
        Some(Environment::Test)
    } else if plaintext.starts_with("sk_live_") {
        Some(Environment::Live)
    } else {
        None
    }
}

/// A webhook signing secret, `whsec_…`, shown once like a key.
pub fn webhook_secret() -> SecretString {
    let bytes: [u8; 32] = rand::random();
    format!("whsec_{}", hex::encode(bytes)).into()
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn generated_keys_carry_their_environment_and_hash_to_the_stored_value() {
        let key = generate(Environment::Live);
        let plaintext = key.plaintext.expose_secret();
        assert!(plaintext.starts_with("sk_live_"));
        assert_eq!(plaintext.len(), "sk_live_".len() + 64);
        assert_eq!(environment_of(plaintext), Some(Environment::Live));
        assert_eq!(hash(plaintext), key.hash);
        assert!(!key.hash.contains(&plaintext[8..]));
        assert_ne!(
            generate(Environment::Live).plaintext.expose_secret(),
            plaintext
        );
    }

    #[test]
    fn a_generated_key_or_secret_prints_nothing_of_itself() {
        let key = generate(Environment::Test);
        let printed = format!("{key:?}");
        assert!(
            !printed.contains(&key.plaintext.expose_secret()[8..]),
            "{printed}"
        );
        let secret = webhook_secret();
        assert!(!format!("{secret:?}").contains(&secret.expose_secret()[6..]));
    }

    #[test]
    fn a_key_without_a_known_prefix_has_no_environment() {
        assert_eq!(environment_of("pk_test_abc"), None);
        assert_eq!(environment_of(""), None);
    }
}
