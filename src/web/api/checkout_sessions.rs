//! `/v1/checkout_sessions`: thin handlers over [`crate::core::sessions`]. Each handler's
//! `#[utoipa::path]` is its entry in the OpenAPI document.

use actix_web::http::StatusCode;
use actix_web::web::{Bytes, Data, Path, Query};
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post};

use super::doc::{
    CheckoutSessionCreate, CheckoutSessionList, CheckoutSessionUpdate, Conflict, Forbidden, Paging,
    PaymentList, Sorting, Unprocessable,
};
use super::{Response, SessionId};
use crate::core::input::parse_object;
use crate::core::payments::{self, Report};
use crate::core::sessions::{self, ListParams};
use crate::core::{Caller, Context, Error};
use crate::domain::payment::Payment;
use crate::domain::session::{CheckoutSession, SessionView};

/// Create a checkout session
///
/// Creates an `open` session and returns it with its hosted page `url`. Unknown fields are 422.
/// Read-only fields may be sent only with the value the server would set (`organization_id` of
/// the key, `environment` of the key, `status` `open`, others null); any other value is 422, and
/// another `organization_id` is 403.
#[utoipa::path(
    operation_id = "createCheckoutSession",
    params(("Idempotency-Key" = Option<String>, Header, max_length = 255, description = "Makes \
        a create safe to retry: the same key with the same JSON body gives the same response \
        and no second session; the same key with another body is 409 \
        `idempotency_key_reused`. Keys are per organization and environment; 1 to 255 ASCII \
        characters, else 422.")),
    request_body = CheckoutSessionCreate,
    responses(
        (status = 201, body = SessionView, description = "The created session (or, for a \
            repeated `Idempotency-Key` with the same body, the first response again)."),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
)]
#[post("/checkout_sessions")]
pub async fn create(ctx: Data<Context>, caller: Caller, req: HttpRequest, body: Bytes) -> Response {
    let key = req
        .headers()
        .get("idempotency-key")
        .map(|v| {
            v.to_str()
                .map_err(|_| Error::invalid("Idempotency-Key", "must be ASCII text"))
        })
        .transpose()?;
    let body = parse_object(&body)?;
    let Some(key) = key else {
        let session = sessions::create(&ctx, &caller, &body).await?;
        return Ok(HttpResponse::Created().json(session.view(&ctx.public_url, None)));
    };
    let stored = sessions::create_once(&ctx, &caller, &body, key).await?;
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::CREATED);
    Ok(HttpResponse::build(status)
        .content_type("application/json")
        .body(stored.body))
}

/// List checkout sessions
///
/// The caller's sessions, newest first by default. Sessions past their expiry are expired
/// before the page is read.
#[utoipa::path(
    operation_id = "listCheckoutSessions",
    params(
        Paging,
        Sorting,
        ("status" = Option<String>, Query, example = "open",
            description = "Only sessions with this status: `open`, `completed` or `expired`."),
    ),
    responses(
        (status = 200, body = CheckoutSessionList, description = "A page of sessions."),
        (status = 422, response = Unprocessable),
    ),
)]
#[get("/checkout_sessions")]
pub async fn list(ctx: Data<Context>, caller: Caller, params: Query<ListParams>) -> Response {
    let page = sessions::list(&ctx, &caller, &params).await?;
    let page = sessions::shown_page(&ctx, page).await?;
    Ok(HttpResponse::Ok().json(page.view(|s| s.view(&ctx.public_url))))
}

/// Retrieve a checkout session
#[utoipa::path(
    operation_id = "retrieveCheckoutSession",
    params(SessionId),
    responses(
        (status = 200, body = SessionView, description = "The session as it stands now."),
    ),
)]
#[get("/checkout_sessions/{session_id}")]
pub async fn retrieve(ctx: Data<Context>, caller: Caller, id: Path<SessionId>) -> Response {
    let session = sessions::retrieve(&ctx, &caller, id.parse()?).await?;
    show(&ctx, session).await
}

/// Update an open checkout session
///
/// Lays the given fields over the stored ones and checks the result whole, with the same rules
/// as a create. Only an `open` session can change (else 409 `checkout_session_not_open`).
/// `status` may be set to `expired` only; any other read-only field, `checkout_session_id` or an
/// unknown field is 422.
#[utoipa::path(
    operation_id = "updateCheckoutSession",
    params(SessionId),
    request_body = CheckoutSessionUpdate,
    responses(
        (status = 200, body = SessionView, description = "The updated session."),
        (status = 409, response = Conflict),
    ),
)]
#[patch("/checkout_sessions/{session_id}")]
pub async fn update(
    ctx: Data<Context>,
    caller: Caller,
    id: Path<SessionId>,
    body: Bytes,
) -> Response {
    let session = sessions::update(&ctx, &caller, id.parse()?, &parse_object(&body)?).await?;
    show(&ctx, session).await
}

/// Expire a checkout session
///
/// An open session becomes `expired` and its record is kept; an expired one stays as it is
/// (204 again); a completed one is 409 `checkout_session_not_open`.
#[utoipa::path(
    operation_id = "deleteCheckoutSession",
    params(SessionId),
    responses(
        (status = 204, description = "The session is expired."),
        (status = 409, response = Conflict),
    ),
)]
#[delete("/checkout_sessions/{session_id}")]
pub async fn expire(ctx: Data<Context>, caller: Caller, id: Path<SessionId>) -> Response {
    sessions::expire(&ctx, &caller, id.parse()?).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Report a confirmed payment
///
/// The payment backend reports a payment the provider has confirmed; it completes an open
/// session once. `amount_paid` must equal the session's `amount_total` (else 422, and nothing
/// changes). Completing sets `status` `completed`, `payment_provider` and `completed_at`, counts
/// a use of the session's coupon (atomically, against its `max_uses`) and sends a
/// `checkout_session.completed` event to the webhook endpoints. The same report again (same
/// `provider` and `provider_reference`) on the completed session is 200 with the session as it
/// stands and completes nothing twice. A different payment on a completed session is 409
/// `checkout_session_completed`; any payment on an expired session (also one past `expires_at`)
/// is 409 `checkout_session_expired`; a session whose coupon has no use left is 409
/// `coupon_used_up` and stays open. Unknown fields are 422.
#[utoipa::path(
    operation_id = "completeCheckoutSession",
    params(SessionId),
    request_body = Report,
    responses(
        (status = 200, body = SessionView,
            description = "The completed session (the same answer for a repeated report)."),
        (status = 409, response = Conflict),
    ),
)]
#[post("/checkout_sessions/{session_id}/complete")]
pub async fn complete(
    ctx: Data<Context>,
    caller: Caller,
    id: Path<SessionId>,
    body: Bytes,
) -> Response {
    let id = id.parse()?;
    let report = Report::parse(&parse_object(&body)?)?;
    let session = payments::complete(&ctx, &caller, id, &report).await?;
    show(&ctx, session).await
}

/// List a session's payments
///
/// Every attempt to pay the session, oldest first, a page at a time: the latest is the
/// session's `payment`.
#[utoipa::path(
    operation_id = "listCheckoutSessionPayments",
    params(SessionId, Paging),
    responses(
        (status = 200, body = PaymentList, description = "A page of the session's payments."),
        (status = 422, response = Unprocessable),
    ),
)]
#[get("/checkout_sessions/{session_id}/payments")]
pub async fn payments_of(
    ctx: Data<Context>,
    caller: Caller,
    id: Path<SessionId>,
    params: Query<ListParams>,
) -> Response {
    let (limit, offset) = (params.limit.as_deref(), params.offset.as_deref());
    let page = sessions::payments(&ctx, &caller, id.parse()?, limit, offset).await?;
    Ok(HttpResponse::Ok().json(page.view(Payment::view)))
}

/// The session as the API shows it, with its latest payment.
async fn show(ctx: &Context, session: CheckoutSession) -> Response {
    let shown = sessions::shown(ctx, session).await?;
    Ok(HttpResponse::Ok().json(shown.view(&ctx.public_url)))
}

resource!(
    create,
    list,
    retrieve,
    update,
    expire,
    complete,
    payments_of
);
