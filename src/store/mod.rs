//! Storage: one interface, [`Store`], over two backends — SQLite, embedded and the default, and
//! PostgreSQL, for several caisse nodes on one database.
//!
//! Most statements are the same text on both (`$1` placeholders work on SQLite too); where the
//! dialects differ the statement says so next to its twin. Values are always bound, never
//! formatted into SQL.

mod cache;
mod catalog;
mod changes;
mod coupons;
mod error;
mod group_commit;
mod migrations;
mod organizations;
mod payment_links;
mod payment_reads;
mod payments;
mod provider_accounts;
mod retention;
mod rows;
mod secrets;
mod sessions;
mod webhooks;
mod writer;

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgPool, PgPoolOptions, Postgres};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use uuid::Uuid;

use cache::Cache;
pub use coupons::CouponListQuery;
pub use error::{Outage, StoreError, StoreResult};
use migrations::{POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS, migrator};
pub use organizations::{ApiKey, Organization};
pub use payments::{RecordedStart, Settled};
pub use sessions::{Completion, IdempotencyRecord, ListQuery, Settlement, SortOrder};
pub use webhooks::{Attempt, AttemptOutcome, Delivery, DueDelivery, WebhookEndpoint};

/// Which database a statement runs on, for the few places the SQL differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
enum Backend {
    /// SQLite allows one writer at a time. Writes go through one connection behind a lock, so
    /// they queue in the process instead of failing with `SQLITE_BUSY`; reads use the pool,
    /// which WAL mode lets run beside the writer. The writer is a bare connection, not a pool
    /// of one: a pool pings its connection on every checkout and return, which tripled the
    /// round trips to SQLite's thread that every write waits in line for. See [`writer`] for
    /// how it is kept from acknowledging a write it did not commit.
    Sqlite {
        reader: SqlitePool,
        writer: writer::Writer,
        /// Session inserts waiting for the writer, written together: see [`group_commit`].
        inserts: Arc<group_commit::Queue>,
    },
    Postgres(PgPool),
}

/// The database caisse keeps everything in.
#[derive(Clone)]
pub struct Store {
    backend: Backend,
    cache: Arc<ReadCache>,
    /// The runtime the store was opened on, which outlives every request. PostgreSQL
    /// connections are opened there: a connection belongs to the runtime that opened it, and
    /// the HTTP workers' runtimes stop one by one at shutdown, each taking its connections
    /// with it while the others still serve requests on them.
    runtime: tokio::runtime::Handle,
}

/// Rows kept in memory because every request reads them: without it, the page and the API
/// would spend most of their time waiting on the database for rows that rarely change.
struct ReadCache {
    /// Sessions. Every write this process makes invalidates its session at once. On SQLite no
    /// one else writes (SQLite is for one node). On PostgreSQL other nodes do, and each change
    /// is announced by the database (see [`changes`]); the cache is used only while this
    /// process is listening to those announcements, and emptied whenever it starts listening
    /// again, since what it missed meanwhile is unknown.
    sessions: Cache<Uuid, crate::domain::session::CheckoutSession>,
    /// Whether `sessions` may be used: always on SQLite, while listening on PostgreSQL.
    sessions_followed: AtomicBool,
    /// Organizations change only by an operator's hand: a change shows within the TTL.
    organizations: Cache<Uuid, Organization>,
    /// Live API keys by hash. Revoking a key (setting `revoked_at`, on any node) takes effect
    /// within the TTL. Unknown keys are not remembered, so a new key works at once.
    api_keys: Cache<String, ApiKey>,
}

/// How long a request waits for a PostgreSQL connection before the database counts as
/// unavailable.
const PG_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);

/// SQLite reader connections: each has a thread of its own, and reads mostly hit the cache.
const READERS: u32 = 4;

/// Enough for every session customers have open at once on a busy node (a session is about
/// 1 KiB in memory). Every write caisse makes invalidates its session, so the TTL only bounds
/// how long a change nobody announced (an operator's `sqlite3`) could go unseen; a short one
/// would send every open page back to the database each time it lapsed.
const SESSION_CACHE: (usize, Duration) = (10_000, Duration::from_secs(300));
const ORGANIZATION_CACHE: (usize, Duration) = (1_000, Duration::from_secs(10));
const API_KEY_CACHE: (usize, Duration) = (1_000, Duration::from_secs(5));

impl ReadCache {
    /// The session cache, when it may be used.
    fn sessions(&self) -> Option<&Cache<Uuid, crate::domain::session::CheckoutSession>> {
        self.sessions_followed
            .load(Ordering::Acquire)
            .then_some(&self.sessions)
    }

    /// Starts or stops using the session cache on PostgreSQL, emptying it either way: whatever
    /// changed while nobody listened was announced to no one.
    fn follow_sessions(&self, following: bool) {
        self.sessions.clear();
        self.sessions_followed.store(following, Ordering::Release);
    }

    fn new(dialect: Dialect) -> ReadCache {
        ReadCache {
            sessions: Cache::new(SESSION_CACHE.0, SESSION_CACHE.1),
            sessions_followed: AtomicBool::new(dialect == Dialect::Sqlite),
            organizations: Cache::new(ORGANIZATION_CACHE.0, ORGANIZATION_CACHE.1),
            api_keys: Cache::new(API_KEY_CACHE.0, API_KEY_CACHE.1),
        }
    }
}

/// Runs the same body on a connection of whichever database backs the store; `$p` is that
/// connection (`&mut`: reborrow it as `&mut *$p` to use it twice) and `$d` names the dialect
/// inside the body. `read` takes a connection of SQLite's reader pool, `write` its single
/// writer; on PostgreSQL both take one from the pool.
macro_rules! on_pool {
    ($store:expr, $use:ident, |$p:ident, $d:ident| $body:expr) => {
        match &$store.backend {
            #[allow(unused_variables)]
            $crate::store::Backend::Sqlite { reader, writer, .. } => {
                on_pool!(@on on_pool!(@sqlite $use, reader, writer), Sqlite, $p, $d, $body)
            }
            $crate::store::Backend::Postgres(pool) => {
                on_pool!(@on $store.pg_connection(pool).await?, Postgres, $p, $d, $body)
            }
        }
    };
    (@sqlite read, $reader:ident, $writer:ident) => {
        $reader.acquire().await?
    };
    (@sqlite write, $reader:ident, $writer:ident) => {
        $writer.lock().await?
    };
    (@on $conn:expr, $dialect:ident, $p:ident, $d:ident, $body:expr) => {{
        #[allow(unused_variables)]
        let $d = $crate::store::Dialect::$dialect;
        let mut conn = $conn;
        // `begin` on a connection is this trait's.
        #[allow(unused_imports)]
        use sqlx::Connection as _;
        #[allow(unused_mut)]
        let $p = &mut *conn;
        $body
    }};
}
pub(crate) use on_pool;

/// `SELECT <columns> FROM <table> <rest>` as one literal, `$columns` naming the macro that lists
/// the table's columns in its row's order.
macro_rules! select_rows {
    ($columns:ident, $table:literal, $($rest:expr),+) => {
        concat!("SELECT ", $columns!(), " FROM ", $table, " ", $($rest),+)
    };
}
pub(crate) use select_rows;

/// A listing's statement in the order asked: `$select`, ordered by creation time and then
/// by `$id` (so that rows created together keep one order), then `$rest`.
macro_rules! ordered {
    ($sort:expr, $select:expr, $id:literal, $rest:literal) => {
        match $sort {
            $crate::store::SortOrder::CreatedDesc => {
                concat!($select, " ORDER BY created_at DESC, ", $id, " DESC ", $rest)
            }
            $crate::store::SortOrder::CreatedAsc => {
                concat!($select, " ORDER BY created_at ASC, ", $id, " ASC ", $rest)
            }
        }
    };
}
pub(crate) use ordered;

/// Runs the `SELECT` `$sql` of `$row`s with `$value`s bound, on a reader connection, and decodes
/// the one row it may return into the domain type the row converts to.
macro_rules! read_optional {
    ($store:expr, $row:ty, $sql:expr $(, $value:expr)* $(,)?) => {{
        let row: Option<$row> = $crate::store::on_pool!($store, read, |pool, d| {
            sqlx::query_as($sql)$(.bind($value))*.fetch_optional(&mut *pool).await?
        });
        row.map(TryFrom::try_from).transpose()
    }};
}

/// Like [`read_optional!`], for every row `$sql` returns.
macro_rules! read_all {
    ($store:expr, $row:ty, $sql:expr $(, $value:expr)* $(,)?) => {{
        let rows: Vec<$row> = $crate::store::on_pool!($store, read, |pool, d| {
            sqlx::query_as($sql)$(.bind($value))*.fetch_all(&mut *pool).await?
        });
        $crate::store::decoded(rows)
    }};
}

/// A page of a listing and how many rows there are in all: `$page` selects the page, its
/// filter's `$value`s bound and then `$limit` and `$offset`; `$count` counts with the filter's
/// values alone.
macro_rules! read_page {
    (
        $store:expr, $row:ty, $page:expr, $count:expr,
        [$($value:expr),* $(,)?], $limit:expr, $offset:expr $(,)?
    ) => {{
        let (rows, total): (Vec<$row>, i64) = $crate::store::on_pool!($store, read, |pool, d| {
            let rows = sqlx::query_as($page)
                $(.bind($value))*
                .bind($limit)
                .bind($offset)
                .fetch_all(&mut *pool)
                .await?;
            let total = sqlx::query_scalar($count)
                $(.bind($value))*
                .fetch_one(&mut *pool)
                .await?;
            (rows, total)
        });
        Ok(($crate::store::decoded(rows)?, total))
    }};
}
/// Runs the write `$sql` with its `$value`s bound: how many rows it changed.
macro_rules! changed {
    ($store:expr, $sql:expr $(, $value:expr)* $(,)?) => {
        $crate::store::on_pool!($store, write, |pool, d| {
            sqlx::query($sql)$(.bind($value))*.execute(&mut *pool).await?.rows_affected()
        })
    };
}

pub(crate) use {changed, read_all, read_optional, read_page};

/// Rows as the domain values they decode to; a row that does not decode fails them all.
fn decoded<R, T: TryFrom<R, Error = StoreError>>(rows: Vec<R>) -> StoreResult<Vec<T>> {
    rows.into_iter().map(T::try_from).collect()
}

/// Picks the statement text for the dialect at hand.
fn sql(d: Dialect, sqlite: &'static str, postgres: &'static str) -> &'static str {
    match d {
        Dialect::Sqlite => sqlite,
        Dialect::Postgres => postgres,
    }
}

/// An SQLite database holds webhook secrets, the CSRF key and customers' details: only its
/// owner may read it. It is created 0600 when missing (SQLite gives its `-wal` and `-shm` files
/// the database's mode), and made 0600 when others could read it.
fn keep_private(path: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    if path.as_os_str().is_empty() || path == std::path::Path::new(":memory:") {
        return Ok(());
    }
    let created = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path);
    match created {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            for suffix in ["", "-wal", "-shm"] {
                let mut file = path.as_os_str().to_owned();
                file.push(suffix);
                let file = std::path::PathBuf::from(file);
                if let Ok(meta) = std::fs::metadata(&file)
                    && meta.permissions().mode() & 0o077 != 0
                {
                    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))?;
                    tracing::info!(file = %file.display(), "made the database file private (0600)");
                }
            }
            Ok(())
        }
        Err(e) => Err(e),
    }
}

impl Store {
    /// Opens `sqlite:…` (created if missing, private to its owner) or `postgres://…`.
    pub async fn connect(url: &str) -> StoreResult<Store> {
        let backend = if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let pool = PgPoolOptions::new()
                .max_connections(16)
                // A request waits at most this long for the database before it is told the
                // database is unavailable: a customer should not wait 10 s to learn it.
                .acquire_timeout(PG_ACQUIRE_TIMEOUT)
                .connect(url)
                .await?;
            Backend::Postgres(pool)
        } else {
            let options = SqliteConnectOptions::from_str(url)?;
            keep_private(options.get_filename()).map_err(sqlx::Error::Io)?;
            let options = options
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // With WAL, NORMAL loses no committed data on a process crash; only a power cut
                // can drop the last transactions, and keeps writes fast.
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
            let writer = writer::Writer::open(options.clone()).await?;
            let reader = SqlitePoolOptions::new()
                .max_connections(READERS)
                // A local file does not hang up; checking it before each read is a wasted
                // round trip to its thread.
                .test_before_acquire(false)
                .connect_with(options)
                .await?;
            Backend::Sqlite {
                reader,
                writer,
                inserts: Arc::default(),
            }
        };
        let dialect = match backend {
            Backend::Sqlite { .. } => Dialect::Sqlite,
            Backend::Postgres(_) => Dialect::Postgres,
        };
        Ok(Store {
            backend,
            cache: Arc::new(ReadCache::new(dialect)),
            runtime: tokio::runtime::Handle::current(),
        })
    }

    pub fn dialect(&self) -> Dialect {
        match self.backend {
            Backend::Sqlite { .. } => Dialect::Sqlite,
            Backend::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Brings the schema up to date. On PostgreSQL the migrator takes an advisory lock, so
    /// nodes starting together migrate once.
    pub async fn migrate(&self) -> StoreResult<()> {
        match &self.backend {
            Backend::Sqlite { writer, .. } => {
                migrator(SQLITE_MIGRATIONS)
                    .run(&mut *writer.lock().await?)
                    .await?
            }
            Backend::Postgres(pool) => migrator(POSTGRES_MIGRATIONS).run(pool).await?,
        }
        Ok(())
    }

    /// Whether the database can serve, for `/readyz`: it answers, and on SQLite it can also
    /// commit a write (a full disk stops writes while reads go on). Once the disk has room
    /// again this succeeds again, with no restart.
    pub async fn ping(&self) -> StoreResult<()> {
        on_pool!(self, read, |p, d| {
            sqlx::query("SELECT 1").execute(p).await?;
        });
        if self.dialect() == Dialect::Sqlite {
            on_pool!(self, write, |p, d| {
                sqlx::query(
                    "INSERT INTO readiness (id, checked_at) VALUES (1, $1) \
                     ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at",
                )
                .bind(chrono::Utc::now())
                .execute(p)
                .await?;
            });
        }
        Ok(())
    }

    /// A PostgreSQL connection from the pool, opened (when the pool needs a new one) on the
    /// store's own runtime: see [`Store::runtime`].
    async fn pg_connection(&self, pool: &PgPool) -> StoreResult<PoolConnection<Postgres>> {
        if tokio::runtime::Handle::try_current().is_ok_and(|h| h.id() == self.runtime.id()) {
            return Ok(pool.acquire().await?);
        }
        let pool = pool.clone();
        self.runtime
            .spawn(async move { pool.acquire().await })
            .await
            .map_err(|_| StoreError::Database(sqlx::Error::WorkerCrashed))?
            .map_err(StoreError::Database)
    }

    pub async fn close(&self) {
        match &self.backend {
            Backend::Sqlite { reader, writer, .. } => {
                reader.close().await;
                writer.close().await;
            }
            Backend::Postgres(pool) => pool.close().await,
        }
    }
}

/// Whether an error is the violation of a unique constraint.
fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// A write's error, where a unique violation means `what` is taken.
/// One page of what an organization owns in one environment (its coupons, products, prices).
#[derive(Debug, Clone)]
pub struct OwnedPage {
    pub organization_id: Uuid,
    pub environment: crate::domain::session::Environment,
    pub sort: SortOrder,
    pub limit: i64,
    pub offset: i64,
}

fn taken(e: sqlx::Error, what: &'static str) -> StoreError {
    if is_unique_violation(&e) {
        StoreError::Conflict(what)
    } else {
        e.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_numbered_from_1_without_a_gap() {
        for (i, &(version, _, _)) in SQLITE_MIGRATIONS.iter().enumerate() {
            assert_eq!(version, i as i64 + 1);
        }
    }

    #[test]
    fn every_migration_file_is_listed() {
        for (dir, files) in [
            ("sqlite", SQLITE_MIGRATIONS),
            ("postgres", POSTGRES_MIGRATIONS),
        ] {
            let path = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/").to_string() + dir;
            let mut on_disk: Vec<String> = std::fs::read_dir(&path)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            on_disk.sort();
            let listed: Vec<String> = files
                .iter()
                .map(|&(v, name, _)| format!("{v:04}_{}.sql", name.replace(' ', "_")))
                .collect();
            assert_eq!(on_disk, listed, "{dir}");
        }
    }
}
