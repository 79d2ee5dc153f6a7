//! What the page asks while the customer pays: the session's status (polled by the page's
//! script), its QR code as an image, and — in the test environment — the sandbox buttons.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::web::{self, Bytes, Data, Path};
use actix_web::{HttpRequest, HttpResponse, get, post};
use serde::Deserialize;
use serde_json::json;

use super::assets::Assets;
use super::checkout::{FormState, load, render};
use super::forms::{Posted, page_forms};
use super::{PageRequest, see_other, session_id, store_failed};
use crate::core::{Context, attempts, sessions};
use crate::domain::payment::{Payment, PaymentStatus};
use crate::domain::provider::Provider;
use crate::domain::session::{CheckoutSession, Environment, Status, redirect_url};
use crate::store::Settled;
use crate::web::error::RETRY_AFTER_SECS;
use crate::web::i18n::{Messages, fill};
use chrono::{DateTime, Utc};

/// `{"status", "redirect_url"}`: where the page should go once the session is no longer open —
/// the merchant's success URL, or the page itself (which shows the receipt or the expiry). A
/// page waiting for one attempt names it (`?payment=<id>`), and is sent back to the page once
/// that attempt is no longer under way (it failed, or ended), to show what became of it.
#[get("/checkout/{id}/status")]
async fn status(ctx: Data<Context>, req: HttpRequest, id: Path<String>) -> HttpResponse {
    let session = match session_id(&id) {
        Some(id) => sessions::current(&ctx, id).await,
        None => Ok(None),
    };
    let waited: Option<uuid::Uuid> = url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == "payment")
        .and_then(|(_, v)| v.parse().ok());
    let no_store = ("Cache-Control", "no-store");
    match session {
        Ok(Some(s)) => {
            let redirect = match (s.status, &s.fields.success_url) {
                (Status::Open, _) => waited
                    .filter(|w| s.pending_payment_id != Some(*w))
                    .map(|_| format!("/checkout/{}", s.id)),
                (Status::Completed, Some(url)) => Some(redirect_url(url, s.id)),
                _ => Some(format!("/checkout/{}", s.id)),
            };
            HttpResponse::Ok()
                .insert_header(no_store)
                .json(json!({"status": s.status.as_str(), "redirect_url": redirect}))
        }
        Ok(None) => HttpResponse::NotFound()
            .insert_header(no_store)
            .json(json!({"status": null, "redirect_url": null})),
        // The page keeps polling; it is told when to ask again, and that nothing is known yet.
        Err(crate::core::Error::Store(e)) if e.outage().is_some() => {
            tracing::warn!(error = %e, "reading a session's status failed");
            HttpResponse::ServiceUnavailable()
                .insert_header(no_store)
                .insert_header((header::RETRY_AFTER, RETRY_AFTER_SECS))
                .json(json!({"status": null, "redirect_url": null, "error": "unavailable"}))
        }
        Err(e) => {
            tracing::error!(error = %e, "reading a session's status failed");
            HttpResponse::InternalServerError()
                .insert_header(no_store)
                .json(json!({"status": null, "redirect_url": null, "error": "internal_error"}))
        }
    }
}

/// The session's QR code as an image. The payload names the image, so it is its ETag: a
/// changed quantity or coupon is a changed payload and a new ETag.
async fn qr_image(ctx: &Context, req: &HttpRequest, raw: &str, png: bool) -> HttpResponse {
    let session = match session_id(raw) {
        Some(id) => sessions::current(ctx, id).await.ok().flatten(),
        None => None,
    };
    let Some(payload) = session
        .as_deref()
        .filter(|s| s.status == Status::Open)
        .and_then(|s| s.qr_payload.as_deref())
    else {
        return HttpResponse::NotFound()
            .insert_header(("Cache-Control", "no-store"))
            .finish();
    };
    // A strong ETag: the quoted hex of the payload's hash.
    let hash = crate::domain::hex_string(&sha2::Sha256::digest(payload.as_bytes())[..12]);
    let etag = ["\"", &hash, "\""].concat();
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut res = if fresh {
        HttpResponse::NotModified().finish()
    } else if png {
        match ctx.qr.png(payload) {
            Ok(bytes) => HttpResponse::Ok()
                .content_type("image/png")
                .body(Bytes::from_owner(bytes)),
            Err(e) => return render_failed(e),
        }
    } else {
        match ctx.qr.svg(payload, "QR") {
            Ok(svg) => HttpResponse::Ok()
                .content_type("image/svg+xml")
                .body(Bytes::from_owner(svg.as_bytes().to_vec())),
            Err(e) => return render_failed(e),
        }
    };
    let headers = res.headers_mut();
    headers.insert(
        header::ETAG,
        header::HeaderValue::from_str(&etag).expect("quoted hex is a header value"),
    );
    // The code changes with the session, so caches must ask again each time (cheaply, by ETag).
    headers.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("private, no-cache"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        header::HeaderValue::from_static("nosniff"),
    );
    res
}

fn render_failed(e: crate::qr::RenderError) -> HttpResponse {
    tracing::error!(error = %e, "rendering a QR code failed");
    HttpResponse::InternalServerError().finish()
}

use sha2::Digest;

#[get("/checkout/{id}/qr.png")]
async fn qr_png(ctx: Data<Context>, req: HttpRequest, id: Path<String>) -> HttpResponse {
    qr_image(&ctx, &req, &id, true).await
}

#[get("/checkout/{id}/qr.svg")]
async fn qr_svg(ctx: Data<Context>, req: HttpRequest, id: Path<String>) -> HttpResponse {
    qr_image(&ctx, &req, &id, false).await
}

#[derive(Deserialize, Default)]
struct SandboxForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    outcome: String,
}

page_forms!(SandboxForm);

/// The test environment's stand-in for a provider: a successful payment completes the session,
/// a declined one leaves it open with a message.
#[post("/checkout/{id}/sandbox")]
async fn sandbox(
    ctx: Data<Context>,
    assets: Data<Assets>,
    req: HttpRequest,
    posted: Posted<SandboxForm>,
) -> HttpResponse {
    let (session, form) = (posted.session, posted.form);
    let page = PageRequest::from_request(&req, Some(session.fields.currency));
    let back = format!("/checkout/{}{}", session.id, page.qs());
    if session.environment != Environment::Test {
        return see_other(&back, None);
    }
    // A point-of-sale code is paid without choosing a provider: its attempt starts here.
    let session = if session.pending_payment_id.is_none() && session.fields.is_pos {
        if let Err(problem) =
            attempts::start(&ctx, session.id, Provider::Spi, page.lang.code()).await
        {
            tracing::info!(
                ?problem,
                "the sandbox could not start a point-of-sale payment"
            );
        }
        match load(&ctx, &assets, &req, &session.id.to_string()).await {
            Ok(s) => s,
            Err(res) => return res,
        }
    } else {
        session
    };
    match attempts::sandbox_outcome(&ctx, &session, form.outcome == "success").await {
        Ok(Settled::Failed) => {
            let state = FormState {
                payment_errors: vec![page.t().payment_failed.to_string()],
                ..FormState::default()
            };
            let fresh = match load(&ctx, &assets, &req, &session.id.to_string()).await {
                Ok(s) => s,
                Err(res) => return res,
            };
            render(
                &ctx,
                &assets,
                &req,
                &fresh,
                state,
                StatusCode::PAYMENT_REQUIRED,
            )
            .await
        }
        Ok(Settled::Unmatched) => {
            let state = FormState {
                payment_errors: vec![page.t().error_coupon_used_up.to_string()],
                ..FormState::default()
            };
            render(&ctx, &assets, &req, &session, state, StatusCode::CONFLICT).await
        }
        // Completed, or settled by someone else meanwhile: the page shows where it stands.
        Ok(_) => see_other(&back, None),
        Err(e) => store_failed(&req, &assets, &e, Some(session.id)),
    }
}

/// Where a provider sends the customer back (its success and error URLs): the attempt is read
/// at once, then the page shows where the session stands (the success URL once paid).
#[get("/checkout/{id}/return")]
async fn returned(
    ctx: Data<Context>,
    assets: Data<Assets>,
    req: HttpRequest,
    id: Path<String>,
) -> HttpResponse {
    let Some(id) = session_id(&id) else {
        return super::not_found(&req, &assets);
    };
    match sessions::current(&ctx, id).await {
        Ok(Some(session)) => {
            if let Err(e) = attempts::returned(&ctx, &session).await {
                return store_failed(&req, &assets, &e, Some(id));
            }
            see_other(&format!("/checkout/{id}"), None)
        }
        Ok(None) => super::not_found(&req, &assets),
        Err(crate::core::Error::Store(e)) => store_failed(&req, &assets, &e, Some(id)),
        Err(_) => super::not_found(&req, &assets),
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(status)
        .service(returned)
        .service(qr_png)
        .service(qr_svg)
        .service(sandbox);
}

/// What the page says while an MTN MoMo request waits for the payer: approve the amount on
/// this number; where to find the request without a prompt; the time left to approve.
pub struct MomoPrompt {
    pub instructions: String,
    pub no_prompt: String,
    pub time_left: String,
    /// `m:ss` left to approve, and the same in seconds for the page's script.
    pub remaining: String,
    pub seconds_left: i64,
}

/// The MoMo menu's USSD code of a target environment's network, where a request not prompted
/// for can be approved (MTN Côte d'Ivoire's own request SMS names `*133#`; Benin's `*880#` and
/// Cameroon's `*126#` as payment apps of those countries show them). `None`: a generic text.
pub fn momo_ussd(target_environment: &str) -> Option<&'static str> {
    match target_environment {
        "mtnivorycoast" => Some("*133#"),
        "mtnbenin" => Some("*880#"),
        "mtncameroon" => Some("*126#"),
        _ => None,
    }
}

/// The prompt of an MTN attempt MTN accepted; `None` for any other attempt.
pub fn momo_prompt(
    t: &Messages,
    session: &CheckoutSession,
    attempt: &Payment,
    amount: &str,
    now: DateTime<Utc>,
) -> Option<MomoPrompt> {
    if attempt.provider != Provider::Mtn || attempt.account_id.is_none() {
        return None;
    }
    let target = crate::adapters::mtn::target_environment(attempt)?;
    // As the customer's country writes it: `+225 05 05 05 05 05`.
    let phone = session
        .fields
        .customer_phone
        .as_deref()
        .map(crate::domain::phone::grouped)
        .unwrap_or_default();
    let no_prompt = match momo_ussd(&target) {
        Some(code) => fill(&t.momo_no_prompt_ussd, &[("code", code)]),
        None => t.momo_no_prompt.to_string(),
    };
    let seconds_left = attempt
        .expires_at
        .map_or(0, |e| (e - now).num_seconds().max(0));
    Some(MomoPrompt {
        instructions: fill(&t.momo_approve, &[("amount", amount), ("phone", &phone)]),
        no_prompt,
        time_left: t.momo_time_left.to_string(),
        remaining: format!("{}:{:02}", seconds_left / 60, seconds_left % 60),
        seconds_left,
    })
}

/// An MTN failure in the customer's words: the reasons MTN documents, else MTN's own text.
pub fn momo_failure(t: &Messages, code: &str, message: &str) -> String {
    let known = match code {
        "PAYER_NOT_FOUND" => Some(&t.momo_failed_payer_not_found),
        "APPROVAL_REJECTED" => Some(&t.momo_failed_rejected),
        // MTN: a request not approved within its five minutes.
        "EXPIRED" | "COULD_NOT_PERFORM_TRANSACTION" => Some(&t.momo_failed_expired),
        "NOT_ENOUGH_FUNDS" => Some(&t.momo_failed_funds),
        _ => None,
    };
    match known {
        Some(text) => text.to_string(),
        None => fill(&t.momo_failed_other, &[("reason", message)]),
    }
}

/// Why the session's last MTN MoMo request failed, in the customer's words; `None` when it did
/// not, or when MTN refused its start (the page said so then).
pub async fn momo_failed(
    ctx: &Context,
    t: &Messages,
    session_id: uuid::Uuid,
) -> Result<Option<String>, crate::store::StoreError> {
    let Some(p) = ctx.store.latest_payment(session_id).await? else {
        return Ok(None);
    };
    Ok(match (&p.failure_code, &p.failure_message) {
        (Some(code), Some(message))
            if p.provider == Provider::Mtn
                && p.status == PaymentStatus::Failed
                && code != "provider_refused" =>
        {
            Some(momo_failure(t, code, message))
        }
        _ => None,
    })
}
