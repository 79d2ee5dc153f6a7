//! Rows as both backends return them, and their conversion to domain values.
//!
//! The column types differ (BLOB/UUID, TEXT/TIMESTAMPTZ, TEXT/JSONB) but decode to the same Rust
//! types, so one row type serves both.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use sqlx::types::Json;
use uuid::Uuid;

use super::StoreError;
use crate::domain::session::{CheckoutSession, SessionFields};
use crate::qr::QrCodeData;

#[derive(sqlx::FromRow)]
pub(super) struct SessionRow {
    pub checkout_session_id: Uuid,
    pub organization_id: Uuid,
    pub created_by: String,
    pub environment: String,
    pub status: String,
    pub amount: i64,
    pub currency_code: String,
    pub quantity: i64,
    pub allow_quantity: bool,
    pub allow_coupon_code: bool,
    pub is_pos: bool,
    pub is_spi: bool,
    pub allowed_providers: Option<String>,
    pub title: String,
    pub public_description: Option<String>,
    pub customer_name: Option<String>,
    pub customer_email: Option<String>,
    pub customer_phone: Option<String>,
    pub customer_id: Option<Uuid>,
    pub metadata: Option<Json<Map<String, Value>>>,
    pub success_url: Option<String>,
    pub cancel_url: Option<String>,
    pub expires_at: DateTime<Utc>,
    pub qr_code_type: String,
    pub qr_code_data: Option<Json<Value>>,
    pub spi_account_number: Option<String>,
    pub spi_qr_code_id: Option<Uuid>,
    pub qr_payload: Option<String>,
    pub payment_link_id: Option<Uuid>,
    pub payment_request_id: Option<Uuid>,
    pub price_id: Option<Uuid>,
    pub product_id: Option<Uuid>,
    pub subscription_id: Option<Uuid>,
    pub installment_plan_id: Option<Uuid>,
    pub coupon_id: Option<Uuid>,
    pub coupon_code: Option<String>,
    pub amount_discount: i64,
    pub payment_provider: Option<String>,
    pub provider_reference: Option<String>,
    pub completed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub coupon_attempts: i64,
    pub coupon_window_started_at: Option<DateTime<Utc>>,
    pub version: i64,
}

fn parsed<T: std::str::FromStr>(column: &str, value: &str) -> Result<T, StoreError> {
    value
        .parse()
        .map_err(|_| StoreError::Corrupt(format!("{column} = {value:?}")))
}

impl TryFrom<SessionRow> for CheckoutSession {
    type Error = StoreError;

    fn try_from(r: SessionRow) -> Result<Self, StoreError> {
        Ok(CheckoutSession {
            id: r.checkout_session_id,
            organization_id: r.organization_id,
            created_by: r.created_by,
            environment: parsed("environment", &r.environment)?,
            status: parsed("status", &r.status)?,
            fields: SessionFields {
                amount: r.amount,
                currency: parsed("currency_code", &r.currency_code)?,
                quantity: r.quantity,
                allow_quantity: r.allow_quantity,
                allow_coupon_code: r.allow_coupon_code,
                is_pos: r.is_pos,
                is_spi: r.is_spi,
                allowed_providers: r
                    .allowed_providers
                    .as_deref()
                    .map(|s| parsed("allowed_providers", s))
                    .transpose()?,
                title: r.title,
                public_description: r.public_description,
                customer_name: r.customer_name,
                customer_email: r.customer_email,
                customer_phone: r.customer_phone,
                customer_id: r.customer_id,
                metadata: r.metadata.map(|j| j.0),
                success_url: r.success_url,
                cancel_url: r.cancel_url,
                expires_at: r.expires_at,
                qr_code_type: parsed("qr_code_type", &r.qr_code_type)?,
                qr_code_data: r
                    .qr_code_data
                    .map(|j| QrCodeData::from_json(&j.0))
                    .transpose()
                    .map_err(|e| StoreError::Corrupt(format!("qr_code_data: {e}")))?,
                spi_account_number: r.spi_account_number,
                payment_link_id: r.payment_link_id,
                payment_request_id: r.payment_request_id,
                price_id: r.price_id,
                product_id: r.product_id,
                subscription_id: r.subscription_id,
                installment_plan_id: r.installment_plan_id,
            },
            spi_qr_code_id: r.spi_qr_code_id,
            qr_payload: r.qr_payload,
            coupon_id: r.coupon_id,
            coupon_code: r.coupon_code,
            amount_discount: r.amount_discount,
            payment_provider: r.payment_provider,
            provider_reference: r.provider_reference,
            completed_at: r.completed_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
            coupon_attempts: r.coupon_attempts,
            coupon_window_started_at: r.coupon_window_started_at,
            version: r.version,
        })
    }
}

/// Binds every column of a session, in the order of [`session_columns`], to `$1…$44`.
macro_rules! bind_session {
    ($query:expr, $s:expr) => {{
        let s: &$crate::domain::session::CheckoutSession = $s;
        let f = &s.fields;
        $query
            .bind(s.id)
            .bind(s.organization_id)
            .bind(s.created_by.clone())
            .bind(s.environment.as_str())
            .bind(s.status.as_str())
            .bind(f.amount)
            .bind(f.currency.code())
            .bind(f.quantity)
            .bind(f.allow_quantity)
            .bind(f.allow_coupon_code)
            .bind(f.is_pos)
            .bind(f.is_spi)
            .bind(f.allowed_providers.as_ref().map(|l| l.to_string()))
            .bind(f.title.clone())
            .bind(f.public_description.clone())
            .bind(f.customer_name.clone())
            .bind(f.customer_email.clone())
            .bind(f.customer_phone.clone())
            .bind(f.customer_id)
            .bind(f.metadata.clone().map(sqlx::types::Json))
            .bind(f.success_url.clone())
            .bind(f.cancel_url.clone())
            .bind(f.expires_at)
            .bind(f.qr_code_type.as_str())
            .bind(
                f.qr_code_data
                    .as_ref()
                    .map(|d| sqlx::types::Json(d.to_json())),
            )
            .bind(f.spi_account_number.clone())
            .bind(s.spi_qr_code_id)
            .bind(s.qr_payload.clone())
            .bind(f.payment_link_id)
            .bind(f.payment_request_id)
            .bind(f.price_id)
            .bind(f.product_id)
            .bind(f.subscription_id)
            .bind(f.installment_plan_id)
            .bind(s.coupon_id)
            .bind(s.coupon_code.clone())
            .bind(s.amount_discount)
            .bind(s.payment_provider.clone())
            .bind(s.provider_reference.clone())
            .bind(s.completed_at)
            .bind(s.created_at)
            .bind(s.updated_at)
            .bind(s.coupon_attempts)
            .bind(s.coupon_window_started_at)
    }};
}
pub(super) use bind_session;

/// The columns of `checkout_sessions` a session is read from: those it is written to, and its
/// version, which only the database counts up.
macro_rules! session_row {
    () => {
        concat!(session_columns!(), ", version")
    };
}
pub(super) use session_row;

/// The columns of `checkout_sessions` a session is written to, in the order [`bind_session`]
/// binds them.
macro_rules! session_columns {
    () => {
        "checkout_session_id, organization_id, created_by, environment, status, amount, \
         currency_code, quantity, allow_quantity, allow_coupon_code, is_pos, is_spi, \
         allowed_providers, title, public_description, customer_name, customer_email, \
         customer_phone, customer_id, metadata, success_url, cancel_url, expires_at, qr_code_type, \
         qr_code_data, spi_account_number, spi_qr_code_id, qr_payload, payment_link_id, \
         payment_request_id, price_id, product_id, subscription_id, installment_plan_id, coupon_id, \
         coupon_code, amount_discount, payment_provider, provider_reference, completed_at, \
         created_at, updated_at, coupon_attempts, coupon_window_started_at"
    };
}
pub(super) use session_columns;

/// `$1, …, $44`: one placeholder per column of [`session_columns`].
macro_rules! session_placeholders {
    () => {
        "$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, \
         $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, $33, $34, $35, $36, \
         $37, $38, $39, $40, $41, $42, $43, $44"
    };
}
pub(super) use session_placeholders;
