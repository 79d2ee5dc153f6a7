//! `X-API-KEY` authentication: the key's hash is looked up, and the caller is the key's
//! organization in the key's environment. Each key has a request rate limit, and an address
//! that keeps sending keys that are not valid is refused lookups for a while (both 429).

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;

use actix_web::http::StatusCode;
use actix_web::web::Data;
use actix_web::{FromRequest, HttpRequest, dev::Payload};

use super::error::ApiError;
use crate::core::{Caller, Context, organizations};

fn unauthorized(message: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
}

/// 429, with `Retry-After` the whole seconds until the bucket has room (at least one).
fn too_many(message: &str, wait: std::time::Duration) -> ApiError {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    ApiError {
        retry_after: Some(u32::try_from(secs.max(1)).unwrap_or(u32::MAX)),
        ..ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message)
    }
}

/// The client's address: the last one of the operator's `CAISSE_CLIENT_IP_HEADER` (what the
/// reverse proxy in front of caisse added) when it is set, else the connection's peer.
pub fn client_address(req: &HttpRequest, ctx: &Context) -> Option<IpAddr> {
    match &ctx.settings.client_ip_header {
        Some(name) => req
            .headers()
            .get(name.as_str())
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|last| last.trim().parse().ok()),
        None => req.peer_addr().map(|a| a.ip()),
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Caller, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let ctx = req.app_data::<Data<Context>>().cloned();
        // Header names are case-insensitive in HTTP; actix-web stores them lower case.
        let key = req
            .headers()
            .get("x-api-key")
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().to_string());
        let address = ctx.as_ref().and_then(|ctx| client_address(req, ctx));
        Box::pin(async move {
            let ctx =
                ctx.ok_or_else(|| ApiError::from_status(StatusCode::INTERNAL_SERVER_ERROR))?;
            let key = key.ok_or_else(|| unauthorized("the X-API-KEY header is missing"))?;
            if let Err(wait) = ctx.limits.key_lookup(address) {
                return Err(too_many(
                    "too many requests with API keys that are not valid came from this address",
                    wait,
                ));
            }
            let Some(caller) = organizations::authenticate(&ctx, &key).await? else {
                ctx.limits.key_lookup_failed(address);
                return Err(unauthorized("the API key is not valid"));
            };
            if let Some(key_id) = caller.key_id
                && let Err(wait) = ctx.limits.api_request(key_id)
            {
                return Err(too_many(
                    "this API key's request rate limit was reached",
                    wait,
                ));
            }
            Ok(caller)
        })
    }
}
