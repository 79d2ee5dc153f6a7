//! SQLite's one writing connection, and the rule that keeps it honest: a write is acknowledged
//! only once it is committed, so a connection whose transaction state is in doubt is never
//! written through again.
//!
//! How the doubt arises: when the disk fills, SQLite may roll a transaction back by itself (a
//! `COMMIT` that fails with `SQLITE_FULL` ends it). sqlx still counts the transaction as open,
//! the `ROLLBACK` it then sends fails ("no transaction is active"), and from there on its next
//! `begin` sends a `SAVEPOINT` (which silently opens a real transaction) and its rollbacks a
//! `ROLLBACK TO` (which leaves it open). Every later write would then answer "done" inside a
//! transaction that is never committed, and be lost when the process stops.
//!
//! So every time the writer is taken, it is checked first: a connection that sqlx believes is
//! inside a transaction, while nobody holds it, is closed (which rolls back whatever it held)
//! and a new one is opened. A writer that cannot be reopened says so on every write, and is
//! tried again on the next, so writes resume by themselves once the disk has room again.

use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection};
use tokio::sync::{Mutex, OwnedMutexGuard};

use super::{StoreError, StoreResult};

enum Slot {
    Open(SqliteConnection),
    /// The connection was discarded and could not be opened again yet.
    Lost,
    /// The store was closed.
    Closed,
}

/// The writer: one connection behind a lock, so writes queue in the process instead of failing
/// with `SQLITE_BUSY`.
#[derive(Clone)]
pub(super) struct Writer {
    slot: Arc<Mutex<Slot>>,
    options: Arc<SqliteConnectOptions>,
}

/// The writer, held: a connection known to be outside any transaction when it was taken.
pub(super) struct Held(OwnedMutexGuard<Slot>);

impl Deref for Held {
    type Target = SqliteConnection;

    fn deref(&self) -> &SqliteConnection {
        match &*self.0 {
            Slot::Open(conn) => conn,
            _ => unreachable!("a writer is held only while its connection is open"),
        }
    }
}

impl DerefMut for Held {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        match &mut *self.0 {
            Slot::Open(conn) => conn,
            _ => unreachable!("a writer is held only while its connection is open"),
        }
    }
}

impl Writer {
    pub(super) async fn open(options: SqliteConnectOptions) -> StoreResult<Writer> {
        let conn = options.connect().await?;
        Ok(Writer {
            slot: Arc::new(Mutex::new(Slot::Open(conn))),
            options: Arc::new(options),
        })
    }

    /// Waits for the writer, then makes sure its connection is one a write can trust.
    pub(super) async fn lock(&self) -> StoreResult<Held> {
        let guard = Arc::clone(&self.slot).lock_owned().await;
        self.checked(guard).await
    }

    async fn checked(&self, mut guard: OwnedMutexGuard<Slot>) -> StoreResult<Held> {
        match &*guard {
            Slot::Open(conn) if !conn.is_in_transaction() => return Ok(Held(guard)),
            Slot::Open(_) => {
                tracing::warn!(
                    "the database writer was left inside a transaction that may never commit; \
                     reopening it"
                );
                if let Slot::Open(conn) = std::mem::replace(&mut *guard, Slot::Lost) {
                    // Closing the connection rolls back what it held; an error closing it
                    // changes nothing, the connection is gone either way.
                    let _ = conn.close().await;
                }
            }
            Slot::Lost => {}
            Slot::Closed => return Err(sqlx::Error::PoolClosed.into()),
        }
        match self.options.connect().await {
            Ok(conn) => {
                *guard = Slot::Open(conn);
                Ok(Held(guard))
            }
            Err(e) => {
                tracing::warn!(error = %e, "the database writer cannot be reopened yet");
                Err(StoreError::Database(e))
            }
        }
    }

    /// Closes the connection; every later write fails.
    pub(super) async fn close(&self) {
        let mut guard = self.slot.lock().await;
        if let Slot::Open(conn) = std::mem::replace(&mut *guard, Slot::Closed) {
            let _ = conn.close().await;
        }
    }
}
