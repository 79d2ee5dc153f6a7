//! Payments: every attempt to pay a session, kept for good (see [`crate::domain::payment`]).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::rows::{SessionRow, bind_session, bind_values, parsed, with_session_columns};
use super::sessions::{SELECT_SESSION, count_coupon_use};
use super::webhooks::write_events;
use super::{Store, StoreError, StoreResult, on_pool, read_optional, read_page, select_rows};
use crate::domain::event::{Event, EventType};
use crate::domain::payment::{Payment, Reading};
use crate::domain::session::CheckoutSession;

/// Every column of `payments`, in [`PaymentRow`]'s order.
macro_rules! payment_columns {
    () => {
        "payment_id, checkout_session_id, organization_id, environment, provider, account_id, status, amount, \
         currency_code, provider_reference, failure_code, failure_message, redirect_url, expires_at, \
         next_check_at, checks, created_at, updated_at, provider_data"
    };
}
pub(super) use payment_columns;

#[derive(sqlx::FromRow)]
pub(super) struct PaymentRow {
    pub(super) payment_id: Uuid,
    checkout_session_id: Uuid,
    organization_id: Uuid,
    environment: String,
    provider: String,
    account_id: Option<Uuid>,
    status: String,
    amount: i64,
    currency_code: String,
    provider_reference: Option<String>,
    failure_code: Option<String>,
    failure_message: Option<String>,
    redirect_url: Option<String>,
    expires_at: Option<DateTime<Utc>>,
    next_check_at: Option<DateTime<Utc>>,
    pub(super) checks: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    provider_data: Option<String>,
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
            account_id: r.account_id,
            status: parsed("status", &r.status)?,
            amount: r.amount,
            currency: parsed("currency_code", &r.currency_code)?,
            provider_reference: r.provider_reference,
            failure_code: r.failure_code,
            failure_message: r.failure_message,
            redirect_url: r.redirect_url,
            expires_at: r.expires_at,
            next_check_at: r.next_check_at,
            checks: r.checks,
            created_at: r.created_at,
            updated_at: r.updated_at,
            provider_data: r.provider_data,
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
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)"
        ))
        .bind(p.id)
        .bind(p.checkout_session_id)
        .bind(p.organization_id)
        .bind(p.environment.as_str())
        .bind(p.provider.code())
        .bind(p.account_id)
        .bind(p.status.as_str())
        .bind(p.amount)
        .bind(p.currency.code())
        .bind(p.provider_reference.as_deref())
        .bind(p.failure_code.as_deref())
        .bind(p.failure_message.as_deref())
        .bind(p.redirect_url.as_deref())
        .bind(p.expires_at)
        .bind(p.next_check_at)
        .bind(p.checks)
        .bind(p.created_at)
        .bind(p.updated_at)
        .bind(p.provider_data.as_deref())
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
    /// A page of a session's payments, oldest first, and how many it has.
    pub async fn payments_of(
        &self,
        session_id: Uuid,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<Payment>, i64)> {
        let page = select_rows!(
            payment_columns,
            "payments",
            "WHERE checkout_session_id = $1 ORDER BY created_at, payment_id LIMIT $2 OFFSET $3"
        );
        let count = "SELECT COUNT(*) FROM payments WHERE checkout_session_id = $1";
        read_page!(self, PaymentRow, page, count, [session_id], limit, offset)
    }

    /// A session's latest payment: the one its `payment` shows.
    pub async fn latest_payment(&self, session_id: Uuid) -> StoreResult<Option<Payment>> {
        Ok(on_pool!(self, read, |pool, d| latest_payment_in!(
            pool, session_id
        )))
    }
}

/// What a provider answered to a start, as [`Store::record_start`] keeps it.
#[derive(Debug, Clone, Copy, Default)]
pub struct RecordedStart<'a> {
    pub reference: Option<&'a str>,
    pub redirect_url: Option<&'a str>,
    pub expires_at: Option<DateTime<Utc>>,
    pub provider_data: Option<&'a str>,
}

/// How settling a payment with what its provider said ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    /// The payment succeeded and completed its session (`checkout_session.completed`).
    Completed,
    /// The payment succeeded but its session could not take it: completed by another payment,
    /// expired, its total changed, or its coupon no longer applies. The money is recorded
    /// (`checkout_session.payment_unmatched`) for the merchant to refund.
    Unmatched,
    /// The attempt failed (`checkout_session.payment_failed`); the customer may try again.
    Failed,
    /// The provider gave up on the attempt.
    Expired,
    /// Nothing to do: already settled so, or still pending.
    Unchanged,
}

impl Store {
    /// Starts an attempt: `payment` is written pending and `session` (read at its version,
    /// with `pending_payment_id` set to the payment) written with it, in one transaction. False
    /// when the session changed since it was read, or is no longer open: read it again.
    pub async fn start_payment(
        &self,
        session: &CheckoutSession,
        payment: &Payment,
    ) -> StoreResult<bool> {
        let update = super::sessions::update_open_statement();
        let started = async {
            Ok(on_pool!(self, write, |pool, d| {
                let mut tx = pool.begin().await?;
                let written = bind_session!(sqlx::query(update), session)
                    .bind(session.version)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
                    == 1;
                if !written {
                    return Ok(false);
                }
                insert_payment!(tx, payment);
                tx.commit().await?;
                true
            }))
        }
        .await as StoreResult<bool>;
        self.forget_session(session.id);
        started
    }

    /// What the provider answered to a start, on the payment it started: its reference, where
    /// it sends the customer, its deadline, and what its adapter keeps to reach it again.
    pub async fn record_start(
        &self,
        payment_id: Uuid,
        start: &RecordedStart<'_>,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        on_pool!(self, write, |pool, d| {
            sqlx::query(
                "UPDATE payments SET provider_reference = COALESCE($2, provider_reference), \
                 redirect_url = COALESCE($3, redirect_url), expires_at = COALESCE($4, expires_at), \
                 provider_data = COALESCE($6, provider_data), updated_at = $5 WHERE payment_id = $1",
            )
            .bind(payment_id)
            .bind(start.reference)
            .bind(start.redirect_url)
            .bind(start.expires_at)
            .bind(at)
            .bind(start.provider_data)
            .execute(&mut *pool)
            .await
            .map_err(|e| super::taken(e, "payment"))?;
        });
        Ok(())
    }

    pub async fn payment(&self, id: Uuid) -> StoreResult<Option<Payment>> {
        let select = select_rows!(payment_columns, "payments", "WHERE payment_id = $1");
        read_optional!(self, PaymentRow, select, id)
    }

    /// Ends the session's payment under way, if there is one: it becomes `canceled` and the
    /// order can change again. Returns it, to be ended at its provider too (it may still
    /// succeed there, and then it is settled like any other); one through a provider account
    /// is read again from `recheck_at` until its provider confirms it ended.
    pub async fn cancel_pending_payment(
        &self,
        session_id: Uuid,
        at: DateTime<Utc>,
        recheck_at: DateTime<Utc>,
    ) -> StoreResult<Option<Payment>> {
        let canceled = async {
            Ok(on_pool!(self, write, |pool, d| {
                let mut tx = pool.begin().await?;
                let row: Option<PaymentRow> = sqlx::query_as(concat!(
                    "UPDATE payments SET status = 'canceled', updated_at = $2, \
                     next_check_at = CASE WHEN account_id IS NULL THEN NULL ELSE $3 END \
                     WHERE checkout_session_id = $1 AND status = 'pending' RETURNING ",
                    payment_columns!()
                ))
                .bind(session_id)
                .bind(at)
                .bind(recheck_at)
                .fetch_optional(&mut *tx)
                .await?;
                release_session!(tx, session_id, row.as_ref().map(|r| r.payment_id), at);
                tx.commit().await?;
                row
            }))
        }
        .await as StoreResult<Option<PaymentRow>>;
        self.forget_session(session_id);
        canceled?.map(Payment::try_from).transpose()
    }

    /// Settles a payment with what its provider said, in one transaction: the payment's new
    /// status, the session's completion when the money completes it (its total and currency
    /// still the payment's, its coupon still applying), and the merchant's event. The same
    /// reading twice settles once: the second changes nothing.
    ///
    /// Attempts that end here without the provider saying so — a failure (Wave leaves its
    /// session payable after one), and the other attempts a completion ends — stay due for
    /// the reconciler, which ends them at their providers (see [`Store::stop_reading`]).
    pub async fn settle_payment(
        &self,
        payment_id: Uuid,
        reading: &Reading,
        at: DateTime<Utc>,
        public_url: &str,
    ) -> StoreResult<Settled> {
        let mut session_id = None;
        let settled = self
            .settle_in_db(payment_id, reading, at, public_url, &mut session_id)
            .await;
        if let Some(id) = session_id {
            self.forget_session(id);
        }
        settled
    }

    async fn settle_in_db(
        &self,
        payment_id: Uuid,
        reading: &Reading,
        at: DateTime<Utc>,
        public_url: &str,
        session_id: &mut Option<Uuid>,
    ) -> StoreResult<Settled> {
        Ok(on_pool!(self, write, |pool, d| {
            let mut tx = pool.begin().await?;
            let (status, reference, code, message) = match reading {
                Reading::Pending => return Ok(Settled::Unchanged),
                Reading::Succeeded { reference, .. } => {
                    ("succeeded", Some(reference.as_str()), None, None)
                }
                Reading::Failed { code, message } => {
                    ("failed", None, Some(code.as_str()), Some(message.as_str()))
                }
                Reading::Expired => ("expired", None, None, None),
            };
            // Success settles anything but a success; a failure or an expiry only what is
            // still under way.
            let row: Option<PaymentRow> = sqlx::query_as(concat!(
                "UPDATE payments SET status = $2, provider_reference = COALESCE($3, provider_reference), \
                 failure_code = CASE WHEN $2 = 'succeeded' THEN NULL ELSE COALESCE($4, failure_code) END, \
                 failure_message = CASE WHEN $2 = 'succeeded' THEN NULL ELSE COALESCE($5, failure_message) END, \
                 next_check_at = CASE WHEN $2 = 'failed' AND account_id IS NOT NULL THEN $6 END, \
                 updated_at = $6 WHERE payment_id = $1 AND status <> 'succeeded' \
                 AND ($2 = 'succeeded' OR status = 'pending') RETURNING ",
                payment_columns!()
            ))
            .bind(payment_id)
            .bind(status)
            .bind(reference)
            .bind(code)
            .bind(message)
            .bind(at)
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| super::taken(e, "payment"))?;
            let Some(payment) = row.map(Payment::try_from).transpose()? else {
                return Ok(Settled::Unchanged);
            };
            *session_id = Some(payment.checkout_session_id);
            let outcome = match reading {
                Reading::Succeeded {
                    amount, currency, ..
                } if *amount == payment.amount && *currency == payment.currency => {
                    let completed = complete_with!(tx, &payment, at);
                    if completed {
                        Settled::Completed
                    } else {
                        Settled::Unmatched
                    }
                }
                Reading::Succeeded { .. } => Settled::Unmatched,
                Reading::Failed { .. } => Settled::Failed,
                _ => Settled::Expired,
            };
            release_session!(tx, payment.checkout_session_id, Some(payment.id), at);
            // Paid: any other attempt still under way is ended, so the customer pays once.
            if outcome == Settled::Completed {
                sqlx::query(
                    "UPDATE payments SET status = 'canceled', updated_at = $3, \
                     next_check_at = CASE WHEN account_id IS NULL THEN NULL ELSE $3 END \
                     WHERE checkout_session_id = $1 AND status = 'pending' AND payment_id <> $2",
                )
                .bind(payment.checkout_session_id)
                .bind(payment.id)
                .bind(at)
                .execute(&mut *tx)
                .await?;
            }
            let event = match outcome {
                Settled::Completed => Some(EventType::CheckoutSessionCompleted),
                Settled::Unmatched => Some(EventType::CheckoutSessionPaymentUnmatched),
                Settled::Failed => Some(EventType::CheckoutSessionPaymentFailed),
                _ => None,
            };
            if let Some(event_type) = event {
                let row: SessionRow = sqlx::query_as(SELECT_SESSION)
                    .bind(payment.checkout_session_id)
                    .fetch_one(&mut *tx)
                    .await?;
                let session = CheckoutSession::try_from(row)?;
                let event =
                    Event::for_session(event_type, &session, Some(&payment), public_url, at);
                write_events!(tx, [&event]);
            }
            tx.commit().await?;
            outcome
        }))
    }
}

/// Clears the session's `pending_payment_id` if it names `payment` (counting its version up,
/// so a writer that read it pending tries again), inside `tx`.
macro_rules! release_session {
    ($tx:expr, $session:expr, $payment:expr, $at:expr) => {
        if let Some(payment) = $payment {
            sqlx::query(
                "UPDATE checkout_sessions SET pending_payment_id = NULL, updated_at = $3, \
                 version = version + 1 WHERE checkout_session_id = $1 AND pending_payment_id = $2",
            )
            .bind($session)
            .bind(payment)
            .bind($at)
            .execute(&mut *$tx)
            .await?;
        }
    };
}
use release_session;

/// Completes `payment`'s session with it inside `tx`, if the session can take it: still open,
/// costing the payment's amount in its currency, its coupon (if any) still applying and counted.
/// A session past its expiry that has not been expired yet still takes a payment started
/// before it: the sweeper leaves a session alone while a payment is under way.
macro_rules! complete_with {
    ($tx:expr, $payment:expr, $at:expr) => {{
        let payment: &Payment = $payment;
        let mut inner = $tx.begin().await?;
        let completed: Option<(Option<Uuid>,)> = sqlx::query_as(
            "UPDATE checkout_sessions SET status = 'completed', payment_provider = $2, \
             provider_reference = $3, completed_at = $4, updated_at = $4, \
             pending_payment_id = NULL, version = version + 1 \
             WHERE checkout_session_id = $1 AND status = 'open' \
             AND amount * quantity - amount_discount = $5 AND currency_code = $6 \
             RETURNING coupon_id",
        )
        .bind(payment.checkout_session_id)
        .bind(payment.provider.code())
        .bind(payment.provider_reference.as_deref())
        .bind($at)
        .bind(payment.amount)
        .bind(payment.currency.code())
        .fetch_optional(&mut *inner)
        .await?;
        let applies = match completed {
            None => false,
            Some((None,)) => true,
            Some((Some(coupon),)) => count_coupon_use!(inner, coupon, $at),
        };
        if applies {
            inner.commit().await?;
        } else {
            inner.rollback().await?;
        }
        applies
    }};
}
use complete_with;
