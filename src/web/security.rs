//! What keeps the checkout page safe to show: CSRF tokens on every form, and the response
//! headers that lock the page down (CSP, framing, sniffing, referrers, caching, indexing).

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use uuid::Uuid;

/// The browser's CSRF secret: random, HttpOnly, never shown to scripts.
pub const CSRF_COOKIE: &str = "caisse_csrf";

/// A CSRF token binds the browser's cookie to one session: a form from another site cannot
/// carry it (it cannot read the cookie), and a token for one session is worthless for another.
pub fn csrf_token(key: &[u8], browser_secret: &str, session: Uuid) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(browser_secret.as_bytes());
    mac.update(b".");
    mac.update(session.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

pub fn csrf_valid(key: &[u8], browser_secret: Option<&str>, session: Uuid, token: &str) -> bool {
    let Some(secret) = browser_secret.filter(|s| !s.is_empty()) else {
        return false;
    };
    let Ok(token) = hex::decode(token) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(secret.as_bytes());
    mac.update(b".");
    mac.update(session.as_bytes());
    // Constant-time comparison.
    mac.verify_slice(&token).is_ok()
}

/// The browser's CSRF secret, and a cookie to set when it has none yet.
pub fn browser_secret(req: &HttpRequest) -> (String, Option<Cookie<'static>>) {
    if let Some(c) = req.cookie(CSRF_COOKIE).filter(|c| c.value().len() == 64) {
        return (c.value().to_string(), None);
    }
    let value = hex::encode(rand::random::<[u8; 32]>());
    let cookie = Cookie::build(CSRF_COOKIE, value.clone())
        .path("/checkout")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(req.connection_info().scheme() == "https")
        .finish();
    (value, Some(cookie))
}

/// Where the page's forms may send the browser, and who may frame it.
pub struct PagePolicy<'a> {
    /// Origins allowed to embed the page (`frame-ancestors`); empty: nobody.
    pub frame_ancestors: &'a [String],
    /// Origins a form submission may be redirected to (the merchant's success and cancel URLs).
    pub redirect_origins: &'a [String],
}

/// Sets the headers every page carries. No inline script or style is allowed, and nothing is
/// loaded from anywhere but caisse itself.
pub fn page_headers(headers: &mut HeaderMap, policy: &PagePolicy<'_>) {
    let frame = if policy.frame_ancestors.is_empty() {
        "'none'".to_string()
    } else {
        policy.frame_ancestors.join(" ")
    };
    let mut form_action = vec!["'self'".to_string()];
    form_action.extend(policy.redirect_origins.iter().cloned());
    let csp = format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
         connect-src 'self'; form-action {}; frame-ancestors {frame}; base-uri 'none'",
        form_action.join(" ")
    );
    let set = |headers: &mut HeaderMap, name: header::HeaderName, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(name, v);
        }
    };
    set(headers, header::CONTENT_SECURITY_POLICY, &csp);
    if policy.frame_ancestors.is_empty() {
        set(headers, header::X_FRAME_OPTIONS, "DENY");
    }
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::REFERRER_POLICY, "no-referrer");
    set(headers, header::CACHE_CONTROL, "no-store");
    set(
        headers,
        header::HeaderName::from_static("x-robots-tag"),
        "noindex, nofollow",
    );
}

/// The origin of an absolute URL, for a CSP source list.
pub fn origin_of(url: &str) -> Option<String> {
    let u = url::Url::parse(url).ok()?;
    match u.origin() {
        o @ url::Origin::Tuple(..) => Some(o.ascii_serialization()),
        url::Origin::Opaque(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_valid_for_its_browser_and_session_only() {
        let key = b"server key";
        let s = Uuid::new_v4();
        let t = csrf_token(key, "browser-a", s);
        assert!(csrf_valid(key, Some("browser-a"), s, &t));
        assert!(!csrf_valid(key, Some("browser-b"), s, &t));
        assert!(!csrf_valid(key, Some("browser-a"), Uuid::new_v4(), &t));
        assert!(!csrf_valid(b"other key", Some("browser-a"), s, &t));
        assert!(!csrf_valid(key, None, s, &t));
        assert!(!csrf_valid(key, Some("browser-a"), s, "zz"));
    }

    #[test]
    fn origins_are_scheme_host_and_port() {
        assert_eq!(
            origin_of("https://shop.example/merci?x=1").unwrap(),
            "https://shop.example"
        );
        assert_eq!(
            origin_of("http://localhost:3000/a").unwrap(),
            "http://localhost:3000"
        );
        assert_eq!(origin_of("wave://pay"), None);
    }
}
