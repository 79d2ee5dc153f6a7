//! What caisse forgets: test-mode sessions long after they ended, with everything recorded of
//! them (payments, events, deliveries and their attempts). Live sessions are kept for good.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Store, StoreResult, on_pool};

impl Store {
    /// Deletes up to `limit` test-mode sessions that ended (completed or expired) before
    /// `before`, and what refers to them, one transaction per session. Returns how many.
    pub async fn purge_test_sessions(
        &self,
        before: DateTime<Utc>,
        limit: i64,
    ) -> StoreResult<usize> {
        let ids: Vec<(Uuid,)> = on_pool!(self, read, |pool, d| {
            sqlx::query_as(
                "SELECT checkout_session_id FROM checkout_sessions WHERE environment = 'test' \
                 AND status <> 'open' AND updated_at < $1 ORDER BY updated_at LIMIT $2",
            )
            .bind(before)
            .bind(limit)
            .fetch_all(&mut *pool)
            .await?
        });
        for &(id,) in &ids {
            on_pool!(self, write, |pool, d| {
                let mut tx = pool.begin().await?;
                for statement in [
                    "DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT d.id \
                     FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id \
                     WHERE e.checkout_session_id = $1)",
                    "DELETE FROM webhook_deliveries WHERE event_id IN \
                     (SELECT id FROM webhook_events WHERE checkout_session_id = $1)",
                    "DELETE FROM webhook_events WHERE checkout_session_id = $1",
                    "DELETE FROM payments WHERE checkout_session_id = $1",
                    // Still ended: a session that came back to life meanwhile is kept.
                    "DELETE FROM checkout_sessions WHERE checkout_session_id = $1 \
                     AND status <> 'open' AND environment = 'test'",
                ] {
                    sqlx::query(statement).bind(id).execute(&mut *tx).await?;
                }
                tx.commit().await?;
            });
            self.forget_session(id);
        }
        Ok(ids.len())
    }
}
