//! The one error body of the API, and the request id that ties it to the logs.
//!
//! Every error a client sees is `{"error": {"code", "message", "details"}, "request_id"}`, with
//! the same id in `X-Request-Id`: errors raised by handlers are built here, and responses that
//! actix-web itself produced (an unknown route, a body too large) are rewritten into this shape
//! by [`super::middleware`].

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::{Value, json};

use crate::core::Error;
use crate::store::Outage;

tokio::task_local! {
    /// The id of the request being handled, set by the request middleware around the handler.
    pub static REQUEST_ID: String;
}

pub fn current_request_id() -> String {
    REQUEST_ID.try_with(Clone::clone).unwrap_or_default()
}

/// Marks a response whose body already has the error shape.
#[derive(Clone, Copy)]
pub struct Shaped;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Option<Value>,
    /// Seconds to wait before trying again, sent as `Retry-After`.
    pub retry_after: Option<u32>,
}

/// What a client is told to wait when the database is unavailable.
pub const RETRY_AFTER_SECS: u32 = 5;

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            details: None,
            retry_after: None,
        }
    }

    /// The error for a response actix-web produced without a handler's word on it.
    pub fn from_status(status: StatusCode) -> ApiError {
        let (code, message) = match status.as_u16() {
            400 => ("bad_request", "the request could not be read"),
            401 => ("unauthorized", "a valid X-API-KEY header is required"),
            404 => ("not_found", "no such resource"),
            408 => ("request_timeout", "the request body did not arrive in time"),
            405 => (
                "method_not_allowed",
                "this method is not allowed on this resource",
            ),
            413 => ("payload_too_large", "the request body is too large"),
            415 => ("unsupported_media_type", "the request body must be JSON"),
            s if s >= 500 => ("internal_error", "something went wrong on our side"),
            _ => ("error", "the request failed"),
        };
        ApiError::new(status, code, message)
    }

    pub fn body<'a>(&'a self, request_id: &'a str) -> ErrorBody<'a> {
        ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: &self.message,
                details: self.details.as_ref(),
            },
            request_id,
        }
    }
}

/// The body of every error response.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody<'a> {
    pub error: ErrorDetail<'a>,
    /// The same id as the `X-Request-Id` header.
    pub request_id: &'a str,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorDetail<'a> {
    /// Stable, machine-readable: `invalid_request`, `malformed_json`, `unauthorized`,
    /// `forbidden`, `not_found`, `checkout_session_id_taken`, `idempotency_key_reused`,
    /// `checkout_session_not_open`, `coupon_code_taken`, `checkout_session_expired`,
    /// `checkout_session_completed`, `coupon_used_up`, `too_many_webhooks`, `payload_too_large`,
    /// `method_not_allowed`, `unavailable`, `internal_error`…
    #[schema(example = "invalid_request")]
    pub code: &'a str,
    /// For a person: what is wrong and how to fix it.
    pub message: &'a str,
    /// Absent or an object. For `invalid_request`: `field` (the first field at fault) and
    /// `errors` (`[{field, message}]`, every violation). For `malformed_json`: `field` `body` and
    /// `reason`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>, example = json!({"field": "amount", "errors": [{"field": "amount", "message": "must be a whole number of the currency's smallest unit, from 1 to 1000000000000"}]}))]
    pub details: Option<&'a Value>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status);
        if let Some(secs) = self.retry_after {
            res.insert_header((actix_web::http::header::RETRY_AFTER, secs));
        }
        let mut res = res.json(self.body(&current_request_id()));
        res.extensions_mut().insert(Shaped);
        res
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> ApiError {
        match e {
            Error::MalformedJson(why) => ApiError {
                details: Some(json!({"field": "body", "reason": why})),
                ..ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "malformed_json",
                    "the request body is not valid JSON",
                )
            },
            Error::Invalid(errors) => {
                let first = errors.first().map(|e| e.field.clone()).unwrap_or_default();
                let message = errors
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ");
                let list: Vec<Value> = errors
                    .iter()
                    .map(|e| json!({"field": e.field, "message": e.message}))
                    .collect();
                ApiError {
                    details: Some(json!({"field": first, "errors": list})),
                    ..ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_request", message)
                }
            }
            Error::Forbidden(message) => ApiError::new(StatusCode::FORBIDDEN, "forbidden", message),
            Error::NotFound(what) => ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("no such {what}"),
            ),
            Error::Conflict { code, message } => ApiError::new(StatusCode::CONFLICT, code, message),
            Error::Sealed(why) => {
                tracing::error!(error = %why, "sealed secrets do not open");
                ApiError::from_status(StatusCode::INTERNAL_SERVER_ERROR)
            }
            Error::Store(e) => match e.outage() {
                Some(outage) => {
                    tracing::warn!(error = %e, "the database is unavailable");
                    ApiError {
                        retry_after: Some(RETRY_AFTER_SECS),
                        ..ApiError::new(
                            StatusCode::SERVICE_UNAVAILABLE,
                            "unavailable",
                            match outage {
                                Outage::Unreachable => {
                                    "the database is unavailable right now; try again in a moment"
                                }
                                Outage::DiskFull => {
                                    "nothing can be stored right now: the server's disk is full; \
                                     try again later"
                                }
                            },
                        )
                    }
                }
                None => {
                    tracing::error!(error = %e, "store error");
                    ApiError::from_status(StatusCode::INTERNAL_SERVER_ERROR)
                }
            },
        }
    }
}
