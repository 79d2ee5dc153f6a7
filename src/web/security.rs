//! What keeps the checkout page safe to show: CSRF tokens on every form, and the response
//! headers that lock the page down (CSP, framing, sniffing, referrers, caching, indexing).

use std::borrow::Cow;

use actix_web::HttpRequest;
use actix_web::cookie::Cookie;
use actix_web::http::header::{self, HeaderMap, HeaderValue};

use crate::domain::hex_string;

/// The cookie of the browser's CSRF secret: random, HttpOnly, never shown to scripts. Over
/// HTTPS its name carries the `__Host-` prefix, so browsers take it only from caisse's own
/// origin, `Secure` and for the whole site: a sibling subdomain cannot plant a secret whose
/// tokens its author could read from its own view of the page.
pub fn csrf_cookie(https: bool) -> &'static str {
    if https {
        "__Host-caisse_csrf"
    } else {
        "caisse_csrf"
    }
}

/// A secret caisse could have made: 64 lower-case hex digits. Any other value is replaced.
fn is_secret(value: &str) -> bool {
    value.len() == 64
        && value
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The browser's CSRF secret from its cookie, if it holds one caisse could have made.
pub fn csrf_secret(req: &HttpRequest, https: bool) -> Option<String> {
    cookie(req, csrf_cookie(https))
        .map(|c| c.value().to_string())
        .filter(|v| is_secret(v))
}

/// The browser's CSRF secret, and the `Set-Cookie` value to send when it has none yet (or a
/// value caisse did not make). The cookie is `Secure` when caisse is served over HTTPS (its
/// public URL says so), whatever a request's own headers claim.
pub fn browser_secret(req: &HttpRequest, https: bool) -> (String, Option<HeaderValue>) {
    if let Some(secret) = csrf_secret(req, https) {
        return (secret, None);
    }
    let value = hex_string(&rand::random::<[u8; 32]>());
    // Written out rather than built with `Cookie` or `format!`: their formatters cost more
    // than the rest of the header, on every first view. The value is hex and the attributes
    // fixed.
    let attributes = if https {
        "; HttpOnly; SameSite=Lax; Path=/; Secure"
    } else {
        // The whole site, as over HTTPS: the checkout pages and the payment links' pages
        // (`/l/…`) post forms with it.
        "; HttpOnly; SameSite=Lax; Path=/"
    };
    let cookie = [csrf_cookie(https), "=", &value, attributes].concat();
    (value, owned_header(cookie))
}

/// A header value made from a string the caller built, without copying it.
pub fn owned_header(value: String) -> Option<HeaderValue> {
    HeaderValue::from_maybe_shared(actix_web::web::Bytes::from(value)).ok()
}

/// The request's cookie `name`. A request without a `Cookie` header, as every first view is,
/// is answered without parsing: actix would build and store an empty cookie list first.
pub fn cookie(req: &HttpRequest, name: &str) -> Option<Cookie<'static>> {
    if !req.headers().contains_key(header::COOKIE) {
        return None;
    }
    req.cookie(name)
}

/// Where the page's forms may send the browser, and who may frame it.
pub struct PagePolicy<'a> {
    /// Origins allowed to embed the page (`frame-ancestors`), separated by spaces; empty:
    /// nobody.
    pub frame_ancestors: &'a str,
    /// Origins a form submission may be redirected to (the merchant's success and cancel URLs).
    pub redirect_origins: &'a [Cow<'a, str>],
}

/// The policy of a page that frames nowhere and redirects nowhere.
const CLOSED_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                          connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Sets the headers every page carries. No inline script or style is allowed, and nothing is
/// loaded from anywhere but caisse itself.
pub fn page_headers(headers: &mut HeaderMap, policy: &PagePolicy<'_>) {
    let framed = policy.frame_ancestors.split_whitespace().next().is_some();
    let csp = if !framed && policy.redirect_origins.is_empty() {
        HeaderValue::from_static(CLOSED_CSP)
    } else {
        let mut csp = String::with_capacity(256);
        csp.push_str(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
             connect-src 'self'; form-action 'self'",
        );
        for (i, origin) in policy.redirect_origins.iter().enumerate() {
            // The success and cancel URLs are often on one site: name it once.
            if !policy.redirect_origins[..i].contains(origin) {
                csp.push(' ');
                csp.push_str(origin);
            }
        }
        csp.push_str("; frame-ancestors");
        if !framed {
            csp.push_str(" 'none'");
        }
        for origin in policy.frame_ancestors.split_whitespace() {
            csp.push(' ');
            csp.push_str(origin);
        }
        csp.push_str("; base-uri 'none'");
        // An origin that cannot be a header: the strictest policy rather than none.
        owned_header(csp).unwrap_or(HeaderValue::from_static(CLOSED_CSP))
    };
    headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    let fixed = |value: &'static str| HeaderValue::from_static(value);
    if !framed {
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
pub fn origin_of(url: &str) -> Option<Cow<'_, str>> {
    if let Some(origin) = plain_origin(url) {
        return Some(Cow::Borrowed(origin));
    }
    let u = url::Url::parse(url).ok()?;
    match u.origin() {
        o @ url::Origin::Tuple(..) => Some(Cow::Owned(o.ascii_serialization())),
        url::Origin::Opaque(_) => None,
    }
}

/// The origin of an `http(s)` URL whose host is already in canonical form (labels of lower-case
/// ASCII letters, digits and inner hyphens, the last starting with a letter; no user name; an
/// explicit port only when it is not the default one): the text before its path, as the URL
/// parser would give it. Every page names its merchant's URLs in its CSP, and they are nearly
/// always of this form, so the full parse is kept for the rest. One pass over the bytes.
fn plain_origin(url: &str) -> Option<&str> {
    let (default_port, rest) = if let Some(rest) = url.strip_prefix("https://") {
        ("443", rest)
    } else {
        ("80", url.strip_prefix("http://")?)
    };
    let end = rest
        .bytes()
        .position(|b| matches!(b, b'/' | b'?' | b'#'))
        .unwrap_or(rest.len());
    let authority = &rest[..end];
    let (host, port) = match authority.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    let host = host.as_bytes();
    let mut label_start = 0;
    for (i, &b) in host.iter().enumerate() {
        match b {
            b'a'..=b'z' | b'0'..=b'9' => {}
            // Not at either end of a label.
            b'-' if i > label_start && host.get(i + 1).is_some_and(|&n| n != b'.') => {}
            b'.' if i > label_start => label_start = i + 1,
            _ => return None,
        }
        // An IDNA label (`xn--`) is rewritten by the parser.
        if i == label_start + 3 && host[label_start..=i] == *b"xn--" {
            return None;
        }
    }
    // A host whose last label is a number (`1`, `0x7f`) is an IPv4 address, which the parser
    // rewrites; a name's last label starts with a letter. This also refuses an empty host and
    // a trailing dot.
    if !host.get(label_start).is_some_and(u8::is_ascii_lowercase) {
        return None;
    }
    if let Some(p) = port {
        let canonical = !p.is_empty()
            && p != default_port
            && !p.starts_with('0')
            && p.len() <= 5
            && p.bytes().all(|b| b.is_ascii_digit())
            && p.parse::<u16>().is_ok();
        if !canonical {
            return None;
        }
    }
    Some(&url[..url.len() - rest.len() + end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_browser_gets_a_secret_cookie_secure_and_host_only_over_https() {
        let req = actix_web::test::TestRequest::default().to_http_request();
        let (secret, cookie) = browser_secret(&req, false);
        assert_eq!(secret.len(), 64);
        assert_eq!(
            cookie.unwrap().to_str().unwrap(),
            format!("caisse_csrf={secret}; HttpOnly; SameSite=Lax; Path=/")
        );
        let (secret, cookie) = browser_secret(&req, true);
        assert_eq!(
            cookie.unwrap().to_str().unwrap(),
            format!("__Host-caisse_csrf={secret}; HttpOnly; SameSite=Lax; Path=/; Secure")
        );
        // A browser that has one keeps it, and is sent no cookie.
        let with = |name: &str, value: &str| {
            actix_web::test::TestRequest::default()
                .cookie(actix_web::cookie::Cookie::new(
                    name.to_string(),
                    value.to_string(),
                ))
                .to_http_request()
        };
        let (kept, cookie) = browser_secret(&with("__Host-caisse_csrf", &secret), true);
        assert_eq!(kept, secret);
        assert!(cookie.is_none());
        // Over HTTPS, a secret under the name without the prefix is not taken (a sibling
        // subdomain can set that one); nor is a value caisse could not have made.
        for (name, value) in [
            ("caisse_csrf", secret.as_str()),
            ("__Host-caisse_csrf", &"z".repeat(64)),
            ("__Host-caisse_csrf", &secret.to_uppercase()),
            ("__Host-caisse_csrf", &secret[..63]),
        ] {
            let (fresh, cookie) = browser_secret(&with(name, value), true);
            assert_ne!(fresh, value, "{name}={value}");
            assert!(cookie.is_some());
        }
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
            "https://shop-.example/a",
            "https://shop.-example/a",
            "https://a.xn--p1ai/a",
            "https://shop.example:8080",
            "https://shop.example:",
            "https://.example/a",
            "https:///a",
            "https://shop.exa_mple/a",
        ];
        for url in urls {
            let parsed = url::Url::parse(url).ok().and_then(|u| match u.origin() {
                o @ url::Origin::Tuple(..) => Some(o.ascii_serialization()),
                url::Origin::Opaque(_) => None,
            });
            if let Some(quick) = plain_origin(url) {
                assert_eq!(Some(quick.to_string()), parsed, "{url}");
            }
            assert_eq!(origin_of(url).map(Cow::into_owned), parsed, "{url}");
        }
        for (url, origin) in [
            ("https://shop.example/merci", "https://shop.example"),
            (
                "https://sub-1.shop-2.example/a/b",
                "https://sub-1.shop-2.example",
            ),
            ("http://localhost:3000/a", "http://localhost:3000"),
            ("https://shop.example?x=1", "https://shop.example"),
        ] {
            assert_eq!(plain_origin(url), Some(origin), "{url}");
        }
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
