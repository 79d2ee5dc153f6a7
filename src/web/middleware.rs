//! What wraps every request: its id, its log line and metrics, and the error shape of the API.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::HeaderName;
use actix_web::middleware::Next;
use actix_web::web::Data;
use tracing::Instrument;

use super::error::{ApiError, REQUEST_ID, Shaped};
use super::metrics::Metrics;

pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// A caller's own request id is kept when it is short and plain; otherwise a new one is made.
fn request_id(req: &ServiceRequest) -> String {
    req.headers()
        .get(&REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            (1..=64).contains(&v.len())
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map(str::to_string)
        // 128 random bits in 32 hex digits, the shape of a simple UUID. From the thread's
        // generator: `Uuid::new_v4` asks the kernel for every id, a system call per request.
        .unwrap_or_else(|| crate::domain::hex_string(&rand::random::<[u8; 16]>()))
}

/// Every API resource at each spelling lomi's clients use, and the one caisse serves it at.
const RESOURCES: [(&str, &str); 9] = [
    ("checkout_sessions", "checkout_sessions"),
    ("checkout-sessions", "checkout_sessions"),
    ("discount_coupons", "discount_coupons"),
    ("discount-coupons", "discount_coupons"),
    ("webhooks", "webhooks"),
    ("products", "products"),
    ("prices", "prices"),
    ("payment_links", "payment_links"),
    ("payment-links", "payment_links"),
];

/// The canonical path of an API request written another way: lomi's newer SDK says
/// `/v1/checkout-sessions`, lomi's own server documents `/checkout-sessions` without `/v1`.
/// `None` for a path that is already canonical or names no API resource (the page's
/// `/checkout/…`, provider notifications at `/providers/…`, which keep their one spelling).
pub fn canonical_api_path(path: &str) -> Option<String> {
    let (versioned, rest) = match path.strip_prefix("/v1/") {
        Some(rest) => (true, rest),
        None => (false, path.strip_prefix('/')?),
    };
    let (first, tail) = match rest.split_once('/') {
        Some((first, tail)) => (first, Some(tail)),
        None => (rest, None),
    };
    let (_, canonical) = RESOURCES.iter().find(|(spelling, _)| *spelling == first)?;
    if versioned && first == *canonical {
        return None;
    }
    Some(match tail {
        Some(tail) => ["/v1/", canonical, "/", tail].concat(),
        None => ["/v1/", canonical].concat(),
    })
}

/// Rewrites a request at another spelling of an API path to the canonical one, before routing.
fn canonicalize(req: &mut ServiceRequest) {
    let Some(path) = canonical_api_path(req.path()) else {
        return;
    };
    let uri = match req.uri().query() {
        Some(query) => [path.as_str(), "?", query].concat(),
        None => path,
    };
    if let Ok(uri) = uri.parse::<actix_web::http::Uri>() {
        req.match_info_mut().get_mut().update(&uri);
        req.head_mut().uri = uri;
    }
}

pub async fn request_context(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    canonicalize(&mut req);
    let id = request_id(&req);
    let started = Instant::now();
    let method = req.method().clone();
    // The path, never the query string: it is where a careless link could carry personal data.
    let span =
        tracing::info_span!("request", request_id = %id, method = %method, path = %req.path());
    let api = req.path().starts_with("/v1");
    let body_cut_off = super::deadline::start(&mut req);

    let mut res = REQUEST_ID
        .scope(id.clone(), next.call(req))
        .instrument(span.clone())
        .await?
        .map_into_boxed_body();
    if body_cut_off.is_some_and(|cut| cut.get()) {
        super::deadline::cut_off(&mut res);
    }
    let status = res.status();
    let mut res =
        if api && status.as_u16() >= 400 && res.response().extensions().get::<Shaped>().is_none() {
            let (req, _) = res.into_parts();
            let error = ApiError::from_status(status);
            let body = error.body(&id);
            ServiceResponse::new(req, actix_web::HttpResponse::build(status).json(body))
        } else {
            res
        };
    if let Some(v) = super::security::owned_header(id) {
        res.headers_mut().insert(REQUEST_ID_HEADER, v);
    }
    let elapsed = started.elapsed();
    // Borrowed from the request the response carries, not cloned beforehand: a clone is a
    // reference count written by every worker on every request.
    if let Some(m) = res.request().app_data::<Data<Metrics>>() {
        m.observe(method.as_str(), status.as_u16(), elapsed);
    }
    span.in_scope(|| {
        tracing::info!(
            status = status.as_u16(),
            latency_ms = elapsed.as_secs_f64() * 1000.0,
            "served"
        );
    });
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::canonical_api_path;

    #[test]
    fn api_paths_are_served_at_every_spelling() {
        for (path, canonical) in [
            ("/v1/checkout-sessions", Some("/v1/checkout_sessions")),
            ("/checkout-sessions", Some("/v1/checkout_sessions")),
            (
                "/checkout_sessions/abc/payments",
                Some("/v1/checkout_sessions/abc/payments"),
            ),
            ("/v1/discount-coupons/x", Some("/v1/discount_coupons/x")),
            ("/webhooks", Some("/v1/webhooks")),
            ("/v1/payment-links", Some("/v1/payment_links")),
            ("/payment_links", Some("/v1/payment_links")),
            ("/v1/checkout-sessions/", Some("/v1/checkout_sessions/")),
            ("/v1/checkout_sessions", None),
            ("/v1/webhooks/x", None),
            ("/checkout/abc", None),
            ("/providers/wave/abc", None),
            ("/v1/providers/wave", None),
            ("/healthz", None),
            ("/", None),
            ("", None),
        ] {
            assert_eq!(canonical_api_path(path).as_deref(), canonical, "{path}");
        }
    }
}
