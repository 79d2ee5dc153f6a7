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
    let mut csp = String::with_capacity(256);
    csp.push_str(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
         connect-src 'self'; form-action 'self'",
    );
    for origin in policy.redirect_origins {
        csp.push(' ');
        csp.push_str(origin);
    }
    csp.push_str("; frame-ancestors");
    if policy.frame_ancestors.is_empty() {
        csp.push_str(" 'none'");
    }
    for origin in policy.frame_ancestors {
        csp.push(' ');
        csp.push_str(origin);
    }
    csp.push_str("; base-uri 'none'");
    if let Ok(v) = HeaderValue::from_str(&csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    let fixed = |value: &'static str| HeaderValue::from_static(value);
    if policy.frame_ancestors.is_empty() {
        headers.insert(header::X_FRAME_OPTIONS, fixed("DENY"));
    }
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, fixed("nosniff"));
    headers.insert(header::REFERRER_POLICY, fixed("no-referrer"));
    headers.insert(header::CACHE_CONTROL, fixed("no-store"));
    headers.insert(
        header::HeaderName::from_static("x-robots-tag"),
        fixed("noindex, nofollow"),
    );
}

/// The origin of an absolute URL, for a CSP source list.
pub fn origin_of(url: &str) -> Option<String> {
    if let Some(origin) = plain_origin(url) {
        return Some(origin.to_string());
    }
    let u = url::Url::parse(url).ok()?;
    match u.origin() {
        o @ url::Origin::Tuple(..) => Some(o.ascii_serialization()),
        url::Origin::Opaque(_) => None,
    }
}

/// The origin of an `http(s)` URL whose host is already in canonical form (lower-case ASCII
/// letters, digits, dots and hyphens, no user name, an explicit port only when it is not the
/// default one): the text before its path, as the URL parser would give it. Every page names
/// its merchant's URLs in its CSP, and they are nearly always of this form, so the full parse
/// is kept for the rest.
fn plain_origin(url: &str) -> Option<&str> {
    let (default_port, rest) = if let Some(rest) = url.strip_prefix("https://") {
        ("443", rest)
    } else {
        ("80", url.strip_prefix("http://")?)
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let (host, port) = match authority.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    let canonical_host = !host.is_empty()
        && !host.starts_with(['.', '-'])
        && !host.ends_with(['.', '-'])
        && !host.contains("..")
        && !host.split('.').any(|label| label.starts_with("xn--") || label.is_empty())
        // A host whose last label is a number (`1`, `0x7f`) is an IPv4 address, which the
        // parser rewrites; a name's last label starts with a letter.
        && host
            .rsplit('.')
            .next()
            .is_some_and(|tld| tld.starts_with(|c: char| c.is_ascii_lowercase()))
        && host
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
    let canonical_port = match port {
        None => true,
        Some(p) => {
            !p.is_empty()
                && p != default_port
                && !p.starts_with('0')
                && p.len() <= 5
                && p.bytes().all(|b| b.is_ascii_digit())
                && p.parse::<u16>().is_ok()
        }
    };
    (canonical_host && canonical_port).then(|| &url[..url.len() - rest.len() + end])
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
    fn the_quick_origin_is_the_parsers_origin() {
        let urls = [
            "https://shop.example/merci?cs={CHECKOUT_SESSION_ID}",
            "https://shop.example",
            "https://shop.example?x=1",
            "https://shop.example#top",
            "http://localhost:3000/a",
            "http://localhost:80/a",
            "https://shop.example:443/a",
            "https://shop.example:8443/a",
            "https://shop.example:08443/a",
            "https://Shop.Example/a",
            "https://user:pw@shop.example/a",
            "https://xn--caf-dma.example/a",
            "https://café.example/a",
            "https://127.0.0.1:8080/a",
            "https://0x7f.1/a",
            "https://shop.1/a",
            "https://1.shop/a",
            "http://localhost/a",
            "https://shop..example/a",
            "https://shop.example./a",
            "https://-shop.example/a",
            "https://[::1]:8080/a",
            "https://shop.example:99999/a",
            "https://shop.example:/a",
            "https:shop.example/a",
            "https://sub-1.shop-2.example/a/b",
        ];
        for url in urls {
            let parsed = url::Url::parse(url).ok().and_then(|u| match u.origin() {
                o @ url::Origin::Tuple(..) => Some(o.ascii_serialization()),
                url::Origin::Opaque(_) => None,
            });
            if let Some(quick) = plain_origin(url) {
                assert_eq!(Some(quick.to_string()), parsed, "{url}");
            }
            assert_eq!(origin_of(url), parsed, "{url}");
        }
        assert_eq!(
            plain_origin("https://shop.example/merci"),
            Some("https://shop.example")
        );
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
