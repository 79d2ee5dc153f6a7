//! `/v1/webhooks`: the organization's endpoints and their delivery log. Each handler's
//! `#[utoipa::path]` is its entry in the OpenAPI document.

use actix_web::web::{Bytes, Data, Path, Query};
use actix_web::{HttpResponse, delete, get, post};

use super::doc::{
    Conflict, Paging, Unprocessable, WebhookDeliveryList, WebhookEndpointCreate,
    WebhookEndpointList,
};
use super::{Response, WebhookId};
use crate::core::input::{Page, parse_object};
use crate::core::webhooks::{self, CreatedView, DeliveryRecord, EndpointView};
use crate::core::{Caller, Context, Error};

/// Register a webhook endpoint
///
/// Registers an HTTPS endpoint that receives the organization's events of the key's
/// environment. Unknown fields are 422; the organization may have 16 endpoints per environment
/// (then 409 `too_many_webhooks`). The answer carries the endpoint's signing `secret`
/// (`whsec_…`): it is shown only here, never again.
///
/// **Deliveries.** When a session is completed or expired, caisse POSTs a `WebhookEvent`
/// (`Content-Type: application/json`) to every endpoint registered for that event at that
/// moment, with the headers `X-Caisse-Signature` and `X-Caisse-Event-Id` (the event's `id`). A
/// 2xx answer is a success. Redirects are not followed. Delivery is at least once: an event may
/// arrive more than once, and events may arrive out of order, so receivers dedupe on the
/// event's `id`. No answer within the timeout (10 s by default), a 5xx, a 3xx or a 429 is
/// retried with exponential backoff (30 s by default, doubling, at most an hour apart) for a day
/// from the event; any other 4xx means the endpoint refused the event, and it is not retried.
/// Deleting an endpoint ends its pending deliveries. Every attempt is in
/// `GET /webhooks/{webhook_id}/deliveries`. An endpoint has at most two attempts under way at
/// a time, so a slow one waits for its own answers and delays no other; one that fails every
/// attempt for a day is disabled (see `POST /webhooks/{webhook_id}/enable`).
///
/// **Signature.** `X-Caisse-Signature: t=<unix seconds>,v1=<signature>` where the signature is
/// the lower-case hex HMAC-SHA256, keyed with the endpoint's `secret` (the whole `whsec_…`
/// string, as bytes), of `<t>.<raw body>`: the decimal timestamp, a dot, and the request body
/// exactly as received (verify before parsing JSON). Receivers should compare in constant time
/// and refuse a `t` too far from their clock (five minutes, for example), which stops replays.
#[utoipa::path(
    operation_id = "createWebhook",
    request_body = WebhookEndpointCreate,
    responses(
        (status = 201, body = CreatedView,
            description = "The endpoint, with its signing `secret` (shown this once)."),
        (status = 409, response = Conflict),
    ),
)]
#[post("/webhooks")]
pub async fn create(ctx: Data<Context>, caller: Caller, body: Bytes) -> Response {
    let created = webhooks::create(&ctx, &caller, &parse_object(&body)?).await?;
    Ok(HttpResponse::Created().json(created.view()))
}

/// List webhook endpoints
///
/// Every endpoint of the key's organization and environment, newest first, in one page (there
/// are at most 16; `limit` and `total` are their number, `offset` 0). Deleted endpoints are not
/// listed; secrets are never shown.
#[utoipa::path(
    operation_id = "listWebhooks",
    responses(
        (status = 200, body = WebhookEndpointList, description = "The endpoints."),
    ),
)]
#[get("/webhooks")]
pub async fn list(ctx: Data<Context>, caller: Caller) -> Response {
    let page = Page::whole(webhooks::list(&ctx, &caller).await?);
    Ok(HttpResponse::Ok().json(page.view(webhooks::endpoint_view)))
}

/// Retrieve a webhook endpoint
#[utoipa::path(
    operation_id = "retrieveWebhook",
    params(WebhookId),
    responses(
        (status = 200, body = EndpointView, description = "The endpoint (without its secret)."),
    ),
)]
#[get("/webhooks/{webhook_id}")]
pub async fn retrieve(ctx: Data<Context>, caller: Caller, id: Path<WebhookId>) -> Response {
    let endpoint = webhooks::retrieve(&ctx, &caller, id.parse()?).await?;
    Ok(HttpResponse::Ok().json(webhooks::endpoint_view(&endpoint)))
}

/// Enable a webhook endpoint
///
/// An endpoint that failed every attempt for a day is disabled (`status` `disabled`): this
/// enables it again, and it receives new events from now on. Events it missed while disabled
/// are not sent again. An enabled endpoint is answered as it is.
#[utoipa::path(
    operation_id = "enableWebhook",
    params(WebhookId),
    responses(
        (status = 200, body = EndpointView, description = "The endpoint, enabled."),
    ),
)]
#[post("/webhooks/{webhook_id}/enable")]
pub async fn enable(ctx: Data<Context>, caller: Caller, id: Path<WebhookId>) -> Response {
    let endpoint = webhooks::enable(&ctx, &caller, id.parse()?).await?;
    Ok(HttpResponse::Ok().json(webhooks::endpoint_view(&endpoint)))
}

/// Delete a webhook endpoint
///
/// The endpoint receives no new events, and its pending deliveries fail without another attempt
/// (`error` "the endpoint was deleted"). It leaves the API: 404 from then on, also to a second
/// DELETE.
#[utoipa::path(
    operation_id = "deleteWebhook",
    params(WebhookId),
    responses(
        (status = 204, description = "The endpoint is deleted."),
    ),
)]
#[delete("/webhooks/{webhook_id}")]
pub async fn remove(ctx: Data<Context>, caller: Caller, id: Path<WebhookId>) -> Response {
    webhooks::delete(&ctx, &caller, id.parse()?).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(serde::Deserialize)]
struct PageParams {
    limit: Option<String>,
    offset: Option<String>,
}

/// List an endpoint's deliveries
///
/// The endpoint's deliveries, newest first, each with every attempt made. A delivery is one
/// event for this endpoint; it is `pending` while attempts remain, then `succeeded` or `failed`.
#[utoipa::path(
    operation_id = "listWebhookDeliveries",
    params(WebhookId, Paging),
    responses(
        (status = 200, body = WebhookDeliveryList, description = "A page of deliveries."),
        (status = 422, response = Unprocessable),
    ),
)]
#[get("/webhooks/{webhook_id}/deliveries")]
pub async fn deliveries(
    ctx: Data<Context>,
    caller: Caller,
    id: Path<WebhookId>,
    params: Query<PageParams>,
) -> Response {
    let number = |name: &str, v: &Option<String>, default: i64, max: i64| -> Result<i64, Error> {
        match v.as_deref() {
            None => Ok(default),
            Some(s) => s
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|n| (0..=max).contains(n) && (name != "limit" || *n >= 1))
                .ok_or_else(|| Error::invalid(name, format!("must be an integer up to {max}"))),
        }
    };
    let limit = number("limit", &params.limit, 20, 100)?;
    let offset = number("offset", &params.offset, 0, i64::from(i32::MAX))?;
    let page = webhooks::deliveries(&ctx, &caller, id.parse()?, limit, offset).await?;
    Ok(HttpResponse::Ok().json(page.view(DeliveryRecord::view)))
}

resource!(create, list, retrieve, remove, enable, deliveries);
