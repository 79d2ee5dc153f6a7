//! The reconciler: pending payments are read from their providers, so a notification that was
//! lost (or never sent) delays a completion and never loses it. A payment is first read
//! `CAISSE_RECONCILE_INTERVAL` seconds after it starts, then less and less often (doubling, at
//! most ten minutes apart) until it settles or its session ends. An attempt caisse ended
//! (the customer chose another method, the session was paid another way or expired, the
//! attempt failed here) is ended at its provider the same way, and read until the provider
//! confirms it can no longer be paid: its money, if it came first, is settled. Several nodes
//! may reconcile one PostgreSQL database: each claims the payments it reads.

use super::Stopping;
use crate::core::{Context, attempts};
use crate::domain::time;

/// Payments read per pass.
const BATCH: i64 = 50;

/// One pass: read every payment that is due and settle what its provider says.
pub async fn reconcile(ctx: &Context) -> Result<usize, crate::store::StoreError> {
    let now = time::now();
    let interval = ctx.settings.reconcile_interval();
    let due = ctx
        .store
        .claim_due_payments(now, BATCH, |checks| {
            attempts::next_check(interval, checks, now)
        })
        .await?;
    let mut settled = 0;
    for payment in &due {
        if attempts::reconcile_one(ctx, payment).await? {
            settled += 1;
        }
    }
    Ok(settled)
}

pub async fn run(ctx: Context, stopping: Stopping) {
    // Often enough to honour short intervals, rarely enough to cost nothing when idle.
    let tick = std::time::Duration::from_secs(ctx.settings.reconcile_interval_secs.clamp(1, 5));
    super::every(
        tick,
        stopping,
        || reconcile(&ctx),
        |n| tracing::info!(settled = n, "settled pending payments from their providers"),
        "reconciling payments failed; will retry",
    )
    .await;
}
