//! A payment: one attempt to pay a checkout session with one provider.
//!
//! Its amount and currency are the session's total when the attempt started, frozen: the
//! provider is asked for exactly that, and only exactly that completes the session. Its id is
//! its reference at the provider (Wave's `client_reference`, MTN's `X-Reference-Id`, …), so an
//! attempt whose creation answer was lost is found again by it, never made twice.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::money::Currency;
use super::provider::Provider;
use super::session::{CheckoutSession, Environment};
use super::time::serde_rfc3339;

string_enum!(
    /// `pending → succeeded | failed | canceled | expired`. A `canceled` or `expired` attempt
    /// may still turn `succeeded` when its provider confirms the money after all: a confirmed
    /// payment is never dropped.
    PaymentStatus {
        Pending = "pending",
        Succeeded = "succeeded",
        Failed = "failed",
        Canceled = "canceled",
        Expired = "expired",
    }
);

impl PaymentStatus {
    /// Whether the provider may still settle it: pending, or given up on our side only.
    pub fn may_still_succeed(self) -> bool {
        matches!(
            self,
            PaymentStatus::Pending | PaymentStatus::Canceled | PaymentStatus::Expired
        )
    }
}

/// A payment as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    pub id: Uuid,
    pub checkout_session_id: Uuid,
    pub organization_id: Uuid,
    pub environment: Environment,
    pub provider: Provider,
    /// The merchant's account at the provider it goes through; `None` for the test sandbox and
    /// for PI-SPI codes scanned from the page, which call no provider.
    pub account_id: Option<Uuid>,
    pub status: PaymentStatus,
    /// The session's total when the attempt started, in the currency's smallest unit.
    pub amount: i64,
    pub currency: Currency,
    /// The provider's id of the payment, once it has given one.
    pub provider_reference: Option<String>,
    pub failure_code: Option<String>,
    pub failure_message: Option<String>,
    /// Where the provider sends the customer (Wave's launch URL), to send them there again.
    pub redirect_url: Option<String>,
    /// The provider's own deadline for a pending payment; the session is not expired under a
    /// pending payment before it.
    pub expires_at: Option<DateTime<Utc>>,
    /// When the reconciler next reads its status at the provider, while it is pending.
    pub next_check_at: Option<DateTime<Utc>>,
    /// How many times the reconciler has read it.
    pub checks: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// What the provider's adapter kept from the start to reach the payment again (Orange's
    /// `pay_token` and the digest of its `notif_token`), in the adapter's own format. Never
    /// shown: it is the adapter's, not the merchant's.
    pub provider_data: Option<String>,
}

impl Payment {
    /// A new attempt, pending, for the session's total as it is now.
    pub fn pending(
        session: &CheckoutSession,
        provider: Provider,
        account_id: Option<Uuid>,
        first_check_at: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> Payment {
        Payment {
            id: Uuid::new_v4(),
            checkout_session_id: session.id,
            organization_id: session.organization_id,
            environment: session.environment,
            provider,
            account_id,
            status: PaymentStatus::Pending,
            amount: session.totals().total,
            currency: session.fields.currency,
            provider_reference: None,
            failure_code: None,
            failure_message: None,
            redirect_url: None,
            expires_at: None,
            next_check_at: Some(first_check_at),
            checks: 0,
            created_at: at,
            updated_at: at,
            provider_data: None,
        }
    }

    /// A payment that has already succeeded, as a payment backend reports it through
    /// `POST /complete`: there was no attempt caisse saw start.
    #[allow(clippy::too_many_arguments)]
    pub fn reported(
        checkout_session_id: Uuid,
        organization_id: Uuid,
        environment: Environment,
        provider: Provider,
        amount: i64,
        currency: Currency,
        provider_reference: String,
        at: DateTime<Utc>,
    ) -> Payment {
        Payment {
            id: Uuid::new_v4(),
            checkout_session_id,
            organization_id,
            environment,
            provider,
            account_id: None,
            status: PaymentStatus::Succeeded,
            amount,
            currency,
            provider_reference: Some(provider_reference),
            failure_code: None,
            failure_message: None,
            redirect_url: None,
            expires_at: None,
            next_check_at: None,
            checks: 0,
            created_at: at,
            updated_at: at,
            provider_data: None,
        }
    }

    /// The payment's id in 26 characters (its 128 bits in lower-case base32, RFC 4648's
    /// alphabet, the first character carrying the top three bits), for providers whose
    /// references are shorter than a UUID (Orange's `order_id`, at most 30). [`parse_short_id`]
    /// reads it back.
    pub fn short_id(&self) -> String {
        short_id(self.id)
    }

    pub fn view(&self) -> PaymentView<'_> {
        PaymentView {
            payment_id: self.id,
            checkout_session_id: self.checkout_session_id,
            provider: self.provider,
            status: self.status,
            amount: self.amount,
            currency_code: self.currency,
            provider_reference: self.provider_reference.as_deref(),
            failure_code: self.failure_code.as_deref(),
            failure_message: self.failure_message.as_deref(),
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

const BASE32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// `id` as [`Payment::short_id`] writes it.
pub fn short_id(id: Uuid) -> String {
    let bits = id.as_u128();
    (0..26)
        .map(|i| {
            let shift = 5 * (25 - i);
            char::from(BASE32[((bits >> shift) & 0x1f) as usize])
        })
        .collect()
}

/// The id a [`Payment::short_id`] stands for; `None` for anything else.
pub fn parse_short_id(s: &str) -> Option<Uuid> {
    if s.len() != 26 {
        return None;
    }
    let mut bits: u128 = 0;
    for (i, b) in s.bytes().enumerate() {
        let value = BASE32.iter().position(|&c| c == b)? as u128;
        // The first character carries the top three bits only.
        if i == 0 && value > 7 {
            return None;
        }
        bits = (bits << 5) | value;
    }
    Some(Uuid::from_u128(bits))
}

/// One attempt to pay a checkout session with one provider. Every field is always present;
/// absent values are null.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[schema(as = Payment)]
pub struct PaymentView<'a> {
    /// The payment's id, a UUID v4; also its reference at the provider (Wave's
    /// `client_reference`, MTN's `X-Reference-Id`, Stripe's `Idempotency-Key`, PI-SPI's `txId`).
    pub payment_id: Uuid,
    /// The session it pays.
    pub checkout_session_id: Uuid,
    /// The provider it is made with.
    #[schema(inline)]
    pub provider: Provider,
    /// `pending` until the provider settles it: `succeeded`, `failed` (the customer may try
    /// again), `canceled` (the customer chose another method) or `expired` (the provider's
    /// deadline passed). A `canceled` or `expired` payment the provider confirms after all
    /// becomes `succeeded`.
    #[schema(inline)]
    pub status: PaymentStatus,
    /// The session's `amount_total` when the attempt started: what the provider is asked for,
    /// in the currency's smallest unit.
    #[schema(minimum = 0, example = 10000)]
    pub amount: i64,
    /// The session's currency when the attempt started.
    #[schema(inline)]
    pub currency_code: Currency,
    /// The provider's id of the payment (Wave's `cos-…` session, a transaction id), once known.
    #[schema(example = "T_4PZ3YQ2N7A")]
    pub provider_reference: Option<&'a str>,
    /// The provider's code for a failure, e.g. Wave's `insufficient-funds`.
    #[schema(example = "insufficient-funds")]
    pub failure_code: Option<&'a str>,
    /// The provider's words for a failure.
    pub failure_message: Option<&'a str>,
    /// When the attempt started (RFC 3339, UTC, milliseconds).
    #[serde(with = "serde_rfc3339")]
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    #[serde(with = "serde_rfc3339")]
    pub updated_at: DateTime<Utc>,
}

/// What a provider says of a payment: read from its API, or in a notification that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reading {
    /// Not settled yet.
    Pending,
    /// The money moved: `amount` in `currency` under the provider's `reference`.
    Succeeded {
        reference: String,
        amount: i64,
        currency: Currency,
    },
    /// The attempt failed; the customer may try again.
    Failed { code: String, message: String },
    /// The provider gave up on it (its deadline passed, or it was canceled there).
    Expired,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_read_back_and_only_settled_ones_are_final() {
        for s in PaymentStatus::ALL {
            assert_eq!(s.as_str().parse::<PaymentStatus>(), Ok(*s));
        }
        assert!("paid".parse::<PaymentStatus>().is_err());
        assert!(PaymentStatus::Canceled.may_still_succeed());
        assert!(!PaymentStatus::Succeeded.may_still_succeed());
        assert!(!PaymentStatus::Failed.may_still_succeed());
    }

    #[test]
    fn short_ids_read_back_and_nothing_else_does() {
        for id in [Uuid::nil(), Uuid::max(), Uuid::new_v4(), Uuid::new_v4()] {
            let short = short_id(id);
            assert_eq!(short.len(), 26, "{short}");
            assert!(short.bytes().all(|b| BASE32.contains(&b)));
            assert_eq!(parse_short_id(&short), Some(id));
        }
        assert_eq!(short_id(Uuid::nil()), "a".repeat(26));
        assert_eq!(
            parse_short_id(&format!("i{}", "a".repeat(25))),
            None,
            "a 131st bit"
        );
        assert_eq!(parse_short_id(&"a".repeat(25)), None);
        assert_eq!(parse_short_id(&"A".repeat(26)), None, "lower case only");
        assert_eq!(parse_short_id(&"1".repeat(26)), None);
    }

    #[test]
    fn the_view_writes_every_field() {
        let now = super::super::time::now();
        let p = Payment::reported(
            Uuid::new_v4(),
            Uuid::new_v4(),
            Environment::Test,
            Provider::Wave,
            10_000,
            Currency::Xof,
            "T_1".into(),
            now,
        );
        let json = serde_json::to_value(p.view()).unwrap();
        assert_eq!(json["status"], "succeeded");
        assert_eq!(json["provider"], "WAVE");
        assert_eq!(json["currency_code"], "XOF");
        assert_eq!(json["amount"], 10_000);
        assert_eq!(json["failure_code"], serde_json::Value::Null);
        assert_eq!(json.as_object().unwrap().len(), 11);
    }
}
