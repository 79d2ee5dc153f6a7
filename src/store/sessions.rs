//! Checkout sessions, and the idempotency records of their creation.

use std::sync::{Arc, LazyLock};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::payments::{insert_payment, latest_payment_in};
use super::rows::{
    SESSION_COLUMNS, SessionRow, bind_session, bind_values, column_names, session_columns,
    session_placeholders, session_row, with_session_columns,
};
use super::webhooks::write_events;
use super::{
    Store, StoreError, StoreResult, changed, decoded, on_pool, ordered, read_optional, read_page,
    select_rows, sql, taken,
};
use crate::domain::event::{Event, EventType};
use crate::domain::payment::Payment;
use crate::domain::session::{CheckoutSession, Environment, Status};

/// `UPDATE` of every column of an open session, made against the version it was read at: bind
/// the session, then its version.
pub(super) fn update_open_statement() -> &'static str {
    static UPDATE: LazyLock<String> = LazyLock::new(|| {
        format!(
            "UPDATE checkout_sessions SET ({}, version) = ({}, version + 1) \
             WHERE checkout_session_id = $1 AND status = 'open' AND version = ${}",
            session_columns!(),
            session_placeholders(),
            SESSION_COLUMNS + 1
        )
    });
    UPDATE.as_str()
}

/// Counts a use of a session's coupon inside the completing transaction, if the coupon still
/// applies: active, not deleted, inside its dates and with a use left. False when it does not
/// (nothing counted), and the completion must not happen.
macro_rules! count_coupon_use {
    ($tx:expr, $coupon:expr, $at:expr) => {
        sqlx::query(
            "UPDATE discount_coupons SET current_uses = current_uses + 1, updated_at = $2 \
             WHERE coupon_id = $1 AND is_active AND deleted_at IS NULL \
             AND (valid_from IS NULL OR valid_from <= $2) AND (expires_at IS NULL OR expires_at > $2) \
             AND (max_uses IS NULL OR current_uses < max_uses)",
        )
        .bind($coupon)
        .bind($at)
        .execute(&mut *$tx)
        .await?
        .rows_affected()
            == 1
    };
}
pub(super) use count_coupon_use;

/// How an attempt to complete a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completion {
    Completed,
    /// Nothing changed: the session was not open, past its expiry, or its total was not the
    /// one expected (the caller reads it again to tell which).
    Unchanged,
    /// The session's coupon no longer applies (no use left, deactivated, deleted, or outside its
    /// dates); nothing changed.
    CouponUsedUp,
}

/// A completion to make: the total it covers and, for money that moved, its payment.
#[derive(Debug, Clone)]
pub struct Settlement<'a> {
    pub session_id: Uuid,
    /// The total the payment covers; the session completes only if it still costs this.
    pub amount_total: i64,
    pub provider: Option<&'a str>,
    pub provider_reference: Option<&'a str>,
    pub at: DateTime<Utc>,
    /// The payment to record as succeeded with the completion, when money moved (a total of
    /// zero has none).
    pub payment: Option<&'a Payment>,
}

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

/// Which open sessions an expiry ends, and the time and URL of their events.
struct Expiry<'a> {
    now: DateTime<Utc>,
    /// This session, now (past its time or not)…
    session: Option<Uuid>,
    /// …or those past their time, of this organization or of any.
    organization: Option<Uuid>,
    limit: i64,
    public_url: &'a str,
    /// Whether a payment under way does not hold the expiry back.
    force: bool,
}

pub(super) const SELECT_SESSION: &str = select_rows!(
    session_row,
    "checkout_sessions",
    "WHERE checkout_session_id = $1"
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
        static INSERT: LazyLock<String> = LazyLock::new(|| {
            format!(
                "INSERT INTO checkout_sessions ({}) VALUES ({})",
                session_columns!(),
                session_placeholders()
            )
        });
        let insert = INSERT.as_str();
        let Some(r) = idempotency else {
            if let super::Backend::Sqlite {
                writer, inserts, ..
            } = &self.backend
            {
                return super::group_commit::insert(inserts, writer, session).await;
            }
            // One statement is atomic by itself: no transaction needed.
            on_pool!(self, write, |pool, d| {
                bind_session!(sqlx::query(insert), session)
                    .execute(&mut *pool)
                    .await
                    .map_err(|e| taken(e, "checkout_session_id"))?;
            });
            return Ok(());
        };
        on_pool!(self, write, |pool, d| {
            let mut tx = pool.begin().await?;
            let key_taken = sqlx::query(
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
            if key_taken {
                return Err(StoreError::Conflict("idempotency_key"));
            }
            bind_session!(sqlx::query(insert), session)
                .execute(&mut *tx)
                .await
                .map_err(|e| taken(e, "checkout_session_id"))?;
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
            .fetch_optional(&mut *pool)
            .await?
        }))
    }

    /// Forgets idempotency keys older than `before`: a retry comes within hours, not days.
    pub async fn delete_idempotency_before(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        Ok(changed!(
            self,
            "DELETE FROM idempotency_keys WHERE created_at < $1",
            before
        ))
    }

    /// A session by id, whatever its organization: the page is public by its unguessable id,
    /// and the API checks the organization itself.
    ///
    /// It comes from the read cache when it is there: every write to a session below
    /// invalidates it, and on PostgreSQL so does every other node's (see `changes`), so the
    /// cache holds what the database holds.
    pub async fn session(&self, id: Uuid) -> StoreResult<Option<Arc<CheckoutSession>>> {
        let cache = self.cache.sessions();
        if let Some(hit) = cache.and_then(|c| c.get(&id)) {
            return Ok(Some(hit));
        }
        let ticket = cache.map(|c| c.ticket(&id));
        let session: Option<CheckoutSession> =
            read_optional!(self, SessionRow, SELECT_SESSION, id)?;
        let session = session.map(Arc::new);
        if let (Some(cache), Some(ticket), Some(s)) = (cache, ticket, &session) {
            cache.insert(id, Arc::clone(s), ticket);
        }
        Ok(session)
    }

    /// A session as the database holds it now, never from the cache: for a writer that lost a
    /// race and must see the write that won (on PostgreSQL another node's write reaches this
    /// node's cache only when its announcement does).
    pub async fn session_uncached(&self, id: Uuid) -> StoreResult<Option<CheckoutSession>> {
        read_optional!(self, SessionRow, SELECT_SESSION, id)
    }

    /// After a write to session `id` (whatever its outcome): the cache must read it again.
    pub(super) fn forget_session(&self, id: Uuid) {
        self.cache.sessions.invalidate(&id);
    }

    /// A page of sessions and the total that match the query.
    pub async fn list_sessions(&self, q: &ListQuery) -> StoreResult<(Vec<CheckoutSession>, i64)> {
        let status = q.status.map(Status::as_str);
        let page = ordered!(
            q.sort,
            select_rows!(
                session_row,
                "checkout_sessions",
                "WHERE organization_id = $1 AND environment = $2 \
                 AND ($3 IS NULL OR status = $3)"
            ),
            "checkout_session_id",
            "LIMIT $4 OFFSET $5"
        );
        let count = "SELECT COUNT(*) FROM checkout_sessions WHERE organization_id = $1 \
                     AND environment = $2 AND ($3 IS NULL OR status = $3)";
        read_page!(
            self,
            SessionRow,
            page,
            count,
            [q.organization_id, q.environment.as_str(), status],
            q.limit,
            q.offset
        )
    }

    /// Writes every field of an open session, if it is still the version that was read
    /// (`session.version`), and counts the version up. False when nothing was written: the
    /// session is no longer open (a completion or an expiry got there first), or another write
    /// changed it since it was read; the caller reads it again and decides (see
    /// `core::sessions::modify`). Checking the version rather than writing only the changed
    /// columns keeps each write whole: a change is decided on the session as it stands, so a
    /// coupon is repriced on the amount a merchant just set, not on the one before.
    pub async fn update_open_session(&self, session: &CheckoutSession) -> StoreResult<bool> {
        let update = update_open_statement();
        let updated = async {
            Ok(on_pool!(self, write, |pool, d| {
                bind_session!(sqlx::query(update), session)
                    .bind(session.version)
                    .execute(&mut *pool)
                    .await?
                    .rows_affected()
                    == 1
            }))
        }
        .await;
        self.forget_session(session.id);
        updated
    }

    /// `open → completed`, atomically: the session must be open, unexpired and still cost
    /// `amount_total`, and its coupon (if any) must have a use left, which is counted in the
    /// same transaction. Of any number of concurrent completions of a session, one completes.
    pub async fn complete_session(
        &self,
        settlement: &Settlement<'_>,
        public_url: &str,
    ) -> StoreResult<Completion> {
        let completion = self.complete_session_in_db(settlement, public_url).await;
        self.forget_session(settlement.session_id);
        completion
    }

    async fn complete_session_in_db(
        &self,
        settlement: &Settlement<'_>,
        public_url: &str,
    ) -> StoreResult<Completion> {
        on_pool!(self, write, |pool, d| {
            let mut tx = pool.begin().await?;
            let completed: Option<SessionRow> = sqlx::query_as(concat!(
                "UPDATE checkout_sessions SET status = 'completed', payment_provider = $2, \
                 provider_reference = $3, completed_at = $4, updated_at = $4, \
                 pending_payment_id = NULL, version = version + 1 \
                 WHERE checkout_session_id = $1 AND status = 'open' AND expires_at > $4 \
                 AND amount * quantity - amount_discount = $5 RETURNING ",
                session_row!()
            ))
            .bind(settlement.session_id)
            .bind(settlement.provider)
            .bind(settlement.provider_reference)
            .bind(settlement.at)
            .bind(settlement.amount_total)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(session) = completed.map(CheckoutSession::try_from).transpose()? else {
                return Ok(Completion::Unchanged);
            };
            if let Some(coupon) = session.coupon_id
                && !count_coupon_use!(tx, coupon, settlement.at)
            {
                return Ok(Completion::CouponUsedUp);
            }
            // Paid another way: an attempt still under way ends here, and is due at once for
            // the reconciler, which ends it at its provider (see `Store::claim_due_payments`).
            sqlx::query(
                "UPDATE payments SET status = 'canceled', updated_at = $2, \
                 next_check_at = CASE WHEN account_id IS NULL THEN NULL ELSE $2 END \
                 WHERE checkout_session_id = $1 AND status = 'pending'",
            )
            .bind(session.id)
            .bind(settlement.at)
            .execute(&mut *tx)
            .await?;
            if let Some(payment) = settlement.payment {
                insert_payment!(tx, payment);
            }
            let latest = latest_payment_in!(tx, session.id);
            let event = Event::for_session(
                EventType::CheckoutSessionCompleted,
                &session,
                latest.as_ref(),
                public_url,
                settlement.at,
            );
            write_events!(tx, [&event]);
            tx.commit().await?;
        });
        Ok(Completion::Completed)
    }

    /// `open → expired` for one session, now, with its `checkout_session.expired` event (an
    /// attempt under way is expired with it). False when it was not open.
    pub async fn expire_session(
        &self,
        id: Uuid,
        now: DateTime<Utc>,
        public_url: &str,
    ) -> StoreResult<bool> {
        let expiry = Expiry {
            now,
            session: Some(id),
            organization: None,
            limit: 1,
            public_url,
            force: true,
        };
        Ok(!self.expire_where(&expiry).await?.is_empty())
    }

    /// Expires up to `limit` open sessions whose time has passed (each with its event) and
    /// returns their ids. A session whose payment is under way waits for it until its
    /// provider's deadline. `organization` narrows it to one merchant's sessions. On PostgreSQL,
    /// rows another node is expiring right now are skipped, not waited for.
    pub async fn expire_due(
        &self,
        now: DateTime<Utc>,
        organization: Option<Uuid>,
        limit: i64,
        public_url: &str,
    ) -> StoreResult<Vec<Uuid>> {
        let expiry = Expiry {
            now,
            session: None,
            organization,
            limit,
            public_url,
            force: false,
        };
        self.expire_where(&expiry).await
    }

    /// The one expiry transition: a given session now, or those past their time.
    async fn expire_where(&self, expiry: &Expiry<'_>) -> StoreResult<Vec<Uuid>> {
        // Boxed: the write's future is some 9 KiB, and reading a session (on every page view)
        // awaits this one on its rare path; inline, every view would carry and copy it.
        let expired = Box::pin(self.expire_in_db(expiry)).await;
        let cache = &self.cache.sessions;
        match &expired {
            Ok(ids) => {
                for id in ids.iter().chain(&expiry.session) {
                    cache.invalidate(id);
                }
            }
            // Which rows changed is unknown: forget them all.
            Err(_) => cache.clear(),
        }
        expired
    }

    async fn expire_in_db(&self, expiry: &Expiry<'_>) -> StoreResult<Vec<Uuid>> {
        let &Expiry {
            now,
            session,
            organization,
            limit,
            public_url,
            force,
        } = expiry;
        Ok(on_pool!(self, write, |pool, d| {
            let mut tx = pool.begin().await?;
            let rows: Vec<SessionRow> = sqlx::query_as(sql(
                d,
                concat!(
                    "UPDATE checkout_sessions SET status = 'expired', pending_payment_id = NULL, updated_at = $1, version = version + 1 \
                     WHERE checkout_session_id IN (SELECT checkout_session_id FROM checkout_sessions \
                     WHERE status = 'open' AND ($4 IS NULL OR organization_id = $4) \
                     AND (checkout_session_id = $3 OR ($3 IS NULL AND expires_at <= $1)) \
                     AND ($5 OR NOT EXISTS (SELECT 1 FROM payments p WHERE p.payment_id = pending_payment_id \
                     AND p.status = 'pending' AND p.expires_at > $1)) LIMIT $2) \
                     RETURNING ",
                    session_row!()
                ),
                concat!(
                    "UPDATE checkout_sessions SET status = 'expired', pending_payment_id = NULL, updated_at = $1, version = version + 1 \
                     WHERE checkout_session_id IN (SELECT checkout_session_id FROM checkout_sessions \
                     WHERE status = 'open' AND ($4::uuid IS NULL OR organization_id = $4) \
                     AND (checkout_session_id = $3 OR ($3::uuid IS NULL AND expires_at <= $1)) \
                     AND ($5 OR NOT EXISTS (SELECT 1 FROM payments p WHERE p.payment_id = pending_payment_id \
                     AND p.status = 'pending' AND p.expires_at > $1)) LIMIT $2 \
                     FOR UPDATE SKIP LOCKED) AND status = 'open' RETURNING ",
                    session_row!()
                ),
            ))
            .bind(now)
            .bind(limit)
            .bind(session)
            .bind(organization)
            .bind(force)
            .fetch_all(&mut *tx)
            .await?;
            let sessions: Vec<CheckoutSession> = decoded(rows)?;
            let mut events = Vec::with_capacity(sessions.len());
            for s in &sessions {
                // An attempt still under way ends with its session (its provider's deadline,
                // if it had one, has passed); the reconciler ends it at its provider too, and
                // should its money come after all, it is recorded.
                sqlx::query(
                    "UPDATE payments SET status = 'expired', updated_at = $2, \
                     next_check_at = CASE WHEN account_id IS NULL THEN NULL ELSE $2 END \
                     WHERE checkout_session_id = $1 AND status = 'pending'",
                )
                .bind(s.id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                let latest = latest_payment_in!(tx, s.id);
                events.push(Event::for_session(
                    EventType::CheckoutSessionExpired,
                    s,
                    latest.as_ref(),
                    public_url,
                    now,
                ));
            }
            write_events!(tx, &events);
            tx.commit().await?;
            sessions.into_iter().map(|s| s.id).collect()
        }))
    }
}
