//! The merchant API under `/v1`.

pub mod checkout_sessions;
pub mod discount_coupons;
pub mod doc;
pub mod providers;
pub mod webhooks;

use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(doc::document)
        .configure(checkout_sessions::routes)
        .configure(discount_coupons::routes)
        .configure(webhooks::routes)
        .configure(providers::routes);
}
