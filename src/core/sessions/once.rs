//! Creating a session once per `Idempotency-Key`: the key and the session are written in one
//! transaction, and a retry is answered with the very bytes of the first answer.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::{insert, new_session, phone_country};
use crate::core::{Caller, Context, Error, Result};
use crate::store::{IdempotencyRecord, StoreError};

/// The longest `Idempotency-Key` accepted.
const MAX_IDEMPOTENCY_KEY: usize = 255;

/// A response given once and kept: status and JSON body. A creation with an
/// `Idempotency-Key` answers with the body as stored, so a retry with the same key gets the very
/// same bytes.
#[derive(Debug, Clone)]
pub struct Stored {
    pub status: u16,
    pub body: String,
}

/// Creates a session once per `Idempotency-Key`: a retry with the same key and body gets the
/// first answer again and makes no second session; the same key with another body is a 409.
pub async fn create_once(
    ctx: &Context,
    caller: &Caller,
    body: &Map<String, Value>,
    idempotency_key: &str,
) -> Result<Stored> {
    let key = idempotency_key.trim();
    if key.is_empty() || key.len() > MAX_IDEMPOTENCY_KEY {
        return Err(Error::invalid(
            "Idempotency-Key",
            format!("must be 1 to {MAX_IDEMPOTENCY_KEY} characters"),
        ));
    }
    // serde_json's maps are sorted, so this is the same text for the same JSON body whatever
    // the order or spacing of its fields.
    let canonical = serde_json::to_string(body).unwrap_or_default();
    let hash = hex::encode(Sha256::digest(canonical.as_bytes()));
    if let Some(done) = replay(ctx, caller, key, &hash).await? {
        return Ok(done);
    }
    let body = &crate::core::catalog::priced(ctx, caller, body.clone()).await?;
    let country = phone_country(ctx, caller, body).await?;
    let session = new_session(ctx, caller, body, country)?;
    let created = Stored {
        status: 201,
        body: serde_json::to_string(&session.view(&ctx.public_url, None))
            .expect("a session view is JSON"),
    };
    let record = IdempotencyRecord {
        organization_id: caller.organization_id,
        environment: caller.environment.as_str().to_string(),
        key: key.to_string(),
        request_hash: hash.clone(),
        status_code: created.status.into(),
        response_body: created.body.clone(),
        created_at: session.created_at,
    };
    match insert(ctx, &session, Some(&record)).await {
        Ok(()) => Ok(created),
        // A concurrent request with the same key won; answer as it did.
        Err(Error::Store(StoreError::Conflict("idempotency_key"))) => {
            replay(ctx, caller, key, &hash)
                .await?
                .ok_or(Error::Store(StoreError::Conflict("idempotency_key")))
        }
        Err(e) => Err(e),
    }
}

/// The stored response for a key already used, or a conflict if the body was different.
async fn replay(ctx: &Context, caller: &Caller, key: &str, hash: &str) -> Result<Option<Stored>> {
    let Some(done) = ctx
        .store
        .idempotency_record(caller.organization_id, caller.environment, key)
        .await?
    else {
        return Ok(None);
    };
    if done.request_hash != hash {
        return Err(Error::Conflict {
            code: "idempotency_key_reused",
            message: "this Idempotency-Key was already used with a different request body".into(),
        });
    }
    Ok(Some(Stored {
        status: done.status_code as u16,
        body: done.response_body,
    }))
}
