//! The expiry sweeper: sessions past `expires_at` that nobody reads are expired here, so the
//! merchant's listings and `checkout_session.expired` events do not wait for a visit. It also
//! forgets idempotency keys after a day, and test-mode sessions `CAISSE_TEST_RETENTION_DAYS`
//! after they ended.
//! Several nodes may sweep one PostgreSQL database; the store skips rows another node holds.

use chrono::Duration;

use super::Stopping;
use crate::core::Context;
use crate::domain::time;

/// Sessions expired per statement, so one pass never holds a long transaction.
const BATCH: i64 = 500;
/// How long an idempotency key is remembered.
const IDEMPOTENCY_TTL: Duration = Duration::hours(24);

/// One pass: expire every session that is due, and forget what is kept no longer.
pub async fn sweep(ctx: &Context) -> Result<usize, crate::store::StoreError> {
    let mut expired = 0;
    loop {
        let batch = ctx
            .store
            .expire_due(time::now(), None, BATCH, &ctx.public_url)
            .await?;
        expired += batch.len();
        if (batch.len() as i64) < BATCH {
            break;
        }
    }
    ctx.store
        .delete_idempotency_before(time::now() - IDEMPOTENCY_TTL)
        .await?;
    if let Some(days) = ctx.settings.test_retention() {
        let before = time::now() - days;
        while ctx.store.purge_test_sessions(before, BATCH).await? as i64 == BATCH {}
    }
    Ok(expired)
}

pub async fn run(ctx: Context, stopping: Stopping) {
    super::every(
        ctx.settings.sweep_interval(),
        stopping,
        || sweep(&ctx),
        |n| tracing::info!(expired = n, "expired sessions past their time"),
        "expiry sweep failed; will retry",
    )
    .await;
}
