//! `/v1/checkout_sessions`: thin handlers over [`crate::core::sessions`].

use actix_web::http::StatusCode;
use actix_web::web::{self, Bytes, Data, Path, Query};
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post};
use uuid::Uuid;

use crate::core::input::parse_object;
use crate::core::payments;
use crate::core::sessions::{self, ListParams};
use crate::core::{Caller, Context, Error};
use crate::web::error::ApiError;

type Response = Result<HttpResponse, ApiError>;

/// A malformed id names no session, so it is a 404 like an unknown one.
fn session_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| Error::NotFound("checkout session").into())
}

fn json_body(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("application/json")
        .body(body)
}

#[post("/checkout_sessions")]
async fn create(ctx: Data<Context>, caller: Caller, req: HttpRequest, body: Bytes) -> Response {
    let key = req
        .headers()
        .get("idempotency-key")
        .map(|v| {
            v.to_str()
                .map_err(|_| Error::invalid("Idempotency-Key", "must be ASCII text"))
        })
        .transpose()?;
    let body = parse_object(&body)?;
    let Some(key) = key else {
        let session = sessions::create(&ctx, &caller, &body).await?;
        return Ok(HttpResponse::Created().json(session.to_json(&ctx.public_url)));
    };
    let stored = sessions::create_once(&ctx, &caller, &body, key).await?;
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::CREATED);
    Ok(json_body(status, stored.body))
}

#[get("/checkout_sessions")]
async fn list(ctx: Data<Context>, caller: Caller, params: Query<ListParams>) -> Response {
    let page = sessions::list(&ctx, &caller, &params).await?;
    Ok(HttpResponse::Ok().json(page.to_json(|s| s.to_json(&ctx.public_url))))
}

#[get("/checkout_sessions/{id}")]
async fn retrieve(ctx: Data<Context>, caller: Caller, id: Path<String>) -> Response {
    let session = sessions::retrieve(&ctx, &caller, session_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(session.to_json(&ctx.public_url)))
}

#[patch("/checkout_sessions/{id}")]
async fn update(ctx: Data<Context>, caller: Caller, id: Path<String>, body: Bytes) -> Response {
    let session = sessions::update(&ctx, &caller, session_id(&id)?, &parse_object(&body)?).await?;
    Ok(HttpResponse::Ok().json(session.to_json(&ctx.public_url)))
}

#[delete("/checkout_sessions/{id}")]
async fn expire(ctx: Data<Context>, caller: Caller, id: Path<String>) -> Response {
    sessions::expire(&ctx, &caller, session_id(&id)?).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The payment backend reports a confirmed payment: `{provider, provider_reference, amount_paid}`.
#[post("/checkout_sessions/{id}/complete")]
async fn complete(ctx: Data<Context>, caller: Caller, id: Path<String>, body: Bytes) -> Response {
    let id = session_id(&id)?;
    let report = payments::Report::parse(&parse_object(&body)?)?;
    let session = payments::complete(&ctx, &caller, id, &report).await?;
    Ok(HttpResponse::Ok().json(session.to_json(&ctx.public_url)))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(create)
        .service(complete)
        .service(list)
        .service(retrieve)
        .service(update)
        .service(expire);
}
