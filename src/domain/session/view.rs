//! The session as the API shows it: one type from which both the JSON a response carries and
//! the `CheckoutSessions` schema of the OpenAPI document come, so neither can drift from the other.
//! The create and update bodies are this schema's writable properties (see `web::api::doc`).

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{CheckoutSession, Environment, QrCodeType, Status};
use crate::domain::money::Currency;
use crate::domain::payment::{Payment, PaymentView};
use crate::domain::time;
use crate::qr::{QrCodeData, QrCodeDataView};

/// A checkout session: what a merchant sells, for how much, and where it stands. Every field is
/// always present in a response; absent values are null.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CheckoutSessions)]
pub struct SessionView<'a> {
    /// Unique identifier, a UUID v4 the server draws from a secure random source. It is the
    /// hosted page's only credential, so a client cannot choose it: a value on create is 422.
    #[schema(read_only)]
    pub checkout_session_id: Uuid,
    /// The organization of the API key. A create body may repeat it; a different value is 403.
    pub organization_id: Uuid,
    /// The id of the API key that created the session, or `cli` for the operator's command line.
    pub created_by: &'a str,
    /// From the API key: `sk_test_…` keys make `test` sessions, `sk_live_…` keys `live` ones. A key
    /// sees only sessions of its own organization and environment.
    #[schema(inline)]
    pub environment: Environment,
    /// Only `open → completed` and `open → expired` happen; `completed` and `expired` never change
    /// again. An open session past `expires_at` is reported `expired` whenever it is read. PATCH may
    /// set it to `expired`, and to nothing else.
    #[schema(inline)]
    pub status: Status,
    /// Unit price in the currency's smallest unit (XOF, XAF: francs, exponent 0; USD, EUR: cents,
    /// exponent 2), from 1 to 10^12. An integral float such as `10000.0` is read as 10000; a fraction
    /// such as `10.5` is 422.
    #[schema(minimum = 1, maximum = 1e12, example = 10000)]
    pub amount: i64,
    /// ISO 4217 code, returned upper case (read case-insensitively). Any other code is 422. A PI-SPI
    /// session (`is_spi`) must be in XOF.
    #[schema(inline)]
    pub currency_code: Currency,
    /// Number of units, from 1 to the deployment's maximum (99 unless configured with
    /// `CAISSE_MAX_QUANTITY`); integral floats are accepted. `amount × quantity` must not exceed
    /// 10^12. The customer may change it on the page only when `allow_quantity`.
    #[schema(minimum = 1, default = 1)]
    pub quantity: i64,
    /// Whether the customer may change the quantity on the hosted page.
    #[schema(default = false)]
    pub allow_quantity: bool,
    /// Whether the customer may enter a coupon code on the hosted page.
    #[schema(default = false)]
    pub allow_coupon_code: bool,
    /// Point-of-sale layout: the page shows the QR code large, for a counter screen.
    #[schema(default = false)]
    pub is_pos: bool,
    /// A BCEAO PI-SPI instant-payment session: XOF only, and `allowed_providers` (when given) must
    /// include `SPI`.
    #[schema(default = false)]
    pub is_spi: bool,
    /// Comma-separated provider codes among `SPI`, `WAVE`, `ORANGE`, `MTN`, `MOOV`, `CARD` (read
    /// case-insensitively, spaces and duplicates dropped), returned canonical: upper case, no spaces.
    /// An unknown code or an empty list is 422. `null`: every provider the deployment has enabled.
    #[schema(example = "SPI,WAVE")]
    pub allowed_providers: Option<String>,
    /// What is sold, shown on the page (always HTML-escaped). Trimmed; 1 to 200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub title: &'a str,
    /// Shown on the page under the title (always HTML-escaped). Trimmed; 1 to 2000 characters.
    #[schema(min_length = 1, max_length = 2000)]
    pub public_description: Option<&'a str>,
    /// Prefills the customer's name. Trimmed; 1 to 200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub customer_name: Option<&'a str>,
    /// Prefills the customer's email; must be a valid address with a dotted domain.
    #[schema(max_length = 254, format = "email")]
    pub customer_email: Option<&'a str>,
    /// Prefills the customer's phone, returned in E.164. Given with its country code
    /// (`+225 07 07 07 07 07`, `00225…`), or as dialled in the organization's country (else the
    /// country of `qr_code_data`); a number that cannot be called is refused.
    #[schema(example = "+2250700000000")]
    pub customer_phone: Option<&'a str>,
    /// The merchant's customer id (UUID).
    pub customer_id: Option<Uuid>,
    /// Key-value pairs stored and returned verbatim: at most 50 keys, each 1 to 40 characters; values
    /// are strings (≤ 500 characters), numbers, booleans or null.
    #[schema(value_type = Option<Object>, example = json!({"order_id": "42"}))]
    pub metadata: Option<&'a Map<String, Value>>,
    /// Where the customer is sent (303) once the session is completed. Absolute `https` URL, at most
    /// 2048 characters; `http` is accepted only for localhost, 127.0.0.1 or [::1] in the `test`
    /// environment. `javascript:`, `data:`, relative or malformed URLs are 422. The literal
    /// `{CHECKOUT_SESSION_ID}` is replaced by the session's id (URL-encoded) when the customer is
    /// redirected.
    #[schema(
        max_length = 2048,
        example = "https://shop.example/thanks?session={CHECKOUT_SESSION_ID}",
        format = "uri"
    )]
    pub success_url: Option<&'a str>,
    /// Where the customer goes back to the merchant without paying (also offered on the expired
    /// page). Absolute `https` URL, at most 2048 characters; `http` is accepted only for localhost,
    /// 127.0.0.1 or [::1] in the `test` environment. `javascript:`, `data:`, relative or malformed
    /// URLs are 422. The literal `{CHECKOUT_SESSION_ID}` is replaced by the session's id (URL-
    /// encoded) when the customer is redirected.
    #[schema(max_length = 2048, format = "uri")]
    pub cancel_url: Option<&'a str>,
    /// When the session stops accepting payment. Default: `created_at` + 60 minutes. Must be in the
    /// future and at most 30 days ahead. Expiry is lazy: an open session past this time is `expired`
    /// whenever it is read, and a background sweeper expires the rest. A time without an offset is
    /// read as UTC.
    #[serde(serialize_with = "time::serde_rfc3339::serialize")]
    pub expires_at: DateTime<Utc>,
    /// Whether a built PI-SPI QR code carries the amount (`dynamic`, the session's `amount_total`) or
    /// lets the payer enter it (`static`).
    #[schema(inline, default = "dynamic")]
    pub qr_code_type: QrCodeType,
    /// What the QR code shown for `SPI` and on `is_pos` pages encodes; see `QrCodeData`.
    #[schema(value_type = Option<QrCodeDataView>)]
    pub qr_code_data: Option<&'a QrCodeData>,
    /// The merchant's PI-SPI payee account: 8 to 34 letters and digits, stored upper case, shown
    /// masked on the page.
    #[schema(min_length = 8, max_length = 34, example = "CIC2344256727788288822")]
    pub spi_account_number: Option<&'a str>,
    /// Reference to a payment link in the merchant's system (UUID).
    pub payment_link_id: Option<Uuid>,
    /// Reference to a payment request in the merchant's system (UUID).
    pub payment_request_id: Option<Uuid>,
    /// Reference to a price in the merchant's system (UUID).
    pub price_id: Option<Uuid>,
    /// Reference to a product in the merchant's system (UUID).
    pub product_id: Option<Uuid>,
    /// Reference to a subscription in the merchant's system (UUID).
    pub subscription_id: Option<Uuid>,
    /// Reference to an installment plan in the merchant's system (UUID).
    pub installment_plan_id: Option<Uuid>,
    /// Set by the server when it builds a PI-SPI QR payload for the session.
    pub spi_qr_code_id: Option<Uuid>,
    /// When the session was created (RFC 3339, UTC, milliseconds).
    #[serde(serialize_with = "time::serde_rfc3339::serialize")]
    pub created_at: DateTime<Utc>,
    /// When the session last changed (RFC 3339, UTC, milliseconds).
    #[serde(serialize_with = "time::serde_rfc3339::serialize")]
    pub updated_at: DateTime<Utc>,
    /// `amount × quantity`, in the smallest unit.
    pub amount_subtotal: i64,
    /// The applied coupon's discount, in the smallest unit; never more than the subtotal.
    #[schema(minimum = 0)]
    pub amount_discount: i64,
    /// What the customer pays: subtotal less discount, never below 0, in the smallest unit.
    #[schema(minimum = 0)]
    pub amount_total: i64,
    /// The coupon the customer applied, upper case.
    pub coupon_code: Option<&'a str>,
    /// The provider code the session was paid with, once completed.
    pub payment_provider: Option<&'a str>,
    /// When the payment was confirmed.
    #[serde(serialize_with = "time::serde_rfc3339::option::serialize")]
    pub completed_at: Option<DateTime<Utc>>,
    /// The hosted checkout page's absolute URL, to send the customer to.
    #[schema(
        example = "https://pay.example/checkout/0f8c1f8e-6c1b-4a53-9a43-5d8c2e7b1d2a",
        format = "uri"
    )]
    pub url: String,
    /// The session's latest payment attempt, null before the first; every attempt is listed at
    /// `GET /checkout_sessions/{session_id}/payments`.
    pub payment: Option<PaymentView<'a>>,
}

impl CheckoutSession {
    /// The API representation: every field of the resource by its exact name, and the computed
    /// amounts and the hosted page's URL beside them.
    /// `payment` is the session's latest payment, read beside it (see `core::sessions::Shown`).
    pub fn view<'a>(&'a self, public_url: &str, payment: Option<&'a Payment>) -> SessionView<'a> {
        let f = &self.fields;
        let totals = self.totals();
        SessionView {
            checkout_session_id: self.id,
            organization_id: self.organization_id,
            created_by: &self.created_by,
            environment: self.environment,
            status: self.status,
            amount: f.amount,
            currency_code: f.currency,
            quantity: f.quantity,
            allow_quantity: f.allow_quantity,
            allow_coupon_code: f.allow_coupon_code,
            is_pos: f.is_pos,
            is_spi: f.is_spi,
            allowed_providers: f.allowed_providers.as_ref().map(ToString::to_string),
            title: &f.title,
            public_description: f.public_description.as_deref(),
            customer_name: f.customer_name.as_deref(),
            customer_email: f.customer_email.as_deref(),
            customer_phone: f.customer_phone.as_deref(),
            customer_id: f.customer_id,
            metadata: f.metadata.as_ref(),
            success_url: f.success_url.as_deref(),
            cancel_url: f.cancel_url.as_deref(),
            expires_at: f.expires_at,
            qr_code_type: f.qr_code_type,
            qr_code_data: f.qr_code_data.as_ref(),
            spi_account_number: f.spi_account_number.as_deref(),
            payment_link_id: f.payment_link_id,
            payment_request_id: f.payment_request_id,
            price_id: f.price_id,
            product_id: f.product_id,
            subscription_id: f.subscription_id,
            installment_plan_id: f.installment_plan_id,
            spi_qr_code_id: self.spi_qr_code_id,
            created_at: self.created_at,
            updated_at: self.updated_at,
            amount_subtotal: totals.subtotal,
            amount_discount: totals.discount,
            amount_total: totals.total,
            coupon_code: self.coupon_code.as_deref(),
            payment_provider: self.payment_provider.as_deref(),
            completed_at: self.completed_at,
            url: self.url(public_url),
            payment: payment.map(Payment::view),
        }
    }

    /// The writable fields as the API shows them: the base a patch is laid over.
    pub fn writable_json(&self) -> Map<String, Value> {
        let Ok(Value::Object(mut all)) = serde_json::to_value(self.view("", None)) else {
            unreachable!("a session view is a JSON object");
        };
        all.retain(|k, _| super::WRITABLE.contains(&k.as_str()));
        all
    }
}
