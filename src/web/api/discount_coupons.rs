//! `/v1/discount_coupons`: thin handlers over [`crate::core::coupons`].

use crate::domain::coupon::Coupon;
use actix_web::web::{self, Bytes, Data, Path, Query};
use actix_web::{HttpResponse, delete, get, patch, post};
use uuid::Uuid;

use crate::core::coupons::{self, ListParams};
use crate::core::input::parse_object;
use crate::core::{Caller, Context, Error};
use crate::web::error::ApiError;

type Response = Result<HttpResponse, ApiError>;

/// A malformed id names no coupon, so it is a 404 like an unknown one.
fn coupon_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| Error::NotFound("discount coupon").into())
}

#[post("/discount_coupons")]
async fn create(ctx: Data<Context>, caller: Caller, body: Bytes) -> Response {
    let coupon = coupons::create(&ctx, &caller, &parse_object(&body)?).await?;
    Ok(HttpResponse::Created().json(coupon.to_json()))
}

#[get("/discount_coupons")]
async fn list(ctx: Data<Context>, caller: Caller, params: Query<ListParams>) -> Response {
    let page = coupons::list(&ctx, &caller, &params).await?;
    Ok(HttpResponse::Ok().json(page.to_json(Coupon::to_json)))
}

#[get("/discount_coupons/{coupon_id}")]
async fn retrieve(ctx: Data<Context>, caller: Caller, id: Path<String>) -> Response {
    let coupon = coupons::retrieve(&ctx, &caller, coupon_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(coupon.to_json()))
}

#[patch("/discount_coupons/{coupon_id}")]
async fn update(ctx: Data<Context>, caller: Caller, id: Path<String>, body: Bytes) -> Response {
    let coupon = coupons::update(&ctx, &caller, coupon_id(&id)?, &parse_object(&body)?).await?;
    Ok(HttpResponse::Ok().json(coupon.to_json()))
}

#[delete("/discount_coupons/{coupon_id}")]
async fn remove(ctx: Data<Context>, caller: Caller, id: Path<String>) -> Response {
    coupons::delete(&ctx, &caller, coupon_id(&id)?).await?;
    Ok(HttpResponse::NoContent().finish())
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(create)
        .service(list)
        .service(retrieve)
        .service(update)
        .service(remove);
}
