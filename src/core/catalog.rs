//! Products and prices for the merchant API and the operator's command line, and what a
//! session (or link) made from them takes: [`priced`].
//!
//! Each belongs to the organization and environment of the key that made it; any other caller
//! is told it does not exist. `DELETE` keeps the record (hidden from the API) for the sessions
//! that name it; deleting a product deletes its prices.

use serde_json::{Map, Value};
use uuid::Uuid;

use super::coupons::ListParams;
use super::input::{Page, checked, create_faults, deleted, owned_page, page_of, patched, visible};
use super::{Caller, Context, Error, Result};
use crate::domain::catalog::{
    PRICE_READ_ONLY, PRICE_WRITABLE, PRODUCT_READ_ONLY, PRODUCT_WRITABLE, Price, PriceFields,
    Product, ProductFields,
};
use crate::domain::time;

pub async fn create_product(
    ctx: &Context,
    caller: &Caller,
    body: &Map<String, Value>,
) -> Result<Product> {
    let errors = create_faults(
        body,
        caller,
        PRODUCT_WRITABLE,
        PRODUCT_READ_ONLY,
        "a product",
    )?;
    let fields = checked(errors, ProductFields::parse(body, caller.environment))?;
    let now = time::now();
    let product = Product {
        id: Uuid::new_v4(),
        organization_id: caller.organization_id,
        environment: caller.environment,
        fields,
        created_at: now,
        updated_at: now,
        deleted_at: None,
    };
    ctx.store.insert_product(&product).await?;
    Ok(product)
}

/// A product of the caller's organization and environment that is not deleted.
pub async fn product(ctx: &Context, caller: &Caller, id: Uuid) -> Result<Product> {
    visible(ctx.store.product(id).await?, caller, "product")
}

pub async fn list_products(
    ctx: &Context,
    caller: &Caller,
    params: &ListParams,
) -> Result<Page<Product>> {
    let q = owned_page(caller, params)?;
    Ok(page_of(&q, ctx.store.list_products(&q).await?))
}

pub async fn update_product(
    ctx: &Context,
    caller: &Caller,
    id: Uuid,
    patch: &Map<String, Value>,
) -> Result<Product> {
    let mut product = product(ctx, caller, id).await?;
    let merged = patched(
        product.writable_json(),
        patch,
        PRODUCT_WRITABLE,
        PRODUCT_READ_ONLY,
        "a product",
    )?;
    product.fields = ProductFields::parse(&merged, caller.environment).map_err(Error::Invalid)?;
    product.updated_at = time::now();
    ctx.store
        .update_product(&product)
        .await?
        .ok_or(Error::NotFound("product"))
}

pub async fn delete_product(ctx: &Context, caller: &Caller, id: Uuid) -> Result<()> {
    product(ctx, caller, id).await?;
    deleted(ctx.store.delete_product(id, time::now()).await?, "product")
}

/// The product a price names must be one of the caller's, not deleted.
async fn price_product(ctx: &Context, caller: &Caller, product_id: Uuid) -> Result<Product> {
    product(ctx, caller, product_id).await.map_err(|e| match e {
        Error::NotFound(_) => Error::invalid(
            "product_id",
            "is not a product of this organization in this environment",
        ),
        e => e,
    })
}

pub async fn create_price(
    ctx: &Context,
    caller: &Caller,
    body: &Map<String, Value>,
) -> Result<Price> {
    let errors = create_faults(body, caller, PRICE_WRITABLE, PRICE_READ_ONLY, "a price")?;
    let fields = checked(errors, PriceFields::parse(body))?;
    price_product(ctx, caller, fields.product_id).await?;
    let now = time::now();
    let price = Price {
        id: Uuid::new_v4(),
        organization_id: caller.organization_id,
        environment: caller.environment,
        fields,
        created_at: now,
        updated_at: now,
        deleted_at: None,
    };
    if !ctx.store.insert_price(&price).await? {
        return Err(Error::invalid("product_id", "was deleted"));
    }
    Ok(price)
}

/// A price of the caller's organization and environment that is not deleted.
pub async fn price(ctx: &Context, caller: &Caller, id: Uuid) -> Result<Price> {
    visible(ctx.store.price(id).await?, caller, "price")
}

pub async fn list_prices(
    ctx: &Context,
    caller: &Caller,
    params: &ListParams,
) -> Result<Page<Price>> {
    let q = owned_page(caller, params)?;
    Ok(page_of(&q, ctx.store.list_prices(&q).await?))
}

/// Lays a patch over the stored fields and checks the result whole. A price's product never
/// changes: a patch naming another is 422.
pub async fn update_price(
    ctx: &Context,
    caller: &Caller,
    id: Uuid,
    patch: &Map<String, Value>,
) -> Result<Price> {
    let mut price = price(ctx, caller, id).await?;
    let merged = patched(
        price.writable_json(),
        patch,
        PRICE_WRITABLE,
        PRICE_READ_ONLY,
        "a price",
    )?;
    let fields = PriceFields::parse(&merged).map_err(Error::Invalid)?;
    if fields.product_id != price.fields.product_id {
        return Err(Error::invalid(
            "product_id",
            "cannot change: make a new price for the other product",
        ));
    }
    price.fields = fields;
    price.updated_at = time::now();
    ctx.store
        .update_price(&price)
        .await?
        .ok_or(Error::NotFound("price"))
}

pub async fn delete_price(ctx: &Context, caller: &Caller, id: Uuid) -> Result<()> {
    price(ctx, caller, id).await?;
    deleted(ctx.store.delete_price(id, time::now()).await?, "price")
}

/// A session body that names a `price_id` (or a `product_id`, for its default price) with
/// what the catalog gives it: the amount the price allows (an explicit `amount` must be the
/// standard price's, or within a pay-what-you-want price's bounds), its currency (an explicit
/// `currency_code` must be it), the product's name as the title when there is none, and both
/// ids. A price or product that is not the caller's, deleted or inactive is 422 naming the
/// field. A body naming neither is left as it is.
pub async fn priced(
    ctx: &Context,
    caller: &Caller,
    mut body: Map<String, Value>,
) -> Result<Map<String, Value>> {
    let id_of = |name: &'static str| -> Result<Option<Uuid>> {
        match body.get(name).filter(|v| !v.is_null()) {
            None => Ok(None),
            Some(v) => crate::domain::fields::Field::new(name, v)
                .uuid()
                .map(Some)
                .map_err(|e| Error::Invalid(vec![e])),
        }
    };
    let (price_id, product_id) = (id_of("price_id")?, id_of("product_id")?);
    let unknown = |field: &str, what: &str| {
        Error::invalid(
            field,
            format!("is not an active {what} of this organization in this environment"),
        )
    };
    let price = match (price_id, product_id) {
        (None, None) => return Ok(body),
        (Some(id), _) => price(ctx, caller, id)
            .await
            .ok()
            .filter(|p| p.fields.is_active)
            .ok_or_else(|| unknown("price_id", "price"))?,
        (None, Some(id)) => {
            product(ctx, caller, id)
                .await
                .ok()
                .filter(|p| p.fields.is_active)
                .ok_or_else(|| unknown("product_id", "product"))?;
            ctx.store
                .default_price(id)
                .await?
                .filter(|p| p.fields.is_active)
                .ok_or_else(|| {
                    Error::invalid("product_id", "has no default price: name a price_id")
                })?
        }
    };
    let product = product(ctx, caller, price.fields.product_id)
        .await
        .ok()
        .filter(|p| p.fields.is_active)
        .ok_or_else(|| unknown("price_id", "price of an active product"))?;
    if product_id.is_some_and(|id| id != product.id) {
        return Err(Error::invalid(
            "product_id",
            "is not the product of price_id",
        ));
    }
    let asked = match body.get("amount").filter(|v| !v.is_null()) {
        None => None,
        Some(v) => Some(
            crate::domain::fields::Field::new("amount", v)
                .integer()
                .map_err(|e| Error::Invalid(vec![e]))?,
        ),
    };
    let amount = price
        .amount_for(asked)
        .map_err(|why| Error::invalid("amount", why))?;
    let currency = price.fields.currency.code();
    match body.get("currency_code").and_then(Value::as_str) {
        Some(c) if !c.trim().eq_ignore_ascii_case(currency) => {
            return Err(Error::invalid(
                "currency_code",
                format!("must be the price's currency, {currency}, or absent"),
            ));
        }
        _ => {}
    }
    body.insert("amount".into(), amount.into());
    body.insert("currency_code".into(), currency.into());
    body.insert("price_id".into(), price.id.to_string().into());
    body.insert("product_id".into(), product.id.to_string().into());
    if body.get("title").is_none_or(Value::is_null) {
        body.insert("title".into(), product.fields.name.clone().into());
    }
    Ok(body)
}
