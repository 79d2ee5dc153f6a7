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

pub(super) fn parsed<T: std::str::FromStr>(column: &str, value: &str) -> Result<T, StoreError> {
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
            pending_payment_id: r.pending_payment_id,
            version: r.version,
        })
    }
}

/// The one list of the columns a session is written to, each with the type it is read as and
/// beside the value written to it: the row type, the column list of every statement, the bound
/// values and their placeholders all come from here, so a column added or moved changes one
/// line, and two columns can never be bound in each other's place. Calls
/// `$then!($($args)* ; name: Type = value, …)`, with `$s` the session and `$f` its fields in the
/// values.
macro_rules! with_session_columns {
    ($then:ident!($($args:tt)*), $s:ident, $f:ident) => {
        $then! { $($args)* ;
            checkout_session_id: Uuid = $s.id,
            organization_id: Uuid = $s.organization_id,
            created_by: String = $s.created_by.clone(),
            environment: String = $s.environment.as_str(),
            status: String = $s.status.as_str(),
            amount: i64 = $f.amount,
            currency_code: String = $f.currency.code(),
            quantity: i64 = $f.quantity,
            allow_quantity: bool = $f.allow_quantity,
            allow_coupon_code: bool = $f.allow_coupon_code,
            is_pos: bool = $f.is_pos,
            is_spi: bool = $f.is_spi,
            allowed_providers: Option<String> = $f.allowed_providers.as_ref().map(|l| l.to_string()),
            title: String = $f.title.clone(),
            public_description: Option<String> = $f.public_description.clone(),
            customer_name: Option<String> = $f.customer_name.clone(),
            customer_email: Option<String> = $f.customer_email.clone(),
            customer_phone: Option<String> = $f.customer_phone.clone(),
            customer_id: Option<Uuid> = $f.customer_id,
            metadata: Option<Json<Map<String, Value>>> = $f.metadata.clone().map(sqlx::types::Json),
            success_url: Option<String> = $f.success_url.clone(),
            cancel_url: Option<String> = $f.cancel_url.clone(),
            expires_at: DateTime<Utc> = $f.expires_at,
            qr_code_type: String = $f.qr_code_type.as_str(),
            qr_code_data: Option<Json<Value>> = $f.qr_code_data.as_ref().map(|d| sqlx::types::Json(d.to_json())),
            spi_account_number: Option<String> = $f.spi_account_number.clone(),
            spi_qr_code_id: Option<Uuid> = $s.spi_qr_code_id,
            qr_payload: Option<String> = $s.qr_payload.clone(),
            payment_link_id: Option<Uuid> = $f.payment_link_id,
            payment_request_id: Option<Uuid> = $f.payment_request_id,
            price_id: Option<Uuid> = $f.price_id,
            product_id: Option<Uuid> = $f.product_id,
            subscription_id: Option<Uuid> = $f.subscription_id,
            installment_plan_id: Option<Uuid> = $f.installment_plan_id,
            coupon_id: Option<Uuid> = $s.coupon_id,
            coupon_code: Option<String> = $s.coupon_code.clone(),
            amount_discount: i64 = $s.amount_discount,
            payment_provider: Option<String> = $s.payment_provider.clone(),
            provider_reference: Option<String> = $s.provider_reference.clone(),
            completed_at: Option<DateTime<Utc>> = $s.completed_at,
            created_at: DateTime<Utc> = $s.created_at,
            updated_at: DateTime<Utc> = $s.updated_at,
            coupon_attempts: i64 = $s.coupon_attempts,
            coupon_window_started_at: Option<DateTime<Utc>> = $s.coupon_window_started_at,
            pending_payment_id: Option<Uuid> = $s.pending_payment_id,
        }
    };
}

/// `.bind(…)` of each value of [`with_session_columns`], in its order.
macro_rules! bind_values {
    ($query:expr ; $($column:ident: $ty:ty = $value:expr),+ $(,)?) => {
        $query $(.bind($value))+
    };
}

/// The names of [`with_session_columns`], separated by commas, as a literal.
macro_rules! column_names {
    (; $first:ident: $t:ty = $v:expr $(, $column:ident: $ty:ty = $value:expr)* $(,)?) => {
        concat!(stringify!($first) $(, ", ", stringify!($column))*)
    };
}

/// How many columns [`with_session_columns`] lists.
macro_rules! column_count {
    (; $($column:ident: $ty:ty = $value:expr),+ $(,)?) => {
        [$(stringify!($column)),+].len()
    };
}

/// The row of [`with_session_columns`]: a field for each column, and the version.
macro_rules! row_struct {
    (; $($column:ident: $ty:ty = $value:expr),+ $(,)?) => {
        /// A session as `SELECT`s of [`session_row`] return it.
        #[derive(sqlx::FromRow)]
        pub(super) struct SessionRow {
            $(pub $column: $ty,)+
            pub version: i64,
        }
    };
}
with_session_columns!(row_struct!(), s, f);

/// Binds every column of a session, in the order of [`session_columns`].
macro_rules! bind_session {
    ($query:expr, $session:expr) => {{
        let s: &$crate::domain::session::CheckoutSession = $session;
        let f = &s.fields;
        with_session_columns!(bind_values!($query), s, f)
    }};
}
pub(super) use {bind_session, bind_values, column_names, with_session_columns};

/// The columns of `checkout_sessions` a session is written to, in the order [`bind_session`]
/// binds them, as a literal for `concat!`.
macro_rules! session_columns {
    () => {
        with_session_columns!(column_names!(), s, f)
    };
}
pub(super) use session_columns;

/// The columns of `checkout_sessions` a session is read from: those it is written to, and its
/// version, which only the database counts up.
macro_rules! session_row {
    () => {
        concat!(session_columns!(), ", version")
    };
}
pub(super) use session_row;

/// How many columns a session is written to.
pub(super) const SESSION_COLUMNS: usize = with_session_columns!(column_count!(), s, f);

/// `$1, …, $n` for the `n` columns a session is written to.
pub(super) fn session_placeholders() -> &'static str {
    static PLACEHOLDERS: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        (1..=SESSION_COLUMNS)
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ")
    });
    &PLACEHOLDERS
}
