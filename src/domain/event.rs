//! Webhook events: what caisse tells a merchant's endpoints, and how it signs it.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use uuid::Uuid;

use super::payment::Payment;
use super::session::{CheckoutSession, Environment, SessionView};
use super::time::serde_rfc3339;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    CheckoutSessionCompleted,
    CheckoutSessionExpired,
    /// An attempt to pay failed; the customer may try again.
    CheckoutSessionPaymentFailed,
    /// Money arrived that its session could not take (completed by another payment, expired,
    /// or changed): recorded, for the merchant to refund.
    CheckoutSessionPaymentUnmatched,
}

impl EventType {
    pub const ALL: [EventType; 4] = [
        EventType::CheckoutSessionCompleted,
        EventType::CheckoutSessionExpired,
        EventType::CheckoutSessionPaymentFailed,
        EventType::CheckoutSessionPaymentUnmatched,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::CheckoutSessionCompleted => "checkout_session.completed",
            EventType::CheckoutSessionExpired => "checkout_session.expired",
            EventType::CheckoutSessionPaymentFailed => "checkout_session.payment_failed",
            EventType::CheckoutSessionPaymentUnmatched => "checkout_session.payment_unmatched",
        }
    }
}

crate::api_string_enum!(EventType, EventType::ALL, |e| e.as_str());

impl FromStr for EventType {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        EventType::ALL
            .into_iter()
            .find(|e| e.as_str() == s)
            .ok_or_else(|| {
                let all: Vec<&str> = EventType::ALL.iter().map(|e| e.as_str()).collect();
                format!("unknown event {s:?}: must be one of {}", all.join(", "))
            })
    }
}

/// The body caisse POSTs to a webhook endpoint (see `POST /webhooks` for the signature and
/// retries). The same event has the same body on every attempt and for every endpoint.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[schema(as = WebhookEvent)]
pub struct EventView<'a> {
    /// The event's id, also in `X-Caisse-Event-Id`: dedupe on it, as an event may be delivered
    /// more than once.
    pub id: Uuid,
    /// `checkout_session.completed`: a payment completed the session.
    /// `checkout_session.expired`: the session expired (by DELETE, PATCH, or passing
    /// `expires_at`).
    #[schema(inline)]
    pub event: EventType,
    /// When the session changed state (RFC 3339, UTC, milliseconds).
    #[serde(with = "serde_rfc3339")]
    pub created_at: DateTime<Utc>,
    /// The session's environment.
    #[schema(inline)]
    pub environment: Environment,
    /// The session as it was right after the change.
    pub data: SessionView<'a>,
}

/// An event as written to the outbox, with the exact body every endpoint receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub id: Uuid,
    pub event_type: EventType,
    pub organization_id: Uuid,
    pub environment: String,
    pub checkout_session_id: Uuid,
    pub payload: String,
    pub created_at: DateTime<Utc>,
}

impl Event {
    /// `{"id", "event", "created_at", "environment", "data": <session>}`, for a session that
    /// has just changed state.
    pub fn for_session(
        event_type: EventType,
        session: &CheckoutSession,
        payment: Option<&Payment>,
        public_url: &str,
        at: DateTime<Utc>,
    ) -> Event {
        let id = Uuid::new_v4();
        let payload = serde_json::to_string(&EventView {
            id,
            event: event_type,
            created_at: at,
            environment: session.environment,
            data: session.view(public_url, payment),
        })
        .expect("an event is JSON");
        Event {
            id,
            event_type,
            organization_id: session.organization_id,
            environment: session.environment.as_str().to_string(),
            checkout_session_id: session.id,
            payload,
            created_at: at,
        }
    }
}

/// `X-Caisse-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

/// Checks a signature header as a receiver would: the HMAC matches and the timestamp is within
/// `tolerance_secs` of `now`. Used by caisse's own tests and shown in the README.
pub fn verify(secret: &str, header: &str, body: &str, now: i64, tolerance_secs: i64) -> bool {
    let header = super::signature::SignatureHeader::parse(header);
    let Some(t) = header.timestamp else {
        return false;
    };
    now.abs_diff(t) <= tolerance_secs.unsigned_abs()
        && header.matches(secret, &[t.to_string().as_bytes(), b".", body.as_bytes()])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_and_tampering_is_caught() {
        let secret = "whsec_test";
        let body = r#"{"id":"1"}"#;
        let header = signature(secret, 1_700_000_000, body);
        assert!(header.starts_with("t=1700000000,v1="));
        assert!(verify(secret, &header, body, 1_700_000_010, 300));
        assert!(!verify(
            secret,
            &header,
            r#"{"id":"2"}"#,
            1_700_000_010,
            300
        ));
        assert!(!verify("whsec_other", &header, body, 1_700_000_010, 300));
        assert!(
            !verify(secret, &header, body, 1_700_001_000, 300),
            "too old"
        );
        assert!(!verify(secret, "v1=abc", body, 1_700_000_000, 300));
    }

    #[test]
    fn the_signature_is_hmac_sha256_of_timestamp_dot_body() {
        // Computed independently: printf '1.x' | openssl dgst -sha256 -hmac k
        assert_eq!(
            signature("k", 1, "x"),
            "t=1,v1=976cb87e4f568d1c0f03f32859e90af8597cf00b978ba37c229c97d3a15b8449"
        );
    }

    #[test]
    fn event_types_parse() {
        assert_eq!(
            "checkout_session.completed".parse(),
            Ok(EventType::CheckoutSessionCompleted)
        );
        assert!("checkout_session.paid".parse::<EventType>().is_err());
    }
}
