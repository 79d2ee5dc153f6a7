//! `/v1/webhooks`: the organization's endpoints and their delivery log.

use actix_web::web::{self, Bytes, Data, Path, Query};
use actix_web::{HttpResponse, delete, get, post};
use serde_json::json;
use uuid::Uuid;

use crate::core::input::parse_object;
use crate::core::{Caller, Context, Error, webhooks};
use crate::web::error::ApiError;

type Response = Result<HttpResponse, ApiError>;

fn endpoint_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| Error::NotFound("webhook endpoint").into())
}

#[post("/webhooks")]
async fn create(ctx: Data<Context>, caller: Caller, body: Bytes) -> Response {
    let created = webhooks::create(&ctx, &caller, &parse_object(&body)?).await?;
    Ok(HttpResponse::Created().json(created))
}

#[get("/webhooks")]
async fn list(ctx: Data<Context>, caller: Caller) -> Response {
    let all = webhooks::list(&ctx, &caller).await?;
    let data: Vec<_> = all.iter().map(webhooks::endpoint_json).collect();
    let total = data.len();
    Ok(HttpResponse::Ok()
        .json(json!({"data": data, "pagination": {"limit": total, "offset": 0, "total": total}})))
}

#[get("/webhooks/{id}")]
async fn retrieve(ctx: Data<Context>, caller: Caller, id: Path<String>) -> Response {
    let endpoint = webhooks::retrieve(&ctx, &caller, endpoint_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(webhooks::endpoint_json(&endpoint)))
}

#[delete("/webhooks/{id}")]
async fn remove(ctx: Data<Context>, caller: Caller, id: Path<String>) -> Response {
    webhooks::delete(&ctx, &caller, endpoint_id(&id)?).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(serde::Deserialize)]
struct PageParams {
    limit: Option<String>,
    offset: Option<String>,
}

#[get("/webhooks/{id}/deliveries")]
async fn deliveries(
    ctx: Data<Context>,
    caller: Caller,
    id: Path<String>,
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
    let page = webhooks::deliveries(&ctx, &caller, endpoint_id(&id)?, limit, offset).await?;
    Ok(HttpResponse::Ok().json(page))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(create)
        .service(list)
        .service(retrieve)
        .service(remove)
        .service(deliveries);
}
