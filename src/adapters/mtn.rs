//! MTN MoMo's Collection API (request-to-pay), as MTN documents it: caisse asks MTN to collect
//! from the payer's number, the payer approves the prompt on their phone (or in the MoMo USSD
//! menu) while the page waits, MTN calls back without a signature, and a status read settles.
//!
//! What it relies on (MTN MoMo Developer, momodeveloper.mtn.com: the Collection API reference,
//! its "Callback" page, its error-reason table and its community's "best practices"; MTN
//! Group's official JavaScript SDK, GitHub `MTN-Group/MoMoAPIs_Javascript_sdk`, whose
//! `Collections` module calls the same paths with the same headers; see
//! `tests/support/mtn.rs` for the sources of each point):
//! - Every call carries the product's `Ocp-Apim-Subscription-Key`.
//! - A token from `POST {base}/collection/token/` with `Authorization: Basic
//!   base64(api_user:api_key)`, answered `{"access_token", "token_type", "expires_in"}`
//!   (seconds: an hour). It is **kept until it expires**, per account (its subscription key,
//!   API user and key), renewed ten minutes early as MTN advises (for an hour's token), and
//!   renewed once when MTN answers 401 to it anyway.
//! - `POST {base}/collection/v1_0/requesttopay` with `Authorization: Bearer`, `X-Reference-Id`
//!   (a UUID v4 the caller makes: **the payment's id**), `X-Target-Environment` (the account's
//!   `target_environment`: `sandbox`, `mtnivorycoast`, `mtnbenin`, `mtncameroon`, …),
//!   `X-Callback-Url` ([`Attempt::notify_url`], the payment's own URL), and the JSON body
//!   `{"amount": "<string>", "currency", "externalId", "payer": {"partyIdType": "MSISDN",
//!   "partyId": "<E.164 digits, no +>"}, "payerMessage", "payeeNote"}`, answered **202
//!   Accepted** with no body. A reference id already used is 409 (`RESOURCE_ALREADY_EXIST`).
//! - `GET {base}/collection/v1_0/requesttopay/{X-Reference-Id}` answers `{"status": "PENDING" |
//!   "SUCCESSFUL" | "FAILED", "financialTransactionId", "externalId", "amount", "currency",
//!   "payer", "reason"}`: the authoritative read. The request is found by the id caisse made,
//!   so a 202 that was lost (caisse stopped between MTN's answer and its own write) is found
//!   again, never sent twice; a 404 (`RESOURCE_NOT_FOUND`) is a request that never reached
//!   MTN, which nobody can pay once the start is over. Amount and currency are read from the
//!   answer: a success for another amount is money that matches no payment, never a completion.
//! - `reason` names why a request failed (`PAYER_NOT_FOUND`, `APPROVAL_REJECTED`, `EXPIRED`,
//!   `NOT_ENOUGH_FUNDS`, `COULD_NOT_PERFORM_TRANSACTION`, …; the names vary by country, as a
//!   string or `{code, message}`): kept as the failure's code and message.
//! - The payer has **five minutes** to approve (the error-reason table: a request not approved
//!   "within the given time frame (5 minutes)" fails; the best practices: read the status five
//!   minutes after a request whose callback did not come). That is the attempt's deadline.
//! - The callback to `X-Callback-Url` (POST or PUT, "allow PUT & POST") carries the request's
//!   status but **no signature**, and is sent once (or retried: the pages disagree). So it is
//!   taken only at the payment's own URL, and only as a hint ([`Says::Hint`]): the status
//!   read alone settles, whatever the callback's body says. MTN calls back only to the API
//!   user's registered callback host (`providerCallbackHost` in the sandbox, the partner
//!   portal live): caisse's public host must be the one registered; a callback that never
//!   comes only delays the reconciler's read.
//! - MTN documents **no cancel** of a request-to-pay: `cancel` says what a read says, and a
//!   request still pending stays payable until it fails at MTN (the reconciler reads it).
//!
//! Where caisse decides:
//! - **Live and sandbox.** `CAISSE_MTN_API_URL` is the live `https://proxy.momoapi.mtn.com`
//!   unless set. A test-environment account must have `target_environment=sandbox`, and its
//!   payments go to MTN's sandbox host `https://sandbox.momodeveloper.mtn.com` (or to
//!   `CAISSE_MTN_API_URL` when it is set elsewhere, a test double); a live account must name a
//!   real market, never `sandbox`, so that live money is never asked of the sandbox and a
//!   test session never moves real money. The target environment of the start is kept on the
//!   payment, so its reads go where its start went.
//! - **Currencies.** MTN's West and Central African markets take XOF (Côte d'Ivoire, Benin)
//!   and XAF (Cameroon, Congo): those are the currencies MTN is offered for
//!   ([`crate::domain::provider::Provider::takes`]). The sandbox takes only `EUR`: a test
//!   attempt is sent as the same number in `EUR`, and a sandbox answer in `EUR` reads as the
//!   payment's own currency (as Orange's sandbox `OUV` reads as XOF). No EUR session is offered
//!   MTN: no MoMo market pays in euros.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::Utc;
use reqwest::{RequestBuilder, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{
    Attempt, CALL_TIMEOUT, Credentials, Forged, Next, Notice, Notification, PaymentProvider,
    ProviderError, Says, Started, unavailable,
};
use crate::domain::money::Currency;
use crate::domain::payment::{Payment, PaymentStatus, Reading};
use crate::domain::session::Environment;
use status::{Status, message_of, msisdn, reading, seconds};

mod status;

/// The live service; tests point the adapter at a fake with `CAISSE_MTN_API_URL`.
pub const DEFAULT_API_URL: &str = "https://proxy.momoapi.mtn.com";
/// MTN's sandbox, where test-environment accounts (`target_environment=sandbox`) are sent
/// while `CAISSE_MTN_API_URL` is the live default.
pub const SANDBOX_API_URL: &str = "https://sandbox.momodeveloper.mtn.com";
/// The sandbox's `X-Target-Environment`.
pub const SANDBOX: &str = "sandbox";
/// How long the payer has to approve a request (MTN: five minutes).
pub const APPROVAL_WINDOW: chrono::Duration = chrono::Duration::minutes(5);
/// The longest `payerMessage` and `payeeNote` sent.
const MAX_NOTE: usize = 160;

pub struct Mtn {
    /// The configured base URL; MoMo has no payment pages (the payer approves on the phone).
    pub api: super::Service,
    /// Access tokens by account (a digest of its subscription key, API user and key, and of
    /// the host they are for), until they expire.
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

/// What is kept on the payment from an accepted start: the target environment it went to,
/// so its reads go there too, and the page names the payer's network.
#[derive(Serialize, Deserialize)]
struct Kept {
    target_environment: String,
}

impl Kept {
    fn of(payment: &Payment) -> Option<Kept> {
        serde_json::from_str(payment.provider_data.as_deref()?).ok()
    }
}

/// The target environment an MTN payment's request went to (`mtnivorycoast`, `sandbox`…),
/// once MTN accepted it.
pub fn target_environment(payment: &Payment) -> Option<String> {
    Kept::of(payment).map(|k| k.target_environment)
}

impl Mtn {
    pub fn new(api: &str) -> Mtn {
        Mtn {
            api: super::Service::new(api, DEFAULT_API_URL, DEFAULT_API_URL),
            tokens: Mutex::new(HashMap::new()),
        }
    }

    /// Where an account's calls go: the sandbox host for the sandbox while the live default is
    /// configured, else the configured URL.
    fn base(&self, target_environment: &str) -> &str {
        if target_environment == SANDBOX && self.api.url == DEFAULT_API_URL {
            SANDBOX_API_URL
        } else {
            &self.api.url
        }
    }

    fn account_key(credentials: &Credentials, base: &str) -> [u8; 32] {
        let mut digest = Sha256::new();
        for field in ["subscription_key", "api_user", "api_key"] {
            digest.update(credentials.get(field).as_bytes());
            digest.update([0]);
        }
        digest.update(base.as_bytes());
        digest.finalize().into()
    }

    /// The account's access token: the one kept while it lasts, else a new one.
    async fn token(
        &self,
        credentials: &Credentials,
        base: &str,
    ) -> Result<SecretString, ProviderError> {
        let key = Mtn::account_key(credentials, base);
        if let Some(token) = self.tokens.lock().expect("token cache").get(&key)
            && token.expires > Instant::now()
        {
            return Ok(token.value.clone());
        }
        let res = self
            .api
            .http
            .post(format!("{base}/collection/token/"))
            .basic_auth(
                credentials.get("api_user"),
                Some(credentials.get("api_key")),
            )
            .header(
                "Ocp-Apim-Subscription-Key",
                credentials.get("subscription_key"),
            )
            .header(reqwest::header::ACCEPT, "application/json")
            .header(reqwest::header::CONTENT_LENGTH, "0")
            .send()
            .await
            .map_err(unavailable)?;
        let status = res.status();
        if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
            return Err(ProviderError::Unavailable(format!(
                "MTN's token endpoint answered {status}"
            )));
        }
        let bytes = res.bytes().await.map_err(unavailable)?;
        if !status.is_success() {
            return Err(ProviderError::Refused(format!(
                "MTN refused the account's subscription key, API user or key ({status}) {}",
                message_of(&bytes)
            )));
        }
        let answer: TokenAnswer = serde_json::from_slice(&bytes).map_err(unavailable)?;
        let lifetime = seconds(answer.expires_in.as_ref());
        // MTN advises renewing ten minutes before an hour's token expires.
        let margin = (lifetime / 6).min(600);
        let token = Token {
            value: SecretString::from(answer.access_token),
            expires: Instant::now() + Duration::from_secs(lifetime - margin),
        };
        let value = token.value.clone();
        self.tokens.lock().expect("token cache").insert(key, token);
        Ok(value)
    }

    fn forget_token(&self, credentials: &Credentials, base: &str) {
        let key = Mtn::account_key(credentials, base);
        self.tokens.lock().expect("token cache").remove(&key);
    }

    /// Sends the request `build` makes with the account's token, renewed once if MTN answers
    /// 401; 5xx and 429 are MTN not answering. The status and body of any other answer.
    async fn call(
        &self,
        credentials: &Credentials,
        target_environment: &str,
        build: impl Fn(&str) -> RequestBuilder,
    ) -> Result<(StatusCode, Vec<u8>), ProviderError> {
        let base = self.base(target_environment);
        let mut renewed = false;
        loop {
            let token = self.token(credentials, base).await?;
            let res = build(base)
                .bearer_auth(token.expose_secret())
                .header(
                    "Ocp-Apim-Subscription-Key",
                    credentials.get("subscription_key"),
                )
                .header("X-Target-Environment", target_environment)
                .header(reqwest::header::ACCEPT, "application/json")
                .send()
                .await
                .map_err(unavailable)?;
            let status = res.status();
            if status == StatusCode::UNAUTHORIZED && !renewed {
                // Expired or revoked before its time: one new token, one more try.
                self.forget_token(credentials, base);
                renewed = true;
                continue;
            }
            if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
                return Err(ProviderError::Unavailable(format!("MTN answered {status}")));
            }
            let bytes = res.bytes().await.map_err(unavailable)?;
            return Ok((status, bytes.to_vec()));
        }
    }

    /// The account's target environment, checked against the payment's environment.
    fn target_for(
        credentials: &Credentials,
        environment: Environment,
    ) -> Result<String, ProviderError> {
        let target = credentials.get("target_environment").trim().to_string();
        match (environment, target.as_str()) {
            (_, "") => Err(ProviderError::Refused(
                "the MTN account has no target_environment".into(),
            )),
            (Environment::Test, t) if t != SANDBOX => Err(ProviderError::Refused(format!(
                "a test-environment MTN account must use target_environment={SANDBOX}, not {t}"
            ))),
            (Environment::Live, SANDBOX) => Err(ProviderError::Refused(format!(
                "a live MTN account cannot use target_environment={SANDBOX}"
            ))),
            _ => Ok(target),
        }
    }
}

#[async_trait::async_trait]
impl PaymentProvider for Mtn {
    async fn start(
        &self,
        credentials: &Credentials,
        attempt: &Attempt<'_>,
    ) -> Result<Started, ProviderError> {
        let payment = attempt.payment;
        if !matches!(payment.currency, Currency::Xof | Currency::Xaf) {
            return Err(ProviderError::Refused(
                "MTN MoMo takes XOF and XAF only".into(),
            ));
        }
        let target = Mtn::target_for(credentials, payment.environment)?;
        let phone = attempt.session.fields.customer_phone.as_deref();
        let party = phone.and_then(msisdn).ok_or_else(|| {
            ProviderError::Refused("MTN MoMo needs the payer's phone number".into())
        })?;
        let currency = match payment.environment {
            Environment::Test => "EUR",
            Environment::Live => payment.currency.code(),
        };
        let note: String = attempt
            .session
            .fields
            .title
            .chars()
            .take(MAX_NOTE)
            .collect();
        let body = json!({
            "amount": payment.amount.to_string(),
            "currency": currency,
            "externalId": payment.id.to_string(),
            "payer": {"partyIdType": "MSISDN", "partyId": party},
            "payerMessage": note,
            "payeeNote": note,
        });
        let reference = payment.id.to_string();
        let (status, bytes) = self
            .call(credentials, &target, |base| {
                let req = self
                    .api
                    .http
                    .post(format!("{base}/collection/v1_0/requesttopay"))
                    .header("X-Reference-Id", &reference)
                    .json(&body);
                if attempt.notify_url.is_empty() {
                    req
                } else {
                    req.header("X-Callback-Url", &attempt.notify_url)
                }
            })
            .await?;
        if status != StatusCode::ACCEPTED {
            return Err(ProviderError::Refused(format!(
                "MTN answered {status} {}",
                message_of(&bytes)
            )));
        }
        let kept = Kept {
            target_environment: target,
        };
        Ok(Started {
            reference: None,
            next: Next::Wait,
            expires_at: Some(Utc::now() + APPROVAL_WINDOW),
            provider_data: Some(serde_json::to_string(&kept).expect("strings are JSON")),
        })
    }

    fn verify(
        &self,
        _: &Credentials,
        notification: &Notification<'_>,
    ) -> Result<Option<Notice>, Forged> {
        let payment = notification.payment.ok_or(Forged(
            "MTN's callbacks are taken only at a payment's own X-Callback-Url",
        ))?;
        // A failure is final at MTN: nothing a read could say would change it.
        if payment.status == PaymentStatus::Failed {
            return Ok(None);
        }
        let event_id = serde_json::from_slice::<Value>(notification.body)
            .ok()
            .and_then(|v| v["financialTransactionId"].as_str().map(str::to_string));
        Ok(Some(Notice {
            event_id,
            payment_id: payment.id,
            says: Says::Hint,
        }))
    }

    async fn read(
        &self,
        credentials: &Credentials,
        payment: &Payment,
    ) -> Result<Reading, ProviderError> {
        let target = match Kept::of(payment) {
            Some(kept) => kept.target_environment,
            // The start's answer was not recorded: its request went to the account's target.
            None => Mtn::target_for(credentials, payment.environment)?,
        };
        let reference = payment.id.to_string();
        let (status, bytes) = self
            .call(credentials, &target, |base| {
                self.api
                    .http
                    .get(format!("{base}/collection/v1_0/requesttopay/{reference}"))
            })
            .await?;
        if status == StatusCode::NOT_FOUND {
            // The request never reached MTN: once the start is over (answered or given up),
            // nothing can be paid on it.
            let start_over = payment.created_at
                + chrono::Duration::from_std(CALL_TIMEOUT * 2).expect("a short duration");
            return Ok(if Utc::now() > start_over {
                Reading::Expired
            } else {
                Reading::Pending
            });
        }
        if !status.is_success() {
            return Err(ProviderError::Refused(format!(
                "MTN answered {status} {}",
                message_of(&bytes)
            )));
        }
        let answer: Status = serde_json::from_slice(&bytes).map_err(unavailable)?;
        reading(&answer, payment)
    }

    /// MTN documents no cancel: the request is what a read says, and one still pending stays
    /// payable until it fails at MTN (the reconciler reads it until then).
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
