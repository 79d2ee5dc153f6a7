//! Checkout sessions, and the idempotency records of their creation.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::rows::{SessionRow, bind_session, session_columns, session_placeholders};
use super::{Store, StoreError, StoreResult, is_unique_violation, on_pool, sql};
use crate::domain::session::{CheckoutSession, Environment, Status};

/// The response a create with an `Idempotency-Key` gave, kept to be given again.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct IdempotencyRecord {
    pub organization_id: Uuid,
    pub environment: String,
    pub key: String,
    /// SHA-256 of the canonical JSON of the request body.
    pub request_hash: String,
    pub status_code: i32,
    pub response_body: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortOrder {
    CreatedAsc,
    CreatedDesc,
}

/// One page of an organization's sessions in one environment.
#[derive(Debug, Clone)]
pub struct ListQuery {
    pub organization_id: Uuid,
    pub environment: Environment,
    pub status: Option<Status>,
    pub sort: SortOrder,
    pub limit: i64,
    pub offset: i64,
}

const SELECT_SESSION: &str = concat!(
    "SELECT ",
    session_columns!(),
    " FROM checkout_sessions WHERE checkout_session_id = $1"
);

impl Store {
    /// Inserts a new session and, when given, the idempotency record of its creation, in one
    /// transaction. `Conflict("idempotency_key")` means another request took the key first;
    /// `Conflict("checkout_session_id")` that the id is in use.
    pub async fn insert_session(
        &self,
        session: &CheckoutSession,
        idempotency: Option<&IdempotencyRecord>,
    ) -> StoreResult<()> {
        on_pool!(self, write, |pool, d| {
            let mut tx = pool.begin().await?;
            if let Some(r) = idempotency {
                let taken = sqlx::query(
                    "INSERT INTO idempotency_keys (organization_id, environment, key, request_hash, \
                     status_code, response_body, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                     ON CONFLICT DO NOTHING",
                )
                .bind(r.organization_id)
                .bind(&r.environment)
                .bind(&r.key)
                .bind(&r.request_hash)
                .bind(r.status_code)
                .bind(&r.response_body)
                .bind(r.created_at)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                    == 0;
                if taken {
                    return Err(StoreError::Conflict("idempotency_key"));
                }
            }
            let insert = concat!(
                "INSERT INTO checkout_sessions (",
                session_columns!(),
                ") VALUES (",
                session_placeholders!(),
                ")"
            );
            match bind_session!(sqlx::query(insert), session)
                .execute(&mut *tx)
                .await
            {
                Err(e) if is_unique_violation(&e) => {
                    return Err(StoreError::Conflict("checkout_session_id"));
                }
                other => other?,
            };
            tx.commit().await?;
        });
        Ok(())
    }

    pub async fn idempotency_record(
        &self,
        organization_id: Uuid,
        environment: Environment,
        key: &str,
    ) -> StoreResult<Option<IdempotencyRecord>> {
        Ok(on_pool!(self, read, |pool, d| {
            sqlx::query_as(
                "SELECT * FROM idempotency_keys \
                 WHERE organization_id = $1 AND environment = $2 AND key = $3",
            )
            .bind(organization_id)
            .bind(environment.as_str())
            .bind(key)
            .fetch_optional(pool)
            .await?
        }))
    }

    /// Forgets idempotency keys older than `before`: a retry comes within hours, not days.
    pub async fn delete_idempotency_before(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        Ok(on_pool!(self, write, |pool, d| {
            sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
                .bind(before)
                .execute(pool)
                .await?
                .rows_affected()
        }))
    }

    /// A session by id, whatever its organization: the page is public by its unguessable id,
    /// and the API checks the organization itself.
    pub async fn session(&self, id: Uuid) -> StoreResult<Option<CheckoutSession>> {
        let row: Option<SessionRow> = on_pool!(self, read, |pool, d| {
            sqlx::query_as(SELECT_SESSION)
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        row.map(CheckoutSession::try_from).transpose()
    }

    /// A page of sessions and the total that match the query.
    pub async fn list_sessions(&self, q: &ListQuery) -> StoreResult<(Vec<CheckoutSession>, i64)> {
        let status = q.status.map(Status::as_str);
        let (rows, total): (Vec<SessionRow>, i64) = on_pool!(self, read, |pool, d| {
            let page = match q.sort {
                SortOrder::CreatedDesc => concat!(
                    "SELECT ",
                    session_columns!(),
                    " FROM checkout_sessions WHERE organization_id = $1 AND environment = $2 \
                     AND ($3 IS NULL OR status = $3) \
                     ORDER BY created_at DESC, checkout_session_id DESC LIMIT $4 OFFSET $5"
                ),
                SortOrder::CreatedAsc => concat!(
                    "SELECT ",
                    session_columns!(),
                    " FROM checkout_sessions WHERE organization_id = $1 AND environment = $2 \
                     AND ($3 IS NULL OR status = $3) \
                     ORDER BY created_at ASC, checkout_session_id ASC LIMIT $4 OFFSET $5"
                ),
            };
            let rows = sqlx::query_as(page)
                .bind(q.organization_id)
                .bind(q.environment.as_str())
                .bind(status)
                .bind(q.limit)
                .bind(q.offset)
                .fetch_all(pool)
                .await?;
            let total = sqlx::query_scalar(
                "SELECT COUNT(*) FROM checkout_sessions WHERE organization_id = $1 \
                 AND environment = $2 AND ($3 IS NULL OR status = $3)",
            )
            .bind(q.organization_id)
            .bind(q.environment.as_str())
            .bind(status)
            .fetch_one(pool)
            .await?;
            (rows, total)
        });
        let sessions = rows
            .into_iter()
            .map(CheckoutSession::try_from)
            .collect::<StoreResult<_>>()?;
        Ok((sessions, total))
    }

    /// Writes every field of an open session. False when it is no longer open: a completion or
    /// an expiry got there first, and this write is dropped.
    pub async fn update_open_session(&self, session: &CheckoutSession) -> StoreResult<bool> {
        let update = concat!(
            "UPDATE checkout_sessions SET (",
            session_columns!(),
            ") = (",
            session_placeholders!(),
            ") WHERE checkout_session_id = $1 AND status = 'open'"
        );
        Ok(on_pool!(self, write, |pool, d| {
            bind_session!(sqlx::query(update), session)
                .execute(pool)
                .await?
                .rows_affected()
                == 1
        }))
    }

    /// `open → expired` for one session. False when it was not open.
    pub async fn expire_session(&self, id: Uuid, now: DateTime<Utc>) -> StoreResult<bool> {
        Ok(on_pool!(self, write, |pool, d| {
            sqlx::query(
                "UPDATE checkout_sessions SET status = 'expired', updated_at = $2 \
                 WHERE checkout_session_id = $1 AND status = 'open'",
            )
            .bind(id)
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected()
                == 1
        }))
    }

    /// Expires up to `limit` open sessions whose time has passed, and returns their ids. On
    /// PostgreSQL, rows another node is expiring right now are skipped, not waited for.
    /// `organization` narrows it to one merchant's sessions.
    pub async fn expire_due(
        &self,
        now: DateTime<Utc>,
        organization: Option<Uuid>,
        limit: i64,
    ) -> StoreResult<Vec<Uuid>> {
        Ok(on_pool!(self, write, |pool, d| {
            sqlx::query_scalar(sql(
                d,
                "UPDATE checkout_sessions SET status = 'expired', updated_at = $1 \
                 WHERE checkout_session_id IN (SELECT checkout_session_id FROM checkout_sessions \
                 WHERE status = 'open' AND expires_at <= $1 AND ($3 IS NULL OR organization_id = $3) LIMIT $2) \
                 RETURNING checkout_session_id",
                "UPDATE checkout_sessions SET status = 'expired', updated_at = $1 \
                 WHERE checkout_session_id IN (SELECT checkout_session_id FROM checkout_sessions \
                 WHERE status = 'open' AND expires_at <= $1 AND ($3 IS NULL OR organization_id = $3) LIMIT $2 FOR UPDATE SKIP LOCKED) \
                 AND status = 'open' RETURNING checkout_session_id",
            ))
            .bind(now)
            .bind(limit)
            .bind(organization)
            .fetch_all(pool)
            .await?
        }))
    }
}
