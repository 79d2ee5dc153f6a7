//! Liveness, readiness and metrics, for load balancers and monitoring.

use actix_web::web::Data;
use actix_web::{HttpResponse, get};

use super::metrics::Metrics;
use crate::core::Context;

/// The process is up.
#[get("/healthz")]
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

/// The process can serve: its database answers.
#[get("/readyz")]
async fn readyz(ctx: Data<Context>) -> HttpResponse {
    match ctx.store.ping().await {
        Ok(()) => HttpResponse::Ok().content_type("text/plain").body("ready"),
        Err(e) => {
            tracing::warn!(error = %e, "database unreachable");
            HttpResponse::ServiceUnavailable()
                .content_type("text/plain")
                .body("database unreachable")
        }
    }
}

#[get("/metrics")]
async fn metrics(m: Data<Metrics>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(m.render())
}

pub fn routes(cfg: &mut actix_web::web::ServiceConfig) {
    cfg.service(healthz).service(readyz).service(metrics);
}
