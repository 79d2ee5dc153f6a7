//! `POST /providers/{code}/{account_id}`: where providers send their notifications, at the
//! `webhook_url` a merchant's provider account shows. A notification is verified against the
//! account's secret over its raw body (a signature or a token, as the provider documents), then
//! settled, and answered at once: Wave allows five seconds, and nothing slow happens here (no
//! call out, one transaction). One that does not verify is 401, changes nothing, and is logged
//! at warn without its body. A store outage is 503, so the provider sends it again.

use actix_web::web::{self, Bytes, Data, Path};
use actix_web::{HttpRequest, HttpResponse, post};
use uuid::Uuid;

use crate::core::{Context, attempts};

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
    match attempts::notified(&ctx, &code, account_id, req.headers(), &body).await {
        Ok(attempts::Notified::Settled | attempts::Notified::Ignored) => {
            HttpResponse::Ok().finish()
        }
        Ok(attempts::Notified::UnknownAccount) => HttpResponse::NotFound().finish(),
        Ok(attempts::Notified::Forged(why)) => {
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
    cfg.service(notify);
}
