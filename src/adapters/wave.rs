//! Wave's Checkout API (mobile money in Senegal and Côte d'Ivoire), as Wave documents it.
//!
//! What it relies on (docs.wave.com/checkout and /webhook; Wave's API reference; see
//! `tests/support/wave.rs` for the sources of each point):
//! - One base URL (`https://api.wave.com`, `CAISSE_WAVE_API_URL` to point elsewhere), every
//!   call with `Authorization: Bearer <api key>`; a 401 is a key Wave refuses.
//! - `POST /v1/checkout/sessions` with `{"amount": "<whole francs>", "currency": "XOF",
//!   "success_url", "error_url", "client_reference"}`: amounts are **strings**, XOF has no
//!   decimals. The answer is the session object: `id` (`cos-…`), `wave_launch_url` (where the
//!   customer goes: it opens the Wave app on a phone), `when_expires`, `checkout_status`
//!   (`open`, `complete`, `expired`), `payment_status` (`processing`, `cancelled`,
//!   `succeeded`), `last_payment_error {code, message}`, `transaction_id`.
//! - `client_reference` is the payment's id, so an attempt whose creation answer was lost is
//!   found again with `GET /v1/checkout/sessions/search?client_reference=…` (`{"result": […]}`):
//!   no idempotency header is documented for creation.
//! - `POST /v1/checkout/sessions/{id}/expire` ends an open session (409 when it is complete or
//!   already expired).
//! - Webhooks: `{"id": "EV_…", "type", "data": <session>}`, at least once; the events used are
//!   `checkout.session.completed` and `checkout.session.payment_failed`. Secured either by
//!   `Authorization: Bearer <secret>` or by `Wave-Signature: t=<unix>,v1=<hex>[,v1=…]`, each
//!   `v1` the HMAC-SHA256 of the timestamp immediately followed by the raw body; any `v1` may
//!   match (rotation), and a timestamp more than five minutes old is refused (replays).
//!   Comparisons are constant-time.
//! - A failed attempt leaves Wave's session open for another try, so `payment_failed` is a
//!   failure of caisse's attempt only when the session is no longer payable; otherwise it is
//!   recorded as the attempt's failure, and the customer may retry at Wave or here.

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::{
    Attempt, Credentials, Forged, Next, Notice, Notification, PaymentProvider, ProviderError, Says,
    Started, unavailable,
};
use crate::domain::money::Currency;
use crate::domain::payment::{Payment, Reading};
use crate::domain::same_secret;
use crate::domain::signature::SignatureHeader;

/// The real service; tests point the adapter at a fake with `CAISSE_WAVE_API_URL`.
pub const DEFAULT_API_URL: &str = "https://api.wave.com";
/// How old a signed notification may be.
const TOLERANCE_SECS: i64 = 300;

pub struct Wave {
    /// Its payment pages are where `wave_launch_url`s lead (`https://pay.wave.com`).
    pub api: super::Service,
}

/// Wave's checkout session, as far as caisse reads it.
#[derive(Debug, Deserialize)]
struct Session {
    id: String,
    amount: String,
    currency: String,
    #[serde(default)]
    client_reference: Option<String>,
    checkout_status: String,
    #[serde(default)]
    payment_status: Option<String>,
    #[serde(default)]
    wave_launch_url: Option<String>,
    #[serde(default)]
    when_expires: Option<DateTime<Utc>>,
    #[serde(default)]
    last_payment_error: Option<PaymentError>,
    #[serde(default)]
    transaction_id: Option<String>,
}

#[derive(Debug, Deserialize)]
struct PaymentError {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
}

#[derive(Debug, Deserialize)]
struct Search {
    result: Vec<Session>,
}

#[derive(Debug, Deserialize)]
struct Envelope {
    #[serde(default)]
    id: Option<String>,
    #[serde(rename = "type")]
    kind: String,
    data: Session,
}

impl Session {
    /// What the session says of the payment. A completed session is money in; an expired one
    /// cannot be paid any more; an open one with a last error is a failed try.
    fn reading(&self) -> Reading {
        if self.checkout_status == "complete" || self.payment_status.as_deref() == Some("succeeded")
        {
            // An amount or a currency caisse cannot read matches no payment: the money is
            // recorded as unmatched, never taken for the one asked.
            let (amount, currency) = match self.currency.parse::<Currency>() {
                Ok(currency) => (whole(&self.amount).unwrap_or(-1), currency),
                Err(_) => (-1, Currency::Xof),
            };
            return Reading::Succeeded {
                reference: self
                    .transaction_id
                    .clone()
                    .unwrap_or_else(|| self.id.clone()),
                amount,
                currency,
            };
        }
        if self.checkout_status == "expired" {
            return Reading::Expired;
        }
        Reading::Pending
    }

    fn payment_id(&self) -> Option<Uuid> {
        self.client_reference
            .as_deref()
            .and_then(|r| Uuid::parse_str(r).ok())
    }
}

/// `"10000"` as 10 000; anything else (decimals, signs) is not an XOF amount.
fn whole(amount: &str) -> Option<i64> {
    amount
        .bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| amount.parse().ok())
        .flatten()
}

impl Wave {
    pub fn new(base: &str) -> Wave {
        Wave {
            api: super::Service::new(base, DEFAULT_API_URL, "https://pay.wave.com"),
        }
    }

    async fn send<T: for<'de> Deserialize<'de>>(
        &self,
        request: reqwest::RequestBuilder,
        credentials: &Credentials,
    ) -> Result<Option<T>, ProviderError> {
        let res = request
            .bearer_auth(credentials.get("api_key"))
            .send()
            .await
            .map_err(unavailable)?;
        let status = res.status();
        if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
            return Err(ProviderError::Unavailable(format!(
                "Wave answered {status}"
            )));
        }
        if status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !status.is_success() {
            let body = res.text().await.unwrap_or_default();
            let code = serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v["code"].as_str().map(str::to_string))
                .unwrap_or_default();
            return Err(ProviderError::Refused(format!(
                "Wave answered {status} {code}"
            )));
        }
        let bytes = res.bytes().await.map_err(unavailable)?;
        if bytes.is_empty() {
            return Ok(None);
        }
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(unavailable)
    }

    /// Wave's session for a payment: by its reference when known, else by the payment's id
    /// (`client_reference`), the way to find one whose creation answer was lost.
    async fn find(
        &self,
        credentials: &Credentials,
        payment: &Payment,
    ) -> Result<Option<Session>, ProviderError> {
        if let Some(reference) = payment
            .provider_reference
            .as_deref()
            .filter(|r| r.starts_with("cos-"))
        {
            let url = format!("{}/v1/checkout/sessions/{reference}", self.api.url);
            return self.send(self.api.http.get(url), credentials).await;
        }
        let url = format!("{}/v1/checkout/sessions/search", self.api.url);
        let id = payment.id.to_string();
        let found: Option<Search> = self
            .send(
                self.api
                    .http
                    .get(url)
                    .query(&[("client_reference", id.as_str())]),
                credentials,
            )
            .await?;
        Ok(found.and_then(|s| {
            s.result
                .into_iter()
                .filter(|s| s.client_reference.as_deref() == Some(id.as_str()))
                .max_by_key(|s| s.checkout_status == "complete")
        }))
    }
}

/// Whether `header` (`t=<unix>,v1=<hex>[,v1=<hex>…]`) signs `body` with `secret` within
/// [`TOLERANCE_SECS`] of `now`.
pub fn signature_verifies(secret: &str, header: &str, body: &[u8], now: i64) -> Result<(), Forged> {
    let header = SignatureHeader::parse(header);
    let t = header
        .timestamp
        .ok_or(Forged("Wave-Signature has no timestamp"))?;
    if now.abs_diff(t) > TOLERANCE_SECS.unsigned_abs() {
        return Err(Forged("Wave-Signature is too old"));
    }
    // The timestamp immediately followed by the raw body, with nothing between.
    if header.matches(secret, &[t.to_string().as_bytes(), body]) {
        Ok(())
    } else {
        Err(Forged("Wave-Signature does not match"))
    }
}

#[async_trait::async_trait]
impl PaymentProvider for Wave {
    async fn start(
        &self,
        credentials: &Credentials,
        attempt: &Attempt<'_>,
    ) -> Result<Started, ProviderError> {
        let payment = attempt.payment;
        if payment.currency != Currency::Xof {
            return Err(ProviderError::Refused("Wave takes XOF only".into()));
        }
        let body = json!({
            "amount": payment.amount.to_string(),
            "currency": payment.currency.code(),
            "success_url": attempt.success_url,
            "error_url": attempt.error_url,
            "client_reference": payment.id.to_string(),
        });
        let url = format!("{}/v1/checkout/sessions", self.api.url);
        let session: Session = self
            .send(self.api.http.post(url).json(&body), credentials)
            .await?
            .ok_or_else(|| ProviderError::Refused("Wave answered without a session".into()))?;
        let launch = session
            .wave_launch_url
            .clone()
            .ok_or_else(|| ProviderError::Unavailable("Wave's session has no launch URL".into()))?;
        Ok(Started {
            reference: Some(session.id),
            next: Next::Redirect(launch),
            expires_at: session.when_expires,
            provider_data: None,
        })
    }

    /// Wave's webhooks are registered in its portal, at the account's `webhook_url`; one that
    /// reaches a URL naming a payment is checked all the same, and core makes sure it is about
    /// that payment.
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
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        if credentials.get("webhook_auth") == "bearer" {
            let token = header("authorization")
                .and_then(|v| v.strip_prefix("Bearer "))
                .ok_or(Forged("no bearer token"))?;
            if !same_secret(token, secret) {
                return Err(Forged("the bearer token does not match"));
            }
        } else {
            let signed = header("wave-signature").ok_or(Forged("no Wave-Signature"))?;
            signature_verifies(secret, signed, body, now.timestamp())?;
        }
        let envelope: Envelope =
            serde_json::from_slice(body).map_err(|_| Forged("not a Wave event"))?;
        let Some(payment_id) = envelope.data.payment_id() else {
            return Ok(None);
        };
        let reading = match envelope.kind.as_str() {
            "checkout.session.completed" => envelope.data.reading(),
            "checkout.session.payment_failed" => {
                let error = envelope.data.last_payment_error.as_ref();
                Reading::Failed {
                    code: error.map_or("payment-failure".into(), |e| e.code.clone()),
                    message: error.map_or(String::new(), |e| e.message.clone()),
                }
            }
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
            // Never created at Wave (its creation failed before it): nothing can be paid.
            None => Reading::Expired,
        })
    }

    async fn cancel(
        &self,
        credentials: &Credentials,
        payment: &Payment,
    ) -> Result<Reading, ProviderError> {
        let Some(session) = self.find(credentials, payment).await? else {
            // Never created at Wave: nothing can be paid.
            return Ok(Reading::Expired);
        };
        if session.checkout_status != "open" {
            // Completed (money in) or expired already.
            return Ok(session.reading());
        }
        let url = format!(
            "{}/v1/checkout/sessions/{}/expire",
            self.api.url, session.id
        );
        match self
            .send::<serde_json::Value>(self.api.http.post(url), credentials)
            .await
        {
            Ok(_) => Ok(Reading::Expired),
            // 409: completed (or expired) meanwhile; what it became is read.
            Err(ProviderError::Refused(_)) => self.read(credentials, payment).await,
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use hmac::{Hmac, KeyInit, Mac};
    use sha2::Sha256;

    use super::*;

    fn sign(secret: &str, t: i64, body: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{t}{body}").as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    #[test]
    fn money_in_a_currency_caisse_cannot_read_matches_no_payment() {
        let session = |currency: &str| -> Session {
            serde_json::from_value(
                json!({"id": "cos-1", "amount": "1000", "currency": currency,
                "checkout_status": "complete", "transaction_id": "T1"}),
            )
            .unwrap()
        };
        assert_eq!(
            session("XOF").reading(),
            Reading::Succeeded {
                reference: "T1".into(),
                amount: 1000,
                currency: Currency::Xof
            }
        );
        let Reading::Succeeded { amount, .. } = session("BTC").reading() else {
            panic!("money is money");
        };
        assert_eq!(
            amount, -1,
            "no frozen amount is -1: it is recorded as unmatched"
        );
    }

    #[test]
    fn a_timestamp_at_the_edge_of_i64_is_refused_not_overflowed() {
        let body = b"{}";
        for t in [i64::MIN, i64::MAX] {
            let header = format!("t={t},v1={}", sign("wave_sec", 0, "{}"));
            assert_eq!(
                signature_verifies("wave_sec", &header, body, 1_700_000_000),
                Err(Forged("Wave-Signature is too old"))
            );
        }
    }

    #[test]
    fn a_signature_of_the_timestamp_and_body_verifies() {
        let body = r#"{"id":"EV_1","type":"checkout.session.completed"}"#;
        let now = 1_700_000_000;
        let header = format!("t={now},v1={}", sign("wave_sec", now, body));
        assert_eq!(
            signature_verifies("wave_sec", &header, body.as_bytes(), now + 10),
            Ok(())
        );
        // Any of several v1 (a secret being rotated).
        let rotated = format!(
            "t={now},v1={},v1={}",
            sign("old", now, body),
            sign("wave_sec", now, body)
        );
        assert_eq!(
            signature_verifies("wave_sec", &rotated, body.as_bytes(), now),
            Ok(())
        );
    }

    #[test]
    fn forged_stale_and_malformed_signatures_are_refused() {
        let body = r#"{"id":"EV_1"}"#;
        let now = 1_700_000_000;
        let good = sign("wave_sec", now, body);
        for header in [
            format!("t={now},v1={}", sign("other", now, body)),
            format!("t={now},v1={}", sign("wave_sec", now, "{}")),
            format!("t={},v1={good}", now + 1),
            format!("v1={good}"),
            format!("t={now}"),
            format!("t={now},v1=zz"),
            // A dot between timestamp and body is caisse's own scheme, not Wave's.
            {
                let mut mac = Hmac::<Sha256>::new_from_slice(b"wave_sec").unwrap();
                mac.update(format!("{now}.{body}").as_bytes());
                format!("t={now},v1={}", hex::encode(mac.finalize().into_bytes()))
            },
        ] {
            assert!(
                signature_verifies("wave_sec", &header, body.as_bytes(), now).is_err(),
                "{header}"
            );
        }
        let stale = format!("t={now},v1={good}");
        assert!(
            signature_verifies(
                "wave_sec",
                &stale,
                body.as_bytes(),
                now + TOLERANCE_SECS + 1
            )
            .is_err()
        );
    }

    #[test]
    fn amounts_are_whole_francs() {
        assert_eq!(whole("10000"), Some(10000));
        assert_eq!(whole("10000.5"), None);
        assert_eq!(whole("-5"), None);
        assert_eq!(whole(""), None);
    }

    #[test]
    fn bearer_secrets_compare_whole() {
        assert!(same_secret("s3cret", "s3cret"));
        assert!(!same_secret("s3cret", "s3cre"));
        assert!(!same_secret("", "x"));
    }
}
