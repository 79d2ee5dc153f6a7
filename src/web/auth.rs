//! `X-API-KEY` authentication: the key's hash is looked up, and the caller is the key's
//! organization in the key's environment.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::StatusCode;
use actix_web::web::Data;
use actix_web::{FromRequest, HttpRequest, dev::Payload};

use super::error::ApiError;
use crate::core::{Caller, Context, organizations};

fn unauthorized(message: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
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
        Box::pin(async move {
            let ctx =
                ctx.ok_or_else(|| ApiError::from_status(StatusCode::INTERNAL_SERVER_ERROR))?;
            let key = key.ok_or_else(|| unauthorized("the X-API-KEY header is missing"))?;
            organizations::authenticate(&ctx, &key)
                .await?
                .ok_or_else(|| unauthorized("the API key is not valid"))
        })
    }
}
