//! A payment link's page, `/l/{id}`: what is shared in a chat. `GET` shows the title, the
//! amount (or a field for it, on a pay-what-you-want price) and "continue", with Open Graph tags
//! for chat previews, and makes nothing: a preview robot that fetches it leaves no session
//! behind. `POST` (the customer pressing "continue", with the page's CSRF token) makes the
//! customer's own checkout session and sends them to it. A link that is deleted, inactive,
//! expired or whose price is gone says so on a page of its own (410).
//!

use actix_web::http::StatusCode;
use actix_web::web::{self, Bytes, Data, Path};
use actix_web::{HttpRequest, HttpResponse, get, post};
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

use super::assets::Assets;
use super::{PageRequest, html, not_found, render_page, see_other, store_failed};
use crate::core::payment_links::{self, Offer};
use crate::core::{Context, Error, organizations};
use crate::domain::money;
use crate::domain::payment_link::PaymentLink;
use crate::domain::session::Environment;
use crate::domain::time;
use crate::store::Organization;
use crate::web::html::Plain;
use crate::web::i18n::{Messages, fill};
use crate::web::security::{self, PagePolicy};

#[derive(Template)]
#[template(path = "link.html")]
struct LinkPage<'a> {
    t: &'a Messages,
    assets: &'a Assets,
    link_id: Plain<Uuid>,
    organization: &'a str,
    title: &'a str,
    description: Option<&'a str>,
    test_mode: bool,
    /// `10 000 F CFA · Boutique Awa`, for chat previews.
    summary: String,
    /// The amount to pay, formatted; unused when the customer types it.
    amount: Plain<String>,
    /// "From … to …" when the customer types the amount.
    amount_hint: Option<String>,
    currency: Plain<&'static str>,
    amount_input: String,
    error: Option<String>,
    csrf: Plain<String>,
    url: String,
    whatsapp_url: String,
    poster_svg: Plain<String>,
    poster_png: String,
}

#[derive(Template)]
#[template(path = "link_closed.html")]
struct ClosedPage<'a> {
    t: &'a Messages,
    assets: &'a Assets,
    organization: &'a str,
}

#[derive(Deserialize, Default)]
struct ContinueForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    amount: Option<String>,
}

/// The link the path names with its organization, or the page to answer instead.
async fn load(
    ctx: &Context,
    assets: &Assets,
    req: &HttpRequest,
    raw: &str,
) -> Result<(PaymentLink, std::sync::Arc<Organization>), HttpResponse> {
    let Ok(id) = Uuid::parse_str(raw) else {
        return Err(not_found(req, assets));
    };
    let link = match payment_links::public(ctx, id).await {
        Ok(Some(link)) => link,
        Ok(None) => return Err(not_found(req, assets)),
        Err(Error::Store(e)) => return Err(store_failed(req, assets, &e, None)),
        Err(_) => return Err(not_found(req, assets)),
    };
    match organizations::get(ctx, link.organization_id).await {
        Ok(org) => Ok((link, org)),
        Err(Error::Store(e)) => Err(store_failed(req, assets, &e, None)),
        Err(_) => Err(not_found(req, assets)),
    }
}

/// What the link sells now, or the page that says it sells nothing.
async fn offer_of(
    ctx: &Context,
    assets: &Assets,
    req: &HttpRequest,
    link: &PaymentLink,
    org: &Organization,
) -> Result<Offer, HttpResponse> {
    let closed = || {
        let page = PageRequest::from_request(req, link.fields.currency);
        let body = render_page(&ClosedPage {
            t: page.t(),
            assets,
            organization: &org.name,
        });
        html(StatusCode::GONE, body, &policy(org), page.lang_cookie)
    };
    if !link.is_open(time::now()) {
        return Err(closed());
    }
    match payment_links::offer(ctx, link).await {
        Ok(Some(offer)) => Ok(offer),
        Ok(None) => Err(closed()),
        Err(Error::Store(e)) => Err(store_failed(req, assets, &e, None)),
        Err(_) => Err(closed()),
    }
}

fn policy(org: &Organization) -> PagePolicy<'_> {
    PagePolicy {
        frame_ancestors: &org.allowed_origins,
        redirect_origins: &[],
    }
}

/// Renders the link's page, with what the customer typed and its problem after a refused form.
#[allow(clippy::too_many_arguments)]
fn show_page(
    ctx: &Context,
    assets: &Assets,
    req: &HttpRequest,
    link: &PaymentLink,
    org: &Organization,
    offer: &Offer,
    typed: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> HttpResponse {
    let page = PageRequest::from_request(req, Some(offer.currency));
    let t = page.t();
    let fmt = |amount: i64| money::format(amount, offer.currency, page.lang.locale());
    let (secret, csrf_cookie) = security::browser_secret(req, ctx.public_url.starts_with("https:"));
    let mut cookies: Vec<_> = page.lang_cookie.clone().into_iter().collect();
    cookies.extend(csrf_cookie);
    let view = link.view(&ctx.public_url);
    let amount = offer.amount.map(fmt).unwrap_or_default();
    let amount_hint = offer.bounds.map(|(min, max)| {
        fill(
            &t.link_amount_hint,
            &[("min", &fmt(min)), ("max", &fmt(max))],
        )
    });
    let summary = match (&amount_hint, offer.amount) {
        (Some(hint), _) => format!("{hint} · {}", org.name),
        (None, Some(_)) => format!("{amount} · {}", org.name),
        (None, None) => org.name.clone(),
    };
    let share = format!("{} {}", offer.title, view.url);
    let body = LinkPage {
        t,
        assets,
        link_id: Plain::built(link.id),
        organization: &org.name,
        title: &offer.title,
        description: offer.description.as_deref(),
        test_mode: link.environment == Environment::Test,
        summary,
        amount: Plain::built(amount),
        amount_hint,
        currency: Plain::built(offer.currency.code()),
        amount_input: typed.unwrap_or_default(),
        error,
        csrf: Plain::built(ctx.csrf_key.token(&secret, link.id)),
        whatsapp_url: crate::domain::payment_link::whatsapp_url(&share),
        poster_svg: Plain::built(format!("/l/{}/poster.svg", link.id)),
        poster_png: format!("{}.png", view.poster_url.trim_end_matches(".svg")),
        url: view.url,
    };
    html(status, render_page(&body), &policy(org), cookies)
}

#[get("/l/{id}")]
async fn show(
    ctx: Data<Context>,
    assets: Data<Assets>,
    req: HttpRequest,
    id: Path<String>,
) -> HttpResponse {
    let (link, org) = match load(&ctx, &assets, &req, &id).await {
        Ok(found) => found,
        Err(res) => return res,
    };
    match offer_of(&ctx, &assets, &req, &link, &org).await {
        Ok(offer) => show_page(
            &ctx,
            &assets,
            &req,
            &link,
            &org,
            &offer,
            None,
            None,
            StatusCode::OK,
        ),
        Err(res) => res,
    }
}

/// "Continue": the customer's own session, made now, and off to its page.
#[post("/l/{id}")]
async fn open(
    ctx: Data<Context>,
    assets: Data<Assets>,
    req: HttpRequest,
    id: Path<String>,
    body: Bytes,
) -> HttpResponse {
    let (link, org) = match load(&ctx, &assets, &req, &id).await {
        Ok(found) => found,
        Err(res) => return res,
    };
    let offer = match offer_of(&ctx, &assets, &req, &link, &org).await {
        Ok(offer) => offer,
        Err(res) => return res,
    };
    let form: ContinueForm = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let secret = security::csrf_secret(&req, ctx.public_url.starts_with("https:"));
    let page = PageRequest::from_request(&req, Some(offer.currency));
    if !ctx
        .csrf_key
        .is_valid(secret.as_deref(), link.id, &form.csrf)
    {
        let expired = page.t().error_form_expired.to_string();
        return show_page(
            &ctx,
            &assets,
            &req,
            &link,
            &org,
            &offer,
            form.amount,
            Some(expired),
            StatusCode::FORBIDDEN,
        );
    }
    match payment_links::open(&ctx, &link, &offer, form.amount.as_deref()).await {
        Ok(Some(session)) => see_other(&format!("/checkout/{}", session.id), page.lang_cookie),
        Ok(None) => match offer_of(&ctx, &assets, &req, &link, &org).await {
            Err(res) => res,
            Ok(_) => see_other(&format!("/l/{}", link.id), None),
        },
        Err(Error::Invalid(errors)) if errors.iter().any(|e| e.field == "amount") => {
            let fmt = |amount: i64| money::format(amount, offer.currency, page.lang.locale());
            let (min, max) = offer.bounds.unwrap_or((1, money::MAX_AMOUNT));
            let message = fill(
                &page.t().error_link_amount,
                &[("min", &fmt(min)), ("max", &fmt(max))],
            );
            show_page(
                &ctx,
                &assets,
                &req,
                &link,
                &org,
                &offer,
                form.amount,
                Some(message),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
        Err(Error::Store(e)) => store_failed(&req, &assets, &e, None),
        Err(e) => {
            tracing::error!(error = %e, link_id = %link.id, "opening a session from a link failed");
            HttpResponse::InternalServerError().finish()
        }
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(show).service(open);
}
