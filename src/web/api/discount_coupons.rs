//! `/v1/discount_coupons`: thin handlers over [`crate::core::coupons`]. Each handler's
//! `#[utoipa::path]` is its entry in the OpenAPI document.

use actix_web::web::{Bytes, Data, Path, Query};
use actix_web::{HttpResponse, delete, get, patch, post};

use super::doc::{
    Conflict, DiscountCouponCreate, DiscountCouponList, DiscountCouponUpdate, Paging, Sorting,
    Unprocessable,
};
use super::{CouponId, Response};
use crate::core::coupons::{self, ListParams};
use crate::core::input::parse_object;
use crate::core::{Caller, Context};
use crate::domain::coupon::{Coupon, CouponView};

/// Create a discount coupon
///
/// Creates a coupon in the key's organization and environment. Unknown fields are 422.
/// Read-only fields may be sent only with the value the server would set (`organization_id` and
/// `environment` of the key, `current_uses` 0, others null); any other value is 422. A code
/// already used by a coupon of the organization in this environment, whatever its case, is 409
/// `coupon_code_taken`.
#[utoipa::path(
    operation_id = "createDiscountCoupon",
    request_body = DiscountCouponCreate,
    responses(
        (status = 201, body = CouponView, description = "The created coupon."),
        (status = 409, response = Conflict),
    ),
)]
#[post("/discount_coupons")]
pub async fn create(ctx: Data<Context>, caller: Caller, body: Bytes) -> Response {
    let coupon = coupons::create(&ctx, &caller, &parse_object(&body)?).await?;
    Ok(HttpResponse::Created().json(coupon.view()))
}

/// List discount coupons
///
/// The caller's coupons, newest first by default. Deleted coupons are not listed.
#[utoipa::path(
    operation_id = "listDiscountCoupons",
    params(
        Paging,
        Sorting,
    ),
    responses(
        (status = 200, body = DiscountCouponList, description = "A page of coupons."),
        (status = 422, response = Unprocessable),
    ),
)]
#[get("/discount_coupons")]
pub async fn list(ctx: Data<Context>, caller: Caller, params: Query<ListParams>) -> Response {
    let page = coupons::list(&ctx, &caller, &params).await?;
    Ok(HttpResponse::Ok().json(page.view(Coupon::view)))
}

/// Retrieve a discount coupon
#[utoipa::path(
    operation_id = "retrieveDiscountCoupon",
    params(CouponId),
    responses(
        (status = 200, body = CouponView,
            description = "The coupon, with its `current_uses` of this instant."),
    ),
)]
#[get("/discount_coupons/{coupon_id}")]
pub async fn retrieve(ctx: Data<Context>, caller: Caller, id: Path<CouponId>) -> Response {
    let coupon = coupons::retrieve(&ctx, &caller, id.parse()?).await?;
    Ok(HttpResponse::Ok().json(coupon.view()))
}

/// Update a discount coupon
///
/// Lays the given fields over the stored ones and checks the result whole, with the same rules
/// as a create: changing `discount_type` means sending the new kind's amount and `null` for the
/// old one. `expires_at` must be in the future only when the update sets it. Read-only fields
/// and unknown fields are 422; a code taken by another coupon is 409 `coupon_code_taken`.
#[utoipa::path(
    operation_id = "updateDiscountCoupon",
    params(CouponId),
    request_body = DiscountCouponUpdate,
    responses(
        (status = 200, body = CouponView, description = "The updated coupon."),
        (status = 409, response = Conflict),
    ),
)]
#[patch("/discount_coupons/{coupon_id}")]
pub async fn update(
    ctx: Data<Context>,
    caller: Caller,
    id: Path<CouponId>,
    body: Bytes,
) -> Response {
    let coupon = coupons::update(&ctx, &caller, id.parse()?, &parse_object(&body)?).await?;
    Ok(HttpResponse::Ok().json(coupon.view()))
}

/// Delete a discount coupon
///
/// The coupon stops applying at once and leaves the API (404 from then on, also to a second
/// DELETE), and its code can be given to a new coupon. Its record is kept, inactive, because
/// sessions that used it still refer to it.
#[utoipa::path(
    operation_id = "deleteDiscountCoupon",
    params(CouponId),
    responses(
        (status = 204, description = "The coupon is deleted."),
    ),
)]
#[delete("/discount_coupons/{coupon_id}")]
pub async fn remove(ctx: Data<Context>, caller: Caller, id: Path<CouponId>) -> Response {
    coupons::delete(&ctx, &caller, id.parse()?).await?;
    Ok(HttpResponse::NoContent().finish())
}

resource!(create, list, retrieve, update, remove);
