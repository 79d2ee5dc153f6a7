//! What the customer does on the hosted page: change the quantity, apply or remove a coupon,
//! give their details and pick a way to pay. Every amount is recomputed here, on the server;
//! the page only ever shows what this module stored.

use chrono::Duration;
use serde_json::Value;
use uuid::Uuid;

use super::Context;
use super::sessions::{self, Modified};
use crate::domain::coupon::Rejection;
use crate::domain::fields::Field;
use crate::domain::money::MAX_AMOUNT;
use crate::domain::phone::{Country, PhoneError};
use crate::domain::provider::{Provider, Start};
use crate::domain::session::{CheckoutSession, Environment, MAX_TITLE, parse_email};
use crate::domain::time;
use crate::store::StoreError;

/// Coupon codes a session may try within [`COUPON_WINDOW`]: enough for typos, too few to guess.
pub const COUPON_ATTEMPTS: i64 = 5;
pub const COUPON_WINDOW: Duration = Duration::minutes(10);

/// Why a customer's action did not happen. Each maps to one message on the page.
#[derive(Debug)]
pub enum Problem {
    NotFound,
    /// Completed or expired: nothing can change any more.
    NotOpen,
    /// The session does not offer this (a quantity form on a fixed-quantity session, say).
    NotAllowed,
    Quantity {
        max: i64,
    },
    CouponRejected(Rejection),
    CouponRateLimited,
    Details(Vec<Detail>),
    /// A payment is under way: the order cannot change until it ends ("use another method").
    PaymentPending,
    /// Other writes kept winning the race for the session; try again.
    Busy,
    Store(StoreError),
}

impl From<StoreError> for Problem {
    fn from(e: StoreError) -> Problem {
        Problem::Store(e)
    }
}

impl From<super::Error> for Problem {
    fn from(e: super::Error) -> Problem {
        match e {
            super::Error::Store(e) => Problem::Store(e),
            super::Error::NotFound(_) => Problem::NotFound,
            _ => Problem::NotOpen,
        }
    }
}

/// A customer detail that was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    Name,
    Email,
    /// Not a number that can be called.
    Phone,
    /// Written as dialled inside a country, and caisse knows no country to read it in.
    PhoneCountry,
    PhoneRequired,
    Provider,
}

/// What happened besides the change itself, for the page to say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// The new quantity made the applied coupon invalid, so it was taken off.
    CouponRemoved,
}

pub type Result<T> = std::result::Result<T, Problem>;

/// Changes an open session as the customer asked, on the session as it stands when it is
/// written (see [`sessions::modify`]): a merchant's change made meanwhile is kept, not undone.
async fn change<T>(
    ctx: &Context,
    id: Uuid,
    change: impl AsyncFnMut(&mut CheckoutSession) -> Result<T>,
) -> Result<(CheckoutSession, T)> {
    match sessions::modify(ctx, id, |_| true, change).await? {
        Modified::Saved(session, out) => Ok((session, out)),
        Modified::NotOpen(_) => Err(Problem::NotOpen),
        Modified::NotFound => Err(Problem::NotFound),
    }
}

/// The order cannot change while a payment is under way: the provider was asked for its total.
fn frozen(session: &CheckoutSession) -> Result<()> {
    match session.pending_payment_id {
        Some(_) => Err(Problem::PaymentPending),
        None => Ok(()),
    }
}

/// Sets the quantity the customer chose, within 1..=max; anything else changes nothing.
pub async fn set_quantity(
    ctx: &Context,
    id: Uuid,
    raw: &str,
) -> Result<(CheckoutSession, Option<Notice>)> {
    let max = ctx.settings.max_quantity;
    let quantity = raw
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|q| (1..=max).contains(q));
    change(ctx, id, async |session: &mut CheckoutSession| {
        if !session.fields.allow_quantity {
            return Err(Problem::NotAllowed);
        }
        frozen(session)?;
        // At most what keeps the subtotal within the amount cap, as the API requires.
        let max = max.min(MAX_AMOUNT / session.fields.amount.max(1));
        session.fields.quantity = quantity
            .filter(|q| *q <= max)
            .ok_or(Problem::Quantity { max })?;
        let dropped = sessions::reprice(ctx, session, time::now()).await?;
        Ok(dropped.map(|_| Notice::CouponRemoved))
    })
    .await
}

/// Applies a coupon code tried from `address`. Codes cannot be guessed from the page: every
/// attempt counts against the session's limit (counted in the same versioned write that
/// applies the code, so concurrent tries are each counted), the address's and, for codes the
/// organization does not have, the organization's ([`super::limits`]). A refused code leaves
/// the session as it was.
pub async fn apply_coupon(
    ctx: &Context,
    id: Uuid,
    code: &str,
    address: Option<std::net::IpAddr>,
) -> Result<CheckoutSession> {
    // Counted once each, however often the write is tried again.
    let (mut tried, mut unknown) = (false, false);
    let (session, outcome) = change(ctx, id, async |session: &mut CheckoutSession| {
        if !session.fields.allow_coupon_code {
            return Err(Problem::NotAllowed);
        }
        frozen(session)?;
        if !tried {
            tried = true;
            ctx.limits
                .coupon_try(address, session.organization_id, session.environment)
                .map_err(|_| Problem::CouponRateLimited)?;
        }
        let now = time::now();
        let window_over = session
            .coupon_window_started_at
            .is_none_or(|start| now - start >= COUPON_WINDOW);
        if window_over {
            session.coupon_attempts = 0;
            session.coupon_window_started_at = Some(now);
        }
        if session.coupon_attempts >= COUPON_ATTEMPTS {
            return Err(Problem::CouponRateLimited);
        }
        session.coupon_attempts += 1;

        let coupon = ctx
            .store
            .coupon_by_code(session.organization_id, session.environment, code)
            .await?;
        if coupon.is_none() && !unknown {
            unknown = true;
            ctx.limits
                .unknown_coupon(session.organization_id, session.environment);
        }
        let outcome = match &coupon {
            None => Err(Problem::CouponRejected(Rejection::NotFound)),
            Some(c) => c
                .check(session.fields.currency, session.fields.quantity, now)
                .map_err(Problem::CouponRejected),
        };
        if let (Ok(()), Some(c)) = (&outcome, &coupon) {
            session.coupon_id = Some(c.id);
            session.coupon_code = Some(c.fields.code.as_str().to_string());
            sessions::reprice(ctx, session, now).await?;
        }
        // The attempt is recorded whether or not the code was good.
        Ok(outcome)
    })
    .await?;
    outcome.map(|()| session)
}

pub async fn remove_coupon(ctx: &Context, id: Uuid) -> Result<CheckoutSession> {
    let (session, ()) = change(ctx, id, async |session: &mut CheckoutSession| {
        frozen(session)?;
        session.coupon_id = None;
        session.coupon_code = None;
        sessions::reprice(ctx, session, time::now()).await?;
        Ok(())
    })
    .await?;
    Ok(session)
}

/// The providers the page offers for a session: those the merchant allows (all, when it did
/// not say) that take its currency and can take a payment here. PI-SPI is paid by scanning the session's QR code, so
/// it needs one. The others go through the merchant's account with them (`accounts`: the
/// providers it has an enabled account with, that caisse can call); in test, the sandbox
/// stands in for any the merchant has no account with.
pub fn offered_providers(session: &CheckoutSession, accounts: &[Provider]) -> Vec<Provider> {
    let allowed = match &session.fields.allowed_providers {
        Some(list) => list.providers(),
        None => &Provider::ALL[..],
    };
    allowed
        .iter()
        .copied()
        .filter(|p| p.takes(session.fields.currency))
        .filter(|p| match p.start() {
            Start::ScanQrCode => session.qr_payload.is_some(),
            Start::OutsideService => {
                session.environment == Environment::Test || accounts.contains(p)
            }
        })
        .collect()
}

/// The providers a live session's organization can be paid through (see
/// [`offered_providers`]); a test session needs none, as the sandbox stands in.
pub async fn accounts_for(ctx: &Context, session: &CheckoutSession) -> Result<Vec<Provider>> {
    if session.environment == Environment::Test {
        return Ok(Vec::new());
    }
    let accounts = ctx
        .store
        .provider_accounts(session.organization_id, session.environment)
        .await?;
    Ok(accounts
        .iter()
        .filter(|a| a.enabled)
        .map(|a| a.provider.spec().pays_as)
        .filter(|p| ctx.adapters.adapter(*p).is_some())
        .collect())
}

/// What the customer typed in the payment form.
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct PaymentForm {
    #[serde(default)]
    pub provider: String,
    #[serde(default)]
    pub customer_name: String,
    #[serde(default)]
    pub customer_email: String,
    #[serde(default)]
    pub customer_phone: String,
}

/// Records the customer's details and chosen provider; the page then shows how to pay with it.
/// Name and email are optional; a phone number is required by mobile money.
pub async fn choose_payment(
    ctx: &Context,
    id: Uuid,
    form: &PaymentForm,
) -> Result<CheckoutSession> {
    let (session, ()) = change(ctx, id, async |session: &mut CheckoutSession| {
        let accounts = accounts_for(ctx, session).await?;
        let national = !form.customer_phone.trim().is_empty()
            && !form.customer_phone.trim_start().starts_with('+');
        let country = match form.provider.parse::<Provider>() {
            Ok(provider) if national => phone_country(ctx, session, provider).await?,
            _ => None,
        };
        choose_on(session, form, &accounts, country)
    })
    .await?;
    Ok(session)
}

/// The country a phone number typed on `session`'s page is read in, paying with `provider`:
/// the organization's, else the one of its account with that provider (Orange's `country`,
/// the country of MTN's target environment), else the country of the session's QR code.
async fn phone_country(
    ctx: &Context,
    session: &CheckoutSession,
    provider: Provider,
) -> Result<Option<Country>> {
    let org = super::organizations::get(ctx, session.organization_id)
        .await
        .map_err(|e| match e {
            super::Error::Store(e) => Problem::Store(e),
            _ => Problem::NotFound,
        })?;
    if let Some(country) = org.country.as_deref().and_then(Country::from_code) {
        return Ok(Some(country));
    }
    let accounts = ctx
        .store
        .provider_accounts(session.organization_id, session.environment)
        .await?;
    let of_account = accounts
        .iter()
        .find(|a| a.provider.spec().pays_as == provider)
        .and_then(|a| {
            let hint = |name: &str| a.hints.get(name).map(String::as_str);
            hint("country")
                .and_then(Country::from_code)
                .or_else(|| hint("target_environment").and_then(Country::of_mtn_environment))
        });
    Ok(of_account.or_else(|| {
        session
            .fields
            .qr_code_data
            .as_ref()
            .and_then(|q| q.country_code())
            .and_then(Country::from_code)
    }))
}

/// The details and provider of `form`, checked and set on `session`; a phone number written
/// as dialled inside a country is read in `country`.
fn choose_on(
    session: &mut CheckoutSession,
    form: &PaymentForm,
    accounts: &[Provider],
    country: Option<Country>,
) -> Result<()> {
    let mut problems = Vec::new();
    let provider = form
        .provider
        .parse::<Provider>()
        .ok()
        .filter(|p| offered_providers(session, accounts).contains(p));
    if provider.is_none() {
        problems.push(Detail::Provider);
    }
    let optional = |raw: &str| (!raw.trim().is_empty()).then(|| Value::String(raw.to_string()));
    let name = optional(&form.customer_name);
    let name = match &name {
        None => None,
        Some(v) => Field::new("customer_name", v)
            .text(MAX_TITLE)
            .map_err(|_| problems.push(Detail::Name))
            .ok(),
    };
    let email = optional(&form.customer_email);
    let email = match &email {
        None => None,
        Some(v) => parse_email(Field::new("customer_email", v))
            .map_err(|_| problems.push(Detail::Email))
            .ok(),
    };
    let phone = optional(&form.customer_phone);
    let phone = match &phone {
        None => {
            if provider.is_some_and(Provider::needs_phone) {
                problems.push(Detail::PhoneRequired);
            }
            None
        }
        Some(v) => match crate::domain::phone::parse(v.as_str().unwrap_or_default(), country) {
            Ok(phone) => Some(phone),
            Err(PhoneError::NoCountry) => {
                problems.push(Detail::PhoneCountry);
                None
            }
            Err(PhoneError::Impossible) => {
                problems.push(Detail::Phone);
                None
            }
        },
    };
    if !problems.is_empty() {
        return Err(Problem::Details(problems));
    }
    session.fields.customer_name = name;
    session.fields.customer_email = email;
    session.fields.customer_phone = phone;
    session.payment_provider = provider.map(|p| p.code().to_string());
    Ok(())
}

/// Back to the choice of provider: the attempt under way, if any, is canceled first.
pub async fn reset_payment(ctx: &Context, id: Uuid) -> Result<CheckoutSession> {
    super::attempts::cancel(ctx, id).await?;
    let (session, ()) = change(ctx, id, async |session: &mut CheckoutSession| {
        session.payment_provider = None;
        Ok(())
    })
    .await?;
    Ok(session)
}
