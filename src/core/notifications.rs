//! Providers' notifications, as `web/notifications.rs` receives them: verified by the
//! provider's adapter against the account's secret or the token kept for the payment the URL
//! names, then settled as they say, or — when they are only a hint (Orange's unsigned ones) —
//! answered at once while the payment is read from its provider, whose answer settles it.

use actix_web::http::header::HeaderMap;
use uuid::Uuid;

use super::Context;
use super::attempts::{credentials_of, reconcile_one, settle};
use super::providers;
use crate::adapters::{Forged, Notification, Says};
use crate::domain::payment::PaymentStatus;
use crate::domain::time;
use crate::store::StoreError;

/// What became of a provider's notification.
#[derive(Debug, PartialEq, Eq)]
pub enum Notified {
    /// Verified, and settled (or already settled so).
    Settled,
    /// Verified, and only a hint: the payment is being read from its provider, and that read
    /// settles it.
    Reading,
    /// Verified, but about nothing caisse acts on (another event, another account's payment).
    Ignored,
    /// No such account for this provider.
    UnknownAccount,
    /// It did not verify: nothing changed.
    Forged(&'static str),
}

/// A notification to a provider account's `webhook_url`, or to the URL of one of its payments
/// (`payment_id`, from the path): verified against the account's secret or the payment's
/// token, then settled, or — a hint — answered at once while the payment is read from the
/// provider. Only a payment made through that very account is settled by it, and a URL that
/// names a payment is about that payment only: an id that is not one of the account's
/// payments verifies nothing.
pub async fn notified(
    ctx: &Context,
    code: &str,
    account_id: Uuid,
    payment_id: Option<Uuid>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Notified, StoreError> {
    let account = match providers::account_by_id(ctx, account_id).await {
        Ok(Some(account)) if account.account.provider.code() == code => account,
        Ok(_) => return Ok(Notified::UnknownAccount),
        Err(super::Error::Store(e)) => return Err(e),
        Err(e) => {
            tracing::warn!(%account_id, error = %e, "a provider account cannot be read");
            return Ok(Notified::UnknownAccount);
        }
    };
    let Some(adapter) = ctx
        .adapters
        .adapter(account.account.provider.spec().pays_as)
    else {
        return Ok(Notified::UnknownAccount);
    };
    let named = match payment_id {
        None => None,
        Some(id) => match ctx.store.payment(id).await? {
            Some(p) if p.account_id == Some(account_id) => Some(p),
            _ => return Ok(Notified::Forged("the URL names no payment of this account")),
        },
    };
    let notification = Notification {
        headers,
        body,
        now: time::now(),
        payment: named.as_ref(),
    };
    let notice = match adapter.verify(&credentials_of(&account), &notification) {
        Ok(Some(notice)) => notice,
        Ok(None) => return Ok(Notified::Ignored),
        Err(Forged(why)) => return Ok(Notified::Forged(why)),
    };
    let payment = match named {
        Some(p) if p.id == notice.payment_id => p,
        Some(p) => {
            tracing::warn!(%account_id, payment = %p.id, about = %notice.payment_id,
                "a verified notification to one payment's URL named another; ignored");
            return Ok(Notified::Ignored);
        }
        None => match ctx.store.payment(notice.payment_id).await? {
            Some(p) => p,
            None => return Ok(Notified::Ignored),
        },
    };
    if payment.account_id != Some(account_id) {
        tracing::warn!(%account_id, payment = %payment.id,
            "a verified notification named a payment of another account; ignored");
        return Ok(Notified::Ignored);
    }
    tracing::info!(payment = %payment.id, event = ?notice.event_id, "provider notification");
    match notice.says {
        Says::Reading(reading) => {
            settle(ctx, payment.id, &reading).await?;
            Ok(Notified::Settled)
        }
        // Its money is recorded already: nothing a read could say would change it (a duplicate).
        Says::Hint if payment.status == PaymentStatus::Succeeded => Ok(Notified::Settled),
        Says::Hint => {
            // Recorded first: should this node stop before its read, the reconciler reads it.
            ctx.store.read_soon(payment.id, time::now()).await?;
            let ctx = ctx.clone();
            tokio::spawn(async move {
                if let Err(e) = reconcile_one(&ctx, &payment).await {
                    tracing::warn!(payment = %payment.id, error = %e,
                        "a notified payment could not be read; the reconciler reads it");
                }
            });
            Ok(Notified::Reading)
        }
    }
}
