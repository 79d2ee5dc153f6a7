//! The HTTP layer: the merchant API, the hosted page, health and metrics. Handlers here only
//! translate between HTTP and [`crate::core`].

pub mod api;
pub mod auth;
pub mod deadline;
pub mod error;
pub mod health;
pub mod html;
pub mod i18n;
pub mod metrics;
pub mod middleware;
pub mod notifications;
pub mod page;
pub mod security;

use actix_web::web;

/// Request bodies larger than this are refused with a 413 before they are read whole.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

pub fn routes(cfg: &mut web::ServiceConfig, static_dir: &std::path::Path) {
    page::assets::configure(cfg, static_dir);
    cfg.app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
        .configure(health::routes)
        .configure(page::routes)
        .configure(notifications::routes)
        .service(web::scope("/v1").configure(api::routes));
}
