//! Webhook endpoints, the outbox of events, and their deliveries.
//!
//! Events are written by the same transaction as the state change they announce (see
//! [`write_events`]), one delivery per event and endpoint. Delivery workers on any number of
//! nodes claim due deliveries for a while (`locked_until`); a node that dies mid-delivery lets
//! its claim lapse, and another attempt follows: delivery is at least once.

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use super::{Store, StoreResult, on_pool, sql};
use crate::domain::session::Environment;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WebhookEndpoint {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub environment: String,
    pub url: String,
    /// Comma-separated event types.
    pub events: String,
    /// The signing secret; its `Debug` prints nothing of it.
    #[sqlx(try_from = "String")]
    pub secret: SecretString,
    pub created_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    /// When it was disabled for failing every attempt for a day; `None` while enabled.
    pub disabled_at: Option<DateTime<Utc>>,
}

/// A delivery a worker has claimed, with what it needs to make the attempt.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DueDelivery {
    pub id: Uuid,
    /// The attempt about to be made, already in the log (see [`Store::claim_deliveries`]).
    #[sqlx(skip)]
    pub attempt_id: Uuid,
    #[sqlx(skip)]
    pub attempted_at: DateTime<Utc>,
    pub event_id: Uuid,
    /// Attempts so far, this one included.
    pub attempts: i64,
    pub created_at: DateTime<Utc>,
    pub payload: String,
    pub url: String,
    #[sqlx(try_from = "String")]
    pub secret: SecretString,
    pub endpoint_deleted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Delivery {
    pub id: Uuid,
    pub event_id: Uuid,
    pub endpoint_id: Uuid,
    pub event_type: String,
    pub checkout_session_id: Uuid,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Attempt {
    pub id: Uuid,
    pub delivery_id: Uuid,
    pub attempted_at: DateTime<Utc>,
    pub status_code: Option<i32>,
    pub error: Option<String>,
    pub duration_ms: i64,
    /// When its outcome was recorded; `None` while it is being made, and for good when the
    /// node making it stopped before it knew the answer (the endpoint may have seen it).
    pub finished_at: Option<DateTime<Utc>>,
}

/// What became of a delivery after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    Succeeded,
    Retry {
        at: DateTime<Utc>,
    },
    /// No more attempts: the endpoint refused it (a 4xx), or a day of retries has passed.
    Failed,
}

/// Writes events and their deliveries inside the caller's transaction `$tx`: one delivery per
/// live endpoint of the event's organization and environment that listens to its type.
macro_rules! write_events {
    ($tx:expr, $events:expr) => {{
        for event in $events {
            let event: &$crate::domain::event::Event = event;
            sqlx::query(
                "INSERT INTO webhook_events (id, organization_id, environment, event_type, \
                 checkout_session_id, payload, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(event.id)
            .bind(event.organization_id)
            .bind(&event.environment)
            .bind(event.event_type.as_str())
            .bind(event.checkout_session_id)
            .bind(&event.payload)
            .bind(event.created_at)
            .execute(&mut *$tx)
            .await?;
            let endpoints: Vec<(uuid::Uuid, String)> = sqlx::query_as(
                "SELECT id, events FROM webhook_endpoints WHERE organization_id = $1 \
                 AND environment = $2 AND deleted_at IS NULL AND disabled_at IS NULL",
            )
            .bind(event.organization_id)
            .bind(&event.environment)
            .fetch_all(&mut *$tx)
            .await?;
            for (endpoint, types) in endpoints {
                if !types.split(',').any(|t| t == event.event_type.as_str()) {
                    continue;
                }
                sqlx::query(
                    "INSERT INTO webhook_deliveries (id, event_id, endpoint_id, status, attempts, \
                     next_attempt_at, created_at, updated_at) \
                     VALUES ($1, $2, $3, 'pending', 0, $4, $4, $4)",
                )
                .bind(uuid::Uuid::new_v4())
                .bind(event.id)
                .bind(endpoint)
                .bind(event.created_at)
                .execute(&mut *$tx)
                .await?;
            }
        }
    }};
}
pub(super) use write_events;

/// The ids of the deliveries [`Store::claim_deliveries`] takes ($1 now, $3 how many, $4 the
/// most per endpoint): due and not held, numbered per endpoint oldest first, each endpoint's
/// count starting after the deliveries of it already held.
macro_rules! due_deliveries {
    () => {
        "SELECT id FROM (SELECT d.id, d.next_attempt_at, \
         ROW_NUMBER() OVER (PARTITION BY d.endpoint_id ORDER BY d.next_attempt_at, d.id) \
         + (SELECT COUNT(*) FROM webhook_deliveries h WHERE h.endpoint_id = d.endpoint_id \
            AND h.status = 'pending' AND h.locked_until > $1) AS turn \
         FROM webhook_deliveries d WHERE d.status = 'pending' AND d.next_attempt_at <= $1 \
         AND (d.locked_until IS NULL OR d.locked_until <= $1)) due \
         WHERE turn <= $4 ORDER BY next_attempt_at, id LIMIT $3"
    };
}

impl Store {
    pub async fn insert_webhook_endpoint(&self, e: &WebhookEndpoint) -> StoreResult<()> {
        on_pool!(self, write, |pool, d| {
            sqlx::query(
                "INSERT INTO webhook_endpoints (id, organization_id, environment, url, events, \
                 secret, created_at, deleted_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(e.id)
            .bind(e.organization_id)
            .bind(&e.environment)
            .bind(&e.url)
            .bind(&e.events)
            .bind(e.secret.expose_secret())
            .bind(e.created_at)
            .bind(e.deleted_at)
            .execute(&mut *pool)
            .await?;
        });
        Ok(())
    }

    /// An organization's live endpoints in one environment, newest first.
    pub async fn webhook_endpoints(
        &self,
        organization_id: Uuid,
        environment: Environment,
    ) -> StoreResult<Vec<WebhookEndpoint>> {
        Ok(on_pool!(self, read, |pool, d| {
            sqlx::query_as(
                "SELECT * FROM webhook_endpoints WHERE organization_id = $1 AND environment = $2 \
                 AND deleted_at IS NULL ORDER BY created_at DESC, id DESC",
            )
            .bind(organization_id)
            .bind(environment.as_str())
            .fetch_all(&mut *pool)
            .await?
        }))
    }

    pub async fn webhook_endpoint(&self, id: Uuid) -> StoreResult<Option<WebhookEndpoint>> {
        Ok(on_pool!(self, read, |pool, d| {
            sqlx::query_as("SELECT * FROM webhook_endpoints WHERE id = $1 AND deleted_at IS NULL")
                .bind(id)
                .fetch_optional(&mut *pool)
                .await?
        }))
    }

    /// Enables a disabled endpoint again: it receives new events from now on, its run of
    /// failures forgotten.
    pub async fn enable_webhook_endpoint(&self, id: Uuid) -> StoreResult<()> {
        on_pool!(self, write, |pool, d| {
            sqlx::query(
                "UPDATE webhook_endpoints SET disabled_at = NULL, failing_since = NULL \
                 WHERE id = $1 AND deleted_at IS NULL",
            )
            .bind(id)
            .execute(&mut *pool)
            .await?;
        });
        Ok(())
    }

    /// Stops an endpoint: no new deliveries, and pending ones end as failed when next tried.
    /// Its record and deliveries are kept.
    pub async fn delete_webhook_endpoint(&self, id: Uuid, at: DateTime<Utc>) -> StoreResult<()> {
        on_pool!(self, write, |pool, d| {
            sqlx::query(
                "UPDATE webhook_endpoints SET deleted_at = $2 WHERE id = $1 AND deleted_at IS NULL",
            )
            .bind(id)
            .bind(at)
            .execute(&mut *pool)
            .await?;
        });
        Ok(())
    }

    /// Claims up to `limit` deliveries that are due, holding them until `lock_until`, and counts
    /// and logs the attempt about to be made, before it is made: a node killed while an attempt
    /// is under way leaves it in the log, unfinished, so the log holds every request an
    /// endpoint may have seen. On PostgreSQL, rows another node holds are skipped.
    ///
    /// No endpoint has more than `per_endpoint` deliveries held at once (those held already,
    /// on any node, count), oldest due first: an endpoint that is slow to answer, or never
    /// answers, waits for its own attempts and takes no one else's turn.
    pub async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lock_until: DateTime<Utc>,
        limit: i64,
        per_endpoint: i64,
    ) -> StoreResult<Vec<DueDelivery>> {
        Ok(on_pool!(self, write, |pool, d| {
            let mut tx = pool.begin().await?;
            let claimed: Vec<(Uuid,)> = sqlx::query_as(sql(
                d,
                concat!(
                    "UPDATE webhook_deliveries SET locked_until = $2, attempts = attempts + 1, \
                     updated_at = $1 WHERE id IN (",
                    due_deliveries!(),
                    ") RETURNING id"
                ),
                concat!(
                    "UPDATE webhook_deliveries SET locked_until = $2, attempts = attempts + 1, \
                     updated_at = $1 WHERE id IN (SELECT id FROM webhook_deliveries WHERE id IN (",
                    due_deliveries!(),
                    ") FOR UPDATE SKIP LOCKED) AND (locked_until IS NULL OR locked_until <= $1) \
                     RETURNING id"
                ),
            ))
            .bind(now)
            .bind(lock_until)
            .bind(limit)
            .bind(per_endpoint)
            .fetch_all(&mut *tx)
            .await?;
            let mut due = Vec::with_capacity(claimed.len());
            for (id,) in claimed {
                let delivery: DueDelivery = sqlx::query_as(
                    "SELECT d.id, d.event_id, d.attempts, d.created_at, e.payload, w.url, w.secret, \
                     w.deleted_at IS NOT NULL AS endpoint_deleted FROM webhook_deliveries d \
                     JOIN webhook_events e ON e.id = d.event_id \
                     JOIN webhook_endpoints w ON w.id = d.endpoint_id WHERE d.id = $1",
                )
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
                let delivery = DueDelivery {
                    attempt_id: Uuid::new_v4(),
                    attempted_at: now,
                    ..delivery
                };
                sqlx::query(
                    "INSERT INTO webhook_attempts (id, delivery_id, attempted_at, duration_ms) \
                     VALUES ($1, $2, $3, 0)",
                )
                .bind(delivery.attempt_id)
                .bind(delivery.id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                due.push(delivery);
            }
            tx.commit().await?;
            due
        }))
    }

    /// Records the outcome of an attempt logged by its claim, and what follows from it,
    /// releasing the claim. The endpoint's health follows too: a success ends its run of
    /// failures; a failure starts one, or, when its run began at `disable_failing_since` or
    /// before, disables the endpoint and fails its pending deliveries. True when it disabled it.
    pub async fn record_attempt(
        &self,
        attempt: &Attempt,
        outcome: AttemptOutcome,
        disable_failing_since: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let (status, next) = match outcome {
            AttemptOutcome::Succeeded => ("succeeded", attempt.attempted_at),
            AttemptOutcome::Retry { at } => ("pending", at),
            AttemptOutcome::Failed => ("failed", attempt.attempted_at),
        };
        Ok(on_pool!(self, write, |pool, d| {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "UPDATE webhook_attempts SET status_code = $2, error = $3, duration_ms = $4, \
                 finished_at = $5 WHERE id = $1",
            )
            .bind(attempt.id)
            .bind(attempt.status_code)
            .bind(&attempt.error)
            .bind(attempt.duration_ms)
            .bind(attempt.finished_at)
            .execute(&mut *tx)
            .await?;
            // Only a delivery still pending: one its endpoint's disabling failed stays failed.
            sqlx::query(
                "UPDATE webhook_deliveries SET status = $2, next_attempt_at = $3, \
                 locked_until = NULL, updated_at = $4 WHERE id = $1 AND status = 'pending'",
            )
            .bind(attempt.delivery_id)
            .bind(status)
            .bind(next)
            .bind(attempt.attempted_at)
            .execute(&mut *tx)
            .await?;
            let endpoint: Uuid =
                sqlx::query_scalar("SELECT endpoint_id FROM webhook_deliveries WHERE id = $1")
                    .bind(attempt.delivery_id)
                    .fetch_one(&mut *tx)
                    .await?;
            let disabled = if outcome == AttemptOutcome::Succeeded {
                sqlx::query(
                    "UPDATE webhook_endpoints SET failing_since = NULL \
                     WHERE id = $1 AND failing_since IS NOT NULL",
                )
                .bind(endpoint)
                .execute(&mut *tx)
                .await?;
                false
            } else {
                sqlx::query(
                    "UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, $2) \
                     WHERE id = $1",
                )
                .bind(endpoint)
                .bind(attempt.attempted_at)
                .execute(&mut *tx)
                .await?;
                let disabled = sqlx::query(
                    "UPDATE webhook_endpoints SET disabled_at = $2 WHERE id = $1 \
                     AND disabled_at IS NULL AND deleted_at IS NULL AND failing_since <= $3",
                )
                .bind(endpoint)
                .bind(attempt.attempted_at)
                .bind(disable_failing_since)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                    == 1;
                if disabled {
                    sqlx::query(
                        "UPDATE webhook_deliveries SET status = 'failed', locked_until = NULL, \
                         updated_at = $2 WHERE endpoint_id = $1 AND status = 'pending'",
                    )
                    .bind(endpoint)
                    .bind(attempt.attempted_at)
                    .execute(&mut *tx)
                    .await?;
                }
                disabled
            };
            tx.commit().await?;
            disabled
        }))
    }

    /// An endpoint's deliveries, newest first, and how many there are.
    pub async fn deliveries(
        &self,
        endpoint_id: Uuid,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<Delivery>, i64)> {
        Ok(on_pool!(self, read, |pool, d| {
            let page = sqlx::query_as(
                "SELECT d.id, d.event_id, d.endpoint_id, e.event_type, e.checkout_session_id, \
                 d.status, d.attempts, d.next_attempt_at, d.created_at, d.updated_at \
                 FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id \
                 WHERE d.endpoint_id = $1 ORDER BY d.created_at DESC, d.id DESC LIMIT $2 OFFSET $3",
            )
            .bind(endpoint_id)
            .bind(limit)
            .bind(offset)
            .fetch_all(&mut *pool)
            .await?;
            let total = sqlx::query_scalar(
                "SELECT COUNT(*) FROM webhook_deliveries WHERE endpoint_id = $1",
            )
            .bind(endpoint_id)
            .fetch_one(&mut *pool)
            .await?;
            (page, total)
        }))
    }

    pub async fn attempts(&self, delivery_id: Uuid) -> StoreResult<Vec<Attempt>> {
        Ok(on_pool!(self, read, |pool, d| {
            sqlx::query_as(
                "SELECT * FROM webhook_attempts WHERE delivery_id = $1 ORDER BY attempted_at, id",
            )
            .bind(delivery_id)
            .fetch_all(&mut *pool)
            .await?
        }))
    }
}
