//! Payments the reconciler reads at their providers: which are due, one read sooner when a
//! notification hints that it changed, and none once its provider confirmed how it ended.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::payments::{PaymentRow, payment_columns};
use super::{Store, StoreResult, decoded, on_pool, select_rows};
use crate::domain::payment::Payment;

impl Store {
    /// Claims up to `limit` payments due for a read at their provider — pending ones, and
    /// ended ones their provider has not confirmed ended yet: each is given its next read
    /// time (`next_check` of its count of reads) before it is returned, so another node does
    /// not read it too meanwhile (and if one did, settling twice is harmless). Only payments
    /// through a provider account are read: the sandbox and scanned codes have nothing to read.
    pub async fn claim_due_payments(
        &self,
        now: DateTime<Utc>,
        limit: i64,
        next_check: impl Fn(i64) -> DateTime<Utc>,
    ) -> StoreResult<Vec<Payment>> {
        let rows: Vec<PaymentRow> = on_pool!(self, write, |pool, d| {
            let mut tx = pool.begin().await?;
            let due: Vec<PaymentRow> = sqlx::query_as(super::sql(
                d,
                select_rows!(
                    payment_columns,
                    "payments",
                    "WHERE next_check_at <= $1 AND account_id IS NOT NULL \
                     ORDER BY next_check_at LIMIT $2"
                ),
                select_rows!(
                    payment_columns,
                    "payments",
                    "WHERE next_check_at <= $1 AND account_id IS NOT NULL \
                     ORDER BY next_check_at LIMIT $2 \
                     FOR UPDATE SKIP LOCKED"
                ),
            ))
            .bind(now)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
            for p in &due {
                sqlx::query(
                    "UPDATE payments SET next_check_at = $2, checks = checks + 1 \
                     WHERE payment_id = $1",
                )
                .bind(p.payment_id)
                .bind(next_check(p.checks + 1))
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            due
        });
        decoded(rows)
    }
}

impl Store {
    /// A payment still being read is read at once (`at`): a notification that only hints that
    /// it changed asked for it, and should the read made right away be lost with its node,
    /// the reconciler makes it.
    pub async fn read_soon(&self, payment_id: Uuid, at: DateTime<Utc>) -> StoreResult<()> {
        on_pool!(self, write, |pool, d| {
            sqlx::query(
                "UPDATE payments SET next_check_at = $2 \
                 WHERE payment_id = $1 AND next_check_at IS NOT NULL",
            )
            .bind(payment_id)
            .bind(at)
            .execute(&mut *pool)
            .await?;
        });
        Ok(())
    }

    /// An ended payment is no longer read: its provider confirmed it can no longer be paid.
    pub async fn stop_reading(&self, payment_id: Uuid) -> StoreResult<()> {
        on_pool!(self, write, |pool, d| {
            sqlx::query(
                "UPDATE payments SET next_check_at = NULL WHERE payment_id = $1 AND status <> 'pending'",
            )
            .bind(payment_id)
            .execute(&mut *pool)
            .await?;
        });
        Ok(())
    }
}
