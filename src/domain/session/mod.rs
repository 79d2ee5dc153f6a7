//! The checkout session: what a merchant sells, for how much, and where it stands.
//!
//! A request body is checked against the rules of the resource in one place,
//! [`SessionFields::parse`], for a create and an update alike: an update is the stored fields
//! with the patch laid over them, parsed again whole, so no rule can be skipped by changing one
//! field at a time.

use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::fields::{Field, FieldError, FieldResult};
use super::money::{Currency, MAX_AMOUNT, Totals};
use super::provider::{Provider, ProviderList};
use crate::qr::{PayloadError, QrCodeData};

mod fields;
mod view;
pub use fields::{
    READ_ONLY, Rules, SessionFields, WRITABLE, parse_email, parse_metadata, parse_phone, parse_url,
};
pub use view::SessionView;

/// How long a session stays open when the merchant does not say.
pub const DEFAULT_LIFETIME: Duration = Duration::minutes(60);
/// The furthest ahead a session may expire.
pub const MAX_LIFETIME: Duration = Duration::days(30);
pub const MAX_TITLE: usize = 200;
pub const MAX_DESCRIPTION: usize = 2000;
pub const MAX_URL: usize = 2048;
pub const MAX_METADATA_KEYS: usize = 50;
pub const MAX_METADATA_KEY: usize = 40;
pub const MAX_METADATA_VALUE: usize = 500;
/// The placeholder a merchant puts in `success_url`/`cancel_url` to learn which session it was.
pub const SESSION_ID_PLACEHOLDER: &str = "{CHECKOUT_SESSION_ID}";

string_enum!(
    /// Where a session stands. Only `open → completed` and `open → expired` ever happen.
    Status { Open = "open", Completed = "completed", Expired = "expired" }
);
string_enum!(
    /// Test or live money, fixed by the API key that created the session.
    Environment { Test = "test", Live = "live" }
);
string_enum!(
    /// Whether the QR code carries the amount (`dynamic`) or lets the payer enter it (`static`).
    QrCodeType { Static = "static", Dynamic = "dynamic" }
);

/// A checkout session as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckoutSession {
    pub id: Uuid,
    pub organization_id: Uuid,
    /// The id of the API key that created it, or `cli` for the operator's command line.
    pub created_by: String,
    pub environment: Environment,
    pub status: Status,
    pub fields: SessionFields,
    pub spi_qr_code_id: Option<Uuid>,
    /// The QR payload built for the session's current state, kept so it shows the same code.
    pub qr_payload: Option<String>,
    pub coupon_id: Option<Uuid>,
    pub coupon_code: Option<String>,
    /// The discount of the applied coupon, recomputed whenever the quantity changes.
    pub amount_discount: i64,
    pub payment_provider: Option<String>,
    pub provider_reference: Option<String>,
    pub completed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Coupon codes tried on the page since `coupon_window_started_at`, for rate limiting.
    pub coupon_attempts: i64,
    pub coupon_window_started_at: Option<DateTime<Utc>>,
    /// The payment under way, if one is: while it is, the order (amount, quantity, currency,
    /// coupon, QR code) cannot change, so the provider is asked for what completes the session.
    pub pending_payment_id: Option<Uuid>,
    /// How many times the stored session has been written. A write is made against the version
    /// it read, so a concurrent write is never silently undone (see `Store::update_open_session`).
    pub version: i64,
}

impl CheckoutSession {
    /// A new open session, priced, with nothing applied or paid yet; not stored.
    pub fn open(
        id: Uuid,
        organization_id: Uuid,
        created_by: String,
        environment: Environment,
        fields: SessionFields,
        now: DateTime<Utc>,
    ) -> CheckoutSession {
        let mut session = CheckoutSession {
            id,
            organization_id,
            created_by,
            environment,
            status: Status::Open,
            fields,
            spi_qr_code_id: None,
            qr_payload: None,
            coupon_id: None,
            coupon_code: None,
            amount_discount: 0,
            payment_provider: None,
            provider_reference: None,
            completed_at: None,
            created_at: now,
            updated_at: now,
            coupon_attempts: 0,
            coupon_window_started_at: None,
            pending_payment_id: None,
            version: 0,
        };
        session.refresh_qr();
        session
    }

    pub fn totals(&self) -> Totals {
        Totals::compute(
            self.fields.amount,
            self.fields.quantity,
            self.amount_discount,
        )
    }

    /// Rebuilds the QR payload for the session's current state. The payload is kept, and
    /// `spi_qr_code_id` names it: a new id only when the payload changes, so the same state
    /// always shows the same code. A dynamic code carries `amount_total`; a total of zero has
    /// no code, as it is paid by nobody.
    pub fn refresh_qr(&mut self) {
        let dynamic = self.fields.qr_code_type == QrCodeType::Dynamic;
        let total = u64::try_from(self.totals().total).unwrap_or(0);
        let payload = self
            .fields
            .qr_code_data
            .as_ref()
            .filter(|_| total > 0)
            .and_then(|data| data.payload_for(total, dynamic).ok());
        if payload != self.qr_payload {
            self.spi_qr_code_id = payload.as_ref().map(|_| Uuid::new_v4());
            self.qr_payload = payload;
        }
    }

    /// Open by its status, but past its expiry: it is expired the moment anyone looks, unless
    /// a payment is under way (the sweeper expires it once that payment's provider deadline
    /// passes, if it does not settle first).
    pub fn is_due_to_expire(&self, now: DateTime<Utc>) -> bool {
        self.status == Status::Open
            && self.fields.expires_at <= now
            && self.pending_payment_id.is_none()
    }

    /// The hosted page's absolute URL.
    pub fn url(&self, public_url: &str) -> String {
        format!("{public_url}/checkout/{}", self.id)
    }
}

/// Replaces the session-id placeholder in a redirect URL, URL-encoded.
/// The placeholder as the URL parser writes it in a path, where braces are percent-encoded.
const ENCODED_SESSION_ID_PLACEHOLDER: &str = "%7BCHECKOUT_SESSION_ID%7D";

pub fn redirect_url(template: &str, id: Uuid) -> String {
    // A UUID is already URL-safe; encoding it anyway keeps the rule in one place.
    let encoded: String = url::form_urlencoded::byte_serialize(id.to_string().as_bytes()).collect();
    template
        .replace(SESSION_ID_PLACEHOLDER, &encoded)
        .replace(ENCODED_SESSION_ID_PLACEHOLDER, &encoded)
}

#[cfg(test)]
mod tests;
