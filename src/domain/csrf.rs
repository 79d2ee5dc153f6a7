//! CSRF tokens: what proves a form was posted from caisse's own page, in the browser that was
//! shown it, for the session it was shown.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use uuid::Uuid;

use super::hex_string;

/// The key of the CSRF tokens, keyed once: HMAC-SHA256 hashes its key into two blocks before
/// any message, and every page view makes a token, so each token starts from a copy of that
/// state instead of hashing the key again.
#[derive(Clone)]
pub struct CsrfKey(Hmac<Sha256>);

impl CsrfKey {
    pub fn new(key: &[u8]) -> CsrfKey {
        CsrfKey(Hmac::new_from_slice(key).expect("HMAC takes keys of any length"))
    }

    fn mac(&self, browser_secret: &str, session: Uuid) -> Hmac<Sha256> {
        let mut mac = self.0.clone();
        mac.update(browser_secret.as_bytes());
        mac.update(b".");
        mac.update(session.as_bytes());
        mac
    }

    /// A CSRF token binds the browser's cookie to one session: a form from another site cannot
    /// carry it (it cannot read the cookie), and a token for one session is worthless for
    /// another. 64 lower-case hex digits.
    pub fn token(&self, browser_secret: &str, session: Uuid) -> String {
        hex_string(&self.mac(browser_secret, session).finalize().into_bytes())
    }

    pub fn is_valid(&self, browser_secret: Option<&str>, session: Uuid, token: &str) -> bool {
        let Some(secret) = browser_secret.filter(|s| !s.is_empty()) else {
            return false;
        };
        let Ok(token) = hex::decode(token) else {
            return false;
        };
        // Constant-time comparison.
        self.mac(secret, session).verify_slice(&token).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_valid_for_its_browser_and_session_only() {
        let key = CsrfKey::new(b"server key");
        let s = Uuid::new_v4();
        let t = key.token("browser-a", s);
        assert_eq!(t.len(), 64);
        assert!(key.is_valid(Some("browser-a"), s, &t));
        // The same token every time: the keyed state is copied, not consumed.
        assert_eq!(key.token("browser-a", s), t);
        assert!(!key.is_valid(Some("browser-b"), s, &t));
        assert!(!key.is_valid(Some("browser-a"), Uuid::new_v4(), &t));
        assert!(!CsrfKey::new(b"other key").is_valid(Some("browser-a"), s, &t));
        assert!(!key.is_valid(None, s, &t));
        assert!(!key.is_valid(Some("browser-a"), s, "zz"));
    }

    #[test]
    fn a_token_is_the_hmac_of_the_browser_secret_and_the_session() {
        let s = Uuid::new_v4();
        let mut mac = Hmac::<Sha256>::new_from_slice(b"server key").unwrap();
        mac.update(b"browser-a.");
        mac.update(s.as_bytes());
        assert_eq!(
            CsrfKey::new(b"server key").token("browser-a", s),
            hex::encode(mac.finalize().into_bytes())
        );
    }
}
