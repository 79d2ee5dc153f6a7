//! What can go wrong in the store, and which of it is an outage (the database unreachable,
//! full or restarting) rather than a fault: callers tell their users to try again for the one,
//! and report the other.

use sqlx::migrate::MigrateError;

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
    /// The database could not take the request, and a later one may succeed.
    #[error("{0}")]
    Unavailable(Outage),
}

/// Why the database cannot serve for now: what a caller may tell its user before they try again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outage {
    /// Unreachable, overloaded, restarting or shutting down.
    Unreachable,
    /// It has no room to write (SQLite's disk, or PostgreSQL's).
    DiskFull,
}

impl std::fmt::Display for Outage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Outage::Unreachable => "the database is unavailable",
            Outage::DiskFull => "the database's disk is full",
        })
    }
}

impl StoreError {
    /// The outage behind this error, if it is one: an error the caller did not cause and that
    /// waiting may cure. Anything else (a constraint, corrupt data) is a fault of its own.
    pub fn outage(&self) -> Option<Outage> {
        match self {
            StoreError::Unavailable(o) => Some(*o),
            StoreError::Database(e) | StoreError::Migrate(MigrateError::Execute(e)) => outage_of(e),
            _ => None,
        }
    }
}

fn outage_of(e: &sqlx::Error) -> Option<Outage> {
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_) => Some(Outage::Unreachable),
        sqlx::Error::Database(db) => {
            let code = db.code()?;
            if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                // An extended result code; its low byte is the primary one.
                return match code.parse::<i32>().ok()? & 0xff {
                    // SQLITE_FULL: the disk (or the file's size limit) has no room.
                    13 => Some(Outage::DiskFull),
                    // BUSY, LOCKED, IOERR, CANTOPEN: the file cannot be used right now.
                    5 | 6 | 10 | 14 => Some(Outage::Unreachable),
                    _ => None,
                };
            }
            // PostgreSQL: disk_full; connection exceptions; the server shutting down or
            // starting up; too many connections.
            match &*code {
                "53100" => Some(Outage::DiskFull),
                c if c.starts_with("08") || c.starts_with("57P") || c == "53300" => {
                    Some(Outage::Unreachable)
                }
                _ => None,
            }
        }
        _ => None,
    }
}

pub type StoreResult<T> = Result<T, StoreError>;
