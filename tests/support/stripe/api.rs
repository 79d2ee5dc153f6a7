//! The fake's `/v1/…`: Checkout Sessions create, retrieve and expire, with Bearer keys and
//! idempotency keys as Stripe documents them.

use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::{ApiRequest, Inner, Saved, Session, State, now, random};

/// What an endpoint made of a request: status, body, and whether Stripe began it (so its result
/// is saved for an idempotency key).
struct Outcome {
    status: u16,
    body: Value,
    begun: bool,
}

fn error(status: u16, kind: &str, message: &str, param: Option<&str>) -> Outcome {
    let mut e = json!({"type": kind, "message": message});
    if let Some(p) = param {
        e["param"] = json!(p);
    }
    Outcome {
        status,
        body: json!({"error": e}),
        begun: false,
    }
}

fn invalid(message: &str, param: &str) -> Outcome {
    error(400, "invalid_request_error", message, Some(param))
}

fn done(status: u16, body: Value) -> Outcome {
    Outcome {
        status,
        body,
        begun: true,
    }
}

/// Every `/v1/…` call.
pub(super) async fn api(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<State>,
) -> HttpResponse {
    let text = |name| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let (outcome, hang, lose, outbox) = {
        let mut inner = state.lock();
        let (outcome, lose) = handle(&mut inner, &req, &body, &state.base_url);
        inner.requests.push(ApiRequest {
            method: req.method().to_string(),
            path: req.path().to_string(),
            query: req.query_string().to_string(),
            body: String::from_utf8_lossy(&body).to_string(),
            idempotency_key: text(header::HeaderName::from_static("idempotency-key")),
            authorization: text(header::AUTHORIZATION),
            content_type: text(header::CONTENT_TYPE),
            status: outcome.status,
        });
        let outbox: Vec<String> = inner.outbox.drain(..).collect();
        (outcome, inner.hang, lose, outbox)
    };
    for event in outbox {
        let state = state.clone();
        actix_web::rt::spawn(async move { state.dispatch(Some(event)).await });
    }
    if !hang.is_zero() {
        tokio::time::sleep(hang).await;
    }
    let answer = outcome.body.to_string();
    let mut res = HttpResponse::build(StatusCode::from_u16(outcome.status).unwrap());
    res.insert_header((header::CONTENT_TYPE, "application/json"));
    if lose {
        let half = answer[..answer.len() / 2].to_string();
        return res.streaming(CutOff(Some(half)));
    }
    res.body(answer)
}

/// A body that breaks after its first half: the connection lost while Stripe answered.
struct CutOff(Option<String>);

impl futures_core::Stream for CutOff {
    type Item = Result<web::Bytes, std::io::Error>;

    fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Poll::Ready(Some(match self.0.take() {
            Some(half) => Ok(web::Bytes::from(half)),
            None => Err(std::io::Error::other("the connection was lost")),
        }))
    }
}

/// The request's outcome, and whether its answer is to be lost.
fn handle(inner: &mut Inner, req: &HttpRequest, body: &[u8], base: &str) -> (Outcome, bool) {
    if let Some(status) = inner.fail_next.pop_front() {
        let (kind, message) = match status {
            429 => (
                "rate_limit_error",
                "Too many requests hit the API too quickly.",
            ),
            _ => ("api_error", "An unknown error occurred."),
        };
        return (error(status, kind, message, None), false);
    }
    let Some(account) = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .filter(|k| inner.keys.iter().any(|known| known == k))
        .map(str::to_string)
    else {
        return (
            error(
                401,
                "invalid_request_error",
                "Invalid API Key provided.",
                None,
            ),
            false,
        );
    };
    let path = req.path().to_string();
    let method = req.method().as_str().to_string();
    let mut params: Vec<(String, String)> =
        url::form_urlencoded::parse(body).into_owned().collect();
    params.sort();
    let key = req
        .headers()
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .filter(|_| method == "POST")
        .map(str::to_string);
    if let Some(key) = &key {
        if key.len() > 255 {
            return (
                invalid(
                    "Idempotency keys are at most 255 characters.",
                    "Idempotency-Key",
                ),
                false,
            );
        }
        if let Some(saved) = inner
            .saved
            .iter()
            .find(|s| s.account == account && &s.key == key)
        {
            if saved.path != path || saved.params != params {
                let message = format!(
                    "Keys for idempotent requests can only be used with the same parameters \
                     they were first used with. Try using a key other than '{key}' if you meant \
                     to execute a different request."
                );
                return (error(400, "idempotency_error", &message, None), false);
            }
            return (done(saved.status, saved.body.clone()), false);
        }
    }
    let segments: Vec<&str> = path.trim_start_matches("/v1/").split('/').collect();
    let outcome = match (method.as_str(), segments.as_slice()) {
        ("POST", ["checkout", "sessions"]) => create(inner, &account, &params, base),
        ("GET", ["checkout", "sessions", id]) => retrieve(inner, &account, id, req, base),
        ("POST", ["checkout", "sessions", id, "expire"]) => expire(inner, &account, id, base),
        _ => error(
            404,
            "invalid_request_error",
            &format!("Unrecognized request URL ({method}: {path})."),
            None,
        ),
    };
    let creation = segments == ["checkout", "sessions"] && outcome.status == 200;
    if let Some(key) = key
        && outcome.begun
    {
        inner.saved.push(Saved {
            account,
            key,
            path,
            params,
            status: outcome.status,
            body: outcome.body.clone(),
        });
    }
    let lose = creation && inner.lose_answers > 0;
    if lose {
        inner.lose_answers -= 1;
    }
    (outcome, lose)
}

const KNOWN: [&str; 10] = [
    "mode",
    "line_items[0][price_data][currency]",
    "line_items[0][price_data][unit_amount]",
    "line_items[0][price_data][product_data][name]",
    "line_items[0][quantity]",
    "success_url",
    "cancel_url",
    "client_reference_id",
    "expires_at",
    "locale",
];

const CURRENCIES: [&str; 6] = ["xof", "xaf", "usd", "eur", "gbp", "jpy"];
const LOCALES: [&str; 8] = ["auto", "fr", "en", "de", "es", "it", "ja", "pt"];

fn is_url(s: &str) -> bool {
    url::Url::parse(s).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
}

/// `POST /v1/checkout/sessions`.
fn create(inner: &mut Inner, account: &str, params: &[(String, String)], base: &str) -> Outcome {
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let mut metadata = Vec::new();
    for (k, v) in params {
        if let Some(name) = k
            .strip_prefix("metadata[")
            .and_then(|r| r.strip_suffix(']'))
        {
            if name.is_empty() || name.chars().count() > 40 || v.chars().count() > 500 {
                return invalid("Metadata keys are at most 40 characters, values 500.", k);
            }
            metadata.push((name.to_string(), v.clone()));
        } else if !KNOWN.contains(&k.as_str()) {
            return invalid(&format!("Received unknown parameter: {k}"), k);
        }
    }
    if metadata.len() > 50 {
        return invalid("Metadata has at most 50 keys.", "metadata");
    }
    match get("mode") {
        Some("payment") => {}
        Some(other) => return invalid(&format!("Invalid mode: {other} is not simulated"), "mode"),
        None => return invalid("Missing required param: mode.", "mode"),
    }
    let p = "line_items[0][price_data]";
    let Some(currency) = get(&format!("{p}[currency]")).filter(|c| CURRENCIES.contains(c)) else {
        return invalid(
            "Invalid currency: a supported lower-case ISO code is required.",
            "currency",
        );
    };
    let unit = get(&format!("{p}[unit_amount]"));
    let Some(unit_amount) = unit
        .filter(|u| u.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|u| u.parse::<i64>().ok())
        .filter(|u| *u > 0)
    else {
        return invalid(
            "Invalid integer: unit_amount must be a positive integer.",
            "unit_amount",
        );
    };
    let Some(name) = get(&format!("{p}[product_data][name]")).filter(|n| !n.trim().is_empty())
    else {
        return invalid("Missing required param: product_data[name].", "name");
    };
    let Some(quantity) = get("line_items[0][quantity]")
        .and_then(|q| q.parse::<i64>().ok())
        .filter(|q| *q > 0)
    else {
        return invalid(
            "Missing required param: line_items[0][quantity].",
            "quantity",
        );
    };
    let Some(success_url) = get("success_url").filter(|u| is_url(u)) else {
        return invalid("Not a valid URL: success_url is required.", "success_url");
    };
    let cancel_url = get("cancel_url");
    if cancel_url.is_some_and(|u| !is_url(u)) {
        return invalid("Not a valid URL", "cancel_url");
    }
    let reference = get("client_reference_id");
    if reference.is_some_and(|r| r.is_empty() || r.chars().count() > 200) {
        return invalid(
            "client_reference_id is 1 to 200 characters.",
            "client_reference_id",
        );
    }
    let created = now();
    let expires_at = match get("expires_at") {
        None => created + 24 * 3600,
        Some(e) => match e.parse::<i64>() {
            Ok(e) if (created + 30 * 60..=created + 24 * 3600).contains(&e) => e,
            _ => {
                return invalid(
                    "The `expires_at` timestamp must be between 30 minutes and 24 hours from \
                     Checkout Session creation.",
                    "expires_at",
                );
            }
        },
    };
    let locale = get("locale");
    if locale.is_some_and(|l| !LOCALES.contains(&l)) {
        return invalid("Invalid locale", "locale");
    }
    let Some(amount_total) = unit_amount.checked_mul(quantity) else {
        return invalid("The amount is too large.", "unit_amount");
    };
    let session = Session {
        id: random("cs_test_"),
        account: account.to_string(),
        amount_total,
        currency: currency.to_string(),
        name: name.to_string(),
        client_reference_id: reference.map(str::to_string),
        metadata,
        success_url: success_url.to_string(),
        cancel_url: cancel_url.map(str::to_string),
        expires_at,
        created,
        locale: locale.map(str::to_string),
        status: "open",
        payment_status: "unpaid",
        intent: None,
    };
    let answer = session.json(base, false);
    inner.sessions.push(session);
    done(200, answer)
}

fn no_such_session(id: &str) -> Outcome {
    let mut e = error(
        404,
        "invalid_request_error",
        &format!("No such checkout.session: '{id}'"),
        Some("session"),
    );
    e.body["error"]["code"] = json!("resource_missing");
    e
}

/// `GET /v1/checkout/sessions/{id}`; `expand[]=payment_intent` expands it.
fn retrieve(inner: &mut Inner, account: &str, id: &str, req: &HttpRequest, base: &str) -> Outcome {
    let expand = url::form_urlencoded::parse(req.query_string().as_bytes())
        .any(|(k, v)| (k == "expand[]" || k == "expand[0]") && v == "payment_intent");
    match inner
        .sessions
        .iter()
        .find(|s| s.id == id && s.account == account)
    {
        Some(s) => done(200, s.json(base, expand)),
        None => no_such_session(id),
    }
}

/// `POST /v1/checkout/sessions/{id}/expire`.
fn expire(inner: &mut Inner, account: &str, id: &str, base: &str) -> Outcome {
    if inner.failing_expiries {
        return error(500, "api_error", "An unknown error occurred.", None);
    }
    let Some(s) = inner
        .sessions
        .iter_mut()
        .find(|s| s.id == id && s.account == account)
    else {
        return no_such_session(id);
    };
    if s.status != "open" {
        let mut e = invalid(
            &format!(
                "This Checkout Session is {} and cannot be expired.",
                s.status
            ),
            "session",
        );
        e.begun = true;
        return e;
    }
    s.status = "expired";
    let s = s.clone();
    // Its event is sent once the answer is on its way.
    if let Some(event) = inner.event("checkout.session.expired", &s, base) {
        inner.outbox.push(event);
    }
    done(200, s.json(base, false))
}
