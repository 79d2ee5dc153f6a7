//! Payments through providers, from the first call to the money: start an attempt, settle it
//! with what the provider says, cancel it when the customer picks another method.
//!
//! The order is frozen while an attempt is under way: starting one writes the payment and the
//! session's `pending_payment_id` in one transaction, against the session's version, so the
//! amount asked of the provider is the session's total at that instant and no change of
//! quantity, coupon or amount can slip in between (each re-reads the session and finds it
//! pending). Calls to providers are made outside any transaction, with a timeout; what they
//! answer is recorded afterwards. A start whose answer is lost leaves the payment pending, and
//! the reconciler reads it from the provider by its id until it settles: nothing is charged
//! that caisse does not learn of.

use std::future::Future;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::Context;
use super::checkout::Problem;

use super::providers::{self, Account};
use crate::adapters::sandbox::Sandbox;
use crate::adapters::{
    Attempt, CALL_TIMEOUT, Credentials, Next, PaymentProvider, ProviderError, Started,
};
use crate::domain::payment::{Payment, PaymentStatus, Reading};
use crate::domain::provider::Provider;
use crate::domain::provider_account::AccountProvider;
use crate::domain::session::{CheckoutSession, Environment, Status};
use crate::domain::time;
use crate::store::{Settled, StoreError};

/// How many times a start is tried again after losing a race with another write.
const START_TRIES: usize = 16;

/// What the customer is shown once an attempt has started.
#[derive(Debug)]
pub enum Begun {
    /// Go to the provider (303).
    Redirect(String),
    /// Stay on the page, which shows how to finish.
    Wait,
    /// The provider did not answer: the attempt stays pending (it may have started there), and
    /// the page offers to try again or to use another method.
    ProviderUnavailable,
    /// The provider refused the attempt (the merchant's credentials, say): it failed, and the
    /// customer may use another method.
    Refused,
}

/// The implementation a payment goes through, and the credentials it needs: its provider's
/// adapter with the merchant's account, or the sandbox when it has no account (the test
/// sandbox, or a PI-SPI code scanned from the page: neither calls anything). `None` when the
/// account is gone or cannot be opened: the payment cannot be reached now.
async fn route<'a>(
    ctx: &'a Context,
    payment: &Payment,
) -> Option<(&'a dyn PaymentProvider, Credentials)> {
    let Some(account_id) = payment.account_id else {
        return Some((&Sandbox, Credentials::default()));
    };
    let adapter = ctx.adapters.adapter(payment.provider)?;
    match providers::account_by_id(ctx, account_id).await {
        Ok(Some(account)) => Some((adapter, credentials_of(&account))),
        Ok(None) => None,
        Err(e) => {
            tracing::warn!(payment = %payment.id, error = %e, "a payment's account cannot be read");
            None
        }
    }
}

pub(super) fn credentials_of(account: &Account) -> Credentials {
    account.credentials.clone()
}

/// The merchant's enabled account with `provider` in the session's environment, when caisse
/// can call that provider.
async fn account_for(
    ctx: &Context,
    session: &CheckoutSession,
    provider: Provider,
) -> Result<Option<Account>, Problem> {
    let (Some(code), Some(_)) = (
        AccountProvider::of(provider),
        ctx.adapters.adapter(provider),
    ) else {
        return Ok(None);
    };
    match providers::account(ctx, session.organization_id, session.environment, code).await {
        Ok(account) => Ok(account.filter(|a| a.account.enabled)),
        Err(super::Error::Store(e)) => Err(Problem::Store(e)),
        Err(e) => {
            tracing::warn!(provider = %provider, error = %e, "a provider account cannot be read");
            Ok(None)
        }
    }
}

/// A provider call with caisse's timeout.
async fn call<T>(call: impl Future<Output = Result<T, ProviderError>>) -> Result<T, ProviderError> {
    tokio::time::timeout(CALL_TIMEOUT, call)
        .await
        .unwrap_or_else(|_| Err(ProviderError::Unavailable("no answer in time".into())))
}

/// Starts paying `session_id` with `provider`: an attempt under way with another provider is
/// canceled first; one under way with the same provider is the same attempt again (a form
/// posted twice starts one payment). `lang` is the page's language, for a provider's page.
pub async fn start(
    ctx: &Context,
    session_id: Uuid,
    provider: Provider,
    lang: &str,
) -> Result<Begun, Problem> {
    let mut tries = 0;
    let (session, payment) = loop {
        tries += 1;
        let mut session = ctx
            .store
            .session_uncached(session_id)
            .await?
            .ok_or(Problem::NotFound)?;
        if session.status != Status::Open {
            return Err(Problem::NotOpen);
        }
        if let Some(pending) = session.pending_payment_id {
            match ctx.store.payment(pending).await? {
                // The same attempt again, unless its start went unanswered: then this is the
                // customer's "try again", and a new attempt replaces it. An answered start
                // left where to send the customer, or the provider's deadline for it (MTN's,
                // whose customer stays here). What an adapter keeps before the call (Stripe's
                // request) says nothing of an answer.
                Some(p)
                    if p.provider == provider
                        && (p.redirect_url.is_some()
                            || p.expires_at.is_some()
                            || p.account_id.is_none()) =>
                {
                    return Ok(again(&p));
                }
                _ => {
                    cancel(ctx, session_id).await?;
                    continue;
                }
            }
        }
        let now = time::now();
        // The coupon is checked again: the provider will be asked for what it leaves to pay.
        if let Some(rejection) = super::sessions::reprice(ctx, &mut session, now).await? {
            // Taken off: the customer sees the new total before paying it.
            session.updated_at = now;
            ctx.store.update_open_session(&session).await?;
            return Err(Problem::CouponRejected(rejection));
        }
        let account = account_for(ctx, &session, provider).await?;
        // Live money goes through the merchant's own account, or a code the customer scans.
        if account.is_none()
            && session.environment == Environment::Live
            && provider != Provider::Spi
        {
            return Err(Problem::NotAllowed);
        }
        let first_check = now + ctx.settings.reconcile_interval();
        let account_id = account.map(|a| a.account.id);
        let mut payment = Payment::pending(&session, provider, account_id, first_check, now);
        // What the adapter keeps before calling (Stripe: the request itself, to send again if
        // its answer is lost), written with the payment.
        if let (Some(_), Some(adapter)) = (account_id, ctx.adapters.adapter(provider)) {
            payment.provider_data = adapter.prepare(&attempt(ctx, &payment, &session, lang));
        }
        session.pending_payment_id = Some(payment.id);
        session.updated_at = now;
        if ctx.store.start_payment(&session, &payment).await? {
            break (session, payment);
        }
        if tries >= START_TRIES {
            return Err(Problem::Busy);
        }
    };
    let Some((adapter, credentials)) = route(ctx, &payment).await else {
        return Ok(Begun::ProviderUnavailable);
    };
    let attempt = attempt(ctx, &payment, &session, lang);
    let started = call(adapter.start(&credentials, &attempt))
        .await
        .and_then(|started| ctx.adapters.checked(provider, started));
    match started {
        Ok(started) => {
            record(ctx, &payment, &started).await?;
            Ok(match started.next {
                Next::Redirect(url) => Begun::Redirect(url),
                Next::Wait => Begun::Wait,
            })
        }
        Err(ProviderError::Unavailable(why)) => {
            tracing::warn!(payment = %payment.id, provider = %provider, %why,
                "a payment's start went unanswered; it stays pending and is read again");
            Ok(Begun::ProviderUnavailable)
        }
        Err(ProviderError::Refused(why)) => {
            tracing::warn!(payment = %payment.id, provider = %provider, %why,
                "a provider refused to start a payment");
            let reading = Reading::Failed {
                code: "provider_refused".into(),
                message: why,
            };
            settle(ctx, payment.id, &reading).await?;
            Ok(Begun::Refused)
        }
    }
}

/// What a provider is asked for `payment`: caisse's return routes and notification URL for it.
fn attempt<'a>(
    ctx: &Context,
    payment: &'a Payment,
    session: &'a CheckoutSession,
    lang: &'a str,
) -> Attempt<'a> {
    Attempt {
        payment,
        session,
        success_url: format!("{}/checkout/{}/return", ctx.public_url, session.id),
        error_url: format!("{}/checkout/{}/return", ctx.public_url, session.id),
        notify_url: notify_url(ctx, payment),
        lang,
    }
}

/// The same attempt shown again: to the provider if it sends the customer somewhere.
fn again(payment: &Payment) -> Begun {
    match &payment.redirect_url {
        Some(url) => Begun::Redirect(url.clone()),
        None => Begun::Wait,
    }
}

/// Where the provider sends this payment's notifications, if it takes a URL per payment: the
/// account's `webhook_url` and the payment's short id (what `web/notifications.rs` reads back).
fn notify_url(ctx: &Context, payment: &Payment) -> String {
    match (payment.account_id, AccountProvider::of(payment.provider)) {
        (Some(account), Some(code)) => format!(
            "{}/providers/{code}/{account}/{}",
            ctx.public_url,
            payment.short_id()
        ),
        _ => String::new(),
    }
}

async fn record(ctx: &Context, payment: &Payment, started: &Started) -> Result<(), Problem> {
    let redirect_url = match &started.next {
        Next::Redirect(url) => Some(url.as_str()),
        Next::Wait => None,
    };
    let recorded = crate::store::RecordedStart {
        reference: started.reference.as_deref(),
        redirect_url,
        expires_at: started.expires_at,
        provider_data: started.provider_data.as_deref(),
    };
    ctx.store
        .record_start(payment.id, &recorded, time::now())
        .await?;
    Ok(())
}

/// Settles a payment with what its provider said (a verified notification, a status read, or
/// the sandbox's button). The same reading twice settles once. Attempts the completion ended
/// are left due for the reconciler, which ends them at their providers ([`close`]).
pub async fn settle(
    ctx: &Context,
    payment_id: Uuid,
    reading: &Reading,
) -> Result<Settled, StoreError> {
    let settled = ctx
        .store
        .settle_payment(payment_id, reading, time::now(), &ctx.public_url)
        .await?;
    if settled == Settled::Unmatched {
        tracing::warn!(payment = %payment_id,
            "a payment succeeded that its session could not take; the merchant is told");
    }
    Ok(settled)
}

/// Ends the session's attempt under way ("use another method"): canceled here, then at its
/// provider at once. If the provider says it was paid after all, it is settled as paid; if
/// the provider cannot be reached, the reconciler keeps trying.
pub async fn cancel(ctx: &Context, session_id: Uuid) -> Result<(), StoreError> {
    let now = time::now();
    let recheck_at = now + ctx.settings.reconcile_interval();
    if let Some(payment) = ctx
        .store
        .cancel_pending_payment(session_id, now, recheck_at)
        .await?
    {
        close(ctx, &payment).await?;
    }
    Ok(())
}

/// Ends at its provider an attempt caisse has ended (canceled, failed, or expired with its
/// session), and settles what the provider says became of it: money that came first is
/// settled like any other (completing the session if it still can, recorded as unmatched
/// otherwise); an attempt the provider confirms ended unpaid is no longer read. Until the
/// provider answers, the payment stays due and the reconciler comes back to it, so money
/// for an abandoned attempt is found even when its notification is lost. True when it settled.
pub async fn close(ctx: &Context, payment: &Payment) -> Result<bool, StoreError> {
    let Some((adapter, credentials)) = route(ctx, payment).await else {
        return Ok(false);
    };
    let reading = match call(adapter.cancel(&credentials, payment)).await {
        Ok(reading) => reading,
        Err(e) => {
            tracing::info!(payment = %payment.id, error = %e, "ending an attempt at its provider failed");
            match call(adapter.read(&credentials, payment)).await {
                Ok(reading) => reading,
                Err(_) => return Ok(false),
            }
        }
    };
    match reading {
        Reading::Pending => Ok(false),
        Reading::Succeeded { .. } => {
            Ok(settle(ctx, payment.id, &reading).await? != Settled::Unchanged)
        }
        Reading::Failed { .. } | Reading::Expired => {
            ctx.store.stop_reading(payment.id).await?;
            Ok(false)
        }
    }
}

/// The test sandbox's outcome for the session's attempt under way: the customer's button.
pub async fn sandbox_outcome(
    ctx: &Context,
    session: &CheckoutSession,
    success: bool,
) -> Result<Settled, StoreError> {
    let Some(pending) = session.pending_payment_id else {
        return Ok(Settled::Unchanged);
    };
    let Some(payment) = ctx.store.payment(pending).await? else {
        return Ok(Settled::Unchanged);
    };
    if payment.account_id.is_some()
        || session.environment != crate::domain::session::Environment::Test
    {
        return Ok(Settled::Unchanged);
    }
    let reading = if success {
        Reading::Succeeded {
            reference: format!("sandbox_{}", Uuid::new_v4().simple()),
            amount: payment.amount,
            currency: payment.currency,
        }
    } else {
        Reading::Failed {
            code: "sandbox_declined".into(),
            message: "declined in the test sandbox".into(),
        }
    };
    settle(ctx, payment.id, &reading).await
}

/// Reads one payment due at its provider and settles what it says; true when it settled. A
/// pending one is read; one caisse has ended is ended there too ([`close`]). A provider that
/// does not answer is read again at the payment's next time.
pub async fn reconcile_one(ctx: &Context, payment: &Payment) -> Result<bool, StoreError> {
    if payment.status != PaymentStatus::Pending {
        return close(ctx, payment).await;
    }
    let Some((adapter, credentials)) = route(ctx, payment).await else {
        return Ok(false);
    };
    match call(adapter.read(&credentials, payment)).await {
        Ok(Reading::Pending) => Ok(false),
        Ok(reading) => Ok(settle(ctx, payment.id, &reading).await? != Settled::Unchanged),
        Err(e) => {
            tracing::info!(payment = %payment.id, error = %e, "reading a payment failed");
            Ok(false)
        }
    }
}

/// The customer is back from the provider: the attempt under way is read at once, so the page
/// shows where it stands without waiting for a notification — at most once every
/// [`super::limits::RETURN_READ_EVERY`] per payment on each node, so that reloading the return URL (or a
/// script doing so) cannot spend the merchant's quota at the provider. A return past the limit
/// shows the page as it stands; the notification and the reconciler settle the payment anyway.
pub async fn returned(ctx: &Context, session: &CheckoutSession) -> Result<(), StoreError> {
    let Some(pending) = session.pending_payment_id else {
        return Ok(());
    };
    if !ctx.limits.return_read(pending) {
        return Ok(());
    }
    if let Some(payment) = ctx.store.payment(pending).await?
        && payment.account_id.is_some()
    {
        reconcile_one(ctx, &payment).await?;
    }
    Ok(())
}

/// When a pending payment is next read, after `checks` reads: the interval, doubling, at most
/// ten minutes apart.
pub fn next_check(interval: chrono::Duration, checks: i64, now: DateTime<Utc>) -> DateTime<Utc> {
    let factor = 1_i32 << checks.clamp(0, 6);
    let delay = (interval * factor).min(chrono::Duration::minutes(10));
    now + delay
}
