//! Webhook endpoints as the merchant API manages them, and their delivery log.

use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::{Caller, Context, Error, Result};
use crate::domain::apikey;
use crate::domain::event::EventType;
use crate::domain::fields::{Field, FieldError};
use crate::domain::session::parse_url;
use crate::domain::time;
use crate::store::WebhookEndpoint;
use secrecy::ExposeSecret;

/// Endpoints an organization may have in one environment.
const MAX_ENDPOINTS: usize = 16;

pub fn endpoint_json(e: &WebhookEndpoint) -> Value {
    json!({
        "webhook_id": e.id.to_string(),
        "url": e.url,
        "events": e.events.split(',').collect::<Vec<_>>(),
        "environment": e.environment,
        "created_at": time::rfc3339(&e.created_at),
    })
}

/// Registers an endpoint. The answer carries the signing secret: the only time it is shown.
pub async fn create(ctx: &Context, caller: &Caller, body: &Map<String, Value>) -> Result<Value> {
    let mut errors: Vec<FieldError> = body
        .keys()
        .filter(|k| !["url", "events"].contains(&k.as_str()))
        .map(|k| FieldError::new(k.as_str(), "is not a field of a webhook endpoint"))
        .collect();
    let url = match body.get("url").filter(|v| !v.is_null()) {
        None => Err(FieldError::new("url", "is required")),
        Some(v) => parse_url(Field::new("url", v), caller.environment),
    }
    .map_err(|e| errors.push(e))
    .ok();
    let events = match body.get("events").filter(|v| !v.is_null()) {
        None => Ok(EventType::ALL.to_vec()),
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .map(|v| {
                v.as_str()
                    .ok_or_else(|| "must be strings".to_string())
                    .and_then(|s| s.parse::<EventType>())
            })
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| FieldError::new("events", e)),
        Some(_) => Err(FieldError::new(
            "events",
            "must be a non-empty array of event types",
        )),
    }
    .map_err(|e| errors.push(e))
    .ok();
    let (Some(url), Some(events)) = (url, events) else {
        return Err(Error::Invalid(errors));
    };
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    // Each type once, in the order given.
    let mut unique = Vec::with_capacity(events.len());
    for e in events {
        if !unique.contains(&e) {
            unique.push(e);
        }
    }
    let events = unique;
    let existing = ctx
        .store
        .webhook_endpoints(caller.organization_id, caller.environment)
        .await?;
    if existing.len() >= MAX_ENDPOINTS {
        return Err(Error::Conflict {
            code: "too_many_webhooks",
            message: format!(
                "an organization may have {MAX_ENDPOINTS} webhook endpoints per environment"
            ),
        });
    }
    let endpoint = WebhookEndpoint {
        id: Uuid::new_v4(),
        organization_id: caller.organization_id,
        environment: caller.environment.as_str().to_string(),
        url,
        events: events
            .iter()
            .map(|e| e.as_str())
            .collect::<Vec<_>>()
            .join(","),
        secret: apikey::webhook_secret(),
        created_at: time::now(),
        deleted_at: None,
    };
    ctx.store.insert_webhook_endpoint(&endpoint).await?;
    let mut shown = endpoint_json(&endpoint);
    shown["secret"] = endpoint.secret.expose_secret().into();
    Ok(shown)
}

pub async fn list(ctx: &Context, caller: &Caller) -> Result<Vec<WebhookEndpoint>> {
    Ok(ctx
        .store
        .webhook_endpoints(caller.organization_id, caller.environment)
        .await?)
}

/// An endpoint of the caller's organization and environment; any other is not found.
pub async fn retrieve(ctx: &Context, caller: &Caller, id: Uuid) -> Result<WebhookEndpoint> {
    ctx.store
        .webhook_endpoint(id)
        .await?
        .filter(|e| {
            e.organization_id == caller.organization_id
                && e.environment == caller.environment.as_str()
        })
        .ok_or(Error::NotFound("webhook endpoint"))
}

pub async fn delete(ctx: &Context, caller: &Caller, id: Uuid) -> Result<()> {
    retrieve(ctx, caller, id).await?;
    ctx.store.delete_webhook_endpoint(id, time::now()).await?;
    Ok(())
}

/// An endpoint's deliveries, newest first, each with every attempt made.
pub async fn deliveries(
    ctx: &Context,
    caller: &Caller,
    id: Uuid,
    limit: i64,
    offset: i64,
) -> Result<Value> {
    retrieve(ctx, caller, id).await?;
    let (page, total) = ctx.store.deliveries(id, limit, offset).await?;
    let mut data = Vec::with_capacity(page.len());
    for d in page {
        let attempts: Vec<Value> = ctx
            .store
            .attempts(d.id)
            .await?
            .iter()
            .map(|a| {
                // An attempt is logged before it is made; one with no outcome is under way,
                // or was cut short when its node stopped (the endpoint may have seen it).
                let unfinished = "no outcome recorded: the attempt is under way, or caisse \
                                  stopped while making it";
                json!({
                    "attempted_at": time::rfc3339(&a.attempted_at),
                    "finished_at": a.finished_at.as_ref().map(time::rfc3339),
                    "status_code": a.status_code,
                    "error": a.error.as_deref().or(a.finished_at.is_none().then_some(unfinished)),
                    "duration_ms": a.finished_at.is_some().then_some(a.duration_ms),
                })
            })
            .collect();
        data.push(json!({
            "delivery_id": d.id.to_string(),
            "event_id": d.event_id.to_string(),
            "event": d.event_type,
            "checkout_session_id": d.checkout_session_id.to_string(),
            "status": d.status,
            "attempts": d.attempts,
            "next_attempt_at": (d.status == "pending").then(|| time::rfc3339(&d.next_attempt_at)),
            "created_at": time::rfc3339(&d.created_at),
            "updated_at": time::rfc3339(&d.updated_at),
            "attempt_log": attempts,
        }));
    }
    Ok(json!({"data": data, "pagination": {"limit": limit, "offset": offset, "total": total}}))
}
