//! Creating, reading, listing, updating and deleting discount coupons, for the merchant API and
//! the operator's command line.
//!
//! A coupon belongs to the organization and environment of the key that made it; any other
//! caller is told it does not exist. `DELETE` keeps the record (inactive, hidden from the API,
//! its code free again), because sessions that used the coupon still point to it.

use serde_json::{Map, Value};
use uuid::Uuid;

use super::input::{self, Page, deleted, paging, patched, read_only_echoes, visible};
use super::{Caller, Context, Error, Result};
use crate::domain::coupon::{Coupon, CouponFields, READ_ONLY, WRITABLE};
use crate::domain::fields::{Field, FieldError};
use crate::domain::time;
use crate::store::{CouponListQuery, StoreError};

/// Unknown fields are refused, so a misspelt field is never silently ignored.
fn unknown_fields(body: &Map<String, Value>) -> Vec<FieldError> {
    input::unknown_fields(body, &[WRITABLE, READ_ONLY], "a discount coupon")
}

fn code_taken(fields: &CouponFields, caller: &Caller) -> Error {
    Error::Conflict {
        code: "coupon_code_taken",
        message: format!(
            "a coupon with the code {} already exists in the {} environment",
            fields.code, caller.environment
        ),
    }
}

/// Makes a coupon from a JSON body. Read-only fields may only repeat what the server sets
/// (the key's `organization_id` and `environment`, `current_uses` 0, or null); any other value
/// is refused.
pub async fn create(ctx: &Context, caller: &Caller, body: &Map<String, Value>) -> Result<Coupon> {
    let mut errors = unknown_fields(body);
    errors.extend(read_only_echoes(
        body,
        READ_ONLY,
        caller,
        |name, value| name == "current_uses" && Field::new(name, value).integer() == Ok(0),
        "is read-only: the server sets it",
    )?);
    let now = time::now();
    let fields = match CouponFields::parse(body, Some(now)) {
        Ok(f) if errors.is_empty() => f,
        Ok(_) => return Err(Error::Invalid(errors)),
        Err(more) => {
            errors.extend(more);
            return Err(Error::Invalid(errors));
        }
    };
    let coupon = Coupon {
        id: Uuid::new_v4(),
        organization_id: caller.organization_id,
        environment: caller.environment,
        fields,
        current_uses: 0,
        created_at: now,
        updated_at: now,
        deleted_at: None,
    };
    match ctx.store.insert_coupon(&coupon).await {
        Ok(()) => Ok(coupon),
        Err(StoreError::Conflict(_)) => Err(code_taken(&coupon.fields, caller)),
        Err(e) => Err(e.into()),
    }
}

/// A coupon of the caller's organization and environment that is not deleted; any other is
/// not found, so ids of other merchants cannot even be confirmed to exist.
pub async fn retrieve(ctx: &Context, caller: &Caller, id: Uuid) -> Result<Coupon> {
    visible(ctx.store.coupon(id).await?, caller, "discount coupon")
}

/// Listing parameters as they arrive in the query string.
#[derive(Debug, Default, serde::Deserialize)]
pub struct ListParams {
    pub limit: Option<String>,
    pub offset: Option<String>,
    pub sort: Option<String>,
}

/// The caller's coupons, newest first unless `sort` says otherwise; deleted ones are left out.
pub async fn list(ctx: &Context, caller: &Caller, params: &ListParams) -> Result<Page<Coupon>> {
    let page = paging(
        params.limit.as_deref(),
        params.offset.as_deref(),
        params.sort.as_deref(),
    )?;
    let (coupons, total) = ctx
        .store
        .list_coupons(&CouponListQuery {
            organization_id: caller.organization_id,
            environment: caller.environment,
            sort: page.sort,
            limit: page.limit,
            offset: page.offset,
        })
        .await?;
    Ok(Page {
        items: coupons,
        limit: page.limit,
        offset: page.offset,
        total,
    })
}

/// Lays a patch over the stored fields and checks the result whole, as a create is checked:
/// no rule can be skipped one field at a time. Read-only fields are refused. `expires_at` must
/// be in the future only when the patch sets it, so an expired coupon can still be edited.
pub async fn update(
    ctx: &Context,
    caller: &Caller,
    id: Uuid,
    patch: &Map<String, Value>,
) -> Result<Coupon> {
    let mut coupon = retrieve(ctx, caller, id).await?;
    let merged = patched(
        coupon.writable_json(),
        patch,
        WRITABLE,
        READ_ONLY,
        "a discount coupon",
    )?;
    let now = time::now();
    let sets_expiry = patch.get("expires_at").is_some_and(|v| !v.is_null());
    coupon.fields =
        CouponFields::parse(&merged, sets_expiry.then_some(now)).map_err(Error::Invalid)?;
    coupon.updated_at = now;
    match ctx.store.update_coupon(&coupon).await {
        Ok(Some(stored)) => Ok(stored),
        Ok(None) => Err(Error::NotFound("discount coupon")),
        Err(StoreError::Conflict(_)) => Err(code_taken(&coupon.fields, caller)),
        Err(e) => Err(e.into()),
    }
}

/// `DELETE`: the coupon leaves the API (404 from now on, its code free for a new coupon) and
/// stops applying, but its record stays for the sessions that used it.
pub async fn delete(ctx: &Context, caller: &Caller, id: Uuid) -> Result<()> {
    retrieve(ctx, caller, id).await?;
    deleted(
        ctx.store.delete_coupon(id, time::now()).await?,
        "discount coupon",
    )
}
