//! The hosted checkout page: server-rendered, complete without JavaScript, in French and
//! English. `checkout` renders the page and takes its forms; `payment` answers the page's
//! status checks and serves its QR codes; `assets` serves the CSS, script and icon.

pub mod assets;
mod checkout;
mod details;
mod forms;
mod link;
mod payment;
mod poster;

use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, HeaderValue, SET_COOKIE};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder};
use askama::Template;
use uuid::Uuid;

use super::error::RETRY_AFTER_SECS;
use super::html::Plain;
use super::i18n::{Lang, Messages};
use super::security::{PagePolicy, page_headers};
use crate::domain::money::Currency;
use crate::store::StoreError;
use assets::Assets;

pub const LANG_COOKIE: &str = "caisse_lang";

/// What every page request carries besides the session: its language and layout.
pub struct PageRequest {
    pub lang: Lang,
    /// The `Set-Cookie` value when `?lang=` chose the language, so the choice sticks.
    pub lang_cookie: Option<HeaderValue>,
    /// `?embedded=1`: the compact layout for an iframe.
    pub embedded: bool,
}

#[derive(Debug, Default, serde::Deserialize)]
struct PageQuery {
    lang: Option<String>,
    embedded: Option<String>,
}

impl PageRequest {
    /// The language, by `?lang=`, then the cookie, then `Accept-Language`, then the currency
    /// (French for the CFA francs, English otherwise).
    pub fn from_request(req: &HttpRequest, currency: Option<Currency>) -> PageRequest {
        let query: PageQuery = match req.query_string() {
            "" => PageQuery::default(),
            qs => serde_urlencoded::from_str(qs).unwrap_or_default(),
        };
        let embedded = query
            .embedded
            .as_deref()
            .is_some_and(|v| v == "1" || v == "true");
        if let Some(lang) = query.lang.as_deref().and_then(Lang::parse) {
            // A year. The language code is one of two fixed words.
            let cookie = format!(
                "{LANG_COOKIE}={}; HttpOnly; SameSite=Lax; Path=/; Max-Age=31536000",
                lang.code()
            );
            return PageRequest {
                lang,
                lang_cookie: HeaderValue::from_str(&cookie).ok(),
                embedded,
            };
        }
        let lang = super::security::cookie(req, LANG_COOKIE)
            .and_then(|c| Lang::parse(c.value()))
            .or_else(|| {
                req.headers()
                    .get("accept-language")
                    .and_then(|v| v.to_str().ok())
                    .and_then(Lang::from_accept_language)
            })
            .unwrap_or(match currency {
                Some(c) if !c.is_cfa() => Lang::En,
                _ => Lang::Fr,
            });
        PageRequest {
            lang,
            lang_cookie: None,
            embedded,
        }
    }

    pub fn t(&self) -> &'static Messages {
        self.lang.messages()
    }

    /// The query string that keeps the layout across forms and redirects.
    pub fn qs(&self) -> &'static str {
        if self.embedded { "?embedded=1" } else { "" }
    }
}

/// Renders a page into a string sized for it: grown from askama's estimate, a checkout page
/// was copied several times on its way to 4 KB.
pub fn render_page(page: &impl Template) -> Result<String, askama::Error> {
    let mut out = String::with_capacity(8 * 1024);
    page.render_into(&mut out)?;
    Ok(out)
}

/// A rendered page with the headers every page carries.
pub fn html(
    status: StatusCode,
    page: Result<String, askama::Error>,
    policy: &PagePolicy<'_>,
    cookies: impl IntoIterator<Item = HeaderValue>,
) -> HttpResponse {
    let body = match page {
        Ok(body) => body,
        Err(e) => {
            tracing::error!(error = %e, "a template failed to render");
            return HttpResponse::InternalServerError().finish();
        }
    };
    let mut res = HttpResponseBuilder::new(status)
        .insert_header((
            CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        ))
        .body(body);
    let headers = res.headers_mut();
    page_headers(headers, policy);
    for c in cookies {
        headers.append(SET_COOKIE, c);
    }
    res
}

/// A 303 to `location`, as after every form.
pub fn see_other(location: &str, cookies: impl IntoIterator<Item = HeaderValue>) -> HttpResponse {
    let mut res = HttpResponse::SeeOther()
        .insert_header(("Location", location))
        .insert_header(("Cache-Control", "no-store"))
        .finish();
    for c in cookies {
        res.headers_mut().append(SET_COOKIE, c);
    }
    res
}

#[derive(Template)]
#[template(path = "not_found.html")]
struct NotFoundPage<'a> {
    t: &'a Messages,
    assets: &'a Assets,
}

/// The localized 404, for unknown and malformed ids alike.
pub fn not_found(req: &HttpRequest, assets: &Assets) -> HttpResponse {
    let page = PageRequest::from_request(req, None);
    let body = render_page(&NotFoundPage {
        t: page.t(),
        assets,
    });
    let policy = PagePolicy {
        frame_ancestors: "",
        redirect_origins: &[],
    };
    html(StatusCode::NOT_FOUND, body, &policy, page.lang_cookie)
}

#[derive(Template)]
#[template(path = "unavailable.html")]
struct UnavailablePage<'a> {
    t: &'a Messages,
    assets: &'a Assets,
    retry_url: Option<Plain<String>>,
}

/// The page for a request the store could not serve: 503 with `Retry-After` when the database
/// is unavailable (the customer is told to try again, never that their checkout does not
/// exist), 500 for any other failure. `retry` is the page to try again.
pub fn store_failed(
    req: &HttpRequest,
    assets: &Assets,
    error: &StoreError,
    retry: Option<Uuid>,
) -> HttpResponse {
    let status = match error.outage() {
        Some(_) => {
            tracing::warn!(error = %error, "the database is unavailable");
            StatusCode::SERVICE_UNAVAILABLE
        }
        None => {
            tracing::error!(error = %error, "the store failed");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    };
    let page = PageRequest::from_request(req, None);
    let body = render_page(&UnavailablePage {
        t: page.t(),
        assets,
        retry_url: retry.map(|id| Plain::built(format!("/checkout/{id}{}", page.qs()))),
    });
    let policy = PagePolicy {
        frame_ancestors: "",
        redirect_origins: &[],
    };
    let mut res = html(status, body, &policy, page.lang_cookie);
    if status == StatusCode::SERVICE_UNAVAILABLE {
        res.headers_mut().insert(
            actix_web::http::header::RETRY_AFTER,
            HeaderValue::from(RETRY_AFTER_SECS),
        );
    }
    res
}

/// A session id from the path; a malformed one names no session.
pub fn session_id(raw: &str) -> Option<Uuid> {
    Uuid::parse_str(raw).ok()
}

pub fn routes(cfg: &mut actix_web::web::ServiceConfig) {
    checkout::routes(cfg);
    forms::routes(cfg);
    link::routes(cfg);
    poster::routes(cfg);
    payment::routes(cfg);
}
