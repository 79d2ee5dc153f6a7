//! A local fake of Wave's Checkout API and webhooks: a real HTTP server on 127.0.0.1 that behaves
//! as Wave's documentation says, so that caisse's Wave adapter can be tested without reaching
//! Wave. It follows the documentation, not an adapter; where the documentation is silent, the
//! choices made are listed under the second heading.
//!
//! # What Wave documents, and where it was read
//!
//! - **[checkout]** docs.wave.com/checkout (Checkout API reference): the endpoints `POST
//!   /v1/checkout/sessions`, `GET /v1/checkout/sessions/:id`, `GET /v1/checkout/sessions`
//!   (`?transaction_id=`), `GET /v1/checkout/sessions/search` (`?client_reference=`), `POST
//!   …/:id/expire`, `POST …/:id/refund`; base URL `https://api.wave.com`; every request carries
//!   `Authorization: Bearer <key>`, keys (`wave_sn_prod_…`) are bound to one business wallet and
//!   can only touch it. Authentication errors: 401 `missing-auth-header`, `invalid-auth`,
//!   `api-key-not-provided`, `no-matching-api-key`, `api-key-revoked` (403 `invalid-wallet` and
//!   `disabled-wallet` are not simulated).
//! - **[reference]** Wave's API reference and its guide "Getting started with the Wave Checkout
//!   API" (a French copy published with Google Docs, found through code search): an error body is
//!   `{"code", "message", "details": [{"loc", "msg", "type"}]}` (details for validation errors);
//!   the status table (400 malformed, 401, 403, 404, 409 conflict, 422, 429, 500, 503); timestamps
//!   are ISO 8601 in UTC to the second, `YYYY-MM-DDThh:mm:ssZ`; amounts are strings, positive,
//!   without leading zeros; phone numbers are E.164; a search answers `{"result": [...]}`, empty
//!   when nothing matches; other error codes `request-parsing-error`, `request-not-json`,
//!   `internal-server-error`, `service-unavailable`, `too-many-requests`. The guide's flow: when
//!   the customer confirms, Wave *first* tries the `checkout.session.completed` webhook, then the
//!   app opens `success_url`; `error_url` when the payment failed or the session expired.
//! - **[webhook]** docs.wave.com/webhook: events are POSTed as JSON; the endpoint must answer 2xx
//!   within 5 seconds; the same event may come more than once; a webhook is registered in the
//!   business portal with a URL, the events and a security strategy, and its secret is sent either
//!   as `Authorization: Bearer <secret>` (shared secret) or used to sign (signing secret).
//! - **[clients]** The TypeScript client `wave-api-client` (0xc007b, whose types say "as defined in
//!   the Wave API"): the session object (`id`, `amount`, `checkout_status` open|complete|expired,
//!   `client_reference`, `currency`, `error_url`, `last_payment_error {code, message}`,
//!   `business_name`, `payment_status` processing|cancelled|succeeded, `transaction_id`,
//!   `aggregated_merchant_id`, `restrict_payer_mobile`, `success_url`, `wave_launch_url`,
//!   `when_completed` "completed or expired (not populated for open sessions)", `when_created`,
//!   `when_expires`); `?transaction_id=` answers one session; search answers `{"result": [...]}`;
//!   expire and refund answer an empty body; the event envelope `{"id", "type", "data"}` and the
//!   events `checkout.session.completed`, `checkout.session.payment_failed`. Webhook verifiers
//!   adapted from Wave's own samples (PHP `webhook_verify_signature_and_decode`): `Wave-Signature:
//!   t=<unix seconds>,v1=<hex>[,v1=<hex>…]`, each v1 the lower-case hex HMAC-SHA256 of the
//!   timestamp immediately followed by the raw body, any v1 may match.
//! - **[summary]** A summary of Wave's checkout and webhook pages (the "wave-checkout" and
//!   "wave-webhooks" notes found through code search), for what the stored pages cut off: expire
//!   answers 200 without a body, **409 when the session is already complete or expired**, 404 when
//!   unknown; refund is idempotent, 200 without a body, `checkout-refund-failed` when the payment
//!   did not succeed; `checkout-session-not-found`; in its example `when_expires` is
//!   `when_created` + 30 minutes; the failure codes `blocked-account`, `cross-border-payment-not-
//!   allowed`, `customer-age-restricted`, `insufficient-funds`, `kyb-limits-exceeded`,
//!   `payer-mobile-mismatch`, `payment-failure`; deliveries older than five minutes should be
//!   refused; Wave retries an undelivered event for 3 days; a secret is rotated by duplicating the
//!   webhook (each event then comes twice, once per secret).
//!
//! # What is chosen where the documentation is silent
//!
//! - Validation errors are **400** `request-validation-error` (the reference lists 422 too, for
//!   "well formed but not processable"; a JSON number where a string is due is malformed).
//! - Only **XOF** is accepted: it is the only currency the reference names. XOF amounts take no
//!   decimals; `"1000.5"`, `"01000"`, `"0"` and the JSON number `1000` are refused.
//! - `success_url` and `error_url` must be https, as documented, **except** `http://` on
//!   `127.0.0.1`, `localhost` or `[::1]`, because the tests run locally.
//! - Sessions expire 30 minutes after creation ([summary]; a 2022 event body quoted in a Java
//!   client's test shows 24 hours) — see [`FakeWave::set_session_lifetime`]. An expired session has
//!   `payment_status` `cancelled` and `when_completed` set to when it expired.
//! - A failed attempt leaves the session `open` and `payment_status` `processing`, with
//!   `last_payment_error` set, so the customer can try again; a later success clears
//!   `last_payment_error`.
//! - Expiring a session that is not open is 409 with the code `checkout-session-not-open` (the
//!   status is documented, the code is not). A refund of a session that did not succeed is 400.
//! - The launch URL is `{base_url}/c/{id}` (Wave's carries `?a=&c=&m=` for its own page; nothing
//!   reads them). Messages in error bodies and `last_payment_error.message` are the fake's words.
//! - `GET …/sessions/search` lists the key's business's sessions in creation order;
//!   `GET …/sessions?transaction_id=` of no session is 404 `checkout-session-not-found`.
//! - Retries: every webhook gets up to 3 tries 200 ms apart (Wave: 3 days), see
//!   [`FakeWave::set_webhook_retries`]. Each attempt is signed afresh with the time it is sent.
//! - A webhook may carry several secrets ([`FakeWave::set_webhook_secrets`]): one `v1=` per secret
//!   in the header, which is what the documented verifiers accept; a bearer webhook sends the
//!   first. Rotation by duplication is two [`FakeWave::add_webhook`] calls.
//!
//! Every knob for failure tests is a method of [`FakeWave`] with its own doc comment. The API
//! knobs (`fail_next`, `fail_expiries`, `hang_for`, `lose_next_creation_answer`,
//! `answer_next_launch_url`) apply to `/v1/…` only, never to
//! the launch page. Nothing listens beyond 127.0.0.1, and every wait is bounded.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use actix_web::http::{StatusCode, header};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use uuid::Uuid;

/// The failure codes Wave documents for `last_payment_error.code`, with the fake's messages.
pub const FAILURE_CODES: [(&str, &str); 7] = [
    ("blocked-account", "The payer's account is blocked."),
    (
        "cross-border-payment-not-allowed",
        "This payment would cross a border, which is not allowed.",
    ),
    (
        "customer-age-restricted",
        "The payer is too young for this payment.",
    ),
    (
        "insufficient-funds",
        "The payer does not have enough funds.",
    ),
    (
        "kyb-limits-exceeded",
        "The business has reached the limits of its account.",
    ),
    (
        "payer-mobile-mismatch",
        "The payer's number is not the one the session is restricted to.",
    ),
    ("payment-failure", "The payment failed."),
];

/// How a webhook proves it comes from Wave, as chosen when it is registered in Wave's portal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookAuth {
    /// `Wave-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + raw body)>`.
    Signature,
    /// `Authorization: Bearer <secret>`.
    Bearer,
}

/// Which forgery [`FakeWave::send_forged`] commits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forgery {
    /// Signed (or, for a bearer webhook, authorized) with a secret that is not the webhook's.
    WrongSecret,
    /// Correctly signed, with a timestamp ten minutes old (Wave's receivers refuse beyond five).
    /// Only for signature webhooks.
    Stale,
    /// Neither `Wave-Signature` nor `Authorization`.
    Unsigned,
}

/// A registered webhook, as [`FakeWave::add_webhook`] returns it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebhookId(usize);

/// One delivery attempt of an event to a webhook.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub url: String,
    /// The envelope's `id` (`EV_…`).
    pub event_id: String,
    /// 1 for the first try of this sending, 2 for its first retry, …
    pub attempt: u32,
    /// The headers sent, names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// The status answered, or why there was none (timeout, refused connection).
    pub outcome: Result<u16, String>,
}

impl Delivery {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn delivered(&self) -> bool {
        matches!(self.outcome, Ok(s) if (200..300).contains(&s))
    }
}

/// One call to the API (`/v1/…`; the launch page is not logged), as the fake received it.
#[derive(Debug, Clone)]
pub struct ApiRequest {
    pub method: String,
    pub path: String,
    /// The raw query string, without `?`.
    pub query: String,
    pub body: String,
    /// Whether the `Authorization` header named a registered key.
    pub authorized: bool,
    /// The status the fake answered.
    pub status: u16,
}

impl ApiRequest {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

pub struct FakeWave {
    /// What an operator would set as `CAISSE_WAVE_API_URL`: `http://127.0.0.1:<port>`.
    pub base_url: String,
    state: Arc<State>,
    handle: actix_web::dev::ServerHandle,
}

impl FakeWave {
    /// Starts the fake on a free port of 127.0.0.1, inside the caller's tokio runtime (webhooks
    /// are sent from it).
    pub async fn start() -> FakeWave {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a port");
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(State {
            base_url: base_url.clone(),
            runtime: tokio::runtime::Handle::current(),
            client: reqwest::Client::new(),
            inner: Mutex::new(Inner::default()),
        });
        let data = web::Data::from(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .service(web::scope("/v1").default_service(web::to(api)))
                .route("/c/{id}", web::get().to(launch_page))
                .route("/c/{id}/pay", web::post().to(pay_page))
                .route("/c/{id}/fail", web::post().to(fail_page))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .expect("listen")
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        FakeWave {
            base_url,
            state,
            handle,
        }
    }

    /// Shuts the server down (dropping the fake does too, without waiting).
    pub async fn stop(&self) {
        self.handle.stop(false).await;
    }

    /// Registers an API key for the business `business_name` (shown as `business_name` in its
    /// sessions). Any other key is refused with 401 `no-matching-api-key`.
    pub fn add_api_key(&self, key: &str, business_name: &str) {
        self.inner().keys.push(ApiKey {
            key: key.to_string(),
            business: business_name.to_string(),
            revoked: false,
        });
    }

    /// Revokes a key as the portal does: it is then refused with 401 `api-key-revoked`.
    pub fn revoke_api_key(&self, key: &str) {
        for k in self.inner().keys.iter_mut().filter(|k| k.key == key) {
            k.revoked = true;
        }
    }

    /// Registers where Wave sends the events of `business_name`'s sessions, and how they are
    /// secured, as a business does in Wave's portal. Registering the same URL twice with two
    /// secrets is how the portal rotates a secret: every event is then sent twice.
    pub fn add_webhook(
        &self,
        business_name: &str,
        url: &str,
        secret: &str,
        auth: WebhookAuth,
    ) -> WebhookId {
        let mut inner = self.inner();
        inner.webhooks.push(Webhook {
            business: business_name.to_string(),
            url: url.to_string(),
            secrets: vec![secret.to_string()],
            auth,
        });
        WebhookId(inner.webhooks.len() - 1)
    }

    /// Replaces a webhook's secrets: a signature webhook then carries one `v1=` per secret, in
    /// this order (old and new during a rotation); a bearer webhook sends the first.
    pub fn set_webhook_secrets(&self, webhook: WebhookId, secrets: &[&str]) {
        assert!(!secrets.is_empty(), "a webhook needs a secret");
        self.inner().webhooks[webhook.0].secrets = secrets.iter().map(|s| s.to_string()).collect();
    }

    /// How many times an event is tried on each webhook, and the wait between tries, until one
    /// answers 2xx in time. Default: 3 tries, 200 ms apart.
    pub fn set_webhook_retries(&self, tries: u32, wait: Duration) {
        assert!(tries >= 1, "at least one try");
        let mut inner = self.inner();
        inner.retry_tries = tries;
        inner.retry_wait = wait;
    }

    /// How long a webhook endpoint has to answer before the attempt counts as failed. Default: 5
    /// seconds, Wave's documented limit.
    pub fn set_webhook_timeout(&self, timeout: Duration) {
        self.inner().webhook_timeout = timeout;
    }

    /// How long sessions created from now on stay open (`when_expires - when_created`). Default:
    /// 30 minutes. A session past its `when_expires` reads as `expired` and cannot be paid.
    pub fn set_session_lifetime(&self, lifetime: Duration) {
        self.inner().session_lifetime = lifetime;
    }

    /// Failure knob: the next `n` API calls are answered `status` with Wave's error body (for 500
    /// `internal-server-error`, 503 `service-unavailable`, 429 `too-many-requests`), doing
    /// nothing — as when Wave fails before reaching the request. Then the API answers normally.
    pub fn fail_next(&self, n: usize, status: u16) {
        self.inner()
            .fail_next
            .extend(std::iter::repeat_n(status, n));
    }

    /// Failure knob: while on, every `POST …/expire` is answered 500 `internal-server-error`
    /// and expires nothing (one endpoint of Wave failing while the others answer).
    pub fn fail_expiries(&self, fail: bool) {
        self.inner().failing_expiries = fail;
    }

    /// Failure knob: the next session created answers with this `wave_launch_url` (a Wave
    /// that is broken, or not Wave), whatever the session's own.
    pub fn answer_next_launch_url(&self, url: &str) {
        self.inner().launch_url = Some(url.to_string());
    }

    /// Ends [`FakeWave::fail_next`] early: Wave answers normally again.
    pub fn recover(&self) {
        self.inner().fail_next.clear();
    }

    /// Failure knob: every API call is answered only after `delay` (until called again with
    /// `Duration::ZERO`), so a client's timeout fires first. The call takes effect before the
    /// wait: a creation whose client gave up has still created its session, as happens when an
    /// answer is merely late.
    pub fn hang_for(&self, delay: Duration) {
        self.inner().hang = delay;
    }

    /// Failure knob: the next `POST /v1/checkout/sessions` creates its session and then answers
    /// 500 `internal-server-error`, so the caller never learns the session's id and can only find
    /// it again through `GET /v1/checkout/sessions/search?client_reference=…` (Wave documents no
    /// idempotency header for creation).
    pub fn lose_next_creation_answer(&self) {
        self.inner().lose_creations += 1;
    }

    /// Failure knob: while on, events are kept instead of sent ("webhook lost", if never
    /// released); [`FakeWave::release_webhooks`] sends them late.
    pub fn hold_webhooks(&self, hold: bool) {
        self.inner().holding = hold;
    }

    /// Sends the held events, oldest first, with the usual retries, stops holding, and returns
    /// the delivery attempts made.
    pub async fn release_webhooks(&self) -> Vec<Delivery> {
        let held: Vec<String> = {
            let mut inner = self.inner();
            inner.holding = false;
            inner.held.drain(..).collect()
        };
        let mut attempts = Vec::new();
        for event in held {
            attempts.extend(self.state.send(event).await);
        }
        attempts
    }

    /// Sends an event already sent once more, with the same `id` and body (re-signed now), as
    /// Wave's at-least-once delivery may: a duplicate.
    pub async fn resend(&self, event_id: &str) -> Vec<Delivery> {
        self.state.send(event_id.to_string()).await
    }

    /// Sends `body` once (no retry) to a webhook with a forgery, as an attacker would, and returns
    /// the attempt. The body can be a real event's ([`FakeWave::event_body`]) or a made-up one
    /// ([`FakeWave::claimed_completion`]).
    pub async fn send_forged(&self, webhook: WebhookId, body: &str, forgery: Forgery) -> Delivery {
        let (hook, timeout) = {
            let inner = self.inner();
            (inner.webhooks[webhook.0].clone(), inner.webhook_timeout)
        };
        let (auth, secrets) = match forgery {
            Forgery::WrongSecret => (Some(hook.auth), vec!["not-the-webhook-secret".to_string()]),
            Forgery::Stale => {
                assert_eq!(
                    hook.auth,
                    WebhookAuth::Signature,
                    "a stale timestamp needs a signature"
                );
                (Some(hook.auth), hook.secrets.clone())
            }
            Forgery::Unsigned => (None, Vec::new()),
        };
        let timestamp = match forgery {
            Forgery::Stale => Utc::now().timestamp() - 600,
            _ => Utc::now().timestamp(),
        };
        let attempt = self
            .state
            .attempt(&hook.url, auth, &secrets, timestamp, body, 1, timeout)
            .await;
        self.inner().deliveries.push(attempt.clone());
        attempt
    }

    /// Programmatic "Payer": completes an open session (`complete` / `succeeded`, a
    /// `transaction_id`, `when_completed`), sends `checkout.session.completed` and returns the
    /// session as the API shows it once the webhook's delivery (with its retries) is over. A
    /// session that is expired, complete or unknown is refused (the reason is the error) and
    /// nothing is sent.
    pub async fn pay(&self, session_id: &str) -> Result<Value, String> {
        self.state
            .pay(session_id)
            .await
            .map(|o| o.session)
            .map_err(|r| r.to_string())
    }

    /// Programmatic "Échec": records a failed attempt with `last_payment_error {code, message}`
    /// (`code` one of [`FAILURE_CODES`] ideally; any other gets a generic message), leaves the
    /// session open, sends `checkout.session.payment_failed` and returns the session.
    pub async fn fail(&self, session_id: &str, code: &str) -> Result<Value, String> {
        self.state
            .fail(session_id, code)
            .await
            .map(|o| o.session)
            .map_err(|r| r.to_string())
    }

    /// A session as the API shows it.
    pub fn session(&self, session_id: &str) -> Option<Value> {
        let base = self.state.base_url.clone();
        let mut inner = self.inner();
        inner.session_mut(session_id).map(|s| s.view(&base))
    }

    /// Whether a session was refunded (Wave's session object shows no refund field).
    pub fn refunded(&self, session_id: &str) -> bool {
        self.inner()
            .session_mut(session_id)
            .is_some_and(|s| s.refunded)
    }

    /// Every API call received, in order.
    pub fn requests(&self) -> Vec<ApiRequest> {
        self.inner().requests.clone()
    }

    /// Every webhook delivery attempt, in order.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.inner().deliveries.clone()
    }

    /// Every event created (sent, held or not), as envelopes, in order.
    pub fn events(&self) -> Vec<Value> {
        self.inner()
            .events
            .iter()
            .map(|e| serde_json::from_str(&e.body).unwrap())
            .collect()
    }

    /// The raw body of an event, as it is sent.
    pub fn event_body(&self, event_id: &str) -> Option<String> {
        let inner = self.inner();
        inner
            .events
            .iter()
            .find(|e| e.id == event_id)
            .map(|e| e.body.clone())
    }

    /// A made-up `checkout.session.completed` envelope claiming that an open session was paid,
    /// with a fresh event id; nothing changes at the fake. For forged-webhook tests.
    pub fn claimed_completion(&self, session_id: &str) -> String {
        let base = self.state.base_url.clone();
        let mut inner = self.inner();
        let session = inner
            .session_mut(session_id)
            .expect("a session of the fake");
        let mut data = session.view(&base);
        data["checkout_status"] = json!("complete");
        data["payment_status"] = json!("succeeded");
        data["transaction_id"] = json!(new_id("T_", 12).to_uppercase());
        data["when_completed"] = json!(iso(Utc::now()));
        envelope(&new_id("EV_", 12), "checkout.session.completed", data)
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.state.inner.lock().unwrap()
    }
}

impl Drop for FakeWave {
    fn drop(&mut self) {
        // The stop command is sent at once; its completion is not awaited.
        drop(self.handle.stop(false));
    }
}

/// The `Wave-Signature` value Wave sends: `t=<timestamp>,v1=<hex>` with one `v1` per secret,
/// each the lower-case hex HMAC-SHA256 of the timestamp immediately followed by the body.
pub fn signature_header(secrets: &[String], timestamp: i64, body: &str) -> String {
    let mut header = format!("t={timestamp}");
    for secret in secrets {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
            .expect("HMAC takes keys of any length");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(body.as_bytes());
        header.push_str(&format!(",v1={}", hex::encode(mac.finalize().into_bytes())));
    }
    header
}

// ------------------------------------------------------------------------------------ state

struct State {
    base_url: String,
    /// The test's runtime: webhooks are sent from it, whatever thread the server answers on.
    runtime: tokio::runtime::Handle,
    client: reqwest::Client,
    inner: Mutex<Inner>,
}

struct Inner {
    keys: Vec<ApiKey>,
    sessions: Vec<Session>,
    webhooks: Vec<Webhook>,
    events: Vec<Event>,
    held: VecDeque<String>,
    holding: bool,
    requests: Vec<ApiRequest>,
    deliveries: Vec<Delivery>,
    fail_next: VecDeque<u16>,
    failing_expiries: bool,
    launch_url: Option<String>,
    hang: Duration,
    lose_creations: usize,
    retry_tries: u32,
    retry_wait: Duration,
    webhook_timeout: Duration,
    session_lifetime: Duration,
}

impl Default for Inner {
    fn default() -> Inner {
        Inner {
            keys: Vec::new(),
            sessions: Vec::new(),
            webhooks: Vec::new(),
            events: Vec::new(),
            held: VecDeque::new(),
            holding: false,
            requests: Vec::new(),
            deliveries: Vec::new(),
            fail_next: VecDeque::new(),
            failing_expiries: false,
            launch_url: None,
            hang: Duration::ZERO,
            lose_creations: 0,
            retry_tries: 3,
            retry_wait: Duration::from_millis(200),
            webhook_timeout: Duration::from_secs(5),
            session_lifetime: Duration::from_secs(30 * 60),
        }
    }
}

struct ApiKey {
    key: String,
    business: String,
    revoked: bool,
}

#[derive(Clone)]
struct Webhook {
    business: String,
    url: String,
    secrets: Vec<String>,
    auth: WebhookAuth,
}

struct Event {
    id: String,
    business: String,
    body: String,
}

struct Session {
    id: String,
    business: String,
    amount: String,
    currency: String,
    client_reference: Option<String>,
    restrict_payer_mobile: Option<String>,
    aggregated_merchant_id: Option<String>,
    success_url: String,
    error_url: String,
    checkout_status: &'static str,
    payment_status: &'static str,
    last_payment_error: Option<(String, String)>,
    transaction_id: Option<String>,
    when_created: DateTime<Utc>,
    when_expires: DateTime<Utc>,
    when_completed: Option<DateTime<Utc>>,
    refunded: bool,
}

impl Session {
    /// The session object, as Wave's API and events show it.
    fn view(&self, base_url: &str) -> Value {
        let mut v = json!({
            "id": self.id,
            "amount": self.amount,
            "currency": self.currency,
            "checkout_status": self.checkout_status,
            "payment_status": self.payment_status,
            "client_reference": self.client_reference,
            "business_name": self.business,
            "success_url": self.success_url,
            "error_url": self.error_url,
            "last_payment_error": self.last_payment_error.as_ref()
                .map(|(code, message)| json!({"code": code, "message": message})),
            "transaction_id": self.transaction_id,
            "wave_launch_url": format!("{base_url}/c/{}", self.id),
            "when_created": iso(self.when_created),
            "when_expires": iso(self.when_expires),
            "when_completed": self.when_completed.map(iso),
        });
        if let Some(m) = &self.restrict_payer_mobile {
            v["restrict_payer_mobile"] = json!(m);
        }
        if let Some(a) = &self.aggregated_merchant_id {
            v["aggregated_merchant_id"] = json!(a);
        }
        v
    }

    /// An open session past its `when_expires` is expired from then on.
    fn settle(&mut self, now: DateTime<Utc>) {
        if self.checkout_status == "open" && now >= self.when_expires {
            self.end_unpaid(self.when_expires);
        }
    }

    fn end_unpaid(&mut self, at: DateTime<Utc>) {
        self.checkout_status = "expired";
        self.payment_status = "cancelled";
        self.when_completed = Some(at);
    }
}

/// Why a payment on the launch page (or through [`FakeWave::pay`]) is refused.
#[derive(Debug)]
enum Refusal {
    Unknown,
    Expired,
    Complete,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Refusal::Unknown => "no such checkout session",
            Refusal::Expired => "this checkout session has expired",
            Refusal::Complete => "this checkout session is already paid",
        })
    }
}

impl Inner {
    fn session_mut(&mut self, id: &str) -> Option<&mut Session> {
        let now = Utc::now();
        let s = self.sessions.iter_mut().find(|s| s.id == id)?;
        s.settle(now);
        Some(s)
    }

    /// A session of `business`, or 404 as for one that does not exist.
    fn owned(&mut self, id: &str, business: &str) -> Result<&mut Session, Answer> {
        match self.session_mut(id) {
            Some(s) if s.business == business => Ok(s),
            _ => Err(Answer::error(
                404,
                "checkout-session-not-found",
                "No checkout session with this id was found for this business.",
            )),
        }
    }

    /// Records a new event, and tells whether to send it now (not while holding).
    fn new_event(&mut self, business: &str, kind: &str, data: Value) -> Option<String> {
        let id = new_id("EV_", 12);
        self.events.push(Event {
            id: id.clone(),
            business: business.to_string(),
            body: envelope(&id, kind, data),
        });
        if self.holding {
            self.held.push_back(id);
            None
        } else {
            Some(id)
        }
    }

    fn payable(&mut self, id: &str) -> Result<&mut Session, Refusal> {
        let s = self.session_mut(id).ok_or(Refusal::Unknown)?;
        match s.checkout_status {
            "open" => Ok(s),
            "expired" => Err(Refusal::Expired),
            _ => Err(Refusal::Complete),
        }
    }
}

/// What a payment on the launch page did: the session after it, and the event to send.
struct Outcome {
    session: Value,
    success_url: String,
    error_url: String,
    event: Option<String>,
}

impl State {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap()
    }

    async fn pay(self: &Arc<Self>, id: &str) -> Result<Outcome, Refusal> {
        let outcome = {
            let mut inner = self.lock();
            let s = inner.payable(id)?;
            s.checkout_status = "complete";
            s.payment_status = "succeeded";
            s.last_payment_error = None;
            s.transaction_id = Some(new_id("T_", 12).to_uppercase());
            s.when_completed = Some(Utc::now());
            let (view, business) = (s.view(&self.base_url), s.business.clone());
            let (success_url, error_url) = (s.success_url.clone(), s.error_url.clone());
            let event = inner.new_event(&business, "checkout.session.completed", view.clone());
            Outcome {
                session: view,
                success_url,
                error_url,
                event,
            }
        };
        self.send_in_runtime(outcome.event.clone()).await;
        Ok(outcome)
    }

    async fn fail(self: &Arc<Self>, id: &str, code: &str) -> Result<Outcome, Refusal> {
        let message = FAILURE_CODES
            .iter()
            .find(|(c, _)| *c == code)
            .map_or("The payment could not be made.", |(_, m)| *m);
        let outcome = {
            let mut inner = self.lock();
            let s = inner.payable(id)?;
            s.last_payment_error = Some((code.to_string(), message.to_string()));
            let (view, business) = (s.view(&self.base_url), s.business.clone());
            let (success_url, error_url) = (s.success_url.clone(), s.error_url.clone());
            let event = inner.new_event(&business, "checkout.session.payment_failed", view.clone());
            Outcome {
                session: view,
                success_url,
                error_url,
                event,
            }
        };
        self.send_in_runtime(outcome.event.clone()).await;
        Ok(outcome)
    }

    /// Sends an event from the test's runtime (the launch page answers on the server's thread).
    async fn send_in_runtime(self: &Arc<Self>, event: Option<String>) {
        if let Some(event) = event {
            let state = Arc::clone(self);
            self.runtime
                .spawn(async move { state.send(event).await })
                .await
                .expect("webhook delivery");
        }
    }

    /// Sends an event to every webhook of its business, each with its retries.
    async fn send(&self, event_id: String) -> Vec<Delivery> {
        let (body, hooks, tries, wait, timeout) = {
            let inner = self.lock();
            let event = inner
                .events
                .iter()
                .find(|e| e.id == event_id)
                .expect("an event of the fake");
            let hooks: Vec<Webhook> = inner
                .webhooks
                .iter()
                .filter(|w| w.business == event.business)
                .cloned()
                .collect();
            let (t, w, d) = (inner.retry_tries, inner.retry_wait, inner.webhook_timeout);
            (event.body.clone(), hooks, t, w, d)
        };
        let mut attempts = Vec::new();
        for hook in hooks {
            for n in 1..=tries {
                let now = Utc::now().timestamp();
                let attempt = self
                    .attempt(
                        &hook.url,
                        Some(hook.auth),
                        &hook.secrets,
                        now,
                        &body,
                        n,
                        timeout,
                    )
                    .await;
                self.lock().deliveries.push(attempt.clone());
                let delivered = attempt.delivered();
                attempts.push(attempt);
                if delivered {
                    break;
                }
                if n < tries {
                    tokio::time::sleep(wait).await;
                }
            }
        }
        attempts
    }

    /// One POST of `body` to `url`, authorized as `auth` says with `secrets` (none: unsigned).
    #[allow(clippy::too_many_arguments)]
    async fn attempt(
        &self,
        url: &str,
        auth: Option<WebhookAuth>,
        secrets: &[String],
        timestamp: i64,
        body: &str,
        attempt: u32,
        timeout: Duration,
    ) -> Delivery {
        let mut headers = vec![("content-type".to_string(), "application/json".to_string())];
        match auth {
            Some(WebhookAuth::Signature) => headers.push((
                "wave-signature".to_string(),
                signature_header(secrets, timestamp, body),
            )),
            Some(WebhookAuth::Bearer) => headers.push((
                "authorization".to_string(),
                format!("Bearer {}", secrets[0]),
            )),
            None => {}
        }
        let mut request = self
            .client
            .post(url)
            .timeout(timeout)
            .body(body.to_string());
        for (name, value) in &headers {
            request = request.header(name, value);
        }
        let outcome = match request.send().await {
            Ok(response) => Ok(response.status().as_u16()),
            Err(e) if e.is_timeout() => Err(format!("no answer within {timeout:?}")),
            Err(e) => Err(e.to_string()),
        };
        let event_id = serde_json::from_str::<Value>(body)
            .ok()
            .and_then(|v| v["id"].as_str().map(str::to_string))
            .unwrap_or_default();
        Delivery {
            url: url.to_string(),
            event_id,
            attempt,
            headers,
            body: body.to_string(),
            outcome,
        }
    }
}

// -------------------------------------------------------------------------------------- API

/// An API answer: a status and a JSON body, or no body.
#[derive(Debug, Clone)]
struct Answer {
    status: u16,
    body: Option<Value>,
}

impl Answer {
    fn ok(body: Value) -> Answer {
        Answer {
            status: 200,
            body: Some(body),
        }
    }

    fn empty() -> Answer {
        Answer {
            status: 200,
            body: None,
        }
    }

    fn error(status: u16, code: &str, message: &str) -> Answer {
        Answer {
            status,
            body: Some(json!({"code": code, "message": message})),
        }
    }

    fn invalid(details: Vec<Value>) -> Answer {
        Answer {
            status: 400,
            body: Some(json!({
                "code": "request-validation-error",
                "message": "Request invalid",
                "details": details,
            })),
        }
    }

    fn respond(self) -> HttpResponse {
        let mut response = HttpResponse::build(StatusCode::from_u16(self.status).unwrap());
        match self.body {
            Some(body) => response.json(body),
            None => response.finish(),
        }
    }
}

/// Every `/v1/…` call: recorded, then the knobs, the key, and the endpoint.
async fn api(req: HttpRequest, body: web::Bytes, state: web::Data<State>) -> HttpResponse {
    let (answer, hang) = {
        let mut inner = state.lock();
        let business = authenticate(&inner, &req);
        let expiry = req.method() == "POST" && req.path().ends_with("/expire");
        let mut answer = match (inner.fail_next.pop_front(), &business) {
            (Some(status), _) => failure(status),
            (None, _) if expiry && inner.failing_expiries => failure(500),
            (None, Err(refused)) => refused.clone(),
            (None, Ok(business)) => route(&mut inner, &state.base_url, &req, &body, business),
        };
        let creation = req.method() == "POST" && req.path() == "/v1/checkout/sessions";
        if creation && let (Some(url), Some(body)) = (inner.launch_url.take(), answer.body.as_mut())
        {
            body["wave_launch_url"] = json!(url);
        }
        inner.requests.push(ApiRequest {
            method: req.method().to_string(),
            path: req.path().to_string(),
            query: req.query_string().to_string(),
            body: String::from_utf8_lossy(&body).to_string(),
            authorized: business.is_ok(),
            status: answer.status,
        });
        (answer, inner.hang)
    };
    if !hang.is_zero() {
        tokio::time::sleep(hang).await;
    }
    answer.respond()
}

/// The business of the request's key, or the documented 401.
fn authenticate(inner: &Inner, req: &HttpRequest) -> Result<String, Answer> {
    let refuse = |code, message| Err(Answer::error(401, code, message));
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return refuse(
            "missing-auth-header",
            "Your request should include an HTTP auth header.",
        );
    };
    let Some(key) = value.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")) else {
        return refuse("invalid-auth", "Your HTTP auth header can't be processed.");
    };
    if key.trim().is_empty() {
        return refuse(
            "api-key-not-provided",
            "Your request should include an API key.",
        );
    }
    match inner.keys.iter().find(|k| k.key == key) {
        None => refuse(
            "no-matching-api-key",
            "The key you provided doesn't exist in our system.",
        ),
        Some(k) if k.revoked => refuse("api-key-revoked", "Your API key has been revoked."),
        Some(k) => Ok(k.business.clone()),
    }
}

fn failure(status: u16) -> Answer {
    let (code, message) = match status {
        429 => ("too-many-requests", "Too many requests; try again later."),
        503 => (
            "service-unavailable",
            "Wave is briefly unavailable; try again later.",
        ),
        s if s >= 500 => (
            "internal-server-error",
            "A technical error occurred at Wave.",
        ),
        _ => ("request-failed", "The request failed."),
    };
    Answer::error(status, code, message)
}

fn route(
    inner: &mut Inner,
    base_url: &str,
    req: &HttpRequest,
    body: &[u8],
    business: &str,
) -> Answer {
    let query: Vec<(String, String)> = url::form_urlencoded::parse(req.query_string().as_bytes())
        .into_owned()
        .collect();
    let param = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let Some(rest) = req.path().strip_prefix("/v1/checkout/sessions") else {
        return Answer::error(404, "not-found", "No such endpoint.");
    };
    let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    match (req.method().as_str(), segments.as_slice()) {
        ("POST", []) => create(inner, base_url, req, body, business),
        ("GET", []) => {
            let Some(transaction) = param("transaction_id") else {
                return Answer::invalid(vec![detail("transaction_id", "field required")]);
            };
            match inner
                .sessions
                .iter()
                .find(|s| {
                    s.business == business && s.transaction_id.as_deref() == Some(&transaction)
                })
                .map(|s| s.id.clone())
            {
                Some(id) => Answer::ok(inner.owned(&id, business).unwrap().view(base_url)),
                None => Answer::error(
                    404,
                    "checkout-session-not-found",
                    "No checkout session has this transaction id.",
                ),
            }
        }
        ("GET", ["search"]) => {
            let Some(reference) = param("client_reference") else {
                return Answer::invalid(vec![detail("client_reference", "field required")]);
            };
            let now = Utc::now();
            let result: Vec<Value> = inner
                .sessions
                .iter_mut()
                .filter(|s| {
                    s.business == business && s.client_reference.as_ref() == Some(&reference)
                })
                .map(|s| {
                    s.settle(now);
                    s.view(base_url)
                })
                .collect();
            Answer::ok(json!({ "result": result }))
        }
        ("GET", [id]) => match inner.owned(id, business) {
            Ok(s) => Answer::ok(s.view(base_url)),
            Err(not_found) => not_found,
        },
        ("POST", [id, "expire"]) => match inner.owned(id, business) {
            Ok(s) if s.checkout_status == "open" => {
                s.end_unpaid(Utc::now());
                Answer::empty()
            }
            Ok(_) => Answer::error(
                409,
                "checkout-session-not-open",
                "Only an open checkout session can be expired.",
            ),
            Err(not_found) => not_found,
        },
        ("POST", [id, "refund"]) => match inner.owned(id, business) {
            Ok(s) if s.payment_status == "succeeded" => {
                // Idempotent: a second refund succeeds and refunds nothing more.
                s.refunded = true;
                Answer::empty()
            }
            Ok(_) => Answer::error(
                400,
                "checkout-refund-failed",
                "Only a checkout session whose payment succeeded can be refunded.",
            ),
            Err(not_found) => not_found,
        },
        (_, []) | (_, ["search"]) | (_, [_]) | (_, [_, "expire" | "refund"]) => Answer::error(
            405,
            "method-not-allowed",
            "This method is not allowed on this path.",
        ),
        _ => Answer::error(404, "not-found", "No such endpoint."),
    }
}

fn detail(field: &str, msg: &str) -> Value {
    json!({"loc": [field], "msg": msg, "type": "value_error"})
}

/// `POST /v1/checkout/sessions`.
fn create(
    inner: &mut Inner,
    base_url: &str,
    req: &HttpRequest,
    body: &[u8],
    business: &str,
) -> Answer {
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !is_json {
        return Answer::error(
            400,
            "request-not-json",
            "The request needs a JSON body and Content-Type: application/json.",
        );
    }
    let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(body) else {
        return Answer::error(
            400,
            "request-parsing-error",
            "The body is not a JSON object.",
        );
    };
    let text = |name: &str| fields.get(name).and_then(Value::as_str).map(str::to_string);
    let mut details = Vec::new();
    let currency = text("currency");
    match currency.as_deref() {
        Some("XOF") => {}
        Some(other) => details.push(detail(
            "currency",
            &format!("Unsupported currency: {other}. This account takes XOF."),
        )),
        None => details.push(detail("currency", "field required (a string)")),
    }
    if let Some(problem) = amount_problem(fields.get("amount")) {
        details.push(detail("amount", problem));
    }
    for name in ["success_url", "error_url"] {
        match fields.get(name) {
            None => details.push(detail(name, "field required")),
            Some(Value::String(u)) if url_allowed(u) => {}
            Some(_) => details.push(detail(name, "must be an https URL")),
        }
    }
    match fields.get("client_reference") {
        None | Some(Value::Null) => {}
        Some(Value::String(r)) if r.chars().count() <= 255 => {}
        Some(_) => details.push(detail(
            "client_reference",
            "must be a string of at most 255 characters",
        )),
    }
    match fields.get("restrict_payer_mobile") {
        None | Some(Value::Null) => {}
        Some(Value::String(m)) if is_e164(m) => {}
        Some(_) => details.push(detail(
            "restrict_payer_mobile",
            "must be a phone number in E.164 format",
        )),
    }
    match fields.get("aggregated_merchant_id") {
        None | Some(Value::Null) | Some(Value::String(_)) => {}
        Some(_) => details.push(detail("aggregated_merchant_id", "must be a string")),
    }
    if !details.is_empty() {
        return Answer::invalid(details);
    }
    let now = Utc::now();
    let lifetime = chrono::Duration::from_std(inner.session_lifetime).unwrap();
    let session = Session {
        id: new_id("cos-", 13),
        business: business.to_string(),
        amount: text("amount").unwrap(),
        currency: currency.unwrap(),
        client_reference: text("client_reference"),
        restrict_payer_mobile: text("restrict_payer_mobile"),
        aggregated_merchant_id: text("aggregated_merchant_id"),
        success_url: text("success_url").unwrap(),
        error_url: text("error_url").unwrap(),
        checkout_status: "open",
        payment_status: "processing",
        last_payment_error: None,
        transaction_id: None,
        when_created: now,
        when_expires: now + lifetime,
        when_completed: None,
        refunded: false,
    };
    let view = session.view(base_url);
    inner.sessions.push(session);
    if inner.lose_creations > 0 {
        inner.lose_creations -= 1;
        return failure(500);
    }
    Answer::ok(view)
}

/// Why an XOF amount is refused, if it is: a string of digits, positive, no leading zero, no
/// decimals.
fn amount_problem(amount: Option<&Value>) -> Option<&'static str> {
    let amount = match amount {
        None => return Some("field required"),
        Some(Value::String(a)) => a,
        Some(_) => return Some("must be a string, e.g. \"1000\""),
    };
    let (whole, decimals) = match amount.split_once('.') {
        Some((w, d)) => (w, Some(d)),
        None => (amount.as_str(), None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || decimals.is_some_and(|d| !digits(d)) {
        return Some("must be a number written as a string");
    }
    if decimals.is_some() {
        return Some("XOF amounts take no decimals");
    }
    if whole.len() > 1 && whole.starts_with('0') {
        return Some("no leading zeros");
    }
    if whole.bytes().all(|b| b == b'0') {
        return Some("must be positive");
    }
    None
}

/// https, or http on the loopback (the tests run locally; Wave itself wants https).
fn url_allowed(u: &str) -> bool {
    let Ok(parsed) = url::Url::parse(u) else {
        return false;
    };
    match parsed.scheme() {
        "https" => parsed.host().is_some(),
        "http" => matches!(parsed.host_str(), Some("127.0.0.1" | "localhost" | "[::1]")),
        _ => false,
    }
}

fn is_e164(m: &str) -> bool {
    let Some(digits) = m.strip_prefix('+') else {
        return false;
    };
    (8..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
}

// ----------------------------------------------------------------------------- launch page

/// `GET /c/{id}`: what the customer sees when they open `wave_launch_url`.
async fn launch_page(id: web::Path<String>, state: web::Data<State>) -> HttpResponse {
    let base = state.base_url.clone();
    let session = state.lock().session_mut(&id).map(|s| s.view(&base));
    let Some(s) = session else {
        return page(
            404,
            "Session introuvable",
            "<p>Cette session n'existe pas.</p>",
        );
    };
    let title = format!(
        "{} — {} {}",
        escape(s["business_name"].as_str().unwrap()),
        escape(s["amount"].as_str().unwrap()),
        escape(s["currency"].as_str().unwrap()),
    );
    match s["checkout_status"].as_str().unwrap() {
        "open" => {
            let options: String = FAILURE_CODES
                .iter()
                .map(|(code, _)| {
                    let selected = if *code == "insufficient-funds" {
                        " selected"
                    } else {
                        ""
                    };
                    format!("<option value=\"{code}\"{selected}>{code}</option>")
                })
                .collect();
            let id = escape(&id);
            page(
                200,
                &title,
                &format!(
                    "<p id=\"amount\">{amount} {currency}</p>\n\
                     <form method=\"post\" action=\"/c/{id}/pay\">\
                     <button type=\"submit\" id=\"pay\">Payer</button></form>\n\
                     <form method=\"post\" action=\"/c/{id}/fail\">\
                     <select name=\"code\">{options}</select> \
                     <button type=\"submit\" id=\"fail\">Échec</button></form>",
                    amount = escape(s["amount"].as_str().unwrap()),
                    currency = escape(s["currency"].as_str().unwrap()),
                ),
            )
        }
        "expired" => page(200, &title, "<p>Cette session a expiré.</p>"),
        _ => page(200, &title, "<p>Cette session est déjà payée.</p>"),
    }
}

/// `POST /c/{id}/pay`: the customer confirms; the webhook goes first, then `success_url`.
async fn pay_page(id: web::Path<String>, state: web::Data<State>) -> HttpResponse {
    match state.into_inner().pay(&id).await {
        Ok(outcome) => see_other(&outcome.success_url),
        Err(refusal) => refused_page(refusal),
    }
}

/// `POST /c/{id}/fail`: the attempt fails (`code`, default `insufficient-funds`); the webhook goes
/// first, then `error_url`.
async fn fail_page(
    id: web::Path<String>,
    form: web::Bytes,
    state: web::Data<State>,
) -> HttpResponse {
    let code = url::form_urlencoded::parse(&form)
        .find(|(k, _)| k == "code")
        .map_or_else(|| "insufficient-funds".to_string(), |(_, v)| v.into_owned());
    match state.into_inner().fail(&id, &code).await {
        Ok(outcome) => see_other(&outcome.error_url),
        Err(refusal) => refused_page(refusal),
    }
}

fn refused_page(refusal: Refusal) -> HttpResponse {
    let (status, text) = match refusal {
        Refusal::Unknown => (404, "Cette session n'existe pas."),
        Refusal::Expired => (
            409,
            "Cette session a expiré : elle ne peut plus être payée.",
        ),
        Refusal::Complete => (409, "Cette session est déjà payée."),
    };
    page(status, "Paiement impossible", &format!("<p>{text}</p>"))
}

fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

fn page(status: u16, title: &str, body: &str) -> HttpResponse {
    HttpResponse::build(StatusCode::from_u16(status).unwrap())
        .content_type("text/html; charset=utf-8")
        .body(format!(
            "<!doctype html>\n<html lang=\"fr\"><head><meta charset=\"utf-8\">\
             <title>{title}</title></head>\n<body><main><h1>{title}</h1>\n{body}\n</main></body></html>\n"
        ))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

// ---------------------------------------------------------------------------------- helpers

fn envelope(id: &str, kind: &str, data: Value) -> String {
    json!({"id": id, "type": kind, "data": data}).to_string()
}

/// `prefix` followed by `len` random lower-case hex characters.
fn new_id(prefix: &str, len: usize) -> String {
    format!("{prefix}{}", &Uuid::new_v4().simple().to_string()[..len])
}

/// ISO 8601 in UTC to the second, as Wave writes timestamps: `2022-06-20T17:17:11Z`.
fn iso(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}
