//! Card payments through Stripe Checkout, as Stripe documents it: caisse creates a Checkout
//! Session for the payment's frozen total, sends the customer to Stripe's hosted page, and
//! settles what Stripe's signed events, or a read of the session, say.
//!
//! What it relies on (docs.stripe.com; see `tests/support/stripe/mod.rs` for the sources of
//! each point):
//! - **API** (docs.stripe.com/api): one base URL, `https://api.stripe.com`
//!   (`CAISSE_STRIPE_API_URL` to point elsewhere), form-encoded request bodies (nested fields
//!   as `a[b][c]=…`), JSON answers, `Authorization: Bearer <secret key>`; errors are
//!   `{"error": {"type", "message", "code", "param"}}` with 400, 401, 402, 403, 404, 409 (a
//!   request racing another with the same idempotency key), 429 and 5xx.
//! - **Create a Checkout Session** (docs.stripe.com/api/checkout/sessions/create): `POST
//!   /v1/checkout/sessions` with `mode=payment`, `line_items[0][price_data][currency]` (lower
//!   case), `…[unit_amount]` (in the currency's smallest unit), `…[product_data][name]`,
//!   `line_items[0][quantity]`, `success_url`, `cancel_url`, `client_reference_id`,
//!   `metadata[…]`, `expires_at` (Unix seconds, **30 minutes to 24 hours after creation**) and
//!   `locale`. The answer is the session: `id` (`cs_…`) and `url`, the hosted page on
//!   `https://checkout.stripe.com` where the customer is sent.
//! - **Zero-decimal currencies** (docs.stripe.com/currencies#zero-decimal): XOF and XAF are
//!   zero-decimal (`1000` is 1 000 F CFA), USD and EUR count cents. That is caisse's own
//!   smallest unit ([`Currency::exponent`](crate::domain::money::Currency::exponent));
//!   [`to_stripe`] and [`from_stripe`] convert
//!   anyway, from Stripe's list, so that a currency where the two differ could not slip by.
//! - **Retrieve** (docs.stripe.com/api/checkout/sessions/retrieve): `GET
//!   /v1/checkout/sessions/{id}`, with `expand[]=payment_intent`; `status` is `open`,
//!   `complete` or `expired`, `payment_status` `paid`, `unpaid` or `no_payment_required`. A
//!   session completed with an asynchronous method is `complete` and `unpaid` until its
//!   payment intent settles (`succeeded`, or back to `requires_payment_method` when it
//!   failed): that read is authoritative.
//! - **Expire** (docs.stripe.com/api/checkout/sessions/expire): `POST
//!   /v1/checkout/sessions/{id}/expire` ends an `open` session; it is an error for one that is
//!   complete or already expired, which is then read and reported as it is.
//! - **Idempotent requests** (docs.stripe.com/api/idempotent_requests and /idempotency): a
//!   POST with `Idempotency-Key` has its first result saved once the endpoint begins (not when
//!   its parameters fail validation); the same key again returns that same result for at least
//!   24 hours, and the same key with other parameters is an `idempotency_error`. The key is the
//!   payment's id. **A lost answer is found again, never made twice**: the exact request is
//!   made before it is sent ([`PaymentProvider::prepare`]) and kept with the payment, so
//!   reading a payment whose session id never reached caisse (a timeout, a node killed
//!   between Stripe's answer and its own write) sends that same request again and gets the
//!   same session. Had Stripe never begun the first, this is its first run, and that one
//!   session is the payment's only one. A validation refusal of it means Stripe keeps no
//!   result for the key, so no session was ever made: it reads as expired. Stripe's list of
//!   sessions cannot be filtered by `client_reference_id`, which is why the request is kept.
//! - **Webhook signatures** (docs.stripe.com/webhooks#verify-manually): `Stripe-Signature:
//!   t=<unix>,v1=<hex>[,v1=…]`, each `v1` the HMAC-SHA256 under the endpoint's signing secret
//!   of `"<t>.<raw body>"`; any `v1` may match (a secret being rolled), a timestamp more than
//!   300 seconds away is refused (Stripe's libraries' default tolerance), and comparisons are
//!   constant-time. Delivery is at least once: duplicates settle nothing more.
//! - **Events** (docs.stripe.com/checkout/fulfillment, /api/events/types): `{"id": "evt_…",
//!   "type", "data": {"object": <session>}}`. `checkout.session.completed` with
//!   `payment_status` `paid` is money in (for `amount_total` in `currency`), `unpaid` an
//!   asynchronous payment still on its way; `checkout.session.async_payment_succeeded` and
//!   `…_failed` settle that; `checkout.session.expired` ends it unpaid. The payment is named
//!   by `client_reference_id` (or `metadata[payment_id]`).

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{
    Attempt, CALL_TIMEOUT, Credentials, Forged, Next, Notice, Notification, PaymentProvider,
    ProviderError, Says, Started, unavailable,
};
use crate::domain::payment::{Payment, Reading};
use crate::domain::signature::SignatureHeader;

mod session;

use session::{Envelope, Session, async_failure};
pub use session::{from_stripe, stripe_exponent, to_stripe};

/// The real service; tests point the adapter at a fake with `CAISSE_STRIPE_API_URL`.
pub const DEFAULT_API_URL: &str = "https://api.stripe.com";
/// Where Stripe's hosted Checkout pages are.
const PAGES: &str = "https://checkout.stripe.com";
/// How old a signed event may be.
const TOLERANCE_SECS: i64 = 300;
/// How long a session stays payable at Stripe: its `expires_at` after the payment was made,
/// within Stripe's 30 minutes to 24 hours, with room for the request to reach Stripe.
const LIFETIME: chrono::Duration = chrono::Duration::hours(1);
/// The longest product name sent (Stripe's own limit is not published; names are cut here).
const MAX_NAME: usize = 250;

pub struct Stripe {
    /// Its payment pages are Stripe's hosted Checkout (`https://checkout.stripe.com`).
    pub api: super::Service,
}

/// Stripe's refusal of a request: `{"error": {"type", "message"}}` and its status.
#[derive(Debug)]
struct Refusal {
    status: StatusCode,
    kind: String,
    message: String,
}

impl Refusal {
    fn into_error(self) -> ProviderError {
        ProviderError::Refused(format!(
            "Stripe answered {}: {}",
            self.status.as_u16(),
            if self.message.is_empty() {
                &self.kind
            } else {
                &self.message
            }
        ))
    }

    /// A request refused before Stripe began it: no result is kept for its idempotency key.
    fn never_run(&self) -> bool {
        self.status == StatusCode::BAD_REQUEST && self.kind == "invalid_request_error"
    }
}

/// What is kept on the payment before its start is sent: the exact creation request, to send
/// again with the same idempotency key when its answer is lost.
#[derive(Serialize, Deserialize)]
struct Kept {
    create: String,
}

impl Kept {
    fn of(payment: &Payment) -> Option<Kept> {
        serde_json::from_str(payment.provider_data.as_deref()?).ok()
    }

    fn to_data(&self) -> String {
        serde_json::to_string(self).expect("a string is JSON")
    }
}

/// The session's deadline at Stripe for `payment`, fixed by the payment alone so the request
/// made again is the same.
fn deadline(payment: &Payment) -> DateTime<Utc> {
    let at = payment.created_at + LIFETIME;
    DateTime::from_timestamp(at.timestamp(), 0).unwrap_or(at)
}

/// The form body of the creation request for `attempt`.
fn create_form(attempt: &Attempt<'_>) -> Result<String, ProviderError> {
    let payment = attempt.payment;
    let unit_amount = to_stripe(payment.amount, payment.currency).ok_or_else(|| {
        ProviderError::Refused(format!(
            "{} {} has no exact amount at Stripe",
            payment.amount,
            payment.currency.code()
        ))
    })?;
    if unit_amount <= 0 {
        return Err(ProviderError::Refused(
            "Stripe takes positive amounts only".into(),
        ));
    }
    let title = attempt.session.fields.title.trim();
    let name: String = if title.is_empty() {
        payment.short_id()
    } else {
        title.chars().take(MAX_NAME).collect()
    };
    let locale = match attempt.lang {
        "fr" => "fr",
        "en" => "en",
        _ => "auto",
    };
    let id = payment.id.to_string();
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    form.append_pair("mode", "payment")
        .append_pair(
            "line_items[0][price_data][currency]",
            &payment.currency.code().to_ascii_lowercase(),
        )
        .append_pair(
            "line_items[0][price_data][unit_amount]",
            &unit_amount.to_string(),
        )
        .append_pair("line_items[0][price_data][product_data][name]", &name)
        .append_pair("line_items[0][quantity]", "1")
        .append_pair("success_url", &attempt.success_url)
        .append_pair("cancel_url", &attempt.error_url)
        .append_pair("client_reference_id", &id)
        .append_pair("metadata[payment_id]", &id)
        .append_pair("expires_at", &deadline(payment).timestamp().to_string())
        .append_pair("locale", locale);
    Ok(form.finish())
}

/// What a payment for which Stripe made no session reads as. With its creation request kept,
/// Stripe refused that request itself and keeps nothing for the key: nothing can be paid.
/// Without one, its start never got as far as Stripe; once that start is over, nothing can be
/// paid either.
fn never_made(payment: &Payment) -> Reading {
    let start_over =
        payment.created_at + chrono::Duration::from_std(CALL_TIMEOUT * 2).expect("short");
    if Kept::of(payment).is_some() || Utc::now() > start_over {
        Reading::Expired
    } else {
        Reading::Pending
    }
}

/// Whether `header` (`t=<unix>,v1=<hex>[,v1=<hex>…]`) signs `body` with `secret` within
/// [`TOLERANCE_SECS`] of `now`: each `v1` over `"<t>.<raw body>"`.
pub fn signature_verifies(secret: &str, header: &str, body: &[u8], now: i64) -> Result<(), Forged> {
    let header = SignatureHeader::parse(header);
    let t = header
        .timestamp
        .ok_or(Forged("Stripe-Signature has no timestamp"))?;
    if now.abs_diff(t) > TOLERANCE_SECS.unsigned_abs() {
        return Err(Forged("Stripe-Signature is too old"));
    }
    if header.matches(secret, &[t.to_string().as_bytes(), b".", body]) {
        Ok(())
    } else {
        Err(Forged("Stripe-Signature does not match"))
    }
}

impl Stripe {
    pub fn new(base: &str) -> Stripe {
        Stripe {
            api: super::Service::new(base, DEFAULT_API_URL, PAGES),
        }
    }

    /// Sends `request` with the account's key: the session answered, Stripe's refusal (a 4xx),
    /// or no usable answer (5xx, 429, a 409 racing the same key, a failed connection).
    async fn send(
        &self,
        request: reqwest::RequestBuilder,
        credentials: &Credentials,
    ) -> Result<Result<Session, Refusal>, ProviderError> {
        let res = request
            .bearer_auth(credentials.get("secret_key"))
            .send()
            .await
            .map_err(unavailable)?;
        let status = res.status();
        if status.is_server_error()
            || status == StatusCode::TOO_MANY_REQUESTS
            || status == StatusCode::CONFLICT
        {
            return Err(ProviderError::Unavailable(format!(
                "Stripe answered {status}"
            )));
        }
        let bytes = res.bytes().await.map_err(unavailable)?;
        if !status.is_success() {
            let error = serde_json::from_slice::<Value>(&bytes).unwrap_or(Value::Null);
            let text = |f: &str| error["error"][f].as_str().unwrap_or_default().to_string();
            return Ok(Err(Refusal {
                status,
                kind: text("type"),
                message: text("message"),
            }));
        }
        serde_json::from_slice(&bytes).map(Ok).map_err(unavailable)
    }

    /// `POST /v1/checkout/sessions` with the payment's id as idempotency key.
    async fn create(
        &self,
        credentials: &Credentials,
        payment: &Payment,
        form: &str,
    ) -> Result<Result<Session, Refusal>, ProviderError> {
        let request = self
            .api
            .http
            .post(format!("{}/v1/checkout/sessions", self.api.url))
            .header("Idempotency-Key", payment.id.to_string())
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(form.to_string());
        self.send(request, credentials).await
    }

    async fn retrieve(
        &self,
        credentials: &Credentials,
        id: &str,
    ) -> Result<Session, ProviderError> {
        let request = self
            .api
            .http
            .get(format!("{}/v1/checkout/sessions/{id}", self.api.url))
            .query(&[("expand[]", "payment_intent")]);
        self.send(request, credentials)
            .await?
            .map_err(Refusal::into_error)
    }

    /// Stripe's session of a payment, as it is now: by its id when caisse recorded it, else by
    /// the kept creation request sent again under the same idempotency key. `None` when no
    /// session was ever made for it.
    async fn find(
        &self,
        credentials: &Credentials,
        payment: &Payment,
    ) -> Result<Option<Session>, ProviderError> {
        let id = match payment
            .provider_reference
            .as_deref()
            .filter(|r| r.starts_with("cs_"))
        {
            Some(id) => id.to_string(),
            None => {
                let Some(kept) = Kept::of(payment) else {
                    return Ok(None);
                };
                match self.create(credentials, payment, &kept.create).await? {
                    Ok(session) => session.id,
                    Err(refusal) if refusal.never_run() => return Ok(None),
                    Err(refusal) => return Err(refusal.into_error()),
                }
            }
        };
        self.retrieve(credentials, &id).await.map(Some)
    }
}

#[async_trait::async_trait]
impl PaymentProvider for Stripe {
    fn prepare(&self, attempt: &Attempt<'_>) -> Option<String> {
        let create = create_form(attempt).ok()?;
        Some(Kept { create }.to_data())
    }

    async fn start(
        &self,
        credentials: &Credentials,
        attempt: &Attempt<'_>,
    ) -> Result<Started, ProviderError> {
        let payment = attempt.payment;
        let kept = match Kept::of(payment) {
            Some(kept) => kept,
            None => Kept {
                create: create_form(attempt)?,
            },
        };
        let session = self
            .create(credentials, payment, &kept.create)
            .await?
            .map_err(Refusal::into_error)?;
        let url = session
            .url
            .clone()
            .ok_or_else(|| ProviderError::Unavailable("Stripe's session has no url".into()))?;
        let expires_at = session
            .expires_at
            .and_then(|t| DateTime::from_timestamp(t, 0))
            .unwrap_or_else(|| deadline(payment));
        Ok(Started {
            reference: Some(session.id),
            next: Next::Redirect(url),
            expires_at: Some(expires_at),
            provider_data: Some(kept.to_data()),
        })
    }

    /// Stripe's events go to the account's `webhook_url`, registered in Stripe's dashboard.
    fn verify(
        &self,
        credentials: &Credentials,
        notification: &Notification<'_>,
    ) -> Result<Option<Notice>, Forged> {
        let Notification {
            headers, body, now, ..
        } = *notification;
        let secret = credentials.get("webhook_secret");
        if secret.is_empty() {
            return Err(Forged("no webhook secret is configured"));
        }
        let signed = headers
            .get("stripe-signature")
            .and_then(|v| v.to_str().ok())
            .ok_or(Forged("no Stripe-Signature"))?;
        signature_verifies(secret, signed, body, now.timestamp())?;
        let envelope: Envelope =
            serde_json::from_slice(body).map_err(|_| Forged("not a Stripe event"))?;
        if !envelope.kind.starts_with("checkout.session.") {
            return Ok(None);
        }
        let Ok(session) = serde_json::from_value::<Session>(envelope.data.object) else {
            return Ok(None);
        };
        if session
            .object
            .as_deref()
            .is_some_and(|o| o != "checkout.session")
        {
            return Ok(None);
        }
        let Some(payment_id) = session.payment_id() else {
            return Ok(None);
        };
        let reading = match envelope.kind.as_str() {
            "checkout.session.completed" => match session.payment_status.as_deref() {
                Some("paid") => session.succeeded(),
                // An asynchronous payment on its way: its own event settles it.
                _ => Reading::Pending,
            },
            "checkout.session.async_payment_succeeded" => session.succeeded(),
            "checkout.session.async_payment_failed" => async_failure(),
            "checkout.session.expired" => Reading::Expired,
            _ => return Ok(None),
        };
        Ok(Some(Notice {
            event_id: envelope.id,
            payment_id,
            says: Says::Reading(reading),
        }))
    }

    async fn read(
        &self,
        credentials: &Credentials,
        payment: &Payment,
    ) -> Result<Reading, ProviderError> {
        Ok(match self.find(credentials, payment).await? {
            Some(session) => session.reading(),
            None => never_made(payment),
        })
    }

    async fn cancel(
        &self,
        credentials: &Credentials,
        payment: &Payment,
    ) -> Result<Reading, ProviderError> {
        let Some(session) = self.find(credentials, payment).await? else {
            return Ok(never_made(payment));
        };
        if session.status.as_deref() != Some("open") {
            // Completed (money in, or on its way) or expired already.
            return Ok(session.reading());
        }
        let request = self.api.http.post(format!(
            "{}/v1/checkout/sessions/{}/expire",
            self.api.url, session.id
        ));
        match self.send(request, credentials).await? {
            Ok(expired) => Ok(expired.reading()),
            // Completed (or expired) meanwhile: what it became is read.
            Err(_) => Ok(self.retrieve(credentials, &session.id).await?.reading()),
        }
    }
}

#[cfg(test)]
mod tests;
