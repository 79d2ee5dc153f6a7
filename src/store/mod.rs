//! Storage: one interface, [`Store`], over two backends — SQLite, embedded and the default, and
//! PostgreSQL, for several caisse nodes on one database.
//!
//! Most statements are the same text on both (`$1` placeholders work on SQLite too); where the
//! dialects differ the statement says so next to its twin. Values are always bound, never
//! formatted into SQL.

mod coupons;
mod organizations;
mod rows;
mod secrets;
mod sessions;
mod webhooks;

use std::borrow::Cow;
use std::str::FromStr;
use std::time::Duration;

use sqlx::SqlSafeStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

pub use coupons::CouponListQuery;
pub use organizations::{ApiKey, Organization};
pub use sessions::{Completion, IdempotencyRecord, ListQuery, Payment, SortOrder};
pub use webhooks::{Attempt, AttemptOutcome, Delivery, DueDelivery, WebhookEndpoint};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A row with the same unique key exists (a proposed session id already used, say).
    #[error("conflict: {0}")]
    Conflict(&'static str),
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Which database a statement runs on, for the few places the SQL differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
enum Backend {
    /// SQLite allows one writer at a time. Writes go through a pool of one connection, so they
    /// queue in the process instead of failing with `SQLITE_BUSY`; reads use the other pool,
    /// which WAL mode lets run beside the writer.
    Sqlite {
        reader: SqlitePool,
        writer: SqlitePool,
    },
    Postgres(PgPool),
}

/// The database caisse keeps everything in.
#[derive(Clone)]
pub struct Store {
    backend: Backend,
}

/// Runs the same body on whichever pool backs the store; `$d` names the dialect inside it.
/// `read` picks SQLite's reader pool, `write` its single writer.
macro_rules! on_pool {
    ($store:expr, read, |$p:ident, $d:ident| $body:expr) => {
        match &$store.backend {
            $crate::store::Backend::Sqlite { reader: $p, .. } => {
                #[allow(unused_variables)]
                let $d = $crate::store::Dialect::Sqlite;
                $body
            }
            $crate::store::Backend::Postgres($p) => {
                #[allow(unused_variables)]
                let $d = $crate::store::Dialect::Postgres;
                $body
            }
        }
    };
    ($store:expr, write, |$p:ident, $d:ident| $body:expr) => {
        match &$store.backend {
            $crate::store::Backend::Sqlite { writer: $p, .. } => {
                #[allow(unused_variables)]
                let $d = $crate::store::Dialect::Sqlite;
                $body
            }
            $crate::store::Backend::Postgres($p) => {
                #[allow(unused_variables)]
                let $d = $crate::store::Dialect::Postgres;
                $body
            }
        }
    };
}
pub(crate) use on_pool;

/// Picks the statement text for the dialect at hand.
fn sql(d: Dialect, sqlite: &'static str, postgres: &'static str) -> &'static str {
    match d {
        Dialect::Sqlite => sqlite,
        Dialect::Postgres => postgres,
    }
}

/// A migration: its version (the number of its file), its name and its SQL.
type MigrationFile = (i64, &'static str, &'static str);

/// The schema of each backend, in the order the files are numbered.
const SQLITE_MIGRATIONS: &[MigrationFile] = &[
    (
        1,
        "init",
        include_str!("../../migrations/sqlite/0001_init.sql"),
    ),
    (
        2,
        "coupons",
        include_str!("../../migrations/sqlite/0002_coupons.sql"),
    ),
    (
        3,
        "checkout page",
        include_str!("../../migrations/sqlite/0003_checkout_page.sql"),
    ),
    (
        4,
        "webhooks",
        include_str!("../../migrations/sqlite/0004_webhooks.sql"),
    ),
];
const POSTGRES_MIGRATIONS: &[MigrationFile] = &[
    (
        1,
        "init",
        include_str!("../../migrations/postgres/0001_init.sql"),
    ),
    (
        2,
        "coupons",
        include_str!("../../migrations/postgres/0002_coupons.sql"),
    ),
    (
        3,
        "checkout page",
        include_str!("../../migrations/postgres/0003_checkout_page.sql"),
    ),
    (
        4,
        "webhooks",
        include_str!("../../migrations/postgres/0004_webhooks.sql"),
    ),
];

fn migrator(files: &[MigrationFile]) -> Migrator {
    let migrations = files
        .iter()
        .map(|&(version, name, sql)| {
            Migration::new(
                version,
                Cow::Borrowed(name),
                MigrationType::Simple,
                sql.into_sql_str(),
                false,
            )
        })
        .collect();
    Migrator::with_migrations(migrations)
}

impl Store {
    /// Opens `sqlite:…` (created if missing) or `postgres://…`.
    pub async fn connect(url: &str) -> StoreResult<Store> {
        let backend = if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect(url)
                .await?;
            Backend::Postgres(pool)
        } else {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // With WAL, NORMAL loses no committed data on a process crash; only a power cut
                // can drop the last transactions, and keeps writes fast.
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
            let writer = SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(options.clone())
                .await?;
            let reader = SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(options)
                .await?;
            Backend::Sqlite { reader, writer }
        };
        Ok(Store { backend })
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
            Backend::Sqlite { writer, .. } => migrator(SQLITE_MIGRATIONS).run(writer).await?,
            Backend::Postgres(pool) => migrator(POSTGRES_MIGRATIONS).run(pool).await?,
        }
        Ok(())
    }

    /// Whether the database answers, for `/readyz`.
    pub async fn ping(&self) -> StoreResult<()> {
        on_pool!(self, read, |p, d| {
            sqlx::query("SELECT 1").execute(p).await?;
        });
        Ok(())
    }

    pub async fn close(&self) {
        match &self.backend {
            Backend::Sqlite { reader, writer } => {
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
