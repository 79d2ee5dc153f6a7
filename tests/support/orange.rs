//! A local fake of Orange Money Web Payment: a real HTTP server on 127.0.0.1 that behaves as
//! Orange's documentation says — its OAuth token endpoint, the web payment and transaction
//! status APIs, the payment page a customer is sent to, and the unsigned notification sent to
//! `notif_url` — so that caisse's Orange adapter can be tested without reaching Orange. It
//! follows the documentation, not an adapter; where the documentation is silent, the choices
//! made are listed under the second heading.
//!
//! # What Orange documents, and where it was read
//!
//! - **[guide]** Orange Developer, "Orange Money WebPay Dev — Getting started" (the sandbox's
//!   guide, developer.orange.com/apis/om-webpay-dev; a 2019 copy of it is published on Scribd):
//!   the steps — an `access_token`, the Web Payment API, the Transaction Status API; the sandbox
//!   base `https://api.orange.com/orange-money-webpay/dev/v1`; the sandbox's currency `OUV`;
//!   `POST /webpayment` with `merchant_key`, `currency`, `order_id`, `amount`, `return_url`,
//!   `cancel_url`, `notif_url`, `lang`, `reference`, answered 201 `{"status": 201, "message":
//!   "OK", "pay_token", "payment_url", "notif_token"}`; the customer pays at `payment_url`; a
//!   notification `{"status", "notif_token", "txnid"}` is POSTed to `notif_url` and must be
//!   checked against the `notif_token` of the start; `POST /transactionstatus` with
//!   `{"order_id", "amount", "pay_token"}` answers `{"status", "order_id", "txnid"}`, the
//!   statuses `INITIATED` (made, the customer not yet on the page), `PENDING` (the customer is
//!   paying), `EXPIRED`, `SUCCESS`, `FAILED`.
//! - **[oauth]** Orange Developer's authentication page (the "2-legged" OAuth 2.0 flow, used
//!   by every Orange API): `POST https://api.orange.com/oauth/v3/token` with `Authorization:
//!   Basic base64(client_id:client_secret)` and the form body `grant_type=client_credentials`
//!   answers `{"token_type": "Bearer", "access_token", "expires_in"}`; an API called with an
//!   expired token answers 401 `{"code": 42, "message": "Expired credentials", "description"}`,
//!   with an unknown one 401 `{"code": 41, "message": "Invalid credentials", "description"}`;
//!   a bad client id or secret at the token endpoint is 401 `{"error": "invalid_client",
//!   "error_description"}`.
//! - **[clients]** Open-source clients that agree with the guide (packagist
//!   `foris-master/orange-money-sdk`, and TypeScript and Python ones found through code
//!   search): the live bases `…/orange-money-webpay/{ci|sn|cm|ml|…}/v1`, `order_id` and
//!   `reference` at most 30 characters, URLs at most 120, `amount` a JSON integer, a payment
//!   token valid about ten minutes, payment pages at `https://webpayment….orange-money.com/
//!   payment/pay_token/<pay_token>`.
//!
//! # What is chosen where the documentation is silent
//!
//! - One merchant per client id ([`FakeOrange::add_merchant`]), whose `merchant_key` must be
//!   the one sent; its country path (`ci`, `sn`, …) takes `XOF`, the sandbox (`dev`) `OUV`
//!   only. Any other currency, a `merchant_key` of another merchant, a missing or too long
//!   field, an `amount` that is not a positive integer, or an `order_id` already used is 400
//!   `{"status": 400, "message"}`; `lang` is `fr` or `en`.
//! - `transactionstatus` of a `pay_token` it did not make, or with another `order_id` or
//!   `amount` than its payment's, is 404 `{"status": 404, "message": "Transaction not found"}`.
//! - Tokens last an hour ([`FakeOrange::set_token_lifetime`]). Payments last ten minutes
//!   ([`FakeOrange::set_payment_validity`]) and then read `EXPIRED` and cannot be paid.
//! - The payment page (`GET {base}/payment/pay_token/{pay_token}`) shows "Payer" and
//!   "Échec" buttons; opening it makes an `INITIATED` payment `PENDING`. Paying makes it
//!   `SUCCESS` with a `txnid` (`MP` and digits), sends the notification, then sends the
//!   customer to `return_url`; failing makes it `FAILED`, notifies, and goes to `cancel_url`.
//! - A notification is sent once (Orange documents no retries), as JSON, with no
//!   signature or other header, and a 5-second timeout.
//!
//! Every failure knob is a method of [`FakeOrange`] with its own doc comment: `fail_next`,
//! `hang_for`, `lose_next_creation_answer`, `expire_tokens`, `hold_notifications`. Nothing
//! listens beyond 127.0.0.1, and every wait is bounded.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use actix_web::http::{StatusCode, header};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine;
use serde_json::{Value, json};
use uuid::Uuid;

/// One call to the fake (token endpoint and API; the payment page is not logged).
#[derive(Debug, Clone)]
pub struct ApiRequest {
    pub method: String,
    pub path: String,
    pub body: String,
    /// The `Authorization` header as sent.
    pub authorization: Option<String>,
    /// The status the fake answered.
    pub status: u16,
}

impl ApiRequest {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// One notification sent to a `notif_url`.
#[derive(Debug, Clone)]
pub struct Notification {
    pub url: String,
    pub body: String,
    /// The status answered, or why there was none.
    pub outcome: Result<u16, String>,
}

impl Notification {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

pub struct FakeOrange {
    /// What an operator would set as `CAISSE_ORANGE_API_URL`: `http://127.0.0.1:<port>`.
    pub base_url: String,
    state: Arc<State>,
    handle: actix_web::dev::ServerHandle,
}

struct State {
    base_url: String,
    /// The test's runtime: notifications are sent from it.
    runtime: tokio::runtime::Handle,
    client: reqwest::Client,
    inner: Mutex<Inner>,
}

struct Merchant {
    client_id: String,
    client_secret: String,
    merchant_key: String,
    /// Its live country path (`ci`, `sn`, …); every merchant may also use the sandbox (`dev`).
    country: String,
}

struct Token {
    value: String,
    client_id: String,
    expires: Instant,
}

#[derive(Clone)]
struct WebPayment {
    client_id: String,
    country: String,
    order_id: String,
    amount: i64,
    currency: String,
    return_url: String,
    cancel_url: String,
    notif_url: String,
    lang: String,
    reference: String,
    pay_token: String,
    notif_token: String,
    status: &'static str,
    txnid: Option<String>,
    expires: Instant,
}

impl WebPayment {
    /// An unpaid payment past its validity is expired from then on.
    fn settle(&mut self, now: Instant) {
        if matches!(self.status, "INITIATED" | "PENDING") && now >= self.expires {
            self.status = "EXPIRED";
        }
    }
}

struct Inner {
    merchants: Vec<Merchant>,
    tokens: Vec<Token>,
    payments: Vec<WebPayment>,
    requests: Vec<ApiRequest>,
    notifications: Vec<Notification>,
    held: VecDeque<(String, String)>,
    holding: bool,
    fail_next: VecDeque<u16>,
    hang: Duration,
    lose_creations: usize,
    token_lifetime: Duration,
    payment_validity: Duration,
}

impl FakeOrange {
    /// Starts the fake on a free port of 127.0.0.1, inside the caller's tokio runtime.
    pub async fn start() -> FakeOrange {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a port");
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(State {
            base_url: base_url.clone(),
            runtime: tokio::runtime::Handle::current(),
            client: reqwest::Client::new(),
            inner: Mutex::new(Inner {
                merchants: Vec::new(),
                tokens: Vec::new(),
                payments: Vec::new(),
                requests: Vec::new(),
                notifications: Vec::new(),
                held: VecDeque::new(),
                holding: false,
                fail_next: VecDeque::new(),
                hang: Duration::ZERO,
                lose_creations: 0,
                token_lifetime: Duration::from_secs(3600),
                payment_validity: Duration::from_secs(600),
            }),
        });
        let data = web::Data::from(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/oauth/v3/token", web::post().to(token))
                .route(
                    "/orange-money-webpay/{country}/v1/{endpoint}",
                    web::post().to(api),
                )
                .route("/payment/pay_token/{token}", web::get().to(payment_page))
                .route("/payment/pay_token/{token}/pay", web::post().to(pay_page))
                .route("/payment/pay_token/{token}/fail", web::post().to(fail_page))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .expect("listen")
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        FakeOrange {
            base_url,
            state,
            handle,
        }
    }

    /// Registers a merchant: its OAuth application's client id and secret, its merchant key,
    /// and its live country (`ci`, `sn`, …).
    pub fn add_merchant(
        &self,
        client_id: &str,
        client_secret: &str,
        merchant_key: &str,
        country: &str,
    ) {
        self.inner().merchants.push(Merchant {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            merchant_key: merchant_key.into(),
            country: country.to_ascii_lowercase(),
        });
    }

    /// How long tokens issued from now on last (their `expires_in`). Default: an hour.
    pub fn set_token_lifetime(&self, lifetime: Duration) {
        self.inner().token_lifetime = lifetime;
    }

    /// How long payments made from now on can be paid. Default: ten minutes.
    pub fn set_payment_validity(&self, validity: Duration) {
        self.inner().payment_validity = validity;
    }

    /// Failure knob: every token issued so far expires now, before its `expires_in` (as when
    /// Orange ends tokens early): the API then answers 401 `Expired credentials` to them.
    pub fn expire_tokens(&self) {
        let now = Instant::now();
        for t in &mut self.inner().tokens {
            t.expires = now;
        }
    }

    /// Failure knob: the next `n` calls to the web payment API (`/orange-money-webpay/…`, not
    /// the token endpoint) are answered `status` and do nothing.
    pub fn fail_next(&self, n: usize, status: u16) {
        self.inner()
            .fail_next
            .extend(std::iter::repeat_n(status, n));
    }

    /// Failure knob: every call (token endpoint and API) is answered only after `delay`, until
    /// called again with `Duration::ZERO`. The call takes effect before the wait.
    pub fn hang_for(&self, delay: Duration) {
        self.inner().hang = delay;
    }

    /// Failure knob: the next `POST …/webpayment` makes its payment and then answers 500, so
    /// its `pay_token` (which the status read needs) is never learnt.
    pub fn lose_next_creation_answer(&self) {
        self.inner().lose_creations += 1;
    }

    /// Failure knob: while on, notifications are kept instead of sent (lost, if never
    /// released); [`FakeOrange::release_notifications`] sends them late.
    pub fn hold_notifications(&self, hold: bool) {
        self.inner().holding = hold;
    }

    /// Sends the held notifications, oldest first, and stops holding.
    pub async fn release_notifications(&self) -> Vec<Notification> {
        let held: Vec<(String, String)> = {
            let mut inner = self.inner();
            inner.holding = false;
            inner.held.drain(..).collect()
        };
        let mut sent = Vec::new();
        for (url, body) in held {
            sent.push(self.state.notify(&url, &body).await);
        }
        sent
    }

    /// Sends a payment's last notification once more, the same body: a duplicate.
    pub async fn resend(&self, pay_token: &str) -> Notification {
        let (url, body) = {
            let inner = self.inner();
            let p = inner.payment(pay_token).expect("a payment of the fake");
            (p.notif_url.clone(), notification_body(p))
        };
        self.state.notify(&url, &body).await
    }

    /// Sends `body` to a payment's `notif_url` as an attacker would (no token of Orange's
    /// needed to do so: the notification is unsigned), and returns what was answered.
    pub async fn send_forged(&self, pay_token: &str, body: &Value) -> Notification {
        let url = self
            .inner()
            .payment(pay_token)
            .expect("a payment of the fake")
            .notif_url
            .clone();
        self.state.notify(&url, &body.to_string()).await
    }

    /// Programmatic "Payer": the payment succeeds, its notification is sent (unless held), and
    /// the `return_url` is returned. An expired, paid, failed or unknown payment is refused.
    pub async fn pay(&self, pay_token: &str) -> Result<String, String> {
        self.state.settle(pay_token, "SUCCESS").await
    }

    /// Programmatic "Échec": the payment fails, its notification is sent, and the
    /// `cancel_url` is returned.
    pub async fn fail(&self, pay_token: &str) -> Result<String, String> {
        self.state.settle(pay_token, "FAILED").await
    }

    /// A payment as the fake keeps it: `{order_id, amount, currency, status, txnid, pay_token,
    /// notif_token, notif_url, return_url, cancel_url, lang, reference, country}`.
    pub fn payment(&self, pay_token: &str) -> Option<Value> {
        let mut inner = self.inner();
        let p = inner.payment_mut(pay_token)?;
        Some(json!({
            "order_id": p.order_id, "amount": p.amount, "currency": p.currency,
            "status": p.status, "txnid": p.txnid, "pay_token": p.pay_token,
            "notif_token": p.notif_token, "notif_url": p.notif_url,
            "return_url": p.return_url, "cancel_url": p.cancel_url, "lang": p.lang,
            "reference": p.reference, "country": p.country,
        }))
    }

    /// The `pay_token` of the payment made for `order_id`.
    pub fn pay_token_of(&self, order_id: &str) -> Option<String> {
        let inner = self.inner();
        inner
            .payments
            .iter()
            .find(|p| p.order_id == order_id)
            .map(|p| p.pay_token.clone())
    }

    /// Every call received, in order.
    pub fn requests(&self) -> Vec<ApiRequest> {
        self.inner().requests.clone()
    }

    /// The calls to one endpoint (`token`, `webpayment`, `transactionstatus`).
    pub fn requests_to(&self, endpoint: &str) -> Vec<ApiRequest> {
        self.requests()
            .into_iter()
            .filter(|r| r.path.ends_with(&format!("/{endpoint}")))
            .collect()
    }

    /// Every notification sent, in order.
    pub fn notifications(&self) -> Vec<Notification> {
        self.inner().notifications.clone()
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.state.inner.lock().unwrap()
    }
}

impl Drop for FakeOrange {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

impl Inner {
    fn payment(&self, pay_token: &str) -> Option<&WebPayment> {
        self.payments.iter().find(|p| p.pay_token == pay_token)
    }

    fn payment_mut(&mut self, pay_token: &str) -> Option<&mut WebPayment> {
        let p = self
            .payments
            .iter_mut()
            .find(|p| p.pay_token == pay_token)?;
        p.settle(Instant::now());
        Some(p)
    }
}

fn notification_body(p: &WebPayment) -> String {
    json!({"status": p.status, "notif_token": p.notif_token, "txnid": p.txnid}).to_string()
}

impl State {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap()
    }

    /// The payment succeeds or fails; returns where the customer goes next.
    async fn settle(
        self: &Arc<Self>,
        pay_token: &str,
        status: &'static str,
    ) -> Result<String, String> {
        let (url, body, next, hold) = {
            let mut inner = self.lock();
            let holding = inner.holding;
            let p = inner
                .payment_mut(pay_token)
                .ok_or("no such payment".to_string())?;
            match p.status {
                "INITIATED" | "PENDING" => {}
                "EXPIRED" => return Err("this payment has expired".into()),
                _ => return Err("this payment is already settled".into()),
            }
            p.status = status;
            if status == "SUCCESS" {
                p.txnid = Some(format!("MP{}", &Uuid::new_v4().as_u128().to_string()[..12]));
            }
            let next = if status == "SUCCESS" {
                p.return_url.clone()
            } else {
                p.cancel_url.clone()
            };
            let (url, body) = (p.notif_url.clone(), notification_body(p));
            if holding {
                inner.held.push_back((url.clone(), body.clone()));
            }
            (url, body, next, holding)
        };
        if !hold {
            let state = Arc::clone(self);
            self.runtime
                .spawn(async move { state.notify(&url, &body).await })
                .await
                .expect("notification sent");
        }
        Ok(next)
    }

    /// One POST of a notification, recorded.
    async fn notify(&self, url: &str, body: &str) -> Notification {
        let outcome = match self
            .client
            .post(url)
            .timeout(Duration::from_secs(5))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
        {
            Ok(res) => Ok(res.status().as_u16()),
            Err(e) => Err(e.to_string()),
        };
        let sent = Notification {
            url: url.to_string(),
            body: body.to_string(),
            outcome,
        };
        self.lock().notifications.push(sent.clone());
        sent
    }
}

// ------------------------------------------------------------------------------------ OAuth

fn reply(status: u16, body: Value) -> HttpResponse {
    HttpResponse::build(StatusCode::from_u16(status).unwrap()).json(body)
}

fn log(inner: &mut Inner, req: &HttpRequest, body: &[u8], status: u16) {
    inner.requests.push(ApiRequest {
        method: req.method().to_string(),
        path: req.path().to_string(),
        body: String::from_utf8_lossy(body).to_string(),
        authorization: req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        status,
    });
}

/// `POST /oauth/v3/token`.
async fn token(req: HttpRequest, body: web::Bytes, state: web::Data<State>) -> HttpResponse {
    let (status, answer, hang) = {
        let mut inner = state.lock();
        let (status, answer) = issue(&mut inner, &req, &body);
        log(&mut inner, &req, &body, status);
        (status, answer, inner.hang)
    };
    if !hang.is_zero() {
        tokio::time::sleep(hang).await;
    }
    reply(status, answer)
}

fn issue(inner: &mut Inner, req: &HttpRequest, body: &[u8]) -> (u16, Value) {
    let invalid_client = (
        401,
        json!({"error": "invalid_client", "error_description": "The requested service needs credentials, but the ones provided were invalid."}),
    );
    let Some((id, secret)) = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| {
            s.split_once(':')
                .map(|(a, b)| (a.to_string(), b.to_string()))
        })
    else {
        return invalid_client;
    };
    let grant: Vec<(String, String)> = url::form_urlencoded::parse(body).into_owned().collect();
    if grant != [("grant_type".to_string(), "client_credentials".to_string())] {
        return (
            400,
            json!({"error": "invalid_request", "error_description": "grant_type=client_credentials is required."}),
        );
    }
    if !inner
        .merchants
        .iter()
        .any(|m| m.client_id == id && m.client_secret == secret)
    {
        return invalid_client;
    }
    let value = Uuid::new_v4().simple().to_string();
    let lifetime = inner.token_lifetime;
    inner.tokens.push(Token {
        value: value.clone(),
        client_id: id,
        expires: Instant::now() + lifetime,
    });
    (
        200,
        json!({"token_type": "Bearer", "access_token": value, "expires_in": lifetime.as_secs()}),
    )
}

// -------------------------------------------------------------------------------------- API

/// `POST /orange-money-webpay/{country}/v1/{webpayment|transactionstatus}`.
async fn api(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Bytes,
    state: web::Data<State>,
) -> HttpResponse {
    let (country, endpoint) = path.into_inner();
    let (status, answer, hang) = {
        let mut inner = state.lock();
        let (status, answer) = match inner.fail_next.pop_front() {
            Some(status) => (
                status,
                json!({"status": status, "message": "Internal Server Error"}),
            ),
            None => match authenticate(&inner, &req) {
                Err(refused) => refused,
                Ok(client_id) => {
                    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                    match endpoint.as_str() {
                        "webpayment" => {
                            create(&mut inner, &state.base_url, &client_id, &country, &body)
                        }
                        "transactionstatus" => {
                            transaction_status(&mut inner, &client_id, &country, &body)
                        }
                        _ => (404, json!({"status": 404, "message": "Resource not found"})),
                    }
                }
            },
        };
        log(&mut inner, &req, &body, status);
        (status, answer, inner.hang)
    };
    if !hang.is_zero() {
        tokio::time::sleep(hang).await;
    }
    reply(status, answer)
}

/// The client id of the request's bearer token, or the gateway's 401.
fn authenticate(inner: &Inner, req: &HttpRequest) -> Result<String, (u16, Value)> {
    let invalid = (
        401,
        json!({"code": 41, "message": "Invalid credentials", "description": "The requested service needs credentials, but the ones provided were invalid."}),
    );
    let Some(value) = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return Err(invalid);
    };
    match inner.tokens.iter().find(|t| t.value == value) {
        None => Err(invalid),
        Some(t) if Instant::now() >= t.expires => Err((
            401,
            json!({"code": 42, "message": "Expired credentials", "description": "The requested service needs credentials, but the ones provided were out-of-date."}),
        )),
        Some(t) => Ok(t.client_id.clone()),
    }
}

fn bad(message: &str) -> (u16, Value) {
    (400, json!({"status": 400, "message": message}))
}

/// `POST …/webpayment`.
fn create(
    inner: &mut Inner,
    base_url: &str,
    client_id: &str,
    country: &str,
    body: &Value,
) -> (u16, Value) {
    let merchant = inner
        .merchants
        .iter()
        .find(|m| m.client_id == client_id)
        .expect("a token's merchant");
    if country != "dev" && country != merchant.country {
        return (
            403,
            json!({"status": 403, "message": "This application cannot use this country's API."}),
        );
    }
    let text = |name: &str| body[name].as_str().map(str::to_string);
    if text("merchant_key").as_deref() != Some(merchant.merchant_key.as_str()) {
        return bad("merchant_key is missing or is not this application's");
    }
    let currency = if country == "dev" { "OUV" } else { "XOF" };
    if text("currency").as_deref() != Some(currency) {
        return bad(&format!("currency must be {currency}"));
    }
    let Some(amount) = body["amount"].as_i64().filter(|a| *a > 0) else {
        return bad("amount must be a positive integer");
    };
    let mut fields = Vec::new();
    for (name, max) in [
        ("order_id", 30),
        ("reference", 30),
        ("return_url", 120),
        ("cancel_url", 120),
        ("notif_url", 120),
    ] {
        match text(name) {
            Some(v) if !v.is_empty() && v.chars().count() <= max => fields.push(v),
            _ => return bad(&format!("{name} is required, at most {max} characters")),
        }
    }
    let lang = match text("lang").as_deref() {
        Some(l @ ("fr" | "en")) => l.to_string(),
        _ => return bad("lang must be fr or en"),
    };
    if inner
        .payments
        .iter()
        .any(|p| p.client_id == client_id && p.order_id == fields[0])
    {
        return bad("order_id is already used");
    }
    let payment = WebPayment {
        client_id: client_id.to_string(),
        country: country.to_string(),
        order_id: fields[0].clone(),
        amount,
        currency: currency.to_string(),
        reference: fields[1].clone(),
        return_url: fields[2].clone(),
        cancel_url: fields[3].clone(),
        notif_url: fields[4].clone(),
        lang,
        pay_token: format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple()),
        notif_token: Uuid::new_v4().simple().to_string(),
        status: "INITIATED",
        txnid: None,
        expires: Instant::now() + inner.payment_validity,
    };
    let answer = json!({
        "status": 201,
        "message": "OK",
        "pay_token": payment.pay_token,
        "payment_url": format!("{base_url}/payment/pay_token/{}", payment.pay_token),
        "notif_token": payment.notif_token,
    });
    inner.payments.push(payment);
    if inner.lose_creations > 0 {
        inner.lose_creations -= 1;
        return (
            500,
            json!({"status": 500, "message": "Internal Server Error"}),
        );
    }
    (201, answer)
}

/// `POST …/transactionstatus`.
fn transaction_status(
    inner: &mut Inner,
    client_id: &str,
    country: &str,
    body: &Value,
) -> (u16, Value) {
    let not_found = (
        404,
        json!({"status": 404, "message": "Transaction not found"}),
    );
    let Some(p) = body["pay_token"]
        .as_str()
        .and_then(|t| inner.payment_mut(t))
    else {
        return not_found;
    };
    if p.client_id != client_id
        || p.country != country
        || body["order_id"].as_str() != Some(p.order_id.as_str())
        || body["amount"].as_i64() != Some(p.amount)
    {
        return not_found;
    }
    (
        200,
        json!({"status": p.status, "order_id": p.order_id, "txnid": p.txnid}),
    )
}

// ----------------------------------------------------------------------------- payment page

/// `GET /payment/pay_token/{token}`: what the customer sees at `payment_url`.
async fn payment_page(token: web::Path<String>, state: web::Data<State>) -> HttpResponse {
    let shown = {
        let mut inner = state.lock();
        inner.payment_mut(&token).map(|p| {
            if p.status == "INITIATED" {
                p.status = "PENDING";
            }
            (p.status, p.amount, p.currency.clone(), p.reference.clone())
        })
    };
    let Some((status, amount, currency, reference)) = shown else {
        return page(
            404,
            "Paiement introuvable",
            "<p>Ce paiement n'existe pas.</p>",
        );
    };
    let title = format!("Orange Money — {} {amount} {currency}", escape(&reference));
    match status {
        "PENDING" => {
            let token = escape(&token);
            page(
                200,
                &title,
                &format!(
                    "<p id=\"amount\">{amount} {currency}</p>\n\
                     <form method=\"post\" action=\"/payment/pay_token/{token}/pay\">\
                     <button type=\"submit\" id=\"pay\">Payer</button></form>\n\
                     <form method=\"post\" action=\"/payment/pay_token/{token}/fail\">\
                     <button type=\"submit\" id=\"fail\">Échec</button></form>"
                ),
            )
        }
        "EXPIRED" => page(200, &title, "<p>Ce paiement a expiré.</p>"),
        _ => page(200, &title, "<p>Ce paiement est terminé.</p>"),
    }
}

async fn pay_page(token: web::Path<String>, state: web::Data<State>) -> HttpResponse {
    match state.into_inner().settle(&token, "SUCCESS").await {
        Ok(next) => see_other(&next),
        Err(why) => page(
            409,
            "Paiement impossible",
            &format!("<p>{}</p>", escape(&why)),
        ),
    }
}

async fn fail_page(token: web::Path<String>, state: web::Data<State>) -> HttpResponse {
    match state.into_inner().settle(&token, "FAILED").await {
        Ok(next) => see_other(&next),
        Err(why) => page(
            409,
            "Paiement impossible",
            &format!("<p>{}</p>", escape(&why)),
        ),
    }
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
