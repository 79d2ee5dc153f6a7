//! Webhook endpoints as the merchant API manages them, and their delivery log.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::input::{Page, unknown_fields};
use super::{Caller, Context, Error, Result};
use crate::domain::apikey;
use crate::domain::event::EventType;
use crate::domain::fields::{Field, FieldError};
use crate::domain::session::Environment;
use crate::domain::session::parse_url;
use crate::domain::time;
use crate::store::{Attempt, Delivery, WebhookEndpoint};
use secrecy::ExposeSecret;

/// What a create may set.
pub const WRITABLE: &[&str] = &["url", "events"];
/// What the server sets.
pub const READ_ONLY: &[&str] = &[
    "webhook_id",
    "environment",
    "status",
    "disabled_at",
    "created_at",
];

/// Endpoints an organization may have in one environment.
const MAX_ENDPOINTS: usize = 16;

/// An HTTPS endpoint of the merchant's that receives events.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[schema(as = WebhookEndpoint)]
pub struct EndpointView<'a> {
    /// Unique identifier, a UUID v4 made by the server.
    pub webhook_id: Uuid,
    /// Where events are POSTed. Absolute `https` URL, at most 2048 characters; `http` is accepted
    /// only for localhost, 127.0.0.1 or [::1] in the `test` environment. Anything else is 422.
    #[schema(
        format = "uri",
        max_length = 2048,
        example = "https://shop.example/caisse/webhooks"
    )]
    pub url: &'a str,
    /// The events the endpoint receives, in the order given. On create: a non-empty array (else
    /// 422); absent or null is both events.
    #[schema(inline, min_items = 1)]
    pub events: Vec<EventType>,
    /// From the API key: the endpoint receives only that environment's events.
    #[schema(inline, value_type = Environment)]
    pub environment: &'a str,
    /// `enabled`; `disabled` once every attempt to deliver to it has failed for a day: its
    /// pending deliveries then failed, and it receives no new events until
    /// `POST /webhooks/{webhook_id}/enable`.
    #[schema(example = "enabled", pattern = "^(enabled|disabled)$")]
    pub status: &'static str,
    /// When it was disabled; null while enabled.
    #[serde(serialize_with = "time::serde_rfc3339::option::serialize")]
    pub disabled_at: Option<DateTime<Utc>>,
    /// When the endpoint was registered (RFC 3339, UTC, milliseconds).
    #[serde(serialize_with = "time::serde_rfc3339::serialize")]
    pub created_at: DateTime<Utc>,
}

/// The created endpoint, with its signing secret.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[schema(as = WebhookEndpointCreated)]
pub struct CreatedView<'a> {
    #[serde(flatten)]
    pub endpoint: EndpointView<'a>,
    /// The key of the endpoint's `X-Caisse-Signature` HMAC: `whsec_` and 64 hex digits. Shown
    /// only in this response; keep it secret.
    #[schema(read_only, pattern = "^whsec_[0-9a-f]{64}$")]
    pub secret: &'a str,
}

/// The endpoint as the API shows it; its secret is never shown again after its creation.
pub fn endpoint_view(e: &WebhookEndpoint) -> EndpointView<'_> {
    EndpointView {
        webhook_id: e.id,
        url: &e.url,
        events: e.events.split(',').filter_map(|t| t.parse().ok()).collect(),
        environment: &e.environment,
        status: if e.disabled_at.is_some() {
            "disabled"
        } else {
            "enabled"
        },
        disabled_at: e.disabled_at,
        created_at: e.created_at,
    }
}

/// A just-registered endpoint: the only answer that carries its secret.
pub struct Created(pub WebhookEndpoint);

impl Created {
    pub fn view(&self) -> CreatedView<'_> {
        CreatedView {
            endpoint: endpoint_view(&self.0),
            secret: self.0.secret.expose_secret(),
        }
    }
}

/// One event's delivery to one endpoint.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[schema(as = WebhookDelivery)]
pub struct DeliveryView<'a> {
    /// The delivery's id.
    pub delivery_id: Uuid,
    /// The event's `id`, as in the body and `X-Caisse-Event-Id`.
    pub event_id: Uuid,
    #[schema(inline, value_type = EventType)]
    pub event: &'a str,
    /// The session the event is about.
    pub checkout_session_id: Uuid,
    /// `pending` while attempts remain; `succeeded` after a 2xx; `failed` after a 4xx other than
    /// 429, a day of retries, or the endpoint's deletion.
    #[schema(example = "pending")]
    pub status: &'a str,
    /// Attempts made so far.
    #[schema(minimum = 0)]
    pub attempts: i64,
    /// When the next attempt is due; null unless `pending`.
    #[serde(serialize_with = "time::serde_rfc3339::option::serialize")]
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// When the event was recorded.
    #[serde(serialize_with = "time::serde_rfc3339::serialize")]
    pub created_at: DateTime<Utc>,
    /// When the delivery last changed.
    #[serde(serialize_with = "time::serde_rfc3339::serialize")]
    pub updated_at: DateTime<Utc>,
    /// Every attempt, oldest first.
    pub attempt_log: Vec<AttemptView<'a>>,
}

/// One attempt to deliver an event.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[schema(as = WebhookAttempt)]
pub struct AttemptView<'a> {
    /// When the attempt started.
    #[serde(serialize_with = "time::serde_rfc3339::serialize")]
    pub attempted_at: DateTime<Utc>,
    /// When its outcome was recorded; null when none was.
    #[serde(serialize_with = "time::serde_rfc3339::option::serialize")]
    pub finished_at: Option<DateTime<Utc>>,
    /// The endpoint's HTTP status; null when it did not answer.
    pub status_code: Option<i32>,
    /// Why there was no answer (`timed out`, `could not connect`, `the request failed`, `the
    /// endpoint was deleted`, or that no outcome was recorded); null when there was one.
    #[schema(example = "timed out")]
    pub error: Option<&'a str>,
    /// How long the attempt took, in milliseconds; null when no outcome was recorded.
    #[schema(minimum = 0)]
    pub duration_ms: Option<i64>,
}

/// A delivery and every attempt made at it.
pub struct DeliveryRecord {
    pub delivery: Delivery,
    pub attempts: Vec<Attempt>,
}

impl DeliveryRecord {
    pub fn view(&self) -> DeliveryView<'_> {
        // An attempt is logged before it is made; one with no outcome is under way, or was cut
        // short when its node stopped (the endpoint may have seen it).
        let unfinished = "no outcome recorded: the attempt is under way, or caisse stopped while \
                          making it";
        let d = &self.delivery;
        DeliveryView {
            delivery_id: d.id,
            event_id: d.event_id,
            event: &d.event_type,
            checkout_session_id: d.checkout_session_id,
            status: &d.status,
            attempts: d.attempts,
            next_attempt_at: (d.status == "pending").then_some(d.next_attempt_at),
            created_at: d.created_at,
            updated_at: d.updated_at,
            attempt_log: self
                .attempts
                .iter()
                .map(|a| AttemptView {
                    attempted_at: a.attempted_at,
                    finished_at: a.finished_at,
                    status_code: a.status_code,
                    error: a
                        .error
                        .as_deref()
                        .or(a.finished_at.is_none().then_some(unfinished)),
                    duration_ms: a.finished_at.is_some().then_some(a.duration_ms),
                })
                .collect(),
        }
    }
}

/// Registers an endpoint. The answer carries the signing secret: the only time it is shown.
pub async fn create(ctx: &Context, caller: &Caller, body: &Map<String, Value>) -> Result<Created> {
    let mut errors = unknown_fields(body, &[WRITABLE], "a webhook endpoint");
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
        disabled_at: None,
    };
    ctx.store.insert_webhook_endpoint(&endpoint).await?;
    Ok(Created(endpoint))
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
        .filter(|e| caller.owns(e.organization_id, &e.environment))
        .ok_or(Error::NotFound("webhook endpoint"))
}

/// Enables an endpoint its failures disabled (an enabled one is left as it is).
pub async fn enable(ctx: &Context, caller: &Caller, id: Uuid) -> Result<WebhookEndpoint> {
    retrieve(ctx, caller, id).await?;
    ctx.store.enable_webhook_endpoint(id).await?;
    retrieve(ctx, caller, id).await
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
) -> Result<Page<DeliveryRecord>> {
    retrieve(ctx, caller, id).await?;
    let (page, total) = ctx.store.deliveries(id, limit, offset).await?;
    let mut items = Vec::with_capacity(page.len());
    for delivery in page {
        let attempts = ctx.store.attempts(delivery.id).await?;
        items.push(DeliveryRecord { delivery, attempts });
    }
    Ok(Page {
        items,
        limit,
        offset,
        total,
    })
}
