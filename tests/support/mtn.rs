//! A local fake of MTN MoMo's Collection API (request-to-pay): a real HTTP server on 127.0.0.1
//! that behaves as MTN's documentation says — the token endpoint, `requesttopay` and its
//! status read, and the unsigned callback sent to `X-Callback-Url` — so that caisse's MTN
//! adapter can be tested without reaching MTN. It follows the documentation, not an adapter;
//! where the documentation is silent, the choices made are listed under the second heading.
//!
//! # What MTN documents, and where it was read
//!
//! - **[api]** MTN MoMo Developer, Collection API reference (momodeveloper.mtn.com, "API
//!   collections": `CreateAccessToken`, `RequesttoPay`, `RequesttoPayTransactionStatus`), and
//!   MTN Group's official JavaScript SDK (`MTN-Group/MoMoAPIs_Javascript_sdk`,
//!   `src/modules/Collections/requestToPay.js`, `src/apis/generateToken.js`) calling the same: every call carries `Ocp-Apim-Subscription-Key` (a
//!   missing or wrong one is the gateway's 401 `{"statusCode": 401, "message": "Access denied
//!   due to invalid subscription key…"}`); `POST /collection/token/` with `Authorization: Basic
//!   base64(api_user:api_key)` answers `{"access_token", "token_type": "access_token",
//!   "expires_in": 3600}`; `POST /collection/v1_0/requesttopay` with `Authorization: Bearer`,
//!   `X-Reference-Id` (UUID v4), `X-Target-Environment`, optional `X-Callback-Url`, and
//!   `{"amount", "currency", "externalId", "payer": {"partyIdType": "MSISDN", "partyId"},
//!   "payerMessage", "payeeNote"}` answers **202** with no body, 409 `RESOURCE_ALREADY_EXIST`
//!   for a reference id already used, 400 for a bad body; `GET
//!   /collection/v1_0/requesttopay/{referenceId}` answers `{"amount", "currency",
//!   "financialTransactionId", "externalId", "payer", "payerMessage", "payeeNote", "status":
//!   "PENDING" | "SUCCESSFUL" | "FAILED", "reason"}`, 404 `RESOURCE_NOT_FOUND` for an unknown
//!   one. The sandbox (`X-Target-Environment: sandbox`) takes only `EUR`.
//! - **[callback]** momodeveloper.mtn.com/api-documentation/callback: the final result is sent
//!   to the callback URL, with PUT or POST ("allow PUT & POST on your callback listener");
//!   its body is the status read's; it carries no signature.
//! - **[reasons]** MTN's error-reason table (momodeveloper.mtn.com): `PAYER_NOT_FOUND`,
//!   `APPROVAL_REJECTED`, `EXPIRED`, `NOT_ENOUGH_FUNDS`, `COULD_NOT_PERFORM_TRANSACTION` ("a
//!   delay to approve a transaction within the given time frame (5 minutes)").
//! - **[practices]** MTN's developer community "best practices": a token lasts 60 minutes.
//!
//! # What is chosen where the documentation is silent
//!
//! - One API user per [`FakeMtn::add_user`], bound to its subscription key and to the target
//!   environments it may use; another is 403 `NOT_ALLOWED_TARGET_ENVIRONMENT`. A request is
//!   seen only by its API user, in its target environment. A currency other than the
//!   sandbox's `EUR` (or, elsewhere, other than XOF/XAF) is 400 `INVALID_CURRENCY`.
//! - A bad or expired bearer token is 401 `{"statusCode": 401, "message": "Access denied due
//!   to invalid or expired access token."}`.
//! - A request stays `PENDING` until the test says what the payer did ([`FakeMtn::approve`],
//!   [`FakeMtn::decline`]), or its approval window (five minutes, [`FakeMtn::
//!   set_approval_window`]) passes: then it is `FAILED` with reason `EXPIRED`.
//! - The callback is sent once, as POST (or PUT, [`FakeMtn::callback_with_put`]), JSON, no
//!   other header, with a 5-second timeout.
//!
//! Every failure knob is a method with its own doc comment: `fail_starts`, `fail_reads`, `fail_tokens_next`,
//! `hang_for`, `hang_starts_for`, `lose_next_acceptance`, `expire_tokens`, `hold_callbacks`, `resend`,
//! `send_forged`, `approve_paying`. Nothing listens beyond 127.0.0.1; every wait is bounded.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine;
use serde_json::{Value, json};
use uuid::Uuid;

/// One call to the fake, with the headers MTN's API reads.
#[derive(Debug, Clone)]
pub struct ApiRequest {
    pub method: String,
    pub path: String,
    pub body: String,
    pub authorization: Option<String>,
    pub subscription_key: Option<String>,
    pub reference_id: Option<String>,
    pub target_environment: Option<String>,
    pub callback_url: Option<String>,
    /// The status the fake answered.
    pub status: u16,
}

impl ApiRequest {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// One callback sent to an `X-Callback-Url`.
#[derive(Debug, Clone)]
pub struct Callback {
    pub url: String,
    pub method: String,
    pub body: String,
    /// The status answered, or why there was none.
    pub outcome: Result<u16, String>,
}

pub struct FakeMtn {
    /// What an operator would set as `CAISSE_MTN_API_URL`: `http://127.0.0.1:<port>`.
    pub base_url: String,
    state: Arc<State>,
    handle: actix_web::dev::ServerHandle,
}

struct State {
    runtime: tokio::runtime::Handle,
    client: reqwest::Client,
    inner: Mutex<Inner>,
}

struct User {
    subscription_key: String,
    api_user: String,
    api_key: String,
    targets: Vec<String>,
}

struct Token {
    value: String,
    api_user: String,
    expires: Instant,
}

#[derive(Clone)]
struct Request {
    reference: String,
    api_user: String,
    target: String,
    amount: String,
    currency: String,
    external_id: String,
    party_id: String,
    payer_message: String,
    payee_note: String,
    callback_url: Option<String>,
    status: &'static str,
    reason: Option<String>,
    transaction_id: Option<String>,
    /// What the payer paid, when it is not what was asked (a knob).
    paid: Option<String>,
    expires: Instant,
}

impl Request {
    fn settle(&mut self, now: Instant) {
        if self.status == "PENDING" && now >= self.expires {
            self.status = "FAILED";
            self.reason = Some("EXPIRED".into());
        }
    }

    fn view(&self) -> Value {
        let mut v = json!({
            "amount": self.paid.clone().unwrap_or_else(|| self.amount.clone()),
            "currency": self.currency, "externalId": self.external_id,
            "payer": {"partyIdType": "MSISDN", "partyId": self.party_id},
            "payerMessage": self.payer_message, "payeeNote": self.payee_note,
            "status": self.status,
        });
        if let Some(t) = &self.transaction_id {
            v["financialTransactionId"] = json!(t);
        }
        if let Some(r) = &self.reason {
            v["reason"] = json!(r);
        }
        v
    }
}

struct Inner {
    users: Vec<User>,
    tokens: Vec<Token>,
    requests: Vec<Request>,
    log: Vec<ApiRequest>,
    callbacks: Vec<Callback>,
    held: VecDeque<(String, String)>,
    holding: bool,
    put: bool,
    fail_starts: VecDeque<u16>,
    fail_reads: VecDeque<u16>,
    fail_tokens: VecDeque<u16>,
    hang: Duration,
    hang_starts: Duration,
    lose_acceptances: usize,
    token_lifetime: Duration,
    approval_window: Duration,
}

impl FakeMtn {
    /// Starts the fake on a free port of 127.0.0.1, inside the caller's tokio runtime.
    pub async fn start() -> FakeMtn {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a port");
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(State {
            runtime: tokio::runtime::Handle::current(),
            client: reqwest::Client::new(),
            inner: Mutex::new(Inner {
                users: Vec::new(),
                tokens: Vec::new(),
                requests: Vec::new(),
                log: Vec::new(),
                callbacks: Vec::new(),
                held: VecDeque::new(),
                holding: false,
                put: false,
                fail_starts: VecDeque::new(),
                fail_reads: VecDeque::new(),
                fail_tokens: VecDeque::new(),
                hang: Duration::ZERO,
                hang_starts: Duration::ZERO,
                lose_acceptances: 0,
                token_lifetime: Duration::from_secs(3600),
                approval_window: Duration::from_secs(300),
            }),
        });
        let data = web::Data::from(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/collection/token/", web::post().to(token))
                .route(
                    "/collection/v1_0/requesttopay",
                    web::post().to(request_to_pay),
                )
                .route(
                    "/collection/v1_0/requesttopay/{reference}",
                    web::get().to(request_status),
                )
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .expect("listen")
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        FakeMtn {
            base_url,
            state,
            handle,
        }
    }

    /// Registers an API user of a Collection subscription, and the target environments
    /// (`sandbox`, `mtnivorycoast`, …) it may use.
    pub fn add_user(
        &self,
        subscription_key: &str,
        api_user: &str,
        api_key: &str,
        targets: &[&str],
    ) {
        self.inner().users.push(User {
            subscription_key: subscription_key.into(),
            api_user: api_user.into(),
            api_key: api_key.into(),
            targets: targets.iter().map(|t| t.to_string()).collect(),
        });
    }

    /// How long tokens issued from now on last (`expires_in`). Default: an hour.
    pub fn set_token_lifetime(&self, lifetime: Duration) {
        self.inner().token_lifetime = lifetime;
    }

    /// How long requests made from now on may be approved. Default: five minutes.
    pub fn set_approval_window(&self, window: Duration) {
        self.inner().approval_window = window;
    }

    /// Failure knob: every token issued so far expires now, before its `expires_in`.
    pub fn expire_tokens(&self) {
        let now = Instant::now();
        for t in &mut self.inner().tokens {
            t.expires = now;
        }
    }

    /// Failure knob: the next `n` starts (`POST requesttopay`) are answered `status` and do
    /// nothing.
    pub fn fail_starts(&self, n: usize, status: u16) {
        self.inner()
            .fail_starts
            .extend(std::iter::repeat_n(status, n));
    }

    /// Failure knob: the next `n` status reads (`GET requesttopay/{id}`) are answered `status`.
    pub fn fail_reads(&self, n: usize, status: u16) {
        self.inner()
            .fail_reads
            .extend(std::iter::repeat_n(status, n));
    }

    /// Failure knob: the next `n` calls to the token endpoint are answered `status`.
    pub fn fail_tokens_next(&self, n: usize, status: u16) {
        self.inner()
            .fail_tokens
            .extend(std::iter::repeat_n(status, n));
    }

    /// Failure knob: every call is answered only after `delay`, until called again with
    /// `Duration::ZERO`.
    pub fn hang_for(&self, delay: Duration) {
        self.inner().hang = delay;
    }

    /// Failure knob: starts (`POST requesttopay`) are made at once but answered only after
    /// `delay`, until called again with `Duration::ZERO`.
    pub fn hang_starts_for(&self, delay: Duration) {
        self.inner().hang_starts = delay;
    }

    /// Failure knob: the next `requesttopay` is accepted (the request exists, the payer is
    /// prompted) but answered 500, as when its 202 is lost on the way.
    pub fn lose_next_acceptance(&self) {
        self.inner().lose_acceptances += 1;
    }

    /// Callbacks are sent with PUT rather than POST.
    pub fn callback_with_put(&self, put: bool) {
        self.inner().put = put;
    }

    /// Failure knob: while on, callbacks are kept instead of sent (lost, if never released);
    /// [`FakeMtn::release_callbacks`] sends them late.
    pub fn hold_callbacks(&self, hold: bool) {
        self.inner().holding = hold;
    }

    pub async fn release_callbacks(&self) -> Vec<Callback> {
        let held: Vec<_> = {
            let mut inner = self.inner();
            inner.holding = false;
            inner.held.drain(..).collect()
        };
        let mut sent = Vec::new();
        for (url, body) in held {
            sent.push(self.state.call_back(&url, &body).await);
        }
        sent
    }

    /// The payer approves: the request succeeds, its callback is sent (unless held).
    pub async fn approve(&self, reference: &str) -> Result<(), String> {
        self.state.settle(reference, "SUCCESSFUL", None, None).await
    }

    /// Knob for odd amounts: the payer approves, and MTN's answers say `amount` was paid.
    pub async fn approve_paying(&self, reference: &str, amount: &str) -> Result<(), String> {
        let paid = Some(amount.to_string());
        self.state.settle(reference, "SUCCESSFUL", None, paid).await
    }

    /// The request fails with `reason` (`APPROVAL_REJECTED`, `NOT_ENOUGH_FUNDS`, …).
    pub async fn decline(&self, reference: &str, reason: &str) -> Result<(), String> {
        let reason = Some(reason.to_string());
        self.state.settle(reference, "FAILED", reason, None).await
    }

    /// Sends a request's callback once more, the same body: a duplicate.
    pub async fn resend(&self, reference: &str) -> Callback {
        let (url, body) = {
            let mut inner = self.inner();
            let r = inner.request_mut(reference).expect("a request of the fake");
            (
                r.callback_url.clone().expect("a callback URL"),
                r.view().to_string(),
            )
        };
        self.state.call_back(&url, &body).await
    }

    /// Sends `body` to `url` as anyone could (the callback is unsigned).
    pub async fn send_forged(&self, url: &str, body: &Value) -> Callback {
        self.state.call_back(url, &body.to_string()).await
    }

    /// A request as the fake has it: the status read's body, and its `callback_url`.
    pub fn request(&self, reference: &str) -> Option<Value> {
        let mut inner = self.inner();
        let r = inner.request_mut(reference)?;
        let mut v = r.view();
        v["callback_url"] = json!(r.callback_url);
        v["target"] = json!(r.target);
        Some(v)
    }

    /// How many requests-to-pay the fake holds (accepted or lost).
    pub fn request_count(&self) -> usize {
        self.inner().requests.len()
    }

    /// Every call received, in order.
    pub fn calls(&self) -> Vec<ApiRequest> {
        self.inner().log.clone()
    }

    /// The calls to one of `token`, `start` (POST requesttopay) or `status` (GET).
    pub fn calls_to(&self, kind: &str) -> Vec<ApiRequest> {
        self.calls()
            .into_iter()
            .filter(|c| match kind {
                "token" => c.path == "/collection/token/",
                "start" => c.method == "POST" && c.path == "/collection/v1_0/requesttopay",
                _ => c.method == "GET",
            })
            .collect()
    }

    pub fn callbacks(&self) -> Vec<Callback> {
        self.inner().callbacks.clone()
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.state.inner.lock().unwrap()
    }
}

impl Drop for FakeMtn {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

impl Inner {
    fn request_mut(&mut self, reference: &str) -> Option<&mut Request> {
        let r = self
            .requests
            .iter_mut()
            .find(|r| r.reference == reference)?;
        r.settle(Instant::now());
        Some(r)
    }
}

impl State {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap()
    }

    async fn settle(
        self: &Arc<Self>,
        reference: &str,
        status: &'static str,
        reason: Option<String>,
        paid: Option<String>,
    ) -> Result<(), String> {
        let (send, hold) = {
            let mut inner = self.lock();
            let holding = inner.holding;
            let r = inner.request_mut(reference).ok_or("no such request")?;
            if r.status != "PENDING" {
                return Err(format!("the request is already {}", r.status));
            }
            r.status = status;
            r.reason = reason;
            r.paid = paid;
            if status == "SUCCESSFUL" {
                r.transaction_id = Some(Uuid::new_v4().as_u128().to_string()[..10].to_string());
            }
            let send = r
                .callback_url
                .clone()
                .map(|url| (url, r.view().to_string()));
            if let (true, Some(s)) = (holding, &send) {
                inner.held.push_back(s.clone());
            }
            (send, holding)
        };
        if let (false, Some((url, body))) = (hold, send) {
            let state = Arc::clone(self);
            self.runtime
                .spawn(async move { state.call_back(&url, &body).await })
                .await
                .expect("callback sent");
        }
        Ok(())
    }

    async fn call_back(&self, url: &str, body: &str) -> Callback {
        let method = if self.lock().put { "PUT" } else { "POST" };
        let req = if method == "PUT" {
            self.client.put(url)
        } else {
            self.client.post(url)
        };
        let outcome = match req
            .timeout(Duration::from_secs(5))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
        {
            Ok(res) => Ok(res.status().as_u16()),
            Err(e) => Err(e.to_string()),
        };
        let sent = Callback {
            url: url.into(),
            method: method.into(),
            body: body.into(),
            outcome,
        };
        self.lock().callbacks.push(sent.clone());
        sent
    }
}

// ---------------------------------------------------------------------------------- answers

fn reply(status: u16, body: Option<Value>) -> HttpResponse {
    let mut res = HttpResponse::build(StatusCode::from_u16(status).unwrap());
    match body {
        Some(b) => res.json(b),
        None => res.finish(),
    }
}

fn error(status: u16, code: &str, message: &str) -> (u16, Option<Value>) {
    (status, Some(json!({"code": code, "message": message})))
}

fn header(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Logs the call and answers it, after the hang if one is set.
async fn answer(
    state: &State,
    req: &HttpRequest,
    body: &[u8],
    handle: impl FnOnce(&mut Inner) -> (u16, Option<Value>),
) -> HttpResponse {
    let (status, answer, hang) = {
        let mut inner = state.lock();
        let (status, answer) = handle(&mut inner);
        inner.log.push(ApiRequest {
            method: req.method().to_string(),
            path: req.path().to_string(),
            body: String::from_utf8_lossy(body).to_string(),
            authorization: header(req, "authorization"),
            subscription_key: header(req, "ocp-apim-subscription-key"),
            reference_id: header(req, "x-reference-id"),
            target_environment: header(req, "x-target-environment"),
            callback_url: header(req, "x-callback-url"),
            status,
        });
        let starting = req.method() == "POST" && req.path().ends_with("/requesttopay");
        let hang = if starting && !inner.hang_starts.is_zero() {
            inner.hang_starts
        } else {
            inner.hang
        };
        (status, answer, hang)
    };
    if !hang.is_zero() {
        tokio::time::sleep(hang).await;
    }
    reply(status, answer)
}

/// The gateway's check of the subscription key: the users it belongs to.
fn subscribed(inner: &Inner, req: &HttpRequest) -> Result<Vec<String>, (u16, Option<Value>)> {
    let key = header(req, "ocp-apim-subscription-key").unwrap_or_default();
    let users: Vec<String> = inner
        .users
        .iter()
        .filter(|u| !key.is_empty() && u.subscription_key == key)
        .map(|u| u.api_user.clone())
        .collect();
    if users.is_empty() {
        return Err((
            401,
            Some(
                json!({"statusCode": 401, "message": "Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription."}),
            ),
        ));
    }
    Ok(users)
}

/// `POST /collection/token/`.
async fn token(req: HttpRequest, body: web::Bytes, state: web::Data<State>) -> HttpResponse {
    answer(&state, &req, &body, |inner| {
        if let Some(status) = inner.fail_tokens.pop_front() {
            return error(status, "INTERNAL_PROCESSING_ERROR", "An internal error occurred.");
        }
        let users = match subscribed(inner, &req) {
            Ok(users) => users,
            Err(refused) => return refused,
        };
        let basic = header(&req, "authorization")
            .and_then(|v| v.strip_prefix("Basic ").map(str::to_string))
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| s.split_once(':').map(|(a, b)| (a.to_string(), b.to_string())));
        let Some((user, key)) = basic.filter(|(user, key)| {
            users.contains(user) && inner.users.iter().any(|u| &u.api_user == user && &u.api_key == key)
        }) else {
            return (401, Some(json!({"error": "login_failed"})));
        };
        let _ = key;
        let value = format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple());
        let lifetime = inner.token_lifetime;
        inner.tokens.push(Token { value: value.clone(), api_user: user, expires: Instant::now() + lifetime });
        (200, Some(json!({"access_token": value, "token_type": "access_token", "expires_in": lifetime.as_secs()})))
    })
    .await
}

/// The API user of the call's bearer token, in a target environment it may use.
fn authorized(inner: &Inner, req: &HttpRequest) -> Result<(String, String), (u16, Option<Value>)> {
    let users = subscribed(inner, req)?;
    let expired = (
        401,
        Some(
            json!({"statusCode": 401, "message": "Access denied due to invalid or expired access token."}),
        ),
    );
    let Some(bearer) =
        header(req, "authorization").and_then(|v| v.strip_prefix("Bearer ").map(str::to_string))
    else {
        return Err(expired);
    };
    let Some(t) = inner
        .tokens
        .iter()
        .find(|t| t.value == bearer && users.contains(&t.api_user))
    else {
        return Err(expired);
    };
    if Instant::now() >= t.expires {
        return Err(expired);
    }
    let target = header(req, "x-target-environment").unwrap_or_default();
    let user = inner
        .users
        .iter()
        .find(|u| u.api_user == t.api_user)
        .expect("a token's user");
    if !user.targets.contains(&target) {
        return Err(error(
            403,
            "NOT_ALLOWED_TARGET_ENVIRONMENT",
            "Access to target environment is forbidden.",
        ));
    }
    Ok((t.api_user.clone(), target))
}

/// `POST /collection/v1_0/requesttopay`.
async fn request_to_pay(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<State>,
) -> HttpResponse {
    answer(&state, &req, &body, |inner| {
        if let Some(status) = inner.fail_starts.pop_front() {
            return error(
                status,
                "INTERNAL_PROCESSING_ERROR",
                "An internal error occurred.",
            );
        }
        let (user, target) = match authorized(inner, &req) {
            Ok(ok) => ok,
            Err(refused) => return refused,
        };
        let Some(reference) = header(&req, "x-reference-id")
            .filter(|r| Uuid::parse_str(r).is_ok_and(|u| u.get_version_num() == 4))
        else {
            return error(
                400,
                "INVALID_REFERENCE_ID",
                "X-Reference-Id must be a UUID v4.",
            );
        };
        if inner.requests.iter().any(|r| r.reference == reference) {
            return error(
                409,
                "RESOURCE_ALREADY_EXIST",
                "Duplicated reference id. Creation of resource failed.",
            );
        }
        let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let text = |v: &Value| v.as_str().map(str::to_string);
        let amount = text(&body["amount"]).filter(|a| a.parse::<f64>().is_ok_and(|n| n > 0.0));
        let party = text(&body["payer"]["partyId"])
            .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
        let (Some(amount), Some(party), Some(currency), Some(external_id)) = (
            amount,
            party,
            text(&body["currency"]),
            text(&body["externalId"]),
        ) else {
            return error(
                400,
                "INVALID_REQUEST",
                "amount, currency, externalId and payer are required.",
            );
        };
        if body["payer"]["partyIdType"] != "MSISDN" {
            return error(400, "INVALID_REQUEST", "payer.partyIdType must be MSISDN.");
        }
        let allowed = if target == "sandbox" {
            &["EUR"][..]
        } else {
            &["XOF", "XAF"][..]
        };
        if !allowed.contains(&currency.as_str()) {
            return error(400, "INVALID_CURRENCY", "Currency not supported.");
        }
        inner.requests.push(Request {
            reference,
            api_user: user,
            target,
            amount,
            currency,
            external_id,
            party_id: party,
            payer_message: text(&body["payerMessage"]).unwrap_or_default(),
            payee_note: text(&body["payeeNote"]).unwrap_or_default(),
            callback_url: header(&req, "x-callback-url"),
            status: "PENDING",
            reason: None,
            transaction_id: None,
            paid: None,
            expires: Instant::now() + inner.approval_window,
        });
        if inner.lose_acceptances > 0 {
            inner.lose_acceptances -= 1;
            return error(
                500,
                "INTERNAL_PROCESSING_ERROR",
                "An internal error occurred.",
            );
        }
        (202, None)
    })
    .await
}

/// `GET /collection/v1_0/requesttopay/{referenceId}`.
async fn request_status(
    req: HttpRequest,
    reference: web::Path<String>,
    state: web::Data<State>,
) -> HttpResponse {
    answer(&state, &req, &[], |inner| {
        if let Some(status) = inner.fail_reads.pop_front() {
            return error(
                status,
                "INTERNAL_PROCESSING_ERROR",
                "An internal error occurred.",
            );
        }
        let (user, target) = match authorized(inner, &req) {
            Ok(ok) => ok,
            Err(refused) => return refused,
        };
        match inner.request_mut(&reference) {
            Some(r) if r.api_user == user && r.target == target => (200, Some(r.view())),
            _ => error(
                404,
                "RESOURCE_NOT_FOUND",
                "Requested resource was not found.",
            ),
        }
    })
    .await
}
