//! A local fake of Stripe's Checkout Sessions API, its hosted Checkout page and its webhook
//! events: a real HTTP server on 127.0.0.1 that behaves as Stripe's documentation says, so
//! that caisse's Stripe adapter can be tested without reaching Stripe. It follows the
//! documentation, not an adapter; where the documentation is silent, the choices made are
//! listed under the second heading.
//!
//! # What Stripe documents, and where it was read
//!
//! - **[api]** docs.stripe.com/api: base `https://api.stripe.com`, form-encoded request bodies
//!   with nested fields as `a[b][c]=…`, JSON answers, `Authorization: Bearer sk_…` (a missing
//!   or unknown key is 401); errors are `{"error": {"type", "message", "param"?, "code"?}}`,
//!   types `invalid_request_error`, `api_error`, `idempotency_error`, `rate_limit_error`; a
//!   parameter the endpoint does not know is refused ("Received unknown parameter").
//! - **[create]** docs.stripe.com/api/checkout/sessions/create: `mode` (`payment`),
//!   `line_items[N][price_data][currency]` (three-letter ISO code, lower case),
//!   `…[unit_amount]` (an integer in the smallest unit), `…[product_data][name]`,
//!   `line_items[N][quantity]`, `success_url`, `cancel_url`, `client_reference_id` (at most
//!   200 characters), `metadata` (at most 50 keys of 40 characters, values of 500),
//!   `expires_at` ("anywhere from 30 minutes to 24 hours after Checkout Session creation"),
//!   `locale`. `{CHECKOUT_SESSION_ID}` in `success_url` is replaced with the session's id.
//! - **[session]** docs.stripe.com/api/checkout/sessions/object: `id` (`cs_…`), `object`
//!   `checkout.session`, `amount_subtotal`, `amount_total`, `currency`, `client_reference_id`,
//!   `metadata`, `mode`, `status` `open|complete|expired`, `payment_status`
//!   `paid|unpaid|no_payment_required`, `payment_intent` (expandable), `success_url`,
//!   `cancel_url`, `url` (the hosted page; null once the session is no longer open),
//!   `expires_at`, `created`, `livemode`, `locale`. Retrieve is `GET
//!   /v1/checkout/sessions/{id}` (`expand[]=payment_intent` gives the object, whose `status`
//!   is `processing`, `succeeded`, `requires_payment_method`, …).
//! - **[expire]** docs.stripe.com/api/checkout/sessions/expire: `POST …/{id}/expire`, for an
//!   `open` session only; it answers the expired session, and an error for a session already
//!   expired or not expireable.
//! - **[idempotency]** docs.stripe.com/api/idempotent_requests, /idempotency: a POST may carry
//!   `Idempotency-Key` (up to 255 characters); the status and body of the first request are
//!   saved once the endpoint begins executing, whether it succeeded or failed, and the same
//!   key returns them again; keys may be pruned after 24 hours; the same key with other
//!   parameters is an error (`idempotency_error`); a request whose parameters fail validation
//!   saves nothing.
//! - **[currencies]** docs.stripe.com/currencies#zero-decimal: XOF and XAF (with BIF, CLP, DJF,
//!   GNF, JPY, KMF, KRW, MGA, PYG, RWF, UGX, VND, VUV, XPF) are zero-decimal: `unit_amount=1000`
//!   is 1 000 F CFA; USD and EUR count cents.
//! - **[webhooks]** docs.stripe.com/webhooks: events are POSTed as JSON `{"id": "evt_…",
//!   "object": "event", "type", "created", "livemode", "api_version", "data": {"object"}}`,
//!   signed `Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>` with
//!   the endpoint's `whsec_…` secret (several `v1` while a secret is rolled); libraries refuse
//!   timestamps more than 300 s old; delivery is at least once, retried when not answered 2xx.
//! - **[fulfillment]** docs.stripe.com/checkout/fulfillment and /payments/checkout/
//!   async-payments (via /api/events/types): `checkout.session.completed` (payment_status
//!   `paid`, or `unpaid` for a delayed method), `checkout.session.async_payment_succeeded`,
//!   `checkout.session.async_payment_failed`, `checkout.session.expired`.
//!
//! # What is chosen where the documentation is silent
//!
//! - One merchant account per secret key ([`FakeStripe::add_account`]); webhook endpoints
//!   are registered per account as in the dashboard ([`FakeStripe::add_webhook`]).
//! - Only `mode=payment` with `price_data` line items is simulated; the currencies are the
//!   four caisse has and `gbp`, `jpy` (for tests of others); an upper-case code is refused.
//!   Amounts must be positive integers; no minimum charge is enforced.
//! - The hosted page is `{base_url}/c/pay/{id}` with "Pay" (`#pay`), "Pay by bank transfer"
//!   (`#pay-async`, an asynchronous method) and a cancel link; paying sends the customer to
//!   `success_url`. Session ids are `cs_test_` and 24 random characters.
//! - Sessions do not expire with the clock in tests; [`FakeStripe::expire_session`] does it
//!   (the session then reads `expired` and its event is sent).
//! - Idempotency keys are never pruned; the in-progress 409 is not simulated (one lock).
//! - Every event is tried up to 3 times, 200 ms apart ([`FakeStripe::set_webhook_retries`]),
//!   each try signed afresh.
//!
//! Every failure knob is a method with its own doc comment: `fail_next`, `fail_expiries`,
//! `hang_for`, `lose_next_answer`, `hold_events` / `release_events`, `resend`,
//! `send_forged`, `send_signed`. Nothing listens beyond 127.0.0.1, and every wait is bounded.

#![allow(dead_code)]

mod api;
mod events;
mod page;

pub use events::signature;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use actix_web::{App, HttpServer, web};
use serde_json::Value;
use uuid::Uuid;

/// Which forgery [`FakeStripe::send_forged`] commits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forgery {
    /// Signed with a secret that is not the endpoint's.
    WrongSecret,
    /// Correctly signed, with a timestamp ten minutes old.
    Stale,
    /// No `Stripe-Signature`.
    Unsigned,
}

/// One delivery attempt of an event to a webhook endpoint.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub url: String,
    pub event_id: String,
    pub attempt: u32,
    pub signature: Option<String>,
    pub body: String,
    /// The status answered, or why there was none.
    pub outcome: Result<u16, String>,
}

impl Delivery {
    pub fn delivered(&self) -> bool {
        matches!(self.outcome, Ok(s) if (200..300).contains(&s))
    }
}

/// One call to the API (`/v1/…`), as the fake received it.
#[derive(Debug, Clone)]
pub struct ApiRequest {
    pub method: String,
    pub path: String,
    pub query: String,
    pub body: String,
    pub idempotency_key: Option<String>,
    pub authorization: Option<String>,
    pub content_type: Option<String>,
    /// The status the fake answered (what it meant to answer, for a lost answer).
    pub status: u16,
}

impl ApiRequest {
    /// The form body's value of `name`.
    pub fn field(&self, name: &str) -> Option<String> {
        url::form_urlencoded::parse(self.body.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }
}

#[derive(Clone)]
struct Webhook {
    account: String,
    url: String,
    secrets: Vec<String>,
}

#[derive(Clone)]
pub(crate) struct Session {
    id: String,
    account: String,
    amount_total: i64,
    currency: String,
    name: String,
    client_reference_id: Option<String>,
    metadata: Vec<(String, String)>,
    success_url: String,
    cancel_url: Option<String>,
    expires_at: i64,
    created: i64,
    locale: Option<String>,
    status: &'static str,
    payment_status: &'static str,
    /// The payment intent, once the customer paid: its id and status.
    intent: Option<(String, &'static str)>,
}

/// A saved result of an idempotent request.
struct Saved {
    account: String,
    key: String,
    path: String,
    params: Vec<(String, String)>,
    status: u16,
    body: Value,
}

pub(crate) struct Inner {
    keys: Vec<String>,
    webhooks: Vec<Webhook>,
    sessions: Vec<Session>,
    saved: Vec<Saved>,
    requests: Vec<ApiRequest>,
    events: Vec<(String, Value)>,
    deliveries: Vec<Delivery>,
    held: VecDeque<String>,
    holding: bool,
    /// Events an API call made, sent once it is answered.
    outbox: Vec<String>,
    fail_next: VecDeque<u16>,
    failing_expiries: bool,
    hang: Duration,
    lose_answers: usize,
    retry_tries: u32,
    retry_wait: Duration,
}

pub(crate) struct State {
    base_url: String,
    client: reqwest::Client,
    inner: Mutex<Inner>,
}

pub struct FakeStripe {
    /// What an operator would set as `CAISSE_STRIPE_API_URL`: `http://127.0.0.1:<port>`.
    pub base_url: String,
    state: Arc<State>,
    handle: actix_web::dev::ServerHandle,
}

impl FakeStripe {
    /// Starts the fake on a free port of 127.0.0.1, inside the caller's tokio runtime.
    pub async fn start() -> FakeStripe {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a port");
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(State {
            base_url: base_url.clone(),
            client: reqwest::Client::new(),
            inner: Mutex::new(Inner {
                keys: Vec::new(),
                webhooks: Vec::new(),
                sessions: Vec::new(),
                saved: Vec::new(),
                requests: Vec::new(),
                events: Vec::new(),
                deliveries: Vec::new(),
                held: VecDeque::new(),
                holding: false,
                outbox: Vec::new(),
                fail_next: VecDeque::new(),
                failing_expiries: false,
                hang: Duration::ZERO,
                lose_answers: 0,
                retry_tries: 3,
                retry_wait: Duration::from_millis(200),
            }),
        });
        let data = web::Data::from(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .service(web::scope("/v1").default_service(web::to(api::api)))
                .route("/c/pay/{id}", web::get().to(page::checkout_page))
                .route("/c/pay/{id}/{how}", web::post().to(page::pay_page))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .expect("listen")
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        FakeStripe {
            base_url,
            state,
            handle,
        }
    }

    /// Registers a merchant account's secret key; any other key is refused with 401.
    pub fn add_account(&self, secret_key: &str) {
        self.inner().keys.push(secret_key.to_string());
    }

    /// Registers a webhook endpoint of the account of `secret_key` with its signing secret.
    pub fn add_webhook(&self, secret_key: &str, url: &str, secret: &str) {
        self.inner().webhooks.push(Webhook {
            account: secret_key.to_string(),
            url: url.to_string(),
            secrets: vec![secret.to_string()],
        });
    }

    /// Replaces every endpoint's secrets: one `v1=` per secret (a secret being rolled).
    pub fn set_webhook_secrets(&self, secrets: &[&str]) {
        for w in &mut self.inner().webhooks {
            w.secrets = secrets.iter().map(|s| s.to_string()).collect();
        }
    }

    /// How many times an event is tried, and the wait between tries. Default: 3, 200 ms.
    pub fn set_webhook_retries(&self, tries: u32, wait: Duration) {
        let mut inner = self.inner();
        inner.retry_tries = tries.max(1);
        inner.retry_wait = wait;
    }

    /// Failure knob: the next `n` API calls are answered `status` (500 `api_error`, 429
    /// `rate_limit_error`, …) before Stripe begins them: nothing is done, nothing is saved
    /// for their idempotency keys.
    pub fn fail_next(&self, n: usize, status: u16) {
        self.inner()
            .fail_next
            .extend(std::iter::repeat_n(status, n));
    }

    /// Failure knob: while on, every `POST …/expire` is answered 500 and expires nothing.
    pub fn fail_expiries(&self, fail: bool) {
        self.inner().failing_expiries = fail;
    }

    /// Failure knob: every API call is answered only after `delay` (until called again with
    /// `Duration::ZERO`). The call takes effect, and its result is saved, before the wait.
    pub fn hang_for(&self, delay: Duration) {
        self.inner().hang = delay;
    }

    /// Failure knob: the next `POST /v1/checkout/sessions` that creates a session has its
    /// answer cut off mid-body, as when the connection breaks while Stripe answers (or the
    /// caller dies before it writes it down): the session exists and its result is saved for
    /// the idempotency key, but the caller never reads its id.
    pub fn lose_next_answer(&self) {
        self.inner().lose_answers += 1;
    }

    /// Failure knob: while on, events are kept instead of sent (lost, if never released).
    pub fn hold_events(&self, hold: bool) {
        self.inner().holding = hold;
    }

    /// Sends the held events, oldest first, and stops holding.
    pub async fn release_events(&self) -> Vec<Delivery> {
        let held: Vec<String> = {
            let mut inner = self.inner();
            inner.holding = false;
            inner.held.drain(..).collect()
        };
        let mut sent = Vec::new();
        for id in held {
            sent.extend(self.state.send(&id).await);
        }
        sent
    }

    /// Sends an event already sent once more, same id and body, signed now: a duplicate.
    pub async fn resend(&self, event_id: &str) -> Vec<Delivery> {
        self.state.send(event_id).await
    }

    /// Sends `body` once to every endpoint of the account, forged as `forgery` says.
    pub async fn send_forged(&self, body: &str, forgery: Forgery) -> Vec<Delivery> {
        let hooks = self.inner().webhooks.clone();
        let mut sent = Vec::new();
        for hook in hooks {
            let (secrets, t) = match forgery {
                Forgery::WrongSecret => (vec!["whsec_not_the_endpoints".to_string()], now()),
                Forgery::Stale => (hook.secrets.clone(), now() - 600),
                Forgery::Unsigned => (Vec::new(), now()),
            };
            let signature = (!secrets.is_empty()).then(|| signature(&secrets, t, body));
            sent.push(
                self.state
                    .post(&hook.url, "forged", 1, signature, body)
                    .await,
            );
        }
        sent
    }

    /// Sends `body` once to every endpoint, correctly signed with its secret: an event as
    /// Stripe would sign it, whatever it says (a session edited at Stripe, say).
    pub async fn send_signed(&self, body: &str) -> Vec<Delivery> {
        let hooks = self.inner().webhooks.clone();
        let mut sent = Vec::new();
        for hook in hooks {
            let signature = Some(signature(&hook.secrets, now(), body));
            sent.push(
                self.state
                    .post(&hook.url, "signed", 1, signature, body)
                    .await,
            );
        }
        sent
    }

    /// The customer pays by card on the hosted page: the session completes `paid`, its event
    /// is sent (unless held), and the `success_url` is returned.
    pub async fn pay(&self, id: &str) -> Result<String, String> {
        self.state.pay(id, page::How::Card).await
    }

    /// The customer pays with an asynchronous method: the session completes `unpaid`, its
    /// payment intent `processing`, until [`FakeStripe::settle_async`].
    pub async fn pay_async(&self, id: &str) -> Result<String, String> {
        self.state.pay(id, page::How::Async).await
    }

    /// The asynchronous payment of session `id` succeeds (`paid`,
    /// `checkout.session.async_payment_succeeded`) or fails (`…_failed`).
    pub async fn settle_async(&self, id: &str, succeeded: bool) -> Result<(), String> {
        let event = {
            let mut inner = self.inner();
            let s = inner.session_mut(id).ok_or("no such session")?;
            match &mut s.intent {
                Some((_, status)) if *status == "processing" => {
                    *status = if succeeded {
                        "succeeded"
                    } else {
                        "requires_payment_method"
                    };
                }
                _ => return Err("no asynchronous payment on its way".into()),
            }
            if succeeded {
                s.payment_status = "paid";
            }
            let kind = if succeeded {
                "checkout.session.async_payment_succeeded"
            } else {
                "checkout.session.async_payment_failed"
            };
            let s = s.clone();
            inner.event(kind, &s, &self.base_url)
        };
        self.state.dispatch(event).await;
        Ok(())
    }

    /// Session `id` reaches its `expires_at`: it expires (if open) and its event is sent.
    pub async fn expire_session(&self, id: &str) -> Result<(), String> {
        let event = {
            let mut inner = self.inner();
            let s = inner.session_mut(id).ok_or("no such session")?;
            if s.status != "open" {
                return Err("not open".into());
            }
            s.status = "expired";
            let s = s.clone();
            inner.event("checkout.session.expired", &s, &self.base_url)
        };
        self.state.dispatch(event).await;
        Ok(())
    }

    /// A session as the API shows it.
    pub fn session(&self, id: &str) -> Option<Value> {
        let inner = self.inner();
        let s = inner.sessions.iter().find(|s| s.id == id)?;
        Some(s.json(&self.base_url, false))
    }

    /// Every session made, in order, as the API shows them.
    pub fn sessions(&self) -> Vec<Value> {
        let inner = self.inner();
        inner
            .sessions
            .iter()
            .map(|s| s.json(&self.base_url, false))
            .collect()
    }

    /// The ids of the sessions made for `client_reference_id`.
    pub fn sessions_for(&self, client_reference_id: &str) -> Vec<String> {
        let inner = self.inner();
        inner
            .sessions
            .iter()
            .filter(|s| s.client_reference_id.as_deref() == Some(client_reference_id))
            .map(|s| s.id.clone())
            .collect()
    }

    /// Every event made, in order (sent or held).
    pub fn events(&self) -> Vec<Value> {
        self.inner().events.iter().map(|(_, e)| e.clone()).collect()
    }

    pub fn requests(&self) -> Vec<ApiRequest> {
        self.inner().requests.clone()
    }

    /// The calls `method path` (exactly), in order.
    pub fn requests_to(&self, method: &str, path: &str) -> Vec<ApiRequest> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == method && r.path == path)
            .collect()
    }

    pub fn deliveries(&self) -> Vec<Delivery> {
        self.inner().deliveries.clone()
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.state.lock()
    }
}

impl Drop for FakeStripe {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

pub(crate) fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

pub(crate) fn random(prefix: &str) -> String {
    let raw = Uuid::new_v4().simple().to_string();
    format!("{prefix}{}", &raw[..24])
}
