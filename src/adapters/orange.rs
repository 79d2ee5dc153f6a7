//! Orange Money Web Payment ("OM WebPay"), as Orange documents it: the customer pays on
//! Orange's page, Orange notifies caisse without a signature, and caisse confirms with a
//! status read before anything completes.
//!
//! What it relies on (Orange Developer's "Orange Money WebPay — Getting started" guide for the
//! sandbox, as published on developer.orange.com and in copies of it; open-source clients that
//! agree with it, e.g. packagist `foris-master/orange-money-sdk`; see `tests/support/orange.rs`
//! for the sources of each point):
//! - A token from `POST https://api.orange.com/oauth/v3/token`, `Authorization: Basic
//!   base64(client_id:client_secret)`, form body `grant_type=client_credentials`, answered
//!   `{"token_type": "Bearer", "access_token", "expires_in"}` (seconds; some copies show it as
//!   a string). It is **kept until it expires**, per account (the pair of client id and
//!   secret), and renewed once when Orange answers 401 to it anyway (its gateway's
//!   `{"code": 42, "message": "Expired credentials"}`).
//! - The web payment API under `https://api.orange.com/orange-money-webpay/dev/v1` in the
//!   sandbox, whose currency is **`OUV`** (the test environment's XOF), and
//!   `…/orange-money-webpay/{country}/v1` live (`ci`, `sn`, … from the account's `country`), in
//!   XOF. `CAISSE_ORANGE_API_URL` replaces `https://api.orange.com` (tests).
//! - `POST {base}/webpayment` with `{"merchant_key", "currency", "order_id", "amount",
//!   "return_url", "cancel_url", "notif_url", "lang", "reference"}` (amount a JSON integer;
//!   `order_id` and `reference` at most 30 characters, URLs at most 120: a secondary source)
//!   answers 201 `{"status": 201, "message": "OK", "pay_token", "payment_url",
//!   "notif_token"}`; the customer is sent to `payment_url`. `order_id` is the payment's id in
//!   26 characters ([`Payment::short_id`]).
//! - The notification to `notif_url` is JSON `{"status": "SUCCESS"|"FAILED", "notif_token",
//!   "txnid"}`, **unsigned** and without the order's id. So each payment has its own
//!   `notif_url` (the account's `webhook_url` followed by the payment's short id), the
//!   `notif_token` of the start is kept (as an HMAC digest, never the token itself) and
//!   compared in constant time, and even a matching notification is only a hint
//!   ([`Says::Hint`]): what it says of the payment is not trusted.
//! - `POST {base}/transactionstatus` with `{"order_id", "amount", "pay_token"}` answers
//!   `{"status": "INITIATED"|"PENDING"|"EXPIRED"|"SUCCESS"|"FAILED", "order_id", "txnid"}`:
//!   the authoritative read. It names no amount: Orange matches the one asked with the order,
//!   so a `SUCCESS` is the payment's own amount (an `amount` in the answer is read if present),
//!   and an `OUV` answer reads as XOF.
//! - A payment token is valid about ten minutes (secondary), after which the payment reads
//!   `EXPIRED`: the attempt's deadline.
//! - Orange documents **no way to cancel** a web payment, nor to find one whose creation
//!   answer was lost (the status read needs the `pay_token` of that answer). `cancel` says what
//!   a read says: a pending payment stays pending, and the reconciler reads it until it
//!   expires. A payment without a `pay_token` was never shown to anyone (the customer goes to
//!   `payment_url` only after it is recorded), so nothing can be paid on it: it reads as
//!   expired once its start is over.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::Utc;
use hmac::{Hmac, KeyInit, Mac};
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{
    Attempt, CALL_TIMEOUT, Credentials, Forged, Next, Notice, Notification, PaymentProvider,
    ProviderError, Says, Started, unavailable,
};
use crate::domain::money::Currency;
use crate::domain::payment::{Payment, Reading};
use crate::domain::session::Environment;

/// The real service; tests point the adapter at a fake with `CAISSE_ORANGE_API_URL`.
pub const DEFAULT_API_URL: &str = "https://api.orange.com";
/// How long Orange keeps a payment token payable (secondary source: about ten minutes).
const PAYMENT_VALIDITY: chrono::Duration = chrono::Duration::minutes(10);
/// The longest `return_url`, `cancel_url` and `notif_url` Orange takes.
const MAX_URL: usize = 120;
/// The longest `order_id` and `reference`.
const MAX_REFERENCE: usize = 30;
/// The key of the digests of notification tokens kept on payments.
const NOTIF_KEY: &[u8] = b"caisse orange notif_token";

pub struct Orange {
    /// `https://api.orange.com`; its payment pages are where `payment_url`s lead.
    pub api: super::Service,
    /// Access tokens by account (a digest of its client id and secret), until they expire.
    tokens: Mutex<HashMap<[u8; 32], Token>>,
}

#[derive(Clone)]
struct Token {
    value: SecretString,
    expires: Instant,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    expires_in: Option<Value>,
}

#[derive(Deserialize)]
struct Created {
    pay_token: String,
    payment_url: String,
    notif_token: String,
}

#[derive(Deserialize)]
struct Status {
    status: String,
    #[serde(default)]
    order_id: Option<String>,
    #[serde(default)]
    txnid: Option<String>,
    #[serde(default)]
    amount: Option<Value>,
    #[serde(default)]
    currency: Option<String>,
}

#[derive(Deserialize)]
struct Notified {
    #[serde(default)]
    notif_token: String,
    #[serde(default)]
    txnid: Option<String>,
}

/// What is kept on the payment from the start: the `pay_token` the status read needs, and
/// the digest of the `notif_token` its notifications must carry.
#[derive(Serialize, Deserialize)]
struct Kept {
    pay_token: String,
    notif_token_hmac: String,
}

impl Kept {
    fn of(payment: &Payment) -> Option<Kept> {
        serde_json::from_str(payment.provider_data.as_deref()?).ok()
    }
}

fn notif_mac(token: &str) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(NOTIF_KEY).expect("any key length");
    mac.update(token.as_bytes());
    mac
}

/// Whether `token` is the one whose digest was kept (constant-time).
fn notif_token_matches(kept_hex: &str, token: &str) -> bool {
    let Ok(kept) = hex::decode(kept_hex) else {
        return false;
    };
    !token.is_empty() && notif_mac(token).verify_slice(&kept).is_ok()
}

/// A whole number as Orange writes one: a JSON number, or a string of digits.
fn whole_number(value: Option<&Value>) -> Option<u64> {
    match value? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The currency Orange is asked for: the sandbox knows XOF as `OUV`.
fn currency_code(environment: Environment) -> &'static str {
    match environment {
        Environment::Test => "OUV",
        Environment::Live => "XOF",
    }
}

impl Orange {
    pub fn new(api: &str) -> Orange {
        Orange {
            // Orange's payment pages: webpayment.orange-money.com live, other subdomains of it
            // in the sandbox.
            api: super::Service::new(api, DEFAULT_API_URL, "https://*.orange-money.com"),
            tokens: Mutex::new(HashMap::new()),
        }
    }

    /// The web payment API of the payment's environment: the sandbox's, or the account's
    /// country's.
    fn base(&self, environment: Environment, credentials: &Credentials) -> String {
        match environment {
            Environment::Test => format!("{}/orange-money-webpay/dev/v1", self.api.url),
            Environment::Live => format!(
                "{}/orange-money-webpay/{}/v1",
                self.api.url,
                credentials.get("country").to_ascii_lowercase()
            ),
        }
    }

    fn account_key(credentials: &Credentials) -> [u8; 32] {
        let mut digest = Sha256::new();
        digest.update(credentials.get("client_id").as_bytes());
        digest.update([0]);
        digest.update(credentials.get("client_secret").as_bytes());
        digest.finalize().into()
    }

    /// The account's access token: the one kept while it lasts, else a new one.
    async fn token(&self, credentials: &Credentials) -> Result<SecretString, ProviderError> {
        let key = Orange::account_key(credentials);
        if let Some(token) = self.tokens.lock().expect("token cache").get(&key)
            && token.expires > Instant::now()
        {
            return Ok(token.value.clone());
        }
        let res = self
            .api
            .http
            .post(format!("{}/oauth/v3/token", self.api.url))
            .basic_auth(
                credentials.get("client_id"),
                Some(credentials.get("client_secret")),
            )
            .header(reqwest::header::ACCEPT, "application/json")
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .map_err(unavailable)?;
        let status = res.status();
        if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
            return Err(ProviderError::Unavailable(format!(
                "Orange's token endpoint answered {status}"
            )));
        }
        if !status.is_success() {
            return Err(ProviderError::Refused(format!(
                "Orange refused the account's client id and secret ({status})"
            )));
        }
        let answer: TokenAnswer = res.json().await.map_err(unavailable)?;
        let lifetime = whole_number(answer.expires_in.as_ref()).unwrap_or(0);
        // Renewed a little early, so that a token does not expire on its way to Orange.
        let margin = (lifetime / 10).min(60);
        let token = Token {
            value: SecretString::from(answer.access_token),
            expires: Instant::now() + Duration::from_secs(lifetime - margin),
        };
        let value = token.value.clone();
        self.tokens.lock().expect("token cache").insert(key, token);
        Ok(value)
    }

    fn forget_token(&self, credentials: &Credentials) {
        let key = Orange::account_key(credentials);
        self.tokens.lock().expect("token cache").remove(&key);
    }

    /// POSTs `body` to `url` with the account's token, renewed once if Orange answers 401.
    async fn post<T: for<'de> Deserialize<'de>>(
        &self,
        credentials: &Credentials,
        url: &str,
        body: &Value,
    ) -> Result<T, ProviderError> {
        let mut renewed = false;
        loop {
            let token = self.token(credentials).await?;
            let res = self
                .api
                .http
                .post(url)
                .bearer_auth(token.expose_secret())
                .header(reqwest::header::ACCEPT, "application/json")
                .json(body)
                .send()
                .await
                .map_err(unavailable)?;
            let status = res.status();
            if status == StatusCode::UNAUTHORIZED && !renewed {
                // Expired or revoked before its time: one new token, one more try.
                self.forget_token(credentials);
                renewed = true;
                continue;
            }
            if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
                return Err(ProviderError::Unavailable(format!(
                    "Orange answered {status}"
                )));
            }
            let bytes = res.bytes().await.map_err(unavailable)?;
            if !status.is_success() {
                let message = serde_json::from_slice::<Value>(&bytes)
                    .ok()
                    .and_then(|v| v["message"].as_str().map(str::to_string))
                    .unwrap_or_default();
                return Err(ProviderError::Refused(format!(
                    "Orange answered {status} {message}"
                )));
            }
            return serde_json::from_slice(&bytes).map_err(unavailable);
        }
    }
}

/// What a `transactionstatus` answer says of `payment`.
fn reading(answer: &Status, payment: &Payment) -> Result<Reading, ProviderError> {
    if answer
        .order_id
        .as_deref()
        .is_some_and(|o| o != payment.short_id())
    {
        return Err(ProviderError::Unavailable(
            "Orange answered about another order".into(),
        ));
    }
    Ok(match answer.status.as_str() {
        "INITIATED" | "PENDING" => Reading::Pending,
        "SUCCESS" => {
            let amount = match &answer.amount {
                None => payment.amount,
                amount => whole_number(amount.as_ref()).map_or(-1, |a| a as i64),
            };
            // A currency caisse cannot read matches no payment (the amount -1): the money
            // is recorded as unmatched, never taken for the one asked.
            let (amount, currency) = match answer.currency.as_deref() {
                None | Some("OUV") | Some("XOF") => (amount, Currency::Xof),
                Some(other) => other
                    .parse()
                    .map_or((-1, Currency::Xof), |currency| (amount, currency)),
            };
            Reading::Succeeded {
                reference: answer.txnid.clone().unwrap_or_else(|| payment.short_id()),
                amount,
                currency,
            }
        }
        "FAILED" => Reading::Failed {
            code: "FAILED".into(),
            message: "Orange Money reports the payment failed".into(),
        },
        "EXPIRED" => Reading::Expired,
        other => {
            return Err(ProviderError::Unavailable(format!(
                "Orange answered an unknown status {other:?}"
            )));
        }
    })
}

#[async_trait::async_trait]
impl PaymentProvider for Orange {
    async fn start(
        &self,
        credentials: &Credentials,
        attempt: &Attempt<'_>,
    ) -> Result<Started, ProviderError> {
        let payment = attempt.payment;
        if payment.currency != Currency::Xof {
            return Err(ProviderError::Refused("Orange Money takes XOF only".into()));
        }
        for url in [
            &attempt.success_url,
            &attempt.error_url,
            &attempt.notify_url,
        ] {
            if url.len() > MAX_URL {
                return Err(ProviderError::Refused(format!(
                    "{url} is longer than the {MAX_URL} characters Orange takes: \
                     a shorter CAISSE_PUBLIC_URL is needed"
                )));
            }
        }
        let order_id = payment.short_id();
        let title: String = attempt
            .session
            .fields
            .title
            .chars()
            .take(MAX_REFERENCE)
            .collect();
        let reference = if title.trim().is_empty() {
            order_id.clone()
        } else {
            title
        };
        let body = json!({
            "merchant_key": credentials.get("merchant_key"),
            "currency": currency_code(payment.environment),
            "order_id": order_id,
            "amount": payment.amount,
            "return_url": attempt.success_url,
            "cancel_url": attempt.error_url,
            "notif_url": attempt.notify_url,
            "lang": attempt.lang,
            "reference": reference,
        });
        let url = format!("{}/webpayment", self.base(payment.environment, credentials));
        let created: Created = self.post(credentials, &url, &body).await?;
        let kept = Kept {
            pay_token: created.pay_token,
            notif_token_hmac: hex::encode(notif_mac(&created.notif_token).finalize().into_bytes()),
        };
        Ok(Started {
            reference: None,
            next: Next::Redirect(created.payment_url),
            expires_at: Some(Utc::now() + PAYMENT_VALIDITY),
            provider_data: Some(serde_json::to_string(&kept).expect("strings are JSON")),
        })
    }

    fn verify(
        &self,
        _: &Credentials,
        notification: &Notification<'_>,
    ) -> Result<Option<Notice>, Forged> {
        let payment = notification.payment.ok_or(Forged(
            "Orange's notifications are taken only at a payment's own notif_url",
        ))?;
        let kept = Kept::of(payment).ok_or(Forged("no notif_token was kept for this payment"))?;
        let body: Notified = serde_json::from_slice(notification.body)
            .map_err(|_| Forged("not an Orange notification"))?;
        if !notif_token_matches(&kept.notif_token_hmac, &body.notif_token) {
            return Err(Forged("the notif_token does not match"));
        }
        Ok(Some(Notice {
            event_id: body.txnid,
            payment_id: payment.id,
            says: Says::Hint,
        }))
    }

    async fn read(
        &self,
        credentials: &Credentials,
        payment: &Payment,
    ) -> Result<Reading, ProviderError> {
        let Some(kept) = Kept::of(payment) else {
            // Its creation answer never arrived: no customer was sent to it. Once the start
            // is over (answered or given up), nothing can be paid on it.
            let start_over = payment.created_at
                + chrono::Duration::from_std(CALL_TIMEOUT * 2).expect("a short duration");
            return Ok(if Utc::now() > start_over {
                Reading::Expired
            } else {
                Reading::Pending
            });
        };
        let url = format!(
            "{}/transactionstatus",
            self.base(payment.environment, credentials)
        );
        let body = json!({
            "order_id": payment.short_id(),
            "amount": payment.amount,
            "pay_token": kept.pay_token,
        });
        let answer: Status = self.post(credentials, &url, &body).await?;
        reading(&answer, payment)
    }

    /// Orange documents no cancel: the payment is what a read says, and one still pending
    /// stays payable until its token expires (the reconciler reads it until then).
    async fn cancel(
        &self,
        credentials: &Credentials,
        payment: &Payment,
    ) -> Result<Reading, ProviderError> {
        self.read(credentials, payment).await
    }
}

#[cfg(test)]
mod tests;
