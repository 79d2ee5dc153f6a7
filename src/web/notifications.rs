//! `POST /providers/{code}/{account_id}`: where providers send their notifications, at the
//! `webhook_url` a merchant's provider account shows, and `…/{payment}` below it for a provider
//! that is given one notification URL per payment (Orange; MTN, which may also PUT to it). A
//! notification is verified against the account's secret over its raw body, or against the
//! token kept for the payment its URL names (as the provider documents), then settled, and
//! answered at once: Wave allows five seconds, and nothing slow happens here (no call out, one
//! transaction). A notification that is only a hint (Orange's, MTN's) is answered as soon as
//! the payment is marked to be read; the read
//! happens after the answer. One that does not verify is 401, changes nothing, and is logged
//! at warn without its body. A store outage is 503, so the provider sends it again.

use actix_web::web::{self, Bytes, Data, Path};
use actix_web::{HttpRequest, HttpResponse, post, put};
use uuid::Uuid;

use crate::core::{Context, notifications};
use crate::domain::payment::parse_short_id;

#[post("/providers/{code}/{account_id}")]
async fn notify(
    ctx: Data<Context>,
    req: HttpRequest,
    path: Path<(String, String)>,
    body: Bytes,
) -> HttpResponse {
    let (code, raw_id) = path.into_inner();
    let Ok(account_id) = Uuid::parse_str(&raw_id) else {
        return HttpResponse::NotFound().finish();
    };
    answer(&ctx, &req, &code, account_id, None, &body).await
}

/// `POST /providers/{code}/{account_id}/{payment}`: one payment's notifications, for providers
/// that take a notification URL per payment (Orange's `notif_url`, MTN's `X-Callback-Url`);
/// `payment` is its short id. An id that is no payment of the account's is refused like a
/// wrong token.
#[post("/providers/{code}/{account_id}/{payment}")]
async fn notify_payment(
    ctx: Data<Context>,
    req: HttpRequest,
    path: Path<(String, String, String)>,
    body: Bytes,
) -> HttpResponse {
    payment_notice(&ctx, &req, path, &body).await
}

/// The same with `PUT`, which MTN also sends its callbacks with.
#[put("/providers/{code}/{account_id}/{payment}")]
async fn notify_payment_put(
    ctx: Data<Context>,
    req: HttpRequest,
    path: Path<(String, String, String)>,
    body: Bytes,
) -> HttpResponse {
    payment_notice(&ctx, &req, path, &body).await
}

async fn payment_notice(
    ctx: &Context,
    req: &HttpRequest,
    path: Path<(String, String, String)>,
    body: &[u8],
) -> HttpResponse {
    let (code, raw_id, raw_payment) = path.into_inner();
    let Ok(account_id) = Uuid::parse_str(&raw_id) else {
        return HttpResponse::NotFound().finish();
    };
    let Some(payment_id) = parse_short_id(&raw_payment) else {
        tracing::warn!(%account_id, provider = %code,
            "a provider notification named no payment; nothing changed");
        return HttpResponse::Unauthorized().finish();
    };
    answer(ctx, req, &code, account_id, Some(payment_id), body).await
}

async fn answer(
    ctx: &Context,
    req: &HttpRequest,
    code: &str,
    account_id: Uuid,
    payment_id: Option<Uuid>,
    body: &[u8],
) -> HttpResponse {
    match notifications::notified(ctx, code, account_id, payment_id, req.headers(), body).await {
        Ok(
            notifications::Notified::Settled
            | notifications::Notified::Reading
            | notifications::Notified::Ignored,
        ) => HttpResponse::Ok().finish(),
        Ok(notifications::Notified::UnknownAccount) => HttpResponse::NotFound().finish(),
        Ok(notifications::Notified::Forged(why)) => {
            tracing::warn!(%account_id, provider = %code, reason = why,
                "a provider notification did not verify; nothing changed");
            HttpResponse::Unauthorized().finish()
        }
        Err(e) => {
            tracing::warn!(%account_id, provider = %code, error = %e,
                "a provider notification could not be recorded; the provider will send it again");
            HttpResponse::ServiceUnavailable().finish()
        }
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(notify)
        .service(notify_payment)
        .service(notify_payment_put);
}
