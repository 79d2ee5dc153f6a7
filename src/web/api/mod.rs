//! The merchant API under `/v1`.

pub mod checkout_sessions;
pub mod discount_coupons;
pub mod webhooks;

use actix_web::{HttpResponse, get, web};

/// The OpenAPI 3 description of this API.
const OPENAPI: &str = include_str!("openapi.json");

#[get("/openapi.json")]
async fn openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(OPENAPI)
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(openapi)
        .configure(checkout_sessions::routes)
        .configure(discount_coupons::routes)
        .configure(webhooks::routes);
}
