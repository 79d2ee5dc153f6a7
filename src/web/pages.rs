//! The hosted checkout page, rendered on the server.

use actix_web::http::StatusCode;
use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, get};
use askama::Template;
use uuid::Uuid;

use crate::core::{Context, sessions};
use crate::domain::money::{self, Locale};

#[derive(Template)]
#[template(path = "checkout.html")]
struct CheckoutPage<'a> {
    lang: &'a str,
    organization: &'a str,
    title: &'a str,
    description: Option<&'a str>,
    total_label: &'a str,
    total: String,
}

#[derive(Template)]
#[template(path = "not_found.html")]
struct NotFoundPage<'a> {
    lang: &'a str,
    heading: &'a str,
    message: &'a str,
}

fn html(status: StatusCode, page: Result<String, askama::Error>) -> HttpResponse {
    match page {
        Ok(body) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .insert_header(("Cache-Control", "no-store"))
            .body(body),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            HttpResponse::InternalServerError().finish()
        }
    }
}

fn not_found() -> HttpResponse {
    let page = NotFoundPage {
        lang: "fr",
        heading: "Page introuvable",
        message: "Ce lien de paiement n'existe pas.",
    };
    html(StatusCode::NOT_FOUND, page.render())
}

#[get("/checkout/{id}")]
async fn checkout(ctx: Data<Context>, id: Path<String>) -> HttpResponse {
    let Ok(id) = Uuid::parse_str(&id) else {
        return not_found();
    };
    let session = match sessions::current(&ctx, id).await {
        Ok(Some(s)) => s,
        Ok(None) => return not_found(),
        Err(e) => {
            tracing::error!(error = %e, "loading a session failed");
            return HttpResponse::InternalServerError().finish();
        }
    };
    let organization = ctx
        .store
        .organization(session.organization_id)
        .await
        .ok()
        .flatten()
        .map(|o| o.name)
        .unwrap_or_default();
    let f = &session.fields;
    let (lang, locale, total_label) = if f.currency.is_cfa() {
        ("fr", Locale::Fr, "Total à payer")
    } else {
        ("en", Locale::En, "Total due")
    };
    let page = CheckoutPage {
        lang,
        organization: &organization,
        title: &f.title,
        description: f.public_description.as_deref(),
        total_label,
        total: money::format(session.totals().total, f.currency, locale),
    };
    html(StatusCode::OK, page.render())
}

pub fn routes(cfg: &mut actix_web::web::ServiceConfig) {
    cfg.service(checkout);
}
