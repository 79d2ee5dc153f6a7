//! `/v1/payment_links`: thin handlers over [`crate::core::payment_links`]. Each handler's
//! `#[utoipa::path]` is its entry in the OpenAPI document.

use actix_web::web::{Bytes, Data, Path, Query};
use actix_web::{HttpResponse, delete, get, patch, post};

use super::doc::{
    Paging, PaymentLinkCreate, PaymentLinkList, PaymentLinkUpdate, Sorting, Unprocessable,
};
use super::{LinkId, Response};
use crate::core::coupons::ListParams;
use crate::core::input::parse_object;
use crate::core::{Caller, Context, payment_links};
use crate::domain::payment_link::LinkView;

/// Create a payment link
///
/// A reusable link of the key's organization and environment: each customer who opens its
/// `url` and presses "continue" gets a checkout session of their own (`payment_link_id` set);
/// a link preview robot that only fetches the URL makes none. A product link's price must be
/// the organization's and active, and its amount one the price allows (422 naming the field).
#[utoipa::path(
    operation_id = "createPaymentLink",
    request_body = PaymentLinkCreate,
    responses((status = 201, body = LinkView, description = "The created link.")),
)]
#[post("/payment_links")]
pub async fn create(ctx: Data<Context>, caller: Caller, body: Bytes) -> Response {
    let link = payment_links::create(&ctx, &caller, &parse_object(&body)?).await?;
    Ok(HttpResponse::Created().json(link.view(&ctx.public_url)))
}

/// List payment links
///
/// The caller's links, newest first by default. Deleted links are not listed.
#[utoipa::path(
    operation_id = "listPaymentLinks",
    params(Paging, Sorting),
    responses(
        (status = 200, body = PaymentLinkList, description = "A page of links."),
        (status = 422, response = Unprocessable),
    ),
)]
#[get("/payment_links")]
pub async fn list(ctx: Data<Context>, caller: Caller, params: Query<ListParams>) -> Response {
    let page = payment_links::list(&ctx, &caller, &params).await?;
    Ok(HttpResponse::Ok().json(page.view(|l| l.view(&ctx.public_url))))
}

/// Retrieve a payment link
#[utoipa::path(
    operation_id = "retrievePaymentLink",
    params(LinkId),
    responses((status = 200, body = LinkView, description = "The link.")),
)]
#[get("/payment_links/{link_id}")]
pub async fn retrieve(ctx: Data<Context>, caller: Caller, id: Path<LinkId>) -> Response {
    let link = payment_links::retrieve(&ctx, &caller, id.parse()?).await?;
    Ok(HttpResponse::Ok().json(link.view(&ctx.public_url)))
}

/// Update a payment link
///
/// Lays the given fields over the stored ones and checks the result whole. Sessions already
/// opened from the link keep what they were opened with.
#[utoipa::path(
    operation_id = "updatePaymentLink",
    params(LinkId),
    request_body = PaymentLinkUpdate,
    responses((status = 200, body = LinkView, description = "The updated link.")),
)]
#[patch("/payment_links/{link_id}")]
pub async fn update(ctx: Data<Context>, caller: Caller, id: Path<LinkId>, body: Bytes) -> Response {
    let link = payment_links::update(&ctx, &caller, id.parse()?, &parse_object(&body)?).await?;
    Ok(HttpResponse::Ok().json(link.view(&ctx.public_url)))
}

/// Delete a payment link
///
/// The link leaves the API, and its page says it is no longer available.
#[utoipa::path(
    operation_id = "deletePaymentLink",
    params(LinkId),
    responses((status = 204, description = "The link is deleted.")),
)]
#[delete("/payment_links/{link_id}")]
pub async fn remove(ctx: Data<Context>, caller: Caller, id: Path<LinkId>) -> Response {
    payment_links::delete(&ctx, &caller, id.parse()?).await?;
    Ok(HttpResponse::NoContent().finish())
}

resource!(create, list, retrieve, update, remove);
