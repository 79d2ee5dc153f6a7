//! Payments: every attempt to pay a session, kept for good (see [`crate::domain::payment`]).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::rows::parsed;
use super::{Store, StoreError, StoreResult, on_pool};
use crate::domain::payment::Payment;

/// Every column of `payments`, in [`PaymentRow`]'s order.
macro_rules! payment_columns {
    () => {
        "payment_id, checkout_session_id, organization_id, environment, provider, status, amount, \
         currency_code, provider_reference, failure_code, failure_message, created_at, updated_at"
    };
}
pub(super) use payment_columns;

#[derive(sqlx::FromRow)]
pub(super) struct PaymentRow {
    payment_id: Uuid,
    checkout_session_id: Uuid,
    organization_id: Uuid,
    environment: String,
    provider: String,
    status: String,
    amount: i64,
    currency_code: String,
    provider_reference: Option<String>,
    failure_code: Option<String>,
    failure_message: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<PaymentRow> for Payment {
    type Error = StoreError;

    fn try_from(r: PaymentRow) -> Result<Self, StoreError> {
        Ok(Payment {
            id: r.payment_id,
            checkout_session_id: r.checkout_session_id,
            organization_id: r.organization_id,
            environment: parsed("environment", &r.environment)?,
            provider: parsed("provider", &r.provider)?,
            status: parsed("status", &r.status)?,
            amount: r.amount,
            currency: parsed("currency_code", &r.currency_code)?,
            provider_reference: r.provider_reference,
            failure_code: r.failure_code,
            failure_message: r.failure_message,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

/// Writes a new payment inside `tx`, a transaction of either backend.
macro_rules! insert_payment {
    ($tx:expr, $p:expr) => {{
        let p: &$crate::domain::payment::Payment = $p;
        sqlx::query(concat!(
            "INSERT INTO payments (",
            $crate::store::payments::payment_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        ))
        .bind(p.id)
        .bind(p.checkout_session_id)
        .bind(p.organization_id)
        .bind(p.environment.as_str())
        .bind(p.provider.code())
        .bind(p.status.as_str())
        .bind(p.amount)
        .bind(p.currency.code())
        .bind(p.provider_reference.as_deref())
        .bind(p.failure_code.as_deref())
        .bind(p.failure_message.as_deref())
        .bind(p.created_at)
        .bind(p.updated_at)
        .execute(&mut *$tx)
        .await
        .map_err(|e| $crate::store::taken(e, "payment"))?;
    }};
}
pub(super) use insert_payment;

/// The latest payment of a session inside `tx`, for the events written with a change.
macro_rules! latest_payment_in {
    ($tx:expr, $session:expr) => {{
        let row: Option<$crate::store::payments::PaymentRow> = sqlx::query_as(concat!(
            "SELECT ",
            $crate::store::payments::payment_columns!(),
            " FROM payments WHERE checkout_session_id = $1 \
             ORDER BY created_at DESC, payment_id DESC LIMIT 1"
        ))
        .bind($session)
        .fetch_optional(&mut *$tx)
        .await?;
        row.map($crate::domain::payment::Payment::try_from)
            .transpose()?
    }};
}
pub(super) use latest_payment_in;

impl Store {
    /// A session's payments, oldest first.
    pub async fn payments_of(&self, session_id: Uuid) -> StoreResult<Vec<Payment>> {
        let rows: Vec<PaymentRow> = on_pool!(self, read, |pool, d| {
            sqlx::query_as(concat!(
                "SELECT ",
                payment_columns!(),
                " FROM payments WHERE checkout_session_id = $1 ORDER BY created_at, payment_id"
            ))
            .bind(session_id)
            .fetch_all(&mut *pool)
            .await?
        });
        rows.into_iter().map(Payment::try_from).collect()
    }

    /// A session's latest payment: the one its `payment` shows.
    pub async fn latest_payment(&self, session_id: Uuid) -> StoreResult<Option<Payment>> {
        Ok(on_pool!(self, read, |pool, d| latest_payment_in!(
            pool, session_id
        )))
    }
}
