//! Liveness, readiness and metrics, for load balancers and monitoring.

use actix_web::web::Data;
use actix_web::{HttpResponse, get};

use super::metrics::Metrics;
use crate::core::{Context, Error};
use crate::store::Outage;

/// The process is up.
#[get("/healthz")]
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

/// The process can serve: its database answers, and takes writes.
#[get("/readyz")]
async fn readyz(ctx: Data<Context>) -> HttpResponse {
    match crate::core::ready(&ctx).await {
        Ok(()) => HttpResponse::Ok().content_type("text/plain").body("ready"),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            let why = match e {
                Error::Store(e) if e.outage() == Some(Outage::DiskFull) => "database disk full",
                _ => "database unreachable",
            };
            HttpResponse::ServiceUnavailable()
                .content_type("text/plain")
                .body(why)
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
