//! The forms of the checkout page: quantity, coupon, payment choice and back to it. Each is a
//! [`Posted`] form: the session it names found open and its CSRF token checked before its
//! handler runs.
//!
//! A form that succeeds answers 303 back to the page (so a reload never posts twice); one that
//! fails renders the page again with the message and the customer's input, and nothing changes.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::error::InternalError;
use actix_web::http::StatusCode;
use actix_web::web::{self, Bytes, Data};
use actix_web::{FromRequest, HttpRequest, HttpResponse, post};
use serde::Deserialize;

use super::assets::Assets;
use super::checkout::{FormState, load, render};
use super::{PageRequest, not_found, see_other, session_id, store_failed};
use crate::core::attempts::{self, Begun};
use crate::core::checkout::{self, Detail, Notice, PaymentForm, Problem};
use crate::core::{Context, payments};
use crate::domain::coupon::Rejection;
use crate::domain::session::{CheckoutSession, Status};
use crate::web::i18n::{Messages, fill};
use crate::web::security;

/// The message for a refused coupon.
fn rejection_message(t: &Messages, r: &Rejection) -> String {
    match r {
        Rejection::NotFound => t.error_coupon_unknown.to_string(),
        Rejection::Inactive => t.error_coupon_inactive.to_string(),
        Rejection::NotYetValid => t.error_coupon_not_yet_valid.to_string(),
        Rejection::Expired => t.error_coupon_expired.to_string(),
        Rejection::UsedUp => t.error_coupon_used_up.to_string(),
        Rejection::QuantityTooHigh { max } => {
            fill(&t.error_coupon_quantity, &[("max", &max.to_string())])
        }
        Rejection::WrongCurrency => t.error_coupon_currency.to_string(),
    }
}

fn problem_messages(t: &Messages, problem: &Problem) -> Vec<String> {
    match problem {
        Problem::Quantity { max } => vec![fill(&t.error_quantity, &[("max", &max.to_string())])],
        Problem::CouponRejected(r) => vec![rejection_message(t, r)],
        Problem::CouponRateLimited => vec![t.error_coupon_rate_limited.to_string()],
        Problem::Details(details) => details
            .iter()
            .map(|d| match d {
                Detail::Name => t.error_name.to_string(),
                Detail::Email => t.error_email.to_string(),
                Detail::Phone => t.error_phone.to_string(),
                Detail::PhoneCountry => t.error_phone_country.to_string(),
                Detail::PhoneRequired => t.error_phone_required.to_string(),
                Detail::Provider => t.error_provider.to_string(),
            })
            .collect(),
        Problem::PaymentPending => vec![t.error_payment_pending.to_string()],
        Problem::NotOpen
        | Problem::NotAllowed
        | Problem::NotFound
        | Problem::Busy
        | Problem::Store(_) => {
            vec![t.error_not_open.to_string()]
        }
    }
}

#[derive(Deserialize, Default)]
pub(super) struct QuantityForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    quantity: String,
}

#[derive(Deserialize, Default)]
pub(super) struct CouponForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    action: String,
}

#[derive(Deserialize, Default)]
pub(super) struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

#[derive(Deserialize, Default)]
pub(super) struct PayForm {
    #[serde(default)]
    csrf: String,
    #[serde(flatten)]
    payment: PaymentForm,
}

/// A form of the page as posted: the session it was posted to, found open, and its fields,
/// with a CSRF token that is valid for this browser and session. Anything else is answered
/// before the handler runs: a 404 page for an unknown session (its body is never read), a 303
/// to the page for one no longer open, the page with "this form has expired" for a bad token.
pub(super) struct Posted<T> {
    pub session: Arc<CheckoutSession>,
    pub form: T,
}

/// A form the page posts: read from its urlencoded body (one that cannot be read is read as
/// empty, and fails its checks like one), and carrying its CSRF token.
pub(super) trait PageForm: for<'de> Deserialize<'de> + Default + 'static {
    fn csrf(&self) -> &str;
}

/// `PageForm` for forms that carry their token in a `csrf` field, as all of the page's do.
macro_rules! page_forms {
    ($($form:ty),+ $(,)?) => {
        $(impl $crate::web::page::forms::PageForm for $form {
            fn csrf(&self) -> &str {
                &self.csrf
            }
        })+
    };
}
pub(super) use page_forms;

page_forms!(QuantityForm, CouponForm, CsrfOnly, PayForm);

impl<T: PageForm> FromRequest for Posted<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Posted<T>, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        // Only a session that exists has its form read.
        let known = req.match_info().get("id").and_then(session_id).is_some();
        let body = known.then(|| Bytes::from_request(&req, payload));
        Box::pin(async move {
            let refused = |res: HttpResponse| InternalError::from_response("refused", res).into();
            let (Some(ctx), Some(assets)) = (
                req.app_data::<Data<Context>>(),
                req.app_data::<Data<Assets>>(),
            ) else {
                return Err(refused(HttpResponse::InternalServerError().finish()));
            };
            let raw_id = req.match_info().get("id").unwrap_or_default();
            let Some(body) = body else {
                return Err(refused(not_found(&req, assets)));
            };
            let session = load(ctx, assets, &req, raw_id).await.map_err(refused)?;
            if session.status != Status::Open {
                // Completed or expired meanwhile: show where it stands now.
                return Err(refused(see_other(
                    &format!("/checkout/{}", session.id),
                    None,
                )));
            }
            let form: T = serde_urlencoded::from_bytes(&body.await?).unwrap_or_default();
            let secret = security::csrf_secret(&req, ctx.public_url.starts_with("https:"));
            if !ctx
                .csrf_key
                .is_valid(secret.as_deref(), session.id, form.csrf())
            {
                let t = PageRequest::from_request(&req, Some(session.fields.currency)).t();
                let state = FormState {
                    errors: vec![t.error_form_expired.to_string()],
                    ..FormState::default()
                };
                let page = render(ctx, assets, &req, &session, state, StatusCode::FORBIDDEN).await;
                return Err(refused(page));
            }
            Ok(Posted { session, form })
        })
    }
}

/// After a form: back to the page on success, the page with the problem on failure.
async fn respond(
    ctx: &Context,
    assets: &Assets,
    req: &HttpRequest,
    session: &CheckoutSession,
    outcome: Result<Option<Notice>, Problem>,
    mut state: FormState,
) -> HttpResponse {
    let page = PageRequest::from_request(req, Some(session.fields.currency));
    match outcome {
        Ok(None) => see_other(
            &format!("/checkout/{}{}", session.id, page.qs()),
            page.lang_cookie,
        ),
        Ok(Some(Notice::CouponRemoved)) => {
            let fresh = match load(ctx, assets, req, &session.id.to_string()).await {
                Ok(s) => s,
                Err(res) => return res,
            };
            state
                .notices
                .push(page.t().error_coupon_removed.to_string());
            render(ctx, assets, req, &fresh, state, StatusCode::OK).await
        }
        Err(Problem::Store(e)) => store_failed(req, assets, &e, Some(session.id)),
        Err(Problem::NotOpen | Problem::NotFound) => {
            see_other(&format!("/checkout/{}{}", session.id, page.qs()), None)
        }
        Err(problem) => {
            let messages = problem_messages(page.t(), &problem);
            match &problem {
                Problem::Details(details) => {
                    for d in details {
                        match d {
                            Detail::Name => state.invalid.name = true,
                            Detail::Email => state.invalid.email = true,
                            Detail::Phone | Detail::PhoneCountry | Detail::PhoneRequired => {
                                state.invalid.phone = true;
                                state.phone_error =
                                    problem_messages(page.t(), &Problem::Details(vec![*d])).pop();
                            }
                            Detail::Provider => state.invalid.provider = true,
                        }
                    }
                    state.payment_errors = messages;
                }
                Problem::Quantity { .. } => {
                    state.invalid.quantity = true;
                    state.errors = messages;
                }
                _ => {
                    state.invalid.coupon = matches!(
                        problem,
                        Problem::CouponRejected(_) | Problem::CouponRateLimited
                    );
                    state.errors = messages;
                }
            }
            // Show the session as it is now: a refused coupon still counted as an attempt.
            let fresh = match load(ctx, assets, req, &session.id.to_string()).await {
                Ok(s) => s,
                Err(res) => return res,
            };
            render(
                ctx,
                assets,
                req,
                &fresh,
                state,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

#[post("/checkout/{id}/quantity")]
async fn quantity(
    ctx: Data<Context>,
    assets: Data<Assets>,
    req: HttpRequest,
    posted: Posted<QuantityForm>,
) -> HttpResponse {
    let f = &posted.form;
    let outcome = checkout::set_quantity(&ctx, posted.session.id, &f.quantity)
        .await
        .map(|(_, notice)| notice);
    let state = FormState {
        quantity: Some(f.quantity.clone()),
        ..FormState::default()
    };
    respond(&ctx, &assets, &req, &posted.session, outcome, state).await
}

#[post("/checkout/{id}/coupon")]
async fn coupon(
    ctx: Data<Context>,
    assets: Data<Assets>,
    req: HttpRequest,
    posted: Posted<CouponForm>,
) -> HttpResponse {
    let f = &posted.form;
    let outcome = if f.action == "remove" {
        checkout::remove_coupon(&ctx, posted.session.id).await
    } else {
        let address = crate::web::auth::client_address(&req, &ctx);
        checkout::apply_coupon(&ctx, posted.session.id, &f.code, address).await
    };
    let state = FormState {
        coupon: Some(f.code.clone()),
        ..FormState::default()
    };
    respond(
        &ctx,
        &assets,
        &req,
        &posted.session,
        outcome.map(|_| None),
        state,
    )
    .await
}

/// The payment form: details and provider. A total of zero is confirmed with no provider.
#[post("/checkout/{id}/pay")]
async fn pay(
    ctx: Data<Context>,
    assets: Data<Assets>,
    req: HttpRequest,
    posted: Posted<PayForm>,
) -> HttpResponse {
    let f = &posted.form;
    let session = &posted.session;
    if session.totals().total == 0 {
        return match payments::complete_free(&ctx, session.id).await {
            Ok(_) => see_other(
                &format!(
                    "/checkout/{}{}",
                    session.id,
                    PageRequest::from_request(&req, None).qs()
                ),
                None,
            ),
            Err(e) => store_failed(&req, &assets, &e, Some(session.id)),
        };
    }
    let state = FormState {
        details: Some(f.payment.clone()),
        ..FormState::default()
    };
    let chosen = match checkout::choose_payment(&ctx, session.id, &f.payment).await {
        Ok(chosen) => chosen,
        Err(problem) => return respond(&ctx, &assets, &req, session, Err(problem), state).await,
    };
    let Some(provider) = chosen
        .payment_provider
        .as_deref()
        .and_then(|p| p.parse().ok())
    else {
        return respond(
            &ctx,
            &assets,
            &req,
            session,
            Err(Problem::NotAllowed),
            state,
        )
        .await;
    };
    let page = PageRequest::from_request(&req, Some(session.fields.currency));
    let address = crate::web::auth::client_address(&req, &ctx);
    if ctx.limits.attempt_start(session.id, address).is_err() {
        let message = page.t().payment_rate_limited.to_string();
        return payment_error(
            &ctx,
            &assets,
            &req,
            session,
            message,
            StatusCode::TOO_MANY_REQUESTS,
        )
        .await;
    }
    match attempts::start(&ctx, session.id, provider, page.lang.code()).await {
        // To the provider's own page: an absolute URL it gave.
        Ok(Begun::Redirect(url)) => see_other(&url, None),
        Ok(Begun::Wait) => respond(&ctx, &assets, &req, session, Ok(None), state).await,
        Ok(Begun::ProviderUnavailable) => {
            let t = page.t();
            let name = t.provider(provider).to_string();
            payment_error(
                &ctx,
                &assets,
                &req,
                session,
                fill(&t.provider_unavailable, &[("provider", &name)]),
                StatusCode::BAD_GATEWAY,
            )
            .await
        }
        Ok(Begun::Refused) => {
            let message = page.t().payment_failed.to_string();
            payment_error(
                &ctx,
                &assets,
                &req,
                session,
                message,
                StatusCode::BAD_GATEWAY,
            )
            .await
        }
        Err(problem) => respond(&ctx, &assets, &req, session, Err(problem), state).await,
    }
}

/// The page as it now stands, with a message about the payment.
async fn payment_error(
    ctx: &Context,
    assets: &Assets,
    req: &HttpRequest,
    session: &CheckoutSession,
    message: String,
    status: StatusCode,
) -> HttpResponse {
    let fresh = match load(ctx, assets, req, &session.id.to_string()).await {
        Ok(s) => s,
        Err(res) => return res,
    };
    let state = FormState {
        payment_errors: vec![message],
        ..FormState::default()
    };
    render(ctx, assets, req, &fresh, state, status).await
}

#[post("/checkout/{id}/pay/reset")]
async fn reset(
    ctx: Data<Context>,
    assets: Data<Assets>,
    req: HttpRequest,
    posted: Posted<CsrfOnly>,
) -> HttpResponse {
    let outcome = checkout::reset_payment(&ctx, posted.session.id)
        .await
        .map(|_| None);
    respond(
        &ctx,
        &assets,
        &req,
        &posted.session,
        outcome,
        FormState::default(),
    )
    .await
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(quantity)
        .service(coupon)
        .service(pay)
        .service(reset);
}
