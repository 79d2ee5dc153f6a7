//! Liveness, readiness and metrics, for load balancers and monitoring.

use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse, get};
use secrecy::ExposeSecret;

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

/// Who may read `/metrics`: a scraper with the operator's `CAISSE_METRICS_TOKEN`, or, without
/// one configured, a request from this machine that no proxy relayed (one that did carries
/// `Forwarded` or `X-Forwarded-For`). The checkout is public; its traffic figures are not.
fn may_scrape(req: &HttpRequest, ctx: &Context) -> bool {
    let headers = req.headers();
    match &ctx.settings.metrics_token {
        Some(token) => headers
            .get(actix_web::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|given| crate::domain::same_secret(given, token.expose_secret())),
        None => {
            !headers.contains_key("forwarded")
                && !headers.contains_key("x-forwarded-for")
                && req.peer_addr().is_some_and(|a| a.ip().is_loopback())
        }
    }
}

#[get("/metrics")]
async fn metrics(req: HttpRequest, ctx: Data<Context>, m: Data<Metrics>) -> HttpResponse {
    if !may_scrape(&req, &ctx) {
        return HttpResponse::NotFound().finish();
    }
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(m.render())
}

pub fn routes(cfg: &mut actix_web::web::ServiceConfig) {
    cfg.service(healthz).service(readyz).service(metrics);
}
