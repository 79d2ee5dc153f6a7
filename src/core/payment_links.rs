//! Payment links for the merchant API and the command line, and what happens when a customer
//! presses "continue" on a link's page: [`open`] makes them a checkout session of their own.
//!
//! A link belongs to the organization and environment of the key that made it; any other
//! caller is told it does not exist. A product link's price is checked when the link is made or
//! changed (the caller's, active, the amount it allows), and again, through the catalog, each
//! time a session is opened from it, since the price may have changed since.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::coupons::ListParams;
use super::input::{Page, checked, create_faults, deleted, owned_page, page_of, patched, visible};
use super::{Caller, Context, Error, Result, catalog, sessions};
use crate::domain::money::{self, Currency};
use crate::domain::payment_link::{
    LinkFields, LinkRules, LinkType, PaymentLink, READ_ONLY, WRITABLE,
};
use crate::domain::session::CheckoutSession;
use crate::domain::time;

fn rules(ctx: &Context, caller: &Caller, expires_after: Option<DateTime<Utc>>) -> LinkRules {
    LinkRules {
        environment: caller.environment,
        max_quantity: ctx.settings.max_quantity,
        expires_after,
    }
}

/// Checks a product link's price against the catalog as it is now (the caller's, active, the
/// amount and currency it allows: else 422 naming the field; a pay-what-you-want price without
/// a fixed amount on the link is left to the customer), and gives a link without a title the
/// product's name, so that what is shared names what is sold.
async fn check_price(ctx: &Context, caller: &Caller, f: &mut LinkFields) -> Result<()> {
    if f.link_type != LinkType::Product {
        return Ok(());
    }
    let mut body = f.session_body(Uuid::nil(), None);
    body.remove("payment_link_id");
    let priced = match catalog::priced(ctx, caller, body).await {
        Ok(priced) => priced,
        // The customer types the amount of a pay-what-you-want price on the link's page.
        Err(Error::Invalid(errors))
            if f.amount.is_none() && errors.iter().all(|e| e.field == "amount") =>
        {
            let mut body = f.session_body(Uuid::nil(), None);
            body.insert("amount".into(), Value::from(1));
            catalog::priced(ctx, caller, body).await.unwrap_or_default()
        }
        Err(e) => return Err(e),
    };
    if f.title.is_none() {
        f.title = priced
            .get("title")
            .and_then(Value::as_str)
            .map(str::to_string);
    }
    Ok(())
}

pub async fn create(
    ctx: &Context,
    caller: &Caller,
    body: &Map<String, Value>,
) -> Result<PaymentLink> {
    let errors = create_faults(body, caller, WRITABLE, READ_ONLY, "a payment link")?;
    let now = time::now();
    let mut fields = checked(
        errors,
        LinkFields::parse(body, &rules(ctx, caller, Some(now))),
    )?;
    check_price(ctx, caller, &mut fields).await?;
    let link = PaymentLink {
        id: Uuid::new_v4(),
        organization_id: caller.organization_id,
        environment: caller.environment,
        fields,
        created_at: now,
        updated_at: now,
        deleted_at: None,
    };
    ctx.store.insert_payment_link(&link).await?;
    Ok(link)
}

/// A link of the caller's organization and environment that is not deleted.
pub async fn retrieve(ctx: &Context, caller: &Caller, id: Uuid) -> Result<PaymentLink> {
    visible(ctx.store.payment_link(id).await?, caller, "payment link")
}

pub async fn list(
    ctx: &Context,
    caller: &Caller,
    params: &ListParams,
) -> Result<Page<PaymentLink>> {
    let q = owned_page(caller, params)?;
    Ok(page_of(&q, ctx.store.list_payment_links(&q).await?))
}

pub async fn update(
    ctx: &Context,
    caller: &Caller,
    id: Uuid,
    patch: &Map<String, Value>,
) -> Result<PaymentLink> {
    let mut link = retrieve(ctx, caller, id).await?;
    let merged = patched(
        link.writable_json(),
        patch,
        WRITABLE,
        READ_ONLY,
        "a payment link",
    )?;
    let now = time::now();
    let sets_expiry = patch.get("expires_at").is_some_and(|v| !v.is_null());
    let mut fields = LinkFields::parse(&merged, &rules(ctx, caller, sets_expiry.then_some(now)))
        .map_err(Error::Invalid)?;
    check_price(ctx, caller, &mut fields).await?;
    link.fields = fields;
    link.updated_at = now;
    ctx.store
        .update_payment_link(&link)
        .await?
        .ok_or(Error::NotFound("payment link"))
}

pub async fn delete(ctx: &Context, caller: &Caller, id: Uuid) -> Result<()> {
    retrieve(ctx, caller, id).await?;
    deleted(
        ctx.store.delete_payment_link(id, time::now()).await?,
        "payment link",
    )
}

/// A link as its page shows it, whoever asks: `None` for no such link. Deleted, inactive and
/// expired links are returned too, for their page to say so.
pub async fn public(ctx: &Context, id: Uuid) -> Result<Option<PaymentLink>> {
    Ok(ctx.store.payment_link(id).await?)
}

/// What the link's page offers the customer: the amount they pay (`None` when they choose
/// it), its currency, its title, and the bounds of a pay-what-you-want price.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    pub title: String,
    pub description: Option<String>,
    pub amount: Option<i64>,
    pub currency: Currency,
    /// A pay-what-you-want price's bounds, when the customer types the amount.
    pub bounds: Option<(i64, i64)>,
}

/// The offer of a link, priced from the catalog as it is now. `None` when the link can sell
/// nothing (its price or product was deleted or switched off): its page says it is not
/// available.
pub async fn offer(ctx: &Context, link: &PaymentLink) -> Result<Option<Offer>> {
    let caller = owner(link);
    let f = &link.fields;
    if f.link_type == LinkType::Instant {
        return Ok(Some(Offer {
            title: f.title.clone().unwrap_or_default(),
            description: f.public_description.clone(),
            amount: f.amount,
            currency: f.currency.unwrap_or(Currency::Xof),
            bounds: None,
        }));
    }
    let price = match (f.price_id, f.product_id) {
        (Some(id), _) => catalog::price(ctx, &caller, id).await.ok(),
        (None, Some(product)) => ctx.store.default_price(product).await?,
        (None, None) => None,
    };
    let Some(price) = price.filter(|p| p.fields.is_active && p.deleted_at.is_none()) else {
        return Ok(None);
    };
    let Some(product) = catalog::product(ctx, &caller, price.fields.product_id)
        .await
        .ok()
        .filter(|p| p.fields.is_active)
    else {
        return Ok(None);
    };
    let bounds = match (
        f.amount,
        price.fields.minimum_amount,
        price.fields.maximum_amount,
    ) {
        (None, Some(min), Some(max)) => Some((min, max)),
        _ => None,
    };
    let amount = match bounds {
        Some(_) => None,
        None => match price.amount_for(f.amount) {
            Ok(amount) => Some(amount),
            // The price changed since the link was made: it sells nothing until mended.
            Err(_) => return Ok(None),
        },
    };
    Ok(Some(Offer {
        title: f.title.clone().unwrap_or(product.fields.name),
        description: f.public_description.clone().or(product.fields.description),
        amount,
        currency: price.fields.currency,
        bounds,
    }))
}

/// The link's organization and environment, as the caller sessions are made for.
fn owner(link: &PaymentLink) -> Caller {
    Caller {
        organization_id: link.organization_id,
        environment: link.environment,
        key_id: None,
    }
}

/// Opens a checkout session from a link for one customer, at `offer` (what the link's page
/// showed them, as [`offer`] read it): `typed` is the amount they typed on a pay-what-you-want
/// link's page, in the currency's main unit as people write it (`5 000`, `12,50`). `None` when
/// the link closed meanwhile (deleted, inactive, expired); an amount that cannot be read or is
/// outside the bounds is 422 naming `amount`. The price is checked again by the catalog when
/// the session is made.
pub async fn open(
    ctx: &Context,
    link: &PaymentLink,
    offer: &Offer,
    typed: Option<&str>,
) -> Result<Option<CheckoutSession>> {
    if !link.is_open(time::now()) {
        return Ok(None);
    }
    let amount = match offer.bounds {
        Some((min, max)) => {
            let amount = typed
                .and_then(|t| money::parse_major(t, offer.currency))
                .ok_or_else(|| Error::invalid("amount", "must be an amount, e.g. 5 000"))?;
            if !(min..=max).contains(&amount) {
                return Err(Error::invalid(
                    "amount",
                    format!("must be from {min} to {max}"),
                ));
            }
            Some(amount)
        }
        None => None,
    };
    let body = link.fields.session_body(link.id, amount);
    sessions::create(ctx, &owner(link), &body).await.map(Some)
}
