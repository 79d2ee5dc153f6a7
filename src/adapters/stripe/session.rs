//! Stripe's Checkout Session as caisse reads it, in events and reads, and amounts in
//! Stripe's smallest unit.

use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use crate::domain::money::Currency;
use crate::domain::payment::Reading;

/// A Checkout Session, as far as caisse reads it.
#[derive(Debug, Deserialize)]
pub(super) struct Session {
    pub(super) id: String,
    #[serde(default)]
    pub(super) object: Option<String>,
    #[serde(default)]
    pub(super) status: Option<String>,
    #[serde(default)]
    pub(super) payment_status: Option<String>,
    #[serde(default)]
    pub(super) amount_total: Option<i64>,
    #[serde(default)]
    pub(super) currency: Option<String>,
    #[serde(default)]
    pub(super) client_reference_id: Option<String>,
    #[serde(default)]
    pub(super) metadata: Option<Value>,
    #[serde(default)]
    pub(super) url: Option<String>,
    #[serde(default)]
    pub(super) expires_at: Option<i64>,
    /// Its id, or the object when expanded.
    #[serde(default)]
    pub(super) payment_intent: Option<Value>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Envelope {
    #[serde(default)]
    pub(super) id: Option<String>,
    #[serde(rename = "type")]
    pub(super) kind: String,
    pub(super) data: EventData,
}

#[derive(Debug, Deserialize)]
pub(super) struct EventData {
    pub(super) object: Value,
}

/// How many decimals Stripe counts in `currency` (docs.stripe.com/currencies: XOF and XAF are
/// among its zero-decimal currencies).
pub fn stripe_exponent(currency: Currency) -> u32 {
    match currency {
        Currency::Xof | Currency::Xaf => 0,
        Currency::Usd | Currency::Eur => 2,
    }
}

/// `amount` in caisse's smallest unit of `currency`, in Stripe's; `None` if it does not fit.
pub fn to_stripe(amount: i64, currency: Currency) -> Option<i64> {
    let (ours, theirs) = (currency.exponent(), stripe_exponent(currency));
    if theirs >= ours {
        amount.checked_mul(10_i64.checked_pow(theirs - ours)?)
    } else {
        let d = 10_i64.checked_pow(ours - theirs)?;
        (amount % d == 0).then_some(amount / d)
    }
}

/// The inverse of [`to_stripe`].
pub fn from_stripe(amount: i64, currency: Currency) -> Option<i64> {
    let (ours, theirs) = (currency.exponent(), stripe_exponent(currency));
    if ours >= theirs {
        amount.checked_mul(10_i64.checked_pow(ours - theirs)?)
    } else {
        let d = 10_i64.checked_pow(theirs - ours)?;
        (amount % d == 0).then_some(amount / d)
    }
}

impl Session {
    pub(super) fn payment_id(&self) -> Option<Uuid> {
        let named = self.client_reference_id.as_deref().or_else(|| {
            self.metadata
                .as_ref()
                .and_then(|m| m["payment_id"].as_str())
        });
        named.and_then(|r| Uuid::parse_str(r).ok())
    }

    /// The payment intent's status, when it was expanded.
    fn intent_status(&self) -> Option<&str> {
        self.payment_intent.as_ref()?["status"].as_str()
    }

    /// The money the session took. An amount or a currency caisse cannot read matches no
    /// payment (-1): it is recorded as unmatched, never taken for the one asked.
    pub(super) fn succeeded(&self) -> Reading {
        let currency = self
            .currency
            .as_deref()
            .and_then(|c| c.parse::<Currency>().ok());
        let (amount, currency) = match (currency, self.amount_total) {
            (Some(c), Some(a)) => (from_stripe(a, c).unwrap_or(-1), c),
            (Some(c), None) => (-1, c),
            (None, _) => (-1, Currency::Xof),
        };
        Reading::Succeeded {
            reference: self.id.clone(),
            amount,
            currency,
        }
    }

    /// What the session says of the payment.
    pub(super) fn reading(&self) -> Reading {
        match (self.status.as_deref(), self.payment_status.as_deref()) {
            (_, Some("paid")) => self.succeeded(),
            (Some("expired"), _) => Reading::Expired,
            (Some("complete"), Some("no_payment_required")) => Reading::Failed {
                code: "no_payment_required".into(),
                message: "Stripe took no payment for this session".into(),
            },
            (Some("complete"), _) => match self.intent_status() {
                Some("succeeded") => self.succeeded(),
                Some("requires_payment_method" | "canceled") => async_failure(),
                _ => Reading::Pending,
            },
            _ => Reading::Pending,
        }
    }
}

pub(super) fn async_failure() -> Reading {
    Reading::Failed {
        code: "async_payment_failed".into(),
        message: "Stripe reports the payment failed".into(),
    }
}
